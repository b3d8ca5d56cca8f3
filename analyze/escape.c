/*
 * escape.c - XML and JSON escaping (escape.h).
 */
#include "escape.h"

#include <string.h>

void xml_escape(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		switch (*p) {
		case '&':
			strbuf_adds(out, "&amp;");
			break;
		case '<':
			strbuf_adds(out, "&lt;");
			break;
		case '>':
			strbuf_adds(out, "&gt;");
			break;
		case '"':
			strbuf_adds(out, "&quot;");
			break;
		case '\'':
			strbuf_adds(out, "&apos;");
			break;
		default:
			if ((*p < 0x20 && *p != '\t' && *p != '\n') ||
			    (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf))) {
				strbuf_adds(out, "\xef\xbf\xbd");
				if (*p >= 0x20)
					p += 2;
			} else {
				strbuf_addc(out, (char)*p);
			}
		}
	}
}

void json_string(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		strbuf_adds(out, "null");
		return;
	}
	strbuf_addc(out, '"');
	for (; *p; p++) {
		switch (*p) {
		case '"':
			strbuf_adds(out, "\\\"");
			break;
		case '\\':
			strbuf_adds(out, "\\\\");
			break;
		case '\n':
			strbuf_adds(out, "\\n");
			break;
		case '\r':
			strbuf_adds(out, "\\r");
			break;
		case '\t':
			strbuf_adds(out, "\\t");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				strbuf_addf(out, "\\u%04x", *p);
			else
				strbuf_addc(out, (char)*p);
		}
	}
	strbuf_addc(out, '"');
}

void json_fputs(FILE *fp, const char *s)
{
	struct strbuf sb;

	strbuf_init(&sb);
	json_string(&sb, s);
	fwrite(sb.buf, 1, sb.len, fp);
	strbuf_release(&sb);
}
