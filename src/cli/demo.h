/*
 * `sluice demo`: a runtime demonstration (tasks, bounded channels,
 * backpressure, cancellation on SIGINT) with no pipeline.
 */
#ifndef SLUICE_CLI_DEMO_H
#define SLUICE_CLI_DEMO_H

/** Run the demo with `argv[0]` = "demo". Returns the exit status. */
int sl_cli_demo(int argc, char **argv);

#endif /* SLUICE_CLI_DEMO_H */
