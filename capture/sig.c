/*
 * sig.c - pyspy-capture's signal handlers (see sig.h).
 */
#include "sig.h"

#include <string.h>

volatile sig_atomic_t sig_stop, sig_signo, sig_from_user, sig_child;

static void on_stop(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!sig_stop) {
		sig_signo = sig;
		/* kill(2) from another process, not the terminal's Ctrl-C (which
		 * the launched program, in our process group, got too). */
		sig_from_user = si && (si->si_code == SI_USER || si->si_code == SI_QUEUE);
	}
	sig_stop = 1;
}

static void on_child(int sig)
{
	(void)sig;
	sig_child = 1;
}

void sig_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_stop;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
}
