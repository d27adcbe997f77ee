/*
 * `sluice demo`: a producer, a pool of workers that each await simulated
 * I/O, and a collector, joined by bounded channels on one loop. It shows
 * backpressure, cancellation on SIGINT and how many waits overlap on one
 * thread.
 */
#include "demo.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/chan.h"
#include "sluice/diag.h"
#include "sluice/io.h"
#include "sluice/log.h"
#include "sluice/task.h"

/** Demo settings and shared state. */
struct demo {
	/** Number of worker tasks. */
	int workers;
	/** Number of items to produce. */
	int items;
	/** Producer to workers. */
	struct sl_chan work;
	/** Workers to collector. */
	struct sl_chan results;
	/** Items produced. */
	int produced;
	/** Items collected. */
	int collected;
	/** Sum of collected results. */
	uint64_t sum;
	/** Total simulated I/O time awaited by workers, in seconds. */
	double io_seconds;
	/** Times the producer found the work channel full. */
	int producer_blocked;
	/** The producer, cancelled on SIGINT. */
	struct sl_task *producer;
	/** Set once the pipeline has finished. */
	int done;
};

/** Deterministic per-item pseudo-random delay in seconds (0..2 ms). */
static double
item_delay(int n)
{
	uint32_t x = (uint32_t)n * 2654435761u;
	return (double)(x % 2000) / 1e6;
}

/** Producer: numbers 1..items into the work channel. */
static int
producer(void *arg)
{
	struct demo *d = arg;
	for (int n = 1; n <= d->items; n++) {
		int *item = sl_malloc(sizeof(*item));
		if (item == NULL) {
			sl_diag_set(SL_EOOM, "out of memory");
			return -1;
		}
		*item = n;
		if (sl_chan_is_full(&d->work))
			d->producer_blocked++;
		if (sl_chan_send(&d->work, item, free, SL_FOREVER) != 0) {
			free(item);
			return -1;
		}
		d->produced++;
	}
	return 0;
}

/** Worker: await simulated I/O per item, pass its square on. */
static int
worker(void *arg)
{
	struct demo *d = arg;
	void *p;
	int rc;
	while ((rc = sl_chan_recv(&d->work, &p, SL_FOREVER)) == 1) {
		int *item = p;
		double delay = item_delay(*item);
		if (sl_sleep(delay) != 0) {
			free(item);
			return -1;
		}
		d->io_seconds += delay;
		*item = *item * *item;
		if (sl_chan_send(&d->results, item, free, SL_FOREVER) != 0) {
			free(item);
			return -1;
		}
	}
	return rc;
}

/** Collector: sum the results. */
static int
collector(void *arg)
{
	struct demo *d = arg;
	void *p;
	int rc;
	while ((rc = sl_chan_recv(&d->results, &p, SL_FOREVER)) == 1) {
		d->sum += (uint64_t) * (int *)p;
		d->collected++;
		free(p);
	}
	return rc;
}

/** Progress reporter, every 100 ms. */
static int
ticker(void *arg)
{
	struct demo *d = arg;
	while (!d->done) {
		if (sl_sleep(0.1) != 0)
			return 0;
		printf("  progress: produced %d, collected %d, work queue "
		       "%zu, result queue %zu\n",
		       d->produced, d->collected, sl_chan_count(&d->work),
		       sl_chan_count(&d->results));
	}
	return 0;
}

/** Cancels the producer on SIGINT, so the pipeline drains and ends. */
static int
interrupter(void *arg)
{
	struct demo *d = arg;
	struct sl_signal sig;
	if (sl_signal_create(&sig, SIGINT) != 0)
		return -1;
	if (sl_signal_wait(&sig, SL_FOREVER) == SIGINT) {
		printf("  SIGINT: stopping the producer, draining\n");
		sl_task_cancel(d->producer);
	}
	sl_signal_destroy(&sig);
	return 0;
}

