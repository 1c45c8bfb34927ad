package vm

import (
	"context"
	"crypto/sha256"

	"github.com/dualchain/dualchain/ledger"
)

// Deploy runs a deploy transaction: it validates, instruments and compiles
// the module in the call's arguments and stores it at the new contract's
// address. The result's output is that address.
func (v *VM) Deploy(ctx context.Context, env *Env) (r Result) {
	defer env.stopped(ledger.PathVM, &r)
	code := env.call.Args
	env.chargeHost(GasCall + DeployGas(len(code)))
	if _, err := v.Compile(ctx, code); err != nil {
		panic(&callError{ledger.StatusBadArgs, err.Error()})
	}
	addr := ledger.DeployedAddress(env.call.Caller, env.call.Nonce)
	if len(env.get(ledger.CodeKey(addr))) != 0 {
		env.fail("contract %s already exists", addr) // a nonce is never used twice
	}
	h := ledger.Hash(sha256.Sum256(code))
	env.set(ledger.CodeKey(addr), h[:])
	if blob := ledger.CodeBlobKey(h); len(env.get(blob)) == 0 {
		env.set(blob, code) // else deployed before: contracts share code
	}
	env.output = addr[:]
	env.events = append(env.events, ledger.Event{Name: "deployed", Data: h[:]})
	return env.result(ledger.PathVM, nil)
}
