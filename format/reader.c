/*
 * reader.c - the streaming capture file reader (docs/format.md §3-§7).
 *
 * The reader holds one chunk at a time.  A chunk is loaded and checked
 * completely - header CRC, sequence, sizes, payload CRC, decompression,
 * record framing and referential integrity - before any of its records is
 * handed out (§4), so a consumer never sees half of a damaged chunk.
 * Then records are decoded again one by one from the checked buffer; a
 * sample block is walked with one cursor per column and expands into one
 * PSF_REC_SAMPLE per sample without allocating.
 *
 * Memory: the raw (decompressed) chunk, for fd input the stored chunk,
 * one string buffer and the metadata; never anything that grows with the
 * file.  Integrity needs only the number of ids defined so far in each
 * space (ids are consecutive from 1, §5.1), not the definitions.
 *
 * Damage (§4): a chunk that fails its checks is skipped when an intact
 * chunk follows that starts with a SYNC record (format 1.1): the reader
 * scans for the next chunk header with a valid CRC, takes the id counts
 * and the sample count from its SYNC, and remembers the ids defined in the
 * lost chunks as ranges (at most GAP_RANGES per space) so that what
 * refers to them later is adjusted or left out, never misattributed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "format_int.h"
#include "pyspy_format.h"

/* Number of ids defined so far in each space (§5.1). */
struct counts {
	uint32_t strings, frames, stacks, processes, threads;
};

/* Id spaces, in SYNC order. */
enum space { SP_STRING, SP_FRAME, SP_STACK, SP_PROCESS, SP_THREAD, SP_N };

/* Ranges of lost ids kept per space; beyond, the last range grows. */
#define GAP_RANGES 64

struct id_range {
	uint32_t lo, hi;
};

/* What can be undone when a chunk fails its checks. */
struct vstate {
	struct counts vc;
	uint64_t v_sched, v_actual, v_samples;
	int trailer_checked;
	int nlost[SP_N];
	struct id_range last[SP_N];
};

/* A bounded decoding cursor: any failure makes it `bad` and sticky. */
struct cur {
	const uint8_t *p, *end;
	int bad;
};

/* Walking state of a sample block being handed out (§5.3). */
struct block {
	struct cur sd, late, count, thread, stack, flags, offset;
	uint64_t period;
	uint64_t sched, actual, late_u;   /* current tick, units */
	uint32_t ticks_left;
	uint64_t in_tick;                 /* samples left in the current tick */
};

struct psf_reader {
	int fd;                  /* -1: memory input */
	const uint8_t *mem;
	size_t mem_len;
	uint64_t pos;            /* input bytes consumed */

	struct psf_meta meta;
	char *meta_text;         /* the metadata strings, NUL-terminated */
	size_t meta_text_cap;
	uint32_t unit;           /* time_unit_ns */

	uint8_t *stored;         /* fd input: the stored payload */
	size_t stored_cap;
	uint8_t *raw;            /* decompressed payload */
	size_t raw_cap;
	char *text;              /* a string handed out, NUL-terminated */
	ZSTD_DCtx *dctx;

	const uint8_t *payload;  /* the current chunk's records */
	size_t payload_len;
	size_t rpos;             /* next record to hand out */
	int have_chunk;
	int in_block;
	struct block blk;

	uint32_t chunk;          /* chunk being read, or that failed */
	uint32_t nchunks;        /* chunks loaded completely */
	uint64_t chunk_off;
	int err;                 /* sticky: once set, every call returns it */
	int trailer_checked;     /* a TRAILER passed validation */
	int complete;            /* the TRAILER was handed out */

	struct counts vc;        /* ids defined, as validated */
	struct counts ec;        /* ids defined, as handed out */
	uint64_t v_sched, v_actual; /* latest tick times validated, units */
	uint64_t v_samples;      /* samples validated */

	/* Damage skipped (file header comment). */
	int resyncing;           /* loading a chunk found by the scan */
	int no_sync;             /* ... and it had no SYNC: a 1.0 writer */
	uint64_t sync_gap;       /* samples lost, from that SYNC */
	int sync_jump;           /* a SYNC of an intact sequence counted more than was read */
	int gap_pending;         /* hand out r->gap next */
	struct psf_gap gap;
	struct id_range lost[SP_N][GAP_RANGES];
	int nlost[SP_N];
	uint64_t dropped;        /* samples left out after a gap */
};

static uint32_t *count_of(struct counts *c, int sp)
{
	switch (sp) {
	case SP_STRING: return &c->strings;
	case SP_FRAME: return &c->frames;
	case SP_STACK: return &c->stacks;
	case SP_PROCESS: return &c->processes;
	default: return &c->threads;
	}
}

/* Mark ids lo..hi of space sp lost (merged with the last range if adjacent). */
static void lost_add(struct psf_reader *r, int sp, uint32_t lo, uint32_t hi)
{
	int n = r->nlost[sp];

	if (lo > hi)
		return;
	if (n > 0 && (r->lost[sp][n - 1].hi + 1 >= lo || n == GAP_RANGES)) {
		/* adjacent, or out of ranges: grow the last (over-approximates) */
		if (hi > r->lost[sp][n - 1].hi)
			r->lost[sp][n - 1].hi = hi;
		return;
	}
	r->lost[sp][n].lo = lo;
	r->lost[sp][n].hi = hi;
	r->nlost[sp] = n + 1;
}

static int is_lost(const struct psf_reader *r, int sp, uint32_t id)
{
	int i;

	for (i = r->nlost[sp] - 1; i >= 0; i--)
		if (id >= r->lost[sp][i].lo && id <= r->lost[sp][i].hi)
			return 1;
	return 0;
}

static void vstate_save(const struct psf_reader *r, struct vstate *v)
{
	int i;

	v->vc = r->vc;
	v->v_sched = r->v_sched;
	v->v_actual = r->v_actual;
	v->v_samples = r->v_samples;
	v->trailer_checked = r->trailer_checked;
	for (i = 0; i < SP_N; i++) {
		v->nlost[i] = r->nlost[i];
		if (r->nlost[i] > 0)
			v->last[i] = r->lost[i][r->nlost[i] - 1];
	}
}

