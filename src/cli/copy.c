/*
 * `sluice copy` (see copy.h).
 */
#include "copy.h"
#include "nscmd.h"
#include "run.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "graph/graph.h"
#include "graph/target.h"
#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/io.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"
#include "sluice/log.h"
#include "sluice/nsschema.h"
#include "sluice/project.h"
#include "sluice/task.h"
#include "sluice/uri.h"

/** Longest target URI. */
#define URI_MAX 2048

/** Most --node, --relationship and --type options. */
#define NAMES_MAX 256

/** Most bytes of one parsed line's values. */
#define LINE_MEM_MAX ((size_t)256 << 20)

/** Lines the writing task takes off the queue at a time. */
#define TAKE_MAX 256

/* --- the queue between the reading and the writing task ----------------- */

/** One exported line waiting in the queue. */
struct qline {
	/** Its bytes (sl_malloc'd, no NUL). */
	char *text;
	/** How many. */
	size_t len;
};

/**
 * The bounded queue of exported lines. The reader may call from the
 * loop's thread (PostgreSQL, Neo4j) or from a worker thread (SQLite):
 * each side sleeps on an eventfd the other pokes, the loop's side through
 * a task wait, another thread's in poll().
 */
struct queue {
	/** Guards everything below but the descriptors. */
	pthread_mutex_t mu;
	/** A ring of COPY_QUEUE_LINES lines. */
	struct qline ring[COPY_QUEUE_LINES];
	/** Index of the oldest line. */
	uint32_t head;
	/** Lines in the ring. */
	uint32_t n;
	/** Bytes of the lines in the ring. */
	size_t bytes;
	/** The reader is done (its result is its task's). */
	bool eof;
	/** The writer gave up: the reader stops at its next line. */
	bool stop;
	/** Poked when lines arrive (or eof). */
	int data_fd;
	/** Poked when room is made (or stop). */
	int room_fd;
};

/** Poke eventfd `fd`. */
static void
poke(int fd)
{
	uint64_t one = 1;
	ssize_t w;
	do
		w = write(fd, &one, sizeof(one));
	while (w < 0 && errno == EINTR);
}

/**
 * Wait until eventfd `fd` was poked and clear it: a task wait on the
 * loop's thread, poll() elsewhere. 0, or -1 with an error.
 */
static int
await_poke(int fd)
{
	if (sl_task_current() != NULL) {
		if (sl_wait_fd(fd, SL_IO_READ, -1) < 0)
			return -1;
	} else {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		while (poll(&p, 1, -1) < 0)
			if (errno != EINTR) {
				sl_diag_set_errno("copy: waiting for room");
				return -1;
			}
	}
	uint64_t v;
	ssize_t r;
	do
		r = read(fd, &v, sizeof(v));
	while (r < 0 && errno == EINTR);
	return 0;
}

/** Set up `q`. 0, or -1 with an error. */
static int
queue_create(struct queue *q)
{
	memset(q, 0, sizeof(*q));
	q->data_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->room_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->data_fd < 0 || q->room_fd < 0) {
		sl_diag_set_errno("copy: eventfd");
		if (q->data_fd >= 0)
			close(q->data_fd);
		if (q->room_fd >= 0)
			close(q->room_fd);
		return -1;
	}
	pthread_mutex_init(&q->mu, NULL);
	return 0;
}

/** Free what `q` holds. */
static void
queue_destroy(struct queue *q)
{
	for (uint32_t i = 0; i < q->n; i++)
		sl_free(q->ring[(q->head + i) % COPY_QUEUE_LINES].text);
	pthread_mutex_destroy(&q->mu);
	close(q->data_fd);
	close(q->room_fd);
}

/** Export callback: queue a copy of one line, waiting for room. */
static int
queue_put(void *arg, const char *json, size_t len)
{
	struct queue *q = arg;
	char *text = sl_malloc(len > 0 ? len : 1);
	if (text == NULL) {
		sl_diag_set(SL_EOOM, "copy: out of memory queueing a line");
		return -1;
	}
	memcpy(text, json, len);
	pthread_mutex_lock(&q->mu);
	while (!q->stop && (q->n == COPY_QUEUE_LINES ||
	                    (q->n > 0 && q->bytes + len > COPY_QUEUE_BYTES))) {
		pthread_mutex_unlock(&q->mu);
		if (await_poke(q->room_fd) != 0) {
			sl_free(text);
			return -1;
		}
		pthread_mutex_lock(&q->mu);
	}
	if (q->stop) {
		pthread_mutex_unlock(&q->mu);
		sl_free(text);
		sl_diag_set(SL_ECANCELLED, "copy: the writing side stopped");
		return -1;
	}
	q->ring[(q->head + q->n) % COPY_QUEUE_LINES] =
	        (struct qline){.text = text, .len = len};
	q->n++;
	q->bytes += len;
	bool first = q->n == 1;
	pthread_mutex_unlock(&q->mu);
	if (first)
		poke(q->data_fd);
	return 0;
}

