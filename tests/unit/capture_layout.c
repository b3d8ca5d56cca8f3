/*
 * capture_layout - parsing _Py_DebugOffsets (3.13 / 3.14 / 3.15).  The
 * blocks (debug_offsets.h) are built from byte positions and values decoded
 * from the real Debian binaries (3.13.18, 3.14.10, 3.15.2), so the
 * per-minor field order inside capture/python/layout.c is checked against
 * an independent description.  Also: bad cookie, wrong minor,
 * free-threaded, nonsense.
 */
#include <string.h>

#include "python/layout.h"
#include "debug_offsets.h"
#include "test.h"

static int parse(const uint8_t *buf, size_t len, int minor, struct py_layout *L, int *ft)
{
	uint64_t ver;
	char err[160];

	return layout_from_debug_offsets(buf, len, minor, L, &ver, ft, err, sizeof(err));
}

static void test_sizes_match_positions(void)
{
	uint8_t buf[1024];

	CHECK_EQ(layout_debug_offsets_size(13), build(buf, sizeof(buf), p313));
	CHECK_EQ(layout_debug_offsets_size(14), build(buf, sizeof(buf), p314));
	CHECK_EQ(layout_debug_offsets_size(15), build(buf, sizeof(buf), p315));
	CHECK_EQ(layout_debug_offsets_size(12), 0);
	CHECK_EQ(layout_debug_offsets_size(16), 0);
}

static void test_313(void)
{
	uint8_t buf[1024];
	struct py_layout L;
	int ft = -1;
	size_t n = build(buf, sizeof(buf), p313);

	CHECK_EQ(parse(buf, n, 13, &L, &ft), 0);
	CHECK_EQ(ft, 0);
	CHECK_EQ(L.rt_interp_head, 632);
	CHECK_EQ(L.is_threads_head, 7344);
	CHECK_EQ(L.is_next, 7264);
	CHECK_EQ(L.is_modules, 7656);
	CHECK_EQ(L.is_ceval_gil, 16);
	CHECK_EQ(L.gil_holder, 8);
	CHECK_EQ(L.gil_locked, 16);
	CHECK_EQ(L.is_code_gen, -1);
	CHECK_EQ(L.ts_current_frame, 72);
	CHECK_EQ(L.ts_thread_id, 152);
	CHECK_EQ(L.ts_native_thread_id, 160);
	CHECK_EQ(L.ts_datastack_chunk, 232);
	CHECK_EQ(L.ts_datastack_top, 240);
	CHECK_EQ(L.ts_base_frame, -1);
	CHECK_EQ(L.if_owner, 70);
	CHECK_EQ(L.if_size, 80);
	CHECK_EQ(L.if_tagged, 0);
	CHECK(L.owner_skip_only);
	CHECK_EQ(L.co_code_adaptive, 200);
	CHECK_EQ(L.co_qualname, 128);
	CHECK_EQ(L.co_version, 92);
	CHECK_EQ(L.str_ascii_size, 40);
	CHECK_EQ(L.str_compact_size, 56);
	CHECK_EQ(L.long_size, 16);
	CHECK(L.long_tagged);
	CHECK_EQ(L.frames, PY_FRAMES_INTERP);
	CHECK_EQ(L.if_owner_max, 3);
	CHECK(L.if_exec_any);
	CHECK(L.refcnt_low32);
	CHECK(!L.refcnt_flags);
	CHECK_EQ(L.chunk_size, 8);
	CHECK_EQ(L.chunk_top, 16);
	CHECK_EQ(L.chunk_data, 24);
	CHECK(!L.func_version_epoch);
	CHECK_STR(L.thread_name_attr, "_name");
	CHECK_STR(L.thread_bootstrap, "_bootstrap");
}

/*
 * The facts that used to be version checks in the walkers, from the
 * compiled-in tables: what each family's code relies on.
 */
