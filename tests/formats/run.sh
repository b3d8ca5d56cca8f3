#!/usr/bin/env bash
# formats suite: the output-format validators against their hand-made
# examples (tests/formats/examples/EXPECT: valid ones accepted, each broken
# one rejected for its defect), then pyspy-analyze's real flamegraph,
# speedscope and collapsed output through the same validators and the real
# clients (speedscope web app, chromium clicking and searching the SVG).
#
#   env CHROMIUM=/path     browser (default /usr/bin/chromium)
#   env FORMATS_ONLY=REGEX only EXPECT lines whose file matches (debugging)
#   env FORMATS_CAPTURE=F  the capture to render (default: the largest
#                          tests/data/analyze/*.pyspy, else one made by
#                          $BUILD/tests/pyspy-synth -o FILE or by
#                          $BUILD/bench/gen_capture)
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

# Nothing below writes into the real home.
mkdir -p "$T_TMP/home" "$T_TMP/tmp"
export HOME=$T_TMP/home TMPDIR=$T_TMP/tmp XDG_CONFIG_HOME=$T_TMP/home/.config XDG_CACHE_HOME=$T_TMP/home/.cache

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
	*) echo "unknown validator '$v'"; return 99 ;;
	esac >"$T_TMP/v.out" 2>&1
}
# needs VALIDATOR: why it cannot run here, or nothing
needs() {
	case $1 in
	xmllint) [ "$have_xmllint" = 1 ] || echo "xmllint not installed (libxml2-utils)" ;;
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

while IFS=$'\t' read -r v f rc re extra; do
	[ -n "$v" ] || continue
	if [ -n "${FORMATS_ONLY:-}" ] && ! grep -Eq -- "$FORMATS_ONLY" <<<"$f"; then continue; fi
	what=accepts; [ "$rc" = 0 ] || what=rejects
	name="formats: $v $what $f${extra:+ ($extra)}"
	why=$(needs "$v")
	if [ -n "$why" ]; then t_skip "$name" "$why"; continue; fi
	args=()
	[ -n "$extra" ] && mapfile -t args < <(xargs printf '%s\n' <<<"$extra")
	validate "$v" "examples/$f" "${args[@]}"
	got=$?
	if [ "$got" != "$rc" ]; then
		t_fail "$name" "exit $got, wanted $rc"
		show_output
	elif [ -n "$re" ] && ! grep -Eq -- "$re" "$T_TMP/v.out"; then
		t_fail "$name" "output does not match /$re/"
		show_output
	else
		t_ok "$name"
	fi
done <examples/EXPECT

# ---------------------------------------------------------------- pyspy-analyze
# Real outputs from a committed analyzer test capture (the largest), or one
# made by the format library's synthetic capture generator.
REAL="flamegraph speedscope collapsed"
real_skip() { local r; for r in $REAL; do t_skip "formats: pyspy-analyze $r output" "$1"; done; }
capture=
if [ ! -x "$ANALYZE" ]; then
	real_skip "pyspy-analyze not built yet"
	exit 0
