/*
 * `sluice run` of the compat airports pipeline into SQLite against a
 * hand-written C loader of the same rows.
 *
 *   sqlite_load_vs_direct  wall seconds of `sluice run airports.yaml
 *                          --target sqlite:DIR/sluice.db --no-progress
 *                          --json` on a 200,000-row input made by airports.h
 *                          (value) against the wall seconds of the direct
 *                          loader below writing the same node and
 *                          relationship rows (baseline). Lower is better;
 *                          ratio = value / baseline (the target is at most
 *                          1.5).
 *
 * The direct loader is what one would write by hand for this one
 * pipeline: it reads the CSV with airports.h's streaming reader, builds the
 * key and property JSON with snprintf-style appends, keeps a hash map from
 * key text to node id per node type (no SELECTs), and inserts through
 * prepared statements in transactions of 100,000 input rows, into a
 * database whose schema was created by the store's own
 * sl_store_sqlite_open() (so tables and indexes are identical), with the
 * same PRAGMAs (WAL, synchronous = NORMAL, foreign_keys = OFF, 64 MiB
 * cache). Like the store loading an empty graph, it drops the index
 * sluice_rel_in first and builds it after the last COMMIT (with a 2 MiB
 * cache, as the store does). Its time runs from opening the CSV to
 * building that index and sqlite3_close(); creating the empty schema is
 * not timed.
 *
 * Per input row it writes what sluice writes (sluice export shows it):
 *
 *   node Airport {"identifier": ident lowercased}
 *        props {"elevation_in_feet","iata_code","last_ingested_at",
 *               "last_ingested_by_airports_at","local_code","name",
 *               "was_ingested_by_airports": true}  (CSV text values)
 *   node Country {"code": iso_country lowercased}  \  props: the two
 *   node Region  {"code": iso_region lowercased}   /  timestamps, the mark
 *   rel  WITHIN Airport -> Country, WITHIN Airport -> Region (same props)
 *
 * Each side runs twice, alternately, into a fresh database; the best wall
 * time counts. sluice must exit 0, and afterwards both databases must hold
 * the same rows: per node and relationship type the count and the summed
 * lengths of key and props (the timestamps have a fixed width), and for
 * three sample airports their props and both relationships, timestamps
 * aside. Otherwise the benchmark fails.
 *
 * usage: bench_sqlite_load [path/to/sluice [path/to/airport-codes.csv]]
 *
 * With SLUICE_BENCH_KEEP=1 in the environment the temporary directory (the
 * input, the pipeline and both databases) is kept.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "airports.h"
#include "bench.h"
#include "graph/sqlite_store.h"
#include "sluice/task.h"
#include "spawn.h"

/** Runs of each side; the best counts. */
#define RUNS 3
/**
 * Input rows. 200,000 keep three rounds of both sides to about a minute
 * (1,000,000 took several minutes for two rounds).
 */
#define ROWS 200000UL
/** Input rows per transaction of the direct loader. */
#define COMMIT_EVERY 100000UL
/** The pipeline file is PIPELINE.yaml, which names the ingestion marks. */
#define PIPELINE "airports"

static const char bench[] = "bench_sqlite_load";

/* --- Growable text ------------------------------------------------------ */

struct sbuf {
	char *p;
	size_t len, cap;
};

