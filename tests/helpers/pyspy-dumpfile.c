/*
 * pyspy-dumpfile - print every record of a capture file, one per line.
 *
 * usage: pyspy-dumpfile [-H] FILE|-
 *   -H   header and metadata only
 *
 * Output (stdout), stable because tests/golden compares it byte for byte:
 *   header format MAJOR.MINOR flags 0xN (names) capture_id HEX
 *   meta KEY VALUE                        one line per metadata field present
 *   chunk N offset BYTES                  before the first record of each chunk
 *   string ID "TEXT"                      then one line per record, fields as
 *   frame ID python name=.. ...           key=value, times in ns since the
 *   sample t=.. late=.. thread=.. ...     capture start, ids as numbers
 *   end complete chunks=N | end incomplete chunks=N (no trailer)
 *
 * Damage (truncation, corruption): the records before it are printed, then
 * a message naming the chunk goes to stderr and the exit status is 1.  A
 * file that ends cleanly between chunks without a trailer exits 0.
 * Uses only the public API (format/pyspy_format.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pyspy_format.h"

static const char *prog = "pyspy-dumpfile";

/* Print s as a double-quoted string: escapes for '"', '\' and controls. */
static void print_quoted(const char *s, size_t n)
{
	size_t i;

	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Print the names of the bits of v from names[] (NULL = unnamed), or "-". */
static void print_bits(uint64_t v, const char *const *names, int n)
{
	int first = 1, i;

	if (v == 0) {
		putchar('-');
		return;
	}
	for (i = 0; i < 64; i++) {
		if (!(v & ((uint64_t)1 << i)))
			continue;
		if (!first)
			putchar(',');
		first = 0;
		if (i < n && names[i])
			fputs(names[i], stdout);
		else
			printf("bit%d", i);
	}
}

/* Name of an enumerated value, or its number. */
static void print_enum(uint32_t v, const char *const *names, uint32_t n)
{
	if (v < n)
		fputs(names[v], stdout);
	else
		printf("%" PRIu32, v);
}

static const char *const header_flags[] = { "blocking", "subprocesses", "dump", "locals" };
static const char *const sample_flags[] = { "gil", "gil_unknown", "idle", "idle_unknown",
					    "partial", "truncated", "gil_wait" };
static const char *const local_flags[] = { "arg", "truncated", "error" };
static const char *const thread_flags[] = { "main" };
static const char *const end_how[] = { "unknown", "exited", "signaled", "exec", "detached" };
static const char *const err_kinds[] = { "other", "read", "torn", "bad_object",
					 "thread_list", "proc", "ptrace", "name" };
static const char *const reasons[] = { "unknown", "duration", "exited", "signal", "error",
				       "disk_full", "dump", "exec" };
#define NELEM(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

static void meta_str(const char *key, const char *v)
{
	if (!v)
		return;
	printf("meta %s ", key);
	print_quoted(v, strlen(v));
	putchar('\n');
}

static void print_header(const struct psf_meta *m)
{
	int i;

	printf("header format %u.%u flags 0x%" PRIx64 " (", m->major, m->minor, m->flags);
	print_bits(m->flags, header_flags, NELEM(header_flags));
	printf(") capture_id ");
	for (i = 0; i < 16; i++)
		printf("%02x", m->capture_id[i]);
	putchar('\n');
	meta_str("hostname", m->hostname);
	meta_str("kernel", m->kernel);
	meta_str("tool_version", m->tool_version);
	printf("meta start_wall_ns %" PRIu64 "\n", m->start_wall_ns);
	printf("meta start_mono_ns %" PRIu64 "\n", m->start_mono_ns);
	printf("meta rate_hz %" PRIu32 "\n", m->rate_hz);
	printf("meta time_unit_ns %" PRIu32 "\n", m->time_unit_ns);
	printf("meta pid %" PRId32 "\n", m->pid);
	meta_str("cmdline", m->cmdline);
	meta_str("python_version", m->python_version);
	meta_str("python_exe", m->python_exe);
	meta_str("options", m->options);
}

static void print_record(const struct psf_record *rec)
{
	const char *name = psf_rec_name(rec->type);

	fputs(name ? name : "unknown", stdout);
	switch (rec->type) {
	case PSF_REC_STRING:
		printf(" %" PRIu32 " ", rec->u.string.id);
		print_quoted(rec->u.string.data, rec->u.string.len);
		break;
	case PSF_REC_FRAME: {
		const struct psf_frame *f = &rec->u.frame;

		printf(" %" PRIu32, f->id);
		if (f->kind == PSF_FRAME_PYTHON)
			printf(" python name=%" PRIu32 " qualname=%" PRIu32 " file=%" PRIu32
			       " firstlineno=%" PRId32, f->name, f->qualname, f->file, f->firstlineno);
		else if (f->kind == PSF_FRAME_NATIVE)
			printf(" native name=%" PRIu32 " file=%" PRIu32 " offset=0x%" PRIx64,
			       f->name, f->file, f->offset);
		else
			printf(" synthetic name=%" PRIu32, f->name);
		break;
	}
	case PSF_REC_STACK:
		printf(" %" PRIu32 " parent=%" PRIu32 " frame=%" PRIu32 " line=%" PRId32,
		       rec->u.stack.id, rec->u.stack.parent, rec->u.stack.frame, rec->u.stack.line);
		break;
	case PSF_REC_PROCESS: {
		const struct psf_process *p = &rec->u.process;

		printf(" %" PRIu32 " pid=%" PRId32 " ppid=%" PRId32 " start=%" PRIu64
		       " cmdline=%" PRIu32 " python_version=%" PRIu32 " exe=%" PRIu32,
		       p->id, p->pid, p->ppid, p->start_ns, p->cmdline, p->python_version, p->exe);
		break;
	}
	case PSF_REC_THREAD: {
		const struct psf_thread *t = &rec->u.thread;

		printf(" %" PRIu32 " process=%" PRIu32 " tid=%" PRId32 " py_thread_id=%" PRIu64
		       " name=%" PRIu32 " first=%" PRIu64 " interp=%" PRIu32 " flags=",
		       t->id, t->process, t->tid, t->py_thread_id, t->name, t->first_ns, t->interp);
		print_bits(t->flags, thread_flags, NELEM(thread_flags));
		break;
	}
	case PSF_REC_SAMPLE: {
		const struct psf_sample *s = &rec->u.sample;

		printf(" t=%" PRIu64 " late=%" PRIu64 " thread=%" PRIu32 " stack=%" PRIu32 " flags=",
		       s->t_ns, s->late_ns, s->thread, s->stack);
		print_bits(s->flags, sample_flags, NELEM(sample_flags));
		break;
	}
	case PSF_REC_PROCESS_END:
		printf(" process=%" PRIu32 " t=%" PRIu64 " how=", rec->u.process_end.process,
		       rec->u.process_end.t_ns);
		print_enum(rec->u.process_end.how, end_how, NELEM(end_how));
		printf(" status=%" PRId32, rec->u.process_end.status);
		break;
	case PSF_REC_THREAD_NAME:
		printf(" thread=%" PRIu32 " t=%" PRIu64 " name=%" PRIu32, rec->u.thread_name.thread,
		       rec->u.thread_name.t_ns, rec->u.thread_name.name);
		break;
	case PSF_REC_THREAD_END:
		printf(" thread=%" PRIu32 " last=%" PRIu64, rec->u.thread_end.thread,
		       rec->u.thread_end.last_ns);
		break;
	case PSF_REC_ERRORS:
		printf(" process=%" PRIu32 " t=%" PRIu64 " kind=", rec->u.errors.process,
		       rec->u.errors.t_ns);
		print_enum(rec->u.errors.kind, err_kinds, NELEM(err_kinds));
		printf(" count=%" PRIu64, rec->u.errors.count);
		break;
	case PSF_REC_LAG: {
		const struct psf_lag *l = &rec->u.lag;

		printf(" t=%" PRIu64 " ticks=%" PRIu64 " missed=%" PRIu64 " max_late=%" PRIu64
		       " sum_late=%" PRIu64, l->t_ns, l->ticks, l->missed, l->max_late_ns,
		       l->sum_late_ns);
		break;
	}
	case PSF_REC_LOCAL: {
		const struct psf_local *l = &rec->u.local;

		printf(" thread=%" PRIu32 " t=%" PRIu64 " depth=%" PRIu32 " flags=", l->thread,
		       l->t_ns, l->depth);
		print_bits(l->flags, local_flags, NELEM(local_flags));
		printf(" name=%" PRIu32 " repr=", l->name);
		print_quoted(l->repr, l->repr_len);
		break;
	}
	case PSF_REC_TRAILER: {
		const struct psf_trailer *t = &rec->u.trailer;

		printf(" end=%" PRIu64 " samples=%" PRIu64 " ticks=%" PRIu64 " missed=%" PRIu64
		       " errors=%" PRIu64 " partial=%" PRIu64 " chunks=%" PRIu32 " reason=",
		       t->end_ns, t->samples, t->ticks, t->missed, t->errors, t->partial, t->chunks);
		print_enum(t->reason, reasons, NELEM(reasons));
		printf(" exit_status=%" PRId32, t->exit_status);
		break;
	}
	case PSF_REC_GAP: {
		const struct psf_gap *g = &rec->u.gap;

		printf(" first=%" PRIu32 " chunks=%" PRIu32 " error=%s samples=%" PRIu64 " offset=%" PRIu64,
		       g->first, g->chunks, psf_strerror(g->error), g->samples, g->offset);
		break;
	}
	default:
		printf(" type=0x%02x", rec->type);
		break;
	}
	putchar('\n');
}

static void usage_error(const char *msg)
{
	fprintf(stderr, "%s: %s\nusage: %s [-H] FILE|-\n", prog, msg, prog);
}

int main(int argc, char **argv)
{
	struct psf_reader *r = NULL;
	struct psf_record rec;
	const char *path = NULL;
	int header_only = 0, fd, ret, i, status = 1;
	int64_t last_chunk = -1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-H") == 0)
			header_only = 1;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: %s [-H] FILE|-\n", prog);
			return 0;
		} else if (!path && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
			path = argv[i];
		else {
			usage_error("unexpected argument");
			return 2;
		}
	}
	if (!path) {
		usage_error("no input file");
		return 2;
	}
	if (strcmp(path, "-") == 0) {
		fd = 0;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "%s: cannot open '%s': %s\n", prog, path, strerror(errno));
			return 1;
		}
	}
	ret = psf_reader_open_fd(&r, fd);
	if (ret == PSF_E_NEWER) {
		const struct psf_meta *m = psf_reader_meta(r);

		fprintf(stderr, "%s: '%s' was written by a newer pyspy (format %u.%u; this build reads %d.x)\n",
			prog, path, m->major, m->minor, PSF_FORMAT_MAJOR);
		goto out;
	}
	if (ret < 0) {
		fprintf(stderr, "%s: cannot read '%s': %s%s%s\n", prog, path, psf_strerror(ret),
			ret == PSF_E_IO ? ": " : "", ret == PSF_E_IO ? strerror(errno) : "");
		goto out;
	}
	print_header(psf_reader_meta(r));
	if (header_only) {
		status = 0;
		goto out;
	}
	while ((ret = psf_reader_next(r, &rec)) > 0) {
		if ((int64_t)psf_reader_chunk(r) != last_chunk) {
			last_chunk = psf_reader_chunk(r);
			printf("chunk %" PRIu32 " offset %" PRIu64 "\n", psf_reader_chunk(r),
			       psf_reader_offset(r));
		}
		print_record(&rec);
	}
	if (ret < 0) {
		fflush(stdout);
		fprintf(stderr, "%s: '%s': chunk %" PRIu32 " at offset %" PRIu64 ": %s%s%s\n", prog,
			path, psf_reader_chunk(r), psf_reader_offset(r), psf_strerror(ret),
			ret == PSF_E_IO ? ": " : "", ret == PSF_E_IO ? strerror(errno) : "");
		goto out;
	}
	printf("end %s chunks=%" PRIu32 "%s\n", psf_reader_complete(r) ? "complete" : "incomplete",
	       psf_reader_chunk(r), psf_reader_complete(r) ? "" : " (no trailer)");
	status = 0;
out:
	psf_reader_free(r);
	if (fd > 0)
		close(fd);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: write error on stdout\n", prog);
		status = 1;
	}
	return status;
}
