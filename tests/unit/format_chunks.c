/*
 * format_chunks.c - writer behaviour across chunks: flushing by size and
 * age, ticks split over chunks, intern table resets, time units, pipes,
 * argument checking and bounded memory on both sides.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "format_int.h"
#include "format_testutil.h"
#include "pyspy_format.h"
#include "test.h"

static struct psf_writer *open_w(int fd, uint32_t unit, uint32_t rate, uint32_t chunk_bytes,
				  uint64_t chunk_ns, uint32_t intern_max)
{
	struct psf_meta m = tu_meta(unit, rate);
	struct psf_writer_opts o;
	struct psf_writer *w = NULL;

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = chunk_bytes;
	o.chunk_ns = chunk_ns;
	o.intern_max = intern_max;
	CHECK_EQ(psf_writer_open(&w, fd, &m, &o), 0);
	return w;
}

/* Define one process, `n` threads and `k` stacks of depth 3. */
static void define_basics(struct psf_writer *w, uint32_t n, uint32_t k, uint32_t *threads,
			  uint32_t *stacks)
{
	struct psf_process p = { 0 };
	uint32_t proc, i, file, fr, s1, s2;
	char name[32];

	CHECK_EQ(psf_writer_string(w, "main.py", 7, &file), 0);
	p.pid = 100;
	CHECK_EQ(psf_writer_process(w, &p, &proc), 0);
	for (i = 0; i < n; i++) {
		struct psf_thread t = { 0 };

		t.process = proc;
		t.tid = (int32_t)(100 + i);
		CHECK_EQ(psf_writer_thread(w, &t, &threads[i]), 0);
	}
	for (i = 0; i < k; i++) {
		struct psf_frame f = { 0 };

		snprintf(name, sizeof(name), "func_%u", i);
		f.kind = PSF_FRAME_PYTHON;
		f.file = file;
		CHECK_EQ(psf_writer_string(w, name, strlen(name), &f.name), 0);
		CHECK_EQ(psf_writer_frame(w, &f, &fr), 0);
		CHECK_EQ(psf_writer_stack(w, 0, fr, 1, &s1), 0);
		CHECK_EQ(psf_writer_stack(w, s1, fr, 2, &s2), 0);
		CHECK_EQ(psf_writer_stack(w, s2, fr, (int32_t)i, &stacks[i]), 0);
	}
}

/* Many small chunks: every sample comes back, in order, exact. */
static void multi_chunk(void)
{
	enum { NT = 3, NK = 50, TICKS = 4000 };
	uint32_t threads[NT], stacks[NK], i, j, last_chunk = 0;
	struct psf_trailer tr = { 0 };
	struct psf_record *v;
	size_t n, len, k, samples = 0;
	uint64_t s = 11;
	uint8_t *buf;
	int fd = tu_memfd(), ret = -1000;
	struct psf_writer *w = open_w(fd, 1000, 1000, 512, 0, 0);

	if (!w)
		return;
	define_basics(w, NT, NK, threads, stacks);
	for (i = 0; i < TICKS; i++) {
		uint64_t sched = 1000000ull * (i + 1), t = sched + 1000 * (i % 7);

		CHECK_EQ(psf_writer_tick(w, t, sched), 0);
		for (j = 0; j < NT; j++) {
			struct psf_sample sm = { 0 };

			sm.t_ns = t + 1000 * j;
			sm.thread = threads[j];
			sm.stack = stacks[tu_rand(&s) % NK];
			sm.flags = j == 0 ? PSF_SF_GIL : PSF_SF_IDLE;
			CHECK_EQ(psf_writer_sample(w, &sm), 0);
		}
	}
	tr.samples = TICKS * NT;
	CHECK_EQ(psf_writer_close(w, &tr), 0);
	psf_writer_free(w);

	buf = tu_slurp(fd, &len);
	ret = tu_read_all(buf, len, &v, &n, &last_chunk);
	CHECK_EQ(ret, 0);
	CHECK(last_chunk > 50); /* 512-byte chunks: many of them */
	s = 11;
	for (k = 0; k < n; k++) {
		if (v[k].type == PSF_REC_SAMPLE) {
			uint32_t tick = (uint32_t)(samples / NT), th = (uint32_t)(samples % NT);
			uint64_t sched = 1000000ull * (tick + 1), t = sched + 1000 * (tick % 7);

			CHECK(v[k].u.sample.t_ns == t + 1000 * th);
			CHECK(v[k].u.sample.late_ns == t - sched);
			CHECK_EQ(v[k].u.sample.thread, threads[th]);
			CHECK_EQ(v[k].u.sample.stack, stacks[tu_rand(&s) % NK]);
			samples++;
		}
		if (v[k].type == PSF_REC_TRAILER)
			CHECK_EQ(v[k].u.trailer.chunks, last_chunk);
	}
	CHECK_EQ(samples, TICKS * NT);
	CHECK_EQ(v[n - 1].type, PSF_REC_TRAILER);
	free(v);
	free(buf);
	close(fd);
}

