/*
 * summary.c - pyspy-capture's closing line (see summary.h).
 */
#include "summary.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "caperr.h"
#include "msg.h"
#include "pyspy_format.h"

static const char *human_bytes(uint64_t b, char *buf, size_t cap)
{
	if (b < 10 * 1024)
		snprintf(buf, cap, "%llu bytes", (unsigned long long)b);
	else if (b < 10 * 1024 * 1024)
		snprintf(buf, cap, "%.1f KiB", b / 1024.0);
	else
		snprintf(buf, cap, "%.1f MiB", b / 1048576.0);
	return buf;
}

void summary_write_failed(const struct summary *sm, const char *then)
{
	error("writing '%s' failed: %s; capture stopped after %.1f s, the file keeps the "
	      "%llu samples written before%s", sm->path, caperr_text(), sm->end_ns / 1e9,
	      (unsigned long long)sm->samples, then);
}

/* Why the capture ended, and how the launched program did. */
static void ending(const struct summary *sm, char *buf, size_t cap)
{
	size_t l;

	buf[0] = 0;
	switch (sm->reason) {
	case PSF_STOP_DURATION:
		snprintf(buf, cap, "duration reached");
		break;
	case PSF_STOP_SIGNAL:
		snprintf(buf, cap, "stopped by %s",
			 sm->stop_signo == SIGINT ? "SIGINT" :
			 sm->stop_signo == SIGTERM ? "SIGTERM" : "a signal");
		break;
	case PSF_STOP_EXEC:
		snprintf(buf, cap, "pid %d exec'd a non-Python program", (int)sm->pid);
		break;
	case PSF_STOP_ERROR:
		snprintf(buf, cap, "pid %d could not be read any more", (int)sm->pid);
		break;
	case PSF_STOP_EXITED:
		if (sm->program)
			snprintf(buf, cap, "pid %d exited", (int)sm->pid);
		else if (sm->child_how == PSF_END_EXITED)
			snprintf(buf, cap, "pid %d exited with status %d", (int)sm->pid,
				 sm->child_status);
		else if (sm->child_how == PSF_END_SIGNALED)
			snprintf(buf, cap, "pid %d was killed by signal %d", (int)sm->pid,
				 sm->child_status);
		else
			snprintf(buf, cap, "pid %d exited (status unknown)", (int)sm->pid);
		break;
	default:
		break;
	}
	if (!sm->program || sm->dump)
		return;
	l = strlen(buf);
	if (sm->child_how == PSF_END_EXITED)
		snprintf(buf + l, cap - l, "%s'%s' exited with status %d", l ? "; " : "",
			 sm->program, sm->child_status);
	else if (sm->child_how == PSF_END_SIGNALED)
		snprintf(buf + l, cap - l, "%s'%s' was killed by signal %d", l ? "; " : "",
			 sm->program, sm->child_status);
	else
		snprintf(buf + l, cap - l, "%s'%s' ended (status unknown)", l ? "; " : "",
			 sm->program);
}

int summary_print(const struct summary *sm)
{
	char size[32], end[256];

	human_bytes(sm->bytes, size, sizeof(size));
	ending(sm, end, sizeof(end));
	if (sm->write_failed) {
		char then[64] = "";
		if (sm->attached)
			snprintf(then, sizeof(then), "; process %d runs on", (int)sm->pid);
		summary_write_failed(sm, then);
		return 1;
	}
	if (sm->reason == PSF_STOP_ERROR) {
		error("captured %llu samples in %.1f s to '%s' (%s), then %s",
		      (unsigned long long)sm->samples, sm->end_ns / 1e9, sm->path, size, end);
		return 1;
	}
	if (sm->dump && !sm->samples) {
		if (sm->text_dump)
			error("nothing dumped: no Python thread of process %d could be read",
			      (int)sm->pid);
		else
			error("nothing dumped: no Python thread of process %d could be read (the "
			      "capture '%s' only says so)", (int)sm->pid, sm->path);
		return 1;
	}
	if (msg_level < 1 || (sm->dump && sm->text_dump))
		return 0;
	if (sm->dump)
		fprintf(stderr, MSG_PREFIX "dumped %llu threads of %u process%s%s to '%s' (%s)\n",
			(unsigned long long)sm->samples, sm->dump_procs,
			sm->dump_procs == 1 ? "" : "es", sm->locals ? " with local variables" : "",
			sm->path, size);
	else if (sm->subprocesses)
		fprintf(stderr, MSG_PREFIX "captured %llu samples (%llu errors) from %u Python "
			"process%s (%u in the tree) in %.1f s to '%s' (%s); %s\n",
			(unsigned long long)sm->samples, (unsigned long long)sm->errors,
			sm->python, sm->python == 1 ? "" : "es", sm->seen, sm->end_ns / 1e9,
			sm->path, size, end);
	else
		fprintf(stderr, MSG_PREFIX "captured %llu samples (%llu errors) in %.1f s to '%s' "
			"(%s); %s\n", (unsigned long long)sm->samples,
			(unsigned long long)sm->errors, sm->end_ns / 1e9, sm->path, size, end);
	return 0;
}
