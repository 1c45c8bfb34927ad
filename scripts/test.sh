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
ensure_netns || echo "ip or iptables missing: the network-namespace tests will skip (TestRobustnessNetwork fails under CI=true)" >&2

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
go vet -tags failpoints ./...

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags invariants ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags failpoints ./...

echo "== go test (race detector, invariants)"
# The robustness runs write their summaries here (go test shows a passing
# test's log only under -v); they are printed after the tests.
export DUALCHAIN_ROBUSTNESS_REPORTS="$work/robustness"
mkdir -p "$DUALCHAIN_ROBUSTNESS_REPORTS"
go test -race -tags invariants -timeout 15m ./... 2>&1 | tee "$work/test.log"
for report in "$DUALCHAIN_ROBUSTNESS_REPORTS"/*.txt; do
	[ -e "$report" ] || continue
	echo "== robustness: $(basename "$report" .txt)"
	cat "$report"
done
# What only a failpoints build compiles: arming from DUALCHAIN_FAILPOINTS, the
# node's /debug/failpoints and its fail-stop on injected disk errors.
go test -race -tags invariants,failpoints ./internal/failpoint ./node -run 'Failpoint|Armed|Skew|Pebble|WithDebug|FailStop'

echo "== short fuzz runs"
# Every fuzz target (scripts/fuzz.sh finds them) for a few seconds each:
# about 30 targets, the stage within 3 minutes.
FUZZTIME=${FUZZTIME:-4s} FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-2s} bash scripts/fuzz.sh
