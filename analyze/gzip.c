/*
 * gzip.c - gzip member with stored deflate blocks (gzip.h).
 */
#include "gzip.h"

#include <errno.h>

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
	uint32_t i, c;
	int k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	crc_ready = 1;
}

uint32_t gzip_crc32(uint32_t crc, const void *data, size_t n)
{
	const unsigned char *p = data;

	if (!crc_ready)
		crc_init();
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put_le32(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
	b[2] = (unsigned char)(v >> 16);
	b[3] = (unsigned char)(v >> 24);
}

int gzip_write(FILE *fp, const void *data, size_t n)
{
	/* ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown) */
	static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};
	const unsigned char *p = data;
	unsigned char b[8];
	size_t left = n;

	if (fwrite(header, 1, sizeof(header), fp) != sizeof(header))
		goto fail;
	do {
		/* A stored block: BFINAL/BTYPE=00 byte, LEN, NLEN, then the bytes. */
		size_t len = left > 65535 ? 65535 : left;

		b[0] = len == left ? 1 : 0;
		b[1] = (unsigned char)len;
		b[2] = (unsigned char)(len >> 8);
		b[3] = (unsigned char)~len;
		b[4] = (unsigned char)(~len >> 8);
		if (fwrite(b, 1, 5, fp) != 5 || (len && fwrite(p, 1, len, fp) != len))
			goto fail;
		p += len;
		left -= len;
	} while (left);
	put_le32(b, gzip_crc32(0, data, n));
	put_le32(b + 4, (uint32_t)n); /* ISIZE: the length modulo 2^32 */
	if (fwrite(b, 1, 8, fp) != 8)
		goto fail;
	return 0;
fail:
	if (!errno)
		errno = EIO;
	return -1;
}
