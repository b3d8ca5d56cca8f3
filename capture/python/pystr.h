/*
 * pystr.h - turning CPython string objects into valid UTF-8.
 *
 * Pure functions on bytes already copied from the target; the walker does
 * the reading.  Output is always valid UTF-8 without NUL bytes (invalid
 * code points and NUL become U+FFFD), bounded by the caller's buffer and
 * cut on a character boundary.
 */
#ifndef PYSPY_CAPTURE_PYTHON_PYSTR_H
#define PYSPY_CAPTURE_PYTHON_PYSTR_H

#include <stddef.h>
#include <stdint.h>

#include "python/layout.h"

/* Longest string (in characters) the sampler decodes. */
#define PYSTR_MAX_CHARS 4096u

/* Where the text of a str object lives. */
struct pystr_where {
	uint64_t data;           /* remote address of the characters */
	uint32_t nchars;         /* length in characters (capped at PYSTR_MAX_CHARS) */
	uint8_t kind;            /* bytes per character: 1, 2 or 4 */
	uint8_t ascii;           /* 1: pure ASCII (kind 1) */
	uint8_t inline_data;     /* 1: the data follows the header in the object */
	uint8_t truncated;       /* the string was longer than PYSTR_MAX_CHARS */
	uint32_t objsize;        /* bytes of the object when inline, else header */
};

/*
 * Locate the text of a 3.x str (PEP 393) whose first bytes (at least
 * L->str_compact_size + 8, or all of a short object) are hdr.  Returns 0,
 * or -1 if the header is not a plausible str (bad kind, legacy not-ready
 * string, negative length).
 */
int pystr_locate(const struct py_layout *L, const uint8_t *hdr, size_t hdrlen,
		 uint64_t addr, struct pystr_where *w);

/*
 * Locate a 2.7 str (PyStringObject) or 3.x bytes object: data at
 * L->bytes_sval, length at L->bytes_size.  kind is 1.
 */
int pystr_locate_bytes(const struct py_layout *L, const uint8_t *hdr, size_t hdrlen,
		       uint64_t addr, struct pystr_where *w);

/*
 * Encode nchars characters of the given kind (1 = Latin-1, 2 = UCS-2,
 * 4 = UCS-4) as UTF-8 into dst[0..cap) and NUL-terminate.  Surrogates,
 * values above U+10FFFF and NUL become U+FFFD.  Returns bytes written.
 */
size_t pystr_ucs_to_utf8(int kind, const void *src, size_t nchars, char *dst, size_t cap);

/*
 * Copy a byte string (2.7 str, file names) as UTF-8: valid UTF-8 sequences
 * are kept, every other byte is decoded as Latin-1; NUL becomes U+FFFD.
 * Returns bytes written (NUL-terminated).
 */
size_t pystr_bytes_to_utf8(const void *src, size_t n, char *dst, size_t cap);

#endif /* PYSPY_CAPTURE_PYTHON_PYSTR_H */
