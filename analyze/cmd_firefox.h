/*
 * cmd_firefox.h - `pyspy-analyze firefox`: Firefox Profiler processed profile.
 */
#ifndef PYSPY_ANALYZE_CMD_FIREFOX_H
#define PYSPY_ANALYZE_CMD_FIREFOX_H

int cmd_firefox(int argc, char **argv);

#endif /* PYSPY_ANALYZE_CMD_FIREFOX_H */
