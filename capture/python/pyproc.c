/*
 * pyproc.c - sampling the Python threads of one process (see pyproc.h).
 */
#include "python/pyproc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "caperr.h"
#include "mem.h"
#include "proc.h"
#include "util.h"
#include "python/linetable.h"
#include "python/pyobj.h"
#include "python/pystr.h"
#include "python/tname.h"

#define CC_MAX 4096              /* code objects cached */
#define SC_MAX 8192              /* strings cached */
#define POOL_MAX (1u << 20)      /* bytes of decoded text */
#define RANGES_MAX (96u << 10)   /* line ranges (8 bytes each) */
#define FP_MAX 64                /* string fingerprint bytes */
#define MAX_THREADS CAPTURE_MAX_THREADS
#define MAX_INTERPS 64
#define MAX_SKIPPED 64           /* consecutive shim/entry frames */
#define MAX_CHUNKS 64
#define SNAP_MAX (PYPROC_MAX_DEPTH + 4 * MAX_SKIPPED + MAX_CHUNKS + 4)
#define SNAP_ROUNDS 3            /* snapshot retries of one thread per tick */
#define SNAP_FRESH_MAX 64        /* ranges read outside a snapshot per round */
#define CHUNK_MAX (1u << 20)
#define REFCNT_MAX (1ll << 48)   /* immortal objects have large counts */
#define TNAME_PERIOD_NS NS_PER_SEC
#define TNAME_MIN_GAP_NS 20000000ull
#define TNAME_READS 20000        /* read budget of one name scan */
#define REJECT_N 16              /* thread states remembered as not running */
#define REJECT_NS 100000000ull   /* how long before one is checked again */
#define UNNAMED_WAIT_NS 100000000ull /* a new thread's wait for a name (no frames) */

enum val_policy { VAL_FULL, VAL_VERSION, VAL_FUNCVER, VAL_GEN };
enum { T_CODE, T_STR, T_BYTES, T_FRAME, T_OTHER };
enum { CODE_ERR_READ = -1, CODE_ERR_TYPE = -2 };

struct sentry {
	uint64_t addr;
	uint64_t val_tick;
	uint32_t off, len;           /* text in the pool */
	uint32_t psf;                /* capture STRING id */
	uint8_t fplen;
	uint8_t fp[FP_MAX];          /* object bytes from +8: type, length, hash, ... */
};

struct centry {
	uint64_t addr, val_tick, epoch;
	uint32_t frame_id;
	int32_t firstlineno;
	uint32_t name, qualname, file;   /* sentry index + 1; 0 = none */
	uint32_t r_off, r_n;             /* line ranges */
	int64_t code_units;              /* 3.11+: Py_SIZE(code); -1 unknown */
	long memo_addr;
	int32_t memo_line;
	/* fingerprint: fields that identify the code object */
	uint64_t f_type, f_name, f_qualname, f_file, f_lt;
	int32_t f_first;
	uint32_t f_version;
	int64_t f_size;
};

struct pythread {
	uint64_t tstate, thread_id;
	uint64_t seen;                   /* tick */
	int32_t tid;                     /* in our PID namespace */
	int32_t raw_tid;                 /* native_thread_id as the target has it */
	uint32_t interp_id;
	uint32_t name_gen;
	uint8_t used, named, want_name;
	uint8_t defined;                 /* its first sample went out */
	uint64_t born_ns;                /* slot created */
	char name[TNAME_MAX];
};

/* One entry of an interpreter's thread list, as read this tick. */
struct tsent {
	uint64_t ts, thread_id;
	const uint8_t *tsb;              /* copy of the thread state (this tick) */
	int32_t tid;                     /* native_thread_id (3.11+), else 0 */
	int skip;                        /* not a running thread: no sample */
};

/* A thread state that is not (yet) a running thread of this process. */
struct reject {
	uint64_t ts, thread_id;
	int32_t tid;
	uint64_t until_ns;
};

/* Slot of the per-tick set of thread ids (tick-stamped: never cleared). */
struct idset {
	uint64_t key, stamp;
};

struct chunkv {
	uint64_t lo, hi;                 /* remote range copied */
	const uint8_t *buf;
};

struct pyproc {
	struct pyrt rt;
	const struct py_layout *L;
	pid_t pid;
	struct psf_writer *w;
	struct mem_view *view;
	uint64_t tick;
	uint64_t now_ns;
	int reset_pending;               /* drop the caches at the next tick */
	int last_err;                    /* last read error (-errno) */
	int write_err;                   /* psf error, aborts the tick */
	int val_policy;
	uint64_t epoch;
	uint64_t gen;
	int have_gen;

	/* code and string caches */
	struct centry *cc;
	uint32_t ncc;
	uint32_t *cc_slots;              /* index + 1 */
	struct sentry *sc;
	uint32_t nsc;
	uint32_t *sc_slots;
	char *pool;
	uint32_t npool;
	struct lt_range *ranges;
	uint32_t nranges;
	struct lt_range scratch_ranges[LT_MAX_RANGES / 8];

	/* type objects found by name when symbols are missing */
	struct { uint64_t addr; int kind; } types[32];
	unsigned ntypes;

	/* threads: slots, found by (tstate, thread id) through th_hash */
	struct pythread *th;
	uint32_t nth, capth;
	uint32_t *th_hash;               /* slot index + 1; 2 * capth entries */
	uint32_t *th_free;               /* unused slot indexes (a stack) */
	uint32_t nfree;
	struct tsent *tl;                /* the thread list being sampled */
	uint32_t tlcap;
	struct idset *ids;               /* IDSET_N entries */
	uint64_t ids_stamp;
	struct reject rej[REJECT_N];
	unsigned rej_next;
	int32_t tid_off;                 /* <= 3.10 glibc struct pthread tid; -2 unknown yet */
	int other_pidns;                 /* the target is in another PID namespace */

	/* thread names */
	struct tname tn;
	uint64_t tname_last_ns;
	uint64_t tname_tick;             /* tick of the last successful scan */
	int tname_want;

	/* walk state */
	struct py_frame frames[PYPROC_MAX_DEPTH];
	uint64_t faddr[PYPROC_MAX_DEPTH];
	/* every frame visited by the walk (shims too), for verification */
	uint64_t vaddr[PYPROC_MAX_DEPTH + 4 * MAX_SKIPPED];
	const uint8_t *vbody[PYPROC_MAX_DEPTH + 4 * MAX_SKIPPED];
	uint32_t vn[PYPROC_MAX_DEPTH + 4 * MAX_SKIPPED];   /* frames recorded before it */
	uint32_t nvisit;
	/* snapshot retries: ranges read twice in one system call */
	int snapping, snap_miss;
	unsigned snap_fresh;             /* ranges read outside this round's snapshot */
	uint64_t snap_missing;
	uint32_t snap_missing_len;
	uint32_t nsnap;
	uint64_t snap_addr[SNAP_MAX];
	uint32_t snap_len[SNAP_MAX];
	const uint8_t *snap_a[SNAP_MAX], *snap_b[SNAP_MAX], *snap_c[SNAP_MAX];
	uint64_t ra[3 * SNAP_MAX + 4];
	uint32_t rl[3 * SNAP_MAX + 4];
	const uint8_t *rout[3 * SNAP_MAX + 4];
	const uint8_t *snap_words;       /* second copy of the thread's stack words */
	const uint8_t *snap_cf;          /* second copy of cframe->current_frame */
	int32_t snap_words_lo;           /* tstate offset of snap_words */
	struct chunkv chunks[MAX_CHUNKS];
	unsigned nchunks;
	uint64_t chunk_prev;             /* next older chunk to explore */
	uint64_t chunk_size;             /* of chunks[0], from its header */

	uint64_t errs[PSF_ERRK_COUNT_];
	struct pyproc_stats st;
};

/*
 * A live object's reference count: <= 3.11 a plain Py_ssize_t; 3.12+ the
 * low 32 bits (L->refcnt_low32).
 */
static int refcnt_ok(const struct py_layout *L, const uint8_t *obj)
{
	if (L->refcnt_low32)
		return u32at(obj) >= 1;
	return i64at(obj) >= 1 && i64at(obj) <= REFCNT_MAX;
}

static const uint8_t *rd(struct pyproc *p, uint64_t addr, size_t len, enum mem_class cls)
{
	const uint8_t *b;
	int err;

	if (!addr || addr >= USER_ADDR_END) {
		p->last_err = -EFAULT;
		return NULL;
	}
	b = mem_view_get(p->view, addr, len, cls, &err);
	if (!b)
		p->last_err = err;
	return b;
}

/* Copy of the snapshot range holding [addr, addr+len): which 0, 1, 2 = first, second, third. */
static const uint8_t *snap_find(const struct pyproc *p, uint64_t addr, size_t len, int which)
{
	uint32_t i;

	for (i = 0; i < p->nsnap; i++) {
		const uint8_t *b = which == 2 ? p->snap_c[i] : which ? p->snap_b[i] : p->snap_a[i];
		if (b && addr >= p->snap_addr[i] && addr + len <= p->snap_addr[i] + p->snap_len[i])
			return b + (addr - p->snap_addr[i]);
	}
	return NULL;
}

/*
 * Reads of the stack itself (thread state, frames, stack chunks): during a
 * snapshot retry they must come from the snapshot, so that every byte the
 * walk uses was copied in the same system call.
 */
static const uint8_t *rdf(struct pyproc *p, uint64_t addr, size_t len, enum mem_class cls)
{
	const uint8_t *b;

	if (!p->snapping)
		return rd(p, addr, len, cls);
	b = snap_find(p, addr, len, 0);
	if (b)
		return b;
	if (!p->snap_miss) {
		/* Remember the first range missing: the next snapshot adds it. */
		p->snap_miss = 1;
		p->snap_missing = addr;
		p->snap_missing_len = (uint32_t)len;
	}
	/*
	 * This walk is not trusted any more, but going on with fresh reads
	 * finds every frame the stack has now: the next snapshot copies them
	 * all (they are visited), instead of one more per round.
	 */
	b = NULL;
	if (p->snap_fresh < SNAP_FRESH_MAX) {
		int err;
		p->snap_fresh++;
		b = mem_view_get_fresh(p->view, addr, len, MEM_NOHINT, &err);
	}
	if (!b)
		p->last_err = -EAGAIN;
	return b;
}

static void count_err(struct pyproc *p, int kind)
{
	p->errs[kind]++;
}

/* ---------------------------------------------------------------- types */

