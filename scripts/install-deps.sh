#!/bin/sh
# Install the Debian packages pyspy needs to build and test, when missing.
# Debian 12 (bookworm); needs root (or sudo) only when something is missing.
#
# usage: scripts/install-deps.sh [--build-only]
#   --build-only   only what `make` needs (compiler, pkg-config, libraries)
set -eu

BUILD_PKGS="gcc make pkg-config libelf-dev libzstd-dev libsqlite3-dev libunwind-dev"
# Tests: clang + libFuzzer runtime, valgrind, the sqlite3 shell for the
# example queries, Debian's own python3 (a statically linked interpreter we
# test against), apt/dpkg tools to fetch sid interpreters, headless chromium
# and xmllint for the output-format validators, node/npm for the validators,
# man-db (man, lexgrog; pulls groff-base) to lint the man pages, austin and
# zstd for the benchmarks (their plots are SVG written directly, no gnuplot),
# capsh (libcap2-bin) for the containers suite (captures without a capability),
# golang-go for `go tool pprof`, the reader the pprof output is checked with.
TEST_PKGS="clang libclang-rt-14-dev valgrind sqlite3 python3 debian-archive-keyring \
ca-certificates chromium libxml2-utils fonts-dejavu-core procps psmisc zstd austin \
nodejs man-db libcap2-bin golang-go"

pkgs=$BUILD_PKGS
[ "${1:-}" = "--build-only" ] || pkgs="$pkgs $TEST_PKGS"

missing=
for p in $pkgs; do
	# Any installed provider is fine (e.g. nodejs from another archive).
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
# npm comes with Debian's nodejs only as a separate package; accept any npm.
if [ "${1:-}" != "--build-only" ] && ! command -v npm >/dev/null 2>&1; then
	missing="$missing npm"
fi

if [ -z "$missing" ]; then
	exit 0
fi

echo "install-deps: installing:$missing" >&2
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "install-deps: need root to install:$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists once if they are missing or an install fails.
if ! $SUDO apt-get install -y --no-install-recommends $missing >/dev/null 2>&1; then
	$SUDO apt-get update -q >/dev/null
	$SUDO apt-get install -y --no-install-recommends $missing >/dev/null
fi
echo "install-deps: done" >&2
