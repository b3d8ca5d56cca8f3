/*
 * rusage_exec - run a command and report its resource usage (for the
 * benchmark harness, bench/bench.py).
 *
 * usage: rusage_exec [-o FILE] COMMAND [ARGS...]
 *   Runs COMMAND with standard output to FILE (default /dev/null) and the
 *   same standard error, and prints on its own standard output:
 *     pid PID                               as soon as COMMAND started
 *     exit STATUS UTIME_US STIME_US MAXRSS_KB   when it ended (wait4)
 *   STATUS is the exit code, or -SIGNAL.  COMMAND is killed if
 *   rusage_exec dies.
 *
 * Why not measure from the harness itself: ru_maxrss counts the peak RSS of
 * the process before exec() too, so a child forked from a Python harness
 * reports at least the harness's own RSS.  This program is small, so the
 * peak RSS it reports is the command's.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *out = "/dev/null";
	int argi = 1, status;
	pid_t pid, ppid = getpid();
	struct rusage ru;

	if (argc > 2 && strcmp(argv[1], "-o") == 0) {
		out = argv[2];
		argi = 3;
	}
	if (argi >= argc) {
		fprintf(stderr, "usage: rusage_exec [-o FILE] COMMAND [ARGS...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("rusage_exec: fork");
		return 1;
	}
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0) {
			fprintf(stderr, "rusage_exec: %s: %s\n", out, strerror(errno));
			_exit(127);
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != ppid)
			_exit(127);
		execvp(argv[argi], argv + argi);
		fprintf(stderr, "rusage_exec: %s: %s\n", argv[argi], strerror(errno));
		_exit(127);
	}
	printf("pid %d\n", (int)pid);
	fflush(stdout);
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("rusage_exec: wait4");
			return 1;
		}
	}
	printf("exit %d %ld %ld %ld\n",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status),
	       (long)ru.ru_utime.tv_sec * 1000000L + (long)ru.ru_utime.tv_usec,
	       (long)ru.ru_stime.tv_sec * 1000000L + (long)ru.ru_stime.tv_usec, ru.ru_maxrss);
	return 0;
}