static void vstate_restore(struct psf_reader *r, const struct vstate *v)
{
	int i;

	r->vc = v->vc;
	r->v_sched = v->v_sched;
	r->v_actual = v->v_actual;
	r->v_samples = v->v_samples;
	r->trailer_checked = v->trailer_checked;
	for (i = 0; i < SP_N; i++) {
		r->nlost[i] = v->nlost[i];
		if (v->nlost[i] > 0)
			r->lost[i][v->nlost[i] - 1] = v->last[i];
	}
}

/* ------------------------------------------------------------ cursors */

static uint64_t cur_var(struct cur *c, uint64_t max)
{
	uint64_t v;

	if (c->bad)
		return 0;
	if (c->p < c->end && *c->p < 0x80) {
		/* One-byte varints dominate the columns. */
		v = *c->p;
		if (v > max) {
			c->bad = 1;
			return 0;
		}
		c->p++;
		return v;
	}
	if (psf_varint_get(&c->p, c->end, max, &v) < 0) {
		c->bad = 1;
		return 0;
	}
	return v;
}

static uint32_t cur_u32(struct cur *c)
{
	return (uint32_t)cur_var(c, UINT32_MAX);
}

static int32_t cur_s32(struct cur *c)
{
	/* A 32-bit zigzag value maps exactly onto the int32 range. */
	return (int32_t)psf_unzigzag(cur_var(c, UINT32_MAX));
}

static uint8_t cur_u8(struct cur *c)
{
	if (c->bad || c->p >= c->end) {
		c->bad = 1;
		return 0;
	}
	return *c->p++;
}

/* Non-negative 32-bit value that must fit an int32 (pid, tid). */
static int32_t cur_pid(struct cur *c)
{
	return (int32_t)cur_var(c, INT32_MAX);
}

/* A time in units, converted to ns; overflow is corruption (§5.3). */
static uint64_t cur_time(struct cur *c, uint32_t unit)
{
	uint64_t v = cur_var(c, UINT64_MAX);

	if (v > UINT64_MAX / unit) {
		c->bad = 1;
		return 0;
	}
	return v * unit;
}

/* An id of a space with `defined` ids; id 0 only when zero_ok. */
static uint32_t cur_ref(struct cur *c, uint32_t defined, int zero_ok)
{
	uint32_t v = cur_u32(c);

	if (v > defined || (v == 0 && !zero_ok))
		c->bad = 1;
	return v;
}

/* ------------------------------------------------------------ input */

/* Read up to n bytes into dst; *got < n only at end of input. */
static int in_read(struct psf_reader *r, uint8_t *dst, size_t n, size_t *got)
{
	size_t k = 0;

	if (r->fd < 0) {
		size_t left = r->mem_len - (size_t)r->pos;

		k = n < left ? n : left;
		if (k > 0)
			memcpy(dst, r->mem + r->pos, k);
	} else {
		while (k < n) {
			ssize_t m = read(r->fd, dst + k, n - k);

			if (m < 0) {
				if (errno == EINTR)
					continue;
				r->pos += k;
				*got = k;
				return PSF_E_IO;
			}
			if (m == 0)
				break;
			k += (size_t)m;
		}
	}
	r->pos += k;
	*got = k;
	return 0;
}

/*
 * Make n payload bytes available at *out.  Memory input is used in
 * place.  From an fd the buffer grows only as data actually arrives, so a
 * cut or hostile file cannot make the reader allocate its claimed size.
 */
static int in_payload(struct psf_reader *r, size_t n, const uint8_t **out)
{
	size_t got = 0;

	if (r->fd < 0) {
		size_t left = r->mem_len - (size_t)r->pos;

		if (left < n) {
			r->pos = r->mem_len;
			return PSF_E_TRUNCATED;
		}
		*out = r->mem + r->pos;
		r->pos += n;
		return 0;
	}
	while (got < n) {
		size_t target = got < 65536 ? 65536 : got * 2;
		size_t k;
		int ret;

		if (target > n)
			target = n;
		if (target > r->stored_cap) {
			uint8_t *p = realloc(r->stored, target);

			if (!p)
				return PSF_E_NOMEM;
			r->stored = p;
			r->stored_cap = target;
		}
		ret = in_read(r, r->stored + got, target - got, &k);
		if (ret < 0)
			return ret;
		got += k;
		if (got < target)
			return PSF_E_TRUNCATED;
	}
	*out = r->stored;
	return 0;
}

/* ------------------------------------------------------------ header */

/* Copy a metadata string (validated) into meta_text; returns it. */
static const char *meta_string(struct psf_reader *r, size_t *used, const uint8_t *p, uint32_t n)
{
	char *s = r->meta_text + *used;

	memcpy(s, p, n);
	s[n] = '\0';
	*used += (size_t)n + 1;
	return s;
}

