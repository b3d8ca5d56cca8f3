/*
 * session.h - one run of pyspy-capture: find or start the target, open
 * the output, sample until a stop condition, then end everything along
 * one path - the launched program (let finish, ended or left running),
 * the file's last records and trailer, the closing line.
 *
 *     session_start() -> session_sample() -> session_end()
 *
 * session_end() is the only cleanup path, whatever failed before it.
 */
#ifndef PYSPY_CAPTURE_SESSION_H
#define PYSPY_CAPTURE_SESSION_H

#include <stdint.h>
#include <sys/types.h>

/* What the command line asked for (main.c checks the combinations). */
struct session_opts {
	pid_t pid;               /* --pid, or 0 */
	char **program;          /* PROGRAM [ARGS...], or NULL */
	const char *output;      /* -o, or NULL for the default */
	uint32_t rate;
	uint64_t duration_ns;    /* 0 = none */
	int blocking;
	int exponential;         /* --timer exponential */
	int print;
	int subprocesses;        /* -s */
	int dump;                /* --dump */
	int locals;              /* -l count */
	int argc;                /* our own command line, for the metadata */
	char **argv;
};

struct session;

/*
 * Everything up to the first tick.  0, or the exit status (1) after one
 * error line; *out is then still to be passed to session_end().
 */
int session_start(struct session **out, const struct session_opts *o);

/* Sample until a stop condition (or take the one --dump snapshot). */
void session_sample(struct session *s);

/*
 * End the run: the program, the file, the closing line; frees s (accepts
 * NULL).  ret: session_start()'s result.  Returns the exit status.
 */
int session_end(struct session *s, int ret);

#endif /* PYSPY_CAPTURE_SESSION_H */
