/*
 * cmd_speedscope.h - `pyspy-analyze speedscope`: speedscope JSON.
 */
#ifndef PYSPY_ANALYZE_CMD_SPEEDSCOPE_H
#define PYSPY_ANALYZE_CMD_SPEEDSCOPE_H

int cmd_speedscope(int argc, char **argv);

#endif /* PYSPY_ANALYZE_CMD_SPEEDSCOPE_H */