static int
sb_grow(struct sbuf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	size_t cap = b->cap > 0 ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (p == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int
sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (sb_grow(b, n) != 0)
		return -1;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

static int
sb_puts(struct sbuf *b, const char *s)
{
	return sb_put(b, s, strlen(s));
}

/**
 * Append `s` as a JSON string: quotes, backslashes and control characters
 * escaped (\n \r \t \b \f, others \u00XX), every other byte, UTF-8
 * included, as is. With `lower`, ASCII letters are lowercased (the input
 * is ASCII; sluice lowercases Unicode letters too).
 */
static int
sb_json_str(struct sbuf *b, const char *s, size_t n, bool lower)
{
	/* At most 6 bytes per input byte, plus the quotes. */
	if (sb_grow(b, 6 * n + 2) != 0)
		return -1;
	char *o = b->p + b->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20) {
			*o++ = '\\';
			switch (c) {
			case '\n':
				*o++ = 'n';
				break;
			case '\r':
				*o++ = 'r';
				break;
			case '\t':
				*o++ = 't';
				break;
			case '\b':
				*o++ = 'b';
				break;
			case '\f':
				*o++ = 'f';
				break;
			default:
				o += snprintf(o, 6, "u%04x", c);
				break;
			}
		} else {
			if (lower && c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
	return 0;
}

/* --- Key text to node id ------------------------------------------------ */

/** A chunk of key text storage. */
struct chunk {
	struct chunk *next;
	size_t used;
	char data[];
};

#define CHUNK_SIZE (1u << 20)

/** An open-addressing hash map from key text to node id. */
struct idmap {
	struct ent {
		const char *key;
		uint64_t hash;
		size_t len;
		int64_t id;
	} * t;
	size_t cap, n;
	struct chunk *chunks;
};

static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static int
idmap_resize(struct idmap *m, size_t cap)
{
	struct ent *t = calloc(cap, sizeof(*t));
	if (t == NULL)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->t[i].key == NULL)
			continue;
		size_t j = m->t[i].hash & (cap - 1);
		while (t[j].key != NULL)
			j = (j + 1) & (cap - 1);
		t[j] = m->t[i];
	}
	free(m->t);
	m->t = t;
	m->cap = cap;
	return 0;
}

/** A copy of `k` in the map's storage, or NULL. */
static const char *
idmap_store(struct idmap *m, const char *k, size_t n)
{
	struct chunk *c = m->chunks;
	if (c == NULL || c->used + n > CHUNK_SIZE) {
		size_t size = n > CHUNK_SIZE ? n : CHUNK_SIZE;
		if ((c = malloc(sizeof(*c) + size)) == NULL)
			return NULL;
		c->next = m->chunks;
		c->used = 0;
		m->chunks = c;
	}
	char *p = c->data + c->used;
	memcpy(p, k, n);
	c->used += n;
	return p;
}

/**
 * The entry of key `k`: found (its id > 0) or added with id 0, for the
 * caller to set. NULL if out of memory.
 */
static struct ent *
idmap_get(struct idmap *m, const char *k, size_t n)
{
	if (2 * (m->n + 1) > m->cap &&
	    idmap_resize(m, m->cap > 0 ? 2 * m->cap : 1024) != 0)
		return NULL;
	uint64_t h = fnv1a(k, n);
	size_t j = h & (m->cap - 1);
	for (; m->t[j].key != NULL; j = (j + 1) & (m->cap - 1))
		if (m->t[j].hash == h && m->t[j].len == n &&
		    memcmp(m->t[j].key, k, n) == 0)
			return &m->t[j];
	const char *copy = idmap_store(m, k, n);
	if (copy == NULL)
		return NULL;
	m->t[j] = (struct ent){.key = copy, .hash = h, .len = n, .id = 0};
	m->n++;
	return &m->t[j];
}

static void
idmap_free(struct idmap *m)
{
	free(m->t);
	while (m->chunks != NULL) {
		struct chunk *c = m->chunks;
		m->chunks = c->next;
		free(c);
	}
	memset(m, 0, sizeof(*m));
}

/* --- The direct loader -------------------------------------------------- */

/** Room for a sample airport's key text. */
#define SAMPLE_MAX 128

/** What the direct loader wrote. */
struct load_stats {
	uint64_t rows, airports, countries, regions, rels;
	/** Keys of three sample airports: the first, middle and last row. */
	char sample[3][SAMPLE_MAX];
};

static int
db_fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "%s: direct loader: %s: %s\n", bench, what,
	        db != NULL ? sqlite3_errmsg(db) : "out of memory");
	return -1;
}

/** The SQL of the direct loader. */
static const char sql_node[] =
        "INSERT INTO node(type, key, labels, props) VALUES (?1, ?2, '[]', ?3) "
        "ON CONFLICT(type, key) DO NOTHING";
