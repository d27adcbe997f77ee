/*
 * The metrics of `sluice run` (see metrics.h).
 */
#include "metrics.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "sluice/alloc.h"
#include "sluice/dbstats.h"
#include "sluice/diag.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/steps.h"
#include "sluice/task.h"

/** Most bytes of one exposition. */
#define EXPOSITION_MAX ((size_t)8 << 20)

/** The content type of the text exposition format. */
#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* --- gathering ---------------------------------------------------------- */

/** What the running pipeline adds to Nodestream's totals now. */
static void
live_totals(struct sl_pipeline *p, struct sl_cli_totals *t)
{
	memset(t, 0, sizeof(*t));
	if (p == NULL)
		return;
	t->records = sl_pipeline_records_out(p);
	for (uint32_t i = 0; i < sl_pipeline_step_count(p); i++) {
		struct sl_step *s = sl_pipeline_step(p, i);
		t->non_fatal += s->stats.errors + s->stats.skipped;
		t->fatal += s->failed ? 1 : 0;
		struct sl_graph_writer_metrics wm;
		if (sl_graph_writer_metrics(s, &wm)) {
			t->nodes += wm.nodes_upserted;
			t->rels += wm.rels_upserted;
			t->ttl_ops += wm.ttl_ops;
			t->written += s->stats.in;
		}
	}
}

/** Records the first step has emitted (the records read). */
static uint64_t
records_read(struct sl_pipeline *p)
{
	return p != NULL && sl_pipeline_step_count(p) > 0
	               ? sl_pipeline_step(p, 0)->stats.out
	               : 0;
}

/**
 * Bytes the pipeline's FileExtractors read and their total; *total is 0
 * when one of them does not know its total.
 */
static void
bytes_read(struct sl_pipeline *p, uint64_t *read, uint64_t *total)
{
	*read = *total = 0;
	bool known = true, any = false;
	for (uint32_t i = 0; p != NULL && i < sl_pipeline_step_count(p); i++) {
		uint64_t r, t;
		if (!sl_file_extractor_bytes(sl_pipeline_step(p, i), &r, &t))
			continue;
		any = true;
		*read += r;
		*total += t;
		known &= t > 0;
	}
	if (!any || !known)
		*total = 0;
}

/** Add writer counts `c` into the table (*v, *n). */
static void
types_add(struct sl_graph_type_count **v, uint32_t *n,
          const struct sl_graph_type_count *c)
{
	for (uint32_t i = 0; i < *n; i++) {
		struct sl_graph_type_count *e = &(*v)[i];
		if (e->rel == c->rel && e->len == c->len &&
		    memcmp(e->type, c->type, c->len) == 0) {
			e->upserted += c->upserted;
			return;
		}
	}
	if (*v == NULL) {
		*v = sl_calloc(SL_GRAPH_TYPES_COUNTED + 1, sizeof(**v));
		if (*v == NULL) {
			sl_diag_clear(sl_diag_get());
			return;
		}
	}
	if (*n == SL_GRAPH_TYPES_COUNTED + 1)
		return;
	(*v)[(*n)++] = *c;
}

/**
 * The per-type counts of the pipelines that ended plus the running one's:
 * a new table in *out (free it), its size the result.
 */
static uint32_t
all_types(struct sl_cli_metrics *m, struct sl_graph_type_count **out)
{
	struct sl_graph_type_count *v = NULL;
	uint32_t n = 0;
	for (uint32_t i = 0; i < m->n_done_types; i++)
		types_add(&v, &n, &m->done_types[i]);
	for (uint32_t i = 0; m->p != NULL && i < sl_pipeline_step_count(m->p);
	     i++) {
		struct sl_graph_writer_metrics wm;
		if (!sl_graph_writer_metrics(sl_pipeline_step(m->p, i), &wm))
			continue;
		for (uint32_t k = 0; k < wm.n_types; k++)
			types_add(&v, &n, &wm.types[k]);
	}
	*out = v;
	return n;
}

void
sl_cli_metrics_begin(struct sl_cli_metrics *m, struct sl_pipeline *p,
                     const char *name)
{
	m->p = p;
	m->pipeline = name;
	m->wall0 = sl_clock();
	sl_proc_read_cpu(&m->u0);
	m->last_t = 0;
	m->last_n = 0;
}

