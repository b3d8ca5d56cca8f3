/*
 * format_damage.c - the reader against damaged and hostile input:
 * truncation at every byte offset, random byte flips, and hand-made files
 * whose checksums are right but whose content breaks a rule of the spec
 * (lengths, ids, sizes, zstd frames, headers).  The reader must never
 * crash or over-allocate, must return exactly the records of the chunks
 * before the damage, and must name the damaged chunk.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "format_int.h"
#include "format_testutil.h"
#include "pyspy_format.h"
#include "test.h"

/* ------------------------------------------------------------ a reference file */

struct ref {
	uint8_t *buf;
	size_t len;
	size_t hsize;               /* header bytes */
	size_t nchunks;
	size_t chunk_end[256];      /* offset just past chunk k */
	size_t recs_before[257];    /* records in chunks < k */
	size_t max_raw;             /* largest raw_size */
	struct psf_record *rec;
	size_t nrec;
};

static struct ref ref;

/* A multi-chunk capture with definitions, samples, events and a trailer. */
static void ref_build(uint32_t chunk_bytes, uint32_t ticks)
{
	struct psf_meta m = tu_meta(1000, 1000);
	struct psf_writer_opts o;
	struct psf_writer *w = NULL;
	struct psf_trailer tr = { 0 };
	struct psf_process p = { 0 };
	uint32_t proc, th[3], st[8], file, i, j, k;
	uint64_t s = 99;
	size_t pos;
	int fd = tu_memfd();

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = chunk_bytes;
	CHECK_EQ(psf_writer_open(&w, fd, &m, &o), 0);
	CHECK_EQ(psf_writer_string(w, "app.py", 6, &file), 0);
	p.pid = 7;
	CHECK_EQ(psf_writer_process(w, &p, &proc), 0);
	for (i = 0; i < 3; i++) {
		struct psf_thread t = { 0 };

		t.process = proc;
		t.tid = (int32_t)(7 + i);
		CHECK_EQ(psf_writer_thread(w, &t, &th[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		struct psf_frame f = { 0 };
		char name[16];
		uint32_t fr;

		snprintf(name, sizeof(name), "f%u", i);
		f.kind = PSF_FRAME_PYTHON;
		f.file = file;
		CHECK_EQ(psf_writer_string(w, name, strlen(name), &f.name), 0);
		CHECK_EQ(psf_writer_frame(w, &f, &fr), 0);
		CHECK_EQ(psf_writer_stack(w, i ? st[i - 1] : 0, fr, (int32_t)i, &st[i]), 0);
	}
	for (i = 0; i < ticks; i++) {
		uint64_t t = 1000000ull * (i + 1);

		CHECK_EQ(psf_writer_tick(w, t + 50000 + 1000 * (tu_rand(&s) % 50), t), 0);
		for (j = 0; j < 3; j++) {
			struct psf_sample sm = { t + 200000, 0, th[j], st[tu_rand(&s) % 8],
						 j ? PSF_SF_IDLE : PSF_SF_GIL };

			CHECK_EQ(psf_writer_sample(w, &sm), 0);
		}
		if (i % 40 == 39) {
			struct psf_lag l = { t, 40, 0, 90000, 40 * 60000 };

			CHECK_EQ(psf_writer_lag(w, &l), 0);
		}
	}
	{
		struct psf_thread_end e = { th[2], ticks * 1000000ull };

		CHECK_EQ(psf_writer_thread_end(w, &e), 0);
	}
	tr.samples = 3ull * ticks;
	CHECK_EQ(psf_writer_close(w, &tr), 0);
	psf_writer_free(w);
	ref.buf = tu_slurp(fd, &ref.len);
	close(fd);

	/* Chunk boundaries and sizes, straight from the chunk headers. */
	ref.hsize = psf_get_le32(ref.buf + 12);
	ref.nchunks = 0;
	ref.max_raw = 0;
	for (pos = ref.hsize; pos < ref.len;) {
		size_t raw = psf_get_le32(ref.buf + pos + 16);

		if (raw > ref.max_raw)
			ref.max_raw = raw;
		pos += PSF_CHUNK_HEADER + psf_get_le32(ref.buf + pos + 12);
		ref.chunk_end[ref.nchunks++] = pos;
	}
	CHECK(pos == ref.len);
	CHECK_EQ(tu_read_all(ref.buf, ref.len, &ref.rec, &ref.nrec, NULL), 0);
	/* Records per chunk, by reading again and watching psf_reader_chunk(). */
	{
		struct psf_reader *r = NULL;
		struct psf_record rec;
		size_t n = 0;

		memset(ref.recs_before, 0, sizeof(ref.recs_before));
		CHECK_EQ(psf_reader_open_mem(&r, ref.buf, ref.len), 0);
		while (r && psf_reader_next(r, &rec) > 0) {
			n++;
			for (k = psf_reader_chunk(r) + 1; k <= ref.nchunks; k++)
				ref.recs_before[k] = n;
		}
		psf_reader_free(r);
	}
	CHECK_EQ(ref.recs_before[ref.nchunks], ref.nrec);
}

static void ref_free(void)
{
	free(ref.buf);
	free(ref.rec);
	memset(&ref, 0, sizeof(ref));
}

/* Index of the chunk holding byte offset off (off >= header). */
static size_t chunk_at(size_t off)
{
	size_t k = 0;

	while (k < ref.nchunks && ref.chunk_end[k] <= off)
		k++;
	return k;
}

/*
 * Read buf[0..len) and check it yields exactly the first `want` reference
 * records, then `want_ret` at chunk `want_chunk`.  Returns 0 if all held.
 */
static int read_expect(const uint8_t *buf, size_t len, size_t want, int want_ret,
		       size_t want_chunk, size_t mem_bound)
{
	struct psf_reader *r = NULL;
	struct psf_record rec;
	size_t n = 0;
	int ret, bad = 0;

	ret = psf_reader_open_mem(&r, buf, len);
	if (ret < 0) {
		psf_reader_free(r);
		return 1;
	}
	while ((ret = psf_reader_next(r, &rec)) > 0) {
		if (n >= ref.nrec || !tu_rec_equal(&rec, &ref.rec[n]))
			bad = 1;
		n++;
	}
	if (n != want || ret != want_ret || psf_reader_chunk(r) != want_chunk)
		bad = 1;
	if (psf_reader_memory(r) > mem_bound)
		bad = 1;
	/* The error is sticky. */
	if (psf_reader_next(r, &rec) != ret)
		bad = 1;
	if (bad)
		printf("#   len %zu: %zu records (want %zu), ret %d (want %d), chunk %u (want %zu), "
		       "memory %zu\n", len, n, want, ret, want_ret, psf_reader_chunk(r), want_chunk,
		       psf_reader_memory(r));
	psf_reader_free(r);
	return bad;
}

static size_t mem_bound(void)
{
	return ref.max_raw + PSF_MAX_STRING + 1 + ref.hsize;
}

/* ------------------------------------------------------------ truncation */

static void truncate_every_offset(void)
{
	size_t len;
	int failures = 0;

	ref_build(400, 300);
	CHECK(ref.nchunks >= 10);
	for (len = 0; len <= ref.len; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		struct psf_reader *r = NULL;
		int ret;

		/* A copy of exactly len bytes, so ASan sees any over-read. */
		memcpy(copy, ref.buf, len);
		if (len < ref.hsize) {
			ret = psf_reader_open_mem(&r, copy, len);
			if (ret != (len == 0 ? PSF_E_EMPTY : PSF_E_TRUNCATED) || r != NULL)
				failures++;
			psf_reader_free(r);
		} else {
			size_t k = chunk_at(len);
			int boundary = len == ref.hsize || (k > 0 && ref.chunk_end[k - 1] == len);

			if (len == ref.len)
				k = ref.nchunks;
			failures += read_expect(copy, len, ref.recs_before[k],
						boundary ? 0 : PSF_E_TRUNCATED, k, mem_bound());
		}
		free(copy);
		if (failures > 3)
			break;
	}
	CHECK_EQ(failures, 0);
	ref_free();
}

/* The same through a file descriptor: short reads, buffer growth. */
static void truncate_fd(void)
{
	size_t len;
	int failures = 0;

	ref_build(400, 300);
	for (len = ref.hsize; len <= ref.len; len += 13) {
		int fd = tu_memfd();
		struct psf_reader *r = NULL;
		struct psf_record rec;
		size_t n = 0, k = chunk_at(len);
		int ret, boundary = len == ref.hsize || (k > 0 && ref.chunk_end[k - 1] == len);

		if (len == ref.len)
			k = ref.nchunks;
		if (write(fd, ref.buf, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0) {
			failures++;
			break;
		}
		ret = psf_reader_open_fd(&r, fd);
		if (ret == 0) {
			while ((ret = psf_reader_next(r, &rec)) > 0)
				n += tu_rec_equal(&rec, &ref.rec[n]);
		}
		if (ret != (boundary ? 0 : PSF_E_TRUNCATED) || n != ref.recs_before[k] ||
		    psf_reader_chunk(r) != k)
			failures++;
		psf_reader_free(r);
		close(fd);
	}
	CHECK_EQ(failures, 0);
	ref_free();
}

/* ------------------------------------------------------------ flips */

/* Samples among the reference records [from, to). */
static uint64_t ref_samples(size_t from, size_t to)
{
	uint64_t n = 0;

	for (; from < to && from < ref.nrec; from++)
		n += ref.rec[from].type == PSF_REC_SAMPLE;
	return n;
}

/* What reading a damaged copy gave. */
struct read_out {
	int ret;                 /* the last psf_reader_next() */
	size_t before;           /* records before the first gap (or the end) */
	int bad_prefix;          /* one of them differs from the reference */
	int ngaps;
	struct psf_gap gap;      /* the first gap */
	uint64_t samples;        /* samples read, all */
	uint64_t gap_samples;    /* samples lost, all gaps */
	uint64_t dropped;
};

static void read_damaged(const uint8_t *copy, struct psf_reader **rp, struct read_out *o)
{
	struct psf_record rec;

	memset(o, 0, sizeof(*o));
	o->ret = psf_reader_open_mem(rp, copy, ref.len);
	if (o->ret != 0)
		return;
	while ((o->ret = psf_reader_next(*rp, &rec)) > 0) {
		if (rec.type == PSF_REC_GAP) {
			if (!o->ngaps++)
				o->gap = rec.u.gap;
			o->gap_samples += rec.u.gap.samples;
			continue;
		}
		if (!o->ngaps) {
			if (o->before >= ref.nrec || !tu_rec_equal(&rec, &ref.rec[o->before]))
				o->bad_prefix = 1;
			o->before++;
		}
		o->samples += rec.type == PSF_REC_SAMPLE;
	}
	o->dropped = psf_reader_dropped(*rp);
}

static void byte_flips(void)
{
	int seed, failures = 0;

	ref_build(600, 200);
	for (seed = 1; seed <= 3000; seed++) {
		uint64_t s = (uint64_t)seed * 7919;
		size_t pos = tu_rand(&s) % ref.len;
		uint8_t x = (uint8_t)(1 + tu_rand(&s) % 255);
		uint8_t *copy = malloc(ref.len);

		memcpy(copy, ref.buf, ref.len);
		copy[pos] ^= x;
		if (pos < ref.hsize) {
			struct psf_reader *r = NULL;
			int ret = psf_reader_open_mem(&r, copy, ref.len);

			/* A damaged header never opens (NEWER keeps a reader). */
			if (ret >= 0)
				failures++;
			if (ret != PSF_E_NEWER && r != NULL)
				failures++;
			psf_reader_free(r);
		} else {
			size_t k = chunk_at(pos);
			struct psf_reader *r = NULL;
			struct read_out o;
			int bad = 0;

			read_damaged(copy, &r, &o);
			if (o.before != ref.recs_before[k] || o.bad_prefix || psf_reader_memory(r) > mem_bound())
				bad = 1;
			if (k + 1 < ref.nchunks) {
				/* resumed at the next chunk: exactly chunk k and its samples lost */
				if (o.ret != 0 || o.ngaps != 1 || o.gap.first != k || o.gap.chunks != 1 ||
				    o.gap.samples != ref_samples(ref.recs_before[k], ref.recs_before[k + 1]) ||
				    o.samples + o.gap.samples + o.dropped != ref_samples(0, ref.nrec) ||
				    !psf_reader_complete(r))
					bad = 1;
			} else if (o.ngaps != 0 || psf_reader_chunk(r) != k ||
				   (o.ret != PSF_E_CHECKSUM && o.ret != PSF_E_CORRUPT)) {
				bad = 1; /* the last chunk: nothing to resume at */
			}
			if (bad)
				printf("#   seed %d: flip at %zu (chunk %zu): %zu records before, %d gaps "
				       "(first %u, %u chunks, %llu samples), ret %d, chunk %u\n",
				       seed, pos, k, o.before, o.ngaps, o.gap.first, o.gap.chunks,
				       (unsigned long long)o.gap.samples, o.ret, psf_reader_chunk(r));
			failures += bad;
			psf_reader_free(r);
		}
		free(copy);
		if (failures > 3)
			break;
	}
	CHECK_EQ(failures, 0);
	ref_free();
}

/*
 * Several random bytes overwritten: still a clean prefix, then gaps (the
 * reader resumes at each intact chunk) or, with nothing intact after the
 * damage, an error.
 */
static void random_garbage(void)
{
	int seed, failures = 0;

	ref_build(600, 200);
	for (seed = 1; seed <= 1000; seed++) {
		uint64_t s = (uint64_t)seed * 104729;
		uint8_t *copy = malloc(ref.len);
		size_t first = ref.len, i, nd = 1 + tu_rand(&s) % 8;
		struct psf_reader *r = NULL;
		struct read_out o;

		memcpy(copy, ref.buf, ref.len);
		for (i = 0; i < nd; i++) {
			size_t pos = ref.hsize + tu_rand(&s) % (ref.len - ref.hsize);
			uint8_t v = (uint8_t)tu_rand(&s);

			if (copy[pos] != v && pos < first)
				first = pos;
			copy[pos] = v;
		}
		read_damaged(copy, &r, &o);
		if (o.bad_prefix)
			failures++;
		if (first < ref.len) {
			size_t k = chunk_at(first);

			/*
			 * A clean prefix up to the first damaged chunk; then either
			 * the end (nothing intact after it) or a gap naming it.  When
			 * reading ends cleanly, every sample is accounted for.
			 */
			if (o.before != ref.recs_before[k] ||
			    (o.ngaps == 0 && (o.ret >= 0 || psf_reader_chunk(r) != k)) ||
			    (o.ngaps > 0 && o.gap.first != k) ||
			    (o.ret == 0 && o.samples + o.gap_samples + o.dropped != ref_samples(0, ref.nrec)))
				failures++;
		}		if (psf_reader_memory(r) > mem_bound())
			failures++;
		psf_reader_free(r);
		free(copy);
		if (failures > 3)
			break;
	}
	CHECK_EQ(failures, 0);
	ref_free();
}

/* ------------------------------------------------------------ hand-made files */

struct fbuf {
	uint8_t p[1 << 16];
	size_t n;
};

static struct fbuf f;

static void put(const void *p, size_t n)
{
	if (n == 0)
		return;
	if (f.n + n > sizeof(f.p))
		abort();
	memcpy(f.p + f.n, p, n);
	f.n += n;
}

/* A header with the given version/flags and raw metadata bytes. */
static void header(uint16_t major, uint16_t minor, uint64_t flags, const void *meta, size_t mlen)
{
	uint8_t h[40];

	f.n = 0;
	memcpy(h, PSF_MAGIC, 8);
	psf_put_le16(h + 8, major);
	psf_put_le16(h + 10, minor);
	psf_put_le32(h + 12, (uint32_t)(44 + mlen));
	psf_put_le64(h + 16, flags);
	memset(h + 24, 0xab, 16);
	put(h, 40);
	put(meta, mlen);
	psf_put_le32(h, psf_crc32c(0, f.p, f.n));
	put(h, 4);
}

/* The standard header: time unit 1000 ns, no other metadata. */
static void header_std(void)
{
	header(1, 0, 0, NULL, 0);
}

/* A chunk with raw header fields given, payload stored as is. */
static void chunk_raw(uint8_t comp, uint32_t seq, const void *payload, uint32_t stored,
		      uint32_t raw_size)
{
	uint8_t h[32];

	memset(h, 0, sizeof(h));
	memcpy(h, "PSCK", 4);
	h[4] = comp;
	psf_put_le32(h + 8, seq);
	psf_put_le32(h + 12, stored);
	psf_put_le32(h + 16, raw_size);
	psf_put_le32(h + 20, psf_crc32c(0, payload, stored));
	psf_put_le32(h + 28, psf_crc32c(0, h, 28));
	put(h, 32);
	put(payload, stored);
}

static void chunk_stored(uint32_t seq, const void *payload, size_t n)
{
	chunk_raw(PSF_COMP_STORED, seq, payload, (uint32_t)n, (uint32_t)n);
}

/* Open f, drain it; return the final result; *n records, *chunk. */
static int drain(size_t *n, uint32_t *chunk)
{
	struct psf_reader *r = NULL;
	struct psf_record rec;
	int ret;

	*n = 0;
	ret = psf_reader_open_mem(&r, f.p, f.n);
	if (ret == 0) {
		while ((ret = psf_reader_next(r, &rec)) > 0)
			(*n)++;
	}
	if (chunk)
		*chunk = r ? psf_reader_chunk(r) : 0;
	psf_reader_free(r);
	return ret;
}

/* Open buf, drain it; return the final result; *n records, *chunk. */
static int drain_buf(const uint8_t *buf, size_t len, size_t *n, uint32_t *chunk)
{
	struct psf_reader *r = NULL;
	struct psf_record rec;
	int ret;

	*n = 0;
	ret = psf_reader_open_mem(&r, buf, len);
	if (ret == 0) {
		while ((ret = psf_reader_next(r, &rec)) > 0)
			(*n)++;
	}
	*chunk = r ? psf_reader_chunk(r) : 0;
	psf_reader_free(r);
	return ret;
}

/* One stored chunk holding `payload`: the reader's final result. */
static int one_chunk(const char *payload, size_t n, size_t *nrec)
{
	size_t dummy;

	header_std();
	chunk_stored(0, payload, n);
	return drain(nrec ? nrec : &dummy, NULL);
}

#define ONE(s) one_chunk(s, sizeof(s) - 1, NULL)

/* Definitions making string 1, frame 1, stack 1, process 1, thread 1. */
#define DEFS "\x01\x02\x01" "a" "\x02\x05\x00\x01\x00\x01\x02" "\x03\x03\x00\x01\x02" \
	     "\x04\x06\x01\x00\x00\x00\x00\x00" "\x05\x07\x01\x01\x00\x00\x00\x00\x00"

static void hostile_records(void)
{
	size_t n;

	/* The definitions alone are fine: 5 records. */
	CHECK_EQ(one_chunk(DEFS, sizeof(DEFS) - 1, &n), 0);
	CHECK_EQ(n, 5);
	/* Record length: huge varint, past the payload, too long a varint. */
	CHECK_EQ(ONE("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), PSF_E_CORRUPT);
	CHECK_EQ(ONE("\x01\x05\x01" "a"), PSF_E_CORRUPT);
	CHECK_EQ(ONE("\x01\x03\x01" "a"), PSF_E_CORRUPT); /* one byte past the end */
	CHECK_EQ(ONE("\x01\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"), PSF_E_CORRUPT);
	CHECK_EQ(ONE("\x01"), PSF_E_CORRUPT);
	/* STRING: too long, longer than its record, bad UTF-8, NUL. */
	CHECK_EQ(ONE("\x01\x04\x81\x80\x04" "a"), PSF_E_CORRUPT); /* len 65537 */
	CHECK_EQ(ONE("\x01\x02\x05" "a"), PSF_E_CORRUPT);
	CHECK_EQ(ONE("\x01\x02\x01\xff"), PSF_E_CORRUPT);
	CHECK_EQ(ONE("\x01\x03\x02" "a\xed"), PSF_E_CORRUPT);
	CHECK_EQ(ONE("\x01\x02\x01\x00"), PSF_E_CORRUPT);
	/* Trailing bytes in a known record are ignored (§5.1). */
	CHECK_EQ(one_chunk("\x01\x05\x01" "a" "xyz", 7, &n), 0);
	CHECK_EQ(n, 1);
	/* FRAME: unknown kind; reference to a string not defined yet. */
	CHECK_EQ(ONE("\x01\x02\x01" "a" "\x02\x02\x03\x01"), PSF_E_CORRUPT);
	CHECK_EQ(ONE("\x02\x05\x00\x02\x00\x00\x00"), PSF_E_CORRUPT);
	CHECK_EQ(ONE("\x02\x03\x01\x00\x00"), PSF_E_CORRUPT); /* native: offset missing */
	/* firstlineno wider than 32 bits. */
	CHECK_EQ(ONE("\x02\x09\x00\x00\x00\x00\xff\xff\xff\xff\x7f"), PSF_E_CORRUPT);
	/* STACK: parent not smaller than itself, frame 0, frame undefined. */
	CHECK_EQ(ONE(DEFS "\x03\x03\x02\x01\x00"), PSF_E_CORRUPT);
	CHECK_EQ(ONE(DEFS "\x03\x03\x01\x00\x00"), PSF_E_CORRUPT);
	CHECK_EQ(ONE(DEFS "\x03\x03\x01\x02\x00"), PSF_E_CORRUPT);
	/* PROCESS: pid above INT32_MAX. */
	CHECK_EQ(ONE("\x04\x0a\x80\x80\x80\x80\x08\x00\x00\x00\x00\x00"), PSF_E_CORRUPT);
	/* THREAD: process 0, undefined process, reserved flag, huge py_thread_id ok. */
	CHECK_EQ(ONE(DEFS "\x05\x07\x00\x01\x00\x00\x00\x00\x00"), PSF_E_CORRUPT);
	CHECK_EQ(ONE(DEFS "\x05\x07\x02\x01\x00\x00\x00\x00\x00"), PSF_E_CORRUPT);
	CHECK_EQ(ONE(DEFS "\x05\x07\x01\x01\x00\x00\x00\x00\x02"), PSF_E_CORRUPT);
	CHECK_EQ(ONE(DEFS "\x05\x10\x01\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00\x00\x00"),
		 0);
	/* Events referring to undefined or zero ids. */
	CHECK_EQ(ONE(DEFS "\x80\x04\x02\x00\x00\x00"), PSF_E_CORRUPT);  /* PROCESS_END */
	CHECK_EQ(ONE(DEFS "\x80\x04\x00\x00\x00\x00"), PSF_E_CORRUPT);
	CHECK_EQ(ONE(DEFS "\x80\x04\x01\x00\x00\x00"), 0);
	CHECK_EQ(ONE(DEFS "\x81\x03\x01\x00\x02"), PSF_E_CORRUPT);      /* THREAD_NAME */
	CHECK_EQ(ONE(DEFS "\x82\x02\x02\x00"), PSF_E_CORRUPT);          /* THREAD_END */
	CHECK_EQ(ONE(DEFS "\x83\x04\x02\x00\x00\x00"), PSF_E_CORRUPT);  /* ERRORS */
	CHECK_EQ(ONE(DEFS "\x83\x04\x00\x00\x00\x00"), 0);              /* process 0 = none */
	CHECK_EQ(ONE(DEFS "\x85\x06\x01\x00\x00\x08\x00\x00"), PSF_E_CORRUPT); /* LOCAL flag */
	CHECK_EQ(ONE(DEFS "\x85\x07\x01\x00\x00\x00\x00\x02" "a"), PSF_E_CORRUPT); /* repr len */
	CHECK_EQ(ONE(DEFS "\x85\x07\x01\x00\x00\x00\x00\x01\x00"), PSF_E_CORRUPT); /* repr NUL */
	CHECK_EQ(ONE(DEFS "\x85\x07\x01\x00\x00\x00\x00\x01" "b"), 0);
	/* Short ancillary records are corrupt too. */
	CHECK_EQ(ONE("\x84\x04\x00\x00\x00\x00"), PSF_E_CORRUPT);       /* LAG: 4 of 5 */
	CHECK_EQ(ONE("\x86\x08\x00\x00\x00\x00\x00\x00\x00\x00"), PSF_E_CORRUPT); /* TRAILER */
	/* Times that overflow 64 bits once multiplied by the unit. */
	CHECK_EQ(ONE("\x84\x0e\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00\x00\x00"),
		 PSF_E_CORRUPT);
	/* Unknown types: critical refused, ancillary skipped (§5.1). */
	CHECK_EQ(ONE("\x07\x01\x00"), PSF_E_UNSUPPORTED);
	CHECK_EQ(ONE("\x7f\x00"), PSF_E_UNSUPPORTED);
	CHECK_EQ(one_chunk("\x88\x03xyz\x01\x02\x01" "a", 9, &n), 0);
	CHECK_EQ(n, 1);
	/* SYNC (0x87, 1.1) only as a chunk's first record, never counting less. */
	CHECK_EQ(one_chunk("\x01\x02\x01" "a" "\x87\x06\x00\x00\x00\x00\x00\x00", 12, &n), PSF_E_CORRUPT);
	CHECK_EQ(one_chunk("\x87\x06\x00\x00\x00\x00\x00\x00\x01\x02\x01" "a", 12, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(one_chunk("\x87\x05\x00\x00\x00\x00\x00", 7, &n), PSF_E_CORRUPT);
	CHECK_EQ(one_chunk("\xff\x00", 2, &n), 0);
	CHECK_EQ(n, 0);
	/* A record after the TRAILER. */
	CHECK_EQ(ONE("\x86\x09\x00\x00\x00\x00\x00\x00\x01\x00\x00" "\x01\x02\x01" "a"),
		 PSF_E_CORRUPT);
	CHECK_EQ(ONE("\x86\x09\x00\x00\x00\x00\x00\x00\x01\x00\x00"), 0);
}

/* DEFS (optional), then one record of `type` whose payload is body[0..bn). */
static int rec_case(int defs, uint8_t type, const char *body, size_t bn, size_t *nrec)
{
	static uint8_t p[4096];
	size_t n = 0;

	if (defs) {
		memcpy(p, DEFS, sizeof(DEFS) - 1);
		n = sizeof(DEFS) - 1;
	}
	p[n++] = type;
	n += psf_varint_put(p + n, bn);
	memcpy(p + n, body, bn);
	n += bn;
	return one_chunk((const char *)p, n, nrec);
}

/* A sample block after DEFS (thread 1, stack 1 defined; time unit 1000). */
#define SB(s) rec_case(1, PSF_REC_SAMPLE, s, sizeof(s) - 1, NULL)

static void hostile_samples(void)
{
	size_t n;

	/* A good block: 2 ticks, 2 samples. */
	CHECK_EQ(rec_case(1, PSF_REC_SAMPLE,
			  "\x02\x02\x64\x00" "\x00\x00" "\x03\x00" "\x01\x01" "\x01\x01"
			  "\x01\x00" "\x05\x00" "\x00\x00", 18, &n), 0);
	CHECK_EQ(n, 7);
	/* n_ticks 0. */
	CHECK_EQ(SB("\x00\x00\x00\x00"), PSF_E_CORRUPT);
	/* n_samples above 2^20. */
	CHECK_EQ(SB("\x01\x81\x80\x40\x00\x00" "\x00\x00\x01"), PSF_E_CORRUPT);
	/* n_ticks huge with a tiny payload. */
	CHECK_EQ(SB("\xff\xff\xff\xff\x0f\x00\x00\x00" "\x00\x00"), PSF_E_CORRUPT);
	/* counts that do not sum to n_samples (2 vs 1 + 0). */
	CHECK_EQ(SB("\x02\x02\x64\x00" "\x00\x00" "\x00\x00" "\x01\x00" "\x01\x01" "\x01\x01"
		    "\x00\x00" "\x00\x00"), PSF_E_CORRUPT);
	/* thread 0; thread 2 (undefined); stack 2 (undefined); all fine. */
	CHECK_EQ(SB("\x01\x01\x00\x00" "\x00" "\x00" "\x01" "\x00" "\x00" "\x00" "\x00"),
		 PSF_E_CORRUPT);
	CHECK_EQ(SB("\x01\x01\x00\x00" "\x00" "\x00" "\x01" "\x02" "\x00" "\x00" "\x00"),
		 PSF_E_CORRUPT);
	CHECK_EQ(SB("\x01\x01\x00\x00" "\x00" "\x00" "\x01" "\x01" "\x02" "\x00" "\x00"),
		 PSF_E_CORRUPT);
	CHECK_EQ(SB("\x01\x01\x00\x00" "\x00" "\x00" "\x01" "\x01" "\x01" "\x00" "\x00"), 0);
	/* flags: reserved bit 7, GIL with GIL_UNKNOWN, IDLE with IDLE_UNKNOWN. */
	CHECK_EQ(SB("\x01\x01\x00\x00" "\x00" "\x00" "\x01" "\x01" "\x01" "\x80\x01" "\x00"),
		 PSF_E_CORRUPT);
	CHECK_EQ(SB("\x01\x01\x00\x00" "\x00" "\x00" "\x01" "\x01" "\x01" "\x03" "\x00"),
		 PSF_E_CORRUPT);
	CHECK_EQ(SB("\x01\x01\x00\x00" "\x00" "\x00" "\x01" "\x01" "\x01" "\x0c" "\x00"),
		 PSF_E_CORRUPT);
	CHECK_EQ(SB("\x01\x01\x00\x00" "\x00" "\x00" "\x01" "\x01" "\x01" "\x7a" "\x00"), 0);
	/* Scheduled time overflow: base 2^64-1 plus period 1. */
	CHECK_EQ(SB("\x01\x00\x01" "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01" "\x00\x00\x00"),
		 PSF_E_CORRUPT);
	/* Scheduled time below zero: base 0, period 0, delta -1. */
	CHECK_EQ(SB("\x01\x00\x00\x00" "\x01" "\x00" "\x00"), PSF_E_CORRUPT);
	/* Actual time overflow: scheduled 2^63, late 2^63. */
	CHECK_EQ(SB("\x01\x00\x00" "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01" "\x00"
		    "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01" "\x00"), PSF_E_CORRUPT);
	/* Times beyond 2^64 ns once multiplied by the unit (1000). */
	CHECK_EQ(SB("\x01\x00\x00" "\xff\xff\xff\xff\xff\xff\xff\xff\x7f" "\x00\x00\x00"),
		 PSF_E_CORRUPT);
	/* Scheduled times going back between ticks (delta -2). */
	CHECK_EQ(SB("\x02\x00\x01\x05" "\x00\x03" "\x00\x00" "\x00\x00"), PSF_E_CORRUPT);
	/* The same scheduled time twice is allowed (a tick split over blocks). */
	CHECK_EQ(SB("\x02\x00\x01\x05" "\x00\x01" "\x00\x00" "\x00\x00"), 0);
	/* Actual time going back: tick 0 late 9, tick 1 on time one unit later. */
	CHECK_EQ(SB("\x02\x00\x01\x00" "\x00\x00" "\x09\x00" "\x00\x00"), PSF_E_CORRUPT);
	/* A column that ends early. */
	CHECK_EQ(SB("\x01\x01\x00\x00" "\x00" "\x00" "\x01" "\x01"), PSF_E_CORRUPT);
	/* An offset that overflows once added to the tick time. */
	CHECK_EQ(SB("\x01\x01\x00\x00" "\x00" "\x00" "\x01" "\x01" "\x01" "\x00"
		    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), PSF_E_CORRUPT);
	/* Trailing bytes after the last column are ignored. */
	CHECK_EQ(rec_case(1, PSF_REC_SAMPLE, "\x01\x01\x00\x00" "\x00" "\x00" "\x01" "\x01"
			  "\x01" "\x00" "\x00" "\xaa\xbb", 13, &n), 0);
	CHECK_EQ(n, 6);
	/* Tick times must not go back across blocks either. */
	{
		static const char two_back[] = DEFS "\x06\x07\x01\x00\x00\x09\x00\x00\x00"
						    "\x06\x07\x01\x00\x00\x05\x00\x00\x00";
		static const char two_same[] = DEFS "\x06\x07\x01\x00\x00\x05\x00\x00\x00"
						    "\x06\x07\x01\x00\x00\x05\x00\x00\x00";

		CHECK_EQ(one_chunk(two_back, sizeof(two_back) - 1, NULL), PSF_E_CORRUPT);
		CHECK_EQ(one_chunk(two_same, sizeof(two_same) - 1, NULL), 0);
	}
}

static void hostile_chunks(void)
{
	static const char payload[] = "\x01\x02\x01" "a";
	uint8_t h[32];
	size_t n;
	uint32_t chunk;

	/* Sequence numbers must count from 0. */
	header_std();
	chunk_stored(1, payload, 4);
	CHECK_EQ(drain(&n, &chunk), PSF_E_CORRUPT);
	header_std();
	chunk_stored(0, payload, 4);
	chunk_stored(0, payload, 4);
	CHECK_EQ(drain(&n, &chunk), PSF_E_CORRUPT);
	CHECK_EQ(n, 1);
	CHECK_EQ(chunk, 1);
	/* Unknown compression, stored size != raw size when stored. */
	header_std();
	chunk_raw(2, 0, payload, 4, 4);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	header_std();
	chunk_raw(0, 0, payload, 4, 5);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	/* Sizes above 16 MiB (the CRCs are right, the data absent). */
	header_std();
	chunk_raw(1, 0, payload, 4, PSF_MAX_CHUNK_RAW + 1);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	header_std();
	memset(h, 0, 32);
	memcpy(h, "PSCK", 4);
	psf_put_le32(h + 12, PSF_MAX_CHUNK_STORED + 1);
	psf_put_le32(h + 16, 10);
	h[4] = 1;
	psf_put_le32(h + 28, psf_crc32c(0, h, 28));
	put(h, 32);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	/* Reserved fields set (flags, reserved u16, reserved u32). */
	{
		static const int at[3] = { 5, 6, 24 };
		int i;

		for (i = 0; i < 3; i++) {
			header_std();
			chunk_stored(0, payload, 4);
			f.p[44 + at[i]] = 1;
			psf_put_le32(f.p + 44 + 28, psf_crc32c(0, f.p + 44, 28));
			CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
		}
	}
	/* Bad chunk magic; bad header CRC; bad payload CRC. */
	header_std();
	chunk_stored(0, payload, 4);
	f.p[44] = 'X';
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	header_std();
	chunk_stored(0, payload, 4);
	f.p[44 + 29] ^= 1;
	CHECK_EQ(drain(&n, NULL), PSF_E_CHECKSUM);
	header_std();
	chunk_stored(0, payload, 4);
	f.p[44 + 32] ^= 1;
	CHECK_EQ(drain(&n, NULL), PSF_E_CHECKSUM);
	/* Garbage after the end: a few bytes that are not a chunk header. */
	header_std();
	chunk_stored(0, payload, 4);
	put("XY", 2);
	CHECK_EQ(drain(&n, &chunk), PSF_E_CORRUPT);
	CHECK_EQ(n, 1);
	CHECK_EQ(chunk, 1);
	header_std();
	chunk_stored(0, payload, 4);
	put("PS", 2);
	CHECK_EQ(drain(&n, &chunk), PSF_E_TRUNCATED);
	/* Any chunk after the trailer chunk, even a valid one. */
	header_std();
	chunk_stored(0, "\x86\x09\x00\x00\x00\x00\x00\x00\x01\x00\x00", 11);
	chunk_stored(1, payload, 4);
	CHECK_EQ(drain(&n, &chunk), PSF_E_CORRUPT);
	CHECK_EQ(n, 1);
	CHECK_EQ(chunk, 1);
	/* Empty chunks are fine. */
	header_std();
	chunk_stored(0, "", 0);
	chunk_stored(1, payload, 4);
	CHECK_EQ(drain(&n, NULL), 0);
	CHECK_EQ(n, 1);
}

/* Compress src into a zstd frame with the given content-size flag. */
static size_t zframe(uint8_t *dst, size_t cap, const void *src, size_t n, int content_size,
		     int window_log)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_outBuffer o = { dst, cap, 0 };
	ZSTD_inBuffer in = { src, n, 0 };
	size_t r;

	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, content_size);
	if (window_log)
		ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, window_log);
	/*
	 * Streaming without a pledged size (input first, then the end, so
	 * zstd cannot learn the size): no size in the frame unless flagged,
	 * and the window is what was asked for.
	 */
	r = ZSTD_compressStream2(c, &o, &in, ZSTD_e_continue);
	in.size = in.pos;
	while (!ZSTD_isError(r)) {
		r = ZSTD_compressStream2(c, &o, &in, ZSTD_e_end);
		if (r == 0)
			break;
	}
	ZSTD_freeCCtx(c);
	return ZSTD_isError(r) ? 0 : o.pos;
}

static void hostile_zstd(void)
{
	static const char payload[] = "\x01\x02\x01" "a" "\x01\x02\x01" "b";
	uint8_t z[256], z2[512];
	size_t zn, n;
	struct psf_reader *r = NULL;
	struct psf_record rec;
	int ret;

	/* A proper frame whose size is known: fine. */
	zn = ZSTD_compress(z, sizeof(z), payload, 8, 3);
	header_std();
	chunk_raw(1, 0, z, (uint32_t)zn, 8);
	CHECK_EQ(drain(&n, NULL), 0);
	CHECK_EQ(n, 2);
	/* The frame says 8 bytes, the chunk 16 MiB: refused before allocating. */
	header_std();
	chunk_raw(1, 0, z, (uint32_t)zn, PSF_MAX_CHUNK_RAW);
	ret = psf_reader_open_mem(&r, f.p, f.n);
	CHECK_EQ(ret, 0);
	if (r) {
		CHECK_EQ(psf_reader_next(r, &rec), PSF_E_CORRUPT);
		CHECK(psf_reader_memory(r) < 4096);
	}
	psf_reader_free(r);
	/* ... and 7 bytes. */
	header_std();
	chunk_raw(1, 0, z, (uint32_t)zn, 7);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	/* No size in the frame: the actual size must match raw_size. */
	zn = zframe(z, sizeof(z), payload, 8, 0, 0);
	CHECK(zn > 0);
	header_std();
	chunk_raw(1, 0, z, (uint32_t)zn, 8);
	CHECK_EQ(drain(&n, NULL), 0);
	header_std();
	chunk_raw(1, 0, z, (uint32_t)zn, 9);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	header_std();
	chunk_raw(1, 0, z, (uint32_t)zn, 7);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	/* Two frames back to back. */
	zn = ZSTD_compress(z, sizeof(z), payload, 4, 3);
	memcpy(z2, z, zn);
	memcpy(z2 + zn, z, zn);
	header_std();
	chunk_raw(1, 0, z2, (uint32_t)(2 * zn), 8);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	/* A frame followed by junk. */
	memcpy(z2, z, zn);
	z2[zn] = 0;
	header_std();
	chunk_raw(1, 0, z2, (uint32_t)(zn + 1), 4);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	/* A skippable frame. */
	memcpy(z2, "\x50\x2a\x4d\x18\x04\x00\x00\x00" "abcd", 12);
	header_std();
	chunk_raw(1, 0, z2, 12, 0);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	/* Not zstd at all; too short to be. */
	header_std();
	chunk_raw(1, 0, "garbage!", 8, 8);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	header_std();
	chunk_raw(1, 0, "\x28\xb5", 2, 8);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	/* A frame damaged inside (the chunk CRC made to match). */
	zn = ZSTD_compress(z, sizeof(z), payload, 8, 3);
	z[zn - 2] ^= 0x55;
	header_std();
	chunk_raw(1, 0, z, (uint32_t)zn, 8);
	ret = drain(&n, NULL);
	CHECK(ret == PSF_E_CORRUPT);
	/* A window above 2^27 (§4: readers limit it). */
	zn = zframe(z, sizeof(z), payload, 8, 0, 28);
	CHECK(zn > 0);
	header_std();
	chunk_raw(1, 0, z, (uint32_t)zn, 8);
	CHECK_EQ(drain(&n, NULL), PSF_E_LIMIT);
}

/* fd input claiming a 16 MiB payload that is not there: no 16 MiB buffer. */
static void hostile_fd_sizes(void)
{
	struct psf_reader *r = NULL;
	struct psf_record rec;
	uint8_t h[32], junk[1000];
	int fd = tu_memfd();

	header_std();
	memset(h, 0, 32);
	memcpy(h, "PSCK", 4);
	psf_put_le32(h + 12, PSF_MAX_CHUNK_STORED);
	psf_put_le32(h + 16, PSF_MAX_CHUNK_STORED);
	psf_put_le32(h + 28, psf_crc32c(0, h, 28));
	put(h, 32);
	memset(junk, 7, sizeof(junk));
	put(junk, sizeof(junk));
	CHECK(write(fd, f.p, f.n) == (ssize_t)f.n);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(psf_reader_open_fd(&r, fd), 0);
	if (r) {
		CHECK_EQ(psf_reader_next(r, &rec), PSF_E_TRUNCATED);
		CHECK(psf_reader_memory(r) <= 65536 + 4096);
	}
	psf_reader_free(r);
	close(fd);
}

static void hostile_headers(void)
{
	struct psf_reader *r = NULL;
	uint8_t meta[64];
	size_t n;

	/* Empty, not ours, a prefix of the magic, a text file. */
	CHECK_EQ(psf_reader_open_mem(&r, "", 0), PSF_E_EMPTY);
	CHECK_EQ(psf_reader_open_mem(&r, NULL, 0), PSF_E_EMPTY);
	CHECK_EQ(psf_reader_open_mem(&r, "\x89PY", 3), PSF_E_TRUNCATED);
	CHECK_EQ(psf_reader_open_mem(&r, "\x89PX", 3), PSF_E_NOT_CAPTURE);
	CHECK_EQ(psf_reader_open_mem(&r, "hello, world\n", 13), PSF_E_NOT_CAPTURE);
	/* Line endings converted: \r\n -> \n. */
	CHECK_EQ(psf_reader_open_mem(&r, "\x89PYSPY\n\x01\x00\x2c\x00\x00\x00", 14),
		 PSF_E_NOT_CAPTURE);
	CHECK(r == NULL);
	CHECK_EQ(psf_reader_open_mem(NULL, "", 0), PSF_E_INVAL);
	CHECK_EQ(psf_reader_open_mem(&r, NULL, 5), PSF_E_INVAL);
	CHECK_EQ(psf_reader_open_fd(&r, -1), PSF_E_INVAL);
	/* Newer major: the version is still readable (§3.1). */
	header(2, 7, 0, NULL, 0);
	CHECK_EQ(psf_reader_open_mem(&r, f.p, f.n), PSF_E_NEWER);
	CHECK(r != NULL);
	if (r) {
		struct psf_record rec;

		CHECK_EQ(psf_reader_meta(r)->major, 2);
		CHECK_EQ(psf_reader_meta(r)->minor, 7);
		CHECK_EQ(psf_reader_next(r, &rec), PSF_E_NEWER);
	}
	psf_reader_free(r);
	r = NULL;
	/* Only 10 bytes of a newer file are enough to say so. */
	CHECK_EQ(psf_reader_open_mem(&r, f.p, 10), PSF_E_NEWER);
	psf_reader_free(r);
	r = NULL;
	/* Major 0 does not exist; any minor of major 1 is fine. */
	header(0, 0, 0, NULL, 0);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	header(1, 9, 0, NULL, 0);
	CHECK_EQ(drain(&n, NULL), 0);
	/* header_size bounds, CRC, flags. */
	header_std();
	psf_put_le32(f.p + 12, 43);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	psf_put_le32(f.p + 12, PSF_MAX_HEADER + 1);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	psf_put_le32(f.p + 12, PSF_MAX_HEADER);
	CHECK_EQ(drain(&n, NULL), PSF_E_TRUNCATED);
	header_std();
	f.p[30] ^= 1;
	CHECK_EQ(drain(&n, NULL), PSF_E_CHECKSUM);
	header(1, 0, PSF_HF_KNOWN, NULL, 0);
	CHECK_EQ(drain(&n, NULL), 0);
	header(1, 0, 1u << 4, NULL, 0);
	CHECK_EQ(drain(&n, NULL), PSF_E_UNSUPPORTED);
	header(1, 0, 1ull << 63, NULL, 0);
	CHECK_EQ(drain(&n, NULL), PSF_E_UNSUPPORTED);
	/* Metadata: a field crossing the CRC, a stub, duplicates, bad sizes. */
	memcpy(meta, "\x01\x00\x05\x00\x00\x00" "abc", 9);
	header(1, 0, 0, meta, 9);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	header(1, 0, 0, meta, 3);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	memcpy(meta, "\x01\x00\x01\x00\x00\x00" "a" "\x01\x00\x01\x00\x00\x00" "b", 14);
	header(1, 0, 0, meta, 14);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	memcpy(meta, "\x07\x00\x04\x00\x00\x00\x00\x00\x00\x00", 10); /* time unit 0 */
	header(1, 0, 0, meta, 10);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	memcpy(meta, "\x06\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 14); /* rate u64 */
	header(1, 0, 0, meta, 14);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	memcpy(meta, "\x08\x00\x04\x00\x00\x00\xff\xff\xff\xff", 10); /* pid > INT32_MAX */
	header(1, 0, 0, meta, 10);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	memcpy(meta, "\x01\x00\x02\x00\x00\x00" "a\xff", 8); /* bad UTF-8 */
	header(1, 0, 0, meta, 8);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	memcpy(meta, "\x01\x00\x02\x00\x00\x00" "a\x00", 8); /* NUL */
	header(1, 0, 0, meta, 8);
	CHECK_EQ(drain(&n, NULL), PSF_E_CORRUPT);
	/* Unknown keys are skipped, even repeated; empty strings are fine. */
	memcpy(meta, "\xee\x00\x03\x00\x00\x00" "xyz" "\xee\x00\x00\x00\x00\x00"
		     "\x01\x00\x00\x00\x00\x00", 21);
	header(1, 0, 0, meta, 21);
	CHECK_EQ(psf_reader_open_mem(&r, f.p, f.n), 0);
	if (r) {
		CHECK_STR(psf_reader_meta(r)->hostname, "");
		CHECK_EQ(psf_reader_meta(r)->time_unit_ns, 1000);
	}
	psf_reader_free(r);
}

/* Sizes exactly at the bounds of §7 are valid; one above is not. */
static void bounds_exact(void)
{
	size_t n, body, len;
	uint8_t *p, *file;
	uint32_t chunk;
	int ret = -1000;

	/*
	 * A sample block of exactly 2^20 samples in one tick: header 1 + 3 +
	 * 1 + 1 bytes, tick columns 1 + 1 + 3, four 1-byte sample columns.
	 */
	body = 6 + 5 + 4 * (size_t)PSF_MAX_BLOCK_SAMPLES;
	p = malloc(sizeof(DEFS) + 8 + body);
	memcpy(p, DEFS, sizeof(DEFS) - 1);
	n = sizeof(DEFS) - 1;
	p[n++] = PSF_REC_SAMPLE;
	n += psf_varint_put(p + n, body);
	n += psf_varint_put(p + n, 1);                      /* n_ticks */
	n += psf_varint_put(p + n, PSF_MAX_BLOCK_SAMPLES);  /* n_samples */
	n += psf_varint_put(p + n, 0);                      /* period */
	n += psf_varint_put(p + n, 0);                      /* base */
	p[n++] = 0;                                         /* sched_delta */
	p[n++] = 0;                                         /* late */
	n += psf_varint_put(p + n, PSF_MAX_BLOCK_SAMPLES);  /* count */
	memset(p + n, 1, 2 * (size_t)PSF_MAX_BLOCK_SAMPLES); /* thread, stack */
	n += 2 * (size_t)PSF_MAX_BLOCK_SAMPLES;
	memset(p + n, 0, 2 * (size_t)PSF_MAX_BLOCK_SAMPLES); /* flags, offset */
	n += 2 * (size_t)PSF_MAX_BLOCK_SAMPLES;
	CHECK_EQ(n, sizeof(DEFS) - 1 + 1 + psf_varint_len(body) + body);
	file = malloc(44 + 32 + n);
	header_std();
	memcpy(file, f.p, 44);
	len = 44;
	{
		uint8_t h[32];

		memset(h, 0, 32);
		memcpy(h, "PSCK", 4);
		psf_put_le32(h + 12, (uint32_t)n);
		psf_put_le32(h + 16, (uint32_t)n);
		psf_put_le32(h + 20, psf_crc32c(0, p, n));
		psf_put_le32(h + 28, psf_crc32c(0, h, 28));
		memcpy(file + len, h, 32);
		len += 32;
	}
	memcpy(file + len, p, n);
	len += n;
	{
		struct psf_reader *r = NULL;
		struct psf_record rec;
		size_t samples = 0;

		CHECK_EQ(psf_reader_open_mem(&r, file, len), 0);
		while (r && (ret = psf_reader_next(r, &rec)) > 0)
			samples += rec.type == PSF_REC_SAMPLE;
		CHECK_EQ(ret, 0);
		CHECK_EQ(samples, PSF_MAX_BLOCK_SAMPLES);
		psf_reader_free(r);
	}
	free(file);
	free(p);

	/* A stored chunk of exactly 16 MiB: one unknown ancillary record. */
	body = PSF_MAX_CHUNK_RAW - 1 - 4;
	p = calloc(1, PSF_MAX_CHUNK_RAW);
	p[0] = 0x87;
	n = 1 + psf_varint_put(p + 1, body);
	CHECK_EQ(n + body, PSF_MAX_CHUNK_RAW);
	file = malloc(44 + 32 + PSF_MAX_CHUNK_RAW);
	header_std();
	memcpy(file, f.p, 44);
	{
		uint8_t *h = file + 44;

		memset(h, 0, 32);
		memcpy(h, "PSCK", 4);
		psf_put_le32(h + 12, PSF_MAX_CHUNK_RAW);
		psf_put_le32(h + 16, PSF_MAX_CHUNK_RAW);
		psf_put_le32(h + 20, psf_crc32c(0, p, PSF_MAX_CHUNK_RAW));
		psf_put_le32(h + 28, psf_crc32c(0, h, 28));
	}
	memcpy(file + 76, p, PSF_MAX_CHUNK_RAW);
	{
		struct psf_reader *r = NULL;
		struct psf_record rec;

		CHECK_EQ(psf_reader_open_mem(&r, file, 76 + PSF_MAX_CHUNK_RAW), 0);
		CHECK_EQ(psf_reader_next(r, &rec), 0);
		CHECK_EQ(psf_reader_chunk(r), 1);
		psf_reader_free(r);
	}
	/* The same through an fd: the buffer grows to exactly the chunk. */
	{
		struct psf_reader *r = NULL;
		struct psf_record rec;
		int fd = tu_memfd();

		CHECK(write(fd, file, 76 + PSF_MAX_CHUNK_RAW) == 76 + (ssize_t)PSF_MAX_CHUNK_RAW);
		CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
		CHECK_EQ(psf_reader_open_fd(&r, fd), 0);
		CHECK_EQ(psf_reader_next(r, &rec), 0);
		CHECK(psf_reader_memory(r) <= PSF_MAX_CHUNK_RAW + 4096);
		psf_reader_free(r);
		close(fd);
	}
	free(file);
	free(p);

	/* A header of exactly 1 MiB: one unknown metadata key filling it. */
	p = calloc(1, PSF_MAX_HEADER);
	memcpy(p, PSF_MAGIC, 8);
	psf_put_le16(p + 8, 1);
	psf_put_le32(p + 12, PSF_MAX_HEADER);
	psf_put_le16(p + 40, 999);
	psf_put_le32(p + 42, PSF_MAX_HEADER - 44 - 6);
	psf_put_le32(p + PSF_MAX_HEADER - 4, psf_crc32c(0, p, PSF_MAX_HEADER - 4));
	CHECK_EQ(drain_buf(p, PSF_MAX_HEADER, &n, &chunk), 0);
	CHECK_EQ(n, 0);
	free(p);
}

int main(void)
{
	RUN(truncate_every_offset);
	RUN(truncate_fd);
	RUN(byte_flips);
	RUN(random_garbage);
	RUN(hostile_records);
	RUN(hostile_samples);
	RUN(hostile_chunks);
	RUN(hostile_zstd);
	RUN(hostile_fd_sizes);
	RUN(hostile_headers);
	RUN(bounds_exact);
	return test_status();
}
