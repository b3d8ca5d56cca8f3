/*
 * loader.c - capture file -> database (loader.h).
 *
 * Speed: samples are the bulk of the work.  Each sample costs two array
 * lookups (file thread id and file stack id to database ids) and one slot
 * in a multi-row INSERT of LOADER_BATCH rows; definitions go through the
 * in-memory dedupe tables.  Everything happens in one transaction.
 */
#include "loader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "db.h"
#include "hashmap.h"
#include "label.h"
#include "msg.h"
#include "progress.h"
#include "pyspy_format.h"
#include "strbuf.h"

#define LOADER_BATCH 400
#define SAMPLE_COLS 6
/* Database ids are kept in 32-bit arrays; refuse anything larger. */
#define LOADER_MAX_ID 0x7fffff00u
/* Sample weights: the period without a rate, the least cap of one weight. */
#define LOADER_DEFAULT_PERIOD_NS 10000000u
#define LOADER_MIN_CAP_NS 100000000u

struct fkey {
	uint32_t name, qual, file;
	int32_t firstline;
	uint64_t offset;
	uint8_t kind;
};

struct skey {
	uint32_t parent, frame;
	int32_t line;
	uint32_t depth;
};

struct loader {
	sqlite3 *db;
	int ready;
	int64_t max_seen[3];     /* max ids of strings, frames, stacks at sync */

	char **str;              /* by database id; NULL = hole */
	unsigned long cap_str;
	uint32_t next_str;
	struct idset str_set;

	struct fkey *frm;
	unsigned long cap_frm;
	uint32_t next_frm;
	struct idset frm_set;

	struct skey *stk;
	unsigned long cap_stk;
	uint32_t next_stk;
	struct idset stk_set;

	sqlite3_stmt *st_string, *st_frame, *st_stack, *st_batch, *st_one, *st_capture,
		*st_process, *st_process_end, *st_thread, *st_thread_name, *st_thread_upd,
		*st_error, *st_lag, *st_local, *st_capture_upd;
};

struct fthread {
	int64_t db;
	uint64_t samples;
	int64_t last_sample;
	uint64_t first_ns, last_ns;
	uint64_t prev_t;         /* time of its previous sample (samples > 0) */
	char *name;              /* latest name, owned */
};

/* State of one file being loaded. */
struct fload {
	const char *name;
	int64_t capture;

	char **str;              /* file string id -> text (owned) */
	unsigned long cap_str;
	uint32_t n_str;
	uint32_t *frm;           /* file frame id -> database frame id */
	unsigned long cap_frm;
	uint32_t n_frm;
	uint32_t *stk;           /* file stack id -> database stack id */
	unsigned long cap_stk;
	uint32_t n_stk;
	int64_t *proc;           /* file process id -> database process id */
	unsigned long cap_proc;
	uint32_t n_proc;
	struct fthread *thr;     /* by file thread id */
	unsigned long cap_thr;
	uint32_t n_thr;
	struct u64map pid_latest; /* pid -> database id of its latest process */

	int64_t batch[LOADER_BATCH * SAMPLE_COLS];
	int nbatch;
	int64_t first_sample;    /* samples.id of the first sample, 0 = none */
	int64_t next_sample;
	uint64_t samples, partial, max_t;
	uint64_t ticks, missed, errors;
	uint64_t period_ns, cap_ns; /* sample weights (weight_of()) */
	struct psf_trailer trailer;
	int have_trailer;
	/* damaged chunks the reader skipped (PSF_REC_GAP) */
	int ngaps;
	struct psf_gap gap;      /* the first */
	uint64_t gap_chunks, gap_samples;
};

const char *loader_display_name(const char *name)
{
	return strcmp(name, "-") == 0 ? "standard input" : name;
}

/* ------------------------------------------------------------ dedupe */

static int str_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct loader *l = ctx;

	return strcmp(l->str[id], key) == 0;
}

static uint64_t fkey_hash(const struct fkey *k)
{
	uint64_t h = hash_u64(k->kind);

	h = hash_combine(h, k->name);
	h = hash_combine(h, k->qual);
	h = hash_combine(h, k->file);
	h = hash_combine(h, (uint32_t)k->firstline);
	return hash_combine(h, k->offset);
}

static int frm_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct fkey *a = &((const struct loader *)ctx)->frm[id], *b = key;

	return a->kind == b->kind && a->name == b->name && a->qual == b->qual && a->file == b->file &&
	       a->firstline == b->firstline && a->offset == b->offset;
}

static uint64_t skey_hash(const struct skey *k)
{
	return hash_combine(hash_combine(hash_u64(k->parent), k->frame), (uint32_t)k->line);
}

static int stk_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct skey *a = &((const struct loader *)ctx)->stk[id], *b = key;

	return a->parent == b->parent && a->frame == b->frame && a->line == b->line;
}

static void loader_forget(struct loader *l)
{
	unsigned long i;

	for (i = 0; i < l->next_str && i < l->cap_str; i++)
		free(l->str[i]);
	free(l->str);
	free(l->frm);
	free(l->stk);
	l->str = NULL;
	l->frm = NULL;
	l->stk = NULL;
	l->cap_str = l->cap_frm = l->cap_stk = 0;
	l->next_str = l->next_frm = l->next_stk = 1;
	idset_release(&l->str_set);
	idset_release(&l->frm_set);
	idset_release(&l->stk_set);
	l->ready = 0;
}

static int max_ids(struct loader *l, int64_t out[3])
{
	out[0] = db_int(l->db, "SELECT max(id) FROM strings", 0);
	out[1] = db_int(l->db, "SELECT max(id) FROM frames", 0);
	out[2] = db_int(l->db, "SELECT max(id) FROM stacks", 0);
	if (out[0] < 0 || out[1] < 0 || out[2] < 0 || out[0] >= LOADER_MAX_ID ||
	    out[1] >= LOADER_MAX_ID || out[2] >= LOADER_MAX_ID)
		return error("database '%s' has ids this pyspy-analyze cannot handle",
			     db_name(l->db));
	return 0;
}

