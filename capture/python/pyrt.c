/*
 * pyrt.c - locating the CPython runtime in a process (see pyrt.h).
 */
#include "python/pyrt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elffile.h"
#include "mem.h"
#include "proc.h"
#include "util.h"

/*
 * Upper bound on section bytes read for a scan.  The fuzzers build with a
 * smaller one: a hostile ELF's section sizes make an input slow (48 MiB
 * read and scanned up to three times), not unsafe.
 */
#ifndef SCAN_MAX
#define SCAN_MAX (48u << 20)
#endif

enum {
	S_PYRUNTIME, S_PY_VERSION, S_INTERP_HEAD_FN, S_INTERP_HEAD, S_TSTATE_CURRENT,
	S_CODE_TYPE, S_UNICODE_TYPE, S_STRING_TYPE, S_BYTES_TYPE, S_FRAME_TYPE,
	S_VERSION_BUF, S_FUNC_VERSION, S_GETVERSION, S_COUNT
};

static const char *const sym_names[S_COUNT] = {
	"_PyRuntime", "Py_Version", "PyInterpreterState_Head", "interp_head",
	"_PyThreadState_Current", "PyCode_Type", "PyUnicode_Type", "PyString_Type",
	"PyBytes_Type", "PyFrame_Type", "version.*", "_Py_next_func_version",
	"Py_GetVersion",
};

struct cand {
	const char *path;
	const struct proc_map *map;  /* its offset-0 mapping */
	uint64_t start, end;
	int prio;
	int deleted;
	unsigned dev_major, dev_minor;
	uint64_t inode;
};

/*
 * What one ELF file says, cached by device and inode: a launched program
 * is polled until its interpreter is up, and later processes (children,
 * exec) map the same libpython.
 */
struct elf_facts {
	unsigned dev_major, dev_minor;
	uint64_t inode;
	int mode;
	uint64_t vaddr[S_COUNT];
	struct elf_section sec_rt, sec_data, sec_bss, sec_rodata;
	int have_rt, have_data, have_bss, have_rodata;
	uint64_t load_base;
};

#define FACTS_CACHE 8
static struct elf_facts facts_cache[FACTS_CACHE];
static unsigned facts_n, facts_next;

static const struct elf_facts *facts_find(const struct cand *cd, int mode)
{
	unsigned i;

	if (!cd->inode)
		return NULL;
	for (i = 0; i < facts_n; i++) {
		const struct elf_facts *f = &facts_cache[i];
		if (f->inode == cd->inode && f->dev_major == cd->dev_major &&
		    f->dev_minor == cd->dev_minor && f->mode == mode)
			return f;
	}
	return NULL;
}

/* Read the facts of an ELF file (fd from proc_open_mapped(), taken over). */
static int facts_load(int fd, const struct cand *cd, int mode, struct elf_facts *f)
{
	struct elf_file *e;
	int r = elf_open_fd(&e, fd);

	if (r < 0)
		return r;
	memset(f, 0, sizeof(*f));
	f->dev_major = cd->dev_major;
	f->dev_minor = cd->dev_minor;
	f->inode = cd->inode;
	f->mode = mode;
	if (mode > 0)
		elf_symbols(e, sym_names, S_COUNT, f->vaddr, NULL, mode == 2);
	f->have_rt = elf_section(e, ".PyRuntime", &f->sec_rt) == 0;
	f->have_data = elf_section(e, ".data", &f->sec_data) == 0;
	f->have_bss = elf_section(e, ".bss", &f->sec_bss) == 0;
	f->have_rodata = elf_section(e, ".rodata", &f->sec_rodata) == 0;
	f->load_base = elf_load_base(e);
	elf_close(e);
	if (cd->inode) {
		facts_cache[facts_next] = *f;
		facts_next = (facts_next + 1) % FACTS_CACHE;
		if (facts_n < FACTS_CACHE)
			facts_n++;
	}
	return 0;
}

struct ctx {
	pid_t pid;
	const struct proc_maps *maps;
	uint64_t sym[S_COUNT];       /* run-time addresses (bias applied), 0 = none */
	struct elf_section sec_rt, sec_data, sec_bss, sec_rodata;
	int have_rt, have_data, have_bss, have_rodata;
	uint64_t bias;
	struct pyrt *rt;
	char *err;
	size_t errcap;
};

