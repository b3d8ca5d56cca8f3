/*
 * samples.h - one pass over the selected samples, in capture order and,
 * within a capture, in the order they were written (time order), for the
 * reports that need every sample rather than counts per stack (pprof
 * windows, chrometrace, firefox).
 *
 * The selection is the same as agg.c's: captures, processes and threads
 * marked by filter_select(), the --from/--to window, and a `keep` flag
 * that applies --gil, --idle (py-spy's idle rule: the idle flag or an
 * idle leaf frame) and --no-partial.  A kept partial sample (its stack is
 * incomplete) must be shown under AGG_PARTIAL_LABEL, never as a whole
 * stack: `partial` says so, and it is kept even without frames, as the
 * other reports show it.  Memory is constant (a prepared statement).
 */
#ifndef PYSPY_ANALYZE_SAMPLES_H
#define PYSPY_ANALYZE_SAMPLES_H

#include <stdint.h>

#include "filter.h"
#include "model.h"

struct samples;

struct sample {
	int thread;              /* index in model.threads (selected) */
	int capture;             /* index in model.captures */
	uint32_t stack;          /* stack id, 0 = no Python frames */
	int64_t t;               /* ns since its capture's start */
	int64_t w;               /* weight: the ns it stands for (samples.w), >= 0 */
	int64_t flags;           /* PSF_SF_* */
	int gil, idle;           /* held the GIL; idle by py-spy's rule */
	int partial;             /* PSF_SF_PARTIAL: show under AGG_PARTIAL_LABEL */
	int keep;                /* passes --gil/--idle/--no-partial, has frames or is partial */
};

/*
 * Start a scan of the selection marked in m (filter_select() first).
 * Returns the scan (caller owns, samples_free) or NULL after an error.
 * m and f are borrowed for the scan's lifetime.
 */
struct samples *samples_open(struct model *m, const struct filter *f);

/*
 * The next sample of a selected thread, whether kept or not: 1 and *s
 * filled, 0 at the end, -1 after printing a read error.
 */
int samples_next(struct samples *it, struct sample *s);

/* Accepts NULL. */
void samples_free(struct samples *it);

#endif /* PYSPY_ANALYZE_SAMPLES_H */
