/*
 * JSON reading (RFC 8259, plus Python's NaN, Infinity and -Infinity) and the
 * JSON-lines reader.
 *
 * A document is first copied whole into the arena, followed by DOC_PAD NUL
 * bytes, and parsed in that copy: a string or number value refers to its
 * bytes there (a string with escapes is decoded in place, since a decoded
 * escape is never longer than its text), so values cost no allocation of
 * their own, and the NUL after the text ends every scan without a
 * comparison with the end (a NUL is neither whitespace, a digit, a quote
 * nor any byte that starts a token). Strings are scanned 16 bytes at a time
 * (SSE2), or 8 (a 64-bit word, elsewhere or with SL_JSON_PORTABLE), for
 * the bytes that need attention ('"', '\\', control characters, non-ASCII).
 *
 * The parser is iterative: open arrays and objects are frames on an
 * explicit stack, and their items are pushed on reusable scratch stacks,
 * copied into the arena once when the container closes.
 *
 * The JSON-lines reader, on CPUs with AVX2, copies a line into the arena
 * in the same pass that finds its '\n' (jsonl_next_avx2()); lines it does
 * not take go through the line splitter, then the copy, as before.
 */
#include "sluice/jsonread.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#if defined(__SSE2__) && !defined(SL_JSON_PORTABLE)
#define JSON_SSE2 1
#include <emmintrin.h>
#if defined(__x86_64__) && !defined(SL_JSON_NO_AVX)
/* A second parser for CPUs with AVX and BMI1: its string scan's VEX forms
 * need no register copies. */
#define JSON_AVX 1
#include <immintrin.h>
#endif
#endif

#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/records.h"
#include "value/lines.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/**
 * NUL bytes after a document's copy: a scan stops at the first, and the
 * 16-byte loads of a string scan and the literal compares (9 bytes at
 * most) that start in the text stay within the copy.
 */
#define DOC_PAD 16

/**
 * Longest document parsed with scratch stacks sized for it beforehand
 * (doc_reserve(): 16 bytes of items and 16 of members a byte of text);
 * longer ones check the stacks' room item by item.
 */
#define DOC_SMALL 8192

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
	/** Capacity of `vals`. */
	size_t cap_vals;
	/** Members of open objects. */
	struct sl_member *mems;
	/** Capacity of `mems`. */
	size_t cap_mems;
	/** Open containers. */
	struct frame *frames;
	/** Capacity of `frames`. */
	size_t cap_frames;
};

