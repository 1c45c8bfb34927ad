package robust

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/dualchain/dualchain/ledger"
)

// checkAcked checks that every acknowledged transaction is in the ledger
// as the client was told, and no rejected one is.
func (c *checker) checkAcked() {
	for i := range c.ops {
		op := &c.ops[i]
		f, ok := c.fates[op.ID]
		if !ok {
			continue
		}
		switch op.Outcome {
		case OutcomeOK:
			c.checked(InvAcked, 1)
			if p := ackProblem(op, f); p != "" {
				c.violate(InvAcked, "%s: %s", c.describe(op), p)
			}
		case OutcomeFail:
			c.checked(InvFailed, 1)
			if f.committed {
				c.violate(InvFailed, "%s: rejected (%s), yet committed at %s height %d",
					c.describe(op), op.Result.Error, f.tx.Chain, f.tx.Height)
			}
		}
	}
}

// ackProblem says how the ledger differs from what op's client was told.
func ackProblem(op *Op, f fate) string {
	res, tx := op.Result, f.tx
	switch {
	case !f.committed:
		return fmt.Sprintf("acknowledged at %s height %d, not in the ledger", op.Kind.Chain(), res.Height)
	case tx.Chain != op.Kind.Chain() || tx.From != op.From || tx.Nonce != op.Nonce:
		return fmt.Sprintf("the ledger holds it from %s nonce %d on the %s chain", tx.From, tx.Nonce, tx.Chain)
	case res.Height != 0 && tx.Height != res.Height:
		return fmt.Sprintf("acknowledged at height %d, the ledger holds it at %d", res.Height, tx.Height)
	case tx.Status != res.Status:
		return fmt.Sprintf("acknowledged with receipt %s, the ledger's says %s", res.Status, tx.Status)
	}
	return ""
}

// slot is one nonce of one account on one chain.
type slot struct {
	from  ledger.Address
	chain ledger.Chain
	nonce uint64
}

// checkOnce checks that no transaction is in the ledger twice, and no
// nonce is used by two.
func (c *checker) checkOnce() {
	if !c.haveTxs {
		return
	}
	c.checked(InvOnce, len(c.txs))
	seen := map[ledger.Hash]CommittedTx{}
	bySlot := map[slot]ledger.Hash{}
	for _, tx := range c.txs {
		if prev, dup := seen[tx.ID]; dup {
			c.violate(InvOnce, "tx %s at %s height %d, and again at %s height %d",
				short(tx.ID), prev.Chain, prev.Height, tx.Chain, tx.Height)
			continue
		}
		seen[tx.ID] = tx
		s := slot{tx.From, tx.Chain, tx.Nonce}
		if other, dup := bySlot[s]; dup {
			c.violate(InvOnce, "%s nonce %d on the %s chain used twice: tx %s and tx %s",
				c.name(tx.From), tx.Nonce, tx.Chain, short(other), short(tx.ID))
			continue
		}
		bySlot[s] = tx.ID
	}
}

// checkNonces checks that each tracked account's committed nonces on each
// chain run from its initial nonce to its final one with no gap, and that
// the workload sent every transaction that holds one.
func (c *checker) checkNonces() {
	if !c.haveTxs || !c.haveFinal {
		return
	}
	sent := map[ledger.Hash]bool{}
	for i := range c.ops {
		sent[c.ops[i].TxID] = c.valid[i] && c.ops[i].Kind.IsTx()
	}
	present := map[[2]int][]uint64{} // account index, side → nonces
	for _, tx := range c.txs {
		i, tracked := c.idx[tx.From]
		if !tracked || tx.Nonce < nonceOf(c.initial[i], tx.Chain) {
			continue // not the workload's, or before the history
		}
		if !sent[tx.ID] {
			c.violate(InvNonces, "tx %s holds nonce %d of %s on the %s chain; the workload never sent it",
				short(tx.ID), tx.Nonce, c.name(tx.From), tx.Chain)
		}
		key := [2]int{i, sideOf(tx.Chain)}
		present[key] = append(present[key], tx.Nonce)
	}
	final := c.finalByIndex()
	for i, a := range c.initial {
		for _, chain := range []ledger.Chain{ledger.Hot, ledger.Cold} {
			c.checked(InvNonces, 1)
			c.gapless(a.Address, chain, nonceOf(a, chain), nonceOf(final[i], chain), present[[2]int{i, sideOf(chain)}])
		}
	}
}

