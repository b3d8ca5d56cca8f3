/*
 * discover.c - finding the Python process to sample (see discover.h).
 */
#include "discover.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"
#include "msg.h"
#include "proc.h"
#include "sampler.h"
#include "sig.h"

#define NS 1000000000ull

pid_t discover_descendant(pid_t root, struct pyrt *rt)
{
	pid_t queue[1024], kids[256];
	size_t head = 0, tail = 0;
	pid_t *pids = NULL, *ppids = NULL;
	long np = 0, n, i;
	char why[512];

	queue[tail++] = root;
	while (head < tail) {
		pid_t p = queue[head++];
		n = proc_children(p, 0, kids, 256);
		if (n == -ENOTSUP) {
			if (!pids) {
				pids = malloc(2 * 65536 * sizeof(pid_t));
				if (!pids)
					return 0;
				ppids = pids + 65536;
				np = proc_scan_ppids(pids, ppids, 65536);
			}
			for (i = 0, n = 0; i < np && n < 256; i++)
				if (ppids[i] == p)
					kids[n++] = pids[i];
		}
		for (i = 0; i < n; i++) {
			if (pyrt_discover(kids[i], rt, why, sizeof(why)) == PYRT_OK) {
				free(pids);
				return kids[i];
			}
			if (tail < sizeof(queue) / sizeof(queue[0]))
				queue[tail++] = kids[i];
		}
	}
	free(pids);
	return 0;
}

/* Mentions Yama only when the kernel has it (proc_perm_hint()). */
static const char *perm_hint(void)
{
	static char buf[256];

	if (proc_in_container())
		return "inside a container, the capture needs the SYS_PTRACE capability: "
		       "docker run --cap-add SYS_PTRACE, Compose cap_add: [SYS_PTRACE], "
		       "Kubernetes securityContext.capabilities.add: [\"SYS_PTRACE\"]";
	proc_perm_hint(buf, sizeof(buf), geteuid() == 0, proc_yama_scope(PROC_YAMA_SCOPE));
	return buf;
}

/* One line for a discovery failure; returns -1. */
static int attach_failed(pid_t pid, enum pyrt_status st, const char *why)
{
	switch (st) {
	case PYRT_E_NOPROC:
		return error("no process with pid %d", (int)pid);
	case PYRT_E_PERM:
		if (strstr(why, "/map_files/"))   /* a file only map_files reaches */
			return error("no permission to read process %d: %s (a deleted or "
				     "unreachable file needs CAP_SYS_ADMIN: run as root)", (int)pid, why);
		return error("no permission to read process %d: %s (%s)", (int)pid, why,
			     perm_hint());
	case PYRT_E_NOTPYTHON:
		return error("%s", why);
	default:
		return error("cannot profile process %d: %s", (int)pid, why);
	}
}

int discover_attach(pid_t pid, int subprocesses, struct pyrt *rt, pid_t *found)
{
	enum pyrt_status st;
	char why[1024];
	int tries = 0;

	*found = pid;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return error("no process with pid %d", (int)pid);
	for (;;) {
		struct timespec ts = { 0, 50000000 };
		st = pyrt_discover(pid, rt, why, sizeof(why));
		if (st != PYRT_OK && subprocesses && st != PYRT_E_PERM && st != PYRT_E_NOPROC) {
			/* -s: a process that is not Python may have Python
			 * descendants (a shell, a supervisor). */
			pid_t d = discover_descendant(pid, rt);
			if (d) {
				*found = d;
				return 0;
			}
			if (++tries > 40 || sig_stop)
				return error("no Python process in process %d or its descendants (%s)",
					     (int)pid, why);
			nanosleep(&ts, NULL);
			continue;
		}
		/* A process that is starting up gets two seconds. */
		if (st != PYRT_E_NOTREADY || ++tries > 40 || sig_stop)
			break;
		nanosleep(&ts, NULL);
	}
	return st == PYRT_OK ? 0 : attach_failed(pid, st, why);
}

/* What the capture waits for, said once the program is slow to run Python. */
static void say_waiting(pid_t pid, const char *name, enum pyrt_status st, int subprocesses)
{
	if (st == PYRT_E_NOTREADY || st == PYRT_E_NORUNTIME)
		note(1, "'%s' (pid %d) has not initialised its Python interpreter yet; "
		     "waiting for it", name, (int)pid);
	else if (subprocesses)
		note(1, "'%s' (pid %d) is not running Python (yet); waiting for it or a process "
		     "it starts to run Python", name, (int)pid);
	else
		note(1, "'%s' (pid %d) is not running Python (yet); waiting up to %d s for it to "
		     "exec a Python interpreter (-s: also Python processes it starts)", name,
		     (int)pid, DISCOVER_TIMEOUT_S);
}

enum discover_end discover_launched(pid_t pid, const char *name, int subprocesses,
				    struct pyrt *rt, pid_t *found, char *why, size_t cap,
				    int *how, int *status)
{
	uint64_t t0 = sampler_now(), delay = 1000000, last_tree = 0, last_exec = t0;
	uint64_t dev = 0, ino = 0;
	enum pyrt_status st = PYRT_E_NOTPYTHON;
	int said = 0, done = 0;

	*found = pid;
	snprintf(why, cap, "no Python yet");
	proc_exe_id(pid, &dev, &ino);
	for (;;) {
		struct timespec ts;
		uint64_t now;
		int r = done ? 0 : launch_reap(pid, 1, how, status);
		if (r == 1) {
			done = 1;
			/* -s: the program may have left Python children behind;
			 * as the child subreaper we adopted them. */
			if (!subprocesses)
				return DISCOVER_EXITED;
		}
		if (done) {
			pid_t kids[1];
			if (proc_children(getpid(), 0, kids, 1) <= 0)
				return DISCOVER_EXITED;
		} else {
			uint64_t d2, i2;
			st = pyrt_discover(pid, rt, why, cap);
			if (st == PYRT_OK)
				return DISCOVER_FOUND;
			if (st == PYRT_E_PERM || st == PYRT_E_UNSUPPORTED || st == PYRT_E_FREETHREADED)
				return DISCOVER_FAILED;
			/* An exec starts the wait for Python again. */
			if (proc_exe_id(pid, &d2, &i2) == 0 && (d2 != dev || i2 != ino)) {
				dev = d2;
				ino = i2;
				last_exec = sampler_now();
			}
		}
		if (subprocesses && sampler_now() - last_tree >= 20000000ull) {
			pid_t d = discover_descendant(done ? getpid() : pid, rt);
			last_tree = sampler_now();
			if (d) {
				*found = d;
				return DISCOVER_FOUND;
			}
		}
		if (sig_stop)
			return DISCOVER_STOPPED;
		now = sampler_now();
		if (!said && !done && now - t0 >= DISCOVER_NOTICE_S * NS) {
			said = 1;
			say_waiting(pid, name, st, subprocesses);
		}
		/* Without -s only an exec can bring Python: after a while
		 * without one, it will not come. */
		if (!subprocesses && !done && st == PYRT_E_NOTPYTHON &&
		    now - last_exec >= DISCOVER_TIMEOUT_S * NS)
			return DISCOVER_TIMEOUT;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)delay;
		nanosleep(&ts, NULL);
		/* 1 ms at first (short programs), then up to 20 ms. */
		if (sampler_now() - t0 > 200000000ull && delay < 20000000)
			delay *= 2;
	}
}
