/*
 * pyobj.c - reading ordinary Python objects (see pyobj.h).
 */
#include "python/pyobj.h"

#include <string.h>

#include "mem.h"
#include "python/pystr.h"
#include "util.h"

#define DICT_MAX_ENTRIES (1u << 20)
#define TPF_MANAGED_DICT (1ull << 4)
#define TPF_INLINE_VALUES (1ull << 2)

int pyobj_read(struct pyobj_ctx *c, uint64_t addr, void *buf, size_t len)
{
	if (c->reads == 0 || !addr || addr >= USER_ADDR_END)
		return -1;
	c->reads--;
	return mem_read(c->pid, addr, buf, len) < 0 ? -1 : 0;
}

static int remote_u64(struct pyobj_ctx *c, uint64_t addr, uint64_t *v)
{
	return pyobj_read(c, addr, v, 8);
}

int pyobj_type_name(struct pyobj_ctx *c, uint64_t obj, char *out, size_t cap)
{
	uint64_t tp, nm;
	char buf[64];
	size_t i;

	if (cap == 0)
		return -1;
	out[0] = 0;
	if (remote_u64(c, obj + (uint64_t)c->L->ob_type, &tp) < 0 ||
	    remote_u64(c, tp + (uint64_t)c->L->tp_name, &nm) < 0 ||
	    pyobj_read(c, nm, buf, sizeof(buf)) < 0)
		return -1;
	for (i = 0; i + 1 < cap && i < sizeof(buf) && buf[i]; i++)
		out[i] = buf[i];
	out[i] = 0;
	return 0;
}

/* Read a header; on a fault near the end of a mapping retry shorter. */
static size_t read_header(struct pyobj_ctx *c, uint64_t obj, uint8_t *buf, size_t want)
{
	if (pyobj_read(c, obj, buf, want) == 0)
		return want;
	if (want > 48 && pyobj_read(c, obj, buf, 48) == 0)
		return 48;
	return 0;
}

static long text_from(struct pyobj_ctx *c, const struct pystr_where *w, const uint8_t *hdr,
		      size_t hdrlen, uint64_t obj, char *out, size_t cap, int bytes)
{
	uint8_t data[PYSTR_MAX_CHARS * 4];
	size_t nbytes = (size_t)w->nchars * w->kind;
	const uint8_t *src;

	if (w->inline_data && w->data + nbytes <= obj + hdrlen) {
		src = hdr + (w->data - obj);
	} else {
		if (nbytes > sizeof(data) || (nbytes && pyobj_read(c, w->data, data, nbytes) < 0))
			return -1;
		src = data;
	}
	if (bytes)
		return (long)pystr_bytes_to_utf8(src, nbytes, out, cap);
	return (long)pystr_ucs_to_utf8(w->kind, src, w->nchars, out, cap);
}

long pyobj_text(struct pyobj_ctx *c, uint64_t obj, char *out, size_t cap)
{
	const struct py_layout *L = c->L;
	uint8_t hdr[96];
	size_t n;
	struct pystr_where w;

	if (cap == 0)
		return -1;
	out[0] = 0;
	n = read_header(c, obj, hdr, sizeof(hdr));
	if (n == 0)
		return -1;
	if (L->major == 2) {
		char tn[16];
		if (pyobj_type_name(c, obj, tn, sizeof(tn)) < 0)
			return -1;
		if (strcmp(tn, "str") == 0) {
			if (pystr_locate_bytes(L, hdr, n, obj, &w) < 0)
				return -1;
			return text_from(c, &w, hdr, n, obj, out, cap, 1);
		}
		if (strcmp(tn, "unicode") == 0) {
			int64_t len = (int64_t)u64at(hdr + 16);
			if (len < 0)
				return -1;
			memset(&w, 0, sizeof(w));
			w.nchars = len > (int64_t)PYSTR_MAX_CHARS ? PYSTR_MAX_CHARS : (uint32_t)len;
			w.kind = 4;
			w.data = u64at(hdr + 24);
			return text_from(c, &w, hdr, n, obj, out, cap, 0);
		}
		return -1;
	}
	if (pystr_locate(L, hdr, n, obj, &w) < 0)
		return -1;
	return text_from(c, &w, hdr, n, obj, out, cap, 0);
}

