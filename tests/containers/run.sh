#!/usr/bin/env bash
# Containers suite: pyspy-capture against a Python process isolated the way
# containers isolate it, on every interpreter tests/interpreters.sh lists.
# The target's root is made from the interpreter's own files (hard links,
# or copies across filesystems, of the binary, the libraries ldd or sid's
# ld.so --list names, and the standard library, at the same paths as on
# the host) and started in new PID + mount namespaces:
#
#   chroot     unshare --pid --mount --fork + chroot ROOT: /proc/PID/maps
#              prints the files as ROOT/..., which the target's root + ROOT/...
#              does not reach (issue 14)
#   pivot      a bind mount of ROOT made the root with pivot_root, the old
#              root unmounted: maps prints paths relative to ROOT, which on
#              the host lead to other files or none
#   decoy      chroot, and the root holds a DIFFERENT interpreter at
#              ROOT/ROOT/<path>, where /proc/PID/root + the printed path
#              leads: the capture must read the target's file
#   userns     unshare --user --map-root-user by a non-root user (nobody):
#              root inside, nobody outside; captured by root and by nobody
#   deleted    the interpreter's files removed after start
#
# Each is captured by root (which opens /proc/PID/map_files) and without
# CAP_SYS_ADMIN/CAP_CHECKPOINT_RESTORE (no map_files: the other
# candidates), and checked: exit 0, the target's own Python version in
# `pyspy-analyze info`, its functions in the stacks.  Then once: the exact
# sid 3.15 command of issue 14 (sid's /usr layout, ld.so started), a
# capture inside the target's PID namespace (a sidecar: pids are the
# namespace's), the same without CAP_SYS_PTRACE (the message names
# SYS_PTRACE and the Docker, Compose and Kubernetes settings), and podman
# with a rootfs image built from Debian packages when podman can run here.
# Targets report readiness by writing a file (no sleeps race a capture).
#
# Needs root (namespaces, chroot, mounts); otherwise every case is skipped.
# usage: tests/containers/run.sh [LABEL...]   (default: every interpreter,
#        then sidecar and podman; or name them: sidecar, podman)
#   env PYSPY_NO_FETCH=1   do not fetch sid interpreters (see interpreters.sh)
. "$(dirname "$0")/../lib.sh"
cd "$PYSPY_ROOT" || exit 1
t_tmpdir
export LC_ALL=C.UTF-8
HERE=$PYSPY_ROOT/tests/containers
APP=$HERE/app.py
ONLY=" $* "
# Roots must be reachable by nobody (the userns case).
chmod 755 "$T_TMP"
OUT=$T_TMP/out
mkdir -p "$OUT" && chmod 1777 "$OUT"
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"

if [ "$(id -u)" != 0 ]; then
	t_skip "containers" "needs root (namespaces, chroot, mount)"
	exit 0
fi
for tool in unshare chroot pivot_root capsh setpriv ldd umount; do
	if ! command -v "$tool" >/dev/null; then
		t_skip "containers" "'$tool' is not installed"
		exit 0
	fi
done
if ! unshare --pid --mount --fork true 2>/dev/null; then
	t_skip "containers" "cannot create PID and mount namespaces here"
	exit 0
fi

# ---------------------------------------------------------------- helpers

# mirror ROOT PATH...: PATH at ROOT/PATH; directories whole.  Hard links,
# copies where the filesystem differs; a symlink's target is linked under
# the symlink's name.
mirror() {
	local root=$1 p real d
	shift
	for p; do
		d=$root$(dirname "$p")
		mkdir -p "$d"
		if [ -d "$p" ]; then
			cp -al "$p" "$d/" 2>/dev/null || cp -a "$p" "$d/" || return 1
		else
			real=$(readlink -f "$p")
			ln -f "$real" "$root$p" 2>/dev/null || cp "$real" "$root$p" || return 1
		fi
	done
}

