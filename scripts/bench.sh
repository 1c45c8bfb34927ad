#!/usr/bin/env bash
# Runs the benchmarks behind docs/benchmarks.md, COUNT times each (default
# 5), against a real redis-server this script starts, and prints medians
# with benchstat. Raw output goes to bench-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
count=${COUNT:-5}
benchstat="go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"
mkdir -p bench-out
ensure_redis || { echo "redis-server is needed for the Redis benchmarks" >&2; exit 1; }

run() { # name, package, bench regexp, extra flags...
	local name=$1 pkg=$2 re=$3
	shift 3
	echo "== $name ($pkg, -bench '$re', -count $count)" >&2
	go test "$pkg" -run '^$' -bench "$re" -count "$count" "$@" | tee "bench-out/$name.txt" >&2
}

run verify ./ledger '^BenchmarkVerify$'
run codec ./ledger '^Benchmark(TxEncode|TxDecode|SigningBytes)$' -benchmem
run execute ./node '^BenchmarkExecute$'
run vm ./contracts/token '^Benchmark(Transfer|Compile)$' -cpu 1 -benchmem
run instrument ./vm/instrument '^Benchmark' -benchmem
run commitment ./hotchain '^BenchmarkCommitment'
run apply ./hotchain '^BenchmarkApply$'
run endtoend ./node '^BenchmarkEndToEnd$' -benchtime 200000x -timeout 30m
run cluster ./node '^BenchmarkCluster$' -benchtime 100000x -timeout 30m
run cluster-processes ./internal/e2e '^BenchmarkClusterProcesses$' -benchtime 100000x -timeout 30m
run replicate ./consensus '^BenchmarkReplicate$' -benchtime 1000x
run cold-apply ./coldchain '^Benchmark(Apply|ColdTransfers|Checkpoint)$' -benchtime 5x -timeout 30m
run proofs ./coldchain '^Benchmark(Prove|ProveAt|Verify)'
run cold-endtoend ./node '^BenchmarkColdTransfers$' -benchtime 20000x -timeout 30m

for f in bench-out/*.txt; do
	echo "### $(basename "$f" .txt)"
	$benchstat "$f"
done
