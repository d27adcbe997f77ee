/*
 * JSON reading (RFC 8259, plus Python's NaN, Infinity and -Infinity) and the
 * JSON-lines reader.
 *
 * The parser is iterative: open arrays and objects are frames on an explicit
 * stack, and their items are pushed on reusable scratch stacks, copied into
 * the arena once when the container closes. Strings are scanned 16 bytes at
 * a time for the bytes that need attention ('"', '\\', control characters,
 * non-ASCII); a string without escapes is copied into the arena straight
 * from the input, one with escapes is decoded into a scratch buffer first.
 */
#include "sluice/jsonread.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/records.h"
#include "value/lines.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/** An open array or object. */
struct frame {
	/** Index of its first item on the value or member stack. */
	size_t start;
	/** Nonzero for an object. */
	int is_obj;
};

/** Scratch memory of a parser, reused from one document to the next. */
struct scratch {
	/** Items of open arrays. */
	struct sl_value *vals;
	/** Items on `vals`. */
	size_t nvals;
	/** Capacity of `vals`. */
	size_t cap_vals;
	/** Members of open objects. */
	struct sl_member *mems;
	/** Members on `mems`. */
	size_t nmems;
	/** Capacity of `mems`. */
	size_t cap_mems;
	/** Open containers. */
	struct frame *frames;
	/** Capacity of `frames`. */
	size_t cap_frames;
	/** Decoded bytes of a string with escapes. */
	char *sbuf;
	/** Capacity of `sbuf`. */
	size_t cap_sbuf;
};

/** State of one parse. */
struct parser {
	/** First byte of the text (column 1 of line `line0`). */
	const char *begin;
	/** Next byte to read. */
	const char *p;
	/** End of the text. */
	const char *end;
	/** Where values are built. */
	struct sl_arena *arena;
	/** Scratch stacks. */
	struct scratch *sc;
	/** Nesting limit. */
	unsigned depth_max;
	/** Prefix of error messages, or NULL. */
	const char *name;
	/** Line number of `begin`. */
	uint64_t line0;
};

static const char empty_str[1] = "";

static void
scratch_free(struct scratch *sc)
{
	sl_free(sc->vals);
	sl_free(sc->mems);
	sl_free(sc->frames);
	sl_free(sc->sbuf);
	memset(sc, 0, sizeof(*sc));
}

/** Grow `*arr` (elements of `size` bytes) to hold at least `need`. */
static int
grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap < 16 ? 16 : *cap;
	while (n < need)
		n *= 2;
	void *p = sl_realloc(*arr, n * size);
	if (p == NULL) {
		sl_diag_set(SL_EOOM,
		            "out of memory growing the JSON parser "
		            "stack to %zu items",
		            n);
		return -1;
	}
	*arr = p;
	*cap = n;
	return 0;
}

/** Record a parse error at `at`. Returns -1. */
static int __attribute__((format(printf, 3, 4)))
perr(const struct parser *ps, const char *at, const char *fmt, ...)
{
	uint64_t line = ps->line0;
	const char *bol = ps->begin;
	for (const char *q = ps->begin; q < at; q++) {
		if (*q == '\n') {
			line++;
			bol = q + 1;
		}
	}
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	sl_diag_set(SL_EPARSE, "%s%s%llu:%llu: %s%s", ps->name ? ps->name : "",
	            ps->name ? ":" : "", (unsigned long long)line,
	            (unsigned long long)(at - bol + 1),
	            at == ps->end ? "unexpected end of input: " : "", what);
	return -1;
}

static inline const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (unsigned char)*p <= ' ' &&
	       (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

static inline bool
special(unsigned char c)
{
	return c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
}

/** The first byte of [p, end) that is '"', '\\', < 0x20 or >= 0x80. */
static inline const char *
scan_plain(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20);
	while (end - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* Signed compare: bytes >= 0x80 are negative, so below 0x20. */
		__m128i m =
		        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote),
		                                  _mm_cmpeq_epi8(x, bslash)),
		                     _mm_cmplt_epi8(x, space));
		int mask = _mm_movemask_epi8(m);
		if (mask != 0)
			return p + __builtin_ctz((unsigned)mask);
		p += 16;
	}
