/*
 * filter.c - FILTERS: option parsing and selection (filter.h).
 */
#include "filter.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "pyspy_format.h"
#include "strbuf.h"

#define FILTER_SELECT_ENTRIES                                                                   \
	{"capture", CLI_CAPTURE, "ID|HOST",                                                     \
	 "only captures with this database id, capture id prefix, "                          \
	 "host or file name (glob); repeatable"},                                               \
		{"pid", 'p', "PID[,PID...]", "only these processes"},                           \
		{"tid", CLI_TID, "TID[,TID...]",                                                \
		 "only these threads (OS thread id, or Python thread id as 0x hex)"},          \
		{"thread", CLI_THREAD, "NAME",                                                  \
		 "only threads whose name matches (glob: * ? [...]); repeatable"}

const struct cli_opt filter_select_opts[] = {
	{"", CLI_HEADING, NULL, "Selection:"},
	FILTER_SELECT_ENTRIES,
	CLI_END,
};

const struct cli_opt filter_opts[] = {
	{"", CLI_HEADING, NULL, "Filters:"},
	FILTER_SELECT_ENTRIES,
	{"from", CLI_FROM, "SECONDS", "only samples at or after this time (since capture start)"},
	{"to", CLI_TO, "SECONDS", "only samples at or before this time (since capture start)"},
	{"gil", 'g', NULL, "only samples whose thread held the GIL"},
	{"idle", 'i', NULL, "include idle samples (left out by default, as in py-spy)"},
	{"no-partial", CLI_NO_PARTIAL, NULL,
	 "leave out partial samples (by default under a '<partial>' root frame)"},
	{"function", 'F', NULL, "aggregate by function (line = the function's first line)"},
	{"nolineno", CLI_NOLINENO, NULL, "no line numbers"},
	{"threads", 't', NULL, "add a 'thread (TID): NAME' root frame per thread"},
	{"processes", CLI_PROCESSES, NULL,
	 "add 'process PID:\"CMD\"' root frames (default: when the capture followed subprocesses)"},
	{"no-processes", CLI_NO_PROCESSES, NULL, "no process root frames"},
	{"full-filenames", CLI_FULL_FILENAMES, NULL, "show full file paths instead of short names"},
	{"qualname", CLI_QUALNAME, NULL, "name frames by qualified name (Class.method) where known"},
	CLI_END,
};

void filter_init(struct filter *f)
{
	memset(f, 0, sizeof(*f));
	f->to_ns = INT64_MAX;
	f->processes = -1;
}

void filter_release(struct filter *f)
{
	free(f->pids);
	free(f->tids);
	free((void *)f->thread_globs);
	free((void *)f->captures);
	filter_init(f);
}

/*
 * A comma list of positive numbers, decimal or 0x hex.  For --tid, hex
 * means a Python thread id, stored as -1 - id (never a valid OS tid).
 */
static void add_list(int64_t **arr, int *n, const char *opt, const char *arg, int hex_is_pyid)
{
	const char *p = arg;

	for (;;) {
		char *end;
		long long v;
		int hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');

		errno = 0;
		v = hex ? (long long)strtoull(p, &end, 16) : strtoll(p, &end, 10);
		if (errno || end == p || end == p + 2 * hex || (*end && *end != ',') ||
		    (!hex_is_pyid || !hex ? v <= 0 || v > INT32_MAX : 0))
			usage_error("invalid %s '%s'", opt, arg);
		*arr = xrealloc(*arr, (unsigned long)(*n + 1) * sizeof(**arr));
		(*arr)[(*n)++] = hex && hex_is_pyid ? -1 - (v & INT64_MAX) : v;
		if (!*end)
			break;
		p = end + 1;
	}
}

static void add_str(const char ***arr, int *n, const char *arg)
{
	*arr = xrealloc(*arr, (unsigned long)(*n + 1) * sizeof(**arr));
	(*arr)[(*n)++] = arg; /* borrowed: argv strings live until exit */
}