/*
 * A tick whose samples do not fit one chunk continues in the next with the
 * same scheduled and actual time; explicit flushes in a tick, before its
 * first sample, or twice in a row change nothing either.
 */
static void tick_split(void)
{
	uint32_t threads[1], stacks[4], i, chunk_of_first = 0, chunk_of_last = 0;
	struct psf_writer *w;
	struct psf_reader *r = NULL;
	struct psf_record rec;
	struct psf_trailer tr = { 0 };
	uint8_t *buf;
	size_t len, seen = 0;
	int fd = tu_memfd(), ret = -1000;

	w = open_w(fd, 1000, 100, 300, 0, 0);
	if (!w)
		return;
	define_basics(w, 1, 4, threads, stacks);
	CHECK_EQ(psf_writer_tick(w, 50000, 10000), 0);
	CHECK_EQ(psf_writer_flush(w), 0); /* before any sample: nothing to split */
	CHECK_EQ(psf_writer_flush(w), 0);
	for (i = 0; i < 1000; i++) {
		struct psf_sample s = { 0 };

		s.t_ns = 50000 + i * 1000;
		s.thread = threads[0];
		s.stack = stacks[i % 4];
		CHECK_EQ(psf_writer_sample(w, &s), 0);
		if (i == 500)
			CHECK_EQ(psf_writer_flush(w), 0);
	}
	CHECK_EQ(psf_writer_tick(w, 20000000, 20000000), 0);
	{
		struct psf_sample s = { 20000000, 0, threads[0], 0, PSF_SF_GIL };

		CHECK_EQ(psf_writer_sample(w, &s), 0);
	}
	CHECK_EQ(psf_writer_close(w, &tr), 0);
	psf_writer_free(w);

	buf = tu_slurp(fd, &len);
	CHECK_EQ(psf_reader_open_mem(&r, buf, len), 0);
	while (r && (ret = psf_reader_next(r, &rec)) > 0) {
		if (rec.type != PSF_REC_SAMPLE)
			continue;
		if (seen < 1000) {
			CHECK(rec.u.sample.t_ns == 50000 + seen * 1000);
			CHECK(rec.u.sample.late_ns == 40000);
			CHECK_EQ(rec.u.sample.stack, stacks[seen % 4]);
			if (seen == 0)
				chunk_of_first = psf_reader_chunk(r);
			chunk_of_last = psf_reader_chunk(r);
		} else {
			CHECK(rec.u.sample.t_ns == 20000000);
			CHECK(rec.u.sample.late_ns == 0);
			CHECK_EQ(rec.u.sample.flags, PSF_SF_GIL);
		}
		seen++;
	}
	CHECK_EQ(ret, 0);
	CHECK_EQ(seen, 1001);
	CHECK(chunk_of_last >= chunk_of_first + 5); /* the tick spans many chunks */
	psf_reader_free(r);
	free(buf);
	close(fd);
}

