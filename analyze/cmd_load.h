/*
 * cmd_load.h - `pyspy-analyze load`: capture files into a database.
 */
#ifndef PYSPY_ANALYZE_CMD_LOAD_H
#define PYSPY_ANALYZE_CMD_LOAD_H

int cmd_load(int argc, char **argv);

#endif /* PYSPY_ANALYZE_CMD_LOAD_H */
