/*
 * pyobj.h - reading ordinary Python objects of a target: str, int, dict,
 * instance attributes.  Used off the hot path (thread names now, local
 * variables later), so it reads directly with small bounded reads.
 *
 * All functions return 0 (or a length) on success and -1 when an object
 * cannot be read or fails validation; they never print.
 */
#ifndef PYSPY_CAPTURE_PYTHON_PYOBJ_H
#define PYSPY_CAPTURE_PYTHON_PYOBJ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "python/layout.h"

struct pyobj_ctx {
	pid_t pid;
	const struct py_layout *L;
	unsigned reads;          /* read budget left; 0 stops every function */
};

/* Bounded direct read; consumes one unit of the budget. */
int pyobj_read(struct pyobj_ctx *c, uint64_t addr, void *buf, size_t len);

/* The type's tp_name of obj (NUL-terminated, truncated to cap). */
int pyobj_type_name(struct pyobj_ctx *c, uint64_t obj, char *out, size_t cap);

/*
 * Text of a str (3.x), or of a str/unicode (2.7), as valid UTF-8 in
 * out[0..cap).  Returns the length or -1 (not a string, unreadable).
 */
long pyobj_text(struct pyobj_ctx *c, uint64_t obj, char *out, size_t cap);

/* Value of a small non-negative int/long (thread idents fit in 64 bits). */
int pyobj_uint(struct pyobj_ctx *c, uint64_t obj, uint64_t *v);

/*
 * Call fn(key, value, arg) for every live entry of a dict (at most max
 * entries); iteration stops when fn returns non-zero.
 */
int pyobj_dict_foreach(struct pyobj_ctx *c, uint64_t dict, size_t max,
		       int (*fn)(uint64_t key, uint64_t value, void *arg), void *arg);

/*
 * Value of the str key `key` in a dict.  *hint (may be NULL) is an entry
 * index to try first and receives the index where the key was found.
 */
int pyobj_dict_get(struct pyobj_ctx *c, uint64_t dict, const char *key, uint64_t *val,
		   long *hint);

/* Instance attribute (from the instance dict or inline values). */
int pyobj_getattr(struct pyobj_ctx *c, uint64_t obj, const char *name, uint64_t *val);

#endif /* PYSPY_CAPTURE_PYTHON_PYOBJ_H */
