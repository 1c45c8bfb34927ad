package vm

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm/instrument"
)

var (
	contract = ledger.Address{0xc0}
	caller   = ledger.Address{0xca}
)

func newVM(t testing.TB, cfg Config) *VM {
	t.Helper()
	v, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close(context.Background()) })
	return v
}

func compile(t testing.TB, v *VM, file string) *Program {
	t.Helper()
	code, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Compile(context.Background(), code)
	if err != nil {
		t.Fatalf("Compile(%s) = %v", file, err)
	}
	return p
}

func run(p *Program, st State, function string, args []byte, gas uint64) Result {
	c := Call{Contract: contract, Caller: caller, Height: 42, Function: function, Args: args, GasLimit: gas}
	return p.Run(context.Background(), NewEnv(st, c), function)
}

func TestABI(t *testing.T) {
	p := compile(t, newVM(t, DefaultConfig()), "abi.wasm")
	st := MapState{}
	if r := run(p, st, "echo", []byte("hello"), 1e6); r.Status != ledger.StatusOK || string(r.Output) != "hello" {
		t.Errorf("echo = %v %q %q, want ok hello", r.Status, r.Error, r.Output)
	}
	r := run(p, st, "who", nil, 1e6)
	want := append(append(caller[:], contract[:]...), binary.LittleEndian.AppendUint64(nil, 42)...)
	if !bytes.Equal(r.Output, want) {
		t.Errorf("who = %x, want caller ‖ address ‖ height %x", r.Output, want)
	}
	r = run(p, st, "put", []byte("keyval"), 1e6)
	wantWrite := Write{Key: ledger.StorageKey(contract, []byte("key")), Value: []byte("val")}
	if r.Status != ledger.StatusOK || len(r.Writes) != 1 || !reflect.DeepEqual(r.Writes[0], wantWrite) {
		t.Fatalf("put = %v %q writes %q, want one write of value under the contract's key", r.Status, r.Error, r.Writes)
	}
	if len(r.Events) != 1 || r.Events[0].Name != "stored" || string(r.Events[0].Data) != "key" {
		t.Errorf("put events = %v, want stored(key)", r.Events)
	}
	st.Apply(r)
	r = run(p, st, "get", []byte("key"), 1e6)
	if string(r.Output) != "\x03\x00\x00\x00val" {
		t.Errorf("get = %q, want length 3 then val", r.Output)
	}
	if r = run(p, st, "get", []byte("nope"), 1e6); string(r.Output) != "\x00\x00\x00\x00" {
		t.Errorf("get of a missing key = %q, want length 0", r.Output)
	}
}

func TestAbortCodes(t *testing.T) {
	p := compile(t, newVM(t, DefaultConfig()), "abi.wasm")
	tests := []struct {
		code uint32
		want ledger.Status
	}{
		{1, ledger.StatusInsufficientFunds}, {2, ledger.StatusOverflow}, {3, ledger.StatusBadArgs},
		{0, ledger.StatusAborted}, {4, ledger.StatusAborted}, {5, ledger.StatusAborted}, {6, ledger.StatusAborted},
		{200, ledger.StatusAborted}, {65537, ledger.StatusAborted}, {65539, ledger.StatusAborted}, {1<<32 - 1, ledger.StatusAborted},
	}
	for _, tt := range tests {
		r := run(p, MapState{}, "fail", append(binary.LittleEndian.AppendUint32(nil, tt.code), "why"...), 1e6)
		if r.Status != tt.want || r.Error != "why" || r.Writes != nil || r.Output != nil {
			t.Errorf("abort(%d) = %v %q, want %v %q and no effects", tt.code, r.Status, r.Error, tt.want, "why")
		}
	}
}

