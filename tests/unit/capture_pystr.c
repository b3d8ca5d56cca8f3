/*
 * capture_pystr - CPython strings to UTF-8: PEP 393 kinds 1/2/4, compact
 * and legacy layouts of 3.6 - 3.11 and 3.12+, 2.7 byte strings (UTF-8 kept,
 * other bytes as Latin-1), invalid code points, truncation on character
 * boundaries.  Output must always be valid UTF-8 without NUL bytes.
 */
#include <stdint.h>
#include <string.h>

#include "python/layout.h"
#include "python/pystr.h"
#include "test.h"

/* Independent UTF-8 validator (no overlongs, surrogates, NUL). */
static int valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i], need, cp, k;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; }
		else if (c >= 0xe0 && c <= 0xef) { need = 2; cp = c & 0x0f; }
		else if (c >= 0xf0 && c <= 0xf4) { need = 3; cp = c & 0x07; }
		else return 0;
		if (i + need >= n)
			return 0;
		for (k = 1; k <= need; k++) {
			if (i + k >= n || (p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

static void test_kinds(void)
{
	char out[64];
	static const uint8_t k1[] = { 0xfc, 'n', 0xef };                 /* "ünï" */
	static const uint16_t k2[] = { 0x51fd, 0x6570 };                /* "函数" */
	static const uint32_t k4[] = { 0x2000b, 0x2000c };              /* "𠀋𠀌" */
	size_t n;

	n = pystr_ucs_to_utf8(1, k1, 3, out, sizeof(out));
	CHECK_STR(out, "\xc3\xbcn\xc3\xaf");
	CHECK_EQ(n, 5);
	pystr_ucs_to_utf8(2, k2, 2, out, sizeof(out));
	CHECK_STR(out, "\xe5\x87\xbd\xe6\x95\xb0");
	pystr_ucs_to_utf8(4, k4, 2, out, sizeof(out));
	CHECK_STR(out, "\xf0\xa0\x80\x8b\xf0\xa0\x80\x8c");
}

static void test_invalid_code_points(void)
{
	char out[64];
	static const uint32_t bad[] = { 'a', 0xd800, 0x110000, 0, 'b' };
	static const uint16_t lone[] = { 0xdc00, 'x' };
	size_t n;

	n = pystr_ucs_to_utf8(4, bad, 5, out, sizeof(out));
	CHECK_STR(out, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b");
	CHECK(valid_utf8(out, n));
	n = pystr_ucs_to_utf8(2, lone, 2, out, sizeof(out));
	CHECK_STR(out, "\xef\xbf\xbdx");
	CHECK(valid_utf8(out, n));
}

static void test_truncate_on_boundary(void)
{
	char out[6];
	static const uint16_t k2[] = { 0x51fd, 0x6570, 0x51fd };
	size_t n;

	/* Room for 5 bytes + NUL: only one 3-byte character fits. */
	n = pystr_ucs_to_utf8(2, k2, 3, out, sizeof(out));
	CHECK_EQ(n, 3);
	CHECK_STR(out, "\xe5\x87\xbd");
	n = pystr_bytes_to_utf8("\xe5\x87\xbd\xe6\x95\xb0", 6, out, sizeof(out));
	CHECK_EQ(n, 3);
	CHECK(valid_utf8(out, n));
}

/* 2.7 byte strings: valid UTF-8 stays, other bytes are Latin-1. */
static void test_bytes(void)
{
	char out[64];
	size_t n;

	n = pystr_bytes_to_utf8("caf\xc3\xa9", 5, out, sizeof(out));
	CHECK_STR(out, "caf\xc3\xa9");
	n = pystr_bytes_to_utf8("caf\xe9", 4, out, sizeof(out));
	CHECK_STR(out, "caf\xc3\xa9");
	CHECK_EQ(n, 5);
	/* Overlong, surrogate, truncated sequences and NUL. */
	n = pystr_bytes_to_utf8("\xc0\xaf\xed\xa0\x80\xe5\x87\x00z", 9, out, sizeof(out));
	CHECK(valid_utf8(out, n));
	CHECK(out[n - 1] == 'z');
	CHECK(strlen(out) == n);
}

/* Every byte string decodes to valid UTF-8. */
static void test_bytes_exhaustive(void)
{
	unsigned a, b;
	int bad = 0;

	for (a = 0; a < 256; a++) {
		for (b = 0; b < 256; b++) {
			char in[4] = { (char)a, (char)b, (char)0xe5, (char)0x87 };
			char out[32];
			size_t n = pystr_bytes_to_utf8(in, 4, out, sizeof(out));
			if (!valid_utf8(out, n) || strlen(out) != n)
				bad++;
		}
	}
	CHECK_EQ(bad, 0);
}

/* Build a str object header as CPython lays it out. */
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void test_locate_312(void)
{
	const struct py_layout *L = layout_for(3, 12, 1);
	uint8_t obj[128];
	struct pystr_where w;

	memset(obj, 0, sizeof(obj));
	/* compact ASCII "abc": kind 1, compact, ascii; data at 40. */
	put64(obj + 16, 3);
	put32(obj + 32, (1u << 2) | (1u << 5) | (1u << 6));
	memcpy(obj + 40, "abc", 4);
	CHECK_EQ(pystr_locate(L, obj, sizeof(obj), 0x1000, &w), 0);
	CHECK_EQ(w.data, 0x1000 + 40);
	CHECK_EQ(w.kind, 1);
	CHECK_EQ(w.nchars, 3);
	CHECK(w.ascii);
	/* compact UCS-2: data after PyCompactUnicodeObject (56). */
	put32(obj + 32, (2u << 2) | (1u << 5));
	CHECK_EQ(pystr_locate(L, obj, sizeof(obj), 0x1000, &w), 0);
	CHECK_EQ(w.data, 0x1000 + 56);
	CHECK_EQ(w.kind, 2);
	/* legacy (str subclass): data.any pointer at 56. */
	put32(obj + 32, (4u << 2));
	put64(obj + 56, 0x7000);
	CHECK_EQ(pystr_locate(L, obj, sizeof(obj), 0x1000, &w), 0);
	CHECK_EQ(w.data, 0x7000);
	CHECK_EQ(w.kind, 4);
	CHECK(!w.inline_data);
	/* invalid kind 3, ascii with kind 2, negative length */
	put32(obj + 32, (3u << 2) | (1u << 5));
	CHECK_EQ(pystr_locate(L, obj, sizeof(obj), 0x1000, &w), -1);
	put32(obj + 32, (2u << 2) | (1u << 5) | (1u << 6));
	CHECK_EQ(pystr_locate(L, obj, sizeof(obj), 0x1000, &w), -1);
	put32(obj + 32, (1u << 2) | (1u << 5) | (1u << 6));
	put64(obj + 16, (uint64_t)-5);
	CHECK_EQ(pystr_locate(L, obj, sizeof(obj), 0x1000, &w), -1);
	/* very long: capped */
	put64(obj + 16, 100000);
	CHECK_EQ(pystr_locate(L, obj, sizeof(obj), 0x1000, &w), 0);
	CHECK_EQ(w.nchars, PYSTR_MAX_CHARS);
	CHECK(w.truncated);
}

static void test_locate_36_311(void)
{
	const struct py_layout *L = layout_for(3, 6, 15);
	uint8_t obj[128];
	struct pystr_where w;

	memset(obj, 0, sizeof(obj));
	put64(obj + 16, 2);
	put32(obj + 32, (1u << 2) | (1u << 5) | (1u << 6) | (1u << 7));
	CHECK_EQ(pystr_locate(L, obj, sizeof(obj), 0x2000, &w), 0);
	CHECK_EQ(w.data, 0x2000 + 48);
	put32(obj + 32, (4u << 2) | (1u << 5) | (1u << 7));
	CHECK_EQ(pystr_locate(L, obj, sizeof(obj), 0x2000, &w), 0);
	CHECK_EQ(w.data, 0x2000 + 72);
	/* not ready (wstr only, kind 0): refused */
	put32(obj + 32, 0);
	CHECK_EQ(pystr_locate(L, obj, sizeof(obj), 0x2000, &w), -1);
}

static void test_locate_27_bytes(void)
{
	const struct py_layout *L = layout_for(2, 7, 18);
	uint8_t obj[64];
	struct pystr_where w;

	memset(obj, 0, sizeof(obj));
	put64(obj + 16, 4);
	memcpy(obj + 36, "caf\xe9", 5);
	CHECK_EQ(pystr_locate_bytes(L, obj, sizeof(obj), 0x3000, &w), 0);
	CHECK_EQ(w.data, 0x3000 + 36);
	CHECK_EQ(w.nchars, 4);
	CHECK_EQ(w.objsize, 36 + 5);
}

int main(void)
{
	RUN(test_kinds);
	RUN(test_invalid_code_points);
	RUN(test_truncate_on_boundary);
	RUN(test_bytes);
	RUN(test_bytes_exhaustive);
	RUN(test_locate_312);
	RUN(test_locate_36_311);
	RUN(test_locate_27_bytes);
	return test_status();
}
