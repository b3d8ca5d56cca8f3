#!/usr/bin/env bash
# Build-system checks: every header compiles on its own (make
# check-headers), and `make install` honours PREFIX and DESTDIR and installs
# working tools and man pages.  Uses the tree tests/run was given
# ($BUILD, $BIN), so nothing is rebuilt.
. "$(dirname "$0")/../lib.sh"
cd "$PYSPY_ROOT" || exit 1
: "${MAKE:=make}"
mk() { $MAKE --no-print-directory BUILD="$BUILD" BIN="${BIN#$PYSPY_ROOT/}" "$@"; }

t_tmpdir
t_run mk check-headers
t_expect "make check-headers: every header compiles on its own" 0 'headers ok'

dest=$T_TMP/dest
t_run mk install PREFIX=/opt/pyspy DESTDIR="$dest"
t_expect "make install PREFIX=/opt/pyspy DESTDIR=...: succeeds" 0
for f in bin/pyspy-capture bin/pyspy-analyze share/man/man1/pyspy-capture.1 share/man/man1/pyspy-analyze.1 \
	share/doc/pyspy/schema.md share/doc/pyspy/format.md share/doc/pyspy/capture.md \
	share/doc/pyspy/examples/queries.sql; do
	if [ -f "$dest/opt/pyspy/$f" ]; then
		t_ok "make install: installs $f under DESTDIR/PREFIX"
	else
		t_fail "make install: installs $f under DESTDIR/PREFIX" "missing $dest/opt/pyspy/$f"
	fi
done
# Every document path the installed man pages name exists under PREFIX.
cited=$(cat "$dest"/opt/pyspy/share/man/man1/*.1 | sed 's/\\-/-/g' |
	grep -o '/opt/pyspy/share/doc/pyspy/[A-Za-z0-9_./-]*[A-Za-z0-9]' | sort -u)
missing=
for f in $cited; do [ -f "$dest$f" ] || missing="$missing $f"; done
if [ -n "$cited" ] && [ -z "$missing" ] &&
	! grep -q '/usr/local/share/doc' "$dest"/opt/pyspy/share/man/man1/*.1; then
	t_ok "make install: the documents the man pages cite are installed where they say"
else
	t_fail "make install: the documents the man pages cite are installed where they say" \
		"cited: $(echo $cited); missing:$missing"
fi
t_run "$dest/opt/pyspy/bin/pyspy-capture" --version
t_expect "installed pyspy-capture runs" 0 '^pyspy-capture [0-9.]+ \(format [0-9]+\.[0-9]+\)'
t_run "$dest/opt/pyspy/bin/pyspy-analyze" --version
t_expect "installed pyspy-analyze runs" 0 '^pyspy-analyze [0-9.]+'
if [ -x "$dest/opt/pyspy/bin/pyspy-capture" ] &&
	[ "$(stat -c %a "$dest/opt/pyspy/bin/pyspy-capture")" = 755 ] &&
	[ "$(stat -c %a "$dest/opt/pyspy/share/man/man1/pyspy-capture.1")" = 644 ]; then
	t_ok "make install: modes 755 for tools, 644 for man pages"
else
	t_fail "make install: modes 755 for tools, 644 for man pages"
fi
t_run mk uninstall PREFIX=/opt/pyspy DESTDIR="$dest"
if [ "$T_RC" = 0 ] && [ -z "$(find "$dest" -type f)" ]; then
	t_ok "make uninstall removes what install put there"
else
	t_fail "make uninstall removes what install put there" "left: $(find "$dest" -type f | head -3)"
fi