/** State of one parse. */
struct parser {
	/** The document's copy in the arena (column 1 of line `line0`). */
	char *begin;
	/** End of the text in the copy: the first of DOC_PAD NULs. */
	const char *end;
	/**
	 * The text as given, which error positions count lines in (the copy
	 * has its escapes decoded in place up to where the parse stopped).
	 */
	const char *src;
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

static void
scratch_free(struct scratch *sc)
{
	sl_free(sc->vals);
	sl_free(sc->mems);
	sl_free(sc->frames);
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

/** Record a parse error at `at` (in the copy). Returns -1. */
static int __attribute__((format(printf, 3, 4)))
perr(const struct parser *ps, const char *at, const char *fmt, ...)
{
	uint64_t line = ps->line0;
	size_t off = (size_t)(at - ps->begin), bol = 0;
	for (size_t i = 0; i < off; i++) {
		if (ps->src[i] == '\n') {
			line++;
			bol = i + 1;
		}
	}
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	sl_diag_set(SL_EPARSE, "%s%s%llu:%llu: %s%s", ps->name ? ps->name : "",
	            ps->name ? ":" : "", (unsigned long long)line,
	            (unsigned long long)(off - bol + 1),
	            at == ps->end ? "unexpected end of input: " : "", what);
	return -1;
}

/** Whether c is JSON whitespace. */
static inline bool
is_ws(unsigned char c)
{
	return c <= ' ' && (c == ' ' || c == '\n' || c == '\r' || c == '\t');
}

/** The first byte at or after p that is not whitespace (the copy's NUL
 * stops it). */
static inline const char *
skip_ws(const char *p)
{
	while (unlikely(is_ws((unsigned char)*p)))
		p++;
	return p;
}

#ifndef JSON_SSE2
/** Whether c is '"', '\\', < 0x20 or >= 0x80. */
static inline bool
special(unsigned char c)
{
	return c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
}
#endif

/**
 * The constants of a string scan, made once a document and kept in
 * registers (an empty `asm` hides their values, so the compiler neither
 * makes them again at each scan nor turns x < 0x20 into !(x > 0x1F), two
 * more instructions than 0x20 > x).
 */
struct scan_k {
#ifdef JSON_SSE2
	/** '"' in each byte. */
	__m128i quote;
	/** '\\' in each byte. */
	__m128i bslash;
	/** 0x20 in each byte. */
	__m128i space;
#else
	/** Unused: the word scan's constants are immediates. */
	int unused;
#endif
};

/** The constants of scan_plain_k(). */
static inline __attribute__((always_inline)) struct scan_k
scan_k(void)
{
	struct scan_k k;
#ifdef JSON_SSE2
	k.quote = _mm_set1_epi8('"');
	k.bslash = _mm_set1_epi8('\\');
	k.space = _mm_set1_epi8(0x20);
	__asm__("" : "+x"(k.quote), "+x"(k.bslash), "+x"(k.space));
#else
	k.unused = 0;
#endif
	return k;
}

/**
 * The first byte at or after p that is '"', '\\', < 0x20 or >= 0x80; the
 * copy's NUL at the end is one, so there is always one.
 */
static inline __attribute__((always_inline)) const char *
scan_plain_k(const char *p, struct scan_k k)
{
#ifdef JSON_SSE2
	uint64_t mask;
	p -= 16;
	do {
		p += 16;
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* Signed compare: bytes >= 0x80 are negative, so below 0x20. */
		__m128i m =
		        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, k.quote),
		                                  _mm_cmpeq_epi8(x, k.bslash)),
		                     _mm_cmpgt_epi8(k.space, x));
		mask = (unsigned)_mm_movemask_epi8(m);
	} while (mask == 0);
	return p + __builtin_ctzll(mask);
#else
	(void)k;
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t highs = 0x8080808080808080ull;
	for (;;) {
		uint64_t w;
		memcpy(&w, p, 8);
		uint64_t q = w ^ (ones * '"');
		uint64_t b = w ^ (ones * '\\');
		/* A high bit for each byte that is '"', '\\', < 0x20 or
		 * >= 0x80, and perhaps for bytes after one (a borrow). */
		uint64_t hit = ((q - ones) & ~q) | ((b - ones) & ~b) |
		               ((w - ones * 0x20) & ~w) | w;
		if ((hit & highs) != 0)
			break;
		p += 8;
	}
	while (!special((unsigned char)*p))
		p++;
	return p;
#endif
}

/** The offset from p of scan_plain_k()'s byte. */
static inline __attribute__((always_inline)) size_t
scan_len_k(const char *p, struct scan_k k)
{
	return (size_t)(scan_plain_k(p, k) - p);
}

/** scan_plain_k() with its constants made for this one scan. */
static inline const char *
scan_plain(const char *p)
{
	return scan_plain_k(p, scan_k());
}

#ifdef JSON_AVX
/** The constants of scan_len_avx(), as struct scan_k's. */
struct scan_k_avx {
	/** '"' in each byte. */
	__m128i quote;
	/** '\\' in each byte. */
	__m128i bslash;
	/** 0x20 in each byte. */
	__m128i space;
};

/** The constants of scan_len_avx(). */
static inline
        __attribute__((target("avx,bmi"), always_inline)) struct scan_k_avx
        scan_k_avx(void)
{
	/* Three loads: _mm_set1_epi8() made each with three instructions. */
	static const char c[3][16] __attribute__((aligned(16))) = {
	        "\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"",
	        "\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\",
	        "                ",
	};
	struct scan_k_avx k;
	k.quote = _mm_load_si128((const __m128i *)(const void *)c[0]);
	k.bslash = _mm_load_si128((const __m128i *)(const void *)c[1]);
	k.space = _mm_load_si128((const __m128i *)(const void *)c[2]);
	__asm__("" : "+x"(k.quote), "+x"(k.bslash), "+x"(k.space));
	return k;
}

