/* rnnstream train: trains a forecaster on a CSV series with truncated
 * backpropagation through time, and saves it as a safetensors model that
 * `apply` and the pipelines run.
 *
 * The series (RsForecastData) gives one frame per row: the standardised
 * target and covariates as inputs, the standardised target of the next H
 * rows as targets. The training frames are cut into windows of `window`
 * frames; every epoch the windows are shuffled (a seeded xoshiro256** of
 * our own, so runs repeat bit for bit) and taken `batch` at a time as the
 * streams of one mini-batch. A window starts either from zeros or, with
 * state = carried (the default), from the state the model reaches at the
 * window's first frame when it runs over the series from the first row,
 * as it runs live. Those states come for free from the pass that scores
 * the validation frames at the end of each epoch (one pass over the
 * series with the epoch's final weights, state carried from the first
 * row), so every window of an epoch starts from the state the weights of
 * the epoch's start give it. Which is better depends on the window: on the
 * demo series carried states win with windows of one season, zero states
 * with shorter and longer ones (README, Training, has the numbers).
 *
 * Resuming: a checkpoint holds the weights, the best weights so far, the
 * optimiser's state and step count, the PRNG, the epoch's losses so far
 * (the schedule is rebuilt by replaying them; its state depends on nothing
 * else) and the settings. The carried states are recomputed from the
 * weights by the same pass, which gives the same bits. So E epochs, then
 * E more from the checkpoint, give the same model file as 2E at once. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rnnstream/rnnstream.h>

#include "cli.h"
#include "progress.h"
#include "train-settings.h"

#define CMD "train"
#define CHECKPOINT_FORMAT "1"

/* xoshiro256** (Blackman and Vigna) seeded through splitmix64: the window
 * order. Defined on 64-bit integers only, the same everywhere. */
typedef struct {
  guint64 s[4];
} Rng;

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

static guint64
rng_next (Rng *r)
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

static void
rng_init (Rng *r, guint64 seed)
{
  /* A different stream from the weights' initialisation, which seeds the
   * same generator with the seed itself. */
  guint64 x = seed ^ 0x5368756666656c65ULL;   /* "Shuffle" */
  for (guint i = 0; i < 4; i++)
    r->s[i] = splitmix64 (&x);
}

typedef struct {
  RsTrainConfig cfg;
  RsTrainSettings *settings;
  RsForecastData *data;
  RsTrainable *t;
  RsOptimizer *opt;
  RsSchedule *schedule;
  gsize n_params;
  float *params, *best;
  guint I, H;
  gsize n_rows, train_end, valid_begin, valid_end;
  float *inputs, *targets;   /* every row's inputs; every frame's targets */
  guint window, n_windows;
  guint *order;
  gboolean carried;
  gsize state_floats;        /* per stream, all layers */
  float *start_states;       /* carried: n_windows * state_floats */
  Rng rng;
  guint epoch;               /* epochs done */
  guint64 step;
  GArray *train_hist, *valid_hist, *rmse_hist;  /* double, one per epoch */
  gboolean stopped;
  char *digest;              /* SHA-256 of the data file, or NULL for stdin */
  /* mini-batch buffers */
  float *bx, *by, *vout;
  guint *lengths;
  RsFrameTargets targets_desc;
} Run;

static void
run_clear (Run *r)
{
  rs_forecast_data_free (r->data);
  rs_trainable_free (r->t);
  rs_optimizer_free (r->opt);
  rs_schedule_free (r->schedule);
  g_free (r->params);
  g_free (r->best);
  g_free (r->inputs);
  g_free (r->targets);
  g_free (r->order);
  g_free (r->start_states);
  if (r->train_hist != NULL) {
    g_array_unref (r->train_hist);
    g_array_unref (r->valid_hist);
    g_array_unref (r->rmse_hist);
  }
  g_free (r->digest);
  g_free (r->bx);
  g_free (r->by);
  g_free (r->vout);
  g_free (r->lengths);
  rs_train_config_clear (&r->cfg);
}

