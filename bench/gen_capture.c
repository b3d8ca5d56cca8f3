/*
 * gen_capture - write a synthetic capture file for benchmarks.
 *
 * usage: gen_capture [options] -o FILE
 *   --samples N          samples to write (default 100000)
 *   --threads T          threads sampled at every tick (default 1)
 *   --depth D            frames per stack (default 30)
 *   --distinct-stacks K  distinct leaf stacks (default 5)
 *   --rate HZ            sampling rate (default 1000)
 *   --jitter-us J        mode of the tick lateness in us (default 45; 0 = none)
 *   --persist P          probability a thread keeps its previous stack (default 0)
 *   --seed S             PRNG seed (default 1)
 *   --level L            zstd level (default: the library's)
 *   --unit-ns U          time unit (default: clamp(1e9 / rate / 100, 1 us, 1 ms))
 *   --chunk-bytes B      writer chunk_bytes (default: the library's)
 *   --no-compress 1      store chunks uncompressed (to study the raw encoding)
 *   -o FILE              output ('-' = stdout)
 * Prints one summary line to stderr:
 *   samples=N ticks=N bytes=N bytes_per_sample=X seconds=X
 *
 * The model follows what pyspy-capture sees on a real VM:
 *  - ticks every 1/rate s; each runs late by lo + Gamma(3, theta) us with
 *    lo = 0.44 J and mode J (J = 45 us gives 20-100 us, mode ~45 us, as
 *    measured at 1 kHz on the project's VM);
 *  - every thread is sampled at each tick, ~8 us apart (the cost of one
 *    stack read), with +-2 us of noise;
 *  - each thread draws its stack from K leaf stacks with a Zipf(1.0)
 *    distribution (ranks shuffled per thread): a few hot stacks, a long
 *    tail.  The K stacks share a common root path and branch in the
 *    deepest levels; the last level branches on the line number only, so
 *    K = 5 is "one hot function on a handful of lines";
 *  - with T > 1 one thread holds the GIL (keeping it with probability 0.8
 *    per tick) and the others are idle 70 % of the time;
 *  - a LAG record every second and a TRAILER at the end, like the capture.
 * Uses only the public API (format/pyspy_format.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pyspy_format.h"

static const char *prog = "gen_capture";

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

/* Uniform in (0, 1]. */
static double rng_unit(struct rng *r)
{
	return ((double)(rng_next(r) >> 11) + 1.0) / 9007199254740992.0;
}

struct opts {
	uint64_t samples;
	uint32_t threads, depth, distinct, rate;
	double jitter_us, persist;
	uint64_t seed;
	int level;
	uint32_t unit_ns, chunk_bytes;
	int no_compress;
	const char *out;
};

struct gen {
	struct opts o;
	struct psf_writer *w;
	struct rng rng;
	uint32_t branch, levels;     /* K leaves: `levels` deepest levels branch `branch` ways */
	uint32_t *leaf_stack;        /* stack id per leaf, 0 = not defined yet */
	double *zipf_cdf;            /* K entries */
	uint32_t *perm;              /* per thread: K ranks -> leaf */
	uint32_t *thread_id;
	uint32_t *cur_leaf;          /* per thread: current leaf */
	uint32_t gil;                /* thread holding the GIL */
};

static void die(const char *msg, int err)
{
	fprintf(stderr, "%s: %s%s%s\n", prog, msg, err ? ": " : "", err ? psf_strerror(err) : "");
	exit(1);
}

static void check(int ret, const char *what)
{
	if (ret < 0)
		die(what, ret);
}

static uint32_t str_id(struct gen *g, const char *s)
{
	uint32_t id;

	check(psf_writer_string(g->w, s, strlen(s), &id), "string");
	return id;
}

static uint32_t python_frame(struct gen *g, const char *file, const char *func, int first)
{
	struct psf_frame f;
	uint32_t id;

	memset(&f, 0, sizeof(f));
	f.kind = PSF_FRAME_PYTHON;
	f.name = str_id(g, func);
	f.qualname = f.name;
	f.file = str_id(g, file);
	f.firstlineno = first;
	check(psf_writer_frame(g->w, &f, &id), "frame");
	return id;
}

