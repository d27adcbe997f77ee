/*
 * sluice: routing for "neo4j://" URIs, and bookmarks.
 *
 * A routing table per (router address, database) is kept for the process,
 * as its TTL allows: a connection of a routed URI asks a router with
 * ROUTE when there is no fresh table, then connects to a WRITE member
 * (round robin over them). A NotALeader or ForbiddenOnReadOnlyDatabase
 * reply, or a writer that cannot be reached, drops the table so that the
 * next connection asks again; the routers the last table named are asked
 * before the URI's own host.
 *
 * Bookmarks (from COMMIT, or an auto-commit statement's summary) are kept
 * per database in the same entries, for every URI, and sent with BEGIN
 * and auto-commit RUN, so that what one connection committed is seen by
 * the next, whichever cluster member it reaches.
 *
 * The tables are shared by every loop thread of the process (a mutex
 * guards them); RT_MAX entries at most, the oldest reused.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bolt.h"
#include "sluice/diag.h"
#include "sluice/log.h"
#include "sluice/task.h"

/** Entries kept. */
#define RT_MAX 16
/** Members of each role kept per table. */
#define RT_MEMBERS 8
/** Longest "host:port" kept. */
#define ADDR_MAX (BOLT_HOST_MAX + 8)

/** A routing table and the bookmark of one database. */
struct rt_entry {
	/** "host:port/db" of the URI it belongs to, or "" when unused. */
	char key[ADDR_MAX + BOLT_NAME_MAX + 2];
	/** When the table expires (sl_clock()), or 0 when there is none. */
	double expires;
	/** Writers. */
	char writers[RT_MEMBERS][ADDR_MAX];
	/** Number of writers. */
	int nwriters;
	/** Routers. */
	char routers[RT_MEMBERS][ADDR_MAX];
	/** Number of routers. */
	int nrouters;
	/** Next writer to hand out. */
	unsigned next;
	/** Last bookmark, or "". */
	char bookmark[BOLT_BOOKMARK_MAX];
	/** When last used, for reuse of the oldest. */
	double used;
};

/** The entries. */
static struct rt_entry table[RT_MAX];
/** Guards `table`. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/** The key of `u`. */
static void
key_of(const struct bolt_uri *u, char *key, size_t size)
{
	snprintf(key, size, "%s:%d/%s", u->host, u->port, u->db);
}

/** The entry of `u` (made if missing). Called with the lock held. */
static struct rt_entry *
entry(const struct bolt_uri *u)
{
	char key[sizeof(table[0].key)];
	key_of(u, key, sizeof(key));
	struct rt_entry *oldest = &table[0];
	for (int i = 0; i < RT_MAX; i++) {
		if (strcmp(table[i].key, key) == 0) {
			table[i].used = sl_clock();
			return &table[i];
		}
		if (table[i].used < oldest->used)
			oldest = &table[i];
	}
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->key, sizeof(oldest->key), "%s", key);
	oldest->used = sl_clock();
	return oldest;
}

void
bolt_bookmark_set(const struct bolt_uri *u, const char *bookmark)
{
	pthread_mutex_lock(&lock);
	snprintf(entry(u)->bookmark, BOLT_BOOKMARK_MAX, "%s", bookmark);
	pthread_mutex_unlock(&lock);
}

const char *
bolt_bookmark_get(const struct bolt_uri *u)
{
	/* A copy per thread: the entry may change under another thread. */
	static _Thread_local char copy[BOLT_BOOKMARK_MAX];
	pthread_mutex_lock(&lock);
	snprintf(copy, sizeof(copy), "%s", entry(u)->bookmark);
	pthread_mutex_unlock(&lock);
	return copy;
}

void
bolt_route_forget(const struct bolt_uri *u)
{
	pthread_mutex_lock(&lock);
	entry(u)->expires = 0;
	pthread_mutex_unlock(&lock);
}

