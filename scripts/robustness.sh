#!/usr/bin/env bash
# Runs issue 8's long robustness soak: TestRobustnessSoak of internal/e2e,
# three node processes on real redis-servers under a workload, with faults
# from a seeded schedule, then the history checked. It installs Debian's
# redis-server first where it can (root and apt-get); the soak needs it.
#
#   DURATION=30m SEED=42 scripts/robustness.sh
#
# DURATION is the workload's time (default 30m); SEED picks the faults and
# the workload (default: the time, printed). DIR keeps the run's directory
# (history, final ledger, summary, the nodes' data) even if it passes; a
# failing run always keeps its own and names it. Exits non-zero on any
# violation.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

DURATION=${DURATION:-30m}
SEED=${SEED:-$(date +%s)}

if ! ensure_redis; then
	echo "redis-server is not installed and cannot be (needs root and apt-get): the soak needs it" >&2
	exit 1
fi
ensure_netns || echo "ip or iptables missing and not installable: the network faults will be left out" >&2

# The test's own timeout: the workload, plus the cluster's start, the
# final heal and the check, with room to spare.
if [[ ! $DURATION =~ ^([0-9]+)(s|m|h)$ ]]; then
	echo "DURATION=$DURATION: want a number of seconds, minutes or hours, such as 30m" >&2
	exit 2
fi
case ${BASH_REMATCH[2]} in
s) minutes=$((BASH_REMATCH[1] / 60)) ;;
m) minutes=${BASH_REMATCH[1]} ;;
h) minutes=$((BASH_REMATCH[1] * 60)) ;;
esac
minutes=$((minutes + 20))

echo "robustness soak: DURATION=$DURATION SEED=$SEED (rerun with the same SEED to replay the schedule)" >&2
args=(-run '^TestRobustnessSoak$' -count=1 -v -timeout "${minutes}m"
	-robustness.duration="$DURATION" -robustness.seed="$SEED")
if [ -n "${DIR:-}" ]; then
	args+=(-robustness.dir="$DIR")
fi
soak=0
go test ./internal/e2e "${args[@]}" || soak=$?

# Then every fuzz target for a while (issue 8: decoders of outside input
# fuzzed in the long run), FUZZTIME each (default 1m); FUZZ=0 skips it.
# Both run whatever the other's result; either failing fails the script.
fuzz=0
if [ "${FUZZ:-1}" != 0 ]; then
	FUZZTIME=${FUZZTIME:-1m} bash scripts/fuzz.sh || fuzz=$?
fi
if [ "$soak" -ne 0 ] || [ "$fuzz" -ne 0 ]; then
	echo "robustness: soak exit $soak, fuzzing exit $fuzz" >&2
	exit 1
fi
