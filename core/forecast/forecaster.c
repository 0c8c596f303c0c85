/* RsForecaster: a forecast model over a stream of rows (see
 * rnnstream/forecaster.h).
 *
 * The network runs as an RsTrainable with one stream, one frame per row:
 * the same code that trained it, so that the forecasts are bit for bit
 * what training scored. The history of z is a window of the last keep
 * values in a buffer twice that long, slid back when full: a push touches
 * a constant amount of memory and allocates nothing.
 *
 * With online updates the state is not carried from row to row: every row
 * reruns the frames held from the anchor (the state before them), so that
 * the state a forecast comes from is always the current weights' over the
 * window (rs_forecaster_set_update has the steps). */
#include "config.h"

#include <math.h>
#include <string.h>

#include "forecaster-private.h"
#include "rnnstream/error.h"
#include "rnnstream/loss.h"

static void
updater_free (RsForecastUpdater *up)
{
  if (up == NULL)
    return;
  rs_optimizer_free (up->opt);
  g_free (up->params);
  g_free (up->initial);
  g_free (up->anchor);
  g_free (up->frames);
  g_free (up->targets);
  g_free (up->out);
  g_free (up->d_out);
  g_free (up);
}

void
rs_forecaster_free (RsForecaster *f)
{
  if (f == NULL)
    return;
  updater_free (f->update);
  rs_trainable_free (f->net);
  rs_forecast_transform_clear (&f->tr);
  g_free (f->model_digest);
  g_free (f->z);
  g_free (f->x);
  g_free (f->u);
  g_free (f->zhat);
  g_free (f);
}

RsForecaster *
rs_forecaster_new (const RsModel *model, GError **error)
{
  g_autoptr (RsForecaster) f = g_new0 (RsForecaster, 1);
  const char *json = rs_model_metadata (model, "forecast");
  const char *name = rs_model_display_name (model);

  if (json == NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_MODEL, "%s has no metadata 'forecast': it was not "
                 "trained by rnnstream train --task forecast", name);
    return NULL;
  }
  if (!rs_forecast_transform_from_json (&f->tr, json, name, error))
    return NULL;
  if (rs_model_input_size (model) != f->tr.n_inputs
      || rs_model_output_size (model) != f->tr.horizon) {
    g_set_error (error, RS_ERROR, RS_ERROR_MODEL, "%s: the network takes %u inputs and gives %u "
                 "outputs, but its metadata 'forecast' needs %u and %u", name,
                 rs_model_input_size (model), rs_model_output_size (model), f->tr.n_inputs,
                 f->tr.horizon);
    return NULL;
  }
  f->net = rs_trainable_new_from_model (model, error);
  if (f->net == NULL)
    return NULL;
  f->model_digest = g_strdup (rs_model_digest (model));
  f->n_params = rs_trainable_n_params (f->net);
  for (guint l = 0; l < rs_trainable_n_layers (f->net); l++)
    f->state_floats += rs_trainable_layer_state_size (f->net, l);
  f->lag = rs_forecast_transform_lag (&f->tr);
  f->keep = f->lag + 1;
  f->z = g_new (double, 2 * (gsize) f->keep);
  f->x = g_new (float, f->tr.n_inputs);
  f->u = g_new (float, f->tr.horizon);
  f->zhat = g_new (double, f->tr.horizon);
  /* The trainable sizes its buffers at its first forward: make that now
   * (the state is reset below), so that no row allocates. */
  memset (f->x, 0, f->tr.n_inputs * sizeof (float));
  if (!rs_trainable_forward (f->net, 1, f->x, NULL, f->u, error))
    return NULL;
  rs_forecaster_reset (f);
  return g_steal_pointer (&f);
}

const RsForecastTransform *
rs_forecaster_transform (const RsForecaster *f)
{
  return &f->tr;
}

guint
rs_forecaster_horizon (const RsForecaster *f)
{
  return f->tr.horizon;
}

/* The optimiser's moments back to zero. */
static void
zero_state (const char *name, float *data, gsize n, gpointer user_data)
{
  (void) name;
  (void) user_data;
  memset (data, 0, n * sizeof (float));
}