/* chunk_ns: maybe_flush writes a chunk once its oldest data is that old. */
static void flush_by_age(void)
{
	uint32_t threads[1], stacks[1], i;
	struct psf_writer *w;
	struct psf_trailer tr = { 0 };
	uint64_t before;
	int fd = tu_memfd();

	w = open_w(fd, 1000, 1000, 0, 10000000 /* 10 ms */, 0);
	if (!w)
		return;
	define_basics(w, 1, 1, threads, stacks);
	before = psf_writer_bytes(w);
	CHECK_EQ(psf_writer_maybe_flush(w, 0), 0);
	CHECK(psf_writer_bytes(w) == before); /* nothing is old enough yet */
	for (i = 1; i <= 100; i++) {
		struct psf_sample s = { 0 };
		uint64_t t = i * 1000000ull;

		CHECK_EQ(psf_writer_maybe_flush(w, t), 0);
		if (i == 9)
			CHECK(psf_writer_bytes(w) == before);
		if (i == 10) /* the definitions made at 0 ms are now 10 ms old */
			CHECK(psf_writer_bytes(w) > before);
		CHECK_EQ(psf_writer_tick(w, t, t), 0);
		s.t_ns = t;
		s.thread = threads[0];
		s.stack = stacks[0];
		CHECK_EQ(psf_writer_sample(w, &s), 0);
	}
	CHECK_EQ(psf_writer_close(w, &tr), 0);
	psf_writer_free(w);
	{
		size_t len, n;
		uint8_t *buf = tu_slurp(fd, &len);
		struct psf_record *v;
		uint32_t chunks = 0;

		CHECK_EQ(tu_read_all(buf, len, &v, &n, &chunks), 0);
		/* One chunk per 10 ms of data: 100 ms -> about 10 chunks. */
		CHECK(chunks >= 9 && chunks <= 12);
		free(v);
		free(buf);
	}
	close(fd);
}

/*
 * intern_max: tables are forgotten when full.  Ids keep increasing and
 * every id still means what it was defined as.
 */
static void intern_reset(void)
{
	enum { N = 100, MAX = 16 };
	uint32_t first[N], second[N], frame_ids[N], stack_ids[N], i, maxid = 0;
	char name[N][16];
	struct psf_record *v;
	struct psf_trailer tr = { 0 };
	struct psf_writer *w;
	size_t n, len, k;
	uint8_t *buf;
	int fd = tu_memfd();
	uint32_t nstrings = 0, nstacks = 0;
	char **text;

	w = open_w(fd, 1000, 1000, 4096, 0, MAX);
	if (!w)
		return;
	for (i = 0; i < N; i++) {
		snprintf(name[i], sizeof(name[i]), "s%u", i);
		CHECK_EQ(psf_writer_string(w, name[i], strlen(name[i]), &first[i]), 0);
		CHECK(first[i] > maxid);
		maxid = first[i];
	}
	for (i = 0; i < N; i++) {
		CHECK_EQ(psf_writer_string(w, name[i], strlen(name[i]), &second[i]), 0);
		/* The last generation (ids 97..100) is still known. */
		if (i < N - (N % MAX))
			CHECK(second[i] > maxid);
		if (second[i] > maxid)
			maxid = second[i];
	}
	/* Content of the current generation is found, not defined again. */
	{
		uint32_t again;

		CHECK_EQ(psf_writer_string(w, name[N - 1], strlen(name[N - 1]), &again), 0);
		CHECK_EQ(again, second[N - 1]);
	}
	for (i = 0; i < N; i++) {
		struct psf_frame f = { 0 };

		f.kind = PSF_FRAME_SYNTHETIC;
		f.name = second[i];
		CHECK_EQ(psf_writer_frame(w, &f, &frame_ids[i]), 0);
		CHECK_EQ(psf_writer_stack(w, 0, frame_ids[i], 5, &stack_ids[i]), 0);
	}
	for (i = 0; i < N; i++) {
		uint32_t again;

		CHECK_EQ(psf_writer_stack(w, 0, frame_ids[i], 5, &again), 0);
		if (i < N - MAX)
			CHECK(again != stack_ids[i]); /* forgotten: defined again */
	}
	CHECK_EQ(psf_writer_close(w, &tr), 0);
	psf_writer_free(w);

	/* Read back: every string id holds the text it was returned for. */
	buf = tu_slurp(fd, &len);
	{
		struct psf_reader *r = NULL;
		struct psf_record rec;
		int ret = -1000;

		text = calloc(4 * N + 1, sizeof(*text));
		CHECK_EQ(psf_reader_open_mem(&r, buf, len), 0);
		while (r && (ret = psf_reader_next(r, &rec)) > 0) {
			if (rec.type == PSF_REC_STRING && rec.u.string.id <= 4 * N) {
				text[rec.u.string.id] = strdup(rec.u.string.data);
				nstrings++;
			}
			if (rec.type == PSF_REC_STACK) {
				CHECK_EQ(rec.u.stack.id, ++nstacks);
				CHECK_EQ(rec.u.stack.line, 5);
			}
		}
		CHECK_EQ(ret, 0);
		psf_reader_free(r);
	}
	for (i = 0; i < N; i++) {
		CHECK(text[first[i]] && strcmp(text[first[i]], name[i]) == 0);
		CHECK(text[second[i]] && strcmp(text[second[i]], name[i]) == 0);
	}
	CHECK_EQ(nstrings, maxid);
	CHECK(nstacks > N);
	for (k = 0; k <= 4 * N; k++)
		free(text[k]);
	free(text);
	(void)v;
	(void)n;
	free(buf);
	close(fd);
}

