#!/usr/bin/env bash
# examples suite: every query of examples/queries.sql (one per "-- name:"
# block) against a database loaded from the analyzer's test captures
# (three hosts and a dump), with the sqlite3 shell and through
# `pyspy-analyze sql`; each must succeed and return at least one row, and
# both must agree.
. "$(dirname "$0")/../lib.sh"
cd "$PYSPY_ROOT" || exit 1
t_tmpdir
export LC_ALL=C
QUERIES=examples/queries.sql
DATA=tests/data/analyze

if [ ! -x "$ANALYZE" ]; then
	t_fail "examples: pyspy-analyze is built" "no $ANALYZE"
	exit 0
fi
DB=$T_TMP/examples.db
if "$ANALYZE" load -q -d "$DB" $DATA/web1.pyspy $DATA/web2.pyspy $DATA/db1.pyspy $DATA/dump.pyspy \
	2>"$T_TMP/load.err"; then
	t_ok "examples: test captures load into a database"
else
	t_fail "examples: test captures load into a database" "$(head -n 1 "$T_TMP/load.err")"
	exit 0
fi
have_shell=1
command -v sqlite3 >/dev/null 2>&1 || have_shell=0

# Split the file into one file per query.
awk -v dir="$T_TMP" '
	/^-- name: / { n++; name = $3; file = dir "/q" sprintf("%02d", n) "_" name ".sql"; print name > (dir "/names") }
	n > 0 { print > file }
' "$QUERIES"
count=$(wc -l <"$T_TMP/names" 2>/dev/null || echo 0)
if [ "$count" -ge 8 ]; then t_ok "examples: $QUERIES has $count queries (at least 8)"
else t_fail "examples: $QUERIES has $count queries (at least 8)"; fi
dups=$(sort "$T_TMP/names" | uniq -d)
[ -z "$dups" ] && t_ok "examples: query names are unique" || t_fail "examples: query names are unique" "$dups"

