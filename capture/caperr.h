/*
 * caperr.h - the capture's first error.
 *
 * A write that fails (disk full, file size limit, a closed pipe) or an
 * allocation that fails ends the capture.  Whoever sees the failure -
 * the sampler, a target, the Python reader while interning strings and
 * frames, the process-tree tracker - reports it here at once, so errno is
 * saved before anything else (resuming paused threads, another read) can
 * change it; the first report wins.  The writer keeps its own state as
 * well (it refuses everything after a failed write and knows what the
 * file holds).
 */
#ifndef PYSPY_CAPTURE_CAPERR_H
#define PYSPY_CAPTURE_CAPERR_H

/* Report r (a negative PSF_E_*) with the current errno; 0 is ignored. */
void caperr_set(int r);

/* The first error reported (0: none), its errno in *errnum (may be NULL). */
int caperr_get(int *errnum);

/*
 * Text for it: strerror(errno) of a failed write or allocation (a full
 * disk says "No space left on device"), else the format library's text.
 */
const char *caperr_text(void);

#endif /* PYSPY_CAPTURE_CAPERR_H */
