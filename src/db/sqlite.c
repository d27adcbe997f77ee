/*
 * sluice: the SQLite driver ("sqlite:PATH", "sqlite::memory:").
 *
 * Each connection owns a worker thread (sluice/worker.h) and every sqlite3
 * call on it runs there as a job while the calling task waits; other tasks
 * keep running. One job does a whole statement: look up or prepare it,
 * bind, step through every row, build the result, reset. The state in
 * struct sq_conn is touched by jobs only, or by the loop thread while no
 * job is queued (the worker's queue orders the two).
 *
 * Statements are prepared once (SQLITE_PREPARE_PERSISTENT) and kept in an
 * LRU cache of c->opts.stmt_cache entries keyed by their text. Parameters
 * are written $1, $2...; ?NNN and plain ? are taken by position.
 *
 * A progress handler interrupts a statement once its deadline passed or
 * once the task waiting for it was cancelled (a flag set from the loop's
 * thread). Scripts, which carry transaction control, are not interrupted
 * by a cancellation: it takes effect at the task's next wait.
 *
 * Other modules run their own sqlite3 code on a connection as jobs with
 * the same cache, deadline, cancellation and errors (sqlite_conn.h).
 */
#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <malloc.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conn.h"
#include "sqlite_conn.h"
#include "sqlite_dl.h"
#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/hash.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"
#include "sluice/model.h"
#include "sluice/task.h"
#include "sluice/worker.h"

/** How long a statement waits for another connection's lock, in ms. */
#define BUSY_TIMEOUT_MS 5000
/** Longest statement text quoted in an error. */
#define SQL_SHOWN 160
/** Virtual machine steps between two looks at the statement's deadline. */
#define PROGRESS_STEPS 1000
/** Most bytes of the cells of one result (names and values: the arena's
 * own cap, SL_DB_BUF_MAX). */
#define CELLS_MAX ((size_t)1 << 30)
/** Longest JSON text written for one array or object parameter. */
#define JSON_PARAM_MAX ((size_t)1 << 30)
/** Most statements a connection's cache holds, whatever stmt_cache says. */
#define CACHE_MAX 65536
/** Fewest buckets of the statement cache (a power of two). */
#define BUCKETS_MIN 16
/** Length of "sqlite:". */
#define PREFIX_LEN 7

/** How a result column's values decode, from its declared type. */
enum col_kind {
	COL_PLAIN, /**< by the value's storage class */
	COL_JSON,  /**< declared JSON or JSONB: text is parsed */
	COL_BOOL,  /**< declared BOOL or BOOLEAN: integers become bools */
};

/** A prepared statement in a connection's cache. */
struct sq_stmt {
	/** Statement text (owned, NUL-terminated). */
	char *sql;
	/** Its length. */
	size_t len;
	/** Hash of the text. */
	uint64_t hash;
	/** The statement. */
	sqlite3_stmt *st;
	/** For SQLite's parameter index i (1-based), the sluice parameter
	 * number at pmap[i - 1] (1-based). */
	int *pmap;
	/** SQLite's parameter count (sqlite3_bind_parameter_count()). */
	int nidx;
	/** Parameters the statement takes: the highest number used. */
	int nparams;
	/** Whether it is in the cache (else freed after its one use). */
	bool cached;
	/** Link in the LRU list (most recent at the tail). */
	struct sl_list lru;
	/** Next statement in the same bucket. */
	struct sq_stmt *next;
};

/** The driver's state of one connection (c->impl). */
struct sq_conn {
	/** The thread every sqlite3 call runs on. */
	struct sl_worker *w;
	/** The database handle, or NULL (worker only). */
	sqlite3 *db;
	/** Buckets of the statement cache (a power of two of them). */
	struct sq_stmt **buckets;
	/** Number of buckets. */
	size_t nbuckets;
	/** Cached statements, least recently used first. */
	struct sl_list lru;
	/** Number of cached statements. */
	size_t nstmts;
	/** Most statements cached. */
	size_t cache_max;
	/** sl_clock() past which the running statement is interrupted, or
	 * a negative number for none (worker only). */
	double deadline;
	/** Set by the progress handler when it interrupted (worker only). */
	bool timed_out;
	/**
	 * Set from the loop's thread when the waiting task was cancelled;
	 * the progress handler then stops the statement.
	 */
	atomic_bool cancel;
	/** Set by the progress handler when `cancel` stopped it. */
	bool cancelled;
	/** JSON text of an array or object parameter (worker only). */
	struct sl_buf json;
	/** Whether the open skips the setup statements (sl_sqlite_open()). */
	bool plain;
	/** Whether the database is opened read-only (sl_sqlite_open_ro()). */
	bool readonly;
};

/** The driver state of `c`. */
#define SQ(c) ((struct sq_conn *)(c)->impl)

/* {{{ errors */

