/*
 * target.c - one traced process (see target.h).
 */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caperr.h"
#include "msg.h"
#include "proc.h"
#include "python/pyrepr.h"

struct target_thread {
	uint8_t used;
	uint8_t named_py;        /* the name came from threading */
	uint32_t psf_id;
	int32_t tid;
	int statfd;
	uint32_t name_gen;
	uint64_t last_ns;
	char name[128];          /* last name written (for --print) */
	uint32_t depth, cap;     /* cached stack, root first */
	uint32_t *sframe, *sid;
	int32_t *sline;
};

static uint32_t intern(struct target *t, const char *s)
{
	uint32_t id = 0;
	int r;

	if (!s || !*s)
		return 0;
	r = psf_writer_string(t->w, s, strlen(s), &id);
	if (r < 0) {
		caperr_set(r);
		return 0;
	}
	return id;
}

int target_init(struct target *t, pid_t pid, pid_t ppid, const struct pyrt *rt, int is_child,
		struct psf_writer *w, uint64_t start_mono_ns, uint64_t now_ns, FILE *print)
{
	struct psf_process pr;
	struct proc_stat st;
	char cmd[4096], path[64];
	int r;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->is_child = is_child;
	t->w = w;
	t->print = print;
	t->start_mono_ns = start_mono_ns;
	t->first_ns = t->last_ns = now_ns;
	t->memfd = -1;
	t->py = pyproc_new(rt, w);
	if (!t->py)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	t->memfd = open(path, O_RDONLY | O_CLOEXEC);
	t->probe_addr = rt->interp_head_ptr;
	/* The image discovered must be the one this descriptor reads: a
	 * process caught between fork() and exec() may have exec'd since. */
	{
		uint64_t head;
		if (t->memfd >= 0 && (pread(t->memfd, &head, 8, (off_t)t->probe_addr) != 8 || !head))
			return -ESRCH;
	}
	proc_exe_id(pid, &t->exe_dev, &t->exe_ino);
	memset(&pr, 0, sizeof(pr));
	pr.pid = pid;
	pr.ppid = ppid;
	if (proc_stat_read(pid, 0, &st) == 0) {
		if (!ppid)
			pr.ppid = st.ppid;
		/* A fork() child that has not exec'd: its exec will clear this
		 * (a vfork() child shares its parent's memory until then, so
		 * the memory descriptor cannot tell). */
		t->forknoexec = (st.flags & PROC_PF_FORKNOEXEC) != 0;
	}
	pr.start_ns = now_ns;
	if (proc_cmdline(pid, cmd, sizeof(cmd)) > 0)
		pr.cmdline = intern(t, cmd);
	pr.python_version = intern(t, rt->version);
	pr.exe = intern(t, rt->binary);
	if (caperr_get(NULL))
		return caperr_get(NULL);
	r = psf_writer_process(w, &pr, &t->process_id);
	caperr_set(r);
	return r < 0 ? r : 0;
}

static struct target_thread *slot(struct target *t, uint32_t i)
{
	if (i >= t->nth) {
		uint32_t n = t->nth ? t->nth : 8;
		struct target_thread *nt;
		while (n <= i)
			n *= 2;
		nt = realloc(t->th, n * sizeof(*nt));
		if (!nt)
			return NULL;
		memset(nt + t->nth, 0, (n - t->nth) * sizeof(*nt));
		for (uint32_t k = t->nth; k < n; k++)
			nt[k].statfd = -1;
		t->th = nt;
		t->nth = n;
	}
	return &t->th[i];
}

static void thread_close(struct target_thread *tt)
{
	if (tt->statfd >= 0)
		close(tt->statfd);
	tt->statfd = -1;
	tt->used = 0;
}

static const char *status_str(uint32_t flags)
{
	if (flags & PSF_SF_IDLE)
		return "idle";
	if (flags & PSF_SF_GIL)
		return "active+gil";
	if (flags & PSF_SF_IDLE_UNKNOWN)
		return "unknown";
	return "active";
}

