/*
 * pyver.h - CPython version numbers: from PY_VERSION_HEX, from version
 * strings ("3.12.1 (main, ...", the buffer behind Py_GetVersion()), and
 * from interpreter file names (libpython3.12.so.1.0, python2.7).
 */
#ifndef PYSPY_CAPTURE_PYTHON_PYVER_H
#define PYSPY_CAPTURE_PYTHON_PYVER_H

#include <stddef.h>
#include <stdint.h>

struct pyver {
	int major, minor;
	int micro;               /* -1 when unknown (file-name guess) */
	char level;              /* 'a', 'b', 'c' (rc), 'f' (final) */
	int serial;
};

/* Decode PY_VERSION_HEX (Py_Version, _Py_DebugOffsets.version).  0 or -1. */
int pyver_from_hex(uint64_t hex, struct pyver *v);

/*
 * Parse "X.Y.Z[{a,b,rc}N][+] (" at the start of s.  Returns the number of
 * characters consumed up to and including the '(' or -1.
 */
int pyver_parse(const char *s, size_t len, struct pyver *v);

/*
 * Find the first version string "X.Y.Z... (" in a memory image (the
 * Py_GetVersion() buffer, .bss or .data).  Returns its offset or -1.
 */
long pyver_scan(const char *buf, size_t len, struct pyver *v);

/*
 * Find PY_VERSION, the "X.Y.Z" literal of the expected major.minor, in a
 * read-only data image (.rodata): a NUL-terminated string ending with it,
 * not inside a longer number (the linker may share it as the tail of a
 * longer string, e.g. a prefix path ".../3.10.13").  Used before the
 * interpreter has filled its Py_GetVersion() buffer (a launched program
 * seen early).  Returns its offset, or -1 if absent or if two different
 * versions are found.
 */
long pyver_scan_literal(const char *buf, size_t len, int major, int minor, struct pyver *v);

/*
 * Guess from a file name: libpython3.12.so.1.0, libpython3.6m.so,
 * libpython3.13t.so, python2.7, python3.14t.  *ft is set to 1 for a
 * free-threaded ("t") name.  micro is -1.  0 or -1.
 */
int pyver_from_filename(const char *path, struct pyver *v, int *ft);

/* "3.12.1", "3.13.0rc2", "3.9" (micro unknown). */
const char *pyver_str(const struct pyver *v, char *buf, size_t cap);

/* 1 if this major.minor is one pyspy-capture knows how to read. */
int pyver_supported(const struct pyver *v);

#endif /* PYSPY_CAPTURE_PYTHON_PYVER_H */
