/*
 * sluice: the Cypher statements of the Neo4j store (see cypher.h).
 */
#include "cypher.h"

#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"

const char sl_cy_registry_write[] =
        "UNWIND $types AS t MERGE (r:`" SL_CY_TYPE_LABEL "` {`kind`: "
        "t.`kind`, `type`: t.`type`, `from`: t.`from`, `to`: t.`to`}) "
        "SET r.`keys` = coalesce(r.`keys`, []) + [k IN t.`keys` WHERE NOT "
        "k IN coalesce(r.`keys`, [])]";

const char sl_cy_registry_read[] =
        "MATCH (r:`" SL_CY_TYPE_LABEL "`) RETURN r.`kind` AS `kind`, "
        "r.`type` AS `type`, r.`from` AS `from`, r.`to` AS `to`, "
        "r.`keys` AS `keys`";

const char sl_cy_token_put[] =
        "CREATE (:`" SL_CY_COMMIT_LABEL "` {`token`: $token})";

const char sl_cy_token_get[] = "MATCH (c:`" SL_CY_COMMIT_LABEL
                               "` {`token`: $token}) RETURN count(c) AS n";

const char sl_cy_token_del[] =
        "MATCH (c:`" SL_CY_COMMIT_LABEL "` {`token`: $token}) DELETE c";

const char sl_cy_token_del_prefix[] =
        "MATCH (c:`" SL_CY_COMMIT_LABEL
        "`) WHERE c.`token` STARTS WITH $prefix DELETE c";

int
sl_cy_name(struct sl_buf *out, const char *name, size_t n)
{
	if (n == 0 || memchr(name, '\0', n) != NULL) {
		sl_diag_set(SL_EINVAL,
		            "Cypher: a name may not be empty or hold a NUL "
		            "byte ('%.*s')",
		            (int)(n > 100 ? 100 : n), name);
		return -1;
	}
	if (sl_buf_putc(out, '`') != 0)
		return -1;
	const char *end = name + n;
	while (name < end) {
		const char *bt = memchr(name, '`', (size_t)(end - name));
		size_t run = bt != NULL ? (size_t)(bt - name) + 1
		                        : (size_t)(end - name);
		if (sl_buf_append(out, name, run) != 0 ||
		    (bt != NULL && sl_buf_putc(out, '`') != 0))
			return -1;
		name += run;
	}
	return sl_buf_putc(out, '`');
}

/** sl_cy_name() of a string value. */
static int
vname(struct sl_buf *out, const struct sl_value *v)
{
	if (v->type != SL_VSTR) {
		sl_diag_set(SL_EINVAL,
		            "Cypher: a name must be a string, not %s",
		            sl_vtype_name((enum sl_vtype)v->type));
		return -1;
	}
	return sl_cy_name(out, v->u.s, v->len);
}

/** sl_cy_name() of a C string. */
static int
cname(struct sl_buf *out, const char *s)
{
	return sl_cy_name(out, s, strlen(s));
}

/**
 * Append the key map of a pattern, ` {`a`: params.R.`a`, ...}`, or
 * nothing without keys (`row` names the row member holding the values).
 */
