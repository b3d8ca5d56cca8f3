/*
 * capture_layout - parsing _Py_DebugOffsets (3.13 / 3.14 / 3.15).  The
 * blocks are built from byte positions and values decoded from the real
 * Debian binaries (3.13.18, 3.14.10, 3.15.2), so the per-minor field order
 * inside capture/python/layout.c is checked against an independent
 * description.  Also: bad cookie, wrong minor, free-threaded, nonsense.
 */
#include <string.h>

#include "python/layout.h"
#include "test.h"

struct pos {
	unsigned at;
	uint64_t v;
};

static const struct pos p313[] = {
	{ 8, 0x030d12f0 }, { 16, 0 }, { 24, 283408 }, { 32, 608 }, { 40, 632 },
	{ 48, 194984 }, { 56, 7272 }, { 64, 7264 }, { 72, 7344 }, { 80, 7400 }, { 88, 7656 },
	{ 96, 7640 }, { 104, 7648 }, { 112, 16 }, { 120, 7752 }, { 128, 0 }, { 136, 7768 },
	{ 144, 7760 },
	{ 152, 312 }, { 160, 0 }, { 168, 8 }, { 176, 16 }, { 184, 72 }, { 192, 152 }, { 200, 160 },
	{ 208, 232 }, { 216, 32 },
	{ 224, 80 }, { 232, 8 }, { 240, 0 }, { 248, 56 }, { 256, 72 }, { 264, 70 },
	{ 272, 208 }, { 280, 112 }, { 288, 120 }, { 296, 128 }, { 304, 136 }, { 312, 68 },
	{ 320, 52 }, { 328, 96 }, { 336, 104 }, { 344, 200 },
	{ 352, 16 }, { 360, 8 }, { 368, 416 }, { 376, 24 }, { 384, 88 }, { 392, 168 },
	{ 400, 32 }, { 408, 24 }, { 416, 16 }, { 424, 40 }, { 432, 24 }, { 440, 16 },
	{ 448, 48 }, { 456, 32 }, { 464, 40 }, { 472, 24 }, { 480, 16 }, { 488, 32 }, { 496, 16 },
	{ 504, 24 }, { 512, 40 }, { 520, 16 }, { 528, 32 }, { 536, 64 }, { 544, 32 }, { 552, 16 },
	{ 560, 40 }, { 568, 240 }, { 576, 200 }, { 0, 0 }
};

static const struct pos p314[] = {
	{ 8, 0x030e0af0 }, { 16, 0 }, { 24, 316616 }, { 32, 784 }, { 40, 808 },
	{ 48, 225864 }, { 56, 7280 }, { 64, 7272 }, { 72, 7344 }, { 80, 7360 }, { 88, 7408 },
	{ 96, 7688 }, { 104, 7672 }, { 112, 7680 }, { 120, 16 }, { 128, 7784 }, { 136, 0 },
	{ 144, 7800 }, { 152, 7792 }, { 160, 7992 }, { 168, 0 },
	{ 176, 832 }, { 184, 0 }, { 192, 8 }, { 200, 16 }, { 208, 72 }, { 216, 152 }, { 224, 160 },
	{ 232, 232 }, { 240, 32 },
	{ 248, 88 }, { 256, 8 }, { 264, 0 }, { 272, 56 }, { 280, 80 }, { 288, 74 }, { 296, 64 },
	{ 304, 0 },
	{ 312, 216 }, { 320, 112 }, { 328, 120 }, { 336, 128 }, { 344, 136 }, { 352, 68 },
	{ 360, 52 }, { 368, 96 }, { 376, 104 }, { 384, 208 }, { 392, 0 },
	{ 400, 16 }, { 408, 8 }, { 416, 416 }, { 424, 24 }, { 432, 88 }, { 440, 168 },
	{ 448, 40 }, { 456, 32 }, { 464, 16 }, { 472, 40 }, { 480, 24 }, { 488, 16 },
	{ 496, 200 }, { 504, 24 }, { 512, 40 }, { 520, 32 }, { 528, 48 }, { 536, 32 }, { 544, 40 },
	{ 552, 24 }, { 560, 16 }, { 568, 32 }, { 576, 16 }, { 584, 24 }, { 592, 40 }, { 600, 16 },
	{ 608, 32 }, { 616, 64 }, { 624, 32 }, { 632, 16 }, { 640, 40 }, { 648, 264 }, { 656, 192 },
	{ 664, 160 }, { 672, 24 }, { 680, 72 }, { 688, 67 }, { 696, 0 }, { 704, 8 },
	{ 712, 24 }, { 720, 304 }, { 728, 8076 }, { 736, 0 }, { 744, 4 }, { 752, 512 }, { 0, 0 }
};