static void print_sample(struct target *t, const struct py_sample *s, uint32_t flags,
			 const char *name)
{
	uint32_t i;

	fprintf(t->print, "Thread %d (%s%s%s): \"%s\"\n", (int)s->tid, status_str(flags),
		(flags & PSF_SF_PARTIAL) ? ",partial" : "",
		(flags & PSF_SF_TRUNCATED) ? ",truncated" : "", name ? name : "");
	for (i = 0; i < s->nframes; i++) {
		const char *n, *q, *f;
		int32_t first;
		pyproc_frame_info(t->py, &s->frames[i], &n, &q, &f, &first);
		fprintf(t->print, "    %s (%s:%d)\n", q, f, (int)s->frames[i].line);
	}
}

static int cmp_preset(const void *a, const void *b)
{
	pid_t x = ((const struct preset *)a)->tid, y = ((const struct preset *)b)->tid;

	return x < y ? -1 : x > y;
}

void target_preset_states(struct target *t, const pid_t *tids, const char *states, size_t n)
{
	size_t k;

	t->npreset = 0;
	if (n > t->cappreset) {
		struct preset *np = realloc(t->presets, n * sizeof(*np));
		if (!np)
			return;
		t->presets = np;
		t->cappreset = n;
	}
	for (k = 0; k < n; k++) {
		t->presets[k].tid = tids[k];
		t->presets[k].state = states[k];
	}
	if (n)   /* no threads: presets may still be NULL, which qsort() must not get */
		qsort(t->presets, n, sizeof(*t->presets), cmp_preset);
	t->npreset = n;
}

/* The state read before pausing the threads, or 0. */
static char preset_state(const struct target *t, pid_t tid)
{
	struct preset key, *f;

	if (!t->npreset || tid <= 0)
		return 0;
	key.tid = tid;
	f = bsearch(&key, t->presets, t->npreset, sizeof(*t->presets), cmp_preset);
	return f ? f->state : 0;
}

struct locals_ctx {
	struct target *t;
	uint64_t t_ns;
	uint32_t depth;
};

static int on_local(void *arg, const char *name, const char *repr, size_t len, uint32_t flags)
{
	struct locals_ctx *lc = arg;
	struct target *t = lc->t;
	struct psf_local l;
	int r;

	memset(&l, 0, sizeof(l));
	l.t_ns = lc->t_ns;
	l.depth = lc->depth;
	l.flags = flags & (PSF_LF_ARG | PSF_LF_TRUNCATED | PSF_LF_ERROR);
	l.name = intern(t, name);
	l.repr = repr;
	l.repr_len = (uint32_t)(len > PSF_MAX_STRING ? PSF_MAX_STRING : len);
	l.thread = lc->t->cur_thread;
	r = psf_writer_local(t->w, &l);
	caperr_set(r);
	if (t->print)
		fprintf(t->print, "            %s%s: %.*s\n", (flags & PSF_LF_ARG) ? "(arg) " : "",
			name, (int)l.repr_len, repr);
	return r < 0;
}

/*
 * --locals: each frame's arguments and local variables, read while the
 * threads are still paused (the sample callback runs inside the pause).
 */
static void write_locals(struct target *t, const struct py_sample *s, uint32_t thread,
			 uint64_t rel)
{
	const struct pyrt *rt = pyproc_runtime(t->py);
	struct pyobj_ctx c = { t->pid, &rt->L, 0 };
	struct locals_ctx lc = { t, rel, 0 };
	uint32_t i;

	t->cur_thread = thread;
	for (i = 0; i < s->nframes && !caperr_get(NULL); i++) {
		uint64_t frame, code;
		char err[256];
		lc.depth = i;
		if (pyproc_frame_where(t->py, i, &frame, &code) < 0)
			continue;
		if (t->print) {
			const char *n, *q, *f;
			int32_t first;
			pyproc_frame_info(t->py, &s->frames[i], &n, &q, &f, &first);
			fprintf(t->print, "        locals of %s (%s:%d):\n", q, f, (int)s->frames[i].line);
		}
		if (pyrepr_locals(&c, frame, code, t->locals_budget, t->locals_verify, on_local, &lc,
				  err, sizeof(err)) < 0) {
			char msg[300];
			snprintf(msg, sizeof(msg), "? (%s)", err);
			on_local(&lc, "<locals>", msg, strlen(msg), PSF_LF_ERROR);
		}
	}
}

