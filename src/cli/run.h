/*
 * `sluice run`, `sluice validate` and the list of steps.
 */
#ifndef SLUICE_CLI_RUN_H
#define SLUICE_CLI_RUN_H

#include <stdio.h>

/** `sluice run` with argv[0] = "run". Returns the exit status. */
int sl_cli_run(int argc, char **argv);

/** `sluice validate` with argv[0] = "validate". Returns the exit status. */
int sl_cli_validate(int argc, char **argv);

/** Print the registered step types to `out`. */
void sl_cli_list_steps(FILE *out);

#endif /* SLUICE_CLI_RUN_H */
