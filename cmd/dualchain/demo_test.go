package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The demo itself runs node processes of the built binary: internal/e2e's
// TestDemo runs it. Here: its help, and the mistakes refused before any
// process starts.
func TestDemoHelp(t *testing.T) {
	n := &testNode{env: map[string]string{}}
	r := n.run(t, "demo", "--help").ok(t)
	for _, want := range []string{"dualchain demo", "--nodes", "--keep", "--dir", "--store", "--json", "Examples:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo --help lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestDemoUsageErrors(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "notes.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	n := &testNode{env: map[string]string{}}
	n.refusesUsage(t, []usageCase{
		{[]string{"demo", "--nodes", "2"}, "2 nodes: want 3 to 9"},
		{[]string{"demo", "--store", "disk"}, `store "disk"`},
		{[]string{"demo", "--transfers", "5"}, "5 transfers"},
		{[]string{"demo", "--dir", full}, "holds notes.txt"},
		{[]string{"demo", "extra"}, "takes no arguments"},
	})
	if entries, _ := os.ReadDir(full); len(entries) != 1 {
		t.Errorf("the refused --dir holds %d entries, want its one file untouched", len(entries))
	}
}