static void on_sample(void *ctx, const struct py_sample *s)
{
	struct target *t = ctx;
	struct target_thread *tt = slot(t, s->slot);
	uint32_t flags = s->flags, stack = 0, n = s->nframes, common = 0, i;
	uint64_t rel = s->t_ns > t->start_mono_ns ? s->t_ns - t->start_mono_ns : 0;
	const char *name = s->name;
	char comm[64];
	char state;
	struct psf_sample smp;
	int r;

	if (!tt) {
		errno = ENOMEM;
		caperr_set(PSF_E_NOMEM);
		return;
	}
	if (s->is_new || !tt->used) {
		struct psf_thread th;
		thread_close(tt);
		tt->used = 1;
		tt->tid = s->tid;
		tt->statfd = s->tid > 0 ? proc_stat_open(t->pid, s->tid) : -1;
		tt->depth = 0;
		tt->named_py = name != NULL;
		tt->name_gen = s->name_gen;
		/* No threading name (yet): the OS name, which 3.14+ sets. */
		if (!name && s->tid > 0 && proc_comm(t->pid, s->tid, comm, sizeof(comm)) > 0)
			name = comm;
		memset(&th, 0, sizeof(th));
		th.process = t->process_id;
		th.tid = s->tid;
		th.py_thread_id = s->thread_id;
		th.name = intern(t, name);
		snprintf(tt->name, sizeof(tt->name), "%s", name ? name : "");
		th.first_ns = rel;
		th.interp = s->interp_id;
		th.flags = s->is_main ? PSF_TF_MAIN : 0;
		r = psf_writer_thread(t->w, &th, &tt->psf_id);
		caperr_set(r);
	} else if (name && (!tt->named_py || s->name_gen != tt->name_gen)) {
		struct psf_thread_name tn;
		tt->named_py = 1;
		tt->name_gen = s->name_gen;
		tn.thread = tt->psf_id;
		tn.t_ns = rel;
		tn.name = intern(t, name);
		snprintf(tt->name, sizeof(tt->name), "%s", name);
		r = psf_writer_thread_name(t->w, &tn);
		caperr_set(r);
	}
	/* Idle: the kernel's view of the thread. */
	state = preset_state(t, s->tid);
	if (!state)
		state = proc_stat_fd_state(tt->statfd);
	if (state == 0)
		flags |= PSF_SF_IDLE_UNKNOWN;
	else if (state != 'R')
		flags |= PSF_SF_IDLE;
	/* Stack: reuse the ids of the unchanged outer frames. */
	if (n > tt->cap) {
		uint32_t nc = tt->cap ? tt->cap : 64;
		while (nc < n)
			nc *= 2;
		tt->sframe = realloc(tt->sframe, nc * sizeof(*tt->sframe));
		tt->sid = realloc(tt->sid, nc * sizeof(*tt->sid));
		tt->sline = realloc(tt->sline, nc * sizeof(*tt->sline));
		if (!tt->sframe || !tt->sid || !tt->sline) {
			errno = ENOMEM;
			caperr_set(PSF_E_NOMEM);
			tt->cap = 0;
			tt->depth = 0;
			return;
		}
		tt->cap = nc;
	}
	while (common < n && common < tt->depth &&
	       tt->sframe[common] == s->frames[n - 1 - common].frame &&
	       tt->sline[common] == s->frames[n - 1 - common].line)
		common++;
	stack = common ? tt->sid[common - 1] : 0;
	for (i = common; i < n; i++) {
		const struct py_frame *f = &s->frames[n - 1 - i];
		r = psf_writer_stack(t->w, stack, f->frame, f->line, &stack);
		if (r < 0) {
			caperr_set(r);
			tt->depth = 0;
			return;
		}
		tt->sframe[i] = f->frame;
		tt->sline[i] = f->line;
		tt->sid[i] = stack;
	}
	tt->depth = n;
	/*
	 * A sample carries the time of its tick: the tick's one read copies
	 * every thread's stack at its start, so the moment this callback runs
	 * says nothing more precise, and a constant offset column costs
	 * nothing in the file (docs/format.md 5.3) while a jittery one cost
	 * ~0.15 byte per sample.
	 */
	smp.t_ns = t->tick_ns > rel ? rel : t->tick_ns;
	smp.late_ns = 0;
	smp.thread = tt->psf_id;
	smp.stack = stack;
	smp.flags = flags;
	r = psf_writer_sample(t->w, &smp);
	if (r < 0) {
		caperr_set(r);
		return;
	}
	tt->last_ns = smp.t_ns;
	t->samples++;
	if (flags & PSF_SF_PARTIAL)
		t->partial++;
	if (t->print)
		print_sample(t, s, flags, tt->name);
	if (t->locals_budget && n)
		write_locals(t, s, tt->psf_id, smp.t_ns);
}

