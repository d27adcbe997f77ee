/*
 * Benchmark: handing items from a producer to a consumer.
 *
 * chan_handoff_ns: ns per item moved through a capacity-1 sl_chan between
 * two tasks of one loop (value), against two pthreads moving items through
 * a mutex + condvar bounded queue of capacity 1 (baseline).
 * chan_handoff_batched_ns: the same with capacity 1000 on both sides.
 *
 * Items are the numbers 1..n as pointers; the consumer checks their order.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "sluice/chan.h"
#include "sluice/task.h"

/** One configuration: a capacity and how many items to move. */
struct config {
	/** Name of the result line. */
	const char *name;
	/** Capacity of the channel and of the queue. */
	size_t capacity;
	/** Items per sluice repetition. */
	long chan_items;
	/** Items per pthread repetition. */
	long queue_items;
};

/** Shared by the producer and consumer tasks. */
struct chan_run {
	/** The channel. */
	struct sl_chan ch;
	/** Items to move. */
	long n;
	/** Items received in order. */
	long received;
	/** Set when anything went wrong. */
	int failed;
};

/** Task: send 1..n, then close the channel. */
static int
chan_producer(void *arg)
{
	struct chan_run *cr = arg;
	for (long i = 1; i <= cr->n; i++) {
		if (sl_chan_send(&cr->ch, (void *)(uintptr_t)i, NULL,
		                 SL_FOREVER) != 0) {
			cr->failed = 1;
			return -1;
		}
	}
	sl_chan_close(&cr->ch);
	return 0;
}

/** Task: receive until end-of-stream, checking the order. */
static int
chan_consumer(void *arg)
{
	struct chan_run *cr = arg;
	void *item;
	int rc;
	while ((rc = sl_chan_recv(&cr->ch, &item, SL_FOREVER)) == 1) {
		if ((uintptr_t)item != (uintptr_t)cr->received + 1) {
			cr->failed = 1;
			return -1;
		}
		cr->received++;
	}
	if (rc != 0)
		cr->failed = 1;
	return rc;
}

/** Move `n` items through a sluice channel; ns per item, or -1. */
static double
chan_run(struct sl_loop *loop, size_t capacity, long n)
{
	struct chan_run cr = {.n = n};
	if (sl_chan_create(&cr.ch, capacity) != 0)
		return -1;
	struct sl_task *p = sl_task_spawn(loop, "producer", chan_producer, &cr);
	if (p == NULL) {
		sl_chan_destroy(&cr.ch);
		return -1;
	}
	sl_task_detach(p);
	struct sl_task *c = sl_task_spawn(loop, "consumer", chan_consumer, &cr);
	if (c == NULL) {
		sl_chan_close(&cr.ch);
		cr.failed = 1;
	} else {
		sl_task_detach(c);
	}
	uint64_t t0 = bench_now_ns();
	int rc = sl_loop_run(loop);
	uint64_t t1 = bench_now_ns();
	sl_chan_destroy(&cr.ch);
	if (rc != 0 || cr.failed || cr.received != n)
		return -1;
	return (double)(t1 - t0) / (double)n;
}

/** A bounded FIFO of pointers for two threads (the baseline). */
struct queue {
	/** Guards every field below. */
	pthread_mutex_t mu;
	/** Signalled when an item was taken. */
	pthread_cond_t not_full;
	/** Signalled when an item was added or the queue closed. */
	pthread_cond_t not_empty;
	/** Ring of `capacity` slots. */
	void **ring;
	/** Number of slots. */
	size_t capacity;
	/** Index of the oldest item. */
	size_t head;
	/** Items in the ring. */
	size_t count;
	/** Set by the producer after its last item. */
	int closed;
	/** Items to move. */
	long n;
	/** Items received in order. */
	long received;
	/** Set when the consumer saw an item out of order. */
	int failed;
};

