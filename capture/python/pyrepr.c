/*
 * pyrepr.c - bounded renderings of Python objects and frame locals (see
 * pyrepr.h).
 */
#include "python/pyrepr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyspy_format.h"
#include "python/pystr.h"
#include "util.h"

#define MAX_DEPTH 16             /* nested containers rendered */
#define MAX_TYPES 32             /* type objects remembered per rendering */
#define MAX_VARS 4096            /* variables of one frame */
#define READS_PER_VALUE 4096     /* read budget of one rendering */

/* tp_flags bits (Include/object.h; the same on 2.7 and 3.x). */
#define TPF_INT_SUBCLASS (1ull << 23)      /* 2.7 */
#define TPF_LONG_SUBCLASS (1ull << 24)
#define TPF_LIST_SUBCLASS (1ull << 25)
#define TPF_TUPLE_SUBCLASS (1ull << 26)
#define TPF_BYTES_SUBCLASS (1ull << 27)    /* 2.7: str */
#define TPF_UNICODE_SUBCLASS (1ull << 28)
#define TPF_DICT_SUBCLASS (1ull << 29)

/* Code flags and 3.11+ local kinds (Include/cpython/code.h, pycore_code.h). */
#define CO_VARARGS 0x04
#define CO_VARKEYWORDS 0x08
#define CO_FAST_HIDDEN 0x10
#define CO_FAST_CELL 0x40
#define CO_FAST_FREE 0x80

enum kind {
	K_OTHER, K_NONE, K_BOOL, K_INT, K_INT27, K_BOOL27, K_FLOAT, K_STR, K_BYTES,
	K_LIST, K_TUPLE, K_DICT,
};

struct tcache {
	uint64_t tp;
	uint8_t kind;
	char name[64];
};

struct rstate {
	struct pyobj_ctx *c;
	char *buf;
	size_t len, cap;
	int truncated, errors;
	unsigned depth;
	uint64_t stack[MAX_DEPTH];
	struct tcache types[MAX_TYPES];
	unsigned ntypes;
};


static void put(struct rstate *r, const char *s, size_t n)
{
	if (r->len + n >= r->cap)
		n = r->cap > r->len + 1 ? r->cap - r->len - 1 : 0;
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = 0;
}

static void puts_(struct rstate *r, const char *s)
{
	put(r, s, strlen(s));
}

/* Put text that must fit lim bytes, else "..." (truncated). */
static void put_within(struct rstate *r, const char *s, size_t n, size_t lim)
{
	if (n <= lim) {
		put(r, s, n);
	} else {
		if (lim >= 3)
			puts_(r, "...");
		r->truncated = 1;
	}
}

/* ---------------------------------------------------------------- pure helpers */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	size_t k;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4;
	else
		return 0;
	if (k > n)
		return 0;
	return psf_utf8_valid((const char *)s, k) ? k : 0;
}

/* The escaped form of one character (or invalid byte) at s; its input length. */
static size_t esc_char(const uint8_t *s, size_t n, int bytes, char out[16], size_t *olen)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t ch = s[0];
	size_t k;

	switch (ch) {
	case '"': memcpy(out, "\\\"", 2); *olen = 2; return 1;
	case '\\': memcpy(out, "\\\\", 2); *olen = 2; return 1;
	case '\n': memcpy(out, "\\n", 2); *olen = 2; return 1;
	case '\r': memcpy(out, "\\r", 2); *olen = 2; return 1;
	case '\t': memcpy(out, "\\t", 2); *olen = 2; return 1;
	default: break;
	}
	if (ch >= 0x20 && ch < 0x7f) {
		out[0] = (char)ch;
		*olen = 1;
		return 1;
	}
	k = (!bytes && ch >= 0x80) ? utf8_seq(s, n) : 0;
	if (k) {
		memcpy(out, s, k);
		*olen = k;
		return k;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[ch >> 4];
	out[3] = hex[ch & 15];
	*olen = 4;
	return 1;
}

static size_t quote_any(char *dst, size_t cap, size_t budget, const char *prefix,
			const uint8_t *s, size_t len, int bytes, int more, int *truncated)
{
	size_t plen = prefix ? strlen(prefix) : 0, o, i, cut, total = 0;
	static const char none[] = "";
	char e[16];
	size_t el;

	*truncated = 0;
	if (cap == 0)
		return 0;
	if (!prefix)
		prefix = none;
	for (i = 0; i < len;) {
		i += esc_char(s + i, len - i, bytes, e, &el);
		total += el;
	}
	if (!more && plen + total + 2 <= budget && plen + total + 2 < cap) {
		memcpy(dst, prefix, plen);
		o = plen;
		dst[o++] = '"';
		for (i = 0; i < len;) {
			i += esc_char(s + i, len - i, bytes, e, &el);
			memcpy(dst + o, e, el);
			o += el;
		}
		dst[o++] = '"';
		dst[o] = 0;
		return o;
	}
	*truncated = 1;
	if (budget < plen + 5 || cap <= budget) {
		/* No room for even `"..."`. */
		if (budget >= 3 && cap > 3) {
			memcpy(dst, "...", 4);
			return 3;
		}
		dst[0] = 0;
		return 0;
	}
	memcpy(dst, prefix, plen);
	o = plen;
	dst[o++] = '"';
	cut = o;
	for (i = 0; i < len;) {
		size_t used = esc_char(s + i, len - i, bytes, e, &el);
		/* whole characters (and escapes) only, with room for `..."` */
		if (o + el + 4 > budget)
			break;
		memcpy(dst + o, e, el);
		o += el;
		i += used;
		cut = o;
	}
	memcpy(dst + cut, "...\"", 4);
	o = cut + 4;
	dst[o] = 0;
	return o;
}

