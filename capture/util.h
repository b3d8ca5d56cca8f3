/*
 * util.h - small helpers every part of the capture uses: the monotonic
 * clock, time units, loads from local byte buffers, the user-space address
 * limit and the thread-count bound.
 *
 * Naming: the *at() loads read a buffer this process already holds (a
 * copy of target memory, an ELF section); functions that read the target
 * itself are called *_read*() (mem_read(), pyobj_read(), remote_u64()), so
 * a name says which of the two a line does.
 */
#ifndef PYSPY_CAPTURE_UTIL_H
#define PYSPY_CAPTURE_UTIL_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_SEC 1000000000ull

/*
 * x86_64 Linux user space ends below 2^47 (4-level page tables; pyspy does
 * not support 5-level tables, where a process must opt in with mmap hints
 * above this limit).  A pointer read from a target at or above it is
 * garbage, and so is one that is not 8-byte aligned where CPython aligns.
 */
#define USER_ADDR_END 0x800000000000ull

/*
 * Threads of one process that the capture follows: the OS thread lists
 * read from /proc, the Python thread table and the --blocking pause list
 * are all bounded by this.
 */
#define CAPTURE_MAX_THREADS 4096

/* CLOCK_MONOTONIC in ns. */
static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* An aligned, non-NULL user-space address (see USER_ADDR_END). */
static inline int ptr_ok(uint64_t p)
{
	return p && !(p & 7) && p < USER_ADDR_END;
}

/* Native-endian (little-endian: x86_64) loads from a local buffer, any alignment. */
static inline uint64_t u64at(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline int64_t i64at(const void *p)
{
	int64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t u32at(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline int32_t i32at(const void *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return v;
}

#endif /* PYSPY_CAPTURE_UTIL_H */