func nonceOf(a Account, chain ledger.Chain) uint64 {
	if chain == ledger.Cold {
		return a.ColdNonce
	}
	return a.HotNonce
}

// finalByIndex returns the final snapshot's accounts by tracked index.
func (c *checker) finalByIndex() []Account {
	out := make([]Account, len(c.addrs))
	for _, a := range c.final.Accounts {
		out[c.idx[a.Address]] = a
	}
	return out
}

// gapless checks one account's nonces on one chain: every nonce in
// [from, to) committed, none from to on.
func (c *checker) gapless(addr ledger.Address, chain ledger.Chain, from, to uint64, nonces []uint64) {
	who := fmt.Sprintf("%s on the %s chain", c.name(addr), chain)
	if to < from {
		c.violate(InvNonces, "%s: nonce went back from %d to %d", who, from, to)
		return
	}
	slices.Sort(nonces)
	nonces = slices.Compact(nonces) // a nonce used twice is checkOnce's
	var missing []uint64
	n, j := from, 0
	for n < to && len(missing) < c.opts.Examples {
		for j < len(nonces) && nonces[j] < n {
			j++
		}
		if j == len(nonces) || nonces[j] != n {
			missing = append(missing, n)
		}
		n++
	}
	if len(missing) > 0 {
		within := uint64(0)
		for _, v := range nonces {
			if v < to {
				within++
			}
		}
		c.violate(InvNonces, "%s: %d of nonces %d..%d not committed (the account's nonce is %d), first %v",
			who, to-from-within, from, to-1, to, missing)
	}
	if k := len(nonces); k > 0 && nonces[k-1] >= to {
		c.violate(InvNonces, "%s: nonce %d committed, but the account's nonce is %d", who, nonces[k-1], to)
	}
}

// checkSums checks conservation in every read that returned the sums, and
// in the final snapshot.
func (c *checker) checkSums() {
	for i := range c.ops {
		op := &c.ops[i]
		if s := c.readSnapshot(i); s != nil && s.Sums != nil {
			c.conserved(c.describe(op), *s.Sums)
		}
	}
	if !c.haveFinal {
		return
	}
	c.conserved("final snapshot", *c.final.Sums)
	if c.opts.Drained && c.final.Sums.InFlight != 0 {
		c.violate(InvConserved, "final snapshot: %d in flight after the bridge drained", c.final.Sums.InFlight)
	}
}

// readSnapshot returns what op i read, if it is a well-formed read that
// answered.
func (c *checker) readSnapshot(i int) *Snapshot {
	op := &c.ops[i]
	if !c.valid[i] || op.Kind.IsTx() || op.Outcome != OutcomeOK {
		return nil
	}
	return op.Result.Snapshot
}

func (c *checker) conserved(where string, s Sums) {
	c.checked(InvConserved, 1)
	total, over := add(s.Hot, s.Cold, s.InFlight)
	if over || total != s.Supply {
		c.violate(InvConserved, "%s: hot %d + cold %d + in flight %d = %s, supply %d",
			where, s.Hot, s.Cold, s.InFlight, sumString(total, over), s.Supply)
	}
	if c.haveFinal && s.Supply != c.final.Sums.Supply {
		c.violate(InvConserved, "%s: supply %d, the final snapshot says %d", where, s.Supply, c.final.Sums.Supply)
	}
}

// add sums vs, reporting an overflow.
func add(vs ...uint64) (uint64, bool) {
	var sum, carry uint64
	for _, v := range vs {
		var c uint64
		sum, c = bits.Add64(sum, v, 0)
		carry |= c
	}
	return sum, carry != 0
}

