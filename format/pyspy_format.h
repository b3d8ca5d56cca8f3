/*
 * pyspy_format.h - the pyspy capture file format library (libpyspyfmt).
 *
 * This is the whole public API shared by pyspy-capture and pyspy-analyze.
 * The on-disk format it reads and writes is specified in docs/format.md;
 * section numbers below (§N) refer to that document.
 *
 * Module invariants:
 *  - The library never prints, never exits and has no global state.  Every
 *    function that can fail returns an int: 0 (PSF_OK) or more on success, a
 *    negative PSF_E_* code on failure; psf_strerror() turns it into text.
 *    On PSF_E_IO errno is left as the failing system call set it.
 *  - Ids of strings, frames, stacks, processes and threads are assigned by
 *    the writer in definition order starting at 1 and are never reused within
 *    a file; 0 always means "none" (for stacks: the empty stack, the root of
 *    the stack trie).
 *  - Every length read from a file is bounded before use (PSF_MAX_*); a file
 *    can never make the reader allocate more than about two chunks.
 */
#ifndef PYSPY_FORMAT_PYSPY_FORMAT_H
#define PYSPY_FORMAT_PYSPY_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Format version written by this library (§2).  Readers accept any minor. */
#define PSF_FORMAT_MAJOR 1
#define PSF_FORMAT_MINOR 1

/* Hard bounds (§7).  A file exceeding one is corrupt. */
#define PSF_MAX_HEADER      (1u << 20)  /* header bytes incl. metadata */
#define PSF_MAX_CHUNK_RAW   (16u << 20) /* decompressed chunk payload */
#define PSF_MAX_CHUNK_STORED (16u << 20) /* compressed chunk payload */
#define PSF_MAX_STRING      65536u      /* one string, bytes */
#define PSF_MAX_BLOCK_SAMPLES 1048576u  /* samples in one sample block */

/* Error codes: explicit, only ever appended, never renumbered. */
enum psf_error {
	PSF_OK = 0,
	PSF_E_IO = -1,          /* read/write failed; errno is set */
	PSF_E_NOMEM = -2,       /* out of memory */
	PSF_E_NOT_CAPTURE = -3, /* bad magic: not a pyspy capture */
	PSF_E_NEWER = -4,       /* major version newer than this reader */
	PSF_E_CORRUPT = -5,     /* malformed content (bad length, bad id, ...) */
	PSF_E_TRUNCATED = -6,   /* file ends inside the header or a chunk */
	PSF_E_CHECKSUM = -7,    /* a chunk or the header fails its CRC */
	PSF_E_UNSUPPORTED = -8, /* unknown critical record type or header flag */
	PSF_E_INVAL = -9,       /* caller error: bad argument or call order */
	PSF_E_LIMIT = -10,      /* a bound of §7 would be exceeded */
	PSF_E_ZSTD = -11,       /* the zstd library failed */
	PSF_E_EMPTY = -12,      /* the input is empty (0 bytes) */
};

/* Static text for an error code; never NULL. */
const char *psf_strerror(int err);

/* ------------------------------------------------------------------ */
/* Capture metadata (file header, §3)                                  */

/* Header flags (must-understand, §3.1). */
#define PSF_HF_BLOCKING      (1u << 0) /* stacks read with threads paused */
#define PSF_HF_SUBPROCESSES  (1u << 1) /* descendants were followed */
#define PSF_HF_DUMP          (1u << 2) /* a one-shot --dump snapshot */
#define PSF_HF_LOCALS        (1u << 3) /* frames carry local variables */
#define PSF_HF_KNOWN         0x0fu

/*
 * Capture metadata.  Strings are UTF-8, NUL-terminated; NULL means "not
 * known" and is written as absent.  For a reader these are borrowed
 * pointers valid until psf_reader_free().
 */
