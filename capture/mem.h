/*
 * mem.h - reading another process's memory with process_vm_readv(2).
 *
 * pyspy never writes to a target: there is no write function here.
 *
 * Two layers:
 *  - mem_read(): one range, one system call.
 *  - struct mem_view: the per-tick read cache of one target.  Each range a
 *    walker asks for during tick N is remembered as a hint; at the start of
 *    tick N+1 mem_view_begin() reads all hinted ranges again in a single
 *    process_vm_readv, merging neighbouring ranges (each remote iovec costs
 *    about as much as copying 3 KiB, so small gaps are cheaper to copy than
 *    to skip).  A steady workload is then sampled with one system call per
 *    tick.  Ranges not prefetched are read on demand ("misses").
 *
 * Ordering classes let a walker detect torn reads: MEM_BODY ranges are read
 * first, then MEM_HEAD, MEM_LATE, MEM_SEAL, and MEM_TAIL last, all in the
 * same system call.  Frames read as LATE and again as TAIL are two copies
 * taken a few microseconds apart, after everything the walk used; the
 * words read as SEAL between them (where the stack ends) are then known to
 * be bracketed by two agreeing copies, as a seqlock reader brackets its
 * data with two reads of the sequence.  TAIL ranges are read in descending
 * address order and then once more, ascending (MEM_AGAIN): three copies in
 * alternating orders (mem.c, read_seg()).
 *
 * Errors are negative errno values: -EFAULT (range not mapped), -ESRCH (the
 * process is gone), -EPERM (no ptrace rights), -ENOMEM.
 */
#ifndef PYSPY_CAPTURE_MEM_H
#define PYSPY_CAPTURE_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A process image served from local buffers instead of a live process, for
 * unit tests and fuzzing (tests/unit/fakepy.h): while one is installed for
 * a pid, every read of that pid in this file (mem_read() and the views) is
 * served from its segments with process_vm_readv's semantics: ranges are
 * copied in order, a range not wholly inside one segment faults and ends
 * the call (-EFAULT when nothing was copied).  on_read, if set, runs before
 * each range is copied (counted from 0), so a test can change the image
 * between the ranges of one read, as a running target does while the
 * kernel copies.  The image is borrowed
 * until mem_image_install(0, NULL).  Not thread-safe; never used by the
 * tools themselves.
 */
struct mem_image_seg {
	uint64_t addr;
	size_t len;
	const uint8_t *data;
};

struct mem_image {
	const struct mem_image_seg *segs;
	size_t nsegs;
	void (*on_read)(void *arg, uint64_t call);
	void *arg;
};

void mem_image_install(pid_t pid, const struct mem_image *img);

/* Read len bytes at remote addr into buf.  0 or -errno (partial = -EFAULT). */
int mem_read(pid_t pid, uint64_t addr, void *buf, size_t len);

/* Convenience: read a little-endian u64 / u32. */
int mem_read_u64(pid_t pid, uint64_t addr, uint64_t *v);

enum mem_class {
	MEM_BODY = 0,     /* ordinary range, merged with neighbours */
	MEM_HEAD = 1,     /* read after BODY, before LATE (thread states) */
	MEM_TAIL = 2,     /* read after every BODY range; only mem_view_tail() sees it */
	MEM_NOHINT = 3,   /* read now if not cached, do not prefetch next tick */
	MEM_LATE = 4,     /* like BODY, read after the other BODY ranges, just
			   * before SEAL: the ranges a walker verifies */
	MEM_SEAL = 5,     /* read between LATE and TAIL; only mem_view_seal() sees it */
	MEM_AGAIN = 6,    /* not a hint: every TAIL range is read a second time
			   * after all TAIL ranges; only mem_view_again() sees it */
};

struct mem_view;

/* New view of pid; NULL on ENOMEM.  Free with mem_view_free(). */
struct mem_view *mem_view_new(pid_t pid);

/* Accepts NULL. */
void mem_view_free(struct mem_view *v);

