package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/internal/redistest"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/node"
	"github.com/dualchain/dualchain/vm"
)

// The abuse node's limits: short enough that the tests need not wait long,
// small enough to reach.
const (
	abuseHeaderTimeout = time.Second
	abuseMaxConns      = 8
	abuseToken         = "abuse-token"
	// abuseWait bounds every wait for something that must happen; none of
	// it is timed, so it is generous (the machine is shared).
	abuseWait = 30 * time.Second
)

// abuse is one node process on real Redis that the abuse tests attack,
// with a key holding funds and a key with none.
type abuse struct {
	n       *nodeProc
	url     string
	chainID string
	faucet  *ledger.Key
	bob     *ledger.Key
	// hc opens a connection per request (no keep-alive), so the tests'
	// own idle connections never take the node's connection slots.
	hc *http.Client
}

// TestAPIAbuse sends a real node, over real TCP, requests no honest client
// sends (issue 8, item 5): each gets a clear error with a stable code, the
// node keeps serving, and its state is what it was.
func TestAPIAbuse(t *testing.T) {
	a := startAbuse(t)
	t.Run("rejected requests", a.rejectedRequests)
	t.Run("oversized bodies", a.oversized)
	t.Run("replayed and gapped nonces", a.nonces)
	t.Run("amounts past the balance", a.overdraft)
	t.Run("cold transfer of 2^64-1", a.coldOverdraft)
	t.Run("hostile wasm", a.hostileWasm)
	t.Run("slow client", a.slowClient)
	t.Run("too many connections", a.tooManyConns)
}

func startAbuse(t *testing.T) *abuse {
	t.Helper()
	rs := redistest.Start(t)
	dataDir := t.TempDir()
	n := launchWith(t, dataDir, "--store", "redis", "--redis", rs.URL(), "--admin-token", abuseToken,
		"--header-timeout", abuseHeaderTimeout.String(), "--max-conns", strconv.Itoa(abuseMaxConns))
	faucet, err := ledger.LoadKeyFile(filepath.Join(dataDir, node.FaucetFile))
	if err != nil {
		t.Fatalf("LoadKeyFile(faucet) = %v", err)
	}
	st, err := n.client.Status(context.Background())
	if err != nil {
		t.Fatalf("Status() = %v", err)
	}
	seed := bytes.Repeat([]byte{0xb0}, 32)
	hc := &http.Client{Timeout: abuseWait, Transport: &http.Transport{DisableKeepAlives: true}}
	return &abuse{n: n, url: n.url, chainID: st.ChainID, faucet: faucet, bob: ledger.KeyFromSeed(seed), hc: hc}
}

// launchWith starts `dualchain node --dev` on dataDir with extra flags, on
// free loopback ports, and returns once it answers.
func launchWith(t *testing.T, dataDir string, extra ...string) *nodeProc {
	t.Helper()
	bin := binary(t)
	for attempt := range 3 {
		httpPort, err1 := freePort()
		raftPort, err2 := freePort()
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("free port: %v", err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort))
		logPath := filepath.Join(t.TempDir(), fmt.Sprintf("node-%d.log", attempt))
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		args := append([]string{"node", "--dev", "--data", dataDir, "--http", addr,
			"--raft", net.JoinHostPort("127.0.0.1", strconv.Itoa(raftPort)), "--exec", "both"}, extra...)
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			logFile.Close()
			t.Fatalf("start node: %v", err)
		}
		n := &nodeProc{t: t, url: "http://" + addr, logPath: logPath, cmd: cmd, done: make(chan struct{})}
		n.client = client.New(n.url)
		go func() {
			n.exitErr = cmd.Wait()
			logFile.Close()
			close(n.done)
		}()
		t.Cleanup(n.cleanup)
		if err = n.waitReady(); err == nil {
			return n
		}
		n.kill()
		if !strings.Contains(tail(logPath, logTail), "address already in use") {
			t.Fatalf("start node: %v", err)
		}
	}
	t.Fatalf("start node: ports taken three times")
	return nil
}

// reply is an HTTP answer.
type reply struct {
	status int
	body   []byte
}

