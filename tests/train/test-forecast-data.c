/* Forecast training data: reading, the split in time, standardisation
 * over the training rows, frames and their targets, and every rejection
 * naming the file. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <rnnstream/error.h>
#include <rnnstream/forecast-data.h>

static char *
write_csv (const char *dir, const char *name, const char *text)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static RsForecastDataOptions
options (guint horizon, double validation)
{
  RsForecastDataOptions o = { 0 };

  o.target.name = "value";
  o.time_column.name = "month";
  o.horizon = horizon;
  o.validation = validation;
  return o;
}

static void
test_frames_and_split (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-fd-XXXXXX", NULL);
  GString *csv = g_string_new ("month,temp,value\n");
  g_autofree char *path = NULL;
  const RsCsvColumn cov[] = { { "temp", 0 } };
  RsForecastDataOptions o = options (3, 0.2);
  g_autoptr (RsForecastData) d = NULL;
  g_autoptr (GError) error = NULL;
  gsize train_end, valid_begin, valid_end;
  double mean = 0, var = 0;
  float in[4 * 2], target[4 * 3];

  /* 20 rows: value = t * t, temp = 10 - t. */
  for (int t = 0; t < 20; t++)
    g_string_append_printf (csv, "2020-%02d,%d,%d\n", t % 12 + 1, 10 - t, t * t);
  path = write_csv (dir, "series.csv", csv->str);
  g_string_free (csv, TRUE);
  o.covariates = cov;
  o.n_covariates = 1;
  d = rs_forecast_data_load (path, &o, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rs_forecast_data_n_rows (d), ==, 20);
  g_assert_cmpuint (rs_forecast_data_n_inputs (d), ==, 2);
  g_assert_cmpuint (rs_forecast_data_horizon (d), ==, 3);
  g_assert_cmpstr (rs_forecast_data_column_name (d, 0), ==, "value");
  g_assert_cmpstr (rs_forecast_data_column_name (d, 1), ==, "temp");
  g_assert_cmpstr (rs_forecast_data_time (d, 13), ==, "2020-02");

  /* 16 training rows: frames 0..14 have targets in them; the forecasts
   * from rows 15..18 are validation (targets 16..19). */
  rs_forecast_data_split (d, &train_end, &valid_begin, &valid_end);
  g_assert_cmpuint (rs_forecast_data_first_frame (d), ==, 0);
  g_assert_cmpuint (train_end, ==, 15);
  g_assert_cmpuint (valid_begin, ==, 15);
  g_assert_cmpuint (valid_end, ==, 19);

  for (int t = 0; t < 16; t++)
    mean += t * t / 16.0;
  for (int t = 0; t < 16; t++)
    var += (t * t - mean) * (t * t - mean) / 16.0;
  g_assert_cmpfloat_with_epsilon (rs_forecast_data_transform (d)->in_mean[0], mean, 1e-9);
  g_assert_cmpfloat_with_epsilon (rs_forecast_data_transform (d)->in_std[0], sqrt (var), 1e-9);
  g_assert_cmpfloat_with_epsilon (rs_forecast_data_transform (d)->in_mean[1], 10 - 7.5, 1e-9);

  rs_forecast_data_frames (d, 5, 4, TRUE, in, target);
  for (int t = 0; t < 4; t++) {
    const int row = 5 + t;

    g_assert_cmpfloat_with_epsilon (in[t * 2], (row * row - mean) / sqrt (var), 1e-6);
    g_assert_cmpfloat_with_epsilon (in[t * 2 + 1] * rs_forecast_data_transform (d)->in_std[1]
                                    + rs_forecast_data_transform (d)->in_mean[1], 10 - row, 1e-5);
    for (int h = 0; h < 3; h++)
      g_assert_cmpfloat_with_epsilon (target[t * 3 + h],
                                      ((row + 1 + h) * (row + 1 + h) - mean) / sqrt (var), 1e-6);
  }
  /* Steps beyond the training rows are missing in training frames. */
  rs_forecast_data_frames (d, 13, 4, TRUE, in, target);
  g_assert_false (isnan (target[0 * 3 + 1]));
  g_assert_true (isnan (target[0 * 3 + 2]));
  g_assert_true (isnan (target[2 * 3 + 0]));
  rs_forecast_data_frames (d, 17, 3, FALSE, in, target);
  g_assert_false (isnan (target[0 * 3 + 1]));
  g_assert_true (isnan (target[0 * 3 + 2]));
  g_assert_true (isnan (target[2 * 3 + 0]));
  rs_forecast_data_frames (d, 16, 4, FALSE, in, NULL);

  g_remove (path);
  g_rmdir (dir);
}

