/*
 * msg.c - the one place pyspy-capture prints diagnostics (see msg.h).
 */
#include "msg.h"

#include <stdio.h>
#include <stdlib.h>

int msg_level = 1;

static void vmsg(const char *kind, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void vmsg(const char *kind, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	/* One write per line so concurrent writers do not interleave. */
	n = snprintf(line, sizeof(line), "%s%s", MSG_PREFIX, kind);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	exit(1);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	if (msg_level < 1)
		return;
	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void note(int level, const char *fmt, ...)
{
	va_list ap;

	if (msg_level < level)
		return;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	fputs("Try 'pyspy-capture --help' for more information.\n", stderr);
	exit(2);
}
