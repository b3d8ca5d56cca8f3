/*
 * writer.c - the capture file writer (docs/format.md §3-§5, §8).
 *
 * A chunk is built in three parts, concatenated when it is flushed (§8):
 *   pre   definitions and THREAD_NAME records, in call order;
 *   block the sample block (§5.3), kept as seven varint-encoded columns;
 *   post  PROCESS_END, THREAD_END, ERRORS, LAG, LOCAL and TRAILER records.
 * So a streaming reader sees every definition before the samples that use
 * it and every end event after the samples it ends.
 *
 * Hot path (psf_writer_tick/psf_writer_sample): the columns are fixed-size
 * arrays allocated once, sized for the worst case of a full block, and a
 * sample is four varints appended to them: no allocation, no system call
 * unless the chunk is full and gets flushed.  The arrays are calloc'ed, so
 * pages a capture never reaches (most of them, at 1 kHz) cost no memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "format_int.h"
#include "pyspy_format.h"

enum {
	COL_SCHED,   /* svarint sched_delta per tick */
	COL_LATE,    /* varint late per tick */
	COL_COUNT,   /* varint samples per tick */
	COL_THREAD,  /* varint thread per sample */
	COL_STACK,   /* varint stack per sample */
	COL_FLAGS,   /* varint flags per sample (always one byte: <= 0x7f) */
	COL_OFFSET,  /* varint offset per sample */
	COL_N
};

/* Worst-case bytes per value of each column, sizing the fixed arrays. */
static const uint8_t col_width[COL_N] = { 10, 10, 3, 5, 5, 1, 10 };

/* Bytes a sample block header (n_ticks .. base) plus its framing can take. */
#define BLOCK_OVERHEAD (1 + 5 + 5 + 5 + 10 + 10)

/* Tick times stay below 2^63 ns, so any difference of two fits an int64. */
#define TIME_MAX_NS (UINT64_C(1) << 63)

enum writer_state { W_OPEN, W_BROKEN, W_CLOSED };

struct psf_buf {
	uint8_t *p;
	size_t len, cap;
};

struct psf_writer {
	int fd;
	enum writer_state state;
	int saved_errno;         /* errno of the write that broke the writer */
	int regular;             /* fd is a regular file: can be cut back */
	int cut_ok;              /* the failed chunk was cut off cleanly */
	uint64_t start_off;      /* file offset where the header starts */
	uint64_t bytes;          /* header + complete chunks written */
	uint64_t samples_out;    /* samples in the chunks written */
	uint32_t seq;            /* index of the chunk being built */

	uint32_t unit;           /* time_unit_ns */
	uint64_t period;         /* predicted tick interval, units */
	int level;
	int stored;              /* write chunks uncompressed */
	uint32_t chunk_bytes;
	uint64_t chunk_ns;

	/* Ids defined so far in each space (§5.1). */
	uint32_t n_strings, n_frames, n_stacks, n_processes, n_threads;
	uint64_t n_samples;      /* samples added so far */
	/* The same at the end of the last chunk written: the next SYNC (§5.2). */
	uint32_t sync_ids[5];
	uint64_t sync_samples;
	struct psf_itab strings, frames, stacks;

	/* The chunk being built. */
	struct psf_buf pre, post;
	int has_data;
	uint64_t chunk_t0;       /* ns: time of the oldest buffered data */
	uint64_t last_ns;        /* latest time seen, for untimed data */

	uint8_t *colmem;         /* one allocation for all columns */
	uint8_t *col[COL_N];
	size_t col_len[COL_N];
	uint32_t blk_ticks, blk_samples;
	uint64_t blk_base;       /* units */
	uint64_t blk_prev_sched; /* units: scheduled time of the previous tick */

	/* The current tick (stays current across a flush, §5.3). */
	int tick_open;
	int tick_cont;           /* it was re-opened after a flush */
	uint64_t tick_t_ns;
	uint64_t tick_sched, tick_actual; /* units */
	uint32_t tick_count;     /* its samples in the current block */
	size_t tick_mark[2];     /* COL_SCHED/COL_LATE lengths before it */
	uint64_t tick_prev_sched;
	uint64_t last_sched_ns;  /* for the non-decreasing checks */

	struct psf_buf out;      /* chunk header + payload being written */
	ZSTD_CCtx *cctx;
};

/* ------------------------------------------------------------ helpers */

static int buf_reserve(struct psf_buf *b, size_t extra)
{
	size_t n;
	uint8_t *p;

	if (b->cap - b->len >= extra)
		return 0;
	n = b->cap ? b->cap : 1024;
	while (n - b->len < extra) {
		if (n > SIZE_MAX / 2)
			return PSF_E_NOMEM;
		n *= 2;
	}
	p = realloc(b->p, n);
	if (!p)
		return PSF_E_NOMEM;
	b->p = p;
	b->cap = n;
	return 0;
}