/**
 * Take up to TAKE_MAX lines into `out`; *n gets how many (0 at the end).
 * Waits while the queue is empty and the reader is not done. 0, or -1.
 */
static int
queue_take(struct queue *q, struct qline *out, uint32_t *n)
{
	pthread_mutex_lock(&q->mu);
	while (q->n == 0 && !q->eof) {
		pthread_mutex_unlock(&q->mu);
		if (await_poke(q->data_fd) != 0)
			return -1;
		pthread_mutex_lock(&q->mu);
	}
	uint32_t k = 0;
	for (; k < TAKE_MAX && q->n > 0; k++) {
		out[k] = q->ring[q->head];
		q->head = (q->head + 1) % COPY_QUEUE_LINES;
		q->n--;
		q->bytes -= out[k].len;
	}
	pthread_mutex_unlock(&q->mu);
	if (k > 0)
		poke(q->room_fd);
	*n = k;
	return 0;
}

/** Mark the queue done from the reader's side and wake the writer. */
static void
queue_eof(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->eof = true;
	pthread_mutex_unlock(&q->mu);
	poke(q->data_fd);
}

/** Tell the reader to stop (the writer failed) and wake it. */
static void
queue_stop(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_mutex_unlock(&q->mu);
	poke(q->room_fd);
}

/* --- which types are copied --------------------------------------------- */

/** One relationship type between two node types that is copied. */
struct adj {
	/** The node type it starts from. */
	const char *from;
	/** The relationship type. */
	const char *rel;
	/** The node type it points to. */
	const char *to;
};

/** What is copied. */
struct filter {
	/** Everything (--all, or no project file). */
	bool all;
	/** Node types copied (borrowed from the schema). */
	const char **nodes;
	/** Number of `nodes`. */
	uint32_t n_nodes;
	/** Relationship types copied, by their end types. */
	struct adj *adjs;
	/** Number of `adjs`. */
	uint32_t n_adjs;
};

