/*
 * fakepy.h - a CPython process image built in a local buffer, for driving
 * the frame walkers (capture/python/pyproc.c) without a live interpreter:
 * unit tests (tests/unit/capture_walk.c) and the walker fuzzer
 * (tests/fuzz/fuzz_walk.c).
 *
 * The image is one heap segment at FAKEPY_BASE (the objects allocated so
 * far and a zeroed page after them; reads beyond fault) holding type objects,
 * strings, bytes, code objects, frames (PyFrameObject up to 3.10, a stack
 * chunk of _PyInterpreterFrames from 3.11), one interpreter and one thread
 * state, laid out with the same struct py_layout the capture uses (the
 * compiled-in tables, or _Py_DebugOffsets blocks for 3.13+), and served to
 * the capture by mem_image_install() under this process's pid: the
 * thread's native id is ours, so /proc checks of the thread pass.
 *
 * Line tables are real ones (tests/unit/capture_linetable.c's vectors,
 * first line 1): each family names two instruction offsets and the lines
 * CPython maps them to.
 */
#ifndef PYSPY_TESTS_FAKEPY_H
#define PYSPY_TESTS_FAKEPY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mem.h"
#include "python/layout.h"
#include "python/pyrt.h"
#include "debug_offsets.h"

#define FAKEPY_BASE 0x10000000ull
#define FAKEPY_CAP (1u << 20)
/* Zeroed bytes mapped after the last object (a page: stack chunks are read through it). */
#define FAKEPY_SLACK 4096u

/* The image's memory: one image at a time, reused (no fresh pages per fuzz input). */
static uint8_t fakepy_arena[FAKEPY_CAP];

struct fakepy_family {
	const char *name;
	int major, minor;
	const char *lt_hex;          /* line table, first line 1 */
	long off[2];                 /* f_lasti (<= 3.10) or code unit index (3.11+) */
	int line[2];                 /* the lines they map to */
};

/* One interpreter of each layout family (and every minor of 3.6 - 3.10). */
static const struct fakepy_family fakepy_families[] = {
	{ "2.7", 2, 7, "0001060113010a011101", { 30, 35 }, { 4, 5 } },
	{ "3.6", 3, 6, "000104010e0108010c01", { 18, 26 }, { 4, 5 } },
	{ "3.7", 3, 7, "000104010c0108010a01", { 16, 24 }, { 4, 5 } },
	{ "3.8", 3, 8, "000104010c0108010a01", { 16, 24 }, { 4, 5 } },
	{ "3.9", 3, 9, "000104010c0108010a01", { 16, 24 }, { 4, 5 } },
	{ "3.10", 3, 10, "04010c010801080102800401", { 8, 12 }, { 4, 5 } },
	{ "3.11", 3, 11,
	  "8000d808098041dd0d12903189588c58f000020513f0000205138801d80b0c88718935f000010913d80c0d901189468841f8d80b0c8048",
	  { 20, 25 }, { 4, 5 } },
	{ "3.12", 3, 12,
	  "8000d808098041dc0d1290318b58f2000205138801d80b0c88718b35d80c0d901189468941f005020513f006000c0d8048",
	  { 17, 23 }, { 4, 5 } },
	{ "3.13", 3, 13,
	  "8000d808098041dc0d1290318e588801d80b0c88718f358935d80c0d89468a41f105000e16f006000c0d8048",
	  { 17, 29 }, { 4, 5 } },
	{ "3.14", 3, 14,
	  "8000d808098041dc0d1290318e588801d80b0c88718f358e35d80c0d8d468a41f105000e16f006000c0d8048",
	  { 20, 34 }, { 4, 5 } },
	{ "3.15", 3, 15,
	  "8100d808098041dc0d1290318f588801d80b0c88718f358e35d80c0d8d468a41f105000e16f006000c0d8048",
	  { 20, 36 }, { 4, 5 } },
};
#define FAKEPY_NFAMILIES (sizeof(fakepy_families) / sizeof(fakepy_families[0]))

