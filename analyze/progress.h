/*
 * progress.h - a one-line progress bar on stderr for long loads.
 *
 * Drawn only when enabled (progress_mode, default: stderr is a terminal
 * and not -q), at most PROGRESS_HZ times a second, never before
 * PROGRESS_DELAY seconds have passed (short loads stay silent), and
 * erased when done so the terminal is left clean.
 */
#ifndef PYSPY_ANALYZE_PROGRESS_H
#define PYSPY_ANALYZE_PROGRESS_H

#include <stdint.h>

#define PROGRESS_HZ 6
#define PROGRESS_DELAY 0.3

enum progress_mode { PROGRESS_AUTO = 0, PROGRESS_ALWAYS = 1, PROGRESS_NEVER = 2 };
extern enum progress_mode progress_mode;

struct progress {
	int on;
	int drawn;
	const char *label;       /* borrowed */
	uint64_t total;          /* bytes expected; 0 = unknown (spinner) */
	double t_start, t_next;
	unsigned spin;
};

/* Seconds on a monotonic clock. */
double progress_now(void);

void progress_init(struct progress *p, const char *label, uint64_t total);
/* Cheap enough to call every few thousand records. */
void progress_update(struct progress *p, uint64_t done, uint64_t samples);
/* Erase the line if anything was drawn. */
void progress_finish(struct progress *p);

#endif /* PYSPY_ANALYZE_PROGRESS_H */
