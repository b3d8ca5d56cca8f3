/*
 * format_example.c - the worked example of docs/format.md §9, byte for
 * byte: the writer must produce exactly these bytes (stored chunk), the
 * reader must decode them to the records described there, and the hex in
 * the document must be these bytes too (so the example cannot drift).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format_testutil.h"
#include "pyspy_format.h"
#include "test.h"

/* docs/format.md §9: the whole file. */
static const uint8_t example[] = {
	/* header */
	0x89, 0x50, 0x59, 0x53, 0x50, 0x59, 0x0d, 0x0a, 0x01, 0x00, 0x01, 0x00,
	0x7a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0xcc, 0xdd, 0xee, 0xff,
	0x04, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x36, 0xfe, 0x9c, 0x97, 0x17,
	0x05, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0xf2, 0x05, 0x2a, 0x01, 0x00, 0x00, 0x00,
	0x06, 0x00, 0x04, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00,
	0x07, 0x00, 0x04, 0x00, 0x00, 0x00, 0xa0, 0x86, 0x01, 0x00,
	0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x92, 0x10, 0x00, 0x00,
	0x09, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x70, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x33, 0x20,
	0x61, 0x70, 0x70, 0x2e, 0x70, 0x79,
	0x36, 0x74, 0xce, 0x44,
	/* chunk 0 header */
	0x50, 0x53, 0x43, 0x4b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x63, 0x00, 0x00, 0x00, 0x63, 0x00, 0x00, 0x00, 0xae, 0xb8, 0x9c, 0x4e,
	0x00, 0x00, 0x00, 0x00, 0x72, 0xb1, 0x33, 0x74,
	/* chunk 0 payload */
	0x01, 0x07, 0x06, 0x61, 0x70, 0x70, 0x2e, 0x70, 0x79,
	0x01, 0x09, 0x08, 0x3c, 0x6d, 0x6f, 0x64, 0x75, 0x6c, 0x65, 0x3e,
	0x01, 0x02, 0x01, 0x66,
	0x02, 0x05, 0x00, 0x02, 0x00, 0x01, 0x02,
	0x02, 0x05, 0x00, 0x03, 0x03, 0x01, 0x02,
	0x03, 0x03, 0x00, 0x01, 0x06,
	0x03, 0x03, 0x01, 0x02, 0x02,
	0x04, 0x07, 0x92, 0x21, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x05, 0x08, 0x01, 0x92, 0x21, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x06, 0x12, 0x02, 0x02, 0x64, 0x00, 0x00, 0x00, 0x03, 0x00, 0x01, 0x01,
	0x01, 0x01, 0x02, 0x02, 0x05, 0x00, 0x00, 0x00,
	0x86, 0x0a, 0xc8, 0x01, 0x02, 0x02, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00,
};

