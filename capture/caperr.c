/*
 * caperr.c - the capture's first error (see caperr.h).
 */
#include "caperr.h"

#include <errno.h>
#include <string.h>

#include "pyspy_format.h"

static int first_err, first_errno;

void caperr_set(int r)
{
	int e = errno;

	if (r < 0 && !first_err) {
		first_err = r;
		first_errno = e;
	}
}

int caperr_get(int *errnum)
{
	if (errnum)
		*errnum = first_errno;
	return first_err;
}

const char *caperr_text(void)
{
	if (first_err == PSF_E_IO && first_errno)
		return strerror(first_errno);
	if (first_err == PSF_E_NOMEM)
		return strerror(ENOMEM);
	return psf_strerror(first_err);
}
