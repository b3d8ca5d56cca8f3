/*
 * cmd_dump.c - the stack of every thread at one moment, in py-spy's dump
 * format (docs/pyspy-analyze.1.md, "dump").
 *
 * Which sample: without --at, each thread's last sample, for threads
 * still alive when their process was last sampled.  With --at S, the
 * first tick of each capture at or after S seconds (the threads' samples
 * within one sampling period of it); after the last tick, as without
 * --at.  Local variables recorded with the sample (LOCAL records) are
 * printed under their frame with --locals, as py-spy does.
 */
#include "cmd_dump.h"

#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "db.h"
#include "escape.h"
#include "label.h"
#include "msg.h"
#include "out.h"
#include "pyspy_format.h"
#include "report.h"

struct dump_opts {
	int json;
	int locals;
	int has_at;
	int64_t at_ns;
};

struct pick {
	int found;
	int64_t t;
	uint32_t stack;
	int64_t flags;
};

struct local_var {
	uint32_t depth;
	int is_arg;
	int64_t flags;           /* PSF_LF_* */
	char *name, *repr;
};

static const struct cli_opt dump_opts[] = {
	{"", CLI_HEADING, NULL, "Dump:"},
	{"at", CLI_AT, "SECONDS", "the moment, since capture start (default: each thread's last sample)"},
	{"json", CLI_JSON, NULL, "write JSON (like 'py-spy dump --json')"},
	{"locals", CLI_LOCALS, NULL, "show the local variables the capture recorded (--locals)"},
	{"no-partial", CLI_NO_PARTIAL, NULL,
	 "skip partial samples: each thread's latest complete one"},
	{"full-filenames", CLI_FULL_FILENAMES, NULL, "show full file paths instead of short names"},
	{"qualname", CLI_QUALNAME, NULL, "name frames by qualified name (Class.method) where known"},
	CLI_END,
};

static int dump_option(void *ctx, int code, const char *arg)
{
	struct dump_opts *o = ctx;

	switch (code) {
	case CLI_AT:
		o->at_ns = (int64_t)(cli_seconds("--at", arg) * 1e9 + 0.5);
		o->has_at = 1;
		return 1;
	case CLI_JSON:
		o->json = 1;
		return 1;
	case CLI_LOCALS:
		o->locals = 1;
		return 1;
	default:
		return 0;
	}
}

/*
 * Leave out threads that no longer existed at the moment shown: threads
 * whose last sample is more than two periods older than the last sample
 * of their process (every live thread is sampled at every tick).
 */
static void drop_stale(const struct model *m, struct pick *picks)
{
	int64_t *proc_last = xcalloc((unsigned long)m->nprocesses + 1, sizeof(*proc_last));
	int i;

	for (i = 0; i < m->nthreads; i++)
		if (picks[i].found && picks[i].t > proc_last[m->threads[i].process])
			proc_last[m->threads[i].process] = picks[i].t;
	for (i = 0; i < m->nthreads; i++) {
		const struct m_thread *t = &m->threads[i];
		const struct m_capture *c = &m->captures[t->capture];
		int64_t period = c->rate_hz > 0 ? 1000000000 / c->rate_hz : 10000000;

		if (picks[i].found && picks[i].t < proc_last[t->process] - 2 * period)
			picks[i].found = 0;
	}
	free(proc_last);
}

/* Fill pk from the columns t, stack, flags of st, starting at column col. */
static void pick_row(struct pick *pk, sqlite3_stmt *st, int col)
{
	pk->found = 1;
	pk->t = sqlite3_column_int64(st, col);
	pk->stack = (uint32_t)sqlite3_column_int64(st, col + 1);
	pk->flags = sqlite3_column_int64(st, col + 2);
}

/*
 * Keep the sample in picks if it is the thread's earliest (first = 1) or
 * latest; a partial one is skipped with --no-partial.
 */
static void pick_keep(const struct model *m, sqlite3_stmt *st, struct pick *picks, int first,
		      int no_partial)
{
	int ti = model_thread(m, sqlite3_column_int64(st, 0));
	int64_t t = sqlite3_column_int64(st, 1);

	if (ti < 0 || !m->threads[ti].selected ||
	    (no_partial && (sqlite3_column_int64(st, 3) & PSF_SF_PARTIAL)) ||
	    (picks[ti].found && (first ? picks[ti].t <= t : picks[ti].t > t)))
		return;
	pick_row(&picks[ti], st, 1);
}