#else
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t highs = 0x8080808080808080ull;
	while (end - p >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		uint64_t q = w ^ (ones * '"');
		uint64_t b = w ^ (ones * '\\');
		uint64_t hit = ((q - ones) & ~q) | ((b - ones) & ~b) |
		               ((w - ones * 0x20) & ~w) | w;
		if ((hit & highs) != 0)
			break;
		p += 8;
	}
#endif
	while (p < end && !special((unsigned char)*p))
		p++;
	return p;
}

/** Length of the valid UTF-8 sequence at p (p[0] >= 0x80), or 0. */
static inline size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	unsigned lo = 0x80, hi = 0xBF;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return end - p >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c < 0xF0) {
		if (end - p < 3)
			return 0;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3
		                                                         : 0;
	}
	if (c < 0xF5) {
		if (end - p < 4)
			return 0;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 &&
		                       (p[3] & 0xC0) == 0x80
		               ? 4
		               : 0;
	}
	return 0;
}

/** Copy n bytes into the arena (the empty string is not allocated). */
static inline int
arena_bytes(struct sl_arena *a, const char *s, size_t n, const char **out)
{
	if (n == 0) {
		*out = empty_str;
		return 0;
	}
	if (unlikely(n > SL_VALUE_LEN_MAX)) {
		sl_diag_set(SL_ELIMIT, "JSON string of %zu bytes is too long",
		            n);
		return -1;
	}
	char *d = sl_arena_alloc_aligned(a, n, 1);
	if (d == NULL)
		return -1;
	sl_copy_bytes(d, s, n);
	*out = d;
	return 0;
}

/** The value of 4 hex digits at p (end - p >= 4), or -1. */
static inline long
hex4(const char *p)
{
	long v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)p[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/** Append n bytes to the string scratch buffer at *o. */
static inline int
sb_put(struct scratch *sc, size_t *o, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (unlikely(*o + n > sc->cap_sbuf) &&
	    grow((void **)&sc->sbuf, &sc->cap_sbuf, *o + n, 1) < 0)
		return -1;
	memcpy(sc->sbuf + *o, s, n);
	*o += n;
	return 0;
}

/** Decode one escape at p (p[0] == '\\') into sbuf; *pp moves past it. */
static int
decode_escape(struct parser *ps, const char **pp, size_t *o)
{
	const char *p = *pp, *end = ps->end;
	char b[4];
	size_t n = 1;
	if (p + 1 == end)
		return perr(ps, end, "expected an escape after '\\'");
	switch (p[1]) {
	case '"':
	case '\\':
	case '/':
		b[0] = p[1];
		break;
	case 'b':
		b[0] = '\b';
		break;
	case 'f':
		b[0] = '\f';
		break;
	case 'n':
		b[0] = '\n';
		break;
	case 'r':
		b[0] = '\r';
		break;
	case 't':
		b[0] = '\t';
		break;
	case 'u': {
		if (end - p < 6) {
			char tail[4] = {'0', '0', '0', '0'};
			memcpy(tail, p + 2, (size_t)(end - p - 2));
			return perr(ps, hex4(tail) < 0 ? p : end,
			            "expected 4 hex digits after '\\u'");
		}
		long cp = hex4(p + 2);
		if (cp < 0)
			return perr(ps, p, "expected 4 hex digits after '\\u'");
		if (cp >= 0xDC00 && cp <= 0xDFFF)
			return perr(ps, p,
			            "lone low surrogate \\u%04lX in a string",
			            cp);
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			long lo = -1;
			if (end - p >= 12 && p[6] == '\\' && p[7] == 'u')
				lo = hex4(p + 8);
			if (lo < 0xDC00 || lo > 0xDFFF)
				return perr(
				        ps, p,
				        "high surrogate \\u%04lX not followed "
				        "by a low surrogate escape",
				        cp);
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			p += 6;
		}
		if (cp < 0x80) {
			b[0] = (char)cp;
		} else if (cp < 0x800) {
			b[0] = (char)(0xC0 | (cp >> 6));
			b[1] = (char)(0x80 | (cp & 0x3F));
			n = 2;
		} else if (cp < 0x10000) {
			b[0] = (char)(0xE0 | (cp >> 12));
			b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
			b[2] = (char)(0x80 | (cp & 0x3F));
			n = 3;
		} else {
			b[0] = (char)(0xF0 | (cp >> 18));
			b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
			b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
			b[3] = (char)(0x80 | (cp & 0x3F));
			n = 4;
		}
		p += 4;
		break;
	}
	default:
		return perr(ps, p, "invalid escape in a string");
	}
	*pp = p + 2;
	return sb_put(ps->sc, o, b, n);
}

