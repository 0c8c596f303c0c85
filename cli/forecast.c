/* rnnstream forecast -m MODEL [-i IN.csv|-]: a forecaster over a CSV
 * series, a row of forecasts after every row read, flushed at once so
 * that it works on a live pipe. A front over pipelines/forecast.pipeline;
 * the program writes the CSV (and, with --plot, draws the series, its
 * forecasts and their intervals). */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <rnnstream/rnnstream.h>

#include "cli.h"
#include "plot.h"

#define CMD "forecast"

typedef struct {
  FILE *out;
  guint H, n_values;         /* forecasts and interval bounds per row */
  gboolean numbered;         /* no time column: the row number is the time */
  /* For --plot: every row's time, observed value and forecasts. */
  gboolean keep;
  GPtrArray *times;
  GArray *observed, *values;
} Writer;

static gboolean
write_rows (const float *frames, gsize n, guint width, const gint64 *index,
            const char *const *labels, gpointer user_data, GError **error)
{
  Writer *w = user_data;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  (void) error;
  for (gsize r = 0; r < n; r++) {
    const float *row = frames + r * width;
    g_autofree char *number = w->numbered ? g_strdup_printf ("%" G_GINT64_FORMAT, index[r] + 1)
                                          : NULL;
    const char *time = w->numbered ? number : labels[r] != NULL ? labels[r] : "";

    rs_csv_write_field (w->out, time);
    /* row[0] is the observed value (forecast observed=true). */
    for (guint j = 1; j < width; j++) {
      fputc (',', w->out);
      if (!isnan (row[j]))
        fputs (g_ascii_formatd (buf, sizeof buf, "%.9g", row[j]), w->out);
    }
    fputc ('\n', w->out);
    if (w->keep) {
      double v = row[0];
      g_ptr_array_add (w->times, g_strdup (time));
      g_array_append_val (w->observed, v);
      for (guint j = 1; j < width; j++) {
        v = row[j];
        g_array_append_val (w->values, v);
      }
    }
  }
  fflush (w->out);
  return TRUE;
}

/* The time h periods after last (a row's time text), written as such
 * times are, or NULL when the period or the form does not say (indices,
 * irregular series): the labels of the forecast's steps on the x axis.
 * Calendar periods step by months from last itself, so that a series of
 * month ends stays on month ends (GLib clamps the day). */
static char *
time_after (const char *last, RsPeriod period, guint h)
{
  g_autoptr (GDateTime) base = NULL, at = NULL;
  RsTime t;
  int months = 0;
  double seconds = 0;

  if (!rs_time_parse (last, -1, RS_TIME_INTEGERS_AUTO, &t))
    return NULL;
  switch (period) {
  case RS_PERIOD_MONTHLY: months = 1; break;
  case RS_PERIOD_QUARTERLY: months = 3; break;
  case RS_PERIOD_YEARLY: months = 12; break;
  case RS_PERIOD_MINUTELY: seconds = 60; break;
  case RS_PERIOD_HOURLY: seconds = 3600; break;
  case RS_PERIOD_DAILY: seconds = 86400; break;
  case RS_PERIOD_WEEKLY: seconds = 7 * 86400; break;
  case RS_PERIOD_UNKNOWN:
  default:
    return NULL;
  }
  if (t.kind == RS_TIME_DECIMAL_YEAR) {
    /* As many decimals as the text has, as R writes them. */
    const char *dot = strchr (last, '.');
    const int decimals = dot != NULL ? (int) strspn (dot + 1, "0123456789") : 0;
    return months > 0 ? g_strdup_printf ("%.*f", decimals, t.decimal_year + h * months / 12.0)
                      : NULL;
  }
  if (t.kind != RS_TIME_YEAR && t.kind != RS_TIME_YEAR_MONTH && t.kind != RS_TIME_DATE &&
      t.kind != RS_TIME_DATETIME)
    return NULL;
  base = g_date_time_new_utc (t.year, t.month, t.day, t.hour, t.minute, t.second);
  if (base == NULL)
    return NULL;
  at = months > 0 ? g_date_time_add_months (base, months * (int) h)
                  : g_date_time_add_seconds (base, seconds * h);
  if (at == NULL)
    return NULL;
  switch (t.kind) {
  case RS_TIME_YEAR:
    return months % 12 == 0 ? g_date_time_format (at, "%Y") : NULL;
  case RS_TIME_YEAR_MONTH:
    return months > 0 ? g_date_time_format (at, "%Y-%m") : NULL;
  case RS_TIME_DATE:
    return seconds == 0 || fmod (seconds, 86400) == 0 ? g_date_time_format (at, "%Y-%m-%d")
                                                      : NULL;
  default:
    return g_date_time_format (at, "%Y-%m-%d %H:%M");
  }
}

