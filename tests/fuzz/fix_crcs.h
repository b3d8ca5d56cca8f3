/*
 * fix_crcs.h - shared by the fuzz targets: make a mutated capture's CRCs
 * right again, so that the fuzzer reaches the decoders behind the
 * checksums instead of stopping at them.  Include after format_int.h.
 */
#ifndef PYSPY_TESTS_FUZZ_FIX_CRCS_H
#define PYSPY_TESTS_FUZZ_FIX_CRCS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Recompute the header CRC and the CRCs of every chunk that can be found. */
static inline void fix_crcs(uint8_t *p, size_t n)
{
	size_t hs, pos;

	if (n < 16 || memcmp(p, PSF_MAGIC, PSF_MAGIC_LEN) != 0)
		return;
	hs = psf_get_le32(p + 12);
	if (hs < PSF_MIN_HEADER || hs > n)
		return;
	psf_put_le32(p + hs - 4, psf_crc32c(0, p, hs - 4));
	for (pos = hs; n - pos >= PSF_CHUNK_HEADER;) {
		uint8_t *h = p + pos;
		size_t stored = psf_get_le32(h + 12);

		if (memcmp(h, PSF_CHUNK_MAGIC, 4) != 0 || stored > n - pos - PSF_CHUNK_HEADER)
			break;
		psf_put_le32(h + 20, psf_crc32c(0, h + PSF_CHUNK_HEADER, stored));
		psf_put_le32(h + 28, psf_crc32c(0, h, 28));
		pos += PSF_CHUNK_HEADER + stored;
	}
}

#endif /* PYSPY_TESTS_FUZZ_FIX_CRCS_H */
