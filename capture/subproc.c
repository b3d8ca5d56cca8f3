/*
 * subproc.c - following a target's descendants (see subproc.h).
 */
#include "subproc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "caperr.h"
#include "msg.h"
#include "proc.h"
#include "util.h"

#define SCAN_FAST_NS 20000000ull      /* rescan while the tree changes */
#define SCAN_SLOW_NS 100000000ull
#define BUSY_NS 2000000000ull         /* "changing" for this long after a change */
#define FALLBACK_SCAN_NS NS_PER_SEC /* /proc scan without children files */
#define ALL_TASKS_NS NS_PER_SEC    /* children of every thread of a big process */
#define MANY_TASKS 64
#define GRACE_NS 300000000ull         /* a new executable may not be Python yet */
#define MAX_KIDS 4096
#define FALLBACK_MAX 65536            /* processes of one /proc scan */

enum sp_state { SP_NEW, SP_PENDING, SP_PYTHON, SP_OTHER };

struct node {
	pid_t pid, ppid;             /* ppid as recorded */
	uint64_t starttime;          /* identity against pid reuse */
	enum sp_state state;
	uint64_t exe_dev, exe_ino;   /* its executable, to notice an exec */
	uint64_t exe_seen_ns;        /* when that executable was first seen */
	uint64_t next_try_ns, delay_ns;
	uint64_t all_tasks_ns;       /* last time every thread's children were read */
	uint32_t process_id;         /* PROCESS record of a non-Python process */
	int reaped, how, status;
	int warned;
	int counted;                 /* counted among the Python processes */
};

struct subproc {
	struct node *v;
	size_t n, cap;
	pid_t root, adopter;
	struct psf_writer *w;
	uint64_t start_mono;
	subproc_attach_fn attach;
	void *ctx;
	uint64_t next_scan_ns, busy_until_ns, fallback_ns;
	int no_children_files;
	pid_t *pids;                  /* the /proc scan's scratch (fallback) */
	unsigned seen, python;
	int warned_perm;
};

static struct node *find(struct subproc *sp, pid_t pid)
{
	size_t i;

	for (i = 0; i < sp->n; i++)
		if (sp->v[i].pid == pid)
			return &sp->v[i];
	return NULL;
}

static struct node *add(struct subproc *sp, pid_t pid, pid_t ppid, uint64_t now)
{
	struct proc_stat st;
	struct node *nd;