int pyobj_uint(struct pyobj_ctx *c, uint64_t obj, uint64_t *v)
{
	const struct py_layout *L = c->L;
	uint8_t hdr[40];
	int64_t ndig;
	uint64_t x = 0;
	int i;

	if (pyobj_read(c, obj, hdr, sizeof(hdr)) < 0)
		return -1;
	if (L->major == 2) {
		char tn[16];
		if (pyobj_type_name(c, obj, tn, sizeof(tn)) < 0)
			return -1;
		if (strcmp(tn, "int") == 0) {
			int64_t iv = (int64_t)u64at(hdr + 16);
			if (iv < 0)
				return -1;
			*v = (uint64_t)iv;
			return 0;
		}
		if (strcmp(tn, "long") != 0)
			return -1;
	}
	if (L->long_tagged) {
		uint64_t tag = u64at(hdr + L->long_size);
		if ((tag & 3) == 2)
			return -1;
		ndig = (int64_t)(tag >> 3);
	} else {
		ndig = (int64_t)u64at(hdr + L->long_size);
		if (ndig < 0)
			return -1;
	}
	if (ndig > 3)
		return -1;
	for (i = 0; i < ndig; i++) {
		uint32_t d;
		memcpy(&d, hdr + L->long_digits + 4 * i, 4);
		if (d >= (1u << 30))
			return -1;
		x |= (uint64_t)d << (30 * i);
	}
	*v = x;
	return 0;
}

/* Where a dict's (or a keys object's) entries are. */
struct entries {
	uint64_t base;           /* first entry */
	size_t n;                /* entries to look at */
	size_t esz;              /* 24 {hash,key,value} or 16 {key,value} */
	size_t koff, voff;       /* key/value offsets within an entry */
	uint64_t values;         /* split table values array, 0 if combined */
};

static int keys_entries(struct pyobj_ctx *c, uint64_t keys, uint64_t values, int values_hdr,
			struct entries *e)
{
	const struct py_layout *L = c->L;
	uint8_t kh[48];

	memset(e, 0, sizeof(*e));
	if (pyobj_read(c, keys, kh, sizeof(kh)) < 0)
		return -1;
	if (L->dict_kind == PY_DICT_36) {
		int64_t size = (int64_t)u64at(kh + 8), nent = (int64_t)u64at(kh + 32);
		int w;
		if (size <= 0 || size > (int64_t)DICT_MAX_ENTRIES * 2 || (size & (size - 1)) ||
		    nent < 0 || nent > size)
			return -1;
		w = size <= 0xff ? 1 : size <= 0xffff ? 2 : 4;
		e->base = keys + 40 + (uint64_t)size * (uint64_t)w;
		e->n = (size_t)nent;
		e->esz = 24;
		e->koff = 8;
		e->voff = 16;
	} else {
		unsigned log2_size = kh[8], log2_ib = kh[9], kind = kh[10];
		int64_t nent = (int64_t)u64at(kh + 24);
		if (log2_size > 20 || log2_ib > 23 || kind > 2 || nent < 0 ||
		    nent > (int64_t)1 << log2_size)
			return -1;
		e->base = keys + 32 + ((uint64_t)1 << log2_ib);
		e->n = (size_t)nent;
		e->esz = kind == 0 ? 24 : 16;
		e->koff = kind == 0 ? 8 : 0;
		e->voff = e->koff + 8;
	}
	if (values)
		e->values = values + (uint64_t)values_hdr;
	return 0;
}

static int dict_entries(struct pyobj_ctx *c, uint64_t dict, struct entries *e)
{
	const struct py_layout *L = c->L;
	uint64_t a, b;

	if (remote_u64(c, dict + (uint64_t)L->dict_keys, &a) < 0 ||
	    remote_u64(c, dict + (uint64_t)L->dict_values, &b) < 0)
		return -1;
	if (L->dict_kind == PY_DICT_27) {
		int64_t mask = (int64_t)a;
		memset(e, 0, sizeof(*e));
		if (mask < 0 || mask >= (int64_t)DICT_MAX_ENTRIES || !b)
			return -1;
		e->base = b;
		e->n = (size_t)mask + 1;
		e->esz = 24;
		e->koff = 8;
		e->voff = 16;
		return 0;
	}
	if (!a)
		return -1;
	return keys_entries(c, a, b, L->dict_values_hdr, e);
}

/* Iterate entries in batches; fn(index, key, value). */
static int entries_foreach(struct pyobj_ctx *c, const struct entries *e, size_t max,
			   int (*fn)(size_t i, uint64_t k, uint64_t v, void *arg), void *arg)
{
	uint8_t buf[64 * 24];
	size_t i = 0, n = e->n < max ? e->n : max;

	while (i < n) {
		size_t k, batch = n - i;
		if (batch > 64)
			batch = 64;
		if (pyobj_read(c, e->base + i * e->esz, buf, batch * e->esz) < 0)
			return -1;
		for (k = 0; k < batch; k++) {
			uint64_t key = u64at(buf + k * e->esz + e->koff);
			uint64_t val = u64at(buf + k * e->esz + e->voff);
			if (e->values && remote_u64(c, e->values + 8 * (i + k), &val) < 0)
				return -1;
			if (!key || !val)
				continue;
			if (fn(i + k, key, val, arg))
				return 0;
		}
		i += batch;
	}
	return 0;
}

struct foreach_arg {
	int (*fn)(uint64_t, uint64_t, void *);
	void *arg;
};

