/*
 * capture_stats - a short example of the capture file API (libpyspyfmt).
 *
 * usage: capture_stats FILE
 *
 * Reads a capture written by pyspy-capture and prints what it holds: the
 * header, how many records of each type, the time span of the samples and
 * the number of samples per thread.  Build: `make examples`; it uses only
 * format/pyspy_format.h, like any outside program would.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyspy_format.h"

/* Samples counted per thread id; thread ids are 1, 2, 3... in file order. */
struct thread_count {
	uint64_t *n;
	uint32_t cap;
};

static int count_sample(struct thread_count *tc, uint32_t thread)
{
	if (thread >= tc->cap) {
		uint32_t cap = tc->cap ? tc->cap : 16;
		uint64_t *n;

		while (cap <= thread)
			cap *= 2;
		n = realloc(tc->n, cap * sizeof(*n));
		if (!n)
			return -1;
		memset(n + tc->cap, 0, (cap - tc->cap) * sizeof(*n));
		tc->n = n;
		tc->cap = cap;
	}
	tc->n[thread]++;
	return 0;
}

int main(int argc, char **argv)
{
	struct psf_reader *r = NULL;
	const struct psf_meta *m;
	struct psf_record rec;
	struct thread_count tc = { NULL, 0 };
	uint64_t by_type[256] = { 0 };
	uint64_t first_ns = UINT64_MAX, last_ns = 0;
	uint32_t t;
	int fd, ret, i, status = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: capture_stats FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "capture_stats: cannot open '%s': %s\n", argv[1], strerror(errno));
		return 1;
	}

	/*
	 * Opening reads and checks the header.  A file from a newer pyspy
	 * still gives a reader, so that its version can be reported.
	 */
	ret = psf_reader_open_fd(&r, fd);
	if (ret == PSF_E_NEWER) {
		m = psf_reader_meta(r);
		fprintf(stderr, "capture_stats: '%s' needs a newer reader (format %u.%u)\n",
			argv[1], m->major, m->minor);
		goto out;
	}
	if (ret < 0) {
		fprintf(stderr, "capture_stats: '%s': %s\n", argv[1], psf_strerror(ret));
		goto out;
	}
	m = psf_reader_meta(r);
	printf("format %u.%u, host %s, pid %d, %u Hz, command: %s\n", m->major, m->minor,
	       m->hostname ? m->hostname : "?", m->pid, m->rate_hz,
	       m->cmdline ? m->cmdline : "?");

	/*
	 * Records come one at a time; sample blocks are expanded into one
	 * PSF_REC_SAMPLE per sample, with times in ns since the capture start.
	 * Memory stays bounded by one chunk, whatever the file size.
	 */
	while ((ret = psf_reader_next(r, &rec)) > 0) {
		by_type[rec.type]++;
		if (rec.type == PSF_REC_SAMPLE) {
			if (rec.u.sample.t_ns < first_ns)
				first_ns = rec.u.sample.t_ns;
			if (rec.u.sample.t_ns > last_ns)
				last_ns = rec.u.sample.t_ns;
			if (count_sample(&tc, rec.u.sample.thread) < 0) {
				fprintf(stderr, "capture_stats: out of memory\n");
				goto out;
			}
		}
	}

	for (i = 0; i < 256; i++)
		if (by_type[i])
			printf("%-12s %" PRIu64 "\n", psf_rec_name(i), by_type[i]);
	if (by_type[PSF_REC_SAMPLE])
		printf("samples span %.3f s\n", (double)(last_ns - first_ns) / 1e9);
	for (t = 1; t < tc.cap; t++)
		if (tc.n[t])
			printf("thread %" PRIu32 ": %" PRIu64 " samples\n", t, tc.n[t]);

	/*
	 * The end: 0 is a clean end (complete if a trailer was read); an
	 * error means the records so far are good and the rest is lost,
	 * psf_reader_chunk() says where.
	 */
	if (ret < 0) {
		fprintf(stderr, "capture_stats: '%s': chunk %" PRIu32 ": %s\n", argv[1],
			psf_reader_chunk(r), psf_strerror(ret));
		goto out;
	}
	printf("%s\n", psf_reader_complete(r) ? "complete" : "incomplete (no trailer)");
	status = 0;
out:
	free(tc.n);
	psf_reader_free(r);
	close(fd);
	return status;
}
