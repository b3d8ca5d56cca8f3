/*
 * cmd_chrometrace.c - Chrome Trace Event JSON (docs/pyspy-analyze.1.md,
 * "chrometrace") for Perfetto (ui.perfetto.dev), chrome://tracing and
 * speedscope: a timeline, one track per thread, grouped by process.
 *
 * Samples become complete ("X") events the way a flame chart is drawn: a
 * frame opens at the first of consecutive samples of its thread that have
 * it at the same depth below the same callers, and closes when a sample
 * no longer has it.  A kept sample stands for the real time it weighs,
 * as in top and speedscope: samples.w, the time since the thread's
 * previous sample (of any kind), capped by the loader (docs/schema.md),
 * so it covers [t - w, t]; samples left out by the filters (idle, --gil)
 * and sampler stalls are gaps in the timeline.  Frames are told apart by
 * their label (filters --nolineno, --function, --qualname,
 * --full-filenames apply), so with --nolineno a function that moves from
 * line to line stays one event.  A partial sample's frames are under an
 * AGG_PARTIAL_LABEL frame, its root.
 *
 * Timestamps are microseconds since the start of the earliest selected
 * capture (or --from); otherData.start_time_unix_ns gives that instant.
 * Events are written as they close: memory is the open frames of each
 * thread, not the samples.
 */
#include "cmd_chrometrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "escape.h"
#include "hashmap.h"
#include "msg.h"
#include "out.h"
#include "pyspy_format.h"
#include "report.h"
#include "samples.h"
#include "strbuf.h"

#define CT_MAX_DEPTH 4096
/* In ct.path: the <partial> root frame, not a stack id. */
#define CT_PARTIAL UINT32_MAX

struct ct_open {
	uint32_t label;
	int64_t start;           /* ns on the common axis */
};

struct ct_thread {
	struct ct_open *open;
	uint32_t depth;
	unsigned long cap;
	int64_t last;            /* end (time) of the last kept sample, -1 = none */
	int pid;                 /* as written */
	int64_t tid;
	int seen;
	char ids[64];            /* ",\"pid\":P,\"tid\":T,\"ts\":" of its events */
	size_t ids_len;
};

struct ct {
	struct report *r;
	struct ct_thread *th;
	int *pid_of;             /* by process index: the pid written */
	char **short_files;
	/* Labels: JSON of "cat" and "name", and the args object, by label id. */
	char **name_json, **args_json;
	uint32_t nlabels;
	unsigned long cap_labels;
	struct idset lset;
	char **texts;
	struct u64map frame_label; /* frame << 32 | line -> label */
	struct strbuf tmp, obuf;
	uint32_t *path;          /* stack ids, leaf first; CT_PARTIAL = <partial> */
	unsigned long cap_path;
	uint32_t partial_label;  /* label of <partial>, 0 = not made yet */
	int64_t origin;
	uint64_t events;
};

static int text_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct ct *c = ctx;

	return strcmp(c->texts[id], key) == 0;
}

/* The label of (frame, line) under the filters; interned by its text. */
static uint32_t ct_label(struct ct *c, uint32_t frame, int32_t line)
{
	const struct model *m = c->r->m;
	const struct m_frame *fr = &m->frames[frame < m->nframes ? frame : 0];
	uint64_t key = (uint64_t)frame << 32 | (uint32_t)line, v, h;
	uint32_t id;
	struct strbuf sb;

	if (u64map_get(&c->frame_label, key, &v))
		return (uint32_t)v;
	strbuf_reset(&c->tmp);
	agg_frame_text(&c->tmp, m, &c->r->f, frame, line, 0, c->short_files);
	h = hash_bytes(c->tmp.buf, c->tmp.len);
	id = idset_find(&c->lset, h, text_eq, c, c->tmp.buf);
	if (!id) {
		id = ++c->nlabels;
		xgrow((void **)&c->texts, &c->cap_labels, (unsigned long)id + 1, sizeof(char *));
		c->name_json = xrealloc(c->name_json, c->cap_labels * sizeof(char *));
		c->args_json = xrealloc(c->args_json, c->cap_labels * sizeof(char *));
		c->texts[id] = xstrdup(c->tmp.buf);
		strbuf_init(&sb);
		strbuf_adds(&sb, fr->kind == PSF_FRAME_PYTHON   ? "\"cat\":\"python\",\"name\":"
				 : fr->kind == PSF_FRAME_NATIVE ? "\"cat\":\"native\",\"name\":"
								: "\"cat\":\"other\",\"name\":");
		json_string(&sb, c->tmp.buf);
		c->name_json[id] = strbuf_detach(&sb);
		/* args: the full path and line, for viewers that link to source */
		strbuf_adds(&sb, "{");
		if (fr->kind == PSF_FRAME_PYTHON && model_str(m, fr->file)) {
			strbuf_adds(&sb, "\"file\":");
			json_string(&sb, model_str(m, fr->file));
			if (line > 0 && !c->r->f.nolineno)
				strbuf_addf(&sb, ",\"line\":%d", c->r->f.function ? fr->firstline : line);
		} else if (fr->kind == PSF_FRAME_NATIVE && model_str(m, fr->file)) {
			strbuf_adds(&sb, "\"module\":");
			json_string(&sb, model_str(m, fr->file));
		}
		strbuf_adds(&sb, "}");
		c->args_json[id] = strbuf_detach(&sb);
		idset_add(&c->lset, h, id);
	}
	u64map_put(&c->frame_label, key, id);
	return id;
}

