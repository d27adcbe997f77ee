/*
 * Channels: backpressure, order, FIFO waiters, graceful close, drop, forced
 * close, cancellation and timeouts in send and recv, destructors.
 */
#include "sluice/alloc.h"
#include "sluice/chan.h"
#include "sluice/task.h"
#include "unit.h"

/** Items freed by item_free(). */
static int freed;

/** Destructor that counts. */
static void
item_free(void *p)
{
	freed++;
	sl_free(p);
}

/** A heap item carrying `n`. */
static int *
item_new(int n)
{
	int *p = sl_malloc(sizeof(*p));
	*p = n;
	return p;
}

/** Shared state of a producer/consumer pair. */
struct pc {
	/** The channel. */
	struct sl_chan ch;
	/** Items the producer got through send. */
	int sent;
	/** Items to send. */
	int total;
	/** Result of the producer's last send. */
	int send_rc;
	/** Error code of the producer's last send. */
	enum sl_errcode send_code;
	/** Items received, in order. */
	int got[256];
	/** Number received. */
	int ngot;
	/** Result of the consumer's last recv. */
	int recv_rc;
	/** Error code of the consumer's last recv. */
	enum sl_errcode recv_code;
};

/** Sends 0..total-1, stops at the first failure. */
static int
producer(void *arg)
{
	struct pc *pc = arg;
	for (int i = 0; i < pc->total; i++) {
		int *it = item_new(i);
		pc->send_rc = sl_chan_send(&pc->ch, it, item_free, SL_FOREVER);
		if (pc->send_rc != 0) {
			pc->send_code = sl_diag_code();
			sl_free(it); /* a failed send leaves the item with us */
			return -1;
		}
		pc->sent++;
	}
	return 0;
}

/** Receives until end-of-stream or error. */
static int
consumer(void *arg)
{
	struct pc *pc = arg;
	void *p;
	while ((pc->recv_rc = sl_chan_recv(&pc->ch, &p, SL_FOREVER)) == 1) {
		pc->got[pc->ngot++] = *(int *)p;
		sl_free(p);
	}
	if (pc->recv_rc < 0)
		pc->recv_code = sl_diag_code();
	return pc->recv_rc < 0 ? -1 : 0;
}

/** Backpressure and order. */
static int
backpressure_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	struct pc pc = {.total = 100};
	sl_chan_create(&pc.ch, 4);
	struct sl_task *prod = sl_task_spawn(loop, "producer", producer, &pc);
	for (int i = 0; i < 5; i++)
		sl_task_yield();
	is_int(pc.sent, 4, "the producer filled the 4 slots and no more");
	ok(sl_task_state(prod) == SL_TASK_WAITING,
	   "the producer is suspended while the channel is full");
	ok(sl_chan_is_full(&pc.ch), "the channel reports full");
	sl_sleep(0.02);
	is_int(pc.sent, 4, "it stays suspended while nobody receives");

	void *p;
	is_int(sl_chan_recv(&pc.ch, &p, SL_FOREVER), 1, "receive one");
	is_int(*(int *)p, 0, "the oldest item first");
	sl_free(p);
	is_int(sl_chan_count(&pc.ch), 4,
	       "a freed slot takes the waiting "
	       "sender's item at once");
	sl_task_yield();
	is_int(pc.sent, 5, "and the sender resumes");

	struct sl_task *cons = sl_task_spawn(loop, "consumer", consumer, &pc);
	sl_task_join(prod);
	sl_chan_close(&pc.ch);
	is_int(sl_task_join(cons), 0, "the consumer ends at end-of-stream");
	is_int(pc.ngot, 99, "it received every remaining item");
	int in_order = 1;
	for (int i = 0; i < pc.ngot; i++)
		in_order &= pc.got[i] == i + 1;
	ok(in_order, "in FIFO order");
	is_int(pc.recv_rc, 0, "recv returned 0 at end-of-stream");
	sl_chan_destroy(&pc.ch);
	return 0;
}

/** Several senders blocked on a full channel. */
struct fifo_sender {
	/** The channel. */
	struct sl_chan *ch;
	/** Value to send. */
	int value;
};

/** Sends one value. */
static int
send_one(void *arg)
{
	struct fifo_sender *s = arg;
	return sl_chan_send(s->ch, (void *)(intptr_t)s->value, NULL,
	                    SL_FOREVER);
}

/** Receives one value into *arg. */
struct fifo_receiver {
	/** The channel. */
	struct sl_chan *ch;
	/** Where the value goes. */
	int *slot;
	/** Order in which receivers finished. */
	int *order;
	/** Index counter for `order`. */
	int *n;
	/** This receiver's number. */
	int me;
};

/** Receives one value. */
static int
recv_one(void *arg)
{
	struct fifo_receiver *r = arg;
	void *p;
	if (sl_chan_recv(r->ch, &p, SL_FOREVER) != 1)
		return -1;
	*r->slot = (int)(intptr_t)p;
	r->order[(*r->n)++] = r->me;
	return 0;
}

