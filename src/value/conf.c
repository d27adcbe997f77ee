/*
 * Configuration trees: YAML documents read with libfyaml's event parser
 * into immutable nodes that keep tags, quoting and positions.
 *
 * The builder keeps its own stack of open sequences and mappings (no
 * recursion), collects their items in growable scratch arrays and copies
 * them into the document's arena when the container closes. An alias does
 * not copy its anchor's node: it points at it, so the tree is a DAG. Each
 * node's expanded size (how many nodes it stands for once aliases are
 * expanded) and height are tracked, so that a document whose aliases would
 * expand past 16 times its size, or nest deeper than 512, fails at once
 * (the "billion laughs" costs nothing here and no consumer can be made to
 * walk it). Merge keys (`<<`) are applied when their mapping closes, the
 * way PyYAML does: merged pairs come first, so explicit keys win.
 *
 * Scalars are resolved with PyYAML's YAML 1.1 rules (see yamlread.h);
 * sl_yaml_parse() is a load followed by sl_conf_to_value().
 */
#include "sluice/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/hash.h"
#include "sluice/yamlread.h"

/** Deepest nesting of sequences and mappings (aliases expanded). */
#define DEPTH_MAX 512
/** Chunk size of a document's arena. */
#define DOC_ARENA_CHUNK 16384
/** Alias expansion may add this many nodes per input byte. */
#define EXPAND_FACTOR 16
/** ... but at least this many in all (tiny documents). */
#define EXPAND_MIN 1024
/** Prefix of the standard tags. */
#define STD_TAG "tag:yaml.org,2002:"
/** Length of STD_TAG. */
#define STD_TAG_LEN (sizeof(STD_TAG) - 1)

/** A loaded document. */
struct sl_conf_doc {
	/** Memory of every node, text and name of the document. */
	struct sl_arena arena;
	/** The root node. */
	struct sl_conf *root;
	/** Bytes charged to the load budget besides `arena`. */
	size_t charged;
};

/** A defined anchor. */
struct anchor {
	/** Anchor name (in the document's arena). */
	const char *name;
	/** Bytes of `name`. */
	size_t len;
	/** The anchored node. */
	struct sl_conf *node;
	/** Nodes the anchored node stands for, aliases expanded. */
	uint64_t weight;
	/** Height of the anchored node (a scalar is 1). */
	uint32_t height;
	/** Whether the node is complete (an alias to it is not a cycle). */
	bool done;
};

/** An open sequence or mapping. */
struct frame {
	/** Its node (items are set when it closes). */
	struct sl_conf *node;
	/** Items collected so far (scratch memory). */
	struct sl_conf **items;
	/** Items in `items`. */
	uint32_t n;
	/** Capacity of `items`. */
	uint32_t cap;
	/** Nodes it stands for so far, itself included. */
	uint64_t weight;
	/** Greatest height among its items. */
	uint32_t height;
	/** Index of its anchor in the anchor table, or -1. */
	int32_t anchor;
};

/** State of one load. */
struct builder {
	/** The document being built into. */
	struct sl_conf_doc *doc;
	/** The input. */
	const char *buf;
	/** Bytes of input. */
	size_t len;
	/** Name of the input, in the document's arena. */
	const char *name;
	/** Open containers, outermost first. */
	struct frame *frames;
	/** Open containers. */
	uint32_t nframes;
	/** Capacity of `frames`. */
	uint32_t cap_frames;
	/** Anchors in definition order. */
	struct anchor *anchors;
	/** Defined anchors. */
	uint32_t nanchors;
	/** Capacity of `anchors`. */
	uint32_t cap_anchors;
	/** Open-addressing table of anchor index + 1 (latest definition). */
	uint32_t *slots;
	/** Slots in `slots` (a power of two, or 0). */
	uint32_t nslots;
	/** Nodes added by alias expansion so far. */
	uint64_t expanded;
	/** Limit of `expanded`. */
	uint64_t expand_max;
	/** The finished root, or NULL. */
	struct sl_conf *root;
	/** Documents seen. */
	int ndocs;
	/** Line of the last position seen. */
	uint32_t line;
	/** Column of the last position seen. */
	uint32_t col;
	/** Line where the last event ended (empty scalars are put there). */
	uint32_t end_line;
	/** Column where the last event ended. */
	uint32_t end_col;
};

static const char empty_text[1] = "";

/* ------------------------------------------------------------------ */
/* Errors                                                              */

/** Record `code` at file:line:col. Returns -1. */
static int __attribute__((format(printf, 5, 6)))
err_at(enum sl_errcode code, const char *file, uint32_t line, uint32_t col,
       const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sl_diag_set(code, "%s:%u:%u: %s", file, line, col, msg);
	return -1;
}

/** Record an out-of-memory error unless an error is already set. */
static int
oom(const char *what)
{
	sl_diag_set(SL_EOOM, "out of memory %s", what);
	return -1;
}

/** Record `code` at node `n` with the node's name `what`. Returns -1. */
static int __attribute__((format(printf, 4, 0)))
node_verr(enum sl_errcode code, const struct sl_conf *n, const char *what,
          const char *fmt, va_list ap)
{
	char msg[400];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	char pos[300] = "";
	if (n != NULL)
		snprintf(pos, sizeof(pos), "%s:%u:%u: ", n->file, n->line,
		         n->col);
	sl_diag_set(code, "%s%s%s%s", pos, what != NULL ? what : "",
	            what != NULL ? ": " : "", msg);
	return -1;
}

/** node_verr() with arguments. */
static int __attribute__((format(printf, 4, 5)))
node_err(enum sl_errcode code, const struct sl_conf *n, const char *what,
         const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	node_verr(code, n, what, fmt, ap);
	va_end(ap);
	return -1;
}

int
sl_conf_error(const struct sl_conf *n, const char *what, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	node_verr(SL_EINVAL, n, what, fmt, ap);
	va_end(ap);
	return -1;
}

bool
sl_conf_is_prov_tag(const char *tag)
{
	static const char *const tags[] = {
	        "!jmespath", "!variable",  "!format", "!regex",
	        "!split",    "!normalize", "!cast",   "!mapping",
	};
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (strcmp(tag, tags[i]) == 0)
			return true;
	return false;
}

const char *
sl_conf_kind_name(enum sl_conf_kind k)
{
	switch (k) {
	case SL_CONF_SCALAR:
		return "scalar";
	case SL_CONF_SEQ:
		return "sequence";
	case SL_CONF_MAP:
		return "mapping";
	}
	return "?";
}

/* ------------------------------------------------------------------ */
/* Scalar resolution (PyYAML's YAML 1.1 resolver and constructors)     */

/** What a scalar resolves to. */
enum rkind {
	RK_NULL,    /**< null */
	RK_BOOL,    /**< boolean in `b` */
	RK_INT,     /**< integer in `i` */
	RK_FLOAT,   /**< double in `d` */
	RK_BIGINT,  /**< decimal integer beyond int64 (kept as text) */
	RK_STR,     /**< string: the node's text */
	RK_TAGGED,  /**< a non-standard tag */
	RK_BADTYPE, /**< a standard tag sluice does not construct */
};

/** A resolved scalar. */
struct resolved {
	/** What it is. */
	enum rkind k;
	/** RK_BOOL. */
	bool b;
	/** RK_INT. */
	int64_t i;
	/** RK_FLOAT. */
	double d;
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/** Whether [p, e) is a plain null. */
static bool
match_null(const char *s, size_t len)
{
	static const char *const words[] = {"~", "null", "Null", "NULL"};
	if (len == 0)
		return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == len && memcmp(words[i], s, len) == 0)
			return true;
	return false;
}

/** 1 for a true word, 0 for a false word, -1 for neither. */
static int
match_bool(const char *s, size_t len)
{
	static const char *const t[] = {"yes",  "Yes", "YES", "true", "True",
	                                "TRUE", "on",  "On",  "ON"};
	static const char *const f[] = {"no",    "No",  "NO",  "false", "False",
	                                "FALSE", "off", "Off", "OFF"};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strlen(t[i]) == len && memcmp(t[i], s, len) == 0)
			return 1;
		if (strlen(f[i]) == len && memcmp(f[i], s, len) == 0)
			return 0;
	}
	return -1;
}

/**
 * Match the sexagesimal tail (:[0-5]?[0-9])+ starting at `p` (a ':'),
 * stopping before `stop` (a '.' for floats) or at the end. Returns the
 * position after it, or NULL.
 */
