/*
 * sluice: JSON schemas inferred from samples, and validation (see
 * jschema.h).
 */
#include "jschema.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/json.h"

/** Type slots of a schema node (bits). */
enum {
	T_NULL = 1u << 0,    /**< null */
	T_BOOL = 1u << 1,    /**< boolean */
	T_NUMERIC = 1u << 2, /**< integer or number (one genson slot) */
	T_STR = 1u << 3,     /**< string */
	T_ARR = 1u << 4,     /**< array */
	T_OBJ = 1u << 5,     /**< object */
};

/** Longest instance shown in a validation message, in bytes. */
#define SHOWN_VALUE_MAX 60

/** One property of an object schema. */
struct prop {
	/** Key (malloc'd, not NUL-terminated). */
	char *key;
	/** Key length. */
	uint32_t len;
	/** Whether every object sample had the key. */
	bool required;
	/** The schema of its values. */
	struct sl_jschema *schema;
};

/** A schema node: the types seen at one place, and their sub-schemas. */
struct sl_jschema {
	/** Type slots seen (T_*). */
	unsigned types;
	/** Whether a non-integral number was seen ("number", not "integer"). */
	bool fractional;
	/** Object samples seen. */
	uint64_t objects;
	/** Items of the arrays seen (NULL until an array was seen). */
	struct sl_jschema *items;
	/** Properties, in the order first seen. */
	struct prop *props;
	/** Number of `props`. */
	uint32_t n_props;
	/** Capacity of `props`. */
	uint32_t cap_props;
	/** Arrays and objects in the order first seen (T_ARR, T_OBJ). */
	unsigned complex_order[2];
	/** Entries of `complex_order`. */
	unsigned n_complex;
};

struct sl_jschema *
sl_jschema_new(void)
{
	struct sl_jschema *s = sl_calloc(1, sizeof(*s));
	if (s == NULL)
		sl_diag_set(SL_EOOM, "out of memory for a schema");
	return s;
}

void
sl_jschema_delete(struct sl_jschema *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->n_props; i++) {
		sl_free(s->props[i].key);
		sl_jschema_delete(s->props[i].schema);
	}
	sl_free(s->props);
	sl_jschema_delete(s->items);
	sl_free(s);
}

/** Whether number text `v` (SL_VNUMBER) is written as an integer. */
static bool
text_is_integer(const struct sl_value *v)
{
	for (uint32_t i = 0; i < v->len; i++)
		if (v->u.s[i] == '.' || v->u.s[i] == 'e' || v->u.s[i] == 'E')
			return false;
	return true;
}

/** The property `key` of `s`, or NULL. */
static struct prop *
find_prop(const struct sl_jschema *s, const char *key, uint32_t len)
{
	for (uint32_t i = 0; i < s->n_props; i++)
		if (s->props[i].len == len &&
		    (len == 0 || memcmp(s->props[i].key, key, len) == 0))
			return &s->props[i];
	return NULL;
}

/** Add property `key` (not yet there) to `s`. NULL with SL_EOOM. */
static struct prop *
add_prop(struct sl_jschema *s, const char *key, uint32_t len, bool required)
{
	if (s->n_props == s->cap_props) {
		uint32_t cap = s->cap_props != 0 ? s->cap_props * 2 : 8;
		struct prop *p = sl_realloc(s->props, cap * sizeof(*p));
		if (p == NULL)
			goto oom;
		s->props = p;
		s->cap_props = cap;
	}
	struct prop *p = &s->props[s->n_props];
	p->key = sl_malloc(len != 0 ? len : 1);
	p->schema = sl_jschema_new();
	if (p->key == NULL || p->schema == NULL) {
		sl_free(p->key);
		sl_jschema_delete(p->schema);
		goto oom;
	}
	if (len != 0)
		memcpy(p->key, key, len);
	p->len = len;
	p->required = required;
	s->n_props++;
	return p;
oom:
	sl_diag_set(SL_EOOM, "out of memory for a schema");
	return NULL;
}