struct psf_meta {
	uint16_t major, minor;      /* filled by the reader; ignored on write */
	uint64_t flags;             /* PSF_HF_* */
	uint8_t capture_id[16];     /* random id; all-zero on write = generate */
	const char *hostname;
	const char *kernel;         /* "sysname release version machine" */
	const char *tool_version;   /* e.g. "pyspy-capture 0.1.0" */
	uint64_t start_wall_ns;     /* CLOCK_REALTIME at capture start */
	uint64_t start_mono_ns;     /* CLOCK_MONOTONIC at capture start */
	uint32_t rate_hz;           /* requested sampling rate */
	uint32_t time_unit_ns;      /* resolution of sample times (§5.3); 0 = 1000 */
	int32_t pid;                /* root target pid (0 if unknown) */
	const char *cmdline;        /* target command line, args joined by ' ' */
	const char *python_version; /* e.g. "3.12.1"; root target's */
	const char *python_exe;     /* path of the interpreter binary */
	const char *options;        /* the capture's own command line */
};

/* ------------------------------------------------------------------ */
/* Records (§5).  Type numbers are on-disk values: never renumber.      */

/*
 * Record types.  Bit 7 of the type byte says what an old reader must do
 * with a type it does not know: 0 = critical (refuse the file), 1 =
 * ancillary (skip it).
 */
enum psf_rec_type {
	/* critical */
	PSF_REC_STRING = 0x01,
	PSF_REC_FRAME = 0x02,
	PSF_REC_STACK = 0x03,
	PSF_REC_PROCESS = 0x04,
	PSF_REC_THREAD = 0x05,
	PSF_REC_SAMPLE = 0x06,   /* on disk: sample blocks (§5.3); API: one sample */
	/* ancillary */
	PSF_REC_PROCESS_END = 0x80,
	PSF_REC_THREAD_NAME = 0x81,
	PSF_REC_THREAD_END = 0x82,
	PSF_REC_ERRORS = 0x83,
	PSF_REC_LAG = 0x84,
	PSF_REC_LOCAL = 0x85,
	PSF_REC_TRAILER = 0x86,
	PSF_REC_SYNC = 0x87,     /* on disk only (1.1): what came before a chunk */
	/*
	 * API only, never on disk (0x7f is reserved): psf_reader_next() hands
	 * one out where it skipped damaged chunks and resumed (u.gap).
	 */
	PSF_REC_GAP = 0x7f,
};
#define PSF_REC_ANCILLARY 0x80u

/*
 * Name of a record type ("string", "sample", "trailer", ...), or NULL if
 * this library does not know the type.  Static text.
 */
const char *psf_rec_name(int type);

/* Frame kinds (§5.2). */
enum psf_frame_kind {
	PSF_FRAME_PYTHON = 0,    /* name, qualname, file, firstlineno */
	PSF_FRAME_NATIVE = 1,    /* module (file), symbol (name), offset */
	PSF_FRAME_SYNTHETIC = 2, /* name only, e.g. "<GC>", "<native>" */
};

struct psf_string {
	uint32_t id;
	uint32_t len;            /* bytes, excluding the terminating NUL */
	const char *data;        /* valid UTF-8, NUL-terminated; borrowed */
};

struct psf_frame {
	uint32_t id;
	uint8_t kind;            /* enum psf_frame_kind */
	uint32_t name;           /* string id: co_name / symbol / synthetic name */
	uint32_t qualname;       /* string id: co_qualname (3.11+), else 0 */
	uint32_t file;           /* string id: co_filename / module path */
	int32_t firstlineno;     /* co_firstlineno; 0 for non-Python frames */
	uint64_t offset;         /* native: offset of the pc in the symbol */
};

/* A stack is its parent stack (the callers) plus one frame at the leaf. */
struct psf_stack {
	uint32_t id;
	uint32_t parent;         /* stack id; 0 = this frame is the root */
	uint32_t frame;          /* frame id */
	int32_t line;            /* current line in that frame; -1 = none */
};

struct psf_process {
	uint32_t id;
	int32_t pid, ppid;
	uint64_t start_ns;       /* first seen, ns since capture start */
	uint32_t cmdline;        /* string ids (0 = unknown) */
	uint32_t python_version;
	uint32_t exe;
};

/* How a process ended (struct psf_process_end.how). */
enum psf_end_how {
	PSF_END_UNKNOWN = 0,     /* disappeared; status unknown */
	PSF_END_EXITED = 1,      /* status = exit code */
	PSF_END_SIGNALED = 2,    /* status = signal number */
	PSF_END_EXEC = 3,        /* replaced itself with exec() */
	PSF_END_DETACHED = 4,    /* still running when the capture ended */
};

