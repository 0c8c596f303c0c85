/* rnnstream train: trains a recurrent model on a CSV series (forecast) or
 * on sound files (classify, ctc) with backpropagation through time, and
 * saves it as a safetensors model that `apply`, the pipelines and PyTorch
 * load.
 *
 * This file is the loop every task shares; the tasks (train-task.h) own
 * the data. Each epoch the items (windows, utterances) are shuffled by a
 * seeded xoshiro256** of our own and taken `batch` at a time. A batch is
 * computed in SHARDS of at most SHARD items, each on a replica of the model
 * that holds the current weights, and the shards' gradients are summed in
 * shard order, each weighted by its share of the batch's reduction. The
 * shards are fixed by the batch alone, and threads only decide which
 * replica computes which shard, so the model file is bit for bit the same
 * with any number of threads. (A batch of one shard is the plain
 * computation: its weight is exactly 1.)
 *
 * Resuming: a checkpoint holds the weights, the best weights so far, the
 * optimiser's state and step count, the PRNG, the epoch's losses so far
 * (the schedule is rebuilt by replaying them; its state depends on nothing
 * else) and the settings. So E epochs, then E more from the checkpoint,
 * give the same model file as 2E at once. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rnnstream/rnnstream.h>

#include "cli.h"
#include "plot.h"
#include "progress.h"
#include "train-settings.h"
#include "train-task.h"
#include "train.h"

#define CMD "train"
#define CHECKPOINT_FORMAT "2"
/* Items per shard: enough for the batched GEMMs to be efficient, few
 * enough that a batch of 32 utterances feeds several cores. */
#define SHARD 8

/* ---- the item order ---- */

static guint64
splitmix64 (guint64 *x)
{
  guint64 z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

guint64
train_rng_next (TrainRng *r)
{
  const guint64 result = rotl (r->s[1] * 5, 7) * 9, t = r->s[1] << 17;

  r->s[2] ^= r->s[0];
  r->s[3] ^= r->s[1];
  r->s[1] ^= r->s[2];
  r->s[0] ^= r->s[3];
  r->s[2] ^= t;
  r->s[3] = rotl (r->s[3], 45);
  return result;
}

void
train_rng_init (TrainRng *r, guint64 seed)
{
  /* A different stream from the weights' initialisation, which seeds the
   * same generator with the seed itself. */
  guint64 x = seed ^ 0x5368756666656c65ULL;   /* "Shuffle" */
  for (guint i = 0; i < 4; i++)
    r->s[i] = splitmix64 (&x);
}

void
train_rng_shuffle (TrainRng *r, guint *order, guint n)
{
  /* The modulo's bias is below 2^-32 for any count a guint holds. */
  for (guint i = 0; i < n; i++)
    order[i] = i;
  for (guint i = n > 0 ? n - 1 : 0; i > 0; i--) {
    const guint j = (guint) (train_rng_next (r) % (i + 1));
    const guint tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
}

char *
train_keep (GPtrArray *keep, char *text)
{
  g_ptr_array_add (keep, text);
  return text;
}

void
train_json_doubles (GString *out, const double *values, guint n)
{
  g_string_append_c (out, '[');
  for (guint i = 0; i < n; i++) {
    g_string_append (out, i ? ", " : "");
    rs_json_append_double (out, values[i]);
  }
  g_string_append_c (out, ']');
}

char *
train_file_digest (const char *path)
{
  g_autofree char *bytes = NULL;
  gsize len;

  if (!g_file_get_contents (path, &bytes, &len, NULL))
    return NULL;
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guint8 *) bytes, len);
}

/* ---- the run ---- */

typedef struct Run Run;

/* One replica of the model and the shards it computes in a step. */
typedef struct {
  Run *run;
  RsTrainable *t;
  gpointer shard;
  guint index;
  GError *error;
} Worker;

struct Run {
  RsTrainConfig cfg;
  RsTrainSettings *settings;
  TrainTask *task;
  RsTrainable *t;            /* the model; the optimiser steps its gradients */
  RsOptimizer *opt;
  RsSchedule *schedule;
  gsize n_params;
  float *params, *best;
  guint *order;
  TrainRng rng;
  guint epoch;               /* epochs done */
  guint64 step;
  GArray *train_hist, *valid_hist, *metric_hist;  /* double, one per epoch */
  /* zero_head: the validation loss and metric before the first epoch */
  double baseline, baseline_metric;
  gboolean stopped;
  /* the step being computed */
  Worker *workers;           /* n_workers; worker 0's replica is t */
  guint n_workers;
  GThreadPool *pool;
  GMutex lock;
  GCond done;
  guint pending;
  const guint *batch_items;
  guint batch_n, n_shards;
  float *shard_grads;        /* n_shards (max) * n_params, when a batch has several shards */
  double *shard_loss, *shard_weight;
};

