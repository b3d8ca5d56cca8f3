/*
 * cmd_pprof.c - pprof profile.proto, gzipped (docs/pyspy-analyze.1.md,
 * "pprof"), for go tool pprof and the continuous-profiling stores that
 * read it (Grafana Pyroscope, Parca, Google Cloud Profiler).
 *
 * The protobuf is encoded by hand (varints, length-delimited fields,
 * packed repeated integers: proto3, zero fields omitted) and gzipped by
 * gzip.c, so no protobuf or compression library is needed.
 *
 * One pprof sample per distinct (window, thread, stack, partial, GIL, idle):
 * values [samples/count, wall/nanoseconds], wall being the sum of the
 * samples' weights (samples.w: the real time each stands for, as top's
 * times), and labels pid, thread_id,
 * thread_name, gil, idle (and host).  Memory is one entry per distinct
 * combination, never per sample.  Frames:
 *  - Function: name (qualname with --qualname), system_name (co_name,
 *    only when it differs from name), filename (short unless --full-filenames), start_line;
 *  - Location: one per (function, line as the filters show it), no
 *    mapping, address 0, so -lines and -functions both work;
 *  - --threads/--processes root frames and the AGG_PARTIAL_LABEL frame
 *    above a partial sample's frames become functions without a file,
 *    so the stacks are those of `collapsed` with the same filters.
 */
#include "cmd_pprof.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agg.h"
#include "gzip.h"
#include "hashmap.h"
#include "label.h"
#include "msg.h"
#include "out.h"
#include "pyspy_format.h"
#include "report.h"
#include "samples.h"
#include "strbuf.h"

/* Window numbers (only windows with samples are kept, so this bounds the
 * numbering, not memory). */
#define PP_MAX_WINDOWS 0xfffffff0u

/* Protobuf wire types. */
#define PB_VARINT 0
#define PB_LEN 2

struct pp_entry {
	uint32_t window;
	int32_t thread;
	uint32_t stack;
	uint8_t gil, idle, partial;
	uint64_t count;
	int64_t ns;
};

/* The tables of one profile being written. */
struct pp_func {
	uint32_t name, system, file; /* string table indices */
	int64_t start;
};

struct pp_loc {
	uint32_t func;           /* function id */
	int64_t line;
};

struct pp_profile {
	struct strbuf strings;   /* encoded string_table fields */
	struct strbuf spool;     /* the strings, NUL-terminated, back to back */
	uint32_t *soff;
	uint32_t nstr;
	unsigned long cap_soff;
	struct idset sset;
	struct pp_func *funcs;   /* [1..nfuncs] */
	uint32_t nfuncs;
	unsigned long cap_funcs;
	struct idset fset;
	struct pp_loc *locs;     /* [1..nlocs] */
	uint32_t nlocs;
	unsigned long cap_locs;
	struct idset lset;
	struct u64map stack_loc; /* stack id -> location id */
	struct u64map pseudo_loc; /* kind << 32 | thread or process index -> location id */
};

struct pp {
	struct report *r;
	int64_t window_ns;       /* 0 = one profile */
	int64_t origin;          /* wall-clock ns of the start of window 0 */
	int64_t end;             /* wall-clock ns of the end of the selection */
	int show_processes;
	struct pp_entry *e;
	size_t ne;
	unsigned long cap_e;
	struct idset eset;
	uint32_t *last;          /* by thread: its latest entry + 1 */
	char **short_files;
	struct strbuf tmp, tmp2, msg, body;
	uint64_t kept;
};

/* ------------------------------------------------------------ protobuf */

static void pb_varint(struct strbuf *b, uint64_t v)
{
	char buf[10];
	int n = 0;

	while (v >= 0x80) {
		buf[n++] = (char)(v | 0x80);
		v >>= 7;
	}
	buf[n++] = (char)v;
	strbuf_add(b, buf, (size_t)n);
}

static void pb_key(struct strbuf *b, int field, int wire)
{
	pb_varint(b, (uint64_t)field << 3 | (uint64_t)wire);
}

