#!/usr/bin/env bash
# Fetch Debian sid's python3.14 and python3.15 (and python3.13 when sid has
# it) for the integration tests, without touching the system: `apt-get
# download` under a private apt configuration (own sources list, lists,
# cache and status file; nothing under /etc changes), `dpkg -x` into the
# git-ignored cache, and wrapper scripts that run each interpreter through
# sid's own dynamic loader (sid's binaries need a newer glibc than the host).
#
# usage: tests/fetch-sid-pythons.sh [--check] [--refresh] [-q]
#   (no option)  fetch what is missing or broken; skip when already working
#   --check      only test the wrappers (no network); exit 1 if a required
#                interpreter (3.14, 3.15) is missing or broken
#   --refresh    update the package lists and re-fetch even when working
#   --print-mirror  print the Debian mirror that would be used, and exit
#   -q           print only problems
#   env PYSPY_SID_MIRROR=URI   use this Debian mirror instead of the one in
#                              the machine's apt sources
#   env PYSPY_SID_CACHE=DIR    cache directory (default tests/.cache/sid)
#   env PYSPY_APT_ETC=DIR      read the apt sources from DIR (default /etc/apt)
#
# Result (DIR = tests/.cache/sid):
#   DIR/bin/python3.X      wrapper: sid's ld.so --library-path ... python3.X
#   DIR/python3.X/         the python3.X packages unpacked (usr/include too)
#   DIR/libs/              sid's runtime libraries (libc6, libssl3t64, ...)
#   DIR/apt/, DIR/debs/    private apt state and the downloaded packages
# The wrappers exec the interpreter with PYTHONHOME set and argv[0] set to
# the wrapper, so sys.executable (and multiprocessing's children) go
# through the wrapper too.  /proc/PID/exe of such a process is sid's
# ld-linux-*.so, a deliberate test case for finding the interpreter.
# Exit status: 0 when 3.14 and 3.15 work, 1 otherwise.
set -u
umask 022

REQUIRED="3.14 3.15"
OPTIONAL="3.13"
# What the integration targets need; a child process proves that
# sys.executable (the wrapper) works for multiprocessing.
PROBE='import threading, json, re, decimal, difflib, textwrap, random, multiprocessing, sys, platform
p = multiprocessing.Process(target=abs, args=(1,))
p.start(); p.join()
assert p.exitcode == 0, "multiprocessing child exited %r" % p.exitcode
print(platform.python_version())'

ROOT=$(cd "$(dirname "$0")/.." && pwd)
C=${PYSPY_SID_CACHE:-$ROOT/tests/.cache/sid}
A=$C/apt
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
ME=fetch-sid-pythons

mode=fetch quiet=0
for arg in "$@"; do
	case $arg in
	--check) mode=check ;;
	--refresh) mode=refresh ;;
	--print-mirror) mode=mirror ;;
	-q|--quiet) quiet=1 ;;
	-h|--help) sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "$ME: unknown option '$arg' (try --help)" >&2; exit 2 ;;
	esac
done

say() { [ "$quiet" = 1 ] || echo "$ME: $*"; }
warn() { echo "$ME: $*" >&2; }
die() { echo "$ME: $*" >&2; exit 1; }

# probe V: prints the version when the wrapper for python3.V works, else
# the reason (and fails).
probe() {
	local w=$C/bin/python$1 out
	[ -x "$w" ] || { echo "not fetched"; return 1; }
	if ! out=$(cd / && timeout 120 "$w" -c "$PROBE" 2>&1); then
		tail -n 2 <<<"$out" | tr '\n' ' '
		return 1
	fi
	case $out in
	"$1".*) echo "$out" ;;
	*) echo "unexpected output '$out'"; return 1 ;;
	esac
}