static const char *
match_sexa_tail(const char *p, const char *e, char stop)
{
	if (p >= e || *p != ':')
		return NULL;
	while (p < e && *p == ':') {
		p++;
		if (p + 1 < e && *p >= '0' && *p <= '5' && is_digit(p[1]) &&
		    (p + 2 == e || p[2] == ':' || p[2] == stop))
			p += 2;
		else if (p < e && is_digit(*p) &&
		         (p + 1 == e || p[1] == ':' || p[1] == stop))
			p += 1;
		else
			return NULL;
	}
	return p;
}

/**
 * The base of a plain integer (2, 8, 10, 16, or 60 for sexagesimal), or 0
 * when the text does not match PyYAML's int resolver:
 * [-+]?(0b[0-1_]+ | 0[0-7_]+ | 0 | [1-9][0-9_]* | 0x[0-9a-fA-F_]+ |
 * [1-9][0-9_]*(:[0-5]?[0-9])+).
 */
static int
match_int(const char *s, size_t len)
{
	const char *p = s, *e = s + len;
	if (p < e && (*p == '+' || *p == '-'))
		p++;
	if (p == e)
		return 0;
	if (*p == '0') {
		if (p + 1 == e)
			return 10;
		const char *q;
		if (p[1] == 'b' || p[1] == 'x') {
			bool hex = p[1] == 'x';
			q = p + 2;
			if (q == e)
				return 0;
			for (; q < e; q++)
				if (*q != '_' &&
				    !(hex ? is_hex(*q)
				          : (*q == '0' || *q == '1')))
					return 0;
			return hex ? 16 : 2;
		}
		for (q = p + 1; q < e; q++)
			if (*q != '_' && !(*q >= '0' && *q <= '7'))
				return 0;
		return 8;
	}
	if (*p < '1' || *p > '9')
		return 0;
	const char *q = p + 1;
	while (q < e && (is_digit(*q) || *q == '_'))
		q++;
	if (q == e)
		return 10;
	return match_sexa_tail(q, e, '\0') == e ? 60 : 0;
}

/** Match an optional exponent [eE][-+][0-9]+ ending exactly at `e`. */
static bool
match_exp_end(const char *q, const char *e)
{
	if (q == e)
		return true;
	if (*q != 'e' && *q != 'E')
		return false;
	q++;
	if (q == e || (*q != '+' && *q != '-'))
		return false;
	q++;
	if (q == e)
		return false;
	for (; q < e; q++)
		if (!is_digit(*q))
			return false;
	return true;
}

/** Float match kinds. */
enum fkind {
	FK_NONE = 0, /**< not a float */
	FK_DEC,      /**< decimal with a dot */
	FK_SEXA,     /**< sexagesimal with a dot */
	FK_INF,      /**< [-+]?.inf */
	FK_NAN,      /**< .nan */
};

/**
 * Match PyYAML's float resolver:
 * [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)? | \.[0-9][0-9_]*([eE][-+][0-9]+)?
 * | [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(inf|Inf|INF)
 * | \.(nan|NaN|NAN).
 */
static enum fkind
match_float(const char *s, size_t len)
{
	const char *p = s, *e = s + len;
	bool sign = false;
	if (p < e && (*p == '+' || *p == '-')) {
		p++;
		sign = true;
	}
	if (p == e)
		return FK_NONE;
	if (*p == '.') {
		const char *r = p + 1;
		size_t n = (size_t)(e - r);
		if (n == 3 &&
		    (memcmp(r, "inf", 3) == 0 || memcmp(r, "Inf", 3) == 0 ||
		     memcmp(r, "INF", 3) == 0))
			return FK_INF;
		if (sign)
			return FK_NONE;
		if (n == 3 &&
		    (memcmp(r, "nan", 3) == 0 || memcmp(r, "NaN", 3) == 0 ||
		     memcmp(r, "NAN", 3) == 0))
			return FK_NAN;
		if (r == e || !is_digit(*r))
			return FK_NONE;
		while (r < e && (is_digit(*r) || *r == '_'))
			r++;
		return match_exp_end(r, e) ? FK_DEC : FK_NONE;
	}
	if (!is_digit(*p))
		return FK_NONE;
	const char *q = p + 1;
	while (q < e && (is_digit(*q) || *q == '_'))
		q++;
	if (q == e)
		return FK_NONE;
	if (*q == '.') {
		q++;
		while (q < e && (is_digit(*q) || *q == '_'))
			q++;
		return match_exp_end(q, e) ? FK_DEC : FK_NONE;
	}
	if (*q != ':')
		return FK_NONE;
	q = match_sexa_tail(q, e, '.');
	if (q == NULL || q == e || *q != '.')
		return FK_NONE;
	for (q++; q < e; q++)
		if (!is_digit(*q) && *q != '_')
			return FK_NONE;
	return FK_SEXA;
}

/** Copy [s, s+len) without '_' into `buf` (`cap` bytes, NUL-terminated). */
static size_t
strip_underscores(const char *s, size_t len, char *buf, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < cap; i++)
		if (s[i] != '_')
			buf[n++] = s[i];
	buf[n] = '\0';
	return n;
}

/**
 * The value of an integer of base `base` (from match_int()). Sets
 * RK_INT, or RK_BIGINT (base 10) / RK_FLOAT (other bases) when it does not
 * fit in int64. -1 when no digit is left once the `_` are gone.
 */