/* Read the database's strings, frames and stacks into the tables. */
static int loader_sync(struct loader *l)
{
	int64_t mx[3];
	sqlite3_stmt *st;
	int rc;

	if (max_ids(l, mx) < 0)
		return -1;
	if (l->ready && memcmp(mx, l->max_seen, sizeof(mx)) == 0)
		return 0;
	loader_forget(l);
	memcpy(l->max_seen, mx, sizeof(mx));
	xgrow((void **)&l->str, &l->cap_str, (unsigned long)mx[0] + 2, sizeof(*l->str));
	memset(l->str, 0, l->cap_str * sizeof(*l->str));
	xgrow((void **)&l->frm, &l->cap_frm, (unsigned long)mx[1] + 2, sizeof(*l->frm));
	xgrow((void **)&l->stk, &l->cap_stk, (unsigned long)mx[2] + 2, sizeof(*l->stk));
	l->next_str = (uint32_t)mx[0] + 1;
	l->next_frm = (uint32_t)mx[1] + 1;
	l->next_stk = (uint32_t)mx[2] + 1;

	st = db_prepare(l->db, "SELECT id, text FROM strings");
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t id = (uint32_t)sqlite3_column_int64(st, 0);
		const char *s = (const char *)sqlite3_column_text(st, 1);

		if (id == 0 || id > mx[0] || !s || l->str[id])
			continue;
		l->str[id] = xstrdup(s);
		idset_add(&l->str_set, hash_bytes(s, strlen(s)), id);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(l->db, "cannot read");

	st = db_prepare(l->db, "SELECT id, kind, coalesce(name, 0), coalesce(qualname, 0),"
			       " coalesce(file, 0), firstline, offset FROM frames");
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t id = (uint32_t)sqlite3_column_int64(st, 0);
		struct fkey *k;

		if (id == 0 || id > mx[1])
			continue;
		k = &l->frm[id];
		memset(k, 0, sizeof(*k));
		k->kind = (uint8_t)sqlite3_column_int(st, 1);
		k->name = (uint32_t)sqlite3_column_int64(st, 2);
		k->qual = (uint32_t)sqlite3_column_int64(st, 3);
		k->file = (uint32_t)sqlite3_column_int64(st, 4);
		k->firstline = (int32_t)sqlite3_column_int64(st, 5);
		k->offset = (uint64_t)sqlite3_column_int64(st, 6);
		idset_add(&l->frm_set, fkey_hash(k), id);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(l->db, "cannot read");

	st = db_prepare(l->db, "SELECT id, parent, frame, coalesce(line, -1), depth FROM stacks");
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t id = (uint32_t)sqlite3_column_int64(st, 0);
		struct skey *k;

		if (id == 0 || id > mx[2])
			continue;
		k = &l->stk[id];
		k->parent = (uint32_t)sqlite3_column_int64(st, 1);
		k->frame = (uint32_t)sqlite3_column_int64(st, 2);
		k->line = (int32_t)sqlite3_column_int64(st, 3);
		k->depth = (uint32_t)sqlite3_column_int64(st, 4);
		idset_add(&l->stk_set, skey_hash(k), id);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(l->db, "cannot read");
	l->ready = 1;
	return 0;
}

