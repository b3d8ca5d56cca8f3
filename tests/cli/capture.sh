#!/usr/bin/env bash
# pyspy-capture's command line: --help/--version, usage errors (exit 2, one
# line + the --help hint), runtime errors (exit 1, one clear line), output
# files (mode 0600, default names, '-' for standard output, no binary on a
# terminal), the summary line, -q/-v, --print, and the -s/--dump/--locals
# usage rules, dump output (summary, pipe, terminal, bad targets).  Live
# parts use the first working interpreter of tests/interpreters.sh.
. "$(dirname "$0")/../lib.sh"
cd "$PYSPY_ROOT" || exit 1
t_tmpdir
export LC_ALL=C.UTF-8
DUMPFILE=$PYSPY_ROOT/$BUILD/tests/pyspy-dumpfile
case $BUILD in /*) DUMPFILE=$BUILD/tests/pyspy-dumpfile ;; esac
TRY="Try 'pyspy-capture --help' for more information."

if [ ! -x "$CAPTURE" ]; then
	t_fail "capture cli: binary exists" "$CAPTURE missing (run make tests)"
	exit 0
fi

# usage_error NAME ARGS...: exit 2, one error line then the --help hint.
usage_error() {
	local name=$1 re=$2
	shift 2
	t_run "$CAPTURE" "$@"
	if [ "$T_RC" = 2 ] && [ -z "$T_OUT" ] && [ "$(printf '%s\n' "$T_ERR" | wc -l)" = 2 ] &&
		printf '%s\n' "$T_ERR" | head -n 1 | grep -Eq "^pyspy-capture: $re" &&
		[ "$(printf '%s\n' "$T_ERR" | tail -n 1)" = "$TRY" ]; then
		t_ok "capture cli: $name"
	else
		t_fail "capture cli: $name" "exit $T_RC, stderr: $T_ERR"
	fi
}

# ---------------------------------------------------------------- help, version
t_run "$CAPTURE" --help
t_expect "capture cli: --help on stdout, exit 0" 0 '^usage: pyspy-capture \[OPTIONS\] --pid PID'
[ -z "$T_ERR" ] && t_ok "capture cli: --help writes nothing on stderr" ||
	t_fail "capture cli: --help writes nothing on stderr" "$T_ERR"
help=$T_OUT
missing=
for o in --pid --output --rate --duration --blocking --nonblocking --timer --print --force \
	--subprocesses --dump --locals --quiet --verbose --help --version -p -o -r -d -s -l -q -v \
	-h -V; do
	grep -q -- "$o" <<<"$help" || missing="$missing $o"
done
[ -z "$missing" ] && t_ok "capture cli: --help lists every option" ||
	t_fail "capture cli: --help lists every option" "missing:$missing"
t_run "$CAPTURE" -h
t_expect "capture cli: -h is --help" 0 '^usage: pyspy-capture'
t_run "$CAPTURE" --version
t_expect "capture cli: --version" 0 '^pyspy-capture [0-9]+\.[0-9]+\.[0-9]+ \(format [0-9]+\.[0-9]+\)$'
t_run "$CAPTURE" -V
t_expect "capture cli: -V" 0 '^pyspy-capture [0-9.]+ \(format [0-9.]+\)$'

# ---------------------------------------------------------------- usage errors
usage_error "no target" "no target: give --pid PID or -- PROGRAM"
usage_error "unknown long option" "unknown option '--bogus'" --bogus
usage_error "unknown short option" "unknown option '-x'" -x
usage_error "missing value" "option '--pid' needs a value" --pid
usage_error "pid not a number" "invalid pid 'abc'" -p abc
usage_error "pid zero" "invalid pid '0'" -p 0
usage_error "negative pid" "invalid pid '-5'" -p -5
usage_error "pid and program" "give either --pid or a program" -p 1 -- true
usage_error "rate zero" "invalid rate '0'" -r 0 -p 1
usage_error "rate too high" "invalid rate '100001'" -r 100001 -p 1
usage_error "rate not a number" "invalid rate '1k'" -r 1k -p 1
usage_error "duration zero" "invalid duration '0'" -d 0 -p 1
usage_error "duration negative" "invalid duration '-1'" -d -1 -p 1
usage_error "duration not a number" "invalid duration '10s'" -d 10s -p 1
usage_error "--blocking with --nonblocking" "--blocking and --nonblocking exclude each other" \
	--blocking --nonblocking -p 1
usage_error "bad timer" "invalid timer 'poisson'" --timer poisson -p 1
usage_error "empty output name" "empty output file name" -o '' -p 1
usage_error "--locals without --dump" "--locals needs --dump" --locals -p 1
usage_error "-l without --dump" "--locals needs --dump" -l -p 1
usage_error "--dump of a program" "--dump reads a running process: give --pid PID" --dump -- true
usage_error "--dump with --rate" "--dump takes one snapshot: --rate, --duration and --timer" \
	--dump -r 10 -p 1
usage_error "--dump with --duration" "--dump takes one snapshot" --dump -d 1 -p 1
usage_error "--dump with --timer" "--dump takes one snapshot" --dump --timer fixed -p 1

# ---------------------------------------------------------------- runtime errors
sleep 30 &
SLEEPER=$!
t_bg $SLEEPER
t_run "$CAPTURE" -p 4194000
t_expect "capture cli: no such pid" 1 '' '^pyspy-capture: no process with pid 4194000$'
t_run "$CAPTURE" -o "$T_TMP/x.pyspy" -p "$SLEEPER"
t_expect "capture cli: not a Python process" 1 '' \
	"^pyspy-capture: process $SLEEPER \('sleep'\) is not a Python process\$"
[ ! -e "$T_TMP/x.pyspy" ] && t_ok "capture cli: no file left for a failed attach" ||
	t_fail "capture cli: no file left for a failed attach"
t_run "$CAPTURE" -p "$(printf '0x%x' "$SLEEPER")"
t_expect "capture cli: hex pid" 1 '' "^pyspy-capture: process $SLEEPER \('sleep'\) is not a Python"
t_run "$CAPTURE" --dump -o "$T_TMP/d.pyspy" -p "$SLEEPER"
t_expect "capture cli: --dump of a process that is not Python" 1 '' \
	"^pyspy-capture: process $SLEEPER \('sleep'\) is not a Python process\$"
[ ! -e "$T_TMP/d.pyspy" ] && t_ok "capture cli: no file left for a failed dump" ||
	t_fail "capture cli: no file left for a failed dump"
t_run "$CAPTURE" --dump -p 4194000
t_expect "capture cli: --dump of no such pid" 1 '' '^pyspy-capture: no process with pid 4194000$'
# A zombie (a child its parent never waits for): nothing to read.  The
# child outlives the shell's exec into sleep(1), which never reaps it.
sh -c 'sleep 0.1 & echo $!; exec sleep 60' >"$T_TMP/zombie.pid" &
t_bg $!
# (wait until it is one: a loaded machine may take long to run sleep 0.1)
for i in $(seq 600); do
	ZOMBIE=$(head -n 1 "$T_TMP/zombie.pid" 2>/dev/null)
	[ -n "$ZOMBIE" ] && [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$ZOMBIE/stat" 2>/dev/null)" = Z ] && break
	sleep 0.1
done
t_bg "$ZOMBIE"
t_run "$CAPTURE" --dump -o "$T_TMP/z.pyspy" -p "$ZOMBIE"
t_expect "capture cli: --dump of a zombie" 1 '' \
	"^pyspy-capture: process $ZOMBIE has no memory mappings \(a zombie or kernel thread\)\$"
t_run "$CAPTURE" -s -o "$T_TMP/s.pyspy" -p "$SLEEPER"
t_expect "capture cli: -s with no Python in the tree" 1 '' \
	"^pyspy-capture: no Python process in process $SLEEPER or its descendants \(process $SLEEPER \('sleep'\) is not a Python process\)\$"
t_run "$CAPTURE" -o "$T_TMP/y.pyspy" -- /nonexistent/program
t_expect "capture cli: program cannot run" 1 '' \
	"^pyspy-capture: cannot run '/nonexistent/program': No such file or directory\$"
t_run "$CAPTURE" -o "$T_TMP/y.pyspy" -- sleep 0.2
t_expect "capture cli: program that is not Python" 1 '' \
	"^pyspy-capture: 'sleep' \(pid [0-9]+\) exited with status 0 without running Python\$"
[ ! -e "$T_TMP/y.pyspy" ] && t_ok "capture cli: no file left when the program is not Python" ||
	t_fail "capture cli: no file left when the program is not Python"
t_run "$CAPTURE" -o /nonexistent-dir/x.pyspy -- sh -c "touch '$T_TMP/ran'"
t_expect "capture cli: unwritable output" 1 '' \
	"^pyspy-capture: cannot create '/nonexistent-dir/x.pyspy': No such file or directory\$"
[ ! -e "$T_TMP/ran" ] && t_ok "capture cli: program not started when the output fails" ||
	t_fail "capture cli: program not started when the output fails"

# ---------------------------------------------------------------- launch: exact version
# A launched program is seen before it fills its Py_GetVersion() buffer:
# the version must still be exact (X.Y.Z from PY_VERSION in .rodata), on
# every interpreter (issue 9: "3.10" instead of "3.10.13" on pyenv builds).
if [ -x "$ANALYZE" ]; then
	while IFS=$'\t' read -r iname ipy idesc; do
		want=$(sed -n 's/^Python \([0-9][0-9.a-z+]*\),.*/\1/p' <<<"$idesc")
		[ -n "$want" ] || continue
		"$CAPTURE" -q -o "$T_TMP/ver-$iname.pyspy" -- "$ipy" -c 'import time; time.sleep(0.2)' \
			>/dev/null 2>"$T_TMP/ver.err"
		got=$("$ANALYZE" info "$T_TMP/ver-$iname.pyspy" 2>/dev/null | sed -n 's/^  Python: *\([^ ]*\) .*/\1/p')
		if [ "$got" = "$want" ]; then
			t_ok "capture cli: launch mode records the exact version on $iname ($got)"
		elif grep -q 'no permission' "$T_TMP/ver.err"; then
			t_skip "capture cli: launch mode records the exact version on $iname" "no ptrace rights"
		else
			t_fail "capture cli: launch mode records the exact version on $iname" \
				"got '$got', want '$want' $(head -n 1 "$T_TMP/ver.err")"
		fi
	done < <(PYSPY_NO_FETCH=1 "$PYSPY_ROOT/tests/interpreters.sh" --available 2>/dev/null)
