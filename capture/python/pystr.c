/*
 * pystr.c - CPython strings to UTF-8 (see pystr.h).
 */
#include "python/pystr.h"

#include <string.h>

#include "util.h"

int pystr_locate(const struct py_layout *L, const uint8_t *hdr, size_t hdrlen,
		 uint64_t addr, struct pystr_where *w)
{
	int64_t len;
	uint32_t st;
	unsigned kind, compact, ascii;

	memset(w, 0, sizeof(*w));
	if (L->str_state < 0 || hdrlen < (size_t)L->str_state + 4 ||
	    hdrlen < (size_t)L->str_length + 8)
		return -1;
	len = (int64_t)u64at(hdr + L->str_length);
	st = u32at(hdr + L->str_state);
	kind = (st >> L->str_kind_shift) & 7;
	compact = (st >> L->str_compact_bit) & 1;
	ascii = (st >> L->str_ascii_bit) & 1;
	if (len < 0 || len > (1 << 28))
		return -1;
	if (kind != 1 && kind != 2 && kind != 4)
		return -1;   /* includes the <= 3.11 not-ready wstr kind 0 */
	if (ascii && kind != 1)
		return -1;
	if ((uint64_t)len > PYSTR_MAX_CHARS) {
		w->truncated = 1;
		len = PYSTR_MAX_CHARS;
	}
	w->nchars = (uint32_t)len;
	w->kind = (uint8_t)kind;
	w->ascii = (uint8_t)ascii;
	if (compact) {
		uint32_t off = ascii ? L->str_ascii_size : L->str_compact_size;
		w->data = addr + off;
		w->inline_data = 1;
		w->objsize = off + (uint32_t)(len + 1) * kind;
	} else {
		/* Legacy string (str subclass): data.any follows the compact part. */
		if (hdrlen < L->str_compact_size + 8)
			return -1;
		w->data = u64at(hdr + L->str_compact_size);
		if (!w->data || (w->data & (kind - 1)))
			return -1;
		w->objsize = L->str_compact_size + 8;
	}
	return 0;
}

int pystr_locate_bytes(const struct py_layout *L, const uint8_t *hdr, size_t hdrlen,
		       uint64_t addr, struct pystr_where *w)
{
	int64_t len;

	memset(w, 0, sizeof(*w));
	if (hdrlen < (size_t)L->bytes_size + 8)
		return -1;
	len = (int64_t)u64at(hdr + L->bytes_size);
	if (len < 0 || len > (1 << 28))
		return -1;
	if ((uint64_t)len > PYSTR_MAX_CHARS) {
		w->truncated = 1;
		len = PYSTR_MAX_CHARS;
	}
	w->nchars = (uint32_t)len;
	w->kind = 1;
	w->data = addr + (uint64_t)L->bytes_sval;
	w->inline_data = 1;
	w->objsize = (uint32_t)L->bytes_sval + (uint32_t)len + 1;
	return 0;
}

/* Encode one code point; returns bytes written or 0 if it does not fit. */
static size_t put_cp(uint32_t c, char *dst, size_t room)
{
	unsigned char *d = (unsigned char *)dst;

	if (c == 0 || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		c = 0xfffd;
	if (c < 0x80) {
		if (room < 1)
			return 0;
		d[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		if (room < 2)
			return 0;
		d[0] = (unsigned char)(0xc0 | (c >> 6));
		d[1] = (unsigned char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		if (room < 3)
			return 0;
		d[0] = (unsigned char)(0xe0 | (c >> 12));
		d[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		d[2] = (unsigned char)(0x80 | (c & 0x3f));
		return 3;
	}
	if (room < 4)
		return 0;
	d[0] = (unsigned char)(0xf0 | (c >> 18));
	d[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
	d[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
	d[3] = (unsigned char)(0x80 | (c & 0x3f));
	return 4;
}

size_t pystr_ucs_to_utf8(int kind, const void *src, size_t nchars, char *dst, size_t cap)
{
	const uint8_t *s = src;
	size_t i, o = 0;

	if (cap == 0)
		return 0;
	for (i = 0; i < nchars; i++) {
		uint32_t c;
		size_t k;
		if (kind == 1) {
			c = s[i];
		} else if (kind == 2) {
			uint16_t x;
			memcpy(&x, s + 2 * i, 2);
			c = x;
		} else {
			memcpy(&c, s + 4 * i, 4);
		}
		k = put_cp(c, dst + o, cap - 1 - o);
		if (k == 0)
			break;
		o += k;
	}
	dst[o] = 0;
	return o;
}

/* Length of a valid UTF-8 sequence at s (no overlongs/surrogates), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return c ? 1 : 0;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0;   /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0;   /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;
		if (c == 0xf4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

size_t pystr_bytes_to_utf8(const void *src, size_t n, char *dst, size_t cap)
{
	const unsigned char *s = src;
	size_t i = 0, o = 0;

	if (cap == 0)
		return 0;
	while (i < n) {
		size_t k = utf8_len(s + i, n - i);
		if (k > 0) {
			if (o + k > cap - 1)
				break;
			memcpy(dst + o, s + i, k);
			o += k;
			i += k;
		} else {
			size_t w = put_cp(s[i], dst + o, cap - 1 - o);
			if (w == 0)
				break;
			o += w;
			i++;
		}
	}
	dst[o] = 0;
	return o;
}
