/* Training series for forecasters (see rnnstream/forecast-data.h). The
 * whole series is held in memory in double: training revisits it every
 * epoch, and series are small next to the models' activations. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rnnstream/error.h"
#include "rnnstream/forecast-data.h"
#include "rnnstream/series-time.h"

struct RsForecastData {
  guint n_columns;           /* 1 + covariates */
  guint horizon;
  GArray *values;            /* double, n_rows * n_columns, as read */
  double *z;                 /* n_rows: the target's z */
  GPtrArray *times;          /* char *, one per row; NULL without a time column */
  GPtrArray *names;          /* char *, one per column */
  RsForecastTransform tr;
  const char *period;
  RsSeasonTest season_test;  /* when season_tested */
  gboolean season_tested;
  gsize n_rows, n_train_rows, lag;
  gboolean validating;
};

void
rs_forecast_data_free (RsForecastData *d)
{
  if (d == NULL)
    return;
  g_array_unref (d->values);
  if (d->times != NULL)
    g_ptr_array_unref (d->times);
  g_ptr_array_unref (d->names);
  g_free (d->z);
  rs_forecast_transform_clear (&d->tr);
  g_free (d);
}

static gboolean
read_rows (RsForecastData *d, FILE *file, const char *display, const RsForecastDataOptions *o,
           GError **error)
{
  g_autofree RsCsvColumn *columns = g_new (RsCsvColumn, 1 + o->n_covariates);
  RsCsvOptions csv = { 0 };
  g_autoptr (RsCsvStream) stream = NULL;
  const RsCsvRow *row;
  int got;

  columns[0] = o->target;
  for (guint i = 0; i < o->n_covariates; i++)
    columns[1 + i] = o->covariates[i];
  csv.delimiter = o->delimiter;
  csv.missing = o->missing;
  csv.columns = columns;
  csv.n_columns = 1 + o->n_covariates;
  csv.time_column = o->time_column;
  stream = rs_csv_stream_new (file, display, &csv, error);
  if (stream == NULL)
    return FALSE;
  if (o->time_column.name != NULL || o->time_column.index != 0)
    d->times = g_ptr_array_new_with_free_func (g_free);
  while ((got = rs_csv_stream_next (stream, &row, error)) > 0) {
    g_array_append_vals (d->values, row->values, row->n_values);
    if (d->times != NULL)
      g_ptr_array_add (d->times, g_strdup (row->time_text));
  }
  if (got < 0)
    return FALSE;
  for (guint i = 0; i < d->n_columns && rs_csv_stream_n_values (stream) > 0; i++)
    g_ptr_array_add (d->names, g_strdup (rs_csv_stream_value_name (stream, i)));
  return TRUE;
}

/* Mean and population deviation of n values at stride apart, in a fixed
 * order (the same data give the same bits). */
static void
moments (const double *v, gsize n, gsize stride, double *mean, double *std)
{
  double sum = 0, sq = 0;

  for (gsize t = 0; t < n; t++)
    sum += v[t * stride];
  *mean = sum / (double) n;
  for (gsize t = 0; t < n; t++) {
    const double e = v[t * stride] - *mean;
    sq += e * e;
  }
  *std = sqrt (sq / (double) n);
}

static gboolean
constant (double mean, double std)
{
  return !(std > 1e-12 * MAX (fabs (mean), 1.0));
}

/* The transform's statistics over the training part: for reference none,
 * each column's over the training rows (the target's for every step);
 * otherwise the differences' over the training frames that have them and
 * each step's correction over the training frames. */
