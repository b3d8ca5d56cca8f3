/*
 * cmd_load.c - load captures into a database (docs/pyspy-analyze.1.md,
 * "load").  Each capture is loaded in its own transaction; a capture that
 * fails leaves the database as it was and the others are still loaded
 * (exit status 1 at the end).
 */
#include "cmd_load.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "fmt.h"
#include "loader.h"
#include "msg.h"
#include "source.h"

#define LOAD_DEFAULT_DB "pyspy.db"

static const struct cli_opt load_opts[] = {
	{"", CLI_HEADING, NULL, "Options:"},
	{"database", 'd', "DB", "the database to load into (default: " LOAD_DEFAULT_DB
				"; created if missing)"},
	CLI_END,
};

static const char load_synopsis[] = "load [-d DB] CAPTURE...";
static const char load_description[] =
	"Load capture files (or '-' for standard input) into a SQLite database, one\n"
	"transaction per capture.  A capture already in the database is skipped; a longer\n"
	"copy of a capture that was loaded while still being written replaces it.  A\n"
	"truncated capture is loaded up to where it ends, with a warning; a damaged chunk\n"
	"is skipped, with a warning naming it and the samples lost.  With\n"
	"-d DB and no CAPTURE, an existing DB is upgraded to the current schema.";

int cmd_load(int argc, char **argv)
{
	const struct cli_opt *const tables[4] = {load_opts, cli_common_opts, NULL, NULL};
	const char *dbpath = LOAD_DEFAULT_DB;
	sqlite3 *db = NULL;
	struct loader *l = NULL;
	int c, i, failed = 0, stdin_used = 0, db_given = 0;

	while ((c = cli_next(argc, argv, tables)) != -1) {
		if (c == 'h') {
			cli_help(stdout, load_synopsis, load_description, tables);
			return EXIT_OK;
		}
		if (c == 'd') {
			dbpath = optarg;
			db_given = 1;
			continue;
		}
		if (!cli_common(c))
			usage_error("option '%s' is not valid here", argv[optind - 1]);
	}
	/* "load -d DB" alone upgrades an existing DB's schema (db_open_write). */
	if (optind >= argc && (!db_given || access(dbpath, F_OK) != 0))
		usage_error("no CAPTURE given");
	for (i = optind; i < argc; i++)
		if (strcmp(argv[i], "-") == 0 && stdin_used++)
			usage_error("standard input ('-') can be given only once");

	/* Refuse to treat a capture as the database (swapped arguments). */
	if (access(dbpath, F_OK) == 0 && source_sniff(dbpath) == SOURCE_CAPTURE &&
	    strcmp(dbpath, "-") != 0) {
		error("'%s' is a pyspy capture, not a database (usage: %s %s)", dbpath, MSG_PROG,
		      load_synopsis);
		return EXIT_RUNTIME;
	}
	if (db_open_write(&db, dbpath) < 0)
		return EXIT_RUNTIME;
	l = loader_new(db);
	if (!l) {
		db_close(db);
		return EXIT_RUNTIME;
	}
	for (i = optind; i < argc; i++) {
		const char *name = argv[i];
		struct load_result res;
		int fd = 0, kind = source_sniff(name);

		if (kind < 0) {
			failed = 1;
			continue;
		}
		if (kind == SOURCE_DATABASE) {
			error("'%s' is a database, not a capture", name);
			failed = 1;
			continue;
		}
		if (strcmp(name, "-") != 0) {
			fd = open(name, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				error("cannot open '%s': %s", name, strerror(errno));
				failed = 1;
				continue;
			}
		}
		if (loader_load(l, fd, name, &res) < 0) {
			failed = 1;
		} else if (res.outcome != LOAD_SKIPPED && msg_verbosity >= 1 && isatty(2)) {
			char num[32];

			fprintf(stderr, "%s: %s '%s' into '%s': %s samples in %.1f s\n", MSG_PROG,
				res.outcome == LOAD_REPLACED ? "reloaded" : "loaded",
				loader_display_name(name), dbpath, fmt_count(num, sizeof(num), res.samples),
				res.seconds);
		}
		if (fd > 0)
			close(fd);
	}
	loader_free(l);
	if (sqlite3_close(db) != SQLITE_OK) {
		error("cannot close database '%s': %s", dbpath, sqlite3_errmsg(db));
		sqlite3_close_v2(db);
		failed = 1;
	}
	return failed ? EXIT_RUNTIME : EXIT_OK;
}
