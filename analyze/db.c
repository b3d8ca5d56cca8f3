/*
 * db.c - opening, creating and version-checking pyspy databases.
 *
 * Versioning (docs/schema.md "Versioning"): application_id identifies a
 * pyspy database, user_version is its schema version.  A database with a
 * newer schema is refused with a message saying so; an older one is
 * migrated here by the writers (load), and refused by the readers with a
 * hint to load.
 */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "schema.h"

const char *db_name(sqlite3 *db)
{
	const char *n = sqlite3_db_filename(db, "main");

	return n ? n : "";
}

static const char *db_label(sqlite3 *db)
{
	const char *n = db_name(db);

	return *n ? n : "(temporary database)";
}

int db_error(sqlite3 *db, const char *doing)
{
	return error("%s database '%s': %s", doing, db_label(db), sqlite3_errmsg(db));
}

sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_error(db, "cannot query");
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		error("database '%s': %s", db_label(db), msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int64_t db_int(sqlite3 *db, const char *sql, int64_t def)
{
	sqlite3_stmt *st = NULL;
	int64_t v = def;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

void db_close(sqlite3 *db)
{
	if (db)
		sqlite3_close_v2(db);
}

static int db_create_schema(sqlite3 *db)
{
	char sql[512];

	if (db_exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	/* Someone else may have created it meanwhile. */
	if (db_int(db, "PRAGMA user_version", 0) != 0) {
		db_exec(db, "ROLLBACK");
		return 0;
	}
	snprintf(sql, sizeof(sql),
		 "PRAGMA application_id = %d; PRAGMA user_version = %d;"
		 "INSERT INTO pyspy_meta VALUES ('schema_version', '%d'),"
		 " ('created_by', 'pyspy-analyze %s'),"
		 " ('created_at', strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 'now'));",
		 SCHEMA_APPLICATION_ID, SCHEMA_VERSION, SCHEMA_VERSION, PYSPY_VERSION);
	if (db_exec(db, schema_tables_sql) < 0 || db_exec(db, schema_views_sql) < 0 ||
	    db_exec(db, sql) < 0 || db_exec(db, "COMMIT") < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

/*
 * 1 = has our schema, 0 = empty (no tables, no ids), -1 = refused (error
 * printed).
 */
static int db_check(sqlite3 *db, const char *path)
{
	sqlite3_stmt *st = NULL;
	int64_t appid, version, tables;

	if (sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		int rc = sqlite3_errcode(db);

		sqlite3_finalize(st);
		if (rc == SQLITE_NOTADB)
			return error("'%s' is not a pyspy database or capture", path);
		return error("cannot read database '%s': %s", path, sqlite3_errmsg(db));
	}
	appid = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	version = db_int(db, "PRAGMA user_version", 0);
	tables = db_int(db, "SELECT count(*) FROM sqlite_schema", -1);
	if (tables < 0)
		return error("cannot read database '%s': %s", path, sqlite3_errmsg(db));
	if (appid == 0 && version == 0 && tables == 0)
		return 0;
	if (appid != SCHEMA_APPLICATION_ID)
		return error("'%s' is an SQLite database but not a pyspy database (application id %lld)",
			     path, (long long)appid);
	if (version > SCHEMA_VERSION)
		return error("database '%s' has schema version %lld, newer than this pyspy-analyze "
			     "supports (%d); use a newer pyspy-analyze",
			     path, (long long)version, SCHEMA_VERSION);
	if (version < 1)
		return error("database '%s' has an invalid schema version %lld", path,
			     (long long)version);
	return (int)version;
}

/* Bring an older schema up to SCHEMA_VERSION, in one transaction. */
static int db_migrate(sqlite3 *db, int version)
{
	if (db_exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	/* Someone else may have migrated it meanwhile. */
	version = (int)db_int(db, "PRAGMA user_version", version);
	if (version == 1 && (db_exec(db, schema_migrate_1_sql) < 0 ||
			     db_exec(db, schema_views_sql) < 0)) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return db_exec(db, "COMMIT");
}

static int db_open_common(sqlite3 **out, const char *path, int flags)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, flags, NULL);

	if (rc != SQLITE_OK) {
		if (db && rc == SQLITE_CANTOPEN && access(path, F_OK) < 0)
			error("cannot open database '%s': %s", path, strerror(errno));
		else
			error("cannot open database '%s': %s", path,
			      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close_v2(db);
		return -1;
	}
	sqlite3_extended_result_codes(db, 0);
	sqlite3_busy_timeout(db, 10000);
	*out = db;
	return 0;
}

int db_open_write(sqlite3 **out, const char *path)
{
	sqlite3 *db = NULL;
	int c;

	*out = NULL;
	if (db_open_common(&db, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) < 0)
		return -1;
	c = db_check(db, path);
	if (c < 0 || (c == 0 && db_create_schema(db) < 0) ||
	    (c > 0 && c < SCHEMA_VERSION && db_migrate(db, c) < 0)) {
		sqlite3_close_v2(db);
		return -1;
	}
	if (db_exec(db, "PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY;"
			"PRAGMA cache_size = -65536;") < 0) {
		sqlite3_close_v2(db);
		return -1;
	}
	*out = db;
	return 0;
}

int db_open_read(sqlite3 **out, const char *path)
{
	sqlite3 *db = NULL;
	int c;

	*out = NULL;
	if (db_open_common(&db, path, SQLITE_OPEN_READONLY) < 0)
		return -1;
	c = db_check(db, path);
	if (c == 0)
		error("'%s' is an empty database (load captures into it with 'pyspy-analyze load -d')",
		      path);
	else if (c > 0 && c < SCHEMA_VERSION)
		error("database '%s' has schema version %d; upgrade it to %d with "
		      "'pyspy-analyze load -d %s' (no capture needed)",
		      path, c, SCHEMA_VERSION, path);
	if (c <= 0 || c < SCHEMA_VERSION) {
		sqlite3_close_v2(db);
		return -1;
	}
	/* Reports scan; a large page cache would only raise the peak memory. */
	sqlite3_exec(db, "PRAGMA cache_size = -8192; PRAGMA temp_store = MEMORY;", NULL, NULL, NULL);
	*out = db;
	return 0;
}

int db_open_temp(sqlite3 **out)
{
	sqlite3 *db = NULL;

	*out = NULL;
	if (db_open_common(&db, "", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) < 0)
		return -1;
	/* journal_mode OFF would save little and break ROLLBACK of a failed load */
	if (db_exec(db, "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF;"
			"PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY;") < 0 ||
	    db_create_schema(db) < 0) {
		sqlite3_close_v2(db);
		return -1;
	}
	*out = db;
	return 0;
}
