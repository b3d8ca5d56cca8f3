#!/bin/sh
# The demo behind `make demo`: capture examples/workload.py with
# pyspy-capture, load the capture into SQLite with pyspy-analyze, and write
# a flamegraph, a speedscope file and a top report into demo-out/.
#
# env: PYTHON (default: python3), SECONDS_TO_RUN (default: 5), BIN (default: bin)
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
PYTHON=${PYTHON:-python3}
SECS=${SECONDS_TO_RUN:-5}
OUT=demo-out
mkdir -p "$OUT"
rm -f "$OUT/workload.pyspy" "$OUT/demo.db"

echo "demo: capturing '$PYTHON examples/workload.py' for ${SECS}s at 200 Hz"
"$BIN/pyspy-capture" --rate 200 -o "$OUT/workload.pyspy" -- \
	"$PYTHON" examples/workload.py --seconds "$SECS"

echo "demo: loading into SQLite"
"$BIN/pyspy-analyze" load -d "$OUT/demo.db" "$OUT/workload.pyspy"
"$BIN/pyspy-analyze" info "$OUT/demo.db" > "$OUT/info.txt"
"$BIN/pyspy-analyze" flamegraph --threads -o "$OUT/flamegraph.svg" "$OUT/demo.db"
"$BIN/pyspy-analyze" speedscope -o "$OUT/profile.speedscope.json" "$OUT/demo.db"
"$BIN/pyspy-analyze" top -n 15 "$OUT/demo.db" > "$OUT/top.txt"
"$BIN/pyspy-analyze" collapsed --idle "$OUT/demo.db" > "$OUT/stacks.folded"

cat "$OUT/top.txt"
cat <<EOF

demo: done.  Outputs in $OUT/:
  $OUT/workload.pyspy           the capture file (pyspy-analyze info $OUT/workload.pyspy)
  $OUT/demo.db                  SQLite database (try: sqlite3 $OUT/demo.db < examples/queries.sql)
  $OUT/flamegraph.svg           interactive flamegraph (open in a browser)
  $OUT/profile.speedscope.json  for https://www.speedscope.app
  $OUT/top.txt                  top report (shown above)
  $OUT/stacks.folded            folded stacks, idle threads included
  $OUT/info.txt                 capture summary
EOF