static void buf_put(struct psf_buf *b, const void *src, size_t n)
{
	if (n > 0)
		memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void buf_varint(struct psf_buf *b, uint64_t v)
{
	b->len += psf_varint_put(b->p + b->len, v);
}

/* A small payload under construction (every fixed-field record fits). */
struct rec {
	uint8_t p[128];
	size_t n;
};

static void rec_u(struct rec *r, uint64_t v)
{
	r->n += psf_varint_put(r->p + r->n, v);
}

static void rec_s(struct rec *r, int64_t v)
{
	r->n += psf_varint_put(r->p + r->n, psf_zigzag(v));
}

static void rec_u8(struct rec *r, uint8_t v)
{
	r->p[r->n++] = v;
}

static int writer_check(struct psf_writer *w)
{
	if (!w || w->state == W_CLOSED)
		return PSF_E_INVAL;
	if (w->state == W_BROKEN) {
		errno = w->saved_errno;
		return PSF_E_IO;
	}
	return 0;
}

static uint64_t to_units(const struct psf_writer *w, uint64_t ns)
{
	return ns / w->unit;
}

static void note_data(struct psf_writer *w, uint64_t t_ns)
{
	if (t_ns > w->last_ns)
		w->last_ns = t_ns;
	if (!w->has_data) {
		w->has_data = 1;
		w->chunk_t0 = w->last_ns;
	}
}

static size_t block_bytes(const struct psf_writer *w)
{
	size_t n = 0;
	int c;

	if (w->blk_ticks == 0)
		return 0;
	for (c = 0; c < COL_N; c++)
		n += w->col_len[c];
	return n + BLOCK_OVERHEAD + 3; /* + the open tick's count */
}

static size_t raw_estimate(const struct psf_writer *w)
{
	return w->pre.len + w->post.len + block_bytes(w);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0) {
			errno = EIO; /* write() made no progress: do not spin */
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * After a failed write, cut a regular file back to the last chunk boundary
 * and put the file position there, so the file ends cleanly and a trailer
 * can still follow (§8).  errno is preserved for the caller.
 */
static void cut_back(struct psf_writer *w)
{
	int e = errno;
	off_t at = (off_t)(w->start_off + w->bytes);

	w->cut_ok = 0;
	if (w->regular && ftruncate(w->fd, at) == 0 && lseek(w->fd, at, SEEK_SET) == at)
		w->cut_ok = 1;
	errno = e;
}

/* ------------------------------------------------------------ chunks */

/*
 * A chunk payload as the pieces it is made of, in order.  flush: end a
 * zstd block after this piece.
 */
struct piece {
	const uint8_t *p;
	size_t n;
	int flush;
};

#define MAX_PIECES (4 + COL_N)

/*
 * Compress the pieces as one zstd frame into out (capacity cap); returns
 * the compressed size, 0 if it would not be smaller than n (the caller
 * then stores the chunk), or a negative PSF_E_* code.
 *
 * Each column of the sample block gets its own zstd block (ZSTD_e_flush):
 * zstd entropy-codes literals with one Huffman table per block, and the
 * columns have unrelated value distributions (lateness jitter, stack ids,
 * ...).  Coding them with separate tables saves about 10 % on a steady
 * capture (docs/performance.md); the bytes, and so the format, are the
 * same.
 */
static int chunk_compress(struct psf_writer *w, const struct piece *pc, int np, size_t n,
			  uint8_t *out, size_t cap, size_t *zsize)
{
	ZSTD_outBuffer o = { out, cap, 0 };
	size_t r;
	int i;

	*zsize = 0;
	if (ZSTD_isError(ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only)) ||
	    ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(w->cctx, n)))
		return PSF_E_ZSTD;
	for (i = 0; i < np; i++) {
		ZSTD_EndDirective mode = i == np - 1 ? ZSTD_e_end
					 : pc[i].flush ? ZSTD_e_flush : ZSTD_e_continue;
		ZSTD_inBuffer in = { pc[i].p, pc[i].n, 0 };

		do {
			r = ZSTD_compressStream2(w->cctx, &o, &in, mode);
			if (ZSTD_isError(r))
				return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation
					       ? PSF_E_NOMEM : PSF_E_ZSTD;
			if (o.pos == o.size && (r > 0 || in.pos < in.size))
				return 0; /* no gain: store */
		} while (r > 0 || in.pos < in.size);
	}
	if (o.pos >= n)
		return 0;
	*zsize = o.pos;
	return 0;
}

/* Write the chunk made of pieces pc[0..np) behind a chunk header (§4). */
static int write_chunk(struct psf_writer *w, const struct piece *pc_in, int np_in)
{
	size_t n = 0, stored, z = 0, at;
	int comp = PSF_COMP_STORED;
	uint8_t *h, sync[2 + 2 * PSF_VARINT_MAX + 6 * PSF_VARINT_MAX];
	struct piece pc[MAX_PIECES + 1];
	int i, np = 0, ret;

	/*
	 * Every chunk but the first starts with a SYNC record: what was defined
	 * and sampled before it, so that a reader can resume here after a
	 * damaged chunk (§4, §5.2).
	 */
	if (w->seq > 0) {
		uint8_t body[6 * PSF_VARINT_MAX];
		size_t bn = 0, sn = 0;

		for (i = 0; i < 5; i++)
			bn += psf_varint_put(body + bn, w->sync_ids[i]);
		bn += psf_varint_put(body + bn, w->sync_samples);
		sync[sn++] = PSF_REC_SYNC;
		sn += psf_varint_put(sync + sn, bn);
		memcpy(sync + sn, body, bn);
		sn += bn;
		pc[np++] = (struct piece){ sync, sn, 0 };
	}
	for (i = 0; i < np_in && np < MAX_PIECES + 1; i++)
		pc[np++] = pc_in[i];
	for (i = 0; i < np; i++)
		n += pc[i].n;
	if (n > PSF_MAX_CHUNK_RAW)
		return PSF_E_LIMIT;
	ret = buf_reserve(&w->out, PSF_CHUNK_HEADER + n);
	if (ret < 0)
		return ret;
	h = w->out.p;
	if (!w->stored && n > 0) {
		/* Room for n bytes only: zstd output that is not smaller is useless. */
		ret = chunk_compress(w, pc, np, n, h + PSF_CHUNK_HEADER, n, &z);
		if (ret < 0)
			return ret;
		if (z > 0)
			comp = PSF_COMP_ZSTD;
	}
	if (comp == PSF_COMP_STORED) {
		for (i = 0, at = PSF_CHUNK_HEADER; i < np; i++) {
			if (pc[i].n > 0)
				memcpy(h + at, pc[i].p, pc[i].n);
			at += pc[i].n;
		}
		stored = n;
	} else {
		stored = z;
	}

	memcpy(h, PSF_CHUNK_MAGIC, 4);
	h[4] = (uint8_t)comp;
	h[5] = 0;
	psf_put_le16(h + 6, 0);
	psf_put_le32(h + 8, w->seq);
	psf_put_le32(h + 12, (uint32_t)stored);
	psf_put_le32(h + 16, (uint32_t)n);
	psf_put_le32(h + 20, psf_crc32c(0, h + PSF_CHUNK_HEADER, stored));
	psf_put_le32(h + 24, 0);
	psf_put_le32(h + 28, psf_crc32c(0, h, 28));

	if (write_all(w->fd, h, PSF_CHUNK_HEADER + stored) < 0) {
		cut_back(w);
		w->saved_errno = errno;
		w->state = W_BROKEN;
		return PSF_E_IO;
	}
	w->bytes += PSF_CHUNK_HEADER + stored;
	w->seq++;
	w->sync_ids[0] = w->n_strings;
	w->sync_ids[1] = w->n_frames;
	w->sync_ids[2] = w->n_stacks;
	w->sync_ids[3] = w->n_processes;
	w->sync_ids[4] = w->n_threads;
	w->sync_samples = w->n_samples;
	return 0;
}

