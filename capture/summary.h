/*
 * summary.h - the one line pyspy-capture prints at the end: what was
 * captured, where, and why it ended - or what went wrong.
 */
#ifndef PYSPY_CAPTURE_SUMMARY_H
#define PYSPY_CAPTURE_SUMMARY_H

#include <stdint.h>
#include <sys/types.h>

struct summary {
	int reason;              /* enum psf_stop_reason */
	pid_t pid;               /* the target */
	const char *program;     /* launch mode: argv[0], else NULL */
	int child_how;           /* the root's enum psf_end_how, 0 = unknown */
	int child_status;
	uint64_t samples;        /* samples the file holds (psf_writer_samples) */
	uint64_t errors;
	uint64_t bytes;
	uint64_t end_ns;         /* when the sampling stopped, since its start */
	const char *path;
	int subprocesses;        /* -s: seen and python count the tree */
	unsigned seen, python;
	int dump, locals;        /* --dump, --locals */
	int text_dump;           /* --dump rendered as text: no line on success */
	unsigned dump_procs;     /* processes dumped */
	int stop_signo;          /* PSF_STOP_SIGNAL: which */
	int write_failed;        /* caperr.h holds the error */
	int attached;            /* --pid: the target runs on after a failure */
};

/*
 * The line for a capture whose writing failed; then: what happens next
 * (e.g. "; letting 'x' (pid 5) finish"), or "".
 */
void summary_write_failed(const struct summary *sm, const char *then);

/* Print the closing line (unless -q); returns the exit status, 0 or 1. */
int summary_print(const struct summary *sm);

#endif /* PYSPY_CAPTURE_SUMMARY_H */
