package hotchain

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

func TestGenesisState(t *testing.T) {
	w := func(k, v string) ledger.Write { return ledger.Write{Key: []byte(k), Value: []byte(v)} }
	gen := &Genesis{Writes: []ledger.Write{w("a", "1"), w("b", "2"), w("a", "3"), w("c", ""), w("b", ""), w("d", "4")}}
	state, c, err := genesisState(gen)
	if err != nil {
		t.Fatalf("genesisState() error = %v", err)
	}
	var got []string
	for _, s := range state {
		got = append(got, fmt.Sprintf("%s=%s", s.Key, s.Value))
	}
	if want := "a=3 d=4"; strings.Join(got, " ") != want {
		t.Errorf("genesisState() state = %v, want %s", got, want)
	}
	var want Commitment
	want.Add([]byte("a"), []byte("3"))
	want.Add([]byte("d"), []byte("4"))
	if c != want {
		t.Errorf("genesisState() commitment = %v, want %v", c, want)
	}
	for _, bad := range []*Genesis{nil, {Writes: []ledger.Write{w("", "1")}}} {
		if _, _, err := genesisState(bad); !errors.Is(err, ErrBadGenesis) {
			t.Errorf("genesisState(%v) = %v, want %v", bad, err, ErrBadGenesis)
		}
	}
}

func TestResolveWrites(t *testing.T) {
	w := func(k, v string) ledger.Write { return ledger.Write{Key: []byte(k), Value: []byte(v)} }
	tests := []struct {
		name     string
		writes   []ledger.Write
		wantSets string
		wantDels string
	}{
		{"plain", []ledger.Write{w("a", "1"), w("b", "2")}, "a=1 b=2", ""},
		{"delete", []ledger.Write{w("a", "1"), w("b", "")}, "a=1", "b"},
		{"set then delete", []ledger.Write{w("a", "1"), w("a", "")}, "", "a"},
		{"delete then set", []ledger.Write{w("a", ""), w("a", "1")}, "a=1", ""},
		{"set delete set delete", []ledger.Write{w("a", "1"), w("a", ""), w("a", "2"), w("a", "")}, "", "a"},
		{"delete set delete set", []ledger.Write{w("a", ""), w("a", "1"), w("a", ""), w("a", "2"), w("a", "3")}, "a=2 a=3", ""},
		{"set twice", []ledger.Write{w("a", "1"), w("a", "2")}, "a=1 a=2", ""},
		{"delete twice", []ledger.Write{w("a", ""), w("b", "1"), w("a", "")}, "b=1", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sets, dels := resolveWrites(tt.writes)
			var gotSets, gotDels []string
			for _, s := range sets {
				gotSets = append(gotSets, fmt.Sprintf("%s=%s", s.Key, s.Value))
			}
			for _, d := range dels {
				gotDels = append(gotDels, string(d))
			}
			if got := fmt.Sprint(gotSets, gotDels); got != fmt.Sprint(splitWords(tt.wantSets), splitWords(tt.wantDels)) {
				t.Errorf("resolveWrites(%s) = %s, want sets [%s] dels [%s]", tt.name, got, tt.wantSets, tt.wantDels)
			}
		})
	}
}

func splitWords(s string) []string { return strings.Fields(s) }