static int
int_value(const char *s, size_t len, int base, struct resolved *r)
{
	const char *p = s, *e = s + len;
	bool neg = false;
	if (p < e && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (base == 2 || base == 16)
		p += 2;
	uint64_t acc = 0, part = 0;
	double dacc = 0, dpart = 0;
	bool over = false, any = false;
	for (; p < e; p++) {
		char c = *p;
		if (c == '_')
			continue;
		if (c == ':') {
			/* Sexagesimal: the parts so far times 60. */
			if (acc > (UINT64_MAX - part) / 60)
				over = true;
			acc = acc * 60 + part;
			dacc = dacc * 60 + dpart;
			part = 0;
			dpart = 0;
			continue;
		}
		unsigned d = is_digit(c) ? (unsigned)(c - '0')
		             : c >= 'a'  ? (unsigned)(c - 'a' + 10)
		                         : (unsigned)(c - 'A' + 10);
		unsigned b = base == 60 ? 10 : (unsigned)base;
		any = true;
		if (part > (UINT64_MAX - d) / b)
			over = true;
		part = part * b + d;
		dpart = dpart * b + d;
	}
	if (!any)
		return -1;
	if (base == 60) {
		if (acc > (UINT64_MAX - part) / 60)
			over = true;
		acc = acc * 60 + part;
		dacc = dacc * 60 + dpart;
	} else {
		acc = part;
		dacc = dpart;
	}
	if (!over && (neg ? acc <= (uint64_t)INT64_MAX + 1
	                  : acc <= (uint64_t)INT64_MAX)) {
		r->k = RK_INT;
		r->i = neg ? (int64_t)(0 - acc) : (int64_t)acc;
		return 0;
	}
	if (base == 10) {
		r->k = RK_BIGINT;
		return 0;
	}
	r->k = RK_FLOAT;
	r->d = neg ? -dacc : dacc;
	return 0;
}

/**
 * The value of a float of kind `fk` (from match_float()), or -1 when the
 * text cannot be converted.
 */
static int
float_value(const char *s, size_t len, enum fkind fk, struct resolved *r)
{
	r->k = RK_FLOAT;
	bool neg = len > 0 && s[0] == '-';
	if (fk == FK_INF) {
		r->d = neg ? -INFINITY : INFINITY;
		return 0;
	}
	if (fk == FK_NAN) {
		r->d = NAN;
		return 0;
	}
	char small[256];
	char *buf = small;
	if (len + 1 > sizeof(small)) {
		buf = sl_malloc(len + 1);
		if (buf == NULL)
			return oom("converting a float");
	}
	size_t n = strip_underscores(s, len, buf, len + 1);
	int rc = 0;
	if (fk == FK_SEXA) {
		/* Parts before the last ':' are integers; the last a float. */
		char *p = buf + (buf[0] == '-' || buf[0] == '+');
		double acc = 0;
		char *colon;
		while ((colon = strchr(p, ':')) != NULL) {
			acc = acc * 60 + strtod(p, NULL);
			p = colon + 1;
		}
		acc = acc * 60 + strtod(p, NULL);
		r->d = neg ? -acc : acc;
	} else {
		/* Python's float(): decimal text (strtod would also take hex).
		 */
		char *end;
		bool hex = memchr(buf, 'x', n) != NULL ||
		           memchr(buf, 'X', n) != NULL;
		errno = 0;
		r->d = strtod(buf, &end);
		if (hex || n == 0 || end != buf + n)
			rc = -1;
	}
	if (buf != small)
		sl_free(buf);
	return rc;
}

/** Whether `tag` is the standard tag with suffix `suffix`. */
static bool
tag_is(const char *tag, const char *suffix)
{
	return tag != NULL && strncmp(tag, STD_TAG, STD_TAG_LEN) == 0 &&
	       strcmp(tag + STD_TAG_LEN, suffix) == 0;
}

/** Whether a node with `tag` is a value providers' (non-standard) node. */
static bool
tag_is_custom(const char *tag)
{
	return tag != NULL && strcmp(tag, "!") != 0 &&
	       strncmp(tag, STD_TAG, STD_TAG_LEN) != 0;
}

/**
 * Resolve scalar `n`. Returns 0 with `*r` set (RK_TAGGED and RK_BADTYPE
 * included), or -1 with `code` when an explicit !!int, !!float or !!bool
 * does not hold one, or a plain integer has no digits.
 */
static int
resolve(const struct sl_conf *n, const char *what, enum sl_errcode code,
        struct resolved *r)
{
	const char *s = n->text;
	size_t len = n->len;
	const char *tag = n->tag;
	memset(r, 0, sizeof(*r));
	if (tag == NULL) {
		if (!n->plain) {
			r->k = RK_STR;
			return 0;
		}
		if (match_null(s, len)) {
			r->k = RK_NULL;
			return 0;
		}
		int b = match_bool(s, len);
		if (b >= 0) {
			r->k = RK_BOOL;
			r->b = b == 1;
			return 0;
		}
		int base = match_int(s, len);
		if (base != 0) {
			if (int_value(s, len, base, r) < 0)
				return node_err(code, n, what,
				                "invalid integer '%s'", s);
			return 0;
		}
		enum fkind fk = match_float(s, len);
		if (fk != FK_NONE)
			return float_value(s, len, fk, r);
		r->k = RK_STR;
		return 0;
	}
	if (strcmp(tag, "!") == 0 || tag_is(tag, "str")) {
		r->k = RK_STR;
		return 0;
	}
	if (tag_is(tag, "null")) {
		r->k = RK_NULL;
		return 0;
	}
	if (tag_is(tag, "bool")) {
		int b = match_bool(s, len);
		if (b < 0)
			return node_err(
			        code, n, what,
			        "expected a boolean for !!bool, got '%s'", s);
		r->k = RK_BOOL;
		r->b = b == 1;
		return 0;
	}
	if (tag_is(tag, "int")) {
		int base = match_int(s, len);
		if (base == 0 || int_value(s, len, base, r) < 0)
			return node_err(
			        code, n, what,
			        "expected an integer for !!int, got '%s'", s);
		return 0;
	}
	if (tag_is(tag, "float")) {
		enum fkind fk = match_float(s, len);
		int base = fk == FK_NONE ? match_int(s, len) : 0;
		if (base != 0 && base != 10 && base != 60 && base != 8) {
			/* Python's float() takes no 0b / 0x. */
			return node_err(
			        code, n, what,
			        "expected a number for !!float, got '%s'", s);
		}
		if (base == 60)
			fk = FK_SEXA;
		if (float_value(s, len, fk == FK_NONE ? FK_DEC : fk, r) < 0) {
			if (sl_diag_code() == SL_EOOM)
				return -1;
			return node_err(
			        code, n, what,
			        "expected a number for !!float, got '%s'", s);
		}
		return 0;
	}
	r->k = tag_is_custom(tag) ? RK_TAGGED : RK_BADTYPE;
	return 0;
}

/** "a mapping", "an integer", ... for "got" in messages. */
static const char *
describe(const struct sl_conf *n, char *buf, size_t size)
{
	if (n == NULL)
		return "nothing";
	if (n->kind == SL_CONF_SEQ)
		return tag_is_custom(n->tag)
		               ? (snprintf(buf, size, "a list tagged %s",
		                           n->tag),
		                  buf)
		               : "a list";
	if (n->kind == SL_CONF_MAP)
		return tag_is_custom(n->tag)
		               ? (snprintf(buf, size, "a mapping tagged %s",
		                           n->tag),
		                  buf)
		               : "a mapping";
	if (tag_is_custom(n->tag)) {
		snprintf(buf, size, "a %s value", n->tag);
		return buf;
	}
	struct resolved r;
	struct sl_diag *d = sl_diag_get();
	struct sl_error *saved = d->last;
	d->last = NULL;
	int rc = resolve(n, NULL, SL_EINVAL, &r);
	sl_diag_clear(d);
	d->last = saved;
	if (rc < 0)
		return "an invalid scalar";
	switch (r.k) {
	case RK_NULL:
		return "null";
	case RK_BOOL:
		return "a boolean";
	case RK_INT:
	case RK_BIGINT:
		return "an integer";
	case RK_FLOAT:
		return "a float";
	case RK_STR:
		return "a string";
	case RK_TAGGED:
	case RK_BADTYPE:
		break;
	}
	snprintf(buf, size, "a scalar tagged %s", n->tag);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Getters                                                             */

struct sl_conf *
sl_conf_get(const struct sl_conf *map, const char *key)
{
	if (map == NULL || map->kind != SL_CONF_MAP)
		return NULL;
	size_t klen = strlen(key);
	for (uint32_t i = map->n; i-- > 0;) {
		const struct sl_conf *k = map->items[2 * i];
		if (k->kind == SL_CONF_SCALAR && k->len == klen &&
		    memcmp(k->text, key, klen) == 0)
			return map->items[2 * i + 1];
	}
	return NULL;
}

bool
sl_conf_is_null(const struct sl_conf *n)
{
	if (n == NULL || n->kind != SL_CONF_SCALAR)
		return false;
	if (tag_is(n->tag, "null"))
		return true;
	return n->tag == NULL && n->plain && match_null(n->text, n->len);
}

bool
sl_conf_is_str(const struct sl_conf *n)
{
	if (n == NULL || n->kind != SL_CONF_SCALAR)
		return false;
	struct resolved r;
	struct sl_diag *d = sl_diag_get();
	struct sl_error *saved = d->last;
	d->last = NULL;
	int rc = resolve(n, NULL, SL_EINVAL, &r);
	sl_diag_clear(d);
	d->last = saved;
	return rc == 0 && r.k == RK_STR;
}

/**
 * Resolve `n` for a typed getter: 1 with `*r` set when `n` is a scalar
 * without a custom tag, 0 when it is not (or NULL), -1 with an error when
 * it does not hold what its explicit tag says.
 */
static int
resolve_plain(const struct sl_conf *n, const char *what, struct resolved *r)
{
	if (n == NULL || n->kind != SL_CONF_SCALAR || tag_is_custom(n->tag))
		return 0;
	return resolve(n, what, SL_EINVAL, r) < 0 ? -1 : 1;
}

/** Raise "expected <expected>, got <what `n` is>" at `n`; returns -1. */
static int
expected_got(const struct sl_conf *n, const char *what, const char *expected)
{
	char buf[128];
	return sl_conf_error(n, what, "expected %s, got %s", expected,
	                     describe(n, buf, sizeof(buf)));
}

int
sl_conf_str(const struct sl_conf *n, const char *what, const char **out)
{
	struct resolved r;
	int rc = resolve_plain(n, what, &r);
	if (rc < 0)
		return -1;
	if (rc > 0 && r.k != RK_NULL && r.k != RK_BADTYPE) {
		*out = n->text;
		return 0;
	}
	return expected_got(n, what, "a string");
}

int
sl_conf_int(const struct sl_conf *n, const char *what, int64_t *out)
{
	struct resolved r;
	int rc = resolve_plain(n, what, &r);
	if (rc < 0)
		return -1;
	if (rc > 0 && r.k == RK_INT) {
		*out = r.i;
		return 0;
	}
	if (rc > 0 && (r.k == RK_BIGINT || (r.k == RK_FLOAT && n->tag == NULL &&
	                                    match_int(n->text, n->len) != 0)))
		return sl_conf_error(n, what, "integer %s is out of range",
		                     n->text);
	return expected_got(n, what, "an integer");
}

int
sl_conf_bool(const struct sl_conf *n, const char *what, bool *out)
{
	struct resolved r;
	int rc = resolve_plain(n, what, &r);
	if (rc < 0)
		return -1;
	if (rc > 0 && r.k == RK_BOOL) {
		*out = r.b;
		return 0;
	}
	return expected_got(n, what, "a boolean");
}

/* ------------------------------------------------------------------ */
/* Conversion to values                                                */

/** Hash table of key positions for de-duplicating mapping keys. */
struct keyset {
	/** Slots: index + 1 into the members, 0 for empty. */
	uint32_t *slots;
	/** Slot count (a power of two). */
	uint32_t mask;
};

static int to_value(const struct sl_conf *n, struct sl_arena *a,
                    const char *what, enum sl_errcode code, uint32_t depth,
                    struct sl_value *out);

/** Convert a scalar. */
static int
scalar_value(const struct sl_conf *n, struct sl_arena *a, const char *what,
             enum sl_errcode code, struct sl_value *out)
{
	struct resolved r;
	if (resolve(n, what, code, &r) < 0)
		return -1;
	switch (r.k) {
	case RK_NULL:
		*out = sl_null();
		return 0;
	case RK_BOOL:
		*out = sl_bool(r.b);
		return 0;
	case RK_INT:
		*out = sl_int(r.i);
		return 0;
	case RK_FLOAT:
		*out = sl_double(r.d);
		return 0;
	case RK_BIGINT: {
		/* JSON number text: no '+', no '_'. */
		const char *s = n->text + (n->text[0] == '+');
		size_t len = n->len - (size_t)(n->text[0] == '+');
		char *t = sl_arena_alloc_aligned(a, len + 1, 1);
		if (t == NULL)
			return -1;
		size_t m = strip_underscores(s, len, t, len + 1);
		*out = sl_number_ref(t, (uint32_t)m);
		return 0;
	}
	case RK_STR:
		return sl_str_copy(a, n->text, n->len, out);
	case RK_TAGGED:
		return node_err(code, n, what,
		                "tag %s is not allowed here (a plain YAML "
		                "value was expected)",
		                n->tag);
	case RK_BADTYPE:
		break;
	}
	return node_err(code, n, what, "unsupported tag %s", n->tag);
}

/** Convert a mapping, keeping the first position and last value of a key. */
static int
map_value(const struct sl_conf *n, struct sl_arena *a, const char *what,
          enum sl_errcode code, uint32_t depth, struct sl_value *out)
{
	struct sl_member *m = NULL;
	if (n->n > 0) {
		m = sl_arena_alloc(a, (size_t)n->n * sizeof(*m));
		if (m == NULL)
			return -1;
	}
	struct keyset ks = {NULL, 0};
	if (n->n > 8) {
		uint32_t size = 16;
		while (size < 2 * n->n)
			size *= 2;
		ks.slots = sl_calloc(size, sizeof(*ks.slots));
		if (ks.slots == NULL)
			return oom("converting a mapping");
		ks.mask = size - 1;
	}
	uint32_t cnt = 0;
	int rc = 0;
	for (uint32_t i = 0; i < n->n && rc == 0; i++) {
		const struct sl_conf *k = n->items[2 * i];
		const struct sl_conf *v = n->items[2 * i + 1];
		/* Keys are scalars (the builder checks); the text is the key.
		 */
		uint32_t at = UINT32_MAX;
		uint32_t *slot = NULL;
		if (ks.slots != NULL) {
			uint64_t h = sl_hash64(k->text, k->len);
			for (uint32_t j = (uint32_t)h & ks.mask;;
			     j = (j + 1) & ks.mask) {
				uint32_t x = ks.slots[j];
				if (x == 0) {
					slot = &ks.slots[j];
					break;
				}
				if (m[x - 1].key_len == k->len &&
				    memcmp(m[x - 1].key, k->text, k->len) ==
				            0) {
					at = x - 1;
					break;
				}
			}
		} else {
			for (uint32_t j = 0; j < cnt; j++)
				if (m[j].key_len == k->len &&
				    memcmp(m[j].key, k->text, k->len) == 0)
					at = j;
		}
		struct sl_value val;
		rc = to_value(v, a, what, code, depth + 1, &val);
		if (rc < 0)
			break;
		if (at != UINT32_MAX) {
			m[at].val = val;
			continue;
		}
		char *key = sl_arena_alloc_aligned(a, k->len + 1, 1);
		if (key == NULL) {
			rc = -1;
			break;
		}
		memcpy(key, k->text, k->len);
		m[cnt].key = key;
		m[cnt].key_len = (uint32_t)k->len;
		m[cnt].val = val;
		if (slot != NULL)
			*slot = cnt + 1;
		cnt++;
	}
	sl_free(ks.slots);
	if (rc < 0)
		return -1;
	*out = sl_object_ref(m, cnt);
	return 0;
}

/** to_value() without placing its errors. */
static int
to_value_1(const struct sl_conf *n, struct sl_arena *a, const char *what,
           enum sl_errcode code, uint32_t depth, struct sl_value *out)
{
	if (depth > DEPTH_MAX)
		return node_err(SL_ELIMIT, n, what,
		                "nesting deeper than %d levels", DEPTH_MAX);
	if (n->kind == SL_CONF_SCALAR)
		return scalar_value(n, a, what, code, out);
	const char *want = n->kind == SL_CONF_SEQ ? "seq" : "map";
	if (n->tag != NULL && strcmp(n->tag, "!") != 0 && !tag_is(n->tag, want))
		return node_err(code, n, what, "%s %s is not allowed here",
		                tag_is_custom(n->tag) ? "tag"
		                                      : "unsupported tag",
		                n->tag);
	if (n->kind == SL_CONF_MAP)
		return map_value(n, a, what, code, depth, out);
	struct sl_value *items = NULL;
	if (n->n > 0) {
		items = sl_arena_alloc(a, (size_t)n->n * sizeof(*items));
		if (items == NULL)
			return -1;
	}
	for (uint32_t i = 0; i < n->n; i++)
		if (to_value(n->items[i], a, what, code, depth + 1, &items[i]) <
		    0)
			return -1;
	*out = sl_array_ref(items, n->n);
	return 0;
}

/** Convert node `n`; an error (a full arena, say) names n's place. */
static int
to_value(const struct sl_conf *n, struct sl_arena *a, const char *what,
         enum sl_errcode code, uint32_t depth, struct sl_value *out)
{
	if (to_value_1(n, a, what, code, depth, out) < 0)
		return sl_conf_place_error(n, what);
	return 0;
}

int
sl_conf_to_value(const struct sl_conf *n, struct sl_arena *arena,
                 const char *what, struct sl_value *out)
{
	return to_value(n, arena, what, SL_EINVAL, 1, out);
}

int
sl_yaml_parse(const char *buf, size_t len, struct sl_arena *arena,
              const char *name, struct sl_value *out)
{
	struct sl_conf_doc *d = sl_conf_load(buf, len, name);
	if (d == NULL)
		return -1;
	int rc = to_value(sl_conf_root(d), arena, NULL, SL_EPARSE, 1, out);
	sl_conf_doc_delete(d);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Documents                                                           */

struct sl_conf_doc *
sl_conf_doc_new(void)
{
	struct sl_conf_doc *d = sl_malloc(sizeof(*d));
	if (d == NULL) {
		oom("creating a YAML document");
		return NULL;
	}
	sl_arena_create(&d->arena, DOC_ARENA_CHUNK, SL_CONF_LOAD_BUDGET);
	d->root = NULL;
	d->charged = 0;
	return d;
}

void
sl_conf_doc_delete(struct sl_conf_doc *d)
{
	if (d == NULL)
		return;
	sl_arena_destroy(&d->arena);
	sl_free(d);
}

struct sl_conf *
sl_conf_root(struct sl_conf_doc *d)
{
	return d->root;
}

void *
sl_conf_alloc(struct sl_conf_doc *d, size_t size)
{
	return sl_arena_alloc(&d->arena, size);
}

/** A new node of `kind` at file:line:col, zeroed otherwise. */
static struct sl_conf *
node_new(struct sl_conf_doc *d, enum sl_conf_kind kind, const char *file,
         uint32_t line, uint32_t col)
{
	struct sl_conf *n = sl_arena_alloc(&d->arena, sizeof(*n));
	if (n == NULL)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->text = empty_text;
	n->file = file;
	n->line = line;
	n->col = col;
	n->doc = d;
	return n;
}

int
sl_conf_charge(const struct sl_conf *n, const char *what, size_t bytes)
{
	struct sl_conf_doc *d = n->doc;
	if (d == NULL)
		return 0;
	if (bytes > SL_CONF_LOAD_BUDGET - d->charged ||
	    d->arena.reserved > SL_CONF_LOAD_BUDGET - d->charged - bytes)
		return node_err(
		        SL_ELIMIT, n, what,
		        "loading needs more than %zu MiB, the memory "
		        "budget of a load (the file and its includes, "
		        "and the values compiled from them: each use of "
		        "an alias is a copy)",
		        SL_CONF_LOAD_BUDGET >> 20);
	d->charged += bytes;
	return 0;
}

/** Whether `msg` starts with a place "file:line:col" (then ": " or end). */
static bool
names_place(const char *msg)
{
	const char *c = strchr(msg, ':');
	if (c == NULL || c == msg)
		return false;
	for (int field = 0; field < 2; field++) {
		if (*c != ':' || c[1] < '0' || c[1] > '9')
			return false;
		c++;
		while (*c >= '0' && *c <= '9')
			c++;
	}
	return *c == '\0' || (c[0] == ':' && c[1] == ' ');
}

int
sl_conf_place_error(const struct sl_conf *n, const char *what)
{
	struct sl_error *e = sl_diag_last();
	if (e != NULL && names_place(e->msg))
		return -1;
	enum sl_errcode code = e != NULL ? e->code : SL_EINVAL;
	if (e == NULL)
		sl_diag_set(code, "failed");
	sl_diag_wrap(code, "%s:%u:%u%s%s", n->file, n->line, n->col,
	             what != NULL ? ": " : "", what != NULL ? what : "");
	return -1;
}

/* ------------------------------------------------------------------ */
/* Building from libfyaml events                                       */

/** Check UTF-8 and YAML's printable set; the error names the position. */
static int
check_text(const char *buf, size_t len, const char *name)
{
	const unsigned char *p = (const unsigned char *)buf;
	const unsigned char *e = p + len;
	uint32_t line = 1;
	const unsigned char *bol = p;
	if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		p += 3;
	while (p < e) {
		unsigned c = *p;
		if (c < 0x80) {
			if (c == '\n') {
				line++;
				bol = p + 1;
			} else if ((c < 0x20 && c != '\t' && c != '\r') ||
			           c == 0x7F) {
				return err_at(SL_EPARSE, name, line,
				              (uint32_t)(p - bol + 1),
				              "control character 0x%02X is not "
				              "allowed in YAML",
				              c);
			}
			p++;
			continue;
		}
		uint32_t cp;
		int n;
		if (c >= 0xC2 && c <= 0xDF) {
			cp = c & 0x1F;
			n = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			cp = c & 0x0F;
			n = 2;
		} else if (c >= 0xF0 && c <= 0xF4) {
			cp = c & 0x07;
			n = 3;
		} else {
			goto bad;
		}
		if (e - p <= n)
			goto bad;
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		if ((cp >= 0x80 && cp <= 0x9F && cp != 0x85) || cp == 0xFFFE ||
		    cp == 0xFFFF)
			return err_at(
			        SL_EPARSE, name, line, (uint32_t)(p - bol + 1),
			        "character U+%04X is not allowed in YAML", cp);
		p += n + 1;
	}
	return 0;
bad:
	return err_at(SL_EPARSE, name, line, (uint32_t)(p - bol + 1),
	              "invalid UTF-8");
}

/** Discard libfyaml's printed diagnostics (errors are collected). */
static void
fy_quiet(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

/** Grow `*arr` of `size`-byte elements to hold `need`. */
static int
grow(void **arr, uint32_t *cap, uint32_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	uint32_t n = *cap < 8 ? 8 : *cap;
	while (n < need)
		n = n > UINT32_MAX / 2 ? UINT32_MAX : n * 2;
	void *p = sl_realloc(*arr, (size_t)n * size);
	if (p == NULL)
		return oom("reading YAML");
	*arr = p;
	*cap = n;
	return 0;
}

/** The slot of anchor `name` in the table (empty or matching). */
static uint32_t *
anchor_slot(struct builder *b, const char *name, size_t len)
{
	uint32_t mask = b->nslots - 1;
	for (uint32_t j = (uint32_t)sl_hash64(name, len) & mask;;
	     j = (j + 1) & mask) {
		uint32_t x = b->slots[j];
		if (x == 0)
			return &b->slots[j];
		const struct anchor *a = &b->anchors[x - 1];
		if (a->len == len && memcmp(a->name, name, len) == 0)
			return &b->slots[j];
	}
}

/** The latest anchor called `name`, or NULL. */
static struct anchor *
anchor_find(struct builder *b, const char *name, size_t len)
{
	if (b->nslots == 0)
		return NULL;
	uint32_t x = *anchor_slot(b, name, len);
	return x == 0 ? NULL : &b->anchors[x - 1];
}

/** Define anchor `name` (the token's text) for `node`; its index or -1. */
static int32_t
anchor_add(struct builder *b, struct fy_token *tok, struct sl_conf *node)
{
	size_t len;
	const char *text = fy_token_get_text(tok, &len);
	if (text == NULL)
		return oom("reading a YAML anchor");
	if (grow((void **)&b->anchors, &b->cap_anchors, b->nanchors + 1,
	         sizeof(*b->anchors)) < 0)
		return -1;
	if ((uint64_t)(b->nanchors + 1) * 2 > b->nslots) {
		uint32_t size = b->nslots == 0 ? 64 : b->nslots * 2;
		uint32_t *slots = sl_calloc(size, sizeof(*slots));
		if (slots == NULL)
			return oom("reading YAML anchors");
		sl_free(b->slots);
		b->slots = slots;
		b->nslots = size;
		for (uint32_t i = 0; i < b->nanchors; i++)
			*anchor_slot(b, b->anchors[i].name, b->anchors[i].len) =
			        i + 1;
	}
	char *name = sl_arena_strndup(&b->doc->arena, text, len);
	if (name == NULL)
		return -1;
	struct anchor *a = &b->anchors[b->nanchors];
	a->name = name;
	a->len = len;
	a->node = node;
	a->weight = 1;
	a->height = 1;
	a->done = false;
	*anchor_slot(b, name, len) = b->nanchors + 1;
	return (int32_t)b->nanchors++;
}

/** Whether key node `k` is a merge key (`<<`). */
static bool
is_merge_key(const struct sl_conf *k)
{
	if (k->kind != SL_CONF_SCALAR || k->len != 2 ||
	    memcmp(k->text, "<<", 2) != 0)
		return false;
	return (k->tag == NULL && k->plain) || tag_is(k->tag, "merge");
}

/** Add `node` (standing for `weight` nodes, `height` high) to the top. */
static int
add_child(struct builder *b, struct sl_conf *node, uint64_t weight,
          uint32_t height)
{
	if (b->nframes == 0) {
		b->root = node;
		return 0;
	}
	struct frame *f = &b->frames[b->nframes - 1];
	if (f->node->kind == SL_CONF_MAP && f->n % 2 == 0 &&
	    node->kind != SL_CONF_SCALAR)
		return err_at(SL_EPARSE, node->file, node->line, node->col,
		              "a mapping key must be a scalar, not a %s",
		              sl_conf_kind_name(node->kind));
	if (f->n == UINT32_MAX - 1)
		return err_at(SL_ELIMIT, node->file, node->line, node->col,
		              "too many items");
	if (grow((void **)&f->items, &f->cap, f->n + 1, sizeof(*f->items)) < 0)
		return -1;
	f->items[f->n++] = node;
	f->weight += weight;
	if (height > f->height)
		f->height = height;
	return 0;
}

/**
 * Apply the merge keys of mapping frame `f`: the pairs of merged mappings
 * (of a list of them, the first wins) come first, then the mapping's own.
 */
static int
apply_merges(struct builder *b, struct frame *f)
{
	uint32_t total = 0;
	bool any = false;
	for (uint32_t i = 0; i < f->n; i += 2) {
		struct sl_conf *k = f->items[i], *v = f->items[i + 1];
		if (!is_merge_key(k)) {
			total += 2;
			continue;
		}
		any = true;
		if (v->kind == SL_CONF_MAP && v->tag == NULL) {
			total += 2 * v->n;
			continue;
		}
		if (v->kind != SL_CONF_SEQ || v->tag != NULL)
			goto bad;
		for (uint32_t j = 0; j < v->n; j++) {
			if (v->items[j]->kind != SL_CONF_MAP)
				return err_at(
				        SL_EPARSE, v->items[j]->file,
				        v->items[j]->line, v->items[j]->col,
				        "expected a mapping for merging, "
				        "got a %s",
				        sl_conf_kind_name(v->items[j]->kind));
			total += 2 * v->items[j]->n;
		}
		continue;
	bad:
		return err_at(SL_EPARSE, v->file, v->line, v->col,
		              "expected a mapping or a list of mappings for "
		              "merging, got a %s",
		              sl_conf_kind_name(v->kind));
	}
	if (!any)
		return 0;
	struct sl_conf **items =
	        sl_arena_alloc(&b->doc->arena, (size_t)total * sizeof(*items));
	if (items == NULL && total > 0)
		return -1;
	uint32_t n = 0;
	for (uint32_t i = 0; i < f->n; i += 2) {
		struct sl_conf *k = f->items[i], *v = f->items[i + 1];
		if (!is_merge_key(k))
			continue;
		/* An empty mapping (`{}`) has no items array at all. */
		if (v->kind == SL_CONF_MAP) {
			if (v->n > 0)
				memcpy(items + n, v->items,
				       2 * v->n * sizeof(*items));
			n += 2 * v->n;
			continue;
		}
		for (uint32_t j = v->n; j-- > 0;) {
			struct sl_conf *m = v->items[j];
			if (m->n > 0)
				memcpy(items + n, m->items,
				       2 * m->n * sizeof(*items));
			n += 2 * m->n;
		}
	}
	for (uint32_t i = 0; i < f->n; i += 2)
		if (!is_merge_key(f->items[i])) {
			items[n++] = f->items[i];
			items[n++] = f->items[i + 1];
		}
	f->node->items = items;
	f->node->n = n / 2;
	return 1;
}

/** Close the top frame and add its node to its parent. */
static int
close_frame(struct builder *b)
{
	struct frame *f = &b->frames[b->nframes - 1];
	struct sl_conf *node = f->node;
	int merged = 0;
	if (node->kind == SL_CONF_MAP) {
		merged = apply_merges(b, f);
		if (merged < 0)
			return -1;
	}
	if (merged == 0) {
		node->n = node->kind == SL_CONF_MAP ? f->n / 2 : f->n;
		if (f->n > 0) {
			node->items = sl_arena_alloc(&b->doc->arena,
			                             (size_t)f->n *
			                                     sizeof(*f->items));
			if (node->items == NULL)
				return -1;
			memcpy(node->items, f->items,
			       (size_t)f->n * sizeof(*f->items));
		}
	}
	uint64_t weight = f->weight;
	uint32_t height = f->height + 1;
	if (f->anchor >= 0) {
		struct anchor *a = &b->anchors[f->anchor];
		a->weight = weight;
		a->height = height;
		a->done = true;
	}
	sl_free(f->items);
	f->items = NULL;
	b->nframes--;
	return add_child(b, node, weight, height);
}

/** Position of an event: the earliest of its anchor, tag and content. */
static void
event_pos(struct builder *b, struct fy_event *e, uint32_t *line, uint32_t *col)
{
	const struct fy_mark *best = fy_event_start_mark(e);
	struct fy_token *toks[2] = {fy_event_get_anchor_token(e),
	                            fy_event_get_tag_token(e)};
	for (int i = 0; i < 2; i++) {
		if (toks[i] == NULL)
			continue;
		const struct fy_mark *m = fy_token_start_mark(toks[i]);
		if (m != NULL && m->line >= 0 &&
		    (best == NULL || best->line < 0 ||
		     m->input_pos < best->input_pos))
			best = m;
	}
	if (best != NULL && best->line >= 0) {
		b->line = (uint32_t)best->line + 1;
		b->col = (uint32_t)best->column + 1;
		/*
		 * Marks of aliases, anchors and quoted scalars point past
		 * their '*', '&' or quote: step back to it.
		 */
		char c = best->input_pos > 0 && best->input_pos <= b->len
		                 ? b->buf[best->input_pos - 1]
		                 : '\0';
		bool back = false;
		if (e->type == FYET_ALIAS)
			back = c == '*';
		else if (best != fy_event_start_mark(e))
			back = c == '&';
		else if (e->type == FYET_SCALAR)
			back = (c == '\'' || c == '"') &&
			       (fy_token_scalar_style(e->scalar.value) ==
			                FYSS_SINGLE_QUOTED ||
			        fy_token_scalar_style(e->scalar.value) ==
			                FYSS_DOUBLE_QUOTED);
		if (back && b->col > 1)
			b->col--;
	} else if (e->type == FYET_SCALAR) {
		b->line = b->end_line;
		b->col = b->end_col;
	}
	*line = b->line;
	*col = b->col;
}

/** Remember where event `e` ended. */
static void
event_end(struct builder *b, struct fy_event *e)
{
	const struct fy_mark *m = fy_event_end_mark(e);
	if (m != NULL && m->line >= 0) {
		b->end_line = (uint32_t)m->line + 1;
		b->end_col = (uint32_t)m->column + 1;
	}
}

/** Set the node's tag from the event's tag token. */
static int
set_tag(struct builder *b, struct fy_event *e, struct sl_conf *n)
{
	struct fy_token *t = fy_event_get_tag_token(e);
	if (t == NULL)
		return 0;
	size_t len;
	const char *text = fy_token_get_text(t, &len);
	if (text == NULL)
		return oom("reading a YAML tag");
	n->tag = sl_arena_strndup(&b->doc->arena, text, len);
	return n->tag == NULL ? -1 : 0;
}

/** Bytes of the ASCII line break at p[0..e), or 0. */
static size_t
sq_break(const char *p, const char *e)
{
	if (p >= e)
		return 0;
	if (*p == '\r')
		return p + 1 < e && p[1] == '\n' ? 2 : 1;
	return *p == '\n' ? 1 : 0;
}

/**
 * Decode a single-quoted scalar whose raw text between the quotes is
 * raw[0..len) the way YAML's flow folding and PyYAML do: '' is a quote,
 * blanks around a line break are dropped, one break folds to a space and
 * n + 1 breaks to n newlines. libfyaml 0.7.12 garbles runs of ''
 * ('ab''''cd' reads as "ab'''c", and leaks its chunk array) and folds a
 * CRLF before the closing quote to a newline, so single-quoted scalars are
 * decoded here. Returns 0 with the NUL-terminated text in the document's
 * arena in `*out` (`*out_len` bytes), 1 to leave the scalar to libfyaml
 * (it has a NEL, LS or PS line break), or -1.
 */
static int
sq_decode(struct builder *b, const char *raw, size_t len, char **out,
          size_t *out_len)
{
	const char *p = raw, *e = raw + len;
	for (const char *q = raw; q + 1 < e; q++) {
		unsigned char c = (unsigned char)q[0], d = (unsigned char)q[1];
		/* NEL, LS and PS break lines in YAML 1.1: left to libfyaml. */
		if ((c == 0xc2 && d == 0x85) ||
		    (c == 0xe2 && d == 0x80 && q + 2 < e &&
		     ((unsigned char)q[2] == 0xa8 ||
		      (unsigned char)q[2] == 0xa9)))
			return 1;
	}
	char *t = sl_arena_alloc(&b->doc->arena, len + 1);
	if (t == NULL)
		return -1;
	size_t n = 0;
	while (p < e) {
		/* A run of non-blank characters, '' read as one quote. */
		while (p < e && *p != ' ' && *p != '\t' &&
		       sq_break(p, e) == 0) {
			t[n++] = *p;
			p += *p == '\'' && p + 1 < e && p[1] == '\'' ? 2 : 1;
		}
		const char *ws = p;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		size_t br = sq_break(p, e);
		if (br == 0) {
			/* Blanks inside a line (or before the quote) stay. */
			memcpy(t + n, ws, (size_t)(p - ws));
			n += (size_t)(p - ws);
			continue;
		}
		/* A line break: fold it and the empty lines after it. */
		p += br;
		uint32_t breaks = 0;
		for (;;) {
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			if ((br = sq_break(p, e)) == 0)
				break;
			p += br;
			breaks++;
		}
		if (breaks == 0)
			t[n++] = ' ';
		for (uint32_t i = 0; i < breaks; i++)
			t[n++] = '\n';
	}
	t[n] = '\0';
	*out = t;
	*out_len = n;
	return 0;
}

/** Handle one event. 1 at the end of the stream, 0 to go on, -1. */
static int
on_event(struct builder *b, struct fy_event *e)
{
	uint32_t line, col;
	event_pos(b, e, &line, &col);
	switch (e->type) {
	case FYET_NONE:
	case FYET_STREAM_START:
	case FYET_DOCUMENT_END:
		return 0;
	case FYET_STREAM_END:
		return 1;
	case FYET_DOCUMENT_START:
		if (b->ndocs++ > 0)
			return err_at(SL_EPARSE, b->name, line, col,
			              "expected one YAML document, found "
			              "another");
		return 0;
	case FYET_SCALAR: {
		struct sl_conf *n =
		        node_new(b->doc, SL_CONF_SCALAR, b->name, line, col);
		if (n == NULL || set_tag(b, e, n) < 0)
			return -1;
		size_t len = 0;
		char *own = NULL;
		const char *text = NULL;
		int sq = 1;
		if (fy_token_scalar_style(e->scalar.value) ==
		    FYSS_SINGLE_QUOTED) {
			const struct fy_mark *s0 =
			        fy_token_start_mark(e->scalar.value);
			const struct fy_mark *s1 =
			        fy_token_end_mark(e->scalar.value);
			if (s0 != NULL && s1 != NULL &&
			    s0->input_pos <= s1->input_pos &&
			    s1->input_pos <= b->len)
				sq = sq_decode(b, b->buf + s0->input_pos,
				               s1->input_pos - s0->input_pos,
				               &own, &len);
			if (sq < 0)
				return -1;
		}
		if (sq == 0) {
			/* Decoded here (into the arena) already. */
			n->text = own;
			n->len = len;
			len = 0;
		} else {
			text = fy_token_get_text(e->scalar.value, &len);
			if (text == NULL && len != 0)
				return oom("reading a YAML scalar");
		}
		if (len > 0) {
			char *t = sl_arena_strndup(&b->doc->arena, text, len);
			if (t == NULL)
				return -1;
			n->text = t;
			n->len = len;
		}
		n->plain = fy_token_scalar_style(e->scalar.value) == FYSS_PLAIN;
		if (e->scalar.anchor != NULL) {
			int32_t ai = anchor_add(b, e->scalar.anchor, n);
			if (ai < 0)
				return -1;
			b->anchors[ai].done = true;
		}
		return add_child(b, n, 1, 1);
	}
	case FYET_SEQUENCE_START:
	case FYET_MAPPING_START: {
		if (b->nframes + 1 > DEPTH_MAX)
			return err_at(SL_ELIMIT, b->name, line, col,
			              "nesting deeper than %d levels",
			              DEPTH_MAX);
		enum sl_conf_kind k = e->type == FYET_SEQUENCE_START
		                              ? SL_CONF_SEQ
		                              : SL_CONF_MAP;
		struct sl_conf *n = node_new(b->doc, k, b->name, line, col);
		if (n == NULL || set_tag(b, e, n) < 0)
			return -1;
		if (grow((void **)&b->frames, &b->cap_frames, b->nframes + 1,
		         sizeof(*b->frames)) < 0)
			return -1;
		struct fy_token *at = k == SL_CONF_SEQ
		                              ? e->sequence_start.anchor
		                              : e->mapping_start.anchor;
		int32_t ai = -1;
		if (at != NULL && (ai = anchor_add(b, at, n)) < 0)
			return -1;
		struct frame *f = &b->frames[b->nframes++];
		memset(f, 0, sizeof(*f));
		f->node = n;
		f->weight = 1;
		f->anchor = ai;
		return 0;
	}
	case FYET_SEQUENCE_END:
	case FYET_MAPPING_END:
		return close_frame(b);
	case FYET_ALIAS: {
		size_t len;
		const char *name = fy_token_get_text(e->alias.anchor, &len);
		if (name == NULL)
			return oom("reading a YAML alias");
		struct anchor *a = anchor_find(b, name, len);
		if (a == NULL)
			return err_at(SL_EPARSE, b->name, line, col,
			              "alias *%.*s names no anchor",
			              (int)(len > 64 ? 64 : len), name);
		if (!a->done)
			return err_at(SL_EPARSE, b->name, line, col,
			              "alias *%.*s refers to a node that "
			              "contains it (a cycle)",
			              (int)(len > 64 ? 64 : len), name);
		if (b->nframes + a->height > DEPTH_MAX)
			return err_at(SL_ELIMIT, b->name, line, col,
			              "alias *%.*s nests deeper than %d levels",
			              (int)(len > 64 ? 64 : len), name,
			              DEPTH_MAX);
		b->expanded += a->weight;
		if (b->expanded > b->expand_max)
			return err_at(SL_ELIMIT, b->name, line, col,
			              "aliases expand to more than %llu nodes "
			              "(%d times the input size)",
			              (unsigned long long)b->expand_max,
			              EXPAND_FACTOR);
		return add_child(b, a->node, a->weight, a->height);
	}
	}
	return 0;
}

/** Turn libfyaml's collected error into one sluice error. */
static int
parse_error(struct builder *b, struct fy_diag *diag)
{
	void *it = NULL;
	struct fy_diag_error *de;
	while ((de = fy_diag_errors_iterate(diag, &it)) != NULL) {
		if (de->type < FYET_ERROR)
			continue;
		return err_at(SL_EPARSE, b->name,
		              de->line > 0 ? (uint32_t)de->line : b->line,
		              de->column > 0 ? (uint32_t)de->column : b->col,
		              "%s", de->msg != NULL ? de->msg : "syntax error");
	}
	return err_at(SL_EPARSE, b->name, b->line, b->col, "invalid YAML");
}

struct sl_conf *
sl_conf_doc_parse(struct sl_conf_doc *d, const char *buf, size_t len,
                  const char *name)
{
	if (name == NULL)
		name = "<yaml>";
	if (check_text(buf, len, name) < 0)
		return NULL;
	struct builder b;
	memset(&b, 0, sizeof(b));
	b.doc = d;
	b.buf = buf;
	b.len = len;
	b.line = 1;
	b.col = 1;
	b.end_line = 1;
	b.end_col = 1;
	b.expand_max = (uint64_t)len * EXPAND_FACTOR;
	if (b.expand_max < EXPAND_MIN)
		b.expand_max = EXPAND_MIN;
	b.name = sl_arena_strndup(&d->arena, name, strlen(name));
	if (b.name == NULL)
		return NULL;

	struct fy_diag_cfg dc;
	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.output_fn = fy_quiet;
	dc.colorize = false;
	struct fy_diag *diag = fy_diag_create(&dc);
	if (diag == NULL) {
		oom("creating the YAML parser");
		return NULL;
	}
	fy_diag_set_collect_errors(diag, true);
	struct fy_parse_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_1 | FYPCF_JSON_NONE |
	            FYPCF_DISABLE_MMAP_OPT;
	cfg.diag = diag;
	struct fy_parser *fyp = fy_parser_create(&cfg);
	int rc = -1;
	if (fyp == NULL) {
		oom("creating the YAML parser");
		goto out;
	}
	if (fy_parser_set_string(fyp, len > 0 ? buf : "", len) != 0) {
		oom("starting the YAML parser");
		goto out;
	}
	for (;;) {
		struct fy_event *e = fy_parser_parse(fyp);
		if (e == NULL) {
			if (fy_parser_get_stream_error(fyp))
				parse_error(&b, diag);
			else
				err_at(SL_EPARSE, b.name, b.line, b.col,
				       "unexpected end of YAML");
			break;
		}
		int r = on_event(&b, e);
		event_end(&b, e);
		fy_parser_event_free(fyp, e);
		if (r < 0) {
			struct sl_error *le = sl_diag_last();
			if (le != NULL && !names_place(le->msg))
				sl_diag_wrap(le->code, "%s:%u:%u", b.name,
				             b.line, b.col);
			break;
		}
		if (r == 1) {
			rc = 0;
			break;
		}
	}
out:
	if (fyp != NULL)
		fy_parser_destroy(fyp);
	fy_diag_destroy(diag);
	for (uint32_t i = 0; i < b.nframes; i++)
		sl_free(b.frames[i].items);
	sl_free(b.frames);
	sl_free(b.anchors);
	sl_free(b.slots);
	if (rc < 0)
		return NULL;
	if (b.root == NULL) {
		/* An empty stream: one null document. */
		b.root = node_new(d, SL_CONF_SCALAR, b.name, 1, 1);
		if (b.root != NULL)
			b.root->plain = true;
	}
	return b.root;
}

/** SL_ELIMIT: the file at `path` holds more than `max` bytes. */
static void
too_large(const char *path, size_t max)
{
	if (max % (1 << 20) == 0)
		sl_diag_set(SL_ELIMIT,
		            "%s: larger than %zu MiB, the most sluice reads of "
		            "a configuration file",
		            path, max >> 20);
	else
		sl_diag_set(SL_ELIMIT,
		            "%s: larger than %zu bytes, the most sluice reads "
		            "of a configuration file",
		            path, max);
}

char *
sl_conf_read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		sl_diag_set_errno("cannot open %s", path);
		return NULL;
	}
	struct stat st;
	size_t cap = 4096;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		cap = (size_t)st.st_size + 1;
	if (cap > max + 1)
		cap = max + 1;
	char *buf = sl_malloc(cap);
	if (buf == NULL) {
		oom("reading a YAML file");
		goto fail;
	}
	size_t n = 0;
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				too_large(path, max);
				goto fail;
			}
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *p = sl_realloc(buf, ncap);
			if (p == NULL) {
				oom("reading a YAML file");
				goto fail;
			}
			buf = p;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			sl_diag_set_errno("cannot read %s", path);
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		too_large(path, max);
		goto fail;
	}
	close(fd);
	*len = n;
	return buf;
fail:
	sl_free(buf);
	close(fd);
	return NULL;
}