static void
test_no_validation (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-fd-XXXXXX", NULL);
  g_autofree char *path = write_csv (dir, "s.csv", "1\n4\n2\n8\n5\n7\n");
  RsForecastDataOptions o = { 0 };
  g_autoptr (RsForecastData) d = NULL;
  g_autoptr (GError) error = NULL;
  gsize a, b, c;

  o.target.index = 1;
  o.horizon = 2;
  d = rs_forecast_data_load (path, &o, &error);
  g_assert_no_error (error);
  rs_forecast_data_split (d, &a, &b, &c);
  g_assert_cmpuint (a, ==, 5);
  g_assert_cmpuint (b, ==, c);
  g_assert_cmpstr (rs_forecast_data_column_name (d, 0), ==, "column 1");
  g_assert_null (rs_forecast_data_time (d, 0));
  g_remove (path);
  g_rmdir (dir);
}

/* The seasonal representation on logs: the season found from the months,
 * the inputs as differences of logs, and targets that turn back into the
 * series' values exactly. */
static void
test_seasonal_transform (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-fd-XXXXXX", NULL);
  GString *csv = g_string_new ("month,value\n");
  g_autofree char *path = NULL;
  RsForecastDataOptions o = options (14, 0.25);
  g_autoptr (RsForecastData) d = NULL;
  g_autoptr (GError) error = NULL;
  double y[60];
  float in[2], u[14];
  double yhat[14], zhat[14];
  const RsForecastTransform *tr;

  for (int t = 0; t < 60; t++) {
    y[t] = (10 + t) * (1 + 0.3 * sin (2 * G_PI * t / 12.0) + 0.01 * (t % 5));
    g_string_append_printf (csv, "%d-%02d,%.17g\n", 2000 + t / 12, t % 12 + 1, y[t]);
  }
  path = write_csv (dir, "monthly.csv", csv->str);
  g_string_free (csv, TRUE);
  o.reference = RS_FORECAST_REFERENCE_SEASONAL;
  o.log = -1;
  d = rs_forecast_data_load (path, &o, &error);
  g_assert_no_error (error);
  tr = rs_forecast_data_transform (d);
  g_assert_cmpstr (rs_forecast_data_period (d), ==, "monthly");
  g_assert_cmpuint (tr->season, ==, 12);
  g_assert_true (tr->log);
  g_assert_cmpuint (rs_forecast_data_first_frame (d), ==, 12);
  g_assert_cmpuint (rs_forecast_data_n_inputs (d), ==, 2);
  for (gsize t = 12; t < 59; t++) {
    rs_forecast_data_frames (d, t, 1, FALSE, in, u);
    g_assert_cmpfloat_with_epsilon (in[0] * tr->in_std[0] + tr->in_mean[0],
                                    log (y[t]) - log (y[t - 1]), 1e-5);
    g_assert_cmpfloat_with_epsilon (in[1] * tr->in_std[1] + tr->in_mean[1],
                                    log (y[t]) - log (y[t - 12]), 1e-5);
    rs_forecast_data_forecast (d, t, u, zhat, yhat);
    for (guint h = 1; h <= 14; h++) {
      if (t + h >= 60) {
        g_assert_true (isnan (u[h - 1]));
        continue;
      }
      g_assert_cmpfloat (fabs (yhat[h - 1] - y[t + h]), <, 1e-5 * y[t + h]);
      g_assert_cmpfloat_with_epsilon (rs_forecast_data_z (d, t + h), log (y[t + h]), 1e-12);
    }
    /* Zero outputs: the seasonal naive forecast plus the average
     * correction; step 13 is a season and one step out (the last
     * season's value of step 1). */
    memset (u, 0, sizeof u);
    rs_forecast_data_forecast (d, t, u, zhat, NULL);
    g_assert_cmpfloat_with_epsilon (zhat[0], log (y[t - 11]) + tr->out_mean[0], 1e-12);
    g_assert_cmpfloat_with_epsilon (zhat[12], log (y[t - 11]) + tr->out_mean[12], 1e-12);
  }
  g_remove (path);
  g_rmdir (dir);
}

