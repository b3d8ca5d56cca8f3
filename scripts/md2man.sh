#!/bin/sh
# Render a man page written in a plain markdown subset to roff (man macros)
# on stdout.  POSIX sh + awk (mawk on a fresh Debian); no pandoc.
#
# usage: scripts/md2man.sh docs/NAME.SECTION.md > NAME.SECTION
#   env VERSION       footer version (default: VERSION := in the Makefile)
#   env SOURCE_DATE_EPOCH  page date (default: the file's last git commit,
#                     else its modification time)
#
# The subset (what the man pages in docs/ may use):
#   # NAME, ## OPTIONS ...     level 1-2 headings -> .SH, level 3+ -> .SS
#   # name(1) -- summary       (ronn style) -> .SH NAME / name \- summary
#   paragraphs                 blank-line separated -> .PP; a line ending in
#                              two spaces or "\" breaks the line; every line
#                              of a SYNOPSIS paragraph is its own line
#   **bold**, `code`, *italic*, _italic_   -> \fB \fB \fI (\-escaped)
#   [text](url), <url>         -> text (url), url
#   - item / * item / 1. item  bullet and numbered lists (-> .IP), nested by
#                              indentation; indented paragraphs after a blank
#                              line continue the item
#   `-p`, `--pid` PID          a term line directly followed by an indented
#       Description...         description (or a line starting with ": ")
#                              -> .TP; indented paragraphs after a blank line
#                              continue the description
#   ``` ... ``` / ~~~          fenced code -> .nf/.fi (indented 4 spaces:
#                              code too, unless it continues a list/term)
#   | a | b |                  pipe tables -> tbl (last column wraps)
#   > quote                    indented paragraph
#   <!-- comment -->           dropped
# Escaping: "-" -> "\-", "\" -> "\e", a leading "." or "'" -> "\&".
set -eu