/**
 * Parse a string whose opening quote is just before ps->p into the arena;
 * ps->p moves past the closing quote.
 */
static int
parse_string(struct parser *ps, const char **out, size_t *outn)
{
	const char *p = ps->p, *end = ps->end, *run = p;
	for (;;) {
		p = scan_plain(p, end);
		if (unlikely(p == end))
			return perr(ps, end, "expected '\"' to end a string");
		unsigned char c = (unsigned char)*p;
		if (likely(c == '"')) {
			ps->p = p + 1;
			*outn = (size_t)(p - run);
			return arena_bytes(ps->arena, run, *outn, out);
		}
		if (c >= 0x80) {
			size_t k = utf8_len((const unsigned char *)p,
			                    (const unsigned char *)end);
			if (k == 0)
				return perr(ps, p, "invalid UTF-8 in a string");
			p += k;
			continue;
		}
		if (c == '\\')
			break;
		return perr(ps, p,
		            "control character 0x%02X in a string (it must be "
		            "escaped)",
		            c);
	}
	size_t o = 0;
	if (sb_put(ps->sc, &o, run, (size_t)(p - run)) < 0)
		return -1;
	for (;;) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			break;
		if (c == '\\') {
			if (decode_escape(ps, &p, &o) < 0)
				return -1;
		} else if (c >= 0x80) {
			size_t k = utf8_len((const unsigned char *)p,
			                    (const unsigned char *)end);
			if (k == 0)
				return perr(ps, p, "invalid UTF-8 in a string");
			if (sb_put(ps->sc, &o, p, k) < 0)
				return -1;
			p += k;
		} else if (c < 0x20) {
			return perr(ps, p,
			            "control character 0x%02X in a string (it "
			            "must be escaped)",
			            c);
		}
		run = p;
		p = scan_plain(p, end);
		if (p == end)
			return perr(ps, end, "expected '\"' to end a string");
		if (sb_put(ps->sc, &o, run, (size_t)(p - run)) < 0)
			return -1;
	}
	ps->p = p + 1;
	*outn = o;
	return arena_bytes(ps->arena, ps->sc->sbuf, o, out);
}

static inline bool
is_digit(const char *p, const char *end)
{
	return p < end && (unsigned)(*p - '0') < 10;
}

/** Validate a number at ps->p and copy its text into the arena. */
static int
parse_number(struct parser *ps, struct sl_value *v)
{
	const char *s = ps->p, *p = s, *end = ps->end;
	if (*p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
		if (is_digit(p, end))
			return perr(ps, p,
			            "leading zeros are not allowed in "
			            "a number");
	} else if (is_digit(p, end)) {
		do
			p++;
		while (is_digit(p, end));
	} else {
		return perr(ps, p, "expected a digit after '-'");
	}
	if (p < end && *p == '.') {
		p++;
		if (!is_digit(p, end))
			return perr(ps, p,
			            "expected a digit after the decimal "
			            "point");
		do
			p++;
		while (is_digit(p, end));
	}
	if (p < end && (*p | 0x20) == 'e') {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!is_digit(p, end))
			return perr(ps, p, "expected a digit in the exponent");
		do
			p++;
		while (is_digit(p, end));
	}
	const char *t;
	if (arena_bytes(ps->arena, s, (size_t)(p - s), &t) < 0)
		return -1;
	*v = sl_number_ref(t, (uint32_t)(p - s));
	ps->p = p;
	return 0;
}