/**
 * scan_len_k() for CPUs with AVX and BMI1 (tzcnt), in assembly: compiled
 * from C, gcc copied the three constants into other registers and
 * sign-extended the bit index at every scan, 7 of 17 instructions of a
 * short string's scan. 16 bytes at a time, loaded once: 32-byte loads
 * (AVX2), and comparing from memory three times, took more CPU time on a
 * Zen 5 machine for 3 % fewer instructions. The offset is the loop's
 * index, so the caller has the string's length without a subtraction.
 */
static inline __attribute__((target("avx,bmi"), always_inline)) size_t
scan_len_avx(const char *p, struct scan_k_avx k)
{
	uint64_t at, n;
	__m128i t, u;
	__m128i x;
	__asm__("xor %k[n], %k[n]\n"
	        "1:\n\t"
	        "vmovdqu (%[p],%[n]), %[x]\n\t"
	        "vpcmpeqb %[x], %[q], %[t]\n\t"
	        "vpcmpeqb %[x], %[b], %[u]\n\t"
	        "vpor %[u], %[t], %[t]\n\t"
	        "vpcmpgtb %[x], %[s], %[u]\n\t"
	        "vpor %[u], %[t], %[t]\n\t"
	        "vpmovmskb %[t], %k[at]\n\t"
	        "test %k[at], %k[at]\n\t"
	        "jnz 2f\n\t"
	        "add $16, %[n]\n\t"
	        "jmp 1b\n"
	        "2:\n\t"
	        "tzcnt %k[at], %k[at]\n\t"
	        "add %[at], %[n]"
	        : [n] "=&r"(n), [at] "=&r"(at), [t] "=&x"(t), [u] "=&x"(u),
	          [x] "=&x"(x)
	        : [p] "r"(p), [q] "x"(k.quote), [b] "x"(k.bslash),
	          [s] "x"(k.space), "m"(*(const char(*)[16])p)
	        : "cc");
	return n;
}
#endif

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

/** Fail with SL_ELIMIT for a string or number text of n bytes. */
static int
text_too_long(size_t n)
{
	sl_diag_set(SL_ELIMIT, "JSON string of %zu bytes is too long", n);
	return -1;
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

/** The writable byte of the copy at p. */
static inline char *
in_copy(const struct parser *ps, const char *p)
{
	return ps->begin + (p - ps->begin);
}

/**
 * Decode one escape at *pp (**pp == '\\') to *w, which is at or before
 * *pp (the decoded bytes are never more than the escape's); both move
 * past it.
 */
static int
decode_escape(struct parser *ps, const char **pp, char **w)
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
	memcpy(*w, b, n);
	*w += n;
	return 0;
}

/**
 * The rest of parse_string() from p, the first byte of the string at s
 * that the scan stopped at other than its closing quote: non-ASCII
 * (validated), escapes (decoded in place from the first one on), the end
 * or a control character (errors).
 */
static const char *__attribute__((noinline))
parse_string_slow(struct parser *ps, const char *s, const char *p,
                  struct sl_value *out)
{
	const char *end = ps->end;
	char *w = NULL;
	for (;;) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			break;
		if (c >= 0x80) {
			size_t k = utf8_len((const unsigned char *)p,
			                    (const unsigned char *)end);
			if (k == 0) {
				perr(ps, p, "invalid UTF-8 in a string");
				return NULL;
			}
			if (w != NULL) {
				memmove(w, p, k);
				w += k;
			}
			p += k;
		} else if (c == '\\') {
			if (w == NULL)
				w = in_copy(ps, p);
			if (decode_escape(ps, &p, &w) < 0)
				return NULL;
		} else if (p == end) {
			perr(ps, end, "expected '\"' to end a string");
			return NULL;
		} else {
			perr(ps, p,
			     "control character 0x%02X in a string (it must be "
			     "escaped)",
			     c);
			return NULL;
		}
		const char *run = p;
		p = scan_plain(p);
		if (w != NULL && p > run) {
			memmove(w, run, (size_t)(p - run));
			w += p - run;
		}
	}
	size_t n = (size_t)((w != NULL ? w : p) - s);
	if (unlikely(n > SL_VALUE_LEN_MAX)) {
		text_too_long(n);
		return NULL;
	}
	*out = sl_str_ref(s, (uint32_t)n);
	return p + 1;
}

