/*
 * sluice: the SQLite graph store (see sqlite_store.h and docs/storage.md).
 *
 * The store lives on a connection of the database layer (db/sqlite_conn.h):
 * every operation is one job on that connection's worker, its statements
 * come from the connection's statement cache, and SQLite's errors, the
 * busy timeout and cancellation are the connection's. Values are always
 * bound as parameters. Two SQL functions are registered on the
 * connection: sluice_regexp(pattern, text), a whole-string
 * PCRE2 match used by FUZZY lookups, and sluice_labels(old, new), the sorted
 * union of two JSON arrays of labels.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "graph/sqlite_store.h"

#include <errno.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/db.h"
#include "sluice/diag.h"
#include "sluice/graph.h"
#include "sluice/hash.h"
#include "sluice/json.h"
#include "sluice/task.h"
#include "sluice/jsonread.h"
#include "sluice/log.h"
#include "db/sqlite_conn.h"
#include "db/sqlite_dl.h"
#include "graph/store.h"

/**
 * How the JSON columns are written: canonical, with the infinities as
 * 1e999 and -1e999, which SQLite's JSON functions read as infinite reals
 * (they refuse Infinity); export reads them back as infinities.
 */
#define JSON_FLAGS (SL_JSON_CANONICAL | SL_JSON_INF_OVERFLOW)

/** Largest JSON text built for one key, label set or property object. */
#define TEXT_MAX ((size_t)1 << 30)
/** Cap of the scratch arenas (per operation, per row, per function call). */
#define ARENA_MAX ((size_t)1 << 30)
/** Chunk size of the scratch arenas. */
#define ARENA_CHUNK ((size_t)64 << 10)
/** Compiled regular expressions kept for FUZZY matching. */
#define RE_CACHE_SIZE 16
/** Page cache per connection, in KiB (a negative cache_size). */
#define CACHE_KIB 65536

/** Page cache (KiB) while sluice_rel_in is built (rel_in_build()). */
#define BUILD_CACHE_KIB 2048

/**
 * WAL frames after a commit from which the store's second connection
 * checkpoints them while the store goes on writing (SQLite's own
 * automatic checkpoint, in the committing connection, starts at 1,000).
 */
#define CKPT_FRAMES 1000

/**
 * Bytes of WAL frames after a commit from which the committing connection
 * checkpoints what the second one has not (wal_hook()): the WAL holds at
 * most that and one transaction.
 */
#define WAL_MAX_BYTES ((int64_t)128 << 20)

/**
 * Page size of a new graph database. SQLite's 4 KiB holds about 15 node
 * rows of a typical graph (text keys and JSON properties); 16 KiB pages
 * make the node and relationship b-trees shallower and a load's WAL
 * frames and writes fewer (docs/performance.md). A database keeps the
 * page size it was made with.
 */
#define PAGE_SIZE_NEW 16384

/** Slots of the node id cache (a power of two). */
#define ID_CACHE_SLOTS (1u << 17)

/** Longest type + key text the id cache holds. */
#define ID_CACHE_TEXT 52
/** Entries of the properties text memo (struct props_memo). */
#define PROPS_MEMO 2
/** Longest properties text the memo keeps. */
#define MEMO_TEXT_MAX ((size_t)4 << 10)

/** Longest type name quoted in an error message. */
#define MSG_NAME_MAX 64

/** The prepared statements a store keeps. */
enum stmt_id {
	ST_BEGIN_WRITE,     /**< BEGIN IMMEDIATE */
	ST_BEGIN_READ,      /**< BEGIN (deferred: a read snapshot) */
	ST_COMMIT,          /**< COMMIT */
	ST_NODE_INSERT,     /**< insert a node unless (type, key) exists */
	ST_NODE_UPDATE,     /**< merge labels and props into a node by key */
	ST_NODE_FUZZY_UPD,  /**< the same on every node matching patterns */
	ST_NODE_ID,         /**< the id of a node by (type, key) */
	ST_NODE_FUZZY_IDS,  /**< the ids of nodes matching patterns */
	ST_REL_INSERT,      /**< insert a mergeable relationship if missing */
	ST_REL_UPDATE,      /**< merge props into a mergeable relationship */
	ST_REL_CREATE,      /**< insert a CREATE-rule relationship */
	ST_NODE_INSERT_RAW, /**< ST_NODE_INSERT of props with nothing to drop */
	ST_REL_INSERT_RAW,  /**< ST_REL_INSERT of props with nothing to drop */
	ST_REL_CREATE_RAW,  /**< ST_REL_CREATE of props with nothing to drop */
	ST_REL_INSERT_MULTI, /**< ST_REL_INSERT_RAW of REL_CHUNK rows */
	ST_REL_ID,           /**< the id of a mergeable relationship */
	ST_REL_MAX_ID,       /**< the largest relationship id */
	ST_EXPORT_NODES,     /**< every node, ordered */
	ST_EXPORT_RELS,      /**< every relationship with its endpoints */
	ST_COUNT,            /**< number of statements, not a statement */
};

/*
 * The FUZZY predicate on a node whose key column is KEYCOL, with the op's
 * key object bound to ?2: no member of the op's key fails to match. A
 * string member is a pattern the node's value (a string) must match as a
 * whole; any other member must have the same JSON text.
 */
#define FUZZY_MATCH(KEYCOL)                                        \
	"NOT EXISTS (SELECT 1 FROM json_each(?2) AS p WHERE CASE " \
	"WHEN p.type = 'text' THEN coalesce(json_type(" KEYCOL     \
	", p.fullkey) = 'text' AND sluice_regexp(p.value, " KEYCOL \
	" ->> p.fullkey), 0) = 0 "                                 \
	"ELSE (" KEYCOL " -> p.fullkey) IS NOT (?2 -> p.fullkey) END)"

/*
 * The assignments of a node update: ?3 the labels to add (a sorted JSON
 * array), ?4 the properties to merge (a JSON object).
 */
#define NODE_SET                                        \
	"SET labels = CASE WHEN ?3 = '[]' THEN labels " \
	"ELSE sluice_labels(labels, ?3) END, "          \
	"props = CASE WHEN ?4 = '{}' THEN props "       \
	"ELSE json_patch(props, ?4) END "

/**
 * The `multi` of a new CREATE row: one past the largest of its (from_id,
 * type, to_id, key), a seek to the end of that prefix of
 * sluice_rel_identity.
 */
#define NEXT_MULTI                                                         \
	"(SELECT coalesce(max(multi), 0) + 1 FROM rel WHERE from_id = ?2 " \
	"AND type = ?1 AND to_id = ?3 AND key = ?4)"

/** Relationship rows of one ST_REL_INSERT_MULTI. */
#define REL_CHUNK 32

/** The VALUES rows of ST_REL_INSERT_MULTI: REL_CHUNK of them. */
#define REL_ROW     "(?,?,?,?,?,0)"
#define REL_ROWS_4  REL_ROW "," REL_ROW "," REL_ROW "," REL_ROW
#define REL_ROWS_16 REL_ROWS_4 "," REL_ROWS_4 "," REL_ROWS_4 "," REL_ROWS_4
#define REL_ROWS_32 REL_ROWS_16 "," REL_ROWS_16