struct fakepy {
	const struct fakepy_family *fam;
	struct pyrt rt;
	const struct py_layout *L;   /* &rt.L */
	uint8_t *mem;
	size_t used;
	struct mem_image_seg seg;
	struct mem_image img;
	uint64_t t_str, t_bytes, t_code, t_frame;
	uint64_t interp, tstate, cframe, chunk, chunk_top, base_frame, leaf, pthread;
	uint8_t lt[128];
	size_t ltlen;
};

static inline uint8_t *fakepy_at(struct fakepy *fp, uint64_t addr)
{
	return fp->mem + (addr - FAKEPY_BASE);
}

static inline void fakepy_put64(struct fakepy *fp, uint64_t addr, uint64_t v)
{
	memcpy(fakepy_at(fp, addr), &v, 8);
}

static inline void fakepy_put32(struct fakepy *fp, uint64_t addr, uint32_t v)
{
	memcpy(fakepy_at(fp, addr), &v, 4);
}

static inline uint64_t fakepy_get64(struct fakepy *fp, uint64_t addr)
{
	uint64_t v;

	memcpy(&v, fakepy_at(fp, addr), 8);
	return v;
}

/* n zeroed bytes, 16-byte aligned; exits when the image is full (a test bug). */
static inline uint64_t fakepy_alloc(struct fakepy *fp, size_t n)
{
	uint64_t a = FAKEPY_BASE + fp->used;

	n = (n + 15) & ~(size_t)15;
	if (fp->used + n > FAKEPY_CAP - FAKEPY_SLACK) {
		fprintf(stderr, "fakepy: image full\n");
		exit(2);
	}
	fp->used += n;
	memset(fakepy_at(fp, a), 0, n + FAKEPY_SLACK);
	fp->seg.len = fp->used + FAKEPY_SLACK;
	return a;
}

/* An object header: reference count 1 and a type. */
static inline uint64_t fakepy_object(struct fakepy *fp, size_t size, uint64_t type)
{
	uint64_t a = fakepy_alloc(fp, size);

	fakepy_put64(fp, a, 1);
	fakepy_put64(fp, a + (uint64_t)fp->L->ob_type, type);
	return a;
}

static inline uint64_t fakepy_type(struct fakepy *fp, const char *name)
{
	uint64_t t = fakepy_object(fp, 400, 0), n = fakepy_alloc(fp, strlen(name) + 1);

	memcpy(fakepy_at(fp, n), name, strlen(name) + 1);
	fakepy_put64(fp, t + (uint64_t)fp->L->tp_name, n);
	return t;
}

/* A str (2.7: PyStringObject; 3.x: compact ASCII) holding text. */
static inline uint64_t fakepy_str(struct fakepy *fp, const char *text)
{
	const struct py_layout *L = fp->L;
	size_t n = strlen(text);
	uint64_t a;

	if (L->major == 2) {
		a = fakepy_object(fp, (size_t)L->bytes_sval + n + 1, fp->t_str);
		fakepy_put64(fp, a + (uint64_t)L->bytes_size, n);
		fakepy_put64(fp, a + 24, (uint64_t)-1);   /* ob_shash */
		memcpy(fakepy_at(fp, a + (uint64_t)L->bytes_sval), text, n + 1);
		return a;
	}
	a = fakepy_object(fp, L->str_ascii_size + n + 1, fp->t_str);
	fakepy_put64(fp, a + (uint64_t)L->str_length, n);
	fakepy_put64(fp, a + 24, (uint64_t)-1);           /* hash */
	fakepy_put32(fp, a + (uint64_t)L->str_state,
		     (1u << L->str_kind_shift) | (1u << L->str_compact_bit) | (1u << L->str_ascii_bit));
	memcpy(fakepy_at(fp, a + L->str_ascii_size), text, n + 1);
	return a;
}

