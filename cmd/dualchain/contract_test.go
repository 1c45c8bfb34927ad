package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/contracts/registry"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/node"
	"github.com/dualchain/dualchain/vm"
)

// registryWasm is the committed registry module, as a user would deploy it.
var registryWasm = filepath.Join("..", "..", "contracts", "registry", "registry.wasm")

// startDevNode starts a real dev node in-process and returns it as a
// testNode whose faucetKey is the node's faucet key file. The node stops
// when the test ends.
func startDevNode(t *testing.T) (*testNode, *ledger.Key) {
	t.Helper()
	cfg := node.TestConfig(t.TempDir())
	cfg.Logger = slog.New(slog.NewTextHandler(tLogWriter{t}, nil))
	ctx, cancel := context.WithCancel(context.Background())
	n, err := node.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("node.New = %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node Run = %v", err)
		}
	})
	keyFile := filepath.Join(cfg.DataDir, node.FaucetFile)
	key, err := ledger.LoadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	tn := &testNode{url: "http://" + n.Addr().String(), dir: t.TempDir(), faucetKey: keyFile, env: map[string]string{}}
	return tn, key
}

// tLogWriter writes each log line to t.Log.
type tLogWriter struct{ t testing.TB }

func (w tLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestDeployAndCall deploys the registry with the CLI and uses it.
func TestDeployAndCall(t *testing.T) {
	n, faucetKey := startDevNode(t)
	first := ledger.DeployedAddress(faucetKey.Address, 0)
	r := n.run(t, "deploy", "--key", n.faucetKey, registryWasm).ok(t)
	codeHash := ledger.Hash(sha256.Sum256(registry.Wasm))
	wantLines(t, r.stdout, "status committed", "result ok", "path vm",
		fmt.Sprintf("gas used %d", vm.GasCall+vm.DeployGas(len(registry.Wasm))),
		"output "+hex.EncodeToString(first[:]), "event deployed "+hex.EncodeToString(codeHash[:]))

	// --json: the receipt's result is the address the deployer and nonce give.
	res := parseJSON[api.TxResult](t, n.run(t, "deploy", "--key", n.faucetKey, registryWasm, "--json").ok(t))
	addr := ledger.DeployedAddress(faucetKey.Address, 1)
	if res.Status != api.StatusCommitted || res.Receipt == nil || res.Receipt.Status != ledger.StatusOK ||
		!bytes.Equal(res.Receipt.Result, addr[:]) || res.Receipt.Path != ledger.PathVM {
		t.Fatalf("deploy --json = %+v, want committed ok on the vm path with result %x", res, addr[:])
	}

	contract := addr.String()
	alice := hex.EncodeToString([]byte("alice"))
	wantLines(t, n.run(t, "call", "--key", n.faucetKey, contract, "register", "str:alice").ok(t).stdout,
		"status committed", "result ok", "path vm", "event registered "+alice)
	wantLines(t, n.run(t, "call", "--key", n.faucetKey, contract, "resolve", "str:alice").ok(t).stdout,
		"result ok", "output "+hex.EncodeToString(faucetKey.Address[:]))
	wantLines(t, n.run(t, "call", "--key", n.faucetKey, contract, "count").ok(t).stdout,
		"result ok", "output 0000000000000001")
	// The first deploy is a registry of its own, still empty; the dc prefix
	// is optional.
	wantLines(t, n.run(t, "call", "--key", n.faucetKey, hex.EncodeToString(first[:]), "count").ok(t).stdout,
		"result ok", "output 0000000000000000")

	// A refused name: the receipt is printed, and the error line has its status.
	bad := n.run(t, "call", "--key", n.faucetKey, contract, "register", "str:Alice")
	bad.fails(t, exitFailure, "bad_args")
	wantLines(t, bad.stdout, "status committed", "result bad_args")
	if !strings.Contains(bad.stderr, "bad name") {
		t.Errorf("register str:Alice: stderr %q, want the contract's message", bad.stderr)
	}
	taken := n.run(t, "call", "--key", n.faucetKey, contract, "register", "str:alice")
	taken.fails(t, exitFailure, "aborted")
	if !strings.Contains(taken.stderr, "name taken") {
		t.Errorf("register str:alice again: stderr %q, want name taken", taken.stderr)
	}

	acct := parseJSON[balanceView](t, n.run(t, "balance", n.faucetKey, "--json").ok(t))
	if acct.Nonce != 8 {
		t.Errorf("faucet nonce = %d, want 8: two deploys and six calls, failed ones included", acct.Nonce)
	}
}

// TestCallToken calls the base token by name, with an account named by its
// key file.
func TestCallToken(t *testing.T) {
	n, _ := startDevNode(t)
	acct := parseJSON[balanceView](t, n.run(t, "balance", n.faucetKey, "--json").ok(t))
	r := n.run(t, "call", "--key", n.faucetKey, "token", "balance_of", "addr:"+n.faucetKey).ok(t)
	wantLines(t, r.stdout, "status committed", "result ok", "path native",
		"output "+hex.EncodeToString(binary.BigEndian.AppendUint64(nil, acct.Balance)))
	if acct.Balance != node.DevSupply {
		t.Errorf("faucet balance = %d, want the dev supply %d", acct.Balance, node.DevSupply)
	}
	res := parseJSON[api.TxResult](t, n.run(t, "call", "--key", n.faucetKey, "token", "total_supply", "--json").ok(t))
	if res.Receipt == nil || !bytes.Equal(res.Receipt.Result, ledger.EncodeUint64(node.DevSupply)) {
		t.Errorf("call token total_supply --json = %+v, want %d", res, node.DevSupply)
	}
}

func TestContractErrors(t *testing.T) {
	n, _ := startDevNode(t)
	key := n.faucetKey
	nobody := ledger.DeployedAddress(ledger.Address{9}, 9).String()
	tests := []struct {
		name string
		args []string
		exit int
		code string
		msg  string // a part of the error line
	}{
		{"deploy float", []string{"deploy", "--key", key, filepath.Join("..", "..", "vm", "testdata", "refused", "float.wasm")}, 1, "bad_module", "float"},
		{"deploy wasi", []string{"deploy", "--key", key, filepath.Join("..", "..", "vm", "testdata", "refused", "wasi.wasm")}, 1, "bad_module", "wasi"},
		{"deploy not wasm", []string{"deploy", "--key", key, "contract_test.go"}, 1, "bad_module", "invalid module"},
		{"deploy missing file", []string{"deploy", "--key", key, filepath.Join(n.dir, "none.wasm")}, 1, "no_file", "none.wasm"},
		{"deploy without key", []string{"deploy", registryWasm}, 2, "usage", "--key"},
		{"deploy without module", []string{"deploy", "--key", key}, 2, "usage", "module"},
		{"deploy two modules", []string{"deploy", "--key", key, registryWasm, registryWasm}, 2, "usage", "module"},
		{"deploy missing key file", []string{"deploy", "--key", filepath.Join(n.dir, "none.key"), registryWasm}, 1, "no_key_file", "none.key"},
		{"deploy too little gas", []string{"deploy", "--key", key, "--gas", "1000", registryWasm}, 1, "gas_limit_too_low", "3307 bytes"},
		{"call untyped operand", []string{"call", "--key", key, "token", "balance_of", "alice"}, 2, "usage", `"alice"`},
		{"call unknown type", []string{"call", "--key", key, "token", "balance_of", "x:1"}, 2, "usage", `unknown type "x"`},
		{"call bad u64", []string{"call", "--key", key, "token", "balance_of", "u64:many"}, 2, "usage", `"u64:many"`},
		{"call negative u64", []string{"call", "--key", key, "token", "balance_of", "u64:-1"}, 2, "usage", `"u64:-1"`},
		{"call bad address operand", []string{"call", "--key", key, "token", "balance_of", "addr:nobody.key"}, 2, "usage", "nobody.key"},
		{"call unknown function", []string{"call", "--key", key, "token", "mint", "u64:1"}, 1, "unknown_function", `"mint"`},
		{"call no contract there", []string{"call", "--key", key, nobody, "count"}, 1, "unknown_contract", "no contract at " + nobody},
		{"call bad contract", []string{"call", "--key", key, "dc12", "count"}, 2, "usage", `"dc12"`},
		{"call without key", []string{"call", "token", "total_supply"}, 2, "usage", "--key"},
		{"call without function", []string{"call", "--key", key, "token"}, 2, "usage", "function"},
		{"call missing key file", []string{"call", "--key", filepath.Join(n.dir, "none.key"), "token", "total_supply"}, 1, "no_key_file", "none.key"},
		{"call token with bad args", []string{"call", "--key", key, "token", "balance_of", "str:short"}, 1, "bad_args", ""},
		{"call below the base cost", []string{"call", "--key", key, "--gas", "100", "token", "total_supply"}, 1, "gas_limit_too_low", "base cost"},
		{"call runs out of gas", []string{"call", "--key", key, "--gas", "520", "token", "total_supply"}, 1, "out_of_gas", "out of gas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := n.run(t, tt.args...)
			r.fails(t, tt.exit, tt.code)
			if !strings.Contains(r.stderr, tt.msg) {
				t.Errorf("stderr = %q, want it to mention %q", r.stderr, tt.msg)
			}
		})
	}
}

