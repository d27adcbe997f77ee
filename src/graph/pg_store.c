/*
 * sluice: the PostgreSQL graph store: node and rel tables with JSONB,
 * batches written in lanes through COPY and set-based upserts.
 */
#include "pg_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/db.h"
#include "sluice/diag.h"
#include "sluice/graph.h"
#include "sluice/hash.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"
#include "sluice/log.h"
#include "sluice/task.h"

/** Default lanes. */
#define LANES_DEFAULT 4

/**
 * Writes of a phase per lane it takes before it takes another, by
 * default: a lane is a connection (an authentication, a server process),
 * worth it for a share this large, not for a small batch's few writes.
 */
#define LANE_MIN_WRITES 512
/** Bytes of one canonical text (key, props) at most. */
#define TEXT_MAX ((size_t)64 << 20)
/** Rows fetched per cursor round trip when exporting. */
#define EXPORT_BATCH 5000

/**
 * Fill factor of the node and rel tables: the share of each heap page a
 * fresh load fills. A write that changes a row's properties only (a
 * re-run stamps every row it names with a new time) can then put the new
 * version on the same page: a HOT update, which adds no index entry. With
 * full pages every such update inserts into each of the table's indexes
 * (4 for rel) and leaves dead entries behind, and a re-run cost about 1.4
 * to 1.7 times the fresh load (docs/performance.md).
 */
#define FILLFACTOR "50"

/** The advisory lock that serialises schema changes of stores. */
#define SCHEMA_LOCK "SELECT pg_advisory_xact_lock(7362843214);"

/**
 * The indexes of relationships by source and by target, which no write of
 * the store reads. A load into an empty `rel` table builds them at its
 * end (rel_idx_defer()).
 */
#define REL_IDX_SQL                                                        \
	"CREATE INDEX IF NOT EXISTS sluice_rel_out ON rel(from_id, type);" \
	"CREATE INDEX IF NOT EXISTS sluice_rel_in ON rel(to_id, type);"

/** The schema, version 1 (the SQLite store's, with JSONB). */
static const char schema_sql[] = SCHEMA_LOCK
        "CREATE TABLE IF NOT EXISTS sluice_meta("
        " name text PRIMARY KEY, value text NOT NULL);"
        "CREATE TABLE IF NOT EXISTS node("
        " id bigserial PRIMARY KEY,"
        " type text NOT NULL,"
        " key text NOT NULL,"
        " labels jsonb NOT NULL DEFAULT '[]',"
        " props jsonb NOT NULL DEFAULT '{}') WITH (fillfactor = " FILLFACTOR
        ");"
        "CREATE UNIQUE INDEX IF NOT EXISTS sluice_node_type_key"
        " ON node(type, key);"
        "CREATE TABLE IF NOT EXISTS rel("
        " id bigserial PRIMARY KEY,"
        " type text NOT NULL,"
        " from_id bigint NOT NULL,"
        " to_id bigint NOT NULL,"
        " key text NOT NULL DEFAULT '{}',"
        " props jsonb NOT NULL DEFAULT '{}',"
        " multi boolean NOT NULL DEFAULT false) WITH (fillfactor = " FILLFACTOR
        ");"
        "CREATE UNIQUE INDEX IF NOT EXISTS sluice_rel_identity"
        " ON rel(from_id, type, to_id, key) WHERE NOT multi;"
        /* The sorted label set of a and b without the node's own type. */
        "CREATE OR REPLACE FUNCTION sluice_labels(a jsonb, b jsonb, own "
        "text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$"
        " SELECT coalesce(jsonb_agg(x ORDER BY x), '[]'::jsonb)"
        " FROM (SELECT DISTINCT x COLLATE \"C\" AS x"
        " FROM jsonb_array_elements_text(a || b) AS e(x)"
        " WHERE x <> own) AS d $$;"
        /* Whether merging chg into cur changes nothing (null: absent). */
        "CREATE OR REPLACE FUNCTION sluice_same(cur jsonb, chg jsonb) "
        "RETURNS boolean LANGUAGE sql IMMUTABLE AS $$"
        " SELECT NOT EXISTS (SELECT 1 FROM jsonb_each(chg) AS e"
        " WHERE (cur -> e.key) IS DISTINCT FROM"
        " nullif(e.value, 'null'::jsonb)) $$;"
        /* Objects merged in order, later members winning (nulls kept,
         * to remove the property). */
        "CREATE OR REPLACE AGGREGATE sluice_merge(jsonb) ("
        " SFUNC = jsonb_concat, STYPE = jsonb, INITCOND = '{}');"
        /* Whether a node key matches an op's key of patterns. */
        "CREATE OR REPLACE FUNCTION sluice_fuzzy(nkey text, pat text) "
        "RETURNS boolean LANGUAGE sql IMMUTABLE AS $$"
        " SELECT NOT EXISTS (SELECT 1 FROM jsonb_each(pat::jsonb) AS p"
        " WHERE CASE WHEN jsonb_typeof(p.value) = 'string' THEN NOT"
        " coalesce(jsonb_typeof(nkey::jsonb -> p.key) = 'string' AND"
        " (nkey::jsonb ->> p.key) ~ ('^(?:' || (p.value #>> '{}') || ')$'),"
        " false)"
        " ELSE (nkey::jsonb -> p.key) IS DISTINCT FROM p.value END) $$;"
        /* Tokens of committed transactions with CREATE relationships,
         * so that a retry after a lost COMMIT reply can tell whether it
         * committed (a store deletes its own when it closes). */
        "CREATE TABLE IF NOT EXISTS sluice_commit("
        " token text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());"
        "INSERT INTO sluice_meta(name, value) VALUES ('schema_version', "
        "'1') ON CONFLICT DO NOTHING;";

/** Staging tables of a connection (temporary, emptied at commit). */
static const char stage_sql[] =
        "CREATE TEMP TABLE IF NOT EXISTS sl_stage_node("
        " type text, key text, labels jsonb, props jsonb, rule int2,"
        " late bool)"
        " ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS sl_stage_rel("
        " ord int4, type text, from_type text, from_key text,"
        " from_fuzzy bool, to_type text, to_key text, to_fuzzy bool,"
        " key text, props jsonb, rule int2) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS sl_res_rel("
        " ord int4, type text, from_id int8, to_id int8, key text,"
        " props jsonb, rule int2) ON COMMIT DELETE ROWS;";

/*
 * For one write transaction: staging tables have no statistics, so probe
 * the indexes per row rather than hash whole tables; and a large batch
 * must not pay for JIT compilation of plans that run once.
 */
static const char plan_sql[] =
        "SELECT set_config('enable_hashjoin', 'off', true),"
        " set_config('enable_mergejoin', 'off', true),"
        " set_config('jit', 'off', true)";

/** The start of every node UPDATE: merge a staged write `s` into `n`. */
#define NODE_SET_SQL                                               \
	"UPDATE node AS n SET"                                     \
	" labels = CASE WHEN s.labels = '[]'::jsonb THEN n.labels" \
	" ELSE sluice_labels(n.labels, s.labels, n.type) END,"     \
	" props = jsonb_strip_nulls(n.props || s.props)"           \
	" FROM sl_stage_node AS s WHERE "
/*
 * An UPDATE of the exact-key writes of rules `rules` that are late or not
 * (`late`: an identity the lane also writes, earlier, under the other
 * rule; see mark_late()), where merging changes something (`same`: the
 * test that it does not). One UPDATE cannot apply two rows to one node
 * (PostgreSQL would pick either), so a node's EAGER and MATCH_ONLY writes
 * go in two statements, in the batch's order.
 */
#define NODE_UPDATE_SQL(rules, late, same)          \
	NODE_SET_SQL rules                          \
	        " AND " late " AND n.type = s.type" \
	        " AND n.key = s.key AND NOT (" same \
	        " AND (s.labels = '[]'::jsonb OR"   \
	        " n.labels @> sluice_labels('[]', s.labels, n.type)))"
/** The general path's update of the writes that are not late. */
static const char node_update_sql[] = NODE_UPDATE_SQL(
        "s.rule < 2", "NOT s.late", "sluice_same(n.props, s.props)");
/** The general path's update of the late writes (after the insert). */
static const char node_update_late_sql[] = NODE_UPDATE_SQL(
        "s.rule < 2", "s.late", "sluice_same(n.props, s.props)");
/** Insert the EAGER nodes that are missing. */
static const char node_insert_sql[] =
        "INSERT INTO node(type, key, labels, props)"
        " SELECT s.type, s.key, CASE WHEN s.labels = '[]'::jsonb THEN"
        " s.labels ELSE sluice_labels('[]', s.labels, s.type) END,"
        " jsonb_strip_nulls(s.props) FROM sl_stage_node AS s"
        " WHERE s.rule = 0 ON CONFLICT (type, key) DO NOTHING";
/*
 * The fast node path, when no node write of the lane has a null property
 * (jsonb_strip_nulls() would then change what is inserted, and the merge
 * below needs the write's own nulls): EAGER writes in one upsert, whose
 * conflict probe is the update's too. Without nulls, merging changes
 * nothing exactly when `props || change = props` (stored props hold no
 * nulls), which needs no call of sluice_same(). Returns the nodes
 * created.
 */
static const char node_upsert_sql[] =
        "WITH w AS (INSERT INTO node AS n(type, key, labels, props)"
        " SELECT s.type, s.key, CASE WHEN s.labels = '[]'::jsonb THEN"
        " s.labels ELSE sluice_labels('[]', s.labels, s.type) END, s.props"
        " FROM sl_stage_node AS s WHERE s.rule = 0"
        " ON CONFLICT (type, key) DO UPDATE SET"
        " labels = CASE WHEN excluded.labels = '[]'::jsonb THEN n.labels"
        " ELSE sluice_labels(n.labels, excluded.labels, n.type) END,"
        " props = jsonb_strip_nulls(n.props || excluded.props)"
        " WHERE NOT (n.props || excluded.props = n.props"
        " AND (excluded.labels = '[]'::jsonb OR"
        " n.labels @> excluded.labels))"
        " RETURNING n.xmax = 0 AS ins)"
        " SELECT count(*) FILTER (WHERE ins) FROM w";
/*
 * The fast path's MATCH_ONLY writes before the EAGER ones (without nulls,
 * `props || change = props` says that merging changes nothing).
 */