/* The smoothed reference: the last season's mean plus the phase's mean
 * deviation over two seasons; its targets turn back into the values. */
static void
test_smoothed_reference (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-fd-XXXXXX", NULL);
  GString *csv = g_string_new ("quarter,value\n");
  g_autofree char *path = NULL;
  RsForecastDataOptions o = options (5, 0.25);
  g_autoptr (RsForecastData) d = NULL;
  g_autoptr (GError) error = NULL;
  double y[40], yhat[5], zhat[5];
  float in[2], u[5];

  for (int t = 0; t < 40; t++) {
    y[t] = 20 + 0.5 * t + 3 * ((t % 4) == 1) - 2 * ((t % 4) == 3) + 0.1 * (t % 3);
    g_string_append_printf (csv, "%d-%02d,%.17g\n", 2000 + t / 4, 3 * (t % 4) + 1, y[t]);
  }
  path = write_csv (dir, "quarterly.csv", csv->str);
  g_string_free (csv, TRUE);
  o.time_column.name = "quarter";
  o.reference = RS_FORECAST_REFERENCE_SMOOTHED;
  d = rs_forecast_data_load (path, &o, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rs_forecast_data_transform (d)->season, ==, 4);
  g_assert_cmpuint (rs_forecast_data_first_frame (d), ==, 8);
  for (gsize t = 8; t < 34; t++) {
    const RsForecastTransform *tr = rs_forecast_data_transform (d);
    double level = 0, dev = 0;
    /* Step 2 from t: the phase of t - 2, a season back. */
    for (int i = 0; i < 4; i++)
      level += y[t - i] / 4;
    for (int season = 0; season < 2; season++) {
      double mean = 0;
      for (int i = 0; i < 4; i++)
        mean += y[t - i - 4 * season] / 4;
      dev += (y[t - 2 - 4 * season] - mean) / 2;
    }
    memset (u, 0, sizeof u);
    rs_forecast_data_forecast (d, t, u, zhat, NULL);
    g_assert_cmpfloat_with_epsilon (zhat[1], level + dev + tr->out_mean[1], 1e-9);
    rs_forecast_data_frames (d, t, 1, FALSE, in, u);
    rs_forecast_data_forecast (d, t, u, zhat, yhat);
    for (guint h = 1; h <= 5; h++)
      g_assert_cmpfloat (fabs (yhat[h - 1] - y[t + h]), <, 1e-4);
  }
  g_remove (path);
  g_rmdir (dir);
}

/* The trend reference fits a line and a season locally: on a series that
 * is exactly a line plus a season (quarterly), a line (yearly) or a level
 * times a season (multiplicative) it is the future itself, for steps
 * beyond a season too; auto takes no logs with it, and a multiplicative
 * season for a positive seasonal series. */
