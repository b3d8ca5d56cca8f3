/*
 * capture_walk - the frame walkers (pyproc_sample()) over process images
 * built in memory (fakepy.h), one per layout family: 2.7, 3.6 - 3.10
 * (PyFrameObject chains), 3.11, 3.12 (stack chunks, cframe), 3.13 - 3.15
 * (from _Py_DebugOffsets; 3.15 ends at the base frame).  Checks names,
 * qualified names, files and lines; type identification by tp_name; deep
 * stacks; the caches when a code object (and its strings) is freed and
 * another allocated at the same address; and that a stack changing
 * between the reads of a tick is reported whole (one state or the other)
 * or as a partial sample, never as a mix.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "python/pyproc.h"
#include "fakepy.h"
#include "test.h"

#define GOT_MAX 160

struct got {
	struct pyproc *p;
	int samples;
	uint32_t flags;
	int32_t tid;
	int is_main;
	uint32_t n;
	char names[GOT_MAX][48];
	char quals[GOT_MAX][48];
	char files[GOT_MAX][48];
	int lines[GOT_MAX];
};

static void on_sample(void *ctx, const struct py_sample *s)
{
	struct got *g = ctx;
	uint32_t i;

	g->samples++;
	g->flags = s->flags;
	g->tid = s->tid;
	g->is_main = s->is_main;
	g->n = s->nframes;
	for (i = 0; i < s->nframes && i < GOT_MAX; i++) {
		const char *name, *qual, *file;
		int32_t first;
		pyproc_frame_info(g->p, &s->frames[i], &name, &qual, &file, &first);
		snprintf(g->names[i], sizeof(g->names[i]), "%s", name);
		snprintf(g->quals[i], sizeof(g->quals[i]), "%s", qual);
		snprintf(g->files[i], sizeof(g->files[i]), "%s", file);
		g->lines[i] = s->frames[i].line;
	}
}

static const struct pyproc_ops ops = { on_sample, NULL };

/* One tick; the number of samples reported. */
static int tick(struct pyproc *p, struct got *g)
{
	memset(g, 0, sizeof(*g));
	g->p = p;
	if (pyproc_sample(p, &ops, g) != 0)
		return -1;
	return g->samples;
}

static int has_qualname(const struct fakepy *fp)
{
	return fp->L->co_qualname >= 0;
}

/* Names, files and lines of a two-frame stack, with and without type symbols, twice (cache). */
static void test_names_and_lines_every_family(void)
{
	size_t i;
	int named, t;

	for (i = 0; i < FAKEPY_NFAMILIES; i++) {
		const struct fakepy_family *fam = &fakepy_families[i];
		for (named = 0; named < 2; named++) {
			struct fakepy fp;
			struct pyproc *p;
			struct got g;
			uint64_t m, f;

			if (fakepy_init(&fp, fam, named) < 0) {
				printf("#   %s: no layout\n", fam->name);
				CHECK(0);
				continue;
			}
			m = fakepy_code(&fp, "<module>", "<module>", "main.py");
			f = fakepy_code(&fp, "work", "Job.work", "lib/job.py");
			fakepy_push(&fp, m, 0);
			fakepy_push(&fp, f, 1);
			p = pyproc_new(&fp.rt, NULL);
			CHECK(p != NULL);
			for (t = 0; p && t < 3; t++) {
				if (tick(p, &g) != 1) {
					printf("#   %s (types %s) tick %d: %d samples\n", fam->name,
					       named ? "known" : "by name", t, g.samples);
					CHECK(0);
					break;
				}
				if (g.n != 2 || (g.flags & PSF_SF_PARTIAL)) {
					printf("#   %s (types %s) tick %d: %u frames, flags %#x\n", fam->name,
					       named ? "known" : "by name", t, g.n, g.flags);
					CHECK(0);
					break;
				}
				CHECK_STR(g.names[0], "work");
				CHECK_STR(g.quals[0], has_qualname(&fp) ? "Job.work" : "work");
				CHECK_STR(g.files[0], "lib/job.py");
				CHECK_EQ(g.lines[0], fam->line[1]);
				CHECK_STR(g.names[1], "<module>");
				CHECK_STR(g.files[1], "main.py");
				CHECK_EQ(g.lines[1], fam->line[0]);
				CHECK_EQ(g.tid, (int32_t)syscall(SYS_gettid));
				CHECK_EQ(g.is_main, getpid() == (pid_t)syscall(SYS_gettid));
				if (test_failed_) {
					printf("#   in %s (types %s), tick %d\n", fam->name,
					       named ? "known" : "by name", t);
					break;
				}
			}
			pyproc_free(p);
			fakepy_release(&fp);
		}
	}
}

