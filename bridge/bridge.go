package bridge

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// SettleGas is the gas a settle uses, whatever its outcome: it reads one
// balance and writes it and one record.
const SettleGas = 300

// Hot state keys of the bridge, in the bridge address's contract storage:
//
//	'e' <id: 32 bytes>  →  escrow: owner (32 bytes) ‖ amount (8 bytes, big-endian)
//	'd' <id: 32 bytes>  →  deposit credited: the hot height of the credit (8 bytes)
const (
	escrowTag = 'e'
	markerTag = 'd'
)

// EscrowKey is the hot state key of the escrow a settle id made.
func EscrowKey(id ledger.Hash) []byte { return recordKey(escrowTag, id) }

// MarkerKey is the hot state key of the marker of a deposit the hot chain
// credited.
func MarkerKey(id ledger.Hash) []byte { return recordKey(markerTag, id) }

func recordKey(tag byte, id ledger.Hash) []byte {
	return ledger.StorageKey(ledger.BridgeAddress, append([]byte{tag}, id[:]...))
}

var (
	recordPrefix  = ledger.StorageKey(ledger.BridgeAddress, nil)
	balancePrefix = token.BalanceKey(ledger.Address{})[:len(token.BalanceKey(ledger.Address{}))-len(ledger.Address{})]
)

// parseRecord returns the tag and id of a bridge record's key.
func parseRecord(key []byte) (tag byte, id ledger.Hash, ok bool) {
	rest, found := bytes.CutPrefix(key, recordPrefix)
	if !found || len(rest) != 1+len(id) {
		return 0, id, false
	}
	return rest[0], ledger.Hash(rest[1:]), true
}

func encodeEscrow(owner ledger.Address, amount uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, 40), owner[:]...), amount)
}

func decodeEscrow(v []byte) (owner ledger.Address, amount uint64, ok bool) {
	if len(v) != len(owner)+8 {
		return owner, 0, false
	}
	return ledger.Address(v[:32]), binary.BigEndian.Uint64(v[32:]), true
}

// Settle runs a settle transaction (id, sent by from with args) against
// the hot state st: the amount leaves from's hot balance for an escrow
// record, which the next checkpoint credits to from's cold account.
func Settle(st vm.State, from ledger.Address, id ledger.Hash, args []byte, gasLimit uint64) vm.Result {
	r := vm.Result{Path: ledger.PathNative, GasUsed: min(SettleGas, gasLimit), HostGas: min(SettleGas, gasLimit)}
	if gasLimit < SettleGas {
		r.Status, r.Error = ledger.StatusOutOfGas, "out of gas"
		return r
	}
	amount, err := ledger.DecodeAmount(args)
	if err != nil {
		r.Status, r.Error = ledger.StatusBadArgs, err.Error()
		return r
	}
	key := token.BalanceKey(from)
	bal, ok := ledger.DecodeUint64(st.Get(key))
	switch {
	case !ok:
		r.Status, r.Error = ledger.StatusAborted, "corrupt balance"
	case bal < amount:
		r.Status, r.Error = ledger.StatusInsufficientFunds, "insufficient funds"
	case st.Get(EscrowKey(id)) != nil:
		r.Status, r.Error = ledger.StatusAborted, "escrow already exists" // a tx id is unique: never seen
	default:
		r.Writes = []vm.Write{
			{Key: key, Value: ledger.EncodeUint64(bal - amount)},
			{Key: EscrowKey(id), Value: encodeEscrow(from, amount)},
		}
	}
	return r
}

// Escrow is a settle the hot chain escrowed: a checkpoint credits it to
// the owner's cold account. Key is its hot record.
type Escrow struct {
	Transfer ledger.BridgeTransfer
	Key      []byte
}

// Credit is a deposit the hot chain credited, at HotHeight. Key is its
// marker.
type Credit struct {
	ID        ledger.Hash
	HotHeight uint64
	Key       []byte
}

// Checkpoint is what a checkpoint finds in the hot writes since the
// previous one, in key order.
type Checkpoint struct {
	Escrows []Escrow      // new escrows, to credit on the cold chain
	Credits []Credit      // deposits credited on the hot chain
	Cleaned []ledger.Hash // ids whose record the hot chain deleted
}