struct psf_process_end {
	uint32_t process;
	uint64_t t_ns;
	uint8_t how;             /* enum psf_end_how */
	int32_t status;
};

/* Thread flags (struct psf_thread.flags). */
#define PSF_TF_MAIN (1u << 0) /* the interpreter's main thread */

struct psf_thread {
	uint32_t id;
	uint32_t process;        /* process id */
	int32_t tid;             /* OS thread id; 0 = unknown */
	uint64_t py_thread_id;   /* PyThreadState.thread_id (pthread_t) */
	uint32_t name;           /* string id; 0 = unknown */
	uint64_t first_ns;       /* first seen */
	uint32_t interp;         /* interpreter id (0 = main interpreter) */
	uint32_t flags;          /* PSF_TF_* */
};

struct psf_thread_name {
	uint32_t thread;
	uint64_t t_ns;           /* when the new name was first seen */
	uint32_t name;           /* string id */
};

struct psf_thread_end {
	uint32_t thread;
	uint64_t last_ns;        /* last seen */
};

/*
 * Sample flags (§5.3).  A pair of bits per property: the value and
 * "unknown" (the capture could not determine it; the value bit is then 0).
 */
#define PSF_SF_GIL          (1u << 0) /* thread holds the GIL */
#define PSF_SF_GIL_UNKNOWN  (1u << 1)
#define PSF_SF_IDLE         (1u << 2) /* OS says not running (state != R) */
#define PSF_SF_IDLE_UNKNOWN (1u << 3)
#define PSF_SF_PARTIAL      (1u << 4) /* torn/incomplete: outer frames missing */
#define PSF_SF_TRUNCATED    (1u << 5) /* deeper than the depth limit */
#define PSF_SF_GIL_WAIT     (1u << 6) /* thread is waiting for the GIL */
#define PSF_SF_KNOWN        0x7fu

struct psf_sample {
	uint64_t t_ns;           /* ns since capture start (time_unit resolution) */
	uint64_t late_ns;        /* read: how late its tick ran; ignored on write */
	uint32_t thread;         /* thread id */
	uint32_t stack;          /* stack id; 0 = empty stack */
	uint32_t flags;          /* PSF_SF_* */
};

/* Sampling error kinds (struct psf_errors.kind); on-disk values. */
enum psf_err_kind {
	PSF_ERRK_OTHER = 0,
	PSF_ERRK_READ = 1,       /* process_vm_readv failed */
	PSF_ERRK_TORN = 2,       /* stack changed during the read */
	PSF_ERRK_BAD_OBJECT = 3, /* an object failed validation */
	PSF_ERRK_THREAD_LIST = 4,/* interpreter/thread list unreadable */
	PSF_ERRK_PROC = 5,       /* /proc read failed */
	PSF_ERRK_PTRACE = 6,     /* --blocking could not pause a thread */
	PSF_ERRK_NAME = 7,       /* thread-name lookup failed */
	PSF_ERRK_COUNT_ = 8      /* number of kinds known to this version */
};

/* Counts of errors since the previous PSF_REC_ERRORS for that process. */
struct psf_errors {
	uint32_t process;        /* 0 = not tied to one process */
	uint64_t t_ns;
	uint32_t kind;           /* enum psf_err_kind (unknown values allowed) */
	uint64_t count;
};

/* Sampler timing since the previous PSF_REC_LAG. */
struct psf_lag {
	uint64_t t_ns;
	uint64_t ticks;          /* ticks performed */
	uint64_t missed;         /* scheduled ticks skipped because we were late */
	uint64_t max_late_ns;    /* worst lateness of a tick */
	uint64_t sum_late_ns;    /* total lateness (mean = sum / ticks) */
};

/* Flags of a local variable (struct psf_local.flags). */
#define PSF_LF_ARG       (1u << 0) /* a positional or keyword argument */
#define PSF_LF_TRUNCATED (1u << 1) /* repr was cut to the budget */
#define PSF_LF_ERROR     (1u << 2) /* value unreadable; repr says why */

/* One local variable of one frame of a thread's most recent sample. */
struct psf_local {
	uint32_t thread;
	uint64_t t_ns;           /* time of the sample it belongs to */
	uint32_t depth;          /* frame index, 0 = leaf */
	uint32_t flags;          /* PSF_LF_* */
	uint32_t name;           /* string id */
	uint32_t repr_len;
	const char *repr;        /* UTF-8, NUL-terminated; borrowed (reader) */
};