static const char sql_node_merge[] =
        "UPDATE node SET props = json_patch(props, ?2) WHERE id = ?1";
static const char sql_rel[] =
        "INSERT INTO rel(type, from_id, to_id, key, props, multi) "
        "VALUES ('WITHIN', ?1, ?2, '{}', ?3, 0) "
        "ON CONFLICT(from_id, type, to_id, key, multi) DO NOTHING";

/** The loader's state. */
struct loader {
	sqlite3 *db;
	sqlite3_stmt *node, *merge, *rel;
	struct idmap airports, countries, regions;
	struct sbuf key, props;
	/** Props of Country and Region nodes and of the relationships. */
	struct sbuf marks;
	/** `"last_ingested_at":TS,"last_ingested_by_airports_at":TS`. */
	struct sbuf stamps;
};

/** Run a statement that returns no rows and reset it. */
static int
step(struct loader *l, sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : db_fail(l->db, what);
}

/**
 * The id of node `type` with key l->key, inserted with `props` if new
 * (props NULL: l->marks). An existing Airport gets `props` merged in, as
 * sluice's EAGER rule does; an existing Country or Region already has the
 * same marks. 0 or -1.
 */
static int
node_id(struct loader *l, struct idmap *m, const char *type,
        const struct sbuf *props, int64_t *id)
{
	struct ent *e = idmap_get(m, l->key.p, l->key.len);
	if (e == NULL)
		return db_fail(NULL, "hash map");
	if (e->id > 0) {
		*id = e->id;
		if (props == NULL)
			return 0;
		sqlite3_bind_int64(l->merge, 1, e->id);
		sqlite3_bind_text(l->merge, 2, props->p, (int)props->len,
		                  SQLITE_STATIC);
		return step(l, l->merge, "merging a node");
	}
	if (props == NULL)
		props = &l->marks;
	sqlite3_bind_text(l->node, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(l->node, 2, l->key.p, (int)l->key.len, SQLITE_STATIC);
	sqlite3_bind_text(l->node, 3, props->p, (int)props->len, SQLITE_STATIC);
	if (step(l, l->node, "inserting a node") != 0)
		return -1;
	if (sqlite3_changes(l->db) != 1) {
		fprintf(stderr, "%s: direct loader: node %s %.*s exists\n",
		        bench, type, (int)l->key.len, l->key.p);
		return -1;
	}
	*id = e->id = sqlite3_last_insert_rowid(l->db);
	return 0;
}

static int
rel(struct loader *l, int64_t from, int64_t to)
{
	sqlite3_bind_int64(l->rel, 1, from);
	sqlite3_bind_int64(l->rel, 2, to);
	sqlite3_bind_text(l->rel, 3, l->marks.p, (int)l->marks.len,
	                  SQLITE_STATIC);
	return step(l, l->rel, "inserting a relationship");
}

/** l->key = {"<name>":<field lowercased>}. */
static int
make_key(struct loader *l, const char *name, const struct airports_csv *c,
         int col)
{
	l->key.len = 0;
	return sb_puts(&l->key, name) != 0 ||
	                       sb_json_str(&l->key, airports_csv_field(c, col),
	                                   airports_csv_flen(c, col),
	                                   true) != 0 ||
	                       sb_put(&l->key, "}", 1) != 0
	               ? -1
	               : 0;
}

/** Append `,"<name>":<field>` (name with its leading comma and quotes). */
static int
prop(struct sbuf *b, const char *name, const struct airports_csv *c, int col)
{
	return sb_puts(b, name) != 0 ||
	                       sb_json_str(b, airports_csv_field(c, col),
	                                   airports_csv_flen(c, col),
	                                   false) != 0
	               ? -1
	               : 0;
}

/**
 * Write the graph rows of the current CSV record. With `sample`, copy the
 * Airport key text there (SAMPLE_MAX bytes, NUL-terminated).
 */
static int
load_row(struct loader *l, const struct airports_csv *c, char *sample)
{
	struct sbuf *p = &l->props;
	p->len = 0;
	if (prop(p, "{\"elevation_in_feet\":", c, AIRPORTS_ELEVATION_FT) ||
	    prop(p, ",\"iata_code\":", c, AIRPORTS_IATA_CODE) ||
	    sb_put(p, ",", 1) || sb_put(p, l->stamps.p, l->stamps.len) ||
	    prop(p, ",\"local_code\":", c, AIRPORTS_LOCAL_CODE) ||
	    prop(p, ",\"name\":", c, AIRPORTS_NAME) ||
	    sb_puts(p, ",\"was_ingested_by_" PIPELINE "\":true}"))
		return db_fail(NULL, "building props");
	int64_t airport, country, region;
	if (make_key(l, "{\"identifier\":", c, AIRPORTS_IDENT) != 0)
		return db_fail(NULL, "building a key");
	if (sample != NULL)
		snprintf(sample, SAMPLE_MAX, "%.*s", (int)l->key.len, l->key.p);
	if (node_id(l, &l->airports, "Airport", p, &airport) != 0 ||
	    make_key(l, "{\"code\":", c, AIRPORTS_ISO_COUNTRY) != 0 ||
	    node_id(l, &l->countries, "Country", NULL, &country) != 0 ||
	    make_key(l, "{\"code\":", c, AIRPORTS_ISO_REGION) != 0 ||
	    node_id(l, &l->regions, "Region", NULL, &region) != 0 ||
	    rel(l, airport, country) != 0 || rel(l, airport, region) != 0)
		return -1;
	return 0;
}

/** The current time as sluice writes it: 2026-01-02T03:04:05.678901Z. */
static void
timestamp(char *buf, size_t size)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000));
}