/** Thread: push 1..n, then close the queue. */
static void *
queue_producer(void *arg)
{
	struct queue *q = arg;
	for (long i = 1; i <= q->n; i++) {
		pthread_mutex_lock(&q->mu);
		while (q->count == q->capacity)
			pthread_cond_wait(&q->not_full, &q->mu);
		q->ring[(q->head + q->count) % q->capacity] =
		        (void *)(uintptr_t)i;
		q->count++;
		pthread_cond_signal(&q->not_empty);
		pthread_mutex_unlock(&q->mu);
	}
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/** Thread: pop until the queue is closed and empty, checking the order. */
static void *
queue_consumer(void *arg)
{
	struct queue *q = arg;
	for (;;) {
		pthread_mutex_lock(&q->mu);
		while (q->count == 0 && !q->closed)
			pthread_cond_wait(&q->not_empty, &q->mu);
		if (q->count == 0) {
			pthread_mutex_unlock(&q->mu);
			return NULL;
		}
		void *item = q->ring[q->head];
		q->head = (q->head + 1) % q->capacity;
		q->count--;
		pthread_cond_signal(&q->not_full);
		pthread_mutex_unlock(&q->mu);
		if ((uintptr_t)item != (uintptr_t)q->received + 1)
			q->failed = 1;
		q->received++;
	}
}

/** Move `n` items between two pthreads; ns per item, or -1. */
static double
queue_run(size_t capacity, long n)
{
	struct queue q = {.capacity = capacity, .n = n};
	q.ring = calloc(capacity, sizeof(*q.ring));
	if (q.ring == NULL)
		return -1;
	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.not_full, NULL);
	pthread_cond_init(&q.not_empty, NULL);
	pthread_t prod, cons;
	double ns = -1;
	uint64_t t0 = bench_now_ns();
	int rc = pthread_create(&cons, NULL, queue_consumer, &q);
	if (rc == 0) {
		rc = pthread_create(&prod, NULL, queue_producer, &q);
		if (rc != 0) {
			pthread_mutex_lock(&q.mu);
			q.closed = 1;
			pthread_cond_signal(&q.not_empty);
			pthread_mutex_unlock(&q.mu);
		} else {
			pthread_join(prod, NULL);
		}
		pthread_join(cons, NULL);
	}
	uint64_t t1 = bench_now_ns();
	if (rc != 0)
		fprintf(stderr, "bench_chan: pthread_create: %s\n",
		        strerror(rc));
	else if (!q.failed && q.received == n)
		ns = (double)(t1 - t0) / (double)n;
	pthread_cond_destroy(&q.not_empty);
	pthread_cond_destroy(&q.not_full);
	pthread_mutex_destroy(&q.mu);
	free(q.ring);
	return ns;
}

/** Measure and print one configuration on `loop`. 0, or -1. */
static int
bench_config(struct sl_loop *loop, const struct config *c)
{
	double v[BENCH_REPS], b[BENCH_REPS];
	if (chan_run(loop, c->capacity, c->chan_items / 10) < 0 ||
	    queue_run(c->capacity, c->queue_items / 10) < 0)
		goto fail;
	for (int r = 0; r < BENCH_REPS; r++) {
		v[r] = chan_run(loop, c->capacity, c->chan_items);
		b[r] = queue_run(c->capacity, c->queue_items);
		if (v[r] < 0 || b[r] < 0)
			goto fail;
		printf("# %s rep %d/%d: sl_chan %.2f ns, pthread queue %.2f "
		       "ns\n",
		       c->name, r + 1, BENCH_REPS, v[r], b[r]);
	}
	double value = bench_median(v, BENCH_REPS);
	double baseline = bench_median(b, BENCH_REPS);
	printf("# %s: capacity %zu, %ld sl_chan items and %ld pthread queue "
	       "items per rep\n",
	       c->name, c->capacity, c->chan_items, c->queue_items);
	bench_result(c->name, value, "ns", baseline, baseline / value, 2);
	return 0;
fail:
	bench_fail("bench_chan", "a hand-off run failed");
	return -1;
}

/** Run both configurations. */
int
main(void)
{
	static const struct config configs[] = {
	        {"chan_handoff_ns", 1, 2000000, 20000},
	        {"chan_handoff_batched_ns", 1000, 5000000, 1000000},
	};
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL) {
		bench_fail("bench_chan", "cannot create a loop");
		return EXIT_FAILURE;
	}
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(configs) / sizeof(configs[0]);
	     i++)
		rc = bench_config(loop, &configs[i]);
	sl_loop_delete(loop);
	return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
