/*
 * cmd_collapsed.c - folded stacks for flamegraph.pl, inferno, speedscope
 * (docs/pyspy-analyze.1.md, "collapsed").
 */
#include "cmd_collapsed.h"

#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "msg.h"
#include "out.h"
#include "report.h"
#include "strbuf.h"

uint64_t collapsed_write(FILE *fp, const struct agg *a)
{
	struct strbuf path;
	size_t *lens = NULL;
	unsigned long cap = 0;
	uint64_t lines = 0;
	uint32_t node = a->nnodes ? a->nodes[0].first_child : 0;

	strbuf_init(&path);
	xgrow((void **)&lens, &cap, 1, sizeof(*lens));
	lens[0] = 0;
	while (node) {
		const struct agg_node *n = &a->nodes[node];

		xgrow((void **)&lens, &cap, (unsigned long)n->depth + 1, sizeof(*lens));
		strbuf_setlen(&path, lens[n->depth - 1]);
		if (n->depth > 1)
			strbuf_addc(&path, ';');
		strbuf_adds(&path, a->labels[n->label]);
		lens[n->depth] = path.len;
		if (n->self) {
			fwrite(path.buf, 1, path.len, fp);
			fprintf(fp, " %llu\n", (unsigned long long)n->self);
			lines++;
		}
		if (n->first_child) {
			node = n->first_child;
			continue;
		}
		while (node && !a->nodes[node].next_sibling)
			node = a->nodes[node].parent;
		if (node)
			node = a->nodes[node].next_sibling;
	}
	free(lens);
	strbuf_release(&path);
	return lines;
}

static const struct cli_opt collapsed_opts[] = {
	{"", CLI_HEADING, NULL, "Differential:"},
	DIFF_OPT_ENTRIES,
	CLI_END,
};

static int collapsed_option(void *ctx, int code, const char *arg)
{
	return diff_option(ctx, code, arg);
}

static const char collapsed_synopsis[] =
	"collapsed [FILTERS] [--diff BASE [--base-from S] [--base-to S]] [-o FILE] SOURCE...";
static const char collapsed_description[] =
	"Write the samples as folded stacks (\"frame;frame;frame COUNT\", root first), one line\n"
	"per distinct stack, in py-spy's frame labels: input for flamegraph.pl, inferno and\n"
	"speedscope.  SOURCE is a capture file, '-' (a capture on standard input) or a\n"
	"database written by 'load'.\n"
	"\n"
	"With --diff BASE, two counts per line, \"stack BASE SOURCE\" (flamegraph.pl's\n"
	"differential input, as difffolded.pl -n writes it): BASE's counts, scaled to\n"
	"SOURCE's total, and SOURCE's; a stack only one side has is 0 on the other.";

int cmd_collapsed(int argc, char **argv)
{
	const struct cli_opt *const tables[4] = {collapsed_opts, filter_opts, report_output_opts,
						 cli_common_opts};
	struct diff_args base;
	struct report r;
	struct agg a;
	struct diff d;
	struct out o;
	int ret = EXIT_RUNTIME, show;

	memset(&base, 0, sizeof(base));
	report_parse(&r, argc, argv, tables, collapsed_synopsis, collapsed_description, collapsed_option,
		     &base);
	if ((base.has_from || base.has_to) && !base.base)
		usage_error("--base-from and --base-to need --diff BASE");
	memset(&a, 0, sizeof(a));
	memset(&d, 0, sizeof(d));
	if (out_open(&o, r.output) < 0) {
		report_close(&r);
		return EXIT_RUNTIME;
	}
	if (report_open(&r) < 0 ||
	    agg_run(&a, r.m, &r.f, (show = filter_show_processes(&r.f, r.m)), 0) < 0) {
		out_abort(&o);
		goto out;
	}
	agg_sort(&a);
	if (base.base && diff_open(&d, &a, &base, &r.f, show, 0) < 0) {
		out_abort(&o);
		goto out;
	}
	if (base.base)
		diff_collapsed_write(o.fp, &a, &d);
	else
		collapsed_write(o.fp, &a);
	if (out_close(&o) == 0)
		ret = EXIT_OK;
out:
	diff_release(&d);
	agg_release(&a);
	report_close(&r);
	return ret;
}
