/*
 * cli.c - table-driven option parsing and --help (cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "progress.h"

#define CLI_MAX_OPTS 96

const struct cli_opt cli_common_opts[] = {
	{"", CLI_HEADING, NULL, "General options:"},
	{"quiet", 'q', NULL, "no warnings or notes on standard error (errors only)"},
	{"progress", CLI_PROGRESS, NULL, "always show the progress bar while loading captures"},
	{"no-progress", CLI_NO_PROGRESS, NULL, "never show the progress bar"},
	{"help", 'h', NULL, "show this help and exit"},
	CLI_END,
};

int cli_common(int code)
{
	switch (code) {
	case 'q':
		msg_verbosity = 0;
		return 1;
	case CLI_PROGRESS:
		progress_mode = PROGRESS_ALWAYS;
		return 1;
	case CLI_NO_PROGRESS:
		progress_mode = PROGRESS_NEVER;
		return 1;
	default:
		return 0;
	}
}

static const struct cli_opt *const *cli_built_for;
static struct option cli_longopts[CLI_MAX_OPTS + 1];
static char cli_short[2 * CLI_MAX_OPTS + 2];

static void cli_build(const struct cli_opt *const *tables)
{
	int n = 0, s = 0, t;

	cli_short[s++] = ':';
	for (t = 0; t < 4; t++) {
		const struct cli_opt *o;

		if (!tables[t])
			continue;
		for (o = tables[t]; o->name; o++) {
			if (o->code == CLI_HEADING)
				continue;
			if (n >= CLI_MAX_OPTS)
				die("internal error: too many options");
			cli_longopts[n].name = o->name;
			cli_longopts[n].has_arg = o->arg ? required_argument : no_argument;
			cli_longopts[n].flag = NULL;
			cli_longopts[n].val = o->code;
			n++;
			if (o->code < 128) {
				cli_short[s++] = (char)o->code;
				if (o->arg)
					cli_short[s++] = ':';
			}
		}
	}
	memset(&cli_longopts[n], 0, sizeof(cli_longopts[n]));
	cli_short[s] = '\0';
	cli_built_for = tables;
}

int cli_next(int argc, char **argv, const struct cli_opt *const *tables)
{
	int c;

	if (cli_built_for != tables)
		cli_build(tables);
	opterr = 0;
	c = getopt_long(argc, argv, cli_short, cli_longopts, NULL);
	if (c == '?') {
		if (optopt && optopt < 128)
			usage_error("unknown option '-%c'", optopt);
		usage_error("unknown option '%s'", argv[optind - 1]);
	}
	if (c == ':') {
		if (optopt && optopt < 128)
			usage_error("option '-%c' needs an argument", optopt);
		usage_error("option '%s' needs an argument", argv[optind - 1]);
	}
	return c;
}

void cli_help(FILE *out, const char *synopsis, const char *description,
	      const struct cli_opt *const *tables)
{
	int t;

	fprintf(out, "Usage: %s %s\n\n%s\n", MSG_PROG, synopsis, description);
	for (t = 0; t < 4; t++) {
		const struct cli_opt *o;

		if (!tables[t])
			continue;
		for (o = tables[t]; o->name; o++) {
			char left[64];

			if (o->code == CLI_HEADING) {
				fprintf(out, "\n%s\n", o->help);
				continue;
			}
			if (o->code < 128)
				snprintf(left, sizeof(left), "-%c, --%s%s%s", o->code, o->name,
					 o->arg ? " " : "", o->arg ? o->arg : "");
			else
				snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
					 o->arg ? o->arg : "");
			if (strlen(left) > 24)
				fprintf(out, "  %s\n  %-24s  %s\n", left, "", o->help);
			else
				fprintf(out, "  %-24s  %s\n", left, o->help);
		}
	}
}

double cli_seconds(const char *opt, const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0 || v > 1e10)
		usage_error("invalid %s '%s' (want seconds, e.g. 2.5)", opt, arg);
	return v;
}

long cli_long(const char *opt, const char *arg, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 0);
	if (errno || end == arg || *end || v < min || v > max)
		usage_error("invalid %s '%s' (want a number from %ld to %ld)", opt, arg, min, max);
	return v;
}