static void
run_clear (Run *r)
{
  if (r->pool != NULL)
    g_thread_pool_free (r->pool, FALSE, TRUE);
  for (guint w = 0; r->workers != NULL && w < r->n_workers; w++) {
    if (r->workers[w].shard != NULL)
      r->task->shard_free (r->workers[w].shard);
    if (w > 0)
      rs_trainable_free (r->workers[w].t);
    g_clear_error (&r->workers[w].error);
  }
  g_free (r->workers);
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->done);
  if (r->task != NULL)
    r->task->free (r->task);
  rs_trainable_free (r->t);
  rs_optimizer_free (r->opt);
  rs_schedule_free (r->schedule);
  g_free (r->params);
  g_free (r->best);
  g_free (r->order);
  if (r->train_hist != NULL) {
    g_array_unref (r->train_hist);
    g_array_unref (r->valid_hist);
    g_array_unref (r->metric_hist);
  }
  g_free (r->shard_grads);
  g_free (r->shard_loss);
  g_free (r->shard_weight);
  rs_train_config_clear (&r->cfg);
}

/* Computes the shards of the current batch that are this worker's:
 * shards w, w + n_workers, ... */
static void
work (Worker *w)
{
  Run *r = w->run;

  for (guint s = w->index; s < r->n_shards && w->error == NULL; s += r->n_workers) {
    const guint first = s * SHARD, n = MIN (SHARD, r->batch_n - first);
    if (!r->task->shard_run (r->task, w->shard, w->t, r->batch_items + first, n,
                             &r->shard_loss[s], &r->shard_weight[s], &w->error))
      break;
    if (r->n_shards > 1)
      memcpy (r->shard_grads + (gsize) s * r->n_params, rs_trainable_grads (w->t),
              r->n_params * sizeof (float));
  }
}

static void
pool_work (gpointer data, gpointer user_data)
{
  Worker *w = data;
  Run *r = user_data;

  work (w);
  g_mutex_lock (&r->lock);
  if (--r->pending == 0)
    g_cond_signal (&r->done);
  g_mutex_unlock (&r->lock);
}

static gboolean
build (Run *r, GError **error)
{
  const RsTrainConfig *c = &r->cfg;
  RsTrainableConfig tc = { c->cell, r->task->n_inputs, c->hidden, c->layers, TRUE,
                           r->task->n_outputs, TRUE, c->seed };
  RsOptimizerOptions oo = RS_OPTIMIZER_OPTIONS_INIT;
  RsScheduleOptions so = RS_SCHEDULE_OPTIONS_INIT;
  const guint batch = MIN (c->batch, r->task->n_items);
  const guint max_shards = (batch + SHARD - 1) / SHARD;

  r->t = rs_trainable_new (&tc, NULL, error);
  if (r->t == NULL)
    return FALSE;
  rs_optimizer_kind_from_name (c->optimizer, &oo.kind);
  oo.lr = c->lr;
  oo.momentum = oo.kind == RS_OPTIMIZER_SGD ? c->momentum : 0.0;
  oo.weight_decay = c->weight_decay;
  r->opt = rs_optimizer_new (&oo, error);
  if (r->opt == NULL)
    return FALSE;
  so.warmup_steps = c->warmup;
  so.plateau_factor = c->plateau_factor;
  so.plateau_patience = c->plateau_patience;
  so.early_stop_patience = c->patience;
  r->schedule = rs_schedule_new (c->lr, &so, error);
  if (r->schedule == NULL)
    return FALSE;

  r->n_params = rs_trainable_n_params (r->t);
  r->params = g_new (float, r->n_params);
  r->best = g_new (float, r->n_params);
  rs_trainable_get_params (r->t, r->params);
  /* A trainable made from scratch names its head fc. (PyTorch's usual). */
  for (guint i = 0; r->task->zero_head && i < rs_trainable_n_tensors (r->t); i++) {
    const RsTrainTensor *tt = rs_trainable_tensor (r->t, i);
    if (g_str_has_prefix (tt->name, "fc."))
      memset (r->params + tt->offset, 0, tt->n_elements * sizeof (float));
  }
  rs_trainable_set_params (r->t, r->params);
  memcpy (r->best, r->params, r->n_params * sizeof (float));
  /* Weight decay on the matrices only: decaying biases pulls them to zero
   * for no gain in generalisation. */
  for (guint i = 0; i < rs_trainable_n_tensors (r->t); i++) {
    const RsTrainTensor *tt = rs_trainable_tensor (r->t, i);
    rs_optimizer_add (r->opt, tt->name, r->params + tt->offset,
                      rs_trainable_grads (r->t) + tt->offset, tt->n_elements, tt->ndim == 2);
  }

  r->order = g_new (guint, r->task->n_items);
  train_rng_init (&r->rng, c->seed);
  r->train_hist = g_array_new (FALSE, FALSE, sizeof (double));
  r->valid_hist = g_array_new (FALSE, FALSE, sizeof (double));
  r->metric_hist = g_array_new (FALSE, FALSE, sizeof (double));

  /* More workers than shards would idle. */
  r->n_workers = MAX (1, MIN (c->threads, max_shards));
  r->workers = g_new0 (Worker, r->n_workers);
  for (guint w = 0; w < r->n_workers; w++) {
    r->workers[w].run = r;
    r->workers[w].index = w;
    r->workers[w].t = w == 0 ? r->t : rs_trainable_new (&tc, NULL, error);
    if (r->workers[w].t == NULL)
      return FALSE;
    r->workers[w].shard = r->task->shard_new (r->task, MIN (SHARD, batch));
  }
  if (r->n_workers > 1) {
    r->pool = g_thread_pool_new (pool_work, r, (int) r->n_workers - 1, TRUE, error);
    if (r->pool == NULL)
      return FALSE;
  }
  if (max_shards > 1)
    r->shard_grads = g_new (float, (gsize) max_shards * r->n_params);
  r->shard_loss = g_new0 (double, max_shards);
  r->shard_weight = g_new0 (double, max_shards);
  return TRUE;
}