void
rs_forecaster_reset (RsForecaster *f)
{
  RsForecastUpdater *up = f->update;

  if (up != NULL) {
    memcpy (up->params, up->initial, f->n_params * sizeof (float));
    rs_trainable_set_params (f->net, up->params);
    rs_optimizer_foreach_state (up->opt, zero_state, NULL);
    rs_optimizer_set_steps (up->opt, 0);
    up->start = up->n_frames = 0;
  }
  rs_trainable_reset_state (f->net, 1);
  if (up != NULL)
    memcpy (up->anchor, rs_trainable_state (f->net), f->state_floats * sizeof (float));
  f->z_len = 0;
  f->rows = 0;
  for (guint h = 0; h < f->tr.horizon; h++)
    f->zhat[h] = NAN;
}

gboolean
rs_forecaster_set_update (RsForecaster *f, const RsForecastUpdate *update, GError **error)
{
  RsOptimizerOptions oo = RS_OPTIMIZER_OPTIONS_INIT;
  RsForecastUpdater *up;
  RsOptimizer *opt;
  guint W = update->window;
  const guint I = f->tr.n_inputs, H = f->tr.horizon;

  g_return_val_if_fail (f->rows == 0 && f->update == NULL, FALSE);
  if (update->steps < 1 || update->steps > 1000) {
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "update steps must be from 1 to 1000, "
                 "not %u", update->steps);
    return FALSE;
  }
  if (W == 0)
    W = f->tr.season > 1 ? 2 * f->tr.season : 24;
  if (W > 100000) {
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "the update window must be at most "
                 "100000 frames, not %u", W);
    return FALSE;
  }
  oo.lr = update->lr;
  opt = rs_optimizer_new (&oo, error);
  if (opt == NULL) {
    g_prefix_error (error, "update: ");
    return FALSE;
  }
  up = g_new0 (RsForecastUpdater, 1);
  up->opts = *update;
  up->opts.window = W;
  up->opt = opt;
  up->params = g_new (float, MAX (f->n_params, 1));
  rs_trainable_get_params (f->net, up->params);
  up->initial = g_memdup2 (up->params, MAX (f->n_params, 1) * sizeof (float));
  for (guint i = 0; i < rs_trainable_n_tensors (f->net); i++) {
    const RsTrainTensor *tt = rs_trainable_tensor (f->net, i);
    rs_optimizer_add (opt, tt->name, up->params + tt->offset,
                      rs_trainable_grads (f->net) + tt->offset, tt->n_elements, FALSE);
  }
  up->anchor = g_new (float, f->state_floats);
  up->frames = g_new0 (float, 2 * ((gsize) W + 1) * I);
  up->targets = g_new (float, (gsize) W * H);
  up->out = g_new (float, ((gsize) W + 1) * H);
  up->d_out = g_new (float, ((gsize) W + 1) * H);
  /* The trainable sizes its buffers for the longest block it has run: run
   * the longest once now (the state is reset below) so that no row
   * allocates. */
  if (!rs_trainable_forward (f->net, W + 1, up->frames, NULL, up->out, error)) {
    updater_free (up);
    rs_trainable_reset_state (f->net, 1);
    return FALSE;
  }
  f->update = up;
  /* The z history must reach back over the window and each frame's lag. */
  f->keep = f->lag + 1 + W;
  g_free (f->z);
  f->z = g_new (double, 2 * (gsize) f->keep);
  rs_forecaster_reset (f);
  return TRUE;
}

const RsForecastUpdate *
rs_forecaster_get_update (const RsForecaster *f)
{
  return f->update != NULL ? &f->update->opts : NULL;
}

/* One Adam step on the held frames but the newest (the window), whose
 * targets up->targets holds: forward from the anchor, masked MSE,
 * backward to the anchor. */
static gboolean
update_step (RsForecaster *f, guint n_window, GError **error)
{
  RsForecastUpdater *up = f->update;
  const RsLossFrames frames = { n_window, 1, f->tr.horizon, NULL, up->out };

  memcpy (rs_trainable_state (f->net), up->anchor, f->state_floats * sizeof (float));
  if (!rs_trainable_forward (f->net, n_window, up->frames + (gsize) up->start * f->tr.n_inputs,
                             NULL, up->out, error))
    return FALSE;
  rs_loss_mse (&frames, up->targets, up->d_out);
  rs_trainable_zero_grad (f->net);
  if (!rs_trainable_backward (f->net, up->d_out, NULL, NULL, error))
    return FALSE;
  rs_optimizer_clip_grad_norm (up->opt, RS_FORECAST_UPDATE_CLIP);
  rs_optimizer_step (up->opt);
  rs_trainable_set_params (f->net, up->params);
  return TRUE;
}

/* Row t with updates (see rs_forecaster_set_update); now points at z_t,
 * t >= lag. */
