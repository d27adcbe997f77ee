/*
 * Record readers by file format over plain or compressed bytes.
 *
 * A reader stacks sources: the caller's source (or a file it opened), a
 * counting layer (bytes_in), a decompressor when there is a compression,
 * and a top layer that notes whether a read failed; the format's reader
 * pulls from the top. An error that came through the top layer ended the
 * input, whatever the format reader says about it.
 */
#include "sluice/records.h"

#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/csv.h"
#include "sluice/diag.h"
#include "sluice/jsonread.h"
#include "sluice/yamlread.h"
#include "value/decompress.h"
#include "value/filesrc.h"
#include "value/txt.h"

/** The suffixes a message lists as known. */
#define KNOWN_SUFFIXES                                                   \
	".jsonl, .json, .csv, .txt, .yaml or .yml, optionally followed " \
	"by .gz, .zst or .bz2"

struct sl_reader {
	/** Options (copied). */
	struct sl_reader_opts opts;
	/** The record format. */
	enum sl_format format;
	/** The compression undone. */
	enum sl_compression comp;
	/** The caller's source, or `file_src`. */
	struct sl_source *src;
	/** The file sl_reader_open() opened. */
	struct sl_file_source file;
	/** Whether `file` is open and ours. */
	bool own_file;
	/** Source over `file`. */
	struct sl_source file_src;
	/** Counts the bytes taken from `src`. */
	struct sl_source counted;
	/** Bytes taken from `src`. */
	uint64_t bytes_in;
	/** The decompressor, or NULL. */
	struct sl_decomp *dec;
	/** The decompressor's source, or a copy of `counted`. */
	struct sl_source below;
	/** What the format reader pulls from: `below`, noting failures. */
	struct sl_source top;
	/** A read of `top` failed: the input has ended in an error. */
	bool src_failed;
	/** JSON-lines reader (SL_FORMAT_JSONL). */
	struct sl_jsonl_reader *jsonl;
	/** CSV reader (SL_FORMAT_CSV). */
	struct sl_csv_reader *csv;
	/** Text line reader (SL_FORMAT_TXT). */
	struct sl_txt_reader *txt;
	/** The single document has been read (JSON, YAML). */
	bool doc_done;
	/** Line of the single document once read: 1. */
	uint64_t doc_line;
	/** The last error concerned one record. */
	bool can_skip;
	/** An error ended the input; later calls fail. */
	bool dead;
	/** The error that ended the input after a block's lines. */
	struct sl_diag pending;
	/** `pending` holds an error for the next call. */
	bool has_pending;
};

void
sl_reader_opts_init(struct sl_reader_opts *o)
{
	o->chunk_size = (size_t)1 << 20;
	o->record_max = (size_t)64 << 20;
	o->csv_delimiter = ',';
}

/** A format's suffixes (with the dot) and formats, in matching order. */
static const struct {
	/** The suffix. */
	const char *suffix;
	/** Its format. */
	enum sl_format format;
} format_suffixes[] = {
        {".jsonl", SL_FORMAT_JSONL}, {".json", SL_FORMAT_JSON},
        {".csv", SL_FORMAT_CSV},     {".txt", SL_FORMAT_TXT},
        {".yaml", SL_FORMAT_YAML},   {".yml", SL_FORMAT_YAML},
};

/** Compression suffixes and kinds. */
static const struct {
	/** The suffix. */
	const char *suffix;
	/** Its compression. */
	enum sl_compression comp;
} comp_suffixes[] = {
        {".gz", SL_COMPRESSION_GZIP},
        {".zst", SL_COMPRESSION_ZSTD},
        {".bz2", SL_COMPRESSION_BZIP2},
};

/** Whether s[0, n) ends with `suffix` (any case) after at least a byte. */
static bool
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n > k && strncasecmp(s + n - k, suffix, k) == 0;
}

int
sl_format_of_name(const char *name, enum sl_format *format,
                  enum sl_compression *compression)
{
	const char *base = strrchr(name, '/');
	base = base != NULL ? base + 1 : name;
	size_t n = strlen(base);
	enum sl_compression c = SL_COMPRESSION_NONE;
	for (size_t i = 0; i < sizeof(comp_suffixes) / sizeof(*comp_suffixes);
	     i++) {
		if (ends_with(base, n, comp_suffixes[i].suffix)) {
			c = comp_suffixes[i].comp;
			n -= strlen(comp_suffixes[i].suffix);
			break;
		}
	}
	for (size_t i = 0;
	     i < sizeof(format_suffixes) / sizeof(*format_suffixes); i++) {
		if (ends_with(base, n, format_suffixes[i].suffix)) {
			*format = format_suffixes[i].format;
			*compression = c;
			return 0;
		}
	}
	sl_diag_set(SL_EINVAL,
	            "%s: cannot tell the record format from the file name "
	            "(known suffixes: " KNOWN_SUFFIXES ")",
	            name);
	return -1;
}