/** Quote `sql` for a message: one line, at most SQL_SHOWN bytes. */
static void
sql_shown(const char *sql, char out[SQL_SHOWN + 4])
{
	size_t n = strnlen(sql, SQL_SHOWN);
	memcpy(out, sql, n);
	out[n] = '\0';
	for (char *p = out; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
	if (sql[strnlen(sql, SQL_SHOWN)] != '\0')
		strcat(out, "...");
}

/**
 * Raise the error of the statement `sql` that just failed on `c`:
 * SL_ETIMEDOUT when the progress handler interrupted it, SL_EOOM when
 * SQLite ran out of memory, else SL_EDB with SQLite's message.
 */
static int
db_error(struct sl_db_conn *c, const char *sql)
{
	struct sq_conn *s = SQ(c);
	char shown[SQL_SHOWN + 4];
	sql_shown(sql, shown);
	int code = sqlite3_extended_errcode(s->db);
	const char *rolled = c->tx_depth > 0 && sqlite3_get_autocommit(s->db)
	                             ? "; SQLite rolled the transaction back"
	                             : "";
	if (s->cancelled)
		sl_diag_set(
		        SL_ECANCELLED,
		        "%s: statement stopped: the task was cancelled%s in: "
		        "%s",
		        c->shown, rolled, shown);
	else if (s->timed_out)
		sl_diag_set(SL_ETIMEDOUT,
		            "%s: statement timed out after %.3g s%s in: %s",
		            c->shown, c->opts.query_timeout, rolled, shown);
	else if ((code & 0xff) == SQLITE_NOMEM)
		sl_diag_set(SL_EOOM, "%s: SQLite ran out of memory in: %s",
		            c->shown, shown);
	else
		sl_diag_set(SL_EDB, "%s: SQLite error: %s (code %d)%s in: %s",
		            c->shown, sqlite3_errmsg(s->db), code, rolled,
		            shown);
	return -1;
}

/* }}} */
/* {{{ statement timeout */

/**
 * Progress handler: interrupt the statement once its deadline passed or
 * its task was cancelled.
 */
static int
progress(void *arg)
{
	struct sq_conn *s = arg;
	if (atomic_load_explicit(&s->cancel, memory_order_relaxed)) {
		s->cancelled = true;
		return 1;
	}
	if (s->deadline >= 0 && sl_clock() >= s->deadline) {
		s->timed_out = true;
		return 1;
	}
	return 0;
}

/**
 * Arm the statement timeout of `c` (seconds; negative: none) and the
 * check for a cancelled task.
 */
static void
deadline_arm(struct sq_conn *s, double timeout)
{
	s->timed_out = false;
	s->cancelled = false;
	s->deadline = timeout >= 0 ? sl_clock() + timeout : -1.0;
	sqlite3_progress_handler(s->db, PROGRESS_STEPS, progress, s);
}

/** Cancellation of the task waiting for a job (on the loop's thread). */
static void
job_cancel(void *arg)
{
	struct sq_conn *s = arg;
	atomic_store(&s->cancel, true);
}

/** Disarm the statement timeout (the flag stays for db_error()). */
static void
deadline_disarm(struct sq_conn *s)
{
	s->deadline = -1.0;
	sqlite3_progress_handler(s->db, 0, NULL, NULL);
}

/* }}} */
/* {{{ statement cache */

/** Finalize and free `e` (not in the cache any more). */
static void
stmt_free(struct sq_stmt *e)
{
	if (e == NULL)
		return;
	sqlite3_finalize(e->st);
	sl_free(e->pmap);
	sl_free(e->sql);
	sl_free(e);
}

/** Take `e` out of the cache of `s`. */
static void
cache_remove(struct sq_conn *s, struct sq_stmt *e)
{
	assert(e->cached && s->nstmts > 0);
	struct sq_stmt **pp = &s->buckets[e->hash & (s->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	sl_list_del(&e->lru);
	s->nstmts--;
	e->cached = false;
}

/** Finalize every cached statement of `s`. */
static void
cache_clear(struct sq_conn *s)
{
	struct sl_list *l;
	while ((l = sl_list_first(&s->lru)) != NULL) {
		struct sq_stmt *e = sl_list_entry(l, struct sq_stmt, lru);
		cache_remove(s, e);
		stmt_free(e);
	}
	assert(s->nstmts == 0);
}

/** The cached statement for sql[0..len), made most recent, or NULL. */
static struct sq_stmt *
cache_find(struct sq_conn *s, const char *sql, size_t len, uint64_t hash)
{
	if (s->nbuckets == 0)
		return NULL;
	for (struct sq_stmt *e = s->buckets[hash & (s->nbuckets - 1)];
	     e != NULL; e = e->next) {
		if (e->hash == hash && e->len == len &&
		    memcmp(e->sql, sql, len) == 0) {
			sl_list_del(&e->lru);
			sl_list_add_tail(&s->lru, &e->lru);
			return e;
		}
	}
	return NULL;
}

/** Put `e` in the cache, evicting the least recently used if full. */
static void
cache_add(struct sq_conn *s, struct sq_stmt *e)
{
	assert(s->cache_max > 0 && s->nbuckets > 0);
	while (s->nstmts >= s->cache_max) {
		struct sq_stmt *old = sl_list_entry(sl_list_first(&s->lru),
		                                    struct sq_stmt, lru);
		cache_remove(s, old);
		stmt_free(old);
	}
	struct sq_stmt **b = &s->buckets[e->hash & (s->nbuckets - 1)];
	e->next = *b;
	*b = e;
	sl_list_add_tail(&s->lru, &e->lru);
	s->nstmts++;
	e->cached = true;
}

/**
 * The sluice parameter number SQLite's parameter `name` stands for:
 * NULL (a plain ?) is `idx`, "$N" and "?N" are N. 0 for other names.
 */
static int
param_number(const char *name, int idx)
{
	if (name == NULL)
		return idx;
	if (name[0] != '$' && name[0] != '?')
		return 0;
	long k = 0;
	const char *p = name + 1;
	if (*p < '1' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		k = k * 10 + (*p - '0');
		if (k > SL_DB_PARAMS_MAX)
			return 0;
	}
	return *p == '\0' ? (int)k : 0;
}

/** Map SQLite's parameters of `e` to sluice's numbers. 0, or -1. */
static int
stmt_params(struct sl_db_conn *c, struct sq_stmt *e)
{
	e->nidx = sqlite3_bind_parameter_count(e->st);
	e->nparams = 0;
	if (e->nidx == 0)
		return 0;
	e->pmap = sl_calloc((size_t)e->nidx, sizeof(*e->pmap));
	if (e->pmap == NULL) {
		sl_diag_set(SL_EOOM, "%s: out of memory preparing a statement",
		            c->shown);
		return -1;
	}
	for (int i = 1; i <= e->nidx; i++) {
		const char *name = sqlite3_bind_parameter_name(e->st, i);
		int k = param_number(name, i);
		if (k == 0) {
			char shown[SQL_SHOWN + 4];
			sql_shown(e->sql, shown);
			sl_diag_set(SL_EINVAL,
			            "%s: parameter %s: write parameters as $1, "
			            "$2...%s in: %s",
			            c->shown, name,
			            strstr(name, "::") != NULL
			                    ? " (SQLite has no :: casts: write "
			                      "CAST($1 AS type))"
			                    : "",
			            shown);
			return -1;
		}
		e->pmap[i - 1] = k;
		if (k > e->nparams)
			e->nparams = k;
	}
	return 0;
}

/** Whether `p` holds nothing but white space and semicolons. */
static bool
only_space(const char *p)
{
	for (; *p != '\0'; p++)
		if (*p != ';' && *p != ' ' && *p != '\t' && *p != '\n' &&
		    *p != '\r' && *p != '\f')
			return false;
	return true;
}

/**
 * The statement for `sql`: from the cache, or prepared now (and cached
 * when the cache is on; else e->cached is false and the caller frees it).
 * NULL with an error.
 */
static struct sq_stmt *
stmt_get(struct sl_db_conn *c, const char *sql)
{
	struct sq_conn *s = SQ(c);
	size_t len = strlen(sql);
	uint64_t hash = sl_hash64(sql, len);
	struct sq_stmt *e = cache_find(s, sql, len, hash);
	if (e != NULL)
		return e;
	e = sl_calloc(1, sizeof(*e));
	char *copy = sl_strndup(sql, len);
	if (e == NULL || copy == NULL) {
		sl_free(e);
		sl_free(copy);
		sl_diag_set(SL_EOOM, "%s: out of memory preparing a statement",
		            c->shown);
		return NULL;
	}
	e->sql = copy;
	e->len = len;
	e->hash = hash;
	sl_list_init(&e->lru);
	const char *tail = NULL;
	unsigned flags = s->cache_max > 0 ? SQLITE_PREPARE_PERSISTENT : 0;
	if (len > (size_t)INT32_MAX - 1 ||
	    sqlite3_prepare_v3(s->db, e->sql, (int)len + 1, flags, &e->st,
	                       &tail) != SQLITE_OK) {
		if (len > (size_t)INT32_MAX - 1)
			sl_diag_set(SL_ELIMIT,
			            "%s: statement of %zu bytes (at most %d)",
			            c->shown, len, INT32_MAX - 1);
		else
			db_error(c, sql);
		stmt_free(e);
		return NULL;
	}
	char shown[SQL_SHOWN + 4];
	if (e->st == NULL) {
		sql_shown(sql, shown);
		sl_diag_set(SL_EINVAL, "%s: no statement in: %s", c->shown,
		            shown);
		stmt_free(e);
		return NULL;
	}
	if (tail != NULL && !only_space(tail)) {
		/* Only comments may follow: they prepare to nothing. */
		sqlite3_stmt *more = NULL;
		int rc = sqlite3_prepare_v2(s->db, tail, -1, &more, NULL);
		sqlite3_finalize(more);
		if (rc != SQLITE_OK || more != NULL) {
			sql_shown(sql, shown);
			sl_diag_set(SL_EINVAL,
			            "%s: more than one statement (run scripts "
			            "with sl_db_exec_script()) in: %s",
			            c->shown, shown);
			stmt_free(e);
			return NULL;
		}
	}
	if (stmt_params(c, e) != 0) {
		stmt_free(e);
		return NULL;
	}
	if (s->cache_max > 0)
		cache_add(s, e);
	return e;
}

/* }}} */
/* {{{ binding */

/** Bind `v` at SQLite's parameter `i` of `e` (sluice's number k). */
static int
bind_value(struct sl_db_conn *c, struct sq_stmt *e, int i, int k,
           const struct sl_value *v)
{
	struct sq_conn *s = SQ(c);
	sqlite3_stmt *st = e->st;
	struct sl_value x = sl_value_number(*v);
	int rc;
	switch ((enum sl_vtype)x.type) {
	case SL_VNULL:
		rc = sqlite3_bind_null(st, i);
		break;
	case SL_VBOOL:
		rc = sqlite3_bind_int64(st, i, x.u.b ? 1 : 0);
		break;
	case SL_VINT:
		rc = sqlite3_bind_int64(st, i, x.u.i);
		break;
	case SL_VDOUBLE:
		rc = sqlite3_bind_double(st, i, x.u.d);
		break;
	case SL_VSTR:
		/* The caller's value outlives the job: the task waits. */
		rc = sqlite3_bind_text64(st, i, x.len > 0 ? x.u.s : "", x.len,
		                         SQLITE_STATIC, SQLITE_UTF8);
		break;
	case SL_VARRAY:
	case SL_VOBJECT:
		sl_buf_reset(&s->json);
		/* Infinities as 1e999: SQLite's JSON functions refuse
		 * Infinity. */
		if (sl_json_write(&s->json, &x, SL_JSON_INF_OVERFLOW) != 0) {
			sl_diag_wrap(sl_diag_code(), "%s: parameter $%d",
			             c->shown, k);
			return -1;
		}
		rc = sqlite3_bind_text64(st, i, s->json.data, s->json.len,
		                         SQLITE_TRANSIENT, SQLITE_UTF8);
		break;
	default:
		sl_diag_set(SL_EINVAL, "%s: parameter $%d has unknown type %d",
		            c->shown, k, (int)x.type);
		return -1;
	}
	if (rc != SQLITE_OK) {
		char shown[SQL_SHOWN + 4];
		sql_shown(e->sql, shown);
		sl_diag_set(rc == SQLITE_NOMEM ? SL_EOOM : SL_EDB,
		            "%s: binding parameter $%d: %s (code %d) in: %s",
		            c->shown, k, sqlite3_errstr(rc), rc, shown);
		return -1;
	}
	return 0;
}

/** Bind the `n` parameters of a statement. 0, or -1. */
static int
bind_all(struct sl_db_conn *c, struct sq_stmt *e, size_t n,
         const struct sl_value *params)
{
	if (n != (size_t)e->nparams) {
		char shown[SQL_SHOWN + 4];
		sql_shown(e->sql, shown);
		sl_diag_set(SL_EINVAL,
		            "%s: the statement takes %d parameters, %zu given "
		            "in: %s",
		            c->shown, e->nparams, n, shown);
		return -1;
	}
	for (int i = 1; i <= e->nidx; i++) {
		int k = e->pmap[i - 1];
		assert(k >= 1 && (size_t)k <= n);
		if (bind_value(c, e, i, k, &params[k - 1]) != 0)
			return -1;
	}
	return 0;
}

/* }}} */
/* {{{ results */

/** Skip white space and comments at `p`. */
static const char *
skip_space(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		       *p == '\f')
			p++;
		if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");
			p = end != NULL ? end + 2 : p + strlen(p);
		} else {
			return p;
		}
	}
}