struct sl_conf *
sl_conf_doc_parse_file(struct sl_conf_doc *d, const char *path)
{
	size_t len;
	char *buf = sl_conf_read_file(path, SL_CONF_FILE_MAX, &len);
	if (buf == NULL)
		return NULL;
	struct sl_conf *root = sl_conf_doc_parse(d, buf, len, path);
	sl_free(buf);
	return root;
}

struct sl_conf_doc *
sl_conf_load(const char *buf, size_t len, const char *name)
{
	struct sl_conf_doc *d = sl_conf_doc_new();
	if (d == NULL)
		return NULL;
	d->root = sl_conf_doc_parse(d, buf, len, name);
	if (d->root == NULL) {
		sl_conf_doc_delete(d);
		return NULL;
	}
	return d;
}

struct sl_conf_doc *
sl_conf_load_file(const char *path)
{
	struct sl_conf_doc *d = sl_conf_doc_new();
	if (d == NULL)
		return NULL;
	d->root = sl_conf_doc_parse_file(d, path);
	if (d->root == NULL) {
		sl_conf_doc_delete(d);
		return NULL;
	}
	return d;
}

/* ------------------------------------------------------------------ */
/* Nodes from values                                                   */

/** sl_conf_from_value() at `depth`. */
static struct sl_conf *
from_value(struct sl_conf_doc *d, const struct sl_value *v,
           const struct sl_conf *at, uint32_t depth)
{
	if (depth > DEPTH_MAX) {
		node_err(SL_ELIMIT, at, NULL, "nesting deeper than %d levels",
		         DEPTH_MAX);
		return NULL;
	}
	struct sl_value num = *v;
	if (v->type == SL_VNUMBER) {
		/* Keep the text when YAML reads it back the same. */
		if (match_int(v->u.s, v->len) == 10 ||
		    match_float(v->u.s, v->len) == FK_DEC)
			num.type = SL_VNUMBER;
		else
			num = sl_value_number(*v);
	}
	enum sl_conf_kind kind = num.type == SL_VARRAY    ? SL_CONF_SEQ
	                         : num.type == SL_VOBJECT ? SL_CONF_MAP
	                                                  : SL_CONF_SCALAR;
	struct sl_conf *n = node_new(d, kind, at->file, at->line, at->col);
	if (n == NULL)
		return NULL;
	char tmp[64];
	const char *text = NULL;
	size_t len = 0;
	switch (num.type) {
	case SL_VNULL:
		text = "null";
		n->plain = true;
		break;
	case SL_VBOOL:
		text = num.u.b ? "true" : "false";
		n->plain = true;
		break;
	case SL_VINT:
		snprintf(tmp, sizeof(tmp), "%lld", (long long)num.u.i);
		text = tmp;
		n->plain = true;
		break;
	case SL_VDOUBLE:
		if (isnan(num.u.d))
			text = ".nan";
		else if (isinf(num.u.d))
			text = num.u.d < 0 ? "-.inf" : ".inf";
		else {
			snprintf(tmp, sizeof(tmp), "%.17g", num.u.d);
			text = tmp;
		}
		n->plain = true;
		if (match_float(text, strlen(text)) == FK_NONE)
			n->tag = STD_TAG "float";
		break;
	case SL_VNUMBER:
		/* JSON number text that reads back as the same YAML number. */
		text = v->u.s;
		len = v->len;
		n->plain = true;
		break;
	case SL_VSTR:
		text = num.u.s;
		len = num.len;
		break;
	case SL_VARRAY:
	case SL_VOBJECT: {
		uint32_t cnt = num.type == SL_VARRAY ? num.len : 2 * num.len;
		n->n = num.len;
		if (cnt == 0)
			return n;
		n->items = sl_arena_alloc(&d->arena, cnt * sizeof(*n->items));
		if (n->items == NULL)
			return NULL;
		for (uint32_t i = 0; i < num.len; i++) {
			if (num.type == SL_VARRAY) {
				n->items[i] = from_value(d, &num.u.items[i], at,
				                         depth + 1);
				if (n->items[i] == NULL)
					return NULL;
				continue;
			}
			const struct sl_member *m = &num.u.members[i];
			struct sl_value k = sl_str_ref(m->key, m->key_len);
			n->items[2 * i] = from_value(d, &k, at, depth + 1);
			n->items[2 * i + 1] =
			        n->items[2 * i] == NULL
			                ? NULL
			                : from_value(d, &m->val, at, depth + 1);
			if (n->items[2 * i + 1] == NULL)
				return NULL;
		}
		return n;
	}
	}
	if (num.type != SL_VSTR && num.type != SL_VNUMBER)
		len = strlen(text);
	if (len == 0)
		return n;
	char *t = sl_arena_strndup(&d->arena, text, len);
	if (t == NULL)
		return NULL;
	n->text = t;
	n->len = len;
	return n;
}

