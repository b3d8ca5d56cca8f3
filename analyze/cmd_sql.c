/*
 * cmd_sql.c - run SQL statements over a database or captures
 * (docs/pyspy-analyze.1.md, "sql"; tables and views: docs/schema.md).
 * A database SOURCE is opened read-only.
 */
#include "cmd_sql.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "escape.h"
#include "msg.h"
#include "out.h"
#include "source.h"
#include "strbuf.h"

enum sql_mode { SQL_TSV, SQL_CSV, SQL_JSON };

static const struct cli_opt sql_opts[] = {
	{"", CLI_HEADING, NULL, "SQL:"},
	{"execute", 'e', "SQL", "run these statements (repeatable; default: the last argument)"},
	{"file", 'f', "FILE", "run the statements in FILE"},
	{"csv", CLI_CSV, NULL, "write CSV (RFC 4180) instead of tab-separated values"},
	{"json", CLI_JSON, NULL, "write each result as a JSON array of objects"},
	{"no-header", CLI_NO_HEADER, NULL, "no header line of column names"},
	{"output", 'o', "FILE", "write to FILE instead of standard output"},
	CLI_END,
};

static void put_tsv(FILE *fp, const char *s)
{
	for (; *s; s++) {
		if (*s == '\t')
			fputs("\\t", fp);
		else if (*s == '\n')
			fputs("\\n", fp);
		else if (*s == '\r')
			fputs("\\r", fp);
		else if (*s == '\\')
			fputs("\\\\", fp);
		else
			fputc(*s, fp);
	}
}

