package ledger

// Frame is one call frame of a contract call run in the VM: an export the
// transaction called (depth 0) or a function it called in turn. Counts
// are the frame's own ("self"): its callees' are in their own frames, so
// summing a column over a call's frames gives the call's total.
type Frame struct {
	_        struct{} `cbor:",toarray"`
	Depth    uint32   `json:"depth"`    // 0 for the export the transaction called
	Function string   `json:"function"` // the export's name, else the name section's, else "func[N]"
	// MemBefore and MemAfter are the size of linear memory, in bytes, when
	// the frame was entered and when it returned (or trapped).
	MemBefore uint64 `json:"mem_before"`
	MemAfter  uint64 `json:"mem_after"`
	// GrowPages is how many 64 KiB pages the frame's own memory.grow
	// instructions added, and GrowGas the gas they were charged.
	GrowPages uint32 `json:"grow_pages"`
	GrowGas   uint64 `json:"grow_gas"`
	// Gas is what the frame's own instructions and host calls were charged.
	Gas uint64 `json:"gas"`
	// Loads and Stores count the memory load and store instructions the
	// frame executed itself (bulk memory operations count once each).
	Loads  uint64 `json:"loads"`
	Stores uint64 `json:"stores"`
}

// Trace is the VM memory trace of one transaction's call: its frames in
// call order (a frame's callees follow it, one depth deeper).
type Trace struct {
	_      struct{} `cbor:",toarray"`
	Frames []Frame  `json:"frames"`
	// Dropped counts the frames past MaxTraceFrames, which were not kept.
	Dropped uint64 `json:"dropped,omitempty"`
}

// MaxTraceFrames bounds the frames a trace keeps: a loop calling a small
// function a million times would otherwise make a trace bigger than its
// block.
const MaxTraceFrames = 1024

// MaxBlockTxs bounds the transactions of one block, so that a
// transaction's place fits one integer: TxKey.
const MaxBlockTxs = 1_000_000

// TxKey numbers a transaction by its place, height × MaxBlockTxs + index:
// block 1234's transaction 56 is 1234000056. Exported files join frames
// and events to their transaction by it.
func TxKey(height uint64, index uint32) uint64 {
	return height*MaxBlockTxs + uint64(index)
}
