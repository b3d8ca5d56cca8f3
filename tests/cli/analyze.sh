#!/usr/bin/env bash
# pyspy-analyze command line: usage errors (exit 2, one line + the "Try"
# line on stderr, nothing on stdout), --help of the tool and of every
# subcommand (stdout, exit 0, every option listed), --version, exit codes.
. "$(dirname "$0")/../lib.sh"
cd "$PYSPY_ROOT" || exit 1
t_tmpdir
export LC_ALL=C
CAP=tests/data/analyze/web1.pyspy
TRY="Try 'pyspy-analyze --help' for more information."
COMMANDS="load info flamegraph speedscope collapsed pprof chrometrace firefox top dump sql"

if [ ! -x "$ANALYZE" ]; then
	t_fail "cli analyze: pyspy-analyze is built" "no $ANALYZE"
	exit 0
fi

# usage_case NAME ARGS...: a usage error
usage_case() {
	local name=$1; shift
	t_run "$ANALYZE" "$@"
	if [ "$T_RC" = 2 ] && [ -z "$T_OUT" ] && [ "$(printf '%s\n' "$T_ERR" | wc -l)" = 2 ] &&
		[ "$(printf '%s\n' "$T_ERR" | tail -n 1)" = "$TRY" ] &&
		grep -q '^pyspy-analyze: ' <<<"$T_ERR"; then
		t_ok "cli analyze: $name"
	else
		t_fail "cli analyze: $name" "exit $T_RC, stdout '$(head -c 80 <<<"$T_OUT")', stderr '$(head -c 200 <<<"$T_ERR")'"
	fi
}

# ---------------------------------------------------------------- usage errors
usage_case "no command" 
usage_case "unknown command" frobnicate
usage_case "unknown top-level option" --frobnicate
for c in $COMMANDS; do
	usage_case "$c: unknown option" "$c" --no-such-option "$CAP"
	usage_case "$c: unknown short option" "$c" -Z "$CAP"
done
for c in info flamegraph speedscope collapsed pprof chrometrace firefox top dump; do
	usage_case "$c: no SOURCE" "$c"
done
usage_case "load: no CAPTURE" load -d "$T_TMP/x.db"
usage_case "load: -d needs an argument" load -d
usage_case "sql: no SQL" sql "$CAP"
usage_case "sql: no SOURCE" sql -e 'SELECT 1'
usage_case "option needs an argument" collapsed "$CAP" --from
usage_case "--from not a number" collapsed --from abc "$CAP"
usage_case "--from negative" collapsed --from -1 "$CAP"
usage_case "--to before --from" collapsed --from 2 --to 1 "$CAP"
usage_case "--pid not a number" collapsed --pid x12 "$CAP"
usage_case "--pid zero" collapsed --pid 0 "$CAP"
usage_case "--tid bad list" collapsed --tid 12, "$CAP"
usage_case "top --by bad" top --by file "$CAP"
usage_case "top --sort bad" top --sort name "$CAP"
usage_case "top -n bad" top -n -3 "$CAP"
usage_case "flamegraph --width bad" flamegraph --width 10 "$CAP"
usage_case "flamegraph --minwidth bad" flamegraph --minwidth x "$CAP"
usage_case "dump --at bad" dump --at soon "$CAP"
usage_case "--base-from without --diff" collapsed --base-from 1 "$CAP"
usage_case "flamegraph --base-to without --diff" flamegraph --base-to 1 "$CAP"
usage_case "--base-from bad" flamegraph --diff "$CAP" --base-from x "$CAP"
usage_case "pprof --window without -o" pprof --window 10 "$CAP"
usage_case "pprof --window to standard output" pprof --window 10 -o - "$CAP"
usage_case "pprof --window bad" pprof --window 1ms -o "$T_TMP/w.pb.gz" "$CAP"
usage_case "pprof --window too short" pprof --window 0.0001 -o "$T_TMP/w.pb.gz" "$CAP"
usage_case "dump does not take --gil" dump --gil "$CAP"
usage_case "info does not take --threads" info --threads "$CAP"
usage_case "stdin twice" collapsed - -
usage_case "load stdin twice" load -d "$T_TMP/x.db" - -
[ ! -e "$T_TMP/x.db" ] && t_ok "cli analyze: a usage error creates no database" ||
	t_fail "cli analyze: a usage error creates no database"

# ---------------------------------------------------------------- help, version
t_run "$ANALYZE" --help
t_expect "cli analyze: --help" 0 '^Usage: pyspy-analyze COMMAND' '^$'
for c in $COMMANDS; do
	grep -qE "^  $c +[a-z]" <<<"$T_OUT" || t_fail "cli analyze: --help lists '$c'"