fi
capture=${FORMATS_CAPTURE:-$(ls -S "$PYSPY_ROOT"/tests/data/analyze/*.pyspy 2>/dev/null | head -n 1)}
synth=$PYSPY_ROOT/$BUILD/tests/pyspy-synth
gen=$PYSPY_ROOT/$BUILD/bench/gen_capture
if [ -z "$capture" ] && [ -x "$synth" ]; then
	capture=$T_TMP/synth.pyspy
	"$synth" -o "$capture" >/dev/null 2>&1 || capture=
fi
if [ -z "$capture" ] && [ -x "$gen" ]; then
	capture=$T_TMP/gen.pyspy
	"$gen" --samples 6000 --threads 3 --depth 12 --distinct-stacks 20 -o "$capture" >/dev/null 2>&1 || capture=
fi
if [ -z "$capture" ] || [ ! -s "$capture" ]; then
	real_skip "no capture: tests/data/analyze/*.pyspy, $BUILD/tests/pyspy-synth or $BUILD/bench/gen_capture"
	exit 0
fi
echo "capture: ${capture#"$PYSPY_ROOT"/}"

out=$T_TMP/real
mkdir -p "$out"
# produce NAME REPORT FILE [OPTIONS]: run pyspy-analyze REPORT [OPTIONS] -o FILE CAPTURE
produce() {
	local name=$1 report=$2 file=$3; shift 3
	if timeout -k 5 120 "$ANALYZE" "$report" "$@" -o "$file" "$capture" >"$T_TMP/v.out" 2>&1 && [ -s "$file" ]; then
		t_ok "formats: pyspy-analyze $name writes $(basename "$file")"
		return 0
	fi
	t_fail "formats: pyspy-analyze $name writes $(basename "$file")" "pyspy-analyze $report $* -o FILE CAPTURE failed"
	show_output 10
	return 1
}
# real NAME VALIDATOR FILE [ARGS]: validate a real output; keeps the output
real() {
	local name=$1 v=$2 f=$3; shift 3
	local why
	why=$(needs "$v")
	if [ -n "$why" ]; then t_skip "formats: $name" "$why"; return 1; fi
	if validate "$v" "$f" "$@"; then
		t_ok "formats: $name"
		cp "$T_TMP/v.out" "$T_TMP/$v.$(basename "$f").out"
		return 0
	fi
	t_fail "formats: $name" "$(grep -E '^(FAIL|ERROR|ALERT|JS ERROR)' "$T_TMP/v.out" | head -n 1)"
	show_output 25
	return 1
}
total_of() { sed -nE "$2" "$T_TMP/$1.out" 2>/dev/null | head -n 1; }

if produce collapsed collapsed "$out/real.folded"; then
	real "collapsed output is strict folded stacks" folded "$out/real.folded"
	real "collapsed output loads in the speedscope app" load "$out/real.folded" --screenshot "$out/folded.png"
fi
if produce "collapsed --threads" collapsed "$out/real-threads.folded" --threads; then
	real "collapsed --threads output is strict folded stacks" folded "$out/real-threads.folded"
fi
if produce speedscope speedscope "$out/real.speedscope.json"; then
	real "speedscope output passes schema and structure checks" speedscope "$out/real.speedscope.json"
	real "speedscope output passes ajv-cli with the package schema" ajv "$out/real.speedscope.json"
	real "speedscope output loads in the speedscope app" load "$out/real.speedscope.json" --screenshot "$out/speedscope.png"
fi
if produce flamegraph flamegraph "$out/real.svg"; then
	real "flamegraph output is well-formed XML (xmllint)" xmllint "$out/real.svg"
	real "flamegraph output: hover, click-zoom, reset, search in chromium" svg "$out/real.svg" --screenshot "$out/flamegraph.png"
fi
if produce "flamegraph --threads" flamegraph "$out/real-threads.svg" --threads; then
	real "flamegraph --threads output: hover, click-zoom, reset, search in chromium" svg "$out/real-threads.svg"
fi

# The three reports count the same samples.
folded_total=$(total_of folded.real.folded 's/^OK [0-9]+ stacks, ([0-9]+) samples.*/\1/p')
svg_total=$(total_of svg.real.svg 's/^INFO [0-9]+ frames, ([0-9]+) samples.*/\1/p')
# (speedscope: sampled profiles only; empty samples are gaps, not samples)
ss_line=$(total_of speedscope.real.speedscope.json 's/^OK [0-9]+ profiles \([0-9]+ sampled\), [0-9]+ frames, ([0-9]+) samples \(([0-9]+) empty\).*/\1 \2/p')
ss_total=
[ -n "$ss_line" ] && ss_total=$(( ${ss_line% *} - ${ss_line#* } ))
if [ -n "$folded_total" ] && { [ -n "$svg_total" ] || [ -n "$ss_total" ]; }; then
	if [ "${svg_total:-$folded_total}" = "$folded_total" ] && [ "${ss_total:-$folded_total}" = "$folded_total" ]; then
		t_ok "formats: collapsed, flamegraph and speedscope count the same samples ($folded_total)"
	else
		t_fail "formats: collapsed, flamegraph and speedscope count the same samples" \
			"collapsed $folded_total, flamegraph ${svg_total:-?}, speedscope ${ss_total:-?}"
	fi
fi
exit 0