# spec LABEL CMD: how to run CMD's interpreter from absolute paths.  Sets
# RUN (argv), RUNENV (environment), BINARY, LIBS (one per line), STDLIB,
# RTFILE (the file holding the runtime: libpython or BINARY), VERSION.
spec() {
	local label=$1 cmd=$2 here mm S R L
	VERSION=$("$cmd" -c 'import sys; sys.stdout.write("%d.%d.%d" % sys.version_info[:3])') || return 1
	mm=${VERSION%.*}
	STDLIB=$("$cmd" -c 'import os, sys; sys.stdout.write(os.path.dirname(os.__file__))') || return 1
	RUNENV=()
	case $label in
	sid-*)
		# As the wrapper does (tests/fetch-sid-pythons.sh), from absolute paths.
		here=$(dirname "$(readlink -f "$cmd")")
		S=$(dirname "$here")/libs
		R=$(dirname "$here")/python$mm
		L=$S/usr/lib/x86_64-linux-gnu:$S/lib/x86_64-linux-gnu:$R/usr/lib/x86_64-linux-gnu
		BINARY=$R/usr/bin/python$mm
		RUN=("$S/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$L" "$BINARY")
		RUNENV=("PYTHONHOME=$R/usr")
		LIBS=$("${RUN[@]:0:3}" --list "$BINARY")
		;;
	*)
		BINARY=$(readlink -f "$cmd")
		RUN=("$BINARY")
		LIBS=$(ldd "$BINARY")
		;;
	esac
	LIBS=$(awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$LIBS")
	RTFILE=$(grep '/libpython' <<<"$LIBS" | head -n 1)
	[ -n "$RTFILE" ] || RTFILE=$BINARY
}

# make_root ROOT: the current spec's files (and umount's, for pivot_root)
# at their host paths under ROOT, /proc and a world-writable /tmp.
make_root() {
	local root=$1 um
	rm -rf "$root"
	mkdir -p "$root/proc" "$root/tmp" && chmod 1777 "$root/tmp" || return 1
	um=$(command -v umount)
	# shellcheck disable=SC2046
	mirror "$root" "$BINARY" "$STDLIB" "$APP" $LIBS "$um" \
		$(ldd "$um" | awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }') &&
		if [ "${RUN[0]}" != "$BINARY" ]; then mirror "$root" "${RUN[0]}"; fi
}

# start_ns MODE ROOT [ARGV...]: start the interpreter (RUN, or ARGV) on the
# app in ROOT in new namespaces; MODE chroot, pivot or userns.  Waits for
# the app's ready file; sets NSPID (the namespace's first process, as we
# see it) and HPID (the target as we see it).  Fails after 60 s.
start_ns() {
	local mode=$1 root=$2 i
	shift 2
	[ $# -gt 0 ] || set -- "${RUN[@]}"
	rm -f "$root/tmp/ready"
	case $mode in
	chroot)
		env "${RUNENV[@]}" unshare --pid --mount --fork sh -c \
			'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' \
			"$root" "$@" "$APP" /tmp/ready 2>"$T_TMP/target.err" &
		;;
	pivot)
		env "${RUNENV[@]}" unshare --pid --mount --fork sh -c \
			'mount --bind "$0" "$0" && cd "$0" && mount -t proc proc proc && mkdir -p old &&
			 pivot_root . old && umount -l /old && exec "$@"' \
			"$root" "$@" "$APP" /tmp/ready 2>"$T_TMP/target.err" &
		;;
	userns)
		env "${RUNENV[@]}" $NOBODY unshare --user --map-root-user --pid --mount --fork sh -c \
			'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' \
			"$root" "$@" "$APP" /tmp/ready 2>"$T_TMP/target.err" &
		;;
	esac
	NSPID=$!
	t_bg "$NSPID"
	HPID=
	for i in $(seq 600); do
		if [ -s "$root/tmp/ready" ]; then
			HPID=$(cat "/proc/$NSPID/task/$NSPID/children" 2>/dev/null)
			HPID=${HPID%% *}
			[ -n "$HPID" ] && t_bg "$HPID"
			break
		fi
		kill -0 "$NSPID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$HPID" ] && return 0
	echo "target ($mode) did not start: $(tail -n 3 "$T_TMP/target.err")"
	stop_ns
	return 1
}