/* ns -> units by floor division, units -> ns by multiplication (§3.2). */
static void time_units(void)
{
	uint32_t threads[1], stacks[1];
	struct psf_writer *w;
	struct psf_record *v;
	struct psf_trailer tr = { 0 };
	size_t n, len, k, ns = 0;
	uint8_t *buf;
	int fd = tu_memfd();

	w = open_w(fd, 100000, 100, 0, 0, 0);
	if (!w)
		return;
	define_basics(w, 1, 1, threads, stacks);
	/* Scheduled at 5 ms, below one 10 ms period: a negative first delta. */
	CHECK_EQ(psf_writer_tick(w, 5350000, 5000000), 0);
	{
		struct psf_sample s = { 5399999, 0, threads[0], stacks[0], 0 };

		CHECK_EQ(psf_writer_sample(w, &s), 0);
		s.t_ns = 5400000;
		CHECK_EQ(psf_writer_sample(w, &s), 0);
	}
	{
		struct psf_lag l = { 123456789, 10, 1, 99999, 100001 };
		struct psf_thread_end e = { threads[0], 99999 };

		CHECK_EQ(psf_writer_lag(w, &l), 0);
		CHECK_EQ(psf_writer_thread_end(w, &e), 0);
	}
	/* Skipped ticks: the scheduled time jumps by 5 periods. */
	CHECK_EQ(psf_writer_tick(w, 60000000, 60000000), 0);
	{
		struct psf_sample s = { 60000000, 0, threads[0], stacks[0], 0 };

		CHECK_EQ(psf_writer_sample(w, &s), 0);
	}
	tr.end_ns = 60099999;
	CHECK_EQ(psf_writer_close(w, &tr), 0);
	psf_writer_free(w);

	buf = tu_slurp(fd, &len);
	CHECK_EQ(tu_read_all(buf, len, &v, &n, NULL), 0);
	for (k = 0; k < n; k++) {
		switch (v[k].type) {
		case PSF_REC_SAMPLE:
			if (ns == 0) {
				CHECK(v[k].u.sample.t_ns == 5300000);
				CHECK(v[k].u.sample.late_ns == 300000);
			} else if (ns == 1) {
				CHECK(v[k].u.sample.t_ns == 5400000);
			} else {
				CHECK(v[k].u.sample.t_ns == 60000000);
				CHECK(v[k].u.sample.late_ns == 0);
			}
			ns++;
			break;
		case PSF_REC_LAG:
			CHECK(v[k].u.lag.t_ns == 123400000);
			CHECK(v[k].u.lag.max_late_ns == 0);
			CHECK(v[k].u.lag.sum_late_ns == 100000);
			CHECK(v[k].u.lag.ticks == 10);
			break;
		case PSF_REC_THREAD_END:
			CHECK(v[k].u.thread_end.last_ns == 0);
			break;
		case PSF_REC_TRAILER:
			CHECK(v[k].u.trailer.end_ns == 60000000);
			break;
		}
	}
	CHECK_EQ(ns, 3);
	free(v);
	free(buf);
	close(fd);
}

