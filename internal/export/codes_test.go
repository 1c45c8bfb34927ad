package export

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// TestCodes: codes.csv names every status, path and bridge kind by the
// ledger's numbers, and reads back.
func TestCodes(t *testing.T) {
	want := map[string]map[uint16]string{
		CodeStatus:     {0: "ok", 1: "insufficient_funds", 2: "overflow", 3: "bad_args", 4: "out_of_gas", 5: "unknown_function", 6: "aborted"},
		CodePath:       {uint16(ledger.PathNative): "native", uint16(ledger.PathVM): "vm"},
		CodeBridgeKind: {uint16(ledger.KindSettle): "settle", uint16(ledger.KindDeposit): "deposit"},
	}
	got := map[string]map[uint16]string{}
	for _, r := range Codes() {
		if got[r.Kind] == nil {
			got[r.Kind] = map[uint16]string{}
		}
		got[r.Kind][r.Code] = r.Name
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Codes() = %v, want %v", got, want)
	}
	dir := t.TempDir()
	if err := writeFileAtomic(dir, CodesFile, codesCSV()); err != nil {
		t.Fatal(err)
	}
	back, err := readCodes(filepath.Join(dir, CodesFile))
	if err != nil || !reflect.DeepEqual(back, Codes()) {
		t.Errorf("readCodes = %v, %v, want %v", back, err, Codes())
	}
}

// TestDict: codes in order of first appearance; truncate forgets the
// latest; the file reads back as of any size it held.
func TestDict(t *testing.T) {
	d := newDict(FunctionsFile)
	for i, v := range []string{"a", "b,c", "a", "", "b,c", "d"} {
		want := []uint32{0, 1, 0, 2, 1, 3}[i]
		if c := d.code(v); c != want {
			t.Errorf("code(%q) = %d, want %d", v, c, want)
		}
	}
	dir := t.TempDir()
	if err := writeFileAtomic(dir, FunctionsFile, d.csv()); err != nil {
		t.Fatal(err)
	}
	d.truncate(2)
	if c := d.code("d"); c != 2 {
		t.Errorf("after truncate(2), code(d) = %d, want 2", c)
	}
	for n, want := range [][]string{{}, {"a"}, {"a", "b,c"}, {"a", "b,c", ""}} {
		got, err := loadDict(dir, FunctionsFile, n)
		if err != nil || !reflect.DeepEqual(append([]string{}, got.values...), want) {
			t.Errorf("loadDict(%d) = %v, %v, want %v", n, got, err, want)
		}
	}
	if _, err := loadDict(dir, FunctionsFile, 5); err == nil {
		t.Error("loadDict past the file's values = nil error")
	}
}