/** Length of the word (letters, digits, _) at `p`. */
static size_t
word_len(const char *p)
{
	size_t n = 0;
	while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
	       (p[n] >= '0' && p[n] <= '9') || p[n] == '_')
		n++;
	return n;
}

/** Whether the word p[0..n) is `kw` (case-insensitive). */
static bool
word_is(const char *p, size_t n, const char *kw)
{
	return strlen(kw) == n && strncasecmp(p, kw, n) == 0;
}

/** Whether the word p[0..n) is a statement's main verb. */
static bool
is_verb(const char *p, size_t n)
{
	return word_is(p, n, "SELECT") || word_is(p, n, "INSERT") ||
	       word_is(p, n, "REPLACE") || word_is(p, n, "UPDATE") ||
	       word_is(p, n, "DELETE") || word_is(p, n, "VALUES");
}

/**
 * The main verb of a statement that starts with WITH: the first verb
 * outside parentheses, strings and quoted names after the common table
 * expressions. Sets *n to its length; NULL if none.
 */
static const char *
with_verb(const char *p, size_t *n)
{
	int depth = 0;
	while (*(p = skip_space(p)) != '\0') {
		size_t w = word_len(p);
		if (w > 0) {
			if (depth == 0 && is_verb(p, w)) {
				*n = w;
				return p;
			}
			p += w;
		} else if (*p == '\'' || *p == '"' || *p == '`' || *p == '[') {
			char close = *p == '[' ? ']' : *p;
			const char *end = strchr(p + 1, close);
			p = end != NULL ? end + 1 : p + strlen(p);
		} else {
			depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
			p++;
		}
	}
	return NULL;
}

/** Set the command tag of `r` for statement `sql` after it ran. */
static void
result_tag(struct sq_conn *s, struct sl_db_result *r, const char *sql)
{
	char tag[64];
	const char *p = skip_space(sql);
	size_t n = word_len(p);
	if (word_is(p, n, "WITH")) {
		size_t vn = 0;
		const char *v = with_verb(p + n, &vn);
		if (v != NULL) {
			p = v;
			n = vn;
		}
	}
	long long changes = (long long)sqlite3_changes64(s->db);
	if (word_is(p, n, "INSERT") || word_is(p, n, "REPLACE")) {
		snprintf(tag, sizeof(tag), "INSERT 0 %lld", changes);
	} else if (word_is(p, n, "UPDATE")) {
		snprintf(tag, sizeof(tag), "UPDATE %lld", changes);
	} else if (word_is(p, n, "DELETE")) {
		snprintf(tag, sizeof(tag), "DELETE %lld", changes);
	} else if (r->ncols > 0) {
		snprintf(tag, sizeof(tag), "SELECT %zu", r->nrows);
	} else {
		/* "CREATE TABLE", "DROP INDEX", "BEGIN", "PRAGMA"... */
		size_t len = n < 20 ? n : 20;
		memcpy(tag, p, len);
		if (word_is(p, n, "CREATE") || word_is(p, n, "DROP") ||
		    word_is(p, n, "ALTER")) {
			const char *q = skip_space(p + n);
			size_t m = word_len(q);
			while (word_is(q, m, "UNIQUE") ||
			       word_is(q, m, "TEMP") ||
			       word_is(q, m, "TEMPORARY") ||
			       word_is(q, m, "VIRTUAL")) {
				q = skip_space(q + m);
				m = word_len(q);
			}
			if (m > 0 && m < 20) {
				tag[len++] = ' ';
				memcpy(tag + len, q, m);
				len += m;
			}
		}
		tag[len] = '\0';
		for (char *t = tag; *t != '\0'; t++)
			if (*t >= 'a' && *t <= 'z')
				*t = (char)(*t - 'a' + 'A');
	}
	sl_db_result_set_tag(r, tag);
}