/* The writer refuses what would make an invalid file, and stays usable. */
static void writer_rejects_bad_calls(void)
{
	struct psf_meta m = tu_meta(1000, 100);
	struct psf_writer_opts o;
	struct psf_writer *w = NULL;
	struct psf_sample s = { 0 };
	struct psf_frame f = { 0 };
	struct psf_process p = { 0 };
	struct psf_thread t = { 0 };
	struct psf_local l = { 0 };
	struct psf_trailer tr = { 0 };
	static char big[PSF_MAX_STRING + 2];
	uint32_t id, th, st, str;
	struct psf_record *v;
	size_t n, len;
	uint8_t *buf;
	int fd = tu_memfd();

	/* Bad options and metadata. */
	memset(&o, 0, sizeof(o));
	CHECK_EQ(psf_writer_open(NULL, fd, &m, NULL), PSF_E_INVAL);
	CHECK_EQ(psf_writer_open(&w, -1, &m, NULL), PSF_E_INVAL);
	CHECK_EQ(psf_writer_open(&w, fd, NULL, NULL), PSF_E_INVAL);
	o.chunk_bytes = (8u << 20) + 1;
	CHECK_EQ(psf_writer_open(&w, fd, &m, &o), PSF_E_INVAL);
	o.chunk_bytes = 0;
	o.zstd_level = 1000;
	CHECK_EQ(psf_writer_open(&w, fd, &m, &o), PSF_E_INVAL);
	m.flags = 1u << 4;
	CHECK_EQ(psf_writer_open(&w, fd, &m, NULL), PSF_E_INVAL);
	m.flags = 0;
	m.hostname = "bad\xff";
	CHECK_EQ(psf_writer_open(&w, fd, &m, NULL), PSF_E_INVAL);
	memset(big, 'a', PSF_MAX_STRING + 1); /* one byte too long */
	m.hostname = big;
	CHECK_EQ(psf_writer_open(&w, fd, &m, NULL), PSF_E_LIMIT);
	m.hostname = "h";
	m.pid = -1;
	CHECK_EQ(psf_writer_open(&w, fd, &m, NULL), PSF_E_INVAL);
	m.pid = 1;
	CHECK(w == NULL);
	{
		size_t l0;
		uint8_t *b0 = tu_slurp(fd, &l0);

		CHECK_EQ(l0, 0); /* nothing written by the refused opens */
		free(b0);
	}
	CHECK_EQ(psf_writer_open(&w, fd, &m, NULL), 0);
	if (!w)
		return;

	CHECK_EQ(psf_writer_string(w, "x\xc0\xaf", 3, &id), PSF_E_INVAL);
	CHECK_EQ(psf_writer_string(w, "a\0b", 3, &id), PSF_E_INVAL);
	CHECK_EQ(psf_writer_string(w, big, PSF_MAX_STRING + 1, &id), PSF_E_LIMIT);
	CHECK_EQ(psf_writer_string(w, NULL, 1, &id), PSF_E_INVAL);
	CHECK_EQ(psf_writer_string(w, "ok", 2, &str), 0);
	f.kind = 3;
	f.name = str;
	CHECK_EQ(psf_writer_frame(w, &f, &id), PSF_E_INVAL);
	f.kind = PSF_FRAME_PYTHON;
	f.file = 2; /* not defined yet */
	CHECK_EQ(psf_writer_frame(w, &f, &id), PSF_E_INVAL);
	f.file = str;
	CHECK_EQ(psf_writer_frame(w, &f, &id), 0);
	CHECK_EQ(psf_writer_stack(w, 0, 0, 1, &st), PSF_E_INVAL);
	CHECK_EQ(psf_writer_stack(w, 0, 2, 1, &st), PSF_E_INVAL);
	CHECK_EQ(psf_writer_stack(w, 1, 1, 1, &st), PSF_E_INVAL); /* parent not defined */
	CHECK_EQ(psf_writer_stack(w, 0, 1, 1, &st), 0);
	p.pid = -5;
	CHECK_EQ(psf_writer_process(w, &p, &id), PSF_E_INVAL);
	p.pid = 5;
	p.exe = 9;
	CHECK_EQ(psf_writer_process(w, &p, &id), PSF_E_INVAL);
	p.exe = 0;
	CHECK_EQ(psf_writer_process(w, &p, &id), 0);
	t.process = 0;
	CHECK_EQ(psf_writer_thread(w, &t, &th), PSF_E_INVAL);
	t.process = 2;
	CHECK_EQ(psf_writer_thread(w, &t, &th), PSF_E_INVAL);
	t.process = 1;
	t.flags = 2;
	CHECK_EQ(psf_writer_thread(w, &t, &th), PSF_E_INVAL);
	t.flags = 0;
	t.tid = -1;
	CHECK_EQ(psf_writer_thread(w, &t, &th), PSF_E_INVAL);
	t.tid = 1;
	CHECK_EQ(psf_writer_thread(w, &t, &th), 0);

	s.thread = th;
	s.stack = st;
	s.t_ns = 100;
	CHECK_EQ(psf_writer_sample(w, &s), PSF_E_INVAL); /* no tick yet */
	CHECK_EQ(psf_writer_tick(w, 50, 100), PSF_E_INVAL); /* ran before scheduled */
	CHECK_EQ(psf_writer_tick(w, 1ull << 63, 0), PSF_E_INVAL);
	CHECK_EQ(psf_writer_tick(w, 1000, 900), 0);
	CHECK_EQ(psf_writer_tick(w, 2000, 800), PSF_E_INVAL); /* schedule went back */
	CHECK_EQ(psf_writer_tick(w, 999, 900), PSF_E_INVAL);  /* time went back */
	s.t_ns = 999;
	CHECK_EQ(psf_writer_sample(w, &s), PSF_E_INVAL); /* before its tick */
	s.t_ns = 1000;
	s.thread = 0;
	CHECK_EQ(psf_writer_sample(w, &s), PSF_E_INVAL);
	s.thread = th + 1;
	CHECK_EQ(psf_writer_sample(w, &s), PSF_E_INVAL);
	s.thread = th;
	s.stack = st + 1;
	CHECK_EQ(psf_writer_sample(w, &s), PSF_E_INVAL);
	s.stack = st;
	s.flags = 1u << 7;
	CHECK_EQ(psf_writer_sample(w, &s), PSF_E_INVAL);
	s.flags = PSF_SF_GIL | PSF_SF_GIL_UNKNOWN;
	CHECK_EQ(psf_writer_sample(w, &s), PSF_E_INVAL);
	s.flags = PSF_SF_IDLE | PSF_SF_IDLE_UNKNOWN;
	CHECK_EQ(psf_writer_sample(w, &s), PSF_E_INVAL);
	s.flags = PSF_SF_GIL_UNKNOWN | PSF_SF_IDLE_UNKNOWN;
	CHECK_EQ(psf_writer_sample(w, &s), 0);

	l.thread = th;
	l.flags = 8;
	CHECK_EQ(psf_writer_local(w, &l), PSF_E_INVAL);
	l.flags = 0;
	l.repr = "\xff";
	l.repr_len = 1;
	CHECK_EQ(psf_writer_local(w, &l), PSF_E_INVAL);
	l.repr = big;
	l.repr_len = PSF_MAX_STRING + 1;
	CHECK_EQ(psf_writer_local(w, &l), PSF_E_LIMIT);
	l.thread = 7;
	l.repr_len = 1;
	CHECK_EQ(psf_writer_local(w, &l), PSF_E_INVAL);
	{
		struct psf_process_end pe = { 2, 0, 1, 0 };
		struct psf_thread_name tn = { 1, 0, 5 };
		struct psf_thread_end te = { 0, 0 };
		struct psf_errors er = { 3, 0, 0, 1 };

		CHECK_EQ(psf_writer_process_end(w, &pe), PSF_E_INVAL);
		CHECK_EQ(psf_writer_thread_name(w, &tn), PSF_E_INVAL);
		CHECK_EQ(psf_writer_thread_end(w, &te), PSF_E_INVAL);
		CHECK_EQ(psf_writer_errors(w, &er), PSF_E_INVAL);
	}
	CHECK_EQ(psf_writer_close(w, &tr), 0);
	CHECK_EQ(psf_writer_close(w, &tr), PSF_E_INVAL);
	CHECK_EQ(psf_writer_tick(w, 5000, 5000), PSF_E_INVAL);
	CHECK_EQ(psf_writer_flush(w), PSF_E_INVAL);
	psf_writer_free(w);
	psf_writer_free(NULL);

	/* All of that left a valid, complete file with the one good sample. */
	buf = tu_slurp(fd, &len);
	CHECK_EQ(tu_read_all(buf, len, &v, &n, NULL), 0);
	CHECK(n > 0 && v[n - 1].type == PSF_REC_TRAILER);
	{
		size_t k, samples = 0;

		for (k = 0; k < n; k++)
			samples += v[k].type == PSF_REC_SAMPLE;
		CHECK_EQ(samples, 1);
	}
	free(v);
	free(buf);
	close(fd);
}

