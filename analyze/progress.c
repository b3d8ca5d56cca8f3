/*
 * progress.c - progress bar (see progress.h).
 */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "msg.h"

enum progress_mode progress_mode = PROGRESS_AUTO;

double progress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, const char *label, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->label = label;
	p->total = total;
	if (progress_mode == PROGRESS_ALWAYS)
		p->on = 1;
	else if (progress_mode == PROGRESS_AUTO)
		p->on = msg_verbosity >= 1 && isatty(2);
	p->t_start = progress_now();
	/* Asked for explicitly: from the first update on. */
	p->t_next = p->t_start + (progress_mode == PROGRESS_ALWAYS ? 0 : PROGRESS_DELAY);
}

static int term_width(void)
{
	struct winsize ws;

	if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col > 200 ? 200 : ws.ws_col;
	return 80;
}

void progress_update(struct progress *p, uint64_t done, uint64_t samples)
{
	char line[256], num[32], lab[48];
	double now;
	int width, barw, fill, i, n;
	size_t ll;

	if (!p->on)
		return;
	now = progress_now();
	if (now < p->t_next)
		return;
	p->t_next = now + 1.0 / PROGRESS_HZ;
	width = term_width();
	fmt_count(num, sizeof(num), samples);
	/* Keep the label short: its last 30 bytes at most. */
	ll = strlen(p->label);
	snprintf(lab, sizeof(lab), "%s%s", ll > 30 ? "..." : "", ll > 30 ? p->label + ll - 27 : p->label);
	if (p->total) {
		double f = (double)done / (double)p->total;

		if (f > 1)
			f = 1;
		barw = width - (int)strlen(lab) - (int)strlen(num) - 30;
		if (barw < 10)
			barw = 10;
		if (barw > 50)
			barw = 50;
		fill = (int)(f * barw);
		n = snprintf(line, sizeof(line), "loading %s [", lab);
		for (i = 0; i < barw && n < (int)sizeof(line) - 40; i++)
			line[n++] = i < fill ? '#' : '.';
		snprintf(line + n, sizeof(line) - (size_t)n, "] %3d%% %s samples", (int)(f * 100), num);
	} else {
		static const char spin[] = "|/-\\";

		snprintf(line, sizeof(line), "loading %s %c %s samples", lab, spin[p->spin++ % 4], num);
	}
	line[width - 1 < (int)sizeof(line) ? width - 1 : (int)sizeof(line) - 1] = '\0';
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	p->drawn = 1;
}

void progress_finish(struct progress *p)
{
	if (p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->drawn = 0;
	p->on = 0;
}