struct sl_conf *
sl_conf_from_value(struct sl_conf_doc *d, const struct sl_value *v,
                   const struct sl_conf *at)
{
	return from_value(d, v, at, 1);
}

int
sl_conf_check_keys(const struct sl_conf *map, const char *const *known,
                   const char *what, const char *owner)
{
	if (map == NULL || map->kind != SL_CONF_MAP)
		return 0;
	for (uint32_t i = 0; i < map->n; i++) {
		const struct sl_conf *k = map->items[2 * i];
		bool found = false;
		for (size_t j = 0; known[j] != NULL && !found; j++)
			found = k->kind == SL_CONF_SCALAR &&
			        strcmp(k->text, known[j]) == 0;
		if (found)
			continue;
		char list[1024] = "";
		size_t len = 0;
		for (size_t j = 0; known[j] != NULL && len < sizeof(list); j++)
			len += (size_t)snprintf(list + len, sizeof(list) - len,
			                        "%s%s", j ? ", " : "",
			                        known[j]);
		bool arg = what != NULL && strcmp(what, "arguments") == 0;
		return sl_conf_error(k, what,
		                     "unknown %s '%s' for %s; it takes: %s",
		                     arg ? "argument" : "option",
		                     k->kind == SL_CONF_SCALAR ? k->text : "?",
		                     owner, list[0] != '\0' ? list : "nothing");
	}
	return 0;
}
