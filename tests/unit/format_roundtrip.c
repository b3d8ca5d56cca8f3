/*
 * format_roundtrip.c - every record type and every header field, written
 * with the writer and read back field by field, boundary values included.
 *
 * Guard: record_types_all_covered fails when the library knows a record
 * type (the reader decodes it, or psf_rec_name() names it) that this file
 * does not round-trip, so a new type cannot be added silently.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format_int.h"
#include "format_testutil.h"
#include "pyspy_format.h"
#include "test.h"

/* ------------------------------------------------------------ expectations */

/*
 * The reader returns a chunk's records as pre (definitions, THREAD_NAME),
 * samples, post (end events, LAG, LOCAL, TRAILER): the writer's layout
 * (§8).  Expected records are collected in those three buckets and moved
 * to the final list at each flush.
 */
struct expect {
	struct psf_record *v;
	size_t n, cap;
};

static struct expect bucket[3], expected;
static char *texts[4096];        /* expected string/repr text per record */
static size_t ntexts;
static int covered[256];         /* record types round-tripped */

enum { B_PRE, B_SAMPLES, B_POST };

static void exp_push(struct expect *e, const struct psf_record *r)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 64;
		e->v = realloc(e->v, e->cap * sizeof(*e->v));
		if (!e->v)
			abort();
	}
	e->v[e->n++] = *r;
}

static void exp_add(int b, const struct psf_record *r)
{
	exp_push(&bucket[b], r);
	covered[r->type] = 1;
}

static void exp_flush(void)
{
	int b;
	size_t i;

	for (b = 0; b < 3; b++) {
		for (i = 0; i < bucket[b].n; i++)
			exp_push(&expected, &bucket[b].v[i]);
		bucket[b].n = 0;
	}
}

static void exp_reset(void)
{
	int b;

	for (b = 0; b < 3; b++)
		bucket[b].n = 0;
	expected.n = 0;
}

static const char *keep_text(const char *s, size_t n)
{
	char *c = malloc(n + 1);

	if (!c || ntexts == sizeof(texts) / sizeof(texts[0]))
		abort();
	memcpy(c, s, n);
	c[n] = '\0';
	texts[ntexts++] = c;
	return c;
}

/* ------------------------------------------------------------ comparison */

#define FIELD(f) CHECK_EQ(got->u.f, want->u.f)

