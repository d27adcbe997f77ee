/*
 * The metrics of `sluice run`: the Prometheus endpoint (--prometheus),
 * the progress line, and what the summary and --metrics-file add (wall
 * and CPU time, peak RSS, per-target write statistics).
 *
 * Nothing here counts on the hot path. Every reading is gathered when it
 * is asked for, on the loop thread, from the counters the layers keep
 * next to what they count: a step's stats (sluice/step.h, counted by the
 * runner on the loop thread, also for steps on worker threads), the
 * outboxes (sl_pipeline_outbox()), a writer's metrics
 * (sl_graph_writer_metrics(), counted once per write batch), the database
 * layer's per-database counters (sluice/dbstats.h, once per operation), a
 * FileExtractor's bytes (sl_file_extractor_bytes()) and the process's
 * usage (sl_proc_read()). The metric names, Nodestream's and sluice's,
 * are listed in docs/nodestream.md ("Metrics").
 *
 * A project run has one sl_cli_metrics for all its pipelines, run one
 * after the other: Nodestream's unlabelled totals (records,
 * nodes_upserted, ...) add up over them, as Nodestream's do in one
 * process; the labelled per-step metrics describe the pipeline running
 * now. The HTTP server lives on each pipeline's loop (sl_cli_metrics_serve()
 * at its start, sl_cli_metrics_unserve() at its end).
 */
#ifndef SLUICE_CLI_METRICS_H
#define SLUICE_CLI_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/buf.h"
#include "sluice/graph.h"
#include "sluice/httpd.h"
#include "sluice/metrics.h"
#include "sluice/pipeline.h"

/** Nodestream's unlabelled totals, summed over pipelines that ended. */
struct sl_cli_totals {
	/** Records that left the last step (`records`). */
	uint64_t records;
	/** Non-fatal errors and skipped records (`non_fatal_errors`). */
	uint64_t non_fatal;
	/** Steps that failed (`fatal_errors`). */
	uint64_t fatal;
	/** Node writes accepted (`nodes_upserted`). */
	uint64_t nodes;
	/** Relationship writes accepted (`relationships_upserted`). */
	uint64_t rels;
	/** TTL operations (`time_to_live_operations`). */
	uint64_t ttl_ops;
	/** Records through writer steps (`records_written`). */
	uint64_t written;
};

/** How progress is shown. */
enum sl_cli_progress_mode {
	SL_PROGRESS_TTY,   /**< one line redrawn in place */
	SL_PROGRESS_PLAIN, /**< an info log line per report */
	SL_PROGRESS_JSON,  /**< a JSON object per report (--json) */
};

/** The metrics of one `sluice run` command. */
struct sl_cli_metrics {
	/** The pipeline running now, or NULL. */
	struct sl_pipeline *p;
	/** Its file, as shown (label `pipeline`). */
	const char *pipeline;
	/** Totals of the pipelines that ended. */
	struct sl_cli_totals done;
	/** Per-type counts of the pipelines that ended (malloc'd, up to
	 * SL_GRAPH_TYPES_COUNTED + 1 entries, or NULL). */
	struct sl_graph_type_count *done_types;
	/** Entries of `done_types` in use. */
	uint32_t n_done_types;
	/** The server while a pipeline runs, or NULL. */
	struct sl_httpd *httpd;
	/** sl_clock() when the current pipeline's job began. */
	double wall0;
	/** The process's usage then. */
	struct sl_proc_usage u0;
	/** Progress: sl_clock() of the last report (0: none yet). */
	double last_t;
	/** Progress: records read at the last report. */
	uint64_t last_n;
	/** Scrapes answered. */
	uint64_t scrapes;
};

/** Start the metrics of the job running `p` (its file `name`). */
void sl_cli_metrics_begin(struct sl_cli_metrics *m, struct sl_pipeline *p,
                          const char *name);

/** The job ended (after the summary): add its totals to m->done. */
void sl_cli_metrics_end(struct sl_cli_metrics *m);

/** Free what `m` holds. */
void sl_cli_metrics_destroy(struct sl_cli_metrics *m);

/**
 * Serve /metrics on the calling task's loop with options `o`. 0, or -1
 * with an error (a port in use names the address and port).
 */
int sl_cli_metrics_serve(struct sl_cli_metrics *m,
                         const struct sl_httpd_opts *o);

/** Stop serving (no-op when not serving). */
void sl_cli_metrics_unserve(struct sl_cli_metrics *m);

/**
 * Append the Prometheus text exposition of everything to `b`. 0, or -1
 * when `b` is full.
 */
int sl_cli_metrics_expose(struct sl_cli_metrics *m, struct sl_buf *b);

/** Write one progress report to stderr in `mode`. */
void sl_cli_progress(struct sl_cli_metrics *m, enum sl_cli_progress_mode mode);

/**
 * Append the job's end-of-run members to a JSON summary object in `b`
 * (,"wall":...,"cpu":{...},"rss_peak":...,"targets":[...]).
 */
void sl_cli_metrics_json(struct sl_cli_metrics *m, struct sl_buf *b);

/** Print the job's end-of-run lines of the text summary to `out`. */
void sl_cli_metrics_text(struct sl_cli_metrics *m, FILE *out);

#endif /* SLUICE_CLI_METRICS_H */
