package consensus

import (
	"os"
	"path/filepath"
	"testing"
)

// A snapshot a crash left half written (raft's NAME.tmp) is removed when
// the replica opens; complete ones are kept.
func TestRemovePartialSnapshots(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "snapshots")
	for _, name := range []string{"2-10-123.tmp", "2-5-100"} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "state.bin"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := removePartialSnapshots(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "2-10-123.tmp")); !os.IsNotExist(err) {
		t.Errorf("partial snapshot still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "2-5-100", "state.bin")); err != nil {
		t.Errorf("complete snapshot removed: %v", err)
	}
	if err := removePartialSnapshots(filepath.Join(t.TempDir(), "none")); err != nil {
		t.Errorf("no snapshot dir yet: %v", err)
	}
}
