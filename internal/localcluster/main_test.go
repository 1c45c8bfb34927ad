package localcluster

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dualchain/dualchain/ledger"
)

// TestMain lets the test binary stand in for the dualchain binary: run as
// "BINARY node --data ... --http ADDR --id ID ...", it is a fake node; run
// as "BINARY tether-parent ...", it is TestTetherChildren's parent. Running
// the tests, it tethers the processes it starts, so that none outlives a
// test binary that dies.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "node" {
		os.Exit(fakeNode(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == tetherParentArg {
		os.Exit(tetherParent(os.Args[2:]))
	}
	TetherChildren()
	// Fake nodes built with the race detector would sleep 1 s on exit.
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	os.Exit(m.Run())
}

// fakeLifetime ends a fake node that nobody stopped, so that a test that
// dies cannot leave one running for long.
const fakeLifetime = 3 * time.Minute

// fakeNode serves GET /v1/status on --http as node --id, n1 leading, until
// SIGTERM. It takes the node's flags and checks the ones every node gets.
// With --fail it writes a line to stderr and exits 1 at once.
func fakeNode(args []string) int {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	addr := fs.String("http", "", "")
	id := fs.String("id", "", "")
	edge := fs.Bool("edge", false, "")
	store := fs.String("store", "", "")
	fail := fs.Bool("fail", false, "")
	for _, name := range []string{"data", "raft", "peers", "join", "admin-token", "redis", "snapshot-threshold"} {
		fs.String(name, "", "")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *fail {
		fmt.Fprintln(os.Stderr, "fake node: failing as asked")
		return 1
	}
	st := Status{NodeID: *id, Role: "follower", Edge: *edge, Store: *store, Term: 1, Height: 7, Commitment: ledger.Hash{1, 2, 3}}
	if *id == "n1" {
		st.Role, st.Leader = "leader", true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		select {
		case <-sig:
		case <-time.After(fakeLifetime):
		}
		os.Exit(0)
	}()
	fmt.Fprintf(os.Stderr, "fake node %s on %s\n", *id, *addr)
	if err := http.ListenAndServe(*addr, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return 1
}