static const char node_match_sql[] = NODE_UPDATE_SQL(
        "s.rule = 1", "NOT s.late", "n.props || s.props = n.props");
/** The fast path's late MATCH_ONLY writes, after the EAGER ones. */
static const char node_match_late_sql[] =
        NODE_UPDATE_SQL("s.rule = 1", "s.late", "n.props || s.props = n.props");
/** FUZZY node writes: update every node whose key matches. */
static const char node_fuzzy_sql[] =
        NODE_SET_SQL "s.rule = 2 AND n.type = s.type AND"
                     " sluice_fuzzy(n.key, s.key)";
/**
 * MATCH_ONLY and FUZZY writes that found no node (by rule); a late
 * MATCH_ONLY write follows an EAGER one, so it finds its node. Two
 * subqueries, so that the MATCH_ONLY one probes the (type, key) index; one
 * condition covering both rules scanned every node of the type for each
 * write.
 */
static const char node_unmatched_sql[] =
        "SELECT (SELECT count(*) FROM sl_stage_node AS s"
        " WHERE s.rule = 1 AND NOT s.late AND NOT EXISTS (SELECT 1 FROM"
        " node AS n WHERE n.type = s.type AND n.key = s.key)),"
        " (SELECT count(*) FROM sl_stage_node AS s"
        " WHERE s.rule = 2 AND NOT s.late AND NOT EXISTS (SELECT 1 FROM"
        " node AS n WHERE n.type = s.type AND sluice_fuzzy(n.key, s.key)))";
/** Resolve relationship endpoints given by exact keys. */
static const char rel_resolve_sql[] =
        "INSERT INTO sl_res_rel SELECT s.ord, s.type, f.id, t.id, s.key,"
        " s.props, s.rule FROM sl_stage_rel AS s"
        " JOIN node AS f ON f.type = s.from_type AND f.key = s.from_key"
        " JOIN node AS t ON t.type = s.to_type AND t.key = s.to_key"
        " WHERE NOT s.from_fuzzy AND NOT s.to_fuzzy";
/** Resolve relationship endpoints given by patterns. */
static const char rel_resolve_fuzzy_sql[] =
        "INSERT INTO sl_res_rel SELECT s.ord, s.type, f.id, t.id, s.key,"
        " s.props, s.rule FROM sl_stage_rel AS s"
        " JOIN node AS f ON f.type = s.from_type AND CASE WHEN s.from_fuzzy"
        " THEN sluice_fuzzy(f.key, s.from_key) ELSE f.key = s.from_key END"
        " JOIN node AS t ON t.type = s.to_type AND CASE WHEN s.to_fuzzy"
        " THEN sluice_fuzzy(t.key, s.to_key) ELSE t.key = s.to_key END"
        " WHERE s.from_fuzzy OR s.to_fuzzy";
/**
 * How many relationship writes found both endpoints, and how many
 * mergeable relationships they name.
 */
static const char rel_matched_sql[] =
        "SELECT count(DISTINCT ord), count(*) FILTER (WHERE rule < 2)"
        " FROM sl_res_rel";
/*
 * Merge properties into existing mergeable relationships. Several writes
 * may name one relationship (patterns matching the same nodes, or EAGER
 * and MERGE_KEY writes of one identity); one UPDATE cannot apply two rows
 * to one relationship, so they are merged first, in the batch's order.
 */
static const char rel_update_sql[] =
        "UPDATE rel AS r SET props = jsonb_strip_nulls(r.props || x.props)"
        " FROM (SELECT type, from_id, to_id, key,"
        " sluice_merge(props ORDER BY ord) AS props FROM sl_res_rel"
        " WHERE rule < 2 GROUP BY type, from_id, to_id, key) AS x"
        " WHERE r.from_id = x.from_id"
        " AND r.type = x.type AND r.to_id = x.to_id AND r.key = x.key"
        " AND NOT r.multi AND NOT sluice_same(r.props, x.props)";
/**
 * Insert the missing mergeable relationships (their writes merged), in
 * identity order: a hash aggregate would give them in an order of its own
 * (see "Lock order").
 */
static const char rel_insert_sql[] =
        "INSERT INTO rel(type, from_id, to_id, key, props, multi)"
        " SELECT type, from_id, to_id, key,"
        " jsonb_strip_nulls(sluice_merge(props ORDER BY ord)), false"
        " FROM sl_res_rel WHERE rule < 2"
        " GROUP BY type, from_id, to_id, key"
        " ORDER BY from_id, type, to_id, key"
        " ON CONFLICT (from_id, type, to_id, key) WHERE NOT multi"
        " DO NOTHING";
/*
 * The fast relationship path, when every write of the lane gives exact
 * endpoint keys, no property is null and no identity is written under
 * two rules: resolve the endpoints, upsert the mergeable relationships
 * through their identity index, insert the CREATE ones, and count, in one
 * statement. A relationship with an endpoint newer than $1 (a node id
 * taken before this batch's nodes were written) cannot exist yet: it is
 * inserted without a conflict check (should another writer have made it
 * meanwhile, the unique index refuses it and the lane is written again
 * with $1 at its largest). Returns matched writes, matched mergeable
 * relationships, created mergeable ones and created CREATE ones.
 */
static const char rel_fast_sql[] =
        "WITH x AS MATERIALIZED (SELECT s.ord, s.type, f.id AS from_id,"
        " t.id AS to_id, s.key, s.props, s.rule FROM sl_stage_rel AS s"
        " JOIN node AS f ON f.type = s.from_type AND f.key = s.from_key"
        " JOIN node AS t ON t.type = s.to_type AND t.key = s.to_key),"
        " n AS (INSERT INTO rel(type, from_id, to_id, key, props, multi)"
        " SELECT type, from_id, to_id, key, props, false FROM x"
        " WHERE rule < 2 AND (from_id > $1 OR to_id > $1) RETURNING 1),"
        " m AS (INSERT INTO rel AS r(type, from_id, to_id, key, props, multi)"
        " SELECT type, from_id, to_id, key, props, false FROM x"
        " WHERE rule < 2 AND from_id <= $1 AND to_id <= $1"
        " ON CONFLICT (from_id, type, to_id, key) WHERE NOT multi"
        " DO UPDATE SET props = jsonb_strip_nulls(r.props || excluded.props)"
        " WHERE r.props || excluded.props <> r.props"
        " RETURNING r.xmax = 0 AS ins),"
        " c AS (INSERT INTO rel(type, from_id, to_id, key, props, multi)"
        " SELECT type, from_id, to_id, key, props, true FROM x"
        " WHERE rule = 2 RETURNING 1)"
        " SELECT (SELECT count(*) FROM x),"
        " (SELECT count(*) FROM x WHERE rule < 2),"
        " (SELECT count(*) FROM m WHERE ins) + (SELECT count(*) FROM n),"
        " (SELECT count(*) FROM c)";
/** The largest node id that may exist now (see rel_fast_sql). */
static const char node_mark_sql[] =
        "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END"
        " FROM node_id_seq";
/** Insert the CREATE relationships. */
static const char rel_create_sql[] =
        "INSERT INTO rel(type, from_id, to_id, key, props, multi)"
        " SELECT type, from_id, to_id, key, jsonb_strip_nulls(props), true"
        " FROM sl_res_rel WHERE rule = 2";

/** An op of a lane in the order its rows are locked (see lane_order()). */
struct order_item {
	/** The op's position in the lane before sorting (for stability). */
	uint32_t pos;
	/** The op's index in the batch. */
	uint32_t op;
};

/** One lane: a connection and its share of a batch. */
struct lane {
	/** The store. */
	struct sl_store_pg *s;
	/** Lane number. */
	unsigned no;
	/** Its connection, or NULL until connected. */
	struct sl_db_conn *c;
	/** Indexes of the batch's ops in this lane. */
	uint32_t *ops;
	/** Number of them. */
	uint32_t n;
	/** Room in `ops`. */
	uint32_t cap;
	/**
	 * Per node op of the lane: whether it is late, i.e. an earlier op
	 * of the lane writes its identity under the other rule (NULL until
	 * needed; room for `late_cap`).
	 */
	bool *late;
	/** Room in `late`. */
	uint32_t late_cap;
	/** Scratch of lane_order() (room for `order_cap`). */
	struct order_item *order;
	/** Room in `order`. */
	uint32_t order_cap;
	/** The batch being written. */
	const struct sl_graph_batch *b;
	/** Whether this phase writes relationships (else nodes). */
	bool rels;
	/**
	 * Counts of this lane: of its open transaction (pending), and of
	 * those committed this phase (reported by phase(), also when the
	 * phase fails).
	 */
	struct sl_write_tally tally;
	/** Text scratch for keys. */
	struct sl_buf t1;
	/** Text scratch for the other key. */
	struct sl_buf t2;
	/** Text scratch for the relationship key. */
	struct sl_buf t3;
	/**
	 * Commit token of the last transaction that wrote one ("" if none):
	 * deleted by the lane's next such transaction.
	 */
	char token[48];
	/**
	 * Whether a relationship this phase inserted without a conflict check
	 * existed after all: the lane is written again with every insert
	 * checked.
	 */
	bool conflicted;
	/** Whether the transaction of `token` may have committed unseen. */
	bool token_pending;
	/** Counts of that transaction, if it did. */
	struct sl_graph_counts token_st;
};