/** Parse a literal `word` (n bytes) at p, or fail. */
static inline bool
literal(const char *p, const char *end, const char *word, size_t n)
{
	return (size_t)(end - p) >= n && memcmp(p, word, n) == 0;
}

/** Move the top `n` items from a scratch stack into the arena. */
static void *
arena_items(struct sl_arena *a, const void *src, size_t n, size_t size)
{
	if (unlikely(n > SL_VALUE_LEN_MAX)) {
		sl_diag_set(SL_ELIMIT,
		            "JSON array or object of %zu items is too long", n);
		return NULL;
	}
	void *d = sl_arena_alloc(a, n * size);
	if (d != NULL)
		memcpy(d, src, n * size);
	return d;
}

/** Parse one document filling [ps->begin, ps->end). */
static int
parse_doc(struct parser *ps, struct sl_value *out)
{
	struct scratch *sc = ps->sc;
	const char *p = ps->p, *end = ps->end;
	size_t depth = 0;
	struct frame *f = NULL;
	struct sl_value v;
	const char *s;
	size_t n;

	sc->nvals = 0;
	sc->nmems = 0;
value:
	p = skip_ws(p, end);
	if (unlikely(p == end))
		return perr(ps, p, "expected a value");
	switch (*p) {
	case '"':
		ps->p = p + 1;
		if (parse_string(ps, &s, &n) < 0)
			return -1;
		p = ps->p;
		v = sl_str_ref(s, (uint32_t)n);
		goto have_value;
	case '-':
		if (literal(p, end, "-Infinity", 9)) {
			p += 9;
			v = sl_double(-INFINITY);
			goto have_value;
		}
		__attribute__((fallthrough));
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		ps->p = p;
		if (parse_number(ps, &v) < 0)
			return -1;
		p = ps->p;
		goto have_value;
	case 't':
		if (!literal(p, end, "true", 4))
			break;
		p += 4;
		v = sl_bool(true);
		goto have_value;
	case 'f':
		if (!literal(p, end, "false", 5))
			break;
		p += 5;
		v = sl_bool(false);
		goto have_value;
	case 'n':
		if (!literal(p, end, "null", 4))
			break;
		p += 4;
		v = sl_null();
		goto have_value;
	case 'I':
		/* Python's json.loads() takes Infinity, -Infinity and NaN,
		 * and json.dumps() writes them (as sl_json_write() does). */
		if (!literal(p, end, "Infinity", 8))
			break;
		p += 8;
		v = sl_double(INFINITY);
		goto have_value;
	case 'N':
		if (!literal(p, end, "NaN", 3))
			break;
		p += 3;
		v = sl_double(NAN);
		goto have_value;
	case '{':
	case '[': {
		if (unlikely(depth >= ps->depth_max))
			return perr(ps, p,
			            "nesting is deeper than the limit of %u",
			            ps->depth_max);
		if (unlikely(depth == sc->cap_frames) &&
		    grow((void **)&sc->frames, &sc->cap_frames, depth + 1,
		         sizeof(*f)) < 0)
			return -1;
		f = &sc->frames[depth++];
		f->is_obj = *p == '{';
		f->start = f->is_obj ? sc->nmems : sc->nvals;
		p = skip_ws(p + 1, end);
		if (f->is_obj) {
			if (p < end && *p == '}') {
				p++;
				v = sl_object_ref(NULL, 0);
				goto close;
			}
			goto key;
		}
		if (p < end && *p == ']') {
			p++;
			v = sl_array_ref(NULL, 0);
			goto close;
		}
		goto value;
	}
	default:
		break;
	}
	return perr(ps, p, "expected a value");

key:
	if (unlikely(p == end || *p != '"'))
		return perr(ps, p, "expected a string key");
	ps->p = p + 1;
	if (parse_string(ps, &s, &n) < 0)
		return -1;
	if (unlikely(sc->nmems == sc->cap_mems) &&
	    grow((void **)&sc->mems, &sc->cap_mems, sc->nmems + 1,
	         sizeof(*sc->mems)) < 0)
		return -1;
	{
		struct sl_member *m = &sc->mems[sc->nmems++];
		m->key = s;
		m->key_len = (uint32_t)n;
	}
	p = skip_ws(ps->p, end);
	if (unlikely(p == end || *p != ':'))
		return perr(ps, p, "expected ':' after an object key");
	p++;
	goto value;

close:
	depth--;
	f = depth > 0 ? &sc->frames[depth - 1] : NULL;
have_value:
	if (depth == 0)
		goto done;
	if (f->is_obj) {
		sc->mems[sc->nmems - 1].val = v;
		p = skip_ws(p, end);
		if (likely(p < end && *p == ',')) {
			p = skip_ws(p + 1, end);
			goto key;
		}
		if (likely(p < end && *p == '}')) {
			p++;
			n = sc->nmems - f->start;
			struct sl_member *m = arena_items(
			        ps->arena, sc->mems + f->start, n, sizeof(*m));
			if (m == NULL)
				return -1;
			sc->nmems = f->start;
			v = sl_object_ref(m, (uint32_t)n);
			goto close;
		}
		return perr(ps, p,
		            "expected ',' or '}' after an object member");
	}
	if (unlikely(sc->nvals == sc->cap_vals) &&
	    grow((void **)&sc->vals, &sc->cap_vals, sc->nvals + 1,
	         sizeof(*sc->vals)) < 0)
		return -1;
	sc->vals[sc->nvals++] = v;
	p = skip_ws(p, end);
	if (likely(p < end && *p == ','))
		goto value_after_comma;
	if (likely(p < end && *p == ']')) {
		p++;
		n = sc->nvals - f->start;
		struct sl_value *items = arena_items(
		        ps->arena, sc->vals + f->start, n, sizeof(*items));
		if (items == NULL)
			return -1;
		sc->nvals = f->start;
		v = sl_array_ref(items, (uint32_t)n);
		goto close;
	}
	return perr(ps, p, "expected ',' or ']' after an array element");
value_after_comma:
	p++;
	goto value;

done:
	p = skip_ws(p, end);
	if (p != end)
		return perr(ps, p, "unexpected data after the JSON value");
	*out = v;
	return 0;
}