done
t_run "$ANALYZE" -h
t_expect "cli analyze: -h" 0 '^Usage: pyspy-analyze COMMAND' '^$'
t_run "$ANALYZE" --version
t_expect "cli analyze: --version" 0 '^pyspy-analyze [0-9]+\.[0-9]+\.[0-9]+ \(format [0-9]+\.[0-9]+, database schema [0-9]+\)$' '^$'

# Every subcommand: --help on stdout, exit 0, and every long option its
# parser accepts appears in it (options are tried one by one: an option the
# parser knows is never an "unknown option" usage error).
for c in $COMMANDS; do
	t_run "$ANALYZE" "$c" --help
	t_expect "cli analyze: $c --help" 0 "^Usage: pyspy-analyze $c " '^$'
	help=$T_OUT
	t_run "$ANALYZE" "$c" -h
	t_expect "cli analyze: $c -h" 0 "^Usage: pyspy-analyze $c " '^$'
	missing=
	for o in $(grep -oE -- '--[a-z][a-z-]*' <<<"$help" | sort -u); do
		# an option shown in --help must be accepted (not "unknown option")
		"$ANALYZE" "$c" "$o" </dev/null >/dev/null 2>"$T_TMP/opt.err"
		grep -q "unknown option" "$T_TMP/opt.err" && missing="$missing $o"
	done
	if [ -z "$missing" ]; then t_ok "cli analyze: $c accepts every option its --help shows"
	else t_fail "cli analyze: $c accepts every option its --help shows" "unknown:$missing"; fi
done
# The other direction: options the FILTERS promise are in every report's help.
for c in flamegraph speedscope collapsed pprof chrometrace firefox top; do
	help=$("$ANALYZE" "$c" --help)
	missing=
	for o in --pid --tid --thread --capture --gil --idle --from --to --function --nolineno \
		--threads --processes --no-processes --full-filenames --qualname --output --quiet \
		--progress --no-progress --help; do
		grep -qE -- "(^|[ ,])$o([ ,=]|$)" <<<"$help" || missing="$missing $o"
	done
	if [ -z "$missing" ]; then t_ok "cli analyze: $c --help lists every FILTER"
	else t_fail "cli analyze: $c --help lists every FILTER" "missing:$missing"; fi
done
for o in --at --json --pid --tid --thread --capture --full-filenames --qualname --output; do
	grep -qE -- "$o" <<<"$("$ANALYZE" dump --help)" || t_fail "cli analyze: dump --help lists $o"
done

# ---------------------------------------------------------------- exit codes
t_run "$ANALYZE" collapsed "$CAP"
t_expect "cli analyze: success is exit 0, output on stdout only" 0 'compute' '^$'
t_run "$ANALYZE" collapsed "$T_TMP/missing.pyspy"
t_expect "cli analyze: runtime failure is exit 1 with one line" 1 '^$' \
	"^pyspy-analyze: cannot open '.*missing.pyspy': No such file or directory$"
t_run "$ANALYZE" collapsed -o "$T_TMP/out.folded" "$CAP"
if [ "$T_RC" = 0 ] && [ -z "$T_OUT" ] && [ -z "$T_ERR" ] && [ -s "$T_TMP/out.folded" ]; then
	t_ok "cli analyze: -o FILE writes the file and nothing else"
else
	t_fail "cli analyze: -o FILE writes the file and nothing else" "exit $T_RC"
fi
t_run "$ANALYZE" top "$CAP" -n 3
t_expect "cli analyze: options after operands" 0 'Function' '^$'
t_run "$ANALYZE" collapsed -- "$CAP"
t_expect "cli analyze: -- ends the options" 0 'compute' '^$'

# Binary output: pprof goes to a pipe, never to a terminal.
if "$ANALYZE" pprof "$CAP" 2>"$T_TMP/pp.err" | gzip -t 2>>"$T_TMP/pp.err" && [ ! -s "$T_TMP/pp.err" ]; then
	t_ok "cli analyze: pprof writes gzip to a pipe"
else
	t_fail "cli analyze: pprof writes gzip to a pipe" "$(head -n 1 "$T_TMP/pp.err")"
fi
if command -v script >/dev/null 2>&1; then
	script -qec "'$ANALYZE' pprof '$CAP'; echo \"rc=\$?\"" /dev/null >"$T_TMP/tty.out" 2>&1 </dev/null
	if grep -q "refusing to write a binary profile to a terminal" "$T_TMP/tty.out" && grep -q "rc=2" "$T_TMP/tty.out"; then
		t_ok "cli analyze: pprof refuses a terminal (exit 2)"
	else
		t_fail "cli analyze: pprof refuses a terminal (exit 2)" "$(tr -d '\r' <"$T_TMP/tty.out" | head -c 200)"
	fi
else
	t_skip "cli analyze: pprof refuses a terminal (exit 2)" "no script(1)"
fi
exit 0
