/*
 * sampler.h - the sampling loop: a fixed (or exponential) schedule of
 * ticks with absolute deadlines; at each tick every thread of every target
 * process is read and written as samples.
 *
 * Timing: clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) to the next
 * scheduled time with 1 ns timer slack.  A tick that starts later than one
 * period after its scheduled time is not run: it is counted as missed and
 * the schedule moves on (no catch-up bursts).  LAG records summarise the
 * timing every second.
 */
#ifndef PYSPY_CAPTURE_SAMPLER_H
#define PYSPY_CAPTURE_SAMPLER_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "pyspy_format.h"
#include "python/pyrt.h"

struct sampler_opts {
	uint32_t rate_hz;
	uint64_t duration_ns;    /* wall-clock limit, 0 = none */
	int blocking;            /* --blocking */
	int exponential;         /* --timer exponential */
	FILE *print;             /* --print: decoded stacks, else NULL */
	size_t locals_budget;    /* --locals: bytes per rendering, 0 = none */
};

struct sampler_stats {
	uint64_t ticks, missed, samples, partial, errors;
	uint64_t max_late_ns, sum_late_ns;
	uint64_t end_ns;         /* since capture start */
};

struct sampler;

/* Caller owns; free with sampler_free().  start_mono_ns = capture start. */
int sampler_new(struct sampler **out, struct psf_writer *w, const struct sampler_opts *o,
		uint64_t start_mono_ns);

/* Accepts NULL.  Resumes any paused thread. */
void sampler_free(struct sampler *s);

/*
 * Trace one more process (writes its PROCESS record).  ppid: its parent as
 * recorded (0: read from /proc).  is_child: launched by us, reaped with
 * waitpid().  0 or a negative PSF_E_* / -errno.
 */
int sampler_add(struct sampler *s, pid_t pid, pid_t ppid, const struct pyrt *rt, int is_child);

/*
 * Follow root's descendants too (-s, subproc.h).  root_python: root was
 * added with sampler_add().  adopt: we are the child subreaper (orphans
 * become our children).  0 or -ENOMEM.
 */
int sampler_follow(struct sampler *s, pid_t root, int root_python, int adopt);

/*
 * --dump -s: find the whole tree now, waiting up to wait_ns for
 * interpreters that are starting.  0 or a negative PSF_E_*.
 */
int sampler_settle(struct sampler *s, uint64_t wait_ns);

/*
 * How our child pid (the launched program) ended if the loop reaped it:
 * 1 and *how / *status (enum psf_end_how), or 0.
 */
int sampler_child_exit(const struct sampler *s, pid_t pid, int *how, int *status);

/* Our child pid was reaped outside the loop: its targets ended so. */
void sampler_child_ended(struct sampler *s, pid_t pid, int how, int status);

/*
 * --dump: warn about each process that could not be read; returns how
 * many processes were dumped.
 */
unsigned sampler_dump_check(const struct sampler *s);

/* -v -v -v: read, cache and timing statistics, as notes. */
void sampler_note_stats(const struct sampler *s);

/* Processes seen in the tree and Python ones traced (-s), else 0. */
void sampler_tree_counts(const struct sampler *s, unsigned *seen, unsigned *python);

/*
 * One tick over all live targets (also usable alone for one-shot dumps):
 * sched_ns is when the tick was due, now_ns when it started, both in ns
 * since the capture started (the TICK record holds both).
 * 0, or a negative PSF_E_* when writing failed.
 */
int sampler_tick(struct sampler *s, uint64_t sched_ns, uint64_t now_ns);

/*
 * Run until a stop condition: *stop set (signal), the duration, every
 * target ended, or an error reported to caperr.h (a write that failed).  *child_event is set by a SIGCHLD
 * handler and cleared here.  Returns an enum psf_end_reason.
 */
int sampler_run(struct sampler *s, volatile sig_atomic_t *stop,
		volatile sig_atomic_t *child_event);

/*
 * End the capture's records: final ERRORS and LAG, PROCESS_END for every
 * target (a launched program's status as sampler_child_ended() gave it).
 * 0 or a negative PSF_E_* (reported to caperr.h).
 */
int sampler_finish(struct sampler *s, uint64_t now_ns);

void sampler_stats(const struct sampler *s, struct sampler_stats *st);

/*
 * How the target pid ended, when it has (a zombie's exit code, or
 * --blocking's ptrace wait): 1 with *how (enum psf_end_how, UNKNOWN when
 * nothing was learnt) and *status, else 0.
 */
int sampler_target_end(const struct sampler *s, pid_t pid, int *how, int *status);

/* Monotonic clock in ns: util.h mono_ns(). */
uint64_t sampler_now(void);

#endif /* PYSPY_CAPTURE_SAMPLER_H */
