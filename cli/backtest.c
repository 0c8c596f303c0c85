/* rnnstream backtest: a rolling-origin evaluation of a forecaster.
 *
 * The origins are the last K rows a forecast can start from with H rows
 * after it, S rows apart: origin k (1..K) is row t_k = n - H - (K - k) S
 * (1-based), and its forecast of steps 1..H is scored on rows t_k + 1 ..
 * t_k + H. Next to the forecaster the same origins get the naive forecast
 * (the last value) and the seasonal naive one (the value a season back),
 * and every forecast is measured by rnnstream/forecast-metrics.h with the
 * MASE scale of the rows up to its origin: the data the forecast was made
 * from, so that nothing after the origin enters the score but the rows it
 * is scored on.
 *
 * Two ways to get the forecaster's forecasts:
 *   -m MODEL   the model as it is: one RsForecaster run over the series,
 *              its forecast taken after each origin's row (its state
 *              carried through, as live). Its horizon, season, target and
 *              covariates are the model's. When the model was trained on
 *              these rows the scores are in-sample.
 *   refitting  (--config FILE and/or train's flags) a model trained at
 *              each origin on the rows up to it, and only those: the input
 *              is cut after the origin's line into a temporary CSV that
 *              train reads as it reads any (its validation share is taken
 *              from those rows), then the new model runs over the same rows
 *              and forecasts from the origin. The training is train's own
 *              (rs_cli_train), with the settings train would use; the
 *              season, when not set, is found once from the times of the
 *              whole series and set for every refit, so that the models
 *              and the seasonal baseline share one m.
 *
 * Output: a table on stdout (by origin, by step, and all points), and on
 * request the metrics and the forecasts as CSV, written atomically. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <rnnstream/rnnstream.h>

#include "cli.h"
#include "train-settings.h"
#include "train.h"

#define CMD "backtest"
#define DEFAULT_ORIGINS 5

enum { METHOD_MODEL, METHOD_NAIVE, METHOD_SNAIVE, N_METHODS };
static const char *const method_names[N_METHODS] = { "model", "naive", "snaive" };

/* The series as read, and where each row ends in the text (refits cut
 * the text there). */
typedef struct {
  char *display;             /* the input's name in messages */
  char *text;
  gsize len;
  gsize n_rows;
  guint width;               /* values per row: the target, then the covariates */
  GArray *values;            /* double, n_rows * width */
  double *y;                 /* the target alone, n_rows */
  GArray *ends;              /* gsize: the offset just after each row's line */
  GPtrArray *times;          /* char *, or NULL without a time column */
} Series;

static void
series_clear (Series *s)
{
  g_free (s->display);
  g_free (s->text);
  g_free (s->y);
  if (s->values != NULL)
    g_array_unref (s->values);
  if (s->ends != NULL)
    g_array_unref (s->ends);
  if (s->times != NULL)
    g_ptr_array_unref (s->times);
}

static gboolean
read_all (const char *path, char **text, gsize *len, GError **error)
{
  GString *buf;
  char chunk[65536];
  size_t got;

  if (strcmp (path, "-") != 0) {
    g_autoptr (GError) local = NULL;
    if (!g_file_get_contents (path, text, len, &local)) {
      g_set_error (error, RS_ERROR, RS_ERROR_IO, "%s", local->message);
      return FALSE;
    }
    return TRUE;
  }
  buf = g_string_new (NULL);
  while ((got = fread (chunk, 1, sizeof chunk, stdin)) > 0)
    g_string_append_len (buf, chunk, (gssize) got);
  if (ferror (stdin)) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "cannot read <stdin>: %s", g_strerror (errno));
    g_string_free (buf, TRUE);
    return FALSE;
  }
  *len = buf->len;
  *text = g_string_free (buf, FALSE);
  return TRUE;
}

/* Reads the whole series with the CSV reader train and forecast use, so
 * that the rows are theirs. */
