/*
 * msg.h - diagnostics of pyspy-capture.
 *
 * Every line goes to stderr and starts with "pyspy-capture: "; messages are
 * lowercase, have no final period, quote their subject in single quotes and
 * put errno text last.  msg_level decides what is shown:
 *   0  -q: errors only
 *   1  default: errors, warnings, the summary line
 *   2  -v: progress notes (discovery, attach)
 *   3+ -v -v: debugging detail
 */
#ifndef PYSPY_CAPTURE_MSG_H
#define PYSPY_CAPTURE_MSG_H

#include <stdarg.h>

extern int msg_level;

#define MSG_PREFIX "pyspy-capture: "

/* Print an error and exit with status 1. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print an error; returns -1 so callers can write `return error(...)`. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a warning unless -q. */
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a note when msg_level >= level. */
void note(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print a usage error and the --help hint, exit 2. */
_Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* PYSPY_CAPTURE_MSG_H */
