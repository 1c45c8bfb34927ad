package netfault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The chains of a node's namespace that hold its faults; INPUT and OUTPUT
// jump to them.
const (
	chainIn  = "DCR-IN"
	chainOut = "DCR-OUT"
)

// queueNum is the NFQUEUE of every namespace's delayer (queues are per
// namespace).
const queueNum = 7

// Link describes a flaky link: each packet a node receives from another
// node is dropped with probability Loss, and the others are held
// Delay±Jitter before the node sees them.
type Link struct {
	Loss   float64 // 0 to 1
	Delay  time.Duration
	Jitter time.Duration // at most Delay
}

func (l Link) validate() error {
	if l.Loss < 0 || l.Loss >= 1 || l.Delay < 0 || l.Jitter < 0 || l.Jitter > l.Delay || l.Delay > time.Minute {
		return fmt.Errorf("%w: %+v: want 0 <= loss < 1, 0 <= jitter <= delay <= 1m", ErrBadLink, l)
	}
	return nil
}

// Partition splits the nodes into groups: a node can talk to the nodes of
// its group only. Nodes in no group form one more group together. It
// replaces any partition before it (flaky links stay). Traffic between a
// node and the bridge address is never blocked.
func (n *Net) Partition(ctx context.Context, groups ...[]int) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	group, err := n.groupOf(groups)
	if err != nil {
		return err
	}
	for i, nn := range n.nodes {
		nn.blocked = nil
		for j, peer := range n.nodes {
			if group[i] != group[j] {
				nn.blocked = append(nn.blocked, peer.ip)
			}
		}
	}
	return n.applyAll(ctx)
}

// groupOf numbers each node's group; n.mu is held.
func (n *Net) groupOf(groups [][]int) ([]int, error) {
	if n.closed {
		return nil, ErrClosed
	}
	group := make([]int, len(n.nodes))
	for i := range group {
		group[i] = len(groups) // the rest
	}
	seen := map[int]bool{}
	for g, members := range groups {
		for _, i := range members {
			if i < 0 || i >= len(n.nodes) || seen[i] {
				return nil, fmt.Errorf("%w: %d in partition %v (the net has %d, each at most once)", ErrBadNode, i, groups, len(n.nodes))
			}
			seen[i] = true
			group[i] = g
		}
	}
	return group, nil
}

// Isolate cuts node i off from every other node.
func (n *Net) Isolate(ctx context.Context, i int) error {
	return n.Partition(ctx, []int{i})
}

