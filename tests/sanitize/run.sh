#!/usr/bin/env bash
# Sanitizer suite: builds every unit test (tests/unit/*.c) with
# AddressSanitizer and UndefinedBehaviorSanitizer in their own tree
# (build/san, as `make SANITIZE=address,undefined` does) and runs them
# through tests/unit/run.sh; test names get an "asan: " prefix.  Any
# sanitizer report makes the binary exit non-zero, which counts as a
# failure even when all its own checks passed.
set -u
: "${PYSPY_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$PYSPY_ROOT" || exit 1
export PYSPY_ROOT
: "${MAKE:=make}"
san_build=${SAN_BUILD:-build/san}

targets=()
for src in tests/unit/*.c; do
	targets+=("$san_build/tests/$(basename "$src" .c)")
done
log=$(mktemp "${TMPDIR:-/tmp}/pyspy-san.XXXXXX")
trap 'rm -f "$log"' EXIT
start=$(date +%s)
# -k: a test that does not build must not hide the others.
if ! $MAKE --no-print-directory -k BUILD="$san_build" SANITIZE=address,undefined \
	"${targets[@]}" >"$log" 2>&1; then
	echo "not ok - asan: build # make failed, see below"
	grep -E 'error|Error' "$log" | head -n 20 | sed 's/^/    /'
fi
echo "# asan: build $(( $(date +%s) - start )) s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
tests/unit/run.sh --build "$san_build" --prefix "asan: "