static gboolean
fit (RsForecastData *d, const char *display, GError **error)
{
  RsForecastTransform *tr = &d->tr;
  const double *v = (const double *) d->values->data;
  const gsize w = d->n_columns, lag = d->lag;
  const guint first_cov = tr->n_inputs - tr->n_covariates;
  g_autofree double *raw = g_new (double, (gsize) MAX (d->n_train_rows, 1) * tr->n_inputs);

  for (guint j = 0; j < w; j++) {
    double mean, std;
    moments (j == 0 ? d->z : v + j, d->n_train_rows, j == 0 ? 1 : w, &mean, &std);
    if (constant (mean, std)) {
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: column '%s' is constant over the %"
                   G_GSIZE_FORMAT " training rows: nothing to learn from it", display,
                   (const char *) d->names->pdata[j], d->n_train_rows);
      return FALSE;
    }
    if (j > 0) {
      tr->in_mean[first_cov + j - 1] = mean;
      tr->in_std[first_cov + j - 1] = std;
    } else if (tr->reference == RS_FORECAST_REFERENCE_NONE) {
      tr->in_mean[0] = mean;
      tr->in_std[0] = std;
      for (guint h = 0; h < tr->horizon; h++) {
        tr->out_mean[h] = mean;
        tr->out_std[h] = std;
      }
    }
  }
  if (tr->reference == RS_FORECAST_REFERENCE_NONE)
    return TRUE;

  /* Differences over the training rows from lag on. */
  for (gsize t = lag; t < d->n_train_rows; t++)
    rs_forecast_transform_raw_inputs (tr, d->z + t, v + t * w + 1,
                                      raw + (t - lag) * tr->n_inputs);
  for (guint i = 0; i < first_cov; i++) {
    moments (raw + i, d->n_train_rows - lag, tr->n_inputs, &tr->in_mean[i], &tr->in_std[i]);
    if (constant (tr->in_mean[i], tr->in_std[i]))
      tr->in_std[i] = 1;
  }
  /* Corrections z_{t+h} - r_{t,h} over the training frames whose step h
   * lies in the training rows; a step with fewer than 2 keeps the
   * statistics of the step before. */
  for (guint h = 1; h <= tr->horizon; h++) {
    gsize n = 0;
    for (gsize t = lag; t + h < d->n_train_rows; t++)
      raw[n++] = d->z[t + h] - rs_forecast_transform_reference (tr, d->z + t, h);
    if (n < 2) {
      tr->out_mean[h - 1] = tr->out_mean[h - 2];
      tr->out_std[h - 1] = tr->out_std[h - 2];
      continue;
    }
    moments (raw, n, 1, &tr->out_mean[h - 1], &tr->out_std[h - 1]);
    if (constant (tr->out_mean[h - 1], tr->out_std[h - 1]))
      tr->out_std[h - 1] = 1;
  }
  return TRUE;
}

/* z of every row. Auto (-1) takes logs of a seasonal series whose every
 * value is > 0, unless the reference is trend, and gives the trend
 * reference of such a series a multiplicative season. Why seasonal only:
 * a season's swing usually grows with the level, which logs make
 * constant; without a season the log mostly turns a trend into compound
 * growth, and extrapolating that overshoots (on the bench panel logs won
 * on 6 of 10 seasonal series and lost airmiles, yearly, by a factor of 2.6
 * in MASE). Why no logs with trend: its slope in logs is compound growth
 * too (panel mean MASE 1.11 with logs, 1.08 without); a multiplicative
 * season scales the swing as logs do and leaves the line straight (1.00;
 * AirPassengers 0.48 against 0.60, JohnsonJohnson 1.60 against 1.87). */
static gboolean
make_z (RsForecastData *d, int log, int multiplicative, const char *display, GError **error)
{
  const double *v = (const double *) d->values->data;
  const gboolean trend = d->tr.reference == RS_FORECAST_REFERENCE_TREND;
  gboolean positive = TRUE;

  for (gsize t = 0; t < d->n_rows; t++)
    positive = positive && v[t * d->n_columns] > 0;
  d->tr.log = log > 0 || (log < 0 && d->tr.season > 1 && !trend && positive);
  d->tr.multiplicative = trend && d->tr.season > 1
                         && (multiplicative > 0 || (multiplicative < 0 && positive));
  d->z = g_new (double, d->n_rows);
  for (gsize t = 0; t < d->n_rows; t++)
    if (!rs_forecast_transform_z (&d->tr, v[t * d->n_columns], &d->z[t])) {
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: row %" G_GSIZE_FORMAT "%s%s%s: '%s' is "
                   "%g, and a forecaster on logs or with a multiplicative season needs "
                   "values > 0", display, t + 1,
                   d->times ? " (" : "", d->times ? (char *) d->times->pdata[t] : "",
                   d->times ? ")" : "", (const char *) d->names->pdata[0], v[t * d->n_columns]);
      return FALSE;
    }
  return TRUE;
}

