/*
 * Decompressing byte sources: gzip (zlib), zstd and bzip2.
 *
 * Every read loops over one step of the library's streaming decoder: take
 * more compressed input when the buffer is empty, decode into the caller's
 * buffer, and return as soon as something came out. A step with input and
 * output room always consumes or produces (or the library reports an
 * error), so no input makes the loop spin; a step that does neither is an
 * error too, as a guard. The libraries allocate through sl_malloc, so
 * fault injection reaches them.
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_createDCtx_advanced */
#include "value/decompress.h"

#include <bzlib.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "value/compress_dl.h"

struct sl_decomp {
	/** Where compressed bytes come from. */
	struct sl_source *inner;
	/** What to undo. */
	enum sl_compression kind;
	/** Compressed input buffer. */
	char *in;
	/** Bytes allocated for `in`. */
	size_t in_size;
	/** Offset of the next unconsumed byte in `in`. */
	size_t in_pos;
	/** Bytes held in `in`. */
	size_t in_len;
	/** Bytes read from `inner` so far. */
	uint64_t total_in;
	/** `inner` reported its end. */
	bool inner_eof;
	/** Bytes of an unfinished member or frame have been decoded. */
	bool in_member;
	/** At least one member or frame has ended. */
	bool any_done;
	/** The zlib or bzip2 stream is initialised. */
	bool lib_ready;
	/** A read failed; every later one fails too. */
	bool failed;
	/** zlib state (gzip). */
	z_stream z;
	/** bzip2 state. */
	bz_stream bz;
	/** zstd state. */
	ZSTD_DCtx *zd;
};

/** zlib's allocator hook. */
static voidpf
z_alloc(voidpf opaque, uInt items, uInt size)
{
	(void)opaque;
	if (size != 0 && items > SIZE_MAX / size)
		return NULL;
	return sl_malloc((size_t)items * size);
}

/** zlib's free hook. */
static void
z_free(voidpf opaque, voidpf p)
{
	(void)opaque;
	sl_free(p);
}

/** bzip2's allocator hook. */
static void *
bz_alloc(void *opaque, int items, int size)
{
	(void)opaque;
	if (items < 0 || size < 0 ||
	    (size != 0 && (size_t)items > SIZE_MAX / (size_t)size))
		return NULL;
	return sl_malloc((size_t)items * (size_t)size);
}

/** bzip2's free hook. */
static void
bz_free(void *opaque, void *p)
{
	(void)opaque;
	sl_free(p);
}

/** zstd's allocator hook. */
static void *
zstd_alloc(void *opaque, size_t size)
{
	(void)opaque;
	return sl_malloc(size);
}

/** zstd's free hook. */
static void
zstd_free(void *opaque, void *p)
{
	(void)opaque;
	sl_free(p);
}

const char *
sl_compression_name(enum sl_compression c)
{
	switch (c) {
	case SL_COMPRESSION_GZIP:
		return "gzip";
	case SL_COMPRESSION_ZSTD:
		return "zstd";
	case SL_COMPRESSION_BZIP2:
		return "bzip2";
	default:
		return "none";
	}
}

/** The inner source's name for messages. */
static const char *
src_name(const struct sl_decomp *d)
{
	return d->inner->name != NULL ? d->inner->name : "<input>";
}

uint64_t
sl_decomp_offset(const struct sl_decomp *d)
{
	return d->total_in - (d->in_len - d->in_pos);
}

/** Raise "name: corrupt KIND data at byte N: what". */
static void
err_corrupt(struct sl_decomp *d, const char *what)
{
	sl_diag_set(SL_EPARSE, "%s: corrupt %s data at byte %" PRIu64 ": %s",
	            src_name(d), sl_compression_name(d->kind),
	            sl_decomp_offset(d), what);
}

/** Raise the out-of-memory error of the decoder. */
static void
err_oom(struct sl_decomp *d)
{
	sl_diag_set(SL_EOOM, "%s: out of memory in the %s decoder", src_name(d),
	            sl_compression_name(d->kind));
}

/** Start the zlib or bzip2 stream if it is not running. 0 or -1. */
static int
lib_start(struct sl_decomp *d)
{
	if (d->lib_ready)
		return 0;
	int rc;
	if (d->kind == SL_COMPRESSION_GZIP) {
		memset(&d->z, 0, sizeof(d->z));
		d->z.zalloc = z_alloc;
		d->z.zfree = z_free;
		rc = inflateInit2(&d->z, 15 + 32);
		if (rc != Z_OK) {
			if (rc == Z_MEM_ERROR)
				err_oom(d);
			else
				sl_diag_set(SL_EINVAL,
				            "%s: zlib refused to start (%d)",
				            src_name(d), rc);
			return -1;
		}
	} else {
		memset(&d->bz, 0, sizeof(d->bz));
		d->bz.bzalloc = bz_alloc;
		d->bz.bzfree = bz_free;
		rc = BZ2_bzDecompressInit(&d->bz, 0, 0);
		if (rc != BZ_OK) {
			if (rc == BZ_MEM_ERROR)
				err_oom(d);
			else
				sl_diag_set(SL_EINVAL,
				            "%s: libbz2 refused to start (%d)",
				            src_name(d), rc);
			return -1;
		}
	}
	d->lib_ready = true;
	return 0;
}