void
sl_json_opts_init(struct sl_json_opts *o)
{
	o->chunk_size = SL_JSON_CHUNK_SIZE_DEFAULT;
	o->record_max = SL_JSON_RECORD_MAX_DEFAULT;
	o->depth_max = SL_JSON_DEPTH_MAX_DEFAULT;
}

int
sl_json_parse(const char *buf, size_t len, struct sl_arena *arena,
              const struct sl_json_opts *opts, const char *name,
              struct sl_value *out)
{
	struct scratch sc;
	memset(&sc, 0, sizeof(sc));
	struct parser ps = {
	        .begin = buf,
	        .p = buf,
	        .end = buf + len,
	        .arena = arena,
	        .sc = &sc,
	        .depth_max = opts ? opts->depth_max : SL_JSON_DEPTH_MAX_DEFAULT,
	        .name = name,
	        .line0 = 1,
	};
	int rc = parse_doc(&ps, out);
	scratch_free(&sc);
	return rc;
}

/** A JSON-lines reader. */
struct sl_jsonl_reader {
	/** Splits the source into lines. */
	struct sl_lines lines;
	/** Limits. */
	struct sl_json_opts opts;
	/** Line of the last record returned or failed. */
	uint64_t rec_line;
	/** Parser scratch, reused across records. */
	struct scratch sc;
};

