/*
 * sluice: graph writes (internal to graph): what the writer hands a
 * target, after batching and deduplicating desired ingestions.
 *
 * A batch holds node writes, then relationship writes; a target applies
 * every node write before any relationship write. Values (keys, labels,
 * properties) live in the batch's arena, or, in a batch that borrows
 * (`borrow`), in the added ingestions' memory, which its owner keeps until
 * the batch is reset: the writer, the last step of a pipeline, keeps the
 * record batches so, and no value is copied.
 *
 * Semantics a target implements (Nodestream's, as its graphs show):
 *   - node EAGER: create the node if it is missing, then merge `props`
 *     (a null value removes the property) and add `labels`;
 *   - node MATCH_ONLY: the same on an existing node only, else nothing;
 *   - node FUZZY: every node of the type whose key values match the op's
 *     key values read as regular expressions (PCRE2, anchored at both
 *     ends, as Neo4j's =~), updated as MATCH_ONLY;
 *   - relationship: its endpoints are matched, never created (FUZZY
 *     endpoints match by regular expression, possibly several nodes); a
 *     missing endpoint skips the relationship and counts it;
 *     EAGER and MERGE_KEY create the relationship (from, type, to, key) if
 *     missing and merge `props`; CREATE always adds a new one (once per
 *     batch: repeats within a batch merge first).
 *
 * Building a batch (graph.c, sl_graph_batch_add()): each desired ingestion
 * adds a node write for its source and for every related node, then a
 * relationship write per relationship (from and to follow `outbound`; a
 * FUZZY endpoint is matched by pattern). Keys are stored sorted, and a
 * key's canonical JSON text is made for each node it names (the index
 * needs it), written straight into the memory that keeps it when no
 * byte needs an escape; the index keeps a new identity's text (a copy
 * only when it was read into memory the batch does not keep), and its
 * write's `key_text` is a slice of that text, reused by relationship
 * identities and the stores. An open-addressing index over the identity
 * text (kind, rule, type, canonical key; for a relationship also both
 * endpoints and its key) merges writes of one
 * identity: properties merge with later values winning (a null is kept,
 * so the store removes the property) and labels are unioned. This holds
 * for CREATE relationships too, as in Nodestream, whose flush merges
 * duplicates whatever the rule: a CREATE relationship is added once per
 * batch that holds it, however many of its records it holds.
 */
#ifndef SLUICE_GRAPH_GRAPH_H
#define SLUICE_GRAPH_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/graph.h"
#include "sluice/value.h"

/** Node creation rules. */
enum sl_node_rule {
	SL_NODE_EAGER = 0,  /**< create if missing */
	SL_NODE_MATCH_ONLY, /**< update existing nodes only */
	SL_NODE_FUZZY,      /**< match key values as regular expressions */
};

/** Relationship creation rules. */
enum sl_rel_rule {
	SL_REL_EAGER = 0, /**< create if missing, else update */
	SL_REL_MERGE_KEY, /**< the same as EAGER */
	SL_REL_CREATE,    /**< always add a new relationship */
};

/** A node write. */
struct sl_node_op {
	/** The node type (a string). */
	struct sl_value type;
	/** Key values: an object with keys in canonical (sorted) order. */
	struct sl_value key;
	/**
	 * The canonical JSON text of `key`, made once when the write was
	 * added (a string; a null value if the batch was built otherwise).
	 */
	struct sl_value key_text;
	/** Additional types to add: an array of strings. */
	struct sl_value labels;
	/** Properties to merge: an object; a null value removes one. */
	struct sl_value props;
	/** Creation rule. */
	enum sl_node_rule rule;
};

/** One end of a relationship write: how to find the node. */
struct sl_node_ref {
	/** The node type (a string). */
	struct sl_value type;
	/** Key values (canonical order). */
	struct sl_value key;
	/** The canonical JSON text of `key` (as in struct sl_node_op). */
	struct sl_value key_text;
	/** Whether key values are regular expressions (FUZZY). */
	bool fuzzy;
};

/** A relationship write. */
struct sl_rel_op {
	/** The relationship type (a string). */
	struct sl_value type;
	/** The node it starts from. */
	struct sl_node_ref from;
	/** The node it points to. */
	struct sl_node_ref to;
	/** Key values (canonical order; an empty object for none). */
	struct sl_value key;
	/** Properties to merge. */
	struct sl_value props;
	/** Creation rule. */
	enum sl_rel_rule rule;
};

/** Add counts `a` to `to`. */
void sl_graph_counts_add(struct sl_graph_counts *to,
                         const struct sl_graph_counts *a);

/**
 * A store's counts by the fate of their transaction. Counts are made on
 * commit, not on send (store.h): a store adds the counts of its writes to
 * `pending` while their transaction is open, moves them to `committed`
 * when it commits (sl_write_tally_commit()) and drops them when it rolls
 * back (sl_write_tally_rollback()); sl_write_tally_report() hands what was
 * committed to the caller's totals once.
 */
