/*
 * format_basic.c - the building blocks of the format library: CRC-32C,
 * varints, zigzag, UTF-8 validation and sanitizing, error and record
 * names, intern tables.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format_int.h"
#include "format_testutil.h"
#include "pyspy_format.h"
#include "test.h"

/* Bit-at-a-time CRC-32C straight from the definition (§6). */
static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

static void crc32c_check_value(void)
{
	CHECK_EQ(psf_crc32c(0, "123456789", 9), 0xe3069283u);
	CHECK_EQ(psf_crc32c(0, "", 0), 0);
	/* RFC 3720 B.4 test vector: 32 bytes of zeros. */
	{
		uint8_t z[32] = { 0 };

		CHECK_EQ(psf_crc32c(0, z, 32), 0x8a9136aau);
	}
}

static void crc32c_matches_bitwise(void)
{
	uint8_t buf[1100];
	uint64_t s = 7;
	size_t i, off, len;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)tu_rand(&s);
	/* Every alignment and length up to 64, then some long ones. */
	for (off = 0; off < 8; off++)
		for (len = 0; len <= 64; len++)
			CHECK_EQ(psf_crc32c(0, buf + off, len), crc_bitwise(buf + off, len));
	for (len = 100; len < 1090; len += 97)
		CHECK_EQ(psf_crc32c(0, buf + 3, len), crc_bitwise(buf + 3, len));
	/* Incremental: crc(a || b) = crc(b) continued from crc(a). */
	CHECK_EQ(psf_crc32c(psf_crc32c(0, buf, 333), buf + 333, 700), crc_bitwise(buf, 1033));
}

static void varint_round_trip(void)
{
	static const uint64_t v[] = { 0, 1, 127, 128, 255, 16383, 16384, 0xffffffffull,
				      0x100000000ull, (1ull << 63) - 1, 1ull << 63, UINT64_MAX };
	uint8_t buf[16];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const uint8_t *p = buf;
		uint64_t x = 0;
		size_t n = psf_varint_put(buf, v[i]);

		CHECK_EQ(n, psf_varint_len(v[i]));
		CHECK(n <= PSF_VARINT_MAX);
		CHECK_EQ(psf_varint_get(&p, buf + n, UINT64_MAX, &x), 0);
		CHECK(x == v[i]);
		CHECK(p == buf + n);
		/* One byte short is corrupt, never an over-read. */
		p = buf;
		CHECK_EQ(psf_varint_get(&p, buf + n - 1, UINT64_MAX, &x), PSF_E_CORRUPT);
	}
	CHECK_EQ(psf_varint_len(0), 1);
	CHECK_EQ(psf_varint_len(127), 1);
	CHECK_EQ(psf_varint_len(128), 2);
	CHECK_EQ(psf_varint_len(UINT64_MAX), 10);
}

static void varint_hostile(void)
{
	uint8_t b[16];
	const uint8_t *p;
	uint64_t x;

	/* 11 bytes: too long. */
	memset(b, 0x80, 10);
	b[10] = 0;
	p = b;
	CHECK_EQ(psf_varint_get(&p, b + 11, UINT64_MAX, &x), PSF_E_CORRUPT);
	/* 10th byte carrying more than the 64th bit. */
	memset(b, 0xff, 9);
	b[9] = 0x02;
	p = b;
	CHECK_EQ(psf_varint_get(&p, b + 10, UINT64_MAX, &x), PSF_E_CORRUPT);
	b[9] = 0x01;
	p = b;
	CHECK_EQ(psf_varint_get(&p, b + 10, UINT64_MAX, &x), 0);
	CHECK(x == UINT64_MAX);
	/* Value above the field width (§5.1). */
	p = b;
	psf_varint_put(b, 0x100000000ull);
	CHECK_EQ(psf_varint_get(&p, b + 16, UINT32_MAX, &x), PSF_E_CORRUPT);
	CHECK(p == b); /* not advanced on error */
	/* Empty input. */
	p = b;
	CHECK_EQ(psf_varint_get(&p, b, UINT64_MAX, &x), PSF_E_CORRUPT);
	/* Non-shortest encodings are accepted (only writers must be shortest). */
	b[0] = 0x81;
	b[1] = 0x00;
	p = b;
	CHECK_EQ(psf_varint_get(&p, b + 2, UINT64_MAX, &x), 0);
	CHECK_EQ(x, 1);
}

