/*
 * sluice: PackStream, the value encoding of Neo4j's Bolt protocol
 * (internal to the Bolt driver). Big-endian, self-describing:
 *
 *   null C0, false C2, true C3, float64 C1 + 8 bytes;
 *   integers in the smallest form: tiny 00..7F and F0..FF (-16..127),
 *     then C8 (int8), C9 (int16), CA (int32), CB (int64);
 *   bytes CC/CD/CE + u8/u16/u32 length;
 *   strings (UTF-8, length in bytes) 80+n (n < 16), D0/D1/D2 + length;
 *   lists 90+n, D4/D5/D6; maps (string keys) A0+n, D8/D9/DA;
 *   structures B0+n (n <= 15 fields) then a tag byte, then the fields.
 *
 * Decoding is lossless (struct sl_ps keeps bytes apart from strings, and
 * structures with their tags), and the decoder accepts every size and
 * integer only in its smallest form, as Neo4j, Memgraph and the official
 * drivers write them; so a decoded message re-encodes to the same bytes.
 * sl_ps_to_value() then maps a decoded value to a record value for
 * results (the mapping is on that function). Strings and bytes
 * of a decoded value point into the input, which must outlive it; lists,
 * maps and structures are allocated in the caller's arena.
 */
#ifndef SLUICE_DB_BOLT_PACKSTREAM_H
#define SLUICE_DB_BOLT_PACKSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/value.h"

/** Kinds of PackStream value. */
enum sl_ps_type {
	SL_PS_NULL = 0, /**< null */
	SL_PS_BOOL,     /**< true or false */
	SL_PS_INT,      /**< 64-bit signed integer */
	SL_PS_FLOAT,    /**< float64 */
	SL_PS_BYTES,    /**< byte array */
	SL_PS_STRING,   /**< UTF-8 string */
	SL_PS_LIST,     /**< list of values */
	SL_PS_MAP,      /**< map with string keys, in wire order */
	SL_PS_STRUCT,   /**< structure: a tag and up to 15 fields */
};

/** Structure tags of Bolt (values and messages). */
enum sl_ps_tag {
	SL_PS_TAG_NODE = 0x4E,            /**< id, labels, props[, eid] */
	SL_PS_TAG_REL = 0x52,             /**< id, start, end, type, props... */
	SL_PS_TAG_UNBOUND_REL = 0x72,     /**< id, type, props[, eid] */
	SL_PS_TAG_PATH = 0x50,            /**< nodes, rels, indices */
	SL_PS_TAG_DATE = 0x44,            /**< epoch days */
	SL_PS_TAG_TIME = 0x54,            /**< nanos of day, offset s */
	SL_PS_TAG_LOCAL_TIME = 0x74,      /**< nanos of day */
	SL_PS_TAG_LOCAL_DATETIME = 0x64,  /**< local epoch s, nanos */
	SL_PS_TAG_DATETIME = 0x49,        /**< UTC epoch s, nanos, offset */
	SL_PS_TAG_DATETIME_ZONE = 0x69,   /**< UTC epoch s, nanos, zone id */
	SL_PS_TAG_LEGACY_DATETIME = 0x46, /**< local epoch s, nanos, offset */
	SL_PS_TAG_LEGACY_DATETIME_ZONE = 0x66, /**< local s, nanos, zone */
	SL_PS_TAG_DURATION = 0x45,             /**< months, days, s, nanos */
	SL_PS_TAG_POINT2D = 0x58,              /**< srid, x, y */
	SL_PS_TAG_POINT3D = 0x59,              /**< srid, x, y, z */
};

struct sl_ps_entry;

/** A decoded PackStream value (16 bytes, like struct sl_value). */
struct sl_ps {
	/** enum sl_ps_type. */
	uint8_t type;
	/** The tag of a structure. */
	uint8_t tag;
	/** Bytes of a string or byte array; items, entries or fields. */
	uint32_t len;
	/** The payload, by type. */
	union {
		/** SL_PS_BOOL. */
		bool b;
		/** SL_PS_INT. */
		int64_t i;
		/** SL_PS_FLOAT. */
		double d;
		/** SL_PS_STRING and SL_PS_BYTES: the bytes (not NUL-ended). */
		const char *s;
		/** SL_PS_LIST items and SL_PS_STRUCT fields. */
		struct sl_ps *items;
		/** SL_PS_MAP entries. */
		struct sl_ps_entry *entries;
	} u;
};

/** One entry of a map. */
struct sl_ps_entry {
	/** Key bytes (UTF-8, not NUL-terminated). */
	const char *key;
	/** Key length. */
	uint32_t key_len;
	/** The value. */
	struct sl_ps val;
};

/** Deepest nesting the decoder accepts (lists, maps, structures). */
#define SL_PS_DEPTH_MAX 128

/** Most fields a structure can have. */
#define SL_PS_STRUCT_FIELDS_MAX 15

/*
 * Encoding. Every writer appends to `b` and returns 0, or -1 with the
 * buffer's error (SL_EOOM or SL_ELIMIT) and `b` unchanged.
 */

