#!/usr/bin/env bash
# Sanitizer suite: builds every unit test (tests/unit/*.c) with
# AddressSanitizer and UndefinedBehaviorSanitizer in their own tree
# (build/san, as `make SANITIZE=address,undefined` does) and runs them
# through tests/unit/run.sh; test names get an "asan: " prefix.  Any
# sanitizer report makes the binary exit non-zero, which counts as a
# failure even when all its own checks passed.
#
# Then the live capture suite (tests/capture/run.sh) with an ASan/UBSan
# pyspy-capture (the analyzer and decoder stay the default build's), on
# one interpreter of each layout family: 2.7, 3.8 (PyFrameObject chains),
# 3.11, 3.12 (stack chunks) and the first 3.13+ (_Py_DebugOffsets); the
# process-level tests (signals, --blocking killed, disk full, permission
# denied, trees) run once, on the 3.8.  Every sanitizer report goes to a
# log file, so a report from a run that a test expects to fail is still
# caught: "not ok - asan: capture: sanitizer report".  The functional
# checks' failures are shown as details (SAN_CAPTURE_STRICT=1 counts them):
# the capture suite owns them, and a few race the capture with fixed delays
# that the slower instrumented build loses on a loaded machine.
#   SAN_CAPTURE=0 skips this part; SAN_CAPTURE_LABELS="LABEL..." picks the
#   interpreters (tests/interpreters.sh labels).
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

[ "${SAN_CAPTURE:-1}" = 0 ] && exit 0
# One label per family, the first tests/interpreters.sh lists.
labels=${SAN_CAPTURE_LABELS:-}
if [ -z "$labels" ]; then
	seen=" "
	while IFS=$'\t' read -r label cmd _; do
		[ -n "$cmd" ] || continue
		case $label in
		*-2.7*) fam=2.7 ;;
		*-3.8*) fam=3.8 ;;
		*-3.11*) fam=3.11 ;;
		*-3.12*) fam=3.12 ;;
		*-3.1[345]*) fam=3.13+ ;;
		*) continue ;;
		esac
		case $seen in *" $fam "*) continue ;; esac
		seen="$seen$fam "
		labels="$labels $label"
	done < <(tests/interpreters.sh 2>/dev/null)
fi
if [ -z "$labels" ]; then
	echo "skip - asan: capture # no interpreter of the layout families is installed"
	exit 0
fi
# Its own tree: UBSan traps (SIGILL), so that ASan's handler writes the
# report with its stack to the log file (a combined ASan+UBSan runtime
# prints UBSan reports to stderr only, which the tests redirect anywhere).
cap_build=${SAN_CAPTURE_BUILD:-build/san-capture}
start=$(date +%s)
if ! $MAKE --no-print-directory BUILD="$cap_build" BIN="$cap_build/bin" SANITIZE=address,undefined \
	CFLAGS="${CFLAGS:-} -fsanitize-undefined-trap-on-error" \
	"$cap_build/bin/pyspy-capture" >"$log" 2>&1; then
	echo "not ok - asan: capture: build # make failed"
	tail -n 20 "$log" | sed 's/^/    /'
	exit 0
fi
echo "# asan: capture build $(( $(date +%s) - start )) s; interpreters:$labels"
sanlogs=$(mktemp -d "${TMPDIR:-/tmp}/pyspy-san-logs.XXXXXX")
trap 'rm -f "$log"; rm -rf "$sanlogs"' EXIT
start=$(date +%s)
# detect_leaks: a capture that ends normally frees what it allocated.
ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86:handle_sigill=1:log_path=$sanlogs/asan" \
CAPTURE="$PYSPY_ROOT/$cap_build/bin/pyspy-capture" tests/capture/run.sh $labels >"$sanlogs.out" 2>&1
# The functional checks are the capture suite's; several race the capture
# with fixed delays that an instrumented capture (2-3 times slower to
# start) loses on a busy machine.  Here they are details unless
# SAN_CAPTURE_STRICT=1; what fails this suite is a sanitizer report.
if [ "${SAN_CAPTURE_STRICT:-0}" = 1 ]; then
	sed -E 's/^(not ok|ok|skip) - /\1 - asan: capture: /' "$sanlogs.out"
else
	sed -E -e 's/^not ok - /# asan: capture: functional check failed (see the capture suite): /' \
		-e 's/^(ok|skip) - /\1 - asan: capture: /' "$sanlogs.out"
fi
rm -f "$sanlogs.out"
echo "# asan: capture $(( $(date +%s) - start )) s"
reports=$(ls "$sanlogs" 2>/dev/null | wc -l)
if [ "$reports" -eq 0 ]; then
	echo "ok - asan: capture: no sanitizer report"
else
	echo "not ok - asan: capture: sanitizer report ($reports log files)"
	for f in "$sanlogs"/*; do
		grep -E 'ERROR|SUMMARY|#[0-9] ' "$f" | head -n 12 | sed 's/^/    /'
	done | head -n 60
fi
