/* lags, diff, standardize and calendar: the time-series feature stages of
 * rnnstream/series-features.h as pipeline elements.
 *
 * Each takes one frame and gives at most one frame back at once, with the
 * frame's index and label (a CSV time column) passed through: no stage
 * looks ahead, so there is no latency, only a warm-up (lags, diff) during
 * which rows fill the history and give no frame. Memory is fixed at start.
 * The stages compute in double, as the library does; frames are float
 * between elements. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "../element.h"
#include "rnnstream/safetensors.h"
#include "rnnstream/series-features.h"
#include "rnnstream/series-time.h"

/* Values listed by --stats per line. */
#define REPORT_MAX_VALUES 8

/* Widest frame lags may make (its window holds two copies of it). */
#define LAGS_MAX_WIDTH (1u << 22)

typedef struct Series Series;

/* Turns one input row into *y (NULL: no frame for this row, warm-up). */
typedef gboolean (*SeriesPush) (RsElement *self, const double *row, const char *label,
                                gint64 index, const double **y, GError **error);

struct Series {
  SeriesPush push;
  double *row;               /* the input frame in double */
  double *out;               /* standardize invert=true and calendar: the output frame */
  guint64 n_in, n_out;
  RsLagWindow *lags;
  RsDifference *diff;
  RsStandardise *standardise;
  gboolean invert;
  char *origin;              /* standardize: where fixed statistics come from */
  RsCalendar *calendar;
  guint features;
  RsTimeIntegers integers;   /* calendar: AUTO until the first integer time decides */
  RsTimeKind kind;           /* calendar: the kind of the first time */
};

static Series *
series_new (RsElement *self)
{
  Series *s = g_new0 (Series, 1);

  self->priv = s;
  return s;
}

/* Common start: the input width must be known (the source probes its
 * data when nothing else set it). */
static gboolean
series_begin (RsElement *self, Series *s, GError **error)
{
  if (!rs_element_need_input_width (self, error))
    return FALSE;
  s->row = g_new (double, self->in.width);
  self->out.rate = self->in.rate;
  return TRUE;
}

static gboolean
series_process (RsElement *self, const RsBlock *in, RsBlock *out, GError **error)
{
  Series *s = self->priv;

  for (gsize r = 0; r < in->n; r++) {
    const float *x = in->data + r * in->width;
    const double *y = NULL;
    float *dst;

    for (guint j = 0; j < in->width; j++)
      s->row[j] = x[j];
    s->n_in++;
    if (!s->push (self, s->row, in->labels[r], in->index[r], &y, error))
      return FALSE;
    if (y == NULL)
      continue;
    dst = rs_block_append (out, NULL, in->index[r], in->labels[r]);
    for (guint j = 0; j < out->width; j++)
      dst[j] = (float) y[j];
    s->n_out++;
  }
  return TRUE;
}

static void
series_stop (RsElement *self)
{
  Series *s = self->priv;

  if (s == NULL)
    return;
  rs_lag_window_free (s->lags);
  rs_difference_free (s->diff);
  rs_standardise_free (s->standardise);
  rs_calendar_free (s->calendar);
  g_free (s->origin);
  g_free (s->row);
  g_free (s->out);
  g_free (s);
  self->priv = NULL;
}

/* lags */