fi

# ---------------------------------------------------------------- live
PY=$(PYSPY_NO_FETCH=1 "$PYSPY_ROOT/tests/interpreters.sh" --available 2>/dev/null |
	awk -F'\t' '$1 !~ /2\.7/ { print $2; exit }')
if [ -z "$PY" ]; then
	t_skip "capture cli: live tests" "no Python 3 interpreter (tests/interpreters.sh)"
	exit 0
fi
"$PY" -c 'import os, sys, time, threading
sys.stdout.write("ready %d\n" % os.getpid()); sys.stdout.flush()
while True: time.sleep(0.05)' >"$T_TMP/py.out" &
PYPID=$!
t_bg $PYPID
for i in $(seq 300); do grep -q '^ready' "$T_TMP/py.out" && break; sleep 0.1; done

# Permission first: everything below needs ptrace rights.
t_run "$CAPTURE" -q -d 0.2 -o "$T_TMP/probe.pyspy" -p "$PYPID"
if [ "$T_RC" != 0 ] && grep -q 'no permission' <<<"$T_ERR"; then
	t_skip "capture cli: live tests" "no ptrace rights: $T_ERR"
	exit 0
fi

t_run "$CAPTURE" -o "$T_TMP/out.pyspy" -d 0.3 -p "$PYPID"
t_expect "capture cli: one summary line" 0 '' \
	"^pyspy-capture: captured [0-9]+ samples \([0-9]+ errors\) in 0\.[0-9] s to '$T_TMP/out.pyspy' \([0-9]+ bytes\); duration reached\$"