void
sl_cli_metrics_end(struct sl_cli_metrics *m)
{
	struct sl_graph_type_count *v;
	uint32_t n = all_types(m, &v);
	sl_free(m->done_types);
	m->done_types = v;
	m->n_done_types = n;
	struct sl_cli_totals t;
	live_totals(m->p, &t);
	m->done.records += t.records;
	m->done.non_fatal += t.non_fatal;
	m->done.fatal += t.fatal;
	m->done.nodes += t.nodes;
	m->done.rels += t.rels;
	m->done.ttl_ops += t.ttl_ops;
	m->done.written += t.written;
	m->p = NULL;
}

void
sl_cli_metrics_destroy(struct sl_cli_metrics *m)
{
	sl_free(m->done_types);
	m->done_types = NULL;
	m->n_done_types = 0;
}

/* --- the exposition ----------------------------------------------------- */

/** The text of label `name="value"` with the value escaped. */
static int
label(struct sl_buf *b, const char *name, const char *value)
{
	if (sl_buf_printf(b, "%s=\"", name) != 0 ||
	    sl_prom_label(b, value) != 0)
		return -1;
	return sl_buf_putc(b, '"');
}

/** One unlabelled sample with its HELP and TYPE. */
static int
simple(struct sl_buf *b, const char *name, const char *type, const char *help,
       double v)
{
	if (sl_prom_head(b, name, type, help) != 0)
		return -1;
	return sl_buf_printf(b, "%s %.17g\n", name, v);
}

/** A sample `name{step="..",pipeline=".."} v` of step `s`. */
static int
step_sample(struct sl_buf *b, struct sl_cli_metrics *m, const char *name,
            const struct sl_step *s, uint64_t v)
{
	if (sl_buf_printf(b, "%s{", name) != 0 || label(b, "step", s->name) ||
	    sl_buf_putc(b, ',') != 0 || label(b, "pipeline", m->pipeline) != 0)
		return -1;
	return sl_buf_printf(b, "} %" PRIu64 "\n", v);
}

/** The labelled per-step metrics. */
static int
expose_steps(struct sl_cli_metrics *m, struct sl_buf *b)
{
	/* Each family: its name, Prometheus type and help text. */
	static const struct {
		const char *name, *type, *help;
	} heads[] = {
	        {"sluice_step_records_in_total", "counter",
	         "Records a step received"},
	        {"sluice_step_records_out_total", "counter",
	         "Records a step emitted"},
	        {"sluice_step_errors_total", "counter",
	         "Non-fatal errors a step reported"},
	        {"sluice_step_skipped_total", "counter",
	         "Input records a step skipped"},
	        {"sluice_step_failed", "gauge",
	         "1 when the step stopped on a fatal error"},
	};
	struct sl_pipeline *p = m->p;
	uint32_t n = p != NULL ? sl_pipeline_step_count(p) : 0;
	for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		if (n == 0)
			break;
		if (sl_prom_head(b, heads[h].name, heads[h].type,
		                 heads[h].help) != 0)
			return -1;
		for (uint32_t i = 0; i < n; i++) {
			const struct sl_step *s = sl_pipeline_step(p, i);
			uint64_t v = h == 0   ? s->stats.in
			             : h == 1 ? s->stats.out
			             : h == 2 ? s->stats.errors
			             : h == 3 ? s->stats.skipped
			                      : (uint64_t)s->failed;
			if (step_sample(b, m, heads[h].name, s, v) != 0)
				return -1;
		}
	}
	/* Outboxes: sluice's, labelled, and Nodestream's buffered_A_i_to_B_j
	 * (records in the channel from step i to step j = i + 1). */
	if (n > 1) {
		const char *names[3] = {"sluice_outbox_records",
		                        "sluice_outbox_batches",
		                        "sluice_outbox_capacity_batches"};
		const char *helps[3] = {
		        "Records buffered in the outbox after the step",
		        "Batches buffered in the outbox after the step",
		        ("Batches the outbox after the step holds before its "
		         "sender waits")};
		for (int k = 0; k < 3; k++) {
			if (sl_prom_head(b, names[k], "gauge", helps[k]) != 0)
				return -1;
			for (uint32_t i = 0; i + 1 < n; i++) {
				struct sl_pipeline_outbox ob;
				(void)sl_pipeline_outbox(p, i, &ob);
				uint64_t v = k == 0   ? ob.records
				             : k == 1 ? ob.batches
				                      : ob.capacity;
				if (step_sample(b, m, names[k],
				                sl_pipeline_step(p, i), v) != 0)
					return -1;
			}
		}
		for (uint32_t i = 0; i + 1 < n; i++) {
			char raw[256], name[256];
			struct sl_pipeline_outbox ob;
			(void)sl_pipeline_outbox(p, i, &ob);
			snprintf(raw, sizeof(raw), "buffered_%s_%u_to_%s_%u",
			         sl_pipeline_step(p, i)->ops->type, i,
			         sl_pipeline_step(p, i + 1)->ops->type, i + 1);
			sl_prom_name(raw, name, sizeof(name));
			if (simple(b, name, "gauge",
			           "Records buffered between two steps",
			           (double)ob.records) != 0)
				return -1;
		}
	}
	uint64_t r, t;
	bytes_read(p, &r, &t);
	if (simple(b, "sluice_source_bytes_read", "gauge",
	           "Bytes the FileExtractors read so far (as stored)",
	           (double)r) != 0 ||
	    simple(b, "sluice_source_bytes_total", "gauge",
	           "Bytes of the FileExtractors' local files (0: not known)",
	           (double)t) != 0 ||
	    simple(b, "sluice_records_read", "gauge",
	           "Records the first step emitted",
	           (double)records_read(p)) != 0 ||
	    simple(b, "sluice_run_elapsed_seconds", "gauge",
	           "Seconds since the running pipeline started",
	           p != NULL ? sl_pipeline_elapsed(p) : 0) != 0)
		return -1;
	return 0;
}