/** The store. */
struct sl_store_pg {
	/** The URI with its password (owned; only given to libpq). */
	char *uri;
	/** Random prefix of this store's commit tokens. */
	char token_prefix[24];
	/** Commit tokens made. */
	uint64_t tokens;
	/** Lane commits so far. */
	uint64_t commits;
	/** Test hook: the commit whose reply is "lost" (0: none). */
	uint64_t fault_lose_commit;
	/**
	 * The largest node id taken before the current batch's node phase
	 * (INT64_MAX when unknown: every relationship insert is checked).
	 */
	int64_t node_mark;
	/** The URI to show. */
	char shown[SL_DB_URL_MAX];
	/** Lanes in use. */
	unsigned nlanes;
	/** Writes of a phase per lane before another is taken. */
	uint32_t lane_min;
	/** Seconds a lane retries after a lost connection. */
	double retry;
	/**
	 * Lane transactions written again after a deadlock or a
	 * serialization failure (another writer held rows they needed).
	 */
	uint64_t contention_retries;
	/** State of the jitter of retry pauses (xorshift64). */
	uint64_t jitter;
	/** The lanes. */
	struct lane lanes[SL_PG_LANES_MAX];
	/**
	 * Whether the store keeps checkpoint positions (progress_get was
	 * called): one lane, whose writes stay in one transaction, `ptx`,
	 * from one `commit` to the next, so that a position put commits
	 * with exactly the writes before it.
	 */
	bool progress;
	/** The transaction of a store keeping positions (open: `ptx_open`). */
	struct sl_db_tx ptx;
	/** Whether `ptx` is open. */
	bool ptx_open;
	/**
	 * Whether sluice_rel_out and sluice_rel_in are left to build at the
	 * store's close (rel_idx_defer(), rel_idx_build()).
	 */
	bool rel_idx_deferred;
};

/* {{{ connections */

/** Drop lane `l`'s connection. */
static void
lane_drop(struct lane *l)
{
	sl_db_conn_close(l->c);
	l->c = NULL;
}

/**
 * Connect lane `l` (its connection is NULL) and make its staging tables.
 * 0, or -1.
 */
static int
lane_connect(struct lane *l)
{
	struct sl_db_conn_opts o;
	sl_db_conn_opts_init(&o);
	o.app_name = "sluice-graph";
	o.stmt_cache = 64;
	l->c = sl_db_conn_open(l->s->uri, &o);
	if (l->c == NULL)
		return -1;
	if (sl_db_exec_script(l->c, stage_sql) != 0) {
		lane_drop(l);
		return -1;
	}
	return 0;
}

int
sl_store_pg_uri_split(const char *uri, char *out, size_t size, unsigned *lanes)
{
	*lanes = 0;
	size_t len = strlen(uri);
	if (len >= size) {
		sl_diag_set(SL_ELIMIT, "a PostgreSQL URI longer than %zu bytes",
		            size - 1);
		return -1;
	}
	const char *q = strchr(uri, '?');
	size_t o = q != NULL ? (size_t)(q - uri) : len;
	memcpy(out, uri, o);
	bool first = true;
	while (q != NULL && q[1] != '\0') {
		const char *p = q + 1;
		size_t n = strcspn(p, "&");
		q = p[n] == '&' ? p + n : NULL;
		if (n == 0)
			continue;
		if (n > 6 && memcmp(p, "lanes=", 6) == 0) {
			unsigned long v = 0;
			size_t k = 6;
			while (k < n && p[k] >= '0' && p[k] <= '9' && v <= 1000)
				v = v * 10 + (unsigned long)(p[k++] - '0');
			if (k != n || v < 1 || v > SL_PG_LANES_MAX) {
				sl_diag_set(SL_EINVAL,
				            "bad value '%.*s' of URI parameter "
				            "lanes (1..%d)",
				            (int)(n - 6 > 40 ? 40 : n - 6),
				            p + 6, SL_PG_LANES_MAX);
				return -1;
			}
			*lanes = (unsigned)v;
			continue;
		}
		out[o++] = first ? '?' : '&';
		memcpy(out + o, p, n);
		o += n;
		first = false;
	}
	out[o] = '\0';
	return 0;
}

/**
 * Drop sluice_rel_out and sluice_rel_in when the `rel` table is empty, so
 * that a load into it does not insert into two more indexes, one of them
 * in the order of the targets, a page here and there for every
 * relationship; rel_idx_build() builds them at the end, each in one sort.
 * The schema's lock serialises this with other stores' opens and builds;
 * the drop waits for writers of `rel` (another worker's load, whose rows
 * it does not see yet: it then loads without them too). A store that
 * opens `rel` with rows but not both of them (a load that stopped before
 * its end, or another worker's under way) leaves them to its close too.
 * 0, or -1.
 */
static int
rel_idx_defer(struct sl_store_pg *s)
{
	struct lane *l = &s->lanes[0];
	struct sl_db_tx tx;
	if (sl_db_tx_begin(l->c, &tx, NULL) != 0)
		return -1;
	struct sl_db_result *r = NULL;
	if (sl_db_exec_script(l->c, SCHEMA_LOCK) != 0 ||
	    (r = sl_db_query(l->c,
	                     "SELECT NOT EXISTS (SELECT 1 FROM rel), "
	                     "to_regclass('sluice_rel_out') IS NULL OR "
	                     "to_regclass('sluice_rel_in') IS NULL",
	                     SL_NOARGS)) == NULL)
		goto fail;
	bool empty = sl_db_result_get(r, 0, 0)->u.b;
	bool missing = sl_db_result_get(r, 0, 1)->u.b;
	sl_db_result_free(r);
	if (empty &&
	    sl_db_exec_script(l->c, "DROP INDEX IF EXISTS "
	                            "sluice_rel_out, sluice_rel_in") != 0)
		goto fail;
	if (!empty && missing)
		sl_log_info(
		        "%s: an index of relationships by source or target "
		        "is missing (a load into an empty graph stopped "
		        "before its end, or is under way); it is built when "
		        "this store closes",
		        s->shown);
	if (sl_db_tx_commit(&tx) != 0)
		goto fail;
	s->rel_idx_deferred = empty || missing;
	return 0;
fail:
	if (tx.open)
		sl_db_tx_rollback(&tx);
	sl_diag_wrap(SL_EDB, "%s: looking for relationships", s->shown);
	return -1;
}

/**
 * Build the indexes rel_idx_defer() left to the end, on connection `c`, in
 * its transaction if one is open, under the schema's lock (other stores
 * that build them then find them). 0, or -1.
 */
static int
rel_idx_build_on(struct sl_store_pg *s, struct sl_db_conn *c)
{
	double t0 = sl_clock();
	if (sl_db_exec_script(c, SCHEMA_LOCK REL_IDX_SQL) != 0) {
		sl_diag_wrap(SL_EDB,
		             "%s: building the indexes of relationships",
		             s->shown);
		return -1;
	}
	double took = sl_clock() - t0;
	if (took >= 1.0)
		sl_log_info("%s: built the indexes of relationships by source "
		            "and target in %.1f s",
		            s->shown, took);
	else
		sl_log_debug("%s: built the indexes of relationships by "
		             "source and target in %.3f s",
		             s->shown, took);
	return 0;
}

/**
 * rel_idx_build_on() in a transaction of its own on lane 0, if the store
 * left them to the end. 0, or -1 (they stay missing: the next store that
 * opens the graph builds them at its close).
 */
static int
rel_idx_build(struct sl_store_pg *s)
{
	if (!s->rel_idx_deferred)
		return 0;
	struct lane *l = &s->lanes[0];
	if (l->c != NULL && !sl_db_conn_ok(l->c))
		lane_drop(l);
	if (l->c == NULL && lane_connect(l) != 0)
		return -1;
	struct sl_db_tx tx;
	if (sl_db_tx_begin(l->c, &tx, NULL) != 0)
		return -1;
	if (rel_idx_build_on(s, l->c) != 0 || sl_db_tx_commit(&tx) != 0) {
		if (tx.open)
			sl_db_tx_rollback(&tx);
		return -1;
	}
	s->rel_idx_deferred = false;
	return 0;
}

struct sl_store_pg *
sl_store_pg_open(const char *uri)
{
	char plain[SL_DB_URL_MAX];
	unsigned lanes;
	if (sl_store_pg_uri_split(uri, plain, sizeof(plain), &lanes) != 0)
		return NULL;
	struct sl_store_pg *s = sl_calloc(1, sizeof(*s));
	if (s == NULL || (s->uri = sl_strndup(plain, strlen(plain))) == NULL) {
		sl_free(s);
		memset(plain, 0, sizeof(plain));
		sl_diag_set(SL_EOOM, "out of memory opening a target");
		return NULL;
	}
	sl_uri_redact(plain, s->shown, sizeof(s->shown));
	/* It may hold a password. */
	memset(plain, 0, sizeof(plain));
	s->nlanes = lanes > 0 ? lanes : LANES_DEFAULT;
	s->lane_min = LANE_MIN_WRITES;
	s->retry = 120;
	uint64_t rnd;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
		      (uint64_t)(uintptr_t)s;
	snprintf(s->token_prefix, sizeof(s->token_prefix), "%016llx-",
	         (unsigned long long)rnd);
	s->jitter = rnd | 1;
	for (unsigned i = 0; i < SL_PG_LANES_MAX; i++) {
		s->lanes[i].s = s;
		s->lanes[i].no = i;
		sl_buf_create(&s->lanes[i].t1, TEXT_MAX);
		sl_buf_create(&s->lanes[i].t2, TEXT_MAX);
		sl_buf_create(&s->lanes[i].t3, TEXT_MAX);
	}
	struct lane *l = &s->lanes[0];
	if (lane_connect(l) != 0)
		goto fail;
	/* A foreign node table, or a schema of another version, is refused. */
	struct sl_db_result *r =
	        sl_db_query(l->c,
	                    "SELECT to_regclass('node') IS NOT NULL, "
	                    "to_regclass('sluice_meta') IS NOT NULL",
	                    SL_NOARGS);
	if (r == NULL)
		goto fail;
	bool has_node = sl_db_result_get(r, 0, 0)->u.b;
	bool has_meta = sl_db_result_get(r, 0, 1)->u.b;
	sl_db_result_free(r);
	if (has_node && !has_meta) {
		sl_diag_set(SL_EINVAL,
		            "%s: holds a table \"node\" that sluice did not "
		            "make; use another database",
		            s->shown);
		goto fail;
	}
	struct sl_db_tx tx;
	if (sl_db_tx_begin(l->c, &tx, NULL) != 0)
		goto fail;
	if (sl_db_exec_script(l->c, schema_sql) != 0 ||
	    sl_db_tx_commit(&tx) != 0) {
		if (tx.open)
			sl_db_tx_rollback(&tx);
		sl_diag_wrap(SL_EDB, "%s: creating the schema", s->shown);
		goto fail;
	}
	r = sl_db_query(l->c,
	                "SELECT value FROM sluice_meta WHERE name = "
	                "'schema_version'",
	                SL_NOARGS);
	if (r == NULL)
		goto fail;
	bool v1 = sl_db_result_rows(r) == 1 &&
	          sl_db_result_get(r, 0, 0)->type == SL_VSTR &&
	          sl_db_result_get(r, 0, 0)->len == 1 &&
	          sl_db_result_get(r, 0, 0)->u.s[0] == '1';
	sl_db_result_free(r);
	if (!v1) {
		sl_diag_set(SL_EINVAL,
		            "%s: the graph schema has another version than 1; "
		            "this sluice cannot use it",
		            s->shown);
		goto fail;
	}
	/* Tokens left by stores that did not close (a crash): old enough
	 * that no retry can still ask for them. */
	if (sl_db_exec(l->c,
	               "DELETE FROM sluice_commit WHERE at < now() - interval "
	               "'1 day'",
	               SL_NOARGS, NULL) != 0 ||
	    rel_idx_defer(s) != 0)
		goto fail;
	return s;
fail:
	sl_store_pg_close(s);
	return NULL;
}

