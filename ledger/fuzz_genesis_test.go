package ledger_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dualchain/dualchain/ledger"
)

// FuzzLoadGenesis checks the genesis file reader, whose file an operator
// copies between machines: it never panics, what it accepts is valid (its
// supply fits 64 bits), and it writes and reads back as the same genesis.
func FuzzLoadGenesis(f *testing.F) {
	dir := f.TempDir()
	good := &ledger.Genesis{ChainID: "c", Time: time.Unix(5, 0).UTC(),
		Alloc: []ledger.Allocation{{Address: ledger.Address{1}, Amount: 10}}}
	path := filepath.Join(dir, "seed.json")
	if err := ledger.WriteGenesisFile(path, good); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"chain_id":"c","alloc":[{"address":"00","amount":18446744073709551615},{"address":"01","amount":1}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, out := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		g, err := ledger.LoadGenesisFile(in)
		if err != nil {
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("LoadGenesisFile accepted a genesis Validate refuses: %v", err)
		}
		if err := ledger.WriteGenesisFile(out, g); err != nil {
			t.Fatal(err)
		}
		again, err := ledger.LoadGenesisFile(out)
		if err != nil || again.Hash() != g.Hash() {
			t.Fatalf("genesis written and read back = %v, hash %v; want hash %v", err, again, g.Hash())
		}
	})
}
