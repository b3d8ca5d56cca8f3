/*
 * diff.h - differential reports (flamegraph --diff, collapsed --diff):
 * SOURCE's call tree compared frame by frame with BASE's.
 *
 * BASE (a capture, '-' or a database) is aggregated with the same filters
 * and frame labels as SOURCE, and each node of SOURCE's tree is matched to
 * the node of BASE with the same label path.  A node's change is its share
 * of SOURCE's samples minus the matched node's share of BASE's samples
 * (shares, so captures of different lengths or rates compare), in
 * [-1, 1]; a path BASE does not have changes by its whole share.
 */
#ifndef PYSPY_ANALYZE_DIFF_H
#define PYSPY_ANALYZE_DIFF_H

#include <stdint.h>
#include <stdio.h>

#include "agg.h"
#include "cli.h"
#include "filter.h"

/* What --diff, --base-from and --base-to said. */
struct diff_args {
	const char *base;        /* NULL = no diff */
	int64_t from_ns, to_ns;
	int has_from, has_to;
};

/* The option entries, for a command's own table. */
#define DIFF_OPT_ENTRIES                                                                          \
	{"diff", CLI_DIFF, "BASE",                                                                \
	 "compare with BASE (a capture, '-' or a database) under the same filters"},             \
		{"base-from", CLI_BASE_FROM, "SECONDS",                                           \
		 "--from for BASE only (default: --from), e.g. to compare two windows of one capture"}, \
		{"base-to", CLI_BASE_TO, "SECONDS", "--to for BASE only (default: --to)"}

/* Handle one of them: 1 if it was one. */
int diff_option(struct diff_args *a, int code, const char *arg);

struct diff {
	struct agg base;         /* BASE's call tree */
	struct filter f;         /* SOURCE's filters with BASE's window (shallow copy) */
	void *db;                /* sqlite3 *, BASE's database */
	struct model *m;
	uint32_t *base_of;       /* by SOURCE node: BASE node, 0 = none (root: 0) */
	uint8_t *matched;        /* by BASE node: some SOURCE node has its path */
	uint64_t src_all, base_all; /* samples shown in each */
	double max_change;       /* largest |change| over SOURCE's nodes */
};

/*
 * Aggregate args->base with filter f (its selection is applied to BASE's
 * own captures, processes and threads; --base-from/--base-to replace its
 * window) and match src (agg_sort()ed) against it.  f must outlive d.
 * Returns 0, or -1 after printing an error (BASE cannot be read, a
 * --capture matches nothing in it).
 */
int diff_open(struct diff *d, const struct agg *src, const struct diff_args *args,
	      const struct filter *f, int show_processes, int line_mode);
void diff_release(struct diff *d);

/* Change of SOURCE node (share in SOURCE - share in BASE). */
double diff_change(const struct diff *d, const struct agg *src, uint32_t node);

/*
 * Folded stacks with two counts, "stack BASE SOURCE" (flamegraph.pl's
 * differential input, as difffolded.pl -n writes it): BASE's counts are
 * scaled to SOURCE's total and rounded; stacks of only one side have 0 on
 * the other.  Returns lines written.
 */
uint64_t diff_collapsed_write(FILE *fp, const struct agg *src, const struct diff *d);

#endif /* PYSPY_ANALYZE_DIFF_H */
