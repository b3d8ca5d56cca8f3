/*
 * output.c - the capture's destination (see output.h).
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"

struct output {
	int fd;
	int own_fd;              /* close it at the end */
	int created;             /* we created this regular file */
	int kept;                /* it holds a capture: never remove it */
	char path[4096];
};

static struct output *output_new(void)
{
	struct output *o = calloc(1, sizeof(*o));

	if (o)
		o->fd = -1;
	return o;
}

/* The default name: base-<UTC time>.pyspy, -1, -2... if it exists. */
static int open_default(struct output *o, const char *base)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int i;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(o->path, sizeof(o->path), "%.32s-%s.pyspy", base, stamp);
		else
			snprintf(o->path, sizeof(o->path), "%.32s-%s-%d.pyspy", base, stamp, i);
		o->fd = open(o->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (o->fd >= 0) {
			o->created = 1;
			return 0;
		}
		if (errno != EEXIST)
			return error("cannot create '%s': %s", o->path, strerror(errno));
	}
	return error("cannot create '%s': %s", o->path, strerror(EEXIST));
}

int output_open(struct output **out, const char *name, const char *base)
{
	struct output *o = output_new();
	struct stat st;
	int existed;

	*out = o;
	if (!o)
		return error("cannot start: %s", strerror(ENOMEM));
	if (name && strcmp(name, "-") == 0) {
		o->fd = 1;
		snprintf(o->path, sizeof(o->path), "<stdout>");
		return 0;
	}
	o->own_fd = 1;
	if (!name)
		return open_default(o, base);
	existed = stat(name, &st) == 0;
	snprintf(o->path, sizeof(o->path), "%s", name);
	o->fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (o->fd < 0)
		return error("cannot create '%s': %s", name, strerror(errno));
	o->created = !existed;
	if (fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
		fchmod(o->fd, 0600);   /* stacks can reveal what a service does */
	return 0;
}

int output_open_fd(struct output **out, int fd, const char *path)
{
	struct output *o = output_new();

	*out = o;
	if (!o) {
		close(fd);
		return error("cannot start: %s", strerror(ENOMEM));
	}
	o->fd = fd;
	o->own_fd = 1;
	snprintf(o->path, sizeof(o->path), "%s", path);
	return 0;
}

int output_fd(const struct output *o)
{
	return o ? o->fd : -1;
}

const char *output_path(const struct output *o)
{
	return o ? o->path : "";
}

int output_shares(const struct output *o, int fd)
{
	struct stat a, b;

	if (!o || o->fd < 0)
		return 0;
	if (o->fd == fd)
		return 1;
	if (fstat(o->fd, &a) < 0 || fstat(fd, &b) < 0)
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

void output_keep(struct output *o)
{
	if (o)
		o->kept = 1;
}

int output_close(struct output *o)
{
	int ret = 0;

	if (!o)
		return 0;
	if (o->own_fd && o->fd >= 0 && close(o->fd) < 0 && errno != EINTR)
		ret = -errno;
	if (o->created && !o->kept)
		unlink(o->path);
	free(o);
	return ret;
}