/* Append a tick to the block (§5.3); its count is written when it closes. */
static void tick_start(struct psf_writer *w)
{
	int64_t delta;

	if (w->blk_ticks == 0) {
		/* base: so that the first sched_delta is 0 when possible. */
		w->blk_base = w->tick_sched >= w->period ? w->tick_sched - w->period : 0;
		w->blk_prev_sched = w->blk_base;
	}
	w->tick_mark[0] = w->col_len[COL_SCHED];
	w->tick_mark[1] = w->col_len[COL_LATE];
	w->tick_prev_sched = w->blk_prev_sched;
	/* Both terms are < 2^62 (TIME_MAX_NS), so this cannot overflow. */
	delta = (int64_t)(w->tick_sched - w->blk_prev_sched) - (int64_t)w->period;
	w->col_len[COL_SCHED] += psf_varint_put(w->col[COL_SCHED] + w->col_len[COL_SCHED],
						psf_zigzag(delta));
	w->col_len[COL_LATE] += psf_varint_put(w->col[COL_LATE] + w->col_len[COL_LATE],
					       w->tick_actual - w->tick_sched);
	w->blk_prev_sched = w->tick_sched;
	w->blk_ticks++;
	w->tick_count = 0;
	w->tick_open = 1;
	w->tick_cont = 0;
}

static void tick_close(struct psf_writer *w)
{
	if (!w->tick_open)
		return;
	w->col_len[COL_COUNT] += psf_varint_put(w->col[COL_COUNT] + w->col_len[COL_COUNT],
						w->tick_count);
	w->tick_open = 0;
}

/*
 * End the current tick before another starts.  A tick re-opened by a
 * flush that got no further samples was already recorded whole in the
 * previous block: drop it rather than write an empty duplicate.
 */
static void tick_finish(struct psf_writer *w);

/* Undo tick_start() of a tick without samples. */
static void tick_rollback(struct psf_writer *w)
{
	w->col_len[COL_SCHED] = w->tick_mark[0];
	w->col_len[COL_LATE] = w->tick_mark[1];
	w->blk_prev_sched = w->tick_prev_sched;
	w->blk_ticks--;
	w->tick_open = 0;
}

static void tick_finish(struct psf_writer *w)
{
	if (w->tick_open && w->tick_cont && w->tick_count == 0)
		tick_rollback(w);
	else
		tick_close(w);
}

/*
 * Describe the chunk as pieces: pre, the sample block (record header with
 * the first column, then one piece per column), post.  hdr receives the
 * block's record header.
 */
static int chunk_pieces(const struct psf_writer *w, struct piece *pc, uint8_t *hdr)
{
	size_t payload, hn = 0;
	int np = 0, c;

	if (w->pre.len > 0)
		pc[np++] = (struct piece){ w->pre.p, w->pre.len, 1 };
	if (w->blk_ticks > 0) {
		payload = psf_varint_len(w->blk_ticks) + psf_varint_len(w->blk_samples) +
			  psf_varint_len(w->period) + psf_varint_len(w->blk_base);
		for (c = 0; c < COL_N; c++)
			payload += w->col_len[c];
		hdr[hn++] = PSF_REC_SAMPLE;
		hn += psf_varint_put(hdr + hn, payload);
		hn += psf_varint_put(hdr + hn, w->blk_ticks);
		hn += psf_varint_put(hdr + hn, w->blk_samples);
		hn += psf_varint_put(hdr + hn, w->period);
		hn += psf_varint_put(hdr + hn, w->blk_base);
		pc[np++] = (struct piece){ hdr, hn, 0 };
		for (c = 0; c < COL_N; c++)
			pc[np++] = (struct piece){ w->col[c], w->col_len[c], 1 };
	}
	if (w->post.len > 0)
		pc[np++] = (struct piece){ w->post.p, w->post.len, 0 };
	return np;
}

static void chunk_reset(struct psf_writer *w)
{
	int c;

	w->pre.len = 0;
	w->post.len = 0;
	for (c = 0; c < COL_N; c++)
		w->col_len[c] = 0;
	w->blk_ticks = 0;
	w->blk_samples = 0;
	w->has_data = 0;
}