static void on_thread_end(void *ctx, uint32_t i)
{
	struct target *t = ctx;
	struct psf_thread_end e;
	int r;

	if (i >= t->nth || !t->th[i].used)
		return;
	e.thread = t->th[i].psf_id;
	e.last_ns = t->th[i].last_ns;
	r = psf_writer_thread_end(t->w, &e);
	caperr_set(r);
	thread_close(&t->th[i]);
}

static const struct pyproc_ops ops = { on_sample, on_thread_end };

void target_check(struct target *t)
{
	struct proc_stat st;
	char c, exe[1024];
	ssize_t n;

	if (t->state != TARGET_LIVE)
		return;
	if (t->memfd < 0)
		return;
	n = pread(t->memfd, &c, 1, (off_t)t->probe_addr);
	if (n == 1) {
		/* Still readable; but another executable, or a fork child that
		 * is one no more, means an exec (the new image may map that
		 * address too; a vfork child's descriptor reads its parent). */
		uint64_t dev, ino;
		int same = proc_exe_id(t->pid, &dev, &ino) < 0 || !t->exe_ino ||
			   (dev == t->exe_dev && ino == t->exe_ino);
		if (same && t->forknoexec && proc_stat_read(t->pid, 0, &st) == 0 &&
		    !(st.flags & PROC_PF_FORKNOEXEC) && st.state != 'Z' && st.state != 'X')
			same = 0;
		if (same)
			return;
	}
	/* The address space the capture attached to is gone: exec, or exit
	 * (an exiting process drops its memory before it becomes a zombie,
	 * and then has no executable any more). */
	if (!proc_exists(t->pid) || proc_stat_read(t->pid, 0, &st) < 0 || st.state == 'Z' ||
	    st.state == 'X' || proc_exe(t->pid, exe, sizeof(exe)) < 0) {
		int ws;
		t->state = TARGET_EXITED;
		t->end_how = PSF_END_UNKNOWN;
		t->end_status = 0;
		/* Not our child: its status is known while it is a zombie
		 * (its parent has not reaped it yet), else unknown. */
		if (!t->reaped && proc_exit_status(t->pid, &ws) == 1) {
			if (WIFEXITED(ws)) {
				t->end_how = PSF_END_EXITED;
				t->end_status = WEXITSTATUS(ws);
			} else if (WIFSIGNALED(ws)) {
				t->end_how = PSF_END_SIGNALED;
				t->end_status = WTERMSIG(ws);
			}
		}
	} else {
		t->state = TARGET_EXEC;
		t->end_how = PSF_END_EXEC;
	}
}

int target_sample(struct target *t, uint64_t now_ns)
{
	int r;

	if (t->state != TARGET_LIVE)
		return 0;
	t->tick_ns = now_ns;
	if (t->print)
		fprintf(t->print, "--- pid %d at %.6f s\n", (int)t->pid, now_ns / 1e9);
	r = pyproc_sample(t->py, &ops, t);
	t->npreset = 0;   /* good for this pass only */
	if (caperr_get(NULL))
		return caperr_get(NULL);
	if (r == -EIO) {
		/* The Python reader's write failed; it reported why. */
		caperr_set(PSF_E_IO);
		return caperr_get(NULL);
	}
	t->last_ns = now_ns;
	if (r == 0) {
		t->noread_ticks = 0;
		return 0;
	}
	if (r == PYPROC_GONE) {
		target_check(t);
		if (t->state == TARGET_LIVE) {
			t->state = TARGET_EXITED;
			t->end_how = PSF_END_UNKNOWN;
		}
		return 0;
	}
	if (r == PYPROC_NOINTERP) {
		/* Finalising, exec'd or exiting: look closer after a few. */
		if (++t->noread_ticks >= 3)
			target_check(t);
		return 0;
	}
	t->state = TARGET_ERROR;
	t->end_errno = -r;
	t->end_how = PSF_END_UNKNOWN;
	return 0;
}

