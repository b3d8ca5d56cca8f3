/*
 * hashmap.h - two small open-addressing hash tables used on hot paths.
 *
 *  - struct u64map maps a 64-bit key to a 64-bit value.  The key
 *    U64MAP_EMPTY (all ones) is reserved and must not be used.
 *  - struct idset is a set of 32-bit ids (never 0) whose keys live
 *    elsewhere: the caller gives the key's hash and an equality callback,
 *    so one table can index rows kept in the caller's own arrays.
 *
 * Both grow by doubling at 50 % load; memory is proportional to entries.
 */
#ifndef PYSPY_ANALYZE_HASHMAP_H
#define PYSPY_ANALYZE_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

#define U64MAP_EMPTY UINT64_MAX

struct u64map {
	uint64_t *keys;
	uint64_t *vals;
	size_t cap;              /* power of two, or 0 */
	size_t n;
};

void u64map_init(struct u64map *m);
void u64map_release(struct u64map *m);
/* 1 and *val set if present, else 0. */
int u64map_get(const struct u64map *m, uint64_t key, uint64_t *val);
/*
 * The value slot for key, created with value 0 when absent (*created = 1).
 * The pointer is valid until the next insertion.
 */
uint64_t *u64map_slot(struct u64map *m, uint64_t key, int *created);
void u64map_put(struct u64map *m, uint64_t key, uint64_t val);

struct idset_slot {
	uint32_t id;             /* 0 = empty */
	uint32_t hash;
};

struct idset {
	struct idset_slot *slots;
	size_t cap;
	size_t n;
};

/* eq(ctx, id, key) returns nonzero when the stored id has that key. */
typedef int (*idset_eq_fn)(const void *ctx, uint32_t id, const void *key);

void idset_init(struct idset *s);
void idset_release(struct idset *s);
/* The id whose key equals key (0 if none). */
uint32_t idset_find(const struct idset *s, uint64_t hash, idset_eq_fn eq, const void *ctx,
		    const void *key);
/* Add id (not already present) under hash. */
void idset_add(struct idset *s, uint64_t hash, uint32_t id);

/* Hashes (64-bit, good enough avalanche for table indexing). */
uint64_t hash_bytes(const void *data, size_t len);
uint64_t hash_u64(uint64_t x);
static inline uint64_t hash_combine(uint64_t h, uint64_t x)
{
	return hash_u64(h ^ (x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2)));
}

#endif /* PYSPY_ANALYZE_HASHMAP_H */
