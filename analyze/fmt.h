/*
 * fmt.h - number and time formatting shared by the reports.
 * Every function writes a NUL-terminated string into buf[0..cap) and
 * returns buf.  Output never depends on the locale or the time zone.
 */
#ifndef PYSPY_ANALYZE_FMT_H
#define PYSPY_ANALYZE_FMT_H

#include <stddef.h>
#include <stdint.h>

/* 1234567 -> "1,234,567" */
char *fmt_count(char *buf, size_t cap, uint64_t n);
/* Wall-clock time (ns since the epoch) as "2024-05-01 12:00:00.123 UTC". */
char *fmt_wall(char *buf, size_t cap, uint64_t ns);
/* ns as seconds with 3 decimals: "12.345". */
char *fmt_secs(char *buf, size_t cap, uint64_t ns);
/* part/whole as a percentage with 2 decimals ("0.00" when whole is 0). */
char *fmt_pct(char *buf, size_t cap, double part, double whole);
/* A short duration: "850 us", "1.25 ms", "3.40 s". */
char *fmt_dur(char *buf, size_t cap, double ns);

#endif /* PYSPY_ANALYZE_FMT_H */