/** Whether `name` is one of names[0..n). */
static bool
listed(const char *const *names, uint32_t n, const char *name, size_t len)
{
	for (uint32_t i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return true;
	return false;
}

/** Add `name` to names[0..*n) unless there. */
static void
add_name(const char **names, uint32_t *n, const char *name)
{
	if (!listed(names, *n, name, strlen(name)))
		names[(*n)++] = name;
}

/** Whether `s` holds a type called `name` of the kind `rel`. */
static bool
has_type(const struct sl_ns_schema *s, bool rel, const char *name)
{
	for (uint32_t i = 0; i < s->n_types; i++)
		if (s->types[i]->rel == rel &&
		    strcmp(s->types[i]->name, name) == 0)
			return true;
	return false;
}

/** The options that choose types. */
struct type_opts {
	/** --node values. */
	const char *node[NAMES_MAX];
	/** How many. */
	uint32_t n_node;
	/** --relationship values. */
	const char *rel[NAMES_MAX];
	/** How many. */
	uint32_t n_rel;
	/** --type values. */
	const char *type[NAMES_MAX];
	/** How many. */
	uint32_t n_type;
};

/**
 * Fill `f` from schema `s` and the options, with Nodestream's rules
 * (Schema.filtered): unknown names are skipped with a warning; no node
 * name selects every node type, no relationship name every relationship
 * type; a relationship type survives between two node types when one of
 * them is selected, and both ends are then copied. 0, or -1 (SL_EOOM).
 */
static int
filter_build(struct filter *f, const struct sl_ns_schema *s,
             const struct type_opts *o)
{
	const char **nf = sl_calloc(NAMES_MAX * 2 + 1, sizeof(*nf));
	const char **rf = sl_calloc(NAMES_MAX * 2 + 1, sizeof(*rf));
	f->nodes = sl_calloc((size_t)s->n_types + 1, sizeof(*f->nodes));
	f->adjs = sl_calloc((size_t)s->n_adjs + 1, sizeof(*f->adjs));
	if (nf == NULL || rf == NULL || f->nodes == NULL || f->adjs == NULL) {
		sl_free(nf);
		sl_free(rf);
		sl_diag_set(SL_EOOM, "copy: out of memory");
		return -1;
	}
	uint32_t n_nf = 0, n_rf = 0;
	for (uint32_t i = 0; i < o->n_node; i++) {
		if (has_type(s, false, o->node[i]))
			add_name(nf, &n_nf, o->node[i]);
		else
			sl_log_warn("Unknown node type '%s' - skipping",
			            o->node[i]);
	}
	for (uint32_t i = 0; i < o->n_rel; i++) {
		if (has_type(s, true, o->rel[i]))
			add_name(rf, &n_rf, o->rel[i]);
		else
			sl_log_warn("Unknown relationship type '%s' - skipping",
			            o->rel[i]);
	}
	for (uint32_t i = 0; i < o->n_type; i++) {
		bool node = has_type(s, false, o->type[i]);
		bool rel = has_type(s, true, o->type[i]);
		if (node)
			add_name(nf, &n_nf, o->type[i]);
		if (rel)
			add_name(rf, &n_rf, o->type[i]);
		if (!node && !rel)
			sl_log_warn("Unknown type '%s' - skipping", o->type[i]);
	}
	for (uint32_t i = 0; i < s->n_types; i++) {
		const struct sl_ns_type *t = s->types[i];
		if (!t->rel &&
		    (n_nf == 0 || listed(nf, n_nf, t->name, strlen(t->name))))
			add_name(f->nodes, &f->n_nodes, t->name);
	}
	for (uint32_t i = 0; i < s->n_adjs; i++) {
		const struct sl_ns_adj *a = &s->adjs[i];
		if (n_rf > 0 && !listed(rf, n_rf, a->rel, strlen(a->rel)))
			continue;
		bool touches = n_nf == 0 ||
		               listed(nf, n_nf, a->from, strlen(a->from)) ||
		               listed(nf, n_nf, a->to, strlen(a->to));
		if (!touches)
			continue;
		f->adjs[f->n_adjs++] = (struct adj){
		        .from = a->from, .rel = a->rel, .to = a->to};
		/* The other end's type comes along (never a dangling end). */
		if (has_type(s, false, a->from))
			add_name(f->nodes, &f->n_nodes, a->from);
		if (has_type(s, false, a->to))
			add_name(f->nodes, &f->n_nodes, a->to);
	}
	sl_free(nf);
	sl_free(rf);
	return 0;
}

/** Whether relationship type `rel` from `from` to `to` is copied. */
static bool
filter_rel(const struct filter *f, const struct sl_value *from,
           const struct sl_value *rel, const struct sl_value *to)
{
	if (f->all)
		return true;
	for (uint32_t i = 0; i < f->n_adjs; i++) {
		const struct adj *a = &f->adjs[i];
		if (strlen(a->rel) == rel->len &&
		    memcmp(a->rel, rel->u.s, rel->len) == 0 &&
		    strlen(a->from) == from->len &&
		    memcmp(a->from, from->u.s, from->len) == 0 &&
		    strlen(a->to) == to->len &&
		    memcmp(a->to, to->u.s, to->len) == 0)
			return true;
	}
	return false;
}

/* --- the copy ----------------------------------------------------------- */

/** Everything one copy needs and counts. */
struct copy {
	/** Source URI. */
	const char *from;
	/** Destination URI. */
	const char *to;
	/** Desired ingestions per write batch (0: the target's default). */
	uint32_t batch_size;
	/** What is copied. */
	struct filter filter;
	/** The queue between the two tasks. */
	struct queue q;
	/** The source, open to read. */
	struct sl_target *source;
	/** The destination. */
	struct sl_target *target;
	/** The batch being filled. */
	struct sl_graph_batch *batch;
	/** Memory of the line being added. */
	struct sl_arena line_mem;
	/** Identity of the last relationship line (parallel ones). */
	struct sl_buf last_rel;
	/** This relationship's identity. */
	struct sl_buf this_rel;
	/** What the destination committed. */
	struct sl_graph_counts counts;
	/** Node lines read from the source. */
	uint64_t nodes_read;
	/** Relationship lines read. */
	uint64_t rels_read;
	/** Node lines added to write batches. */
	uint64_t nodes_written;
	/** Relationship lines added to write batches. */
	uint64_t rels_written;
	/** Lines of types not copied. */
	uint64_t left_out;
	/** Write batches sent. */
	uint64_t batches;
};

/** The reading task: export the source (open) into the queue. */
static int
read_main(void *arg)
{
	struct copy *c = arg;
	int rc = sl_target_export(c->source, queue_put, &c->q);
	queue_eof(&c->q);
	return rc;
}

/** Write the batch being filled, if it holds anything. 0, or -1. */
static int
flush(struct copy *c)
{
	if (c->batch->n_ingestions == 0)
		return 0;
	int rc = sl_target_write(c->target, c->batch, &c->counts);
	sl_graph_batch_reset(c->batch);
	c->batches++;
	return rc;
}

/** A member of a value being built. */
static struct sl_member
mem(const char *key, struct sl_value v)
{
	return (struct sl_member){
	        .key = key, .key_len = (uint32_t)strlen(key), .val = v};
}

/** A static string value. */
static struct sl_value
str(const char *s)
{
	return sl_str_ref(s, (uint32_t)strlen(s));
}

/** Member `key` of `o` when it has type `t`, else NULL. */
static const struct sl_value *
get(const struct sl_value *o, const char *key, enum sl_vtype t)
{
	const struct sl_value *v =
	        o->type == SL_VOBJECT ? sl_object_get_cstr(o, key) : NULL;
	return v != NULL && v->type == t ? v : NULL;
}

/** An error about a line of the export that does not read. */
static int
bad_line(const char *what)
{
	sl_diag_set(SL_EPARSE, "copy: an exported line %s", what);
	return -1;
}

/** Add a node line `v`. 0, or -1. */
static int
add_node_line(struct copy *c, const struct sl_value *v)
{
	const struct sl_value *type = get(v, "node", SL_VSTR);
	const struct sl_value *key = get(v, "key", SL_VOBJECT);
	const struct sl_value *labels = get(v, "labels", SL_VARRAY);
	const struct sl_value *props = get(v, "props", SL_VOBJECT);
	if (type == NULL || key == NULL)
		return bad_line("has no node type or key");
	c->nodes_read++;
	if (!c->filter.all &&
	    !listed(c->filter.nodes, c->filter.n_nodes, type->u.s, type->len)) {
		c->left_out++;
		return 0;
	}
	struct sl_member node[5] = {
	        mem("type", *type),
	        mem("key", *key),
	        mem("labels", labels != NULL ? *labels : sl_array_ref(NULL, 0)),
	        mem("props", props != NULL ? *props : sl_object_ref(NULL, 0)),
	        mem("rule", str("EAGER")),
	};
	struct sl_member ing[1] = {mem("source", sl_object_ref(node, 5))};
	struct sl_value iv = sl_object_ref(ing, 1);
	c->nodes_written++;
	return sl_graph_batch_add(c->batch, &iv);
}

/** Add a relationship line `v`. 0, or -1. */
static int
add_rel_line(struct copy *c, const struct sl_value *v)
{
	const struct sl_value *type = get(v, "rel", SL_VSTR);
	const struct sl_value *from = get(v, "from", SL_VOBJECT);
	const struct sl_value *to = get(v, "to", SL_VOBJECT);
	const struct sl_value *key = get(v, "key", SL_VOBJECT);
	const struct sl_value *props = get(v, "props", SL_VOBJECT);
	const struct sl_value *ft = from ? get(from, "node", SL_VSTR) : NULL;
	const struct sl_value *fk = from ? get(from, "key", SL_VOBJECT) : NULL;
	const struct sl_value *tt = to ? get(to, "node", SL_VSTR) : NULL;
	const struct sl_value *tk = to ? get(to, "key", SL_VOBJECT) : NULL;
	if (type == NULL || ft == NULL || fk == NULL || tt == NULL ||
	    tk == NULL)
		return bad_line("has no relationship type or endpoints");
	c->rels_read++;
	if (!filter_rel(&c->filter, ft, type, tt)) {
		c->left_out++;
		return 0;
	}
	struct sl_value kv = key != NULL ? *key : sl_object_ref(NULL, 0);
	/* The identity: the line without its properties. The export is
	 * ordered by it, so parallel relationships are neighbours. */
	struct sl_member idm[4] = {mem("from", *from), mem("key", kv),
	                           mem("rel", *type), mem("to", *to)};
	struct sl_value id = sl_object_ref(idm, 4);
	sl_buf_reset(&c->this_rel);
	if (sl_json_write(&c->this_rel, &id, 0) != 0)
		return -1;
	bool again = c->this_rel.len == c->last_rel.len &&
	             memcmp(c->this_rel.data, c->last_rel.data,
	                    c->this_rel.len) == 0;
	if (!again) {
		sl_buf_reset(&c->last_rel);
		if (sl_buf_append_grow(&c->last_rel, c->this_rel.data,
		                       c->this_rel.len) != 0)
			return -1;
	} else if (flush(c) != 0) {
		/* A batch merges repeats: each one goes in a batch alone. */
		return -1;
	}
	/* The ends exist: their nodes came first, and the types of both ends
	 * are copied. They are written EAGER with nothing to set, not
	 * MATCH_ONLY, which PostgreSQL's store checks without its index. */
	struct sl_member src[3] = {mem("type", *ft), mem("key", *fk),
	                           mem("rule", str("EAGER"))};
	struct sl_member dst[3] = {mem("type", *tt), mem("key", *tk),
	                           mem("rule", str("EAGER"))};
	struct sl_member rel[6] = {
	        mem("type", *type),
	        mem("key", kv),
	        mem("props", props != NULL ? *props : sl_object_ref(NULL, 0)),
	        mem("rule", str(again ? "CREATE" : "EAGER")),
	        mem("outbound", sl_bool(true)),
	        mem("node", sl_object_ref(dst, 3)),
	};
	struct sl_value relv = sl_object_ref(rel, 6);
	struct sl_value rels = sl_array_ref(&relv, 1);
	struct sl_member ing[2] = {mem("source", sl_object_ref(src, 3)),
	                           mem("rels", rels)};
	struct sl_value iv = sl_object_ref(ing, 2);
	c->rels_written++;
	return sl_graph_batch_add(c->batch, &iv);
}

/** Parse and add one exported line. 0, or -1. */
static int
add_line(struct copy *c, const struct qline *l)
{
	sl_arena_reset(&c->line_mem);
	struct sl_value v;
	if (sl_json_parse(l->text, l->len, &c->line_mem, NULL, "export", &v) !=
	    0)
		return -1;
	if (v.type != SL_VOBJECT)
		return bad_line("is not an object");
	int rc = sl_object_get_cstr(&v, "node") != NULL ? add_node_line(c, &v)
	         : sl_object_get_cstr(&v, "rel") != NULL
	                 ? add_rel_line(c, &v)
	                 : bad_line("is neither a node nor a relationship");
	if (rc == 0 && c->batch->n_ingestions >= c->batch_size)
		rc = flush(c);
	return rc;
}

/** The writing side, once the target is open. 0, or -1. */
static int
write_all(struct copy *c)
{
	struct qline *take = sl_calloc(TAKE_MAX, sizeof(*take));
	if (take == NULL) {
		sl_diag_set(SL_EOOM, "copy: out of memory");
		return -1;
	}
	int rc = 0;
	for (;;) {
		uint32_t n = 0;
		if (queue_take(&c->q, take, &n) != 0) {
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		uint32_t i = 0;
		for (; i < n && rc == 0; i++)
			rc = add_line(c, &take[i]);
		for (uint32_t k = 0; k < n; k++)
			sl_free(take[k].text);
		if (rc != 0)
			break;
	}
	sl_free(take);
	if (rc == 0)
		rc = flush(c);
	return rc;
}

/**
 * The main task: open the source (first, so that a source that does not
 * open creates no destination) and the destination, start the reader,
 * write what it reads.
 */
static int
copy_main(void *arg)
{
	struct copy *c = arg;
	c->source = sl_target_open_ro(c->from);
	if (c->source == NULL)
		return -1;
	c->target = sl_target_open(c->to);
	c->batch = sl_graph_batch_new();
	struct sl_task *reader = NULL;
	if (c->target != NULL && c->batch != NULL)
		reader = sl_task_spawn(sl_loop_current(), "copy-read",
		                       read_main, c);
	if (reader == NULL) {
		sl_graph_batch_delete(c->batch);
		(void)sl_target_close(c->target);
		(void)sl_target_close(c->source);
		return -1;
	}
	if (c->batch_size == 0)
		c->batch_size = sl_target_batch_default(c->target);
	int rc = write_all(c);
	struct sl_diag err;
	if (rc != 0) {
		sl_diag_stash(&err);
		queue_stop(&c->q);
	}
	int rrc = sl_task_join(reader);
	if (rc != 0) {
		/* The writer's error is the one to report. */
		sl_diag_restore(&err);
	} else if (rrc != 0) {
		rc = -1;
	}
	if (rc == 0)
		rc = sl_target_commit(c->target, &c->counts);
	else
		(void)sl_target_commit(c->target, &c->counts);
	if (sl_target_close(c->target) != 0 && rc == 0)
		rc = -1;
	if (sl_target_close(c->source) != 0 && rc == 0)
		rc = -1;
	sl_graph_batch_delete(c->batch);
	return rc;
}

/* --- the command -------------------------------------------------------- */

/** getopt values of copy's long options that have no short form. */
enum {
	OPT_NODE = 400,
	OPT_REL,
	OPT_TYPE,
	OPT_ALL,
	OPT_BATCH,
	OPT_PRELOAD,
	OPT_PROMETHEUS,
	OPT_IGNORED, /**< Nodestream's options that sluice ignores */
};

/** Print the usage of `copy` to `out`. */
static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice copy --from TARGET --to TARGET [options]\n"
	        "\n"
	        "Copy the graph in one target to another: nodes, then "
	        "relationships, in batches,\n"
	        "in bounded memory. A TARGET is a URI (sqlite:PATH, "
	        "postgresql://..., bolt://...)\n"
	        "or a target of the project file.\n"
	        "\n"
	        "options:\n"
	        "  -f, --from TARGET      the target to copy from\n"
	        "  -t, --to TARGET        the target to copy to\n"
	        "  --node TYPE            copy this node type (repeatable; "
	        "default: all)\n"
	        "  --relationship TYPE    copy this relationship type "
	        "(repeatable; default: all)\n"
	        "  --type TYPE            a node or relationship type "
	        "(repeatable)\n"
	        "  --all                  every node and relationship of "
	        "the source, schema or not\n"
	        "  --batch-size N         desired ingestions per write "
	        "batch (default: the target's)\n"
	        "  -p, --project FILE     the project file (default "
	        "./nodestream.yaml)\n"
	        "  -j, --json             log lines and the summary as JSON\n"
	        "  --preload-nodes        accepted: nodes always come "
	        "first\n"
	        "  -c, --concurrency-limit N, --step-outbox-size N, "
	        "--flush-concurrency N,\n"
	        "  --connector-option K=V, --retriever-option K=V, "
	        "--shard-size N,\n"
	        "  -r, --reporting-frequency N, "
	        "--metrics-interval-in-seconds N\n"
	        "  --prometheus, --prometheus-listen-port N, "
	        "--prometheus-listen-address A,\n"
	        "  --prometheus-certfile F, --prometheus-keyfile F\n"
	        "                         Nodestream's tuning and metrics "
	        "options: accepted and ignored\n"
	        "  -q, --quiet            no summary\n"
	        "  -h, --help             this help\n"
	        "\n"
	        "Without a project file, or with --all, everything is "
	        "copied; with one, the types\nof its schema (as "
	        "Nodestream). Exit status: 0, 1 on failure, 2 for "
	        "usage.\n");
}

