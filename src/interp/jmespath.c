/*
 * JMESPath: a Pratt parser into a compact syntax tree, and a tree walker.
 *
 * The parser reads tokens one at a time (with one more of lookahead) and
 * builds nodes in the expression's own arena. Binding powers are the
 * specification's. Chains of fields, indexes and slices are kept flat (one
 * node with n children applied in turn) so `a.b.c...` neither deepens the
 * tree nor the evaluator's recursion. Both the parser's recursion and the
 * tree's depth are capped at SL_JMES_DEPTH_MAX.
 *
 * The evaluator returns values by copy (16 bytes), pointing into the
 * document or the literals; only projections, multi-selects, slices with a
 * step other than 1 and function results allocate, in the caller's arena.
 */
#include "sluice/jmespath.h"

#include "pyval.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"

/* ------------------------------------------------------------------ */
/* Syntax tree                                                          */

/** Node kinds. */
enum jkind {
	J_CURRENT,  /**< @ (also the implicit left of projections) */
	J_FIELD,    /**< an identifier */
	J_CHAIN,    /**< children applied in turn, stopping at null */
	J_INDEX,    /**< [n] */
	J_SLICE,    /**< [start:stop:step] (a projection's left) */
	J_PROJECT,  /**< list projection: kid 0 the list, kid 1 per item */
	J_VPROJECT, /**< object value projection */
	J_FILTER,   /**< filter: kid 0 list, kid 1 per item, kid 2 cond */
	J_FLATTEN,  /**< [] applied to kid 0 */
	J_CMP,      /**< comparator (op), kids 0 and 1 */
	J_AND,      /**< && */
	J_OR,       /**< || */
	J_NOT,      /**< ! */
	J_PIPE,     /**< | */
	J_MLIST,    /**< [a, b] */
	J_MHASH,    /**< {k: a}: kids are J_KEYVAL */
	J_KEYVAL,   /**< one pair of a multi-select hash */
	J_LITERAL,  /**< `json` or 'raw' */
	J_EXPREF,   /**< &expr */
	J_FUNC,     /**< function call: op is the function, kids the args */
};

/** Comparators (J_CMP's op). */
enum jcmp { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };

/** A syntax tree node. */
struct jnode {
	/** enum jkind. */
	uint8_t kind;
	/** Comparator, function number, or slice flags (bit per part). */
	uint8_t op;
	/** Depth of the subtree (1 for a leaf). */
	uint16_t depth;
	/** Children in use. */
	uint32_t n;
	/** Room in `kid`. */
	uint32_t cap;
	/** Children. */
	struct jnode **kid;
	/** Payload, by kind. */
	union {
		/** J_LITERAL. */
		struct sl_value lit;
		/** J_FIELD and J_KEYVAL: the name; J_KEYVAL: its slot. */
		struct {
			/** Name bytes. */
			const char *s;
			/** Name length. */
			uint32_t len;
			/** J_KEYVAL: member index in the result. */
			uint32_t slot;
		} name;
		/** J_INDEX. */
		int64_t idx;
		/** J_SLICE: start, stop, step (see op for which are set). */
		int64_t sl[3];
	} u;
};

/** A compiled expression. */
struct sl_jmes {
	/** Nodes, names and literals. */
	struct sl_arena arena;
	/** The tree. */
	struct jnode *root;
	/** Source text (NUL-terminated copy). */
	char *text;
};

/* ------------------------------------------------------------------ */
/* Functions table                                                      */

/** Argument type bits. */
enum {
	A_NULL = 1 << 0,   /**< null */
	A_BOOL = 1 << 1,   /**< boolean */
	A_NUM = 1 << 2,    /**< number */
	A_STR = 1 << 3,    /**< string */
	A_ARR = 1 << 4,    /**< any array */
	A_OBJ = 1 << 5,    /**< object */
	A_EXPREF = 1 << 6, /**< expression reference */
	A_ARRNUM = 1 << 7, /**< array of numbers */
	A_ARRSTR = 1 << 8, /**< array of strings */
	A_ANY = A_NULL | A_BOOL | A_NUM | A_STR | A_ARR | A_OBJ, /**< any */
};

/** Function numbers. */
enum jfn {
	F_ABS,
	F_AVG,
	F_CEIL,
	F_CONTAINS,
	F_ENDS_WITH,
	F_FLOOR,
	F_JOIN,
	F_KEYS,
	F_LENGTH,
	F_MAP,
	F_MAX,
	F_MAX_BY,
	F_MERGE,
	F_MIN,
	F_MIN_BY,
	F_NOT_NULL,
	F_REVERSE,
	F_SORT,
	F_SORT_BY,
	F_STARTS_WITH,
	F_SUM,
	F_TO_ARRAY,
	F_TO_NUMBER,
	F_TO_STRING,
	F_TYPE,
	F_VALUES,
	F_COUNT,
};

/** A function's signature. */
struct jfdef {
	/** Name. */
	const char *name;
	/** Parameters (the last repeats when variadic). */
	uint8_t nparams;
	/** Whether the last parameter repeats (one or more). */
	bool variadic;
	/** Type bits per parameter. */
	uint16_t types[2];
};

/** Signatures, by enum jfn (names sorted). */
static const struct jfdef fdefs[F_COUNT] = {
        [F_ABS] = {"abs", 1, false, {A_NUM, 0}},
        [F_AVG] = {"avg", 1, false, {A_ARRNUM, 0}},
        [F_CEIL] = {"ceil", 1, false, {A_NUM, 0}},
        [F_CONTAINS] = {"contains", 2, false, {A_ARR | A_STR, A_ANY}},
        [F_ENDS_WITH] = {"ends_with", 2, false, {A_STR, A_STR}},
        [F_FLOOR] = {"floor", 1, false, {A_NUM, 0}},
        [F_JOIN] = {"join", 2, false, {A_STR, A_ARRSTR}},
        [F_KEYS] = {"keys", 1, false, {A_OBJ, 0}},
        [F_LENGTH] = {"length", 1, false, {A_STR | A_ARR | A_OBJ, 0}},
        [F_MAP] = {"map", 2, false, {A_EXPREF, A_ARR}},
        [F_MAX] = {"max", 1, false, {A_ARRNUM | A_ARRSTR, 0}},
        [F_MAX_BY] = {"max_by", 2, false, {A_ARR, A_EXPREF}},
        [F_MERGE] = {"merge", 1, true, {A_OBJ, 0}},
        [F_MIN] = {"min", 1, false, {A_ARRNUM | A_ARRSTR, 0}},
        [F_MIN_BY] = {"min_by", 2, false, {A_ARR, A_EXPREF}},
        [F_NOT_NULL] = {"not_null", 1, true, {A_ANY, 0}},
        [F_REVERSE] = {"reverse", 1, false, {A_STR | A_ARR, 0}},
        [F_SORT] = {"sort", 1, false, {A_ARRNUM | A_ARRSTR, 0}},
        [F_SORT_BY] = {"sort_by", 2, false, {A_ARR, A_EXPREF}},
        [F_STARTS_WITH] = {"starts_with", 2, false, {A_STR, A_STR}},
        [F_SUM] = {"sum", 1, false, {A_ARRNUM, 0}},
        [F_TO_ARRAY] = {"to_array", 1, false, {A_ANY, 0}},
        [F_TO_NUMBER] = {"to_number", 1, false, {A_ANY, 0}},
        [F_TO_STRING] = {"to_string", 1, false, {A_ANY, 0}},
        [F_TYPE] = {"type", 1, false, {A_ANY, 0}},
        [F_VALUES] = {"values", 1, false, {A_OBJ, 0}},
};

/* ------------------------------------------------------------------ */
/* Lexer                                                                */

/** Token types. */
enum jtok {
	T_EOF,
	T_IDENT,
	T_QIDENT,
	T_NUMBER,
	T_LITERAL,
	T_DOT,
	T_STAR,
	T_FLATTEN,
	T_LBRACKET,
	T_FILTER,
	T_RBRACKET,
	T_LBRACE,
	T_RBRACE,
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_COLON,
	T_PIPE,
	T_OR,
	T_AND,
	T_NOT,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_AT,
	T_EXPREF,
	T_COUNT,
};

/** Left binding powers, by token type (the specification's). */
static const uint8_t lbp[T_COUNT] = {
        [T_PIPE] = 1,    [T_OR] = 2,      [T_AND] = 3,     [T_EQ] = 5,
        [T_NE] = 5,      [T_LT] = 5,      [T_LE] = 5,      [T_GT] = 5,
        [T_GE] = 5,      [T_FLATTEN] = 9, [T_STAR] = 20,   [T_FILTER] = 21,
        [T_DOT] = 40,    [T_NOT] = 45,    [T_LBRACE] = 50, [T_LBRACKET] = 55,
        [T_LPAREN] = 60,
};

/** Binding power below which a projection stops. */
#define PROJECTION_STOP 10

/** One token. */
struct jtoken {
	/** enum jtok. */
	uint8_t type;
	/** Byte offset in the source. */
	uint32_t pos;
	/** Bytes of source. */
	uint32_t len;
	/** T_NUMBER: the value (saturated). */
	int64_t num;
	/** T_IDENT, T_QIDENT, T_LITERAL: the value (strings decoded). */
	struct sl_value val;
};