// Flaky makes the packets node i receives from other nodes suffer l (a
// zero Link makes its links good again). Faults act on the way in, so
// with every node flaky each direction of a link suffers once.
func (n *Net) Flaky(ctx context.Context, i int, l Link) error {
	if err := l.validate(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	nn, err := n.lookup(i)
	if err != nil {
		return err
	}
	if l.Delay > 0 && (nn.delayer == nil || nn.delayer.delay != l.Delay || nn.delayer.jitter != l.Jitter) {
		if err := n.stopDelayer(ctx, nn); err != nil {
			return err
		}
		d, err := startDelayer(nsDir+"/"+nn.name, queueNum, l.Delay, l.Jitter)
		if err != nil {
			return err
		}
		nn.delayer = d
	}
	nn.link = l
	if err := n.apply(ctx, nn); err != nil {
		return err
	}
	if l.Delay == 0 {
		return n.stopDelayer(ctx, nn)
	}
	return nil
}

// stopDelayer takes nn's packets off the queue, then stops its delayer;
// n.mu is held.
func (n *Net) stopDelayer(ctx context.Context, nn *nsNode) error {
	if nn.delayer == nil {
		return nil
	}
	link := nn.link
	nn.link.Delay, nn.link.Jitter = 0, 0
	err := n.apply(ctx, nn)
	nn.link = link
	d := nn.delayer
	nn.delayer = nil
	return errors.Join(err, d.close())
}

// Heal lifts every partition and makes every link good.
func (n *Net) Heal(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	var errs []error
	for _, nn := range n.nodes {
		nn.blocked = nil
		errs = append(errs, n.stopDelayer(ctx, nn))
		nn.link = Link{}
		errs = append(errs, n.apply(ctx, nn))
	}
	return errors.Join(errs...)
}

// applyAll writes every node's chains; n.mu is held.
func (n *Net) applyAll(ctx context.Context) error {
	var errs []error
	for _, nn := range n.nodes {
		errs = append(errs, n.apply(ctx, nn))
	}
	return errors.Join(errs...)
}

// apply replaces nn's two chains with the rules of its faults, at once
// (iptables-restore flushes a chain it declares); n.mu is held.
func (n *Net) apply(ctx context.Context, nn *nsNode) error {
	_, err := run(ctx, n.rules(nn), n.ipPath, "netns", "exec", nn.name, n.iptRestore, "-w", "--noflush")
	return err
}

// rules is the iptables-restore input for nn's chains: partition drops
// first (both ways, by peer), then, for packets from other nodes (not from
// the bridge address), the random drop and the queue to the delayer.
// Loss is applied on the way in, not out: a packet dropped in OUTPUT is an
// error the sender's kernel sees (EPERM), not a packet lost on the wire.
func (n *Net) rules(nn *nsNode) string {
	var b strings.Builder
	b.WriteString("*filter\n:" + chainIn + " - [0:0]\n:" + chainOut + " - [0:0]\n")
	for _, peer := range nn.blocked {
		fmt.Fprintf(&b, "-A %s -s %s -j DROP\n-A %s -d %s -j DROP\n", chainIn, peer, chainOut, peer)
	}
	if nn.link != (Link{}) {
		fmt.Fprintf(&b, "-A %s -s %s -j RETURN\n", chainIn, n.BridgeIP())
	}
	if nn.link.Loss > 0 {
		fmt.Fprintf(&b, "-A %s -s %s -m statistic --mode random --probability %s -j DROP\n",
			chainIn, n.Subnet(), strconv.FormatFloat(nn.link.Loss, 'f', 6, 64))
	}
	if nn.link.Delay > 0 {
		fmt.Fprintf(&b, "-A %s -s %s -j NFQUEUE --queue-num %d --queue-bypass\n", chainIn, n.Subnet(), queueNum)
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// Stats count what the faults did since they were last set.
type Stats struct {
	Blocked   uint64        // packets a partition dropped
	Lost      uint64        // packets the random loss dropped
	Delayed   uint64        // packets the delayer held and released
	Reordered uint64        // of those, released before one that came earlier
	MeanHeld  time.Duration // the mean time a delayed packet was held
	QueueErrs uint64        // verdicts or receives that failed
}

// Add sums s and t (MeanHeld weighted by Delayed).
func (s Stats) Add(t Stats) Stats {
	out := Stats{Blocked: s.Blocked + t.Blocked, Lost: s.Lost + t.Lost, Delayed: s.Delayed + t.Delayed,
		Reordered: s.Reordered + t.Reordered, QueueErrs: s.QueueErrs + t.QueueErrs}
	if out.Delayed > 0 {
		out.MeanHeld = time.Duration((uint64(s.MeanHeld)*s.Delayed + uint64(t.MeanHeld)*t.Delayed) / out.Delayed)
	}
	return out
}

// Stats returns what node i's faults did: iptables' counters of its
// chains and its delayer's.
func (n *Net) Stats(ctx context.Context, i int) (Stats, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	nn, err := n.lookup(i)
	if err != nil {
		return Stats{}, err
	}
	var s Stats
	for _, chain := range []string{chainIn, chainOut} {
		out, err := run(ctx, "", n.ipPath, "netns", "exec", nn.name, n.ipt, "-w", "-L", chain, "-n", "-v", "-x")
		if err != nil {
			return s, err
		}
		countDrops(out, &s)
	}
	if d := nn.delayer; d != nil {
		s.Delayed, s.Reordered, s.QueueErrs = d.delayed.Load(), d.reordered.Load(), d.errs.Load()
		if s.Delayed > 0 {
			s.MeanHeld = time.Duration(d.heldNanos.Load() / s.Delayed)
		}
	}
	return s, nil
}

// countDrops adds the packet counts of the DROP rules of an
// `iptables -L -n -v -x` listing to s.
func countDrops(listing string, s *Stats) {
	for line := range strings.Lines(listing) {
		f := strings.Fields(line)
		if len(f) < 3 || f[2] != "DROP" {
			continue
		}
		pkts, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		if slices.Contains(f, "statistic") {
			s.Lost += pkts
		} else {
			s.Blocked += pkts
		}
	}
}