/* 120 frames, every one named and in order. */
static void test_deep_stack_every_family(void)
{
	size_t i;

	for (i = 0; i < FAKEPY_NFAMILIES; i++) {
		const struct fakepy_family *fam = &fakepy_families[i];
		struct fakepy fp;
		struct pyproc *p;
		struct got g;
		int k, t;
		char name[16];

		if (fakepy_init(&fp, fam, 1) < 0) {
			CHECK(0);
			continue;
		}
		for (k = 0; k < 120; k++) {
			snprintf(name, sizeof(name), "f%d", k);
			fakepy_push(&fp, fakepy_code(&fp, name, name, "deep.py"), k & 1);
		}
		p = pyproc_new(&fp.rt, NULL);
		for (t = 0; p && t < 2; t++) {
			CHECK_EQ(tick(p, &g), 1);
			CHECK_EQ(g.n, 120);
			for (k = 0; k < 120 && (uint32_t)k < g.n; k++) {
				snprintf(name, sizeof(name), "f%d", 119 - k);
				CHECK_STR(g.names[k], name);
				CHECK_EQ(g.lines[k], fam->line[(119 - k) & 1]);
			}
		}
		if (test_failed_)
			printf("#   in %s\n", fam->name);
		pyproc_free(p);
		fakepy_release(&fp);
		if (test_failed_)
			break;
	}
}

/*
 * A code object is freed and another allocated at the same address, with
 * new strings at the addresses of the old ones (same lengths): the next
 * sample must name the new one.  CPython tells a reader so through
 * co_version (3.12 with _Py_next_func_version, 3.13), the interpreter's
 * code object generation (3.14+), or not at all (<= 3.11: fields and
 * string contents are compared).
 */
static void test_address_reuse_every_family(void)
{
	size_t i;

	for (i = 0; i < FAKEPY_NFAMILIES; i++) {
		const struct fakepy_family *fam = &fakepy_families[i];
		struct fakepy fp;
		struct pyproc *p;
		struct got g;
		uint64_t m, c, nm, fv = 0;
		const struct py_layout *L;

		if (fakepy_init(&fp, fam, 1) < 0) {
			CHECK(0);
			continue;
		}
		L = fp.L;
		if (L->minor == 12 && L->major == 3) {
			fv = fakepy_alloc(&fp, 8);
			fakepy_put32(&fp, fv, 1000);
			fp.rt.func_version_ptr = fv;
		}
		m = fakepy_code(&fp, "<module>", "<module>", "main.py");
		c = fakepy_code(&fp, "alpha", "alpha", "a.py");
		fakepy_push(&fp, m, 0);
		fakepy_push(&fp, c, 0);
		p = pyproc_new(&fp.rt, NULL);
		CHECK_EQ(tick(p, &g), 1);
		CHECK_EQ(g.n, 2);
		CHECK_STR(g.names[0], "alpha");
		CHECK_EQ(tick(p, &g), 1);
		CHECK_STR(g.names[0], "alpha");

		/* Free alpha; "gamma" takes its name's place, a new object its own. */
		nm = fakepy_get64(&fp, c + (uint64_t)L->co_name);
		fakepy_code_at(&fp, c, "gamma", "gamma", "b.py", 77777);
		{
			uint64_t fresh = fakepy_get64(&fp, c + (uint64_t)L->co_name);
			size_t sz = L->major == 2 ? (size_t)L->bytes_sval + 6 : L->str_ascii_size + 6;
			memcpy(fakepy_at(&fp, nm), fakepy_at(&fp, fresh), sz);
			fakepy_put64(&fp, c + (uint64_t)L->co_name, nm);
		}
		if (L->is_code_gen >= 0)
			fakepy_put64(&fp, fp.interp + (uint64_t)L->is_code_gen,
				     fakepy_get64(&fp, fp.interp + (uint64_t)L->is_code_gen) + 1);
		if (fv)
			fakepy_put32(&fp, fv, 1001);
		fakepy_frame_at(&fp, fp.leaf, c, 1);
		CHECK_EQ(tick(p, &g), 1);
		CHECK_EQ(g.n, 2);
		CHECK_STR(g.names[0], "gamma");
		CHECK_STR(g.files[0], "b.py");
		CHECK_EQ(g.lines[0], fam->line[1]);
		CHECK_STR(g.names[1], "<module>");
		if (test_failed_)
			printf("#   in %s\n", fam->name);
		pyproc_free(p);
		fakepy_release(&fp);
		if (test_failed_)
			break;
	}
}

