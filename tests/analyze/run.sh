#!/usr/bin/env bash
# analyze suite: pyspy-analyze end to end on the committed test captures
# (tests/data/analyze/*.pyspy, made by pyspy-synth from the *.synth next
# to them).
#   - the committed captures are what pyspy-synth makes of the .synth files;
#   - golden outputs of every report (tests/data/analyze/golden.list);
#   - reports from a database equal reports straight from the captures;
#   - three hosts into one database, idempotent load, replacement of a
#     shorter copy, standard input;
#   - progress bar only on a terminal;
#   - salvage of truncated and corrupted captures;
#   - bad input: not a capture, newer format, empty file, newer database
#     schema, foreign SQLite file, unwritable output, a failed load leaves
#     the database as it was (also when killed);
#   - the SQL views.
#
# usage: tests/analyze/run.sh [--update]
#   --update   rewrite tests/data/analyze/*.pyspy from the .synth files and
#              expected/*.out from the current pyspy-analyze (then review
#              the diff with git)
. "$(dirname "$0")/../lib.sh"
cd "$PYSPY_ROOT" || exit 1
t_tmpdir
export LC_ALL=C TZ=UTC
DATA=$PYSPY_ROOT/tests/data/analyze
SYNTH=$PYSPY_ROOT/$BUILD/tests/pyspy-synth
GEN=$PYSPY_ROOT/$BUILD/bench/gen_capture
UPDATE=0
[ "${1:-}" = "--update" ] && UPDATE=1

if [ ! -x "$ANALYZE" ]; then
	t_fail "analyze: pyspy-analyze is built" "no $ANALYZE (run make tests)"
	exit 0
fi
HOSTS="web1 web2 db1"
CAPS="web1.pyspy web2.pyspy db1.pyspy"

