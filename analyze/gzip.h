/*
 * gzip.h - a minimal gzip (RFC 1952) writer, so that pprof output needs no
 * compression library: the data go into stored (uncompressed) deflate
 * blocks (RFC 1951 section 3.2.4) with the CRC-32 and length trailer.
 * Every gzip reader accepts them; the file is as large as the data plus
 * 5 bytes per 64 KiB and 18 bytes of header and trailer.  (pprof files
 * hold one entry per distinct stack, not per sample, so they stay small;
 * `gzip -9` recompresses one if size matters.)
 */
#ifndef PYSPY_ANALYZE_GZIP_H
#define PYSPY_ANALYZE_GZIP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* CRC-32 (ISO 3309, as gzip and zlib) of n bytes, continuing from crc (0 to start). */
uint32_t gzip_crc32(uint32_t crc, const void *data, size_t n);

/*
 * Write data[0..n) to fp as one gzip member (mtime 0, OS unknown: the
 * output depends only on the data).  Returns 0, or -1 with errno set when
 * a write fails.
 */
int gzip_write(FILE *fp, const void *data, size_t n);

#endif /* PYSPY_ANALYZE_GZIP_H */
