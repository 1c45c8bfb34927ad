package exporttest

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// SameFiles checks that directory got holds the files of directory want,
// no more and no fewer, each byte for byte the same.
func SameFiles(t testing.TB, want, got string) {
	t.Helper()
	nw, ng := names(t, want), names(t, got)
	if !slices.Equal(nw, ng) {
		t.Fatalf("%s holds\n%v\n%s holds\n%v", got, ng, want, nw)
	}
	for _, n := range nw {
		a, err1 := os.ReadFile(filepath.Join(want, n))
		b, err2 := os.ReadFile(filepath.Join(got, n))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs: %d bytes in %s, %d in %s (%v, %v)", n, len(a), want, len(b), got, err1, err2)
		}
	}
}

// names lists the entries of dir, sorted (os.ReadDir sorts them).
func names(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}
