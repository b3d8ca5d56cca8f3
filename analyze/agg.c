/*
 * agg.c - scan samples, aggregate by stack, build the labelled call tree
 * (agg.h).
 */
#include "agg.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "label.h"
#include "msg.h"
#include "pyspy_format.h"

/* ------------------------------------------------------------ labels */

static int label_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct agg *a = ctx;

	return strcmp(a->labels[id], key) == 0;
}

static uint32_t intern_label(struct agg *a, const char *text, int kind)
{
	uint64_t h = hash_bytes(text, strlen(text)) ^ (uint64_t)kind;
	uint32_t id = idset_find(&a->label_set, h, label_eq, a, text);

	if (id && a->label_kind[id] == kind)
		return id;
	if (id) {
		/* Same text, different kind (a function named like a pseudo-frame):
		 * keep them apart with a distinct hash. */
		h = hash_combine(h, 0x5bd1e995);
		id = idset_find(&a->label_set, h, label_eq, a, text);
		if (id && a->label_kind[id] == kind)
			return id;
	}
	xgrow((void **)&a->labels, &a->cap_labels, (unsigned long)a->nlabels + 1, sizeof(char *));
	a->label_kind = xrealloc(a->label_kind, a->cap_labels);
	id = a->nlabels++;
	a->labels[id] = xstrdup(text);
	a->label_kind[id] = (uint8_t)kind;
	idset_add(&a->label_set, h, id);
	return id;
}

const char *agg_short_file(const struct model *m, uint32_t file, int full, char **short_files)
{
	const char *path = model_str(m, file);

	if (!path || full || !short_files)
		return path;
	if (!short_files[file]) {
		struct strbuf sb;

		strbuf_init(&sb);
		label_short_filename(&sb, path, 1);
		short_files[file] = strbuf_detach(&sb);
	}
	return short_files[file];
}

void agg_frame_text(struct strbuf *out, const struct model *m, const struct filter *f,
		    uint32_t frame, int32_t line, int line_mode, char **short_files)
{
	const struct m_frame *fr = &m->frames[frame < m->nframes ? frame : 0];
	const char *name = model_str(m, f->qualname && fr->qualname ? fr->qualname : fr->name);
	const char *file = agg_short_file(m, fr->file, f->full_filenames, short_files);
	int64_t l;

	if (fr->kind == PSF_FRAME_SYNTHETIC) {
		label_clean(out, name ? name : "?");
		return;
	}
	if (fr->kind == PSF_FRAME_NATIVE) {
		const char *mod = model_str(m, fr->file);
		const char *slash = mod ? strrchr(mod, '/') : NULL;

		label_frame(out, name ? name : "??", f->full_filenames || !slash ? mod : slash + 1, 0);
		return;
	}
	if (line_mode == 1 || f->nolineno)
		l = 0;
	else if (f->function)
		l = fr->firstline;
	else
		l = line;
	label_frame(out, name, file, l);
}

static uint32_t frame_label(struct agg *a, uint32_t frame, int32_t line, struct strbuf *tmp)
{
	uint64_t key = (uint64_t)frame << 32 | (uint32_t)line, v;

	if (u64map_get(&a->frame_labels, key, &v))
		return (uint32_t)v;
	strbuf_reset(tmp);
	agg_frame_text(tmp, a->m, a->f, frame, line, a->line_mode, a->short_files);
	v = intern_label(a, tmp->buf, AGG_FRAME);
	u64map_put(&a->frame_labels, key, v);
	return (uint32_t)v;
}

/* ------------------------------------------------------------ tree */

static uint32_t child(struct agg *a, uint32_t parent, uint32_t label)
{
	uint64_t key = (uint64_t)parent << 32 | label;
	int created;
	uint64_t *slot = u64map_slot(&a->children, key, &created);
	struct agg_node *n;

	if (!created)
		return (uint32_t)*slot;
	if (a->nnodes >= 0xfffffff0u)
		die("too many distinct stacks");
	xgrow((void **)&a->nodes, &a->cap_nodes, (unsigned long)a->nnodes + 1, sizeof(*a->nodes));
	n = &a->nodes[a->nnodes];
	memset(n, 0, sizeof(*n));
	n->parent = parent;
	n->label = label;
	n->depth = a->nodes[parent].depth + 1;
	*slot = a->nnodes;
	return a->nnodes++;
}

/* The node of the group's pseudo-frames (process chain, thread). */
static uint32_t group_node(struct agg *a, int group_is_thread, uint32_t group, struct strbuf *tmp)
{
	const struct model *m = a->m;
	uint32_t node = 0;

	if (!group_is_thread)
		return 0;
	{
		const struct m_thread *t = &m->threads[group];

		if (a->show_processes) {
			int chain[64], n = 0, p = t->process;

			/* Root of the tree outermost; bounded depth. */
			while (p >= 0 && n < 64) {
				chain[n++] = p;
				p = m->processes[p].parent;
			}
			while (n-- > 0) {
				const struct m_process *pr = &m->processes[chain[n]];

				strbuf_reset(tmp);
				label_process(tmp, pr->pid, pr->cmdline);
				node = child(a, node, intern_label(a, tmp->buf, AGG_PROCESS));
			}
		}
		if (a->f->threads) {
			strbuf_reset(tmp);
			label_thread(tmp, t->tid, t->py_thread_id, t->name);
			node = child(a, node, intern_label(a, tmp->buf, AGG_THREAD));
		}
	}
	return node;
}