static int header_parse(struct psf_reader *r, const uint8_t *h, size_t hs)
{
	const uint8_t *p = h + PSF_FIXED_HEADER, *end = h + hs - 4;
	struct psf_meta *m = &r->meta;
	uint32_t seen = 0;
	size_t used = 0;

	m->flags = psf_get_le64(h + 16);
	memcpy(m->capture_id, h + 24, 16);
	if (m->flags & ~(uint64_t)PSF_HF_KNOWN)
		return PSF_E_UNSUPPORTED;
	/* One NUL per string at most: a string field takes >= 6 bytes. */
	r->meta_text_cap = hs;
	r->meta_text = malloc(r->meta_text_cap);
	if (!r->meta_text)
		return PSF_E_NOMEM;
	m->time_unit_ns = PSF_DEFAULT_TIME_UNIT_NS;
	while (p < end) {
		uint16_t key;
		uint32_t len;
		const char **str = NULL;

		if (end - p < 6)
			return PSF_E_CORRUPT;
		key = psf_get_le16(p);
		len = psf_get_le32(p + 2);
		p += 6;
		if (len > (size_t)(end - p))
			return PSF_E_CORRUPT;
		if (key >= 1 && key <= 31) {
			if (seen & (1u << key))
				return PSF_E_CORRUPT;
			seen |= 1u << key;
		}
		switch (key) {
		case PSF_MK_HOSTNAME: str = &m->hostname; break;
		case PSF_MK_KERNEL: str = &m->kernel; break;
		case PSF_MK_TOOL_VERSION: str = &m->tool_version; break;
		case PSF_MK_CMDLINE: str = &m->cmdline; break;
		case PSF_MK_PYTHON_VERSION: str = &m->python_version; break;
		case PSF_MK_PYTHON_EXE: str = &m->python_exe; break;
		case PSF_MK_OPTIONS: str = &m->options; break;
		case PSF_MK_START_WALL_NS:
		case PSF_MK_START_MONO_NS:
			if (len != 8)
				return PSF_E_CORRUPT;
			if (key == PSF_MK_START_WALL_NS)
				m->start_wall_ns = psf_get_le64(p);
			else
				m->start_mono_ns = psf_get_le64(p);
			break;
		case PSF_MK_RATE_HZ:
		case PSF_MK_TIME_UNIT_NS:
		case PSF_MK_PID:
			if (len != 4)
				return PSF_E_CORRUPT;
			if (key == PSF_MK_RATE_HZ) {
				m->rate_hz = psf_get_le32(p);
			} else if (key == PSF_MK_TIME_UNIT_NS) {
				m->time_unit_ns = psf_get_le32(p);
				if (m->time_unit_ns == 0)
					return PSF_E_CORRUPT;
			} else {
				if (psf_get_le32(p) > INT32_MAX)
					return PSF_E_CORRUPT;
				m->pid = (int32_t)psf_get_le32(p);
			}
			break;
		default:
			break; /* unknown key: skipped (§3.2) */
		}
		if (str) {
			if (len > PSF_MAX_STRING || !psf_text_valid((const char *)p, len))
				return PSF_E_CORRUPT;
			*str = meta_string(r, &used, p, len);
		}
		p += len;
	}
	r->unit = m->time_unit_ns;
	return 0;
}

static int reader_open(struct psf_reader *r)
{
	uint8_t fixed[16];
	uint8_t *h = NULL;
	size_t got, m;
	uint32_t hs;
	int ret;

	ret = in_read(r, fixed, sizeof(fixed), &got);
	if (ret < 0)
		return ret;
	if (got == 0)
		return PSF_E_EMPTY;
	m = got < PSF_MAGIC_LEN ? got : PSF_MAGIC_LEN;
	if (memcmp(fixed, PSF_MAGIC, m) != 0)
		return PSF_E_NOT_CAPTURE;
	if (got < 10)
		return PSF_E_TRUNCATED;
	/* §3.1: bytes 0-15 never change, so the version is always readable. */
	r->meta.major = psf_get_le16(fixed + 8);
	if (got >= 12)
		r->meta.minor = psf_get_le16(fixed + 10);
	if (r->meta.major > PSF_FORMAT_MAJOR)
		return PSF_E_NEWER;
	if (r->meta.major == 0)
		return PSF_E_CORRUPT; /* there is no format 0 */
	if (got < 16)
		return PSF_E_TRUNCATED;
	hs = psf_get_le32(fixed + 12);
	if (hs < PSF_MIN_HEADER || hs > PSF_MAX_HEADER)
		return PSF_E_CORRUPT;
	h = malloc(hs);
	if (!h)
		return PSF_E_NOMEM;
	memcpy(h, fixed, 16);
	ret = in_read(r, h + 16, hs - 16, &got);
	if (ret < 0)
		goto out;
	if (got < hs - 16) {
		ret = PSF_E_TRUNCATED;
		goto out;
	}
	if (psf_crc32c(0, h, hs - 4) != psf_get_le32(h + hs - 4)) {
		ret = PSF_E_CHECKSUM;
		goto out;
	}
	ret = header_parse(r, h, hs);
	if (ret < 0)
		goto out;
	r->dctx = ZSTD_createDCtx();
	if (!r->dctx) {
		ret = PSF_E_NOMEM;
		goto out;
	}
	if (ZSTD_isError(ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_windowLogMax,
						PSF_ZSTD_WINDOW_LOG_MAX))) {
		ret = PSF_E_ZSTD;
		goto out;
	}
	r->chunk_off = r->pos;
	ret = 0;
out:
	free(h);
	return ret;
}

static int reader_new(struct psf_reader **out, int fd, const void *buf, size_t len)
{
	struct psf_reader *r;
	int ret;

	r = calloc(1, sizeof(*r));
	if (!r)
		return PSF_E_NOMEM;
	r->fd = fd;
	r->mem = buf;
	r->mem_len = len;
	ret = reader_open(r);
	if (ret == PSF_E_NEWER) {
		/* Kept, so the caller can name the version it cannot read. */
		r->err = ret;
		*out = r;
		return ret;
	}
	if (ret < 0) {
		int e = errno;

		psf_reader_free(r);
		errno = e;
		return ret;
	}
	*out = r;
	return 0;
}

int psf_reader_open_fd(struct psf_reader **out, int fd)
{
	if (!out)
		return PSF_E_INVAL;
	*out = NULL;
	if (fd < 0)
		return PSF_E_INVAL;
	return reader_new(out, fd, NULL, 0);
}

int psf_reader_open_mem(struct psf_reader **out, const void *buf, size_t len)
{
	if (!out)
		return PSF_E_INVAL;
	*out = NULL;
	if (!buf && len > 0)
		return PSF_E_INVAL;
	if (!buf)
		buf = "";
	return reader_new(out, -1, buf, len);
}

const struct psf_meta *psf_reader_meta(const struct psf_reader *r)
{
	return r ? &r->meta : NULL;
}

/* ------------------------------------------------------------ records */

/*
 * Decode the record type/body[0..len) into rec, checking every field
 * against the bounds and the ids defined so far in *c (then counting the
 * ids it defines).  emit: strings are copied out for the caller.  Returns
 * 1 for a record, 0 for a record to skip (unknown ancillary, sample block:
 * handled by the caller), or a negative PSF_E_* code.
 */
static int record_decode(struct psf_reader *r, uint8_t type, const uint8_t *body, size_t len,
			 struct psf_record *rec, struct counts *c, int emit)
{
	struct cur k = { body, body + len, 0 };
	uint32_t n;

