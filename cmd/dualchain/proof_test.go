package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

// provenNode returns a cold node where the faucet settled 100 and bob 20,
// checkpointed in cold block 1, and the faucet's proof against it.
func provenNode(t *testing.T) (*testNode, api.ColdProof) {
	t.Helper()
	n, b := newColdNode(t, true)
	n.run(t, "settle", "--key", n.faucetKey, "--amount", "100", "--wait").ok(t)
	n.run(t, "settle", "--key", n.bobKey(), "--amount", "20", "--wait").ok(t)
	b.Checkpoint()
	cp, err := b.ColdProof(t.Context(), faucet.Address, 1)
	if err != nil {
		t.Fatal(err)
	}
	return n, cp
}

// offline runs the CLI with no node at all: the URL it would use goes
// nowhere.
func offline(t *testing.T, args ...string) result {
	t.Helper()
	n := &testNode{env: map[string]string{"DUALCHAIN_NODE": "http://127.0.0.1:1"}}
	return n.run(t, args...)
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestProofGet(t *testing.T) {
	n, cp := provenNode(t)
	a := faucet.Address.String()

	out := filepath.Join(n.dir, "proof.json")
	r := n.run(t, "proof", "get", n.faucetKey, "--out", out)
	if r.exit != 0 || r.stdout != "" {
		t.Fatalf("proof get --out: exit %d, stdout %q, stderr %q", r.exit, r.stdout, r.stderr)
	}
	if data, err := os.ReadFile(out); err != nil || !bytes.Equal(data, cp.Proof) {
		t.Errorf("proof get --out wrote %q, %v; want the node's bytes %q", data, err, cp.Proof)
	}
	wantText := "proof of " + a + " against cold block 1, state root " + cp.Root.String() +
		"\ncheck it: dualchain proof verify " + out + " --root " + cp.Root.String() + "\n"
	if r.stderr != wantText {
		t.Errorf("stderr = %q, want %q", r.stderr, wantText)
	}

	r = n.run(t, "proof", "get", a, "--height", "1")
	if r.exit != 0 || r.stdout != string(cp.Proof)+"\n" || !strings.Contains(r.stderr, cp.Root.String()) {
		t.Errorf("proof get to stdout: exit %d, stdout %q, stderr %q; want the proof and the root", r.exit, r.stdout, r.stderr)
	}
	r = n.run(t, "proof", "get", a, "--json")
	var got api.ColdProof
	var compact bytes.Buffer
	err := json.Unmarshal([]byte(r.stdout), &got)
	if err == nil {
		err = json.Compact(&compact, got.Proof) // --json indents the whole answer
	}
	if err != nil || got.Root != cp.Root || got.Height != 1 || !bytes.Equal(compact.Bytes(), cp.Proof) {
		t.Errorf("proof get --json = %q, %v; want the node's answer %+v", r.stdout, err, cp)
	}

	n.run(t, "proof", "get", a, "--height", "0").fails(t, exitUsage, "usage")
	n.run(t, "proof", "get", a, "--height", "2").fails(t, exitFailure, "not_found")
	n.run(t, "proof", "get", "dc12").fails(t, exitFailure, "bad_address")
	hot := newTestNode(t, true, api.TestConfig())
	hot.run(t, "proof", "get", a).fails(t, exitFailure, "not_supported")
}

func TestProofVerify(t *testing.T) {
	n, cp := provenNode(t)
	file := writeFile(t, n.dir, "proof.json", cp.Proof)
	root := cp.Root.String()

	r := offline(t, "proof", "verify", file, "--root", root).ok(t)
	wantLines(t, r.stdout, "valid yes: the proof leads to the trusted root", "address "+faucet.Address.String(),
		"proves inclusion: the account is in that state", "balance 100", "nonce 0", "root "+root)
	v := parseJSON[proofVerdict](t, offline(t, "proof", "verify", file, "--root", root, "--address", n.faucetKey, "--json").ok(t))
	want := proofVerdict{Valid: true, Root: cp.Root, Address: faucet.Address, Included: true, Balance: 100}
	if v != want {
		t.Errorf("proof verify --json = %+v, want %+v", v, want)
	}

	// Non-inclusion: carol has no cold account.
	b := n.run(t, "proof", "get", carol.Address.String(), "--out", filepath.Join(n.dir, "carol.json"))
	if b.exit != 0 {
		t.Fatalf("proof get carol: %+v", b)
	}
	r = offline(t, "proof", "verify", filepath.Join(n.dir, "carol.json"), "--root", root, "--address", carol.Address.String()).ok(t)
	wantLines(t, r.stdout, "proves non-inclusion: no cold account at this address in that state", "address "+carol.Address.String())
}

func TestProofVerifyRejects(t *testing.T) {
	n, cp := provenNode(t)
	file := writeFile(t, n.dir, "proof.json", cp.Proof)
	root := cp.Root.String()
	otherRoot := []byte(root)
	otherRoot[10] ^= 1 // '0'..'9' and 'a'..'f' stay hex digits
	envelope, err := json.Marshal(cp)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		exit int
		code string
		says string
	}{
		{"another root", []string{file, "--root", string(otherRoot)}, exitFailure, "proof_mismatch", string(otherRoot)},
		{"the zero root", []string{file, "--root", ledger.Hash{}.String()}, exitFailure, "proof_mismatch", ""},
		{"another address", []string{file, "--root", root, "--address", bob.Address.String()}, exitFailure, "wrong_address", bob.Address.String()},
		{"another address by key file", []string{file, "--root", root, "--address", n.bobKey()}, exitFailure, "wrong_address", ""},
		{"no root", []string{file}, exitUsage, "usage", "--root"},
		{"root not hex", []string{file, "--root", "xyz"}, exitUsage, "usage", "xyz"},
		{"root too short", []string{file, "--root", root[:62]}, exitUsage, "usage", ""},
		{"no file", []string{filepath.Join(n.dir, "none.json"), "--root", root}, exitFailure, "no_file", "none.json"},
		{"not JSON", []string{writeFile(t, n.dir, "text", []byte("hello")), "--root", root}, exitFailure, "bad_proof", ""},
		{"a node's whole answer", []string{writeFile(t, n.dir, "env.json", envelope), "--root", root}, exitFailure, "bad_proof", `"proof" member`},
		{"no arguments", nil, exitUsage, "usage", ""},
		{"two files", []string{file, file, "--root", root}, exitUsage, "usage", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := offline(t, append([]string{"proof", "verify"}, tt.args...)...)
			r.fails(t, tt.exit, tt.code)
			if !strings.Contains(r.stderr, tt.says) || r.stdout != "" {
				t.Errorf("stdout %q, stderr %q; want nothing on stdout and %q on stderr", r.stdout, r.stderr, tt.says)
			}
		})
	}
}

