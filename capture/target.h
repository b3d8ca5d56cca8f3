/*
 * target.h - one traced process: its Python sampler, its threads as
 * capture-file records, and how it ended.
 *
 * The sampler keeps an array of targets (a process registry), so more
 * processes (subprocesses, issue 5) plug in without changing the loop.
 */
#ifndef PYSPY_CAPTURE_TARGET_H
#define PYSPY_CAPTURE_TARGET_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "pyspy_format.h"
#include "python/pyproc.h"
#include "python/pyrt.h"

enum target_state {
	TARGET_LIVE = 0,
	TARGET_EXITED = 1,       /* gone (exit or kill) */
	TARGET_EXEC = 2,         /* replaced itself with exec() */
	TARGET_ERROR = 3,        /* cannot be read any more */
};

struct target_thread;

/* A thread's kernel state read before the threads were paused. */
struct preset {
	pid_t tid;
	char state;
};

struct target {
	pid_t pid;
	int is_child;            /* launched by us: reap with waitpid */
	enum target_state state;
	int finished;            /* PROCESS_END written */
	int reaped;              /* a launched child's exit status is known */
	int exec_gave_up;        /* exec'd a non-Python program */
	uint8_t end_how;         /* enum psf_end_how once ended */
	int32_t end_status;
	int end_errno;           /* TARGET_ERROR: why */
	struct pyproc *py;
	uint32_t process_id;     /* PROCESS record id */
	uint64_t first_ns;
	uint64_t last_ns;
	uint64_t tick_ns;        /* time of the tick being sampled (ns since start) */
	int memfd;               /* /proc/PID/mem: reads 0 bytes after exec/exit */
	uint64_t probe_addr;     /* an address mapped in the original image */
	uint64_t exe_dev, exe_ino; /* its executable when attached */
	int forknoexec;          /* attached to a fork() child that had not exec'd */
	uint64_t samples, partial;
	uint64_t errors_ptrace;  /* --blocking: threads that could not be paused */
	unsigned noread_ticks;   /* consecutive ticks without an interpreter */
	struct target_thread *th;
	uint32_t nth;
	FILE *print;             /* --print: decoded stacks go here, else NULL */
	size_t locals_budget;    /* --locals: bytes of one rendering; 0 = no locals */
	int locals_verify;       /* the target runs on while locals are read */
	uint64_t exec_since;     /* exec'd at (ns since start), while waiting for Python */
	int told_end;            /* the subprocess tracker knows it ended */
	uint32_t cur_thread;     /* THREAD id whose locals are being written */
	struct preset *presets;  /* --blocking: states by tid, for the next pass */
	size_t npreset, cappreset;
	struct psf_writer *w;
	uint64_t start_mono_ns;
};

/*
 * Start tracing pid with a discovered runtime: writes the PROCESS record
 * with parent ppid (0: read it from /proc).  t is caller storage.  Returns
 * 0, -ESRCH when the process no longer holds the image discovered (it
 * exec'd or exited since: nothing written), or a negative PSF_E_* /
 * -ENOMEM.
 */
int target_init(struct target *t, pid_t pid, pid_t ppid, const struct pyrt *rt, int is_child,
		struct psf_writer *w, uint64_t start_mono_ns, uint64_t now_ns, FILE *print);

/*
 * Sample every thread of the target once; now_ns is the tick's time (ns
 * since the capture started).  Thread states preset with
 * target_preset_states() (--blocking: read before pausing) are used for
 * this pass.  Returns 0, or a negative PSF_E_* when writing failed
 * (reported to caperr.h where it happened).  Changes t->state when the
 * process is gone or exec'd.
 */
int target_sample(struct target *t, uint64_t now_ns);

/*
 * Before the first sample: walk the thread list once without recording
 * samples, so that pyproc_tids() knows which threads to pause (--blocking,
 * --dump).  0, or a negative PSF_E_* when writing failed.
 */
int target_learn_threads(struct target *t);

/* Use these pre-read thread states (tid, state char) for the next sample. */
void target_preset_states(struct target *t, const pid_t *tids, const char *states, size_t n);

/* Check for exec/exit between samples (cheap; call every ~100 ms). */
void target_check(struct target *t);

/*
 * The process ended (or the capture ends): write THREAD_END and
 * PROCESS_END records.  how/status as in struct psf_process_end.
 */
int target_finish(struct target *t, uint64_t now_ns, uint8_t how, int32_t status);

/* Write ERRORS records for the errors counted since the last call. */
int target_flush_errors(struct target *t, uint64_t now_ns, uint64_t *total);

/* -v -v -v: its read and cache statistics, as notes. */
void target_note_stats(const struct target *t);

/* Release everything (no records written).  Accepts NULL. */
void target_release(struct target *t);

#endif /* PYSPY_CAPTURE_TARGET_H */
