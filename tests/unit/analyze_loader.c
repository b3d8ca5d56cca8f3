/*
 * analyze_loader.c - unit tests of capture -> database -> reports:
 * loading (dedupe across captures and re-definitions, idempotence,
 * replacement of a shorter copy, salvage of truncated and corrupted
 * files, rollback on failure), the model, the filters and the
 * aggregation behind collapsed/flamegraph/top.
 *
 * Captures are written with the format library's writer into memfds.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agg.h"
#include "cmd_collapsed.h"
#include "db.h"
#include "filter.h"
#include "loader.h"
#include "model.h"
#include "msg.h"
#include "pyspy_format.h"
#include "test.h"

/* ------------------------------------------------------------ captures */

struct cap {
	struct psf_writer *w;
	int fd;
	uint32_t s_app, s_thr, s_mod, s_main, s_compute, s_run, s_wait, s_cmd, s_ver;
	uint32_t f_mod, f_main, f_compute, f_run, f_wait;
	uint32_t st_mod, st_main, st_c22, st_c23, st_run, st_wait;
	uint32_t proc, t_main, t_work;
};

#define ID(x) (cap_must(psf_writer_string(c->w, x, strlen(x), &id)), id)

static void cap_must(int rc)
{
	if (rc < 0) {
		printf("# writer: %s\n", psf_strerror(rc));
		exit(1);
	}
}

static uint32_t pyframe(struct cap *c, uint32_t name, uint32_t file, int32_t first)
{
	struct psf_frame f;
	uint32_t id;

	memset(&f, 0, sizeof(f));
	f.kind = PSF_FRAME_PYTHON;
	f.name = name;
	f.qualname = name;
	f.file = file;
	f.firstlineno = first;
	cap_must(psf_writer_frame(c->w, &f, &id));
	return id;
}

static uint32_t stack(struct cap *c, uint32_t parent, uint32_t frame, int32_t line)
{
	uint32_t id;

	cap_must(psf_writer_stack(c->w, parent, frame, line, &id));
	return id;
}

/* The definitions; called again after a writer intern reset to re-define. */
static void cap_defs(struct cap *c)
{
	uint32_t id;

	c->s_app = ID("/srv/app/app.py");
	c->s_thr = ID("/usr/lib/python3.11/threading.py");
	c->s_mod = ID("<module>");
	c->s_main = ID("main");
	c->s_compute = ID("compute");
	c->s_run = ID("run");
	c->s_wait = ID("wait");
	c->f_mod = pyframe(c, c->s_mod, c->s_app, 1);
	c->f_main = pyframe(c, c->s_main, c->s_app, 5);
	c->f_compute = pyframe(c, c->s_compute, c->s_app, 20);
	c->f_run = pyframe(c, c->s_run, c->s_thr, 1000);
	c->f_wait = pyframe(c, c->s_wait, c->s_thr, 300);
	c->st_mod = stack(c, 0, c->f_mod, 9);
	c->st_main = stack(c, c->st_mod, c->f_main, 10);
	c->st_c22 = stack(c, c->st_main, c->f_compute, 22);
	c->st_c23 = stack(c, c->st_main, c->f_compute, 23);
	c->st_run = stack(c, 0, c->f_run, 1012);
	c->st_wait = stack(c, c->st_run, c->f_wait, 320);
}

/*
 * A 2-thread capture, id byte `idbyte`, host `host`: `ticks` ticks 10 ms
 * apart, one chunk per tick when `chunky`.  Main thread per tick i:
 * i % 10 < 6 -> compute:22 with the GIL, < 9 -> compute:23, else main:10
 * with the OS idle flag.  Worker: always in threading wait (idle by
 * py-spy's heuristic).  redefine: re-define everything halfway (as a
 * writer does when its intern tables fill).
 */
