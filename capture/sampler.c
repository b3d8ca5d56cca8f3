/*
 * sampler.c - the sampling loop (see sampler.h).
 */
#include "sampler.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blocking.h"
#include "caperr.h"
#include "msg.h"
#include "proc.h"
#include "subproc.h"
#include "util.h"
#include "target.h"

/* Housekeeping (LAG/ERRORS records, exec checks) interval. */
#define REPORT_NS NS_PER_SEC
#define CHECK_NS 100000000ull
/* How long a target that exec'd is given to become Python again. */
#define EXEC_GRACE_NS 3000000000ull
/* How often it is checked meanwhile. */
#define EXEC_RETRY_NS 10000000ull

struct sampler {
	struct psf_writer *w;
	struct sampler_opts o;
	uint64_t start;                  /* CLOCK_MONOTONIC at capture start */
	struct target *t;
	size_t nt, capt;
	struct blocker *blk;
	/* since the last LAG record */
	uint64_t lag_ticks, lag_missed, lag_max, lag_sum;
	struct sampler_stats st;
	uint64_t last_report, last_check, last_exec_try;
	uint64_t rng;
	/* -s: the process tree */
	struct subproc *sp;
	pid_t root;
	int root_reaped, root_how, root_status;
};

uint64_t sampler_now(void)
{
	return mono_ns();
}

int sampler_new(struct sampler **out, struct psf_writer *w, const struct sampler_opts *o,
		uint64_t start_mono_ns)
{
	struct sampler *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->w = w;
	s->o = *o;
	s->start = start_mono_ns;
	s->rng = start_mono_ns ^ 0x9e3779b97f4a7c15ull;
	if (o->blocking) {
		s->blk = blocking_new();
		if (!s->blk) {
			free(s);
			return -ENOMEM;
		}
	}
	/* Wake up when asked, not up to 50 us later. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	*out = s;
	return 0;
}

void sampler_free(struct sampler *s)
{
	size_t i;

	if (!s)
		return;
	blocking_free(s->blk);
	subproc_free(s->sp);
	for (i = 0; i < s->nt; i++)
		target_release(&s->t[i]);
	free(s->t);
	free(s);
}

int sampler_add(struct sampler *s, pid_t pid, pid_t ppid, const struct pyrt *rt, int is_child)
{
	uint64_t now = sampler_now() - s->start;
	struct proc_stat st;
	struct target *t;
	int r;

	if (s->nt == s->capt) {
		size_t nc = s->capt ? s->capt * 2 : 4;
		struct target *nt = realloc(s->t, nc * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		s->t = nt;
		s->capt = nc;
	}
	if (!ppid && proc_stat_read(pid, 0, &st) == 0)
		ppid = st.ppid;
	/* An orphan we adopted (child subreaper) belonged to the root's tree. */
	if (s->sp && ppid == getpid() && pid != s->root)
		ppid = s->root;
	t = &s->t[s->nt];
	r = target_init(t, pid, ppid, rt, is_child, s->w, s->start, now, s->o.print);
	if (r < 0) {
		target_release(t);
		return r;
	}
	t->locals_budget = s->o.locals_budget;
	t->locals_verify = !s->o.blocking;
	s->nt++;
	return 0;
}

static int attach_cb(void *ctx, pid_t pid, pid_t ppid, const struct pyrt *rt)
{
	struct sampler *s = ctx;
	int r = sampler_add(s, pid, ppid, rt, 0);

	if (r == -ESRCH)
		return 2;   /* it exec'd (or exited) since: discover it again */
	if (r == -ENOMEM)
		return 1;
	return r < 0 ? r : 0;
}

int sampler_follow(struct sampler *s, pid_t root, int root_python, int adopt)
{
	s->root = root;
	s->sp = subproc_new(root, root_python, adopt ? getpid() : 0, s->w, s->start, attach_cb, s);
	return s->sp ? 0 : -ENOMEM;
}

int sampler_settle(struct sampler *s, uint64_t wait_ns)
{
	return s->sp ? subproc_settle(s->sp, wait_ns) : 0;
}