/** How values of column `col` decode. */
static enum col_kind
col_kind(sqlite3_stmt *st, int col)
{
	const char *t = sqlite3_column_decltype(st, col);
	if (t == NULL)
		return COL_PLAIN;
	if (strcasecmp(t, "JSON") == 0 || strcasecmp(t, "JSONB") == 0)
		return COL_JSON;
	if (strcasecmp(t, "BOOL") == 0 || strcasecmp(t, "BOOLEAN") == 0)
		return COL_BOOL;
	return COL_PLAIN;
}

/** Decode column `col` of the current row into `out` (in r->arena). */
static int
cell_decode(struct sl_db_conn *c, sqlite3_stmt *st, int col, enum col_kind kind,
            struct sl_db_result *r, struct sl_value *out)
{
	const void *p;
	int len;
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER: {
		sqlite3_int64 i = sqlite3_column_int64(st, col);
		*out = kind == COL_BOOL ? sl_bool(i != 0) : sl_int(i);
		return 0;
	}
	case SQLITE_FLOAT:
		*out = sl_double(sqlite3_column_double(st, col));
		return 0;
	case SQLITE_TEXT:
		p = sqlite3_column_text(st, col);
		len = sqlite3_column_bytes(st, col);
		break;
	case SQLITE_BLOB:
		p = sqlite3_column_blob(st, col);
		len = sqlite3_column_bytes(st, col);
		kind = COL_PLAIN;
		break;
	default:
		*out = sl_null();
		return 0;
	}
	if (p == NULL && len > 0) {
		sl_diag_set(SL_EOOM,
		            "%s: SQLite ran out of memory reading "
		            "a value",
		            c->shown);
		return -1;
	}
	if (p == NULL)
		p = "";
	if (kind == COL_JSON) {
		if (sl_json_parse(p, (size_t)len, &r->arena, NULL, NULL, out) !=
		    0) {
			sl_diag_wrap(sl_diag_code(),
			             "%s: column \"%s\" (declared JSON) holds "
			             "malformed JSON",
			             c->shown, r->names[col]);
			return -1;
		}
		return 0;
	}
	return sl_str_copy(&r->arena, p, (size_t)len, out);
}

/**
 * Run the bound statement `e` to the end and build its result. NULL with
 * an error.
 */
static struct sl_db_result *
stmt_run(struct sl_db_conn *c, struct sq_stmt *e)
{
	struct sq_conn *s = SQ(c);
	sqlite3_stmt *st = e->st;
	int ncols = sqlite3_column_count(st);
	struct sl_value *cells = NULL;
	size_t rows = 0, cap_rows = 0;
	struct sl_db_result *r = sl_db_result_new(0, (size_t)ncols);
	if (r == NULL)
		return NULL;
	enum col_kind *kinds = NULL;
	if (ncols > 0) {
		kinds = sl_arena_alloc(&r->arena,
		                       (size_t)ncols * sizeof(*kinds));
		if (kinds == NULL)
			goto fail_cells;
	}
	for (int i = 0; i < ncols; i++) {
		const char *name = sqlite3_column_name(st, i);
		r->names[i] = name != NULL ? sl_arena_strndup(&r->arena, name,
		                                              strlen(name))
		                           : NULL;
		if (r->names[i] == NULL) {
			if (name == NULL)
				sl_diag_set(
				        SL_EOOM,
				        "%s: SQLite ran out of memory naming "
				        "a column",
				        c->shown);
			goto fail_cells;
		}
		kinds[i] = col_kind(st, i);
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (ncols == 0)
			continue;
		if (rows == cap_rows) {
			size_t row_bytes = (size_t)ncols * sizeof(*cells);
			size_t want = cap_rows < 16 ? 16 : cap_rows * 2;
			if (want > CELLS_MAX / row_bytes)
				want = CELLS_MAX / row_bytes;
			if (want <= rows) {
				sl_diag_set(SL_ELIMIT,
				            "%s: result of more than %zu rows "
				            "(%zu bytes of values)",
				            c->shown, rows, CELLS_MAX);
				goto fail_cells;
			}
			struct sl_value *more =
			        sl_realloc(cells, want * row_bytes);
			if (more == NULL) {
				sl_diag_set(SL_EOOM,
				            "%s: out of memory for a result of "
				            "%zu rows",
				            c->shown, rows);
				goto fail_cells;
			}
			cells = more;
			cap_rows = want;
		}
		struct sl_value *row = cells + rows * (size_t)ncols;
		for (int i = 0; i < ncols; i++)
			if (cell_decode(c, st, i, kinds[i], r, &row[i]) != 0)
				goto fail_cells;
		rows++;
	}
	if (rc != SQLITE_DONE) {
		db_error(c, e->sql);
		goto fail_cells;
	}
	r->cells = cells;
	r->nrows = rows;
	r->keep = cells;
	r->keep_free = sl_free;
	result_tag(s, r, e->sql);
	return r;
fail_cells:
	sl_free(cells);
	sl_db_result_free(r);
	return NULL;
}

/* }}} */
/* {{{ jobs (on the worker thread) */

/** A statement to run on the worker. */
struct query_job {
	/** The connection. */
	struct sl_db_conn *c;
	/** Statement text. */
	const char *sql;
	/** Number of parameters. */
	size_t n;
	/** The parameters (the caller's, alive while it waits). */
	const struct sl_value *params;
	/** Seconds the statement may run (negative: no limit). */
	double timeout;
	/** The result, or NULL. */
	struct sl_db_result *r;
};

/**
 * Whether the read-only database `path` may be opened immutable=1: its
 * -wal and -shm files are missing and we cannot create them (the
 * directory is not writable for us). No connection has the database open
 * in WAL mode then (it keeps the -wal file while open), and without the
 * -shm file a read-only connection cannot read a WAL database at all.
 */
static bool
immutable_ok(const char *path)
{
	char side[SL_DB_URL_MAX + 8];
	snprintf(side, sizeof(side), "%s-wal", path);
	if (access(side, F_OK) == 0 || errno != ENOENT)
		return false;
	snprintf(side, sizeof(side), "%s-shm", path);
	if (access(side, F_OK) == 0 || errno != ENOENT)
		return false;
	snprintf(side, sizeof(side), "%s", path);
	return access(dirname(side), W_OK) != 0;
}

