# Shell helpers for pyspy test suites.  Source it from tests/<suite>/run.sh.
# Every test case reports exactly one line: "ok - NAME", "not ok - NAME"
# or "skip - NAME # reason" (see tests/run).
#
#   t_ok NAME / t_fail NAME [DETAIL] / t_skip NAME REASON
#   t_check NAME CMD...            ok if CMD exits 0
#   t_run CMD...                   run CMD, keep $T_OUT, $T_ERR, $T_RC
#   t_expect NAME RC [STDOUT_RE [STDERR_RE]]   check the last t_run
#   t_tmpdir                       a scratch dir removed at exit ($T_TMP)
set -u
: "${PYSPY_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${BUILD:=build/default}"
: "${BIN:=bin}"
case $BIN in /*) ;; *) BIN=$PYSPY_ROOT/$BIN ;; esac
CAPTURE=${CAPTURE:-$BIN/pyspy-capture}
ANALYZE=${ANALYZE:-$BIN/pyspy-analyze}

t_ok() { echo "ok - $1"; }
t_fail() {
	echo "not ok - $1${2:+ # $2}"
	return 0
}
t_skip() { echo "skip - $1 # $2"; }

t_check() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then
		t_ok "$name"
	else
		t_fail "$name" "exit $?"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/    /'
	fi
}

T_TMP=
t_tmpdir() {
	if [ -z "$T_TMP" ]; then
		T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pyspy-test.XXXXXX")
		trap 't_cleanup' EXIT
	fi
}
T_PIDS=()
t_cleanup() {
	local p
	for p in "${T_PIDS[@]:-}"; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done
	[ -n "$T_TMP" ] && rm -rf "$T_TMP"
}
t_bg() { T_PIDS+=("$1"); }

T_OUT=; T_ERR=; T_RC=0
t_run() {
	t_tmpdir
	"$@" >"$T_TMP/.out" 2>"$T_TMP/.err"
	T_RC=$?
	T_OUT=$(cat "$T_TMP/.out")
	T_ERR=$(cat "$T_TMP/.err")
}

# t_expect NAME RC [STDOUT_ERE [STDERR_ERE]]: check the previous t_run.
t_expect() {
	local name=$1 rc=$2 out_re=${3:-} err_re=${4:-}
	local why=
	[ "$T_RC" = "$rc" ] || why="exit $T_RC, wanted $rc"
	if [ -z "$why" ] && [ -n "$out_re" ] && ! grep -Eq -- "$out_re" <<<"$T_OUT"; then
		why="stdout does not match /$out_re/"
	fi
	if [ -z "$why" ] && [ -n "$err_re" ] && ! grep -Eq -- "$err_re" <<<"$T_ERR"; then
		why="stderr does not match /$err_re/"
	fi
	if [ -z "$why" ]; then
		t_ok "$name"
	else
		t_fail "$name" "$why"
		{ echo "stdout:"; head -c 1500 <<<"$T_OUT"; echo "stderr:"; head -c 1500 <<<"$T_ERR"; } | sed 's/^/    /'
	fi
}