void sampler_tree_counts(const struct sampler *s, unsigned *seen, unsigned *python)
{
	*seen = *python = 0;
	if (s->sp)
		subproc_counts(s->sp, seen, python);
}

static void set_werr(struct sampler *s, int r)
{
	(void)s;
	caperr_set(r);
}

int sampler_tick(struct sampler *s, uint64_t sched_ns, uint64_t now_ns)
{
	size_t i;
	int r;

	r = psf_writer_tick(s->w, now_ns, sched_ns);
	if (r < 0) {
		set_werr(s, r);
		return r;
	}
	for (i = 0; i < s->nt; i++) {
		struct target *t = &s->t[i];
		pid_t tids[CAPTURE_MAX_THREADS];
		char states[CAPTURE_MAX_THREADS];
		size_t n = 0, k;
		uint64_t before = t->samples, pbefore = t->partial;
		if (t->state != TARGET_LIVE)
			continue;
		if (s->blk) {
			/* Read the kernel's view of the threads before pausing
			 * them (paused threads all read 't'). */
			uint64_t failed = 0;
			int err;
			/* The first tick (a --dump's only one) must know the
			 * Python threads before it can pause them. */
			r = target_learn_threads(t);
			if (r < 0) {
				set_werr(s, r);
				return r;
			}
			n = pyproc_tids(t->py, tids, CAPTURE_MAX_THREADS);
			for (k = 0; k < n; k++) {
				struct proc_stat st;
				states[k] = proc_stat_read(t->pid, tids[k], &st) == 0 ? st.state : 0;
			}
			target_preset_states(t, tids, states, n);
			blocking_stop(s->blk, tids, n, &failed, &err);
			if (failed)
				t->errors_ptrace += failed;
		}
		r = target_sample(t, now_ns);
		if (s->blk)
			blocking_resume(s->blk);
		s->st.samples += t->samples - before;
		s->st.partial += t->partial - pbefore;
		if (r < 0) {
			set_werr(s, r);
			return r;
		}
	}
	s->lag_ticks++;
	s->st.ticks++;
	r = psf_writer_maybe_flush(s->w, now_ns);
	if (r < 0) {
		set_werr(s, r);
		return r;
	}
	return 0;
}

/* Exponential gap with the given mean (py-spy's Poisson sampling). */
static uint64_t exp_gap(struct sampler *s, uint64_t mean)
{
	double u;

	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	u = ((double)(s->rng >> 11) + 0.5) / 9007199254740992.0;
	return (uint64_t)(-log(u) * (double)mean);
}

static int write_lag(struct sampler *s, uint64_t now)
{
	struct psf_lag l;
	int r;

	if (!s->lag_ticks && !s->lag_missed)
		return 0;
	l.t_ns = now;
	l.ticks = s->lag_ticks;
	l.missed = s->lag_missed;
	l.max_late_ns = s->lag_max;
	l.sum_late_ns = s->lag_sum;
	r = psf_writer_lag(s->w, &l);
	caperr_set(r);
	s->lag_ticks = s->lag_missed = s->lag_max = s->lag_sum = 0;
	return r;
}

static int report(struct sampler *s, uint64_t now)
{
	size_t i;
	int r;

	for (i = 0; i < s->nt; i++) {
		r = target_flush_errors(&s->t[i], now, &s->st.errors);
		if (r < 0)
			return r;
		if (s->t[i].errors_ptrace) {
			struct psf_errors e = { s->t[i].process_id, now, PSF_ERRK_PTRACE,
						s->t[i].errors_ptrace };
			s->st.errors += s->t[i].errors_ptrace;
			s->t[i].errors_ptrace = 0;
			r = psf_writer_errors(s->w, &e);
			if (r < 0) {
				caperr_set(r);
				return r;
			}
		}
	}
	return write_lag(s, now);
}

