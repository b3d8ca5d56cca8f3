/*
 * mem.c - remote memory reads (see mem.h).
 */
#include "mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "util.h"

/* Merge BODY ranges whose gap is at most this many bytes. */
#define MEM_GAP 2048
/* Never merge a range beyond this size (keeps a fault from losing much). */
#define MEM_MERGE_MAX (256u << 10)
/* Bounds per tick. */
#define MEM_MAX_HINTS 16384
#define MEM_PREFETCH_CAP (2u << 20)
#define MEM_MAX_IOV 1024
#define MEM_ARENA_BLOCK (64u << 10)
#define MEM_ARENA_CAP (8u << 20)
#define MEM_MAX_FAULTS 32

/* mem_image_install() */
static pid_t image_pid;
static const struct mem_image *image;
static uint64_t image_calls;

void mem_image_install(pid_t pid, const struct mem_image *img)
{
	image_pid = img ? pid : 0;
	image = img;
	image_calls = 0;
}

/* The image's copy of [addr, addr+len) if one segment holds all of it. */
static const uint8_t *image_find(const struct mem_image *img, uint64_t addr, size_t len)
{
	size_t i;

	for (i = 0; i < img->nsegs; i++) {
		const struct mem_image_seg *s = &img->segs[i];
		if (addr >= s->addr && len <= s->len && addr - s->addr <= s->len - len)
			return s->data + (addr - s->addr);
	}
	return NULL;
}

/* process_vm_readv() of pid, or of the installed image; n local and n remote iovecs of equal lengths. */
static ssize_t readv_remote(pid_t pid, const struct iovec *l, const struct iovec *r, size_t n)
{
	const struct mem_image *img = image;
	size_t k, total = 0;

	if (!img || pid != image_pid)
		return process_vm_readv(pid, l, n, r, n, 0);
	for (k = 0; k < n; k++) {
		const uint8_t *src;
		if (img->on_read)
			img->on_read(img->arg, image_calls++);
		src = image_find(img, (uint64_t)(uintptr_t)r[k].iov_base, r[k].iov_len);
		if (!src)
			break;
		memcpy(l[k].iov_base, src, r[k].iov_len);
		total += r[k].iov_len;
	}
	if (k < n && total == 0) {
		errno = EFAULT;
		return -1;
	}
	return (ssize_t)total;
}

int mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { buf, len };
	struct iovec r = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (len == 0)
		return 0;
	n = readv_remote(pid, &l, &r, 1);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EFAULT;
	return 0;
}

int mem_read_u64(pid_t pid, uint64_t addr, uint64_t *v)
{
	return mem_read(pid, addr, v, sizeof(*v));
}

struct hint {
	uint64_t addr;
	uint32_t len;
	uint8_t cls;
};

struct seg {
	uint64_t addr;
	uint32_t len;
	uint32_t off;            /* into buf */
	uint8_t ok;
	uint8_t cls;
	uint8_t used;            /* asked for this tick: keep it for the next */
	uint64_t used_lo, used_hi;   /* the part asked for */
};

struct miss {
	uint64_t addr;
	uint32_t len;
	const unsigned char *p;
};

struct block {
	struct block *next;
	size_t cap, used;
	unsigned char data[];
};

struct mem_view {
	pid_t pid;
	struct hint *hints, *prev;
	size_t nhints, nprev, caphints, capprev;
	struct seg *segs;
	size_t capsegs, nhead, nbody, nlate, nseal, ntail, nagain;
	unsigned char *buf;
	size_t bufcap;
	struct iovec *riov, *liov;
	struct miss *missv;
	size_t nmiss, capmiss;
	struct block *blocks, *cur;
	size_t arena_total;
	unsigned misses;
	int prefetch_slow, batch_slow;   /* see mem_view_prefetch_slow() */
	uint64_t unit_ns;                /* typical verifying-read cost per unit, x 16 */
	unsigned nreads;                 /* verifying reads measured */
	struct mem_view_stats st;
};

