/*
 * sig.h - the signals pyspy-capture handles: SIGINT, SIGTERM and SIGHUP
 * ask the capture to stop (only a flag is set; the file is completed),
 * SIGCHLD says a child changed state, SIGPIPE and SIGXFSZ are ignored so
 * that write errors come back as EPIPE / EFBIG.
 */
#ifndef PYSPY_CAPTURE_SIG_H
#define PYSPY_CAPTURE_SIG_H

#include <signal.h>

/* Set by the handlers; sig_stop and sig_child are cleared by their users. */
extern volatile sig_atomic_t sig_stop;       /* asked to stop */
extern volatile sig_atomic_t sig_signo;      /* the first stop signal */
extern volatile sig_atomic_t sig_from_user;  /* ... sent with kill(2), not a terminal's key */
extern volatile sig_atomic_t sig_child;      /* SIGCHLD arrived */

void sig_install(void);

#endif /* PYSPY_CAPTURE_SIG_H */
