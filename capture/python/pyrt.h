/*
 * pyrt.h - finding the CPython runtime inside a target process.
 *
 * pyrt_discover() locates the interpreter binary through /proc/PID/maps
 * (libpython preferred: the executable may be a launcher, an embedder or
 * the dynamic loader), reads its ELF file through /proc/PID/root (or
 * /proc/PID/map_files for deleted files), determines the version without
 * ever executing anything, chooses the layout, and finds the first
 * interpreter: symbol, then the .PyRuntime section, then a validated scan
 * of .PyRuntime/.data/.bss (stripped, static and non-PIE builds).
 *
 * Environment (for testing the fallbacks): PYSPY_CAPTURE_SYMBOLS=dynsym
 * ignores .symtab, =none ignores every ELF symbol.
 */
#ifndef PYSPY_CAPTURE_PYTHON_PYRT_H
#define PYSPY_CAPTURE_PYTHON_PYRT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "python/layout.h"
#include "python/pyver.h"

enum pyrt_status {
	PYRT_OK = 0,
	PYRT_E_NOPROC,           /* no such process */
	PYRT_E_PERM,             /* not allowed to read it */
	PYRT_E_NOTPYTHON,        /* no CPython binary mapped */
	PYRT_E_NOTREADY,         /* CPython found, interpreter not initialised yet */
	PYRT_E_UNSUPPORTED,      /* a version pyspy cannot read */
	PYRT_E_FREETHREADED,     /* free-threaded build */
	PYRT_E_NORUNTIME,        /* runtime structures not found or invalid */
};

struct pyrt {
	pid_t pid;
	struct pyver ver;
	char version[32];            /* "3.12.1" */
	char binary[1024];           /* mapped path of the ELF holding the runtime */
	uint64_t bias;               /* load bias of that ELF */
	struct py_layout L;          /* the layout in use */
	uint64_t runtime;            /* &_PyRuntime (3.7+), else 0 */
	uint64_t interp_head_ptr;    /* address of the pointer to the first interpreter */
	uint64_t gil_tstate_ptr;     /* address of the GIL holder's tstate pointer, or 0 */
	uint64_t func_version_ptr;   /* 3.12: _Py_next_func_version (u32), or 0 */
	uint64_t type_code, type_str, type_bytes, type_frame; /* 0: check tp_name */
	const char *found_by;        /* how the interpreter head was found */
	const char *version_from;    /* how the version was found */
};

/*
 * Find the runtime of pid.  Returns PYRT_OK or a PYRT_E_* status with a
 * one-line explanation (no program prefix) in err.
 */
enum pyrt_status pyrt_discover(pid_t pid, struct pyrt *rt, char *err, size_t errcap);

struct proc_maps;

/*
 * What pyrt_discover() does with one candidate ELF file once /proc/PID/maps
 * named it, for the unit tests and the fuzzer, which serve the target's
 * memory from a buffer (mem_image_install()): path is a file this process
 * opens itself (no mapping to match it against), mapped from offset 0 at
 * start; maps the target's mappings (pointers must fall in readable ones).
 * No caching.
 */
enum pyrt_status pyrt_discover_binary(pid_t pid, const struct proc_maps *maps, const char *path,
				      uint64_t start, struct pyrt *rt, char *err, size_t errcap);

#endif /* PYSPY_CAPTURE_PYTHON_PYRT_H */