static int classify_name(const char *n, int py2)
{
	if (strcmp(n, "code") == 0)
		return T_CODE;
	if (strcmp(n, "frame") == 0)
		return T_FRAME;
	if (strcmp(n, "str") == 0)
		return py2 ? T_BYTES : T_STR;
	if (strcmp(n, "bytes") == 0)
		return T_BYTES;
	return T_OTHER;
}

static int type_is(struct pyproc *p, uint64_t tp, int want)
{
	uint64_t known = 0;
	unsigned i;
	char name[32];
	struct pyobj_ctx c = { p->pid, p->L, 4 };
	int kind;

	switch (want) {
	case T_CODE: known = p->rt.type_code; break;
	case T_STR: known = p->rt.type_str; break;
	case T_BYTES: known = p->rt.type_bytes; break;
	case T_FRAME: known = p->rt.type_frame; break;
	default: break;
	}
	if (known)
		return tp == known;
	if (!ptr_ok(tp))
		return 0;
	for (i = 0; i < p->ntypes; i++)
		if (p->types[i].addr == tp)
			return p->types[i].kind == want ||
			       (p->L->major == 2 && want == T_STR && p->types[i].kind == T_BYTES);
	/* Read tp_name: the type object itself plus its name string. */
	{
		uint64_t nm;
		if (pyobj_read(&c, tp + (uint64_t)p->L->tp_name, &nm, 8) < 0 ||
		    pyobj_read(&c, nm, name, sizeof(name)) < 0)
			return 0;
		name[sizeof(name) - 1] = 0;
	}
	kind = classify_name(name, p->L->major == 2);
	if (p->ntypes < sizeof(p->types) / sizeof(p->types[0])) {
		p->types[p->ntypes].addr = tp;
		p->types[p->ntypes].kind = kind;
		p->ntypes++;
	}
	return kind == want || (p->L->major == 2 && want == T_STR && kind == T_BYTES);
}

/* ---------------------------------------------------------------- caches */

static uint32_t hash_addr(uint64_t a, uint32_t mask)
{
	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdull;
	a ^= a >> 33;
	return (uint32_t)a & mask;
}

static void cache_reset(struct pyproc *p)
{
	p->ncc = 0;
	p->nsc = 0;
	p->npool = 0;
	p->nranges = 0;
	memset(p->cc_slots, 0, 2 * CC_MAX * sizeof(*p->cc_slots));
	memset(p->sc_slots, 0, 2 * SC_MAX * sizeof(*p->sc_slots));
	p->st.cache_drops++;
}

static int cc_find(const struct pyproc *p, uint64_t addr)
{
	uint32_t mask = 2 * CC_MAX - 1, h = hash_addr(addr, mask);

	while (p->cc_slots[h]) {
		uint32_t i = p->cc_slots[h] - 1;
		if (p->cc[i].addr == addr)
			return (int)i;
		h = (h + 1) & mask;
	}
	return -1;
}

static void cc_insert(struct pyproc *p, uint32_t idx)
{
	uint32_t mask = 2 * CC_MAX - 1, h = hash_addr(p->cc[idx].addr, mask);

	while (p->cc_slots[h])
		h = (h + 1) & mask;
	p->cc_slots[h] = idx + 1;
}

/* Replace the entry at idx in the table (same address, new contents). */
static int sc_find(const struct pyproc *p, uint64_t addr)
{
	uint32_t mask = 2 * SC_MAX - 1, h = hash_addr(addr, mask);

	while (p->sc_slots[h]) {
		uint32_t i = p->sc_slots[h] - 1;
		if (p->sc[i].addr == addr)
			return (int)i;
		h = (h + 1) & mask;
	}
	return -1;
}

static void sc_insert(struct pyproc *p, uint32_t idx)
{
	uint32_t mask = 2 * SC_MAX - 1, h = hash_addr(p->sc[idx].addr, mask);

	while (p->sc_slots[h])
		h = (h + 1) & mask;
	p->sc_slots[h] = idx + 1;
}

/* Bytes of a string object used as its fingerprint, from +8. */
static int str_fp(struct pyproc *p, uint64_t addr, const struct sentry *e)
{
	const uint8_t *b = rd(p, addr + 8, e->fplen, MEM_BODY);

	if (!b)
		return -1;
	return memcmp(b, e->fp, e->fplen) == 0;
}

/*
 * Decode a string object into the pool and the capture file.  Returns the
 * sentry index + 1, or 0 on failure.  An existing entry is revalidated
 * once per tick when the policy needs it; a changed string is replaced.
 */
static uint32_t str_get(struct pyproc *p, uint64_t addr, int force)
{
	const struct py_layout *L = p->L;
	uint8_t hdr[96];
	const uint8_t *b, *src;
	size_t hlen;
	struct pystr_where w;
	struct sentry *e;
	int idx = sc_find(p, addr), r;
	char text[PYSTR_MAX_CHARS * 4 + 1];
	size_t tlen;
	uint32_t id = 0;

	if (idx >= 0) {
		e = &p->sc[idx];
		if ((!force && p->val_policy != VAL_FULL) || e->val_tick == p->tick)
			return (uint32_t)idx + 1;
		r = str_fp(p, addr, e);
		if (r < 0)
			return 0;
		if (r == 1) {
			e->val_tick = p->tick;
			return (uint32_t)idx + 1;
		}
		p->st.code_invalidations++;
		/* Changed: decode again into a new entry under the same address. */
	}
	if (!ptr_ok(addr))
		return 0;
	hlen = L->major == 2 ? 64 : L->str_compact_size + 8;
	if (hlen > sizeof(hdr))
		return 0;   /* layout_from_debug_offsets() bounds it; never trust it here */
	b = rd(p, addr, hlen, MEM_NOHINT);
	if (!b) {
		hlen = 48;
		b = rd(p, addr, hlen, MEM_NOHINT);
		if (!b)
			return 0;
	}
	memcpy(hdr, b, hlen);
	if (!refcnt_ok(L, hdr))
		return 0;
	if (L->major == 2) {
		if (!type_is(p, u64at(hdr + 8), T_BYTES) || pystr_locate_bytes(L, hdr, hlen, addr, &w) < 0)
			return 0;
	} else {
		if (!type_is(p, u64at(hdr + 8), T_STR) || pystr_locate(L, hdr, hlen, addr, &w) < 0)
			return 0;
	}
	{
		size_t nbytes = (size_t)w.nchars * w.kind;
		if (w.inline_data && w.data + nbytes <= addr + hlen) {
			src = hdr + (w.data - addr);
		} else if (nbytes == 0) {
			src = hdr;
		} else {
			src = rd(p, w.data, nbytes, MEM_NOHINT);
			if (!src)
				return 0;
		}
		if (L->major == 2)
			tlen = pystr_bytes_to_utf8(src, nbytes, text, sizeof(text));
		else
			tlen = pystr_ucs_to_utf8(w.kind, src, w.nchars, text, sizeof(text));
	}
	if (p->nsc >= SC_MAX || p->npool + tlen + 1 > POOL_MAX) {
		p->reset_pending = 1;
		return 0;
	}
	if (p->w) {
		int pr = psf_writer_string(p->w, text, tlen, &id);
		if (pr < 0) {
			caperr_set(pr);   /* with the writer's errno, e.g. ENOSPC */
			p->write_err = pr;
			return 0;
		}
	}
	e = &p->sc[p->nsc];
	memset(e, 0, sizeof(*e));
	e->addr = addr;
	e->val_tick = p->tick;
	e->off = p->npool;
	e->len = (uint32_t)tlen;
	e->psf = id;
	memcpy(p->pool + p->npool, text, tlen + 1);
	p->npool += (uint32_t)tlen + 1;
	/* Fingerprint: from the type pointer through the first characters,
	 * never past the object's end (the next object's refcount changes). */
	{
		uint32_t objsize = w.inline_data ? w.objsize : (uint32_t)hlen;
		uint32_t n = objsize > 8 ? objsize - 8 : 0;
		if (n > FP_MAX)
			n = FP_MAX;
		if (8 + n > hlen)
			n = (uint32_t)hlen - 8;
		e->fplen = (uint8_t)n;
		memcpy(e->fp, hdr + 8, n);
		if (p->val_policy == VAL_FULL)
			mem_view_hint(p->view, addr + 8, n, MEM_BODY);
	}
	if (idx >= 0) {
		/* Point the table slot of the stale entry at the new one. */
		uint32_t mask = 2 * SC_MAX - 1, h = hash_addr(addr, mask);
		while (p->sc_slots[h] != (uint32_t)idx + 1)
			h = (h + 1) & mask;
		p->sc_slots[h] = p->nsc + 1;
	} else {
		sc_insert(p, p->nsc);
	}
	p->nsc++;
	return p->nsc;
}

static void code_fp(const struct py_layout *L, const uint8_t *b, struct centry *e)
{
	e->f_type = u64at(b + L->ob_type);
	e->f_name = u64at(b + L->co_name);
	e->f_file = u64at(b + L->co_filename);
	e->f_qualname = L->co_qualname >= 0 ? u64at(b + L->co_qualname) : 0;
	e->f_lt = u64at(b + L->co_linetable);
	e->f_first = i32at(b + L->co_firstlineno);
	e->f_version = L->co_version >= 0 ? u32at(b + L->co_version) : 0;
	e->f_size = L->co_code_adaptive >= 0 ? i64at(b + L->ob_size) : 0;
}

static int code_fp_equal(const struct centry *a, const struct centry *b)
{
	return a->f_type == b->f_type && a->f_name == b->f_name && a->f_file == b->f_file &&
	       a->f_qualname == b->f_qualname && a->f_lt == b->f_lt && a->f_first == b->f_first &&
	       a->f_version == b->f_version && a->f_size == b->f_size;
}

