/*
 * Nodestream's schema commands in sluice:
 *
 * `sluice print schema [PIPELINE...] [-p FILE] [-f plain|graphql|
 * cypheresque] [-O OVERRIDES] [-o OUT]` prints what `nodestream print
 * schema` prints, byte for byte: the schema of every pipeline of the
 * project (-p, default ./nodestream.yaml), or of the pipelines named,
 * collected from their Interpreters as Nodestream collects it
 * (sluice/nsschema.h), merged with a type overrides file, written to
 * stdout or to OUT. Names that are pipeline files (a path, or *.yaml)
 * are read as files, without a project (a sluice extension).
 *
 * `sluice migrations show [-p FILE] [-t TARGET...]` prints Nodestream's
 * table of migrations by target (applied / pending). sluice's migrations
 * are not files but derived from the schema (src/graph/migrate.h): the
 * rows are the migrations the project's schema asks for, and a target
 * has one applied when its sluice_migrations table records it with the
 * same SQL. Stores that cannot be asked show "?".
 */
#ifndef SLUICE_CLI_NSCMD_H
#define SLUICE_CLI_NSCMD_H

#include <stdbool.h>

/** `sluice print schema ...` with argv[0] = "schema". The exit status. */
int sl_cli_ns_print_schema(int argc, char **argv);

struct sl_ns_schema;
struct sl_project;

/**
 * Nodestream's schema of every pipeline of project `p` into `schema`
 * (empty first), collected as `print schema` collects it, with
 * additional types as types when `additional` (`copy` and `audit ttls`
 * use it). 0, or -1 with an error.
 */
int sl_cli_ns_project_schema(const struct sl_project *p, bool additional,
                             struct sl_ns_schema *schema);

struct sl_stepdef;
struct sl_step;
struct sl_value;

/**
 * Load pipeline file `path` (with `config`) as Nodestream's introspection
 * does, and call `fn` for each step `want` picks, built from its
 * definition so that bad arguments fail as in a run. Stops at the first
 * `fn` that fails. 0, or -1 with an error.
 */
int sl_cli_ns_walk(const char *path, const struct sl_value *config,
                   bool (*want)(const struct sl_stepdef *d),
                   int (*fn)(void *arg, const struct sl_stepdef *d,
                             struct sl_step *s),
                   void *arg);

/** `sluice migrations SUBCOMMAND ...` with argv[0] = "migrations". */
int sl_cli_migrations(int argc, char **argv);

/** Log the current error (the diag's last) as an error line. */
void sl_cli_report(void);

#endif /* SLUICE_CLI_NSCMD_H */
