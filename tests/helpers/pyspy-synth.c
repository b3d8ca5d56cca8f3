/*
 * pyspy-synth - build a capture file from a small text description, for
 * deterministic test captures (analyzer golden tests, format golden files).
 *
 * usage: pyspy-synth [-o FILE] [INPUT]     (default: stdin to stdout)
 *
 * Input: one directive per line; blank lines and lines starting with '#'
 * are ignored.  Words are separated by blanks; a word may contain a
 * "quoted part" with C escapes (\" \\ \n \t \xNN), e.g. name="Thread 1".
 * TIME is an integer with an optional unit: ns (default), us, ms, s, e.g.
 * 1500us, 2ms, 1s.  Every time is ns since the capture start.
 *
 *   meta KEY=VALUE...       header (before any other directive):
 *       hostname kernel tool_version cmdline python_version python_exe
 *       options (strings); start_wall_ns start_mono_ns (TIME); rate_hz
 *       time_unit_ns pid (numbers); capture_id (32 hex digits);
 *       flags (comma list of blocking,subprocesses,dump,locals)
 *   option KEY=VALUE...     writer options (before any other directive):
 *       chunk_bytes chunk_ns zstd_level intern_max stored (0/1)
 *   process NAME pid=N [ppid=N] [t=TIME] [cmdline=S] [python=S] [exe=S]
 *   thread NAME process=PROCESS [tid=N] [pyid=N] [name=S] [t=TIME]
 *          [interp=N] [main]
 *   tick TIME [sched=TIME]  start a sampling tick (sched defaults to TIME)
 *   sample THREAD STACK [FLAG...] [at=TIME]   one sample of the last tick
 *       (at defaults to the tick's time).  STACK lists frames root first,
 *       separated by ';', or is '-' for the empty stack.  A frame is
 *         FILE:FUNC:LINE        Python; FUNC "Cls.meth" gives qualname
 *                               Cls.meth and name meth; LINE ? = unknown
 *         FILE:FUNC@FIRST:LINE  the same with co_firstlineno FIRST
 *         native:MODULE:SYMBOL+0xOFF   (SYMBOL ? = unknown)
 *         <NAME>                synthetic, e.g. <GC>
 *       FLAG: gil gil? idle idle? partial truncated gilwait
 *   rename THREAD TIME NAME
 *   thread_end THREAD TIME
 *   process_end PROCESS TIME HOW [STATUS]
 *       HOW: unknown exited signaled exec detached, or a number
 *   errors PROCESS|- TIME KIND COUNT
 *       KIND: other read torn bad_object thread_list proc ptrace name, or N
 *   lag TIME ticks=N [missed=N] [max_late=TIME] [sum_late=TIME]
 *   local THREAD TIME DEPTH NAME REPR [arg] [truncated] [error]
 *   flush                   end the current chunk here
 *   repeat N every=TIME     the lines up to the matching 'end' N times, all
 *   ...                     their times shifted by i * TIME (i = 0..N-1);
 *   end                     repeats do not nest
 *   trailer TIME [reason=R] [exit=N] [samples=N] [ticks=N] [missed=N]
 *          [errors=N] [partial=N]
 *       R: unknown duration exited signal error disk_full dump exec, or N.
 *       Counts default to what was written (errors and missed: the sums
 *       of the errors and lag lines).  Without a trailer line the file
 *       ends without one, like a killed capture.
 *
 * Defaults make files reproducible: capture_id 000102...0f, hostname
 * synth-host, kernel "Linux 6.1.0 x86_64", tool_version pyspy-synth,
 * start_wall_ns 1700000000000000000, start_mono_ns 1000000000, rate_hz
 * 1000, time_unit_ns clamp(1e9 / rate_hz / 100, 1 us, 1 ms) (§3.2),
 * pid 0.  Writer options as the library's defaults; a chunk is also
 * flushed once it holds chunk_ns of data (checked at every tick).
 *
 * Errors: "pyspy-synth: line N: ..." on stderr, exit 1 (usage: exit 2).
 * Uses only the public API (format/pyspy_format.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyspy_format.h"

#define MAX_WORDS 64
#define MAX_NAMES 4096

static const char *prog = "pyspy-synth";

struct word {
	char *s;
	size_t len;
};

struct name {
	char *label;
	uint32_t id;
};

struct synth {
	struct psf_meta meta;
	struct psf_writer_opts opts;
	struct psf_writer *w;
	int fd;
	long line;
	/* labels of processes and threads -> ids */
	struct name procs[MAX_NAMES], threads[MAX_NAMES];
	int nprocs, nthreads;
	/* the current tick */
	int have_tick;
	uint64_t tick_t;
	/* totals for the trailer */
	uint64_t samples, ticks, partial, errors, missed;
	int closed;
	/* strings owned for the metadata */
	char *meta_strings[8];
	int nmeta;
};