static int make_capture(uint8_t idbyte, const char *host, int ticks, int chunky, int redefine,
			int complete)
{
	struct cap cc, *c = &cc;
	struct psf_meta meta;
	struct psf_process p;
	struct psf_thread t;
	uint32_t id;
	int i;

	memset(c, 0, sizeof(*c));
	c->fd = memfd_create("cap", 0);
	memset(&meta, 0, sizeof(meta));
	memset(meta.capture_id, idbyte, sizeof(meta.capture_id));
	meta.hostname = host;
	meta.kernel = "Linux 6.1.0 x86_64";
	meta.tool_version = "pyspy-capture 0.1.0";
	meta.start_wall_ns = 1714564800000000000ull;
	meta.rate_hz = 100;
	meta.time_unit_ns = 100000;
	meta.pid = 100;
	meta.cmdline = "python3 app.py";
	meta.python_version = "3.11.2";
	meta.python_exe = "/usr/bin/python3.11";
	cap_must(psf_writer_open(&c->w, c->fd, &meta, NULL));
	cap_defs(c);
	memset(&p, 0, sizeof(p));
	p.pid = 100;
	p.ppid = 1;
	p.cmdline = ID("python3 app.py");
	p.python_version = ID("3.11.2");
	cap_must(psf_writer_process(c->w, &p, &c->proc));
	memset(&t, 0, sizeof(t));
	t.process = c->proc;
	t.tid = 100;
	t.py_thread_id = 0x7f0000000100ull;
	t.name = ID("MainThread");
	t.flags = PSF_TF_MAIN;
	cap_must(psf_writer_thread(c->w, &t, &c->t_main));
	t.tid = 101;
	t.py_thread_id = 0x7f0000000200ull;
	t.name = ID("worker-1");
	t.flags = 0;
	cap_must(psf_writer_thread(c->w, &t, &c->t_work));
	for (i = 0; i < ticks; i++) {
		uint64_t tns = (uint64_t)(i + 1) * 10000000ull;
		struct psf_sample s;

		if (redefine && i == ticks / 2)
			cap_defs(c); /* new ids, same content */
		cap_must(psf_writer_tick(c->w, tns, tns));
		memset(&s, 0, sizeof(s));
		s.t_ns = tns;
		s.thread = c->t_main;
		if (i % 10 < 6) {
			s.stack = c->st_c22;
			s.flags = PSF_SF_GIL;
		} else if (i % 10 < 9) {
			s.stack = c->st_c23;
		} else {
			s.stack = c->st_main;
			s.flags = PSF_SF_IDLE;
		}
		cap_must(psf_writer_sample(c->w, &s));
		s.t_ns = tns + 100000;
		s.thread = c->t_work;
		s.stack = c->st_wait;
		s.flags = 0;
		cap_must(psf_writer_sample(c->w, &s));
		if (chunky)
			cap_must(psf_writer_flush(c->w));
	}
	if (complete) {
		struct psf_trailer tr;

		memset(&tr, 0, sizeof(tr));
		tr.end_ns = (uint64_t)(ticks + 1) * 10000000ull;
		tr.samples = (uint64_t)ticks * 2;
		tr.ticks = (uint64_t)ticks;
		tr.reason = PSF_STOP_EXITED;
		cap_must(psf_writer_close(c->w, &tr));
	} else {
		cap_must(psf_writer_flush(c->w));
	}
	psf_writer_free(c->w);
	lseek(c->fd, 0, SEEK_SET);
	return c->fd;
}

/* A copy of fd's first `len` bytes (or with byte `flip` inverted). */
static int copy_fd(int fd, off_t len, off_t flip)
{
	int out = memfd_create("copy", 0);
	char buf[65536];
	off_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, buf, (size_t)(len - done < (off_t)sizeof(buf) ? len - done : (off_t)sizeof(buf)), done);

		if (n <= 0)
			break;
		if (flip >= done && flip < done + n)
			buf[flip - done] ^= 0xff;
		if (write(out, buf, (size_t)n) != n)
			break;
		done += n;
	}
	lseek(out, 0, SEEK_SET);
	return out;
}

