/*
 * cmd_flamegraph.h - `pyspy-analyze flamegraph`: interactive SVG.
 */
#ifndef PYSPY_ANALYZE_CMD_FLAMEGRAPH_H
#define PYSPY_ANALYZE_CMD_FLAMEGRAPH_H

int cmd_flamegraph(int argc, char **argv);

#endif /* PYSPY_ANALYZE_CMD_FLAMEGRAPH_H */
