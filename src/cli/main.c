/*
 * The sluice command.
 */
#include <stdio.h>
#include <string.h>

#include "copy.h"
#include "demo.h"
#include "nscmd.h"
#include "projtools.h"
#include "run.h"
#include "sluice/diag.h"
#include "sluice/log.h"

/** Print usage to `out`. */
static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice <command> [args]\n"
	        "\n"
	        "commands:\n"
	        "  run PIPELINE.yaml [options]   run a pipeline "
	        "(see sluice run --help)\n"
	        "  run [NAME...] [-p FILE]       run pipelines of a project "
	        "file (nodestream.yaml)\n"
	        "  show [-p FILE] [-s SCOPE] [-j] list a project's "
	        "pipelines\n"
	        "  validate PIPELINE.yaml        load a pipeline and "
	        "check its steps\n"
	        "  export TARGET                 print the graph in TARGET "
	        "as JSON lines\n"
	        "  schema PIPELINE.yaml...       print the graph schema "
	        "(--format plain|json|dot)\n"
	        "  print schema [NAME...]        the schema as Nodestream "
	        "prints it (-f plain|graphql|cypheresque)\n"
	        "  migrate TARGET PIPELINE...    create the indexes and "
	        "views of the schema\n"
	        "  migrations show [-t TARGET]   migrations applied and "
	        "pending per target\n"
	        "  new PROJECT [-d DATABASE]     write a new project "
	        "(sqlite, postgresql, neo4j)\n"
	        "  scaffold NAME [-s SCOPE]      add a pipeline to the "
	        "project\n"
	        "  remove [SCOPE] NAME           take a pipeline out of "
	        "the project\n"
	        "  copy --from T --to T          copy a graph between "
	        "targets (--node, --type, --all)\n"
	        "  audit ttls [-p FILE]          list the types that have "
	        "no TTL configured\n"
	        "  demo [--tasks N] [--items N]  run the runtime "
	        "demonstration\n"
	        "  help steps                    list the built-in steps\n"
	        "  version, --version            print the version\n"
	        "  help, --help                  print this help\n"
	        "\n"
	        "Nodestream's commands and options in sluice: "
	        "docs/nodestream.md\n"
	        "\n"
	        "environment: SLUICE_LOG_LEVEL (error, warn, info, debug, "
	        "trace), SLUICE_LOG_FORMAT (text, json)\n");
}

int
main(int argc, char **argv)
{
	if (sl_log_init() != 0) {
		fprintf(stderr, "sluice: %s\n", sl_diag_last()->msg);
		return 2;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "run") == 0)
		return sl_cli_run(argc - 1, argv + 1);
	if (strcmp(cmd, "validate") == 0)
		return sl_cli_validate(argc - 1, argv + 1);
	if (strcmp(cmd, "export") == 0)
		return sl_cli_export(argc - 1, argv + 1);
	if (strcmp(cmd, "schema") == 0)
		return sl_cli_schema(argc - 1, argv + 1);
	if (strcmp(cmd, "print") == 0) {
		if (argc > 2 && strcmp(argv[2], "schema") == 0)
			return sl_cli_ns_print_schema(argc - 2, argv + 2);
		fprintf(stderr, "sluice: 'print' prints one thing: sluice "
		                "print schema [PIPELINE...]\n");
		return 2;
	}
	if (strcmp(cmd, "migrations") == 0)
		return sl_cli_migrations(argc - 1, argv + 1);
	if (strcmp(cmd, "migrate") == 0)
		return sl_cli_migrate(argc - 1, argv + 1);
	if (strcmp(cmd, "show") == 0)
		return sl_cli_show(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0 && argc > 2 &&
	    strcmp(argv[2], "steps") == 0) {
		sl_cli_list_steps(stdout);
		return 0;
	}
	if (strcmp(cmd, "new") == 0)
		return sl_cli_new(argc - 1, argv + 1);
	if (strcmp(cmd, "scaffold") == 0)
		return sl_cli_scaffold(argc - 1, argv + 1);
	if (strcmp(cmd, "remove") == 0)
		return sl_cli_remove(argc - 1, argv + 1);
	if (strcmp(cmd, "copy") == 0)
		return sl_cli_copy(argc - 1, argv + 1);
	if (strcmp(cmd, "audit") == 0)
		return sl_cli_audit(argc - 1, argv + 1);
	if (strcmp(cmd, "demo") == 0)
		return sl_cli_demo(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("sluice %s\n", SLUICE_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "sluice: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
