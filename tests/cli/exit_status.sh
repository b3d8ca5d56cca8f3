#!/usr/bin/env bash
# How a capture's end is shown: the root process's exit code, the signal
# that killed it, or "unknown" (the trailer's exit_status is 0 then too;
# the root's PROCESS_END says which, docs/format.md 5.2), in
# 'pyspy-analyze info' and in SQL (captures.exit_status NULL).
. "$(dirname "$0")/../lib.sh"
cd "$PYSPY_ROOT" || exit 1
t_tmpdir
export LC_ALL=C
SYNTH=$PYSPY_ROOT/$BUILD/tests/pyspy-synth
if [ ! -x "$SYNTH" ] || [ ! -x "$ANALYZE" ]; then
	t_fail "cli exit status: prerequisites" "missing $SYNTH or $ANALYZE (run make tests)"
	exit 0
fi

# synth NAME HOW STATUS EXIT: a capture whose target (pid 42) ended HOW.
synth() {
	"$SYNTH" -o "$T_TMP/$1.pyspy" <<EOT
meta pid=42 cmdline="python3 app.py" python_version=3.12.1
process p pid=42 cmdline="python3 app.py" python=3.12.1
thread t process=p tid=42 name=MainThread main
tick 1ms
sample t app.py:main:3
process_end p 2ms $2 $3
trailer 3ms reason=exited exit=$4
EOT
}

for c in "unknown 0 0 status unknown NULL" "exited 0 0 status 0 0" "exited 3 3 status 3 3" \
	"signaled 9 -9 killed by signal 9 -9"; do
	set -- $c
	how=$1 st=$2 ex=$3
	shift 3
	sql=${*: -1}
	text=${*:1:$#-1}
	synth "$how$st" "$how" "$st" "$ex" || { t_fail "cli exit status: synth $how $st"; continue; }
	t_run "$ANALYZE" info "$T_TMP/$how$st.pyspy"
	t_expect "cli exit status: info says the target ended ($text)" 0 \
		"^  Ended: +target exited \($text\)\$" '^$'
	t_run "$ANALYZE" sql "$T_TMP/$how$st.pyspy" "SELECT coalesce(exit_status, 'NULL') FROM captures"
	t_expect "cli exit status: captures.exit_status is $sql" 0 "^$sql\$" '^$'
done
exit 0
