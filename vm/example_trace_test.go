package vm_test

import (
	"context"
	"fmt"
	"os"

	"github.com/dualchain/dualchain/vm"
)

// A VM with Config.Trace returns each call's frames: here an export that
// calls an unexported function (named by its index), which calls an
// exported one that grows memory by a page.
func ExampleConfig_trace() {
	ctx := context.Background()
	cfg := vm.DefaultConfig()
	cfg.Trace = true
	v, err := vm.New(ctx, cfg)
	if err != nil {
		panic(err)
	}
	defer v.Close(ctx)
	code, _ := os.ReadFile("testdata/trace.wasm")
	p, err := v.Compile(ctx, code)
	if err != nil {
		panic(err)
	}
	r := p.Run(ctx, vm.NewEnv(vm.MapState{}, vm.Call{Function: "run", GasLimit: 1e6}), "run")
	fmt.Println(r.Status, r.GasUsed, "gas")
	for _, f := range r.Trace.Frames {
		fmt.Printf("%*s%s: %d gas, memory %d→%d bytes, +%d pages for %d gas, %d loads, %d stores\n",
			2*f.Depth, "", f.Function, f.Gas, f.MemBefore, f.MemAfter, f.GrowPages, f.GrowGas, f.Loads, f.Stores)
	}
	// Output:
	// ok 2543 gas
	// run: 7 gas, memory 65536→131072 bytes, +0 pages for 0 gas, 1 loads, 1 stores
	//   func[2]: 27 gas, memory 65536→131072 bytes, +0 pages for 0 gas, 1 loads, 1 stores
	//     leaf: 2009 gas, memory 65536→131072 bytes, +1 pages for 2000 gas, 0 loads, 1 stores
}
