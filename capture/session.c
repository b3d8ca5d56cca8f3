/*
 * session.c - one run of pyspy-capture (see session.h).
 */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caperr.h"
#include "discover.h"
#include "launch.h"
#include "meta.h"
#include "msg.h"
#include "output.h"
#include "pyspy_format.h"
#include "python/pyrepr.h"
#include "python/pyrt.h"
#include "sampler.h"
#include "sig.h"
#include "summary.h"

/* What becomes of the launched program when the capture ends. */
enum fate {
	FATE_NONE,               /* nothing to do: not launched, or reaped */
	FATE_WAIT,               /* let it finish (it is never killed for our failures) */
	FATE_END,                /* end it: -d or a stop signal (launch_end) */
	FATE_LEAVE,              /* leave it running and exit */
};

struct session {
	const struct session_opts *o;
	struct output *out;
	struct psf_writer *w;
	struct sampler *smp;
	struct pyrt rt;
	pid_t pid, pypid;        /* the target; the Python process found */
	pid_t child;             /* launch mode: the program, else 0 */
	int child_done, child_how, child_status;
	enum fate fate;
	int end_signal;          /* FATE_END: the first signal (0: it got one) */
	pid_t renderer;          /* --dump without -o: pyspy-analyze dump */
	int sampled;             /* session_sample() ran */
	int reason;              /* enum psf_stop_reason */
	uint64_t start_mono, end_ns;
};

static const char *program_name(const struct session *s)
{
	return s->o->program ? s->o->program[0] : "";
}

/* ------------------------------------------------------------ text dump */

/*
 * Does this pyspy-analyze's dump take --locals (locals shown only when
 * asked)?  Builds that show recorded locals always do not know it.
 */
static int renderer_takes_locals(const char *path)
{
	char cmd[PATH_MAX + 64], line[256];
	FILE *fp;
	int yes = 0;

	snprintf(cmd, sizeof(cmd), "'%s' dump --help 2>/dev/null", path);
	if (strchr(path, '\''))
		return 0;
	fp = popen(cmd, "r");
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		yes |= strstr(line, "--locals") != NULL;
	pclose(fp);
	return yes;
}

/*
 * --dump without -o: the capture goes through a pipe into
 * 'pyspy-analyze dump -', found next to this executable, which prints
 * py-spy's text layout on our standard output.
 */
static int start_renderer(struct session *s)
{
	char self[PATH_MAX], path[PATH_MAX + 32], *slash;
	char a_dump[] = "dump", a_locals[] = "--locals", a_stdin[] = "-";
	char *argv[5];
	int pfd[2], n = 0;
	ssize_t len;
	pid_t c;

	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return error("cannot print the dump: cannot find this program's directory: %s "
			     "(write a capture with -o FILE)", strerror(errno));
	self[len] = 0;
	slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	snprintf(path, sizeof(path), "%s/pyspy-analyze", self);
	if (access(path, X_OK) < 0)
		return error("cannot print the dump: '%s': %s (write a capture with -o FILE "
			     "and read it with pyspy-analyze dump)", path, strerror(errno));
	argv[n++] = path;
	argv[n++] = a_dump;
	if (s->o->locals && renderer_takes_locals(path))
		argv[n++] = a_locals;
	argv[n++] = a_stdin;
	argv[n] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return error("cannot print the dump: %s", strerror(errno));
	c = fork();
	if (c < 0) {
		int e = errno;
		close(pfd[0]);
		close(pfd[1]);
		return error("cannot print the dump: %s", strerror(e));
	}
	if (c == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (dup2(pfd[0], 0) < 0)
			_exit(127);
		execv(path, argv);
		_exit(127);
	}
	close(pfd[0]);
	s->renderer = c;
	return output_open_fd(&s->out, pfd[1], "<pyspy-analyze dump>");
}