/* An integer field; proto3 leaves zeros out.  (int64 negatives: 10 bytes.) */
static void pb_int(struct strbuf *b, int field, int64_t v)
{
	if (!v)
		return;
	pb_key(b, field, PB_VARINT);
	pb_varint(b, (uint64_t)v);
}

static void pb_bytes(struct strbuf *b, int field, const void *data, size_t n)
{
	pb_key(b, field, PB_LEN);
	pb_varint(b, n);
	strbuf_add(b, data, n);
}

/* ------------------------------------------------------------ profile tables */

static int str_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct pp_profile *p = ctx;

	return strcmp(p->spool.buf + p->soff[id], key) == 0;
}

/* Index of s in the string table (0 is ""). */
static uint32_t pp_str(struct pp_profile *p, const char *s)
{
	uint64_t h;
	uint32_t id;

	if (!s || !*s)
		return 0;
	h = hash_bytes(s, strlen(s));
	id = idset_find(&p->sset, h, str_eq, p, s);
	if (id)
		return id;
	if (p->nstr >= 0xfffffff0u)
		die("too many distinct strings for a pprof profile");
	id = p->nstr++;
	xgrow((void **)&p->soff, &p->cap_soff, (unsigned long)id + 1, sizeof(*p->soff));
	p->soff[id] = (uint32_t)p->spool.len;
	strbuf_add(&p->spool, s, strlen(s) + 1);
	idset_add(&p->sset, h, id);
	pb_bytes(&p->strings, 6, s, strlen(s));
	return id;
}

static int func_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct pp_profile *p = ctx;

	const struct pp_func *a = &p->funcs[id], *b = key;

	return a->name == b->name && a->system == b->system && a->file == b->file &&
	       a->start == b->start;
}

static uint32_t pp_func(struct pp_profile *p, const char *name, const char *system, const char *file,
			int64_t start)
{
	struct pp_func k;
	uint64_t h;
	uint32_t id;

	memset(&k, 0, sizeof(k));
	k.name = pp_str(p, name);
	k.system = pp_str(p, system);
	k.file = pp_str(p, file);
	k.start = start > 0 ? start : 0;
	h = hash_combine(hash_combine(hash_combine(hash_u64(k.name), k.system), k.file),
			 (uint64_t)k.start);
	id = idset_find(&p->fset, h, func_eq, p, &k);
	if (id)
		return id;
	id = ++p->nfuncs;
	xgrow((void **)&p->funcs, &p->cap_funcs, (unsigned long)id + 1, sizeof(*p->funcs));
	p->funcs[id] = k;
	idset_add(&p->fset, h, id);
	return id;
}

static int loc_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct pp_profile *p = ctx;
	const struct pp_loc *a = &p->locs[id], *b = key;

	return a->func == b->func && a->line == b->line;
}

static uint32_t pp_loc(struct pp_profile *p, uint32_t func, int64_t line)
{
	struct pp_loc k;
	uint64_t h;
	uint32_t id;

	memset(&k, 0, sizeof(k));
	k.func = func;
	k.line = line > 0 ? line : 0;
	h = hash_combine(hash_u64(func), (uint64_t)k.line);
	id = idset_find(&p->lset, h, loc_eq, p, &k);
	if (id)
		return id;
	id = ++p->nlocs;
	xgrow((void **)&p->locs, &p->cap_locs, (unsigned long)id + 1, sizeof(*p->locs));
	p->locs[id] = k;
	idset_add(&p->lset, h, id);
	return id;
}

static void pp_profile_init(struct pp_profile *p)
{
	memset(p, 0, sizeof(*p));
	strbuf_init(&p->strings);
	strbuf_init(&p->spool);
	idset_init(&p->sset);
	idset_init(&p->fset);
	idset_init(&p->lset);
	u64map_init(&p->stack_loc);
	u64map_init(&p->pseudo_loc);
	/* string_table[0] must be "" */
	xgrow((void **)&p->soff, &p->cap_soff, 1, sizeof(*p->soff));
	p->soff[0] = 0;
	strbuf_addc(&p->spool, '\0');
	p->nstr = 1;
	pb_bytes(&p->strings, 6, "", 0);
}