static int symbols_mode(void)
{
	const char *e = getenv("PYSPY_CAPTURE_SYMBOLS");

	if (!e || !*e)
		return 2;
	if (strcmp(e, "none") == 0)
		return 0;
	if (strcmp(e, "dynsym") == 0)
		return 1;
	return 2;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int is_libpython(const char *base)
{
	return strncmp(base, "libpython", 9) == 0 && base[9] >= '2' && base[9] <= '3' &&
	       base[10] == '.';
}

static int is_python_exe(const char *base)
{
	/* python, python3, python3.12, python2.7, python3.13t, python3.12d */
	const char *p;

	if (strncmp(base, "python", 6) != 0)
		return 0;
	for (p = base + 6; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.' || (*p >= 'a' && *p <= 'z')))
			return 0;
	return base[6] == 0 || (base[6] >= '2' && base[6] <= '3');
}

/* A pointer that could be a heap/data address in a mapped, readable region. */
static int ptr_mapped(const struct ctx *c, uint64_t p)
{
	const struct proc_map *m;

	if (!p || (p & 7) || p >= USER_ADDR_END)
		return 0;
	m = proc_maps_find(c->maps, p);
	return m && m->perms[0] == 'r';
}

static int remote_u64(const struct ctx *c, uint64_t addr, uint64_t *v)
{
	return mem_read(c->pid, addr, v, 8);
}

/* obj is a Python object whose type is called name. */
static int type_named(const struct ctx *c, uint64_t obj, const char *name)
{
	uint64_t tp, nm;
	char buf[32];

	if (!ptr_mapped(c, obj) || remote_u64(c, obj + 8, &tp) < 0 || !ptr_mapped(c, tp) ||
	    remote_u64(c, tp + 24, &nm) < 0 || !nm || mem_read(c->pid, nm, buf, sizeof(buf)) < 0)
		return 0;
	buf[sizeof(buf) - 1] = 0;
	return strcmp(buf, name) == 0;
}

/*
 * A scan candidate must also hold sys.modules: plenty of other structures
 * (two-element linked lists) point back and forth like an interpreter and
 * its first thread.
 */
static int interp_plausible(const struct ctx *c, const struct py_layout *L, uint64_t interp)
{
	uint64_t modules;

	if (L->is_modules < 0 || remote_u64(c, interp + (uint64_t)L->is_modules, &modules) < 0)
		return 0;
	return type_named(c, modules, "dict");
}

/* interp looks like a PyInterpreterState whose first thread points back. */
static int interp_valid(const struct ctx *c, const struct py_layout *L, uint64_t interp,
			int allow_no_threads)
{
	uint64_t ts, back;

	if (!ptr_mapped(c, interp))
		return 0;
	if (remote_u64(c, interp + (uint64_t)L->is_threads_head, &ts) < 0)
		return 0;
	if (ts == 0)
		return allow_no_threads;
	if (!ptr_mapped(c, ts))
		return 0;
	if (remote_u64(c, ts + (uint64_t)L->ts_interp, &back) < 0)
		return 0;
	return back == interp;
}

/* Read a section (run-time address) of the target into a new buffer. */
static uint8_t *read_section(const struct ctx *c, const struct elf_section *s, size_t *len)
{
	uint8_t *buf;
	size_t n = s->size > SCAN_MAX ? SCAN_MAX : s->size, off;

	*len = 0;
	if (n == 0)
		return NULL;
	buf = malloc(n);
	if (!buf)
		return NULL;
	/* Page by page: a hole must not lose the whole section. */
	for (off = 0; off < n;) {
		uint64_t a = c->bias + s->vaddr + off;
		size_t chunk = 65536 - (size_t)(a & 0xffff);
		if (chunk > n - off)
			chunk = n - off;
		if (mem_read(c->pid, a, buf + off, chunk) < 0)
			memset(buf + off, 0, chunk);
		off += chunk;
	}
	*len = n;
	return buf;
}

/* The sections a scan looks at, in order: .PyRuntime, .data, .bss. */
static size_t scan_sections(const struct ctx *c, const struct elf_section **out)
{
	size_t n = 0;

	if (c->have_rt)
		out[n++] = &c->sec_rt;
	if (c->have_data)
		out[n++] = &c->sec_data;
	if (c->have_bss)
		out[n++] = &c->sec_bss;
	return n;
}

/* 3.13+: _PyRuntime starts with the "xdebugpy" cookie. */
static uint64_t scan_cookie(const struct ctx *c)
{
	const struct elf_section *secs[3];
	size_t ns = scan_sections(c, secs), i;

	for (i = 0; i < ns; i++) {
		size_t len, off;
		uint8_t *buf = read_section(c, secs[i], &len);
		if (!buf)
			continue;
		for (off = 0; off + 16 <= len; off += 8) {
			if (memcmp(buf + off, "xdebugpy", 8) == 0) {
				uint64_t a = c->bias + secs[i]->vaddr + off;
				free(buf);
				return a;
			}
		}
		free(buf);
	}
	return 0;
}

/*
 * Scan for a word holding a valid interpreter pointer.  Returns the
 * address of the word, 0 if none.
 */
static uint64_t scan_interp(const struct ctx *c, const struct py_layout *L)
{
	const struct elf_section *secs[3];
	size_t ns = scan_sections(c, secs), i;

	for (i = 0; i < ns; i++) {
		size_t len, off;
		uint8_t *buf = read_section(c, secs[i], &len);
		if (!buf)
			continue;
		for (off = 0; off + 8 <= len; off += 8) {
			uint64_t w;
			memcpy(&w, buf + off, 8);
			if (w && !(w & 7) && interp_valid(c, L, w, 0) && interp_plausible(c, L, w)) {
				uint64_t a = c->bias + secs[i]->vaddr + off;
				free(buf);
				return a;
			}
		}
		free(buf);
	}
	return 0;
}

static int set_err(struct ctx *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int set_err(struct ctx *c, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errcap, fmt, ap);
	va_end(ap);
	return status;
}

static int find_version(struct ctx *c)
{
	struct pyrt *rt = c->rt;
	int ft = 0;

	if (c->sym[S_PY_VERSION]) {
		uint64_t hex;
		if (remote_u64(c, c->sym[S_PY_VERSION], &hex) == 0 && pyver_from_hex(hex, &rt->ver) == 0) {
			rt->version_from = "Py_Version";
			return 0;
		}
	}
	{
		uint64_t a = c->sym[S_PYRUNTIME] ? c->sym[S_PYRUNTIME]
			   : c->have_rt ? c->bias + c->sec_rt.vaddr : 0;
		uint8_t hdr[16];
		if (a && mem_read(c->pid, a, hdr, 16) == 0 && memcmp(hdr, "xdebugpy", 8) == 0) {
			uint64_t hex;
			memcpy(&hex, hdr + 8, 8);
			if (pyver_from_hex(hex, &rt->ver) == 0) {
				rt->version_from = "_Py_DebugOffsets";
				return 0;
			}
		}
	}
	if (c->sym[S_VERSION_BUF]) {
		char buf[256];
		if (mem_read(c->pid, c->sym[S_VERSION_BUF], buf, sizeof(buf)) == 0 &&
		    pyver_parse(buf, sizeof(buf), &rt->ver) > 0) {
			rt->version_from = "Py_GetVersion buffer";
			return 0;
		}
	}
	{
		const struct elf_section *secs[3];
		size_t ns = scan_sections(c, secs), i;
		for (i = 0; i < ns; i++) {
			size_t len;
			uint8_t *buf = read_section(c, secs[i], &len);
			long at;
			if (!buf)
				continue;
			at = pyver_scan((const char *)buf, len, &rt->ver);
			free(buf);
			if (at >= 0) {
				rt->version_from = "version string in memory";
				return 0;
			}
		}
	}
	if (pyver_from_filename(rt->binary, &rt->ver, &ft) == 0) {
		struct pyver lit;
		size_t len;
		uint8_t *buf;

		/*
		 * Seen before the interpreter filled its version buffer (a launched
		 * program, early): the patch level is still in PY_VERSION, the
		 * literal in .rodata (issue 9: "3.10" instead of "3.10.13").
		 */
		if (c->have_rodata && (buf = read_section(c, &c->sec_rodata, &len)) != NULL) {
			long at = pyver_scan_literal((const char *)buf, len, rt->ver.major,
						     rt->ver.minor, &lit);

			free(buf);
			if (at >= 0) {
				rt->ver = lit;
				rt->version_from = "PY_VERSION in .rodata";
				return ft ? 1 : 0;
			}
		}
		rt->version_from = "file name";
		return ft ? 1 : 0;
	}
	return -1;
}

/* 2.7 / 3.6: address of the static interp_head. */
static uint64_t find_interp_head_static(struct ctx *c, const struct py_layout *L)
{
	if (c->sym[S_INTERP_HEAD]) {
		c->rt->found_by = "symbol interp_head";
		return c->sym[S_INTERP_HEAD];
	}
	if (c->sym[S_INTERP_HEAD_FN]) {
		/* x86_64: [endbr64] mov rax, [rip + disp32]; ret */
		uint8_t code[16];
		uint64_t fn = c->sym[S_INTERP_HEAD_FN];
		if (mem_read(c->pid, fn, code, sizeof(code)) == 0) {
			size_t o = 0;
			if (code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && code[3] == 0xfa)
				o = 4;
			if (code[o] == 0x48 && code[o + 1] == 0x8b && code[o + 2] == 0x05) {
				int32_t disp;
				memcpy(&disp, code + o + 3, 4);
				c->rt->found_by = "PyInterpreterState_Head()";
				return fn + o + 7 + (uint64_t)(int64_t)disp;
			}
		}
	}
	c->rt->found_by = "scan";
	return scan_interp(c, L);
}

/* 3.7+: address of _PyRuntime. */
static uint64_t find_runtime(struct ctx *c, const struct py_layout *L)
{
	uint64_t w;

	if (c->sym[S_PYRUNTIME]) {
		c->rt->found_by = "symbol _PyRuntime";
		return c->sym[S_PYRUNTIME];
	}
	if (c->have_rt) {
		c->rt->found_by = "section .PyRuntime";
		return c->bias + c->sec_rt.vaddr;
	}
	if (c->rt->ver.minor >= 13) {
		c->rt->found_by = "scan for _Py_DebugOffsets";
		return scan_cookie(c);
	}
	if (!L)
		return 0;
	c->rt->found_by = "scan";
	w = scan_interp(c, L);
	return w ? w - (uint64_t)L->rt_interp_head : 0;
}

static enum pyrt_status try_binary(struct ctx *c, const struct cand *cd)
{
	struct pyrt *rt = c->rt;
	uint64_t vaddr[S_COUNT];
	char tried[1024];
	int mode = symbols_mode(), r, i, anchor;
	const struct py_layout *L = NULL;
	uint64_t interp;

	snprintf(rt->binary, sizeof(rt->binary), "%s", cd->path);
	{
		const struct elf_facts *fc = facts_find(cd, mode);
		struct elf_facts fresh;
		if (!fc) {
			/* The path in maps may not lead to the file from here (the
			 * target's root, mount namespace, a deleted file): */
			int fd;

			/* pyrt_discover_binary() (tests, fuzzers) names a local
			 * file and has no mapping to match it against. */
			if (cd->map) {
				fd = proc_open_mapped(c->pid, cd->map, tried, sizeof(tried));
			} else {
				fd = open(cd->path, O_RDONLY | O_CLOEXEC);
				if (fd < 0) {
					fd = -errno;
					snprintf(tried, sizeof(tried), "%s (%s)", cd->path, strerror(errno));
				}
			}
			if (fd < 0)
				return set_err(c, fd == -EACCES ? PYRT_E_PERM : PYRT_E_NOTPYTHON,
					       "cannot open '%s' of process %d: tried %s", cd->path,
					       (int)c->pid, tried);
			r = facts_load(fd, cd, mode, &fresh);
			if (r < 0)
				return set_err(c, PYRT_E_NOTPYTHON, "cannot read '%s': %s", cd->path,
					       strerror(-r));
			fc = &fresh;
		}
		memcpy(vaddr, fc->vaddr, sizeof(vaddr));
		c->sec_rt = fc->sec_rt;
		c->sec_data = fc->sec_data;
		c->sec_bss = fc->sec_bss;
		c->have_rt = fc->have_rt;
		c->have_data = fc->have_data;
		c->have_bss = fc->have_bss;
		c->sec_rodata = fc->sec_rodata;
		c->have_rodata = fc->have_rodata;
		c->bias = cd->start - fc->load_base;
	}
	rt->bias = c->bias;
	for (i = 0; i < S_COUNT; i++)
		c->sym[i] = vaddr[i] ? vaddr[i] + c->bias : 0;
	anchor = c->sym[S_PYRUNTIME] || c->sym[S_PY_VERSION] || c->sym[S_INTERP_HEAD_FN] ||
		 c->sym[S_GETVERSION] || c->have_rt ||
		 (mode == 0 && cd->prio < 2);
	if (!anchor)
		return set_err(c, PYRT_E_NOTPYTHON, "'%s' has no Python runtime", cd->path);

	r = find_version(c);
	if (r < 0)
		return set_err(c, PYRT_E_NOTPYTHON, "cannot tell the Python version of '%s'", cd->path);
	pyver_str(&rt->ver, rt->version, sizeof(rt->version));
	if (r == 1)
		return set_err(c, PYRT_E_FREETHREADED,
			       "Python %s in '%s' is a free-threaded build, which pyspy-capture cannot read yet",
			       rt->version, cd->path);
	if (!pyver_supported(&rt->ver))
		return set_err(c, PYRT_E_UNSUPPORTED,
			       "Python %s is not supported (pyspy-capture reads 2.7 and 3.6 - 3.15)",
			       rt->version);

	if (rt->ver.minor >= 13 && rt->ver.major == 3) {
		size_t n = layout_debug_offsets_size(rt->ver.minor);
		uint8_t buf[1024];
		uint64_t hex;
		int ft;
		char why[160];
		rt->runtime = find_runtime(c, NULL);
		if (!rt->runtime)
			return set_err(c, PYRT_E_NORUNTIME, "cannot find _PyRuntime in '%s'", cd->path);
		if (n > sizeof(buf) || mem_read(c->pid, rt->runtime, buf, n) < 0)
			return set_err(c, PYRT_E_NORUNTIME, "cannot read _PyRuntime in '%s'", cd->path);
		if (layout_from_debug_offsets(buf, n, rt->ver.minor, &rt->L, &hex, &ft,
					      why, sizeof(why)) < 0)
			return set_err(c, PYRT_E_NORUNTIME, "Python %s in '%s': %s", rt->version,
				       cd->path, why);
		if (ft)
			return set_err(c, PYRT_E_FREETHREADED,
				       "Python %s in '%s' is a free-threaded build, which pyspy-capture cannot read yet",
				       rt->version, cd->path);
		/* The debug offsets carry the exact version; prefer it. */
		if (strcmp(rt->version_from, "Py_Version") != 0) {
			pyver_from_hex(hex, &rt->ver);
			pyver_str(&rt->ver, rt->version, sizeof(rt->version));
		}
		L = &rt->L;
	} else {
		L = layout_for(rt->ver.major, rt->ver.minor, rt->ver.micro);
		if (!L)
			return set_err(c, PYRT_E_UNSUPPORTED, "Python %s is not supported", rt->version);
		rt->L = *L;
		L = &rt->L;
		if (L->rt_interp_head >= 0) {
			rt->runtime = find_runtime(c, L);
			if (!rt->runtime)
				return set_err(c, PYRT_E_NORUNTIME, "cannot find _PyRuntime in '%s'",
					       cd->path);
		}
	}
	if (L->rt_interp_head >= 0)
		rt->interp_head_ptr = rt->runtime + (uint64_t)L->rt_interp_head;
	else
		rt->interp_head_ptr = find_interp_head_static(c, L);
	if (!rt->interp_head_ptr)
		return set_err(c, PYRT_E_NORUNTIME,
			       "cannot find the interpreter list of Python %s in '%s'", rt->version,
			       cd->path);

	if (L->gil == PY_GIL_SYMBOL)
		rt->gil_tstate_ptr = c->sym[S_TSTATE_CURRENT];
	else if (L->gil == PY_GIL_RUNTIME)
		rt->gil_tstate_ptr = rt->runtime + (uint64_t)L->rt_tstate_current;
	if (L->gil == PY_GIL_SYMBOL && !rt->gil_tstate_ptr)
		rt->L.gil = PY_GIL_NONE;
	rt->type_code = c->sym[S_CODE_TYPE];
	rt->type_str = rt->ver.major == 2 ? c->sym[S_STRING_TYPE] : c->sym[S_UNICODE_TYPE];
	rt->type_bytes = rt->ver.major == 2 ? c->sym[S_STRING_TYPE] : c->sym[S_BYTES_TYPE];
	rt->type_frame = c->sym[S_FRAME_TYPE];
	if (L->func_version_epoch)
		rt->func_version_ptr = c->sym[S_FUNC_VERSION];

	if (remote_u64(c, rt->interp_head_ptr, &interp) < 0)
		return set_err(c, PYRT_E_NORUNTIME, "cannot read the interpreter list of '%s'",
			       cd->path);
	if (interp == 0)
		return set_err(c, PYRT_E_NOTREADY, "the Python %s interpreter is not initialised",
			       rt->version);
	if (!interp_valid(c, L, interp, 1)) {
		/* Mid-initialisation a symbol-located head may be transiently odd. */
		if (strncmp(rt->found_by, "scan", 4) != 0)
			return set_err(c, PYRT_E_NOTREADY,
				       "the Python %s interpreter does not look initialised",
				       rt->version);
		return set_err(c, PYRT_E_NORUNTIME, "no valid Python %s interpreter found in '%s'",
			       rt->version, cd->path);
	}
	{
		uint64_t ts;
		if (remote_u64(c, interp + (uint64_t)L->is_threads_head, &ts) == 0 && ts == 0)
			return set_err(c, PYRT_E_NOTREADY, "the Python %s interpreter has no threads yet",
				       rt->version);
	}
	return PYRT_OK;
}

enum pyrt_status pyrt_discover_binary(pid_t pid, const struct proc_maps *maps, const char *path,
				      uint64_t start, struct pyrt *rt, char *err, size_t errcap)
{
	struct cand cd;
	struct ctx c;

	memset(&cd, 0, sizeof(cd));
	cd.path = path;
	cd.start = cd.end = start;
	memset(&c, 0, sizeof(c));
	c.pid = pid;
	c.maps = maps;
	c.rt = rt;
	c.err = err;
	c.errcap = errcap;
	memset(rt, 0, sizeof(*rt));
	rt->pid = pid;
	rt->found_by = rt->version_from = "";
	if (errcap)
		err[0] = 0;
	return (enum pyrt_status)try_binary(&c, &cd);
}

/* Ranking of failures: the most informative one is reported. */
static int status_rank(enum pyrt_status s)
{
	switch (s) {
	case PYRT_E_NOTREADY: return 5;
	case PYRT_E_FREETHREADED: return 4;
	case PYRT_E_UNSUPPORTED: return 4;
	case PYRT_E_NORUNTIME: return 3;
	case PYRT_E_PERM: return 2;
	case PYRT_E_NOTPYTHON: return 1;
	default: return 0;
	}
}

enum pyrt_status pyrt_discover(pid_t pid, struct pyrt *rt, char *err, size_t errcap)
{
	struct proc_maps maps;
	struct cand cands[16];
	size_t nc = 0, i, j;
	char exe[1024] = "";
	char best_err[1200] = "";
	enum pyrt_status best = PYRT_E_NOTPYTHON;
	int r;

	memset(rt, 0, sizeof(*rt));
	rt->pid = pid;
	rt->found_by = rt->version_from = "";
	r = proc_maps_read(pid, &maps);
	if (r == -ENOENT || r == -ESRCH) {
		snprintf(err, errcap, "no such process");
		return PYRT_E_NOPROC;
	}
	if (r == -EACCES || r == -EPERM) {
		snprintf(err, errcap, "%s", strerror(-r));
		return PYRT_E_PERM;
	}
	if (r < 0) {
		snprintf(err, errcap, "cannot read /proc/%d/maps: %s", (int)pid, strerror(-r));
		return PYRT_E_NOPROC;
	}
	if (maps.n == 0) {
		proc_maps_release(&maps);
		snprintf(err, errcap, "process %d has no memory mappings (a zombie or kernel thread)",
			 (int)pid);
		return PYRT_E_NOTPYTHON;
	}
	/*
	 * maps may be readable where memory is not (process_vm_readv needs
	 * ptrace attach rights, which a container without SYS_PTRACE lacks):
	 * say so, rather than that the runtime cannot be found.
	 */
	for (i = 0; i < maps.n; i++) {
		uint8_t probe[8];
		if (maps.v[i].perms[0] != 'r')
			continue;
		r = mem_read(pid, maps.v[i].start, probe, sizeof(probe));
		if (r == -EPERM || r == -EACCES) {
			proc_maps_release(&maps);
			snprintf(err, errcap, "%s", strerror(-r));
			return PYRT_E_PERM;
		}
		break;
	}
	if (proc_exe(pid, exe, sizeof(exe)) < 0)
		exe[0] = 0;
	for (i = 0; i < maps.n && nc < 16; i++) {
		const struct proc_map *m = &maps.v[i];
		const char *b;
		int prio, dup = 0;
		if (m->path[0] != '/' || m->offset != 0)
			continue;
		b = base_name(m->path);
		if (is_libpython(b))
			prio = 0;
		else if (is_python_exe(b))
			prio = 1;
		else if (exe[0] && strcmp(m->path, exe) == 0)
			prio = 2;
		else
			continue;
		for (j = 0; j < nc; j++)
			if (strcmp(cands[j].path, m->path) == 0)
				dup = 1;
		if (dup)
			continue;
		cands[nc].path = m->path;
		cands[nc].map = m;
		cands[nc].start = m->start;
		cands[nc].prio = prio;
		cands[nc].deleted = m->deleted;
		cands[nc].dev_major = m->dev_major;
		cands[nc].dev_minor = m->dev_minor;
		cands[nc].inode = m->deleted ? 0 : m->inode;
		/* The end of the whole file mapping is not needed for map_files:
		 * the first mapping's range names the file. */
		cands[nc].end = m->end;
		nc++;
	}
	/* Stable sort by priority. */
	for (i = 1; i < nc; i++) {
		struct cand t = cands[i];
		for (j = i; j > 0 && cands[j - 1].prio > t.prio; j--)
			cands[j] = cands[j - 1];
		cands[j] = t;
	}
	for (i = 0; i < nc; i++) {
		struct ctx c;
		enum pyrt_status s;
		char e[1200];
		memset(&c, 0, sizeof(c));
		c.pid = pid;
		c.maps = &maps;
		c.rt = rt;
		c.err = e;
		c.errcap = sizeof(e);
		memset(rt, 0, sizeof(*rt));
		rt->pid = pid;
		rt->found_by = rt->version_from = "";
		s = (enum pyrt_status)try_binary(&c, &cands[i]);
		if (s == PYRT_OK) {
			proc_maps_release(&maps);
			return PYRT_OK;
		}
		if (status_rank(s) > status_rank(best) || !best_err[0]) {
			best = s;
			snprintf(best_err, sizeof(best_err), "%s", e);
		}
	}
	proc_maps_release(&maps);
	if (nc == 0 || best == PYRT_E_NOTPYTHON) {
		const char *b = exe[0] ? base_name(exe) : "?";
		/* Details only help when something looked like Python. */
		int pyname = 0;
		for (i = 0; i < nc; i++)
			if (cands[i].prio < 2)
				pyname = 1;
		snprintf(err, errcap, "process %d ('%s') is not a Python process%s%s", (int)pid, b,
			 pyname ? ": " : "", pyname ? best_err : "");
		return PYRT_E_NOTPYTHON;
	}
	snprintf(err, errcap, "%s", best_err);
	return best;
}