for f in "$T_TMP"/q[0-9]*_*.sql; do
	name=$(basename "$f" .sql)
	name=${name#q[0-9][0-9]_}
	# through pyspy-analyze sql (tab-separated, no header)
	if ! "$ANALYZE" sql --no-header -f "$f" "$DB" >"$T_TMP/$name.tool" 2>"$T_TMP/$name.err"; then
		t_fail "examples: $name runs in pyspy-analyze sql" "$(head -n 1 "$T_TMP/$name.err")"
		continue
	fi
	rows=$(wc -l <"$T_TMP/$name.tool")
	if [ "$rows" -ge 1 ]; then t_ok "examples: $name returns rows ($rows) in pyspy-analyze sql"
	else t_fail "examples: $name returns rows in pyspy-analyze sql" "no rows"; fi
	# the same query in the sqlite3 shell (tab-separated, no header)
	if [ "$have_shell" = 0 ]; then
		t_skip "examples: $name in the sqlite3 shell" "no sqlite3 shell (scripts/install-deps.sh installs it)"
		continue
	fi
	if ! sqlite3 -bail -readonly -separator $'\t' -nullvalue '' "$DB" <"$f" >"$T_TMP/$name.shell" 2>"$T_TMP/$name.serr" ||
		[ -s "$T_TMP/$name.serr" ]; then
		t_fail "examples: $name runs in the sqlite3 shell" "$(head -n 1 "$T_TMP/$name.serr")"
	elif [ "$(wc -l <"$T_TMP/$name.shell")" -ge 1 ] && cmp -s "$T_TMP/$name.shell" "$T_TMP/$name.tool"; then
		t_ok "examples: $name gives the same rows in the sqlite3 shell"
	else
		t_fail "examples: $name gives the same rows in the sqlite3 shell"
		diff "$T_TMP/$name.tool" "$T_TMP/$name.shell" | head -n 6 | sed 's/^/    /'
	fi
done

# The whole file at once, as the header of queries.sql suggests.
if "$ANALYZE" sql -f "$QUERIES" "$DB" >"$T_TMP/all.out" 2>"$T_TMP/all.err"; then
	t_ok "examples: the whole file runs in one pyspy-analyze sql"
else
	t_fail "examples: the whole file runs in one pyspy-analyze sql" "$(head -n 1 "$T_TMP/all.err")"
fi
# Straight from capture files, without a load step.
if "$ANALYZE" sql -f "$T_TMP/q01_"*.sql $DATA/web1.pyspy $DATA/web2.pyspy >"$T_TMP/caps.out" 2>"$T_TMP/caps.err" &&
	[ "$(wc -l <"$T_TMP/caps.out")" -ge 2 ]; then
	t_ok "examples: a query straight from capture files"
else
	t_fail "examples: a query straight from capture files" "$(head -n 1 "$T_TMP/caps.err")"
fi

# Every query on a 1,000,000-sample database (pyspy-synth: 4 threads, 8
# stacks, 1 kHz with missed ticks).  The budget is 2 s of CPU per query
# (user + system: on an idle machine that is its run time; CPU time, unlike
# wall time, hardly grows on a busy machine).  A query that does not end
# within 60 s of wall time (a quadratic one runs for hours) fails whatever
# the load.  The measured times are in each line.
SYNTH=$PYSPY_ROOT/$BUILD/tests/pyspy-synth
BIG=$T_TMP/big.db
if [ -x "$SYNTH" ]; then
	{
		echo 'meta rate_hz=1000 pid=100 cmdline="python3 big.py"'
		echo 'process P pid=100 cmdline="python3 big.py" python=3.12.1'
		echo 'thread A process=P tid=100 name=MainThread main'
		for i in 1 2 3; do echo "thread T$i process=P tid=10$i name=worker-$i"; done
		echo 'repeat 31250 every=10ms'
		for ms in 0 1 2 4 5 7 8 9; do
			echo "tick ${ms}ms"
			echo "sample A app.py:main:10;app.py:work:2$((ms % 3));lib.py:compute:$ms gil"
			echo "sample T1 app.py:run:3;threading.py:wait:300 idle"
			echo "sample T2 app.py:run:3;app.py:parse:4$((ms % 4))"
			echo "sample T3 app.py:run:3;db.py:query:$((ms % 2 + 7)) idle"
		done
		echo 'lag 9ms ticks=8 missed=2'
		echo 'end'
		echo 'trailer 313s reason=exited'
	} >"$T_TMP/big.synth"
	if "$SYNTH" -o "$T_TMP/big.pyspy" "$T_TMP/big.synth" &&
		"$ANALYZE" load -q -d "$BIG" "$T_TMP/big.pyspy" 2>"$T_TMP/big.err" &&
		[ "$(sqlite3 "$BIG" 'SELECT count(*) FROM samples' 2>/dev/null || echo 1000000)" = 1000000 ]; then
		for f in "$T_TMP"/q[0-9]*_*.sql; do
			name=$(basename "$f" .sql)
			name=${name#q[0-9][0-9]_}
			TIMEFORMAT='%R %U %S'
			{ time timeout 60 "$ANALYZE" sql -f "$f" "$BIG" >/dev/null 2>"$T_TMP/$name.big.err"; } \
				2>"$T_TMP/$name.time"
			rc=$?
			read -r wall user sys <"$T_TMP/$name.time"
			cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
			what="examples: $name on 1,000,000 samples: ${cpu} s CPU, ${wall} s wall"
			if [ "$rc" != 0 ]; then
				t_fail "$what" "exit $rc (124: killed after 60 s) $(head -n 1 "$T_TMP/$name.big.err")"
			elif awk -v c="$cpu" 'BEGIN { exit !(c > 2.0) }'; then
				t_fail "$what" "more than 2 s of CPU"
			else
				t_ok "$what"
			fi
		done
	else
		t_fail "examples: a 1,000,000-sample database" "$(head -n 1 "$T_TMP/big.err" 2>/dev/null)"
	fi
else
	t_skip "examples: queries on 1,000,000 samples" "no $SYNTH (make tests)"
fi
exit 0