/**
 * Write the URI "file:PATH?mode=ro&immutable=1" for `path` into `out`
 * (`size` bytes), PATH percent-encoded where URIs need it. 0, or -1 when
 * it does not fit.
 */
static int
immutable_uri(const char *path, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *tail = "?mode=ro&immutable=1";
	size_t n = 0;
	if (size < 6)
		return -1;
	memcpy(out, "file:", 5);
	n = 5;
	for (const char *p = path; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;
		if (n + 4 > size)
			return -1;
		if (ch == '?' || ch == '#' || ch == '%' || ch < 0x20 ||
		    ch >= 0x7f) {
			out[n++] = '%';
			out[n++] = hex[ch >> 4];
			out[n++] = hex[ch & 0xf];
		} else {
			out[n++] = (char)ch;
		}
	}
	if (n + strlen(tail) + 1 > size)
		return -1;
	strcpy(out + n, tail);
	return 0;
}

/**
 * Open the database `path` of `c` read-only and read its schema: a
 * database in WAL mode whose -wal and -shm files are missing in a
 * directory we cannot write is opened again immutable=1 (immutable_ok()).
 * SQLite's result code.
 */
static int
open_ro(struct sl_db_conn *c, const char *path)
{
	struct sq_conn *s = SQ(c);
	int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK)
		return rc;
	/* The open is lazy: reading the schema opens the file (and a WAL
	 * database's -wal and -shm). */
	rc = sqlite3_exec(s->db, "PRAGMA schema_version", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		return SQLITE_OK;
	char uri[2 * SL_DB_URL_MAX];
	int code = rc & 0xff;
	if ((code != SQLITE_READONLY && code != SQLITE_CANTOPEN) ||
	    !immutable_ok(path) || immutable_uri(path, uri, sizeof(uri)) != 0)
		return rc;
	sqlite3_close_v2(s->db);
	s->db = NULL;
	return sqlite3_open_v2(uri, &s->db, flags | SQLITE_OPEN_URI, NULL);
}

/* {{{ SQLite's memory */

/*
 * A page cache takes its pages (a database page and its headers, 4,360
 * bytes for 4 KiB pages with SQLite 3.40) one allocation at a time. From
 * malloc()'s heap, the first touch of each 4 KiB costs a page fault, about
 * 11 us on the VMs sluice is measured on, and a 64 MiB cache filled is
 * 16,000 of them (6 % of a graph load, docs/performance.md); a 2 MiB huge
 * page costs about 0.15 ms. So blocks of page sizes are carved from
 * segments of one reservation the kernel may back with huge pages
 * (MADV_HUGEPAGE), each segment holding blocks of one size, and a freed
 * block goes on its size's free list for the next; every other size is
 * malloc()'s. The reservation is address space only (sl_huge_reserve());
 * a segment is committed when a size is given it. As with
 * sl_pages_alloc()'s regions, what was carved stays mapped until the
 * process ends.
 */

/** Address space reserved for page-sized blocks (touched as carved). */
#define PMEM_RESERVE ((size_t)512 << 20)
/** Bytes of a segment: one huge page. */
#define PMEM_SEGMENT ((size_t)2 << 20)
/** Page sizes whose blocks are served: SQLite's from 4 to 64 KiB. */
#define PMEM_PAGES 5
/** Block sizes served: each page size, and it with a cache's headers. */
#define PMEM_SIZES (2 * PMEM_PAGES)

/** One block size of the reservation. */
struct pmem_size {
	/** The size, a multiple of 8. */
	size_t size;
	/** Freed blocks, each holding the next one's address. */
	void *free;
	/** Unused part of the size's newest segment. */
	char *cur, *end;
};

/** The reservation: its segments and block sizes. */
static struct {
	/** Guards the members below but `base` and the sizes' `size`. */
	pthread_mutex_t lock;
	/** Start of the reservation (NULL: none, all is malloc()'s). */
	char *base;
	/** First segment not given to a size yet. */
	char *next;
	/** The block sizes (their `size` set once, before use). */
	struct pmem_size sizes[PMEM_SIZES];
	/** Bytes of blocks carved from segments (freed ones included). */
	size_t carved;
	/** The size (index in `sizes`) of each segment given out. */
	uint8_t seg[PMEM_RESERVE / PMEM_SEGMENT];
} pmem = {.lock = PTHREAD_MUTEX_INITIALIZER};

/**
 * The size of blocks of `n` bytes in pmem.sizes, or NULL for malloc(): a
 * page of 4 to 64 KiB (SQLite's buffers of a page), or one with the
 * headers of a page cache's page (SQLITE_CONFIG_PCACHE_HDRSZ: what a
 * cache allocates for each page). Other sizes are not worth a segment (2
 * MiB once touched) of their own.
 */
static struct pmem_size *
pmem_size_for(size_t n)
{
	if (pmem.base == NULL)
		return NULL;
	for (int i = 0; i < PMEM_SIZES; i++)
		if (pmem.sizes[i].size == n)
			return &pmem.sizes[i];
	return NULL;
}

/** Whether `p` is a block of the reservation. */
static bool
pmem_owns(const void *p)
{
	const char *c = p;
	return pmem.base != NULL && c >= pmem.base &&
	       c < pmem.base + PMEM_RESERVE;
}

/** The size of block `p` of the reservation. */
static struct pmem_size *
pmem_size_of(const void *p)
{
	size_t seg = (size_t)((const char *)p - pmem.base) / PMEM_SEGMENT;
	return &pmem.sizes[pmem.seg[seg]];
}

/**
 * A block of size `z`, or NULL when the reservation is used up or the
 * system will not commit another segment.
 */
static void *
pmem_take(struct pmem_size *z)
{
	pthread_mutex_lock(&pmem.lock);
	void *p = z->free;
	if (p != NULL) {
		z->free = *(void **)p;
	} else {
		if ((size_t)(z->end - z->cur) < z->size &&
		    pmem.next < pmem.base + PMEM_RESERVE &&
		    sl_huge_commit(pmem.next, PMEM_SEGMENT) == 0) {
			size_t seg =
			        (size_t)(pmem.next - pmem.base) / PMEM_SEGMENT;
			pmem.seg[seg] = (uint8_t)(z - pmem.sizes);
			z->cur = pmem.next;
			z->end = pmem.next + PMEM_SEGMENT;
			pmem.next += PMEM_SEGMENT;
		}
		if ((size_t)(z->end - z->cur) >= z->size) {
			p = z->cur;
			z->cur += z->size;
			pmem.carved += z->size;
		}
	}
	pthread_mutex_unlock(&pmem.lock);
	return p;
}

/** sqlite3_mem_methods.xMalloc. */
static void *
pmem_malloc(int n)
{
	struct pmem_size *z = pmem_size_for((size_t)n);
	void *p = z != NULL ? pmem_take(z) : NULL;
	return p != NULL ? p : malloc((size_t)n);
}