/** A writer's labels: step, target and pipeline. */
static int
writer_labels(struct sl_buf *b, struct sl_cli_metrics *m,
              const struct sl_step *s, const char *target)
{
	if (label(b, "step", s->name) != 0 || sl_buf_putc(b, ',') != 0 ||
	    label(b, "target", target) != 0 || sl_buf_putc(b, ',') != 0)
		return -1;
	return label(b, "pipeline", m->pipeline);
}

/** The per-target metrics of the running pipeline's writers. */
static int
expose_writers(struct sl_cli_metrics *m, struct sl_buf *b)
{
	struct sl_pipeline *p = m->p;
	uint32_t n = p != NULL ? sl_pipeline_step_count(p) : 0;
	bool head = false;
	struct sl_buf labels;
	sl_buf_create(&labels, 4096);
	int rc = 0;
	/* Committed counts, one family per kind of outcome. */
	static const char *const outcomes[] = {"created",   "updated",
	                                       "unmatched", "created",
	                                       "updated",   "skipped"};
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		head = false;
		const char *fam = pass == 0 ? "sluice_nodes_committed_total"
		                            : "sluice_relationships_committed_"
		                              "total";
		for (uint32_t i = 0; i < n && rc == 0; i++) {
			const struct sl_step *s = sl_pipeline_step(p, i);
			struct sl_graph_counts c;
			const char *target;
			if (!sl_graph_writer_counts(s, &c, &target))
				continue;
			if (!head) {
				rc |= sl_prom_head(
				        b, fam, "counter",
				        pass == 0 ? "Node writes committed, by "
				                    "outcome"
				                  : "Relationship writes "
				                    "committed, by outcome");
				head = true;
			}
			uint64_t v[6] = {c.nodes_created,   c.nodes_updated,
			                 c.nodes_unmatched, c.rels_created,
			                 c.rels_updated,    c.rels_skipped};
			for (int k = pass * 3; k < pass * 3 + 3 && rc == 0;
			     k++) {
				sl_buf_reset(&labels);
				rc |= writer_labels(&labels, m, s, target);
				rc |= sl_buf_printf(
				        b,
				        "%s{%s,outcome=\"%s\"} %" PRIu64 "\n",
				        fam, labels.data ? labels.data : "",
				        outcomes[k], v[k]);
			}
		}
	}
	/* Batches, latencies, upserts by type. */
	/* Each family: its name, Prometheus type and help text. */
	static const struct {
		const char *name, *type, *help;
	} heads[] = {
	        {"sluice_write_batches_total", "counter",
	         "Write batches handed to the target"},
	        {"sluice_write_pending_ingestions", "gauge",
	         "Desired ingestions in the batch being filled"},
	        {"sluice_write_batch_seconds", "histogram",
	         "Seconds to write one batch (accepted batches)"},
	        {"sluice_commit_seconds", "histogram",
	         "Seconds to commit what the target held"},
	        {"sluice_upserted_total", "counter",
	         "Node and relationship writes in accepted batches, by type"},
	};
	for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]) && rc == 0;
	     h++) {
		head = false;
		for (uint32_t i = 0; i < n && rc == 0; i++) {
			const struct sl_step *s = sl_pipeline_step(p, i);
			struct sl_graph_writer_metrics wm;
			struct sl_graph_counts c;
			const char *target;
			if (!sl_graph_writer_metrics(s, &wm) ||
			    !sl_graph_writer_counts(s, &c, &target))
				continue;
			if (!head) {
				rc |= sl_prom_head(b, heads[h].name,
				                   heads[h].type,
				                   heads[h].help);
				head = true;
			}
			sl_buf_reset(&labels);
			rc |= writer_labels(&labels, m, s, target);
			const char *l = labels.data ? labels.data : "";
			if (h == 0)
				rc |= sl_buf_printf(b, "%s{%s} %" PRIu64 "\n",
				                    heads[h].name, l,
				                    wm.batches);
			else if (h == 1)
				rc |= sl_buf_printf(b, "%s{%s} %" PRIu64 "\n",
				                    heads[h].name, l,
				                    wm.pending);
			else if (h == 2)
				rc |= sl_prom_hist(b, heads[h].name, l,
				                   wm.batch_seconds);
			else if (h == 3)
				rc |= sl_prom_hist(b, heads[h].name, l,
				                   wm.commit_seconds);
			for (uint32_t k = 0;
			     h == 4 && k < wm.n_types && rc == 0; k++) {
				rc |= sl_buf_printf(b, "%s{%s,kind=\"%s\",",
				                    heads[h].name, l,
				                    wm.types[k].rel
				                            ? "relationship"
				                            : "node");
				rc |= label(b, "type", wm.types[k].type);
				rc |= sl_buf_printf(b, "} %" PRIu64 "\n",
				                    wm.types[k].upserted);
			}
		}
	}
	sl_buf_destroy(&labels);
	return rc != 0 ? -1 : 0;
}