static void test_table_facts(void)
{
	const struct py_layout *L27 = layout_for(2, 7, 18), *L38 = layout_for(3, 8, 18);
	const struct py_layout *L311 = layout_for(3, 11, 7), *L312 = layout_for(3, 12, 1);

	CHECK(L27 && L38 && L311 && L312);
	if (!L27 || !L38 || !L311 || !L312)
		return;
	CHECK_STR(L27->thread_name_attr, "_Thread__name");
	CHECK_STR(L27->thread_bootstrap, "__bootstrap");
	CHECK_EQ(L27->dict_used, 24);
	CHECK_STR(L38->thread_name_attr, "_name");
	CHECK_EQ(L38->dict_used, 16);
	CHECK_EQ(L38->ob_size, 16);
	CHECK(!L311->refcnt_low32);
	CHECK_EQ(L311->if_owner_max, 3);
	CHECK_EQ(L311->chunk_data, 24);
	CHECK(!L311->if_exec_any);
	CHECK(L312->refcnt_low32);
	CHECK(!L312->refcnt_flags);
	CHECK(L312->func_version_epoch);
	CHECK_EQ(L312->chunk_top, 16);
	CHECK_EQ(L312->chunk_size, 8);
}

static void test_314(void)
{
	uint8_t buf[1024];
	struct py_layout L;
	int ft = -1;
	size_t n = build(buf, sizeof(buf), p314);

	CHECK_EQ(parse(buf, n, 14, &L, &ft), 0);
	CHECK_EQ(L.rt_interp_head, 808);
	CHECK_EQ(L.is_modules, 7688);   /* 3.14.5 moved it: why debug offsets win */
	CHECK_EQ(L.is_code_gen, 7992);
	CHECK_EQ(L.if_owner_max, 4);
	CHECK(L.refcnt_flags);
	CHECK_EQ(L.gil_holder, 8);
	CHECK_EQ(L.gil_locked, 16);
	CHECK_EQ(L.ts_holds_gil, 36);
	CHECK_EQ(L.if_owner, 74);
	CHECK_EQ(L.if_size, 88);
	CHECK(L.if_tagged);
	CHECK_EQ(L.owner_skip_min, 3);
	CHECK(!L.owner_skip_only);
	CHECK_EQ(L.co_code_adaptive, 208);
	CHECK_EQ(L.co_version, -1);
	CHECK_EQ(L.str_compact_size, 56);
}

static void test_315(void)
{
	uint8_t buf[1024];
	struct py_layout L;
	int ft = -1;
	size_t n = build(buf, sizeof(buf), p315);

	CHECK_EQ(parse(buf, n, 15, &L, &ft), 0);
	CHECK_EQ(L.rt_interp_head, 936);
	CHECK_EQ(L.is_threads_head, 7336);
	CHECK_EQ(L.is_code_gen, 7944);
	CHECK_EQ(L.ts_base_frame, 80);
	CHECK_EQ(L.ts_thread_id, 176);
	CHECK_EQ(L.ts_native_thread_id, 184);
	CHECK_EQ(L.ts_datastack_chunk, 256);
	CHECK_EQ(L.ts_holds_gil, 36);
	CHECK_EQ(L.ts_gil_requested, 40);
	CHECK(L.ts_read >= 272);
	CHECK_EQ(L.tp_basicsize, 32);
	CHECK_EQ(L.tp_dictoffset, 288);
	CHECK_EQ(L.ht_cached_keys, 888);
	CHECK_EQ(L.str_compact_size, 56);
	CHECK_EQ(L.co_firstlineno, 68);
}

