/*
 * analyze_text.c - unit tests of output text helpers: XML and JSON
 * escaping, number, percentage and time formatting, strbuf, hash tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "fmt.h"
#include "hashmap.h"
#include "strbuf.h"
#include "test.h"

static char out[4096];

static const char *xml(const char *s)
{
	struct strbuf sb;

	strbuf_init(&sb);
	xml_escape(&sb, s);
	snprintf(out, sizeof(out), "%s", sb.buf);
	strbuf_release(&sb);
	return out;
}

static const char *json(const char *s)
{
	struct strbuf sb;

	strbuf_init(&sb);
	json_string(&sb, s);
	snprintf(out, sizeof(out), "%s", sb.buf);
	strbuf_release(&sb);
	return out;
}

static void xml_escaping(void)
{
	CHECK_STR(xml("plain"), "plain");
	CHECK_STR(xml("<module> (a&b.py:1)"), "&lt;module&gt; (a&amp;b.py:1)");
	CHECK_STR(xml("\"q\" 'a'"), "&quot;q&quot; &apos;a&apos;");
	/* characters XML 1.0 forbids become U+FFFD */
	CHECK_STR(xml("a\x01" "b"), "a\xef\xbf\xbd" "b");
	CHECK_STR(xml("x\xef\xbf\xbey"), "x\xef\xbf\xbdy");
	CHECK_STR(xml("x\xef\xbf\xbfy"), "x\xef\xbf\xbdy");
	/* allowed: tab, newline, other non-ASCII */
	CHECK_STR(xml("t\tn\n\xe5\x87\xbd"), "t\tn\n\xe5\x87\xbd");
	CHECK_STR(xml("\xef\xbf\xbd"), "\xef\xbf\xbd");
	CHECK_STR(xml(""), "");
}

static void json_escaping(void)
{
	CHECK_STR(json("a"), "\"a\"");
	CHECK_STR(json(NULL), "null");
	CHECK_STR(json("q\"b\\s"), "\"q\\\"b\\\\s\"");
	CHECK_STR(json("n\nr\rt\t"), "\"n\\nr\\rt\\t\"");
	CHECK_STR(json("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"");
	CHECK_STR(json("\xf0\xa0\x80\x8b"), "\"\xf0\xa0\x80\x8b\"");
	CHECK_STR(json("</script>"), "\"</script>\"");
}

static void numbers(void)
{
	char b[64];

	CHECK_STR(fmt_count(b, sizeof(b), 0), "0");
	CHECK_STR(fmt_count(b, sizeof(b), 999), "999");
	CHECK_STR(fmt_count(b, sizeof(b), 1000), "1,000");
	CHECK_STR(fmt_count(b, sizeof(b), 2893), "2,893");
	CHECK_STR(fmt_count(b, sizeof(b), 1234567), "1,234,567");
	CHECK_STR(fmt_count(b, sizeof(b), 18446744073709551615ull), "18,446,744,073,709,551,615");
	CHECK_STR(fmt_count(b, 4, 1234567), "1,2");
	CHECK_STR(fmt_pct(b, sizeof(b), 1, 3), "33.33");
	CHECK_STR(fmt_pct(b, sizeof(b), 2, 3), "66.67");
	CHECK_STR(fmt_pct(b, sizeof(b), 5, 0), "0.00");
	CHECK_STR(fmt_pct(b, sizeof(b), 7, 7), "100.00");
	CHECK_STR(fmt_secs(b, sizeof(b), 12345678901ull), "12.345");
	CHECK_STR(fmt_secs(b, sizeof(b), 999999), "0.000");
	CHECK_STR(fmt_wall(b, sizeof(b), 0), "1970-01-01 00:00:00.000 UTC");
	CHECK_STR(fmt_wall(b, sizeof(b), 1714564800123456789ull), "2024-05-01 12:00:00.123 UTC");
	CHECK_STR(fmt_dur(b, sizeof(b), 850), "850 ns");
	CHECK_STR(fmt_dur(b, sizeof(b), 58000), "58 us");
	CHECK_STR(fmt_dur(b, sizeof(b), 1250000), "1.25 ms");
	CHECK_STR(fmt_dur(b, sizeof(b), 3.4e9), "3.40 s");
}

static void strbufs(void)
{
	struct strbuf sb;
	char *p;

	strbuf_init(&sb);
	CHECK_STR(sb.buf, "");
	strbuf_adds(&sb, "ab");
	strbuf_addc(&sb, 'c');
	strbuf_addf(&sb, "%d-%s", 42, "x");
	CHECK_STR(sb.buf, "abc42-x");
	CHECK_EQ(sb.len, 7);
	strbuf_setlen(&sb, 2);
	CHECK_STR(sb.buf, "ab");
	strbuf_setlen(&sb, 99); /* never grows */
	CHECK_EQ(sb.len, 2);
	p = strbuf_detach(&sb);
	CHECK_STR(p, "ab");
	CHECK_STR(sb.buf, "");
	free(p);
	strbuf_release(&sb);
	strbuf_release(NULL);
}

static int eq_str(const void *ctx, uint32_t id, const void *key)
{
	const char *const *tab = ctx;

	return strcmp(tab[id], key) == 0;
}

static void hash_tables(void)
{
	struct u64map m;
	struct idset s;
	static const char *tab[] = {NULL, "alpha", "beta", "gamma"};
	uint64_t v = 0, i;
	int created;

	u64map_init(&m);
	CHECK(!u64map_get(&m, 5, &v));
	for (i = 0; i < 10000; i++)
		u64map_put(&m, i * 7919, i);
	CHECK_EQ(m.n, 10000);
	CHECK(u64map_get(&m, 7919 * 1234, &v));
	CHECK_EQ(v, 1234);
	CHECK(!u64map_get(&m, 1, &v));
	(*u64map_slot(&m, 42, &created))++;
	CHECK_EQ(created, 1);
	(*u64map_slot(&m, 42, &created))++;
	CHECK_EQ(created, 0);
	CHECK(u64map_get(&m, 42, &v));
	CHECK_EQ(v, 2);
	u64map_release(&m);
	u64map_release(NULL);

	idset_init(&s);
	for (i = 1; i <= 3; i++)
		idset_add(&s, hash_bytes(tab[i], strlen(tab[i])), (uint32_t)i);
	CHECK_EQ(idset_find(&s, hash_bytes("beta", 4), eq_str, tab, "beta"), 2);
	CHECK_EQ(idset_find(&s, hash_bytes("delta", 5), eq_str, tab, "delta"), 0);
	idset_release(&s);
	CHECK(hash_bytes("a", 1) != hash_bytes("b", 1));
	CHECK(hash_bytes("", 0) == hash_bytes("", 0));
}

int main(void)
{
	RUN(xml_escaping);
	RUN(json_escaping);
	RUN(numbers);
	RUN(strbufs);
	RUN(hash_tables);
	return test_status();
}
