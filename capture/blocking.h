/*
 * blocking.h - --blocking: pause only the target's Python threads while
 * their stacks are read.
 *
 * Each tick: PTRACE_SEIZE + PTRACE_INTERRUPT every Python thread, wait
 * until each is in its interrupt stop (bounded), read, then PTRACE_DETACH
 * every one of them (re-injecting a signal that arrived meanwhile).  No
 * other thread of the target is touched; nothing is written.  Threads are
 * never left attached between ticks, and if the capture dies while they
 * are stopped the kernel detaches and resumes them (ptrace(2): tracees of
 * an exiting tracer are detached; PTRACE_O_EXITKILL is never set).
 */
#ifndef PYSPY_CAPTURE_BLOCKING_H
#define PYSPY_CAPTURE_BLOCKING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct blocker;

/* NULL on ENOMEM.  Free with blocking_free(). */
struct blocker *blocking_new(void);

/*
 * Pause the given threads.  Returns how many are stopped; *failed counts
 * threads that could not be paused (gone, or -errno in *err for EPERM).
 */
size_t blocking_stop(struct blocker *b, const pid_t *tids, size_t n, uint64_t *failed,
		     int *err);

/* Resume (detach) every thread paused by blocking_stop(). */
void blocking_resume(struct blocker *b);

/*
 * A stop of tid that someone else's waitpid() collected (the launched
 * child's main thread): detach it if it is one of ours.
 */
void blocking_took_stop(struct blocker *b, pid_t tid, int wstatus);

/* Resume everything, wait briefly for stragglers, free.  Accepts NULL. */
void blocking_free(struct blocker *b);

/*
 * The wait status of a held thread that ended while paused (1, once), else
 * 0.  A thread group leader's is the process's exit status.
 */
int blocking_exit_status(struct blocker *b, pid_t tid, int *wstatus);

#endif /* PYSPY_CAPTURE_BLOCKING_H */
