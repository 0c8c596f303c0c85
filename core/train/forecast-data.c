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

struct RsForecastData {
  guint n_inputs;
  guint horizon;
  GArray *values;            /* double, n_rows * n_inputs */
  GPtrArray *times;          /* char *, one per row; NULL without a time column */
  GPtrArray *names;          /* char *, one per input */
  double *mean, *std;
  gsize n_rows, n_train_rows;
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
  g_free (d->mean);
  g_free (d->std);
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
  for (guint i = 0; i < d->n_inputs && rs_csv_stream_n_values (stream) > 0; i++)
    g_ptr_array_add (d->names, g_strdup (rs_csv_stream_value_name (stream, i)));
  return TRUE;
}

/* Mean and population std of each column over the training rows, in a
 * fixed order (the same data give the same bits). */
static gboolean
standardise (RsForecastData *d, const char *display, GError **error)
{
  const double *v = (const double *) d->values->data;

  d->mean = g_new0 (double, d->n_inputs);
  d->std = g_new0 (double, d->n_inputs);
  for (guint j = 0; j < d->n_inputs; j++) {
    double sum = 0, sq = 0;

    for (gsize t = 0; t < d->n_train_rows; t++)
      sum += v[t * d->n_inputs + j];
    d->mean[j] = sum / (double) d->n_train_rows;
    for (gsize t = 0; t < d->n_train_rows; t++) {
      const double e = v[t * d->n_inputs + j] - d->mean[j];
      sq += e * e;
    }
    d->std[j] = sqrt (sq / (double) d->n_train_rows);
    if (!(d->std[j] > 1e-12 * MAX (fabs (d->mean[j]), 1.0))) {
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: column '%s' is constant over the %"
                   G_GSIZE_FORMAT " training rows: nothing to learn from it", display,
                   (const char *) d->names->pdata[j], d->n_train_rows);
      return FALSE;
    }
  }
  return TRUE;
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

  if (o->horizon < 1 || !(o->validation >= 0 && o->validation <= 0.9)) {
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "the horizon must be >= 1 (not %u) and the "
                 "validation share in [0, 0.9] (not %g)", o->horizon, o->validation);
    return NULL;
  }
  file = from_stdin ? stdin : fopen (path, "r");
  if (file == NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "cannot open %s: %s", path, g_strerror (errno));
    return NULL;
  }
  d = g_new0 (RsForecastData, 1);
  d->n_inputs = 1 + o->n_covariates;
  d->horizon = o->horizon;
  d->values = g_array_new (FALSE, FALSE, sizeof (double));
  d->names = g_ptr_array_new_with_free_func (g_free);
  ok = read_rows (d, file, display, o, error);
  if (!from_stdin)
    fclose (file);
  if (!ok)
    return NULL;

  d->n_rows = d->values->len / d->n_inputs;
  d->n_train_rows = (gsize) floor ((double) d->n_rows * (1.0 - o->validation));
  d->validating = o->validation > 0;
  train_frames = d->n_train_rows > d->horizon ? d->n_train_rows - d->horizon : 0;
  valid_frames = d->n_rows >= d->n_train_rows + d->horizon ?
    d->n_rows - d->horizon - (d->n_train_rows - 1) : 0;
  if (train_frames < 2 || (d->validating && valid_frames == 0)) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: %" G_GSIZE_FORMAT " rows are too few for "
                 "a horizon of %u with %g of them held out for validation (%" G_GSIZE_FORMAT
                 " training and %" G_GSIZE_FORMAT " validation forecasts)", display, d->n_rows,
                 d->horizon, o->validation, train_frames, valid_frames);
    return NULL;
  }
  if (!standardise (d, display, error))
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
  return d->n_inputs;
}

guint
rs_forecast_data_horizon (const RsForecastData *d)
{
  return d->horizon;
}

const char *
rs_forecast_data_input_name (const RsForecastData *d, guint i)
{
  g_return_val_if_fail (i < d->n_inputs, NULL);
  return d->names->pdata[i];
}

void
rs_forecast_data_split (const RsForecastData *d, gsize *train_end, gsize *valid_begin,
                        gsize *valid_end)
{
  *train_end = d->n_train_rows - d->horizon;
  if (d->validating) {
    *valid_begin = d->n_train_rows - 1;
    *valid_end = d->n_rows - d->horizon;
  } else {
    *valid_begin = *valid_end = *train_end;
  }
}

const double *
rs_forecast_data_mean (const RsForecastData *d)
{
  return d->mean;
}

const double *
rs_forecast_data_std (const RsForecastData *d)
{
  return d->std;
}

void
rs_forecast_data_frames (const RsForecastData *d, gsize first, gsize n, float *inputs,
                         float *targets)
{
  const double *v = (const double *) d->values->data;
  const guint w = d->n_inputs;

  g_return_if_fail (first + n <= d->n_rows);
  g_return_if_fail (targets == NULL || first + n + d->horizon <= d->n_rows);
  for (gsize t = 0; t < n; t++) {
    for (guint j = 0; j < w; j++)
      inputs[t * w + j] = (float) ((v[(first + t) * w + j] - d->mean[j]) / d->std[j]);
    if (targets == NULL)
      continue;
    for (guint h = 0; h < d->horizon; h++)
      targets[t * d->horizon + h] =
        (float) ((v[(first + t + 1 + h) * w] - d->mean[0]) / d->std[0]);
  }
}

const char *
rs_forecast_data_time (const RsForecastData *d, gsize row)
{
  g_return_val_if_fail (row < d->n_rows, NULL);
  return d->times != NULL ? d->times->pdata[row] : NULL;
}