int filter_option(struct filter *f, int code, const char *arg)
{
	switch (code) {
	case CLI_CAPTURE:
		add_str(&f->captures, &f->ncaptures, arg);
		return 1;
	case 'p':
		add_list(&f->pids, &f->npids, "--pid", arg, 0);
		return 1;
	case CLI_TID:
		add_list(&f->tids, &f->ntids, "--tid", arg, 1);
		return 1;
	case CLI_THREAD:
		add_str(&f->thread_globs, &f->nthread_globs, arg);
		return 1;
	case CLI_FROM:
		f->from_ns = (int64_t)(cli_seconds("--from", arg) * 1e9 + 0.5);
		f->has_from = 1;
		return 1;
	case CLI_TO:
		f->to_ns = (int64_t)(cli_seconds("--to", arg) * 1e9 + 0.5);
		f->has_to = 1;
		return 1;
	case 'g':
		f->gil = 1;
		return 1;
	case 'i':
		f->idle = 1;
		return 1;
	case CLI_NO_PARTIAL:
		f->no_partial = 1;
		return 1;
	case 'F':
		f->function = 1;
		return 1;
	case CLI_NOLINENO:
		f->nolineno = 1;
		return 1;
	case 't':
		f->threads = 1;
		return 1;
	case CLI_PROCESSES:
		f->processes = 1;
		return 1;
	case CLI_NO_PROCESSES:
		f->processes = 0;
		return 1;
	case CLI_FULL_FILENAMES:
		f->full_filenames = 1;
		return 1;
	case CLI_QUALNAME:
		f->qualname = 1;
		return 1;
	default:
		return 0;
	}
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int capture_matches(const struct m_capture *c, const char *pat)
{
	char *end;
	long long v;
	size_t n = strlen(pat);

	errno = 0;
	v = strtoll(pat, &end, 10);
	if (!errno && *pat && !*end && v == c->id)
		return 1;
	if (n >= 4 && n <= 32 && strncmp(c->uuid, pat, n) == 0)
		return 1;
	if (c->host && fnmatch(pat, c->host, 0) == 0)
		return 1;
	if (c->file) {
		const char *b = base_name(c->file), *dot = strrchr(b, '.');
		char stem[256];

		if (fnmatch(pat, c->file, 0) == 0 || fnmatch(pat, b, 0) == 0)
			return 1;
		/* "web1" also names web1.pyspy */
		if (dot && (size_t)(dot - b) < sizeof(stem)) {
			memcpy(stem, b, (size_t)(dot - b));
			stem[dot - b] = '\0';
			if (fnmatch(pat, stem, 0) == 0)
				return 1;
		}
	}
	return 0;
}

/* 1 if name matches a --thread glob; hits[j] set for each glob j it matches. */
static int thread_name_matches(struct filter *f, const char *name, char *hits)
{
	int i, any = 0;

	if (!name)
		return 0;
	for (i = 0; i < f->nthread_globs; i++)
		if (fnmatch(f->thread_globs[i], name, 0) == 0) {
			any = 1;
			if (hits)
				hits[i] = 1;
		}
	return any;
}

static int tid_matches(int64_t v, const struct m_thread *t)
{
	return (v > 0 && v == t->tid) ||
	       (v < 0 && (uint64_t)(-1 - v) == (t->py_thread_id & INT64_MAX));
}

/*
 * One warning per --pid, --tid and --thread value that matches nothing in
 * the selected captures (each on its own, not combined): an empty report
 * must not look like an idle program.  glob_hits[j]: --thread glob j
 * matched a name of a thread of a selected capture.
 */
static int warn_unmatched(struct filter *f, const struct model *m, const char *glob_hits)
{
	int i, j, warned = 0;

	for (j = 0; j < f->npids; j++) {
		for (i = 0; i < m->nprocesses; i++)
			if (m->captures[m->processes[i].capture].selected &&
			    m->processes[i].pid == f->pids[j])
				break;
		if (i == m->nprocesses && ++warned)
			warning("--pid %lld matches no process", (long long)f->pids[j]);
	}
	for (j = 0; j < f->ntids; j++) {
		for (i = 0; i < m->nthreads; i++)
			if (m->captures[m->threads[i].capture].selected &&
			    tid_matches(f->tids[j], &m->threads[i]))
				break;
		if (i < m->nthreads)
			continue;
		warned++;
		if (f->tids[j] > 0)
			warning("--tid %lld matches no thread", (long long)f->tids[j]);
		else
			warning("--tid 0x%llX matches no thread", (unsigned long long)(-1 - f->tids[j]));
	}
	for (j = 0; j < f->nthread_globs; j++)
		if (!glob_hits[j] && ++warned)
			warning("--thread '%s' matches no thread name", f->thread_globs[j]);
	return warned;
}

int filter_select(struct filter *f, struct model *m)
{
	int i, j, n = 0, warned;
	char *matched = NULL, *glob_hits = xcalloc((unsigned long)f->nthread_globs + 1, 1);

	if (f->has_from && f->has_to && f->to_ns < f->from_ns)
		usage_error("--to must not be before --from");
	for (i = 0; i < m->ncaptures; i++) {
		struct m_capture *c = &m->captures[i];

		c->selected = f->ncaptures == 0;
		for (j = 0; j < f->ncaptures && !c->selected; j++)
			c->selected = capture_matches(c, f->captures[j]);
	}
	for (j = 0; j < f->ncaptures; j++) {
		for (i = 0; i < m->ncaptures; i++)
			if (capture_matches(&m->captures[i], f->captures[j]))
				break;
		if (i == m->ncaptures)
			return error("--capture '%s' matches no capture", f->captures[j]);
	}
	for (i = 0; i < m->nprocesses; i++) {
		struct m_process *p = &m->processes[i];

		p->selected = m->captures[p->capture].selected;
		if (p->selected && f->npids) {
			p->selected = 0;
			for (j = 0; j < f->npids; j++)
				if (f->pids[j] == p->pid)
					p->selected = 1;
		}
	}
	if (f->nthread_globs) {
		/* Any name a thread ever had counts (threads can be renamed). */
		sqlite3_stmt *st = NULL;

		matched = xcalloc((unsigned long)m->nthreads + 1, 1);
		for (i = 0; i < m->nthreads; i++)
			matched[i] = (char)thread_name_matches(
				f, m->threads[i].name,
				m->captures[m->threads[i].capture].selected ? glob_hits : NULL);
		if (sqlite3_prepare_v2(m->db, "SELECT DISTINCT thread, name FROM thread_names", -1, &st,
				       NULL) == SQLITE_OK) {
			while (sqlite3_step(st) == SQLITE_ROW) {
				int ti = model_thread(m, sqlite3_column_int64(st, 0));

				if (ti >= 0 &&
				    thread_name_matches(f, (const char *)sqlite3_column_text(st, 1),
							m->captures[m->threads[ti].capture].selected
								? glob_hits
								: NULL))
					matched[ti] = 1;
			}
		}
		sqlite3_finalize(st);
	}
	warned = warn_unmatched(f, m, glob_hits);
	for (i = 0; i < m->nthreads; i++) {
		struct m_thread *t = &m->threads[i];

		t->selected = m->processes[t->process].selected;
		if (t->selected && f->ntids) {
			t->selected = 0;
			for (j = 0; j < f->ntids; j++) {
				if (tid_matches(f->tids[j], t))
					t->selected = 1;
			}
		}
		if (t->selected && matched)
			t->selected = matched[i];
		n += t->selected;
	}
	if (n == 0 && !warned && (f->npids || f->ntids || f->nthread_globs))
		warning("--pid, --tid and --thread together match no thread");
	free(matched);
	free(glob_hits);
	return n;
}

int filter_show_processes(const struct filter *f, const struct model *m)
{
	int i;

	if (f->processes >= 0)
		return f->processes;
	for (i = 0; i < m->ncaptures; i++)
		if (m->captures[i].selected && (m->captures[i].header_flags & PSF_HF_SUBPROCESSES))
			return 1;
	return 0;
}

char *filter_describe(const struct filter *f)
{
	struct strbuf sb;
	int i;

	strbuf_init(&sb);
	for (i = 0; i < f->ncaptures; i++)
		strbuf_addf(&sb, "%scapture %s", sb.len ? ", " : "", f->captures[i]);
	for (i = 0; i < f->npids; i++)
		strbuf_addf(&sb, "%spid %lld", sb.len ? ", " : "", (long long)f->pids[i]);
	for (i = 0; i < f->ntids; i++) {
		if (f->tids[i] > 0)
			strbuf_addf(&sb, "%stid %lld", sb.len ? ", " : "", (long long)f->tids[i]);
		else
			strbuf_addf(&sb, "%sthread 0x%llX", sb.len ? ", " : "",
				    (unsigned long long)(-1 - f->tids[i]));
	}
	for (i = 0; i < f->nthread_globs; i++)
		strbuf_addf(&sb, "%sthread '%s'", sb.len ? ", " : "", f->thread_globs[i]);
	if (f->has_from || f->has_to) {
		strbuf_addf(&sb, "%s", sb.len ? ", " : "");
		if (f->has_from)
			strbuf_addf(&sb, "from %.3f s", (double)f->from_ns / 1e9);
		if (f->has_to)
			strbuf_addf(&sb, "%sto %.3f s", f->has_from ? " " : "", (double)f->to_ns / 1e9);
	}
	if (f->gil)
		strbuf_addf(&sb, "%sGIL only", sb.len ? ", " : "");
	if (f->idle)
		strbuf_addf(&sb, "%sidle included", sb.len ? ", " : "");
	if (f->no_partial)
		strbuf_addf(&sb, "%spartial excluded", sb.len ? ", " : "");
	return strbuf_detach(&sb);
}
