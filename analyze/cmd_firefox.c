/*
 * cmd_firefox.c - Firefox Profiler processed profile (docs/pyspy-analyze.1.md,
 * "firefox") for profiler.firefox.com.
 *
 * The processed format (firefox-devtools/profiler
 * docs-developer/processed-profile-format.md) at preprocessedProfileVersion
 * FF_VERSION, the version CPython 3.15's own exporter writes; the profiler
 * upgrades older versions on load and refuses newer ones, so pinning an
 * older one keeps working.  One thread per pyspy thread, grouped by pid;
 * every kept sample with its time (ms since meta.startTime, the earliest
 * capture start or --from) and its weight, the real time it stands for
 * (samples.w, as top's times and speedscope's weights; weightType
 * "tracing-ms"); a partial sample's frames under an AGG_PARTIAL_LABEL
 * root frame; per thread the column tables samples,
 * stackTable, frameTable, funcTable, resourceTable; strings shared in
 * shared.stringArray.  A function is (name, file, first line) with the
 * label filters applied (--qualname, --full-filenames); a frame is a
 * function at a line (--nolineno: none, --function: the first line).
 *
 * Memory: the tables (bounded by distinct stacks per thread) and, as the
 * format lists every sample, 20 bytes per kept sample.
 */
#include "cmd_firefox.h"

#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "escape.h"
#include "hashmap.h"
#include "label.h"
#include "msg.h"
#include "out.h"
#include "pyspy_format.h"
#include "report.h"
#include "samples.h"
#include "strbuf.h"

#define FF_VERSION 57
#define FF_META_VERSION 32

/* Categories (meta.categories) */
enum { FF_CAT_OTHER = 0, FF_CAT_PYTHON = 1, FF_CAT_NATIVE = 2 };

struct ff_func {
	uint32_t name, file;     /* string indices; file UINT32_MAX = none */
	int32_t first;
	uint8_t cat;
};

struct ff_thread {
	/* samples */
	uint32_t *sstack;
	int64_t *stime;          /* ns since origin */
	int64_t *sweight;        /* ns (samples.w) */
	size_t n;
	unsigned long cap;
	/* tables, as arrays of indices */
	uint32_t *func_g;        /* local func -> global func */
	uint32_t nfuncs;
	unsigned long cap_funcs;
	uint32_t *res_file;      /* local resource -> string index of the file */
	uint32_t nres;
	unsigned long cap_res;
	uint32_t *frame_func;    /* local frame -> local func */
	int32_t *frame_line;     /* 0 = none */
	uint32_t nframes;
	unsigned long cap_frames;
	uint32_t *stack_frame, *stack_prefix; /* prefix UINT32_MAX = root */
	uint32_t nstacks;
	unsigned long cap_stacks;
	struct u64map func_map;  /* global func -> local + 1 */
	struct u64map res_map;   /* file string -> local resource + 1 */
	struct u64map frame_map; /* local func << 32 | line -> local frame + 1 */
	struct u64map stack_map; /* (prefix + 1) << 32 | frame -> local stack + 1 */
	struct u64map memo;      /* partial << 32 | pyspy stack id -> local stack + 1 */
	uint32_t partial_stack;  /* local stack + 1 of the <partial> root, 0 = none yet */
	uint32_t *func_res;      /* local func -> local resource, UINT32_MAX = none */
};

struct ff {
	struct report *r;
	struct ff_thread *th;
	char **strs;             /* shared.stringArray */
	uint32_t nstrs;
	unsigned long cap_strs;
	struct idset sset;
	struct ff_func *funcs;   /* global: [1..nfuncs] */
	uint32_t nfuncs;
	unsigned long cap_funcs;
	struct idset fset;
	char **short_files;
	uint32_t *path;
	unsigned long cap_path;
	int64_t origin;
	uint64_t kept;
};

static int str_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct ff *f = ctx;

	return strcmp(f->strs[id - 1], key) == 0;
}

