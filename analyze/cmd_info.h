/*
 * cmd_info.h - `pyspy-analyze info`: capture metadata and statistics.
 */
#ifndef PYSPY_ANALYZE_CMD_INFO_H
#define PYSPY_ANALYZE_CMD_INFO_H

int cmd_info(int argc, char **argv);

#endif /* PYSPY_ANALYZE_CMD_INFO_H */