struct sl_jsonl_reader *
sl_jsonl_reader_new(struct sl_source *src, const struct sl_json_opts *opts)
{
	struct sl_jsonl_reader *r = sl_calloc(1, sizeof(*r));
	if (r == NULL) {
		sl_diag_set(SL_EOOM, "out of memory creating a JSON-lines "
		                     "reader");
		return NULL;
	}
	if (opts != NULL)
		r->opts = *opts;
	else
		sl_json_opts_init(&r->opts);
	if (r->opts.chunk_size == 0)
		r->opts.chunk_size = 1;
	if (sl_lines_init(&r->lines, src, "(input)", r->opts.chunk_size,
	                  r->opts.record_max) != 0) {
		sl_free(r);
		return NULL;
	}
	return r;
}

void
sl_jsonl_reader_delete(struct sl_jsonl_reader *r)
{
	if (r == NULL)
		return;
	scratch_free(&r->sc);
	sl_lines_fini(&r->lines);
	sl_free(r);
}

/**
 * Parse the line [s, s + len) numbered `no` of the source `name` as one
 * record, or fail with the size cap error when it is `too_long` or longer
 * than `record_max`. The one per-line parse of both the serial reader and
 * line blocks.
 */
static int
parse_record(struct scratch *sc, const char *s, size_t len, bool too_long,
             uint64_t no, const char *name, size_t record_max,
             unsigned depth_max, struct sl_arena *arena, struct sl_value *out)
{
	if (too_long || len > record_max)
		return sl_line_too_long(name, record_max, no);
	struct parser ps = {
	        .begin = s,
	        .p = s,
	        .end = s + len,
	        .arena = arena,
	        .sc = sc,
	        .depth_max = depth_max,
	        .name = name,
	        .line0 = no,
	};
	return parse_doc(&ps, out) < 0 ? -1 : 1;
}

/** Whether line `ln` of the splitter's buffer holds only whitespace. */
static bool
blank_line(const struct sl_lines *l, const struct sl_line *ln)
{
	return skip_ws(l->buf + ln->start, l->buf + ln->end) ==
	       l->buf + ln->end;
}

int
sl_jsonl_next(struct sl_jsonl_reader *r, struct sl_arena *arena,
              struct sl_value *out)
{
	struct sl_line ln;
	for (;;) {
		switch (sl_lines_next(&r->lines, &ln)) {
		case SL_LINES_LINE:
			/* Lines of only whitespace are skipped. */
			if (blank_line(&r->lines, &ln))
				continue;
			r->rec_line = ln.no;
			return parse_record(&r->sc, r->lines.buf + ln.start,
			                    ln.end - ln.start, false, ln.no,
			                    sl_lines_name(&r->lines),
			                    r->opts.record_max,
			                    r->opts.depth_max, arena, out);
		case SL_LINES_END:
			return 0;
		case SL_LINES_LONG:
			r->rec_line = ln.no;
			return -1;
		case SL_LINES_FAIL:
		default:
			return -1;
		}
	}
}

/** Make room in `b` for one more line of `len` bytes. 0, or -1. */
static int
block_reserve(struct sl_line_block *b, size_t len)
{
	if (b->n == b->cap_lines) {
		uint32_t nc = b->cap_lines < 16 ? 16
		              : b->cap_lines > UINT32_MAX / 2
		                      ? UINT32_MAX
		                      : b->cap_lines * 2;
		struct sl_block_line *nl =
		        nc > b->cap_lines
		                ? sl_realloc(b->lines, (size_t)nc * sizeof(*nl))
		                : NULL;
		if (nl == NULL) {
			sl_diag_set(SL_EOOM,
			            "out of memory growing a line block of %s "
			            "to %" PRIu32 " lines",
			            b->name, nc);
			return -1;
		}
		b->lines = nl;
		b->cap_lines = nc;
	}
	if (len > b->cap - b->len) {
		size_t nc = b->cap < 4096 ? 4096 : b->cap;
		while (nc - b->len < len && nc < SIZE_MAX)
			nc = nc <= SIZE_MAX / 2 ? nc * 2 : SIZE_MAX;
		char *nd = sl_realloc(b->data, nc);
		if (nd == NULL) {
			sl_diag_set(SL_EOOM,
			            "out of memory growing a line block of %s "
			            "to %zu bytes",
			            b->name, nc);
			return -1;
		}
		b->data = nd;
		b->cap = nc;
	}
	return 0;
}