/* Define (once) and return the stack id of leaf k, root first. */
static uint32_t leaf_stack(struct gen *g, uint32_t k)
{
	uint32_t parent = 0, level, id = 0;
	char file[96], func[64];

	if (g->leaf_stack[k])
		return g->leaf_stack[k];
	for (level = 0; level < g->o.depth; level++) {
		uint32_t from_leaf = g->o.depth - 1 - level; /* 0 = leaf level */
		uint32_t digit = 0, frame, p = 1, i;
		int line;

		if (from_leaf < g->levels) {
			for (i = 0; i < from_leaf; i++)
				p *= g->branch;
			digit = (k / p) % g->branch;
		}
		/* Branches above the leaf pick another function, at the leaf a line. */
		if (from_leaf > 0 && from_leaf < g->levels) {
			snprintf(file, sizeof(file), "/srv/app/lib/pkg%u/mod%u.py", level % 7, digit);
			snprintf(func, sizeof(func), "handler_%u_%u", level, digit);
		} else {
			snprintf(file, sizeof(file), "/srv/app/lib/pkg%u/core.py", level % 7);
			snprintf(func, sizeof(func), "step_%u", level);
		}
		frame = python_frame(g, file, func, (int)(10 * level + 1));
		line = (int)(10 * level + 3) + (from_leaf == 0 ? (int)digit * 2 : 0);
		check(psf_writer_stack(g->w, parent, frame, line, &id), "stack");
		parent = id;
	}
	g->leaf_stack[k] = id;
	return id;
}