static inline uint64_t fakepy_bytes(struct fakepy *fp, const uint8_t *data, size_t n)
{
	const struct py_layout *L = fp->L;
	uint64_t a = fakepy_object(fp, (size_t)L->bytes_sval + n + 1, fp->t_bytes);

	fakepy_put64(fp, a + (uint64_t)L->bytes_size, n);
	memcpy(fakepy_at(fp, a + (uint64_t)L->bytes_sval), data, n);
	return a;
}

#define FAKEPY_CODE_UNITS 64

/*
 * Fill a code object at a (fakepy_code_alloc()) with the family's line
 * table; version: co_version (3.12/3.13).
 */
static inline void fakepy_code_at(struct fakepy *fp, uint64_t a, const char *name,
				  const char *qualname, const char *file, uint32_t version)
{
	const struct py_layout *L = fp->L;
	uint64_t nm = fakepy_str(fp, name);

	fakepy_put64(fp, a, 1);
	fakepy_put64(fp, a + (uint64_t)L->ob_type, fp->t_code);
	fakepy_put64(fp, a + (uint64_t)L->co_name, nm);
	fakepy_put64(fp, a + (uint64_t)L->co_filename, fakepy_str(fp, file));
	if (L->co_qualname >= 0)
		fakepy_put64(fp, a + (uint64_t)L->co_qualname,
			     strcmp(qualname, name) ? fakepy_str(fp, qualname) : nm);
	fakepy_put32(fp, a + (uint64_t)L->co_firstlineno, 1);
	fakepy_put64(fp, a + (uint64_t)L->co_linetable, fakepy_bytes(fp, fp->lt, fp->ltlen));
	if (L->co_code_adaptive >= 0)
		fakepy_put64(fp, a + 16, FAKEPY_CODE_UNITS);   /* ob_size: code units */
	if (L->co_version >= 0)
		fakepy_put32(fp, a + (uint64_t)L->co_version, version);
}

static inline size_t fakepy_code_size(const struct fakepy *fp)
{
	const struct py_layout *L = fp->L;
	size_t n = L->co_read;

	if (L->co_code_adaptive >= 0 && (size_t)L->co_code_adaptive + 2 * FAKEPY_CODE_UNITS > n)
		n = (size_t)L->co_code_adaptive + 2 * FAKEPY_CODE_UNITS;
	return n;
}

static inline uint64_t fakepy_code(struct fakepy *fp, const char *name, const char *qualname,
				   const char *file)
{
	uint64_t a = fakepy_alloc(fp, fakepy_code_size(fp));

	fakepy_code_at(fp, a, name, qualname, file, (uint32_t)(a >> 4));
	return a;
}

/* Where the thread state says the current frame is. */
static inline void fakepy_set_leaf(struct fakepy *fp, uint64_t f)
{
	const struct py_layout *L = fp->L;

	fp->leaf = f;
	if (L->ts_frame >= 0)
		fakepy_put64(fp, fp->tstate + (uint64_t)L->ts_frame, f);
	else if (L->ts_current_frame >= 0)
		fakepy_put64(fp, fp->tstate + (uint64_t)L->ts_current_frame, f);
	else
		fakepy_put64(fp, fp->cframe + (uint64_t)L->cf_current_frame, f);
}

/* Set a frame's instruction to offset `which` (0 or 1) of the family. */
static inline void fakepy_frame_at(struct fakepy *fp, uint64_t f, uint64_t code, int which)
{
	const struct py_layout *L = fp->L;
	long off = fp->fam->off[which];

	if (L->frames == PY_FRAMES_OBJECT) {
		fakepy_put64(fp, f + (uint64_t)L->f_code, code);
		fakepy_put32(fp, f + (uint64_t)L->f_lasti, (uint32_t)off);
		return;
	}
	fakepy_put64(fp, f + (uint64_t)L->if_code, code);
	fakepy_put64(fp, f + (uint64_t)L->if_instr,
		     code + (uint64_t)L->co_code_adaptive + 2 * (uint64_t)off);
	fakepy_at(fp, f + (uint64_t)L->if_owner)[0] = 0;   /* FRAME_OWNED_BY_THREAD */
}

