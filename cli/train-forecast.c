/* The forecast task of `rnnstream train`: a recurrent forecaster over a
 * CSV series.
 *
 * The series (RsForecastData) gives one frame per row from its first
 * frame on: the inputs and targets of the representation in
 * rnnstream/forecast-transform.h. The training frames are cut into
 * windows of `window` frames, the items the loop shuffles and batches. A window starts either
 * from zeros or, with state = carried (the default), from the state the
 * model reaches at the window's first frame when it runs over the series
 * from the first row, as it runs live. Those states come for free from the
 * pass that scores the validation frames after each epoch (one pass over
 * the series with the epoch's final weights, state carried from the first
 * row), so every window of an epoch starts from the state the weights of
 * the epoch's start give it. Which is better depends on the window: on the
 * demo series carried states win with windows of one season, zero states
 * with shorter and longer ones (README, Training, has the numbers). A
 * resumed run recomputes them from the weights by the same pass, which
 * gives the same bits. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "train-task.h"

typedef struct {
  TrainTask base;
  const RsTrainConfig *cfg;
  RsForecastData *data;
  guint I, H, layers;
  gsize n_rows, first, train_end, valid_begin, valid_end;
  /* Every frame's inputs, targets, and targets in the training rows only
   * (NaN: missing), by row (zeros before first). */
  float *inputs, *targets, *train_targets;
  guint window;
  gboolean carried;
  gsize state_floats;        /* per stream, all layers */
  float *start_states;       /* carried: n_items * state_floats */
  float *vout;
  double *zhat, *resid_sq;   /* a frame's forecasts (z, then data units); squared errors per step */
  gsize *resid_n;
  RsFrameLossKind loss;
  char *digest;
} Forecast;

typedef struct {
  float *bx, *by;
  guint *lengths;
  RsFrameTargets targets;
} Shard;

static gpointer
shard_new (TrainTask *task, guint max_items)
{
  Forecast *f = (Forecast *) task;
  Shard *s = g_new0 (Shard, 1);

  s->bx = g_new (float, (gsize) f->window * max_items * f->I);
  s->by = g_new (float, (gsize) f->window * max_items * f->H);
  s->lengths = g_new (guint, max_items);
  s->targets.kind = f->loss;
  s->targets.values = s->by;
  return s;
}

static void
shard_free (gpointer data)
{
  Shard *s = data;

  g_free (s->bx);
  g_free (s->by);
  g_free (s->lengths);
  g_free (s);
}

static gboolean
shard_run (TrainTask *task, gpointer data, RsTrainable *t, const guint *items, guint nb,
           double *loss, double *weight, GError **error)
{
  Forecast *f = (Forecast *) task;
  Shard *s = data;
  guint T = 0;
  gsize counted = 0;
  const gsize nH = (gsize) nb * f->H;

  for (guint j = 0; j < nb; j++) {
    const gsize start = f->first + (gsize) items[j] * f->window;
    s->lengths[j] = (guint) MIN ((gsize) f->window, f->train_end - start);
    T = MAX (T, s->lengths[j]);
  }
  memset (s->bx, 0, (gsize) T * nb * f->I * sizeof (float));
  memset (s->by, 0, (gsize) T * nb * f->H * sizeof (float));
  for (guint j = 0; j < nb; j++) {
    const gsize start = f->first + (gsize) items[j] * f->window;
    for (guint t0 = 0; t0 < s->lengths[j]; t0++) {
      memcpy (s->bx + ((gsize) t0 * nb + j) * f->I, f->inputs + (start + t0) * f->I,
              f->I * sizeof (float));
      memcpy (s->by + ((gsize) t0 * nb + j) * f->H, f->train_targets + (start + t0) * f->H,
              f->H * sizeof (float));
    }
  }
  rs_trainable_reset_state (t, nb);
  if (f->carried) {
    /* The trainable's state is layer after layer, each nb streams. */
    float *state = rs_trainable_state (t);
    gsize layer_off = 0, in_off = 0;
    for (guint l = 0; l < f->layers; l++) {
      const guint S = rs_trainable_layer_state_size (t, l);
      for (guint j = 0; j < nb; j++)
        memcpy (state + layer_off + (gsize) j * S,
                f->start_states + (gsize) items[j] * f->state_floats + in_off,
                S * sizeof (float));
      layer_off += (gsize) nb * S;
      in_off += S;
    }
  }
  /* The shard's share of the batch: its targets (the padding's are
   * zeros, outside the lengths; missing ones are NaN). */
  for (guint j = 0; j < nb; j++)
    for (guint t0 = 0; t0 < s->lengths[j]; t0++)
      for (guint h = 0; h < f->H; h++)
        counted += !isnan (s->by[(gsize) t0 * nH + (gsize) j * f->H + h]);
  rs_trainable_zero_grad (t);
  *loss = 0;
  *weight = (double) counted;
  return rs_train_bptt (t, T, s->bx, s->lengths, 0, rs_frame_loss, &s->targets, loss, error);
}

