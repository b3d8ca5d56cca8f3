/*
 * blocking.c - pausing Python threads with ptrace (see blocking.h).
 */
#include "blocking.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include "util.h"

/* How long a tick waits for threads to reach their stop. */
#define STOP_WAIT_NS 20000000ull

struct held {
	pid_t tid;
	int stopped;             /* reached a ptrace stop */
	int sig;                 /* signal to re-inject on detach */
};

#define EXITS_MAX 16

struct blocker {
	struct held *v;
	size_t n, cap;
	/* Held threads that ended: as tracer, our waitpid() collected their
	 * wait status (for a launched program's main thread, instead of the
	 * sampler's reaping), which must not be lost. */
	struct { pid_t tid; int wstatus; } exits[EXITS_MAX];
	unsigned nexits;
};

struct blocker *blocking_new(void)
{
	return calloc(1, sizeof(struct blocker));
}

/* Collect stop notifications; returns 1 when every held thread stopped. */
static int reap_stops(struct blocker *b)
{
	size_t i;
	int all = 1;

	for (i = 0; i < b->n; i++) {
		struct held *h = &b->v[i];
		int st;
		pid_t r;
		if (h->stopped)
			continue;
		r = waitpid(h->tid, &st, WNOHANG | __WALL);
		if (r == h->tid) {
			if (WIFSTOPPED(st)) {
				int sig = WSTOPSIG(st);
				h->stopped = 1;
				/* Interrupt and group stops carry PTRACE_EVENT_STOP;
				 * a signal-delivery stop (no event) must get its
				 * signal back on detach. */
				if ((st >> 16) == 0)
					h->sig = sig;
			} else {
				/* Exited or killed: nothing to detach. */
				h->stopped = -1;
				b->exits[b->nexits % EXITS_MAX].tid = h->tid;
				b->exits[b->nexits % EXITS_MAX].wstatus = st;
				b->nexits++;
			}
		} else if (r < 0 && errno == ECHILD) {
			h->stopped = -1;
		} else {
			all = 0;
		}
	}
	return all;
}

size_t blocking_stop(struct blocker *b, const pid_t *tids, size_t n, uint64_t *failed, int *err)
{
	size_t i, ok = 0;
	uint64_t deadline;

	*err = 0;
	if (b->n + n > b->cap) {
		size_t nc = b->cap ? b->cap : 16;
		struct held *nv;
		while (nc < b->n + n)
			nc *= 2;
		nv = realloc(b->v, nc * sizeof(*nv));
		if (!nv) {
			*failed += n;
			return 0;
		}
		b->v = nv;
		b->cap = nc;
	}
	for (i = 0; i < n; i++) {
		struct held *h;
		if (ptrace(PTRACE_SEIZE, tids[i], 0, 0) < 0) {
			if (errno == EPERM)
				*err = -EPERM;
			(*failed)++;
			continue;
		}
		h = &b->v[b->n++];
		h->tid = tids[i];
		h->stopped = 0;
		h->sig = 0;
		if (ptrace(PTRACE_INTERRUPT, tids[i], 0, 0) < 0)
			(*failed)++;
	}
	deadline = mono_ns() + STOP_WAIT_NS;
	while (!reap_stops(b) && mono_ns() < deadline) {
		struct timespec ts = { 0, 20000 };
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < b->n; i++) {
		if (b->v[i].stopped == 1)
			ok++;
		else if (b->v[i].stopped == 0)
			(*failed)++;
	}
	return ok;
}

void blocking_resume(struct blocker *b)
{
	size_t i, keep = 0;

	reap_stops(b);
	for (i = 0; i < b->n; i++) {
		struct held *h = &b->v[i];
		if (h->stopped == 1) {
			ptrace(PTRACE_DETACH, h->tid, 0, (void *)(long)h->sig);
		} else if (h->stopped == 0) {
			/* Not stopped yet (e.g. uninterruptible sleep): it will
			 * stop later; detach it then. */
			b->v[keep++] = *h;
		}
	}
	b->n = keep;
}

void blocking_took_stop(struct blocker *b, pid_t tid, int wstatus)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		struct held *h = &b->v[i];
		if (h->tid != tid || h->stopped)
			continue;
		h->stopped = 1;
		if ((wstatus >> 16) == 0)
			h->sig = WSTOPSIG(wstatus);
	}
	blocking_resume(b);
}

int blocking_exit_status(struct blocker *b, pid_t tid, int *wstatus)
{
	unsigned i, n = b->nexits < EXITS_MAX ? b->nexits : EXITS_MAX;

	for (i = 0; i < n; i++) {
		if (b->exits[i].tid == tid) {
			*wstatus = b->exits[i].wstatus;
			b->exits[i].tid = 0;   /* taken: the pid may be reused */
			return 1;
		}
	}
	return 0;
}

void blocking_free(struct blocker *b)
{
	uint64_t deadline;

	if (!b)
		return;
	deadline = mono_ns() + 100000000ull;
	while (b->n && mono_ns() < deadline) {
		struct timespec ts = { 0, 1000000 };
		blocking_resume(b);
		if (b->n)
			nanosleep(&ts, NULL);
	}
	/* Anything left is detached by the kernel when we exit. */
	free(b->v);
	free(b);
}
