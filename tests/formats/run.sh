#!/usr/bin/env bash
# formats suite: the output-format validators against their hand-made
# examples (tests/formats/examples/EXPECT: valid ones accepted, each broken
# one rejected for its defect), then pyspy-analyze's real flamegraph,
# speedscope and collapsed output through the same validators and the real
# clients (speedscope web app, chromium clicking and searching the SVG).
#
#   env CHROMIUM=/path     browser (default /usr/bin/chromium)
#   env FORMATS_ONLY=REGEX only EXPECT lines whose file matches (debugging)
#   env FORMATS_CAPTURE=F  the "big" capture to render (default: one made
#                          by $BUILD/bench/gen_capture)
. "$(dirname "$0")/../lib.sh"
HERE=$PYSPY_ROOT/tests/formats
cd "$HERE" || exit 1
t_tmpdir
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM
LIMIT=150	# seconds per validator run; the validators' own watchdogs are shorter

# ---------------------------------------------------------------- set-up
# (before HOME is replaced: npm may need the user's registry settings)
have_node=1 node_why=
out=$(./setup.sh 2>&1)
rc=$?
if [ "$rc" != 0 ]; then
	have_node=0
	node_why=$(tail -n 1 <<<"$out")
	if [ "$rc" = 3 ]; then
		t_skip "formats: npm packages installed" "$node_why"
	else
		t_fail "formats: npm packages installed" "$node_why"
		printf '%s\n' "$out" | tail -n 10 | sed 's/^/    /'
	fi
else
	[ -n "$out" ] && printf '%s\n' "$out"
	t_ok "formats: npm packages installed ($(node --version))"
fi
have_browser=1 browser_why=
if [ ! -x "$CHROMIUM" ]; then
	have_browser=0 browser_why="no chromium at $CHROMIUM (scripts/install-deps.sh installs it)"
fi
have_xmllint=1
command -v xmllint >/dev/null 2>&1 || have_xmllint=0
have_go=1
command -v go >/dev/null 2>&1 || have_go=0

# Nothing below writes into the real home.
mkdir -p "$T_TMP/home" "$T_TMP/tmp" "$T_TMP/pprof"
export HOME=$T_TMP/home TMPDIR=$T_TMP/tmp XDG_CONFIG_HOME=$T_TMP/home/.config XDG_CACHE_HOME=$T_TMP/home/.cache
export PPROF_TMPDIR=$T_TMP/pprof

SCHEMA=node_modules/speedscope/dist/release/file-format-schema.json
# validate VALIDATOR FILE [ARGS...]: runs it, output in $T_TMP/v.out, exit status returned
validate() {
	local v=$1 f=$2; shift 2
	case $v in
	folded) timeout -k 5 $LIMIT node folded-check.mjs "$f" "$@" ;;
	speedscope) timeout -k 5 $LIMIT node speedscope-check.mjs "$f" "$@" ;;
	ajv) timeout -k 5 $LIMIT node_modules/.bin/ajv validate --spec=draft7 --all-errors --errors=text -s "$SCHEMA" -d "$f" "$@" ;;
	load) timeout -k 5 $LIMIT node speedscope-load.mjs "$f" "$@" ;;
	svg) timeout -k 5 $LIMIT node svg-flamegraph.mjs "$f" "$@" ;;
	xmllint) xmllint --noout "$f" "$@" ;;
	gzip) gzip -t "$f" ;;
	pprof) timeout -k 5 $LIMIT node pprof-check.mjs "$f" "$@" ;;
	goraw) timeout -k 5 $LIMIT go tool pprof -raw -symbolize=none "$@" "$f" ;;
	trace) timeout -k 5 $LIMIT node trace-event-check.mjs "$f" "$@" ;;
	ffcheck) timeout -k 5 $LIMIT node ffprof-check.mjs "$f" "$@" ;;
	ffload) timeout -k 5 $LIMIT ./ffprof-load.sh "$f" "$@" ;;
	*) echo "unknown validator '$v'"; return 99 ;;
	esac >"${VOUT:-$T_TMP/v.out}" 2>&1
}
# needs VALIDATOR: why it cannot run here, or nothing
needs() {
	case $1 in
	xmllint) [ "$have_xmllint" = 1 ] || echo "xmllint not installed (libxml2-utils)" ;;
	gzip) ;;
	goraw) [ "$have_go" = 1 ] || echo "go not installed (golang-go; scripts/install-deps.sh installs it)" ;;
	load|svg) if [ "$have_node" = 0 ]; then echo "$node_why"; elif [ "$have_browser" = 0 ]; then echo "$browser_why"; fi ;;
	*) [ "$have_node" = 1 ] || echo "$node_why" ;;
	esac
}
show_output() { sed 's/^/    /' "$T_TMP/v.out" | tail -n "${1:-15}"; }

