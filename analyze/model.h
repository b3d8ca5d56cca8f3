/*
 * model.h - what the reports need from a database, held in memory.
 *
 * Captures, processes and threads (few), and the frames, strings and
 * stack trie (bounded by the number of distinct stacks, never by the
 * number of samples).  Samples stay in SQLite and are scanned
 * (agg.h, cmd_speedscope.c, cmd_dump.c).
 *
 * Database ids are mapped to array indices: mc/mp/mt index captures,
 * processes and threads in id order; frames and stacks are indexed by
 * database id directly (ids are dense; see docs/schema.md).
 */
#ifndef PYSPY_ANALYZE_MODEL_H
#define PYSPY_ANALYZE_MODEL_H

#include <sqlite3.h>
#include <stdint.h>

#define MODEL_STATUS_UNKNOWN (-2147483647 - 1)   /* captures.exit_status NULL */

struct m_capture {
	int64_t id;
	char *uuid, *file, *host, *kernel, *tool_version, *format_version;
	char *cmdline, *python_version, *python_exe, *options, *loaded_at, *damage;
	uint64_t header_flags;
	int64_t start_wall_ns, start_mono_ns;
	int64_t rate_hz, time_unit_ns, pid;
	int complete;
	int64_t chunks, bytes, end_ns, samples, sample_first, sample_last;
	int64_t ticks, missed, errors, partial;
	int stop_reason;         /* -1 = unknown (no trailer) */
	int exit_status;         /* exit code or -signal; MODEL_STATUS_UNKNOWN */
	int selected;            /* by --capture */
	int nprocesses;
};

struct m_process {
	int64_t id;
	int capture;             /* index in model.captures */
	int64_t pid, ppid;
	int parent;              /* index in model.processes, -1 = none */
	char *cmdline, *python_version, *exe;
	int64_t start_ns, end_ns; /* end_ns -1 = unknown */
	int end_how, end_status;
	int selected;
};

struct m_thread {
	int64_t id;
	int capture, process;    /* indices */
	int64_t tid;
	uint64_t py_thread_id;
	char *name;              /* latest name, NULL = unknown */
	int64_t first_ns, last_ns;
	int is_main;
	int64_t samples, last_sample;
	int selected;            /* by the selection filters */
};

struct m_frame {
	uint8_t kind;            /* enum psf_frame_kind */
	uint8_t idle_leaf;       /* py-spy's idle heuristic matches */
	int32_t firstline;
	uint32_t name, qualname, file; /* string ids, 0 = none */
};

struct model {
	sqlite3 *db;             /* borrowed */
	struct m_capture *captures;
	int ncaptures;
	struct m_process *processes;
	int nprocesses;
	struct m_thread *threads;
	int nthreads;
	int *thread_index;       /* database thread id -> index, -1 = none */
	int64_t max_thread_id;

	char **strings;          /* by string id; NULL = none */
	uint32_t nstrings;
	struct m_frame *frames;  /* by frame id */
	uint32_t nframes;
	uint32_t *stack_parent;  /* by stack id; [0] = root */
	uint32_t *stack_frame;
	int32_t *stack_line;     /* -1 = unknown */
	uint32_t nstacks;        /* max stack id + 1 */
};

/* Read a database.  Returns a model (caller owns, model_free) or NULL
 * after printing an error. */
struct model *model_load(sqlite3 *db);
void model_free(struct model *m);

/* Strings of a frame (NULL when absent). */
const char *model_str(const struct model *m, uint32_t id);

/* Thread index of a database thread id, or -1. */
static inline int model_thread(const struct model *m, int64_t id)
{
	return id >= 0 && id <= m->max_thread_id ? m->thread_index[id] : -1;
}

/* 1 if the innermost frame of stack makes py-spy's heuristic say idle. */
static inline int model_stack_idle_leaf(const struct model *m, uint32_t stack)
{
	return stack && stack < m->nstacks && m->frames[m->stack_frame[stack]].idle_leaf;
}

#endif /* PYSPY_ANALYZE_MODEL_H */
