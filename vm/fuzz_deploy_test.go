package vm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// fuzzCallGas bounds each call FuzzDeploy runs, so a looping module stops
// in well under a millisecond of gas, long before the deadline.
const fuzzCallGas = 200_000

// FuzzDeploy sends arbitrary modules down the whole deploy path, as a
// deploy transaction does: admission's Check, then Deploy (validate,
// instrument, compile, store), then a call of each of the first exports
// with a small gas limit. Nothing panics; Check and Deploy agree on what
// deploys (admission must not accept a module the block then refuses, nor
// the reverse); a refusal is bad_args naming the reason; and every call
// ends within its gas with a known status and no effects unless ok.
func FuzzDeploy(f *testing.F) {
	for _, pattern := range []string{"testdata/*.wasm", "testdata/refused/*.wasm"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			code, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(code)
		}
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add([]byte("not wasm"))
	v := newVM(f, DefaultConfig())
	f.Fuzz(func(t *testing.T, code []byte) {
		ctx := context.Background()
		c := Call{Contract: ledger.DeployAddress, Caller: caller, Function: ledger.FuncDeploy, Args: code,
			GasLimit: GasCall + DeployGas(len(code))}
		r := v.Deploy(ctx, NewEnv(MapState{}, c))
		checkErr := Check(code)
		if (checkErr == nil) != (r.Status == ledger.StatusOK) {
			t.Fatalf("Check = %v but Deploy = %v %q: admission and deploy disagree", checkErr, r.Status, r.Error)
		}
		if r.Status != ledger.StatusOK {
			if !errors.Is(checkErr, ErrInvalid) || r.Status != ledger.StatusBadArgs || r.Error == "" || r.Writes != nil {
				t.Fatalf("refused deploy = %v %q writes %d, Check = %v; want bad_args with a reason, no writes, ErrInvalid", r.Status, r.Error, len(r.Writes), checkErr)
			}
			return
		}
		p, err := v.Compile(ctx, code)
		if err != nil {
			t.Fatalf("Compile after a deploy = %v", err)
		}
		for i, fn := range p.Functions {
			if i == 4 {
				break
			}
			checkFuzzCall(t, run(p, MapState{}, fn, []byte("args"), fuzzCallGas), fn)
		}
	})
}

// checkFuzzCall checks one call's result stays within the VM's contract.
func checkFuzzCall(t *testing.T, r Result, fn string) {
	t.Helper()
	if r.Status > ledger.StatusAborted {
		t.Fatalf("call %q = status %d, not a known status", fn, r.Status)
	}
	if r.GasUsed > fuzzCallGas {
		t.Fatalf("call %q used %d gas, limit %d", fn, r.GasUsed, fuzzCallGas)
	}
	if r.Status != ledger.StatusOK && (r.Writes != nil || r.Events != nil || r.Output != nil) {
		t.Fatalf("failed call %q (%v %q) left effects", fn, r.Status, r.Error)
	}
}