static void pp_profile_release(struct pp_profile *p)
{
	strbuf_release(&p->strings);
	strbuf_release(&p->spool);
	free(p->soff);
	free(p->funcs);
	free(p->locs);
	idset_release(&p->sset);
	idset_release(&p->fset);
	idset_release(&p->lset);
	u64map_release(&p->stack_loc);
	u64map_release(&p->pseudo_loc);
	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------ frames */

/* Location of one stack node's frame, as the label filters show it. */
static uint32_t pp_frame_loc(struct pp *s, struct pp_profile *p, uint32_t frame, int32_t line)
{
	const struct model *m = s->r->m;
	const struct filter *f = &s->r->f;
	const struct m_frame *fr = &m->frames[frame < m->nframes ? frame : 0];
	const char *name = model_str(m, f->qualname && fr->qualname ? fr->qualname : fr->name);
	const char *sys = model_str(m, fr->name);
	int64_t l;

	/*
	 * system_name only when it differs (co_name under --qualname): pprof
	 * "demangles" a function whose two names are equal, which turns
	 * <module> into <unknown> and <GC> into "".
	 */
	if (sys && name && strcmp(sys, name) == 0)
		sys = NULL;

	if (fr->kind == PSF_FRAME_SYNTHETIC) {
		strbuf_reset(&s->tmp);
		label_clean(&s->tmp, name ? name : "?");
		return pp_loc(p, pp_func(p, s->tmp.buf, NULL, NULL, 0), 0);
	}
	if (fr->kind == PSF_FRAME_NATIVE) {
		const char *mod = model_str(m, fr->file);
		const char *slash = mod ? strrchr(mod, '/') : NULL;

		return pp_loc(p, pp_func(p, name ? name : "??", sys,
					 f->full_filenames || !slash ? mod : slash + 1, 0),
			      0);
	}
	if (f->nolineno)
		l = 0;
	else if (f->function)
		l = fr->firstline;
	else
		l = line;
	return pp_loc(p, pp_func(p, name ? name : "?", sys,
				 agg_short_file(m, fr->file, f->full_filenames, s->short_files),
				 fr->firstline),
		      l);
}

static uint32_t pp_stack_loc(struct pp *s, struct pp_profile *p, uint32_t stack)
{
	const struct model *m = s->r->m;
	uint64_t v;
	uint32_t id;

	if (u64map_get(&p->stack_loc, stack, &v))
		return (uint32_t)v;
	id = pp_frame_loc(s, p, m->stack_frame[stack], m->stack_line[stack]);
	u64map_put(&p->stack_loc, stack, id);
	return id;
}

/*
 * Location of a --threads (kind 1) or --processes (kind 2) root frame, or
 * of the AGG_PARTIAL_LABEL root of a partial sample's frames (kind 3).
 */
static uint32_t pp_pseudo_loc(struct pp *s, struct pp_profile *p, int kind, int index)
{
	const struct model *m = s->r->m;
	uint64_t key = (uint64_t)kind << 32 | (uint32_t)index, v;
	uint32_t id;

	if (u64map_get(&p->pseudo_loc, key, &v))
		return (uint32_t)v;
	strbuf_reset(&s->tmp);
	if (kind == 1) {
		const struct m_thread *t = &m->threads[index];

		label_thread(&s->tmp, t->tid, t->py_thread_id, t->name);
	} else if (kind == 3) {
		strbuf_adds(&s->tmp, AGG_PARTIAL_LABEL);
	} else {
		const struct m_process *pr = &m->processes[index];

		label_process(&s->tmp, pr->pid, pr->cmdline);
	}
	id = pp_loc(p, pp_func(p, s->tmp.buf, NULL, NULL, 0), 0);
	u64map_put(&p->pseudo_loc, key, id);
	return id;
}

/* ------------------------------------------------------------ scan */

static int entry_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct pp *s = ctx;
	const struct pp_entry *a = &s->e[id - 1], *b = key;

	return a->window == b->window && a->thread == b->thread && a->stack == b->stack &&
	       a->partial == b->partial && a->gil == b->gil && a->idle == b->idle;
}

