/*
 * out.h - where a report goes: standard output, or -o FILE written
 * atomically (a temporary file next to FILE, renamed over it when
 * complete), so a failed report never leaves a half-written file and
 * never destroys the previous one.  Devices and pipes given with -o are
 * written directly.
 */
#ifndef PYSPY_ANALYZE_OUT_H
#define PYSPY_ANALYZE_OUT_H

#include <stdio.h>

struct out {
	FILE *fp;
	char *path;              /* NULL = standard output */
	char *tmp;               /* temporary file to rename, or NULL */
};

/*
 * Open path ("-" or NULL = standard output).  Returns 0 or -1 after
 * printing "cannot create 'FILE': REASON".
 */
int out_open(struct out *o, const char *path);

/*
 * For the commands whose output is large and not for reading (an SVG, a
 * JSON profile): exit 2 with "refusing to write WHAT to a terminal" when
 * path is standard output and that is a terminal, as pyspy-capture does.
 */
void out_refuse_tty(const char *path, const char *what, const char *example);

/* Flush and commit.  Returns 0 or -1 after printing an error. */
int out_close(struct out *o);

/* Give up: remove the temporary file.  Accepts an unopened struct. */
void out_abort(struct out *o);

#endif /* PYSPY_ANALYZE_OUT_H */