/** Waiters are served in FIFO order on both sides. */
static int
fifo_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	struct sl_chan ch;
	sl_chan_create(&ch, 1);
	sl_chan_send(&ch, (void *)(intptr_t)100, NULL, SL_FOREVER);
	struct fifo_sender s[3];
	struct sl_task *st[3];
	for (int i = 0; i < 3; i++) {
		s[i] = (struct fifo_sender){.ch = &ch, .value = 101 + i};
		st[i] = sl_task_spawn(loop, "sender", send_one, &s[i]);
	}
	sl_task_yield();
	int vals[4];
	for (int i = 0; i < 4; i++) {
		void *p;
		sl_chan_recv(&ch, &p, SL_FOREVER);
		vals[i] = (int)(intptr_t)p;
	}
	ok(vals[0] == 100 && vals[1] == 101 && vals[2] == 102 && vals[3] == 103,
	   "blocked senders deliver in the order they blocked");
	for (int i = 0; i < 3; i++)
		sl_task_join(st[i]);

	int slots[3], order[3], n = 0;
	struct fifo_receiver r[3];
	struct sl_task *rt[3];
	for (int i = 0; i < 3; i++) {
		r[i] = (struct fifo_receiver){&ch, &slots[i], order, &n, i};
		rt[i] = sl_task_spawn(loop, "receiver", recv_one, &r[i]);
	}
	sl_task_yield();
	for (int i = 0; i < 3; i++)
		sl_chan_send(&ch, (void *)(intptr_t)(200 + i), NULL,
		             SL_FOREVER);
	for (int i = 0; i < 3; i++)
		sl_task_join(rt[i]);
	ok(slots[0] == 200 && slots[1] == 201 && slots[2] == 202,
	   "blocked receivers are served in the order they blocked");
	sl_chan_destroy(&ch);

	/* Capacity 0: a rendezvous. */
	struct sl_chan rv;
	sl_chan_create(&rv, 0);
	is_int(sl_chan_send(&rv, (void *)1, NULL, 0), -1,
	       "rendezvous send with no receiver and no wait fails");
	is_err(SL_ETIMEDOUT, "with ETIMEDOUT");
	struct fifo_sender one = {.ch = &rv, .value = 7};
	struct sl_task *t = sl_task_spawn(loop, "rv-sender", send_one, &one);
	sl_task_yield();
	void *p = NULL;
	is_int(sl_chan_recv(&rv, &p, SL_FOREVER), 1, "rendezvous receive");
	is_int((int)(intptr_t)p, 7, "gets the blocked sender's item");
	is_int(sl_task_join(t), 0, "and the sender completes");
	sl_chan_destroy(&rv);
	return 0;
}

/** Graceful close, drop, forced close. */
static int
close_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	void *p;

	/* Graceful close: buffered items still arrive. */
	struct sl_chan ch;
	sl_chan_create(&ch, 8);
	for (int i = 0; i < 3; i++)
		sl_chan_send(&ch, item_new(i), item_free, SL_FOREVER);
	sl_chan_close(&ch);
	int *it = item_new(99);
	is_int(sl_chan_send(&ch, it, item_free, SL_FOREVER), -1,
	       "send after close fails");
	is_err(SL_ECLOSED, "with ECLOSED");
	is_int(*it, 99, "and the caller still owns the item");
	sl_free(it);
	int n = 0;
	while (sl_chan_recv(&ch, &p, SL_FOREVER) == 1) {
		n++;
		sl_free(p);
	}
	is_int(n, 3, "the receiver gets everything buffered after close");
	is_int(sl_chan_recv(&ch, &p, SL_FOREVER), 0, "then end-of-stream");
	is_int(sl_chan_recv(&ch, &p, SL_FOREVER), 0, "again and again");
	sl_chan_destroy(&ch);

	/* A receiver waiting on an empty channel sees end-of-stream. */
	struct pc pc = {.total = 0};
	sl_chan_create(&pc.ch, 2);
	struct sl_task *cons = sl_task_spawn(loop, "consumer", consumer, &pc);
	sl_task_yield();
	sl_chan_close(&pc.ch);
	is_int(sl_task_join(cons), 0, "a waiting receiver ends on close");
	is_int(pc.recv_rc, 0, "with end-of-stream");
	sl_chan_destroy(&pc.ch);

	/* Drop: the consumer stopped; the producer's next send fails. */
	freed = 0;
	struct pc d = {.total = 50};
	sl_chan_create(&d.ch, 4);
	struct sl_task *prod = sl_task_spawn(loop, "producer", producer, &d);
	sl_task_yield();
	ok(sl_task_state(prod) == SL_TASK_WAITING, "producer blocked on full");
	sl_chan_drop(&d.ch);
	is_int(freed, 4, "drop frees the buffered items");
	is_int(sl_task_join(prod), -1, "the blocked producer fails");
	is_int(d.send_code, SL_EDROPPED, "with EDROPPED");
	is_int(d.sent, 4, "after the 4 sends that fit");
	it = item_new(5);
	is_int(sl_chan_send(&d.ch, it, item_free, 0), -1,
	       "a later send fails too");
	is_err(SL_EDROPPED, "with EDROPPED");
	sl_free(it);
	sl_chan_destroy(&d.ch);

	/* Forced close: every waiter on either side wakes with an error. */
	freed = 0;
	struct pc a = {.total = 50};
	sl_chan_create(&a.ch, 2);
	prod = sl_task_spawn(loop, "producer", producer, &a);
	sl_task_yield();
	sl_chan_abort(&a.ch);
	is_int(freed, 2, "abort frees the buffered items");
	is_int(sl_task_join(prod), -1, "a blocked sender fails");
	is_int(a.send_code, SL_EABORTED, "with EABORTED");
	is_int(sl_chan_recv(&a.ch, &p, 0), -1, "a receive fails too");
	is_err(SL_EABORTED, "with EABORTED");
	sl_chan_destroy(&a.ch);

	struct pc b = {.total = 0};
	sl_chan_create(&b.ch, 2);
	struct pc *bp = &b;
	struct sl_task *c1 = sl_task_spawn(loop, "c1", consumer, bp);
	sl_task_yield();
	sl_chan_abort(&b.ch);
	is_int(sl_task_join(c1), -1, "a blocked receiver fails on abort");
	is_int(b.recv_code, SL_EABORTED, "with EABORTED");
	sl_chan_destroy(&b.ch);

	/* Destroy frees what is still buffered. */
	freed = 0;
	struct sl_chan z;
	sl_chan_create(&z, 8);
	for (int i = 0; i < 5; i++)
		sl_chan_send(&z, item_new(i), item_free, 0);
	sl_chan_destroy(&z);
	is_int(freed, 5, "destroy frees buffered items");
	return 0;
}

