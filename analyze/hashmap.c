/*
 * hashmap.c - open-addressing hash tables with linear probing (hashmap.h).
 */
#include "hashmap.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"

uint64_t hash_u64(uint64_t x)
{
	/* splitmix64 finaliser */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

uint64_t hash_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull ^ len;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return hash_u64(h);
}

void u64map_init(struct u64map *m)
{
	m->keys = NULL;
	m->vals = NULL;
	m->cap = 0;
	m->n = 0;
}

void u64map_release(struct u64map *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->vals);
	u64map_init(m);
}

static void u64map_resize(struct u64map *m, size_t cap)
{
	uint64_t *ok = m->keys, *ov = m->vals;
	size_t ocap = m->cap, i;

	m->keys = xmalloc(cap * sizeof(*m->keys));
	m->vals = xmalloc(cap * sizeof(*m->vals));
	memset(m->keys, 0xff, cap * sizeof(*m->keys));
	m->cap = cap;
	for (i = 0; i < ocap; i++) {
		size_t j;

		if (ok[i] == U64MAP_EMPTY)
			continue;
		j = hash_u64(ok[i]) & (cap - 1);
		while (m->keys[j] != U64MAP_EMPTY)
			j = (j + 1) & (cap - 1);
		m->keys[j] = ok[i];
		m->vals[j] = ov[i];
	}
	free(ok);
	free(ov);
}

int u64map_get(const struct u64map *m, uint64_t key, uint64_t *val)
{
	size_t j;

	if (!m->cap)
		return 0;
	j = hash_u64(key) & (m->cap - 1);
	while (m->keys[j] != U64MAP_EMPTY) {
		if (m->keys[j] == key) {
			*val = m->vals[j];
			return 1;
		}
		j = (j + 1) & (m->cap - 1);
	}
	return 0;
}

uint64_t *u64map_slot(struct u64map *m, uint64_t key, int *created)
{
	size_t j;

	if (2 * (m->n + 1) > m->cap)
		u64map_resize(m, m->cap ? 2 * m->cap : 64);
	j = hash_u64(key) & (m->cap - 1);
	while (m->keys[j] != U64MAP_EMPTY) {
		if (m->keys[j] == key) {
			if (created)
				*created = 0;
			return &m->vals[j];
		}
		j = (j + 1) & (m->cap - 1);
	}
	m->keys[j] = key;
	m->vals[j] = 0;
	m->n++;
	if (created)
		*created = 1;
	return &m->vals[j];
}

void u64map_put(struct u64map *m, uint64_t key, uint64_t val)
{
	*u64map_slot(m, key, NULL) = val;
}

void idset_init(struct idset *s)
{
	s->slots = NULL;
	s->cap = 0;
	s->n = 0;
}

void idset_release(struct idset *s)
{
	if (!s)
		return;
	free(s->slots);
	idset_init(s);
}

static void idset_place(struct idset *s, uint32_t hash, uint32_t id)
{
	size_t j = hash_u64(hash) & (s->cap - 1);

	while (s->slots[j].id)
		j = (j + 1) & (s->cap - 1);
	s->slots[j].id = id;
	s->slots[j].hash = hash;
}

uint32_t idset_find(const struct idset *s, uint64_t hash, idset_eq_fn eq, const void *ctx,
		    const void *key)
{
	uint32_t h = (uint32_t)hash;
	size_t j;

	if (!s->cap)
		return 0;
	j = hash_u64(h) & (s->cap - 1);
	while (s->slots[j].id) {
		if (s->slots[j].hash == h && eq(ctx, s->slots[j].id, key))
			return s->slots[j].id;
		j = (j + 1) & (s->cap - 1);
	}
	return 0;
}

void idset_add(struct idset *s, uint64_t hash, uint32_t id)
{
	if (2 * (s->n + 1) > s->cap) {
		struct idset_slot *old = s->slots;
		size_t ocap = s->cap, i;

		s->cap = s->cap ? 2 * s->cap : 64;
		s->slots = xcalloc(s->cap, sizeof(*s->slots));
		for (i = 0; i < ocap; i++)
			if (old[i].id)
				idset_place(s, old[i].hash, old[i].id);
		free(old);
	}
	idset_place(s, (uint32_t)hash, id);
	s->n++;
}