struct sl_db_conn *
sl_store_pg_conn(struct sl_store_pg *s)
{
	struct lane *l = &s->lanes[0];
	if (l->c != NULL && !sl_db_conn_ok(l->c))
		lane_drop(l);
	if (l->c == NULL && lane_connect(l) != 0)
		return NULL;
	return l->c;
}

void
sl_store_pg_fault_lose_commit(struct sl_store_pg *s, uint64_t n)
{
	s->fault_lose_commit = n > 0 ? s->commits + n : 0;
}

void
sl_store_pg_set_lanes(struct sl_store_pg *s, unsigned lanes)
{
	if (lanes < 1)
		lanes = 1;
	if (lanes > SL_PG_LANES_MAX)
		lanes = SL_PG_LANES_MAX;
	s->nlanes = lanes;
}

void
sl_store_pg_set_lane_min(struct sl_store_pg *s, uint32_t writes)
{
	s->lane_min = writes > 0 ? writes : 1;
}

unsigned
sl_store_pg_connected(const struct sl_store_pg *s)
{
	unsigned n = 0;
	for (unsigned i = 0; i < SL_PG_LANES_MAX; i++)
		n += s->lanes[i].c != NULL;
	return n;
}

void
sl_store_pg_set_retry(struct sl_store_pg *s, double seconds)
{
	s->retry = seconds;
}

uint64_t
sl_store_pg_contention_retries(const struct sl_store_pg *s)
{
	return s->contention_retries;
}

/** Delete this store's commit tokens (they are needed no more). */
static void
drop_tokens(struct sl_store_pg *s)
{
	if (s->tokens == 0)
		return;
	for (unsigned i = 0; i < SL_PG_LANES_MAX; i++) {
		struct lane *l = &s->lanes[i];
		if (l->c == NULL || !sl_db_conn_ok(l->c))
			continue;
		char like[sizeof(s->token_prefix) + 1];
		snprintf(like, sizeof(like), "%s%%", s->token_prefix);
		struct sl_diag keep;
		sl_diag_stash(&keep);
		if (sl_db_exec(
		            l->c,
		            "DELETE FROM sluice_commit WHERE token LIKE $1",
		            SL_ARGS(sl_str_ref(like, (uint32_t)strlen(like))),
		            NULL) != 0)
			sl_log_debug("%s: commit tokens left behind", s->shown);
		sl_diag_restore(&keep);
		return;
	}
}

void
sl_store_pg_close(struct sl_store_pg *s)
{
	if (s == NULL)
		return;
	drop_tokens(s);
	if (s->rel_idx_deferred && !s->ptx_open && rel_idx_build(s) != 0) {
		char msg[SL_ERROR_MSG_MAX];
		sl_error_format(sl_diag_last(), msg, sizeof(msg));
		sl_log_warn("%s (the next run into it builds them at its end)",
		            msg);
		sl_diag_clear(sl_diag_get());
	}
	if (s->contention_retries > 0)
		sl_log_info("%s: %llu lane transaction%s written again after a "
		            "deadlock or serialization failure with another "
		            "writer",
		            s->shown, (unsigned long long)s->contention_retries,
		            s->contention_retries == 1 ? "" : "s");
	for (unsigned i = 0; i < SL_PG_LANES_MAX; i++) {
		lane_drop(&s->lanes[i]);
		sl_free(s->lanes[i].order);
		sl_free(s->lanes[i].ops);
		sl_free(s->lanes[i].late);
		sl_buf_destroy(&s->lanes[i].t1);
		sl_buf_destroy(&s->lanes[i].t2);
		sl_buf_destroy(&s->lanes[i].t3);
	}
	if (s->uri != NULL) {
		memset(s->uri, 0, strlen(s->uri));
		sl_free(s->uri);
	}
	sl_free(s);
}

/* }}} */
/* {{{ writing */

/** The canonical JSON of `v` in `out`, as a string value. */
static int
canon(struct sl_buf *out, const struct sl_value *v, const char *empty,
      struct sl_value *res)
{
	sl_buf_reset(out);
	int rc = v->type == SL_VNULL ? sl_buf_puts(out, empty)
	                             : sl_json_write(out, v, SL_JSON_CANONICAL);
	if (rc != 0)
		return -1;
	*res = sl_str_ref(out->data, (uint32_t)out->len);
	return 0;
}

/**
 * The canonical JSON of a key: the text the batch made (`text`), else
 * written into `out`.
 */
static int
key_canon(struct sl_buf *out, const struct sl_value *key,
          const struct sl_value *text, struct sl_value *res)
{
	if (text->type == SL_VSTR) {
		*res = *text;
		return 0;
	}
	return canon(out, key, "{}", res);
}

/** An empty object value. */
static struct sl_value
empty_object(const struct sl_value *v)
{
	return v->type == SL_VNULL ? sl_object_ref(NULL, 0) : *v;
}

/** An empty array value. */
static struct sl_value
empty_array(const struct sl_value *v)
{
	return v->type == SL_VNULL ? sl_array_ref(NULL, 0) : *v;
}

/**
 * Mark the late node ops of lane `l` (in l->late): those whose identity
 * (type and key) an earlier op of the lane writes under the other rule,
 * EAGER or MATCH_ONLY. A batch holds one op per rule and identity, and a
 * lane holds every op of an identity, in the batch's order; the lane's
 * statements then apply an identity's two writes in that order. With
 * `any` false (the lane has one of the two rules only), none is late.
 * *some says whether any is. Returns 0, or -1 with an error.
 */
static int
mark_late(struct lane *l, bool any, bool *some)
{
	*some = false;
	if (l->late_cap < l->n) {
		bool *late = sl_realloc(l->late, l->cap * sizeof(*late));
		if (late == NULL) {
			sl_diag_set(SL_EOOM, "out of memory splitting a batch");
			return -1;
		}
		l->late = late;
		l->late_cap = l->cap;
	}
	memset(l->late, 0, l->n * sizeof(*l->late));
	if (!any)
		return 0;
	uint32_t cap = 16;
	while (cap < l->n * 2)
		cap *= 2;
	/* Slots: a lane position + 1 (0: empty), and its identity's hash. */
	uint32_t *pos = sl_calloc(cap, sizeof(*pos));
	uint64_t *hash = sl_malloc(cap * sizeof(*hash));
	int rc = pos != NULL && hash != NULL ? 0 : -1;
	if (rc != 0)
		sl_diag_set(SL_EOOM, "out of memory splitting a batch");
	for (uint32_t i = 0; rc == 0 && i < l->n; i++) {
		const struct sl_node_op *op = &l->b->nodes[l->ops[i]];
		struct sl_value k, k2;
		if (op->rule == SL_NODE_FUZZY)
			continue;
		if (key_canon(&l->t1, &op->key, &op->key_text, &k) != 0) {
			rc = -1;
			break;
		}
		uint64_t h = sl_hash64_seed(
		        k.u.s, k.len, sl_hash64(op->type.u.s, op->type.len));
		uint32_t j = (uint32_t)h & (cap - 1);
		for (; pos[j] != 0; j = (j + 1) & (cap - 1)) {
			const struct sl_node_op *o =
			        &l->b->nodes[l->ops[pos[j] - 1]];
			if (hash[j] != h ||
			    !sl_value_equal(&o->type, &op->type))
				continue;
			if (key_canon(&l->t2, &o->key, &o->key_text, &k2) !=
			    0) {
				rc = -1;
				break;
			}
			if (k2.len == k.len &&
			    memcmp(k2.u.s, k.u.s, k.len) == 0) {
				l->late[i] = *some = true;
				break;
			}
		}
		if (rc == 0 && !l->late[i]) {
			pos[j] = i + 1;
			hash[j] = h;
		}
	}
	sl_free(pos);
	sl_free(hash);
	return rc;
}

/** Copy this lane's node ops into the staging table. */
static int
stage_nodes(struct lane *l)
{
	static const char *const cols[] = {"type",  "key",  "labels",
	                                   "props", "rule", "late"};
	struct sl_db_copy *cp =
	        sl_db_copy_begin(l->c, "sl_stage_node", cols, 6);
	if (cp == NULL)
		return -1;
	for (uint32_t i = 0; i < l->n; i++) {
		const struct sl_node_op *op = &l->b->nodes[l->ops[i]];
		struct sl_value row[6];
		row[0] = op->type;
		if (key_canon(&l->t1, &op->key, &op->key_text, &row[1]) != 0)
			goto fail;
		row[2] = empty_array(&op->labels);
		row[3] = empty_object(&op->props);
		row[4] = sl_int(op->rule);
		row[5] = sl_bool(l->late[i]);
		if (sl_db_copy_row(cp, row) != 0)
			goto fail;
	}
	return sl_db_copy_end(cp, NULL);
fail:
	sl_db_copy_abort(cp);
	return -1;
}