static const struct pos p315[] = {
	{ 8, 0x030f02f0 }, { 16, 0 }, { 24, 346568 }, { 32, 912 }, { 40, 936 },
	{ 48, 226240 }, { 56, 7272 }, { 64, 7264 }, { 72, 7336 }, { 80, 7352 }, { 88, 7400 },
	{ 96, 7592 }, { 104, 7576 }, { 112, 7584 }, { 120, 16 }, { 128, 7736 }, { 136, 0 },
	{ 144, 7752 }, { 152, 7744 }, { 160, 7944 }, { 168, 0 },
	{ 176, 888 }, { 184, 0 }, { 192, 8 }, { 200, 16 }, { 208, 72 }, { 216, 80 }, { 224, 88 },
	{ 232, 96 }, { 240, 176 }, { 248, 184 }, { 256, 256 }, { 264, 32 }, { 272, 36 },
	{ 280, 40 }, { 288, 136 }, { 296, 288 }, { 304, 0 },
	{ 312, 88 }, { 320, 8 }, { 328, 0 }, { 336, 56 }, { 344, 80 }, { 352, 74 }, { 360, 64 },
	{ 368, 0 },
	{ 376, 216 }, { 384, 112 }, { 392, 120 }, { 400, 128 }, { 408, 136 }, { 416, 68 },
	{ 424, 52 }, { 432, 96 }, { 440, 104 }, { 448, 208 }, { 456, 0 },
	{ 464, 16 }, { 472, 8 }, { 480, 424 }, { 488, 24 }, { 496, 88 }, { 504, 168 }, { 512, 32 },
	{ 520, 288 }, { 528, 944 }, { 536, 888 },
	{ 544, 40 }, { 552, 32 }, { 560, 16 }, { 568, 40 }, { 576, 24 }, { 584, 16 },
	{ 592, 200 }, { 600, 24 }, { 608, 40 }, { 616, 32 }, { 624, 48 }, { 632, 32 }, { 640, 40 },
	{ 648, 24 }, { 656, 16 }, { 664, 32 }, { 672, 16 }, { 680, 24 }, { 688, 40 }, { 696, 16 },
	{ 704, 32 }, { 712, 64 }, { 720, 32 }, { 728, 16 }, { 736, 40 }, { 744, 56 },
	{ 752, 176 }, { 760, 112 }, { 768, 120 }, { 776, 1120 }, { 784, 104 },
	{ 792, 160 }, { 800, 24 }, { 808, 72 }, { 816, 67 }, { 824, 0 }, { 832, 8 },
	{ 840, 24 }, { 848, 344 }, { 856, 8028 }, { 864, 0 }, { 872, 4 }, { 880, 512 }, { 0, 0 }
};

static size_t build(uint8_t *buf, size_t cap, const struct pos *p)
{
	size_t end = 0;

	memset(buf, 0, cap);
	memcpy(buf, "xdebugpy", 8);
	for (; p->at; p++) {
		memcpy(buf + p->at, &p->v, 8);
		if (p->at + 8 > end)
			end = p->at + 8;
	}
	return end;
}

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

int main(void)
{
	RUN(test_sizes_match_positions);
	RUN(test_313);
	RUN(test_314);
	RUN(test_315);
	RUN(test_rejects);
	return test_status();
}
