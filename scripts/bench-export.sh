#!/usr/bin/env bash
# The benchmark of `dualchain export` (issue 9), on one dev node of this
# machine with every call traced:
#
#   1. a dev node (--exec vm --vm-trace: every call runs in the VM and has
#      a memory trace) on redis-server when it is installed, else on the
#      embedded store, loaded with TXS token transfers by `dualchain bench`;
#   2. range exports (the default): CSV with zstd RUNS times (the median is
#      the figure), then once in each other format and compression, for the
#      sizes (files are deterministic: one run tells);
#   3. --per-tx exports with 1, 10, 100 and 1,000 workers: requests/s (1
#      and 10 workers export a first stretch of the chain, PER_TX_SMALL
#      transactions or so, RUNS times: at 1 worker all of it would take
#      many minutes and tell nothing more; 100 and 1,000 workers export all
#      of it, once: each run is a million requests);
#   4. the node restarted with --debug-api-delay DELAY (200ms), then
#      --per-tx --workers 1000 over the whole chain; its files must equal
#      the range export's (diff -r); then the issue's comparison, a Python
#      asyncio client with 1,000 tasks fetching the same transactions one
#      request each (scripts/asyncio-fetch.py, standard library only).
#
# It prints a report (also in DIR/report.md). Every server it starts listens
# on 127.0.0.1 and is stopped by PID when it ends.
#
#   make bench-export                      (TXS=1000000 RUNS=3)
#   TXS=100000 RUNS=1 scripts/bench-export.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TXS=${TXS:-1000000}
RUNS=${RUNS:-3}
DELAY=${DELAY:-200ms}
PER_TX_SMALL=${PER_TX_SMALL:-20000}
PORT=${PORT:-18645} # the API; PORT+1 Raft, PORT+2 redis-server
DIR=${DIR:-$(mktemp -d /tmp/bench-export.XXXXXX)}
mkdir -p "$DIR"
api=127.0.0.1:$PORT
node_url=http://$api

bin=$DIR/dualchain
go build -o "$bin" ./cmd/dualchain

node_pid=
redis_pid=
cleanup() {
	[ -z "$node_pid" ] || kill "$node_pid" 2>/dev/null || true
	[ -z "$redis_pid" ] || kill "$redis_pid" 2>/dev/null || true
	wait 2>/dev/null || true
}
trap cleanup EXIT

store=(--store memory)
if command -v redis-server >/dev/null; then
	redis-server --port $((PORT + 2)) --bind 127.0.0.1 --save '' --appendonly no \
		--logfile "$DIR/redis.log" &
	redis_pid=$!
	store=(--store redis --redis "redis://127.0.0.1:$((PORT + 2))/0")
fi
echo "== store: ${store[1]} (data in $DIR)"

# start_node starts the dev node with extra flags and waits until it leads.
start_node() {
	"$bin" node --data "$DIR/node" --http "$api" --raft "127.0.0.1:$((PORT + 1))" --dev \
		--exec vm --vm-trace "${store[@]}" "$@" >>"$DIR/node.log" 2>&1 &
	node_pid=$!
	for _ in $(seq 100); do
		if curl -fsS "$node_url/v1/status" 2>/dev/null | grep -q '"leader":true'; then
			return
		fi
		sleep 0.2
	done
	echo "the node did not start: see $DIR/node.log" >&2
	exit 1
}

stop_node() {
	kill "$node_pid"
	wait "$node_pid" || true
	node_pid=
}

# export_run NAME FLAGS... exports into DIR/out/NAME, its JSON summary in
# DIR/NAME.json.
export_run() {
	local name=$1
	shift
	rm -rf "$DIR/out/$name"
	"$bin" export --node "$node_url" --out "$DIR/out/$name" --quiet --json "$@" >"$DIR/$name.json"
	python3 - "$DIR/$name.json" "$name" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"   {sys.argv[2]}: {s['txs']:,} txs in {s['seconds']:.1f}s, {s['txs_per_second']:,.0f} txs/s, "
      f"{s['requests_per_second']:,.0f} req/s, {s['retries']} retries, {s['bytes_per_1000_txs']:,.0f} bytes/1,000 txs")
EOF
}

start_node
echo "== loading $TXS transfers (dualchain bench --workload vm)"
"$bin" bench --node "$node_url" --key "$DIR/node/faucet.key" --workload vm --presign "$TXS" \
	--duration 60m --json >"$DIR/load.json"
