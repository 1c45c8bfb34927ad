package api

import (
	"reflect"
	"strings"
	"testing"
)

// TestTxResultWireFields keeps txResultWire in step with TxResult: the
// same field names and JSON names, in order.
func TestTxResultWireFields(t *testing.T) {
	a, b := reflect.TypeFor[TxResult](), reflect.TypeFor[txResultWire]()
	if a.NumField() != b.NumField() {
		t.Fatalf("TxResult has %d fields, txResultWire %d", a.NumField(), b.NumField())
	}
	for i := range a.NumField() {
		fa, fb := a.Field(i), b.Field(i)
		na, _, _ := strings.Cut(fa.Tag.Get("json"), ",")
		nb, _, _ := strings.Cut(fb.Tag.Get("json"), ",")
		if fa.Name != fb.Name || na != nb {
			t.Errorf("field %d: TxResult.%s %q, txResultWire.%s %q", i, fa.Name, na, fb.Name, nb)
		}
	}
}