/*
 * The stack changes while a tick reads it (between any two ranges copied):
 * state A is main -> f -> g; in state B, g returned and f's frame was
 * reused by a call of k from main (g's frame still holds g, pointing at
 * what is now k).  Whatever the interleaving, a sample is A, B, the state
 * between them (g returned: main -> f), or partial with no frames, never
 * a mix such as g -> k -> main.
 */
struct flip {
	struct fakepy *fp;
	uint64_t f, g, k;
	uint64_t ff, fg;             /* frame addresses */
	int state;
	uint64_t period;             /* flip before every period-th range copied */
};

static void flip_to(struct flip *x, int state)
{
	const struct py_layout *L = x->fp->L;

	if (state) {
		fakepy_frame_at(x->fp, x->ff, x->k, 1);
		fakepy_set_leaf(x->fp, x->ff);
		if (L->frames == PY_FRAMES_INTERP) {
			x->fp->chunk_top = x->fg;
			fakepy_put64(x->fp, x->fp->tstate + (uint64_t)L->ts_datastack_top, x->fg);
		}
	} else {
		fakepy_frame_at(x->fp, x->ff, x->f, 0);
		fakepy_set_leaf(x->fp, x->fg);
		if (L->frames == PY_FRAMES_INTERP) {
			x->fp->chunk_top = x->fg + L->if_size + 16;
			fakepy_put64(x->fp, x->fp->tstate + (uint64_t)L->ts_datastack_top,
				     x->fp->chunk_top);
		}
	}
	x->state = state;
}

static void on_read(void *arg, uint64_t call)
{
	struct flip *x = arg;

	if (call % x->period == 0)
		flip_to(x, !x->state);
}