head=$(curl -fsS "$node_url/v1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])')
echo "   chain at height $head"

echo "== range exports"
for i in $(seq "$RUNS"); do
	export_run "range-csv-zstd-$i" --to "$head"
done
for f in "csv none" "csv gzip" "parquet none" "parquet gzip" "parquet zstd"; do
	read -r format compress <<<"$f"
	export_run "range-$format-$compress" --to "$head" --format "$format" --compress "$compress"
done

echo "== --per-tx exports, no delay"
# small: the heights holding about PER_TX_SMALL transactions.
small=$(python3 - "$head" "$TXS" "$PER_TX_SMALL" <<'EOF'
import sys
head, txs, want = map(int, sys.argv[1:])
print(max(1, min(head, -(-want * head // txs))))
EOF
)
for i in $(seq "$RUNS"); do
	export_run "per-tx-1-$i" --per-tx --workers 1 --to "$small"
	export_run "per-tx-10-$i" --per-tx --workers 10 --to "$small"
done
export_run per-tx-100 --per-tx --workers 100 --to "$head"
export_run per-tx-1000 --per-tx --workers 1000 --to "$head"

echo "== --per-tx --workers 1000, the node adding $DELAY to every request"
stop_node
start_node --debug-api-delay "$DELAY"
export_run per-tx-1000-delay --per-tx --workers 1000 --to "$head"
diff -r "$DIR/out/range-csv-zstd-1" "$DIR/out/per-tx-1000-delay"
echo "   its files equal the range export's (diff -r)"

echo "== the same with Python asyncio (scripts/asyncio-fetch.py, 1,000 tasks)"
python3 -c '
import csv, glob, sys
for f in sorted(glob.glob(sys.argv[1] + "/txs-*.csv")):
    for row in csv.DictReader(open(f)):
        print(row["id"])
' "$DIR/out/range-csv-none" >"$DIR/ids.txt"
python3 scripts/asyncio-fetch.py --node "$node_url" --ids "$DIR/ids.txt" --tasks 1000 >"$DIR/python-1000-delay.json"
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
n, secs, rate, errs = s["requests"], s["seconds"], s["requests_per_second"], s["errors"]
print(f"   {n:,} requests in {secs:.1f}s, {rate:,.0f} req/s, {errs} errors")
' "$DIR/python-1000-delay.json"

python3 - "$DIR" "$RUNS" "$DELAY" <<'EOF' | tee "$DIR/report.md"
import json, statistics, sys
d, runs, delay = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = lambda n: json.load(open(f"{d}/{n}.json"))
load = json.load(open(f"{d}/load.json"))
rng = [s(f"range-csv-zstd-{i}") for i in range(1, runs + 1)]
secs = statistics.median(r["seconds"] for r in rng)
print(f"chain: {rng[0]['txs']:,} txs in heights {rng[0]['from']} to {rng[0]['to']}, every call traced")
print()
print("| export | workers | txs | seconds | txs/s | requests/s |")
print("|---|---|---|---|---|---|")
print(f"| range, CSV + zstd (median of {runs}: " + ", ".join(f"{r['seconds']:.1f}" for r in rng) + f" s) | {rng[0]['workers']} | {rng[0]['txs']:,} | {secs:.1f} | {rng[0]['txs'] / secs:,.0f} | — |")
for w in [1, 10]:
    rs = [s(f"per-tx-{w}-{i}") for i in range(1, runs + 1)]
    m = statistics.median(r["requests_per_second"] for r in rs)
    print(f"| --per-tx (median of {runs}: " + ", ".join(f"{r['requests_per_second']:,.0f}" for r in rs) + f" req/s) | {w} | {rs[0]['txs']:,} | {statistics.median(r['seconds'] for r in rs):.1f} | {statistics.median(r['txs_per_second'] for r in rs):,.0f} | {m:,.0f} |")
for n in ["per-tx-100", "per-tx-1000"]:
    r = s(n)
    print(f"| --per-tx | {r['workers']} | {r['txs']:,} | {r['seconds']:.1f} | {r['txs_per_second']:,.0f} | {r['requests_per_second']:,.0f} |")
r = s("per-tx-1000-delay")
print(f"| --per-tx, node delay {delay} | {r['workers']} | {r['txs']:,} | {r['seconds']:.1f} | {r['txs_per_second']:,.0f} | {r['requests_per_second']:,.0f} |")
py = s("python-1000-delay")
print(f"| Python asyncio client (stdlib), node delay {delay} | 1000 tasks | {py['requests']:,} | {py['seconds']:.1f} | {py['requests_per_second']:,.0f} | {py['requests_per_second']:,.0f} |")
print()
print("| format | bytes per 1,000 txs | txs | frames | blocks | events | seconds |")
print("|---|---|---|---|---|---|---|")
for n in ["range-csv-none", "range-csv-gzip", "range-csv-zstd-1", "range-parquet-none", "range-parquet-gzip", "range-parquet-zstd"]:
    r = s(n)
    k = {f["kind"]: f["bytes_per_1000_txs"] for f in r["files"]}
    print(f"| {r['format']} {r['compress']} | {r['bytes_per_1000_txs']:,.0f} | {k.get('txs', 0):,.0f} | {k.get('frames', 0):,.0f} | {k.get('blocks', 0):,.0f} | {k.get('events', 0):,.0f} | {r['seconds']:.1f} |")
EOF
