/*
 * sluice: the graph writer step and export (see sluice/graph.h).
 */
#include "sluice/graph.h"

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph.h"
#include "sluice/alloc.h"
#include "sluice/checkpoint.h"
#include "sluice/diag.h"
#include "sluice/log.h"
#include "sluice/registry.h"
#include "sluice/task.h"
#include "target.h"
#include "wstats.h"

/** Record batches whose records a graph batch borrows. */
struct kept {
	/** The batches. */
	struct sl_batch **v;
	/** How many. */
	uint32_t n;
	/** Room in `v`. */
	uint32_t cap;
};

/** A writer step. */
struct writer {
	/** Common part. */
	struct sl_step base;
	/** The target's URI (owned). */
	char *uri;
	/** Desired ingestions per batch (0 until the target is open: its
	 * default). */
	uint32_t batch_size;
	/** The open target, or NULL. */
	struct sl_target *target;
	/** The target's name as it may be shown ("" until it is open). */
	char shown[512];
	/** The batch being filled. */
	struct sl_graph_batch *filling;
	/** The batch being written, or NULL. */
	struct sl_graph_batch *writing;
	/** The task writing it, or NULL. */
	struct sl_task *inflight;
	/**
	 * Whether the graph batches borrow the records' memory (the writer
	 * is the last step: it keeps its input batches until the graph
	 * batches that refer to them are written), decided at the first
	 * batch (`mode_known`).
	 */
	bool borrow;
	/** Whether `borrow` is decided. */
	bool mode_known;
	/** The record batches `filling` borrows from. */
	struct kept kept_filling;
	/** The record batches `writing` borrows from. */
	struct kept kept_writing;
	/**
	 * What the target reported: what is committed (counted on commit,
	 * store.h), also after a failed write.
	 */
	struct sl_graph_counts stats;
	/** Batches handed to the target. */
	uint64_t batches;
	/** Relationship skips already counted in the step's stats. */
	uint64_t skips_counted;
	/**
	 * Whether a record the target cannot store is skipped (counted,
	 * on_error: skip, the default) or fails the run (on_error: fail,
	 * --strict).
	 */
	bool skip_bad;
	/**
	 * Set (release) once the target is open and `cannot` and `store`
	 * are set: from then on prepare() reads records ahead on worker
	 * threads.
	 */
	atomic_bool ready;
	/** What the target's store cannot hold (sl_target_check_args()). */
	unsigned cannot;
	/** The store's name, for check messages (static). */
	const char *store;
	/** Records that arrived read ahead (writer_prepare()). */
	uint64_t prepared;
	/** The run's checkpointing (sl_graph_writer_checkpoint()), or NULL. */
	struct sl_checkpoint *ckpt;
	/** Whether the target keeps the positions of progress marks. */
	bool progress;
	/** Metrics: latencies and writes by type (wstats.h). */
	struct sl_wstats ws;
};

/** Return the record batches of `k` to their pool. */
static void
kept_release(struct kept *k)
{
	for (uint32_t i = 0; i < k->n; i++)
		sl_batch_put(k->v[i]);
	k->n = 0;
}

/** Write `w->writing` (a task). */
static int
write_task(void *arg)
{
	struct writer *w = arg;
	double t0 = sl_clock();
	int rc = sl_target_write(w->target, w->writing, &w->stats);
	if (rc == 0) {
		sl_wstats_batch(&w->ws, w->writing, sl_clock() - t0);
		/* The target is done with the batch: the records it borrowed
		 * go back now, not when the next one is handed over, so that
		 * a fast target's run holds one batch's records, not two. */
		kept_release(&w->kept_writing);
	}
	return rc;
}

/**
 * Count relationships the target skipped since the last call (they are
 * counted when the batches holding them commit). The current error, if
 * any, is kept.
 */