/* The renderer's verdict once its input ended: 0, or 1 (it said why). */
static int end_renderer(struct session *s, int abandon)
{
	int st;

	if (!s->renderer)
		return 0;
	if (abandon)
		kill(s->renderer, SIGTERM);
	while (waitpid(s->renderer, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	s->renderer = 0;
	if (abandon)
		return 1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	return error("printing the dump failed (pyspy-analyze dump %s %d)",
		     WIFEXITED(st) ? "exited with status" : "was killed by signal",
		     WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* ------------------------------------------------------------ start */

/*
 * The program's standard output must never be the capture's stream (-o -,
 * or -o naming the file stdout goes to): it gets our standard error then
 * (or /dev/null if that is the capture too).
 */
static int program_stdout(const struct session *s)
{
	if (!output_shares(s->out, 1))
		return -1;
	if (!output_shares(s->out, 2))
		return 2;
	return open("/dev/null", O_WRONLY | O_CLOEXEC);
}

/* Do we have a controlling terminal (interactive use, job control)? */
static int has_terminal(void)
{
	int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static int start_program(struct session *s)
{
	const struct session_opts *o = s->o;
	char why[1024];
	const char *base = strrchr(o->program[0], '/');
	int r, fd;

	/* The output first, so a bad path fails before the program runs. */
	if (output_open(&s->out, o->output, base ? base + 1 : o->program[0]) < 0)
		return 1;
	/* -s: orphaned grandchildren become ours, not init's, so the tree
	 * stays visible (and we reap them). */
	if (o->subprocesses && prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0, 0, 0) < 0)
		note(2, "cannot become a child subreaper: %s", strerror(errno));
	fd = program_stdout(s);
	r = launch_start(o->program, fd, !has_terminal(), &s->pid);
	if (fd > 2)
		close(fd);
	if (r < 0)
		return error("cannot run '%s': %s", o->program[0], strerror(-r)), 1;
	s->child = s->pid;
	note(2, "started '%s' as pid %d", o->program[0], (int)s->pid);
	switch (discover_launched(s->pid, o->program[0], o->subprocesses, &s->rt, &s->pypid, why,
				  sizeof(why), &s->child_how, &s->child_status)) {
	case DISCOVER_FOUND:
		return 0;
	case DISCOVER_EXITED:
		s->child_done = 1;
		if (s->child_how == PSF_END_SIGNALED)
			error("'%s' (pid %d) was killed by signal %d before Python started",
			      o->program[0], (int)s->pid, s->child_status);
		else
			error("'%s' (pid %d) exited with status %d without running Python",
			      o->program[0], (int)s->pid, s->child_status);
		return 1;
	case DISCOVER_STOPPED:
		s->fate = FATE_END;
		s->end_signal = launch_pass_signal();
		error("interrupted before Python started in '%s'", o->program[0]);
		return 1;
	case DISCOVER_TIMEOUT:
		s->fate = FATE_LEAVE;
		error("'%s' (pid %d) did not start Python within %d s of its last exec (%s); "
		      "leaving it running (-s follows Python processes it starts)", o->program[0],
		      (int)s->pid, DISCOVER_TIMEOUT_S, why);
		return 1;
	default:
		/* We started it: let it finish rather than kill it. */
		s->fate = FATE_WAIT;
		error("cannot profile '%s' (pid %d): %s", o->program[0], (int)s->pid, why);
		return 1;
	}
}

static int start_attach(struct session *s)
{
	char base[32];

	s->pid = s->o->pid;
	if (discover_attach(s->pid, s->o->subprocesses, &s->rt, &s->pypid) < 0)
		return 1;
	if (s->o->dump && !s->o->output)
		return start_renderer(s) < 0 ? 1 : 0;
	snprintf(base, sizeof(base), "%d", (int)s->pid);
	return output_open(&s->out, s->o->output, base) < 0 ? 1 : 0;
}

/* The file's header and the sampler with its first targets. */
static int start_capture(struct session *s)
{
	const struct session_opts *o = s->o;
	struct psf_writer_opts wo;
	struct sampler_opts so;
	struct meta_buf mb;
	struct meta_in mi;
	struct psf_meta meta;
	int r;

	s->start_mono = sampler_now();
	memset(&mi, 0, sizeof(mi));
	mi.pid = s->pid;
	mi.program = o->program;
	mi.argc = o->argc;
	mi.argv = o->argv;
	mi.rate_hz = o->rate;
	mi.start_mono_ns = s->start_mono;
	mi.flags = (o->blocking ? PSF_HF_BLOCKING : 0) |
		   (o->subprocesses ? PSF_HF_SUBPROCESSES : 0) | (o->dump ? PSF_HF_DUMP : 0) |
		   (o->locals ? PSF_HF_LOCALS : 0);
	mi.rt = &s->rt;
	if (meta_build(&meta, &mb, &mi) < 0) {
		meta_release(&mb);
		return error("cannot start sampling: %s", strerror(ENOMEM));
	}
	/* Chunks of at most 256 KiB (or 1 s): bounded memory at high rates,
	 * short compression stalls inside the sampling loop. */
	memset(&wo, 0, sizeof(wo));
	wo.chunk_bytes = 256u << 10;
	r = psf_writer_open(&s->w, output_fd(s->out), &meta, &wo);
	if (r < 0) {
		int e = errno;
		meta_release(&mb);
		return error("cannot write '%s': %s%s%s%s", output_path(s->out),
			     r == PSF_E_IO ? strerror(e) : psf_strerror(r),
			     s->child ? "; letting '" : "", s->child ? program_name(s) : "",
			     s->child ? "' finish" : "");
	}
	meta_release(&mb);
	memset(&so, 0, sizeof(so));
	so.rate_hz = o->rate;
	so.duration_ns = o->duration_ns;
	so.blocking = o->blocking;
	so.exponential = o->exponential;
	so.print = o->print ? stderr : NULL;
	so.locals_budget = (size_t)o->locals * PYREPR_BUDGET;
	if (sampler_new(&s->smp, s->w, &so, s->start_mono) < 0)
		return error("cannot start sampling: %s", strerror(ENOMEM));
	if (s->pypid == s->pid && (r = sampler_add(s->smp, s->pid, 0, &s->rt, s->child != 0)) < 0) {
		if (r == -ESRCH)
			return error("process %d exited or exec'd while being attached", (int)s->pid);
		return error("cannot start sampling: %s",
			     r == -ENOMEM ? strerror(ENOMEM) : caperr_text());
	}
	if (o->subprocesses && sampler_follow(s->smp, s->pid, s->pypid == s->pid, s->child != 0) < 0)
		return error("cannot start sampling: %s", strerror(ENOMEM));
	return 0;
}

int session_start(struct session **out, const struct session_opts *o)
{
	struct session *s = calloc(1, sizeof(*s));
	int r;

	*out = s;
	if (!s)
		return error("cannot start: %s", strerror(ENOMEM)), 1;
	s->o = o;
	s->reason = PSF_STOP_ERROR;
	r = o->program ? start_program(s) : start_attach(s);
	if (r)
		return r;
	if (s->pypid != s->pid)
		note(2, "pid %d is not Python; its descendant %d is", (int)s->pid, (int)s->pypid);
	note(2, "pid %d: Python %s in '%s' (version from %s, interpreter via %s)", (int)s->pypid,
	     s->rt.version, s->rt.binary, s->rt.version_from, s->rt.found_by);
	/* Pre-releases change layouts; 3.13+ read theirs from the interpreter. */
	if (s->rt.ver.level != 'f' && s->rt.ver.minor <= 12 && s->rt.ver.major == 3)
		warning("Python %s is a pre-release; pyspy-capture was tested with %d.%d final "
			"releases and may misread it", s->rt.version, s->rt.ver.major,
			s->rt.ver.minor);
	if (s->rt.ver.micro < 0)
		warning("the exact Python version of pid %d is unknown (%s, from the file name)",
			(int)s->pid, s->rt.version);
	if (start_capture(s) < 0) {
		/* A capture that cannot start never ends the program. */
		if (s->child)
			s->fate = FATE_WAIT;
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ sample */

void session_sample(struct session *s)
{
	/* From here on the file holds a capture, whatever happens. */
	output_keep(s->out);
	s->sampled = 1;
	if (s->o->dump) {
		/* -s: the whole tree first (interpreters still starting get a
		 * second), then one tick over every process. */
		int r = sampler_settle(s->smp, 1000000000ull);
		uint64_t now = sampler_now() - s->start_mono;
		if (r == 0)
			r = sampler_tick(s->smp, now, now);
		s->reason = r < 0 ? (r == PSF_E_IO ? PSF_STOP_DISK_FULL : PSF_STOP_ERROR)
				  : PSF_STOP_DUMP;
	} else {
		s->reason = sampler_run(s->smp, &sig_stop, &sig_child);
	}
	s->end_ns = sampler_now() - s->start_mono;
}

/* ------------------------------------------------------------ end */

static void fill_summary(const struct session *s, struct summary *sm)
{
	struct sampler_stats ss;

	memset(sm, 0, sizeof(*sm));
	sampler_stats(s->smp, &ss);
	sm->reason = s->reason;
	sm->pid = s->pid;
	sm->program = s->child ? program_name(s) : NULL;
	sm->child_how = s->child_done ? s->child_how : 0;
	sm->child_status = s->child_status;
	sm->samples = psf_writer_samples(s->w);
	sm->errors = ss.errors;
	sm->bytes = psf_writer_bytes(s->w);
	sm->end_ns = s->end_ns;
	sm->path = output_path(s->out);
	sm->subprocesses = s->o->subprocesses;
	sampler_tree_counts(s->smp, &sm->seen, &sm->python);
	sm->dump = s->o->dump;
	sm->locals = s->o->locals;
	sm->text_dump = s->renderer != 0;
	sm->stop_signo = sig_signo;
	sm->write_failed = caperr_get(NULL) != 0;
	sm->attached = !s->child;
}

/*
 * After sampling: what becomes of the launched program.  It is ended only
 * when the user asked (-d, a stop signal); when the capture itself fails
 * (a full disk, a target it cannot read) it is let finish.  Returns 1 if
 * the closing line was said already.
 */
static int settle_program(struct session *s)
{
	struct summary sm;
	char then[512];

	if (!s->child || s->child_done)
		return 0;
	if (sampler_child_exit(s->smp, s->child, &s->child_how, &s->child_status)) {
		s->child_done = 1;
		return 0;
	}
	switch (s->reason) {
	case PSF_STOP_EXITED:
	case PSF_STOP_EXEC:
		s->fate = FATE_WAIT;
		break;
	case PSF_STOP_SIGNAL:
		s->fate = FATE_END;
		s->end_signal = launch_pass_signal();
		break;
	case PSF_STOP_DURATION:
		s->fate = FATE_END;
		s->end_signal = SIGTERM;
		break;
	default:
		s->fate = FATE_WAIT;
		if (!caperr_get(NULL))
			break;
		/* Say it now: the program may run for a long time yet. */
		fill_summary(s, &sm);
		snprintf(then, sizeof(then), "; letting '%s' (pid %d) finish", program_name(s),
			 (int)s->child);
		summary_write_failed(&sm, then);
		return 1;
	}
	return 0;
}

static void end_program(struct session *s)
{
	if (!s->child || s->child_done)
		return;
	switch (s->fate) {
	case FATE_END:
		launch_end(s->child, s->end_signal, &s->child_how, &s->child_status);
		break;
	case FATE_WAIT:
		launch_wait(s->child, &s->child_how, &s->child_status);
		break;
	default:
		return;   /* left running */
	}
	s->child_done = 1;
}

/* The file's last records and its trailer. */
static void end_capture(struct session *s)
{
	struct sampler_stats ss;
	struct psf_trailer tr;
	int r;

	if (!caperr_get(NULL) && sampler_finish(s->smp, s->end_ns) < 0)
		s->reason = caperr_get(NULL) == PSF_E_IO ? PSF_STOP_DISK_FULL : PSF_STOP_ERROR;
	if (caperr_get(NULL) == PSF_E_IO)
		s->reason = PSF_STOP_DISK_FULL;
	sampler_stats(s->smp, &ss);
	memset(&tr, 0, sizeof(tr));
	tr.end_ns = s->end_ns;
	tr.samples = psf_writer_samples(s->w);
	tr.ticks = ss.ticks;
	tr.missed = ss.missed;
	tr.errors = ss.errors;
	tr.partial = ss.partial;
	tr.reason = (uint8_t)s->reason;
	/* 0 also when unknown: the root's PROCESS_END says which (format.md). */
	tr.exit_status = s->child_how == PSF_END_SIGNALED ? -s->child_status
			 : s->child_how == PSF_END_EXITED ? s->child_status : 0;
	r = psf_writer_close(s->w, &tr);
	if (r == PSF_E_IO) {
		/* The last chunk did not fit: the file was cut back to the
		 * chunk before; a trailer alone may still fit. */
		caperr_set(r);
		s->reason = PSF_STOP_DISK_FULL;
		tr.reason = PSF_STOP_DISK_FULL;
		tr.samples = psf_writer_samples(s->w);
		psf_writer_close(s->w, &tr);
	} else {
		caperr_set(r);
	}
}

int session_end(struct session *s, int ret)
{
	struct summary sm;
	char path[4096];
	unsigned procs = 0;
	int said = 0, r;

	if (!s)
		return ret;
	if (s->sampled) {
		said = settle_program(s);
		if (s->fate == FATE_END)
			end_program(s);
		if (s->fate != FATE_WAIT || !said)
			s->end_ns = sampler_now() - s->start_mono;
		if (s->fate == FATE_WAIT)
			end_program(s);
		if (s->child && s->child_done)
			sampler_child_ended(s->smp, s->child, s->child_how, s->child_status);
		/* Attached: what the sampler learnt of the end, else unknown. */
		if (!s->child && s->reason == PSF_STOP_EXITED &&
		    sampler_target_end(s->smp, s->pid, &s->child_how, &s->child_status))
			s->child_done = 1;
		if (s->o->dump)
			procs = sampler_dump_check(s->smp);
		end_capture(s);
		fill_summary(s, &sm);
		sm.dump_procs = procs;
		snprintf(path, sizeof(path), "%s", sm.path);
		sm.path = path;
		r = output_close(s->out);
		s->out = NULL;
		if (r < 0 && !caperr_get(NULL)) {
			errno = -r;
			caperr_set(PSF_E_IO);
			sm.write_failed = 1;
		}
		if (said)
			ret = 1;
		else
			ret = summary_print(&sm);
		sampler_note_stats(s->smp);
		if (end_renderer(s, 0))
			ret = 1;
	} else {
		end_program(s);
	}
	psf_writer_free(s->w);
	sampler_free(s->smp);
	output_close(s->out);
	end_renderer(s, 1);
	free(s);
	return ret;
}
