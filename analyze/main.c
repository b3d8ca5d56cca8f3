/*
 * main.c - pyspy-analyze: load pyspy captures into SQLite and report on
 * them.  One command per file (cmd_*.c), registered in the table below.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "cmd_chrometrace.h"
#include "cmd_collapsed.h"
#include "cmd_dump.h"
#include "cmd_firefox.h"
#include "cmd_flamegraph.h"
#include "cmd_info.h"
#include "cmd_load.h"
#include "cmd_pprof.h"
#include "cmd_speedscope.h"
#include "cmd_sql.h"
#include "cmd_top.h"
#include "msg.h"
#include "pyspy_format.h"
#include "schema.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"load", cmd_load, "load captures into a database"},
	{"info", cmd_info, "show capture metadata, processes, threads and statistics"},
	{"flamegraph", cmd_flamegraph, "write an interactive flame graph (SVG)"},
	{"speedscope", cmd_speedscope, "write a speedscope profile (JSON)"},
	{"collapsed", cmd_collapsed, "write folded stacks (flamegraph.pl / inferno input)"},
	{"pprof", cmd_pprof, "write a gzipped pprof profile (go tool pprof, Pyroscope, Parca)"},
	{"chrometrace", cmd_chrometrace, "write a Chrome trace timeline (Perfetto, chrome://tracing)"},
	{"firefox", cmd_firefox, "write a Firefox Profiler profile (JSON)"},
	{"top", cmd_top, "show the functions that used the most time"},
	{"dump", cmd_dump, "show the stack of every thread at one moment"},
	{"sql", cmd_sql, "run SQL over the samples"},
	{NULL, NULL, NULL},
};

static void usage(FILE *out)
{
	const struct command *c;

	fprintf(out,
		"Usage: %s COMMAND [OPTIONS] ARGS...\n"
		"       %s --version\n\n"
		"Analyse pyspy capture files: load them into SQLite and render reports.\n\n"
		"Commands:\n",
		MSG_PROG, MSG_PROG);
	for (c = commands; c->name; c++)
		fprintf(out, "  %-12s %s\n", c->name, c->summary);
	fprintf(out, "\nRun '%s COMMAND --help' for the options of a command.\n"
		     "Exit status: 0 success, 1 runtime failure, 2 usage error.\n",
		MSG_PROG);
}

int main(int argc, char **argv)
{
	const struct command *c;

	/*
	 * One thread uses SQLite: no mutexes, no memory statistics (both cost
	 * ~10 % of a load, on every sqlite3_bind and sqlite3_step).
	 */
	sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (argc < 2)
		usage_error("no command given");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("%s %s (format %d.%d, database schema %d)\n", MSG_PROG, PYSPY_VERSION,
		       PSF_FORMAT_MAJOR, PSF_FORMAT_MINOR, SCHEMA_VERSION);
		return EXIT_OK;
	}
	for (c = commands; c->name; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->fn(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		usage_error("unknown option '%s'", argv[1]);
	usage_error("unknown command '%s'", argv[1]);
}