/*
 * --at: the capture's first tick at or after at_ns, i.e. each thread's
 * earliest sample in [T, T + period) where T is the earliest sample time
 * >= at_ns (the samples of one tick differ by the time it took to read
 * them, far less than a period).  After the last tick: each thread's
 * latest sample, threads gone two periods before the end left out.
 */
static int pick_at(struct model *m, const struct m_capture *c, int64_t at_ns, int no_partial,
		   struct pick *picks)
{
	int64_t period = c->rate_hz > 0 ? 1000000000 / c->rate_hz : 10000000;
	sqlite3_stmt *st = db_prepare(m->db, "SELECT min(t) FROM samples"
					     " WHERE id BETWEEN ?1 AND ?2 AND capture = ?3 AND t >= ?4");
	int64_t tick = -1, lo, hi;
	int rc, after;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, c->sample_first);
	sqlite3_bind_int64(st, 2, c->sample_last);
	sqlite3_bind_int64(st, 3, c->id);
	sqlite3_bind_int64(st, 4, at_ns);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		tick = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_error(m->db, "cannot read");
	after = tick < 0;
	lo = after ? 0 : tick;
	hi = after ? INT64_MAX : tick + period - 1;
	st = db_prepare(m->db, "SELECT thread, t, stack, flags FROM samples"
			       " WHERE id BETWEEN ?1 AND ?2 AND capture = ?3 AND t BETWEEN ?4 AND ?5");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, c->sample_first);
	sqlite3_bind_int64(st, 2, c->sample_last);
	sqlite3_bind_int64(st, 3, c->id);
	sqlite3_bind_int64(st, 4, lo);
	sqlite3_bind_int64(st, 5, hi);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		pick_keep(m, st, picks, !after, no_partial);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(m->db, "cannot read");
	if (after) {
		int i;

		/* threads of this capture that ended before its last tick */
		for (i = 0; i < m->nthreads; i++)
			if (m->threads[i].capture == c - m->captures && picks[i].found &&
			    m->threads[i].last_ns < c->end_ns - 2 * period)
				picks[i].found = 0;
	}
	return 0;
}

/*
 * --no-partial without --at: a shown thread whose last sample is partial
 * shows its latest complete one instead (none: the thread is left out).
 */
static int last_complete(struct model *m, struct pick *picks)
{
	sqlite3_stmt *st = db_prepare(m->db, "SELECT t, stack, flags FROM samples WHERE id BETWEEN ?1 AND ?2"
					     " AND thread = ?3 AND (flags & ?4) = 0 ORDER BY id DESC LIMIT 1");
	int i, rc = SQLITE_DONE;

	if (!st)
		return -1;
	for (i = 0; i < m->nthreads; i++) {
		const struct m_thread *t = &m->threads[i];

		if (!picks[i].found || !(picks[i].flags & PSF_SF_PARTIAL))
			continue;
		picks[i].found = 0;
		sqlite3_bind_int64(st, 1, m->captures[t->capture].sample_first);
		sqlite3_bind_int64(st, 2, t->last_sample);
		sqlite3_bind_int64(st, 3, t->id);
		sqlite3_bind_int64(st, 4, PSF_SF_PARTIAL);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			pick_row(&picks[i], st, 0);
			rc = SQLITE_DONE;
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

static int pick_samples(struct report *r, const struct dump_opts *o, struct pick *picks)
{
	struct model *m = r->m;
	sqlite3_stmt *st;
	int i, rc = SQLITE_DONE, ret = 0;

	if (!o->has_at) {
		st = db_prepare(m->db, "SELECT t, stack, flags FROM samples WHERE id = ?");
		if (!st)
			return -1;
		for (i = 0; i < m->nthreads; i++) {
			const struct m_thread *t = &m->threads[i];

			if (!t->selected || !m->captures[t->capture].selected || t->last_sample <= 0)
				continue;
			sqlite3_bind_int64(st, 1, t->last_sample);
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW) {
				pick_row(&picks[i], st, 0);
				rc = SQLITE_DONE;
			}
			sqlite3_reset(st);
			if (rc != SQLITE_DONE)
				break;
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return db_error(m->db, "cannot read");
		drop_stale(m, picks);
		return r->f.no_partial ? last_complete(m, picks) : 0;
	}
	for (i = 0; i < m->ncaptures && ret == 0; i++) {
		const struct m_capture *c = &m->captures[i];

		if (c->selected && c->sample_first)
			ret = pick_at(m, c, o->at_ns, r->f.no_partial, picks);
	}
	return ret;
}

static int load_locals(sqlite3 *db, int64_t thread, int64_t t, struct local_var **out, int *n)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT depth, name, repr, is_arg, flags FROM locals"
					  " WHERE thread = ? AND t = ? ORDER BY id");
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, thread);
	sqlite3_bind_int64(st, 2, t);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct local_var *v;

		*out = xrealloc(*out, (unsigned long)(*n + 1) * sizeof(**out));
		v = &(*out)[(*n)++];
		v->depth = (uint32_t)sqlite3_column_int64(st, 0);
		v->name = xstrdup(sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "?");
		v->repr = xstrdup(sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "");
		v->is_arg = sqlite3_column_int(st, 3);
		v->flags = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(db, "cannot read");
}

