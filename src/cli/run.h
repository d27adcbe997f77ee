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

/** `sluice export TARGET` with argv[0] = "export". The exit status. */
int sl_cli_export(int argc, char **argv);

/** `sluice schema PIPELINE... [--format F]`. The exit status. */
int sl_cli_schema(int argc, char **argv);

/** `sluice migrate TARGET PIPELINE...`. The exit status. */
int sl_cli_migrate(int argc, char **argv);

/** `sluice show [-p FILE] [--json]`. The exit status. */
int sl_cli_show(int argc, char **argv);

/** Print the registered step types to `out`. */
void sl_cli_list_steps(FILE *out);

#endif /* SLUICE_CLI_RUN_H */