/* Why a capture ended (struct psf_trailer.reason). */
enum psf_end_reason {
	PSF_STOP_UNKNOWN = 0,
	PSF_STOP_DURATION = 1,   /* --duration elapsed */
	PSF_STOP_EXITED = 2,     /* target exited */
	PSF_STOP_SIGNAL = 3,     /* SIGINT/SIGTERM to the capture */
	PSF_STOP_ERROR = 4,      /* runtime failure */
	PSF_STOP_DISK_FULL = 5,  /* writing failed (e.g. ENOSPC) */
	PSF_STOP_DUMP = 6,       /* one-shot dump complete */
	PSF_STOP_EXEC = 7,       /* target exec()ed a non-Python program */
};

struct psf_trailer {
	uint64_t end_ns;         /* ns since capture start */
	uint64_t samples;        /* all samples written */
	uint64_t ticks;
	uint64_t missed;
	uint64_t errors;
	uint64_t partial;        /* samples flagged PSF_SF_PARTIAL */
	uint32_t chunks;         /* filled by the writer, including the last */
	uint8_t reason;          /* enum psf_end_reason */
	int32_t exit_status;     /* root target's exit code, -signal, or 0 */
};

/*
 * Damaged chunks the reader skipped (PSF_REC_GAP): chunks first ..
 * first + chunks - 1 were lost (error: why the first was refused), and
 * with them `samples` samples (from the SYNC record of the chunk where the
 * reader resumed; exact).  Records after the gap that refer to what was
 * defined in the lost chunks are adjusted: a reference to a lost string
 * becomes 0 (unknown); a stack, thread or event that needs a lost frame,
 * stack, process or thread, and a sample of a lost thread or stack, are
 * left out (counted by psf_reader_dropped()).
 */
struct psf_gap {
	uint32_t first;          /* index of the first lost chunk */
	uint32_t chunks;         /* chunks lost (0: damaged bytes between two chunks) */
	int32_t error;           /* PSF_E_* of the first lost chunk */
	uint64_t samples;        /* samples they held */
	uint64_t offset;         /* byte offset of the first lost chunk */
};

/* What psf_reader_next() hands out.  Pointers inside are borrowed. */
struct psf_record {
	uint8_t type;            /* enum psf_rec_type */
	union {
		struct psf_string string;
		struct psf_frame frame;
		struct psf_stack stack;
		struct psf_process process;
		struct psf_process_end process_end;
		struct psf_thread thread;
		struct psf_thread_name thread_name;
		struct psf_thread_end thread_end;
		struct psf_sample sample;
		struct psf_errors errors;
		struct psf_lag lag;
		struct psf_local local;
		struct psf_trailer trailer;
		struct psf_gap gap;
	} u;
};

/* ------------------------------------------------------------------ */
/* Writer                                                               */

struct psf_writer;

struct psf_writer_opts {
	int zstd_level;          /* 0 = default (PSF_DEFAULT_ZSTD_LEVEL) */
	uint32_t chunk_bytes;    /* flush when the raw chunk reaches this; 0 = 1 MiB, max 8 MiB */
	uint64_t chunk_ns;       /* flush when the chunk is older; 0 = 1 s */
	uint32_t intern_max;     /* entries per intern table before reset; 0 = 65536 */
	int no_compress;         /* 1 = store chunks uncompressed (tests, debugging) */
};
#define PSF_DEFAULT_ZSTD_LEVEL 6

/*
 * Write the file header to fd and return a writer in *out (caller owns;
 * free with psf_writer_free()); *out is NULL on error.  fd stays owned by
 * the caller and may be a pipe; it is never seeked except to cut a regular
 * file back after a failed write (below).  opts may be NULL.
 * meta->time_unit_ns of 0 means 1000; every time is stored as floor(ns /
 * time_unit_ns).  The period used to predict tick times is 1e9 /
 * meta->rate_hz.  An all-zero capture_id is replaced by a random one.
 * PSF_E_INVAL: unknown header flag, negative pid, a string that is not
 * UTF-8 or holds a NUL, bad option; PSF_E_LIMIT: a string > 64 KiB.
 *
 * Write failures (every function that writes): PSF_E_IO with errno from
 * write(2).  A regular file is then cut back to the end of the last
 * complete chunk, so it stays a valid (incomplete) capture, and the writer
 * refuses everything (PSF_E_IO again) except psf_writer_close(), which
 * tries to end the file with a chunk holding only the trailer.
 */