/* The series, its one-step-ahead forecasts, and the forecast from the
 * last row with its intervals. The x axis is the rows' times: their own
 * labels and, past the last row, the forecast steps' times when the
 * series is regular; without a time column, the row numbers. The
 * one-step forecasts are drawn thin, beneath the series, so that the
 * series reads first; the forecast path starts at the last observation,
 * so that it joins the series, and so do its bands. */
static gboolean
draw (const Writer *w, const char *path, const char *target, const char *time_column,
      const char *const *levels, GError **error)
{
  const gsize n = w->observed->len, H = w->H, stride = w->n_values;
  const double *v = (const double *) w->values->data;
  g_autoptr (GString) title = g_string_new (target);
  g_autoptr (RsPlot) plot = NULL;
  g_autofree double *x = g_new (double, n + H), *one = g_new (double, n + 1);
  g_autofree double *lo = g_new (double, H + 1), *hi = g_new (double, H + 1);
  g_autofree RsPlotTick *ticks = g_new (RsPlotTick, n + H);
  g_autoptr (GPtrArray) future = g_ptr_array_new_with_free_func (g_free);
  const RsPeriod period = w->numbered ? RS_PERIOD_UNKNOWN
                          : rs_time_period_of_series ((const char *const *) w->times->pdata, n,
                                                      RS_TIME_INTEGERS_AUTO);
  guint n_levels = 0, n_ticks = 0;

  for (guint i = 0; levels != NULL && levels[i] != NULL; i++)
    n_levels++;
  if (n > 0) {
    g_string_append_printf (title, ": forecast of %" G_GSIZE_FORMAT " step%s from %s%s",
                            H, H == 1 ? "" : "s", w->numbered ? "row " : "",
                            (const char *) w->times->pdata[n - 1]);
    for (guint i = 0; i < n_levels; i++)
      g_string_append_printf (title, "%s%s%%", i == 0 ? ", with " : i + 1 == n_levels ? " and "
                                                                                     : ", ",
                              levels[i]);
    if (n_levels > 0)
      g_string_append (title, " prediction intervals");
  }
  plot = rs_plot_new (title->str, w->numbered ? "row" : time_column, target);
  /* Row numbers count from 1, as forecast writes them. */
  for (gsize i = 0; i < n + H; i++)
    x[i] = (double) i + (w->numbered ? 1 : 0);
  for (gsize i = 0; i < n; i++) {
    ticks[n_ticks].x = x[i];
    ticks[n_ticks++].text = w->times->pdata[i];
    one[i] = i > 0 ? v[(i - 1) * stride] : NAN;
  }
  for (gsize h = 1; n > 0 && h <= H; h++) {
    char *text = time_after (w->times->pdata[n - 1], period, (guint) h);
    if (text == NULL)
      continue;
    g_ptr_array_add (future, text);
    ticks[n_ticks].x = x[n - 1 + h];
    ticks[n_ticks++].text = text;
  }
  rs_plot_add_line (plot, "observed", x, (const double *) w->observed->data, n);
  rs_plot_add_line (plot, "1-step-ahead forecasts", x, one, n);
  rs_plot_set_line_style (plot, RS_PLOT_LINE_THIN);
  if (n > 0) {
    const double *last = v + (n - 1) * stride;
    g_autofree double *path_y = g_new (double, H + 1);
    path_y[0] = g_array_index (w->observed, double, n - 1);
    for (gsize h = 0; h < H; h++)
      path_y[h + 1] = last[h];
    for (guint i = 0; i < n_levels; i++) {
      g_autofree char *name = g_strdup_printf ("%s%% interval", levels[i]);
      lo[0] = hi[0] = path_y[0];
      for (gsize h = 0; h < H; h++) {
        lo[h + 1] = last[H * (1 + 2 * i) + h];
        hi[h + 1] = last[H * (2 + 2 * i) + h];
      }
      rs_plot_add_band (plot, name, x + n - 1, lo, hi, H + 1);
    }
    rs_plot_add_line (plot, "forecast", x + n - 1, path_y, H + 1);
    rs_plot_add_vline (plot, x[n - 1], "forecast origin");
  }
  if (!w->numbered)
    rs_plot_set_x_ticks (plot, ticks, n_ticks);
  return rs_plot_save_png (plot, path, 1200, 600, error);
}