/* A column as the CSV reader takes it: digits only are a 1-based index. */
static RsCsvColumn
column (const char *text)
{
  RsCsvColumn c = { text, 0 };
  gboolean digits = text[0] != '\0';

  for (const char *p = text; *p; p++)
    digits = digits && g_ascii_isdigit (*p);
  if (digits) {
    c.name = NULL;
    c.index = (guint) g_ascii_strtoull (text, NULL, 10);
  }
  return c;
}

static gboolean
load_data (Run *r, GError **error)
{
  const RsTrainConfig *c = &r->cfg;
  const guint n_cov = g_strv_length (c->covariates);
  g_autofree RsCsvColumn *cov = g_new0 (RsCsvColumn, MAX (n_cov, 1));
  RsForecastDataOptions o = { 0 };

  for (guint i = 0; i < n_cov; i++)
    cov[i] = column (c->covariates[i]);
  o.target = column (c->target);
  o.covariates = cov;
  o.n_covariates = n_cov;
  if (c->time_column[0] != '\0')
    o.time_column = column (c->time_column);
  rs_csv_missing_from_name (c->missing, &o.missing);
  o.horizon = c->horizon;
  o.validation = c->validation;
  r->data = rs_forecast_data_load (c->input, &o, error);
  if (r->data == NULL)
    return FALSE;
  if (strcmp (c->input, "-") != 0) {
    g_autofree char *bytes = NULL;
    gsize len;
    if (g_file_get_contents (c->input, &bytes, &len, NULL))
      r->digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guint8 *) bytes, len);
  }
  r->I = rs_forecast_data_n_inputs (r->data);
  r->H = rs_forecast_data_horizon (r->data);
  r->n_rows = rs_forecast_data_n_rows (r->data);
  rs_forecast_data_split (r->data, &r->train_end, &r->valid_begin, &r->valid_end);
  r->inputs = g_new (float, r->n_rows * r->I);
  r->targets = g_new (float, (r->n_rows - r->H) * r->H);
  rs_forecast_data_frames (r->data, 0, r->n_rows - r->H, r->inputs, r->targets);
  rs_forecast_data_frames (r->data, 0, r->n_rows, r->inputs, NULL);
  return TRUE;
}

static gboolean
build (Run *r, GError **error)
{
  const RsTrainConfig *c = &r->cfg;
  RsTrainableConfig tc = { c->cell, r->I, c->hidden, c->layers, TRUE, r->H, TRUE, c->seed };
  RsOptimizerOptions oo = RS_OPTIMIZER_OPTIONS_INIT;
  RsScheduleOptions so = RS_SCHEDULE_OPTIONS_INIT;

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
  memcpy (r->best, r->params, r->n_params * sizeof (float));
  /* Weight decay on the matrices only: decaying biases pulls them to zero
   * for no gain in generalisation. */
  for (guint i = 0; i < rs_trainable_n_tensors (r->t); i++) {
    const RsTrainTensor *tt = rs_trainable_tensor (r->t, i);
    rs_optimizer_add (r->opt, tt->name, r->params + tt->offset,
                      rs_trainable_grads (r->t) + tt->offset, tt->n_elements, tt->ndim == 2);
  }

  r->window = c->window > 0 ? (guint) MIN ((gsize) c->window, r->train_end) : (guint) r->train_end;
  r->n_windows = (guint) ((r->train_end + r->window - 1) / r->window);
  r->order = g_new (guint, r->n_windows);
  r->carried = strcmp (c->state, "carried") == 0;
  for (guint l = 0; l < c->layers; l++)
    r->state_floats += rs_trainable_layer_state_size (r->t, l);
  r->start_states = g_new0 (float, (gsize) r->n_windows * r->state_floats);
  rng_init (&r->rng, c->seed);
  r->train_hist = g_array_new (FALSE, FALSE, sizeof (double));
  r->valid_hist = g_array_new (FALSE, FALSE, sizeof (double));
  r->rmse_hist = g_array_new (FALSE, FALSE, sizeof (double));

  {
    const guint B = MIN (c->batch, r->n_windows);
    r->bx = g_new (float, (gsize) r->window * B * r->I);
    r->by = g_new (float, (gsize) r->window * B * r->H);
    r->lengths = g_new (guint, B);
    r->vout = g_new (float, (gsize) 256 * r->H);
  }
  r->targets_desc.kind = strcmp (c->loss, "mae") == 0 ? RS_FRAME_LOSS_MAE : RS_FRAME_LOSS_MSE;
  r->targets_desc.values = r->by;
  return TRUE;
}

