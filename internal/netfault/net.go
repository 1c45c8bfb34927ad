package netfault

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// Names and places.
const (
	namePrefix = "dcr-"                    // of every namespace and link a Net makes
	stateDir   = "/run/dualchain-netfault" // <id>.pid: the PID of each Net's owner
	nsDir      = "/run/netns"              // where ip netns keeps its namespaces
	firstHost  = 10                        // node i has .firstHost+1+i
	maxNodes   = 254 - firstHost - 1
)

// Net is one run's namespaces, bridge and faults. Its methods are safe
// for concurrent use.
type Net struct {
	id         string     // 4 hex digits
	prefix     netip.Addr // 10.A.B.0
	ipPath     string     // the ip program
	iptRestore string     // iptables-restore
	ipt        string     // iptables

	mu     sync.Mutex
	nodes  []*nsNode
	closed bool
}

// nsNode is one node's namespace and the faults set on it.
type nsNode struct {
	name    string // dcr-<id>-n<k>, also its veth's name in the root namespace
	ip      netip.Addr
	blocked []netip.Addr // peers it cannot talk to
	link    Link         // its flakiness; zero for none
	delayer *delayer
}

// New makes a Net of nodes namespaces (more are made by Place on demand),
// first sweeping what dead runs left. It fails with ErrUnavailable on a
// machine without what it needs.
func New(ctx context.Context, nodes int) (*Net, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if nodes < 0 || nodes > maxNodes {
		return nil, fmt.Errorf("%w: %d nodes: want 0 to %d", ErrBadNode, nodes, maxNodes)
	}
	if err := Sweep(ctx); err != nil {
		return nil, err
	}
	n, err := claim()
	if err != nil {
		return nil, err
	}
	if err := n.makeBridge(ctx); err != nil {
		return nil, errors.Join(err, n.Close())
	}
	for i := range nodes {
		if _, err := n.node(ctx, i); err != nil {
			return nil, errors.Join(err, n.Close())
		}
	}
	return n, nil
}

// Available reports why namespaces cannot be made here (nil if they can):
// it needs root, ip, iptables and iptables-restore.
func Available() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: not root", ErrUnavailable)
	}
	for _, prog := range []string{"ip", "iptables", "iptables-restore"} {
		if _, err := exec.LookPath(prog); err != nil {
			return fmt.Errorf("%w: %s not installed (apt-get install iproute2 iptables)", ErrUnavailable, prog)
		}
	}
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// claim picks a free id, and so a subnet, and writes its pid file, which
// appears whole (see writePidFile).
func claim() (*Net, error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("netfault: %w", err)
	}
	n := &Net{}
	n.ipPath, _ = exec.LookPath("ip")
	n.ipt, _ = exec.LookPath("iptables")
	n.iptRestore, _ = exec.LookPath("iptables-restore")
	for range 64 {
		var b [2]byte
		_, _ = rand.Read(b[:])
		r := binary.BigEndian.Uint16(b[:]) % (32 * 256) // 10.200.0.0 to 10.231.255.0
		n.id = fmt.Sprintf("%04x", r)
		n.prefix = netip.AddrFrom4([4]byte{10, byte(200 + r>>8), byte(r), 0})
		if subnetInUse(n.prefix) {
			continue
		}
		err := writePidFile(n.pidFile(), os.Getpid())
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return n, nil
	}
	return nil, fmt.Errorf("%w: no free subnet in 10.200-231.x.0/24 after 64 tries", ErrUnavailable)
}

func (n *Net) pidFile() string { return filepath.Join(stateDir, n.id+pidSuffix) }

// bridgeName is the bridge's name: at most 15 bytes, as links must be.
func (n *Net) bridgeName() string { return namePrefix + n.id + "-br" }

// BridgeIP is the root namespace's address on the bridge: where this
// process's connections to the nodes come from.
func (n *Net) BridgeIP() netip.Addr { return n.host(1) }

func (n *Net) host(b byte) netip.Addr {
	a := n.prefix.As4()
	a[3] = b
	return netip.AddrFrom4(a)
}

// Subnet is the run's /24.
func (n *Net) Subnet() netip.Prefix { return netip.PrefixFrom(n.prefix, 24) }

// IP is node i's address, or the zero Addr if it has no namespace yet.
func (n *Net) IP(i int) netip.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	if i < 0 || i >= len(n.nodes) {
		return netip.Addr{}
	}
	return n.nodes[i].ip
}

// Name is node i's namespace, or "".
func (n *Net) Name(i int) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if i < 0 || i >= len(n.nodes) {
		return ""
	}
	return n.nodes[i].name
}

// Exec is the argv prefix that runs a program in node i's namespace,
// or nil if it has none: ip execs the program, so the PID of the
// process started is the program's.
func (n *Net) Exec(i int) []string {
	name := n.Name(i)
	if name == "" {
		return nil
	}
	return []string{n.ipPath, "netns", "exec", name}
}

// Place gives node i a namespace, making it (and any of lower index
// missing) if need be, and returns the argv prefix of its processes and
// its address: the hook localcluster calls for every node it adds.
func (n *Net) Place(ctx context.Context, i int) (prefix []string, host string, err error) {
	if i < 0 || i >= maxNodes {
		return nil, "", fmt.Errorf("%w: %d", ErrBadNode, i)
	}
	for k := 0; k <= i; k++ {
		if _, err := n.node(ctx, k); err != nil {
			return nil, "", err
		}
	}
	return n.Exec(i), n.IP(i).String(), nil
}

// node returns node i's namespace, making it if it is the next one.
func (n *Net) node(ctx context.Context, i int) (*nsNode, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.closed:
		return nil, ErrClosed
	case i < len(n.nodes):
		return n.nodes[i], nil
	case i > len(n.nodes):
		return nil, fmt.Errorf("%w: %d (the next is %d)", ErrBadNode, i, len(n.nodes))
	}
	nn := &nsNode{name: fmt.Sprintf("%s%s-n%d", namePrefix, n.id, i+1), ip: n.host(byte(firstHost + 1 + i))}
	if err := n.makeNamespace(ctx, nn); err != nil {
		return nil, err
	}
	n.nodes = append(n.nodes, nn)
	return nn, nil
}

// Nodes is how many namespaces the Net has.
func (n *Net) Nodes() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.nodes)
}

// lookup returns node i; n.mu is held.
func (n *Net) lookup(i int) (*nsNode, error) {
	if n.closed {
		return nil, ErrClosed
	}
	if i < 0 || i >= len(n.nodes) {
		return nil, fmt.Errorf("%w: %d (the net has %d)", ErrBadNode, i, len(n.nodes))
	}
	return n.nodes[i], nil
}

// Close heals every fault, stops the delayers and deletes the
// namespaces (which ends the processes' network, not the processes: stop
// them first), the bridge and the pid file. It is safe to call twice.
func (n *Net) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	ctx := context.Background()
	var errs []error
	for _, nn := range n.nodes {
		if nn.delayer != nil {
			errs = append(errs, nn.delayer.close())
			nn.delayer = nil
		}
	}
	errs = append(errs, removeRun(ctx, n.id))
	return errors.Join(errs...)
}