struct mem_view *mem_view_new(pid_t pid)
{
	struct mem_view *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->pid = pid;
	v->riov = malloc(MEM_MAX_IOV * sizeof(*v->riov));
	v->liov = malloc(MEM_MAX_IOV * sizeof(*v->liov));
	if (!v->riov || !v->liov) {
		free(v->riov);
		free(v->liov);
		free(v);
		return NULL;
	}
	return v;
}

void mem_view_free(struct mem_view *v)
{
	struct block *b, *n;

	if (!v)
		return;
	for (b = v->blocks; b; b = n) {
		n = b->next;
		free(b);
	}
	free(v->hints);
	free(v->prev);
	free(v->segs);
	free(v->buf);
	free(v->riov);
	free(v->liov);
	free(v->missv);
	free(v);
}

void mem_view_reset(struct mem_view *v)
{
	v->nhints = 0;
	v->nprev = 0;
	v->nhead = v->nbody = v->nlate = v->nseal = v->ntail = v->nagain = 0;
	v->nmiss = 0;
}

static void seg_use(struct seg *s, uint64_t addr, size_t len)
{
	if (!s->used) {
		s->used = 1;
		s->used_lo = addr;
		s->used_hi = addr + len;
		return;
	}
	if (addr < s->used_lo)
		s->used_lo = addr;
	if (addr + len > s->used_hi)
		s->used_hi = addr + len;
}

static struct seg *find_seg(struct seg *s, size_t lo, size_t hi, uint64_t addr, size_t len);

/* The group of segments a class was read in: [*lo, *hi). */
static void group(const struct mem_view *v, enum mem_class cls, size_t *lo, size_t *hi)
{
	size_t b = v->nbody, h = b + v->nhead, l = h + v->nlate, e = l + v->nseal;

	switch (cls) {
	case MEM_HEAD: *lo = b; *hi = h; return;
	case MEM_LATE: *lo = h; *hi = l; return;
	case MEM_SEAL: *lo = l; *hi = e; return;
	case MEM_TAIL: *lo = e; *hi = e + v->ntail; return;
	case MEM_AGAIN: *lo = e + v->ntail; *hi = e + v->ntail + v->nagain; return;
	default: *lo = 0; *hi = b; return;
	}
}

static void hint_add(struct mem_view *v, uint64_t addr, size_t len, enum mem_class cls);

void mem_view_hint(struct mem_view *v, uint64_t addr, size_t len, enum mem_class cls)
{
	size_t lo, hi;
	struct seg *s;

	if (cls == MEM_NOHINT || cls == MEM_AGAIN || len == 0 || len > MEM_MERGE_MAX)
		return;
	group(v, cls, &lo, &hi);
	s = find_seg(v->segs, lo, hi, addr, len);
	if (s) {
		seg_use(s, addr, len);
		return;
	}
	hint_add(v, addr, len, cls);
}

static void hint_add(struct mem_view *v, uint64_t addr, size_t len, enum mem_class cls)
{
	if (cls == MEM_NOHINT || cls == MEM_AGAIN || len == 0 || len > MEM_MERGE_MAX)
		return;
	if (v->nhints == v->caphints) {
		size_t nc = v->caphints ? v->caphints * 2 : 256;
		struct hint *nh;
		if (nc > MEM_MAX_HINTS)
			return;
		nh = realloc(v->hints, nc * sizeof(*nh));
		if (!nh)
			return;
		v->hints = nh;
		v->caphints = nc;
	}
	v->hints[v->nhints].addr = addr;
	v->hints[v->nhints].len = (uint32_t)len;
	v->hints[v->nhints].cls = (uint8_t)cls;
	v->nhints++;
}

static int hint_cmp(const void *a, const void *b)
{
	const struct hint *x = a, *y = b;

	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;   /* grouping only; begin() orders groups */
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->len < y->len ? 1 : (x->len > y->len ? -1 : 0);
}

