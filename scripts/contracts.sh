#!/usr/bin/env bash
# Rebuilds every committed contract module from its source, byte for byte:
#   contracts/token/token.wasm        from token.wat, with wabt's wat2wasm
#   contracts/registry/registry.wasm  from src/lib.rs, with Debian's rustc
#   vm/testdata/**/*.wasm             the VM's test modules, from their .wat
# The bytes are pinned to Debian 12's toolchain (rustc 1.63.0, lld 14,
# wabt 1.0.32); a different version stops the build rather than write
# different bytes. Always /usr/bin/rustc: rustup's rustc, often first on the
# PATH, has no wasm32 target.
#
# Usage: scripts/contracts.sh [--install] [--out DIR] [--check]
#   --install  install the missing Debian packages with apt-get (as root)
#   --out DIR  write the modules into DIR instead of beside their sources
#   --check    rebuild into a temporary directory and fail if any module
#              differs from the committed one
# Exit status: 0 built (or --check matched), 1 failed or differs,
# 10 a toolchain package is missing, 11 a toolchain has another version.
set -euo pipefail
start=$(pwd)
cd "$(dirname "$0")/.."

RUSTC=/usr/bin/rustc
RUST_VERSION=1.63.0
WABT_VERSION=1.0.32
WASM32_STD=/usr/lib/rustlib/wasm32-unknown-unknown/lib
root=$(pwd)

usage() {
	sed -n '/^# Usage:/,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2
	exit 1
}

install=false check=false out=""
while [ $# -gt 0 ]; do
	case $1 in
	--install) install=true ;;
	--check) check=true ;;
	--out)
		[ $# -ge 2 ] || usage
		case $2 in
		/*) out=$2 ;;
		*) out=$start/$2 ;;
		esac
		shift
		;;
	*) usage ;;
	esac
	shift
done

# missing_packages prints the Debian packages whose files are missing, one
# a line, each with what needs it.
missing_packages() {
	command -v wat2wasm >/dev/null 2>&1 && command -v wasm-strip >/dev/null 2>&1 ||
		echo "wabt	wat2wasm and wasm-strip"
	[ -x "$RUSTC" ] || echo "rustc	Debian's rustc, $RUSTC"
	[ -d "$WASM32_STD" ] || echo "libstd-rust-dev-wasm32	the wasm32-unknown-unknown standard library, $WASM32_STD"
	[ -x /usr/bin/lld-14 ] || echo "lld-14	the wasm linker that rustc runs as rust-lld"
}

# ensure_toolchain installs what is missing when asked and able to, and
# otherwise exits 10 naming each missing package.
ensure_toolchain() {
	local missing pkgs
	missing=$(missing_packages)
	[ -n "$missing" ] || return 0
	pkgs=$(cut -f1 <<<"$missing" | paste -sd' ')
	if $install && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing Debian packages: $pkgs" >&2
		apt-get update -qq >&2
		# shellcheck disable=SC2086 # one word per package
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >&2
		missing=$(missing_packages)
		[ -n "$missing" ] || return 0
		echo "apt-get install finished, but some files are still missing" >&2
	elif $install; then
		echo "--install needs root and apt-get" >&2
	fi
	echo "missing Debian packages for building the contracts:" >&2
	sed 's/^/  /; s/\t/: /' <<<"$missing" >&2
	echo "install them with: apt-get install -y --no-install-recommends $pkgs" >&2
	echo "or, as root: scripts/contracts.sh --install" >&2
	exit 10
}

# check_versions exits 11 unless the toolchain is the one the committed
# bytes were built with.
check_versions() {
	local rust wabt
	rust=$("$RUSTC" --version | awk '{print $2}')
	wabt=$(wat2wasm --version)
	if [ "$rust" != "$RUST_VERSION" ] || [ "$wabt" != "$WABT_VERSION" ]; then
		echo "toolchain differs from the one the committed modules were built with:" >&2
		echo "  rustc $rust (want $RUST_VERSION), wabt $wabt (want $WABT_VERSION)" >&2
		echo "to move to it, change RUST_VERSION and WABT_VERSION in $0 and commit the rebuilt modules" >&2
		exit 11
	fi
}

# build_token DIR writes token.wasm into DIR, or says why it cannot yet.
build_token() {
	if [ ! -f contracts/token/token.wat ]; then
		echo "contracts/token/token.wat does not exist yet; skipping token.wasm" >&2
		return 0
	fi
	wat2wasm contracts/token/token.wat -o "$1/token.wasm"
	echo "built token.wasm ($(wc -c <"$1/token.wasm") bytes)" >&2
}

# build_registry DIR writes registry.wasm into DIR. rustc sees the source
# through a path remapped to "registry", and wasm-strip drops every custom
# section, so neither the checkout's path nor the producers section reaches
# the bytes.
build_registry() {
	local src=$root/contracts/registry tmp
	tmp=$(mktemp -d)
	"$RUSTC" --edition 2021 --crate-type cdylib --crate-name registry \
		--target wasm32-unknown-unknown -C target-cpu=mvp \
		-C opt-level=s -C panic=abort -C lto=fat -C codegen-units=1 \
		-C debuginfo=0 -C strip=symbols \
		-C link-arg=-zstack-size=16384 -C link-arg=--max-memory=65536 \
		--remap-path-prefix "$src=registry" \
		-o "$tmp/registry.wasm" "$src/src/lib.rs"
	wasm-strip "$tmp/registry.wasm"
	mv "$tmp/registry.wasm" "$1/registry.wasm"
	rm -rf "$tmp"
	echo "built registry.wasm ($(wc -c <"$1/registry.wasm") bytes)" >&2
}

# build_testdata DIR writes the VM's test modules into DIR/vm/testdata.
# --no-check: some of them are invalid on purpose.
build_testdata() {
	local f
	for f in vm/testdata/*.wat vm/testdata/refused/*.wat; do
		mkdir -p "$1/$(dirname "$f")"
		wat2wasm --no-check "$f" -o "$1/${f%.wat}.wasm"
	done
	echo "built the VM's test modules" >&2
}

# compare DIR fails unless every module in DIR equals the committed one.
compare() {
	local status=0 f committed
	for f in "$1"/*.wasm; do
		committed=contracts/$(basename "$f" .wasm)/$(basename "$f")
		if ! cmp -s "$f" "$committed"; then
			echo "$committed differs from its rebuild; run scripts/contracts.sh and commit it" >&2
			status=1
		fi
	done
	while IFS= read -r f; do
		if ! cmp -s "$f" "${f#"$1"/}"; then
			echo "${f#"$1"/} differs from its rebuild; run scripts/contracts.sh and commit it" >&2
			status=1
		fi
	done < <(find "$1/vm" -name '*.wasm')
	[ $status = 0 ] && echo "every committed module matches its rebuild" >&2
	return $status
}

ensure_toolchain
check_versions
dir=$out
if [ -z "$dir" ]; then
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir"
build_token "$dir"
build_registry "$dir"
build_testdata "$dir"
if $check; then
	compare "$dir"
elif [ -z "$out" ]; then
	for f in "$dir"/*.wasm; do
		install -m 644 "$f" "contracts/$(basename "$f" .wasm)/"
	done
	(cd "$dir" && find vm -name '*.wasm' -exec install -m 644 -D {} "$root/{}" \;)
fi
