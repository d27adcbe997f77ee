/*
 * sluice: the schema container and its printers (see sluice/schema.h).
 * What an Interpreter describes is added by sl_schema_expand(), next to
 * the interpretations in src/interp/interpret.c.
 */
#include "sluice/schema.h"

#include <errno.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/json.h"

/** A copy of `s`, or NULL with SL_EOOM. */
static char *
dup(const char *s)
{
	char *d = sl_strndup(s, strlen(s));
	if (d == NULL)
		sl_diag_set(SL_EOOM, "out of memory building the schema");
	return d;
}

void
sl_names_destroy(struct sl_names *l)
{
	for (uint32_t i = 0; i < l->n; i++)
		sl_free(l->v[i]);
	sl_free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
sl_names_add(struct sl_names *l, const char *name)
{
	for (uint32_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return 0;
	char **v = sl_realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL) {
		sl_diag_set(SL_EOOM, "out of memory building the schema");
		return -1;
	}
	l->v = v;
	if ((v[l->n] = dup(name)) == NULL)
		return -1;
	l->n++;
	return 0;
}

void
sl_schema_destroy(struct sl_schema *s)
{
	for (uint32_t i = 0; i < s->n_nodes; i++) {
		struct sl_schema_node *n = &s->nodes[i];
		sl_free(n->type);
		sl_names_destroy(&n->keys);
		sl_names_destroy(&n->props);
		sl_names_destroy(&n->indexes);
		sl_names_destroy(&n->labels);
	}
	for (uint32_t i = 0; i < s->n_rels; i++) {
		sl_free(s->rels[i].type);
		sl_names_destroy(&s->rels[i].keys);
		sl_names_destroy(&s->rels[i].props);
	}
	for (uint32_t i = 0; i < s->n_adjs; i++) {
		sl_free(s->adjs[i].from);
		sl_free(s->adjs[i].rel);
		sl_free(s->adjs[i].to);
	}
	sl_free(s->nodes);
	sl_free(s->rels);
	sl_free(s->adjs);
	memset(s, 0, sizeof(*s));
}

struct sl_schema_node *
sl_schema_node(struct sl_schema *s, const char *type)
{
	for (uint32_t i = 0; i < s->n_nodes; i++)
		if (strcmp(s->nodes[i].type, type) == 0)
			return &s->nodes[i];
	struct sl_schema_node *v =
	        sl_realloc(s->nodes, (s->n_nodes + 1) * sizeof(*v));
	if (v == NULL) {
		sl_diag_set(SL_EOOM, "out of memory building the schema");
		return NULL;
	}
	s->nodes = v;
	struct sl_schema_node *n = &v[s->n_nodes];
	memset(n, 0, sizeof(*n));
	if ((n->type = dup(type)) == NULL)
		return NULL;
	s->n_nodes++;
	return n;
}

struct sl_schema_rel *
sl_schema_rel(struct sl_schema *s, const char *type)
{
	for (uint32_t i = 0; i < s->n_rels; i++)
		if (strcmp(s->rels[i].type, type) == 0)
			return &s->rels[i];
	struct sl_schema_rel *v =
	        sl_realloc(s->rels, (s->n_rels + 1) * sizeof(*v));
	if (v == NULL) {
		sl_diag_set(SL_EOOM, "out of memory building the schema");
		return NULL;
	}
	s->rels = v;
	struct sl_schema_rel *r = &v[s->n_rels];
	memset(r, 0, sizeof(*r));
	if ((r->type = dup(type)) == NULL)
		return NULL;
	s->n_rels++;
	return r;
}

int
sl_schema_adj(struct sl_schema *s, const char *from, const char *rel,
              const char *to)
{
	for (uint32_t i = 0; i < s->n_adjs; i++) {
		const struct sl_schema_adj *a = &s->adjs[i];
		if (strcmp(a->from, from) == 0 && strcmp(a->rel, rel) == 0 &&
		    strcmp(a->to, to) == 0)
			return 0;
	}
	struct sl_schema_adj *v =
	        sl_realloc(s->adjs, (s->n_adjs + 1) * sizeof(*v));
	if (v == NULL) {
		sl_diag_set(SL_EOOM, "out of memory building the schema");
		return -1;
	}
	s->adjs = v;
	struct sl_schema_adj *a = &v[s->n_adjs];
	a->from = dup(from);
	a->rel = dup(rel);
	a->to = dup(to);
	if (a->from == NULL || a->rel == NULL || a->to == NULL) {
		sl_free(a->from);
		sl_free(a->rel);
		sl_free(a->to);
		return -1;
	}
	s->n_adjs++;
	return 0;
}

/* --- printing ----------------------------------------------------------- */

/** Whether `name` is one of the automatic properties. */
static bool
automatic(const char *name)
{
	return strncmp(name, "last_ingested", 13) == 0 ||
	       strncmp(name, "was_ingested_by_", 16) == 0;
}

/** "a, b, c" (or "-") for the plain format. */
static void
plain_list(FILE *out, const char *what, const struct sl_names *l)
{
	fprintf(out, "    %s: ", what);
	if (l->n == 0)
		fprintf(out, "-");
	for (uint32_t i = 0; i < l->n; i++)
		fprintf(out, "%s%s", i > 0 ? ", " : "", l->v[i]);
	fprintf(out, "\n");
}

/** The plain format. */
static void
print_plain(const struct sl_schema *s, FILE *out)
{
	fprintf(out, "Node types:\n");
	for (uint32_t i = 0; i < s->n_nodes; i++) {
		const struct sl_schema_node *n = &s->nodes[i];
		fprintf(out, "  %s\n", n->type);
		plain_list(out, "keys", &n->keys);
		plain_list(out, "properties", &n->props);
		if (n->indexes.n > 0)
			plain_list(out, "indexes", &n->indexes);
		if (n->labels.n > 0)
			plain_list(out, "additional types", &n->labels);
	}
	fprintf(out, "Relationship types:\n");
	for (uint32_t i = 0; i < s->n_rels; i++) {
		const struct sl_schema_rel *r = &s->rels[i];
		fprintf(out, "  %s\n", r->type);
		plain_list(out, "keys", &r->keys);
		plain_list(out, "properties", &r->props);
	}
	fprintf(out, "Adjacencies:\n");
	for (uint32_t i = 0; i < s->n_adjs; i++)
		fprintf(out, "  (%s)-[%s]->(%s)\n", s->adjs[i].from,
		        s->adjs[i].rel, s->adjs[i].to);
}

/** Append a JSON string. */
static int
json_str(struct sl_buf *b, const char *s)
{
	struct sl_value v = sl_str_ref(s, (uint32_t)strlen(s));
	return sl_json_write(b, &v, 0);
}

/** Append `"what":[names]`. */
static int
json_names(struct sl_buf *b, const char *what, const struct sl_names *l)
{
	if (sl_buf_printf(b, ",\"%s\":[", what) != 0)
		return -1;
	for (uint32_t i = 0; i < l->n; i++)
		if ((i > 0 && sl_buf_putc(b, ',') != 0) ||
		    json_str(b, l->v[i]) != 0)
			return -1;
	return sl_buf_putc(b, ']');
}

/** The JSON format, built in `b`. */
static int
print_json(const struct sl_schema *s, struct sl_buf *b)
{
	int rc = sl_buf_puts(b, "{\"nodes\":[");
	for (uint32_t i = 0; i < s->n_nodes && rc == 0; i++) {
		const struct sl_schema_node *n = &s->nodes[i];
		rc = (i > 0 && sl_buf_putc(b, ',') != 0) ||
		     sl_buf_puts(b, "{\"type\":") != 0 ||
		     json_str(b, n->type) != 0 ||
		     json_names(b, "keys", &n->keys) != 0 ||
		     json_names(b, "properties", &n->props) != 0 ||
		     json_names(b, "indexes", &n->indexes) != 0 ||
		     json_names(b, "labels", &n->labels) != 0 ||
		     sl_buf_putc(b, '}') != 0;
	}
	rc = rc || sl_buf_puts(b, "],\"relationships\":[") != 0;
	for (uint32_t i = 0; i < s->n_rels && rc == 0; i++) {
		const struct sl_schema_rel *r = &s->rels[i];
		rc = (i > 0 && sl_buf_putc(b, ',') != 0) ||
		     sl_buf_puts(b, "{\"type\":") != 0 ||
		     json_str(b, r->type) != 0 ||
		     json_names(b, "keys", &r->keys) != 0 ||
		     json_names(b, "properties", &r->props) != 0 ||
		     sl_buf_putc(b, '}') != 0;
	}
	rc = rc || sl_buf_puts(b, "],\"adjacencies\":[") != 0;
	for (uint32_t i = 0; i < s->n_adjs && rc == 0; i++) {
		const struct sl_schema_adj *a = &s->adjs[i];
		rc = (i > 0 && sl_buf_putc(b, ',') != 0) ||
		     sl_buf_puts(b, "{\"from\":") != 0 ||
		     json_str(b, a->from) != 0 ||
		     sl_buf_puts(b, ",\"relationship\":") != 0 ||
		     json_str(b, a->rel) != 0 ||
		     sl_buf_puts(b, ",\"to\":") != 0 ||
		     json_str(b, a->to) != 0 || sl_buf_putc(b, '}') != 0;
	}
	rc = rc || sl_buf_puts(b, "]}\n") != 0;
	return rc ? -1 : 0;
}

/** Write `s` escaped for a Graphviz record label. */
static void
dot_escape(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (strchr("{}|<>\"\\", *s) != NULL)
			fputc('\\', out);
		fputc(*s, out);
	}
}

