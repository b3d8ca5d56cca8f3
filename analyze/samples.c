/*
 * samples.c - scan of the selected samples (samples.h).
 */
#include "samples.h"

#include <stdlib.h>

#include "db.h"
#include "msg.h"
#include "pyspy_format.h"

struct samples {
	struct model *m;
	const struct filter *f;
	sqlite3_stmt *st;
	int ci;                  /* capture being scanned, -1 before the first */
};

struct samples *samples_open(struct model *m, const struct filter *f)
{
	struct samples *it = xcalloc(1, sizeof(*it));

	it->m = m;
	it->f = f;
	it->ci = -1;
	/* As agg.c: a rowid range per capture, the time window only when given. */
	it->st = db_prepare(m->db, f->has_from || f->has_to
					   ? "SELECT thread, stack, flags, t, w FROM samples"
					     " WHERE id BETWEEN ?1 AND ?2 AND t BETWEEN ?3 AND ?4"
					   : "SELECT thread, stack, flags, t, w FROM samples"
					     " WHERE id BETWEEN ?1 AND ?2");
	if (!it->st) {
		free(it);
		return NULL;
	}
	return it;
}

/* Bind the next selected capture with samples; 0 when there is none. */
static int next_capture(struct samples *it)
{
	const struct model *m = it->m;

	sqlite3_reset(it->st);
	while (++it->ci < m->ncaptures) {
		const struct m_capture *c = &m->captures[it->ci];

		if (!c->selected || !c->sample_first || c->sample_last < c->sample_first)
			continue;
		sqlite3_bind_int64(it->st, 1, c->sample_first);
		sqlite3_bind_int64(it->st, 2, c->sample_last);
		if (it->f->has_from || it->f->has_to) {
			sqlite3_bind_int64(it->st, 3, it->f->from_ns);
			sqlite3_bind_int64(it->st, 4, it->f->to_ns);
		}
		return 1;
	}
	return 0;
}

int samples_next(struct samples *it, struct sample *s)
{
	struct model *m = it->m;
	const struct filter *f = it->f;
	int rc;

	if (it->ci < 0 && !next_capture(it))
		return 0;
	for (;;) {
		int ti;
		int64_t stack;

		if (it->ci >= m->ncaptures)
			return 0;
		rc = sqlite3_step(it->st);
		if (rc == SQLITE_DONE) {
			if (!next_capture(it))
				return 0;
			continue;
		}
		if (rc != SQLITE_ROW)
			return db_error(m->db, "cannot read");
		ti = model_thread(m, sqlite3_column_int64(it->st, 0));
		/* A sample of another capture in the range: a damaged database. */
		if (ti < 0 || !m->threads[ti].selected || m->threads[ti].capture != it->ci)
			continue;
		stack = sqlite3_column_int64(it->st, 1);
		if (stack < 0 || stack >= m->nstacks)
			stack = 0;
		s->thread = ti;
		s->capture = it->ci;
		s->stack = (uint32_t)stack;
		s->flags = sqlite3_column_int64(it->st, 2);
		s->t = sqlite3_column_int64(it->st, 3);
		s->w = sqlite3_column_int64(it->st, 4);
		if (s->w < 0)
			s->w = 0;
		s->partial = (s->flags & PSF_SF_PARTIAL) != 0;
		s->gil = (s->flags & PSF_SF_GIL) != 0;
		s->idle = (s->flags & PSF_SF_IDLE) || model_stack_idle_leaf(m, s->stack);
		/* As agg.c: a partial sample without frames still shows, as <partial>. */
		s->keep = (s->stack || s->partial) && !(f->gil && !s->gil) && !(!f->idle && s->idle) &&
			  !(f->no_partial && s->partial);
		return 1;
	}
}

void samples_free(struct samples *it)
{
	if (!it)
		return;
	sqlite3_finalize(it->st);
	free(it);
}