/* Compare one record field by field; 0 if the type has no comparison. */
static int compare_record(const struct psf_record *want, const struct psf_record *got)
{
	CHECK_EQ(got->type, want->type);
	if (got->type != want->type)
		return 1;
	switch (want->type) {
	case PSF_REC_STRING:
		FIELD(string.id);
		FIELD(string.len);
		CHECK(got->u.string.data && memcmp(got->u.string.data, want->u.string.data,
						   want->u.string.len) == 0);
		CHECK(got->u.string.data && got->u.string.data[got->u.string.len] == '\0');
		return 1;
	case PSF_REC_FRAME:
		FIELD(frame.id);
		FIELD(frame.kind);
		FIELD(frame.name);
		FIELD(frame.qualname);
		FIELD(frame.file);
		FIELD(frame.firstlineno);
		CHECK(got->u.frame.offset == want->u.frame.offset);
		return 1;
	case PSF_REC_STACK:
		FIELD(stack.id);
		FIELD(stack.parent);
		FIELD(stack.frame);
		FIELD(stack.line);
		return 1;
	case PSF_REC_PROCESS:
		FIELD(process.id);
		FIELD(process.pid);
		FIELD(process.ppid);
		CHECK(got->u.process.start_ns == want->u.process.start_ns);
		FIELD(process.cmdline);
		FIELD(process.python_version);
		FIELD(process.exe);
		return 1;
	case PSF_REC_THREAD:
		FIELD(thread.id);
		FIELD(thread.process);
		FIELD(thread.tid);
		CHECK(got->u.thread.py_thread_id == want->u.thread.py_thread_id);
		FIELD(thread.name);
		CHECK(got->u.thread.first_ns == want->u.thread.first_ns);
		CHECK(got->u.thread.interp == want->u.thread.interp);
		FIELD(thread.flags);
		return 1;
	case PSF_REC_SAMPLE:
		CHECK(got->u.sample.t_ns == want->u.sample.t_ns);
		CHECK(got->u.sample.late_ns == want->u.sample.late_ns);
		FIELD(sample.thread);
		FIELD(sample.stack);
		FIELD(sample.flags);
		return 1;
	case PSF_REC_PROCESS_END:
		FIELD(process_end.process);
		CHECK(got->u.process_end.t_ns == want->u.process_end.t_ns);
		FIELD(process_end.how);
		FIELD(process_end.status);
		return 1;
	case PSF_REC_THREAD_NAME:
		FIELD(thread_name.thread);
		CHECK(got->u.thread_name.t_ns == want->u.thread_name.t_ns);
		FIELD(thread_name.name);
		return 1;
	case PSF_REC_THREAD_END:
		FIELD(thread_end.thread);
		CHECK(got->u.thread_end.last_ns == want->u.thread_end.last_ns);
		return 1;
	case PSF_REC_ERRORS:
		FIELD(errors.process);
		CHECK(got->u.errors.t_ns == want->u.errors.t_ns);
		CHECK(got->u.errors.kind == want->u.errors.kind);
		CHECK(got->u.errors.count == want->u.errors.count);
		return 1;
	case PSF_REC_LAG:
		CHECK(got->u.lag.t_ns == want->u.lag.t_ns);
		CHECK(got->u.lag.ticks == want->u.lag.ticks);
		CHECK(got->u.lag.missed == want->u.lag.missed);
		CHECK(got->u.lag.max_late_ns == want->u.lag.max_late_ns);
		CHECK(got->u.lag.sum_late_ns == want->u.lag.sum_late_ns);
		return 1;
	case PSF_REC_LOCAL:
		FIELD(local.thread);
		CHECK(got->u.local.t_ns == want->u.local.t_ns);
		CHECK(got->u.local.depth == want->u.local.depth);
		FIELD(local.flags);
		FIELD(local.name);
		FIELD(local.repr_len);
		CHECK(got->u.local.repr && memcmp(got->u.local.repr, want->u.local.repr,
						  want->u.local.repr_len) == 0);
		CHECK(got->u.local.repr && got->u.local.repr[got->u.local.repr_len] == '\0');
		return 1;
	case PSF_REC_TRAILER:
		CHECK(got->u.trailer.end_ns == want->u.trailer.end_ns);
		CHECK(got->u.trailer.samples == want->u.trailer.samples);
		CHECK(got->u.trailer.ticks == want->u.trailer.ticks);
		CHECK(got->u.trailer.missed == want->u.trailer.missed);
		CHECK(got->u.trailer.errors == want->u.trailer.errors);
		CHECK(got->u.trailer.partial == want->u.trailer.partial);
		FIELD(trailer.chunks);
		FIELD(trailer.reason);
		FIELD(trailer.exit_status);
		return 1;
	}
	return 0;
}

/* Read buf back and compare with `expected`, in order. */
static void check_file(const uint8_t *buf, size_t len)
{
	struct psf_reader *r = NULL;
	struct psf_record rec;
	size_t i = 0;
	int ret;

	CHECK_EQ(psf_reader_open_mem(&r, buf, len), 0);
	if (!r)
		return;
	while ((ret = psf_reader_next(r, &rec)) > 0) {
		if (i >= expected.n) {
			CHECK(!"more records than expected");
			break;
		}
		if (!compare_record(&expected.v[i], &rec))
			CHECK(!"record type without a field-by-field comparison");
		if (test_failed_) {
			printf("#   at record %zu (type 0x%02x)\n", i, expected.v[i].type);
			break;
		}
		i++;
	}
	if (!test_failed_) {
		CHECK_EQ(ret, 0);
		CHECK_EQ(i, expected.n);
		CHECK_EQ(psf_reader_complete(r), 1);
	}
	psf_reader_free(r);
}

/* ------------------------------------------------------------ writing */

static struct psf_writer *open_writer(int fd, uint32_t unit)
{
	struct psf_meta m = tu_meta(unit, 1000);
	struct psf_writer_opts o;
	struct psf_writer *w = NULL;

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 8u << 20; /* one chunk unless flushed explicitly */
	CHECK_EQ(psf_writer_open(&w, fd, &m, &o), 0);
	return w;
}

