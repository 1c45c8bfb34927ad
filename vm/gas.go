package vm

// The gas schedule. docs/contract-abi.md is its user-facing copy; a test
// holds the two together.
const (
	// GasCall is a call's base cost: entry and a clean module state.
	GasCall = 500
	// GasMemoryPage is charged per call for each page of initial memory
	// past the first: what restoring the clean state copies.
	GasMemoryPage = 1_000
	// GasHostCall is charged on every host function call, before what the
	// function itself adds.
	GasHostCall = 20
	// GasRead and GasReadByte price storage_read: per call, and per key byte
	// and value byte returned.
	GasRead     = 200
	GasReadByte = 1
	// GasWrite and GasWriteByte price storage_write: per call, and per key
	// and value byte.
	GasWrite     = 1_000
	GasWriteByte = 10
	// GasEmit and GasEmitByte price emit: per event, and per name and data
	// byte.
	GasEmit     = 200
	GasEmitByte = 5
	// GasCopyByte prices the bytes input, output, caller and address copy.
	GasCopyByte = 1
	// GasGrowPage prices each page memory.grow asks for.
	GasGrowPage = 2_000
	// GasBulkBytes is how many bytes of memory.fill, memory.copy and
	// memory.init cost one gas.
	GasBulkBytes = 32
	// GasDeploy and GasDeployByte price a deploy transaction.
	GasDeploy     = 1_000
	GasDeployByte = 20
)

// Limits on what a call may do. docs/contract-abi.md lists them for users.
const (
	MaxKeySize        = 64
	MaxValueSize      = 16 << 10
	MaxOutputSize     = 1 << 10
	MaxEventName      = 64
	MaxEventData      = 1 << 10
	MaxEvents         = 16
	MaxMessageSize    = 256
	MaxMemoryPages    = 64
	MaxCodeSize       = 64 << 10
	MaxFunctions      = 10_000
	MaxGlobals        = 1_000
	MaxTableSize      = 10_000
	MaxCallDepth      = 1_000
	DefaultDeadlineMS = 1_000
)

// DeployGas is what deploying code of n bytes costs.
func DeployGas(n int) uint64 { return GasDeploy + GasDeployByte*uint64(n) }