static gboolean
series_read (Series *s, const char *path, const RsCsvOptions *csv, GError **error)
{
  g_autoptr (RsCsvStream) stream = NULL;
  g_autoptr (GArray) line_ends = g_array_new (FALSE, FALSE, sizeof (gsize));
  const RsCsvRow *row;
  FILE *mem;
  int got;

  s->display = g_strdup (strcmp (path, "-") == 0 ? "<stdin>" : path);
  if (!read_all (path, &s->text, &s->len, error))
    return FALSE;
  if (s->len == 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: empty: no header, no rows", s->display);
    return FALSE;
  }
  /* Line l (1-based) ends just before line_ends[l - 1]. */
  for (gsize i = 0; i < s->len; i++)
    if (s->text[i] == '\n') {
      const gsize end = i + 1;
      g_array_append_val (line_ends, end);
    }
  g_array_append_val (line_ends, s->len);

  mem = fmemopen (s->text, s->len, "r");
  if (mem == NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "%s: cannot read it from memory: %s", s->display,
                 g_strerror (errno));
    return FALSE;
  }
  stream = rs_csv_stream_new (mem, s->display, csv, error);
  s->values = g_array_new (FALSE, FALSE, sizeof (double));
  s->ends = g_array_new (FALSE, FALSE, sizeof (gsize));
  if (csv->time_column.name != NULL || csv->time_column.index != 0)
    s->times = g_ptr_array_new_with_free_func (g_free);
  got = stream != NULL ? 1 : -1;
  while (stream != NULL && (got = rs_csv_stream_next (stream, &row, error)) > 0) {
    const gsize end = g_array_index (line_ends, gsize, MIN (row->line, line_ends->len) - 1);
    g_array_append_vals (s->values, row->values, row->n_values);
    g_array_append_val (s->ends, end);
    if (s->times != NULL)
      g_ptr_array_add (s->times, g_strdup (row->time_text));
  }
  g_clear_pointer (&stream, rs_csv_stream_free);
  fclose (mem);
  if (got < 0)
    return FALSE;
  s->width = csv->n_columns;
  s->n_rows = s->values->len / s->width;
  s->y = g_new (double, MAX (s->n_rows, 1));
  for (gsize t = 0; t < s->n_rows; t++)
    s->y[t] = g_array_index (s->values, double, t * s->width);
  return TRUE;
}

/* Row t's name in messages and tables: its time, else its number. */
static char *
row_name (const Series *s, gsize t)
{
  if (s->times != NULL && ((char *) s->times->pdata[t])[0] != '\0')
    return g_strdup (s->times->pdata[t]);
  return g_strdup_printf ("row %" G_GSIZE_FORMAT, t + 1);
}

/* ---- the forecasts ---- */

typedef struct {
  guint H, season, K, step;
  gsize *origins;            /* K rows (0-based), ascending */
  double *forecasts;         /* [origin][method][h] */
  double *scales;            /* K: the MASE scale up to each origin */
} Backtest;

static double *
forecast_at (const Backtest *b, guint k, guint method)
{
  return b->forecasts + ((gsize) k * N_METHODS + method) * b->H;
}

/* Runs forecaster over rows 0..last of s, storing the forecast after each
 * origin's row among origins[0..K) (NULL: after last only, into out). */
static gboolean
run_forecaster (RsForecaster *f, const Series *s, gsize last, const Backtest *b, double *out,
                GError **error)
{
  g_autofree double *cov = g_new0 (double, MAX (s->width, 1));
  const double *v = (const double *) s->values->data;
  guint k = 0;

  rs_forecaster_reset (f);
  for (gsize t = 0; t <= last; t++) {
    g_autoptr (GError) local = NULL;
    for (guint j = 1; j < s->width; j++)
      cov[j - 1] = v[t * s->width + j];
    if (!rs_forecaster_push (f, v[t * s->width], cov, &local)) {
      g_autofree char *name = row_name (s, t);
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: row %" G_GSIZE_FORMAT " (%s): %s",
                   s->display, t + 1, name, local->message);
      return FALSE;
    }
    if (b != NULL ? k < b->K && b->origins[k] == t : t == last) {
      if (!rs_forecaster_ready (f)) {
        g_autofree char *name = row_name (s, t);
        g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: no forecast from %s: the model "
                     "needs more rows before it", s->display, name);
        return FALSE;
      }
      rs_forecaster_forecast (f, b != NULL ? forecast_at (b, k, METHOD_MODEL) : out);
      k++;
    }
  }
  return TRUE;
}

static RsForecaster *
load_forecaster (const char *path, GError **error)
{
  g_autoptr (RsModel) model = rs_model_load (path, NULL, error);

  return model != NULL ? rs_forecaster_new (model, error) : NULL;
}

/* The refits' files, in a directory of their own. */
typedef struct {
  char *dir, *csv, *model;
} Scratch;

static void
scratch_clear (Scratch *sc)
{
  if (sc->dir == NULL)
    return;
  g_remove (sc->csv);
  g_remove (sc->model);
  g_rmdir (sc->dir);
  g_free (sc->dir);
  g_free (sc->csv);
  g_free (sc->model);
}

