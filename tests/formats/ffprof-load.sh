#!/bin/bash
# Load a profile with the official Firefox Profiler import/upgrade code (npm
# @firefox-devtools/profiler-cli) and print its threads and top-down call
# trees; the importer reads processed and gecko profiles, Chrome traces,
# folded stacks.
# usage: ffprof-load.sh FILE [--expect-threads N]
#   exit 0 loaded (and N threads), 1 rejected, 2 usage
# The CLI runs a background daemon keyed under $HOME/.profiler-cli; a
# private throw-away HOME keeps runs independent and leaves nothing behind.
# `load` waits only 500 ms for the daemon it starts (not enough on a busy
# machine); the daemon goes on starting, so wait for its session instead
# of giving up, and fail only when it exits (a rejected profile) or takes
# longer than 90 s, or its log has an [ERROR] line (a rejected profile).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PQ=(node "$HERE/node_modules/@firefox-devtools/profiler-cli/dist/profiler-cli.js")
[ $# -ge 1 ] && [ -f "$1" ] || { echo "usage: $0 FILE [--expect-threads N]" >&2; exit 2; }
expect=
[ "${2:-}" = --expect-threads ] && expect=$3
PRIVATE_HOME=$(mktemp -d -t pq-XXXXXX) || exit 1
PROFILE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
export HOME=$PRIVATE_HOME PROFILER_CLI_NO_SYMBOLICATE=1
trap '"${PQ[@]}" stop --all >/dev/null 2>&1; rm -rf "$PRIVATE_HOME"' EXIT
out=$("${PQ[@]}" load "$PROFILE" 2>&1); rc=$?
echo "$out"
if [ $rc -ne 0 ]; then
	grep -q 'did not become ready' <<<"$out" || exit 1
	pid=$(sed -nE 's/.*still be running as pid ([0-9]+).*/\1/p' <<<"$out" | head -n 1)
	ready=0
	for _ in $(seq 90); do
		sleep 1
		if "${PQ[@]}" thread list >/dev/null 2>&1; then ready=1; break; fi
		# the profile was rejected (the daemon logs why and may stay up)
		if grep -q '^\[ERROR\]' "$PRIVATE_HOME"/.profiler-cli/*.log 2>/dev/null; then break; fi
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then break; fi
	done
	if [ $ready = 0 ]; then
		cat "$PRIVATE_HOME"/.profiler-cli/*.log 2>/dev/null | tail -n 20
		echo "ERROR: the profile did not load"
		exit 1
	fi
fi
"${PQ[@]}" thread list || exit 1
handles=$("${PQ[@]}" thread list --json | node -e 'const j=JSON.parse(require("fs").readFileSync(0));for(const t of (j.threads||j))console.log(t.handle||t.threadHandle)')
for t in $handles; do
	"${PQ[@]}" thread samples-top-down --thread "$t" --include-idle || exit 1
done
n=$(wc -w <<<"$handles")
if [ -n "$expect" ] && [ "$n" != "$expect" ]; then
	echo "ERROR: $n threads, expected $expect"
	exit 1
fi
echo "LOADED $n threads"