static void
count_skips(struct writer *w)
{
	uint64_t n = w->stats.rels_skipped - w->skips_counted;
	if (n == 0)
		return;
	struct sl_diag keep;
	sl_diag_stash(&keep);
	sl_diag_set(SL_EINVAL,
	            "%s: %" PRIu64 " relationship%s skipped in batch %" PRIu64
	            "%s: an endpoint node does not exist",
	            sl_target_name(w->target), n, n == 1 ? "" : "s", w->batches,
	            n > 1 ? " and the batches before it" : "");
	sl_step_skip(&w->base);
	w->base.stats.skipped += n - 1;
	w->skips_counted = w->stats.rels_skipped;
	sl_diag_restore(&keep);
}

/**
 * Commit what the target holds uncommitted (grouped batches), counting
 * it. 0, or -1.
 */
static int
commit(struct writer *w)
{
	double t0 = sl_clock();
	int rc = sl_target_commit(w->target, &w->stats);
	sl_hist_observe(&w->ws.commit, sl_clock() - t0);
	count_skips(w);
	return rc;
}

/** Wait for the batch being written, if any. */
static int
wait_inflight(struct writer *w)
{
	if (w->inflight == NULL)
		return 0;
	int rc = sl_task_join(w->inflight);
	if (rc != 0 && sl_task_is_cancelled())
		/* Cancelled while waiting (the task is still joinable): the
		 * write must still end. */
		rc = sl_task_reap(w->inflight);
	w->inflight = NULL;
	count_skips(w);
	return rc;
}

/** Room for one more batch in `k`. 0, or -1 with SL_EOOM. */
static int
kept_reserve(struct kept *k)
{
	if (k->n < k->cap)
		return 0;
	uint32_t cap = k->cap != 0 ? k->cap * 2 : 64;
	struct sl_batch **v = sl_realloc(k->v, cap * sizeof(*v));
	if (v == NULL) {
		sl_diag_set(SL_EOOM, "out of memory keeping record batches");
		return -1;
	}
	k->v = v;
	k->cap = cap;
	return 0;
}

/** Hand the filled batch to the target; wait for the previous one. */
static int
rotate(struct writer *w)
{
	if (w->filling->n_ingestions == 0)
		return 0;
	/* While the target may still write the batch before. */
	sl_target_prepare(w->target, w->filling);
	if (wait_inflight(w) != 0)
		return -1;
	struct sl_graph_batch *next = w->writing;
	if (next == NULL && (next = sl_graph_batch_new()) == NULL)
		return -1;
	sl_graph_batch_reset(next);
	sl_graph_batch_pass_index(w->filling, next);
	next->borrow = w->borrow;
	next->expect = w->batch_size;
	/* The written batch's records are no longer referred to. */
	kept_release(&w->kept_writing);
	struct kept k = w->kept_writing;
	w->kept_writing = w->kept_filling;
	w->kept_filling = k;
	w->writing = w->filling;
	w->filling = next;
	w->batches++;
	w->inflight =
	        sl_task_spawn(sl_loop_current(), "graph-write", write_task, w);
	return w->inflight != NULL ? 0 : -1;
}

/**
 * Carry out the TTL configuration `ttl` (from the TTL extractor) after
 * the writes before it.
 */
