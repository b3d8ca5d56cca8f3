/*
 * meta.h - the capture file's header metadata: host, kernel, command
 * lines, Python, rate and time unit (docs/format.md).
 */
#ifndef PYSPY_CAPTURE_META_H
#define PYSPY_CAPTURE_META_H

#include <stdint.h>
#include <sys/types.h>

#include "pyspy_format.h"
#include "python/pyrt.h"

/* Storage for the strings psf_meta points to. */
struct meta_buf {
	char cmd[4096], host[256], kern[512];
	char *options;
};

struct meta_in {
	pid_t pid;               /* the target (launch mode: the program) */
	char **program;          /* PROGRAM [ARGS...], or NULL when attaching */
	int argc;                /* our own command line, recorded as the options */
	char **argv;
	uint32_t rate_hz;
	uint64_t start_mono_ns;
	uint32_t flags;          /* PSF_HF_* */
	const struct pyrt *rt;
};

/* Fill *m (pointing into *b).  0, or -1 with errno ENOMEM. */
int meta_build(struct psf_meta *m, struct meta_buf *b, const struct meta_in *in);

/* Free what meta_build() allocated.  Accepts a zeroed buffer. */
void meta_release(struct meta_buf *b);

#endif /* PYSPY_CAPTURE_META_H */