static uint64_t entry_hash(const struct pp_entry *k)
{
	return hash_combine(hash_combine(hash_u64((uint64_t)k->window << 32 | (uint32_t)k->thread),
					 k->stack),
			    (uint64_t)k->partial << 2 | (uint64_t)k->gil << 1 | k->idle);
}

static int64_t pp_period(const struct m_capture *c)
{
	return c->rate_hz > 0 ? 1000000000 / c->rate_hz : 10000000;
}

static int pp_scan(struct pp *s)
{
	struct model *m = s->r->m;
	struct samples *it = samples_open(m, &s->r->f);
	struct sample x;
	int rc;

	if (!it)
		return -1;
	while ((rc = samples_next(it, &x)) > 0) {
		const struct m_capture *c = &m->captures[x.capture];
		struct pp_entry k;
		uint32_t id;
		uint64_t h;

		if (!x.keep)
			continue;
		s->kept++;
		memset(&k, 0, sizeof(k));
		if (s->window_ns) {
			int64_t at = c->start_wall_ns + x.t - s->origin;
			int64_t w = at > 0 ? at / s->window_ns : 0;

			if (w >= (int64_t)PP_MAX_WINDOWS) {
				samples_free(it);
				return error("more than %u windows; choose a longer --window", PP_MAX_WINDOWS);
			}
			k.window = (uint32_t)w;
		}
		k.thread = x.thread;
		k.stack = x.stack;
		k.partial = (uint8_t)x.partial;
		k.gil = (uint8_t)x.gil;
		k.idle = (uint8_t)x.idle;
		/* Fast path: a thread often repeats its previous stack. */
		id = s->last[x.thread];
		if (!id || !entry_eq(s, id, &k)) {
			h = entry_hash(&k);
			id = idset_find(&s->eset, h, entry_eq, s, &k);
			if (!id) {
				if (s->ne >= 0xfffffff0u) {
					samples_free(it);
					return error("too many distinct stacks for a pprof profile");
				}
				xgrow((void **)&s->e, &s->cap_e, s->ne + 1, sizeof(*s->e));
				s->e[s->ne++] = k;
				id = (uint32_t)s->ne;
				idset_add(&s->eset, h, id);
			}
			s->last[x.thread] = id;
		}
		s->e[id - 1].count++;
		/* Real time: the sum of the samples' weights, never count x period. */
		s->e[id - 1].ns += x.w;
	}
	samples_free(it);
	return rc < 0 ? -1 : 0;
}

static int cmp_entries(const void *x, const void *y)
{
	const struct pp_entry *a = x, *b = y;

	if (a->window != b->window)
		return a->window < b->window ? -1 : 1;
	if (a->thread != b->thread)
		return a->thread < b->thread ? -1 : 1;
	if (a->stack != b->stack)
		return a->stack < b->stack ? -1 : 1;
	if (a->partial != b->partial)
		return a->partial < b->partial ? -1 : 1;
	if (a->gil != b->gil)
		return a->gil < b->gil ? -1 : 1;
	return (int)a->idle - (int)b->idle;
}

/* ------------------------------------------------------------ write */

static void pp_label_str(struct strbuf *b, struct strbuf *t, uint32_t key, uint32_t str)
{
	strbuf_reset(t);
	pb_int(t, 1, key);
	pb_int(t, 2, str);
	pb_bytes(b, 3, t->buf, t->len);
}

static void pp_label_num(struct strbuf *b, struct strbuf *t, uint32_t key, int64_t num)
{
	strbuf_reset(t);
	pb_int(t, 1, key);
	pb_int(t, 3, num);
	pb_bytes(b, 3, t->buf, t->len);
}

