#!/usr/bin/env bash
# Regenerates docs/performance.md and its charts (docs/perf/*.png) from one
# `dualchain bench --report` run: the study's table, a load sweep on three
# nodes with the leader's CPU profile, and the runs over 1, 3 and 5 nodes and
# 10K to 1M accounts. It installs Debian's redis-server first where it can;
# without it the Redis rows run on the embedded store and the report says so.
# Takes about ten minutes; arguments go to `dualchain bench` (e.g.
# --duration 20s for longer runs).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

if ! ensure_redis; then
	echo "redis-server is not installed and cannot be (needs root and apt-get): the Redis rows run on the embedded store" >&2
fi
go build -o bin/dualchain ./cmd/dualchain
exec bin/dualchain bench --report docs "$@"
