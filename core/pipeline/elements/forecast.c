/* forecast: a forecast model (rnnstream/forecaster.h) over rows of a
 * series; after each row, the forecasts of steps 1..H and, when asked,
 * prediction intervals. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "../element.h"
#include "rnnstream/error.h"
#include "rnnstream/forecaster.h"

typedef struct {
  RsForecaster *forecaster;
  GArray *levels;            /* double, in (0, 1) */
  char **names;              /* the output columns */
  double *covariates, *values;
  guint H, n_cov;
  gboolean observed;         /* the row's target first */
} Forecast;

static const RsParamSpec forecast_params[] = {
  { "model", RS_PARAM_STRING, NULL, "model file trained by rnnstream train --task forecast", 1,
    0, NULL },
  { "intervals", RS_PARAM_STRING, "", "coverages of prediction intervals in percent, "
    "comma-separated, e.g. 80,95", 1, 0, NULL },
  { "observed", RS_PARAM_BOOL, "false", "put the row's target (as read) before the forecasts, "
    "for plotting and scoring", 1, 0, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
parse_levels (RsElement *self, Forecast *f, GError **error)
{
  g_autoptr (GArray) percent = NULL;

  f->levels = g_array_new (FALSE, FALSE, sizeof (double));
  if (!rs_element_is_set (self, "intervals"))
    return TRUE;
  percent = rs_element_numbers (self, "intervals", rs_element_string (self, "intervals"), error);
  if (percent == NULL)
    return FALSE;
  for (guint i = 0; i < percent->len; i++) {
    const double p = g_array_index (percent, double, i);
    double level = p / 100;
    if (!(p > 0 && p < 100))
      return rs_element_fail (self, error, "intervals: %g is not a coverage between 0 and 100 "
                              "(percent)", p);
    g_array_append_val (f->levels, level);
  }
  if (!rs_forecaster_has_intervals (f->forecaster))
    return rs_element_fail (self, error, "%s has no measured errors to make intervals from "
                            "(retrain it with this version of rnnstream train)",
                            rs_element_string (self, "model"));
  return TRUE;
}

static gboolean
forecast_start (RsElement *self, GError **error)
{
  Forecast *f = g_new0 (Forecast, 1);
  g_autoptr (RsModel) model = NULL;
  g_auto (GStrv) parts = NULL, names = NULL;
  const RsForecastTransform *tr;

  self->priv = f;
  model = rs_model_load (rs_element_string (self, "model"), NULL, error);
  if (model == NULL)
    return FALSE;
  f->forecaster = rs_forecaster_new (model, error);
  if (f->forecaster == NULL)
    return FALSE;
  tr = rs_forecaster_transform (f->forecaster);
  f->H = tr->horizon;
  f->n_cov = tr->n_covariates;
  if (!parse_levels (self, f, error))
    return FALSE;
  if (self->in.width != 0 && self->in.width != 1 + f->n_cov)
    return rs_element_fail (self, error, "%s takes the target and %u covariate%s per row (%u "
                            "values), but the stage before gives %u",
                            rs_element_string (self, "model"), f->n_cov, f->n_cov == 1 ? "" : "s",
                            1 + f->n_cov, self->in.width);
  self->in.width = 1 + f->n_cov;
  /* The column names keep the coverages as written ("80", "97.5"). */
  parts = f->levels->len > 0 ? g_strsplit (rs_element_string (self, "intervals"), ",", -1)
                             : g_new0 (char *, 1);
  for (guint i = 0; parts[i] != NULL; i++)
    g_strstrip (parts[i]);
  names = rs_forecast_column_names (f->H, (const char *const *) parts);
  f->observed = rs_element_bool (self, "observed");
  f->names = g_new0 (char *, g_strv_length (names) + 2);
  if (f->observed)
    f->names[0] = g_strdup ("observed");
  for (guint i = 0; names[i] != NULL; i++)
    f->names[i + f->observed] = g_strdup (names[i]);
  f->covariates = g_new0 (double, MAX (f->n_cov, 1));
  f->values = g_new (double, 2 * (gsize) f->H);
  self->out.width = f->observed + f->H * (1 + 2 * f->levels->len);
  self->out.rate = self->in.rate;
  self->out.names = (const char *const *) f->names;
  self->out.label_name = "time";
  return TRUE;
}

static gboolean
forecast_process (RsElement *self, const RsBlock *in, RsBlock *out, GError **error)
{
  Forecast *f = self->priv;
  g_autoptr (GError) local = NULL;

  for (gsize r = 0; r < in->n; r++) {
    const float *row = in->data + r * in->width;
    float *o;

    for (guint j = 0; j < f->n_cov; j++)
      f->covariates[j] = row[1 + j];
    if (!rs_forecaster_push (f->forecaster, row[0], f->covariates, &local))
      return rs_element_fail (self, error, "row %" G_GINT64_FORMAT "%s%s%s: %s", in->index[r] + 1,
                              in->labels[r] ? " (" : "", in->labels[r] ? in->labels[r] : "",
                              in->labels[r] ? ")" : "", local->message);
    o = rs_block_append (out, NULL, in->index[r], in->labels[r]);
    if (f->observed)
      *o++ = row[0];
    rs_forecaster_forecast (f->forecaster, f->values);
    for (guint h = 0; h < f->H; h++)
      o[h] = (float) f->values[h];
    for (guint i = 0; i < f->levels->len; i++) {
      float *lo = o + f->H * (1 + 2 * i), *hi = lo + f->H;
      if (rs_forecaster_ready (f->forecaster)) {
        rs_forecaster_interval (f->forecaster, g_array_index (f->levels, double, i), f->values,
                                f->values + f->H);
        for (guint h = 0; h < f->H; h++) {
          lo[h] = (float) f->values[h];
          hi[h] = (float) f->values[f->H + h];
        }
      } else {
        for (guint h = 0; h < 2 * f->H; h++)
          lo[h] = NAN;
      }
    }
  }
  return TRUE;
}

static gboolean
forecast_finish (RsElement *self, RsBlock *out, GError **error)
{
  (void) self;
  (void) out;
  (void) error;
  return TRUE;
}

static void
forecast_stop (RsElement *self)
{
  Forecast *f = self->priv;

  if (f == NULL)
    return;
  rs_forecaster_free (f->forecaster);
  if (f->levels != NULL)
    g_array_unref (f->levels);
  g_strfreev (f->names);
  g_free (f->covariates);
  g_free (f->values);
  g_free (f);
  self->priv = NULL;
}

static void
forecast_reset (RsElement *self)
{
  Forecast *f = self->priv;

  rs_forecaster_reset (f->forecaster);
}

const RsElementClass rs_forecast_class = {
  .type = "forecast",
  .description = "forecasts steps 1..H after each row (target first, then the model's "
                 "covariates), with prediction intervals on request",
  .role = RS_ELEMENT_FILTER,
  .params = forecast_params,
  .start = forecast_start,
  .process = forecast_process,
  .finish = forecast_finish,
  .stop = forecast_stop,
  .reset = forecast_reset,
};