static int
do_ttl(struct writer *w, const struct sl_value *ttl)
{
	const struct sl_value *kind =
	        sl_object_get_cstr(ttl, "graph_object_type");
	const struct sl_value *type = sl_object_get_cstr(ttl, "object_type");
	const struct sl_value *hours =
	        sl_object_get_cstr(ttl, "expiry_in_hours");
	struct sl_value h = hours != NULL ? sl_value_number(*hours) : sl_null();
	double expiry = h.type == SL_VINT      ? (double)h.u.i
	                : h.type == SL_VDOUBLE ? h.u.d
	                                       : -1;
	if (kind == NULL || kind->type != SL_VSTR || type == NULL ||
	    type->type != SL_VSTR || expiry < 0) {
		sl_diag_set(SL_EINVAL,
		            "a TTL record needs graph_object_type, object_type "
		            "and expiry_in_hours");
		return -1;
	}
	if (rotate(w) != 0 || wait_inflight(w) != 0)
		return -1;
	struct timespec cut;
	clock_gettime(CLOCK_REALTIME, &cut);
	cut.tv_sec -= (time_t)(expiry * 3600);
	char cutoff[64], t[512];
	(void)sl_time_utc(&cut, 6, cutoff, sizeof(cutoff));
	snprintf(t, sizeof(t), "%.*s", (int)type->len, type->u.s);
	bool nodes = kind->len == 4 && memcmp(kind->u.s, "NODE", 4) == 0;
	uint64_t deleted;
	if (sl_target_ttl(w->target, nodes, t, cutoff, &deleted) != 0)
		return -1;
	w->ws.ttl_ops++;
	sl_log_info("step %s: %s: deleted %" PRIu64 " %s of type %s not "
	            "ingested since %s",
	            w->base.name, sl_target_name(w->target), deleted,
	            nodes ? "nodes" : "relationships", t, cutoff);
	return 0;
}

/** Open the target. */
/**
 * Start keeping checkpoint positions in the target, if it can, and tell
 * the run's checkpointing which position it holds. 0, or -1.
 */
static int
progress_start(struct writer *w)
{
	struct sl_buf text;
	sl_buf_create(&text, SL_CKPT_TEXT_MAX);
	int rc = sl_target_progress_get(w->target, w->ckpt->key, &text);
	w->progress = rc == 0 || rc == 1;
	if (rc == 1) {
		char what[700];
		snprintf(what, sizeof(what), "the checkpoint position in %s",
		         w->shown);
		struct sl_ckpt_pos pos;
		if (sl_ckpt_parse(text.data, text.len, what, &pos) != 0)
			rc = -1;
		else
			sl_checkpoint_target(w->ckpt, &pos);
	} else if (rc == 0 || rc == 2) {
		sl_checkpoint_target(w->ckpt, NULL);
	}
	sl_buf_destroy(&text);
	return rc < 0 ? -1 : 0;
}

static int
writer_start(struct sl_step *s)
{
	struct writer *w = (struct writer *)s;
	w->filling = sl_graph_batch_new();
	if (w->filling == NULL)
		return -1;
	w->target = sl_target_open(w->uri);
	if (w->target == NULL)
		return -1;
	snprintf(w->shown, sizeof(w->shown), "%s", sl_target_name(w->target));
	if (w->batch_size == 0)
		w->batch_size = sl_target_batch_default(w->target);
	w->filling->expect = w->batch_size;
	sl_target_check_args(w->target, &w->cannot, &w->store);
	if (w->ckpt != NULL && progress_start(w) != 0)
		return -1;
	atomic_store_explicit(&w->ready, true, memory_order_release);
	return 0;
}

/**
 * Read the records of `b` ahead on a worker thread (sl_step_ops.prepare):
 * each one that passes the store's check and reads as a desired
 * ingestion gets its sl_graph_prepare() in `b->prep` (an array parallel
 * to the records); the rest (TTL records, bad ones) get NULL, and
 * writer_add() handles them as without threads, errors included. When
 * every record read and the writer is the last step (`last`: then
 * writer_add() reads only `b->prep`), the records' shape (the desired
 * ingestions' objects, about half a record's memory) goes back now
 * rather than after the merge, and what was read ahead is the shape.
 */
