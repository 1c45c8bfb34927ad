package ledger_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/ledger"
)

func testGenesis() *ledger.Genesis {
	return &ledger.Genesis{
		ChainID: testChainID,
		Time:    time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		Alloc: []ledger.Allocation{
			{Address: testKey(1).Address, Amount: 1000},
			{Address: testKey(2).Address, Amount: 2000},
		},
	}
}

func TestGenesisValidate(t *testing.T) {
	a, b := testKey(1).Address, testKey(2).Address
	tests := []struct {
		name    string
		mutate  func(*ledger.Genesis)
		wantErr error
	}{
		{"valid", func(*ledger.Genesis) {}, nil},
		{"no allocations", func(g *ledger.Genesis) { g.Alloc = nil }, nil},
		{"supply exactly max uint64", func(g *ledger.Genesis) {
			g.Alloc = []ledger.Allocation{{Address: a, Amount: math.MaxUint64 - 1}, {Address: b, Amount: 1}}
		}, nil},
		{"chain id at limit", func(g *ledger.Genesis) { g.ChainID = strings.Repeat("c", ledger.MaxNameSize) }, nil},
		{"empty chain id", func(g *ledger.Genesis) { g.ChainID = "" }, ledger.ErrBadGenesis},
		{"chain id too long", func(g *ledger.Genesis) { g.ChainID = strings.Repeat("c", ledger.MaxNameSize+1) }, ledger.ErrBadGenesis},
		{"duplicate address", func(g *ledger.Genesis) { g.Alloc = append(g.Alloc, ledger.Allocation{Address: a, Amount: 1}) }, ledger.ErrBadGenesis},
		{"duplicate zero amounts", func(g *ledger.Genesis) {
			g.Alloc = []ledger.Allocation{{Address: a, Amount: 0}, {Address: a, Amount: 0}}
		}, ledger.ErrBadGenesis},
		{"supply overflows", func(g *ledger.Genesis) {
			g.Alloc = []ledger.Allocation{{Address: a, Amount: math.MaxUint64}, {Address: b, Amount: 1}}
		}, ledger.ErrBadGenesis},
		{"supply overflows late", func(g *ledger.Genesis) {
			g.Alloc = []ledger.Allocation{{Address: a, Amount: 1}, {Address: b, Amount: math.MaxUint64 / 2}, {Address: testKey(3).Address, Amount: math.MaxUint64 / 2}, {Address: testKey(4).Address, Amount: 1}}
		}, ledger.ErrBadGenesis},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGenesis()
			tt.mutate(g)
			if err := g.Validate(); !errMatches(err, tt.wantErr) {
				t.Errorf("Validate(%+v) = %v, want %v", g, err, tt.wantErr)
			}
		})
	}
}

func TestGenesisSupply(t *testing.T) {
	if got := testGenesis().Supply(); got != 3000 {
		t.Errorf("Supply() = %d, want 3000", got)
	}
}

func TestGenesisHash(t *testing.T) {
	base := testGenesis().Hash()
	if again := testGenesis().Hash(); again != base {
		t.Errorf("Hash() = %v then %v, want stable", base, again)
	}
	// The same instant in another zone is the same genesis.
	g := testGenesis()
	g.Time = g.Time.In(time.FixedZone("x", 3600))
	if got := g.Hash(); got != base {
		t.Errorf("Hash() with time in another zone = %v, want %v", got, base)
	}
	mutations := map[string]func(*ledger.Genesis){
		"chain id":    func(g *ledger.Genesis) { g.ChainID = "other" },
		"time":        func(g *ledger.Genesis) { g.Time = g.Time.Add(time.Nanosecond) },
		"amount":      func(g *ledger.Genesis) { g.Alloc[0].Amount++ },
		"address":     func(g *ledger.Genesis) { g.Alloc[0].Address = testKey(9).Address },
		"order":       func(g *ledger.Genesis) { g.Alloc[0], g.Alloc[1] = g.Alloc[1], g.Alloc[0] },
		"allocations": func(g *ledger.Genesis) { g.Alloc = g.Alloc[:1] },
	}
	for name, mutate := range mutations {
		g := testGenesis()
		mutate(g)
		if g.Hash() == base {
			t.Errorf("Hash() after changing the %s = %v, want a different hash", name, base)
		}
	}
}

func TestGenesisFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "genesis.json")
	g := testGenesis()
	if err := ledger.WriteGenesisFile(path, g); err != nil {
		t.Fatalf("WriteGenesisFile = %v", err)
	}
	got, err := ledger.LoadGenesisFile(path)
	if err != nil {
		t.Fatalf("LoadGenesisFile(%s) = %v", path, err)
	}
	if !reflect.DeepEqual(got.Alloc, g.Alloc) || got.ChainID != g.ChainID || !got.Time.Equal(g.Time) || got.Hash() != g.Hash() {
		t.Errorf("LoadGenesisFile(WriteGenesisFile(%+v)) = %+v", g, got)
	}

	bad := []struct{ name, data string }{
		{"not JSON", "chain_id: x"},
		{"duplicate", `{"chain_id":"c","alloc":[{"address":"` + testKey(1).Address.String() + `","amount":1},{"address":"` + testKey(1).Address.String() + `","amount":2}]}`},
		{"empty chain id", `{"chain_id":"","alloc":[]}`},
		{"bad address", `{"chain_id":"c","alloc":[{"address":"dc12","amount":1}]}`},
		{"negative amount", `{"chain_id":"c","alloc":[{"address":"` + testKey(1).Address.String() + `","amount":-1}]}`},
		{"amount over 64 bits", `{"chain_id":"c","alloc":[{"address":"` + testKey(1).Address.String() + `","amount":18446744073709551616}]}`},
	}
	for _, tt := range bad {
		p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
		if err := os.WriteFile(p, []byte(tt.data), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.LoadGenesisFile(p); !errors.Is(err, ledger.ErrBadGenesis) || !strings.Contains(err.Error(), p) {
			t.Errorf("LoadGenesisFile(%s) = %v, want ErrBadGenesis naming the file", tt.name, err)
		}
	}
	if _, err := ledger.LoadGenesisFile(filepath.Join(dir, "absent.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadGenesisFile(absent) = %v, want os.ErrNotExist", err)
	}
}
