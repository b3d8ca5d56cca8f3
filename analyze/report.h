/*
 * report.h - what every report command shares: option parsing (FILTERS,
 * -o, general options, --help), opening the SOURCEs as one database,
 * reading the model and applying the selection.
 */
#ifndef PYSPY_ANALYZE_REPORT_H
#define PYSPY_ANALYZE_REPORT_H

#include <sqlite3.h>

#include "cli.h"
#include "filter.h"
#include "model.h"

struct report {
	struct filter f;
	const char *output;      /* -o FILE, NULL = standard output */
	char **sources;          /* borrowed from argv */
	int nsources;
	sqlite3 *db;
	struct model *m;
	int nthreads;            /* selected threads */
};

/* Handles a command's own option; returns 1 if it was one. */
typedef int (*report_opt_fn)(void *ctx, int code, const char *arg);

/*
 * Parse argv with the given option tables (NULL-padded to 4).  -h prints
 * the help built from synopsis, description and the tables, and exits 0;
 * a missing SOURCE is a usage error.
 */
void report_parse(struct report *r, int argc, char **argv, const struct cli_opt *const *tables,
		  const char *synopsis, const char *description, report_opt_fn fn, void *ctx);

/* The -o option entry for the tables. */
extern const struct cli_opt report_output_opts[];

/* Open the sources, load the model, select.  -1 after an error. */
int report_open(struct report *r);
void report_close(struct report *r);

/*
 * A title naming the selected captures, e.g. "python3 app.py (pid 4242)
 * on web1" or "3 captures: web1, web2, web3"; caller frees.
 */
char *report_title(const struct model *m);

#endif /* PYSPY_ANALYZE_REPORT_H */