/*
 * Start a tick: forget the previous tick's data and prefetch its hints.
 * Returns 0, or -ESRCH / -EPERM when the process cannot be read at all.
 * Pointers returned earlier become invalid.
 */
int mem_view_begin(struct mem_view *v);

/*
 * len bytes at addr, from the prefetch if it holds them, else read now.
 * Returns a pointer valid until the next mem_view_begin(), or NULL with
 * *err set.  The range becomes a hint of class cls for the next tick.
 */
const void *mem_view_get(struct mem_view *v, uint64_t addr, size_t len,
			 enum mem_class cls, int *err);

/*
 * Like mem_view_get() but always reads now (a fresh copy, counted as a
 * miss), for re-reading after a torn walk.
 */
const void *mem_view_get_fresh(struct mem_view *v, uint64_t addr, size_t len,
			       enum mem_class cls, int *err);

/*
 * The MEM_TAIL copy of a range prefetched this tick, or NULL if there is
 * none.  Hints it again for the next tick.
 */
const void *mem_view_tail(struct mem_view *v, uint64_t addr, size_t len);

/* The same for a MEM_SEAL copy. */
const void *mem_view_seal(struct mem_view *v, uint64_t addr, size_t len);

/* The second copy of a MEM_TAIL range (read after every TAIL range), or NULL. */
const void *mem_view_again(struct mem_view *v, uint64_t addr, size_t len);

/*
 * Read n ranges now in as few system calls as possible (fresh copies for
 * verification).  out[i] points to the copy, or is NULL if that range could
 * not be read.  0, or -errno when the process cannot be read at all.
 */
int mem_view_read_batch(struct mem_view *v, const uint64_t *addr, const uint32_t *len,
			size_t n, const uint8_t **out);

/*
 * Two copies of a range taken in one read are evidence of a stable stack
 * only if little time passed between them: a target that repeats the same
 * call pattern faster than the copy took can show the same inconsistent
 * combination of caller and callee in both copies (an ABA).  The copy
 * itself takes microseconds (4-16 us for a typical stack on a VM, up to
 * ~60 us under memory contention), but a reader preempted inside the
 * system call (a busy host, a stalled vCPU) stretches the window to
 * milliseconds, long enough for any call pattern to come round again.  A
 * read that took longer than MEM_SLOW_BASE_NS plus MEM_SLOW_FACTOR times
 * what a read of its size usually costs in this view (learnt over the
 * first MEM_SLOW_LEARN reads and kept as a running average) is "slow": its
 * copies must not be used to verify anything.
 */
#define MEM_SLOW_BASE_NS 200000u
#define MEM_SLOW_FACTOR 8u
#define MEM_SLOW_LEARN 8u

/* 1 if this tick's prefetch (mem_view_begin) was slow. */
int mem_view_prefetch_slow(const struct mem_view *v);

/* 1 if the last mem_view_read_batch() was slow. */
int mem_view_batch_slow(const struct mem_view *v);

/* Remember a range for the next tick without reading it now. */
void mem_view_hint(struct mem_view *v, uint64_t addr, size_t len, enum mem_class cls);

/* Forget all hints (e.g. after the target exec'd). */
void mem_view_reset(struct mem_view *v);

/* Direct reads (misses) since mem_view_begin(). */
unsigned mem_view_misses(const struct mem_view *v);

/* Statistics since creation. */
struct mem_view_stats {
	uint64_t syscalls;       /* process_vm_readv calls */
	uint64_t iovecs;         /* remote iovecs submitted */
	uint64_t bytes;          /* bytes requested */
	uint64_t misses;         /* on-demand reads */
	uint64_t faults;         /* ranges that could not be read */
	uint64_t slow_reads;     /* verifying reads over their time bound */
	uint64_t max_read_ns;    /* longest verifying read */
	uint64_t read_hist[16];  /* verifying reads by duration: [b] < 2^(10+b) ns */
};
void mem_view_stats(const struct mem_view *v, struct mem_view_stats *st);

#endif /* PYSPY_CAPTURE_MEM_H */
