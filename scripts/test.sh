#!/usr/bin/env bash
# Runs dualchain's whole test suite: formatting, go vet, staticcheck, and every test with
# the race detector and the invariants build tag, against a real
# redis-server this script starts on a free loopback port (and installs from
# Debian's packages when missing). The README's test command runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

if ! ensure_redis; then
	echo "redis-server is required for the tests and could not be installed (need root and apt-get)" >&2
	exit 1
fi

work=$(mktemp -d)
cleanup() { stop_pid "${REDIS_PID:-}"; rm -rf "$work"; }
trap cleanup EXIT
start_redis "$work/redis" --databases 4096
export DUALCHAIN_TEST_REDIS="redis://127.0.0.1:$REDIS_PORT"
echo "== redis-server $(redis-server --version | awk '{print $3}') on 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)"

echo "== contract toolchain"
# The committed .wasm modules are checked against a rebuild when the pinned
# toolchain is present; install it (Debian's wabt, rustc, lld) when we can.
status=0
bash scripts/contracts.sh --install --check || status=$?
case $status in
0) ;;
10 | 11) echo "contract toolchain unavailable: TestRebuildMatchesCommitted will skip" >&2 ;;
*) exit "$status" ;;
esac

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "== go vet"
go vet ./...
go vet -tags invariants ./...

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags invariants ./...

echo "== go test (race detector, invariants)"
go test -race -tags invariants -timeout 15m ./... 2>&1 | tee "$work/test.log"

echo "== short fuzz runs"
for target in FuzzDecodeTx FuzzDecodeBlock FuzzTxDecode FuzzBlockDecode FuzzBlockCodec; do
	go test -run '^$' -fuzz "^$target\$" -fuzztime 10s ./ledger
done
go test -run '^$' -fuzz '^FuzzTransfers$' -fuzztime 10s ./contracts/token
go test -run '^$' -fuzz '^FuzzInstrument$' -fuzztime 10s ./vm/instrument
go test -run '^$' -fuzz '^FuzzReadSnapshot$' -fuzztime 10s -fuzzminimizetime 2s ./hotchain
go test -run '^$' -fuzz '^FuzzParseProof$' -fuzztime 10s -fuzzminimizetime 2s ./ledger
go test -run '^$' -fuzz '^FuzzRestore$' -fuzztime 10s -fuzzminimizetime 2s ./coldchain
go test -run '^$' -fuzz '^FuzzDecodeEntry$' -fuzztime 10s -fuzzminimizetime 2s ./node