static int step_done(struct loader *l, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(l->db, "cannot write");
	return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Database id of string s (inserted if new); 0 for NULL. */
static int db_string(struct loader *l, const char *s, uint32_t *out)
{
	uint64_t h;
	uint32_t id;

	*out = 0;
	if (!s)
		return 0;
	h = hash_bytes(s, strlen(s));
	id = idset_find(&l->str_set, h, str_eq, l, s);
	if (!id) {
		if (l->next_str >= LOADER_MAX_ID)
			return error("too many strings for one database");
		id = l->next_str++;
		sqlite3_bind_int64(l->st_string, 1, id);
		sqlite3_bind_text(l->st_string, 2, s, -1, SQLITE_STATIC);
		if (step_done(l, l->st_string) < 0)
			return -1;
		xgrow((void **)&l->str, &l->cap_str, (unsigned long)id + 1, sizeof(*l->str));
		l->str[id] = xstrdup(s);
		idset_add(&l->str_set, h, id);
	}
	*out = id;
	return 0;
}

/* --------------------------------------------------------- statements */

static const char *const sample_one_sql =
	"INSERT INTO samples(capture, thread, t, stack, flags, w) VALUES (?,?,?,?,?,?)";

static int loader_prepare(struct loader *l)
{
	struct strbuf sb;
	int i;

	strbuf_init(&sb);
	strbuf_adds(&sb, "INSERT INTO samples(capture, thread, t, stack, flags, w) VALUES ");
	for (i = 0; i < LOADER_BATCH; i++)
		strbuf_adds(&sb, i ? ",(?,?,?,?,?,?)" : "(?,?,?,?,?,?)");
	l->st_batch = db_prepare(l->db, sb.buf);
	strbuf_release(&sb);
	l->st_one = db_prepare(l->db, sample_one_sql);
	l->st_string = db_prepare(l->db, "INSERT INTO strings(id, text) VALUES (?, ?)");
	l->st_frame = db_prepare(l->db, "INSERT INTO frames(id, kind, name, qualname, file, firstline,"
					" offset, idle_leaf) VALUES (?,?,?,?,?,?,?,?)");
	l->st_stack = db_prepare(l->db, "INSERT INTO stacks(id, parent, frame, line, depth)"
					" VALUES (?,?,?,?,?)");
	l->st_capture = db_prepare(
		l->db,
		"INSERT INTO captures(uuid, file, host, kernel, tool_version, format_version,"
		" header_flags, start_wall_ns, start_mono_ns, rate_hz, time_unit_ns, pid, cmdline,"
		" python_version, python_exe, options, loaded_at, loaded_by, complete, chunks, bytes,"
		" end_ns, samples, ticks, missed, errors, partial)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
		" strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, 0, 0, 0, 0, 0, 0, 0, 0, 0)");
	l->st_capture_upd = db_prepare(
		l->db, "UPDATE captures SET complete = ?, damage = ?, chunks = ?, bytes = ?, end_ns = ?,"
		       " samples = ?, sample_first = ?, sample_last = ?, ticks = ?, missed = ?,"
		       " errors = ?, partial = ?, stop_reason = ?, exit_status = ? WHERE id = ?");
	l->st_process = db_prepare(l->db, "INSERT INTO processes(capture, pid, ppid, parent, cmdline,"
					  " python_version, exe, start_ns) VALUES (?,?,?,?,?,?,?,?)");
	l->st_process_end = db_prepare(l->db, "UPDATE processes SET end_ns = ?, end_how = ?,"
					      " end_status = ? WHERE id = ?");
	l->st_thread = db_prepare(l->db, "INSERT INTO threads(capture, process, tid, py_thread_id,"
					 " name, first_ns, last_ns, interp, is_main, samples)"
					 " VALUES (?,?,?,?,?,?,?,?,?,0)");
	l->st_thread_name = db_prepare(l->db, "INSERT OR IGNORE INTO thread_names(thread, t, name)"
					      " VALUES (?,?,?)");
	l->st_thread_upd = db_prepare(l->db, "UPDATE threads SET name = ?, last_ns = ?, samples = ?,"
					     " last_sample = ? WHERE id = ?");
	l->st_error = db_prepare(l->db, "INSERT INTO errors(capture, process, t, kind, count)"
					" VALUES (?,?,?,?,?)");
	l->st_lag = db_prepare(l->db, "INSERT INTO lag(capture, t, ticks, missed, max_late_ns,"
				      " sum_late_ns) VALUES (?,?,?,?,?,?)");
	l->st_local = db_prepare(l->db, "INSERT INTO locals(capture, thread, t, depth, name, repr,"
					" is_arg, flags) VALUES (?,?,?,?,?,?,?,?)");
	if (!l->st_batch || !l->st_one || !l->st_string || !l->st_frame || !l->st_stack ||
	    !l->st_capture || !l->st_capture_upd || !l->st_process || !l->st_process_end ||
	    !l->st_thread || !l->st_thread_name || !l->st_thread_upd || !l->st_error || !l->st_lag ||
	    !l->st_local)
		return -1;
	return 0;
}

struct loader *loader_new(sqlite3 *db)
{
	struct loader *l = xcalloc(1, sizeof(*l));

	l->db = db;
	idset_init(&l->str_set);
	idset_init(&l->frm_set);
	idset_init(&l->stk_set);
	l->next_str = l->next_frm = l->next_stk = 1;
	if (loader_prepare(l) < 0) {
		loader_free(l);
		return NULL;
	}
	return l;
}

void loader_free(struct loader *l)
{
	if (!l)
		return;
	loader_forget(l);
	sqlite3_finalize(l->st_string);
	sqlite3_finalize(l->st_frame);
	sqlite3_finalize(l->st_stack);
	sqlite3_finalize(l->st_batch);
	sqlite3_finalize(l->st_one);
	sqlite3_finalize(l->st_capture);
	sqlite3_finalize(l->st_capture_upd);
	sqlite3_finalize(l->st_process);
	sqlite3_finalize(l->st_process_end);
	sqlite3_finalize(l->st_thread);
	sqlite3_finalize(l->st_thread_name);
	sqlite3_finalize(l->st_thread_upd);
	sqlite3_finalize(l->st_error);
	sqlite3_finalize(l->st_lag);
	sqlite3_finalize(l->st_local);
	free(l);
}

/* ------------------------------------------------------------ records */

static void fload_release(struct fload *f)
{
	unsigned long i;

	for (i = 1; i < f->n_str; i++)
		free(f->str[i]);
	free(f->str);
	free(f->frm);
	free(f->stk);
	free(f->proc);
	for (i = 0; i < f->n_thr; i++)
		free(f->thr[i].name);
	free(f->thr);
	u64map_release(&f->pid_latest);
}

/* Text of file string id (NULL for 0); -1 if the id is undefined. */
static int fstr(struct fload *f, uint32_t id, const char **out)
{
	*out = NULL;
	if (id == 0)
		return 0;
	if (id >= f->n_str)
		return error("'%s': reference to undefined string %u", f->name, id);
	*out = f->str[id];
	return 0;
}

/*
 * Definitions take the file's ids from the reader: after a damaged chunk
 * was skipped (PSF_REC_GAP) the ids defined in it are holes (NULL / 0),
 * which the reader guarantees nothing refers to.
 */
static int on_string(struct fload *f, const struct psf_string *s)
{
	uint32_t id = s->id, i;

	if (id < f->n_str || id == 0)
		return error("'%s': string %u defined twice", f->name, id);
	xgrow((void **)&f->str, &f->cap_str, (unsigned long)id + 1, sizeof(*f->str));
	for (i = f->n_str; i < id; i++)
		f->str[i] = NULL;
	f->str[id] = xstrndup(s->data, s->len);
	f->n_str = id + 1;
	return 0;
}

static int on_frame(struct loader *l, struct fload *f, const struct psf_frame *fr)
{
	const char *name, *qual, *file;
	struct fkey k;
	uint64_t h;
	uint32_t id, fid = fr->id, i;

	if (fid == 0 || fid < f->n_frm)
		return error("'%s': frame %u defined twice", f->name, fid);
	if (fstr(f, fr->name, &name) < 0 || fstr(f, fr->qualname, &qual) < 0 ||
	    fstr(f, fr->file, &file) < 0)
		return -1;
	memset(&k, 0, sizeof(k));
	k.kind = fr->kind;
	k.firstline = fr->kind == PSF_FRAME_PYTHON ? fr->firstlineno : 0;
	k.offset = fr->kind == PSF_FRAME_NATIVE ? fr->offset : 0;
	if (db_string(l, name, &k.name) < 0 || db_string(l, qual, &k.qual) < 0 ||
	    db_string(l, file, &k.file) < 0)
		return -1;
	h = fkey_hash(&k);
	id = idset_find(&l->frm_set, h, frm_eq, l, &k);
	if (!id) {
		if (l->next_frm >= LOADER_MAX_ID)
			return error("too many frames for one database");
		id = l->next_frm++;
		sqlite3_bind_int64(l->st_frame, 1, id);
		sqlite3_bind_int(l->st_frame, 2, k.kind);
		if (k.name)
			sqlite3_bind_int64(l->st_frame, 3, k.name);
		else
			sqlite3_bind_null(l->st_frame, 3);
		if (k.qual)
			sqlite3_bind_int64(l->st_frame, 4, k.qual);
		else
			sqlite3_bind_null(l->st_frame, 4);
		if (k.file)
			sqlite3_bind_int64(l->st_frame, 5, k.file);
		else
			sqlite3_bind_null(l->st_frame, 5);
		sqlite3_bind_int64(l->st_frame, 6, k.firstline);
		sqlite3_bind_int64(l->st_frame, 7, (int64_t)k.offset);
		sqlite3_bind_int(l->st_frame, 8,
				 k.kind == PSF_FRAME_PYTHON && label_idle_leaf(name, file));
		if (step_done(l, l->st_frame) < 0)
			return -1;
		xgrow((void **)&l->frm, &l->cap_frm, (unsigned long)id + 1, sizeof(*l->frm));
		l->frm[id] = k;
		idset_add(&l->frm_set, h, id);
	}
	xgrow((void **)&f->frm, &f->cap_frm, (unsigned long)fid + 1, sizeof(*f->frm));
	for (i = f->n_frm; i < fid; i++)
		f->frm[i] = 0;
	f->frm[fid] = id;
	f->n_frm = fid + 1;
	return 0;
}

static int on_stack(struct loader *l, struct fload *f, const struct psf_stack *s)
{
	struct skey k;
	uint64_t h;
	uint32_t id, sid = s->id, i;

	if (sid == 0 || sid < f->n_stk)
		return error("'%s': stack %u defined twice", f->name, sid);
	if (s->frame == 0 || s->frame >= f->n_frm || !f->frm[s->frame] ||
	    (s->parent && (s->parent >= sid || s->parent >= f->n_stk || !f->stk[s->parent])))
		return error("'%s': stack %u refers to an undefined frame or stack", f->name, sid);
	k.parent = s->parent ? f->stk[s->parent] : 0;
	k.frame = f->frm[s->frame];
	k.line = s->line < 0 ? -1 : s->line;
	k.depth = k.parent ? l->stk[k.parent].depth + 1 : 1;
	h = skey_hash(&k);
	id = idset_find(&l->stk_set, h, stk_eq, l, &k);
	if (!id) {
		if (l->next_stk >= LOADER_MAX_ID)
			return error("too many stacks for one database");
		id = l->next_stk++;
		sqlite3_bind_int64(l->st_stack, 1, id);
		sqlite3_bind_int64(l->st_stack, 2, k.parent);
		sqlite3_bind_int64(l->st_stack, 3, k.frame);
		if (k.line >= 0)
			sqlite3_bind_int64(l->st_stack, 4, k.line);
		else
			sqlite3_bind_null(l->st_stack, 4);
		sqlite3_bind_int64(l->st_stack, 5, k.depth);
		if (step_done(l, l->st_stack) < 0)
			return -1;
		xgrow((void **)&l->stk, &l->cap_stk, (unsigned long)id + 1, sizeof(*l->stk));
		l->stk[id] = k;
		idset_add(&l->stk_set, h, id);
	}
	xgrow((void **)&f->stk, &f->cap_stk, (unsigned long)sid + 1, sizeof(*f->stk));
	for (i = f->n_stk; i < sid; i++)
		f->stk[i] = 0;
	f->stk[sid] = id;
	f->n_stk = sid + 1;
	return 0;
}

static int on_process(struct loader *l, struct fload *f, const struct psf_process *p)
{
	const char *cmd, *ver, *exe;
	uint32_t pid_ = p->id, i;
	uint64_t parent = 0;
	sqlite3_stmt *st = l->st_process;

	if (pid_ == 0 || pid_ < f->n_proc)
		return error("'%s': process %u defined twice", f->name, pid_);
	if (fstr(f, p->cmdline, &cmd) < 0 || fstr(f, p->python_version, &ver) < 0 ||
	    fstr(f, p->exe, &exe) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, f->capture);
	sqlite3_bind_int64(st, 2, p->pid);
	sqlite3_bind_int64(st, 3, p->ppid);
	if (p->ppid > 0 && u64map_get(&f->pid_latest, (uint32_t)p->ppid, &parent))
		sqlite3_bind_int64(st, 4, (int64_t)parent);
	else
		sqlite3_bind_null(st, 4);
	bind_text_or_null(st, 5, cmd);
	bind_text_or_null(st, 6, ver);
	bind_text_or_null(st, 7, exe);
	sqlite3_bind_int64(st, 8, (int64_t)p->start_ns);
	if (step_done(l, st) < 0)
		return -1;
	xgrow((void **)&f->proc, &f->cap_proc, (unsigned long)pid_ + 1, sizeof(*f->proc));
	for (i = f->n_proc; i < pid_; i++)
		f->proc[i] = 0;
	f->proc[pid_] = sqlite3_last_insert_rowid(l->db);
	f->n_proc = pid_ + 1;
	u64map_put(&f->pid_latest, (uint32_t)p->pid, (uint64_t)f->proc[pid_]);
	return 0;
}

static int add_thread_name(struct loader *l, int64_t thread, uint64_t t, const char *name)
{
	sqlite3_bind_int64(l->st_thread_name, 1, thread);
	sqlite3_bind_int64(l->st_thread_name, 2, (int64_t)t);
	sqlite3_bind_text(l->st_thread_name, 3, name, -1, SQLITE_STATIC);
	return step_done(l, l->st_thread_name);
}

static int on_thread(struct loader *l, struct fload *f, const struct psf_thread *t)
{
	const char *name;
	uint32_t tid_ = t->id, i;
	sqlite3_stmt *st = l->st_thread;
	struct fthread *ft;

	if (tid_ == 0 || tid_ < f->n_thr)
		return error("'%s': thread %u defined twice", f->name, tid_);
	if (fstr(f, t->name, &name) < 0)
		return -1;
	if (t->process == 0 || t->process >= f->n_proc || !f->proc[t->process])
		return error("'%s': thread %u refers to an undefined process", f->name, tid_);
	sqlite3_bind_int64(st, 1, f->capture);
	sqlite3_bind_int64(st, 2, f->proc[t->process]);
	sqlite3_bind_int64(st, 3, t->tid);
	sqlite3_bind_int64(st, 4, (int64_t)t->py_thread_id);
	bind_text_or_null(st, 5, name);
	sqlite3_bind_int64(st, 6, (int64_t)t->first_ns);
	sqlite3_bind_int64(st, 7, (int64_t)t->first_ns);
	sqlite3_bind_int64(st, 8, t->interp);
	sqlite3_bind_int(st, 9, (t->flags & PSF_TF_MAIN) != 0);
	if (step_done(l, st) < 0)
		return -1;
	xgrow((void **)&f->thr, &f->cap_thr, (unsigned long)tid_ + 1, sizeof(*f->thr));
	for (i = f->n_thr; i < tid_; i++)
		memset(&f->thr[i], 0, sizeof(f->thr[i]));
	f->n_thr = tid_ + 1;
	ft = &f->thr[tid_];
	memset(ft, 0, sizeof(*ft));
	ft->db = sqlite3_last_insert_rowid(l->db);
	ft->first_ns = ft->last_ns = t->first_ns;
	ft->name = name ? xstrdup(name) : NULL;
	if (name && add_thread_name(l, ft->db, t->first_ns, name) < 0)
		return -1;
	return 0;
}

static struct fthread *fthread(struct fload *f, uint32_t id)
{
	if (id == 0 || id >= f->n_thr || !f->thr[id].db) {
		error("'%s': reference to undefined thread %u", f->name, id);
		return NULL;
	}
	return &f->thr[id];
}

static int flush_samples(struct loader *l, struct fload *f)
{
	int i, n = f->nbatch * SAMPLE_COLS;
	sqlite3_stmt *st;

	if (f->nbatch == 0)
		return 0;
	if (f->nbatch == LOADER_BATCH) {
		st = l->st_batch;
		for (i = 0; i < n; i++)
			sqlite3_bind_int64(st, i + 1, f->batch[i]);
		if (step_done(l, st) < 0)
			return -1;
	} else {
		int j;

		st = l->st_one;
		for (j = 0; j < f->nbatch; j++) {
			for (i = 0; i < SAMPLE_COLS; i++)
				sqlite3_bind_int64(st, i + 1, f->batch[j * SAMPLE_COLS + i]);
			if (step_done(l, st) < 0)
				return -1;
		}
	}
	f->nbatch = 0;
	return 0;
}

/*
 * The weight of a sample (samples.w, docs/schema.md): the wall time it
 * stands for, i.e. the interval since the thread's previous sample, so
 * that missed ticks lengthen the samples around them instead of shrinking
 * the profile.  A thread's first sample stands for one nominal period; an
 * interval above cap_ns (a stalled or stopped sampler) counts as cap_ns,
 * so one stall does not stretch a stack over it.
 */
static uint64_t weight_of(const struct fload *f, const struct fthread *ft, uint64_t t)
{
	uint64_t w;

	if (!ft->samples)
		return f->period_ns;
	w = t > ft->prev_t ? t - ft->prev_t : 0;
	return w < f->cap_ns ? w : f->cap_ns;
}

static int on_sample(struct loader *l, struct fload *f, const struct psf_sample *s)
{
	struct fthread *ft;
	int64_t *b;

	if (s->thread == 0 || s->thread >= f->n_thr || !f->thr[s->thread].db ||
	    s->stack >= (f->n_stk ? f->n_stk : 1) || (s->stack && !f->stk[s->stack]))
		return error("'%s': sample refers to an undefined thread or stack", f->name);
	ft = &f->thr[s->thread];
	b = &f->batch[f->nbatch * SAMPLE_COLS];
	b[0] = f->capture;
	b[1] = ft->db;
	b[2] = (int64_t)s->t_ns;
	b[3] = s->stack ? f->stk[s->stack] : 0;
	b[4] = s->flags;
	b[5] = (int64_t)weight_of(f, ft, s->t_ns);
	ft->prev_t = s->t_ns;
	if (++f->nbatch == LOADER_BATCH && flush_samples(l, f) < 0)
		return -1;
	if (!f->first_sample)
		f->first_sample = f->next_sample;
	ft->last_sample = f->next_sample++;
	ft->samples++;
	if (s->t_ns > ft->last_ns)
		ft->last_ns = s->t_ns;
	if (s->t_ns > f->max_t)
		f->max_t = s->t_ns;
	if (s->flags & PSF_SF_PARTIAL)
		f->partial++;
	f->samples++;
	return 0;
}

static int on_record(struct loader *l, struct fload *f, const struct psf_record *rec)
{
	sqlite3_stmt *st;
	struct fthread *ft;

	switch (rec->type) {
	case PSF_REC_SAMPLE:
		return on_sample(l, f, &rec->u.sample);
	case PSF_REC_STRING:
		return on_string(f, &rec->u.string);
	case PSF_REC_FRAME:
		return on_frame(l, f, &rec->u.frame);
	case PSF_REC_STACK:
		return on_stack(l, f, &rec->u.stack);
	case PSF_REC_PROCESS:
		return on_process(l, f, &rec->u.process);
	case PSF_REC_THREAD:
		return on_thread(l, f, &rec->u.thread);
	case PSF_REC_PROCESS_END: {
		const struct psf_process_end *e = &rec->u.process_end;

		if (e->process == 0 || e->process >= f->n_proc)
			return error("'%s': process end refers to an undefined process", f->name);
		st = l->st_process_end;
		sqlite3_bind_int64(st, 1, (int64_t)e->t_ns);
		sqlite3_bind_int(st, 2, e->how);
		sqlite3_bind_int(st, 3, e->status);
		sqlite3_bind_int64(st, 4, f->proc[e->process]);
		if (e->t_ns > f->max_t)
			f->max_t = e->t_ns;
		return step_done(l, st);
	}
	case PSF_REC_THREAD_NAME: {
		const struct psf_thread_name *n = &rec->u.thread_name;
		const char *name;

		if (!(ft = fthread(f, n->thread)) || fstr(f, n->name, &name) < 0)
			return -1;
		if (!name)
			return 0;
		free(ft->name);
		ft->name = xstrdup(name);
		return add_thread_name(l, ft->db, n->t_ns, name);
	}
	case PSF_REC_THREAD_END:
		if (!(ft = fthread(f, rec->u.thread_end.thread)))
			return -1;
		if (rec->u.thread_end.last_ns > ft->last_ns)
			ft->last_ns = rec->u.thread_end.last_ns;
		return 0;
	case PSF_REC_ERRORS: {
		const struct psf_errors *e = &rec->u.errors;

		if (e->process >= (f->n_proc ? f->n_proc : 1))
			return error("'%s': error record refers to an undefined process", f->name);
		st = l->st_error;
		sqlite3_bind_int64(st, 1, f->capture);
		if (e->process)
			sqlite3_bind_int64(st, 2, f->proc[e->process]);
		else
			sqlite3_bind_null(st, 2);
		sqlite3_bind_int64(st, 3, (int64_t)e->t_ns);
		sqlite3_bind_int64(st, 4, e->kind);
		sqlite3_bind_int64(st, 5, (int64_t)e->count);
		f->errors += e->count;
		return step_done(l, st);
	}
	case PSF_REC_LAG: {
		const struct psf_lag *g = &rec->u.lag;

		st = l->st_lag;
		sqlite3_bind_int64(st, 1, f->capture);
		sqlite3_bind_int64(st, 2, (int64_t)g->t_ns);
		sqlite3_bind_int64(st, 3, (int64_t)g->ticks);
		sqlite3_bind_int64(st, 4, (int64_t)g->missed);
		sqlite3_bind_int64(st, 5, (int64_t)g->max_late_ns);
		sqlite3_bind_int64(st, 6, (int64_t)g->sum_late_ns);
		f->ticks += g->ticks;
		f->missed += g->missed;
		if (g->t_ns > f->max_t)
			f->max_t = g->t_ns;
		return step_done(l, st);
	}
	case PSF_REC_LOCAL: {
		const struct psf_local *v = &rec->u.local;
		const char *name;

		if (!(ft = fthread(f, v->thread)) || fstr(f, v->name, &name) < 0)
			return -1;
		st = l->st_local;
		sqlite3_bind_int64(st, 1, f->capture);
		sqlite3_bind_int64(st, 2, ft->db);
		sqlite3_bind_int64(st, 3, (int64_t)v->t_ns);
		sqlite3_bind_int64(st, 4, v->depth);
		sqlite3_bind_text(st, 5, name ? name : "?", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, v->repr ? v->repr : "", (int)v->repr_len, SQLITE_STATIC);
		sqlite3_bind_int(st, 7, (v->flags & PSF_LF_ARG) != 0);
		sqlite3_bind_int64(st, 8, v->flags);
		return step_done(l, st);
	}
	case PSF_REC_TRAILER:
		f->trailer = rec->u.trailer;
		f->have_trailer = 1;
		return 0;
	case PSF_REC_GAP:
		if (!f->ngaps++)
			f->gap = rec->u.gap;
		f->gap_chunks += rec->u.gap.chunks;
		f->gap_samples += rec->u.gap.samples;
		return 0;
	default:
		return 0; /* unknown ancillary records are skipped */
	}
}

/* ------------------------------------------------------------ capture */

static int open_error(const char *name, int rc, struct psf_reader *r)
{
	const char *d = loader_display_name(name);
	int stdin_ = strcmp(name, "-") == 0;
	char subj[4200];

	snprintf(subj, sizeof(subj), stdin_ ? "%s" : "'%s'", d);
	switch (rc) {
	case PSF_E_IO:
		return error("cannot read %s: %s", subj, strerror(errno));
	case PSF_E_NOT_CAPTURE:
		return error("%s is not a pyspy capture", subj);
	case PSF_E_EMPTY:
		return error("%s is empty", subj);
	case PSF_E_NEWER: {
		const struct psf_meta *m = r ? psf_reader_meta(r) : NULL;

		if (m)
			return error("%s was written by a newer pyspy (format %u.%u; this pyspy-analyze "
				     "reads format %d.x)",
				     subj, m->major, m->minor, PSF_FORMAT_MAJOR);
		return error("%s was written by a newer pyspy (this pyspy-analyze reads format %d.x)",
			     subj, PSF_FORMAT_MAJOR);
	}
	case PSF_E_TRUNCATED:
		return error("%s is truncated inside its header", subj);
	case PSF_E_CHECKSUM:
		return error("%s has a corrupt header (checksum mismatch)", subj);
	case PSF_E_UNSUPPORTED:
		return error("%s needs a newer pyspy-analyze (unknown header flags)", subj);
	default:
		return error("cannot read %s: %s", subj, psf_strerror(rc));
	}
}

static void uuid_hex(char out[33], const uint8_t id[16])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[32] = '\0';
}

