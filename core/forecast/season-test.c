/* Whether a series repeats with a given season (see rnnstream/season-test.h). */
#include "config.h"

#include <math.h>

#include "rnnstream/forecast-transform.h"
#include "rnnstream/season-test.h"

double
rs_f_quantile (double p, double d1, double d2)
{
  /* Paulson: with u = F^(1/3), a = 1 - 2/(9 d2), b = 1 - 2/(9 d1),
   * (a u - b) / sqrt (2/(9 d1) + 2/(9 d2) u^2) is nearly standard
   * normal; solved for u (the root above b / a). */
  const double z = rs_normal_quantile (p), a = 1 - 2 / (9 * d2), b = 1 - 2 / (9 * d1);
  const double q1 = 2 / (9 * d1), q2 = 2 / (9 * d2);
  const double A = a * a - z * z * q2, disc = a * a * b * b - A * (b * b - z * z * q1);
  double u;

  g_return_val_if_fail (p > 0.5 && p < 1 && d1 > 0 && d2 > 0, NAN);
  if (A <= 0 || disc < 0)
    return INFINITY;
  u = (a * b + sqrt (disc)) / A;
  return u * u * u;
}

/* The centred moving average of one season at row t (h = m / 2 rows each
 * side; an even m weighs the two ends by a half), NaN when it reaches
 * outside the rows or over a NaN. */
static double
trend_at (const double *x, gsize n, gsize stride, guint m, gsize t)
{
  const gsize h = m / 2;
  double sum = 0;

  if (t < h || t + h >= n)
    return NAN;
  for (gsize i = t - h; i <= t + h; i++) {
    const double w = (m % 2 == 0 && (i == t - h || i == t + h)) ? 0.5 : 1;
    sum += w * x[i * stride];
  }
  return sum / m;
}

gboolean
rs_season_test (const double *x, gsize n, gsize stride, guint m, RsSeasonTest *out)
{
  g_autofree double *sum = g_new0 (double, m), *sum_sq = g_new0 (double, m);
  g_autofree gsize *count = g_new0 (gsize, m);
  double total = 0, between = 0, within = 0;
  gsize N = 0, seasons = G_MAXSIZE;

  g_return_val_if_fail (m >= 2 && stride >= 1, FALSE);
  for (gsize t = 0; t < n; t++) {
    const double d = x[t * stride] - trend_at (x, n, stride, m, t);
    if (!isfinite (d))
      continue;
    sum[t % m] += d;
    sum_sq[t % m] += d * d;
    count[t % m]++;
    total += d;
    N++;
  }
  for (guint k = 0; k < m; k++)
    seasons = MIN (seasons, count[k]);
  if (seasons < 3 || N < (gsize) m + 10)
    return FALSE;
  for (guint k = 0; k < m; k++) {
    const double mean_k = sum[k] / (double) count[k];
    between += (double) count[k] * (mean_k - total / (double) N) * (mean_k - total / (double) N);
    within += sum_sq[k] - (double) count[k] * mean_k * mean_k;
  }
  if (!(within > 0))
    return FALSE;
  out->season = m;
  out->F = (between / (m - 1)) / (within / (double) (N - m));
  out->critical = rs_f_quantile (0.99, m - 1, (double) (N - m));
  out->seasonal = out->F > out->critical;
  return TRUE;
}