/* Read and decode a code object into a new entry; returns index or CODE_ERR_*. */
static int code_load(struct pyproc *p, uint64_t addr, int replace)
{
	const struct py_layout *L = p->L;
	const uint8_t *b, *lt;
	struct centry e;
	int64_t ltlen;
	uint64_t ltaddr;
	long nr;
	int idx;

	b = rd(p, addr, L->co_read, MEM_BODY);
	if (!b)
		return CODE_ERR_READ;
	memset(&e, 0, sizeof(e));
	code_fp(L, b, &e);
	if (!refcnt_ok(L, b) || !type_is(p, e.f_type, T_CODE))
		return CODE_ERR_TYPE;
	if (e.f_first < 0 || e.f_first > 100000000 || !ptr_ok(e.f_name) || !ptr_ok(e.f_file) ||
	    (L->co_qualname >= 0 && !ptr_ok(e.f_qualname)) ||
	    (L->co_code_adaptive >= 0 && (e.f_size <= 0 || e.f_size > (1 << 24))))
		return CODE_ERR_TYPE;
	/* Full caches are dropped at the start of the next tick, so frame
	 * indexes handed out during this one stay valid. */
	if (p->ncc >= CC_MAX * 9 / 10 || p->nsc >= SC_MAX * 9 / 10 || p->npool >= POOL_MAX * 9 / 10 ||
	    p->nranges >= RANGES_MAX * 9 / 10)
		p->reset_pending = 1;
	if (p->ncc >= CC_MAX)
		return CODE_ERR_READ;
	e.addr = addr;
	e.val_tick = p->tick;
	e.epoch = p->epoch;
	e.firstlineno = e.f_first;
	e.code_units = L->co_code_adaptive >= 0 ? e.f_size : -1;
	e.memo_addr = -3;
	/* A new code object: its strings are validated whatever the policy. */
	e.name = str_get(p, e.f_name, 1);
	if (!e.name)
		return p->write_err ? CODE_ERR_READ : CODE_ERR_TYPE;
	e.file = str_get(p, e.f_file, 1);
	if (!e.file)
		return p->write_err ? CODE_ERR_READ : CODE_ERR_TYPE;
	if (L->co_qualname >= 0) {
		e.qualname = e.f_qualname == e.f_name ? e.name : str_get(p, e.f_qualname, 1);
		if (!e.qualname)
			return p->write_err ? CODE_ERR_READ : CODE_ERR_TYPE;
	}
	/* Line table: a bytes object (2.7: str). */
	ltaddr = e.f_lt;
	e.r_off = p->nranges;
	e.r_n = 0;
	if (ptr_ok(ltaddr)) {
		const uint8_t *h = rd(p, ltaddr, (size_t)L->bytes_sval, MEM_NOHINT);
		if (h && type_is(p, u64at(h + 8), T_BYTES)) {
			ltlen = i64at(h + L->bytes_size);
			if (ltlen >= 0 && ltlen <= (int64_t)LT_MAX_TABLE) {
				lt = ltlen ? rd(p, ltaddr + (uint64_t)L->bytes_sval, (size_t)ltlen, MEM_NOHINT)
					   : h;
				if (lt) {
					nr = linetable_decode(L->lines, lt, (size_t)ltlen, e.f_first,
							      p->scratch_ranges,
							      sizeof(p->scratch_ranges) / sizeof(p->scratch_ranges[0]));
					if (nr > 0 && p->nranges + (uint32_t)nr <= RANGES_MAX) {
						memcpy(p->ranges + p->nranges, p->scratch_ranges,
						       (size_t)nr * sizeof(struct lt_range));
						e.r_n = (uint32_t)nr;
						p->nranges += (uint32_t)nr;
					}
				}
			}
		}
	}
	if (p->w) {
		struct psf_frame fr;
		int pr;
		memset(&fr, 0, sizeof(fr));
		fr.kind = PSF_FRAME_PYTHON;
		fr.name = p->sc[e.name - 1].psf;
		fr.qualname = e.qualname ? p->sc[e.qualname - 1].psf : 0;
		fr.file = p->sc[e.file - 1].psf;
		fr.firstlineno = e.f_first;
		pr = psf_writer_frame(p->w, &fr, &e.frame_id);
		if (pr < 0) {
			caperr_set(pr);
			p->write_err = pr;
			return CODE_ERR_READ;
		}
	}
	p->st.code_loads++;
	if (replace >= 0 && replace < (int)p->ncc && p->cc[replace].addr == addr) {
		p->cc[replace] = e;
		return replace;
	}
	idx = (int)p->ncc++;
	p->cc[idx] = e;
	cc_insert(p, (uint32_t)idx);
	return idx;
}

/* 1 valid, 0 changed, -1 unreadable. */
static int code_validate(struct pyproc *p, struct centry *e)
{
	const struct py_layout *L = p->L;
	const uint8_t *b;
	struct centry now;
	int r;

	p->st.code_validations++;
	b = rd(p, e->addr, L->co_read, MEM_BODY);
	if (!b)
		return -1;
	memset(&now, 0, sizeof(now));
	code_fp(L, b, &now);
	if (!refcnt_ok(L, b) || !code_fp_equal(e, &now))
		return 0;
	if (p->val_policy == VAL_FULL) {
		uint32_t s[3] = { e->name, e->qualname, e->file };
		int k;
		for (k = 0; k < 3; k++) {
			struct sentry *se;
			if (!s[k])
				continue;
			se = &p->sc[s[k] - 1];
			if (se->val_tick == p->tick)
				continue;
			r = str_fp(p, se->addr, se);
			if (r <= 0)
				return r;
			se->val_tick = p->tick;
		}
	}
	return 1;
}

/* The cache index of the code object at addr, or CODE_ERR_*. */
static int code_get(struct pyproc *p, uint64_t addr)
{
	int idx;

	if (!ptr_ok(addr))
		return CODE_ERR_TYPE;
	idx = cc_find(p, addr);
	if (idx >= 0) {
		struct centry *e = &p->cc[idx];
		int r;
		if (e->val_tick == p->tick)
			return idx;
		switch (p->val_policy) {
		case VAL_GEN:
			/* The generation is checked once per tick (drops the cache). */
			e->val_tick = p->tick;
			return idx;
		case VAL_FUNCVER:
			if (e->epoch == p->epoch) {
				e->val_tick = p->tick;
				return idx;
			}
			break;
		default:
			break;
		}
		r = code_validate(p, e);
		if (r < 0)
			return CODE_ERR_READ;
		if (r == 1) {
			e->val_tick = p->tick;
			e->epoch = p->epoch;
			return idx;
		}
		p->st.code_invalidations++;
		return code_load(p, addr, idx);
	}
	return code_load(p, addr, -1);
}

static int32_t code_line(struct pyproc *p, int idx, long addr)
{
	struct centry *e = &p->cc[idx];

	if (e->memo_addr == addr)
		return e->memo_line;
	e->memo_addr = addr;
	if (e->r_n == 0)
		e->memo_line = addr < 0 ? e->firstlineno : -1;
	else
		e->memo_line = linetable_lookup(p->ranges + e->r_off, e->r_n, addr, e->firstlineno);
	return e->memo_line;
}

/* ---------------------------------------------------------------- threads */

static void resolve_tid_offset(struct pyproc *p, uint64_t pthread)
{
	pid_t tids[CAPTURE_MAX_THREADS], ns[CAPTURE_MAX_THREADS];
	long nt = p->other_pidns ? proc_tasks_ns(p->pid, ns, tids, CAPTURE_MAX_THREADS)
				 : proc_tasks(p->pid, tids, CAPTURE_MAX_THREADS), i;
	uint8_t buf[0x800];
	int32_t best = -1;
	uint32_t k;

	if (nt <= 0 || !ptr_ok(pthread) || mem_read(p->pid, pthread, buf, sizeof(buf)) < 0)
		return;   /* try again with the next thread */
	for (k = 0; k + 4 <= sizeof(buf); k += 4) {
		uint32_t v = u32at(buf + k);
		for (i = 0; i < nt; i++) {
			if ((uint32_t)(p->other_pidns ? ns[i] : tids[i]) != v)
				continue;
			if (k == 0x2d0 || best < 0)
				best = (int32_t)k;
			break;
		}
		if (best == 0x2d0)
			break;
	}
	p->tid_off = best;
}

