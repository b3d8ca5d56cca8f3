#!/usr/bin/env bash
# The Python interpreters the integration suites test, one per line:
#
#     LABEL<TAB>COMMAND<TAB>NOTE
#
#   LABEL    pyenv-2.7.18 ... pyenv-3.13.0, debian-3.11, sid-3.13, sid-3.14,
#            sid-3.15 (unique, no spaces)
#   COMMAND  absolute path of an executable that runs that interpreter
#            (one word; checked to run), or empty when the interpreter is
#            missing or broken: report that one as skipped with NOTE
#   NOTE     "Python X.Y.Z, <how it is built>" or, with an empty COMMAND,
#            why it is missing
#
# Expected even when missing (so nothing is skipped silently): pyenv 2.7,
# 3.6 ... 3.13, Debian's /usr/bin/python3, sid 3.14 and 3.15 (and sid 3.13
# while sid has it).  Every other pyenv version found is listed too.
#
# usage: tests/interpreters.sh [--labels | --available | --get LABEL]
#   --labels      only the LABEL column
#   --available   only the interpreters that work
#   --get LABEL   print COMMAND of LABEL; exit 1 if missing or broken
#   env PYSPY_NO_FETCH=1   do not run tests/fetch-sid-pythons.sh first
#                          (use sid wrappers only if already fetched)
#
# A suite typically does (fd 3, so commands in the loop can't eat the list):
#   while IFS=$'\t' read -r label cmd note <&3; do
#       [ -n "$cmd" ] || { t_skip "capture $label" "$note"; continue; }
#       ...
#   done 3< <("$PYSPY_ROOT/tests/interpreters.sh")
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SID=${PYSPY_SID_CACHE:-$ROOT/tests/.cache/sid}
PYENV_EXPECTED="2.7 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13"
SID_REQUIRED="3.14 3.15"
SID_OPTIONAL="3.13"

what=all get=
case ${1:-} in
"") ;;
--labels) what=labels ;;
--available) what=available ;;
--get) what=get; get=${2:-}; [ -n "$get" ] || { echo "usage: $0 --get LABEL" >&2; exit 2; } ;;
-h|--help) sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
*) echo "$0: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac

# build_note BINARY: how the interpreter is linked, e.g. "shared libpython,
# PIE" (what matters to a sampler locating _PyRuntime).
build_note() {
	local f=$1 dyn type link pie
	if command -v readelf >/dev/null 2>&1; then
		dyn=$(readelf -d "$f" 2>/dev/null)
		type=$(readelf -h "$f" 2>/dev/null | awk '/Type:/ { print $2 }')
		case $dyn in *"Shared library: [libpython"*) link="shared libpython" ;; *) link="static libpython" ;; esac
		case $type in EXEC) pie=non-PIE ;; DYN) pie=PIE ;; *) pie="ELF type ${type:-?}" ;; esac
		echo "$link, $pie"
	fi
}

# run_version CMD: X.Y.Z when CMD runs; else prints why and fails.
run_version() {
	local out
	if out=$(cd / && timeout 60 "$1" -c 'import sys; sys.stdout.write("%d.%d.%d\n" % sys.version_info[:3])' 2>&1); then
		case $out in [23].*.*) echo "$out"; return 0 ;; esac
	fi
	echo "does not run: $(tail -n 1 <<<"$out")"
	return 1
}

lines=()
# add LABEL CMD NOTE_IF_OK: checks CMD; an empty or broken CMD is listed
# with the reason.
add() {
	local label=$1 cmd=$2 extra=$3 v
	if [ -z "$cmd" ]; then
		lines+=("$label"$'\t'$'\t'"$extra")
	elif v=$(run_version "$cmd"); then
		lines+=("$label"$'\t'"$cmd"$'\t'"Python $v${extra:+, $extra}")
	else
		lines+=("$label"$'\t'$'\t'"$cmd $v")
	fi
}

# ---------------------------------------------------------------- pyenv
if command -v pyenv >/dev/null 2>&1; then
	PYENV_ROOT=$(pyenv root 2>/dev/null) || PYENV_ROOT=