// errorBody returns the answer's error, failing the test if it has none.
func (r reply) errorBody(t *testing.T) api.ErrorBody {
	t.Helper()
	var e api.ErrorResponse
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("answer %d %q: want a JSON error with a code and a message", r.status, r.body)
	}
	return e.Error
}

func (a *abuse) do(t *testing.T, method, path, contentType string, body []byte, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, a.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	return reply{resp.StatusCode, data}
}

// submit posts body and, with wait, waits for the commit.
func (a *abuse) submit(t *testing.T, ct string, body []byte, wait bool) reply {
	t.Helper()
	path := "/v1/transactions"
	if wait {
		path += "?wait=commit"
	}
	return a.do(t, "POST", path, ct, body)
}

// results decodes a submission's answer.
func (r reply) results(t *testing.T) []api.TxResult {
	t.Helper()
	var resp api.SubmitResponse
	if err := json.Unmarshal(r.body, &resp); err != nil {
		t.Fatalf("answer %d %q: %v", r.status, r.body, err)
	}
	return resp.Results
}

// call signs a hot call from key.
func (a *abuse) call(key *ledger.Key, nonce uint64, contract ledger.Address, function string, args []byte, gas uint64) *ledger.Tx {
	tx := &ledger.Tx{ChainID: a.chainID, Chain: ledger.Hot, Nonce: nonce, From: key.Address,
		Contract: contract, Function: function, Args: args, GasLimit: gas}
	tx.Sign(key.Private)
	return tx
}

func (a *abuse) transfer(nonce uint64, to ledger.Address, amount uint64) *ledger.Tx {
	return a.call(a.faucet, nonce, token.Address, token.FuncTransfer, token.EncodeTransfer(to, amount), token.TransferGas)
}

func (a *abuse) coldTransfer(nonce, amount uint64) *ledger.Tx {
	tx := &ledger.Tx{ChainID: a.chainID, Chain: ledger.Cold, Nonce: nonce, From: a.faucet.Address, Contract: token.Address,
		Function: token.FuncTransfer, Args: token.EncodeTransfer(a.bob.Address, amount), GasLimit: token.TransferGas}
	tx.Sign(a.faucet.Private)
	return tx
}

func (a *abuse) deploy(nonce uint64, code []byte) *ledger.Tx {
	return a.call(a.faucet, nonce, ledger.DeployAddress, ledger.FuncDeploy, code, vm.GasCall+vm.DeployGas(len(code)))
}