static void put_csv(FILE *fp, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

static void put_value(FILE *fp, sqlite3_stmt *st, int i, enum sql_mode mode)
{
	int type = sqlite3_column_type(st, i);
	const char *s;

	if (type == SQLITE_NULL) {
		if (mode == SQL_JSON)
			fputs("null", fp);
		return;
	}
	if (type == SQLITE_INTEGER) {
		fprintf(fp, "%lld", (long long)sqlite3_column_int64(st, i));
		return;
	}
	if (type == SQLITE_FLOAT) {
		/* SQLite's own text form (as the sqlite3 shell prints it: 1.0, 24.88) */
		fputs((const char *)sqlite3_column_text(st, i), fp);
		return;
	}
	if (type == SQLITE_BLOB && mode == SQL_JSON) {
		fputs("null", fp);
		return;
	}
	s = (const char *)sqlite3_column_text(st, i);
	if (!s)
		s = "";
	if (mode == SQL_JSON)
		json_fputs(fp, s);
	else if (mode == SQL_CSV)
		put_csv(fp, s);
	else
		put_tsv(fp, s);
}

/* Run every statement of sql; -1 after an error. */
static int run_sql(sqlite3 *db, const char *sql, FILE *fp, enum sql_mode mode, int header,
		   int *results)
{
	const char *tail = sql;

	while (tail && *tail) {
		sqlite3_stmt *st = NULL;
		const char *next;
		int rc, ncol, i, rows = 0;

		if (sqlite3_prepare_v2(db, tail, -1, &st, &next) != SQLITE_OK)
			return error("SQL error: %s", sqlite3_errmsg(db));
		tail = next;
		if (!st)
			continue; /* whitespace or a comment */
		ncol = sqlite3_column_count(st);
		if (ncol && (*results)++ && mode != SQL_JSON)
			fputc('\n', fp);
		if (ncol && mode == SQL_JSON)
			fputs("[", fp);
		if (ncol && header && mode != SQL_JSON) {
			for (i = 0; i < ncol; i++) {
				if (i)
					fputc(mode == SQL_CSV ? ',' : '\t', fp);
				if (mode == SQL_CSV)
					put_csv(fp, sqlite3_column_name(st, i));
				else
					put_tsv(fp, sqlite3_column_name(st, i));
			}
			fputc('\n', fp);
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (mode == SQL_JSON) {
				fputs(rows ? ",\n {" : "\n {", fp);
				for (i = 0; i < ncol; i++) {
					if (i)
						fputs(", ", fp);
					json_fputs(fp, sqlite3_column_name(st, i));
					fputs(": ", fp);
					put_value(fp, st, i, mode);
				}
				fputc('}', fp);
			} else {
				for (i = 0; i < ncol; i++) {
					if (i)
						fputc(mode == SQL_CSV ? ',' : '\t', fp);
					put_value(fp, st, i, mode);
				}
				fputc('\n', fp);
			}
			rows++;
		}
		if (ncol && mode == SQL_JSON)
			fputs(rows ? "\n]\n" : "]\n", fp);
		if (rc != SQLITE_DONE) {
			error("SQL error: %s", sqlite3_errmsg(db));
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_finalize(st);
	}
	return 0;
}

static char *read_file(const char *path)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct strbuf sb;
	char buf[65536];
	size_t n;

	if (!fp) {
		error("cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	strbuf_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(&sb, buf, n);
	if (ferror(fp)) {
		error("cannot read '%s': %s", path, strerror(errno));
		if (fp != stdin)
			fclose(fp);
		strbuf_release(&sb);
		return NULL;
	}
	if (fp != stdin)
		fclose(fp);
	return strbuf_detach(&sb);
}

static const char sql_synopsis[] = "sql [-e SQL | -f FILE] [--csv|--json] SOURCE... [SQL]";
static const char sql_description[] =
	"Run SQL statements over the samples (tables and views: docs/schema.md) and print\n"
	"each result as tab-separated values with a header line.  Without -e or -f the\n"
	"last argument is the SQL, e.g.\n"
	"  pyspy-analyze sql run.db 'SELECT * FROM thread_summary'\n"
	"A database SOURCE is opened read-only; captures are loaded into a temporary one.";

int cmd_sql(int argc, char **argv)
{
	const struct cli_opt *const tables[4] = {sql_opts, cli_common_opts, NULL, NULL};
	enum sql_mode mode = SQL_TSV;
	struct strbuf sql;
	const char *output = NULL;
	sqlite3 *db = NULL;
	struct out out;
	int c, header = 1, results = 0, given = 0, nsrc, ret = EXIT_RUNTIME;

	strbuf_init(&sql);
	while ((c = cli_next(argc, argv, tables)) != -1) {
		switch (c) {
		case 'h':
			cli_help(stdout, sql_synopsis, sql_description, tables);
			return EXIT_OK;
		case 'e':
			strbuf_addf(&sql, "%s;\n", optarg);
			given = 1;
			break;
		case 'f': {
			char *text = read_file(optarg);

			if (!text)
				return EXIT_RUNTIME;
			strbuf_addf(&sql, "%s\n;\n", text);
			free(text);
			given = 1;
			break;
		}
		case CLI_CSV:
			mode = SQL_CSV;
			break;
		case CLI_JSON:
			mode = SQL_JSON;
			break;
		case CLI_NO_HEADER:
			header = 0;
			break;
		case 'o':
			output = optarg;
			break;
		default:
			if (!cli_common(c))
				usage_error("option '%s' is not valid here", argv[optind - 1]);
		}
	}
	nsrc = argc - optind;
	if (!given) {
		if (nsrc < 2)
			usage_error("no SQL given (use -e SQL, -f FILE, or give it after the SOURCEs)");
		strbuf_adds(&sql, argv[argc - 1]);
		nsrc--;
	}
	if (nsrc < 1)
		usage_error("no SOURCE given (a capture file, '-' or a database)");
	if (out_open(&out, output) < 0)
		goto done;
	if (source_open(&db, argv + optind, nsrc) < 0 ||
	    run_sql(db, sql.buf, out.fp, mode, header, &results) < 0) {
		out_abort(&out);
		goto done;
	}
	if (out_close(&out) == 0)
		ret = EXIT_OK;
done:
	db_close(db);
	strbuf_release(&sql);
	return ret;
}
