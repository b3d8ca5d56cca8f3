/*
 * launch.c - starting the profiled program (see launch.h).
 */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pyspy_format.h"

int launch_start(char *const argv[], pid_t *pid)
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
	*pid = c;
	return 0;
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