/** SQL text of each statement, by enum stmt_id. */
static const char *const stmt_sql[ST_COUNT] = {
        [ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
        [ST_BEGIN_READ] = "BEGIN",
        [ST_COMMIT] = "COMMIT",
        [ST_NODE_INSERT] = "INSERT INTO node(type, key, labels, props) "
                           "VALUES (?1, ?2, ?3, json_patch('{}', ?4)) "
                           "ON CONFLICT(type, key) DO NOTHING",
        [ST_NODE_UPDATE] =
                "UPDATE node " NODE_SET "WHERE type = ?1 AND key = ?2",
        [ST_NODE_FUZZY_UPD] = "UPDATE node " NODE_SET
                              "WHERE type = ?1 AND " FUZZY_MATCH("node.key"),
        [ST_NODE_ID] = "SELECT id FROM node WHERE type = ?1 AND key = ?2",
        [ST_NODE_FUZZY_IDS] =
                "SELECT n.id FROM node AS n "
                "WHERE n.type = ?1 AND " FUZZY_MATCH("n.key") " ORDER BY n.id",
        [ST_REL_INSERT] =
                "INSERT INTO rel(type, from_id, to_id, key, props, multi) "
                "VALUES (?1, ?2, ?3, ?4, json_patch('{}', ?5), 0) "
                "ON CONFLICT(from_id, type, to_id, key, multi) DO NOTHING",
        [ST_REL_UPDATE] = "UPDATE rel SET props = json_patch(props, ?5) "
                          "WHERE from_id = ?2 AND type = ?1 AND to_id = ?3 "
                          "AND key = ?4 AND multi = 0",
        [ST_REL_CREATE] =
                "INSERT INTO rel(type, from_id, to_id, key, props, multi) "
                "VALUES (?1, ?2, ?3, ?4, json_patch('{}', ?5), " NEXT_MULTI ")",
        /* Properties without nulls or objects are stored as they are:
         * json_patch('{}', p) would give p again, at the cost of a
         * parse. */
        [ST_NODE_INSERT_RAW] = "INSERT INTO node(type, key, labels, props) "
                               "VALUES (?1, ?2, ?3, ?4) "
                               "ON CONFLICT(type, key) DO NOTHING",
        [ST_REL_INSERT_RAW] =
                "INSERT INTO rel(type, from_id, to_id, key, props, multi) "
                "VALUES (?1, ?2, ?3, ?4, ?5, 0) "
                "ON CONFLICT(from_id, type, to_id, key, multi) DO NOTHING",
        [ST_REL_CREATE_RAW] =
                "INSERT INTO rel(type, from_id, to_id, key, props, multi) "
                "VALUES (?1, ?2, ?3, ?4, ?5, " NEXT_MULTI ")",
        [ST_REL_INSERT_MULTI] =
                "INSERT INTO rel(type, from_id, to_id, key, props, multi) "
                "VALUES " REL_ROWS_32
                " ON CONFLICT(from_id, type, to_id, key, multi) DO NOTHING",
        [ST_REL_ID] = "SELECT id FROM rel WHERE from_id = ?2 AND type = ?1 "
                      "AND to_id = ?3 AND key = ?4 AND multi = 0",
        [ST_REL_MAX_ID] = "SELECT max(id) FROM rel",
        [ST_EXPORT_NODES] = "SELECT type, key, labels, props FROM node "
                            "ORDER BY type, key",
        [ST_EXPORT_RELS] =
                "SELECT r.type, f.type, f.key, t.type, t.key, r.key, "
                "r.props FROM rel AS r "
                "JOIN node AS f ON f.id = r.from_id "
                "JOIN node AS t ON t.id = r.to_id "
                "ORDER BY r.type, f.type, f.key, t.type, t.key, r.key, r.id",
};

/**
 * The index of relationships by their target, the schema's one index that
 * no write of the store reads. A load into an empty `rel` table builds it
 * at its end (rel_in_defer()).
 */
#define REL_IN_SQL \
	"CREATE INDEX IF NOT EXISTS sluice_rel_in ON rel(to_id, type);"

/**
 * The schema, version 2, created in one transaction. Version 1 had
 * `multi` 1 for every CREATE row, a partial identity index (WHERE multi =
 * 0) and sluice_rel_out ON rel(from_id, type); the identity index now
 * holds every row, so that it serves out-edges too, and a relationship is
 * one b-tree insert cheaper.
 */
static const char schema_sql[] =
        "BEGIN IMMEDIATE;"
        "CREATE TABLE IF NOT EXISTS sluice_meta("
        " name TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS node("
        " id INTEGER PRIMARY KEY,"
        " type TEXT NOT NULL,"
        " key TEXT NOT NULL,"
        " labels TEXT NOT NULL DEFAULT '[]',"
        " props TEXT NOT NULL DEFAULT '{}');"
        "CREATE UNIQUE INDEX IF NOT EXISTS sluice_node_type_key ON node(type, "
        "key);"
        "CREATE TABLE IF NOT EXISTS rel("
        " id INTEGER PRIMARY KEY,"
        " type TEXT NOT NULL,"
        " from_id INTEGER NOT NULL REFERENCES node(id),"
        " to_id INTEGER NOT NULL REFERENCES node(id),"
        " key TEXT NOT NULL DEFAULT '{}',"
        " props TEXT NOT NULL DEFAULT '{}',"
        " multi INTEGER NOT NULL DEFAULT 0);"
        "CREATE UNIQUE INDEX IF NOT EXISTS sluice_rel_identity"
        " ON rel(from_id, type, to_id, key, multi);" REL_IN_SQL
        "INSERT OR IGNORE INTO sluice_meta(name, value)"
        " VALUES ('schema_version', '2');"
        "COMMIT;";

/**
 * Version 1 to 2, in one transaction: CREATE rows told apart by their
 * ids, the identity index over every row, no sluice_rel_out. Run again
 * (two processes that both saw version 1) it changes nothing that
 * matters.
 */
static const char migrate_1_2_sql[] =
        "BEGIN IMMEDIATE;"
        "UPDATE rel SET multi = id WHERE multi <> 0;"
        "DROP INDEX IF EXISTS sluice_rel_out;"
        "DROP INDEX IF EXISTS sluice_rel_identity;"
        "CREATE UNIQUE INDEX sluice_rel_identity"
        " ON rel(from_id, type, to_id, key, multi);"
        "UPDATE sluice_meta SET value = '2' WHERE name = 'schema_version';"
        "COMMIT;";

/** One compiled pattern of the regex cache. */
struct re_entry {
	/** The pattern text (owned, NUL-terminated), or NULL when unused. */
	char *pat;
	/** Its length in bytes. */
	size_t len;
	/** The compiled pattern (anchored at both ends). */
	pcre2_code *code;
};

/** A relationship row waiting for the multi-row insert. */
struct rel_row {
	/** Its write's index in the batch (for messages). */
	uint32_t op;
	/** Its type (the write's; lives through the job). */
	const struct sl_value *type;
	/** The ids of its source and target nodes. */
	int64_t from, to;
	/** Where its key's text starts in `row_text`, and its length. */
	uint32_t key_at, key_len;
	/** The same of its properties' text. */
	uint32_t props_at, props_len;
};

/** One slot of the node id cache. */
struct id_slot {
	/** Hash of the text; 0 for an empty slot. */
	uint64_t hash;
	/** The node id. */
	int64_t id;
	/**
	 * Hash of the labels and properties this store last merged into the
	 * node (0: not known). Merging the same again changes nothing, so
	 * that write is skipped: most writes of nodes many records share
	 * (a country, a region) repeat the last one.
	 */
	uint64_t patch;
	/** Length of `text`. */
	uint16_t len;
	/** The node's type, a NUL, and its key's JSON. */
	char text[ID_CACHE_TEXT];
};

/** Bytes of a node id cache. */
#define ID_CACHE_BYTES (ID_CACHE_SLOTS * sizeof(struct id_slot))

/**
 * The JSON text of a property object written lately in the current job.
 * Many writes of a batch carry equal properties (the ingestion marks of
 * every relationship and of the nodes many records share), each a copy of
 * its own: those reuse the text instead of writing it again.
 */
struct props_memo {
	/** The properties (a write's, valid until the job ends), or NULL. */
	const struct sl_value *props;
	/** Their JSON text. */
	struct sl_buf text;
};

/** A text made ahead (sqlite_prepare()): `len` bytes at `s`. */
struct ptext {
	/** The bytes (no NUL after them). */
	const char *s;
	/** How many. */
	uint32_t len;
	/**
	 * Of properties: props_plain() of them, so that the worker need not
	 * read the values again (made on the loop thread, each read there
	 * is a cache miss).
	 */
	bool plain;
};

/**
 * The JSON texts the writes of a batch bind, made on the loop thread
 * while the store's worker writes the batch before (sqlite_prepare()), so
 * that the worker, which sets the pace of a load, copies them: per node
 * write its labels and properties, per relationship write its key and
 * properties. Written and read on the loop thread, read by the batch's
 * write job; free again once that returns.
 */
struct prepared {
	/** The batch (NULL: the slot is free). */
	const struct sl_graph_batch *b;
	/** Its serial and writes when they were made. */
	uint64_t serial;
	/** Its node writes then. */
	uint32_t n_nodes;
	/** Its relationship writes then. */
	uint32_t n_rels;
	/** Labels and properties of each node write, in b->nodes' order. */
	struct ptext *node;
	/** Key and properties of each relationship write. */
	struct ptext *rel;
	/**
	 * The id cache slot of each node write's node (NO_SLOT: none), for
	 * the worker to ask for ahead of its look-ups.
	 */
	uint32_t *node_slot;
	/** Those of each relationship write's from and to ends. */
	uint32_t *rel_slot;
	/** Room in `node`, in writes. */
	uint32_t cap_nodes;
	/** Room in `rel`, in writes. */
	uint32_t cap_rels;
	/** Memory of the texts (reset per batch). */
	struct sl_arena mem;
	/** Scratch memory of one label set. */
	struct sl_arena scratch;
	/** Where each text is written first. */
	struct sl_buf buf;
	/** The last two property objects written and their texts. */
	const struct sl_value *memo[2];
	/** Their texts. */
	struct ptext memo_text[2];
};

/** No id cache slot (struct prepared). */
#define NO_SLOT UINT32_MAX

/** A growable array of node ids (the endpoints of a relationship write). */
struct id_list {
	/** The ids. */
	int64_t *ids;
	/** Number of ids. */
	size_t n;
	/** Capacity of `ids`. */
	size_t cap;
};

/** An open store. */
struct sl_store_sqlite {
	/** The database layer's connection the store runs on. */
	struct sl_db_conn *c;
	/** Its handle while a job of the store runs (on the worker), else
	 * NULL. */
	sqlite3 *db;
	/** The database path (owned), for messages. */
	char *path;
	/**
	 * Statements by enum stmt_id looked up in the connection's cache
	 * during the current job (borrowed; cleared as each job starts).
	 */
	sqlite3_stmt *job_st[ST_COUNT];
	/**
	 * Ids of nodes by type and key, written or found lately (a
	 * direct-mapped cache, NULL until used; cleared whenever a rollback
	 * or a deletion could make an id stale).
	 */
	struct id_slot *ids;
	/**
	 * Mergeable relationships with plain properties waiting to be
	 * inserted REL_CHUNK at a time (rel_chunk_add()).
	 */
	struct rel_row rows[REL_CHUNK];
	/** How many wait in `rows`. */
	uint32_t n_rows;
	/** The texts of their keys and properties. */
	struct sl_buf row_text;
	/**
	 * Whether new relationship ids follow the largest (checked once a
	 * job: rel_chunk_flush() tells its new rows by their ids), 1 or 0;
	 * -1 unknown.
	 */
	int ids_follow;
	/** Whether a transaction spanning several batches is open. */
	bool in_tx;
	/**
	 * Whether sluice_rel_in is left to build at the end (rel_in_defer(),
	 * rel_in_build()).
	 */
	bool rel_in_deferred;
	/**
	 * Counts of the open transaction's writes, and of committed ones
	 * not yet reported (counted on commit: store.h).
	 */
	struct sl_write_tally tally;
	/** Writes in the open transaction. */
	uint64_t tx_ops;
	/** When the open transaction began (CLOCK_MONOTONIC seconds). */
	double tx_start;
	/** Commit after this many writes (0: after every batch). */
	uint64_t group_ops;
	/** ...or after this many seconds. */
	double group_secs;
	/** Canonical JSON of the current key (node, or relationship). */
	struct sl_buf key;
	/** JSON of the current labels. */
	struct sl_buf labels;
	/** JSON of the current properties. */
	struct sl_buf props;
	/** Canonical JSON of the from endpoint's key. */
	struct sl_buf from_key;
	/** Canonical JSON of the to endpoint's key. */
	struct sl_buf to_key;
	/** Scratch memory of one operation (reset per operation). */
	struct sl_arena op_arena;
	/** Scratch memory of one sluice_labels() call. */
	struct sl_arena fn_arena;
	/** The result text of one sluice_labels() call. */
	struct sl_buf fn_buf;
	/** Texts of properties written lately (cleared as each job starts). */
	struct props_memo memo[PROPS_MEMO];
	/** The memo entry to replace next. */
	unsigned memo_next;
	/** Ids of the from endpoints of the current relationship write. */
	struct id_list from_ids;
	/** Ids of the to endpoints of the current relationship write. */
	struct id_list to_ids;
	/** Compiled patterns, replaced round-robin. */
	struct re_entry re[RE_CACHE_SIZE];
	/** The cache slot to replace next. */
	unsigned re_next;
	/** Match data for sluice_regexp() (one ovector pair). */
	pcre2_match_data *md;
	/**
	 * A second connection to the database, which checkpoints its WAL
	 * while the store writes (ckpt_maybe()); NULL until needed.
	 */
	struct sl_db_conn *ck;
	/** The task checkpointing on `ck`, or NULL. */
	struct sl_task *ck_task;
	/**
	 * Whether opening `ck` failed: checkpoints are the store
	 * connection's, as SQLite's automatic ones (set on the loop, read in
	 * wal_hook()).
	 */
	atomic_bool ck_failed;
	/** Whether `ck` has read the database (and knows its WAL). */
	bool ck_ready;
	/**
	 * Held by whichever connection checkpoints (ckpt_job(),
	 * wal_hook()): SQLite lets one checkpoint run at a time and fails
	 * the other at once, where the store's connection must wait.
	 */
	pthread_mutex_t ck_mutex;
	/**
	 * Frames in the WAL after the store's last commit (wal_hook(), on
	 * the connection's worker); 0 once a checkpoint of them started.
	 */
	_Atomic int wal_frames;
	/** Texts of batches made ahead (sqlite_prepare()). */
	struct prepared prep[2];
	/** Frames from which `ck` checkpoints (sl_store_sqlite_wal()). */
	int ckpt_frames;
	/** Frames from which the store's connection checkpoints itself. */
	int wal_most;
};

/**
 * The statement `id` from the connection's cache (looked up once per
 * job); NULL with an error.
 */
static sqlite3_stmt *
stmt_get(struct sl_store_sqlite *s, enum stmt_id id)
{
	if (s->job_st[id] == NULL)
		s->job_st[id] = sl_sqlite_stmt(s->c, stmt_sql[id]);
	return s->job_st[id];
}

/**
 * Raise the connection's error for statement `sql` that just failed,
 * saying what the store was doing. -1.
 */
static int
db_error(struct sl_store_sqlite *s, const char *sql, const char *what)
{
	sl_sqlite_error(s->c, sql);
	sl_diag_wrap(sl_diag_code(), "%s", what);
	return -1;
}

/** Reset a statement and drop its bindings, ready for the next use. */
static void
stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/** Run a statement that returns no rows (BEGIN, COMMIT...). 0 or -1. */
static int
stmt_exec(struct sl_store_sqlite *s, enum stmt_id id, const char *what)
{
	sqlite3_stmt *st = stmt_get(s, id);
	if (st == NULL)
		return -1;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		db_error(s, stmt_sql[id], what);
	stmt_done(st);
	return rc != SQLITE_DONE && rc != SQLITE_ROW ? -1 : 0;
}

/** Roll back the open transaction, if any, keeping the current error. */
static void
rollback(struct sl_store_sqlite *s)
{
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- label sets ---- */

/** qsort() order of string values: bytewise, then shorter first. */
static int
label_cmp(const void *pa, const void *pb)
{
	const struct sl_value *a = *(const struct sl_value *const *)pa;
	const struct sl_value *b = *(const struct sl_value *const *)pb;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n > 0 ? memcmp(a->u.s, b->u.s, n) : 0;
	if (c != 0)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

/** Whether string value `v` holds the same bytes as `t`. */
static bool
str_same(const struct sl_value *v, const struct sl_value *t)
{
	return t != NULL && t->type == SL_VSTR && v->len == t->len &&
	       (v->len == 0 || memcmp(v->u.s, t->u.s, v->len) == 0);
}

/**
 * Append the JSON array of the `n` strings at `items` to `out`: sorted,
 * without duplicates and without a string equal to `exclude` (may be
 * NULL). Sorts `items` in place. 0, or -1 with an error.
 */
static int
write_label_set(const struct sl_value **items, size_t n,
                const struct sl_value *exclude, struct sl_buf *out)
{
	if (n > 1)
		qsort(items, n, sizeof(*items), label_cmp);
	if (sl_buf_putc(out, '[') != 0)
		return -1;
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && label_cmp(&items[i - 1], &items[i]) == 0)
			continue;
		if (str_same(items[i], exclude))
			continue;
		if (!first && sl_buf_putc(out, ',') != 0)
			return -1;
		if (sl_json_write(out, items[i], JSON_FLAGS) != 0)
			return -1;
		first = false;
	}
	return sl_buf_putc(out, ']');
}

/**
 * Add the string items of array `arr` to `items` (room for them must be
 * there) at `*n`. Non-strings are an error when `strict`, else skipped.
 * 0, or -1 when a non-string is refused.
 */
static int
collect_labels(const struct sl_value *arr, const struct sl_value **items,
               size_t *n, bool strict)
{
	for (uint32_t i = 0; i < arr->len; i++) {
		const struct sl_value *v = &arr->u.items[i];
		if (v->type != SL_VSTR) {
			if (strict)
				return -1;
			continue;
		}
		items[(*n)++] = v;
	}
	return 0;
}

/**
 * sluice_labels(old, new): the sorted union without duplicates of two
 * JSON arrays of strings (non-strings in them are dropped).
 */
static void
fn_labels(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sl_store_sqlite *s = sqlite3_user_data(ctx);
	struct sl_value arr[2];
	size_t total = 0;
	(void)argc;
	sl_arena_reset(&s->fn_arena);
	sl_buf_reset(&s->fn_buf);
	for (int i = 0; i < 2; i++) {
		const char *t = (const char *)sqlite3_value_text(argv[i]);
		size_t n = (size_t)sqlite3_value_bytes(argv[i]);
		if (t == NULL) {
			arr[i] = sl_array_ref(NULL, 0);
			continue;
		}
		if (sl_json_parse(t, n, &s->fn_arena, NULL, "labels",
		                  &arr[i]) != 0 ||
		    arr[i].type != SL_VARRAY) {
			sqlite3_result_error(ctx,
			                     "sluice_labels: labels must be a "
			                     "JSON array",
			                     -1);
			return;
		}
		total += arr[i].len;
	}
	const struct sl_value **items =
	        sl_arena_alloc(&s->fn_arena, (total + 1) * sizeof(*items));
	if (items == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	size_t n = 0;
	(void)collect_labels(&arr[0], items, &n, false);
	(void)collect_labels(&arr[1], items, &n, false);
	if (write_label_set(items, n, NULL, &s->fn_buf) != 0) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	sqlite3_result_text(ctx, s->fn_buf.data, (int)s->fn_buf.len,
	                    SQLITE_TRANSIENT);
}

/* ---- regular expressions ---- */

/**
 * The compiled form of pattern `pat` (`len` bytes), from the cache or
 * compiled now; NULL with the error set on `ctx`.
 */
static pcre2_code *
regex_get(struct sl_store_sqlite *s, sqlite3_context *ctx, const char *pat,
          size_t len)
{
	for (unsigned i = 0; i < RE_CACHE_SIZE; i++) {
		struct re_entry *e = &s->re[i];
		if (e->pat != NULL && e->len == len &&
		    memcmp(e->pat, pat, len) == 0)
			return e->code;
	}
	int err;
	PCRE2_SIZE off;
	pcre2_code *code = pcre2_compile(
	        (PCRE2_SPTR)pat, len,
	        PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED | PCRE2_ENDANCHORED,
	        &err, &off, NULL);
	if (code == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(err, msg, sizeof(msg));
		char *full = sqlite3_mprintf(
		        "sluice_regexp: invalid regular expression at offset "
		        "%llu: %s",
		        (unsigned long long)off, (const char *)msg);
		sqlite3_result_error(ctx, full != NULL ? full : "sluice_regexp",
		                     -1);
		sqlite3_free(full);
		return NULL;
	}
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	char *copy = sl_strndup(pat, len);
	if (copy == NULL) {
		pcre2_code_free(code);
		sqlite3_result_error_nomem(ctx);
		return NULL;
	}
	struct re_entry *e = &s->re[s->re_next];
	s->re_next = (s->re_next + 1) % RE_CACHE_SIZE;
	sl_free(e->pat);
	pcre2_code_free(e->code);
	e->pat = copy;
	e->len = len;
	e->code = code;
	return code;
}

/**
 * sluice_regexp(pattern, text): 1 when the whole of `text` matches
 * `pattern` (PCRE2, UTF, Unicode properties), else 0; NULL when either is
 * NULL. An invalid pattern is an error.
 */
static void
fn_regexp(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sl_store_sqlite *s = sqlite3_user_data(ctx);
	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
	    sqlite3_value_type(argv[1]) == SQLITE_NULL)
		return;
	const char *pat = (const char *)sqlite3_value_text(argv[0]);
	size_t plen = (size_t)sqlite3_value_bytes(argv[0]);
	const char *txt = (const char *)sqlite3_value_text(argv[1]);
	size_t tlen = (size_t)sqlite3_value_bytes(argv[1]);
	if (pat == NULL || txt == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	pcre2_code *code = regex_get(s, ctx, pat, plen);
	if (code == NULL)
		return;
	int rc = pcre2_match(code, (PCRE2_SPTR)txt, tlen, 0, 0, s->md, NULL);
	if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(rc, msg, sizeof(msg));
		char *full =
		        sqlite3_mprintf("sluice_regexp: %s", (const char *)msg);
		sqlite3_result_error(ctx, full != NULL ? full : "sluice_regexp",
		                     -1);
		sqlite3_free(full);
		return;
	}
	sqlite3_result_int(ctx, rc >= 0);
}

/* ---- open and close ---- */

/** The query of inspect(). */
static const char inspect_sql[] =
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
        "('sluice_meta', 'node', 'rel')";

/** The query of check_version(). */
static const char version_sql[] =
        "SELECT value FROM sluice_meta WHERE name = 'schema_version'";

/**
 * After `sql` failed while reading the schema: the connection's error,
 * said to be no sluice graph when SQLite found no database. -1.
 */
static int
schema_error(struct sl_store_sqlite *s, const char *sql)
{
	if (sqlite3_errcode(s->db) != SQLITE_NOTADB)
		return db_error(s, sql, "reading the schema");
	sl_sqlite_error(s->c, sql);
	sl_diag_wrap(SL_EDB, "%s: not a sluice graph database", s->path);
	return -1;
}

/**
 * Look at what the database holds: *meta, *node, *rel say which of the
 * tables sluice_meta, node and rel exist. 0, or -1 with an error (a file
 * that is not a database among them).
 */
static int
inspect(struct sl_store_sqlite *s, bool *meta, bool *node, bool *rel)
{
	*meta = *node = *rel = false;
	sqlite3_stmt *st = sl_sqlite_stmt(s->c, inspect_sql);
	if (st == NULL)
		return schema_error(s, inspect_sql);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (name == NULL)
			continue;
		if (strcmp(name, "sluice_meta") == 0)
			*meta = true;
		else if (strcmp(name, "node") == 0)
			*node = true;
		else if (strcmp(name, "rel") == 0)
			*rel = true;
	}
	if (rc != SQLITE_DONE)
		schema_error(s, inspect_sql);
	stmt_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/**
 * Check sluice_meta.schema_version: this version, or 1 (`*old` set: to be
 * migrated). 0, or -1 with an error.
 */
static int
check_version(struct sl_store_sqlite *s, bool *old)
{
	*old = false;
	sqlite3_stmt *st = sl_sqlite_stmt(s->c, version_sql);
	if (st == NULL)
		return db_error(s, version_sql, "reading sluice_meta");
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			sl_diag_set(SL_EINVAL,
			            "%s: not a sluice graph database "
			            "(sluice_meta has no schema_version)",
			            s->path);
		else
			db_error(s, version_sql, "reading sluice_meta");
		stmt_done(st);
		return -1;
	}
	const char *v = (const char *)sqlite3_column_text(st, 0);
	char buf[32];
	snprintf(buf, sizeof(buf), "%s", v != NULL ? v : "");
	stmt_done(st);
	char *end;
	errno = 0;
	long ver = strtol(buf, &end, 10);
	if (end == buf || *end != '\0' || errno != 0) {
		sl_diag_set(SL_EINVAL,
		            "%s: graph schema version \"%s\" is not a number, "
		            "this sluice reads versions 1 to %d",
		            s->path, buf, SL_SQLITE_SCHEMA_VERSION);
		return -1;
	}
	if (ver != SL_SQLITE_SCHEMA_VERSION && ver != 1) {
		sl_diag_set(SL_EINVAL,
		            "%s: graph schema version %ld, this sluice reads "
		            "versions 1 to %d",
		            s->path, ver, SL_SQLITE_SCHEMA_VERSION);
		return -1;
	}
	*old = ver == 1;
	return 0;
}

