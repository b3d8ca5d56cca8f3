/*
 * msg.h - diagnostics of pyspy-analyze: one line on stderr, prefixed with
 * the program name, lowercase, no final period, subject in single quotes.
 *
 *   die()      prints "pyspy-analyze: ..." and exits 1 (runtime failure)
 *   error()    prints "pyspy-analyze: ..." and returns -1
 *   warning()  prints "pyspy-analyze: warning: ..." unless quiet (-q)
 *   note()     prints "pyspy-analyze: ..." unless quiet; for information
 *              such as "already loaded; skipped"
 *   usage_error() prints the message and the "Try --help" line, exits 2
 */
#ifndef PYSPY_ANALYZE_MSG_H
#define PYSPY_ANALYZE_MSG_H

#define MSG_PROG "pyspy-analyze"

/* Exit statuses (docs/pyspy-analyze.1.md, EXIT STATUS). */
#define EXIT_OK 0
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

/* 0 = -q (errors only), 1 = default, 2+ = -v. */
extern int msg_verbosity;

_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Out-of-memory handling: allocation failures end the program with exit 1
 * ("out of memory"), so callers of the x*() functions never see NULL.
 */
void *xmalloc(unsigned long n);
void *xcalloc(unsigned long n, unsigned long size);
void *xrealloc(void *p, unsigned long n);
/* Grow *p (an array of *cap elements of size elem) to hold at least need. */
void xgrow(void **p, unsigned long *cap, unsigned long need, unsigned long elem);
char *xstrdup(const char *s);
char *xstrndup(const char *s, unsigned long n);
/* printf into a new string (caller frees). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* PYSPY_ANALYZE_MSG_H */
