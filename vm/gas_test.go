package vm

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/vm/instrument"
)

// TestScheduleDocumented holds docs/contract-abi.md's gas table and limits
// to the constants in gas.go.
func TestScheduleDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/contract-abi.md")
	if err != nil {
		t.Fatal(err)
	}
	n := func(v int) string { // 1000 -> "1,000", as the doc writes numbers
		s := fmt.Sprint(v)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	}
	rows := []string{
		fmt.Sprintf("| a call's base cost (entry, clean state) | %s |", n(GasCall)),
		fmt.Sprintf("| each page of initial memory past the first, per call (restoring the clean state) | %s |", n(GasMemoryPage)),
		fmt.Sprintf("| each host function call | %s, plus", n(GasHostCall)),
		fmt.Sprintf("| `storage_read` | %s + %s per key byte and per value byte returned |", n(GasRead), n(GasReadByte)),
		fmt.Sprintf("| `storage_write` | %s + %s per key byte and per value byte |", n(GasWrite), n(GasWriteByte)),
		fmt.Sprintf("| `emit` | %s + %s per name and data byte |", n(GasEmit), n(GasEmitByte)),
		fmt.Sprintf("| `input`, `output`, `caller`, `address` | %s per byte copied |", n(GasCopyByte)),
		fmt.Sprintf("| `memory.grow` | %s per page (64 KiB) asked for, even when", n(GasGrowPage)),
		fmt.Sprintf("| `memory.fill`, `memory.copy`, `memory.init` | 1 per %s bytes, rounded up;", n(GasBulkBytes)),
		fmt.Sprintf("| deploy | the base cost, %s, + %s + %s per byte of code |", n(GasCall), n(GasDeploy), n(GasDeployByte)),
		fmt.Sprintf("Limits: %d pages (%d MiB) of memory, %d KiB of code, %s functions,\n%s globals, %s locals per function, %s table elements, and %s nested calls of\nthe module's own functions: the %s",
			MaxMemoryPages, MaxMemoryPages/16, MaxCodeSize>>10, n(MaxFunctions), n(MaxGlobals), n(instrument.DefaultOptions().MaxLocals), n(MaxTableSize), n(MaxCallDepth), n(MaxCallDepth+1)),
		fmt.Sprintf("keys are 0 to %d bytes", MaxKeySize),
		fmt.Sprintf("values at\nmost %d KiB", MaxValueSize>>10),
		fmt.Sprintf("Event names are 0 to %d bytes, event\ndata at most %d KiB, %d events per call; output at most %d KiB.",
			MaxEventName, MaxEventData>>10, MaxEvents, MaxOutputSize>>10),
		fmt.Sprintf("cut to %d", MaxMessageSize),
	}
	for _, row := range rows {
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/contract-abi.md lacks %q: the doc and vm/gas.go disagree", row)
		}
	}
}
