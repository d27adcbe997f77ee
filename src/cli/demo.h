/*
 * `sluice demo`: a runtime demonstration (until pipelines exist).
 */
#ifndef SLUICE_CLI_DEMO_H
#define SLUICE_CLI_DEMO_H

/** Run the demo with `argv[0]` = "demo". Returns the exit status. */
int sl_cli_demo(int argc, char **argv);

#endif /* SLUICE_CLI_DEMO_H */