static int ensure_segs(struct mem_view *v, size_t n)
{
	struct seg *ns;
	size_t nc;

	if (n <= v->capsegs)
		return 0;
	nc = v->capsegs ? v->capsegs : 64;
	while (nc < n)
		nc *= 2;
	ns = realloc(v->segs, nc * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	v->segs = ns;
	v->capsegs = nc;
	return 0;
}

static void arena_reset(struct mem_view *v)
{
	struct block *b;

	for (b = v->blocks; b; b = b->next)
		b->used = 0;
	v->cur = v->blocks;
	v->nmiss = 0;
	v->misses = 0;
}

static unsigned char *arena_alloc(struct mem_view *v, size_t len)
{
	struct block *b;
	size_t need = (len + 15) & ~(size_t)15;

	for (b = v->cur; b; b = b->next) {
		if (b->cap - b->used >= need) {
			unsigned char *p = b->data + b->used;
			b->used += need;
			v->cur = b;
			return p;
		}
	}
	/* New block appended at the end of the list. */
	{
		size_t cap = need > MEM_ARENA_BLOCK ? need : MEM_ARENA_BLOCK;
		struct block **tail = &v->blocks;
		if (v->arena_total + cap > MEM_ARENA_CAP)
			return NULL;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = NULL;
		b->cap = cap;
		b->used = need;
		while (*tail)
			tail = &(*tail)->next;
		*tail = b;
		v->cur = b;
		v->arena_total += cap;
		return b->data;
	}
}

/*
 * Account a verifying read of n ranges, bytes in all, that took ns; 1 if
 * it stalled (mem.h).  What a read normally costs depends on the machine
 * and on the shape of the stacks (a 30-frame chunk copy takes microseconds,
 * 4096 heap frames milliseconds), so the bound is learnt: a running average
 * of the cost per unit (a KiB, or two ranges) of this view's reads.
 */
static int read_slow(struct mem_view *v, uint64_t ns, size_t n, size_t bytes)
{
	uint64_t units = bytes / 1024 + 2 * (uint64_t)n + 1, per = ns * 16 / units;
	unsigned b = 0;
	int slow;

	while (b < 15 && (ns >> (10 + b)))
		b++;
	v->st.read_hist[b]++;
	if (ns > v->st.max_read_ns)
		v->st.max_read_ns = ns;
	slow = v->nreads >= MEM_SLOW_LEARN &&
	       ns > MEM_SLOW_BASE_NS + MEM_SLOW_FACTOR * v->unit_ns * units / 16;
	/* A stall must not teach the average that stalls are normal. */
	if (v->nreads && per > 4 * v->unit_ns)
		per = 4 * v->unit_ns;
	v->unit_ns = v->nreads ? (v->unit_ns * 7 + per) / 8 : per;
	v->nreads++;
	if (slow)
		v->st.slow_reads++;
	return slow;
}

/*
 * The segment read at position j of a tick's read.  TAIL segments are read
 * in descending address order, between the LATE copies and the AGAIN ones
 * (the TAIL ranges once more), both ascending: a torn combination of
 * caller and callee in one copy (the callee copied before a transition,
 * the caller after) shows in the next only if the opposite transition
 * happened between the same two ranges, and in the third only if the
 * first did again.  A program whose period matches the read's duration
 * can repeat one transition at the right moment; it has to repeat both.
 */
static size_t read_seg(const struct mem_view *v, size_t j)
{
	size_t e = v->nbody + v->nhead + v->nlate + v->nseal;

	return j < e || j >= e + v->ntail ? j : e + (e + v->ntail - 1 - j);
}

/* Read segs[from..to) (in read order) with as few system calls as possible. */
static int read_segs(struct mem_view *v, size_t from, size_t to)
{
	size_t i = from, faults = 0;

	while (i < to) {
		size_t n = to - i, k;
		ssize_t r;

		if (n > MEM_MAX_IOV)
			n = MEM_MAX_IOV;
		for (k = 0; k < n; k++) {
			const struct seg *sg = &v->segs[read_seg(v, i + k)];
			v->riov[k].iov_base = (void *)(uintptr_t)sg->addr;
			v->riov[k].iov_len = sg->len;
			v->liov[k].iov_base = v->buf + sg->off;
			v->liov[k].iov_len = sg->len;
		}
		r = readv_remote(v->pid, v->liov, v->riov, n);
		v->st.syscalls++;
		v->st.iovecs += n;
		if (r < 0) {
			int e = errno;
			if (e != EFAULT)
				return -e;
			r = 0;
		}
		/* Mark complete segments; the first incomplete one failed. */
		for (k = 0; k < n; k++) {
			struct seg *sg = &v->segs[read_seg(v, i + k)];
			if ((size_t)r >= sg->len) {
				sg->ok = 1;
				r -= (ssize_t)sg->len;
			} else {
				break;
			}
		}
		if (k == n) {
			i += n;
			continue;
		}
		v->segs[read_seg(v, i + k)].ok = 0;
		v->st.faults++;
		i += k + 1;
		if (++faults >= MEM_MAX_FAULTS)
			break;   /* leave the rest unread (ok = 0) */
	}
	return 0;
}

int mem_view_begin(struct mem_view *v)
{
	size_t i, n, nseg = 0, bytes = 0, c;
	int r;

	/*
	 * Next tick's list: the part of every segment used this tick (already
	 * in order within its class) plus the new hints (misses), sorted only
	 * when there are new ones.
	 */
	{
		size_t nnew = v->nhints, k = 0, total = v->nbody + v->nhead + v->nlate + v->nseal + v->ntail;
		if (v->capprev < nnew + total) {
			size_t nc = v->capprev ? v->capprev : 256;
			struct hint *nh;
			while (nc < nnew + total)
				nc *= 2;
			nh = realloc(v->prev, nc * sizeof(*nh));
			if (!nh)
				return -ENOMEM;
			v->prev = nh;
			v->capprev = nc;
		}
		for (i = 0; i < total; i++) {
			const struct seg *sg = &v->segs[i];
			if (!sg->used)
				continue;
			v->prev[k].addr = sg->used_lo;
			v->prev[k].len = (uint32_t)(sg->used_hi - sg->used_lo);
			v->prev[k].cls = sg->cls;
			k++;
		}
		if (nnew)
			memcpy(v->prev + k, v->hints, nnew * sizeof(*v->hints));
		n = k + nnew;
		v->nprev = n;
		v->nhints = 0;
		if (nnew)
			qsort(v->prev, n, sizeof(*v->prev), hint_cmp);
	}
	arena_reset(v);
	v->nhead = v->nbody = v->nlate = v->nseal = v->ntail = v->nagain = 0;
	if (n == 0)
		return 0;
	if ((r = ensure_segs(v, 2 * n)) < 0)   /* TAIL ranges twice */
		return r;
	for (c = 0; c < 5; c++) {
		/* BODY first: HEAD (thread states) is read just before the
		 * frames (LATE), the words saying where the stack ends (SEAL)
		 * and the frames' second copies (TAIL), keeping the window a
		 * torn read could slip through as short as possible. */
		static const uint8_t order[5] = { MEM_BODY, MEM_HEAD, MEM_LATE, MEM_SEAL, MEM_TAIL };
		uint8_t cls = order[c];
		size_t start = nseg;
		for (i = 0; i < n; i++) {
			const struct hint *x = &v->prev[i];
			struct seg *s;
			if (x->cls != cls)
				continue;
			if (bytes + x->len > MEM_PREFETCH_CAP)
				break;
			s = nseg > start ? &v->segs[nseg - 1] : NULL;
			if (s && cls != MEM_HEAD && x->addr <= s->addr + s->len + MEM_GAP &&
			    x->addr + x->len - s->addr <= MEM_MERGE_MAX) {
				uint64_t end = x->addr + x->len;
				if (end > s->addr + s->len) {
					bytes += end - (s->addr + s->len);
					s->len = (uint32_t)(end - s->addr);
				}
				continue;
			}
			if (s && x->addr >= s->addr && x->addr + x->len <= s->addr + s->len)
				continue;   /* duplicate HEAD/TAIL range */
			s = &v->segs[nseg++];
			s->addr = x->addr;
			s->len = x->len;
			s->ok = 0;
			s->cls = cls;
			s->used = 0;
			bytes += x->len;
		}
		if (cls == MEM_HEAD)
			v->nhead = nseg - start;
		else if (cls == MEM_BODY)
			v->nbody = nseg - start;
		else if (cls == MEM_LATE)
			v->nlate = nseg - start;
		else if (cls == MEM_SEAL)
			v->nseal = nseg - start;
		else
			v->ntail = nseg - start;
	}
	/* AGAIN: the TAIL segments once more (mem_view_again()). */
	for (i = nseg - v->ntail, c = nseg; i < c && bytes <= MEM_PREFETCH_CAP; i++) {
		v->segs[nseg] = v->segs[i];
		v->segs[nseg].cls = MEM_AGAIN;
		bytes += v->segs[nseg++].len;
	}
	v->nagain = nseg - c;
	/* Lay the segments out in the buffer. */
	bytes = 0;
	for (i = 0; i < nseg; i++) {
		v->segs[i].off = (uint32_t)bytes;
		bytes += v->segs[i].len;
	}
	if (bytes > v->bufcap) {
		unsigned char *nb = realloc(v->buf, bytes);
		if (!nb)
			return -ENOMEM;
		v->buf = nb;
		v->bufcap = bytes;
	}
	v->st.bytes += bytes;
	{
		uint64_t t0 = mono_ns();
		r = read_segs(v, 0, nseg);
		v->prefetch_slow = read_slow(v, mono_ns() - t0, nseg, bytes);
	}
	return r;
}

/* Segment in [lo, hi) (sorted, non-overlapping) containing the range. */
static struct seg *find_seg(struct seg *s, size_t lo, size_t hi, uint64_t addr, size_t len)
{
	size_t a = lo, b = hi;

	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (s[m].addr <= addr)
			a = m + 1;
		else
			b = m;
	}
	if (a == lo)
		return NULL;
	s = &s[a - 1];
	if (addr + len <= s->addr + s->len && s->ok)
		return s;
	return NULL;
}