/**
 * Run `sql` (several statements, no rows wanted), rolling back on an
 * error. 0, or -1 with the connection's error, saying `what` failed.
 */
static int
exec_sql(struct sl_store_sqlite *s, const char *sql, const char *what)
{
	if (sl_sqlite_exec(s->c, sql) == 0)
		return 0;
	sl_diag_wrap(sl_diag_code(), "%s", what);
	rollback(s);
	return -1;
}

/**
 * Drop sluice_rel_in when the `rel` table is empty, so that a load into it
 * does not insert into that index in the order of its targets, a page
 * here and there for every relationship (and every page it touched
 * written to the WAL again at each commit); rel_in_build() sorts it once
 * at the end. When `rel` has rows and the index is missing (a load that
 * stopped before its end, or another store's load under way), leave it to
 * the end likewise: an open then never waits for another writer. Job
 * context. 0, or -1.
 */
static int
rel_in_defer(struct sl_store_sqlite *s)
{
	static const char sql[] =
	        "SELECT EXISTS (SELECT 1 FROM rel), EXISTS (SELECT 1 FROM "
	        "sqlite_master WHERE type = 'index' AND name = "
	        "'sluice_rel_in')";
	sqlite3_stmt *st = sl_sqlite_stmt(s->c, sql);
	if (st == NULL)
		return db_error(s, sql, "looking for relationships");
	int rc = sqlite3_step(st);
	bool rows = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) != 0;
	bool has = rc == SQLITE_ROW && sqlite3_column_int64(st, 1) != 0;
	if (rc != SQLITE_ROW) {
		db_error(s, sql, "looking for relationships");
		stmt_done(st);
		return -1;
	}
	stmt_done(st);
	if (!rows) {
		if (has && exec_sql(s, "DROP INDEX sluice_rel_in",
		                    "dropping the index sluice_rel_in until "
		                    "the load ends") != 0)
			return -1;
		s->rel_in_deferred = true;
		return 0;
	}
	if (has)
		return 0;
	sl_log_info("%s: the index sluice_rel_in is missing (a load into an "
	            "empty graph stopped before its end); it is built when "
	            "this store closes",
	            s->path);
	s->rel_in_deferred = true;
	return 0;
}

/**
 * Build sluice_rel_in if rel_in_defer() left it to the end, committing
 * what is pending first. Job context. 0, or -1 (it stays missing: the
 * next store that writes into the file builds it at its close).
 */
static int
rel_in_build(struct sl_store_sqlite *s)
{
	if (!s->rel_in_deferred)
		return 0;
	if (sl_store_sqlite_end_tx(s) != 0)
		return -1;
	/* With the store's large page cache, SQLite sorts the index in
	 * memory in one piece: twice the time of sorting runs of the
	 * default's size and merging them. */
	char sql[160];
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d; %s",
	         BUILD_CACHE_KIB, REL_IN_SQL);
	double t0 = sl_clock();
	int rc = exec_sql(s, sql, "building the index sluice_rel_in");
	double took = sl_clock() - t0;
	if (took >= 1.0)
		sl_log_info("%s: built the index sluice_rel_in in %.1f s",
		            s->path, took);
	else
		sl_log_debug("%s: built the index sluice_rel_in in %.3f s",
		             s->path, took);
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d;", CACHE_KIB);
	if (sl_sqlite_exec(s->c, sql) != 0 && rc == 0) {
		sl_diag_wrap(sl_diag_code(), "setting the page cache back");
		rc = -1;
	}
	if (rc == 0)
		s->rel_in_deferred = false;
	return rc;
}

/**
 * sqlite3_wal_hook() of the store's connection, after each commit (on
 * its worker): note the WAL's frames for ckpt_maybe(). From `wal_most`
 * frames (`ckpt_frames` when there is no second connection), checkpoint
 * every frame here, after a checkpoint of the second connection under way
 * (`ck_mutex`), so that the next transaction starts the WAL over: a WAL
 * starts over only when a write transaction begins with every frame
 * checkpointed, and the store begins the next one as soon as it commits,
 * before the second connection can be done.
 */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct sl_store_sqlite *s = arg;
	int most = atomic_load_explicit(&s->ck_failed, memory_order_relaxed)
	                   ? s->ckpt_frames
	                   : s->wal_most;
	if (frames >= most) {
		pthread_mutex_lock(&s->ck_mutex);
		int log = 0, done = 0;
		if (sqlite3_wal_checkpoint_v2(db, name,
		                              SQLITE_CHECKPOINT_PASSIVE, &log,
		                              &done) == SQLITE_OK &&
		    done == log)
			frames = 0;
		pthread_mutex_unlock(&s->ck_mutex);
	}
	atomic_store_explicit(&s->wal_frames, frames, memory_order_relaxed);
	return SQLITE_OK;
}

/**
 * Job: register the functions, check or create the schema. `arg` non-NULL
 * (a read-only store): only check it, set no pragmas and create nothing.
 */
static int
init_job(struct sl_store_sqlite *s, void *arg)
{
	bool readonly = arg != NULL;
	if (sl_sqlite_function(s->c, "sluice_regexp", 2, fn_regexp, s) != 0 ||
	    sl_sqlite_function(s->c, "sluice_labels", 2, fn_labels, s) != 0)
		return -1;
	bool meta, node, rel, old = false;
	if (inspect(s, &meta, &node, &rel) != 0)
		return -1;
	if (meta) {
		if (check_version(s, &old) != 0)
			return -1;
	} else if (node || rel) {
		sl_diag_set(SL_EINVAL,
		            "%s: not a sluice graph database (it has a table "
		            "named %s but no sluice_meta)",
		            s->path, node ? "node" : "rel");
		return -1;
	} else if (readonly) {
		sl_diag_set(SL_EINVAL,
		            "%s: not a sluice graph database (it has no "
		            "sluice_meta table)",
		            s->path);
		return -1;
	}
	if (readonly)
		return 0;
	/* The page size first: a new database's only, before its first
	 * page and WAL mode. */
	char page_size[48] = "";
	if (!meta)
		snprintf(page_size, sizeof(page_size),
		         "PRAGMA page_size = %d; ", PAGE_SIZE_NEW);
	char pragmas[200];
	snprintf(pragmas, sizeof(pragmas),
	         "%sPRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
	         "PRAGMA foreign_keys = OFF; PRAGMA cache_size = -%d;",
	         page_size, CACHE_KIB);
	if (exec_sql(s, pragmas, "setting up the connection") != 0)
		return -1;
	sqlite3_stmt *q = sl_sqlite_stmt(s->c, "PRAGMA page_size");
	if (q == NULL)
		return -1;
	int64_t page = sqlite3_step(q) == SQLITE_ROW
	                       ? sqlite3_column_int64(q, 0)
	                       : 4096;
	sqlite3_reset(q);
	if (page >= 512)
		s->wal_most = (int)(WAL_MAX_BYTES / page);
	/* Checkpoints are the store's (ckpt_maybe()), not each commit's. */
	sqlite3_wal_hook(s->db, wal_hook, s);
	if (!meta && exec_sql(s, schema_sql, "creating the schema") != 0)
		return -1;
	if (old) {
		sl_log_info("%s: updating the graph schema from version 1 to "
		            "%d",
		            s->path, SL_SQLITE_SCHEMA_VERSION);
		if (exec_sql(s, migrate_1_2_sql,
		             "updating the graph schema to version 2") != 0)
			return -1;
	}
	return rel_in_defer(s);
}

/** Arguments of a job of the store. */
struct job {
	/** The store. */
	struct sl_store_sqlite *s;
	/** What to run. */
	sl_store_sqlite_job_fn fn;
	/** Its argument. */
	void *arg;
};

/** Run a job of the store on the connection's worker (sl_sqlite_run()). */
static int
job_main(void *arg, sqlite3 *db)
{
	struct job *j = arg;
	j->s->db = db;
	memset(j->s->job_st, 0, sizeof(j->s->job_st));
	int rc = j->fn(j->s, j->arg);
	j->s->db = NULL;
	return rc;
}

int
sl_store_sqlite_run(struct sl_store_sqlite *s, sl_store_sqlite_job_fn fn,
                    void *arg)
{
	struct job j = {.s = s, .fn = fn, .arg = arg};
	return sl_sqlite_run(s->c, job_main, &j);
}

static void ckpt_stop(struct sl_store_sqlite *s);

