// Package netfault puts the processes of a local cluster in network
// namespaces of their own and breaks the network between them: partitions
// (a node isolated, a minority cut from a majority) and flaky links
// (random loss, delay with jitter, hence reordering). It is the network
// half of issue 8's robustness suite; internal/robustness drives it.
//
// Topology, per Net: a Linux bridge dcr-<id>-br in the root namespace
// holding 10.A.B.1/24, where 10.A.B is derived from the run's id (so two
// runs on one machine never share a subnet), and per node a namespace
// dcr-<id>-n<k> whose eth0 (a veth whose other end is on the bridge) has
// 10.A.B.(10+k) and whose lo is up. A process started with Exec(i) as its
// argv prefix ("ip netns exec NAME", which execs, so the PID is the
// program's own) runs in node i's namespace, and its node binds its Raft
// and API addresses on IP(i). Its redis-server is not out of the other
// nodes' reach: localcluster binds it on the namespace's 127.0.0.1, where
// the node connects, and on IP(i) too, with --protected-mode no, so that
// the test process can check it from the bridge. Every namespace on the
// bridge can therefore reach it, unless a partition cuts it off from the
// other side, as it does every port.
//
// Faults are iptables rules in the nodes' namespaces, in two chains
// (DCR-IN from INPUT, DCR-OUT from OUTPUT), replaced whole with
// iptables-restore on every change:
//   - Partition and Isolate DROP the traffic between nodes of different
//     groups, both ways, by peer address. The bridge address, where this
//     process and the test's clients sit, is never blocked: a client
//     outside the partition still reaches every node's API, as a client
//     of a real deployment can reach both sides of a split between the
//     servers. Only the Raft links break.
//   - Flaky acts on the packets a node receives from other nodes, in
//     DCR-IN: a packet dropped in OUTPUT would be an error its sender
//     sees, not a packet lost on the wire; what comes from the bridge
//     address is left alone. It drops them at random (the iptables
//     statistic match) and hands the rest to an NFQUEUE that a delayer in
//     this process reads (nfnetlink_queue, spoken over
//     github.com/mdlayher/netlink: bind, metadata-copy mode, fail-open):
//     each packet is held for delay±jitter and then accepted, so packets
//     overtake one another. The kernel has no netem (tc qdisc netem is
//     not built in on the machines this runs on), hence the userspace
//     delayer; it counts what it delayed and reordered, and iptables
//     counts what it dropped, so a fault can show it took effect. The
//     NFQUEUE rule has --queue-bypass: if the delayer is gone, packets
//     pass undelayed rather than vanish.
//
// Node indexes are 0-based, in the order localcluster adds nodes (index 0
// is n1); namespaces are named 1-based, as the nodes are.
//
// Invariants: everything a Net makes carries the prefix dcr-<id>-, and
// /run/dualchain-netfault/<id>.pid, in place before anything is made,
// names the process that owns it. The pid file appears whole (the PID is
// written to a temp file, which is then linked into place, failing if the
// id is taken), so a concurrent Sweep never takes a starting run for a
// dead one; Sweep deletes whatever a dead owner left. Close removes the
// rules, stops the delayers (accepting the packets they hold), deletes
// the namespaces and the bridge, then the pid file. Every goroutine is
// owned by a delayer and ends when it stops.
// Needs Linux, root, iproute2 and iptables (Available says which is
// missing).
//
// Must not import: node, consensus, hotchain, coldchain, bridge, cmd, internal/localcluster, internal/robustness
package netfault