static uint32_t w_string(struct psf_writer *w, const char *s, size_t n)
{
	struct psf_record r;
	uint32_t id = 0, before = (uint32_t)bucket[B_PRE].n;

	CHECK_EQ(psf_writer_string(w, s, n, &id), 0);
	(void)before;
	memset(&r, 0, sizeof(r));
	r.type = PSF_REC_STRING;
	r.u.string.id = id;
	r.u.string.len = (uint32_t)n;
	r.u.string.data = keep_text(s, n);
	exp_add(B_PRE, &r);
	return id;
}

static uint32_t w_frame(struct psf_writer *w, struct psf_frame f)
{
	struct psf_record r;
	uint32_t id = 0;

	CHECK_EQ(psf_writer_frame(w, &f, &id), 0);
	memset(&r, 0, sizeof(r));
	r.type = PSF_REC_FRAME;
	f.id = id;
	/* Fields a kind does not store read back as 0. */
	if (f.kind != PSF_FRAME_PYTHON) {
		f.qualname = 0;
		f.firstlineno = 0;
	}
	if (f.kind != PSF_FRAME_NATIVE)
		f.offset = 0;
	if (f.kind == PSF_FRAME_SYNTHETIC)
		f.file = 0;
	r.u.frame = f;
	exp_add(B_PRE, &r);
	return id;
}

static uint32_t w_stack(struct psf_writer *w, uint32_t parent, uint32_t frame, int32_t line)
{
	struct psf_record r;
	uint32_t id = 0;

	CHECK_EQ(psf_writer_stack(w, parent, frame, line, &id), 0);
	memset(&r, 0, sizeof(r));
	r.type = PSF_REC_STACK;
	r.u.stack.id = id;
	r.u.stack.parent = parent;
	r.u.stack.frame = frame;
	r.u.stack.line = line;
	exp_add(B_PRE, &r);
	return id;
}

static uint32_t w_process(struct psf_writer *w, struct psf_process p)
{
	struct psf_record r;
	uint32_t id = 0;

	CHECK_EQ(psf_writer_process(w, &p, &id), 0);
	memset(&r, 0, sizeof(r));
	r.type = PSF_REC_PROCESS;
	p.id = id;
	r.u.process = p;
	exp_add(B_PRE, &r);
	return id;
}

static uint32_t w_thread(struct psf_writer *w, struct psf_thread t)
{
	struct psf_record r;
	uint32_t id = 0;

	CHECK_EQ(psf_writer_thread(w, &t, &id), 0);
	memset(&r, 0, sizeof(r));
	r.type = PSF_REC_THREAD;
	t.id = id;
	r.u.thread = t;
	exp_add(B_PRE, &r);
	return id;
}

static void w_tick(struct psf_writer *w, uint64_t t, uint64_t sched)
{
	CHECK_EQ(psf_writer_tick(w, t, sched), 0);
}

static void w_sample(struct psf_writer *w, struct psf_sample s, uint64_t late_ns)
{
	struct psf_record r;

	CHECK_EQ(psf_writer_sample(w, &s), 0);
	memset(&r, 0, sizeof(r));
	r.type = PSF_REC_SAMPLE;
	s.late_ns = late_ns;
	r.u.sample = s;
	exp_add(B_SAMPLES, &r);
}

static void w_process_end(struct psf_writer *w, struct psf_process_end e)
{
	struct psf_record r;

	CHECK_EQ(psf_writer_process_end(w, &e), 0);
	memset(&r, 0, sizeof(r));
	r.type = PSF_REC_PROCESS_END;
	r.u.process_end = e;
	exp_add(B_POST, &r);
}

static void w_thread_name(struct psf_writer *w, struct psf_thread_name n)
{
	struct psf_record r;

	CHECK_EQ(psf_writer_thread_name(w, &n), 0);
	memset(&r, 0, sizeof(r));
	r.type = PSF_REC_THREAD_NAME;
	r.u.thread_name = n;
	exp_add(B_PRE, &r);
}