# ---------------------------------------------------------------- captures
for s in "$DATA"/*.synth; do
	name=$(basename "$s" .synth)
	if [ ! -x "$SYNTH" ]; then
		t_skip "analyze: $name.pyspy is what pyspy-synth makes of $name.synth" "no $SYNTH"
		continue
	fi
	if ! "$SYNTH" -o "$T_TMP/$name.pyspy" "$s" 2>"$T_TMP/synth.err"; then
		t_fail "analyze: pyspy-synth builds $name.synth" "$(head -n 1 "$T_TMP/synth.err")"
		continue
	fi
	if [ "$UPDATE" = 1 ]; then
		cp "$T_TMP/$name.pyspy" "$DATA/$name.pyspy"
		echo "updated tests/data/analyze/$name.pyspy"
	fi
	if cmp -s "$T_TMP/$name.pyspy" "$DATA/$name.pyspy"; then
		t_ok "analyze: $name.pyspy is what pyspy-synth makes of $name.synth"
	else
		t_fail "analyze: $name.pyspy is what pyspy-synth makes of $name.synth" \
			"differs (tests/analyze/run.sh --update, then review)"
	fi
done

# ---------------------------------------------------------------- goldens
# svg_frames FILE: what is golden in a flame graph (not its script).
svg_frames() {
	grep -E '^(<svg |<g><title>|<text id="(title|subtitle)")' "$1"
}
mkdir -p "$DATA/expected"
ngold=0
while IFS=$'\t' read -r name filter args; do
	case $name in '' | '#'*) continue ;; esac
	ngold=$((ngold + 1))
	out=$T_TMP/gold.$name
	(cd "$DATA" && eval "\"\$ANALYZE\" $args") >"$out.raw" 2>"$out.err"
	rc=$?
	case $filter in
	svg) svg_frames "$out.raw" >"$out" ;;
	pprof)
		if ! command -v python3 >/dev/null 2>&1; then
			t_skip "analyze: golden $name" "no python3 (decodes the profile)"
			continue
		fi
		[ "$rc" = 0 ] && { python3 "$PYSPY_ROOT/tests/analyze/pprof-text.py" <"$out.raw" >"$out" 2>>"$out.err" || rc=$?; } ;;
	*) cp "$out.raw" "$out" ;;
	esac
	if [ "$UPDATE" = 1 ] && [ "$rc" = 0 ]; then
		cp "$out" "$DATA/expected/$name.out"
	fi
	if [ "$rc" != 0 ]; then
		t_fail "analyze: golden $name" "pyspy-analyze $args: exit $rc: $(head -n 1 "$out.err")"
	elif [ ! -f "$DATA/expected/$name.out" ]; then
		t_fail "analyze: golden $name" "no expected/$name.out (tests/analyze/run.sh --update)"
	elif ! diff -u "$DATA/expected/$name.out" "$out" >"$out.diff"; then
		t_fail "analyze: golden $name" "output differs from expected/$name.out"
		head -n 30 "$out.diff" | sed 's/^/    /'
	elif [ -s "$out.err" ]; then
		t_fail "analyze: golden $name" "unexpected stderr: $(head -n 1 "$out.err")"
	else
		t_ok "analyze: golden $name"
	fi
done <"$DATA/golden.list"
[ "$UPDATE" = 1 ] && echo "updated $ngold expected outputs in tests/data/analyze/expected"

# Every golden file belongs to a case (no stale ones).
stale=
for f in "$DATA"/expected/*.out; do
	n=$(basename "$f" .out)
	grep -q "^$n	" "$DATA/golden.list" || stale="$stale $n"
done
if [ -z "$stale" ]; then t_ok "analyze: no stale expected outputs"
else t_fail "analyze: no stale expected outputs" "not in golden.list:$stale"; fi

# ---------------------------------------------------------------- diff
# Against itself, a differential collapsed has equal columns; against a
# capture with twice the samples (two copies loaded from different
# windows), BASE's counts are scaled to SOURCE's total.
(cd "$DATA" && "$ANALYZE" collapsed --idle --threads --diff web1.pyspy web1.pyspy) >"$T_TMP/self.diff" 2>&1
(cd "$DATA" && "$ANALYZE" collapsed --idle --threads web1.pyspy) >"$T_TMP/self.folded" 2>&1
if [ -s "$T_TMP/self.diff" ] && awk '{ if ($(NF-1) != $NF) bad = 1 } END { exit bad }' "$T_TMP/self.diff" &&
	diff <(sed -E 's/ [0-9]+$//' "$T_TMP/self.diff") "$T_TMP/self.folded" >/dev/null; then
	t_ok "analyze: collapsed --diff of a capture against itself: equal counts, the same stacks"
else
	t_fail "analyze: collapsed --diff of a capture against itself: equal counts, the same stacks"
	head -n 5 "$T_TMP/self.diff" | sed 's/^/    /'
fi
(cd "$DATA" && "$ANALYZE" collapsed --diff web1.pyspy --to 1.0 --base-from 0 --base-to 2.1 web1.pyspy) >"$T_TMP/half.diff" 2>&1
src=$(awk '{ s += $NF } END { print s }' "$T_TMP/half.diff")
base=$(awk '{ s += $(NF-1) } END { print s }' "$T_TMP/half.diff")
# rounding: at most half a sample per line
lines=$(wc -l <"$T_TMP/half.diff")
if [ -n "$src" ] && [ "$src" -gt 0 ] && [ $(( base > src ? base - src : src - base )) -le "$lines" ]; then
	t_ok "analyze: collapsed --diff scales BASE to SOURCE's total ($base vs $src)"
else
	t_fail "analyze: collapsed --diff scales BASE to SOURCE's total" "BASE $base, SOURCE $src"
fi
t_run "$ANALYZE" flamegraph --diff "$DATA/nonexistent.pyspy" "$DATA/web1.pyspy"
t_expect "analyze: flamegraph --diff with a missing BASE fails (exit 1)" 1 '^$' "cannot open '.*nonexistent.pyspy'"

# ---------------------------------------------------------------- database
cd "$DATA" || exit 1
DB=$T_TMP/all.db
t_run "$ANALYZE" load -d "$DB" $CAPS
t_expect "analyze: load three hosts into one database" 0 '^$' '^$'
t_run "$ANALYZE" sql "$DB" 'SELECT group_concat(host, ",") FROM (SELECT host FROM captures ORDER BY host)'
t_expect "analyze: the database holds the three hosts" 0 '^db1,web1,web2$'
t_run "$ANALYZE" sql --no-header "$DB" "SELECT (SELECT count(*) FROM samples), (SELECT sum(samples) FROM captures), (SELECT count(*) FROM frames WHERE name = (SELECT id FROM strings WHERE text = 'compute'))"
t_expect "analyze: samples stored once, shared code stored once" 0 '^904	904	1$'

# Reports from the database are the reports from the captures.
for rep in "collapsed --threads" "top -n 0" "speedscope" "info" "dump" "flamegraph" "dump --json --at 0.7" "pprof --threads" "chrometrace --idle" "firefox"; do
	"$ANALYZE" $rep $CAPS >"$T_TMP/from-caps" 2>&1
	"$ANALYZE" $rep "$DB" >"$T_TMP/from-db" 2>&1
	if cmp -s "$T_TMP/from-caps" "$T_TMP/from-db"; then
		t_ok "analyze: '$rep' from the database equals from the captures"
	else
		t_fail "analyze: '$rep' from the database equals from the captures"
		diff "$T_TMP/from-caps" "$T_TMP/from-db" | head -n 10 | sed 's/^/    /'
	fi
done
# A database plus a capture: combined.
t_run "$ANALYZE" info --capture batch1 "$DB" dump.pyspy
t_expect "analyze: a database and a capture as SOURCEs" 0 'Capture 0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a04'
t_run "$ANALYZE" info "$DB" "$DB"
t_expect "analyze: two databases are refused" 1 '^$' 'only one database'

# Idempotent: the same captures again change nothing.
cp "$DB" "$T_TMP/before.db"
t_run "$ANALYZE" load -d "$DB" $CAPS
t_expect "analyze: loading the same captures again skips them" 0 '^$' "'web1.pyspy': capture 0a0a0a0a0a0a already loaded \(604 samples\); skipped"
t_run "$ANALYZE" sql --no-header "$DB" 'SELECT count(*), sum(samples) FROM captures'
t_expect "analyze: ... and the database is unchanged" 0 '^3	904$'
t_run "$ANALYZE" load -q -d "$DB" web1.pyspy
t_expect "analyze: -q silences the skip note" 0 '^$' '^$'

# Standard input.
"$ANALYZE" collapsed --threads web1.pyspy >"$T_TMP/file.folded" 2>&1
"$ANALYZE" collapsed --threads - <web1.pyspy >"$T_TMP/stdin.folded" 2>&1
if cmp -s "$T_TMP/file.folded" "$T_TMP/stdin.folded"; then t_ok "analyze: '-' reads a capture from standard input"
else t_fail "analyze: '-' reads a capture from standard input"; fi
t_run sh -c "cat web2.pyspy | \"$ANALYZE\" load -d \"$T_TMP/stdin.db\" -"
t_expect "analyze: load from standard input" 0 '^$' '^$'
t_run "$ANALYZE" sql "$T_TMP/stdin.db" 'SELECT file, samples FROM captures'
t_expect "analyze: ... recorded as '-'" 0 '^-	250$'

# A capture loaded while being written, then the complete file: replaced.
size=$(stat -c %s db1.pyspy)
head -c $((size * 2 / 3)) db1.pyspy >"$T_TMP/db1-part.pyspy"
PDB=$T_TMP/partial.db
t_run "$ANALYZE" load -d "$PDB" "$T_TMP/db1-part.pyspy"
t_expect "analyze: a capture still being written loads with a warning" 0 '^$' \
	"warning: '.*db1-part.pyspy': truncated at chunk [0-9]+; loaded [0-9]+ samples before the damage"
part_samples=$("$ANALYZE" sql --no-header "$PDB" 'SELECT samples FROM captures')
if [ -n "$part_samples" ] && [ "$part_samples" -gt 0 ] && [ "$part_samples" -lt 50 ]; then
	t_ok "analyze: ... with the samples before the cut ($part_samples of 50)"
else
	t_fail "analyze: ... with the samples before the cut" "got '$part_samples'"
fi
t_run "$ANALYZE" load -d "$PDB" "$T_TMP/db1-part.pyspy"
t_expect "analyze: the same partial copy again is skipped" 0 '^$' 'already loaded'
t_run "$ANALYZE" load -d "$PDB" db1.pyspy
t_expect "analyze: the longer copy replaces it" 0 '^$' '^$'
t_run "$ANALYZE" sql --no-header "$PDB" 'SELECT count(*), sum(samples), (SELECT count(*) FROM samples), (SELECT count(*) FROM threads) FROM captures'
t_expect "analyze: ... once, with all its samples" 0 '^1	50	50	1$'

# ---------------------------------------------------------------- salvage
# A cut inside the last chunk of web1 (chunks end every second: 3 chunks).
size=$(stat -c %s web1.pyspy)
head -c $((size - 40)) web1.pyspy >"$T_TMP/cut.pyspy"
t_run "$ANALYZE" collapsed "$T_TMP/cut.pyspy"
t_expect "analyze: a truncated capture is salvaged with a warning" 0 'compute' \
	"^pyspy-analyze: warning: '.*cut.pyspy': truncated at chunk [0-9]+; loaded [0-9]+ samples before the damage$"
t_run "$ANALYZE" info "$T_TMP/cut.pyspy"
t_expect "analyze: info shows the damage" 0 'no trailer: truncated at chunk' 'truncated at chunk'
# A flipped byte in the last chunk: it fails its checksum.
cp web1.pyspy "$T_TMP/flip.pyspy"
printf '\377' | dd of="$T_TMP/flip.pyspy" bs=1 seek=$((size - 30)) conv=notrunc status=none
t_run "$ANALYZE" load -d "$T_TMP/flip.db" "$T_TMP/flip.pyspy"
t_expect "analyze: a corrupted capture is salvaged up to the damaged chunk" 0 '^$' \
	"warning: '.*flip.pyspy': chunk [0-9]+ (checksum mismatch|corrupt)"
n=$("$ANALYZE" sql --no-header "$T_TMP/flip.db" 'SELECT samples FROM captures')
if [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt 604 ]; then t_ok "analyze: ... keeping the samples before it ($n)"
else t_fail "analyze: ... keeping the samples before it" "got '$n'"; fi

# 8 flipped bytes in the middle chunk of web1 (issue 9, bug 7): only that
# chunk is lost, reading resumes at the next one (its SYNC record says what
# came before), and the warning names the chunk and the samples lost.
c0=$(od -An -tu4 -j12 -N4 web1.pyspy | tr -d ' ')       # header size
s0=$(od -An -tu4 -j$((c0 + 12)) -N4 web1.pyspy | tr -d ' ') # chunk 0 stored size
c1=$((c0 + 32 + s0))                                      # chunk 1
s1=$(od -An -tu4 -j$((c1 + 12)) -N4 web1.pyspy | tr -d ' ')
cp web1.pyspy "$T_TMP/mid.pyspy"
printf '\377\377\377\377\377\377\377\377' |
	dd of="$T_TMP/mid.pyspy" bs=1 seek=$((c1 + 32 + s1 / 2)) conv=notrunc status=none
t_run "$ANALYZE" load -d "$T_TMP/mid.db" "$T_TMP/mid.pyspy"
t_expect "analyze: a damaged middle chunk is skipped, naming it and the samples lost" 0 '^$' \
	"^pyspy-analyze: warning: '.*mid.pyspy': chunk 1 damaged \(checksum mismatch\): skipped 1 chunk, ([0-9]+) samples lost; loaded the other [0-9]+ samples$"
lost=$(sed -n 's/.* 1 chunk, \([0-9]*\) samples lost.*/\1/p' <<<"$T_ERR")
n=$("$ANALYZE" sql --no-header "$T_TMP/mid.db" 'SELECT samples || " " || complete FROM captures')
if [ -n "$lost" ] && [ "$lost" -gt 0 ] && [ "$n" = "$((604 - lost)) 1" ]; then
	t_ok "analyze: ... and keeps every other sample and the trailer ($n, $lost lost)"