/** What sl_db_stats_each() reports into. */
struct db_walk {
	/** The exposition. */
	struct sl_buf *b;
	/** Which family: 0 connections, 1 operations. */
	int family;
	/** A write failed. */
	int rc;
};

/** One database's samples of family w->family. */
static void
db_one(void *arg, const char *database, const struct sl_db_stats *st)
{
	struct db_walk *w = arg;
	struct sl_buf l;
	sl_buf_create(&l, 4096);
	w->rc |= label(&l, "database", database);
	const char *ls = l.data ? l.data : "";
	if (w->family == 0) {
		int64_t v[3] = {
		        atomic_load_explicit(&st->open, memory_order_relaxed),
		        atomic_load_explicit(&st->busy, memory_order_relaxed),
		        atomic_load_explicit(&st->held, memory_order_relaxed)};
		static const char *const state[3] = {"open", "busy", "held"};
		for (int k = 0; k < 3; k++)
			w->rc |= sl_buf_printf(
			        w->b,
			        "sluice_db_connections{%s,state=\"%s\"} %lld\n",
			        ls, state[k], (long long)v[k]);
	} else {
		w->rc |= sl_prom_hist(w->b, "sluice_db_operation_seconds", ls,
		                      &st->ops);
	}
	sl_buf_destroy(&l);
}

/** The database layer's metrics. */
static int
expose_db(struct sl_buf *b)
{
	struct db_walk w = {.b = b};
	w.rc |= sl_prom_head(b, "sluice_db_connections", "gauge",
	                     "Database connections: open, busy (inside an "
	                     "operation), held (handed out by a pool)");
	sl_db_stats_each(db_one, &w);
	w.family = 1;
	w.rc |= sl_prom_head(b, "sluice_db_operation_seconds", "histogram",
	                     "Seconds per database operation (a statement, "
	                     "a COPY, a pipeline step, a SQLite job)");
	sl_db_stats_each(db_one, &w);
	return w.rc != 0 ? -1 : 0;
}

