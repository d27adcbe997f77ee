/*
 * sluice: checkpoints of `sluice run --storage-backend NAME` (internal to
 * the cli; see sluice/checkpoint.h for how they work).
 *
 * The store is the project file's storage.stores entry NAME
 * (sl_project_objstore()). As in Nodestream, the extractor's checkpoint
 * is the object "extractor_progress_checkpoint" under the namespace
 * "<pipeline file stem>-<sha256 of the file>/<step index>" (so editing
 * the pipeline file starts over), with "-shard-K-of-N" after the file's
 * part for a --shard run (every worker has its own). It is read when the
 * run starts (unless --from-start), saved each time a progress mark has
 * passed every step, and deleted when the run ends well; a failed or
 * killed run leaves it for the next run to resume from.
 */
#ifndef SLUICE_CLI_CKPT_H
#define SLUICE_CLI_CKPT_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/checkpoint.h"

struct sl_pipeline;
struct sl_project;
struct sl_objstore;

/** A run's checkpointing, as the cli sets it up (caller-owned). */
struct cli_ckpt {
	/** What the extractor and writers share. */
	struct sl_checkpoint c;
	/** The store, namespaced for the extractor; NULL: not checkpointing. */
	struct sl_objstore *store;
	/** The store as messages name it (no secret). */
	char what[600];
};

/** What a run asked for. */
struct cli_ckpt_opts {
	/** The project file, or NULL if there is none. */
	const struct sl_project *project;
	/** --storage-backend NAME. */
	const char *backend;
	/** The pipeline file. */
	const char *pipeline_path;
	/** --from-start: ignore a checkpoint found. */
	bool from_start;
	/** Seconds between progress marks (--checkpoint-interval). */
	double interval;
	/** --shard K/N (0/0: none). */
	uint32_t shard_k, shard_n;
};

/**
 * Set up checkpointing of pipeline `p` (built, not run) as `o` asks: the
 * store, the extractor and the writers. A pipeline whose first step
 * cannot checkpoint runs without (a warning says so). Does no I/O. 0, or
 * -1 with an error.
 */
int cli_ckpt_setup(struct cli_ckpt *k, const struct cli_ckpt_opts *o,
                   struct sl_pipeline *p);

/**
 * Read the checkpoint an earlier run left, if any (unless --from-start),
 * before the pipeline runs. From a task (an S3 store's requests run on
 * the loop). 0, or -1 with an error.
 */
int cli_ckpt_load(struct cli_ckpt *k);

/**
 * The run ended (`ok`: well, and not stopped): delete the checkpoint, or
 * keep it and say so; from a task. Frees what setup made (also when
 * nothing was loaded).
 */
void cli_ckpt_end(struct cli_ckpt *k, bool ok);

#endif
