/*
 * diff.c - SOURCE's call tree against BASE's (diff.h).
 */
#include "diff.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "hashmap.h"
#include "cli.h"
#include "msg.h"
#include "source.h"
#include "strbuf.h"

static int label_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct agg *a = ctx;

	return strcmp(a->labels[id], key) == 0;
}

int diff_option(struct diff_args *a, int code, const char *arg)
{
	switch (code) {
	case CLI_DIFF:
		a->base = arg;
		return 1;
	case CLI_BASE_FROM:
		a->from_ns = (int64_t)(cli_seconds("--base-from", arg) * 1e9 + 0.5);
		a->has_from = 1;
		return 1;
	case CLI_BASE_TO:
		a->to_ns = (int64_t)(cli_seconds("--base-to", arg) * 1e9 + 0.5);
		a->has_to = 1;
		return 1;
	default:
		return 0;
	}
}

int diff_open(struct diff *d, const struct agg *src, const struct diff_args *args,
	      const struct filter *f, int show_processes, int line_mode)
{
	char *paths[1];
	sqlite3 *db = NULL;
	struct idset names;      /* BASE's labels by text */
	uint32_t *label_map = NULL, i;
	int ret = -1;

	memset(d, 0, sizeof(*d));
	idset_init(&names);
	if ((args->has_from || args->has_to) && !args->base)
		usage_error("--base-from and --base-to need --diff BASE");
	d->f = *f;
	if (args->has_from) {
		d->f.from_ns = args->from_ns;
		d->f.has_from = 1;
	}
	if (args->has_to) {
		d->f.to_ns = args->to_ns;
		d->f.has_to = 1;
	}
	paths[0] = xstrdup(args->base);
	if (source_open(&db, paths, 1) < 0)
		goto out;
	d->db = db;
	d->m = model_load(db);
	if (!d->m || filter_select(&d->f, d->m) < 0)
		goto out;
	if (agg_run(&d->base, d->m, &d->f, show_processes, line_mode) < 0)
		goto out;
	for (i = 1; i < d->base.nlabels; i++)
		idset_add(&names, hash_bytes(d->base.labels[i], strlen(d->base.labels[i])), i);
	/* SOURCE label -> BASE label with the same text (0: none) */
	label_map = xcalloc(src->nlabels + 1, sizeof(*label_map));
	for (i = 1; i < src->nlabels; i++)
		label_map[i] = idset_find(&names, hash_bytes(src->labels[i], strlen(src->labels[i])), label_eq,
					  &d->base, src->labels[i]);
	d->base_of = xcalloc(src->nnodes + 1, sizeof(*d->base_of));
	d->matched = xcalloc(d->base.nnodes + 1, 1);
	d->matched[0] = 1;
	/* Nodes are created after their parent, so parents are matched first. */
	for (i = 1; i < src->nnodes; i++) {
		const struct agg_node *n = &src->nodes[i];
		uint32_t bp = d->base_of[n->parent], bl = label_map[n->label];
		uint64_t v;

		if ((n->parent && !bp) || !bl)
			continue;
		if (u64map_get(&d->base.children, (uint64_t)bp << 32 | bl, &v)) {
			d->base_of[i] = (uint32_t)v;
			d->matched[v] = 1;
		}
	}
	d->src_all = src->nodes[0].total;
	d->base_all = d->base.nnodes ? d->base.nodes[0].total : 0;
	for (i = 1; i < src->nnodes; i++) {
		double c = fabs(diff_change(d, src, i));

		if (c > d->max_change)
			d->max_change = c;
	}
	agg_sort(&d->base);
	ret = 0;
out:
	free(paths[0]);
	free(label_map);
	idset_release(&names);
	return ret;
}

void diff_release(struct diff *d)
{
	if (!d)
		return;
	agg_release(&d->base);
	model_free(d->m);
	db_close(d->db);
	free(d->base_of);
	free(d->matched);
	memset(d, 0, sizeof(*d));
}

double diff_change(const struct diff *d, const struct agg *src, uint32_t node)
{
	double s = d->src_all ? (double)src->nodes[node].total / (double)d->src_all : 0;
	uint32_t b = d->base_of ? d->base_of[node] : 0;
	double bs = b && d->base_all ? (double)d->base.nodes[b].total / (double)d->base_all : 0;

	return s - bs;
}

/* BASE's count scaled to SOURCE's total (difffolded.pl -n). */
static uint64_t scaled(const struct diff *d, uint64_t n)
{
	if (!d->base_all)
		return 0;
	return (uint64_t)llround((double)n * (double)d->src_all / (double)d->base_all);
}

/*
 * Depth-first walk of tree a, writing "path BASE SOURCE" for each node with
 * samples of its own (in either tree); is_base: BASE's tree, only the nodes
 * no SOURCE node has.
 */
static uint64_t walk(FILE *fp, const struct agg *a, const struct agg *src, const struct diff *d, int is_base)
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
		if (!is_base) {
			uint32_t b = d->base_of[node];
			uint64_t bn = b ? scaled(d, d->base.nodes[b].self) : 0;

			if (n->self || bn) {
				fwrite(path.buf, 1, path.len, fp);
				fprintf(fp, " %llu %llu\n", (unsigned long long)bn, (unsigned long long)n->self);
				lines++;
			}
		} else if (is_base && n->self && !d->matched[node]) {
			uint64_t b = scaled(d, n->self);

			/* (a stack too rare to survive the scaling has nothing to show) */
			if (b) {
				fwrite(path.buf, 1, path.len, fp);
				fprintf(fp, " %llu 0\n", (unsigned long long)b);
				lines++;
			}
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
	(void)src;
	free(lens);
	strbuf_release(&path);
	return lines;
}

uint64_t diff_collapsed_write(FILE *fp, const struct agg *src, const struct diff *d)
{
	return walk(fp, src, src, d, 0) + walk(fp, &d->base, src, d, 1);
}