stop_ns() {
	[ -n "${HPID:-}" ] && kill -9 "$HPID" 2>/dev/null
	kill -9 "$NSPID" 2>/dev/null
	wait "$NSPID" 2>/dev/null
	HPID=
	return 0
}

# capture_as WHO NAME: capture HPID for half a second as root, noadmin
# (root without CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE: no map_files) or
# nobody.  Sets CAPF (the file) and CAP_RC; stderr in $T_TMP/cap.err.
capture_as() {
	local who=$1 name=$2
	CAPF=$OUT/$name.pyspy
	rm -f "$CAPF"
	case $who in
	root) "$CAPTURE" -q -o "$CAPF" -r 100 -d 0.5 -p "$HPID" 2>"$T_TMP/cap.err" ;;
	noadmin)
		capsh --drop=cap_sys_admin,cap_checkpoint_restore -- -c '"$0" "$@"' \
			"$CAPTURE" -q -o "$CAPF" -r 100 -d 0.5 -p "$HPID" 2>"$T_TMP/cap.err" ;;
	nobody) $NOBODY "$CAPTURE" -q -o "$CAPF" -r 100 -d 0.5 -p "$HPID" 2>"$T_TMP/cap.err" ;;
	esac
	CAP_RC=$?
}

# expect_capture NAME: the last capture_as worked and read VERSION's stacks.
expect_capture() {
	local name=$1 info
	if [ "$CAP_RC" != 0 ]; then
		t_fail "$name" "pyspy-capture exit $CAP_RC: $(tail -n 2 "$T_TMP/cap.err")"
		return
	fi
	info=$("$ANALYZE" info "$CAPF" 2>&1)
	if ! grep -Eq "^  Python: +$VERSION " <<<"$info"; then
		t_fail "$name" "not the target's Python $VERSION: $(grep -E '^  Python:' <<<"$info")"
		return
	fi
	if ! "$ANALYZE" collapsed "$CAPF" 2>&1 | grep -q 'containers_spin (app.py:[0-9]*);containers_leaf'; then
		t_fail "$name" "no containers_spin;containers_leaf stack in the capture"
		return
	fi
	t_ok "$name"
}

# ---------------------------------------------------------------- per interpreter