int psf_writer_flush(struct psf_writer *w)
{
	struct piece pc[MAX_PIECES];
	uint8_t hdr[1 + 5 * PSF_VARINT_MAX];
	int reopen = 0, np, ret;

	ret = writer_check(w);
	if (ret < 0)
		return ret;
	if (w->tick_open) {
		/*
		 * The current tick continues in the next block with the same
		 * scheduled time; a tick without samples here is moved there
		 * whole.
		 */
		if (w->tick_count == 0)
			tick_rollback(w);
		else
			tick_close(w);
		reopen = 1;
	}
	if (w->pre.len == 0 && w->post.len == 0 && w->blk_ticks == 0) {
		ret = 0;
		goto out;
	}
	np = chunk_pieces(w, pc, hdr);
	ret = write_chunk(w, pc, np);
	if (ret < 0)
		goto out;
	w->samples_out += w->blk_samples;
	chunk_reset(w);
out:
	if (reopen && w->state == W_OPEN) {
		if (ret < 0) {
			/* Not written: put the tick back as it was. */
			if (w->tick_count == 0) {
				int cont = w->tick_cont;

				tick_start(w);
				w->tick_cont = cont;
			} else {
				w->col_len[COL_COUNT] -= psf_varint_len(w->tick_count);
				w->tick_open = 1;
			}
		} else {
			tick_start(w);
			w->tick_cont = 1;
			w->has_data = 1;
			w->chunk_t0 = w->tick_t_ns;
		}
	}
	return ret;
}

/* Flush when the chunk reached opts.chunk_bytes. */
static int check_size(struct psf_writer *w)
{
	if (raw_estimate(w) >= w->chunk_bytes)
		return psf_writer_flush(w);
	return 0;
}

/* Append one record of a fixed-field payload to b, then check the size. */
static int put_record(struct psf_writer *w, struct psf_buf *b, uint8_t type,
		      const struct rec *r, uint64_t t_ns)
{
	int ret = buf_reserve(b, 1 + PSF_VARINT_MAX + r->n);

	if (ret < 0)
		return ret;
	b->p[b->len++] = type;
	buf_varint(b, r->n);
	buf_put(b, r->p, r->n);
	note_data(w, t_ns);
	return check_size(w);
}

/* ------------------------------------------------------------ open */

static int meta_text_ok(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (n > PSF_MAX_STRING)
		return PSF_E_LIMIT;
	return psf_text_valid(s, n) ? 0 : PSF_E_INVAL;
}

static void meta_str(struct psf_buf *b, uint16_t key, const char *s)
{
	size_t n;

	if (!s)
		return;
	n = strlen(s);
	psf_put_le16(b->p + b->len, key);
	psf_put_le32(b->p + b->len + 2, (uint32_t)n);
	b->len += 6;
	buf_put(b, s, n);
}

static void meta_u32(struct psf_buf *b, uint16_t key, uint32_t v)
{
	psf_put_le16(b->p + b->len, key);
	psf_put_le32(b->p + b->len + 2, 4);
	psf_put_le32(b->p + b->len + 6, v);
	b->len += 10;
}

static void meta_u64(struct psf_buf *b, uint16_t key, uint64_t v)
{
	psf_put_le16(b->p + b->len, key);
	psf_put_le32(b->p + b->len + 2, 8);
	psf_put_le64(b->p + b->len + 6, v);
	b->len += 14;
}

/* Build the file header (§3) into b. */
static int header_build(struct psf_buf *b, const struct psf_meta *m, const uint8_t id[16],
			uint32_t unit)
{
	const char *strs[7] = { m->hostname, m->kernel, m->tool_version, m->cmdline,
				m->python_version, m->python_exe, m->options };
	size_t need = PSF_MIN_HEADER + 14 * 2 + 10 * 3;
	int i, ret;

	for (i = 0; i < 7; i++)
		if (strs[i])
			need += 6 + strlen(strs[i]);
	ret = buf_reserve(b, need);
	if (ret < 0)
		return ret;
	memcpy(b->p, PSF_MAGIC, PSF_MAGIC_LEN);
	psf_put_le16(b->p + 8, PSF_FORMAT_MAJOR);
	psf_put_le16(b->p + 10, PSF_FORMAT_MINOR);
	/* header_size at 12 is filled in below */
	psf_put_le64(b->p + 16, m->flags);
	memcpy(b->p + 24, id, 16);
	b->len = PSF_FIXED_HEADER;
	meta_str(b, PSF_MK_HOSTNAME, m->hostname);
	meta_str(b, PSF_MK_KERNEL, m->kernel);
	meta_str(b, PSF_MK_TOOL_VERSION, m->tool_version);
	meta_u64(b, PSF_MK_START_WALL_NS, m->start_wall_ns);
	meta_u64(b, PSF_MK_START_MONO_NS, m->start_mono_ns);
	if (m->rate_hz)
		meta_u32(b, PSF_MK_RATE_HZ, m->rate_hz);
	meta_u32(b, PSF_MK_TIME_UNIT_NS, unit);
	if (m->pid)
		meta_u32(b, PSF_MK_PID, (uint32_t)m->pid);
	meta_str(b, PSF_MK_CMDLINE, m->cmdline);
	meta_str(b, PSF_MK_PYTHON_VERSION, m->python_version);
	meta_str(b, PSF_MK_PYTHON_EXE, m->python_exe);
	meta_str(b, PSF_MK_OPTIONS, m->options);
	psf_put_le32(b->p + 12, (uint32_t)(b->len + 4));
	psf_put_le32(b->p + b->len, psf_crc32c(0, b->p, b->len));
	b->len += 4;
	return 0;
}

static int random_id(uint8_t id[16])
{
	size_t got = 0;

	while (got < 16) {
		ssize_t n = getrandom(id + got, 16 - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return PSF_E_IO;
		}
		got += (size_t)n;
	}
	return 0;
}

static int zstd_param(ZSTD_CCtx *c, ZSTD_cParameter p, int v)
{
	return ZSTD_isError(ZSTD_CCtx_setParameter(c, p, v)) ? PSF_E_ZSTD : 0;
}