/* Trains on the rows up to origin k and forecasts from it. A training
 * error names the rows it was given instead of the scratch file. */
static gboolean
refit (Backtest *b, guint k, const Series *s, RsTrainSettings *settings, const Scratch *sc,
       gboolean quiet, GError **error)
{
  const gsize t = b->origins[k];
  const gsize bytes = g_array_index (s->ends, gsize, t);
  RsTrainOutcome outcome = { 0 };
  g_autoptr (RsForecaster) f = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *name = row_name (s, t);

  if (!g_file_set_contents (sc->csv, s->text, (gssize) bytes, &local) ||
      !rs_cli_train (settings, NULL, NULL, TRUE, &outcome, &local) ||
      (f = load_forecaster (sc->model, &local)) == NULL ||
      !run_forecaster (f, s, t, NULL, forecast_at (b, k, METHOD_MODEL), &local)) {
    g_autofree char *rows = g_strdup_printf ("%s (rows 1-%" G_GSIZE_FORMAT ", up to origin %u "
                                             "at %s)", s->display, t + 1, k + 1, name);
    GString *message = g_string_new (local->message);
    g_string_replace (message, sc->csv, rows, 0);
    g_set_error_literal (error, local->domain, local->code, message->str);
    g_string_free (message, TRUE);
    return FALSE;
  }
  if (rs_forecaster_transform (f)->season != b->season) {
    g_set_error (error, RS_ERROR, RS_ERROR_MODEL, "the model refitted at origin %u has a "
                 "season of %u, not %u", k + 1, rs_forecaster_transform (f)->season, b->season);
    return FALSE;
  }
  if (!quiet)
    fprintf (stderr, "backtest: origin %u/%u, rows 1-%" G_GSIZE_FORMAT " (to %s): %u epochs%s, "
             "best %u, %.2f s\n", k + 1, b->K, t + 1, name, outcome.epochs,
             outcome.stopped ? " (stopped early)" : "", outcome.best_epoch, outcome.seconds);
  return TRUE;
}

/* The origins: the last K that leave H rows after them, step apart, the
 * first with at least min_rows rows up to it; K = 0 takes every one that
 * fits. */
static gboolean
place_origins (Backtest *b, const Series *s, gsize min_rows, const char *needs, GError **error)
{
  const gsize n = s->n_rows;
  const gsize fit = n >= min_rows && n - min_rows >= b->H ? (n - b->H - min_rows) / b->step + 1
                                                          : 0;

  if (fit == 0 || b->K > fit) {
    const guint want = b->K > 0 ? b->K : 1;
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: %" G_GSIZE_FORMAT " rows are too few for "
                 "%u origin%s %u rows apart: an origin needs %" G_GSIZE_FORMAT " rows up to it "
                 "(%s) and %u after it (the horizon); %" G_GSIZE_FORMAT " fit%s", s->display, n,
                 want, want == 1 ? "" : "s", b->step, min_rows, needs, b->H, fit,
                 fit > 0 ? " (--origins)" : "");
    return FALSE;
  }
  if (b->K == 0)
    b->K = (guint) MIN (fit, (gsize) G_MAXUINT);
  b->origins = g_new (gsize, b->K);
  for (guint k = 0; k < b->K; k++)
    b->origins[k] = n - 1 - b->H - (gsize) (b->K - 1 - k) * b->step;
  return TRUE;
}

/* The baselines and scales, from the rows up to each origin. */
static void
baselines (Backtest *b, const Series *s)
{
  b->scales = g_new (double, b->K);
  for (guint k = 0; k < b->K; k++) {
    const gsize rows = b->origins[k] + 1;
    rs_forecast_seasonal_naive (s->y, rows, 1, b->H, forecast_at (b, k, METHOD_NAIVE));
    rs_forecast_seasonal_naive (s->y, rows, b->season, b->H, forecast_at (b, k, METHOD_SNAIVE));
    b->scales[k] = rs_forecast_mase_scale (s->y, rows, b->season);
  }
}

/* ---- the scores ---- */

typedef struct {
  RsForecastAccuracy *by_origin;   /* [k][method] */
  RsForecastAccuracy *by_step;     /* [h][method] */
  RsForecastAccuracy all[N_METHODS];
} Scores;