/* Gives every replica the current weights. */
static void
set_params (Run *r)
{
  for (guint w = 0; w < r->n_workers; w++)
    rs_trainable_set_params (r->workers[w].t, r->params);
}

/* One mini-batch of items[0..n): the shards on the workers, their
 * gradients combined, one optimiser step. Adds the batch's loss times its
 * weight to *loss_sum and the weight to *weight_sum. */
static gboolean
train_batch (Run *r, const guint *items, guint n, double *loss_sum, double *weight_sum,
             GError **error)
{
  double total = 0, loss = 0;

  r->batch_items = items;
  r->batch_n = n;
  r->n_shards = (n + SHARD - 1) / SHARD;
  if (r->pool != NULL) {
    r->pending = r->n_workers - 1;
    for (guint w = 1; w < r->n_workers; w++)
      g_thread_pool_push (r->pool, &r->workers[w], NULL);
  }
  work (&r->workers[0]);
  if (r->pool != NULL) {
    g_mutex_lock (&r->lock);
    while (r->pending > 0)
      g_cond_wait (&r->done, &r->lock);
    g_mutex_unlock (&r->lock);
  }
  for (guint w = 0; w < r->n_workers; w++)
    if (r->workers[w].error != NULL) {
      g_propagate_error (error, r->workers[w].error);
      r->workers[w].error = NULL;
      return FALSE;
    }

  for (guint s = 0; s < r->n_shards; s++)
    total += r->shard_weight[s];
  if (r->n_shards > 1) {
    /* In shard order, whatever thread computed what. */
    float *g = rs_trainable_grads (r->t);
    memset (g, 0, r->n_params * sizeof (float));
    for (guint s = 0; s < r->n_shards; s++) {
      const float share = total > 0 ? (float) (r->shard_weight[s] / total) : 0.0f;
      const float *gs = r->shard_grads + (gsize) s * r->n_params;
      for (gsize i = 0; i < r->n_params; i++)
        g[i] += share * gs[i];
    }
  }
  for (guint s = 0; s < r->n_shards; s++)
    loss += total > 0 ? r->shard_loss[s] * (r->shard_weight[s] / total) : 0.0;

  if (r->cfg.clip > 0)
    rs_optimizer_clip_grad_norm (r->opt, r->cfg.clip);
  r->step++;
  rs_optimizer_set_lr (r->opt, rs_schedule_lr (r->schedule, r->step));
  rs_optimizer_step (r->opt);
  set_params (r);
  *loss_sum += loss * total;
  *weight_sum += total;
  return TRUE;
}

/* ---- checkpoints ---- */

static char *
history_text (GArray *a)
{
  GString *s = g_string_new (NULL);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint i = 0; i < a->len; i++)
    g_string_append_printf (s, "%s%s", i ? "," : "",
                            g_ascii_formatd (buf, sizeof buf, "%.17g",
                                             g_array_index (a, double, i)));
  return g_string_free (s, FALSE);
}

static gboolean
history_parse (const char *text, GArray *a, guint n)
{
  g_auto (GStrv) parts = NULL;

  if (text == NULL)
    return FALSE;
  parts = g_strsplit (text, ",", -1);
  if (n == 0)
    return text[0] == '\0';
  if (g_strv_length (parts) != n)
    return FALSE;
  for (guint i = 0; i < n; i++) {
    const double v = g_ascii_strtod (parts[i], NULL);
    g_array_append_val (a, v);
  }
  return TRUE;
}

static void
save_state_tensor (const char *name, float *data, gsize n, gpointer user_data)
{
  g_autofree char *key = g_strconcat ("optim.", name, NULL);
  const guint64 shape[1] = { n };

  rs_safetensors_writer_add (user_data, key, 1, shape, data);
}

static void
add_weights (RsSafetensorsWriter *w, const Run *r, const char *prefix, const float *values)
{
  for (guint i = 0; i < rs_trainable_n_tensors (r->t); i++) {
    const RsTrainTensor *tt = rs_trainable_tensor (r->t, i);
    g_autofree char *name = g_strconcat (prefix, tt->name, NULL);
    rs_safetensors_writer_add (w, name, tt->ndim, tt->shape, values + tt->offset);
  }
}

