/*
 * sluice: configuration trees: a YAML document that keeps its tags, its
 * quoting and every node's position, for pipeline and project files.
 *
 * Nodes are immutable once loaded and live as long as their document.
 * Scalars are kept as text; sl_conf_to_value() and the typed getters
 * resolve them with the rules of sluice/yamlread.h. Getters that fail put
 * an SL_EINVAL error in the diag that names "file:line:column", the key
 * path if known, and what was expected, e.g.
 * "p.yaml:7:9: arguments.globs: expected a list of strings, got a mapping".
 *
 * How a document is read: libfyaml's event parser (not its document API),
 * so that sluice controls alias expansion, merge keys, limits and
 * messages. The input is first checked for UTF-8 and YAML's printable set
 * (libfyaml accepts invalid UTF-8 silently). Events build the tree in the
 * document's arena with an explicit stack of open containers (no
 * recursion). Every node keeps its file, 1-based line and column (of its
 * anchor or tag if it has one; an empty scalar sits where the previous
 * token ended), its tag as libfyaml spells it ("!jmespath",
 * "tag:yaml.org,2002:str") and whether it was plain. Single-quoted
 * scalars are decoded by sluice from the input (libfyaml 0.7.12 garbles
 * runs of '' and folds a CRLF before the closing quote). libfyaml's
 * diagnostics are collected and the first error becomes one SL_EPARSE
 * "file:line:column: message".
 *
 * An alias points at its anchor's node instead of copying it, so the tree
 * is a DAG. Each node's expanded size and height are tracked: a document
 * whose aliases would expand past 16 nodes per input byte (at least 1024)
 * or nest deeper than 512 fails with SL_ELIMIT at once, so the billion
 * laughs costs nothing and every later recursive walk is bounded. An alias
 * to a node still open (a cycle) or to an undefined anchor is an error.
 * `<<` merge keys are applied when their mapping closes, PyYAML's way:
 * merged pairs first (of a list of mappings, the first wins), explicit
 * keys last; all pairs stay in the tree and sl_conf_get() takes the last.
 *
 * Limits: a file of at most SL_CONF_FILE_MAX (64 MiB); a document's nodes
 * in at most 1 GiB of arena.
 */
#ifndef SLUICE_CONF_H
#define SLUICE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a node is. */
enum sl_conf_kind {
	SL_CONF_SCALAR = 0, /**< a scalar (text) */
	SL_CONF_SEQ,        /**< a sequence */
	SL_CONF_MAP,        /**< a mapping */
};

/** A node of a configuration tree. */
struct sl_conf {
	/** Scalar, sequence or mapping. */
	enum sl_conf_kind kind;
	/** Whether a scalar was written plain (unquoted, not a block). */
	bool plain;
	/**
	 * The node's tag as written for local tags ("!jmespath"), the full
	 * form for standard ones ("tag:yaml.org,2002:str"), or NULL.
	 */
	const char *tag;
	/** Text of a scalar, NUL-terminated (may also hold NULs). */
	const char *text;
	/** Bytes of `text`. */
	size_t len;
	/** Items of a sequence; keys and values of a mapping alternate. */
	struct sl_conf **items;
	/** Items of a sequence, or key/value pairs of a mapping. */
	uint32_t n;
	/** File the node was read from (for messages). */
	const char *file;
	/** 1-based line of the node's start. */
	uint32_t line;
	/** 1-based column (bytes) of the node's start. */
	uint32_t col;
	/** The document that owns the node (and the load's memory budget). */
	struct sl_conf_doc *doc;
};

/** A loaded document: owns its nodes (opaque). */
struct sl_conf_doc;

/** Largest YAML file sl_conf_load_file() reads (SL_ELIMIT beyond). */
#define SL_CONF_FILE_MAX ((size_t)64 << 20)

/**
 * Memory budget of one load: a document's nodes (included files too) plus
 * what is compiled from them and charged with sl_conf_charge().
 */
#define SL_CONF_LOAD_BUDGET ((size_t)512 << 20)

/**
 * Read the whole file at `path` (at most `max` bytes) into a new buffer
 * that the caller frees with sl_free(); `*len` gets its size. NULL with
 * SL_ESYSTEM or SL_ELIMIT, the message naming the path.
 */
char *sl_conf_read_file(const char *path, size_t max, size_t *len);

/**
 * Load the one YAML document in buf[0..len) (an empty input gives a null
 * scalar root); `name` names it in nodes and errors. Anchors and aliases
 * are expanded (within a cap of 16 times the input size); merge keys are
 * applied. NULL with SL_EPARSE ("name:line:column: ..."), SL_ELIMIT or
 * SL_EOOM.
 */
struct sl_conf_doc *sl_conf_load(const char *buf, size_t len, const char *name);

/** sl_conf_load() of a file's contents; SL_ESYSTEM names the path. */
struct sl_conf_doc *sl_conf_load_file(const char *path);