	memset(rec, 0, sizeof(*rec));
	rec->type = type;
	switch (type) {
	case PSF_REC_STRING:
		n = cur_u32(&k);
		if (k.bad || n > PSF_MAX_STRING || n > (size_t)(k.end - k.p))
			return PSF_E_CORRUPT;
		if (!emit && !psf_text_valid((const char *)k.p, n))
			return PSF_E_CORRUPT;
		if (c->strings == UINT32_MAX)
			return PSF_E_CORRUPT;
		rec->u.string.id = ++c->strings;
		rec->u.string.len = n;
		if (emit) {
			memcpy(r->text, k.p, n);
			r->text[n] = '\0';
			rec->u.string.data = r->text;
		}
		return 1;
	case PSF_REC_FRAME: {
		struct psf_frame *f = &rec->u.frame;

		f->kind = cur_u8(&k);
		f->name = cur_ref(&k, c->strings, 1);
		switch (f->kind) {
		case PSF_FRAME_PYTHON:
			f->qualname = cur_ref(&k, c->strings, 1);
			f->file = cur_ref(&k, c->strings, 1);
			f->firstlineno = cur_s32(&k);
			break;
		case PSF_FRAME_NATIVE:
			f->file = cur_ref(&k, c->strings, 1);
			f->offset = cur_var(&k, UINT64_MAX);
			break;
		case PSF_FRAME_SYNTHETIC:
			break;
		default:
			return PSF_E_CORRUPT;
		}
		if (k.bad || c->frames == UINT32_MAX)
			return PSF_E_CORRUPT;
		f->id = ++c->frames;
		return 1;
	}
	case PSF_REC_STACK: {
		struct psf_stack *s = &rec->u.stack;

		/* parent <= stacks defined: so always < this stack's id. */
		s->parent = cur_ref(&k, c->stacks, 1);
		s->frame = cur_ref(&k, c->frames, 0);
		s->line = cur_s32(&k);
		if (k.bad || c->stacks == UINT32_MAX)
			return PSF_E_CORRUPT;
		s->id = ++c->stacks;
		return 1;
	}
	case PSF_REC_PROCESS: {
		struct psf_process *p = &rec->u.process;

		p->pid = cur_pid(&k);
		p->ppid = cur_pid(&k);
		p->start_ns = cur_time(&k, r->unit);
		p->cmdline = cur_ref(&k, c->strings, 1);
		p->python_version = cur_ref(&k, c->strings, 1);
		p->exe = cur_ref(&k, c->strings, 1);
		if (k.bad || c->processes == UINT32_MAX)
			return PSF_E_CORRUPT;
		p->id = ++c->processes;
		return 1;
	}
	case PSF_REC_THREAD: {
		struct psf_thread *t = &rec->u.thread;

		t->process = cur_ref(&k, c->processes, 0);
		t->tid = cur_pid(&k);
		t->py_thread_id = cur_var(&k, UINT64_MAX);
		t->name = cur_ref(&k, c->strings, 1);
		t->first_ns = cur_time(&k, r->unit);
		t->interp = cur_u32(&k);
		t->flags = cur_u32(&k);
		if (k.bad || (t->flags & ~(uint32_t)PSF_TF_MAIN) || c->threads == UINT32_MAX)
			return PSF_E_CORRUPT;
		t->id = ++c->threads;
		return 1;
	}
	case PSF_REC_PROCESS_END: {
		struct psf_process_end *e = &rec->u.process_end;

		e->process = cur_ref(&k, c->processes, 0);
		e->t_ns = cur_time(&k, r->unit);
		e->how = cur_u8(&k);
		e->status = cur_s32(&k);
		break;
	}
	case PSF_REC_THREAD_NAME: {
		struct psf_thread_name *t = &rec->u.thread_name;

		t->thread = cur_ref(&k, c->threads, 0);
		t->t_ns = cur_time(&k, r->unit);
		t->name = cur_ref(&k, c->strings, 1);
		break;
	}
	case PSF_REC_THREAD_END: {
		struct psf_thread_end *t = &rec->u.thread_end;

		t->thread = cur_ref(&k, c->threads, 0);
		t->last_ns = cur_time(&k, r->unit);
		break;
	}
	case PSF_REC_ERRORS: {
		struct psf_errors *e = &rec->u.errors;

		e->process = cur_ref(&k, c->processes, 1);
		e->t_ns = cur_time(&k, r->unit);
		e->kind = cur_u32(&k);
		e->count = cur_var(&k, UINT64_MAX);
		break;
	}
	case PSF_REC_LAG: {
		struct psf_lag *l = &rec->u.lag;

		l->t_ns = cur_time(&k, r->unit);
		l->ticks = cur_var(&k, UINT64_MAX);
		l->missed = cur_var(&k, UINT64_MAX);
		l->max_late_ns = cur_time(&k, r->unit);
		l->sum_late_ns = cur_time(&k, r->unit);
		break;
	}
	case PSF_REC_LOCAL: {
		struct psf_local *l = &rec->u.local;

		l->thread = cur_ref(&k, c->threads, 0);
		l->t_ns = cur_time(&k, r->unit);
		l->depth = cur_u32(&k);
		l->flags = cur_u32(&k);
		l->name = cur_ref(&k, c->strings, 1);
		l->repr_len = cur_u32(&k);
		if (k.bad || l->repr_len > PSF_MAX_STRING || l->repr_len > (size_t)(k.end - k.p) ||
		    (l->flags & ~(uint32_t)(PSF_LF_ARG | PSF_LF_TRUNCATED | PSF_LF_ERROR)))
			return PSF_E_CORRUPT;
		if (!emit && !psf_text_valid((const char *)k.p, l->repr_len))
			return PSF_E_CORRUPT;
		if (emit) {
			memcpy(r->text, k.p, l->repr_len);
			r->text[l->repr_len] = '\0';
			l->repr = r->text;
		}
		break;
	}
	case PSF_REC_TRAILER: {
		struct psf_trailer *t = &rec->u.trailer;

		t->end_ns = cur_time(&k, r->unit);
		t->samples = cur_var(&k, UINT64_MAX);
		t->ticks = cur_var(&k, UINT64_MAX);
		t->missed = cur_var(&k, UINT64_MAX);
		t->errors = cur_var(&k, UINT64_MAX);
		t->partial = cur_var(&k, UINT64_MAX);
		t->chunks = cur_u32(&k);
		t->reason = cur_u8(&k);
		t->exit_status = cur_s32(&k);
		break;
	}
	default:
		/* §5.1: skip an unknown ancillary type, refuse a critical one. */
		return (type & PSF_REC_ANCILLARY) ? 0 : PSF_E_UNSUPPORTED;
	}
	return k.bad ? PSF_E_CORRUPT : 1;
}