/* Open + free (killed capture): header only, a clean but incomplete file. */
static void header_only_and_empty_trailer(void)
{
	struct psf_meta m = tu_meta(0, 0);
	struct psf_writer *w = NULL;
	struct psf_reader *r = NULL;
	struct psf_record rec;
	struct psf_trailer tr = { 0 };
	uint8_t *buf;
	size_t len;
	int fd = tu_memfd();

	CHECK_EQ(psf_writer_open(&w, fd, &m, NULL), 0);
	CHECK_EQ(psf_writer_flush(w), 0); /* nothing buffered: writes nothing */
	CHECK(psf_writer_bytes(w) > 0);
	psf_writer_free(w);
	buf = tu_slurp(fd, &len);
	CHECK_EQ(psf_reader_open_mem(&r, buf, len), 0);
	CHECK_EQ(psf_reader_next(r, &rec), 0);
	CHECK_EQ(psf_reader_next(r, &rec), 0); /* stays at the end */
	CHECK_EQ(psf_reader_complete(r), 0);
	CHECK_EQ(psf_reader_chunk(r), 0);
	CHECK_EQ(psf_reader_meta(r)->time_unit_ns, 1000);
	psf_reader_free(r);
	free(buf);

	/* Open + close: one chunk, the trailer only. */
	close(fd);
	fd = tu_memfd();
	w = NULL;
	CHECK_EQ(psf_writer_open(&w, fd, &m, NULL), 0);
	CHECK_EQ(psf_writer_close(w, &tr), 0);
	psf_writer_free(w);
	buf = tu_slurp(fd, &len);
	r = NULL;
	CHECK_EQ(psf_reader_open_mem(&r, buf, len), 0);
	CHECK_EQ(psf_reader_next(r, &rec), 1);
	CHECK_EQ(rec.type, PSF_REC_TRAILER);
	CHECK_EQ(rec.u.trailer.chunks, 1);
	CHECK_EQ(psf_reader_complete(r), 1);
	CHECK_EQ(psf_reader_next(r, &rec), 0);
	CHECK_EQ(psf_reader_chunk(r), 1);
	psf_reader_free(r);
	free(buf);
	close(fd);
}

