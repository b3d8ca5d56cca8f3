/*
 * capture_linetable - the three line-number decoders against vectors taken
 * from PyCode_Addr2Line() of each CPython version (the same function
 * compiled by every version: see docs/capture.md and the reference
 * linetable_vectors.py), plus malformed tables.
 */
#include <stdlib.h>

#include "python/linetable.h"
#include "test.h"

/*
 * def f(n):
 *     s = 0
 *     for i in range(n):
 *         if i % 3:
 *             s += i
 *     return s
 */
struct vrange {
	int lo, hi, line;
};

struct vector {
	const char *version;
	enum py_lines kind;
	const char *hex;
	int step;                /* distance between instruction offsets */
	struct vrange r[12];
};

static const struct vector vectors[] = {
	{ "2.7.18", PY_LINES_LNOTAB27, "0001060113010a011101", 1,
	  { { 0, 5, 2 }, { 6, 24, 3 }, { 25, 34, 4 }, { 35, 51, 5 }, { 52, 55, 6 }, { -1, 0, 0 } } },
	{ "3.6.15", PY_LINES_LNOTAB, "000104010e0108010c01", 2,
	  { { 0, 2, 2 }, { 4, 16, 3 }, { 18, 24, 4 }, { 26, 36, 5 }, { 38, 40, 6 }, { -1, 0, 0 } } },
	{ "3.8.18", PY_LINES_LNOTAB, "000104010c0108010a01", 2,
	  { { 0, 2, 2 }, { 4, 14, 3 }, { 16, 22, 4 }, { 24, 32, 5 }, { 34, 36, 6 }, { -1, 0, 0 } } },
	{ "3.10.13", PY_LINES_310, "04010c010801080102800401", 2,
	  { { 0, 2, 2 }, { 4, 14, 3 }, { 16, 22, 4 }, { 24, 30, 5 }, { 32, 32, -1 },
	    { 34, 36, 6 }, { -1, 0, 0 } } },
	{ "3.11.7", PY_LINES_PEP657,
	  "8000d808098041dd0d12903189588c58f000020513f0000205138801d80b0c88718935f000010913d80c0d901189468841f8d80b0c8048",
	  1,
	  { { 0, 0, 1 }, { 1, 2, 2 }, { 3, 19, 3 }, { 20, 24, 4 }, { 25, 29, 5 }, { 30, 30, -1 },
	    { 31, 32, 6 }, { -1, 0, 0 } } },
	{ "3.12.1", PY_LINES_PEP657,
	  "8000d808098041dc0d1290318b58f2000205138801d80b0c88718b35d80c0d901189468941f005020513f006000c0d8048",
	  1,
	  { { 0, 0, 1 }, { 1, 2, 2 }, { 3, 16, 3 }, { 17, 22, 4 }, { 23, 28, 5 }, { 29, 29, 3 },
	    { 30, 31, 6 }, { -1, 0, 0 } } },
	{ "3.13.0", PY_LINES_PEP657,
	  "8000d808098041dc0d1290318e588801d80b0c88718f358935d80c0d89468a41f105000e16f006000c0d8048",
	  1,
	  { { 0, 0, 1 }, { 1, 2, 2 }, { 3, 16, 3 }, { 17, 28, 4 }, { 29, 34, 5 }, { 35, 36, 3 },
	    { 37, 38, 6 }, { -1, 0, 0 } } },
	{ "3.14.10", PY_LINES_PEP657,
	  "8000d808098041dc0d1290318e588801d80b0c88718f358e35d80c0d8d468a41f105000e16f006000c0d8048",
	  1,
	  { { 0, 0, 1 }, { 1, 2, 2 }, { 3, 16, 3 }, { 17, 33, 4 }, { 34, 43, 5 }, { 44, 45, 3 },
	    { 46, 47, 6 }, { -1, 0, 0 } } },
	{ "3.15.2", PY_LINES_PEP657,
	  "8100d808098041dc0d1290318f588801d80b0c88718f358e35d80c0d8d468a41f105000e16f006000c0d8048",
	  1,
	  { { 0, 1, 1 }, { 2, 3, 2 }, { 4, 18, 3 }, { 19, 35, 4 }, { 36, 45, 5 }, { 46, 47, 3 },
	    { 48, 49, 6 }, { -1, 0, 0 } } },
};

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;

	while (h[0] && h[1]) {
		unsigned v;
		sscanf(h, "%2x", &v);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

static int check_vector(const struct vector *v)
{
	uint8_t tab[256];
	struct lt_range r[256];
	size_t len = unhex(v->hex, tab);
	long n = linetable_decode(v->kind, tab, len, 1, r, 256);
	int i, bad = 0;

	if (n <= 0) {
		printf("#   %s: decode failed\n", v->version);
		return 1;
	}
	for (i = 0; v->r[i].lo >= 0; i++) {
		int a;
		for (a = v->r[i].lo; a <= v->r[i].hi; a += v->step) {
			int32_t got = linetable_lookup(r, (size_t)n, a, 1);
			if (got != v->r[i].line) {
				if (!bad)
					printf("#   %s: offset %d -> line %d, expected %d\n", v->version, a,
					       (int)got, v->r[i].line);
				bad++;
			}
		}
	}
	/* Before the first instruction (f_lasti == -1): co_firstlineno. */
	if (linetable_lookup(r, (size_t)n, -1, 1) != 1) {
		printf("#   %s: offset -1 is not the first line\n", v->version);
		bad++;
	}
	return bad;
}

static void test_vectors_every_version(void)
{
	size_t i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		CHECK_EQ(check_vector(&vectors[i]), 0);
}

/* A backwards jump (loop back-edge) must not be "fixed" into increasing lines. */
static void test_backwards_line(void)
{
	uint8_t tab[128];
	struct lt_range r[64];
	size_t len = unhex(vectors[5].hex, tab);
	long n = linetable_decode(PY_LINES_PEP657, tab, len, 1, r, 64);

	CHECK(n > 0);
	CHECK_EQ(linetable_lookup(r, (size_t)n, 28, 1), 5);
	CHECK_EQ(linetable_lookup(r, (size_t)n, 29, 1), 3);
	CHECK_EQ(linetable_lookup(r, (size_t)n, 30, 1), 6);
}

/* The same table with another first line shifts every line. */
static void test_firstlineno_offset(void)
{
	uint8_t tab[128];
	struct lt_range r[64];
	size_t len = unhex(vectors[2].hex, tab);
	long n = linetable_decode(PY_LINES_LNOTAB, tab, len, 100, r, 64);

	CHECK(n > 0);
	CHECK_EQ(linetable_lookup(r, (size_t)n, 0, 100), 101);
	CHECK_EQ(linetable_lookup(r, (size_t)n, 34, 100), 105);
	CHECK_EQ(linetable_lookup(r, (size_t)n, -1, 100), 100);
}

/* Past the end of a 3.10+ table there is no line. */
static void test_past_end(void)
{
	uint8_t tab[128];
	struct lt_range r[64];
	size_t len = unhex(vectors[6].hex, tab);
	long n = linetable_decode(PY_LINES_PEP657, tab, len, 1, r, 64);

	CHECK(n > 0);
	CHECK_EQ(linetable_lookup(r, (size_t)n, 39, 1), -1);
	CHECK_EQ(linetable_lookup(r, (size_t)n, 100000, 1), -1);
	len = unhex(vectors[3].hex, tab);
	n = linetable_decode(PY_LINES_310, tab, len, 1, r, 64);
	CHECK(n > 0);
	CHECK_EQ(linetable_lookup(r, (size_t)n, 38, 1), -1);
}

/* Garbage from a racing process is rejected, never decoded into nonsense. */
static void test_malformed(void)
{
	struct lt_range r[64];
	/* PEP 657 entries must start with the high bit set. */
	static const uint8_t no_high[] = { 0x00, 0x01, 0x02 };
	/* A varint that never ends. */
	static const uint8_t long_varint[] = { 0xf0, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40 };
	/* Truncated LONG entry. */
	static const uint8_t trunc[] = { 0xf0 };
	uint8_t big[300];
	size_t i;

	CHECK_EQ(linetable_decode(PY_LINES_PEP657, no_high, sizeof(no_high), 1, r, 64), -1);
	CHECK_EQ(linetable_decode(PY_LINES_PEP657, long_varint, sizeof(long_varint), 1, r, 64), -1);
	CHECK_EQ(linetable_decode(PY_LINES_PEP657, trunc, sizeof(trunc), 1, r, 64), -1);
	/* More ranges than the caller allows: refused, not overflowed. */
	for (i = 0; i < sizeof(big); i += 2) {
		big[i] = 1;
		big[i + 1] = 1;
	}
	CHECK_EQ(linetable_decode(PY_LINES_LNOTAB, big, sizeof(big), 1, r, 64), -1);
	/* A table longer than the bound is refused. */
	CHECK_EQ(linetable_decode(PY_LINES_LNOTAB, big, LT_MAX_TABLE + 1, 1, r, 64), -1);
	/* An empty table: the first line for every offset (lnotab). */
	CHECK_EQ(linetable_decode(PY_LINES_LNOTAB, big, 0, 7, r, 64), 1);
	CHECK_EQ(linetable_lookup(r, 1, 10, 7), 7);
}

int main(void)
{
	RUN(test_vectors_every_version);
	RUN(test_backwards_line);
	RUN(test_firstlineno_offset);
	RUN(test_past_end);
	RUN(test_malformed);
	return test_status();
}