/* One sample message (appended to s->body). */
static void pp_sample(struct pp *s, struct pp_profile *p, const struct pp_entry *e)
{
	const struct model *m = s->r->m;
	const struct m_thread *t = &m->threads[e->thread];
	const struct m_process *pr = &m->processes[t->process];
	const struct m_capture *c = &m->captures[t->capture];
	struct strbuf *ids = &s->tmp2, *msg = &s->msg;
	uint32_t st;

	strbuf_reset(ids);
	for (st = e->stack; st; st = m->stack_parent[st])
		pb_varint(ids, pp_stack_loc(s, p, st));
	/* A partial sample's frames hang under <partial>, below thread and process. */
	if (e->partial)
		pb_varint(ids, pp_pseudo_loc(s, p, 3, 0));
	if (s->r->f.threads)
		pb_varint(ids, pp_pseudo_loc(s, p, 1, e->thread));
	if (s->show_processes) {
		int chain = t->process, n = 0;

		/* Innermost process first (location ids are leaf first); bounded depth. */
		while (chain >= 0 && n++ < 64) {
			pb_varint(ids, pp_pseudo_loc(s, p, 2, chain));
			chain = m->processes[chain].parent;
		}
	}
	strbuf_reset(msg);
	pb_bytes(msg, 1, ids->buf, ids->len);
	strbuf_reset(ids);
	pb_varint(ids, e->count);
	pb_varint(ids, (uint64_t)e->ns);
	pb_bytes(msg, 2, ids->buf, ids->len);
	pp_label_num(msg, ids, pp_str(p, "pid"), pr->pid);
	if (t->tid > 0)
		pp_label_num(msg, ids, pp_str(p, "thread_id"), t->tid);
	if (t->name)
		pp_label_str(msg, ids, pp_str(p, "thread_name"), pp_str(p, t->name));
	pp_label_str(msg, ids, pp_str(p, "gil"), pp_str(p, e->gil ? "true" : "false"));
	pp_label_str(msg, ids, pp_str(p, "idle"), pp_str(p, e->idle ? "true" : "false"));
	if (c->host)
		pp_label_str(msg, ids, pp_str(p, "host"), pp_str(p, c->host));
	pb_bytes(&s->body, 2, msg->buf, msg->len);
}

static void pp_value_type(struct strbuf *b, struct strbuf *t, int field, uint32_t type, uint32_t unit)
{
	strbuf_reset(t);
	pb_int(t, 1, type);
	pb_int(t, 2, unit);
	pb_bytes(b, field, t->buf, t->len);
}

/*
 * Encode entries e[0..n) as one Profile into s->body: samples, then the
 * location and function tables they use, the strings, and the header
 * fields.
 */
static void pp_encode(struct pp *s, const struct pp_entry *e, size_t n, int64_t start, int64_t dur,
		      const char *comment)
{
	struct pp_profile p;
	struct strbuf *t = &s->tmp2;
	int64_t period = 0;
	uint32_t i;
	int ci;

	for (ci = 0; ci < s->r->m->ncaptures; ci++)
		if (s->r->m->captures[ci].selected && !period)
			period = pp_period(&s->r->m->captures[ci]);
	pp_profile_init(&p);
	strbuf_reset(&s->body);
	pp_value_type(&s->body, t, 1, pp_str(&p, "samples"), pp_str(&p, "count"));
	pp_value_type(&s->body, t, 1, pp_str(&p, "wall"), pp_str(&p, "nanoseconds"));
	for (i = 0; i < n; i++)
		pp_sample(s, &p, &e[i]);
	for (i = 1; i <= p.nlocs; i++) {
		strbuf_reset(&s->msg);
		pb_int(&s->msg, 1, i);
		strbuf_reset(t);
		pb_int(t, 1, p.locs[i].func);
		pb_int(t, 2, p.locs[i].line);
		pb_bytes(&s->msg, 4, t->buf, t->len);
		pb_bytes(&s->body, 4, s->msg.buf, s->msg.len);
	}
	for (i = 1; i <= p.nfuncs; i++) {
		strbuf_reset(&s->msg);
		pb_int(&s->msg, 1, i);
		pb_int(&s->msg, 2, p.funcs[i].name);
		pb_int(&s->msg, 3, p.funcs[i].system);
		pb_int(&s->msg, 4, p.funcs[i].file);
		pb_int(&s->msg, 5, p.funcs[i].start);
		pb_bytes(&s->body, 5, s->msg.buf, s->msg.len);
	}
	{
		uint32_t wall = pp_str(&p, "wall"), ns = pp_str(&p, "nanoseconds");
		uint32_t cm = pp_str(&p, comment);

		pb_int(&s->body, 9, start);
		pb_int(&s->body, 10, dur);
		pp_value_type(&s->body, t, 11, wall, ns);
		pb_int(&s->body, 12, period);
		if (cm) {
			strbuf_reset(t);
			pb_varint(t, cm);
			pb_bytes(&s->body, 13, t->buf, t->len);
		}
		pb_int(&s->body, 14, wall);
	}
	strbuf_add(&s->body, p.strings.buf, p.strings.len);
	pp_profile_release(&p);
}

