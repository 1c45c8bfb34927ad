package perfreport

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/dualchain/dualchain/ledger"
)

const m = modulePath + "/"

func TestClassify(t *testing.T) {
	tests := []struct {
		name  string
		stack []frame // leaf first
		want  string
		by    string
	}{
		{"voi leaf", []frame{{fn: "github.com/oasisprotocol/curve25519-voi/internal/field.(*Element).Mul"},
			{fn: m + "ledger.verifyChunk", file: "/w/ledger/verify.go"}}, GroupVerify, "github.com/oasisprotocol/curve25519-voi/internal/field.(*Element).Mul"},
		{"malloc charged to its caller", []frame{{fn: "runtime.mallocgc"}, {fn: m + "ledger.verifyChunk", file: "/w/ledger/verify.go"}},
			GroupVerify, m + "ledger.verifyChunk"},
		{"GC assist anywhere is GC", []frame{{fn: "runtime.scanobject"}, {fn: "runtime.gcAssistAlloc"}, {fn: "runtime.mallocgc"},
			{fn: m + "ledger.verifyChunk", file: "/w/ledger/verify.go"}}, GroupGC, "runtime.scanobject"},
		{"background mark worker", []frame{{fn: "runtime.memclrNoHeapPointers"}, {fn: "runtime.gcBgMarkWorker"}}, GroupGC, "runtime.memclrNoHeapPointers"},
		{"scheduler", []frame{{fn: "runtime.futex"}, {fn: "runtime.findRunnable"}, {fn: "runtime.schedule"}}, GroupGC, "runtime.futex"},
		{"syscall under net/http", []frame{{fn: "syscall.Syscall6"}, {fn: "internal/poll.(*FD).Write"},
			{fn: "net/http.(*response).Flush"}}, GroupSyscalls, "syscall.Syscall6"},
		{"net/http is not net", []frame{{fn: "net/http.readRequest"}, {fn: "net/http.(*conn).serve"}}, GroupHTTP, "net/http.readRequest"},
		{"encoding/binary is its caller's", []frame{{fn: "encoding/binary.littleEndian.Uint64"},
			{fn: "github.com/oasisprotocol/curve25519-voi/internal/field.(*Element).SetBytes"}}, GroupVerify,
			"github.com/oasisprotocol/curve25519-voi/internal/field.(*Element).SetBytes"},
		{"cbor", []frame{{fn: "github.com/fxamacker/cbor/v2.(*decoder).parse"}}, GroupHTTP, "github.com/fxamacker/cbor/v2.(*decoder).parse"},
		{"ledger codec", []frame{{fn: m + "ledger.(*Tx).appendBody", file: "/w/ledger/txcodec.go"}}, GroupHTTP, m + "ledger.(*Tx).appendBody"},
		{"go-redis", []frame{{fn: "github.com/redis/go-redis/v9/internal/proto.(*Reader).ReadLine"}}, GroupRedis, "github.com/redis/go-redis/v9/internal/proto.(*Reader).ReadLine"},
		{"hotchain redis store", []frame{{fn: m + "hotchain.(*RedisStore).Apply", file: "/w/hotchain/redis_apply.go"}}, GroupRedis, m + "hotchain.(*RedisStore).Apply"},
		{"hotchain commitment", []frame{{fn: m + "hotchain.(*Commitment).Add", file: "/w/hotchain/commitment.go"}}, GroupProduce, m + "hotchain.(*Commitment).Add"},
		{"raft", []frame{{fn: "github.com/hashicorp/raft.(*Raft).runLeader"}}, GroupRaft, "github.com/hashicorp/raft.(*Raft).runLeader"},
		{"raft-wal is raft", []frame{{fn: "github.com/hashicorp/raft-wal.(*WAL).StoreLogs"}}, GroupRaft, "github.com/hashicorp/raft-wal.(*WAL).StoreLogs"},
		{"bbolt", []frame{{fn: "go.etcd.io/bbolt.(*Tx).Commit"}}, GroupRaft, "go.etcd.io/bbolt.(*Tx).Commit"},
		{"pebble", []frame{{fn: "github.com/cockroachdb/pebble/v2.(*DB).Apply"}}, GroupCold, "github.com/cockroachdb/pebble/v2.(*DB).Apply"},
		{"node dispatch is execution", []frame{{fn: m + "node.(*dispatcher).call", file: "/w/node/dispatch.go"}}, GroupExec, m + "node.(*dispatcher).call"},
		{"wazero", []frame{{fn: "github.com/tetratelabs/wazero/internal/engine/wazevo.(*callEngine).Call"}}, GroupExec,
			"github.com/tetratelabs/wazero/internal/engine/wazevo.(*callEngine).Call"},
		{"rest of node is block production", []frame{{fn: m + "node.(*Node).produce", file: "/w/node/producer.go"}}, GroupProduce, m + "node.(*Node).produce"},
		{"unknown code", []frame{{fn: "crypto/sha256.block"}, {fn: "main.main"}, {fn: "runtime.main"}}, GroupOther, "crypto/sha256.block"},
		{"generic with dots in type args", []frame{{fn: "slices.SortFunc[go.shape.[]net/http.Header]"}}, GroupOther, "slices.SortFunc[go.shape.[]net/http.Header]"},
		{"race detector", []frame{{fn: "racecall"}}, GroupGC, "racecall"},
		{"C code", []frame{{fn: "runtime._ExternalCode"}, {fn: "runtime._System"}}, GroupGC, "runtime._ExternalCode"},
		{"empty stack", nil, GroupOther, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, by := classify(tt.stack)
			if got != tt.want || by.fn != tt.by {
				t.Errorf("classify(%v) = %q by %q, want %q by %q", tt.stack, got, by.fn, tt.want, tt.by)
			}
		})
	}
}

