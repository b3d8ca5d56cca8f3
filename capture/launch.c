/*
 * launch.c - starting the profiled program (see launch.h).
 */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pyspy_format.h"
#include "sampler.h"
#include "sig.h"

/* The program runs in a session of its own: nothing else passes it our stop signals. */
static int alone;

int launch_start(char *const argv[], int stdout_fd, int own_session, pid_t *pid)
{
	int pfd[2], err = 0;
	pid_t c;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	c = fork();
	if (c < 0) {
		int e = errno;
		close(pfd[0]);
		close(pfd[1]);
		return -e;
	}
	if (c == 0) {
		sigset_t all;
		int s;
		close(pfd[0]);
		for (s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if (stdout_fd >= 0 && stdout_fd != 1 && dup2(stdout_fd, 1) < 0)
			_exit(127);
		if (own_session)
			setsid();
		execvp(argv[0], argv);
		err = errno;
		n = write(pfd[1], &err, sizeof(err));
		(void)n;
		_exit(127);
	}
	close(pfd[1]);
	/* EOF = the exec succeeded (CLOEXEC closed the pipe). */
	do {
		n = read(pfd[0], &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof(err)) {
		while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
			;
		return -err;
	}
	alone = own_session;
	*pid = c;
	return 0;
}

int launch_pass_signal(void)
{
	return sig_from_user || alone ? sig_signo : 0;
}

int launch_reap(pid_t pid, int nohang, int *how, int *status)
{
	int st;
	pid_t r;

	do {
		r = waitpid(pid, &st, (nohang ? WNOHANG : 0) | __WALL);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	if (WIFEXITED(st)) {
		*how = PSF_END_EXITED;
		*status = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st)) {
		*how = PSF_END_SIGNALED;
		*status = WTERMSIG(st);
	} else if (WIFSTOPPED(st)) {
		*status = st;
		return 2;
	} else {
		return 0;
	}
	return 1;
}

void launch_end(pid_t pid, int first, int *how, int *status)
{
	int sigs[3], n = 0, k;

	sigs[n++] = first;
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

void launch_wait(pid_t pid, int *how, int *status)
{
	for (;;) {
		struct timespec ts = { 0, 20000000 };
		int r = launch_reap(pid, 1, how, status);
		if (r == 1 || r < 0)
			return;
		if (sig_stop) {
			launch_end(pid, launch_pass_signal(), how, status);
			return;
		}
		nanosleep(&ts, NULL);
	}
}
