#!/usr/bin/env bash
# pyspy benchmarks: the entry point of `make bench` and `make bench-smoke`.
#
# usage: bench/run.sh [--smoke] [bench.py OPTIONS...]
#   (no option)  every phase (about 30-40 min on 2 CPUs); rewrites the
#                generated blocks of docs/performance.md, docs/perf/*.svg and
#                docs/perf/results.json, and prints the table.  Waits first
#                (at most 5 min) for a 1-minute load average below
#                $BENCH_QUIET_LOAD (default 1.0): timings of a busy machine
#                say little.
#   --smoke      a short run (under a minute) that checks the harness:
#                writes $BENCH_OUT (default $BUILD/bench-smoke) only, never
#                docs/.
#   --help       bench.py's options (phases, repetitions, durations).
#   env BUILD    build tree with the tools (default build/default)
#   env BIN      where pyspy-capture and pyspy-analyze are (default bin for
#                build/default, else $BUILD/bin)
#   env PYTHON   the python3 that runs the harness (default Debian's
#                /usr/bin/python3, else python3 from PATH; 3.7 or newer)
# Exit status: 0 when the harness ran; non-zero only when it broke (never
# because of a figure).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/default}
if [ -z "${BIN:-}" ]; then
	if [ "$BUILD" = build/default ]; then BIN=bin; else BIN=$BUILD/bin; fi
fi
export BUILD BIN

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
	echo "bench/run.sh: needs python3 >= 3.7 to run the harness (apt-get install python3)" >&2
	exit 1
fi

smoke=0
for a in "$@"; do
	case $a in
	--smoke) smoke=1 ;;
	-h|--help) exec "$PY" bench/bench.py --help ;;
	esac
done

if [ $smoke = 1 ]; then
	OUT=${BENCH_OUT:-$BUILD/bench-smoke}
	rm -rf "$OUT"
	mkdir -p "$OUT"
	# The smoke document starts from the real one, so the generator's
	# handling of the hand-written parts is exercised too.
	[ -f docs/performance.md ] && cp docs/performance.md "$OUT/performance.md"
	"$PY" bench/bench.py --out "$OUT" "$@"
	"$PY" bench/report.py "$OUT/results.json" --doc "$OUT/performance.md" --plots "$OUT/perf" \
		--results-copy "$OUT/perf/results.json"
	echo "bench/run.sh: smoke results in $OUT (results.json, performance.md, perf/)"
	exit 0
fi

OUT=${BENCH_OUT:-$BUILD/bench-run}
rm -rf "$OUT"
mkdir -p "$OUT" docs/perf
t0=$(date +%s)
"$PY" bench/bench.py --out "$OUT" --wait-quiet "${BENCH_QUIET_LOAD:-1.0}" --max-wait 300 "$@"
"$PY" bench/report.py "$OUT/results.json" --doc docs/performance.md --plots docs/perf \
	--results-copy docs/perf/results.json
echo "bench/run.sh: docs/performance.md, docs/perf/ written ($(( $(date +%s) - t0 )) s)"
