package ledger

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
)

// The JSON form of a proof (coldchain/DESIGN.md has an example):
//
//	{"version":1,
//	 "root":"<64 hex>",
//	 "address":"dc<64 hex>",
//	 "account":{"balance":N,"nonce":N},          inclusion only
//	 "leaf":{"key":"<64 hex>","value_hash":"<64 hex>"},  non-inclusion ending at another leaf
//	 "siblings":["<64 hex>", ...]}               root first; may be empty
//
// Decoding is strict, so that a text decodes to a proof in one way only:
// exact, case-sensitive member names, no unknown or repeated members,
// lowercase hex of the exact length, numbers in canonical decimal.

type jsonProof struct {
	Version  int          `json:"version"`
	Root     string       `json:"root"`
	Address  string       `json:"address"`
	Account  *jsonAccount `json:"account,omitempty"`
	Leaf     *jsonLeaf    `json:"leaf,omitempty"`
	Siblings []string     `json:"siblings"`
}

type jsonAccount struct {
	Balance uint64 `json:"balance"`
	Nonce   uint64 `json:"nonce"`
}

type jsonLeaf struct {
	Key       string `json:"key"`
	ValueHash string `json:"value_hash"`
}

// MarshalJSON encodes p in the documented form.
func (p *Proof) MarshalJSON() ([]byte, error) {
	j := jsonProof{
		Version:  ProofVersion,
		Root:     hex.EncodeToString(p.Root[:]),
		Address:  p.Address.String(),
		Siblings: make([]string, len(p.Siblings)),
	}
	if p.Account != nil {
		j.Account = &jsonAccount{Balance: p.Account.Balance, Nonce: p.Account.Nonce}
	}
	if p.Leaf != nil {
		j.Leaf = &jsonLeaf{Key: hex.EncodeToString(p.Leaf.Key[:]), ValueHash: hex.EncodeToString(p.Leaf.ValueHash[:])}
	}
	for i, s := range p.Siblings {
		j.Siblings[i] = hex.EncodeToString(s[:])
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the documented form strictly; any deviation is an
// error wrapping ErrBadProof.
func (p *Proof) UnmarshalJSON(data []byte) error {
	q, err := decodeProof(data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadProof, err)
	}
	*p = *q
	return nil
}

// ParseProof decodes a proof from its JSON form (see UnmarshalJSON).
func ParseProof(data []byte) (*Proof, error) {
	var p Proof
	if err := p.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return &p, nil
}

func decodeProof(data []byte) (*Proof, error) {
	m, err := strictObject(data, []string{"version", "root", "address", "siblings"}, []string{"account", "leaf"})
	if err != nil {
		return nil, err
	}
	if v, err := parseUint(m["version"]); err != nil || v != ProofVersion {
		return nil, fmt.Errorf("version %s, want %d", m["version"], ProofVersion)
	}
	p := &Proof{}
	if p.Root, err = parseHash(m["root"]); err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	if p.Address, err = parseAddress(m["address"]); err != nil {
		return nil, err
	}
	if raw, ok := m["account"]; ok {
		if p.Account, err = parseAccount(raw); err != nil {
			return nil, fmt.Errorf("account: %w", err)
		}
	}
	if raw, ok := m["leaf"]; ok {
		if p.Leaf, err = parseLeaf(raw); err != nil {
			return nil, fmt.Errorf("leaf: %w", err)
		}
	}
	if p.Siblings, err = parseSiblings(m["siblings"]); err != nil {
		return nil, err
	}
	return p, nil
}

func parseAccount(raw json.RawMessage) (*ProofAccount, error) {
	m, err := strictObject(raw, []string{"balance", "nonce"}, nil)
	if err != nil {
		return nil, err
	}
	var a ProofAccount
	if a.Balance, err = parseUint(m["balance"]); err != nil {
		return nil, fmt.Errorf("balance: %w", err)
	}
	if a.Nonce, err = parseUint(m["nonce"]); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return &a, nil
}

func parseLeaf(raw json.RawMessage) (*ProofLeaf, error) {
	m, err := strictObject(raw, []string{"key", "value_hash"}, nil)
	if err != nil {
		return nil, err
	}
	var l ProofLeaf
	if l.Key, err = parseHash(m["key"]); err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if l.ValueHash, err = parseHash(m["value_hash"]); err != nil {
		return nil, fmt.Errorf("value_hash: %w", err)
	}
	return &l, nil
}

func parseSiblings(raw json.RawMessage) ([]Hash, error) {
	var ss []json.RawMessage
	if err := json.Unmarshal(raw, &ss); err != nil || ss == nil {
		return nil, fmt.Errorf("siblings: not an array")
	}
	if len(ss) > ColdTreeDepth {
		return nil, fmt.Errorf("%d siblings, at most %d", len(ss), ColdTreeDepth)
	}
	out := make([]Hash, len(ss))
	for i, s := range ss {
		h, err := parseHash(s)
		if err != nil {
			return nil, fmt.Errorf("sibling %d: %w", i, err)
		}
		out[i] = h
	}
	return out, nil
}

// strictObject decodes a JSON object whose members are all of required
// and some of optional, each once, with exactly those names.
func strictObject(data []byte, required, optional []string) (map[string]json.RawMessage, error) {
	var whole json.RawMessage
	if err := json.Unmarshal(data, &whole); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(whole))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not an object")
	}
	allowed := make(map[string]bool, len(required)+len(optional))
	for _, k := range append(append([]string(nil), required...), optional...) {
		allowed[k] = true
	}
	m := make(map[string]json.RawMessage)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string)
		if !allowed[name] {
			return nil, fmt.Errorf("unknown member %q", name)
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("member %q twice", name)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		m[name] = v
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			return nil, fmt.Errorf("member %q missing", k)
		}
	}
	return m, nil
}

// parseUint reads a canonical decimal JSON number.
func parseUint(raw json.RawMessage) (uint64, error) {
	s := string(raw)
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || strconv.FormatUint(v, 10) != s {
		return 0, fmt.Errorf("not a canonical unsigned integer: %q", s)
	}
	return v, nil
}

// parseHash reads a JSON string of 64 lowercase hex digits.
func parseHash(raw json.RawMessage) (Hash, error) {
	var h Hash
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return h, fmt.Errorf("not a string")
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) || hex.EncodeToString(b) != s || string(raw) != `"`+s+`"` {
		return h, fmt.Errorf("not 64 lowercase hex digits: %q", s)
	}
	copy(h[:], b)
	return h, nil
}

func parseAddress(raw json.RawMessage) (Address, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return Address{}, fmt.Errorf("address: not a string")
	}
	a, err := ParseAddress(s)
	if err != nil || a.String() != s || string(raw) != `"`+s+`"` {
		return Address{}, fmt.Errorf("address: not %q followed by 64 lowercase hex digits: %q", AddressPrefix, s)
	}
	return a, nil
}
