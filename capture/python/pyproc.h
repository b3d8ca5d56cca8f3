/*
 * pyproc.h - sampling the Python threads of one process.
 *
 * A pyproc walks interpreters -> threads -> frames once per tick
 * (pyproc_sample()) and reports one struct py_sample per Python thread.
 * Frames come out leaf first as (frame id, line): the frame id is the
 * capture file's FRAME record (name, qualname, file, first line) interned
 * through the psf_writer given at creation.
 *
 * Caches are keyed by remote addresses and validated (docs/capture.md):
 *  - code objects: 3.14+ drop the cache when interp->_code_object_generation
 *    changes; 3.12 compares _Py_next_func_version, then the code object's
 *    unique co_version; 3.13 compares co_version; <= 3.11 compares the code
 *    object's fields and the name/qualname/file string headers (length,
 *    hash, first characters) once per tick for every code object in use.
 *  - thread names are rescanned every second and shortly after an unknown
 *    thread appears.
 *
 * Torn reads: every frame is validated (types, reference counts, bytecode
 * bounds, owner values); the current-frame pointer is read before and after
 * the frames (one system call, or a fresh read after on-demand reads) and,
 * on 3.11+, the callers are compared with a second copy of the stack chunk;
 * 3.15 walks must end at tstate->base_frame.  A torn walk is retried once
 * with fresh reads, then reported as PSF_SF_PARTIAL with an empty stack.
 */
#ifndef PYSPY_CAPTURE_PYTHON_PYPROC_H
#define PYSPY_CAPTURE_PYTHON_PYPROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pyspy_format.h"
#include "python/pyrt.h"

#define PYPROC_MAX_DEPTH 4096

struct py_frame {
	uint32_t frame;          /* capture FRAME id */
	int32_t line;            /* current line, -1 unknown */
	uint32_t code;           /* code cache index (pyproc_frame_info) */
};

struct py_sample {
	uint32_t slot;           /* stable while the thread lives */
	int is_new;              /* first sample of this thread */
	uint64_t tstate, thread_id;
	int32_t tid;             /* OS thread id, 0 = unknown */
	uint32_t interp_id;
	int is_main;
	uint64_t t_ns;           /* CLOCK_MONOTONIC when the thread was read */
	uint32_t flags;          /* PSF_SF_GIL*, PARTIAL, TRUNCATED, GIL_WAIT */
	const char *name;        /* threading name or NULL; borrowed */
	uint32_t name_gen;       /* changes when the name changes */
	uint32_t nframes;
	const struct py_frame *frames;  /* leaf first; valid until the next call */
};

struct pyproc_ops {
	/* Called for every Python thread, in interpreter order. */
	void (*sample)(void *ctx, const struct py_sample *s);
	/* Called for a thread that is gone (after the samples of a tick). */
	void (*thread_end)(void *ctx, uint32_t slot);
};

/* pyproc_sample() results besides 0. */
#define PYPROC_GONE 1            /* the process exited or its memory vanished */
#define PYPROC_NOINTERP 2        /* no interpreter (finalising or exec'd) */

struct pyproc;

/*
 * New sampler state for a discovered runtime (copied).  w may be NULL
 * (frames then get id 0; used by tests).  NULL on ENOMEM.
 */
struct pyproc *pyproc_new(const struct pyrt *rt, struct psf_writer *w);

/* Accepts NULL. */
void pyproc_free(struct pyproc *p);

/*
 * One tick: sample every thread.  Returns 0, PYPROC_GONE, PYPROC_NOINTERP,
 * or a negative errno when the process cannot be read at all (-EPERM) or a
 * capture-file write failed (-EIO, errno set).
 */
int pyproc_sample(struct pyproc *p, const struct pyproc_ops *ops, void *ctx);

/* Names of a frame (borrowed, valid until the next pyproc_sample()). */
void pyproc_frame_info(const struct pyproc *p, const struct py_frame *f,
		       const char **name, const char **qualname, const char **file,
		       int32_t *firstlineno);

/*
 * Where frame i (0 = the leaf) of the sample being reported lives: the
 * frame's remote address (a PyFrameObject up to 3.10, a
 * _PyInterpreterFrame from 3.11) and its code object's.  Only valid inside
 * the sample callback.  0, or -1 when i is out of range.
 */
int pyproc_frame_where(const struct pyproc *p, uint32_t i, uint64_t *frame, uint64_t *code);

/* Error counts since the last call, by enum psf_err_kind; resets them. */
void pyproc_take_errors(struct pyproc *p, uint64_t counts[PSF_ERRK_COUNT_]);

/* OS thread ids of the Python threads seen in the last tick. */
size_t pyproc_tids(const struct pyproc *p, pid_t *out, size_t cap);

/* The runtime this sampler reads. */
const struct pyrt *pyproc_runtime(const struct pyproc *p);

struct pyproc_stats {
	uint64_t ticks, samples, partial, truncated, torn_retries;
	uint64_t torn_leaf, torn_unstable, torn_miss, torn_bad;   /* failed retries, by cause */
	uint64_t torn_slow;      /* walks not trusted because their read was slow */
	uint64_t code_loads, code_validations, code_invalidations, cache_drops;
	uint64_t tname_scans;
	uint64_t syscalls, iovecs, misses;
	uint64_t slow_reads, max_read_ns, read_hist[16];   /* see mem_view_stats */
};
void pyproc_stats(const struct pyproc *p, struct pyproc_stats *st);

#endif /* PYSPY_CAPTURE_PYTHON_PYPROC_H */