/* Runs the model over the series from the first row (one stream, state
 * carried, as live), keeping the state at each window's first frame and
 * scoring the validation frames: *loss in the training loss (standardised
 * units), *rmse in the target's units. NAN when there is no validation. */
static gboolean
series_pass (Run *r, double *loss, double *rmse, GError **error)
{
  const gsize end = MAX (r->valid_end, r->train_end);
  const double target_std = rs_forecast_data_std (r->data)[0];
  const gboolean mae = r->targets_desc.kind == RS_FRAME_LOSS_MAE;
  double sum = 0, sum_sq = 0;
  gsize count = 0, t0 = 0;

  rs_trainable_reset_state (r->t, 1);
  while (t0 < end) {
    gsize n = MIN ((gsize) 256, end - t0);
    if (t0 < r->train_end)
      n = MIN (n, (t0 / r->window + 1) * r->window - t0);
    if (!rs_trainable_forward (r->t, (guint) n, r->inputs + t0 * r->I, NULL, r->vout, error))
      return FALSE;
    for (gsize f = MAX (t0, r->valid_begin); f < MIN (t0 + n, r->valid_end); f++)
      for (guint h = 0; h < r->H; h++) {
        const double d = (double) r->vout[(f - t0) * r->H + h] - r->targets[f * r->H + h];
        sum += fabs (d);
        sum_sq += d * d;
        count++;
      }
    t0 += n;
    if (t0 % r->window == 0 && t0 / r->window < r->n_windows)
      memcpy (r->start_states + (t0 / r->window) * r->state_floats, rs_trainable_state (r->t),
              r->state_floats * sizeof (float));
  }
  *loss = count ? (mae ? sum : sum_sq) / count : NAN;
  *rmse = count ? sqrt (sum_sq / count) * target_std : NAN;
  return TRUE;
}

/* One mini-batch of windows order[first .. first + nb); returns the sum of
 * the frame losses in *loss_sum and the frames in *frames. */
