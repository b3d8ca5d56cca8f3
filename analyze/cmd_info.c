/*
 * cmd_info.c - capture metadata and statistics (docs/pyspy-analyze.1.md,
 * "info"): one block per capture.
 */
#include "cmd_info.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "fmt.h"
#include "msg.h"
#include "out.h"
#include "pyspy_format.h"
#include "report.h"

struct thread_stats {
	uint64_t samples, gil, idle, partial;
	int64_t t_min, t_max;    /* of its samples */
};

static const char *const error_kind_names[] = {"other", "read", "torn", "bad object",
					       "thread list", "proc", "ptrace", "name"};
static const char *const stop_names[] = {"unknown", "duration elapsed", "target exited",
					 "interrupted", "runtime error", "write failed",
					 "dump complete", "target exec'd a non-Python program"};
static const char *const how_names[] = {"ended (status unknown)", "exited", "killed by signal",
					"exec'd", "still running"};

static int scan_threads(const struct model *m, struct thread_stats *ts)
{
	sqlite3_stmt *st = db_prepare(m->db, "SELECT thread, stack, flags, t FROM samples"
					     " WHERE id BETWEEN ?1 AND ?2 AND capture = ?3");
	int ci, rc = SQLITE_DONE;

	if (!st)
		return -1;
	for (ci = 0; ci < m->ncaptures; ci++) {
		const struct m_capture *c = &m->captures[ci];

		if (!c->selected || !c->sample_first)
			continue;
		sqlite3_bind_int64(st, 1, c->sample_first);
		sqlite3_bind_int64(st, 2, c->sample_last);
		sqlite3_bind_int64(st, 3, c->id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int ti = model_thread(m, sqlite3_column_int64(st, 0));
			int64_t stack = sqlite3_column_int64(st, 1), flags = sqlite3_column_int64(st, 2);

			int64_t t = sqlite3_column_int64(st, 3);

			if (ti < 0)
				continue;
			if (stack < 0 || stack >= m->nstacks)
				stack = 0;
			if (!ts[ti].samples || t < ts[ti].t_min)
				ts[ti].t_min = t;
			if (!ts[ti].samples || t > ts[ti].t_max)
				ts[ti].t_max = t;
			ts[ti].samples++;
			ts[ti].gil += (flags & PSF_SF_GIL) != 0;
			ts[ti].partial += (flags & PSF_SF_PARTIAL) != 0;
			ts[ti].idle += (flags & PSF_SF_IDLE) || model_stack_idle_leaf(m, (uint32_t)stack);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(m->db, "cannot read");
}

static void print_errors(FILE *fp, const struct model *m, const struct m_capture *c)
{
	sqlite3_stmt *st = db_prepare(m->db, "SELECT kind, sum(count) FROM errors WHERE capture = ?"
					     " GROUP BY kind ORDER BY kind");
	char num[32], pct[32];
	int first = 1;

	fprintf(fp, "  Errors:      %s", fmt_count(num, sizeof(num), (uint64_t)c->errors));
	if (c->ticks > 0)
		fprintf(fp, " (%s%% of ticks)", fmt_pct(pct, sizeof(pct), (double)c->errors, (double)c->ticks));
	if (st) {
		sqlite3_bind_int64(st, 1, c->id);
		while (sqlite3_step(st) == SQLITE_ROW) {
			int64_t kind = sqlite3_column_int64(st, 0), n = sqlite3_column_int64(st, 1);

			if (kind >= 0 && kind < (int64_t)(sizeof(error_kind_names) / sizeof(*error_kind_names)))
				fprintf(fp, "%s %s %s", first ? ":" : ",", error_kind_names[kind],
					fmt_count(num, sizeof(num), (uint64_t)n));
			else
				fprintf(fp, "%s kind %lld %s", first ? ":" : ",", (long long)kind,
					fmt_count(num, sizeof(num), (uint64_t)n));
			first = 0;
		}
		sqlite3_finalize(st);
	}
	fputc('\n', fp);
}

static void print_lag(FILE *fp, const struct model *m, const struct m_capture *c)
{
	sqlite3_stmt *st = db_prepare(m->db, "SELECT sum(ticks), max(max_late_ns), sum(sum_late_ns)"
					     " FROM lag WHERE capture = ?");
	char a[32], b[32];

	if (!st)
		return;
	sqlite3_bind_int64(st, 1, c->id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		double ticks = (double)sqlite3_column_int64(st, 0);

		fprintf(fp, "  Lag:         mean %s, max %s\n",
			fmt_dur(a, sizeof(a), ticks > 0 ? (double)sqlite3_column_int64(st, 2) / ticks : 0),
			fmt_dur(b, sizeof(b), (double)sqlite3_column_int64(st, 1)));
	} else {
		fprintf(fp, "  Lag:         not recorded\n");
	}
	sqlite3_finalize(st);
}

/*
 * One line per process, children indented under their parent: pid,
 * command line, Python version ("no Python" for a process recorded only as
 * the parent of Python ones, e.g. a shell), samples, lifetime, how it
 * ended.
 */
static void print_process(FILE *fp, const struct model *m, const uint64_t *psamples, int pi,
			  int depth)
{
	const struct m_process *p = &m->processes[pi];
	char a[32], b[32];
	int i;

	fprintf(fp, "    %*s%lld %s [", 2 * depth, "", (long long)p->pid, p->cmdline ? p->cmdline : "?");
	if (p->python_version)
		fprintf(fp, "Python %s", p->python_version);
	else
		fprintf(fp, "no Python");
	fprintf(fp, "] %s samples, ", fmt_count(a, sizeof(a), psamples[pi]));
	if (p->end_ns >= 0)
		fprintf(fp, "%s-%s s", fmt_secs(a, sizeof(a), (uint64_t)p->start_ns),
			fmt_secs(b, sizeof(b), (uint64_t)p->end_ns));
	else
		fprintf(fp, "from %s s", fmt_secs(a, sizeof(a), (uint64_t)p->start_ns));
	if (p->end_how >= 0 && p->end_how < (int)(sizeof(how_names) / sizeof(*how_names))) {
		fprintf(fp, ", %s", how_names[p->end_how]);
		if (p->end_how == PSF_END_EXITED || p->end_how == PSF_END_SIGNALED)
			fprintf(fp, " %d", p->end_status);
	}
	fputc('\n', fp);
	if (depth >= 32)
		return;
	for (i = pi + 1; i < m->nprocesses; i++)
		if (m->processes[i].parent == pi && m->processes[i].selected)
			print_process(fp, m, psamples, i, depth + 1);
}

static void print_capture(FILE *fp, const struct model *m, int ci, const struct thread_stats *ts)
{
	const struct m_capture *c = &m->captures[ci];
	char a[48], b[48], d[48], e[48];
	uint64_t samples = 0, gil = 0, idle = 0, partial = 0, *psamples;
	int64_t t_min = 0, t_max = 0;
	double dur = (double)c->end_ns / 1e9;
	int i;

	fprintf(fp, "Capture %s\n", c->uuid);
	fprintf(fp, "  File:        %s\n", c->file);
	fprintf(fp, "  Host:        %s", c->host ? c->host : "?");
	if (c->kernel)
		fprintf(fp, " (%s)", c->kernel);
	fprintf(fp, "\n  Tool:        %s (format %s)\n", c->tool_version ? c->tool_version : "?",
		c->format_version ? c->format_version : "?");
	if (c->options)
		fprintf(fp, "  Options:     %s\n", c->options);
	fprintf(fp, "  Started:     %s\n", fmt_wall(a, sizeof(a), (uint64_t)c->start_wall_ns));
	fprintf(fp, "  Target:      pid %lld: %s\n", (long long)c->pid, c->cmdline ? c->cmdline : "?");
	fprintf(fp, "  Python:      %s (%s)\n", c->python_version ? c->python_version : "?",
		c->python_exe ? c->python_exe : "?");
	if (c->header_flags) {
		fprintf(fp, "  Mode:       ");
		if (c->header_flags & PSF_HF_BLOCKING)
			fprintf(fp, " blocking");
		if (c->header_flags & PSF_HF_SUBPROCESSES)
			fprintf(fp, " subprocesses");
		if (c->header_flags & PSF_HF_DUMP)
			fprintf(fp, " dump");
		if (c->header_flags & PSF_HF_LOCALS)
			fprintf(fp, " locals");
		fputc('\n', fp);
	}
	if (c->complete) {
		fprintf(fp, "  Ended:       %s",
			c->stop_reason >= 0 && c->stop_reason < (int)(sizeof(stop_names) / sizeof(*stop_names))
				? stop_names[c->stop_reason]
				: "unknown reason");
		if (c->stop_reason == PSF_STOP_EXITED && c->exit_status == MODEL_STATUS_UNKNOWN)
			fprintf(fp, " (status unknown)");
		else if (c->stop_reason == PSF_STOP_EXITED && c->exit_status < 0)
			fprintf(fp, " (killed by signal %d)", -c->exit_status);
		else if (c->stop_reason == PSF_STOP_EXITED)
			fprintf(fp, " (status %d)", c->exit_status);
		fputc('\n', fp);
	} else {
		fprintf(fp, "  Ended:       no trailer: %s\n",
			c->damage ? c->damage : "still being written or cut short");
	}
	/* damaged chunks skipped in a capture that still ended cleanly */
	if (c->complete && c->damage)
		fprintf(fp, "  Damage:      %s\n", c->damage);
	for (i = 0; i < m->nthreads; i++) {
		if (m->threads[i].capture != ci || !m->threads[i].selected || !ts[i].samples)
			continue;
		if (!samples || ts[i].t_min < t_min)
			t_min = ts[i].t_min;
		if (!samples || ts[i].t_max > t_max)
			t_max = ts[i].t_max;
		samples += ts[i].samples;
		gil += ts[i].gil;
		idle += ts[i].idle;
		partial += ts[i].partial;
	}
	fprintf(fp, "  Duration:    %s s", fmt_secs(a, sizeof(a), (uint64_t)c->end_ns));
	if (samples)
		fprintf(fp, " (samples from %s to %s s)", fmt_secs(b, sizeof(b), (uint64_t)t_min),
			fmt_secs(d, sizeof(d), (uint64_t)t_max));
	fputc('\n', fp);
	if (c->header_flags & PSF_HF_DUMP) {
		fprintf(fp, "  Rate:        one-shot dump\n");
	} else {
		/*
		 * achieved: ticks over the time the sampler ran, from the capture
		 * start to its end (as capture_summary.achieved_hz).  Not over the
		 * span of the samples: ticks before the first sample (a launched
		 * program not yet Python) would push it above the requested rate.
		 */
		double span = dur;

		fprintf(fp, "  Rate:        %lld Hz requested", (long long)c->rate_hz);
		/* without a trailer the tick count is partial (LAG records only) */
		if (span > 0 && c->ticks > 0 && c->complete)
			fprintf(fp, ", %.1f Hz achieved", (double)c->ticks / span);
		fputc('\n', fp);
	}
	fprintf(fp, "  Samples:     %s (active %s%%, GIL %s%%, partial %s%%)\n",
		fmt_count(a, sizeof(a), samples), fmt_pct(b, sizeof(b), (double)(samples - idle), (double)samples),
		fmt_pct(d, sizeof(d), (double)gil, (double)samples),
		fmt_pct(e, sizeof(e), (double)partial, (double)samples));
	fprintf(fp, "  Ticks:       %s (missed %s)%s\n", fmt_count(a, sizeof(a), (uint64_t)c->ticks),
		fmt_count(b, sizeof(b), (uint64_t)c->missed),
		c->complete ? "" : " as far as LAG records tell (no trailer)");
	print_errors(fp, m, c);
	print_lag(fp, m, c);
	fprintf(fp, "  Processes:\n");
	psamples = xcalloc((unsigned long)m->nprocesses + 1, sizeof(*psamples));
	for (i = 0; i < m->nthreads; i++)
		psamples[m->threads[i].process] += ts[i].samples;
	for (i = 0; i < m->nprocesses; i++) {
		const struct m_process *p = &m->processes[i];

		if (p->capture == ci && p->selected &&
		    (p->parent < 0 || !m->processes[p->parent].selected))
			print_process(fp, m, psamples, i, 0);
	}
	free(psamples);
	fprintf(fp, "  Threads:\n");
	for (i = 0; i < m->nthreads; i++) {
		const struct m_thread *t = &m->threads[i];

		if (t->capture != ci || !t->selected)
			continue;
		fprintf(fp, "    ");
		if (t->tid > 0)
			fprintf(fp, "%lld", (long long)t->tid);
		else
			fprintf(fp, "0x%llX", (unsigned long long)t->py_thread_id);
		fprintf(fp, " \"%s\"%s (pid %lld): %s samples, active %s%%, GIL %s%%, %s-", t->name ? t->name : "",
			t->is_main ? " main" : "", (long long)m->processes[t->process].pid,
			fmt_count(a, sizeof(a), ts[i].samples),
			fmt_pct(b, sizeof(b), (double)(ts[i].samples - ts[i].idle), (double)ts[i].samples),
			fmt_pct(d, sizeof(d), (double)ts[i].gil, (double)ts[i].samples),
			fmt_secs(e, sizeof(e), (uint64_t)t->first_ns));
		fprintf(fp, "%s s\n", fmt_secs(a, sizeof(a), (uint64_t)t->last_ns));
	}
}

static const char info_synopsis[] = "info [SELECTION] [-o FILE] SOURCE...";
static const char info_description[] =
	"Show each capture's metadata (host, kernel, tool, start time, rate, target, Python,\n"
	"options), duration, samples, ticks, achieved rate, error and partial rates, lag,\n"
	"the process tree and the threads with their sample counts.";

int cmd_info(int argc, char **argv)
{
	const struct cli_opt *const tables[4] = {filter_select_opts, report_output_opts, cli_common_opts,
						 NULL};
	struct report r;
	struct out out;
	struct thread_stats *ts = NULL;
	int ret = EXIT_RUNTIME, i, n = 0;

	report_parse(&r, argc, argv, tables, info_synopsis, info_description, NULL, NULL);
	if (out_open(&out, r.output) < 0) {
		report_close(&r);
		return EXIT_RUNTIME;
	}
	if (report_open(&r) < 0) {
		out_abort(&out);
		goto done;
	}
	ts = xcalloc((unsigned long)r.m->nthreads + 1, sizeof(*ts));
	if (scan_threads(r.m, ts) < 0) {
		out_abort(&out);
		goto done;
	}
	for (i = 0; i < r.m->ncaptures; i++) {
		if (!r.m->captures[i].selected)
			continue;
		if (n++)
			fputc('\n', out.fp);
		print_capture(out.fp, r.m, i, ts);
	}
	if (out_close(&out) == 0)
		ret = EXIT_OK;
done:
	free(ts);
	report_close(&r);
	return ret;
}
