package vm

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dualchain/dualchain/ledger"
)

// State is the state a call reads, by full state key (ledger.StorageKey and
// friends). A call never writes it: its writes come back in Result.
type State interface {
	Get(key []byte) []byte
}

// Call is what a transaction asks of a contract.
type Call struct {
	Contract ledger.Address
	Caller   ledger.Address
	Nonce    uint64 // the transaction's; deploy derives the new address from it
	Height   uint64 // of the block the call runs in
	Function string
	Args     []byte
	GasLimit uint64
}

// Write is one state key a call set; an empty value deletes the key.
type Write struct {
	Key, Value []byte
}

// String shows the key and value in hex, for logs and test failures.
func (w Write) String() string { return fmt.Sprintf("%x=%x", w.Key, w.Value) }

// Result is a call's outcome. On any status but OK, Writes, Events and
// Output are empty: a failed call changes nothing but the gas it used.
type Result struct {
	Status  ledger.Status
	Error   string
	GasUsed uint64
	Path    ledger.Path
	Output  []byte
	Events  []ledger.Event
	Writes  []Write // in the order the call made them; a key may repeat
	// HostGas is the part of GasUsed the call's base cost and its host
	// functions charged; the rest paid for instructions. Zero when the
	// call ran out of gas: where it ran out differs between the paths.
	HostGas uint64
	// Trace is the call's memory trace when the VM was configured to
	// record one (Config.Trace) and the call ran in the VM (Program.Run,
	// whatever its status; without frames when no code ran); nil
	// otherwise, as for native calls and deploys. Same ignores it.
	Trace *ledger.Trace
}

// Same reports whether r and o are the same outcome, the path aside: what
// `--exec both` compares. A nil and an empty byte string are the same.
func (r Result) Same(o Result) bool {
	if r.Status != o.Status || r.Error != o.Error || r.GasUsed != o.GasUsed || r.HostGas != o.HostGas ||
		!bytes.Equal(r.Output, o.Output) || len(r.Events) != len(o.Events) || len(r.Writes) != len(o.Writes) {
		return false
	}
	for i, e := range r.Events {
		if e.Name != o.Events[i].Name || !bytes.Equal(e.Data, o.Events[i].Data) {
			return false
		}
	}
	for i, w := range r.Writes {
		if !bytes.Equal(w.Key, o.Writes[i].Key) || !bytes.Equal(w.Value, o.Writes[i].Value) {
			return false
		}
	}
	return true
}

// Env is one call's view of the chain and its effects: the host functions
// of the VM and the native functions both work through it, so both charge
// the same gas for the same operations.
type Env struct {
	call  Call
	state State

	limit   uint64 // the call's gas limit, at most maxGas
	left    int64  // gas left; below zero, exhausted
	hostGas uint64

	writes  []Write
	written map[string]int // state key -> index in writes
	events  []ledger.Event
	output  []byte
}

// NewEnv starts a call against st.
func NewEnv(st State, c Call) *Env {
	limit := min(c.GasLimit, maxGas)
	return &Env{call: c, state: st, limit: limit, left: int64(limit)}
}

// maxGas bounds a call's gas so no count can overflow; no call could spend
// it.
const maxGas = 1 << 62

// Each method below charges what the host function of the same name does
// (docs/contract-abi.md), so a native function that makes the same calls in
// the same order as its WebAssembly twin uses the same host gas.

// Address returns the called contract's address.
func (e *Env) Address() ledger.Address {
	e.chargeHost(GasHostCall + GasCopyByte*uint64(len(e.call.Contract)))
	return e.call.Contract
}

// Caller returns the address that signed the transaction.
func (e *Env) Caller() ledger.Address {
	e.chargeHost(GasHostCall + GasCopyByte*uint64(len(e.call.Caller)))
	return e.call.Caller
}

// Height returns the height of the block the call runs in.
func (e *Env) Height() uint64 {
	e.chargeHost(GasHostCall)
	return e.call.Height
}

// InputLen returns the length of the call's arguments.
func (e *Env) InputLen() int {
	e.chargeHost(GasHostCall)
	return len(e.call.Args)
}

// Input returns the call's arguments.
func (e *Env) Input() []byte {
	e.chargeHost(GasHostCall + GasCopyByte*uint64(len(e.call.Args)))
	return e.call.Args
}

// callError is how a call stops early: abort, a broken limit, or gas.
type callError struct {
	status ledger.Status
	msg    string
}

func (e *callError) Error() string { return e.status.String() + ": " + e.msg }

var errOutOfGas = &callError{ledger.StatusOutOfGas, "out of gas"}

// Charge takes n gas, and stops the call when there is not enough.
func (e *Env) Charge(n uint64) {
	if n > maxGas || e.left < int64(n) {
		e.left = -1
		panic(errOutOfGas)
	}
	e.left -= int64(n)
}

// chargeHost is Charge for the host's own costs, which the native twins
// must match and the VM's instruction count does not include.
func (e *Env) chargeHost(n uint64) {
	e.Charge(n)
	e.hostGas += n
}

