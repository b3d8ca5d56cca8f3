/*
 * db.h - opening, creating and checking pyspy databases (SQLite).
 *
 * All functions print their own one-line error (naming the database file)
 * and return -1 on failure; the caller just propagates the failure.
 */
#ifndef PYSPY_ANALYZE_DB_H
#define PYSPY_ANALYZE_DB_H

#include <sqlite3.h>
#include <stdint.h>

/*
 * Open (creating it and its schema if it does not exist or is empty) the
 * database at path for loading.  Refuses a file that is not a pyspy
 * database or whose schema version is newer than SCHEMA_VERSION.
 * *out: caller owns; close with db_close().
 */
int db_open_write(sqlite3 **out, const char *path);

/* Open an existing pyspy database read-only (same checks). */
int db_open_read(sqlite3 **out, const char *path);

/*
 * A private temporary database with the schema, for reports straight from
 * capture files: kept in memory up to the page-cache size, then spilled to
 * a deleted file in the temporary directory (memory stays bounded).
 */
int db_open_temp(sqlite3 **out);

/* Close; accepts NULL. */
void db_close(sqlite3 *db);

/* The file name the handle was opened with, for messages ("" = temp). */
const char *db_name(sqlite3 *db);

/*
 * Prepare sql; on failure print "<what>: <sqlite message>" and return
 * NULL.  For statements that are part of the program (never user SQL), a
 * failure means an I/O problem or a damaged database.
 */
sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql);

/* Run statements without results; -1 with an error printed on failure. */
int db_exec(sqlite3 *db, const char *sql);

/* Print "database 'NAME': MESSAGE" for the last SQLite error; returns -1. */
int db_error(sqlite3 *db, const char *doing);

/* One integer from a query without parameters (def when no row). */
int64_t db_int(sqlite3 *db, const char *sql, int64_t def);

#endif /* PYSPY_ANALYZE_DB_H */