/* Write a capture of `ticks` ticks x 4 threads to fd; returns 0 on success. */
static int write_capture(int fd, uint32_t ticks, uint32_t chunk_bytes, int no_compress)
{
	struct psf_meta m = tu_meta(1000, 1000);
	struct psf_writer_opts o;
	struct psf_writer *w = NULL;
	struct psf_trailer tr = { 0 };
	uint32_t threads[4], stacks[64], i, j;
	uint64_t s = 5;
	int ret;

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = chunk_bytes;
	o.no_compress = no_compress;
	ret = psf_writer_open(&w, fd, &m, &o);
	if (ret < 0)
		return ret;
	define_basics(w, 4, 64, threads, stacks);
	for (i = 0; i < ticks && ret == 0; i++) {
		uint64_t t = 1000000ull * (i + 1);

		ret = psf_writer_tick(w, t + 45000, t);
		for (j = 0; j < 4 && ret == 0; j++) {
			struct psf_sample sm = { t + 45000 + 8000 * j, 0, threads[j],
						 stacks[tu_rand(&s) % 64], j ? PSF_SF_IDLE : PSF_SF_GIL };

			ret = psf_writer_sample(w, &sm);
		}
	}
	tr.samples = 4ull * ticks;
	if (ret == 0)
		ret = psf_writer_close(w, &tr);
	psf_writer_free(w);
	return ret;
}