// TestProofVerifyEveryByte changes each byte of a valid proof in turn:
// every change must be refused.
func TestProofVerifyEveryByte(t *testing.T) {
	n, cp := provenNode(t)
	root := cp.Root.String()
	p, err := ledger.ParseProof(cp.Proof)
	if err != nil || len(p.Siblings) == 0 {
		t.Fatalf("proof %s (%v): want one with siblings", cp.Proof, err)
	}
	for i := range cp.Proof {
		changed := bytes.Clone(cp.Proof)
		changed[i] = otherByte(changed[i])
		file := writeFile(t, n.dir, "changed.json", changed)
		r := offline(t, "proof", "verify", file, "--root", root)
		if r.exit != exitFailure || !(strings.HasSuffix(r.stderr, "(bad_proof)\n") || strings.HasSuffix(r.stderr, "(proof_mismatch)\n")) {
			t.Errorf("byte %d changed (%q): exit %d, stderr %q; want a refusal", i, changed, r.exit, r.stderr)
		}
	}
}

// otherByte returns a byte that differs from c, keeping hex digits and
// decimal digits what they were, so that changes reach past the decoder.
func otherByte(c byte) byte {
	switch {
	case c >= '0' && c <= '8', c >= 'a' && c <= 'e':
		return c + 1
	case c == '9':
		return '0'
	case c == 'f':
		return 'a'
	}
	return c ^ 0x20
}