# report_all: one line per version; returns 1 when a required one fails.
report_all() {
	local v out rc=0
	for v in $REQUIRED $OPTIONAL; do
		if out=$(probe "$v"); then
			say "python$v ok: $C/bin/python$v (Python $out)"
		elif [[ " $REQUIRED " == *" $v "* ]]; then
			warn "python$v NOT working: $out"
			rc=1
		else
			say "python$v (optional) not available: $out"
		fi
	done
	return $rc
}

if [ "$mode" = check ]; then
	report_all
	exit
fi
required_ok() {
	local v
	for v in $REQUIRED; do probe "$v" >/dev/null || return 1; done
}
if [ "$mode" = fetch ] && required_ok; then
	say "already fetched (use --refresh to update)"
	report_all
	exit
fi

mkdir -p "$C" || die "cannot create '$C'"
# One fetch at a time (suites and engineers may run this concurrently).
exec 9>"$C/.lock" || die "cannot write '$C/.lock'"
flock -w 900 9 || die "timed out waiting for another fetch ('$C/.lock')"
if [ "$mode" = fetch ] && required_ok; then	# done by the other one
	report_all
	exit
fi
rm -rf "$C"/*.tmp "$C"/*.old	# left by an interrupted run

for tool in apt-get apt-cache dpkg dpkg-deb sha256sum flock; do
	command -v "$tool" >/dev/null || die "'$tool' not found (Debian's apt/dpkg/coreutils/util-linux are needed)"
done
[ -r "$KEYRING" ] || die "'$KEYRING' missing: install debian-archive-keyring"

# ---------------------------------------------------------------- mirror
# The first Debian main-archive URI in the machine's apt sources: one-line
# "deb [opts] URI SUITE COMPONENTS..." (sources.list, sources.list.d/*.list)
# and deb822 stanzas (sources.list.d/*.sources).  Security, updates-only,
# backports and third-party repositories are not the main archive.
find_mirror() {
	local files=() f etc=${PYSPY_APT_ETC:-/etc/apt}
	[ -f "$etc/sources.list" ] && files+=("$etc/sources.list")
	for f in "$etc"/sources.list.d/*.list "$etc"/sources.list.d/*.sources; do
		[ -f "$f" ] && files+=("$f")
	done
	[ ${#files[@]} -gt 0 ] || return 1
	awk '
	function is_main_archive(uri, suites, comps, signed,   n, s, i, ok) {
		if (uri !~ /^(https?|ftp|file|mirror\+[a-z]+):/) return 0
		if (uri ~ /debian-(security|ports|debug|backports)/) return 0
		if (comps !~ /(^|[ \t])main([ \t]|$)/) return 0
		n = split(suites, s, /[ \t]+/); ok = 0
		for (i = 1; i <= n; i++)
			if (s[i] != "" && s[i] !~ /(-security|-updates|-backports|-proposed-updates|\/updates)$/) ok = 1
		if (!ok) return 0
		# Debian archive: signed by the Debian keyring, or a .../debian path.
		return signed ~ /debian-archive-keyring/ || uri ~ /\/debian\/?$/ || uri ~ /\/archive\/debian\/[0-9TZ]+\/?$/
	}
	function flush(   n, u, i) {
		if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled !~ /^[ \t]*no/) {
			n = split(uris, u, /[ \t]+/)
			for (i = 1; i <= n; i++)
				if (u[i] != "" && is_main_archive(u[i], suites, comps, signed)) { print u[i]; found = 1; exit }
		}
		types = uris = suites = comps = signed = enabled = ""; field = ""
	}
	FNR == 1 { flush(); deb822 = FILENAME ~ /\.sources$/ }
	deb822 {
		if ($0 ~ /^[ \t]*#/) next
		if ($0 ~ /^[ \t]*$/) { flush(); next }
		if ($0 ~ /^[ \t]/) { if (field == "signed-by") signed = signed " " $0; next }
		i = index($0, ":"); if (!i) next
		field = tolower(substr($0, 1, i - 1)); val = substr($0, i + 1)
		if (field == "types") types = val
		else if (field == "uris") uris = val
		else if (field == "suites") suites = val
		else if (field == "components") comps = val
		else if (field == "signed-by") signed = val
		else if (field == "enabled") enabled = val
		next
	}
	{
		line = $0; sub(/#.*/, "", line)
		if (line !~ /^[ \t]*deb[ \t]/) next
		opts = ""
		if (match(line, /\[[^]]*\]/)) { opts = substr(line, RSTART, RLENGTH); line = substr(line, 1, RSTART - 1) substr(line, RSTART + RLENGTH) }
		n = split(line, w, /[ \t]+/); j = 0
		for (i = 1; i <= n; i++) if (w[i] != "") f[++j] = w[i]
		if (j < 4) next
		c = ""; for (i = 4; i <= j; i++) c = c " " f[i]
		if (is_main_archive(f[2], f[3], c, opts)) { print f[2]; exit }
	}
	END { if (deb822 && !found) flush() }
	' "${files[@]}" | head -n 1
}

