package export

// The rows of the files, one type per kind of file. Each field's parquet
// tag names its column, in CSV (the header row) and in Parquet alike, and
// the field order is the column order. Hashes, addresses and bytes are
// lowercase hex without a prefix; function names and contract addresses
// are codes into the export's dictionaries; statuses, paths and bridge
// kinds are the ledger's numbers (codes.csv names them). A field tagged
// optional is empty in CSV and null in Parquet when absent. Parquet
// stores the wider integers delta-encoded (DELTA_BINARY_PACKED): heights,
// tx keys and sequence numbers rise by small steps, and a frames file
// takes a quarter of its plain size that way.

// HotBlockRow is a row of a hot chain's blocks file: an api.BlockView
// without its transactions (the txs file has them) and its chain id (the
// manifest has it).
type HotBlockRow struct {
	Height     uint64 `parquet:"height,delta"`
	Hash       string `parquet:"hash"`
	Parent     string `parquet:"parent"`
	Time       int64  `parquet:"time,delta"` // unix nanoseconds
	TxRoot     string `parquet:"tx_root"`
	ResultRoot string `parquet:"result_root"`
	Commitment string `parquet:"commitment"`
	TxCount    uint32 `parquet:"tx_count,delta"`
}

// ColdBlockRow is a row of a cold chain's blocks file: the header, its
// hash, and how many transactions and transfers the block has. Credited
// is the hex ids of the deposits the checkpoint saw credited, separated
// by spaces.
type ColdBlockRow struct {
	Height          uint64 `parquet:"height,delta"`
	Hash            string `parquet:"hash"`
	Parent          string `parquet:"parent"`
	Time            int64  `parquet:"time,delta"` // unix nanoseconds
	HotHeight       uint64 `parquet:"hot_height,delta"`
	HotHash         string `parquet:"hot_hash"`
	HotCommitment   string `parquet:"hot_commitment"`
	TxRoot          string `parquet:"tx_root"`
	ResultRoot      string `parquet:"result_root"`
	StateRoot       string `parquet:"state_root"`
	TxCount         uint32 `parquet:"tx_count,delta"`
	SettlementCount uint32 `parquet:"settlement_count,delta"`
	DepositCount    uint32 `parquet:"deposit_count,delta"`
	Credited        string `parquet:"credited"`
}

// TxRow is a row of a txs file: an api.TxView without its events and
// trace frames (the events and frames files have them, joined by Tx) and
// its chain and chain id (the manifest has them).
type TxRow struct {
	Tx            uint64  `parquet:"tx,delta"` // ledger.TxKey(Height, Index)
	Height        uint64  `parquet:"height,delta"`
	Index         uint32  `parquet:"index,delta"`
	ID            string  `parquet:"id"`
	Nonce         uint64  `parquet:"nonce,delta"`
	From          string  `parquet:"from"`
	Contract      uint32  `parquet:"contract,delta"` // code in dict-contracts.csv
	Function      uint32  `parquet:"function,delta"` // code in dict-functions.csv
	Input         string  `parquet:"input"`
	GasLimit      uint64  `parquet:"gas_limit,delta"`
	Sig           string  `parquet:"sig"`
	Status        uint16  `parquet:"status"` // ledger.Status
	GasUsed       uint64  `parquet:"gas_used,delta"`
	Path          uint8   `parquet:"path"` // ledger.Path
	Error         string  `parquet:"error"`
	Result        string  `parquet:"result"`
	To            string  `parquet:"to,optional"`     // base-token transfers only
	Amount        *uint64 `parquet:"amount,optional"` // base-token transfers only
	EventCount    uint32  `parquet:"event_count,delta"`
	Traced        uint8   `parquet:"traced"` // 1 when the node had a trace
	FrameCount    uint32  `parquet:"frame_count,delta"`
	FramesDropped uint64  `parquet:"frames_dropped,delta"`
}

// FrameRow is a row of a frames file: one ledger.Frame of a transaction's
// trace.
type FrameRow struct {
	Tx        uint64 `parquet:"tx,delta"`
	Seq       uint32 `parquet:"seq,delta"` // the frame's place in the trace, from 0
	Depth     uint32 `parquet:"depth,delta"`
	Function  uint32 `parquet:"function,delta"` // code in dict-functions.csv
	MemBefore uint64 `parquet:"mem_before,delta"`
	MemAfter  uint64 `parquet:"mem_after,delta"`
	GrowPages uint32 `parquet:"grow_pages,delta"`
	GrowGas   uint64 `parquet:"grow_gas,delta"`
	Gas       uint64 `parquet:"gas,delta"`
	Loads     uint64 `parquet:"loads,delta"`
	Stores    uint64 `parquet:"stores,delta"`
}

// EventRow is a row of an events file: one ledger.Event of a receipt.
type EventRow struct {
	Tx   uint64 `parquet:"tx,delta"`
	Seq  uint32 `parquet:"seq,delta"` // the event's place in the receipt, from 0
	Name string `parquet:"name"`
	Data string `parquet:"data"`
}

// TransferRow is a row of a cold chain's transfers file: a settlement or
// deposit of a cold block.
type TransferRow struct {
	Height uint64 `parquet:"height,delta"`
	Kind   uint8  `parquet:"kind"`      // ledger.BridgeKind
	Seq    uint32 `parquet:"seq,delta"` // the place in the block's settlements or deposits, from 0
	ID     string `parquet:"id"`
	Owner  string `parquet:"owner"`
	Amount uint64 `parquet:"amount,delta"`
}