/** Resolve `t` (a URI, or a target of `p`) into `uri`. 0, or -1. */
static int
resolve(const struct sl_project *p, const char *t, char *uri, size_t size)
{
	if (strchr(t, ':') != NULL) {
		if (strlen(t) >= size) {
			sl_diag_set(SL_ELIMIT, "target URI too long");
			return -1;
		}
		memcpy(uri, t, strlen(t) + 1);
		return 0;
	}
	if (p == NULL) {
		sl_diag_set(SL_EINVAL,
		            "unknown target '%s': give a URI (sqlite:PATH, "
		            "postgresql://...), or a target of a project file "
		            "(there is no %s here)",
		            t, SL_PROJECT_FILE);
		return -1;
	}
	return sl_project_target_uri(p, t, uri, size, NULL);
}

/** Free what the filter holds. */
static void
filter_destroy(struct filter *f)
{
	sl_free(f->nodes);
	sl_free(f->adjs);
}

/** Run the copy `c` on a loop of its own. 0, or -1 with an error. */
static int
run_copy(struct copy *c)
{
	if (queue_create(&c->q) != 0)
		return -1;
	sl_arena_create(&c->line_mem, 0, LINE_MEM_MAX);
	sl_buf_create(&c->last_rel, LINE_MEM_MAX);
	sl_buf_create(&c->this_rel, LINE_MEM_MAX);
	int rc = -1;
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop != NULL) {
		rc = sl_loop_run_main(loop, "copy", copy_main, c);
		sl_loop_delete(loop);
	}
	sl_buf_destroy(&c->last_rel);
	sl_buf_destroy(&c->this_rel);
	sl_arena_destroy(&c->line_mem);
	queue_destroy(&c->q);
	return rc;
}

