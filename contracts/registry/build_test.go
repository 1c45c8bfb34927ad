package registry

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Exit statuses of scripts/contracts.sh that mean the toolchain is not the
// one the committed modules are pinned to, so no rebuild can be compared.
const (
	exitMissingPackage = 10
	exitOtherVersion   = 11
)

// TestRebuildMatchesCommitted rebuilds every contract module with
// scripts/contracts.sh and compares it byte for byte with the committed
// one. It is skipped, naming the packages to install, when the toolchain is
// missing or is not the pinned version.
func TestRebuildMatchesCommitted(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is needed to run scripts/contracts.sh")
	}
	out := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "bash", filepath.Join("..", "..", "scripts", "contracts.sh"), "--out", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	t.Logf("scripts/contracts.sh --out %s:\n%s", out, stderr.Bytes())
	if exit := (*exec.ExitError)(nil); errors.As(err, &exit) &&
		(exit.ExitCode() == exitMissingPackage || exit.ExitCode() == exitOtherVersion) {
		t.Skipf("the pinned contract toolchain is not installed; run scripts/contracts.sh --install as root, "+
			"or apt-get install -y --no-install-recommends rustc libstd-rust-dev-wasm32 lld-14 wabt:\n%s", stderr.Bytes())
	}
	if err != nil {
		t.Fatalf("scripts/contracts.sh --out %s: %v", out, err)
	}

	sameBytes(t, filepath.Join(out, "registry.wasm"), Wasm, "registry.wasm (embedded as Wasm)")
	if _, err := os.Stat(filepath.Join("..", "token", "token.wat")); err == nil {
		committed, err := os.ReadFile(filepath.Join("..", "token", "token.wasm"))
		if err != nil {
			t.Fatalf("token.wat exists but its module is not committed: %v", err)
		}
		sameBytes(t, filepath.Join(out, "token.wasm"), committed, "contracts/token/token.wasm")
	}
}

// sameBytes fails unless the file at rebuilt holds exactly want.
func sameBytes(t *testing.T, rebuilt string, want []byte, name string) {
	t.Helper()
	got, err := os.ReadFile(rebuilt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("rebuilt %s = %d bytes (first difference at byte %d), want the committed %d bytes; "+
			"run scripts/contracts.sh and commit the result", name, len(got), firstDiff(got, want), len(want))
	}
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