static uint32_t ff_str(struct ff *f, const char *s)
{
	uint64_t h = hash_bytes(s, strlen(s));
	uint32_t id = idset_find(&f->sset, h, str_eq, f, s);

	if (id)
		return id - 1;
	xgrow((void **)&f->strs, &f->cap_strs, (unsigned long)f->nstrs + 1, sizeof(char *));
	f->strs[f->nstrs++] = xstrdup(s);
	idset_add(&f->sset, h, f->nstrs);
	return f->nstrs - 1;
}

static int func_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct ff *f = ctx;
	const struct ff_func *a = &f->funcs[id], *b = key;

	return a->name == b->name && a->file == b->file && a->first == b->first && a->cat == b->cat;
}

static uint32_t ff_gfunc_add(struct ff *f, const struct ff_func *k)
{
	uint64_t h = hash_combine(hash_combine(hash_u64(k->name), k->file),
				  (uint64_t)(uint32_t)k->first << 8 | k->cat);
	uint32_t id = idset_find(&f->fset, h, func_eq, f, k);

	if (id)
		return id;
	id = ++f->nfuncs;
	xgrow((void **)&f->funcs, &f->cap_funcs, (unsigned long)id + 1, sizeof(*f->funcs));
	f->funcs[id] = *k;
	idset_add(&f->fset, h, id);
	return id;
}

/* Global function of a frame, under the label filters. */
static uint32_t ff_gfunc(struct ff *f, uint32_t frame)
{
	const struct model *m = f->r->m;
	const struct filter *flt = &f->r->f;
	const struct m_frame *fr = &m->frames[frame < m->nframes ? frame : 0];
	const char *name = model_str(m, flt->qualname && fr->qualname ? fr->qualname : fr->name);
	struct ff_func k;
	struct strbuf sb;

	memset(&k, 0, sizeof(k));
	strbuf_init(&sb);
	label_clean(&sb, name && *name ? name : "?");
	k.name = ff_str(f, sb.buf);
	strbuf_release(&sb);
	k.file = UINT32_MAX;
	if (fr->kind == PSF_FRAME_PYTHON) {
		const char *file = agg_short_file(m, fr->file, flt->full_filenames, f->short_files);

		k.cat = FF_CAT_PYTHON;
		if (file)
			k.file = ff_str(f, file);
		k.first = fr->firstline > 0 ? fr->firstline : 0;
	} else if (fr->kind == PSF_FRAME_NATIVE) {
		const char *mod = model_str(m, fr->file);
		const char *slash = mod ? strrchr(mod, '/') : NULL;

		k.cat = FF_CAT_NATIVE;
		if (mod)
			k.file = ff_str(f, flt->full_filenames || !slash ? mod : slash + 1);
	} else {
		k.cat = FF_CAT_OTHER;
	}
	return ff_gfunc_add(f, &k);
}

static uint32_t ff_lfunc(struct ff_thread *t, const struct ff *f, uint32_t g)
{
	int created;
	uint64_t *slot = u64map_slot(&t->func_map, g, &created);
	uint32_t res = UINT32_MAX;

	if (!created)
		return (uint32_t)*slot - 1;
	*slot = t->nfuncs + 1;
	if (f->funcs[g].file != UINT32_MAX) {
		uint64_t *rs = u64map_slot(&t->res_map, f->funcs[g].file, &created);

		if (created) {
			*rs = t->nres + 1;
			xgrow((void **)&t->res_file, &t->cap_res, (unsigned long)t->nres + 1, sizeof(*t->res_file));
			t->res_file[t->nres++] = f->funcs[g].file;
		}
		res = (uint32_t)*rs - 1;
	}
	{
		unsigned long c = t->cap_funcs;

		xgrow((void **)&t->func_g, &c, (unsigned long)t->nfuncs + 1, sizeof(*t->func_g));
		c = t->cap_funcs;
		xgrow((void **)&t->func_res, &c, (unsigned long)t->nfuncs + 1, sizeof(*t->func_res));
		t->cap_funcs = c;
	}
	t->func_g[t->nfuncs] = g;
	t->func_res[t->nfuncs] = res;
	return t->nfuncs++;
}

