package consensus

import "github.com/hashicorp/raft"

// LogStoreForTest is the replica's log store, under Raft's log cache: a
// test writes to it to tamper with an entry behind Raft's back.
func (r *Replica) LogStoreForTest() raft.LogStore { return r.store }