static gboolean
save_checkpoint (Run *r, GError **error)
{
  g_autoptr (RsSafetensorsWriter) w = rs_safetensors_writer_new ();
  g_autofree char *config = rs_train_settings_to_data (r->settings);
  g_autofree char *train = history_text (r->train_hist), *valid = history_text (r->valid_hist);
  g_autofree char *metric = history_text (r->metric_hist);
  g_autofree char *rng = g_strdup_printf ("%016" G_GINT64_MODIFIER "x:%016" G_GINT64_MODIFIER
                                          "x:%016" G_GINT64_MODIFIER "x:%016"
                                          G_GINT64_MODIFIER "x", r->rng.s[0], r->rng.s[1],
                                          r->rng.s[2], r->rng.s[3]);
  g_autofree char *epoch = g_strdup_printf ("%u", r->epoch);
  g_autofree char *step = g_strdup_printf ("%" G_GUINT64_FORMAT, r->step);
  g_autofree char *opt_steps = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                rs_optimizer_get_steps (r->opt));

  add_weights (w, r, "model.", r->params);
  add_weights (w, r, "best.", r->best);
  rs_optimizer_foreach_state (r->opt, save_state_tensor, w);
  rs_safetensors_writer_set_metadata (w, "rnnstream_checkpoint", CHECKPOINT_FORMAT);
  rs_safetensors_writer_set_metadata (w, "config", config);
  rs_safetensors_writer_set_metadata (w, "epoch", epoch);
  rs_safetensors_writer_set_metadata (w, "step", step);
  if (r->task->zero_head && isfinite (r->baseline)) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    rs_safetensors_writer_set_metadata (w, "baseline_valid",
                                        g_ascii_dtostr (buf, sizeof buf, r->baseline));
    rs_safetensors_writer_set_metadata (w, "baseline_metric",
                                        g_ascii_dtostr (buf, sizeof buf, r->baseline_metric));
  }
  rs_safetensors_writer_set_metadata (w, "optimizer_steps", opt_steps);
  rs_safetensors_writer_set_metadata (w, "rng", rng);
  rs_safetensors_writer_set_metadata (w, "train_history", train);
  rs_safetensors_writer_set_metadata (w, "valid_history", valid);
  rs_safetensors_writer_set_metadata (w, "metric_history", metric);
  if (r->task->digest != NULL)
    rs_safetensors_writer_set_metadata (w, "data_sha256", r->task->digest);
  return rs_safetensors_writer_save (w, r->cfg.checkpoint, error);
}

typedef struct {
  const RsSafetensors *st;
  const char *path;
  GError *error;
} Restore;

static gboolean
restore_array (const RsSafetensors *st, const char *path, const char *name, float *out, gsize n,
               GError **error)
{
  const RsTensor *tensor = rs_safetensors_lookup (st, name);
  gsize have = 1;

  if (tensor != NULL)
    for (guint d = 0; d < tensor->ndim; d++)
      have *= tensor->shape[d];
  if (tensor == NULL || have != n) {
    g_set_error (error, RS_ERROR, RS_ERROR_MODEL, "%s: checkpoint tensor %s %s (expected %"
                 G_GSIZE_FORMAT " values: was the checkpoint made with other settings?)", path,
                 name, tensor == NULL ? "missing" : "has the wrong size", n);
    return FALSE;
  }
  memcpy (out, tensor->data, n * sizeof (float));
  return TRUE;
}

static void
restore_state_tensor (const char *name, float *data, gsize n, gpointer user_data)
{
  Restore *rs = user_data;
  g_autofree char *key = g_strconcat ("optim.", name, NULL);

  if (rs->error == NULL)
    restore_array (rs->st, rs->path, key, data, n, &rs->error);
}

static gboolean
meta_u64 (const RsSafetensors *st, const char *key, guint64 *out)
{
  const char *v = rs_safetensors_metadata (st, key);
  char *end;

  if (v == NULL || v[0] == '\0')
    return FALSE;
  *out = g_ascii_strtoull (v, &end, 10);
  return *end == '\0';
}

/* Restores r from the checkpoint (already checked to be one, its settings
 * applied), then replays the schedule and recomputes the carried states. */
