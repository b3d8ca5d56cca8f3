/*
 * sampler.c - the sampling loop (see sampler.h).
 */
#include "sampler.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "blocking.h"
#include "launch.h"
#include "msg.h"
#include "proc.h"

/* Housekeeping (LAG/ERRORS records, exec checks) interval. */
#define REPORT_NS 1000000000ull
#define CHECK_NS 100000000ull
/* How long a target that exec'd is given to become Python again. */
#define EXEC_GRACE_NS 3000000000ull

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
	uint64_t last_report, last_check;
	uint64_t exec_since;             /* a target exec'd at this time, 0 none */
	int werr, werr_errno;
	uint64_t rng;
};

uint64_t sampler_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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
	for (i = 0; i < s->nt; i++)
		target_release(&s->t[i]);
	free(s->t);
	free(s);
}

int sampler_add(struct sampler *s, pid_t pid, const struct pyrt *rt, int is_child)
{
	uint64_t now = sampler_now() - s->start;
	int r;

	if (s->nt == s->capt) {
		size_t nc = s->capt ? s->capt * 2 : 4;
		struct target *nt = realloc(s->t, nc * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		s->t = nt;
		s->capt = nc;
	}
	r = target_init(&s->t[s->nt], pid, rt, is_child, s->w, s->start, now, s->o.print);
	if (r < 0) {
		target_release(&s->t[s->nt]);
		return r;
	}
	s->nt++;
	return 0;
}

size_t sampler_ntargets(const struct sampler *s)
{
	return s->nt;
}

struct target *sampler_target(struct sampler *s, size_t i)
{
	return i < s->nt ? &s->t[i] : NULL;
}

static void set_werr(struct sampler *s, int r)
{
	if (!s->werr) {
		s->werr = r;
		s->werr_errno = errno;
	}
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
		pid_t tids[1024];
		char states[1024];
		size_t n = 0, k;
		uint64_t before = t->samples, pbefore = t->partial;
		if (t->state != TARGET_LIVE)
			continue;
		if (s->blk) {
			/* Read the kernel's view of the threads before pausing
			 * them (paused threads all read 't'). */
			uint64_t failed = 0;
			int err;
			n = pyproc_tids(t->py, tids, 1024);
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
			if (r < 0)
				return r;
		}
	}
	return write_lag(s, now);
}

/* Reap launched children; 1 if something changed. */
static void reap_children(struct sampler *s)
{
	size_t i;

	for (i = 0; i < s->nt; i++) {
		struct target *t = &s->t[i];
		int how, status, r;
		if (!t->is_child || t->reaped)
			continue;
		while ((r = launch_reap(t->pid, 1, &how, &status)) == 2) {
			if (s->blk)
				blocking_took_stop(s->blk, t->pid, status);
		}
		if (r == 1) {
			t->reaped = 1;
			t->state = TARGET_EXITED;
			t->end_how = (uint8_t)how;
			t->end_status = status;
		}
	}
}

/* A target exec'd: follow it if it becomes Python again. */
static void follow_exec(struct sampler *s, uint64_t now)
{
	size_t i, n = s->nt;

	for (i = 0; i < n; i++) {
		struct target *t = &s->t[i];
		struct pyrt rt;
		char err[256];
		pid_t pid;
		int is_child, r;
		if (t->state != TARGET_EXEC || t->finished || t->exec_gave_up)
			continue;
		if (!s->exec_since)
			s->exec_since = now;
		if (pyrt_discover(t->pid, &rt, err, sizeof(err)) != PYRT_OK) {
			if (now - s->exec_since < EXEC_GRACE_NS)
				continue;
			note(2, "pid %d exec'd a program that is not Python: %s", (int)t->pid, err);
			t->exec_gave_up = 1;   /* stays ended by exec */
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
		t->is_child = 0;   /* the new target reaps */
		r = sampler_add(s, pid, &rt, is_child);
		if (r < 0) {
			set_werr(s, r);
			return;
		}
		s->exec_since = 0;
	}
}

int sampler_run(struct sampler *s, volatile sig_atomic_t *stop, volatile sig_atomic_t *child_event)
{
	uint64_t period = 1000000000ull / s->o.rate_hz;
	uint64_t sched = sampler_now() - s->start;
	size_t i;

	s->last_report = s->last_check = sched;
	for (;;) {
		uint64_t now, gap;
		struct timespec ts;
		int live = 0, execs = 0;

		if (*stop)
			return PSF_STOP_SIGNAL;
		if (s->werr)
			return s->werr == PSF_E_IO ? PSF_STOP_DISK_FULL : PSF_STOP_ERROR;
		if (*child_event) {
			*child_event = 0;
			reap_children(s);
		}
		for (i = 0; i < s->nt; i++) {
			if (s->t[i].state == TARGET_LIVE)
				live++;
			else if (s->t[i].state == TARGET_EXEC && !s->t[i].finished &&
				 !s->t[i].exec_gave_up)
				execs++;
		}
		if (!live && !execs) {
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
		ts.tv_sec = (time_t)((s->start + sched) / 1000000000ull);
		ts.tv_nsec = (long)((s->start + sched) % 1000000000ull);
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			continue;   /* a signal: check the flags, sleep again */
		now = sampler_now() - s->start;
		if (s->o.duration_ns && now >= s->o.duration_ns)
			return PSF_STOP_DURATION;
		/* Late by a whole period or more: skip, never burst. */
		while (now >= sched + period) {
			s->lag_missed++;
			s->st.missed++;
			sched += s->o.exponential ? exp_gap(s, period) : period;
		}
		if (execs)
			follow_exec(s, now);
		if (sampler_tick(s, sched, now) < 0)
			continue;   /* loop top returns the write error */
		s->lag_ticks++;
		s->st.ticks++;
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

int sampler_write_error(const struct sampler *s, int *saved_errno)
{
	*saved_errno = s->werr_errno;
	return s->werr;
}