/** Copy this lane's relationship ops into the staging table. */
static int
stage_rels(struct lane *l)
{
	static const char *const cols[] = {
	        "ord",        "type",    "from_type", "from_key",
	        "from_fuzzy", "to_type", "to_key",    "to_fuzzy",
	        "key",        "props",   "rule"};
	struct sl_db_copy *cp =
	        sl_db_copy_begin(l->c, "sl_stage_rel", cols, 11);
	if (cp == NULL)
		return -1;
	for (uint32_t i = 0; i < l->n; i++) {
		const struct sl_rel_op *op = &l->b->rels[l->ops[i]];
		struct sl_value row[11];
		row[0] = sl_int(i);
		row[1] = op->type;
		row[2] = op->from.type;
		row[4] = sl_bool(op->from.fuzzy);
		row[5] = op->to.type;
		row[7] = sl_bool(op->to.fuzzy);
		row[9] = empty_object(&op->props);
		row[10] = sl_int(op->rule);
		if (key_canon(&l->t1, &op->from.key, &op->from.key_text,
		              &row[3]) != 0 ||
		    key_canon(&l->t2, &op->to.key, &op->to.key_text, &row[6]) !=
		            0 ||
		    canon(&l->t3, &op->key, "{}", &row[8]) != 0 ||
		    sl_db_copy_row(cp, row) != 0)
			goto fail;
	}
	return sl_db_copy_end(cp, NULL);
fail:
	sl_db_copy_abort(cp);
	return -1;
}

/** Run `sql` and add its affected count to *count. */
static int
run(struct lane *l, const char *sql, uint64_t *count)
{
	int64_t n = 0;
	if (sl_db_exec(l->c, sql, SL_NOARGS, &n) != 0)
		return -1;
	if (count != NULL && n > 0)
		*count += (uint64_t)n;
	return 0;
}

/**
 * Whether `v` holds an object member whose value is null, at any depth
 * (what jsonb_strip_nulls() removes).
 */
static bool
has_null_member(const struct sl_value *v)
{
	if (v->type == SL_VARRAY) {
		for (uint32_t i = 0; i < v->len; i++)
			if (has_null_member(&v->u.items[i]))
				return true;
	} else if (v->type == SL_VOBJECT) {
		for (uint32_t i = 0; i < v->len; i++)
			if (v->u.members[i].val.type == SL_VNULL ||
			    has_null_member(&v->u.members[i].val))
				return true;
	}
	return false;
}

/** Counts of a one-row answer of `sql` (`np` parameters) into out[0..n). */
static int
counts_of(struct lane *l, const char *sql, size_t np,
          const struct sl_value *params, uint64_t *out, size_t n)
{
	struct sl_db_result *r = sl_db_query(l->c, sql, np, params);
	if (r == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct sl_value *v = sl_db_result_get(r, 0, i);
		out[i] =
		        v->type == SL_VINT && v->u.i > 0 ? (uint64_t)v->u.i : 0;
	}
	sl_db_result_free(r);
	return 0;
}

/*
 * Counts follow the SQLite store: a write that finds its node or
 * relationship counts as an update whether or not it changes it.
 */

/** Write this lane's node share (in its transaction). */
static int
lane_nodes(struct lane *l)
{
	bool fuzzy = false, nulls = false, late = false;
	uint64_t n[2] = {0, 0}, unmatched[2] = {0, 0}, created = 0;
	for (uint32_t i = 0; i < l->n; i++) {
		const struct sl_node_op *op = &l->b->nodes[l->ops[i]];
		fuzzy = fuzzy || op->rule == SL_NODE_FUZZY;
		nulls = nulls || has_null_member(&op->props);
		if (op->rule != SL_NODE_FUZZY)
			n[op->rule]++;
	}
	if (mark_late(l, n[0] > 0 && n[1] > 0, &late) != 0)
		return -1;
	if (stage_nodes(l) != 0)
		return -1;
	if ((n[1] > 0 || fuzzy) &&
	    counts_of(l, node_unmatched_sql, SL_NOARGS, unmatched, 2) != 0)
		return -1;
	if (!fuzzy && !nulls) {
		if ((n[1] > 0 && run(l, node_match_sql, NULL) != 0) ||
		    (n[0] > 0 && counts_of(l, node_upsert_sql, SL_NOARGS,
		                           &created, 1) != 0) ||
		    (late && run(l, node_match_late_sql, NULL) != 0))
			return -1;
	} else if (run(l, node_update_sql, NULL) != 0 ||
	           run(l, node_insert_sql, &created) != 0 ||
	           (late && run(l, node_update_late_sql, NULL) != 0) ||
	           (fuzzy && run(l, node_fuzzy_sql,
	                         &l->tally.pending.nodes_updated) != 0)) {
		return -1;
	}
	l->tally.pending.nodes_created += created;
	l->tally.pending.nodes_updated += n[0] - created + n[1] - unmatched[0];
	l->tally.pending.nodes_unmatched += unmatched[0] + unmatched[1];
	return 0;
}

/**
 * Write this lane's relationship share (in its transaction); *creates
 * tells whether it has CREATE relationships (not idempotent).
 */
static int
lane_rels(struct lane *l, bool *creates)
{
	bool fuzzy = false, create = false, nulls = false;
	unsigned rules = 0;
	for (uint32_t i = 0; i < l->n; i++) {
		const struct sl_rel_op *op = &l->b->rels[l->ops[i]];
		fuzzy = fuzzy || op->from.fuzzy || op->to.fuzzy;
		create = create || op->rule == SL_REL_CREATE;
		nulls = nulls || has_null_member(&op->props);
		if (op->rule != SL_REL_CREATE)
			rules |= 1u << op->rule;
	}
	*creates = create;
	if (stage_rels(l) != 0)
		return -1;
	/* matched writes, matched mergeable rows, created mergeable ones,
	 * created CREATE ones */
	uint64_t n[4] = {0, 0, 0, 0};
	/* Two rules may write one identity: one upsert could touch a row
	 * twice. */
	if (!fuzzy && !nulls && rules != 3) {
		int64_t mark = l->conflicted ? INT64_MAX : l->s->node_mark;
		if (counts_of(l, rel_fast_sql, SL_ARGS(sl_int(mark)), n, 4) !=
		    0)
			return -1;
	} else if (run(l, rel_resolve_sql, NULL) != 0 ||
	           (fuzzy && run(l, rel_resolve_fuzzy_sql, NULL) != 0) ||
	           counts_of(l, rel_matched_sql, SL_NOARGS, n, 2) != 0 ||
	           run(l, rel_update_sql, NULL) != 0 ||
	           run(l, rel_insert_sql, &n[2]) != 0 ||
	           (create && run(l, rel_create_sql, &n[3]) != 0)) {
		return -1;
	}
	l->tally.pending.rels_skipped += l->n - n[0];
	l->tally.pending.rels_created += n[2] + n[3];
	l->tally.pending.rels_updated += n[1] - n[2];
	return 0;
}

/**
 * In the lane's transaction: record a new commit token, and delete the
 * lane's previous one.
 */
static int
lane_token(struct lane *l)
{
	struct sl_store_pg *s = l->s;
	if (l->token[0] != '\0' &&
	    sl_db_exec(
	            l->c, "DELETE FROM sluice_commit WHERE token = $1",
	            SL_ARGS(sl_str_ref(l->token, (uint32_t)strlen(l->token))),
	            NULL) != 0)
		return -1;
	snprintf(l->token, sizeof(l->token), "%s%llu", s->token_prefix,
	         (unsigned long long)++s->tokens);
	return sl_db_exec(
	        l->c, "INSERT INTO sluice_commit(token) VALUES ($1)",
	        SL_ARGS(sl_str_ref(l->token, (uint32_t)strlen(l->token))),
	        NULL);
}

/**
 * After a lost connection: whether the transaction of the pending token
 * committed (*done), in which case its counts are the lane's.
 */
static int
lane_token_check(struct lane *l, bool *done)
{
	struct sl_db_result *r = sl_db_query(
	        l->c, "SELECT count(*) FROM sluice_commit WHERE token = $1",
	        SL_ARGS(sl_str_ref(l->token, (uint32_t)strlen(l->token))));
	if (r == NULL)
		return -1;
	*done = sl_db_result_get(r, 0, 0)->u.i > 0;
	sl_db_result_free(r);
	l->token_pending = false;
	if (*done) {
		sl_graph_counts_add(&l->tally.committed, &l->token_st);
		sl_log_info("%s: lane %u: its last transaction had committed "
		            "before the connection was lost",
		            l->s->shown, l->no);
	}
	return 0;
}

/**
 * A store keeping positions lost its open transaction (the connection):
 * the writes since the last checkpoint are gone. Returns -1.
 */
static int
progress_lost(const struct sl_store_pg *s)
{
	sl_diag_set(SL_EIO,
	            "%s: the transaction holding the writes since the last "
	            "checkpoint is lost; run again to resume from that "
	            "checkpoint",
	            s->shown);
	return -1;
}

/**
 * lane_once() of a store keeping positions: the lane's share in a
 * savepoint of the open transaction (a retry after a deadlock rolls back
 * to it), its counts pending until the transaction commits.
 */
static int
lane_once_progress(struct lane *l)
{
	struct sl_store_pg *s = l->s;
	if (!s->ptx_open || l->c == NULL || !sl_db_conn_ok(l->c)) {
		return progress_lost(s);
	}
	struct sl_graph_counts before = l->tally.pending;
	struct sl_db_tx sp;
	if (sl_db_tx_begin(l->c, &sp, NULL) != 0)
		return -1;
	/* Staging rows go at commit only: empty them for this phase. */
	int rc = sl_db_exec(l->c,
	                    "TRUNCATE sl_stage_node, sl_stage_rel, sl_res_rel",
	                    SL_NOARGS, NULL);
	if (rc == 0)
		rc = sl_db_exec(l->c, plan_sql, SL_NOARGS, NULL);
	bool creates = false;
	if (rc == 0)
		rc = l->rels ? lane_rels(l, &creates) : lane_nodes(l);
	if (rc == 0)
		rc = sl_db_tx_commit(&sp);
	else
		sl_db_tx_abandon(&sp);
	if (rc != 0)
		l->tally.pending = before;
	return rc;
}

/**
 * Write this lane's share of the phase once, in one transaction. A phase
 * that creates relationships records a commit token in it, so that a
 * retry after a lost COMMIT reply writes nothing twice.
 */