/** The DOT format: node types as records (keys first), edges per
 * adjacency. Automatic properties are left out of the picture. */
static void
print_dot(const struct sl_schema *s, FILE *out)
{
	fprintf(out, "digraph schema {\n"
	             "  graph [rankdir=LR, fontname=\"Helvetica\"];\n"
	             "  node [shape=record, fontname=\"Helvetica\", "
	             "fontsize=11];\n"
	             "  edge [fontname=\"Helvetica\", fontsize=10];\n");
	for (uint32_t i = 0; i < s->n_nodes; i++) {
		const struct sl_schema_node *n = &s->nodes[i];
		fprintf(out, "  n%u [label=\"{", i);
		dot_escape(out, n->type);
		for (uint32_t k = 0; k < n->labels.n; k++) {
			fputc(':', out);
			dot_escape(out, n->labels.v[k]);
		}
		fprintf(out, "|");
		for (uint32_t k = 0; k < n->keys.n; k++) {
			dot_escape(out, n->keys.v[k]);
			fprintf(out, " (key)\\l");
		}
		for (uint32_t k = 0; k < n->props.n; k++) {
			if (automatic(n->props.v[k]))
				continue;
			dot_escape(out, n->props.v[k]);
			fprintf(out, "\\l");
		}
		fprintf(out, "}\"];\n");
	}
	for (uint32_t i = 0; i < s->n_adjs; i++) {
		const struct sl_schema_adj *a = &s->adjs[i];
		uint32_t f = 0, t = 0;
		for (uint32_t k = 0; k < s->n_nodes; k++) {
			if (strcmp(s->nodes[k].type, a->from) == 0)
				f = k;
			if (strcmp(s->nodes[k].type, a->to) == 0)
				t = k;
		}
		fprintf(out, "  n%u -> n%u [label=\"", f, t);
		for (const char *c = a->rel; *c != '\0'; c++) {
			if (*c == '"' || *c == '\\')
				fputc('\\', out);
			fputc(*c, out);
		}
		fprintf(out, "\"];\n");
	}
	fprintf(out, "}\n");
}

int
sl_schema_print(const struct sl_schema *s, enum sl_schema_format format,
                FILE *out)
{
	if (format == SL_SCHEMA_JSON) {
		struct sl_buf b;
		sl_buf_create(&b, (size_t)64 << 20);
		int rc = print_json(s, &b);
		if (rc == 0 && b.len > 0 &&
		    fwrite(b.data, 1, b.len, out) != b.len)
			rc = -1;
		sl_buf_destroy(&b);
		if (rc != 0)
			return -1;
	} else if (format == SL_SCHEMA_DOT) {
		print_dot(s, out);
	} else {
		print_plain(s, out);
	}
	if (fflush(out) != 0 || ferror(out)) {
		sl_diag_set_errno("cannot write the schema");
		return -1;
	}
	return 0;
}
