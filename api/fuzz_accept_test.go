package api

import (
	"strings"
	"testing"
)

// FuzzAccept checks the Accept header parser never panics, and never
// picks CBOR for a header that does not name it.
func FuzzAccept(f *testing.F) {
	for _, s := range []string{"", "*/*", MediaCBOR, MediaJSON, "application/cbor;q=0.5, application/json;q=0.4",
		"application/*;q=0.9, application/cbor;q=0.9", "application/cbor;q=abc", "text/html,;;,=", "application/cbor;q=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		if prefersCBOR(accept) && !strings.Contains(strings.ToLower(accept), "cbor") {
			t.Fatalf("prefersCBOR(%q) = true for a header that does not name CBOR", accept)
		}
	})
}