static gboolean
train_batch (Run *r, guint first, guint nb, double *loss_sum, gsize *frames, GError **error)
{
  guint T = 0;
  gsize counted = 0;
  double loss = 0;

  for (guint j = 0; j < nb; j++) {
    const gsize start = (gsize) r->order[first + j] * r->window;
    r->lengths[j] = (guint) MIN ((gsize) r->window, r->train_end - start);
    T = MAX (T, r->lengths[j]);
    counted += r->lengths[j];
  }
  memset (r->bx, 0, (gsize) T * nb * r->I * sizeof (float));
  memset (r->by, 0, (gsize) T * nb * r->H * sizeof (float));
  for (guint j = 0; j < nb; j++) {
    const gsize start = (gsize) r->order[first + j] * r->window;
    for (guint t = 0; t < r->lengths[j]; t++) {
      memcpy (r->bx + ((gsize) t * nb + j) * r->I, r->inputs + (start + t) * r->I,
              r->I * sizeof (float));
      memcpy (r->by + ((gsize) t * nb + j) * r->H, r->targets + (start + t) * r->H,
              r->H * sizeof (float));
    }
  }
  rs_trainable_reset_state (r->t, nb);
  if (r->carried) {
    /* The trainable's state is layer after layer, each nb streams. */
    float *state = rs_trainable_state (r->t);
    gsize layer_off = 0, in_off = 0;
    for (guint l = 0; l < r->cfg.layers; l++) {
      const guint S = rs_trainable_layer_state_size (r->t, l);
      for (guint j = 0; j < nb; j++)
        memcpy (state + layer_off + (gsize) j * S,
                r->start_states + (gsize) r->order[first + j] * r->state_floats + in_off,
                S * sizeof (float));
      layer_off += (gsize) nb * S;
      in_off += S;
    }
  }
  rs_trainable_zero_grad (r->t);
  if (!rs_train_bptt (r->t, T, r->bx, r->lengths, 0, rs_frame_loss, &r->targets_desc, &loss,
                      error))
    return FALSE;
  if (r->cfg.clip > 0)
    rs_optimizer_clip_grad_norm (r->opt, r->cfg.clip);
  r->step++;
  rs_optimizer_set_lr (r->opt, rs_schedule_lr (r->schedule, r->step));
  rs_optimizer_step (r->opt);
  rs_trainable_set_params (r->t, r->params);
  *loss_sum += loss * (double) counted;
  *frames += counted;
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
  g_autofree char *rmse = history_text (r->rmse_hist);
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
  rs_safetensors_writer_set_metadata (w, "optimizer_steps", opt_steps);
  rs_safetensors_writer_set_metadata (w, "rng", rng);
  rs_safetensors_writer_set_metadata (w, "train_history", train);
  rs_safetensors_writer_set_metadata (w, "valid_history", valid);
  rs_safetensors_writer_set_metadata (w, "rmse_history", rmse);
  if (r->digest != NULL)
    rs_safetensors_writer_set_metadata (w, "data_sha256", r->digest);
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
      !history_parse (rs_safetensors_metadata (st, "rmse_history"), r->rmse_hist,
                      (guint) epoch)) {
    g_set_error (error, RS_ERROR, RS_ERROR_MODEL, "%s: damaged checkpoint: its counters, "
                 "histories or PRNG state are missing or malformed", path);
    return FALSE;
  }
  if (digest != NULL && r->digest != NULL && strcmp (digest, r->digest) != 0) {
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
  for (guint e = 0; e < r->epoch; e++) {
    const double v = g_array_index (r->valid_hist, double, e);
    const guint verdict = rs_schedule_epoch_end (r->schedule, isnan (v) ? g_array_index (
                                                   r->train_hist, double, e) : v);
    r->stopped = (verdict & RS_SCHEDULE_STOP) != 0;
  }
  return TRUE;
}

/* ---- the model file ---- */

static void
append_names (GString *s, const Run *r, gboolean outputs)
{
  const char *target = rs_forecast_data_input_name (r->data, 0);

  g_string_append_c (s, '[');
  for (guint i = 0; i < (outputs ? r->H : r->I); i++) {
    if (i)
      g_string_append (s, ", ");
    if (outputs) {
      g_autofree char *name = g_strdup_printf ("%s+%u", target, i + 1);
      rs_json_append_string (s, name);
    } else {
      rs_json_append_string (s, rs_forecast_data_input_name (r->data, i));
    }
  }
  g_string_append_c (s, ']');
}