# ---------------------------------------------------------------- self-tests
if [ "$have_node" = 1 ]; then
	# The committed examples are what the generator writes.
	if node examples/make-examples.mjs "$T_TMP/examples" >"$T_TMP/v.out" 2>&1 &&
		diff -r -x make-examples.mjs -x .gitattributes examples "$T_TMP/examples" >"$T_TMP/v.out" 2>&1; then
		t_ok "formats: committed examples match make-examples.mjs"
	else
		t_fail "formats: committed examples match make-examples.mjs" "run: node tests/formats/examples/make-examples.mjs"
		show_output 10
	fi
fi

# Run the EXPECT cases JOBS at a time (each browser case is ~2 s of
# mostly CPU), then report them in order.
JOBS=${FORMATS_JOBS:-$(nproc 2>/dev/null || echo 2)}
[ "$JOBS" -gt 4 ] && JOBS=4
mkdir -p "$T_TMP/expect"
cases=()
i=0
while IFS=$'\t' read -r v f rc re extra; do
	[ -n "$v" ] || continue
	if [ -n "${FORMATS_ONLY:-}" ] && ! grep -Eq -- "$FORMATS_ONLY" <<<"$f"; then continue; fi
	i=$((i + 1))
	cases+=("$i"$'\t'"$v"$'\t'"$f"$'\t'"$rc"$'\t'"$re"$'\t'"$extra")
	[ -n "$(needs "$v")" ] && continue
	args=()
	[ -n "$extra" ] && mapfile -t args < <(xargs printf '%s\n' <<<"$extra")
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
	( VOUT=$T_TMP/expect/$i.out; validate "$v" "examples/$f" "${args[@]}"; echo $? >"$T_TMP/expect/$i.rc" ) &
done <examples/EXPECT
wait
for c in "${cases[@]}"; do
	IFS=$'\t' read -r i v f rc re extra <<<"$c"
	what=accepts; [ "$rc" = 0 ] || what=rejects
	name="formats: $v $what $f${extra:+ ($extra)}"
	why=$(needs "$v")
	if [ -n "$why" ]; then t_skip "$name" "$why"; continue; fi
	cp "$T_TMP/expect/$i.out" "$T_TMP/v.out" 2>/dev/null || : >"$T_TMP/v.out"
	got=$(cat "$T_TMP/expect/$i.rc" 2>/dev/null || echo "none")
	if [ "$got" != "$rc" ]; then
		t_fail "$name" "exit $got, wanted $rc"
		show_output
	elif [ -n "$re" ] && ! grep -Eq -- "$re" "$T_TMP/v.out"; then
		t_fail "$name" "output does not match /$re/"
		show_output
	else
		t_ok "$name"
	fi
done

# ---------------------------------------------------------------- pyspy-analyze
# Real reports of two captures:
#   app  the examples' data set (examples/app.synth through pyspy-synth):
#        the reports must say exactly what the examples say;
#   big  a larger synthetic capture (bench/gen_capture; or FORMATS_CAPTURE):
#        many frames, thousands of samples, rounding at every edge.
SYNTH=$PYSPY_ROOT/$BUILD/tests/pyspy-synth
GEN=$PYSPY_ROOT/$BUILD/bench/gen_capture
REPORTS="collapsed speedscope flamegraph pprof chrometrace firefox"
if [ ! -x "$ANALYZE" ]; then
	for r in $REPORTS; do t_skip "formats: pyspy-analyze $r output" "pyspy-analyze not built yet"; done
	exit 0
fi