/* Process r ended with wait status st (reaped, or seen as its tracer). */
static void ended(struct sampler *s, pid_t r, int st)
{
	int how, status;
	size_t i;

	if (WIFEXITED(st)) {
		how = PSF_END_EXITED;
		status = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st)) {
		how = PSF_END_SIGNALED;
		status = WTERMSIG(st);
	} else {
		return;
	}
	for (i = 0; i < s->nt; i++) {
		struct target *t = &s->t[i];
		if (t->pid != r || t->finished || t->reaped)
			continue;
		t->reaped = 1;
		t->state = TARGET_EXITED;
		t->end_how = (uint8_t)how;
		t->end_status = status;
	}
	if (r == s->root) {
		s->root_reaped = 1;
		s->root_how = how;
		s->root_status = status;
	}
	if (s->sp)
		subproc_reaped(s->sp, r, how, status);
}

/*
 * Reap our children: the launched program and, as the child subreaper,
 * orphans of its tree.  A ptrace stop of a thread paused by --blocking
 * that comes up here goes back to the blocker.
 */
static void reap_children(struct sampler *s)
{
	size_t i;

	for (;;) {
		int st;
		pid_t r;

		do {
			r = waitpid(-1, &st, WNOHANG | __WALL);
		} while (r < 0 && errno == EINTR);
		if (r <= 0)
			break;
		if (WIFSTOPPED(st)) {
			if (s->blk)
				blocking_took_stop(s->blk, r, st);
			continue;
		}
		/* A child, or (--blocking) a traced main thread of a
		 * process that is not ours: either way its status. */
		ended(s, r, st);
	}
	/* --blocking: a main thread that ended while paused had its status
	 * collected by the blocker's own waitpid(). */
	for (i = 0; s->blk && i < s->nt; i++) {
		struct target *t = &s->t[i];
		int st;
		if (!t->finished && !t->reaped && blocking_exit_status(s->blk, t->pid, &st))
			ended(s, t->pid, st);
	}
}

/*
 * Traced processes that ended: their PROCESS_END now (when the end was
 * noticed), and the process tree is told.  A launched program is ended
 * once reaped, with its exit status (main.c reaps it at the end).
 */
static void notice_ends(struct sampler *s)
{
	uint64_t now = sampler_now() - s->start;
	size_t i;
	int reaped = 0;

	for (i = 0; i < s->nt; i++) {
		struct target *t = &s->t[i];
		int r;
		if (t->finished || t->state == TARGET_LIVE || t->state == TARGET_EXEC)
			continue;
		/* Our child (launched, or an adopted orphan): its exit status
		 * may be waiting; collect it first. */
		if (!reaped++)
			reap_children(s);
		if (t->is_child && !t->reaped)
			continue;
		r = target_finish(t, now, t->end_how, t->end_status);
		if (r < 0) {
			set_werr(s, r);
			return;
		}
		t->finished = 1;
		if (s->sp && !t->told_end)
			subproc_target_ended(s->sp, t->pid);
		t->told_end = 1;
	}
}

/* A target exec'd: follow it if it becomes Python again. */
static void follow_exec(struct sampler *s, uint64_t now)
{
	size_t i, n = s->nt;

	if (now - s->last_exec_try < EXEC_RETRY_NS)
		return;
	s->last_exec_try = now;
	for (i = 0; i < n; i++) {
		struct target *t = &s->t[i];
		struct pyrt rt;
		char err[256];
		pid_t pid;
		int is_child, r;
		if (t->state != TARGET_EXEC || t->finished || t->exec_gave_up)
			continue;
		if (!t->exec_since)
			t->exec_since = now;
		if (s->sp) {
			/* -s: the process tree rediscovers it (a Python one is
			 * traced anew; anything else is watched for more execs
			 * and children). */
			r = target_finish(t, now, PSF_END_EXEC, 0);
			if (r < 0) {
				set_werr(s, r);
				return;
			}
			t->finished = 1;
			t->told_end = 1;
			t->exec_gave_up = 1;
			subproc_target_exec_other(s->sp, t->pid);
			continue;
		}
		if (pyrt_discover(t->pid, &rt, err, sizeof(err)) != PYRT_OK) {
			if (now - t->exec_since < EXEC_GRACE_NS && proc_exists(t->pid))
				continue;
			note(2, "pid %d exec'd a program that is not Python: %s", (int)t->pid, err);
			t->exec_gave_up = 1;   /* stays ended by exec */
			r = target_finish(t, t->exec_since, PSF_END_EXEC, 0);
			if (r < 0) {
				set_werr(s, r);
				return;
			}
			t->finished = 1;
			t->told_end = 1;
			continue;
		}
		note(2, "pid %d exec'd Python %s", (int)t->pid, rt.version);
		pid = t->pid;
		is_child = t->is_child;
		r = target_finish(t, now, PSF_END_EXEC, 0);
		if (r < 0) {
			set_werr(s, r);
			return;
		}
		t->finished = 1;
		t->told_end = 1;
		t->is_child = 0;   /* the new target reaps */
		r = sampler_add(s, pid, 0, &rt, is_child);
		if (r < 0) {
			set_werr(s, r);
			return;
		}
	}
}