struct sl_write_tally {
	/** Counts of the writes in the open transaction. */
	struct sl_graph_counts pending;
	/** Counts of committed writes not reported yet. */
	struct sl_graph_counts committed;
};

/** The open transaction committed: its pending counts become committed. */
void sl_write_tally_commit(struct sl_write_tally *t);

/** The open transaction rolled back: its pending counts are dropped. */
void sl_write_tally_rollback(struct sl_write_tally *t);

/** Add the committed counts not reported yet to *st (NULL: drop them). */
void sl_write_tally_report(struct sl_write_tally *t,
                           struct sl_graph_counts *st);

/**
 * Values a store cannot hold: the bits of sl_graph_store_ops.cannot that
 * sl_graph_check() tests a desired ingestion against.
 */
enum sl_graph_cannot {
	/** U+0000 in any string: a value, a type, a label or any name. */
	SL_GRAPH_NO_NUL = 1u << 0,
	/** U+0000 in a node or relationship type, a label or a key name. */
	SL_GRAPH_NO_NUL_NAME = 1u << 1,
	/** Infinity or -Infinity anywhere. */
	SL_GRAPH_NO_INF = 1u << 2,
	/** NaN anywhere. */
	SL_GRAPH_NO_NAN = 1u << 3,
	/** NaN in a key (NaN equals nothing, so it identifies nothing). */
	SL_GRAPH_NO_NAN_KEY = 1u << 4,
};

/**
 * Check desired ingestion `ing` (as sl_graph_batch_add() takes it)
 * against what store `store` (its name, for the message) cannot hold,
 * `cannot` (enum sl_graph_cannot bits): every type, label, key and
 * property name and value, nested values included. Returns 0, or -1 with
 * SL_EINVAL whose message names the store, the value's place in the
 * ingestion (e.g. `source.props.name`, `rels[0].node.key.id`) and what it
 * holds. The writer checks each record so before batching it, so that a
 * value the store would refuse costs that record, not its batch.
 */
int sl_graph_check(const struct sl_value *ing, unsigned cannot,
                   const char *store);

/**
 * Write a node as one canonical export line into `line` (reset first):
 * {"key", "labels", "node", "props"}. 0, or -1 with an error.
 */
int sl_graph_line_node(struct sl_buf *line, struct sl_value type,
                       struct sl_value key, struct sl_value labels,
                       struct sl_value props);

/**
 * Write a relationship as one canonical export line into `line`:
 * {"from": {"key", "node"}, "key", "props", "rel", "to": {...}}. 0, or -1.
 */
int sl_graph_line_rel(struct sl_buf *line, struct sl_value type,
                      struct sl_value from_type, struct sl_value from_key,
                      struct sl_value to_type, struct sl_value to_key,
                      struct sl_value key, struct sl_value props);

struct sl_graph_dedup;

/** A batch of writes. */
struct sl_graph_batch {
	/** Node writes. */
	struct sl_node_op *nodes;
	/** Number of node writes. */
	uint32_t n_nodes;
	/** Capacity of `nodes`. */
	uint32_t cap_nodes;
	/** Relationship writes. */
	struct sl_rel_op *rels;
	/** Number of relationship writes. */
	uint32_t n_rels;
	/** Capacity of `rels`. */
	uint32_t cap_rels;
	/** Memory of the values. */
	struct sl_arena arena;
	/** Desired ingestions added since the last reset. */
	uint32_t n_ingestions;
	/**
	 * Whether values are referenced rather than copied: the caller
	 * keeps every added ingestion's memory until the batch is reset or
	 * freed. Kept by a reset.
	 */
	bool borrow;
	/**
	 * Ingestions the caller means to add before a reset (the writer's
	 * batch size; 0 or 1: unknown). The first one added to a batch
	 * without room makes room for that many like it (up to a bound),
	 * rather than the batch growing step by step. Kept by a reset.
	 */
	uint32_t expect;
	/** Index of the writes by identity, for merging (private). */
	struct sl_graph_dedup *dedup;
	/**
	 * Counts the resets: what a store made of the batch ahead (its
	 * `prepare`) is told from the batch filled again.
	 */
	uint64_t serial;
};

/** Hard cap on the memory of one batch. */
#define SL_GRAPH_BATCH_MEM_MAX ((size_t)1 << 30)

/** A new empty batch, or NULL with SL_EOOM. */
struct sl_graph_batch *sl_graph_batch_new(void);

/** Free a batch (NULL is a no-op). */
void sl_graph_batch_delete(struct sl_graph_batch *b);

/** Empty a batch for reuse (its memory is kept). */
void sl_graph_batch_reset(struct sl_graph_batch *b);