static gboolean
restore (Run *r, const RsSafetensors *st, const char *path, GError **error)
{
  Restore rs = { st, path, NULL };
  guint64 epoch, step, opt_steps;
  const char *rng = rs_safetensors_metadata (st, "rng");
  const char *digest = rs_safetensors_metadata (st, "data_sha256");
  g_auto (GStrv) words = NULL;

  if (!meta_u64 (st, "epoch", &epoch) || !meta_u64 (st, "step", &step) ||
      !meta_u64 (st, "optimizer_steps", &opt_steps) || rng == NULL ||
      g_strv_length (words = g_strsplit (rng, ":", -1)) != 4 ||
      !history_parse (rs_safetensors_metadata (st, "train_history"), r->train_hist,
                      (guint) epoch) ||
      !history_parse (rs_safetensors_metadata (st, "valid_history"), r->valid_hist,
                      (guint) epoch) ||
      !history_parse (rs_safetensors_metadata (st, "metric_history"), r->metric_hist,
                      (guint) epoch)) {
    g_set_error (error, RS_ERROR, RS_ERROR_MODEL, "%s: damaged checkpoint: its counters, "
                 "histories or PRNG state are missing or malformed", path);
    return FALSE;
  }
  if (digest != NULL && r->task->digest != NULL && strcmp (digest, r->task->digest) != 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "%s: the checkpoint was trained on other "
                 "data than %s (its SHA-256 differs)", path, r->cfg.input);
    return FALSE;
  }
  for (guint i = 0; i < 4; i++)
    r->rng.s[i] = g_ascii_strtoull (words[i], NULL, 16);
  r->epoch = (guint) epoch;
  r->step = step;
  for (guint i = 0; i < rs_trainable_n_tensors (r->t); i++) {
    const RsTrainTensor *tt = rs_trainable_tensor (r->t, i);
    g_autofree char *m = g_strconcat ("model.", tt->name, NULL);
    g_autofree char *b = g_strconcat ("best.", tt->name, NULL);
    if (!restore_array (st, path, m, r->params + tt->offset, tt->n_elements, error) ||
        !restore_array (st, path, b, r->best + tt->offset, tt->n_elements, error))
      return FALSE;
  }
  rs_optimizer_foreach_state (r->opt, restore_state_tensor, &rs);
  if (rs.error != NULL) {
    g_propagate_error (error, rs.error);
    return FALSE;
  }
  rs_optimizer_set_steps (r->opt, opt_steps);
  rs_trainable_set_params (r->t, r->params);
  /* The schedule's state is a function of the losses it was shown. */
  if (r->task->zero_head && rs_safetensors_metadata (st, "baseline_valid") != NULL) {
    const char *metric = rs_safetensors_metadata (st, "baseline_metric");
    r->baseline = g_ascii_strtod (rs_safetensors_metadata (st, "baseline_valid"), NULL);
    r->baseline_metric = metric != NULL ? g_ascii_strtod (metric, NULL) : NAN;
    rs_schedule_set_baseline (r->schedule, r->baseline);
  }
  for (guint e = 0; e < r->epoch; e++) {
    const double v = g_array_index (r->valid_hist, double, e);
    const guint verdict = rs_schedule_epoch_end (r->schedule, isnan (v) ? g_array_index (
                                                   r->train_hist, double, e) : v);
    r->stopped = (verdict & RS_SCHEDULE_STOP) != 0;
  }
  return TRUE;
}

/* ---- the model file ---- */

static gboolean
save_model (Run *r, GError **error)
{
  const guint best = rs_schedule_best_epoch (r->schedule);
  g_autoptr (GString) training = g_string_new ("{\"task\": ");
  g_autoptr (GPtrArray) meta = g_ptr_array_new ();
  g_autoptr (GPtrArray) kept = g_ptr_array_new_with_free_func (g_free);
  gboolean ok;

  rs_json_append_string (training, r->cfg.task);
  g_string_append (training, ", \"data\": ");
  rs_json_append_string (training, r->cfg.input);
  if (r->task->digest != NULL) {
    g_string_append (training, ", \"data_sha256\": ");
    rs_json_append_string (training, r->task->digest);
  }
  rs_trainable_set_params (r->t, r->best);
  r->task->metadata (r->task, r->t, meta, kept, training);
  g_string_append_printf (training, ", \"epochs\": %u, \"steps\": %" G_GUINT64_FORMAT
                          ", \"stopped_early\": %s, \"best_epoch\": %u", r->epoch, r->step,
                          r->stopped ? "true" : "false", best);
  if (best > 0) {
    g_string_append (training, ", \"train_loss\": ");
    rs_json_append_double (training, g_array_index (r->train_hist, double, best - 1));
    g_string_append (training, ", \"valid_loss\": ");
    rs_json_append_double (training, g_array_index (r->valid_hist, double, best - 1));
    g_string_append (training, ", \"valid_metric\": ");
    rs_json_append_double (training, g_array_index (r->metric_hist, double, best - 1));
    g_string_append (training, ", \"valid_metric_name\": ");
    rs_json_append_string (training, r->task->metric_name);
  } else if (isfinite (r->baseline)) {
    /* No epoch beat the start (the forecaster's reference). */
    g_string_append (training, ", \"valid_loss\": ");
    rs_json_append_double (training, r->baseline);
    g_string_append (training, ", \"valid_metric\": ");
    rs_json_append_double (training, r->baseline_metric);
    g_string_append (training, ", \"valid_metric_name\": ");
    rs_json_append_string (training, r->task->metric_name);
  }
  g_string_append (training, ", \"losses\": {\"train\": ");
  {
    g_autofree char *t = history_text (r->train_hist), *v = history_text (r->valid_hist);
    g_string_append_printf (training, "[%s], \"valid\": [%s]}", t, v);
  }
  g_string_append (training, ", \"settings\": ");
  rs_train_settings_append_json (r->settings, training);
  g_string_append_c (training, '}');
  g_ptr_array_add (meta, (gpointer) "training");
  g_ptr_array_add (meta, training->str);
  g_ptr_array_add (meta, NULL);

  ok = rs_trainable_save (r->t, r->cfg.output, (const char *const *) meta->pdata, error);
  rs_trainable_set_params (r->t, r->params);
  return ok;
}

