/*
 * cmd_speedscope.c - speedscope JSON (docs/pyspy-analyze.1.md,
 * "speedscope").
 *
 * One "sampled" profile per thread, in py-spy's shape, but with real time:
 *  - samples are in time order and each weighs the real time (seconds)
 *    it stands for: samples.w, the time since the thread's previous
 *    sample, capped by the loader (docs/schema.md), so a sample covers
 *    [t - w, t] on the time axis;
 *  - time not covered by a shown sample (idle samples filtered out, the
 *    thread not existing yet, sampler stalls) is an empty sample "[]" of
 *    that duration, so speedscope's time-order view is true time, and all
 *    profiles share one time origin: the start of the earliest selected
 *    capture (wall clock), or --from.
 * Evented profiles could carry the same information but are several times
 * larger; speedscope treats an empty sample as time with no frames.
 */
#include "cmd_speedscope.h"

#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "db.h"
#include "escape.h"
#include "hashmap.h"
#include "label.h"
#include "msg.h"
#include "out.h"
#include "pyspy_format.h"
#include "report.h"

/* In ss_thread.stack: the sample is partial, shown under AGG_PARTIAL_LABEL. */
#define SS_PARTIAL 0x80000000u

struct ss_thread {
	int64_t *t;
	int64_t *w;              /* weights (ns) */
	uint32_t *stack;
	uint8_t *keep;
	size_t n;
	unsigned long cap;
	uint64_t kept;
};

struct ss {
	struct report *r;
	struct ss_thread *th;    /* by thread index */
	struct strbuf frames;    /* JSON of shared.frames entries */
	uint32_t nframes;
	uint32_t *text_off, *text_len; /* by stack id: its text in pool (len 0: none yet) */
	struct strbuf pool;      /* "[1,2,3]" texts, back to back */
	struct strbuf obuf;      /* the samples and weights on their way out */
	uint32_t *path;
	unsigned long cap_path;
	struct idset fr_set;
	struct ss_fkey *fkeys;
	unsigned long cap_fkeys;
	uint32_t partial_frame;  /* 1 + index of the "<partial>" frame; 0 = none yet */
};

struct ss_fkey {
	uint32_t name, file;
	int32_t line;
};

static int fkey_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct ss *s = ctx;
	const struct ss_fkey *a = &s->fkeys[id], *b = key;

	return a->name == b->name && a->file == b->file && a->line == b->line;
}

/* Index in shared.frames of (frame, line), adding it when new. */
static uint32_t ss_frame(struct ss *s, uint32_t frame, int32_t line)
{
	const struct model *m = s->r->m;
	const struct filter *f = &s->r->f;
	const struct m_frame *fr = &m->frames[frame < m->nframes ? frame : 0];
	struct ss_fkey k;
	uint64_t h;
	uint32_t id;

	k.name = f->qualname && fr->qualname ? fr->qualname : fr->name;
	k.file = fr->kind == PSF_FRAME_SYNTHETIC ? 0 : fr->file;
	if (f->nolineno || fr->kind != PSF_FRAME_PYTHON)
		k.line = 0;
	else if (f->function)
		k.line = fr->firstline;
	else
		k.line = line > 0 ? line : 0;
	h = hash_combine(hash_combine(hash_u64(k.name), k.file), (uint32_t)k.line);
	id = idset_find(&s->fr_set, h, fkey_eq, s, &k);
	if (id)
		return id - 1;
	id = ++s->nframes;
	xgrow((void **)&s->fkeys, &s->cap_fkeys, (unsigned long)id + 1, sizeof(*s->fkeys));
	s->fkeys[id] = k;
	idset_add(&s->fr_set, h, id);
	if (id > 1)
		strbuf_addc(&s->frames, ',');
	strbuf_adds(&s->frames, "{\"name\":");
	json_string(&s->frames, model_str(m, k.name) ? model_str(m, k.name) : "?");
	if (k.file) {
		strbuf_adds(&s->frames, ",\"file\":");
		json_string(&s->frames, model_str(m, k.file));
	}
	if (k.line > 0)
		strbuf_addf(&s->frames, ",\"line\":%d", k.line);
	strbuf_addc(&s->frames, '}');
	return id - 1;
}

