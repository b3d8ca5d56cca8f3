/*
 * label.h - how frames are named in the reports, the py-spy way
 * (docs/pyspy-analyze.1.md "FRAME LABELS").
 *
 *  - label_idle_leaf(): py-spy's idle heuristic for a leaf frame.
 *  - label_short_filename(): py-spy's filename shortening, with a
 *    deterministic fallback for files that do not exist on this machine.
 *  - label_frame(): "name (short_file:line)", "name (short_file)", "name".
 *  - label_thread()/label_process(): the pseudo-frames of --threads and
 *    --processes.
 *  - label_clean(): what every text report does to names so that its
 *    format cannot break (';' and control characters replaced).
 */
#ifndef PYSPY_ANALYZE_LABEL_H
#define PYSPY_ANALYZE_LABEL_H

#include <stdint.h>

#include "strbuf.h"

/*
 * 1 if a thread whose innermost frame is `name` in `file` counts as idle
 * even though the OS reported it running (py-spy's
 * _heuristic_is_thread_idle): wait in *threading.py, select in
 * *selectors.py, poll in *asyncore.py or in a path containing zmq,
 * gevent or tornado.  NULL arguments never match.
 */
int label_idle_leaf(const char *name, const char *file);

/*
 * Short form of a source path, appended to out.  If the file exists on
 * this machine, py-spy's rule: strip every directory above the innermost
 * one that is not a package (has no __init__.py).  Otherwise (captures
 * come from other hosts) a fixed rule: the part below the last
 * site-packages/dist-packages component, else below lib/pythonX.Y,
 * else the base name.  Relative and pseudo paths ("<string>") are kept.
 * local_lookup = 0 skips the file-system check (always the fixed rule).
 */
void label_short_filename(struct strbuf *out, const char *path, int local_lookup);

/* Append s with ';' -> ':' and control characters -> ' '. */
void label_clean(struct strbuf *out, const char *s);

/*
 * Append a frame label: name (file:line) / name (file) / name.  file may
 * be NULL or "" (synthetic frames); line <= 0 means none.  Text is
 * cleaned with label_clean().
 */
void label_frame(struct strbuf *out, const char *name, const char *file, int64_t line);

/* "thread (TID): NAME"; tid 0 -> hex Python thread id; name may be NULL. */
void label_thread(struct strbuf *out, int64_t tid, uint64_t py_thread_id, const char *name);

/* "process PID:\"CMDLINE\"" (cmdline may be NULL). */
void label_process(struct strbuf *out, int64_t pid, const char *cmdline);

#endif /* PYSPY_ANALYZE_LABEL_H */