/** Whether member `i` of object `v` is the last with its key. */
static bool
last_of_key(const struct sl_value *v, uint32_t i)
{
	const struct sl_member *m = &v->u.members[i];
	return sl_object_get(v, m->key, m->key_len) == &m->val;
}

/** Mark a complex slot seen, remembering the order. */
static void
see_complex(struct sl_jschema *s, unsigned t)
{
	if ((s->types & t) == 0)
		s->complex_order[s->n_complex++] = t;
}

/** sl_jschema_add() at nesting `depth`. */
static int
add_at(struct sl_jschema *s, const struct sl_value *v, unsigned depth)
{
	if (depth > SL_JSCHEMA_DEPTH_MAX)
		return 0;
	switch ((enum sl_vtype)v->type) {
	case SL_VNULL:
		s->types |= T_NULL;
		return 0;
	case SL_VBOOL:
		s->types |= T_BOOL;
		return 0;
	case SL_VINT:
		s->types |= T_NUMERIC;
		return 0;
	case SL_VDOUBLE:
		s->types |= T_NUMERIC;
		s->fractional = true;
		return 0;
	case SL_VNUMBER:
		s->types |= T_NUMERIC;
		if (!text_is_integer(v))
			s->fractional = true;
		return 0;
	case SL_VSTR:
		s->types |= T_STR;
		return 0;
	case SL_VARRAY:
		see_complex(s, T_ARR);
		s->types |= T_ARR;
		if (s->items == NULL && (s->items = sl_jschema_new()) == NULL)
			return -1;
		for (uint32_t i = 0; i < v->len; i++)
			if (add_at(s->items, &v->u.items[i], depth + 1) != 0)
				return -1;
		return 0;
	case SL_VOBJECT:
		see_complex(s, T_OBJ);
		s->types |= T_OBJ;
		/* Keys missing here are no longer required. */
		for (uint32_t i = 0; i < s->n_props && s->objects > 0; i++)
			if (sl_object_get(v, s->props[i].key,
			                  s->props[i].len) == NULL)
				s->props[i].required = false;
		for (uint32_t i = 0; i < v->len; i++) {
			const struct sl_member *m = &v->u.members[i];
			if (!last_of_key(v, i))
				continue;
			struct prop *p = find_prop(s, m->key, m->key_len);
			if (p == NULL &&
			    (p = add_prop(s, m->key, m->key_len,
			                  s->objects == 0)) == NULL)
				return -1;
			if (add_at(p->schema, &m->val, depth + 1) != 0)
				return -1;
		}
		s->objects++;
		return 0;
	}
	return 0;
}

int
sl_jschema_add(struct sl_jschema *s, const struct sl_value *v)
{
	return add_at(s, v, 0);
}

/* --- writing ------------------------------------------------------------ */

/** Whether the array slot of `s` writes as a bare {"type":"array"}. */
static bool
array_simple(const struct sl_jschema *s)
{
	return s->items == NULL || s->items->types == 0;
}

/** Whether the object slot of `s` writes as a bare {"type":"object"}. */
static bool
object_simple(const struct sl_jschema *s)
{
	return s->n_props == 0;
}

/** Append a JSON string of `n` bytes at `p`. */
static int
put_str(struct sl_buf *out, const char *p, uint32_t n)
{
	struct sl_value v = sl_str_ref(p, n);
	return sl_json_write(out, &v, 0);
}

static int write_node(const struct sl_jschema *s, struct sl_buf *out);