/* Local frame of local function lf at line l (0 = none). */
static uint32_t ff_lframe(struct ff_thread *t, uint32_t lf, int32_t l)
{
	int created;
	uint64_t *slot;

	slot = u64map_slot(&t->frame_map, (uint64_t)lf << 32 | (uint32_t)l, &created);
	if (!created)
		return (uint32_t)*slot - 1;
	*slot = t->nframes + 1;
	{
		unsigned long c = t->cap_frames;

		xgrow((void **)&t->frame_func, &c, (unsigned long)t->nframes + 1, sizeof(*t->frame_func));
		c = t->cap_frames;
		xgrow((void **)&t->frame_line, &c, (unsigned long)t->nframes + 1, sizeof(*t->frame_line));
		t->cap_frames = c;
	}
	t->frame_func[t->nframes] = lf;
	t->frame_line[t->nframes] = l;
	return t->nframes++;
}

static uint32_t ff_frame(struct ff *f, struct ff_thread *t, uint32_t frame, int32_t line)
{
	const struct model *m = f->r->m;
	const struct m_frame *fr = &m->frames[frame < m->nframes ? frame : 0];
	uint32_t lf = ff_lfunc(t, f, ff_gfunc(f, frame));
	int32_t l = 0;

	if (fr->kind == PSF_FRAME_PYTHON && !f->r->f.nolineno)
		l = f->r->f.function ? fr->firstline : line;
	if (l < 0)
		l = 0;
	return ff_lframe(t, lf, l);
}

/* Local stack of the AGG_PARTIAL_LABEL root frame of partial samples. */
static uint32_t ff_partial_stack(struct ff *f, struct ff_thread *t)
{
	struct ff_func k;
	uint32_t fr;

	if (t->partial_stack)
		return t->partial_stack - 1;
	memset(&k, 0, sizeof(k));
	k.name = ff_str(f, AGG_PARTIAL_LABEL);
	k.file = UINT32_MAX;
	k.cat = FF_CAT_OTHER;
	fr = ff_lframe(t, ff_lfunc(t, f, ff_gfunc_add(f, &k)), 0);
	{
		unsigned long c = t->cap_stacks;

		xgrow((void **)&t->stack_frame, &c, (unsigned long)t->nstacks + 1, sizeof(uint32_t));
		c = t->cap_stacks;
		xgrow((void **)&t->stack_prefix, &c, (unsigned long)t->nstacks + 1, sizeof(uint32_t));
		t->cap_stacks = c;
	}
	t->stack_frame[t->nstacks] = fr;
	t->stack_prefix[t->nstacks] = UINT32_MAX;
	t->partial_stack = ++t->nstacks;
	return t->partial_stack - 1;
}

/*
 * Local stack index of a pyspy stack (memoised; parents before children),
 * under the <partial> root when the sample is partial.
 */
static uint32_t ff_stack(struct ff *f, struct ff_thread *t, uint32_t stack, int partial)
{
	const struct model *m = f->r->m;
	unsigned long n = 0;
	uint32_t s = stack, prefix = partial ? ff_partial_stack(f, t) : UINT32_MAX;
	uint64_t v, tag = partial ? (uint64_t)1 << 32 : 0;

	while (s) {
		if (u64map_get(&t->memo, tag | s, &v)) {
			prefix = (uint32_t)v - 1;
			break;
		}
		xgrow((void **)&f->path, &f->cap_path, n + 1, sizeof(*f->path));
		f->path[n++] = s;
		s = m->stack_parent[s];
	}
	while (n-- > 0) {
		uint32_t st = f->path[n], fr = ff_frame(f, t, m->stack_frame[st], m->stack_line[st]);
		int created;
		uint64_t *slot = u64map_slot(&t->stack_map, (uint64_t)(prefix + 1) << 32 | fr, &created);

		if (created) {
			unsigned long c = t->cap_stacks;

			*slot = t->nstacks + 1;
			xgrow((void **)&t->stack_frame, &c, (unsigned long)t->nstacks + 1, sizeof(uint32_t));
			c = t->cap_stacks;
			xgrow((void **)&t->stack_prefix, &c, (unsigned long)t->nstacks + 1, sizeof(uint32_t));
			t->cap_stacks = c;
			t->stack_frame[t->nstacks] = fr;
			t->stack_prefix[t->nstacks] = prefix;
			t->nstacks++;
		}
		prefix = (uint32_t)*slot - 1;
		u64map_put(&t->memo, tag | st, prefix + 1);
	}
	return prefix;
}