/** Whether c is an ASCII digit. */
static inline bool
is_digit(char c)
{
	return (unsigned)(c - '0') < 10;
}

/**
 * Validate the number at p into `v` (its text stays in the copy). Returns
 * the byte after it, or NULL with an error. Its length is checked only
 * when the document is `big`.
 */
static inline __attribute__((always_inline)) const char *
parse_number(struct parser *ps, const char *p, struct sl_value *v,
             const bool big)
{
	const char *s = p;
	if (*p == '-')
		p++;
	if (*p == '0') {
		p++;
		if (unlikely(is_digit(*p))) {
			perr(ps, p,
			     "leading zeros are not allowed in a number");
			return NULL;
		}
	} else if (likely(is_digit(*p))) {
		do
			p++;
		while (is_digit(*p));
	} else {
		perr(ps, p, "expected a digit after '-'");
		return NULL;
	}
	if (*p == '.') {
		p++;
		if (!is_digit(*p)) {
			perr(ps, p, "expected a digit after the decimal point");
			return NULL;
		}
		do
			p++;
		while (is_digit(*p));
	}
	if ((*p | 0x20) == 'e') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!is_digit(*p)) {
			perr(ps, p, "expected a digit in the exponent");
			return NULL;
		}
		do
			p++;
		while (is_digit(*p));
	}
	size_t n = (size_t)(p - s);
	if (big && unlikely(n > SL_VALUE_LEN_MAX)) {
		text_too_long(n);
		return NULL;
	}
	*v = sl_number_ref(s, (uint32_t)n);
	return p;
}

/** The two bytes at p as one number (p[1] may be the copy's first NUL). */
static inline uint16_t
load2(const char *p)
{
	uint16_t x;
	memcpy(&x, p, 2);
	return x;
}

/** The bytes a and b as load2() reads them. */
static inline uint16_t
two(char a, char b)
{
	const char c[2] = {a, b};
	return load2(c);
}

/** Whether the literal `word` (n bytes, at most 9) is at p. */
static inline bool
literal(const char *p, const char *word, size_t n)
{
	return memcmp(p, word, n) == 0;
}

/**
 * Room in the arena for `n` items of `bytes` in all, 16-byte aligned (their
 * number is checked only when the document is `big`); NULL with an error.
 */
static inline __attribute__((always_inline)) char *
items_room(struct sl_arena *a, size_t n, size_t bytes, const bool big)
{
	if (big && unlikely(n > SL_VALUE_LEN_MAX)) {
		sl_diag_set(SL_ELIMIT,
		            "JSON array or object of %zu items is too long", n);
		return NULL;
	}
	return sl_arena_alloc_aligned(a, bytes, 16);
}

/**
 * Move the top `n` items from a scratch stack into the arena (their
 * number is checked only when the document is `big`).
 */
static inline __attribute__((always_inline)) void *
arena_items(struct sl_arena *a, const void *src, size_t n, size_t size,
            const bool big)
{
	size_t bytes = n * size;
	char *d = items_room(a, n, bytes, big);
	if (unlikely(d == NULL))
		return NULL;
	/* An item at a time (`size` is a constant): a call to memcpy costs
	 * more than the few a container has. The empty asm keeps the
	 * compiler from making the loop a memcpy call. */
	for (size_t i = 0; i < bytes; i += size) {
		__asm__("" : "+r"(i));
		memcpy(d + i, (const char *)src + i, size);
	}
	return d;
}

#ifdef JSON_AVX
/**
 * arena_items() for the AVX parser: 32 bytes a load and a store (a member,
 * or two items), then the last item alone.
 */
static inline __attribute__((target("avx,bmi"), always_inline)) void *
arena_items_avx(struct sl_arena *a, const void *src, size_t n, size_t size,
                const bool big)
{
	size_t bytes = n * size;
	char *d = items_room(a, n, bytes, big);
	if (unlikely(d == NULL))
		return NULL;
	const char *s = src;
	size_t i = 0;
	for (; i + 32 <= bytes; i += 32)
		_mm256_storeu_si256(
		        (__m256i *)(void *)(d + i),
		        _mm256_loadu_si256(
		                (const __m256i *)(const void *)(s + i)));
	if (i < bytes)
		_mm_storeu_si128(
		        (__m128i *)(void *)(d + i),
		        _mm_loadu_si128(
		                (const __m128i *)(const void *)(s + i)));
	return d;
}
#endif