/** Open the store at `path`, read-only when `readonly` (init_job()). */
static struct sl_store_sqlite *
store_open(const char *path, bool readonly)
{
	struct stat sb;
	if (readonly && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size == 0) {
		sl_diag_set(SL_EINVAL,
		            "%s: not a sluice graph database (the file is "
		            "empty)",
		            path);
		return NULL;
	}
	/* An empty file to write (one a run killed while it made the
	 * schema leaves behind, as SQLite creates the file first) is made a
	 * graph: it holds nothing to lose. */
	struct sl_store_sqlite *s = sl_calloc(1, sizeof(*s));
	char *p = sl_strndup(path, strlen(path));
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	if (s == NULL || p == NULL || md == NULL) {
		sl_free(s);
		sl_free(p);
		pcre2_match_data_free(md);
		sl_diag_set(SL_EOOM, "%s: out of memory opening the graph",
		            path);
		return NULL;
	}
	s->path = p;
	s->md = md;
	s->ckpt_frames = CKPT_FRAMES;
	s->wal_most = (int)(WAL_MAX_BYTES / 4096);
	pthread_mutex_init(&s->ck_mutex, NULL);
	for (unsigned i = 0; i < 2; i++) {
		sl_arena_create(&s->prep[i].mem, ARENA_CHUNK, ARENA_MAX);
		sl_arena_create(&s->prep[i].scratch, ARENA_CHUNK, ARENA_MAX);
		sl_buf_create(&s->prep[i].buf, TEXT_MAX);
	}
	sl_buf_create(&s->key, TEXT_MAX);
	sl_buf_create(&s->labels, TEXT_MAX);
	sl_buf_create(&s->props, TEXT_MAX);
	sl_buf_create(&s->from_key, TEXT_MAX);
	sl_buf_create(&s->to_key, TEXT_MAX);
	sl_buf_create(&s->row_text, TEXT_MAX);
	sl_buf_create(&s->fn_buf, TEXT_MAX);
	for (unsigned i = 0; i < PROPS_MEMO; i++)
		sl_buf_create(&s->memo[i].text, MEMO_TEXT_MAX);
	sl_arena_create(&s->op_arena, ARENA_CHUNK, ARENA_MAX);
	sl_arena_create(&s->fn_arena, ARENA_CHUNK, ARENA_MAX);
	s->c = readonly ? sl_sqlite_open_ro(path, NULL)
	                : sl_sqlite_open(path, NULL);
	if (s->c == NULL ||
	    sl_store_sqlite_run(s, init_job, readonly ? s : NULL) != 0) {
		sl_store_sqlite_close(s);
		return NULL;
	}
	return s;
}

struct sl_store_sqlite *
sl_store_sqlite_open(const char *path)
{
	return store_open(path, false);
}

struct sl_store_sqlite *
sl_store_sqlite_open_ro(const char *path)
{
	return store_open(path, true);
}

/** Job: commit what is pending, before the connection closes. */
static int
close_job(struct sl_store_sqlite *s, void *arg)
{
	(void)arg;
	return sl_store_sqlite_end_tx(s);
}

/** Job: rel_in_build(), before the connection closes. */
static int
build_job(struct sl_store_sqlite *s, void *arg)
{
	(void)arg;
	return rel_in_build(s);
}

void
sl_store_sqlite_close(struct sl_store_sqlite *s)
{
	if (s == NULL)
		return;
	ckpt_stop(s);
	if (s->c != NULL) {
		if (s->in_tx && sl_store_sqlite_run(s, close_job, NULL) != 0)
			sl_diag_clear(sl_diag_get());
		if (s->rel_in_deferred &&
		    sl_store_sqlite_run(s, build_job, NULL) != 0) {
			char msg[SL_ERROR_MSG_MAX];
			sl_error_format(sl_diag_last(), msg, sizeof(msg));
			sl_log_warn("%s (the next run that writes into it "
			            "builds it)",
			            msg);
			sl_diag_clear(sl_diag_get());
		}
		sl_db_conn_close(s->c);
	}
	for (unsigned i = 0; i < RE_CACHE_SIZE; i++) {
		sl_free(s->re[i].pat);
		pcre2_code_free(s->re[i].code);
	}
	pcre2_match_data_free(s->md);
	sl_buf_destroy(&s->key);
	sl_buf_destroy(&s->labels);
	sl_buf_destroy(&s->props);
	sl_buf_destroy(&s->from_key);
	sl_buf_destroy(&s->to_key);
	sl_buf_destroy(&s->row_text);
	sl_buf_destroy(&s->fn_buf);
	for (unsigned i = 0; i < PROPS_MEMO; i++)
		sl_buf_destroy(&s->memo[i].text);
	sl_arena_destroy(&s->op_arena);
	sl_arena_destroy(&s->fn_arena);
	sl_free(s->from_ids.ids);
	sl_free(s->to_ids.ids);
	sl_big_free(s->ids, ID_CACHE_BYTES);
	for (unsigned i = 0; i < 2; i++) {
		sl_arena_destroy(&s->prep[i].mem);
		sl_arena_destroy(&s->prep[i].scratch);
		sl_buf_destroy(&s->prep[i].buf);
		sl_free(s->prep[i].node);
		sl_free(s->prep[i].rel);
		sl_free(s->prep[i].node_slot);
		sl_free(s->prep[i].rel_slot);
	}
	pthread_mutex_destroy(&s->ck_mutex);
	sl_free(s->path);
	sl_free(s);
}

int
sl_store_sqlite_set_busy_timeout(struct sl_store_sqlite *s, int ms)
{
	return sl_sqlite_busy_timeout(s->c, ms);
}

/* ---- writes ---- */

/** Bind `n` bytes of text at `t` (kept by the caller until reset). */
static int
bind_text(sqlite3_stmt *st, int i, const char *t, size_t n)
{
	return sqlite3_bind_text64(st, i, n > 0 ? t : "", n, SQLITE_STATIC,
	                           SQLITE_UTF8);
}

/** A type name for messages: its length capped at MSG_NAME_MAX. */
static int
name_len(const struct sl_value *type)
{
	return type->len > MSG_NAME_MAX ? MSG_NAME_MAX : (int)type->len;
}

/**
 * Check that `key` can be a key: an object, or null when `null_ok`, or
 * any value when `text` (the batch's text of it) is a string. 0, or -1
 * with SL_EINVAL.
 */
static int
key_check(const struct sl_value *key, const struct sl_value *text, bool null_ok)
{
	if ((text != NULL && text->type == SL_VSTR) ||
	    key->type == SL_VOBJECT || (key->type == SL_VNULL && null_ok))
		return 0;
	sl_diag_set(SL_EINVAL, "the key must be an object (got %s)",
	            sl_vtype_name(key->type));
	return -1;
}

/** Check that `props` is an object or null. 0, or -1 with SL_EINVAL. */
static int
props_check(const struct sl_value *props)
{
	if (props->type == SL_VNULL || props->type == SL_VOBJECT)
		return 0;
	sl_diag_set(SL_EINVAL, "the properties must be an object (got %s)",
	            sl_vtype_name(props->type));
	return -1;
}

/**
 * Check that `labels` is null or an array of strings. 0, or -1 with
 * SL_EINVAL.
 */
static int
labels_check(const struct sl_value *labels)
{
	if (labels->type != SL_VNULL && labels->type != SL_VARRAY) {
		sl_diag_set(SL_EINVAL, "the labels must be an array (got %s)",
		            sl_vtype_name(labels->type));
		return -1;
	}
	for (uint32_t i = 0; labels->type == SL_VARRAY && i < labels->len;
	     i++) {
		if (labels->u.items[i].type != SL_VSTR) {
			sl_diag_set(SL_EINVAL, "a label is not a string");
			return -1;
		}
	}
	return 0;
}

/**
 * Write the canonical JSON of key object `key` into `out` (a null key is
 * `{}` when `null_ok`): `text`, the batch's text of it, if it has one.
 * 0, or -1 (SL_EINVAL for a key that is no object).
 */
static int
key_text(const struct sl_value *key, const struct sl_value *text, bool null_ok,
         struct sl_buf *out)
{
	sl_buf_reset(out);
	if (text != NULL && text->type == SL_VSTR)
		return sl_buf_append(out, text->u.s, text->len);
	if (key->type == SL_VNULL && null_ok)
		return sl_buf_puts(out, "{}");
	if (key->type != SL_VOBJECT) {
		sl_diag_set(SL_EINVAL, "the key must be an object (got %s)",
		            sl_vtype_name(key->type));
		return -1;
	}
	return sl_json_write(out, key, JSON_FLAGS);
}

/**
 * Write the JSON of properties `props` into `out` (null is `{}`). 0, or
 * -1 (SL_EINVAL when they are no object).
 */
static int
props_text(const struct sl_value *props, struct sl_buf *out)
{
	sl_buf_reset(out);
	if (props->type == SL_VNULL)
		return sl_buf_puts(out, "{}");
	if (props->type != SL_VOBJECT) {
		sl_diag_set(SL_EINVAL,
		            "the properties must be an object (got %s)",
		            sl_vtype_name(props->type));
		return -1;
	}
	return sl_json_write(out, props, JSON_FLAGS);
}

/**
 * Whether objects `a` and `b` have the same members in the same order,
 * each a scalar of the same type and representation (so that their JSON
 * texts are the same). Nested arrays and objects are never the same here.
 */