static void
writer_prepare(struct sl_step *s, struct sl_batch *b, bool last)
{
	struct writer *w = (struct writer *)s;
	if (!atomic_load_explicit(&w->ready, memory_order_acquire) ||
	    b->count == 0)
		return;
	/* What the merge reads alone, given back once it merged
	 * (writer_process()); sorted keys stay in the arena. */
	struct sl_arena ahead;
	sl_arena_create(&ahead, b->shape.chunk_size, b->shape.cap);
	struct sl_graph_prep **v = sl_arena_alloc_aligned(
	        &ahead, (size_t)b->count * sizeof(*v), _Alignof(void *));
	if (v == NULL) {
		sl_diag_clear(sl_diag_get());
		sl_arena_destroy(&ahead);
		return;
	}
	struct sl_graph_prep_ctx c;
	sl_graph_prep_ctx_create(&c);
	bool all = true;
	for (uint32_t i = 0; i < b->count; i++) {
		const struct sl_value *rec = &b->records[i];
		v[i] = NULL;
		if (sl_object_get_cstr(rec, "ttl") != NULL ||
		    sl_graph_check(rec, w->cannot, w->store) != 0 ||
		    (v[i] = sl_graph_prepare(&c, &b->arena, &ahead, rec)) ==
		            NULL) {
			sl_diag_clear(sl_diag_get());
			all = false;
		}
	}
	sl_graph_prep_ctx_destroy(&c);
	if (all && last) {
		sl_arena_destroy(&b->shape);
		b->shape = ahead;
	} else {
		sl_arena_adopt(&b->shape, &ahead);
	}
	b->prep = v;
	b->prep_for = s;
}

/** Prefix the error with the origin of record `i` of `in`. Returns -1. */
static int
origin_fail(const struct sl_batch *in, uint32_t i)
{
	char where[300];
	sl_origin_format(&in->origins[i], where, sizeof(where));
	sl_diag_wrap(sl_diag_code(), "%s", where);
	return -1;
}

/**
 * Add record `i` of `in` to the graph batches: a TTL record is carried
 * out, a record the store cannot hold is skipped (or fails the run under
 * --strict), a desired ingestion is batched. 0, or -1.
 */
static int
writer_add_one(struct writer *w, struct sl_batch *in, uint32_t i)
{
	const struct sl_value *ttl = sl_object_get_cstr(&in->records[i], "ttl");
	bool bad = ttl == NULL &&
	           sl_graph_check(&in->records[i], w->cannot, w->store) != 0;
	if (!bad && (ttl != NULL ? do_ttl(w, ttl)
	                         : sl_graph_batch_add(w->filling,
	                                              &in->records[i])) == 0)
		return 0;
	(void)origin_fail(in, i);
	if (bad && w->skip_bad) {
		/* The record only: the others load. */
		sl_step_skip(&w->base);
		return 0;
	}
	return -1;
}

/** Add the records of `in` to the graph batches. 0, or -1. */
static int
writer_add(struct writer *w, struct sl_batch *in)
{
	struct sl_graph_prep **prep =
	        in->prep_for == &w->base ? in->prep : NULL;
	for (uint32_t i = 0; i < in->count; i++) {
		if (prep != NULL) {
			/* Made on another core: ask for the next ones' data
			 * while this one merges. */
			for (uint32_t k = 1; k <= 3 && i + k < in->count; k++)
				if (prep[i + k] != NULL)
					sl_graph_batch_prefetch(w->filling,
					                        prep[i + k],
					                        3 - (int)k);
		}
		if (prep != NULL && prep[i] != NULL) {
			/* Read and checked ahead (writer_prepare()). */
			if (sl_graph_batch_add_prep(w->filling, prep[i]) != 0)
				return origin_fail(in, i);
			w->prepared++;
		} else if (writer_add_one(w, in, i) != 0) {
			return -1;
		}
		if (w->filling->n_ingestions >= w->batch_size && rotate(w) != 0)
			return -1;
	}
	return 0;
}
/**
 * Batch the records of `in`, then pass `in` on unchanged, or, as the
 * last step, keep it while a graph batch borrows from it.
 */