static gsize
train_rows (gsize n_rows, double validation)
{
  return (gsize) floor ((double) n_rows * (1.0 - validation));
}

/* Whether n_rows give two training frames and, when validating, one
 * validation frame; the counts of both. */
static gboolean
enough_rows (gsize n_rows, gsize lag, double validation, gsize *train_frames,
             gsize *valid_frames)
{
  const gsize n_train = train_rows (n_rows, validation);

  *train_frames = n_train > lag + 1 ? n_train - 1 - lag : 0;
  *valid_frames = n_rows > n_train ? n_rows - n_train : 0;
  return *train_frames >= 2 && (validation == 0 || *valid_frames > 0);
}

gsize
rs_forecast_data_min_rows (guint lag, double validation)
{
  gsize train_frames, valid_frames, n;

  g_return_val_if_fail (validation >= 0 && validation <= 0.9, 0);
  /* From the fewest rows that can hold lag + 3 training rows on; a share
   * so small that it rounds to no row is never enough. */
  n = (gsize) floor ((lag + 3.0) / (1.0 - validation));
  for (gsize tries = 0; tries < (1u << 20); tries++, n++)
    if (enough_rows (n, lag, validation, &train_frames, &valid_frames))
      return n;
  return G_MAXSIZE;
}

RsForecastData *
rs_forecast_data_load (const char *path, const RsForecastDataOptions *o, GError **error)
{
  g_autoptr (RsForecastData) d = NULL;
  const gboolean from_stdin = strcmp (path, "-") == 0;
  const char *display = from_stdin ? "<stdin>" : path;
  FILE *file;
  gboolean ok;
  gsize train_frames, valid_frames;

  if (o->horizon < 1 || !(o->validation >= 0 && o->validation <= 0.9)
      || !(o->damping >= 0 && o->damping <= 1)) {
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "the horizon must be >= 1 (not %u), the "
                 "validation share in [0, 0.9] (not %g) and the damping in [0, 1] (not %g)",
                 o->horizon, o->validation, o->damping);
    return NULL;
  }
  file = from_stdin ? stdin : fopen (path, "r");
  if (file == NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "cannot open %s: %s", path, g_strerror (errno));
    return NULL;
  }
  d = g_new0 (RsForecastData, 1);
  d->n_columns = 1 + o->n_covariates;
  d->horizon = o->horizon;
  d->values = g_array_new (FALSE, FALSE, sizeof (double));
  d->names = g_ptr_array_new_with_free_func (g_free);
  ok = read_rows (d, file, display, o, error);
  if (!from_stdin)
    fclose (file);
  if (!ok)
    return NULL;

  d->n_rows = d->values->len / d->n_columns;
  d->n_train_rows = train_rows (d->n_rows, o->validation);
  d->validating = o->validation > 0;
  if (o->season > 0) {
    d->tr.season = o->season;
    d->period = "given";
  } else {
    const RsPeriod period = d->times == NULL ? RS_PERIOD_UNKNOWN
                            : rs_time_period_of_series ((const char *const *) d->times->pdata,
                                                        d->times->len, RS_TIME_INTEGERS_AUTO);
    d->tr.season = rs_period_season (period);
    d->period = d->times == NULL ? "none" : rs_period_name (period);
  }
  /* On the training rows only: validation must not choose the model. */
  if (o->test_season && d->tr.season > 1) {
    d->season_tested = rs_season_test ((const double *) d->values->data, d->n_train_rows,
                                       d->n_columns, d->tr.season, &d->season_test);
    if (d->season_tested && !d->season_test.seasonal)
      d->tr.season = 1;
  }
  d->tr.horizon = o->horizon;
  d->tr.reference = o->reference;
  d->tr.damping = o->damping;
  d->tr.n_covariates = o->n_covariates;
  rs_forecast_transform_init (&d->tr);
  d->lag = rs_forecast_transform_lag (&d->tr);
  if (!make_z (d, o->log, o->multiplicative, display, error))
    return NULL;
  if (!enough_rows (d->n_rows, d->lag, o->validation, &train_frames, &valid_frames)) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: %" G_GSIZE_FORMAT " rows are too few for "
                 "a horizon of %u and a season of %u with %g of them held out for validation (%"
                 G_GSIZE_FORMAT " training and %" G_GSIZE_FORMAT " validation forecasts)",
                 display, d->n_rows, d->horizon, d->tr.season, o->validation, train_frames,
                 valid_frames);
    return NULL;
  }
  if (!fit (d, display, error))
    return NULL;
  return g_steal_pointer (&d);
}