static void die(struct synth *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void die(struct synth *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	if (s && s->line > 0)
		fprintf(stderr, "line %ld: ", s->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void check(struct synth *s, int ret, const char *what)
{
	if (ret < 0)
		die(s, "%s: %s", what, psf_strerror(ret));
}

/* ------------------------------------------------------------ parsing */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Split line into words (quotes and escapes resolved); returns the count. */
static int split(struct synth *s, const char *line, struct word *w)
{
	int n = 0;
	const char *p = line;

	for (;;) {
		char *out;
		size_t len = 0;
		int quoted = 0;

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			break;
		if (n == MAX_WORDS)
			die(s, "too many words");
		out = malloc(strlen(p) + 1);
		if (!out)
			die(s, "out of memory");
		while (*p && (quoted || (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n'))) {
			if (*p == '"') {
				quoted = !quoted;
				p++;
				continue;
			}
			if (quoted && *p == '\\') {
				p++;
				switch (*p) {
				case 'n': out[len++] = '\n'; p++; break;
				case 't': out[len++] = '\t'; p++; break;
				case '\\': out[len++] = '\\'; p++; break;
				case '"': out[len++] = '"'; p++; break;
				case 'x':
					if (hexval(p[1]) < 0 || hexval(p[2]) < 0)
						die(s, "bad \\x escape");
					out[len++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
					p += 3;
					break;
				default:
					die(s, "unknown escape '\\%c'", *p ? *p : ' ');
				}
				continue;
			}
			out[len++] = *p++;
		}
		if (quoted)
			die(s, "unterminated quote");
		out[len] = '\0';
		w[n].s = out;
		w[n].len = len;
		n++;
	}
	return n;
}

static void words_free(struct word *w, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(w[i].s);
}

static uint64_t parse_u64(struct synth *s, const char *v, const char *what)
{
	char *end;
	unsigned long long x;

	errno = 0;
	if (!isdigit((unsigned char)v[0]))
		die(s, "%s: not a number: '%s'", what, v);
	x = strtoull(v, &end, 0);
	if (errno || *end)
		die(s, "%s: not a number: '%s'", what, v);
	return x;
}

static int64_t parse_i64(struct synth *s, const char *v, const char *what)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(v, &end, 0);
	if (errno || end == v || *end)
		die(s, "%s: not a number: '%s'", what, v);
	return x;
}

/* TIME: digits with an optional unit (ns, us, ms, s), plus the offset. */
static uint64_t parse_time(struct synth *s, const char *v, uint64_t offset)
{
	char *end;
	unsigned long long x;
	uint64_t mul = 1;

	errno = 0;
	if (!isdigit((unsigned char)v[0]))
		die(s, "not a time: '%s'", v);
	x = strtoull(v, &end, 10);
	if (errno)
		die(s, "time out of range: '%s'", v);
	if (strcmp(end, "") == 0 || strcmp(end, "ns") == 0)
		mul = 1;
	else if (strcmp(end, "us") == 0)
		mul = 1000;
	else if (strcmp(end, "ms") == 0)
		mul = 1000000;
	else if (strcmp(end, "s") == 0)
		mul = 1000000000;
	else
		die(s, "bad time unit in '%s' (ns, us, ms, s)", v);
	if (x > (UINT64_MAX - offset) / mul)
		die(s, "time out of range: '%s'", v);
	return x * mul + offset;
}

/* "key=value": value if w is key=..., else NULL. */
static const char *kv(const struct word *w, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(w->s, key, n) == 0 && w->s[n] == '=')
		return w->s + n + 1;
	return NULL;
}

/* Index of name in a small table of words, or a number, or die. */
static uint32_t enum_value(struct synth *s, const char *v, const char *const *names, int n,
			   const char *what)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return (uint32_t)i;
	return (uint32_t)parse_u64(s, v, what);
}

static const char *const how_names[] = { "unknown", "exited", "signaled", "exec", "detached" };
static const char *const kind_names[] = { "other", "read", "torn", "bad_object", "thread_list",
					  "proc", "ptrace", "name" };
static const char *const reason_names[] = { "unknown", "duration", "exited", "signal", "error",
					    "disk_full", "dump", "exec" };
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ------------------------------------------------------------ directives */

static void need_writer(struct synth *s)
{
	if (s->w)
		return;
	if (s->meta.time_unit_ns == 0) {
		/* §3.2's rule: about 1 % of the sampling period. */
		uint64_t u = s->meta.rate_hz ? 1000000000ull / s->meta.rate_hz / 100 : 1000;

		s->meta.time_unit_ns = (uint32_t)(u < 1000 ? 1000 : u > 1000000 ? 1000000 : u);
	}
	check(s, psf_writer_open(&s->w, s->fd, &s->meta, &s->opts), "cannot write the header");
}

static uint32_t str_id(struct synth *s, const char *text, size_t len)
{
	uint32_t id;

	check(s, psf_writer_string(s->w, text, len, &id), "string");
	return id;
}

static uint32_t lookup(struct synth *s, struct name *tab, int n, const char *label,
		       const char *what)
{
	int i;

	if (strcmp(label, "-") == 0 && tab == s->procs)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(tab[i].label, label) == 0)
			return tab[i].id;
	die(s, "unknown %s '%s'", what, label);
	return 0;
}

static void add_name(struct synth *s, struct name *tab, int *n, const char *label, uint32_t id)
{
	int i;

	for (i = 0; i < *n; i++)
		if (strcmp(tab[i].label, label) == 0)
			die(s, "'%s' defined twice", label);
	if (*n == MAX_NAMES)
		die(s, "too many processes or threads");
	tab[*n].label = strdup(label);
	if (!tab[*n].label)
		die(s, "out of memory");
	tab[*n].id = id;
	(*n)++;
}

static void do_meta(struct synth *s, struct word *w, int n)
{
	int i;

	if (s->w)
		die(s, "meta must come before any record");
	for (i = 1; i < n; i++) {
		const char *v = strchr(w[i].s, '=');
		char *copy;

		if (!v)
			die(s, "meta: expected KEY=VALUE, got '%s'", w[i].s);
		v++;
		if (kv(&w[i], "start_wall_ns")) {
			s->meta.start_wall_ns = parse_time(s, v, 0);
		} else if (kv(&w[i], "start_mono_ns")) {
			s->meta.start_mono_ns = parse_time(s, v, 0);
		} else if (kv(&w[i], "rate_hz")) {
			s->meta.rate_hz = (uint32_t)parse_u64(s, v, "rate_hz");
		} else if (kv(&w[i], "time_unit_ns")) {
			s->meta.time_unit_ns = (uint32_t)parse_u64(s, v, "time_unit_ns");
		} else if (kv(&w[i], "pid")) {
			s->meta.pid = (int32_t)parse_u64(s, v, "pid");
		} else if (kv(&w[i], "capture_id")) {
			int k;

			if (strlen(v) != 32)
				die(s, "capture_id: 32 hex digits expected");
			for (k = 0; k < 16; k++) {
				if (hexval(v[2 * k]) < 0 || hexval(v[2 * k + 1]) < 0)
					die(s, "capture_id: 32 hex digits expected");
				s->meta.capture_id[k] = (uint8_t)(hexval(v[2 * k]) * 16 +
								  hexval(v[2 * k + 1]));
			}
		} else if (kv(&w[i], "flags")) {
			char *f = strdup(v), *tok, *save = NULL;

			s->meta.flags = 0;
			for (tok = strtok_r(f, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (strcmp(tok, "blocking") == 0)
					s->meta.flags |= PSF_HF_BLOCKING;
				else if (strcmp(tok, "subprocesses") == 0)
					s->meta.flags |= PSF_HF_SUBPROCESSES;
				else if (strcmp(tok, "dump") == 0)
					s->meta.flags |= PSF_HF_DUMP;
				else if (strcmp(tok, "locals") == 0)
					s->meta.flags |= PSF_HF_LOCALS;
				else
					die(s, "unknown header flag '%s'", tok);
			}
			free(f);
		} else {
			const char **dst = NULL;

			if (kv(&w[i], "hostname"))
				dst = &s->meta.hostname;
			else if (kv(&w[i], "kernel"))
				dst = &s->meta.kernel;
			else if (kv(&w[i], "tool_version"))
				dst = &s->meta.tool_version;
			else if (kv(&w[i], "cmdline"))
				dst = &s->meta.cmdline;
			else if (kv(&w[i], "python_version"))
				dst = &s->meta.python_version;
			else if (kv(&w[i], "python_exe"))
				dst = &s->meta.python_exe;
			else if (kv(&w[i], "options"))
				dst = &s->meta.options;
			else
				die(s, "meta: unknown key in '%s'", w[i].s);
			if (s->nmeta == NELEM(s->meta_strings))
				die(s, "meta: too many strings");
			copy = strdup(v);
			if (!copy)
				die(s, "out of memory");
			s->meta_strings[s->nmeta++] = copy;
			*dst = copy;
		}
	}
}

static void do_option(struct synth *s, struct word *w, int n)
{
	int i;

	if (s->w)
		die(s, "option must come before any record");
	for (i = 1; i < n; i++) {
		const char *v;

		if ((v = kv(&w[i], "chunk_bytes")))
			s->opts.chunk_bytes = (uint32_t)parse_u64(s, v, "chunk_bytes");
		else if ((v = kv(&w[i], "chunk_ns")))
			s->opts.chunk_ns = parse_time(s, v, 0);
		else if ((v = kv(&w[i], "zstd_level")))
			s->opts.zstd_level = (int)parse_i64(s, v, "zstd_level");
		else if ((v = kv(&w[i], "intern_max")))
			s->opts.intern_max = (uint32_t)parse_u64(s, v, "intern_max");
		else if ((v = kv(&w[i], "stored")))
			s->opts.no_compress = (int)parse_u64(s, v, "stored");
		else
			die(s, "option: unknown key in '%s'", w[i].s);
	}
}

static void do_process(struct synth *s, struct word *w, int n, uint64_t off)
{
	struct psf_process p;
	uint32_t id;
	int i;

	if (n < 2)
		die(s, "process: NAME expected");
	memset(&p, 0, sizeof(p));
	p.start_ns = off;
	for (i = 2; i < n; i++) {
		const char *v;

		if ((v = kv(&w[i], "pid")))
			p.pid = (int32_t)parse_u64(s, v, "pid");
		else if ((v = kv(&w[i], "ppid")))
			p.ppid = (int32_t)parse_u64(s, v, "ppid");
		else if ((v = kv(&w[i], "t")))
			p.start_ns = parse_time(s, v, off);
		else if ((v = kv(&w[i], "cmdline")))
			p.cmdline = str_id(s, v, w[i].len - (size_t)(v - w[i].s));
		else if ((v = kv(&w[i], "python")))
			p.python_version = str_id(s, v, w[i].len - (size_t)(v - w[i].s));
		else if ((v = kv(&w[i], "exe")))
			p.exe = str_id(s, v, w[i].len - (size_t)(v - w[i].s));
		else
			die(s, "process: unknown '%s'", w[i].s);
	}
	check(s, psf_writer_process(s->w, &p, &id), "process");
	add_name(s, s->procs, &s->nprocs, w[1].s, id);
}

static void do_thread(struct synth *s, struct word *w, int n, uint64_t off)
{
	struct psf_thread t;
	uint32_t id;
	int i;

	if (n < 2)
		die(s, "thread: NAME expected");
	memset(&t, 0, sizeof(t));
	t.first_ns = off;
	for (i = 2; i < n; i++) {
		const char *v;

		if ((v = kv(&w[i], "process")))
			t.process = lookup(s, s->procs, s->nprocs, v, "process");
		else if ((v = kv(&w[i], "tid")))
			t.tid = (int32_t)parse_u64(s, v, "tid");
		else if ((v = kv(&w[i], "pyid")))
			t.py_thread_id = parse_u64(s, v, "pyid");
		else if ((v = kv(&w[i], "name")))
			t.name = str_id(s, v, w[i].len - (size_t)(v - w[i].s));
		else if ((v = kv(&w[i], "t")))
			t.first_ns = parse_time(s, v, off);
		else if ((v = kv(&w[i], "interp")))
			t.interp = (uint32_t)parse_u64(s, v, "interp");
		else if (strcmp(w[i].s, "main") == 0)
			t.flags |= PSF_TF_MAIN;
		else
			die(s, "thread: unknown '%s'", w[i].s);
	}
	if (t.process == 0)
		die(s, "thread: process=NAME expected");
	check(s, psf_writer_thread(s->w, &t, &id), "thread");
	add_name(s, s->threads, &s->nthreads, w[1].s, id);
}

/* One frame of a STACK word; returns the frame id. */
static uint32_t parse_frame(struct synth *s, char *text)
{
	struct psf_frame f;
	uint32_t id;
	size_t n = strlen(text);

	memset(&f, 0, sizeof(f));
	if (n >= 2 && text[0] == '<' && text[n - 1] == '>' && !strchr(text, ':')) {
		f.kind = PSF_FRAME_SYNTHETIC;
		f.name = str_id(s, text, n);
	} else if (strncmp(text, "native:", 7) == 0) {
		char *mod = text + 7, *sym = strrchr(mod, ':'), *plus;

		if (!sym)
			die(s, "native frame: native:MODULE:SYMBOL+0xOFF expected");
		*sym++ = '\0';
		plus = strrchr(sym, '+');
		if (!plus)
			die(s, "native frame: +OFFSET expected in '%s'", sym);
		*plus++ = '\0';
		f.kind = PSF_FRAME_NATIVE;
		f.file = str_id(s, mod, strlen(mod));
		f.name = strcmp(sym, "?") ? str_id(s, sym, strlen(sym)) : 0;
		f.offset = parse_u64(s, plus, "native offset");
	} else {
		/* FILE:FUNC[@FIRST]: the file may itself contain ':'. */
		char *func = strrchr(text, ':'), *first, *dot;

		if (!func)
			die(s, "frame '%s': FILE:FUNC:LINE expected", text);
		*func++ = '\0';
		first = strchr(func, '@');
		if (first) {
			*first++ = '\0';
			f.firstlineno = (int32_t)parse_i64(s, first, "firstlineno");
		}
		dot = strrchr(func, '.');
		f.kind = PSF_FRAME_PYTHON;
		f.file = str_id(s, text, strlen(text));
		f.qualname = str_id(s, func, strlen(func));
		f.name = dot ? str_id(s, dot + 1, strlen(dot + 1)) : f.qualname;
	}
	check(s, psf_writer_frame(s->w, &f, &id), "frame");
	return id;
}

/* A STACK word: frames root first separated by ';'; returns the leaf stack. */
static uint32_t parse_stack(struct synth *s, const char *word)
{
	char *copy, *p, *next;
	uint32_t parent = 0;

	if (strcmp(word, "-") == 0)
		return 0;
	copy = strdup(word);
	if (!copy)
		die(s, "out of memory");
	for (p = copy; p; p = next) {
		char *colon;
		int32_t line = -1;
		uint32_t frame;

		next = strchr(p, ';');
		if (next)
			*next++ = '\0';
		if (!*p)
			die(s, "empty frame in stack '%s'", word);
		if ((p[0] == '<' && p[strlen(p) - 1] == '>' && !strchr(p, ':')) ||
		    strncmp(p, "native:", 7) == 0) {
			/* Synthetic and native frames carry no line: "<GC>" or "native:...". */
			frame = parse_frame(s, p);
		} else {
			colon = strrchr(p, ':');
			if (!colon)
				die(s, "frame '%s': FILE:FUNC:LINE expected", p);
			*colon = '\0';
			if (strcmp(colon + 1, "?") != 0)
				line = (int32_t)parse_i64(s, colon + 1, "line");
			frame = parse_frame(s, p);
		}
		check(s, psf_writer_stack(s->w, parent, frame, line, &parent), "stack");
	}
	free(copy);
	return parent;
}

static void do_tick(struct synth *s, struct word *w, int n, uint64_t off)
{
	uint64_t t, sched;
	int i;

	if (n < 2)
		die(s, "tick: TIME expected");
	t = parse_time(s, w[1].s, off);
	sched = t;
	for (i = 2; i < n; i++) {
		const char *v = kv(&w[i], "sched");

		if (!v)
			die(s, "tick: unknown '%s'", w[i].s);
		sched = parse_time(s, v, off);
	}
	check(s, psf_writer_maybe_flush(s->w, t), "flush");
	check(s, psf_writer_tick(s->w, t, sched), "tick");
	s->have_tick = 1;
	s->tick_t = t;
	s->ticks++;
}

static void do_sample(struct synth *s, struct word *w, int n, uint64_t off)
{
	struct psf_sample sm;
	int i;

	if (n < 3)
		die(s, "sample: THREAD STACK expected");
	if (!s->have_tick)
		die(s, "sample before the first tick");
	memset(&sm, 0, sizeof(sm));
	sm.thread = lookup(s, s->threads, s->nthreads, w[1].s, "thread");
	sm.stack = parse_stack(s, w[2].s);
	sm.t_ns = s->tick_t;
	for (i = 3; i < n; i++) {
		const char *f = w[i].s, *v;

		if ((v = kv(&w[i], "at")))
			sm.t_ns = parse_time(s, v, off);
		else if (strcmp(f, "gil") == 0)
			sm.flags |= PSF_SF_GIL;
		else if (strcmp(f, "gil?") == 0)
			sm.flags |= PSF_SF_GIL_UNKNOWN;
		else if (strcmp(f, "idle") == 0)
			sm.flags |= PSF_SF_IDLE;
		else if (strcmp(f, "idle?") == 0)
			sm.flags |= PSF_SF_IDLE_UNKNOWN;
		else if (strcmp(f, "partial") == 0)
			sm.flags |= PSF_SF_PARTIAL;
		else if (strcmp(f, "truncated") == 0)
			sm.flags |= PSF_SF_TRUNCATED;
		else if (strcmp(f, "gilwait") == 0)
			sm.flags |= PSF_SF_GIL_WAIT;
		else
			die(s, "sample: unknown flag '%s'", f);
	}
	check(s, psf_writer_sample(s->w, &sm), "sample");
	s->samples++;
	if (sm.flags & PSF_SF_PARTIAL)
		s->partial++;
}

static void do_events(struct synth *s, struct word *w, int n, uint64_t off)
{
	const char *cmd = w[0].s;

	if (strcmp(cmd, "rename") == 0) {
		struct psf_thread_name tn;

		if (n != 4)
			die(s, "rename THREAD TIME NAME expected");
		tn.thread = lookup(s, s->threads, s->nthreads, w[1].s, "thread");
		tn.t_ns = parse_time(s, w[2].s, off);
		tn.name = str_id(s, w[3].s, w[3].len);
		check(s, psf_writer_thread_name(s->w, &tn), "rename");
	} else if (strcmp(cmd, "thread_end") == 0) {
		struct psf_thread_end te;

		if (n != 3)
			die(s, "thread_end THREAD TIME expected");
		te.thread = lookup(s, s->threads, s->nthreads, w[1].s, "thread");
		te.last_ns = parse_time(s, w[2].s, off);
		check(s, psf_writer_thread_end(s->w, &te), "thread_end");
	} else if (strcmp(cmd, "process_end") == 0) {
		struct psf_process_end pe;

		if (n != 4 && n != 5)
			die(s, "process_end PROCESS TIME HOW [STATUS] expected");
		pe.process = lookup(s, s->procs, s->nprocs, w[1].s, "process");
		pe.t_ns = parse_time(s, w[2].s, off);
		pe.how = (uint8_t)enum_value(s, w[3].s, how_names, NELEM(how_names), "how");
		pe.status = n == 5 ? (int32_t)parse_i64(s, w[4].s, "status") : 0;
		check(s, psf_writer_process_end(s->w, &pe), "process_end");
	} else if (strcmp(cmd, "errors") == 0) {
		struct psf_errors e;

		if (n != 5)
			die(s, "errors PROCESS|- TIME KIND COUNT expected");
		e.process = lookup(s, s->procs, s->nprocs, w[1].s, "process");
		e.t_ns = parse_time(s, w[2].s, off);
		e.kind = enum_value(s, w[3].s, kind_names, NELEM(kind_names), "kind");
		e.count = parse_u64(s, w[4].s, "count");
		check(s, psf_writer_errors(s->w, &e), "errors");
		s->errors += e.count;
	} else if (strcmp(cmd, "lag") == 0) {
		struct psf_lag l;
		int i;

		if (n < 2)
			die(s, "lag TIME ticks=N ... expected");
		memset(&l, 0, sizeof(l));
		l.t_ns = parse_time(s, w[1].s, off);
		for (i = 2; i < n; i++) {
			const char *v;

			if ((v = kv(&w[i], "ticks")))
				l.ticks = parse_u64(s, v, "ticks");
			else if ((v = kv(&w[i], "missed")))
				l.missed = parse_u64(s, v, "missed");
			else if ((v = kv(&w[i], "max_late")))
				l.max_late_ns = parse_time(s, v, 0);
			else if ((v = kv(&w[i], "sum_late")))
				l.sum_late_ns = parse_time(s, v, 0);
			else
				die(s, "lag: unknown '%s'", w[i].s);
		}
		check(s, psf_writer_lag(s->w, &l), "lag");
		s->missed += l.missed;
	} else if (strcmp(cmd, "local") == 0) {
		struct psf_local l;
		int i;

		if (n < 6)
			die(s, "local THREAD TIME DEPTH NAME REPR [arg] [truncated] [error] expected");
		memset(&l, 0, sizeof(l));
		l.thread = lookup(s, s->threads, s->nthreads, w[1].s, "thread");
		l.t_ns = parse_time(s, w[2].s, off);
		l.depth = (uint32_t)parse_u64(s, w[3].s, "depth");
		l.name = str_id(s, w[4].s, w[4].len);
		l.repr = w[5].s;
		l.repr_len = (uint32_t)w[5].len;
		for (i = 6; i < n; i++) {
			if (strcmp(w[i].s, "arg") == 0)
				l.flags |= PSF_LF_ARG;
			else if (strcmp(w[i].s, "truncated") == 0)
				l.flags |= PSF_LF_TRUNCATED;
			else if (strcmp(w[i].s, "error") == 0)
				l.flags |= PSF_LF_ERROR;
			else
				die(s, "local: unknown flag '%s'", w[i].s);
		}
		check(s, psf_writer_local(s->w, &l), "local");
	}
}

static void do_trailer(struct synth *s, struct word *w, int n, uint64_t off)
{
	struct psf_trailer t;
	int i;

	if (n < 2)
		die(s, "trailer TIME expected");
	memset(&t, 0, sizeof(t));
	t.end_ns = parse_time(s, w[1].s, off);
	t.samples = s->samples;
	t.ticks = s->ticks;
	t.missed = s->missed;
	t.errors = s->errors;
	t.partial = s->partial;
	for (i = 2; i < n; i++) {
		const char *v;

		if ((v = kv(&w[i], "reason")))
			t.reason = (uint8_t)enum_value(s, v, reason_names, NELEM(reason_names),
						       "reason");
		else if ((v = kv(&w[i], "exit")))
			t.exit_status = (int32_t)parse_i64(s, v, "exit");
		else if ((v = kv(&w[i], "samples")))
			t.samples = parse_u64(s, v, "samples");
		else if ((v = kv(&w[i], "ticks")))
			t.ticks = parse_u64(s, v, "ticks");
		else if ((v = kv(&w[i], "missed")))
			t.missed = parse_u64(s, v, "missed");
		else if ((v = kv(&w[i], "errors")))
			t.errors = parse_u64(s, v, "errors");
		else if ((v = kv(&w[i], "partial")))
			t.partial = parse_u64(s, v, "partial");
		else
			die(s, "trailer: unknown '%s'", w[i].s);
	}
	check(s, psf_writer_close(s->w, &t), "trailer");
	s->closed = 1;
}

/* Run one directive line with times shifted by off. */
static void directive(struct synth *s, const char *text, uint64_t off)
{
	struct word w[MAX_WORDS];
	int n = split(s, text, w);
	const char *cmd;

	if (n == 0) {
		words_free(w, n);
		return;
	}
	cmd = w[0].s;
	if (strcmp(cmd, "meta") == 0) {
		do_meta(s, w, n);
		words_free(w, n);
		return;
	}
	if (strcmp(cmd, "option") == 0) {
		do_option(s, w, n);
		words_free(w, n);
		return;
	}
	need_writer(s);
	if (s->closed)
		die(s, "nothing may follow the trailer");
	if (strcmp(cmd, "process") == 0)
		do_process(s, w, n, off);
	else if (strcmp(cmd, "thread") == 0)
		do_thread(s, w, n, off);
	else if (strcmp(cmd, "tick") == 0)
		do_tick(s, w, n, off);
	else if (strcmp(cmd, "sample") == 0)
		do_sample(s, w, n, off);
	else if (strcmp(cmd, "rename") == 0 || strcmp(cmd, "thread_end") == 0 ||
		 strcmp(cmd, "process_end") == 0 || strcmp(cmd, "errors") == 0 ||
		 strcmp(cmd, "lag") == 0 || strcmp(cmd, "local") == 0)
		do_events(s, w, n, off);
	else if (strcmp(cmd, "flush") == 0)
		check(s, psf_writer_flush(s->w), "flush");
	else if (strcmp(cmd, "trailer") == 0)
		do_trailer(s, w, n, off);
	else
		die(s, "unknown directive '%s'", cmd);
	words_free(w, n);
}

struct body {
	char **line;
	long *lineno;
	size_t n, cap;
};

static void body_add(struct synth *s, struct body *b, const char *text)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->line = realloc(b->line, b->cap * sizeof(*b->line));
		b->lineno = realloc(b->lineno, b->cap * sizeof(*b->lineno));
		if (!b->line || !b->lineno)
			die(s, "out of memory");
	}
	b->line[b->n] = strdup(text);
	if (!b->line[b->n])
		die(s, "out of memory");
	b->lineno[b->n++] = s->line;
}

static int is_blank(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return *p == '\0' || *p == '#';
}

static void run(struct synth *s, FILE *in)
{
	char *text = NULL;
	size_t cap = 0;
	struct body body = { 0 };
	uint64_t count = 0, every = 0, i;
	long repeat_line = 0;
	int in_repeat = 0;
	size_t k;

	while (getline(&text, &cap, in) >= 0) {
		struct word w[MAX_WORDS];
		int n;

		s->line++;
		if (is_blank(text))
			continue;
		n = split(s, text, w);
		if (strcmp(w[0].s, "repeat") == 0) {
			if (in_repeat)
				die(s, "repeat blocks do not nest");
			if (n != 3 || !kv(&w[2], "every"))
				die(s, "repeat N every=TIME expected");
			count = parse_u64(s, w[1].s, "repeat count");
			every = parse_time(s, kv(&w[2], "every"), 0);
			in_repeat = 1;
			repeat_line = s->line;
			body.n = 0;
		} else if (strcmp(w[0].s, "end") == 0) {
			long last = s->line;

			if (!in_repeat || n != 1)
				die(s, "'end' without 'repeat'");
			for (i = 0; i < count; i++) {
				if (every && i > UINT64_MAX / every)
					die(s, "repeat: times out of range");
				for (k = 0; k < body.n; k++) {
					s->line = body.lineno[k];
					directive(s, body.line[k], i * every);
				}
			}
			for (k = 0; k < body.n; k++)
				free(body.line[k]);
			body.n = 0;
			s->line = last;
			in_repeat = 0;
		} else if (in_repeat) {
			body_add(s, &body, text);
		} else {
			directive(s, text, 0);
		}
		words_free(w, n);
	}
	if (in_repeat) {
		s->line = repeat_line;
		die(s, "repeat without 'end'");
	}
	s->line = 0;
	free(text);
	free(body.line);
	free(body.lineno);
	need_writer(s); /* an empty description still makes a valid file */
}

int main(int argc, char **argv)
{
	static struct synth s;
	const char *out = NULL, *inpath = NULL;
	FILE *in = stdin;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			out = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: %s [-o FILE] [INPUT]\n"
			       "Build a capture file from a text description; the syntax is\n"
			       "documented at the top of tests/helpers/pyspy-synth.c.\n", prog);
			return 0;
		} else if (argv[i][0] != '-' && !inpath) {
			inpath = argv[i];
		} else {
			fprintf(stderr, "%s: unexpected argument '%s'\nusage: %s [-o FILE] [INPUT]\n",
				prog, argv[i], prog);
			return 2;
		}
	}
	if (inpath) {
		in = fopen(inpath, "r");
		if (!in) {
			fprintf(stderr, "%s: cannot open '%s': %s\n", prog, inpath, strerror(errno));
			return 1;
		}
	}
	s.fd = 1;
	if (out && strcmp(out, "-") != 0) {
		s.fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (s.fd < 0) {
			fprintf(stderr, "%s: cannot create '%s': %s\n", prog, out, strerror(errno));
			return 1;
		}
	}
	memcpy(s.meta.capture_id, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
	       16);
	s.meta.hostname = "synth-host";
	s.meta.kernel = "Linux 6.1.0 x86_64";
	s.meta.tool_version = "pyspy-synth";
	s.meta.start_wall_ns = 1700000000000000000ull;
	s.meta.start_mono_ns = 1000000000ull;
	s.meta.rate_hz = 1000;
	run(&s, in);
	if (!s.closed) {
		/* No trailer line: flush what is buffered, as a killed capture would have. */
		check(&s, psf_writer_flush(s.w), "flush");
	}
	psf_writer_free(s.w);
	for (i = 0; i < s.nprocs; i++)
		free(s.procs[i].label);
	for (i = 0; i < s.nthreads; i++)
		free(s.threads[i].label);
	for (i = 0; i < s.nmeta; i++)
		free(s.meta_strings[i]);
	if (in != stdin)
		fclose(in);
	if (s.fd != 1 && close(s.fd) < 0) {
		fprintf(stderr, "%s: cannot write '%s': %s\n", prog, out, strerror(errno));
		return 1;
	}
	return 0;
}
