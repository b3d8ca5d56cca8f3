/*
 * fuzz_loader.c - libFuzzer target for pyspy-analyze's loader and report
 * aggregation: arbitrary bytes are loaded as a capture file into a
 * temporary database exactly as `pyspy-analyze load` / any report does,
 * and whatever was salvaged is then read back into the report model and
 * aggregated (the path of collapsed, flamegraph and top), with and
 * without thread frames and line numbers.
 *
 * The format reader has its own target (fuzz_reader.c); this one covers
 * what the analyzer does with the records the reader lets through: deep
 * and odd stacks, id mapping, dedupe across definitions, idle heuristics
 * on arbitrary names, label building.
 *
 * Mutations almost never keep a CRC-32C right, and the reader stops at a
 * bad checksum, so the input's CRCs are recomputed first (as fuzz_reader
 * does in its second pass): the mutated records then reach the loader.
 * The seed corpus (tests/fuzz/corpus/loader/) holds the analyzer's test
 * captures rewritten with stored (uncompressed) chunks, so that byte
 * mutations change records rather than zstd streams, plus a real capture.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agg.h"
#include "db.h"
#include "format_int.h"
#include "fix_crcs.h"
#include "filter.h"
#include "loader.h"
#include "model.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write the input to an anonymous file: the loader reads from an fd. */
static int input_fd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("capture", 0);
	size_t done = 0;

	if (fd < 0)
		abort();
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n <= 0)
			abort();
		done += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}


static void aggregate(struct model *m, int threads, int nolineno)
{
	struct filter f;
	struct agg a;

	filter_init(&f);
	f.threads = threads;
	f.nolineno = nolineno;
	f.idle = 1;
	memset(&a, 0, sizeof(a));
	if (filter_select(&f, m) >= 0 && agg_run(&a, m, &f, threads, 0) == 0)
		agg_sort(&a);
	agg_release(&a);
	filter_release(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct load_result res;
	struct loader *l;
	struct model *m;
	uint8_t *copy;
	sqlite3 *db;
	int fd;

	msg_verbosity = -1;  /* errors are expected; keep the fuzzer's output readable */
	if (db_open_temp(&db) < 0)
		abort();
	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	fix_crcs(copy, size);
	fd = input_fd(copy, size);
	free(copy);
	l = loader_new(db);
	if (loader_load(l, fd, "fuzz.pyspy", &res) == 0) {
		m = model_load(db);
		if (m) {
			aggregate(m, 0, 0);
			aggregate(m, 1, 1);
			model_free(m);
		}
	}
	loader_free(l);
	close(fd);
	db_close(db);
	return 0;
}