// TestHostile runs each hostile export: it fails with a clear receipt (not
// the deadline's: gas or a limit stops it), and the VM goes on serving calls.
func TestHostile(t *testing.T) {
	v := newVM(t, DefaultConfig())
	p := compile(t, v, "hostile.wasm")
	abi := compile(t, v, "abi.wasm")
	tests := []struct {
		export string
		want   ledger.Status
		msg    string
	}{
		{"loop", ledger.StatusOutOfGas, "out of gas"},
		{"grow_huge", ledger.StatusOutOfGas, "out of gas"},
		{"recurse", ledger.StatusAborted, "trap: call depth past"},
		{"trap", ledger.StatusAborted, "trap: unreachable"},
		{"div_zero", ledger.StatusAborted, "trap: integer divide by zero"},
		{"oob_load", ledger.StatusAborted, "trap: out of bounds memory access"},
		{"oob_host", ledger.StatusAborted, "memory access out of bounds"},
		{"big_key", ledger.StatusAborted, "storage key of 65 bytes, limit 64"},
		{"big_output", ledger.StatusAborted, "output of 1025 bytes, limit 1024"},
		{"emit_many", ledger.StatusAborted, "more than 16 events"},
		{"write_then_abort", ledger.StatusAborted, ""},
		{"missing", ledger.StatusUnknownFunction, `contract has no function "missing"`},
	}
	for _, tt := range tests {
		t.Run(tt.export, func(t *testing.T) {
			r := run(p, MapState{}, tt.export, nil, 1_000_000) // a status other than the deadline's: gas or a limit stopped it
			if r.Status != tt.want || !strings.Contains(r.Error, tt.msg) {
				t.Errorf("%s = %v %q, want %v containing %q", tt.export, r.Status, r.Error, tt.want, tt.msg)
			}
			if r.Writes != nil || r.Events != nil || r.Output != nil {
				t.Errorf("%s left effects: writes %v events %v output %x", tt.export, r.Writes, r.Events, r.Output)
			}
			if r.GasUsed == 0 || r.GasUsed > 1_000_000 {
				t.Errorf("%s used %d gas, want some and at most the limit", tt.export, r.GasUsed)
			}
			if r := run(abi, MapState{}, "echo", []byte("still here"), 1e6); string(r.Output) != "still here" {
				t.Fatalf("after %s, echo = %v %q", tt.export, r.Status, r.Error)
			}
		})
	}
}

// TestDeepRecursion gives a recursion more gas than the call depth limit
// lets it use: it stops at the limit, at the same gas every time and on
// every platform (not where wazero's stack happens to end), and the VM goes
// on.
func TestDeepRecursion(t *testing.T) {
	p := compile(t, newVM(t, DefaultConfig()), "hostile.wasm")
	r := run(p, MapState{}, "recurse", nil, MaxGasForTests)
	want := fmt.Sprintf("trap: call depth past %d", MaxCallDepth)
	if r.Status != ledger.StatusAborted || r.Error != want || r.GasUsed >= MaxGasForTests {
		t.Fatalf("recurse = %v %q gas %d, want aborted %q before gas ran out", r.Status, r.Error, r.GasUsed, want)
	}
	if again := run(p, MapState{}, "recurse", nil, MaxGasForTests); !again.Same(r) {
		t.Fatalf("recurse again = %+v, first %+v", again, r)
	}
	if r := run(p, MapState{}, "dirty", nil, 1e6); r.Status != ledger.StatusOK {
		t.Fatalf("after a stack overflow, dirty = %v %q", r.Status, r.Error)
	}
}

// MaxGasForTests is a gas limit large enough that the call depth limit,
// not gas, stops a recursion.
const MaxGasForTests = 100_000_000

