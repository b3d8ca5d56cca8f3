/*
 * meta.c - the capture file's header metadata (see meta.h).
 */
#include "meta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

#ifndef PYSPY_VERSION
#define PYSPY_VERSION "0.0.0"
#endif

static char *join_args(char **argv, int argc)
{
	size_t n = 1;
	int i;
	char *s;

	for (i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	s = malloc(n);
	if (!s)
		return NULL;
	s[0] = 0;
	for (i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int meta_build(struct psf_meta *m, struct meta_buf *b, const struct meta_in *in)
{
	struct utsname un;
	uint64_t u;

	memset(m, 0, sizeof(*m));
	b->cmd[0] = b->host[0] = b->kern[0] = 0;
	b->options = NULL;
	if (proc_cmdline(in->pid, b->cmd, sizeof(b->cmd)) <= 0 && in->program) {
		/* The program is gone already (-s: its Python children live on). */
		int n = 0;
		char *j;
		while (in->program[n])
			n++;
		j = join_args(in->program, n);
		if (j)
			snprintf(b->cmd, sizeof(b->cmd), "%s", j);
		free(j);
	}
	gethostname(b->host, sizeof(b->host) - 1);
	if (uname(&un) == 0)
		snprintf(b->kern, sizeof(b->kern), "%s %s %s %s", un.sysname, un.release,
			 un.version, un.machine);
	b->options = join_args(in->argv, in->argc);
	if (!b->options) {
		errno = ENOMEM;
		return -1;
	}
	m->flags = in->flags;
	m->hostname = b->host[0] ? b->host : NULL;
	m->kernel = b->kern[0] ? b->kern : NULL;
	m->tool_version = "pyspy-capture " PYSPY_VERSION;
	m->start_wall_ns = wall_ns();
	m->start_mono_ns = in->start_mono_ns;
	m->rate_hz = in->rate_hz;
	/* About 1 % of the period, within [1 us, 1 ms] (docs/format.md 3.2). */
	u = 1000000000ull / in->rate_hz / 100;
	m->time_unit_ns = (uint32_t)(u < 1000 ? 1000 : u > 1000000 ? 1000000 : u);
	m->pid = in->pid;
	m->cmdline = b->cmd[0] ? b->cmd : NULL;
	m->python_version = in->rt->version;
	m->python_exe = in->rt->binary;
	m->options = b->options;
	return 0;
}

void meta_release(struct meta_buf *b)
{
	free(b->options);
	b->options = NULL;
}
