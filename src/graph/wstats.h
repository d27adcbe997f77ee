/*
 * sluice: a writer step's metrics (internal to graph): how long its
 * batches and commits took, and its writes by node and relationship type,
 * tallied once per written batch from the batch's own (deduplicated)
 * writes, on the loop thread. See struct sl_graph_writer_metrics in
 * sluice/graph.h for what the counts mean.
 */
#ifndef SLUICE_GRAPH_WSTATS_H
#define SLUICE_GRAPH_WSTATS_H

#include "graph.h"
#include "sluice/graph.h"
#include "sluice/metrics.h"

/** A writer's metrics (zero-initialised is empty). */
struct sl_wstats {
	/** Seconds per batch write. */
	struct sl_hist batch;
	/** Seconds per commit. */
	struct sl_hist commit;
	/** Counts by type (SL_GRAPH_TYPES_COUNTED + 1 entries, the last
	 * "other"), allocated on first use; NULL without memory. */
	struct sl_graph_type_count *types;
	/** Entries of `types` in use. */
	uint32_t n_types;
	/** Node writes in accepted batches. */
	uint64_t nodes;
	/** Relationship writes in accepted batches. */
	uint64_t rels;
	/** TTL operations carried out. */
	uint64_t ttl_ops;
};

/** Batch `b` was accepted by the target after `seconds`: count it. */
void sl_wstats_batch(struct sl_wstats *ws, const struct sl_graph_batch *b,
                     double seconds);

/** Free what `ws` holds. */
void sl_wstats_destroy(struct sl_wstats *ws);

#endif /* SLUICE_GRAPH_WSTATS_H */