func jsonBody(t *testing.T, txs ...*ledger.Tx) []byte {
	t.Helper()
	var v any = api.NewTxJSON(txs[0])
	if len(txs) > 1 {
		req := api.SubmitRequest{Txs: make([]api.TxJSON, len(txs))}
		for i, tx := range txs {
			req.Txs[i] = api.NewTxJSON(tx)
		}
		v = req
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cborBody(t *testing.T, txs ...*ledger.Tx) []byte {
	t.Helper()
	if len(txs) == 1 {
		return txs[0].Encode()
	}
	b, err := ledger.Marshal(txs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// snapshot is what abuse must not change: the hot head and commitment,
// the mempool, and the accounts involved, hot and cold.
type snapshot struct {
	status   api.Status
	accounts []ledger.Account // faucet, bob
	cold     []ledger.Account
}

func (a *abuse) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), abuseWait)
	defer cancel()
	st, err := a.n.client.Status(ctx)
	if err != nil {
		t.Fatalf("Status() = %v: the node stopped answering", err)
	}
	s := snapshot{status: st}
	for _, k := range []*ledger.Key{a.faucet, a.bob} {
		acct, err := a.n.client.Account(ctx, k.Address)
		if err != nil {
			t.Fatalf("Account(%s) = %v", k.Address, err)
		}
		cold, err := a.n.client.ColdAccount(ctx, k.Address)
		if err != nil {
			t.Fatalf("ColdAccount(%s) = %v", k.Address, err)
		}
		s.accounts, s.cold = append(s.accounts, acct), append(s.cold, cold)
	}
	return s
}

// unchanged fails the test unless the node answers with the state of
// before.
func (a *abuse) unchanged(t *testing.T, before snapshot) {
	t.Helper()
	after := a.snapshot(t)
	b, n := before.status, after.status
	if n.Height != b.Height || n.Head != b.Head || n.Commitment != b.Commitment || n.Mempool != b.Mempool {
		t.Errorf("status = height %d head %s commitment %s mempool %d, want it unchanged: %d %s %s %d",
			n.Height, n.Head, n.Commitment, n.Mempool, b.Height, b.Head, b.Commitment, b.Mempool)
	}
	for i := range before.accounts {
		if after.accounts[i] != before.accounts[i] || after.cold[i] != before.cold[i] {
			t.Errorf("account = hot %+v cold %+v, want it unchanged: hot %+v cold %+v",
				after.accounts[i], after.cold[i], before.accounts[i], before.cold[i])
		}
	}
}

// abuseCase is one request the node must refuse.
type abuseCase struct {
	name   string
	method string // "" is POST /v1/transactions
	path   string
	ct     string
	body   []byte
	status int
	code   string
	msg    string // the message contains this
}

// rejectedRequests sends each bad request and checks the error and that
// nothing changed.
func (a *abuse) rejectedRequests(t *testing.T) {
	for _, tt := range a.rejectedCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			before := a.snapshot(t)
			method, path := tt.method, tt.path
			if method == "" {
				method, path = "POST", "/v1/transactions"
			}
			r := a.do(t, method, path, tt.ct, tt.body, "Authorization", "Bearer "+abuseToken)
			e := r.errorBody(t)
			if r.status != tt.status || e.Code != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("%s %s = %d %s %q, want %d %s containing %q", method, path, r.status, e.Code, e.Message, tt.status, tt.code, tt.msg)
			}
			a.unchanged(t, before)
		})
	}
	r := a.do(t, "GET", "/v1/admin/members", "", nil, "Authorization", "Bearer "+abuseToken)
	if r.status != http.StatusOK || strings.Count(string(r.body), `"id"`) != 1 {
		t.Errorf("members = %d %s, want this node alone", r.status, r.body)
	}
}