/* The label of the AGG_PARTIAL_LABEL root frame of partial samples. */
static uint32_t ct_partial_label(struct ct *c)
{
	struct strbuf sb;
	uint64_t h;
	uint32_t id;

	if (c->partial_label)
		return c->partial_label;
	h = hash_bytes(AGG_PARTIAL_LABEL, strlen(AGG_PARTIAL_LABEL));
	id = idset_find(&c->lset, h, text_eq, c, AGG_PARTIAL_LABEL);
	if (!id) {
		id = ++c->nlabels;
		xgrow((void **)&c->texts, &c->cap_labels, (unsigned long)id + 1, sizeof(char *));
		c->name_json = xrealloc(c->name_json, c->cap_labels * sizeof(char *));
		c->args_json = xrealloc(c->args_json, c->cap_labels * sizeof(char *));
		c->texts[id] = xstrdup(AGG_PARTIAL_LABEL);
		strbuf_init(&sb);
		strbuf_adds(&sb, "\"cat\":\"other\",\"name\":");
		json_string(&sb, AGG_PARTIAL_LABEL);
		c->name_json[id] = strbuf_detach(&sb);
		c->args_json[id] = xstrdup("{}");
		idset_add(&c->lset, h, id);
	}
	c->partial_label = id;
	return id;
}

/* Label of path entry s: a stack node's frame, or <partial>. */
static uint32_t ct_path_label(struct ct *c, uint32_t s)
{
	const struct model *m = c->r->m;

	if (s == CT_PARTIAL)
		return ct_partial_label(c);
	return ct_label(c, m->stack_frame[s], m->stack_line[s]);
}