else
	t_fail "analyze: ... and keeps every other sample and the trailer" "got '$n', lost '$lost'"
fi
t_run "$ANALYZE" info "$T_TMP/mid.db"
t_expect "analyze: info shows the skipped damage" 0 'chunk 1 damaged \(checksum mismatch\): skipped 1 chunk'

# ---------------------------------------------------------------- no samples
t_run "$ANALYZE" collapsed empty.pyspy
t_expect "analyze: collapsed of a capture without samples is empty" 0 '^$' '^$'
t_run "$ANALYZE" flamegraph -o "$T_TMP/empty.svg" empty.pyspy
t_expect "analyze: flamegraph without samples warns" 0 '^$' 'warning: no samples match the filters; the flame graph is empty'
if command -v xmllint >/dev/null 2>&1; then
	t_check "analyze: ... and is still a well-formed SVG" xmllint --noout "$T_TMP/empty.svg"
fi
t_run "$ANALYZE" speedscope --pid 9000 empty.pyspy
t_expect "analyze: speedscope without samples has one empty profile" 0 '"profiles":\[\{"type":"sampled","name":"no samples"' 'warning: no samples'
t_run "$ANALYZE" top empty.pyspy
t_expect "analyze: top without samples" 0 '^Total Samples 0 \(shown 0, idle excluded\)$' '^$'
t_run "$ANALYZE" dump empty.pyspy
t_expect "analyze: dump without samples warns" 0 '^$' 'warning: no thread has a sample'
t_run "$ANALYZE" collapsed --from 100 web1.pyspy
t_expect "analyze: a window after the end selects nothing" 0 '^$' '^$'