/* Runs the model over the series from the first frame (one stream, state
 * carried, as live), keeping the state at each window's first frame and
 * scoring the forecasts of frames [from, to): *loss in the training loss
 * (standardised units), *rmse in the target's units, and each step's sum
 * of squared errors in z units (for the intervals). NAN when there is
 * nothing to score. */
static gboolean
run_series (Forecast *f, RsTrainable *t, gsize from, gsize to, double *loss, double *rmse,
            GError **error)
{
  const gsize end = MAX (to, f->train_end);
  const gboolean mae = f->loss == RS_FRAME_LOSS_MAE;
  double sum = 0, sum_sq = 0, data_sq = 0;
  gsize count = 0, t0 = f->first;

  memset (f->resid_sq, 0, f->H * sizeof (double));
  memset (f->resid_n, 0, f->H * sizeof (gsize));
  rs_trainable_reset_state (t, 1);
  while (t0 < end) {
    gsize n = MIN ((gsize) 256, end - t0);
    if (t0 < f->train_end)
      n = MIN (n, ((t0 - f->first) / f->window + 1) * f->window + f->first - t0);
    if (!rs_trainable_forward (t, (guint) n, f->inputs + t0 * f->I, NULL, f->vout, error))
      return FALSE;
    for (gsize fr = MAX (t0, from); fr < MIN (t0 + n, to); fr++) {
      const float *u = f->vout + (fr - t0) * f->H;
      double *yhat = f->zhat + f->H;
      rs_forecast_data_forecast (f->data, fr, u, f->zhat, yhat);
      for (guint h = 0; h < f->H && fr + 1 + h < f->n_rows; h++) {
        const double d = (double) u[h] - f->targets[fr * f->H + h];
        const double e = yhat[h] - rs_forecast_data_target (f->data, fr + 1 + h);
        const double ez = f->zhat[h] - rs_forecast_data_z (f->data, fr + 1 + h);
        sum += fabs (d);
        sum_sq += d * d;
        data_sq += e * e;
        f->resid_sq[h] += ez * ez;
        f->resid_n[h]++;
        count++;
      }
    }
    t0 += n;
    if ((t0 - f->first) % f->window == 0 && (t0 - f->first) / f->window < f->base.n_items)
      memcpy (f->start_states + ((t0 - f->first) / f->window) * f->state_floats,
              rs_trainable_state (t), f->state_floats * sizeof (float));
  }
  *loss = count ? (mae ? sum : sum_sq) / count : NAN;
  *rmse = count ? sqrt (data_sq / count) : NAN;
  return TRUE;
}

static gboolean
validate (TrainTask *task, RsTrainable *t, double *loss, double *rmse, GError **error)
{
  Forecast *f = (Forecast *) task;

  return run_series (f, t, f->valid_begin, f->valid_end, loss, rmse, error);
}

static void
append_names (GString *s, const Forecast *f, gboolean outputs)
{
  const RsForecastTransform *tr = rs_forecast_data_transform (f->data);
  const char *target = rs_forecast_data_column_name (f->data, 0);
  const guint n = outputs ? f->H : f->I, first_cov = tr->n_inputs - tr->n_covariates;

  g_string_append_c (s, '[');
  for (guint i = 0; i < n; i++) {
    g_autofree char *name = NULL;
    if (outputs)
      name = g_strdup_printf ("%s+%u", target, i + 1);
    else if (i >= first_cov)
      name = g_strdup (rs_forecast_data_column_name (f->data, i - first_cov + 1));
    else if (tr->reference == RS_FORECAST_REFERENCE_NONE)
      name = g_strdup_printf ("%s%s", tr->log ? "log " : "", target);
    else
      name = g_strdup_printf ("%s%s difference lag %u", tr->log ? "log " : "", target,
                              i == 0 ? 1 : tr->season);
    g_string_append (s, i ? ", " : "");
    rs_json_append_string (s, name);
  }
  g_string_append_c (s, ']');
}