static gboolean
update_push (RsForecaster *f, const double *now, const double *covariates, GError **error)
{
  RsForecastUpdater *up = f->update;
  const guint I = f->tr.n_inputs, H = f->tr.horizon, W = up->opts.window;
  guint n_window, n;
  const float *first;

  if (up->start + up->n_frames == 2 * (W + 1)) {
    memmove (up->frames, up->frames + (gsize) up->start * I,
             (gsize) up->n_frames * I * sizeof (float));
    up->start = 0;
  }
  rs_forecast_transform_inputs (&f->tr, now, covariates,
                                up->frames + (gsize) (up->start + up->n_frames) * I);
  up->n_frames++;

  /* Frame s = t - d (d = n_window - i) knows the targets of steps h <= d:
   * their rows s + h <= t have come. */
  n_window = up->n_frames - 1;
  for (guint i = 0; i < n_window; i++) {
    const guint d = n_window - i;
    for (guint h = 1; h <= H; h++)
      up->targets[(gsize) i * H + h - 1] = h <= d ? rs_forecast_transform_target (&f->tr,
                                                                                  now - d, h)
                                                  : NAN;
  }
  for (guint k = 0; n_window > 0 && k < up->opts.steps; k++)
    if (!update_step (f, n_window, error))
      return FALSE;

  /* The window and frame t with the new weights. A full window lets its
   * first frame go: the state after it is where the next one starts. */
  memcpy (rs_trainable_state (f->net), up->anchor, f->state_floats * sizeof (float));
  first = up->frames + (gsize) up->start * I;
  n = up->n_frames;
  if (n == W + 1) {
    if (!rs_trainable_forward (f->net, 1, first, NULL, up->out, error))
      return FALSE;
    memcpy (up->anchor, rs_trainable_state (f->net), f->state_floats * sizeof (float));
    up->start++;
    up->n_frames--;
    first += I;
    n--;
  }
  if (!rs_trainable_forward (f->net, n, first, NULL, up->out, error))
    return FALSE;
  rs_forecast_transform_forecast (&f->tr, now, up->out + (gsize) (n - 1) * H, f->zhat, NULL);
  return TRUE;
}

gboolean
rs_forecaster_push (RsForecaster *f, double y, const double *covariates, GError **error)
{
  const guint keep = f->keep;
  double z;
  const double *now;

  g_return_val_if_fail (covariates != NULL || f->tr.n_covariates == 0, FALSE);
  if (!rs_forecast_transform_z (&f->tr, y, &z)) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, f->tr.log ? "the target is %g; the model "
                 "forecasts its logarithm and needs values > 0" : f->tr.multiplicative
                 ? "the target is %g; the model's season is multiplicative and needs values > 0"
                 : "the target is %g", y);
    return FALSE;
  }
  for (guint j = 0; j < f->tr.n_covariates; j++)
    if (!isfinite (covariates[j])) {
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "covariate %u is %g", j + 1, covariates[j]);
      return FALSE;
    }
  if (f->z_len == 2 * keep) {
    memmove (f->z, f->z + keep, keep * sizeof (double));
    f->z_len = keep;
  }
  f->z[f->z_len++] = z;
  f->rows++;
  if (f->rows <= f->lag)
    return TRUE;
  now = f->z + f->z_len - 1;
  if (f->update != NULL)
    return update_push (f, now, covariates, error);
  rs_forecast_transform_inputs (&f->tr, now, covariates, f->x);
  if (!rs_trainable_forward (f->net, 1, f->x, NULL, f->u, error))
    return FALSE;
  rs_forecast_transform_forecast (&f->tr, now, f->u, f->zhat, NULL);
  return TRUE;
}

gboolean
rs_forecaster_ready (const RsForecaster *f)
{
  return f->rows > f->lag;
}

guint64
rs_forecaster_rows (const RsForecaster *f)
{
  return f->rows;
}

void
rs_forecaster_forecast (const RsForecaster *f, double *forecast)
{
  for (guint h = 0; h < f->tr.horizon; h++)
    forecast[h] = f->tr.log ? exp (f->zhat[h]) : f->zhat[h];
}

gboolean
rs_forecaster_has_intervals (const RsForecaster *f)
{
  return f->tr.residual_std != NULL;
}

void
rs_forecaster_interval (const RsForecaster *f, double level, double *lo, double *hi)
{
  g_return_if_fail (f->tr.residual_std != NULL);
  rs_forecast_transform_interval (&f->tr, f->zhat, level, lo, hi);
}
