package vm

import (
	"context"
	"encoding/binary"
	"os"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// BenchmarkGasRate runs a tight loop until 10M gas run out, with the
// wall-clock backstop on (wazero checks it at every loop iteration) and
// off: the price of the backstop on loop-heavy code.
func BenchmarkGasRate(b *testing.B) {
	const gas = 10_000_000
	for _, name := range []string{"backstop", "no-backstop"} {
		b.Run(name, func(b *testing.B) {
			cfg := DefaultConfig()
			if name == "no-backstop" {
				cfg.Deadline = 0
			}
			p := compile(b, newVM(b, cfg), "hostile.wasm")
			for b.Loop() {
				if r := run(p, MapState{}, "loop", nil, gas); r.Status != ledger.StatusOutOfGas {
					b.Fatalf("loop = %v %q", r.Status, r.Error)
				}
			}
			b.ReportMetric(float64(gas)*float64(b.N)/b.Elapsed().Seconds(), "gas/s")
		})
	}
}

// tokenWasm is the token contract's module (contracts/token/token.wasm;
// vm must not import contracts, and the instrumenter's tests keep a copy).
func tokenWasm(t testing.TB) []byte {
	t.Helper()
	code, err := os.ReadFile("instrument/testdata/token.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// tokenBalance is the state key of a's balance in the token at contract:
// the token's storage key 'b' ‖ address.
func tokenBalance(a ledger.Address) string {
	return string(ledger.StorageKey(contract, append([]byte{'b'}, a[:]...)))
}

// BenchmarkTransfer runs the token's transfer in the VM on a pooled
// instance, one call at a time against a map of balances, with traces off
// and on (Config.Trace): the price of tracing a call of a few frames.
func BenchmarkTransfer(b *testing.B) {
	bob := ledger.Address{0xb0}
	args := binary.BigEndian.AppendUint64(append([]byte(nil), bob[:]...), 1)
	for _, traced := range []bool{false, true} {
		b.Run(map[bool]string{false: "trace=off", true: "trace=on"}[traced], func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Trace = traced
			p, err := newVM(b, cfg).Compile(context.Background(), tokenWasm(b))
			if err != nil {
				b.Fatal(err)
			}
			st := MapState{tokenBalance(caller): ledger.EncodeUint64(1 << 62)}
			b.ReportAllocs()
			for b.Loop() {
				r := run(p, st, "transfer", args, 1e6)
				if r.Status != ledger.StatusOK || (r.Trace != nil) != traced {
					b.Fatalf("transfer = %v %q, trace %v", r.Status, r.Error, r.Trace)
				}
				st.Apply(r)
			}
		})
	}
}
