#!/usr/bin/env bash
# Unit suite: runs every unit-test binary that `make tests` built
# ($BUILD/tests/format_*, capture_*, analyze_*) and reports its lines with
# the binary's name in front ("ok - format_basic: crc32c_check_value").
# A binary that crashes, times out, or exits non-zero without printing a
# "not ok" line is reported as a failure of its own.
#
# usage: tests/unit/run.sh [--build DIR] [--prefix TEXT] [--only GLOB]...
#                          [--timeout SECONDS] [--] [WRAPPER...]
#   --build DIR    where the binaries are (default $BUILD, build/default)
#   --prefix TEXT  put TEXT before every test name (e.g. "asan: ")
#   --only GLOB    binaries to run (default: format_* capture_* analyze_*)
#   WRAPPER...     command to run each binary under (e.g. valgrind ...)
# Used as is by the unit suite, and by tests/sanitize and tests/valgrind.
set -u
: "${PYSPY_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$PYSPY_ROOT" || exit 1
export PYSPY_ROOT

build=${BUILD:-build/default}
prefix=
globs=()
timeout_s=600
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--prefix) prefix=$2; shift 2 ;;
	--only) globs+=("$2"); shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--) shift; break ;;
	*) break ;;
	esac
done
wrapper=("$@")
[ ${#globs[@]} -gt 0 ] || globs=('format_*' 'capture_*' 'analyze_*')

bins=()
for g in "${globs[@]}"; do
	for b in "$build"/tests/$g; do
		# Only executables built from tests/unit/*.c (not helpers, not .d files).
		[ -f "$b" ] && [ -x "$b" ] || continue
		[ -f "tests/unit/$(basename "$b").c" ] || continue
		bins+=("$b")
	done
done
if [ ${#bins[@]} -eq 0 ]; then
	echo "not ok - ${prefix}unit tests # none found in $build/tests (run 'make tests' first)"
	exit 0
fi

out=$(mktemp "${TMPDIR:-/tmp}/pyspy-unit.XXXXXX")
trap 'rm -f "$out"' EXIT
for b in "${bins[@]}"; do
	name=$(basename "$b")
	start=$(date +%s)
	timeout -k 10 "$timeout_s" "${wrapper[@]}" "$b" >"$out" 2>&1
	rc=$?
	nfail=0
	while IFS= read -r line; do
		case $line in
		"ok - "*) echo "ok - ${prefix}${name}: ${line#ok - }" ;;
		"not ok - "*) echo "not ok - ${prefix}${name}: ${line#not ok - }"; nfail=$((nfail + 1)) ;;
		"skip - "*) echo "skip - ${prefix}${name}: ${line#skip - }" ;;
		*) echo "$line" ;;
		esac
	done <"$out"
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "not ok - ${prefix}${name} # timed out after ${timeout_s} s"
	elif [ $rc -gt 128 ]; then
		echo "not ok - ${prefix}${name} # killed by signal $((rc - 128))"
	elif [ $rc -ne 0 ] && [ $nfail -eq 0 ]; then
		echo "not ok - ${prefix}${name} # exited $rc without a failing test"
	fi
	echo "# ${prefix}${name}: $(( $(date +%s) - start )) s"
done
exit 0