struct existing {
	int64_t id;
	int complete;
	int64_t chunks, bytes, samples;
	int64_t first, last;
};

static int find_existing(struct loader *l, const char *uuid, struct existing *e)
{
	sqlite3_stmt *st = db_prepare(l->db, "SELECT id, complete, chunks, bytes, samples,"
					     " sample_first, sample_last FROM captures WHERE uuid = ?");
	int rc;

	memset(e, 0, sizeof(*e));
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		e->id = sqlite3_column_int64(st, 0);
		e->complete = sqlite3_column_int(st, 1);
		e->chunks = sqlite3_column_int64(st, 2);
		e->bytes = sqlite3_column_int64(st, 3);
		e->samples = sqlite3_column_int64(st, 4);
		e->first = sqlite3_column_int64(st, 5);
		e->last = sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(l->db, "cannot read");
	return 0;
}

static int delete_capture(struct loader *l, const struct existing *e)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "DELETE FROM samples WHERE id BETWEEN %lld AND %lld AND capture = %lld;"
		 "DELETE FROM samples WHERE capture = %lld AND %d;"
		 "DELETE FROM thread_names WHERE thread IN (SELECT id FROM threads WHERE capture = %lld);"
		 "DELETE FROM locals WHERE capture = %lld;"
		 "DELETE FROM errors WHERE capture = %lld;"
		 "DELETE FROM lag WHERE capture = %lld;"
		 "DELETE FROM threads WHERE capture = %lld;"
		 "DELETE FROM processes WHERE capture = %lld;"
		 "DELETE FROM captures WHERE id = %lld;",
		 (long long)e->first, (long long)e->last, (long long)e->id, (long long)e->id,
		 e->first == 0 && e->samples > 0, (long long)e->id, (long long)e->id, (long long)e->id,
		 (long long)e->id, (long long)e->id, (long long)e->id, (long long)e->id);
	return db_exec(l->db, sql);
}

