/*
 * fuzz_discover - libFuzzer target: what the capture parses before it
 * walks a stack, fed hostile ELF files, memory and bytes.  Byte 0 picks:
 *   0  runtime discovery: bytes [3, 3+n) (n = bytes 1-2) are an ELF file
 *      (libelf through capture/elffile.c, opened as /proc/PID/root/...
 *      like a target's libpython), mapped at FUZZ_START; the rest is more
 *      of the target's memory, mapped after it.  pyrt_discover_binary()
 *      runs every step after /proc/PID/maps (symbols, sections, version
 *      from Py_Version / _Py_DebugOffsets / the version buffer, layout,
 *      _PyRuntime, the interpreter scan and checks); when it succeeds,
 *      one tick of pyproc_sample() over that memory.
 *   1  versions: pyver_parse, pyver_scan, pyver_from_filename,
 *      pyver_from_hex, pyver_str, pyver_supported.
 *   2  layout_from_debug_offsets() for 3.13 / 3.14 / 3.15.
 *   3  linetable_decode() of every encoding, then lookups.
 *   4  pystr_locate() / pystr_locate_bytes() under every layout, and the
 *      UTF-8 conversions.
 * Build and run: `make fuzz`, then tests/fuzz/run.sh (seed corpus in
 * tests/fuzz/corpus/discover/).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mem.h"
#include "proc.h"
#include "python/layout.h"
#include "python/linetable.h"
#include "python/pyproc.h"
#include "python/pyrt.h"
#include "python/pystr.h"
#include "python/pyver.h"
#include "fakepy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)
#define FUZZ_START 0x20000000ull

static void on_sample(void *ctx, const struct py_sample *s)
{
	(void)ctx;
	ASSERT(s->nframes <= PYPROC_MAX_DEPTH);
}

static const struct pyproc_ops ops = { on_sample, NULL };

static void discover(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct mem_image_seg seg[2];
	struct mem_image img;
	struct proc_map mv[2];
	struct proc_maps maps;
	struct pyrt rt;
	char err[512];
	size_t n;
	enum pyrt_status st;

	if (size < 2)
		return;
	n = (size_t)data[0] | (size_t)data[1] << 8;
	data += 2;
	size -= 2;
	if (n > size)
		n = size;
	if (fd < 0) {
		fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		/* As the capture opens a target's file: through /proc/PID/root. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || (n && pwrite(fd, data, n, 0) != (ssize_t)n))
		abort();
	memset(seg, 0, sizeof(seg));
	memset(mv, 0, sizeof(mv));
	seg[0].addr = FUZZ_START;
	seg[0].len = n;
	seg[0].data = data;
	seg[1].addr = FUZZ_START + ((n + 4095) & ~(size_t)4095);
	seg[1].len = size - n;
	seg[1].data = data + n;
	memset(&img, 0, sizeof(img));
	img.segs = seg;
	img.nsegs = 2;
	mv[0].start = seg[0].addr;
	mv[0].end = seg[0].addr + ((n + 4095) & ~(size_t)4095);
	memcpy(mv[0].perms, "r--p", 5);
	mv[0].path = path;
	mv[1].start = seg[1].addr;
	mv[1].end = seg[1].addr + ((seg[1].len + 4095) & ~(size_t)4095);
	memcpy(mv[1].perms, "rw-p", 5);
	mv[1].path = "";
	maps.v = mv;
	maps.n = mv[1].end > mv[1].start ? 2 : 1;
	maps.buf = NULL;
	mem_image_install(getpid(), &img);
	st = pyrt_discover_binary(getpid(), &maps, path, FUZZ_START, &rt, err, sizeof(err));
	ASSERT(memchr(err, 0, sizeof(err)) != NULL);
	{
		/* FUZZ_VERBOSE=1: say how far discovery got (checking seeds). */
		static int verbose = -1;
		if (verbose < 0)
			verbose = getenv("FUZZ_VERBOSE") != NULL;
		if (verbose)
			fprintf(stderr, "discover: status %d, %s%s%s\n", (int)st,
				st == PYRT_OK ? rt.version : err, st == PYRT_OK ? " found by " : "",
				st == PYRT_OK ? rt.found_by : "");
	}
	if (st == PYRT_OK) {
		struct pyproc *p;
		ASSERT(rt.interp_head_ptr != 0);
		p = pyproc_new(&rt, NULL);
		if (p) {
			pyproc_sample(p, &ops, NULL);
			pyproc_free(p);
		}
	}
	mem_image_install(0, NULL);
}