static void free_locals(struct local_var *v, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].repr);
	}
	free(v);
}

static const struct model *order_m;

static int cmp_threads(const void *x, const void *y)
{
	const struct m_thread *a = &order_m->threads[*(const int *)x], *b = &order_m->threads[*(const int *)y];

	if (a->process != b->process)
		return a->process < b->process ? -1 : 1;
	if (a->is_main != b->is_main)
		return a->is_main ? -1 : 1;
	if (a->first_ns != b->first_ns)
		return a->first_ns < b->first_ns ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static const char *status(const struct model *m, const struct pick *p)
{
	if ((p->flags & PSF_SF_IDLE) || model_stack_idle_leaf(m, p->stack))
		return "idle";
	return (p->flags & PSF_SF_GIL) ? "active+gil" : "active";
}

static void print_thread_id(FILE *fp, const struct m_thread *t)
{
	if (t->tid > 0)
		fprintf(fp, "%lld", (long long)t->tid);
	else
		fprintf(fp, "0x%llX", (unsigned long long)t->py_thread_id);
}

static void print_clean(FILE *fp, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, fp);
}

/* Frames of a stack, innermost first. */
static uint32_t *stack_path(const struct model *m, uint32_t stack, uint32_t *n)
{
	uint32_t *p = NULL, s;
	unsigned long cap = 0;

	*n = 0;
	for (s = stack; s && s < m->nstacks; s = m->stack_parent[s]) {
		xgrow((void **)&p, &cap, (unsigned long)*n + 1, sizeof(*p));
		p[(*n)++] = s;
	}
	return p;
}

static void text_locals(FILE *fp, const struct local_var *v, int n, uint32_t depth)
{
	int pass, i, head;

	for (pass = 1; pass >= 0; pass--) {
		head = 0;
		for (i = 0; i < n; i++) {
			if (v[i].depth != depth || v[i].is_arg != pass)
				continue;
			if (!head++)
				fprintf(fp, "        %s:\n", pass ? "Arguments" : "Locals");
			fprintf(fp, "            ");
			print_clean(fp, v[i].name);
			fprintf(fp, ": ");
			print_clean(fp, v[i].repr);
			fputc('\n', fp);
		}
	}
}

static void text_thread(FILE *fp, struct report *r, int ti, const struct pick *p, char **short_files,
			int locals)
{
	const struct model *m = r->m;
	const struct m_thread *t = &m->threads[ti];
	struct local_var *vars = NULL;
	int nvars = 0;
	uint32_t n, i, *path;
	struct strbuf sb;

	fprintf(fp, "Thread ");
	print_thread_id(fp, t);
	fprintf(fp, " (%s)", status(m, p));
	if (t->name) {
		fprintf(fp, ": \"");
		print_clean(fp, t->name);
		fputc('"', fp);
	}
	fputc('\n', fp);
	if (locals)
		load_locals(m->db, t->id, p->t, &vars, &nvars);
	path = stack_path(m, p->stack, &n);
	strbuf_init(&sb);
	for (i = 0; i < n; i++) {
		strbuf_reset(&sb);
		agg_frame_text(&sb, m, &r->f, m->stack_frame[path[i]], m->stack_line[path[i]], 0,
			       short_files);
		fprintf(fp, "    %s\n", sb.buf);
		if (nvars)
			text_locals(fp, vars, nvars, i);
	}
	/* the outermost frames are missing: never show the stack as whole */
	if (p->flags & PSF_SF_PARTIAL)
		fprintf(fp, "    %s\n", AGG_PARTIAL_LABEL);
	strbuf_release(&sb);
	free(path);
	free_locals(vars, nvars);
}

static void json_kv(FILE *fp, int indent, const char *key, const char *val, int last)
{
	fprintf(fp, "%*s\"%s\": ", indent, "", key);
	json_fputs(fp, val);
	fprintf(fp, "%s\n", last ? "" : ",");
}