	if (proc_stat_read(pid, 0, &st) < 0 || st.state == 'Z' || st.state == 'X')
		return NULL;   /* gone already, or a zombie: nothing to sample */
	if (sp->n == sp->cap) {
		size_t nc = sp->cap ? sp->cap * 2 : 16;
		struct node *nv = realloc(sp->v, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		sp->v = nv;
		sp->cap = nc;
	}
	nd = &sp->v[sp->n++];
	memset(nd, 0, sizeof(*nd));
	nd->pid = pid;
	nd->ppid = ppid;
	nd->starttime = st.starttime;
	nd->state = SP_NEW;
	proc_exe_id(pid, &nd->exe_dev, &nd->exe_ino);
	nd->exe_seen_ns = now;
	nd->next_try_ns = now;
	sp->seen++;
	sp->busy_until_ns = now + BUSY_NS;
	return nd;
}

struct subproc *subproc_new(pid_t root, int root_python, pid_t adopter, struct psf_writer *w,
			    uint64_t start_mono_ns, subproc_attach_fn attach, void *ctx)
{
	struct subproc *sp = calloc(1, sizeof(*sp));
	uint64_t now = mono_ns();
	struct node *nd;

	if (!sp)
		return NULL;
	sp->root = root;
	sp->adopter = adopter;
	sp->w = w;
	sp->start_mono = start_mono_ns;
	sp->attach = attach;
	sp->ctx = ctx;
	sp->busy_until_ns = now + BUSY_NS;
	nd = add(sp, root, 0, now);
	if (nd) {
		struct proc_stat st;
		if (proc_stat_read(root, 0, &st) == 0)
			nd->ppid = st.ppid;
		nd->state = root_python ? SP_PYTHON : SP_OTHER;
		if (root_python) {
			sp->python++;
			nd->counted = 1;
		}
	}
	return sp;
}

void subproc_free(struct subproc *sp)
{
	if (!sp)
		return;
	free(sp->v);
	free(sp->pids);
	free(sp);
}

static uint64_t rel(const struct subproc *sp, uint64_t now)
{
	return now > sp->start_mono ? now - sp->start_mono : 0;
}

static void set_werr(struct subproc *sp, int r)
{
	(void)sp;
	caperr_set(r);
}

/* End the PROCESS record of a non-Python process. */
static void end_record(struct subproc *sp, struct node *nd, uint64_t now, int how, int status)
{
	struct psf_process_end e;

	if (!nd->process_id)
		return;
	e.process = nd->process_id;
	e.t_ns = rel(sp, now);
	e.how = (uint8_t)how;
	e.status = status;
	set_werr(sp, psf_writer_process_end(sp->w, &e));
	nd->process_id = 0;
}

/* The process is gone: end its record and forget it (its pid may be reused). */
static void drop(struct subproc *sp, struct node *nd, uint64_t now)
{
	end_record(sp, nd, now, nd->reaped ? nd->how : PSF_END_UNKNOWN,
		   nd->reaped ? nd->status : 0);
	*nd = sp->v[--sp->n];
	sp->busy_until_ns = now + BUSY_NS;
}

/* Record the non-Python processes between the root and nd (root first). */
static void record_ancestors(struct subproc *sp, struct node *nd, uint64_t now)
{
	struct node *chain[64];
	int n = 0;
	pid_t p = nd->ppid;

	while (n < 64) {
		struct node *a = find(sp, p);
		if (!a || a == nd)
			break;
		if (a->state != SP_PYTHON && !a->process_id)
			chain[n++] = a;
		if (a->pid == sp->root)
			break;
		p = a->ppid;
	}
	while (n-- > 0) {
		struct node *a = chain[n];
		struct psf_process pr;
		char cmd[4096];
		uint32_t id = 0;
		memset(&pr, 0, sizeof(pr));
		pr.pid = a->pid;
		pr.ppid = a->ppid;
		pr.start_ns = rel(sp, now);
		if (proc_cmdline(a->pid, cmd, sizeof(cmd)) > 0 &&
		    psf_writer_string(sp->w, cmd, strlen(cmd), &id) < 0)
			id = 0;
		pr.cmdline = id;
		set_werr(sp, psf_writer_process(sp->w, &pr, &a->process_id));
	}
}

/* One discovery attempt of a process that is not traced yet. */
static void discover(struct subproc *sp, struct node *nd, uint64_t now)
{
	struct pyrt rt;
	char err[512];
	enum pyrt_status st;
	uint64_t d, dev = 0, ino = 0;

	/*
	 * Note the executable before looking: an exec after this shows as a
	 * change to the next scan.  The one noted when the node was added may
	 * be stale: a child of a Python parent is first a copy of the parent,
	 * and "python -> bash -> python" ends on the executable it began with.
	 */
	if (proc_exe_id(nd->pid, &dev, &ino) == 0 && (dev != nd->exe_dev || ino != nd->exe_ino)) {
		nd->exe_dev = dev;
		nd->exe_ino = ino;
		nd->exe_seen_ns = now;
	}
	st = pyrt_discover(nd->pid, &rt, err, sizeof(err));

	switch (st) {
	case PYRT_OK: {
		int r;
		record_ancestors(sp, nd, now);
		/* A recorded non-Python process that exec'd into Python. */
		end_record(sp, nd, now, PSF_END_EXEC, 0);
		r = sp->attach(sp->ctx, nd->pid, nd->ppid, &rt);
		if (r < 0) {
			set_werr(sp, r);
			return;
		}
		if (r == 2) {
			/* It changed since: exec'd (watched for its new
			 * executable) or exited (dropped by the next scan). */
			nd->state = SP_NEW;
			nd->exe_seen_ns = now;
			nd->next_try_ns = now + 1000000;
			proc_exe_id(nd->pid, &nd->exe_dev, &nd->exe_ino);
			return;
		}
		if (r > 0) {
			nd->state = SP_OTHER;   /* could not be traced (out of memory) */
			return;
		}
		nd->state = SP_PYTHON;
		if (!nd->counted++)
			sp->python++;
		note(2, "pid %d (child of %d): Python %s", (int)nd->pid, (int)nd->ppid, rt.version);
		return;
	}
	case PYRT_E_NOPROC:
		nd->state = SP_OTHER;   /* the next scan drops it */
		return;
	case PYRT_E_NOTREADY:
		/* Python, initialising: like launch mode, retry soon. */
		d = nd->delay_ns ? nd->delay_ns * 2 : 1000000;
		nd->delay_ns = d > SCAN_SLOW_NS ? SCAN_SLOW_NS : d;
		nd->state = SP_PENDING;
		nd->next_try_ns = now + nd->delay_ns;
		return;
	case PYRT_E_PERM:
		if (!sp->warned_perm++)
			warning("cannot read process %d (a descendant): %s", (int)nd->pid, err);
		nd->state = SP_OTHER;
		return;
	case PYRT_E_UNSUPPORTED:
	case PYRT_E_FREETHREADED:
		if (!nd->warned++)
			warning("skipping descendant %d: %s", (int)nd->pid, err);
		nd->state = SP_OTHER;
		return;
	default:
		/* Not Python (yet?): an exec may still be mapping it. */
		if (now - nd->exe_seen_ns < GRACE_NS) {
			nd->state = SP_PENDING;
			nd->next_try_ns = now + 10000000;
		} else {
			nd->state = SP_OTHER;
			note(3, "pid %d is not Python: %s", (int)nd->pid, err);
		}
		return;
	}
}

/* Add the children of pid (ppid as recorded: as_ppid). */
static void add_children(struct subproc *sp, pid_t pid, pid_t as_ppid, int main_only,
			 uint64_t now)
{
	pid_t kids[MAX_KIDS];
	long n = proc_children(pid, main_only, kids, MAX_KIDS), i;

	if (n == -ENOTSUP) {
		sp->no_children_files = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		if (kids[i] == sp->root || find(sp, kids[i]))
			continue;
		add(sp, kids[i], as_ppid, now);
	}
}

static void scan(struct subproc *sp, uint64_t now)
{
	size_t i, n0 = sp->n;

	for (i = 0; i < sp->n && i < n0; i++) {
		struct node *nd = &sp->v[i];
		struct proc_stat st;
		int main_only = 0;
		if (nd->state != SP_PYTHON) {
			uint64_t dev = 0, ino = 0;
			if (proc_stat_read(nd->pid, 0, &st) < 0 || st.state == 'Z' || st.state == 'X' ||
			    st.starttime != nd->starttime) {
				/* A zombie's status is known until its parent
				 * reaps it (stat's exit_code). */
				if (!nd->reaped && proc_stat_read(nd->pid, 0, &st) == 0 &&
				    st.state == 'Z' && st.starttime == nd->starttime &&
				    st.exit_code >= 0 &&
				    (WIFEXITED(st.exit_code) || WIFSIGNALED(st.exit_code))) {
					nd->reaped = 1;
					nd->how = WIFEXITED(st.exit_code) ? PSF_END_EXITED
									  : PSF_END_SIGNALED;
					nd->status = WIFEXITED(st.exit_code) ? WEXITSTATUS(st.exit_code)
									     : WTERMSIG(st.exit_code);
				}
				drop(sp, nd, now);
				i--;
				n0--;
				continue;
			}
			if (nd->state == SP_OTHER && proc_exe_id(nd->pid, &dev, &ino) == 0 &&
			    (dev != nd->exe_dev || ino != nd->exe_ino)) {
				/* It exec'd: perhaps into Python. */
				nd->exe_dev = dev;
				nd->exe_ino = ino;
				nd->exe_seen_ns = now;
				nd->state = SP_NEW;
				nd->next_try_ns = now;
				nd->delay_ns = 0;
				sp->busy_until_ns = now + BUSY_NS;
			}
		}
		if (!sp->no_children_files) {
			/* A process with many threads: every thread's children
			 * once a second, the main thread's at every scan. */
			pid_t tids[MANY_TASKS + 1];
			if (now - nd->all_tasks_ns < ALL_TASKS_NS &&
			    proc_tasks(nd->pid, tids, MANY_TASKS + 1) > MANY_TASKS)
				main_only = 1;
			else
				nd->all_tasks_ns = now;
			add_children(sp, nd->pid, nd->pid, main_only, now);
		}
	}
	/* Orphans re-parented to us (the child subreaper) were the root's. */
	if (sp->adopter && !sp->no_children_files)
		add_children(sp, sp->adopter, sp->root, 0, now);
	if (sp->no_children_files && now >= sp->fallback_ns &&
	    (sp->pids || (sp->pids = malloc(2 * FALLBACK_MAX * sizeof(pid_t))))) {
		pid_t *pids = sp->pids, *ppids = sp->pids + FALLBACK_MAX;
		long m = proc_scan_ppids(pids, ppids, FALLBACK_MAX), k;
		int grew = 1;
		sp->fallback_ns = now + FALLBACK_SCAN_NS;
		/* Parents before children is not guaranteed: repeat until stable. */
		while (grew) {
			grew = 0;
			for (k = 0; k < m; k++) {
				pid_t as = ppids[k];
				if (pids[k] == sp->root || find(sp, pids[k]))
					continue;
				if (sp->adopter && as == sp->adopter)
					as = sp->root;
				else if (!find(sp, as))
					continue;
				if (add(sp, pids[k], as, now))
					grew = 1;
			}
		}
	}
}

int subproc_poll(struct subproc *sp, uint64_t now)
{
	size_t i;

	if (now >= sp->next_scan_ns) {
		scan(sp, now);
		sp->next_scan_ns = now + (now < sp->busy_until_ns ? SCAN_FAST_NS : SCAN_SLOW_NS);
	}
	for (i = 0; i < sp->n && !caperr_get(NULL); i++) {
		struct node *nd = &sp->v[i];
		if ((nd->state == SP_NEW || nd->state == SP_PENDING) && now >= nd->next_try_ns)
			discover(sp, nd, now);
	}
	return caperr_get(NULL);
}

int subproc_settle(struct subproc *sp, uint64_t wait_ns)
{
	uint64_t t0 = mono_ns(), now = t0;

	for (;;) {
		size_t i, pending = 0, n0 = sp->n;
		struct timespec ts = { 0, 5000000 };
		scan(sp, now);
		for (i = 0; i < sp->n && !caperr_get(NULL); i++) {
			struct node *nd = &sp->v[i];
			if (nd->state == SP_NEW || nd->state == SP_PENDING) {
				discover(sp, nd, now);
				pending += nd->state == SP_PENDING;
			}
		}
		if (caperr_get(NULL))
			return caperr_get(NULL);
		/* Done when nothing is starting and the last scan found nothing new. */
		if ((!pending && sp->n == n0) || now - t0 >= wait_ns)
			return 0;
		nanosleep(&ts, NULL);
		now = mono_ns();
	}
}

void subproc_target_ended(struct subproc *sp, pid_t pid)
{
	struct node *nd = find(sp, pid);

	if (nd && nd->state == SP_PYTHON) {
		*nd = sp->v[--sp->n];
		sp->busy_until_ns = mono_ns() + BUSY_NS;
	}
}

void subproc_target_exec_other(struct subproc *sp, pid_t pid)
{
	struct node *nd = find(sp, pid);
	uint64_t now = mono_ns();

	if (!nd)
		return;
	/* Discovered again: Python (traced anew) or not (watched). */
	nd->state = SP_NEW;
	nd->exe_seen_ns = now;
	nd->next_try_ns = now;
	nd->delay_ns = 0;
	proc_exe_id(pid, &nd->exe_dev, &nd->exe_ino);
	sp->busy_until_ns = now + BUSY_NS;
}

void subproc_reaped(struct subproc *sp, pid_t pid, int how, int status)
{
	struct node *nd = find(sp, pid);

	if (!nd)
		return;
	nd->reaped = 1;
	nd->how = how;
	nd->status = status;
	if (nd->state != SP_PYTHON)
		drop(sp, nd, mono_ns());
}

int subproc_active(struct subproc *sp)
{
	size_t i;

	for (i = 0; i < sp->n; i++)
		if (sp->v[i].state != SP_PYTHON)
			return 1;
	return 0;
}

void subproc_counts(const struct subproc *sp, unsigned *seen, unsigned *python)
{
	*seen = sp->seen;
	*python = sp->python;
}

int subproc_finish(struct subproc *sp, uint64_t now_ns)
{
	size_t i;

	for (i = 0; i < sp->n; i++) {
		struct node *nd = &sp->v[i];
		struct psf_process_end e;
		if (!nd->process_id)
			continue;
		e.process = nd->process_id;
		e.t_ns = now_ns;
		e.how = nd->reaped ? (uint8_t)nd->how : PSF_END_DETACHED;
		e.status = nd->reaped ? nd->status : 0;
		set_werr(sp, psf_writer_process_end(sp->w, &e));
		nd->process_id = 0;
	}
	return caperr_get(NULL);
}
