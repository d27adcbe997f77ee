/*
 * Nodestream's project commands in sluice (docs/nodestream.md):
 *
 * `sluice new PROJECT [PATH] [-d sqlite|postgresql|neo4j] [--uri URI]`
 * writes a project directory PATH/PROJECT (PATH defaults to the current
 * directory): nodestream.yaml with one scope, `default`, whose pipelines
 * write to one target, `graph`; pipelines/sample.yaml, which reads
 * data/books.jsonl into Book and Author nodes; the data; and a README.
 * With sqlite (sluice's default; Nodestream's is neo4j) the target is
 * graph.db in the project, so `sluice run` inside it works at once; with
 * postgresql or neo4j the target's uri is --uri, or read from the
 * environment when the project runs (`!env DATABASE_URL`, `!env
 * NEO4J_URI` with NEO4J_USERNAME and NEO4J_PASSWORD). A URI holding a
 * password is refused (it would be written into the file). A PROJECT
 * that exists and is not an empty directory is an error; nothing is
 * overwritten. Nodestream writes a Python package besides (a cookiecutter
 * template); sluice has no Python plugins and writes none.
 *
 * `sluice scaffold NAME [-s SCOPE] [-p FILE] [-d DATABASE]` writes
 * pipelines/NAME.yaml beside the project file (Nodestream's sample: a
 * range of 100000 numbers into Number nodes) and adds it to scope SCOPE
 * (default `default`, created if missing). `sluice remove [SCOPE] NAME
 * [-p FILE]` takes pipeline NAME out of SCOPE (or of every scope listing
 * it) and deletes its file, as Nodestream does, unless another entry
 * still uses it or it lies outside the project's directory (then it is
 * kept, and said so). Both edit the project
 * file as text, line by line, at the places its parsed nodes name, so
 * everything else in it (comments, order, quoting, tags) stays as it was;
 * a pipelines list written in flow style (`[a.yaml]`) is refused with a
 * message. The edited file is loaded as a project before it replaces the
 * old one (atomically, by rename).
 *
 * `sluice audit ttls [-p FILE]`: Nodestream's audit. For each node and
 * relationship type of the project's schema (in its order) without a
 * TimeToLiveConfigurationExtractor configuration, "Time to live not
 * configured for NODE 'Book'"; for each configuration that matched no
 * type, "Time to live configured for unknown object type 'X'"; when none
 * is missing, "All Object Types Have TTLs Configured". The exit status is
 * the number of types without one (at most 255), as in Nodestream.
 */
#ifndef SLUICE_CLI_PROJTOOLS_H
#define SLUICE_CLI_PROJTOOLS_H

/** `sluice new ...` with argv[0] = "new". The exit status. */
int sl_cli_new(int argc, char **argv);

/** `sluice scaffold ...` with argv[0] = "scaffold". The exit status. */
int sl_cli_scaffold(int argc, char **argv);

/** `sluice remove ...` with argv[0] = "remove". The exit status. */
int sl_cli_remove(int argc, char **argv);

/** `sluice audit ttls ...` with argv[0] = "audit". The exit status. */
int sl_cli_audit(int argc, char **argv);

#endif /* SLUICE_CLI_PROJTOOLS_H */
