/*
 * report.c - shared report plumbing (report.h).
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "db.h"
#include "msg.h"
#include "source.h"
#include "strbuf.h"

const struct cli_opt report_output_opts[] = {
	{"", CLI_HEADING, NULL, "Output:"},
	{"output", 'o', "FILE", "write to FILE instead of standard output"},
	CLI_END,
};

void report_parse(struct report *r, int argc, char **argv, const struct cli_opt *const *tables,
		  const char *synopsis, const char *description, report_opt_fn fn, void *ctx)
{
	int c;

	memset(r, 0, sizeof(*r));
	filter_init(&r->f);
	while ((c = cli_next(argc, argv, tables)) != -1) {
		if (c == 'h') {
			cli_help(stdout, synopsis, description, tables);
			exit(EXIT_OK);
		}
		if (c == 'o') {
			r->output = optarg;
			continue;
		}
		if (cli_common(c) || filter_option(&r->f, c, optarg))
			continue;
		if (fn && fn(ctx, c, optarg))
			continue;
		usage_error("option '%s' is not valid here", argv[optind - 1]);
	}
	if (optind >= argc)
		usage_error("no SOURCE given (a capture file, '-' or a database)");
	r->sources = argv + optind;
	r->nsources = argc - optind;
	for (c = 0; c < r->nsources; c++) {
		int d;

		for (d = c + 1; d < r->nsources; d++)
			if (strcmp(r->sources[c], "-") == 0 && strcmp(r->sources[d], "-") == 0)
				usage_error("standard input ('-') can be given only once");
	}
}

int report_open(struct report *r)
{
	if (source_open(&r->db, r->sources, r->nsources) < 0)
		return -1;
	r->m = model_load(r->db);
	if (!r->m)
		return -1;
	r->nthreads = filter_select(&r->f, r->m);
	if (r->nthreads < 0)
		return -1;
	return 0;
}

void report_close(struct report *r)
{
	model_free(r->m);
	db_close(r->db);
	filter_release(&r->f);
	r->m = NULL;
	r->db = NULL;
}

char *report_title(const struct model *m)
{
	struct strbuf sb;
	int i, n = 0, last = -1;

	strbuf_init(&sb);
	for (i = 0; i < m->ncaptures; i++)
		if (m->captures[i].selected) {
			n++;
			last = i;
		}
	if (n == 1) {
		const struct m_capture *c = &m->captures[last];

		if (c->cmdline && *c->cmdline)
			strbuf_addf(&sb, "%s", c->cmdline);
		else
			strbuf_addf(&sb, "%s", c->file);
		if (c->pid)
			strbuf_addf(&sb, " (pid %lld)", (long long)c->pid);
		if (c->host)
			strbuf_addf(&sb, " on %s", c->host);
	} else if (n == 0) {
		strbuf_adds(&sb, "no captures");
	} else {
		int k = 0;

		strbuf_addf(&sb, "%d captures:", n);
		for (i = 0; i < m->ncaptures; i++) {
			if (!m->captures[i].selected)
				continue;
			if (k++ == 8) {
				strbuf_adds(&sb, " ...");
				break;
			}
			strbuf_addf(&sb, "%s %s", k > 1 ? "," : "",
				    m->captures[i].host ? m->captures[i].host : m->captures[i].file);
		}
	}
	return strbuf_detach(&sb);
}