/**
 * Copy the text [s, s + len) into the arena with DOC_PAD NULs after it,
 * as the text `ps` parses. 0, or -1 with the arena's error.
 */
static inline __attribute__((always_inline)) int
doc_copy(struct parser *ps, const char *s, size_t len)
{
	if (unlikely(len > SIZE_MAX - DOC_PAD)) {
		sl_diag_set(SL_ELIMIT, "JSON text of %zu bytes is too long",
		            len);
		return -1;
	}
	char *d = sl_arena_alloc_aligned(ps->arena, len + DOC_PAD, 1);
	if (d == NULL)
		return -1;
	if (len > 0)
		memcpy(d, s, len);
	memset(d + len, 0, DOC_PAD);
	ps->begin = d;
	ps->end = d + len;
	ps->src = s;
	return 0;
}

#define DOC_BODY   parse_doc_body
#define DOC_SCAN   scan_len_k
#define DOC_SCAN_K scan_k
#define DOC_ITEMS  arena_items
#define DOC_ATTR
#include "value/jsonread_doc.h"
#undef DOC_BODY
#undef DOC_SCAN
#undef DOC_SCAN_K
#undef DOC_ITEMS
#undef DOC_ATTR

/** parse_doc_body() for a document of more than DOC_SMALL bytes. */
static int __attribute__((noinline))
parse_doc_big(struct parser *ps, struct sl_value *out)
{
	return parse_doc_body(ps, out, true);
}

/** parse_doc_body() for a document of DOC_SMALL bytes at most. */
static int
parse_doc_small(struct parser *ps, struct sl_value *out)
{
	return parse_doc_body(ps, out, false);
}

/** doc_reserve() when a stack is short. 0, or -1. */
static int __attribute__((noinline))
doc_reserve_grow(struct scratch *sc, size_t len, size_t frames)
{
	if (sc->cap_vals < len + 1 && grow((void **)&sc->vals, &sc->cap_vals,
	                                   len + 1, sizeof(*sc->vals)) < 0)
		return -1;
	if (sc->cap_mems < len / 2 + 1 &&
	    grow((void **)&sc->mems, &sc->cap_mems, len / 2 + 1,
	         sizeof(*sc->mems)) < 0)
		return -1;
	if (sc->cap_frames < frames + 1 &&
	    grow((void **)&sc->frames, &sc->cap_frames, frames + 1,
	         sizeof(*sc->frames)) < 0)
		return -1;
	return 0;
}

/**
 * Size the scratch stacks for any document of `len` bytes: an item's slot
 * is taken at a '[' or ',', a member at a key after a '{' or ',' (3 bytes
 * at least), a frame at a '[' or '{' below the depth limit. 0, or -1.
 */
static inline __attribute__((always_inline)) int
doc_reserve(struct scratch *sc, size_t len, unsigned depth_max)
{
	size_t frames = len < depth_max ? len : depth_max;
	if (likely(sc->cap_vals > len && sc->cap_mems > len / 2 &&
	           sc->cap_frames > frames))
		return 0;
	return doc_reserve_grow(sc, len, frames);
}

#ifdef JSON_AVX
#define DOC_BODY   parse_doc_body_avx
#define DOC_SCAN   scan_len_avx
#define DOC_SCAN_K scan_k_avx
#define DOC_ITEMS  arena_items_avx
#define DOC_ATTR   __attribute__((target("avx,bmi")))
#include "value/jsonread_doc.h"
#undef DOC_BODY
#undef DOC_SCAN
#undef DOC_SCAN_K
#undef DOC_ITEMS
#undef DOC_ATTR

/** parse_doc_small() with the AVX string scan. */
static int __attribute__((target("avx,bmi"), noinline))
parse_doc_small_avx(struct parser *ps, struct sl_value *out)
{
	return parse_doc_body_avx(ps, out, false);
}
#endif