int sampler_run(struct sampler *s, volatile sig_atomic_t *stop, volatile sig_atomic_t *child_event)
{
	uint64_t period = NS_PER_SEC / s->o.rate_hz;
	uint64_t sched = sampler_now() - s->start;
	size_t i;

	s->last_report = s->last_check = sched;
	for (;;) {
		uint64_t now, gap;
		struct timespec ts;
		int live = 0, execs = 0;

		if (*stop)
			return PSF_STOP_SIGNAL;
		if (caperr_get(NULL))
			return caperr_get(NULL) == PSF_E_IO ? PSF_STOP_DISK_FULL : PSF_STOP_ERROR;
		if (*child_event) {
			*child_event = 0;
			reap_children(s);
		}
		notice_ends(s);
		if (s->sp) {
			int r = subproc_poll(s->sp, sampler_now());
			if (r < 0) {
				set_werr(s, r);
				continue;
			}
		}
		for (i = 0; i < s->nt; i++) {
			if (s->t[i].state == TARGET_LIVE)
				live++;
			else if (s->t[i].state == TARGET_EXEC && !s->t[i].finished &&
				 !s->t[i].exec_gave_up)
				execs++;
		}
		if (!live && !execs && s->sp) {
			/* The whole tree ended (nothing left that is or may
			 * become Python). */
			if (!subproc_active(s->sp))
				return PSF_STOP_EXITED;
		} else if (!live && !execs) {
			/* The last target decides (after an exec it is the new one). */
			const struct target *last = &s->t[s->nt - 1];
			if (last->state == TARGET_EXEC)
				return PSF_STOP_EXEC;
			if (last->state == TARGET_ERROR)
				return PSF_STOP_ERROR;
			return PSF_STOP_EXITED;
		}
		if (s->o.duration_ns && sched >= s->o.duration_ns)
			return PSF_STOP_DURATION;
		ts.tv_sec = (time_t)((s->start + sched) / NS_PER_SEC);
		ts.tv_nsec = (long)((s->start + sched) % NS_PER_SEC);
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			continue;   /* a signal: check the flags, sleep again */
		now = sampler_now() - s->start;
		if (s->o.duration_ns && now >= s->o.duration_ns)
			return PSF_STOP_DURATION;
		/* Late by a whole period or more: skip, never burst.  An
		 * exponential gap drawn for a skipped tick can land after now
		 * (it has no upper bound): then that is the next deadline to
		 * sleep to, never a tick scheduled in the future. */
		while (now >= sched + period) {
			uint64_t skip = s->o.exponential ? exp_gap(s, period) : period;
			s->lag_missed++;
			s->st.missed++;
			sched += skip ? skip : 1;
		}
		if (sched > now)
			continue;
		if (execs)
			follow_exec(s, now);
		if (sampler_tick(s, sched, now) < 0)
			continue;   /* loop top returns the write error */
		s->lag_sum += now - sched;
		s->st.sum_late_ns += now - sched;
		if (now - sched > s->lag_max)
			s->lag_max = now - sched;
		if (now - sched > s->st.max_late_ns)
			s->st.max_late_ns = now - sched;
		if (now - s->last_check >= CHECK_NS) {
			s->last_check = now;
			for (i = 0; i < s->nt; i++)
				target_check(&s->t[i]);
		}
		if (now - s->last_report >= REPORT_NS) {
			int r;
			s->last_report = now;
			r = report(s, now);
			if (r < 0)
				set_werr(s, r);
		}
		gap = s->o.exponential ? exp_gap(s, period) : period;
		sched += gap ? gap : 1;
	}
}

