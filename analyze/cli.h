/*
 * cli.h - option tables for the subcommands.
 *
 * Each command describes its options once, as an array of struct cli_opt;
 * the same table drives getopt_long() and the --help text, so --help
 * always lists every option.  Option codes are the short option letter,
 * or one of the CLI_* values below for long-only options.
 */
#ifndef PYSPY_ANALYZE_CLI_H
#define PYSPY_ANALYZE_CLI_H

#include <stdio.h>

enum cli_code {
	CLI_HEADING = 1,         /* not an option: a heading in --help */
	CLI_PID = 256,
	CLI_TID,
	CLI_THREAD,
	CLI_CAPTURE,
	CLI_FROM,
	CLI_TO,
	CLI_NOLINENO,
	CLI_PROCESSES,
	CLI_NO_PROCESSES,
	CLI_FULL_FILENAMES,
	CLI_QUALNAME,
	CLI_PROGRESS,
	CLI_NO_PROGRESS,
	CLI_AT,
	CLI_JSON,
	CLI_BY,
	CLI_SORT,
	CLI_TITLE,
	CLI_WIDTH,
	CLI_MINWIDTH,
	CLI_UPRIGHT,
	CLI_CSV,
	CLI_NO_HEADER,
	CLI_LOCALS,
	CLI_NO_PARTIAL,
	CLI_WINDOW,
	CLI_DIFF,
	CLI_BASE_FROM,
	CLI_BASE_TO,
};

struct cli_opt {
	const char *name;        /* long name without "--"; NULL ends the table */
	int code;                /* short letter, CLI_* code, or CLI_HEADING */
	const char *arg;         /* argument name, NULL if none */
	const char *help;        /* one line; for CLI_HEADING the heading */
};

#define CLI_END {NULL, 0, NULL, NULL}

/*
 * getopt_long() over the concatenation of up to four tables (NULL
 * entries skipped).  Call with the same tables until it returns -1
 * (options end; optind is the first operand).  An unknown option or a
 * missing argument is a usage error (exit 2).  -h/--help is handled by
 * the caller (code 'h').
 */
int cli_next(int argc, char **argv, const struct cli_opt *const *tables);

/*
 * --help text: "Usage: pyspy-analyze SYNOPSIS", the description, then
 * every option of the tables, grouped under their headings.
 */
void cli_help(FILE *out, const char *synopsis, const char *description,
	      const struct cli_opt *const *tables);

/* Options every command has: -h/--help, -q/--quiet, --progress... */
extern const struct cli_opt cli_common_opts[];
/* Handle a common option (1) or not (0). */
int cli_common(int code);

/* Parse helpers: exit 2 with a message naming the option on bad input. */
double cli_seconds(const char *opt, const char *arg);
long cli_long(const char *opt, const char *arg, long min, long max);

#endif /* PYSPY_ANALYZE_CLI_H */