func (a *abuse) rejectedCases(t *testing.T) []abuseCase {
	tx := a.transfer(0, a.bob.Address, 1)
	good := string(jsonBody(t, tx))
	flipped := *tx
	flipped.Sig[5] ^= 1
	wrongChain := *tx
	wrongChain.ChainID = a.chainID + "-other"
	wrongChain.Sign(a.faucet.Private)
	batch := make([]*ledger.Tx, api.DefaultConfig().MaxBatch+1)
	for i := range batch {
		batch[i] = a.transfer(uint64(i), a.bob.Address, 1)
	}
	big := a.deploy(0, make([]byte, ledger.MaxTxSize))
	bigModule := a.deploy(0, append([]byte("\x00asm\x01\x00\x00\x00"), make([]byte, vm.MaxCodeSize)...))
	return append([]abuseCase{
		{name: "malformed JSON", ct: api.MediaJSON, body: []byte(`{"chain_id":`), status: 400, code: "bad_encoding", msg: "malformed JSON"},
		{name: "JSON not an object", ct: api.MediaJSON, body: []byte(`[1,2]`), status: 400, code: "bad_encoding", msg: "want an object"},
		{name: "JSON bad hex", ct: api.MediaJSON, body: []byte(strings.Replace(good, `"sig":"`, `"sig":"zz`, 1)), status: 400, code: "bad_encoding"},
		{name: "malformed CBOR", ct: api.MediaCBOR, body: []byte{0xff, 0x00}, status: 400, code: "bad_encoding", msg: "malformed CBOR"},
		{name: "truncated CBOR", ct: api.MediaCBOR, body: tx.Encode()[:40], status: 400, code: "bad_encoding", msg: "malformed CBOR"},
		{name: "unknown JSON field", ct: api.MediaJSON, body: []byte(strings.Replace(good, `{`, `{"memo":"hi",`, 1)), status: 400, code: "bad_encoding", msg: `unknown field "memo"`},
		{name: "unknown JSON field of a batch", ct: api.MediaJSON, body: []byte(`{"txs":[` + good + `],"memo":1}`), status: 400, code: "bad_encoding", msg: `unknown field "memo"`},
		{name: "extra CBOR field", ct: api.MediaCBOR, body: append([]byte{0x8a}, append(tx.Encode()[1:], 0x00)...), status: 400, code: "bad_encoding"},
		{name: "unsupported media type", ct: "text/plain", body: []byte(good), status: 415, code: "unsupported_media_type"},
		{name: "JSON batch past the limit", ct: api.MediaJSON, body: jsonBody(t, batch...), status: 413, code: "batch_too_large", msg: "limit"},
		{name: "CBOR batch past the limit", ct: api.MediaCBOR, body: cborBody(t, batch...), status: 413, code: "batch_too_large", msg: "limit"},
		{name: "CBOR batch header of 2^64-1", ct: api.MediaCBOR, body: []byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80}, status: 413, code: "batch_too_large"},
		{name: "transaction past the size limit", ct: api.MediaCBOR, body: big.Encode(), status: 413, code: "too_large"},
		{name: "deploy past the code size limit", ct: api.MediaCBOR, body: bigModule.Encode(), status: 413, code: "too_large", msg: "args of"},
		{name: "wrong chain id", ct: api.MediaCBOR, body: wrongChain.Encode(), status: 400, code: "wrong_chain_id"},
		{name: "bad signature", ct: api.MediaCBOR, body: flipped.Encode(), status: 400, code: "bad_signature"},
		{name: "malleable signature (S+L)", ct: api.MediaCBOR, body: malleable(tx).Encode(), status: 400, code: "bad_signature"},
		{name: "nonce far ahead", ct: api.MediaCBOR, body: a.transfer(1<<40, a.bob.Address, 1).Encode(), status: 409, code: "nonce_too_high"},
		{name: "amount past the balance", ct: api.MediaCBOR, body: a.transfer(0, a.bob.Address, math.MaxUint64/2).Encode(), status: 409, code: "insufficient_funds"},
		{name: "two amounts of 2^63 in a batch", ct: api.MediaCBOR, body: cborBody(t, a.transfer(0, a.bob.Address, 1<<63), a.transfer(1, a.bob.Address, 1<<63)), status: 409, code: "insufficient_funds"},
		{name: "amount 2^64-1", ct: api.MediaCBOR, body: a.transfer(0, a.bob.Address, math.MaxUint64).Encode(), status: 409, code: "insufficient_funds"},
		{name: "gas limit 2^64-1", ct: api.MediaCBOR, body: a.call(a.faucet, 0, token.Address, token.FuncTransfer, token.EncodeTransfer(a.bob.Address, 1), math.MaxUint64).Encode(), status: 400, code: "gas_limit_too_low", msg: "at most"},
		{name: "wait=forever", path: "/v1/transactions?wait=forever", method: "POST", ct: api.MediaCBOR, body: tx.Encode(), status: 400, code: "bad_request", msg: "wait"},
		{name: "height not a number", method: "GET", path: "/v1/blocks/1e3", status: 400, code: "bad_request"},
		{name: "height past 2^64", method: "GET", path: "/v1/blocks/18446744073709551616", status: 400, code: "bad_request"},
		{name: "range backwards", method: "GET", path: "/v1/blocks?from=5&to=1", status: 400, code: "bad_request"},
		{name: "bad address", method: "GET", path: "/v1/accounts/dc" + strings.Repeat("zz", 32), status: 400, code: "bad_address"},
		{name: "bad tx id", method: "GET", path: "/v1/transactions/" + strings.Repeat("0", 63), status: 400, code: "bad_hash"},
		{name: "admin member with an unknown field", method: "POST", path: "/v1/admin/members", ct: api.MediaJSON,
			body: []byte(`{"id":"n9","raft_addr":"127.0.0.1:1","url":"http://127.0.0.1:1","votr":true}`), status: 400, code: "bad_request", msg: `unknown field "votr"`},
		{name: "admin member, trailing data", method: "POST", path: "/v1/admin/members", ct: api.MediaJSON,
			body: []byte(`{"id":"n9","raft_addr":"127.0.0.1:1","url":"http://127.0.0.1:1"}{}`), status: 400, code: "bad_request", msg: "trailing data"},
		{name: "admin member body past its limit", method: "POST", path: "/v1/admin/members", ct: api.MediaJSON,
			body: []byte(`{"id":"` + strings.Repeat("n", 64<<10) + `"}`), status: 413, code: "too_large"},
		{name: "leadership with an unknown field", method: "POST", path: "/v1/admin/leadership", ct: api.MediaJSON,
			body: []byte(`{"to":"n1","force":true}`), status: 400, code: "bad_request", msg: `unknown field "force"`},
	}, a.refusedModules(t)...)
}

