package token

import (
	"context"
	"testing"

	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// BenchmarkTransfer runs one transfer at a time on each path, against a
// map of balances, with gas metering on and every VM call in a clean module
// state: restored from a pooled instance, or a fresh instance per call.
func BenchmarkTransfer(b *testing.B) {
	call := vm.Call{Contract: Address, Caller: alice, Function: FuncTransfer, Args: EncodeTransfer(bob, 1), GasLimit: TransferGas}
	paths := []struct {
		name string
		run  func(b *testing.B) func(vm.State) vm.Result
	}{
		{"native", func(*testing.B) func(vm.State) vm.Result {
			return func(st vm.State) vm.Result { return runNative(st, call) }
		}},
		{"vm-pooled", func(b *testing.B) func(vm.State) vm.Result {
			p := newProgram(b, vm.DefaultConfig())
			return func(st vm.State) vm.Result { return runVM(p, st, call) }
		}},
		{"vm-fresh", func(b *testing.B) func(vm.State) vm.Result {
			p := newProgram(b, freshConfig())
			return func(st vm.State) vm.Result { return runVM(p, st, call) }
		}},
	}
	for _, path := range paths {
		b.Run(path.name, func(b *testing.B) {
			run := path.run(b)
			st := balances(alice, uint64(1<<62), bob, uint64(1))
			b.ReportAllocs()
			for b.Loop() {
				r := run(st)
				if r.Status != ledger.StatusOK {
					b.Fatalf("transfer = %v %q", r.Status, r.Error)
				}
				st.Apply(r)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
		})
	}
}

// BenchmarkCompile measures validating, instrumenting and compiling the
// token's module on a new VM each time: with nothing cached, and with the
// compiled code in the on-disk cache a restarted node finds.
func BenchmarkCompile(b *testing.B) {
	ctx := context.Background()
	cached := vm.DefaultConfig()
	cached.CacheDir = b.TempDir()
	for name, cfg := range map[string]vm.Config{"cold": vm.DefaultConfig(), "disk-cache": cached} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				v, err := vm.New(ctx, cfg)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.Compile(ctx, Wasm); err != nil {
					b.Fatal(err)
				}
				v.Close(ctx)
			}
		})
	}
}
