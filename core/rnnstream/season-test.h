/* Whether a series has the season its time column (or its user) suggests:
 * a daily series may or may not repeat weekly, and a forecaster that
 * copies last week's values into next week's forecasts when nothing
 * repeats adds last week's noise to every forecast.
 *
 * The test is a one-way analysis of variance of the detrended series on
 * the phase: the trend is the centred moving average of one season (2 x m
 * for an even m, as in a classical decomposition), D_t = x_t - trend_t,
 * and F is the variance between the phases' means of D over the variance
 * within them,
 *
 *   F = [sum_k n_k (mean_k - mean)^2 / (m - 1)] / [sum_t (D_t - mean_k(t))^2 / (N - m)],
 *
 * with N the rows that have a trend value. The season is kept when F
 * exceeds the 1% critical value of F(m - 1, N - m) (Paulson's
 * approximation: within 1% of the tables for N - m >= 10).
 * Rows whose value or moving-average window holds a NaN are left out.
 */
#ifndef RS_SEASON_TEST_H
#define RS_SEASON_TEST_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

typedef struct {
  guint season;     /* m, the season tested */
  double F;         /* the statistic above */
  double critical;  /* its 1% critical value */
  gboolean seasonal;
} RsSeasonTest;

/* Tests x[0..n) (stride: doubles between consecutive rows, >= 1) for a
 * season of m >= 2 rows. FALSE, with out untouched, when there are too
 * few rows to test (fewer than 3 seasons with a trend value, N - m < 10,
 * or a detrended series without variance): the caller keeps its season. */
RS_API gboolean rs_season_test (const double *x, gsize n, gsize stride, guint m,
                                RsSeasonTest *out);

/* The F(d1, d2) quantile at probability p (0.5 < p < 1), by Paulson's
 * approximation; exposed for the tests. */
RS_API double rs_f_quantile (double p, double d1, double d2);

G_END_DECLS

#endif