// groupOrder is L, the order of ed25519's base point.
var groupOrder, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

// malleable returns tx with L added to its signature's S: a signature that
// checks out under a verifier that forgets S < L.
func malleable(tx *ledger.Tx) *ledger.Tx {
	out := *tx
	s := make([]byte, 32)
	for i := range 32 { // S is little-endian
		s[31-i] = tx.Sig[32+i]
	}
	sum := new(big.Int).Add(new(big.Int).SetBytes(s), groupOrder).FillBytes(make([]byte, 32))
	for i := range 32 {
		out.Sig[32+i] = sum[31-i]
	}
	return &out
}

// refusedModules are deploys of modules the VM refuses: each is a
// bad_module before it takes a nonce. Where the VM's own tests run such
// modules (vm/testdata/refused), this checks only the way through the API.
func (a *abuse) refusedModules(t *testing.T) []abuseCase {
	files, err := filepath.Glob("../../vm/testdata/refused/*.wasm")
	if err != nil || len(files) < 7 {
		t.Fatalf("vm/testdata/refused: %d modules (%v), want 7", len(files), err)
	}
	cases := []abuseCase{
		{name: "deploy of garbage", body: []byte("#!/bin/sh\nrm -rf /\n")},
		{name: "deploy of an empty module", body: nil},
	}
	for _, f := range files {
		code, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, abuseCase{name: "deploy of " + filepath.Base(f), body: code})
	}
	for i := range cases {
		cases[i].body = a.deploy(0, cases[i].body).Encode()
		cases[i].ct, cases[i].status, cases[i].code = api.MediaCBOR, 400, "bad_module"
	}
	return cases
}

// oversized sends bodies past the node's limit: announced by
// Content-Length (refused before any of it is read) and chunked (refused
// once the limit is read, not when the node's 30 s read timeout ends a
// body that stops just past it: bug 7 of docs/robustness.md).
func (a *abuse) oversized(t *testing.T) {
	limit := api.DefaultConfig().MaxBodyBytes
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			before := a.snapshot(t)
			start := time.Now()
			r := a.rawOversized(t, limit, chunked)
			took := time.Since(start)
			if e := r.errorBody(t); r.status != 413 || e.Code != "too_large" || !strings.Contains(e.Message, strconv.FormatInt(limit, 10)) {
				t.Errorf("oversized body = %d %s %q, want 413 too_large naming the limit", r.status, e.Code, e.Message)
			}
			if took > oversizedAnswer {
				t.Errorf("oversized body answered after %v, want within %v of the first byte (the limit read, not a timeout)", took, oversizedAnswer)
			}
			a.unchanged(t, before)
		})
	}
}

// oversizedAnswer bounds the wait for the 413 of an oversized body: the
// node answers within about 0.15 s of reading its limit, and the bound
// stays well below its 30 s read timeout on a loaded machine.
const oversizedAnswer = 10 * time.Second

// rawOversized writes a submission of more than limit bytes of spaces on a
// connection of its own and reads the answer while it writes.
func (a *abuse) rawOversized(t *testing.T, limit int64, chunked bool) reply {
	t.Helper()
	conn := a.dial(t)
	defer conn.Close()
	head := "POST /v1/transactions HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n"
	if chunked {
		head += "Transfer-Encoding: chunked\r\n\r\n"
	} else {
		head += fmt.Sprintf("Content-Length: %d\r\n\r\n", limit+1)
	}
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatalf("write headers: %v", err)
	}
	if chunked {
		go func() { // stops when the node closes the connection
			chunk := []byte(fmt.Sprintf("%x\r\n%s\r\n", 64<<10, bytes.Repeat([]byte(" "), 64<<10)))
			for sent := int64(0); sent <= limit; sent += 64 << 10 {
				if _, err := conn.Write(chunk); err != nil {
					return
				}
			}
		}()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, body}
}