/** sqlite3_mem_methods.xFree. */
static void
pmem_free(void *p)
{
	if (!pmem_owns(p)) {
		free(p);
		return;
	}
	struct pmem_size *z = pmem_size_of(p);
	pthread_mutex_lock(&pmem.lock);
	*(void **)p = z->free;
	z->free = p;
	pthread_mutex_unlock(&pmem.lock);
}

/** sqlite3_mem_methods.xSize: the usable size of `p`. */
static int
pmem_size(void *p)
{
	if (p == NULL)
		return 0;
	return pmem_owns(p) ? (int)pmem_size_of(p)->size
	                    : (int)malloc_usable_size(p);
}

/** sqlite3_mem_methods.xRealloc. */
static void *
pmem_realloc(void *p, int n)
{
	if (p == NULL)
		return pmem_malloc(n);
	bool ours = pmem_owns(p);
	if (!ours && pmem_size_for((size_t)n) == NULL)
		return realloc(p, (size_t)n);
	if (ours && pmem_size_of(p)->size == (size_t)n)
		return p;
	void *q = pmem_malloc(n);
	if (q == NULL)
		return NULL;
	size_t old = (size_t)pmem_size(p);
	memcpy(q, p, old < (size_t)n ? old : (size_t)n);
	pmem_free(p);
	return q;
}

/** sqlite3_mem_methods.xRoundup. */
static int
pmem_roundup(int n)
{
	return (n + 7) & ~7;
}

/** sqlite3_mem_methods.xInit: nothing to do. */
static int
pmem_init(void *arg)
{
	(void)arg;
	return SQLITE_OK;
}

/** sqlite3_mem_methods.xShutdown: the blocks stay (see above). */
static void
pmem_shutdown(void *arg)
{
	(void)arg;
}

/** The allocator SQLite is configured with. */
static const sqlite3_mem_methods pmem_methods = {
        pmem_malloc,  pmem_free, pmem_realloc,  pmem_size,
        pmem_roundup, pmem_init, pmem_shutdown, NULL,
};

/**
 * Whether SQLite still has its own allocator, the one in its library: an
 * application that configured another (before its first use of SQLite)
 * keeps it.
 */
static bool
pmem_default_allocator(void)
{
	sqlite3_mem_methods cur;
	Dl_info mine, lib;
	return sqlite3_config(SQLITE_CONFIG_GETMALLOC, &cur) == SQLITE_OK &&
	       cur.xMalloc != NULL && dladdr((void *)cur.xMalloc, &mine) != 0 &&
	       dladdr((void *)sqlite3_libversion_number, &lib) != 0 &&
	       mine.dli_fbase == lib.dli_fbase;
}

/**
 * Reserve the address space for page-sized blocks, aligned to a segment,
 * set the sizes, and have SQLite allocate through pmem_methods. Not in
 * sanitizer builds and under valgrind (sl_alloc_plain()), where SQLite's
 * blocks stay malloc()'s for the tools to see; nor when the application
 * configured an allocator of its own, the space cannot be reserved, or
 * SQLite does not tell its page headers' size (a multiple of 8, so that
 * every block is aligned as SQLite needs).
 */
static void
pmem_configure(void)
{
	int hdr = 0;
	if (sl_alloc_plain() || !pmem_default_allocator() ||
	    sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &hdr) != SQLITE_OK ||
	    hdr <= 0 || hdr > 4096 || hdr % 8 != 0)
		return;
	/* Address space only: segments are committed as they are given
	 * out (pmem_take()). */
	char *a = sl_huge_reserve(PMEM_RESERVE);
	if (a == NULL)
		return;
	for (int i = 0; i < PMEM_PAGES; i++) {
		size_t page = (size_t)4096 << i;
		pmem.sizes[2 * i].size = page;
		pmem.sizes[2 * i + 1].size = page + (size_t)hdr;
	}
	pmem.next = a;
	pmem.base = a;
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &pmem_methods) != SQLITE_OK) {
		pmem.base = NULL;
		sl_huge_release(a, PMEM_RESERVE);
	}
}

size_t
sl_sqlite_page_memory(void)
{
	pthread_mutex_lock(&pmem.lock);
	size_t n = pmem.carved;
	pthread_mutex_unlock(&pmem.lock);
	return n;
}

/* }}} */

/**
 * Set SQLite's process-wide options before its first use: run once.
 *
 * No memory statistics: they take a global mutex on every
 * sqlite3_malloc() and sqlite3_free(), and a statement makes several (a
 * graph load spent 4.6 % of the SQLite thread's instructions in that
 * mutex, docs/performance.md). sluice reads none of them, nor uses the
 * soft heap limit, which needs them. Page-sized blocks from huge pages
 * (pmem_configure()). If the application initialised SQLite already,
 * this is refused (SQLITE_MISUSE) and its settings stay.
 */
static void
sqlite_configure(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	pmem_configure();
}

/** Job: open the database of `c` and set the connection up. */
static int
open_job(void *arg)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	(void)pthread_once(&once, sqlite_configure);
	struct sl_db_conn *c = arg;
	struct sq_conn *s = SQ(c);
	const char *path = c->url + PREFIX_LEN;
	int rc = s->readonly ? open_ro(c, path)
	                     : sqlite3_open_v2(path, &s->db,
	                                       SQLITE_OPEN_READWRITE |
	                                               SQLITE_OPEN_CREATE |
	                                               SQLITE_OPEN_NOMUTEX,
	                                       NULL);
	if (rc != SQLITE_OK) {
		enum sl_errcode code = rc == SQLITE_CANTOPEN ? SL_EIO
		                       : rc == SQLITE_NOMEM  ? SL_EOOM
		                                             : SL_EDB;
		sl_diag_set(code,
		            "%s: cannot open the SQLite database: %s "
		            "(code %d)",
		            c->shown,
		            s->db != NULL ? sqlite3_errmsg(s->db)
		                          : sqlite3_errstr(rc),
		            rc);
		sqlite3_close_v2(s->db);
		s->db = NULL;
		return -1;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	if (s->plain)
		return 0;
	bool memory = path[0] == '\0' || strcmp(path, ":memory:") == 0;
	const char *setup = memory ? "PRAGMA foreign_keys = ON"
	                           : "PRAGMA foreign_keys = ON; "
	                             "PRAGMA journal_mode = WAL";
	rc = sqlite3_exec(s->db, setup, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		sl_diag_set(rc == SQLITE_CANTOPEN ? SL_EIO : SL_EDB,
		            "%s: setting up the SQLite database: %s (code %d)",
		            c->shown, sqlite3_errmsg(s->db),
		            sqlite3_extended_errcode(s->db));
		sqlite3_close_v2(s->db);
		s->db = NULL;
		return -1;
	}
	return 0;
}

/** Job: run one statement (struct query_job). */
static int
query_job(void *arg)
{
	struct query_job *q = arg;
	struct sl_db_conn *c = q->c;
	struct sq_conn *s = SQ(c);
	assert(s->db != NULL);
	s->timed_out = false;
	s->cancelled = false;
	struct sq_stmt *e = stmt_get(c, q->sql);
	if (e == NULL)
		return -1;
	if (bind_all(c, e, q->n, q->params) == 0) {
		deadline_arm(s, q->timeout);
		q->r = stmt_run(c, e);
		deadline_disarm(s);
	}
	sqlite3_reset(e->st);
	/* No pointer into the caller's values may stay behind. */
	sqlite3_clear_bindings(e->st);
	if (!e->cached)
		stmt_free(e);
	return q->r != NULL ? 0 : -1;
}