size_t pyrepr_quote(char *dst, size_t cap, size_t budget, const char *prefix, const char *text,
		    size_t len, int more, int *truncated)
{
	return quote_any(dst, cap, budget, prefix, (const uint8_t *)text, len, 0, more, truncated);
}

size_t pyrepr_quote_bytes(char *dst, size_t cap, size_t budget, const uint8_t *data, size_t len,
			  int more, int *truncated)
{
	return quote_any(dst, cap, budget, "b", data, len, 1, more, truncated);
}

size_t pyrepr_float(double v, char *dst, size_t cap)
{
	char buf[64], digits[32];
	int p, exp10, decpt, nd = 0, neg, n;
	const char *c;
	size_t o = 0;

	if (cap < 32)
		return 0;
	if (isnan(v))
		return (size_t)snprintf(dst, cap, "nan");
	if (isinf(v))
		return (size_t)snprintf(dst, cap, "%sinf", v < 0 ? "-" : "");
	/* Shortest digits that read back as the same double. */
	for (p = 1; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	neg = buf[0] == '-';
	for (c = buf + neg; *c && *c != 'e'; c++)
		if (*c >= '0' && *c <= '9' && nd < (int)sizeof(digits) - 1)
			digits[nd++] = *c;
	digits[nd] = 0;
	exp10 = *c == 'e' ? atoi(c + 1) : 0;
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = 0;
	decpt = exp10 + 1;
	if (neg)
		dst[o++] = '-';
	if (decpt <= -4 || decpt > 16) {
		/* Python's repr switches to exponent notation here. */
		dst[o++] = digits[0];
		if (nd > 1) {
			dst[o++] = '.';
			memcpy(dst + o, digits + 1, (size_t)nd - 1);
			o += (size_t)nd - 1;
		}
		n = snprintf(dst + o, cap - o, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
		return o + (size_t)n;
	}
	if (decpt <= 0) {
		dst[o++] = '0';
		dst[o++] = '.';
		for (n = 0; n < -decpt; n++)
			dst[o++] = '0';
		memcpy(dst + o, digits, (size_t)nd);
		o += (size_t)nd;
	} else if (decpt >= nd) {
		memcpy(dst + o, digits, (size_t)nd);
		o += (size_t)nd;
		for (n = nd; n < decpt; n++)
			dst[o++] = '0';
		memcpy(dst + o, ".0", 2);
		o += 2;
	} else {
		memcpy(dst + o, digits, (size_t)decpt);
		o += (size_t)decpt;
		dst[o++] = '.';
		memcpy(dst + o, digits + decpt, (size_t)(nd - decpt));
		o += (size_t)(nd - decpt);
	}
	dst[o] = 0;
	return o;
}

size_t pyrepr_digits(const uint32_t *digits, size_t ndigits, int negative, char *dst, size_t cap)
{
	uint64_t v = 0;
	size_t i;

	if (cap < 24)
		return 0;
	if (ndigits > 3 || (ndigits == 3 && digits[2] >= 16))
		return (size_t)snprintf(dst, cap, "%s", negative ? "-bigint" : "+bigint");
	for (i = 0; i < ndigits; i++)
		v |= (uint64_t)(digits[i] & 0x3fffffffu) << (30 * i);
	return (size_t)snprintf(dst, cap, "%s%llu", negative && v ? "-" : "", (unsigned long long)v);
}

/* ---------------------------------------------------------------- objects */

/*
 * A live object's reference count: at least 1 and, immortal objects
 * included (3.12/3.13: 2^32 - 1), below 2^36.  A freed block reused by
 * pymalloc's free list starts with the next free block's address instead
 * (2^45 and up on x86_64), and a value whose variable was rebound during a
 * --nonblocking read is often such a block: it must not be rendered from
 * stale bytes.  3.14+ keep flags in the word's top 16 bits (static
 * immortals such as None and small ints have them set): only its low 32
 * bits, the count, are checked there.
 */
static int refcnt_ok(const struct py_layout *L, const uint8_t *obj)
{
	int64_t rc;

	memcpy(&rc, obj, 8);
	if (L->refcnt_flags)
		return (rc & 0xffffffffll) >= 1;
	return rc >= 1 && rc <= (1ll << 36);
}

/* Kind and name of a type object; NULL when it does not look like one. */
static const struct tcache *type_of(struct rstate *r, uint64_t tp)
{
	const struct py_layout *L = r->c->L;
	struct tcache *t;
	uint64_t nm, flags;
	char name[64];
	unsigned i;
	int k;

	for (i = 0; i < r->ntypes; i++)
		if (r->types[i].tp == tp)
			return &r->types[i];
	if (!ptr_ok(tp) || pyobj_read(r->c, tp + (uint64_t)L->tp_name, &nm, 8) < 0 ||
	    pyobj_read(r->c, tp + (uint64_t)L->tp_flags, &flags, 8) < 0 || !nm)
		return NULL;
	if (pyobj_read(r->c, nm, name, sizeof(name)) < 0 &&
	    pyobj_read(r->c, nm, name, 16) < 0)
		return NULL;
	name[sizeof(name) - 1] = 0;
	for (k = 0; name[k]; k++)
		if ((unsigned char)name[k] < 0x20 || (unsigned char)name[k] >= 0x7f)
			return NULL;   /* type names are ASCII identifiers (and dots) */
	if (!name[0])
		return NULL;
	if (L->major == 2) {
		if (flags & TPF_INT_SUBCLASS)
			k = strcmp(name, "bool") == 0 ? K_BOOL27 : K_INT27;
		else if (flags & TPF_LONG_SUBCLASS)
			k = K_INT;
		else if (flags & TPF_BYTES_SUBCLASS)
			k = K_BYTES;
		else if (flags & TPF_UNICODE_SUBCLASS)
			k = K_STR;
		else
			k = K_OTHER;
	} else {
		if (flags & TPF_LONG_SUBCLASS)
			k = strcmp(name, "bool") == 0 ? K_BOOL : K_INT;
		else if (flags & TPF_UNICODE_SUBCLASS)
			k = K_STR;
		else if (flags & TPF_BYTES_SUBCLASS)
			k = K_BYTES;
		else
			k = K_OTHER;
	}
	if (k == K_OTHER) {
		if (flags & TPF_LIST_SUBCLASS)
			k = K_LIST;
		else if (flags & TPF_TUPLE_SUBCLASS)
			k = K_TUPLE;
		else if (flags & TPF_DICT_SUBCLASS)
			k = K_DICT;
		else if (strcmp(name, "float") == 0)
			k = K_FLOAT;
		else if (strcmp(name, "NoneType") == 0)
			k = K_NONE;
	}
	t = &r->types[r->ntypes < MAX_TYPES ? r->ntypes++ : MAX_TYPES - 1];
	t->tp = tp;
	t->kind = (uint8_t)k;
	snprintf(t->name, sizeof(t->name), "%s", name);
	return t;
}

static void render(struct rstate *r, uint64_t obj, size_t lim);

static void unreadable(struct rstate *r, size_t lim)
{
	r->errors++;
	if (lim >= 1)
		puts_(r, "?");
}

static void render_int(struct rstate *r, uint64_t obj, const uint8_t *hdr, size_t lim, int py2long)
{
	const struct py_layout *L = r->c->L;
	uint32_t d[3] = { 0, 0, 0 };
	int64_t ndig;
	int neg;
	char txt[32];
	size_t n, i;

	if (L->long_tagged) {
		uint64_t tag = u64at(hdr + L->long_size);
		ndig = (int64_t)(tag >> 3);
		neg = (tag & 3) == 2;
	} else {
		ndig = (int64_t)u64at(hdr + L->long_size);
		neg = ndig < 0;
		if (neg)
			ndig = -ndig;
	}
	if (ndig < 0 || ndig > (1 << 28)) {
		unreadable(r, lim);
		return;
	}
	if (ndig > 0 && ndig <= 3 &&
	    pyobj_read(r->c, obj + (uint64_t)L->long_digits, d, (size_t)ndig * 4) < 0) {
		unreadable(r, lim);
		return;
	}
	for (i = 0; i < (size_t)ndig && i < 3; i++) {
		if (d[i] >= (1u << 30)) {
			unreadable(r, lim);
			return;
		}
	}
	n = pyrepr_digits(d, (size_t)ndig, neg, txt, sizeof(txt));
	if (py2long && txt[n - 1] != 't')
		txt[n++] = 'L';
	put_within(r, txt, n, lim);
}

static void render_str(struct rstate *r, uint64_t obj, const uint8_t *hdr, size_t hdrlen,
		       size_t lim, int kind)
{
	const struct py_layout *L = r->c->L;
	struct pystr_where w;
	size_t want, nbytes, o;
	uint8_t *data;
	char *text, *q;
	int more, tr;

	if (kind == K_BYTES) {
		if (pystr_locate_bytes(L, hdr, hdrlen, obj, &w) < 0) {
			unreadable(r, lim);
			return;
		}
	} else if (L->major == 2) {
		/* 2.7 unicode: length@16, Py_UNICODE *str@24 (UCS4). */
		int64_t n = (int64_t)u64at(hdr + 16);
		memset(&w, 0, sizeof(w));
		if (n < 0 || n > (1 << 28)) {
			unreadable(r, lim);
			return;
		}
		w.nchars = n > (int64_t)PYSTR_MAX_CHARS ? PYSTR_MAX_CHARS : (uint32_t)n;
		w.truncated = n > (int64_t)PYSTR_MAX_CHARS;
		w.kind = 4;
		w.data = u64at(hdr + 24);
	} else if (pystr_locate(L, hdr, hdrlen, obj, &w) < 0) {
		unreadable(r, lim);
		return;
	}
	/* Every character takes at least one byte of the budget. */
	want = w.nchars < lim ? w.nchars : lim;
	more = w.truncated || want < w.nchars;
	nbytes = want * w.kind;
	data = malloc(nbytes + 1);
	text = malloc(want * 4 + 1);
	q = malloc(lim + 8);
	if (!data || !text || !q) {
		free(data);
		free(text);
		free(q);
		unreadable(r, lim);
		return;
	}
	if (nbytes && pyobj_read(r->c, w.data, data, nbytes) < 0) {
		unreadable(r, lim);
	} else if (kind == K_BYTES && L->major == 3) {
		o = pyrepr_quote_bytes(q, lim + 8, lim, data, nbytes, more, &tr);
		put(r, q, o);
		r->truncated |= tr;
	} else {
		size_t tl;
		if (kind == K_BYTES)   /* 2.7 str: bytes, shown as text */
			tl = nbytes, memcpy(text, data, nbytes);
		else
			tl = pystr_ucs_to_utf8(w.kind, data, want, text, want * 4 + 1);
		o = quote_any(q, lim + 8, lim, L->major == 2 && kind == K_STR ? "u" : NULL,
			      (const uint8_t *)text, tl, kind == K_BYTES, more, &tr);
		put(r, q, o);
		r->truncated |= tr;
	}
	free(data);
	free(text);
	free(q);
}

/*
 * A container: each element gets the room that is left (keeping room for
 * ", ...]" unless it is the last one); when the room runs out, or an
 * element had to be cut, the container ends with ", ...]".  As a safety
 * net a rendering longer than lim is cut back to the last whole element.
 */
struct seq {
	size_t start, good;      /* buffer offsets */
	size_t openlen, lim;
	unsigned n;              /* elements rendered */
	int over;                /* no more elements */
};

static void seq_begin(struct rstate *r, struct seq *s, const char *open, size_t lim)
{
	s->start = r->len;
	s->lim = lim;
	s->n = 0;
	s->over = 0;
	puts_(r, open);
	s->openlen = r->len - s->start;
	s->good = r->len;
}

/* Room for the next element (after its separator is put), 0 = stop. */
static size_t seq_room(struct rstate *r, struct seq *s, int last)
{
	size_t used = r->len - s->start + (s->n ? 2 : 0) + 1 + (last ? 0 : 5);

	if (s->over || used + 1 > s->lim) {
		s->over = 1;
		return 0;
	}
	if (s->n)
		puts_(r, ", ");
	return s->lim - used;
}

static void seq_done_elem(struct rstate *r, struct seq *s, int was_truncated)
{
	s->n++;
	if (r->len - s->start + 6 <= s->lim)
		s->good = r->len;
	if (r->len - s->start + 1 > s->lim || (!was_truncated && r->truncated))
		s->over = 1;   /* the budget ran out inside this element */
}

static void seq_end(struct rstate *r, struct seq *s, const char *close, int complete)
{
	if (complete && r->len - s->start + strlen(close) <= s->lim) {
		puts_(r, close);
		return;
	}
	r->truncated = 1;
	if (r->len - s->start + 6 > s->lim || r->len != s->good) {
		r->len = s->good;
		r->buf[r->len] = 0;
	}
	puts_(r, s->good == s->start + s->openlen ? "..." : ", ...");
	puts_(r, close);
	if (r->len - s->start > s->lim) {
		/* Not even "[...]" fits. */
		r->len = s->start;
		r->buf[r->len] = 0;
		if (s->lim >= 3)
			puts_(r, "...");
	}
}

static int on_stack(const struct rstate *r, uint64_t obj)
{
	unsigned i;

	for (i = 0; i < r->depth; i++)
		if (r->stack[i] == obj)
			return 1;
	return 0;
}

static void render_items(struct rstate *r, uint64_t items, int64_t n, size_t lim,
			 const char *open, const char *close, int tuple1)
{
	struct seq s;
	uint64_t batch[64];
	int64_t i = 0;
	int complete = 1;

	seq_begin(r, &s, open, lim);
	while (i < n && !s.over) {
		int64_t k, m = n - i > 64 ? 64 : n - i;
		if (pyobj_read(r->c, items + (uint64_t)i * 8, batch, (size_t)m * 8) < 0) {
			size_t room = seq_room(r, &s, 1);
			if (room) {
				int t0 = r->truncated;
				unreadable(r, room);
				seq_done_elem(r, &s, t0);
			}
			complete = 0;
			break;
		}
		for (k = 0; k < m; k++) {
			size_t room = seq_room(r, &s, i + k + 1 == n);
			int t0 = r->truncated;
			if (!room)
				break;
			render(r, batch[k], room);
			seq_done_elem(r, &s, t0);
		}
		i += k;
		if (k < m)
			break;
	}
	if (i >= n && complete && !s.over && tuple1 && n == 1)
		puts_(r, ",");
	seq_end(r, &s, close, complete && i >= n);
}

struct dict_arg {
	struct rstate *r;
	struct seq *s;
	int64_t left;            /* entries still to come (ma_used), -1 unknown */
};

static int dict_cb(uint64_t key, uint64_t value, void *arg)
{
	struct dict_arg *a = arg;
	size_t room, k0;
	int t0 = a->r->truncated;

	room = seq_room(a->r, a->s, a->left == 1);
	if (room < 6) {
		a->s->over = 1;
		return 1;
	}
	if (a->left > 0)
		a->left--;
	k0 = a->r->len;
	render(a->r, key, room - 3);
	puts_(a->r, ": ");
	render(a->r, value, room - (a->r->len - k0));
	seq_done_elem(a->r, a->s, t0);
	return a->s->over;
}

static void render_dict(struct rstate *r, uint64_t obj, int64_t used, size_t lim)
{
	struct seq s;
	struct dict_arg a;
	int rc;

	seq_begin(r, &s, "{", lim);
	a.r = r;
	a.s = &s;
	a.left = used >= 0 ? used : -1;
	rc = pyobj_dict_foreach(r->c, obj, (size_t)1 << 20, dict_cb, &a);
	if (rc < 0) {
		size_t room = seq_room(r, &s, 1);
		if (room) {
			int t0 = r->truncated;
			unreadable(r, room);
			seq_done_elem(r, &s, t0);
		}
	}
	seq_end(r, &s, "}", rc == 0 && a.left <= 0 && (a.left == 0 || !s.over));
}

static void render(struct rstate *r, uint64_t obj, size_t lim)
{
	const struct py_layout *L = r->c->L;
	const struct tcache *t;
	uint8_t hdr[96];
	size_t hl = sizeof(hdr);
	char txt[96];
	size_t n;

	if (lim < 1) {
		r->truncated = 1;
		return;
	}
	if (!ptr_ok(obj)) {
		unreadable(r, lim);
		return;
	}
	if (pyobj_read(r->c, obj, hdr, hl) < 0) {
		hl = 32;
		if (pyobj_read(r->c, obj, hdr, hl) < 0) {
			unreadable(r, lim);
			return;
		}
	}
	if (!refcnt_ok(L, hdr) || !(t = type_of(r, u64at(hdr + L->ob_type)))) {
		unreadable(r, lim);
		return;
	}
	switch (t->kind) {
	case K_NONE:
		put_within(r, "None", 4, lim);
		return;
	case K_BOOL:
		if (L->long_tagged)
			n = (u64at(hdr + L->long_size) & 3) != 1;   /* 1 = zero */
		else
			n = u64at(hdr + L->long_size) != 0;
		put_within(r, n ? "True" : "False", n ? 4 : 5, lim);
		return;
	case K_BOOL27:
		n = u64at(hdr + 16) != 0;
		put_within(r, n ? "True" : "False", n ? 4 : 5, lim);
		return;
	case K_INT27:
		n = (size_t)snprintf(txt, sizeof(txt), "%lld", (long long)u64at(hdr + 16));
		put_within(r, txt, n, lim);
		return;
	case K_INT:
		render_int(r, obj, hdr, lim, L->major == 2);
		return;
	case K_FLOAT: {
		double v;
		if (L->float_fval < 0 || (size_t)L->float_fval + 8 > hl) {
			unreadable(r, lim);
			return;
		}
		memcpy(&v, hdr + L->float_fval, 8);
		n = pyrepr_float(v, txt, sizeof(txt));
		put_within(r, txt, n, lim);
		return;
	}
	case K_STR:
	case K_BYTES:
		render_str(r, obj, hdr, hl, lim, t->kind);
		return;
	case K_LIST:
	case K_TUPLE:
	case K_DICT: {
		const char *open = t->kind == K_LIST ? "[" : t->kind == K_TUPLE ? "(" : "{";
		const char *close = t->kind == K_LIST ? "]" : t->kind == K_TUPLE ? ")" : "}";
		/* ob_size; a dict's ma_used (2.7: after ma_fill) */
		int64_t size = (int64_t)u64at(hdr + (t->kind == K_DICT ? L->dict_used : L->ob_size));
		if (on_stack(r, obj)) {
			/* A container inside itself, as Python shows it. */
			char cyc[8];
			snprintf(cyc, sizeof(cyc), "%s...%s", open, close);
			put_within(r, cyc, 5, lim);
			return;
		}
		if (r->depth >= MAX_DEPTH) {
			put_within(r, "...", 3, lim);
			r->truncated = 1;
			return;
		}
		if (t->kind != K_DICT && (size < 0 || size > (1 << 28) || L->list_item < 0)) {
			unreadable(r, lim);
			return;
		}
		r->stack[r->depth++] = obj;
		if (t->kind == K_LIST)
			render_items(r, u64at(hdr + L->list_item), size, lim, open, close, 0);
		else if (t->kind == K_TUPLE)
			render_items(r, obj + (uint64_t)L->tuple_item, size, lim, open, close, 1);
		else
			render_dict(r, obj, size, lim);
		r->depth--;
		return;
	}
	default:
		n = (size_t)snprintf(txt, sizeof(txt), "<%.48s at 0x%llx>", t->name,
				     (unsigned long long)obj);
		put_within(r, txt, n, lim);
		return;
	}
}

size_t pyrepr_object(struct pyobj_ctx *c, uint64_t obj, size_t budget, char *out, size_t cap,
		     uint32_t *flags)
{
	struct rstate *r = calloc(1, sizeof(*r));
	size_t n;

	*flags = 0;
	if (cap == 0)
		return 0;
	out[0] = 0;
	if (!r) {
		*flags = PSF_LF_ERROR;
		return (size_t)snprintf(out, cap, "? (out of memory)");
	}
	if (budget < 5)
		budget = 5;
	if (budget > PYREPR_MAX_BUDGET)
		budget = PYREPR_MAX_BUDGET;
	r->c = c;
	r->buf = out;
	r->cap = cap;
	render(r, obj, budget);
	/* Never more than the budget (a partly read container may be longer). */
	if (r->len > budget) {
		size_t k = budget - 3;
		while (k > 0 && ((unsigned char)out[k] & 0xc0) == 0x80)
			k--;
		memcpy(out + k, "...", 4);
		r->len = k + 3;
		r->truncated = 1;
	}
	n = r->len;
	if (r->truncated)
		*flags |= PSF_LF_TRUNCATED;
	if (r->errors)
		*flags |= PSF_LF_ERROR;
	free(r);
	return n;
}

/* ---------------------------------------------------------------- locals */

struct names {
	uint64_t tuple;
	int64_t n;
	uint64_t items[MAX_VARS];
};

static int read_tuple(struct pyobj_ctx *c, uint64_t tuple, int64_t max, struct names *nm)
{
	const struct py_layout *L = c->L;
	uint8_t hdr[24];

	nm->tuple = tuple;
	nm->n = 0;
	if (!tuple)
		return 0;
	if (!ptr_ok(tuple) || L->tuple_item < 0 || pyobj_read(c, tuple, hdr, sizeof(hdr)) < 0)
		return -1;
	nm->n = (int64_t)u64at(hdr + 16);
	if (nm->n < 0 || nm->n > MAX_VARS)
		return -1;
	if (max >= 0 && nm->n > max)
		nm->n = max;
	if (nm->n && pyobj_read(c, tuple + (uint64_t)L->tuple_item, nm->items, (size_t)nm->n * 8) < 0)
		return -1;
	return 0;
}

/* A variable's value: the object itself, or a cell's contents. */
static uint64_t deref_cell(struct pyobj_ctx *c, uint64_t v)
{
	const struct py_layout *L = c->L;
	uint64_t tp, nm, ref;
	char name[8];

	if (!ptr_ok(v) || pyobj_read(c, v + (uint64_t)L->ob_type, &tp, 8) < 0 || !ptr_ok(tp) ||
	    pyobj_read(c, tp + (uint64_t)L->tp_name, &nm, 8) < 0 ||
	    pyobj_read(c, nm, name, 5) < 0)
		return v;
	if (memcmp(name, "cell", 5) != 0)
		return v;   /* not made a cell yet (the first instruction) */
	if (pyobj_read(c, v + 16, &ref, 8) < 0)
		return 0;
	return ref;
}

struct var {
	uint64_t name;           /* str object */
	uint64_t slot;           /* remote address of its frame slot */
	uint64_t raw;            /* the slot's contents when it was read */
	int cell;                /* the slot holds a cell (or will) */
	uint32_t flags;
};

/*
 * A slot's value: 0 = unset, 1 = an object in *v, 2 = a tagged int (3.14+
 * _PyStackRef) in *tagged.
 */
static int slot_value(struct pyobj_ctx *c, uint64_t raw, int cell, uint64_t *v, int64_t *tagged)
{
	const struct py_layout *L = c->L;

	*v = raw;
	if (L->if_tagged) {
		if (raw == 1 || !raw)
			return 0;   /* PyStackRef_NULL */
		if ((raw & 3) == 3) {
			*tagged = (int64_t)raw >> 2;
			return 2;
		}
		*v = raw & ~(uint64_t)3;
	}
	if (!*v)
		return 0;
	if (cell && !(*v = deref_cell(c, *v)))
		return 0;
	return 1;
}

/*
 * Render one variable.  A target that keeps running (verify): the slot is
 * read again after each rendering, and the value rendered again, until the
 * variable still holds the same object and it renders the same (three
 * rounds at most; then the last reading is kept and flagged).
 */
static size_t render_var(struct pyobj_ctx *c, const struct var *vr, size_t budget, int verify,
			 char *out, char *scratch, size_t cap, uint32_t *flags)
{
	uint64_t raw = vr->raw, v, raw2;
	int64_t tagged = 0;
	size_t n = 0, m;
	uint32_t f2;
	int round, k;

	for (round = 0; round < 3; round++) {
		k = slot_value(c, raw, vr->cell, &v, &tagged);
		*flags = 0;
		c->reads = READS_PER_VALUE;
		if (k == 2)
			n = (size_t)snprintf(out, cap, "%lld", (long long)tagged);
		else if (k == 1)
			n = pyrepr_object(c, v, budget, out, cap, flags);
		else
			n = (size_t)snprintf(out, cap, "? (unset during the read)"), *flags = PSF_LF_ERROR;
		if (!verify)
			return n;
		c->reads = READS_PER_VALUE;
		if (pyobj_read(c, vr->slot, &raw2, 8) < 0)
			raw2 = raw;
		if (raw2 == raw) {
			uint64_t v2 = 0;
			int64_t t2 = 0;
			/* a cell keeps its address while its contents change */
			if (slot_value(c, raw2, vr->cell, &v2, &t2) != k || (k == 1 && v2 != v))
				continue;
			if (k != 1)
				return n;
			c->reads = READS_PER_VALUE;
			m = pyrepr_object(c, v, budget, scratch, cap, &f2);
			if (m == n && memcmp(out, scratch, n) == 0)
				return n;
		}
		raw = raw2;
	}
	/* Still changing: keep the last reading, say so. */
	*flags |= PSF_LF_ERROR;
	if (n + 26 < cap)
		n += (size_t)snprintf(out + n, cap - n, " (changed during the read)");
	return n;
}

int pyrepr_locals(struct pyobj_ctx *c, uint64_t frame, uint64_t code, size_t budget, int verify,
		  pyrepr_local_fn fn, void *arg, char *err, size_t errcap)
{
	const struct py_layout *L = c->L;
	struct names *names = NULL, *cells = NULL, *frees = NULL;
	struct var *vars = NULL;
	uint64_t *slots = NULL;
	uint8_t kinds[MAX_VARS];
	int32_t argcount = 0, kwonly = 0, nlocals = 0, flags = 0;
	int64_t nargs, nslots = 0, i, nvars = 0;
	size_t cap = 2 * (budget > PYREPR_MAX_BUDGET ? PYREPR_MAX_BUDGET : budget) + 128;
	char *out = NULL, *scratch = NULL, nm[256];
	uint64_t ptr, code_off = (uint64_t)(L->frames == PY_FRAMES_OBJECT ? L->f_code : L->if_code);
	int ret = -1, changed = 0;

	c->reads = READS_PER_VALUE;
	if (L->co_varnames < 0 || L->co_argcount < 0 ||
	    (L->frames == PY_FRAMES_OBJECT ? L->f_localsplus : L->if_localsplus) < 0) {
		snprintf(err, errcap, "local variables are not known for this Python version");
		return -1;
	}
	names = malloc(sizeof(*names));
	cells = malloc(sizeof(*cells));
	frees = malloc(sizeof(*frees));
	vars = malloc(MAX_VARS * 3 * sizeof(*vars));
	slots = malloc(MAX_VARS * 3 * sizeof(*slots));
	out = malloc(cap);
	scratch = malloc(cap);
	if (!names || !cells || !frees || !vars || !slots || !out || !scratch) {
		snprintf(err, errcap, "out of memory");
		goto out;
	}
	if (pyobj_read(c, code + (uint64_t)L->co_argcount, &argcount, 4) < 0 ||
	    pyobj_read(c, code + (uint64_t)L->co_flags, &flags, 4) < 0 ||
	    (L->co_kwonlyargcount >= 0 &&
	     pyobj_read(c, code + (uint64_t)L->co_kwonlyargcount, &kwonly, 4) < 0) ||
	    pyobj_read(c, code + (uint64_t)L->co_varnames, &ptr, 8) < 0) {
		snprintf(err, errcap, "cannot read the code object at 0x%llx",
			 (unsigned long long)code);
		goto out;
	}
	if (argcount < 0 || kwonly < 0 || argcount > MAX_VARS || kwonly > MAX_VARS) {
		snprintf(err, errcap, "implausible code object at 0x%llx", (unsigned long long)code);
		goto out;
	}
	nargs = (int64_t)argcount + kwonly + ((flags & CO_VARARGS) != 0) +
		((flags & CO_VARKEYWORDS) != 0);
	if (L->frames == PY_FRAMES_OBJECT) {
		uint64_t cp, fp;
		if (pyobj_read(c, code + (uint64_t)L->co_nlocals, &nlocals, 4) < 0 || nlocals < 0 ||
		    read_tuple(c, ptr, nlocals, names) < 0 ||
		    pyobj_read(c, code + (uint64_t)L->co_cellvars, &cp, 8) < 0 ||
		    pyobj_read(c, code + (uint64_t)L->co_freevars, &fp, 8) < 0 ||
		    read_tuple(c, cp, -1, cells) < 0 || read_tuple(c, fp, -1, frees) < 0) {
			snprintf(err, errcap, "cannot read the variable names of the code object at 0x%llx",
				 (unsigned long long)code);
			goto out;
		}
		nslots = (int64_t)nlocals + cells->n + frees->n;
		if (nslots > MAX_VARS * 3 ||
		    (nslots && pyobj_read(c, frame + (uint64_t)L->f_localsplus, slots,
					  (size_t)nslots * 8) < 0)) {
			snprintf(err, errcap, "cannot read the frame at 0x%llx", (unsigned long long)frame);
			goto out;
		}
		for (i = 0; i < names->n; i++) {
			if (!slots[i])
				continue;
			vars[nvars].name = names->items[i];
			vars[nvars].slot = frame + (uint64_t)L->f_localsplus + 8 * (uint64_t)i;
			vars[nvars].raw = slots[i];
			vars[nvars].cell = 0;
			vars[nvars++].flags = i < nargs ? PSF_LF_ARG : 0;
		}
		for (i = 0; i < cells->n + frees->n; i++) {
			uint64_t nameobj = i < cells->n ? cells->items[i] : frees->items[i - cells->n];
			uint64_t v = slots[nlocals + i];
			uint32_t fl = 0;
			int64_t k;
			if (!v || !deref_cell(c, v))
				continue;
			/* A cell of an argument: 2.7 keeps the argument's slot too. */
			for (k = 0; k < names->n; k++) {
				if (names->items[k] == nameobj) {
					fl = k < nargs ? PSF_LF_ARG : 0;
					break;
				}
			}
			if (k < names->n && slots[k])
				continue;
			vars[nvars].name = nameobj;
			vars[nvars].slot = frame + (uint64_t)L->f_localsplus + 8 * (uint64_t)(nlocals + i);
			vars[nvars].raw = v;
			vars[nvars].cell = 1;
			vars[nvars++].flags = fl;
		}
	} else {
		uint64_t kp;
		uint8_t bh[48];
		int64_t klen;
		if (read_tuple(c, ptr, -1, names) < 0 ||
		    pyobj_read(c, code + (uint64_t)L->co_localspluskinds, &kp, 8) < 0 ||
		    pyobj_read(c, kp, bh, sizeof(bh)) < 0) {
			snprintf(err, errcap, "cannot read the variable names of the code object at 0x%llx",
				 (unsigned long long)code);
			goto out;
		}
		klen = (int64_t)u64at(bh + L->bytes_size);
		nslots = names->n;
		if (klen != nslots ||
		    (nslots && (pyobj_read(c, kp + (uint64_t)L->bytes_sval, kinds, (size_t)nslots) < 0 ||
				pyobj_read(c, frame + (uint64_t)L->if_localsplus, slots,
					   (size_t)nslots * 8) < 0))) {
			snprintf(err, errcap, "cannot read the frame at 0x%llx", (unsigned long long)frame);
			goto out;
		}
		for (i = 0; i < nslots; i++) {
			uint64_t v;
			int64_t tg;
			int cell = (kinds[i] & (CO_FAST_CELL | CO_FAST_FREE)) != 0;
			if (kinds[i] & CO_FAST_HIDDEN)
				continue;   /* inlined comprehension variables (3.12+) */
			if (!slot_value(c, slots[i], cell, &v, &tg))
				continue;
			vars[nvars].name = names->items[i];
			vars[nvars].slot = frame + (uint64_t)L->if_localsplus + 8 * (uint64_t)i;
			vars[nvars].raw = slots[i];
			vars[nvars].cell = cell;
			vars[nvars++].flags = i < nargs ? PSF_LF_ARG : 0;
		}
	}
	/* Torn: the frame no longer runs the same code. */
	if (verify && (pyobj_read(c, frame + code_off, &ptr, 8) < 0 ||
		       (L->if_tagged ? ptr & ~(uint64_t)3 : ptr) != code))
		changed = 1;
	ret = 0;
	for (i = 0; i < nvars; i++) {
		uint32_t fl = vars[i].flags, rf = 0;
		size_t n;
		c->reads = READS_PER_VALUE;
		if (pyobj_text(c, vars[i].name, nm, sizeof(nm)) <= 0)
			snprintf(nm, sizeof(nm), "?");
		n = render_var(c, &vars[i], budget, verify, out, scratch, cap, &rf);
		if (rf & PSF_LF_ERROR && out[0] == '?' && n == 1)
			n = (size_t)snprintf(out, cap, "? (cannot read the object at 0x%llx)",
					     (unsigned long long)(vars[i].raw & ~(uint64_t)3));
		fl |= rf;
		if (changed) {
			fl |= PSF_LF_ERROR;
			if (n + 32 < cap)
				n += (size_t)snprintf(out + n, cap - n, " (frame changed during the read)");
		}
		ret++;
		if (fn(arg, nm, out, n, fl))
			break;
	}
out:
	free(names);
	free(cells);
	free(frees);
	free(vars);
	free(slots);
	free(out);
	free(scratch);
	return ret;
}