/** Parser state. */
struct parser {
	/** Source. */
	const char *src;
	/** Source length. */
	size_t n;
	/** Next byte to lex. */
	size_t pos;
	/** Current token. */
	struct jtoken tok;
	/** The token after it, when `have_next`. */
	struct jtoken next;
	/** Whether `next` was lexed. */
	bool have_next;
	/** Recursion depth of expr(). */
	unsigned depth;
	/** Where nodes and literals go. */
	struct sl_arena *arena;
};

/** Set a parse error about token `t`: "column N: expected X, found Y". */
static void
perr_tok(const struct parser *p, const struct jtoken *t, const char *what)
{
	if (t->type == T_EOF) {
		sl_diag_set(SL_EPARSE,
		            "column %u: expected %s, found the end of the "
		            "expression",
		            t->pos + 1, what);
		return;
	}
	unsigned len = t->len > 24 ? 24 : t->len;
	sl_diag_set(SL_EPARSE, "column %u: expected %s, found '%.*s%s'",
	            t->pos + 1, what, (int)len, p->src + t->pos,
	            len < t->len ? "..." : "");
}

/** Whether `c` starts an identifier. */
static bool
ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/** Whether `c` continues an identifier. */
static bool
ident_char(unsigned char c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

/**
 * The end of a delimited lexeme opened at `start` (which holds the
 * delimiter), or 0 when it is not closed; a backslash escapes the byte
 * after it.
 */
static size_t
delimited_end(const struct parser *p, size_t start)
{
	char d = p->src[start];
	for (size_t i = start + 1; i < p->n; i++) {
		if (p->src[i] == '\\')
			i++;
		else if (p->src[i] == d)
			return i;
	}
	return 0;
}

/** Error for an unclosed delimiter at `start`. */
static int
unclosed(const struct parser *p, size_t start)
{
	sl_diag_set(SL_EPARSE,
	            "column %zu: expected a closing %c, found the end of "
	            "the expression",
	            start + 1, p->src[start]);
	return -1;
}

/**
 * Copy src[from..to) into the arena, replacing `\d` by `d` where d is the
 * delimiter (other escapes are kept as written). Returns the copy
 * (NUL-terminated, length in `*len`) or NULL.
 */
static char *
unescape(const struct parser *p, size_t from, size_t to, char d, size_t *len)
{
	char *out = sl_arena_alloc_aligned(p->arena, to - from + 3, 1);
	if (out == NULL)
		return NULL;
	size_t k = 0;
	for (size_t i = from; i < to; i++) {
		if (p->src[i] == '\\' && i + 1 < to) {
			if (p->src[i + 1] != d)
				out[k++] = '\\';
			out[k++] = p->src[++i];
			continue;
		}
		out[k++] = p->src[i];
	}
	out[k] = '\0';
	*len = k;
	return out;
}

/** Lex a backtick JSON literal at p->pos into `t`. */
static int
lex_json(struct parser *p, struct jtoken *t)
{
	size_t start = p->pos, end = delimited_end(p, start);
	if (end == 0)
		return unclosed(p, start);
	size_t len;
	char *s = unescape(p, start + 1, end, '`', &len);
	if (s == NULL)
		return -1;
	struct sl_json_opts o;
	sl_json_opts_init(&o);
	o.depth_max = SL_JMES_DEPTH_MAX;
	t->type = T_LITERAL;
	t->len = (uint32_t)(end + 1 - start);
	p->pos = end + 1;
	if (sl_json_parse(s, len, p->arena, &o, NULL, &t->val) == 0)
		return 0;
	if (sl_diag_code() == SL_EOOM || sl_diag_code() == SL_ELIMIT)
		return -1;
	/* The legacy form: text that is no JSON is a string. */
	size_t ws = 0;
	while (ws < len && (s[ws] == ' ' || s[ws] == '\t' || s[ws] == '\n' ||
	                    s[ws] == '\r'))
		ws++;
	char *q = sl_arena_alloc_aligned(p->arena, len - ws + 2, 1);
	if (q == NULL)
		return -1;
	q[0] = '"';
	memcpy(q + 1, s + ws, len - ws);
	q[len - ws + 1] = '"';
	if (sl_json_parse(q, len - ws + 2, p->arena, &o, NULL, &t->val) == 0)
		return 0;
	if (sl_diag_code() == SL_EOOM || sl_diag_code() == SL_ELIMIT)
		return -1;
	sl_diag_set(SL_EPARSE,
	            "column %zu: expected a JSON value, found '%.*s'",
	            start + 1, (int)(len > 24 ? 24 : len), s);
	return -1;
}

/** Lex one token at p->pos into `t`. */
static int
lex(struct parser *p, struct jtoken *t)
{
	while (p->pos < p->n &&
	       (p->src[p->pos] == ' ' || p->src[p->pos] == '\t' ||
	        p->src[p->pos] == '\n' || p->src[p->pos] == '\r'))
		p->pos++;
	memset(t, 0, sizeof(*t));
	t->pos = (uint32_t)p->pos;
	t->len = 1;
	if (p->pos >= p->n) {
		t->type = T_EOF;
		t->len = 0;
		return 0;
	}
	const char *s = p->src;
	size_t i = p->pos;
	unsigned char c = (unsigned char)s[i];
	char c1 = i + 1 < p->n ? s[i + 1] : '\0';
	if (ident_start(c)) {
		size_t j = i + 1;
		while (j < p->n && ident_char((unsigned char)s[j]))
			j++;
		t->type = T_IDENT;
		t->len = (uint32_t)(j - i);
		t->val = sl_str_ref(s + i, t->len);
		p->pos = j;
		return 0;
	}
	if ((c >= '0' && c <= '9') || (c == '-' && c1 >= '0' && c1 <= '9')) {
		size_t j = c == '-' ? i + 1 : i;
		int64_t v = 0;
		for (; j < p->n && s[j] >= '0' && s[j] <= '9'; j++) {
			if (v <= ((int64_t)1 << 59))
				v = v * 10 + (s[j] - '0');
		}
		t->type = T_NUMBER;
		t->num = c == '-' ? -v : v;
		t->len = (uint32_t)(j - i);
		p->pos = j;
		return 0;
	}
	p->pos = i + 1;
	switch (c) {
	case '.':
		t->type = T_DOT;
		return 0;
	case '*':
		t->type = T_STAR;
		return 0;
	case ']':
		t->type = T_RBRACKET;
		return 0;
	case '{':
		t->type = T_LBRACE;
		return 0;
	case '}':
		t->type = T_RBRACE;
		return 0;
	case '(':
		t->type = T_LPAREN;
		return 0;
	case ')':
		t->type = T_RPAREN;
		return 0;
	case ',':
		t->type = T_COMMA;
		return 0;
	case ':':
		t->type = T_COLON;
		return 0;
	case '@':
		t->type = T_AT;
		return 0;
	case '[':
		t->type = c1 == ']'   ? T_FLATTEN
		          : c1 == '?' ? T_FILTER
		                      : T_LBRACKET;
		break;
	case '|':
		t->type = c1 == '|' ? T_OR : T_PIPE;
		break;
	case '&':
		t->type = c1 == '&' ? T_AND : T_EXPREF;
		break;
	case '!':
		t->type = c1 == '=' ? T_NE : T_NOT;
		break;
	case '<':
		t->type = c1 == '=' ? T_LE : T_LT;
		break;
	case '>':
		t->type = c1 == '=' ? T_GE : T_GT;
		break;
	case '=':
		if (c1 != '=')
			goto unknown;
		t->type = T_EQ;
		break;
	case '"': {
		size_t end = delimited_end(p, i);
		if (end == 0)
			return unclosed(p, i);
		t->type = T_QIDENT;
		t->len = (uint32_t)(end + 1 - i);
		p->pos = end + 1;
		if (sl_json_parse(s + i, t->len, p->arena, NULL, NULL,
		                  &t->val) == 0)
			return 0;
		if (sl_diag_code() == SL_EOOM || sl_diag_code() == SL_ELIMIT)
			return -1;
		perr_tok(p, t, "a valid quoted identifier");
		return -1;
	}
	case '\'': {
		size_t end = delimited_end(p, i), len;
		if (end == 0)
			return unclosed(p, i);
		char *v = unescape(p, i + 1, end, '\'', &len);
		if (v == NULL)
			return -1;
		t->type = T_LITERAL;
		t->len = (uint32_t)(end + 1 - i);
		t->val = sl_str_ref(v, (uint32_t)len);
		p->pos = end + 1;
		return 0;
	}
	case '`':
		p->pos = i;
		return lex_json(p, t);
	default:
		goto unknown;
	}
	/* Two-byte tokens. */
	if (t->type == T_FLATTEN || t->type == T_FILTER || t->type == T_OR ||
	    t->type == T_AND || t->type == T_NE || t->type == T_LE ||
	    t->type == T_GE || t->type == T_EQ) {
		t->len = 2;
		p->pos = i + 2;
	}
	return 0;
unknown:
	sl_diag_set(SL_EPARSE, "column %zu: expected a token, found '%c'",
	            i + 1, c >= 0x20 && c < 0x7f ? c : '?');
	return -1;
}

/** Move to the next token. */
static int
advance(struct parser *p)
{
	if (p->have_next) {
		p->tok = p->next;
		p->have_next = false;
		return 0;
	}
	return lex(p, &p->tok);
}

/** The token after the current one. */
static const struct jtoken *
peek(struct parser *p)
{
	if (!p->have_next) {
		if (lex(p, &p->next) != 0)
			return NULL;
		p->have_next = true;
	}
	return &p->next;
}

/** Consume a token of type `type`, else an error expecting `what`. */
static int
expect(struct parser *p, enum jtok type, const char *what)
{
	if (p->tok.type != type) {
		perr_tok(p, &p->tok, what);
		return -1;
	}
	return advance(p);
}

/* ------------------------------------------------------------------ */
/* Node building                                                        */

/** A new node of `kind` with room for `cap` children. */
static struct jnode *
node_new(struct parser *p, enum jkind kind, uint32_t cap)
{
	struct jnode *n = sl_arena_alloc(p->arena, sizeof(*n));
	if (n == NULL)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->kind = (uint8_t)kind;
	n->depth = 1;
	if (cap > 0) {
		n->kid = sl_arena_alloc(p->arena, cap * sizeof(*n->kid));
		if (n->kid == NULL)
			return NULL;
		n->cap = cap;
	}
	return n;
}

/** Append child `k` to `n` (NULL `k` passes an error on). */
static int
node_add(struct parser *p, struct jnode *n, struct jnode *k)
{
	if (k == NULL)
		return -1;
	if (n->n == n->cap) {
		uint32_t cap = n->cap ? n->cap * 2 : 2;
		struct jnode **kid =
		        sl_arena_alloc(p->arena, cap * sizeof(*kid));
		if (kid == NULL)
			return -1;
		if (n->n > 0)
			memcpy(kid, n->kid, n->n * sizeof(*kid));
		n->kid = kid;
		n->cap = cap;
	}
	n->kid[n->n++] = k;
	if (k->depth + 1 > n->depth) {
		if (k->depth + 1 > SL_JMES_DEPTH_MAX) {
			sl_diag_set(
			        SL_ELIMIT,
			        "column %u: expression nests deeper than %d",
			        p->tok.pos + 1, SL_JMES_DEPTH_MAX);
			return -1;
		}
		n->depth = (uint16_t)(k->depth + 1);
	}
	return 0;
}

/** A node of `kind` over children a, b (and c when not NULL). */
static struct jnode *
node2(struct parser *p, enum jkind kind, struct jnode *a, struct jnode *b,
      struct jnode *c)
{
	if (a == NULL || b == NULL)
		return NULL;
	struct jnode *n = node_new(p, kind, c != NULL ? 3 : 2);
	if (n == NULL || node_add(p, n, a) != 0 || node_add(p, n, b) != 0 ||
	    (c != NULL && node_add(p, n, c) != 0))
		return NULL;
	return n;
}

/** `left` followed by `right` as one flat chain. */
static struct jnode *
chain(struct parser *p, struct jnode *left, struct jnode *right)
{
	if (left == NULL || right == NULL)
		return NULL;
	struct jnode *n = left;
	if (left->kind != J_CHAIN) {
		n = node_new(p, J_CHAIN, 4);
		if (n == NULL || node_add(p, n, left) != 0)
			return NULL;
	}
	if (right->kind == J_CHAIN) {
		for (uint32_t i = 0; i < right->n; i++) {
			if (node_add(p, n, right->kid[i]) != 0)
				return NULL;
		}
		return n;
	}
	return node_add(p, n, right) == 0 ? n : NULL;
}

/** An @ node. */
static struct jnode *
current(struct parser *p)
{
	return node_new(p, J_CURRENT, 0);
}

/* ------------------------------------------------------------------ */
/* Parser                                                               */

static struct jnode *expr(struct parser *p, unsigned rbp);

/** The right side of a projection, binding at `bp`. */
static struct jnode *projection_rhs(struct parser *p, unsigned bp);

/** After a '.': an identifier, '*', multi-select list or hash. */
static struct jnode *dot_rhs(struct parser *p, unsigned bp);

/** Multi-select list, after its '['. */
static struct jnode *
mlist(struct parser *p)
{
	struct jnode *n = node_new(p, J_MLIST, 2);
	if (n == NULL)
		return NULL;
	for (;;) {
		if (node_add(p, n, expr(p, 0)) != 0)
			return NULL;
		if (p->tok.type == T_RBRACKET)
			break;
		if (expect(p, T_COMMA, "',' or ']'") != 0)
			return NULL;
	}
	return advance(p) == 0 ? n : NULL;
}

/** Multi-select hash, after its '{'. */
static struct jnode *
mhash(struct parser *p)
{
	struct jnode *n = node_new(p, J_MHASH, 2);
	if (n == NULL)
		return NULL;
	uint32_t slots = 0;
	for (;;) {
		if (p->tok.type != T_IDENT && p->tok.type != T_QIDENT) {
			perr_tok(p, &p->tok, "an identifier");
			return NULL;
		}
		struct jnode *kv = node_new(p, J_KEYVAL, 1);
		if (kv == NULL)
			return NULL;
		kv->u.name.s = p->tok.val.u.s;
		kv->u.name.len = p->tok.val.len;
		/* A repeated key takes the first one's place. */
		kv->u.name.slot = slots;
		for (uint32_t i = 0; i < n->n; i++) {
			const struct jnode *o = n->kid[i];
			if (o->u.name.len == kv->u.name.len &&
			    memcmp(o->u.name.s, kv->u.name.s, o->u.name.len) ==
			            0) {
				kv->u.name.slot = o->u.name.slot;
				break;
			}
		}
		if (kv->u.name.slot == slots)
			slots++;
		if (advance(p) != 0 || expect(p, T_COLON, "':'") != 0 ||
		    node_add(p, kv, expr(p, 0)) != 0 || node_add(p, n, kv) != 0)
			return NULL;
		if (p->tok.type == T_RBRACE)
			break;
		if (expect(p, T_COMMA, "',' or '}'") != 0)
			return NULL;
	}
	n->u.name.slot = slots;
	return advance(p) == 0 ? n : NULL;
}

/** An index or slice, after '[' (the current token is a number or ':'). */
static struct jnode *
index_expr(struct parser *p)
{
	const struct jtoken *nx = peek(p);
	if (nx == NULL)
		return NULL;
	if (p->tok.type == T_NUMBER && nx->type != T_COLON) {
		struct jnode *n = node_new(p, J_INDEX, 0);
		if (n == NULL)
			return NULL;
		n->u.idx = p->tok.num;
		if (advance(p) != 0 || expect(p, T_RBRACKET, "']'") != 0)
			return NULL;
		return n;
	}
	struct jnode *n = node_new(p, J_SLICE, 0);
	if (n == NULL)
		return NULL;
	unsigned part = 0;
	uint32_t step_pos = 0;
	while (p->tok.type != T_RBRACKET) {
		if (p->tok.type == T_COLON && part < 2) {
			part++;
		} else if (p->tok.type == T_NUMBER && !(n->op & (1u << part))) {
			n->op |= (uint8_t)(1u << part);
			n->u.sl[part] = p->tok.num;
			step_pos = p->tok.pos;
		} else {
			perr_tok(p, &p->tok,
			         part < 2 ? "a number, ':' or ']'"
			                  : "a number or ']'");
			return NULL;
		}
		if (advance(p) != 0)
			return NULL;
	}
	if ((n->op & 4) && n->u.sl[2] == 0) {
		sl_diag_set(
		        SL_EPARSE,
		        "column %u: invalid-value: a slice step cannot be 0",
		        step_pos + 1);
		return NULL;
	}
	return advance(p) == 0 ? n : NULL;
}

/** After `left[` with a number or ':' next: an index, or a projection. */
static struct jnode *
index_or_slice(struct parser *p, struct jnode *left)
{
	struct jnode *i = index_expr(p);
	if (i == NULL)
		return NULL;
	if (i->kind == J_INDEX)
		return chain(p, left, i);
	return node2(p, J_PROJECT, chain(p, left, i),
	             projection_rhs(p, lbp[T_STAR]), NULL);
}

/** A filter projection over `left`, after its '[?'. */
static struct jnode *
filter(struct parser *p, struct jnode *left)
{
	struct jnode *cond = expr(p, 0);
	if (cond == NULL || expect(p, T_RBRACKET, "']'") != 0)
		return NULL;
	struct jnode *right = p->tok.type == T_FLATTEN
	                              ? current(p)
	                              : projection_rhs(p, lbp[T_FILTER]);
	return node2(p, J_FILTER, left, right, cond);
}

/** A flatten projection of `left`, after its '[]'. */
static struct jnode *
flatten(struct parser *p, struct jnode *left)
{
	struct jnode *f = node_new(p, J_FLATTEN, 1);
	if (f == NULL || node_add(p, f, left) != 0)
		return NULL;
	return node2(p, J_PROJECT, f, projection_rhs(p, lbp[T_FLATTEN]), NULL);
}

static struct jnode *
projection_rhs(struct parser *p, unsigned bp)
{
	switch (p->tok.type) {
	case T_LBRACKET:
	case T_FILTER:
		return expr(p, bp);
	case T_DOT:
		if (advance(p) != 0)
			return NULL;
		return dot_rhs(p, bp);
	default:
		if (lbp[p->tok.type] < PROJECTION_STOP)
			return current(p);
		perr_tok(p, &p->tok, "'.', '[' or '[?'");
		return NULL;
	}
}

static struct jnode *
dot_rhs(struct parser *p, unsigned bp)
{
	switch (p->tok.type) {
	case T_IDENT:
	case T_QIDENT:
	case T_STAR:
		return expr(p, bp);
	case T_LBRACKET:
		return advance(p) == 0 ? mlist(p) : NULL;
	case T_LBRACE:
		return advance(p) == 0 ? mhash(p) : NULL;
	default:
		perr_tok(p, &p->tok, "an identifier, '*', '[' or '{'");
		return NULL;
	}
}

/** Look up a function by name. */
static int
find_function(const char *s, size_t n)
{
	for (int i = 0; i < F_COUNT; i++) {
		if (strlen(fdefs[i].name) == n &&
		    memcmp(fdefs[i].name, s, n) == 0)
			return i;
	}
	return -1;
}

/** A function call on `left` (a field naming it), after its '('. */
static struct jnode *
call(struct parser *p, struct jnode *left, uint32_t lparen)
{
	if (left->kind != J_FIELD || left->op != 0) {
		sl_diag_set(SL_EPARSE,
		            "column %u: expected an operator, found '('",
		            lparen + 1);
		return NULL;
	}
	int f = find_function(left->u.name.s, left->u.name.len);
	if (f < 0) {
		sl_diag_set(
		        SL_EPARSE,
		        "column %u: unknown-function: no function named "
		        "'%.*s'",
		        lparen + 1 - left->u.name.len,
		        (int)(left->u.name.len > 32 ? 32 : left->u.name.len),
		        left->u.name.s);
		return NULL;
	}
	struct jnode *n = node_new(p, J_FUNC, 2);
	if (n == NULL)
		return NULL;
	n->op = (uint8_t)f;
	if (p->tok.type != T_RPAREN) {
		for (;;) {
			if (node_add(p, n, expr(p, 0)) != 0)
				return NULL;
			if (p->tok.type == T_RPAREN)
				break;
			if (expect(p, T_COMMA, "',' or ')'") != 0)
				return NULL;
		}
	}
	return advance(p) == 0 ? n : NULL;
}

/** The null denotation of the token just consumed (`t`). */
static struct jnode *
nud(struct parser *p, const struct jtoken *t)
{
	struct jnode *n;
	switch (t->type) {
	case T_LITERAL:
		n = node_new(p, J_LITERAL, 0);
		if (n != NULL)
			n->u.lit = t->val;
		return n;
	case T_IDENT:
	case T_QIDENT:
		if (t->type == T_QIDENT && p->tok.type == T_LPAREN) {
			perr_tok(p, &p->tok, "an operator");
			return NULL;
		}
		n = node_new(p, J_FIELD, 0);
		if (n != NULL) {
			n->u.name.s = t->val.u.s;
			n->u.name.len = t->val.len;
			n->op = t->type == T_QIDENT;
		}
		return n;
	case T_STAR:
		return node2(p, J_VPROJECT, current(p),
		             projection_rhs(p, lbp[T_STAR]), NULL);
	case T_FILTER:
		return filter(p, current(p));
	case T_LBRACE:
		return mhash(p);
	case T_LPAREN:
		n = expr(p, 0);
		if (n == NULL || expect(p, T_RPAREN, "')'") != 0)
			return NULL;
		return n;
	case T_FLATTEN:
		return flatten(p, current(p));
	case T_NOT:
		n = node_new(p, J_NOT, 1);
		if (n == NULL || node_add(p, n, expr(p, lbp[T_NOT])) != 0)
			return NULL;
		return n;
	case T_LBRACKET: {
		if (p->tok.type == T_NUMBER || p->tok.type == T_COLON)
			return index_or_slice(p, current(p));
		const struct jtoken *nx = peek(p);
		if (nx == NULL)
			return NULL;
		if (p->tok.type == T_STAR && nx->type == T_RBRACKET) {
			if (advance(p) != 0 || advance(p) != 0)
				return NULL;
			return node2(p, J_PROJECT, current(p),
			             projection_rhs(p, lbp[T_STAR]), NULL);
		}
		return mlist(p);
	}
	case T_AT:
		return current(p);
	case T_EXPREF:
		n = node_new(p, J_EXPREF, 1);
		if (n == NULL || node_add(p, n, expr(p, 0)) != 0)
			return NULL;
		return n;
	default:
		perr_tok(p, t, "an expression");
		return NULL;
	}
}

/** The left denotation of the token just consumed (`t`) after `left`. */
static struct jnode *
led(struct parser *p, const struct jtoken *t, struct jnode *left)
{
	struct jnode *n;
	switch (t->type) {
	case T_DOT:
		if (p->tok.type == T_STAR) {
			if (advance(p) != 0)
				return NULL;
			return node2(p, J_VPROJECT, left,
			             projection_rhs(p, lbp[T_DOT]), NULL);
		}
		return chain(p, left, dot_rhs(p, lbp[T_DOT]));
	case T_PIPE:
		return node2(p, J_PIPE, left, expr(p, lbp[T_PIPE]), NULL);
	case T_OR:
		return node2(p, J_OR, left, expr(p, lbp[T_OR]), NULL);
	case T_AND:
		return node2(p, J_AND, left, expr(p, lbp[T_AND]), NULL);
	case T_EQ:
	case T_NE:
	case T_LT:
	case T_LE:
	case T_GT:
	case T_GE:
		n = node2(p, J_CMP, left, expr(p, lbp[t->type]), NULL);
		if (n != NULL)
			n->op = (uint8_t)(C_EQ + (t->type - T_EQ));
		return n;
	case T_LPAREN:
		return call(p, left, t->pos);
	case T_FILTER:
		return filter(p, left);
	case T_FLATTEN:
		return flatten(p, left);
	case T_LBRACKET:
		if (p->tok.type == T_NUMBER || p->tok.type == T_COLON)
			return index_or_slice(p, left);
		if (expect(p, T_STAR, "a number, ':' or '*'") != 0 ||
		    expect(p, T_RBRACKET, "']'") != 0)
			return NULL;
		return node2(p, J_PROJECT, left, projection_rhs(p, lbp[T_STAR]),
		             NULL);
	default:
		perr_tok(p, t, "an operator or the end of the expression");
		return NULL;
	}
}

/** An expression binding tighter than `rbp`. */
static struct jnode *
expr(struct parser *p, unsigned rbp)
{
	if (++p->depth > SL_JMES_DEPTH_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "column %u: expression nests deeper "
		            "than %d",
		            p->tok.pos + 1, SL_JMES_DEPTH_MAX);
		return NULL;
	}
	struct jtoken t = p->tok;
	if (advance(p) != 0)
		return NULL;
	struct jnode *left = nud(p, &t);
	while (left != NULL && rbp < lbp[p->tok.type]) {
		t = p->tok;
		if (advance(p) != 0)
			return NULL;
		left = led(p, &t, left);
	}
	p->depth--;
	return left;
}

