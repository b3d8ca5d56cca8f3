/*
 * strbuf.h - growable NUL-terminated byte buffer.
 *
 * Invariant: buf is never NULL after strbuf_init() and always
 * NUL-terminated at len.  Growth beyond STRBUF_MAX ends the program with
 * "out of memory" (a hard cap, so a hostile input cannot make one string
 * grow without bound).
 */
#ifndef PYSPY_ANALYZE_STRBUF_H
#define PYSPY_ANALYZE_STRBUF_H

#include <stddef.h>

#define STRBUF_MAX ((size_t)1 << 30)

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
};

void strbuf_init(struct strbuf *sb);
/* Frees the storage; accepts NULL; leaves sb re-initialisable. */
void strbuf_release(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t n);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addc(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Shorten to n bytes (n <= len). */
void strbuf_setlen(struct strbuf *sb, size_t n);
/* Hand the storage to the caller (caller frees); sb is re-initialised. */
char *strbuf_detach(struct strbuf *sb);

#endif /* PYSPY_ANALYZE_STRBUF_H */