static void bind_meta_text(sqlite3_stmt *st, int i, const char *s)
{
	bind_text_or_null(st, i, s);
}

static int insert_capture(struct loader *l, struct fload *f, const struct psf_meta *m,
			  const char *uuid)
{
	sqlite3_stmt *st = l->st_capture;
	char ver[32], by[64];

	snprintf(ver, sizeof(ver), "%u.%u", m->major, m->minor);
	snprintf(by, sizeof(by), "pyspy-analyze %s", PYSPY_VERSION);
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, f->name, -1, SQLITE_STATIC);
	bind_meta_text(st, 3, m->hostname);
	bind_meta_text(st, 4, m->kernel);
	bind_meta_text(st, 5, m->tool_version);
	sqlite3_bind_text(st, 6, ver, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, (int64_t)m->flags);
	sqlite3_bind_int64(st, 8, (int64_t)m->start_wall_ns);
	sqlite3_bind_int64(st, 9, (int64_t)m->start_mono_ns);
	sqlite3_bind_int64(st, 10, m->rate_hz);
	sqlite3_bind_int64(st, 11, m->time_unit_ns ? m->time_unit_ns : 1000);
	sqlite3_bind_int64(st, 12, m->pid);
	bind_meta_text(st, 13, m->cmdline);
	bind_meta_text(st, 14, m->python_version);
	bind_meta_text(st, 15, m->python_exe);
	bind_meta_text(st, 16, m->options);
	sqlite3_bind_text(st, 17, by, -1, SQLITE_TRANSIENT);
	if (step_done(l, st) < 0)
		return -1;
	f->capture = sqlite3_last_insert_rowid(l->db);
	return 0;
}