static bool
flat_same(const struct sl_value *a, const struct sl_value *b)
{
	if (a->len != b->len)
		return false;
	for (uint32_t i = 0; i < a->len; i++) {
		const struct sl_member *x = &a->u.members[i];
		const struct sl_member *y = &b->u.members[i];
		if (x->key_len != y->key_len || x->val.type != y->val.type ||
		    (x->key != y->key &&
		     memcmp(x->key, y->key, x->key_len) != 0))
			return false;
		const struct sl_value *u = &x->val, *v = &y->val;
		switch ((enum sl_vtype)u->type) {
		case SL_VNULL:
			break;
		case SL_VBOOL:
			if (u->u.b != v->u.b)
				return false;
			break;
		case SL_VINT:
		case SL_VDOUBLE:
			/* Bit for bit: 0.0 and -0.0 are written differently. */
			if (memcmp(&u->u, &v->u, sizeof(u->u)) != 0)
				return false;
			break;
		case SL_VSTR:
		case SL_VNUMBER:
			if (u->len != v->len ||
			    (u->u.s != v->u.s && u->len > 0 &&
			     memcmp(u->u.s, v->u.s, u->len) != 0))
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

/** Whether object `p` holds no array or object. */
static bool
props_flat(const struct sl_value *p)
{
	for (uint32_t i = 0; i < p->len; i++) {
		uint8_t t = p->u.members[i].val.type;
		if (t == SL_VARRAY || t == SL_VOBJECT)
			return false;
	}
	return true;
}

/**
 * props_text() into s->props through the memo: the text of equal
 * properties written lately in this job is copied, and a flat object's
 * new text remembered. 0, or -1 as props_text().
 */
static int
props_text_memo(struct sl_store_sqlite *s, const struct sl_value *props)
{
	if (props->type != SL_VOBJECT || props->len == 0)
		return props_text(props, &s->props);
	for (unsigned i = 0; i < PROPS_MEMO; i++) {
		const struct props_memo *m = &s->memo[i];
		if (m->props != NULL && flat_same(m->props, props)) {
			/* Replace another entry next. */
			if (s->memo_next == i)
				s->memo_next = (i + 1) % PROPS_MEMO;
			sl_buf_reset(&s->props);
			return sl_buf_append(&s->props, m->text.data,
			                     m->text.len);
		}
	}
	if (props_text(props, &s->props) != 0)
		return -1;
	if (s->props.len <= MEMO_TEXT_MAX && props_flat(props)) {
		struct props_memo *m = &s->memo[s->memo_next];
		s->memo_next = (s->memo_next + 1) % PROPS_MEMO;
		sl_buf_reset(&m->text);
		m->props = NULL;
		if (sl_buf_append(&m->text, s->props.data, s->props.len) != 0)
			sl_diag_clear(sl_diag_get()); /* not remembered */
		else
			m->props = props;
	}
	return 0;
}

/**
 * Write the label set of a node op into `out`: sorted, unique, without
 * the node's own type (`a`: scratch memory). 0, or -1 (SL_EINVAL unless
 * an array of strings or null).
 */
static int
labels_into(struct sl_arena *a, const struct sl_value *labels,
            const struct sl_value *type, struct sl_buf *out)
{
	sl_buf_reset(out);
	if (labels->type != SL_VNULL && labels->type != SL_VARRAY) {
		sl_diag_set(SL_EINVAL, "the labels must be an array (got %s)",
		            sl_vtype_name(labels->type));
		return -1;
	}
	if (labels->type == SL_VNULL || labels->len == 0)
		return sl_buf_puts(out, "[]");
	const struct sl_value **items =
	        sl_arena_alloc(a, labels->len * sizeof(*items));
	if (items == NULL)
		return -1;
	size_t n = 0;
	if (collect_labels(labels, items, &n, true) != 0) {
		sl_diag_set(SL_EINVAL, "a label is not a string");
		return -1;
	}
	return write_label_set(items, n, type, out);
}

/** labels_into() s->labels, with the operation's scratch memory. */
static int
labels_text(struct sl_store_sqlite *s, const struct sl_value *labels,
            const struct sl_value *type)
{
	return labels_into(&s->op_arena, labels, type, &s->labels);
}

/** Check that `type` is a string (SL_EINVAL naming `what` if not). */
static int
check_type(const struct sl_value *type, const char *what)
{
	if (type->type == SL_VSTR)
		return 0;
	sl_diag_set(SL_EINVAL, "the %s type must be a string (got %s)", what,
	            sl_vtype_name(type->type));
	return -1;
}

/**
 * Step a statement that returns no rows; the number of rows it changed,
 * or -1 with the connection's error, saying `what` failed. The statement
 * is reset and cleared.
 */
static int64_t
step_changes(struct sl_store_sqlite *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int64_t n = rc == SQLITE_DONE ? sqlite3_changes64(s->db) : -1;
	if (n < 0)
		db_error(s, sqlite3_sql(st), what);
	stmt_done(st);
	return n;
}

/** Bind the four parameters of a node statement from s's buffers. */
static void
bind_node(struct sl_store_sqlite *s, sqlite3_stmt *st,
          const struct sl_value *type)
{
	bind_text(st, 1, type->u.s, type->len);
	bind_text(st, 2, s->key.data, s->key.len);
	bind_text(st, 3, s->labels.data, s->labels.len);
	bind_text(st, 4, s->props.data, s->props.len);
}

/**
 * Whether properties `p` can be stored as written: no null to drop and no
 * object a merge would reach into.
 */
static bool
props_plain(const struct sl_value *p)
{
	for (uint32_t i = 0; i < p->len; i++) {
		uint8_t t = p->u.members[i].val.type;
		if (t == SL_VNULL || t == SL_VOBJECT)
			return false;
	}
	return true;
}

/** Forget every cached node id. */
static void
ids_clear(struct sl_store_sqlite *s)
{
	if (s->ids != NULL)
		memset(s->ids, 0, ID_CACHE_BYTES);
}

/**
 * The id cache's text of node `type`/`key` (its type, a NUL and its key's
 * JSON) in `text`, its length and hash: false when it is too long to
 * cache.
 */
static bool
ids_text(const struct sl_value *type, const struct sl_buf *key, char *text,
         uint16_t *len, uint64_t *h)
{
	size_t n = (size_t)type->len + 1 + key->len;
	if (n > ID_CACHE_TEXT)
		return false;
	memcpy(text, type->u.s, type->len);
	text[type->len] = '\0';
	memcpy(text + type->len + 1, key->data, key->len);
	*len = (uint16_t)n;
	*h = sl_hash64(text, n) | 1;
	return true;
}

/**
 * The cache slot of node `type`/`key` and its text's hash; NULL when the
 * text is too long to cache (or the cache cannot be allocated).
 */
static struct id_slot *
ids_slot(struct sl_store_sqlite *s, const struct sl_value *type,
         const struct sl_buf *key, char *text, uint16_t *len, uint64_t *h)
{
	if (!ids_text(type, key, text, len, h))
		return NULL;
	/* Zeroed huge pages, not calloc()'s 4 KiB ones: a large load
	 * touched 2,500 of those, a fault each (about 11 us on the VMs
	 * measured, docs/performance.md), and even a few keys spread over
	 * most of the cache. */
	if (s->ids == NULL &&
	    (s->ids = sl_big_zalloc(ID_CACHE_BYTES)) == NULL) {
		sl_diag_clear(sl_diag_get());
		return NULL;
	}
	return &s->ids[*h & (ID_CACHE_SLOTS - 1)];
}

/**
 * Remember that node `type`/`key` has id `id` and that `patch` (0: not
 * known) was the last merge into it. A known patch of the same node is
 * kept when `patch` is 0.
 */
static void
ids_put(struct sl_store_sqlite *s, const struct sl_value *type,
        const struct sl_buf *key, int64_t id, uint64_t patch)
{
	char text[ID_CACHE_TEXT];
	uint16_t len;
	uint64_t h;
	struct id_slot *slot = ids_slot(s, type, key, text, &len, &h);
	if (slot == NULL)
		return;
	bool same = slot->hash == h && slot->len == len &&
	            memcmp(slot->text, text, len) == 0;
	if (!same || patch != 0)
		slot->patch = patch;
	slot->hash = h;
	slot->id = id;
	slot->len = len;
	memcpy(slot->text, text, len);
}

/** The cache slot of node `type`/`key` if it holds it, else NULL. */
static struct id_slot *
ids_find(struct sl_store_sqlite *s, const struct sl_value *type,
         const struct sl_buf *key)
{
	char text[ID_CACHE_TEXT];
	uint16_t len;
	uint64_t h;
	struct id_slot *slot = ids_slot(s, type, key, text, &len, &h);
	if (slot == NULL || slot->hash != h || slot->len != len ||
	    memcmp(slot->text, text, len) != 0)
		return NULL;
	return slot;
}

/** Writes ahead whose id cache slots a write job asks for. */
#define IDS_AHEAD 8

/**
 * Ask for id cache slot `i` (NO_SLOT: none) ahead of its look-up; nothing
 * before the cache exists. Always inline: a function that only prefetches
 * counts as pure to GCC, which drops calls to it at -O2.
 */
static inline __attribute__((always_inline)) void
ids_prefetch(const struct sl_store_sqlite *s, uint32_t i)
{
	if (i == NO_SLOT || s->ids == NULL)
		return;
	const char *a = (const char *)&s->ids[i];
	__builtin_prefetch(a);
	__builtin_prefetch(a + sizeof(struct id_slot) - 1);
}

/** The cached id of node `type`/`key`, or 0. */
static int64_t
ids_get(struct sl_store_sqlite *s, const struct sl_value *type,
        const struct sl_buf *key)
{
	const struct id_slot *slot = ids_find(s, type, key);
	return slot != NULL ? slot->id : 0;
}

/** Hash of the labels and properties of the current node write. */
static uint64_t
patch_hash(const struct sl_store_sqlite *s)
{
	uint64_t h = sl_hash64(s->labels.data, s->labels.len);
	return sl_hash64_seed(s->props.data, s->props.len, h) | 1;
}

/** Make `out` hold text `t`. 0, or -1 with SL_EOOM. */
static int
buf_set(struct sl_buf *out, const struct ptext *t)
{
	sl_buf_reset(out);
	return sl_buf_append(out, t->s, t->len);
}

/** Keep what p->buf holds in p->mem as *t. 0, or -1. */
static int
prep_keep(struct prepared *p, struct ptext *t)
{
	char *c = sl_arena_alloc_aligned(&p->mem, p->buf.len + 1, 1);
	if (c == NULL)
		return -1;
	memcpy(c, p->buf.data, p->buf.len);
	*t = (struct ptext){c, (uint32_t)p->buf.len, false};
	return 0;
}

/**
 * The text of properties `props` in *t: that of the same or equal flat
 * properties made lately (as props_text_memo()), else made now. 0, or
 * -1.
 */
static int
prep_props(struct prepared *p, const struct sl_value *props, struct ptext *t)
{
	bool flat = props->type == SL_VOBJECT && props->len > 0;
	for (unsigned i = 0; flat && i < 2; i++) {
		const struct sl_value *m = p->memo[i];
		if (m != NULL &&
		    (m->u.members == props->u.members ? m->len == props->len
		                                      : flat_same(m, props))) {
			*t = p->memo_text[i];
			return 0;
		}
	}
	if (props_text(props, &p->buf) != 0 || prep_keep(p, t) != 0)
		return -1;
	t->plain = props_plain(props);
	if (flat && props_flat(props)) {
		p->memo[1] = p->memo[0];
		p->memo_text[1] = p->memo_text[0];
		p->memo[0] = props;
		p->memo_text[0] = *t;
	}
	return 0;
}

/**
 * The id cache slot (ids_slot()) of node `type` with key `key` (its
 * batch's text `text` if it has one), or NO_SLOT (a pattern, a text too
 * long to cache).
 */
static uint32_t
prep_slot(struct prepared *p, const struct sl_value *type,
          const struct sl_value *key, const struct sl_value *text, bool fuzzy)
{
	if (fuzzy || type->type != SL_VSTR ||
	    key_text(key, text, false, &p->buf) != 0) {
		sl_diag_clear(sl_diag_get());
		return NO_SLOT;
	}
	char t[ID_CACHE_TEXT];
	uint16_t len;
	uint64_t h;
	return ids_text(type, &p->buf, t, &len, &h)
	               ? (uint32_t)(h & (ID_CACHE_SLOTS - 1))
	               : NO_SLOT;
}

/**
 * Room in the arrays `*texts` (two a write) and `*slots` (`per` a write)
 * for `n` writes, `*cap` their room. 0, or -1.
 */
static int
prep_grow(struct ptext **texts, uint32_t **slots, uint32_t *cap, uint32_t n,
          size_t per)
{
	if (n <= *cap)
		return 0;
	struct ptext *v = sl_realloc(*texts, 2 * (size_t)n * sizeof(*v));
	if (v == NULL)
		return -1;
	*texts = v;
	uint32_t *w = sl_realloc(*slots, per * n * sizeof(*w));
	if (w == NULL)
		return -1;
	*slots = w;
	*cap = n;
	return 0;
}

/**
 * Make the texts and id cache slots of batch `b` in `p`
 * (sqlite_prepare()). 0, or -1.
 */
static int
prep_batch(struct prepared *p, const struct sl_graph_batch *b)
{
	sl_arena_reset(&p->mem);
	p->memo[0] = p->memo[1] = NULL;
	if (prep_grow(&p->node, &p->node_slot, &p->cap_nodes, b->n_nodes, 1) !=
	            0 ||
	    prep_grow(&p->rel, &p->rel_slot, &p->cap_rels, b->n_rels, 2) != 0)
		return -1;
	for (uint32_t i = 0; i < b->n_nodes; i++) {
		const struct sl_node_op *op = &b->nodes[i];
		struct ptext *t = &p->node[2 * (size_t)i];
		sl_arena_reset(&p->scratch);
		if (op->type.type != SL_VSTR ||
		    labels_into(&p->scratch, &op->labels, &op->type, &p->buf) !=
		            0 ||
		    prep_keep(p, &t[0]) != 0 ||
		    prep_props(p, &op->props, &t[1]))
			return -1;
		p->node_slot[i] =
		        prep_slot(p, &op->type, &op->key, &op->key_text, false);
	}
	for (uint32_t i = 0; i < b->n_rels; i++) {
		const struct sl_rel_op *op = &b->rels[i];
		struct ptext *t = &p->rel[2 * (size_t)i];
		if (key_text(&op->key, NULL, true, &p->buf) != 0 ||
		    prep_keep(p, &t[0]) != 0 ||
		    prep_props(p, &op->props, &t[1]))
			return -1;
		uint32_t *k = &p->rel_slot[2 * (size_t)i];
		k[0] = prep_slot(p, &op->from.type, &op->from.key,
		                 &op->from.key_text, op->from.fuzzy);
		k[1] = prep_slot(p, &op->to.type, &op->to.key, &op->to.key_text,
		                 op->to.fuzzy);
	}
	return 0;
}

/**
 * sl_graph_store_ops.prepare: make the JSON texts the writes of `b` bind
 * in a free slot (one is, as one batch at a time is written), here on the
 * loop thread while the worker may be writing the batch before. A batch
 * whose texts cannot all be made (memory, or bad input, whose error its
 * write raises) gets none.
 */
static void
sqlite_prepare(void *store, const struct sl_graph_batch *b)
{
	struct sl_store_sqlite *s = store;
	struct prepared *p = s->prep[0].b == NULL   ? &s->prep[0]
	                     : s->prep[1].b == NULL ? &s->prep[1]
	                                            : NULL;
	if (p == NULL)
		return;
	if (prep_batch(p, b) != 0) {
		sl_diag_clear(sl_diag_get());
		return;
	}
	p->b = b;
	p->serial = b->serial;
	p->n_nodes = b->n_nodes;
	p->n_rels = b->n_rels;
}

/**
 * Apply one node write, with its labels' and properties' texts `pt` if
 * they were made ahead (NULL: made here). 0, or -1 with an error (no
 * context yet).
 */
static int
write_node(struct sl_store_sqlite *s, const struct sl_node_op *op,
           const struct ptext *pt, struct sl_graph_counts *st)
{
	sl_arena_reset(&s->op_arena);
	if (check_type(&op->type, "node") != 0 ||
	    key_text(&op->key, &op->key_text, false, &s->key) != 0)
		return -1;
	if (pt != NULL ? buf_set(&s->labels, &pt[0]) != 0 ||
	                         buf_set(&s->props, &pt[1]) != 0
	               : labels_text(s, &op->labels, &op->type) != 0 ||
	                         props_text_memo(s, &op->props) != 0)
		return -1;
	bool nothing = s->labels.len == 2 && s->props.len == 2;
	sqlite3_stmt *q;
	struct id_slot *slot;
	int64_t n;
	switch (op->rule) {
	case SL_NODE_EAGER: {
		/* A node this store wrote with the same merge exists and
		 * would not change: nothing to do. */
		uint64_t patch = patch_hash(s);
		slot = ids_find(s, &op->type, &s->key);
		if (slot != NULL && slot->patch == patch) {
			st->nodes_updated++;
			return 0;
		}
		if (slot != NULL && !nothing) {
			/* A node this store wrote or found: merge into it,
			 * without trying the insert first, which would find it
			 * and do nothing. Updating none, it is gone after
			 * all: insert it. */
			if ((q = stmt_get(s, ST_NODE_UPDATE)) == NULL)
				return -1;
			bind_node(s, q, &op->type);
			if ((n = step_changes(s, q, "updating")) < 0)
				return -1;
			if (n > 0) {
				slot->patch = patch;
				st->nodes_updated++;
				return 0;
			}
		}
		bool plain = pt != NULL ? pt[1].plain : props_plain(&op->props);
		if ((q = stmt_get(s, plain ? ST_NODE_INSERT_RAW
		                           : ST_NODE_INSERT)) == NULL)
			return -1;
		bind_node(s, q, &op->type);
		if ((n = step_changes(s, q, "inserting")) < 0)
			return -1;
		if (n > 0) {
			ids_put(s, &op->type, &s->key,
			        sqlite3_last_insert_rowid(s->db), patch);
			st->nodes_created++;
			return 0;
		}
		if (!nothing) {
			if ((q = stmt_get(s, ST_NODE_UPDATE)) == NULL)
				return -1;
			bind_node(s, q, &op->type);
			if (step_changes(s, q, "updating") < 0)
				return -1;
			if (slot != NULL)
				slot->patch = patch;
		}
		st->nodes_updated++;
		return 0;
	}
	case SL_NODE_MATCH_ONLY:
	case SL_NODE_FUZZY:
		q = stmt_get(s, op->rule == SL_NODE_FUZZY ? ST_NODE_FUZZY_UPD
		                                          : ST_NODE_UPDATE);
		if (q == NULL)
			return -1;
		bind_node(s, q, &op->type);
		if ((n = step_changes(s, q, "updating")) < 0)
			return -1;
		if (n == 0)
			st->nodes_unmatched++;
		else
			st->nodes_updated += (uint64_t)n;
		if (op->rule == SL_NODE_FUZZY) {
			/* Any node may have changed: cached patches too. */
			ids_clear(s);
		} else if (n > 0 && !nothing &&
		           (slot = ids_find(s, &op->type, &s->key)) != NULL) {
			slot->patch = patch_hash(s);
		}
		return 0;
	}
	sl_diag_set(SL_EINVAL, "unknown node rule %d", (int)op->rule);
	return -1;
}

/** Append `id` to `l`. 0, or -1 with SL_EOOM. */
static int
id_push(struct id_list *l, int64_t id)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		int64_t *ids = sl_realloc(l->ids, cap * sizeof(*ids));
		if (ids == NULL) {
			sl_diag_set(SL_EOOM, "out of memory matching nodes");
			return -1;
		}
		l->ids = ids;
		l->cap = cap;
	}
	l->ids[l->n++] = id;
	return 0;
}

/**
 * Find the nodes `ref` designates (its key's JSON already in `key`) and
 * put their ids in `out`. 0 (maybe none found), or -1 with an error.
 */
static int
find_nodes(struct sl_store_sqlite *s, const struct sl_node_ref *ref,
           const struct sl_buf *key, struct id_list *out)
{
	out->n = 0;
	if (!ref->fuzzy) {
		int64_t id = ids_get(s, &ref->type, key);
		if (id != 0)
			return id_push(out, id);
	}
	sqlite3_stmt *q =
	        stmt_get(s, ref->fuzzy ? ST_NODE_FUZZY_IDS : ST_NODE_ID);
	if (q == NULL)
		return -1;
	bind_text(q, 1, ref->type.u.s, ref->type.len);
	bind_text(q, 2, key->data, key->len);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(q, 0);
		if (!ref->fuzzy)
			ids_put(s, &ref->type, key, id, 0);
		if (id_push(out, id) != 0) {
			stmt_done(q);
			return -1;
		}
	}
	if (rc != SQLITE_DONE)
		db_error(s, sqlite3_sql(q), "matching an endpoint");
	stmt_done(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

/** What a relationship statement binds besides its type: ends and texts. */
struct rel_args {
	/** The ids of its source and target nodes. */
	int64_t from, to;
	/** Its key's JSON text. */
	const char *key;
	/** Its length. */
	size_t key_len;
	/** Its properties' JSON text. */
	const char *props;
	/** Its length. */
	size_t props_len;
};

/**
 * Bind relationship `a` of type `type` to statement `q` from parameter
 * `base` + 1: its type, ends, key and, if `props`, properties.
 */
static void
bind_rel_at(sqlite3_stmt *q, int base, const struct sl_value *type,
            const struct rel_args *a, bool props)
{
	bind_text(q, base + 1, type->u.s, type->len);
	sqlite3_bind_int64(q, base + 2, a->from);
	sqlite3_bind_int64(q, base + 3, a->to);
	bind_text(q, base + 4, a->key, a->key_len);
	if (props)
		bind_text(q, base + 5, a->props, a->props_len);
}

/** The arguments of a relationship between `from` and `to`, s's texts. */
static struct rel_args
rel_args_of(const struct sl_store_sqlite *s, int64_t from, int64_t to)
{
	return (struct rel_args){.from = from,
	                         .to = to,
	                         .key = s->key.data,
	                         .key_len = s->key.len,
	                         .props = s->props.data,
	                         .props_len = s->props.len};
}

/**
 * Count mergeable relationship `a` of type `type`, which exists, as an
 * update, merging its properties in. 0, or -1.
 */
static int
rel_merge(struct sl_store_sqlite *s, const struct sl_value *type,
          const struct rel_args *a, struct sl_graph_counts *st)
{
	if (a->props_len != 2) {
		sqlite3_stmt *q = stmt_get(s, ST_REL_UPDATE);
		if (q == NULL)
			return -1;
		bind_rel_at(q, 0, type, a, true);
		if (step_changes(s, q, "updating") < 0)
			return -1;
	}
	st->rels_updated++;
	return 0;
}

/**
 * Insert mergeable relationship `a` of type `type` with statement `id`
 * (ST_REL_INSERT or ST_REL_INSERT_RAW), or merge into it when it exists.
 * 0, or -1.
 */
static int
rel_upsert(struct sl_store_sqlite *s, enum stmt_id id,
           const struct sl_value *type, const struct rel_args *a,
           struct sl_graph_counts *st)
{
	sqlite3_stmt *q = stmt_get(s, id);
	if (q == NULL)
		return -1;
	bind_rel_at(q, 0, type, a, true);
	int64_t n = step_changes(s, q, "inserting");
	if (n < 0)
		return -1;
	if (n > 0) {
		st->rels_created++;
		return 0;
	}
	return rel_merge(s, type, a, st);
}

/**
 * Write one relationship between nodes `from` and `to`; `plain`: its
 * properties are props_plain(). 0, or -1.
 */
static int
write_rel_pair(struct sl_store_sqlite *s, const struct sl_rel_op *op,
               int64_t from, int64_t to, bool plain, struct sl_graph_counts *st)
{
	struct rel_args a = rel_args_of(s, from, to);
	if (op->rule != SL_REL_CREATE)
		return rel_upsert(s, plain ? ST_REL_INSERT_RAW : ST_REL_INSERT,
		                  &op->type, &a, st);
	sqlite3_stmt *q =
	        stmt_get(s, plain ? ST_REL_CREATE_RAW : ST_REL_CREATE);
	if (q == NULL)
		return -1;
	bind_rel_at(q, 0, &op->type, &a, true);
	if (step_changes(s, q, "inserting") < 0)
		return -1;
	st->rels_created++;
	return 0;
}

/** The arguments of waiting row `r`, its texts in s->row_text. */
static struct rel_args
row_args(const struct sl_store_sqlite *s, const struct rel_row *r)
{
	const char *t = s->row_text.data;
	return (struct rel_args){.from = r->from,
	                         .to = r->to,
	                         .key = t + r->key_at,
	                         .key_len = r->key_len,
	                         .props = t + r->props_at,
	                         .props_len = r->props_len};
}

/**
 * The single integer the one-row statement `q` (bound) answers: 0 for no
 * row or NULL, or -1 with an error.
 */
static int64_t
query_int(struct sl_store_sqlite *s, sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);
	int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		v = db_error(s, sqlite3_sql(q), what);
	stmt_done(q);
	return v;
}

/**
 * Whether a new relationship gets the id after the largest, as SQLite
 * gives rows of an INTEGER PRIMARY KEY until the largest is the largest
 * possible: 1, 0, or -1 with an error. Asked once a job.
 */
static int
ids_follow(struct sl_store_sqlite *s)
{
	if (s->ids_follow < 0) {
		sqlite3_stmt *q = stmt_get(s, ST_REL_MAX_ID);
		int64_t max = q != NULL ? query_int(s, q, "reading ids") : -1;
		if (max < 0)
			return -1;
		s->ids_follow = max < INT64_MAX - ((int64_t)1 << 40);
	}
	return s->ids_follow;
}

/**
 * Insert the REL_CHUNK waiting rows in one statement, then tell which of
 * them it made: all when it made as many; none when it made none (the
 * others are updated, as a conflict of write_rel_pair() would be); else
 * the rows it made have the largest ids (ids_follow()), above the
 * largest before, and each row's id, looked up in order, tells it, the
 * second row of an identity the statement made being an update. 0, or -1
 * with the failed row's write in *failed.
 */
static int
rel_chunk_multi(struct sl_store_sqlite *s, struct sl_graph_counts *st,
                uint32_t *failed)
{
	const struct rel_row *rows = s->rows;
	*failed = rows[0].op;
	sqlite3_stmt *q = stmt_get(s, ST_REL_INSERT_MULTI);
	if (q == NULL)
		return -1;
	for (uint32_t j = 0; j < REL_CHUNK; j++) {
		struct rel_args a = row_args(s, &rows[j]);
		bind_rel_at(q, 5 * (int)j, rows[j].type, &a, true);
	}
	int64_t made = step_changes(s, q, "inserting");
	if (made < 0)
		return -1;
	if (made == REL_CHUNK) {
		st->rels_created += REL_CHUNK;
		return 0;
	}
	int64_t low = 0;
	if (made > 0) {
		if ((q = stmt_get(s, ST_REL_MAX_ID)) == NULL ||
		    (low = query_int(s, q, "reading ids")) < 0)
			return -1;
		low -= made;
	}
	int64_t claimed[REL_CHUNK];
	uint32_t n_claimed = 0;
	for (uint32_t j = 0; j < REL_CHUNK; j++) {
		*failed = rows[j].op;
		struct rel_args a = row_args(s, &rows[j]);
		int64_t id = 0;
		if (made > 0) {
			if ((q = stmt_get(s, ST_REL_ID)) == NULL)
				return -1;
			bind_rel_at(q, 0, rows[j].type, &a, false);
			if ((id = query_int(s, q, "reading an id")) < 0)
				return -1;
		}
		bool mine = id > low;
		for (uint32_t k = 0; mine && k < n_claimed; k++)
			mine = claimed[k] != id;
		if (mine) {
			claimed[n_claimed++] = id;
			st->rels_created++;
		} else if (rel_merge(s, rows[j].type, &a, st) != 0) {
			return -1;
		}
	}
	return 0;
}

/**
 * Write the relationship rows waiting: REL_CHUNK in one statement, fewer
 * (or when ids do not follow) one at a time. 0, or -1 with the failed
 * row's write in *failed.
 */
static int
rel_chunk_flush(struct sl_store_sqlite *s, struct sl_graph_counts *st,
                uint32_t *failed)
{
	uint32_t n = s->n_rows;
	if (n == 0)
		return 0;
	int rc = 0;
	int follow = n == REL_CHUNK ? ids_follow(s) : 0;
	if (follow < 0) {
		*failed = s->rows[0].op;
		rc = -1;
	} else if (follow > 0) {
		rc = rel_chunk_multi(s, st, failed);
	} else {
		for (uint32_t j = 0; rc == 0 && j < n; j++) {
			*failed = s->rows[j].op;
			struct rel_args a = row_args(s, &s->rows[j]);
			rc = rel_upsert(s, ST_REL_INSERT_RAW, s->rows[j].type,
			                &a, st);
		}
	}
	s->n_rows = 0;
	sl_buf_reset(&s->row_text);
	return rc;
}

/**
 * Queue mergeable relationship write `i` of the batch, `op`, between
 * nodes `from` and `to`, its key and plain properties in s->key and
 * s->props, for a multi-row insert; the rows queued are written when
 * REL_CHUNK wait. 0, or -1 with the failed row's write in *failed.
 */
static int
rel_chunk_add(struct sl_store_sqlite *s, uint32_t i, const struct sl_rel_op *op,
              int64_t from, int64_t to, struct sl_graph_counts *st,
              uint32_t *failed)
{
	struct sl_buf *t = &s->row_text;
	struct rel_row *r = &s->rows[s->n_rows];
	*r = (struct rel_row){.op = i,
	                      .type = &op->type,
	                      .from = from,
	                      .to = to,
	                      .key_at = (uint32_t)t->len,
	                      .key_len = (uint32_t)s->key.len,
	                      .props_at = (uint32_t)(t->len + s->key.len),
	                      .props_len = (uint32_t)s->props.len};
	if (t->len + s->key.len + s->props.len > UINT32_MAX ||
	    sl_buf_append(t, s->key.data, s->key.len) != 0 ||
	    sl_buf_append(t, s->props.data, s->props.len) != 0) {
		*failed = i;
		if (t->len + s->key.len + s->props.len > UINT32_MAX)
			sl_diag_set(SL_ELIMIT, "relationship texts too long");
		return -1;
	}
	if (++s->n_rows < REL_CHUNK)
		return 0;
	return rel_chunk_flush(s, st, failed);
}

/**
 * Apply one relationship write, with its key's and properties' texts
 * `pt` if they were made ahead (NULL: made here). 0, or -1 with an error.
 */
static int
write_rel(struct sl_store_sqlite *s, uint32_t i, const struct sl_rel_op *op,
          const struct ptext *pt, struct sl_graph_counts *st, uint32_t *failed)
{
	*failed = i;
	if (check_type(&op->type, "relationship") != 0 ||
	    check_type(&op->from.type, "from node") != 0 ||
	    check_type(&op->to.type, "to node") != 0 ||
	    key_text(&op->from.key, &op->from.key_text, false, &s->from_key) !=
	            0 ||
	    key_text(&op->to.key, &op->to.key_text, false, &s->to_key) != 0)
		return -1;
	if (pt != NULL ? buf_set(&s->key, &pt[0]) != 0 ||
	                         buf_set(&s->props, &pt[1]) != 0
	               : key_text(&op->key, NULL, true, &s->key) != 0 ||
	                         props_text_memo(s, &op->props) != 0)
		return -1;
	if (op->rule != SL_REL_EAGER && op->rule != SL_REL_MERGE_KEY &&
	    op->rule != SL_REL_CREATE) {
		sl_diag_set(SL_EINVAL, "unknown relationship rule %d",
		            (int)op->rule);
		return -1;
	}
	if (find_nodes(s, &op->from, &s->from_key, &s->from_ids) != 0)
		return -1;
	if (s->from_ids.n > 0 &&
	    find_nodes(s, &op->to, &s->to_key, &s->to_ids) != 0)
		return -1;
	if (s->from_ids.n == 0 || s->to_ids.n == 0) {
		st->rels_skipped++;
		return 0;
	}
	bool plain = pt != NULL ? pt[1].plain : props_plain(&op->props);
	if (plain && op->rule != SL_REL_CREATE && s->from_ids.n == 1 &&
	    s->to_ids.n == 1)
		return rel_chunk_add(s, i, op, s->from_ids.ids[0],
		                     s->to_ids.ids[0], st, failed);
	/* The rows waiting go first, in the batch's order. */
	if (rel_chunk_flush(s, st, failed) != 0)
		return -1;
	*failed = i;
	for (size_t f = 0; f < s->from_ids.n; f++)
		for (size_t t = 0; t < s->to_ids.n; t++)
			if (write_rel_pair(s, op, s->from_ids.ids[f],
			                   s->to_ids.ids[t], plain, st) != 0)
				return -1;
	return 0;
}

/**
 * After a failed batch: undo it, keeping the error. A batch written under
 * its savepoint (`guarded`) is undone alone, and the batches before it in
 * the open transaction stay; otherwise the open transaction is rolled
 * back, as SQLite itself does after an I/O error, an interrupt, or a full
 * disk in some statements.
 */
static void
batch_failed(struct sl_store_sqlite *s, bool guarded)
{
	ids_clear(s);
	s->n_rows = 0;
	sl_buf_reset(&s->row_text);
	if (!s->in_tx)
		return;
	if (!guarded || s->tx_ops == 0 ||
	    sqlite3_exec(s->db,
	                 "ROLLBACK TO sluice_batch; RELEASE sluice_batch", NULL,
	                 NULL, NULL) != SQLITE_OK) {
		/* Nothing else in the transaction, no savepoint, or the
		 * savepoint is gone (SQLite rolled everything back): end
		 * it. */
		rollback(s);
		s->in_tx = false;
		sl_write_tally_rollback(&s->tally);
	}
}

/** Job on the second connection: checkpoint what the WAL holds. */
static int
ckpt_job(void *arg, sqlite3 *db)
{
	struct sl_store_sqlite *s = arg;
	/* A connection finds the WAL as it reads the database first. */
	if (!s->ck_ready) {
		if (sqlite3_exec(db, "PRAGMA schema_version", NULL, NULL,
		                 NULL) != SQLITE_OK)
			return 0;
		s->ck_ready = true;
	}
	int log = 0, done = 0;
	pthread_mutex_lock(&s->ck_mutex);
	int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	                                   &log, &done);
	pthread_mutex_unlock(&s->ck_mutex);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		sl_log_debug("checkpoint of the WAL: %s", sqlite3_errstr(rc));
	return 0;
}

