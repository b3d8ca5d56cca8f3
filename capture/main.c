/*
 * pyspy-capture - sample the stacks of a running Python program into a
 * capture file (docs/pyspy-capture.1.md, docs/capture.md).
 *
 *     pyspy-capture [OPTIONS] --pid PID
 *     pyspy-capture [OPTIONS] -- PROGRAM [ARGS...]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"
#include "msg.h"
#include "proc.h"
#include "pyspy_format.h"
#include "python/pyrepr.h"
#include "python/pyrt.h"
#include "sampler.h"

#ifndef PYSPY_VERSION
#define PYSPY_VERSION "0.0.0"
#endif

#define MAX_RATE 100000u

static volatile sig_atomic_t stop_flag, stop_signo, stop_from_user, child_event;

static void on_stop(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!stop_flag) {
		stop_signo = sig;
		/* kill(2) from another process, not the terminal's Ctrl-C (which
		 * the launched program, in our process group, got too). */
		stop_from_user = si && (si->si_code == SI_USER || si->si_code == SI_QUEUE);
	}
	stop_flag = 1;
}

static void on_child(int sig)
{
	(void)sig;
	child_event = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_stop;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	/* Write errors come back as EPIPE / EFBIG instead of killing us. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
}

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
	      "  -o, --output FILE      capture file; '-' for standard output\n"
	      "                         (default: <program-or-pid>-<UTC time>.pyspy)\n"
	      "  -r, --rate HZ          samples per second (default 100, at most 100000)\n"
	      "  -d, --duration SECONDS stop after this much wall-clock time\n"
	      "                         (default: until the program exits or SIGINT/SIGTERM)\n"
	      "  -s, --subprocesses     also sample every descendant process that runs Python,\n"
	      "                         including ones started later\n"
	      "      --dump             take one snapshot of every thread and exit (the Python\n"
	      "                         threads are paused for it unless --nonblocking)\n"
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
	      "Read a dump with pyspy-analyze:\n"
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
	pid_t pid;
	const char *output;
	uint32_t rate;
	uint64_t duration_ns;
	int blocking, nonblocking;
	int exponential;
	int print;
	int force;
	int subprocesses;        /* -s */
	int dump;                /* --dump */
	int locals;              /* -l count */
	int rate_set, timer_set;
	char **argv;             /* PROGRAM [ARGS...] or NULL */
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
	o->rate = 100;
	/* '+': stop at the first non-option, so PROGRAM's options stay its own. */
	opterr = 0;   /* our own messages, with our own prefix */
	while ((c = getopt_long(argc, argv, "+:p:o:r:d:slqvhV", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'p':
			o->pid = parse_pid(optarg);
			break;
		case 'o':
			if (!*optarg)
				usage_error("empty output file name");
			o->output = optarg;
			break;
		case 'r': {
			unsigned long v;
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || v == 0 || v > MAX_RATE || optarg[0] == '-')
				usage_error("invalid rate '%s' (1 - %u samples per second)", optarg,
					    MAX_RATE);
			o->rate = (uint32_t)v;
			o->rate_set = 1;
			break;
		}
		case 'd': {
			double v;
			errno = 0;
			v = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(v > 0) || v > 1e7)
				usage_error("invalid duration '%s' (seconds, e.g. 10 or 0.5)", optarg);
			o->duration_ns = (uint64_t)(v * 1e9);
			if (!o->duration_ns)
				o->duration_ns = 1;
			break;
		}
		case OPT_BLOCKING:
			o->blocking = 1;
			break;
		case OPT_NONBLOCKING:
			o->nonblocking = 1;
			break;
		case 's':
			o->subprocesses = 1;
			break;
		case OPT_DUMP:
			o->dump = 1;
			break;
		case 'l':
			o->locals++;
			break;
		case OPT_TIMER:
			o->timer_set = 1;
			if (strcmp(optarg, "fixed") == 0)
				o->exponential = 0;
			else if (strcmp(optarg, "exponential") == 0)
				o->exponential = 1;
			else
				usage_error("invalid timer '%s' (fixed or exponential)", optarg);
			break;
		case OPT_PRINT:
			o->print = 1;
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
		o->argv = argv + optind;
	if (o->blocking && o->nonblocking)
		usage_error("--blocking and --nonblocking exclude each other");
	if (o->pid && o->argv)
		usage_error("give either --pid or a program to run, not both");
	if (!o->pid && !o->argv)
		usage_error("no target: give --pid PID or -- PROGRAM [ARGS...]");
	if (o->dump) {
		if (o->argv)
			usage_error("--dump reads a running process: give --pid PID, not a program");
		if (o->rate_set || o->duration_ns || o->timer_set)
			usage_error("--dump takes one snapshot: --rate, --duration and --timer do not apply");
	}
	if (o->locals && !o->dump)
		usage_error("--locals needs --dump (local variables are read from one snapshot)");
	if (o->locals > 512)
		o->locals = 512;
}

/* ---------------------------------------------------------------- output */

struct output {
	int fd;
	int created;             /* we created this regular file */
	char path[4096];
};

static int open_output(const struct opts *o, struct output *out)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int i;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (o->output && strcmp(o->output, "-") == 0) {
		if (isatty(1) && !o->force) {
			if (o->dump)
				usage_error("refusing to write a binary capture to a terminal; to read "
					    "the dump: pyspy-capture --dump -o - --pid %d | pyspy-analyze "
					    "dump - (or -o FILE, --print, --force)", (int)o->pid);
			usage_error("refusing to write a binary capture to a terminal "
				    "(use -o FILE, redirect, or --force)");
		}
		out->fd = 1;
		snprintf(out->path, sizeof(out->path), "<stdout>");
		return 0;
	}
	if (o->output) {
		struct stat st;
		int existed = stat(o->output, &st) == 0;
		snprintf(out->path, sizeof(out->path), "%s", o->output);
		out->fd = open(o->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (out->fd < 0)
			return error("cannot create '%s': %s", o->output, strerror(errno));
		out->created = !existed;
		if (fstat(out->fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
			fchmod(out->fd, 0600);   /* stacks can reveal what a service does */
		return 0;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < 100; i++) {
		char name[64];
		if (o->argv) {
			const char *b = strrchr(o->argv[0], '/');
			b = b ? b + 1 : o->argv[0];
			snprintf(name, sizeof(name), "%.32s", b);
		} else {
			snprintf(name, sizeof(name), "%d", (int)o->pid);
		}
		if (i == 0)
			snprintf(out->path, sizeof(out->path), "%s-%s.pyspy", name, stamp);
		else
			snprintf(out->path, sizeof(out->path), "%s-%s-%d.pyspy", name, stamp, i);
		out->fd = open(out->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (out->fd >= 0) {
			out->created = 1;
			return 0;
		}
		if (errno != EEXIST)
			return error("cannot create '%s': %s", out->path, strerror(errno));
	}
	return error("cannot create '%s': %s", out->path, strerror(EEXIST));
}

/* Undo an output file that never received a capture. */
static void discard_output(struct output *out)
{
	if (out->fd > 2)
		close(out->fd);
	if (out->created)
		unlink(out->path);
	out->fd = -1;
}

/* ---------------------------------------------------------------- errors */

/* Mentions Yama only when the kernel has it (proc_perm_hint()). */
static const char *perm_hint(void)
{
	static char buf[256];

	if (proc_in_container())
		return "inside a container, the capture needs the SYS_PTRACE capability: "
		       "docker run --cap-add SYS_PTRACE, Compose cap_add: [SYS_PTRACE], "
		       "Kubernetes securityContext.capabilities.add: [\"SYS_PTRACE\"]";
	proc_perm_hint(buf, sizeof(buf), geteuid() == 0, proc_yama_scope(PROC_YAMA_SCOPE));
	return buf;
}

/* Report a discovery failure in one line; exits 1. */
static void discovery_failed(pid_t pid, enum pyrt_status st, const char *why)
{
	switch (st) {
	case PYRT_E_NOPROC:
		die("no process with pid %d", (int)pid);
	case PYRT_E_PERM:
		if (strstr(why, "/map_files/"))   /* a file only map_files reaches */
			die("no permission to read process %d: %s (a deleted or unreachable file "
			    "needs CAP_SYS_ADMIN: run as root)", (int)pid, why);
		die("no permission to read process %d: %s (%s)", (int)pid, why, perm_hint());
	case PYRT_E_NOTPYTHON:
		die("%s", why);
	default:
		die("cannot profile process %d: %s", (int)pid, why);
	}
}

/* ---------------------------------------------------------------- meta */

static char *join_args(char **argv, int argc)
{
	size_t n = 1;
	int i;
	char *s;

	for (i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	s = malloc(n);
	if (!s)
		return NULL;
	s[0] = 0;
	for (i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- launch */

/*
 * -s: the first Python process among root's descendants (breadth first,
 * through the children files, else one scan of /proc), or 0.  Its runtime
 * goes to *rt.
 */
static pid_t python_descendant(pid_t root, struct pyrt *rt)
{
	pid_t queue[1024], kids[256];
	size_t head = 0, tail = 0;
	pid_t *pids = NULL, *ppids = NULL;
	long np = 0, n, i;
	char why[512];

	queue[tail++] = root;
	while (head < tail) {
		pid_t p = queue[head++];
		n = proc_children(p, 0, kids, 256);
		if (n == -ENOTSUP) {
			if (!pids) {
				pids = malloc(2 * 65536 * sizeof(pid_t));
				if (!pids)
					return 0;
				ppids = pids + 65536;
				np = proc_scan_ppids(pids, ppids, 65536);
			}
			for (i = 0, n = 0; i < np && n < 256; i++)
				if (ppids[i] == p)
					kids[n++] = pids[i];
		}
		for (i = 0; i < n; i++) {
			if (pyrt_discover(kids[i], rt, why, sizeof(why)) == PYRT_OK) {
				free(pids);
				return kids[i];
			}
			if (tail < sizeof(queue) / sizeof(queue[0]))
				queue[tail++] = kids[i];
		}
	}
	free(pids);
	return 0;
}

/*
 * Wait for the launched child to run an initialised Python; with -s a
 * Python descendant will do (*found: which process is Python).
 */
static enum pyrt_status wait_for_python(pid_t pid, int subprocesses, struct pyrt *rt,
					pid_t *found, char *why, size_t cap, int *child_done,
					int *how, int *status)
{
	uint64_t t0 = sampler_now(), delay = 1000000, warned = 0, last_tree = 0;
	enum pyrt_status st = PYRT_E_NOTPYTHON;

	*child_done = 0;
	*found = pid;
	for (;;) {
		struct timespec ts;
		int r = *child_done ? 0 : launch_reap(pid, 1, how, status);
		if (r == 1) {
			*child_done = 1;
			/* -s: the program may have left Python children behind;
			 * as the child subreaper we adopted them. */
			if (!subprocesses)
				return st;
		}
		if (*child_done) {
			pid_t kids[1];
			if (proc_children(getpid(), 0, kids, 1) <= 0)
				return st;
		} else {
			st = pyrt_discover(pid, rt, why, cap);
			if (st == PYRT_OK || st == PYRT_E_PERM || st == PYRT_E_UNSUPPORTED ||
			    st == PYRT_E_FREETHREADED)
				return st;
		}
		if (subprocesses && sampler_now() - last_tree >= 20000000ull) {
			pid_t d = python_descendant(*child_done ? getpid() : pid, rt);
			last_tree = sampler_now();
			if (d) {
				*found = d;
				return PYRT_OK;
			}
		}
		if (stop_flag)
			return st;
		if (!warned && sampler_now() - t0 > 5000000000ull) {
			warned = 1;
			note(2, "still waiting for process %d to start Python (%s)", (int)pid, why);
		}
		ts.tv_sec = 0;
		ts.tv_nsec = (long)delay;
		nanosleep(&ts, NULL);
		/* 1 ms at first (short programs), then up to 20 ms. */
		if (sampler_now() - t0 > 200000000ull && delay < 20000000)
			delay *= 2;
	}
}

/*
 * End the launched program if it outlives the capture, and reap it.
 * first: the signal to send first (0: it already got one, e.g. the
 * terminal's Ctrl-C reached its process group); SIGTERM follows, then
 * SIGKILL, two seconds apart.
 */
static void end_child(pid_t pid, int *how, int *status, int first)
{
	int sigs[3], n = 0, k;

	if (first)
		sigs[n++] = first;
	else
		sigs[n++] = 0;
	if (first != SIGTERM)
		sigs[n++] = SIGTERM;
	sigs[n++] = SIGKILL;
	for (k = 0; k < n; k++) {
		uint64_t t0 = sampler_now();
		if (sigs[k])
			kill(pid, sigs[k]);
		while (sampler_now() - t0 < 2000000000ull) {
			struct timespec ts = { 0, 10000000 };
			if (launch_reap(pid, 1, how, status) == 1)
				return;
			nanosleep(&ts, NULL);
		}
	}
	launch_reap(pid, 0, how, status);
}

/* ---------------------------------------------------------------- main */

static const char *human_bytes(uint64_t b, char *buf, size_t cap)
{
	if (b < 10 * 1024)
		snprintf(buf, cap, "%llu bytes", (unsigned long long)b);
	else if (b < 10 * 1024 * 1024)
		snprintf(buf, cap, "%.1f KiB", b / 1024.0);
	else
		snprintf(buf, cap, "%.1f MiB", b / 1048576.0);
	return buf;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct output out;
	struct pyrt rt;
	enum pyrt_status st;
	char why[1024], cmd[4096] = "", host[256] = "", kern[512] = "";
	struct utsname un;
	struct psf_meta meta;
	struct psf_writer *w = NULL;
	struct sampler *smp = NULL;
	struct sampler_opts so;
	struct sampler_stats ss;
	struct psf_trailer tr;
	uint64_t start_mono, end_ns;
	pid_t pid = 0, pypid = 0;
	unsigned dump_procs = 0;
	int reason, r, werr, werr_errno = 0, ret = 0;
	int child_how = 0, child_status = 0, child_done = 0;
	char *options;
	char sizebuf[32], endbuf[160] = "";

	parse_args(argc, argv, &o);
	install_signals();
	memset(&rt, 0, sizeof(rt));
	/* --dump pauses the Python threads for its one read by default. */
	if (o.dump && !o.nonblocking)
		o.blocking = 1;

	if (o.argv) {
		/* Launch: the output first, so a bad path fails before running. */
		if (open_output(&o, &out) < 0)
			return 1;
		/* -s: orphaned grandchildren become ours, not init's, so the
		 * tree stays visible (and we reap them). */
		if (o.subprocesses && prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0, 0, 0) < 0)
			note(2, "cannot become a child subreaper: %s", strerror(errno));
		r = launch_start(o.argv, &pid);
		if (r < 0) {
			discard_output(&out);
			die("cannot run '%s': %s", o.argv[0], strerror(-r));
		}
		note(2, "started '%s' as pid %d", o.argv[0], (int)pid);
		st = wait_for_python(pid, o.subprocesses, &rt, &pypid, why, sizeof(why), &child_done,
				     &child_how, &child_status);
		if (st != PYRT_OK) {
			discard_output(&out);
			if (child_done) {
				if (child_how == PSF_END_SIGNALED)
					die("'%s' (pid %d) was killed by signal %d before Python started",
					    o.argv[0], (int)pid, child_status);
				die("'%s' (pid %d) exited with status %d without running Python",
				    o.argv[0], (int)pid, child_status);
			}
			if (stop_flag) {
				end_child(pid, &child_how, &child_status,
					  stop_from_user ? stop_signo : 0);
				die("interrupted before Python started in '%s'", o.argv[0]);
			}
			error("cannot profile '%s' (pid %d): %s", o.argv[0], (int)pid, why);
			/* We started it: let it finish rather than kill it. */
			launch_reap(pid, 0, &child_how, &child_status);
			return 1;
		}
	} else {
		int tries = 0;
		pid = pypid = o.pid;
		if (kill(pid, 0) < 0 && errno == ESRCH)
			die("no process with pid %d", (int)pid);
		for (;;) {
			struct timespec ts = { 0, 50000000 };
			st = pyrt_discover(pid, &rt, why, sizeof(why));
			if (st != PYRT_OK && o.subprocesses && st != PYRT_E_PERM && st != PYRT_E_NOPROC) {
				/* -s: a process that is not Python may have Python
				 * descendants (a shell, a supervisor). */
				pid_t d = python_descendant(pid, &rt);
				if (d) {
					pypid = d;
					st = PYRT_OK;
					break;
				}
				if (++tries > 40 || stop_flag) {
					die("no Python process in process %d or its descendants (%s)",
					    (int)pid, why);
				}
				nanosleep(&ts, NULL);
				continue;
			}
			/* A process that is starting up gets two seconds. */
			if (st != PYRT_E_NOTREADY || ++tries > 40 || stop_flag)
				break;
			nanosleep(&ts, NULL);
		}
		if (st != PYRT_OK)
			discovery_failed(pid, st, why);
		if (open_output(&o, &out) < 0)
			return 1;
	}
	if (pypid != pid)
		note(2, "pid %d is not Python; its descendant %d is", (int)pid, (int)pypid);
	note(2, "pid %d: Python %s in '%s' (version from %s, interpreter via %s)", (int)pypid,
	     rt.version, rt.binary, rt.version_from, rt.found_by);
	/* Pre-releases change layouts; 3.13+ read theirs from the interpreter. */
	if (rt.ver.level != 'f' && rt.ver.minor <= 12 && rt.ver.major == 3)
		warning("Python %s is a pre-release; pyspy-capture was tested with %d.%d final "
			"releases and may misread it", rt.version, rt.ver.major, rt.ver.minor);
	if (rt.ver.micro < 0)
		warning("the exact Python version of pid %d is unknown (%s, from the file name)",
			(int)pid, rt.version);

	start_mono = sampler_now();
	if (proc_cmdline(pid, cmd, sizeof(cmd)) <= 0 && o.argv) {
		/* The program is gone already (-s: its Python children live on). */
		int n = 0;
		char *j;
		while (o.argv[n])
			n++;
		j = join_args(o.argv, n);
		if (j)
			snprintf(cmd, sizeof(cmd), "%s", j);
		free(j);
	}
	gethostname(host, sizeof(host) - 1);
	if (uname(&un) == 0)
		snprintf(kern, sizeof(kern), "%s %s %s %s", un.sysname, un.release, un.version,
			 un.machine);
	options = join_args(argv, argc);
	memset(&meta, 0, sizeof(meta));
	meta.flags = (o.blocking ? PSF_HF_BLOCKING : 0) | (o.subprocesses ? PSF_HF_SUBPROCESSES : 0) |
		     (o.dump ? PSF_HF_DUMP : 0) | (o.locals ? PSF_HF_LOCALS : 0);
	meta.hostname = host[0] ? host : NULL;
	meta.kernel = kern[0] ? kern : NULL;
	meta.tool_version = "pyspy-capture " PYSPY_VERSION;
	meta.start_wall_ns = wall_ns();
	meta.start_mono_ns = start_mono;
	meta.rate_hz = o.rate;
	{
		/* About 1 % of the period, within [1 us, 1 ms] (docs/format.md 3.2). */
		uint64_t u = 1000000000ull / o.rate / 100;
		meta.time_unit_ns = (uint32_t)(u < 1000 ? 1000 : u > 1000000 ? 1000000 : u);
	}
	meta.pid = pid;
	meta.cmdline = cmd[0] ? cmd : NULL;
	meta.python_version = rt.version;
	meta.python_exe = rt.binary;
	meta.options = options;
	{
		/* Chunks of at most 256 KiB (or 1 s): bounded memory at high
		 * rates, short compression stalls inside the sampling loop. */
		struct psf_writer_opts wo;
		memset(&wo, 0, sizeof(wo));
		wo.chunk_bytes = 256u << 10;
		r = psf_writer_open(&w, out.fd, &meta, &wo);
	}
	free(options);
	if (r < 0) {
		int e = errno;
		discard_output(&out);
		if (o.argv)
			end_child(pid, &child_how, &child_status, SIGTERM);
		die("cannot write '%s': %s", out.path, r == PSF_E_IO ? strerror(e) : psf_strerror(r));
	}
	memset(&so, 0, sizeof(so));
	so.rate_hz = o.rate;
	so.duration_ns = o.duration_ns;
	so.blocking = o.blocking;
	so.exponential = o.exponential;
	so.print = o.print ? stderr : NULL;
	so.locals_budget = (size_t)o.locals * PYREPR_BUDGET;
	if (sampler_new(&smp, w, &so, start_mono) < 0)
		die("cannot start sampling: %s", strerror(ENOMEM));
	if (pypid == pid && (r = sampler_add(smp, pid, 0, &rt, o.argv != NULL)) < 0) {
		psf_writer_free(w);
		discard_output(&out);
		if (o.argv)
			end_child(pid, &child_how, &child_status, SIGTERM);
		if (r == -ESRCH)
			die("process %d exited or exec'd while being attached", (int)pid);
		die("cannot start sampling: %s", r == -ENOMEM ? strerror(ENOMEM) : psf_strerror(r));
	}
	if (o.subprocesses && sampler_follow(smp, pid, pypid == pid, o.argv != NULL) < 0)
		die("cannot start sampling: %s", strerror(ENOMEM));

	if (o.dump) {
		uint64_t now;
		/* -s: the whole tree first (interpreters still starting get a
		 * second), then one tick over every process. */
		r = sampler_settle(smp, 1000000000ull);
		now = sampler_now() - start_mono;
		if (r == 0)
			r = sampler_tick(smp, now, now);
		reason = r < 0 ? (r == PSF_E_IO ? PSF_STOP_DISK_FULL : PSF_STOP_ERROR) : PSF_STOP_DUMP;
	} else {
		reason = sampler_run(smp, &stop_flag, &child_event);
	}

	/* The launched program: its exit status ends up in the trailer. */
	if (o.argv) {
		size_t i;
		int reaped = sampler_root_exit(smp, &child_how, &child_status);
		for (i = 0; i < sampler_ntargets(smp) && !reaped; i++) {
			struct target *t = sampler_target(smp, i);
			if (t->pid == pid && t->reaped) {
				child_how = t->end_how;
				child_status = t->end_status;
				reaped = 1;
			}
		}
		if (!reaped) {
			if (reason == PSF_STOP_EXITED || reason == PSF_STOP_EXEC) {
				launch_reap(pid, 0, &child_how, &child_status);
			} else if (reason == PSF_STOP_SIGNAL) {
				end_child(pid, &child_how, &child_status, stop_from_user ? stop_signo : 0);
			} else {
				end_child(pid, &child_how, &child_status, SIGTERM);
			}
			for (i = 0; i < sampler_ntargets(smp); i++) {
				struct target *t = sampler_target(smp, i);
				if (t->pid == pid && !t->finished) {
					t->state = TARGET_EXITED;
					t->end_how = (uint8_t)child_how;
					t->end_status = child_status;
				}
			}
		}
	} else if (reason == PSF_STOP_EXITED) {
		/* Attached: what the sampler learnt of the end (a zombie's
		 * exit code, or --blocking's ptrace wait), else unknown. */
		size_t i;
		for (i = 0; i < sampler_ntargets(smp); i++) {
			struct target *t = sampler_target(smp, i);
			if (t->pid == pid && t->state == TARGET_EXITED) {
				child_how = t->end_how;
				child_status = t->end_status;
			}
		}
	}
	end_ns = sampler_now() - start_mono;
	if (o.dump) {
		/* Which processes could not be read (exited during the dump). */
		size_t i;
		for (i = 0; i < sampler_ntargets(smp); i++) {
			struct target *t = sampler_target(smp, i);
			dump_procs += t->samples > 0;
			if (t->state != TARGET_LIVE && !t->samples)
				warning("process %d %s during the dump; nothing was read from it",
					(int)t->pid, t->state == TARGET_EXEC ? "exec'd" : "exited");
			else if (t->state == TARGET_LIVE && !t->samples)
				warning("process %d has no Python thread to dump", (int)t->pid);
		}
	}
	werr = sampler_write_error(smp, &werr_errno);
	if (!werr) {
		r = sampler_finish(smp, end_ns);
		if (r < 0) {
			werr = r;
			werr_errno = errno;
			reason = PSF_STOP_DISK_FULL;
		}
	}
	sampler_stats(smp, &ss);
	memset(&tr, 0, sizeof(tr));
	tr.end_ns = end_ns;
	tr.samples = ss.samples;
	tr.ticks = ss.ticks;
	tr.missed = ss.missed;
	tr.errors = ss.errors;
	tr.partial = ss.partial;
	tr.reason = (uint8_t)reason;
	/* 0 also when unknown: the root's PROCESS_END says which (format.md). */
	tr.exit_status = child_how == PSF_END_SIGNALED ? -child_status
			 : child_how == PSF_END_EXITED ? child_status : 0;
	r = psf_writer_close(w, &tr);
	if (r < 0 && !werr) {
		werr = r;
		werr_errno = errno;
	}

	/* One summary line. */
	switch (reason) {
	case PSF_STOP_DURATION: snprintf(endbuf, sizeof(endbuf), "duration reached"); break;
	case PSF_STOP_SIGNAL:
		snprintf(endbuf, sizeof(endbuf), "stopped by %s",
			 stop_signo == SIGINT ? "SIGINT" : stop_signo == SIGTERM ? "SIGTERM" : "a signal");
		break;
	case PSF_STOP_EXEC: snprintf(endbuf, sizeof(endbuf), "pid %d exec'd a non-Python program", (int)pid); break;
	case PSF_STOP_ERROR: snprintf(endbuf, sizeof(endbuf), "pid %d could not be read any more", (int)pid); break;
	case PSF_STOP_EXITED:
		if (o.argv)
			snprintf(endbuf, sizeof(endbuf), "pid %d exited", (int)pid);
		else if (child_how == PSF_END_EXITED)
			snprintf(endbuf, sizeof(endbuf), "pid %d exited with status %d", (int)pid,
				 child_status);
		else if (child_how == PSF_END_SIGNALED)
			snprintf(endbuf, sizeof(endbuf), "pid %d was killed by signal %d", (int)pid,
				 child_status);
		else
			snprintf(endbuf, sizeof(endbuf), "pid %d exited (status unknown)", (int)pid);
		break;
	default: break;
	}
	if (o.argv && !o.dump) {
		size_t l = strlen(endbuf);
		if (child_how == PSF_END_EXITED)
			snprintf(endbuf + l, sizeof(endbuf) - l, "%s'%s' exited with status %d",
				 l ? "; " : "", o.argv[0], child_status);
		else if (child_how == PSF_END_SIGNALED)
			snprintf(endbuf + l, sizeof(endbuf) - l, "%s'%s' was killed by signal %d",
				 l ? "; " : "", o.argv[0], child_status);
		else
			snprintf(endbuf + l, sizeof(endbuf) - l, "%s'%s' ended (status unknown)",
				 l ? "; " : "", o.argv[0]);
	}
	human_bytes(psf_writer_bytes(w), sizebuf, sizeof(sizebuf));
	if (werr) {
		error("writing '%s' failed: %s; capture stopped after %.1f s, the file keeps the "
		      "%llu samples written before", out.path,
		      werr == PSF_E_IO ? strerror(werr_errno) : psf_strerror(werr), end_ns / 1e9,
		      (unsigned long long)ss.samples);
		ret = 1;
	} else if (reason == PSF_STOP_ERROR) {
		error("captured %llu samples in %.1f s to '%s' (%s), then %s",
		      (unsigned long long)ss.samples, end_ns / 1e9, out.path, sizebuf, endbuf);
		ret = 1;
	} else if (o.dump && !ss.samples) {
		error("nothing dumped: no Python thread of process %d could be read (the capture "
		      "'%s' only says so)", (int)pid, out.path);
		ret = 1;
	} else if (o.dump) {
		if (msg_level >= 1)
			fprintf(stderr, MSG_PREFIX "dumped %llu threads of %u process%s%s to '%s' (%s)\n",
				(unsigned long long)ss.samples, dump_procs, dump_procs == 1 ? "" : "es",
				o.locals ? " with local variables" : "", out.path, sizebuf);
	} else if (msg_level >= 1 && o.subprocesses) {
		unsigned seen, python;
		sampler_tree_counts(smp, &seen, &python);
		fprintf(stderr, MSG_PREFIX "captured %llu samples (%llu errors) from %u Python "
			"process%s (%u in the tree) in %.1f s to '%s' (%s); %s\n",
			(unsigned long long)ss.samples, (unsigned long long)ss.errors, python,
			python == 1 ? "" : "es", seen, end_ns / 1e9, out.path, sizebuf, endbuf);
	} else if (msg_level >= 1) {
		fprintf(stderr, MSG_PREFIX "captured %llu samples (%llu errors) in %.1f s to '%s' "
			"(%s); %s\n", (unsigned long long)ss.samples, (unsigned long long)ss.errors,
			end_ns / 1e9, out.path, sizebuf, endbuf);
	}
	if (msg_level >= 3) {
		size_t i;
		for (i = 0; i < sampler_ntargets(smp); i++) {
			struct pyproc_stats ps;
			struct target *t = sampler_target(smp, i);
			if (!t->py)
				continue;
			pyproc_stats(t->py, &ps);
			note(3, "pid %d: %llu ticks, %llu samples (%llu partial, %llu truncated, "
			     "%llu snapshot retries: %llu leaf gone, %llu changed, %llu grew, %llu bad); %llu read calls, %llu iovecs, %llu on-demand reads; "
			     "code: %llu loads, %llu validations, %llu invalidations, %llu cache drops; "
			     "%llu name scans", (int)t->pid,
			     (unsigned long long)ps.ticks, (unsigned long long)ps.samples,
			     (unsigned long long)ps.partial, (unsigned long long)ps.truncated,
			     (unsigned long long)ps.torn_retries, (unsigned long long)ps.torn_leaf,
			     (unsigned long long)ps.torn_unstable, (unsigned long long)ps.torn_miss,
			     (unsigned long long)ps.torn_bad, (unsigned long long)ps.syscalls,
			     (unsigned long long)ps.iovecs, (unsigned long long)ps.misses,
			     (unsigned long long)ps.code_loads, (unsigned long long)ps.code_validations,
			     (unsigned long long)ps.code_invalidations, (unsigned long long)ps.cache_drops,
			     (unsigned long long)ps.tname_scans);
		}
		for (i = 0; i < sampler_ntargets(smp); i++) {
			struct pyproc_stats ps;
			struct target *t = sampler_target(smp, i);
			char hist[512];
			size_t len = 0;
			unsigned b;
			if (!t->py)
				continue;
			pyproc_stats(t->py, &ps);
			for (b = 0; b < 16 && len < sizeof(hist) - 32; b++)
				if (ps.read_hist[b])
					len += (size_t)snprintf(hist + len, sizeof(hist) - len, " <%uus:%llu",
								 1u << b, (unsigned long long)ps.read_hist[b]);
			note(3, "pid %d: verifying reads: %llu slow (max %.1f us), %llu walks "
			     "not trusted for it; by duration:%s", (int)t->pid,
			     (unsigned long long)ps.slow_reads, ps.max_read_ns / 1e3,
			     (unsigned long long)ps.torn_slow, len ? hist : " none");
		}
		note(3, "timing: %llu ticks, %llu missed, mean late %.1f us, max late %.1f us",
		     (unsigned long long)ss.ticks, (unsigned long long)ss.missed,
		     ss.ticks ? ss.sum_late_ns / 1e3 / (double)ss.ticks : 0.0, ss.max_late_ns / 1e3);
	}
	psf_writer_free(w);
	sampler_free(smp);
	if (out.fd > 2)
		close(out.fd);
	return ret;
}