static uint32_t draw_rank(struct gen *g)
{
	double u = rng_unit(&g->rng);
	uint32_t lo = 0, hi = g->o.distinct - 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (g->zipf_cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Lateness of a tick in ns: lo + Gamma(3, theta), mode = jitter. */
static uint64_t draw_late(struct gen *g)
{
	double j = g->o.jitter_us, lo = 0.44 * j, theta = (j - lo) / 2.0;
	double x;

	if (j <= 0)
		return 0;
	x = -theta * log(rng_unit(&g->rng) * rng_unit(&g->rng) * rng_unit(&g->rng));
	return (uint64_t)((lo + x) * 1000.0);
}

static void setup(struct gen *g)
{
	uint32_t k = g->o.distinct, t, i;
	double sum = 0;

	/* Smallest branching with branch^levels >= K and branch <= 16. */
	g->levels = 1;
	g->branch = k;
	while (g->branch > 16 && g->levels < g->o.depth) {
		g->levels++;
		g->branch = (uint32_t)ceil(pow((double)k, 1.0 / g->levels));
	}
	g->leaf_stack = calloc(k, sizeof(*g->leaf_stack));
	g->zipf_cdf = calloc(k, sizeof(*g->zipf_cdf));
	g->perm = calloc((size_t)k * g->o.threads, sizeof(*g->perm));
	g->thread_id = calloc(g->o.threads, sizeof(*g->thread_id));
	g->cur_leaf = calloc(g->o.threads, sizeof(*g->cur_leaf));
	if (!g->leaf_stack || !g->zipf_cdf || !g->perm || !g->thread_id || !g->cur_leaf)
		die("out of memory", 0);
	for (i = 0; i < k; i++)
		sum += 1.0 / (i + 1);
	for (i = 0; i < k; i++)
		g->zipf_cdf[i] = (i ? g->zipf_cdf[i - 1] : 0) + 1.0 / (i + 1) / sum;
	g->zipf_cdf[k - 1] = 1.0;
	for (t = 0; t < g->o.threads; t++) {
		uint32_t *p = g->perm + (size_t)t * k;

		for (i = 0; i < k; i++)
			p[i] = i;
		for (i = k - 1; i > 0; i--) {
			uint32_t j = (uint32_t)(rng_next(&g->rng) % (i + 1)), x = p[i];

			p[i] = p[j];
			p[j] = x;
		}
	}
}

static void define_threads(struct gen *g)
{
	struct psf_process p;
	struct psf_thread th;
	uint32_t proc, t;
	char name[32];

	memset(&p, 0, sizeof(p));
	p.pid = 4242;
	p.ppid = 1;
	p.cmdline = str_id(g, "python3 /srv/app/main.py --serve");
	p.python_version = str_id(g, "3.12.1");
	p.exe = str_id(g, "/usr/bin/python3.12");
	check(psf_writer_process(g->w, &p, &proc), "process");
	for (t = 0; t < g->o.threads; t++) {
		memset(&th, 0, sizeof(th));
		th.process = proc;
		th.tid = (int32_t)(4242 + t);
		th.py_thread_id = 0x7f0000001000ull + 0x800000ull * t;
		snprintf(name, sizeof(name), t ? "Thread-%u" : "MainThread", t);
		th.name = str_id(g, name);
		th.flags = t ? 0 : PSF_TF_MAIN;
		check(psf_writer_thread(g->w, &th, &g->thread_id[t]), "thread");
	}
}

static void run(struct gen *g)
{
	uint64_t period = 1000000000ull / g->o.rate, written = 0, tick = 0;
	uint64_t lag_ticks = 0, lag_max = 0, lag_sum = 0, next_lag = 1000000000ull;
	uint64_t sched = 0, t = 0;
	struct psf_trailer tr;
	uint32_t i;

	while (written < g->o.samples) {
		uint64_t late = draw_late(g);

		sched = (tick + 1) * period;
		t = sched + late;
		check(psf_writer_maybe_flush(g->w, t), "flush");
		check(psf_writer_tick(g->w, t, sched), "tick");
		if (g->o.threads > 1 && rng_unit(&g->rng) > 0.8)
			g->gil = (uint32_t)(rng_next(&g->rng) % g->o.threads);
		for (i = 0; i < g->o.threads && written < g->o.samples; i++) {
			struct psf_sample s;
			uint32_t k = g->cur_leaf[i];
			double noise = (double)(rng_next(&g->rng) % 4001) - 2000.0;

			if (written < g->o.threads || rng_unit(&g->rng) >= g->o.persist) {
				k = g->perm[(size_t)i * g->o.distinct + draw_rank(g)];
				g->cur_leaf[i] = k;
			}
			memset(&s, 0, sizeof(s));
			s.t_ns = t + (i ? (uint64_t)(8000.0 * i + noise) : 0);
			s.thread = g->thread_id[i];
			s.stack = leaf_stack(g, k);
			if (i == g->gil)
				s.flags = PSF_SF_GIL;
			else if (rng_unit(&g->rng) < 0.7)
				s.flags = PSF_SF_IDLE;
			check(psf_writer_sample(g->w, &s), "sample");
			written++;
		}
		lag_ticks++;
		lag_sum += late;
		if (late > lag_max)
			lag_max = late;
		if (t >= next_lag) {
			struct psf_lag l = { t, lag_ticks, 0, lag_max, lag_sum };

			check(psf_writer_lag(g->w, &l), "lag");
			lag_ticks = lag_max = lag_sum = 0;
			next_lag += 1000000000ull;
		}
		tick++;
	}
	memset(&tr, 0, sizeof(tr));
	tr.end_ns = t + period;
	tr.samples = written;
	tr.ticks = tick;
	tr.reason = PSF_STOP_DURATION;
	check(psf_writer_close(g->w, &tr), "close");
	fprintf(stderr, "samples=%" PRIu64 " ticks=%" PRIu64 " bytes=%" PRIu64
		" bytes_per_sample=%.3f", written, tick, psf_writer_bytes(g->w),
		(double)psf_writer_bytes(g->w) / (double)written);
}

static uint64_t num_arg(const char *opt, const char *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || end == v || *end) {
		fprintf(stderr, "%s: invalid number '%s' for %s\n", prog, v, opt);
		exit(2);
	}
	return x;
}

int main(int argc, char **argv)
{
	struct gen g;
	struct psf_meta m;
	struct psf_writer_opts wo;
	struct timespec t0, t1;
	int i, fd;

	memset(&g, 0, sizeof(g));
	g.o.samples = 100000;
	g.o.threads = 1;
	g.o.depth = 30;
	g.o.distinct = 5;
	g.o.rate = 1000;
	g.o.jitter_us = 45;
	g.o.seed = 1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v) {
			fprintf(stderr, "%s: '%s' needs a value (or is unknown)\n", prog, a);
			return 2;
		}
		i++;
		if (strcmp(a, "--samples") == 0)
			g.o.samples = num_arg(a, v);
		else if (strcmp(a, "--threads") == 0)
			g.o.threads = (uint32_t)num_arg(a, v);
		else if (strcmp(a, "--depth") == 0)
			g.o.depth = (uint32_t)num_arg(a, v);
		else if (strcmp(a, "--distinct-stacks") == 0)
			g.o.distinct = (uint32_t)num_arg(a, v);
		else if (strcmp(a, "--rate") == 0)
			g.o.rate = (uint32_t)num_arg(a, v);
		else if (strcmp(a, "--jitter-us") == 0)
			g.o.jitter_us = (double)num_arg(a, v);
		else if (strcmp(a, "--persist") == 0)
			g.o.persist = atof(v);
		else if (strcmp(a, "--seed") == 0)
			g.o.seed = num_arg(a, v);
		else if (strcmp(a, "--level") == 0)
			g.o.level = atoi(v);
		else if (strcmp(a, "--unit-ns") == 0)
			g.o.unit_ns = (uint32_t)num_arg(a, v);
		else if (strcmp(a, "--chunk-bytes") == 0)
			g.o.chunk_bytes = (uint32_t)num_arg(a, v);
		else if (strcmp(a, "--no-compress") == 0)
			g.o.no_compress = (int)num_arg(a, v);
		else if (strcmp(a, "-o") == 0)
			g.o.out = v;
		else {
			fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
			return 2;
		}
	}
	if (!g.o.out || g.o.threads == 0 || g.o.depth == 0 || g.o.distinct == 0 || g.o.rate == 0) {
		fprintf(stderr, "usage: %s [--samples N] [--threads T] [--depth D] "
			"[--distinct-stacks K] [--rate HZ] [--jitter-us J] -o FILE\n", prog);
		return 2;
	}
	g.rng.s = g.o.seed * 0x9e3779b97f4a7c15ull + 1;
	if (strcmp(g.o.out, "-") == 0) {
		fd = 1;
	} else {
		fd = open(g.o.out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "%s: cannot create '%s': %s\n", prog, g.o.out, strerror(errno));
			return 1;
		}
	}
	memset(&m, 0, sizeof(m));
	memcpy(m.capture_id, "gen_capture\0\0\0\0\1", 16);
	m.hostname = "bench-host";
	m.kernel = "Linux 6.1.0 #1 SMP x86_64";
	m.tool_version = "gen_capture";
	m.rate_hz = g.o.rate;
	if (g.o.unit_ns) {
		m.time_unit_ns = g.o.unit_ns;
	} else {
		uint64_t u = 1000000000ull / g.o.rate / 100;

		m.time_unit_ns = (uint32_t)(u < 1000 ? 1000 : u > 1000000 ? 1000000 : u);
	}
	m.pid = 4242;
	m.cmdline = "python3 /srv/app/main.py --serve";
	m.python_version = "3.12.1";
	memset(&wo, 0, sizeof(wo));
	wo.zstd_level = g.o.level;
	wo.chunk_bytes = g.o.chunk_bytes;
	wo.no_compress = g.o.no_compress;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	check(psf_writer_open(&g.w, fd, &m, &wo), "open");
	setup(&g);
	define_threads(&g);
	run(&g);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, " seconds=%.3f\n",
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	psf_writer_free(g.w);
	free(g.leaf_stack);
	free(g.zipf_cdf);
	free(g.perm);
	free(g.thread_id);
	free(g.cur_leaf);
	if (fd != 1 && close(fd) < 0) {
		fprintf(stderr, "%s: cannot write '%s': %s\n", prog, g.o.out, strerror(errno));
		return 1;
	}
	return 0;
}