/* ------------------------------------------------------------ sample blocks */

struct block_hdr {
	uint32_t n_ticks, n_samples;
	uint64_t period, base;
	const uint8_t *col[8];   /* column starts; col[7] = end of the last */
};

/* Skip n varints of at most max, checking their form. */
static int skip_varints(const uint8_t **p, const uint8_t *end, uint64_t n, uint64_t max)
{
	uint64_t v;

	while (n-- > 0) {
		if (*p < end && **p < 0x80) {
			(*p)++;
			continue;
		}
		if (psf_varint_get(p, end, max, &v) < 0)
			return PSF_E_CORRUPT;
	}
	return 0;
}

/* Parse a block's header and locate its columns (§5.3). */
static int block_locate(const uint8_t *body, size_t len, struct block_hdr *h)
{
	static const uint64_t width[7] = { UINT64_MAX, UINT64_MAX, UINT32_MAX, UINT32_MAX,
					   UINT32_MAX, UINT32_MAX, UINT64_MAX };
	struct cur k = { body, body + len, 0 };
	const uint8_t *p;
	int i;

	h->n_ticks = cur_u32(&k);
	h->n_samples = cur_u32(&k);
	h->period = cur_var(&k, UINT64_MAX);
	h->base = cur_var(&k, UINT64_MAX);
	if (k.bad || h->n_ticks == 0 || h->n_samples > PSF_MAX_BLOCK_SAMPLES)
		return PSF_E_CORRUPT;
	/* Every value takes at least a byte: reject impossible counts early. */
	if (3 * (uint64_t)h->n_ticks + 4 * (uint64_t)h->n_samples > (size_t)(k.end - k.p))
		return PSF_E_CORRUPT;
	p = k.p;
	for (i = 0; i < 7; i++) {
		h->col[i] = p;
		if (skip_varints(&p, k.end, i < 3 ? h->n_ticks : h->n_samples, width[i]) < 0)
			return PSF_E_CORRUPT;
	}
	h->col[7] = p;
	return 0;
}

static void block_cursors(struct block *b, const struct block_hdr *h)
{
	struct cur *c[7] = { &b->sd, &b->late, &b->count, &b->thread, &b->stack,
			     &b->flags, &b->offset };
	int i;

	for (i = 0; i < 7; i++) {
		c[i]->p = h->col[i];
		c[i]->end = h->col[i + 1];
		c[i]->bad = 0;
	}
	b->period = h->period;
	b->sched = h->base;
	b->ticks_left = h->n_ticks;
	b->in_tick = 0;
}

/* Advance to the next tick: scheduled and actual time, sample count. */
static int block_tick(struct block *b, uint64_t n_samples)
{
	int64_t d = psf_unzigzag(cur_var(&b->sd, UINT64_MAX));
	uint64_t s = b->sched + b->period;

	if (s < b->sched)
		return PSF_E_CORRUPT;
	if (d >= 0) {
		if (s + (uint64_t)d < s)
			return PSF_E_CORRUPT;
		s += (uint64_t)d;
	} else {
		/* -(d + 1) + 1 avoids negating INT64_MIN. */
		uint64_t m = (uint64_t)(-(d + 1)) + 1;

		if (m > s)
			return PSF_E_CORRUPT;
		s -= m;
	}
	b->sched = s;
	b->late_u = cur_var(&b->late, UINT64_MAX);
	b->actual = s + b->late_u;
	if (b->actual < s)
		return PSF_E_CORRUPT;
	b->in_tick = cur_var(&b->count, n_samples);
	b->ticks_left--;
	return 0;
}

/* Decode one sample of the current tick into *s (times in units). */
static void block_sample(struct block *b, struct psf_sample *s, uint64_t *offset)
{
	s->thread = (uint32_t)cur_var(&b->thread, UINT32_MAX);
	s->stack = (uint32_t)cur_var(&b->stack, UINT32_MAX);
	s->flags = (uint32_t)cur_var(&b->flags, UINT32_MAX);
	*offset = cur_var(&b->offset, UINT64_MAX);
	b->in_tick--;
}

/* Check a whole sample block against §5.3 and the ids defined so far. */
static int block_validate(struct psf_reader *r, const uint8_t *body, size_t len)
{
	struct block_hdr h;
	struct block b;
	uint64_t sum = 0, max_units = UINT64_MAX / r->unit;
	int ret;

	ret = block_locate(body, len, &h);
	if (ret < 0)
		return ret;
	block_cursors(&b, &h);
	while (b.ticks_left > 0) {
		ret = block_tick(&b, h.n_samples);
		if (ret < 0 || b.sd.bad || b.late.bad || b.count.bad)
			return PSF_E_CORRUPT;
		/* Tick times never go back, within and across blocks. */
		if (b.sched < r->v_sched || b.actual < r->v_actual || b.actual > max_units)
			return PSF_E_CORRUPT;
		r->v_sched = b.sched;
		r->v_actual = b.actual;
		sum += b.in_tick;
		if (sum > h.n_samples)
			return PSF_E_CORRUPT;
		while (b.in_tick > 0) {
			struct psf_sample s;
			uint64_t off;

			block_sample(&b, &s, &off);
			if (s.thread == 0 || s.thread > r->vc.threads || s.stack > r->vc.stacks)
				return PSF_E_CORRUPT;
			if ((s.flags & ~(uint32_t)PSF_SF_KNOWN) ||
			    ((s.flags & PSF_SF_GIL) && (s.flags & PSF_SF_GIL_UNKNOWN)) ||
			    ((s.flags & PSF_SF_IDLE) && (s.flags & PSF_SF_IDLE_UNKNOWN)))
				return PSF_E_CORRUPT;
			if (off > max_units - b.actual)
				return PSF_E_CORRUPT;
		}
	}
	if (sum != h.n_samples || b.thread.bad || b.stack.bad || b.flags.bad || b.offset.bad)
		return PSF_E_CORRUPT;
	r->v_samples += h.n_samples;
	return 0;
}

