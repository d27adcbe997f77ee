/*
 * Progress marks (sl_emit_mark(), struct sl_mark): a mark is acknowledged
 * after every record before it went through the whole pipeline and every
 * step that holds records back committed them (sl_step_ops.mark), in
 * order, with one thread or several; a mark that does not get through (a
 * failed run) is dropped instead, and every mark gets exactly one of the
 * two. With a SQLite graph writer last, the database holds every node of
 * the records before a mark when the mark is acknowledged, though its
 * write batches are larger than the distance between marks.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/graph.h"
#include "sluice/jsonread.h"
#include "sluice/pipeline.h"
#include "sluice/task.h"
#include "unit.h"

/** Most marks a run makes. */
#define MARKS_MAX 1024

struct gen;

/** A mark of the source: the records emitted before it. */
struct pos {
	/** The mark. */
	struct sl_mark m;
	/** The source. */
	struct gen *g;
	/** Records emitted before it. */
	int64_t before;
	/** 1: acknowledged, 2: dropped (0: neither yet). */
	int fate;
	/** How many times ack or drop ran for it. */
	int calls;
};

/** A source of n records {"i": i}, a mark after every `every`. */
struct gen {
	/** Common part. */
	struct sl_step base;
	/** Records to make. */
	int64_t n;
	/** A mark after every this many records. */
	int64_t every;
	/** Make desired ingestions of node N {"id": i} instead. */
	bool ingestions;
	/** The marks made. */
	struct pos marks[MARKS_MAX];
	/** How many. */
	int n_marks;
	/** Acknowledgements in the order they came (mark numbers). */
	int acked[MARKS_MAX];
	/** How many. */
	int n_acked;
	/** Acknowledgements that came before the records they follow were
	 * committed. */
	int early;
	/** The last step's counts, checked at each acknowledgement. */
	int64_t (*committed)(struct gen *g);
	/** Its argument. */
	void *arg;
	/** What committed() must say at each acknowledgement, from the
	 * records before the mark. */
	int64_t (*expected)(int64_t before);
};

/** struct sl_mark.ack of a source's mark. */
static void
pos_ack(struct sl_mark *m)
{
	struct pos *p = (struct pos *)m;
	struct gen *g = p->g;
	p->fate = 1;
	p->calls++;
	g->acked[g->n_acked++] = (int)(p - g->marks);
	if (g->committed != NULL && g->committed(g) != g->expected(p->before)) {
		if (g->early++ == 0)
			note("mark after %lld records: %lld committed, %lld "
			     "expected",
			     (long long)p->before, (long long)g->committed(g),
			     (long long)g->expected(p->before));
	}
}

/** struct sl_mark.drop of a source's mark. */
static void
pos_drop(struct sl_mark *m)
{
	struct pos *p = (struct pos *)m;
	p->fate = 2;
	p->calls++;
}

/** Record i in the emitter's arena: {"i": i}, or a desired ingestion. */
static int
gen_record(struct gen *g, struct sl_emit *out, int64_t i)
{
	struct sl_arena *a = sl_emit_arena(out);
	if (a == NULL)
		return -1;
	struct sl_value v;
	if (!g->ingestions) {
		struct sl_member *m = sl_arena_alloc(a, sizeof(*m));
		if (m == NULL)
			return -1;
		m[0] = (struct sl_member){"i", 1, sl_int(i)};
		v = sl_object_ref(m, 1);
	} else {
		char json[128];
		int n = snprintf(json, sizeof(json),
		                 "{\"source\":{\"type\":\"N\",\"key\":{\"id\":"
		                 "%lld},\"props\":{\"i\":%lld}}}",
		                 (long long)i, (long long)i);
		if (sl_json_parse(json, (size_t)n, a, NULL, NULL, &v) != 0)
			return -1;
	}
	sl_emit_set_origin(out, "gen", (uint64_t)i + 1);
	return sl_emit(out, v);
}

static int
gen_drain(struct sl_step *s, struct sl_emit *out)
{
	struct gen *g = (struct gen *)s;
	for (int64_t i = 0; i < g->n; i++) {
		if (gen_record(g, out, i) != 0)
			return -1;
		if ((i + 1) % g->every != 0)
			continue;
		if (g->n_marks == MARKS_MAX)
			bail_out("too many marks");
		struct pos *p = &g->marks[g->n_marks++];
		*p = (struct pos){{pos_ack, pos_drop, NULL}, g, i + 1, 0, 0};
		if (sl_emit_mark(out, &p->m) != 0)
			return -1;
	}
	return 0;
}

static const struct sl_step_ops gen_ops = {
        .type = "Gen",
        .drain = gen_drain,
        .destroy = (void (*)(struct sl_step *))free,
};

