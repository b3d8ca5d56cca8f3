/*
 * intern.c - bounded open-addressing intern tables for the writer (§8).
 *
 * A table maps content to the id it was defined under.  Slots hold only
 * (hash, id); the key lives in a dense array indexed by id - first_id,
 * because the ids one table hands out in a generation are consecutive.
 * That keeps a slot at 8 bytes and lets the table grow by doubling without
 * touching the keys.  Tables start small and grow; at `max` entries (or,
 * for strings, PSF_INTERN_ARENA_MAX bytes of text) the next insertion
 * forgets the whole generation, which bounds memory for any capture length
 * at the cost of defining some content again under a new id.
 */
#include <stdlib.h>
#include <string.h>

#include "format_int.h"

#define ITAB_MIN_SLOTS 64u
#define ITAB_MIN_KEYS 32u
#define ITAB_MIN_ARENA 4096u

void psf_itab_init(struct psf_itab *t, uint32_t key_size, int strings, uint32_t max,
		   uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->key_size = strings ? (uint32_t)sizeof(struct psf_istr) : key_size;
	t->strings = strings;
	t->max = max ? max : 1;
	t->seed = seed;
}

void psf_itab_release(struct psf_itab *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->keys);
	free(t->arena);
	memset(t, 0, sizeof(*t));
}

size_t psf_itab_memory(const struct psf_itab *t)
{
	size_t n = (size_t)t->key_cap * t->key_size + t->arena_cap;

	if (t->slots)
		n += ((size_t)t->mask + 1) * sizeof(struct psf_islot);
	return n;
}

static uint64_t mix64(uint64_t x)
{
	/* splitmix64 finalizer: every input bit affects every output bit. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

uint32_t psf_itab_hash(const struct psf_itab *t, const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = t->seed ^ 0x9e3779b97f4a7c15ull;
	size_t n = t->strings ? len : t->key_size;

	/*
	 * Seeded with the capture id, so a target process cannot precompute
	 * names that collide and slow the sampler down.
	 */
	while (n >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		h = mix64(h ^ w);
		p += 8;
		n -= 8;
	}
	if (n > 0) {
		uint64_t w = 0;

		memcpy(&w, p, n);
		h = mix64(h ^ w ^ ((uint64_t)n << 56));
	}
	h = mix64(h ^ len);
	return (uint32_t)(h ^ (h >> 32));
}

static int key_equal(const struct psf_itab *t, uint32_t id, const void *key, size_t len)
{
	const uint8_t *k = t->keys + (size_t)(id - t->first_id) * t->key_size;

	if (t->strings) {
		struct psf_istr s;

		memcpy(&s, k, sizeof(s));
		if (s.len != len)
			return 0;
		return len == 0 || memcmp(t->arena + s.off, key, len) == 0;
	}
	return memcmp(k, key, t->key_size) == 0;
}

uint32_t psf_itab_find(const struct psf_itab *t, const void *key, size_t len, uint32_t hash)
{
	uint32_t i;

	if (!t->slots)
		return 0;
	/* Linear probing; the load factor stays <= 3/4 so an empty slot exists. */
	for (i = hash & t->mask;; i = (i + 1) & t->mask) {
		const struct psf_islot *s = &t->slots[i];

		if (s->id == 0)
			return 0;
		if (s->hash == hash && key_equal(t, s->id, key, len))
			return s->id;
	}
}

static void itab_reset(struct psf_itab *t)
{
	if (t->slots)
		memset(t->slots, 0, ((size_t)t->mask + 1) * sizeof(*t->slots));
	t->count = 0;
	t->arena_len = 0;
	t->resets++;
}

static void slot_put(struct psf_islot *slots, uint32_t mask, uint32_t hash, uint32_t id)
{
	uint32_t i = hash & mask;

	while (slots[i].id != 0)
		i = (i + 1) & mask;
	slots[i].hash = hash;
	slots[i].id = id;
}

static int itab_grow_slots(struct psf_itab *t)
{
	uint32_t n = t->slots ? (t->mask + 1) * 2 : ITAB_MIN_SLOTS;
	struct psf_islot *s;
	uint32_t i;

	s = calloc(n, sizeof(*s));
	if (!s)
		return PSF_E_NOMEM;
	if (t->slots) {
		for (i = 0; i <= t->mask; i++)
			if (t->slots[i].id != 0)
				slot_put(s, n - 1, t->slots[i].hash, t->slots[i].id);
		free(t->slots);
	}
	t->slots = s;
	t->mask = n - 1;
	return 0;
}

int psf_itab_add(struct psf_itab *t, const void *key, size_t len, uint32_t hash, uint32_t id)
{
	uint8_t *k;

	if (t->count >= t->max || (t->strings && t->arena_len + len > PSF_INTERN_ARENA_MAX))
		itab_reset(t);
	if (t->count == 0)
		t->first_id = id;
	if (id != t->first_id + t->count)
		return PSF_E_INVAL; /* ids of a generation must be consecutive */

	if (!t->slots || ((uint64_t)t->count + 1) * 4 > ((uint64_t)t->mask + 1) * 3) {
		int ret = itab_grow_slots(t);

		if (ret < 0)
			return ret;
	}
	if (t->count >= t->key_cap) {
		uint32_t n = t->key_cap ? t->key_cap * 2 : ITAB_MIN_KEYS;
		uint8_t *nk;

		if (n > t->max)
			n = t->max;
		nk = realloc(t->keys, (size_t)n * t->key_size);
		if (!nk)
			return PSF_E_NOMEM;
		t->keys = nk;
		t->key_cap = n;
	}
	if (t->strings && t->arena_len + len > t->arena_cap) {
		size_t n = t->arena_cap ? t->arena_cap : ITAB_MIN_ARENA;
		char *na;

		while (n < t->arena_len + len)
			n *= 2;
		if (n > PSF_INTERN_ARENA_MAX)
			n = PSF_INTERN_ARENA_MAX;
		na = realloc(t->arena, n);
		if (!na)
			return PSF_E_NOMEM;
		t->arena = na;
		t->arena_cap = n;
	}

	k = t->keys + (size_t)t->count * t->key_size;
	if (t->strings) {
		struct psf_istr s = { (uint32_t)t->arena_len, (uint32_t)len };

		if (len > 0)
			memcpy(t->arena + t->arena_len, key, len);
		t->arena_len += len;
		memcpy(k, &s, sizeof(s));
	} else {
		memcpy(k, key, t->key_size);
	}
	slot_put(t->slots, t->mask, hash, id);
	t->count++;
	return 0;
}