test_interpreter() {
	local label=$1 cmd=$2 root decoy who f
	if ! spec "$label" "$cmd"; then
		t_fail "$label: interpreter runs" "cannot ask $cmd for its version and stdlib"
		return
	fi
	root=$T_TMP/root-$label
	if ! make_root "$root"; then
		t_fail "$label: root from the interpreter's files" "cannot populate $root"
		return
	fi

	for mode in chroot pivot userns; do
		if ! start_ns "$mode" "$root"; then
			t_fail "$label: $mode: target starts"
			continue
		fi
		if [ "$mode" = userns ]; then
			set -- root nobody
		else
			set -- root noadmin
		fi
		for who; do
			capture_as "$who" "$label-$mode-$who"
			expect_capture "$label: $mode, captured by $who"
		done
		stop_ns
	done

	# Decoys where /proc/PID/root + the printed path (ROOT/...) leads.
	decoy=/usr/bin/python3.11
	[ "$label" = debian-3.11 ] && decoy=$(readlink -f "$(dirname "$APP")/../.cache/sid/python3.13/usr/bin/python3.13" 2>/dev/null)
	if [ -z "$decoy" ] || [ ! -f "$decoy" ]; then
		t_skip "$label: decoy" "no other interpreter to use as a decoy"
	else
		for f in "$BINARY" "$RTFILE"; do
			mkdir -p "$(dirname "$root$root$f")" &&
				{ ln -f "$(readlink -f "$decoy")" "$root$root$f" 2>/dev/null || cp "$decoy" "$root$root$f"; }
		done
		if start_ns chroot "$root"; then
			for who in root noadmin; do
				capture_as "$who" "$label-decoy-$who"
				expect_capture "$label: decoy at /proc/PID/root + path, captured by $who"
			done
			stop_ns
		else
			t_fail "$label: decoy: target starts"
		fi
		rm -rf "${root:?}$root"
	fi

	# Deleted: real copies (a hard link's inode would live on), removed
	# once the target runs.
	for f in "$BINARY" "$RTFILE"; do
		cp --remove-destination "$f" "$root$f"
	done
	if start_ns chroot "$root"; then
		rm -f "$root$BINARY" "$root$RTFILE"
		capture_as root "$label-deleted-root"
		expect_capture "$label: deleted interpreter, captured by root"
		capture_as noadmin "$label-deleted-noadmin"
		if [ "$RTFILE" = "$BINARY" ] && [ "${RUN[0]}" = "$BINARY" ]; then
			# The runtime is the executable: /proc/PID/exe reaches it.
			expect_capture "$label: deleted interpreter, captured without map_files"
		else
			T_RC=$CAP_RC T_OUT= T_ERR=$(cat "$T_TMP/cap.err")
			t_expect "$label: deleted interpreter, without map_files: says why" 1 "" \
				"^pyspy-capture: no permission to read process $HPID: cannot open '[^']*' of process $HPID: tried /proc/$HPID/map_files/[0-9a-f]+-[0-9a-f]+ \(Operation not permitted\).* \(deleted\) \(a deleted or unreachable file needs CAP_SYS_ADMIN: run as root\)$"
		fi
		stop_ns
	else
		t_fail "$label: deleted: target starts"
	fi
	rm -rf "$root"
}

# ---------------------------------------------------------------- once

# Issue 14 as filed: sid's files in sid's own layout (/usr/bin/python3.X),
# started by sid's ld.so in a chroot.
test_issue() {
	local label=$1 cmd=$2 root mm S R
	spec "$label" "$cmd" || { t_fail "$label: issue 14 layout" "cannot run $cmd"; return; }
	mm=${VERSION%.*}
	S=$(dirname "$(dirname "$(readlink -f "$cmd")")")/libs
	R=$(dirname "$S")/python$mm
	root=$T_TMP/issue-$label
	rm -rf "$root"
	mkdir -p "$root/proc" "$root/tmp" && chmod 1777 "$root/tmp"
	cp -al "$S/." "$root/" 2>/dev/null || cp -a "$S/." "$root/"
	cp -al "$R/." "$root/" 2>/dev/null || cp -a "$R/." "$root/"
	# Host libraries sid's ld.so would take from the host (libz).
	# shellcheck disable=SC2046
	mirror "$root" "$APP" $(grep -v "^$S/\|^$R/" <<<"$LIBS")
	RUNENV=(PYTHONHOME=/usr)
	if start_ns chroot "$root" /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "/usr/bin/python$mm"; then
		for who in root noadmin; do
			capture_as "$who" "$label-issue-$who"
			expect_capture "$label: issue 14 (chroot, sid layout, ld.so), captured by $who"
		done
		stop_ns
	else
		t_fail "$label: issue 14 layout: target starts"
	fi
	rm -rf "$root"
}

