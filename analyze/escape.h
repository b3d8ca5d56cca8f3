/*
 * escape.h - escaping text for XML (SVG) and JSON output.
 * Input is UTF-8 (the capture format guarantees it); output is valid in
 * the target syntax whatever the input holds.
 */
#ifndef PYSPY_ANALYZE_ESCAPE_H
#define PYSPY_ANALYZE_ESCAPE_H

#include <stdio.h>

#include "strbuf.h"

/*
 * Append s escaped for XML text and attribute values: & < > " ' become
 * entities; characters XML 1.0 forbids (C0 controls other than tab and
 * newline, U+FFFE, U+FFFF) become U+FFFD.
 */
void xml_escape(struct strbuf *out, const char *s);

/* Append s as a JSON string literal, quotes included; NULL -> null. */
void json_string(struct strbuf *out, const char *s);

/* Same, written to fp. */
void json_fputs(FILE *fp, const char *s);

#endif /* PYSPY_ANALYZE_ESCAPE_H */
