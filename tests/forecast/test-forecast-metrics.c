/* Forecast accuracy: MASE with its in-sample seasonal scale, sMAPE, RMSE,
 * pooled over several forecasts, and the seasonal naive benchmark, each
 * against values worked out by hand (in the comments). */
#include <math.h>

#include <glib.h>
#include <rnnstream/forecast-metrics.h>

/* A training part with a season of 2 and its seasonal differences:
 * |2-1| |5-3| |4-2| |6-5| |5-4| |8-6| = 1 2 2 1 1 2, mean 9/6 = 1.5;
 * its first differences 2 1 3 1 2 1 3, mean 13/7. */
static const double train[] = { 1, 3, 2, 5, 4, 6, 5, 8 };

static void
test_scale (void)
{
  g_assert_cmpfloat_with_epsilon (rs_forecast_mase_scale (train, 8, 2), 1.5, 1e-15);
  g_assert_cmpfloat_with_epsilon (rs_forecast_mase_scale (train, 8, 1), 13.0 / 7, 1e-15);
  /* Season 0 is season 1: lag 1. */
  g_assert_cmpfloat_with_epsilon (rs_forecast_mase_scale (train, 8, 0), 13.0 / 7, 1e-15);
  /* Lag 3: |5-1| |4-3| |6-2| |5-5| |8-4| = 4 1 4 0 4, mean 13/5. */
  g_assert_cmpfloat_with_epsilon (rs_forecast_mase_scale (train, 8, 3), 13.0 / 5, 1e-15);
  /* No seasonal difference at all. */
  g_assert_true (isnan (rs_forecast_mase_scale (train, 2, 2)));
  g_assert_true (isnan (rs_forecast_mase_scale (NULL, 0, 1)));
}

static void
test_measures (void)
{
  /* Errors 7-5 = 2 and 9-10 = -1. */
  const double y[] = { 7, 9 }, f[] = { 5, 10 };

  /* MASE: mean |e| = 1.5, over the scale 1.5: 1. */
  g_assert_cmpfloat_with_epsilon (rs_forecast_mase (y, f, 2, 1.5), 1.0, 1e-15);
  /* With the lag-1 scale 13/7: 1.5 * 7 / 13. */
  g_assert_cmpfloat_with_epsilon (rs_forecast_mase (y, f, 2, 13.0 / 7), 10.5 / 13, 1e-15);
  /* sMAPE: (200 * 2 / 12 + 200 * 1 / 19) / 2 = 16.666... + 5.263157... */
  g_assert_cmpfloat_with_epsilon (rs_forecast_smape (y, f, 2), 100.0 / 6 + 100.0 / 19, 1e-12);
  /* RMSE: sqrt ((4 + 1) / 2). */
  g_assert_cmpfloat_with_epsilon (rs_forecast_rmse (y, f, 2), sqrt (2.5), 1e-15);
  /* A perfect forecast of zeros: sMAPE counts 0, not 0/0. */
  {
    const double zero[] = { 0, 0 };
    g_assert_cmpfloat (rs_forecast_smape (zero, zero, 2), ==, 0);
    g_assert_cmpfloat (rs_forecast_rmse (zero, zero, 2), ==, 0);
  }
  /* sMAPE is symmetric in y and f, and 200 when one of them is 0. */
  g_assert_cmpfloat_with_epsilon (rs_forecast_smape (f, y, 2), 100.0 / 6 + 100.0 / 19, 1e-12);
  {
    const double a[] = { 4 }, b[] = { 0 };
    g_assert_cmpfloat_with_epsilon (rs_forecast_smape (a, b, 1), 200, 1e-12);
  }
  /* Nothing to measure, or no scale: NaN. */
  g_assert_true (isnan (rs_forecast_mase (y, f, 0, 1.5)));
  g_assert_true (isnan (rs_forecast_smape (NULL, NULL, 0)));
  g_assert_true (isnan (rs_forecast_rmse (NULL, NULL, 0)));
  g_assert_true (isnan (rs_forecast_mase (y, f, 2, 0)));
  g_assert_true (isnan (rs_forecast_mase (y, f, 2, NAN)));
}