static void zigzag(void)
{
	CHECK_EQ(psf_zigzag(0), 0);
	CHECK_EQ(psf_zigzag(-1), 1);
	CHECK_EQ(psf_zigzag(1), 2);
	CHECK_EQ(psf_zigzag(-2), 3);
	CHECK(psf_zigzag(INT64_MAX) == UINT64_MAX - 1);
	CHECK(psf_zigzag(INT64_MIN) == UINT64_MAX);
	CHECK(psf_unzigzag(UINT64_MAX) == INT64_MIN);
	CHECK(psf_unzigzag(UINT64_MAX - 1) == INT64_MAX);
	CHECK_EQ(psf_unzigzag(psf_zigzag(-123456789)), -123456789);
	CHECK_EQ(psf_unzigzag(psf_zigzag(INT32_MIN)), INT32_MIN);
	CHECK(psf_zigzag(INT32_MIN) == 0xffffffffull);
}

static void utf8_valid(void)
{
	CHECK(psf_utf8_valid("", 0));
	CHECK(psf_utf8_valid(NULL, 0));
	CHECK(psf_utf8_valid("plain ascii text, longer than eight", 35));
	CHECK(psf_utf8_valid("caf\xc3\xa9", 5));
	CHECK(psf_utf8_valid("\xe2\x82\xac", 3));          /* euro */
	CHECK(psf_utf8_valid("\xf0\x9f\x90\x8d", 4));      /* snake */
	CHECK(psf_utf8_valid("\xf4\x8f\xbf\xbf", 4));      /* U+10FFFF */
	CHECK(psf_utf8_valid("a\0b", 3));                   /* NUL is UTF-8 */
	CHECK(!psf_text_valid("a\0b", 3));                  /* ... but not text */
	CHECK(!psf_text_valid("abcdefgh\0", 9));            /* NUL in the fast path */
	CHECK(psf_text_valid("abcdefghijklmnop", 16));
	CHECK(!psf_utf8_valid("\x80", 1));                  /* lone continuation */
	CHECK(!psf_utf8_valid("\xc3", 1));                  /* truncated */
	CHECK(!psf_utf8_valid("\xc0\xaf", 2));              /* overlong '/' */
	CHECK(!psf_utf8_valid("\xc1\xbf", 2));              /* overlong */
	CHECK(!psf_utf8_valid("\xe0\x80\xaf", 3));          /* overlong */
	CHECK(!psf_utf8_valid("\xed\xa0\x80", 3));          /* surrogate D800 */
	CHECK(!psf_utf8_valid("\xf0\x80\x80\xaf", 4));      /* overlong */
	CHECK(!psf_utf8_valid("\xf4\x90\x80\x80", 4));      /* > U+10FFFF */
	CHECK(!psf_utf8_valid("\xf5\x80\x80\x80", 4));
	CHECK(!psf_utf8_valid("\xff", 1));
	CHECK(!psf_utf8_valid("abcdefgh\xe2\x82", 10));     /* cut after the fast path */
	CHECK(!psf_utf8_valid("\xe2\x28\xa1", 3));          /* bad 2nd byte */
}

static void utf8_sanitize(void)
{
	char out[64];
	size_t n;

	n = psf_utf8_sanitize(out, sizeof(out), "ok", 2, 0);
	CHECK_EQ(n, 2);
	CHECK_STR(out, "ok");
	n = psf_utf8_sanitize(out, sizeof(out), "a\xff" "b", 3, 0);
	CHECK_STR(out, "a\xef\xbf\xbd" "b");
	CHECK_EQ(n, 5);
	n = psf_utf8_sanitize(out, sizeof(out), "a\0b", 3, 0);
	CHECK_STR(out, "a\xef\xbf\xbd" "b");
	/* Latin-1: 0xe9 is e-acute; NUL still becomes U+FFFD. */
	n = psf_utf8_sanitize(out, sizeof(out), "caf\xe9\0", 5, 1);
	CHECK_STR(out, "caf\xc3\xa9\xef\xbf\xbd");
	CHECK_EQ(n, 8);
	/* Cut on a character boundary: a 3-byte char does not fit in 2 bytes. */
	n = psf_utf8_sanitize(out, 4, "a\xe2\x82\xac", 4, 0);
	CHECK_STR(out, "a");
	CHECK_EQ(n, 1);
	n = psf_utf8_sanitize(out, 1, "abc", 3, 0);
	CHECK_EQ(n, 0);
	CHECK_STR(out, "");
	/* The output is always valid. */
	{
		char junk[200], big[800];
		uint64_t s = 3;
		int i, k;

		for (k = 0; k < 200; k++) {
			for (i = 0; i < 200; i++)
				junk[i] = (char)tu_rand(&s);
			n = psf_utf8_sanitize(big, (size_t)(k % 50) + 1 + (k >= 100 ? 700 : 0), junk,
					      200, k & 1);
			CHECK(strlen(big) == n);
			CHECK(psf_text_valid(big, n));
		}
	}
}