static void versions(const uint8_t *data, size_t size)
{
	char buf[512], out[64];
	struct pyver v;
	uint64_t hex = 0;
	int ft;
	long at;

	if (size > sizeof(buf) - 1)
		size = sizeof(buf) - 1;
	memcpy(buf, data, size);
	buf[size] = 0;
	if (pyver_parse(buf, size, &v) >= 0) {
		ASSERT(pyver_str(&v, out, sizeof(out)) != NULL);
		ASSERT(memchr(out, 0, sizeof(out)) != NULL);
		pyver_supported(&v);
	}
	at = pyver_scan(buf, size, &v);
	ASSERT(at < (long)size);
	if (at >= 0)
		ASSERT(pyver_str(&v, out, sizeof(out)) != NULL);
	if (pyver_from_filename(buf, &v, &ft) == 0)
		ASSERT(pyver_str(&v, out, 4) != NULL);
	memcpy(&hex, data, size < 8 ? size : 8);
	if (pyver_from_hex(hex, &v) == 0)
		pyver_supported(&v);
}

static void debug_offsets(const uint8_t *data, size_t size)
{
	struct py_layout L;
	uint64_t ver;
	int ft, minor;
	char err[160];

	if (size < 1)
		return;
	minor = 13 + data[0] % 3;
	if (layout_from_debug_offsets(data + 1, size - 1, minor, &L, &ver, &ft, err, sizeof(err)) == 0 &&
	    !ft) {   /* free-threaded: reported, L not filled (pyrt refuses the interpreter) */
		/* Every offset the walkers add to a pointer is bounded. */
		ASSERT(L.ts_read > 0 && L.ts_read <= 65536);
		ASSERT(L.if_size > 0 && L.if_size <= 65536);
		ASSERT(L.co_read > 0 && L.co_read <= 65536);
		ASSERT(L.if_owner >= 0 && (uint32_t)L.if_owner < L.if_size);
		ASSERT(L.if_code >= 0 && (uint32_t)L.if_code + 8 <= L.if_size);
		ASSERT(L.if_previous >= 0 && (uint32_t)L.if_previous + 8 <= L.if_size);
		ASSERT(L.if_instr >= 0 && (uint32_t)L.if_instr + 8 <= L.if_size);
		ASSERT(L.ts_interp >= 0 && (uint32_t)L.ts_interp + 8 <= L.ts_read);
		ASSERT(L.ts_next >= 0 && (uint32_t)L.ts_next + 8 <= L.ts_read);
		ASSERT((uint32_t)L.co_name + 8 <= L.co_read && (uint32_t)L.co_filename + 8 <= L.co_read);
		ASSERT((uint32_t)L.co_linetable + 8 <= L.co_read && (uint32_t)L.co_firstlineno + 4 <= L.co_read);
		ASSERT(L.co_qualname < 0 || (uint32_t)L.co_qualname + 8 <= L.co_read);
		ASSERT(L.ts_thread_id >= 0 && (uint32_t)L.ts_thread_id + 8 <= L.ts_read);
		ASSERT(L.ts_native_thread_id < 0 || (uint32_t)L.ts_native_thread_id + 8 <= L.ts_read);
		ASSERT(L.ts_current_frame >= 0 && (uint32_t)L.ts_current_frame + 8 <= L.ts_read);
		ASSERT((uint32_t)L.ts_datastack_top + 8 <= L.ts_read);
		ASSERT(L.ts_holds_gil < 0 || (uint32_t)L.ts_holds_gil + 4 <= L.ts_read);
		ASSERT(L.ts_gil_requested < 0 || (uint32_t)L.ts_gil_requested + 4 <= L.ts_read);
		ASSERT(L.ts_base_frame < 0 || (uint32_t)L.ts_base_frame + 8 <= L.ts_read);
		/* Header copies: strings and objects in 96 bytes, integers in 40. */
		ASSERT(L.str_compact_size + 8 <= 96 && L.str_ascii_size <= L.str_compact_size);
		ASSERT(L.str_state >= 0 && (uint32_t)L.str_state + 4 <= L.str_ascii_size);
		ASSERT(L.str_length >= 0 && (uint32_t)L.str_length + 8 <= L.str_ascii_size);
		ASSERT(L.bytes_size >= 0 && L.bytes_size + 8 <= L.bytes_sval && L.bytes_sval <= 88);
		ASSERT(L.long_size >= 0 && L.long_size + 8 <= L.long_digits && L.long_digits + 12 <= 40);
		ASSERT(L.dict_keys >= 0 && L.dict_keys <= 88 && L.dict_values >= 0 && L.dict_values <= 88);
		ASSERT(L.list_item <= 88 && L.float_fval <= 88);
	} else {
		ASSERT(memchr(err, 0, sizeof(err)) != NULL);
	}
}