struct sl_jmes *
sl_jmes_compile(const char *text, size_t n)
{
	if (n > SL_JMES_TEXT_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "expression of %zu bytes is longer than %d", n,
		            SL_JMES_TEXT_MAX);
		return NULL;
	}
	if (text == NULL && n > 0) {
		sl_diag_set(SL_EINVAL, "no expression text");
		return NULL;
	}
	struct sl_jmes *j = sl_malloc(sizeof(*j));
	if (j == NULL) {
		sl_diag_set(SL_EOOM, "out of memory compiling an expression");
		return NULL;
	}
	sl_arena_create(&j->arena, 2048, (size_t)64 << 20);
	j->root = NULL;
	j->text = sl_arena_strndup(&j->arena, n > 0 ? text : "", n);
	if (j->text == NULL)
		goto fail;
	struct parser p = {
	        .src = j->text, .n = n, .pos = 0, .arena = &j->arena};
	if (advance(&p) != 0)
		goto fail;
	j->root = expr(&p, 0);
	if (j->root == NULL)
		goto fail;
	if (p.tok.type != T_EOF) {
		perr_tok(&p, &p.tok, "the end of the expression");
		goto fail;
	}
	return j;
fail:
	sl_arena_destroy(&j->arena);
	sl_free(j);
	return NULL;
}