/* 1 if tid is a thread of the target, 0 if it certainly is not, -1 unknown. */
static int task_exists(const struct pyproc *p, int32_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)p->pid, (int)tid);
	if (access(path, F_OK) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

/*
 * The OS thread id of a thread (ours, not the target's PID namespace's):
 * > 0 the id, 0 unknown, -1 the thread state names an OS thread that is
 * not a thread of this process (a state copied by fork(), or one whose
 * thread is gone).
 */
static int32_t thread_tid(struct pyproc *p, const uint8_t *tsb, uint64_t thread_id, int32_t *raw)
{
	const struct py_layout *L = p->L;
	uint32_t tid = 0;
	int32_t t;

	*raw = 0;
	if (L->ts_native_thread_id >= 0) {
		t = (int32_t)i64at(tsb + L->ts_native_thread_id);
	} else {
		if (p->tid_off == -2)
			resolve_tid_offset(p, thread_id);
		if (p->tid_off < 0 || mem_read(p->pid, thread_id + (uint64_t)p->tid_off, &tid, 4) < 0)
			return 0;
		t = (int32_t)tid;
	}
	if (t <= 0)
		return 0;
	*raw = t;
	/* The interpreter knows its threads by their ids in its own PID
	 * namespace (a container); /proc here wants ours. */
	if (p->other_pidns)
		return proc_tid_from_ns(p->pid, t);
	switch (task_exists(p, t)) {
	case 1:
		return t;
	case 0:
		return -1;
	default:
		return L->ts_native_thread_id >= 0 ? t : 0;
	}
}

static uint32_t th_hash_of(uint64_t ts, uint64_t thread_id, uint32_t mask)
{
	return hash_addr(ts ^ (thread_id * 0x9e3779b97f4a7c15ull), mask);
}

/* Rebuild the slot table (after growth). */
static void th_hash_rebuild(struct pyproc *p)
{
	uint32_t mask = 2 * p->capth - 1, i;

	memset(p->th_hash, 0, 2 * p->capth * sizeof(*p->th_hash));
	for (i = 0; i < p->nth; i++) {
		uint32_t h;
		if (!p->th[i].used)
			continue;
		h = th_hash_of(p->th[i].tstate, p->th[i].thread_id, mask);
		while (p->th_hash[h])
			h = (h + 1) & mask;
		p->th_hash[h] = i + 1;
	}
}

/* Remove slot i from the table (linear probing: shift the cluster back). */
static void th_hash_remove(struct pyproc *p, uint32_t i)
{
	uint32_t mask = 2 * p->capth - 1;
	uint32_t h = th_hash_of(p->th[i].tstate, p->th[i].thread_id, mask), j;

	while (p->th_hash[h] != i + 1) {
		if (!p->th_hash[h])
			return;
		h = (h + 1) & mask;
	}
	p->th_hash[h] = 0;
	for (j = (h + 1) & mask; p->th_hash[j]; j = (j + 1) & mask) {
		const struct pythread *t = &p->th[p->th_hash[j] - 1];
		uint32_t home = th_hash_of(t->tstate, t->thread_id, mask);
		/* Move j back to the hole unless its home lies in (h, j]. */
		if ((j > h && (home <= h || home > j)) || (j < h && home <= h && home > j)) {
			p->th_hash[h] = p->th_hash[j];
			p->th_hash[j] = 0;
			h = j;
		}
	}
}

/* A free slot index (growing the arrays), or UINT32_MAX. */
static uint32_t th_alloc(struct pyproc *p)
{
	if (p->nfree)
		return p->th_free[--p->nfree];
	if (p->nth == p->capth) {
		uint32_t nc = p->capth ? p->capth * 2 : 16;
		struct pythread *nt;
		uint32_t *nh, *nf;
		if (nc > MAX_THREADS)
			return UINT32_MAX;
		nt = realloc(p->th, nc * sizeof(*nt));
		if (!nt)
			return UINT32_MAX;
		p->th = nt;
		nh = realloc(p->th_hash, 2 * nc * sizeof(*nh));
		if (!nh)
			return UINT32_MAX;
		p->th_hash = nh;
		nf = realloc(p->th_free, nc * sizeof(*nf));
		if (!nf)
			return UINT32_MAX;
		p->th_free = nf;
		p->capth = nc;
		th_hash_rebuild(p);
	}
	return p->nth++;
}

/* A slot stops being used (its thread ended). */
static void th_release(struct pyproc *p, uint32_t i)
{
	th_hash_remove(p, i);
	p->th[i].used = 0;
	p->th_free[p->nfree++] = i;
}

/* Remembered as "not a running thread" (checked again after REJECT_NS)? */
static int rejected(struct pyproc *p, uint64_t ts, uint64_t thread_id, int32_t tid)
{
	unsigned i;

	for (i = 0; i < REJECT_N; i++) {
		const struct reject *r = &p->rej[i];
		if (r->ts == ts && r->thread_id == thread_id && r->tid == tid &&
		    p->now_ns < r->until_ns)
			return 1;
	}
	return 0;
}

static void reject(struct pyproc *p, uint64_t ts, uint64_t thread_id, int32_t tid)
{
	struct reject *r = &p->rej[p->rej_next++ % REJECT_N];

	r->ts = ts;
	r->thread_id = thread_id;
	r->tid = tid;
	r->until_ns = p->now_ns + REJECT_NS;
}

/*
 * The slot of a thread: found by (thread state, thread id[, native id]) in
 * the hash table, or a new one (*is_new = 1).  NULL with *is_new = -1 when
 * the thread state is not a running thread of this process (skip it);
 * NULL with *is_new = 0 when the table is full.
 */
static struct pythread *thread_slot(struct pyproc *p, uint64_t ts, uint64_t thread_id,
				    const uint8_t *tsb, int32_t tid_now, int *is_new)
{
	uint32_t i, h, mask;
	int32_t tid, raw;
	struct pythread *t;

	*is_new = 0;
	if (p->capth) {
		mask = 2 * p->capth - 1;
		for (h = th_hash_of(ts, thread_id, mask); p->th_hash[h]; h = (h + 1) & mask) {
			t = &p->th[p->th_hash[h] - 1];
			if (t->tstate == ts && t->thread_id == thread_id &&
			    (tid_now == 0 || t->raw_tid == tid_now))
				return t;
		}
	}
	if (rejected(p, ts, thread_id, tid_now)) {
		*is_new = -1;
		return NULL;
	}
	tid = thread_tid(p, tsb, thread_id, &raw);
	if (tid < 0) {
		reject(p, ts, thread_id, tid_now);
		*is_new = -1;
		return NULL;
	}
	i = th_alloc(p);
	if (i == UINT32_MAX)
		return NULL;
	t = &p->th[i];
	memset(t, 0, sizeof(*t));
	t->used = 1;
	t->tstate = ts;
	t->thread_id = thread_id;
	t->tid = tid;
	t->raw_tid = tid_now ? tid_now : raw;
	t->born_ns = p->now_ns;
	mask = 2 * p->capth - 1;
	for (h = th_hash_of(ts, thread_id, mask); p->th_hash[h]; h = (h + 1) & mask)
		;
	p->th_hash[h] = i + 1;
	*is_new = 1;
	/*
	 * Known from a scan of this tick?  An older scan says nothing about a
	 * new thread: its ident (a pthread_t) and thread state address are
	 * those of a thread that ended, whose name the older scan holds.
	 */
	if (p->tname_tick == p->tick) {
		const char *n = tname_get(&p->tn, thread_id, (uint64_t)(uint32_t)t->raw_tid);
		if (n) {
			snprintf(t->name, sizeof(t->name), "%s", n);
			t->named = 1;
			t->name_gen++;
			return t;
		}
	}
	t->want_name = 1;
	return t;
}

static void tname_refresh(struct pyproc *p, uint64_t interp)
{
	struct pyobj_ctx c = { p->pid, p->L, TNAME_READS };
	uint32_t i;

	p->tname_last_ns = p->now_ns;
	p->tname_want = 0;
	p->st.tname_scans++;
	if (tname_scan(&p->tn, &c, interp) < 0) {
		/* threading not imported (yet), or unreadable: not an error. */
		for (i = 0; i < p->nth; i++)
			p->th[i].want_name = 0;
		return;
	}
	p->tname_tick = p->tick;
	for (i = 0; i < p->nth; i++) {
		struct pythread *t = &p->th[i];
		const char *n;
		if (!t->used)
			continue;
		t->want_name = 0;
		n = tname_get(&p->tn, t->thread_id, (uint64_t)(uint32_t)t->raw_tid);
		if (n && (!t->named || strcmp(n, t->name) != 0)) {
			snprintf(t->name, sizeof(t->name), "%s", n);
			t->named = 1;
			t->name_gen++;
		}
	}
}

/* ---------------------------------------------------------------- frames */

/* Visited-set for cycle detection: frame addresses of this walk. */
static int seen_before(const struct pyproc *p, uint32_t n, uint64_t f)
{
	uint32_t i, lo = n > 64 ? n - 64 : 0;

	/* Cycles in a racing chain are short; checking the recent part and
	 * the depth bound together stop every loop. */
	for (i = lo; i < n; i++)
		if (p->faddr[i] == f)
			return 1;
	return 0;
}

static uint32_t walk_object(struct pyproc *p, uint64_t f, uint32_t *flags, int *bad)
{
	const struct py_layout *L = p->L;
	uint32_t n = 0;

	while (f) {
		const uint8_t *b;
		int ci;
		long addr;
		int32_t lasti;

		if (n >= PYPROC_MAX_DEPTH) {
			*flags |= PSF_SF_TRUNCATED;
			break;
		}
		if (!ptr_ok(f) || seen_before(p, n, f)) {
			*bad = PSF_ERRK_BAD_OBJECT;
			break;
		}
		b = rdf(p, f, L->f_read, MEM_LATE);
		if (!b) {
			*bad = PSF_ERRK_READ;
			break;
		}
		if (!refcnt_ok(L, b) || !type_is(p, u64at(b + L->ob_type), T_FRAME)) {
			*bad = PSF_ERRK_TORN;   /* a freed frame: the stack changed */
			break;
		}
		ci = code_get(p, u64at(b + L->f_code));
		if (ci < 0) {
			*bad = ci == CODE_ERR_READ ? PSF_ERRK_READ : PSF_ERRK_BAD_OBJECT;
			break;
		}
		lasti = i32at(b + L->f_lasti);
		addr = L->lines == PY_LINES_310 ? (lasti < 0 ? -1 : 2L * lasti) : lasti;
		p->faddr[n] = f;
		p->vaddr[p->nvisit] = f;
		p->vn[p->nvisit] = n;
		p->vbody[p->nvisit++] = b;
		p->frames[n].frame = p->cc[ci].frame_id;
		p->frames[n].code = (uint32_t)ci;
		p->frames[n].line = code_line(p, ci, addr);
		n++;
		f = u64at(b + L->f_back);
	}
	return n;
}

/* Local copy of the frame at f (if_size bytes), or NULL. */
static const uint8_t *iframe(struct pyproc *p, uint64_t f)
{
	const struct py_layout *L = p->L;
	unsigned i;

	for (;;) {
		for (i = 0; i < p->nchunks; i++) {
			const struct chunkv *c = &p->chunks[i];
			if (f >= c->lo + (uint64_t)L->chunk_data && f + L->if_size <= c->hi)
				return c->buf + (f - c->lo);
		}
		/* Deep stacks continue in older chunks: copy them one by one. */
		if (!p->chunk_prev || p->nchunks >= MAX_CHUNKS)
			break;
		{
			uint64_t ck = p->chunk_prev;
			const uint8_t *h;
			uint64_t top, len;
			p->chunk_prev = 0;
			if (!ptr_ok(ck) || !(h = rdf(p, ck, (size_t)L->chunk_data, MEM_LATE)))
				break;
			top = u64at(h + L->chunk_top);
			len = (uint64_t)L->chunk_data + top * 8;
			if (top == 0 || top > CHUNK_MAX || len > CHUNK_MAX || len > u64at(h + L->chunk_size))
				break;
			h = rdf(p, ck, len, MEM_LATE);
			if (!h)
				break;
			p->chunks[p->nchunks].lo = ck;
			p->chunks[p->nchunks].hi = ck + len;
			p->chunks[p->nchunks].buf = h;
			p->nchunks++;
			p->chunk_prev = u64at(h);
		}
	}
	/* Generator frames live in their generator, entry frames on the C stack. */
	return rdf(p, f, L->if_size, MEM_LATE);
}

/* Copy the thread's current stack chunk (through the page holding top). */
static void chunk_setup(struct pyproc *p, const uint8_t *tsb)
{
	const struct py_layout *L = p->L;
	uint64_t ck = u64at(tsb + L->ts_datastack_chunk);
	uint64_t top = u64at(tsb + L->ts_datastack_top);
	uint64_t end;
	const uint8_t *b;

	p->nchunks = 0;
	p->chunk_prev = 0;
	if (!ptr_ok(ck) || top <= ck + (uint64_t)L->chunk_data || top - ck > CHUNK_MAX)
		return;
	end = (top + 4095) & ~(uint64_t)4095;
	b = rdf(p, ck, end - ck, MEM_LATE);
	if (!b && !p->snapping) {
		end = top;
		b = rdf(p, ck, end - ck, MEM_LATE);
	}
	if (!b)
		return;
	if (u64at(b + L->chunk_size) < top - ck)
		return;   /* chunk size smaller than its use: not a chunk */
	p->chunks[0].lo = ck;
	p->chunks[0].hi = end;
	p->chunks[0].buf = b;
	p->nchunks = 1;
	p->chunk_prev = u64at(b);
	p->chunk_size = u64at(b + L->chunk_size);
	/* A second copy, read after everything else, to verify the walk. */
	if (!p->snapping)
		mem_view_hint(p->view, ck, end - ck, MEM_TAIL);
}

static int owner_skipped(const struct py_layout *L, unsigned owner)
{
	if (!L->owner_skip_min)
		return 0;
	return L->owner_skip_only ? owner == (unsigned)L->owner_skip_min
				  : owner >= (unsigned)L->owner_skip_min;
}

static uint32_t walk_interp(struct pyproc *p, const uint8_t *tsb, uint64_t f, uint32_t *flags,
			    int *bad)
{
	const struct py_layout *L = p->L;
	uint32_t n = 0, skipped = 0, guard = 0;
	uint64_t last = 0;
	unsigned max_owner = L->if_owner_max;

	chunk_setup(p, tsb);
	while (f) {
		const uint8_t *b;
		unsigned owner;
		uint64_t co, instr;
		int64_t off;
		int ci;

		if (n >= PYPROC_MAX_DEPTH) {
			*flags |= PSF_SF_TRUNCATED;
			return n;
		}
		if (!ptr_ok(f) || seen_before(p, n, f) || ++guard > PYPROC_MAX_DEPTH + 4 * MAX_SKIPPED) {
			*bad = PSF_ERRK_BAD_OBJECT;
			return n;
		}
		b = iframe(p, f);
		if (!b) {
			*bad = PSF_ERRK_READ;
			return n;
		}
		p->vaddr[p->nvisit] = f;
		p->vn[p->nvisit] = n;
		p->vbody[p->nvisit++] = b;
		last = f;
		owner = b[L->if_owner];
		co = u64at(b + L->if_code);
		if (L->if_tagged)
			co &= ~(uint64_t)3;
		if (owner > max_owner) {
			*bad = PSF_ERRK_TORN;
			return n;
		}
		if (owner_skipped(L, owner)) {
			if (++skipped > MAX_SKIPPED) {
				*bad = PSF_ERRK_BAD_OBJECT;
				return n;
			}
			f = u64at(b + L->if_previous);
			continue;
		}
		skipped = 0;
		ci = code_get(p, co);
		if (ci == CODE_ERR_TYPE && L->if_exec_any) {
			/* f_executable is not a code object (PEP 523 tools): skip. */
			f = u64at(b + L->if_previous);
			continue;
		}
		if (ci < 0) {
			*bad = ci == CODE_ERR_READ ? PSF_ERRK_READ : PSF_ERRK_BAD_OBJECT;
			return n;
		}
		instr = u64at(b + L->if_instr);
		off = (int64_t)(instr - (co + (uint64_t)L->co_code_adaptive));
		if (off < -2 || (p->cc[ci].code_units > 0 && off > 2 * p->cc[ci].code_units)) {
			*bad = PSF_ERRK_TORN;   /* instruction pointer of another code object */
			return n;
		}
		p->faddr[n] = f;
		p->frames[n].frame = p->cc[ci].frame_id;
		p->frames[n].code = (uint32_t)ci;
		p->frames[n].line = code_line(p, ci, off < 0 ? -1 : (long)(off / 2));
		n++;
		f = u64at(b + L->if_previous);
	}
	if (L->ts_base_frame >= 0 && last != u64at(tsb + L->ts_base_frame))
		*bad = PSF_ERRK_TORN;   /* 3.15: a complete walk ends at base_frame */
	return n;
}

/* ---------------------------------------------------------------- torn checks */

struct leaf {
	uint64_t frame;          /* current frame pointer */
	uint64_t cframe;         /* 3.11/3.12: tstate->cframe */
};

static int leaf_from_head(struct pyproc *p, const uint8_t *tsb, struct leaf *lf)
{
	const struct py_layout *L = p->L;

	memset(lf, 0, sizeof(*lf));
	if (L->ts_frame >= 0) {
		lf->frame = u64at(tsb + L->ts_frame);
	} else if (L->ts_current_frame >= 0) {
		lf->frame = u64at(tsb + L->ts_current_frame);
	} else {
		const uint8_t *c;
		lf->cframe = u64at(tsb + L->ts_cframe);
		if (!lf->cframe)
			return 0;
		if (!ptr_ok(lf->cframe))
			return -1;
		c = rdf(p, lf->cframe + (uint64_t)L->cf_current_frame, 8, MEM_HEAD);
		if (!c)
			return -1;
		lf->frame = u64at(c);
	}
	return 0;
}

/* The words of the thread state that say where the stack ends. */
struct leafwords {
	int32_t lo;              /* tstate offset of the first word */
	uint32_t len;            /* bytes through the last */
	int32_t leaf;            /* offset of frame / current_frame / cframe */
	int32_t chunk;           /* offset of datastack_chunk (top follows), -1 */
};

static void leaf_words(const struct py_layout *L, struct leafwords *w)
{
	if (L->ts_frame >= 0) {
		w->leaf = L->ts_frame;
		w->chunk = -1;
		w->lo = w->leaf;
		w->len = 8;
		return;
	}
	w->leaf = L->ts_current_frame >= 0 ? L->ts_current_frame : L->ts_cframe;
	w->chunk = L->ts_datastack_chunk;
	w->lo = w->leaf < w->chunk ? w->leaf : w->chunk;
	w->len = (uint32_t)((w->leaf > w->chunk ? w->leaf + 8 : L->ts_datastack_top + 8) - w->lo);
}

/*
 * Where is the thread now, relative to the walk?  tw = the thread state's
 * stack words read after the frames (TAIL or snapshot), cf =
 * cframe->current_frame read after (3.11/3.12).  Returns the index of the
 * visited frame that is the current frame now (0: the leaf is still live),
 * or -1 when the thread is somewhere the walk did not see.
 *   A caller being current means the leaf returned: the stack from that
 *   caller down is still right (the caller's copies are compared).
 *   <= 3.10: any other frame is -1.  It may be new work above the live
 *   leaf, but no copy shows its chain: the leaf may as well have returned
 *   and its frame been reused by a call from another caller, while the
 *   copies of leaf and caller, each taken on either side of such a
 *   transition, agree (an ABA the torn-stack test provoked on 3.8).
 *   3.11+: the current frame's chain (in the second copy of the stack
 *   chunk) must pass through the leaf: the stack may only have grown.
 *   (Lying below the chunk's top is not enough: a returned frame's slot can
 *   sit unchanged inside a bigger frame pushed at its caller's place.)
 */
/*
 * 3.11+: does the chain from frame `from` (the current frame after the
 * copies) pass through `target`, following the second copy of the stack
 * chunk?  Frames in a chunk lie above their callers, so the walk stops
 * once it is below target.
 */
static int reaches(struct pyproc *p, uint64_t from, uint64_t target, int snap)
{
	const struct py_layout *L = p->L;
	const struct chunkv *c;
	const uint8_t *copy;
	unsigned guard = 0;

	if (!p->nchunks)
		return 0;
	c = &p->chunks[0];
	copy = snap ? snap_find(p, c->lo, c->hi - c->lo, 1)
		    : mem_view_tail(p->view, c->lo, c->hi - c->lo);
	if (!copy)
		return 0;
	while (from && guard++ < PYPROC_MAX_DEPTH + 4 * MAX_SKIPPED) {
		if (from == target)
			return 1;
		if (from < target || from < c->lo + (uint64_t)L->chunk_data || from + L->if_size > c->hi)
			return 0;
		from = u64at(copy + (from - c->lo) + L->if_previous);
	}
	return 0;
}

static int leaf_live(struct pyproc *p, const struct leaf *head, const uint8_t *tw,
		     const uint8_t *cf, int snap)
{
	const struct py_layout *L = p->L;
	struct leafwords lw;
	uint64_t now;
	uint32_t i;

	leaf_words(L, &lw);
	if (L->ts_cframe >= 0)
		now = u64at(tw + (lw.leaf - lw.lo)) == head->cframe && cf ? u64at(cf) : 0;
	else
		now = u64at(tw + (lw.leaf - lw.lo));
	if (now == head->frame)
		return 0;
	/* The leaf returned: its caller (or one further down) runs now.  The
	 * stack from there down is what the thread runs. */
	for (i = 1; i < p->nvisit; i++)
		if (p->vaddr[i] == now)
			return (int)i;
	if (L->ts_frame >= 0)
		return -1;   /* <= 3.10: new frames, or another stack: no copy says which */
	/* 3.11+: the stack only grew if the new chain passes the leaf. */
	return now && u64at(tw + (lw.chunk - lw.lo)) == (p->nchunks ? p->chunks[0].lo : 0) &&
	       reaches(p, now, head->frame, snap) ? 0 : -1;
}

/*
 * Was the walk consistent?  Every frame it visited is compared with the
 * second and the third copy read after it (TAIL and AGAIN copies of this
 * tick's single read, or a snapshot's): the code object, the caller link and the
 * owner must be unchanged, and so must the current instruction of every
 * caller (a caller's instruction only moves after its callee returned).
 * The leaf may have run on.  1 stable, 0 torn.
 */
static int chain_stable(struct pyproc *p, int snap, uint32_t from)
{
	const struct py_layout *L = p->L;
	uint32_t i, flen = L->frames == PY_FRAMES_OBJECT ? L->f_read : L->if_size;
	const struct chunkv *c = p->nchunks ? &p->chunks[0] : NULL;
	const uint8_t *ctail[2] = { NULL, NULL };
	int32_t off_link = L->frames == PY_FRAMES_OBJECT ? L->f_back : L->if_previous;
	int32_t off_code = L->frames == PY_FRAMES_OBJECT ? L->f_code : L->if_code;
	int32_t off_pos = L->frames == PY_FRAMES_OBJECT ? L->f_lasti : L->if_instr;
	size_t pos_len = L->frames == PY_FRAMES_OBJECT ? 4 : 8;
	int k;

	if (c && !snap) {
		ctail[0] = mem_view_tail(p->view, c->lo, c->hi - c->lo);
		ctail[1] = mem_view_again(p->view, c->lo, c->hi - c->lo);
	}
	for (i = from; i < p->nvisit; i++) {
		uint64_t f = p->vaddr[i];
		const uint8_t *a = p->vbody[i];
		/* The second and the third copy (mem.h: TAIL and AGAIN). */
		for (k = 0; k < 2; k++) {
			const uint8_t *b;
			if (snap)
				b = snap_find(p, f, flen, 1 + k);
			else if (c && f >= c->lo + (uint64_t)L->chunk_data && f + flen <= c->hi)
				b = ctail[k] ? ctail[k] + (f - c->lo) : NULL;
			else
				b = k ? mem_view_again(p->view, f, flen) : mem_view_tail(p->view, f, flen);
			if (!b)
				return 0;
			if (memcmp(a + off_link, b + off_link, 8) != 0 ||
			    memcmp(a + off_code, b + off_code, 8) != 0)
				return 0;
			if (L->frames == PY_FRAMES_OBJECT) {
				if (!refcnt_ok(L, b))
					return 0;
			} else if (a[L->if_owner] != b[L->if_owner]) {
				return 0;
			}
			if (i > from && memcmp(a + off_pos, b + off_pos, pos_len) != 0)
				return 0;
		}
	}
	return 1;
}

/* Add a range to the snapshot unless one already holds it. */
static void snap_add(struct pyproc *p, uint64_t addr, uint32_t len)
{
	uint32_t i;

	if (!ptr_ok(addr & ~(uint64_t)7) || !len)
		return;
	for (i = 0; i < p->nsnap; i++)
		if (addr >= p->snap_addr[i] && addr + len <= p->snap_addr[i] + p->snap_len[i])
			return;
	if (p->nsnap < SNAP_MAX) {
		p->snap_addr[p->nsnap] = addr;
		p->snap_len[p->nsnap] = len;
		p->nsnap++;
	}
}

/* Sort the snapshot ranges and merge close ones: fewer iovecs, a faster copy. */
static void snap_merge(struct pyproc *p)
{
	uint32_t i, j, k;

	/* Insertion sort: the list is short and mostly ordered. */
	for (i = 1; i < p->nsnap; i++) {
		uint64_t a = p->snap_addr[i];
		uint32_t l = p->snap_len[i];
		for (j = i; j > 0 && p->snap_addr[j - 1] > a; j--) {
			p->snap_addr[j] = p->snap_addr[j - 1];
			p->snap_len[j] = p->snap_len[j - 1];
		}
		p->snap_addr[j] = a;
		p->snap_len[j] = l;
	}
	for (i = 0, k = 0; i < p->nsnap; i++) {
		uint64_t end;
		if (k > 0) {
			end = p->snap_addr[k - 1] + p->snap_len[k - 1];
			if (p->snap_addr[i] <= end + 1024 &&
			    p->snap_addr[i] + p->snap_len[i] - p->snap_addr[k - 1] <= (256u << 10)) {
				if (p->snap_addr[i] + p->snap_len[i] > end)
					p->snap_len[k - 1] = (uint32_t)(p->snap_addr[i] + p->snap_len[i] -
									p->snap_addr[k - 1]);
				continue;
			}
		}
		p->snap_addr[k] = p->snap_addr[i];
		p->snap_len[k] = p->snap_len[i];
		k++;
	}
	p->nsnap = k;
}

/*
 * Read, in one system call, the thread state, every stack range the last
 * walk used (plus the frame it could not find), the thread state's stack
 * words again, then the same ranges again in reverse order, and once more
 * in the first order.
 */
static int snap_read(struct pyproc *p, uint64_t ts, const struct leaf *head)
{
	const struct py_layout *L = p->L;
	struct leafwords lw;
	uint32_t i, n = 0, ns, flen = L->frames == PY_FRAMES_OBJECT ? L->f_read : L->if_size;
	uint64_t missing = p->snap_miss ? p->snap_missing : 0;
	unsigned k, w;
	int r;

	p->nsnap = 0;
	snap_add(p, ts, L->ts_read);
	if (head->cframe)
		snap_add(p, head->cframe + (uint64_t)L->cf_current_frame, 8);
	if (p->nchunks) {
		/* The current chunk with room above its top: the stack may grow. */
		uint64_t lo = p->chunks[0].lo, hi = p->chunks[0].hi + 8192;
		if (p->chunk_size >= 4096 && hi > lo + p->chunk_size)
			hi = lo + p->chunk_size;
		snap_add(p, lo, (uint32_t)(hi - lo));
		for (k = 1; k < p->nchunks; k++)
			snap_add(p, p->chunks[k].lo, (uint32_t)(p->chunks[k].hi - p->chunks[k].lo));
	}
	for (i = 0; i < p->nvisit; i++)
		snap_add(p, p->vaddr[i], flen);
	if (missing)
		snap_add(p, missing, p->snap_missing_len > flen ? p->snap_missing_len : flen);
	snap_merge(p);
	ns = p->nsnap;
	for (i = 0; i < ns; i++) {
		p->ra[n] = p->snap_addr[i];
		p->rl[n++] = p->snap_len[i];
	}
	/* Between the two copies: the words say where the stack ended at a
	 * moment both copies bracket (mem.h, MEM_SEAL). */
	leaf_words(L, &lw);
	p->ra[n] = ts + (uint64_t)lw.lo;
	p->rl[n++] = lw.len;
	if (head->cframe) {
		p->ra[n] = head->cframe + (uint64_t)L->cf_current_frame;
		p->rl[n++] = 8;
	}
	w = n - ns;
	/* The second copy in the opposite order, the third as the first
	 * (mem.c, read_seg()). */
	for (i = ns; i-- > 0;) {
		p->ra[n] = p->snap_addr[i];
		p->rl[n++] = p->snap_len[i];
	}
	for (i = 0; i < ns; i++) {
		p->ra[n] = p->snap_addr[i];
		p->rl[n++] = p->snap_len[i];
	}
	r = mem_view_read_batch(p->view, p->ra, p->rl, n, p->rout);
	if (r < 0)
		return r;
	for (i = 0; i < ns; i++) {
		p->snap_a[i] = p->rout[i];
		p->snap_b[i] = p->rout[ns + w + (ns - 1 - i)];
		p->snap_c[i] = p->rout[2 * ns + w + i];
	}
	p->snap_words = p->rout[ns];
	p->snap_cf = head->cframe ? p->rout[ns + 1] : NULL;
	p->snap_miss = 0;
	p->snap_missing = 0;
	return p->snap_words ? 0 : -EFAULT;
}

/* One walk of the thread from tsb.  Returns frames; *bad, *flags set. */
static uint32_t walk(struct pyproc *p, const uint8_t *tsb, struct leaf *head, uint32_t *flags,
		     int *bad)
{
	const struct py_layout *L = p->L;

	p->nvisit = 0;
	p->nchunks = 0;
	*flags = 0;
	*bad = 0;
	if (leaf_from_head(p, tsb, head) < 0) {
		*bad = PSF_ERRK_READ;
		return 0;
	}
	if (L->frames == PY_FRAMES_OBJECT)
		return walk_object(p, head->frame, flags, bad);
	return walk_interp(p, tsb, head->frame, flags, bad);
}

/*
 * Verify a walk made entirely from this tick's single read (TAIL copies).
 * Returns the visited index of the live leaf (see leaf_live), -1 torn.
 */
static int verify_tail(struct pyproc *p, uint64_t ts, const struct leaf *head)
{
	const struct py_layout *L = p->L;
	struct leafwords lw;
	const uint8_t *tw, *cf = NULL;
	int j;

	leaf_words(L, &lw);
	tw = mem_view_seal(p->view, ts + (uint64_t)lw.lo, lw.len);
	if (head->cframe)
		cf = mem_view_seal(p->view, head->cframe + (uint64_t)L->cf_current_frame, 8);
	if (!tw || (head->cframe && !cf))
		return -1;
	j = leaf_live(p, head, tw, cf, 0);
	if (j < 0 || !chain_stable(p, 0, (uint32_t)j))
		return -1;
	return j;
}

/* Drop the frames above visited frame j (they returned); new frame count. */
static uint32_t drop_leaves(struct pyproc *p, uint32_t n, uint32_t j)
{
	uint32_t d = j ? p->vn[j] : 0;

	if (d == 0 || d > n)
		return n;
	memmove(p->frames, p->frames + d, (n - d) * sizeof(p->frames[0]));
	memmove(p->faddr, p->faddr + d, (n - d) * sizeof(p->faddr[0]));
	return n - d;
}

/* Ask for the second copies verify_tail() needs, for the next tick. */
static void hint_tails(struct pyproc *p, uint64_t ts, const struct leaf *head)
{
	const struct py_layout *L = p->L;
	uint32_t i, flen = L->frames == PY_FRAMES_OBJECT ? L->f_read : L->if_size;
	const struct chunkv *c = p->nchunks ? &p->chunks[0] : NULL;
	struct leafwords lw;

	leaf_words(L, &lw);
	mem_view_hint(p->view, ts + (uint64_t)lw.lo, lw.len, MEM_SEAL);
	if (head->cframe)
		mem_view_hint(p->view, head->cframe + (uint64_t)L->cf_current_frame, 8, MEM_SEAL);
	if (c)
		mem_view_hint(p->view, c->lo, c->hi - c->lo, MEM_TAIL);
	for (i = 0; i < p->nvisit; i++) {
		uint64_t f = p->vaddr[i];
		if (!c || f < c->lo + (uint64_t)L->chunk_data || f + flen > c->hi)
			mem_view_hint(p->view, f, flen, MEM_TAIL);
	}
}

/* Do two copies of a thread state name the same thread (ident, OS id)? */
static int same_owner(const struct py_layout *L, const uint8_t *a, const uint8_t *b)
{
	if (memcmp(a + L->ts_thread_id, b + L->ts_thread_id, 8) != 0)
		return 0;
	return L->ts_native_thread_id < 0 ||
	       memcmp(a + L->ts_native_thread_id, b + L->ts_native_thread_id, 4) == 0;
}

/* Walk one thread; fills s (frames in p->frames).  -1 ESRCH, -2 write error. */
static int sample_thread(struct pyproc *p, uint64_t ts, const uint8_t *tsb, struct py_sample *s)
{
	const struct py_layout *L = p->L;
	struct leaf head;
	uint32_t flags, n;
	unsigned misses0 = mem_view_misses(p->view), round;
	const uint8_t *tsb0 = tsb;
	int bad, j;

	/* The common case: everything came from this tick's one read. */
	p->snap_miss = 0;
	n = walk(p, tsb, &head, &flags, &bad);
	if (p->write_err)
		return -2;
	if (p->last_err == -ESRCH)
		return -1;
	if (!bad && mem_view_misses(p->view) != misses0)
		hint_tails(p, ts, &head);   /* verify_tail() asks for them itself */
	if (!bad && mem_view_misses(p->view) == misses0) {
		/* Copies from a read that took too long prove nothing (mem.h). */
		if (mem_view_prefetch_slow(p->view)) {
			p->st.torn_slow++;
		} else if ((j = verify_tail(p, ts, &head)) >= 0) {
			s->nframes = drop_leaves(p, n, (uint32_t)j);
			s->flags |= flags;
			return 0;
		}
	}
	/*
	 * Frames were read on demand (the stack grew, or a first sample), or
	 * the stack changed under the read: walk again from a snapshot that
	 * copies the stack twice in one system call.
	 */
	for (round = 0; round < SNAP_ROUNDS; round++) {
		int r;
		p->st.torn_retries++;
		r = snap_read(p, ts, &head);
		if (r == -ESRCH)
			return -1;
		if (r < 0)
			break;
		if (mem_view_batch_slow(p->view)) {
			p->st.torn_slow++;
			bad = PSF_ERRK_TORN;
			continue;
		}
		p->snapping = 1;
		p->snap_fresh = 0;
		tsb = snap_find(p, ts, L->ts_read, 0);
		/* The thread state may belong to another thread by now (the
		 * next thread reuses its address): not this thread's stack. */
		if (tsb && !same_owner(L, tsb, tsb0)) {
			p->snapping = 0;
			bad = PSF_ERRK_TORN;
			break;
		}
		if (tsb)
			n = walk(p, tsb, &head, &flags, &bad);
		p->snapping = 0;
		if (!tsb)
			break;
		if (p->write_err)
			return -2;
		if (p->snap_miss) {
			p->st.torn_miss++;
			continue;   /* a frame outside the snapshot: include it, again */
		}
		if (!bad) {
			j = leaf_live(p, &head, p->snap_words, p->snap_cf, 1);
			if (j >= 0 && chain_stable(p, 1, (uint32_t)j)) {
				s->nframes = drop_leaves(p, n, (uint32_t)j);
				s->flags |= flags;
				return 0;
			}
			if (j < 0)
				p->st.torn_leaf++;
			else
				p->st.torn_unstable++;
		} else {
			p->st.torn_bad++;
		}
		if (bad && bad != PSF_ERRK_TORN)
			break;   /* unreadable, not torn: no use retrying */
		bad = PSF_ERRK_TORN;
	}
	count_err(p, bad ? bad : PSF_ERRK_TORN);
	if (!bad || bad == PSF_ERRK_TORN) {
		/* Never a wrong stack: nothing but the flag. */
		s->nframes = 0;
	} else {
		/* Leaf frames read before an unreadable one are right. */
		s->nframes = n;
	}
	s->flags |= PSF_SF_PARTIAL | flags;
	p->st.partial++;
	return 0;
}

/* ---------------------------------------------------------------- the tick */

struct gilstate {
	int known;
	uint64_t holder;         /* tstate holding the GIL, 0 = nobody */
};

static void gil_read(struct pyproc *p, uint64_t interp, struct gilstate *g)
{
	const struct py_layout *L = p->L;
	const uint8_t *b;

	g->known = 0;
	g->holder = 0;
	switch (L->gil) {
	case PY_GIL_SYMBOL:
	case PY_GIL_RUNTIME:
		if (!p->rt.gil_tstate_ptr)
			return;
		b = rd(p, p->rt.gil_tstate_ptr, 8, MEM_BODY);
		if (!b)
			return;
		g->holder = u64at(b);
		g->known = 1;
		return;
	case PY_GIL_INTERP: {
		uint64_t gp;
		int32_t lo = L->gil_holder < L->gil_locked ? L->gil_holder : L->gil_locked;
		int32_t hi = L->gil_holder < L->gil_locked ? L->gil_locked + 4 : L->gil_holder + 8;
		b = rd(p, interp + (uint64_t)L->is_ceval_gil, 8, MEM_BODY);
		if (!b)
			return;
		gp = u64at(b);
		if (!ptr_ok(gp))
			return;
		b = rd(p, gp + (uint64_t)lo, (size_t)(hi - lo), MEM_BODY);
		if (!b)
			return;
		g->holder = i32at(b + (L->gil_locked - lo)) ? u64at(b + (L->gil_holder - lo)) : 0;
		g->known = 1;
		return;
	}
	default:
		return;
	}
}

#define IDSET_N (2 * MAX_THREADS)

static int tl_grow(struct pyproc *p)
{
	uint32_t nc = p->tlcap ? p->tlcap * 2 : 64;
	struct tsent *n;

	if (nc > MAX_THREADS)
		nc = MAX_THREADS;
	if (nc <= p->tlcap)
		return -1;
	n = realloc(p->tl, nc * sizeof(*n));
	if (!n)
		return -1;
	p->tl = n;
	p->tlcap = nc;
	return 0;
}

/*
 * Mark the entries of one interpreter's thread list (p->tl[0..n)) that are
 * not running threads yet.  CPython creates a new thread's state in the
 * creating thread and inserts it at the head of the list; until the new
 * thread binds it, its thread_id is 0 (3.12+) or the creator's (2.7 -
 * 3.11, which also copy the creator's native_thread_id).  Such a state
 * would be a second copy of its creator (or a thread without identity):
 * of the entries sharing a thread id, only the last (the oldest) is real.
 */
static void mark_unstarted(struct pyproc *p, uint32_t n)
{
	uint32_t i;

	if (n > 1 && !p->ids) {
		p->ids = calloc(IDSET_N, sizeof(*p->ids));
		if (!p->ids)
			return;
	}
	p->ids_stamp++;
	for (i = n; i-- > 0;) {
		struct tsent *e = &p->tl[i];
		uint32_t h;

		if (e->thread_id == 0) {
			e->skip = 1;
			continue;
		}
		if (n == 1)
			break;
		for (h = hash_addr(e->thread_id, IDSET_N - 1); p->ids[h].stamp == p->ids_stamp;
		     h = (h + 1) & (IDSET_N - 1))
			if (p->ids[h].key == e->thread_id)
				break;
		if (p->ids[h].stamp == p->ids_stamp) {
			e->skip = 1;
			continue;
		}
		p->ids[h].key = e->thread_id;
		p->ids[h].stamp = p->ids_stamp;
	}
}

/* Text of the code cache's string entry (index + 1). */
static const char *cc_text(const struct pyproc *p, uint32_t sidx)
{
	return sidx ? p->pool + p->sc[sidx - 1].off : "";
}

/*
 * The name of a thread that is starting: its outermost frame is
 * threading's Thread._bootstrap(self) (2.7: __bootstrap), whose first
 * local is the Thread; read its _name (2.7: _Thread__name).  A few reads,
 * once per new thread.  0 with the name in out, or -1.
 */
static int boot_name(struct pyproc *p, uint32_t nframes, char *out, size_t cap)
{
	const struct py_layout *L = p->L;
	struct pyobj_ctx c = { p->pid, p->L, 64 };
	const struct centry *e;
	const char *name, *file;
	size_t fl;
	uint64_t slot, self, nameobj;

	if (nframes == 0 || p->frames[nframes - 1].code >= p->ncc)
		return -1;
	e = &p->cc[p->frames[nframes - 1].code];
	name = cc_text(p, e->name);
	file = cc_text(p, e->file);
	fl = strlen(file);
	if (strcmp(name, L->thread_bootstrap) != 0 || fl < 12 ||
	    strcmp(file + fl - 12, "threading.py") != 0)
		return -1;
	if (L->frames == PY_FRAMES_OBJECT)
		slot = p->faddr[nframes - 1] + (uint64_t)L->f_localsplus;
	else
		slot = p->faddr[nframes - 1] + (uint64_t)L->if_localsplus;
	if (pyobj_read(&c, slot, &self, 8) < 0)
		return -1;
	if (L->if_tagged)
		self &= ~(uint64_t)3;
	if (!ptr_ok(self) ||
	    pyobj_getattr(&c, self, L->thread_name_attr, &nameobj) < 0 ||
	    pyobj_text(&c, nameobj, out, cap) <= 0)
		return -1;
	return 0;
}

int pyproc_sample(struct pyproc *p, const struct pyproc_ops *ops, void *ctx)
{
	const struct py_layout *L = p->L;
	const uint8_t *b;
	uint64_t interp;
	unsigned ni;
	int r, complete = 1;
	uint32_t i;

	p->tick++;
	p->st.ticks++;
	p->now_ns = mono_ns();
	p->last_err = 0;
	p->write_err = 0;
	if (p->reset_pending) {
		cache_reset(p);
		p->reset_pending = 0;
	}
	r = mem_view_begin(p->view);
	if (r == -ESRCH)
		return PYPROC_GONE;
	if (r < 0 && r != -ENOMEM)
		return r;
	b = rd(p, p->rt.interp_head_ptr, 8, MEM_BODY);
	if (!b) {
		if (p->last_err == -ESRCH)
			return PYPROC_GONE;
		if (p->last_err == -EPERM)
			return -EPERM;
		count_err(p, PSF_ERRK_THREAD_LIST);
		return PYPROC_NOINTERP;
	}
	interp = u64at(b);
	if (!interp)
		return PYPROC_NOINTERP;
	/* Cache validity for the whole tick. */
	if (p->val_policy == VAL_FUNCVER) {
		b = rd(p, p->rt.func_version_ptr, 4, MEM_BODY);
		if (b)
			p->epoch = u32at(b);
		else
			p->epoch++;   /* unknown: force validation */
	}
	for (ni = 0; interp && ni < MAX_INTERPS; ni++) {
		const uint8_t *ib;
		uint64_t ts, interp_id = 0;
		struct gilstate gil;
		uint32_t nt, k;

		if (!ptr_ok(interp)) {
			count_err(p, PSF_ERRK_THREAD_LIST);
			complete = 0;
			break;
		}
		if (p->val_policy == VAL_GEN && ni == 0) {
			ib = rd(p, interp + (uint64_t)L->is_code_gen, 8, MEM_BODY);
			if (ib) {
				uint64_t g = u64at(ib);
				if (p->have_gen && g != p->gen)
					cache_reset(p);
				p->gen = g;
				p->have_gen = 1;
			} else {
				cache_reset(p);
			}
		}
		if (L->is_id >= 0 && (ib = rd(p, interp + (uint64_t)L->is_id, 8, MEM_BODY)))
			interp_id = u64at(ib);
		gil_read(p, interp, &gil);
		ib = rd(p, interp + (uint64_t)L->is_threads_head, 8, MEM_BODY);
		if (!ib) {
			if (p->last_err == -ESRCH)
				return PYPROC_GONE;
			count_err(p, PSF_ERRK_THREAD_LIST);
			complete = 0;
			break;
		}
		ts = u64at(ib);
		/* The list first: which entries are running threads? */
		nt = 0;
		while (ts) {
			struct tsent *e;
			const uint8_t *tsb;

			if (nt >= MAX_THREADS || !ptr_ok(ts)) {
				count_err(p, PSF_ERRK_THREAD_LIST);
				complete = 0;
				break;
			}
			tsb = rd(p, ts, L->ts_read, MEM_HEAD);
			if (!tsb) {
				if (p->last_err == -ESRCH)
					return PYPROC_GONE;
				count_err(p, PSF_ERRK_THREAD_LIST);
				complete = 0;
				break;
			}
			if (u64at(tsb + L->ts_interp) != interp) {
				count_err(p, PSF_ERRK_THREAD_LIST);
				complete = 0;
				break;
			}
			if (nt == p->tlcap && tl_grow(p) < 0) {
				count_err(p, PSF_ERRK_OTHER);
				complete = 0;
				break;
			}
			e = &p->tl[nt++];
			e->ts = ts;
			e->tsb = tsb;
			e->thread_id = u64at(tsb + L->ts_thread_id);
			e->tid = L->ts_native_thread_id >= 0
				 ? (int32_t)i64at(tsb + L->ts_native_thread_id) : 0;
			if (L->ts_native_thread_id < 0 && p->tid_off >= 0 && ptr_ok(e->thread_id)) {
				/*
				 * 2.7-3.10: which OS thread owns this pthread_t now.
				 * A thread that ends leaves its thread state's
				 * address and its pthread_t (glibc caches stacks) to
				 * the next one: without the kernel's tid (in the
				 * prefetched struct pthread), the next thread would
				 * continue the last one's record and name.
				 */
				int saved = p->last_err;
				const uint8_t *pb = rd(p, e->thread_id + (uint64_t)p->tid_off, 4,
						       MEM_BODY);
				e->tid = pb ? (int32_t)u32at(pb) : 0;
				p->last_err = saved;
			}
			e->skip = 0;
			ts = u64at(tsb + L->ts_next);
		}
		mark_unstarted(p, nt);
		for (k = 0; k < nt; k++) {
			const struct tsent *e = &p->tl[k];
			struct py_sample s;
			struct pythread *t;
			int is_new;

			if (e->skip)
				continue;
			t = thread_slot(p, e->ts, e->thread_id, e->tsb, e->tid, &is_new);
			if (!t) {
				if (is_new == 0)
					count_err(p, PSF_ERRK_OTHER);   /* table full */
				continue;
			}
			if (t->seen == p->tick) {
				/* The list loops back on itself: torn. */
				count_err(p, PSF_ERRK_THREAD_LIST);
				complete = 0;
				break;
			}
			t->seen = p->tick;
			t->interp_id = (uint32_t)interp_id;
			memset(&s, 0, sizeof(s));
			s.slot = (uint32_t)(t - p->th);
			s.tstate = e->ts;
			s.thread_id = e->thread_id;
			s.tid = t->tid;
			s.interp_id = (uint32_t)interp_id;
			s.is_main = t->tid == p->pid;
			s.t_ns = mono_ns();
			if (L->ts_holds_gil >= 0) {
				s.flags |= i32at(e->tsb + L->ts_holds_gil) ? PSF_SF_GIL : 0;
				if (L->ts_gil_requested >= 0 && i32at(e->tsb + L->ts_gil_requested))
					s.flags |= PSF_SF_GIL_WAIT;
			} else if (gil.known) {
				s.flags |= gil.holder == e->ts ? PSF_SF_GIL : 0;
			} else {
				s.flags |= PSF_SF_GIL_UNKNOWN;
			}
			r = sample_thread(p, e->ts, e->tsb, &s);
			if (r == -1)
				return PYPROC_GONE;
			if (r == -2) {
				errno = EIO;
				return -EIO;
			}
			/*
			 * A new thread's name before its first THREAD record:
			 * the last scan, else the Thread object its bootstrap
			 * frame holds (threading._active lists a thread only
			 * once it runs its target), else a scan now
			 * (rate-limited; later names come as renames).
			 */
			if (!t->defined && !t->named && ni == 0) {
				if (boot_name(p, s.nframes, t->name, sizeof(t->name)) == 0) {
					t->named = 1;
					t->name_gen++;
				} else if (p->now_ns - p->tname_last_ns >= TNAME_MIN_GAP_NS) {
					tname_refresh(p, interp);
				}
				/* The main thread of a program that has not
				 * imported threading: threading would call it
				 * MainThread, as py-spy does (never the OS name,
				 * which is the executable's: python3.12,
				 * ld-linux-x86-64). */
				if (!t->named && s.is_main) {
					snprintf(t->name, sizeof(t->name), "MainThread");
					t->named = 1;
					t->name_gen++;
				}
				if (!t->named)
					p->tname_want = 1;
				/* Not running Python yet (e.g. waiting for the GIL
				 * to start): its name comes with its first frame. */
				if (!t->named && s.nframes == 0 &&
				    p->now_ns - t->born_ns < UNNAMED_WAIT_NS)
					continue;
			}
			s.is_new = !t->defined;
			t->defined = 1;
			s.frames = p->frames;
			s.name = t->named ? t->name : NULL;
			s.name_gen = t->name_gen;
			p->st.samples++;
			if (s.flags & PSF_SF_TRUNCATED)
				p->st.truncated++;
			ops->sample(ctx, &s);
			if (p->write_err) {
				errno = EIO;
				return -EIO;
			}
		}
		if (!complete)
			break;
		if (ni == 0 && (p->tname_want ? p->now_ns - p->tname_last_ns >= TNAME_MIN_GAP_NS
					      : p->now_ns - p->tname_last_ns >= TNAME_PERIOD_NS))
			tname_refresh(p, interp);
		b = rd(p, interp + (uint64_t)L->is_next, 8, MEM_BODY);
		if (!b) {
			complete = 0;
			break;
		}
		interp = u64at(b);
	}
	if (complete) {
		for (i = 0; i < p->nth; i++) {
			struct pythread *t = &p->th[i];
			if (t->used && t->seen != p->tick) {
				th_release(p, i);
				if (ops->thread_end)
					ops->thread_end(ctx, i);
			}
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- lifecycle */

struct pyproc *pyproc_new(const struct pyrt *rt, struct psf_writer *w)
{
	struct pyproc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->rt = *rt;
	p->L = &p->rt.L;
	p->pid = rt->pid;
	p->w = w;
	p->tid_off = -2;
	p->tname_last_ns = 0;
	p->other_pidns = proc_same_pidns(rt->pid) == 0;
	p->view = mem_view_new(rt->pid);
	p->cc = malloc(CC_MAX * sizeof(*p->cc));
	p->cc_slots = calloc(2 * CC_MAX, sizeof(*p->cc_slots));
	p->sc = malloc(SC_MAX * sizeof(*p->sc));
	p->sc_slots = calloc(2 * SC_MAX, sizeof(*p->sc_slots));
	p->pool = malloc(POOL_MAX);
	p->ranges = malloc(RANGES_MAX * sizeof(*p->ranges));
	if (!p->view || !p->cc || !p->cc_slots || !p->sc || !p->sc_slots || !p->pool || !p->ranges) {
		pyproc_free(p);
		return NULL;
	}
	if (p->L->is_code_gen >= 0)
		p->val_policy = VAL_GEN;
	else if (p->L->co_version >= 0)
		p->val_policy = rt->func_version_ptr ? VAL_FUNCVER : VAL_VERSION;
	else
		p->val_policy = VAL_FULL;
	return p;
}

void pyproc_free(struct pyproc *p)
{
	if (!p)
		return;
	mem_view_free(p->view);
	free(p->cc);
	free(p->cc_slots);
	free(p->sc);
	free(p->sc_slots);
	free(p->pool);
	free(p->ranges);
	free(p->th);
	free(p->th_hash);
	free(p->th_free);
	free(p->tl);
	free(p->ids);
	tname_release(&p->tn);
	free(p);
}

void pyproc_frame_info(const struct pyproc *p, const struct py_frame *f,
		       const char **name, const char **qualname, const char **file,
		       int32_t *firstlineno)
{
	const struct centry *e;

	*name = *qualname = *file = "?";
	*firstlineno = 0;
	if (f->code >= p->ncc)
		return;
	e = &p->cc[f->code];
	if (e->name)
		*name = p->pool + p->sc[e->name - 1].off;
	if (e->qualname)
		*qualname = p->pool + p->sc[e->qualname - 1].off;
	else
		*qualname = *name;
	if (e->file)
		*file = p->pool + p->sc[e->file - 1].off;
	*firstlineno = e->firstlineno;
}

int pyproc_frame_where(const struct pyproc *p, uint32_t i, uint64_t *frame, uint64_t *code)
{
	if (i >= PYPROC_MAX_DEPTH || p->frames[i].code >= p->ncc)
		return -1;
	*frame = p->faddr[i];
	*code = p->cc[p->frames[i].code].addr;
	return 0;
}

void pyproc_take_errors(struct pyproc *p, uint64_t counts[PSF_ERRK_COUNT_])
{
	memcpy(counts, p->errs, sizeof(p->errs));
	memset(p->errs, 0, sizeof(p->errs));
}

size_t pyproc_tids(const struct pyproc *p, pid_t *out, size_t cap)
{
	size_t n = 0;
	uint32_t i;

	for (i = 0; i < p->nth && n < cap; i++)
		if (p->th[i].used && p->th[i].tid > 0)
			out[n++] = p->th[i].tid;
	return n;
}

const struct pyrt *pyproc_runtime(const struct pyproc *p)
{
	return &p->rt;
}

void pyproc_stats(const struct pyproc *p, struct pyproc_stats *st)
{
	struct mem_view_stats ms;

	*st = p->st;
	mem_view_stats(p->view, &ms);
	st->syscalls = ms.syscalls;
	st->iovecs = ms.iovecs;
	st->misses = ms.misses;
	st->slow_reads = ms.slow_reads;
	st->max_read_ns = ms.max_read_ns;
	memcpy(st->read_hist, ms.read_hist, sizeof(st->read_hist));
}
