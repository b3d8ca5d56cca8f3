/*
 * pyrepr.h - bounded text renderings of Python objects in a target, and
 * the local variables of a frame (pyspy-capture --dump --locals).
 *
 * What is rendered, and how (docs/pyspy-capture.1.md, --locals):
 *   None, True/False, ints (decimal; beyond 64 bits "+bigint"/"-bigint";
 *   2.7 longs with "L"), floats (Python's repr), str as "text" (2.7
 *   unicode u"text"), bytes b"..." (2.7 str as "text"), lists, tuples and
 *   dicts recursively ("[...]" for a container that contains itself),
 *   anything else "<typename at 0xADDR>".  Text is escaped (\" \\ \n \r
 *   \t \xNN), always valid UTF-8, and cut on a character boundary.
 *
 * The budget bounds the bytes of one rendering: a longer string ends with
 * `..."`, a longer container with `...]` (PSF_LF_TRUNCATED).  A value that
 * cannot be read is `?` inside a container; a variable whose value cannot
 * be read at all is "? (why)"; either sets PSF_LF_ERROR.  Reads are
 * direct and bounded (pyobj.h), so a value changed or freed under the read
 * gives a partial rendering, never a crash.
 */
#ifndef PYSPY_CAPTURE_PYTHON_PYREPR_H
#define PYSPY_CAPTURE_PYTHON_PYREPR_H

#include <stddef.h>
#include <stdint.h>

#include "python/pyobj.h"

#define PYREPR_BUDGET 128        /* bytes of one rendering, like py-spy's -l */
#define PYREPR_MAX_BUDGET 65536  /* a LOCAL record's limit */

/*
 * Render the object at obj into out[0..cap) (NUL-terminated) within
 * budget bytes (5 <= budget; cap > 2 * budget + 64).  Returns the length;
 * *flags receives PSF_LF_TRUNCATED and/or PSF_LF_ERROR.
 */
size_t pyrepr_object(struct pyobj_ctx *c, uint64_t obj, size_t budget, char *out, size_t cap,
		     uint32_t *flags);

/* ------------------------------------------------------------------ */
/* Pure helpers (no target), exposed for the unit tests.                */

/*
 * Quote UTF-8 text (valid UTF-8 expected; anything else is escaped as
 * \xNN) as prefix"text" with \" \\ \n \r \t and other control characters
 * escaped, within budget bytes: if it does not fit, the text is cut on a
 * character boundary (never inside an escape) and ends with `..."`, and
 * *truncated is set.  Returns bytes written to dst (cap > budget).
 * prefix may be NULL ("" ) or e.g. "u".
 */
size_t pyrepr_quote(char *dst, size_t cap, size_t budget, const char *prefix, const char *text,
		    size_t len, int more, int *truncated);

/* Same for a byte string: b"..." with every byte outside printable ASCII as \xNN. */
size_t pyrepr_quote_bytes(char *dst, size_t cap, size_t budget, const uint8_t *data, size_t len,
			  int more, int *truncated);

/* Python's repr() of a float: shortest round-trip digits, "1.0", "1e+16", "inf", "nan". */
size_t pyrepr_float(double v, char *dst, size_t cap);

/*
 * An int given as 30-bit digits (least significant first): decimal, or
 * "+bigint"/"-bigint" beyond 64 bits.  Returns bytes written.
 */
size_t pyrepr_digits(const uint32_t *digits, size_t ndigits, int negative, char *dst, size_t cap);

/* ------------------------------------------------------------------ */
/* Local variables                                                      */

/*
 * Called for each variable: name (UTF-8), repr (len bytes), flags
 * (PSF_LF_ARG, PSF_LF_TRUNCATED, PSF_LF_ERROR).  Return non-zero to stop.
 */
typedef int (*pyrepr_local_fn)(void *arg, const char *name, const char *repr, size_t len,
			       uint32_t flags);

/*
 * The arguments and local variables of the frame at frame (a
 * PyFrameObject up to 3.10, a _PyInterpreterFrame from 3.11) running the
 * code object at code.  Arguments (positional, keyword-only, *args,
 * **kwargs) come first, flagged PSF_LF_ARG; cell and free variables show
 * their cell's contents; unset variables are left out.  verify != 0 (a
 * target that keeps running): each variable's slot is read again after
 * its rendering, until it still holds the same object and two renderings
 * agree (three rounds at most; else flagged PSF_LF_ERROR "changed during
 * the read"), and every variable is flagged when the frame itself
 * changed.
 * Returns the number of variables reported, or -1 when the frame or its
 * code object cannot be read (why in err).
 */
int pyrepr_locals(struct pyobj_ctx *c, uint64_t frame, uint64_t code, size_t budget, int verify,
		  pyrepr_local_fn fn, void *arg, char *err, size_t errcap);

#endif /* PYSPY_CAPTURE_PYTHON_PYREPR_H */
