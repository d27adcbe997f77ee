/*
 * sluice: the StreamExtractor's connectors (internal to steps).
 *
 * The StreamExtractor (stream.c) polls a connector for messages, turns
 * them into records (its `record_format`), and after the records of each
 * poll emits a progress mark; when the mark is acknowledged (everything
 * before it committed) it asks the connector to acknowledge that poll's
 * messages. A connector knows one broker: Redis Streams
 * (stream_redis.c). Kafka would be one more (docs/streams.md).
 *
 * Every connector callback runs in the extractor's task and may suspend.
 */
#ifndef SLUICE_STEPS_STREAM_H
#define SLUICE_STEPS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/batch.h"
#include "sluice/pipeline_file.h"

/**
 * What one message acknowledges: an entry ID of a stream (Redis), or a
 * partition's offset (Kafka). Lives in its poll's arena.
 */
struct stream_token {
	/** Index of the stream (or partition) in the connector's list. */
	uint32_t stream;
	/** Length of `id`. */
	uint32_t id_len;
	/** The entry ID or offset, as text. */
	const char *id;
};

/** Most messages one poll takes (a hard cap on max_records). */
#define STREAM_POLL_MAX 10000

/**
 * One poll's messages, from the read to their acknowledgement: a slot of
 * the extractor's window of unacknowledged polls.
 */
struct stream_poll {
	/** The progress mark emitted after the poll's records. */
	struct sl_mark mark;
	/** The extractor (stream.c's struct). */
	void *owner;
	/** Where it is (stream.c's enum). */
	int state;
	/** What the poll's messages acknowledge. */
	struct stream_token *tokens;
	/** Tokens in use. */
	uint32_t n_tokens;
	/** Tokens allocated (at most STREAM_POLL_MAX). */
	uint32_t cap_tokens;
	/** Memory of the tokens and the records' origin names; reset when
	 * the slot is reused, after its acknowledgement. */
	struct sl_arena arena;
};

/** One message of a poll, handed to the extractor. */
struct stream_msg {
	/** Its origin, "redis:<stream>:<entry id>" (in the poll's arena). */
	const char *origin;
	/** Number of fields. */
	uint32_t n;
	/** Field names. */
	const char *const *names;
	/** Their lengths. */
	const size_t *name_lens;
	/** Field values. */
	const char *const *vals;
	/** Their lengths. */
	const size_t *val_lens;
	/** Whether the message is gone (deleted from the stream while
	 * pending): it has no fields and is only acknowledged. */
	bool deleted;
};

/** Called by a connector's poll for each message, in order. 0 or -1. */
typedef int (*stream_msg_fn)(void *arg, const struct stream_msg *m);

struct stream_conn;

/** A connector (a constant table per broker). */
struct stream_connector {
	/** Its name in `connector:`, e.g. "redis". */
	const char *name;
	/** Its own argument names, NULL-terminated. */
	const char *const *keys;
	/** Read its arguments from `def`. NULL with an error. */
	struct stream_conn *(*create)(const struct sl_stepdef *def);
	/** Connect and join the consumer group. 0, or -1 with an error. */
	int (*start)(struct stream_conn *c);
	/**
	 * Read the next messages into `p` (a token per message, even a
	 * skipped one), calling `fn` for each. May wait up to `block`
	 * seconds for new messages (0: not at all). Returns the number of
	 * messages, or -1 with an error.
	 */
	int (*poll)(struct stream_conn *c, struct stream_poll *p, double block,
	            stream_msg_fn fn, void *arg);
	/**
	 * Acknowledge the messages of polls `ps[0..n)`, also after a failed
	 * poll left the connection in the middle of a reply. The connector
	 * may send the acknowledgement with its next command (pipelined)
	 * and report its failure there; `sync` waits for it. 0, or -1 with
	 * an error.
	 */
	int (*ack)(struct stream_conn *c, struct stream_poll *const *ps,
	           size_t n);
	/** Wait until every acknowledgement was made. 0, or -1. */
	int (*sync)(struct stream_conn *c);
	/** Disconnect (may be called without start). */
	void (*stop)(struct stream_conn *c);
	/** Free the connector. */
	void (*destroy)(struct stream_conn *c);
};

/** The Redis Streams connector (stream_redis.c). */
extern const struct stream_connector sl_stream_redis;

/**
 * Append a token for message `id` of stream `stream` to `p`, the ID
 * copied into its arena. Returns the copy, or NULL with an error.
 */
const char *stream_poll_token(struct stream_poll *p, uint32_t stream,
                              const char *id, size_t id_len);

/** A number of seconds (>= 0) from argument `key`, `dflt` if absent. */
int stream_args_seconds(const struct sl_stepdef *def, const char *key,
                        double dflt, double *out);

#endif /* SLUICE_STEPS_STREAM_H */
