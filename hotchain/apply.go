package hotchain

import (
	"fmt"

	"github.com/dualchain/dualchain/ledger"
)

// This file holds the rules of Open and Apply that do not depend on where the
// state lives; both stores call them, so they cannot drift apart.

// genesisState resolves gen's writes to the initial state (a later write of a
// key wins; empty values are absent) and its commitment.
func genesisState(gen *Genesis) ([]ledger.Write, Commitment, error) {
	if gen == nil {
		return nil, Commitment{}, fmt.Errorf("%w: no genesis", ErrBadGenesis)
	}
	last := make(map[string]int, len(gen.Writes))
	for i, w := range gen.Writes {
		if len(w.Key) == 0 {
			return nil, Commitment{}, fmt.Errorf("%w: write %d has an empty key", ErrBadGenesis, i)
		}
		last[string(w.Key)] = i
	}
	state := make([]ledger.Write, 0, len(last))
	changes := make([]Change, 0, len(last))
	for i, w := range gen.Writes {
		if last[string(w.Key)] == i && len(w.Value) > 0 {
			state = append(state, w)
			changes = append(changes, Change{Key: w.Key, New: w.Value})
		}
	}
	return state, Apply(Commitment{}, changes), nil
}

// genesisMeta is the meta of a new incarnation of gen's chain.
func genesisMeta(gen *Genesis, c Commitment) (Meta, error) {
	inc, err := newIncarnation()
	if err != nil {
		return Meta{}, err
	}
	return Meta{Incarnation: inc, Genesis: gen.Hash, Head: gen.Hash, Commitment: c}, nil
}

// checkGenesis fails if a store's chain is not gen's.
func checkGenesis(m Meta, gen *Genesis) error {
	if m.Genesis != gen.Hash {
		return fmt.Errorf("%w: store has genesis %s, want %s", ErrGenesisMismatch, m.Genesis, gen.Hash)
	}
	return nil
}

// checkUpdate checks what can be checked without the store: the update's
// shape, and that its commitment is the one its header carries.
func checkUpdate(u *Update) error {
	if u == nil || u.Block == nil {
		return fmt.Errorf("%w: no block", ErrBadUpdate)
	}
	b := u.Block
	if len(b.Txs) != len(b.Receipts) {
		return fmt.Errorf("%w: block %d has %d txs and %d receipts", ErrBadUpdate, b.Header.Height, len(b.Txs), len(b.Receipts))
	}
	for i, w := range b.Writes {
		if len(w.Key) == 0 {
			return fmt.Errorf("%w: block %d write %d has an empty key", ErrBadUpdate, b.Header.Height, i)
		}
	}
	if d := u.Commitment.Digest(); d != b.Header.Commitment {
		return fmt.Errorf("%w: block %d header has %s, update carries %s", ErrCommitmentMismatch, b.Header.Height, b.Header.Commitment, d)
	}
	return nil
}

// checkIncarnation fails with ErrWiped unless the store holds the
// incarnation Open saw. stored is nil when the store holds no chain.
func checkIncarnation(stored *Meta, opened string) error {
	switch {
	case opened == "":
		return ErrNotOpen
	case stored == nil:
		return fmt.Errorf("%w: it holds no chain", ErrWiped)
	case stored.Incarnation != opened:
		return fmt.Errorf("%w: incarnation %s, opened %s", ErrWiped, stored.Incarnation, opened)
	}
	return nil
}

// checkNext fails with ErrNotNext unless b extends the head m describes.
func checkNext(m Meta, b *ledger.Block) error {
	if b.Header.Height != m.Height+1 || b.Header.Parent != m.Head {
		return fmt.Errorf("%w: block %d with parent %s, head is %d %s", ErrNotNext, b.Header.Height, b.Header.Parent, m.Height, m.Head)
	}
	return nil
}

// nextMeta is m after u.
func nextMeta(m Meta, u *Update) Meta {
	m.Index = u.Index
	m.Height = u.Block.Header.Height
	m.Head = u.Block.Header.Hash()
	m.Commitment = u.Commitment
	return m
}

// checkAgainstState recomputes u's commitment from base and the values the
// write set replaces (old[i] is the stored value of writes[i].Key before the
// block), and checks every receipt's tx id. It is the invariants build's
// check that the producer's commitment describes the state it is applied to.
func checkAgainstState(base Commitment, u *Update, old [][]byte) error {
	b := u.Block
	for i := range b.Txs {
		if id := b.Txs[i].ID(); id != b.Receipts[i].TxID {
			return fmt.Errorf("%w: block %d receipt %d is for %s, tx is %s", ErrBadUpdate, b.Header.Height, i, b.Receipts[i].TxID, id)
		}
	}
	got := Apply(base, changesFrom(b.Writes, old))
	if got != u.Commitment {
		return fmt.Errorf("%w: block %d: recomputed %s, update carries %s", ErrCommitmentMismatch, b.Header.Height, got.Digest(), u.Commitment.Digest())
	}
	return nil
}

// changesFrom pairs each write with the value it replaces. A key written
// twice replaces, the second time, the value of its first write.
func changesFrom(writes []ledger.Write, old [][]byte) []Change {
	cur := make(map[string][]byte, len(writes))
	changes := make([]Change, len(writes))
	for i, w := range writes {
		prev, ok := cur[string(w.Key)]
		if !ok {
			prev = old[i]
		}
		changes[i] = Change{Key: w.Key, Old: prev, New: w.Value}
		cur[string(w.Key)] = w.Value
	}
	return changes
}

// resolveWrites splits a write set into the values to set and the keys to
// delete, so that setting all of sets (in order, a later one winning) and
// then deleting all of dels leaves the state a one-by-one application would.
// Only keys that some write deletes go into a map, so a block of plain
// updates costs no allocation per write.
func resolveWrites(writes []ledger.Write) (sets []ledger.Write, dels [][]byte) {
	lastDel := map[string]int{}
	for i, w := range writes {
		if len(w.Value) == 0 {
			lastDel[string(w.Key)] = i
		}
	}
	sets = make([]ledger.Write, 0, len(writes)-len(lastDel))
	for i, w := range writes {
		if len(w.Value) == 0 {
			continue
		}
		d, deleted := lastDel[string(w.Key)]
		switch {
		case !deleted:
			sets = append(sets, w)
		case i > d: // set after the key's last delete: the set wins
			delete(lastDel, string(w.Key))
			sets = append(sets, w)
		}
	}
	for i, w := range writes {
		if d, ok := lastDel[string(w.Key)]; ok && d == i {
			dels = append(dels, w.Key)
		}
	}
	return sets, dels
}

// GenesisMeta is the head a store holds right after Open initialized it
// with gen: height 0, the genesis hash as the head, the genesis state's
// commitment, index 0.
func GenesisMeta(gen *Genesis) (Meta, error) {
	_, c, err := genesisState(gen)
	if err != nil {
		return Meta{}, err
	}
	return Meta{Genesis: gen.Hash, Head: gen.Hash, Commitment: c}, nil
}