func sumString(total uint64, over bool) string {
	if over {
		return "more than 2^64"
	}
	return fmt.Sprint(total)
}

// checkBounds checks that no balance a read or the final snapshot shows is
// negative (wrapped round to above the supply) or above the supply, and
// that no node counted bad balances.
func (c *checker) checkBounds() {
	supply, ok := c.supply()
	for i := range c.ops {
		if s := c.readSnapshot(i); s != nil {
			c.bounded(c.describe(&c.ops[i]), s, supply, ok)
		}
	}
	if c.haveFinal {
		c.bounded("final snapshot", &c.final, supply, ok)
	}
}

// supply is the final snapshot's, or the largest a read returned.
func (c *checker) supply() (uint64, bool) {
	if c.haveFinal {
		return c.final.Sums.Supply, true
	}
	var supply uint64
	found := false
	for i := range c.ops {
		if s := c.readSnapshot(i); s != nil && s.Sums != nil {
			supply, found = max(supply, s.Sums.Supply), true
		}
	}
	return supply, found
}

func (c *checker) bounded(where string, s *Snapshot, supply uint64, known bool) {
	if s.Sums != nil {
		c.checked(InvBounds, 1)
		if s.Sums.Bad != 0 {
			c.violate(InvBounds, "%s: the node counts %d bad balances", where, s.Sums.Bad)
		}
	}
	if !known {
		return
	}
	var all []uint64
	for _, a := range s.Accounts {
		c.checked(InvBounds, 2)
		for _, v := range []struct {
			chain string
			bal   uint64
		}{{"hot", a.Hot}, {"cold", a.Cold}} {
			if v.bal > supply {
				c.violate(InvBounds, "%s: %s %s balance %d above the supply %d (negative?)", where, c.name(a.Address), v.chain, v.bal, supply)
			}
		}
		all = append(all, a.Hot, a.Cold)
	}
	if total, over := add(all...); over || total > supply {
		c.violate(InvBounds, "%s: tracked balances sum to %s, above the supply %d", where, sumString(total, over), supply)
	}
}

// checkNodes checks that every node reported what it must (no Err), and
// that nodes agree at every height and log index they share.
func (c *checker) checkNodes() {
	skipped := 0
	for _, n := range c.nodes {
		if n.Err != "" {
			c.violate(InvNodes, "node %s: %s", n.Node, n.Err)
		}
		skipped += n.Skipped
	}
	hot := c.agree(InvNodes, "hot height", func(n *NodeReport) []Point { return n.Hot })
	cold := c.agree(InvNodes, "cold height", func(n *NodeReport) []Point { return n.Cold })
	logs := c.agree(InvRaftLog, "log index", func(n *NodeReport) []Point { return n.Log })
	c.rows[InvNodes].Detail = fmt.Sprintf("%d hot and %d cold heights compared across %d nodes", hot, cold, len(c.nodes))
	if skipped > 0 {
		c.rows[InvNodes].Detail += fmt.Sprintf("; %d sampled hot blocks left out, below snapshots nodes still backfill", skipped)
	}
	c.rows[InvRaftLog].Detail = fmt.Sprintf("%d log indexes compared across %d nodes", logs, len(c.nodes))
}

// agree compares the nodes' points, returning at how many heights two
// nodes or more reported.
func (c *checker) agree(name, what string, points func(*NodeReport) []Point) int {
	type first struct {
		digest ledger.Hash
		node   string
	}
	firsts := map[uint64]first{}
	shared := map[uint64]bool{}
	differ := map[uint64]bool{}
	for i := range c.nodes {
		n := &c.nodes[i]
		for _, p := range points(n) {
			f, ok := firsts[p.At]
			if !ok {
				firsts[p.At] = first{p.Digest, n.Node}
				continue
			}
			shared[p.At] = true
			if f.digest != p.Digest && !differ[p.At] {
				differ[p.At] = true
				c.violate(name, "at %s %d: node %s has %s, node %s has %s", what, p.At, f.node, short(f.digest), n.Node, short(p.Digest))
			}
		}
	}
	c.checked(name, len(shared))
	return len(shared)
}
