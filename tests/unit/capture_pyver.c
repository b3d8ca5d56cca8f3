/*
 * capture_pyver - CPython version detection without running the target:
 * PY_VERSION_HEX, Py_GetVersion() strings (found in memory images), and
 * file names (launchers, ABI flags, free-threaded "t").
 */
#include <string.h>

#include "python/layout.h"
#include "python/pyver.h"
#include "test.h"

static void test_hex(void)
{
	struct pyver v;
	char buf[32];

	CHECK_EQ(pyver_from_hex(0x030c01f0, &v), 0);
	CHECK_STR(pyver_str(&v, buf, sizeof(buf)), "3.12.1");
	CHECK_EQ(pyver_from_hex(0x030f02f0, &v), 0);
	CHECK_STR(pyver_str(&v, buf, sizeof(buf)), "3.15.2");
	CHECK_EQ(pyver_from_hex(0x030d00c2, &v), 0);
	CHECK_STR(pyver_str(&v, buf, sizeof(buf)), "3.13.0rc2");
	CHECK_EQ(pyver_from_hex(0x030e00a1, &v), 0);
	CHECK_STR(pyver_str(&v, buf, sizeof(buf)), "3.14.0a1");
	CHECK_EQ(pyver_from_hex(0x030c0100, &v), -1);   /* level 0 */
	CHECK_EQ(pyver_from_hex(0x010000f0, &v), -1);
	CHECK_EQ(pyver_from_hex(0x1030c01f0ull, &v), -1);
}

static void test_parse(void)
{
	struct pyver v;
	char buf[32];

	CHECK(pyver_parse("3.9.18 (main, Nov 21 2026) [GCC 12]", 36, &v) > 0);
	CHECK_STR(pyver_str(&v, buf, sizeof(buf)), "3.9.18");
	CHECK(pyver_parse("2.7.18 (default", 15, &v) > 0);
	CHECK_EQ(v.major, 2);
	CHECK(pyver_parse("3.13.0rc1 (main", 15, &v) > 0);
	CHECK_STR(pyver_str(&v, buf, sizeof(buf)), "3.13.0rc1");
	CHECK(pyver_parse("3.14.0a3+ (heads", 16, &v) > 0);
	CHECK_EQ(v.level, 'a');
	CHECK_EQ(pyver_parse("3.12.1", 6, &v), -1);      /* no " (" */
	CHECK_EQ(pyver_parse("3.12 (x", 7, &v), -1);
	CHECK_EQ(pyver_parse("4.0.0 (x", 8, &v), -1);
	CHECK_EQ(pyver_parse("3.123.1 (x", 10, &v), -1);
}

static void test_scan(void)
{
	/* The Py_GetVersion() buffer among other data in .bss. */
	char img[200];
	struct pyver v;
	long at;

	memset(img, 0, sizeof(img));
	memcpy(img + 10, "x3.1.2 (no", 10);               /* not at a string start */
	memcpy(img + 40, "version 3.8.1 (no", 17);
	memcpy(img + 100, "3.8.18 (default, Jan  1 2026) [GCC]", 35);
	at = pyver_scan(img, sizeof(img), &v);
	CHECK_EQ(at, 100);
	CHECK_EQ(v.minor, 8);
	CHECK_EQ(v.micro, 18);
	memset(img, 0, sizeof(img));
	CHECK_EQ(pyver_scan(img, sizeof(img), &v), -1);
}

static void test_filename(void)
{
	struct pyver v;
	int ft;

	CHECK_EQ(pyver_from_filename("/usr/lib/libpython3.12.so.1.0", &v, &ft), 0);
	CHECK(v.major == 3 && v.minor == 12 && v.micro == -1 && !ft);
	CHECK_EQ(pyver_from_filename("libpython3.6m.so.1.0", &v, &ft), 0);
	CHECK_EQ(v.minor, 6);
	CHECK_EQ(pyver_from_filename("/usr/bin/python2.7", &v, &ft), 0);
	CHECK_EQ(v.major, 2);
	CHECK_EQ(pyver_from_filename("/usr/bin/python3.13t", &v, &ft), 0);
	CHECK(ft);
	CHECK_EQ(pyver_from_filename("libpython3.14t.so", &v, &ft), 0);
	CHECK(ft);
	CHECK_EQ(pyver_from_filename("/usr/bin/python3", &v, &ft), -1);
	CHECK_EQ(pyver_from_filename("/usr/bin/python3.x", &v, &ft), -1);
	CHECK_EQ(pyver_from_filename("/usr/bin/perl5.36", &v, &ft), -1);
}

static void test_supported(void)
{
	static const int ok[][2] = { { 2, 7 }, { 3, 6 }, { 3, 7 }, { 3, 11 }, { 3, 15 } };
	static const int no[][2] = { { 2, 6 }, { 3, 5 }, { 3, 16 }, { 4, 0 } };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct pyver v = { ok[i][0], ok[i][1], 0, 'f', 0 };
		CHECK(pyver_supported(&v));
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		struct pyver v = { no[i][0], no[i][1], 0, 'f', 0 };
		CHECK(!pyver_supported(&v));
	}
	/* Every supported minor up to 3.12 has a compiled-in table. */
	CHECK(layout_for(2, 7, 18) != NULL);
	for (i = 6; i <= 12; i++)
		CHECK(layout_for(3, (int)i, 0) != NULL);
	CHECK(layout_for(3, 13, 0) == NULL);
	/* 3.7.0 - 3.7.3 differ from 3.7.4+ in _PyRuntimeState. */
	CHECK_EQ(layout_for(3, 7, 3)->rt_tstate_current, 1392);
	CHECK_EQ(layout_for(3, 7, 4)->rt_tstate_current, 1480);
	CHECK_EQ(layout_for(3, 7, -1)->rt_tstate_current, 1480);
}

/* PY_VERSION in .rodata, possibly the tail of a longer string (issue 9). */
static void test_scan_literal(void)
{
	static const char ro[] = "xx\0/opt/pyenv/versions/3.10.13\0lib/python3.10\0"
				 "13.10.1\0" "3.10.13\0";
	static const char two[] = "\0" "3.10.13\0" "3.10.12\0";
	static const char rc[] = "\0" "3.13.0rc2\0";
	struct pyver v;

	CHECK_EQ(pyver_scan_literal(ro, sizeof(ro), 3, 10, &v), 23);
	CHECK_EQ(v.micro, 13);
	CHECK_EQ(v.level, 'f');
	CHECK_EQ(pyver_scan_literal(ro, sizeof(ro), 3, 9, &v), -1);  /* other minor */
	CHECK_EQ(pyver_scan_literal(ro, sizeof(ro), 2, 10, &v), -1);
	CHECK_EQ(pyver_scan_literal(two, sizeof(two), 3, 10, &v), -1); /* ambiguous */
	CHECK(pyver_scan_literal(rc, sizeof(rc), 3, 13, &v) > 0);
	CHECK_EQ(v.micro, 0);
	CHECK_EQ(v.level, 'c');
	CHECK_EQ(v.serial, 2);
	CHECK_EQ(pyver_scan_literal("3.10", 4, 3, 10, &v), -1);
}

int main(void)
{
	RUN(test_scan_literal);
	RUN(test_hex);
	RUN(test_parse);
	RUN(test_scan);
	RUN(test_filename);
	RUN(test_supported);
	return test_status();
}
