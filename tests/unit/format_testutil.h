/*
 * format_testutil.h - helpers shared by the format unit tests: files in
 * memory, a deterministic PRNG, reading a whole capture back.
 */
#ifndef PYSPY_TESTS_FORMAT_TESTUTIL_H
#define PYSPY_TESTS_FORMAT_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pyspy_format.h"

/* A scratch file in memory (memfd): a regular file, truncatable. */
static inline int tu_memfd(void)
{
	return memfd_create("pyspy-test", MFD_CLOEXEC);
}

/* The whole content of fd, malloc'ed, in *len (fd position untouched). */
static inline uint8_t *tu_slurp(int fd, size_t *len)
{
	struct stat st;
	uint8_t *p;
	size_t got = 0;

	if (fstat(fd, &st) < 0)
		return NULL;
	p = malloc((size_t)st.st_size + 1);
	if (!p)
		return NULL;
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, p + got, (size_t)st.st_size - got, (off_t)got);

		if (n <= 0) {
			free(p);
			return NULL;
		}
		got += (size_t)n;
	}
	*len = got;
	return p;
}

/* xorshift64*: deterministic, seedable, good enough for test data. */
static inline uint64_t tu_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Metadata with a fixed capture id (so files are reproducible). */
static inline struct psf_meta tu_meta(uint32_t unit, uint32_t rate)
{
	struct psf_meta m;

	memset(&m, 0, sizeof(m));
	memcpy(m.capture_id, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16);
	m.hostname = "testhost";
	m.time_unit_ns = unit;
	m.rate_hz = rate;
	m.pid = 4242;
	return m;
}

/*
 * Read every record of buf[0..len) into a malloc'ed array (*n records;
 * strings/reprs are not kept).  Returns the final psf_reader_next()
 * result (0 clean end, < 0 error); *chunk is psf_reader_chunk() then.
 * On an open failure returns that code with *n = 0.
 */
static inline int tu_read_all(const uint8_t *buf, size_t len, struct psf_record **out,
			      size_t *n, uint32_t *chunk)
{
	struct psf_reader *r = NULL;
	struct psf_record rec, *v = NULL;
	size_t cap = 0;
	int ret;

	*n = 0;
	*out = NULL;
	ret = psf_reader_open_mem(&r, buf, len);
	if (ret < 0) {
		psf_reader_free(r);
		return ret;
	}
	while ((ret = psf_reader_next(r, &rec)) > 0) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				abort();
		}
		if (rec.type == PSF_REC_STRING)
			rec.u.string.data = NULL;
		if (rec.type == PSF_REC_LOCAL)
			rec.u.local.repr = NULL;
		v[(*n)++] = rec;
	}
	if (chunk)
		*chunk = psf_reader_chunk(r);
	psf_reader_free(r);
	*out = v;
	return ret;
}

/* Records equal field by field (borrowed pointers are not compared). */
static inline int tu_rec_equal(const struct psf_record *a, const struct psf_record *b)
{
	struct psf_record x = *a, y = *b;

	if (x.type == PSF_REC_STRING) {
		x.u.string.data = NULL;
		y.u.string.data = NULL;
	}
	if (x.type == PSF_REC_LOCAL) {
		x.u.local.repr = NULL;
		y.u.local.repr = NULL;
	}
	return memcmp(&x, &y, sizeof(x)) == 0;
}

#endif /* PYSPY_TESTS_FORMAT_TESTUTIL_H */