/** Stop the zlib or bzip2 stream. */
static void
lib_stop(struct sl_decomp *d)
{
	if (!d->lib_ready)
		return;
	if (d->kind == SL_COMPRESSION_GZIP)
		inflateEnd(&d->z);
	else if (d->kind == SL_COMPRESSION_BZIP2)
		BZ2_bzDecompressEnd(&d->bz);
	d->lib_ready = false;
}

struct sl_decomp *
sl_decomp_new(struct sl_source *inner, enum sl_compression c, size_t in_size)
{
	if (c != SL_COMPRESSION_GZIP && c != SL_COMPRESSION_ZSTD &&
	    c != SL_COMPRESSION_BZIP2) {
		sl_diag_set(SL_EINVAL, "decompress: unknown compression %d",
		            (int)c);
		return NULL;
	}
	if (in_size == 0) {
		sl_diag_set(SL_EINVAL, "decompress: the input size must be "
		                       "positive");
		return NULL;
	}
	/* libzstd and libbz2 are opened on first use (compress_dl.h). */
	if ((c == SL_COMPRESSION_ZSTD && sl_zstd_load() != 0) ||
	    (c == SL_COMPRESSION_BZIP2 && sl_bz2_load() != 0))
		return NULL;
	struct sl_decomp *d = sl_calloc(1, sizeof(*d));
	if (d == NULL) {
		sl_diag_set(SL_EOOM, "out of memory allocating a decompressor");
		return NULL;
	}
	d->inner = inner;
	d->kind = c;
	d->in_size = in_size;
	d->in = sl_malloc(in_size);
	if (d->in == NULL) {
		sl_diag_set(SL_EOOM,
		            "out of memory allocating a decompression buffer "
		            "of %zu bytes",
		            in_size);
		sl_free(d);
		return NULL;
	}
	if (c == SL_COMPRESSION_ZSTD) {
		ZSTD_customMem cm = {zstd_alloc, zstd_free, NULL};
		d->zd = ZSTD_createDCtx_advanced(cm);
		if (d->zd == NULL) {
			err_oom(d);
			sl_decomp_delete(d);
			return NULL;
		}
	} else if (lib_start(d) != 0) {
		sl_decomp_delete(d);
		return NULL;
	}
	return d;
}

void
sl_decomp_delete(struct sl_decomp *d)
{
	if (d == NULL)
		return;
	lib_stop(d);
	if (d->zd != NULL)
		ZSTD_freeDCtx(d->zd);
	sl_free(d->in);
	sl_free(d);
}

struct sl_source
sl_decomp_source(struct sl_decomp *d)
{
	struct sl_source s = {sl_decomp_read, d, d->inner->name};
	return s;
}

/**
 * One gzip step over the buffered input into buf[0, size): `*out` bytes
 * produced, `*done` when a member ended. 0, or -1 with an error.
 */
static int
step_gzip(struct sl_decomp *d, char *buf, size_t size, size_t *out, bool *done)
{
	if (lib_start(d) != 0)
		return -1;
	size_t avail = d->in_len - d->in_pos;
	d->z.next_in = (Bytef *)d->in + d->in_pos;
	d->z.avail_in = (uInt)avail;
	d->z.next_out = (Bytef *)buf;
	d->z.avail_out = size > UINT_MAX ? UINT_MAX : (uInt)size;
	uInt out_room = d->z.avail_out;
	int rc = inflate(&d->z, Z_NO_FLUSH);
	size_t used = avail - d->z.avail_in;
	d->in_pos += used;
	*out = out_room - d->z.avail_out;
	if (used > 0)
		d->in_member = true;
	switch (rc) {
	case Z_STREAM_END:
		*done = true;
		if (inflateReset(&d->z) != Z_OK) {
			err_corrupt(d, "zlib could not start the next member");
			return -1;
		}
		return 0;
	case Z_OK:
	case Z_BUF_ERROR:
		return 0;
	case Z_MEM_ERROR:
		err_oom(d);
		return -1;
	default:
		err_corrupt(d, d->z.msg != NULL ? d->z.msg : "invalid data");
		return -1;
	}
}

/** The text of a bzip2 error code. */
static const char *
bz_error(int rc)
{
	switch (rc) {
	case BZ_DATA_ERROR_MAGIC:
		return "not bzip2 data (bad magic bytes)";
	case BZ_DATA_ERROR:
		return "data integrity error (bad block or checksum)";
	case BZ_PARAM_ERROR:
		return "bad parameter";
	case BZ_SEQUENCE_ERROR:
		return "call sequence error";
	default:
		return "unknown error";
	}
}