func (a *abuse) dial(t *testing.T) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(a.url, "http://"), abuseWait)
	if err != nil {
		t.Fatalf("dial %s: %v", a.url, err)
	}
	if err := conn.SetDeadline(time.Now().Add(2 * abuseWait)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// nonces replays a committed transaction, reuses its nonce, and leaves a
// gap that a later transaction fills.
func (a *abuse) nonces(t *testing.T) {
	start := a.snapshot(t)
	nonce := start.accounts[0].Nonce
	first := a.transfer(nonce, a.bob.Address, 7)
	if res := a.submit(t, api.MediaCBOR, first.Encode(), true).results(t); res[0].Status != api.StatusCommitted || res[0].Receipt.Status != ledger.StatusOK {
		t.Fatalf("first transfer = %+v, want committed ok", res[0])
	}
	before := a.snapshot(t)
	// The same transaction again is a client's retry: it is answered with
	// its commit, not applied again.
	again := a.submit(t, api.MediaCBOR, first.Encode(), true).results(t)
	if again[0].Status != api.StatusCommitted || again[0].Block != a.txView(t, first).Block {
		t.Errorf("the same transaction again = %+v, want its first commit", again[0])
	}
	a.unchanged(t, before)
	r := a.submit(t, api.MediaCBOR, a.transfer(nonce, a.bob.Address, 8).Encode(), true)
	if e := r.errorBody(t); r.status != http.StatusConflict || e.Code != "nonce_too_low" {
		t.Errorf("another transaction with a used nonce = %d %s %q, want 409 nonce_too_low", r.status, e.Code, e.Message)
	}
	a.unchanged(t, before)
	// A gap: nonce+2 waits in the mempool, uncommitted, until nonce+1
	// fills it; then both commit, each once.
	late := a.transfer(nonce+2, a.bob.Address, 11)
	if res := a.submit(t, api.MediaCBOR, late.Encode(), false).results(t); res[0].Status != api.StatusPending {
		t.Fatalf("transfer past a gap = %+v, want pending", res[0])
	}
	if ok, _ := a.committed(t, late.ID()); ok {
		t.Errorf("transfer past a gap is committed, want it pending")
	}
	if acct := a.snapshot(t).accounts; acct[0].Nonce != nonce+1 || acct[1].Balance != before.accounts[1].Balance {
		t.Errorf("accounts = %+v after a gapped transfer, want them as before it", acct)
	}
	filler := a.transfer(nonce+1, a.bob.Address, 13)
	if res := a.submit(t, api.MediaCBOR, filler.Encode(), true).results(t); res[0].Status != api.StatusCommitted {
		t.Fatalf("transfer filling the gap = %+v, want committed", res[0])
	}
	waitUntil(t, "the transfer past the gap commits", abuseWait, func() (bool, string) { return a.committed(t, late.ID()) })
	end := a.snapshot(t)
	if got, want := end.accounts[1].Balance, start.accounts[1].Balance+7+13+11; got != want || end.accounts[0].Nonce != nonce+3 {
		t.Errorf("bob's balance %d, faucet's nonce %d; want %d and %d: each transfer applied once", got, end.accounts[0].Nonce, want, nonce+3)
	}
	if got, want := end.accounts[0].Balance+end.accounts[1].Balance, start.accounts[0].Balance+start.accounts[1].Balance; got != want {
		t.Errorf("faucet + bob = %d, want %d (supply conserved)", got, want)
	}
}

// txView returns committed transaction tx as the node shows it.
func (a *abuse) txView(t *testing.T, tx *ledger.Tx) *api.TxView {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), abuseWait)
	defer cancel()
	v, err := a.n.client.Tx(ctx, tx.ID())
	if err != nil {
		t.Fatalf("Tx(%s) = %v", tx.ID(), err)
	}
	return v
}

// committed reports whether transaction id is in a block; a pending one
// is not found.
func (a *abuse) committed(t *testing.T, id ledger.Hash) (bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), abuseWait)
	defer cancel()
	_, err := a.n.client.Tx(ctx, id)
	var ce *client.Error
	if errors.As(err, &ce) && ce.Code == "not_found" {
		return false, "not found"
	}
	if err != nil {
		t.Fatalf("Tx(%s) = %v", id, err)
	}
	return true, "committed"
}