/** Append null. */
int sl_ps_put_null(struct sl_buf *b);
/** Append a boolean. */
int sl_ps_put_bool(struct sl_buf *b, bool v);
/** Append an integer in its smallest form. */
int sl_ps_put_int(struct sl_buf *b, int64_t v);
/** Append a float64. */
int sl_ps_put_float(struct sl_buf *b, double v);
/** Append a string of `n` bytes (UTF-8, not checked). */
int sl_ps_put_string(struct sl_buf *b, const char *s, size_t n);
/** Append a NUL-terminated string. */
int sl_ps_put_cstr(struct sl_buf *b, const char *s);
/** Append a byte array. */
int sl_ps_put_bytes(struct sl_buf *b, const void *p, size_t n);
/** Append the header of a list of `n` items (the items follow). */
int sl_ps_put_list(struct sl_buf *b, size_t n);
/** Append the header of a map of `n` entries (key, value pairs follow). */
int sl_ps_put_map(struct sl_buf *b, size_t n);
/**
 * Append the header of a structure with `nfields` <= 15 fields and
 * `tag`; the fields follow. -1 with SL_EINVAL for more fields.
 */
int sl_ps_put_struct(struct sl_buf *b, unsigned nfields, uint8_t tag);

/** Append a decoded value as it was (lossless round trip). */
int sl_ps_put(struct sl_buf *b, const struct sl_ps *v);

/**
 * Append a record value: null, booleans, integers, doubles and strings
 * as themselves, arrays as lists, objects as maps; a number kept as text
 * as an integer when it is one that fits in 64 bits, else a float. -1
 * with SL_EINVAL for number text that is not a number, or deeper nesting
 * than SL_PS_DEPTH_MAX.
 */
int sl_ps_put_value(struct sl_buf *b, const struct sl_value *v);

/**
 * Append a DateTime structure (Bolt 5, and 4.4 with the "utc" patch):
 * `epoch_s` seconds and `nanos` since the epoch in UTC, shown at UTC
 * offset `offset_s`.
 */
int sl_ps_put_datetime(struct sl_buf *b, int64_t epoch_s, int64_t nanos,
                       int32_t offset_s);

/*
 * Decoding.
 */

/**
 * Decode one value from p[0..n) into *out; *used gets the bytes it took.
 * Lists, maps and structures are allocated in `a`; strings and bytes
 * point into `p`. 0, or -1 with SL_EPARSE (the message names the byte
 * offset and what was expected: truncated input, an unknown marker, a
 * non-string map key, nesting deeper than SL_PS_DEPTH_MAX), SL_EOOM or
 * SL_ELIMIT (the arena's cap). Sizes are checked against the bytes left
 * before anything is allocated, so no input makes it allocate more than
 * a small multiple of `n`.
 */
int sl_ps_get(const void *p, size_t n, size_t *used, struct sl_arena *a,
              struct sl_ps *out);

/**
 * sl_ps_get() that also refuses a size or integer not in its smallest
 * form (SL_EPARSE), so that what it decodes re-encodes to the same bytes
 * (tests and the fuzz target check that). sl_ps_get() takes every form,
 * as a server may write them.
 */
int sl_ps_get_canonical(const void *p, size_t n, size_t *used,
                        struct sl_arena *a, struct sl_ps *out);

/** The value of map `m` under `key`, or NULL (also when not a map). */
const struct sl_ps *sl_ps_map_get(const struct sl_ps *m, const char *key);

/**
 * Map a decoded value to a record value built in `a` (strings copied):
 *   - null, booleans, integers, floats, strings as themselves; lists as
 *     arrays, maps as objects;
 *   - bytes as an array of integers 0..255;
 *   - Node as {"element_id", "id", "labels", "properties"};
 *   - Relationship as {"element_id", "id", "type", "start", "end",
 *     "start_element_id", "end_element_id", "properties"} (Bolt 4.4's
 *     lack element ids: they become the ids as text);
 *   - UnboundRelationship (alone) as {"element_id", "id", "type",
 *     "properties"};
 *   - Path as {"nodes": [...], "relationships": [...]}, relationships
 *     bound to their nodes in path order;
 *   - Date, Time, LocalTime, LocalDateTime and DateTime as ISO 8601
 *     strings ("2024-01-31", "10:15:30.5+01:00", "2024-01-31T10:15:30Z");
 *     a DateTime with a zone id as its UTC instant followed by the zone
 *     in brackets ("2024-01-31T09:15:30Z[Europe/Paris]"). Dates are
 *     proleptic Gregorian with years past 9999 as "+10000" and before 0
 *     as "-0001"; seconds are always shown, a fraction without trailing
 *     zeros; offsets as "Z", "+05:30", "-00:30" (seconds too if any). A
 *     DateTime shows its wall clock at its offset; the legacy forms of
 *     Bolt 4.4 (0x46, 0x66) count wall-clock seconds already, and 0x66,
 *     whose UTC offset is unknown without a time zone database, shows
 *     the wall clock followed by the zone ("2024-01-31T10:15:30[Europe/
 *     Paris]");
 *   - Duration as ISO 8601 ("P1Y2M3DT4H5M6.5S"; "PT0S" when zero):
 *     months as years and months, each part with its field's sign
 *     ("P-1Y-2M"), hours, minutes and seconds with the sign of seconds
 *     and nanoseconds together ("PT-1M-0.5S");
 *   - Point as {"srid", "x", "y"[, "z"]};
 *   - any other structure as {"tag": N, "fields": [...]}.
 * 0, or -1 with SL_EPARSE (a known structure with wrong fields, or a
 * temporal field out of range: nanoseconds, offsets past 18 hours, dates
 * past 2^50 days), SL_EOOM or SL_ELIMIT.
 */
int sl_ps_to_value(const struct sl_ps *v, struct sl_arena *a,
                   struct sl_value *out);

#endif /* SLUICE_DB_BOLT_PACKSTREAM_H */