/** Task: open the second connection if need be, then checkpoint on it. */
static int
ckpt_task(void *arg)
{
	struct sl_store_sqlite *s = arg;
	if (s->ck == NULL && (s->ck = sl_sqlite_open(s->path, NULL)) == NULL) {
		sl_log_debug("%s: no second connection to checkpoint on (%s)",
		             s->path,
		             sl_diag_last() != NULL ? sl_diag_last()->msg : "");
		sl_diag_clear(sl_diag_get());
		atomic_store_explicit(&s->ck_failed, true,
		                      memory_order_relaxed);
		return 0;
	}
	(void)sl_sqlite_run(s->ck, ckpt_job, s);
	sl_diag_clear(sl_diag_get());
	return 0;
}

/**
 * After a job that may have committed (in a task): once the WAL holds
 * CKPT_FRAMES, checkpoint it on the second connection, in a task of its
 * own, while the store goes on writing on its connection; one at a
 * time. A checkpoint that cannot start (no second connection) leaves it
 * to the store's connection (wal_hook()).
 */
static void
ckpt_maybe(struct sl_store_sqlite *s)
{
	if (s->ck_task != NULL && sl_task_state(s->ck_task) == SL_TASK_DEAD) {
		(void)sl_task_join(s->ck_task);
		s->ck_task = NULL;
	}
	if (s->ck_task != NULL ||
	    atomic_load_explicit(&s->ck_failed, memory_order_relaxed) ||
	    atomic_load_explicit(&s->wal_frames, memory_order_relaxed) <
	            s->ckpt_frames)
		return;
	atomic_store_explicit(&s->wal_frames, 0, memory_order_relaxed);
	s->ck_task = sl_task_spawn(sl_loop_current(), "sqlite-checkpoint",
	                           ckpt_task, s);
	if (s->ck_task == NULL)
		sl_diag_clear(sl_diag_get());
}