static int
exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK
	               ? 0
	               : db_fail(db, sql);
}

/** The body of direct_load(), on an open CSV and database. */
static int
load(struct loader *l, struct airports_csv *c, struct load_stats *st)
{
	char ts[64];
	timestamp(ts, sizeof(ts));
	struct sbuf *s = &l->stamps, *mk = &l->marks;
	if (sb_puts(s, "\"last_ingested_at\":\"") || sb_puts(s, ts) ||
	    sb_puts(s, "\",\"last_ingested_by_" PIPELINE "_at\":\"") ||
	    sb_puts(s, ts) || sb_puts(s, "\"") || sb_puts(mk, "{") ||
	    sb_put(mk, s->p, s->len) ||
	    sb_puts(mk, ",\"was_ingested_by_" PIPELINE "\":true}"))
		return db_fail(NULL, "building props");
	/* The index of relationships by target is built at the end, from
	 * the table, as the store builds it after a load into an empty
	 * table. */
	if (exec(l->db, "PRAGMA journal_mode = WAL; "
	                "PRAGMA synchronous = NORMAL; "
	                "PRAGMA foreign_keys = OFF; "
	                "PRAGMA cache_size = -65536; "
	                "DROP INDEX sluice_rel_in;") != 0)
		return -1;
	if (sqlite3_prepare_v2(l->db, sql_node, -1, &l->node, NULL) ||
	    sqlite3_prepare_v2(l->db, sql_node_merge, -1, &l->merge, NULL) ||
	    sqlite3_prepare_v2(l->db, sql_rel, -1, &l->rel, NULL))
		return db_fail(l->db, "preparing");
	int rc = airports_csv_next(c);
	if (rc != 1 || !airports_is_header(c)) {
		fprintf(stderr, "%s: direct loader: no airports header\n",
		        bench);
		return -1;
	}
	if (exec(l->db, "BEGIN") != 0)
		return -1;
	while ((rc = airports_csv_next(c)) == 1) {
		if (c->nf != AIRPORTS_NCOLS) {
			fprintf(stderr,
			        "%s: direct loader: row %" PRIu64
			        " has %d fields, expected %d\n",
			        bench, st->rows + 1, c->nf, AIRPORTS_NCOLS);
			return -1;
		}
		uint64_t i = st->rows++;
		int si = i == 0          ? 0
		         : i == ROWS / 2 ? 1
		         : i + 1 == ROWS ? 2
		                         : -1;
		if (load_row(l, c, si >= 0 ? st->sample[si] : NULL) != 0)
			return -1;
		if (st->rows % COMMIT_EVERY == 0 &&
		    exec(l->db, "COMMIT; BEGIN") != 0)
			return -1;
	}
	if (rc != 0) {
		fprintf(stderr,
		        "%s: direct loader: malformed CSV after row "
		        "%" PRIu64 "\n",
		        bench, st->rows);
		return -1;
	}
	if (exec(l->db, "COMMIT; PRAGMA cache_size = -2048; "
	                "CREATE INDEX sluice_rel_in ON rel(to_id, type);") != 0)
		return -1;
	st->airports = l->airports.n;
	st->countries = l->countries.n;
	st->regions = l->regions.n;
	st->rels = 2 * st->rows;
	return 0;
}