/* --- a replicable step: 0, 1 or 2 records per record -------------------- */

/** A step that drops multiples of 3, doubles multiples of 5. */
struct work {
	/** Common part. */
	struct sl_step base;
	/** Fail at this record (-1: never). */
	int64_t fail_at;
};

/** Records the work step makes of the first `n` records. */
static int64_t
work_out(int64_t n)
{
	int64_t kept = n - (n + 2) / 3;
	int64_t doubled = (n + 4) / 5 - (n + 14) / 15;
	return kept + doubled;
}

static int
work_process(struct sl_step *s, const struct sl_value *rec, struct sl_emit *out)
{
	struct work *w = (struct work *)s;
	int64_t i = sl_object_get_cstr(rec, "i")->u.i;
	if (i == w->fail_at) {
		sl_diag_set(SL_EINVAL, "record %lld is bad", (long long)i);
		return sl_emit_fail(out);
	}
	if (i % 3 == 0)
		return 0;
	for (int k = 0; k < (i % 5 == 0 ? 2 : 1); k++)
		if (sl_emit_copy(out, rec) != 0)
			return -1;
	return 0;
}

static struct sl_step *
work_replicate(struct sl_step *s)
{
	struct work *c = malloc(sizeof(*c));
	if (c != NULL)
		memcpy(c, s, sizeof(*c));
	return &c->base;
}

static const struct sl_step_ops work_ops = {
        .type = "Work",
        .process = work_process,
        .destroy = (void (*)(struct sl_step *))free,
        .replicate = work_replicate,
};

/* --- a last step that holds records back until a mark ------------------- */

/** Counts the records it takes, and commits them at a mark or the end. */
struct hold {
	/** Common part. */
	struct sl_step base;
	/** Records taken. */
	int64_t taken;
	/** Records committed. */
	int64_t committed;
};

static int
hold_batch(struct sl_step *s, struct sl_batch *in, struct sl_emit *out)
{
	struct hold *h = (struct hold *)s;
	if (in->kind == SL_BATCH_DATA)
		h->taken += in->count;
	return sl_emit_batch(out, in);
}

static int
hold_mark(struct sl_step *s, const struct sl_mark *m, struct sl_emit *out)
{
	(void)m;
	(void)out;
	struct hold *h = (struct hold *)s;
	h->committed = h->taken;
	return 0;
}

static const struct sl_step_ops hold_ops = {
        .type = "Hold",
        .process_batch = hold_batch,
        .mark = hold_mark,
        .destroy = (void (*)(struct sl_step *))free,
};

/** gen.committed of a run ending in a hold step. */
static int64_t
hold_committed(struct gen *g)
{
	return ((struct hold *)g->arg)->committed;
}

/* --- running ------------------------------------------------------------ */

/** A run. */
struct run {
	/** The pipeline. */
	struct sl_pipeline *p;
	/** Its result. */
	int rc;
	/** Its error. */
	char msg[512];
};

static int
run_main(void *arg)
{
	struct run *r = arg;
	r->rc = sl_pipeline_run(r->p);
	if (r->rc != 0)
		sl_error_format(sl_diag_last(), r->msg, sizeof(r->msg));
	sl_diag_clear(sl_diag_get());
	return 0;
}

/** Run steps `s` (n of them) with `threads`; the pipeline is kept. */
static void
go(struct run *r, struct sl_step **s, int n, uint32_t threads)
{
	struct sl_pipeline_opts o;
	sl_pipeline_opts_init(&o);
	o.batch_size = 64;
	o.outbox_records = 256;
	o.threads = threads;
	r->p = sl_pipeline_new(&o);
	for (int i = 0; i < n; i++)
		if (r->p == NULL || sl_pipeline_add(r->p, s[i]) != 0)
			bail_out("cannot build the pipeline");
	if (run_task("marks", run_main, r) != 0)
		bail_out("the run's loop failed");
}

/** Every mark got exactly one acknowledgement or drop. */
static bool
each_once(const struct gen *g)
{
	for (int i = 0; i < g->n_marks; i++)
		if (g->marks[i].calls != 1)
			return false;
	return true;
}

/** Whether the acknowledgements came in mark order, from the first. */
static bool
in_order(const struct gen *g)
{
	for (int i = 0; i < g->n_acked; i++)
		if (g->acked[i] != i)
			return false;
	return true;
}