int psf_writer_open(struct psf_writer **out, int fd, const struct psf_meta *meta,
		    const struct psf_writer_opts *opts);

/*
 * Interning: return in *id the id of an identical earlier definition still
 * in the writer's tables, or define a new one.  Tables are bounded
 * (opts.intern_max); when one is full it is forgotten and later lookups
 * define again under new ids, so ids stay valid forever but memory does not
 * grow with the capture.  Strings must be valid UTF-8 without NUL bytes
 * (else PSF_E_INVAL) and at most PSF_MAX_STRING bytes (else PSF_E_LIMIT).
 */
int psf_writer_string(struct psf_writer *w, const char *s, size_t len, uint32_t *id);
int psf_writer_frame(struct psf_writer *w, const struct psf_frame *f, uint32_t *id);
int psf_writer_stack(struct psf_writer *w, uint32_t parent, uint32_t frame,
		     int32_t line, uint32_t *id);

/* Definitions that are never deduplicated; p->id / t->id are ignored. */
int psf_writer_process(struct psf_writer *w, const struct psf_process *p, uint32_t *id);
int psf_writer_thread(struct psf_writer *w, const struct psf_thread *t, uint32_t *id);

/* Events. */
int psf_writer_process_end(struct psf_writer *w, const struct psf_process_end *e);
int psf_writer_thread_name(struct psf_writer *w, const struct psf_thread_name *n);
int psf_writer_thread_end(struct psf_writer *w, const struct psf_thread_end *e);
int psf_writer_errors(struct psf_writer *w, const struct psf_errors *e);
int psf_writer_lag(struct psf_writer *w, const struct psf_lag *l);
int psf_writer_local(struct psf_writer *w, const struct psf_local *l);

/*
 * Start a sampling tick.  t_ns is when the tick ran, sched_ns when it was
 * scheduled (t_ns >= sched_ns; both ns since capture start, non-decreasing
 * across calls, below 2^63; else PSF_E_INVAL).  Samples added after it
 * belong to it.  A tick may continue across a chunk boundary.
 */
int psf_writer_tick(struct psf_writer *w, uint64_t t_ns, uint64_t sched_ns);

/*
 * Add one sample to the current tick (PSF_E_INVAL before the first tick).
 * s->t_ns must be >= the tick's t_ns; s->late_ns is ignored.  PSF_E_INVAL
 * also for a thread or stack id not defined yet, a reserved flag bit, or a
 * flag together with its "unknown" bit.
 * Hot path: no allocation, no system call unless the chunk fills up.
 */
int psf_writer_sample(struct psf_writer *w, const struct psf_sample *s);

/* Write the current chunk now (nothing if empty). */
int psf_writer_flush(struct psf_writer *w);

/* Flush if the current chunk holds data older than opts.chunk_ns at now_ns. */
int psf_writer_maybe_flush(struct psf_writer *w, uint64_t now_ns);

/*
 * Append the trailer (t->chunks is filled in) and flush.  The writer can
 * only be freed afterwards (PSF_E_INVAL for anything else).  Does not
 * close fd.  If the write fails (PSF_E_IO), see psf_writer_open(): the
 * file is cut back and close may be called once more to try a trailer-only
 * chunk, e.g. with reason PSF_STOP_DISK_FULL.
 */
int psf_writer_close(struct psf_writer *w, const struct psf_trailer *t);

/* Bytes written to fd so far (header + complete chunks). */
uint64_t psf_writer_bytes(const struct psf_writer *w);

/*
 * Samples the file holds: those in chunks written so far plus, while the
 * writer works, those of the chunk being built.  After a failed write the
 * samples of the chunk that was cut off no longer count, so this is what
 * a reader will find, never the samples that were merely offered.
 */
uint64_t psf_writer_samples(const struct psf_writer *w);

/* Release the writer without writing anything more.  Accepts NULL. */
void psf_writer_free(struct psf_writer *w);

/* ------------------------------------------------------------------ */
/* Reader                                                               */

