/*
 * sluice: models and a query builder over the database layer (GINO's
 * declarative models, in C).
 *
 * A model is a static const description of a table written by hand:
 *
 *   static const struct sl_column user_cols[] = {
 *           {"id", SL_COL_BIGINT, SL_COL_AUTO, NULL, NULL},
 *           {"name", SL_COL_TEXT, SL_COL_NOT_NULL, "'noname'", NULL},
 *           {"created", SL_COL_TIMESTAMP, 0, "now()", "CURRENT_TIMESTAMP"},
 *           {"props", SL_COL_JSON, SL_COL_PROPS, NULL, NULL},
 *   };
 *   static const struct sl_model users = {
 *           .table = "users", .columns = user_cols, .ncols = 4,
 *           .pk = (const char *const[]){"id", NULL},
 *   };
 *
 * A model has typed columns, a primary key (composite too), indexes and
 * at most one JSON props column. Operations (model.c): create and drop
 * all tables, insert, get, update, delete and upsert by primary key with
 * RETURNING, and a query builder (sl_qb_*: where with and/or/not, IN and
 * IS NULL, order, limit, offset, joins).
 *
 * Rows are object values {column: value}. Every operation takes a
 * connection and writes its SQL in the dialect of the connection's
 * driver (struct sl_db_dialect in src/db/conn.h), which differs only
 * where the databases do: the same model works on PostgreSQL and SQLite. Values
 * are always bound as parameters and identifiers always quoted. Rows come back
 * (RETURNING *) as objects built in a caller's arena, with json columns
 * parsed and bool columns as bools on both drivers.
 *
 * Types: int (INTEGER), bigint (BIGINT), float (DOUBLE PRECISION / REAL),
 * bool (BOOLEAN), text (TEXT), bytes (BYTEA / BLOB), json (JSONB / TEXT
 * holding JSON; a string given for a json column is taken as JSON text),
 * timestamp (TIMESTAMPTZ / TEXT).
 *
 * The props column (SL_COL_PROPS, json) is merged on update and upsert:
 * PostgreSQL `COALESCE(props, '{}') || $n::jsonb` (top-level keys),
 * SQLite `json_patch(COALESCE(props, '{}'), $n)` (RFC 7396: nested objects
 * merge too and a null removes a key).
 */
#ifndef SLUICE_MODEL_H
#define SLUICE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/db.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Column types. */
enum sl_col_type {
	SL_COL_INT = 1,   /**< 32-bit integer */
	SL_COL_BIGINT,    /**< 64-bit integer */
	SL_COL_FLOAT,     /**< double */
	SL_COL_BOOL,      /**< bool */
	SL_COL_TEXT,      /**< text */
	SL_COL_BYTES,     /**< bytes (values are strings of bytes) */
	SL_COL_JSON,      /**< JSON document */
	SL_COL_TIMESTAMP, /**< timestamp with time zone (ISO 8601 text) */
};

/** Column flag: NOT NULL. */
#define SL_COL_NOT_NULL 0x1u
/**
 * Column flag: an id the database generates (PostgreSQL BIGSERIAL or
 * SERIAL, SQLite INTEGER PRIMARY KEY AUTOINCREMENT). It must be the whole
 * primary key, of type int or bigint.
 */
#define SL_COL_AUTO 0x2u
/** Column flag: the model's JSON props column (one at most; json type). */
#define SL_COL_PROPS 0x4u

/** One column of a model. */
struct sl_column {
	/** Column name. */
	const char *name;
	/** Type. */
	enum sl_col_type type;
	/** SL_COL_* flags. */
	unsigned flags;
	/** Default as SQL expression text ("now()", "'{}'"), or NULL. */
	const char *default_sql;
	/** Default on SQLite when it differs ("CURRENT_TIMESTAMP"), or NULL
	 * to use default_sql there too. */
	const char *default_sqlite;
};

/** An index of a model. */
struct sl_index {
	/** Index name, or NULL for "<table>_<col>_..._idx" ("_key" when
	 * unique). */
	const char *name;
	/** Column names, NULL-terminated. */
	const char *const *columns;
	/** Whether the index is UNIQUE. */
	bool unique;
};