func TestPackageOf(t *testing.T) {
	tests := map[string]string{
		"net/http.(*conn).serve":                    "net/http",
		"runtime.mallocgc":                          "runtime",
		"github.com/x/y/v2.(*T).M.func1":            "github.com/x/y/v2",
		"slices.Sort[go.shape.string]":              "slices",
		"github.com/a/b.F[github.com/c/d.T]":        "github.com/a/b",
		"0x4a1f20":                                  "0x4a1f20",
		"github.com/dualchain/dualchain/ledger.New": "github.com/dualchain/dualchain/ledger",
	}
	for fn, want := range tests {
		if got := packageOf(fn); got != want {
			t.Errorf("packageOf(%q) = %q, want %q", fn, got, want)
		}
	}
}

// TestSummarizeSynthetic checks shares, group order and the top lists on
// a profile built by hand, written and parsed as a real one is.
func TestSummarizeSynthetic(t *testing.T) {
	verify := &profile.Function{ID: 1, Name: m + "ledger.verifyChunk", Filename: "/w/ledger/verify.go"}
	mul := &profile.Function{ID: 2, Name: "github.com/oasisprotocol/curve25519-voi/internal/field.(*Element).Mul"}
	malloc := &profile.Function{ID: 3, Name: "runtime.mallocgc"}
	mark := &profile.Function{ID: 4, Name: "runtime.gcBgMarkWorker"}
	serve := &profile.Function{ID: 5, Name: "net/http.(*conn).serve"}
	loc := func(id uint64, fns ...*profile.Function) *profile.Location {
		l := &profile.Location{ID: id}
		for _, f := range fns {
			l.Line = append(l.Line, profile.Line{Function: f})
		}
		return l
	}
	// mul is inlined into verifyChunk at location 1.
	lMulInVerify, lVerify, lMalloc, lMark, lServe := loc(1, mul, verify), loc(2, verify), loc(3, malloc), loc(4, mark), loc(5, serve)
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		DurationNanos: int64(2 * time.Second),
		Function:      []*profile.Function{verify, mul, malloc, mark, serve},
		Location:      []*profile.Location{lMulInVerify, lVerify, lMalloc, lMark, lServe},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{lMulInVerify}, Value: []int64{5, 500e6}},
			{Location: []*profile.Location{lMalloc, lVerify}, Value: []int64{2, 200e6}},
			{Location: []*profile.Location{lMark}, Value: []int64{2, 200e6}},
			{Location: []*profile.Location{lMalloc, lServe}, Value: []int64{1, 100e6}},
		},
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := SummarizeProfile(&buf, 0)
	if err != nil {
		t.Fatalf("SummarizeProfile = %v", err)
	}
	want := ProfileSummary{
		Seconds: 1, Wall: 2,
		Groups: []ProfileGroup{
			{Name: GroupVerify, Share: 0.7, Top: []string{mul.Name, verify.Name}},
			{Name: GroupGC, Share: 0.2, Top: []string{mark.Name}},
			{Name: GroupHTTP, Share: 0.1, Top: []string{serve.Name}},
		},
		Top: []ProfileFunc{
			{Name: mul.Name, Flat: 0.5, Cum: 0.5},
			{Name: malloc.Name, Flat: 0.3, Cum: 0.3},
			{Name: mark.Name, Flat: 0.2, Cum: 0.2},
		},
	}
	if !reflect.DeepEqual(round(got), want) {
		t.Errorf("SummarizeProfile(synthetic) =\n%+v\nwant\n%+v", got, want)
	}
}

