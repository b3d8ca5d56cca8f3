/*
 * cmd_pprof.h - `pyspy-analyze pprof`: gzipped profile.proto.
 */
#ifndef PYSPY_ANALYZE_CMD_PPROF_H
#define PYSPY_ANALYZE_CMD_PPROF_H

int cmd_pprof(int argc, char **argv);

#endif /* PYSPY_ANALYZE_CMD_PPROF_H */