/**
 * Load `csv` into the graph database `db` (its schema already created).
 * 0 with the wall time in *secs, or -1 (reported).
 */
static int
direct_load(const char *csv, const char *db, struct load_stats *st,
            double *secs)
{
	memset(st, 0, sizeof(*st));
	struct loader l;
	memset(&l, 0, sizeof(l));
	struct airports_csv c;
	uint64_t t0 = bench_now_ns();
	FILE *f = fopen(csv, "rb");
	if (f == NULL) {
		perror(csv);
		return -1;
	}
	int rc = airports_csv_init(&c, f);
	if (rc != 0)
		db_fail(NULL, "reader");
	else if (sqlite3_open_v2(db, &l.db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	                         NULL) != SQLITE_OK)
		rc = db_fail(l.db, db);
	else
		rc = load(&l, &c, st);
	sqlite3_finalize(l.node);
	sqlite3_finalize(l.merge);
	sqlite3_finalize(l.rel);
	if (sqlite3_close(l.db) != SQLITE_OK)
		rc = db_fail(l.db, "closing");
	airports_csv_free(&c);
	fclose(f);
	*secs = (double)(bench_now_ns() - t0) / 1e9;
	idmap_free(&l.airports);
	idmap_free(&l.countries);
	idmap_free(&l.regions);
	free(l.key.p);
	free(l.props.p);
	free(l.marks.p);
	free(l.stamps.p);
	return rc;
}

/* --- Comparing the two databases ---------------------------------------- */

/** Append every row of `sql`'s result to `b`, columns as text. */
static int
query_text(sqlite3 *db, const char *sql, const char *arg, struct sbuf *b)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return -1;
	if (arg != NULL)
		sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(q); i++) {
			const char *t = (const char *)sqlite3_column_text(q, i);
			if (sb_puts(b, i > 0 ? " " : "") != 0 ||
			    sb_puts(b, t != NULL ? t : "NULL") != 0)
				rc = SQLITE_NOMEM;
		}
		if (sb_put(b, "\n", 1) != 0)
			rc = SQLITE_NOMEM;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

/** Props without the timestamps. */
#define BARE(col)                                     \
	"json_remove(" col ", '$.last_ingested_at', " \
	"'$.last_ingested_by_" PIPELINE "_at')"

/**
 * The summary of the graph in `path` (NUL-terminated, in `b`): per type
 * the counts and summed lengths, then the sample airports. 0 or -1.
 */