static int
writer_process(struct sl_step *s, struct sl_batch *in, struct sl_emit *out)
{
	struct writer *w = (struct writer *)s;
	if (in->kind == SL_BATCH_FLUSH) {
		if (rotate(w) != 0) {
			sl_batch_put(in);
			return -1;
		}
		return sl_emit_batch(out, in);
	}
	if (!w->mode_known) {
		/* Nothing was added yet: the graph batches are empty. */
		w->mode_known = true;
		w->borrow = sl_emit_keep(out, in);
		w->filling->borrow = w->borrow;
	} else if (w->borrow) {
		(void)sl_emit_keep(out, in);
	}
	if (!w->borrow) {
		if (writer_add(w, in) != 0) {
			sl_batch_put(in);
			return -1;
		}
		return sl_emit_batch(out, in);
	}
	/* Room in both lists: adding may rotate the batches, and the lists
	 * with them. */
	if (kept_reserve(&w->kept_filling) != 0 ||
	    kept_reserve(&w->kept_writing) != 0) {
		/* Nothing of `in` is referred to yet. */
		sl_batch_put(in);
		return -1;
	}
	/* Also after a failure: the graph batch may refer to its first
	 * records. The newest graph batch is written last. What it refers
	 * to is in the batch's arena: the records' shape goes back now,
	 * for the batches that come next to reuse while still in cache. */
	int rc = writer_add(w, in);
	sl_batch_drop_shape(in);
	w->kept_filling.v[w->kept_filling.n++] = in;
	return rc;
}

/**
 * Write and commit everything the writer holds: at the end of the input
 * (drain), and at a progress mark, before the runner passes it on
 * (sl_step_ops.mark).
 */
static int
writer_drain(struct sl_step *s, struct sl_emit *out)
{
	(void)out;
	struct writer *w = (struct writer *)s;
	/* Keeping positions, the last mark committed everything when the
	 * input ended; if it ended early (a stop), what came after the last
	 * mark stays uncommitted, to be written again on resume. */
	if (w->progress)
		return 0;
	if (rotate(w) != 0 || wait_inflight(w) != 0)
		return -1;
	return commit(w);
}

/**
 * A progress mark: write and commit everything before it, with its
 * position when the target keeps positions (sl_step_ops.mark).
 */
static int
writer_mark(struct sl_step *s, const struct sl_mark *m, struct sl_emit *out)
{
	(void)out;
	struct writer *w = (struct writer *)s;
	if (rotate(w) != 0 || wait_inflight(w) != 0)
		return -1;
	if (w->progress && m->pos != NULL &&
	    sl_target_progress_put(w->target, w->ckpt->key, m->pos) != 0)
		return -1;
	return commit(w);
}

/**
 * Wait for the last write, commit what is pending (also after a failure:
 * the batches written before it are kept), close the target, and log
 * what was committed.
 */
static int
writer_finish(struct sl_step *s)
{
	struct writer *w = (struct writer *)s;
	int rc = wait_inflight(w);
	if (w->target != NULL) {
		if (w->progress) {
			/* Keeping positions: everything up to the last mark
			 * is committed with it; what came after (a stop, a
			 * failure) is not, and is written again when the run
			 * resumes. */
			struct sl_diag keep;
			sl_diag_stash(&keep);
			if (sl_target_rollback(w->target) != 0) {
				char msg[600];
				sl_error_format(sl_diag_last(), msg,
				                sizeof(msg));
				sl_log_warn("step %s: %s", s->name, msg);
			}
			sl_diag_restore(&keep);
		} else if (rc == 0) {
			rc = commit(w);
		} else {
			/* The first error stays the step's; this one is
			 * logged. */
			struct sl_diag keep;
			sl_diag_stash(&keep);
			if (commit(w) != 0) {
				char msg[600];
				sl_error_format(sl_diag_last(), msg,
				                sizeof(msg));
				sl_log_error("step %s: %s", s->name, msg);
			}
			sl_diag_restore(&keep);
		}
		const struct sl_graph_counts *st = &w->stats;
		sl_log_info("step %s: %s: %" PRIu64 " batches; nodes: %" PRIu64
		            " created, %" PRIu64 " updated, %" PRIu64
		            " not matched; relationships: %" PRIu64
		            " created, %" PRIu64 " updated, %" PRIu64
		            " skipped",
		            s->name, sl_target_name(w->target), w->batches,
		            st->nodes_created, st->nodes_updated,
		            st->nodes_unmatched, st->rels_created,
		            st->rels_updated, st->rels_skipped);
		sl_log_debug("step %s: %" PRIu64 " records arrived read ahead "
		             "on worker threads",
		             s->name, w->prepared);
		if (sl_target_close(w->target) != 0 && rc == 0)
			rc = -1;
		w->target = NULL;
	}
	/* No graph batch is written any more: the records go back. */
	kept_release(&w->kept_filling);
	kept_release(&w->kept_writing);
	return rc;
}