static int finish_capture(struct loader *l, struct fload *f, struct psf_reader *r,
			  const char *damage)
{
	sqlite3_stmt *st;
	uint32_t i;
	uint64_t end_ns = f->max_t;
	int complete = psf_reader_complete(r) && f->have_trailer;

	if (flush_samples(l, f) < 0)
		return -1;
	for (i = 1; i < f->n_thr; i++) {
		struct fthread *ft = &f->thr[i];

		st = l->st_thread_upd;
		bind_text_or_null(st, 1, ft->name);
		sqlite3_bind_int64(st, 2, (int64_t)ft->last_ns);
		sqlite3_bind_int64(st, 3, (int64_t)ft->samples);
		if (ft->last_sample)
			sqlite3_bind_int64(st, 4, ft->last_sample);
		else
			sqlite3_bind_null(st, 4);
		sqlite3_bind_int64(st, 5, ft->db);
		if (step_done(l, st) < 0)
			return -1;
		if (ft->last_ns > end_ns)
			end_ns = ft->last_ns;
	}
	if (f->have_trailer && f->trailer.end_ns > end_ns)
		end_ns = f->trailer.end_ns;
	st = l->st_capture_upd;
	sqlite3_bind_int(st, 1, complete);
	bind_text_or_null(st, 2, damage);
	sqlite3_bind_int64(st, 3, damage || !f->have_trailer ? psf_reader_chunk(r)
							     : (int64_t)f->trailer.chunks);
	sqlite3_bind_int64(st, 4, (int64_t)psf_reader_offset(r));
	sqlite3_bind_int64(st, 5, (int64_t)end_ns);
	sqlite3_bind_int64(st, 6, (int64_t)f->samples);
	if (f->first_sample) {
		sqlite3_bind_int64(st, 7, f->first_sample);
		sqlite3_bind_int64(st, 8, f->next_sample - 1);
	} else {
		sqlite3_bind_null(st, 7);
		sqlite3_bind_null(st, 8);
	}
	sqlite3_bind_int64(st, 9, (int64_t)(f->have_trailer ? f->trailer.ticks : f->ticks));
	sqlite3_bind_int64(st, 10, (int64_t)(f->have_trailer ? f->trailer.missed : f->missed));
	sqlite3_bind_int64(st, 11, (int64_t)(f->have_trailer ? f->trailer.errors : f->errors));
	sqlite3_bind_int64(st, 12, (int64_t)(f->have_trailer ? f->trailer.partial : f->partial));
	if (f->have_trailer) {
		sqlite3_bind_int(st, 13, f->trailer.reason);
		sqlite3_bind_int(st, 14, f->trailer.exit_status);
	} else {
		sqlite3_bind_null(st, 13);
		sqlite3_bind_null(st, 14);
	}
	sqlite3_bind_int64(st, 15, f->capture);
	if (step_done(l, st) < 0)
		return -1;
	/* The trailer's exit status is 0 also when the status is unknown:
	 * the root process's end says whether it is known (format.md 5.2). */
	if (f->have_trailer) {
		char sql[256];
		snprintf(sql, sizeof(sql),
			 "UPDATE captures SET exit_status = NULL WHERE id = %lld AND coalesce(("
			 "SELECT end_how FROM processes WHERE capture = captures.id AND"
			 " pid = captures.pid ORDER BY id DESC LIMIT 1), 0) NOT IN (1, 2)",
			 (long long)f->capture);
		if (db_exec(l->db, sql) < 0)
			return -1;
	}
	/* The multi-row INSERTs got consecutive rowids: check, never assume. */
	if (f->first_sample && db_int(l->db, "SELECT max(id) FROM samples", 0) != f->next_sample - 1)
		return error("database '%s': samples were not stored contiguously", db_name(l->db));
	return 0;
}