/* Node of (prefix, stack): walk up the trie to a memoised ancestor. */
static uint32_t stack_node(struct agg *a, uint32_t prefix, uint32_t stack, uint32_t **path,
			   unsigned long *cap, struct strbuf *tmp)
{
	const struct model *m = a->m;
	unsigned long n = 0;
	uint32_t node = prefix, s = stack;
	uint64_t v;

	while (s) {
		if (u64map_get(&a->memo, (uint64_t)prefix << 32 | s, &v)) {
			node = (uint32_t)v;
			break;
		}
		xgrow((void **)path, cap, n + 1, sizeof(**path));
		(*path)[n++] = s;
		s = m->stack_parent[s];
	}
	while (n-- > 0) {
		uint32_t st = (*path)[n];

		node = child(a, node, frame_label(a, m->stack_frame[st], m->stack_line[st], tmp));
		u64map_put(&a->memo, (uint64_t)prefix << 32 | st, node);
	}
	return node;
}

/* ------------------------------------------------------------ scan */

#define AGG_KEY_PARTIAL 0x80000000u

static int scan(struct agg *a, struct u64map *counts, struct u64map *weights, int group_is_thread)
{
	struct model *m = a->m;
	const struct filter *f = a->f;
	struct agg_stats *s = &a->stats;
	sqlite3_stmt *st;
	char *seen_thread = xcalloc((unsigned long)m->nthreads + 1, 1);
	int ci, rc = SQLITE_DONE, ret = -1;

	/*
	 * The hot loop of every report: a rowid range scan per capture, only
	 * the columns needed, the time window in SQL only when one is given.
	 */
	st = db_prepare(m->db, f->has_from || f->has_to
				       ? "SELECT thread, stack, flags, w FROM samples"
					 " WHERE id BETWEEN ?1 AND ?2 AND t BETWEEN ?3 AND ?4"
				       : "SELECT thread, stack, flags, w FROM samples"
					 " WHERE id BETWEEN ?1 AND ?2");
	if (!st)
		goto out;
	for (ci = 0; ci < m->ncaptures; ci++) {
		const struct m_capture *c = &m->captures[ci];

		if (!c->selected || c->sample_last < c->sample_first || !c->sample_first)
			continue;
		sqlite3_bind_int64(st, 1, c->sample_first);
		sqlite3_bind_int64(st, 2, c->sample_last);
		if (f->has_from || f->has_to) {
			sqlite3_bind_int64(st, 3, f->from_ns);
			sqlite3_bind_int64(st, 4, f->to_ns);
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int ti = model_thread(m, sqlite3_column_int64(st, 0));
			int64_t stack = sqlite3_column_int64(st, 1);
			int64_t flags = sqlite3_column_int64(st, 2);
			int64_t w = sqlite3_column_int64(st, 3);
			int idle;
			uint64_t key, *slot;

			/* A sample of another capture in the range: a damaged database. */
			if (ti < 0 || !m->threads[ti].selected || m->threads[ti].capture != ci)
				continue;
			if (stack < 0 || stack >= m->nstacks)
				stack = 0;
			s->seen++;
			seen_thread[ti] = 1;
			if (flags & PSF_SF_GIL)
				s->gil++;
			if (flags & PSF_SF_PARTIAL)
				s->partial++;
			idle = (flags & PSF_SF_IDLE) || model_stack_idle_leaf(m, (uint32_t)stack);
			if (idle)
				s->idle++;
			if ((f->gil && !(flags & PSF_SF_GIL)) || (!f->idle && idle) ||
			    (f->no_partial && (flags & PSF_SF_PARTIAL)))
				continue;
			s->kept++;
			/* bit 31 of the group (thread or capture index) marks partial */
			key = (uint64_t)(group_is_thread ? (uint32_t)ti : (uint32_t)ci) << 32 | (uint32_t)stack;
			if (flags & PSF_SF_PARTIAL)
				key |= (uint64_t)AGG_KEY_PARTIAL << 32;
			slot = u64map_slot(counts, key, NULL);
			(*slot)++;
			slot = u64map_slot(weights, key, NULL);
			*slot += w > 0 ? (uint64_t)w : 0;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			break;
	}
	if (rc != SQLITE_DONE) {
		db_error(m->db, "cannot read");
		goto out;
	}
	for (ci = 0; ci < m->nthreads; ci++)
		s->threads += seen_thread[ci];
	ret = 0;
out:
	sqlite3_finalize(st);
	free(seen_thread);
	return ret;
}

int agg_run(struct agg *a, struct model *m, const struct filter *f, int show_processes,
	    int line_mode)
{
	struct u64map counts, weights;
	struct strbuf tmp;
	uint32_t *path = NULL;
	unsigned long cap = 0;
	size_t i;
	int group_is_thread = f->threads || show_processes;
	int ret = -1;

	memset(a, 0, sizeof(*a));
	a->m = m;
	a->f = f;
	a->show_processes = show_processes;
	a->line_mode = line_mode;
	idset_init(&a->label_set);
	u64map_init(&a->children);
	u64map_init(&a->memo);
	u64map_init(&a->frame_labels);
	u64map_init(&counts);
	u64map_init(&weights);
	strbuf_init(&tmp);
	a->short_files = xcalloc(m->nstrings + 1, sizeof(char *));
	/* label 0 = none; the root node is labelled "all" */
	xgrow((void **)&a->labels, &a->cap_labels, 1, sizeof(char *));
	a->label_kind = xcalloc(a->cap_labels, 1);
	a->labels[0] = NULL;
	a->nlabels = 1;
	xgrow((void **)&a->nodes, &a->cap_nodes, 1, sizeof(*a->nodes));
	memset(&a->nodes[0], 0, sizeof(a->nodes[0]));
	a->nnodes = 1;
	a->nodes[0].label = intern_label(a, "all", AGG_FRAME);

	if (scan(a, &counts, &weights, group_is_thread) < 0)
		goto out;
	for (i = 0; i < counts.cap; i++) {
		uint64_t key = counts.keys[i], n = counts.vals[i];
		uint32_t group, stack, node;
		uint64_t w = 0;
		double secs;
		int partial;

		if (key == U64MAP_EMPTY)
			continue;
		group = (uint32_t)(key >> 32);
		partial = (group & AGG_KEY_PARTIAL) != 0;
		group &= ~AGG_KEY_PARTIAL;
		stack = (uint32_t)key;
		/* Real time: the sum of the samples' weights, never n / rate. */
		u64map_get(&weights, key, &w);
		secs = (double)w / 1e9;
		a->stats.kept_s += secs;
		if (!stack && !partial) {
			a->stats.empty += n;
			a->stats.empty_s += secs;
			continue;
		}
		node = group_node(a, group_is_thread, group, &tmp);
		if (partial)
			node = child(a, node, intern_label(a, AGG_PARTIAL_LABEL, AGG_PARTIAL));
		node = stack_node(a, node, stack, &path, &cap, &tmp);
		a->nodes[node].self += n;
		a->nodes[node].self_s += secs;
	}
	/* Children are created after their parent: accumulate in reverse. */
	for (i = a->nnodes; i-- > 0;) {
		struct agg_node *n = &a->nodes[i];

		n->total += n->self;
		n->total_s += n->self_s;
		if (i)
			a->nodes[n->parent].total += n->total, a->nodes[n->parent].total_s += n->total_s;
	}
	ret = 0;
out:
	u64map_release(&counts);
	u64map_release(&weights);
	strbuf_release(&tmp);
	free(path);
	return ret;
}

static const struct agg *sort_ctx;

static int cmp_nodes(const void *x, const void *y)
{
	const struct agg_node *a = &sort_ctx->nodes[*(const uint32_t *)x];
	const struct agg_node *b = &sort_ctx->nodes[*(const uint32_t *)y];
	int c;

	if (a->parent != b->parent)
		return a->parent < b->parent ? -1 : 1;
	c = strcmp(sort_ctx->labels[a->label], sort_ctx->labels[b->label]);
	if (c)
		return c;
	return a->label < b->label ? -1 : a->label > b->label;
}

void agg_sort(struct agg *a)
{
	uint32_t *order, i;

	if (a->nnodes <= 1)
		return;
	order = xmalloc((unsigned long)(a->nnodes - 1) * sizeof(*order));
	for (i = 1; i < a->nnodes; i++)
		order[i - 1] = i;
	sort_ctx = a;
	qsort(order, a->nnodes - 1, sizeof(*order), cmp_nodes);
	sort_ctx = NULL;
	for (i = 0; i < a->nnodes; i++)
		a->nodes[i].first_child = a->nodes[i].next_sibling = 0;
	/* Link in reverse so each list ends up in sorted order. */
	for (i = a->nnodes - 1; i-- > 0;) {
		struct agg_node *n = &a->nodes[order[i]];

		n->next_sibling = a->nodes[n->parent].first_child;
		a->nodes[n->parent].first_child = order[i];
	}
	free(order);
}

void agg_release(struct agg *a)
{
	uint32_t i;

	if (!a)
		return;
	for (i = 0; i < a->nlabels; i++)
		free(a->labels[i]);
	if (a->short_files && a->m)
		for (i = 0; i <= a->m->nstrings; i++)
			free(a->short_files[i]);
	free(a->short_files);
	free(a->labels);
	free(a->label_kind);
	free(a->nodes);
	idset_release(&a->label_set);
	u64map_release(&a->children);
	u64map_release(&a->memo);
	u64map_release(&a->frame_labels);
	memset(a, 0, sizeof(*a));
}
