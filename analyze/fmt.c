/*
 * fmt.c - number and time formatting (fmt.h).
 */
#include "fmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

char *fmt_count(char *buf, size_t cap, uint64_t n)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)n);
	size_t o = 0;
	int i;

	for (i = 0; i < len && o + 1 < cap; i++) {
		if (i > 0 && (len - i) % 3 == 0 && o + 2 < cap)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}

char *fmt_wall(char *buf, size_t cap, uint64_t ns)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;

	if (!gmtime_r(&s, &tm)) {
		snprintf(buf, cap, "?");
		return buf;
	}
	snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d.%03u UTC", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)((ns / 1000000u) % 1000u));
	return buf;
}

char *fmt_secs(char *buf, size_t cap, uint64_t ns)
{
	snprintf(buf, cap, "%llu.%03u", (unsigned long long)(ns / 1000000000u),
		 (unsigned)((ns / 1000000u) % 1000u));
	return buf;
}

char *fmt_pct(char *buf, size_t cap, double part, double whole)
{
	snprintf(buf, cap, "%.2f", whole > 0 ? 100.0 * part / whole : 0.0);
	return buf;
}

char *fmt_dur(char *buf, size_t cap, double ns)
{
	if (ns < 1e3)
		snprintf(buf, cap, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, cap, "%.0f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, cap, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, cap, "%.2f s", ns / 1e9);
	return buf;
}