static int
summarize(const char *path, const struct load_stats *st, struct sbuf *b)
{
	b->len = 0;
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = query_text(db,
		                "SELECT 'node', type, count(*), "
		                "sum(length(key)), sum(length(props)), "
		                "sum(labels <> '[]') FROM node GROUP BY type "
		                "ORDER BY type",
		                NULL, b);
	if (rc == SQLITE_OK)
		rc = query_text(
		        db,
		        "SELECT 'rel', type, count(*), "
		        "sum(length(key)), sum(length(props)), "
		        "sum(multi > 0) FROM rel GROUP BY type ORDER BY type",
		        NULL, b);
	for (int i = 0; i < 3 && rc == SQLITE_OK; i++) {
		rc = query_text(
		        db,
		        "SELECT key, " BARE("props") " FROM node WHERE type = "
		                                     "'Airport' AND key = ?1",
		        st->sample[i], b);
		if (rc == SQLITE_OK)
			rc = query_text(
			        db,
			        "SELECT r.type, t.type, t.key, " BARE(
			                "r.props") " FROM rel AS r "
			                           "JOIN node AS f ON f.id = "
			                           "r.from_id "
			                           "JOIN node AS t ON t.id = "
			                           "r.to_id WHERE f.type = "
			                           "'Airport' AND f.key = ?1 "
			                           "ORDER BY t.type",
			        st->sample[i], b);
	}
	if (rc != SQLITE_OK)
		fprintf(stderr, "%s: reading %s: %s\n", bench, path,
		        db != NULL ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_close(db);
	return rc == SQLITE_OK && sb_put(b, "", 1) == 0 ? 0 : -1;
}

/* --- The benchmark ------------------------------------------------------ */

/** Remove a database and its WAL files. */
static void
remove_db(const char *path)
{
	char p[300];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

/** Task: open and close the store at `arg` (a path), creating it. */
static int
create_main(void *arg)
{
	struct sl_store_sqlite *s = sl_store_sqlite_open(arg);
	if (s == NULL)
		return -1;
	sl_store_sqlite_close(s);
	return 0;
}

/** A fresh database at `path` with the store's schema. 0 or -1. */
static int
create_db(const char *path)
{
	remove_db(path);
	struct sl_loop *loop = sl_loop_new(NULL);
	int rc = -1;
	if (loop != NULL) {
		rc = sl_loop_run_main(loop, "create", create_main,
		                      (void *)path);
		sl_loop_delete(loop);
	}
	if (rc != 0) {
		bench_fail(bench, "creating the direct loader's database");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *sluice = argc > 1 ? argv[1] : SLUICE_BIN;
	const char *fixture = argc > 2 ? argv[2] : AIRPORTS_FIXTURE;
	char dir[] = "/tmp/sluice-bench-sqlite-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	char data[256], pipeline[256], errlog[256], sdb[256], ddb[256],
	        target[300];
	snprintf(data, sizeof(data), "%s/airport-codes.csv", dir);
	snprintf(pipeline, sizeof(pipeline), "%s/" PIPELINE ".yaml", dir);
	snprintf(errlog, sizeof(errlog), "%s/stderr.log", dir);
	snprintf(sdb, sizeof(sdb), "%s/sluice.db", dir);
	snprintf(ddb, sizeof(ddb), "%s/direct.db", dir);
	snprintf(target, sizeof(target), "sqlite:%s", sdb);
	const char *keep_env = getenv("SLUICE_BENCH_KEEP");
	bool keep = keep_env != NULL && strcmp(keep_env, "1") == 0;
	bool keep_log = false;
	int status = 1;
	struct sbuf sum_s = {0}, sum_d = {0};
	struct load_stats st;
	struct airports_tmpl tmpl;
	size_t bytes = 0;
	if (airports_tmpl_load(&tmpl, fixture) != 0) {
		fprintf(stderr, "%s: cannot read the rows of %s\n", bench,
		        fixture);
		goto out;
	}
	if (airports_generate_n(&tmpl, data, ROWS, &bytes) != 0 ||
	    airports_write_pipeline(pipeline, data) != 0) {
		perror("bench_sqlite_load: generating the input");
		goto out;
	}
	printf("# input: %lu rows, %.1f MB, from %zu template rows of %s\n",
	       ROWS, (double)bytes / 1e6, tmpl.n, tmpl.from);
	fflush(stdout);

	char *args[] = {(char *)sluice, "run",           pipeline, "--target",
	                target,         "--no-progress", "--json", NULL};
	double best_s = -1, best_d = -1;
	for (int rep = 1; rep <= RUNS; rep++) {
		double t;
		remove_db(sdb);
		if (bench_spawn(args, errlog, &t, NULL) != 0) {
			fprintf(stderr,
			        "%s: `%s run %s --target %s` failed (its log: "
			        "%s)\n",
			        bench, sluice, pipeline, target, errlog);
			keep_log = true;
			goto out;
		}
		printf("# sluice run %d: %.3f s\n", rep, t);
		fflush(stdout);
		if (best_s < 0 || t < best_s)
			best_s = t;
		if (create_db(ddb) != 0 || direct_load(data, ddb, &st, &t) != 0)
			goto out;
		printf("# direct loader run %d: %.3f s\n", rep, t);
		fflush(stdout);
		if (best_d < 0 || t < best_d)
			best_d = t;
	}

	uint64_t nodes = st.airports + st.countries + st.regions;
	if (st.rows != ROWS || st.airports != ROWS) {
		fprintf(stderr,
		        "%s: the direct loader read %" PRIu64
		        " rows and %" PRIu64
		        " distinct airports, expected %lu\n",
		        bench, st.rows, st.airports, ROWS);
		goto out;
	}
	if (summarize(sdb, &st, &sum_s) != 0 ||
	    summarize(ddb, &st, &sum_d) != 0)
		goto out;
	/* The direct database must hold what the loader counted ... */
	uint64_t a = 0, co = 0, re = 0, r = 0;
	int counted = sscanf(sum_d.p,
	                     "node Airport %" SCNu64 " %*s %*s 0\nnode Country "
	                     "%" SCNu64 " %*s %*s 0\nnode Region %" SCNu64
	                     " %*s %*s 0\nrel WITHIN %" SCNu64,
	                     &a, &co, &re, &r);
	/* 4 lines of counts, 3 sample airports with 2 relationships each. */
	int lines = 0;
	for (const char *q = sum_d.p; *q != '\0'; q++)
		lines += *q == '\n';
	if (counted != 4 || a != st.airports || co != st.countries ||
	    re != st.regions || r != st.rels || lines != 4 + 3 * 3) {
		fprintf(stderr,
		        "%s: the direct database does not hold what the loader "
		        "wrote:\n%s",
		        bench, sum_d.p);
		keep = true;
		goto out;
	}
	/* ... and sluice's the same rows. */
	if (strcmp(sum_s.p, sum_d.p) != 0) {
		fprintf(stderr,
		        "%s: sluice's graph differs from the direct loader's\n"
		        "sluice (%s):\n%s\ndirect (%s):\n%s\n",
		        bench, sdb, sum_s.p, ddb, sum_d.p);
		keep = true;
		goto out;
	}
	printf("# graph: %" PRIu64 " nodes (%" PRIu64 " Airport, %" PRIu64
	       " Country, %" PRIu64 " Region), %" PRIu64
	       " WITHIN relationships; both databases hold the same rows "
	       "(counts, key and props lengths by type, 3 sample airports)\n",
	       nodes, st.airports, st.countries, st.regions, st.rels);
	bench_result("sqlite_load_vs_direct", best_s, "s", best_d,
	             best_s / best_d, 3);
	printf("# lower is better: value = sluice wall seconds, baseline = "
	       "direct C loader wall seconds (best of %d each); ratio = "
	       "value / baseline, target <= 1.5\n",
	       RUNS);
	printf("# sluice: %.0f input rows/s, %.0f graph rows/s; direct: "
	       "%.0f input rows/s, %.0f graph rows/s (graph rows = %" PRIu64
	       " nodes + relationships)\n",
	       (double)st.rows / best_s, (double)(nodes + st.rels) / best_s,
	       (double)st.rows / best_d, (double)(nodes + st.rels) / best_d,
	       nodes + st.rels);
	status = 0;
out:
	free(sum_s.p);
	free(sum_d.p);
	airports_tmpl_free(&tmpl);
	if (keep) {
		fprintf(stderr, "%s: files kept in %s\n", bench, dir);
		return status;
	}
	unlink(data);
	unlink(pipeline);
	remove_db(sdb);
	remove_db(ddb);
	if (keep_log) {
		fprintf(stderr, "%s: log kept in %s\n", bench, errlog);
	} else {
		unlink(errlog);
		rmdir(dir);
	}
	return status;
}