/** Nodestream's unlabelled metrics. */
static int
expose_nodestream(struct sl_cli_metrics *m, struct sl_buf *b)
{
	struct sl_cli_totals t;
	live_totals(m->p, &t);
	int rc = 0;
	rc |= simple(b, "records", "gauge", "Number of records processed",
	             (double)(m->done.records + t.records));
	rc |= simple(b, "non_fatal_errors", "gauge",
	             "Number of non-fatal errors",
	             (double)(m->done.non_fatal + t.non_fatal));
	rc |= simple(b, "fatal_errors", "gauge", "Number of fatal errors",
	             (double)(m->done.fatal + t.fatal));
	rc |= simple(b, "nodes_upserted", "gauge",
	             "Number of nodes upserted to the graph",
	             (double)(m->done.nodes + t.nodes));
	rc |= simple(b, "relationships_upserted", "gauge",
	             "Number of relationships upserted to the graph",
	             (double)(m->done.rels + t.rels));
	rc |= simple(b, "time_to_live_operations", "gauge",
	             "Number of time-to-live operations executed",
	             (double)(m->done.ttl_ops + t.ttl_ops));
	rc |= simple(b, "records_written", "gauge",
	             "Number of records written by writer steps across all "
	             "writer implementations",
	             (double)(m->done.written + t.written));
	bool running = m->p != NULL && sl_pipeline_elapsed(m->p) > 0;
	rc |= simple(b, "steps_running", "gauge",
	             "Number of steps currently running in the pipeline",
	             running ? (double)sl_pipeline_step_count(m->p) : 0);
	uint64_t pending = 0, flushing = 0;
	for (uint32_t i = 0; m->p != NULL && i < sl_pipeline_step_count(m->p);
	     i++) {
		struct sl_graph_writer_metrics wm;
		if (sl_graph_writer_metrics(sl_pipeline_step(m->p, i), &wm)) {
			pending += wm.pending;
			flushing += wm.flushing;
		}
	}
	rc |= simple(b, "writer_pending_records", "gauge",
	             "Number of records pending in the writer",
	             (double)pending);
	rc |= simple(b, "writer_active_flush_lanes", "gauge",
	             "Number of active background flush tasks in the writer",
	             (double)flushing);
	struct sl_graph_type_count *v;
	uint32_t n = all_types(m, &v);
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		char raw[256], name[300], help[300];
		snprintf(raw, sizeof(raw), "%s%s",
		         v[i].rel ? "relationships_upserted_by_relationship_"
		                    "type_"
		                  : "nodes_upserted_by_type_",
		         v[i].type);
		sl_prom_name(raw, name, sizeof(name));
		snprintf(help, sizeof(help), "Number of %s upserted by %stype",
		         v[i].rel ? "relationships" : "nodes",
		         v[i].rel ? "relationship " : "");
		rc |= simple(b, name, "gauge", help, (double)v[i].upserted);
	}
	sl_free(v);
	return rc != 0 ? -1 : 0;
}

/** The process's metrics, with the names of Prometheus's clients. */
static int
expose_process(struct sl_buf *b)
{
	struct sl_proc_usage u;
	sl_proc_read(&u);
	int rc = 0;
	rc |= simple(b, "process_cpu_seconds_total", "counter",
	             "Total user and system CPU time spent in seconds.",
	             u.cpu_user + u.cpu_system);
	rc |= simple(b, "process_resident_memory_bytes", "gauge",
	             "Resident memory size in bytes.", (double)u.rss);
	rc |= simple(b, "process_virtual_memory_bytes", "gauge",
	             "Virtual memory size in bytes.", (double)u.vsize);
	rc |= simple(b, "sluice_process_peak_resident_memory_bytes", "gauge",
	             "Peak resident memory size in bytes.", (double)u.rss_peak);
	rc |= simple(b, "process_start_time_seconds", "gauge",
	             "Start time of the process since unix epoch in seconds.",
	             u.start_time);
	rc |= simple(b, "process_open_fds", "gauge",
	             "Number of open file descriptors.", (double)u.open_fds);
	rc |= simple(b, "process_max_fds", "gauge",
	             "Maximum number of open file descriptors.",
	             (double)u.max_fds);
	return rc != 0 ? -1 : 0;
}

int
sl_cli_metrics_expose(struct sl_cli_metrics *m, struct sl_buf *b)
{
	if (expose_nodestream(m, b) != 0 || expose_steps(m, b) != 0 ||
	    expose_writers(m, b) != 0 || expose_db(b) != 0 ||
	    expose_process(b) != 0)
		return -1;
	return sl_buf_printf(b,
	                     "# HELP sluice_build_info sluice's version\n"
	                     "# TYPE sluice_build_info gauge\n"
	                     "sluice_build_info{version=\"%s\"} 1\n",
	                     SLUICE_VERSION);
}