[ "$(printf '%s\n' "$T_ERR" | wc -l)" = 1 ] && t_ok "capture cli: nothing else on stderr" ||
	t_fail "capture cli: nothing else on stderr" "$T_ERR"
[ "$(stat -c %a "$T_TMP/out.pyspy")" = 600 ] && t_ok "capture cli: -o file mode 0600" ||
	t_fail "capture cli: -o file mode 0600" "$(stat -c %a "$T_TMP/out.pyspy")"
# An existing world-readable file is narrowed to 0600 too.
(umask 0; : >"$T_TMP/open.pyspy")
t_run "$CAPTURE" -q -o "$T_TMP/open.pyspy" -d 0.2 -p "$PYPID"
[ "$(stat -c %a "$T_TMP/open.pyspy")" = 600 ] && t_ok "capture cli: existing file made 0600" ||
	t_fail "capture cli: existing file made 0600" "$(stat -c %a "$T_TMP/open.pyspy")"

t_run "$CAPTURE" -q -o "$T_TMP/q.pyspy" -d 0.2 -p "$PYPID"
t_expect "capture cli: -q prints nothing" 0
[ -z "$T_ERR$T_OUT" ] && t_ok "capture cli: -q output empty" ||
	t_fail "capture cli: -q output empty" "$T_ERR"
