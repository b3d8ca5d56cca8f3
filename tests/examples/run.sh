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
exit 0