/* The loss curves as a PNG: training and validation loss per epoch, on a
 * log scale when they span more than a decade, the best epoch marked. */
static gboolean
save_plot (Run *r, GError **error)
{
  const guint n = r->train_hist->len;
  g_autofree double *x = g_new (double, MAX (n, 1));
  g_autofree char *title = g_strdup_printf ("rnnstream train: %s, %s %u x %u",
                                            r->cfg.task, r->cfg.cell, r->cfg.layers,
                                            r->cfg.hidden);
  g_autofree char *ylabel = g_strdup_printf ("%s loss", r->cfg.loss);
  g_autoptr (RsPlot) plot = rs_plot_new (title, "epoch", ylabel);
  const double *train = (const double *) r->train_hist->data;
  const double *valid = (const double *) r->valid_hist->data;
  double lo = INFINITY, hi = 0;
  gboolean ok;

  for (guint i = 0; i < n; i++) {
    x[i] = i + 1;
    for (guint k = 0; k < 2; k++) {
      const double v = k ? valid[i] : train[i];
      if (isfinite (v) && v > 0) {
        lo = MIN (lo, v);
        hi = MAX (hi, v);
      }
    }
  }
  rs_plot_set_log_y (plot, hi > 10 * lo);
  rs_plot_add_line (plot, "training loss", x, train, n);
  rs_plot_add_line (plot, "validation loss", x, valid, n);
  if (rs_schedule_best_epoch (r->schedule) > 0)
    rs_plot_add_vline (plot, rs_schedule_best_epoch (r->schedule), "best epoch");
  ok = rs_plot_save_png (plot, r->cfg.plot, 900, 540, error);
  rs_plot_release_static_data ();
  return ok;
}

/* ---- progress ---- */

static void
format_loss (char *buf, gsize len, double v)
{
  if (isnan (v))
    g_strlcpy (buf, "-", len);
  else
    g_snprintf (buf, len, "%.4g", v);
}

static FILE *
open_log (const char *path, gboolean resuming, GError **error)
{
  const gboolean append = resuming && g_file_test (path, G_FILE_TEST_EXISTS);
  FILE *f = fopen (path, append ? "a" : "w");

  if (f == NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "%s: cannot open the log: %s", path,
                 g_strerror (errno));
    return NULL;
  }
  if (!append)
    fprintf (f, "epoch,step,train_loss,valid_loss,valid_metric,lr,seconds\n");
  return f;
}

static int
fail (GError *error)
{
  const int code = error->domain == RS_ERROR && error->code == RS_ERROR_ARGUMENT
                       ? RS_EXIT_USAGE : RS_EXIT_FAILURE;
  return rs_cli_error (CMD, code, "%s", error->message);
}

/* Loads the checkpoint for --resume and layers its settings under the
 * others. */
static RsSafetensors *
load_checkpoint (const char *path, RsTrainSettings *settings, GError **error)
{
  g_autoptr (RsSafetensors) st = rs_safetensors_load (path, error);
  const char *format, *config;
  g_autofree char *source = NULL;

  if (st == NULL)
    return NULL;
  format = rs_safetensors_metadata (st, "rnnstream_checkpoint");
  config = rs_safetensors_metadata (st, "config");
  if (format == NULL || config == NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_MODEL, "%s: not a checkpoint of rnnstream train "
                 "(no metadata 'rnnstream_checkpoint' and 'config')", path);
    return NULL;
  }
  if (strcmp (format, CHECKPOINT_FORMAT) != 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_MODEL, "%s: checkpoint format %s, this rnnstream "
                 "reads %s", path, format, CHECKPOINT_FORMAT);
    return NULL;
  }
  source = g_strdup_printf ("%s (checkpoint settings)", path);
  if (!rs_train_settings_apply_data (settings, config, source, error))
    return NULL;
  return g_steal_pointer (&st);
}

