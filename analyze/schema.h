/*
 * schema.h - the pyspy SQLite database schema (docs/schema.md).
 *
 * The database is a versioned file format: PRAGMA application_id holds
 * SCHEMA_APPLICATION_ID ("pysp") and PRAGMA user_version the schema
 * version.  Any change to tables, columns, views or their meaning bumps
 * SCHEMA_VERSION and adds a "Version changes" row to docs/schema.md.
 */
#ifndef PYSPY_ANALYZE_SCHEMA_H
#define PYSPY_ANALYZE_SCHEMA_H

#define SCHEMA_APPLICATION_ID 0x70797370 /* "pysp" = 1887007600 */
#define SCHEMA_VERSION 2

/* Tables, indices and the constant rows of the `codes` table. */
extern const char schema_tables_sql[];
/* Views (docs/schema.md §Views). */
extern const char schema_views_sql[];
/* Migration of a version 1 database to version 2 (then: the views). */
extern const char schema_migrate_1_sql[];

#endif /* PYSPY_ANALYZE_SCHEMA_H */