/* A SYNC record's fields: the ids of each space and the samples before its chunk. */
static int sync_decode(const uint8_t *body, size_t len, uint32_t ids[SP_N], uint64_t *samples)
{
	struct cur k = { body, body + len, 0 };
	int i;

	for (i = 0; i < SP_N; i++)
		ids[i] = cur_u32(&k);
	*samples = cur_var(&k, UINT64_MAX);
	return k.bad ? PSF_E_CORRUPT : 0;
}

/*
 * Validate a SYNC (the first record of a chunk) against what was read:
 * it never counts less; more means ids and samples of chunks that were
 * lost (skipped damage, or a chunk the writer had to cut off): those ids
 * are remembered as lost.
 */
static int sync_validate(struct psf_reader *r, const uint8_t *body, size_t len)
{
	uint32_t ids[SP_N];
	uint64_t samples;
	int sp;

	if (sync_decode(body, len, ids, &samples) < 0 || samples < r->v_samples)
		return PSF_E_CORRUPT;
	for (sp = 0; sp < SP_N; sp++)
		if (ids[sp] < *count_of(&r->vc, sp))
			return PSF_E_CORRUPT;
	for (sp = 0; sp < SP_N; sp++) {
		uint32_t *c = count_of(&r->vc, sp);

		if (ids[sp] > *c && !r->resyncing)
			r->sync_jump = 1;
		lost_add(r, sp, *c + 1, ids[sp]);
		*c = ids[sp];
	}
	if (r->resyncing)
		r->sync_gap = samples - r->v_samples;
	if (!r->resyncing && samples > r->v_samples) {
		r->sync_jump = 1;
		r->sync_gap = samples - r->v_samples;
	}
	r->v_samples = samples;
	return 0;
}

/* ------------------------------------------------------------ chunks */

/* Check every record of the loaded payload (§4: before handing any out). */
static int chunk_validate(struct psf_reader *r)
{
	const uint8_t *p = r->payload, *end;
	struct psf_record rec;
	int first = 1, synced = 0;

	if (!p)
		return r->resyncing ? (r->no_sync = 1, PSF_E_CORRUPT) : 0; /* empty: nothing to check */
	end = p + r->payload_len;
	while (p < end) {
		uint64_t len;
		uint8_t type;
		int ret;

		if (r->trailer_checked)
			return PSF_E_CORRUPT; /* the TRAILER is the last record */
		type = *p++;
		/* The bound is checked after the varint, which takes room too. */
		if (psf_varint_get(&p, end, UINT32_MAX, &len) < 0 || len > (uint64_t)(end - p))
			return PSF_E_CORRUPT;
		if (type == PSF_REC_SAMPLE)
			ret = block_validate(r, p, (size_t)len);
		else if (type == PSF_REC_SYNC)
			ret = first ? (synced = 1, sync_validate(r, p, (size_t)len)) : PSF_E_CORRUPT;
		else
			ret = record_decode(r, type, p, (size_t)len, &rec, &r->vc, 0);
		if (ret < 0)
			return ret;
		if (type == PSF_REC_TRAILER)
			r->trailer_checked = 1;
		p += len;
		first = 0;
	}
	if (r->resyncing && !synced) {
		r->no_sync = 1; /* a format 1.0 writer: ids after the damage are unknown */
		return PSF_E_CORRUPT;
	}
	return 0;
}

static int zstd_error(size_t z)
{
	switch (ZSTD_getErrorCode(z)) {
	case ZSTD_error_memory_allocation:
		return PSF_E_NOMEM;
	case ZSTD_error_frameParameter_windowTooLarge:
		return PSF_E_LIMIT;
	default:
		return PSF_E_CORRUPT;
	}
}

/* Decompress one zstd frame of exactly raw_size bytes (§4). */
static int chunk_inflate(struct psf_reader *r, const uint8_t *src, size_t n, size_t raw_size)
{
	unsigned long long fcs;
	size_t z;

	if (n < 4 || psf_get_le32(src) != ZSTD_MAGICNUMBER)
		return PSF_E_CORRUPT; /* not a zstd frame (skippable ones neither) */
	z = ZSTD_findFrameCompressedSize(src, n);
	if (ZSTD_isError(z) || z != n)
		return PSF_E_CORRUPT; /* exactly one frame, nothing after it */
	fcs = ZSTD_getFrameContentSize(src, n);
	if (fcs == ZSTD_CONTENTSIZE_ERROR)
		return PSF_E_CORRUPT;
	/*
	 * Window limit (§4).  One-shot decompression into a raw_size buffer
	 * does not need the window, so zstd does not check it there; check the
	 * frame header (RFC 8878 3.1.1.1: without the single-segment flag a
	 * window descriptor follows) so that every reader accepts the same
	 * files, streaming ones included.
	 */
	if (!(src[4] & 0x20)) {
		unsigned exp = src[5] >> 3, mant = src[5] & 7;
		uint64_t base = (uint64_t)1 << (10 + exp);

		if (base + base / 8 * mant > ((uint64_t)1 << PSF_ZSTD_WINDOW_LOG_MAX))
			return PSF_E_LIMIT;
	}
	/* A size in the frame that disagrees is caught before allocating. */
	if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs != raw_size)
		return PSF_E_CORRUPT;
	if (raw_size > r->raw_cap) {
		uint8_t *p = realloc(r->raw, raw_size);

		if (!p)
			return PSF_E_NOMEM;
		r->raw = p;
		r->raw_cap = raw_size;
	}
	z = ZSTD_decompressDCtx(r->dctx, r->raw, raw_size, src, n);
	if (ZSTD_isError(z))
		return zstd_error(z);
	if (z != raw_size)
		return PSF_E_CORRUPT;
	r->payload = r->raw;
	return 0;
}

/*
 * Load and validate the next chunk: 1 loaded, 0 clean end, < 0 error.
 * pre: its header, already read by the resynchronising scan, or NULL.
 */