MIRROR=${PYSPY_SID_MIRROR:-}
if [ -z "$MIRROR" ]; then
	MIRROR=$(find_mirror) || true
	[ -n "$MIRROR" ] || die "no Debian archive found in ${PYSPY_APT_ETC:-/etc/apt}/sources.list{,.d/} (set PYSPY_SID_MIRROR=URI)"
fi
MIRROR=${MIRROR%/}
[ "$mode" = mirror ] && { echo "$MIRROR"; exit 0; }

# ---------------------------------------------------------------- private apt
ARCH=$(dpkg --print-architecture)
mkdir -p "$A/sources.list.d" "$A/preferences.d" "$A/lists/partial" "$A/cache/archives/partial" "$C/debs" "$C/bin" ||
	die "cannot create '$A'"
[ -f "$A/status" ] || : >"$A/status"
echo "deb [signed-by=$KEYRING] $MIRROR sid main" >"$A/sources.list.new"
if ! cmp -s "$A/sources.list.new" "$A/sources.list"; then
	mv "$A/sources.list.new" "$A/sources.list"
	rm -f "$A/lists/"*_Packages* "$A/cache/pkgcache.bin"	# another mirror: stale lists
else
	rm -f "$A/sources.list.new"
fi
# Read after the system's apt.conf.d (proxies stay in effect); hooks that
# would act on the system's caches (docker-clean, appstream, packagekit)
# are cleared, and only the Packages index is downloaded.
cat >"$A/apt.conf" <<EOF
Dir::Etc::SourceList "$A/sources.list";
Dir::Etc::SourceParts "$A/sources.list.d";
Dir::Etc::Preferences "$A/preferences";
Dir::Etc::PreferencesParts "$A/preferences.d";
Dir::State "$A";
Dir::State::Lists "$A/lists";
Dir::State::status "$A/status";
Dir::State::extended_states "$A/extended_states";
Dir::Cache "$A/cache";
Dir::Cache::archives "$A/cache/archives";
Dir::Cache::pkgcache "$A/cache/pkgcache.bin";
Dir::Cache::srcpkgcache "";
Dir::Log "$A/log";
APT::Architecture "$ARCH";
#clear APT::Architectures;
APT::Architectures { "$ARCH"; };
APT::Sandbox::User "$(id -un)";
Acquire::Languages "none";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled "false";
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear DPkg::Pre-Invoke;
#clear DPkg::Post-Invoke;
EOF
apt_get() { apt-get -c "$A/apt.conf" -q "$@"; }
apt_cache() { apt-cache -c "$A/apt.conf" "$@"; }

lists_fresh() {
	local f
	f=$(find "$A/lists" -maxdepth 1 -name '*_sid_main_binary-*_Packages*' -mmin -1440 2>/dev/null | head -n 1)
	[ -n "$f" ]
}
if [ "$mode" = refresh ] || ! lists_fresh; then
	say "updating sid package lists from $MIRROR"
	if ! out=$(apt_get --error-on=any update 2>&1); then
		printf '%s\n' "$out" | grep -E '^(E|W|Err):' | head -n 5 >&2
		die "cannot fetch the sid package lists from '$MIRROR' (archive unreachable? set PYSPY_SID_MIRROR=URI)"
	fi
	lists_fresh || die "no sid Packages index for $ARCH at '$MIRROR'"
