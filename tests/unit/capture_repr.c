/*
 * capture_repr - renderings of local variables (pyrepr.c): quoting and
 * escaping, truncation on character boundaries within the budget, Python's
 * float repr, ints and big ints, and whole objects (str, int, bool, None,
 * float, bytes, list, tuple, dict, self-containing lists, unknown types,
 * unreadable pointers) laid out like CPython 3.12 objects in this
 * process's own memory and read back through process_vm_readv.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyspy_format.h"
#include "python/layout.h"
#include "python/pyobj.h"
#include "python/pyrepr.h"
#include "test.h"

/* ---------------------------------------------------------------- helpers */

static char out[1024];
static int tr;

static const char *q(const char *s, size_t budget)
{
	pyrepr_quote(out, sizeof(out), budget, NULL, s, strlen(s), 0, &tr);
	return out;
}

/* Every rendering is valid UTF-8 and within its budget. */
static int sane(const char *s, size_t budget)
{
	return psf_utf8_valid(s, strlen(s)) && strlen(s) <= budget;
}

static void test_quote_escapes(void)
{
	CHECK_STR(q("abc", 128), "\"abc\"");
	CHECK_EQ(tr, 0);
	CHECK_STR(q("say \"hi\"", 128), "\"say \\\"hi\\\"\"");
	CHECK_STR(q("a\\b", 128), "\"a\\\\b\"");
	CHECK_STR(q("l1\nl2\tx\r", 128), "\"l1\\nl2\\tx\\r\"");
	CHECK_STR(q("\x01\x1f\x7f", 128), "\"\\x01\\x1f\\x7f\"");
	/* Valid UTF-8 is kept; stray bytes are escaped. */
	CHECK_STR(q("caf\xc3\xa9 \xe5\x87\xbd \xf0\xa0\x80\x8b", 128),
		  "\"caf\xc3\xa9 \xe5\x87\xbd \xf0\xa0\x80\x8b\"");
	CHECK_STR(q("a\xff" "b\xc3", 128), "\"a\\xffb\\xc3\"");
	CHECK_STR(q("", 128), "\"\"");
	pyrepr_quote(out, sizeof(out), 128, "u", "x", 1, 0, &tr);
	CHECK_STR(out, "u\"x\"");
	pyrepr_quote_bytes(out, sizeof(out), 128, (const uint8_t *)"a\0\"\xc3\xa9\n", 6, 0, &tr);
	CHECK_STR(out, "b\"a\\x00\\\"\\xc3\\xa9\\n\"");
}

static void test_quote_truncation(void)
{
	size_t b;

	/* Exactly fits: no cut. */
	CHECK_STR(q("abcdef", 8), "\"abcdef\"");
	CHECK_EQ(tr, 0);
	CHECK_STR(q("abcdefg", 8), "\"abc...\"");
	CHECK_EQ(tr, 1);
	/* Never inside a multi-byte character or an escape. */
	for (b = 5; b < 40; b++) {
		q("\xe5\x87\xbd\xe6\x95\xb0-\xf0\xa0\x80\x8b\n\"x\\y\xc3\xa9z", b);
		CHECK(sane(out, b));
		CHECK(strstr(out, "...\"") != NULL || tr == 0);
		/* a cut escape would leave a lone backslash before the dots */
		CHECK(strstr(out, "\\...") == NULL || strstr(out, "\\\\...") != NULL);
	}
	CHECK_STR(q("\xe5\x87\xbd\xe6\x95\xb0\xe5\x87\xbd", 11), "\"\xe5\x87\xbd\xe6\x95\xb0\xe5\x87\xbd\"");
	CHECK_STR(q("\xe5\x87\xbd\xe6\x95\xb0\xe5\x87\xbd", 10), "\"\xe5\x87\xbd...\"");
	/* Text known to continue beyond what was read. */
	pyrepr_quote(out, sizeof(out), 128, NULL, "abc", 3, 1, &tr);
	CHECK_STR(out, "\"abc...\"");
	CHECK_EQ(tr, 1);
	/* No room for a quote at all. */
	CHECK_STR(q("abcdef", 4), "...");
	CHECK_EQ(tr, 1);
}

static const char *f(double v)
{
	pyrepr_float(v, out, sizeof(out));
	return out;
}