// overdraft sends a batch of two transfers that each fit the balance but
// together pass it: both are admitted against the committed balance, the
// first commits, and the second fails in the block without moving funds.
func (a *abuse) overdraft(t *testing.T) {
	before := a.snapshot(t)
	f := before.accounts[0]
	half := f.Balance/2 + 1
	txs := []*ledger.Tx{a.transfer(f.Nonce, a.bob.Address, half), a.transfer(f.Nonce+1, a.bob.Address, half)}
	res := a.submit(t, api.MediaCBOR, cborBody(t, txs...), true).results(t)
	if len(res) != 2 || res[0].Status != api.StatusCommitted || res[0].Receipt.Status != ledger.StatusOK {
		t.Fatalf("results = %+v, want the first transfer committed ok", res)
	}
	if r := res[1]; r.Status != api.StatusCommitted || r.Receipt.Status == ledger.StatusOK {
		t.Errorf("second transfer = %+v, want committed with a failed receipt", r)
	} else {
		t.Logf("second transfer: %s %q", r.Receipt.Status, r.Receipt.Error)
	}
	after := a.snapshot(t)
	if got, want := after.accounts[0].Balance, f.Balance-half; got != want {
		t.Errorf("faucet's balance = %d, want %d (the second transfer moved nothing)", got, want)
	}
	if got, want := after.accounts[0].Balance+after.accounts[1].Balance, f.Balance+before.accounts[1].Balance; got != want {
		t.Errorf("faucet + bob = %d, want %d (supply conserved)", got, want)
	}
}

// coldOverdraft sends a cold transfer of 2^64-1. Like a hot transfer past
// the balance, it is refused at admission with insufficient_funds: no
// block takes it, so it uses up no cold nonce and moves nothing.
func (a *abuse) coldOverdraft(t *testing.T) {
	before := a.snapshot(t)
	r := a.submit(t, api.MediaCBOR, a.coldTransfer(before.cold[0].Nonce, math.MaxUint64).Encode(), true)
	if e := r.errorBody(t); r.status != http.StatusConflict || e.Code != "insufficient_funds" {
		t.Fatalf("cold transfer of 2^64-1 = %d %s %q, want 409 insufficient_funds", r.status, e.Code, e.Message)
	}
	a.unchanged(t, before)
}

// hostileGas is the hostile calls' gas limit, as in vm.TestHostile: a
// tenth of the node's most, so that gas stops a loop long before the VM's
// 1 s deadline even under the race detector on a loaded machine (with the
// most, 10M, a loop once ran into the deadline there: aborted, not
// out_of_gas; the deadline is only a backstop).
const hostileGas = 1_000_000

// hostileWasm deploys vm/testdata/hostile.wasm through the API and calls
// its hostile functions: each ends with a clear receipt, moves no funds,
// and the node goes on serving. The VM's own tests cover these functions
// in depth (vm.TestHostile); this checks the way through a node.
func (a *abuse) hostileWasm(t *testing.T) {
	code, err := os.ReadFile("../../vm/testdata/hostile.wasm")
	if err != nil {
		t.Fatal(err)
	}
	nonce := a.snapshot(t).accounts[0].Nonce
	res := a.submit(t, api.MediaCBOR, a.deploy(nonce, code).Encode(), true).results(t)
	if res[0].Status != api.StatusCommitted || res[0].Receipt.Status != ledger.StatusOK {
		t.Fatalf("deploy hostile.wasm = %+v, want committed ok", res[0])
	}
	contract := ledger.DeployedAddress(a.faucet.Address, nonce)
	nonce++
	tests := []struct {
		function string
		want     ledger.Status
		msg      string
	}{
		{"loop", ledger.StatusOutOfGas, "out of gas"},
		{"grow_huge", ledger.StatusOutOfGas, "out of gas"},
		{"recurse", ledger.StatusAborted, "call depth"},
		{"oob_load", ledger.StatusAborted, "out of bounds"},
		{"emit_many", ledger.StatusAborted, "events"},
		{"write_then_abort", ledger.StatusAborted, ""},
		{"missing", ledger.StatusUnknownFunction, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			before := a.snapshot(t)
			tx := a.call(a.faucet, nonce, contract, tt.function, nil, hostileGas)
			nonce++
			res := a.submit(t, api.MediaCBOR, tx.Encode(), true).results(t)
			rc := res[0].Receipt
			if res[0].Status != api.StatusCommitted || rc.Status != tt.want || !strings.Contains(rc.Error, tt.msg) || len(rc.Events) != 0 {
				t.Fatalf("call %s = %+v %+v, want committed %s containing %q, no events", tt.function, res[0], rc, tt.want, tt.msg)
			}
			after := a.snapshot(t)
			if after.accounts[0].Balance != before.accounts[0].Balance || after.accounts[1] != before.accounts[1] {
				t.Errorf("accounts = %+v, want the balances of before %+v", after.accounts, before.accounts)
			}
		})
	}
}

