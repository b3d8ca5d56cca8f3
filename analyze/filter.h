/*
 * filter.h - FILTERS, identical in every report (docs/pyspy-analyze.1.md).
 *
 * Selection (which threads and which samples):
 *   --capture ID|HOST  captures by database id, capture id prefix, host or
 *                      file name (globs allowed); repeatable
 *   --pid LIST         processes; --tid LIST threads (OS tid, or the
 *                      Python thread id in 0x hex); --thread NAME threads
 *                      whose name (any name they had) matches a glob
 *   --from/--to S      sample time window, seconds since capture start
 *   --gil              only samples whose thread held the GIL
 *   --idle             keep idle samples (dropped by default, like py-spy)
 *   --no-partial       drop partial samples (incomplete stacks); by default
 *                      they are shown under a "<partial>" root frame
 * Labels (how stacks are shown):
 *   --function, --nolineno, --threads, --processes/--no-processes,
 *   --full-filenames, --qualname
 */
#ifndef PYSPY_ANALYZE_FILTER_H
#define PYSPY_ANALYZE_FILTER_H

#include <stdint.h>

#include "cli.h"
#include "model.h"

struct filter {
	int64_t *pids;
	int npids;
	int64_t *tids;
	int ntids;
	const char **thread_globs; /* borrowed from argv */
	int nthread_globs;
	const char **captures;     /* borrowed from argv */
	int ncaptures;
	int gil, idle;
	int no_partial;          /* --no-partial: drop PSF_SF_PARTIAL samples */
	int64_t from_ns, to_ns;  /* to_ns INT64_MAX = no limit */
	int has_from, has_to;

	int function, nolineno, threads, full_filenames, qualname;
	int processes;           /* -1 = auto (captures made with --subprocesses) */
};

/* Selection options only (--capture, --pid, --tid, --thread). */
extern const struct cli_opt filter_select_opts[];
/* All FILTERS: selection, time, GIL/idle, and label options. */
extern const struct cli_opt filter_opts[];

void filter_init(struct filter *f);
void filter_release(struct filter *f);

/* Handle an option of the tables above: 1 if it was one, else 0. */
int filter_option(struct filter *f, int code, const char *arg);

/*
 * Mark the selected captures, processes and threads in m (their
 * `selected` fields).  Returns the number of selected threads; a
 * --capture that matches nothing is an error (-1, printed).
 */
int filter_select(struct filter *f, struct model *m);

/* Whether process pseudo-frames are shown for the selected captures. */
int filter_show_processes(const struct filter *f, const struct model *m);

/* A one-line human summary of the active sample filters ("" if none),
 * for report titles; caller frees. */
char *filter_describe(const struct filter *f);

#endif /* PYSPY_ANALYZE_FILTER_H */
