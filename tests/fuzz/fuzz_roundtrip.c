/*
 * fuzz_roundtrip - libFuzzer target for the writer: the input is a
 * program of writer calls (definitions with arbitrary ids and text, ticks,
 * samples, events, flushes, odd options).  Whatever the writer accepts
 * must read back as a valid, complete file with exactly the samples and
 * events that were accepted; whatever it refuses must leave the file valid.
 *
 * Build and run: `make fuzz`, then tests/fuzz/run.sh (seed corpus in
 * tests/fuzz/corpus/roundtrip/).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pyspy_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)
#define MAX_SAMPLES 4096

struct in {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct in *in, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < bytes && in->n > 0; i++) {
		v |= (uint64_t)*in->p << (8 * i);
		in->p++;
		in->n--;
	}
	return v;
}

struct expect_sample {
	uint64_t t_ns, late_ns;
	uint32_t thread, stack, flags;
};

static struct expect_sample samples[MAX_SAMPLES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct in in = { data, size };
	struct psf_meta m;
	struct psf_writer_opts o;
	struct psf_writer *w = NULL;
	struct psf_reader *r = NULL;
	struct psf_record rec;
	struct psf_trailer tr;
	uint32_t strings = 0, frames = 0, stacks = 0, procs = 0, threads = 0, unit;
	uint64_t tick_t = 0, tick_s = 0, events = 0, got_events = 0;
	size_t nsamples = 0, got = 0, len;
	uint8_t *buf;
	struct stat st;
	int have_tick = 0, ret;

	if (fd < 0)
		fd = memfd_create("fuzz", MFD_CLOEXEC);
	ASSERT(fd >= 0);
	ASSERT(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0);

	memset(&m, 0, sizeof(m));
	memset(&o, 0, sizeof(o));
	m.rate_hz = (uint32_t)take(&in, 2);
	m.time_unit_ns = (uint32_t)take(&in, 2);
	o.chunk_bytes = 16 + (uint32_t)take(&in, 2);
	o.intern_max = 1 + (uint32_t)take(&in, 1);
	o.no_compress = (int)(take(&in, 1) & 1);
	o.zstd_level = 1;
	memcpy(m.capture_id, "fuzz-roundtrip-1", 16);
	unit = m.time_unit_ns ? m.time_unit_ns : 1000;
	if (psf_writer_open(&w, fd, &m, &o) < 0)
		return 0;

	while (in.n > 0) {
		uint8_t op = (uint8_t)take(&in, 1);
		uint32_t id;

		switch (op % 14) {
		case 0: {
			char s[32];
			size_t n = take(&in, 1) % sizeof(s), i;

			for (i = 0; i < n; i++)
				s[i] = (char)take(&in, 1);
			if (psf_writer_string(w, s, n, &id) == 0 && id > strings)
				strings = id;
			break;
		}
		case 1: {
			struct psf_frame f;

			memset(&f, 0, sizeof(f));
			f.kind = (uint8_t)(take(&in, 1) % 4);
			f.name = (uint32_t)take(&in, 1) % (strings + 2);
			f.qualname = (uint32_t)take(&in, 1) % (strings + 2);
			f.file = (uint32_t)take(&in, 1) % (strings + 2);
			f.firstlineno = (int32_t)take(&in, 4);
			f.offset = take(&in, 8);
			if (psf_writer_frame(w, &f, &id) == 0 && id > frames)
				frames = id;
			break;
		}
		case 2: {
			uint32_t parent = (uint32_t)take(&in, 2) % (stacks + 2);
			uint32_t frame = (uint32_t)take(&in, 1) % (frames + 2);

			if (psf_writer_stack(w, parent, frame, (int32_t)(int16_t)take(&in, 2), &id) == 0 &&
			    id > stacks)
				stacks = id;
			break;
		}
		case 3: {
			struct psf_process p;

			memset(&p, 0, sizeof(p));
			p.pid = (int32_t)take(&in, 4);
			p.start_ns = take(&in, 8);
			p.cmdline = (uint32_t)take(&in, 1) % (strings + 2);
			if (psf_writer_process(w, &p, &id) == 0)
				procs = id;
			break;
		}
		case 4: {
			struct psf_thread t;

			memset(&t, 0, sizeof(t));
			t.process = (uint32_t)take(&in, 1) % (procs + 2);
			t.tid = (int32_t)take(&in, 2);
			t.flags = (uint32_t)take(&in, 1) % 3;
			t.first_ns = take(&in, 8);
			if (psf_writer_thread(w, &t, &id) == 0)
				threads = id;
			break;
		}
		case 5: {
			uint64_t s = tick_s + take(&in, 3) * (take(&in, 1) % 4 == 0 ? 1000000 : 1);
			uint64_t t = s + take(&in, 2);

			if (take(&in, 1) == 0xff)
				s = t + 1; /* invalid on purpose */
			if (psf_writer_tick(w, t, s) == 0) {
				have_tick = 1;
				tick_t = t;
				tick_s = s;
			}
			break;
		}
		case 6: {
			struct psf_sample s;

			memset(&s, 0, sizeof(s));
			s.thread = (uint32_t)take(&in, 1) % (threads + 2);
			s.stack = (uint32_t)take(&in, 2) % (stacks + 2);
			s.flags = (uint32_t)take(&in, 1);
			s.t_ns = tick_t + take(&in, 2) - 5;
			if (psf_writer_sample(w, &s) == 0) {
				ASSERT(have_tick);
				if (nsamples < MAX_SAMPLES) {
					samples[nsamples].t_ns = s.t_ns / unit * unit;
					samples[nsamples].late_ns = (tick_t / unit - tick_s / unit) * unit;
					samples[nsamples].thread = s.thread;
					samples[nsamples].stack = s.stack;
					samples[nsamples].flags = s.flags;
				}
				nsamples++;
			}
			break;
		}
		case 7: {
			struct psf_process_end e = { (uint32_t)take(&in, 1) % (procs + 2), take(&in, 8),
						     (uint8_t)take(&in, 1), (int32_t)take(&in, 4) };

			events += psf_writer_process_end(w, &e) == 0;
			break;
		}
		case 8: {
			struct psf_thread_name n = { (uint32_t)take(&in, 1) % (threads + 2), take(&in, 4),
						     (uint32_t)take(&in, 1) % (strings + 2) };

			events += psf_writer_thread_name(w, &n) == 0;
			break;
		}
		case 9: {
			struct psf_errors e = { (uint32_t)take(&in, 1) % (procs + 2), take(&in, 4),
						(uint32_t)take(&in, 1), take(&in, 8) };

			events += psf_writer_errors(w, &e) == 0;
			break;
		}
		case 10: {
			struct psf_lag l = { take(&in, 8), take(&in, 2), take(&in, 1), take(&in, 8),
					     take(&in, 8) };

			events += psf_writer_lag(w, &l) == 0;
			break;
		}
		case 11: {
			struct psf_local l;
			char repr[16];
			size_t i;

			memset(&l, 0, sizeof(l));
			l.thread = (uint32_t)take(&in, 1) % (threads + 2);
			l.flags = (uint32_t)take(&in, 1) % 9;
			l.name = (uint32_t)take(&in, 1) % (strings + 2);
			l.repr_len = (uint32_t)(take(&in, 1) % sizeof(repr));
			for (i = 0; i < l.repr_len; i++)
				repr[i] = (char)take(&in, 1);
			l.repr = repr;
			events += psf_writer_local(w, &l) == 0;
			break;
		}
		case 12:
			ASSERT(psf_writer_flush(w) == 0);
			break;
		case 13:
			ASSERT(psf_writer_maybe_flush(w, tick_t + take(&in, 4)) == 0);
			break;
		}
	}
	memset(&tr, 0, sizeof(tr));
	tr.samples = nsamples;
	ASSERT(psf_writer_close(w, &tr) == 0);
	psf_writer_free(w);

	/* Read it back: valid, complete, the same samples and events. */
	ASSERT(fstat(fd, &st) == 0);
	len = (size_t)st.st_size;
	buf = malloc(len ? len : 1);
	ASSERT(buf && pread(fd, buf, len, 0) == (ssize_t)len);
	ASSERT(psf_reader_open_mem(&r, buf, len) == 0);
	while ((ret = psf_reader_next(r, &rec)) > 0) {
		if (rec.type == PSF_REC_SAMPLE) {
			if (got < MAX_SAMPLES) {
				const struct expect_sample *e = &samples[got];

				ASSERT(rec.u.sample.t_ns == e->t_ns);
				ASSERT(rec.u.sample.late_ns == e->late_ns);
				ASSERT(rec.u.sample.thread == e->thread);
				ASSERT(rec.u.sample.stack == e->stack);
				ASSERT(rec.u.sample.flags == e->flags);
			}
			got++;
		} else if (rec.type >= PSF_REC_PROCESS_END && rec.type != PSF_REC_THREAD_END &&
			   rec.type != PSF_REC_TRAILER) {
			got_events++;
		} else if (rec.type == PSF_REC_STRING) {
			ASSERT(rec.u.string.id <= strings);
		} else if (rec.type == PSF_REC_STACK) {
			ASSERT(rec.u.stack.id <= stacks);
		}
	}
	ASSERT(ret == 0);
	ASSERT(psf_reader_complete(r));
	ASSERT(got == nsamples);
	ASSERT(got_events == events);
	psf_reader_free(r);
	free(buf);
	return 0;
}