/** The demo's main task. */
static int
demo_main(void *arg)
{
	struct demo *d = arg;
	struct sl_loop *loop = sl_loop_current();
	struct sl_task **workers = calloc((size_t)d->workers, sizeof(*workers));
	if (workers == NULL) {
		sl_diag_set(SL_EOOM, "out of memory");
		return -1;
	}
	double t0 = sl_clock();
	struct sl_task *intr =
	        sl_task_spawn(loop, "interrupter", interrupter, d);
	struct sl_task *tick = sl_task_spawn(loop, "ticker", ticker, d);
	d->producer = sl_task_spawn(loop, "producer", producer, d);
	struct sl_task *coll = sl_task_spawn(loop, "collector", collector, d);
	int spawned = 0;
	for (int i = 0; i < d->workers; i++) {
		char name[32];
		snprintf(name, sizeof(name), "worker-%d", i);
		workers[i] = sl_task_spawn(loop, name, worker, d);
		spawned += workers[i] != NULL;
	}
	if (intr == NULL || tick == NULL || d->producer == NULL ||
	    coll == NULL || spawned != d->workers) {
		/* Partial start: tear down what exists. */
		sl_chan_abort(&d->work);
		sl_chan_abort(&d->results);
	}
	int rc = 0;
	if (d->producer != NULL && sl_task_join(d->producer) != 0 &&
	    sl_diag_code() != SL_ECANCELLED)
		rc = -1;
	sl_chan_close(&d->work);
	for (int i = 0; i < d->workers; i++) {
		if (workers[i] != NULL && sl_task_join(workers[i]) != 0)
			rc = -1;
	}
	sl_chan_close(&d->results);
	if (coll != NULL && sl_task_join(coll) != 0)
		rc = -1;
	d->done = 1;
	double elapsed = sl_clock() - t0;
	if (tick != NULL)
		sl_task_reap(tick);
	if (intr != NULL)
		sl_task_reap(intr);
	free(workers);

	uint64_t n = (uint64_t)d->collected;
	uint64_t expect = n * (n + 1) * (2 * n + 1) / 6;
	printf("\nsluice runtime demo\n");
	printf("  %d workers on one thread, channels of 16 slots\n",
	       d->workers);
	printf("  items produced %d, collected %d, sum of squares %llu (%s)\n",
	       d->produced, d->collected, (unsigned long long)d->sum,
	       d->sum == expect ? "correct" : "WRONG");
	printf("  producer found the queue full %d times (backpressure)\n",
	       d->producer_blocked);
	printf("  simulated I/O awaited: %.2f s in %.3f s of wall time "
	       "(%.0fx overlap)\n",
	       d->io_seconds, elapsed,
	       elapsed > 0 ? d->io_seconds / elapsed : 0.0);
	if (d->sum != expect) {
		sl_diag_set(SL_EINVAL, "the sum is wrong");
		return -1;
	}
	return rc;
}

int
sl_cli_demo(int argc, char **argv)
{
	struct demo d;
	memset(&d, 0, sizeof(d));
	d.workers = 200;
	d.items = 20000;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tasks") == 0 && i + 1 < argc) {
			d.workers = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--items") == 0 && i + 1 < argc) {
			d.items = atoi(argv[++i]);
		} else {
			fprintf(stderr,
			        "sluice demo: unknown argument '%s' "
			        "(expected --tasks N or --items N)\n",
			        argv[i]);
			return 2;
		}
	}
	if (d.workers < 1 || d.items < 0 || d.items > 1000000) {
		fprintf(stderr, "sluice demo: --tasks must be at least 1 and "
		                "--items between 0 and 1000000\n");
		return 2;
	}
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL || sl_chan_create(&d.work, 16) != 0 ||
	    sl_chan_create(&d.results, 16) != 0) {
		fprintf(stderr, "sluice demo: %s\n", sl_diag_last()->msg);
		return 1;
	}
	int rc = sl_loop_run_main(loop, "demo", demo_main, &d);
	if (rc != 0) {
		char msg[1024];
		sl_error_format(sl_diag_last(), msg, sizeof(msg));
		fprintf(stderr, "sluice demo: %s\n", msg);
	}
	sl_chan_destroy(&d.work);
	sl_chan_destroy(&d.results);
	sl_loop_delete(loop);
	return rc == 0 ? 0 : 1;
}
