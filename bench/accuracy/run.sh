#!/usr/bin/env bash
# pyspy's accuracy benchmark: the entry point of `make accuracy`.
#
# usage: bench/accuracy/run.sh [accuracy.py OPTIONS...]
#   Every workload on every interpreter of tests/interpreters.sh (about
#   40 min on 2 CPUs); rewrites the generated blocks of docs/accuracy.md,
#   docs/accuracy/*.svg and docs/accuracy/results.json, prints the table.
#   env ACCURACY_QUICK=1   a few minutes: 2 s windows, 1 s of ground truth,
#                          one interpreter per layout family (2.7, 3.10,
#                          3.12, 3.15); writes $ACCURACY_OUT (default
#                          $BUILD/accuracy-quick) only, never docs/.
#   env ACCURACY_SECONDS, ACCURACY_GT_SECONDS   the window lengths (5, 1.5)
#   env ACCURACY_PYTHONS, ACCURACY_WORKLOADS    comma lists (default all)
#   env BUILD, BIN, PYTHON as for bench/run.sh
#   --help       accuracy.py's options
# Exit status: 0 when the harness ran; non-zero only when it broke (never
# because of a figure).
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build/default}
if [ -z "${BIN:-}" ]; then
	if [ "$BUILD" = build/default ]; then BIN=bin; else BIN=$BUILD/bin; fi
fi
PY=${PYTHON:-}
if [ -z "$PY" ]; then
	for c in /usr/bin/python3 "$(command -v python3 || true)"; do
		if [ -n "$c" ] && [ -x "$c" ] && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 7))' 2>/dev/null; then
			PY=$c
			break
		fi
	done
fi
if [ -z "$PY" ]; then
	echo "bench/accuracy/run.sh: needs python3 >= 3.7 to run the harness (apt-get install python3)" >&2
	exit 1
fi
for a in "$@"; do
	case $a in -h|--help) exec "$PY" bench/accuracy/accuracy.py --help ;; esac
done

opts=(--bin "$BIN")
if [ "${ACCURACY_QUICK:-0}" = 1 ]; then
	OUT=${ACCURACY_OUT:-$BUILD/accuracy-quick}
	opts+=(--seconds "${ACCURACY_SECONDS:-2}" --gt-seconds "${ACCURACY_GT_SECONDS:-1}"
		--pythons "${ACCURACY_PYTHONS:-2.7,3.10,3.12,3.15}")
else
	OUT=${ACCURACY_OUT:-$BUILD/accuracy-run}
	opts+=(--seconds "${ACCURACY_SECONDS:-5}" --gt-seconds "${ACCURACY_GT_SECONDS:-1.5}")
	[ -n "${ACCURACY_PYTHONS:-}" ] && opts+=(--pythons "$ACCURACY_PYTHONS")
fi
[ -n "${ACCURACY_WORKLOADS:-}" ] && opts+=(--workloads "$ACCURACY_WORKLOADS")
rm -rf "$OUT"
mkdir -p "$OUT"
t0=$(date +%s)
"$PY" bench/accuracy/accuracy.py --out "$OUT" "${opts[@]}" "$@"
if [ "${ACCURACY_QUICK:-0}" = 1 ]; then
	[ -f docs/accuracy.md ] && cp docs/accuracy.md "$OUT/accuracy.md"
	"$PY" bench/accuracy/report.py "$OUT/results.json" --doc "$OUT/accuracy.md" --plots "$OUT/accuracy"
	echo "bench/accuracy/run.sh: quick results in $OUT (results.json, accuracy.md, accuracy/)"
else
	mkdir -p docs/accuracy
	"$PY" bench/accuracy/report.py "$OUT/results.json" --doc docs/accuracy.md --plots docs/accuracy \
		--results-copy docs/accuracy/results.json
	echo "bench/accuracy/run.sh: docs/accuracy.md, docs/accuracy/ written ($(( $(date +%s) - t0 )) s)"
fi