func TestEncodeArgs(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "bob.key")
	if err := ledger.WriteKeyFile(keyFile, bob); err != nil {
		t.Fatal(err)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		operands []string
		want     []byte
	}{
		{nil, nil},
		{[]string{"str:alice"}, []byte("alice")},
		{[]string{"str:"}, nil},
		{[]string{"str:a:b c"}, []byte("a:b c")},
		{[]string{"hex:00ff10"}, []byte{0, 0xff, 0x10}},
		{[]string{"hex:0xABcd"}, []byte{0xab, 0xcd}},
		{[]string{"hex:"}, nil},
		{[]string{"addr:" + bob.Address.String()}, bob.Address[:]},
		{[]string{"addr:" + strings.TrimPrefix(bob.Address.String(), ledger.AddressPrefix)}, bob.Address[:]},
		{[]string{"addr:" + keyFile}, bob.Address[:]},
		{[]string{"u64:0"}, make([]byte, 8)},
		{[]string{"u64:258"}, []byte{0, 0, 0, 0, 0, 0, 1, 2}},
		{[]string{"u64:18446744073709551615"}, bytes.Repeat([]byte{0xff}, 8)},
		{[]string{"u8:0"}, []byte{0}},
		{[]string{"u8:255"}, []byte{0xff}},
		{[]string{"addr:" + keyFile, "str:alice"}, cat(bob.Address[:], []byte("alice"))},
		{[]string{"u8:1", "str:ab", "hex:ff", "u64:2", "str:"}, cat([]byte{1}, []byte("ab"), []byte{0xff}, []byte{0, 0, 0, 0, 0, 0, 0, 2})},
	}
	for _, tt := range tests {
		got, err := encodeArgs(tt.operands)
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("encodeArgs(%q) = %x, %v; want %x", tt.operands, got, err, tt.want)
		}
	}
}

func TestEncodeArgsErrors(t *testing.T) {
	tests := [][]string{
		{"alice"},
		{""},
		{":x"},
		{"x:1"},
		{"STR:alice"},
		{"u64:"},
		{"u64:many"},
		{"u64:-1"},
		{"u64:18446744073709551616"},
		{"u64:0x10"},
		{"u8:256"},
		{"u8:-1"},
		{"hex:abc"},
		{"hex:zz"},
		{"addr:dc12"},
		{"addr:" + filepath.Join(t.TempDir(), "none.key")},
		{"str:ok", "u8:300"}, // a bad operand after a good one
	}
	for _, ops := range tests {
		got, err := encodeArgs(ops)
		var ce *cliError
		if !errors.As(err, &ce) || !ce.usage || got != nil {
			t.Errorf("encodeArgs(%q) = %x, %v; want no bytes and a usage error", ops, got, err)
			continue
		}
		if bad := ops[len(ops)-1]; !strings.Contains(err.Error(), fmt.Sprintf("%q", bad)) {
			t.Errorf("encodeArgs(%q) error %q does not name the operand %q", ops, err, bad)
		}
	}
}
