/* RsForecaster: a forecast model over a stream of rows (see
 * rnnstream/forecaster.h).
 *
 * The network runs as an RsTrainable with one stream, one frame per row:
 * the same code that trained it, so that the forecasts are bit for bit
 * what training scored. The history of z is a window of the last lag + 1
 * values in a buffer twice that long, slid back when full: a push touches
 * a constant amount of memory and allocates nothing. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "rnnstream/error.h"
#include "rnnstream/forecaster.h"
#include "rnnstream/trainable.h"

struct RsForecaster {
  RsTrainable *net;
  RsForecastTransform tr;
  guint lag;
  double *z;                 /* 2 * (lag + 1) slots */
  guint z_len;               /* values held */
  guint64 rows;
  float *x, *u;              /* one frame's inputs, outputs */
  double *zhat;              /* H: the last forecasts in z units */
};

void
rs_forecaster_free (RsForecaster *f)
{
  if (f == NULL)
    return;
  rs_trainable_free (f->net);
  rs_forecast_transform_clear (&f->tr);
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
  f->lag = rs_forecast_transform_lag (&f->tr);
  f->z = g_new (double, 2 * ((gsize) f->lag + 1));
  f->x = g_new (float, f->tr.n_inputs);
  f->u = g_new (float, f->tr.horizon);
  f->zhat = g_new (double, f->tr.horizon);
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

void
rs_forecaster_reset (RsForecaster *f)
{
  rs_trainable_reset_state (f->net, 1);
  f->z_len = 0;
  f->rows = 0;
  for (guint h = 0; h < f->tr.horizon; h++)
    f->zhat[h] = NAN;
}

gboolean
rs_forecaster_push (RsForecaster *f, double y, const double *covariates, GError **error)
{
  const guint keep = f->lag + 1;
  double z;
  const double *now;

  g_return_val_if_fail (covariates != NULL || f->tr.n_covariates == 0, FALSE);
  if (!rs_forecast_transform_z (&f->tr, y, &z)) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, f->tr.log ? "the target is %g; the model "
                 "forecasts its logarithm and needs values > 0" : "the target is %g", y);
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
