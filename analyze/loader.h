/*
 * loader.h - load capture files into a pyspy database.
 *
 * A loader keeps in-memory dedupe tables (strings, frames, stacks) that
 * mirror the database, so every definition is looked up in memory and the
 * same content is stored once across all captures.  Each capture is loaded
 * in one transaction: on any failure the transaction is rolled back, the
 * database is unchanged and the tables are re-read on the next load.
 *
 * Idempotence: a capture is identified by its capture_id.  A capture that
 * is already in the database is skipped, unless the stored copy was
 * incomplete (loaded while still being written, or cut short) and the new
 * copy is longer: then the new copy replaces it.
 */
#ifndef PYSPY_ANALYZE_LOADER_H
#define PYSPY_ANALYZE_LOADER_H

#include <sqlite3.h>
#include <stdint.h>

struct loader;

enum load_outcome {
	LOAD_NEW = 0,            /* loaded a capture that was not there */
	LOAD_REPLACED = 1,       /* replaced a shorter, incomplete copy */
	LOAD_SKIPPED = 2,        /* already loaded; database unchanged */
};

struct load_result {
	enum load_outcome outcome;
	int64_t capture;         /* database id of the capture */
	uint64_t samples;        /* samples loaded from this file */
	int damaged;             /* 1 if the file was salvaged up to damage */
	double seconds;          /* wall time spent */
};

/* db stays owned by the caller and must outlive the loader. */
struct loader *loader_new(sqlite3 *db);
/* Accepts NULL. */
void loader_free(struct loader *l);

/*
 * Load the capture readable from fd; name is used in messages and stored
 * as captures.file ("-" = standard input).  A truncated or damaged file is
 * loaded up to the damage with a one-line warning (res->damaged = 1).
 * Returns 0 (res filled) or -1 after printing an error; the database is
 * then unchanged.
 */
int loader_load(struct loader *l, int fd, const char *name, struct load_result *res);

/* "standard input" for "-", else the name itself: for messages. */
const char *loader_display_name(const char *name);

#endif /* PYSPY_ANALYZE_LOADER_H */