static int ff_scan(struct ff *f)
{
	struct model *m = f->r->m;
	struct samples *it = samples_open(m, &f->r->f);
	struct sample x;
	int rc;

	if (!it)
		return -1;
	while ((rc = samples_next(it, &x)) > 0) {
		struct ff_thread *t = &f->th[x.thread];

		if (!x.keep)
			continue;
		f->kept++;
		if (t->n == t->cap) {
			unsigned long c = t->cap;

			xgrow((void **)&t->sstack, &c, t->n + 1, sizeof(*t->sstack));
			c = t->cap;
			xgrow((void **)&t->stime, &c, t->n + 1, sizeof(*t->stime));
			c = t->cap;
			xgrow((void **)&t->sweight, &c, t->n + 1, sizeof(*t->sweight));
			t->cap = c;
		}
		t->sstack[t->n] = ff_stack(f, t, x.stack, x.partial);
		t->stime[t->n] = m->captures[x.capture].start_wall_ns + x.t - f->origin;
		t->sweight[t->n] = x.w;
		t->n++;
	}
	samples_free(it);
	return rc < 0 ? -1 : 0;
}

/* ns as milliseconds, exactly (up to 6 decimals). */
static void ff_ms(struct strbuf *sb, int64_t ns)
{
	char tmp[40], *p = tmp + sizeof(tmp);
	int neg = ns < 0;
	uint64_t v = neg ? (uint64_t)-ns : (uint64_t)ns, frac = v % 1000000, ms = v / 1000000;
	int digits = 6;

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
		*--p = (char)('0' + ms % 10);
		ms /= 10;
	} while (ms);
	if (neg)
		*--p = '-';
	strbuf_add(sb, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void ff_flush(FILE *fp, struct strbuf *sb, size_t at_least)
{
	if (sb->len >= at_least) {
		fwrite(sb->buf, 1, sb->len, fp);
		strbuf_reset(sb);
	}
}

/* "key":[v,v,...] of n unsigned values from get(i); UINT32_MAX -> null */
static void ff_col(FILE *fp, struct strbuf *sb, const char *key, const uint32_t *v, size_t n, uint32_t add)
{
	size_t i;

	strbuf_addf(sb, "\"%s\":[", key);
	for (i = 0; i < n; i++) {
		if (v[i] == UINT32_MAX)
			strbuf_addf(sb, "%snull", i ? "," : "");
		else
			strbuf_addf(sb, "%s%u", i ? "," : "", v[i] + add);
		ff_flush(fp, sb, 1 << 16);
	}
	strbuf_adds(sb, "],");
}

/* "key":[x,x,...] n times the same literal */
static void ff_same(FILE *fp, struct strbuf *sb, const char *key, const char *x, size_t n)
{
	size_t i;

	strbuf_addf(sb, "\"%s\":[", key);
	for (i = 0; i < n; i++) {
		if (i)
			strbuf_addc(sb, ',');
		strbuf_adds(sb, x);
		ff_flush(fp, sb, 1 << 16);
	}
	strbuf_adds(sb, "],");
}

static void ff_thread_write(FILE *fp, struct strbuf *sb, struct ff *f, int ti)
{
	const struct model *m = f->r->m;
	const struct m_thread *th = &m->threads[ti];
	const struct m_process *p = &m->processes[th->process];
	const struct m_capture *c = &m->captures[th->capture];
	struct ff_thread *t = &f->th[ti];
	uint32_t *tmp = xmalloc(((unsigned long)t->nfuncs + t->nframes + t->nstacks + 1) * sizeof(uint32_t));
	struct strbuf name;
	uint32_t i;
	size_t k;

	strbuf_init(&name);
	strbuf_adds(sb, "{\"name\":");
	json_string(sb, th->name ? th->name : "");
	strbuf_addf(sb, ",\"isMainThread\":%s,\"processType\":\"default\",\"processName\":",
		    th->is_main ? "true" : "false");
	strbuf_addf(&name, "%s", p->cmdline && *p->cmdline ? p->cmdline : "python");
	if (c->host)
		strbuf_addf(&name, " (%s)", c->host);
	json_string(sb, name.buf);
	strbuf_release(&name);
	strbuf_addf(sb, ",\"pid\":\"%lld\",\"tid\":%lld,\"processStartupTime\":0,\"processShutdownTime\":null,"
			"\"registerTime\":",
		    (long long)p->pid, (long long)(th->tid > 0 ? th->tid : (int64_t)(th->py_thread_id & 0x7fffffff)));
	ff_ms(sb, t->n ? t->stime[0] : 0);
	strbuf_adds(sb, ",\"unregisterTime\":null,\"pausedRanges\":[],");
	/* samples */
	strbuf_adds(sb, "\"samples\":{");
	ff_col(fp, sb, "stack", t->sstack, t->n, 0);
	strbuf_adds(sb, "\"time\":[");
	for (k = 0; k < t->n; k++) {
		if (k)
			strbuf_addc(sb, ',');
		ff_ms(sb, t->stime[k]);
		ff_flush(fp, sb, 1 << 16);
	}
	strbuf_adds(sb, "],");
	ff_same(fp, sb, "eventDelay", "null", t->n);
	/* The real time each sample stands for, so the call tree's times are top's. */
	strbuf_adds(sb, "\"weight\":[");
	for (k = 0; k < t->n; k++) {
		if (k)
			strbuf_addc(sb, ',');
		ff_ms(sb, t->sweight[k]);
		ff_flush(fp, sb, 1 << 16);
	}
	strbuf_addf(sb, "],\"weightType\":\"tracing-ms\",\"length\":%zu},", t->n);
	/* stackTable */
	strbuf_adds(sb, "\"stackTable\":{");
	ff_col(fp, sb, "frame", t->stack_frame, t->nstacks, 0);
	for (i = 0; i < t->nstacks; i++)
		tmp[i] = f->funcs[t->func_g[t->frame_func[t->stack_frame[i]]]].cat;
	ff_col(fp, sb, "category", tmp, t->nstacks, 0);
	ff_same(fp, sb, "subcategory", "0", t->nstacks);
	ff_col(fp, sb, "prefix", t->stack_prefix, t->nstacks, 0);
	strbuf_addf(sb, "\"length\":%u},", t->nstacks);
	/* frameTable */
	strbuf_adds(sb, "\"frameTable\":{");
	ff_same(fp, sb, "address", "-1", t->nframes);
	for (i = 0; i < t->nframes; i++)
		tmp[i] = f->funcs[t->func_g[t->frame_func[i]]].cat;
	ff_col(fp, sb, "category", tmp, t->nframes, 0);
	ff_same(fp, sb, "subcategory", "0", t->nframes);
	ff_col(fp, sb, "func", t->frame_func, t->nframes, 0);
	ff_same(fp, sb, "innerWindowID", "null", t->nframes);
	ff_same(fp, sb, "implementation", "null", t->nframes);
	ff_same(fp, sb, "optimizations", "null", t->nframes);
	for (i = 0; i < t->nframes; i++)
		tmp[i] = t->frame_line[i] > 0 ? (uint32_t)t->frame_line[i] : UINT32_MAX;
	ff_col(fp, sb, "line", tmp, t->nframes, 0);
	ff_same(fp, sb, "column", "null", t->nframes);
	ff_same(fp, sb, "inlineDepth", "0", t->nframes);
	ff_same(fp, sb, "nativeSymbol", "null", t->nframes);
	strbuf_addf(sb, "\"length\":%u},", t->nframes);
	/* funcTable */
	strbuf_adds(sb, "\"funcTable\":{");
	for (i = 0; i < t->nfuncs; i++)
		tmp[i] = f->funcs[t->func_g[i]].name;
	ff_col(fp, sb, "name", tmp, t->nfuncs, 0);
	/* isJS marks the frames the profiler calls "JS", its equivalent of
	 * interpreted code; CPython's exporter does the same. */
	strbuf_adds(sb, "\"isJS\":[");
	for (i = 0; i < t->nfuncs; i++)
		strbuf_addf(sb, "%s%s", i ? "," : "",
			    f->funcs[t->func_g[i]].cat == FF_CAT_PYTHON ? "true" : "false");
	strbuf_adds(sb, "],");
	ff_same(fp, sb, "relevantForJS", "false", t->nfuncs);
	/* resource -1 = none */
	strbuf_adds(sb, "\"resource\":[");
	for (i = 0; i < t->nfuncs; i++)
		if (t->func_res[i] == UINT32_MAX)
			strbuf_addf(sb, "%s-1", i ? "," : "");
		else
			strbuf_addf(sb, "%s%u", i ? "," : "", t->func_res[i]);
	strbuf_adds(sb, "],");
	for (i = 0; i < t->nfuncs; i++)
		tmp[i] = f->funcs[t->func_g[i]].file;
	ff_col(fp, sb, "fileName", tmp, t->nfuncs, 0);
	for (i = 0; i < t->nfuncs; i++)
		tmp[i] = f->funcs[t->func_g[i]].first > 0 ? (uint32_t)f->funcs[t->func_g[i]].first : UINT32_MAX;
	ff_col(fp, sb, "lineNumber", tmp, t->nfuncs, 0);
	ff_same(fp, sb, "columnNumber", "null", t->nfuncs);
	strbuf_addf(sb, "\"length\":%u},", t->nfuncs);
	/* resourceTable: one "library" per file (type 1 = library) */
	strbuf_adds(sb, "\"resourceTable\":{");
	ff_same(fp, sb, "lib", "null", t->nres);
	ff_col(fp, sb, "name", t->res_file, t->nres, 0);
	ff_same(fp, sb, "host", "null", t->nres);
	ff_same(fp, sb, "type", "1", t->nres);
	strbuf_addf(sb, "\"length\":%u},", t->nres);
	strbuf_adds(sb, "\"nativeSymbols\":{\"libIndex\":[],\"address\":[],\"name\":[],\"functionSize\":[],\"length\":0},"
			"\"markers\":{\"data\":[],\"name\":[],\"startTime\":[],\"endTime\":[],\"phase\":[],\"category\":[],"
			"\"length\":0}}");
	ff_flush(fp, sb, 0);
	free(tmp);
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
	if (a->is_main != b->is_main)
		return a->is_main ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static void ff_write(FILE *fp, struct ff *f)
{
	const struct model *m = f->r->m;
	struct strbuf sb;
	int64_t period = 0;
	int *order = xmalloc(((unsigned long)m->nthreads + 1) * sizeof(int));
	char *title = report_title(m);
	int i, n = 0;
	uint32_t k;

	for (i = 0; i < m->ncaptures; i++)
		if (m->captures[i].selected && !period)
			period = m->captures[i].rate_hz > 0 ? 1000000000 / m->captures[i].rate_hz : 10000000;
	if (!period)
		period = 10000000;
	for (i = 0; i < m->nthreads; i++)
		if (f->th[i].n)
			order[n++] = i;
	order_m = m;
	qsort(order, (size_t)n, sizeof(*order), cmp_threads);
	strbuf_init(&sb);
	strbuf_adds(&sb, "{\"meta\":{\"interval\":");
	ff_ms(&sb, period);
	strbuf_adds(&sb, ",\"startTime\":");
	ff_ms(&sb, f->origin);
	strbuf_addf(&sb, ",\"abi\":\"\",\"misc\":\"\",\"oscpu\":\"\",\"platform\":\"Linux\",\"processType\":0,"
			 "\"categories\":[{\"name\":\"Other\",\"color\":\"grey\",\"subcategories\":[\"Other\"]},"
			 "{\"name\":\"Python\",\"color\":\"yellow\",\"subcategories\":[\"Other\"]},"
			 "{\"name\":\"Native\",\"color\":\"blue\",\"subcategories\":[\"Other\"]}],"
			 "\"stackwalk\":0,\"toolkit\":\"\",\"version\":%d,\"preprocessedProfileVersion\":%d,"
			 "\"appBuildID\":\"\",\"physicalCPUs\":0,\"logicalCPUs\":0,\"CPUName\":\"\",\"product\":",
		    FF_META_VERSION, FF_VERSION);
	json_string(&sb, title);
	strbuf_adds(&sb, ",\"symbolicated\":true,\"markerSchema\":[],\"importedFrom\":\"pyspy-analyze " PYSPY_VERSION
			 "\",\"extensions\":{\"id\":[],\"name\":[],\"baseURL\":[],\"length\":0}},"
			 "\"libs\":[],\"pages\":[],\"threads\":[");
	for (i = 0; i < n; i++) {
		if (i)
			strbuf_addc(&sb, ',');
		ff_thread_write(fp, &sb, f, order[i]);
	}
	/* The profiler needs a thread to show (an empty one is fine). */
	if (n == 0)
		strbuf_adds(&sb, "{\"name\":\"no samples\",\"isMainThread\":true,\"processType\":\"default\","
				 "\"processName\":\"\",\"pid\":\"0\",\"tid\":0,\"processStartupTime\":0,"
				 "\"processShutdownTime\":null,\"registerTime\":0,\"unregisterTime\":null,"
				 "\"pausedRanges\":[],\"samples\":{\"stack\":[],\"time\":[],\"eventDelay\":[],"
				 "\"weight\":null,\"weightType\":\"samples\",\"length\":0},\"stackTable\":{\"frame\":[],"
				 "\"category\":[],\"subcategory\":[],\"prefix\":[],\"length\":0},\"frameTable\":{"
				 "\"address\":[],\"category\":[],\"subcategory\":[],\"func\":[],\"innerWindowID\":[],"
				 "\"implementation\":[],\"optimizations\":[],\"line\":[],\"column\":[],\"inlineDepth\":[],"
				 "\"nativeSymbol\":[],\"length\":0},\"funcTable\":{\"name\":[],\"isJS\":[],"
				 "\"relevantForJS\":[],\"resource\":[],\"fileName\":[],\"lineNumber\":[],"
				 "\"columnNumber\":[],\"length\":0},\"resourceTable\":{\"lib\":[],\"name\":[],"
				 "\"host\":[],\"type\":[],\"length\":0},\"nativeSymbols\":{\"libIndex\":[],"
				 "\"address\":[],\"name\":[],\"functionSize\":[],\"length\":0},\"markers\":{"
				 "\"data\":[],\"name\":[],\"startTime\":[],\"endTime\":[],\"phase\":[],\"category\":[],"
				 "\"length\":0}}");
	strbuf_adds(&sb, "],\"shared\":{\"stringArray\":[");
	for (k = 0; k < f->nstrs; k++) {
		if (k)
			strbuf_addc(&sb, ',');
		json_string(&sb, f->strs[k]);
		ff_flush(fp, &sb, 1 << 16);
	}
	strbuf_adds(&sb, "],\"sources\":{\"length\":0,\"uuid\":[],\"filename\":[]}}}\n");
	ff_flush(fp, &sb, 0);
	strbuf_release(&sb);
	free(order);
	free(title);
}

static const char ff_synopsis[] = "firefox [FILTERS] [-o FILE] SOURCE...";
static const char ff_description[] =
	"Write a Firefox Profiler profile (processed format, JSON) for\n"
	"https://profiler.firefox.com (\"Load a profile from file\"): one thread per\n"
	"thread, grouped by process, every sample at its real time (ms since the earliest\n"
	"capture start, or --from) weighing the real time it stands for (since its\n"
	"thread's previous sample, as top's times), Python frames as functions with their\n"
	"file and line, a partial sample's frames under a '<partial>' root frame\n"
	"(--no-partial leaves them out).\n"
	"Threads and processes are the profiler's own, so --threads and --processes add\n"
	"nothing here.";

int cmd_firefox(int argc, char **argv)
{
	const struct cli_opt *const tables[4] = {filter_opts, report_output_opts, cli_common_opts, NULL};
	struct report r;
	struct ff f;
	struct out o;
	int ret = EXIT_RUNTIME, i;
	uint32_t k;

	report_parse(&r, argc, argv, tables, ff_synopsis, ff_description, NULL, NULL);
	memset(&f, 0, sizeof(f));
	f.r = &r;
	idset_init(&f.sset);
	idset_init(&f.fset);
	if (out_open(&o, r.output) < 0) {
		report_close(&r);
		return EXIT_RUNTIME;
	}
	if (report_open(&r) < 0) {
		out_abort(&o);
		goto done;
	}
	f.th = xcalloc((unsigned long)r.m->nthreads + 1, sizeof(*f.th));
	for (i = 0; i < r.m->nthreads; i++) {
		u64map_init(&f.th[i].func_map);
		u64map_init(&f.th[i].res_map);
		u64map_init(&f.th[i].frame_map);
		u64map_init(&f.th[i].stack_map);
		u64map_init(&f.th[i].memo);
	}
	f.short_files = xcalloc((unsigned long)r.m->nstrings + 1, sizeof(char *));
	/* string 0 is the root's name, as in the profiler's own files */
	ff_str(&f, "(root)");
	xgrow((void **)&f.funcs, &f.cap_funcs, 1, sizeof(*f.funcs));
	f.origin = INT64_MAX;
	for (i = 0; i < r.m->ncaptures; i++)
		if (r.m->captures[i].selected && r.m->captures[i].start_wall_ns + r.f.from_ns < f.origin)
			f.origin = r.m->captures[i].start_wall_ns + r.f.from_ns;
	if (f.origin == INT64_MAX)
		f.origin = 0;
	if (ff_scan(&f) < 0) {
		out_abort(&o);
		goto done;
	}
	if (!f.kept)
		warning("no samples match the filters; the profile is empty");
	ff_write(o.fp, &f);
	if (out_close(&o) == 0)
		ret = EXIT_OK;
done:
	if (f.th)
		for (i = 0; i < r.m->nthreads; i++) {
			struct ff_thread *t = &f.th[i];

			free(t->sstack);
			free(t->stime);
			free(t->sweight);
			free(t->func_g);
			free(t->func_res);
			free(t->res_file);
			free(t->frame_func);
			free(t->frame_line);
			free(t->stack_frame);
			free(t->stack_prefix);
			u64map_release(&t->func_map);
			u64map_release(&t->res_map);
			u64map_release(&t->frame_map);
			u64map_release(&t->stack_map);
			u64map_release(&t->memo);
		}
	if (f.short_files)
		for (k = 0; k <= r.m->nstrings; k++)
			free(f.short_files[k]);
	for (k = 0; k < f.nstrs; k++)
		free(f.strs[k]);
	free(f.strs);
	free(f.funcs);
	free(f.short_files);
	free(f.path);
	free(f.th);
	idset_release(&f.sset);
	idset_release(&f.fset);
	report_close(&r);
	return ret;
}
