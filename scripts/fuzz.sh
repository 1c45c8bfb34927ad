#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (issue 8: the
# decoders of outside input fuzzed "for a while" in the long run; plain
# `go test` runs their seed corpora only). Targets are found, not listed
# here: the packages whose tests define a Fuzz function, then
# `go test -list '^Fuzz'` for their names, so a new target is picked up
# without editing this script.
#
#   FUZZTIME=5m scripts/fuzz.sh          (or: make fuzz FUZZTIME=5m)
#   FUZZTIME=5s scripts/fuzz.sh ./api    (only these packages)
#
# FUZZTIME is per target (default 30s; any -fuzztime value, such as 500x);
# FUZZMINIMIZETIME bounds the minimizing of a failing input (default 10s);
# FUZZFLAGS adds go test flags (such as -tags invariants). It runs every
# target even after a failure, then exits non-zero naming each failing
# target and where its crasher was saved (testdata/fuzz/FuzzXxx/... in the
# target's package: commit it, and it runs in every `go test` from then on).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-30s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-10s}
read -r -a flags <<<"${FUZZFLAGS:-}"

# The packages (as ./dir) whose test files define a fuzz target.
if [ $# -gt 0 ]; then
	pkgs=("$@")
else
	mapfile -t pkgs < <(grep -rl --include='*_test.go' -E '^func Fuzz[A-Z0-9_]' . |
		xargs -n1 dirname | sort -u | sed 's|^\./||; s|^|./|')
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# "pkg target" pairs, from one `go test -list` over all the packages: it
# prints each package's targets, then "ok <import path>". A package that
# does not build fails the script here.
if ! go test "${flags[@]}" -list '^Fuzz' "${pkgs[@]}" >"$log" 2>&1; then
	cat "$log" >&2
	echo "go test -list failed: cannot find the fuzz targets" >&2
	exit 1
fi
module=$(go list -m)
pairs=()
names=()
while read -r first second _; do
	case $first in
	Fuzz*) names+=("$first") ;;
	ok)
		for name in "${names[@]}"; do
			pairs+=(".${second#"$module"} $name")
		done
		names=()
		;;
	esac
done <"$log"

# fuzz runs one target ($1 package, $2 name) for $3 (a -fuzztime value);
# its output is in $log.
fuzz() {
	go test "${flags[@]}" -run '^$' -fuzz "^${2}\$" -fuzztime "$3" \
		-fuzzminimizetime "$FUZZMINIMIZETIME" "$1" >"$log" 2>&1
}

# execsBudget prints, as a -fuzztime count ("123456x"), how many inputs the
# run in $log tried: its last "execs: N" progress line (10000 when it
# printed none).
execsBudget() {
	local n
	n=$(sed -n 's/.*execs: \([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	echo "${n:-10000}x"
}

# coordinatorRace reports whether a failed run in $log is Go's own race at
# the end of a -fuzztime duration, not a finding: the target failed with
# only "context deadline exceeded" and saved no input. Go 1.26's fuzzing
# coordinator can report its own deadline that way when a worker is
# mid-input as the time runs out (golang/go#75804, fixed in Go 1.27).
coordinatorRace() {
	! grep -q 'Failing input written to' "$log" &&
		grep -A1 -E '^--- FAIL: Fuzz' "$log" | tail -n 1 | grep -qx '[[:space:]]*context deadline exceeded'
}

start=$SECONDS
ran=0
retried=()
failed=()
for pair in "${pairs[@]}"; do
	read -r pkg target <<<"$pair"
	echo "== $pkg $target ($FUZZTIME)"
	ran=$((ran + 1))
	if fuzz "$pkg" "$target" "$FUZZTIME"; then
		tail -n 1 "$log"
		continue
	fi
	if coordinatorRace; then
		# Run it again, once, for as many inputs as it tried: a count has
		# no wall-clock deadline for the coordinator to race (it sets one
		# only for a duration), so a second failure is a finding. (A CI
		# run hit the race twice in a row when the retry was timed too.)
		budget=$(execsBudget)
		tail -n 3 "$log"
		echo "   (Go's fuzzing coordinator reported its own deadline, golang/go#75804; no input failed: running it again for $budget inputs)"
		retried+=("$pkg $target")
		if fuzz "$pkg" "$target" "$budget"; then
			tail -n 1 "$log"
			continue
		fi
	fi
	cat "$log"
	crasher=$(sed -n 's/.*Failing input written to \(testdata\/fuzz\/[^ ]*\).*/\1/p' "$log" | head -n 1)
	if [ -n "$crasher" ]; then
		failed+=("$pkg $target: crasher saved in ${pkg#./}/$crasher (rerun: go test -run '^${target}/$(basename "$crasher")\$' $pkg)")
	else
		failed+=("$pkg $target: failed without a saved input (see its output above)")
	fi
done

echo "== fuzzing: $ran targets, $FUZZTIME each, in $((SECONDS - start))s"
if [ ${#retried[@]} -gt 0 ]; then
	echo "run again after golang/go#75804 (the coordinator's own deadline, no failing input): ${retried[*]}"
fi
if [ "$ran" -eq 0 ]; then
	echo "no fuzz targets found" >&2
	exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAIL: ${#failed[@]} fuzz target(s):" >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "PASS"
