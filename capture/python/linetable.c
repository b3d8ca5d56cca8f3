/*
 * linetable.c - line-number decoders (see linetable.h).
 *
 * The three algorithms mirror CPython's own (Objects/lnotab_notes.txt for
 * <= 3.9, PyLineTable_NextAddressRange for 3.10, Objects/locations.md for
 * 3.11+) and were checked against PyCode_Addr2Line() on every instruction
 * of several stdlib modules (tests/unit/capture_linetable.c holds vectors).
 */
#include "python/linetable.h"

/* Append a range, merging with the previous one when the line is equal. */
static int push(struct lt_range *out, size_t cap, size_t *n, uint32_t start, int32_t line)
{
	if (*n > 0) {
		struct lt_range *last = &out[*n - 1];
		if (last->start == start) {
			last->line = line;
			/* The previous range may now repeat its predecessor. */
			if (*n > 1 && out[*n - 2].line == line)
				(*n)--;
			return 0;
		}
		if (last->line == line)
			return 0;
	}
	if (*n >= cap)
		return -1;
	out[*n].start = start;
	out[*n].line = line;
	(*n)++;
	return 0;
}

static long decode_lnotab(const uint8_t *tab, size_t len, int32_t first, int is27,
			  struct lt_range *out, size_t cap)
{
	size_t n = 0, i;
	uint32_t addr = 0;
	int64_t line = first;

	if (push(out, cap, &n, 0, first) < 0)
		return -1;
	for (i = 0; i + 1 < len; i += 2) {
		int d = is27 ? tab[i + 1] : (int8_t)tab[i + 1];
		addr += tab[i];
		line += d;
		if (line < -1 || line > INT32_MAX)
			return -1;
		if (push(out, cap, &n, addr, (int32_t)line) < 0)
			return -1;
	}
	return (long)n;
}

static long decode_310(const uint8_t *tab, size_t len, int32_t first,
		       struct lt_range *out, size_t cap)
{
	size_t n = 0, i;
	uint32_t end = 0;
	int64_t line = first;

	for (i = 0; i + 1 < len; i += 2) {
		uint32_t start = end;
		int ld = (int8_t)tab[i + 1];
		int32_t cur;
		end += tab[i];
		if (ld == -128) {
			cur = -1;
		} else {
			line += ld;
			if (line < 0 || line > INT32_MAX)
				return -1;
			cur = (int32_t)line;
		}
		if (end == start)
			continue;   /* empty ranges never match */
		if (push(out, cap, &n, start, cur) < 0)
			return -1;
	}
	/* Past the table: no line. */
	if (push(out, cap, &n, end, -1) < 0)
		return -1;
	return (long)n;
}

static int varint(const uint8_t *t, size_t len, size_t *i, uint32_t *v)
{
	uint32_t b, x, shift = 0;

	if (*i >= len)
		return -1;
	b = t[(*i)++];
	x = b & 63;
	while (b & 64) {
		if (*i >= len)
			return -1;
		b = t[(*i)++];
		shift += 6;
		if (shift > 28)
			return -1;
		x |= (b & 63) << shift;
	}
	*v = x;
	return 0;
}

static int svarint(const uint8_t *t, size_t len, size_t *i, int32_t *v)
{
	uint32_t x;

	if (varint(t, len, i, &x) < 0)
		return -1;
	*v = (x & 1) ? -(int32_t)(x >> 1) : (int32_t)(x >> 1);
	return 0;
}

static long decode_pep657(const uint8_t *t, size_t len, int32_t first,
			  struct lt_range *out, size_t cap)
{
	size_t n = 0, i = 0;
	uint32_t addr = 0, entries = 0;
	int64_t line = first;

	while (i < len) {
		uint8_t b = t[i++];
		int code = (b >> 3) & 15;
		uint32_t length = (b & 7) + 1, skip;
		int32_t cur, d;

		if (!(b & 0x80))
			return -1;   /* every entry starts with the high bit set */
		if (++entries > LT_MAX_RANGES)
			return -1;
		switch (code) {
		case 15:
			cur = -1;
			break;
		case 14:
			if (svarint(t, len, &i, &d) < 0 || varint(t, len, &i, &skip) < 0 ||
			    varint(t, len, &i, &skip) < 0 || varint(t, len, &i, &skip) < 0)
				return -1;
			line += d;
			cur = (int32_t)line;
			break;
		case 13:
			if (svarint(t, len, &i, &d) < 0)
				return -1;
			line += d;
			cur = (int32_t)line;
			break;
		case 10: case 11: case 12:
			line += code - 10;
			cur = (int32_t)line;
			i += 2;
			break;
		default:
			cur = (int32_t)line;
			i += 1;
			break;
		}
		if (i > len || line < -1 || line > INT32_MAX)
			return -1;
		if (push(out, cap, &n, addr, cur) < 0)
			return -1;
		addr += length;
	}
	if (push(out, cap, &n, addr, -1) < 0)
		return -1;
	return (long)n;
}

long linetable_decode(enum py_lines kind, const uint8_t *tab, size_t len,
		      int32_t firstlineno, struct lt_range *out, size_t cap)
{
	if (len > LT_MAX_TABLE || cap == 0)
		return -1;
	switch (kind) {
	case PY_LINES_LNOTAB27:
		return decode_lnotab(tab, len, firstlineno, 1, out, cap);
	case PY_LINES_LNOTAB:
		return decode_lnotab(tab, len, firstlineno, 0, out, cap);
	case PY_LINES_310:
		return decode_310(tab, len, firstlineno, out, cap);
	case PY_LINES_PEP657:
		return decode_pep657(tab, len, firstlineno, out, cap);
	}
	return -1;
}

int32_t linetable_lookup(const struct lt_range *r, size_t n, long addr, int32_t firstlineno)
{
	size_t lo = 0, hi = n;

	if (addr < 0)
		return firstlineno;
	if (n == 0)
		return -1;
	/* Last range with start <= addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid].start <= (uint64_t)addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	return r[lo - 1].line;
}
