#!/usr/bin/env bash
# Starts a one-node dev chain on real Redis: installs Debian's redis-server
# when it is missing and this machine can, starts it on a free loopback
# port, builds dualchain and runs `dualchain node --dev` until Ctrl-C. With
# no redis-server to be had, it runs on the embedded store and says so.
#
# Environment: DATA (default ./dualchain-data), HTTP (default 127.0.0.1:8545).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

data=${DATA:-dualchain-data}
http=${HTTP:-127.0.0.1:8545}
mkdir -p "$data" bin
go build -o bin/dualchain ./cmd/dualchain

store_args=(--store memory)
if ensure_redis; then
	start_redis "$data/redis"
	trap 'stop_pid "$REDIS_PID"' EXIT
	store_args=(--store redis --redis "redis://127.0.0.1:$REDIS_PORT/0")
	echo "store: real redis-server on 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)"
else
	echo "store: EMBEDDED in-memory store (redis-server is not installed and could not be installed)"
fi

cat <<MSG
dev node: http://$http  data: $data  faucet key: $data/faucet.key
In another shell:
  export DUALCHAIN_NODE=http://$http
  bin/dualchain keys new --out alice.key
  bin/dualchain transfer --key $data/faucet.key --to alice.key --amount 1000 --wait
  bin/dualchain balance alice.key
Stop with Ctrl-C.
MSG
bin/dualchain node --dev --data "$data" --http "$http" "${store_args[@]}" &
node_pid=$!
trap 'stop_pid "$node_pid"; stop_pid "${REDIS_PID:-}"' EXIT INT TERM
wait "$node_pid"