static const char *damage_why(int rc)
{
	return rc == PSF_E_CHECKSUM ? "checksum mismatch" : psf_strerror(rc);
}

/* captures.damage and the warning for the damaged chunks that were skipped. */
static const char *gap_text(const struct fload *f, uint64_t dropped, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "chunk %u damaged (%s): skipped", f->gap.first,
			 damage_why(f->gap.error));

	if (f->ngaps > 1 && n > 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, ", with %d later damaged places,", f->ngaps - 1);
	if (n > 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, " %llu chunk%s, %llu samples lost",
			      (unsigned long long)f->gap_chunks, f->gap_chunks == 1 ? "" : "s",
			      (unsigned long long)f->gap_samples);
	if (dropped && n > 0 && (size_t)n < cap)
		snprintf(buf + n, cap - (size_t)n, " (and %llu later samples of what they defined)",
			 (unsigned long long)dropped);
	return buf;
}

static const char *damage_text(int rc, uint32_t chunk, char *buf, size_t cap)
{
	switch (rc) {
	case PSF_E_TRUNCATED:
		snprintf(buf, cap, "truncated at chunk %u", chunk);
		break;
	case PSF_E_CHECKSUM:
		snprintf(buf, cap, "chunk %u checksum mismatch", chunk);
		break;
	case PSF_E_UNSUPPORTED:
		snprintf(buf, cap, "chunk %u needs a newer reader", chunk);
		break;
	default:
		snprintf(buf, cap, "chunk %u corrupt (%s)", chunk, psf_strerror(rc));
		break;
	}
	return buf;
}