# ---------------------------------------------------------------- hostile but valid
# A 5000-frame recursion and names with quotes, backslashes, control
# characters, markup and non-ASCII: every report copes, every output
# stays well-formed.
if [ -x "$SYNTH" ]; then
	{
		echo 'meta hostname=odd rate_hz=100'
		echo 'process p pid=1 cmdline="odd \"cmd\" \x01"'
		echo 'thread t process=p tid=1 name="tab\there \\ <b>&amp;"'
		printf 'tick 10ms\nsample t '
		for i in $(seq 5000); do printf '/x/rec.py:rec@1:%d;' $((i % 7 + 1)); done
		echo '/x/rec.py:leaf@9:10 gil'
		echo 'tick 20ms'
		echo 'sample t "/x/a\"b\\c <d>.py":"f\x01\x7fg&<h>\xc3\xa9":3 gil'
		echo 'trailer 30ms'
	} >"$T_TMP/odd.synth"
	if "$SYNTH" -o "$T_TMP/odd.pyspy" "$T_TMP/odd.synth" 2>"$T_TMP/odd.err"; then
		t_run "$ANALYZE" collapsed --threads "$T_TMP/odd.pyspy"
		t_expect "analyze: odd: collapsed" 0 '' '^$'
		deep=$(awk -F';' 'NF > 5000 { print NF }' <<<"$T_OUT")
		if [ "$deep" = 5002 ] && ! grep -q $'[\x01\x7f\t]' <<<"$T_OUT" &&
			[ "$(grep -c ' [0-9]*$' <<<"$T_OUT")" = 2 ]; then
			t_ok "analyze: odd: a 5000-frame stack and control characters in folded stacks"
		else
			t_fail "analyze: odd: a 5000-frame stack and control characters in folded stacks" "depth '$deep'"
		fi
		t_run "$ANALYZE" top -n 0 "$T_TMP/odd.pyspy"
		t_expect "analyze: odd: recursion counted once per stack in top" 0 ' 50\.00%  50\.00% .*  leaf \(rec\.py\)' '^$'
		grep -qE '^  0\.00% +50\.00% .*  rec \(rec\.py\)$' <<<"$T_OUT" &&
			t_ok "analyze: odd: the recursive function has 50% total" ||
			t_fail "analyze: odd: the recursive function has 50% total"
		for rep in flamegraph speedscope "dump --json" dump info; do
			if "$ANALYZE" $rep -o "$T_TMP/odd.out" "$T_TMP/odd.pyspy" 2>"$T_TMP/odd.err"; then
				ok=1
				case $rep in
				flamegraph) command -v xmllint >/dev/null 2>&1 && { xmllint --noout "$T_TMP/odd.out" 2>"$T_TMP/odd.err" || ok=0; } ;;
				speedscope | "dump --json") command -v python3 >/dev/null 2>&1 &&
					{ python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T_TMP/odd.out" 2>"$T_TMP/odd.err" || ok=0; } ;;
				*) grep -q $'[\x01\x7f]' "$T_TMP/odd.out" && ok=0 ;;
				esac
				if [ $ok = 1 ]; then t_ok "analyze: odd: $rep output is well-formed"
				else t_fail "analyze: odd: $rep output is well-formed" "$(head -c 200 "$T_TMP/odd.err")"; fi
			else
				t_fail "analyze: odd: $rep output is well-formed" "exit: $(head -n 1 "$T_TMP/odd.err")"
			fi
		done
	else
		t_fail "analyze: odd: pyspy-synth builds the odd capture" "$(head -n 1 "$T_TMP/odd.err")"
	fi
else
	t_skip "analyze: odd: deep stacks and odd names" "no $SYNTH"
fi