fi

# ---------------------------------------------------------------- packages
# has_pkg NAME: a real (non-virtual) package of that name exists in sid.
has_pkg() { apt_cache show --no-all-versions "$1" 2>/dev/null | grep -q '^Package:'; }

# closure PKG...: the packages and, recursively, the libraries they depend
# on (Depends and Pre-Depends; first alternative; virtual names resolved
# through their first provider).  Non-library dependencies (tzdata,
# media-types, netbase, debconf, ...) are data or tools the interpreter
# does not need to run; they are left out.
closure() {
	local todo="$*" seen=" " next p out deps name
	while [ -n "${todo// /}" ]; do
		seen="$seen$todo "
		out=$(apt_cache show --no-all-versions $todo 2>/dev/null)
		deps=$(awk '
			/^Package:/ { print "P " $2 }
			/^(Pre-)?Depends:/ {
				sub(/^[^:]*:[ \t]*/, ""); n = split($0, d, /,[ \t]*/)
				for (i = 1; i <= n; i++) { a = d[i]; sub(/[ \t]*\|.*/, "", a); sub(/[ \t(:].*/, "", a); print "D " a }
			}' <<<"$out")
		next=
		for p in $todo; do
			grep -qx "P $p" <<<"$deps" && continue
			# Virtual package: take its first provider instead.
			seen=${seen/ $p / }
			name=$(apt_cache showpkg "$p" 2>/dev/null | awk '/^Reverse Provides:/ { r = 1; next } r && NF { print $1; exit }')
			[ -n "$name" ] || { warn "package '$p' not found in sid"; return 1; }
			next="$next $name"
		done
		for name in $(awk '$1 == "D" { print $2 }' <<<"$deps" | sort -u); do
			case $name in lib*-dev|lib*-doc) continue ;; lib*|python3.[0-9]*) ;; *) continue ;; esac
			next="$next $name"
		done
		todo=
		for name in $next; do
			case "$seen $todo " in *" $name "*) continue ;; esac
			todo="$todo $name"
		done
	done
	tr ' ' '\n' <<<"$seen" | grep -v '^$' | sort -u
}

versions=
for v in $REQUIRED $OPTIONAL; do
	if has_pkg "python$v-minimal" && has_pkg "libpython$v-stdlib"; then
		versions="$versions $v"
	elif [[ " $REQUIRED " == *" $v "* ]]; then
		die "python$v is not in sid at '$MIRROR' any more (update tests/fetch-sid-pythons.sh)"
	else
		say "python$v is not in sid: skipped"
	fi
done

seeds=
for v in $versions; do
	seeds="$seeds python$v python$v-minimal libpython$v libpython$v-minimal libpython$v-stdlib"
done
pkgs=$(closure $seeds) || die "cannot resolve the sid packages"
# Headers (and the static libpython) for offset checks; not run-time deps.
for v in $versions; do has_pkg "libpython$v-dev" && pkgs="$pkgs"$'\n'"libpython$v-dev"; done