static void w_thread_end(struct psf_writer *w, struct psf_thread_end e)
{
	struct psf_record r;

	CHECK_EQ(psf_writer_thread_end(w, &e), 0);
	memset(&r, 0, sizeof(r));
	r.type = PSF_REC_THREAD_END;
	r.u.thread_end = e;
	exp_add(B_POST, &r);
}

static void w_errors(struct psf_writer *w, struct psf_errors e)
{
	struct psf_record r;

	CHECK_EQ(psf_writer_errors(w, &e), 0);
	memset(&r, 0, sizeof(r));
	r.type = PSF_REC_ERRORS;
	r.u.errors = e;
	exp_add(B_POST, &r);
}

static void w_lag(struct psf_writer *w, struct psf_lag l)
{
	struct psf_record r;

	CHECK_EQ(psf_writer_lag(w, &l), 0);
	memset(&r, 0, sizeof(r));
	r.type = PSF_REC_LAG;
	r.u.lag = l;
	exp_add(B_POST, &r);
}

static void w_local(struct psf_writer *w, struct psf_local l)
{
	struct psf_record r;

	CHECK_EQ(psf_writer_local(w, &l), 0);
	memset(&r, 0, sizeof(r));
	r.type = PSF_REC_LOCAL;
	l.repr = keep_text(l.repr ? l.repr : "", l.repr_len);
	r.u.local = l;
	exp_add(B_POST, &r);
}

static void w_flush(struct psf_writer *w)
{
	CHECK_EQ(psf_writer_flush(w), 0);
	exp_flush();
}

static void w_close(struct psf_writer *w, struct psf_trailer t, uint32_t chunks)
{
	struct psf_record r;

	CHECK_EQ(psf_writer_close(w, &t), 0);
	memset(&r, 0, sizeof(r));
	r.type = PSF_REC_TRAILER;
	t.chunks = chunks;
	r.u.trailer = t;
	exp_add(B_POST, &r);
	exp_flush();
}

/* ------------------------------------------------------------ the cases */

static char big_text[PSF_MAX_STRING + 1];

/* 65536 bytes ending in a 4-byte character: the longest valid string. */
static void make_big_text(void)
{
	memset(big_text, 'x', PSF_MAX_STRING - 4);
	memcpy(big_text + PSF_MAX_STRING - 4, "\xf0\x9f\x90\x8d", 4);
	big_text[PSF_MAX_STRING] = '\0';
}

/*
 * One file with every record type and its boundary values, in two chunks
 * (an explicit flush in the middle), time unit 1 ns so times are exact.
 */
