/*
 * format_writer_errors.c - the writer when writing fails: a full device,
 * a file size limit hit in the middle of a chunk (the file is cut back to
 * the last chunk boundary and stays readable), a pipe closed early.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format_testutil.h"
#include "pyspy_format.h"
#include "test.h"

/* Define a thread and a stack; returns 0 or the first error. */
static int define(struct psf_writer *w, uint32_t *thread, uint32_t *stack)
{
	struct psf_process p = { 0 };
	struct psf_thread t = { 0 };
	struct psf_frame f = { 0 };
	uint32_t proc = 0, name = 0, frame = 0;
	int ret;

	p.pid = 1;
	ret = psf_writer_process(w, &p, &proc);
	t.process = proc;
	if (!ret)
		ret = psf_writer_thread(w, &t, thread);
	if (!ret)
		ret = psf_writer_string(w, "work", 4, &name);
	f.kind = PSF_FRAME_PYTHON;
	f.name = name;
	if (!ret)
		ret = psf_writer_frame(w, &f, &frame);
	if (!ret)
		ret = psf_writer_stack(w, 0, frame, 1, stack);
	return ret;
}

/*
 * One tick with one sample at i ms, with a varying stack line so chunks do
 * not compress to nothing.  Returns the writer's result.
 */
static int one_tick(struct psf_writer *w, uint32_t thread, uint32_t i)
{
	struct psf_sample s = { 0 };
	uint64_t t = (i + 1) * 1000000ull;
	uint32_t st = 0;
	int ret;

	ret = psf_writer_tick(w, t, t);
	if (!ret)
		ret = psf_writer_stack(w, 0, 1, (int32_t)(i * 2654435761u >> 8), &st);
	s.t_ns = t;
	s.thread = thread;
	s.stack = st;
	if (!ret)
		ret = psf_writer_sample(w, &s);
	return ret;
}

static void dev_full(void)
{
	struct psf_meta m = tu_meta(1000, 1000);
	struct psf_writer *w = (struct psf_writer *)&m; /* must be reset to NULL */
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	errno = 0;
	CHECK_EQ(psf_writer_open(&w, fd, &m, NULL), PSF_E_IO);
	CHECK_EQ(errno, ENOSPC);
	CHECK(w == NULL);
	close(fd);
}