static int
key_map(struct sl_buf *out, const struct sl_value *keys, uint32_t n,
        const char *row)
{
	if (n == 0)
		return 0;
	if (sl_buf_puts(out, " {") != 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if ((i > 0 && sl_buf_puts(out, ", ") != 0) ||
		    vname(out, &keys[i]) != 0 ||
		    sl_buf_printf(out, ": params.%s.", row) != 0 ||
		    vname(out, &keys[i]) != 0)
			return -1;
	return sl_buf_putc(out, '}');
}

/**
 * Append ` WHERE var.`a` OP params.R.`a` AND ...` (OP `=`, or `=~` when
 * `fuzzy`), or nothing without keys.
 */
static int
key_where(struct sl_buf *out, const char *var, const struct sl_value *keys,
          uint32_t n, bool fuzzy, const char *row)
{
	for (uint32_t i = 0; i < n; i++)
		if (sl_buf_puts(out, i == 0 ? " WHERE " : " AND ") != 0 ||
		    sl_buf_printf(out, "%s.", var) != 0 ||
		    vname(out, &keys[i]) != 0 ||
		    sl_buf_printf(out, " %s params.%s.", fuzzy ? "=~" : "=",
		                  row) != 0 ||
		    vname(out, &keys[i]) != 0)
			return -1;
	return 0;
}

bool
sl_cy_node_counts_writes(const struct sl_cy_node *shape)
{
	return shape->rule == SL_NODE_FUZZY;
}

bool
sl_cy_rel_counts_writes(const struct sl_cy_rel *shape)
{
	return shape->from.fuzzy || shape->to.fuzzy;
}

/** Append the RETURN clause of a write statement. */
static int
returns(struct sl_buf *out, bool writes)
{
	return sl_buf_puts(out, writes ? " RETURN count(DISTINCT params.i) AS "
	                                 "writes, count(*) AS matches"
	                               : " RETURN count(*) AS matches");
}

int
sl_cy_node_stmt(struct sl_buf *out, const struct sl_cy_node *shape)
{
	sl_buf_reset(out);
	bool merge = shape->rule == SL_NODE_EAGER;
	int rc =
	        sl_buf_puts(out, merge ? "UNWIND $rows AS params MERGE (node:"
	                               : "UNWIND $rows AS params MATCH (node:");
	rc = rc || vname(out, &shape->type) != 0;
	if (merge)
		rc = rc || key_map(out, shape->keys, shape->n_keys, "k") != 0 ||
		     sl_buf_putc(out, ')') != 0;
	else
		rc = rc || sl_buf_putc(out, ')') != 0 ||
		     key_where(out, "node", shape->keys, shape->n_keys,
		               shape->rule == SL_NODE_FUZZY, "k") != 0;
	for (uint32_t i = 0; i < shape->n_labels && rc == 0; i++)
		rc = sl_buf_puts(out, i == 0 ? " SET node:" : ":") != 0 ||
		     vname(out, &shape->labels[i]) != 0;
	rc = rc || sl_buf_puts(out, " SET node += params.p") != 0 ||
	     returns(out, sl_cy_node_counts_writes(shape)) != 0;
	return rc ? -1 : 0;
}

/** Append ` MATCH (var:`T`) WHERE ...` for relationship end `e`. */
static int
rel_end(struct sl_buf *out, const char *var, const struct sl_cy_end *e,
        const char *row)
{
	if (sl_buf_printf(out, " MATCH (%s:", var) != 0 ||
	    vname(out, &e->type) != 0 || sl_buf_putc(out, ')') != 0)
		return -1;
	return key_where(out, var, e->keys, e->n_keys, e->fuzzy, row);
}

int
sl_cy_rel_stmt(struct sl_buf *out, const struct sl_cy_rel *shape)
{
	sl_buf_reset(out);
	int rc = sl_buf_puts(out, "UNWIND $rows AS params") != 0 ||
	         rel_end(out, "from_node", &shape->from, "f") != 0 ||
	         rel_end(out, "to_node", &shape->to, "t") != 0 ||
	         sl_buf_puts(out, shape->rule == SL_REL_CREATE
	                                  ? " CREATE (from_node)-[rel:"
	                                  : " MERGE (from_node)-[rel:") != 0 ||
	         vname(out, &shape->type) != 0 ||
	         key_map(out, shape->keys, shape->n_keys, "k") != 0 ||
	         sl_buf_puts(out, "]->(to_node) SET rel += params.p") != 0 ||
	         returns(out, sl_cy_rel_counts_writes(shape)) != 0;
	return rc ? -1 : 0;
}

int
sl_cy_ttl(struct sl_buf *out, bool nodes, const char *type)
{
	sl_buf_reset(out);
	int rc =
	        sl_buf_puts(out, nodes ? "MATCH (x:" : "MATCH ()-[x:") != 0 ||
	        cname(out, type) != 0 ||
	        sl_buf_puts(out, nodes ? ")" : "]->()") != 0 ||
	        sl_buf_puts(out, " WHERE x.last_ingested_at < $cutoff CALL { "
	                         "WITH x ") != 0 ||
	        sl_buf_puts(out, nodes ? "DETACH DELETE x" : "DELETE x") != 0 ||
	        sl_buf_puts(out, " } IN TRANSACTIONS OF $n ROWS") != 0;
	return rc ? -1 : 0;
}

int
sl_cy_constraint_name(struct sl_buf *out, const char *type)
{
	sl_buf_reset(out);
	return sl_buf_printf(out, "%s_node_key", type);
}

/** qsort() order of C strings, bytewise. */
static int
by_bytes(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
sl_cy_constraint(struct sl_buf *out, const char *type, const char *const *keys,
                 uint32_t n, bool enterprise)
{
	sl_buf_reset(out);
	if (n == 0) {
		sl_diag_set(SL_EINVAL, "Cypher: a key constraint needs keys");
		return -1;
	}
	const char **sorted = sl_malloc(n * sizeof(*sorted));
	if (sorted == NULL) {
		sl_diag_set(SL_EOOM, "out of memory writing a constraint");
		return -1;
	}
	memcpy(sorted, keys, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), by_bytes);
	struct sl_buf name;
	sl_buf_create(&name, 4096);
	int rc = sl_cy_constraint_name(&name, type) != 0 ||
	         sl_buf_puts(out, "CREATE CONSTRAINT ") != 0 ||
	         sl_cy_name(out, name.data, name.len) != 0 ||
	         sl_buf_puts(out, " IF NOT EXISTS FOR (n:") != 0 ||
	         cname(out, type) != 0 || sl_buf_puts(out, ") REQUIRE (") != 0;
	for (uint32_t i = 0; i < n && rc == 0; i++)
		rc = sl_buf_puts(out, i == 0 ? "n." : ", n.") != 0 ||
		     cname(out, sorted[i]) != 0;
	rc = rc || sl_buf_puts(out, enterprise ? ") IS NODE KEY"
	                                       : ") IS UNIQUE") != 0;
	sl_buf_destroy(&name);
	sl_free(sorted);
	return rc ? -1 : 0;
}

int
sl_cy_index_name(struct sl_buf *out, const char *type, const char *prop)
{
	sl_buf_reset(out);
	return sl_buf_printf(out, "%s_%s_additional_index", type, prop);
}

int
sl_cy_index(struct sl_buf *out, bool rel, const char *type, const char *prop)
{
	sl_buf_reset(out);
	struct sl_buf name;
	sl_buf_create(&name, 4096);
	int rc = sl_cy_index_name(&name, type, prop) != 0 ||
	         sl_buf_puts(out, "CREATE INDEX ") != 0 ||
	         sl_cy_name(out, name.data, name.len) != 0 ||
	         sl_buf_puts(out, rel ? " IF NOT EXISTS FOR ()-[r:"
	                              : " IF NOT EXISTS FOR (n:") != 0 ||
	         cname(out, type) != 0 ||
	         sl_buf_puts(out, rel ? "]-() ON (r." : ") ON (n.") != 0 ||
	         cname(out, prop) != 0 || sl_buf_putc(out, ')') != 0;
	sl_buf_destroy(&name);
	return rc ? -1 : 0;
}

int
sl_cy_export_nodes(struct sl_buf *out, const char *type)
{
	sl_buf_reset(out);
	int rc = sl_buf_puts(out, "MATCH (n:") != 0 || cname(out, type) != 0 ||
	         sl_buf_puts(out, ") RETURN labels(n) AS labels, "
	                          "properties(n) AS props") != 0;
	return rc ? -1 : 0;
}

int
sl_cy_export_rels(struct sl_buf *out, const char *type, const char *from,
                  const char *to)
{
	sl_buf_reset(out);
	int rc = sl_buf_puts(out, "MATCH (a:") != 0 || cname(out, from) != 0 ||
	         sl_buf_puts(out, ")-[r:") != 0 || cname(out, type) != 0 ||
	         sl_buf_puts(out, "]->(b:") != 0 || cname(out, to) != 0 ||
	         sl_buf_puts(out, ") RETURN properties(a) AS from_props, "
	                          "properties(b) AS to_props, properties(r) "
	                          "AS props") != 0;
	return rc ? -1 : 0;
}
