# Shared shell helpers for dualchain's scripts. Source it; do not run it.

# ensure_redis installs Debian's redis-server when it is missing and this
# machine can (root and apt-get). Returns non-zero if redis-server is still
# not on the PATH.
ensure_redis() {
	command -v redis-server >/dev/null 2>&1 && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "redis-server not found; installing Debian's redis-server package..." >&2
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >&2 || true
	fi
	command -v redis-server >/dev/null 2>&1
}

# ensure_netns installs iproute2 and iptables when they are missing and
# this machine can (root and apt-get): the network faults of the
# robustness suite put nodes in network namespaces (internal/netfault).
# Returns non-zero if ip or iptables is still missing.
ensure_netns() {
	command -v ip >/dev/null 2>&1 && command -v iptables >/dev/null 2>&1 && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "ip or iptables not found; installing Debian's iproute2 and iptables packages..." >&2
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 iptables) >&2 || true
	fi
	command -v ip >/dev/null 2>&1 && command -v iptables >/dev/null 2>&1
}

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo "no free port found" >&2
	return 1
}

# start_redis DIR [extra redis-server args...] starts redis-server on a free
# loopback port with its files in DIR, waits until it answers, and sets
# REDIS_PID and REDIS_PORT. Stop it with stop_pid "$REDIS_PID".
start_redis() {
	local dir=$1
	shift
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd) # redis-server changes into --dir before opening --logfile
	for _ in 1 2 3; do
		REDIS_PORT=$(free_port) || return 1
		redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$dir" \
			--save "" --appendonly no --daemonize no --logfile "$dir/redis.log" "$@" &
		REDIS_PID=$!
		for _ in $(seq 1 100); do
			if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
				return 0
			fi
			kill -0 "$REDIS_PID" 2>/dev/null || break
			sleep 0.05
		done
		stop_pid "$REDIS_PID"
	done
	echo "redis-server did not start; see $dir/redis.log" >&2
	return 1
}

# stop_pid PID stops one process by PID and waits for it.
stop_pid() {
	[ -n "${1:-}" ] || return 0
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