static void
score (Scores *sc, const Backtest *b, const Series *s)
{
  sc->by_origin = g_new0 (RsForecastAccuracy, (gsize) b->K * N_METHODS);
  sc->by_step = g_new0 (RsForecastAccuracy, (gsize) b->H * N_METHODS);
  memset (sc->all, 0, sizeof sc->all);
  for (guint k = 0; k < b->K; k++)
    for (guint m = 0; m < N_METHODS; m++)
      for (guint h = 0; h < b->H; h++) {
        const double y = s->y[b->origins[k] + 1 + h], f = forecast_at (b, k, m)[h];
        rs_forecast_accuracy_add (&sc->by_origin[k * N_METHODS + m], y, f, b->scales[k]);
        rs_forecast_accuracy_add (&sc->by_step[h * N_METHODS + m], y, f, b->scales[k]);
      }
  for (guint k = 0; k < b->K; k++)
    for (guint m = 0; m < N_METHODS; m++)
      rs_forecast_accuracy_merge (&sc->all[m], &sc->by_origin[k * N_METHODS + m]);
}

/* ---- the table ---- */

typedef GPtrArray Row;          /* char *, one per cell */

static void
cell (Row *row, char *text)
{
  g_ptr_array_add (row, text);
}

static char *
number (double v, int decimals)
{
  char buf[64];

  if (!isfinite (v))
    return g_strdup (isnan (v) ? "-" : "inf");
  g_snprintf (buf, sizeof buf, "%.*f", decimals, v);
  return g_strdup (buf);
}

static void
metric_cells (Row *row, const RsForecastAccuracy *acc, int rmse_decimals)
{
  for (guint m = 0; m < N_METHODS; m++)
    cell (row, number (rs_forecast_accuracy_mase (&acc[m]), 3));
  for (guint m = 0; m < N_METHODS; m++)
    cell (row, number (rs_forecast_accuracy_smape (&acc[m]), 2));
  for (guint m = 0; m < N_METHODS; m++)
    cell (row, number (rs_forecast_accuracy_rmse (&acc[m]), rmse_decimals));
}

static Row *
row_new (GPtrArray *rows)
{
  Row *row = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (rows, row);
  return row;
}

/* The gap before column c: three spaces between the groups of methods. */
static int
gap_before (guint c)
{
  return (c - 1) % N_METHODS == 0 ? 3 : 2;
}

/* The measures' names over their groups of columns, then the rows: the
 * first column left-aligned, the others right-aligned; a row of one cell
 * is a heading. */
static void
print_table (FILE *out, GPtrArray *rows)
{
  static const char *const groups[3] = { "MASE", "sMAPE %", "RMSE" };
  guint width[1 + 3 * N_METHODS] = { 0 };

  for (guint r = 0; r < rows->len; r++) {
    Row *row = rows->pdata[r];
    for (guint c = 0; row->len > 1 && c < row->len; c++)
      width[c] = MAX (width[c], (guint) strlen (row->pdata[c]));
  }
  fprintf (out, "%*s", (int) width[0], "");
  for (guint g = 0; g < 3; g++) {
    int span = 0;
    for (guint m = 0; m < N_METHODS; m++)
      span += (int) width[1 + g * N_METHODS + m] + (m > 0 ? gap_before (1 + m) : 0);
    fprintf (out, "%*s%-*s", gap_before (1), "", g < 2 ? span : 0, groups[g]);
  }
  fputc ('\n', out);
  for (guint r = 0; r < rows->len; r++) {
    Row *row = rows->pdata[r];
    if (row->len == 1) {
      fprintf (out, "%s\n", (char *) row->pdata[0]);
      continue;
    }
    fprintf (out, "%-*s", (int) width[0], (char *) row->pdata[0]);
    for (guint c = 1; c < row->len; c++)
      fprintf (out, "%*s%*s", gap_before (c), "", (int) width[c], (char *) row->pdata[c]);
    fputc ('\n', out);
  }
}

