/*
 * cmd_top.c - functions by own and total time (docs/pyspy-analyze.1.md,
 * "top").  Own = the function is the innermost frame; total = it is
 * anywhere in the stack, counted once per stack even when recursive.
 * Times are the sums of the samples' weights (the real time each stands
 * for, docs/schema.md), not samples / rate: missed ticks do not shrink them.
 */
#include "cmd_top.h"

#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "fmt.h"
#include "msg.h"
#include "out.h"
#include "report.h"

struct top_opts {
	int by_line;
	int sort_total;
	long limit;
};

struct top_row {
	uint32_t label;
	uint64_t own, total;
	double own_s, total_s;
};

static const struct cli_opt top_opts[] = {
	{"", CLI_HEADING, NULL, "Table:"},
	{"by", CLI_BY, "function|line", "one row per function (default) or per line"},
	{"sort", CLI_SORT, "own|total", "order by own time (default) or total time"},
	{"limit", 'n', "N", "show the first N rows (default 20; 0 = all)"},
	CLI_END,
};

static int top_option(void *ctx, int code, const char *arg)
{
	struct top_opts *o = ctx;

	switch (code) {
	case CLI_BY:
		if (strcmp(arg, "function") == 0)
			o->by_line = 0;
		else if (strcmp(arg, "line") == 0)
			o->by_line = 1;
		else
			usage_error("invalid --by '%s' (want 'function' or 'line')", arg);
		return 1;
	case CLI_SORT:
		if (strcmp(arg, "own") == 0)
			o->sort_total = 0;
		else if (strcmp(arg, "total") == 0)
			o->sort_total = 1;
		else
			usage_error("invalid --sort '%s' (want 'own' or 'total')", arg);
		return 1;
	case 'n':
		o->limit = cli_long("-n", arg, 0, 1000000000);
		return 1;
	default:
		return 0;
	}
}

static const struct agg *cmp_agg;
static int cmp_by_total;

static int cmp_rows(const void *x, const void *y)
{
	const struct top_row *a = x, *b = y;
	double ka = cmp_by_total ? a->total_s : a->own_s, kb = cmp_by_total ? b->total_s : b->own_s;
	double la = cmp_by_total ? a->own_s : a->total_s, lb = cmp_by_total ? b->own_s : b->total_s;

	if (ka != kb)
		return ka > kb ? -1 : 1;
	if (la != lb)
		return la > lb ? -1 : 1;
	return strcmp(cmp_agg->labels[a->label], cmp_agg->labels[b->label]);
}

/* Own and total per label, each label counted once per stack. */
static struct top_row *top_rows(const struct agg *a, uint32_t *nrows)
{
	struct top_row *rows = xcalloc(a->nlabels + 1, sizeof(*rows));
	uint32_t *onpath = xcalloc(a->nlabels + 1, sizeof(*onpath));
	uint32_t node = a->nodes[0].first_child, i, n = 0;

	while (node) {
		const struct agg_node *nd = &a->nodes[node];
		struct top_row *r = &rows[nd->label];

		r->own += nd->self;
		r->own_s += nd->self_s;
		if (onpath[nd->label]++ == 0) {
			r->total += nd->total;
			r->total_s += nd->total_s;
		}
		if (nd->first_child) {
			node = nd->first_child;
			continue;
		}
		while (node) {
			onpath[a->nodes[node].label]--;
			if (a->nodes[node].next_sibling) {
				node = a->nodes[node].next_sibling;
				break;
			}
			node = a->nodes[node].parent;
		}
	}
	for (i = 1; i < a->nlabels; i++) {
		if (rows[i].total == 0)
			continue;
		rows[i].label = i;
		rows[n++] = rows[i];
	}
	free(onpath);
	*nrows = n;
	return rows;
}

static int64_t window_ns(const struct report *r)
{
	int64_t best = 0;
	int i;

	for (i = 0; i < r->m->ncaptures; i++) {
		const struct m_capture *c = &r->m->captures[i];
		int64_t hi = c->end_ns < r->f.to_ns ? c->end_ns : r->f.to_ns;
		int64_t w = hi - r->f.from_ns;

		if (c->selected && w > best)
			best = w;
	}
	return best;
}