/* Call code: a new leaf frame at instruction offset `which`; its address. */
static inline uint64_t fakepy_push(struct fakepy *fp, uint64_t code, int which)
{
	const struct py_layout *L = fp->L;
	uint64_t f;

	if (L->frames == PY_FRAMES_OBJECT) {
		f = fakepy_object(fp, L->f_read > (uint32_t)L->f_localsplus + 8
					      ? L->f_read : (uint32_t)L->f_localsplus + 8,
				  fp->t_frame);
		fakepy_put64(fp, f + (uint64_t)L->f_back, fp->leaf);
	} else {
		f = fp->chunk_top;
		memset(fakepy_at(fp, f), 0, L->if_size + 16);
		fakepy_put64(fp, f + (uint64_t)L->if_previous, fp->leaf);
		fp->chunk_top += L->if_size + 16;   /* two stack slots */
		fakepy_put64(fp, fp->tstate + (uint64_t)L->ts_datastack_top, fp->chunk_top);
		fakepy_put64(fp, fp->chunk + 16, (fp->chunk_top - fp->chunk - 24) / 8);
	}
	fakepy_frame_at(fp, f, code, which);
	fakepy_set_leaf(fp, f);
	return f;
}

/* Return from the leaf frame. */
static inline void fakepy_pop(struct fakepy *fp)
{
	const struct py_layout *L = fp->L;
	uint64_t f = fp->leaf;

	if (L->frames == PY_FRAMES_OBJECT) {
		fakepy_set_leaf(fp, fakepy_get64(fp, f + (uint64_t)L->f_back));
		return;
	}
	fakepy_set_leaf(fp, fakepy_get64(fp, f + (uint64_t)L->if_previous));
	fp->chunk_top = f;
	fakepy_put64(fp, fp->tstate + (uint64_t)L->ts_datastack_top, fp->chunk_top);
	fakepy_put64(fp, fp->chunk + 16, (fp->chunk_top - fp->chunk - 24) / 8);
}