static int
lane_once(struct lane *l)
{
	if (l->s->progress)
		return lane_once_progress(l);
	if (l->token_pending) {
		bool done;
		if (lane_token_check(l, &done) != 0)
			return -1;
		if (done)
			return 0;
	}
	struct sl_db_tx tx;
	sl_write_tally_rollback(&l->tally);
	if (sl_db_tx_begin(l->c, &tx, NULL) != 0)
		return -1;
	int rc = sl_db_exec(l->c, plan_sql, SL_NOARGS, NULL);
	bool creates = false;
	if (rc == 0)
		rc = l->rels ? lane_rels(l, &creates) : lane_nodes(l);
	bool token = rc == 0 && creates;
	if (token)
		rc = lane_token(l);
	if (rc != 0) {
		sl_db_tx_abandon(&tx);
		sl_write_tally_rollback(&l->tally);
		return -1;
	}
	l->token_pending = token;
	l->token_st = l->tally.pending;
	if (sl_db_tx_commit(&tx) != 0) {
		/* A connection lost during COMMIT leaves the outcome unknown
		 * (the commit token tells, if there is one); any other failure
		 * rolled back. Either way nothing is counted now. */
		l->token_pending = token && !sl_db_conn_ok(l->c);
		sl_write_tally_rollback(&l->tally);
		return -1;
	}
	l->token_pending = false;
	struct sl_store_pg *s = l->s;
	if (++s->commits == s->fault_lose_commit) {
		/* Committed, but the lane is not told so: it counts it only if
		 * the commit token shows it. */
		lane_drop(l);
		l->token_pending = token;
		sl_write_tally_rollback(&l->tally);
		sl_diag_set(SL_EIO,
		            "%s: the reply to COMMIT was lost (injected "
		            "fault)",
		            s->shown);
		return -1;
	}
	sl_write_tally_commit(&l->tally);
	return 0;
}

/*
 * Lock order. Another sluice process (a shard of the same load) may write
 * the same rows at the same time: related nodes many records share. Rows
 * are locked as a lane's statements reach them, in the order of the
 * staging table; two transactions that lock two shared rows in opposite
 * orders deadlock, and PostgreSQL aborts one (SQLSTATE 40P01). So every
 * lane stages its ops sorted by their identity's text, an order every
 * process shares: a node's type and canonical key, a relationship's
 * start type, type, end type, start key, end key and key, bytewise; an
 * identity's own ops keep the batch's order (so that the merges of one
 * node or relationship still apply in that order). Concurrent writers
 * then take shared rows in one order and wait for each other instead of
 * deadlocking; and sequential keys of one length stay in index order. A
 * lane with FUZZY endpoints keeps the batch's order (a pattern and an
 * exact key may name one relationship, whose writes merge in the batch's
 * order); it may still deadlock, and is then written again (lane_run()).
 */

/** Compare two text values bytewise, then by length. */
static int
text_cmp(const struct sl_value *a, const struct sl_value *b)
{
	/* One text (a type the Interpreter names once, a key text the
	 * batch shares): equal without reading it. */
	if (a->u.s == b->u.s && a->len == b->len)
		return 0;
	uint32_t n = a->len < b->len ? a->len : b->len;
	int c = n > 0 ? memcmp(a->u.s, b->u.s, n) : 0;
	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/**
 * Compare the identities of the lane's ops `a` and `b` (batch indexes)
 * in *res. 0, or -1 with an error (a key's text).
 */
static int
ident_cmp(struct lane *l, uint32_t a, uint32_t b, int *res)
{
	struct sl_value x, y;
	if (!l->rels) {
		const struct sl_node_op *p = &l->b->nodes[a],
		                        *q = &l->b->nodes[b];
		if ((*res = text_cmp(&p->type, &q->type)) != 0)
			return 0;
		if (key_canon(&l->t1, &p->key, &p->key_text, &x) != 0 ||
		    key_canon(&l->t2, &q->key, &q->key_text, &y) != 0)
			return -1;
		*res = text_cmp(&x, &y);
		return 0;
	}
	const struct sl_rel_op *p = &l->b->rels[a], *q = &l->b->rels[b];
	if ((*res = text_cmp(&p->from.type, &q->from.type)) != 0 ||
	    (*res = text_cmp(&p->type, &q->type)) != 0 ||
	    (*res = text_cmp(&p->to.type, &q->to.type)) != 0)
		return 0;
	if (key_canon(&l->t1, &p->from.key, &p->from.key_text, &x) != 0 ||
	    key_canon(&l->t2, &q->from.key, &q->from.key_text, &y) != 0)
		return -1;
	if ((*res = text_cmp(&x, &y)) != 0)
		return 0;
	if (key_canon(&l->t1, &p->to.key, &p->to.key_text, &x) != 0 ||
	    key_canon(&l->t2, &q->to.key, &q->to.key_text, &y) != 0)
		return -1;
	if ((*res = text_cmp(&x, &y)) != 0)
		return 0;
	if (p->key.type == SL_VNULL && q->key.type == SL_VNULL) {
		*res = 0;
		return 0;
	}
	if (canon(&l->t1, &p->key, "{}", &x) != 0 ||
	    canon(&l->t2, &q->key, "{}", &y) != 0)
		return -1;
	*res = text_cmp(&x, &y);
	return 0;
}

/** The lane lane_order() sorts (qsort() has no context argument). */
static _Thread_local struct lane *sorting;
/** Whether comparing two of its ops failed (the diag has the error). */
static _Thread_local bool sort_failed;

/** qsort() order of order items: by identity, then by position. */
static int
order_cmp(const void *a, const void *b)
{
	const struct order_item *x = a, *y = b;
	int c = 0;
	if (!sort_failed && ident_cmp(sorting, x->op, y->op, &c) != 0)
		sort_failed = true;
	if (c != 0)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/**
 * Sort the lane's ops into the shared lock order (see above). 0, or -1
 * with an error.
 */
static int
lane_order(struct lane *l)
{
	if (l->n < 2)
		return 0;
	for (uint32_t i = 0; l->rels && i < l->n; i++) {
		const struct sl_rel_op *op = &l->b->rels[l->ops[i]];
		if (op->from.fuzzy || op->to.fuzzy)
			return 0;
	}
	if (l->order_cap < l->n) {
		struct order_item *o =
		        sl_realloc(l->order, l->cap * sizeof(*o));
		if (o == NULL) {
			sl_diag_set(SL_EOOM, "out of memory ordering a batch");
			return -1;
		}
		l->order = o;
		l->order_cap = l->cap;
	}
	struct order_item *o = l->order;
	for (uint32_t i = 0; i < l->n; i++) {
		o[i].pos = i;
		o[i].op = l->ops[i];
	}
	sorting = l;
	sort_failed = false;
	qsort(o, l->n, sizeof(*o), order_cmp);
	sorting = NULL;
	if (sort_failed)
		return -1;
	for (uint32_t i = 0; i < l->n; i++)
		l->ops[i] = o[i].op;
	return 0;
}

/** Whether the diag's error is a deadlock or a serialization failure. */
static bool
contention(void)
{
	const struct sl_error *e = sl_diag_last();
	return e != NULL && (strstr(e->msg, "SQLSTATE 40P01") != NULL ||
	                     strstr(e->msg, "SQLSTATE 40001") != NULL);
}

/** Whether a failed lane should reconnect and try again. */
static bool
retryable(struct lane *l)
{
	if (l->c == NULL || !sl_db_conn_ok(l->c))
		return true;
	const struct sl_error *e = sl_diag_last();
	/* A relationship inserted unchecked that existed: check them all. */
	if (l->rels && !l->conflicted && e != NULL &&
	    strstr(e->msg, "SQLSTATE 23505") != NULL) {
		l->conflicted = true;
		return true;
	}
	/* Deadlocks and serialization failures (40P01, 40001) pass. */
	return contention() ||
	       (e != NULL && strstr(e->msg, "SQLSTATE 57P") != NULL);
}

/**
 * Write this lane's share, reconnecting with backoff after a lost
 * connection for up to the store's retry time.
 */
static int
lane_run(void *arg)
{
	struct lane *l = arg;
	if (l->n == 0)
		return 0;
	l->token_pending = false;
	l->conflicted = false;
	if (lane_order(l) != 0)
		return -1;
	double start = sl_clock(), until = start + l->s->retry, pause = 0.1;
	for (int attempt = 1;; attempt++) {
		if (l->c != NULL || lane_connect(l) == 0) {
			if (lane_once(l) == 0)
				return 0;
			bool checked = l->conflicted;
			if (!retryable(l))
				return -1;
			/* A lost connection lost the writes since the last
			 * checkpoint with it: the run must stop. */
			if (l->s->progress &&
			    (l->c == NULL || !sl_db_conn_ok(l->c)))
				return -1;
			if (l->conflicted && !checked) {
				/* Another writer made some of the batch's new
				 * relationships: nothing is wrong; again, at
				 * once, with every insert checked. */
				sl_log_info("%s: lane %u: another writer made "
				            "relationships this batch creates; "
				            "writing the lane again with every "
				            "insert checked",
				            l->s->shown, l->no);
				sl_diag_clear(sl_diag_get());
				continue;
			}
		}
		bool contended = contention();
		if (sl_task_is_cancelled() || sl_clock() + pause > until) {
			if (contended)
				sl_diag_wrap(
				        sl_diag_code(),
				        "%s: lane %u gave up after %d "
				        "attempts in %.0f s: each deadlocked "
				        "or failed to serialize with another "
				        "writer of the same rows",
				        l->s->shown, l->no, attempt,
				        sl_clock() - start);
			else
				sl_diag_wrap(sl_diag_code(),
				             "%s: lane %u gave up after %d "
				             "attempts",
				             l->s->shown, l->no, attempt);
			return -1;
		}
		double wait = pause;
		if (contended) {
			/* Not in step with the other writer: 0.5 to 1.5 times
			 * the pause. */
			uint64_t x = l->s->jitter;
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			l->s->jitter = x;
			wait = pause *
			       (0.5 + (double)(x >> 11) / 9007199254740992.0);
			l->s->contention_retries++;
		}
		/* The error names the store already. */
		char msg[600];
		sl_error_format(sl_diag_last(), msg, sizeof(msg));
		sl_log_warn("lane %u: %s; writing its part again in %.2f s",
		            l->no, msg, wait);
		sl_diag_clear(sl_diag_get());
		if (l->c != NULL && !sl_db_conn_ok(l->c))
			lane_drop(l);
		if (sl_sleep(wait) != 0)
			return -1;
		pause = pause * 2 > 5 ? 5 : pause * 2;
	}
}

/** Add index `i` to lane `l`. 0, or -1 with SL_EOOM. */
static int
lane_add(struct lane *l, uint32_t i)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap != 0 ? l->cap * 2 : 256;
		uint32_t *ops = sl_realloc(l->ops, cap * sizeof(*ops));
		if (ops == NULL) {
			sl_diag_set(SL_EOOM, "out of memory splitting a batch");
			return -1;
		}
		l->ops = ops;
		l->cap = cap;
	}
	l->ops[l->n++] = i;
	return 0;
}

