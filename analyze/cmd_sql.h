/*
 * cmd_sql.h - `pyspy-analyze sql`: run SQL over the samples.
 */
#ifndef PYSPY_ANALYZE_CMD_SQL_H
#define PYSPY_ANALYZE_CMD_SQL_H

int cmd_sql(int argc, char **argv);

#endif /* PYSPY_ANALYZE_CMD_SQL_H */