/**
 * Print the summary of copy `c` from `rf` to `rt` (redacted) to stderr:
 * lines of text, or one JSON object with `json`.
 */
static void
summary(const struct copy *c, bool ok, const char *rf, const char *rt,
        double secs, bool json)
{
	unsigned long long v[] = {c->nodes_read,
	                          c->rels_read,
	                          c->left_out,
	                          c->nodes_written,
	                          c->counts.nodes_created,
	                          c->rels_written,
	                          c->counts.rels_created,
	                          c->counts.rels_skipped};
	if (!json) {
		fprintf(stderr,
		        "copy %s: %s -> %s in %.2f s\n"
		        "  read:    %llu nodes, %llu relationships (%llu of "
		        "types not copied)\n"
		        "  written: %llu nodes (%llu new), %llu relationships "
		        "(%llu new, %llu skipped: an endpoint is missing)\n",
		        ok ? "done" : "FAILED", rf, rt, secs, v[0], v[1], v[2],
		        v[3], v[4], v[5], v[6], v[7]);
		return;
	}
	struct sl_buf b;
	sl_buf_create(&b, 1 << 16);
	static const char *const names[] = {"nodes_read",
	                                    "relationships_read",
	                                    "left_out",
	                                    "nodes_written",
	                                    "nodes_created",
	                                    "relationships_written",
	                                    "relationships_created",
	                                    "relationships_skipped"};
	int rc = sl_buf_printf(
	        &b, "{\"copy\": \"%s\", \"from\": ", ok ? "done" : "failed");
	rc = rc != 0 ? rc : sl_json_write_ascii(&b, rf, strlen(rf));
	rc = rc != 0 ? rc : sl_buf_puts(&b, ", \"to\": ");
	rc = rc != 0 ? rc : sl_json_write_ascii(&b, rt, strlen(rt));
	rc = rc != 0 ? rc : sl_buf_printf(&b, ", \"seconds\": %.3f", secs);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]) && rc == 0; i++)
		rc = sl_buf_printf(&b, ", \"%s\": %llu", names[i], v[i]);
	if (rc == 0 && sl_buf_puts(&b, "}\n") == 0)
		fwrite(b.data, 1, b.len, stderr);
	sl_buf_destroy(&b);
}