/* ns as microseconds with 3 decimals, exactly. */
static void ct_us(struct strbuf *sb, int64_t ns)
{
	char tmp[32], *p = tmp + sizeof(tmp);
	uint64_t v = ns > 0 ? (uint64_t)ns : 0, frac = v % 1000, us = v / 1000;
	int i;

	for (i = 0; i < 3; i++) {
		*--p = (char)('0' + frac % 10);
		frac /= 10;
	}
	*--p = '.';
	do {
		*--p = (char)('0' + us % 10);
		us /= 10;
	} while (us);
	strbuf_add(sb, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void ct_flush(FILE *fp, struct ct *c, size_t at_least)
{
	if (c->obuf.len >= at_least) {
		fwrite(c->obuf.buf, 1, c->obuf.len, fp);
		strbuf_reset(&c->obuf);
	}
}

static void ct_event_start(struct ct *c)
{
	strbuf_adds(&c->obuf, c->events++ ? ",\n" : "\n");
}

/*
 * Close the open frames from depth `keep` up, all at time `at`, outermost
 * first: a caller and a callee with the same start and end are then
 * written caller first, which is how viewers nest equal X events.
 */
static void ct_close(FILE *fp, struct ct *c, struct ct_thread *t, uint32_t keep, int64_t at)
{
	uint32_t d;

	for (d = keep; d < t->depth; d++) {
		const struct ct_open *o = &t->open[d];
		int64_t dur = at > o->start ? at - o->start : 0;

		ct_event_start(c);
		strbuf_adds(&c->obuf, "{\"ph\":\"X\",");
		strbuf_adds(&c->obuf, c->name_json[o->label]);
		strbuf_add(&c->obuf, t->ids, t->ids_len);
		ct_us(&c->obuf, o->start);
		strbuf_adds(&c->obuf, ",\"dur\":");
		ct_us(&c->obuf, dur);
		strbuf_adds(&c->obuf, ",\"args\":");
		strbuf_adds(&c->obuf, c->args_json[o->label]);
		strbuf_addc(&c->obuf, '}');
		ct_flush(fp, c, 1 << 16);
	}
	if (keep < t->depth)
		t->depth = keep;
}

static void ct_sample(FILE *fp, struct ct *c, const struct sample *x)
{
	const struct model *m = c->r->m;
	const struct m_capture *cap = &m->captures[x->capture];
	struct ct_thread *t = &c->th[x->thread];
	/* The sample covers [at - w, at]: the time since the thread's previous one. */
	int64_t at = cap->start_wall_ns + x->t - c->origin, start = at - x->w;
	unsigned long n = 0;
	uint32_t st, d;

	/* The previous sample's time ended at its own; a gap follows it when
	 * this one is left out or covers less than the time since. */
	if (t->depth && (!x->keep || t->last < start))
		ct_close(fp, c, t, 0, t->last);
	if (!x->keep)
		return;
	t->seen = 1;
	if (start < t->last)
		start = t->last;
	if (start < 0)
		start = 0;
	if (start > at)
		start = at;
	for (st = x->stack; st && n < CT_MAX_DEPTH; st = m->stack_parent[st]) {
		xgrow((void **)&c->path, &c->cap_path, n + 2, sizeof(*c->path));
		c->path[n++] = st;
	}
	if (x->partial) {
		xgrow((void **)&c->path, &c->cap_path, n + 1, sizeof(*c->path));
		c->path[n++] = CT_PARTIAL;
	}
	/* path is leaf first: depth d is path[n - 1 - d] */
	for (d = 0; d < t->depth && d < n; d++)
		if (ct_path_label(c, c->path[n - 1 - d]) != t->open[d].label)
			break;
	ct_close(fp, c, t, d, start);
	xgrow((void **)&t->open, &t->cap, n + 1, sizeof(*t->open));
	for (; d < n; d++) {
		t->open[d].label = ct_path_label(c, c->path[n - 1 - d]);
		t->open[d].start = start;
	}
	t->depth = (uint32_t)n;
	t->last = at;
}

/* Pids as written: the real pid, unless two selected processes share it. */
static void ct_pids(struct ct *c)
{
	const struct model *m = c->r->m;
	int i, j, clash = 0;

	c->pid_of = xcalloc((unsigned long)m->nprocesses + 1, sizeof(int));
	for (i = 0; i < m->nprocesses && !clash; i++)
		for (j = i + 1; j < m->nprocesses; j++)
			if (m->processes[i].selected && m->processes[j].selected &&
			    m->processes[i].pid == m->processes[j].pid) {
				clash = 1;
				break;
			}
	for (i = 0; i < m->nprocesses; i++)
		c->pid_of[i] = clash ? i + 1 : (int)m->processes[i].pid;
}

static void ct_metadata(FILE *fp, struct ct *c)
{
	const struct model *m = c->r->m;
	char *pseen = xcalloc((unsigned long)m->nprocesses + 1, 1);
	struct strbuf name;
	int i;

	strbuf_init(&name);
	for (i = 0; i < m->nthreads; i++) {
		const struct m_thread *th = &m->threads[i];
		const struct m_process *p = &m->processes[th->process];
		const struct m_capture *cap = &m->captures[th->capture];
		struct ct_thread *t = &c->th[i];

		if (!t->seen)
			continue;
		if (!pseen[th->process]) {
			pseen[th->process] = 1;
			strbuf_reset(&name);
			strbuf_addf(&name, "%s (pid %lld%s%s)", p->cmdline && *p->cmdline ? p->cmdline : "python",
				    (long long)p->pid, cap->host ? " on " : "", cap->host ? cap->host : "");
			ct_event_start(c);
			strbuf_addf(&c->obuf, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":",
				    t->pid);
			json_string(&c->obuf, name.buf);
			strbuf_adds(&c->obuf, "}}");
			if (cap->host) {
				ct_event_start(c);
				strbuf_addf(&c->obuf,
					    "{\"ph\":\"M\",\"name\":\"process_labels\",\"pid\":%d,\"tid\":0,\"args\":{\"labels\":",
					    t->pid);
				json_string(&c->obuf, cap->host);
				strbuf_adds(&c->obuf, "}}");
			}
		}
		ct_event_start(c);
		strbuf_addf(&c->obuf, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%lld,\"args\":{\"name\":",
			    t->pid, (long long)t->tid);
		json_string(&c->obuf, th->name ? th->name : "");
		strbuf_adds(&c->obuf, "}}");
		/* main thread first, then by thread id */
		ct_event_start(c);
		strbuf_addf(&c->obuf,
			    "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":%d,\"tid\":%lld,\"args\":{\"sort_index\":%d}}",
			    t->pid, (long long)t->tid, th->is_main ? -1 : i);
		ct_flush(fp, c, 1 << 16);
	}
	strbuf_release(&name);
	free(pseen);
}

static int ct_run(FILE *fp, struct ct *c)
{
	struct model *m = c->r->m;
	const struct filter *f = &c->r->f;
	struct samples *it;
	struct sample x;
	char *title;
	int i, rc;

	c->origin = INT64_MAX;
	for (i = 0; i < m->ncaptures; i++)
		if (m->captures[i].selected && m->captures[i].start_wall_ns + f->from_ns < c->origin)
			c->origin = m->captures[i].start_wall_ns + f->from_ns;
	if (c->origin == INT64_MAX)
		c->origin = 0;
	ct_pids(c);
	for (i = 0; i < m->nthreads; i++) {
		const struct m_thread *th = &m->threads[i];
		struct ct_thread *t = &c->th[i];

		t->pid = c->pid_of[th->process];
		/* No OS tid known (2.7-3.10 without a native id): a stable stand-in. */
		t->tid = th->tid > 0 ? th->tid : (int64_t)(th->py_thread_id & 0x7fffffff);
		t->last = -1;
		/* (formatted once: printf per event was a third of the time) */
		t->ids_len = (size_t)snprintf(t->ids, sizeof(t->ids), ",\"pid\":%d,\"tid\":%lld,\"ts\":", t->pid,
					      (long long)t->tid);
	}
	fputs("{\"traceEvents\":[", fp);
	it = samples_open(m, f);
	if (!it)
		return -1;
	while ((rc = samples_next(it, &x)) > 0)
		ct_sample(fp, c, &x);
	samples_free(it);
	if (rc < 0)
		return -1;
	for (i = 0; i < m->nthreads; i++) {
		struct ct_thread *t = &c->th[i];

		if (t->depth)
			ct_close(fp, c, t, 0, t->last);
	}
	ct_metadata(fp, c);
	if (!c->events)
		warning("no samples match the filters; the trace is empty");
	title = report_title(m);
	strbuf_adds(&c->obuf, "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"exporter\":\"pyspy-analyze " PYSPY_VERSION
			      "\",\"title\":");
	json_string(&c->obuf, title);
	strbuf_addf(&c->obuf, ",\"start_time_unix_ns\":%lld}}\n", (long long)c->origin);
	ct_flush(fp, c, 0);
	free(title);
	return 0;
}

static const char ct_synopsis[] = "chrometrace [FILTERS] [-o FILE] SOURCE...";
static const char ct_description[] =
	"Write a Chrome Trace Event JSON timeline for Perfetto (ui.perfetto.dev),\n"
	"chrome://tracing or speedscope: one track per thread, grouped by process, with\n"
	"complete events for runs of consecutive samples sharing a frame, at their real\n"
	"times (microseconds since the earliest capture start, or --from).  A sample lasts\n"
	"the real time it stands for, as in top: from its thread's previous sample (capped)\n"
	"to itself; samples left out by the filters are gaps.  A partial sample's frames\n"
	"are under a '<partial>' root frame (--no-partial leaves them out).  Threads and\n"
	"processes are tracks, so --threads and --processes add nothing here.";

int cmd_chrometrace(int argc, char **argv)
{
	const struct cli_opt *const tables[4] = {filter_opts, report_output_opts, cli_common_opts, NULL};
	struct report r;
	struct ct c;
	struct out o;
	int ret = EXIT_RUNTIME;
	uint32_t i;

	report_parse(&r, argc, argv, tables, ct_synopsis, ct_description, NULL, NULL);
	memset(&c, 0, sizeof(c));
	c.r = &r;
	idset_init(&c.lset);
	u64map_init(&c.frame_label);
	strbuf_init(&c.tmp);
	strbuf_init(&c.obuf);
	if (out_open(&o, r.output) < 0) {
		report_close(&r);
		return EXIT_RUNTIME;
	}
	if (report_open(&r) < 0) {
		out_abort(&o);
		goto done;
	}
	c.th = xcalloc((unsigned long)r.m->nthreads + 1, sizeof(*c.th));
	c.short_files = xcalloc((unsigned long)r.m->nstrings + 1, sizeof(char *));
	if (ct_run(o.fp, &c) < 0) {
		out_abort(&o);
		goto done;
	}
	if (out_close(&o) == 0)
		ret = EXIT_OK;
done:
	if (c.th)
		for (i = 0; i < (uint32_t)r.m->nthreads; i++)
			free(c.th[i].open);
	if (c.short_files)
		for (i = 0; i <= r.m->nstrings; i++)
			free(c.short_files[i]);
	for (i = 1; i <= c.nlabels; i++) {
		free(c.texts[i]);
		free(c.name_json[i]);
		free(c.args_json[i]);
	}
	free(c.texts);
	free(c.name_json);
	free(c.args_json);
	free(c.short_files);
	free(c.th);
	free(c.pid_of);
	free(c.path);
	idset_release(&c.lset);
	u64map_release(&c.frame_label);
	strbuf_release(&c.tmp);
	strbuf_release(&c.obuf);
	report_close(&r);
	return ret;
}
