/*
 * tname.h - Python thread names from threading._active.
 *
 * sys.modules -> "threading" -> its dict -> "_active" ({ident: Thread}) ->
 * each Thread's "_name" ("_Thread__name" on 2.7).  Threads not created by
 * the threading module (C threads, _thread.start_new_thread) have no entry.
 * A scan costs a few hundred small reads, so callers rescan rarely (see
 * pyproc.c), never per sample.
 */
#ifndef PYSPY_CAPTURE_PYTHON_TNAME_H
#define PYSPY_CAPTURE_PYTHON_TNAME_H

#include <stddef.h>
#include <stdint.h>

#include "python/pyobj.h"

#define TNAME_MAX 128            /* bytes of a name kept, UTF-8 */

struct tname_entry {
	uint64_t ident;          /* threading ident = PyThreadState.thread_id */
	uint64_t native_id;      /* Thread._native_id (3.8+), 0 unknown */
	char name[TNAME_MAX];
};

struct tname {
	struct tname_entry *v;
	size_t n, cap;
	long mod_hint, dict_hint;    /* dict entry indexes found last time */
};

/*
 * Replace the table with the names of interp's threading._active.
 * Returns the number of names, or -1 if threading is not imported or the
 * objects cannot be read (the old table is then kept).
 */
int tname_scan(struct tname *t, struct pyobj_ctx *c, uint64_t interp);

/*
 * Name of a thread ident (binary search), or NULL.  An ident is a pthread_t,
 * which the next thread reuses: when both the entry's and the caller's OS
 * thread ids are known (native_id, 0 = unknown), they must agree too.
 */
const char *tname_get(const struct tname *t, uint64_t ident, uint64_t native_id);

/* Accepts a zeroed struct. */
void tname_release(struct tname *t);

#endif /* PYSPY_CAPTURE_PYTHON_TNAME_H */
