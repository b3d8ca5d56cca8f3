/*
 * cmd_collapsed.c - folded stacks for flamegraph.pl, inferno, speedscope
 * (docs/pyspy-analyze.1.md, "collapsed").
 */
#include "cmd_collapsed.h"

#include <stdlib.h>
#include <string.h>

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

static const char collapsed_synopsis[] = "collapsed [FILTERS] [-o FILE] SOURCE...";
static const char collapsed_description[] =
	"Write the samples as folded stacks (\"frame;frame;frame COUNT\", root first), one line\n"
	"per distinct stack, in py-spy's frame labels: input for flamegraph.pl, inferno and\n"
	"speedscope.  SOURCE is a capture file, '-' (a capture on standard input) or a\n"
	"database written by 'load'.";

int cmd_collapsed(int argc, char **argv)
{
	const struct cli_opt *const tables[4] = {filter_opts, report_output_opts, cli_common_opts, NULL};
	struct report r;
	struct agg a;
	struct out o;
	int ret = EXIT_RUNTIME;

	report_parse(&r, argc, argv, tables, collapsed_synopsis, collapsed_description, NULL, NULL);
	memset(&a, 0, sizeof(a));
	if (out_open(&o, r.output) < 0) {
		report_close(&r);
		return EXIT_RUNTIME;
	}
	if (report_open(&r) < 0 ||
	    agg_run(&a, r.m, &r.f, filter_show_processes(&r.f, r.m), 0) < 0) {
		out_abort(&o);
		goto out;
	}
	agg_sort(&a);
	collapsed_write(o.fp, &a);
	if (out_close(&o) == 0)
		ret = EXIT_OK;
out:
	agg_release(&a);
	report_close(&r);
	return ret;
}
