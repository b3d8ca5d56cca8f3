#!/usr/bin/env bash
# Golden suite: every committed capture of every format version
# (tests/data/format/v*/NAME.pyspy) is decoded by the current reader
# (pyspy-dumpfile) and its stdout, stderr and exit status compared with
# the committed NAME.dump, NAME.err and NAME.exit (see
# tests/update-golden.sh).  Old captures must stay readable forever.
set -u
: "${PYSPY_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$PYSPY_ROOT" || exit 1
BUILD=${BUILD:-build/default}
dump=$PYSPY_ROOT/$BUILD/tests/pyspy-dumpfile

if [ ! -x "$dump" ]; then
	echo "not ok - golden # $dump missing (run 'make tests')"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pyspy-golden.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
for p in tests/data/format/v*/*.pyspy; do
	[ -f "$p" ] || continue
	n=$((n + 1))
	dir=$(dirname "$p")
	name=$(basename "$p" .pyspy)
	test_name="golden: $(basename "$dir")/$name"
	(cd "$dir" && "$dump" "$name.pyspy" >"$tmp/out" 2>"$tmp/err")
	rc=$?
	want_rc=0
	[ -f "$dir/$name.exit" ] && want_rc=$(cat "$dir/$name.exit")
	[ -f "$dir/$name.err" ] && cp "$dir/$name.err" "$tmp/want_err" || : >"$tmp/want_err"
	if [ ! -f "$dir/$name.dump" ]; then
		echo "not ok - $test_name # no $name.dump (run tests/update-golden.sh)"
	elif ! cmp -s "$tmp/out" "$dir/$name.dump"; then
		echo "not ok - $test_name # output differs from $name.dump"
		diff -u "$dir/$name.dump" "$tmp/out" | head -n 20 | sed 's/^/    /'
	elif ! cmp -s "$tmp/err" "$tmp/want_err"; then
		echo "not ok - $test_name # stderr differs"
		diff -u "$tmp/want_err" "$tmp/err" | head -n 10 | sed 's/^/    /'
	elif [ "$rc" != "$want_rc" ]; then
		echo "not ok - $test_name # exit $rc, expected $want_rc"
	else
		echo "ok - $test_name"
	fi
done
[ $n -gt 0 ] || echo "not ok - golden # no captures in tests/data/format/"
exit 0