/* Write the §9 capture to fd with the public API. */
static int build_example(int fd, int no_compress)
{
	struct psf_meta m;
	struct psf_writer_opts o;
	struct psf_writer *w = NULL;
	struct psf_frame fr;
	struct psf_process p;
	struct psf_thread t;
	struct psf_sample s;
	struct psf_trailer tr;
	uint32_t app = 0, module = 0, f = 0, f1 = 0, f2 = 0, k1 = 0, k2 = 0, proc = 0, th = 0;
	int ret;

	memset(&m, 0, sizeof(m));
	memcpy(m.capture_id, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16);
	m.start_wall_ns = 1700000000000000000ull;
	m.start_mono_ns = 5000000000ull;
	m.rate_hz = 100;
	m.time_unit_ns = 100000;
	m.pid = 4242;
	m.cmdline = "python3 app.py";
	memset(&o, 0, sizeof(o));
	o.no_compress = no_compress;
	ret = psf_writer_open(&w, fd, &m, &o);
	if (ret < 0)
		return ret;
	ret = psf_writer_string(w, "app.py", 6, &app);
	if (!ret)
		ret = psf_writer_string(w, "<module>", 8, &module);
	if (!ret)
		ret = psf_writer_string(w, "f", 1, &f);
	memset(&fr, 0, sizeof(fr));
	fr.kind = PSF_FRAME_PYTHON;
	fr.name = module;
	fr.file = app;
	fr.firstlineno = 1;
	if (!ret)
		ret = psf_writer_frame(w, &fr, &f1);
	fr.name = f;
	fr.qualname = f;
	if (!ret)
		ret = psf_writer_frame(w, &fr, &f2);
	if (!ret)
		ret = psf_writer_stack(w, 0, f1, 3, &k1);
	if (!ret)
		ret = psf_writer_stack(w, k1, f2, 1, &k2);
	memset(&p, 0, sizeof(p));
	p.pid = 4242;
	p.ppid = 1;
	if (!ret)
		ret = psf_writer_process(w, &p, &proc);
	memset(&t, 0, sizeof(t));
	t.process = proc;
	t.tid = 4242;
	t.flags = PSF_TF_MAIN;
	if (!ret)
		ret = psf_writer_thread(w, &t, &th);
	/* Tick 1 scheduled at 10 ms ran 0.3 ms late; tick 2 on time at 20 ms. */
	if (!ret)
		ret = psf_writer_tick(w, 10300000, 10000000);
	memset(&s, 0, sizeof(s));
	s.t_ns = 10300000;
	s.thread = th;
	s.stack = k2;
	s.flags = PSF_SF_GIL | PSF_SF_IDLE;
	if (!ret)
		ret = psf_writer_sample(w, &s);
	if (!ret)
		ret = psf_writer_tick(w, 20000000, 20000000);
	s.t_ns = 20000000;
	s.flags = 0;
	if (!ret)
		ret = psf_writer_sample(w, &s);
	memset(&tr, 0, sizeof(tr));
	tr.end_ns = 20000000;
	tr.samples = 2;
	tr.ticks = 2;
	tr.reason = PSF_STOP_EXITED;
	if (!ret)
		ret = psf_writer_close(w, &tr);
	psf_writer_free(w);
	return ret;
}

static void writer_produces_example(void)
{
	int fd = tu_memfd();
	uint8_t *buf;
	size_t len, i;

	CHECK_EQ(build_example(fd, 1), 0);
	buf = tu_slurp(fd, &len);
	CHECK_EQ(len, sizeof(example));
	for (i = 0; buf && i < len && i < sizeof(example); i++) {
		if (buf[i] != example[i]) {
			printf("#   byte %zu: 0x%02x, expected 0x%02x\n", i, buf[i], example[i]);
			CHECK(!"bytes differ");
			break;
		}
	}
	free(buf);
	close(fd);
}

/* The reader decodes the example to what §9 says. */
static void reader_decodes_example(void)
{
	struct psf_record *v;
	size_t n;
	uint32_t chunks;
	const struct psf_meta *m;
	struct psf_reader *r = NULL;

	CHECK_EQ(tu_read_all(example, sizeof(example), &v, &n, &chunks), 0);
	CHECK_EQ(n, 12);
	if (n == 12) {
		CHECK_EQ(v[0].type, PSF_REC_STRING);
		CHECK_EQ(v[1].u.string.len, 8);
		CHECK_EQ(v[3].type, PSF_REC_FRAME);
		CHECK_EQ(v[4].u.frame.qualname, 3);
		CHECK_EQ(v[6].u.stack.parent, 1);
		CHECK_EQ(v[6].u.stack.line, 1);
		CHECK_EQ(v[7].u.process.pid, 4242);
		CHECK_EQ(v[8].u.thread.flags, PSF_TF_MAIN);
		CHECK_EQ(v[9].type, PSF_REC_SAMPLE);
		CHECK(v[9].u.sample.t_ns == 10300000);
		CHECK(v[9].u.sample.late_ns == 300000);
		CHECK_EQ(v[9].u.sample.stack, 2);
		CHECK_EQ(v[9].u.sample.flags, PSF_SF_GIL | PSF_SF_IDLE);
		CHECK(v[10].u.sample.t_ns == 20000000);
		CHECK(v[10].u.sample.late_ns == 0);
		CHECK_EQ(v[11].type, PSF_REC_TRAILER);
		CHECK_EQ(v[11].u.trailer.reason, PSF_STOP_EXITED);
		CHECK_EQ(v[11].u.trailer.chunks, 1);
	}
	CHECK_EQ(chunks, 1);
	free(v);
	CHECK_EQ(psf_reader_open_mem(&r, example, sizeof(example)), 0);
	if (r) {
		m = psf_reader_meta(r);
		CHECK(m->start_wall_ns == 1700000000000000000ull);
		CHECK(m->start_mono_ns == 5000000000ull);
		CHECK_EQ(m->time_unit_ns, 100000);
		CHECK_STR(m->cmdline, "python3 app.py");
	}
	psf_reader_free(r);
}