/** Job: run a script (struct query_job without parameters). */
static int
script_job(void *arg)
{
	struct query_job *q = arg;
	struct sl_db_conn *c = q->c;
	struct sq_conn *s = SQ(c);
	assert(s->db != NULL);
	/* SQLite rolls a transaction back by itself after some errors (an
	 * interrupt, a full disk): the rollback sluice then asks for has
	 * nothing left to do. */
	const char *p = skip_space(q->sql);
	if (c->tx_depth > 0 && sqlite3_get_autocommit(s->db) &&
	    word_is(p, word_len(p), "ROLLBACK"))
		return 0;
	deadline_arm(s, q->timeout);
	int rc = sqlite3_exec(s->db, q->sql, NULL, NULL, NULL);
	deadline_disarm(s);
	return rc == SQLITE_OK ? 0 : db_error(c, q->sql);
}

/** Job: finalize the cached statements of `c`. */
static int
forget_job(void *arg)
{
	struct sl_db_conn *c = arg;
	cache_clear(SQ(c));
	return 0;
}

/** Job: finalize the statements and close the database of `c`. */
static int
close_job(void *arg)
{
	struct sl_db_conn *c = arg;
	struct sq_conn *s = SQ(c);
	cache_clear(s);
	/* v2: nothing is left unfinalized, so this closes now. */
	sqlite3_close_v2(s->db);
	s->db = NULL;
	return 0;
}

/* }}} */
/* {{{ driver */

/** Close and free the state of `c` (any part of it may be missing). */
static void
sq_close(struct sl_db_conn *c)
{
	struct sq_conn *s = SQ(c);
	if (s == NULL)
		return;
	if (s->w != NULL) {
		if (s->db != NULL && sl_task_current() != NULL)
			(void)sl_worker_run(s->w, close_job, c);
		sl_worker_delete(s->w);
		s->w = NULL;
	}
	/* Outside tasks the worker is gone now: close on this thread. */
	if (s->db != NULL)
		close_job(c);
	assert(s->nstmts == 0);
	sl_free(s->buckets);
	sl_buf_destroy(&s->json);
	sl_free(s);
	c->impl = NULL;
}

/**
 * Start the worker of `c` and open the database on it, without the setup
 * statements when `plain`, read-only when `readonly`.
 */
static int
sq_start(struct sl_db_conn *c, bool plain, bool readonly)
{
	assert(c->impl == NULL);
	/* libsqlite3 is opened on first use (sqlite_dl.h); until then there
	 * is nothing to close. */
	if (sl_sqlite_load() != 0)
		return -1;
	if (c->url[PREFIX_LEN] == '\0') {
		sl_diag_set(SL_EINVAL,
		            "%s: no database path (write sqlite:PATH or "
		            "sqlite::memory:)",
		            c->shown);
		return -1;
	}
	struct sq_conn *s = sl_calloc(1, sizeof(*s));
	if (s == NULL) {
		sl_diag_set(SL_EOOM, "out of memory opening %s", c->shown);
		return -1;
	}
	c->impl = s;
	s->plain = plain;
	s->readonly = readonly;
	sl_list_init(&s->lru);
	sl_buf_create(&s->json, JSON_PARAM_MAX);
	s->deadline = -1.0;
	s->cache_max =
	        c->opts.stmt_cache < CACHE_MAX ? c->opts.stmt_cache : CACHE_MAX;
	if (s->cache_max > 0) {
		size_t nb = BUCKETS_MIN;
		while (nb < s->cache_max)
			nb *= 2;
		s->buckets = sl_calloc(nb, sizeof(*s->buckets));
		if (s->buckets == NULL) {
			sl_diag_set(SL_EOOM, "out of memory opening %s",
			            c->shown);
			return -1;
		}
		s->nbuckets = nb;
	}
	s->w = sl_worker_new("sqlite");
	if (s->w == NULL) {
		sl_diag_wrap(sl_diag_code(), "%s: cannot start its thread",
		             c->shown);
		return -1;
	}
	if (sl_worker_run(s->w, open_job, c) != 0)
		return -1;
	c->server_version = sqlite3_libversion_number();
	c->born = sl_clock();
	return 0;
}

/** Start the worker of `c` and open and set up the database on it. */
static int
sq_open(struct sl_db_conn *c)
{
	return sq_start(c, false, false);
}

/** Run one statement on the worker. */
static struct sl_db_result *
sq_query(struct sl_db_conn *c, const char *sql, size_t n,
         const struct sl_value *params)
{
	struct query_job q = {
	        .c = c,
	        .sql = sql,
	        .n = n,
	        .params = params,
	        .timeout = c->opts.query_timeout,
	};
	struct sq_conn *s = SQ(c);
	/* A cancelled task runs no statement, as on PostgreSQL. */
	if (sl_task_testcancel() != 0)
		return NULL;
	atomic_store(&s->cancel, false);
	int rc = sl_worker_run_cancel(s->w, query_job, &q, job_cancel, s);
	atomic_store(&s->cancel, false);
	if (rc != 0) {
		assert(q.r == NULL);
		return NULL;
	}
	return q.r;
}

/** Run a script on the worker. */
static int
sq_script(struct sl_db_conn *c, const char *sql)
{
	struct query_job q = {
	        .c = c,
	        .sql = sql,
	        .timeout = c->opts.query_timeout,
	};
	return sl_worker_run(SQ(c)->w, script_job, &q);
}

/** Finalize the cached statements on the worker. */
static int
sq_forget(struct sl_db_conn *c)
{
	return sl_worker_run(SQ(c)->w, forget_job, c);
}

/** The SQL type of a model column on SQLite. */
static const char *
sq_col_type(const struct sl_column *col)
{
	static const char *const types[] = {
	        [SL_COL_INT] = "INTEGER", [SL_COL_BIGINT] = "INTEGER",
	        [SL_COL_FLOAT] = "REAL",  [SL_COL_BOOL] = "BOOLEAN",
	        [SL_COL_TEXT] = "TEXT",   [SL_COL_BYTES] = "BLOB",
	        [SL_COL_JSON] = "TEXT",   [SL_COL_TIMESTAMP] = "TEXT",
	};
	if ((col->flags & SL_COL_AUTO) != 0)
		return "INTEGER PRIMARY KEY AUTOINCREMENT";
	return types[col->type];
}

/** Bind JSON columns as JSON text and bools as 0/1. */
static int
sq_bind(const struct sl_column *col, const struct sl_value *v,
        struct sl_arena *a, struct sl_value *out)
{
	if (col->type == SL_COL_BOOL && v->type == SL_VBOOL) {
		*out = sl_int(v->u.b ? 1 : 0);
	} else if (col->type == SL_COL_JSON && v->type != SL_VNULL &&
	           v->type != SL_VSTR) {
		struct sl_buf j;
		sl_buf_create(&j, SL_VALUE_LEN_MAX);
		int rc = sl_json_write(&j, v, SL_JSON_INF_OVERFLOW);
		if (rc == 0)
			rc = sl_str_copy(a, j.data, j.len, out);
		sl_buf_destroy(&j);
		return rc;
	}
	return 0;
}