/**
 * An empty document (no root yet) that sl_conf_doc_parse() and
 * sl_conf_from_value() build into. NULL with SL_EOOM.
 */
struct sl_conf_doc *sl_conf_doc_new(void);

/**
 * Parse one more YAML document into `d` (as sl_conf_load() does) and
 * return its root, which lives as long as `d`; the document's root is not
 * changed. Used for included files. NULL with an error.
 */
struct sl_conf *sl_conf_doc_parse(struct sl_conf_doc *d, const char *buf,
                                  size_t len, const char *name);

/** sl_conf_doc_parse() of a file's contents; SL_ESYSTEM names the path. */
struct sl_conf *sl_conf_doc_parse_file(struct sl_conf_doc *d, const char *path);

/**
 * A node tree in `d` equal to value `v` (strings become quoted scalars,
 * so they stay strings; numbers, booleans and null plain scalars, or
 * !!float when plain text would read back differently), every node at
 * `at`'s position. NULL with SL_EOOM or SL_ELIMIT (deeper than 512).
 */
struct sl_conf *sl_conf_from_value(struct sl_conf_doc *d,
                                   const struct sl_value *v,
                                   const struct sl_conf *at);

/** Free a document and its nodes. NULL is a no-op. */
void sl_conf_doc_delete(struct sl_conf_doc *d);

/** The root node. */
struct sl_conf *sl_conf_root(struct sl_conf_doc *d);

/**
 * Charge `bytes` of memory made from node `n` (a compiled value, say) to
 * its document's load budget (SL_CONF_LOAD_BUDGET with the document's own
 * memory). 0, or -1 with SL_ELIMIT naming n's place and `what`.
 */
int sl_conf_charge(const struct sl_conf *n, const char *what, size_t bytes);

/**
 * Give the current error the place of node `n` ("file:line:col: what")
 * unless its message starts with a place already. Returns -1.
 */
int sl_conf_place_error(const struct sl_conf *n, const char *what);

/**
 * Allocate in the document's memory (for nodes that replace others while
 * resolving tags). NULL with SL_EOOM.
 */
void *sl_conf_alloc(struct sl_conf_doc *d, size_t size);

/** The value under `key` of a mapping (last one wins), or NULL. */
struct sl_conf *sl_conf_get(const struct sl_conf *map, const char *key);

/** Whether `n` is a null scalar (plain null, ~ or empty, or !!null). */
bool sl_conf_is_null(const struct sl_conf *n);

/**
 * Convert a node to a value built in `arena`, resolving scalars as
 * sl_yaml_parse() does (duplicate keys: first position, last value). A node
 * with a non-standard tag is an SL_EINVAL error naming its position and tag.
 * `what` names the node in messages (e.g. "arguments.globs"); it may be NULL.
 */
int sl_conf_to_value(const struct sl_conf *n, struct sl_arena *arena,
                     const char *what, struct sl_value *out);

/**
 * Whether `n` is a scalar that resolves to a string: quoted or block,
 * tagged !!str, or plain text that is not null, a boolean or a number.
 */
bool sl_conf_is_str(const struct sl_conf *n);

/**
 * The node as a string: a scalar that resolves to a string (a plain
 * number or boolean is taken as its text). Returns 0 with `*out` pointing
 * at the node's NUL-terminated text, or -1 with SL_EINVAL.
 */
int sl_conf_str(const struct sl_conf *n, const char *what, const char **out);

/** The node as an integer; -1 with SL_EINVAL if it is not one. */
int sl_conf_int(const struct sl_conf *n, const char *what, int64_t *out);

/** The node as a boolean; -1 with SL_EINVAL if it is not one. */
int sl_conf_bool(const struct sl_conf *n, const char *what, bool *out);

/**
 * Fail with SL_EINVAL at `n` (or without a position if n is NULL):
 * "file:line:column: what: <printf message>". Always returns -1.
 */
int sl_conf_error(const struct sl_conf *n, const char *what, const char *fmt,
                  ...) __attribute__((format(printf, 3, 4)));

/**
 * Fail with SL_EINVAL at the first key of mapping `map` that is not among
 * `known` (NULL-terminated): "file:line:column: what: unknown option 'x'
 * for <owner>; it takes: a, b, c". Returns 0 when every key is known.
 */
int sl_conf_check_keys(const struct sl_conf *map, const char *const *known,
                       const char *what, const char *owner);

/** "scalar", "sequence" or "mapping" (for messages). */
const char *sl_conf_kind_name(enum sl_conf_kind k);

/** The value provider tags (src/interp/provider.c), for messages. */
#define SL_CONF_PROV_TAGS                                                   \
	"!jmespath, !variable, !format, !regex, !split, !normalize, !cast " \
	"or !mapping"

/**
 * Whether `tag` is a value provider's (SL_CONF_PROV_TAGS): the tags a
 * step's arguments may still hold once !env, !config and !include are
 * resolved (the pipeline file's loader refuses others).
 */
bool sl_conf_is_prov_tag(const char *tag);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_CONF_H */