static void
print_report (const Backtest *b, const Scores *sc, const Series *s, const char *what,
              const char *target)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  double largest = 0;
  int rmse_decimals;
  Row *row;

  /* RMSE is in the data's units: four significant digits of the largest. */
  for (guint m = 0; m < N_METHODS; m++)
    if (isfinite (rs_forecast_accuracy_rmse (&sc->all[m])))
      largest = MAX (largest, rs_forecast_accuracy_rmse (&sc->all[m]));
  rmse_decimals = largest > 0 ? CLAMP (3 - (int) floor (log10 (largest)), 0, 6) : 3;

  /* Every point first, the headline; then by origin and by step. */
  row = row_new (rows);
  cell (row, g_strdup (""));
  for (guint g = 0; g < 3; g++)
    for (guint m = 0; m < N_METHODS; m++)
      cell (row, g_strdup (method_names[m]));
  row = row_new (rows);
  cell (row, g_strdup ("all"));
  metric_cells (row, sc->all, rmse_decimals);
  cell (row_new (rows), g_strdup (""));
  cell (row_new (rows), g_strdup ("origin"));
  for (guint k = 0; k < b->K; k++) {
    row = row_new (rows);
    cell (row, row_name (s, b->origins[k]));
    metric_cells (row, sc->by_origin + (gsize) k * N_METHODS, rmse_decimals);
  }
  cell (row_new (rows), g_strdup (""));
  cell (row_new (rows), g_strdup ("step"));
  for (guint h = 0; h < b->H; h++) {
    row = row_new (rows);
    cell (row, g_strdup_printf ("%u", h + 1));
    metric_cells (row, sc->by_step + (gsize) h * N_METHODS, rmse_decimals);
  }

  printf ("backtest: %s, target %s\n", what, target);
  if (b->K > 1)
    printf ("%u origins %u row%s apart", b->K, b->step, b->step == 1 ? "" : "s");
  else
    printf ("1 origin");
  printf (", %u step%s each, season %u; MASE scaled by the in-sample seasonal naive error up "
          "to each origin\n\n", b->H, b->H == 1 ? "" : "s", b->season);
  print_table (stdout, rows);
}

/* ---- the CSV files ---- */

static void
csv_number (FILE *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  fputc (',', out);
  if (isfinite (v))
    fputs (g_ascii_formatd (buf, sizeof buf, "%.10g", v), out);
}

static const char *
time_of (const Series *s, gsize t)
{
  return s->times != NULL ? s->times->pdata[t] : "";
}

static void
metrics_row (FILE *out, const char *origin, const char *row, const char *time, guint method,
             const char *step, const RsForecastAccuracy *acc)
{
  fprintf (out, "%s,%s,", origin, row);
  rs_csv_write_field (out, time);
  fprintf (out, ",%s,%s,%" G_GSIZE_FORMAT, method_names[method], step, acc->n);
  csv_number (out, rs_forecast_accuracy_mase (acc));
  csv_number (out, rs_forecast_accuracy_smape (acc));
  csv_number (out, rs_forecast_accuracy_rmse (acc));
  fputc ('\n', out);
}

/* One row per origin and method (step "all"), per step and method
 * (origin "all"), and per method over every point. */
static void
write_metrics (FILE *out, const Backtest *b, const Scores *sc, const Series *s)
{
  fprintf (out, "origin,row,time,method,step,n,MASE,sMAPE,RMSE\n");
  for (guint k = 0; k < b->K; k++) {
    g_autofree char *origin = g_strdup_printf ("%u", k + 1);
    g_autofree char *row = g_strdup_printf ("%" G_GSIZE_FORMAT, b->origins[k] + 1);
    for (guint m = 0; m < N_METHODS; m++)
      metrics_row (out, origin, row, time_of (s, b->origins[k]), m, "all",
                   &sc->by_origin[k * N_METHODS + m]);
  }
  for (guint h = 0; h < b->H; h++) {
    g_autofree char *step = g_strdup_printf ("%u", h + 1);
    for (guint m = 0; m < N_METHODS; m++)
      metrics_row (out, "all", "", "", m, step, &sc->by_step[h * N_METHODS + m]);
  }
  for (guint m = 0; m < N_METHODS; m++)
    metrics_row (out, "all", "", "", m, "all", &sc->all[m]);
}

/* One row per origin and step: the row forecast, its value and each
 * method's forecast. */
static void
write_forecasts (FILE *out, const Backtest *b, const Series *s)
{
  fprintf (out, "origin,origin_row,origin_time,step,row,time,actual");
  for (guint m = 0; m < N_METHODS; m++)
    fprintf (out, ",%s", method_names[m]);
  fputc ('\n', out);
  for (guint k = 0; k < b->K; k++)
    for (guint h = 0; h < b->H; h++) {
      const gsize t = b->origins[k] + 1 + h;
      fprintf (out, "%u,%" G_GSIZE_FORMAT ",", k + 1, b->origins[k] + 1);
      rs_csv_write_field (out, time_of (s, b->origins[k]));
      fprintf (out, ",%u,%" G_GSIZE_FORMAT ",", h + 1, t + 1);
      rs_csv_write_field (out, time_of (s, t));
      csv_number (out, s->y[t]);
      for (guint m = 0; m < N_METHODS; m++)
        csv_number (out, forecast_at (b, k, m)[h]);
      fputc ('\n', out);
    }
}

/* ---- the command ---- */

