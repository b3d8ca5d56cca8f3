/*
 * format_int.h - internals shared by the files of format/ (libpyspyfmt).
 *
 * Nothing outside format/ may include this header except the format unit
 * tests (tests/unit/format_*.c), which check these helpers directly.
 * Section numbers (§N) refer to docs/format.md.
 */
#ifndef PYSPY_FORMAT_FORMAT_INT_H
#define PYSPY_FORMAT_FORMAT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "pyspy_format.h"

/* §3.1: file header. */
#define PSF_MAGIC "\x89PYSPY\r\n"
#define PSF_MAGIC_LEN 8
#define PSF_FIXED_HEADER 40     /* magic .. capture_id */
#define PSF_MIN_HEADER 44       /* fixed part + header_crc */

/* §4: chunks. */
#define PSF_CHUNK_MAGIC "PSCK"
#define PSF_CHUNK_HEADER 32
#define PSF_COMP_STORED 0
#define PSF_COMP_ZSTD 1
#define PSF_ZSTD_WINDOW_LOG_MAX 27

/* §5.1: a varint is at most 10 bytes (64 bits). */
#define PSF_VARINT_MAX 10

/* §3.2: metadata keys (on-disk values, never renumbered). */
enum psf_meta_key {
	PSF_MK_HOSTNAME = 1,
	PSF_MK_KERNEL = 2,
	PSF_MK_TOOL_VERSION = 3,
	PSF_MK_START_WALL_NS = 4,
	PSF_MK_START_MONO_NS = 5,
	PSF_MK_RATE_HZ = 6,
	PSF_MK_TIME_UNIT_NS = 7,
	PSF_MK_PID = 8,
	PSF_MK_CMDLINE = 9,
	PSF_MK_PYTHON_VERSION = 10,
	PSF_MK_PYTHON_EXE = 11,
	PSF_MK_OPTIONS = 12,
};

/* Default time unit when the header has none (§3.2). */
#define PSF_DEFAULT_TIME_UNIT_NS 1000u

/* Largest sample block the writer builds (§5.3 allows 2^20 samples). */
#define PSF_WRITER_BLOCK_SAMPLES 65536u
#define PSF_WRITER_BLOCK_TICKS 65536u

/* Writer defaults (§8). */
#define PSF_DEFAULT_CHUNK_BYTES (1u << 20)
#define PSF_DEFAULT_CHUNK_NS 1000000000ull
#define PSF_DEFAULT_INTERN_MAX 65536u
/* chunk_bytes above this could push a chunk past PSF_MAX_CHUNK_RAW. */
#define PSF_MAX_CHUNK_BYTES_OPT (8u << 20)
/* Bytes of string text an intern table may hold before it is reset. */
#define PSF_INTERN_ARENA_MAX (1u << 20)

/* CRC-32C (§6) of buf, continuing from crc (start with 0). */
uint32_t psf_crc32c(uint32_t crc, const void *buf, size_t len);

/* ------------------------------------------------------------ encoding */

static inline void psf_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void psf_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void psf_put_le64(uint8_t *p, uint64_t v)
{
	psf_put_le32(p, (uint32_t)v);
	psf_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t psf_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t psf_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline uint64_t psf_get_le64(const uint8_t *p)
{
	return (uint64_t)psf_get_le32(p) | ((uint64_t)psf_get_le32(p + 4) << 32);
}

/* Write v as a shortest LEB128 varint at p (room for 10 bytes); returns its length. */
static inline size_t psf_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Bytes psf_varint_put() would write for v. */
static inline size_t psf_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline uint64_t psf_zigzag(int64_t v)
{
	/* Shift as unsigned: left-shifting a negative value is undefined. */
	return ((uint64_t)v << 1) ^ (uint64_t)(v < 0 ? -1 : 0);
}

static inline int64_t psf_unzigzag(uint64_t u)
{
	/* (u >> 1) ^ -(u & 1), computed without signed overflow. */
	uint64_t m = (uint64_t)0 - (u & 1);

	return (int64_t)((u >> 1) ^ m);
}

/*
 * Decode a varint from [*p, end) into *v and advance *p.  Returns 0, or
 * PSF_E_CORRUPT when the input ends inside it, it is longer than 10 bytes,
 * or its value exceeds max (the field's width, §5.1).
 */
int psf_varint_get(const uint8_t **p, const uint8_t *end, uint64_t max, uint64_t *v);

/* 1 if buf[0..len) is valid UTF-8 without NUL bytes (§5.2 STRING). */
int psf_text_valid(const char *buf, size_t len);

/* ------------------------------------------------------------ interning */

/*
 * A bounded intern table (§8): maps a key (a fixed-size struct, or a
 * string) to the id it was defined under.  Ids of one table generation are
 * consecutive (first_id, first_id + 1, ...), so a slot needs only the id
 * and the key is found at keys[id - first_id].  When the table holds max
 * entries (or, for strings, arena_max bytes of text) the next insertion
 * forgets everything first: old ids stay valid in the file, new lookups
 * define the content again.
 */
struct psf_islot {
	uint32_t hash;
	uint32_t id;             /* 0 = empty slot */
};

struct psf_itab {
	struct psf_islot *slots;
	uint32_t mask;           /* slot count - 1 (a power of two) */
	uint32_t count;          /* entries in this generation */
	uint32_t first_id;       /* id of keys[0] */
	uint32_t max;            /* entries before a reset */
	uint32_t key_size;       /* bytes per key; strings use struct psf_istr */
	uint8_t *keys;
	uint32_t key_cap;        /* keys allocated, in entries */
	int strings;             /* keys are struct psf_istr into arena */
	char *arena;
	size_t arena_len, arena_cap;
	uint64_t seed;
	uint64_t resets;         /* times the table was forgotten */
};

struct psf_istr {
	uint32_t off, len;
};

/* strings != 0: keys are strings.  Allocates nothing yet. */
void psf_itab_init(struct psf_itab *t, uint32_t key_size, int strings, uint32_t max,
		   uint64_t seed);
void psf_itab_release(struct psf_itab *t);

/* Hash of a fixed-size key or of a string. */
uint32_t psf_itab_hash(const struct psf_itab *t, const void *key, size_t len);

/* Id of key (len bytes for strings) if present, else 0. */
uint32_t psf_itab_find(const struct psf_itab *t, const void *key, size_t len, uint32_t hash);

/*
 * Add key under id (the next id of its space; absent from the table).
 * Resets the table first when it is full.  0 or PSF_E_NOMEM (the table is
 * then unchanged apart from a possible reset).
 */
int psf_itab_add(struct psf_itab *t, const void *key, size_t len, uint32_t hash, uint32_t id);

/* Bytes allocated by the table. */
size_t psf_itab_memory(const struct psf_itab *t);

/* ------------------------------------------------------------ inspection */

/*
 * Bytes of heap the reader/writer currently holds in its own buffers and
 * tables (excluding zstd contexts and malloc overhead).  Tests use them
 * to check that memory stays bounded whatever the input.
 */
size_t psf_reader_memory(const struct psf_reader *r);
size_t psf_writer_memory(const struct psf_writer *w);

#endif /* PYSPY_FORMAT_FORMAT_INT_H */