// slowClient sends a request's headers a byte at a time, slower than the
// node's header timeout allows: the node closes the connection long before
// the headers are done, and goes on serving.
func (a *abuse) slowClient(t *testing.T) {
	before := a.snapshot(t)
	conn := a.dial(t)
	defer conn.Close()
	head := []byte("GET /v1/status HTTP/1.1\r\nHost: node\r\nX-Slow: " + strings.Repeat("s", 200) + "\r\n\r\n")
	closed := make(chan string, 1)
	go func() { // whatever the node sends, then its close
		got, err := io.ReadAll(conn)
		closed <- fmt.Sprintf("%q, %v", got, err)
	}()
	start := time.Now()
	sent := 0
	for sent < len(head) {
		select {
		case got := <-closed:
			took := time.Since(start)
			t.Logf("the node closed the connection after %d of %d header bytes, %v (header timeout %v); it sent %s",
				sent, len(head), took.Round(time.Millisecond), abuseHeaderTimeout, got)
			// Not a timing check: only a node that ignored --header-timeout
			// would take the default's 10 s.
			if def := node.DefaultConfig().HeaderTimeout; took >= def {
				t.Errorf("closed after %v, want the %v of --header-timeout, not the default %v", took, abuseHeaderTimeout, def)
			}
			a.unchanged(t, before)
			return
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := conn.Write(head[sent : sent+1]); err != nil {
			t.Logf("write after %d bytes: %v", sent, err)
		} else {
			sent++
		}
	}
	select {
	case got := <-closed:
		t.Errorf("the node read all %d header bytes sent over %v before closing (it sent %s); want it cut off by its %v header timeout",
			len(head), time.Since(start), got, abuseHeaderTimeout)
	case <-time.After(abuseWait):
		t.Errorf("the connection is open %v after its headers began; want it closed by the node's %v header timeout",
			time.Since(start), abuseHeaderTimeout)
	}
}

// tooManyConns holds as many connections as the node serves at once, each
// in a request whose body never comes: a further client waits (it is not
// served while they are held), and is served once they close.
func (a *abuse) tooManyConns(t *testing.T) {
	before := a.snapshot(t)
	held := make([]net.Conn, abuseMaxConns)
	for i := range held {
		held[i] = a.dial(t)
		if _, err := io.WriteString(held[i], "POST /v1/transactions HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"); err != nil {
			t.Fatalf("write headers: %v", err)
		}
	}
	// The probe is not served while the connections are held. (A request
	// that gets through would mean no cap: the held ones wait 30 s, the
	// node's read timeout, before the node would close them itself.)
	probe := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := probe.Get(a.url + "/v1/status"); err == nil {
		resp.Body.Close()
		t.Errorf("GET /v1/status with %d connections held = %s, want it to wait for a free connection", abuseMaxConns, resp.Status)
	} else {
		t.Logf("with %d connections held, GET /v1/status: %v", abuseMaxConns, err)
	}
	for _, c := range held {
		c.Close()
	}
	waitUntil(t, "the node serves again after the held connections close", abuseWait, func() (bool, string) {
		resp, err := probe.Get(a.url + "/v1/status")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	a.unchanged(t, before)
}