static gboolean
save_model (Run *r, GError **error)
{
  const double *mean = rs_forecast_data_mean (r->data), *std = rs_forecast_data_std (r->data);
  const guint best = rs_schedule_best_epoch (r->schedule);
  g_autoptr (GString) inputs = g_string_new (NULL), outputs = g_string_new (NULL);
  g_autoptr (GString) norm = g_string_new ("{\"mean\": ["), tnorm = g_string_new ("{\"mean\": ");
  g_autoptr (GString) cov = g_string_new ("["), training = g_string_new ("{\"task\": \"forecast\"");
  g_autofree char *description = NULL, *horizon = g_strdup_printf ("%u", r->H);
  g_autoptr (GPtrArray) meta = g_ptr_array_new ();

  append_names (inputs, r, FALSE);
  append_names (outputs, r, TRUE);
  for (guint i = 0; i < r->I; i++) {
    g_string_append (norm, i ? ", " : "");
    rs_json_append_double (norm, mean[i]);
  }
  g_string_append (norm, "], \"std\": [");
  for (guint i = 0; i < r->I; i++) {
    g_string_append (norm, i ? ", " : "");
    rs_json_append_double (norm, std[i]);
  }
  g_string_append (norm, "]}");
  rs_json_append_double (tnorm, mean[0]);
  g_string_append (tnorm, ", \"std\": ");
  rs_json_append_double (tnorm, std[0]);
  g_string_append_c (tnorm, '}');
  for (guint i = 1; i < r->I; i++) {
    g_string_append (cov, i > 1 ? ", " : "");
    rs_json_append_string (cov, rs_forecast_data_input_name (r->data, i));
  }
  g_string_append_c (cov, ']');

  g_string_append (training, ", \"data\": ");
  rs_json_append_string (training, r->cfg.input);
  if (r->digest != NULL) {
    g_string_append (training, ", \"data_sha256\": ");
    rs_json_append_string (training, r->digest);
  }
  g_string_append_printf (training, ", \"rows\": %" G_GSIZE_FORMAT ", \"training_frames\": %"
                          G_GSIZE_FORMAT ", \"validation_frames\": %" G_GSIZE_FORMAT
                          ", \"epochs\": %u, \"steps\": %" G_GUINT64_FORMAT
                          ", \"stopped_early\": %s, \"best_epoch\": %u", r->n_rows, r->train_end,
                          r->valid_end - r->valid_begin, r->epoch, r->step,
                          r->stopped ? "true" : "false", best);
  if (best > 0) {
    g_string_append (training, ", \"train_loss\": ");
    rs_json_append_double (training, g_array_index (r->train_hist, double, best - 1));
    g_string_append (training, ", \"valid_loss\": ");
    rs_json_append_double (training, g_array_index (r->valid_hist, double, best - 1));
    g_string_append (training, ", \"valid_rmse\": ");
    rs_json_append_double (training, g_array_index (r->rmse_hist, double, best - 1));
  }
  g_string_append (training, ", \"settings\": ");
  rs_train_settings_append_json (r->settings, training);
  g_string_append_c (training, '}');

  description = g_strdup_printf ("%s forecaster of %s, %u step%s ahead, trained by "
                                 "rnnstream train", r->cfg.cell,
                                 rs_forecast_data_input_name (r->data, 0), r->H,
                                 r->H > 1 ? "s" : "");
#define META(k, v) (g_ptr_array_add (meta, (gpointer) (k)), g_ptr_array_add (meta, (gpointer) (v)))
  META ("description", description);
  META ("task", "forecast");
  META ("inputs", inputs->str);
  META ("outputs", outputs->str);
  META ("normalisation", norm->str);
  META ("target", rs_forecast_data_input_name (r->data, 0));
  META ("covariates", cov->str);
  META ("horizon", horizon);
  if (r->cfg.time_column[0] != '\0')
    META ("time_column", r->cfg.time_column);
  META ("target_normalisation", tnorm->str);
  META ("training", training->str);
#undef META
  g_ptr_array_add (meta, NULL);

  rs_trainable_set_params (r->t, r->best);
  return rs_trainable_save (r->t, r->cfg.output, (const char *const *) meta->pdata, error);
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
    fprintf (f, "epoch,step,train_loss,valid_loss,lr,seconds\n");
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
  Run r = { 0 };
  FILE *log = NULL;
  const gboolean tty = isatty (STDERR_FILENO);
  gint64 run_start;
  double seconds_total = 0;
  guint epochs_this_run = 0;
  int status = RS_EXIT_OK;

  for (guint i = 0; i < RS_SET_COUNT; i++)
    g_array_append_val (entries, setting_entries[i]);
  for (guint i = 0; extra[i].long_name != NULL; i++)
    g_array_append_val (entries, extra[i]);
  rs_train_settings_init (&settings);
  rs_train_settings_init (&frozen_ref);
  if (!rs_cli_parse (CMD, NULL, "Train a recurrent forecaster on a CSV series (truncated "
                     "backpropagation through time) and save it as a safetensors model for "
                     "apply and the pipelines. Settings come from --config FILE (INI, groups "
                     "[data], [model], [training], [output], keys named as the flags) and the "
                     "flags, which override it. --task classify and ctc are not implemented "
                     "yet.", (const GOptionEntry *) entries->data, &argc, &argv)) {
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
  if (settings.value[RS_SET_LR] == NULL) {
    const char *opt = settings.value[RS_SET_OPTIMIZER];
    settings.value[RS_SET_LR] = g_strdup (opt && strcmp (opt, "sgd") == 0 ? "0.01" : "0.001");
  }
  if (!rs_train_settings_parse (&settings, &r.cfg, &error)) {
    status = fail (error);
    goto out;
  }
  if (checkpoint != NULL)
    for (guint i = 0; i < RS_SET_COUNT; i++)
      if (rs_train_setting_frozen (i) &&
          g_strcmp0 (settings.value[i], frozen_ref.value[i]) != 0) {
        status = rs_cli_error (CMD, RS_EXIT_USAGE, "%s: %s is '%s', but the checkpoint %s was "
                               "made with '%s'; a resumed run keeps the model, data and "
                               "optimisation settings (only epochs, patience and the outputs "
                               "may change)", settings.source[i], rs_train_setting_key (i),
                               settings.value[i] ? settings.value[i] : "",
                               resume_path, frozen_ref.value[i] ? frozen_ref.value[i] : "");
        goto out;
      }
  r.settings = &settings;

  if (!load_data (&r, &error) || !build (&r, &error)) {
    status = fail (error);
    goto out;
  }
  if (checkpoint != NULL && !restore (&r, checkpoint, resume_path, &error)) {
    status = fail (error);
    goto out;
  }
  if (r.cfg.log[0] != '\0' && (log = open_log (r.cfg.log, checkpoint != NULL, &error)) == NULL) {
    status = fail (error);
    goto out;
  }
  {
    double v, rmse;
    if (!series_pass (&r, &v, &rmse, &error)) {
      status = fail (error);
      goto out;
    }
  }

  run_start = g_get_monotonic_time ();
  while (!r.stopped && r.epoch < r.cfg.epochs) {
    const gint64 epoch_start = g_get_monotonic_time ();
    gint64 last_draw = 0;
    double loss_sum = 0, train_loss, valid_loss, rmse, seconds;
    gsize frames = 0;
    guint verdict;

    /* Fisher-Yates from the identity, so that the order depends on the
     * PRNG's state alone (a resumed run has no other); the modulo's bias
     * is below 2^-32 for any window count a guint holds. */
    for (guint w = 0; w < r.n_windows; w++)
      r.order[w] = w;
    for (guint i = r.n_windows - 1; i > 0; i--) {
      const guint j = (guint) (rng_next (&r.rng) % (i + 1));
      const guint tmp = r.order[i];
      r.order[i] = r.order[j];
      r.order[j] = tmp;
    }
    for (guint first = 0; first < r.n_windows; first += r.cfg.batch) {
      const guint nb = MIN (r.cfg.batch, r.n_windows - first);
      if (!train_batch (&r, first, nb, &loss_sum, &frames, &error)) {
        status = fail (error);
        goto out;
      }
      if (tty && !quiet) {
        const gint64 now = g_get_monotonic_time ();
        if (now - last_draw > G_USEC_PER_SEC / 10 || first + nb == r.n_windows) {
          g_autofree char *prefix = g_strdup_printf ("epoch %u/%u ", r.epoch + 1, r.cfg.epochs);
          rs_progress_bar (stderr, prefix, first + nb, r.n_windows, "windows",
                           (double) (now - epoch_start) / G_USEC_PER_SEC,
                           (guint64) (r.cfg.epochs - r.epoch - 1) * r.n_windows +
                             (r.n_windows - first - nb), NULL, FALSE);
          last_draw = now;
        }
      }
    }
    train_loss = frames ? loss_sum / (double) frames : NAN;
    if (!series_pass (&r, &valid_loss, &rmse, &error)) {
      status = fail (error);
      goto out;
    }
    r.epoch++;
    epochs_this_run++;
    g_array_append_val (r.train_hist, train_loss);
    g_array_append_val (r.valid_hist, valid_loss);
    g_array_append_val (r.rmse_hist, rmse);
    verdict = rs_schedule_epoch_end (r.schedule, isnan (valid_loss) ? train_loss : valid_loss);
    if (verdict & RS_SCHEDULE_IMPROVED)
      memcpy (r.best, r.params, r.n_params * sizeof (float));
    r.stopped = (verdict & RS_SCHEDULE_STOP) != 0;
    seconds = (double) (g_get_monotonic_time () - epoch_start) / G_USEC_PER_SEC;
    seconds_total += seconds;

    if (log != NULL) {
      fprintf (log, "%u,%" G_GUINT64_FORMAT ",%.9g,%.9g,%.9g,%.6f\n", r.epoch, r.step,
               train_loss, valid_loss, rs_optimizer_get_lr (r.opt), seconds);
      fflush (log);
    }
    if (!quiet) {
      char tl[32], vl[32], eta[32];
      const double per_epoch = seconds_total / epochs_this_run;
      rs_progress_format_duration (eta, sizeof eta,
                                   r.stopped ? 0 : per_epoch * (r.cfg.epochs - r.epoch));
      format_loss (tl, sizeof tl, train_loss);
      format_loss (vl, sizeof vl, valid_loss);
      fprintf (stderr, "%sepoch %u/%u  step %" G_GUINT64_FORMAT "  train %s  valid %s  lr %.3g"
               "  %.0f windows/s  ETA %s%s\n", tty ? "\r\033[K" : "", r.epoch, r.cfg.epochs,
               r.step, tl, vl, rs_optimizer_get_lr (r.opt), r.n_windows / seconds, eta,
               verdict & RS_SCHEDULE_IMPROVED ? "  *" : "");
    }
    if (r.cfg.checkpoint[0] != '\0' && r.cfg.checkpoint_every > 0 &&
        r.epoch % r.cfg.checkpoint_every == 0 && !save_checkpoint (&r, &error)) {
      status = fail (error);
      goto out;
    }
  }
  if (r.cfg.checkpoint[0] != '\0' && !save_checkpoint (&r, &error)) {
    status = fail (error);
    goto out;
  }
  if (!save_model (&r, &error)) {
    status = fail (error);
    goto out;
  }
  if (!quiet) {
    const guint best = rs_schedule_best_epoch (r.schedule);
    const double elapsed = (double) (g_get_monotonic_time () - run_start) / G_USEC_PER_SEC;
    char tl[32] = "-", vl[32] = "-", rm[32] = "-";
    if (best > 0) {
      format_loss (tl, sizeof tl, g_array_index (r.train_hist, double, best - 1));
      format_loss (vl, sizeof vl, g_array_index (r.valid_hist, double, best - 1));
      format_loss (rm, sizeof rm, g_array_index (r.rmse_hist, double, best - 1));
    }
    fprintf (stderr, "train: %u epochs%s (%u in this run, %.2f s, %.1f epochs/s); best epoch "
             "%u: train %s  valid %s  valid RMSE %s (data units); wrote %s\n", r.epoch,
             r.stopped ? " (stopped early)" : "", epochs_this_run, elapsed,
             elapsed > 0 ? epochs_this_run / elapsed : 0.0, best, tl, vl, rm, r.cfg.output);
  }

out:
  if (log != NULL)
    fclose (log);
  run_clear (&r);
  rs_train_settings_clear (&settings);
  rs_train_settings_clear (&frozen_ref);
  for (guint i = 0; i < RS_SET_COUNT; i++)
    g_free (flags[i]);
  return status;
}
