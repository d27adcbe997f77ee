/*
 * `sluice copy --from TARGET --to TARGET [--node T]... [--relationship
 * T]... [--type T]... [--all]`: Nodestream's `copy`, a graph copied from
 * one target to another (SQLite, PostgreSQL, Neo4j; a URI or a target of
 * the project file).
 *
 * The source is read through the store's export (store.h's
 * `export_graph`, what `sluice export` prints: nodes first, then
 * relationships with their endpoints' types and keys, in a canonical
 * order) and written through the target's normal write path in batches
 * (graph.h's sl_graph_batch_add(), target.h's sl_target_write()), so
 * relationships always come after their nodes. The export runs in a task
 * of its own (the SQLite store calls back from its worker thread) and
 * hands its lines over through a queue of at most COPY_QUEUE_LINES lines
 * and COPY_QUEUE_BYTES bytes (plus one line), which the writing task
 * drains: the reader waits when it is full, so memory stays bounded by
 * the queue and one write batch whatever the size of the graph.
 *
 * Nodes are written with the EAGER rule (created, or merged into an
 * existing node: properties and additional types); relationships are
 * merged (EAGER) between their endpoints, which are written with nothing
 * to set (they exist: nodes come first, and the types at both ends of a
 * copied relationship type are copied), except that a relationship
 * that repeats the identity of the line before it (parallel
 * relationships, written with CREATE at the source) is added with CREATE
 * in a batch of its own, so that the copy holds as many as the source. (SQLite
 * and PostgreSQL export in that order; the Neo4j store exports a type in
 * Neo4j's order, so from Neo4j only neighbouring parallel relationships are
 * kept apart.)
 *
 * Types: with a project file (-p, or ./nodestream.yaml), the node and
 * relationship types of the project's schema are copied, as Nodestream
 * does; --node and --relationship narrow that with Nodestream's rules
 * (Schema.filtered: a relationship type survives between node types of
 * which one is selected, and the other end's type is copied too); --type
 * names a type of either kind. --all, or no project file, copies every
 * node and relationship of the source.
 */
#ifndef SLUICE_CLI_COPY_H
#define SLUICE_CLI_COPY_H

/** Most lines waiting between the reading and the writing task. */
#define COPY_QUEUE_LINES 4096

/** Most bytes of lines waiting between them (one longer line passes). */
#define COPY_QUEUE_BYTES ((size_t)8 << 20)

/** `sluice copy ...` with argv[0] = "copy". The exit status. */
int sl_cli_copy(int argc, char **argv);

#endif /* SLUICE_CLI_COPY_H */