static int chunk_load(struct psf_reader *r, const uint8_t *pre)
{
	uint8_t h[PSF_CHUNK_HEADER];
	const uint8_t *src;
	uint32_t stored, raw_size;
	size_t got = sizeof(h);
	int ret;

	r->have_chunk = 0;
	r->chunk = r->nchunks;
	if (pre) {
		memcpy(h, pre, sizeof(h));
		r->chunk_off = r->pos - sizeof(h);
	} else {
		r->chunk_off = r->pos;
		ret = in_read(r, h, sizeof(h), &got);
		if (ret < 0)
			return ret;
	}
	if (got == 0)
		return 0;
	if (r->trailer_checked)
		return PSF_E_CORRUPT; /* §4: nothing may follow the trailer chunk */
	if (got < sizeof(h))
		return memcmp(h, PSF_CHUNK_MAGIC, got < 4 ? got : 4) ? PSF_E_CORRUPT
								     : PSF_E_TRUNCATED;
	if (memcmp(h, PSF_CHUNK_MAGIC, 4) != 0)
		return PSF_E_CORRUPT;
	if (psf_crc32c(0, h, 28) != psf_get_le32(h + 28))
		return PSF_E_CHECKSUM;
	stored = psf_get_le32(h + 12);
	raw_size = psf_get_le32(h + 16);
	if (h[4] > PSF_COMP_ZSTD || h[5] != 0 || psf_get_le16(h + 6) != 0 ||
	    psf_get_le32(h + 24) != 0 || psf_get_le32(h + 8) != r->chunk ||
	    stored > PSF_MAX_CHUNK_STORED || raw_size > PSF_MAX_CHUNK_RAW ||
	    (h[4] == PSF_COMP_STORED && stored != raw_size))
		return PSF_E_CORRUPT;
	ret = in_payload(r, stored, &src);
	if (ret < 0)
		return ret;
	if (psf_crc32c(0, src, stored) != psf_get_le32(h + 20))
		return PSF_E_CHECKSUM;
	if (h[4] == PSF_COMP_ZSTD) {
		ret = chunk_inflate(r, src, stored, raw_size);
		if (ret < 0)
			return ret;
	} else {
		r->payload = src;
	}
	r->payload_len = raw_size;
	ret = chunk_validate(r);
	if (ret < 0)
		return ret;
	r->rpos = 0;
	r->have_chunk = 1;
	r->nchunks++;
	return 1;
}

/* Errors of a damaged chunk, after which the reader may resume. */
static int is_damage(int err)
{
	return err == PSF_E_CORRUPT || err == PSF_E_CHECKSUM || err == PSF_E_LIMIT;
}

/*
 * Chunk bad_chunk failed with err: look for the next chunk header with a
 * valid CRC and a later index, load it; it must be intact and start with a
 * SYNC.  1 = resumed there (r->gap describes what was lost), else err.
 * Linear in the bytes skipped; from an fd it reads byte by byte, which
 * only damage costs.
 */
static int chunk_resync(struct psf_reader *r, int err, uint32_t bad_chunk, uint64_t bad_off,
			const struct vstate *before)
{
	uint8_t win[PSF_CHUNK_HEADER];
	size_t n = 0, got;
	int ret;

	for (;;) {
		uint32_t seq;

		if (n < sizeof(win)) {
			ret = in_read(r, win + n, sizeof(win) - n, &got);
			if (ret < 0 || got < sizeof(win) - n)
				break; /* end of input: nothing intact after the damage */
			n = sizeof(win);
		}
		seq = psf_get_le32(win + 8);
		if (memcmp(win, PSF_CHUNK_MAGIC, 4) == 0 && seq >= bad_chunk &&
		    psf_crc32c(0, win, 28) == psf_get_le32(win + 28)) {
			r->nchunks = seq;
			r->resyncing = 1;
			r->no_sync = 0;
			ret = chunk_load(r, win);
			r->resyncing = 0;
			if (ret == 1) {
				r->gap.first = bad_chunk;
				r->gap.chunks = seq - bad_chunk;
				r->gap.error = err;
				r->gap.samples = r->sync_gap;
				r->gap.offset = bad_off;
				r->gap_pending = 1;
				return 1;
			}
			vstate_restore(r, before);
			if (r->no_sync || !is_damage(ret))
				break;
			n = 0; /* that one was damaged too: scan on after its header */
			continue;
		}
		memmove(win, win + 1, sizeof(win) - 1);
		n = sizeof(win) - 1;
	}
	r->nchunks = bad_chunk;
	r->chunk = bad_chunk;
	r->chunk_off = bad_off;
	return err;
}

/* The next chunk, skipping damage where the file allows it. */
static int chunk_next(struct psf_reader *r)
{
	struct vstate before;
	int ret;

	vstate_save(r, &before);
	r->sync_jump = 0;
	r->sync_gap = 0;
	ret = chunk_load(r, NULL);
	if (ret == 1 && r->sync_jump) {
		/* No damage here, yet the SYNC counts what never arrived (a
		 * chunk the writer had to cut off, or hostile input): say it,
		 * as a gap of no whole chunk before this one. */
		r->gap.first = r->chunk;
		r->gap.chunks = 0;
		r->gap.error = PSF_E_CORRUPT;
		r->gap.samples = r->sync_gap;
		r->gap.offset = r->chunk_off;
		r->gap_pending = 1;
	}
	if (ret >= 0 || !is_damage(ret))
		return ret;
	vstate_restore(r, &before);
	return chunk_resync(r, ret, r->chunk, r->chunk_off, &before);
}

/*
 * After a gap: adjust a record that refers to lost ids (struct psf_gap);
 * 0 = leave it out.
 */