/** Parse the one document of the copy [ps->begin, ps->end). */
static int
parse_doc(struct parser *ps, struct sl_value *out)
{
	size_t len = (size_t)(ps->end - ps->begin);
	/* A big document's stacks grow as they fill; they are allocated
	 * first, so that the parser's pointers into them are never NULL. */
	if (unlikely(len > DOC_SMALL))
		return doc_reserve(ps->sc, 0, 0) < 0 ? -1
		                                     : parse_doc_big(ps, out);
	if (doc_reserve(ps->sc, len, ps->depth_max) < 0)
		return -1;
#ifdef JSON_AVX
	if (__builtin_cpu_supports("avx") && __builtin_cpu_supports("bmi"))
		return parse_doc_small_avx(ps, out);
#endif
	return parse_doc_small(ps, out);
}

/**
 * Parse the text [s, s + len), whose first line is numbered `line0`, as
 * one document into `arena` (see struct parser for the other arguments).
 */
static int
parse_text(struct scratch *sc, const char *s, size_t len, uint64_t line0,
           const char *name, unsigned depth_max, struct sl_arena *arena,
           struct sl_value *out)
{
	struct parser ps = {
	        .arena = arena,
	        .sc = sc,
	        .depth_max = depth_max,
	        .name = name,
	        .line0 = line0,
	};
	if (doc_copy(&ps, s, len) < 0)
		return -1;
	return parse_doc(&ps, out);
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
	int rc = parse_text(&sc, buf, len, 1, name,
	                    opts ? opts->depth_max : SL_JSON_DEPTH_MAX_DEFAULT,
	                    arena, out);
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
	/** The CPU has AVX2 and BMI1: jsonl_next_avx2() reads lines. */
	bool avx2;
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
#ifdef JSON_AVX
	r->avx2 =
	        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi");
#endif
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
	return parse_text(sc, s, len, no, name, depth_max, arena, out) < 0 ? -1
	                                                                   : 1;
}

/** Whether line `ln` of the splitter's buffer holds only whitespace. */
static bool
blank_line(const struct sl_lines *l, const struct sl_line *ln)
{
	const char *p = l->buf + ln->start, *end = l->buf + ln->end;
	while (p < end && is_ws((unsigned char)*p))
		p++;
	return p == end;
}

#ifdef JSON_AVX
/** The offset of the first '\n' of the 64 bytes whose compares are a, b. */
static inline __attribute__((target("avx2,bmi"), always_inline)) size_t
nl_at(__m256i a, __m256i b)
{
	uint64_t lo = (uint32_t)_mm256_movemask_epi8(a);
	uint64_t hi = (uint32_t)_mm256_movemask_epi8(b);
	return (size_t)__builtin_ctzll(lo | hi << 32);
}

/**
 * Copy the line at s to d, 128 bytes at a time and then 64, until the
 * block that holds its '\n', reading fewer than `avail` bytes of s and
 * writing fewer than `room` of d. The line's length without the '\n', or
 * SIZE_MAX when its '\n' is not in the whole blocks both have (bytes of
 * the block after the '\n' are copied too).
 */
static __attribute__((target("avx2,bmi"))) size_t
line_copy_avx2(char *d, const char *s, size_t avail, size_t room)
{
	const __m256i nl = _mm256_set1_epi8('\n');
	size_t lim = avail < room ? avail : room;
	size_t i = 0;
	for (; i + 128 <= lim; i += 128) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(s + i));
		__m256i b = _mm256_loadu_si256((const __m256i *)(s + i + 32));
		__m256i c = _mm256_loadu_si256((const __m256i *)(s + i + 64));
		__m256i e = _mm256_loadu_si256((const __m256i *)(s + i + 96));
		_mm256_storeu_si256((__m256i *)(void *)(d + i), a);
		_mm256_storeu_si256((__m256i *)(void *)(d + i + 32), b);
		_mm256_storeu_si256((__m256i *)(void *)(d + i + 64), c);
		_mm256_storeu_si256((__m256i *)(void *)(d + i + 96), e);
		__m256i ea = _mm256_cmpeq_epi8(a, nl);
		__m256i eb = _mm256_cmpeq_epi8(b, nl);
		__m256i ec = _mm256_cmpeq_epi8(c, nl);
		__m256i ee = _mm256_cmpeq_epi8(e, nl);
		__m256i any = _mm256_or_si256(_mm256_or_si256(ea, eb),
		                              _mm256_or_si256(ec, ee));
		if (!_mm256_testz_si256(any, any)) {
			__m256i ab = _mm256_or_si256(ea, eb);
			if (!_mm256_testz_si256(ab, ab))
				return i + nl_at(ea, eb);
			return i + 64 + nl_at(ec, ee);
		}
	}
	if (i + 64 <= lim) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(s + i));
		__m256i b = _mm256_loadu_si256((const __m256i *)(s + i + 32));
		_mm256_storeu_si256((__m256i *)(void *)(d + i), a);
		_mm256_storeu_si256((__m256i *)(void *)(d + i + 32), b);
		__m256i ea = _mm256_cmpeq_epi8(a, nl);
		__m256i eb = _mm256_cmpeq_epi8(b, nl);
		__m256i any = _mm256_or_si256(ea, eb);
		if (!_mm256_testz_si256(any, any))
			return i + nl_at(ea, eb);
	}
	return SIZE_MAX;
}