struct psf_reader;

/*
 * Read and check the header from fd (a file or a pipe; caller keeps fd).
 * On PSF_E_NEWER *out is still set: psf_reader_meta() gives the major and
 * minor found (nothing else), psf_reader_next() returns PSF_E_NEWER, and
 * the caller frees it.  On any other error *out is NULL.  PSF_E_EMPTY: 0
 * bytes; PSF_E_NOT_CAPTURE: bad magic; PSF_E_TRUNCATED: shorter than its
 * header; PSF_E_CHECKSUM, PSF_E_CORRUPT: damaged header; PSF_E_UNSUPPORTED:
 * a header flag this library does not know.
 */
int psf_reader_open_fd(struct psf_reader **out, int fd);

/* Same, reading from memory (borrowed; must outlive the reader). */
int psf_reader_open_mem(struct psf_reader **out, const void *buf, size_t len);

/* Header metadata; borrowed, valid until psf_reader_free(). */
const struct psf_meta *psf_reader_meta(const struct psf_reader *r);

/*
 * Next record into *rec.  Returns 1 when a record was produced, 0 at a
 * clean end of input, or a negative PSF_E_* code: the record stream stops
 * there, and everything returned before remains valid (a damaged chunk is
 * detected before any of its records are returned).  A damaged chunk
 * (checksum mismatch, corrupt) followed by an intact one written by a
 * format 1.1 writer (it starts with a SYNC record) is skipped: a
 * PSF_REC_GAP record says which chunks and how many samples were lost,
 * and reading goes on (§4).  Without an intact chunk after it, or in a
 * format 1.0 file (no SYNC records), the damage ends the stream as
 * before.  PSF_E_TRUNCATED at
 * the end means the file is being written or was cut short; PSF_E_CHECKSUM
 * or PSF_E_CORRUPT a damaged chunk; PSF_E_UNSUPPORTED a record type that
 * needs a newer reader; PSF_E_LIMIT a zstd window above 2^27.  Errors are
 * sticky: later calls return the same code.  Sample blocks come out as one
 * PSF_REC_SAMPLE per sample, times in ns.  Unknown ancillary records are
 * skipped.  Pointers in *rec are valid until the next call.
 *
 * Order: records come in file order, which within a chunk is the writer's
 * layout (§8): definitions and THREAD_NAME first, then the samples, then
 * PROCESS_END, THREAD_END, ERRORS, LAG, LOCAL, TRAILER.  So a THREAD_NAME
 * can come before samples older than its t_ns, and an end event after
 * samples of the same chunk: place events among samples by their times.
 */
int psf_reader_next(struct psf_reader *r, struct psf_record *rec);

/*
 * Index (0-based) of the chunk being read or that failed; after a clean
 * end, the number of chunks.
 */
uint32_t psf_reader_chunk(const struct psf_reader *r);

/* Byte offset in the input of that chunk's header. */
uint64_t psf_reader_offset(const struct psf_reader *r);

/* 1 once the trailer record has been read (the capture ended cleanly). */
int psf_reader_complete(const struct psf_reader *r);

/*
 * Samples left out after a gap because they referred to a thread or stack
 * lost with a damaged chunk (PSF_REC_GAP); 0 without damage.
 */
uint64_t psf_reader_dropped(const struct psf_reader *r);

/* Release the reader.  Accepts NULL. */
void psf_reader_free(struct psf_reader *r);

/* ------------------------------------------------------------------ */
/* Helpers shared by both tools                                          */

/* 1 if buf[0..len) is valid UTF-8 (no overlongs, no surrogates). */
int psf_utf8_valid(const char *buf, size_t len);

/*
 * Copy src[0..len) into dst[0..cap) as valid UTF-8: invalid bytes become
 * U+FFFD, NUL becomes U+FFFD, output is cut on a character boundary and
 * NUL-terminated.  Returns the bytes written (excluding NUL).  cap >= 1.
 * latin1 != 0 decodes each invalid byte as Latin-1 instead of U+FFFD.
 */
size_t psf_utf8_sanitize(char *dst, size_t cap, const char *src, size_t len, int latin1);

#ifdef __cplusplus
}
#endif

#endif /* PYSPY_FORMAT_PYSPY_FORMAT_H */