static void test_float(void)
{
	CHECK_STR(f(0.1), "0.1");
	CHECK_STR(f(1.0), "1.0");
	CHECK_STR(f(-0.0), "-0.0");
	CHECK_STR(f(3.141592653589793), "3.141592653589793");
	CHECK_STR(f(2.5), "2.5");
	CHECK_STR(f(1e16), "1e+16");
	CHECK_STR(f(1e15), "1000000000000000.0");
	CHECK_STR(f(123456789.125), "123456789.125");
	CHECK_STR(f(0.0001), "0.0001");
	CHECK_STR(f(1e-05), "1e-05");
	CHECK_STR(f(1.5e300), "1.5e+300");
	CHECK_STR(f(-2.25e-10), "-2.25e-10");
	CHECK_STR(f(1.0 / 3), "0.3333333333333333");
	CHECK_STR(f(INFINITY), "inf");
	CHECK_STR(f(-INFINITY), "-inf");
	CHECK_STR(f(NAN), "nan");
}

static void test_digits(void)
{
	uint32_t d[3];

	CHECK_EQ(pyrepr_digits(d, 0, 0, out, sizeof(out)), 1);
	CHECK_STR(out, "0");
	d[0] = 42;
	pyrepr_digits(d, 1, 1, out, sizeof(out));
	CHECK_STR(out, "-42");
	d[0] = 0;
	d[1] = 1;   /* 2**30 */
	pyrepr_digits(d, 2, 0, out, sizeof(out));
	CHECK_STR(out, "1073741824");
	d[0] = d[1] = 0x3fffffff;
	d[2] = 15;  /* 2**64 - 1 */
	pyrepr_digits(d, 3, 0, out, sizeof(out));
	CHECK_STR(out, "18446744073709551615");
	d[2] = 16;  /* 2**64 */
	pyrepr_digits(d, 3, 0, out, sizeof(out));
	CHECK_STR(out, "+bigint");
	pyrepr_digits(d, 4, 1, out, sizeof(out));
	CHECK_STR(out, "-bigint");
}

/* ---------------------------------------------------------------- fake objects */

/* CPython 3.12 layouts, built in our memory and read through our pid. */
struct fake_type {
	uint64_t refcnt, type, size;
	uint64_t name_ptr;               /* tp_name @24 */
	uint8_t pad[168 - 32];
	uint64_t flags;                  /* tp_flags @168 */
	uint8_t pad2[400 - 176];
};

static struct fake_type t_str, t_int, t_bool, t_none, t_float, t_bytes, t_list, t_tuple,
	t_dict, t_widget;

static void mktype(struct fake_type *t, const char *name, uint64_t flags)
{
	memset(t, 0, sizeof(*t));
	t->refcnt = 1;
	t->name_ptr = (uint64_t)(uintptr_t)name;
	t->flags = flags;
}

struct obj {
	uint64_t words[64];
};