/* Index in shared.frames of a new pseudo-frame (a thread) named text. */
static uint32_t ss_pseudo_frame(struct ss *s, const char *text)
{
	uint32_t id = ++s->nframes;

	/* keep fkeys indexed like the frames; this entry never matches a key */
	xgrow((void **)&s->fkeys, &s->cap_fkeys, (unsigned long)id + 1, sizeof(*s->fkeys));
	s->fkeys[id].name = UINT32_MAX;
	s->fkeys[id].file = UINT32_MAX;
	s->fkeys[id].line = -1;
	if (id > 1)
		strbuf_addc(&s->frames, ',');
	strbuf_adds(&s->frames, "{\"name\":");
	json_string(&s->frames, text);
	strbuf_addc(&s->frames, '}');
	return id - 1;
}

/* Index in shared.frames of the synthetic root of partial samples. */
static uint32_t ss_partial_frame(struct ss *s)
{
	/* a pseudo-frame: no model frame can collide with it */
	if (!s->partial_frame)
		s->partial_frame = ss_pseudo_frame(s, AGG_PARTIAL_LABEL) + 1;
	return s->partial_frame - 1;
}

/*
 * Add "[i,j,k]" for a stack, root first, to obuf; built once per stack.
 * A partial one (SS_PARTIAL) gets the "<partial>" frame as its root.
 */
static void ss_stack(struct ss *s, uint32_t stack)
{
	const struct model *m = s->r->m;
	size_t off;
	unsigned long n = 0;
	uint32_t st;

	if (stack & SS_PARTIAL) {
		stack &= ~SS_PARTIAL;
		strbuf_addf(&s->obuf, "[%u", ss_partial_frame(s));
		if (!stack) {
			strbuf_addc(&s->obuf, ']');
			return;
		}
		strbuf_addc(&s->obuf, ',');
		ss_stack(s, stack);
		/* "[P," + "[i,j]" -> "[P,i,j]" */
		memmove(s->obuf.buf + s->obuf.len - s->text_len[stack],
			s->obuf.buf + s->obuf.len - s->text_len[stack] + 1, s->text_len[stack] - 1);
		s->obuf.len--;
		s->obuf.buf[s->obuf.len] = 0;
		return;
	}
	if (s->text_len[stack]) {
		strbuf_add(&s->obuf, s->pool.buf + s->text_off[stack], s->text_len[stack]);
		return;
	}
	for (st = stack; st; st = m->stack_parent[st]) {
		xgrow((void **)&s->path, &s->cap_path, n + 1, sizeof(*s->path));
		s->path[n++] = st;
	}
	off = s->pool.len;
	strbuf_addc(&s->pool, '[');
	while (n-- > 0) {
		uint32_t x = s->path[n];

		strbuf_addf(&s->pool, "%u%s", ss_frame(s, m->stack_frame[x], m->stack_line[x]),
			    n ? "," : "");
	}
	strbuf_addc(&s->pool, ']');
	/* (the pool stays below STRBUF_MAX, 1 GiB: 32 bits hold it) */
	s->text_off[stack] = (uint32_t)off;
	s->text_len[stack] = (uint32_t)(s->pool.len - off);
	strbuf_add(&s->obuf, s->pool.buf + off, s->pool.len - off);
}

/*
 * Add ns as seconds, exactly: up to 9 decimals, trailing zeros dropped.
 * (Formatting by hand instead of fprintf "%.9g" took a 10 M-sample
 * speedscope from about 6.5 s to about 4 s.)
 */
