// Package localcluster runs a local cluster of dualchain nodes as real
// processes on this machine: Up makes a directory with a shared genesis and
// faucet key, starts one redis-server per node (or none, with the embedded
// store), starts the nodes (Raft voters n1, n2, ... and edge nodes e1, ...)
// on free loopback ports, and records everything in DIR/cluster.json; Load
// reads it back, so one process can start a cluster and another kill,
// restart, wipe or stop its members. The dualchain cluster command and the
// recovery tests are its users.
//
// Invariants:
//   - Every process it starts listens on 127.0.0.1 only (with
//     Options.Place, on its network namespace's address and that
//     namespace's 127.0.0.1) and runs detached
//     in its own session, so it outlives the process that started it
//     (unless that program called TetherChildren, as test binaries do:
//     then the kernel kills it when the program ends); node
//     output is appended to DIR/<id>/node.log, redis-server's to
//     DIR/<id>/redis/redis.log.
//   - Processes are signalled by PID only, and only after /proc shows the
//     PID is still the one recorded (a node's exact argv; a redis-server's
//     port and working directory), so a reused PID is never signalled.
//   - Children started by this process are reaped (no zombies); PIDs read
//     from cluster.json are polled through /proc.
//   - cluster.json is replaced atomically (written aside, synced, renamed)
//     after every change of a PID, so it always names what runs. One
//     process at a time should change a cluster: two that do may each
//     record a PID the other does not know.
//   - Ports are picked once, when a node is added, and reused on every
//     restart: a node's Raft address is part of its peers' configuration.
//
// It needs Linux (/proc, setsid, the parent-death signal). It talks to
// nodes over HTTP only and never links their code in: node is imported
// for the dev supply and file names alone.
//
// Must not import: hotchain, coldchain, bridge, consensus, cmd
package localcluster