int psf_writer_open(struct psf_writer **out, int fd, const struct psf_meta *meta,
		    const struct psf_writer_opts *opts)
{
	struct psf_writer_opts o = { 0 };
	struct psf_writer *w = NULL;
	struct psf_buf hdr = { 0 };
	const char *strs[7];
	uint8_t id[16];
	uint64_t seed = 0;
	size_t colsize = 0;
	struct stat st;
	off_t pos;
	int i, c, ret;

	if (!out)
		return PSF_E_INVAL;
	*out = NULL;
	if (fd < 0 || !meta)
		return PSF_E_INVAL;
	if (opts)
		o = *opts;
	if (meta->flags & ~(uint64_t)PSF_HF_KNOWN)
		return PSF_E_INVAL;
	if (meta->pid < 0)
		return PSF_E_INVAL;
	strs[0] = meta->hostname;
	strs[1] = meta->kernel;
	strs[2] = meta->tool_version;
	strs[3] = meta->cmdline;
	strs[4] = meta->python_version;
	strs[5] = meta->python_exe;
	strs[6] = meta->options;
	for (i = 0; i < 7; i++) {
		ret = meta_text_ok(strs[i]);
		if (ret < 0)
			return ret;
	}
	if (o.zstd_level == 0)
		o.zstd_level = PSF_DEFAULT_ZSTD_LEVEL;
	if (o.zstd_level < ZSTD_minCLevel() || o.zstd_level > ZSTD_maxCLevel())
		return PSF_E_INVAL;
	if (o.chunk_bytes == 0)
		o.chunk_bytes = PSF_DEFAULT_CHUNK_BYTES;
	if (o.chunk_bytes > PSF_MAX_CHUNK_BYTES_OPT)
		return PSF_E_INVAL;
	if (o.chunk_ns == 0)
		o.chunk_ns = PSF_DEFAULT_CHUNK_NS;
	if (o.intern_max == 0)
		o.intern_max = PSF_DEFAULT_INTERN_MAX;

	w = calloc(1, sizeof(*w));
	if (!w)
		return PSF_E_NOMEM;
	w->fd = fd;
	w->unit = meta->time_unit_ns ? meta->time_unit_ns : PSF_DEFAULT_TIME_UNIT_NS;
	if (meta->rate_hz) {
		/* round(1e9 / rate / unit), at least 1 (§5.3). */
		uint64_t d = (uint64_t)meta->rate_hz * w->unit;

		w->period = (1000000000ull + d / 2) / d;
	}
	if (w->period == 0)
		w->period = 1;
	w->level = o.zstd_level;
	w->stored = o.no_compress;
	w->chunk_bytes = o.chunk_bytes;
	w->chunk_ns = o.chunk_ns;

	memcpy(id, meta->capture_id, 16);
	for (i = 0; i < 16 && id[i] == 0; i++)
		;
	if (i == 16) {
		ret = random_id(id);
		if (ret < 0)
			goto out;
	}
	for (i = 0; i < 8; i++)
		seed = (seed << 8) | id[i];
	psf_itab_init(&w->strings, 0, 1, o.intern_max, seed);
	psf_itab_init(&w->frames, 28, 0, o.intern_max, seed + 1);
	psf_itab_init(&w->stacks, 12, 0, o.intern_max, seed + 2);

	for (c = 0; c < COL_N; c++)
		colsize += (size_t)col_width[c] *
			   (c <= COL_COUNT ? PSF_WRITER_BLOCK_TICKS : PSF_WRITER_BLOCK_SAMPLES);
	w->colmem = calloc(1, colsize);
	w->cctx = ZSTD_createCCtx();
	if (!w->colmem || !w->cctx) {
		ret = PSF_E_NOMEM;
		goto out;
	}
	colsize = 0;
	for (c = 0; c < COL_N; c++) {
		w->col[c] = w->colmem + colsize;
		colsize += (size_t)col_width[c] *
			   (c <= COL_COUNT ? PSF_WRITER_BLOCK_TICKS : PSF_WRITER_BLOCK_SAMPLES);
	}
	/* The chunk CRC already covers the payload: no zstd checksum. */
	ret = zstd_param(w->cctx, ZSTD_c_compressionLevel, w->level);
	if (ret == 0)
		ret = zstd_param(w->cctx, ZSTD_c_checksumFlag, 0);
	if (ret == 0)
		ret = zstd_param(w->cctx, ZSTD_c_contentSizeFlag, 1);
	if (ret < 0)
		goto out;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		pos = lseek(fd, 0, SEEK_CUR);
		if (pos >= 0) {
			w->regular = 1;
			w->start_off = (uint64_t)pos;
		}
	}
	ret = header_build(&hdr, meta, id, w->unit);
	if (ret < 0)
		goto out;
	if (write_all(fd, hdr.p, hdr.len) < 0) {
		cut_back(w);
		ret = PSF_E_IO;
		goto out;
	}
	w->bytes = hdr.len;
	w->state = W_OPEN;
	*out = w;
	w = NULL;
	ret = 0;
out:
	free(hdr.p);
	if (w) {
		int e = errno;

		psf_writer_free(w);
		errno = e;
	}
	return ret;
}

/* ------------------------------------------------------------ definitions */

int psf_writer_string(struct psf_writer *w, const char *s, size_t len, uint32_t *id)
{
	uint32_t h, found;
	struct psf_buf *b;
	int ret;

	ret = writer_check(w);
	if (ret < 0)
		return ret;
	if (!id || (!s && len > 0))
		return PSF_E_INVAL;
	if (len > PSF_MAX_STRING)
		return PSF_E_LIMIT;
	if (!psf_text_valid(s, len))
		return PSF_E_INVAL;
	h = psf_itab_hash(&w->strings, s, len);
	found = psf_itab_find(&w->strings, s, len, h);
	if (found) {
		*id = found;
		return 0;
	}
	if (w->n_strings == UINT32_MAX)
		return PSF_E_LIMIT;
	b = &w->pre;
	ret = buf_reserve(b, 1 + 2 * PSF_VARINT_MAX + len);
	if (ret < 0)
		return ret;
	ret = psf_itab_add(&w->strings, s, len, h, w->n_strings + 1);
	if (ret < 0)
		return ret;
	b->p[b->len++] = PSF_REC_STRING;
	buf_varint(b, psf_varint_len(len) + len);
	buf_varint(b, len);
	buf_put(b, s, len);
	*id = ++w->n_strings;
	note_data(w, w->last_ns);
	return check_size(w);
}