/* Through a pipe: the writer never seeks, the reader handles short reads. */
static void pipe_round_trip(void)
{
	int fds[2], status = 0, ret = -1000;
	struct psf_reader *r = NULL;
	struct psf_record rec;
	size_t samples = 0;
	pid_t pid;

	CHECK_EQ(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		_exit(write_capture(fds[1], 20000, 0, 0) == 0 ? 0 : 1);
	}
	close(fds[1]);
	CHECK_EQ(psf_reader_open_fd(&r, fds[0]), 0);
	while (r && (ret = psf_reader_next(r, &rec)) > 0)
		samples += rec.type == PSF_REC_SAMPLE;
	CHECK_EQ(ret, 0);
	CHECK_EQ(samples, 80000);
	CHECK_EQ(psf_reader_complete(r), 1);
	psf_reader_free(r);
	close(fds[0]);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Stored and compressed chunks hold the same records. */
static void stored_equals_compressed(void)
{
	int a = tu_memfd(), b = tu_memfd();
	struct psf_record *va, *vb;
	size_t la, lb, na, nb, k;
	uint8_t *ba, *bb;

	CHECK_EQ(write_capture(a, 3000, 20000, 0), 0);
	CHECK_EQ(write_capture(b, 3000, 20000, 1), 0);
	ba = tu_slurp(a, &la);
	bb = tu_slurp(b, &lb);
	CHECK(la < lb / 3); /* compression works */
	CHECK_EQ(tu_read_all(ba, la, &va, &na, NULL), 0);
	CHECK_EQ(tu_read_all(bb, lb, &vb, &nb, NULL), 0);
	CHECK_EQ(na, nb);
	for (k = 0; k < na && k < nb; k++)
		CHECK(tu_rec_equal(&va[k], &vb[k]));
	free(va);
	free(vb);
	free(ba);
	free(bb);
	close(a);
	close(b);
}

/*
 * The reader's buffers are bounded by the chunk size, not the file size;
 * the writer's by its options, not the capture length.
 */
static void memory_bounded(void)
{
	struct psf_reader *r = NULL;
	struct psf_record rec;
	size_t peak = 0, len;
	uint8_t *buf;
	int fd = tu_memfd(), ret = -1000;

	CHECK_EQ(write_capture(fd, 100000, 64 * 1024, 0), 0);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	buf = tu_slurp(fd, &len);
	CHECK(len > 200000);
	CHECK_EQ(psf_reader_open_fd(&r, fd), 0);
	while (r && (ret = psf_reader_next(r, &rec)) > 0) {
		size_t m = psf_reader_memory(r);

		if (m > peak)
			peak = m;
	}
	CHECK_EQ(ret, 0);
	/* Stored + raw buffers of a ~64 KiB chunk, the string buffer, metadata. */
	CHECK(peak < 2 * 70 * 1024 + PSF_MAX_STRING + 1 + 4096);
	psf_reader_free(r);
	free(buf);
	close(fd);

	/* Writer: 200k distinct stacks with intern_max 1000. */
	{
		struct psf_writer *w = NULL;
		struct psf_trailer tr = { 0 };
		uint32_t threads[1], stacks[1], i, id;
		size_t at_50k = 0;

		fd = tu_memfd();
		w = open_w(fd, 1000, 1000, 65536, 0, 1000);
		if (!w)
			return;
		define_basics(w, 1, 1, threads, stacks);
		for (i = 0; i < 200000; i++) {
			CHECK_EQ(psf_writer_stack(w, 0, 1, (int32_t)i, &id), 0);
			if (i == 50000)
				at_50k = psf_writer_memory(w);
		}
		CHECK(id > 200000);
		CHECK(psf_writer_memory(w) == at_50k); /* stopped growing */
		CHECK(psf_writer_memory(w) < 4u << 20);
		CHECK_EQ(psf_writer_close(w, &tr), 0);
		psf_writer_free(w);
		close(fd);
	}
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(multi_chunk);
	RUN(tick_split);
	RUN(flush_by_age);
	RUN(intern_reset);
	RUN(time_units);
	RUN(writer_rejects_bad_calls);
	RUN(header_only_and_empty_trailer);
	RUN(pipe_round_trip);
	RUN(stored_equals_compressed);
	RUN(memory_bounded);
	return test_status();
}