gboolean
rs_cli_forecast_columns (const char *model, char **columns, char **time_column, char **target,
                         guint *horizon, GError **error)
{
  g_autoptr (RsSafetensors) st = rs_safetensors_load (model, error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GString) list = NULL;
  const char *cov, *h;
  JsonNode *root;
  guint64 H = 0;

  if (st == NULL)
    return FALSE;
  h = rs_safetensors_metadata (st, "horizon");
  if (h != NULL)
    H = g_ascii_strtoull (h, NULL, 10);
  if (g_strcmp0 (rs_safetensors_metadata (st, "task"), "forecast") != 0 ||
      rs_safetensors_metadata (st, "target") == NULL ||
      rs_safetensors_metadata (st, "forecast") == NULL || H < 1 || H > G_MAXUINT) {
    g_set_error (error, RS_ERROR, RS_ERROR_MODEL, "%s is not a forecaster (its metadata has no "
                 "task = forecast, target, horizon and forecast; rnnstream train --task "
                 "forecast makes one)", model);
    return FALSE;
  }
  *target = g_strdup (rs_safetensors_metadata (st, "target"));
  list = g_string_new (*target);
  cov = rs_safetensors_metadata (st, "covariates");
  if (cov != NULL && json_parser_load_from_data (parser, cov, -1, NULL) &&
      (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_ARRAY (root)) {
    JsonArray *a = json_node_get_array (root);
    for (guint i = 0; i < json_array_get_length (a); i++)
      g_string_append_printf (list, ",%s", json_array_get_string_element (a, i));
  }
  *columns = g_strdup (list->str);
  *time_column = g_strdup (rs_safetensors_metadata (st, "time_column"));
  if (horizon != NULL)
    *horizon = (guint) H;
  return TRUE;
}

int
rs_cmd_forecast (int argc, char **argv)
{
  g_autofree char *model = NULL, *input = NULL, *output = NULL, *intervals = NULL;
  g_autofree char *missing = NULL, *plot = NULL;
  g_autofree char *update_lr = NULL, *update_steps = NULL, *update_window = NULL;
  g_autofree char *checkpoint = NULL, *checkpoint_every = NULL, *checkpoint_input = NULL;
  gboolean update = FALSE;
  g_auto (GStrv) sets = NULL;
  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model, "Forecast model (rnnstream train --task "
      "forecast)", "MODEL" },
    { "input", 'i', 0, G_OPTION_ARG_FILENAME, &input, "The series, a CSV with a header (default: "
      "- for standard input, row by row as it arrives)", "IN.csv" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the forecasts to FILE, atomically "
      "(default: standard output, flushed after every row)", "OUT.csv" },
    { "intervals", 0, 0, G_OPTION_ARG_STRING, &intervals, "Prediction intervals of these "
      "coverages, in percent", "80,95" },
    { "missing", 0, 0, G_OPTION_ARG_STRING, &missing, "An empty, NA or NaN value: error (stop), "
      "skip the row, hold the last value, or interpolate (default: error)", "POLICY" },
    { "plot", 0, 0, G_OPTION_ARG_FILENAME, &plot, "Draw the series, the forecasts and their "
      "intervals to FILE.png at the end", "FILE.png" },
    { "update", 0, 0, G_OPTION_ARG_NONE, &update, "Adapt the model online: after every row, "
      "truncated-BPTT steps (Adam) on the targets it made known, then its forecast", NULL },
    { "update-lr", 0, 0, G_OPTION_ARG_STRING, &update_lr, "The updates' learning rate (default "
      "0.003)", "LR" },
    { "update-steps", 0, 0, G_OPTION_ARG_STRING, &update_steps, "Optimiser steps after every "
      "row (default 1)", "N" },
    { "update-window", 0, 0, G_OPTION_ARG_STRING, &update_window, "Frames each step "
      "backpropagates through (default: 2 seasons, or 24 when the season is 1)", "W" },
    { "checkpoint", 0, 0, G_OPTION_ARG_FILENAME, &checkpoint, "Save the stream's whole state to "
      "FILE atomically, every --checkpoint-every rows and at the end; when FILE exists, go on "
      "from it", "FILE" },
    { "checkpoint-every", 0, 0, G_OPTION_ARG_STRING, &checkpoint_every, "Rows between "
      "checkpoints (default 100; 0: at the end only)", "N" },
    { "checkpoint-input", 0, 0, G_OPTION_ARG_STRING, &checkpoint_input, "On a restart from the "
      "checkpoint the input is: replay (the same input from its start, default: the rows "
      "already consumed are read, checked and skipped) or continue (the rows after them)",
      "replay|continue" },
    { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Set an element's parameter in the "
      "pipeline (e.g. csvsrc.delimiter=;)", "ELEMENT.PARAM=VALUE" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL, *text = NULL, *columns = NULL, *time_column = NULL;
  g_autofree char *target = NULL;
  g_autoptr (RsPipeline) p = NULL;
  g_autoptr (GPtrArray) assign = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) levels = NULL;
  g_autoptr (RsAtomicFile) file = NULL;
  Writer w = { stdout, 0, 0, FALSE, FALSE, NULL, NULL, NULL };
  int status = RS_EXIT_OK;

  if (!rs_cli_parse (CMD, NULL, "Forecast a CSV series row by row: after every row, a row of "
                     "the forecasts of steps 1..H (header time,h1,...,hH, then the interval "
                     "bounds loP_h1.. and hiP_h1.. of each coverage P). The last row is the "
                     "forecast from the whole series. With --update the model goes on "
                     "learning from the rows; with --checkpoint a restarted run goes on "
                     "where the last one stopped, and writes the rows after it only.", entries, &argc, &argv))
    return RS_EXIT_USAGE;
  if (argc != 1)
    return rs_cli_error (CMD, RS_EXIT_USAGE, "unexpected argument '%s'", argv[1]);
  if (model == NULL)
    return rs_cli_error (CMD, RS_EXIT_USAGE, "no model given (-m MODEL)");
  if (!update && (update_lr != NULL || update_steps != NULL || update_window != NULL))
    return rs_cli_error (CMD, RS_EXIT_USAGE, "--update-%s needs --update",
                         update_lr ? "lr" : update_steps ? "steps" : "window");
  if (checkpoint == NULL && (checkpoint_every != NULL || checkpoint_input != NULL))
    return rs_cli_error (CMD, RS_EXIT_USAGE, "--checkpoint-%s needs --checkpoint FILE",
                         checkpoint_every ? "every" : "input");
  if (!rs_cli_forecast_columns (model, &columns, &time_column, &target, &w.H, &error))
    return rs_cli_error (CMD, RS_EXIT_FAILURE, "%s", error->message);

  path = rs_pipeline_locate ("forecast");
  if (path == NULL)
    return rs_cli_error (CMD, RS_EXIT_FAILURE, "the shipped pipeline 'forecast' is missing "
                         "(RNNSTREAM_PIPELINE_PATH?)");
  if (!g_file_get_contents (path, &text, NULL, &error) ||
      (p = rs_pipeline_new_to_caller (text, path, &error)) == NULL)
    return rs_cli_error (CMD, RS_EXIT_FAILURE, "%s", error->message);
  g_ptr_array_add (assign, g_strconcat ("csvsrc.location=", input ? input : "-", NULL));
  g_ptr_array_add (assign, g_strconcat ("csvsrc.columns=", columns, NULL));
  g_ptr_array_add (assign, g_strdup ("csvsrc.header=yes"));
  /* A row at a time, from a file too: every row before a bad one is
   * answered and written. */
  g_ptr_array_add (assign, g_strdup ("csvsrc.chunk=1"));
  if (time_column != NULL)
    g_ptr_array_add (assign, g_strconcat ("csvsrc.time-column=", time_column, NULL));
  if (missing != NULL)
    g_ptr_array_add (assign, g_strconcat ("csvsrc.missing=", missing, NULL));
  g_ptr_array_add (assign, g_strconcat ("forecast.model=", model, NULL));
  g_ptr_array_add (assign, g_strdup ("forecast.observed=true"));
  if (intervals != NULL)
    g_ptr_array_add (assign, g_strconcat ("forecast.intervals=", intervals, NULL));
  {
    const struct { const char *param, *value; } options[] = {
      { "update", update ? "true" : NULL }, { "update-lr", update_lr },
      { "update-steps", update_steps }, { "update-window", update_window },
      { "checkpoint", checkpoint }, { "checkpoint-every", checkpoint_every },
      { "checkpoint-input", checkpoint_input },
    };
    for (guint i = 0; i < G_N_ELEMENTS (options); i++)
      if (options[i].value != NULL)
        g_ptr_array_add (assign, g_strdup_printf ("forecast.%s=%s", options[i].param,
                                                  options[i].value));
  }
  for (guint i = 0; i < assign->len; i++)
    if (!rs_pipeline_set (p, g_ptr_array_index (assign, i), &error))
      return rs_cli_error (CMD, RS_EXIT_USAGE, "%s", error->message);
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    if (!rs_pipeline_set (p, sets[i], &error))
      return rs_cli_error (CMD, RS_EXIT_USAGE, "%s", error->message);

  levels = intervals != NULL ? g_strsplit (intervals, ",", -1) : g_new0 (char *, 1);
  for (guint i = 0; levels[i] != NULL; i++)
    g_strstrip (levels[i]);
  w.n_values = w.H * (1 + 2 * g_strv_length (levels));
  w.numbered = time_column == NULL;
  w.keep = plot != NULL;
  w.times = g_ptr_array_new_with_free_func (g_free);
  w.observed = g_array_new (FALSE, FALSE, sizeof (double));
  w.values = g_array_new (FALSE, FALSE, sizeof (double));

  if (output != NULL) {
    if ((file = rs_atomic_file_new (output, &error)) == NULL) {
      status = rs_cli_error (CMD, RS_EXIT_FAILURE, "%s", error->message);
      goto out;
    }
    w.out = rs_atomic_file_stream (file);
  }
  {
    g_auto (GStrv) names = rs_forecast_column_names (w.H, (const char *const *) levels);
    rs_csv_write_field (w.out, "time");
    for (guint i = 0; names[i] != NULL; i++) {
      fputc (',', w.out);
      rs_csv_write_field (w.out, names[i]);
    }
    fputc ('\n', w.out);
    fflush (w.out);
  }
  rs_cli_catch_interrupts ();
  if (!rs_pipeline_run_frames (p, write_rows, &w, &error)) {
    status = rs_cli_error (CMD, RS_EXIT_FAILURE, "%s", error->message);
    goto out;
  }
  if (file != NULL && !rs_atomic_file_commit (g_steal_pointer (&file), &error)) {
    status = rs_cli_error (CMD, RS_EXIT_FAILURE, "%s", error->message);
    goto out;
  }
  if (plot != NULL) {
    if (!draw (&w, plot, target, time_column, (const char *const *) levels, &error))
      status = rs_cli_error (CMD, RS_EXIT_FAILURE, "%s", error->message);
    rs_plot_release_static_data ();
  }
out:
  g_ptr_array_unref (w.times);
  g_array_unref (w.observed);
  g_array_unref (w.values);
  return status;
}