static int string_ref_ok(const struct psf_writer *w, uint32_t id)
{
	return id <= w->n_strings;
}

int psf_writer_frame(struct psf_writer *w, const struct psf_frame *f, uint32_t *id)
{
	uint8_t key[28] = { 0 };
	uint32_t k[5] = { 0 };
	uint64_t off = 0;
	uint32_t h, found;
	struct rec r = { .n = 0 };
	int ret;

	ret = writer_check(w);
	if (ret < 0)
		return ret;
	if (!f || !id || !string_ref_ok(w, f->name))
		return PSF_E_INVAL;
	if (f->kind == PSF_FRAME_PYTHON && !string_ref_ok(w, f->qualname))
		return PSF_E_INVAL;
	if (f->kind != PSF_FRAME_SYNTHETIC && !string_ref_ok(w, f->file))
		return PSF_E_INVAL;
	/*
	 * The key holds exactly the fields the record stores for its kind,
	 * so fields a kind does not have cannot split identical frames.
	 */
	k[0] = f->kind;
	k[1] = f->name;
	switch (f->kind) {
	case PSF_FRAME_PYTHON:
		k[2] = f->qualname;
		k[3] = f->file;
		k[4] = (uint32_t)f->firstlineno;
		break;
	case PSF_FRAME_NATIVE:
		k[3] = f->file;
		off = f->offset;
		break;
	case PSF_FRAME_SYNTHETIC:
		break;
	default:
		return PSF_E_INVAL;
	}
	memcpy(key, k, sizeof(k));
	memcpy(key + 20, &off, 8);
	h = psf_itab_hash(&w->frames, key, sizeof(key));
	found = psf_itab_find(&w->frames, key, sizeof(key), h);
	if (found) {
		*id = found;
		return 0;
	}
	if (w->n_frames == UINT32_MAX)
		return PSF_E_LIMIT;
	rec_u8(&r, f->kind);
	rec_u(&r, f->name);
	switch (f->kind) {
	case PSF_FRAME_PYTHON:
		rec_u(&r, f->qualname);
		rec_u(&r, f->file);
		rec_s(&r, f->firstlineno);
		break;
	case PSF_FRAME_NATIVE:
		rec_u(&r, f->file);
		rec_u(&r, f->offset);
		break;
	}
	ret = buf_reserve(&w->pre, 1 + PSF_VARINT_MAX + r.n);
	if (ret < 0)
		return ret;
	ret = psf_itab_add(&w->frames, key, sizeof(key), h, w->n_frames + 1);
	if (ret < 0)
		return ret;
	*id = ++w->n_frames;
	return put_record(w, &w->pre, PSF_REC_FRAME, &r, w->last_ns);
}

int psf_writer_stack(struct psf_writer *w, uint32_t parent, uint32_t frame,
		     int32_t line, uint32_t *id)
{
	uint32_t key[3] = { parent, frame, (uint32_t)line };
	uint32_t h, found;
	struct rec r = { .n = 0 };
	int ret;

	ret = writer_check(w);
	if (ret < 0)
		return ret;
	if (!id || parent > w->n_stacks || frame == 0 || frame > w->n_frames)
		return PSF_E_INVAL;
	h = psf_itab_hash(&w->stacks, key, sizeof(key));
	found = psf_itab_find(&w->stacks, key, sizeof(key), h);
	if (found) {
		*id = found;
		return 0;
	}
	if (w->n_stacks == UINT32_MAX)
		return PSF_E_LIMIT;
	rec_u(&r, parent);
	rec_u(&r, frame);
	rec_s(&r, line);
	ret = buf_reserve(&w->pre, 1 + PSF_VARINT_MAX + r.n);
	if (ret < 0)
		return ret;
	ret = psf_itab_add(&w->stacks, key, sizeof(key), h, w->n_stacks + 1);
	if (ret < 0)
		return ret;
	*id = ++w->n_stacks;
	return put_record(w, &w->pre, PSF_REC_STACK, &r, w->last_ns);
}

int psf_writer_process(struct psf_writer *w, const struct psf_process *p, uint32_t *id)
{
	struct rec r = { .n = 0 };
	int ret;

	ret = writer_check(w);
	if (ret < 0)
		return ret;
	if (!p || !id || p->pid < 0 || p->ppid < 0 || !string_ref_ok(w, p->cmdline) ||
	    !string_ref_ok(w, p->python_version) || !string_ref_ok(w, p->exe))
		return PSF_E_INVAL;
	if (w->n_processes == UINT32_MAX)
		return PSF_E_LIMIT;
	rec_u(&r, (uint32_t)p->pid);
	rec_u(&r, (uint32_t)p->ppid);
	rec_u(&r, to_units(w, p->start_ns));
	rec_u(&r, p->cmdline);
	rec_u(&r, p->python_version);
	rec_u(&r, p->exe);
	ret = buf_reserve(&w->pre, 1 + PSF_VARINT_MAX + r.n);
	if (ret < 0)
		return ret;
	*id = ++w->n_processes;
	return put_record(w, &w->pre, PSF_REC_PROCESS, &r, p->start_ns);
}

int psf_writer_thread(struct psf_writer *w, const struct psf_thread *t, uint32_t *id)
{
	struct rec r = { .n = 0 };
	int ret;

	ret = writer_check(w);
	if (ret < 0)
		return ret;
	if (!t || !id || t->process == 0 || t->process > w->n_processes || t->tid < 0 ||
	    !string_ref_ok(w, t->name) || (t->flags & ~(uint32_t)PSF_TF_MAIN))
		return PSF_E_INVAL;
	if (w->n_threads == UINT32_MAX)
		return PSF_E_LIMIT;
	rec_u(&r, t->process);
	rec_u(&r, (uint32_t)t->tid);
	rec_u(&r, t->py_thread_id);
	rec_u(&r, t->name);
	rec_u(&r, to_units(w, t->first_ns));
	rec_u(&r, t->interp);
	rec_u(&r, t->flags);
	ret = buf_reserve(&w->pre, 1 + PSF_VARINT_MAX + r.n);
	if (ret < 0)
		return ret;
	*id = ++w->n_threads;
	return put_record(w, &w->pre, PSF_REC_THREAD, &r, t->first_ns);
}