/** The HTTP handler: /metrics (and /), else 404. */
static int
serve(void *arg, const char *path, struct sl_buf *body, const char **type)
{
	struct sl_cli_metrics *m = arg;
	size_t n = strcspn(path, "?");
	if (!((n == 8 && memcmp(path, "/metrics", 8) == 0) ||
	      (n == 1 && path[0] == '/')))
		return 404;
	m->scrapes++;
	if (sl_cli_metrics_expose(m, body) != 0) {
		sl_diag_clear(sl_diag_get());
		sl_buf_destroy(body);
		sl_buf_create(body, 256);
		(void)sl_buf_puts(body, "the metrics do not fit in the "
		                        "response\n");
		return 500;
	}
	*type = PROM_TYPE;
	return 200;
}

int
sl_cli_metrics_serve(struct sl_cli_metrics *m, const struct sl_httpd_opts *o)
{
	struct sl_httpd_opts opts = *o;
	opts.response_max = EXPOSITION_MAX;
	m->httpd = sl_httpd_open(&opts, serve, m);
	if (m->httpd == NULL) {
		sl_diag_wrap(sl_diag_code(), "--prometheus");
		return -1;
	}
	sl_log_info("prometheus: serving %s://%s:%d/metrics",
	            o->certfile != NULL ? "https" : "http", o->address,
	            sl_httpd_port(m->httpd));
	return 0;
}

void
sl_cli_metrics_unserve(struct sl_cli_metrics *m)
{
	sl_httpd_close(m->httpd);
	m->httpd = NULL;
}

/* --- progress ----------------------------------------------------------- */

/** Format `bytes` as "12.3 MB" into out. */
static void
fmt_bytes(double bytes, char *out, size_t size)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	int u = 0;
	while (bytes >= 1000 && u < 4) {
		bytes /= 1000;
		u++;
	}
	snprintf(out, size, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
}

/** Format seconds as "1:02:03" or "2:03" into out. */
static void
fmt_eta(double secs, char *out, size_t size)
{
	uint64_t s = (uint64_t)(secs + 0.5);
	if (s >= 3600)
		snprintf(out, size, "%" PRIu64 ":%02u:%02u", s / 3600,
		         (unsigned)(s / 60 % 60), (unsigned)(s % 60));
	else
		snprintf(out, size, "%u:%02u", (unsigned)(s / 60),
		         (unsigned)(s % 60));
}

void
sl_cli_progress(struct sl_cli_metrics *m, enum sl_cli_progress_mode mode)
{
	struct sl_pipeline *p = m->p;
	if (p == NULL)
		return;
	double now = sl_clock();
	double secs = sl_pipeline_elapsed(p);
	uint64_t n = records_read(p);
	/* The rate since the last report (the first: since the start). */
	double span = m->last_t > 0 ? now - m->last_t : secs;
	uint64_t since = n - (m->last_t > 0 ? m->last_n : 0);
	double rate = span > 0 ? (double)since / span : 0;
	m->last_t = now;
	m->last_n = n;
	uint64_t rd, total;
	bytes_read(p, &rd, &total);
	double eta = -1;
	if (total > 0 && rd > 0 && secs > 0)
		eta = rd >= total ? 0
		                  : (double)(total - rd) * secs / (double)rd;
	char bytes[96] = "", etas[48] = "";
	if (total > 0) {
		char x[32], y[32];
		fmt_bytes((double)rd, x, sizeof(x));
		fmt_bytes((double)total, y, sizeof(y));
		snprintf(bytes, sizeof(bytes), "%s / %s (%.0f%%)", x, y,
		         100.0 * (double)rd / (double)total);
	} else if (rd > 0) {
		fmt_bytes((double)rd, bytes, sizeof(bytes));
	}
	if (eta >= 0)
		fmt_eta(eta, etas, sizeof(etas));
	if (mode == SL_PROGRESS_TTY) {
		fprintf(stderr,
		        "\r\033[K%" PRIu64 " records  %.0f records/s%s%s%s%s  "
		        "%.1f s",
		        n, rate, bytes[0] ? "  " : "", bytes,
		        etas[0] ? "  ETA " : "", etas, secs);
		fflush(stderr);
		return;
	}
	char msg[512];
	snprintf(msg, sizeof(msg),
	         "progress: %" PRIu64 " records, %.0f records/s%s%s%s%s, "
	         "%.1f s elapsed",
	         n, rate, bytes[0] ? ", read " : "", bytes,
	         etas[0] ? ", ETA " : "", etas, secs);
	if (mode == SL_PROGRESS_PLAIN) {
		sl_log_info("%s", msg);
		return;
	}
	/* A log line of --json's form, with the numbers as members. */
	struct timespec ts;
	char when[64];
	clock_gettime(CLOCK_REALTIME, &ts);
	(void)sl_time_utc(&ts, 3, when, sizeof(when));
	fprintf(stderr,
	        "{\"ts\":\"%s\",\"level\":\"info\",\"task\":\"progress\","
	        "\"event\":\"progress\",\"msg\":\"%s\",\"records\":%" PRIu64
	        ",\"records_per_second\":%.1f,\"elapsed\":%.3f",
	        when, msg, n, rate, secs);
	if (rd > 0 || total > 0)
		fprintf(stderr, ",\"bytes_read\":%" PRIu64, rd);
	if (total > 0)
		fprintf(stderr, ",\"bytes_total\":%" PRIu64, total);
	if (eta >= 0)
		fprintf(stderr, ",\"eta_seconds\":%.1f", eta);
	fprintf(stderr, "}\n");
	fflush(stderr);
}

