/*
 * agg.h - the aggregation shared by collapsed, flamegraph and top.
 *
 * 1. Scan: one pass over the samples of the selected captures (rowid
 *    range of each capture, time window in the WHERE clause), keeping the
 *    samples of selected threads that pass --gil/--idle, counted per
 *    (group, stack) in a hash table.  The group is the thread when thread
 *    or process frames are shown, else the capture.  Memory: one entry per
 *    distinct (group, stack), never per sample.
 * 2. Build: each distinct stack is walked up the stack trie (memoised per
 *    group) and turned into a path of labels in a call tree whose nodes
 *    are (parent, label): stacks that label alike (--nolineno,
 *    --function) merge here.
 *
 * Samples with an empty stack (no Python frames) are counted in the
 * statistics but not shown, except partial ones: those show as a bare
 * AGG_PARTIAL_LABEL (time the capture could not read the stack).
 */
#ifndef PYSPY_ANALYZE_AGG_H
#define PYSPY_ANALYZE_AGG_H

#include <stdint.h>

#include "filter.h"
#include "hashmap.h"
#include "model.h"
#include "strbuf.h"

enum agg_label_kind { AGG_FRAME = 0, AGG_THREAD = 1, AGG_PROCESS = 2, AGG_PARTIAL = 3 };

/*
 * The synthetic root frame of a partial sample (PSF_SF_PARTIAL: its
 * outermost frames, or all of them, could not be verified): its frames
 * go under it, below the thread and process frames, so an incomplete
 * stack is never shown as a whole one.  --no-partial drops them.
 */
#define AGG_PARTIAL_LABEL "<partial>"

struct agg_node {
	uint32_t parent;         /* node 0 is the root ("all") */
	uint32_t label;
	uint32_t first_child, next_sibling; /* after agg_sort(); 0 = none */
	uint32_t depth;          /* root 0 */
	uint64_t self, total;    /* samples */
	double self_s, total_s;  /* seconds: sum of the samples' weights (samples.w) */
};

struct agg_stats {
	uint64_t seen;           /* samples of selected threads in the time window */
	uint64_t gil;            /* ... of which holding the GIL */
	uint64_t idle;           /* ... of which idle (py-spy's rule) */
	uint64_t partial;        /* ... of which flagged partial (kept or not) */
	uint64_t kept;           /* ... that passed --gil/--idle */
	uint64_t empty;          /* kept samples with no Python frames (not shown) */
	double kept_s, empty_s;  /* seconds (weights) of kept and of empty samples */
	int threads;             /* selected threads with at least one seen sample */
};

struct agg {
	struct model *m;         /* borrowed */
	const struct filter *f;  /* borrowed */
	int show_processes;
	int line_mode;           /* 0 = per filter; 1 = force no line numbers */

	struct agg_node *nodes;
	uint32_t nnodes;
	unsigned long cap_nodes;
	char **labels;
	uint8_t *label_kind;     /* enum agg_label_kind */
	uint32_t nlabels;
	unsigned long cap_labels;
	struct idset label_set;
	struct u64map children;  /* parent << 32 | label -> node */
	struct u64map memo;      /* prefix node << 32 | stack -> node */
	struct u64map frame_labels; /* frame << 32 | line -> label */
	char **short_files;      /* by string id, lazily */
	struct agg_stats stats;
};

/*
 * Scan and build for the selection already marked in m (filter_select).
 * line_mode 1 drops line numbers whatever the filter says (top --by
 * function).  Returns 0 or -1 after printing an error.
 */
int agg_run(struct agg *a, struct model *m, const struct filter *f, int show_processes,
	    int line_mode);

/* Link children in label order (first_child/next_sibling). */
void agg_sort(struct agg *a);

void agg_release(struct agg *a);

/*
 * The label text of a frame as the text reports show it (short or full
 * file, line per --function/--nolineno, qualname per --qualname).  Used by
 * dump too.  line < 0 = unknown.
 */
void agg_frame_text(struct strbuf *out, const struct model *m, const struct filter *f,
		    uint32_t frame, int32_t line, int line_mode, char **short_files);

/* Short file name of string id (cached in *short_files, sized m->nstrings). */
const char *agg_short_file(const struct model *m, uint32_t file, int full, char **short_files);

#endif /* PYSPY_ANALYZE_AGG_H */