/** Append the members of one object slot (after its '{', no '}'). */
static int
write_object_body(const struct sl_jschema *s, struct sl_buf *out)
{
	if (sl_buf_puts(out, "\"type\":\"object\"") != 0)
		return -1;
	if (s->n_props == 0)
		return 0;
	if (sl_buf_puts(out, ",\"properties\":{") != 0)
		return -1;
	for (uint32_t i = 0; i < s->n_props; i++) {
		const struct prop *p = &s->props[i];
		if ((i > 0 && sl_buf_putc(out, ',') != 0) ||
		    put_str(out, p->key, p->len) != 0 ||
		    sl_buf_putc(out, ':') != 0 ||
		    write_node(p->schema, out) != 0)
			return -1;
	}
	if (sl_buf_putc(out, '}') != 0)
		return -1;
	/* "required": the always-present keys, sorted (bytewise, which is
	 * code point order for UTF-8, as Python sorts). */
	bool any = false;
	const struct prop *last = NULL;
	for (;;) {
		const struct prop *next = NULL;
		for (uint32_t i = 0; i < s->n_props; i++) {
			const struct prop *p = &s->props[i];
			if (!p->required)
				continue;
			uint32_t n = p->len;
			int after = 1;
			if (last != NULL) {
				int c = memcmp(p->key, last->key,
				               n < last->len ? n : last->len);
				after = c > 0 || (c == 0 && n > last->len);
			}
			if (!after)
				continue;
			if (next != NULL) {
				int c = memcmp(p->key, next->key,
				               n < next->len ? n : next->len);
				if (c > 0 || (c == 0 && n >= next->len))
					continue;
			}
			next = p;
		}
		if (next == NULL)
			break;
		if (sl_buf_puts(out, any ? "," : ",\"required\":[") != 0 ||
		    put_str(out, next->key, next->len) != 0)
			return -1;
		any = true;
		last = next;
	}
	return any ? sl_buf_putc(out, ']') : 0;
}

/** Append the members of one array slot (after its '{', no '}'). */
static int
write_array_body(const struct sl_jschema *s, struct sl_buf *out)
{
	if (sl_buf_puts(out, "\"type\":\"array\"") != 0)
		return -1;
	if (array_simple(s))
		return 0;
	return sl_buf_puts(out, ",\"items\":") != 0 ||
	                       write_node(s->items, out) != 0
	               ? -1
	               : 0;
}

/**
 * Append the members of `s` (no braces), as genson's SchemaNode writes
 * them: one "type" (a name or a sorted list of the simple ones), a lone
 * array or object slot's own members, or "anyOf".
 */
static int
write_members(const struct sl_jschema *s, struct sl_buf *out)
{
	/* Simple types, in sorted order of their names. */
	const char *simple[7];
	unsigned n_simple = 0;
	if ((s->types & T_ARR) && array_simple(s))
		simple[n_simple++] = "array";
	if (s->types & T_BOOL)
		simple[n_simple++] = "boolean";
	if ((s->types & T_NUMERIC) && !s->fractional)
		simple[n_simple++] = "integer";
	if (s->types & T_NULL)
		simple[n_simple++] = "null";
	if ((s->types & T_NUMERIC) && s->fractional)
		simple[n_simple++] = "number";
	if ((s->types & T_OBJ) && object_simple(s))
		simple[n_simple++] = "object";
	if (s->types & T_STR)
		simple[n_simple++] = "string";
	unsigned complex[2], n_cx = 0;
	for (unsigned i = 0; i < s->n_complex; i++) {
		unsigned t = s->complex_order[i];
		if ((t == T_ARR && !array_simple(s)) ||
		    (t == T_OBJ && !object_simple(s)))
			complex[n_cx++] = t;
	}
	unsigned parts = (n_simple > 0) + n_cx;
	if (parts == 0)
		return 0;
	if (parts > 1 && sl_buf_puts(out, "\"anyOf\":[") != 0)
		return -1;
	bool first = true;
	if (n_simple > 0) {
		if (parts > 1 && sl_buf_putc(out, '{') != 0)
			return -1;
		if (sl_buf_puts(out, "\"type\":") != 0 ||
		    (n_simple > 1 && sl_buf_putc(out, '[') != 0))
			return -1;
		for (unsigned i = 0; i < n_simple; i++)
			if (sl_buf_printf(out, "%s\"%s\"", i > 0 ? "," : "",
			                  simple[i]) != 0)
				return -1;
		if ((n_simple > 1 && sl_buf_putc(out, ']') != 0) ||
		    (parts > 1 && sl_buf_putc(out, '}') != 0))
			return -1;
		first = false;
	}
	for (unsigned i = 0; i < n_cx; i++) {
		if ((!first && sl_buf_putc(out, ',') != 0) ||
		    (parts > 1 && sl_buf_putc(out, '{') != 0))
			return -1;
		if ((complex[i] == T_ARR ? write_array_body(s, out)
		                         : write_object_body(s, out)) != 0)
			return -1;
		if (parts > 1 && sl_buf_putc(out, '}') != 0)
			return -1;
		first = false;
	}
	return parts > 1 ? sl_buf_putc(out, ']') : 0;
}