# produce TAG REPORT FILE CAPTURE [OPTIONS]: pyspy-analyze REPORT [OPTIONS] -o FILE CAPTURE
produce() {
	local tag=$1 report=$2 file=$3 cap=$4; shift 4
	local name="formats: [$tag] pyspy-analyze $report${*:+ $*} writes $(basename "$file")"
	if timeout -k 5 120 "$ANALYZE" "$report" "$@" -o "$file" "$cap" >"$T_TMP/v.out" 2>&1 && [ -s "$file" ]; then
		t_ok "$name"
		return 0
	fi
	t_fail "$name" "exit status or empty output"
	show_output 10
	return 1
}
# real TAG NAME VALIDATOR FILE [ARGS]: validate a report; the output is
# kept as $T_TMP/TAG.VALIDATOR.FILE.out
real() {
	local tag=$1 name=$2 v=$3 f=$4; shift 4
	local why
	why=$(needs "$v")
	if [ -n "$why" ]; then t_skip "formats: [$tag] $name" "$why"; return 1; fi
	if validate "$v" "$f" "$@"; then
		t_ok "formats: [$tag] $name"
		cp "$T_TMP/v.out" "$T_TMP/$tag.$v.$(basename "$f").out"
		return 0
	fi
	t_fail "formats: [$tag] $name" "$(grep -E '^(FAIL|ERROR|ALERT|JS ERROR)' "$T_TMP/v.out" | head -n 1)"
	show_output 25
	return 1
}
# same_counts TAG: the three reports count the same (non-idle) samples
same_counts() {
	local tag=$1 fo sv ss_line ss=
	fo=$(sed -nE 's/^OK [0-9]+ stacks, ([0-9]+) samples.*/\1/p' "$T_TMP/$tag.folded.real.folded.out" 2>/dev/null)
	sv=$(sed -nE 's/^INFO [0-9]+ frames, ([0-9]+) samples.*/\1/p' "$T_TMP/$tag.svg.real.svg.out" 2>/dev/null | head -n 1)
	# (speedscope: sampled profiles; empty samples are gaps, not samples)
	ss_line=$(sed -nE 's/^OK [0-9]+ profiles \([0-9]+ sampled\), [0-9]+ frames, ([0-9]+) samples \(([0-9]+) empty\).*/\1 \2/p' \
		"$T_TMP/$tag.speedscope.real.speedscope.json.out" 2>/dev/null)
	[ -n "$ss_line" ] && ss=$(( ${ss_line% *} - ${ss_line#* } ))
	[ -n "$fo" ] && { [ -n "$sv" ] || [ -n "$ss" ]; } || return 0
	if [ "${sv:-$fo}" = "$fo" ] && [ "${ss:-$fo}" = "$fo" ]; then
		t_ok "formats: [$tag] collapsed, flamegraph and speedscope count the same samples ($fo)"
	else
		t_fail "formats: [$tag] collapsed, flamegraph and speedscope count the same samples" \
			"collapsed $fo, flamegraph ${sv:-?}, speedscope ${ss:-?}"
	fi
}

# reports TAG CAPTURE [exact]
reports() {
	local tag=$1 cap=$2 exact=${3:-} d=$T_TMP/$1
	mkdir -p "$d"
	if produce "$tag" collapsed "$d/real.folded" "$cap"; then
		if [ -n "$exact" ]; then
			real "$tag" "collapsed output is strict folded stacks, 16 samples" folded "$d/real.folded" --expect-total 16
			if diff <(sort examples/valid.folded) <(sort "$d/real.folded") >"$T_TMP/v.out" 2>&1; then
				t_ok "formats: [$tag] collapsed output has the examples' stacks and counts"
			else
				t_fail "formats: [$tag] collapsed output has the examples' stacks and counts" "diff: < expected, > pyspy-analyze"
				show_output 20
			fi
		else
			real "$tag" "collapsed output is strict folded stacks" folded "$d/real.folded"
		fi
		real "$tag" "collapsed output loads in the speedscope app" load "$d/real.folded" --screenshot "$d/folded.png"
	fi
	if produce "$tag" collapsed "$d/real-threads.folded" "$cap" --threads; then
		real "$tag" "collapsed --threads output is strict folded stacks" folded "$d/real-threads.folded" ${exact:+--expect-total 16}
	fi
	if produce "$tag" speedscope "$d/real.speedscope.json" "$cap"; then
		real "$tag" "speedscope output passes schema and structure checks" speedscope "$d/real.speedscope.json" ${exact:+--expect-profiles 2}
		real "$tag" "speedscope output passes ajv-cli with the package schema" ajv "$d/real.speedscope.json"
		real "$tag" "speedscope output loads in the speedscope app" load "$d/real.speedscope.json" --screenshot "$d/speedscope.png"
	fi
	if produce "$tag" flamegraph "$d/real.svg" "$cap"; then
		real "$tag" "flamegraph output is well-formed XML (xmllint)" xmllint "$d/real.svg"
		if [ -n "$exact" ]; then
			real "$tag" "flamegraph output: click compute, search compute -> Matched 43.8%" svg "$d/real.svg" \
				--labels --frame compute --search compute --expect-matched 43.8 --screenshot "$d/flamegraph.png"
			real "$tag" "flamegraph output: search work (nested match) -> Matched 50.0%" svg "$d/real.svg" \
				--frame '<module>' --search work --expect-matched 50.0
		else
			real "$tag" "flamegraph output: hover, click-zoom, reset, search in chromium" svg "$d/real.svg" --labels --screenshot "$d/flamegraph.png"
		fi
	fi
	if produce "$tag" flamegraph "$d/real-threads.svg" "$cap" --threads; then
		real "$tag" "flamegraph --threads output: hover, click-zoom, reset, search in chromium" svg "$d/real-threads.svg" \
			${exact:+--frame thread --search ^main --expect-matched 50.0}
	fi
	if produce "$tag" pprof "$d/real.pb.gz" "$cap"; then
		real "$tag" "pprof output is gzip" gzip "$d/real.pb.gz"
		real "$tag" "pprof output passes the pprof-format decoder and integrity checks" pprof "$d/real.pb.gz" \
			--expect-types samples/count,wall/nanoseconds ${exact:+--expect-total 16}
		real "$tag" "pprof output is read by go tool pprof -raw" goraw "$d/real.pb.gz"
		real "$tag" "pprof output loads in the speedscope app" load "$d/real.pb.gz"
	fi
	if produce "$tag" chrometrace "$d/real.trace.json" "$cap"; then
		real "$tag" "chrometrace output passes the strict Trace Event checker" trace "$d/real.trace.json"
		real "$tag" "chrometrace output loads in the speedscope app" load "$d/real.trace.json"
		real "$tag" "chrometrace output loads in the Firefox Profiler's importer" ffload "$d/real.trace.json" \
			${exact:+--expect-threads 2}
	fi
	if produce "$tag" firefox "$d/real.firefox.json" "$cap"; then
		real "$tag" "firefox output passes the processed-format structure checks" ffcheck "$d/real.firefox.json"
		real "$tag" "firefox output loads in the Firefox Profiler's importer" ffload "$d/real.firefox.json" \
			${exact:+--expect-threads 2}
	fi
	same_counts "$tag"
}

if [ -x "$SYNTH" ] && "$SYNTH" -o "$T_TMP/app.pyspy" examples/app.synth >"$T_TMP/v.out" 2>&1; then
	reports app "$T_TMP/app.pyspy" exact
elif [ -x "$SYNTH" ]; then
	t_fail "formats: [app] pyspy-synth examples/app.synth" "pyspy-synth failed"
	show_output 5
else
	for r in $REPORTS; do t_skip "formats: [app] pyspy-analyze $r output" "$BUILD/tests/pyspy-synth not built"; done
fi

big=${FORMATS_CAPTURE:-}
if [ -z "$big" ] && [ -x "$GEN" ]; then
	big=$T_TMP/big.pyspy
	"$GEN" --samples 6000 --threads 3 --depth 12 --distinct-stacks 20 -o "$big" >/dev/null 2>&1 || big=
fi
if [ -n "$big" ] && [ -s "$big" ]; then
	echo "capture: ${big#"$T_TMP"/}"
	reports big "$big"
else
	for r in $REPORTS; do t_skip "formats: [big] pyspy-analyze $r output" "no capture: $BUILD/bench/gen_capture not built (or set FORMATS_CAPTURE)"; done
fi
# ---------------------------------------------------------------- pprof vs the text reports
# go tool pprof reads what collapsed and top say, filter by filter, on the
# analyze suite's captures (three hosts, subprocesses, renamed threads,
# native, synthetic and idle frames, a partial sample; stall.pyspy: missed
# ticks, so the samples' weights are not samples x period): the stacks'
# sample counts are collapsed's, the functions' wall time top's.
pprof_same() {
	local opts=$1 d=$T_TMP/ppcmp caps=${2:-web1.pyspy web2.pyspy db1.pyspy} name
	mkdir -p "$d"
	name="formats: go tool pprof of pprof ${opts:-(no filters)}${2:+ on $2} = collapsed, top"
	if [ "$have_go" = 0 ]; then t_skip "$name" "$(needs goraw)"; return; fi
	# shellcheck disable=SC2086
	if ! (cd "$PYSPY_ROOT/tests/data/analyze" && "$ANALYZE" pprof $opts -o "$d/p.pb.gz" $caps &&
		"$ANALYZE" collapsed $opts $caps >"$d/c.folded" && "$ANALYZE" top -n 0 $opts $caps >"$d/t.top") >"$T_TMP/v.out" 2>&1; then
		t_fail "$name" "pyspy-analyze failed"; show_output 5; return
	fi
	go tool pprof -raw -symbolize=none -sample_index=samples "$d/p.pb.gz" >"$d/raw" 2>"$T_TMP/v.out" &&
		go tool pprof -top -filefunctions -sample_index=wall -nodecount=1000000 -nodefraction=0 -edgefraction=0 \
			-symbolize=none "$d/p.pb.gz" >"$d/ptop" 2>"$T_TMP/v.out" ||
		{ t_fail "$name" "go tool pprof failed"; show_output 5; return; }
	if python3 pprof-compare.py stacks "$d/raw" "$d/c.folded" >"$T_TMP/v.out" 2>&1 &&
		python3 pprof-compare.py top "$d/ptop" "$d/t.top" >>"$T_TMP/v.out" 2>&1; then
		t_ok "$name ($(head -n 1 "$T_TMP/v.out"))"
	else
		t_fail "$name" "$(grep -E 'FAIL|DIFF' "$T_TMP/v.out" | head -n 1)"
		show_output 12
	fi
}
pprof_same "--no-processes"
pprof_same "--threads --processes"
pprof_same "--idle --nolineno --no-processes"
pprof_same "--gil --threads --processes"
pprof_same "-F --idle --processes"
pprof_same "--from 0.5 --to 1.2 --idle --no-processes"
pprof_same "--pid 5001,4242 --thread io* --thread MainThread --idle --full-filenames --processes"
pprof_same "--qualname -i --no-processes --capture web1"
pprof_same "--no-processes" "stall.pyspy"
pprof_same "--threads --processes" "stall.pyspy partial.pyspy"
pprof_same "--no-partial --no-processes" "partial.pyspy web1.pyspy"

# --window: consecutive profiles, numbered by window, that add up to the
# whole, each read by go tool pprof with its own start time.
pprof_windows() {
	local d=$T_TMP/ppwin name="formats: pprof --window 0.5 cuts web1 (2.03 s) into windows 0..4 that add up"
	local n total sum=0 f start end count k=0 bad= t
	mkdir -p "$d"
	if ! (cd "$PYSPY_ROOT/tests/data/analyze" && "$ANALYZE" pprof --idle --window 0.5 -o "$d/w.pb.gz" web1.pyspy >"$d/list" &&
		"$ANALYZE" pprof --idle -o "$d/all.pb.gz" web1.pyspy) >"$T_TMP/v.out" 2>&1; then
		t_fail "$name" "pyspy-analyze failed"; show_output 5; return
	fi
	n=$(wc -l <"$d/list")
	while IFS=$'\t' read -r f start end count; do
		[ "$f" = "$d/w.$k.pb.gz" ] || bad="line $((k + 1)) names '$f', wanted w.$k.pb.gz"
		[ "$start" = $((1714564800000000000 + k * 500000000)) ] || bad="window $k starts at $start"
		[ -s "$f" ] || bad="no $f"
		sum=$((sum + count)); k=$((k + 1))
	done <"$d/list"
	total=$(node pprof-check.mjs "$d/all.pb.gz" 2>&1 | sed -nE 's/.* total=([0-9]+) .*/\1/p')
	[ "$n" = 5 ] || bad="${bad:-$n windows listed, wanted 5}"
	[ "$sum" = "$total" ] || bad="${bad:-windows hold $sum samples, the whole capture $total}"
	if [ -z "$bad" ] && [ "$have_go" = 1 ]; then
		k=0
		for want in 00 00.5 01 01.5 02; do
			t=$(go tool pprof -raw -symbolize=none "$d/w.$k.pb.gz" 2>&1 | sed -n 's/^Time: //p')
			[ "$t" = "2024-05-01 12:00:$want +0000 UTC" ] || bad="go tool pprof: window $k Time: '$t'"
			k=$((k + 1))
		done
	fi
	if [ -z "$bad" ]; then t_ok "$name ($sum samples)"; else t_fail "$name" "$bad"; sed 's/^/    /' "$d/list"; fi
}
pprof_windows

# Nothing selected: still files the clients accept (empty, with a warning).
if [ -n "$big" ] && [ -s "$big" ]; then
	for c in "pprof:empty.pb.gz:pprof" "pprof:empty.pb.gz:goraw" "chrometrace:empty.trace.json:trace" \
		"firefox:empty.firefox.json:ffcheck" "firefox:empty.firefox.json:ffload"; do
		IFS=: read -r rep f v <<<"$c"
		name="formats: $v accepts pyspy-analyze $rep output with no sample selected"
		why=$(needs "$v"); if [ -n "$why" ]; then t_skip "$name" "$why"; continue; fi
		if ! "$ANALYZE" "$rep" --pid 999999 -o "$T_TMP/$f" "$big" 2>"$T_TMP/v.out" ||
			! grep -q "no samples match" "$T_TMP/v.out"; then
			t_fail "$name" "pyspy-analyze $rep: no warning or failed"; show_output 3; continue
		fi
		if validate "$v" "$T_TMP/$f"; then t_ok "$name"; else t_fail "$name"; show_output 5; fi
	done
fi

# Partial samples (under <partial>, or left out with --no-partial) and
# missed ticks (weights, not periods): files the real clients accept.
for opt in "" "--no-partial"; do
	for c in "pprof:pb.gz:pprof" "pprof:pb.gz:goraw" "chrometrace:trace.json:trace" "chrometrace:trace.json:ffload" \
		"firefox:firefox.json:ffcheck" "firefox:firefox.json:ffload"; do
		IFS=: read -r rep ext v <<<"$c"
		f=$T_TMP/partial${opt:+-np}.$ext
		name="formats: $v accepts pyspy-analyze $rep${opt:+ $opt} of partial.pyspy stall.pyspy"
		why=$(needs "$v"); if [ -n "$why" ]; then t_skip "$name" "$why"; continue; fi
		# shellcheck disable=SC2086
		if ! (cd "$PYSPY_ROOT/tests/data/analyze" && "$ANALYZE" "$rep" $opt -o "$f" partial.pyspy stall.pyspy) >"$T_TMP/v.out" 2>&1; then
			t_fail "$name" "pyspy-analyze $rep failed"; show_output 3; continue
		fi
		if validate "$v" "$f"; then t_ok "$name"; else t_fail "$name"; show_output 5; fi
	done
done

# The validators reject broken copies of pyspy's own output.
tr=$T_TMP/app/real.trace.json
if [ -s "$tr" ]; then
	sed '0,/"dur":/s/"dur":[0-9.]*/"dur":"long"/' "$tr" >"$T_TMP/nodur.trace.json"
	head -c 300 "$tr" >"$T_TMP/cut.trace.json"
	for c in "trace:nodur.trace.json:X event needs numeric dur" "trace:cut.trace.json:JSON" "ffload:cut.trace.json:"; do
		IFS=: read -r v f re <<<"$c"
		name="formats: $v rejects a broken copy of pyspy's chrometrace output ($f)"
		why=$(needs "$v"); if [ -n "$why" ]; then t_skip "$name" "$why"; continue; fi
		if validate "$v" "$T_TMP/$f"; then t_fail "$name" "accepted"
		elif [ -n "$re" ] && ! grep -q -- "$re" "$T_TMP/v.out"; then t_fail "$name" "no '$re' in its output"; show_output 5
		else t_ok "$name"; fi
	done
fi
ff=$T_TMP/app/real.firefox.json
if [ -s "$ff" ] && [ "$have_node" = 1 ]; then
	# a stack index out of range (the profiler drops such samples silently)
	node -e 'const fs=require("fs");const p=JSON.parse(fs.readFileSync(process.argv[1]));p.threads[0].samples.stack[0]=999;fs.writeFileSync(process.argv[2],JSON.stringify(p))' "$ff" "$T_TMP/badstack.firefox.json"
	node -e 'const fs=require("fs");const p=JSON.parse(fs.readFileSync(process.argv[1]));p.meta.preprocessedProfileVersion=999;fs.writeFileSync(process.argv[2],JSON.stringify(p))' "$ff" "$T_TMP/future.firefox.json"
	for c in "ffcheck:badstack.firefox.json:out of range" "ffload:future.firefox.json:"; do
		IFS=: read -r v f re <<<"$c"
		name="formats: $v rejects a broken copy of pyspy's firefox output ($f)"
		if validate "$v" "$T_TMP/$f"; then t_fail "$name" "accepted"
		elif [ -n "$re" ] && ! grep -q -- "$re" "$T_TMP/v.out"; then t_fail "$name" "no '$re' in its output"; show_output 5
		else t_ok "$name"; fi
	done
fi
# The validators reject broken copies of pyspy's own pprof output.
pp=$T_TMP/app/real.pb.gz
if [ -s "$pp" ]; then
	gzip -dc "$pp" >"$T_TMP/plain.pb"
	head -c $(( $(stat -c %s "$T_TMP/plain.pb") / 2 )) "$T_TMP/plain.pb" | gzip -n >"$T_TMP/half.pb.gz"
	for c in "pprof:plain.pb:not gzip-compressed" "pprof:half.pb.gz:ERROR" "gzip:plain.pb:" "goraw:half.pb.gz:"; do
		IFS=: read -r v f re <<<"$c"
		name="formats: $v rejects a broken copy of pyspy's pprof output ($f)"
		why=$(needs "$v"); if [ -n "$why" ]; then t_skip "$name" "$why"; continue; fi
		if validate "$v" "$T_TMP/$f"; then t_fail "$name" "accepted"
		elif [ -n "$re" ] && ! grep -q -- "$re" "$T_TMP/v.out"; then t_fail "$name" "no '$re' in its output"; show_output 5
		else t_ok "$name"; fi
	done
fi

# Labels of wide glyphs (W, M, m, %, _): every label fits its frame in the
# font chromium uses here (DejaVu Sans, Verdana's usual stand-in), as
# written and as the script fits them (svg-flamegraph.mjs "labels" checks).
if [ -x "$SYNTH" ]; then
	{
		echo 'meta hostname=wide rate_hz=100'
		echo 'process p pid=1 cmdline=wide'
		echo 'thread t process=p tid=1 name=MainThread main'
		for i in $(seq 1 40); do
			echo "tick $((i * 10))ms"
			echo "sample t /x/WWWmmm.py:MMMMWWWWmmmmwwww_$((i % 5)):$((i % 4 + 1));/x/iiii.py:iiiilllliiii:1;/x/m.py:WMWM%%%%____$((i % 3)):2 gil"
		done
		echo 'trailer 500ms'
	} >"$T_TMP/wide.synth"
	if "$SYNTH" -o "$T_TMP/wide.pyspy" "$T_TMP/wide.synth" >"$T_TMP/v.out" 2>&1 &&
		produce wide flamegraph "$T_TMP/wide.svg" "$T_TMP/wide.pyspy"; then
		real wide "flamegraph labels of wide glyphs fit their frames in chromium" svg "$T_TMP/wide.svg" --labels
	fi
fi
exit 0