static int
fail (GError *error)
{
  const int code = error->domain == RS_ERROR && error->code == RS_ERROR_ARGUMENT
                       ? RS_EXIT_USAGE : RS_EXIT_FAILURE;
  return rs_cli_error (CMD, code, "%s", error->message);
}

/* The train settings backtest takes as flags: the forecast task's data,
 * model and training settings. The outputs are backtest's own, and the
 * task is always forecast. */
static gboolean
takes_setting (RsSettingId id)
{
  return id != RS_SET_TASK && strcmp (rs_train_setting_group (id), "output") != 0 &&
         rs_train_setting_for_task (id, "forecast");
}

/* -m: the model's columns, horizon and season. */
static gboolean
setup_model (const char *path, const char *input, const char *missing, Backtest *b, Series *s,
             RsForecaster **forecaster, char **target, GError **error)
{
  g_autofree char *columns = NULL, *time_column = NULL;
  g_auto (GStrv) names = NULL;
  g_autofree RsCsvColumn *cols = NULL;
  RsCsvOptions csv = { 0 };
  const RsForecastTransform *tr;
  g_autofree char *needs = NULL;

  if (!rs_cli_forecast_columns (path, &columns, &time_column, target, NULL, error) ||
      (*forecaster = load_forecaster (path, error)) == NULL)
    return FALSE;
  tr = rs_forecaster_transform (*forecaster);
  b->H = tr->horizon;
  b->season = tr->season;
  names = g_strsplit (columns, ",", -1);
  cols = g_new0 (RsCsvColumn, g_strv_length (names));
  for (guint i = 0; names[i] != NULL; i++)
    cols[i].name = names[i];
  csv.header = RS_CSV_HEADER_YES;
  csv.columns = cols;
  csv.n_columns = g_strv_length (names);
  csv.time_column.name = time_column;
  if (missing != NULL && !rs_csv_missing_from_name (missing, &csv.missing)) {
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "--missing: '%s' is not one of error, "
                 "skip, hold, interpolate", missing);
    return FALSE;
  }
  if (!series_read (s, input, &csv, error))
    return FALSE;
  if (b->step == 0)
    b->step = b->H;
  /* The forecaster's history, and a season of it for the MASE scale and
   * the seasonal baseline. */
  needs = g_strdup_printf ("%u for the model's first forecast, %u for a seasonal difference "
                           "to scale MASE by", rs_forecast_transform_lag (tr) + 1,
                           MAX (b->season, 1) + 1);
  return place_origins (b, s, MAX (rs_forecast_transform_lag (tr), MAX (b->season, 1)) + 1,
                        needs, error);
}

/* Refitting: the settings train would use, checked, the series read as
 * train reads it, and the scratch files the refits go through. */