static void
test_trend_reference (void)
{
  static const double add[] = { 0, 3, 0.5, -2 }, ratio[] = { 1, 1.2, 0.9, 0.9 };
  static const struct {
    guint m;
    int multiplicative;     /* the option */
    gboolean expect;        /* the transform's */
  } cases[] = { { 1, -1, FALSE }, { 4, 0, FALSE }, { 4, -1, TRUE } };
  g_autofree char *dir = g_dir_make_tmp ("rs-fd-XXXXXX", NULL);

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++) {
    const guint m = cases[c].m;
    GString *csv = g_string_new ("quarter,value\n");
    g_autofree char *path = NULL;
    RsForecastDataOptions o = options (6, 0.25);
    g_autoptr (RsForecastData) d = NULL;
    g_autoptr (GError) error = NULL;
    double y[40], zhat[6];
    float u[6] = { 0 };

    for (int t = 0; t < 40; t++) {
      y[t] = cases[c].expect ? 50 * ratio[t % 4] : 20 + 0.5 * t + (m > 1 ? add[t % 4] : 0);
      g_string_append_printf (csv, "%d-%02d,%.17g\n", 2000 + t / 4, 3 * (t % 4) + 1, y[t]);
    }
    path = write_csv (dir, "trend.csv", csv->str);
    g_string_free (csv, TRUE);
    o.time_column.name = "quarter";
    o.season = m;
    o.log = -1;
    o.multiplicative = cases[c].multiplicative;
    o.damping = 1;
    o.reference = RS_FORECAST_REFERENCE_TREND;
    d = rs_forecast_data_load (path, &o, &error);
    g_assert_no_error (error);
    g_assert_false (rs_forecast_data_transform (d)->log);
    g_assert_cmpint (rs_forecast_data_transform (d)->multiplicative, ==, cases[c].expect);
    g_assert_cmpuint (rs_forecast_data_first_frame (d), ==, 2 * MAX (m, 2));
    for (gsize t = 2 * MAX (m, 2); t < 34; t++) {
      rs_forecast_data_forecast (d, t, u, zhat, NULL);
      for (guint h = 1; h <= 6; h++)
        g_assert_cmpfloat_with_epsilon (zhat[h - 1], y[t + h], 1e-9);
    }
    g_remove (path);
  }
  g_rmdir (dir);
}

/* A damped line climbs phi, phi^2, ... slopes: on z = t (slope 1, the
 * line at the last row z_t) the reference h steps ahead is z_t + phi +
 * ... + phi^h; phi 0 carries z_t flat. */
static void
test_trend_damping (void)
{
  const double z[] = { 0, 1, 2, 3, 4 };
  const double phis[] = { 0, 0.5, 0.8, 1 };

  for (guint i = 0; i < G_N_ELEMENTS (phis); i++) {
    RsForecastTransform tr = { .horizon = 5, .season = 1, .damping = phis[i],
                               .reference = RS_FORECAST_REFERENCE_TREND };
    double climb = 0, p = 1;
    g_autofree char *json = NULL;
    RsForecastTransform back;
    g_autoptr (GError) error = NULL;

    rs_forecast_transform_init (&tr);
    for (guint h = 1; h <= 5; h++) {
      p *= phis[i];
      climb += p;
      g_assert_cmpfloat_with_epsilon (rs_forecast_transform_reference (&tr, z + 4, h),
                                      4 + climb, 1e-12);
    }
    json = rs_forecast_transform_to_json (&tr);
    g_assert_true (rs_forecast_transform_from_json (&back, json, "t", &error));
    g_assert_no_error (error);
    g_assert_cmpfloat (back.damping, ==, phis[i]);
    rs_forecast_transform_clear (&back);
    rs_forecast_transform_clear (&tr);
  }
}