static void test_torn_stack_every_family(void)
{
	size_t i;

	for (i = 0; i < FAKEPY_NFAMILIES; i++) {
		const struct fakepy_family *fam = &fakepy_families[i];
		struct fakepy fp;
		struct pyproc *p;
		struct pyproc_stats st;
		struct got g;
		struct flip x;
		uint64_t m;
		int t, whole = 0, partial = 0, mixed = 0;

		if (fakepy_init(&fp, fam, 1) < 0) {
			CHECK(0);
			continue;
		}
		memset(&x, 0, sizeof(x));
		x.fp = &fp;
		m = fakepy_code(&fp, "<module>", "<module>", "main.py");
		x.f = fakepy_code(&fp, "f", "f", "t.py");
		x.g = fakepy_code(&fp, "g", "g", "t.py");
		x.k = fakepy_code(&fp, "k", "k", "t.py");
		fakepy_push(&fp, m, 0);
		x.ff = fakepy_push(&fp, x.f, 0);
		x.fg = fakepy_push(&fp, x.g, 1);
		p = pyproc_new(&fp.rt, NULL);
		/* Learn every code object first (as a program's first ticks would). */
		flip_to(&x, 1);
		tick(p, &g);
		flip_to(&x, 0);
		tick(p, &g);
		fp.img.on_read = on_read;
		fp.img.arg = &x;
		for (t = 0; t < 400; t++) {
			x.period = 1 + (uint64_t)(t % 7);
			if (tick(p, &g) != 1) {
				CHECK(0);
				break;
			}
			if (g.n == 0 && (g.flags & PSF_SF_PARTIAL)) {
				partial++;
			} else if ((g.n == 3 && strcmp(g.names[0], "g") == 0 &&
				    strcmp(g.names[1], "f") == 0 && strcmp(g.names[2], "<module>") == 0 &&
				    g.lines[0] == fam->line[1] && g.lines[1] == fam->line[0]) ||
				   (g.n == 2 && strcmp(g.names[0], "k") == 0 &&
				    strcmp(g.names[1], "<module>") == 0 && g.lines[0] == fam->line[1]) ||
				   (g.n == 2 && strcmp(g.names[0], "f") == 0 &&
				    strcmp(g.names[1], "<module>") == 0 && g.lines[0] == fam->line[0])) {
				whole++;
			} else {
				if (!mixed)
					printf("#   %s tick %d: %u frames %s:%d < %s:%d < %s, flags %#x\n",
					       fam->name, t, g.n, g.n > 0 ? g.names[0] : "-",
					       g.n > 0 ? g.lines[0] : 0, g.n > 1 ? g.names[1] : "-",
					       g.n > 1 ? g.lines[1] : 0, g.n > 2 ? g.names[2] : "-", g.flags);
				mixed++;
			}
		}
		fp.img.on_read = NULL;
		pyproc_stats(p, &st);
		CHECK_EQ(mixed, 0);
		/* The changes were seen: walks were retried. */
		CHECK(st.torn_retries > 0);
		printf("#   %s: %d whole, %d partial, %d mixed; %llu retries\n", fam->name, whole,
		       partial, mixed, (unsigned long long)st.torn_retries);
		pyproc_free(p);
		fakepy_release(&fp);
	}
}

/* Garbage where the thread list should be: counted errors, no sample, no crash. */
static void test_bad_thread_list(void)
{
	size_t i;

	for (i = 0; i < FAKEPY_NFAMILIES; i++) {
		const struct fakepy_family *fam = &fakepy_families[i];
		struct fakepy fp;
		struct pyproc *p;
		struct got g;
		uint64_t errs[PSF_ERRK_COUNT_];

		if (fakepy_init(&fp, fam, 1) < 0) {
			CHECK(0);
			continue;
		}
		fakepy_push(&fp, fakepy_code(&fp, "m", "m", "m.py"), 0);
		/* The thread's interpreter pointer does not point back. */
		fakepy_put64(&fp, fp.tstate + (uint64_t)fp.L->ts_interp, fp.interp + 8);
		p = pyproc_new(&fp.rt, NULL);
		CHECK_EQ(tick(p, &g), 0);
		pyproc_take_errors(p, errs);
		CHECK(errs[PSF_ERRK_THREAD_LIST] > 0);
		/* An interpreter pointer outside the image. */
		fakepy_put64(&fp, fp.rt.interp_head_ptr, 0x700000000000ull);
		CHECK_EQ(tick(p, &g), 0);
		pyproc_take_errors(p, errs);
		CHECK(errs[PSF_ERRK_THREAD_LIST] > 0);
		if (test_failed_)
			printf("#   in %s\n", fam->name);
		pyproc_free(p);
		fakepy_release(&fp);
		if (test_failed_)
			break;
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(test_names_and_lines_every_family);
	RUN(test_deep_stack_every_family);
	RUN(test_address_reuse_every_family);
	RUN(test_torn_stack_every_family);
	RUN(test_bad_thread_list);
	return test_status();
}