static gboolean
setup_refit (RsTrainSettings *settings, Backtest *b, Series *s, Scratch *sc, char **target,
             GError **error)
{
  RsTrainConfig cfg;
  RsCsvOptions csv = { 0 };
  g_autofree RsCsvColumn *cols = NULL;
  RsForecastTransform tr = { 0 };
  RsForecastReference reference;
  g_autofree char *needs = NULL, *input = NULL;
  const char *period = "given";
  guint n_cov;
  gsize min_rows;
  gboolean ok;

  if (g_strcmp0 (settings->value[RS_SET_TASK], "forecast") != 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "%s: task is %s; backtest evaluates "
                 "forecasters (task = forecast)", settings->source[RS_SET_TASK],
                 settings->value[RS_SET_TASK]);
    return FALSE;
  }
  if ((sc->dir = g_dir_make_tmp ("rnnstream-backtest-XXXXXX", error)) == NULL)
    return FALSE;
  sc->csv = g_build_filename (sc->dir, "rows.csv", NULL);
  sc->model = g_build_filename (sc->dir, "model.safetensors", NULL);
  /* The model, and nothing else, is written: backtest keeps none of the
   * config's outputs. */
  g_free (settings->value[RS_SET_OUTPUT]);
  settings->value[RS_SET_OUTPUT] = g_strdup (sc->model);
  for (guint i = 0; i < RS_SET_COUNT; i++)
    if (i != RS_SET_OUTPUT && strcmp (rs_train_setting_group (i), "output") == 0 &&
        settings->value[i] != NULL) {
      g_free (settings->value[i]);
      settings->value[i] = i == RS_SET_CHECKPOINT_EVERY ? g_strdup ("0") : g_strdup ("");
    }
  if (!rs_train_settings_parse (settings, &cfg, error))
    return FALSE;
  input = g_strdup (cfg.input);
  *target = g_strdup (cfg.target);
  n_cov = g_strv_length (cfg.covariates);
  cols = g_new0 (RsCsvColumn, 1 + n_cov);
  cols[0] = rs_csv_column (cfg.target);
  for (guint i = 0; i < n_cov; i++)
    cols[1 + i] = rs_csv_column (cfg.covariates[i]);
  csv.columns = cols;
  csv.n_columns = 1 + n_cov;
  if (cfg.time_column[0] != '\0')
    csv.time_column = rs_csv_column (cfg.time_column);
  rs_csv_missing_from_name (cfg.missing, &csv.missing);
  rs_forecast_reference_from_name (cfg.reference, &reference);
  b->H = cfg.horizon;
  b->season = cfg.season;
  tr.horizon = cfg.horizon;
  tr.reference = reference;
  ok = series_read (s, input, &csv, error);
  if (ok && b->season == 0) {
    const RsPeriod p = s->times == NULL ? RS_PERIOD_UNKNOWN
                       : rs_time_period_of_series ((const char *const *) s->times->pdata,
                                                   s->times->len, RS_TIME_INTEGERS_AUTO);
    b->season = rs_period_season (p);
    period = s->times == NULL ? "no time column" : rs_period_name (p);
  }
  tr.season = MAX (b->season, 1);
  if (ok) {
    min_rows = MAX (rs_forecast_data_min_rows (rs_forecast_transform_lag (&tr), cfg.validation),
                    (gsize) tr.season + 1);
    needs = g_strdup_printf ("to train on, with a season of %u (%s) and %g of them held out "
                             "for validation", tr.season, period, cfg.validation);
  }
  rs_train_config_clear (&cfg);
  if (!ok)
    return FALSE;
  /* Every refit reads the scratch copy, with the one season. */
  g_free (settings->value[RS_SET_INPUT]);
  settings->value[RS_SET_INPUT] = g_strdup (sc->csv);
  g_free (settings->value[RS_SET_SEASON]);
  settings->value[RS_SET_SEASON] = g_strdup_printf ("%u", tr.season);
  if (b->step == 0)
    b->step = b->H;
  return place_origins (b, s, min_rows, needs, error);
}