/** Wait for the checkpoint under way, then close the second connection. */
static void
ckpt_stop(struct sl_store_sqlite *s)
{
	if (s->ck_task != NULL) {
		/* Let it end: what it checkpoints, closing need not. */
		if (sl_task_join(s->ck_task) != 0 && sl_task_is_cancelled())
			(void)sl_task_reap(s->ck_task);
		sl_diag_clear(sl_diag_get());
		s->ck_task = NULL;
	}
	if (s->ck != NULL) {
		sl_db_conn_close(s->ck);
		s->ck = NULL;
	}
}

int
sl_store_sqlite_end_tx(struct sl_store_sqlite *s)
{
	if (!s->in_tx)
		return 0;
	s->in_tx = false;
	if (stmt_exec(s, ST_COMMIT, "committing") != 0) {
		ids_clear(s);
		rollback(s);
		sl_write_tally_rollback(&s->tally);
		return -1;
	}
	sl_write_tally_commit(&s->tally);
	return 0;
}

void
sl_store_sqlite_wal(struct sl_store_sqlite *s, int frames, int most)
{
	s->ckpt_frames = frames;
	s->wal_most = most;
}

void
sl_store_sqlite_group(struct sl_store_sqlite *s, uint64_t ops, double secs)
{
	s->group_ops = ops;
	s->group_secs = secs;
}

/** Job: commit (see sl_store_sqlite_commit()). */
static int
commit_job(struct sl_store_sqlite *s, void *arg)
{
	(void)arg;
	return sl_store_sqlite_end_tx(s);
}

int
sl_store_sqlite_commit(struct sl_store_sqlite *s)
{
	int rc = s->in_tx ? sl_store_sqlite_run(s, commit_job, NULL) : 0;
	if (rc == 0)
		ckpt_maybe(s);
	return rc;
}

/** Open a write transaction unless one is open. 0, or -1. */
static int
begin_tx(struct sl_store_sqlite *s)
{
	if (s->in_tx)
		return 0;
	if (stmt_exec(s, ST_BEGIN_WRITE, "starting a write transaction") != 0)
		return -1;
	sl_write_tally_rollback(&s->tally);
	s->in_tx = true;
	s->tx_ops = 0;
	s->tx_start = sl_clock();
	return 0;
}

/** Arguments of write_job(). */
struct write_args {
	/** The batch. */
	const struct sl_graph_batch *b;
	/** Its texts made ahead, or NULL. */
	const struct prepared *prep;
};

/** Wrap the error of node write `i` of batch `b` with its place. */
static void
node_failed(const struct sl_store_sqlite *s, const struct sl_graph_batch *b,
            uint32_t i)
{
	const struct sl_node_op *op = &b->nodes[i];
	if (op->type.type == SL_VSTR)
		sl_diag_wrap(sl_diag_code(),
		             "%s: writing node %u of the batch (type %.*s)",
		             s->path, i, name_len(&op->type), op->type.u.s);
	else
		sl_diag_wrap(sl_diag_code(), "%s: writing node %u of the batch",
		             s->path, i);
}

/** Wrap the error of relationship write `i` of batch `b`. */
static void
rel_failed(const struct sl_store_sqlite *s, const struct sl_graph_batch *b,
           uint32_t i)
{
	const struct sl_rel_op *op = &b->rels[i];
	if (op->type.type == SL_VSTR)
		sl_diag_wrap(sl_diag_code(),
		             "%s: writing relationship %u of the batch (type "
		             "%.*s)",
		             s->path, i, name_len(&op->type), op->type.u.s);
	else
		sl_diag_wrap(sl_diag_code(),
		             "%s: writing relationship %u of the batch",
		             s->path, i);
}

/**
 * Check every write of batch `b` as write_node() and write_rel() would,
 * before anything is written: the error they would raise first, wrapped
 * with its place (0, or -1). Sets *fuzzy when a write matches nodes by
 * pattern, whose statements may fail on the pattern.
 */
static int
check_batch(const struct sl_store_sqlite *s, const struct sl_graph_batch *b,
            bool *fuzzy)
{
	*fuzzy = false;
	for (uint32_t i = 0; i < b->n_nodes; i++) {
		const struct sl_node_op *op = &b->nodes[i];
		if (check_type(&op->type, "node") != 0 ||
		    key_check(&op->key, &op->key_text, false) != 0 ||
		    labels_check(&op->labels) != 0 ||
		    props_check(&op->props) != 0) {
			node_failed(s, b, i);
			return -1;
		}
		if (op->rule != SL_NODE_EAGER &&
		    op->rule != SL_NODE_MATCH_ONLY &&
		    op->rule != SL_NODE_FUZZY) {
			sl_diag_set(SL_EINVAL, "unknown node rule %d",
			            (int)op->rule);
			node_failed(s, b, i);
			return -1;
		}
		*fuzzy |= op->rule == SL_NODE_FUZZY;
	}
	for (uint32_t i = 0; i < b->n_rels; i++) {
		const struct sl_rel_op *op = &b->rels[i];
		if (check_type(&op->type, "relationship") != 0 ||
		    check_type(&op->from.type, "from node") != 0 ||
		    check_type(&op->to.type, "to node") != 0 ||
		    key_check(&op->key, NULL, true) != 0 ||
		    key_check(&op->from.key, &op->from.key_text, false) != 0 ||
		    key_check(&op->to.key, &op->to.key_text, false) != 0 ||
		    props_check(&op->props) != 0) {
			rel_failed(s, b, i);
			return -1;
		}
		if (op->rule != SL_REL_EAGER && op->rule != SL_REL_MERGE_KEY &&
		    op->rule != SL_REL_CREATE) {
			sl_diag_set(SL_EINVAL, "unknown relationship rule %d",
			            (int)op->rule);
			rel_failed(s, b, i);
			return -1;
		}
		*fuzzy |= op->from.fuzzy || op->to.fuzzy;
	}
	return 0;
}

/**
 * Job: apply a batch (see sl_store_sqlite_write()).
 *
 * Its writes are checked first (check_batch()), so that bad input fails
 * before anything is written. A batch that matches nodes by pattern is
 * then written under a savepoint, which undoes it alone should a
 * statement fail on a pattern. Any other batch is written without one: a
 * savepoint lasting a whole batch keeps, in SQLite's sub-journal, the
 * image of every page the batch changes, and spills it to a temporary
 * file past 64 KiB (about half of the store's system calls, see
 * docs/performance.md); what can still fail then is SQLite itself (a full
 * disk, an I/O error, memory), after which the open transaction is rolled
 * back, as SQLite does itself for most of those errors.
 */
static int
write_job(struct sl_store_sqlite *s, void *arg)
{
	const struct write_args *w = arg;
	const struct sl_graph_batch *b = w->b;
	struct sl_graph_counts add = {0};
	bool guarded;
	s->ids_follow = -1;
	for (unsigned i = 0; i < PROPS_MEMO; i++)
		s->memo[i].props = NULL;
	if (check_batch(s, b, &guarded) != 0)
		return -1;
	if (begin_tx(s) != 0)
		return -1;
	if (guarded &&
	    exec_sql(s, "SAVEPOINT sluice_batch", "starting a batch") != 0) {
		batch_failed(s, guarded);
		return -1;
	}
	const struct prepared *p = w->prep;
	for (uint32_t i = 0; i < b->n_nodes; i++) {
		if (p != NULL && i + IDS_AHEAD < b->n_nodes)
			ids_prefetch(s, p->node_slot[i + IDS_AHEAD]);
		if (write_node(s, &b->nodes[i],
		               p != NULL ? &p->node[2 * (size_t)i] : NULL,
		               &add) != 0) {
			node_failed(s, b, i);
			batch_failed(s, guarded);
			return -1;
		}
	}
	for (uint32_t i = 0; i < b->n_rels; i++) {
		if (p != NULL && i + IDS_AHEAD < b->n_rels) {
			const uint32_t *k =
			        &p->rel_slot[2 * (size_t)(i + IDS_AHEAD)];
			ids_prefetch(s, k[0]);
			ids_prefetch(s, k[1]);
		}
		uint32_t failed;
		if (write_rel(s, i, &b->rels[i],
		              p != NULL ? &p->rel[2 * (size_t)i] : NULL, &add,
		              &failed) != 0) {
			rel_failed(s, b, failed);
			batch_failed(s, guarded);
			return -1;
		}
	}
	uint32_t failed;
	if (rel_chunk_flush(s, &add, &failed) != 0) {
		rel_failed(s, b, failed);
		batch_failed(s, guarded);
		return -1;
	}
	if (guarded &&
	    exec_sql(s, "RELEASE sluice_batch", "ending a batch") != 0) {
		batch_failed(s, guarded);
		return -1;
	}
	/* The batch is in the transaction: its counts wait for the
	 * commit. */
	sl_graph_counts_add(&s->tally.pending, &add);
	s->tx_ops += b->n_nodes + b->n_rels;
	if ((s->tx_ops >= s->group_ops ||
	     sl_clock() - s->tx_start >= s->group_secs) &&
	    sl_store_sqlite_end_tx(s) != 0)
		return -1;
	return 0;
}

int
sl_store_sqlite_write(struct sl_store_sqlite *s, const struct sl_graph_batch *b,
                      struct sl_graph_counts *st)
{
	/* Texts made of `b` as it is now; texts of it changed since (another
	 * serial) are dropped. */
	struct prepared *p = NULL;
	for (unsigned i = 0; i < 2; i++) {
		struct prepared *q = &s->prep[i];
		if (q->b == b && q->serial == b->serial &&
		    q->n_nodes == b->n_nodes && q->n_rels == b->n_rels)
			p = q;
		else if (q->b == b)
			q->b = NULL;
	}
	struct write_args w = {.b = b, .prep = p};
	int rc = sl_store_sqlite_run(s, write_job, &w);
	if (p != NULL)
		p->b = NULL;
	if (rc == 0)
		ckpt_maybe(s);
	sl_write_tally_report(&s->tally, st);
	return rc;
}

int
sl_store_sqlite_commit_counted(struct sl_store_sqlite *s,
                               struct sl_graph_counts *st)
{
	int rc = sl_store_sqlite_commit(s);
	sl_write_tally_report(&s->tally, st);
	return rc;
}

/* ---- checkpoint positions ---- */

/** Arguments of progress_get_job() and progress_put_job(). */
struct progress_args {
	/** The key. */
	const char *key;
	/** The position to put. */
	const char *pos;
	/** Where the position got goes. */
	struct sl_buf *out;
	/** Whether there was one. */
	bool found;
};

/** Job: the position under a key; commits only on request from now. */
static int
progress_get_job(struct sl_store_sqlite *s, void *arg)
{
	struct progress_args *a = arg;
	if (exec_sql(s,
	             "CREATE TABLE IF NOT EXISTS sluice_progress("
	             " key TEXT PRIMARY KEY, pos TEXT NOT NULL)",
	             "creating the checkpoint table") != 0)
		return -1;
	sqlite3_stmt *st = sl_sqlite_stmt(
	        s->c, "SELECT pos FROM sluice_progress WHERE key = ?1");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, a->key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int ret = 0;
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		int n = sqlite3_column_bytes(st, 0);
		sl_buf_reset(a->out);
		if (t == NULL || sl_buf_append(a->out, t, (size_t)n) != 0)
			ret = -1;
		a->found = ret == 0;
	} else if (rc != SQLITE_DONE) {
		db_error(s, sqlite3_sql(st), "reading the checkpoint position");
		ret = -1;
	}
	stmt_done(st);
	if (ret == 0) {
		s->group_ops = UINT64_MAX;
		s->group_secs = 1e300;
	}
	return ret;
}

