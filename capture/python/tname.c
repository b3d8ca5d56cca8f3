/*
 * tname.c - thread names from threading._active (see tname.h).
 */
#include "python/tname.h"

#include <stdlib.h>
#include <string.h>

#define TNAME_MAX_THREADS 4096

struct scan {
	struct pyobj_ctx *c;
	struct tname_entry *v;
	size_t n, cap;
	const char *attr;
};

static int active_cb(uint64_t key, uint64_t value, void *arg)
{
	struct scan *s = arg;
	uint64_t ident, nameobj;
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
	if (pyobj_text(s->c, nameobj, e->name, sizeof(e->name)) < 0)
		return 0;
	s->n++;
	return 0;
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
	s.attr = L->major == 2 ? "_Thread__name" : "_name";
	if (pyobj_dict_foreach(c, active, TNAME_MAX_THREADS, active_cb, &s) < 0) {
		free(s.v);
		return -1;
	}
	free(t->v);
	t->v = s.v;
	t->n = s.n;
	t->cap = s.cap ? s.cap : 1;
	return (int)s.n;
}

const char *tname_get(const struct tname *t, uint64_t ident)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].ident == ident)
			return t->v[i].name;
	return NULL;
}

void tname_release(struct tname *t)
{
	if (!t)
		return;
	free(t->v);
	memset(t, 0, sizeof(*t));
}
