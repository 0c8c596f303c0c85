/* Time-series feature stages against hand-computed values, and the
 * differencing inverse against the forward transform. */
#include <math.h>
#include <string.h>

#include <rnnstream/error.h>
#include <rnnstream/series-features.h>

static void
assert_row (const double *got, const double *expected, guint n, double tolerance)
{
  g_assert_nonnull (got);
  for (guint i = 0; i < n; i++)
    if (fabs (got[i] - expected[i]) > tolerance * MAX (1.0, fabs (expected[i])))
      g_error ("value %u: got %.17g, expected %.17g", i, got[i], expected[i]);
}

/* Lag window */

static void
test_lag_window (void)
{
  const double rows[][2] = { { 1, 2 }, { 3, 4 }, { 5, 6 }, { 7, 8 } };
  g_autoptr (RsLagWindow) w = rs_lag_window_new (2, 3, FALSE);

  g_assert_cmpuint (rs_lag_window_width_out (w), ==, 6);
  g_assert_null (rs_lag_window_push (w, rows[0]));
  g_assert_null (rs_lag_window_push (w, rows[1]));
  assert_row (rs_lag_window_push (w, rows[2]), (const double[]) { 1, 2, 3, 4, 5, 6 }, 6, 0);
  assert_row (rs_lag_window_push (w, rows[3]), (const double[]) { 3, 4, 5, 6, 7, 8 }, 6, 0);
  assert_row (rs_lag_window_push (w, rows[0]), (const double[]) { 5, 6, 7, 8, 1, 2 }, 6, 0);
  rs_lag_window_reset (w);
  g_assert_null (rs_lag_window_push (w, rows[3]));
}

static void
test_lag_window_padded (void)
{
  const double rows[][2] = { { 1, 2 }, { 3, 4 }, { 5, 6 }, { 7, 8 } };
  g_autoptr (RsLagWindow) w = rs_lag_window_new (2, 3, TRUE);
  g_autoptr (RsLagWindow) one = rs_lag_window_new (2, 1, FALSE);

  assert_row (rs_lag_window_push (w, rows[0]), (const double[]) { 0, 0, 0, 0, 1, 2 }, 6, 0);
  assert_row (rs_lag_window_push (w, rows[1]), (const double[]) { 0, 0, 1, 2, 3, 4 }, 6, 0);
  assert_row (rs_lag_window_push (w, rows[2]), (const double[]) { 1, 2, 3, 4, 5, 6 }, 6, 0);
  rs_lag_window_reset (w);
  assert_row (rs_lag_window_push (w, rows[3]), (const double[]) { 0, 0, 0, 0, 7, 8 }, 6, 0);
  assert_row (rs_lag_window_push (one, rows[3]), rows[3], 2, 0);
}

/* Differencing */

static void
test_difference (void)
{
  /* x = t^2: first differences 2t - 1, second differences 2. */
  const double x[] = { 0, 1, 4, 9, 16, 25, 36 };
  g_autoptr (RsDifference) d1 = rs_difference_new (1, 1, 0);
  g_autoptr (RsDifference) d2 = rs_difference_new (1, 2, 0);
  g_autoptr (RsDifference) s4 = rs_difference_new (1, 0, 4);
  g_autoptr (RsDifference) s4d1 = rs_difference_new (1, 1, 4);

  for (guint t = 0; t < G_N_ELEMENTS (x); t++) {
    const double *y1 = rs_difference_push (d1, &x[t]);
    const double *y2 = rs_difference_push (d2, &x[t]);
    const double *ys = rs_difference_push (s4, &x[t]);
    const double *ysd = rs_difference_push (s4d1, &x[t]);

    if (t < 1)
      g_assert_null (y1);
    else
      g_assert_cmpfloat (*y1, ==, 2.0 * t - 1);
    if (t < 2)
      g_assert_null (y2);
    else
      g_assert_cmpfloat (*y2, ==, 2);
    /* t^2 - (t - 4)^2 = 8t - 16, and its first difference 8. */
    if (t < 4)
      g_assert_null (ys);
    else
      g_assert_cmpfloat (*ys, ==, 8.0 * t - 16);
    if (t < 5)
      g_assert_null (ysd);
    else
      g_assert_cmpfloat (*ysd, ==, 8);
  }
  g_assert_cmpuint (rs_difference_width_out (s4d1), ==, 1);
  rs_difference_reset (d1);
  g_assert_false (rs_difference_ready (d1));
  g_assert_null (rs_difference_push (d1, &x[3]));
  g_assert_true (rs_difference_ready (d1));
  g_assert_cmpfloat (*rs_difference_push (d1, &x[0]), ==, -9);
}