void
sl_jmes_delete(struct sl_jmes *j)
{
	if (j == NULL)
		return;
	sl_arena_destroy(&j->arena);
	sl_free(j);
}

bool
sl_jmes_is_field(const struct sl_jmes *j, const char **name, size_t *n)
{
	if (j == NULL || j->root == NULL || j->root->kind != J_FIELD)
		return false;
	if (name != NULL)
		*name = j->root->u.name.s;
	if (n != NULL)
		*n = j->root->u.name.len;
	return true;
}

uint32_t
sl_jmes_field_path(const struct sl_jmes *j, const char **names, uint32_t *lens,
                   uint32_t max)
{
	if (j == NULL || j->root == NULL)
		return 0;
	const struct jnode *r = j->root;
	const struct jnode *const *kid = (const struct jnode *const *)&r;
	uint32_t n = 1;
	if (r->kind == J_CHAIN) {
		kid = (const struct jnode *const *)r->kid;
		n = r->n;
	}
	if (n == 0 || n > max)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		if (kid[i]->kind != J_FIELD)
			return 0;
		names[i] = kid[i]->u.name.s;
		lens[i] = kid[i]->u.name.len;
	}
	return n;
}

const char *
sl_jmes_text(const struct sl_jmes *j)
{
	return j != NULL ? j->text : NULL;
}

