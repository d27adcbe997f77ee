/*
 * sluice: writing desired ingestions to graph targets.
 *
 * The writer step (GraphDatabaseWriter, src/graph/writer.c; `sluice run`
 * appends one per --target) batches the Interpreter's desired ingestions,
 * merges writes of the same node or relationship within a batch
 * (src/graph/graph.h), and hands each batch to its target (a URI:
 * sqlite:PATH, postgresql://..., null:; src/graph/target.h). It takes
 * whole batches of records and passes them on unchanged, so several
 * writers can follow each other.
 *
 * A write batch is handed over when it holds batch_size ingestions
 * (--batch-size, a project target's batch_size option or the step's batch_size
 * argument; else the target's default, SL_GRAPH_BATCH_DEFAULT or
 * SL_GRAPH_BATCH_DEFAULT_PG). A task writes it while the writer goes on
 * filling the next one; it waits only when that one is full too, so a write
 * overlaps the interpretation of the next records, at most two write batches
 * are in memory, and while the writer waits the steps before it are held back
 * by their outboxes. A flush marker and the end of input write a partial
 * batch. What the writer counts is what its target committed (counted on
 * commit, not on send: sl_graph_writer_counts()); at the end of its input,
 * and in finish after a failure, it commits what the target holds open.
 * Relationships the target skipped for a missing endpoint count as the
 * writer's skipped records once committed, with one message per batch that
 * reports some. A record holding a value the target cannot store (U+0000
 * or a non-finite number in PostgreSQL, NaN in SQLite, ...;
 * docs/storage.md) is refused before it reaches a batch, naming its origin
 * (file:line) and the value's place: skipped and counted (on_error: skip,
 * the default), or failing the run (on_error: fail, --strict); every other
 * record loads. TTL records are carried out after the writes before them.
 */
#ifndef SLUICE_GRAPH_H
#define SLUICE_GRAPH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/metrics.h"
#include "sluice/step.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default desired ingestions per write batch (SQLite and null targets). */
#define SL_GRAPH_BATCH_DEFAULT 1000
/**
 * Default desired ingestions per write batch of a PostgreSQL target: each
 * batch costs a few round trips and two durable commits per lane, so
 * larger batches go faster (measured in docs/performance.md).
 */
#define SL_GRAPH_BATCH_DEFAULT_PG 10000

/**
 * A writer step for target `uri` writing batches of `batch_size`
 * ingestions (0: the target's default, SL_GRAPH_BATCH_DEFAULT or
 * SL_GRAPH_BATCH_DEFAULT_PG). The target is opened when the step starts.
 * A record holding a value the target cannot store (store.h's `cannot`)
 * is skipped and counted with its origin, or with `strict` (`sluice run
 * --strict`, the step's `on_error: fail`) fails the run naming its origin.
 * NULL with an error.
 */
struct sl_step *sl_graph_writer_new(const char *uri, uint32_t batch_size,
                                    bool strict);

/**
 * What a writer step wrote to its target, counted on commit: the rows
 * durably in the database when the counts are read, also after a failed
 * write or a failed COMMIT (whose writes count nothing). The same for
 * every kind of target.
 */
struct sl_graph_counts {
	/** Nodes created. */
	uint64_t nodes_created;
	/** Node writes that found their node (merged into it). */
	uint64_t nodes_updated;
	/** MATCH_ONLY or FUZZY node writes that found no node. */
	uint64_t nodes_unmatched;
	/** Relationships created. */
	uint64_t rels_created;
	/** Relationship writes that found their relationship. */
	uint64_t rels_updated;
	/** Relationship writes skipped: an endpoint node does not exist. */
	uint64_t rels_skipped;
};

/**
 * Whether `s` is a writer step (sl_graph_writer_new(), GraphDatabaseWriter);
 * if so, *out gets its committed counts so far (complete once the step
 * has finished) and *target, when not NULL, the target's URI as it may be
 * shown (no password; "" before the step started). Read it from the
 * thread that runs the pipeline, when the step is not running.
 */