else
	PYENV_ROOT=${PYENV_ROOT:-$HOME/.pyenv}
fi
found=" "
if [ -n "$PYENV_ROOT" ] && [ -d "$PYENV_ROOT/versions" ]; then
	while IFS= read -r dir; do
		name=${dir##*/}
		mm=$(sed -nE 's/^([0-9]+\.[0-9]+).*/\1/p' <<<"$name")
		[ -n "$mm" ] || continue	# not a CPython version (virtualenv, pypy-..., ...)
		exe=
		for b in "$dir/bin/python$mm" "$dir/bin/python${mm}t"; do
			[ -x "$b" ] && { exe=$b; break; }
		done
		found="$found$mm "
		if [ -z "$exe" ]; then
			add "pyenv-$name" "" "no $dir/bin/python$mm"
		else
			note=$(build_note "$exe")
			case $name in *t) note="free-threaded, $note" ;; esac
			add "pyenv-$name" "$exe" "$note"
		fi
	done < <(find "$PYENV_ROOT/versions" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*' | sort -V)
fi
for mm in $PYENV_EXPECTED; do
	case $found in *" $mm "*) continue ;; esac
	if [ -z "$PYENV_ROOT" ]; then
		add "pyenv-$mm" "" "pyenv not installed"
	else
		add "pyenv-$mm" "" "not installed in $PYENV_ROOT (PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install $mm)"
	fi
done

# ---------------------------------------------------------------- Debian
deb=/usr/bin/python3
if [ -x "$deb" ]; then
	mm=$(readlink -f "$deb" | sed -nE 's/.*python([0-9]+\.[0-9]+)$/\1/p')
	add "debian-${mm:-3}" "$deb" "$(build_note "$(readlink -f "$deb")")"
else
	add "debian-3.11" "" "$deb not installed (apt-get install python3)"
fi

# ---------------------------------------------------------------- Debian sid
fetch_err=
if [ "${PYSPY_NO_FETCH:-0}" != 1 ]; then
	if ! fetch_out=$("$ROOT/tests/fetch-sid-pythons.sh" -q 2>&1); then
		fetch_err=$(grep -v ' NOT working' <<<"$fetch_out" | tail -n 1)
		printf '%s\n' "$fetch_out" >&2
	fi
fi
for mm in $SID_REQUIRED $SID_OPTIONAL; do
	w=$SID/bin/python$mm
	if [ -x "$w" ]; then
		add "sid-$mm" "$w" "$(build_note "$SID/python$mm/usr/bin/python$mm"), via sid's ld.so (/proc/PID/exe is ld-linux)"
	elif [[ " $SID_REQUIRED " == *" $mm "* ]]; then
		if [ "${PYSPY_NO_FETCH:-0}" = 1 ]; then
			add "sid-$mm" "" "not fetched (PYSPY_NO_FETCH=1; run tests/fetch-sid-pythons.sh)"
		else
			add "sid-$mm" "" "tests/fetch-sid-pythons.sh failed: ${fetch_err:-see its output}"
		fi
	elif [ "${PYSPY_NO_FETCH:-0}" = 1 ]; then
		add "sid-$mm" "" "optional: not fetched (PYSPY_NO_FETCH=1)"
	elif [ -e "$SID/apt/sources.list" ]; then
		add "sid-$mm" "" "optional: not available from sid"
	fi
done

case $what in
all) printf '%s\n' "${lines[@]}" ;;
labels) printf '%s\n' "${lines[@]}" | cut -f1 ;;
available) printf '%s\n' "${lines[@]}" | awk -F'\t' '$2 != ""' ;;
get)
	cmd=$(printf '%s\n' "${lines[@]}" | awk -F'\t' -v l="$get" '$1 == l { print $2; exit }')
	[ -n "$cmd" ] || { echo "$0: no working interpreter '$get'" >&2; exit 1; }
	echo "$cmd"
	;;
esac
