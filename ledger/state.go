package ledger

import "encoding/binary"

// State keys. Hot state is a map from these keys to values; a block's write
// set and the state commitment are expressed in them. Stores may map them to
// their own key schema but must not change them.
const (
	keyNonce   = 'n' // 'n' + account address -> next nonce, 8 bytes big-endian
	keyStorage = 's' // 's' + contract address + contract's key -> contract's value
	keyCode    = 'c' // 'c' + contract address -> the SHA-256 hash of its code
	keyBlob    = 'w' // 'w' + code hash -> the WebAssembly module, as deployed
)

// CodeKey is the state key holding the code hash of the contract at a.
func CodeKey(a Address) []byte { return append([]byte{keyCode}, a[:]...) }

// CodeBlobKey is the state key holding the module whose hash is h.
func CodeBlobKey(h Hash) []byte { return append([]byte{keyBlob}, h[:]...) }

// NonceKey is the state key of an account's next nonce on the hot chain.
func NonceKey(a Address) []byte {
	k := make([]byte, 1+len(a))
	k[0] = keyNonce
	copy(k[1:], a[:])
	return k
}

// StorageKey is the state key of a contract's storage key.
func StorageKey(contract Address, key []byte) []byte {
	k := make([]byte, 1+len(contract)+len(key))
	k[0] = keyStorage
	copy(k[1:], contract[:])
	copy(k[1+len(contract):], key)
	return k
}

// EncodeUint64 encodes a counter or an amount as a state value. Zero is the
// empty value: absent and zero are the same state.
func EncodeUint64(v uint64) []byte {
	if v == 0 {
		return nil
	}
	return binary.BigEndian.AppendUint64(nil, v)
}

// DecodeUint64 reads a value written by EncodeUint64; it returns false for a
// value of the wrong length.
func DecodeUint64(b []byte) (uint64, bool) {
	switch len(b) {
	case 0:
		return 0, true
	case 8:
		return binary.BigEndian.Uint64(b), true
	}
	return 0, false
}