t_run "$CAPTURE" -v -o "$T_TMP/v.pyspy" -d 0.2 -p "$PYPID"
t_expect "capture cli: -v says what it found" 0 '' \
	"^pyspy-capture: pid $PYPID: Python 3\.[0-9]+\.[0-9]+ in '.*' \(version from .*, interpreter via .*\)\$"
t_run "$CAPTURE" --print -o "$T_TMP/p.pyspy" -d 0.2 -p "$PYPID"
t_expect "capture cli: --print shows stacks" 0 '' \
	"^Thread $PYPID \((idle|active|active\+gil)\): \"MainThread\""
grep -q '^    <module> (<string>:3)$' <<<"$T_ERR" && t_ok "capture cli: --print frame lines" ||
	t_fail "capture cli: --print frame lines" "$(head -c 400 <<<"$T_ERR")"

# Default name: <pid>-<UTC time>.pyspy in the current directory, mode 0600.
mkdir -p "$T_TMP/cwd"
(cd "$T_TMP/cwd" && "$CAPTURE" -q -d 0.2 -p "$PYPID")
f=$(ls "$T_TMP/cwd")
if grep -Eq "^$PYPID-[0-9]{8}T[0-9]{6}Z\.pyspy\$" <<<"$f" &&
	[ "$(stat -c %a "$T_TMP/cwd/$f")" = 600 ]; then
	t_ok "capture cli: default name <pid>-<UTC time>.pyspy, mode 0600"
else
	t_fail "capture cli: default name <pid>-<UTC time>.pyspy, mode 0600" "$f"
