/*
 * Allocation-failure torture (curl's idea): run a scenario with the n-th
 * allocation failing, for every n until a run needs no fault. Each run must
 * either succeed or fail cleanly with EOOM; leak checkers (valgrind, LSan)
 * see every path.
 */
#include "sluice/alloc.h"
#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/chan.h"
#include "sluice/task.h"
#include "unit.h"

/** Scenario state. */
struct scen {
	/** Producer to consumer. */
	struct sl_chan ch;
	/** Items the consumer received. */
	int received;
};

/** Sends 20 heap items; closes the channel whatever happens. */
static int
producer(void *arg)
{
	struct scen *s = arg;
	int rc = 0;
	for (int i = 0; i < 20 && rc == 0; i++) {
		int *it = sl_malloc(sizeof(*it));
		if (it == NULL) {
			sl_diag_set(SL_EOOM, "item %d", i);
			rc = -1;
			break;
		}
		*it = i;
		if (sl_chan_send(&s->ch, it, sl_free, SL_FOREVER) != 0) {
			sl_free(it);
			rc = -1;
		}
		if (i % 5 == 0 && rc == 0)
			rc = sl_sleep(0.0001);
	}
	sl_chan_close(&s->ch);
	return rc;
}

/** Receives into an arena and a buffer; drops the channel on failure. */
static int
consumer(void *arg)
{
	struct scen *s = arg;
	struct sl_arena a;
	struct sl_buf b;
	sl_arena_create(&a, 256, 1 << 20);
	sl_buf_create(&b, 1 << 20);
	void *p;
	int rc;
	while ((rc = sl_chan_recv(&s->ch, &p, SL_FOREVER)) == 1) {
		int v = *(int *)p;
		sl_free(p);
		int *copy = sl_arena_alloc(&a, 100);
		if (copy == NULL || sl_buf_printf(&b, "%d,", v) != 0) {
			rc = -1;
			break;
		}
		*copy = v;
		s->received++;
	}
	if (rc < 0)
		sl_chan_drop(&s->ch);
	sl_arena_destroy(&a);
	sl_buf_destroy(&b);
	return rc < 0 ? -1 : 0;
}

/** Main task of the scenario. */
static int
scen_main(void *arg)
{
	struct scen *s = arg;
	struct sl_loop *loop = sl_loop_current();
	struct sl_task *c = sl_task_spawn(loop, "consumer", consumer, s);
	if (c == NULL)
		return -1;
	struct sl_task *p = sl_task_spawn(loop, "producer", producer, s);
	if (p == NULL) {
		sl_chan_close(&s->ch);
		struct sl_diag keep;
		sl_diag_create(&keep);
		sl_diag_move(sl_diag_get(), &keep);
		sl_task_reap(c);
		sl_diag_move(&keep, sl_diag_get());
		return -1;
	}
	int prc = sl_task_join(p);
	struct sl_diag perr;
	sl_diag_create(&perr);
	sl_diag_move(sl_diag_get(), &perr);
	int crc = sl_task_join(c);
	if (crc == 0 && prc != 0)
		sl_diag_move(&perr, sl_diag_get());
	sl_diag_destroy(&perr);
	if (prc == 0 && crc == 0 && s->received != 20) {
		sl_diag_set(SL_EINVAL, "received %d of 20", s->received);
		return -1;
	}
	return prc != 0 || crc != 0 ? -1 : 0;
}

/** One run of the scenario. */
static int
scenario(void)
{
	struct scen s = {.received = 0};
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL)
		return -1;
	if (sl_chan_create(&s.ch, 2) != 0) {
		sl_loop_delete(loop);
		return -1;
	}
	int rc = sl_loop_run_main(loop, "main", scen_main, &s);
	sl_chan_destroy(&s.ch);
	sl_loop_delete(loop);
	return rc;
}

/** The scenario with each allocation point failed in turn. */
TAP_CASE(scenario)
{
	sl_alloc_fail_after(-1);
	is_int(scenario(), 0, "the scenario passes without faults");
	int clean = 1, runs = 0, last_ok = 0;
	for (long k = 0; k < 10000; k++) {
		sl_diag_clear(sl_diag_get());
		long before = sl_alloc_faults();
		sl_alloc_fail_after(k);
		int rc = scenario();
		sl_alloc_fail_after(-1);
		runs++;
		int faulted = sl_alloc_faults() != before;
		if (!faulted) {
			last_ok = rc == 0;
			break;
		}
		if (rc == 0)
			continue; /* the failed allocation was retried or
			             optional */
		if (sl_diag_code() != SL_EOOM) {
			clean = 0;
			note("run %ld failed with %s: %s", k,
			     sl_errcode_name(sl_diag_code()), unit_errmsg());
		}
	}
	ok(runs > 10, "every allocation point was failed once (%d runs)", runs);
	ok(clean, "each failing run reported EOOM");
	ok(last_ok, "the first run with no fault left succeeded");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