static off_t fd_size(int fd)
{
	return lseek(fd, 0, SEEK_END);
}

static int64_t q(sqlite3 *db, const char *sql)
{
	return db_int(db, sql, -1);
}

static sqlite3 *temp_db(void)
{
	sqlite3 *db = NULL;

	CHECK(db_open_temp(&db) == 0);
	return db;
}

static int load(struct loader *l, int fd, struct load_result *res)
{
	lseek(fd, 0, SEEK_SET);
	return loader_load(l, fd, "test.pyspy", res);
}

/* ------------------------------------------------------------ tests */

static void load_basic(void)
{
	sqlite3 *db = temp_db();
	struct loader *l = loader_new(db);
	struct load_result res;
	int fd = make_capture(1, "web1", 20, 0, 0, 1);

	CHECK_EQ(load(l, fd, &res), 0);
	CHECK_EQ(res.outcome, LOAD_NEW);
	CHECK_EQ(res.samples, 40);
	CHECK_EQ(res.damaged, 0);
	CHECK_EQ(q(db, "SELECT count(*) FROM captures"), 1);
	CHECK_EQ(q(db, "SELECT complete FROM captures"), 1);
	CHECK_EQ(q(db, "SELECT count(*) FROM samples"), 40);
	CHECK_EQ(q(db, "SELECT count(*) FROM threads"), 2);
	CHECK_EQ(q(db, "SELECT count(*) FROM processes"), 1);
	CHECK_EQ(q(db, "SELECT count(*) FROM frames"), 5);
	CHECK_EQ(q(db, "SELECT count(*) FROM stacks"), 6);
	CHECK_EQ(q(db, "SELECT sample_last - sample_first + 1 FROM captures"), 40);
	CHECK_EQ(q(db, "SELECT samples FROM threads WHERE tid = 100"), 20);
	CHECK_EQ(q(db, "SELECT end_ns FROM captures"), 210000000);
	CHECK_EQ(q(db, "SELECT stop_reason FROM captures"), PSF_STOP_EXITED);
	/* py-spy's idle heuristic is stored with the frame */
	CHECK_EQ(q(db, "SELECT idle_leaf FROM frame_info WHERE name = 'wait'"), 1);
	CHECK_EQ(q(db, "SELECT count(*) FROM frame_info WHERE idle_leaf"), 1);
	/* views */
	CHECK_EQ(q(db, "SELECT count(*) FROM sample_leaf WHERE idle"), 22);
	CHECK_EQ(q(db, "SELECT count(*) FROM sample_leaf WHERE gil"), 12);
	CHECK_EQ(q(db, "SELECT count(*) FROM sample_leaf WHERE function = 'compute' AND line = 23"), 6);
	CHECK_EQ(q(db, "SELECT count(*) FROM sample_frames WHERE sample = 1"), 3);
	CHECK_EQ(q(db, "SELECT max(level) FROM stack_frames"), 2);
	CHECK_EQ(q(db, "SELECT count(*) FROM stack_text WHERE text = '<module> (/srv/app/app.py:9);"
		       "main (/srv/app/app.py:10);compute (/srv/app/app.py:22)'"),
		 1);
	CHECK_EQ(q(db, "SELECT samples FROM thread_summary WHERE thread_name = 'MainThread'"), 20);
	CHECK_EQ(q(db, "SELECT gil FROM thread_summary WHERE thread_name = 'MainThread'"), 12);
	CHECK_EQ(q(db, "SELECT active FROM thread_summary WHERE thread_name = 'worker-1'"), 0);
	CHECK_EQ(q(db, "SELECT count(*) FROM process_summary"), 1);
	CHECK_EQ(q(db, "SELECT samples FROM capture_summary"), 40);
	/* wall_time has millisecond precision; wall_ns is exact */
	CHECK_EQ(q(db, "SELECT count(*) FROM sample_leaf WHERE wall_time = '2024-05-01T12:00:00.010'"), 2);
	CHECK_EQ(q(db, "SELECT count(*) FROM sample_leaf WHERE wall_ns = 1714564800010100000"), 1);
	loader_free(l);
	db_close(db);
	close(fd);
}