/**
 * sl_jsonl_next() for a line whose '\n' is in the splitter's buffer and
 * fits in the arena's head chunk: one pass finds the '\n' and copies the
 * line into the arena as the parser's copy (no memchr, then memcpy).
 * Returns 2, with nothing changed, for any other line (near the end of
 * the buffer or the chunk, blank or starting with whitespace), which
 * sl_jsonl_next() reads as before.
 */
static inline __attribute__((always_inline)) int
jsonl_next_avx2(struct sl_jsonl_reader *r, struct sl_arena *arena,
                struct sl_value *out)
{
	struct sl_lines *l = &r->lines;
	if (l->scanned != l->start || l->skipping || arena->cur == NULL)
		return 2;
	size_t room = (size_t)(arena->end - arena->cur);
	if (room < DOC_PAD + 64)
		return 2;
	char *d = (char *)arena->cur;
	const char *s = l->buf + l->start;
	size_t le = line_copy_avx2(d, s, l->fill - l->start, room - DOC_PAD);
	if (le == SIZE_MAX)
		return 2;
	size_t len = le > 0 && s[le - 1] == '\r' ? le - 1 : le;
	if (len == 0 || is_ws((unsigned char)s[0]))
		return 2;
	l->start = l->scanned = l->start + le + 1;
	uint64_t no = ++l->lines;
	r->rec_line = no;
	if (len > r->opts.record_max)
		return sl_line_too_long(sl_lines_name(l), r->opts.record_max,
		                        no);
	/* The room was checked: this is d. */
	char *c = sl_arena_alloc_aligned(arena, len + DOC_PAD, 1);
	(void)c;
	memset(d + len, 0, DOC_PAD);
	struct parser ps = {
	        .begin = d,
	        .end = d + len,
	        .src = s,
	        .arena = arena,
	        .sc = &r->sc,
	        .depth_max = r->opts.depth_max,
	        .name = sl_lines_name(l),
	        .line0 = no,
	};
	if (likely(len <= DOC_SMALL)) {
		if (doc_reserve(&r->sc, len, ps.depth_max) < 0)
			return -1;
		return parse_doc_small_avx(&ps, out) < 0 ? -1 : 1;
	}
	return parse_doc(&ps, out) < 0 ? -1 : 1;
}
#endif

int
sl_jsonl_next(struct sl_jsonl_reader *r, struct sl_arena *arena,
              struct sl_value *out)
{
#ifdef JSON_AVX
	if (likely(r->avx2)) {
		int rc = jsonl_next_avx2(r, arena, out);
		if (likely(rc != 2))
			return rc;
	}
#endif
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
		/* Huge-page memory from 16 KiB (sl_big_realloc()): a block
		 * is reused job after job, and its first touch costs a
		 * fault per 2 MiB rather than per 4 KiB. */
		char *nd = sl_big_realloc(b->data, b->cap, nc);
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
	sl_big_free(b->data, b->cap);
	sl_free(b->lines);
	memset(b, 0, sizeof(*b));
}

uint64_t
sl_jsonl_line(const struct sl_jsonl_reader *r)
{
	return r->rec_line;
}