fi
rm -f "$T_TMP/cwd"/*
(cd "$T_TMP/cwd" && "$CAPTURE" -q -- "$PY" -c 'import time; time.sleep(0.3)')
f=$(ls "$T_TMP/cwd")
b=$(basename "$PY")
if grep -Eq "^$b-[0-9]{8}T[0-9]{6}Z\.pyspy\$" <<<"$f"; then
	t_ok "capture cli: default name <program>-<UTC time>.pyspy"
else
	t_fail "capture cli: default name <program>-<UTC time>.pyspy" "$f"
fi

# '-o -': the capture on standard output (a pipe), readable by the library.
if [ -x "$DUMPFILE" ]; then
	"$CAPTURE" -q -o - -d 0.3 -p "$PYPID" | "$DUMPFILE" - >"$T_TMP/pipe.dump" 2>&1
	if grep -q '^end complete' "$T_TMP/pipe.dump" && grep -q '^sample ' "$T_TMP/pipe.dump"; then
		t_ok "capture cli: -o - writes a complete capture to a pipe"
	else
		t_fail "capture cli: -o - writes a complete capture to a pipe" "$(tail -n 3 "$T_TMP/pipe.dump")"
	fi
else
	t_skip "capture cli: -o - to a pipe" "no $DUMPFILE"
fi
# ... but never binary onto a terminal (unless --force).
if command -v script >/dev/null 2>&1; then
	script -qec "'$CAPTURE' -o - -d 0.2 -p $PYPID" /dev/null >"$T_TMP/tty.out" 2>&1
	rc=$?
	if [ $rc = 2 ] && grep -q "refusing to write a binary capture to a terminal" "$T_TMP/tty.out"; then
		t_ok "capture cli: -o - refused on a terminal"
	else
		t_fail "capture cli: -o - refused on a terminal" "exit $rc: $(head -c 300 "$T_TMP/tty.out")"
	fi
else
	t_skip "capture cli: -o - refused on a terminal" "no script(1) to make a terminal"
fi

# --dump: one snapshot, one summary line, the pipe to pyspy-analyze.
t_run "$CAPTURE" --dump -o "$T_TMP/dump.pyspy" -p "$PYPID"
t_expect "capture cli: --dump summary" 0 '' \
	"^pyspy-capture: dumped 1 threads of 1 process to '$T_TMP/dump.pyspy' \([0-9]+ bytes\)\$"
t_run "$CAPTURE" --dump --locals --print -o "$T_TMP/dumpl.pyspy" -p "$PYPID"
t_expect "capture cli: --dump --locals --print" 0 '' "dumped 1 threads of 1 process with local variables"
grep -q '^        locals of <module> (<string>:3):$' <<<"$T_ERR" &&
	t_ok "capture cli: --print shows the frames' locals" ||
	t_fail "capture cli: --print shows the frames' locals" "$(head -c 400 <<<"$T_ERR")"
if [ -x "$ANALYZE" ]; then
	"$CAPTURE" -q --dump -o - -p "$PYPID" | "$ANALYZE" dump - >"$T_TMP/pipe.txt" 2>&1
	# (its state is not the point: on a loaded machine the thread, which
	# wakes every 50 ms, is often runnable, i.e. active)
	if grep -Eq "^Thread $PYPID \((idle|active)\): \"MainThread\"" "$T_TMP/pipe.txt"; then
		t_ok "capture cli: --dump -o - | pyspy-analyze dump -"
	else
		t_fail "capture cli: --dump -o - | pyspy-analyze dump -" "$(head -c 300 "$T_TMP/pipe.txt")"
	fi
fi
if command -v script >/dev/null 2>&1; then
	script -qec "'$CAPTURE' --dump -o - -p $PYPID" /dev/null >"$T_TMP/tty.out" 2>&1
	rc=$?
	if [ $rc = 2 ] && grep -q "without -o the dump is printed as text: pyspy-capture --dump --pid $PYPID" "$T_TMP/tty.out"; then
		t_ok "capture cli: --dump -o - on a terminal: refused, with the command to use"
	else
		t_fail "capture cli: --dump -o - on a terminal: refused, with the command to use" \
			"exit $rc: $(head -c 300 "$T_TMP/tty.out")"
	fi
	# Without -o: py-spy's text dump on the terminal, as 'py-spy dump' does.
	script -qec "'$CAPTURE' --dump -p $PYPID" /dev/null >"$T_TMP/tty.out" 2>&1
	rc=$?
	if [ $rc = 0 ] && grep -Eq "^Thread $PYPID \((idle|active)[^)]*\): \"MainThread\"" "$T_TMP/tty.out" &&
		grep -q '^    <module> (<string>:3)' "$T_TMP/tty.out"; then
		t_ok "capture cli: --dump without -o prints the text dump on a terminal"
	else
		t_fail "capture cli: --dump without -o prints the text dump on a terminal" \
			"exit $rc: $(head -c 300 "$T_TMP/tty.out")"
	fi
fi
# A real capture with 8 flipped bytes in the middle (issue 9, bug 7): only
# the damaged chunk is lost (chunks are flushed every second: 3.5 s make at
# least 3), the warning names it and its samples, every other sample loads.
if [ -x "$ANALYZE" ] && command -v od >/dev/null 2>&1; then
	"$CAPTURE" -q -r 200 -d 3.5 -o "$T_TMP/real.pyspy" -p "$PYPID"
	"$ANALYZE" load -q -d "$T_TMP/real.db" "$T_TMP/real.pyspy"
	total=$("$ANALYZE" sql --no-header "$T_TMP/real.db" 'SELECT samples FROM captures')
	c0=$(od -An -tu4 -j12 -N4 "$T_TMP/real.pyspy" | tr -d ' ')
	s0=$(od -An -tu4 -j$((c0 + 12)) -N4 "$T_TMP/real.pyspy" | tr -d ' ')
	c1=$((c0 + 32 + s0))
	s1=$(od -An -tu4 -j$((c1 + 12)) -N4 "$T_TMP/real.pyspy" | tr -d ' ')
	cp "$T_TMP/real.pyspy" "$T_TMP/realbad.pyspy"
	printf '\125\125\125\125\125\125\125\125' |
		dd of="$T_TMP/realbad.pyspy" bs=1 seek=$((c1 + 32 + s1 / 2)) conv=notrunc status=none
	t_run "$ANALYZE" load -d "$T_TMP/realbad.db" "$T_TMP/realbad.pyspy"
	lost=$(sed -n 's/.*chunk 1 damaged (checksum mismatch): skipped 1 chunk, \([0-9]*\) samples lost.*/\1/p' <<<"$T_ERR")
	got=$("$ANALYZE" sql --no-header "$T_TMP/realbad.db" 'SELECT samples || " " || complete FROM captures')
	if [ "$T_RC" = 0 ] && [ -n "$lost" ] && [ "$lost" -gt 0 ] && [ "$got" = "$((total - lost)) 1" ]; then
		t_ok "capture cli: 8 flipped bytes in a real capture lose only their chunk ($lost of $total samples)"
	else
		t_fail "capture cli: 8 flipped bytes in a real capture lose only their chunk" \
			"total $total, loaded '$got', lost '$lost': $T_ERR"
	fi
