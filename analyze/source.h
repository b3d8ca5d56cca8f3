/*
 * source.h - the SOURCE arguments of the report commands.
 *
 * A SOURCE is a capture file, "-" (a capture on standard input) or a
 * database written by `load`.  Reports work on one SQLite database:
 *  - one database and nothing else: opened read-only, used in place;
 *  - otherwise: a private temporary database (db_open_temp) into which
 *    the database, if any, is copied and every capture is loaded.
 */
#ifndef PYSPY_ANALYZE_SOURCE_H
#define PYSPY_ANALYZE_SOURCE_H

#include <sqlite3.h>

enum source_kind {
	SOURCE_CAPTURE = 1,
	SOURCE_DATABASE = 2,
	SOURCE_EMPTY = 3,        /* a 0-byte file */
};

/*
 * What path holds, judged by its first bytes; "-" is always a capture.
 * Returns the kind, or -1 after printing an error (cannot open, or
 * neither a capture nor a database).
 */
int source_sniff(const char *path);

/*
 * Open the n sources as one database (caller owns *out; db_close()).
 * Returns 0, or -1 after printing an error.
 */
int source_open(sqlite3 **out, char *const *paths, int n);

#endif /* PYSPY_ANALYZE_SOURCE_H */