/* ------------------------------------------------------------------ */
/* Evaluation helpers                                                   */

/** Private value tag of an expression reference argument. */
#define V_EXPREF 0x7f

/** Whether `v` is a number of any representation. */
static bool
is_num(const struct sl_value *v)
{
	return v->type == SL_VINT || v->type == SL_VDOUBLE ||
	       v->type == SL_VNUMBER;
}

/** JMESPath truth. */
static bool
truthy(const struct sl_value *v)
{
	switch (v->type) {
	case SL_VNULL:
		return false;
	case SL_VBOOL:
		return v->u.b;
	case SL_VSTR:
	case SL_VARRAY:
	case SL_VOBJECT:
		return v->len > 0;
	default:
		return true;
	}
}

/** A number as a double. */
static double
num_double(struct sl_value v)
{
	v = sl_value_number(v);
	return v.type == SL_VINT ? (double)v.u.i : v.u.d;
}

/** Compare two numbers (-1, 0, 1; NaN compares as unordered: 2). */
static int
num_cmp(struct sl_value a, struct sl_value b)
{
	a = sl_value_number(a);
	b = sl_value_number(b);
	if (a.type == SL_VINT && b.type == SL_VINT)
		return a.u.i < b.u.i ? -1 : a.u.i > b.u.i;
	double x = a.type == SL_VINT ? (double)a.u.i : a.u.d;
	double y = b.type == SL_VINT ? (double)b.u.i : b.u.d;
	if (x < y)
		return -1;
	if (x > y)
		return 1;
	return x == y ? 0 : 2;
}

/** Compare two strings bytewise (code point order for UTF-8). */
static int
str_cmp(const struct sl_value *a, const struct sl_value *b)
{
	uint32_t n = a->len < b->len ? a->len : b->len;
	int c = n > 0 ? memcmp(a->u.s, b->u.s, n) : 0;
	if (c != 0)
		return c < 0 ? -1 : 1;
	return a->len < b->len ? -1 : a->len > b->len;
}

/** Compare two keys, both numbers or both strings. */
static int
key_cmp(const struct sl_value *a, const struct sl_value *b)
{
	if (a->type == SL_VSTR)
		return str_cmp(a, b);
	return num_cmp(*a, *b);
}

/** `n` values in the arena (none for 0). */
static struct sl_value *
alloc_values(struct sl_arena *a, size_t n)
{
	if (n == 0)
		return NULL;
	if (n > SL_VALUE_LEN_MAX) {
		sl_diag_set(SL_ELIMIT, "array of %zu items is too long", n);
		return NULL;
	}
	return sl_arena_alloc(a, n * sizeof(struct sl_value));
}

/** Number of UTF-8 code points (bytes that do not continue one). */
static size_t
code_points(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xC0) != 0x80;
	return k;
}

static int ev(struct sl_arena *a, const struct jnode *n,
              const struct sl_value *cur, struct sl_value *out);

/* ------------------------------------------------------------------ */
/* Functions                                                            */

/** Name of a value's type, for messages. */
static const char *
type_name(const struct sl_value *v)
{
	return v->type == V_EXPREF ? "expref"
	                           : sl_vtype_name((enum sl_vtype)v->type);
}

/** Whether `v` fits parameter type bits `t`. */
static bool
type_ok(const struct sl_value *v, unsigned t)
{
	unsigned bit;
	switch (v->type) {
	case SL_VNULL:
		bit = A_NULL;
		break;
	case SL_VBOOL:
		bit = A_BOOL;
		break;
	case SL_VINT:
	case SL_VDOUBLE:
	case SL_VNUMBER:
		bit = A_NUM;
		break;
	case SL_VSTR:
		bit = A_STR;
		break;
	case SL_VARRAY:
		bit = A_ARR;
		break;
	case SL_VOBJECT:
		bit = A_OBJ;
		break;
	default:
		bit = A_EXPREF;
		break;
	}
	if (t & bit)
		return true;
	if (bit != A_ARR || !(t & (A_ARRNUM | A_ARRSTR)))
		return false;
	if (v->len == 0)
		return true;
	/* Typed arrays: the first item picks which kind when both fit. */
	bool want_num = (t & A_ARRNUM) && is_num(&v->u.items[0]);
	if (!want_num && !((t & A_ARRSTR) && v->u.items[0].type == SL_VSTR))
		return false;
	for (uint32_t i = 0; i < v->len; i++) {
		if (want_num ? !is_num(&v->u.items[i])
		             : v->u.items[i].type != SL_VSTR)
			return false;
	}
	return true;
}

/** Words for type bits, for messages. */
static const char *
types_text(unsigned t)
{
	switch (t) {
	case A_NUM:
		return "a number";
	case A_STR:
		return "a string";
	case A_ARR:
		return "an array";
	case A_OBJ:
		return "an object";
	case A_EXPREF:
		return "an expression reference";
	case A_ARRNUM:
		return "an array of numbers";
	case A_ARRNUM | A_ARRSTR:
		return "an array of numbers or an array of strings";
	case A_ARRSTR:
		return "an array of strings";
	case A_ARR | A_STR:
		return "an array or a string";
	case A_STR | A_ARR | A_OBJ:
		return "a string, an array or an object";
	default:
		return "a value";
	}
}

/** Raise an invalid-type error for function `f`'s argument `i` (0-based). */
static int
bad_type(int f, unsigned i, const struct sl_value *v, const char *want)
{
	sl_diag_set(SL_EINVAL,
	            "invalid-type: %s() expects argument %u to be %s, got %s",
	            fdefs[f].name, i + 1, want, type_name(v));
	return -1;
}

/** Raise an invalid-type error about a key of a *_by function. */
static int
bad_key(int f, const struct sl_value *v, const char *want)
{
	sl_diag_set(SL_EINVAL,
	            "invalid-type: %s() expects the expression to give %s, "
	            "got %s",
	            fdefs[f].name, want, type_name(v));
	return -1;
}

/** A sort key with its item's position (stable ordering). */
struct skey {
	/** The key: a converted number or a string. */
	struct sl_value k;
	/** Position of its item. */
	uint32_t i;
};

/** qsort comparator: key order, then position. */
static int
skey_cmp(const void *x, const void *y)
{
	const struct skey *a = x, *b = y;
	int c = key_cmp(&a->k, &b->k);
	if (c == 2)
		c = 0;
	if (c != 0)
		return c;
	return a->i < b->i ? -1 : a->i > b->i;
}

/**
 * Keys of the items of `arr`: the items themselves, or `e` applied to
 * each (then all numbers or all strings, else invalid-type).
 */
static struct skey *
sort_keys(struct sl_arena *a, int f, const struct sl_value *arr,
          const struct jnode *e)
{
	struct skey *k = sl_arena_alloc(a, arr->len * sizeof(*k));
	if (k == NULL)
		return NULL;
	for (uint32_t i = 0; i < arr->len; i++) {
		struct sl_value v = arr->u.items[i];
		if (e != NULL) {
			if (ev(a, e, &arr->u.items[i], &v) != 0)
				return NULL;
			bool first_num = i == 0 ? is_num(&v) : is_num(&k[0].k);
			if (!is_num(&v) && v.type != SL_VSTR) {
				bad_key(f, &v, "a number or a string");
				return NULL;
			}
			if (i > 0 && (is_num(&v) != first_num)) {
				bad_key(f, &v,
				        first_num ? "a number" : "a string");
				return NULL;
			}
		}
		k[i].k = is_num(&v) ? sl_value_number(v) : v;
		k[i].i = i;
	}
	return k;
}

/** max/min/max_by/min_by over `arr` (sign: 1 for max, -1 for min). */
static int
fn_extreme(struct sl_arena *a, int f, const struct sl_value *arr,
           const struct jnode *e, int sign, struct sl_value *out)
{
	*out = sl_null();
	if (arr->len == 0)
		return 0;
	struct skey best = {sl_null(), 0};
	for (uint32_t i = 0; i < arr->len; i++) {
		struct sl_value v = arr->u.items[i];
		if (e != NULL) {
			if (ev(a, e, &arr->u.items[i], &v) != 0)
				return -1;
			if (!is_num(&v) && v.type != SL_VSTR)
				return bad_key(f, &v, "a number or a string");
			if (i > 0 && is_num(&v) != is_num(&best.k))
				return bad_key(f, &v,
				               is_num(&best.k) ? "a number"
				                               : "a string");
		}
		if (is_num(&v))
			v = sl_value_number(v);
		int c = i == 0 ? sign : key_cmp(&v, &best.k);
		if (c != 2 && c * sign > 0) {
			best.k = v;
			best.i = i;
		}
	}
	*out = arr->u.items[best.i];
	return 0;
}

