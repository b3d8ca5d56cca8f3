/*
 * tick_floor - the machine's floor for the cost of one sampling tick.
 *
 * usage: tick_floor RATE SECONDS [PID]
 *   Wakes up RATE times per second for SECONDS, the way pyspy-capture
 *   does (clock_nanosleep on an absolute CLOCK_MONOTONIC deadline, 1 ns
 *   timer slack), and does nothing else; with PID it also does, at every
 *   tick, the system calls a minimal sampler cannot avoid: one
 *   process_vm_readv of 4 KiB from PID's stack and one pread of
 *   /proc/PID/stat.  Prints "ticks N" on stdout.
 *
 * Its CPU time per tick (measured from outside, like the capture's) is the
 * part of a sample's cost that belongs to the kernel and the machine
 * (timer, context switch, system call entry, remote page pinning), not to
 * pyspy-capture's own work.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Start address of PID's [stack] mapping, or 0. */
static unsigned long stack_addr(int pid)
{
	char path[64], line[512];
	unsigned long lo = 0, hi = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			break;
		lo = hi = 0;
	}
	fclose(f);
	/* The top page of the stack is always mapped. */
	return hi ? hi - 4096 : 0;
}

int main(int argc, char **argv)
{
	double rate, secs;
	uint64_t period, t0, next, end, ticks = 0;
	int pid = 0, statfd = -1;
	unsigned long addr = 0;
	static char buf[4096], sbuf[1024];

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: tick_floor RATE SECONDS [PID]\n");
		return 2;
	}
	rate = atof(argv[1]);
	secs = atof(argv[2]);
	if (rate <= 0 || secs <= 0) {
		fprintf(stderr, "tick_floor: bad RATE or SECONDS\n");
		return 2;
	}
	if (argc == 4) {
		char path[64];
		pid = atoi(argv[3]);
		addr = stack_addr(pid);
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		statfd = open(path, O_RDONLY);
		if (!addr || statfd < 0) {
			fprintf(stderr, "tick_floor: cannot read pid %d: %s\n", pid, strerror(errno));
			return 1;
		}
	}
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	period = (uint64_t)(1e9 / rate);
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (next = t0 + period; next < end; next += period) {
		struct timespec ts = { (time_t)(next / 1000000000ull), (long)(next % 1000000000ull) };
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		if (pid) {
			struct iovec l = { buf, sizeof(buf) }, r = { (void *)addr, sizeof(buf) };
			if (process_vm_readv(pid, &l, 1, &r, 1, 0) < 0 ||
			    pread(statfd, sbuf, sizeof(sbuf), 0) < 0) {
				fprintf(stderr, "tick_floor: pid %d: %s\n", pid, strerror(errno));
				return 1;
			}
		}
		ticks++;
		/* Late like the capture: skip the ticks already missed. */
		{
			uint64_t n = now_ns();
			if (n > next + period)
				next += (n - next) / period * period;
		}
	}
	printf("ticks %" PRIu64 "\n", ticks);
	return 0;
}
