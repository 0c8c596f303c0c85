/* Forecast accuracy: the measures of the M4 competition (Makridakis,
 * Spiliotis and Assimakopoulos, "The M4 Competition: 100,000 time series
 * and 61 forecasting methods", IJF 36(1), 2020) and the benchmark
 * forecasts they are read against. For actual values y and forecasts f:
 *
 *   MASE   mean |y - f| / s, s the in-sample scale of the training part
 *          x_0 .. x_{n-1} the forecasts were made from:
 *            s = mean over t = m .. n-1 of |x_t - x_{t-m}|
 *          (the seasonal naive forecast's one-step error in-sample; lag 1
 *          when the season m is 1). Below 1 the forecasts beat what
 *          seasonal naive did one step ahead on the training part.
 *   sMAPE  mean of 200 |y - f| / (|y| + |f|), in percent; a point with
 *          y = f = 0 counts 0.
 *   RMSE   sqrt (mean (y - f)^2), in the data's units.
 *
 * Over several forecasts (the origins of a backtest, several series) the
 * measures pool their points: MASE is the mean of |y - f| / s with each
 * point's own s, so it is also the mean of the per-forecast MASEs when
 * each has as many points; sMAPE likewise; RMSE is the root of the pooled
 * mean square, not a mean of RMSEs. RsForecastAccuracy accumulates them.
 *
 * Measures of no points are NaN; so is MASE with a scale that is not > 0
 * (a training part that never changes over a season) or not finite.
 * Nothing here allocates; every function is safe from any thread.
 */
#ifndef RS_FORECAST_METRICS_H
#define RS_FORECAST_METRICS_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

/* Sums over the points added so far; zero-initialised is empty. */
typedef struct {
  gsize n;
  double abs_scaled;           /* sum |y - f| / s */
  double smape;                /* sum 200 |y - f| / (|y| + |f|) */
  double squared;              /* sum (y - f)^2 */
} RsForecastAccuracy;

/* The MASE scale s of the training part train[0 .. n) with season m (0 is
 * taken as 1); NaN when n <= m (no seasonal difference). */
RS_API double rs_forecast_mase_scale (const double *train, gsize n, guint season);

/* The measures of n forecasts of actual (the scale as above). */
RS_API double rs_forecast_mase (const double *actual, const double *forecast, gsize n,
                                double scale);
RS_API double rs_forecast_smape (const double *actual, const double *forecast, gsize n);
RS_API double rs_forecast_rmse (const double *actual, const double *forecast, gsize n);

/* Adds one point: an actual value, its forecast and the scale of the
 * training part it was forecast from. */
RS_API void rs_forecast_accuracy_add (RsForecastAccuracy *acc, double actual, double forecast,
                                      double scale);
/* Adds every point of other to acc. */
RS_API void rs_forecast_accuracy_merge (RsForecastAccuracy *acc,
                                        const RsForecastAccuracy *other);
RS_API double rs_forecast_accuracy_mase (const RsForecastAccuracy *acc);
RS_API double rs_forecast_accuracy_smape (const RsForecastAccuracy *acc);
RS_API double rs_forecast_accuracy_rmse (const RsForecastAccuracy *acc);

/* The seasonal naive forecasts of steps 1..horizon after history[0 .. n):
 * step h repeats the value one season back from it, history[n - 1 + h -
 * m * ceil(h / m)]. Season 1 (or 0) is the naive forecast, the last value
 * for every step. Needs n >= m (and n >= 1); writes horizon values. */
RS_API void rs_forecast_seasonal_naive (const double *history, gsize n, guint season,
                                        guint horizon, double *forecast);

G_END_DECLS

#endif