int sampler_finish(struct sampler *s, uint64_t now)
{
	size_t i;
	int r;

	s->st.end_ns = now;
	r = report(s, now);
	if (r < 0)
		return r;
	if (s->sp) {
		r = subproc_finish(s->sp, now);
		if (r < 0)
			return r;
	}
	for (i = 0; i < s->nt; i++) {
		struct target *t = &s->t[i];
		uint8_t how;
		int32_t status = 0;
		if (t->finished)
			continue;   /* already ended (exec followed) */
		switch (t->state) {
		case TARGET_LIVE:
			how = PSF_END_DETACHED;
			break;
		case TARGET_EXEC:
			how = PSF_END_EXEC;
			break;
		default:
			how = t->end_how;
			status = t->end_status;
			break;
		}
		r = target_finish(t, now, how, status);
		if (r < 0)
			return r;
		t->finished = 1;
	}
	return 0;
}

void sampler_stats(const struct sampler *s, struct sampler_stats *st)
{
	*st = s->st;
}

int sampler_child_exit(const struct sampler *s, pid_t pid, int *how, int *status)
{
	size_t i;

	if (s->root_reaped && s->root == pid) {
		*how = s->root_how;
		*status = s->root_status;
		return 1;
	}
	for (i = 0; i < s->nt; i++) {
		const struct target *t = &s->t[i];
		if (t->pid == pid && t->reaped) {
			*how = t->end_how;
			*status = t->end_status;
			return 1;
		}
	}
	return 0;
}

int sampler_target_end(const struct sampler *s, pid_t pid, int *how, int *status)
{
	size_t i;

	for (i = 0; i < s->nt; i++) {
		const struct target *t = &s->t[i];
		if (t->pid == pid && t->state == TARGET_EXITED) {
			*how = t->end_how;
			*status = t->end_status;
			return 1;
		}
	}
	return 0;
}

void sampler_child_ended(struct sampler *s, pid_t pid, int how, int status)
{
	size_t i;

	for (i = 0; i < s->nt; i++) {
		struct target *t = &s->t[i];
		if (t->pid == pid && !t->finished) {
			t->state = TARGET_EXITED;
			t->end_how = (uint8_t)how;
			t->end_status = status;
		}
	}
}

unsigned sampler_dump_check(const struct sampler *s)
{
	unsigned procs = 0;
	size_t i;

	for (i = 0; i < s->nt; i++) {
		const struct target *t = &s->t[i];
		procs += t->samples > 0;
		if (t->state != TARGET_LIVE && !t->samples)
			warning("process %d %s during the dump; nothing was read from it",
				(int)t->pid, t->state == TARGET_EXEC ? "exec'd" : "exited");
		else if (t->state == TARGET_LIVE && !t->samples)
			warning("process %d has no Python thread to dump", (int)t->pid);
	}
	return procs;
}

void sampler_note_stats(const struct sampler *s)
{
	size_t i;

	for (i = 0; i < s->nt; i++)
		target_note_stats(&s->t[i]);
	note(3, "timing: %llu ticks, %llu missed, mean late %.1f us, max late %.1f us",
	     (unsigned long long)s->st.ticks, (unsigned long long)s->st.missed,
	     s->st.ticks ? s->st.sum_late_ns / 1e3 / (double)s->st.ticks : 0.0,
	     s->st.max_late_ns / 1e3);
}