// Abort stops the call with a status and message. Codes other than the
// ones a contract may use become StatusAborted.
func (e *Env) Abort(code ledger.Status, msg string) {
	e.chargeHost(GasHostCall)
	switch code {
	case ledger.StatusInsufficientFunds, ledger.StatusOverflow, ledger.StatusBadArgs:
	default:
		code = ledger.StatusAborted
	}
	if len(msg) > MaxMessageSize {
		msg = msg[:MaxMessageSize]
	}
	panic(&callError{code, msg})
}

func (e *Env) fail(format string, args ...any) {
	panic(&callError{ledger.StatusAborted, fmt.Sprintf(format, args...)})
}

// Read returns the value of the contract's storage key, at most max bytes
// of it, and the value's full length.
func (e *Env) Read(key []byte, max int) (value []byte, n int) {
	e.checkKey(key)
	v := e.get(ledger.StorageKey(e.call.Contract, key))
	copied := min(len(v), max)
	e.chargeHost(GasHostCall + GasRead + GasReadByte*uint64(len(key)+copied))
	return v[:copied], len(v)
}

func (e *Env) get(stateKey []byte) []byte {
	if i, ok := e.written[string(stateKey)]; ok {
		return e.writes[i].Value
	}
	return e.state.Get(stateKey)
}

// Write sets the contract's storage key; an empty value deletes it.
func (e *Env) Write(key, value []byte) {
	e.checkKey(key)
	e.chargeHost(GasHostCall + GasWrite + GasWriteByte*uint64(len(key)+len(value)))
	if len(value) > MaxValueSize {
		e.fail("value of %d bytes, limit %d", len(value), MaxValueSize)
	}
	e.set(ledger.StorageKey(e.call.Contract, key), value)
}

func (e *Env) set(stateKey, value []byte) {
	if e.written == nil {
		e.written = make(map[string]int, 4)
	}
	e.written[string(stateKey)] = len(e.writes)
	e.writes = append(e.writes, Write{Key: stateKey, Value: value})
}

func (e *Env) checkKey(key []byte) {
	if len(key) > MaxKeySize {
		e.chargeHost(GasHostCall)
		e.fail("storage key of %d bytes, limit %d", len(key), MaxKeySize)
	}
}

// Emit adds an event to the receipt.
func (e *Env) Emit(name string, data []byte) {
	e.chargeHost(GasHostCall + GasEmit + GasEmitByte*uint64(len(name)+len(data)))
	switch {
	case len(name) > MaxEventName:
		e.fail("event name of %d bytes, limit %d", len(name), MaxEventName)
	case len(data) > MaxEventData:
		e.fail("event data of %d bytes, limit %d", len(data), MaxEventData)
	case len(e.events) == MaxEvents:
		e.fail("more than %d events", MaxEvents)
	}
	e.events = append(e.events, ledger.Event{Name: name, Data: data})
}

// Output sets the call's result; the last call wins.
func (e *Env) Output(b []byte) {
	e.chargeHost(GasHostCall + GasCopyByte*uint64(len(b)))
	if len(b) > MaxOutputSize {
		e.fail("output of %d bytes, limit %d", len(b), MaxOutputSize)
	}
	e.output = b
}

// gasUsed is what the call has cost so far.
func (e *Env) gasUsed() uint64 {
	if e.left < 0 {
		return e.limit
	}
	return e.limit - uint64(e.left)
}

// result ends the call: err is nil when it returned normally.
func (e *Env) result(path ledger.Path, err error) Result {
	r := Result{Status: ledger.StatusOK, Path: path}
	var ce *callError
	switch {
	case e.left < 0:
		r.Status, r.Error = ledger.StatusOutOfGas, errOutOfGas.msg
	case errors.As(err, &ce):
		r.Status, r.Error = ce.status, ce.msg
	case err != nil:
		r.Status, r.Error = ledger.StatusAborted, err.Error()
	default:
		r.Output, r.Events, r.Writes = e.output, e.events, e.writes
	}
	r.GasUsed = e.gasUsed()
	if r.Status != ledger.StatusOutOfGas {
		r.HostGas = e.hostGas
	}
	return r
}

// stopped, deferred, turns a call stopped early (abort, a limit, out of
// gas) into its result. Any other panic is a bug and goes on.
func (e *Env) stopped(path ledger.Path, r *Result) {
	rec := recover()
	if rec == nil {
		return
	}
	ce, ok := rec.(*callError)
	if !ok {
		panic(rec)
	}
	*r = e.result(path, ce)
}

// NativeFunc is a contract function written in Go: the optimistic native
// twin of an export of a WebAssembly module. It must do what the export
// does, through the same Env operations in the same order, and Charge the
// export's instruction gas.
type NativeFunc func(*Env)

// RunNative runs fn as a call, the way the VM runs an export.
func RunNative(env *Env, fn NativeFunc) (r Result) {
	defer env.stopped(ledger.PathNative, &r)
	env.chargeHost(GasCall)
	fn(env)
	return env.result(ledger.PathNative, nil)
}
