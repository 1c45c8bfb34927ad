package coldchain

// record is a key outside the account state (a block, the hot mirror, a
// bridge transfer) written in an Apply's batch; a nil value deletes it.
type record struct{ key, value []byte }