static void json_process_info(FILE *fp, const struct model *m, int pi, int indent)
{
	const struct m_process *p = &m->processes[pi];

	fprintf(fp, "{\n%*s\"pid\": %lld,\n", indent + 2, "", (long long)p->pid);
	json_kv(fp, indent + 2, "command_line", p->cmdline ? p->cmdline : "", 0);
	fprintf(fp, "%*s\"parent\": ", indent + 2, "");
	if (p->parent >= 0)
		json_process_info(fp, m, p->parent, indent + 2);
	else
		fprintf(fp, "null");
	fprintf(fp, "\n%*s}", indent, "");
}

static void json_thread(FILE *fp, struct report *r, int ti, const struct pick *p, char **short_files,
			int first, int locals)
{
	const struct model *m = r->m;
	const struct m_thread *t = &m->threads[ti];
	const struct m_process *pr = &m->processes[t->process];
	const char *st = status(m, p);
	struct local_var *vars = NULL;
	int nvars = 0, k;
	uint32_t n, i, *path;

	if (locals)
		load_locals(m->db, t->id, p->t, &vars, &nvars);
	fprintf(fp, "%s  {\n", first ? "" : ",\n");
	fprintf(fp, "    \"pid\": %lld,\n    \"thread_id\": %llu,\n", (long long)pr->pid,
		(unsigned long long)t->py_thread_id);
	fprintf(fp, "    \"thread_name\": ");
	json_fputs(fp, t->name);
	fprintf(fp, ",\n    \"os_thread_id\": ");
	if (t->tid > 0)
		fprintf(fp, "%lld", (long long)t->tid);
	else
		fprintf(fp, "null");
	fprintf(fp, ",\n    \"active\": %s,\n    \"owns_gil\": %s,\n    \"frames\": [",
		strcmp(st, "idle") ? "true" : "false", (p->flags & PSF_SF_GIL) ? "true" : "false");
	path = stack_path(m, p->stack, &n);
	for (i = 0; i < n; i++) {
		const struct m_frame *fr = &m->frames[m->stack_frame[path[i]]];
		uint32_t nameid = r->f.qualname && fr->qualname ? fr->qualname : fr->name;
		int32_t line = m->stack_line[path[i]];
		int any = 0;

		fprintf(fp, "%s\n      {\n", i ? "," : "");
		json_kv(fp, 8, "name", model_str(m, nameid) ? model_str(m, nameid) : "?", 0);
		json_kv(fp, 8, "filename", model_str(m, fr->file) ? model_str(m, fr->file) : "", 0);
		fprintf(fp, "        \"module\": null,\n");
		json_kv(fp, 8, "short_filename", agg_short_file(m, fr->file, 0, short_files), 0);
		fprintf(fp, "        \"line\": %d,\n", line > 0 ? line : 0);
		fprintf(fp, "        \"locals\": ");
		for (k = 0; k < nvars; k++) {
			if (vars[k].depth != i)
				continue;
			fprintf(fp, "%s\n          {\n", any++ ? "," : "[");
			json_kv(fp, 12, "name", vars[k].name, 0);
			fprintf(fp, "            \"addr\": 0,\n            \"arg\": %s,\n",
				vars[k].is_arg ? "true" : "false");
			fprintf(fp, "            \"truncated\": %s,\n            \"error\": %s,\n",
				(vars[k].flags & PSF_LF_TRUNCATED) ? "true" : "false",
				(vars[k].flags & PSF_LF_ERROR) ? "true" : "false");
			json_kv(fp, 12, "repr", vars[k].repr, 1);
			fprintf(fp, "          }");
		}
		fprintf(fp, "%s,\n", any ? "\n        ]" : "null");
		fprintf(fp, "        \"is_entry\": true,\n        \"is_shim_entry\": false\n      }");
	}
	if (p->flags & PSF_SF_PARTIAL) {
		/* the synthetic root of a partial stack, as the outermost frame */
		fprintf(fp, "%s\n      {\n", n ? "," : "");
		json_kv(fp, 8, "name", AGG_PARTIAL_LABEL, 0);
		fprintf(fp, "        \"filename\": \"\",\n        \"module\": null,\n"
			    "        \"short_filename\": \"\",\n        \"line\": 0,\n"
			    "        \"locals\": null,\n        \"is_entry\": true,\n"
			    "        \"is_shim_entry\": false\n      }");
		n++;
	}
	fprintf(fp, "%s],\n    \"process_info\": ", n ? "\n    " : "");
	json_process_info(fp, m, t->process, 4);
	fprintf(fp, "\n  }");
	free(path);
	free_locals(vars, nvars);
}