static void
test_pooled (void)
{
  /* Two forecasts of two points each, from training parts of scales 1.5
   * and 0.5: errors 2, -1 and 0.5, 0.5.
   *   MASE  (2/1.5 + 1/1.5 + 0.5/0.5 + 0.5/0.5) / 4 = (2 + 2) / 4 = 1,
   *         the mean of the two forecasts' MASEs 1 and 1;
   *   sMAPE (200*2/12 + 200*1/19 + 200*0.5/6.5 + 200*0.5/7.5) / 4;
   *   RMSE  sqrt ((4 + 1 + 0.25 + 0.25) / 4) = sqrt (1.375), not the mean
   *         of sqrt (2.5) and 0.5. */
  const double y1[] = { 7, 9 }, f1[] = { 5, 10 }, y2[] = { 3.5, 4 }, f2[] = { 3, 3.5 };
  RsForecastAccuracy a = { 0 }, b = { 0 }, all = { 0 };

  for (guint i = 0; i < 2; i++) {
    rs_forecast_accuracy_add (&a, y1[i], f1[i], 1.5);
    rs_forecast_accuracy_add (&b, y2[i], f2[i], 0.5);
  }
  g_assert_cmpfloat_with_epsilon (rs_forecast_accuracy_mase (&b), 1.0, 1e-15);
  rs_forecast_accuracy_merge (&all, &a);
  rs_forecast_accuracy_merge (&all, &b);
  g_assert_cmpuint (all.n, ==, 4);
  g_assert_cmpfloat_with_epsilon (rs_forecast_accuracy_mase (&all), 1.0, 1e-15);
  g_assert_cmpfloat_with_epsilon (rs_forecast_accuracy_smape (&all),
                                  (400.0 / 12 + 200.0 / 19 + 100 / 6.5 + 100 / 7.5) / 4, 1e-12);
  g_assert_cmpfloat_with_epsilon (rs_forecast_accuracy_rmse (&all), sqrt (1.375), 1e-15);
  /* One point without a scale makes the pooled MASE NaN, the others not. */
  rs_forecast_accuracy_add (&all, 1, 2, 0);
  g_assert_true (isnan (rs_forecast_accuracy_mase (&all)));
  g_assert_false (isnan (rs_forecast_accuracy_smape (&all)));
  g_assert_false (isnan (rs_forecast_accuracy_rmse (&all)));
  {
    const RsForecastAccuracy empty = { 0 };
    g_assert_true (isnan (rs_forecast_accuracy_mase (&empty)));
    g_assert_true (isnan (rs_forecast_accuracy_rmse (&empty)));
  }
}

static void
test_seasonal_naive (void)
{
  double f[5];

  /* m = 2 after ... 6, 5, 8: steps 1, 2, 3, 4 repeat 5, 8, 5, 8. */
  rs_forecast_seasonal_naive (train, 8, 2, 4, f);
  g_assert_cmpfloat (f[0], ==, 5);
  g_assert_cmpfloat (f[1], ==, 8);
  g_assert_cmpfloat (f[2], ==, 5);
  g_assert_cmpfloat (f[3], ==, 8);
  /* m = 3 after 6, 5, 8: 6, 5, 8, 6, 5. */
  rs_forecast_seasonal_naive (train, 8, 3, 5, f);
  g_assert_cmpfloat (f[0], ==, 6);
  g_assert_cmpfloat (f[1], ==, 5);
  g_assert_cmpfloat (f[2], ==, 8);
  g_assert_cmpfloat (f[3], ==, 6);
  g_assert_cmpfloat (f[4], ==, 5);
  /* Naive (m = 1, and 0 taken as 1): the last value throughout. */
  rs_forecast_seasonal_naive (train, 8, 1, 3, f);
  g_assert_cmpfloat (f[0], ==, 8);
  g_assert_cmpfloat (f[2], ==, 8);
  rs_forecast_seasonal_naive (train, 1, 0, 2, f);
  g_assert_cmpfloat (f[1], ==, 1);
  /* Exactly one season of history is enough. */
  rs_forecast_seasonal_naive (train, 3, 3, 4, f);
  g_assert_cmpfloat (f[0], ==, 1);
  g_assert_cmpfloat (f[3], ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/forecast-metrics/scale", test_scale);
  g_test_add_func ("/forecast-metrics/measures", test_measures);
  g_test_add_func ("/forecast-metrics/pooled", test_pooled);
  g_test_add_func ("/forecast-metrics/seasonal-naive", test_seasonal_naive);
  return g_test_run ();
}