// Scan finds the bridge records among the hot writes since the previous
// checkpoint (key → value; empty is deleted). Malformed records are
// ignored: only Settle and Effects write them.
func Scan(writes map[string][]byte) Checkpoint {
	var c Checkpoint
	keys := make([]string, 0, 16)
	for k := range writes {
		if _, _, ok := parseRecord([]byte(k)); ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		tag, id, _ := parseRecord([]byte(k))
		v := writes[k]
		switch {
		case len(v) == 0:
			c.Cleaned = append(c.Cleaned, id)
		case tag == escrowTag:
			if owner, amount, ok := decodeEscrow(v); ok {
				c.Escrows = append(c.Escrows, Escrow{
					Transfer: ledger.BridgeTransfer{ID: id, Kind: ledger.KindSettle, Owner: owner, Amount: amount},
					Key:      []byte(k),
				})
			}
		case tag == markerTag:
			if h, ok := ledger.DecodeUint64(v); ok {
				c.Credits = append(c.Credits, Credit{ID: id, HotHeight: h, Key: []byte(k)})
			}
		}
	}
	return c
}

// Effects returns the writes a hot block at height makes for the bridge,
// read against st (the state the block's transactions run on): credit
// each deposit the cold chain debited and the hot chain has not credited
// (no marker), and delete the records in cleanup that are still there.
func Effects(st vm.State, height uint64, deposits []ledger.BridgeTransfer, cleanup [][]byte) []vm.Write {
	var w []vm.Write
	credited := make(map[ledger.Address]uint64)
	for _, d := range deposits {
		if st.Get(MarkerKey(d.ID)) != nil {
			continue
		}
		key := token.BalanceKey(d.Owner)
		bal, seen := credited[d.Owner]
		if !seen {
			var ok bool
			if bal, ok = ledger.DecodeUint64(st.Get(key)); !ok {
				continue // corrupt: left pending, where an audit sees it
			}
		}
		sum, carry := bits.Add64(bal, d.Amount, 0)
		if carry != 0 {
			continue // beyond the supply: cannot happen; left pending
		}
		credited[d.Owner] = sum
		w = append(w, vm.Write{Key: key, Value: ledger.EncodeUint64(sum)},
			vm.Write{Key: MarkerKey(d.ID), Value: ledger.EncodeUint64(height)})
	}
	for _, k := range cleanup {
		if st.Get(k) != nil {
			w = append(w, vm.Write{Key: k})
		}
	}
	return w
}

// Sums is hot state added up for an audit.
type Sums struct {
	Balances    uint64 // Σ token balances
	Accounts    int    // accounts with a balance
	Escrowed    uint64 // Σ escrows not credited on the cold chain
	BadBalances int    // balances or records that do not decode, sums that overflow
	// Credited holds the deposits with a marker: credited on the hot
	// chain, whether or not the cold chain has seen it yet.
	Credited map[ledger.Hash]bool
}

// Sum adds up the hot state kvs (every key and value), asking credited
// whether the cold chain has credited an escrow.
func Sum(kvs func(yield func(key, value []byte) bool), credited func(id ledger.Hash) bool) Sums {
	s := Sums{Credited: make(map[ledger.Hash]bool)}
	add := func(to *uint64, v uint64) {
		var carry uint64
		if *to, carry = bits.Add64(*to, v, 0); carry != 0 {
			s.BadBalances++
		}
	}
	for k, v := range kvs {
		if rest, ok := bytes.CutPrefix(k, balancePrefix); ok && len(rest) == len(ledger.Address{}) {
			bal, ok := ledger.DecodeUint64(v)
			if !ok {
				s.BadBalances++
				continue
			}
			s.Accounts++
			add(&s.Balances, bal)
			continue
		}
		if tag, id, ok := parseRecord(k); ok && tag == markerTag {
			s.Credited[id] = true
		} else if ok && tag == escrowTag {
			_, amount, ok := decodeEscrow(v)
			if !ok {
				s.BadBalances++
				continue
			}
			if !credited(id) {
				add(&s.Escrowed, amount)
			}
		}
	}
	return s
}

// IsRecord reports whether key is one of the bridge's hot records.
func IsRecord(key []byte) bool {
	_, _, ok := parseRecord(key)
	return ok
}