static void linetables(const uint8_t *data, size_t size)
{
	static struct lt_range r[LT_MAX_RANGES];
	enum py_lines kind;
	int32_t first;
	long n, a;

	if (size < 3)
		return;
	kind = (enum py_lines)(data[0] % 4);
	first = (int32_t)(data[1] | data[2] << 8) - 100;
	n = linetable_decode(kind, data + 3, size - 3, first, r, (size_t)(data[0] >> 2) * 1024 + 16);
	if (n < 0)
		return;
	ASSERT((size_t)n <= (size_t)(data[0] >> 2) * 1024 + 16);
	for (a = -2; a < 4096; a += 1 + a / 16)
		linetable_lookup(r, (size_t)n, a, first);
}

static void strings(const uint8_t *data, size_t size)
{
	static char out[PYSTR_MAX_CHARS * 4 + 1];
	struct py_layout L;
	struct pystr_where w;
	size_t i, cap;

	if (size < 2)
		return;
	if (fakepy_layout(&fakepy_families[data[0] % FAKEPY_NFAMILIES], &L) < 0)
		return;
	cap = 1 + (size_t)data[1] * 64;
	if (cap > sizeof(out))
		cap = sizeof(out);
	data += 2;
	size -= 2;
	if (pystr_locate(&L, data, size, 0x1000, &w) == 0) {
		ASSERT(w.nchars <= PYSTR_MAX_CHARS);
		ASSERT(w.kind == 1 || w.kind == 2 || w.kind == 4);
		if (w.inline_data && w.data - 0x1000 + (uint64_t)w.nchars * w.kind <= size) {
			i = pystr_ucs_to_utf8(w.kind, data + (w.data - 0x1000), w.nchars, out, cap);
			ASSERT(i < cap && out[i] == 0);
		}
	}
	if (pystr_locate_bytes(&L, data, size, 0x1000, &w) == 0)
		ASSERT(w.nchars <= PYSTR_MAX_CHARS);
	for (i = 1; i <= 4; i *= 2) {
		size_t k = pystr_ucs_to_utf8((int)i, data, size / i, out, cap);
		ASSERT(k < cap && out[k] == 0);
	}
	i = pystr_bytes_to_utf8(data, size, out, cap);
	ASSERT(i < cap && out[i] == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0: discover(data + 1, size - 1); break;
	case 1: versions(data + 1, size - 1); break;
	case 2: debug_offsets(data + 1, size - 1); break;
	case 3: linetables(data + 1, size - 1); break;
	default: strings(data + 1, size - 1); break;
	}
	return 0;
}
