/*
 * test.h - a minimal unit-test harness.  Each test function is run by
 * RUN(); it prints "ok - NAME" or "not ok - NAME # file:line: expr" (the
 * protocol tests/run counts).  main() returns test_status().
 */
#ifndef PYSPY_TESTS_TEST_H
#define PYSPY_TESTS_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failed_;   /* failures in the current test */
static int test_total_failed_;

#define CHECK(expr) do { \
	if (!(expr)) { \
		if (!test_failed_) \
			printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #expr); \
		test_failed_++; \
	} \
} while (0)

#define CHECK_EQ(a, b) do { \
	long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) { \
		if (!test_failed_) \
			printf("#   %s:%d: %s == %lld, expected %s == %lld\n", \
			       __FILE__, __LINE__, #a, a_, #b, b_); \
		test_failed_++; \
	} \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (!a_ || !b_ || strcmp(a_, b_) != 0) { \
		if (!test_failed_) \
			printf("#   %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, \
			       __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
		test_failed_++; \
	} \
} while (0)

#define RUN(fn) do { \
	test_failed_ = 0; \
	fn(); \
	if (test_failed_) { \
		printf("not ok - %s\n", #fn); \
		test_total_failed_++; \
	} else { \
		printf("ok - %s\n", #fn); \
	} \
	fflush(stdout); \
} while (0)

static inline int test_status(void)
{
	return test_total_failed_ ? 1 : 0;
}

#endif /* PYSPY_TESTS_TEST_H */