/** A model: a table (static const, written by hand). */
struct sl_model {
	/** Table name. */
	const char *table;
	/** Columns, in table order. */
	const struct sl_column *columns;
	/** Number of columns. */
	size_t ncols;
	/** Primary key column names in key order, NULL-terminated (NULL or
	 * empty: no primary key; get, update, delete and upsert need one). */
	const char *const *pk;
	/** Indexes, or NULL. */
	const struct sl_index *indexes;
	/** Number of indexes. */
	size_t nindexes;
};

/** Most columns a model may have and joins a query may have. */
#define SL_MODEL_COLS_MAX 1024
/** Most models in one query (the base and its joins). */
#define SL_QB_MODELS_MAX 16
/** Deepest nesting of and/or/not conditions. */
#define SL_QB_DEPTH_MAX 64

/**
 * Check a model: names set, types known, pk and index columns exist, at
 * most one props column, SL_COL_AUTO only as the whole key. 0, or -1 with
 * SL_EINVAL naming the model and what is wrong.
 */
int sl_model_check(const struct sl_model *m);

/** The column named `name` of `m`, or NULL. */
const struct sl_column *sl_model_column(const struct sl_model *m,
                                        const char *name);

/**
 * Create the tables and indexes of `n` models in order, in one
 * transaction (a savepoint inside an open one), with IF NOT EXISTS: running
 * it again changes nothing. 0, or -1 with an error.
 */
int sl_model_create_all(struct sl_db_conn *c,
                        const struct sl_model *const *models, size_t n);

/**
 * Drop the tables of `n` models in reverse order with IF EXISTS, in one
 * transaction. 0, or -1 with an error.
 */
int sl_model_drop_all(struct sl_db_conn *c,
                      const struct sl_model *const *models, size_t n);

/**
 * INSERT `row` (an object {column: value}; absent columns take their
 * defaults) RETURNING *: the stored row (server defaults and the generated
 * id included) goes to *out as an object in `a` (out may be NULL). 0, or
 * -1 with an error: SL_EINVAL for a column the model does not have (naming
 * column and model), SL_EDB from the server (a unique violation...).
 */
int sl_model_insert(struct sl_db_conn *c, const struct sl_model *m,
                    const struct sl_value *row, struct sl_arena *a,
                    struct sl_value *out);

/**
 * Fetch the row with primary key `key`: an object holding the key columns
 * (other columns of the model are ignored, so a row serves as its own
 * key), an array of the key's values in pk order, or the bare value for a
 * one-column key. 1 with the row in *out (may be NULL), 0 if there is
 * none, -1 with an error.
 */
int sl_model_get(struct sl_db_conn *c, const struct sl_model *m,
                 const struct sl_value *key, struct sl_arena *a,
                 struct sl_value *out);

/**
 * UPDATE the row with key `key` (as sl_model_get()) setting only the
 * columns in `changes` (an object); the props column is merged. The row
 * after the update goes to *out (RETURNING *). 1 if the row was updated,
 * 0 if there is none, -1 with an error. No changes: sl_model_get().
 */
int sl_model_update(struct sl_db_conn *c, const struct sl_model *m,
                    const struct sl_value *key, const struct sl_value *changes,
                    struct sl_arena *a, struct sl_value *out);

/**
 * DELETE the row with key `key`. The number of rows deleted (0 or 1), or
 * -1 with an error.
 */
int64_t sl_model_delete(struct sl_db_conn *c, const struct sl_model *m,
                        const struct sl_value *key);

/**
 * INSERT `row` or, when its primary key exists, UPDATE the non-key columns
 * it holds (INSERT ... ON CONFLICT (pk) DO UPDATE; props merged) RETURNING
 * *. The row needs every key column but an SL_COL_AUTO one. 0, or -1.
 */
int sl_model_upsert(struct sl_db_conn *c, const struct sl_model *m,
                    const struct sl_value *row, struct sl_arena *a,
                    struct sl_value *out);

/* ------------------------------------------------------------------ */
/* Query builder                                                         */

/**
 * A SELECT being built (opaque; sl_qb_new() / sl_qb_delete()). Calls that
 * fail record their error in the builder too: later calls and
 * sl_qb_sql() fail with it, so a chain of calls can be checked once at
 * the end.
 *
 * Column names: "col" is a column of the base model (tried first), and
 * "table.col" a column of the base or a joined model. Once a query has a
 * join every column is written "table"."col", and columns of joined
 * models are selected AS "table.col".
 */
struct sl_qb;