static void load_idempotent(void)
{
	sqlite3 *db = temp_db();
	struct loader *l = loader_new(db);
	struct load_result res;
	int a = make_capture(1, "web1", 20, 0, 0, 1), b = make_capture(2, "web2", 10, 0, 0, 1);

	msg_verbosity = 0; /* the "skipped" note */
	CHECK_EQ(load(l, a, &res), 0);
	CHECK_EQ(load(l, a, &res), 0);
	CHECK_EQ(res.outcome, LOAD_SKIPPED);
	CHECK_EQ(q(db, "SELECT count(*) FROM samples"), 40);
	CHECK_EQ(load(l, b, &res), 0);
	CHECK_EQ(res.outcome, LOAD_NEW);
	CHECK_EQ(q(db, "SELECT count(*) FROM captures"), 2);
	CHECK_EQ(q(db, "SELECT count(*) FROM samples"), 60);
	/* the same code on two hosts is stored once */
	CHECK_EQ(q(db, "SELECT count(*) FROM frames"), 5);
	CHECK_EQ(q(db, "SELECT count(*) FROM stacks"), 6);
	CHECK_EQ(q(db, "SELECT count(*) FROM strings"), 7);
	/* sample ranges of the two captures do not overlap */
	CHECK_EQ(q(db, "SELECT count(*) FROM samples s JOIN captures c ON s.id BETWEEN c.sample_first"
		       " AND c.sample_last WHERE s.capture != c.id"),
		 0);
	/* a new loader (another run) on the same database: same dedupe */
	loader_free(l);
	l = loader_new(db);
	CHECK_EQ(load(l, b, &res), 0);
	CHECK_EQ(res.outcome, LOAD_SKIPPED);
	msg_verbosity = 1;
	loader_free(l);
	db_close(db);
	close(a);
	close(b);
}

static void load_redefined(void)
{
	sqlite3 *db = temp_db();
	struct loader *l = loader_new(db);
	struct load_result res;
	int fd = make_capture(3, "web1", 20, 1, 1, 1);

	CHECK_EQ(load(l, fd, &res), 0);
	CHECK_EQ(res.samples, 40);
	/* content defined twice under different ids is stored once */
	CHECK_EQ(q(db, "SELECT count(*) FROM frames"), 5);
	CHECK_EQ(q(db, "SELECT count(*) FROM stacks"), 6);
	CHECK_EQ(q(db, "SELECT count(DISTINCT stack) FROM samples"), 4);
	loader_free(l);
	db_close(db);
	close(fd);
}

static void load_truncated_then_longer(void)
{
	sqlite3 *db = temp_db();
	struct loader *l = loader_new(db);
	struct load_result res;
	int full = make_capture(4, "web1", 20, 1, 0, 1);
	int part = copy_fd(full, fd_size(full) / 2, -1);

	msg_verbosity = 0;
	CHECK_EQ(load(l, part, &res), 0);
	CHECK_EQ(res.damaged, 1);
	CHECK(res.samples > 0 && res.samples < 40);
	CHECK_EQ(q(db, "SELECT complete FROM captures"), 0);
	CHECK_EQ(q(db, "SELECT damage LIKE 'truncated at chunk %' FROM captures"), 1);
	CHECK_EQ(q(db, "SELECT count(*) FROM samples"), (int64_t)res.samples);
	/* the same prefix again: not longer, skipped */
	CHECK_EQ(load(l, part, &res), 0);
	CHECK_EQ(res.outcome, LOAD_SKIPPED);
	/* the whole file: replaces the shorter copy */
	CHECK_EQ(load(l, full, &res), 0);
	CHECK_EQ(res.outcome, LOAD_REPLACED);
	CHECK_EQ(q(db, "SELECT count(*) FROM captures"), 1);
	CHECK_EQ(q(db, "SELECT complete FROM captures"), 1);
	CHECK_EQ(q(db, "SELECT count(*) FROM samples"), 40);
	CHECK_EQ(q(db, "SELECT count(*) FROM threads"), 2);
	CHECK_EQ(q(db, "SELECT count(*) FROM processes"), 1);
	CHECK_EQ(q(db, "SELECT count(*) FROM thread_names"), 2);
	CHECK_EQ(q(db, "SELECT uuid FROM captures") != -1, 1);
	CHECK_EQ(q(db, "SELECT count(*) FROM captures WHERE uuid LIKE '%-loading'"), 0);
	/* and now the partial copy is skipped without reading it through */
	CHECK_EQ(load(l, part, &res), 0);
	CHECK_EQ(res.outcome, LOAD_SKIPPED);
	CHECK_EQ(q(db, "SELECT count(*) FROM samples"), 40);
	msg_verbosity = 1;
	loader_free(l);
	db_close(db);
	close(full);
	close(part);
}