fi
# Without -o the dump is text on standard output and no file is written.
mkdir -p "$T_TMP/dcwd"
(cd "$T_TMP/dcwd" && "$CAPTURE" --dump -p "$PYPID") >"$T_TMP/dtext.out" 2>"$T_TMP/dtext.err"
rc=$?
if [ $rc = 0 ] && [ -z "$(ls "$T_TMP/dcwd")" ] && [ ! -s "$T_TMP/dtext.err" ] &&
	grep -Eq "^Thread $PYPID \((idle|active)[^)]*\): \"MainThread\"" "$T_TMP/dtext.out"; then
	t_ok "capture cli: --dump without -o: text on standard output, no file"
else
	t_fail "capture cli: --dump without -o: text on standard output, no file" \
		"exit $rc, files: $(ls "$T_TMP/dcwd"), stderr: $(head -c 300 "$T_TMP/dtext.err"), stdout: $(head -c 300 "$T_TMP/dtext.out")"
fi
# -s: the summary counts processes.
t_run "$CAPTURE" -s -o "$T_TMP/s.pyspy" -- "$PY" -c 'import subprocess, sys; subprocess.call([sys.executable, "-c", "import time; time.sleep(0.5)"])'
t_expect "capture cli: -s summary counts the Python processes" 0 '' \
	"^pyspy-capture: captured [0-9]+ samples \([0-9]+ errors\) from 2 Python processes \([0-9]+ in the tree\) in"

# -s: a program that leaves a Python child behind and exits at once; the
# child, adopted by the capture (child subreaper), is still captured.
t_run "$CAPTURE" -s -o "$T_TMP/orphan.pyspy" -- bash -c \
	"sleep 0.2; '$PY' -c 'import time
t = time.time()
while time.time() < t + 0.6: pass' & exit 3"
t_expect "capture cli: -s follows an orphaned Python child" 0 '' \
	"from 1 Python process \([0-9]+ in the tree\) in .*; 'bash' exited with status 3\$"

# A write that fails at once (/dev/full): one line, exit 1.
t_run "$CAPTURE" -o /dev/full -d 0.2 -p "$PYPID"
t_expect "capture cli: /dev/full" 1 '' "^pyspy-capture: cannot write '/dev/full': No space left on device\$"

# --timer exponential at every rate: a gap drawn for a skipped tick may
# end after the time it was drawn at; it is slept to, never written as a
# tick scheduled in the future (that failed with EINVAL from 200 Hz on and
# killed a launched program).
bad=
for r in 100 1000 5000 20000; do
	t_run "$CAPTURE" -q --timer exponential -r $r -d 0.5 -o "$T_TMP/exp.pyspy" -p "$PYPID"
	[ "$T_RC" = 0 ] && [ -z "$T_ERR" ] || bad="$bad attach@$r: $T_RC $T_ERR;"
done
for r in 1000 5000; do
	t_run "$CAPTURE" --timer exponential -r $r -o "$T_TMP/expl.pyspy" -- "$PY" -c 'import sys, time
t = time.time() + 0.4
while time.time() < t: pass
sys.exit(5)'
	[ "$T_RC" = 0 ] && grep -q "exited with status 5\$" <<<"$T_ERR" ||
		bad="$bad launch@$r: $T_RC $T_ERR;"
done
[ -z "$bad" ] && t_ok "capture cli: --timer exponential at 100 Hz to 20 kHz, attach and launch" ||
	t_fail "capture cli: --timer exponential at 100 Hz to 20 kHz, attach and launch" "$bad"

# -o - in launch mode: the program's standard output must not share the
# capture's stream; it goes to the capture's standard error instead.
if [ -x "$ANALYZE" ]; then
	"$CAPTURE" -q -r 500 -o - -- "$PY" -c 'import sys
for i in range(20000): sys.stdout.write("line %d of the program output\n" % i)
sys.stdout.flush()' 2>"$T_TMP/o-err.txt" | "$ANALYZE" info - >"$T_TMP/o-info.txt" 2>&1
	rc=${PIPESTATUS[1]}
	n=$(grep -c '^line [0-9]* of the program output$' "$T_TMP/o-err.txt")
	if [ "$rc" = 0 ] && ! grep -qi corrupt "$T_TMP/o-info.txt" &&
		grep -Eq '^  Samples: +[1-9]' "$T_TMP/o-info.txt" && grep -q 'Ended: ' "$T_TMP/o-info.txt" &&
		[ "$n" = 20000 ]; then
		t_ok "capture cli: -o - in launch mode: the program's output goes to standard error"
	else
		t_fail "capture cli: -o - in launch mode: the program's output goes to standard error" \
			"info exit $rc, $n lines on stderr: $(head -c 400 "$T_TMP/o-info.txt")"
	fi
