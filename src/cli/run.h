/*
 * `sluice run`, `validate`, `export`, `schema`, `migrate`, `show` and the
 * list of steps (`help steps`).
 *
 * `sluice run` loads pipeline files, or the pipelines of a project file
 * (-p FILE, default ./nodestream.yaml; no name runs every pipeline, in
 * order, each with its scope's !config values and targets), builds every
 * step before anything runs, appends one graph writer per target (-t, a
 * URI or a project target name), and runs the pipeline with signal
 * handling. Progress goes to stderr: on a TTY a line redrawn every 0.25 s,
 * otherwise an info log line every 10 s (-r N: each time N more records
 * are in; --ansi/--no-ansi: in place or not, whatever stderr is); with
 * --json every stderr line is a JSON object. `run` takes every option of
 * Nodestream 0.16.1's `run`: the one sluice cannot honour
 * (--storage-backend) fails with a message saying what to do instead,
 * --prometheus serves /metrics during the run (metrics.h), --auto-migrate
 * migrates the -t targets first (as `migrate` does), -q drops progress and
 * summary, -v/-vv/-vvv raise the log level (docs/nodestream.md lists them all).
 * A summary follows: status, elapsed time, in, out, errors and skipped per
 * step, records per second, wall and CPU time, peak RSS, per-target write
 * statistics, and the first skipped records' locations; --metrics-file PATH
 * writes it as JSON lines too. stdout carries only what `print` writes. Exit
 * status: 0; 1 for a failed run or an invalid pipeline; 2 for usage;
 * 128 + signal when stopped by SIGINT or SIGTERM.
 *
 * `validate` loads and builds the steps without running them; `show`
 * lists a project's pipelines (-s SCOPE; -j: Nodestream's JSON array);
 * `print schema` prints the schema of a project's pipelines (Nodestream's
 * command: -p, -f, -o; -O and other formats refused with a message);
 * `export TARGET` streams a graph as
 * canonical JSON lines; `schema PIPELINE... [--format plain|json|dot]`
 * prints the graph schema; `migrate TARGET PIPELINE...` applies the
 * indexes and views that schema asks for.
 */
#ifndef SLUICE_CLI_RUN_H
#define SLUICE_CLI_RUN_H

#include <stdint.h>
#include <stdio.h>

/** `sluice run` with argv[0] = "run". Returns the exit status. */
int sl_cli_run(int argc, char **argv);

struct sl_project;

/**
 * Load the plugins of project `p` (NULL: none), then the `n` shared
 * objects at `paths` (--plugin), after the built-in steps so that a
 * plugin's names cannot hide theirs; a file loaded before is not loaded
 * again. 0, or -1 with an error naming the plugin.
 */
int sl_cli_plugins_load(const struct sl_project *p, const char *const *paths,
                        uint32_t n);

/** `sluice validate` with argv[0] = "validate". Returns the exit status. */
int sl_cli_validate(int argc, char **argv);

/** `sluice export TARGET` with argv[0] = "export". The exit status. */
int sl_cli_export(int argc, char **argv);

/** `sluice schema PIPELINE... [--format F]`. The exit status. */
int sl_cli_schema(int argc, char **argv);

/** `sluice migrate TARGET PIPELINE...`. The exit status. */
int sl_cli_migrate(int argc, char **argv);

/** `sluice show [-p FILE] [-s SCOPE] [-j [-v]]`. The exit status. */
int sl_cli_show(int argc, char **argv);

/** Print the registered step types to `out`. */
void sl_cli_list_steps(FILE *out);

/** getopt_long values of --ansi and --no-ansi (above any character). */
enum { OPT_ANSI = 300, OPT_NO_ANSI };

/**
 * The options Nodestream's commands all take (cleo's), as getopt_long
 * entries, ending the table: -v, -q, -n, --ansi, --no-ansi, -V, -h.
 */
#define GLOBAL_LONGOPTS                                      \
	{"verbose", no_argument, NULL, 'v'},                 \
	        {"quiet", no_argument, NULL, 'q'},           \
	        {"no-interaction", no_argument, NULL, 'n'},  \
	        {"ansi", no_argument, NULL, OPT_ANSI},       \
	        {"no-ansi", no_argument, NULL, OPT_NO_ANSI}, \
	        {"version", no_argument, NULL, 'V'},         \
	        {"help", no_argument, NULL, 'h'},            \
	{                                                    \
		NULL, 0, NULL, 0                             \
	}

/**
 * The global option `c` of a command that honours only -V and -h of them
 * (`show`, `print schema`, `migrations show`): 0 when parsing goes on, 1
 * when the command is done (version or help printed; exit status 0), and
 * for another option -1 after an error message and the usage on stderr
 * (exit status 2).
 */
int sl_cli_global_option(int c, const char *cmd, char **argv,
                         void (*usage)(FILE *));

#endif /* SLUICE_CLI_RUN_H */