static void every_record_type(void)
{
	static const char *utf8 = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x90\x8d";
	int fd = tu_memfd();
	struct psf_writer *w;
	uint32_t s_empty, s_a, s_big, s_utf8, s_file, s_name, f_py, f_py2, f_py3, f_nat, f_nat2,
		 f_syn, st1, st2, st3, st4, p1, p2, t1, t2;
	uint64_t t0 = 1000;
	uint8_t *buf;
	size_t len;
	unsigned fl;

	make_big_text();
	exp_reset();
	w = open_writer(fd, 1);
	if (!w)
		return;
	s_empty = w_string(w, "", 0);
	s_a = w_string(w, "a", 1);
	s_big = w_string(w, big_text, PSF_MAX_STRING);
	s_utf8 = w_string(w, utf8, strlen(utf8));
	s_file = w_string(w, "/usr/lib/python3.12/\xc3\xa9t\xc3\xa9.py", 26);
	s_name = w_string(w, "run", 3);
	CHECK_EQ(s_empty, 1);
	CHECK_EQ(s_name, 6);

	f_py = w_frame(w, (struct psf_frame){ .kind = PSF_FRAME_PYTHON, .name = s_name,
					      .qualname = s_utf8, .file = s_file,
					      .firstlineno = INT32_MAX });
	f_py2 = w_frame(w, (struct psf_frame){ .kind = PSF_FRAME_PYTHON, .name = s_a,
					       .qualname = 0, .file = s_big, .firstlineno = INT32_MIN });
	f_py3 = w_frame(w, (struct psf_frame){ .kind = PSF_FRAME_PYTHON, .name = 0,
					       .qualname = 0, .file = 0, .firstlineno = 0 });
	f_nat = w_frame(w, (struct psf_frame){ .kind = PSF_FRAME_NATIVE, .name = s_a,
					       .file = s_file, .offset = UINT64_MAX });
	f_nat2 = w_frame(w, (struct psf_frame){ .kind = PSF_FRAME_NATIVE, .name = 0,
						.file = s_file, .offset = 0 });
	f_syn = w_frame(w, (struct psf_frame){ .kind = PSF_FRAME_SYNTHETIC, .name = s_utf8 });
	CHECK_EQ(f_syn, 6);

	st1 = w_stack(w, 0, f_py, -1);
	st2 = w_stack(w, st1, f_py2, INT32_MIN);
	st3 = w_stack(w, st2, f_nat, INT32_MAX);
	st4 = w_stack(w, st1, f_syn, 0);
	w_stack(w, st4, f_nat2, 7);
	w_stack(w, 0, f_py3, 1);

	p1 = w_process(w, (struct psf_process){ .pid = INT32_MAX, .ppid = 0, .start_ns = 0,
						.cmdline = s_big, .python_version = s_a,
						.exe = s_file });
	p2 = w_process(w, (struct psf_process){ .pid = 0, .ppid = INT32_MAX,
						.start_ns = UINT64_MAX, .cmdline = 0,
						.python_version = 0, .exe = 0 });
	t1 = w_thread(w, (struct psf_thread){ .process = p1, .tid = INT32_MAX,
					      .py_thread_id = UINT64_MAX, .name = s_utf8,
					      .first_ns = 0, .interp = UINT32_MAX,
					      .flags = PSF_TF_MAIN });
	t2 = w_thread(w, (struct psf_thread){ .process = p2, .tid = 0, .py_thread_id = 0,
					      .name = 0, .first_ns = UINT64_MAX, .interp = 0,
					      .flags = 0 });
	w_thread_name(w, (struct psf_thread_name){ .thread = t1, .t_ns = 0, .name = s_big });
	w_thread_name(w, (struct psf_thread_name){ .thread = t2, .t_ns = UINT64_MAX, .name = 0 });

	/* Every valid flag combination, on two threads, various stacks. */
	w_tick(w, t0 + 37, t0);
	for (fl = 0; fl <= PSF_SF_KNOWN; fl++) {
		if (((fl & PSF_SF_GIL) && (fl & PSF_SF_GIL_UNKNOWN)) ||
		    ((fl & PSF_SF_IDLE) && (fl & PSF_SF_IDLE_UNKNOWN)))
			continue;
		w_sample(w, (struct psf_sample){ .t_ns = t0 + 37 + fl, .thread = fl & 1 ? t1 : t2,
						 .stack = fl % 5, .flags = fl }, 37);
	}
	/* A tick without samples, and a tick on time. */
	w_tick(w, t0 + 2000, t0 + 1000);
	w_tick(w, t0 + 3000, t0 + 3000);
	w_sample(w, (struct psf_sample){ .t_ns = t0 + 3000, .thread = t1, .stack = st3 }, 0);

	w_process_end(w, (struct psf_process_end){ .process = p1, .t_ns = 0, .how = PSF_END_EXITED,
						   .status = INT32_MIN });
	w_process_end(w, (struct psf_process_end){ .process = p2, .t_ns = UINT64_MAX,
						   .how = 255, .status = INT32_MAX });
	w_process_end(w, (struct psf_process_end){ .process = p2, .t_ns = 5,
						   .how = PSF_END_SIGNALED, .status = -1 });
	w_thread_end(w, (struct psf_thread_end){ .thread = t1, .last_ns = 0 });
	w_thread_end(w, (struct psf_thread_end){ .thread = t2, .last_ns = UINT64_MAX });
	w_errors(w, (struct psf_errors){ .process = 0, .t_ns = 0, .kind = 0, .count = 0 });
	w_errors(w, (struct psf_errors){ .process = p2, .t_ns = UINT64_MAX, .kind = UINT32_MAX,
					 .count = UINT64_MAX });
	w_errors(w, (struct psf_errors){ .process = p1, .t_ns = 9, .kind = PSF_ERRK_NAME,
					 .count = 1 });
	w_lag(w, (struct psf_lag){ 0, 0, 0, 0, 0 });
	w_lag(w, (struct psf_lag){ UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX });
	w_local(w, (struct psf_local){ .thread = t1, .t_ns = t0 + 3000, .depth = 0, .flags = 0,
				       .name = s_a, .repr_len = 0, .repr = NULL });
	w_local(w, (struct psf_local){ .thread = t2, .t_ns = UINT64_MAX, .depth = UINT32_MAX,
				       .flags = PSF_LF_ARG | PSF_LF_TRUNCATED | PSF_LF_ERROR,
				       .name = 0, .repr_len = PSF_MAX_STRING, .repr = big_text });
	w_local(w, (struct psf_local){ .thread = t1, .t_ns = 1, .depth = 3, .flags = PSF_LF_ARG,
				       .name = s_utf8, .repr_len = (uint32_t)strlen(utf8),
				       .repr = utf8 });
	w_flush(w);

	/* Chunk 1: references into chunk 0, a tick later than all before. */
	w_thread_name(w, (struct psf_thread_name){ .thread = t1, .t_ns = 77, .name = s_name });
	w_tick(w, (1ull << 62) + 5, 1ull << 62);
	w_sample(w, (struct psf_sample){ .t_ns = (1ull << 62) + 5, .thread = t2, .stack = 0,
					 .flags = PSF_SF_PARTIAL }, 5);
	w_sample(w, (struct psf_sample){ .t_ns = (1ull << 63) - 1, .thread = t1, .stack = st2,
					 .flags = PSF_SF_TRUNCATED }, 5);
	w_close(w, (struct psf_trailer){ .end_ns = UINT64_MAX, .samples = UINT64_MAX,
					 .ticks = UINT64_MAX, .missed = UINT64_MAX,
					 .errors = UINT64_MAX, .partial = UINT64_MAX,
					 .reason = 255, .exit_status = INT32_MIN }, 2);
	psf_writer_free(w);

	buf = tu_slurp(fd, &len);
	CHECK(buf != NULL);
	if (buf)
		check_file(buf, len);
	free(buf);
	close(fd);
}