/** Free the step. */
static void
writer_destroy(struct sl_step *s)
{
	struct writer *w = (struct writer *)s;
	sl_graph_batch_delete(w->filling);
	sl_graph_batch_delete(w->writing);
	/* finish() returned the batches (their pool is gone by now). */
	assert(w->kept_filling.n == 0 && w->kept_writing.n == 0);
	sl_free(w->kept_filling.v);
	sl_free(w->kept_writing.v);
	sl_wstats_destroy(&w->ws);
	sl_free(w->uri);
	sl_free(w);
}

/** The writer's callbacks. */
static const struct sl_step_ops writer_ops = {
        .type = "GraphDatabaseWriter",
        .start = writer_start,
        .process_batch = writer_process,
        .prepare = writer_prepare,
        .mark = writer_mark,
        .drain = writer_drain,
        .finish = writer_finish,
        .destroy = writer_destroy,
};

bool
sl_graph_writer_checkpoint(struct sl_step *s, struct sl_checkpoint *c)
{
	if (s == NULL || s->ops != &writer_ops)
		return false;
	((struct writer *)s)->ckpt = c;
	return true;
}

bool
sl_graph_writer_counts(const struct sl_step *s, struct sl_graph_counts *out,
                       const char **target)
{
	if (s == NULL || s->ops != &writer_ops)
		return false;
	const struct writer *w = (const struct writer *)s;
	*out = w->stats;
	if (target != NULL)
		*target = w->shown;
	return true;
}

bool
sl_graph_writer_metrics(const struct sl_step *s,
                        struct sl_graph_writer_metrics *out)
{
	if (s == NULL || s->ops != &writer_ops)
		return false;
	const struct writer *w = (const struct writer *)s;
	memset(out, 0, sizeof(*out));
	out->batches = w->batches;
	out->pending = w->filling != NULL ? w->filling->n_ingestions : 0;
	out->flushing = w->inflight != NULL ? 1 : 0;
	out->nodes_upserted = w->ws.nodes;
	out->rels_upserted = w->ws.rels;
	out->ttl_ops = w->ws.ttl_ops;
	out->batch_seconds = &w->ws.batch;
	out->commit_seconds = &w->ws.commit;
	out->types = w->ws.types;
	out->n_types =
	        w->ws.types != NULL
	                ? w->ws.n_types +
	                          (w->ws.types[SL_GRAPH_TYPES_COUNTED].len != 0)
	                : 0;
	return true;
}

struct sl_step *
sl_graph_writer_new(const char *uri, uint32_t batch_size, bool strict)
{
	struct writer *w = sl_calloc(1, sizeof(*w));
	if (w != NULL)
		w->uri = sl_strndup(uri, strlen(uri));
	if (w == NULL || w->uri == NULL) {
		sl_free(w);
		sl_diag_set(SL_EOOM, "out of memory for a writer");
		return NULL;
	}
	sl_step_init(&w->base, &writer_ops);
	w->batch_size = batch_size;
	w->skip_bad = !strict;
	return &w->base;
}

