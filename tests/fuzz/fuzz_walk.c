/*
 * fuzz_walk - libFuzzer target: the frame walkers (pyproc_sample()) over
 * hostile process images.  Each input picks a layout family (2.7, 3.6 -
 * 3.10, 3.11, 3.12, 3.13 - 3.15 from _Py_DebugOffsets) and builds a valid
 * image of one thread with a few frames (tests/unit/fakepy.h), then
 * overwrites it with the input's patches before and between four ticks,
 * and while a tick reads (between the ranges one read copies, as a
 * running target would).  Random bytes in the right places reach every
 * check of the walkers, caches, string decoding, line tables, thread list
 * and torn-read verification; the sanitizers and the invariants below
 * catch what slips through.
 *
 * Input:  byte 0 family, byte 1 options (bit 0: type objects found by
 * tp_name, bits 1-3: frames - 1, bit 4: a capture writer interns
 * strings and frames), then patches:
 *     u8 when (bits 0-1 tick; bit 2: during that tick's reads, at the
 *        range counted by the next byte), [u8 range], u16 offset (into the
 *        used image, modulo its size), u8 length (<= 32), bytes
 * Build and run: `make fuzz`, then tests/fuzz/run.sh (seed corpus in
 * tests/fuzz/corpus/walk/).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "python/pyproc.h"
#include "fakepy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)
#define MAX_PATCHES 256
#define TICKS 4

struct patch {
	uint8_t tick, during, range, len;
	uint32_t off;
	const uint8_t *bytes;
};

struct run {
	struct fakepy fp;
	struct pyproc *p;
	struct patch pt[MAX_PATCHES];
	unsigned npt;
	unsigned cur_tick;
	uint64_t samples;
};

static void apply(struct run *r, const struct patch *x)
{
	size_t used = r->fp.used, off = x->off % used, n = x->len;

	if (n > used - off)
		n = used - off;
	memcpy(r->fp.mem + off, x->bytes, n);
}

static void on_read(void *arg, uint64_t call)
{
	struct run *r = arg;
	unsigned i;

	for (i = 0; i < r->npt; i++)
		if (r->pt[i].during && r->pt[i].tick == r->cur_tick && r->pt[i].range == (call & 0xff))
			apply(r, &r->pt[i]);
}

static void on_sample(void *ctx, const struct py_sample *s)
{
	struct run *r = ctx;
	uint32_t i;

	r->samples++;
	ASSERT(s->nframes <= PYPROC_MAX_DEPTH);
	ASSERT(s->nframes == 0 || s->frames);
	for (i = 0; i < s->nframes; i++) {
		const char *name, *qual, *file;
		int32_t first;
		uint64_t fa, ca;
		pyproc_frame_info(r->p, &s->frames[i], &name, &qual, &file, &first);
		ASSERT(name && qual && file);
		/* Touch the text: ASan checks it is inside the pool. */
		ASSERT(strlen(name) + strlen(qual) + strlen(file) < (1u << 20));
		ASSERT(pyproc_frame_where(r->p, i, &fa, &ca) == 0);
	}
	if (s->name)
		ASSERT(strlen(s->name) < 4096);
}

static void on_end(void *ctx, uint32_t slot)
{
	(void)ctx;
	(void)slot;
}

static const struct pyproc_ops ops = { on_sample, on_end };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	const struct fakepy_family *fam;
	struct psf_writer *w = NULL;
	size_t i = 2;
	unsigned k, nframes;
	uint64_t codes[4];

	if (size < 2)
		return 0;
	memset(&r, 0, sizeof(r));
	fam = &fakepy_families[data[0] % FAKEPY_NFAMILIES];
	if (fakepy_init(&r.fp, fam, !(data[1] & 1)) < 0)
		return 0;
	codes[0] = fakepy_code(&r.fp, "<module>", "<module>", "main.py");
	codes[1] = fakepy_code(&r.fp, "run", "Server.run", "server.py");
	codes[2] = fakepy_code(&r.fp, "_bootstrap", "Thread._bootstrap", "threading.py");
	codes[3] = fakepy_code(&r.fp, "work", "work", "w.py");
	nframes = 1 + ((data[1] >> 1) & 7);
	for (k = 0; k < nframes; k++)
		fakepy_push(&r.fp, codes[k & 3], (int)(k & 1));
	while (i + 4 <= size && r.npt < MAX_PATCHES) {
		struct patch *x = &r.pt[r.npt];
		x->tick = data[i] & 3;
		x->during = (data[i] >> 2) & 1;
		i++;
		if (x->during)
			x->range = data[i++];
		if (i + 3 > size)
			break;
		x->off = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8;
		x->len = data[i + 2] & 31;
		i += 3;
		if (x->len > size - i)
			x->len = (uint8_t)(size - i);
		x->bytes = data + i;
		i += x->len;
		r.npt++;
	}
	if (data[1] & 16) {
		static int devnull = -1;
		struct psf_meta meta;
		if (devnull < 0)
			devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		memset(&meta, 0, sizeof(meta));
		meta.rate_hz = 100;
		if (psf_writer_open(&w, devnull, &meta, NULL) < 0)
			w = NULL;
	}
	r.p = pyproc_new(&r.fp.rt, w);
	if (!r.p)
		goto out;
	r.fp.img.on_read = on_read;
	r.fp.img.arg = &r;
	for (r.cur_tick = 0; r.cur_tick < TICKS; r.cur_tick++) {
		int ret;
		for (k = 0; k < r.npt; k++)
			if (!r.pt[k].during && r.pt[k].tick == r.cur_tick)
				apply(&r, &r.pt[k]);
		ret = pyproc_sample(r.p, &ops, &r);
		ASSERT(ret == 0 || ret == PYPROC_GONE || ret == PYPROC_NOINTERP || ret < 0);
		if (ret < 0)
			break;
	}
	{
		struct pyproc_stats st;
		uint64_t errs[PSF_ERRK_COUNT_];
		pid_t tids[64];
		pyproc_stats(r.p, &st);
		pyproc_take_errors(r.p, errs);
		ASSERT(pyproc_tids(r.p, tids, 64) <= 64);
	}
out:
	pyproc_free(r.p);
	psf_writer_free(w);
	fakepy_release(&r.fp);
	return 0;
}
