/*
 * sluice: checkpoints of `sluice run --storage-backend NAME` (ckpt.h).
 */
#include "ckpt.h"

#include <stdio.h>
#include <string.h>

#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/graph.h"
#include "sluice/log.h"
#include "sluice/objstore.h"
#include "sluice/pipeline.h"
#include "sluice/pipeline_file.h"
#include "sluice/project.h"
#include "sluice/step.h"

/** The extractor's object, as Nodestream names it. */
#define CKPT_OBJECT "extractor_progress_checkpoint"

/** struct sl_checkpoint.save: put the position in the store. */
static int
save(void *arg, const char *text, size_t len)
{
	struct cli_ckpt *k = arg;
	return sl_objstore_put(k->store, CKPT_OBJECT, text, len);
}

/** Read the checkpoint left by an earlier run, if any. 0, or -1. */
static int
read_checkpoint(struct cli_ckpt *k, const char *ns)
{
	struct sl_buf text;
	/* Room for a signed store's digest too. */
	sl_buf_create(&text, SL_CKPT_TEXT_MAX + 64);
	int rc = sl_objstore_get(k->store, CKPT_OBJECT, &text);
	if (rc == 1) {
		char what[1200];
		snprintf(what, sizeof(what), "the checkpoint %s/%s in %s", ns,
		         CKPT_OBJECT, k->what);
		if (sl_ckpt_parse(text.data, text.len, what, &k->c.from) != 0) {
			sl_diag_wrap(sl_diag_code(),
			             "run with --from-start to start over "
			             "without it");
			rc = -1;
		} else {
			k->c.resume = true;
			memcpy(k->c.run, k->c.from.run, sizeof(k->c.run));
		}
	}
	sl_buf_destroy(&text);
	return rc < 0 ? -1 : 0;
}

int
cli_ckpt_setup(struct cli_ckpt *k, const struct cli_ckpt_opts *o,
               struct sl_pipeline *p)
{
	memset(k, 0, sizeof(*k));
	if (o->project == NULL) {
		sl_diag_set(
		        SL_EINVAL,
		        "--storage-backend %s: there is no project file "
		        "(nodestream.yaml, or -p FILE) whose storage.stores "
		        "could name it",
		        o->backend);
		return -1;
	}
	struct sl_step *x = sl_pipeline_step(p, 0);
	if (x == NULL || x->ops->checkpoint == NULL) {
		sl_log_warn("--storage-backend %s: step %s cannot checkpoint "
		            "its progress, so this run of %s cannot be resumed",
		            o->backend, x != NULL ? x->name : "(none)",
		            o->pipeline_path);
		return 0;
	}
	char ns[400];
	if (sl_pipeline_file_namespace(o->pipeline_path, ns, sizeof(ns)) != 0)
		return -1;
	if (o->shard_n > 0) {
		size_t n = strlen(ns);
		snprintf(ns + n, sizeof(ns) - n, "-shard-%u-of-%u", o->shard_k,
		         o->shard_n);
	}
	snprintf(k->c.key, sizeof(k->c.key), "%s/%u", ns, x->index);
	struct sl_objstore *root = sl_project_objstore(o->project, o->backend);
	if (root == NULL)
		return -1;
	snprintf(k->what, sizeof(k->what), "%s", sl_objstore_describe(root));
	k->store = sl_objstore_namespaced_new(root, k->c.key);
	if (k->store == NULL)
		return -1;
	k->c.interval = o->interval > 0 ? o->interval : 1.0;
	k->c.save = save;
	k->c.save_arg = k;
	k->c.fresh = o->from_start;
	if (x->ops->checkpoint(x, &k->c) != 0)
		goto fail;
	for (uint32_t i = 0; i < sl_pipeline_step_count(p); i++)
		(void)sl_graph_writer_checkpoint(sl_pipeline_step(p, i), &k->c);
	sl_log_info("checkpoints of %s go to %s under %s/%s", x->name, k->what,
	            k->c.key, CKPT_OBJECT);
	return 0;
fail:
	sl_objstore_free(k->store);
	k->store = NULL;
	return -1;
}

int
cli_ckpt_load(struct cli_ckpt *k)
{
	if (k->store == NULL)
		return 0;
	if (k->c.fresh) {
		sl_log_info("--from-start: a checkpoint in %s is ignored",
		            k->what);
		return 0;
	}
	return read_checkpoint(k, k->c.key);
}

void
cli_ckpt_end(struct cli_ckpt *k, bool ok)
{
	if (k->store == NULL)
		return;
	if (ok) {
		if (sl_objstore_del(k->store, CKPT_OBJECT) != 0) {
			char msg[600];
			sl_error_format(sl_diag_last(), msg, sizeof(msg));
			sl_log_warn("deleting the checkpoint: %s", msg);
			sl_diag_clear(sl_diag_get());
		}
	} else if (k->c.unsaved[0] != '\0' &&
	           save(k, k->c.unsaved, strlen(k->c.unsaved)) != 0) {
		char msg[600];
		sl_error_format(sl_diag_last(), msg, sizeof(msg));
		sl_log_warn("saving the last checkpoint: %s", msg);
		sl_diag_clear(sl_diag_get());
	} else if (k->c.saved > 0 || k->c.resume || k->c.unsaved[0] != '\0') {
		sl_log_info("the checkpoint in %s is kept: run again to resume "
		            "(--from-start starts over)",
		            k->what);
	}
	sl_objstore_free(k->store);
	k->store = NULL;
}