/* --- end of run --------------------------------------------------------- */

/** Mean seconds of histogram `h` (0 when empty). */
static double
hist_mean(const struct sl_hist *h)
{
	uint64_t c = sl_hist_count(h);
	return c > 0 ? sl_hist_sum(h) / (double)c : 0;
}

/**
 * The bound of the bucket holding quantile `q` of `h` (an upper bound of
 * it; INFINITY in the last bucket, 0 when empty).
 */
static double
hist_quantile(const struct sl_hist *h, double q)
{
	uint64_t c = sl_hist_count(h), cum = 0;
	if (c == 0)
		return 0;
	uint64_t want = (uint64_t)((double)c * q + 0.999999);
	for (int i = 0; i < SL_HIST_BUCKETS; i++) {
		cum += atomic_load_explicit(&h->bucket[i],
		                            memory_order_relaxed);
		if (cum >= want)
			return sl_hist_bounds[i];
	}
	return -1; /* above the last bound */
}

/** Append histogram `h` as a JSON object to `b`. */
static void
json_hist(struct sl_buf *b, const char *key, const struct sl_hist *h)
{
	double p99 = hist_quantile(h, 0.99);
	(void)sl_buf_printf(b,
	                    ",\"%s\":{\"count\":%" PRIu64
	                    ",\"sum\":%.6f,\"mean\":%.6f,\"p99_le\":",
	                    key, sl_hist_count(h), sl_hist_sum(h),
	                    hist_mean(h));
	if (p99 < 0)
		(void)sl_buf_puts(b, "null}");
	else
		(void)sl_buf_printf(b, "%g}", p99);
}

/** Append `s` as a JSON string. */
static void
json_str(struct sl_buf *b, const char *s)
{
	struct sl_value v = sl_str_ref(s, (uint32_t)strlen(s));
	(void)sl_json_write(b, &v, 0);
}