/* Trailers with every known reason and the other boundary values. */
static void trailer_variants(void)
{
	int reason;

	for (reason = 0; reason <= PSF_STOP_EXEC; reason++) {
		int fd = tu_memfd();
		struct psf_writer *w;
		uint8_t *buf;
		size_t len;

		exp_reset();
		w = open_writer(fd, 1);
		if (!w)
			return;
		w_close(w, (struct psf_trailer){ .end_ns = (uint64_t)reason, .samples = 0,
						 .ticks = 1, .missed = 2, .errors = 3,
						 .partial = 4, .chunks = 99, .reason = (uint8_t)reason,
						 .exit_status = reason == 3 ? -9 : INT32_MAX }, 1);
		psf_writer_free(w);
		buf = tu_slurp(fd, &len);
		if (buf)
			check_file(buf, len);
		free(buf);
		close(fd);
	}
}

/* Every header field, including the longest strings and extreme values. */
static void metadata_round_trip(void)
{
	static const char *utf8 = "h\xc3\xb4te-\xe2\x82\xac";
	struct psf_meta m, m2;
	const struct psf_meta *g;
	struct psf_writer *w = NULL;
	struct psf_reader *r = NULL;
	struct psf_trailer t = { 0 };
	int fd = tu_memfd(), i;
	uint8_t *buf;
	size_t len;

	make_big_text();
	memset(&m, 0, sizeof(m));
	m.flags = PSF_HF_KNOWN;
	for (i = 0; i < 16; i++)
		m.capture_id[i] = (uint8_t)(0xf0 + i);
	m.hostname = big_text;
	m.kernel = "Linux 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 x86_64";
	m.tool_version = "pyspy-capture 0.1.0";
	m.start_wall_ns = UINT64_MAX;
	m.start_mono_ns = 0;
	m.rate_hz = UINT32_MAX;
	m.time_unit_ns = UINT32_MAX;
	m.pid = INT32_MAX;
	m.cmdline = utf8;
	m.python_version = "3.12.1";
	m.python_exe = big_text;
	m.options = "";
	CHECK_EQ(psf_writer_open(&w, fd, &m, NULL), 0);
	CHECK_EQ(psf_writer_close(w, &t), 0);
	psf_writer_free(w);
	buf = tu_slurp(fd, &len);
	CHECK_EQ(psf_reader_open_mem(&r, buf, len), 0);
	if (r) {
		g = psf_reader_meta(r);
		CHECK_EQ(g->major, PSF_FORMAT_MAJOR);
		CHECK_EQ(g->minor, PSF_FORMAT_MINOR);
		CHECK(g->flags == PSF_HF_KNOWN);
		CHECK(memcmp(g->capture_id, m.capture_id, 16) == 0);
		CHECK_STR(g->hostname, big_text);
		CHECK_STR(g->kernel, m.kernel);
		CHECK_STR(g->tool_version, m.tool_version);
		CHECK(g->start_wall_ns == UINT64_MAX);
		CHECK(g->start_mono_ns == 0);
		CHECK(g->rate_hz == UINT32_MAX);
		CHECK(g->time_unit_ns == UINT32_MAX);
		CHECK_EQ(g->pid, INT32_MAX);
		CHECK_STR(g->cmdline, utf8);
		CHECK_STR(g->python_version, "3.12.1");
		CHECK_STR(g->python_exe, big_text);
		CHECK_STR(g->options, "");
	}
	psf_reader_free(r);
	free(buf);
	close(fd);

	/*
	 * Absent fields: NULL strings are omitted, pid 0 and rate 0 too; a
	 * time unit of 0 is written as the default 1000; an all-zero
	 * capture id is replaced by a random one.
	 */
	fd = tu_memfd();
	memset(&m2, 0, sizeof(m2));
	w = NULL;
	r = NULL;
	CHECK_EQ(psf_writer_open(&w, fd, &m2, NULL), 0);
	CHECK_EQ(psf_writer_close(w, &t), 0);
	psf_writer_free(w);
	buf = tu_slurp(fd, &len);
	CHECK_EQ(psf_reader_open_mem(&r, buf, len), 0);
	if (r) {
		static const uint8_t zero[16];

		g = psf_reader_meta(r);
		CHECK(g->flags == 0);
		CHECK(memcmp(g->capture_id, zero, 16) != 0);
		CHECK(g->hostname == NULL && g->kernel == NULL && g->tool_version == NULL);
		CHECK(g->cmdline == NULL && g->python_version == NULL && g->python_exe == NULL);
		CHECK(g->options == NULL);
		CHECK_EQ(g->rate_hz, 0);
		CHECK_EQ(g->pid, 0);
		CHECK_EQ(g->time_unit_ns, 1000);
	}
	psf_reader_free(r);
	free(buf);
	close(fd);
}