/** Cancellation and timeouts of blocked send and recv. */
static int
cancel_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	struct pc s = {.total = 10};
	sl_chan_create(&s.ch, 1);
	struct sl_task *prod = sl_task_spawn(loop, "producer", producer, &s);
	sl_task_yield();
	ok(sl_task_state(prod) == SL_TASK_WAITING, "producer blocked in send");
	sl_task_cancel(prod);
	is_int(sl_task_join(prod), -1, "cancel ends a blocked send");
	is_int(s.send_code, SL_ECANCELLED, "with ECANCELLED");
	is_int(sl_chan_count(&s.ch), 1, "the cancelled item was not queued");
	ok(sl_list_empty(&s.ch.senders), "and its waiter is gone");
	sl_chan_destroy(&s.ch);

	struct pc r = {.total = 0};
	sl_chan_create(&r.ch, 1);
	struct sl_task *cons = sl_task_spawn(loop, "consumer", consumer, &r);
	sl_task_yield();
	sl_task_cancel(cons);
	is_int(sl_task_join(cons), -1, "cancel ends a blocked recv");
	is_int(r.recv_code, SL_ECANCELLED, "with ECANCELLED");
	ok(sl_list_empty(&r.ch.receivers), "and its waiter is gone");
	is_int(sl_chan_send(&r.ch, (void *)1, NULL, 0), 0,
	       "a later send is buffered, not given to the cancelled task");
	is_int(sl_chan_count(&r.ch), 1, "it stays in the channel");
	sl_chan_destroy(&r.ch);

	struct sl_chan t;
	sl_chan_create(&t, 1);
	void *p;
	double t0 = sl_clock();
	is_int(sl_chan_recv(&t, &p, 0.02), -1, "recv times out");
	is_err(SL_ETIMEDOUT, "with ETIMEDOUT");
	ok(sl_clock() - t0 >= 0.019, "after the timeout");
	sl_chan_send(&t, (void *)1, NULL, 0);
	is_int(sl_chan_send(&t, (void *)2, NULL, 0.02), -1,
	       "send times out "
	       "on a full channel");
	is_err(SL_ETIMEDOUT, "with ETIMEDOUT");
	is_int(sl_chan_count(&t), 1, "leaving the channel as it was");
	sl_chan_destroy(&t);
	return 0;
}

/** Run backpressure_main() as a task on a fresh loop. */
TAP_CASE(backpressure)
{
	is_int(run_task("main", backpressure_main, NULL), 0,
	       "backpressure test ran");
}

/** Run fifo_main() as a task on a fresh loop. */
TAP_CASE(fifo)
{
	is_int(run_task("main", fifo_main, NULL), 0, "fifo test ran");
}

/** Run close_main() as a task on a fresh loop. */
TAP_CASE(close)
{
	is_int(run_task("main", close_main, NULL), 0, "close test ran");
}

/** Run cancel_main() as a task on a fresh loop. */
TAP_CASE(cancel)
{
	is_int(run_task("main", cancel_main, NULL), 0, "cancel test ran");
}

/** Creating a channel fails cleanly: an absurd capacity, no memory. */
TAP_CASE(create_errors)
{
	struct sl_chan big;
	ok(sl_chan_create(&big, (size_t)1 << 30) == -1,
	   "an absurd capacity is refused");
	is_err(SL_ELIMIT, "with ELIMIT");
	sl_alloc_fail_after(0);
	struct sl_chan oom;
	ok(sl_chan_create(&oom, 16) == -1, "create fails cleanly on OOM");
	is_err(SL_EOOM, "with EOOM");
	sl_alloc_fail_after(-1);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