void
sl_cli_metrics_json(struct sl_cli_metrics *m, struct sl_buf *b)
{
	struct sl_proc_usage u;
	sl_proc_read_cpu(&u);
	(void)sl_buf_printf(b,
	                    ",\"wall\":%.3f,\"cpu\":{\"user\":%.3f,"
	                    "\"system\":%.3f},\"rss_peak\":%" PRIu64,
	                    sl_clock() - m->wall0, u.cpu_user - m->u0.cpu_user,
	                    u.cpu_system - m->u0.cpu_system, u.rss_peak);
	uint64_t rd, total;
	bytes_read(m->p, &rd, &total);
	if (rd > 0 || total > 0)
		(void)sl_buf_printf(b, ",\"bytes_read\":%" PRIu64, rd);
	(void)sl_buf_puts(b, ",\"targets\":[");
	bool first = true;
	for (uint32_t i = 0; m->p != NULL && i < sl_pipeline_step_count(m->p);
	     i++) {
		const struct sl_step *s = sl_pipeline_step(m->p, i);
		struct sl_graph_writer_metrics wm;
		struct sl_graph_counts c;
		const char *target;
		if (!sl_graph_writer_metrics(s, &wm) ||
		    !sl_graph_writer_counts(s, &c, &target))
			continue;
		(void)sl_buf_puts(b, first ? "{\"step\":" : ",{\"step\":");
		first = false;
		json_str(b, s->name);
		(void)sl_buf_puts(b, ",\"target\":");
		json_str(b, target);
		(void)sl_buf_printf(
		        b,
		        ",\"batches\":%" PRIu64 ",\"nodes_upserted\":%" PRIu64
		        ",\"relationships_upserted\":%" PRIu64
		        ",\"ttl_operations\":%" PRIu64
		        ",\"committed\":{\"nodes_created\":%" PRIu64
		        ",\"nodes_updated\":%" PRIu64
		        ",\"nodes_unmatched\":%" PRIu64
		        ",\"rels_created\":%" PRIu64
		        ",\"rels_updated\":%" PRIu64
		        ",\"rels_skipped\":%" PRIu64 "}",
		        wm.batches, wm.nodes_upserted, wm.rels_upserted,
		        wm.ttl_ops, c.nodes_created, c.nodes_updated,
		        c.nodes_unmatched, c.rels_created, c.rels_updated,
		        c.rels_skipped);
		json_hist(b, "batch_seconds", wm.batch_seconds);
		json_hist(b, "commit_seconds", wm.commit_seconds);
		(void)sl_buf_puts(b, ",\"upserted_by_type\":{\"nodes\":{");
		for (int pass = 0; pass < 2; pass++) {
			bool f = true;
			for (uint32_t k = 0; k < wm.n_types; k++) {
				if (wm.types[k].rel != (pass == 1))
					continue;
				if (!f)
					(void)sl_buf_putc(b, ',');
				f = false;
				json_str(b, wm.types[k].type);
				(void)sl_buf_printf(b, ":%" PRIu64,
				                    wm.types[k].upserted);
			}
			(void)sl_buf_puts(b, pass == 0 ? "},\"relationships\":{"
			                               : "}}}");
		}
	}
	(void)sl_buf_putc(b, ']');
}

void
sl_cli_metrics_text(struct sl_cli_metrics *m, FILE *out)
{
	struct sl_proc_usage u;
	sl_proc_read_cpu(&u);
	fprintf(out,
	        "  wall %.2f s, CPU %.2f s (user %.2f, system %.2f), peak "
	        "RSS %.1f MiB\n",
	        sl_clock() - m->wall0,
	        u.cpu_user - m->u0.cpu_user + u.cpu_system - m->u0.cpu_system,
	        u.cpu_user - m->u0.cpu_user, u.cpu_system - m->u0.cpu_system,
	        (double)u.rss_peak / (1024.0 * 1024.0));
	for (uint32_t i = 0; m->p != NULL && i < sl_pipeline_step_count(m->p);
	     i++) {
		const struct sl_step *s = sl_pipeline_step(m->p, i);
		struct sl_graph_writer_metrics wm;
		struct sl_graph_counts c;
		const char *target;
		if (!sl_graph_writer_metrics(s, &wm) ||
		    !sl_graph_writer_counts(s, &c, &target) ||
		    target[0] == '\0')
			continue;
		double p99 = hist_quantile(wm.batch_seconds, 0.99);
		char p99s[32];
		if (p99 < 0)
			snprintf(p99s, sizeof(p99s), "> %g s",
			         sl_hist_bounds[SL_HIST_BUCKETS - 1]);
		else
			snprintf(p99s, sizeof(p99s), "<= %g s", p99);
		fprintf(out,
		        "  %s wrote %" PRIu64 " batch%s to %s: %.4f s mean "
		        "(p99 %s), %.2f s in all; %" PRIu64 " commit%s, "
		        "%.2f s; upserted %" PRIu64 " nodes, %" PRIu64
		        " relationships\n",
		        s->name, wm.batches, wm.batches == 1 ? "" : "es",
		        target, hist_mean(wm.batch_seconds), p99s,
		        sl_hist_sum(wm.batch_seconds),
		        sl_hist_count(wm.commit_seconds),
		        sl_hist_count(wm.commit_seconds) == 1 ? "" : "s",
		        sl_hist_sum(wm.commit_seconds), wm.nodes_upserted,
		        wm.rels_upserted);
		for (uint32_t k = 0; k < wm.n_types; k++)
			fprintf(out, "    %-13s %-32s %12" PRIu64 "\n",
			        wm.types[k].rel ? "relationship" : "node",
			        wm.types[k].type, wm.types[k].upserted);
	}
}
