#!/usr/bin/env bash
# Man pages: scripts/md2man.sh renders every docs/*.1.md (and the subset
# sample tests/cli/md2man-sample.1.md) to roff that man(1)/groff parse
# without warnings, whatis can index (lexgrog), with the house sections
# (style.md §39), and every long option a tool's --help (and each
# subcommand's --help) accepts appears in its page.
. "$(dirname "$0")/../lib.sh"
cd "$PYSPY_ROOT" || exit 1
t_tmpdir
export LC_ALL=C.UTF-8 MANWIDTH=80
MD2MAN=${MD2MAN:-scripts/md2man.sh}
TOOLS="pyspy-capture pyspy-analyze"
SECTIONS="NAME|SYNOPSIS|DESCRIPTION|OPTIONS|EXIT STATUS|FILES|EXAMPLES|SEE ALSO"

# lint ROFF: prints warnings/errors of man(1) (or groff) on it; fails when
# there are any.
LINTER=
if command -v man >/dev/null 2>&1; then LINTER=man
elif command -v groff >/dev/null 2>&1; then LINTER=groff
fi
lint() {
	local err
	case $LINTER in
	man) err=$(man --warnings=all -l "$1" 2>&1 >/dev/null) ;;
	groff) err=$(groff -wall -k -t -man -Tutf8 -z "$1" 2>&1) ;;
	esac
	[ -z "$err" ] && return 0
	printf '%s\n' "$err" | head -n 10
	return 1
}
# render ROFF: plain text with no line wrapping or hyphenation getting in
# the way of searching it.
render() {
	if [ "$LINTER" = man ]; then
		MANWIDTH=250 MAN_KEEP_FORMATTING= man -l "$1" 2>/dev/null | { if command -v col >/dev/null; then col -bx; else cat; fi; }
	else
		groff -k -t -man -Tutf8 -rLL=250n -P-cbou "$1" 2>/dev/null
	fi
}
# Lines starting with "." or "'" must be one of the macros md2man emits
# (anything else is unescaped text that roff would swallow).
macros_ok() {
	awk 'NR == 1 && $0 == "\047\\\" t" { next }
		/^\.\\"/ { next }
		/^[.\047]/ && $1 !~ /^\.(TH|SH|SS|PP|TP|IP|RS|RE|nf|fi|br|TS|TE)$/ { print "stray control line " NR ": " $0; bad = 1 }
		END { exit bad }' "$1"
}

# check_page MD: render, lint, index, sections.  Sets PAGE (roff) and
# TEXT (rendered) for later checks; returns 1 if it does not render.
check_page() {
	local md=$1 name out why
	name=$(basename "$md" .md)
	PAGE=$T_TMP/$name; TEXT=$T_TMP/$name.txt
	if ! out=$(sh "$MD2MAN" "$md" 2>&1 >"$PAGE") || [ ! -s "$PAGE" ]; then
		t_fail "man: $md renders" "md2man.sh failed"
		printf '%s\n' "$out" | sed 's/^/    /'
		return 1
	fi
	t_ok "man: $md renders"
	if out=$(macros_ok "$PAGE"); then t_ok "man: $name has only known macros"
	else t_fail "man: $name has only known macros"; printf '%s\n' "$out" | head -n 5 | sed 's/^/    /'; fi
	if [ -z "$LINTER" ]; then
		t_skip "man: $name parses without warnings" "neither man nor groff installed (scripts/install-deps.sh installs man-db)"
	elif out=$(lint "$PAGE"); then
		t_ok "man: $name parses without warnings ($LINTER)"
	else
		t_fail "man: $name parses without warnings ($LINTER)"
		printf '%s\n' "$out" | sed 's/^/    /'
	fi
	render "$PAGE" >"$TEXT"
	if ! command -v lexgrog >/dev/null 2>&1; then
		t_skip "man: $name NAME section indexes" "lexgrog (man-db) not installed"
	elif out=$(lexgrog "$PAGE" 2>&1) && grep -q "\"${name%.*} - ." <<<"$out"; then
		t_ok "man: $name NAME section indexes"
	else
		t_fail "man: $name NAME section indexes" "lexgrog: $out"
	fi
	return 0
}