/**
 * Nodestream's writer options in a pipeline file's writer `a`: its
 * flush_concurrency N becomes the lanes of a PostgreSQL store (lanes=N)
 * or the connections of a Neo4j store (connections=N), appended to `uri`
 * (at most 16); for other stores, and for collect_stats and
 * ingest_strategy_name, an info line says it is ignored. 0, or -1.
 */
static int
writer_options(const struct sl_conf *a, char *uri, size_t size)
{
	static const char *const pg[] = {"postgres://", "postgresql://", NULL};
	static const char *const neo4j[] = {"bolt", "neo4j", NULL};
	const struct sl_conf *fc =
	        a ? sl_conf_get(a, "flush_concurrency") : NULL;
	if (a != NULL && sl_conf_get(a, "collect_stats") != NULL)
		sl_log_info("arguments.collect_stats: ignored; sluice always "
		            "counts what it writes (the run's summary)");
	if (a != NULL && sl_conf_get(a, "ingest_strategy_name") != NULL)
		sl_log_info("arguments.ingest_strategy_name: ignored; sluice "
		            "has one way to write a store");
	if (fc == NULL)
		return 0;
	int64_t n = 0;
	if (sl_conf_int(fc, "flush_concurrency", &n) != 0)
		return -1;
	if (n < 1) {
		sl_conf_error(fc, "flush_concurrency", "expected 1 or more");
		return -1;
	}
	const char *param = NULL;
	for (size_t i = 0; pg[i] != NULL && param == NULL; i++)
		if (strncmp(uri, pg[i], strlen(pg[i])) == 0)
			param = "lanes";
	for (size_t i = 0; neo4j[i] != NULL && param == NULL; i++)
		if (strncmp(uri, neo4j[i], strlen(neo4j[i])) == 0)
			param = "connections";
	if (param == NULL) {
		sl_log_info("arguments.flush_concurrency: ignored; this store "
		            "writes in one lane (only postgresql and neo4j "
		            "targets have lanes)");
		return 0;
	}
	if (n > 16) {
		sl_log_info("arguments.flush_concurrency: %lld lanes asked "
		            "for; sluice uses at most 16",
		            (long long)n);
		n = 16;
	}
	size_t len = strlen(uri);
	int w = snprintf(uri + len, size - len, "%c%s=%lld",
	                 strchr(uri, '?') != NULL ? '&' : '?', param,
	                 (long long)n);
	if (w < 0 || (size_t)w >= size - len) {
		sl_diag_set(SL_ELIMIT, "the writer's target URI is too long");
		return -1;
	}
	return 0;
}