const char *
sl_format_name(enum sl_format f)
{
	switch (f) {
	case SL_FORMAT_JSONL:
		return "jsonl";
	case SL_FORMAT_JSON:
		return "json";
	case SL_FORMAT_CSV:
		return "csv";
	case SL_FORMAT_TXT:
		return "txt";
	case SL_FORMAT_YAML:
		return "yaml";
	default:
		return "none";
	}
}

enum sl_format
sl_format_parse(const char *name)
{
	if (name == NULL)
		return SL_FORMAT_NONE;
	if (strcasecmp(name, "yml") == 0)
		return SL_FORMAT_YAML;
	for (int f = SL_FORMAT_JSONL; f <= SL_FORMAT_YAML; f++)
		if (strcasecmp(name, sl_format_name((enum sl_format)f)) == 0)
			return (enum sl_format)f;
	return SL_FORMAT_NONE;
}

enum sl_compression
sl_compression_parse(const char *name)
{
	if (name == NULL)
		return SL_COMPRESSION_NONE;
	if (strcasecmp(name, "gzip") == 0 || strcasecmp(name, "gz") == 0)
		return SL_COMPRESSION_GZIP;
	if (strcasecmp(name, "zstd") == 0 || strcasecmp(name, "zst") == 0)
		return SL_COMPRESSION_ZSTD;
	if (strcasecmp(name, "bzip2") == 0 || strcasecmp(name, "bz2") == 0)
		return SL_COMPRESSION_BZIP2;
	return SL_COMPRESSION_NONE;
}

/** The input's name for messages. */
static const char *
reader_name(const struct sl_reader *r)
{
	return r->src->name != NULL ? r->src->name : "<input>";
}

/** Read from the caller's source, counting bytes. */
static ssize_t
counted_read(void *ctx, char *buf, size_t size)
{
	struct sl_reader *r = ctx;
	ssize_t got = r->src->read(r->src->ctx, buf, size);
	if (got > 0)
		r->bytes_in += (uint64_t)got;
	return got;
}

/** Read from `below`, noting a failure. */
static ssize_t
top_read(void *ctx, char *buf, size_t size)
{
	struct sl_reader *r = ctx;
	ssize_t got = r->below.read(r->below.ctx, buf, size);
	if (got < 0)
		r->src_failed = true;
	return got;
}

/** Set up the source stack and the format reader. 0, or -1. */
static int
reader_start(struct sl_reader *r)
{
	const struct sl_reader_opts *o = &r->opts;
	r->counted.read = counted_read;
	r->counted.ctx = r;
	r->counted.name = r->src->name;
	if (r->comp != SL_COMPRESSION_NONE) {
		size_t in = o->chunk_size < ((size_t)1 << 20) ? o->chunk_size
		                                              : (size_t)1 << 20;
		r->dec = sl_decomp_new(&r->counted, r->comp, in);
		if (r->dec == NULL)
			return -1;
		r->below = sl_decomp_source(r->dec);
	} else {
		r->below = r->counted;
	}
	r->top.read = top_read;
	r->top.ctx = r;
	r->top.name = r->src->name;
	switch (r->format) {
	case SL_FORMAT_JSONL: {
		struct sl_json_opts jo;
		sl_json_opts_init(&jo);
		jo.chunk_size = o->chunk_size;
		jo.record_max = o->record_max;
		r->jsonl = sl_jsonl_reader_new(&r->top, &jo);
		return r->jsonl != NULL ? 0 : -1;
	}
	case SL_FORMAT_CSV: {
		struct sl_csv_opts co;
		sl_csv_opts_init(&co);
		co.chunk_size = o->chunk_size;
		co.record_max = o->record_max;
		co.delimiter = o->csv_delimiter;
		r->csv = sl_csv_reader_new(&r->top, &co);
		return r->csv != NULL ? 0 : -1;
	}
	case SL_FORMAT_TXT:
		r->txt = sl_txt_reader_new(&r->top, o->chunk_size,
		                           o->record_max);
		return r->txt != NULL ? 0 : -1;
	default:
		return 0;
	}
}

