/*
 * launch.h - running the program to profile (pyspy-capture -- PROGRAM ARGS).
 *
 * The child inherits stdin, stdout and stderr, default signal handling and
 * an unblocked signal mask; it is in the capture's process group, so a
 * terminal's Ctrl-C reaches both.
 */
#ifndef PYSPY_CAPTURE_LAUNCH_H
#define PYSPY_CAPTURE_LAUNCH_H

#include <sys/types.h>

/*
 * fork + execvp(argv[0], argv).  Returns 0 and *pid once the exec
 * succeeded, or -errno of the failed exec (the child is reaped).
 */
int launch_start(char *const argv[], pid_t *pid);

/*
 * Reap the child if it ended (nohang) or wait for it.  Returns 1 and sets
 * *how (PSF_END_EXITED / PSF_END_SIGNALED) and *status when it ended, 0 if
 * it is still running, -errno on error.  With --blocking the child is also
 * a tracee whose ptrace stops waitpid() reports: then 2 is returned with
 * the raw wait status in *status (see blocking_took_stop()).
 */
int launch_reap(pid_t pid, int nohang, int *how, int *status);

#endif /* PYSPY_CAPTURE_LAUNCH_H */