# A capture beside the target, in its PID namespace (a sidecar, kubectl
# debug --target, docker run --pid=container:X): the pids it records are
# the namespace's; without CAP_SYS_PTRACE it says what to add.
test_sidecar() {
	local py=$1 d=$T_TMP/sidecar
	mkdir -p "$d"
	unshare --pid --fork --mount-proc sh -c '
		"$0" "$1" "$2/ready" & p=$!
		i=0
		while [ ! -s "$2/ready" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
		echo "$p" >"$2/pid"
		"$3" -q -o "$2/with.pyspy" -r 100 -d 0.5 -p "$p" 2>"$2/with.err"; echo $? >"$2/with.rc"
		capsh --drop=cap_sys_ptrace -- -c "\"\$0\" -q -o \"\$1\" -r 100 -d 0.5 -p $p" \
			"$3" "$2/without.pyspy" 2>"$2/without.err"; echo $? >"$2/without.rc"
		kill -9 $p' "$py" "$APP" "$d" "$CAPTURE"
	local p rc info
	p=$(cat "$d/pid" 2>/dev/null)
	rc=$(cat "$d/with.rc" 2>/dev/null)
	info=$("$ANALYZE" info "$d/with.pyspy" 2>&1)
	if [ "$rc" = 0 ] && grep -Eq "^  Target: +pid $p: " <<<"$info" &&
		grep -Eq "^    $p \"[^\"]*\" main \(pid $p\)" <<<"$info"; then
		t_ok "sidecar: pid and thread ids are the namespace's ($p)"
	else
		t_fail "sidecar: pid and thread ids are the namespace's" "exit ${rc:-?}: $(tail -n 2 "$d/with.err")"
		grep -E '^  (Target|Threads)|^    [0-9]' <<<"$info" | sed 's/^/    /'
	fi
	T_RC=$(cat "$d/without.rc" 2>/dev/null) T_OUT= T_ERR=$(cat "$d/without.err" 2>/dev/null)
	t_expect "sidecar without CAP_SYS_PTRACE: the message names what to add" 1 "" \
		"^pyspy-capture: no permission to read process $p: .*SYS_PTRACE capability: docker run --cap-add SYS_PTRACE, Compose cap_add: \[SYS_PTRACE\], Kubernetes securityContext.capabilities.add: \[\"SYS_PTRACE\"\]\)$"
}

# A real container runtime: podman (Debian's package) with an image
# imported from a root filesystem made of Debian's python3 files and this
# pyspy-capture, no network.  Captured from the host (its overlay rootfs:
# maps prints the container's paths, which on the host are other files),
# and from a sidecar sharing its PID namespace with --cap-drop ALL, without
# and with --cap-add SYS_PTRACE.  Skipped when podman is missing or cannot start a
# container here (the reason is printed).
test_podman() {
	local py=/usr/bin/python3 d=$T_TMP/podman img=localhost/pyspy-containers-test:$$ rt
	local name=pyspy-containers-$$ bin p info err
	if ! command -v podman >/dev/null; then
		t_skip "podman" "podman is not installed (apt-get install podman)"
		return
	fi
	spec debian-3.11 "$py" || { t_fail "podman: $py runs"; return; }
	bin=$(readlink -f "$CAPTURE")
	rm -rf "$d" && mkdir -p "$d/shared" && chmod 1777 "$d/shared"
	# shellcheck disable=SC2046
	if ! make_root "$d/root" || ! mirror "$d/root" $(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }') ||
		! cp "$bin" "$d/root/pyspy-capture" ||
		! tar -C "$d/root" -cf "$d/rootfs.tar" . || ! podman import -q "$d/rootfs.tar" "$img" >/dev/null 2>"$d/err"; then
		t_fail "podman: import an image" "$(tail -n 1 "$d/err" 2>/dev/null)"
		return
	fi
	rm -rf "$d/root" "$d/rootfs.tar"
	# crun refuses hybrid cgroup hierarchies; runc does not.  Explicit
	# limits: podman's defaults raise them, which needs CAP_SYS_RESOURCE.
	for rt in "" runc; do
		podman rm -f "$name" >/dev/null 2>&1
		if podman ${rt:+--runtime "$rt"} run -d --name "$name" --network=none \
			--ulimit nofile=1024:1024 --ulimit nproc=1000:1000 -v "$d/shared:/shared" \
			"$img" "$BINARY" "$APP" /shared/ready >/dev/null 2>"$d/err"; then
			break
		fi
		err=$(tail -n 1 "$d/err")
		rt=none
	done
	if [ "$rt" = none ]; then
		t_skip "podman" "cannot start a container here: $err"
		podman rmi -f "$img" >/dev/null 2>&1
		return
	fi
	for p in $(seq 600); do
		[ -s "$d/shared/ready" ] && break
		sleep 0.1
	done
	HPID=$(podman inspect -f '{{.State.Pid}}' "$name" 2>/dev/null)
	if [ ! -s "$d/shared/ready" ] || [ -z "$HPID" ] || [ "$HPID" = 0 ]; then
		t_fail "podman: target starts" "$(podman logs "$name" 2>&1 | tail -n 2)"
	else
		for who in root noadmin; do
			capture_as "$who" "podman-$who"
			expect_capture "podman${rt:+ ($rt)}: from the host, captured by $who"
		done
		# The sidecar: pid 1 is the target in the shared PID namespace.
		# With the target's own capabilities it may read it (same uid,
		# capabilities a subset of its own); with fewer (--cap-drop ALL,
		# the hardened default) it needs SYS_PTRACE.
		podman ${rt:+--runtime "$rt"} run --rm --pid="container:$name" --network=none --cap-drop ALL \
			--ulimit nofile=1024:1024 --ulimit nproc=1000:1000 -v "$d/shared:/shared" \
			"$img" /pyspy-capture -q -o /shared/no.pyspy -r 100 -d 0.5 -p 1 >"$d/no.out" 2>&1
		T_RC=$? T_OUT= T_ERR=$(cat "$d/no.out")
		t_expect "podman: sidecar with --cap-drop ALL: the message names --cap-add SYS_PTRACE" 1 "" \
			"^pyspy-capture: no permission to read process 1: .*docker run --cap-add SYS_PTRACE, Compose cap_add: \[SYS_PTRACE\], Kubernetes securityContext.capabilities.add: \[\"SYS_PTRACE\"\]\)$"
		podman ${rt:+--runtime "$rt"} run --rm --pid="container:$name" --network=none \
			--cap-drop ALL --cap-add SYS_PTRACE \
			--ulimit nofile=1024:1024 --ulimit nproc=1000:1000 -v "$d/shared:/shared" \
			"$img" /pyspy-capture -q -o /shared/yes.pyspy -r 100 -d 0.5 -p 1 >"$d/yes.out" 2>&1
		p=$?
		info=$("$ANALYZE" info "$d/shared/yes.pyspy" 2>&1)
		if [ "$p" = 0 ] && grep -Eq "^  Target: +pid 1: " <<<"$info" && grep -Eq "^  Python: +$VERSION " <<<"$info" &&
			"$ANALYZE" collapsed "$d/shared/yes.pyspy" | grep -q 'containers_spin (app.py:[0-9]*);containers_leaf'; then
			t_ok "podman: sidecar with --cap-drop ALL --cap-add SYS_PTRACE (pid 1 as the sidecar sees it)"
		else
			t_fail "podman: sidecar with --cap-add SYS_PTRACE" "exit $p: $(tail -n 2 "$d/yes.out")"
		fi
	fi
	podman rm -f "$name" >/dev/null 2>&1
	podman rmi -f "$img" >/dev/null 2>&1
	HPID=
}

while IFS=$'\t' read -r label cmd note <&3; do
	case $ONLY in "  ") ;; *" $label "*) ;; *) continue ;; esac
	if [ -z "$cmd" ]; then
		t_skip "$label" "$note"
		continue
	fi
	test_interpreter "$label" "$cmd"
	case $label in sid-*) test_issue "$label" "$cmd" ;; esac
done 3< <("$PYSPY_ROOT/tests/interpreters.sh")

case $ONLY in "  "|*" sidecar "*) test_sidecar /usr/bin/python3 ;; esac
case $ONLY in "  "|*" podman "*) test_podman ;; esac
exit 0