static void no_sample(void *ctx, const struct py_sample *s)
{
	(void)ctx;
	(void)s;
}

int target_learn_threads(struct target *t)
{
	static const struct pyproc_ops learn = { no_sample, NULL };
	struct pyproc_stats st;
	int r;

	if (t->state != TARGET_LIVE)
		return 0;
	pyproc_stats(t->py, &st);
	if (st.ticks)
		return 0;
	r = pyproc_sample(t->py, &learn, t);
	if (caperr_get(NULL))
		return caperr_get(NULL);
	if (r == -EIO) {
		caperr_set(PSF_E_IO);
		return caperr_get(NULL);
	}
	return 0;
}

int target_flush_errors(struct target *t, uint64_t now_ns, uint64_t *total)
{
	uint64_t counts[PSF_ERRK_COUNT_];
	int k, r;

	if (!t->py)
		return 0;
	pyproc_take_errors(t->py, counts);
	for (k = 0; k < PSF_ERRK_COUNT_; k++) {
		struct psf_errors e;
		if (!counts[k])
			continue;
		if (total)
			*total += counts[k];
		e.process = t->process_id;
		e.t_ns = now_ns;
		e.kind = (uint32_t)k;
		e.count = counts[k];
		r = psf_writer_errors(t->w, &e);
		if (r < 0) {
			caperr_set(r);
			return r;
		}
	}
	return 0;
}

int target_finish(struct target *t, uint64_t now_ns, uint8_t how, int32_t status)
{
	struct psf_process_end e;
	uint32_t i;
	int r;

	for (i = 0; i < t->nth; i++) {
		struct psf_thread_end te;
		if (!t->th[i].used)
			continue;
		te.thread = t->th[i].psf_id;
		te.last_ns = t->th[i].last_ns;
		r = psf_writer_thread_end(t->w, &te);
		if (r < 0) {
			caperr_set(r);
			return r;
		}
		thread_close(&t->th[i]);
	}
	e.process = t->process_id;
	e.t_ns = now_ns;
	e.how = how;
	e.status = status;
	r = psf_writer_process_end(t->w, &e);
	caperr_set(r);
	return r;
}

void target_note_stats(const struct target *t)
{
	struct pyproc_stats ps;
	char hist[512];
	size_t len = 0;
	unsigned b;

	if (!t->py || msg_level < 3)
		return;
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
	for (b = 0; b < 16 && len < sizeof(hist) - 32; b++)
		if (ps.read_hist[b])
			len += (size_t)snprintf(hist + len, sizeof(hist) - len, " <%uus:%llu",
						 1u << b, (unsigned long long)ps.read_hist[b]);
	note(3, "pid %d: verifying reads: %llu slow (max %.1f us), %llu walks "
	     "not trusted for it; by duration:%s", (int)t->pid,
	     (unsigned long long)ps.slow_reads, ps.max_read_ns / 1e3,
	     (unsigned long long)ps.torn_slow, len ? hist : " none");
}

void target_release(struct target *t)
{
	uint32_t i;

	if (!t)
		return;
	for (i = 0; i < t->nth; i++) {
		thread_close(&t->th[i]);
		free(t->th[i].sframe);
		free(t->th[i].sid);
		free(t->th[i].sline);
	}
	free(t->th);
	t->th = NULL;
	t->nth = 0;
	free(t->presets);
	t->presets = NULL;
	t->npreset = t->cappreset = 0;
	if (t->memfd >= 0)
		close(t->memfd);
	t->memfd = -1;
	pyproc_free(t->py);
	t->py = NULL;
}