static void top_write(FILE *fp, const struct report *r, const struct agg *a, const struct top_opts *o)
{
	const struct agg_stats *s = &a->stats;
	char *title = report_title(r->m), *filters = filter_describe(&r->f);
	char b1[32], b2[32], b3[32], b4[32];
	struct top_row *rows;
	uint32_t nrows, i;
	int nproc = 0, j;

	for (j = 0; j < r->m->nprocesses; j++)
		nproc += r->m->processes[j].selected;
	fprintf(fp, "Samples from %s\n", title);
	fprintf(fp, "Window: %s s%s%s\n", fmt_secs(b1, sizeof(b1), (uint64_t)window_ns(r)),
		*filters ? "; filters: " : "", filters);
	fprintf(fp, "Total Samples %s (shown %s%s)\n", fmt_count(b1, sizeof(b1), s->seen),
		fmt_count(b2, sizeof(b2), s->kept - s->empty), r->f.idle ? "" : ", idle excluded");
	fprintf(fp, "GIL: %s%%, Active: %s%%, Partial: %s%%%s, Threads: %d",
		fmt_pct(b1, sizeof(b1), (double)s->gil, (double)s->seen),
		fmt_pct(b2, sizeof(b2), (double)(s->seen - s->idle), (double)s->seen),
		fmt_pct(b3, sizeof(b3), (double)s->partial, (double)s->seen),
		r->f.no_partial ? " (excluded)" : "", s->threads);
	if (nproc > 1)
		fprintf(fp, ", Processes: %d", nproc);
	fprintf(fp, "\n\n");
	fprintf(fp, "%7s %7s %9s %10s  %s\n", "%Own", "%Total", "OwnTime", "TotalTime",
		o->by_line && !r->f.nolineno ? "Function (file:line)" : "Function (file)");
	rows = top_rows(a, &nrows);
	cmp_agg = a;
	cmp_by_total = o->sort_total;
	qsort(rows, nrows, sizeof(*rows), cmp_rows);
	for (i = 0; i < nrows && (o->limit == 0 || i < (uint32_t)o->limit); i++) {
		/* Shares of the shown time, so that they agree with the times. */
		double kept = s->kept_s - s->empty_s;

		snprintf(b3, sizeof(b3), "%.2fs", rows[i].own_s);
		snprintf(b4, sizeof(b4), "%.2fs", rows[i].total_s);
		fprintf(fp, "%6s%% %6s%% %9s %10s  %s\n", fmt_pct(b1, sizeof(b1), rows[i].own_s, kept),
			fmt_pct(b2, sizeof(b2), rows[i].total_s, kept), b3, b4,
			a->labels[rows[i].label]);
	}
	if (nrows == 0)
		fprintf(fp, "(no samples)\n");
	free(rows);
	free(title);
	free(filters);
}

static const char top_synopsis[] =
	"top [FILTERS] [--by function|line] [--sort own|total] [-n N] SOURCE...";
static const char top_description[] =
	"Show the functions that used the most time, like 'py-spy top' frozen over the\n"
	"selected window: %Own/OwnTime count the time where the function was running\n"
	"(innermost frame), %Total/TotalTime the time where it was anywhere on the stack\n"
	"(once per stack, so recursion is not counted twice).  Each sample counts for\n"
	"the real time since its thread's previous sample (at most max(10 periods,\n"
	"100 ms)), so ticks the sampler missed do not shrink the times.  Partial samples\n"
	"(stacks the capture could not read whole) count under a '<partial>' row, not as\n"
	"their innermost frames' callers; --no-partial leaves them out.";

int cmd_top(int argc, char **argv)
{
	const struct cli_opt *const tables[4] = {top_opts, filter_opts, report_output_opts,
						 cli_common_opts};
	struct top_opts o = {0, 0, 20};
	struct report r;
	struct agg a;
	struct out out;
	int ret = EXIT_RUNTIME;

	report_parse(&r, argc, argv, tables, top_synopsis, top_description, top_option, &o);
	memset(&a, 0, sizeof(a));
	if (out_open(&out, r.output) < 0) {
		report_close(&r);
		return EXIT_RUNTIME;
	}
	/* Process frames only on request: top lists functions (py-spy's does not
	 * show pseudo-frames at all; --threads and --processes add them). */
	if (report_open(&r) < 0 || agg_run(&a, r.m, &r.f, r.f.processes > 0, o.by_line ? 0 : 1) < 0) {
		out_abort(&out);
		goto done;
	}
	agg_sort(&a);
	top_write(out.fp, &r, &a, &o);
	if (out_close(&out) == 0)
		ret = EXIT_OK;
done:
	agg_release(&a);
	report_close(&r);
	return ret;
}