static const RsParamSpec lags_params[] = {
  { "lags", RS_PARAM_INT, NULL, "rows in the window: the frame is the last LAGS rows, oldest "
    "first", 1, 100000, NULL },
  { "zero-pad", RS_PARAM_BOOL, "false", "false: the first lags-1 rows only fill the window and "
    "give no frame; true: every row gives a frame, zeros standing for the rows before the "
    "first", 1, 0, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
lags_push (RsElement *self, const double *row, const char *label, gint64 index,
           const double **y, GError **error)
{
  Series *s = self->priv;

  (void) label;
  (void) index;
  (void) error;
  *y = rs_lag_window_push (s->lags, row);
  return TRUE;
}

static gboolean
lags_start (RsElement *self, GError **error)
{
  Series *s = series_new (self);
  guint lags = (guint) rs_element_int (self, "lags");

  if (!series_begin (self, s, error))
    return FALSE;
  if ((guint64) lags * self->in.width > LAGS_MAX_WIDTH)
    return rs_element_fail (self, error, "%u lags of %u values make frames of %" G_GUINT64_FORMAT
                            " values, more than %u", lags, self->in.width,
                            (guint64) lags * self->in.width, LAGS_MAX_WIDTH);
  s->push = lags_push;
  s->lags = rs_lag_window_new (self->in.width, lags, rs_element_bool (self, "zero-pad"));
  self->out.width = rs_lag_window_width_out (s->lags);
  return TRUE;
}

static void
lags_report (RsElement *self, GString *out)
{
  Series *s = self->priv;
  gint64 lags = rs_element_int (self, "lags");

  if (s == NULL || s->lags == NULL)
    return;
  g_string_append_printf (out, "%s: %" G_GINT64_FORMAT " rows of %u values -> %u, oldest "
                          "first; %s; %" G_GUINT64_FORMAT " rows in, %" G_GUINT64_FORMAT
                          " frames out\n", self->name, lags, self->in.width, self->out.width,
                          rs_element_bool (self, "zero-pad") ? "zero-padded"
                                                             : "the first rows fill the window",
                          s->n_in, s->n_out);
}

/* diff */

static const RsParamSpec diff_params[] = {
  { "order", RS_PARAM_INT, "1", "ordinary differences: 1 gives x[t] - x[t-1]", 0,
    RS_DIFFERENCE_MAX_ORDER, NULL },
  { "seasonal-lag", RS_PARAM_INT, "0", "s > 0 first takes x[t] - x[t-s] (12 for monthly "
    "data); 0: none", 0, RS_DIFFERENCE_MAX_SEASONAL_LAG, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
diff_push (RsElement *self, const double *row, const char *label, gint64 index,
           const double **y, GError **error)
{
  Series *s = self->priv;

  (void) label;
  (void) index;
  (void) error;
  *y = rs_difference_push (s->diff, row);
  return TRUE;
}

static gboolean
diff_start (RsElement *self, GError **error)
{
  Series *s = series_new (self);

  if (!series_begin (self, s, error))
    return FALSE;
  if ((guint64) self->in.width * rs_element_int (self, "seasonal-lag") > G_MAXUINT)
    return rs_element_fail (self, error, "seasonal-lag=%" G_GINT64_FORMAT " over %u values "
                            "is too much history", rs_element_int (self, "seasonal-lag"),
                            self->in.width);
  s->push = diff_push;
  s->diff = rs_difference_new (self->in.width, (guint) rs_element_int (self, "order"),
                               (guint) rs_element_int (self, "seasonal-lag"));
  self->out.width = self->in.width;
  return TRUE;
}

static void
diff_report (RsElement *self, GString *out)
{
  Series *s = self->priv;

  if (s == NULL || s->diff == NULL)
    return;
  g_string_append_printf (out, "%s: order %" G_GINT64_FORMAT ", seasonal lag %" G_GINT64_FORMAT
                          ": the first %" G_GINT64_FORMAT " rows fill the history; %"
                          G_GUINT64_FORMAT " rows in, %" G_GUINT64_FORMAT " frames out\n",
                          self->name, rs_element_int (self, "order"),
                          rs_element_int (self, "seasonal-lag"),
                          rs_element_int (self, "order") + rs_element_int (self, "seasonal-lag"),
                          s->n_in, s->n_out);
}

/* standardize */

static const RsParamSpec standardize_params[] = {
  { "mean", RS_PARAM_STRING, "", "means, comma-separated: one per value, or one for all", 1, 0,
    NULL },
  { "std", RS_PARAM_STRING, "", "standard deviations (> 0), as mean", 1, 0, NULL },
  { "from-model", RS_PARAM_STRING, "", "model file whose metadata 'normalisation' "
    "({\"mean\": [...], \"std\": [...]}) gives mean and std; neither this nor mean/std: running "
    "estimates over the rows so far, this one included (population std; 0 out while a value "
    "has not varied)", 1, 0, NULL },
  { "key", RS_PARAM_STRING, "normalisation", "the metadata key from-model reads: "
    "normalisation (the model's inputs), or target_normalisation (what rnnstream train "
    "records to turn a forecaster's outputs back into data units, with invert=true)", 1, 0,
    NULL },
  { "invert", RS_PARAM_BOOL, "false", "x = z * std + mean: a model's output in standardised "
    "units back to the series' (needs mean/std or from-model)", 1, 0, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
standardize_push (RsElement *self, const double *row, const char *label, gint64 index,
                  const double **y, GError **error)
{
  Series *s = self->priv;

  (void) label;
  (void) index;
  (void) error;
  if (s->invert) {
    rs_standardise_invert (s->standardise, row, s->out);
    *y = s->out;
  } else {
    *y = rs_standardise_push (s->standardise, row);
  }
  return TRUE;
}

static gboolean
is_number (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && (json_node_get_value_type (node) == G_TYPE_DOUBLE ||
                                          json_node_get_value_type (node) == G_TYPE_INT64);
}

/* Reads the key of a normalisation object: an array of numbers, or one
 * number (one value, as a forecaster's single target). */
static GArray *
json_numbers (JsonObject *object, const char *key)
{
  JsonNode *node = json_object_get_member (object, key);
  JsonArray *array;
  GArray *values;

  if (node != NULL && is_number (node)) {
    double v = json_node_get_double (node);

    values = g_array_new (FALSE, FALSE, sizeof (double));
    g_array_append_val (values, v);
    return values;
  }
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  array = json_node_get_array (node);
  values = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *item = json_array_get_element (array, i);
    double v;

    if (!is_number (item)) {
      g_array_unref (values);
      return NULL;
    }
    v = json_node_get_double (item);
    g_array_append_val (values, v);
  }
  return values;
}

/* The model file's normalisation metadata (see the README's schema). */
static gboolean
normalisation_from_model (RsElement *self, const char *path, GArray **mean, GArray **std,
                          GError **error)
{
  const char *key = rs_element_string (self, "key");
  g_autoptr (GError) local = NULL;
  g_autoptr (RsSafetensors) st = rs_safetensors_load (path, &local);
  g_autoptr (JsonParser) parser = NULL;
  const char *text;
  JsonNode *root;

  if (st == NULL)
    return rs_element_fail (self, error, "%s", local->message);
  text = rs_safetensors_metadata (st, key);
  if (text == NULL)
    return rs_element_fail (self, error, "%s has no metadata '%s' to take mean and std from",
                            path, key);
  parser = json_parser_new ();
  if (json_parser_load_from_data (parser, text, -1, NULL)) {
    root = json_parser_get_root (parser);
    if (root != NULL && JSON_NODE_HOLDS_OBJECT (root)) {
      *mean = json_numbers (json_node_get_object (root), "mean");
      *std = json_numbers (json_node_get_object (root), "std");
      if (*mean != NULL && *std != NULL)
        return TRUE;
    }
  }
  return rs_element_fail (self, error, "%s: metadata '%s' is not {\"mean\": [numbers], "
                          "\"std\": [numbers]}", path, key);
}

static gboolean
standardize_start (RsElement *self, GError **error)
{
  Series *s = series_new (self);
  gboolean has_mean = rs_element_is_set (self, "mean"), has_std = rs_element_is_set (self, "std");
  const char *model = rs_element_string (self, "from-model");
  g_autoptr (GArray) mean = NULL;
  g_autoptr (GArray) std = NULL;
  g_autoptr (GError) local = NULL;
  guint n;

  s->invert = rs_element_bool (self, "invert");
  if (has_mean != has_std)
    return rs_element_fail (self, error, "mean= and std= go together");
  if (has_mean && model[0] != '\0')
    return rs_element_fail (self, error, "mean= and std=, or from-model=: not both");
  if (!has_mean && model[0] == '\0') {
    /* Running estimates: any width. */
    if (s->invert)
      return rs_element_fail (self, error, "invert=true needs mean= and std= or from-model=: "
                              "running estimates of its own input would undo nothing");
    if (!series_begin (self, s, error))
      return FALSE;
    s->standardise = rs_standardise_new_running (self->in.width);
    s->push = standardize_push;
    self->out.width = self->in.width;
    return TRUE;
  }

  if (has_mean) {
    mean = rs_element_numbers (self, "mean", rs_element_string (self, "mean"), error);
    std = mean != NULL ? rs_element_numbers (self, "std", rs_element_string (self, "std"), error)
                       : NULL;
    if (std == NULL)
      return FALSE;
    s->origin = g_strdup ("given");
  } else {
    if (!normalisation_from_model (self, model, &mean, &std, error))
      return FALSE;
    s->origin = g_strdup_printf ("from %s", model);
  }
  if (mean->len != std->len || mean->len == 0)
    return rs_element_fail (self, error, "%u mean(s) %s, but %u std(s)", mean->len,
                            s->origin, std->len);
  n = mean->len;
  /* Statistics for several values fix the width, as a model's inputs do
   * (the stage before adopts it); a single pair applies to every value. */
  if (n > 1 && self->in.width == 0)
    self->in.width = n;
  if (!series_begin (self, s, error))
    return FALSE;
  if (n > 1 && n != self->in.width)
    return rs_element_fail (self, error, "%u means and stds (%s), but the stage before it gives "
                            "%u values per frame", n, s->origin, self->in.width);
  while (mean->len < self->in.width) {
    double m = g_array_index (mean, double, 0), d = g_array_index (std, double, 0);

    g_array_append_val (mean, m);
    g_array_append_val (std, d);
  }
  s->standardise = rs_standardise_new_fixed (self->in.width, (const double *) mean->data,
                                             (const double *) std->data, &local);
  if (s->standardise == NULL)
    return rs_element_fail (self, error, "%s (%s)", local->message, s->origin);
  s->out = g_new (double, self->in.width);
  s->push = standardize_push;
  self->out.width = self->in.width;
  return TRUE;
}

static void
append_values (GString *out, const char *what, const double *v, guint n)
{
  g_string_append_printf (out, " %s", what);
  for (guint i = 0; i < n && i < REPORT_MAX_VALUES; i++)
    g_string_append_printf (out, "%s%.6g", i > 0 ? ", " : " ", v[i]);
  if (n > REPORT_MAX_VALUES)
    g_string_append (out, ", ...");
}

static void
standardize_report (RsElement *self, GString *out)
{
  Series *s = self->priv;

  if (s == NULL || s->standardise == NULL)
    return;
  g_string_append_printf (out, "%s: %s, %s mean and std", self->name,
                          s->invert ? "inverse (x = z * std + mean)" : "z = (x - mean) / std",
                          s->origin != NULL ? s->origin : "running");
  if (s->origin == NULL)
    g_string_append_printf (out, " over %" G_GUINT64_FORMAT " rows; at the end:", s->n_in);
  else
    g_string_append_c (out, ':');
  append_values (out, "mean", rs_standardise_mean (s->standardise), self->in.width);
  g_string_append_c (out, ';');
  append_values (out, "std", rs_standardise_std (s->standardise), self->in.width);
  g_string_append_c (out, '\n');
}

/* calendar */

static const struct {
  const char *name;
  RsCalendarFeature feature;
} calendar_names[] = {
  { "position", RS_CALENDAR_POSITION },
  { "month", RS_CALENDAR_MONTH },
  { "quarter", RS_CALENDAR_QUARTER },
  { "weekday", RS_CALENDAR_WEEKDAY },
  { "hour", RS_CALENDAR_HOUR },
};

static const RsParamSpec calendar_params[] = {
  { "features", RS_PARAM_STRING, NULL, "comma-separated, appended in this order whatever the "
    "order given: position (rows before this one), month (sin, cos), quarter (one-hot, 4), "
    "weekday (sin, cos; Monday 0), hour (sin, cos, with minutes and seconds)", 1, 0, NULL },
  { "integers", RS_PARAM_ENUM, "auto", "a time that is a plain integer: a year (1949), a row "
    "index, or auto: four digits are a year, and the first integer time decides for all",
    1, 0, "auto|index|year" },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
calendar_push (RsElement *self, const double *row, const char *label, gint64 index,
               const double **y, GError **error)
{
  Series *s = self->priv;
  RsTime time = { 0 };         /* RS_TIME_NONE: all position needs */
  g_autoptr (GError) local = NULL;
  const double *features;

  if (s->features != RS_CALENDAR_POSITION) {
    if (label == NULL)
      return rs_element_fail (self, error, "frame %" G_GINT64_FORMAT " has no time: set the "
                              "source's time-column=", index);
    if (!rs_time_parse (label, -1, s->integers, &time))
      return rs_element_fail (self, error, "frame %" G_GINT64_FORMAT ": time '%s' is not a "
                              "date or time", index, label);
    /* As the CSV reader does: an index that grows to four digits stays an
     * index. */
    if (s->integers == RS_TIME_INTEGERS_AUTO && time.kind == RS_TIME_INDEX)
      s->integers = RS_TIME_INTEGERS_INDEX;
    else if (s->integers == RS_TIME_INTEGERS_AUTO && time.kind == RS_TIME_YEAR)
      s->integers = RS_TIME_INTEGERS_YEAR;
    if (s->kind == RS_TIME_NONE)
      s->kind = time.kind;
  }
  features = rs_calendar_push (s->calendar, &time, &local);
  if (features == NULL)
    return rs_element_fail (self, error, "frame %" G_GINT64_FORMAT ": time '%s': %s", index,
                            label != NULL ? label : "", local->message);
  memcpy (s->out, row, self->in.width * sizeof (double));
  memcpy (s->out + self->in.width, features,
          rs_calendar_width_out (s->calendar) * sizeof (double));
  *y = s->out;
  return TRUE;
}

static gboolean
calendar_start (RsElement *self, GError **error)
{
  Series *s = series_new (self);
  g_auto (GStrv) names = g_strsplit (rs_element_string (self, "features"), ",", -1);
  const char *integers = rs_element_string (self, "integers");

  for (guint i = 0; names[i] != NULL; i++) {
    gsize k = 0;

    g_strstrip (names[i]);
    while (k < G_N_ELEMENTS (calendar_names) && strcmp (names[i], calendar_names[k].name) != 0)
      k++;
    if (k == G_N_ELEMENTS (calendar_names))
      return rs_element_fail (self, error, "features: unknown feature '%s' (known: position, "
                              "month, quarter, weekday, hour)", names[i]);
    s->features |= calendar_names[k].feature;
  }
  if (s->features == 0)
    return rs_element_fail (self, error, "features: none chosen");
  s->integers = strcmp (integers, "index") == 0  ? RS_TIME_INTEGERS_INDEX
                : strcmp (integers, "year") == 0 ? RS_TIME_INTEGERS_YEAR
                                                 : RS_TIME_INTEGERS_AUTO;
  if (!series_begin (self, s, error))
    return FALSE;
  s->calendar = rs_calendar_new (s->features);
  s->push = calendar_push;
  self->out.width = self->in.width + rs_calendar_width_out (s->calendar);
  s->out = g_new (double, self->out.width);
  return TRUE;
}

static void
calendar_report (RsElement *self, GString *out)
{
  Series *s = self->priv;

  if (s == NULL || s->calendar == NULL)
    return;
  g_string_append_printf (out, "%s: %u values + %u calendar features", self->name,
                          self->in.width, rs_calendar_width_out (s->calendar));
  if (s->kind != RS_TIME_NONE)
    g_string_append_printf (out, "; times of kind %s", rs_time_kind_name (s->kind));
  g_string_append_printf (out, "; %" G_GUINT64_FORMAT " frames\n", s->n_out);
}

const RsElementClass rs_lags_class = {
  .type = "lags",
  .description = "a sliding window: each frame becomes the last LAGS frames, oldest first",
  .role = RS_ELEMENT_FILTER,
  .params = lags_params,
  .start = lags_start,
  .process = series_process,
  .stop = series_stop,
  .report = lags_report,
};

const RsElementClass rs_diff_class = {
  .type = "diff",
  .description = "differencing, per value: (1 - B)^order (1 - B^seasonal-lag) x",
  .role = RS_ELEMENT_FILTER,
  .params = diff_params,
  .start = diff_start,
  .process = series_process,
  .stop = series_stop,
  .report = diff_report,
};

const RsElementClass rs_standardize_class = {
  .type = "standardize",
  .description = "z = (x - mean) / std per value, with given, model-file or running statistics "
                 "(or the inverse)",
  .role = RS_ELEMENT_FILTER,
  .params = standardize_params,
  .start = standardize_start,
  .process = series_process,
  .stop = series_stop,
  .report = standardize_report,
};

const RsElementClass rs_calendar_class = {
  .type = "calendar",
  .description = "appends calendar and position features of each frame's time (its label: "
                 "csvsrc time-column=)",
  .role = RS_ELEMENT_FILTER,
  .params = calendar_params,
  .start = calendar_start,
  .process = series_process,
  .stop = series_stop,
  .report = calendar_report,
};