# ---------------------------------------------------------------- md2man itself
sample=tests/cli/md2man-sample.1.md
if check_page "$sample"; then
	why=
	# What each construct must look like once rendered.
	while IFS= read -r want; do
		[ -n "$want" ] || continue
		grep -qF -- "$want" "$TEXT" || why="${why:+$why; }missing '$want'"
	done <<'EOF'
md2man-sample - exercise every construct of the man page subset
       md2man-sample [OPTIONS] --pid PID
       md2man-sample [OPTIONS] -- PROGRAM [ARGS...]
with process_vm_readv. Names like user_version and _PyRuntime stay intact
.leading-dot and 'quote lines are escaped
a back\slash.
A hard break follows
       this line. See the format (format.md) and https://example.org/x-y.
       -p, --pid PID
              Sample the process with this id. Threads are found through /proc/PID/task.
              A second paragraph of the description.
       -r, --rate HZ
              Samples per second (default 100).
              • never the rest
                • nested item
              Back in the description after the list.
       status   meaning
       2        usage error: a | pipe
           md2man-sample -p 1234 -o run.pyspy -d 30
           .not-a-macro
           echo "a\nb" | grep -- -x
           block -x
       1.  first numbered
       2.  second with bold and italic text end continued
       • bullet two with *unclosed star and more
           a quote with code
   Sub section
       Text after a subsection. Em — dash. Ünïcode.
EOF
	# Hyphens must be \- (copy-pasteable options), never bare.
	bare=$(grep -nE -- '(^|[^\\])-' "$PAGE" | grep -vE '^[0-9]+:\.(\\"|TH )' | head -n 1)
	[ -z "$bare" ] || why="${why:+$why; }unescaped '-' in roff: $bare"
	grep -qF '\fB\-\-pid\fR' "$PAGE" || why="${why:+$why; }code span not bold"
	grep -q '^\.TP$' "$PAGE" || why="${why:+$why; }no .TP for option entries"
	if [ -z "$why" ]; then t_ok "man: md2man renders the markdown subset"
	else t_fail "man: md2man renders the markdown subset" "$why"; sed 's/^/    | /' "$TEXT" | head -n 80; fi
fi
# Bad usage is an error, not an empty page.
t_run sh "$MD2MAN" "$T_TMP/no-such.1.md"
t_expect "man: md2man rejects a missing file" 2 '' 'usage'

# ---------------------------------------------------------------- the real pages
# long_options TOOL: every --long option in TOOL --help and in each
# subcommand's --help (subcommands: indented words the tool accepts with
# --help).
long_options() {
	local tool=$1 help sub
	help=$(timeout 10 "$tool" --help 2>/dev/null) || return 1
	{
		printf '%s\n' "$help"
		for sub in $(sed -nE 's/^[[:space:]]{2,}([a-z][a-z0-9-]*)([[:space:]].*)?$/\1/p' <<<"$help" | sort -u); do
			timeout 10 "$tool" "$sub" --help 2>/dev/null </dev/null
		done
	} | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sed 's/-*$//' | sort -u
}

for tool in $TOOLS; do
	md=docs/$tool.1.md
	if [ ! -f "$md" ]; then
		t_skip "man: $md renders" "$md not written yet"
		t_skip "man: $tool documents every --help option" "$md not written yet"
		continue
	fi
	check_page "$md" || continue
	if out=$(grep -oE '^[A-Z][A-Z ]+$' "$TEXT" | grep -xE "$SECTIONS" | sort -u | wc -l) && [ "$out" -eq 8 ]; then
		t_ok "man: $tool has the house sections"
	else
		t_fail "man: $tool has the house sections" "want $SECTIONS; has: $(grep -oE '^[A-Z][A-Z ]+$' "$TEXT" | tr '\n' ',')"
	fi
	if [ ! -x "$BIN/$tool" ]; then
		t_skip "man: $tool documents every --help option" "$tool not built yet"
		continue
	fi
	if ! opts=$(long_options "$BIN/$tool") || [ -z "$opts" ]; then
		t_fail "man: $tool documents every --help option" "'$tool --help' failed or lists no long options"
		continue
	fi
	missing=
	for o in $opts; do
		grep -qE -- "(^|[^a-z0-9-])$o([^a-z0-9-]|\$)" "$TEXT" || missing="$missing $o"
	done
	if [ -z "$missing" ]; then
		t_ok "man: $tool documents every --help option ($(wc -w <<<"$opts") options)"
	else
		t_fail "man: $tool documents every --help option" "not in $md:$missing"
	fi
done