int loader_load(struct loader *l, int fd, const char *name, struct load_result *res)
{
	struct psf_reader *r = NULL;
	const struct psf_meta *m;
	struct psf_record rec;
	struct fload f;
	struct existing old;
	struct progress pg;
	struct stat sb;
	char uuid[33], tmp_uuid[48], dmg[256], gapmsg[256];
	const char *damage = NULL;
	uint64_t total = 0, n = 0;
	double t0 = progress_now();
	int rc, ret = -1, in_tx = 0, stopped = 0;

	memset(res, 0, sizeof(*res));
	memset(&f, 0, sizeof(f));
	u64map_init(&f.pid_latest);
	f.name = name;
	progress_init(&pg, loader_display_name(name), 0);

	rc = psf_reader_open_fd(&r, fd);
	if (rc < 0) {
		open_error(name, rc, r);
		goto out;
	}
	m = psf_reader_meta(r);
	uuid_hex(uuid, m->capture_id);
	f.period_ns = m->rate_hz ? 1000000000u / m->rate_hz : LOADER_DEFAULT_PERIOD_NS;
	if (f.period_ns == 0)
		f.period_ns = 1;
	f.cap_ns = 10 * f.period_ns > LOADER_MIN_CAP_NS ? 10 * f.period_ns : LOADER_MIN_CAP_NS;

	if (db_exec(l->db, "BEGIN IMMEDIATE") < 0)
		goto out;
	in_tx = 1;
	if (find_existing(l, uuid, &old) < 0)
		goto out;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
		total = (uint64_t)sb.st_size;
	if (old.id && (old.complete || (total && (int64_t)total <= old.bytes))) {
		note("'%s': capture %.12s already loaded (%lld samples); skipped",
		     loader_display_name(name), uuid, (long long)old.samples);
		res->outcome = LOAD_SKIPPED;
		res->capture = old.id;
		ret = 0;
		goto out;
	}
	if (loader_sync(l) < 0)
		goto out;
	f.next_sample = db_int(l->db, "SELECT max(id) FROM samples", 0) + 1;
	snprintf(tmp_uuid, sizeof(tmp_uuid), "%s-loading", uuid);
	if (insert_capture(l, &f, m, old.id ? tmp_uuid : uuid) < 0)
		goto out;

	pg.total = total;
	while ((rc = psf_reader_next(r, &rec)) > 0) {
		if (on_record(l, &f, &rec) < 0)
			goto out;
		if ((++n & 0xffff) == 0)
			progress_update(&pg, psf_reader_offset(r), f.samples);
	}
	progress_finish(&pg);
	if (rc < 0) {
		if (rc == PSF_E_IO || rc == PSF_E_NOMEM || rc == PSF_E_INVAL) {
			if (rc == PSF_E_IO)
				error("cannot read '%s': %s", loader_display_name(name), strerror(errno));
			else
				error("cannot read '%s': %s", loader_display_name(name), psf_strerror(rc));
			goto out;
		}
		damage = damage_text(rc, psf_reader_chunk(r), dmg, sizeof(dmg));
		res->damaged = 1;
		stopped = 1;
	}
	if (f.ngaps) {
		/* skipped damage: the text of the first gap, unless loading stopped later */
		if (!damage)
			damage = gap_text(&f, psf_reader_dropped(r), dmg, sizeof(dmg));
		gap_text(&f, psf_reader_dropped(r), gapmsg, sizeof(gapmsg));
		res->damaged = 1;
	}
	if (finish_capture(l, &f, r, damage) < 0)
		goto out;
	if (old.id) {
		int newer = (psf_reader_complete(r) && f.have_trailer) || (int64_t)f.samples > old.samples;

		if (!newer) {
			note("'%s': capture %.12s already loaded (%lld samples; this copy is not longer); "
			     "skipped",
			     loader_display_name(name), uuid, (long long)old.samples);
			db_exec(l->db, "ROLLBACK");
			in_tx = 0;
			/* The dedupe tables may hold rows that were rolled back. */
			loader_forget(l);
			res->outcome = LOAD_SKIPPED;
			res->capture = old.id;
			ret = 0;
			goto out;
		}
		{
			char sql[160];

			snprintf(sql, sizeof(sql), "UPDATE captures SET uuid = '%s' WHERE id = %lld", uuid,
				 (long long)f.capture);
			if (delete_capture(l, &old) < 0 || db_exec(l->db, sql) < 0)
				goto out;
		}
		res->outcome = LOAD_REPLACED;
	}
	if (db_exec(l->db, "COMMIT") < 0)
		goto out;
	in_tx = 0;
	if (f.ngaps)
		warning("'%s': %s; loaded the other %llu samples", loader_display_name(name), gapmsg,
			(unsigned long long)f.samples);
	if (stopped)
		warning("'%s': %s; loaded %llu samples before the damage", loader_display_name(name),
			damage, (unsigned long long)f.samples);
	res->capture = f.capture;
	res->samples = f.samples;
	ret = 0;
out:
	progress_finish(&pg);
	if (in_tx) {
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
		if (ret < 0)
			loader_forget(l);
	}
	res->seconds = progress_now() - t0;
	fload_release(&f);
	psf_reader_free(r);
	return ret;
}