/** Build a GraphDatabaseWriter from a pipeline file's step. */
static struct sl_step *
writer_create(const struct sl_stepdef *def)
{
	static const char *const keys[] = {"target",
	                                   "database",
	                                   "path",
	                                   "batch_size",
	                                   "collect_stats",
	                                   "ingest_strategy_name",
	                                   "flush_concurrency",
	                                   "on_error",
	                                   NULL};
	const struct sl_conf *a = def->arguments;
	if (sl_conf_check_keys(a, keys, "arguments", def->implementation) != 0)
		return NULL;
	const struct sl_conf *target = a ? sl_conf_get(a, "target") : NULL;
	const struct sl_conf *db = a ? sl_conf_get(a, "database") : NULL;
	const struct sl_conf *path = a ? sl_conf_get(a, "path") : NULL;
	const struct sl_conf *bs = a ? sl_conf_get(a, "batch_size") : NULL;
	const struct sl_conf *oe = a ? sl_conf_get(a, "on_error") : NULL;
	const char *t = NULL, *d = NULL, *p = NULL, *on_error = "skip";
	int64_t size = 0; /* the target's default */
	if ((target != NULL && sl_conf_str(target, "target", &t) != 0) ||
	    (db != NULL && sl_conf_str(db, "database", &d) != 0) ||
	    (path != NULL && sl_conf_str(path, "path", &p) != 0) ||
	    (bs != NULL && sl_conf_int(bs, "batch_size", &size) != 0) ||
	    (oe != NULL && sl_conf_str(oe, "on_error", &on_error) != 0))
		return NULL;
	if (strcmp(on_error, "skip") != 0 && strcmp(on_error, "fail") != 0) {
		sl_conf_error(oe, "arguments.on_error",
		              "expected 'skip' or 'fail', got '%s'", on_error);
		return NULL;
	}
	if (bs != NULL && (size < 1 || size > 10000000)) {
		sl_conf_error(bs, "batch_size", "expected 1 to 10000000");
		return NULL;
	}
	char uri[4096];
	if (t != NULL) {
		snprintf(uri, sizeof(uri), "%s", t);
	} else if (d != NULL && strcmp(d, "sqlite") == 0 && p != NULL) {
		snprintf(uri, sizeof(uri), "sqlite:%s", p);
	} else if (d != NULL && strcmp(d, "null") == 0) {
		snprintf(uri, sizeof(uri), "null:");
	} else {
		sl_conf_error(a != NULL ? a : def->node, "arguments",
		              "the writer needs a target URI (target: "
		              "sqlite:PATH), or database: sqlite with a path, "
		              "or database: null%s%s",
		              d != NULL ? "; got database: " : "",
		              d != NULL ? d : "");
		return NULL;
	}
	if (writer_options(a, uri, sizeof(uri)) != 0)
		return NULL;
	return sl_graph_writer_new(uri, (uint32_t)size,
	                           def->strict ||
	                                   strcmp(on_error, "fail") == 0);
}

/** Implementation names of the writer. */
static const char *const writer_names[] = {
        "writer", "nodestream.databases:GraphDatabaseWriter",
        "nodestream.databases.writer:GraphDatabaseWriter", NULL};

/** Its factories. */
static const char *const writer_factories[] = {"from_file_data", NULL};

/** The GraphDatabaseWriter step type. */
static const struct sl_step_type writer_type = {
        .names = writer_names,
        .factories = writer_factories,
        .factory_optional = true,
        .create = writer_create,
        .summary = "writes desired ingestions to a graph target "
                   "(sqlite:PATH, null:)",
};

int
sl_graph_register(void)
{
	if (sl_registry_find("writer") != NULL)
		return 0;
	return sl_registry_add(&writer_type);
}

/** Write one exported object and a newline to the FILE. */
static int
export_line(void *arg, const char *json, size_t len)
{
	FILE *out = arg;
	if (fwrite(json, 1, len, out) != len || fputc('\n', out) == EOF) {
		sl_diag_set_errno("cannot write the export");
		return -1;
	}
	return 0;
}

int
sl_graph_export(const char *uri, FILE *out)
{
	struct sl_target *t = sl_target_open_ro(uri);
	if (t == NULL)
		return -1;
	int rc = sl_target_export(t, export_line, out);
	if (rc == 0 && fflush(out) != 0) {
		sl_diag_set_errno("cannot write the export");
		rc = -1;
	}
	if (sl_target_close(t) != 0 && rc == 0)
		rc = -1;
	return rc;
}

int
sl_graph_migrations(const char *uri, const struct sl_schema *schema,
                    int (*fn)(void *arg, const char *name, bool applied),
                    void *arg)
{
	struct sl_target *t = sl_target_open(uri);
	if (t == NULL)
		return -1;
	int rc = sl_target_migrations(t, schema, fn, arg);
	if (sl_target_close(t) != 0 && rc == 0)
		rc = -1;
	return rc;
}

int
sl_graph_migrate(const char *uri, const struct sl_schema *schema,
                 uint32_t *applied, uint32_t *kept)
{
	struct sl_target *t = sl_target_open(uri);
	if (t == NULL)
		return -1;
	int rc = sl_target_migrate(t, schema, applied, kept);
	if (sl_target_close(t) != 0 && rc == 0)
		rc = -1;
	return rc;
}