static void test_rejects(void)
{
	uint8_t buf[1024];
	struct py_layout L;
	int ft = -1;
	size_t n = build(buf, sizeof(buf), p314);
	uint64_t v;

	/* cookie */
	buf[0] = 'X';
	CHECK_EQ(parse(buf, n, 14, &L, &ft), -1);
	buf[0] = 'x';
	/* asked to parse as another minor */
	CHECK_EQ(parse(buf, n, 13, &L, &ft), -1);
	CHECK_EQ(parse(buf, n, 15, &L, &ft), -1);
	/* too short */
	CHECK_EQ(parse(buf, n - 8, 14, &L, &ft), -1);
	/* free-threaded: reported, not parsed */
	v = 1;
	memcpy(buf + 16, &v, 8);
	CHECK_EQ(parse(buf, n, 14, &L, &ft), 0);
	CHECK_EQ(ft, 1);
	v = 7;
	memcpy(buf + 16, &v, 8);
	CHECK_EQ(parse(buf, n, 14, &L, &ft), -1);
	v = 0;
	memcpy(buf + 16, &v, 8);
	/* an offset outside its struct */
	v = 900000;
	memcpy(buf + 72, &v, 8);
	CHECK_EQ(parse(buf, n, 14, &L, &ft), -1);
	v = 7344;
	memcpy(buf + 72, &v, 8);
	/* an impossible frame size */
	v = 4000;
	memcpy(buf + 248, &v, 8);
	CHECK_EQ(parse(buf, n, 14, &L, &ft), -1);
	v = 88;
	memcpy(buf + 248, &v, 8);
	CHECK_EQ(parse(buf, n, 14, &L, &ft), 0);
	/* no table for a future minor */
	CHECK_EQ(parse(buf, n, 16, &L, &ft), -1);
}

/* Set the 8-byte field at pos of a block, parse it as 3.minor; restore it. */
static int parse_with(uint8_t *buf, size_t n, int minor, unsigned pos, uint64_t v)
{
	struct py_layout L;
	uint64_t old;
	int ft, r;

	memcpy(&old, buf + pos, 8);
	memcpy(buf + pos, &v, 8);
	r = parse(buf, n, minor, &L, &ft);
	memcpy(buf + pos, &old, 8);
	return r;
}

/*
 * Offsets a hostile target can put in _Py_DebugOffsets that index the
 * capture's own copies (thread states, header buffers of 96 and 40
 * bytes): found by fuzz_discover (tests/fuzz/corpus/discover/crash-*).
 */
static void test_rejects_offsets_outside_copies(void)
{
	uint8_t b13[1024], b14[1024], b15[1024];
	size_t n13 = build(b13, sizeof(b13), p313), n14 = build(b14, sizeof(b14), p314);
	size_t n15 = build(b15, sizeof(b15), p315);

	CHECK_EQ(parse_with(b15, n15, 15, 272, 36), 0);
	/* 3.15 holds_gil / 3.14 _status (holds_gil follows it) outside the thread state */
	CHECK_EQ(parse_with(b15, n15, 15, 272, 400000), -1);
	CHECK_EQ(parse_with(b15, n15, 15, 272, (uint64_t)-2), -1);
	CHECK_EQ(parse_with(b14, n14, 14, 240, 400000), -1);
	CHECK_EQ(parse_with(b14, n14, 14, 240, (uint64_t)-4), -1);
	/* an offset that wraps around when its width is added */
	CHECK_EQ(parse_with(b13, n13, 13, 168, (uint64_t)-4), -1);
	CHECK_EQ(parse_with(b15, n15, 15, 192, (uint64_t)-8), -1);
	/* string headers larger than the 96-byte copy */
	CHECK_EQ(parse_with(b13, n13, 13, 560, 128), -1);
	CHECK_EQ(parse_with(b15, n15, 15, 744, 200), -1);
	CHECK_EQ(parse_with(b15, n15, 15, 744, 32), -1);   /* smaller than the ASCII header */
	/* integer digits past the 40-byte copy */
	CHECK_EQ(parse_with(b13, n13, 13, 504, 64), -1);
	CHECK_EQ(parse_with(b13, n13, 13, 504, 24), 0);
}

int main(void)
{
	RUN(test_sizes_match_positions);
	RUN(test_313);
	RUN(test_table_facts);
	RUN(test_314);
	RUN(test_315);
	RUN(test_rejects);
	RUN(test_rejects_offsets_outside_copies);
	return test_status();
}