/** One bzip2 step; see step_gzip(). */
static int
step_bzip2(struct sl_decomp *d, char *buf, size_t size, size_t *out, bool *done)
{
	if (lib_start(d) != 0)
		return -1;
	size_t avail = d->in_len - d->in_pos;
	d->bz.next_in = d->in + d->in_pos;
	d->bz.avail_in = (unsigned)avail;
	d->bz.next_out = buf;
	d->bz.avail_out = size > UINT_MAX ? UINT_MAX : (unsigned)size;
	unsigned out_room = d->bz.avail_out;
	int rc = BZ2_bzDecompress(&d->bz);
	size_t used = avail - d->bz.avail_in;
	d->in_pos += used;
	*out = out_room - d->bz.avail_out;
	if (used > 0)
		d->in_member = true;
	if (rc == BZ_STREAM_END) {
		*done = true;
		lib_stop(d);
		return 0;
	}
	if (rc == BZ_OK)
		return 0;
	if (rc == BZ_MEM_ERROR) {
		err_oom(d);
		return -1;
	}
	err_corrupt(d, bz_error(rc));
	return -1;
}

/** One zstd step; see step_gzip(). */
static int
step_zstd(struct sl_decomp *d, char *buf, size_t size, size_t *out, bool *done)
{
	ZSTD_inBuffer in = {d->in + d->in_pos, d->in_len - d->in_pos, 0};
	ZSTD_outBuffer ob = {buf, size, 0};
	size_t rc = ZSTD_decompressStream(d->zd, &ob, &in);
	d->in_pos += in.pos;
	*out = ob.pos;
	if (ZSTD_isError(rc)) {
		if (ZSTD_getErrorCode(rc) == ZSTD_error_memory_allocation)
			err_oom(d);
		else
			err_corrupt(d, ZSTD_getErrorName(rc));
		return -1;
	}
	if (in.pos > 0 || ob.pos > 0) {
		*done = rc == 0;
		d->in_member = rc != 0;
	}
	return 0;
}

/** One step of the decoder of `d`. */
static int
step(struct sl_decomp *d, char *buf, size_t size, size_t *out, bool *done)
{
	*out = 0;
	*done = false;
	switch (d->kind) {
	case SL_COMPRESSION_GZIP:
		return step_gzip(d, buf, size, out, done);
	case SL_COMPRESSION_BZIP2:
		return step_bzip2(d, buf, size, out, done);
	default:
		return step_zstd(d, buf, size, out, done);
	}
}

/** Take more compressed input. 1: bytes came, 0: the end, -1: error. */
static int
fill(struct sl_decomp *d)
{
	ssize_t got = d->inner->read(d->inner->ctx, d->in, d->in_size);
	if (got < 0)
		return -1;
	if (got == 0) {
		d->inner_eof = true;
		return 0;
	}
	if ((size_t)got > d->in_size) {
		sl_diag_set(SL_EIO,
		            "reading %s: the source returned %zd bytes when "
		            "asked for %zu",
		            src_name(d), got, d->in_size);
		return -1;
	}
	d->in_pos = 0;
	d->in_len = (size_t)got;
	d->total_in += (uint64_t)got;
	return 1;
}

ssize_t
sl_decomp_read(void *ctx, char *buf, size_t size)
{
	struct sl_decomp *d = ctx;
	if (d->failed) {
		sl_diag_set(SL_EIO, "%s: read after a decompression error",
		            src_name(d));
		return -1;
	}
	if (size == 0)
		return 0;
	if (size > SSIZE_MAX)
		size = SSIZE_MAX;
	size_t out;
	bool done;
	for (;;) {
		if (d->in_pos == d->in_len && !d->inner_eof) {
			if (fill(d) < 0)
				goto fail;
			continue;
		}
		if (d->in_pos == d->in_len) {
			/* The input ended: flush, then it must be between
			 * members. */
			if (!d->in_member)
				return 0;
			if (step(d, buf, size, &out, &done) != 0)
				goto fail;
			if (done)
				d->in_member = false;
			if (out > 0)
				return (ssize_t)out;
			if (done)
				continue;
			sl_diag_set(SL_EPARSE,
			            "%s: truncated %s data at byte %" PRIu64
			            " (the input ended inside a %s)",
			            src_name(d), sl_compression_name(d->kind),
			            sl_decomp_offset(d),
			            d->kind == SL_COMPRESSION_ZSTD ? "frame"
			            : d->kind == SL_COMPRESSION_GZIP
			                    ? "member"
			                    : "stream");
			goto fail;
		}
		if (d->kind == SL_COMPRESSION_GZIP && !d->in_member &&
		    d->any_done) {
			while (d->in_pos < d->in_len && d->in[d->in_pos] == 0)
				d->in_pos++;
			if (d->in_pos == d->in_len)
				continue;
		}
		size_t before = d->in_pos;
		if (step(d, buf, size, &out, &done) != 0)
			goto fail;
		if (done) {
			d->any_done = true;
			d->in_member = false;
		}
		if (out > 0)
			return (ssize_t)out;
		if (d->in_pos == before && !done) {
			err_corrupt(d, "the decoder made no progress");
			goto fail;
		}
	}
fail:
	d->failed = true;
	return -1;
}