// round rounds a summary's shares so float sums compare.
func round(s ProfileSummary) ProfileSummary {
	r := func(f float64) float64 { return math.Round(f*1e6) / 1e6 }
	s.Seconds, s.Wall = r(s.Seconds), r(s.Wall)
	for i := range s.Groups {
		s.Groups[i].Share = r(s.Groups[i].Share)
	}
	for i := range s.Top {
		s.Top[i].Flat, s.Top[i].Cum = r(s.Top[i].Flat), r(s.Top[i].Cum)
	}
	return s
}

func TestSummarizeErrors(t *testing.T) {
	empty := &profile.Profile{SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}}
	heap := &profile.Profile{SampleType: []*profile.ValueType{{Type: "alloc_space", Unit: "bytes"}}}
	encode := func(p *profile.Profile) []byte {
		var buf bytes.Buffer
		if err := p.Write(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"garbage", []byte("not a profile"), ErrBadProfile},
		{"no samples", encode(empty), ErrEmptyProfile},
		{"heap profile", encode(heap), ErrNotCPUProfile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := SummarizeProfile(bytes.NewReader(tt.data), time.Second); !errors.Is(err, tt.want) {
				t.Errorf("SummarizeProfile(%s) = %v, want %v", tt.name, err, tt.want)
			}
		})
	}
}

// TestSummarizeVerifyProfile profiles this process while it does nothing
// but verify ed25519 signatures with ledger.VerifyBatch, and expects
// signature verification to dominate the summary.
func TestSummarizeVerifyProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("profiles a second of work")
	}
	txs := signedTxs(2048)
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skipf("cannot profile (is -cpuprofile set?): %v", err)
	}
	start := time.Now()
	for time.Since(start) < time.Second {
		if _, errs := ledger.VerifyBatch(txs); errors.Join(errs...) != nil {
			pprof.StopCPUProfile()
			t.Fatalf("VerifyBatch = %v", errors.Join(errs...))
		}
	}
	pprof.StopCPUProfile()
	wall := time.Since(start)
	s, err := SummarizeProfile(&buf, wall)
	if err != nil {
		t.Fatalf("SummarizeProfile = %v", err)
	}
	var sum float64
	for _, g := range s.Groups {
		sum += g.Share
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("SummarizeProfile groups' shares sum to %v, want 1 (%+v)", sum, s.Groups)
	}
	if !verifyDominates(s.Groups) {
		t.Errorf("SummarizeProfile(verify loop).Groups = %+v, want %q first with more than half (race detector on: %v)",
			s.Groups, GroupVerify, raceEnabled)
	}
	if s.Seconds <= 0 || s.Wall != wall.Seconds() || len(s.Top) == 0 {
		t.Errorf("SummarizeProfile(verify loop) = %v CPU s, %v wall s, %d top functions; want CPU time, wall %v, functions",
			s.Seconds, s.Wall, len(s.Top), wall.Seconds())
	}
	t.Logf("%.2f CPU s over %.2f s: %+v", s.Seconds, s.Wall, s.Groups)
}

// verifyDominates reports whether signature verification has more than
// half the samples and is the largest group. With the race detector on,
// its C runtime takes a large and varying share (GC and runtime), so then
// verification need only be the largest of the other groups.
func verifyDominates(groups []ProfileGroup) bool {
	var verify, most float64
	for _, g := range groups {
		switch {
		case g.Name == GroupVerify:
			verify = g.Share
		case g.Name != GroupGC || !raceEnabled:
			most = max(most, g.Share)
		}
	}
	return verify > most && (raceEnabled || verify > 0.5)
}

// signedTxs returns n transfers signed by 16 keys.
func signedTxs(n int) []*ledger.Tx {
	txs := make([]*ledger.Tx, n)
	for i := range txs {
		k := ledger.KeyFromSeed(bytes.Repeat([]byte{byte(i%16 + 1)}, 32))
		tx := &ledger.Tx{ChainID: "perfreport-test", Chain: ledger.Hot, Nonce: uint64(i), From: k.Address,
			Contract: ledger.ContractAddress("token"), Function: "transfer", Args: ledger.Bytes{0x82, 0x01, 0x02}, GasLimit: 100_000}
		tx.Sign(k.Private)
		txs[i] = tx
	}
	return txs
}