static int pp_write_file(FILE *fp, const struct strbuf *body, const char *what)
{
	if (gzip_write(fp, body->buf, body->len) < 0)
		return error("cannot write '%s': %s", what, strerror(errno));
	return 0;
}

/* The selection's time span: origin (+ --from) to the last capture end (or --to). */
static void pp_span(struct pp *s)
{
	const struct model *m = s->r->m;
	const struct filter *f = &s->r->f;
	int i;

	s->origin = INT64_MAX;
	s->end = INT64_MIN;
	for (i = 0; i < m->ncaptures; i++) {
		const struct m_capture *c = &m->captures[i];
		int64_t hi = c->end_ns < f->to_ns ? c->end_ns : f->to_ns;

		if (!c->selected)
			continue;
		if (c->start_wall_ns + f->from_ns < s->origin)
			s->origin = c->start_wall_ns + f->from_ns;
		if (c->start_wall_ns + hi > s->end)
			s->end = c->start_wall_ns + hi;
	}
	if (s->origin == INT64_MAX)
		s->origin = s->end = 0;
	if (s->end < s->origin)
		s->end = s->origin;
}

/* NAME.K.pb.gz from -o NAME.pb.gz, NAME.pb, or NAME. */
static char *window_path(const char *output, uint32_t k)
{
	size_t n = strlen(output);

	if (n > 6 && strcmp(output + n - 6, ".pb.gz") == 0)
		n -= 6;
	else if (n > 3 && strcmp(output + n - 3, ".pb") == 0)
		n -= 3;
	return xasprintf("%.*s.%u.pb.gz", (int)n, output, k);
}

static const struct cli_opt pp_opts[] = {
	{"", CLI_HEADING, NULL, "pprof:"},
	{"window", CLI_WINDOW, "SECONDS",
	 "one profile per SECONDS of wall-clock time, written to NAME.0.pb.gz, NAME.1.pb.gz... "
	 "(-o NAME.pb.gz required); lists them on standard output"},
	CLI_END,
};

static int pp_option(void *ctx, int code, const char *arg)
{
	struct pp *s = ctx;

	if (code != CLI_WINDOW)
		return 0;
	s->window_ns = (int64_t)(cli_seconds("--window", arg) * 1e9 + 0.5);
	if (s->window_ns < 1000000)
		usage_error("invalid --window '%s' (want at least 0.001 seconds)", arg);
	return 1;
}

static const char pp_synopsis[] = "pprof [FILTERS] [--window SECONDS] [-o FILE] SOURCE...";
static const char pp_description[] =
	"Write a gzipped pprof profile (profile.proto) for go tool pprof, Grafana Pyroscope,\n"
	"Parca or Google Cloud Profiler: values samples/count and wall/nanoseconds (the\n"
	"real time the samples stand for, as top's times), one function per Python\n"
	"function and one location per line, labels pid, thread_id, thread_name, gil,\n"
	"idle and host on every sample, the capture's start time and duration.  Stacks\n"
	"are the ones 'collapsed' writes with the same filters (a partial sample's frames\n"
	"under a '<partial>' root frame; --no-partial leaves them out).\n"
	"\n"
	"With --window, the selection is cut into consecutive windows of wall-clock time\n"
	"(from the earliest capture start, or --from), one profile each, as continuous-\n"
	"profiling stores ingest them; standard output lists one line per window with\n"
	"samples: FILE, start and end (ns since the epoch), samples.  Windows without\n"
	"samples are not written.  Binary output is not written to a terminal.";