int
rs_cmd_backtest (int argc, char **argv)
{
  char *flags[RS_SET_COUNT] = { NULL };
  g_autofree char *model = NULL, *config_path = NULL, *output = NULL, *forecasts_path = NULL;
  gint origins = DEFAULT_ORIGINS, step = 0;
  gboolean quiet = FALSE;
  g_autofree GOptionEntry *setting_entries = rs_train_settings_option_entries (flags);
  const GOptionEntry own[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model, "Score this forecaster as it is, without "
      "refitting (rnnstream train --task forecast)", "MODEL" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Refit at every origin with the "
      "settings of this train config (train's flags override it)", "FILE" },
    { "origins", 'k', 0, G_OPTION_ARG_INT, &origins, "Forecast origins, the last K that leave "
      "a horizon after them; 0: as many as fit (default: 5)", "K" },
    { "step", 's', 0, G_OPTION_ARG_INT, &step, "Rows between origins (default: the horizon)",
      "S" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the metrics as CSV, one row per "
      "origin, step and method, atomically", "FILE.csv" },
    { "forecasts", 0, 0, G_OPTION_ARG_FILENAME, &forecasts_path, "Write every origin's "
      "forecasts and the values they forecast as CSV, atomically", "FILE.csv" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress lines while refitting", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GArray) entries = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));
  g_autoptr (GError) error = NULL;
  g_autoptr (RsForecaster) forecaster = NULL;
  g_autoptr (RsAtomicFile) metrics_file = NULL, forecasts_file = NULL;
  g_autofree char *target = NULL, *what = NULL;
  RsTrainSettings settings;
  Backtest b = { 0 };
  Series s = { 0 };
  Scratch sc = { 0 };
  Scores scores = { 0 };
  int status = RS_EXIT_OK;

  for (guint i = 0; i < RS_SET_COUNT; i++)
    if (takes_setting (i))
      g_array_append_val (entries, setting_entries[i]);
  for (guint i = 0; own[i].long_name != NULL; i++)
    g_array_append_val (entries, own[i]);
  rs_train_settings_init (&settings);
  if (!rs_cli_parse (CMD, NULL, "Rolling-origin evaluation of a forecaster: forecasts from "
                     "the last K origins, S rows apart, each scored on the H rows after it "
                     "(MASE, sMAPE, RMSE, per origin, per step and over all), next to the "
                     "naive and seasonal naive forecasts of the same origins. With -m MODEL "
                     "the model runs over the series as it is; otherwise a model is trained "
                     "at each origin on the rows up to it alone, with the settings of "
                     "--config FILE and train's flags.",
                     (const GOptionEntry *) entries->data, &argc, &argv)) {
    status = RS_EXIT_USAGE;
    goto out;
  }
  if (argc != 1) {
    status = rs_cli_error (CMD, RS_EXIT_USAGE, "unexpected argument '%s'", argv[1]);
    goto out;
  }
  if (origins < 0 || step < 0) {
    status = rs_cli_error (CMD, RS_EXIT_USAGE, "%s must be >= %d, not %d",
                           origins < 0 ? "--origins" : "--step", origins < 0 ? 0 : 1,
                           origins < 0 ? origins : step);
    goto out;
  }
  if (model != NULL) {
    if (config_path != NULL) {
      status = rs_cli_error (CMD, RS_EXIT_USAGE, "-m scores a model as it is and --config "
                             "refits one: give one of them");
      goto out;
    }
    for (guint i = 0; i < RS_SET_COUNT; i++)
      if (flags[i] != NULL && i != RS_SET_INPUT && i != RS_SET_MISSING) {
        status = rs_cli_error (CMD, RS_EXIT_USAGE, "--%s is a training setting, and -m scores "
                               "the model as it is (refit with --config or train's flags "
                               "instead)", rs_train_setting_key (i));
        goto out;
      }
    if (flags[RS_SET_INPUT] == NULL) {
      status = rs_cli_error (CMD, RS_EXIT_USAGE, "no series given (-i SERIES.csv)");
      goto out;
    }
  }
  b.K = (guint) origins;
  b.step = (guint) step;

  /* The outputs first: a path that cannot be written fails before the
   * work, not after it. */
  if ((output != NULL && (metrics_file = rs_atomic_file_new (output, &error)) == NULL) ||
      (forecasts_path != NULL &&
       (forecasts_file = rs_atomic_file_new (forecasts_path, &error)) == NULL)) {
    status = fail (error);
    goto out;
  }

  if (model != NULL) {
    if (!setup_model (model, flags[RS_SET_INPUT], flags[RS_SET_MISSING], &b, &s, &forecaster,
                      &target, &error)) {
      status = fail (error);
      goto out;
    }
    b.forecasts = g_new (double, (gsize) b.K * N_METHODS * b.H);
    if (!run_forecaster (forecaster, &s, b.origins[b.K - 1], &b, NULL, &error)) {
      status = fail (error);
      goto out;
    }
    what = g_strdup_printf ("%s (not refitted) on %s", model, s.display);
  } else {
    if (config_path != NULL && !rs_train_settings_apply_file (&settings, config_path, &error)) {
      status = fail (error);
      goto out;
    }
    rs_train_settings_apply_flags (&settings, flags);
    rs_train_settings_default_lr (&settings);
    if (!setup_refit (&settings, &b, &s, &sc, &target, &error)) {
      status = fail (error);
      goto out;
    }
    b.forecasts = g_new (double, (gsize) b.K * N_METHODS * b.H);
    for (guint k = 0; k < b.K; k++)
      if (!refit (&b, k, &s, &settings, &sc, quiet, &error)) {
        status = fail (error);
        goto out;
      }
    what = g_strdup_printf ("refitted at each origin (%s) on %s",
                            config_path != NULL ? config_path : "train's settings", s.display);
  }

  baselines (&b, &s);
  score (&scores, &b, &s);
  if (metrics_file != NULL) {
    write_metrics (rs_atomic_file_stream (metrics_file), &b, &scores, &s);
    if (!rs_atomic_file_commit (g_steal_pointer (&metrics_file), &error)) {
      status = fail (error);
      goto out;
    }
  }
  if (forecasts_file != NULL) {
    write_forecasts (rs_atomic_file_stream (forecasts_file), &b, &s);
    if (!rs_atomic_file_commit (g_steal_pointer (&forecasts_file), &error)) {
      status = fail (error);
      goto out;
    }
  }
  print_report (&b, &scores, &s, what, target);

out:
  scratch_clear (&sc);
  series_clear (&s);
  g_free (b.origins);
  g_free (b.forecasts);
  g_free (b.scales);
  g_free (scores.by_origin);
  g_free (scores.by_step);
  rs_train_settings_clear (&settings);
  for (guint i = 0; i < RS_SET_COUNT; i++)
    g_free (flags[i]);
  return status;
}