static void
metadata (TrainTask *task, RsTrainable *best, GPtrArray *meta, GPtrArray *kept,
          GString *training)
{
  Forecast *f = (Forecast *) task;
  RsForecastTransform tr;
  GString *inputs = g_string_new (NULL), *outputs = g_string_new (NULL);
  GString *norm = g_string_new ("{\"mean\": "), *cov = g_string_new ("[");
  const char *target = rs_forecast_data_column_name (f->data, 0);
  const RsSeasonTest *test;
  double loss, rmse;
  g_autoptr (GError) error = NULL;

  /* Interval widths from the best weights' errors on forecasts they were
   * not trained on: the validation frames, else (optimistic) the training
   * frames. */
  rs_forecast_transform_copy (&tr, rs_forecast_data_transform (f->data));
  if (run_series (f, best, f->valid_begin < f->valid_end ? f->valid_begin : f->first,
                  f->valid_begin < f->valid_end ? f->valid_end : f->train_end, &loss, &rmse,
                  &error)) {
    guint last = 0;
    tr.residual_std = f->resid_n[0] > 0 ? g_new (double, f->H) : NULL;
    /* Steps too far out for any scored forecast grow from the last one
     * measured as a random walk's error does, with the square root of the
     * step. */
    for (guint h = 0; tr.residual_std != NULL && h < f->H; h++) {
      if (f->resid_n[h] > 0) {
        tr.residual_std[h] = sqrt (f->resid_sq[h] / f->resid_n[h]);
        last = h;
      } else {
        tr.residual_std[h] = tr.residual_std[last] * sqrt ((h + 1.0) / (last + 1.0));
      }
    }
  }

  append_names (inputs, f, FALSE);
  append_names (outputs, f, TRUE);
  train_json_doubles (norm, tr.in_mean, f->I);
  g_string_append (norm, ", \"std\": ");
  train_json_doubles (norm, tr.in_std, f->I);
  g_string_append_c (norm, '}');
  for (guint i = 1; i <= tr.n_covariates; i++) {
    g_string_append (cov, i > 1 ? ", " : "");
    rs_json_append_string (cov, rs_forecast_data_column_name (f->data, i));
  }
  g_string_append_c (cov, ']');

#define META(k, v) (g_ptr_array_add (meta, (gpointer) (k)), g_ptr_array_add (meta, (gpointer) (v)))
  META ("description", train_keep (kept, g_strdup_printf ("%s forecaster of %s, %u step%s ahead, "
                                                    "trained by rnnstream train", f->cfg->cell,
                                                    target, f->H, f->H > 1 ? "s" : "")));
  META ("task", "forecast");
  META ("inputs", train_keep (kept, g_string_free (inputs, FALSE)));
  META ("outputs", train_keep (kept, g_string_free (outputs, FALSE)));
  META ("normalisation", train_keep (kept, g_string_free (norm, FALSE)));
  META ("forecast", train_keep (kept, rs_forecast_transform_to_json (&tr)));
  META ("target", target);
  META ("covariates", train_keep (kept, g_string_free (cov, FALSE)));
  META ("horizon", train_keep (kept, g_strdup_printf ("%u", f->H)));
  META ("season", train_keep (kept, g_strdup_printf ("%u", tr.season)));
  if (f->cfg->time_column[0] != '\0')
    META ("time_column", f->cfg->time_column);
#undef META
  rs_forecast_transform_clear (&tr);

  g_string_append_printf (training, ", \"rows\": %" G_GSIZE_FORMAT ", \"training_frames\": %"
                          G_GSIZE_FORMAT ", \"validation_frames\": %" G_GSIZE_FORMAT
                          ", \"period\": \"%s\"", f->n_rows, f->train_end - f->first,
                          f->valid_end - f->valid_begin, rs_forecast_data_period (f->data));
  if ((test = rs_forecast_data_season_test (f->data)) != NULL) {
    g_string_append_printf (training, ", \"season_test\": {\"season\": %u, \"F\": ",
                            test->season);
    rs_json_append_double (training, test->F);
    g_string_append (training, ", \"critical\": ");
    rs_json_append_double (training, test->critical);
    g_string_append_printf (training, ", \"seasonal\": %s}", test->seasonal ? "true" : "false");
  }
}

