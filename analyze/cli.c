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

/*
 * Print a description filled to 79 columns: lines are joined into
 * paragraphs (a blank line separates paragraphs); a line starting with two
 * blanks is printed as it is (an example command).
 */
static void text_wrap(FILE *out, const char *t)
{
	int col = 0;

	while (*t) {
		size_t n;

		if (*t == '\n' && t[1] == '\n') {
			/* paragraph break */
			fputs(col ? "\n\n" : "\n", out);
			col = 0;
			t += 2;
			continue;
		}
		if (*t == '\n' && t[1] == ' ' && t[2] == ' ') {
			/* a preformatted line */
			if (col)
				fputc('\n', out);
			col = 0;
			t++;
			n = strcspn(t, "\n");
			fprintf(out, "%.*s\n", (int)n, t);
			t += n;
			continue;
		}
		if (*t == '\n') {
			t++;
			continue;
		}
		if (*t == ' ') {
			t++;
			continue;
		}
		n = strcspn(t, " \n");
		if (col > 0 && col + 1 + (int)n > 79) {
			fputc('\n', out);
			col = 0;
		} else if (col > 0) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", (int)n, t);
		col += (int)n;
		t += n;
	}
	if (col)
		fputc('\n', out);
}

/* Print an option's help in the column from 28 to 79, wrapping at blanks. */
static void help_wrap(FILE *out, const char *h)
{
	const int width = 79 - 28;
	int col = 0;

	while (*h) {
		size_t n = strcspn(h, " ");

		if (col > 0 && col + 1 + (int)n > width) {
			fprintf(out, "\n%28s", "");
			col = 0;
		} else if (col > 0) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", (int)n, h);
		col += (int)n;
		h += n;
		while (*h == ' ')
			h++;
	}
	fputc('\n', out);
}

void cli_help(FILE *out, const char *synopsis, const char *description,
	      const struct cli_opt *const *tables)
{
	int t;

	fprintf(out, "Usage: %s %s\n\n", MSG_PROG, synopsis);
	text_wrap(out, description);
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
				fprintf(out, "  %s\n  %-24s  ", left, "");
			else
				fprintf(out, "  %-24s  ", left);
			help_wrap(out, o->help);
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