/** A double result as an int when integral and in range. */
static struct sl_value
integral(double d)
{
	if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
		return sl_int((int64_t)d);
	return sl_double(d);
}

/** sum() and avg(). */
static void
fn_sum(const struct sl_value *arr, bool avg, struct sl_value *out)
{
	int64_t is = 0;
	double ds = 0;
	bool dbl = false;
	for (uint32_t i = 0; i < arr->len; i++) {
		struct sl_value v = sl_value_number(arr->u.items[i]);
		int64_t t;
		if (!dbl && v.type == SL_VINT &&
		    !__builtin_add_overflow(is, v.u.i, &t)) {
			is = t;
			continue;
		}
		if (!dbl) {
			dbl = true;
			ds = (double)is;
		}
		ds += v.type == SL_VINT ? (double)v.u.i : v.u.d;
	}
	if (avg)
		*out = arr->len == 0 ? sl_null()
		                     : sl_double((dbl ? ds : (double)is) /
		                                 (double)arr->len);
	else
		*out = dbl ? sl_double(ds) : sl_int(is);
}

/** to_number() of a string. */
static int
to_number(struct sl_arena *a, const struct sl_value *s, struct sl_value *out)
{
	*out = sl_null();
	const char *p = s->u.s;
	size_t n = s->len;
	while (n > 0 && (*p == ' ' || (*p >= '\t' && *p <= '\r')))
		p++, n--;
	while (n > 0 &&
	       (p[n - 1] == ' ' || (p[n - 1] >= '\t' && p[n - 1] <= '\r')))
		n--;
	if (n == 0)
		return 0;
	char local[64];
	char *b = local;
	if (n >= sizeof(local)) {
		b = sl_arena_alloc_aligned(a, n + 1, 1);
		if (b == NULL)
			return -1;
	}
	/* Drop underscores between digits (Python's int() and float()). */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '_') {
			if (i == 0 || i + 1 == n || p[i - 1] < '0' ||
			    p[i - 1] > '9' || p[i + 1] < '0' || p[i + 1] > '9')
				return 0;
			continue;
		}
		b[k++] = p[i];
	}
	b[k] = '\0';
	size_t i = b[0] == '+' || b[0] == '-' ? 1 : 0;
	size_t digits = 0, j = i;
	while (b[j] >= '0' && b[j] <= '9')
		j++, digits++;
	if (b[j] == '\0' && digits > 0) {
		errno = 0;
		long long v = strtoll(b, NULL, 10);
		if (errno != ERANGE) {
			*out = sl_int(v);
			return 0;
		}
		*out = sl_double(strtod(b, NULL));
		return 0;
	}
	bool ok = false;
	if (b[j] == '.') {
		j++;
		while (b[j] >= '0' && b[j] <= '9')
			j++, digits++;
	}
	if (digits > 0) {
		ok = true;
		if (b[j] == 'e' || b[j] == 'E') {
			j++;
			if (b[j] == '+' || b[j] == '-')
				j++;
			size_t e = 0;
			while (b[j] >= '0' && b[j] <= '9')
				j++, e++;
			ok = e > 0;
		}
		ok = ok && b[j] == '\0';
	} else {
		static const char *const special[] = {"inf", "infinity", "nan"};
		for (size_t q = 0; q < 3 && !ok; q++)
			ok = strcasecmp(b + i, special[q]) == 0;
	}
	if (ok)
		*out = sl_double(strtod(b, NULL));
	return 0;
}

/** Append `v` as Python's json.dumps(v, separators=(',', ':')) does. */
static int
put_json(struct sl_buf *b, const struct sl_value *v)
{
	struct sl_value x;
	switch (v->type) {
	case SL_VINT:
	case SL_VDOUBLE:
	case SL_VNUMBER:
		x = sl_value_number(*v);
		if (x.type == SL_VDOUBLE && !isfinite(x.u.d))
			return sl_buf_puts(b, isnan(x.u.d) ? "NaN"
			                      : x.u.d > 0  ? "Infinity"
			                                   : "-Infinity");
		/* Python's json.dumps writes floats as repr() does. */
		if (x.type == SL_VDOUBLE)
			return sl_py_repr(&x, b);
		return sl_json_write(b, &x, 0);
	case SL_VSTR:
		return sl_json_write_ascii(b, v->u.s, v->len);
	case SL_VARRAY:
		if (sl_buf_putc(b, '[') != 0)
			return -1;
		for (uint32_t i = 0; i < v->len; i++) {
			if ((i > 0 && sl_buf_putc(b, ',') != 0) ||
			    put_json(b, &v->u.items[i]) != 0)
				return -1;
		}
		return sl_buf_putc(b, ']');
	case SL_VOBJECT:
		if (sl_buf_putc(b, '{') != 0)
			return -1;
		for (uint32_t i = 0; i < v->len; i++) {
			const struct sl_member *m = &v->u.members[i];
			if ((i > 0 && sl_buf_putc(b, ',') != 0) ||
			    sl_json_write_ascii(b, m->key, m->key_len) != 0 ||
			    sl_buf_putc(b, ':') != 0 ||
			    put_json(b, &m->val) != 0)
				return -1;
		}
		return sl_buf_putc(b, '}');
	default:
		return sl_json_write(b, v, 0);
	}
}

/** to_string() of a non-string. */
static int
to_string(struct sl_arena *a, const struct sl_value *v, struct sl_value *out)
{
	struct sl_buf b;
	sl_py_buf_create(&b, a);
	if (sl_py_text_min(v, b.max) > b.max) {
		sl_diag_set(SL_ELIMIT, "text too long");
		return sl_py_buf_fail(a, "to_string()");
	}
	int rc = put_json(&b, v);
	if (rc == 0)
		rc = sl_str_copy(a, b.data, b.len, out);
	sl_buf_destroy(&b);
	return rc == 0 ? 0 : sl_py_buf_fail(a, "to_string()");
}

/** reverse() of a string, by code point. */
static int
reverse_str(struct sl_arena *a, const struct sl_value *v, struct sl_value *out)
{
	char *r = sl_arena_alloc_aligned(a, v->len > 0 ? v->len : 1, 1);
	if (r == NULL)
		return -1;
	size_t k = v->len;
	for (uint32_t i = 0; i < v->len;) {
		uint32_t j = i + 1;
		while (j < v->len && ((unsigned char)v->u.s[j] & 0xC0) == 0x80)
			j++;
		k -= j - i;
		memcpy(r + k, v->u.s + i, j - i);
		i = j;
	}
	*out = sl_str_ref(r, v->len);
	return 0;
}

/** join(glue, strings). */
static int
fn_join(struct sl_arena *a, const struct sl_value *glue,
        const struct sl_value *arr, struct sl_value *out)
{
	if (arr->len == 1) {
		*out = arr->u.items[0];
		return 0;
	}
	uint64_t total = 0;
	for (uint32_t i = 0; i < arr->len; i++)
		total += arr->u.items[i].len + (i > 0 ? glue->len : 0);
	if (total > SL_VALUE_LEN_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "join() result of %llu bytes is too long",
		            (unsigned long long)total);
		return -1;
	}
	char *s = sl_arena_alloc_aligned(a, total > 0 ? total : 1, 1);
	if (s == NULL)
		return -1;
	size_t k = 0;
	for (uint32_t i = 0; i < arr->len; i++) {
		if (i > 0 && glue->len > 0) {
			memcpy(s + k, glue->u.s, glue->len);
			k += glue->len;
		}
		if (arr->u.items[i].len > 0) {
			memcpy(s + k, arr->u.items[i].u.s, arr->u.items[i].len);
			k += arr->u.items[i].len;
		}
	}
	*out = sl_str_ref(s, (uint32_t)total);
	return 0;
}

/** merge(objects...): later keys win, first positions kept. */
static int
fn_merge(struct sl_arena *a, const struct sl_value *argv, uint32_t argc,
         struct sl_value *out)
{
	if (argc == 1) {
		*out = argv[0];
		return 0;
	}
	uint64_t total = 0;
	for (uint32_t i = 0; i < argc; i++)
		total += argv[i].len;
	if (total > SL_VALUE_LEN_MAX) {
		sl_diag_set(SL_ELIMIT, "merge() result is too long");
		return -1;
	}
	struct sl_member *m =
	        total > 0 ? sl_arena_alloc(a, total * sizeof(*m)) : NULL;
	if (total > 0 && m == NULL)
		return -1;
	uint32_t k = 0;
	for (uint32_t i = 0; i < argc; i++) {
		for (uint32_t j = 0; j < argv[i].len; j++) {
			const struct sl_member *src = &argv[i].u.members[j];
			uint32_t q = 0;
			while (q < k && (m[q].key_len != src->key_len ||
			                 (src->key_len > 0 &&
			                  memcmp(m[q].key, src->key,
			                         src->key_len) != 0)))
				q++;
			m[q] = *src;
			if (q == k)
				k++;
		}
	}
	*out = sl_object_ref(m, k);
	return 0;
}

