package instrument_test

import (
	"context"
	"testing"
	"time"

	"github.com/dualchain/dualchain/vm/instrument"
	"github.com/tetratelabs/wazero"
)

func TestPhases(t *testing.T) {
	plain := buildGo(t)
	t0 := time.Now()
	m := mustInstrument(t, plain, toolchainOptions())
	t.Logf("instrument %v", time.Since(t0))
	t0 = time.Now()
	rt := wazero.NewRuntimeWithConfig(context.Background(), wazero.NewRuntimeConfigInterpreter())
	rt.CompileModule(context.Background(), plain)
	t.Logf("interp compile %v", time.Since(t0))
	t0 = time.Now()
	newRuntime(t).CompileModule(context.Background(), m.Wasm)
	t.Logf("compiler compile %v", time.Since(t0))
	t0 = time.Now()
	gas := int64(1 << 50)
	runWASI(t, m.Wasm, &gas)
	t.Logf("compile+run %v gas %d", time.Since(t0), 1<<50-gas)
	_ = instrument.GasGlobal
}