if [ $# -ne 1 ] || [ ! -f "$1" ]; then
	echo "usage: md2man.sh FILE.SECTION.md" >&2
	exit 2
fi
src=$1
base=$(basename "$src" .md)
case $base in
*.[1-9]*) ;;
*) echo "md2man.sh: '$src': name must be NAME.SECTION.md (e.g. pyspy-capture.1.md)" >&2; exit 2 ;;
esac
name=${base%.*}
section=${base##*.}

here=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${VERSION:-}" ]; then
	VERSION=$(sed -n 's/^VERSION[ 	]*:*=[ 	]*//p' "$here/Makefile" 2>/dev/null | head -n 1)
fi
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	epoch=$SOURCE_DATE_EPOCH
else
	epoch=$(git -C "$(dirname "$src")" log -1 --format=%ct -- "$(basename "$src")" 2>/dev/null || true)
	[ -n "$epoch" ] || epoch=$(date -r "$src" +%s)
fi
date=$(date -u -d "@$epoch" +%Y-%m-%d 2>/dev/null || date -u +%Y-%m-%d)

LC_ALL=C awk -v name="$name" -v section="$section" -v version="${VERSION:-}" -v date="$date" '
# ---------------------------------------------------------------- helpers
function esc_arg(s) { gsub(/"/, "\\(dq", s); return s }
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function indent_of(s,   n) { n = match(s, /[^ \t]/); if (!n) return 0; s = substr(s, 1, n - 1); gsub(/\t/, "    ", s); return length(s) }
function dedent(s, n,   i) {
	for (i = 0; i < n && substr(s, 1, 1) ~ /[ \t]/; i++) {
		if (substr(s, 1, 1) == "\t") { s = substr(s, 2); i += 3 } else s = substr(s, 2)
	}
	return s
}
# Escape literal text for roff.
function esc(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	return s
}
function font(   f) {
	if (bold && ital) return "\\f(BI"
	if (bold) return "\\fB"
	if (ital) return "\\fI"
	return "\\fR"
}
function is_punct(c) { return c ~ /[!-\/:-@[-`{-~]/ }
# Markdown inline formatting -> roff.  Markers only count when a closing
# one follows; "_" only at word boundaries (snake_case stays as is).
function inline(s,   out, i, n, c, c2, j, k, run, code, rest, txt, url, prev, nxt) {
	out = ""; n = length(s); bold = 0; ital = 0
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1); c2 = substr(s, i, 2)
		prev = i > 1 ? substr(s, i - 1, 1) : " "
		if (c == "\\" && i < n && is_punct(substr(s, i + 1, 1))) {
			out = out esc(substr(s, i + 1, 1)); i++; continue
		}
		if (c == "`") {
			run = "`"; while (substr(s, i + length(run), 1) == "`") run = run "`"
			rest = substr(s, i + length(run)); k = index(rest, run)
			if (k) {
				code = substr(rest, 1, k - 1)
				if (code ~ /^ .* $/ && code !~ /^ *$/) code = substr(code, 2, length(code) - 2)
				gsub(/\n/, " ", code)
				out = out "\\fB" esc(code) font()
				i += length(run) + k - 1 + length(run) - 1; continue
			}
			out = out esc(run); i += length(run) - 1; continue
		}
		if (c2 == "**" || c2 == "__") {
			nxt = substr(s, i + 2, 1)
			if (bold) { bold = 0; out = out font(); i++; continue }
			if (nxt != "" && nxt !~ /[ \t\n]/ && index(substr(s, i + 2), c2) && (c == "*" || prev !~ /[A-Za-z0-9]/)) {
				bold = 1; out = out font(); i++; continue
			}
		}
		if (c == "*" || c == "_") {
			nxt = substr(s, i + 1, 1)
			if (ital && prev !~ /[ \t\n]/ && (c == "*" || nxt !~ /[A-Za-z0-9]/)) { ital = 0; out = out font(); continue }
			if (!ital && nxt != "" && nxt !~ /[ \t\n]/ && (c == "*" || prev !~ /[A-Za-z0-9]/) && index(substr(s, i + 1), c)) {
				ital = 1; out = out font(); continue
			}
		}
		if (c == "[" && match(substr(s, i), /^\[[^]]*\]\([^)]*\)/)) {
			j = index(substr(s, i), "](")
			txt = substr(s, i + 1, j - 2); url = substr(s, i + j + 1, RLENGTH - j - 2)
			out = out inline_keep(txt)
			if (url != "" && url != txt && url !~ /^#/) out = out " (" esc(url) ")"
			i += RLENGTH - 1; continue
		}
		if (c == "<" && match(substr(s, i), /^<(https?|ftp|mailto):[^ >]*>/)) {
			out = out esc(substr(s, i + 1, RLENGTH - 2)); i += RLENGTH - 1; continue
		}
		if (c == "<" && match(substr(s, i), /^<!--.*-->/)) { i += RLENGTH - 1; continue }
		if (c == "&" && match(substr(s, i), /^&(lt|gt|amp|quot|nbsp);/)) {
			txt = substr(s, i + 1, RLENGTH - 2)
			out = out (txt == "lt" ? "<" : txt == "gt" ? ">" : txt == "amp" ? "&" : txt == "quot" ? "\"" : "\\ ")
			i += RLENGTH - 1; continue
		}
		out = out esc(c)
	}
	if (bold || ital) { bold = 0; ital = 0; out = out font() }
	return out
}
# inline() for a nested piece of text, keeping the surrounding font state.
function inline_keep(s,   b, it, r) { b = bold; it = ital; r = inline(s); bold = b; ital = it; return r font() }

function emit(s) { print s; last = s }
# Print formatted text, one roff text line per source line.
function emit_text(s,   n, k, parts, l) {
	n = split(s, parts, "\n")
	for (k = 1; k <= n; k++) {
		l = parts[k]; sub(/^[ \t]+/, "", l); sub(/[ \t]+$/, "", l)
		if (l == "") continue
		if (l == "\001") { emit(".br"); continue }
		if (l ~ /^[.\047]/) l = "\\&" l
		emit(l)
	}
}
function code_line(s) {
	s = esc(s)
	if (s ~ /^[.\047]/) s = "\\&" s
	if (s == "") s = "\\&"
	emit(s)
}

# ---------------------------------------------------------------- blocks
function flush_para() {
	if (para == "") return
	emit_text(inline(para))
	para = ""
}
# Open/close list nesting levels to reach depth d: a nested list is moved
# right by its parent item indentation (.RS without argument).
function list_depth(d) {
	while (depth < d) { if (depth > 0) emit(".RS"); depth++ }
	while (depth > d) { depth--; if (depth > 0) emit(".RE") }
}
function end_list() { list_depth(0); if (def_rs) { emit(".RE"); def_rs = 0 } }
function end_blocks() { flush_para(); end_list(); in_def = 0 }

function heading(level, text,   m) {
	end_blocks()
	text = trim(text); sub(/[ \t]+#+$/, "", text)
	if (level == 1 && !seen_sh && match(text, /^[^ ]+\([0-9][^)]*\)[ \t]+(--?|\342\200\224)[ \t]+/)) {
		m = text; sub(/\(.*/, "", m)
		emit(".SH NAME"); emit_text(esc(m) " \\- " inline(substr(text, RLENGTH + 1)))
		seen_sh = 1; cursec = "NAME"; return
	}
	seen_sh = 1
	cursec = toupper(text)
	if (level <= 2) emit(".SH \"" esc_arg(inline(text)) "\"")
	else emit(".SS \"" esc_arg(inline(text)) "\"")
}

function is_fence(s) { return s ~ /^[ \t]*(```|~~~)/ }
function is_bullet(s) { return s ~ /^[ \t]*[-*+][ \t]+[^ \t]/ }
function is_number(s) { return s ~ /^[ \t]*[0-9]+[.)][ \t]+[^ \t]/ }
function is_heading(s) { return s ~ /^#+[ \t]/ }
function is_table(s) { return s ~ /^[ \t]*\|/ }
function is_blank(s) { return s ~ /^[ \t]*$/ }
function is_rule(s) { return s ~ /^ {0,3}((- *){3,}|(\* *){3,}|(_ *){3,})$/ }
function is_dd(s) { return s ~ /^: / || (indent_of(s) >= 2 && !is_blank(s)) }

# Pipe table starting at line i; returns the index of its last line.
function table(i,   j, r, ncol, cells, k, l, fmt, rows, nr, row, cell) {
	end_blocks(); nr = 0; ncol = 0
	for (j = i; j <= nl && is_table(L[j]); j++) {
		l = trim(L[j]); sub(/^\|/, "", l); if (l ~ /[^\\]\|$/) l = substr(l, 1, length(l) - 1)
		if (l ~ /^[ \t:|-]+$/) continue	# the |---|:--:| line
		gsub(/\\\|/, "\002", l)
		k = split(l, cells, "|")
		nr++; rows[nr] = k
		for (r = 1; r <= k; r++) { cell = trim(cells[r]); gsub(/\002/, "|", cell); gsub(/\t/, " ", cell); T[nr, r] = cell }
		if (k > ncol) ncol = k
	}
	emit(".PP"); emit(".TS")
	fmt = ""; for (r = 1; r <= ncol; r++) fmt = fmt (r > 1 ? " " : "") (r == ncol ? "lx" : "l")
	emit(fmt "."); 
	for (k = 1; k <= nr; k++) {
		row = ""
		for (r = 1; r <= ncol; r++) {
			cell = (r <= rows[k]) ? inline(T[k, r]) : ""
			if (k == 1) cell = "\\fB" cell "\\fR"
			if (cell ~ /^[.\047]/) cell = "\\&" cell
			if (r == ncol) cell = "T{\n" cell "\nT}"
			row = row (r > 1 ? "\t" : "") cell
		}
		emit(row)
		if (k == 1) emit("_")
	}
	emit(".TE")
	return j - 1
}

{ L[++nl] = $0; if (is_table($0)) has_table = 1 }

END {
	if (has_table) print "\047\\\" t"
	print ".\\\" Generated by scripts/md2man.sh from " name "." section ".md; do not edit."
	print ".TH \"" toupper(esc(name)) "\" \"" section "\" \"" date "\" \"pyspy " version "\" \"pyspy manual\""
	depth = 0; in_def = 0; def_rs = 0; para = ""; fence = ""
	for (i = 1; i <= nl; i++) {
		line = L[i]; sub(/\r$/, "", line)
		# fenced code
		if (fence != "") {
			if (line ~ ("^[ \t]*" fence)) { emit(".fi"); if (fence_rs) emit(".RE"); fence = ""; continue }
			code_line(dedent(line, fence_ind)); continue
		}
		if (is_fence(line)) {
			fence_ind = indent_of(line)
			fence = trim(line); fence = substr(fence, 1, 3)
			if ((in_def || depth > 0) && fence_ind >= 2) { flush_para(); if (!def_fresh) emit(".IP"); def_fresh = 0; fence_rs = 0 }
			else { end_blocks(); emit(".PP"); emit(".RS 4"); fence_rs = 1 }
			emit(".nf"); continue
		}
		# HTML comments (possibly over several lines)
		if (line ~ /^[ \t]*<!--/) {
			while (line !~ /-->/ && i < nl) line = L[++i]
			continue
		}
		if (is_blank(line)) { flush_para(); blank = 1; continue }
		wasblank = blank; blank = 0
		if (is_heading(line)) { match(line, /^#+/); heading(RLENGTH, substr(line, RLENGTH + 1)); continue }
		if (i < nl && para == "" && !is_blank(line) && indent_of(line) == 0 && L[i + 1] ~ /^=+[ \t]*$/) { heading(1, line); i++; continue }
		if (is_rule(line)) { end_blocks(); continue }
		if (i < nl && para == "" && indent_of(line) == 0 && L[i + 1] ~ /^-+[ \t]*$/) { heading(2, line); i++; continue }
		if (is_table(line)) { i = table(i); continue }
		ind = indent_of(line)
		# list items (inside a definition when indented under it)
		if (is_bullet(line) || is_number(line)) {
			flush_para()
			if (depth == 0) {
				if (in_def && ind >= 2) { emit(".RS"); def_rs = 1 } else end_blocks()
				list_depth(1); indstack[1] = ind
			} else if (ind > indstack[depth] + 1) {
				list_depth(depth + 1); indstack[depth] = ind
			} else {
				while (depth > 1 && ind < indstack[depth]) list_depth(depth - 1)
			}
			if (is_bullet(line)) { emit(".IP \\(bu 2"); sub(/^[ \t]*[-*+][ \t]+/, "", line) }
			else { match(line, /[0-9]+[.)]/); emit(".IP " substr(line, RSTART, RLENGTH) " 4"); sub(/^[ \t]*[0-9]+[.)][ \t]+/, "", line) }
			para = line; continue
		}
		# definition: a term line followed by an indented or ": " line
		if (ind == 0 && para == "" && i < nl && (is_dd(L[i + 1]) || (is_blank(L[i + 1]) && i + 1 < nl && L[i + 2] ~ /^: /)) && !is_fence(L[i + 1]) && !is_bullet(L[i + 1]) && !is_number(L[i + 1])) {
			end_blocks()
			emit(".TP"); emit_text(inline(line))
			in_def = 1; def_fresh = 1; continue
		}
		if (depth > 0 && para != "" && !wasblank) { para = para "\n" trim(line); continue }	# lazy continuation
		# after a blank line, text indented to the content of an item continues
		# that item; less indented text ends the list (back to the
		# definition it is part of, or to plain text)
		if (depth > 0 && wasblank) {
			while (depth > 0 && ind < indstack[depth] + 2) list_depth(depth - 1)
			if (depth > 0) { emit(".IP"); para = trim(line); continue }
			end_list()
		}
		if (in_def && line ~ /^: /) { flush_para(); if (!def_fresh) emit(".IP"); def_fresh = 0; sub(/^: +/, "", line); para = line; continue }
		if (in_def && ind >= 2) {
			if (para == "" && !def_fresh) emit(".IP")
			def_fresh = 0; para = para (para == "" ? "" : "\n") trim(line); continue
		}
		# indented code block
		if (ind >= 4 && para == "") {
			end_blocks(); emit(".PP"); emit(".RS 4"); emit(".nf")
			for (; i <= nl && (indent_of(L[i]) >= 4 || is_blank(L[i])); i++) {
				if (is_blank(L[i])) { for (j = i; j <= nl && is_blank(L[j]); j++); if (j > nl || indent_of(L[j]) < 4) break }
				code_line(dedent(L[i], 4))
			}
			i--; emit(".fi"); emit(".RE"); continue
		}
		# blockquote
		if (line ~ /^[ \t]*>/) {
			end_blocks(); emit(".RS 4"); emit(".PP")
			for (; i <= nl && L[i] ~ /^[ \t]*>/; i++) { l = L[i]; sub(/^[ \t]*> ?/, "", l); para = para (para == "" ? "" : "\n") l }
			i--; flush_para(); emit(".RE"); continue
		}
		# plain paragraph
		if (para == "") {
			if (depth > 0 || in_def) end_blocks()
			if (last !~ /^\.S[HS] /) emit(".PP")
			para = line
		} else para = para "\n" line
		if (line ~ /(  |\\)$/ || cursec == "SYNOPSIS") {
			sub(/[ \t]*\\?$/, "", para); para = para "\n\001"
		}
	}
	if (fence != "") { emit(".fi"); if (fence_rs) emit(".RE") }
	end_blocks()
}
' "$src"