static void
test_difference_columns (void)
{
  const double rows[][2] = { { 1, 100 }, { 2, 90 }, { 4, 70 } };
  g_autoptr (RsDifference) d = rs_difference_new (2, 1, 0);

  g_assert_null (rs_difference_push (d, rows[0]));
  assert_row (rs_difference_push (d, rows[1]), (const double[]) { 1, -10 }, 2, 0);
  assert_row (rs_difference_push (d, rows[2]), (const double[]) { 2, -20 }, 2, 0);
}

/* invert(y) must give back the x whose push gives y, for every order and
 * lag, on a random walk with a large level (where naive arithmetic would
 * lose digits). */
static void
test_difference_round_trip (void)
{
  const guint orders[] = { 0, 1, 2, 4 };
  const guint lags[] = { 0, 1, 4, 12 };

  for (guint oi = 0; oi < G_N_ELEMENTS (orders); oi++) {
    for (guint li = 0; li < G_N_ELEMENTS (lags); li++) {
      g_autoptr (RsDifference) d = rs_difference_new (3, orders[oi], lags[li]);
      double x[3] = { 1e6, -5, 0.25 };

      for (guint t = 0; t < 200; t++) {
        for (guint c = 0; c < 3; c++)
          x[c] += g_test_rand_double_range (-1, 1);
        if (rs_difference_ready (d)) {
          g_autoptr (RsDifference) copy = rs_difference_copy (d);
          const double *y = rs_difference_push (copy, x);
          double level[3];

          g_assert_nonnull (y);
          rs_difference_invert (d, y, level);
          assert_row (level, x, 3, 1e-12);
        } else {
          g_assert_cmpuint (t, <, orders[oi] + lags[li]);
        }
        g_assert_true ((rs_difference_push (d, x) != NULL) == (t >= orders[oi] + lags[li]));
      }
    }
  }
}

/* Forecasting ahead on a copy: a seasonal series with a trend, x = t +
 * p[t % 12], has (1 - B)(1 - B^12) x = 0, so forecasting zeros must
 * continue it exactly, and the original stage must not move. */
static void
test_difference_forecast (void)
{
  const double p[12] = { 3, -1, 4, 1, -5, 9, 2, -6, 5, 3, -5, 8 };
  g_autoptr (RsDifference) d = rs_difference_new (1, 1, 12);
  g_autoptr (RsDifference) ahead = NULL;
  double x;
  const double zero = 0;

  for (guint t = 0; t < 30; t++) {
    const double *y;

    x = t + p[t % 12];
    y = rs_difference_push (d, &x);
    if (y != NULL)
      g_assert_cmpfloat (*y, ==, 0);
  }
  ahead = rs_difference_copy (d);
  for (guint t = 30; t < 60; t++) {
    rs_difference_invert (ahead, &zero, &x);
    g_assert_cmpfloat (x, ==, t + p[t % 12]);
    g_assert_cmpfloat (*rs_difference_push (ahead, &x), ==, 0);
  }
  /* The original still continues from t = 30. */
  rs_difference_invert (d, &zero, &x);
  g_assert_cmpfloat (x, ==, 30 + p[30 % 12]);
}

static void
test_difference_identity (void)
{
  g_autoptr (RsDifference) d = rs_difference_new (2, 0, 0);
  const double row[2] = { 1.5, -2 };
  double back[2];

  g_assert_true (rs_difference_ready (d));
  rs_difference_invert (d, row, back);
  assert_row (back, row, 2, 0);
  assert_row (rs_difference_push (d, row), row, 2, 0);
}

/* Standardisation */

static void
test_standardise_fixed (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsStandardise) s = rs_standardise_new_fixed (2, (const double[]) { 1, -2 },
                                                          (const double[]) { 2, 0.5 }, &error);
  const double row[2] = { 5, -1 };
  double back[2];

  g_assert_no_error (error);
  assert_row (rs_standardise_push (s, row), (const double[]) { 2, 2 }, 2, 0);
  rs_standardise_invert (s, (const double[]) { 2, 2 }, back);
  assert_row (back, row, 2, 0);
  rs_standardise_reset (s);      /* fixed: no change */
  assert_row (rs_standardise_mean (s), (const double[]) { 1, -2 }, 2, 0);
  assert_row (rs_standardise_std (s), (const double[]) { 2, 0.5 }, 2, 0);
  g_assert_cmpuint (rs_standardise_width_out (s), ==, 2);
}