/** Log which types are copied. */
static void
log_types(const struct filter *f)
{
	char text[4096];
	size_t used = 0;
	text[0] = '\0';
	for (uint32_t i = 0; i < f->n_nodes && used < sizeof(text); i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
		                         "%s%s", i ? ", " : "", f->nodes[i]);
	sl_log_info("node types: %s", f->n_nodes ? text : "(none)");
	used = 0;
	text[0] = '\0';
	for (uint32_t i = 0; i < f->n_adjs && used < sizeof(text); i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
		                         "%s(%s)-[%s]->(%s)", i ? ", " : "",
		                         f->adjs[i].from, f->adjs[i].rel,
		                         f->adjs[i].to);
	sl_log_info("relationship types: %s", f->n_adjs ? text : "(none)");
}

int
sl_cli_copy(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"from", required_argument, NULL, 'f'},
	        {"to", required_argument, NULL, 't'},
	        {"project", required_argument, NULL, 'p'},
	        {"json", no_argument, NULL, 'j'},
	        {"node", required_argument, NULL, OPT_NODE},
	        {"relationship", required_argument, NULL, OPT_REL},
	        {"type", required_argument, NULL, OPT_TYPE},
	        {"all", no_argument, NULL, OPT_ALL},
	        {"batch-size", required_argument, NULL, OPT_BATCH},
	        {"preload-nodes", no_argument, NULL, OPT_PRELOAD},
	        {"prometheus", no_argument, NULL, OPT_PROMETHEUS},
	        {"concurrency-limit", required_argument, NULL, 'c'},
	        {"reporting-frequency", required_argument, NULL, 'r'},
	        {"step-outbox-size", required_argument, NULL, OPT_IGNORED},
	        {"flush-concurrency", required_argument, NULL, OPT_IGNORED},
	        {"connector-option", required_argument, NULL, OPT_IGNORED},
	        {"retriever-option", required_argument, NULL, OPT_IGNORED},
	        {"shard-size", required_argument, NULL, OPT_IGNORED},
	        {"metrics-interval-in-seconds", required_argument, NULL,
	         OPT_IGNORED},
	        {"prometheus-listen-port", required_argument, NULL,
	         OPT_IGNORED},
	        {"prometheus-listen-address", required_argument, NULL,
	         OPT_IGNORED},
	        {"prometheus-certfile", required_argument, NULL, OPT_IGNORED},
	        {"prometheus-keyfile", required_argument, NULL, OPT_IGNORED},
	        GLOBAL_LONGOPTS,
	};
	struct type_opts to;
	memset(&to, 0, sizeof(to));
	const char *from = NULL, *dest = NULL, *project = NULL;
	bool all = false, quiet = false, json = false;
	long batch = 0;
	int ch, li = 0;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "f:t:p:jc:r:hvqnV", longopts,
	                         &li)) != -1) {
		switch (ch) {
		case 'f':
			from = optarg;
			break;
		case 't':
			dest = optarg;
			break;
		case 'p':
			project = optarg;
			break;
		case 'j':
			sl_log_set_format(SL_LOG_JSON);
			json = true;
			break;
		case OPT_NODE:
		case OPT_REL:
		case OPT_TYPE: {
			const char **v = ch == OPT_NODE  ? to.node
			                 : ch == OPT_REL ? to.rel
			                                 : to.type;
			uint32_t *n = ch == OPT_NODE  ? &to.n_node
			              : ch == OPT_REL ? &to.n_rel
			                              : &to.n_type;
			if (*n == NAMES_MAX) {
				fprintf(stderr,
				        "sluice copy: at most %d type "
				        "names of each kind\n",
				        NAMES_MAX);
				return 2;
			}
			v[(*n)++] = optarg;
			break;
		}
		case OPT_ALL:
			all = true;
			break;
		case OPT_BATCH: {
			char *end;
			errno = 0;
			batch = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || batch < 1 ||
			    batch > 10000000) {
				fprintf(stderr,
				        "sluice copy: --batch-size %s: "
				        "expected "
				        "a whole number from 1 to 10000000\n",
				        optarg);
				return 2;
			}
			break;
		}
		case OPT_PRELOAD:
			break;
		case OPT_PROMETHEUS:
			sl_log_info("copy: --prometheus is ignored (no metrics "
			            "server in sluice copy)");
			break;
		case 'c':
		case 'r':
		case OPT_IGNORED:
			sl_log_info("copy: --%s is ignored by sluice",
			            ch == 'c'   ? "concurrency-limit"
			            : ch == 'r' ? "reporting-frequency"
			                        : longopts[li].name);
			break;
		case 'q':
			quiet = true;
			sl_log_set_level(SL_LOG_ERROR);
			break;
		default: {
			int g = sl_cli_global_option(ch, "copy", argv, usage);
			if (g != 0)
				return g > 0 ? 0 : 2;
		}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice copy: unexpected argument '%s'\n",
		        argv[optind]);
		usage(stderr);
		return 2;
	}
	if (all && to.n_node + to.n_rel + to.n_type > 0) {
		fprintf(stderr, "sluice copy: --all copies every type: give "
		                "it without --node, --relationship or "
		                "--type\n");
		return 2;
	}
	struct sl_project *p = NULL;
	if (project != NULL || access(SL_PROJECT_FILE, F_OK) == 0) {
		p = sl_project_load(project != NULL ? project
		                                    : SL_PROJECT_FILE);
		if (p == NULL) {
			sl_cli_report();
			return 1;
		}
	}
	if (from == NULL || dest == NULL) {
		fprintf(stderr, "sluice copy: give --from TARGET and --to "
		                "TARGET");
		for (uint32_t i = 0; p != NULL && i < sl_project_n_targets(p);
		     i++)
			fprintf(stderr, "%s%s", i ? ", " : " (the project's: ",
			        sl_project_target(p, i)->name);
		fprintf(stderr, "%s\n",
		        p != NULL && sl_project_n_targets(p) ? ")" : "");
		sl_project_delete(p);
		return 2;
	}
	char from_uri[URI_MAX], to_uri[URI_MAX];
	struct copy c;
	memset(&c, 0, sizeof(c));
	c.from = from_uri;
	c.to = to_uri;
	c.batch_size = (uint32_t)batch;
	struct sl_ns_schema schema = {0};
	int rc = 0;
	if (resolve(p, from, from_uri, sizeof(from_uri)) != 0 ||
	    resolve(p, dest, to_uri, sizeof(to_uri)) != 0)
		rc = -1;
	if (rc == 0 && strcmp(from_uri, to_uri) == 0) {
		sl_diag_set(SL_EINVAL, "--from and --to name the same target");
		rc = -1;
	}
	if (rc == 0 && p == NULL && to.n_node + to.n_rel + to.n_type > 0) {
		sl_diag_set(SL_EINVAL,
		            "--node, --relationship and --type name types of "
		            "a project's schema, and there is no %s here "
		            "(give -p FILE, or --all)",
		            SL_PROJECT_FILE);
		rc = -1;
	}
	c.filter.all = all || p == NULL;
	if (rc == 0 && !c.filter.all)
		rc = sl_cli_ns_project_schema(p, false, &schema) != 0 ||
		                     filter_build(&c.filter, &schema, &to) != 0
		             ? -1
		             : 0;
	if (rc != 0) {
		sl_cli_report();
		filter_destroy(&c.filter);
		sl_ns_schema_destroy(&schema);
		sl_project_delete(p);
		return 1;
	}
	char rf[URI_MAX], rt[URI_MAX];
	sl_uri_redact(from_uri, rf, sizeof(rf));
	sl_uri_redact(to_uri, rt, sizeof(rt));
	sl_log_info("Starting copy from %s to %s", rf, rt);
	if (c.filter.all)
		sl_log_info("copying every node and relationship type");
	else
		log_types(&c.filter);
	signal(SIGPIPE, SIG_IGN);
	double t0 = sl_clock();
	rc = run_copy(&c);
	double secs = sl_clock() - t0;
	if (rc != 0)
		sl_cli_report();
	if (!quiet)
		summary(&c, rc == 0, rf, rt, secs, json);
	filter_destroy(&c.filter);
	sl_ns_schema_destroy(&schema);
	sl_project_delete(p);
	return rc == 0 ? 0 : 1;
}
