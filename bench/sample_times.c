/*
 * sample_times - what the benchmark harness needs from a capture file.
 *
 * usage: sample_times [--bucket-us U] FILE
 * Prints (stdout), one item per line:
 *   start_mono_ns N            CLOCK_MONOTONIC at capture start
 *   rate_hz N                  requested rate
 *   samples N                  samples read (partial ones included)
 *   partial N                  samples flagged partial (torn or incomplete)
 *   empty N                    samples with an empty stack
 *   threads N                  threads with at least one sample
 *   thread TID SAMPLES FIRST_NS LAST_NS   per thread (ns since start)
 *   depth_max N / depth_median N          frames per non-empty sample
 *   trailer samples=N ticks=N missed=N errors=N partial=N   (when present)
 *   bucket T_US COUNT          samples whose time falls in [T, T + U) us
 *                              since start (non-empty buckets, in order;
 *                              default U = 1000)
 * Exit status 1 when the file cannot be read to its end (what was read is
 * still printed).  Uses only the public API (format/pyspy_format.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyspy_format.h"

struct vec {
	uint32_t *v;
	size_t n;
};

static void vec_set(struct vec *a, uint32_t i, uint32_t x)
{
	if (i >= a->n) {
		size_t n = a->n ? a->n : 1024;
		while (n <= i)
			n *= 2;
		a->v = realloc(a->v, n * sizeof(*a->v));
		if (!a->v) {
			perror("sample_times");
			exit(1);
		}
		memset(a->v + a->n, 0, (n - a->n) * sizeof(*a->v));
		a->n = n;
	}
	a->v[i] = x;
}

static uint32_t vec_get(const struct vec *a, uint32_t i)
{
	return i < a->n ? a->v[i] : 0;
}

struct thr {
	uint32_t id;
	int32_t tid;
	uint64_t n, first, last;
};

int main(int argc, char **argv)
{
	uint64_t bucket_ns = 1000000, cur_bucket = UINT64_MAX, cur_count = 0;
	uint64_t samples = 0, partial = 0, empty = 0;
	struct vec depth = { 0 }, hist = { 0 };
	struct thr *thr = NULL;
	size_t nthr = 0, i;
	struct psf_reader *r = NULL;
	struct psf_record rec;
	const struct psf_meta *m;
	int fd, rc, have_trailer = 0, argi = 1;
	struct psf_trailer tr;
	uint64_t deepest = 0, tot = 0, half;

	if (argc == 4 && strcmp(argv[1], "--bucket-us") == 0) {
		bucket_ns = strtoull(argv[2], NULL, 10) * 1000;
		argi = 3;
	}
	if (argc != argi + 1 || bucket_ns == 0) {
		fprintf(stderr, "usage: sample_times [--bucket-us U] FILE\n");
		return 2;
	}
	fd = open(argv[argi], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "sample_times: %s: %s\n", argv[argi], strerror(errno));
		return 1;
	}
	rc = psf_reader_open_fd(&r, fd);
	if (rc < 0) {
		fprintf(stderr, "sample_times: %s: %s\n", argv[argi], psf_strerror(rc));
		return 1;
	}
	m = psf_reader_meta(r);
	printf("start_mono_ns %" PRIu64 "\nrate_hz %" PRIu32 "\n", m->start_mono_ns, m->rate_hz);
	while ((rc = psf_reader_next(r, &rec)) == 1) {
		if (rec.type == PSF_REC_STACK) {
			vec_set(&depth, rec.u.stack.id, vec_get(&depth, rec.u.stack.parent) + 1);
		} else if (rec.type == PSF_REC_THREAD) {
			for (i = 0; i < nthr && thr[i].id != rec.u.thread.id; i++)
				;
			if (i == nthr) {
				thr = realloc(thr, (nthr + 1) * sizeof(*thr));
				if (!thr) {
					perror("sample_times");
					return 1;
				}
				memset(&thr[nthr], 0, sizeof(*thr));
				thr[nthr].id = rec.u.thread.id;
				nthr++;
			}
			thr[i].tid = rec.u.thread.tid;
		} else if (rec.type == PSF_REC_SAMPLE) {
			const struct psf_sample *s = &rec.u.sample;
			uint64_t b = s->t_ns / bucket_ns;
			uint32_t d = s->stack ? vec_get(&depth, s->stack) : 0;

			samples++;
			if (s->flags & PSF_SF_PARTIAL)
				partial++;
			if (!s->stack)
				empty++;
			else
				vec_set(&hist, d, vec_get(&hist, d) + 1);
			for (i = 0; i < nthr && thr[i].id != s->thread; i++)
				;
			if (i < nthr) {
				if (!thr[i].n)
					thr[i].first = s->t_ns;
				thr[i].n++;
				thr[i].last = s->t_ns;
			}
			if (b != cur_bucket) {
				if (cur_count)
					printf("bucket %" PRIu64 " %" PRIu64 "\n",
					       cur_bucket * bucket_ns / 1000, cur_count);
				cur_bucket = b;
				cur_count = 0;
			}
			cur_count++;
		} else if (rec.type == PSF_REC_TRAILER) {
			tr = rec.u.trailer;
			have_trailer = 1;
		}
	}
	if (cur_count)
		printf("bucket %" PRIu64 " %" PRIu64 "\n", cur_bucket * bucket_ns / 1000, cur_count);
	printf("samples %" PRIu64 "\npartial %" PRIu64 "\nempty %" PRIu64 "\n", samples, partial,
	       empty);
	{
		size_t used = 0;
		for (i = 0; i < nthr; i++)
			used += thr[i].n > 0;
		printf("threads %zu\n", used);
	}
	for (i = 0; i < nthr; i++)
		if (thr[i].n)
			printf("thread %" PRId32 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", thr[i].tid,
			       thr[i].n, thr[i].first, thr[i].last);
	for (i = 0; i < hist.n; i++) {
		tot += hist.v[i];
		if (hist.v[i])
			deepest = i;
	}
	half = (tot + 1) / 2;
	for (i = 0, tot = 0; i < hist.n; i++) {
		tot += hist.v[i];
		if (half && tot >= half) {
			printf("depth_median %zu\n", i);
			break;
		}
	}
	printf("depth_max %" PRIu64 "\n", deepest);
	if (have_trailer)
		printf("trailer samples=%" PRIu64 " ticks=%" PRIu64 " missed=%" PRIu64
		       " errors=%" PRIu64 " partial=%" PRIu64 "\n",
		       tr.samples, tr.ticks, tr.missed, tr.errors, tr.partial);
	if (rc < 0)
		fprintf(stderr, "sample_times: %s: %s\n", argv[argi], psf_strerror(rc));
	psf_reader_free(r);
	close(fd);
	free(depth.v);
	free(hist.v);
	free(thr);
	return rc < 0;
}