static uint64_t A(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static void hdr(struct obj *o, struct fake_type *t)
{
	memset(o, 0, sizeof(*o));
	o->words[0] = 1;
	o->words[1] = A(t);
}

/* compact ASCII str: length@16, state@32, data@40 */
static void mkstr(struct obj *o, const char *s)
{
	hdr(o, &t_str);
	o->words[2] = strlen(s);
	o->words[4] = (1u << 2) | (1u << 5) | (1u << 6);
	memcpy(&o->words[5], s, strlen(s) + 1);
}

/* int: lv_tag@16 (ndigits << 3 | sign), digits@24 */
static void mkint(struct obj *o, struct fake_type *t, long v)
{
	uint32_t d[2];
	unsigned long m = (unsigned long)(v < 0 ? -v : v);
	int n = m == 0 ? 0 : m < (1ul << 30) ? 1 : 2;

	hdr(o, t);
	o->words[2] = (uint64_t)n << 3 | (v < 0 ? 2 : v == 0 ? 1 : 0);
	d[0] = (uint32_t)(m & 0x3fffffff);
	d[1] = (uint32_t)(m >> 30);
	memcpy(&o->words[3], d, 8);
}

static void mklist(struct obj *o, struct fake_type *t, uint64_t *items, size_t n)
{
	hdr(o, t);
	o->words[2] = n;
	if (t == &t_list)
		o->words[3] = A(items);
	else
		memcpy(&o->words[3], items, n * 8);
}

static struct pyobj_ctx ctx;

static const char *R(const void *obj, size_t budget, uint32_t *flags)
{
	static char buf[4096];

	ctx.reads = 100000;
	pyrepr_object(&ctx, A(obj), budget, buf, sizeof(buf), flags);
	return buf;
}

static void setup(void)
{
	mktype(&t_str, "str", 1ull << 28);
	mktype(&t_int, "int", 1ull << 24);
	mktype(&t_bool, "bool", 1ull << 24);
	mktype(&t_none, "NoneType", 0);
	mktype(&t_float, "float", 0);
	mktype(&t_bytes, "bytes", 1ull << 27);
	mktype(&t_list, "list", 1ull << 25);
	mktype(&t_tuple, "tuple", 1ull << 26);
	mktype(&t_dict, "dict", 1ull << 29);
	mktype(&t_widget, "app.Widget", 0);
	ctx.pid = getpid();
	ctx.L = layout_for(3, 12, 1);
}

static void test_scalars(void)
{
	static struct obj s, i, big, b0, b1, none, fl, by, w;
	uint32_t fg;
	char want[64];
	double pi = 3.25;

	mkstr(&s, "hello \"you\"");
	CHECK_STR(R(&s, 128, &fg), "\"hello \\\"you\\\"\"");
	CHECK_EQ(fg, 0);
	mkint(&i, &t_int, -123456789012L);
	CHECK_STR(R(&i, 128, &fg), "-123456789012");
	mkint(&big, &t_int, 0);
	big.words[2] = 5u << 3;   /* five digits: > 64 bits */
	CHECK_STR(R(&big, 128, &fg), "+bigint");
	mkint(&b0, &t_bool, 0);
	mkint(&b1, &t_bool, 1);
	CHECK_STR(R(&b0, 128, &fg), "False");
	CHECK_STR(R(&b1, 128, &fg), "True");
	hdr(&none, &t_none);
	CHECK_STR(R(&none, 128, &fg), "None");
	hdr(&fl, &t_float);
	memcpy(&fl.words[2], &pi, 8);
	CHECK_STR(R(&fl, 128, &fg), "3.25");
	hdr(&by, &t_bytes);
	by.words[2] = 3;
	memcpy((char *)&by.words[4], "a\x01z", 4);
	CHECK_STR(R(&by, 128, &fg), "b\"a\\x01z\"");
	hdr(&w, &t_widget);
	snprintf(want, sizeof(want), "<app.Widget at 0x%llx>", (unsigned long long)A(&w));
	CHECK_STR(R(&w, 128, &fg), want);
	/* An address that is not mapped, and one that is not an object. */
	CHECK_STR(R((void *)(uintptr_t)0x10, 128, &fg), "?");
	CHECK(fg & PSF_LF_ERROR);
	{
		static uint64_t junk[8] = { 5, 0x8, 0, 0, 0, 0, 0, 0 };
		CHECK_STR(R(junk, 128, &fg), "?");
		CHECK(fg & PSF_LF_ERROR);
	}
}

static void test_containers(void)
{
	static struct obj a, b, c, l, t1, t2, nested, self, many[40], big;
	static uint64_t items[8], items2[2], selfitems[1], manyitems[40];
	uint32_t fg;
	const char *s;
	size_t k, budget;

	mkint(&a, &t_int, 1);
	mkstr(&b, "two");
	hdr(&c, &t_none);
	items[0] = A(&a);
	items[1] = A(&b);
	items[2] = A(&c);
	mklist(&l, &t_list, items, 3);
	CHECK_STR(R(&l, 128, &fg), "[1, \"two\", None]");
	CHECK_EQ(fg, 0);
	mklist(&t1, &t_tuple, items, 1);
	CHECK_STR(R(&t1, 128, &fg), "(1,)");
	mklist(&t2, &t_tuple, items, 2);
	CHECK_STR(R(&t2, 128, &fg), "(1, \"two\")");
	items2[0] = A(&l);
	items2[1] = A(&t2);
	mklist(&nested, &t_list, items2, 2);
	CHECK_STR(R(&nested, 128, &fg), "[[1, \"two\", None], (1, \"two\")]");
	selfitems[0] = A(&self);
	mklist(&self, &t_list, selfitems, 1);
	CHECK_STR(R(&self, 128, &fg), "[[...]]");
	mklist(&big, &t_list, items, 0);
	CHECK_STR(R(&big, 128, &fg), "[]");
	/* A long list: cut to the budget, ending ", ...]". */
	for (k = 0; k < 40; k++) {
		mkint(&many[k], &t_int, (long)(1000 + k));
		manyitems[k] = A(&many[k]);
	}
	mklist(&big, &t_list, manyitems, 40);
	s = R(&big, 64, &fg);
	CHECK(fg & PSF_LF_TRUNCATED);
	CHECK(strlen(s) <= 64);
	CHECK(strncmp(s, "[1000, 1001, ", 13) == 0);
	CHECK(strcmp(s + strlen(s) - 6, ", ...]") == 0);
	for (budget = 5; budget < 80; budget++) {
		s = R(&big, budget, &fg);
		CHECK(sane(s, budget));
		CHECK(fg & PSF_LF_TRUNCATED);
	}
	/* A long string inside a list is cut, the list closed. */
	{
		static struct obj ls, lst;
		static uint64_t it[1];
		char longs[300];
		memset(longs, 'x', sizeof(longs) - 1);
		longs[sizeof(longs) - 1] = 0;
		mkstr(&ls, "");
		ls.words[2] = strlen(longs);
		memcpy(&ls.words[5], longs, 60);   /* only what fits in struct obj is read */
		it[0] = A(&ls);
		mklist(&lst, &t_list, it, 1);
		s = R(&lst, 40, &fg);
		CHECK(fg & PSF_LF_TRUNCATED);
		CHECK(sane(s, 40));
		CHECK(strncmp(s, "[\"xxx", 5) == 0);
		CHECK(strcmp(s + strlen(s) - 5, "...\"]") == 0);
	}
	/* An unreadable element: '?' in its place, flagged. */
	items[3] = 0x18;
	mklist(&l, &t_list, items, 4);
	CHECK_STR(R(&l, 128, &fg), "[1, \"two\", None, ?]");
	CHECK(fg & PSF_LF_ERROR);
}

/* A 3.12 dict: PyDictKeysObject with unicode keys (kind 1). */
static void test_dict(void)
{
	static struct obj k1, k2, v1, v2, d;
	static uint8_t keys[32 + 8 + 16 * 8];
	static struct obj big;
	uint32_t fg;
	uint64_t e[4];

	mkstr(&k1, "a");
	mkstr(&k2, "b");
	mkint(&v1, &t_int, 1);
	mkstr(&v2, "x");
	memset(keys, 0, sizeof(keys));
	keys[8] = 3;                     /* log2 size: 8 slots */
	keys[9] = 3;                     /* log2 index bytes: 8 */
	keys[10] = 1;                    /* unicode keys: {key, value} */
	e[0] = 2;
	memcpy(keys + 24, e, 8);         /* dk_nentries */
	e[0] = A(&k1);
	e[1] = A(&v1);
	e[2] = A(&k2);
	e[3] = A(&v2);
	memcpy(keys + 32 + 8, e, sizeof(e));
	hdr(&d, &t_dict);
	d.words[2] = 2;                  /* ma_used */
	d.words[4] = A(keys);            /* ma_keys @32 */
	d.words[5] = 0;                  /* ma_values */
	CHECK_STR(R(&d, 128, &fg), "{\"a\": 1, \"b\": \"x\"}");
	CHECK_EQ(fg, 0);
	CHECK_STR(R(&d, 13, &fg), "{\"a\": 1, ...}");
	CHECK(fg & PSF_LF_TRUNCATED);
	CHECK_STR(R(&d, 12, &fg), "{...}");
	CHECK(fg & PSF_LF_TRUNCATED);
	(void)big;
}

int main(void)
{
	setup();
	RUN(test_quote_escapes);
	RUN(test_quote_truncation);
	RUN(test_float);
	RUN(test_digits);
	RUN(test_scalars);
	RUN(test_containers);
	RUN(test_dict);
	return test_status();
}