# ---------------------------------------------------------------- bad input
printf 'just some text\n' >"$T_TMP/text.txt"
t_run "$ANALYZE" collapsed "$T_TMP/text.txt"
t_expect "analyze: not a capture" 1 '^$' "^pyspy-analyze: '.*text.txt' is not a pyspy capture or database$"
t_run "$ANALYZE" load -d "$T_TMP/x.db" "$T_TMP/text.txt"
t_expect "analyze: load of not a capture" 1 '^$' "'.*text.txt' is not a pyspy capture or database"
t_run sh -c "\"$ANALYZE\" top - <\"$T_TMP/text.txt\""
t_expect "analyze: not a capture on standard input" 1 '^$' '^pyspy-analyze: standard input is not a pyspy capture$'
: >"$T_TMP/empty.pyspy"
t_run "$ANALYZE" info "$T_TMP/empty.pyspy"
t_expect "analyze: empty file" 1 '^$' "^pyspy-analyze: '.*empty.pyspy' is empty$"
t_run "$ANALYZE" load -d "$T_TMP/x.db" "$T_TMP/empty.pyspy"
t_expect "analyze: load of an empty file" 1 '^$' "'.*empty.pyspy' is empty"
cp web1.pyspy "$T_TMP/newer.pyspy"
printf '\002\000\007\000' | dd of="$T_TMP/newer.pyspy" bs=1 seek=8 conv=notrunc status=none
t_run "$ANALYZE" collapsed "$T_TMP/newer.pyspy"
t_expect "analyze: a capture from a newer major format" 1 '^$' \
	"^pyspy-analyze: '.*newer.pyspy' was written by a newer pyspy \(format 2\.7; this pyspy-analyze reads format 1\.x\)$"
t_run "$ANALYZE" collapsed "$T_TMP/no-such-file.pyspy"
t_expect "analyze: a missing file" 1 '^$' "^pyspy-analyze: cannot open '.*no-such-file.pyspy': No such file or directory$"
t_run "$ANALYZE" collapsed "$T_TMP"
t_expect "analyze: a directory" 1 '^$' "cannot read '.*': Is a directory"

# Databases: newer schema, foreign SQLite file, empty database.
if command -v sqlite3 >/dev/null 2>&1; then
	cp "$DB" "$T_TMP/newer.db"
	sqlite3 "$T_TMP/newer.db" 'PRAGMA user_version = 99'
	t_run "$ANALYZE" load -d "$T_TMP/newer.db" web1.pyspy
	t_expect "analyze: load refuses a database with a newer schema" 1 '^$' \
		"^pyspy-analyze: database '.*newer.db' has schema version 99, newer than this pyspy-analyze supports \(2\); use a newer pyspy-analyze$"
	t_run "$ANALYZE" top "$T_TMP/newer.db"
	t_expect "analyze: reports refuse a database with a newer schema" 1 '^$' 'schema version 99, newer'
	sqlite3 "$T_TMP/other.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (1)'
	t_run "$ANALYZE" load -d "$T_TMP/other.db" web1.pyspy
	t_expect "analyze: load refuses a foreign SQLite database" 1 '^$' 'is an SQLite database but not a pyspy database'
	sqlite3 "$T_TMP/other.db" 'SELECT count(*) FROM t' | grep -qx 1 &&
		t_ok "analyze: ... and leaves it alone" || t_fail "analyze: ... and leaves it alone"
	sqlite3 "$T_TMP/emptydb.db" 'PRAGMA user_version = 0; VACUUM'
	t_run "$ANALYZE" info "$T_TMP/emptydb.db"
	t_expect "analyze: an empty database is not a SOURCE" 1 '^$' 'empty'
else
	t_skip "analyze: newer, foreign and empty databases" "no sqlite3 shell (scripts/install-deps.sh installs it)"
fi
t_run "$ANALYZE" load -d web1.pyspy db1.pyspy
t_expect "analyze: load refuses a capture as the database" 1 '^$' "'web1.pyspy' is a pyspy capture, not a database"
t_run "$ANALYZE" load -d "$T_TMP/x2.db" "$DB"
t_expect "analyze: load refuses a database as a capture" 1 '^$' "is a database, not a capture"

# Unwritable output: clear error, nothing left behind, old file untouched.
t_run "$ANALYZE" flamegraph -o "$T_TMP/no/such/dir/out.svg" web1.pyspy
t_expect "analyze: unwritable output" 1 '^$' "^pyspy-analyze: cannot create '.*no/such/dir/out.svg': No such file or directory$"
echo "previous" >"$T_TMP/keep.svg"
t_run "$ANALYZE" flamegraph -o "$T_TMP/keep.svg" "$T_TMP/text.txt"
t_expect "analyze: a failed report keeps the previous output file" 1 '^$' 'not a pyspy capture'
if [ "$(cat "$T_TMP/keep.svg")" = previous ] && [ -z "$(ls "$T_TMP" | grep 'keep.svg.tmp')" ]; then
	t_ok "analyze: ... unchanged, no temporary file left"
else
	t_fail "analyze: ... unchanged, no temporary file left"
fi
if [ -w /dev/full ]; then
	t_run "$ANALYZE" collapsed -o /dev/full web1.pyspy
	t_expect "analyze: a full disk is an error" 1 '^$' "cannot write '/dev/full': No space left on device"
	t_run sh -c "\"$ANALYZE\" collapsed web1.pyspy >/dev/full"
	t_expect "analyze: a full standard output is an error" 1 '^$' 'cannot write standard output: No space left on device'
else
	t_skip "analyze: a full disk is an error" "no writable /dev/full"
fi
# Root ignores directory permissions: run that case as nobody (setpriv).
as_user=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$ANALYZE" 2>/dev/null; then
	as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
