/* Forecast accuracy measures and benchmarks (see
 * rnnstream/forecast-metrics.h). The sums run in point order, so that a
 * backtest's numbers do not depend on anything but its points. */
#include "config.h"

#include <math.h>

#include "rnnstream/forecast-metrics.h"

double
rs_forecast_mase_scale (const double *train, gsize n, guint season)
{
  const gsize lag = MAX (season, 1);
  double sum = 0;

  g_return_val_if_fail (train != NULL || n == 0, NAN);
  if (n <= lag)
    return NAN;
  for (gsize t = lag; t < n; t++)
    sum += fabs (train[t] - train[t - lag]);
  return sum / (double) (n - lag);
}

void
rs_forecast_accuracy_add (RsForecastAccuracy *acc, double actual, double forecast, double scale)
{
  const double e = fabs (actual - forecast), size = fabs (actual) + fabs (forecast);

  g_return_if_fail (acc != NULL);
  acc->n++;
  /* A scale of 0 has no meaning, and dividing by it would hide that as
   * an infinity; NaN carries it to the mean. */
  acc->abs_scaled += scale > 0 && isfinite (scale) ? e / scale : NAN;
  acc->smape += size > 0 ? 200 * e / size : 0;
  acc->squared += e * e;
}

void
rs_forecast_accuracy_merge (RsForecastAccuracy *acc, const RsForecastAccuracy *other)
{
  g_return_if_fail (acc != NULL && other != NULL);
  acc->n += other->n;
  acc->abs_scaled += other->abs_scaled;
  acc->smape += other->smape;
  acc->squared += other->squared;
}

double
rs_forecast_accuracy_mase (const RsForecastAccuracy *acc)
{
  g_return_val_if_fail (acc != NULL, NAN);
  return acc->n > 0 ? acc->abs_scaled / (double) acc->n : NAN;
}

double
rs_forecast_accuracy_smape (const RsForecastAccuracy *acc)
{
  g_return_val_if_fail (acc != NULL, NAN);
  return acc->n > 0 ? acc->smape / (double) acc->n : NAN;
}

double
rs_forecast_accuracy_rmse (const RsForecastAccuracy *acc)
{
  g_return_val_if_fail (acc != NULL, NAN);
  return acc->n > 0 ? sqrt (acc->squared / (double) acc->n) : NAN;
}

static RsForecastAccuracy
accuracy_of (const double *actual, const double *forecast, gsize n, double scale)
{
  RsForecastAccuracy acc = { 0 };

  for (gsize i = 0; i < n; i++)
    rs_forecast_accuracy_add (&acc, actual[i], forecast[i], scale);
  return acc;
}

double
rs_forecast_mase (const double *actual, const double *forecast, gsize n, double scale)
{
  RsForecastAccuracy acc;

  g_return_val_if_fail ((actual != NULL && forecast != NULL) || n == 0, NAN);
  acc = accuracy_of (actual, forecast, n, scale);
  return rs_forecast_accuracy_mase (&acc);
}

double
rs_forecast_smape (const double *actual, const double *forecast, gsize n)
{
  RsForecastAccuracy acc;

  g_return_val_if_fail ((actual != NULL && forecast != NULL) || n == 0, NAN);
  acc = accuracy_of (actual, forecast, n, 1);
  return rs_forecast_accuracy_smape (&acc);
}

double
rs_forecast_rmse (const double *actual, const double *forecast, gsize n)
{
  RsForecastAccuracy acc;

  g_return_val_if_fail ((actual != NULL && forecast != NULL) || n == 0, NAN);
  acc = accuracy_of (actual, forecast, n, 1);
  return rs_forecast_accuracy_rmse (&acc);
}

void
rs_forecast_seasonal_naive (const double *history, gsize n, guint season, guint horizon,
                            double *forecast)
{
  const gsize m = MAX (season, 1);

  g_return_if_fail (history != NULL && forecast != NULL);
  g_return_if_fail (n >= m);
  for (gsize h = 1; h <= horizon; h++)
    forecast[h - 1] = history[n - 1 + h - m * ((h + m - 1) / m)];
}