/** keys() or values() of an object. */
static int
fn_keys(struct sl_arena *a, const struct sl_value *obj, bool keys,
        struct sl_value *out)
{
	struct sl_value *items = alloc_values(a, obj->len);
	if (items == NULL && obj->len > 0)
		return -1;
	for (uint32_t i = 0; i < obj->len; i++) {
		const struct sl_member *m = &obj->u.members[i];
		items[i] = keys ? sl_str_ref(m->key, m->key_len) : m->val;
	}
	*out = sl_array_ref(items, obj->len);
	return 0;
}

/** contains(subject, search). */
static bool
fn_contains(const struct sl_value *subj, const struct sl_value *x)
{
	if (subj->type == SL_VARRAY) {
		for (uint32_t i = 0; i < subj->len; i++) {
			if (sl_value_equal(&subj->u.items[i], x))
				return true;
		}
		return false;
	}
	if (x->type != SL_VSTR)
		return false;
	if (x->len == 0)
		return true;
	for (uint32_t i = 0; i + x->len <= subj->len; i++) {
		if (memcmp(subj->u.s + i, x->u.s, x->len) == 0)
			return true;
	}
	return false;
}

/** sort() or sort_by() (`e` NULL for sort). */
static int
fn_sort(struct sl_arena *a, int f, const struct sl_value *arr,
        const struct jnode *e, struct sl_value *out)
{
	if (arr->len == 0) {
		*out = *arr;
		return 0;
	}
	struct skey *k = sort_keys(a, f, arr, e);
	if (k == NULL)
		return -1;
	qsort(k, arr->len, sizeof(*k), skey_cmp);
	struct sl_value *items = alloc_values(a, arr->len);
	if (items == NULL)
		return -1;
	for (uint32_t i = 0; i < arr->len; i++)
		items[i] = arr->u.items[k[i].i];
	*out = sl_array_ref(items, arr->len);
	return 0;
}

/** map(expr, array). */
static int
fn_map(struct sl_arena *a, const struct sl_value *e, const struct sl_value *arr,
       struct sl_value *out)
{
	const struct jnode *k = (const struct jnode *)e->u.s;
	struct sl_value *items = alloc_values(a, arr->len);
	if (items == NULL && arr->len > 0)
		return -1;
	for (uint32_t i = 0; i < arr->len; i++) {
		if (ev(a, k, &arr->u.items[i], &items[i]) != 0)
			return -1;
	}
	*out = sl_array_ref(items, arr->len);
	return 0;
}

/** Run built-in `f` (one that evaluates no expression) on checked
 * arguments. */
static int
run_fn(struct sl_arena *a, int f, const struct sl_value *argv, uint32_t argc,
       struct sl_value *out)
{
	const struct sl_value *x = &argv[0];
	struct sl_value v;
	switch ((enum jfn)f) {
	case F_ABS:
		v = sl_value_number(*x);
		if (v.type == SL_VINT && v.u.i != INT64_MIN)
			*out = sl_int(v.u.i < 0 ? -v.u.i : v.u.i);
		else
			*out = sl_double(fabs(num_double(v)));
		return 0;
	case F_AVG:
	case F_SUM:
		fn_sum(x, f == F_AVG, out);
		return 0;
	case F_CEIL:
	case F_FLOOR:
		v = sl_value_number(*x);
		if (v.type == SL_VINT)
			*out = v;
		else
			*out = integral(f == F_CEIL ? ceil(v.u.d)
			                            : floor(v.u.d));
		return 0;
	case F_CONTAINS:
		*out = sl_bool(fn_contains(x, &argv[1]));
		return 0;
	case F_STARTS_WITH:
	case F_ENDS_WITH: {
		const struct sl_value *y = &argv[1];
		bool r = y->len <= x->len &&
		         (y->len == 0 ||
		          memcmp(x->u.s + (f == F_ENDS_WITH ? x->len - y->len
		                                            : 0),
		                 y->u.s, y->len) == 0);
		*out = sl_bool(r);
		return 0;
	}
	case F_JOIN:
		return fn_join(a, x, &argv[1], out);
	case F_KEYS:
	case F_VALUES:
		return fn_keys(a, x, f == F_KEYS, out);
	case F_LENGTH:
		*out = sl_int(x->type == SL_VSTR
		                      ? (int64_t)code_points(x->u.s, x->len)
		                      : (int64_t)x->len);
		return 0;
	case F_MAP:
	case F_MAX_BY:
	case F_MIN_BY:
	case F_SORT_BY:
		break;
	case F_MAX:
	case F_MIN:
		return fn_extreme(a, f, x, NULL, f == F_MAX ? 1 : -1, out);
	case F_MERGE:
		return fn_merge(a, argv, argc, out);
	case F_NOT_NULL:
		*out = sl_null();
		for (uint32_t i = 0; i < argc; i++) {
			if (argv[i].type != SL_VNULL) {
				*out = argv[i];
				break;
			}
		}
		return 0;
	case F_REVERSE:
		if (x->type == SL_VSTR)
			return reverse_str(a, x, out);
		{
			struct sl_value *items = alloc_values(a, x->len);
			if (items == NULL && x->len > 0)
				return -1;
			for (uint32_t i = 0; i < x->len; i++)
				items[i] = x->u.items[x->len - 1 - i];
			*out = sl_array_ref(items, x->len);
		}
		return 0;
	case F_SORT:
		return fn_sort(a, f, x, NULL, out);
	case F_TO_ARRAY:
		if (x->type == SL_VARRAY) {
			*out = *x;
			return 0;
		}
		{
			struct sl_value *items = alloc_values(a, 1);
			if (items == NULL)
				return -1;
			items[0] = *x;
			*out = sl_array_ref(items, 1);
		}
		return 0;
	case F_TO_NUMBER:
		if (is_num(x)) {
			*out = *x;
			return 0;
		}
		if (x->type == SL_VSTR)
			return to_number(a, x, out);
		*out = sl_null();
		return 0;
	case F_TO_STRING:
		if (x->type == SL_VSTR) {
			*out = *x;
			return 0;
		}
		return to_string(a, x, out);
	case F_TYPE: {
		const char *t = sl_vtype_name((enum sl_vtype)x->type);
		*out = sl_str_ref(t, (uint32_t)strlen(t));
		return 0;
	}
	case F_COUNT:
		break;
	}
	assert(!"function dispatched elsewhere");
	*out = sl_null();
	return 0;
}

/** Arguments kept on the stack; calls with more use the arena. */
#define ARGS_LOCAL 3