if [ "$(id -u)" != 0 ] || [ ${#as_user[@]} -gt 0 ]; then
	pub=$(mktemp -d "${TMPDIR:-/tmp}/pyspy-ro.XXXXXX")
	mkdir -p "$pub/ro" && cp web1.pyspy "$pub/" && chmod 755 "$pub" && chmod 644 "$pub/web1.pyspy" &&
		chmod 555 "$pub/ro"
	t_run "${as_user[@]}" "$ANALYZE" load -d "$pub/ro/x.db" "$pub/web1.pyspy"
	t_expect "analyze: unwritable database directory" 1 '^$' "cannot open database '.*ro/x.db'"
	rm -rf "$pub"
else
	t_skip "analyze: unwritable database directory" "running as root without setpriv (permissions do not apply)"
fi

# A load that fails halfway (file size limit) leaves the database as it was.
if [ -x "$GEN" ]; then
	# big enough for the progress bar's first draw (after 0.3 s) on a fast machine
	"$GEN" --samples 1500000 --threads 4 --distinct-stacks 200 --seed 7 -o "$T_TMP/big.pyspy" 2>/dev/null
	cp "$DB" "$T_TMP/limit.db"
	before=$(stat -c %s "$T_TMP/limit.db")
	t_run bash -c "trap '' XFSZ; ulimit -f $(( (before + 2000000) / 1024 )); exec \"$ANALYZE\" load -d \"$T_TMP/limit.db\" \"$T_TMP/big.pyspy\""
	t_expect "analyze: a load that cannot write fails" 1 '^$' "database '.*limit.db'"
	t_run "$ANALYZE" sql --no-header "$T_TMP/limit.db" "SELECT (SELECT count(*) FROM captures), (SELECT count(*) FROM samples), (SELECT integrity_check FROM pragma_integrity_check)"
	t_expect "analyze: ... and the database is as before (rolled back, intact)" 0 '^3	904	ok$'
	# Killed in the middle: the journal restores the database on next use.
	cp "$DB" "$T_TMP/kill.db"
	"$ANALYZE" load -d "$T_TMP/kill.db" "$T_TMP/big.pyspy" 2>/dev/null &
	pid=$!
	t_bg $pid
	sleep 0.3
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	t_run "$ANALYZE" sql --no-header "$T_TMP/kill.db" "SELECT (SELECT count(*) FROM samples) = (SELECT sum(samples) FROM captures), (SELECT integrity_check FROM pragma_integrity_check)"
	t_expect "analyze: a load killed with SIGKILL leaves a consistent database" 0 '^1	ok$'

	# Progress bar: on a terminal only (script(1) provides one).
	if command -v script >/dev/null 2>&1; then
		script -qec "\"$ANALYZE\" load -d \"$T_TMP/tty.db\" \"$T_TMP/big.pyspy\"" /dev/null >"$T_TMP/tty.out" 2>&1
		if grep -aq 'loading .*big.pyspy \[#*\.*\] *[0-9]*%' "$T_TMP/tty.out" && grep -aq $'\r' "$T_TMP/tty.out"; then
			t_ok "analyze: progress bar on a terminal"
		else
			t_fail "analyze: progress bar on a terminal" "$(tr '\r' '\n' <"$T_TMP/tty.out" | head -n 3)"
		fi
		script -qec "\"$ANALYZE\" load --no-progress -d \"$T_TMP/tty2.db\" \"$T_TMP/big.pyspy\"" /dev/null >"$T_TMP/tty2.out" 2>&1
		if ! grep -aq 'loading' "$T_TMP/tty2.out"; then t_ok "analyze: --no-progress on a terminal"
		else t_fail "analyze: --no-progress on a terminal"; fi
	else
		t_skip "analyze: progress bar on a terminal" "no script(1) (bsdutils)"
	fi
	"$ANALYZE" load -d "$T_TMP/notty.db" "$T_TMP/big.pyspy" 2>"$T_TMP/notty.err"
	if [ ! -s "$T_TMP/notty.err" ]; then t_ok "analyze: no progress bar when stderr is not a terminal"
	else t_fail "analyze: no progress bar when stderr is not a terminal" "$(head -c 200 "$T_TMP/notty.err")"; fi
	"$ANALYZE" load --progress -d "$T_TMP/forced.db" "$T_TMP/big.pyspy" 2>"$T_TMP/forced.err"
	if grep -aq 'loading' "$T_TMP/forced.err"; then t_ok "analyze: --progress forces the bar"
	else t_fail "analyze: --progress forces the bar"; fi
else
	t_skip "analyze: failed and killed loads, progress bar" "no $GEN (make tests builds it)"
fi

# ---------------------------------------------------------------- views
q() { "$ANALYZE" sql --no-header "$DB" "$1"; }
check_q() {
	local name=$1 sql=$2 want=$3 got
	got=$(q "$sql" 2>&1)
	if [ "$got" = "$want" ]; then t_ok "analyze: view $name"
	else t_fail "analyze: view $name" "got '$got', wanted '$want'"; fi
}
check_q "sample_leaf (idle by py-spy's rule)" \
	"SELECT count(*), sum(idle), sum(os_idle), sum(gil), sum(partial), sum(truncated), sum(gil_wait) FROM sample_leaf WHERE host = 'web1'" \
	$'604\t301\t250\t202\t1\t1\t50'
check_q "sample_leaf wall time" \
	"SELECT wall_time, wall_ns, seconds FROM sample_leaf WHERE host = 'web2' ORDER BY sample LIMIT 1" \
	$'2024-05-01T12:00:00.510\t1714564800510000000\t0.01'
check_q "stack_frames" \
	"SELECT group_concat(level || ':' || (SELECT name FROM frame_info f WHERE f.frame = sf.frame), ' ') FROM (SELECT * FROM stack_frames WHERE stack = (SELECT stack FROM sample_leaf WHERE function = 'fib' AND host = 'web1' LIMIT 1) ORDER BY level) sf" \
	'0:<module> 1:main 2:fib 3:fib 4:fib'
check_q "sample_frames (one row per frame)" \
	"SELECT count(*), sum(is_leaf) FROM sample_frames WHERE capture = (SELECT id FROM captures WHERE host = 'db1')" \
	$'150\t50'
check_q "stack_text" \
	"SELECT text FROM stack_text WHERE stack = (SELECT stack FROM sample_leaf WHERE host = 'db1' AND function = 'convert' LIMIT 1)" \
	'<module> (/srv/db/db.py:50);query (/srv/db/db.py:42);convert (/srv/db/rows.py:7)'
check_q "thread_summary" \
	"SELECT thread_name, samples, active, idle, gil, active_pct FROM thread_summary WHERE host = 'web1' ORDER BY tid" \
	$'MainThread\t202\t152\t50\t152\t75.25\nworker-1\t201\t101\t100\t0\t50.25\nio-loop\t201\t50\t151\t50\t24.88'
check_q "process_summary (tree, ends)" \
	"SELECT pid, ppid, end_how, end_status, threads, samples FROM process_summary WHERE host = 'web2' ORDER BY pid" \
	$'5000\t1\t\t\t1\t100\n5001\t5000\t\t\t1\t100\n5002\t5000\texited\t0\t1\t50'
check_q "capture_summary" \
	"SELECT host, samples, ticks, errors, complete, stop_reason FROM capture_summary ORDER BY host" \
	$'db1\t50\t25\t0\t0\t\nweb1\t604\t202\t6\t1\tduration\nweb2\t250\t100\t1\t1\tsignal'
check_q "thread_names (rename history)" \
	"SELECT group_concat(name || '@' || (t / 1000000), ',') FROM (SELECT * FROM thread_names WHERE thread = (SELECT id FROM threads WHERE tid = 4244) ORDER BY t)" \
	'Thread-2@5,io-loop@1000'
check_q "locals" \
	"SELECT group_concat(depth || ' ' || name || '=' || repr || (CASE WHEN is_arg THEN ' (arg)' ELSE '' END), '; ') FROM (SELECT * FROM locals ORDER BY id)" \
	"0 n=10 (arg); 0 data=[1, 2, 3] (arg); 0 total=6; 1 config={'debug': True}"
check_q "errors and codes" \
	"SELECT group_concat(k.name || '=' || e.count, ',') FROM (SELECT * FROM errors ORDER BY id) e JOIN codes k ON k.domain = 'error_kind' AND k.code = e.kind" \
	'read=3,torn=1,proc=2,bad_object=1'
check_q "versioning pragmas" \
	"SELECT (SELECT application_id FROM pragma_application_id), (SELECT user_version FROM pragma_user_version), (SELECT value FROM pyspy_meta WHERE key = 'schema_version')" \
	$'1887007600\t2\t2'
t_run "$ANALYZE" sql "$DB" 'DELETE FROM samples'
t_expect "analyze: sql opens a database read-only" 1 '^$' 'SQL error: attempt to write a readonly database'
t_run "$ANALYZE" sql "$DB" 'SELEC 1'
t_expect "analyze: sql reports SQL errors" 1 '^$' '^pyspy-analyze: SQL error: near "SELEC": syntax error$'

# ---------------------------------------------------------------- time (issue 9, bug 6)
# 1000 Hz requested, 2 ticks of every 5 missed (ticks at 0, 1 and 4 ms of
# every 5 ms), one busy thread for 1 s: the time shown is the wall time the
# samples cover (1.00 s), not samples / rate (0.60 s).  Sampling starts at
# 0.5 s (a launched program not yet Python) with 1,000 ticks over the 1.5 s
# capture: the achieved rate is ticks over the capture, never above the
# requested rate.
if [ -x "$SYNTH" ]; then
	{
		echo 'meta hostname=lossy rate_hz=1000'
		echo 'process p pid=1 cmdline=lossy'
		echo 'thread t process=p tid=1 name=MainThread main'
		echo 'repeat 200 every=5ms'
		for at in 500 501 504; do
			echo "tick ${at}ms"
			echo 'sample t /x/app.py:main:1;/x/app.py:spin:2 gil'
		done
		echo 'end'
		echo 'trailer 1500ms ticks=1000 missed=400'
	} >"$T_TMP/lossy.synth"
	"$SYNTH" -o "$T_TMP/lossy.pyspy" "$T_TMP/lossy.synth"
	t_run "$ANALYZE" top "$T_TMP/lossy.pyspy"
	t_expect "analyze: time: top shows the wall time covered when ticks are missed" 0 \
		'^100\.00% 100\.00% +1\.00s +1\.00s  spin \(app\.py\)$'
	t_run "$ANALYZE" info "$T_TMP/lossy.pyspy"
	t_expect "analyze: time: info's achieved rate is ticks over the capture" 0 \
		'Rate: +1000 Hz requested, 666\.7 Hz achieved'
	t_run "$ANALYZE" sql "$T_TMP/lossy.pyspy" 'SELECT round(sum(weight_s), 3) FROM sample_leaf'
	t_expect "analyze: time: sample_leaf.weight_s sums to the time covered" 0 '^1\.0$'
	t_run "$ANALYZE" speedscope "$T_TMP/lossy.pyspy"
	t_expect "analyze: time: speedscope weights are the intervals" 0 \
		'"weights":\[0\.499,0\.001,0\.001,0\.003,0\.001,0\.001,0\.003,'
fi

# A version 1 database (before samples.w): reports refuse it with a hint,
# 'load -d DB' upgrades it in place, with the loader's weights.
if command -v sqlite3 >/dev/null 2>&1; then
	cp "$DB" "$T_TMP/v1.db"
	sqlite3 "$T_TMP/v1.db" "SELECT sum(w) FROM samples" >"$T_TMP/v2.sum"
	for v in frame_info sample_leaf stack_frames sample_frames stack_text thread_summary \
		process_summary capture_summary; do
		echo "DROP VIEW $v;"
	done >"$T_TMP/v1.sql"
	echo "ALTER TABLE samples DROP COLUMN w; PRAGMA user_version = 1;" >>"$T_TMP/v1.sql"
	sqlite3 "$T_TMP/v1.db" <"$T_TMP/v1.sql"
	t_run "$ANALYZE" top "$T_TMP/v1.db"
	t_expect "analyze: reports refuse a version 1 database with a hint" 1 '^$' \
		"has schema version 1; upgrade it to 2 with 'pyspy-analyze load -d .*v1.db'"
	t_run "$ANALYZE" load -d "$T_TMP/v1.db"
	t_expect "analyze: load -d upgrades a version 1 database" 0 '^$' '^$'
	if [ "$(sqlite3 "$T_TMP/v1.db" "SELECT sum(w) FROM samples; PRAGMA user_version")" = \
		"$(cat "$T_TMP/v2.sum")"$'\n'2 ] &&
		"$ANALYZE" sql "$T_TMP/v1.db" 'SELECT sum(weight_s) FROM sample_leaf' >/dev/null; then
		t_ok "analyze: the upgrade computes the loader's weights and the views"
	else
		t_fail "analyze: the upgrade computes the loader's weights and the views"
	fi
fi

# ---------------------------------------------------------------- dump (issue 9, bug 10)
t_run "$ANALYZE" dump --at 0 "$DATA/web1.pyspy"
t_expect "analyze: dump --at 0 shows the first tick" 0 '^Thread 4242 \(active\+gil\): "MainThread"$'
t_run "$ANALYZE" dump --at 0.5 "$DATA/web1.pyspy"
t_expect "analyze: dump --at T shows the tick at or after T" 0 'Thread 4243'
t_run "$ANALYZE" dump "$DATA/dump.pyspy"
if [ "$T_RC" = 0 ] && ! grep -q 'Locals:\|Arguments:' <<<"$T_OUT"; then
	t_ok "analyze: dump hides local variables by default"
else
	t_fail "analyze: dump hides local variables by default"
fi
t_run "$ANALYZE" dump --locals "$DATA/dump.pyspy"
t_expect "analyze: dump --locals shows them, as in py-spy" 0 '^        Arguments:$' '^$'
t_run "$ANALYZE" dump --json "$DATA/dump.pyspy"
t_expect "analyze: dump --json without --locals has null locals" 0 '"locals": null' '^$'
grep -q '"repr"' <<<"$T_OUT" && t_fail "analyze: dump --json hides locals by default" ||
	t_ok "analyze: dump --json hides locals by default"

# ---------------------------------------------------------------- smaller ones (issue 9, bug 11)
t_run "$ANALYZE" top --by line --nolineno "$DATA/web1.pyspy"
t_expect "analyze: top --by line --nolineno has the (file) header" 0 '  Function \(file\)$' '^$'
t_run "$ANALYZE" speedscope --threads "$DATA/web1.pyspy"
t_expect "analyze: speedscope --threads puts the thread as root frame" 0 \
	'"samples":\[\[0,1,2,3\],.*"frames":\[\{"name":"thread \(4242\): MainThread"\}' '^$'
t_run "$ANALYZE" top --pid 99 --tid 1 --thread 'nope*' "$DATA/web1.pyspy"
t_expect "analyze: a --pid that matches nothing is warned about" 0 '\(no samples\)' \
	"^pyspy-analyze: warning: --pid 99 matches no process$"
t_expect "analyze: a --tid that matches nothing is warned about" 0 '' "warning: --tid 1 matches no thread$"
t_expect "analyze: a --thread that matches nothing is warned about" 0 '' \
	"warning: --thread 'nope\*' matches no thread name$"
t_run "$ANALYZE" collapsed --pid 4242 --thread 'io-*' --tid 4243 "$DATA/web1.pyspy"
t_expect "analyze: a selection that matches nothing together is warned about" 0 '^$' \
	'^pyspy-analyze: warning: --pid, --tid and --thread together match no thread$'
t_run "$ANALYZE" collapsed --pid 4242 --thread 'io-*' "$DATA/web1.pyspy"
t_expect "analyze: a selection that matches says nothing" 0 'run_forever' '^$'
# Large outputs not meant for reading are refused on a terminal.
if command -v script >/dev/null 2>&1; then
	for rep in flamegraph speedscope; do
		script -qec "\"$ANALYZE\" $rep \"$DATA/web1.pyspy\"; echo rc=\$?" /dev/null >"$T_TMP/tty.$rep" 2>&1
		if grep -q "refusing to write .* to a terminal (use -o FILE" "$T_TMP/tty.$rep" &&
			grep -q 'rc=2' "$T_TMP/tty.$rep" && ! grep -q '<svg\|profiles' "$T_TMP/tty.$rep"; then
			t_ok "analyze: $rep refuses to write to a terminal (exit 2)"
		else
			t_fail "analyze: $rep refuses to write to a terminal (exit 2)" "$(head -c 200 "$T_TMP/tty.$rep")"
		fi
	done
	script -qec "\"$ANALYZE\" flamegraph -o \"$T_TMP/tty.svg\" \"$DATA/web1.pyspy\"" /dev/null >/dev/null 2>&1
	[ -s "$T_TMP/tty.svg" ] && t_ok "analyze: flamegraph -o FILE from a terminal works" ||
		t_fail "analyze: flamegraph -o FILE from a terminal works"
else
	t_skip "analyze: reports refuse to write to a terminal" "no script(1)"
fi
exit 0