fi

# A program that never runs Python: within a second or two the capture says
# what it waits for; without -s it gives up 10 s after the last exec, with
# exit 1, and leaves the program running.
"$CAPTURE" -o "$T_TMP/nopy.pyspy" -- sleep 120 2>"$T_TMP/nopy.err" &
cpid=$!
t_bg $cpid
wait $cpid
rc=$?
spid=$(sed -n "s/^pyspy-capture: 'sleep' (pid \([0-9]*\)) is not running Python (yet).*/\1/p" "$T_TMP/nopy.err")
[ -n "$spid" ] && t_bg "$spid"
if [ "$rc" = 1 ] && [ "$(wc -l <"$T_TMP/nopy.err")" = 2 ] &&
	head -n 1 "$T_TMP/nopy.err" | grep -Eq "^pyspy-capture: 'sleep' \(pid [0-9]+\) is not running Python \(yet\); waiting up to 10 s for it to exec a Python interpreter" &&
	tail -n 1 "$T_TMP/nopy.err" | grep -Eq "^pyspy-capture: 'sleep' \(pid $spid\) did not start Python within 10 s of its last exec \(.*\); leaving it running" &&
	kill -0 "$spid" 2>/dev/null && [ ! -e "$T_TMP/nopy.pyspy" ]; then
	t_ok "capture cli: a program that never runs Python: said at once, given up after 10 s, left running"
else
	t_fail "capture cli: a program that never runs Python: said at once, given up after 10 s, left running" \
		"exit $rc: $(cat "$T_TMP/nopy.err")"
fi
[ -n "$spid" ] && kill "$spid" 2>/dev/null

# Disk full (a 64 KiB tmpfs): the capture stops, the file keeps what was
# written and the closing line counts the samples it holds; the program
# is never killed: attached, it runs on; launched, it is let finish.
if [ "$(id -u)" = 0 ] && [ -x "$DUMPFILE" ] && mkdir -p "$T_TMP/small" &&
	mount -t tmpfs -o size=64k pyspy-test "$T_TMP/small" 2>/dev/null; then
	# New functions all the time (each a new name, file and frame in the
	# capture) fill 64 KiB within seconds.
	cat >"$T_TMP/fill.py" <<'PYEOF'
import os, sys
stop = sys.argv[1]
i = 0
while not os.path.exists(stop):
    src = "def function_number_%d_with_a_long_name(n):\n" % i
    src += "    return n and function_number_%d_with_a_long_name(n - 1)\n" % i
    g = {}
    exec(compile(src, "generated_file_number_%d.py" % i, "exec"), g)
    for k in range(20):
        g["function_number_%d_with_a_long_name" % i](30)
    i += 1
open(stop + ".done", "w").close()
sys.exit(4)
PYEOF
	full_check() {  # NAME ERRFILE CAPFILE THEN_RE
		local name=$1 err=$2 cap=$3 then=$4 n m
		n=$(sed -n "s/.*the file keeps the \([0-9]*\) samples written before.*/\1/p" "$err")
		m=$("$DUMPFILE" "$cap" 2>/dev/null | grep -c '^sample ')
		if grep -Eq "^pyspy-capture: writing '$cap' failed: No space left on device; capture stopped after [0-9.]+ s, the file keeps the [0-9]+ samples written before$then" "$err" &&
			[ "$(grep -vc '^pyspy-capture: warning: ' "$err")" = 1 ] && [ -n "$n" ] && [ "$n" = "$m" ] && [ "$m" -gt 0 ]; then
			t_ok "capture cli: disk full ($name): one line, the samples the file holds"
		else
			t_fail "capture cli: disk full ($name): one line, the samples the file holds" \
				"said $n, file holds $m: $(cat "$err")"
		fi
	}
	rm -f "$T_TMP/stop1"*
	"$CAPTURE" -r 5000 -o "$T_TMP/small/l.pyspy" -- "$PY" "$T_TMP/fill.py" "$T_TMP/stop1" \
		2>"$T_TMP/full-l.err" &
	cpid=$!
	t_bg $cpid
	# Handshake: the program stops once the capture said it stopped.
	for i in $(seq 600); do
		grep -q 'failed' "$T_TMP/full-l.err" 2>/dev/null && break
		kill -0 $cpid 2>/dev/null || break
		sleep 0.1
	done
	: >"$T_TMP/stop1"
	wait $cpid
	rc=$?
	if [ "$rc" = 1 ] && [ -e "$T_TMP/stop1.done" ]; then
		t_ok "capture cli: disk full (launch): exit 1, the program finishes on its own"
	else
		t_fail "capture cli: disk full (launch): exit 1, the program finishes on its own" \
			"exit $rc: $(cat "$T_TMP/full-l.err")"
	fi
	full_check launch "$T_TMP/full-l.err" "$T_TMP/small/l.pyspy" "; letting '$PY' \(pid [0-9]+\) finish\$"
	rm -f "$T_TMP/small/"* "$T_TMP/stop2"*
	"$PY" "$T_TMP/fill.py" "$T_TMP/stop2" &
	fpid=$!
	t_bg $fpid
	t_run "$CAPTURE" -r 5000 -o "$T_TMP/small/a.pyspy" -p $fpid
	printf '%s\n' "$T_ERR" >"$T_TMP/full-a.err"
	if [ "$T_RC" = 1 ] && kill -0 $fpid 2>/dev/null; then
		t_ok "capture cli: disk full (attach): exit 1, the program runs on"
	else
		t_fail "capture cli: disk full (attach): exit 1, the program runs on" "exit $T_RC: $T_ERR"
	fi
	full_check attach "$T_TMP/full-a.err" "$T_TMP/small/a.pyspy" "; process $fpid runs on\$"
	: >"$T_TMP/stop2"
	wait $fpid
	umount "$T_TMP/small"
