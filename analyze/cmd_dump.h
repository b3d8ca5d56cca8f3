/*
 * cmd_dump.h - `pyspy-analyze dump`: every thread's stack at a moment.
 */
#ifndef PYSPY_ANALYZE_CMD_DUMP_H
#define PYSPY_ANALYZE_CMD_DUMP_H

int cmd_dump(int argc, char **argv);

#endif /* PYSPY_ANALYZE_CMD_DUMP_H */
