/*
 * linetable.h - CPython's three line-number encodings, decoded once per
 * code object into sorted ranges and then looked up by binary search.
 *
 * Units of the address given to linetable_lookup():
 *   PY_LINES_LNOTAB27, PY_LINES_LNOTAB: byte offset = f_lasti (2.7 - 3.9)
 *   PY_LINES_310: byte offset = 2 * f_lasti (3.10)
 *   PY_LINES_PEP657: code units from co_code_adaptive (3.11+)
 * A negative address (frame not started) gives co_firstlineno, as
 * PyCode_Addr2Line() does.  -1 means "no line" (e.g. artificial code).
 */
#ifndef PYSPY_CAPTURE_PYTHON_LINETABLE_H
#define PYSPY_CAPTURE_PYTHON_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

#include "python/layout.h"

/* Addresses >= start (up to the next range's start) have this line. */
struct lt_range {
	uint32_t start;
	int32_t line;
};

/* Hard bounds for tables read from a (possibly racing) process. */
#define LT_MAX_TABLE 65536u
#define LT_MAX_RANGES 65536u

/*
 * Decode a line table.  Writes at most cap ranges to out and returns the
 * number written, or -1 if the table is malformed or would need more than
 * cap ranges.  Consecutive ranges with the same line are merged.
 */
long linetable_decode(enum py_lines kind, const uint8_t *tab, size_t len,
		      int32_t firstlineno, struct lt_range *out, size_t cap);

/* Line of addr (see the units above); firstlineno if addr < 0. */
int32_t linetable_lookup(const struct lt_range *r, size_t n, long addr,
			 int32_t firstlineno);

#endif /* PYSPY_CAPTURE_PYTHON_LINETABLE_H */