/** A zeroed reader with checked options, or NULL. */
static struct sl_reader *
reader_alloc(enum sl_format format, enum sl_compression compression,
             const struct sl_reader_opts *opts)
{
	struct sl_reader_opts def;
	if (opts == NULL) {
		sl_reader_opts_init(&def);
		opts = &def;
	}
	if (format <= SL_FORMAT_NONE || format > SL_FORMAT_YAML ||
	    compression < SL_COMPRESSION_NONE ||
	    compression > SL_COMPRESSION_BZIP2) {
		sl_diag_set(SL_EINVAL,
		            "records: unknown format %d or compression %d",
		            (int)format, (int)compression);
		return NULL;
	}
	if (opts->chunk_size == 0 || opts->record_max == 0 ||
	    opts->record_max > UINT32_MAX - 64) {
		sl_diag_set(SL_EINVAL,
		            "records: chunk_size must be positive and "
		            "record_max between 1 and %" PRIu32
		            " (got %zu and %zu)",
		            (uint32_t)(UINT32_MAX - 64), opts->chunk_size,
		            opts->record_max);
		return NULL;
	}
	struct sl_reader *r = sl_calloc(1, sizeof(*r));
	if (r == NULL) {
		sl_diag_set(SL_EOOM,
		            "out of memory allocating a record reader");
		return NULL;
	}
	r->opts = *opts;
	r->format = format;
	r->comp = compression;
	return r;
}

/**
 * A reader over `src`, or over the open `file` when not NULL; the reader
 * owns the file from here on, also when this fails.
 */
static struct sl_reader *
reader_make(struct sl_source *src, struct sl_file_source *file,
            enum sl_format format, enum sl_compression compression,
            const struct sl_reader_opts *opts)
{
	struct sl_reader *r = reader_alloc(format, compression, opts);
	if (r == NULL) {
		if (file != NULL)
			sl_file_source_close(file);
		return NULL;
	}
	if (file != NULL) {
		r->file = *file;
		r->own_file = true;
		r->file_src = sl_file_source_get(&r->file);
		r->src = &r->file_src;
	} else {
		r->src = src;
	}
	if (reader_start(r) != 0) {
		sl_reader_delete(r);
		return NULL;
	}
	return r;
}

struct sl_reader *
sl_reader_new(struct sl_source *src, enum sl_format format,
              enum sl_compression compression,
              const struct sl_reader_opts *opts)
{
	return reader_make(src, NULL, format, compression, opts);
}

struct sl_reader *
sl_reader_open(const char *path, const struct sl_reader_opts *opts)
{
	enum sl_format format;
	enum sl_compression comp;
	if (sl_format_of_name(path, &format, &comp) != 0)
		return NULL;
	struct sl_file_source f;
	if (sl_file_source_open(&f, path) != 0)
		return NULL;
	return reader_make(NULL, &f, format, comp, opts);
}

void
sl_reader_delete(struct sl_reader *r)
{
	if (r == NULL)
		return;
	sl_jsonl_reader_delete(r->jsonl);
	sl_csv_reader_delete(r->csv);
	sl_txt_reader_delete(r->txt);
	sl_decomp_delete(r->dec);
	if (r->has_pending)
		sl_diag_destroy(&r->pending);
	if (r->own_file)
		sl_file_source_close(&r->file);
	sl_free(r);
}

/**
 * Read the whole input into `b` (created here with the record_max cap).
 * 0, or -1 with SL_ELIMIT, SL_EOOM or the source's error.
 */
static int
read_doc(struct sl_reader *r, struct sl_buf *b)
{
	size_t max = r->opts.record_max;
	sl_buf_create(b, max);
	for (;;) {
		size_t want = max - b->len;
		if (want > r->opts.chunk_size)
			want = r->opts.chunk_size;
		char probe;
		char *dst = &probe;
		if (want == 0) {
			/* At the cap: the input must end here. */
			want = 1;
		} else {
			if (sl_buf_reserve(b, want) != 0)
				return -1;
			dst = b->data + b->len;
		}
		ssize_t got = r->top.read(r->top.ctx, dst, want);
		if (got < 0)
			return -1;
		if (got == 0)
			return 0;
		if ((size_t)got > want) {
			sl_diag_set(SL_EIO,
			            "reading %s: the source returned %zd bytes "
			            "when asked for %zu",
			            reader_name(r), got, want);
			return -1;
		}
		if (dst == &probe) {
			sl_diag_set(SL_ELIMIT,
			            "%s: the document exceeds the size cap of "
			            "%zu bytes",
			            reader_name(r), max);
			return -1;
		}
		b->len += (size_t)got;
	}
}