gboolean
rs_cli_train (RsTrainSettings *settings, const RsSafetensors *checkpoint,
              const char *resume_path, gboolean quiet, RsTrainOutcome *outcome, GError **error)
{
  Run r = { .baseline = NAN, .baseline_metric = NAN };
  FILE *log = NULL;
  const gboolean tty = isatty (STDERR_FILENO);
  gint64 run_start;
  double seconds_total = 0;
  guint epochs_this_run = 0;
  gboolean ok = FALSE;

  g_mutex_init (&r.lock);
  g_cond_init (&r.done);
  if (!rs_train_settings_parse (settings, &r.cfg, error))
    goto out;
  r.settings = settings;

  r.task = strcmp (r.cfg.task, "forecast") == 0 ? train_forecast_new (&r.cfg, error)
                                                : train_audio_new (&r.cfg, error);
  if (r.task == NULL || !build (&r, error))
    goto out;
  if (checkpoint != NULL && !restore (&r, checkpoint, resume_path, error))
    goto out;
  set_params (&r);
  if (r.cfg.log[0] != '\0' && (log = open_log (r.cfg.log, checkpoint != NULL, error)) == NULL)
    goto out;
  {
    /* Before the first epoch: the forecast task's carried states come
     * from this pass. */
    double v, metric;
    if (!r.task->validate (r.task, r.t, &v, &metric, error))
      goto out;
    if (checkpoint == NULL && r.task->zero_head) {
      r.baseline = v;
      r.baseline_metric = metric;
      rs_schedule_set_baseline (r.schedule, v);
    }
  }

  run_start = g_get_monotonic_time ();
  while (!r.stopped && r.epoch < r.cfg.epochs) {
    const gint64 epoch_start = g_get_monotonic_time ();
    const guint n_items = r.task->n_items;
    gint64 last_draw = 0;
    double loss_sum = 0, weight_sum = 0, train_loss, valid_loss, metric, seconds;
    guint verdict;

    r.task->epoch = r.epoch;
    train_rng_shuffle (&r.rng, r.order, n_items);
    if (r.task->arrange != NULL)
      r.task->arrange (r.task, &r.rng, r.order, r.cfg.batch);
    for (guint first = 0; first < n_items; first += r.cfg.batch) {
      const guint nb = MIN (r.cfg.batch, n_items - first);
      if (!train_batch (&r, r.order + first, nb, &loss_sum, &weight_sum, error))
        goto out;
      if (tty && !quiet) {
        const gint64 now = g_get_monotonic_time ();
        if (now - last_draw > G_USEC_PER_SEC / 10 || first + nb == n_items) {
          g_autofree char *prefix = g_strdup_printf ("epoch %u/%u ", r.epoch + 1, r.cfg.epochs);
          rs_progress_bar (stderr, prefix, first + nb, n_items, r.task->item_name,
                           (double) (now - epoch_start) / G_USEC_PER_SEC,
                           (guint64) (r.cfg.epochs - r.epoch - 1) * n_items +
                             (n_items - first - nb), NULL, FALSE);
          last_draw = now;
        }
      }
    }
    train_loss = weight_sum > 0 ? loss_sum / weight_sum : NAN;
    if (!r.task->validate (r.task, r.t, &valid_loss, &metric, error))
      goto out;
    r.epoch++;
    epochs_this_run++;
    g_array_append_val (r.train_hist, train_loss);
    g_array_append_val (r.valid_hist, valid_loss);
    g_array_append_val (r.metric_hist, metric);
    verdict = rs_schedule_epoch_end (r.schedule, isnan (valid_loss) ? train_loss : valid_loss);
    if (verdict & RS_SCHEDULE_IMPROVED)
      memcpy (r.best, r.params, r.n_params * sizeof (float));
    r.stopped = (verdict & RS_SCHEDULE_STOP) != 0;
    seconds = (double) (g_get_monotonic_time () - epoch_start) / G_USEC_PER_SEC;
    seconds_total += seconds;

    if (log != NULL) {
      fprintf (log, "%u,%" G_GUINT64_FORMAT ",%.9g,%.9g,%.9g,%.9g,%.6f\n", r.epoch, r.step,
               train_loss, valid_loss, metric, rs_optimizer_get_lr (r.opt), seconds);
      fflush (log);
    }
    if (!quiet) {
      char tl[32], vl[32], ml[32], eta[32];
      const double per_epoch = seconds_total / epochs_this_run;
      rs_progress_format_duration (eta, sizeof eta,
                                   r.stopped ? 0 : per_epoch * (r.cfg.epochs - r.epoch));
      format_loss (tl, sizeof tl, train_loss);
      format_loss (vl, sizeof vl, valid_loss);
      format_loss (ml, sizeof ml, metric);
      fprintf (stderr, "%sepoch %u/%u  step %" G_GUINT64_FORMAT "  train %s  valid %s  %s %s"
               "  lr %.3g  %.0f %s/s  ETA %s%s\n", tty ? "\r\033[K" : "", r.epoch,
               r.cfg.epochs, r.step, tl, vl, r.task->metric_name, ml,
               rs_optimizer_get_lr (r.opt), n_items / seconds, r.task->item_name, eta,
               verdict & RS_SCHEDULE_IMPROVED ? "  *" : "");
    }
    if (r.cfg.checkpoint[0] != '\0' && r.cfg.checkpoint_every > 0 &&
        r.epoch % r.cfg.checkpoint_every == 0 && !save_checkpoint (&r, error))
      goto out;
  }
  if (r.cfg.checkpoint[0] != '\0' && !save_checkpoint (&r, error))
    goto out;
  if (!save_model (&r, error) || (r.cfg.plot[0] != '\0' && !save_plot (&r, error)))
    goto out;
  {
    const guint best = rs_schedule_best_epoch (r.schedule);
    const double elapsed = (double) (g_get_monotonic_time () - run_start) / G_USEC_PER_SEC;

    if (outcome != NULL) {
      outcome->epochs = r.epoch;
      outcome->best_epoch = best;
      outcome->stopped = r.stopped;
      outcome->seconds = elapsed;
      outcome->valid_metric = best > 0 ? g_array_index (r.metric_hist, double, best - 1) : NAN;
    }
    if (!quiet) {
      char tl[32] = "-", vl[32] = "-", ml[32] = "-";
      if (best > 0) {
        format_loss (tl, sizeof tl, g_array_index (r.train_hist, double, best - 1));
        format_loss (vl, sizeof vl, g_array_index (r.valid_hist, double, best - 1));
        format_loss (ml, sizeof ml, g_array_index (r.metric_hist, double, best - 1));
      }
      fprintf (stderr, "train: %u epochs%s (%u in this run, %.2f s, %.1f epochs/s, %u thread%s); "
               "best epoch %u: train %s  valid %s  %s %s; wrote %s\n", r.epoch,
               r.stopped ? " (stopped early)" : "", epochs_this_run, elapsed,
               elapsed > 0 ? epochs_this_run / elapsed : 0.0, r.n_workers,
               r.n_workers > 1 ? "s" : "", best, tl, vl, r.task->metric_name, ml, r.cfg.output);
    }
  }
  ok = TRUE;

out:
  if (log != NULL)
    fclose (log);
  run_clear (&r);
  return ok;
}

