package node

import (
	"context"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// tracingDispatcher is testDispatcher on a VM that records traces, in mode.
func tracingDispatcher(t testing.TB, mode string) *dispatcher {
	t.Helper()
	cfg := vm.DefaultConfig()
	cfg.Trace = true
	v, err := vm.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close(context.Background()) })
	return newDispatcher(v, mode, testLogger(t))
}

// TestExecuteCollectsTraces executes transfers on a tracing VM: the block
// has a trace for each call that ran in the VM, with frames. It needs the
// VM's traces (vm.Config.Trace).
func TestExecuteCollectsTraces(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	base := tokenState(state{string(token.BalanceKey(alice.Address)): ledger.EncodeUint64(100)})
	tests := []struct {
		mode   string
		traced bool
	}{{ExecVM, true}, {ExecBoth, true}, {ExecNative, false}}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			ex := executeIn(t, tracingDispatcher(t, tt.mode), hotchain.Meta{}, base, txs(alice, bob, 0, 5, 1000, 7))
			if len(ex.block.Txs) != 3 {
				t.Fatalf("block of %d txs, want 3", len(ex.block.Txs))
			}
			if !tt.traced {
				if len(ex.traces) != 0 {
					t.Fatalf("traces = %+v, want none: every call ran natively", ex.traces)
				}
				return
			}
			if len(ex.traces) != 3 {
				t.Fatalf("%d traces, want one per tx (3)", len(ex.traces))
			}
			for i, tr := range ex.traces {
				if tr.Index != uint32(i) || len(tr.Trace.Frames) == 0 || tr.Trace.Frames[0].Depth != 0 {
					t.Errorf("trace %d = %+v, want tx %d's with frames from depth 0", i, tr, i)
				}
				if tr.Trace.Frames[0].Function != token.FuncTransfer {
					t.Errorf("trace %d's first frame is %q, want %q", i, tr.Trace.Frames[0].Function, token.FuncTransfer)
				}
			}
			if err := hotchain.CheckTraces(ex.traces, len(ex.block.Txs)); err != nil {
				t.Fatalf("CheckTraces = %v", err)
			}
			data, _, err := encodeBlockEntry(ex)
			if err != nil {
				t.Fatal(err)
			}
			checkDecodeEntry(t, data)
		})
	}
}

// TestAddTrace holds a block's traces to ledger.MaxTraceFrames frames each
// and maxBlockTraceBytes in all.
func TestAddTrace(t *testing.T) {
	frames := func(n int) *ledger.Trace {
		tr := &ledger.Trace{Frames: make([]ledger.Frame, n), Dropped: 1}
		for i := range tr.Frames {
			tr.Frames[i].Function = strings.Repeat("x", 100)
		}
		return tr
	}
	ex := &execution{}
	ex.addTrace(0, frames(ledger.MaxTraceFrames+5))
	if got := ex.traces[0].Trace; len(got.Frames) != ledger.MaxTraceFrames || got.Dropped != 6 {
		t.Fatalf("trace of %d frames kept %d, dropped %d; want %d, dropped 6", ledger.MaxTraceFrames+5, len(got.Frames), got.Dropped, ledger.MaxTraceFrames)
	}
	for i := uint32(1); ex.traceBytes <= maxBlockTraceBytes && i < 10_000; i++ {
		ex.addTrace(i, frames(ledger.MaxTraceFrames))
	}
	last := ex.traces[len(ex.traces)-1].Trace
	if len(last.Frames) != 0 || last.Dropped != ledger.MaxTraceFrames+1 {
		t.Fatalf("trace past the block's budget kept %d frames, dropped %d; want 0, dropped %d", len(last.Frames), last.Dropped, ledger.MaxTraceFrames+1)
	}
	data, err := ledger.Marshal(ex.traces)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > maxBlockTraceBytes {
		t.Fatalf("traces encode to %d bytes, over the budget of %d", len(data), maxBlockTraceBytes)
	}
	if err := hotchain.CheckTraces(ex.traces, len(ex.traces)); err != nil {
		t.Fatalf("CheckTraces = %v", err)
	}
}