static void
test_errors (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-fd-XXXXXX", NULL);
  const struct {
    const char *text;
    guint horizon;
    double validation;
    int code;
    const char *message;
  } cases[] = {
    { "month,value\n2020-01,1\n2020-02,2\n", 3, 0, RS_ERROR_PARSE,
      "2 rows are too few for a horizon of 3" },
    { "month,value\n2020-01,1\n2020-02,2\n2020-03,3\n2020-04,4\n2020-05,5\n", 1, 0.2,
      RS_ERROR_PARSE, "" },
    { "month,value\n2020-01,5\n2020-02,5\n2020-03,5\n2020-04,5\n2020-05,9\n", 1, 0.2,
      RS_ERROR_PARSE, "column 'value' is constant over the 4 training rows" },
    { "month,value\n2020-01,1\n2020-02,x\n", 1, 0, RS_ERROR_PARSE, ":3: column 'value'" },
    { "month,price\n2020-01,1\n", 1, 0, RS_ERROR_PARSE, "value" },
    { "month,value\n2020-01,1\n2020-02,2\n2020-03,3\n", 0, 0, RS_ERROR_ARGUMENT, "horizon" },
    { "month,value\n2020-01,1\n", 1, 0.95, RS_ERROR_ARGUMENT, "validation share" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *name = g_strdup_printf ("case%u.csv", i);
    g_autofree char *path = write_csv (dir, name, cases[i].text);
    RsForecastDataOptions o = options (cases[i].horizon, cases[i].validation);
    g_autoptr (GError) error = NULL;
    RsForecastData *d = rs_forecast_data_load (path, &o, &error);

    if (cases[i].message[0] == '\0') {
      /* 5 rows, 4 for training, H 1: 3 training and 1 validation frames. */
      g_assert_no_error (error);
      rs_forecast_data_free (d);
    } else {
      g_assert_null (d);
      g_assert_error (error, RS_ERROR, cases[i].code);
      if (cases[i].code == RS_ERROR_PARSE)
        g_assert_nonnull (strstr (error->message, name));
      if (strstr (error->message, cases[i].message) == NULL)
        g_error ("case %u: '%s' does not contain '%s'", i, error->message, cases[i].message);
    }
    g_remove (path);
  }
  {
    RsForecastDataOptions o = options (1, 0);
    g_autoptr (GError) error = NULL;

    g_assert_null (rs_forecast_data_load ("/nonexistent/s.csv", &o, &error));
    g_assert_error (error, RS_ERROR, RS_ERROR_IO);
    g_assert_nonnull (strstr (error->message, "/nonexistent/s.csv"));
  }
  g_rmdir (dir);
}

/* rs_forecast_data_min_rows is exactly the shortest series load takes. */
static void
test_min_rows (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-fd-XXXXXX", NULL);
  const struct {
    guint season;
    RsForecastReference reference;
    double validation;
  } cases[] = {
    { 1, RS_FORECAST_REFERENCE_NONE, 0 },
    { 1, RS_FORECAST_REFERENCE_NAIVE, 0.2 },
    { 4, RS_FORECAST_REFERENCE_SEASONAL, 0.2 },
    { 12, RS_FORECAST_REFERENCE_SEASONAL, 0.5 },
    { 12, RS_FORECAST_REFERENCE_SEASONAL, 0.9 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    RsForecastTransform tr = { 0 };
    gsize min;

    tr.horizon = 1;
    tr.season = cases[i].season;
    tr.reference = cases[i].reference;
    min = rs_forecast_data_min_rows (rs_forecast_transform_lag (&tr), cases[i].validation);
    for (gsize n = min - 1; n <= min; n++) {
      g_autofree char *path = g_build_filename (dir, "s.csv", NULL);
      GString *csv = g_string_new ("month,value\n");
      RsForecastDataOptions o = options (1, cases[i].validation);
      g_autoptr (GError) error = NULL;
      RsForecastData *d;

      for (gsize t = 0; t < n; t++)
        g_string_append_printf (csv, "%d-%02d,%d\n", 2000 + (int) (t / 12), (int) (t % 12) + 1,
                                (int) (t * t + (t % 3) * 5 + 1));
      g_assert_true (g_file_set_contents (path, csv->str, -1, NULL));
      g_string_free (csv, TRUE);
      o.season = cases[i].season;
      o.reference = cases[i].reference;
      d = rs_forecast_data_load (path, &o, &error);
      g_test_message ("case %u, %" G_GSIZE_FORMAT " rows", i, n);
      if (n < min) {
        g_assert_null (d);
        g_assert_error (error, RS_ERROR, RS_ERROR_PARSE);
        g_assert_nonnull (strstr (error->message, "too few"));
      } else {
        g_assert_no_error (error);
        rs_forecast_data_free (d);
      }
      g_remove (path);
    }
  }
  g_assert_cmpuint (rs_forecast_data_min_rows (0, 0), ==, 3);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/forecast-data/frames-and-split", test_frames_and_split);
  g_test_add_func ("/forecast-data/no-validation", test_no_validation);
  g_test_add_func ("/forecast-data/seasonal-transform", test_seasonal_transform);
  g_test_add_func ("/forecast-data/smoothed-reference", test_smoothed_reference);
  g_test_add_func ("/forecast-data/trend-reference", test_trend_reference);
  g_test_add_func ("/forecast-data/trend-damping", test_trend_damping);
  g_test_add_func ("/forecast-data/errors", test_errors);
  g_test_add_func ("/forecast-data/min-rows", test_min_rows);
  return g_test_run ();
}