# Package name -> file name, size and SHA256 from the Packages index.
apt_cache show --no-all-versions $pkgs 2>/dev/null | awk '
	/^Package:/ { p = $2 } /^Filename:/ { f = $2; sub(/.*\//, "", f) }
	/^Size:/ { s = $2 } /^SHA256:/ { h = $2 }
	/^$/ { if (p != "") print p, f, s, h; p = "" }
	END { if (p != "") print p, f, s, h }' | sort -u >"$C/debs/wanted"

cd "$C/debs" || die "cannot enter '$C/debs'"
missing=
while read -r p f s h; do
	if [ -f "$f" ] && [ "$(stat -c %s "$f")" = "$s" ] && echo "$h  $f" | sha256sum -c --status; then
		continue
	fi
	rm -f "$f"
	missing="$missing $p"
done <wanted
if [ -n "$missing" ]; then
	say "downloading$missing"
	if ! out=$(apt_get download $missing 2>&1); then
		printf '%s\n' "$out" | grep -E '^(E|W|Err):' | head -n 5 >&2
		die "apt-get download failed (archive unreachable?)"
	fi
	while read -r p f s h; do
		echo "$h  $f" | sha256sum -c --status 2>/dev/null || die "'$f' missing or corrupt after download"
	done <wanted
else
	say "all $(wc -l <wanted) packages already downloaded"
fi
# Drop packages sid no longer has (older versions).
for f in *.deb; do
	[ -e "$f" ] || continue
	awk -v f="$f" '$2 == f { found = 1 } END { exit !found }' wanted || rm -f "$f"
done

# unpack DIR FILE...: dpkg -x every file into DIR, atomically (a partial
# run leaves DIR.tmp behind, never a half-filled DIR).  Skipped when DIR
# holds exactly these files already.
unpack() {
	local dir=$1 f; shift
	local list
	list=$(printf '%s\n' "$@" | sort)
	if [ -f "$dir/.debs" ] && [ "$(cat "$dir/.debs")" = "$list" ]; then
		return 0
	fi
	say "unpacking $(basename "$dir") ($# packages)"
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" || return 1
	for f in "$@"; do
		dpkg -x "$f" "$dir.tmp" || { warn "cannot unpack '$f'"; return 1; }
	done
	printf '%s\n' "$list" >"$dir.tmp/.debs"
	rm -rf "$dir.old"
	[ ! -e "$dir" ] || mv "$dir" "$dir.old" || return 1
	mv "$dir.tmp" "$dir" && rm -rf "$dir.old"
}

libfiles=()
while read -r p f s h; do
	case $p in *python3.[0-9]*) ;; *) libfiles+=("$f") ;; esac
done <wanted
unpack "$C/libs" "${libfiles[@]}" || die "unpacking the sid libraries failed"

ld=$(cd "$C/libs" && ls usr/lib/*/ld-linux*.so.* lib/*/ld-linux*.so.* usr/lib64/ld-linux*.so.* 2>/dev/null | head -n 1)
[ -n "$ld" ] || die "no dynamic loader (ld-linux*.so) in sid's libc6"
multiarch=$(basename "$(dirname "$(cd "$C/libs" && ls usr/lib/*/libc.so.6 lib/*/libc.so.6 2>/dev/null | head -n 1)")")

for v in $versions; do
	files=()
	while read -r p f s h; do
		case $p in *python$v|*python$v-*) files+=("$f") ;; esac
	done <wanted
	unpack "$C/python$v" "${files[@]}" || die "unpacking python$v failed"
	[ -x "$C/python$v/usr/bin/python$v" ] || die "python$v: no usr/bin/python$v in the packages"
	pkgver=$(awk -v p="python$v" '$1 == p { sub(/_[^_]*$/, "", $2); sub(/.*_/, "", $2); print $2 }' wanted)
	w=$C/bin/python$v
	cat >"$w.tmp" <<EOF
#!/bin/sh
# Debian sid python$v $pkgver, run through sid's dynamic loader.
# Generated by tests/fetch-sid-pythons.sh; paths are relative to this file.
here=\$(dirname "\$(readlink -f "\$0")")
S=\$(dirname "\$here")/libs
R=\$(dirname "\$here")/python$v
L=\$S/usr/lib/$multiarch:\$S/lib/$multiarch:\$R/usr/lib/$multiarch
PYTHONHOME=\$R/usr
export PYTHONHOME
exec "\$S/$ld" --argv0 "\$here/python$v" --library-path "\$L" "\$R/usr/bin/python$v" "\$@"
EOF
	chmod 755 "$w.tmp" && mv "$w.tmp" "$w"
done

report_all