/**
 * Give empty batch `to` the identity index of `from`, to which nothing
 * more is added until it is reset (a batch handed to a target): the
 * index's memory serves one batch after the other, and stays in the
 * cache, rather than a set per batch. `from` gets the index `to` had.
 */
void sl_graph_batch_pass_index(struct sl_graph_batch *from,
                               struct sl_graph_batch *to);

/**
 * Add desired ingestion `ing` (the Interpreter's value, see
 * interp/interpret.h; it may live anywhere: what is kept is copied,
 * unless the batch borrows):
 * node writes for its source and related nodes, then relationship
 * writes. A write with the identity of one already in the batch merges
 * into it (properties: later values win; labels: union), relationships
 * of the CREATE rule included. Returns 0, or -1
 * with SL_EINVAL when `ing` is not a desired ingestion (the message says
 * what is wrong), SL_ELIMIT or SL_EOOM.
 */
int sl_graph_batch_add(struct sl_graph_batch *b, const struct sl_value *ing);

/** Relationship identities without a key that a ctx remembers. */
#define SL_GRAPH_REL_MEMO 4

/**
 * A relationship identity without a key, made once and reused: its text
 * depends only on the type, the rule and the ends' fuzziness.
 */
struct sl_graph_rel_memo {
	/**
	 * What it was made of besides the type's bytes (which are in the
	 * text): the type's length, the head ('R' and the rule) and
	 * whether the from and the to end's keys hold patterns, in one word
	 * (rel_ident_keyless() in graph.c).
	 */
	uint64_t tag;
	/** The identity text (in the arena texts went to), or NULL: unused. */
	const char *text;
	/** Its length. */
	uint32_t len;
	/** Its hash. */
	uint64_t hash;
};

/**
 * Scratch memory of sl_graph_prepare() for one thread at a time
 * (caller-owned; create, use, destroy). Its memos point into the arena
 * identity texts were made in: use one ctx with one arena, or forget
 * (sl_graph_prep_ctx_forget()) when that arena is reset.
 */
struct sl_graph_prep_ctx {
	/** Where identity texts are built (capped). */
	struct sl_buf ident;
	/** Keyless relationship identities made (SL_GRAPH_REL_MEMO). */
	struct sl_graph_rel_memo rel_memo[SL_GRAPH_REL_MEMO];
	/** The memo entry to replace next. */
	uint32_t rel_memo_next;
	/** The memo entry found last, where the next search starts. */
	uint32_t rel_memo_last;
};

/** Set up `c`. */
void sl_graph_prep_ctx_create(struct sl_graph_prep_ctx *c);

/** Forget the identities `c` made (their arena was reset). */
void sl_graph_prep_ctx_forget(struct sl_graph_prep_ctx *c);

/** Free what `c` holds. */
void sl_graph_prep_ctx_destroy(struct sl_graph_prep_ctx *c);

/** A desired ingestion read ahead (sl_graph_prepare()); in an arena. */
struct sl_graph_prep;

/**
 * The first half of sl_graph_batch_add(), which needs no batch and may
 * run on another thread: read and check desired ingestion `ing`, sort its
 * keys and make its identities (texts and hashes). Sorted keys and
 * identity texts go in arena `a`, which must live as long as the writes
 * that sl_graph_batch_add_prep() makes of it (as `ing` must: a borrowing
 * batch's index keeps the texts); the prep itself in `shape`, which
 * nothing refers to once the prep was added. NULL with an
 * error when `ing` does not read: then sl_graph_batch_add() of it fails
 * the same way (after the writes of the relationships before a bad one).
 */
struct sl_graph_prep *sl_graph_prepare(struct sl_graph_prep_ctx *c,
                                       struct sl_arena *a,
                                       struct sl_arena *shape,
                                       const struct sl_value *ing);

/**
 * The second half: add the writes of `p` to the batch, as
 * sl_graph_batch_add() of its ingestion would. `p` is used up (it holds
 * the batch's node numbers afterwards). 0, or -1 with SL_ELIMIT or SL_EOOM.
 */
int sl_graph_batch_add_prep(struct sl_graph_batch *b, struct sl_graph_prep *p);

/**
 * Ask for what sl_graph_batch_add_prep() of `p` into `b` will read, in
 * steps run ahead of it, each once the one before is in: step 0 loads `p`
 * itself, step 1 its relationship array, step 2 the identity texts and
 * property members they point to and the index buckets of its nodes and
 * relationships.
 * Prepared on a worker, most of it is in another core's cache; asking
 * early overlaps those transfers. No effect on results.
 */
void sl_graph_batch_prefetch(const struct sl_graph_batch *b,
                             const struct sl_graph_prep *p, int step);

#endif /* SLUICE_GRAPH_GRAPH_H */