int
rs_cmd_train (int argc, char **argv)
{
  char *flags[RS_SET_COUNT] = { NULL };
  g_autofree char *config_path = NULL, *resume_path = NULL;
  gboolean quiet = FALSE;
  g_autofree GOptionEntry *setting_entries = rs_train_settings_option_entries (flags);
  const GOptionEntry extra[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Settings from an INI file "
      "(flags override it; see the README)", "FILE" },
    { "resume", 0, 0, G_OPTION_ARG_FILENAME, &resume_path, "Continue from a checkpoint "
      "(its settings are the defaults)", "CHECKPOINT" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress, no summary", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GArray) entries = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));
  RsTrainSettings settings, frozen_ref;
  g_autoptr (RsSafetensors) checkpoint = NULL;
  g_autoptr (GError) error = NULL;
  int status = RS_EXIT_OK;

  for (guint i = 0; i < RS_SET_COUNT; i++)
    g_array_append_val (entries, setting_entries[i]);
  for (guint i = 0; extra[i].long_name != NULL; i++)
    g_array_append_val (entries, extra[i]);
  rs_train_settings_init (&settings);
  rs_train_settings_init (&frozen_ref);
  if (!rs_cli_parse (CMD, NULL, "Train a recurrent model with backpropagation through time "
                     "and save it as a safetensors model for apply, transcribe and the "
                     "pipelines: a forecaster on a CSV series (--task forecast), a frame "
                     "classifier or a CTC recogniser on a list of sound files with their "
                     "text (--task classify, --task ctc). Settings come from --config FILE "
                     "(INI, groups [data], [features], [model], [training], [output], keys "
                     "named as the flags) and the flags, which override it.",
                     (const GOptionEntry *) entries->data, &argc, &argv)) {
    status = RS_EXIT_USAGE;
    goto out;
  }
  if (argc != 1) {
    status = rs_cli_error (CMD, RS_EXIT_USAGE, "unexpected argument '%s'", argv[1]);
    goto out;
  }

  if (resume_path != NULL) {
    checkpoint = load_checkpoint (resume_path, &settings, &error);
    if (checkpoint == NULL) {
      status = fail (error);
      goto out;
    }
    rs_train_settings_apply_data (&frozen_ref, rs_safetensors_metadata (checkpoint, "config"),
                                  resume_path, NULL);
  }
  if (config_path != NULL && !rs_train_settings_apply_file (&settings, config_path, &error)) {
    status = fail (error);
    goto out;
  }
  rs_train_settings_apply_flags (&settings, flags);
  rs_train_settings_default_lr (&settings);
  if (checkpoint != NULL)
    for (guint i = 0; i < RS_SET_COUNT; i++)
      if (rs_train_setting_frozen (i) &&
          g_strcmp0 (settings.value[i], frozen_ref.value[i]) != 0) {
        status = rs_cli_error (CMD, RS_EXIT_USAGE, "%s: %s is '%s', but the checkpoint %s was "
                               "made with '%s'; a resumed run keeps the model, data and "
                               "optimisation settings (only epochs, patience, threads and the "
                               "outputs may change)", settings.source[i],
                               rs_train_setting_key (i),
                               settings.value[i] ? settings.value[i] : "",
                               resume_path, frozen_ref.value[i] ? frozen_ref.value[i] : "");
        goto out;
      }
  if (!rs_cli_train (&settings, checkpoint, resume_path, quiet, NULL, &error))
    status = fail (error);

out:
  rs_train_settings_clear (&settings);
  rs_train_settings_clear (&frozen_ref);
  for (guint i = 0; i < RS_SET_COUNT; i++)
    g_free (flags[i]);
  return status;
}
