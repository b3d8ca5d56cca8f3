/*
 * label.c - frame labels, filename shortening, idle heuristic (label.h).
 */
#include "label.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

int label_idle_leaf(const char *name, const char *file)
{
	if (!name || !file)
		return 0;
	if (strcmp(name, "wait") == 0)
		return ends_with(file, "threading.py");
	if (strcmp(name, "select") == 0)
		return ends_with(file, "selectors.py");
	if (strcmp(name, "poll") == 0)
		return ends_with(file, "asyncore.py") || strstr(file, "zmq") || strstr(file, "gevent") ||
		       strstr(file, "tornado");
	return 0;
}

static int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* py-spy's walk: the length of the prefix to strip, or 0 for none. */
static size_t local_prefix(const char *path)
{
	char buf[4096 + 16];
	size_t dirlen;
	const char *slash = strrchr(path, '/');

	if (!slash || strlen(path) >= 4096)
		return 0;
	dirlen = (size_t)(slash - path);
	for (;;) {
		const char *p;

		memcpy(buf, path, dirlen);
		memcpy(buf + dirlen, "/__init__.py", 13);
		if (dirlen == 0 || !file_exists(buf))
			break;
		/* parent directory */
		for (p = path + dirlen; p > path && p[-1] != '/'; p--)
			;
		if (p == path)
			break;
		dirlen = (size_t)(p - 1 - path);
	}
	return dirlen + 1;
}

static int is_python_dir(const char *c, size_t n)
{
	size_t i = 6;

	if (n < 7 || memcmp(c, "python", 6) != 0 || c[6] < '0' || c[6] > '9')
		return 0;
	while (i < n && ((c[i] >= '0' && c[i] <= '9') || c[i] == '.'))
		i++;
	while (i < n && c[i] >= 'a' && c[i] <= 'z') /* python3.13t, python2.7d */
		i++;
	return i == n;
}

/* Fixed rule: offset of the short name within path. */
static size_t rule_prefix(const char *path)
{
	size_t best = 0, i, n = strlen(path);
	const char *prev = NULL;
	size_t prevlen = 0;

	/* Walk components: [start, end) */
	for (i = 0; i < n;) {
		size_t start, end;

		while (i < n && path[i] == '/')
			i++;
		start = i;
		while (i < n && path[i] != '/')
			i++;
		end = i;
		if (end == start || end >= n)
			break; /* the last component is the file itself */
		if ((end - start == 13 && (memcmp(path + start, "site-packages", 13) == 0 ||
					   memcmp(path + start, "dist-packages", 13) == 0)) ||
		    (prev && ((prevlen == 3 && memcmp(prev, "lib", 3) == 0) ||
			      (prevlen == 5 && memcmp(prev, "lib64", 5) == 0)) &&
		     is_python_dir(path + start, end - start)))
			best = end + 1;
		prev = path + start;
		prevlen = end - start;
	}
	if (best)
		return best;
	{
		const char *slash = strrchr(path, '/');

		return slash ? (size_t)(slash - path) + 1 : 0;
	}
}

void label_short_filename(struct strbuf *out, const char *path, int local_lookup)
{
	size_t cut;

	if (!path || !*path)
		return;
	if (path[0] != '/') {
		strbuf_adds(out, path);
		return;
	}
	if (local_lookup && file_exists(path))
		cut = local_prefix(path);
	else
		cut = rule_prefix(path);
	if (cut >= strlen(path))
		cut = 0;
	strbuf_adds(out, path + cut);
}

void label_clean(struct strbuf *out, const char *s)
{
	size_t start = out->len;
	unsigned char *p;

	strbuf_adds(out, s);
	for (p = (unsigned char *)out->buf + start; *p; p++) {
		if (*p == ';')
			*p = ':';
		else if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
}

void label_frame(struct strbuf *out, const char *name, const char *file, int64_t line)
{
	label_clean(out, name && *name ? name : "?");
	if (file && *file) {
		strbuf_adds(out, " (");
		label_clean(out, file);
		if (line > 0)
			strbuf_addf(out, ":%lld", (long long)line);
		strbuf_addc(out, ')');
	}
}

void label_thread(struct strbuf *out, int64_t tid, uint64_t py_thread_id, const char *name)
{
	if (tid > 0)
		strbuf_addf(out, "thread (%lld)", (long long)tid);
	else
		strbuf_addf(out, "thread (0x%llX)", (unsigned long long)py_thread_id);
	if (name && *name) {
		strbuf_adds(out, ": ");
		label_clean(out, name);
	}
}

void label_process(struct strbuf *out, int64_t pid, const char *cmdline)
{
	strbuf_addf(out, "process %lld:\"", (long long)pid);
	label_clean(out, cmdline ? cmdline : "");
	strbuf_addc(out, '"');
}