bool sl_graph_writer_counts(const struct sl_step *s,
                            struct sl_graph_counts *out, const char **target);

struct sl_checkpoint;

/**
 * Whether `s` is a writer step; if so it takes part in the run's
 * checkpointing `c` (sluice/checkpoint.h): at start it reads the position
 * its target holds under `c->key`, and at each progress mark it commits
 * the mark's position with the writes before it, when the target can
 * keep positions (SQLite). Call before the run; `c` outlives it.
 */
bool sl_graph_writer_checkpoint(struct sl_step *s, struct sl_checkpoint *c);
/** Most characters of a type name kept for per-type counts. */
#define SL_GRAPH_TYPE_NAME_MAX 128

/** Most node and relationship types a writer counts apart. */
#define SL_GRAPH_TYPES_COUNTED 256

/** Writes of one node or relationship type (struct sl_graph_writer_metrics). */
struct sl_graph_type_count {
	/** The type (truncated to SL_GRAPH_TYPE_NAME_MAX - 1 bytes); past
	 * SL_GRAPH_TYPES_COUNTED types, the rest count under "other". */
	char type[SL_GRAPH_TYPE_NAME_MAX];
	/** Bytes of `type` used. */
	uint32_t len;
	/** Whether it is a relationship type (else a node type). */
	bool rel;
	/** Writes of this type in batches the target accepted. */
	uint64_t upserted;
};

/**
 * What a writer step did, for metrics (sl_graph_writer_metrics()). The
 * per-type counts are Nodestream's "upserted": the distinct node and
 * relationship writes of each batch the target accepted, counted when its
 * `write` returned, so a store that keeps a transaction open across
 * batches may later roll back writes counted here (the committed counts,
 * sl_graph_writer_counts(), are exact).
 */
struct sl_graph_writer_metrics {
	/** Write batches handed to the target. */
	uint64_t batches;
	/** Desired ingestions in the batch being filled. */
	uint64_t pending;
	/** Batches being written now (0 or 1). */
	uint32_t flushing;
	/** Node writes in accepted batches. */
	uint64_t nodes_upserted;
	/** Relationship writes in accepted batches. */
	uint64_t rels_upserted;
	/** TTL operations carried out. */
	uint64_t ttl_ops;
	/** Seconds each accepted batch took to write. */
	const struct sl_hist *batch_seconds;
	/** Seconds each commit took. */
	const struct sl_hist *commit_seconds;
	/** Writes by type (valid until the step is deleted). */
	const struct sl_graph_type_count *types;
	/** Number of entries in `types`. */
	uint32_t n_types;
};

/**
 * Whether `s` is a writer step; if so, fill *out. Read it from the thread
 * running the pipeline.
 */
bool sl_graph_writer_metrics(const struct sl_step *s,
                             struct sl_graph_writer_metrics *out);

/** Register GraphDatabaseWriter (idempotent). 0, or -1 with an error. */
int sl_graph_register(void);

/**
 * Write the graph in target `uri` to `out` as canonical JSON lines (see
 * sluice export). Call from a task. 0, or -1 with an error.
 */
int sl_graph_export(const char *uri, FILE *out);

struct sl_schema;

/**
 * Report each migration `schema` asks for in target `uri` to `fn`, with
 * whether the target has it applied (same SQL) or it is pending; nothing
 * changes. SQLite targets only for now; others fail naming the target.
 * Call from a task. 0, or -1 with an error.
 */
int sl_graph_migrations(const char *uri, const struct sl_schema *schema,
                        int (*fn)(void *arg, const char *name, bool applied),
                        void *arg);

/**
 * Apply the migrations `schema` asks for to target `uri` (indexes and
 * views; see docs/storage.md). Call from a task. *applied and *kept count
 * the migrations run now and those already there. 0, or -1 with an error.
 */
int sl_graph_migrate(const char *uri, const struct sl_schema *schema,
                     uint32_t *applied, uint32_t *kept);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_GRAPH_H */