static const void *read_now(struct mem_view *v, uint64_t addr, size_t len, int *err);

const void *mem_view_get(struct mem_view *v, uint64_t addr, size_t len,
			 enum mem_class cls, int *err)
{
	struct seg *s;
	size_t i;

	*err = 0;
	if (len == 0 || len > MEM_ARENA_CAP) {
		*err = -EINVAL;
		return NULL;
	}
	/* Groups in read order: BODY, HEAD, LATE (SEAL and TAIL have their own getters). */
	s = find_seg(v->segs, 0, v->nbody, addr, len);
	if (!s)
		s = find_seg(v->segs, v->nbody, v->nbody + v->nhead, addr, len);
	if (!s)
		s = find_seg(v->segs, v->nbody + v->nhead, v->nbody + v->nhead + v->nlate, addr, len);
	if (s) {
		if (cls != MEM_NOHINT && cls != MEM_TAIL && cls != MEM_SEAL)
			seg_use(s, addr, len);
		return v->buf + s->off + (addr - s->addr);
	}
	if (cls != MEM_TAIL && cls != MEM_SEAL)
		hint_add(v, addr, len, cls);
	for (i = v->nmiss; i > 0; i--) {
		const struct miss *m = &v->missv[i - 1];
		if (addr >= m->addr && addr + len <= m->addr + m->len)
			return m->p + (addr - m->addr);
	}
	return read_now(v, addr, len, err);
}

