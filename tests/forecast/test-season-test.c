/* The season test: its F quantiles against the tables, a season found
 * under a trend and noise, none found in noise on a trend or in a random
 * walk, and too few rows to say. */
#include <math.h>

#include <glib.h>
#include <rnnstream/season-test.h>

static void
test_f_quantile (void)
{
  /* 1% critical values of F(d1, d2) from the tables. */
  static const double table[][3] = { { 3, 100, 3.984 }, { 5, 20, 4.103 }, { 1, 30, 7.562 },
                                     { 10, 60, 2.632 }, { 2, 10, 7.559 } };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
    const double q = rs_f_quantile (0.99, table[i][0], table[i][1]);
    g_assert_cmpfloat (fabs (q / table[i][2] - 1), <, 0.01);
  }
}

/* n rows of a trend, a season of m (amplitude amp) and Gaussian noise
 * (Box-Muller); walk: the noise accumulates. */
static double *
series (gsize n, guint m, double amp, gboolean walk, guint32 seed)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (seed);
  double *x = g_new (double, n), level = 0;

  for (gsize t = 0; t < n; t++) {
    const double e = sqrt (-2 * log (1 - g_rand_double (rng)))
                     * cos (2 * G_PI * g_rand_double (rng));
    level = walk ? level + e : e;
    x[t] = 50 + 0.3 * (double) t + amp * sin (2 * G_PI * (double) (t % m) / m) + level;
  }
  return x;
}

static void
test_decisions (void)
{
  RsSeasonTest r;
  guint false_alarms = 0;

  for (guint32 seed = 1; seed <= 20; seed++) {
    g_autofree double *seasonal = series (120, 12, 2, FALSE, seed);
    g_autofree double *noise = series (150, 7, 0, FALSE, seed);
    g_autofree double *walk = series (150, 7, 0, TRUE, seed);
    g_assert_true (rs_season_test (seasonal, 120, 1, 12, &r));
    g_assert_true (r.seasonal);
    g_assert_cmpfloat (r.F, >, r.critical);
    g_assert_true (rs_season_test (noise, 150, 1, 7, &r));
    false_alarms += r.seasonal;
    g_assert_true (rs_season_test (walk, 150, 1, 7, &r));
    false_alarms += r.seasonal;
  }
  /* At 1%, 40 tests without a season should hardly ever say there is one. */
  g_assert_cmpuint (false_alarms, <=, 2);
}

static void
test_stride_and_too_few (void)
{
  g_autofree double *x = series (60, 4, 3, FALSE, 7);
  double pairs[120];
  RsSeasonTest a, b = { 0 };

  /* Every other double: the same answer as the packed series. */
  for (guint t = 0; t < 60; t++) {
    pairs[2 * t] = x[t];
    pairs[2 * t + 1] = NAN;
  }
  g_assert_true (rs_season_test (x, 60, 1, 4, &a));
  g_assert_true (rs_season_test (pairs, 60, 2, 4, &b));
  g_assert_cmpfloat (a.F, ==, b.F);
  /* 3 seasons of 4: too few to say; out untouched. */
  b.F = -1;
  g_assert_false (rs_season_test (x, 12, 1, 4, &b));
  g_assert_cmpfloat (b.F, ==, -1);
  /* A NaN row is left out, not spread. */
  x[30] = NAN;
  g_assert_true (rs_season_test (x, 60, 1, 4, &a));
  g_assert_true (isfinite (a.F) && a.seasonal);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/season-test/f-quantile", test_f_quantile);
  g_test_add_func ("/season-test/decisions", test_decisions);
  g_test_add_func ("/season-test/stride-and-too-few", test_stride_and_too_few);
  return g_test_run ();
}