static void ss_seconds(struct strbuf *sb, int64_t ns)
{
	char tmp[32], *p = tmp + sizeof(tmp);
	uint64_t v = ns > 0 ? (uint64_t)ns : 0, frac = v % 1000000000u, sec = v / 1000000000u;
	int digits = 9;

	if (frac) {
		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		while (digits-- > 0) {
			*--p = (char)('0' + frac % 10);
			frac /= 10;
		}
		*--p = '.';
	}
	do {
		*--p = (char)('0' + sec % 10);
		sec /= 10;
	} while (sec);
	strbuf_add(sb, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* Write obuf out once it holds enough to be worth a write. */
static void ss_flush(FILE *fp, struct ss *s, size_t at_least)
{
	if (s->obuf.len >= at_least) {
		fwrite(s->obuf.buf, 1, s->obuf.len, fp);
		strbuf_reset(&s->obuf);
	}
}

static int ss_scan(struct ss *s)
{
	struct model *m = s->r->m;
	const struct filter *f = &s->r->f;
	sqlite3_stmt *st = db_prepare(m->db, "SELECT thread, stack, flags, t, w FROM samples"
					     " WHERE id BETWEEN ?1 AND ?2 AND t BETWEEN ?3 AND ?4"
					     " AND capture = ?5");
	int ci, rc = SQLITE_DONE;

	if (!st)
		return -1;
	for (ci = 0; ci < m->ncaptures; ci++) {
		const struct m_capture *c = &m->captures[ci];

		if (!c->selected || !c->sample_first || c->sample_last < c->sample_first)
			continue;
		sqlite3_bind_int64(st, 1, c->sample_first);
		sqlite3_bind_int64(st, 2, c->sample_last);
		sqlite3_bind_int64(st, 3, f->from_ns);
		sqlite3_bind_int64(st, 4, f->to_ns);
		sqlite3_bind_int64(st, 5, c->id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int ti = model_thread(m, sqlite3_column_int64(st, 0));
			int64_t stack = sqlite3_column_int64(st, 1);
			int64_t flags = sqlite3_column_int64(st, 2);
			struct ss_thread *t;
			int idle, keep;

			if (ti < 0 || !m->threads[ti].selected)
				continue;
			if (stack < 0 || stack >= m->nstacks)
				stack = 0;
			idle = (flags & PSF_SF_IDLE) || model_stack_idle_leaf(m, (uint32_t)stack);
			/* a partial sample without frames still shows, as <partial> */
			keep = (stack || (flags & PSF_SF_PARTIAL)) && !(f->gil && !(flags & PSF_SF_GIL)) &&
			       !(!f->idle && idle) && !(f->no_partial && (flags & PSF_SF_PARTIAL));
			t = &s->th[ti];
			if (t->n == t->cap) {
				unsigned long c2 = t->cap;

				xgrow((void **)&t->t, &c2, t->n + 1, sizeof(*t->t));
				c2 = t->cap;
				xgrow((void **)&t->w, &c2, t->n + 1, sizeof(*t->w));
				c2 = t->cap;
				xgrow((void **)&t->stack, &c2, t->n + 1, sizeof(*t->stack));
				c2 = t->cap;
				xgrow((void **)&t->keep, &c2, t->n + 1, sizeof(*t->keep));
				t->cap = c2;
			}
			t->t[t->n] = sqlite3_column_int64(st, 3);
			t->w[t->n] = sqlite3_column_int64(st, 4);
			t->stack[t->n] = (uint32_t)stack;
			t->stack[t->n] = (uint32_t)stack | ((flags & PSF_SF_PARTIAL) ? SS_PARTIAL : 0);
			t->keep[t->n] = (uint8_t)keep;
			t->n++;
			t->kept += (uint64_t)keep;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(m->db, "cannot read");
	return 0;
}

/* Insertion sort by time, for the (unexpected) out-of-order sample. */
static void ss_sort(struct ss_thread *t)
{
	size_t i;

	for (i = 1; i < t->n; i++) {
		size_t j = i;

		while (j > 0 && t->t[j - 1] > t->t[j]) {
			int64_t tt = t->t[j], tw = t->w[j];
			uint32_t ts = t->stack[j];
			uint8_t tk = t->keep[j];

			t->t[j] = t->t[j - 1];
			t->w[j] = t->w[j - 1];
			t->stack[j] = t->stack[j - 1];
			t->keep[j] = t->keep[j - 1];
			t->t[j - 1] = tt;
			t->w[j - 1] = tw;
			t->stack[j - 1] = ts;
			t->keep[j - 1] = tk;
			j--;
		}
	}
}

static const struct model *order_m;

static int cmp_threads(const void *x, const void *y)
{
	const struct m_thread *a = &order_m->threads[*(const int *)x], *b = &order_m->threads[*(const int *)y];
	const struct m_process *pa = &order_m->processes[a->process], *pb = &order_m->processes[b->process];

	if (a->capture != b->capture)
		return a->capture < b->capture ? -1 : 1;
	if (pa->pid != pb->pid)
		return pa->pid < pb->pid ? -1 : 1;
	if (a->process != b->process)
		return a->process < b->process ? -1 : 1;
	if (a->is_main != b->is_main)
		return a->is_main ? -1 : 1;
	if (a->tid != b->tid)
		return a->tid < b->tid ? -1 : 1;
	if (a->py_thread_id != b->py_thread_id)
		return a->py_thread_id < b->py_thread_id ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

struct ss_entry {
	uint32_t stack;          /* 0 = a gap (no frames) */
	int64_t w;               /* ns */
};

/* One profile: the thread's shown samples and the gaps between them. */
static void ss_profile(FILE *fp, struct ss *s, int ti, int64_t origin, int multi_proc, int multi_cap)
{
	const struct model *m = s->r->m;
	const struct m_thread *th = &m->threads[ti];
	const struct m_capture *c = &m->captures[th->capture];
	const struct m_process *p = &m->processes[th->process];
	struct ss_thread *t = &s->th[ti];
	int64_t base = c->start_wall_ns - origin; /* this capture's t=0 on the common axis */
	int64_t cursor = 0;
	struct ss_entry *e = xmalloc((2 * t->kept + 1) * sizeof(*e));
	struct strbuf name;
	size_t i, n = 0;
	uint32_t thread_frame = 0;

	if (s->r->f.threads) {
		struct strbuf lab;

		/* --threads: the thread as the root frame of its stacks, as in the
		 * flamegraph, for tools that merge the profiles. */
		strbuf_init(&lab);
		label_thread(&lab, th->tid, th->py_thread_id, th->name);
		thread_frame = ss_pseudo_frame(s, lab.buf) + 1;
		strbuf_release(&lab);
	}
	for (i = 0; i < t->n; i++) {
		/* The sample covers [t - w, t]: the time since the previous one. */
		int64_t end = base + t->t[i], start = end - (t->w[i] > 0 ? t->w[i] : 0);

		if (!t->keep[i])
			continue;
		if (start < cursor)
			start = cursor;
		if (start > cursor) {
			e[n].stack = 0;
			e[n++].w = start - cursor;
		}
		if (end <= start)
			end = start + 1; /* a zero weight would make speedscope drop it */
		e[n].stack = t->stack[i];
		e[n++].w = end - start;
		cursor = end;
	}

	strbuf_init(&name);
	if (multi_cap)
		strbuf_addf(&name, "%s: ", c->host ? c->host : c->file);
	if (multi_proc)
		strbuf_addf(&name, "Process %lld ", (long long)p->pid);
	if (th->tid > 0)
		strbuf_addf(&name, "Thread %lld", (long long)th->tid);
	else
		strbuf_addf(&name, "Thread 0x%llX", (unsigned long long)th->py_thread_id);
	strbuf_addf(&name, " \"%s\"", th->name ? th->name : "");
	fprintf(fp, "{\"type\":\"sampled\",\"name\":");
	json_fputs(fp, name.buf);
	strbuf_release(&name);
	strbuf_adds(&s->obuf, ",\"unit\":\"seconds\",\"startValue\":0,\"endValue\":");
	ss_seconds(&s->obuf, cursor);
	strbuf_adds(&s->obuf, ",\"samples\":[");
	for (i = 0; i < n; i++) {
		if (i)
			strbuf_addc(&s->obuf, ',');
		if (e[i].stack && thread_frame) {
			size_t at;

			strbuf_addf(&s->obuf, "[%u,", thread_frame - 1);
			at = s->obuf.len;
			ss_stack(s, e[i].stack);
			/* ss_stack() added "[...]": drop its '[' */
			memmove(s->obuf.buf + at, s->obuf.buf + at + 1, s->obuf.len - at - 1);
			s->obuf.len--;
			s->obuf.buf[s->obuf.len] = '\0';
		} else if (e[i].stack) {
			ss_stack(s, e[i].stack);
		} else
			strbuf_add(&s->obuf, "[]", 2);
		ss_flush(fp, s, 1 << 16);
	}
	strbuf_adds(&s->obuf, "],\"weights\":[");
	for (i = 0; i < n; i++) {
		if (i)
			strbuf_addc(&s->obuf, ',');
		ss_seconds(&s->obuf, e[i].w);
		ss_flush(fp, s, 1 << 16);
	}
	strbuf_adds(&s->obuf, "]}");
	ss_flush(fp, s, 0);
	free(e);
}

static void ss_write(FILE *fp, struct ss *s, const char *title)
{
	struct model *m = s->r->m;
	int *order = xmalloc((unsigned long)(m->nthreads + 1) * sizeof(int));
	int i, n = 0, nproc = 0, ncap = 0, active = 0;
	uint64_t best = 0;
	int64_t origin = INT64_MAX;

	for (i = 0; i < m->nthreads; i++)
		if (m->threads[i].selected && s->th[i].kept)
			order[n++] = i;
	order_m = m;
	qsort(order, (size_t)n, sizeof(*order), cmp_threads);
	for (i = 0; i < m->nprocesses; i++)
		nproc += m->processes[i].selected && m->processes[i].capture >= 0;
	for (i = 0; i < m->ncaptures; i++) {
		const struct m_capture *c = &m->captures[i];

		if (!c->selected)
			continue;
		ncap++;
		if (c->start_wall_ns + s->r->f.from_ns < origin)
			origin = c->start_wall_ns + s->r->f.from_ns;
	}
	if (origin == INT64_MAX)
		origin = 0;
	for (i = 0; i < n; i++) {
		int ti = order[i];

		ss_sort(&s->th[ti]);
		if (s->th[ti].kept > best) {
			best = s->th[ti].kept;
			active = i;
		}
	}
	fprintf(fp, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"profiles\":[");
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', fp);
		ss_profile(fp, s, order[i], origin, nproc > 1, ncap > 1);
	}
	/* speedscope needs a profile to show (an empty one is fine) */
	if (n == 0) {
		warning("no samples match the filters; the profile is empty");
		fprintf(fp, "{\"type\":\"sampled\",\"name\":\"no samples\",\"unit\":\"seconds\","
			    "\"startValue\":0,\"endValue\":0,\"samples\":[],\"weights\":[]}");
	}
	fprintf(fp, "],\"shared\":{\"frames\":[%s]},\"activeProfileIndex\":%d,\"exporter\":\"pyspy@%s\","
		    "\"name\":",
		s->frames.buf, active, PYSPY_VERSION);
	json_fputs(fp, title);
	fprintf(fp, "}\n");
	free(order);
}

static const char ss_synopsis[] = "speedscope [FILTERS] [-o FILE] SOURCE...";
static const char ss_description[] =
	"Write a speedscope profile (https://www.speedscope.app): one sampled profile per\n"
	"thread (per process and thread when there are several), samples in time order\n"
	"weighted by the real time each stands for (since the thread's previous sample,\n"
	"in seconds), with gaps where samples were left out, so speedscope's time-order\n"
	"view shows real time.  --threads also puts the thread as the root frame of every\n"
	"stack.  Frames carry full file paths.  A partial sample's frames are under a\n"
	"'<partial>' root frame (--no-partial leaves them out).";

int cmd_speedscope(int argc, char **argv)
{
	const struct cli_opt *const tables[4] = {filter_opts, report_output_opts, cli_common_opts, NULL};
	struct report r;
	struct ss s;
	struct out out;
	char *title = NULL;
	int ret = EXIT_RUNTIME, i;

	report_parse(&r, argc, argv, tables, ss_synopsis, ss_description, NULL, NULL);
	out_refuse_tty(r.output, "a speedscope JSON profile", "profile.speedscope.json");
	memset(&s, 0, sizeof(s));
	s.r = &r;
	idset_init(&s.fr_set);
	strbuf_init(&s.frames);
	strbuf_init(&s.pool);
	strbuf_init(&s.obuf);
	if (out_open(&out, r.output) < 0) {
		report_close(&r);
		return EXIT_RUNTIME;
	}
	if (report_open(&r) < 0) {
		out_abort(&out);
		goto done;
	}
	s.th = xcalloc((unsigned long)r.m->nthreads + 1, sizeof(*s.th));
	s.text_off = xcalloc((unsigned long)r.m->nstacks + 1, sizeof(*s.text_off));
	s.text_len = xcalloc((unsigned long)r.m->nstacks + 1, sizeof(*s.text_len));
	if (ss_scan(&s) < 0) {
		out_abort(&out);
		goto done;
	}
	title = report_title(r.m);
	ss_write(out.fp, &s, title);
	if (out_close(&out) == 0)
		ret = EXIT_OK;
done:
	if (s.th)
		for (i = 0; i < r.m->nthreads; i++) {
			free(s.th[i].t);
			free(s.th[i].w);
			free(s.th[i].stack);
			free(s.th[i].keep);
		}
	free(s.th);
	free(s.fkeys);
	free(s.path);
	free(title);
	free(s.text_off);
	free(s.text_len);
	idset_release(&s.fr_set);
	strbuf_release(&s.frames);
	strbuf_release(&s.pool);
	strbuf_release(&s.obuf);
	report_close(&r);
	return ret;
}
