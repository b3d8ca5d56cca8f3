/*
 * launch.h - running the program to profile (pyspy-capture -- PROGRAM ARGS).
 *
 * The child inherits stdin, stdout and stderr (stdout can be replaced,
 * so that it never shares the capture's stream), default signal handling
 * and an unblocked signal mask.  With a controlling terminal it is in the
 * capture's process group, so a terminal's Ctrl-C reaches both.  Without
 * one (CI, scripts, services) it runs in a session of its own: the kernel
 * schedules each session as one group (autogroup), and a busy program in
 * the capture's group left the capture a sliver of its CPU share - ticks
 * woke late and were missed (80-90 % of the rate, half under load).
 */
#ifndef PYSPY_CAPTURE_LAUNCH_H
#define PYSPY_CAPTURE_LAUNCH_H

#include <sys/types.h>

/*
 * fork + execvp(argv[0], argv).  stdout_fd >= 0: the child's standard
 * output is a copy of it.  own_session: setsid() in the child.  Returns 0
 * and *pid once the exec succeeded, or -errno of the failed exec (the
 * child is reaped).
 */
int launch_start(char *const argv[], int stdout_fd, int own_session, pid_t *pid);

/*
 * The stop signal the capture got (sig.h) if the program did not get it
 * too (it came from kill(2), or the program has a session of its own),
 * else 0: the first signal for launch_end().
 */
int launch_pass_signal(void);

/*
 * Reap the child if it ended (nohang) or wait for it.  Returns 1 and sets
 * *how (PSF_END_EXITED / PSF_END_SIGNALED) and *status when it ended, 0 if
 * it is still running, -errno on error.  With --blocking the child is also
 * a tracee whose ptrace stops waitpid() reports: then 2 is returned with
 * the raw wait status in *status (see blocking_took_stop()).
 */
int launch_reap(pid_t pid, int nohang, int *how, int *status);

/*
 * End the child if it outlives the capture, and reap it.  first: the
 * signal to send first (0: it already got one, e.g. the terminal's Ctrl-C
 * reached its process group); SIGTERM follows, then SIGKILL, two seconds
 * apart.
 */
void launch_end(pid_t pid, int first, int *how, int *status);

/*
 * Let the child finish: wait until it exits.  A stop signal sent to the
 * capture meanwhile (sig.h) is passed on as in launch_end().
 */
void launch_wait(pid_t pid, int *how, int *status);

#endif /* PYSPY_CAPTURE_LAUNCH_H */