/** Job: put a position in the open transaction. */
static int
progress_put_job(struct sl_store_sqlite *s, void *arg)
{
	struct progress_args *a = arg;
	if (begin_tx(s) != 0)
		return -1;
	sqlite3_stmt *st = sl_sqlite_stmt(
	        s->c, "INSERT INTO sluice_progress(key, pos) VALUES (?1, ?2) "
	              "ON CONFLICT(key) DO UPDATE SET pos = excluded.pos");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, a->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->pos, -1, SQLITE_STATIC);
	return step_changes(s, st, "writing the checkpoint position") < 0 ? -1
	                                                                  : 0;
}

/** Job: roll back the open transaction. */
static int
rollback_job(struct sl_store_sqlite *s, void *arg)
{
	(void)arg;
	ids_clear(s);
	if (s->in_tx) {
		rollback(s);
		s->in_tx = false;
		sl_write_tally_rollback(&s->tally);
	}
	return 0;
}

/** Roll back what is uncommitted (store.h). */
static int
sqlite_rollback(void *store)
{
	return sl_store_sqlite_run(store, rollback_job, NULL);
}

/** The checkpoint position under a key (store.h). */
static int
sqlite_progress_get(void *store, const char *key, struct sl_buf *out)
{
	struct progress_args a = {.key = key, .out = out};
	if (sl_store_sqlite_run(store, progress_get_job, &a) != 0)
		return -1;
	return a.found ? 1 : 0;
}

/** Put a checkpoint position (store.h). */
static int
sqlite_progress_put(void *store, const char *key, const char *pos)
{
	struct progress_args a = {.key = key, .pos = pos};
	return sl_store_sqlite_run(store, progress_put_job, &a);
}

/* ---- time to live ---- */

/** Run `sql` with ?1 = type, ?2 = cutoff; *changes counts rows. */
static int
ttl_exec(struct sl_store_sqlite *s, const char *sql, const char *type,
         const char *cutoff, uint64_t *changes)
{
	sqlite3_stmt *st = sl_sqlite_stmt(s->c, sql);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cutoff, -1, SQLITE_STATIC);
	int64_t n = step_changes(s, st, "deleting expired objects");
	if (n < 0)
		return -1;
	if (changes != NULL)
		*changes = (uint64_t)n;
	return 0;
}

struct sqlite3 *
sl_store_sqlite_db(struct sl_store_sqlite *s)
{
	return s->db;
}

struct sl_db_conn *
sl_store_sqlite_conn(struct sl_store_sqlite *s)
{
	return s->c;
}

const char *
sl_store_sqlite_path(const struct sl_store_sqlite *s)
{
	return s->path;
}

/** Arguments of ttl_job(). */
struct ttl_args {
	/** Nodes, else relationships. */
	bool nodes;
	/** The type. */
	const char *type;
	/** The cutoff. */
	const char *cutoff;
	/** Objects deleted. */
	uint64_t *deleted;
};

/** Job: delete what expired (see sl_store_sqlite_ttl()). */
static int
ttl_job(struct sl_store_sqlite *s, void *arg)
{
	const struct ttl_args *t = arg;
	bool nodes = t->nodes;
	const char *type = t->type, *cutoff = t->cutoff;
	uint64_t *deleted = t->deleted;
	/* A missing last_ingested_at is never expired (NULL < x is not
	 * true), as in Nodestream. */
	*deleted = 0;
	ids_clear(s);
	if (sl_store_sqlite_end_tx(s) != 0 || rel_in_build(s) != 0 ||
	    stmt_exec(s, ST_BEGIN_WRITE, "starting a write transaction") != 0)
		return -1;
	int rc;
	if (nodes) {
		rc = ttl_exec(
		        s,
		        "DELETE FROM rel WHERE from_id IN (SELECT id "
		        "FROM node WHERE type = ?1 AND "
		        "props ->> '$.last_ingested_at' < ?2) OR to_id IN "
		        "(SELECT id FROM node WHERE type = ?1 AND "
		        "props ->> '$.last_ingested_at' < ?2)",
		        type, cutoff, NULL);
		if (rc == 0)
			rc = ttl_exec(s,
			              "DELETE FROM node WHERE type = ?1 AND "
			              "props ->> '$.last_ingested_at' < ?2",
			              type, cutoff, deleted);
	} else {
		rc = ttl_exec(s,
		              "DELETE FROM rel WHERE type = ?1 AND "
		              "props ->> '$.last_ingested_at' < ?2",
		              type, cutoff, deleted);
	}
	if (rc == 0)
		rc = stmt_exec(s, ST_COMMIT, "committing");
	if (rc != 0) {
		rollback(s);
		*deleted = 0;
	}
	return rc;
}

int
sl_store_sqlite_ttl(struct sl_store_sqlite *s, bool nodes, const char *type,
                    const char *cutoff, uint64_t *deleted)
{
	struct ttl_args t = {.nodes = nodes,
	                     .type = type,
	                     .cutoff = cutoff,
	                     .deleted = deleted};
	*deleted = 0;
	return sl_store_sqlite_run(s, ttl_job, &t);
}

/* ---- export ---- */

/** State of one export. */
struct export
{
	/** The store. */
	struct sl_store_sqlite *s;
	/** Memory of the current row (reset per row). */
	struct sl_arena arena;
	/** The current line. */
	struct sl_buf line;
	/** The caller's callback. */
	sl_export_fn fn;
	/** Its argument. */
	void *arg;
};

/** Column `col` of the current row as a string value (not copied). */
static struct sl_value
col_str(sqlite3_stmt *q, int col)
{
	const char *t = (const char *)sqlite3_column_text(q, col);
	uint32_t n = (uint32_t)sqlite3_column_bytes(q, col);
	return sl_str_ref(t != NULL ? t : "", t != NULL ? n : 0);
}

/**
 * Parse column `col` (stored JSON) into the row's arena. 0, or -1 with
 * an error naming the column `what`.
 */
static int
col_json(struct export *x, sqlite3_stmt *q, int col, const char *what,
         struct sl_value *out)
{
	const char *t = (const char *)sqlite3_column_text(q, col);
	size_t n = (size_t)sqlite3_column_bytes(q, col);
	if (t == NULL) {
		if (sqlite3_errcode(x->s->db) == SQLITE_NOMEM) {
			sl_diag_set(SL_EOOM, "out of memory reading %s", what);
			return -1;
		}
		*out = sl_null();
		return 0;
	}
	if (sl_json_parse(t, n, &x->arena, NULL, what, out) != 0) {
		sl_diag_wrap(SL_EPARSE, "%s: stored %s is not JSON", x->s->path,
		             what);
		return -1;
	}
	return 0;
}

/** Hand the current line to the caller's callback. */
static int
emit(struct export *x)
{
	return x->fn(x->arg, x->line.data, x->line.len);
}

/** Export every node. 0, or -1 with an error (or the callback's). */
static int
export_nodes(struct export *x)
{
	sqlite3_stmt *q = stmt_get(x->s, ST_EXPORT_NODES);
	if (q == NULL)
		return -1;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		sl_arena_reset(&x->arena);
		struct sl_value key, labels, props;
		if (col_json(x, q, 1, "node key", &key) != 0 ||
		    col_json(x, q, 2, "node labels", &labels) != 0 ||
		    col_json(x, q, 3, "node props", &props) != 0)
			goto fail;
		if (sl_graph_line_node(&x->line, col_str(q, 0), key, labels,
		                       props) != 0 ||
		    emit(x) != 0)
			goto fail;
	}
	if (rc != SQLITE_DONE) {
		db_error(x->s, stmt_sql[ST_EXPORT_NODES], "exporting nodes");
		goto fail;
	}
	stmt_done(q);
	return 0;
fail:
	stmt_done(q);
	return -1;
}

/** Export every relationship. 0, or -1 with an error. */
static int
export_rels(struct export *x)
{
	sqlite3_stmt *q = stmt_get(x->s, ST_EXPORT_RELS);
	if (q == NULL)
		return -1;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		sl_arena_reset(&x->arena);
		struct sl_value fkey, tkey, key, props;
		if (col_json(x, q, 2, "from key", &fkey) != 0 ||
		    col_json(x, q, 4, "to key", &tkey) != 0 ||
		    col_json(x, q, 5, "relationship key", &key) != 0 ||
		    col_json(x, q, 6, "relationship props", &props) != 0)
			goto fail;
		if (sl_graph_line_rel(&x->line, col_str(q, 0), col_str(q, 1),
		                      fkey, col_str(q, 3), tkey, key,
		                      props) != 0 ||
		    emit(x) != 0)
			goto fail;
	}
	if (rc != SQLITE_DONE) {
		db_error(x->s, stmt_sql[ST_EXPORT_RELS],
		         "exporting relationships");
		goto fail;
	}
	stmt_done(q);
	return 0;
fail:
	stmt_done(q);
	return -1;
}

/** Arguments of export_job(). */
struct export_args {
	/** The caller's callback. */
	sl_export_fn fn;
	/** Its argument. */
	void *arg;
};

/** Job: stream the graph (see sl_store_sqlite_export()). */
static int
export_job(struct sl_store_sqlite *s, void *arg)
{
	const struct export_args *e = arg;
	if (sl_store_sqlite_end_tx(s) != 0)
		return -1;
	struct export x = {.s = s, .fn = e->fn, .arg = e->arg};
	sl_arena_create(&x.arena, ARENA_CHUNK, ARENA_MAX);
	sl_buf_create(&x.line, TEXT_MAX);
	int rc = -1;
	/* One read transaction: nodes and relationships of one snapshot. */
	if (stmt_exec(s, ST_BEGIN_READ, "starting a read transaction") != 0)
		goto out;
	if (export_nodes(&x) != 0 || export_rels(&x) != 0) {
		rollback(s);
		goto out;
	}
	if (stmt_exec(s, ST_COMMIT, "ending the read transaction") != 0) {
		rollback(s);
		goto out;
	}
	rc = 0;
out:
	sl_arena_destroy(&x.arena);
	sl_buf_destroy(&x.line);
	return rc;
}

int
sl_store_sqlite_export(struct sl_store_sqlite *s, sl_export_fn fn, void *arg)
{
	struct export_args e = {.fn = fn, .arg = arg};
	return sl_store_sqlite_run(s, export_job, &e);
}

/* ---- the store's ops (store.h) ---- */

/** Writes per transaction at most when batches are grouped. */
#define GROUP_OPS 250000

/** Seconds a grouped transaction stays open at most. */
#define GROUP_SECS 2.0

/** The path of "sqlite:PATH" ("sqlite://PATH" too), or NULL with an error. */
static const char *
uri_path(const char *uri)
{
	const char *path = uri + strlen("sqlite:");
	/* sqlite:///abs/path and sqlite://rel are accepted too. */
	if (strncmp(path, "//", 2) == 0)
		path += 2;
	if (*path == '\0') {
		sl_diag_set(SL_EINVAL, "no database path");
		return NULL;
	}
	return path;
}

/** Open "sqlite:PATH" ("sqlite://PATH" too) with grouped commits. */
static void *
sqlite_open(const char *uri)
{
	const char *path = uri_path(uri);
	if (path == NULL)
		return NULL;
	struct sl_store_sqlite *s = sl_store_sqlite_open(path);
	/* Commits of at most ~2 s of writes: far fewer pages rewritten. */
	if (s != NULL)
		sl_store_sqlite_group(s, GROUP_OPS, GROUP_SECS);
	return s;
}

/** Open "sqlite:PATH" read-only, for export (store.h). */
static void *
sqlite_open_ro(const char *uri)
{
	const char *path = uri_path(uri);
	return path != NULL ? sl_store_sqlite_open_ro(path) : NULL;
}

/** Write a batch (store.h). */
static int
sqlite_write(void *store, const struct sl_graph_batch *b,
             struct sl_graph_counts *st)
{
	return sl_store_sqlite_write(store, b, st);
}

/** Delete what expired (store.h). */
static int
sqlite_ttl(void *store, bool nodes, const char *type, const char *cutoff,
           uint64_t *deleted)
{
	return sl_store_sqlite_ttl(store, nodes, type, cutoff, deleted);
}

/** Migrate (store.h). */
static int
sqlite_migrate(void *store, const struct sl_schema *schema, uint32_t *applied,
               uint32_t *kept)
{
	return sl_store_sqlite_migrate(store, schema, applied, kept);
}

/** List migrations (store.h). */
static int
sqlite_migrations(void *store, const struct sl_schema *schema,
                  sl_mig_status_fn fn, void *arg)
{
	return sl_store_sqlite_migrations(store, schema, fn, arg);
}

/** Export (store.h). */
static int
sqlite_export(void *store, sl_export_fn fn, void *arg)
{
	return sl_store_sqlite_export(store, fn, arg);
}

/** Commit what is pending, counting it (store.h). */
static int
sqlite_commit(void *store, struct sl_graph_counts *st)
{
	return sl_store_sqlite_commit_counted(store, st);
}

/** Commit what is pending and close (store.h). */
static int
sqlite_close(void *store)
{
	int rc = sl_store_sqlite_commit(store);
	sl_store_sqlite_close(store);
	return rc;
}

/** URI schemes of the SQLite store. */
static const char *const sqlite_schemes[] = {"sqlite:", NULL};

const struct sl_graph_store_ops sl_store_sqlite_ops = {
        .name = "sqlite",
        .schemes = sqlite_schemes,
        .usage = "sqlite:PATH",
        .caps = SL_STORE_TTL | SL_STORE_MIGRATE | SL_STORE_EXPORT,
        .batch_default = SL_GRAPH_BATCH_DEFAULT,
        /* Its JSON columns hold ±Infinity as 1e999 and -1e999, which its JSON
         * functions read back, and NUL as \u0000; NaN has no such form. */
        .cannot = SL_GRAPH_NO_NAN,
        .open = sqlite_open,
        .open_ro = sqlite_open_ro,
        .write = sqlite_write,
        .commit = sqlite_commit,
        .prepare = sqlite_prepare,
        .progress_get = sqlite_progress_get,
        .progress_put = sqlite_progress_put,
        .rollback = sqlite_rollback,
        .ttl = sqlite_ttl,
        .migrate = sqlite_migrate,
        .migrations = sqlite_migrations,
        .export_graph = sqlite_export,
        .close = sqlite_close,
};