// TestMemoryGrowth grows memory to the limit, is charged per page, and
// leaves the next call a clean one-page memory.
func TestMemoryGrowth(t *testing.T) {
	p := compile(t, newVM(t, DefaultConfig()), "hostile.wasm")
	r := run(p, MapState{}, "grow_all", nil, 10_000_000)
	if r.Status != ledger.StatusOK || r.GasUsed < (MaxMemoryPages-1)*GasGrowPage {
		t.Fatalf("grow_all = %v %q gas %d, want ok and at least %d", r.Status, r.Error, r.GasUsed, (MaxMemoryPages-1)*GasGrowPage)
	}
	if r := run(p, MapState{}, "grow_all", nil, GasGrowPage*10); r.Status != ledger.StatusOutOfGas {
		t.Errorf("grow_all with gas for 10 pages = %v, want out_of_gas", r.Status)
	}
	again := run(p, MapState{}, "grow_all", nil, 10_000_000)
	if again.GasUsed != r.GasUsed {
		t.Errorf("grow_all after growing = %d gas, first time %d: the second call did not start clean", again.GasUsed, r.GasUsed)
	}
}

// TestCleanState checks no call sees memory or globals an earlier call
// left, on pooled and on fresh instances alike.
func TestCleanState(t *testing.T) {
	fresh := DefaultConfig()
	fresh.Fresh = true
	for name, cfg := range map[string]Config{"pooled": DefaultConfig(), "fresh": fresh} {
		p := compile(t, newVM(t, cfg), "hostile.wasm")
		for i := range 4 {
			r := run(p, MapState{}, "dirty", nil, 1e6)
			if want := "\x00\x00\x00\x00\x01\x00\x00\x00"; string(r.Output) != want {
				t.Fatalf("%s: call %d of dirty = %x, want %x", name, i, r.Output, want)
			}
			if i == 1 {
				run(p, MapState{}, "grow_all", nil, 1e7) // grows: the instance is dropped
			}
		}
	}
}