/** The lane, of `k`, of a node identity (type, canonical key text). */
static unsigned
lane_of(unsigned k, const struct sl_value *type, const struct sl_value *key,
        uint64_t seed)
{
	uint64_t h = sl_hash64_seed(type->u.s, type->len, seed);
	h = sl_hash64_seed(key->u.s, key->len, h);
	return (unsigned)(h % k);
}

/** Write one phase (nodes or relationships) across the lanes. */
static int
phase(struct sl_store_pg *s, const struct sl_graph_batch *b, bool rels,
      struct sl_graph_counts *st)
{
	uint32_t n = rels ? b->n_rels : b->n_nodes;
	if (n == 0)
		return 0;
	for (unsigned i = 0; i < s->nlanes; i++) {
		s->lanes[i].n = 0;
		s->lanes[i].b = b;
		s->lanes[i].rels = rels;
	}
	/* The lanes this phase is shared among: each of a phase's lanes
	 * commits before the next phase, so an identity may go to another
	 * lane in another phase. */
	unsigned k = s->nlanes;
	if (n / s->lane_min + 1 < k)
		k = n / s->lane_min + 1;
	struct sl_buf *kb = &s->lanes[0].t1;
	for (uint32_t i = 0; i < n; i++) {
		unsigned lane = 0;
		if (k > 1) {
			/* FUZZY writes may touch any row: one lane. */
			if (!rels) {
				const struct sl_node_op *op = &b->nodes[i];
				struct sl_value key;
				if (op->rule == SL_NODE_FUZZY)
					lane = 0;
				else if (key_canon(kb, &op->key, &op->key_text,
				                   &key) != 0)
					return -1;
				else
					lane = lane_of(k, &op->type, &key, 1);
			} else {
				const struct sl_rel_op *op = &b->rels[i];
				struct sl_value key;
				if (op->from.fuzzy || op->to.fuzzy)
					lane = 0;
				else if (key_canon(kb, &op->from.key,
				                   &op->from.key_text,
				                   &key) != 0)
					return -1;
				else
					lane = lane_of(
					        k, &op->from.type, &key,
					        (uint64_t)op->to.key.len + 7);
			}
		}
		if (lane_add(&s->lanes[lane], i) != 0)
			return -1;
	}
	struct sl_task *tasks[SL_PG_LANES_MAX] = {0};
	int rc = 0;
	for (unsigned i = 1; i < s->nlanes; i++) {
		if (s->lanes[i].n == 0)
			continue;
		char name[32];
		snprintf(name, sizeof(name), "pg-lane-%u", i);
		tasks[i] = sl_task_spawn(sl_loop_current(), name, lane_run,
		                         &s->lanes[i]);
		if (tasks[i] == NULL)
			rc = -1;
	}
	if (rc == 0 && lane_run(&s->lanes[0]) != 0)
		rc = -1;
	struct sl_diag first;
	sl_diag_create(&first);
	if (rc != 0)
		sl_diag_move(sl_diag_get(), &first);
	for (unsigned i = 1; i < s->nlanes; i++) {
		if (tasks[i] == NULL)
			continue;
		int lrc = sl_task_join(tasks[i]);
		if (lrc != 0 && sl_task_is_cancelled())
			lrc = sl_task_reap(tasks[i]);
		if (lrc != 0) {
			if (first.last == NULL)
				sl_diag_move(sl_diag_get(), &first);
			rc = -1;
		}
	}
	if (first.last != NULL)
		sl_diag_move(&first, sl_diag_get());
	sl_diag_destroy(&first);
	/* What the lanes committed is in the database, whether or not
	 * another lane failed: count it (at commit, keeping positions). */
	for (unsigned i = 0; i < s->nlanes && !s->progress; i++)
		sl_write_tally_report(&s->lanes[i].tally, st);
	return rc != 0 ? -1 : 0;
}

/**
 * Read the node mark before a batch's node phase. Without it (the
 * connection failed: the lane reconnects when it writes) every
 * relationship insert is checked.
 */
static void
read_node_mark(struct sl_store_pg *s)
{
	struct lane *l = &s->lanes[0];
	struct sl_diag keep;
	sl_diag_stash(&keep);
	struct sl_db_result *r = NULL;
	if (l->c != NULL || lane_connect(l) == 0)
		r = sl_db_query(l->c, node_mark_sql, SL_NOARGS);
	if (r != NULL && sl_db_result_get(r, 0, 0)->type == SL_VINT)
		s->node_mark = sl_db_result_get(r, 0, 0)->u.i;
	sl_db_result_free(r);
	if (l->c != NULL && !sl_db_conn_ok(l->c))
		lane_drop(l);
	sl_diag_restore(&keep);
}

int
sl_store_pg_write(struct sl_store_pg *s, const struct sl_graph_batch *b,
                  struct sl_graph_counts *st)
{
	/* Nodes are committed before relationships look them up. */
	s->node_mark = INT64_MAX;
	if (b->n_rels > 0)
		read_node_mark(s);
	if (phase(s, b, false, st) != 0 || phase(s, b, true, st) != 0)
		return -1;
	return 0;
}

/* }}} */
/* {{{ TTL and export */

int
sl_store_pg_ttl(struct sl_store_pg *s, bool nodes, const char *type,
                const char *cutoff, uint64_t *deleted)
{
	*deleted = 0;
	struct lane *l = &s->lanes[0];
	if (l->c == NULL && lane_connect(l) != 0)
		return -1;
	struct sl_db_tx tx;
	if (sl_db_tx_begin(l->c, &tx, NULL) != 0)
		return -1;
	struct sl_value args[2] = {
	        sl_str_ref(type, (uint32_t)strlen(type)),
	        sl_str_ref(cutoff, (uint32_t)strlen(cutoff))};
	int64_t n = 0;
	/* Its deletes find relationships by their ends. */
	bool built = s->rel_idx_deferred;
	int rc = built ? rel_idx_build_on(s, l->c) : 0;
	if (rc == 0 && nodes) {
		rc = sl_db_exec(
		        l->c,
		        "DELETE FROM rel WHERE from_id IN (SELECT id FROM "
		        "node WHERE type = $1 AND props ->> "
		        "'last_ingested_at' < $2) OR to_id IN (SELECT id "
		        "FROM node WHERE type = $1 AND props ->> "
		        "'last_ingested_at' < $2)",
		        2, args, NULL);
		if (rc == 0)
			rc = sl_db_exec(
			        l->c,
			        "DELETE FROM node WHERE type = $1 AND props "
			        "->> 'last_ingested_at' < $2",
			        2, args, &n);
	} else if (rc == 0) {
		rc = sl_db_exec(l->c,
		                "DELETE FROM rel WHERE type = $1 AND props ->> "
		                "'last_ingested_at' < $2",
		                2, args, &n);
	}
	if (rc == 0 && sl_db_tx_commit(&tx) == 0) {
		*deleted = n > 0 ? (uint64_t)n : 0;
		if (built)
			s->rel_idx_deferred = false;
		return 0;
	}
	sl_db_tx_abandon(&tx);
	return -1;
}

/** A stored JSON text as a value in `a`. */
static int
json_col(const struct sl_value *v, struct sl_arena *a, const char *what,
         struct sl_value *out)
{
	if (v->type != SL_VSTR) {
		*out = *v;
		return 0;
	}
	if (sl_json_parse(v->u.s, v->len, a, NULL, what, out) != 0) {
		sl_diag_wrap(SL_EPARSE, "stored %s is not JSON", what);
		return -1;
	}
	return 0;
}

/** Stream a cursor's rows through `row`. */
static int
export_cursor(struct sl_db_conn *c, const char *sql,
              int (*row)(const struct sl_db_result *r, size_t i, void *arg),
              void *arg)
{
	struct sl_db_cursor *cur =
	        sl_db_cursor_open(c, sql, SL_NOARGS, EXPORT_BATCH);
	if (cur == NULL)
		return -1;
	int rc = 0;
	while (rc == 0) {
		struct sl_db_result *r = sl_db_cursor_fetch(cur);
		if (r == NULL) {
			rc = -1;
			break;
		}
		size_t n = sl_db_result_rows(r);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = row(r, i, arg);
		sl_db_result_free(r);
		if (n == 0)
			break;
	}
	if (sl_db_cursor_close(cur) != 0)
		rc = -1;
	return rc;
}

/** State of one export. */
struct export
{
	/** Memory of the current row. */
	struct sl_arena arena;
	/** The current line. */
	struct sl_buf line;
	/** The caller's callback. */
	sl_export_fn fn;
	/** Its argument. */
	void *arg;
};

/** Export one node row (type, key, labels, props). */
static int
export_node(const struct sl_db_result *r, size_t i, void *arg)
{
	struct export *x = arg;
	sl_arena_reset(&x->arena);
	struct sl_value key;
	if (json_col(sl_db_result_get(r, i, 1), &x->arena, "node key", &key) !=
	    0)
		return -1;
	if (sl_graph_line_node(&x->line, *sl_db_result_get(r, i, 0), key,
	                       *sl_db_result_get(r, i, 2),
	                       *sl_db_result_get(r, i, 3)) != 0)
		return -1;
	return x->fn(x->arg, x->line.data, x->line.len);
}