static void
forecast_free (TrainTask *task)
{
  Forecast *f = (Forecast *) task;

  rs_forecast_data_free (f->data);
  g_free (f->inputs);
  g_free (f->targets);
  g_free (f->train_targets);
  g_free (f->start_states);
  g_free (f->vout);
  g_free (f->zhat);
  g_free (f->resid_sq);
  g_free (f->resid_n);
  g_free (f->digest);
  g_free (f);
}

TrainTask *
train_forecast_new (const RsTrainConfig *c, GError **error)
{
  Forecast *f = g_new0 (Forecast, 1);
  const guint n_cov = g_strv_length (c->covariates);
  g_autofree RsCsvColumn *cov = g_new0 (RsCsvColumn, MAX (n_cov, 1));
  RsForecastDataOptions o = { 0 };
  const char *mae = "mae";

  f->base.free = forecast_free;
  f->cfg = c;
  for (guint i = 0; i < n_cov; i++)
    cov[i] = rs_csv_column (c->covariates[i]);
  o.target = rs_csv_column (c->target);
  o.covariates = cov;
  o.n_covariates = n_cov;
  if (c->time_column[0] != '\0')
    o.time_column = rs_csv_column (c->time_column);
  rs_csv_missing_from_name (c->missing, &o.missing);
  o.horizon = c->horizon;
  o.validation = c->validation;
  o.season = c->season;
  o.log = strcmp (c->log_transform, "yes") == 0 ? 1 : strcmp (c->log_transform, "no") == 0 ? 0
                                                                                          : -1;
  rs_forecast_reference_from_name (c->reference, &o.reference);
  o.test_season = c->season_test;
  o.damping = c->damping;
  o.multiplicative = strcmp (c->seasonality, "multiplicative") == 0 ? 1
                     : strcmp (c->seasonality, "additive") == 0 ? 0 : -1;
  f->data = rs_forecast_data_load (c->input, &o, error);
  if (f->data == NULL) {
    forecast_free (&f->base);
    return NULL;
  }
  if (strcmp (c->input, "-") != 0)
    f->digest = train_file_digest (c->input);
  f->I = rs_forecast_data_n_inputs (f->data);
  f->H = rs_forecast_data_horizon (f->data);
  f->layers = c->layers;
  f->n_rows = rs_forecast_data_n_rows (f->data);
  f->first = rs_forecast_data_first_frame (f->data);
  rs_forecast_data_split (f->data, &f->train_end, &f->valid_begin, &f->valid_end);
  f->inputs = g_new0 (float, f->n_rows * f->I);
  f->targets = g_new0 (float, f->n_rows * f->H);
  f->train_targets = g_new0 (float, f->n_rows * f->H);
  rs_forecast_data_frames (f->data, f->first, f->n_rows - f->first, FALSE,
                           f->inputs + f->first * f->I, f->targets + f->first * f->H);
  rs_forecast_data_frames (f->data, f->first, f->n_rows - f->first, TRUE,
                           f->inputs + f->first * f->I, f->train_targets + f->first * f->H);

  f->window = c->window > 0 ? (guint) MIN ((gsize) c->window, f->train_end - f->first)
                            : (guint) (f->train_end - f->first);
  f->carried = strcmp (c->state, "carried") == 0;
  f->loss = strcmp (c->loss, mae) == 0 ? RS_FRAME_LOSS_MAE : RS_FRAME_LOSS_MSE;
  /* An LSTM carries [h | c]: twice the hidden size. */
  f->state_floats = (gsize) c->layers * c->hidden * (strcmp (c->cell, "lstm") == 0 ? 2 : 1);
  f->vout = g_new (float, (gsize) 256 * f->H);
  f->zhat = g_new (double, 2 * (gsize) f->H);
  f->resid_sq = g_new (double, f->H);
  f->resid_n = g_new (gsize, f->H);

  f->base.item_name = "windows";
  f->base.n_inputs = f->I;
  f->base.n_outputs = f->H;
  f->base.n_items = (guint) ((f->train_end - f->first + f->window - 1) / f->window);
  f->base.metric_name = "valid RMSE (data units)";
  /* A net that outputs zeros forecasts the reference plus its average
   * correction: training starts from that baseline and, judged on
   * validation, never ends worse than it. */
  f->base.zero_head = TRUE;
  f->base.shard_new = shard_new;
  f->base.shard_free = shard_free;
  f->base.shard_run = shard_run;
  f->base.validate = validate;
  f->base.metadata = metadata;
  f->base.digest = f->digest;
  f->start_states = g_new0 (float, (gsize) f->base.n_items * f->state_floats);
  return &f->base;
}
