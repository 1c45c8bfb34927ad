package registry

import (
	"bytes"
	"context"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

var (
	alice = ledger.Address{0xa1}
	bob   = ledger.Address{0xb0}
	carol = ledger.Address{0xca}
	// contract is where alice's first deploy would put the registry.
	contract = ledger.DeployedAddress(alice, 0)
)

// step is one call in a sequence that runs against the state the steps
// before it left.
type step struct {
	name     string
	caller   ledger.Address
	function string
	args     []byte
	status   ledger.Status
	msg      string       // the receipt's error, on any status but ok
	out      []byte       // the call's output
	event    ledger.Event // the one event an ok call emits, if Name is set
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// steps is the registry's behaviour, call by call. It ends with every name
// released, so the state it leaves is empty.
func steps() []step {
	const ok, badArgs, aborted = ledger.StatusOK, ledger.StatusBadArgs, ledger.StatusAborted
	s, a := func(v string) []byte { return []byte(v) }, func(x ledger.Address) []byte { return x[:] }
	long := strings.Repeat("z", 32)
	const badLen, badChar = "bad name: want 1 to 32 bytes", "bad name: want only a-z, 0-9 and -"
	return []step{
		{"count of none", alice, "count", nil, ok, "", u64(0), ledger.Event{}},
		{"register", alice, "register", s("alice"), ok, "", nil, ledger.Event{Name: "registered", Data: s("alice")}},
		{"count of one", bob, "count", nil, ok, "", u64(1), ledger.Event{}},
		{"register taken", bob, "register", s("alice"), aborted, "name taken", nil, ledger.Event{}},
		{"register taken by its owner", alice, "register", s("alice"), aborted, "name taken", nil, ledger.Event{}},
		{"empty name", alice, "register", nil, badArgs, badLen, nil, ledger.Event{}},
		{"33-byte name", alice, "register", s(long + "z"), badArgs, badLen, nil, ledger.Event{}},
		{"uppercase", alice, "register", s("Alice"), badArgs, badChar, nil, ledger.Event{}},
		{"dot", alice, "register", s("alice.dc"), badArgs, badChar, nil, ledger.Event{}},
		{"space", alice, "register", s("al ice"), badArgs, badChar, nil, ledger.Event{}},
		{"65-byte args", alice, "register", s(strings.Repeat("a", 65)), badArgs, "bad args: too long", nil, ledger.Event{}},
		{"5000-byte args", alice, "register", s(strings.Repeat("a", 5000)), badArgs, "bad args: too long", nil, ledger.Event{}},
		{"32-byte name", bob, "register", s(long), ok, "", nil, ledger.Event{Name: "registered", Data: s(long)}},
		{"digits and dash", carol, "register", s("a-0"), ok, "", nil, ledger.Event{Name: "registered", Data: s("a-0")}},
		{"count of three", alice, "count", nil, ok, "", u64(3), ledger.Event{}},
		{"resolve", bob, "resolve", s("alice"), ok, "", a(alice), ledger.Event{}},
		{"resolve another", alice, "resolve", s(long), ok, "", a(bob), ledger.Event{}},
		{"resolve free", alice, "resolve", s("bob"), aborted, "not registered", nil, ledger.Event{}},
		{"resolve bad name", alice, "resolve", s("B"), badArgs, badChar, nil, ledger.Event{}},
		{"transfer by non-owner", bob, "transfer", cat(a(bob), s("alice")), aborted, "not the owner", nil, ledger.Event{}},
		{"transfer free", alice, "transfer", cat(a(carol), s("nobody")), aborted, "not registered", nil, ledger.Event{}},
		{"transfer short args", alice, "transfer", a(carol)[:31], badArgs, "bad args: want new owner (32 bytes) and name", nil, ledger.Event{}},
		{"transfer no name", alice, "transfer", a(carol), badArgs, badLen, nil, ledger.Event{}},
		{"transfer bad name", alice, "transfer", cat(a(carol), s("a.b")), badArgs, badChar, nil, ledger.Event{}},
		{"transfer", alice, "transfer", cat(a(bob), s("alice")), ok, "", nil, ledger.Event{Name: "transferred", Data: cat(a(bob), s("alice"))}},
		{"resolve transferred", carol, "resolve", s("alice"), ok, "", a(bob), ledger.Event{}},
		{"transfer back by old owner", alice, "transfer", cat(a(alice), s("alice")), aborted, "not the owner", nil, ledger.Event{}},
		{"count unchanged by transfer", alice, "count", nil, ok, "", u64(3), ledger.Event{}},
		{"release by non-owner", alice, "release", s("alice"), aborted, "not the owner", nil, ledger.Event{}},
		{"release free", alice, "release", s("bob"), aborted, "not registered", nil, ledger.Event{}},
		{"release", bob, "release", s("alice"), ok, "", nil, ledger.Event{Name: "released", Data: s("alice")}},
		{"resolve released", bob, "resolve", s("alice"), aborted, "not registered", nil, ledger.Event{}},
		{"count after release", alice, "count", nil, ok, "", u64(2), ledger.Event{}},
		{"register released", carol, "register", s("alice"), ok, "", nil, ledger.Event{Name: "registered", Data: s("alice")}},
		{"resolve re-registered", alice, "resolve", s("alice"), ok, "", a(carol), ledger.Event{}},
		{"release again", carol, "release", s("alice"), ok, "", nil, ledger.Event{Name: "released", Data: s("alice")}},
		{"release 32-byte", bob, "release", s(long), ok, "", nil, ledger.Event{Name: "released", Data: s(long)}},
		{"release last", carol, "release", s("a-0"), ok, "", nil, ledger.Event{Name: "released", Data: s("a-0")}},
		{"count of none again", alice, "count", nil, ok, "", u64(0), ledger.Event{}},
		{"no such function", alice, "rename", s("alice"), ledger.StatusUnknownFunction, `contract has no function "rename"`, nil, ledger.Event{}},
	}
}

// newProgram compiles the registry on a fresh VM.
func newProgram(t testing.TB, cfg vm.Config) *vm.Program {
	t.Helper()
	ctx := context.Background()
	v, err := vm.New(ctx, cfg)
	if err != nil {
		t.Fatalf("vm.New = %v", err)
	}
	t.Cleanup(func() { v.Close(ctx) })
	p, err := v.Compile(ctx, Wasm)
	if err != nil {
		t.Fatalf("Compile(registry.wasm) = %v", err)
	}
	return p
}

func run(p *vm.Program, st vm.State, caller ledger.Address, function string, args []byte, gas uint64) vm.Result {
	c := vm.Call{Contract: contract, Caller: caller, Nonce: 1, Height: 7, Function: function, Args: args, GasLimit: gas}
	return p.Run(context.Background(), vm.NewEnv(st, c), function)
}

// play runs the steps in order from an empty state, applying the writes of
// each call that succeeds, and returns the results and the final state.
func play(p *vm.Program) ([]vm.Result, vm.MapState) {
	st := vm.MapState{}
	var rs []vm.Result
	for _, s := range steps() {
		r := run(p, st, s.caller, s.function, s.args, 1_000_000)
		if r.Status == ledger.StatusOK {
			st.Apply(r)
		}
		rs = append(rs, r)
	}
	return rs, st
}

func TestRegistry(t *testing.T) {
	results, st := play(newProgram(t, vm.DefaultConfig()))
	for i, s := range steps() {
		t.Run(s.name, func(t *testing.T) { s.check(t, results[i]) })
	}
	if len(st) != 0 {
		t.Errorf("state after releasing every name = %q, want empty (the count is deleted at 0)", st)
	}
}

// check holds a step's result to what the step wants.
func (s step) check(t *testing.T, r vm.Result) {
	t.Helper()
	if r.Status != s.status || r.Error != s.msg || !bytes.Equal(r.Output, s.out) {
		t.Errorf("%s(%q) = %v %q output %x, want %v %q output %x", s.function, s.args, r.Status, r.Error, r.Output, s.status, s.msg, s.out)
	}
	if r.GasUsed == 0 || r.GasUsed < r.HostGas || r.Path != ledger.PathVM {
		t.Errorf("%s(%q) used %d gas (%d host) on path %v, want some gas on the vm path", s.function, s.args, r.GasUsed, r.HostGas, r.Path)
	}
	var want []ledger.Event
	if s.event.Name != "" {
		want = []ledger.Event{s.event}
	}
	if !reflect.DeepEqual(r.Events, want) {
		t.Errorf("%s(%q) events = %v, want %v", s.function, s.args, r.Events, want)
	}
	readOnly := s.function == "resolve" || s.function == "count"
	if (r.Status != ledger.StatusOK || readOnly) && len(r.Writes) != 0 {
		t.Errorf("%s(%q) = %v with writes %q, want none", s.function, s.args, r.Status, r.Writes)
	}
	if r.Status == ledger.StatusOK && !readOnly && len(r.Writes) == 0 {
		t.Errorf("%s(%q) = ok with no writes, want its change to the registry", s.function, s.args)
	}
}

// TestRegistryDeterministic replays the steps on fresh VMs, pooled and
// fresh-instance: every result, gas included, is the same.
func TestRegistryDeterministic(t *testing.T) {
	first, _ := play(newProgram(t, vm.DefaultConfig()))
	fresh := vm.DefaultConfig()
	fresh.Fresh = true
	for name, cfg := range map[string]vm.Config{"pooled": vm.DefaultConfig(), "fresh": fresh} {
		again, _ := play(newProgram(t, cfg))
		for i, s := range steps() {
			if !reflect.DeepEqual(again[i], first[i]) {
				t.Errorf("%s replay, step %q: %+v, first run %+v", name, s.name, again[i], first[i])
			}
		}
	}
}

// TestRegistryOutOfGas runs register with less gas than it needs: it fails
// out_of_gas, using exactly its limit and changing nothing.
func TestRegistryOutOfGas(t *testing.T) {
	p := newProgram(t, vm.DefaultConfig())
	need := run(p, vm.MapState{}, alice, "register", []byte("alice"), 1_000_000)
	if need.Status != ledger.StatusOK {
		t.Fatalf("register with gas to spare = %v %q, want ok", need.Status, need.Error)
	}
	for _, limit := range []uint64{0, 1, vm.GasCall - 1, vm.GasCall, vm.GasCall + 1, need.GasUsed / 2, need.GasUsed - 1} {
		r := run(p, vm.MapState{}, alice, "register", []byte("alice"), limit)
		if r.Status != ledger.StatusOutOfGas || r.GasUsed != limit || r.Writes != nil || r.Events != nil || r.Output != nil {
			t.Errorf("register with %d gas = %v %q, %d gas, writes %q, events %v; want out_of_gas using all %d and no effects",
				limit, r.Status, r.Error, r.GasUsed, r.Writes, r.Events, limit)
		}
	}
	if r := run(p, vm.MapState{}, alice, "register", []byte("alice"), need.GasUsed); !reflect.DeepEqual(r, need) {
		t.Errorf("register with exactly the %d gas it needs = %+v, want %+v", need.GasUsed, r, need)
	}
}