static void names(void)
{
	int e, t, known = 0;

	for (e = 0; e >= PSF_E_EMPTY; e--) {
		CHECK(psf_strerror(e) != NULL);
		CHECK(strcmp(psf_strerror(e), "unknown error") != 0);
	}
	CHECK_STR(psf_strerror(-1000), "unknown error");
	CHECK_STR(psf_strerror(PSF_E_TRUNCATED), "truncated (capture still running or cut short)");
	for (t = 0; t < 256; t++)
		if (psf_rec_name(t))
			known++;
	CHECK_EQ(known, 15); /* 13 on disk in 1.0, SYNC (1.1), GAP (API only) */
	CHECK_STR(psf_rec_name(PSF_REC_SAMPLE), "sample");
	CHECK(psf_rec_name(0) == NULL);
	CHECK_STR(psf_rec_name(PSF_REC_SYNC), "sync");
	CHECK_STR(psf_rec_name(PSF_REC_GAP), "gap");
	CHECK(psf_rec_name(0x88) == NULL);
}

static void intern_table(void)
{
	struct psf_itab t;
	uint32_t key[3], i, h;

	psf_itab_init(&t, sizeof(key), 0, 1000, 42);
	for (i = 0; i < 1000; i++) {
		key[0] = i;
		key[1] = i * 7;
		key[2] = (uint32_t)-1;
		h = psf_itab_hash(&t, key, sizeof(key));
		CHECK_EQ(psf_itab_find(&t, key, sizeof(key), h), 0);
		CHECK_EQ(psf_itab_add(&t, key, sizeof(key), h, i + 1), 0);
	}
	for (i = 0; i < 1000; i++) {
		key[0] = i;
		key[1] = i * 7;
		key[2] = (uint32_t)-1;
		h = psf_itab_hash(&t, key, sizeof(key));
		CHECK_EQ(psf_itab_find(&t, key, sizeof(key), h), i + 1);
	}
	CHECK_EQ(t.resets, 0);
	/* The 1001st entry forgets the first 1000. */
	key[0] = 5000;
	h = psf_itab_hash(&t, key, sizeof(key));
	CHECK_EQ(psf_itab_add(&t, key, sizeof(key), h, 1001), 0);
	CHECK_EQ(t.resets, 1);
	CHECK_EQ(psf_itab_find(&t, key, sizeof(key), h), 1001);
	key[0] = 3;
	key[1] = 21;
	h = psf_itab_hash(&t, key, sizeof(key));
	CHECK_EQ(psf_itab_find(&t, key, sizeof(key), h), 0);
	/* Load factor: slots > entries * 4 / 3. */
	CHECK(((uint64_t)t.mask + 1) * 3 >= (uint64_t)1000 * 4);
	psf_itab_release(&t);
	psf_itab_release(NULL);

	/* Strings: the empty string, and the arena bound. */
	psf_itab_init(&t, 0, 1, 1u << 20, 1);
	h = psf_itab_hash(&t, "", 0);
	CHECK_EQ(psf_itab_add(&t, "", 0, h, 1), 0);
	CHECK_EQ(psf_itab_find(&t, "", 0, h), 1);
	{
		static char big[PSF_MAX_STRING];
		uint32_t id = 2;

		memset(big, 'x', sizeof(big));
		/* 17 strings of 64 KiB exceed the 1 MiB arena: one reset. */
		for (i = 0; i < 17; i++) {
			big[0] = (char)('a' + i);
			h = psf_itab_hash(&t, big, sizeof(big));
			CHECK_EQ(psf_itab_add(&t, big, sizeof(big), h, id++), 0);
		}
		CHECK_EQ(t.resets, 1);
		CHECK(t.arena_cap <= PSF_INTERN_ARENA_MAX);
		big[0] = 'a' + 16;
		h = psf_itab_hash(&t, big, sizeof(big));
		CHECK_EQ(psf_itab_find(&t, big, sizeof(big), h), 18);
	}
	psf_itab_release(&t);
}

int main(void)
{
	RUN(crc32c_check_value);
	RUN(crc32c_matches_bitwise);
	RUN(varint_round_trip);
	RUN(varint_hostile);
	RUN(zigzag);
	RUN(utf8_valid);
	RUN(utf8_sanitize);
	RUN(names);
	RUN(intern_table);
	return test_status();
}