static void load_corrupt(void)
{
	sqlite3 *db = temp_db();
	struct loader *l = loader_new(db);
	struct load_result res;
	int full = make_capture(5, "web1", 20, 1, 0, 1);
	off_t size = fd_size(full);
	int bad = copy_fd(full, size, size * 3 / 4);
	int notcap, empty;

	msg_verbosity = 0;
	CHECK_EQ(load(l, bad, &res), 0);
	CHECK_EQ(res.damaged, 1);
	CHECK(res.samples > 0 && res.samples < 40);
	CHECK_EQ(q(db, "SELECT damage LIKE 'chunk %' FROM captures"), 1);
	/* not a capture, empty: errors, database unchanged */
	notcap = memfd_create("x", 0);
	CHECK(write(notcap, "hello world, not a capture", 27) == 27);
	CHECK_EQ(load(l, notcap, &res), -1);
	empty = memfd_create("y", 0);
	CHECK_EQ(load(l, empty, &res), -1);
	CHECK_EQ(q(db, "SELECT count(*) FROM captures"), 1);
	msg_verbosity = 1;
	loader_free(l);
	db_close(db);
	close(full);
	close(bad);
	close(notcap);
	close(empty);
}

static void load_rollback(void)
{
	sqlite3 *db = temp_db();
	struct loader *l = loader_new(db);
	struct load_result res;
	int a = make_capture(6, "web1", 20, 0, 0, 1), b = make_capture(7, "web2", 20, 0, 0, 1);

	CHECK_EQ(load(l, a, &res), 0);
	/* make the next load fail halfway: a trigger that refuses samples */
	CHECK_EQ(db_exec(db, "CREATE TEMP TRIGGER no_more BEFORE INSERT ON samples"
			     " WHEN NEW.capture > 1 BEGIN SELECT RAISE(ABORT, 'refused'); END"),
		 0);
	msg_verbosity = -1;
	CHECK_EQ(load(l, b, &res), -1);
	msg_verbosity = 1;
	CHECK_EQ(q(db, "SELECT count(*) FROM captures"), 1);
	CHECK_EQ(q(db, "SELECT count(*) FROM samples"), 40);
	CHECK_EQ(q(db, "SELECT count(*) FROM threads"), 2);
	/* after the failure the loader resynchronises and loads correctly */
	CHECK_EQ(db_exec(db, "DROP TRIGGER no_more"), 0);
	CHECK_EQ(load(l, b, &res), 0);
	CHECK_EQ(res.outcome, LOAD_NEW);
	CHECK_EQ(q(db, "SELECT count(*) FROM samples"), 80);
	CHECK_EQ(q(db, "SELECT count(*) FROM stacks"), 6);
	loader_free(l);
	db_close(db);
	close(a);
	close(b);
}