static int pp_run(struct pp *s, struct out *o)
{
	struct report *r = s->r;
	char *title = report_title(r->m), *filters = filter_describe(&r->f);
	char *comment = *filters ? xasprintf("%s; %s", title, filters) : xstrdup(title);
	int ret = -1;
	size_t i, j;

	s->show_processes = filter_show_processes(&r->f, r->m);
	s->last = xcalloc((unsigned long)r->m->nthreads + 1, sizeof(*s->last));
	s->short_files = xcalloc((unsigned long)r->m->nstrings + 1, sizeof(char *));
	pp_span(s);
	if (pp_scan(s) < 0)
		goto out;
	if (s->ne)
		qsort(s->e, s->ne, sizeof(*s->e), cmp_entries);
	if (!s->kept)
		warning("no samples match the filters; the profile is empty");
	if (!s->window_ns) {
		pp_encode(s, s->e, s->ne, s->origin, s->end - s->origin, comment);
		ret = pp_write_file(o->fp, &s->body, r->output ? r->output : "standard output");
		goto out;
	}
	for (i = 0; i < s->ne; i = j) {
		uint32_t k = s->e[i].window;
		int64_t start = s->origin + (int64_t)k * s->window_ns, end = start + s->window_ns;
		uint64_t count = 0;
		char *path;
		struct out wo;

		for (j = i; j < s->ne && s->e[j].window == k; j++)
			count += s->e[j].count;
		if (end > s->end)
			end = s->end > start ? s->end : start + 1;
		pp_encode(s, s->e + i, j - i, start, end - start, comment);
		path = window_path(r->output, k);
		if (out_open(&wo, path) < 0) {
			free(path);
			goto out;
		}
		if (pp_write_file(wo.fp, &s->body, path) < 0) {
			out_abort(&wo);
			free(path);
			goto out;
		}
		if (out_close(&wo) < 0) {
			free(path);
			goto out;
		}
		fprintf(o->fp, "%s\t%lld\t%lld\t%llu\n", path, (long long)start, (long long)end,
			(unsigned long long)count);
		free(path);
	}
	ret = 0;
out:
	free(title);
	free(filters);
	free(comment);
	return ret;
}

int cmd_pprof(int argc, char **argv)
{
	const struct cli_opt *const tables[4] = {pp_opts, filter_opts, report_output_opts, cli_common_opts};
	struct report r;
	struct pp s;
	struct out o;
	int ret = EXIT_RUNTIME;
	uint32_t i;

	memset(&s, 0, sizeof(s));
	report_parse(&r, argc, argv, tables, pp_synopsis, pp_description, pp_option, &s);
	s.r = &r;
	if (s.window_ns && (!r.output || strcmp(r.output, "-") == 0))
		usage_error("--window needs -o NAME.pb.gz (the windows go to NAME.0.pb.gz, NAME.1.pb.gz...)");
	if (!s.window_ns && (!r.output || strcmp(r.output, "-") == 0) && isatty(STDOUT_FILENO))
		usage_error("refusing to write a binary profile to a terminal (use -o FILE)");
	idset_init(&s.eset);
	strbuf_init(&s.tmp);
	strbuf_init(&s.tmp2);
	strbuf_init(&s.msg);
	strbuf_init(&s.body);
	/* With --window, -o names the windows and standard output lists them. */
	if (out_open(&o, s.window_ns ? NULL : r.output) < 0) {
		report_close(&r);
		return EXIT_RUNTIME;
	}
	if (report_open(&r) < 0 || pp_run(&s, &o) < 0) {
		out_abort(&o);
		goto done;
	}
	if (out_close(&o) == 0)
		ret = EXIT_OK;
done:
	if (s.short_files && r.m)
		for (i = 0; i <= r.m->nstrings; i++)
			free(s.short_files[i]);
	free(s.short_files);
	free(s.e);
	free(s.last);
	idset_release(&s.eset);
	strbuf_release(&s.tmp);
	strbuf_release(&s.tmp2);
	strbuf_release(&s.msg);
	strbuf_release(&s.body);
	report_close(&r);
	return ret;
}
