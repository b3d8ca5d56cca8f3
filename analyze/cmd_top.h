/*
 * cmd_top.h - `pyspy-analyze top`: py-spy's top table, frozen over the
 * chosen window.
 */
#ifndef PYSPY_ANALYZE_CMD_TOP_H
#define PYSPY_ANALYZE_CMD_TOP_H

int cmd_top(int argc, char **argv);

#endif /* PYSPY_ANALYZE_CMD_TOP_H */
