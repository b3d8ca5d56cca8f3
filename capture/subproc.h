/*
 * subproc.h - following a target's descendants (pyspy-capture -s).
 *
 * The tree is discovered from the children files of the processes already
 * known (/proc/PID/task/TID/children), never by rescanning all of /proc
 * (that is only the fallback on kernels without children files, once a
 * second).  Each new process goes through discovery: a Python process is
 * handed to the sampler (attach), a process whose interpreter is still
 * starting is retried (1 ms, growing to 100 ms), a process that is not
 * Python yet is given a short grace (its exec may not have mapped Python
 * yet) and then watched for an exec (its executable's device and inode
 * change).  Zombies and processes that vanish are dropped; nothing here
 * ever fails the capture.
 *
 * Non-Python processes between the root and a Python one (a shell that
 * starts Python) get a PROCESS record of their own (no Python version), so
 * the tree in the capture file is connected; they are ended with
 * PROCESS_END like the others.  A process adopted by the capture (it is
 * the child subreaper in launch mode) is recorded as a child of the root.
 */
#ifndef PYSPY_CAPTURE_SUBPROC_H
#define PYSPY_CAPTURE_SUBPROC_H

#include <stdint.h>
#include <sys/types.h>

#include "pyspy_format.h"
#include "python/pyrt.h"

struct subproc;

/*
 * Hand a Python process to the sampler: ppid as it should be recorded.
 * Returns 0, 1 when it could not be traced (it is then skipped), 2 when
 * it changed since it was discovered (an exec: it is discovered again), or
 * a negative PSF_E_* when writing failed (the capture stops).
 */
typedef int (*subproc_attach_fn)(void *ctx, pid_t pid, pid_t ppid, const struct pyrt *rt);

/*
 * Follow the descendants of root.  root_python: the sampler traces root
 * already.  adopter: our own pid when we are the child subreaper (orphans
 * are re-parented to us), else 0.  w: where non-Python ancestors are
 * recorded.  NULL on ENOMEM.
 */
struct subproc *subproc_new(pid_t root, int root_python, pid_t adopter, struct psf_writer *w,
			    uint64_t start_mono_ns, subproc_attach_fn attach, void *ctx);

/* Accepts NULL. */
void subproc_free(struct subproc *sp);

/*
 * Rescan and discover, if due at now (CLOCK_MONOTONIC ns): every 20 ms
 * while the tree changes or a process is being discovered, else every
 * 100 ms.  Returns 0, or the first negative PSF_E_* a write returned.
 */
int subproc_poll(struct subproc *sp, uint64_t now_ns);

/*
 * Find the whole tree now and discover every process in it, waiting up to
 * wait_ns for interpreters that are still starting (--dump).  Same result
 * as subproc_poll.
 */
int subproc_settle(struct subproc *sp, uint64_t wait_ns);

/*
 * What happened to a traced process: it ended (exited, killed, or
 * unreadable), or it exec'd (it is discovered again: a new Python process,
 * or a program that is watched for children and further execs).
 */
void subproc_target_ended(struct subproc *sp, pid_t pid);
void subproc_target_exec_other(struct subproc *sp, pid_t pid);

/* We reaped pid (launch mode): how (PSF_END_*) and status. */
void subproc_reaped(struct subproc *sp, pid_t pid, int how, int status);

/*
 * 1 while a process of the tree that is not traced may still matter: it
 * lives (it can start or become Python), or it is being discovered.
 */
int subproc_active(struct subproc *sp);

/* Counts for the summary: processes seen, Python ones attached. */
void subproc_counts(const struct subproc *sp, unsigned *seen, unsigned *python);

/* End the records of the non-Python processes (PROCESS_END). */
int subproc_finish(struct subproc *sp, uint64_t now_ns);

#endif /* PYSPY_CAPTURE_SUBPROC_H */