/* ------------------------------------------------------------ the guard */

/*
 * A file whose only chunk holds one record of `type` with an empty
 * payload.  The reader's answer tells whether it knows the type: every
 * known type has at least one field, so an empty one is corrupt; an
 * unknown critical type is unsupported; an unknown ancillary one is
 * skipped (§5.1).
 */
static int probe_type(uint8_t type)
{
	struct psf_writer *w = NULL;
	struct psf_meta m = tu_meta(1000, 100);
	struct psf_reader *r = NULL;
	struct psf_record rec;
	uint8_t file[4096], *h;
	uint8_t *hdr;
	size_t hlen, len;
	int fd = tu_memfd(), ret;

	CHECK_EQ(psf_writer_open(&w, fd, &m, NULL), 0);
	psf_writer_free(w);
	hdr = tu_slurp(fd, &hlen);
	close(fd);
	if (!hdr || hlen + 34 > sizeof(file)) {
		free(hdr);
		return -100;
	}
	memcpy(file, hdr, hlen);
	free(hdr);
	h = file + hlen;
	memset(h, 0, 32);
	memcpy(h, "PSCK", 4);
	psf_put_le32(h + 12, 2);
	psf_put_le32(h + 16, 2);
	h[32] = type;
	h[33] = 0;
	psf_put_le32(h + 20, psf_crc32c(0, h + 32, 2));
	psf_put_le32(h + 28, psf_crc32c(0, h, 28));
	len = hlen + 34;
	ret = psf_reader_open_mem(&r, file, len);
	if (ret == 0)
		ret = psf_reader_next(r, &rec);
	psf_reader_free(r);
	return ret;
}

