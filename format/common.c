/*
 * common.c - error text, record names, varint decoding and UTF-8 helpers
 * shared by the reader and the writer.
 */
#include <string.h>

#include "format_int.h"
#include "pyspy_format.h"

const char *psf_strerror(int err)
{
	switch (err) {
	case PSF_OK: return "success";
	case PSF_E_IO: return "input/output error";
	case PSF_E_NOMEM: return "out of memory";
	case PSF_E_NOT_CAPTURE: return "not a pyspy capture";
	case PSF_E_NEWER: return "written by a newer pyspy (unknown format version)";
	case PSF_E_CORRUPT: return "corrupt data";
	case PSF_E_TRUNCATED: return "truncated (capture still running or cut short)";
	case PSF_E_CHECKSUM: return "checksum mismatch";
	case PSF_E_UNSUPPORTED: return "needs a newer reader (unknown record type or flag)";
	case PSF_E_INVAL: return "invalid argument";
	case PSF_E_LIMIT: return "size limit exceeded";
	case PSF_E_ZSTD: return "zstd library failure";
	case PSF_E_EMPTY: return "empty input";
	}
	return "unknown error";
}

const char *psf_rec_name(int type)
{
	switch (type) {
	case PSF_REC_STRING: return "string";
	case PSF_REC_FRAME: return "frame";
	case PSF_REC_STACK: return "stack";
	case PSF_REC_PROCESS: return "process";
	case PSF_REC_THREAD: return "thread";
	case PSF_REC_SAMPLE: return "sample";
	case PSF_REC_PROCESS_END: return "process_end";
	case PSF_REC_THREAD_NAME: return "thread_name";
	case PSF_REC_THREAD_END: return "thread_end";
	case PSF_REC_ERRORS: return "errors";
	case PSF_REC_LAG: return "lag";
	case PSF_REC_LOCAL: return "local";
	case PSF_REC_TRAILER: return "trailer";
	case PSF_REC_SYNC: return "sync";
	case PSF_REC_GAP: return "gap";
	}
	return NULL;
}

int psf_varint_get(const uint8_t **p, const uint8_t *end, uint64_t max, uint64_t *v)
{
	const uint8_t *q = *p;
	uint64_t x = 0;
	unsigned shift = 0;

	for (;;) {
		uint8_t b;

		if (q >= end)
			return PSF_E_CORRUPT;
		b = *q++;
		if (shift == 63 && b > 1)
			return PSF_E_CORRUPT; /* more than 64 bits, or an 11th byte */
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
		shift += 7;
	}
	if (x > max)
		return PSF_E_CORRUPT;
	*p = q;
	*v = x;
	return 0;
}

/*
 * Length of the valid UTF-8 sequence at s[0..n) (n >= 1), or 0 if the
 * first byte does not start one.  NUL counts as valid here.
 */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0; /* continuation byte or overlong 2-byte lead */
	if (c < 0xe0) {
		len = 2;
	} else if (c < 0xf0) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* UTF-16 surrogates */
	} else if (c < 0xf5) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* 1 if buf[0..len) is valid UTF-8; nul_ok = 0 also rejects NUL bytes. */
static int utf8_check(const char *buf, size_t len, int nul_ok)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0;

	while (i < len) {
		size_t n;

		/* ASCII runs dominate (paths, identifiers): skip them fast. */
		while (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ull)
				break;
			/* A zero byte test: w has a 0x00 byte iff this is nonzero. */
			if (!nul_ok && ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull))
				return 0;
			i += 8;
		}
		if (i >= len)
			break;
		if (s[i] == 0 && !nul_ok)
			return 0;
		n = utf8_seq(s + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

int psf_utf8_valid(const char *buf, size_t len)
{
	if (!buf)
		return len == 0;
	return utf8_check(buf, len, 1);
}

int psf_text_valid(const char *buf, size_t len)
{
	if (!buf)
		return len == 0;
	return utf8_check(buf, len, 0);
}

size_t psf_utf8_sanitize(char *dst, size_t cap, const char *src, size_t len, int latin1)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0;

	if (!dst || cap == 0)
		return 0;
	while (i < len && s) {
		unsigned char rep[4];
		size_t n = s[i] ? utf8_seq(s + i, len - i) : 0;
		size_t rn;

		if (n > 0) {
			if (o + n >= cap)
				break;
			memcpy(dst + o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		/* One replacement per byte that starts no valid sequence. */
		if (latin1 && s[i] >= 0x80) {
			rep[0] = (unsigned char)(0xc0 | (s[i] >> 6));
			rep[1] = (unsigned char)(0x80 | (s[i] & 0x3f));
			rn = 2;
		} else {
			rep[0] = 0xef;
			rep[1] = 0xbf;
			rep[2] = 0xbd;
			rn = 3;
		}
		if (o + rn >= cap)
			break;
		memcpy(dst + o, rep, rn);
		o += rn;
		i++;
	}
	dst[o] = '\0';
	return o;
}