/* ------------------------------------------------------------ events */

int psf_writer_process_end(struct psf_writer *w, const struct psf_process_end *e)
{
	struct rec r = { .n = 0 };
	int ret = writer_check(w);

	if (ret < 0)
		return ret;
	if (!e || e->process == 0 || e->process > w->n_processes)
		return PSF_E_INVAL;
	rec_u(&r, e->process);
	rec_u(&r, to_units(w, e->t_ns));
	rec_u8(&r, e->how);
	rec_s(&r, e->status);
	return put_record(w, &w->post, PSF_REC_PROCESS_END, &r, e->t_ns);
}

int psf_writer_thread_name(struct psf_writer *w, const struct psf_thread_name *n)
{
	struct rec r = { .n = 0 };
	int ret = writer_check(w);

	if (ret < 0)
		return ret;
	if (!n || n->thread == 0 || n->thread > w->n_threads || !string_ref_ok(w, n->name))
		return PSF_E_INVAL;
	rec_u(&r, n->thread);
	rec_u(&r, to_units(w, n->t_ns));
	rec_u(&r, n->name);
	return put_record(w, &w->pre, PSF_REC_THREAD_NAME, &r, n->t_ns);
}

int psf_writer_thread_end(struct psf_writer *w, const struct psf_thread_end *e)
{
	struct rec r = { .n = 0 };
	int ret = writer_check(w);

	if (ret < 0)
		return ret;
	if (!e || e->thread == 0 || e->thread > w->n_threads)
		return PSF_E_INVAL;
	rec_u(&r, e->thread);
	rec_u(&r, to_units(w, e->last_ns));
	return put_record(w, &w->post, PSF_REC_THREAD_END, &r, e->last_ns);
}

int psf_writer_errors(struct psf_writer *w, const struct psf_errors *e)
{
	struct rec r = { .n = 0 };
	int ret = writer_check(w);

	if (ret < 0)
		return ret;
	if (!e || e->process > w->n_processes)
		return PSF_E_INVAL;
	rec_u(&r, e->process);
	rec_u(&r, to_units(w, e->t_ns));
	rec_u(&r, e->kind);
	rec_u(&r, e->count);
	return put_record(w, &w->post, PSF_REC_ERRORS, &r, e->t_ns);
}

int psf_writer_lag(struct psf_writer *w, const struct psf_lag *l)
{
	struct rec r = { .n = 0 };
	int ret = writer_check(w);

	if (ret < 0)
		return ret;
	if (!l)
		return PSF_E_INVAL;
	rec_u(&r, to_units(w, l->t_ns));
	rec_u(&r, l->ticks);
	rec_u(&r, l->missed);
	rec_u(&r, to_units(w, l->max_late_ns));
	rec_u(&r, to_units(w, l->sum_late_ns));
	return put_record(w, &w->post, PSF_REC_LAG, &r, l->t_ns);
}

int psf_writer_local(struct psf_writer *w, const struct psf_local *l)
{
	struct rec r = { .n = 0 };
	struct psf_buf *b = &w->post;
	int ret = writer_check(w);

	if (ret < 0)
		return ret;
	if (!l || l->thread == 0 || l->thread > w->n_threads || !string_ref_ok(w, l->name) ||
	    (l->flags & ~(uint32_t)(PSF_LF_ARG | PSF_LF_TRUNCATED | PSF_LF_ERROR)) ||
	    (!l->repr && l->repr_len > 0))
		return PSF_E_INVAL;
	if (l->repr_len > PSF_MAX_STRING)
		return PSF_E_LIMIT;
	if (!psf_text_valid(l->repr, l->repr_len))
		return PSF_E_INVAL;
	rec_u(&r, l->thread);
	rec_u(&r, to_units(w, l->t_ns));
	rec_u(&r, l->depth);
	rec_u(&r, l->flags);
	rec_u(&r, l->name);
	rec_u(&r, l->repr_len);
	ret = buf_reserve(b, 1 + PSF_VARINT_MAX + r.n + l->repr_len);
	if (ret < 0)
		return ret;
	b->p[b->len++] = PSF_REC_LOCAL;
	buf_varint(b, r.n + l->repr_len);
	buf_put(b, r.p, r.n);
	buf_put(b, l->repr, l->repr_len);
	note_data(w, l->t_ns);
	return check_size(w);
}

/* ------------------------------------------------------------ samples */

int psf_writer_tick(struct psf_writer *w, uint64_t t_ns, uint64_t sched_ns)
{
	int ret = writer_check(w);

	if (ret < 0)
		return ret;
	if (t_ns < sched_ns || t_ns >= TIME_MAX_NS || sched_ns < w->last_sched_ns ||
	    t_ns < w->tick_t_ns)
		return PSF_E_INVAL;
	tick_finish(w);
	if (w->blk_ticks >= PSF_WRITER_BLOCK_TICKS || raw_estimate(w) >= w->chunk_bytes) {
		ret = psf_writer_flush(w);
		if (ret < 0)
			return ret;
	}
	w->tick_t_ns = t_ns;
	w->tick_sched = to_units(w, sched_ns);
	w->tick_actual = to_units(w, t_ns);
	w->last_sched_ns = sched_ns;
	tick_start(w);
	note_data(w, t_ns);
	return 0;
}