/** Split "host:port" (or "[v6]:port") into host and port. 0, or -1. */
static int
split_addr(const char *addr, char *host, size_t size, int *port)
{
	const char *colon = strrchr(addr, ':');
	if (colon == NULL)
		return -1;
	const char *h = addr;
	size_t hn = (size_t)(colon - addr);
	if (hn >= 2 && h[0] == '[' && h[hn - 1] == ']') {
		h++;
		hn -= 2;
	}
	if (hn == 0 || hn >= size)
		return -1;
	memcpy(host, h, hn);
	host[hn] = '\0';
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

/** Copy the addresses of `servers` with role `role` to out[]. */
static int
members(const struct sl_ps *servers, const char *role,
        char out[RT_MEMBERS][ADDR_MAX])
{
	int n = 0;
	for (uint32_t i = 0; i < servers->len; i++) {
		const struct sl_ps *s = &servers->u.items[i];
		const struct sl_ps *r = sl_ps_map_get(s, "role");
		const struct sl_ps *a = sl_ps_map_get(s, "addresses");
		if (r == NULL || r->type != SL_PS_STRING ||
		    r->len != strlen(role) ||
		    memcmp(r->u.s, role, r->len) != 0 || a == NULL ||
		    a->type != SL_PS_LIST)
			continue;
		for (uint32_t k = 0; k < a->len && n < RT_MEMBERS; k++) {
			const struct sl_ps *ad = &a->u.items[k];
			if (ad->type == SL_PS_STRING && ad->len < ADDR_MAX) {
				memcpy(out[n], ad->u.s, ad->len);
				out[n][ad->len] = '\0';
				n++;
			}
		}
	}
	return n;
}

/** Ask the router at host:port for the table of `u`'s database. */
static int
ask(const struct bolt_uri *u, const char *shown, const char *host, int port,
    double deadline, const char *agent, struct rt_entry *out)
{
	struct bolt b;
	bolt_create(&b, shown);
	b.uri = *u;
	int rc = -1;
	if (bolt_open(&b, host, port, deadline, agent) != 0)
		goto done;
	b.deadline = deadline;
	char addr[ADDR_MAX];
	snprintf(addr, sizeof(addr), "%s:%d", u->host, u->port);
	struct sl_buf *o = &b.msg;
	int w = bolt_begin_msg(&b, 3, BOLT_ROUTE);
	w |= sl_ps_put_map(o, 1);
	w |= sl_ps_put_cstr(o, "address");
	w |= sl_ps_put_cstr(o, addr);
	const char *bm = bolt_bookmark_get(u);
	w |= sl_ps_put_list(o, bm[0] != '\0');
	if (bm[0] != '\0')
		w |= sl_ps_put_cstr(o, bm);
	w |= sl_ps_put_map(o, u->db[0] != '\0');
	if (u->db[0] != '\0') {
		w |= sl_ps_put_cstr(o, "db");
		w |= sl_ps_put_cstr(o, u->db);
	}
	if (w != 0 || bolt_end_msg(&b) != 0 || bolt_net_flush(&b) != 0)
		goto done;
	struct sl_ps m;
	if (bolt_recv(&b, &m) != 0)
		goto done;
	if (m.tag == BOLT_FAILURE) {
		bolt_failure(&b, &m, "ROUTE");
		goto done;
	}
	const struct sl_ps *rt = m.tag == BOLT_SUCCESS && m.len >= 1
	                                 ? sl_ps_map_get(&m.u.items[0], "rt")
	                                 : NULL;
	const struct sl_ps *ttl = rt != NULL ? sl_ps_map_get(rt, "ttl") : NULL;
	const struct sl_ps *servers =
	        rt != NULL ? sl_ps_map_get(rt, "servers") : NULL;
	if (ttl == NULL || ttl->type != SL_PS_INT || servers == NULL ||
	    servers->type != SL_PS_LIST) {
		sl_diag_set(SL_EPARSE,
		            "%s: the routing table from %s:%d lacks ttl or "
		            "servers",
		            shown, host, port);
		goto done;
	}
	out->nwriters = members(servers, "WRITE", out->writers);
	out->nrouters = members(servers, "ROUTE", out->routers);
	out->expires = sl_clock() + (double)(ttl->u.i > 0 ? ttl->u.i : 0);
	if (out->nwriters == 0) {
		sl_diag_set(SL_EDB,
		            "%s: the routing table from %s:%d names no writer "
		            "for database '%s' (no leader now?)",
		            shown, host, port, u->db[0] ? u->db : "(default)");
		goto done;
	}
	rc = 0;
done:
	bolt_close(&b);
	bolt_destroy(&b);
	return rc;
}

int
bolt_route_writer(const struct bolt_uri *u, const char *shown, double deadline,
                  const char *agent, char *host, size_t host_size, int *port)
{
	pthread_mutex_lock(&lock);
	struct rt_entry *e = entry(u);
	if (e->expires > sl_clock() && e->nwriters > 0) {
		int rc = split_addr(
		        e->writers[e->next++ % (unsigned)e->nwriters], host,
		        host_size, port);
		pthread_mutex_unlock(&lock);
		if (rc == 0)
			return 0;
	} else {
		pthread_mutex_unlock(&lock);
	}
	/* The routers of the last table first, then the URI's host. */
	char routers[RT_MEMBERS + 1][ADDR_MAX];
	int nr = 0;
	pthread_mutex_lock(&lock);
	e = entry(u);
	for (int i = 0; i < e->nrouters; i++)
		snprintf(routers[nr++], ADDR_MAX, "%s", e->routers[i]);
	pthread_mutex_unlock(&lock);
	snprintf(routers[nr++], ADDR_MAX, "%s:%d", u->host, u->port);
	struct rt_entry fresh;
	for (int i = 0; i < nr; i++) {
		char rh[BOLT_HOST_MAX];
		int rp;
		if (split_addr(routers[i], rh, sizeof(rh), &rp) != 0)
			continue;
		memset(&fresh, 0, sizeof(fresh));
		if (ask(u, shown, rh, rp, deadline, agent, &fresh) != 0) {
			if (i + 1 < nr)
				sl_log_debug(
				        "%s: router %s: %s", shown, routers[i],
				        sl_diag_last() ? sl_diag_last()->msg
				                       : "");
			continue;
		}
		pthread_mutex_lock(&lock);
		e = entry(u);
		e->expires = fresh.expires;
		e->nwriters = fresh.nwriters;
		e->nrouters = fresh.nrouters;
		memcpy(e->writers, fresh.writers, sizeof(e->writers));
		memcpy(e->routers, fresh.routers, sizeof(e->routers));
		int rc = split_addr(
		        e->writers[e->next++ % (unsigned)e->nwriters], host,
		        host_size, port);
		pthread_mutex_unlock(&lock);
		if (rc != 0)
			sl_diag_set(SL_EPARSE,
			            "%s: bad writer address in the routing "
			            "table",
			            shown);
		return rc;
	}
	return -1;
}
