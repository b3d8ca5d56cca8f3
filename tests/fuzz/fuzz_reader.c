/*
 * fuzz_reader - libFuzzer target: any bytes through psf_reader_open_mem()
 * and psf_reader_next() until the end or an error.  Besides the
 * sanitizers, it checks the reader's promises (traps on a violation):
 * ids are consecutive per space, references point at defined ids, strings
 * are NUL-terminated valid UTF-8, errors are sticky.
 *
 * Every input is read twice: as is, and with its header and chunk CRCs
 * recomputed.  Mutations almost never keep a CRC-32C right, so without the
 * second pass the fuzzer would only ever test the checksum checks; with it
 * the record, sample block and zstd validation get the mutated bytes.
 *
 * Build and run: `make fuzz`, then tests/fuzz/run.sh (seed corpus in
 * tests/fuzz/corpus/reader/).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format_int.h"
#include "fix_crcs.h"
#include "pyspy_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

/* Ids are consecutive; after a gap, ids defined in the lost chunks are skipped. */
#define NEXT_ID(id, last) do { \
	ASSERT(gapped ? (id) > (last) : (id) == (last) + 1); \
	(last) = (id); \
} while (0)

static void read_all(const uint8_t *data, size_t size)
{
	struct psf_reader *r = NULL;
	struct psf_record rec;
	uint32_t strings = 0, frames = 0, stacks = 0, procs = 0, threads = 0;
	int ret, gapped = 0;

	ret = psf_reader_open_mem(&r, data, size);
	if (ret < 0) {
		ASSERT(ret == PSF_E_NEWER ? r != NULL : r == NULL);
		if (r)
			ASSERT(psf_reader_next(r, &rec) == PSF_E_NEWER);
		psf_reader_free(r);
		return;
	}
	while ((ret = psf_reader_next(r, &rec)) > 0) {
		switch (rec.type) {
		case PSF_REC_STRING:
			NEXT_ID(rec.u.string.id, strings);
			ASSERT(rec.u.string.len <= PSF_MAX_STRING);
			ASSERT(rec.u.string.data[rec.u.string.len] == '\0');
			ASSERT(strlen(rec.u.string.data) == rec.u.string.len);
			ASSERT(psf_utf8_valid(rec.u.string.data, rec.u.string.len));
			break;
		case PSF_REC_FRAME:
			NEXT_ID(rec.u.frame.id, frames);
			ASSERT(rec.u.frame.kind <= PSF_FRAME_SYNTHETIC);
			ASSERT(rec.u.frame.name <= strings && rec.u.frame.file <= strings &&
			       rec.u.frame.qualname <= strings);
			break;
		case PSF_REC_STACK:
			NEXT_ID(rec.u.stack.id, stacks);
			ASSERT(rec.u.stack.parent < rec.u.stack.id);
			ASSERT(rec.u.stack.frame >= 1 && rec.u.stack.frame <= frames);
			break;
		case PSF_REC_PROCESS:
			NEXT_ID(rec.u.process.id, procs);
			ASSERT(rec.u.process.pid >= 0 && rec.u.process.ppid >= 0);
			break;
		case PSF_REC_THREAD:
			NEXT_ID(rec.u.thread.id, threads);
			ASSERT(rec.u.thread.process >= 1 && rec.u.thread.process <= procs);
			break;
		case PSF_REC_SAMPLE:
			ASSERT(rec.u.sample.thread >= 1 && rec.u.sample.thread <= threads);
			ASSERT(rec.u.sample.stack <= stacks);
			ASSERT((rec.u.sample.flags & ~(uint32_t)PSF_SF_KNOWN) == 0);
			ASSERT(rec.u.sample.late_ns <= rec.u.sample.t_ns);
			break;
		case PSF_REC_LOCAL:
			ASSERT(rec.u.local.repr[rec.u.local.repr_len] == '\0');
			ASSERT(strlen(rec.u.local.repr) == rec.u.local.repr_len);
			ASSERT(rec.u.local.thread >= 1 && rec.u.local.thread <= threads);
			break;
		case PSF_REC_THREAD_NAME:
			ASSERT(rec.u.thread_name.thread >= 1 && rec.u.thread_name.thread <= threads);
			break;
		case PSF_REC_TRAILER:
			ASSERT(psf_reader_complete(r));
			break;
		case PSF_REC_GAP:
			/* chunks may be 0: damaged bytes between intact chunks */
			ASSERT(rec.u.gap.first + (uint64_t)rec.u.gap.chunks <= psf_reader_chunk(r));
			ASSERT(rec.u.gap.error == PSF_E_CORRUPT || rec.u.gap.error == PSF_E_CHECKSUM ||
			       rec.u.gap.error == PSF_E_LIMIT);
			gapped = 1;
			break;
		default:
			ASSERT(psf_rec_name(rec.type) != NULL);
			break;
		}
	}
	/* Errors and the end are sticky. */
	ASSERT(psf_reader_next(r, &rec) == ret);
	/* Buffers: at most a stored and a raw chunk, a string, the header. */
	ASSERT(psf_reader_memory(r) <= PSF_MAX_CHUNK_RAW + PSF_MAX_STRING + 1 + PSF_MAX_HEADER);
	psf_reader_free(r);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	read_all(data, size);
	/* An exact-size copy, so that any over-read is caught. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fix_crcs(copy, size);
	read_all(copy, size);
	free(copy);
	return 0;
}
