/*
 * sluice: the pieces of run metrics that every layer may use: a latency
 * histogram cheap enough to update from any thread, the Prometheus text
 * exposition format (names, labels, histograms), and the process's own
 * CPU time and memory.
 *
 * What is counted, and where: each layer keeps its own counters next to
 * what it counts (a step's stats, a writer's batches, a database's
 * operations) and offers a function that reads them; nothing here knows
 * about steps, targets or databases. The `sluice run` command gathers the
 * readings when it is asked (a scrape of /metrics, the progress line, the
 * summary), so the hot path pays for no more than its own counter.
 *
 * A histogram is updated with relaxed atomic additions (one per
 * observation, which is per batch or per database operation, never per
 * record) and read at any time: a reading taken while another thread
 * observes may see the count before the sum, so it is consistent to
 * within the observations in flight.
 */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Number of finite bucket bounds of a latency histogram. */
#define SL_HIST_BUCKETS 14

/**
 * The upper bounds, in seconds, of a latency histogram's buckets (the
 * last bucket, +Inf, is implied): 1 ms to 60 s.
 */
extern const double sl_hist_bounds[SL_HIST_BUCKETS];

/** A latency histogram (zero-initialised is empty). */
struct sl_hist {
	/** Observations per bucket (not cumulative); the last is +Inf. */
	_Atomic uint64_t bucket[SL_HIST_BUCKETS + 1];
	/** Number of observations. */
	_Atomic uint64_t count;
	/** Sum of the observations, in nanoseconds. */
	_Atomic uint64_t sum_ns;
};

/** Add one observation of `seconds` (negative counts as 0). */
void sl_hist_observe(struct sl_hist *h, double seconds);

/** Total seconds observed. */
double sl_hist_sum(const struct sl_hist *h);

/** Observations so far. */
uint64_t sl_hist_count(const struct sl_hist *h);

/**
 * Append `v` to `b` as a Prometheus label value: backslash, double quote
 * and newline escaped. 0, or -1 when `b` is full.
 */
int sl_prom_label(struct sl_buf *b, const char *v);

/**
 * Append to `b` the `# HELP` and `# TYPE` lines of metric `name`
 * (type "counter", "gauge" or "histogram"). 0, or -1.
 */
int sl_prom_head(struct sl_buf *b, const char *name, const char *type,
                 const char *help);

/**
 * Append the samples of histogram `h` as metric `name` (its _bucket,
 * _sum and _count lines) to `b`; `labels` is the text inside the braces
 * before `le` (`target="x"`), or "" for none. 0, or -1.
 */
int sl_prom_hist(struct sl_buf *b, const char *name, const char *labels,
                 const struct sl_hist *h);

/**
 * Copy `in` to out[0..size) as a Prometheus metric name: characters
 * outside [a-zA-Z0-9_] become '_', and a leading digit gets a '_' before
 * it (Nodestream's per-type metric names embed the type this way).
 */
void sl_prom_name(const char *in, char *out, size_t size);

/** What the process has used so far (sl_proc_read()). */
struct sl_proc_usage {
	/** CPU time in user mode, seconds. */
	double cpu_user;
	/** CPU time in the kernel, seconds. */
	double cpu_system;
	/** Resident set size now, bytes (0 when unknown). */
	uint64_t rss;
	/** Peak resident set size, bytes. */
	uint64_t rss_peak;
	/** Virtual memory size now, bytes (0 when unknown). */
	uint64_t vsize;
	/** Open file descriptors (0 when unknown). */
	uint32_t open_fds;
	/** Most file descriptors the process may open. */
	uint64_t max_fds;
	/** When the process started, seconds since the Unix epoch (0 when
	 * unknown). */
	double start_time;
};

/**
 * Read the process's CPU time, memory and file descriptors into *u.
 * Fields it cannot read are 0. Costs a few system calls and reads of
 * /proc: for scrapes and the summary, not for a hot path.
 */
void sl_proc_read(struct sl_proc_usage *u);

/**
 * sl_proc_read() of the CPU times and the peak resident set size only
 * (one getrusage(), no reads of /proc); the other fields are 0. For a
 * run's summary.
 */
void sl_proc_read_cpu(struct sl_proc_usage *u);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_METRICS_H */
