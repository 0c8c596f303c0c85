/* What a training task gives the training loop of `rnnstream train`.
 *
 * The loop (train.c) owns the model, the optimiser, the schedule, the
 * threads, checkpoints and progress; a task owns the data: it says how
 * many items (forecast windows, utterances) an epoch has, runs the forward
 * and backward pass of a shard of a mini-batch on a given replica of the
 * model, scores the validation data, and writes its part of the model's
 * metadata. train-forecast.c and train-audio.c implement it. */
#ifndef RS_CLI_TRAIN_TASK_H
#define RS_CLI_TRAIN_TASK_H

#include <glib.h>
#include <rnnstream/rnnstream.h>

#include "train-settings.h"

/* xoshiro256** (Blackman and Vigna) seeded through splitmix64: the order of
 * the items. Defined on 64-bit integers only, the same everywhere. */
typedef struct {
  guint64 s[4];
} TrainRng;

void train_rng_init (TrainRng *r, guint64 seed);
guint64 train_rng_next (TrainRng *r);
/* Fisher-Yates from the identity: order[0..n) depends on the PRNG's state
 * alone (a resumed run has no other). */
void train_rng_shuffle (TrainRng *r, guint *order, guint n);

typedef struct TrainTask TrainTask;

struct TrainTask {
  const char *item_name;     /* "windows", "utterances": the progress unit */
  guint n_inputs, n_outputs; /* the model's input width and head size */
  guint n_items;             /* training items per epoch */
  const char *metric_name;   /* the validation metric, e.g. "valid RMSE (data units)" */
  /* Start the head at zero (the network's outputs 0: for the forecaster,
   * its reference forecast) and keep the start as the best until an epoch
   * beats it on validation. */
  gboolean zero_head;

  /* Optional: rearranges the epoch's shuffled order (e.g. batches of
   * utterances of similar length); must depend on order and rng only. */
  void (*arrange) (TrainTask *task, TrainRng *rng, guint *order, guint batch);

  /* Per-shard buffers for up to max_items items, and their release. */
  gpointer (*shard_new) (TrainTask *task, guint max_items);
  void (*shard_free) (gpointer shard);

  /* Runs items[0..n) as one batch on replica t (its weights are the
   * current ones): resets its state, zeroes its gradients, backpropagates
   * the shard's loss. Returns the loss in *loss (reduced over the shard as
   * the task's loss reduces it) and in *weight the shard's share of the
   * batch's reduction (counted frames for frame losses, sequences for
   * CTC), so that the batch's gradient is the weight-averaged sum of the
   * shards'. Called from worker threads: touches only shard and t. */
  gboolean (*shard_run) (TrainTask *task, gpointer shard, RsTrainable *t, const guint *items,
                         guint n, double *loss, double *weight, GError **error);

  /* Scores the validation data with t's weights: *loss in the training
   * loss, *metric in the task's metric; NAN when there is no validation
   * data. Called once before the first epoch and after every epoch. */
  gboolean (*validate) (TrainTask *task, RsTrainable *t, double *loss, double *metric,
                        GError **error);

  /* Adds the model file's metadata (key, value pairs into meta, strings
   * owned by the task or by keep) and the task's part of the "training"
   * JSON object (", \"key\": value" members) into training. best holds
   * the weights being saved (the task may run them, e.g. to measure its
   * errors). */
  void (*metadata) (TrainTask *task, RsTrainable *best, GPtrArray *meta, GPtrArray *keep,
                    GString *training);

  /* The epoch being trained (0-based), set by the loop before each epoch
   * and read-only during it: tasks that perturb their data (SpecAugment)
   * draw from it, the seed and the item, so that the perturbation does not
   * depend on which thread computes what. */
  guint epoch;

  /* The data's SHA-256 (checked when resuming) or NULL. */
  const char *digest;

  void (*free) (TrainTask *task);
};

/* The tasks. Fail with the data's errors (RS_ERROR_IO, RS_ERROR_PARSE,
 * RS_ERROR_ARGUMENT for settings that do not fit the task). */
TrainTask *train_forecast_new (const RsTrainConfig *config, GError **error);
TrainTask *train_audio_new (const RsTrainConfig *config, GError **error);

/* Adds text to keep (which frees it) and returns it: for metadata values. */
char *train_keep (GPtrArray *keep, char *text);

/* Appends a JSON array of n numbers. */
void train_json_doubles (GString *out, const double *values, guint n);

/* The SHA-256 of a file's bytes, or NULL when it cannot be read. */
char *train_file_digest (const char *path);

#endif
