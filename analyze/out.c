/*
 * out.c - report output with atomic replacement (out.h).
 */
#include "out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"

void out_refuse_tty(const char *path, const char *what, const char *example)
{
	if ((!path || strcmp(path, "-") == 0) && isatty(1))
		usage_error("refusing to write %s to a terminal (use -o FILE, e.g. -o %s, or redirect "
			    "standard output)",
			    what, example);
}

int out_open(struct out *o, const char *path)
{
	struct stat st;
	mode_t um;
	int fd;

	memset(o, 0, sizeof(*o));
	if (!path || strcmp(path, "-") == 0) {
		o->fp = stdout;
		return 0;
	}
	o->path = xstrdup(path);
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode)) {
			error("cannot create '%s': %s", path, strerror(EISDIR));
			goto fail;
		}
		o->fp = fopen(path, "w");
		if (!o->fp) {
			error("cannot create '%s': %s", path, strerror(errno));
			goto fail;
		}
		return 0;
	}
	o->tmp = xasprintf("%s.tmp.XXXXXX", path);
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		error("cannot create '%s': %s", path, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		goto fail;
	}
	um = umask(0);
	umask(um);
	if (fchmod(fd, 0666 & ~um) < 0) {
		/* keep the 0600 of mkstemp; not worth failing the report */
	}
	o->fp = fdopen(fd, "w");
	if (!o->fp) {
		error("cannot create '%s': %s", path, strerror(errno));
		close(fd);
		goto fail;
	}
	return 0;
fail:
	out_abort(o);
	return -1;
}

int out_close(struct out *o)
{
	int bad;

	if (!o->fp)
		return -1;
	bad = fflush(o->fp) != 0 || ferror(o->fp);
	if (o->fp == stdout) {
		o->fp = NULL;
		if (bad)
			return error("cannot write standard output: %s", strerror(errno));
		return 0;
	}
	if (fclose(o->fp) != 0)
		bad = 1;
	o->fp = NULL;
	if (bad) {
		error("cannot write '%s': %s", o->path, strerror(errno ? errno : EIO));
		out_abort(o);
		return -1;
	}
	if (o->tmp && rename(o->tmp, o->path) < 0) {
		error("cannot create '%s': %s", o->path, strerror(errno));
		out_abort(o);
		return -1;
	}
	free(o->tmp);
	o->tmp = NULL;
	free(o->path);
	o->path = NULL;
	return 0;
}

void out_abort(struct out *o)
{
	if (o->fp && o->fp != stdout)
		fclose(o->fp);
	o->fp = NULL;
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	o->tmp = NULL;
	o->path = NULL;
}