/*
 * SYNC (1.1) is never handed out: check that the writer starts every
 * chunk but the first with one that counts what came before, and that the
 * reader reads such a file through.
 */
static int sync_round_trip(void)
{
	struct psf_writer_opts o = { 0 };
	struct psf_meta m = tu_meta(1000, 100);
	struct psf_writer *w = NULL;
	struct psf_reader *r = NULL;
	struct psf_record rec;
	struct psf_trailer tr = { 0 };
	uint32_t id;
	uint8_t *buf, *c1;
	size_t len, hs;
	int fd = tu_memfd(), ret, ok;

	o.no_compress = 1;
	CHECK_EQ(psf_writer_open(&w, fd, &m, &o), 0);
	CHECK_EQ(psf_writer_string(w, "a", 1, &id), 0);
	CHECK_EQ(psf_writer_string(w, "b", 1, &id), 0);
	CHECK_EQ(psf_writer_flush(w), 0);
	CHECK_EQ(psf_writer_close(w, &tr), 0);
	psf_writer_free(w);
	buf = tu_slurp(fd, &len);
	close(fd);
	hs = psf_get_le32(buf + 12);
	c1 = buf + hs + PSF_CHUNK_HEADER + psf_get_le32(buf + hs + 12); /* chunk 1 */
	/* SYNC: strings 2, frames 0, stacks 0, processes 0, threads 0, samples 0 */
	ok = psf_get_le32(c1 + 8) == 1 && memcmp(c1 + PSF_CHUNK_HEADER, "\x87\x06\x02\x00\x00\x00\x00\x00", 8) == 0;
	CHECK(ok);
	CHECK_EQ(psf_reader_open_mem(&r, buf, len), 0);
	while ((ret = psf_reader_next(r, &rec)) > 0)
		;
	CHECK_EQ(ret, 0);
	CHECK(psf_reader_complete(r));
	psf_reader_free(r);
	free(buf);
	return ok && ret == 0;
}

static void record_types_all_covered(void)
{
	int t, known_reader = 0, known_names = 0, n_covered = 0;

	covered[PSF_REC_SYNC] = sync_round_trip();
	for (t = 0; t < 256; t++) {
		int ret = probe_type((uint8_t)t);
		int known = ret == PSF_E_CORRUPT;

		if (t == PSF_REC_GAP) {
			/* API only: on disk, an unknown critical type */
			CHECK_EQ(ret, PSF_E_UNSUPPORTED);
			continue;
		}

		if (!known) {
			/* Unknown: refused if critical, skipped if ancillary. */
			if (t & PSF_REC_ANCILLARY)
				CHECK_EQ(ret, 0);
			else
				CHECK_EQ(ret, PSF_E_UNSUPPORTED);
		}
		known_reader += known;
		known_names += psf_rec_name(t) != NULL;
		n_covered += covered[t];
		if (known != (psf_rec_name(t) != NULL)) {
			printf("#   type 0x%02x: reader %s it, psf_rec_name() %s\n", t,
			       known ? "decodes" : "skips", psf_rec_name(t) ? "names it" : "does not");
			CHECK(!"reader and psf_rec_name() disagree");
		}
		if (known && !covered[t]) {
			printf("#   type 0x%02x (%s) has no round-trip case in %s\n", t,
			       psf_rec_name(t) ? psf_rec_name(t) : "?", __FILE__);
			CHECK(!"record type without a round-trip case");
		}
		if (covered[t] && !known)
			CHECK(!"a round-tripped type the reader does not know");
	}
	CHECK_EQ(known_reader, known_names);
	CHECK_EQ(n_covered, known_reader);
	/* The 13 types of format 1.0 and SYNC (1.1), at least. */
	CHECK(known_reader >= 14);
}

int main(void)
{
	size_t i;

	RUN(every_record_type);
	RUN(trailer_variants);
	RUN(metadata_round_trip);
	/* Last: uses the types the cases above covered. */
	RUN(record_types_all_covered);
	for (i = 0; i < ntexts; i++)
		free(texts[i]);
	for (i = 0; i < 3; i++)
		free(bucket[i].v);
	free(expected.v);
	return test_status();
}