/* Collapsed text of a database under filter f. */
static char *collapsed(sqlite3 *db, struct filter *f)
{
	struct model *m = model_load(db);
	struct agg a;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	CHECK(m != NULL);
	CHECK(filter_select(f, m) >= 0);
	CHECK_EQ(agg_run(&a, m, f, filter_show_processes(f, m), 0), 0);
	agg_sort(&a);
	collapsed_write(fp, &a);
	fclose(fp);
	agg_release(&a);
	model_free(m);
	return buf;
}

static void reports_filters(void)
{
	sqlite3 *db = temp_db();
	struct loader *l = loader_new(db);
	struct load_result res;
	struct filter f;
	int a = make_capture(8, "web1", 20, 0, 0, 1), b = make_capture(9, "web2", 10, 0, 0, 1);
	char *s;

	CHECK_EQ(load(l, a, &res), 0);
	CHECK_EQ(load(l, b, &res), 0);

	filter_init(&f);
	s = collapsed(db, &f);
	CHECK_STR(s, "<module> (app.py:9);main (app.py:10);compute (app.py:22) 18\n"
		     "<module> (app.py:9);main (app.py:10);compute (app.py:23) 9\n");
	free(s);

	filter_option(&f, 'i', NULL); /* --idle */
	filter_option(&f, CLI_NOLINENO, NULL);
	s = collapsed(db, &f);
	CHECK_STR(s, "<module> (app.py);main (app.py) 3\n"
		     "<module> (app.py);main (app.py);compute (app.py) 27\n"
		     "run (threading.py);wait (threading.py) 30\n");
	free(s);
	filter_release(&f);

	filter_init(&f);
	filter_option(&f, 'g', NULL); /* --gil */
	filter_option(&f, 'F', NULL); /* --function */
	filter_option(&f, 't', NULL); /* --threads */
	s = collapsed(db, &f);
	CHECK_STR(s, "thread (100): MainThread;<module> (app.py:1);main (app.py:5);compute (app.py:20) 18\n");
	free(s);
	filter_release(&f);

	filter_init(&f);
	filter_option(&f, CLI_CAPTURE, "web2");
	filter_option(&f, CLI_FROM, "0.05");
	filter_option(&f, CLI_TO, "0.08");
	filter_option(&f, CLI_FULL_FILENAMES, NULL);
	s = collapsed(db, &f);
	/* ticks at 50..80 ms: i = 4..7 -> 22, 22, 23, 23 */
	CHECK_STR(s, "<module> (/srv/app/app.py:9);main (/srv/app/app.py:10);compute (/srv/app/app.py:22) 2\n"
		     "<module> (/srv/app/app.py:9);main (/srv/app/app.py:10);compute (/srv/app/app.py:23) 2\n");
	free(s);
	filter_release(&f);

	filter_init(&f);
	filter_option(&f, CLI_THREAD, "work*");
	filter_option(&f, 'i', NULL);
	filter_option(&f, 'p', "100");
	s = collapsed(db, &f);
	CHECK_STR(s, "run (threading.py:1012);wait (threading.py:320) 30\n");
	free(s);
	filter_release(&f);

	filter_init(&f);
	filter_option(&f, CLI_TID, "0x7f0000000200");
	filter_option(&f, 'i', NULL);
	filter_option(&f, CLI_PROCESSES, NULL);
	filter_option(&f, CLI_QUALNAME, NULL);
	s = collapsed(db, &f);
	CHECK_STR(s, "process 100:\"python3 app.py\";run (threading.py:1012);wait (threading.py:320) 30\n");
	free(s);
	filter_release(&f);

	loader_free(l);
	db_close(db);
	close(a);
	close(b);
}

int main(void)
{
	RUN(load_basic);
	RUN(load_idempotent);
	RUN(load_redefined);
	RUN(load_truncated_then_longer);
	RUN(load_corrupt);
	RUN(load_rollback);
	RUN(reports_filters);
	return test_status();
}