/** Append `s` as a JSON object. */
static int
write_node(const struct sl_jschema *s, struct sl_buf *out)
{
	return sl_buf_putc(out, '{') != 0 || write_members(s, out) != 0 ||
	                       sl_buf_putc(out, '}') != 0
	               ? -1
	               : 0;
}

int
sl_jschema_write(const struct sl_jschema *s, struct sl_buf *out)
{
	if (sl_buf_puts(out, "{\"$schema\":\"http://json-schema.org/"
	                     "schema#\"") != 0)
		return -1;
	size_t mark = out->len;
	if (sl_buf_putc(out, ',') != 0 || write_members(s, out) != 0)
		return -1;
	if (out->len == mark + 1) { /* nothing was inferred */
		out->len = mark;
		out->data[mark] = '\0';
	}
	return sl_buf_putc(out, '}');
}

/* --- validation --------------------------------------------------------- */

/** State of one validation. */
struct check {
	/** Where messages go. */
	struct sl_buf *msgs;
	/** The location being checked ("$.a[0]"). */
	struct sl_buf path;
	/** Errors found. */
	int64_t errors;
	/** Whether appending to `msgs` or `path` failed. */
	bool failed;
};

/** Whether `v` is a number and an integer (1 and 1.0 are; true is not). */
static bool
is_integer(const struct sl_value *v)
{
	switch ((enum sl_vtype)v->type) {
	case SL_VINT:
		return true;
	case SL_VDOUBLE:
		return isfinite(v->u.d) && v->u.d == floor(v->u.d);
	case SL_VNUMBER: {
		if (text_is_integer(v))
			return true;
		struct sl_value n = sl_value_number(*v);
		return n.type == SL_VINT ||
		       (n.type == SL_VDOUBLE && isfinite(n.u.d) &&
		        n.u.d == floor(n.u.d));
	}
	default:
		return false;
	}
}

/** Start one more error's message; false when it is only counted. */
static bool
begin_error(struct check *c)
{
	c->errors++;
	if (c->errors > SL_JSCHEMA_ERRORS_SHOWN)
		return false;
	if (sl_buf_printf(c->msgs, "%sat %s: ", c->errors > 1 ? "; " : "",
	                  c->path.len > 0 ? c->path.data : "$") != 0)
		c->failed = true;
	return !c->failed;
}

/** Append `v` as JSON, cut to SHOWN_VALUE_MAX bytes. */
static void
show_value(struct check *c, const struct sl_value *v)
{
	struct sl_buf tmp;
	sl_buf_create(&tmp, SHOWN_VALUE_MAX + 1);
	bool cut = sl_json_write(&tmp, v, 0) != 0;
	if (cut)
		sl_diag_clear(sl_diag_get());
	if (sl_buf_printf(c->msgs, "%s%s", tmp.data != NULL ? tmp.data : "",
	                  cut ? "..." : "") != 0)
		c->failed = true;
	sl_buf_destroy(&tmp);
}

/** Report that `v` has none of the types of `s`. */
static void
type_error(struct check *c, const struct sl_jschema *s,
           const struct sl_value *v)
{
	if (!begin_error(c))
		return;
	show_value(c, v);
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {{T_ARR, "array"}, {T_BOOL, "boolean"}, {T_NUMERIC, NULL},
	             {T_NULL, "null"}, {T_OBJ, "object"},   {T_STR, "string"}};
	if (sl_buf_puts(c->msgs, " is not of type ") != 0)
		c->failed = true;
	bool first = true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((s->types & names[i].bit) == 0)
			continue;
		const char *n = names[i].name;
		if (n == NULL)
			n = s->fractional ? "number" : "integer";
		if (sl_buf_printf(c->msgs, "%s'%s'", first ? "" : ", ", n) != 0)
			c->failed = true;
		first = false;
	}
}