// TestGasDeterministic runs the same calls on fresh VMs, and on a VM
// restarted over the same compilation cache: the gas never changes.
func TestGasDeterministic(t *testing.T) {
	dir := t.TempDir()
	calls := []struct{ fn, args string }{{"echo", "abc"}, {"put", "k1v1"}, {"who", ""}, {"get", "k1"}}
	measure := func(cfg Config) []uint64 {
		v := newVM(t, cfg)
		p := compile(t, v, "abi.wasm")
		var gas []uint64
		st := MapState{}
		for _, c := range calls {
			r := run(p, st, c.fn, []byte(c.args), 1e6)
			st.Apply(r)
			gas = append(gas, r.GasUsed)
		}
		v.Close(context.Background())
		return gas
	}
	cached := DefaultConfig()
	cached.CacheDir = dir
	first := measure(DefaultConfig())
	for i, cfg := range []Config{DefaultConfig(), cached, cached} {
		if got := measure(cfg); !reflect.DeepEqual(got, first) {
			t.Fatalf("run %d: gas %v, first run %v", i, got, first)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) == 0 {
		t.Error("compilation cache dir is empty after a compile")
	}
}

// TestDeadlineBackstop: a call with more gas than the deadline lets it
// spend is stopped by the deadline, cleanly.
func TestDeadlineBackstop(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Deadline = 50 * time.Millisecond
	v := newVM(t, cfg)
	p := compile(t, v, "hostile.wasm")
	r := run(p, MapState{}, "loop", nil, 1<<60)
	if r.Status != ledger.StatusAborted || !strings.Contains(r.Error, "deadline") {
		t.Fatalf("loop with unlimited gas = %v %q, want aborted by the deadline", r.Status, r.Error)
	}
	if r := run(p, MapState{}, "dirty", nil, 1e6); r.Status != ledger.StatusOK {
		t.Fatalf("after the deadline, dirty = %v %q", r.Status, r.Error)
	}
}

// TestRefused checks modules that could never run are refused at compile,
// which is deploy, with the reason.
func TestRefused(t *testing.T) {
	v := newVM(t, DefaultConfig())
	files, _ := filepath.Glob("testdata/refused/*.wasm")
	if len(files) < 7 {
		t.Fatalf("found %d refused modules, want the 7 in testdata/refused", len(files))
	}
	cases := map[string][]byte{
		"empty":    nil,
		"garbage":  []byte("\x00asm\x01\x00\x00\x00garbage"),
		"not wasm": []byte("#!/bin/sh\nrm -rf /\n"),
		"huge":     hugeModule(t),
	}
	for _, f := range files {
		cases[filepath.Base(f)], _ = os.ReadFile(f)
	}
	for name, code := range cases {
		_, err := v.Compile(context.Background(), code)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Compile(%s) = %v, want ErrInvalid", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// hugeModule is abi.wasm with a custom section that takes it past the
// size limit.
func hugeModule(t *testing.T) []byte {
	code, err := os.ReadFile("testdata/abi.wasm")
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, MaxCodeSize)
	section := append([]byte{0, 4, 'p', 'a', 'd'}, payload...) // id 0, name "pad"
	size := binary.AppendUvarint(nil, uint64(len(section)-1))
	return append(append(append(code, 0), size...), section[1:]...)
}

func TestDeploy(t *testing.T) {
	v := newVM(t, DefaultConfig())
	code, _ := os.ReadFile("testdata/abi.wasm")
	c := Call{Contract: ledger.DeployAddress, Caller: caller, Nonce: 7, Function: ledger.FuncDeploy, Args: code, GasLimit: 1e7}
	r := v.Deploy(context.Background(), NewEnv(MapState{}, c))
	addr := ledger.DeployedAddress(caller, 7)
	if r.Status != ledger.StatusOK || !bytes.Equal(r.Output, addr[:]) {
		t.Fatalf("Deploy = %v %q output %x, want ok and address %s", r.Status, r.Error, r.Output, addr)
	}
	if want := GasCall + DeployGas(len(code)); r.GasUsed != want {
		t.Errorf("Deploy used %d gas, want %d", r.GasUsed, want)
	}
	st := MapState{}
	st.Apply(r)
	if len(st) != 2 || !bytes.Equal(st.Get(ledger.CodeBlobKey(ledger.Hash(st.Get(ledger.CodeKey(addr))))), code) {
		t.Errorf("Deploy wrote %d keys; want the code hash at the address and the code under its hash", len(st))
	}
	c.Args = []byte("not wasm")
	if r := v.Deploy(context.Background(), NewEnv(MapState{}, c)); r.Status != ledger.StatusBadArgs || !strings.Contains(r.Error, "invalid module") {
		t.Errorf("Deploy(garbage) = %v %q, want bad_args naming the invalid module", r.Status, r.Error)
	}
	c.Args, c.GasLimit = code, 100
	if r := v.Deploy(context.Background(), NewEnv(MapState{}, c)); r.Status != ledger.StatusOutOfGas || r.GasUsed != 100 || r.Writes != nil {
		t.Errorf("Deploy with 100 gas = %v gas %d writes %d, want out_of_gas using it all", r.Status, r.GasUsed, len(r.Writes))
	}
}

// TestHostImportsAgree holds the instrumenter's list of host functions to
// the one the VM exports.
func TestHostImportsAgree(t *testing.T) {
	mine, theirs := hostImports(), instrument.HostImports()
	if len(mine) != len(theirs) {
		t.Fatalf("vm exports %d host functions, instrument allows %d", len(mine), len(theirs))
	}
	for name, ft := range mine {
		if !ft.Equal(theirs[name]) {
			t.Errorf("%s: vm %v, instrument %v", name, ft, theirs[name])
		}
	}
}

// TestNoDeadline: with the backstop off, gas alone stops a runaway call.
func TestNoDeadline(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Deadline = 0
	p := compile(t, newVM(t, cfg), "hostile.wasm")
	if r := run(p, MapState{}, "loop", nil, 10_000_000); r.Status != ledger.StatusOutOfGas || r.GasUsed != 10_000_000 {
		t.Fatalf("loop without a deadline = %v %q gas %d, want out_of_gas using it all", r.Status, r.Error, r.GasUsed)
	}
}

// TestDeadlineNeverHitsTheNextCall alternates calls that end around the
// deadline (out of gas or stopped) with quick ones on the same program: a
// quick call must never inherit a stop meant for the call before it on the
// same instance. An inherited stop fails the quick call at once, in far
// less than the deadline, which is what the test looks for.
func TestDeadlineNeverHitsTheNextCall(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Deadline = 2 * time.Millisecond
	p := compile(t, newVM(t, cfg), "hostile.wasm")
	for i := range 200 {
		gas := uint64(20_000 + 1_000*(i%100)) // ~0.6 to ~4 ms of looping
		if r := run(p, MapState{}, "loop", nil, gas); r.Status != ledger.StatusAborted && r.Status != ledger.StatusOutOfGas {
			t.Fatalf("round %d: loop = %v %q, want out of gas or stopped", i, r.Status, r.Error)
		}
		for j := range 5 {
			// A quick call may really outlast 2 ms on a loaded machine and be
			// stopped; one stopped in less than the deadline inherited the stop.
			start := time.Now()
			r := run(p, MapState{}, "dirty", nil, 1e6)
			took := time.Since(start)
			if r.Status != ledger.StatusOK && (took < cfg.Deadline || !strings.Contains(r.Error, "deadline")) {
				t.Fatalf("round %d, quick call %d = %v %q after %v, want ok", i, j, r.Status, r.Error, took)
			}
		}
	}
}

// TestEvictedProgramStillRuns: a program dropped from a full cache still
// runs for a caller that held it.
func TestEvictedProgramStillRuns(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxPrograms = 1
	v := newVM(t, cfg)
	abi := compile(t, v, "abi.wasm")
	compile(t, v, "hostile.wasm") // evicts abi.wasm
	if v.Lookup(abi.Hash) != nil {
		t.Fatal("abi.wasm still cached in a cache of one after another compile")
	}
	for range 3 {
		if r := run(abi, MapState{}, "echo", []byte("x"), 1e6); r.Status != ledger.StatusOK || string(r.Output) != "x" {
			t.Fatalf("echo on an evicted program = %v %q", r.Status, r.Error)
		}
	}
}

// TestHugeGasLimit: a limit past what a call can count is capped, and the
// gas used is still what the call used.
func TestHugeGasLimit(t *testing.T) {
	p := compile(t, newVM(t, DefaultConfig()), "abi.wasm")
	small := run(p, MapState{}, "echo", []byte("x"), 1e6)
	huge := run(p, MapState{}, "echo", []byte("x"), 1<<64-1)
	if huge.Status != ledger.StatusOK || huge.GasUsed != small.GasUsed {
		t.Fatalf("echo with the largest limit = %v gas %d, with 1e6 gas %d", huge.Status, huge.GasUsed, small.GasUsed)
	}
}

// TestMemoryPagesCost: each call pays for restoring the pages of initial
// memory past the first.
func TestMemoryPagesCost(t *testing.T) {
	p := compile(t, newVM(t, DefaultConfig()), "pages.wasm")
	r := run(p, MapState{}, "run", nil, 1e6)
	if want := uint64(GasCall + 2*GasMemoryPage); r.Status != ledger.StatusOK || r.HostGas != want {
		t.Fatalf("run on 3 pages = %v host gas %d, want ok and %d", r.Status, r.HostGas, want)
	}
}

// TestSame: nil and empty byte strings are the same outcome; any field
// that differs is not.
func TestSame(t *testing.T) {
	a := Result{Status: ledger.StatusOK, GasUsed: 5, Output: nil, Events: []ledger.Event{{Name: "e"}}, Writes: []Write{{Key: []byte("k")}}}
	b := Result{Status: ledger.StatusOK, GasUsed: 5, Output: []byte{}, Events: []ledger.Event{{Name: "e", Data: []byte{}}}, Writes: []Write{{Key: []byte("k"), Value: []byte{}}}, Path: ledger.PathVM}
	if !a.Same(b) {
		t.Error("nil and empty byte strings compare different")
	}
	c := b
	c.Writes = []Write{{Key: []byte("k"), Value: []byte{1}}}
	d := b
	d.GasUsed++
	if a.Same(c) || a.Same(d) {
		t.Error("different writes or gas compare the same")
	}
}