/** Comparison operators. */
enum sl_op {
	SL_OP_EQ = 1, /**< = */
	SL_OP_NE,     /**< != */
	SL_OP_LT,     /**< < */
	SL_OP_LE,     /**< <= */
	SL_OP_GT,     /**< > */
	SL_OP_GE,     /**< >= */
	SL_OP_LIKE,   /**< LIKE */
};

/** Join kinds. */
enum sl_join {
	SL_JOIN_INNER = 1, /**< INNER JOIN */
	SL_JOIN_LEFT,      /**< LEFT JOIN */
};

/** A condition list for sl_qb_and() / sl_qb_or(): SL_CONDS(a, b, c). */
#define SL_CONDS(...)                                       \
	(sizeof((const int[]){__VA_ARGS__}) / sizeof(int)), \
	        ((const int[]){__VA_ARGS__})

/** A new query on `m` selecting all its columns. NULL with SL_EOOM. */
struct sl_qb *sl_qb_new(const struct sl_model *m);

/** Free the builder (NULL is a no-op). */
void sl_qb_delete(struct sl_qb *q);

/**
 * Select `n` columns instead of all (calls add up). 0, or -1 (SL_EINVAL
 * for an unknown column).
 */
int sl_qb_select(struct sl_qb *q, size_t n, const char *const *cols);

/**
 * Join model `other` ON `left` = `right`: `left` a column of a model
 * already in the query, `right` a column of `other`. 0, or -1 (SL_ELIMIT
 * past SL_QB_MODELS_MAX models).
 */
int sl_qb_join(struct sl_qb *q, enum sl_join kind, const struct sl_model *other,
               const char *left, const char *right);

/**
 * A condition `col op value` (the value is copied and bound). Returns the
 * condition's id (>= 0) for sl_qb_where(), sl_qb_and()..., or -1 with an
 * error (SL_ELIMIT past SL_DB_PARAMS_MAX conditions).
 */
int sl_qb_cmp(struct sl_qb *q, const char *col, enum sl_op op,
              struct sl_value value);

/** `col IS NULL` (`not`: IS NOT NULL). A condition id, or -1. */
int sl_qb_is_null(struct sl_qb *q, const char *col, bool not );

/**
 * `col IN ($k, $k+1, ...)` over `n` values (copied); with n == 0 the
 * condition is FALSE. A condition id, or -1.
 */
int sl_qb_in(struct sl_qb *q, const char *col, size_t n,
             const struct sl_value *values);

/**
 * The conjunction of `n` conditions (ids, each used in one place only;
 * n == 0 is TRUE). A -1 among them (a failed call) fails this too. A
 * condition id, or -1 (SL_ELIMIT deeper than SL_QB_DEPTH_MAX).
 */
int sl_qb_and(struct sl_qb *q, size_t n, const int *conds);

/** The disjunction of `n` conditions (n == 0 is FALSE); as sl_qb_and(). */
int sl_qb_or(struct sl_qb *q, size_t n, const int *conds);

/** NOT `cond`. A condition id, or -1. */
int sl_qb_not(struct sl_qb *q, int cond);

/** Add `cond` to the WHERE clause (several are ANDed). 0, or -1. */
int sl_qb_where(struct sl_qb *q, int cond);

/** ORDER BY `col` (DESC if `desc`); calls add keys. 0, or -1. */
int sl_qb_order(struct sl_qb *q, const char *col, bool desc);

/** LIMIT `n` (bound as a parameter; < 0: none). */
void sl_qb_limit(struct sl_qb *q, int64_t n);

/** OFFSET `n` (bound as a parameter; <= 0: none). */
void sl_qb_offset(struct sl_qb *q, int64_t n);

/**
 * Render the query: *sql (NUL-terminated) and the *nparams parameters it
 * binds as $1..$n, both owned by the builder and valid until it changes.
 * 0, or -1 with the builder's first error (SL_ELIMIT past
 * SL_DB_PARAMS_MAX parameters).
 */
int sl_qb_sql(struct sl_qb *q, const char **sql, size_t *nparams,
              const struct sl_value **params);

/** Run the query on `c`: its result, or NULL with an error. */
struct sl_db_result *sl_qb_run(struct sl_db_conn *c, struct sl_qb *q);

/**
 * Run the query on `c`: *rows is an array of row objects built in `a`
 * (json and bool columns of the models decoded as sl_model_get() does).
 * 0, or -1 with an error.
 */
int sl_qb_all(struct sl_db_conn *c, struct sl_qb *q, struct sl_arena *a,
              struct sl_value *rows);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_MODEL_H */