gsize
rs_forecast_data_n_rows (const RsForecastData *d)
{
  return d->n_rows;
}

guint
rs_forecast_data_n_inputs (const RsForecastData *d)
{
  return d->tr.n_inputs;
}

guint
rs_forecast_data_horizon (const RsForecastData *d)
{
  return d->horizon;
}

const char *
rs_forecast_data_column_name (const RsForecastData *d, guint i)
{
  g_return_val_if_fail (i < d->n_columns, NULL);
  return d->names->pdata[i];
}

gsize
rs_forecast_data_first_frame (const RsForecastData *d)
{
  return d->lag;
}

void
rs_forecast_data_split (const RsForecastData *d, gsize *train_end, gsize *valid_begin,
                        gsize *valid_end)
{
  *train_end = d->n_train_rows - 1;
  if (d->validating) {
    *valid_begin = d->n_train_rows - 1;
    *valid_end = d->n_rows - 1;
  } else {
    *valid_begin = *valid_end = *train_end;
  }
}

const RsForecastTransform *
rs_forecast_data_transform (const RsForecastData *d)
{
  return &d->tr;
}

const RsSeasonTest *
rs_forecast_data_season_test (const RsForecastData *d)
{
  return d->season_tested ? &d->season_test : NULL;
}

const char *
rs_forecast_data_period (const RsForecastData *d)
{
  return d->period;
}

void
rs_forecast_data_frames (const RsForecastData *d, gsize first, gsize n, gboolean training,
                         float *inputs, float *targets)
{
  const double *v = (const double *) d->values->data;
  const gsize known = training ? d->n_train_rows : d->n_rows;

  g_return_if_fail (first >= d->lag && first + n <= d->n_rows);
  for (gsize t = first; t < first + n; t++) {
    float *u = targets != NULL ? targets + (t - first) * d->horizon : NULL;
    rs_forecast_transform_inputs (&d->tr, d->z + t, v + t * d->n_columns + 1,
                                  inputs + (t - first) * d->tr.n_inputs);
    if (u == NULL)
      continue;
    if (t + d->horizon < known) {
      rs_forecast_transform_targets (&d->tr, d->z + t, u);
      continue;
    }
    /* Steps beyond what is known are missing (NaN), which the losses
     * leave out. */
    for (guint h = 1; h <= d->horizon; h++)
      u[h - 1] = t + h < known
                   ? (float) ((d->z[t + h] - rs_forecast_transform_reference (&d->tr, d->z + t, h)
                               - d->tr.out_mean[h - 1]) / d->tr.out_std[h - 1])
                   : NAN;
  }
}

void
rs_forecast_data_forecast (const RsForecastData *d, gsize t, const float *u, double *zhat,
                           double *yhat)
{
  g_return_if_fail (t >= d->lag && t < d->n_rows);
  rs_forecast_transform_forecast (&d->tr, d->z + t, u, zhat, yhat);
}

double
rs_forecast_data_target (const RsForecastData *d, gsize t)
{
  g_return_val_if_fail (t < d->n_rows, NAN);
  return g_array_index (d->values, double, t * d->n_columns);
}

double
rs_forecast_data_z (const RsForecastData *d, gsize t)
{
  g_return_val_if_fail (t < d->n_rows, NAN);
  return d->z[t];
}

const char *
rs_forecast_data_time (const RsForecastData *d, gsize row)
{
  g_return_val_if_fail (row < d->n_rows, NULL);
  return d->times != NULL ? d->times->pdata[row] : NULL;
}