/* Path of a scratch regular file on disk (RLIMIT_FSIZE needs a real file). */
static int scratch_file(char *path, size_t n)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(path, n, "%s/pyspy-fmt-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/*
 * The file size limit is hit in the middle of a chunk: the writer reports
 * PSF_E_IO with errno EFBIG, cuts the file back to the last chunk, refuses
 * more data, and close() can still add a trailer-only chunk once there is
 * room again.
 */
static void size_limit_cuts_back(void)
{
	struct psf_meta m = tu_meta(1000, 1000);
	struct psf_writer_opts o;
	struct psf_writer *w = NULL;
	struct psf_trailer tr = { 0 };
	struct rlimit old, lim;
	struct psf_record *v;
	char path[4096];
	uint32_t thread, stack, i, chunks = 0;
	uint64_t good;
	size_t len, n, k, samples = 0;
	uint8_t *buf;
	int fd = scratch_file(path, sizeof(path)), ret = 0, saved;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	signal(SIGXFSZ, SIG_IGN);
	CHECK_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 1500;
	o.no_compress = 1; /* predictable sizes */
	CHECK_EQ(psf_writer_open(&w, fd, &m, &o), 0);
	if (!w)
		goto out;
	CHECK_EQ(define(w, &thread, &stack), 0);
	lim = old;
	lim.rlim_cur = 20000;
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (i = 0; i < 100000 && ret == 0; i++)
		ret = one_tick(w, thread, i);
	saved = errno;
	CHECK_EQ(ret, PSF_E_IO);
	CHECK_EQ(saved, EFBIG);
	good = psf_writer_bytes(w);
	CHECK(good > 10000 && good <= 20000);
	{
		struct stat st;

		CHECK_EQ(fstat(fd, &st), 0);
		CHECK_EQ((uint64_t)st.st_size, good); /* cut back to the boundary */
		CHECK_EQ(lseek(fd, 0, SEEK_CUR), (off_t)good);
	}
	/* Broken: every further call fails the same way, writing nothing. */
	errno = 0;
	CHECK_EQ(one_tick(w, thread, i + 1), PSF_E_IO);
	CHECK_EQ(errno, EFBIG);
	CHECK_EQ(psf_writer_flush(w), PSF_E_IO);
	CHECK(psf_writer_bytes(w) == good);

	/* The file as it is: clean, complete chunks, no trailer. */
	buf = tu_slurp(fd, &len);
	CHECK_EQ(tu_read_all(buf, len, &v, &n, &chunks), 0);
	for (k = 0; k < n; k++)
		samples += v[k].type == PSF_REC_SAMPLE;
	CHECK(samples > 10 && samples < i);
	CHECK_EQ(psf_writer_samples(w), samples); /* what the file holds, not what was offered */
	free(v);
	free(buf);

	/* Room again: close() adds a chunk with only the trailer. */
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
	tr.reason = PSF_STOP_DISK_FULL;
	tr.samples = samples;
	CHECK_EQ(psf_writer_close(w, &tr), 0);
	CHECK(psf_writer_bytes(w) > good);
	psf_writer_free(w);
	buf = tu_slurp(fd, &len);
	CHECK_EQ(tu_read_all(buf, len, &v, &n, NULL), 0);
	CHECK(n > 0 && v[n - 1].type == PSF_REC_TRAILER);
	if (n > 0) {
		CHECK_EQ(v[n - 1].u.trailer.reason, PSF_STOP_DISK_FULL);
		CHECK_EQ(v[n - 1].u.trailer.chunks, chunks + 1);
	}
	free(v);
	free(buf);
out:
	setrlimit(RLIMIT_FSIZE, &old);
	close(fd);
}

/* No room even for the trailer: close fails and the file stays as it was. */
static void size_limit_no_room_for_trailer(void)
{
	struct psf_meta m = tu_meta(1000, 1000);
	struct psf_writer_opts o;
	struct psf_writer *w = NULL;
	struct psf_trailer tr = { 0 };
	struct rlimit old, lim;
	struct psf_record *v;
	char path[4096];
	uint32_t thread, stack, i;
	uint64_t good;
	size_t len, n;
	uint8_t *buf;
	int fd = scratch_file(path, sizeof(path)), ret = 0;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	signal(SIGXFSZ, SIG_IGN);
	CHECK_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 1500;
	CHECK_EQ(psf_writer_open(&w, fd, &m, &o), 0);
	if (!w)
		goto out;
	CHECK_EQ(define(w, &thread, &stack), 0);
	for (i = 0; i < 2000 && ret == 0; i++)
		ret = one_tick(w, thread, i);
	CHECK_EQ(ret, 0);
	good = psf_writer_bytes(w);
	lim = old;
	lim.rlim_cur = good; /* not one more byte */
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
	errno = 0;
	tr.reason = PSF_STOP_DURATION;
	CHECK_EQ(psf_writer_close(w, &tr), PSF_E_IO);
	CHECK_EQ(errno, EFBIG);
	/* The failed close cut the file back: clean, without a trailer. */
	buf = tu_slurp(fd, &len);
	CHECK_EQ(len, good);
	CHECK_EQ(tu_read_all(buf, len, &v, &n, NULL), 0);
	CHECK(n > 0 && v[n - 1].type != PSF_REC_TRAILER);
	free(v);
	free(buf);
	/* With room again, closing again ends it with a trailer-only chunk. */
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
	tr.reason = PSF_STOP_DISK_FULL;
	CHECK_EQ(psf_writer_close(w, &tr), 0);
	CHECK_EQ(psf_writer_close(w, &tr), PSF_E_INVAL);
	psf_writer_free(w);
	buf = tu_slurp(fd, &len);
	CHECK(len > good);
	CHECK_EQ(tu_read_all(buf, len, &v, &n, NULL), 0);
	CHECK(n > 0 && v[n - 1].type == PSF_REC_TRAILER);
	free(v);
	free(buf);
out:
	setrlimit(RLIMIT_FSIZE, &old);
	close(fd);
}

/* A pipe whose reader is gone: EPIPE, at open or at a later chunk. */
static void pipe_closed(void)
{
	struct psf_meta m = tu_meta(1000, 1000);
	struct psf_writer_opts o;
	struct psf_writer *w = NULL;
	struct psf_trailer tr = { 0 };
	uint32_t thread, stack, i;
	int fds[2], ret = 0;

	signal(SIGPIPE, SIG_IGN);
	CHECK_EQ(pipe(fds), 0);
	close(fds[0]);
	errno = 0;
	CHECK_EQ(psf_writer_open(&w, fds[1], &m, NULL), PSF_E_IO);
	CHECK_EQ(errno, EPIPE);
	close(fds[1]);

	/* The reader goes away after the header. */
	CHECK_EQ(pipe(fds), 0);
	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 1000;
	CHECK_EQ(psf_writer_open(&w, fds[1], &m, &o), 0);
	if (!w)
		return;
	close(fds[0]);
	CHECK_EQ(define(w, &thread, &stack), 0);
	for (i = 0; i < 100000 && ret == 0; i++)
		ret = one_tick(w, thread, i);
	CHECK_EQ(ret, PSF_E_IO);
	CHECK_EQ(errno, EPIPE);
	/* A pipe cannot be cut back: close cannot add a trailer. */
	CHECK_EQ(psf_writer_close(w, &tr), PSF_E_IO);
	psf_writer_free(w);
	close(fds[1]);
}

int main(void)
{
	RUN(dev_full);
	RUN(size_limit_cuts_back);
	RUN(size_limit_no_room_for_trailer);
	RUN(pipe_closed);
	return test_status();
}