const void *mem_view_get_fresh(struct mem_view *v, uint64_t addr, size_t len,
			       enum mem_class cls, int *err)
{
	*err = 0;
	if (len == 0 || len > MEM_ARENA_CAP) {
		*err = -EINVAL;
		return NULL;
	}
	if (cls != MEM_TAIL && cls != MEM_SEAL)
		mem_view_hint(v, addr, len, cls);
	return read_now(v, addr, len, err);
}

static const void *read_now(struct mem_view *v, uint64_t addr, size_t len, int *err)
{
	unsigned char *p;
	int r;

	p = arena_alloc(v, len);
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	v->misses++;
	v->st.misses++;
	v->st.syscalls++;
	v->st.iovecs++;
	v->st.bytes += len;
	r = mem_read(v->pid, addr, p, len);
	if (r < 0) {
		v->st.faults++;
		*err = r;
		return NULL;
	}
	if (v->nmiss == v->capmiss && v->capmiss < 4096) {
		size_t nc = v->capmiss ? v->capmiss * 2 : 64;
		struct miss *nm = realloc(v->missv, nc * sizeof(*nm));
		if (nm) {
			v->missv = nm;
			v->capmiss = nc;
		}
	}
	if (v->nmiss < v->capmiss) {
		v->missv[v->nmiss].addr = addr;
		v->missv[v->nmiss].len = (uint32_t)len;
		v->missv[v->nmiss].p = p;
		v->nmiss++;
	}
	return p;
}