else
	t_skip "capture cli: disk full on a small tmpfs" "needs root to mount a tmpfs, and $DUMPFILE"
fi

# Launch mode without a controlling terminal (CI, scripts, services): the
# program runs in a session of its own, so the kernel's autogroup does not
# make it share the capture's CPU share (ticks were missed).  With a
# terminal it stays in the capture's session and keeps the terminal.
sess_prog='import os, sys
try:
    os.close(os.open("/dev/tty", os.O_RDONLY)); tty = "tty"
except OSError:
    tty = "notty"
sys.stderr.write("session %s %d %s\n" % ("own" if os.getsid(0) == os.getpid() else "shared", os.getsid(0), tty))'
t_run setsid -w "$CAPTURE" -q -o "$T_TMP/sess.pyspy" -- "$PY" -c "$sess_prog"
if [ "$T_RC" = 0 ] && grep -q '^session own [0-9]* notty$' <<<"$T_ERR"; then
	t_ok "capture cli: launch without a terminal: the program has a session of its own"
else
	t_fail "capture cli: launch without a terminal: the program has a session of its own" "exit $T_RC: $T_ERR"
fi
if command -v script >/dev/null 2>&1; then
	script -qec "'$CAPTURE' -q -o '$T_TMP/sess2.pyspy' -- '$PY' -c '$(sed "s/'/'\\\\''/g" <<<"$sess_prog")'" /dev/null >"$T_TMP/sess.out" 2>&1
	if grep -q '^session shared [0-9]* tty' "$T_TMP/sess.out"; then
		t_ok "capture cli: launch on a terminal: the program keeps the terminal and session"
	else
		t_fail "capture cli: launch on a terminal: the program keeps the terminal and session" \
			"$(head -c 300 "$T_TMP/sess.out")"
	fi
fi

# A capture that cannot start never ends the launched program: it is let
# finish (it used to get SIGTERM).
rm -f "$T_TMP/finished"
t_run "$CAPTURE" -o /dev/full -- "$PY" -c "import sys, time
t = time.time() + 0.5
while time.time() < t: pass
open('$T_TMP/finished', 'w').close()
sys.exit(6)"
t_expect "capture cli: launch with /dev/full: one line, the program is let finish" 1 '' \
	"^pyspy-capture: cannot write '/dev/full': No space left on device; letting '.*' finish\$"
[ -e "$T_TMP/finished" ] && t_ok "capture cli: launch with /dev/full: the program finished" ||
	t_fail "capture cli: launch with /dev/full: the program finished"

# Launch mode: the program's status is reported, the capture exits 0.
t_run "$CAPTURE" -o "$T_TMP/l.pyspy" -- "$PY" -c 'import sys, time; time.sleep(0.3); sys.exit(7)'
t_expect "capture cli: launch reports the program's exit status" 0 '' \
	"; '$PY' exited with status 7\$"
t_run "$CAPTURE" -o "$T_TMP/k.pyspy" -- "$PY" -c 'import os, time; time.sleep(0.3); os.kill(os.getpid(), 9)'
t_expect "capture cli: launch reports a killed program" 0 '' \
	"; '$PY' was killed by signal 9\$"
exit 0
