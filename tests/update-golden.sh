#!/usr/bin/env bash
# Regenerate the expected outputs of the golden tests, deliberately
# (`make update-golden`).  Review the diff before committing it: a change
# in an expected output is a change in behaviour.
#
# Format golden files, tests/data/format/v<MAJOR>.<MINOR>/:
#   NAME.pyspy   a capture written by that format version: committed once
#                and never rewritten, every later reader must still read it
#   NAME.synth   the pyspy-synth description it was made from
#   NAME.dump    expected stdout of `pyspy-dumpfile NAME.pyspy`
#   NAME.err     expected stderr (only when not empty)
#   NAME.exit    expected exit status (only when not 0)
# This script rewrites .dump/.err/.exit for every version.  A NAME.synth
# without its NAME.pyspy in the directory of the current format version is
# built first; when the format version changes, the directory of the new
# version is created with the .synth files of the previous one.
#
# usage: tests/update-golden.sh          (BUILD=build/default by default)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/default}
synth=$PWD/$BUILD/tests/pyspy-synth
dump=$PWD/$BUILD/tests/pyspy-dumpfile
for t in "$synth" "$dump"; do
	[ -x "$t" ] || { echo "update-golden: $t missing (run 'make tests')" >&2; exit 1; }
done

major=$(sed -n 's/^#define PSF_FORMAT_MAJOR \([0-9]*\).*/\1/p' format/pyspy_format.h)
minor=$(sed -n 's/^#define PSF_FORMAT_MINOR \([0-9]*\).*/\1/p' format/pyspy_format.h)
cur=tests/data/format/v$major.$minor
if [ ! -d "$cur" ]; then
	prev=$(ls -d tests/data/format/v*/ 2>/dev/null | sort -V | tail -n 1)
	mkdir -p "$cur"
	if [ -n "$prev" ]; then
		cp "$prev"/*.synth "$cur"/ 2>/dev/null || true
		[ -f "$prev/README.md" ] && cp "$prev/README.md" "$cur/"
	fi
	echo "update-golden: created $cur"
fi
for s in "$cur"/*.synth; do
	[ -f "$s" ] || continue
	p=${s%.synth}.pyspy
	if [ ! -f "$p" ]; then
		"$synth" -o "$p" "$s"
		echo "update-golden: built $p"
	fi
done

for p in tests/data/format/v*/*.pyspy; do
	dir=$(dirname "$p")
	name=$(basename "$p" .pyspy)
	set +e
	(cd "$dir" && "$dump" "$name.pyspy" >"$name.dump" 2>"$name.err")
	rc=$?
	set -e
	[ -s "$dir/$name.err" ] || rm -f "$dir/$name.err"
	if [ $rc -ne 0 ]; then echo $rc >"$dir/$name.exit"; else rm -f "$dir/$name.exit"; fi
	echo "update-golden: $dir/$name.dump"
done

# pyspy-analyze: tests/data/analyze/*.pyspy from their .synth files, and the
# expected report outputs tests/data/analyze/expected/*.out (the analyze
# suite in update mode; it says what it rewrote).
BUILD=$BUILD tests/analyze/run.sh --update | grep -E '^(updated|not ok)' | sed 's/^/update-golden: /'
