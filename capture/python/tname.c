/*
 * tname.c - thread names from threading._active (see tname.h).
 */
#include "python/tname.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define TNAME_MAX_THREADS CAPTURE_MAX_THREADS

struct scan {
	struct pyobj_ctx *c;
	struct tname_entry *v;
	size_t n, cap;
	const char *attr;
};

static int active_cb(uint64_t key, uint64_t value, void *arg)
{
	struct scan *s = arg;
	uint64_t ident, nameobj, nid;
	struct tname_entry *e;

	if (s->n >= TNAME_MAX_THREADS)
		return 1;
	if (pyobj_uint(s->c, key, &ident) < 0)
		return 0;
	if (pyobj_getattr(s->c, value, s->attr, &nameobj) < 0)
		return 0;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 16;
		struct tname_entry *nv = realloc(s->v, nc * sizeof(*nv));
		if (!nv)
			return 1;
		s->v = nv;
		s->cap = nc;
	}
	e = &s->v[s->n];
	e->ident = ident;
	/* 3.8+: the OS thread id, which tells a reused ident's threads apart
	 * (None until the thread runs, absent before 3.8: unknown). */
	e->native_id = 0;
	if (s->c->L->major == 3 && s->c->L->minor >= 8 &&
	    pyobj_getattr(s->c, value, "_native_id", &nid) == 0 && pyobj_uint(s->c, nid, &nid) == 0)
		e->native_id = nid;
	if (pyobj_text(s->c, nameobj, e->name, sizeof(e->name)) < 0)
		return 0;
	s->n++;
	return 0;
}

static int cmp_ident(const void *a, const void *b)
{
	uint64_t x = ((const struct tname_entry *)a)->ident, y = ((const struct tname_entry *)b)->ident;

	return x < y ? -1 : x > y;
}

int tname_scan(struct tname *t, struct pyobj_ctx *c, uint64_t interp)
{
	const struct py_layout *L = c->L;
	uint64_t modules, threading, mdict, active;
	struct scan s;

	if (L->is_modules < 0 || pyobj_read(c, interp + (uint64_t)L->is_modules, &modules, 8) < 0 ||
	    !modules)
		return -1;
	if (t->cap == 0) {
		t->mod_hint = -1;
		t->dict_hint = -1;
	}
	if (pyobj_dict_get(c, modules, "threading", &threading, &t->mod_hint) < 0)
		return -1;
	if (pyobj_read(c, threading + (uint64_t)L->md_dict, &mdict, 8) < 0 || !mdict)
		return -1;
	if (pyobj_dict_get(c, mdict, "_active", &active, &t->dict_hint) < 0)
		return -1;
	memset(&s, 0, sizeof(s));
	s.c = c;
	s.attr = L->thread_name_attr;
	if (pyobj_dict_foreach(c, active, TNAME_MAX_THREADS, active_cb, &s) < 0) {
		free(s.v);
		return -1;
	}
	/* Sorted: lookups are binary searches (thousands of threads). */
	if (s.n > 1)
		qsort(s.v, s.n, sizeof(*s.v), cmp_ident);
	free(t->v);
	t->v = s.v;
	t->n = s.n;
	t->cap = s.cap ? s.cap : 1;
	return (int)s.n;
}

const char *tname_get(const struct tname *t, uint64_t ident, uint64_t native_id)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->v[mid].ident == ident) {
			const struct tname_entry *e = &t->v[mid];
			if (e->native_id && native_id && e->native_id != native_id)
				return NULL;
			return e->name;
		}
		if (t->v[mid].ident < ident)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void tname_release(struct tname *t)
{
	if (!t)
		return;
	free(t->v);
	memset(t, 0, sizeof(*t));
}
