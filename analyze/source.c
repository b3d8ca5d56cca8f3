/*
 * source.c - turn SOURCE arguments into one database (source.h).
 */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "loader.h"
#include "msg.h"

static const char capture_magic[8] = {'\x89', 'P', 'Y', 'S', 'P', 'Y', '\r', '\n'};
static const char sqlite_magic[16] = "SQLite format 3";

int source_sniff(const char *path)
{
	char buf[16];
	struct stat st;
	ssize_t n;
	int fd;

	if (strcmp(path, "-") == 0)
		return SOURCE_CAPTURE;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error("cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return error("cannot read '%s': %s", path, strerror(EISDIR));
	}
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* A pipe or device: cannot peek without consuming; a capture. */
		close(fd);
		return SOURCE_CAPTURE;
	}
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n < 0)
		return error("cannot read '%s': %s", path, strerror(errno));
	if (n == 0)
		return SOURCE_EMPTY;
	if (n >= 8 && memcmp(buf, capture_magic, 8) == 0)
		return SOURCE_CAPTURE;
	if (n == 16 && memcmp(buf, sqlite_magic, 16) == 0)
		return SOURCE_DATABASE;
	return error("'%s' is not a pyspy capture or database", path);
}

static int copy_database(sqlite3 *dst, const char *path)
{
	sqlite3 *src = NULL;
	sqlite3_backup *b;
	int rc;

	if (db_open_read(&src, path) < 0)
		return -1;
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		db_close(src);
		return db_error(dst, "cannot copy into");
	}
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		error("cannot copy database '%s': %s", path, sqlite3_errstr(rc));
		db_close(src);
		return -1;
	}
	db_close(src);
	return 0;
}

static int load_capture(struct loader *l, const char *path)
{
	struct load_result res;
	int fd = 0, ret;

	if (strcmp(path, "-") != 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return error("cannot open '%s': %s", path, strerror(errno));
	}
	ret = loader_load(l, fd, path, &res);
	if (fd > 0)
		close(fd);
	return ret;
}

int source_open(sqlite3 **out, char *const *paths, int n)
{
	sqlite3 *db = NULL;
	struct loader *l = NULL;
	int i, ndb = 0, dbi = -1, ret = -1, stdin_used = 0;
	int *kind = xcalloc((unsigned long)n, sizeof(*kind));

	*out = NULL;
	for (i = 0; i < n; i++) {
		kind[i] = source_sniff(paths[i]);
		if (kind[i] < 0)
			goto out;
		if (kind[i] == SOURCE_EMPTY) {
			error("'%s' is empty", paths[i]);
			goto out;
		}
		if (kind[i] == SOURCE_DATABASE) {
			ndb++;
			dbi = i;
		}
		if (strcmp(paths[i], "-") == 0 && stdin_used++) {
			error("standard input ('-') can be given only once");
			goto out;
		}
	}
	if (ndb > 1) {
		error("only one database can be a SOURCE ('%s' and another); load the captures into "
		      "one database instead",
		      paths[dbi]);
		goto out;
	}
	if (ndb == 1 && n == 1) {
		ret = db_open_read(&db, paths[0]);
		goto out;
	}
	if (db_open_temp(&db) < 0)
		goto out;
	if (ndb == 1 && copy_database(db, paths[dbi]) < 0)
		goto out;
	l = loader_new(db);
	if (!l)
		goto out;
	for (i = 0; i < n; i++)
		if (kind[i] == SOURCE_CAPTURE && load_capture(l, paths[i]) < 0)
			goto out;
	ret = 0;
out:
	loader_free(l);
	free(kind);
	if (ret < 0) {
		db_close(db);
		db = NULL;
	}
	*out = db;
	return ret;
}