/** The single record of a JSON or YAML input. */
static int
next_doc(struct sl_reader *r, struct sl_arena *arena, struct sl_value *out)
{
	if (r->doc_done)
		return 0;
	r->doc_done = true;
	r->doc_line = 1;
	struct sl_buf b;
	int rc = read_doc(r, &b);
	if (rc == 0) {
		const char *text = b.data != NULL ? b.data : "";
		if (r->format == SL_FORMAT_JSON)
			rc = sl_json_parse(text, b.len, arena, NULL,
			                   reader_name(r), out);
		else
			rc = sl_yaml_parse(text, b.len, arena, reader_name(r),
			                   out);
	}
	sl_buf_destroy(&b);
	return rc == 0 ? 1 : -1;
}

/**
 * Whether `r` must not read: -1 with the error held back by
 * sl_reader_next_block() (the reader dies), or SL_EINVAL when dead. 0 to
 * go on.
 */
static int
reader_stop(struct sl_reader *r)
{
	if (r->has_pending) {
		r->has_pending = false;
		sl_diag_restore(&r->pending);
		r->can_skip = false;
		r->dead = true;
		return -1;
	}
	if (r->dead) {
		sl_diag_set(SL_EINVAL,
		            "record reader for %s used after an error that "
		            "ended its input",
		            reader_name(r));
		return -1;
	}
	return 0;
}

/** sl_reader_next() for other formats than JSON lines, and errors. */
static int __attribute__((noinline))
reader_next_other(struct sl_reader *r, struct sl_arena *arena,
                  struct sl_value *out)
{
	if (reader_stop(r) != 0)
		return -1;
	int rc;
	bool skip = false;
	switch (r->format) {
	case SL_FORMAT_JSONL:
		rc = sl_jsonl_next(r->jsonl, arena, out);
		skip = sl_diag_code() != SL_EOOM;
		break;
	case SL_FORMAT_CSV:
		rc = sl_csv_next(r->csv, arena, out);
		skip = sl_csv_can_continue(r->csv);
		break;
	case SL_FORMAT_TXT:
		rc = sl_txt_next(r->txt, arena, out);
		skip = sl_txt_can_continue(r->txt);
		break;
	default:
		rc = next_doc(r, arena, out);
		break;
	}
	if (rc < 0) {
		r->can_skip = skip && !r->src_failed;
		r->dead = !r->can_skip;
	}
	return rc;
}

int
sl_reader_next(struct sl_reader *r, struct sl_arena *arena,
               struct sl_value *out)
{
	/* JSON lines that read: no more than the call. */
	if (__builtin_expect(r->format == SL_FORMAT_JSONL && !r->has_pending &&
	                             !r->dead,
	                     1)) {
		int rc = sl_jsonl_next(r->jsonl, arena, out);
		if (__builtin_expect(rc >= 0, 1))
			return rc;
		r->can_skip = sl_diag_code() != SL_EOOM && !r->src_failed;
		r->dead = !r->can_skip;
		return rc;
	}
	return reader_next_other(r, arena, out);
}

bool
sl_reader_blocks(const struct sl_reader *r)
{
	return r->format == SL_FORMAT_JSONL;
}

int
sl_reader_next_block(struct sl_reader *r, struct sl_line_block *b,
                     uint32_t max_lines, size_t max_bytes)
{
	b->len = 0;
	b->n = 0;
	if (!sl_reader_blocks(r)) {
		sl_diag_set(SL_EINVAL,
		            "record reader for %s: %s input does not come in "
		            "line blocks",
		            reader_name(r), sl_format_name(r->format));
		return -1;
	}
	if (reader_stop(r) != 0)
		return -1;
	int rc = sl_jsonl_next_block(r->jsonl, b, max_lines, max_bytes);
	if (rc >= 0)
		return rc;
	if (b->n > 0) {
		/* Hand out the lines read; the error comes next. */
		sl_diag_stash(&r->pending);
		r->has_pending = true;
		return 1;
	}
	r->can_skip = false;
	r->dead = true;
	return -1;
}

bool
sl_reader_can_skip(const struct sl_reader *r)
{
	return r->can_skip;
}

uint64_t
sl_reader_line(const struct sl_reader *r)
{
	if (__builtin_expect(r->format == SL_FORMAT_JSONL, 1))
		return sl_jsonl_line(r->jsonl);
	switch (r->format) {
	case SL_FORMAT_JSONL:
		return sl_jsonl_line(r->jsonl);
	case SL_FORMAT_CSV:
		return sl_csv_line(r->csv);
	case SL_FORMAT_TXT:
		return sl_txt_line(r->txt);
	default:
		return r->doc_line;
	}
}

uint64_t
sl_reader_bytes_in(const struct sl_reader *r)
{
	return r->bytes_in;
}