static inline size_t fakepy_unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (h[0] && h[1] && n < cap) {
		unsigned v;
		sscanf(h, "%2x", &v);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/* The layout of family fam, as the capture would find it; 0 or -1. */
static inline int fakepy_layout(const struct fakepy_family *fam, struct py_layout *L)
{
	const struct py_layout *t;
	uint8_t buf[1024];
	uint64_t ver;
	int ft;
	char err[160];

	if (fam->minor >= 13 && fam->major == 3) {
		const struct pos *pp = debug_offsets_of(fam->minor);
		size_t n = build(buf, sizeof(buf), pp);
		return layout_from_debug_offsets(buf, n, fam->minor, L, &ver, &ft, err, sizeof(err));
	}
	t = layout_for(fam->major, fam->minor, 99);
	if (!t)
		return -1;
	*L = *t;
	return 0;
}

/*
 * A process image of family fam with one interpreter and one thread (no
 * frames yet), installed as this process's memory.  0, or -1 when the
 * family has no layout.  named_types: the runtime knows the type objects'
 * addresses (symbols); else the capture identifies them by tp_name.
 */
static inline int fakepy_init(struct fakepy *fp, const struct fakepy_family *fam, int named_types)
{
	struct py_layout *L = &fp->rt.L;
	uint64_t head;

	memset(fp, 0, sizeof(*fp));
	fp->fam = fam;
	if (fakepy_layout(fam, L) < 0)
		return -1;
	fp->L = L;
	fp->mem = fakepy_arena;
	memset(fp->mem, 0, FAKEPY_SLACK);
	fp->ltlen = fakepy_unhex(fam->lt_hex, fp->lt, sizeof(fp->lt));
	fp->rt.pid = getpid();
	fp->rt.ver.major = fam->major;
	fp->rt.ver.minor = fam->minor;
	fp->rt.ver.micro = 99;
	fp->rt.ver.level = 'f';
	snprintf(fp->rt.version, sizeof(fp->rt.version), "%d.%d.99", fam->major, fam->minor);
	snprintf(fp->rt.binary, sizeof(fp->rt.binary), "fakepy");
	fp->t_str = fakepy_type(fp, "str");
	fp->t_bytes = L->major == 2 ? fp->t_str : fakepy_type(fp, "bytes");
	fp->t_code = fakepy_type(fp, "code");
	fp->t_frame = fakepy_type(fp, "frame");
	if (named_types) {
		fp->rt.type_code = fp->t_code;
		fp->rt.type_str = fp->t_str;
		fp->rt.type_bytes = fp->t_bytes;
		fp->rt.type_frame = fp->t_frame;
	}
	fp->interp = fakepy_alloc(fp, 16384);
	fp->tstate = fakepy_alloc(fp, L->ts_read + 64);
	head = fakepy_alloc(fp, 8);
	fakepy_put64(fp, head, fp->interp);
	fp->rt.interp_head_ptr = head;
	fakepy_put64(fp, fp->interp + (uint64_t)L->is_threads_head, fp->tstate);
	if (L->is_id >= 0)
		fakepy_put64(fp, fp->interp + (uint64_t)L->is_id, 0);
	fakepy_put64(fp, fp->tstate + (uint64_t)L->ts_interp, fp->interp);
	if (L->ts_native_thread_id >= 0) {
		fakepy_put64(fp, fp->tstate + (uint64_t)L->ts_thread_id, 0x7f0000001000ull);
		fakepy_put64(fp, fp->tstate + (uint64_t)L->ts_native_thread_id,
			     (uint64_t)syscall(SYS_gettid));
	} else {
		/* <= 3.10: thread_id is the pthread_t, whose struct holds the tid at 0x2d0 (glibc). */
		fp->pthread = fakepy_alloc(fp, 0x800);
		fakepy_put32(fp, fp->pthread + 0x2d0, (uint32_t)syscall(SYS_gettid));
		fakepy_put64(fp, fp->tstate + (uint64_t)L->ts_thread_id, fp->pthread);
	}
	if (L->ts_cframe >= 0) {
		fp->cframe = fakepy_alloc(fp, 64);
		fakepy_put64(fp, fp->tstate + (uint64_t)L->ts_cframe, fp->cframe);
	}
	if (L->frames == PY_FRAMES_INTERP) {
		/* _PyStackChunk: previous, size, top (in words), then data. */
		fp->chunk = fakepy_alloc(fp, 16384);
		fakepy_put64(fp, fp->chunk + 8, 16384);
		fp->chunk_top = fp->chunk + 24;
		fakepy_put64(fp, fp->tstate + (uint64_t)L->ts_datastack_chunk, fp->chunk);
		fakepy_put64(fp, fp->tstate + (uint64_t)L->ts_datastack_top, fp->chunk_top);
	}
	if (L->ts_base_frame >= 0) {
		/* 3.15: every stack ends at the thread's base frame (owned by the interpreter). */
		fp->base_frame = fakepy_alloc(fp, L->if_size + 16);
		fakepy_at(fp, fp->base_frame + (uint64_t)L->if_owner)[0] = 3;
		fakepy_put64(fp, fp->tstate + (uint64_t)L->ts_base_frame, fp->base_frame);
		fakepy_set_leaf(fp, fp->base_frame);
	}
	fp->seg.addr = FAKEPY_BASE;
	fp->seg.data = fp->mem;
	fp->img.segs = &fp->seg;
	fp->img.nsegs = 1;
	mem_image_install(fp->rt.pid, &fp->img);
	return 0;
}

static inline void fakepy_release(struct fakepy *fp)
{
	mem_image_install(0, NULL);
	fp->mem = NULL;
}

#endif /* PYSPY_TESTS_FAKEPY_H */