static void
test_standardise_refused (void)
{
  const struct {
    double mean, std;
    const char *message;
  } cases[] = {
    { 0, 0, "std 2 is 0: it must be finite and positive" },
    { 0, -1, "std 2 is -1: it must be finite and positive" },
    { 0, INFINITY, "std 2 is inf: it must be finite and positive" },
    { NAN, 1, "mean 2 is not finite" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    const double mean[2] = { 0, cases[i].mean }, std[2] = { 1, cases[i].std };

    g_assert_null (rs_standardise_new_fixed (2, mean, std, &error));
    g_assert_error (error, RS_ERROR, RS_ERROR_FAILED);
    g_assert_cmpstr (error->message, ==, cases[i].message);
  }
}

/* 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population std 2 at the end. Each
 * output uses the estimates with its own row in (Python, exact sums). */
static void
test_standardise_running (void)
{
  const double x[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
  const double z[] = { 0.0, 1.0, 0.7071067811865474, 0.5773502691896258, 1.2247448713915894,
                       1.0, 1.8371173070873836, 2.0 };
  g_autoptr (RsStandardise) s = rs_standardise_new_running (2);
  double back[2];

  for (guint t = 0; t < G_N_ELEMENTS (x); t++) {
    /* Column 2 is the same series on a level of 1e9, where the sum of
     * squares minus the squared sum (both near 1e19, 2048 apart at one
     * ulp) would have no digits left. Welford keeps all but the ones a
     * mean of 1e9 cannot hold: x - mean is good to ulp(1e9) = 1.2e-7. */
    const double row[2] = { x[t], 1e9 + x[t] };
    const double *out = rs_standardise_push (s, row);

    assert_row (out, &z[t], 1, 1e-15);
    assert_row (out + 1, &z[t], 1, 1e-6);
  }
  assert_row (rs_standardise_mean (s), (const double[]) { 5, 1e9 + 5 }, 2, 1e-15);
  assert_row (rs_standardise_std (s), (const double[]) { 2 }, 1, 1e-15);
  assert_row (rs_standardise_std (s) + 1, (const double[]) { 2 }, 1, 1e-7);
  rs_standardise_invert (s, (const double[]) { 1, -1 }, back);
  assert_row (back, (const double[]) { 7, 1e9 + 3 }, 2, 1e-15);
  rs_standardise_reset (s);
  assert_row (rs_standardise_push (s, (const double[]) { 3, 3 }), (const double[]) { 0, 0 },
              2, 0);
  assert_row (rs_standardise_mean (s), (const double[]) { 3, 3 }, 2, 0);
}

/* Calendar */

static RsTime
parse (const char *text)
{
  RsTime t;

  g_assert_true (rs_time_parse (text, -1, RS_TIME_INTEGERS_AUTO, &t));
  return t;
}

static void
test_calendar (void)
{
  const guint all = RS_CALENDAR_POSITION | RS_CALENDAR_MONTH | RS_CALENDAR_QUARTER
                    | RS_CALENDAR_WEEKDAY | RS_CALENDAR_HOUR;
  g_autoptr (RsCalendar) c = rs_calendar_new (all);
  g_autoptr (GError) error = NULL;
  RsTime t = parse ("2024-03-01 06:00");    /* a Friday: weekday 4 */
  double sq3 = sqrt (3) / 2;

  g_assert_cmpuint (rs_calendar_width_out (c), ==, 11);
  assert_row (rs_calendar_push (c, &t, &error),
              (const double[]) { 0, sq3, 0.5, 1, 0, 0, 0, -0.433883739117558,
                                 -0.9009688679024191, 1, 0 }, 11, 1e-15);
  t = parse ("2024-12-29 18:00");           /* a Sunday */
  assert_row (rs_calendar_push (c, &t, &error),
              (const double[]) { 1, -0.5, sq3, 0, 0, 0, 1, sin (2 * G_PI * 6 / 7),
                                 cos (2 * G_PI * 6 / 7), -1, 0 }, 11, 1e-15);
  g_assert_no_error (error);
}

static void
test_calendar_kinds (void)
{
  g_autoptr (RsCalendar) month = rs_calendar_new (RS_CALENDAR_MONTH | RS_CALENDAR_QUARTER);
  g_autoptr (RsCalendar) position = rs_calendar_new (RS_CALENDAR_POSITION);
  g_autoptr (RsCalendar) weekday = rs_calendar_new (RS_CALENDAR_POSITION | RS_CALENDAR_WEEKDAY);
  g_autoptr (GError) error = NULL;
  const double february[] = { 0.5, sqrt (3) / 2, 1, 0, 0, 0 };
  const double january[] = { 0, 1, 1, 0, 0, 0 };
  RsTime t;

  g_assert_cmpuint (rs_calendar_width_out (month), ==, 6);
  /* R's monthly ts: the year, then decimal years at any precision. */
  t = parse ("1949");
  assert_row (rs_calendar_push (month, &t, &error), january, 6, 1e-15);
  t = parse ("1949.083333");
  assert_row (rs_calendar_push (month, &t, &error), february, 6, 1e-15);
  t = parse ("1949.083");
  assert_row (rs_calendar_push (month, &t, &error), february, 6, 1e-15);
  t = parse ("1949-02");
  assert_row (rs_calendar_push (month, &t, &error), february, 6, 1e-15);
  t = parse ("1949-05");
  assert_row (rs_calendar_push (month, &t, &error) + 2, (const double[]) { 0, 1, 0, 0 }, 4, 0);

  /* Any time has a position, even none at all. */
  memset (&t, 0, sizeof t);
  assert_row (rs_calendar_push (position, &t, &error), (const double[]) { 0 }, 1, 0);
  t = parse ("17");
  assert_row (rs_calendar_push (position, &t, &error), (const double[]) { 1 }, 1, 0);
  rs_calendar_reset (position);
  assert_row (rs_calendar_push (position, &t, &error), (const double[]) { 0 }, 1, 0);
  g_assert_no_error (error);

  /* A refused time is not a row: the position does not move. */
  t = parse ("1949-01");
  g_assert_null (rs_calendar_push (weekday, &t, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_PARSE);
  g_assert_cmpstr (error->message, ==, "a time of kind 'year-month' has no day of the week");
  g_clear_error (&error);
  t = parse ("17");
  g_assert_null (rs_calendar_push (month, &t, &error));
  g_assert_cmpstr (error->message, ==, "a time of kind 'index' has no month");
  g_clear_error (&error);
  t = parse ("2024-03-04");
  assert_row (rs_calendar_push (weekday, &t, &error), (const double[]) { 0, 0, 1 }, 3, 0);

  g_assert_cmpuint (rs_calendar_supported (RS_TIME_NONE), ==, RS_CALENDAR_POSITION);
  g_assert_cmpuint (rs_calendar_supported (RS_TIME_INDEX), ==, RS_CALENDAR_POSITION);
  g_assert_cmpuint (rs_calendar_supported (RS_TIME_DECIMAL_YEAR), ==,
                    RS_CALENDAR_POSITION | RS_CALENDAR_MONTH | RS_CALENDAR_QUARTER);
  g_assert_cmpuint (rs_calendar_supported (RS_TIME_DATE) & RS_CALENDAR_HOUR, ==, 0);
  g_assert_cmpuint (rs_calendar_supported (RS_TIME_DATETIME) & RS_CALENDAR_HOUR, !=, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/series-features/lag-window", test_lag_window);
  g_test_add_func ("/series-features/lag-window-padded", test_lag_window_padded);
  g_test_add_func ("/series-features/difference", test_difference);
  g_test_add_func ("/series-features/difference-columns", test_difference_columns);
  g_test_add_func ("/series-features/difference-round-trip", test_difference_round_trip);
  g_test_add_func ("/series-features/difference-forecast", test_difference_forecast);
  g_test_add_func ("/series-features/difference-identity", test_difference_identity);
  g_test_add_func ("/series-features/standardise-fixed", test_standardise_fixed);
  g_test_add_func ("/series-features/standardise-refused", test_standardise_refused);
  g_test_add_func ("/series-features/standardise-running", test_standardise_running);
  g_test_add_func ("/series-features/calendar", test_calendar);
  g_test_add_func ("/series-features/calendar-kinds", test_calendar_kinds);
  return g_test_run ();
}
