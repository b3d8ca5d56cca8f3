/*
 * discover.h - finding the Python process to sample: the one given with
 * --pid (retried while it starts), the launched program (waited for until
 * it runs Python), or with -s a Python descendant of either.
 */
#ifndef PYSPY_CAPTURE_DISCOVER_H
#define PYSPY_CAPTURE_DISCOVER_H

#include <stddef.h>
#include <sys/types.h>

#include "python/pyrt.h"

/* Launch mode: how long a program that is not Python is given. */
#define DISCOVER_NOTICE_S 1      /* then say what the capture waits for */
#define DISCOVER_TIMEOUT_S 10    /* without -s, give up this long after its last exec */

/*
 * -s: the first Python process among root's descendants (breadth first,
 * through the children files, else one scan of /proc), or 0.  Its runtime
 * goes to *rt.
 */
pid_t discover_descendant(pid_t root, struct pyrt *rt);

/*
 * --pid: the runtime of pid (a process still starting gets two seconds),
 * with -s of a Python descendant if pid is not Python (*found: which).
 * 0, or -1 after one error line (no such process, not Python, permission
 * denied with a hint...).
 */
int discover_attach(pid_t pid, int subprocesses, struct pyrt *rt, pid_t *found);

enum discover_end {
	DISCOVER_FOUND,          /* *rt, *found set */
	DISCOVER_EXITED,         /* the program ended first: *how, *status */
	DISCOVER_STOPPED,        /* the capture was asked to stop (sig.h) */
	DISCOVER_TIMEOUT,        /* not Python DISCOVER_TIMEOUT_S after its last exec */
	DISCOVER_FAILED,         /* Python that cannot be read: why */
};

/*
 * Launch mode: wait for the launched child pid (called name) to run an
 * initialised Python; with -s a Python descendant will do (*found).  Says
 * on stderr after DISCOVER_NOTICE_S what it waits for.
 */
enum discover_end discover_launched(pid_t pid, const char *name, int subprocesses,
				    struct pyrt *rt, pid_t *found, char *why, size_t cap,
				    int *how, int *status);

#endif /* PYSPY_CAPTURE_DISCOVER_H */