/** Export one relationship row. */
static int
export_rel(const struct sl_db_result *r, size_t i, void *arg)
{
	struct export *x = arg;
	sl_arena_reset(&x->arena);
	struct sl_value fkey, tkey, key;
	if (json_col(sl_db_result_get(r, i, 2), &x->arena, "from key", &fkey) !=
	            0 ||
	    json_col(sl_db_result_get(r, i, 4), &x->arena, "to key", &tkey) !=
	            0 ||
	    json_col(sl_db_result_get(r, i, 5), &x->arena, "relationship key",
	             &key) != 0)
		return -1;
	if (sl_graph_line_rel(&x->line, *sl_db_result_get(r, i, 0),
	                      *sl_db_result_get(r, i, 1), fkey,
	                      *sl_db_result_get(r, i, 3), tkey, key,
	                      *sl_db_result_get(r, i, 6)) != 0)
		return -1;
	return x->fn(x->arg, x->line.data, x->line.len);
}

int
sl_store_pg_export(struct sl_store_pg *s, sl_export_fn fn, void *arg)
{
	struct lane *l = &s->lanes[0];
	if (l->c == NULL && lane_connect(l) != 0)
		return -1;
	struct export x = {.fn = fn, .arg = arg};
	sl_arena_create(&x.arena, 0, TEXT_MAX);
	sl_buf_create(&x.line, TEXT_MAX);
	struct sl_db_tx tx;
	struct sl_db_tx_opts o = {.isolation = SL_ISO_REPEATABLE_READ,
	                          .read_only = true};
	int rc = sl_db_tx_begin(l->c, &tx, &o);
	/* Every row is read: a cursor's default plan is one that starts
	 * fast, and on tables without statistics yet (just loaded) a nested
	 * loop over a scan of the nodes took minutes. Hash and merge joins
	 * suit reading everything. */
	if (rc == 0)
		rc = sl_db_exec(l->c,
		                "SELECT set_config('cursor_tuple_fraction', "
		                "'1', true), set_config('enable_nestloop', "
		                "'off', true)",
		                SL_NOARGS, NULL);
	if (rc == 0)
		rc = export_cursor(l->c,
		                   "SELECT type, key, labels, props FROM node "
		                   "ORDER BY type COLLATE \"C\", key COLLATE "
		                   "\"C\"",
		                   export_node, &x);
	if (rc == 0)
		rc = export_cursor(
		        l->c,
		        "SELECT r.type, f.type, f.key, t.type, t.key, r.key, "
		        "r.props FROM rel AS r JOIN node AS f ON f.id = "
		        "r.from_id JOIN node AS t ON t.id = r.to_id ORDER BY "
		        "r.type COLLATE \"C\", f.type COLLATE \"C\", f.key "
		        "COLLATE \"C\", t.type COLLATE \"C\", t.key COLLATE "
		        "\"C\", r.key COLLATE \"C\", r.id",
		        export_rel, &x);
	/* A read-only snapshot: ending it commits nothing. */
	if (rc == 0)
		rc = sl_db_tx_commit(&tx);
	else
		sl_db_tx_abandon(&tx);
	sl_arena_destroy(&x.arena);
	sl_buf_destroy(&x.line);
	return rc;
}

/* }}} */
/* {{{ the store's ops (store.h) */

/** Open (store.h). */
static void *
pg_open(const char *uri)
{
	return sl_store_pg_open(uri);
}

/** Write a batch (store.h). */
static int
pg_write(void *store, const struct sl_graph_batch *b,
         struct sl_graph_counts *st)
{
	return sl_store_pg_write(store, b, st);
}

/** Delete what expired (store.h). */
static int
pg_ttl(void *store, bool nodes, const char *type, const char *cutoff,
       uint64_t *deleted)
{
	return sl_store_pg_ttl(store, nodes, type, cutoff, deleted);
}

/** Migrate (store.h). */
static int
pg_migrate(void *store, const struct sl_schema *schema, uint32_t *applied,
           uint32_t *kept)
{
	return sl_store_pg_migrate(store, schema, applied, kept);
}

/** List migrations (store.h). */
static int
pg_migrations(void *store, const struct sl_schema *schema, sl_mig_status_fn fn,
              void *arg)
{
	return sl_store_pg_migrations(store, schema, fn, arg);
}

/** Export (store.h). */
static int
pg_export(void *store, sl_export_fn fn, void *arg)
{
	return sl_store_pg_export(store, fn, arg);
}

/**
 * Open the transaction of a store keeping positions, in the calling task
 * (the writer's, which commits it). 0, or -1.
 */
static int
progress_begin(struct sl_store_pg *s)
{
	struct lane *l = &s->lanes[0];
	if (s->ptx_open)
		return 0;
	if ((l->c == NULL || !sl_db_conn_ok(l->c)) &&
	    (lane_drop(l), lane_connect(l)) != 0)
		return -1;
	sl_write_tally_rollback(&l->tally);
	if (sl_db_tx_begin(l->c, &s->ptx, NULL) != 0)
		return -1;
	s->ptx_open = true;
	return 0;
}

/** The checkpoint position under a key (store.h). */
static int
pg_progress_get(void *store, const char *key, struct sl_buf *out)
{
	struct sl_store_pg *s = store;
	struct lane *l = &s->lanes[0];
	if (l->c == NULL && lane_connect(l) != 0)
		return -1;
	if (sl_db_exec(l->c,
	               "CREATE TABLE IF NOT EXISTS sluice_progress("
	               " key text PRIMARY KEY, pos text NOT NULL)",
	               SL_NOARGS, NULL) != 0)
		return -1;
	/* One writer per key at a time, held for the session: a run killed
	 * with its COMMIT sent may still commit, so the next one waits
	 * until the server has ended the killed run's session. */
	struct sl_value k = sl_str_ref(key, (uint32_t)strlen(key));
	struct sl_db_result *r = sl_db_query(
	        l->c, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
	        SL_ARGS(k));
	if (r == NULL)
		return -1;
	bool got = sl_db_result_get(r, 0, 0)->type == SL_VBOOL &&
	           sl_db_result_get(r, 0, 0)->u.b;
	sl_db_result_free(r);
	if (!got) {
		sl_log_info("%s: waiting for another run writing checkpoint "
		            "%s to end (or for the server to end the session "
		            "of a run that was killed)",
		            s->shown, key);
		if (sl_db_exec(l->c,
		               "SELECT pg_advisory_lock(hashtextextended($1, "
		               "0))",
		               SL_ARGS(k), NULL) != 0)
			return -1;
	}
	r = sl_db_query(l->c, "SELECT pos FROM sluice_progress WHERE key = $1",
	                SL_ARGS(k));
	if (r == NULL)
		return -1;
	int found = 0;
	if (sl_db_result_rows(r) > 0) {
		const struct sl_value *v = sl_db_result_get(r, 0, 0);
		sl_buf_reset(out);
		found = v->type == SL_VSTR &&
		                        sl_buf_append(out, v->u.s, v->len) == 0
		                ? 1
		                : -1;
		if (found < 0 && v->type != SL_VSTR)
			sl_diag_set(SL_EINVAL,
			            "%s: sluice_progress.pos of "
			            "key %s is not text",
			            s->shown, key);
	}
	sl_db_result_free(r);
	if (found < 0)
		return -1;
	if (s->nlanes > 1)
		sl_log_info("%s: keeping checkpoints: one lane, one "
		            "transaction per checkpoint",
		            s->shown);
	s->nlanes = 1;
	s->progress = true;
	return progress_begin(s) != 0 ? -1 : found;
}

/** Put a checkpoint position in the open transaction (store.h). */
static int
pg_progress_put(void *store, const char *key, const char *pos)
{
	struct sl_store_pg *s = store;
	struct lane *l = &s->lanes[0];
	if (!s->ptx_open || l->c == NULL || !sl_db_conn_ok(l->c)) {
		return progress_lost(s);
	}
	return sl_db_exec(l->c,
	                  "INSERT INTO sluice_progress(key, pos) VALUES ($1, "
	                  "$2) ON CONFLICT (key) DO UPDATE SET pos = "
	                  "excluded.pos",
	                  SL_ARGS(sl_str_ref(key, (uint32_t)strlen(key)),
	                          sl_str_ref(pos, (uint32_t)strlen(pos))),
	                  NULL);
}

/**
 * Commit the transaction of a store keeping positions, and open the next
 * (store.h). Other stores commit every lane's share in `write`.
 */
static int
pg_commit(void *store, struct sl_graph_counts *st)
{
	struct sl_store_pg *s = store;
	if (!s->progress || !s->ptx_open)
		return 0;
	struct lane *l = &s->lanes[0];
	s->ptx_open = false;
	if (sl_db_tx_commit(&s->ptx) != 0) {
		sl_write_tally_rollback(&l->tally);
		return -1;
	}
	sl_write_tally_commit(&l->tally);
	sl_write_tally_report(&l->tally, st);
	return progress_begin(s);
}

/** Roll back the transaction of a store keeping positions (store.h). */
static int
pg_rollback(void *store)
{
	struct sl_store_pg *s = store;
	if (!s->progress || !s->ptx_open)
		return 0;
	s->ptx_open = false;
	sl_write_tally_rollback(&s->lanes[0].tally);
	return sl_db_tx_rollback(&s->ptx);
}

/** Close (store.h). */
static int
pg_close(void *store)
{
	struct sl_store_pg *s = store;
	int rc = 0;
	if (s->ptx_open) {
		/* The writer committed before: nothing is pending. */
		s->ptx_open = false;
		rc = sl_db_tx_commit(&s->ptx);
	}
	sl_store_pg_close(store);
	return rc;
}

/** URI schemes of the PostgreSQL store. */
static const char *const pg_schemes[] = {"postgresql://", "postgres://", NULL};

const struct sl_graph_store_ops sl_store_pg_ops = {
        .name = "postgresql",
        .schemes = pg_schemes,
        .usage = "postgresql://...",
        .caps = SL_STORE_TTL | SL_STORE_MIGRATE | SL_STORE_EXPORT,
        .batch_default = SL_GRAPH_BATCH_DEFAULT_PG,
        /* text and jsonb hold no U+0000; jsonb numbers are finite. */
        .cannot = SL_GRAPH_NO_NUL | SL_GRAPH_NO_INF | SL_GRAPH_NO_NAN,
        .open = pg_open,
        .write = pg_write,
        .commit = pg_commit,
        .ttl = pg_ttl,
        .migrate = pg_migrate,
        .migrations = pg_migrations,
        .export_graph = pg_export,
        .progress_get = pg_progress_get,
        .progress_put = pg_progress_put,
        .rollback = pg_rollback,
        .close = pg_close,
};

/* }}} */