/* Compressed, the same capture holds the same records. */
static void compressed_example_same_records(void)
{
	int fd = tu_memfd();
	struct psf_record *a, *b;
	size_t na, nb, len, i;
	uint8_t *buf;

	CHECK_EQ(build_example(fd, 0), 0);
	buf = tu_slurp(fd, &len);
	CHECK_EQ(tu_read_all(buf, len, &a, &na, NULL), 0);
	CHECK_EQ(tu_read_all(example, sizeof(example), &b, &nb, NULL), 0);
	CHECK_EQ(na, nb);
	for (i = 0; i < na && i < nb; i++)
		CHECK(tu_rec_equal(&a[i], &b[i]));
	free(a);
	free(b);
	free(buf);
	close(fd);
}

/*
 * The hex of §9 in docs/format.md: in the code blocks of that section,
 * every line starts with its bytes (two hex digits each, single spaces)
 * and has its annotation after two or more spaces.
 */
static void document_matches(void)
{
	const char *root = getenv("PYSPY_ROOT");
	char path[4096], line[512];
	uint8_t doc[1024];
	size_t n = 0;
	int in9 = 0, code = 0, bad = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/docs/format.md", root ? root : ".");
	fp = fopen(path, "r");
	if (!fp) {
		printf("#   cannot open %s (set PYSPY_ROOT or run from the source tree)\n", path);
		CHECK(fp != NULL);
		return;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *p = line, *stop;

		if (strncmp(line, "## ", 3) == 0)
			in9 = strncmp(line, "## 9.", 5) == 0;
		if (!in9)
			continue;
		if (strncmp(line, "```", 3) == 0) {
			code = !code;
			continue;
		}
		if (!code)
			continue;
		stop = strstr(line, "  ");
		if (!stop)
			stop = line + strcspn(line, "\n");
		while (p < stop) {
			unsigned v;

			if (stop - p < 2 || sscanf(p, "%2x", &v) != 1 || (p + 2 < stop && p[2] != ' ')) {
				printf("#   docs/format.md: bad hex line: %s", line);
				bad = 1;
				break;
			}
			if (n < sizeof(doc))
				doc[n++] = (uint8_t)v;
			p += 3;
		}
	}
	fclose(fp);
	CHECK(!bad);
	CHECK_EQ(n, sizeof(example));
	if (n == sizeof(example) && memcmp(doc, example, n) != 0) {
		size_t i;

		for (i = 0; i < n && doc[i] == example[i]; i++)
			;
		printf("#   docs/format.md §9 differs at byte %zu\n", i);
		CHECK(!"the document's bytes differ from the writer's");
	}
}

int main(void)
{
	RUN(writer_produces_example);
	RUN(reader_decodes_example);
	RUN(compressed_example_same_records);
	RUN(document_matches);
	return test_status();
}