/*
 * The copy of class cls (TAIL, SEAL or AGAIN) of a range prefetched this
 * tick.  A missing TAIL or SEAL range becomes a hint; AGAIN is none of its
 * own (the TAIL range asked for brings it back).
 */
static const void *late_copy(struct mem_view *v, uint64_t addr, size_t len, enum mem_class cls)
{
	size_t lo, hi;
	struct seg *s;

	group(v, cls, &lo, &hi);
	s = find_seg(v->segs, lo, hi, addr, len);
	if (!s) {
		hint_add(v, addr, len, cls);   /* ignores MEM_AGAIN */
		return NULL;
	}
	if (cls != MEM_AGAIN)
		seg_use(s, addr, len);
	return v->buf + s->off + (addr - s->addr);
}

const void *mem_view_tail(struct mem_view *v, uint64_t addr, size_t len)
{
	return late_copy(v, addr, len, MEM_TAIL);
}

const void *mem_view_seal(struct mem_view *v, uint64_t addr, size_t len)
{
	return late_copy(v, addr, len, MEM_SEAL);
}

const void *mem_view_again(struct mem_view *v, uint64_t addr, size_t len)
{
	return late_copy(v, addr, len, MEM_AGAIN);
}

int mem_view_read_batch(struct mem_view *v, const uint64_t *addr, const uint32_t *len,
			size_t n, const uint8_t **out)
{
	struct iovec *r = v->riov;
	size_t i = 0;

	uint64_t t0;
	size_t bytes = 0;

	for (i = 0; i < n; i++) {
		out[i] = arena_alloc(v, len[i]);
		if (!out[i])
			return -ENOMEM;
		bytes += len[i];
	}
	i = 0;
	t0 = mono_ns();
	while (i < n) {
		size_t k, m = n - i, total = 0;
		ssize_t got;
		if (m > MEM_MAX_IOV)
			m = MEM_MAX_IOV;
		/* The arena hands out increasing addresses within a block, but
		 * not across blocks: one local iovec per range. */
		for (k = 0; k < m; k++) {
			r[k].iov_base = (void *)(uintptr_t)addr[i + k];
			r[k].iov_len = len[i + k];
			total += len[i + k];
		}
		for (k = 0; k < m; k++) {
			v->liov[k].iov_base = (void *)(uintptr_t)out[i + k];
			v->liov[k].iov_len = len[i + k];
		}
		got = readv_remote(v->pid, v->liov, r, m);
		v->st.syscalls++;
		v->st.iovecs += m;
		v->st.bytes += total;
		if (got < 0) {
			if (errno != EFAULT)
				return -errno;
			got = 0;
		}
		for (k = 0; k < m; k++) {
			if ((size_t)got >= len[i + k]) {
				got -= (ssize_t)len[i + k];
				continue;
			}
			break;
		}
		if (k == m) {
			i += m;
			continue;
		}
		out[i + k] = NULL;
		v->st.faults++;
		i += k + 1;
	}
	v->batch_slow = read_slow(v, mono_ns() - t0, n, bytes);
	return 0;
}

int mem_view_prefetch_slow(const struct mem_view *v)
{
	return v->prefetch_slow;
}

int mem_view_batch_slow(const struct mem_view *v)
{
	return v->batch_slow;
}

unsigned mem_view_misses(const struct mem_view *v)
{
	return v->misses;
}

void mem_view_stats(const struct mem_view *v, struct mem_view_stats *st)
{
	*st = v->st;
}