int psf_writer_sample(struct psf_writer *w, const struct psf_sample *s)
{
	uint32_t fl;
	uint8_t *p;
	int ret = writer_check(w);

	if (ret < 0)
		return ret;
	if (!s || !w->tick_open || s->t_ns < w->tick_t_ns || s->t_ns >= TIME_MAX_NS ||
	    s->thread == 0 || s->thread > w->n_threads || s->stack > w->n_stacks)
		return PSF_E_INVAL;
	fl = s->flags;
	if ((fl & ~(uint32_t)PSF_SF_KNOWN) ||
	    ((fl & PSF_SF_GIL) && (fl & PSF_SF_GIL_UNKNOWN)) ||
	    ((fl & PSF_SF_IDLE) && (fl & PSF_SF_IDLE_UNKNOWN)))
		return PSF_E_INVAL;
	/*
	 * Flush before adding rather than after, so that the tick carries on
	 * in the next block with this sample instead of with none.
	 */
	if (w->blk_samples >= PSF_WRITER_BLOCK_SAMPLES || raw_estimate(w) >= w->chunk_bytes) {
		ret = psf_writer_flush(w);
		if (ret < 0)
			return ret;
	}
	p = w->col[COL_THREAD] + w->col_len[COL_THREAD];
	w->col_len[COL_THREAD] += psf_varint_put(p, s->thread);
	p = w->col[COL_STACK] + w->col_len[COL_STACK];
	w->col_len[COL_STACK] += psf_varint_put(p, s->stack);
	w->col[COL_FLAGS][w->col_len[COL_FLAGS]++] = (uint8_t)fl;
	p = w->col[COL_OFFSET] + w->col_len[COL_OFFSET];
	w->col_len[COL_OFFSET] += psf_varint_put(p, to_units(w, s->t_ns) - w->tick_actual);
	w->blk_samples++;
	w->tick_count++;
	w->n_samples++;
	return 0;
}

int psf_writer_maybe_flush(struct psf_writer *w, uint64_t now_ns)
{
	int ret = writer_check(w);

	if (ret < 0)
		return ret;
	if (w->has_data && now_ns >= w->chunk_t0 && now_ns - w->chunk_t0 >= w->chunk_ns)
		return psf_writer_flush(w);
	return 0;
}

/* ------------------------------------------------------------ close */

static void trailer_encode(struct rec *r, const struct psf_writer *w, const struct psf_trailer *t)
{
	rec_u(r, to_units(w, t->end_ns));
	rec_u(r, t->samples);
	rec_u(r, t->ticks);
	rec_u(r, t->missed);
	rec_u(r, t->errors);
	rec_u(r, t->partial);
	rec_u(r, w->seq + 1);       /* chunks, including the one with the trailer */
	rec_u8(r, t->reason);
	rec_s(r, t->exit_status);
}

int psf_writer_close(struct psf_writer *w, const struct psf_trailer *t)
{
	struct rec r = { .n = 0 };
	uint8_t raw[1 + PSF_VARINT_MAX + sizeof(r.p)];
	struct piece pc;
	size_t n = 0;
	int ret;

	if (!w || !t || w->state == W_CLOSED)
		return PSF_E_INVAL;
	if (w->state == W_BROKEN) {
		/*
		 * The failed chunk was cut off: the file still ends cleanly at
		 * a chunk boundary, so a chunk holding only the trailer (it
		 * refers to no id) makes it complete, e.g. with reason "disk
		 * full" when a small chunk still fits.
		 */
		w->state = W_CLOSED;
		if (!w->cut_ok) {
			errno = w->saved_errno;
			return PSF_E_IO;
		}
		trailer_encode(&r, w, t);
		raw[n++] = PSF_REC_TRAILER;
		n += psf_varint_put(raw + n, r.n);
		memcpy(raw + n, r.p, r.n);
		n += r.n;
		w->state = W_OPEN;
		pc.p = raw;
		pc.n = n;
		pc.flush = 0;
		ret = write_chunk(w, &pc, 1);
		w->state = W_CLOSED;
		return ret;
	}
	tick_finish(w);
	trailer_encode(&r, w, t);
	ret = buf_reserve(&w->post, 1 + PSF_VARINT_MAX + r.n);
	if (ret < 0)
		return ret;
	n = w->post.len;
	w->post.p[w->post.len++] = PSF_REC_TRAILER;
	buf_varint(&w->post, r.n);
	buf_put(&w->post, r.p, r.n);
	ret = psf_writer_flush(w);
	if (ret == 0)
		w->state = W_CLOSED;
	else if (w->state == W_OPEN)
		w->post.len = n; /* not written (e.g. no memory): a retry adds it again */
	return ret;
}

uint64_t psf_writer_samples(const struct psf_writer *w)
{
	if (!w)
		return 0;
	/* A broken writer dropped its chunk: only what was written counts. */
	return w->samples_out + (w->state == W_OPEN ? w->blk_samples : 0);
}

uint64_t psf_writer_bytes(const struct psf_writer *w)
{
	return w ? w->bytes : 0;
}

size_t psf_writer_memory(const struct psf_writer *w)
{
	size_t n = 0;
	int c;

	if (!w)
		return 0;
	for (c = 0; c < COL_N; c++)
		n += (size_t)col_width[c] *
		     (c <= COL_COUNT ? PSF_WRITER_BLOCK_TICKS : PSF_WRITER_BLOCK_SAMPLES);
	return n + w->pre.cap + w->post.cap + w->out.cap +
	       psf_itab_memory(&w->strings) + psf_itab_memory(&w->frames) +
	       psf_itab_memory(&w->stacks);
}

void psf_writer_free(struct psf_writer *w)
{
	if (!w)
		return;
	psf_itab_release(&w->strings);
	psf_itab_release(&w->frames);
	psf_itab_release(&w->stacks);
	free(w->pre.p);
	free(w->post.p);
	free(w->out.p);
	free(w->colmem);
	ZSTD_freeCCtx(w->cctx);
	free(w);
}
