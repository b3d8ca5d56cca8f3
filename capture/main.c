/*
 * pyspy-capture - sample the stacks of a running Python program into a
 * capture file (docs/pyspy-capture.1.md, docs/capture.md).
 *
 *     pyspy-capture [OPTIONS] --pid PID
 *     pyspy-capture [OPTIONS] -- PROGRAM [ARGS...]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "pyspy_format.h"
#include "session.h"
#include "sig.h"

#ifndef PYSPY_VERSION
#define PYSPY_VERSION "0.0.0"
#endif

#define MAX_RATE 100000u

static void usage(void)
{
	fputs("usage: pyspy-capture [OPTIONS] --pid PID\n"
	      "       pyspy-capture [OPTIONS] -- PROGRAM [ARGS...]\n"
	      "       pyspy-capture --dump [--locals] [-s] [-o FILE] --pid PID\n"
	      "\n"
	      "Sample the Python stacks of a running process (or of PROGRAM, which is\n"
	      "started with its standard input and output passed through) into a\n"
	      "compressed capture file for pyspy-analyze.  CPython 2.7 and 3.6 - 3.15.\n"
	      "\n"
	      "  -p, --pid PID          attach to process PID (decimal, or hex with 0x)\n"
	      "  -o, --output FILE      capture file; '-' for standard output (PROGRAM's own\n"
	      "                         output then goes to standard error)\n"
	      "                         (default: <program-or-pid>-<UTC time>.pyspy)\n"
	      "  -r, --rate HZ          samples per second (default 100, at most 100000)\n"
	      "  -d, --duration SECONDS stop after this much wall-clock time\n"
	      "                         (default: until the program exits or SIGINT/SIGTERM)\n"
	      "  -s, --subprocesses     also sample every descendant process that runs Python,\n"
	      "                         including ones started later\n"
	      "      --dump             take one snapshot of every thread, print it as text\n"
	      "                         (py-spy dump's layout) and exit; with -o write it as a\n"
	      "                         capture instead (the Python threads are paused for it\n"
	      "                         unless --nonblocking)\n"
	      "  -l, --locals           with --dump: also record each frame's arguments and\n"
	      "                         local variables (128 bytes each; repeat for more)\n"
	      "      --blocking         pause the Python threads while their stacks are read\n"
	      "      --nonblocking      never pause the program (the default, except --dump)\n"
	      "      --timer MODE       'fixed' intervals (default) or 'exponential' gaps\n"
	      "                         (py-spy's Poisson sampling)\n"
	      "      --print            also print every sample's stacks to standard error\n"
	      "      --force            write the capture to a terminal anyway\n"
	      "  -q, --quiet            print nothing but errors\n"
	      "  -v, --verbose          say more (repeat for debugging detail)\n"
	      "  -h, --help             show this help and exit\n"
	      "  -V, --version          show the version and exit\n"
	      "\n"
	      "A PROGRAM that does not run Python within 10 s of its last exec is left\n"
	      "running and the capture exits 1 (with -s it waits).  A write that fails\n"
	      "(disk full) stops the capture, never the program.\n"
	      "\n"
	      "Read a dump elsewhere with pyspy-analyze:\n"
	      "  pyspy-capture --dump -o - --pid PID | pyspy-analyze dump -\n"
	      "\n"
	      "Exit status: 0 success (also when the program exits on its own),\n"
	      "1 runtime failure, 2 usage error.  See pyspy-capture(1).\n", stdout);
}

enum {
	OPT_BLOCKING = 256, OPT_NONBLOCKING, OPT_TIMER, OPT_PRINT, OPT_FORCE, OPT_DUMP,
};

static const struct option longopts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "output", required_argument, NULL, 'o' },
	{ "rate", required_argument, NULL, 'r' },
	{ "duration", required_argument, NULL, 'd' },
	{ "subprocesses", no_argument, NULL, 's' },
	{ "dump", no_argument, NULL, OPT_DUMP },
	{ "locals", no_argument, NULL, 'l' },
	{ "blocking", no_argument, NULL, OPT_BLOCKING },
	{ "nonblocking", no_argument, NULL, OPT_NONBLOCKING },
	{ "timer", required_argument, NULL, OPT_TIMER },
	{ "print", no_argument, NULL, OPT_PRINT },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	struct session_opts s;
	int nonblocking;
	int force;
	int rate_set, timer_set;
};

static pid_t parse_pid(const char *s)
{
	char *end;
	long v;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	errno = 0;
	v = strtol(s, &end, base);
	if (errno || end == s || *end || v <= 0 || v > 0x3fffffff)
		usage_error("invalid pid '%s'", s);
	return (pid_t)v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->s.rate = 100;
	/* '+': stop at the first non-option, so PROGRAM's options stay its own. */
	opterr = 0;   /* our own messages, with our own prefix */
	while ((c = getopt_long(argc, argv, "+:p:o:r:d:slqvhV", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'p':
			o->s.pid = parse_pid(optarg);
			break;
		case 'o':
			if (!*optarg)
				usage_error("empty output file name");
			o->s.output = optarg;
			break;
		case 'r': {
			unsigned long v;
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || v == 0 || v > MAX_RATE || optarg[0] == '-')
				usage_error("invalid rate '%s' (1 - %u samples per second)", optarg,
					    MAX_RATE);
			o->s.rate = (uint32_t)v;
			o->rate_set = 1;
			break;
		}
		case 'd': {
			double v;
			errno = 0;
			v = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(v > 0) || v > 1e7)
				usage_error("invalid duration '%s' (seconds, e.g. 10 or 0.5)", optarg);
			o->s.duration_ns = (uint64_t)(v * 1e9);
			if (!o->s.duration_ns)
				o->s.duration_ns = 1;
			break;
		}
		case OPT_BLOCKING:
			o->s.blocking = 1;
			break;
		case OPT_NONBLOCKING:
			o->nonblocking = 1;
			break;
		case 's':
			o->s.subprocesses = 1;
			break;
		case OPT_DUMP:
			o->s.dump = 1;
			break;
		case 'l':
			o->s.locals++;
			break;
		case OPT_TIMER:
			o->timer_set = 1;
			if (strcmp(optarg, "fixed") == 0)
				o->s.exponential = 0;
			else if (strcmp(optarg, "exponential") == 0)
				o->s.exponential = 1;
			else
				usage_error("invalid timer '%s' (fixed or exponential)", optarg);
			break;
		case OPT_PRINT:
			o->s.print = 1;
			break;
		case OPT_FORCE:
			o->force = 1;
			break;
		case 'q':
			msg_level = 0;
			break;
		case 'v':
			if (msg_level < 1)
				msg_level = 1;
			msg_level++;
			break;
		case 'h':
			usage();
			exit(0);
		case 'V':
			printf("pyspy-capture %s (format %d.%d)\n", PYSPY_VERSION, PSF_FORMAT_MAJOR,
			       PSF_FORMAT_MINOR);
			exit(0);
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt && optopt < 256)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		o->s.program = argv + optind;
	if (o->s.blocking && o->nonblocking)
		usage_error("--blocking and --nonblocking exclude each other");
	if (o->s.pid && o->s.program)
		usage_error("give either --pid or a program to run, not both");
	if (!o->s.pid && !o->s.program)
		usage_error("no target: give --pid PID or -- PROGRAM [ARGS...]");
	if (o->s.dump) {
		if (o->s.program)
			usage_error("--dump reads a running process: give --pid PID, not a program");
		if (o->rate_set || o->s.duration_ns || o->timer_set)
			usage_error("--dump takes one snapshot: --rate, --duration and --timer do not apply");
	}
	if (o->s.locals && !o->s.dump)
		usage_error("--locals needs --dump (local variables are read from one snapshot)");
	if (o->s.locals > 512)
		o->s.locals = 512;
	/* --dump pauses the Python threads for its one read by default. */
	if (o->s.dump && !o->nonblocking)
		o->s.blocking = 1;
	if (o->s.output && strcmp(o->s.output, "-") == 0 && !o->force && isatty(1)) {
		if (o->s.dump)
			usage_error("refusing to write a binary capture to a terminal; without -o "
				    "the dump is printed as text: pyspy-capture --dump --pid %d "
				    "(or -o FILE, --force)", (int)o->s.pid);
		usage_error("refusing to write a binary capture to a terminal "
			    "(use -o FILE, redirect, or --force)");
	}
	o->s.argc = argc;
	o->s.argv = argv;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct session *s = NULL;
	int ret;

	parse_args(argc, argv, &o);
	sig_install();
	ret = session_start(&s, &o.s);
	if (ret == 0)
		session_sample(s);
	return session_end(s, ret);
}