/** A source, a step on threads and a holding step. */
static void
build(struct gen **g, struct work **w, struct hold **h, int64_t n,
      int64_t every)
{
	*g = calloc(1, sizeof(**g));
	*w = calloc(1, sizeof(**w));
	*h = calloc(1, sizeof(**h));
	if (*g == NULL || *w == NULL || *h == NULL)
		abort();
	sl_step_init(&(*g)->base, &gen_ops);
	sl_step_init(&(*w)->base, &work_ops);
	sl_step_init(&(*h)->base, &hold_ops);
	(*g)->n = n;
	(*g)->every = every;
	(*g)->committed = hold_committed;
	(*g)->arg = *h;
	(*g)->expected = work_out;
	(*w)->fail_at = -1;
}

/* --- cases -------------------------------------------------------------- */

/** Marks come back in order once what came before them is committed. */
TAP_CASE(order)
{
	for (uint32_t t = 1; t <= 3; t += 2) {
		struct gen *g;
		struct work *w;
		struct hold *h;
		build(&g, &w, &h, 10007, 250);
		struct run r = {0};
		go(&r, (struct sl_step *[]){&g->base, &w->base, &h->base}, 3,
		   t);
		is_int(r.rc, 0, "%u threads: the run succeeds", t);
		is_int(g->n_marks, 40, "%u threads: 40 marks made", t);
		is_int(g->n_acked, 40, "%u threads: all acknowledged", t);
		ok(in_order(g) && each_once(g),
		   "%u threads: in order, each once", t);
		is_int(g->early, 0,
		       "%u threads: each after the records before it were "
		       "committed, and before any after it",
		       t);
		is_int(h->taken, work_out(10007),
		       "%u threads: every record went through", t);
		sl_pipeline_delete(r.p);
	}
}

/** A failing record: the marks before it come back, the rest drop. */
TAP_CASE(failure)
{
	for (uint32_t t = 1; t <= 2; t++) {
		struct gen *g;
		struct work *w;
		struct hold *h;
		build(&g, &w, &h, 20000, 100);
		w->fail_at = 5050;
		struct run r = {0};
		go(&r, (struct sl_step *[]){&g->base, &w->base, &h->base}, 3,
		   t);
		is_int(r.rc, -1, "%u threads: the run fails", t);
		ok(strstr(r.msg, "record 5050 is bad") != NULL,
		   "%u threads: with the record's error (%s)", t, r.msg);
		is_int(g->n_acked, 50,
		       "%u threads: the 50 marks before it are acknowledged",
		       t);
		bool dropped = g->n_marks > 50;
		for (int i = 50; i < g->n_marks; i++)
			dropped = dropped && g->marks[i].fate == 2;
		ok(dropped && each_once(g) && in_order(g) && g->early == 0,
		   "%u threads: the %d after it are dropped, none both", t,
		   g->n_marks - 50);
		sl_pipeline_delete(r.p);
	}
}

/** A writer as the last step: the graph holds what precedes each mark. */
static int64_t
db_nodes(struct gen *g)
{
	sqlite3 *db;
	int64_t n = -1;
	if (sqlite3_open_v2(g->arg, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, "SELECT count(*) FROM node", -1, &st,
		                       NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

/** The nodes the records before a mark make. */
static int64_t
same(int64_t before)
{
	return before;
}

/** With a SQLite writer, an acknowledged mark's nodes are committed. */
TAP_CASE(writer)
{
	char dir[] = "/tmp/sluice-marks-XXXXXX";
	if (mkdtemp(dir) == NULL)
		bail_out("mkdtemp");
	char path[256], uri[300];
	snprintf(path, sizeof(path), "%s/g.db", dir);
	snprintf(uri, sizeof(uri), "sqlite:%s", path);
	for (uint32_t t = 1; t <= 2; t++) {
		unlink(path);
		struct gen *g = calloc(1, sizeof(*g));
		if (g == NULL)
			abort();
		sl_step_init(&g->base, &gen_ops);
		g->n = 5000;
		g->every = 700;
		g->ingestions = true;
		g->committed = db_nodes;
		g->arg = path;
		g->expected = same;
		/* Write batches of 2000: only a mark commits sooner. */
		struct sl_step *wr = sl_graph_writer_new(uri, 2000, false);
		if (wr == NULL)
			bail_out("writer: %s", unit_errmsg());
		struct run r = {0};
		go(&r, (struct sl_step *[]){&g->base, wr}, 2, t);
		is_int(r.rc, 0, "%u threads: the run succeeds (%s)", t, r.msg);
		is_int(g->n_acked, 7, "%u threads: 7 marks acknowledged", t);
		is_int(g->early, 0,
		       "%u threads: at each, the database holds exactly the "
		       "nodes before it",
		       t);
		is_int(db_nodes(g), 5000, "%u threads: and all in the end", t);
		sl_pipeline_delete(r.p);
	}
	unlink(path);
	char wal[300];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	if (sl_graph_register() != 0)
		bail_out("cannot register the graph steps");
	return tap_main(argc, argv);
}