/** Evaluate a function call node. */
static int
call_fn(struct sl_arena *a, const struct jnode *n, const struct sl_value *cur,
        struct sl_value *out)
{
	const struct jfdef *d = &fdefs[n->op];
	struct sl_value local[ARGS_LOCAL];
	struct sl_value *argv = local;
	if (n->n > ARGS_LOCAL) {
		argv = alloc_values(a, n->n);
		if (argv == NULL)
			return -1;
	}
	for (uint32_t i = 0; i < n->n; i++) {
		const struct jnode *k = n->kid[i];
		if (k->kind == J_EXPREF) {
			argv[i].type = V_EXPREF;
			argv[i].len = 0;
			argv[i].u.s = (const char *)k->kid[0];
		} else if (ev(a, k, cur, &argv[i]) != 0) {
			return -1;
		}
	}
	if (d->variadic ? n->n < d->nparams : n->n != d->nparams) {
		sl_diag_set(SL_EINVAL,
		            "invalid-arity: %s() takes %s%u argument%s, got %u",
		            d->name, d->variadic ? "at least " : "", d->nparams,
		            d->nparams == 1 ? "" : "s", n->n);
		return -1;
	}
	for (uint32_t i = 0; i < n->n; i++) {
		unsigned t = d->types[i < d->nparams ? i : d->nparams - 1u];
		if (!type_ok(&argv[i], t))
			return bad_type(n->op, i, &argv[i], types_text(t));
	}
	/* The functions that evaluate an expression stay out of run_fn(),
	 * whose frame is large, to keep recursion through them cheap. */
	switch (n->op) {
	case F_MAP:
		return fn_map(a, &argv[0], &argv[1], out);
	case F_MAX_BY:
	case F_MIN_BY:
		return fn_extreme(a, n->op, &argv[0],
		                  (const struct jnode *)argv[1].u.s,
		                  n->op == F_MAX_BY ? 1 : -1, out);
	case F_SORT_BY:
		return fn_sort(a, n->op, &argv[0],
		               (const struct jnode *)argv[1].u.s, out);
	default:
		return run_fn(a, n->op, argv, n->n, out);
	}
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                           */

/** A slice of array `arr`. */
static int
eval_slice(struct sl_arena *a, const struct jnode *n,
           const struct sl_value *arr, struct sl_value *out)
{
	int64_t len = arr->len;
	int64_t step = (n->op & 4) ? n->u.sl[2] : 1;
	int64_t start, stop;
	assert(step != 0);
	if (step > 0) {
		start = (n->op & 1) ? n->u.sl[0] : 0;
		stop = (n->op & 2) ? n->u.sl[1] : len;
		if (start < 0)
			start = start + len < 0 ? 0 : start + len;
		else if (start > len)
			start = len;
		if (stop < 0)
			stop = stop + len < 0 ? 0 : stop + len;
		else if (stop > len)
			stop = len;
	} else {
		start = (n->op & 1) ? n->u.sl[0] : len - 1;
		stop = (n->op & 2) ? n->u.sl[1] : -1 - len;
		if (start < 0)
			start = start + len < 0 ? -1 : start + len;
		else if (start >= len)
			start = len - 1;
		if (stop < 0)
			stop = stop + len < 0 ? -1 : stop + len;
		else if (stop >= len)
			stop = len - 1;
	}
	int64_t count = 0;
	if (step > 0 && start < stop)
		count = (stop - start - 1) / step + 1;
	else if (step < 0 && start > stop)
		count = (start - stop - 1) / -step + 1;
	if (step == 1) {
		*out = sl_array_ref(count > 0 ? arr->u.items + start : NULL,
		                    (uint32_t)count);
		return 0;
	}
	struct sl_value *items = alloc_values(a, (size_t)count);
	if (items == NULL && count > 0)
		return -1;
	for (int64_t i = 0; i < count; i++)
		items[i] = arr->u.items[start + i * step];
	*out = sl_array_ref(items, (uint32_t)count);
	return 0;
}

/** A projection (list, object values, or filter). */
static int
eval_project(struct sl_arena *a, const struct jnode *n,
             const struct sl_value *cur, struct sl_value *out)
{
	struct sl_value base;
	if (ev(a, n->kid[0], cur, &base) != 0)
		return -1;
	*out = sl_null();
	bool obj = n->kind == J_VPROJECT;
	if (base.type != (obj ? SL_VOBJECT : SL_VARRAY))
		return 0;
	if (n->kind == J_PROJECT && n->kid[1]->kind == J_CURRENT) {
		/* Only nulls to drop: none, and the list is the result. */
		uint32_t i = 0;
		while (i < base.len && base.u.items[i].type != SL_VNULL)
			i++;
		if (i == base.len) {
			*out = base;
			return 0;
		}
	}
	struct sl_value *items = alloc_values(a, base.len);
	if (items == NULL && base.len > 0)
		return -1;
	uint32_t k = 0;
	for (uint32_t i = 0; i < base.len; i++) {
		const struct sl_value *it =
		        obj ? &base.u.members[i].val : &base.u.items[i];
		struct sl_value v;
		if (n->kind == J_FILTER) {
			if (ev(a, n->kid[2], it, &v) != 0)
				return -1;
			if (!truthy(&v))
				continue;
		}
		if (ev(a, n->kid[1], it, &v) != 0)
			return -1;
		if (v.type != SL_VNULL)
			items[k++] = v;
	}
	*out = sl_array_ref(items, k);
	return 0;
}

/** [] of `base`. */
static int
eval_flatten(struct sl_arena *a, const struct sl_value *base,
             struct sl_value *out)
{
	*out = sl_null();
	if (base->type != SL_VARRAY)
		return 0;
	uint64_t total = 0;
	for (uint32_t i = 0; i < base->len; i++) {
		const struct sl_value *it = &base->u.items[i];
		total += it->type == SL_VARRAY ? it->len : 1;
	}
	struct sl_value *items = alloc_values(a, total);
	if (items == NULL && total > 0)
		return -1;
	size_t k = 0;
	for (uint32_t i = 0; i < base->len; i++) {
		const struct sl_value *it = &base->u.items[i];
		if (it->type != SL_VARRAY) {
			items[k++] = *it;
		} else if (it->len > 0) {
			memcpy(items + k, it->u.items,
			       it->len * sizeof(*items));
			k += it->len;
		}
	}
	*out = sl_array_ref(items, (uint32_t)total);
	return 0;
}

/** Multi-select list or hash. */
static int
eval_multi(struct sl_arena *a, const struct jnode *n,
           const struct sl_value *cur, struct sl_value *out)
{
	if (cur->type == SL_VNULL) {
		*out = sl_null();
		return 0;
	}
	if (n->kind == J_MLIST) {
		struct sl_value *items = alloc_values(a, n->n);
		if (items == NULL)
			return -1;
		for (uint32_t i = 0; i < n->n; i++) {
			if (ev(a, n->kid[i], cur, &items[i]) != 0)
				return -1;
		}
		*out = sl_array_ref(items, n->n);
		return 0;
	}
	uint32_t slots = n->u.name.slot;
	struct sl_member *m = sl_arena_alloc(a, slots * sizeof(*m));
	if (m == NULL)
		return -1;
	for (uint32_t i = 0; i < n->n; i++) {
		const struct jnode *kv = n->kid[i];
		struct sl_member *dst = &m[kv->u.name.slot];
		dst->key = kv->u.name.s;
		dst->key_len = kv->u.name.len;
		if (ev(a, kv->kid[0], cur, &dst->val) != 0)
			return -1;
	}
	*out = sl_object_ref(m, slots);
	return 0;
}

/** A comparison. */
static int
eval_cmp(struct sl_arena *a, const struct jnode *n, const struct sl_value *cur,
         struct sl_value *out)
{
	struct sl_value x, y;
	if (ev(a, n->kid[0], cur, &x) != 0 || ev(a, n->kid[1], cur, &y) != 0)
		return -1;
	if (n->op == C_EQ || n->op == C_NE) {
		bool eq = sl_value_equal(&x, &y);
		*out = sl_bool(n->op == C_EQ ? eq : !eq);
		return 0;
	}
	*out = sl_null();
	if (!is_num(&x) || !is_num(&y))
		return 0;
	int c = num_cmp(x, y);
	if (c == 2) {
		*out = sl_bool(false);
		return 0;
	}
	switch (n->op) {
	case C_LT:
		*out = sl_bool(c < 0);
		break;
	case C_LE:
		*out = sl_bool(c <= 0);
		break;
	case C_GT:
		*out = sl_bool(c > 0);
		break;
	default:
		*out = sl_bool(c >= 0);
		break;
	}
	return 0;
}

/** Evaluate node `n` against `cur` into `out` (which may alias `cur`). */
static int
ev(struct sl_arena *a, const struct jnode *n, const struct sl_value *cur,
   struct sl_value *out)
{
	struct sl_value v;
	switch ((enum jkind)n->kind) {
	case J_CURRENT:
		*out = *cur;
		return 0;
	case J_FIELD: {
		const struct sl_value *f =
		        sl_object_get(cur, n->u.name.s, n->u.name.len);
		*out = f != NULL ? *f : sl_null();
		return 0;
	}
	case J_CHAIN:
		v = *cur;
		for (uint32_t i = 0; i < n->n && v.type != SL_VNULL; i++) {
			if (ev(a, n->kid[i], &v, &v) != 0)
				return -1;
		}
		*out = v;
		return 0;
	case J_INDEX: {
		int64_t i = n->u.idx;
		if (cur->type != SL_VARRAY) {
			*out = sl_null();
			return 0;
		}
		if (i < 0)
			i += cur->len;
		*out = i >= 0 && i < (int64_t)cur->len ? cur->u.items[i]
		                                       : sl_null();
		return 0;
	}
	case J_SLICE:
		if (cur->type != SL_VARRAY) {
			*out = sl_null();
			return 0;
		}
		v = *cur;
		return eval_slice(a, n, &v, out);
	case J_PROJECT:
	case J_VPROJECT:
	case J_FILTER:
		return eval_project(a, n, cur, out);
	case J_FLATTEN:
		if (ev(a, n->kid[0], cur, &v) != 0)
			return -1;
		return eval_flatten(a, &v, out);
	case J_CMP:
		return eval_cmp(a, n, cur, out);
	case J_AND:
	case J_OR:
		if (ev(a, n->kid[0], cur, &v) != 0)
			return -1;
		if (truthy(&v) == (n->kind == J_OR)) {
			*out = v;
			return 0;
		}
		return ev(a, n->kid[1], cur, out);
	case J_NOT:
		if (ev(a, n->kid[0], cur, &v) != 0)
			return -1;
		*out = sl_bool(!truthy(&v));
		return 0;
	case J_PIPE:
		if (ev(a, n->kid[0], cur, &v) != 0)
			return -1;
		return ev(a, n->kid[1], &v, out);
	case J_MLIST:
	case J_MHASH:
		return eval_multi(a, n, cur, out);
	case J_LITERAL:
		*out = n->u.lit;
		return 0;
	case J_FUNC:
		return call_fn(a, n, cur, out);
	case J_EXPREF:
		sl_diag_set(SL_EINVAL,
		            "invalid-type: an expression reference "
		            "is only allowed as a function argument");
		return -1;
	case J_KEYVAL:
		break;
	}
	assert(!"bad node");
	*out = sl_null();
	return 0;
}

int
sl_jmes_eval(const struct sl_jmes *j, const struct sl_value *doc,
             struct sl_arena *a, struct sl_value *out)
{
	if (j == NULL || doc == NULL || a == NULL || out == NULL) {
		sl_diag_set(SL_EINVAL, "sl_jmes_eval: missing argument");
		return -1;
	}
	struct sl_value v;
	if (ev(a, j->root, doc, &v) != 0) {
		*out = sl_null();
		return -1;
	}
	*out = v;
	return 0;
}
