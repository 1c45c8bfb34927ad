#!/usr/bin/env bash
# Runs `dualchain demo`: the whole story on a local three-node cluster. It
# installs Debian's redis-server first where it can (root and apt-get), so
# every node runs on real Redis; without it the demo goes on with the
# embedded store and says so. Arguments go to `dualchain demo` (see
# `bin/dualchain demo --help`: --nodes, --dir, --keep).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

if ! ensure_redis; then
	echo "redis-server is not installed and cannot be (needs root and apt-get): the demo runs on the embedded in-memory store" >&2
fi
go build -o bin/dualchain ./cmd/dualchain
exec bin/dualchain demo "$@"
