/*
 * output.h - where the capture goes: a file created for it, a file named
 * with -o, or standard output ('-'), and what becomes of it when the
 * capture never starts.
 *
 * A regular file that this run created is removed again unless
 * output_keep() was called (the capture's header was written): a run that
 * fails before it captured anything leaves no empty file behind.
 */
#ifndef PYSPY_CAPTURE_OUTPUT_H
#define PYSPY_CAPTURE_OUTPUT_H

#include <sys/types.h>

struct output;

/*
 * Open the destination.  name: -o's value ("-" = standard output), or
 * NULL for the default name base-<UTC time>.pyspy in the current
 * directory (never overwriting a file).  Existing files are truncated and
 * narrowed to mode 0600.  0, or -1 after one error line.
 */
int output_open(struct output **out, const char *name, const char *base);

/*
 * Write into fd instead (a pipe to another program, e.g. the text dump);
 * path is what messages call it.  Takes ownership of fd.  0 or -1.
 */
int output_open_fd(struct output **out, int fd, const char *path);

int output_fd(const struct output *o);
const char *output_path(const struct output *o);

/* 1 if fd refers to the same open file or the same file as the output. */
int output_shares(const struct output *o, int fd);

/* The capture was started: keep the file whatever happens next. */
void output_keep(struct output *o);

/*
 * Close (a file this run created and never kept is removed) and free.
 * Returns 0, or -errno of a close(2) that failed (a deferred write
 * error); accepts NULL.
 */
int output_close(struct output *o);

#endif /* PYSPY_CAPTURE_OUTPUT_H */
