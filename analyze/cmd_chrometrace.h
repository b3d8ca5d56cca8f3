/*
 * cmd_chrometrace.h - `pyspy-analyze chrometrace`: Chrome Trace Event JSON.
 */
#ifndef PYSPY_ANALYZE_CMD_CHROMETRACE_H
#define PYSPY_ANALYZE_CMD_CHROMETRACE_H

int cmd_chrometrace(int argc, char **argv);

#endif /* PYSPY_ANALYZE_CMD_CHROMETRACE_H */