static void check_at(struct check *c, const struct sl_jschema *s,
                     const struct sl_value *v, unsigned depth);

/** Check an object against the object slot of `s`. */
static void
check_object(struct check *c, const struct sl_jschema *s,
             const struct sl_value *v, unsigned depth)
{
	for (uint32_t i = 0; i < s->n_props; i++) {
		const struct prop *p = &s->props[i];
		if (!p->required || sl_object_get(v, p->key, p->len) != NULL)
			continue;
		if (!begin_error(c))
			continue;
		if (sl_buf_printf(c->msgs, "'%.*s' is a required property",
		                  (int)p->len, p->key) != 0)
			c->failed = true;
	}
	size_t mark = c->path.len;
	for (uint32_t i = 0; i < s->n_props; i++) {
		const struct prop *p = &s->props[i];
		const struct sl_value *m = sl_object_get(v, p->key, p->len);
		if (m == NULL)
			continue;
		/* A path too long to hold is shown cut. */
		if (sl_buf_printf(&c->path, "%s.%.*s", mark == 0 ? "$" : "",
		                  (int)p->len, p->key) != 0)
			sl_diag_clear(sl_diag_get());
		check_at(c, p->schema, m, depth + 1);
		c->path.len = mark;
		if (c->path.data != NULL)
			c->path.data[mark] = '\0';
	}
}

/** Check an array's items against the items of `s`. */
static void
check_array(struct check *c, const struct sl_jschema *s,
            const struct sl_value *v, unsigned depth)
{
	if (array_simple(s))
		return;
	size_t mark = c->path.len;
	for (uint32_t i = 0; i < v->len; i++) {
		if (sl_buf_printf(&c->path, "%s[%u]", mark == 0 ? "$" : "",
		                  (unsigned)i) != 0)
			sl_diag_clear(sl_diag_get());
		check_at(c, s->items, &v->u.items[i], depth + 1);
		c->path.len = mark;
		if (c->path.data != NULL)
			c->path.data[mark] = '\0';
	}
}

/** Check `v` against `s` at nesting `depth`. */
static void
check_at(struct check *c, const struct sl_jschema *s, const struct sl_value *v,
         unsigned depth)
{
	if (s->types == 0 || depth > SL_JSCHEMA_DEPTH_MAX)
		return;
	switch ((enum sl_vtype)v->type) {
	case SL_VNULL:
		if (s->types & T_NULL)
			return;
		break;
	case SL_VBOOL:
		if (s->types & T_BOOL)
			return;
		break;
	case SL_VINT:
	case SL_VDOUBLE:
	case SL_VNUMBER:
		if ((s->types & T_NUMERIC) && (s->fractional || is_integer(v)))
			return;
		break;
	case SL_VSTR:
		if (s->types & T_STR)
			return;
		break;
	case SL_VARRAY:
		if (s->types & T_ARR) {
			check_array(c, s, v, depth);
			return;
		}
		break;
	case SL_VOBJECT:
		if (s->types & T_OBJ) {
			check_object(c, s, v, depth);
			return;
		}
		break;
	}
	type_error(c, s, v);
}

int64_t
sl_jschema_validate(const struct sl_jschema *s, const struct sl_value *v,
                    struct sl_buf *msgs)
{
	struct check c = {.msgs = msgs, .errors = 0, .failed = false};
	sl_buf_create(&c.path, (size_t)1 << 16);
	check_at(&c, s, v, 0);
	sl_buf_destroy(&c.path);
	if (!c.failed && c.errors > SL_JSCHEMA_ERRORS_SHOWN &&
	    sl_buf_printf(msgs, "; and %lld more",
	                  (long long)(c.errors - SL_JSCHEMA_ERRORS_SHOWN)) != 0)
		c.failed = true;
	if (c.failed) {
		if (sl_diag_code() == 0)
			sl_diag_set(SL_EOOM, "out of memory for a message");
		return -1;
	}
	return c.errors;
}