/** Append line `no` (its bytes unless `too_long`) to `b`. 0, or -1. */
static int
block_add(struct sl_line_block *b, const char *s, size_t len, uint64_t no,
          bool too_long)
{
	if (too_long)
		len = 0;
	if (block_reserve(b, len) != 0)
		return -1;
	struct sl_block_line *ln = &b->lines[b->n++];
	ln->off = b->len;
	ln->len = len;
	ln->no = no;
	ln->too_long = too_long;
	if (len > 0)
		memcpy(b->data + b->len, s, len);
	b->len += len;
	return 0;
}

int
sl_jsonl_next_block(struct sl_jsonl_reader *r, struct sl_line_block *b,
                    uint32_t max_lines, size_t max_bytes)
{
	struct sl_line ln;
	b->len = 0;
	b->n = 0;
	b->name = sl_lines_name(&r->lines);
	b->record_max = r->opts.record_max;
	b->depth_max = r->opts.depth_max;
	if (max_lines == 0)
		max_lines = 1;
	while (b->n < max_lines && (b->n == 0 || b->len < max_bytes)) {
		int rc = 0;
		switch (sl_lines_next(&r->lines, &ln)) {
		case SL_LINES_LINE:
			if (blank_line(&r->lines, &ln))
				continue;
			rc = block_add(b, r->lines.buf + ln.start,
			               ln.end - ln.start, ln.no,
			               ln.end - ln.start > r->opts.record_max);
			break;
		case SL_LINES_LONG:
			/* The line's error is raised again by the parse. */
			sl_diag_clear(sl_diag_get());
			rc = block_add(b, NULL, 0, ln.no, true);
			break;
		case SL_LINES_END:
			return b->n > 0 ? 1 : 0;
		case SL_LINES_FAIL:
		default:
			return -1;
		}
		if (rc != 0)
			return -1;
		r->rec_line = ln.no;
	}
	return 1;
}

/** Scratch of one thread parsing lines of blocks. */
struct sl_line_parser {
	/** The parser's stacks and string buffer. */
	struct scratch sc;
};

struct sl_line_parser *
sl_line_parser_new(void)
{
	struct sl_line_parser *p = sl_calloc(1, sizeof(*p));
	if (p == NULL)
		sl_diag_set(SL_EOOM, "out of memory creating a line parser");
	return p;
}

void
sl_line_parser_delete(struct sl_line_parser *p)
{
	if (p == NULL)
		return;
	scratch_free(&p->sc);
	sl_free(p);
}

int
sl_line_block_parse(struct sl_line_parser *p, const struct sl_line_block *b,
                    uint32_t i, struct sl_arena *arena, struct sl_value *out)
{
	const struct sl_block_line *ln = &b->lines[i];
	const char *s = ln->too_long ? NULL : b->data + ln->off;
	return parse_record(&p->sc, s, ln->len, ln->too_long, ln->no, b->name,
	                    b->record_max, b->depth_max, arena, out);
}

void
sl_line_block_destroy(struct sl_line_block *b)
{
	sl_free(b->data);
	sl_free(b->lines);
	memset(b, 0, sizeof(*b));
}

uint64_t
sl_jsonl_line(const struct sl_jsonl_reader *r)
{
	return r->rec_line;
}