/** Parse JSON columns' text, and turn bool columns' 0/1 into bools. */
static int
sq_decode(const struct sl_column *col, struct sl_value *v, struct sl_arena *a)
{
	if (col->type == SL_COL_BOOL && v->type == SL_VINT) {
		*v = sl_bool(v->u.i != 0);
	} else if (col->type == SL_COL_JSON && v->type == SL_VSTR) {
		struct sl_value j;
		if (sl_json_parse(v->u.s, v->len, a, NULL, col->name, &j) != 0)
			return -1;
		*v = j;
	}
	return 0;
}

/**
 * BEGIN, or BEGIN IMMEDIATE (write lock up front) for a serializable or
 * deferrable one; SQLite has no weaker isolation.
 */
static int
sq_begin(const struct sl_db_conn *c, const struct sl_db_tx_opts *opts,
         char *sql, size_t size)
{
	if (opts != NULL && (opts->isolation == SL_ISO_READ_COMMITTED ||
	                     opts->isolation == SL_ISO_REPEATABLE_READ)) {
		sl_diag_set(SL_EINVAL,
		            "%s: SQLite transactions are always serializable",
		            c->shown);
		return -1;
	}
	snprintf(sql, size, "%s",
	         opts != NULL && !opts->read_only ? "BEGIN IMMEDIATE"
	                                          : "BEGIN");
	return 0;
}

/** SQLite's SQL: JSON as text, json_patch(), the layer aborts. */
static const struct sl_db_dialect sq_dialect = {
        .col_type = sq_col_type,
        .auto_is_pk = true,
        .use_default_sqlite = true,
        .bind = sq_bind,
        .decode = sq_decode,
        .json_cast = "",
        .merge_open = "json_patch(COALESCE(",
        .merge_mid = ", '{}'), ",
        .merge_close = ")",
        .begin = sq_begin,
        .savepoint = "SAVEPOINT",
        .release = "RELEASE SAVEPOINT",
        .rollback_to = "ROLLBACK TO SAVEPOINT",
};

/** The URI prefix of SQLite. */
static const char *const sq_schemes[] = {"sqlite:", NULL};

/** The SQLite driver (registered in drivers.c). */
const struct sl_db_driver sl_sqlite_driver = {
        .name = "sqlite",
        .kind = SL_DB_SQLITE,
        .schemes = sq_schemes,
        .forms = "sqlite:PATH",
        .dialect = &sq_dialect,
        .open = sq_open,
        .close = sq_close,
        .query = sq_query,
        .script = sq_script,
        .forget = sq_forget,
};

/* }}} */
/* {{{ jobs of other modules (sqlite_conn.h) */

/** A caller's job for sl_sqlite_run(). */
struct run_job {
	/** The connection. */
	struct sl_db_conn *c;
	/** What to run. */
	sl_sqlite_job_fn fn;
	/** Its argument. */
	void *arg;
};

/** Job: run the caller's function under the statement deadline. */
static int
run_job(void *arg)
{
	struct run_job *j = arg;
	struct sq_conn *s = SQ(j->c);
	assert(s->db != NULL);
	deadline_arm(s, j->c->opts.query_timeout);
	int rc = j->fn(j->arg, s->db);
	deadline_disarm(s);
	return rc;
}

/** Open `path` for sl_sqlite_open() or, when `readonly`, sl_sqlite_open_ro().
 */
static struct sl_db_conn *
open_plain(const char *path, const struct sl_db_conn_opts *o, bool readonly)
{
	char url[SL_DB_URL_MAX];
	if ((size_t)snprintf(url, sizeof(url), "sqlite:%s", path) >=
	    sizeof(url)) {
		sl_diag_set(SL_ELIMIT, "SQLite path longer than %d bytes",
		            SL_DB_URL_MAX - PREFIX_LEN - 1);
		return NULL;
	}
	struct sl_db_conn *c = sl_db_conn_alloc(url, o);
	if (c == NULL)
		return NULL;
	if (sq_start(c, true, readonly) != 0) {
		sq_close(c);
		sl_db_conn_free(c);
		return NULL;
	}
	return c;
}

struct sl_db_conn *
sl_sqlite_open(const char *path, const struct sl_db_conn_opts *o)
{
	return open_plain(path, o, false);
}

struct sl_db_conn *
sl_sqlite_open_ro(const char *path, const struct sl_db_conn_opts *o)
{
	return open_plain(path, o, true);
}

int
sl_sqlite_run(struct sl_db_conn *c, sl_sqlite_job_fn fn, void *arg)
{
	if (c->drv != &sl_sqlite_driver) {
		sl_diag_set(SL_EINVAL, "%s: not a SQLite connection", c->shown);
		return -1;
	}
	if (sl_db_conn_enter(c, "sl_sqlite_run") != 0)
		return -1;
	struct sq_conn *s = SQ(c);
	struct run_job j = {.c = c, .fn = fn, .arg = arg};
	int rc = -1;
	if (sl_task_testcancel() == 0) {
		atomic_store(&s->cancel, false);
		rc = sl_worker_run_cancel(s->w, run_job, &j, job_cancel, s);
		atomic_store(&s->cancel, false);
	}
	sl_db_conn_leave(c);
	return rc;
}

struct sqlite3_stmt *
sl_sqlite_stmt(struct sl_db_conn *c, const char *sql)
{
	if (SQ(c)->cache_max == 0) {
		sl_diag_set(SL_EINVAL,
		            "%s: sl_sqlite_stmt() needs the statement cache "
		            "(stmt_cache is 0)",
		            c->shown);
		return NULL;
	}
	struct sq_stmt *e = stmt_get(c, sql);
	return e != NULL ? e->st : NULL;
}

int
sl_sqlite_exec(struct sl_db_conn *c, const char *sql)
{
	struct sq_conn *s = SQ(c);
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : db_error(c, sql);
}

int
sl_sqlite_error(struct sl_db_conn *c, const char *sql)
{
	return db_error(c, sql);
}

int
sl_sqlite_function(struct sl_db_conn *c, const char *name, int nargs,
                   sl_sqlite_func_fn fn, void *user)
{
	struct sq_conn *s = SQ(c);
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
	if (sqlite3_create_function(s->db, name, nargs, flags, user, fn, NULL,
	                            NULL) != SQLITE_OK) {
		sl_diag_set(SL_EDB, "%s: registering SQL function %s: %s",
		            c->shown, name, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

/** Job: set the busy timeout (arg: the milliseconds). */
static int
busy_job(void *arg, sqlite3 *db)
{
	sqlite3_busy_timeout(db, *(const int *)arg);
	return 0;
}

int
sl_sqlite_busy_timeout(struct sl_db_conn *c, int ms)
{
	return sl_sqlite_run(c, busy_job, &ms);
}

/* }}} */
