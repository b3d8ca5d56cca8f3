/*
 * cmd_collapsed.h - `pyspy-analyze collapsed`: folded stacks.
 */
#ifndef PYSPY_ANALYZE_CMD_COLLAPSED_H
#define PYSPY_ANALYZE_CMD_COLLAPSED_H

#include <stdio.h>

#include "agg.h"

int cmd_collapsed(int argc, char **argv);

/*
 * Write the call tree as folded stacks: one line per distinct label path
 * with samples of its own, "root;...;leaf COUNT", depth first with
 * siblings in label order (agg_sort() first).  Returns lines written.
 */
uint64_t collapsed_write(FILE *fp, const struct agg *a);

#endif /* PYSPY_ANALYZE_CMD_COLLAPSED_H */