static void dump_write(FILE *fp, struct report *r, const struct dump_opts *o, struct pick *picks)
{
	const struct model *m = r->m;
	int *order = xmalloc((unsigned long)(m->nthreads + 1) * sizeof(int));
	char **short_files = xcalloc(m->nstrings + 1, sizeof(char *));
	int n = 0, i, ncap = 0, last_proc = -1, last_cap = -1, first = 1;
	uint32_t u;

	for (i = 0; i < m->nthreads; i++)
		if (picks[i].found)
			order[n++] = i;
	order_m = m;
	qsort(order, (size_t)n, sizeof(*order), cmp_threads);
	for (i = 0; i < m->ncaptures; i++)
		ncap += m->captures[i].selected;
	if (o->json)
		fprintf(fp, "[\n");
	for (i = 0; i < n; i++) {
		int ti = order[i];
		const struct m_thread *t = &m->threads[ti];

		if (o->json) {
			json_thread(fp, r, ti, &picks[ti], short_files, first, o->locals);
			first = 0;
			continue;
		}
		if (t->capture != last_cap && ncap > 1) {
			const struct m_capture *c = &m->captures[t->capture];

			fprintf(fp, "%sCapture %.12s (host %s, file %s)\n\n", last_cap >= 0 ? "\n" : "",
				c->uuid, c->host ? c->host : "?", c->file);
			last_proc = -1;
		}
		last_cap = t->capture;
		if (t->process != last_proc) {
			const struct m_process *p = &m->processes[t->process];
			const struct m_capture *c = &m->captures[t->capture];
			const char *ver = p->python_version ? p->python_version : c->python_version;
			const char *exe = p->exe ? p->exe : c->python_exe;

			if (last_proc >= 0)
				fputc('\n', fp);
			fprintf(fp, "Process %lld: ", (long long)p->pid);
			print_clean(fp, p->cmdline ? p->cmdline : "");
			fprintf(fp, "\nPython v%s (%s)\n", ver ? ver : "?", exe ? exe : "?");
			if (p->parent >= 0) {
				fprintf(fp, "Parent Process %lld: ", (long long)m->processes[p->parent].pid);
				print_clean(fp, m->processes[p->parent].cmdline ? m->processes[p->parent].cmdline : "");
				fputc('\n', fp);
			}
			fputc('\n', fp);
			last_proc = t->process;
		}
		text_thread(fp, r, ti, &picks[ti], short_files, o->locals);
	}
	if (o->json)
		fprintf(fp, "%s]\n", n ? "\n" : "");
	for (u = 0; u <= m->nstrings; u++)
		free(short_files[u]);
	free(short_files);
	free(order);
}

static const char dump_synopsis[] =
	"dump [SELECTION] [--at SECONDS] [--json] [--locals] SOURCE...";
static const char dump_description[] =
	"Show the stack of every thread at one moment, in py-spy's dump format: each\n"
	"thread's last sample, or the first tick at or after --at (the last tick when\n"
	"--at is later).  Thread status is idle, active or active+gil (py-spy's rules);\n"
	"with --locals, the local variables the capture recorded (pyspy-capture --locals)\n"
	"are printed under their frame.  A partial sample (its outer frames could not be\n"
	"read) ends with a '<partial>' frame.";

int cmd_dump(int argc, char **argv)
{
	const struct cli_opt *const tables[4] = {dump_opts, filter_select_opts, report_output_opts,
						 cli_common_opts};
	struct dump_opts o = {0, 0, 0, 0};
	struct report r;
	struct out out;
	struct pick *picks = NULL;
	int ret = EXIT_RUNTIME, i, any = 0;

	report_parse(&r, argc, argv, tables, dump_synopsis, dump_description, dump_option, &o);
	if (out_open(&out, r.output) < 0) {
		report_close(&r);
		return EXIT_RUNTIME;
	}
	if (report_open(&r) < 0) {
		out_abort(&out);
		goto done;
	}
	picks = xcalloc((unsigned long)r.m->nthreads + 1, sizeof(*picks));
	if (pick_samples(&r, &o, picks) < 0) {
		out_abort(&out);
		goto done;
	}
	for (i = 0; i < r.m->nthreads; i++)
		any |= picks[i].found;
	if (!any)
		warning("no thread has a sample%s", o.has_at ? " at that time" : "");
	dump_write(out.fp, &r, &o, picks);
	if (out_close(&out) == 0)
		ret = EXIT_OK;
done:
	free(picks);
	report_close(&r);
	return ret;
}
