package vm

import (
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
