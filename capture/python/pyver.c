/*
 * pyver.c - CPython version numbers (see pyver.h).
 */
#include "python/pyver.h"

#include <stdio.h>
#include <string.h>

int pyver_from_hex(uint64_t hex, struct pyver *v)
{
	unsigned lvl = (unsigned)(hex >> 4) & 0xf;

	memset(v, 0, sizeof(*v));
	if (hex > 0xffffffffu)
		return -1;
	v->major = (int)(hex >> 24) & 0xff;
	v->minor = (int)(hex >> 16) & 0xff;
	v->micro = (int)(hex >> 8) & 0xff;
	v->serial = (int)(hex & 0xf);
	switch (lvl) {
	case 0xa: v->level = 'a'; break;
	case 0xb: v->level = 'b'; break;
	case 0xc: v->level = 'c'; break;
	case 0xf: v->level = 'f'; break;
	default: return -1;
	}
	if (v->major < 2 || v->major > 3 || v->minor > 99)
		return -1;
	return 0;
}

static int num(const char *s, size_t len, size_t *i, int maxdigits)
{
	int n = 0, d = 0;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9' && d < maxdigits) {
		n = n * 10 + (s[*i] - '0');
		(*i)++;
		d++;
	}
	if (d == 0 || (*i < len && s[*i] >= '0' && s[*i] <= '9'))
		return -1;
	return n;
}

/* "X.Y.Z[{a,b,rc}N][+]" at s: the characters used, or -1. */
static int parse_number(const char *s, size_t len, struct pyver *v)
{
	size_t i = 0;
	int x;

	memset(v, 0, sizeof(*v));
	if ((x = num(s, len, &i, 1)) < 2 || x > 3)
		return -1;
	v->major = x;
	if (i >= len || s[i++] != '.')
		return -1;
	if ((x = num(s, len, &i, 2)) < 0)
		return -1;
	v->minor = x;
	if (i >= len || s[i++] != '.')
		return -1;
	if ((x = num(s, len, &i, 2)) < 0)
		return -1;
	v->micro = x;
	v->level = 'f';
	if (i + 1 < len && (s[i] == 'a' || s[i] == 'b')) {
		v->level = s[i++];
		if ((x = num(s, len, &i, 2)) < 0)
			return -1;
		v->serial = x;
	} else if (i + 2 < len && s[i] == 'r' && s[i + 1] == 'c') {
		i += 2;
		v->level = 'c';
		if ((x = num(s, len, &i, 2)) < 0)
			return -1;
		v->serial = x;
	}
	if (i < len && s[i] == '+')
		i++;
	return (int)i;
}

int pyver_parse(const char *s, size_t len, struct pyver *v)
{
	int i = parse_number(s, len, v);

	if (i < 0 || (size_t)i + 1 >= len || s[i] != ' ' || s[i + 1] != '(')
		return -1;
	return i + 2;
}

long pyver_scan_literal(const char *buf, size_t len, int major, int minor, struct pyver *v)
{
	struct pyver cand;
	long found = -1;
	size_t i;

	for (i = 0; i + 5 < len; i++) {
		int n;

		if (buf[i] != (char)('0' + major) || buf[i + 1] != '.')
			continue;
		/* not inside a longer number ("13.10.1") */
		if (i > 0 && ((buf[i - 1] >= '0' && buf[i - 1] <= '9') || buf[i - 1] == '.'))
			continue;
		n = parse_number(buf + i, len - i, &cand);
		if (n < 0 || i + (size_t)n >= len || buf[i + (size_t)n] != '\0' ||
		    cand.major != major || cand.minor != minor)
			continue;
		if (found >= 0 && (cand.micro != v->micro || cand.level != v->level ||
				   cand.serial != v->serial))
			return -1; /* two different versions: trust neither */
		if (found < 0) {
			*v = cand;
			found = (long)i;
		}
	}
	return found;
}

long pyver_scan(const char *buf, size_t len, struct pyver *v)
{
	size_t i;

	for (i = 0; i + 6 < len; i++) {
		if ((buf[i] != '2' && buf[i] != '3') || buf[i + 1] != '.')
			continue;
		/* Must start at a string boundary (NUL before, or buffer start). */
		if (i > 0 && buf[i - 1] != 0)
			continue;
		if (pyver_parse(buf + i, len - i, v) > 0)
			return (long)i;
	}
	return -1;
}

int pyver_from_filename(const char *path, struct pyver *v, int *ft)
{
	const char *base = strrchr(path, '/'), *p;
	size_t i;
	int x;

	memset(v, 0, sizeof(*v));
	*ft = 0;
	base = base ? base + 1 : path;
	if (strncmp(base, "libpython", 9) == 0)
		p = base + 9;
	else if (strncmp(base, "python", 6) == 0)
		p = base + 6;
	else
		return -1;
	i = 0;
	if ((x = num(p, strlen(p), &i, 1)) < 2 || x > 3)
		return -1;
	v->major = x;
	if (p[i] != '.')
		return -1;
	i++;
	if ((x = num(p, strlen(p), &i, 2)) < 0)
		return -1;
	v->minor = x;
	v->micro = -1;
	v->level = 'f';
	/* ABI flags: d (debug), m (pymalloc, <= 3.7), u (wide unicode, 2.x), t. */
	while (p[i] == 'd' || p[i] == 'm' || p[i] == 'u' || p[i] == 't') {
		if (p[i] == 't')
			*ft = 1;
		i++;
	}
	if (p[i] != 0 && p[i] != '.' && p[i] != '-')
		return -1;
	return 0;
}

const char *pyver_str(const struct pyver *v, char *buf, size_t cap)
{
	if (v->micro < 0)
		snprintf(buf, cap, "%d.%d", v->major, v->minor);
	else if (v->level == 'f' || v->level == 0)
		snprintf(buf, cap, "%d.%d.%d", v->major, v->minor, v->micro);
	else
		snprintf(buf, cap, "%d.%d.%d%s%d", v->major, v->minor, v->micro,
			 v->level == 'a' ? "a" : v->level == 'b' ? "b" : "rc", v->serial);
	return buf;
}

int pyver_supported(const struct pyver *v)
{
	if (v->major == 2)
		return v->minor == 7;
	return v->major == 3 && v->minor >= 6 && v->minor <= 15;
}