static int gap_adjust(struct psf_reader *r, struct psf_record *rec)
{
	switch (rec->type) {
	case PSF_REC_FRAME: {
		struct psf_frame *f = &rec->u.frame;

		if (is_lost(r, SP_STRING, f->name))
			f->name = 0;
		if (is_lost(r, SP_STRING, f->qualname))
			f->qualname = 0;
		if (is_lost(r, SP_STRING, f->file))
			f->file = 0;
		return 1;
	}
	case PSF_REC_STACK:
		if (is_lost(r, SP_STACK, rec->u.stack.parent) || is_lost(r, SP_FRAME, rec->u.stack.frame)) {
			lost_add(r, SP_STACK, rec->u.stack.id, rec->u.stack.id);
			return 0;
		}
		return 1;
	case PSF_REC_PROCESS: {
		struct psf_process *p = &rec->u.process;

		if (is_lost(r, SP_STRING, p->cmdline))
			p->cmdline = 0;
		if (is_lost(r, SP_STRING, p->python_version))
			p->python_version = 0;
		if (is_lost(r, SP_STRING, p->exe))
			p->exe = 0;
		return 1;
	}
	case PSF_REC_THREAD:
		if (is_lost(r, SP_PROCESS, rec->u.thread.process)) {
			lost_add(r, SP_THREAD, rec->u.thread.id, rec->u.thread.id);
			return 0;
		}
		if (is_lost(r, SP_STRING, rec->u.thread.name))
			rec->u.thread.name = 0;
		return 1;
	case PSF_REC_PROCESS_END:
		return !is_lost(r, SP_PROCESS, rec->u.process_end.process);
	case PSF_REC_THREAD_NAME:
		return !is_lost(r, SP_THREAD, rec->u.thread_name.thread) &&
		       !is_lost(r, SP_STRING, rec->u.thread_name.name);
	case PSF_REC_THREAD_END:
		return !is_lost(r, SP_THREAD, rec->u.thread_end.thread);
	case PSF_REC_ERRORS:
		if (is_lost(r, SP_PROCESS, rec->u.errors.process))
			rec->u.errors.process = 0;
		return 1;
	case PSF_REC_LOCAL:
		if (is_lost(r, SP_THREAD, rec->u.local.thread))
			return 0;
		if (is_lost(r, SP_STRING, rec->u.local.name))
			rec->u.local.name = 0;
		return 1;
	default:
		return 1;
	}
}

static int any_lost(const struct psf_reader *r)
{
	int sp;

	for (sp = 0; sp < SP_N; sp++)
		if (r->nlost[sp])
			return 1;
	return 0;
}

/* ------------------------------------------------------------ next */

static int block_next(struct psf_reader *r, struct psf_record *rec)
{
	struct block *b = &r->blk;
	uint64_t off;

	while (b->in_tick == 0) {
		if (b->ticks_left == 0) {
			r->in_block = 0;
			return 0;
		}
		if (block_tick(b, PSF_MAX_BLOCK_SAMPLES) < 0)
			return PSF_E_CORRUPT; /* validated: cannot happen */
	}
	memset(rec, 0, sizeof(*rec));
	rec->type = PSF_REC_SAMPLE;
	block_sample(b, &rec->u.sample, &off);
	rec->u.sample.t_ns = (b->actual + off) * r->unit;
	rec->u.sample.late_ns = b->late_u * r->unit;
	if ((r->nlost[SP_THREAD] || r->nlost[SP_STACK]) &&
	    (is_lost(r, SP_THREAD, rec->u.sample.thread) || is_lost(r, SP_STACK, rec->u.sample.stack))) {
		r->dropped++;
		return 2; /* left out: the caller asks again */
	}
	return 1;
}

int psf_reader_next(struct psf_reader *r, struct psf_record *rec)
{
	int ret;

	if (!r || !rec)
		return PSF_E_INVAL;
	if (r->err)
		return r->err;
	for (;;) {
		const uint8_t *p, *end;
		uint64_t len;
		uint8_t type;

		if (r->gap_pending) {
			memset(rec, 0, sizeof(*rec));
			rec->type = PSF_REC_GAP;
			rec->u.gap = r->gap;
			r->gap_pending = 0;
			ret = 1;
			goto out;
		}
		if (r->in_block) {
			ret = block_next(r, rec);
			if (ret == 2)
				continue;
			if (ret != 0)
				goto out;
			continue;
		}
		if (!r->have_chunk || r->rpos >= r->payload_len) {
			ret = chunk_next(r);
			if (ret <= 0)
				goto out;
			continue;
		}
		p = r->payload + r->rpos;
		end = r->payload + r->payload_len;
		type = *p++;
		if (psf_varint_get(&p, end, UINT32_MAX, &len) < 0 || len > (uint64_t)(end - p)) {
			ret = PSF_E_CORRUPT; /* validated: cannot happen */
			goto out;
		}
		r->rpos = (size_t)(p + len - r->payload);
		if (type == PSF_REC_SAMPLE) {
			struct block_hdr h;

			ret = block_locate(p, (size_t)len, &h);
			if (ret < 0)
				goto out;
			block_cursors(&r->blk, &h);
			r->in_block = 1;
			continue;
		}
		if ((type == PSF_REC_STRING || type == PSF_REC_LOCAL) && !r->text) {
			r->text = malloc(PSF_MAX_STRING + 1);
			if (!r->text) {
				ret = PSF_E_NOMEM;
				goto out;
			}
		}
		if (type == PSF_REC_SYNC) {
			uint32_t ids[SP_N];
			uint64_t samples;
			int sp;

			/* validated: ids only grow; the ids in between were lost */
			if (sync_decode(p, (size_t)len, ids, &samples) == 0)
				for (sp = 0; sp < SP_N; sp++)
					if (ids[sp] > *count_of(&r->ec, sp))
						*count_of(&r->ec, sp) = ids[sp];
			continue;
		}
		ret = record_decode(r, type, p, (size_t)len, rec, &r->ec, 1);
		if (ret > 0 && any_lost(r) && !gap_adjust(r, rec))
			continue;
		if (ret == 0)
			continue;
		if (ret > 0 && type == PSF_REC_TRAILER)
			r->complete = 1;
		goto out;
	}
out:
	if (ret < 0)
		r->err = ret;
	return ret;
}

uint32_t psf_reader_chunk(const struct psf_reader *r)
{
	return r ? r->chunk : 0;
}

uint64_t psf_reader_offset(const struct psf_reader *r)
{
	return r ? r->chunk_off : 0;
}

int psf_reader_complete(const struct psf_reader *r)
{
	return r ? r->complete : 0;
}

uint64_t psf_reader_dropped(const struct psf_reader *r)
{
	return r ? r->dropped : 0;
}

size_t psf_reader_memory(const struct psf_reader *r)
{
	if (!r)
		return 0;
	return r->stored_cap + r->raw_cap + r->meta_text_cap + (r->text ? PSF_MAX_STRING + 1 : 0);
}

void psf_reader_free(struct psf_reader *r)
{
	if (!r)
		return;
	free(r->stored);
	free(r->raw);
	free(r->text);
	free(r->meta_text);
	ZSTD_freeDCtx(r->dctx);
	free(r);
}
