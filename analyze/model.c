/*
 * model.c - load captures, processes, threads, frames and stacks (model.h).
 */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "msg.h"

/* A sanity bound on ids used as array indices (docs/schema.md). */
#define MODEL_MAX_ID 0x7fffff00

static char *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? xstrdup((const char *)s) : NULL;
}

/*
 * Metadata text (host names, command lines, thread names...) as the reports
 * print it: control characters become spaces, so a hostile capture cannot
 * break a report's layout or a terminal.  Frame text is cleaned where it
 * is labelled (label.c).
 */
static char *col_text(sqlite3_stmt *st, int i)
{
	char *s = col_str(st, i), *p;

	for (p = s; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

static int64_t col_int(sqlite3_stmt *st, int i, int64_t def)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? def : sqlite3_column_int64(st, i);
}

const char *model_str(const struct model *m, uint32_t id)
{
	return id && id < m->nstrings ? m->strings[id] : NULL;
}

static int find_index_by_id(const int64_t *ids, int n, int64_t id)
{
	int lo = 0, hi = n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (ids[mid] == id)
			return mid;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static int load_captures(struct model *m)
{
	sqlite3_stmt *st = db_prepare(
		m->db, "SELECT id, uuid, file, host, kernel, tool_version, format_version, header_flags,"
		       " start_wall_ns, start_mono_ns, rate_hz, time_unit_ns, pid, cmdline,"
		       " python_version, python_exe, options, loaded_at, damage, complete, chunks,"
		       " bytes, end_ns, samples, sample_first, sample_last, ticks, missed, errors,"
		       " partial, stop_reason, exit_status FROM captures ORDER BY id");
	unsigned long cap = 0;
	int rc;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct m_capture *c;

		xgrow((void **)&m->captures, &cap, (unsigned long)m->ncaptures + 1, sizeof(*c));
		c = &m->captures[m->ncaptures++];
		memset(c, 0, sizeof(*c));
		c->id = sqlite3_column_int64(st, 0);
		c->uuid = col_text(st, 1);
		c->file = col_text(st, 2);
		c->host = col_text(st, 3);
		c->kernel = col_text(st, 4);
		c->tool_version = col_text(st, 5);
		c->format_version = col_text(st, 6);
		c->header_flags = (uint64_t)col_int(st, 7, 0);
		c->start_wall_ns = col_int(st, 8, 0);
		c->start_mono_ns = col_int(st, 9, 0);
		c->rate_hz = col_int(st, 10, 0);
		c->time_unit_ns = col_int(st, 11, 1000);
		c->pid = col_int(st, 12, 0);
		c->cmdline = col_text(st, 13);
		c->python_version = col_text(st, 14);
		c->python_exe = col_text(st, 15);
		c->options = col_text(st, 16);
		c->loaded_at = col_text(st, 17);
		c->damage = col_text(st, 18);
		c->complete = (int)col_int(st, 19, 0);
		c->chunks = col_int(st, 20, 0);
		c->bytes = col_int(st, 21, 0);
		c->end_ns = col_int(st, 22, 0);
		c->samples = col_int(st, 23, 0);
		c->sample_first = col_int(st, 24, 0);
		c->sample_last = col_int(st, 25, -1);
		c->ticks = col_int(st, 26, 0);
		c->missed = col_int(st, 27, 0);
		c->errors = col_int(st, 28, 0);
		c->partial = col_int(st, 29, 0);
		c->stop_reason = (int)col_int(st, 30, -1);
		c->exit_status = (int)col_int(st, 31, MODEL_STATUS_UNKNOWN);
		c->selected = 1;
		if (!c->uuid)
			c->uuid = xstrdup("?");
		if (!c->file)
			c->file = xstrdup("?");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(m->db, "cannot read");
}

static int capture_index(const struct model *m, int64_t id)
{
	int i;

	for (i = 0; i < m->ncaptures; i++)
		if (m->captures[i].id == id)
			return i;
	return -1;
}

static int load_processes(struct model *m)
{
	sqlite3_stmt *st = db_prepare(m->db, "SELECT id, capture, pid, ppid, parent, cmdline,"
					     " python_version, exe, start_ns, end_ns, end_how,"
					     " end_status FROM processes ORDER BY id");
	unsigned long cap = 0;
	int64_t *ids = NULL, *parents = NULL;
	int rc, i;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct m_process *p;
		int ci = capture_index(m, sqlite3_column_int64(st, 1));

		if (ci < 0)
			continue;
		xgrow((void **)&m->processes, &cap, (unsigned long)m->nprocesses + 1, sizeof(*p));
		p = &m->processes[m->nprocesses++];
		memset(p, 0, sizeof(*p));
		p->id = sqlite3_column_int64(st, 0);
		p->capture = ci;
		p->pid = col_int(st, 2, 0);
		p->ppid = col_int(st, 3, 0);
		p->parent = (int)col_int(st, 4, -1); /* database id for now */
		p->cmdline = col_text(st, 5);
		p->python_version = col_text(st, 6);
		p->exe = col_text(st, 7);
		p->start_ns = col_int(st, 8, 0);
		p->end_ns = col_int(st, 9, -1);
		p->end_how = (int)col_int(st, 10, -1);
		p->end_status = (int)col_int(st, 11, 0);
		p->selected = 1;
		m->captures[ci].nprocesses++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(m->db, "cannot read");
	ids = xmalloc((unsigned long)(m->nprocesses + 1) * sizeof(*ids));
	parents = xmalloc((unsigned long)(m->nprocesses + 1) * sizeof(*parents));
	for (i = 0; i < m->nprocesses; i++) {
		ids[i] = m->processes[i].id;
		parents[i] = m->processes[i].parent;
	}
	for (i = 0; i < m->nprocesses; i++) {
		int pi = parents[i] > 0 ? find_index_by_id(ids, m->nprocesses, parents[i]) : -1;

		/* A parent must come first and belong to the same capture (no cycles). */
		if (pi >= i || (pi >= 0 && m->processes[pi].capture != m->processes[i].capture))
			pi = -1;
		m->processes[i].parent = pi;
	}
	free(ids);
	free(parents);
	return 0;
}

static int load_threads(struct model *m)
{
	sqlite3_stmt *st = db_prepare(m->db, "SELECT id, capture, process, tid, py_thread_id, name,"
					     " first_ns, last_ns, is_main, samples, last_sample"
					     " FROM threads ORDER BY id");
	unsigned long cap = 0;
	int64_t *pids;
	int rc, i;

	if (!st)
		return -1;
	pids = xmalloc((unsigned long)(m->nprocesses + 1) * sizeof(*pids));
	for (i = 0; i < m->nprocesses; i++)
		pids[i] = m->processes[i].id;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct m_thread *t;
		int64_t id = sqlite3_column_int64(st, 0);
		int pi = find_index_by_id(pids, m->nprocesses, sqlite3_column_int64(st, 2));

		if (pi < 0 || id <= 0 || id > MODEL_MAX_ID)
			continue;
		xgrow((void **)&m->threads, &cap, (unsigned long)m->nthreads + 1, sizeof(*t));
		t = &m->threads[m->nthreads++];
		memset(t, 0, sizeof(*t));
		t->id = id;
		t->process = pi;
		t->capture = m->processes[pi].capture;
		t->tid = col_int(st, 3, 0);
		t->py_thread_id = (uint64_t)col_int(st, 4, 0);
		t->name = col_text(st, 5);
		t->first_ns = col_int(st, 6, 0);
		t->last_ns = col_int(st, 7, 0);
		t->is_main = (int)col_int(st, 8, 0);
		t->samples = col_int(st, 9, 0);
		t->last_sample = col_int(st, 10, 0);
		t->selected = 1;
		if (id > m->max_thread_id)
			m->max_thread_id = id;
	}
	sqlite3_finalize(st);
	free(pids);
	if (rc != SQLITE_DONE)
		return db_error(m->db, "cannot read");
	m->thread_index = xmalloc((unsigned long)(m->max_thread_id + 1) * sizeof(int));
	for (i = 0; i <= m->max_thread_id; i++)
		m->thread_index[i] = -1;
	for (i = 0; i < m->nthreads; i++)
		m->thread_index[m->threads[i].id] = i;
	return 0;
}

static int load_strings(struct model *m)
{
	int64_t max = db_int(m->db, "SELECT max(id) FROM strings", 0);
	sqlite3_stmt *st;
	int rc;

	if (max < 0 || max > MODEL_MAX_ID)
		return error("database '%s': string ids out of range", db_name(m->db));
	m->nstrings = (uint32_t)max + 1;
	m->strings = xcalloc(m->nstrings, sizeof(*m->strings));
	st = db_prepare(m->db, "SELECT id, text FROM strings");
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		if (id > 0 && id < m->nstrings && !m->strings[id])
			m->strings[id] = col_str(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(m->db, "cannot read");
}

static int load_frames(struct model *m)
{
	int64_t max = db_int(m->db, "SELECT max(id) FROM frames", 0);
	sqlite3_stmt *st;
	int rc;

	if (max < 0 || max > MODEL_MAX_ID)
		return error("database '%s': frame ids out of range", db_name(m->db));
	m->nframes = (uint32_t)max + 1;
	m->frames = xcalloc(m->nframes, sizeof(*m->frames));
	st = db_prepare(m->db, "SELECT id, kind, coalesce(name, 0), coalesce(qualname, 0),"
			       " coalesce(file, 0), firstline, idle_leaf FROM frames");
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		struct m_frame *f;

		if (id <= 0 || id >= m->nframes)
			continue;
		f = &m->frames[id];
		f->kind = (uint8_t)sqlite3_column_int(st, 1);
		f->name = (uint32_t)sqlite3_column_int64(st, 2);
		f->qualname = (uint32_t)sqlite3_column_int64(st, 3);
		f->file = (uint32_t)sqlite3_column_int64(st, 4);
		f->firstline = (int32_t)sqlite3_column_int64(st, 5);
		f->idle_leaf = sqlite3_column_int(st, 6) != 0;
		if (f->name >= m->nstrings)
			f->name = 0;
		if (f->qualname >= m->nstrings)
			f->qualname = 0;
		if (f->file >= m->nstrings)
			f->file = 0;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(m->db, "cannot read");
}

static int load_stacks(struct model *m)
{
	int64_t max = db_int(m->db, "SELECT max(id) FROM stacks", 0);
	sqlite3_stmt *st;
	uint32_t i;
	int rc;

	if (max < 0 || max > MODEL_MAX_ID)
		return error("database '%s': stack ids out of range", db_name(m->db));
	m->nstacks = (uint32_t)max + 1;
	m->stack_parent = xcalloc(m->nstacks, sizeof(uint32_t));
	m->stack_frame = xcalloc(m->nstacks, sizeof(uint32_t));
	m->stack_line = xcalloc(m->nstacks, sizeof(int32_t));
	st = db_prepare(m->db, "SELECT id, parent, frame, coalesce(line, -1) FROM stacks");
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		int64_t parent = sqlite3_column_int64(st, 1);
		int64_t frame = sqlite3_column_int64(st, 2);

		if (id <= 0 || id >= m->nstacks)
			continue;
		/*
		 * The trie must be well formed for the walks in agg.c to end:
		 * a parent always has a smaller id.  Anything else (a damaged
		 * or hand-edited database) is cut at that point.
		 */
		m->stack_parent[id] = parent > 0 && parent < id ? (uint32_t)parent : 0;
		m->stack_frame[id] = frame > 0 && frame < m->nframes ? (uint32_t)frame : 0;
		m->stack_line[id] = (int32_t)sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(m->db, "cannot read");
	for (i = 0; i < m->nstacks; i++)
		if (m->stack_line[i] < -1)
			m->stack_line[i] = -1;
	return 0;
}

struct model *model_load(sqlite3 *db)
{
	struct model *m = xcalloc(1, sizeof(*m));

	m->db = db;
	if (load_captures(m) < 0 || load_processes(m) < 0 || load_threads(m) < 0 ||
	    load_strings(m) < 0 || load_frames(m) < 0 || load_stacks(m) < 0) {
		model_free(m);
		return NULL;
	}
	return m;
}

void model_free(struct model *m)
{
	int i;
	uint32_t u;

	if (!m)
		return;
	for (i = 0; i < m->ncaptures; i++) {
		struct m_capture *c = &m->captures[i];

		free(c->uuid);
		free(c->file);
		free(c->host);
		free(c->kernel);
		free(c->tool_version);
		free(c->format_version);
		free(c->cmdline);
		free(c->python_version);
		free(c->python_exe);
		free(c->options);
		free(c->loaded_at);
		free(c->damage);
	}
	for (i = 0; i < m->nprocesses; i++) {
		free(m->processes[i].cmdline);
		free(m->processes[i].python_version);
		free(m->processes[i].exe);
	}
	for (i = 0; i < m->nthreads; i++)
		free(m->threads[i].name);
	for (u = 0; u < m->nstrings; u++)
		free(m->strings[u]);
	free(m->captures);
	free(m->processes);
	free(m->threads);
	free(m->thread_index);
	free(m->strings);
	free(m->frames);
	free(m->stack_parent);
	free(m->stack_frame);
	free(m->stack_line);
	free(m);
}