static int foreach_cb(size_t i, uint64_t k, uint64_t v, void *arg)
{
	struct foreach_arg *a = arg;

	(void)i;
	return a->fn(k, v, a->arg);
}

int pyobj_dict_foreach(struct pyobj_ctx *c, uint64_t dict, size_t max,
		       int (*fn)(uint64_t key, uint64_t value, void *arg), void *arg)
{
	struct entries e;
	struct foreach_arg a = { fn, arg };

	if (dict_entries(c, dict, &e) < 0)
		return -1;
	return entries_foreach(c, &e, max, foreach_cb, &a);
}

struct find_arg {
	struct pyobj_ctx *c;
	const char *key;
	size_t klen;
	uint64_t val;
	long index;
};

static int key_equals(struct pyobj_ctx *c, uint64_t kobj, const char *key, size_t klen)
{
	char text[256];
	long n;

	if (klen >= sizeof(text))
		return 0;
	n = pyobj_text(c, kobj, text, sizeof(text));
	return n == (long)klen && memcmp(text, key, klen) == 0;
}

static int find_cb(size_t i, uint64_t k, uint64_t v, void *arg)
{
	struct find_arg *a = arg;

	if (!key_equals(a->c, k, a->key, a->klen))
		return 0;
	a->val = v;
	a->index = (long)i;
	return 1;
}

static int entries_get(struct pyobj_ctx *c, const struct entries *e, const char *key,
		       uint64_t *val, long *hint)
{
	struct find_arg a = { c, key, strlen(key), 0, -1 };

	if (hint && *hint >= 0 && (size_t)*hint < e->n) {
		uint8_t ent[24];
		uint64_t k, v;
		if (pyobj_read(c, e->base + (uint64_t)*hint * e->esz, ent, e->esz) == 0) {
			k = u64at(ent + e->koff);
			v = u64at(ent + e->voff);
			if (e->values && remote_u64(c, e->values + 8 * (uint64_t)*hint, &v) < 0)
				v = 0;
			if (k && v && key_equals(c, k, key, a.klen)) {
				*val = v;
				return 0;
			}
		}
	}
	if (entries_foreach(c, e, DICT_MAX_ENTRIES, find_cb, &a) < 0 || a.index < 0)
		return -1;
	*val = a.val;
	if (hint)
		*hint = a.index;
	return 0;
}

int pyobj_dict_get(struct pyobj_ctx *c, uint64_t dict, const char *key, uint64_t *val,
		   long *hint)
{
	struct entries e;

	if (dict_entries(c, dict, &e) < 0)
		return -1;
	return entries_get(c, &e, key, val, hint);
}

int pyobj_getattr(struct pyobj_ctx *c, uint64_t obj, const char *name, uint64_t *val)
{
	const struct py_layout *L = c->L;
	uint64_t tp, flags, dict = 0, keys, values = 0;
	int64_t dictoffset;
	int hdr = 0;
	struct entries e;

	if (remote_u64(c, obj + (uint64_t)L->ob_type, &tp) < 0 ||
	    remote_u64(c, tp + (uint64_t)L->tp_flags, &flags) < 0)
		return -1;
	if (L->attrs_kind != PY_ATTRS_DICTOFFSET && (flags & TPF_MANAGED_DICT)) {
		if (L->attrs_kind == PY_ATTRS_311) {
			if (remote_u64(c, obj - 32, &values) < 0)
				return -1;
			if (!values && remote_u64(c, obj - 24, &dict) < 0)
				return -1;
		} else if (L->attrs_kind == PY_ATTRS_312) {
			uint64_t dv;
			if (remote_u64(c, obj - 24, &dv) < 0)
				return -1;
			if (dv & 1)
				values = dv + 1;
			else
				dict = dv;
		} else {
			if (remote_u64(c, obj - 24, &dict) < 0)
				return -1;
			if (!dict && (flags & TPF_INLINE_VALUES)) {
				uint64_t basic;
				if (remote_u64(c, tp + (uint64_t)L->tp_basicsize, &basic) < 0)
					return -1;
				values = obj + basic;
				hdr = 8;
			}
		}
		if (dict)
			return pyobj_dict_get(c, dict, name, val, NULL);
		if (!values || L->ht_cached_keys < 0 ||
		    remote_u64(c, tp + (uint64_t)L->ht_cached_keys, &keys) < 0 || !keys)
			return -1;
		if (keys_entries(c, keys, values, hdr, &e) < 0)
			return -1;
		return entries_get(c, &e, name, val, NULL);
	}
	if (remote_u64(c, tp + (uint64_t)L->tp_dictoffset, (uint64_t *)&dictoffset) < 0 ||
	    dictoffset <= 0 || dictoffset > 4096)
		return -1;
	if (remote_u64(c, obj + (uint64_t)dictoffset, &dict) < 0 || !dict)
		return -1;
	return pyobj_dict_get(c, dict, name, val, NULL);
}
