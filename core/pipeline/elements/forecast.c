/* forecast: a forecast model (rnnstream/forecaster.h) over rows of a
 * series; after each row, the forecasts of steps 1..H and, when asked,
 * prediction intervals. With update=true the model goes on learning from
 * the rows; with checkpoint=FILE the stream's whole state is saved to FILE
 * (rnnstream/forecast-state.h) and a restarted run goes on from it.
 *
 * Restarting: the checkpoint also records how many rows of the input were
 * consumed and an FNV-1a hash of them (their values' bits and time
 * labels). With checkpoint-input=replay (the default) the input is given
 * again from its start, as a file or `tail -n +1 -f` gives it: those rows
 * are read and hashed but not forecast, and the hash must match, so a
 * different input is refused instead of silently continued. With
 * checkpoint-input=continue the input is the rows after them (a feed that
 * cannot replay); the frame numbers go on from the checkpoint's. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "../element.h"
#include "rnnstream/atomic-file.h"
#include "rnnstream/error.h"
#include "rnnstream/forecast-state.h"
#include "rnnstream/forecaster.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

typedef struct {
  RsForecaster *forecaster;
  GArray *levels;            /* double, in (0, 1) */
  char **names;              /* the output columns */
  double *covariates, *values;
  guint H, n_cov;
  gboolean observed;         /* the row's target first */
  /* checkpoints */
  const char *checkpoint;    /* NULL: none */
  guint64 every;             /* rows between them; 0: at the end only */
  guint64 consumed;          /* rows of the input taken, skipped ones included */
  guint64 hash;              /* of those rows */
  GString *last_time;        /* the last one's label */
  guint64 skip;              /* replay: rows still to read without forecasting */
  guint64 expect_hash;       /* replay: the checkpoint's hash, due when skip reaches 0 */
  char *expect_time;         /* and its last row's label (NULL: none) */
  gint64 index_offset;       /* continue: rows the checkpoint consumed */
} Forecast;

static const RsParamSpec forecast_params[] = {
  { "model", RS_PARAM_STRING, NULL, "model file trained by rnnstream train --task forecast", 1,
    0, NULL },
  { "intervals", RS_PARAM_STRING, "", "coverages of prediction intervals in percent, "
    "comma-separated, e.g. 80,95", 1, 0, NULL },
  { "observed", RS_PARAM_BOOL, "false", "put the row's target (as read) before the forecasts, "
    "for plotting and scoring", 1, 0, NULL },
  { "update", RS_PARAM_BOOL, "false", "adapt the model online: after each row, truncated-BPTT "
    "steps (Adam) on the targets it made known, then the row's forecast", 1, 0, NULL },
  { "update-lr", RS_PARAM_DOUBLE, "", "update=true: the learning rate (0.003)", 1e-12, 10, NULL },
  { "update-steps", RS_PARAM_INT, "", "update=true: optimiser steps after each row (1)", 1,
    1000, NULL },
  { "update-window", RS_PARAM_INT, "", "update=true: frames each step backpropagates through "
    "(2 seasons, or 24 when the season is 1)", 1, 100000, NULL },
  { "checkpoint", RS_PARAM_STRING, "", "file to save the stream's whole state to, atomically, "
    "every checkpoint-every rows and at the end; when it exists the run goes on from it", 1, 0,
    NULL },
  { "checkpoint-every", RS_PARAM_INT, "100", "rows between checkpoints; 0: at the end only", 0,
    9e18, NULL },
  { "checkpoint-input", RS_PARAM_ENUM, "replay", "on a restart from a checkpoint the input is: "
    "replay (the same input from its start; the rows the checkpoint consumed are read, checked "
    "and skipped) or continue (the rows after them)", 1, 0, "replay|continue" },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
parse_levels (RsElement *self, Forecast *f, GError **error)
{
  g_autoptr (GArray) percent = NULL;

  f->levels = g_array_new (FALSE, FALSE, sizeof (double));
  if (!rs_element_is_set (self, "intervals"))
    return TRUE;
  percent = rs_element_numbers (self, "intervals", rs_element_string (self, "intervals"), error);
  if (percent == NULL)
    return FALSE;
  for (guint i = 0; i < percent->len; i++) {
    const double p = g_array_index (percent, double, i);
    double level = p / 100;
    if (!(p > 0 && p < 100))
      return rs_element_fail (self, error, "intervals: %g is not a coverage between 0 and 100 "
                              "(percent)", p);
    g_array_append_val (f->levels, level);
  }
  if (!rs_forecaster_has_intervals (f->forecaster))
    return rs_element_fail (self, error, "%s has no measured errors to make intervals from "
                            "(retrain it with this version of rnnstream train)",
                            rs_element_string (self, "model"));
  return TRUE;
}

/* The hash of the rows so far and one more: FNV-1a over its values'
 * bits, its label and a terminating byte UTF-8 text never holds. */
static guint64
row_hash (guint64 h, const float *row, guint width, const char *label)
{
  for (guint j = 0; j < width; j++) {
    guint32 bits;
    memcpy (&bits, &row[j], sizeof bits);
    for (guint k = 0; k < 4; k++)
      h = (h ^ ((bits >> (8 * k)) & 0xff)) * FNV_PRIME;
  }
  for (const char *p = label != NULL ? label : ""; *p != '\0'; p++)
    h = (h ^ (guint8) *p) * FNV_PRIME;
  return (h ^ 0xff) * FNV_PRIME;
}

static gboolean
parse_update (RsElement *self, Forecast *f, GError **error)
{
  RsForecastUpdate u = RS_FORECAST_UPDATE_INIT;
  static const char *const settings[] = { "update-lr", "update-steps", "update-window" };
  g_autoptr (GError) local = NULL;

  if (!rs_element_bool (self, "update")) {
    for (guint i = 0; i < G_N_ELEMENTS (settings); i++)
      if (rs_element_is_set (self, settings[i]))
        return rs_element_fail (self, error, "%s is set, but update is false", settings[i]);
    return TRUE;
  }
  if (rs_element_is_set (self, "update-lr"))
    u.lr = rs_element_double (self, "update-lr");
  if (rs_element_is_set (self, "update-steps"))
    u.steps = (guint) rs_element_int (self, "update-steps");
  if (rs_element_is_set (self, "update-window"))
    u.window = (guint) rs_element_int (self, "update-window");
  if (!rs_forecaster_set_update (f->forecaster, &u, &local))
    return rs_element_fail (self, error, "%s", local->message);
  return TRUE;
}

/* A whole number in base 10 or 16 (all of text, digits only). */
static gboolean
parse_number (const char *text, guint base, guint64 *out)
{
  char *end;

  if (text == NULL || !g_ascii_isxdigit (text[0]) || (base == 10 && !g_ascii_isdigit (text[0])))
    return FALSE;
  *out = g_ascii_strtoull (text, &end, base);
  return *end == '\0' && end - text <= (base == 10 ? 19 : 16);
}

/* Goes on from the checkpoint when it exists; makes sure it can be
 * written either way, so that a run fails now rather than at its first
 * checkpoint. */
static gboolean
open_checkpoint (RsElement *self, Forecast *f, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (RsSafetensors) st = NULL;
  RsAtomicFile *probe;
  const char *time;
  guint64 n, h;

  f->hash = FNV_OFFSET;
  f->last_time = g_string_new (NULL);
  if (g_file_test (f->checkpoint, G_FILE_TEST_EXISTS)) {
    st = rs_safetensors_load (f->checkpoint, &local);
    if (st == NULL)
      return rs_element_fail (self, error, "cannot read the checkpoint: %s", local->message);
    if (!rs_forecaster_restore (f->forecaster, st, f->checkpoint, &local))
      return rs_element_fail (self, error, "%s", local->message);
    time = rs_safetensors_metadata (st, "input.last_time");
    if (!parse_number (rs_safetensors_metadata (st, "input.rows"), 10, &n)
        || !parse_number (rs_safetensors_metadata (st, "input.fnv1a"), 16, &h))
      return rs_element_fail (self, error, "%s: damaged checkpoint: 'input.rows' or "
                              "'input.fnv1a' is missing or malformed", f->checkpoint);
    if (strcmp (rs_element_string (self, "checkpoint-input"), "replay") == 0) {
      f->skip = n;
      f->expect_hash = h;
      f->expect_time = g_strdup (time);
    } else {
      f->consumed = n;
      f->hash = h;
      f->index_offset = (gint64) n;
      g_string_assign (f->last_time, time != NULL ? time : "");
    }
  }
  probe = rs_atomic_file_new (f->checkpoint, &local);
  if (probe == NULL)
    return rs_element_fail (self, error, "cannot write the checkpoint: %s", local->message);
  rs_atomic_file_abort (probe);
  return TRUE;
}

static gboolean
save_checkpoint (RsElement *self, Forecast *f, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *rows = g_strdup_printf ("%" G_GUINT64_FORMAT, f->consumed);
  g_autofree char *hash = g_strdup_printf ("%016" G_GINT64_MODIFIER "x", f->hash);
  const char *metadata[] = { "input.rows", rows, "input.fnv1a", hash,
                             f->last_time->len > 0 ? "input.last_time" : NULL,
                             f->last_time->str, NULL };

  if (!rs_forecaster_save (f->forecaster, f->checkpoint, metadata, &local))
    return rs_element_fail (self, error, "%s", local->message);
  return TRUE;
}

static gboolean
forecast_start (RsElement *self, GError **error)
{
  Forecast *f = g_new0 (Forecast, 1);
  g_autoptr (RsModel) model = NULL;
  g_auto (GStrv) parts = NULL, names = NULL;
  const RsForecastTransform *tr;

  self->priv = f;
  model = rs_model_load (rs_element_string (self, "model"), NULL, error);
  if (model == NULL)
    return FALSE;
  f->forecaster = rs_forecaster_new (model, error);
  if (f->forecaster == NULL)
    return FALSE;
  tr = rs_forecaster_transform (f->forecaster);
  f->H = tr->horizon;
  f->n_cov = tr->n_covariates;
  if (!parse_levels (self, f, error) || !parse_update (self, f, error))
    return FALSE;
  f->every = (guint64) rs_element_int (self, "checkpoint-every");
  if (rs_element_is_set (self, "checkpoint")) {
    f->checkpoint = rs_element_string (self, "checkpoint");
    if (!open_checkpoint (self, f, error))
      return FALSE;
  }
  if (self->in.width != 0 && self->in.width != 1 + f->n_cov)
    return rs_element_fail (self, error, "%s takes the target and %u covariate%s per row (%u "
                            "values), but the stage before gives %u",
                            rs_element_string (self, "model"), f->n_cov, f->n_cov == 1 ? "" : "s",
                            1 + f->n_cov, self->in.width);
  self->in.width = 1 + f->n_cov;
  /* The column names keep the coverages as written ("80", "97.5"). */
  parts = f->levels->len > 0 ? g_strsplit (rs_element_string (self, "intervals"), ",", -1)
                             : g_new0 (char *, 1);
  for (guint i = 0; parts[i] != NULL; i++)
    g_strstrip (parts[i]);
  names = rs_forecast_column_names (f->H, (const char *const *) parts);
  f->observed = rs_element_bool (self, "observed");
  f->names = g_new0 (char *, g_strv_length (names) + 2);
  if (f->observed)
    f->names[0] = g_strdup ("observed");
  for (guint i = 0; names[i] != NULL; i++)
    f->names[i + f->observed] = g_strdup (names[i]);
  f->covariates = g_new0 (double, MAX (f->n_cov, 1));
  f->values = g_new (double, 2 * (gsize) f->H);
  self->out.width = f->observed + f->H * (1 + 2 * f->levels->len);
  self->out.rate = self->in.rate;
  self->out.names = (const char *const *) f->names;
  self->out.label_name = "time";
  return TRUE;
}

/* Replay: one of the rows the checkpoint consumed, read again. The last
 * of them must end the same hash. */
static gboolean
skip_row (RsElement *self, Forecast *f, const float *row, const char *label, GError **error)
{
  f->hash = row_hash (f->hash, row, self->in.width, label);
  f->consumed++;
  if (--f->skip > 0)
    return TRUE;
  if (f->hash != f->expect_hash)
    return rs_element_fail (self, error, "%s: the input is not the one the checkpoint was made "
                            "on: its first %" G_GUINT64_FORMAT " rows differ (the last is '%s' "
                            "here, '%s' there); give the same input from its start, or "
                            "checkpoint-input=continue and the rows after them", f->checkpoint,
                            f->consumed, label != NULL ? label : "",
                            f->expect_time != NULL ? f->expect_time : "");
  return TRUE;
}

static gboolean
forecast_process (RsElement *self, const RsBlock *in, RsBlock *out, GError **error)
{
  Forecast *f = self->priv;
  g_autoptr (GError) local = NULL;

  for (gsize r = 0; r < in->n; r++) {
    const float *row = in->data + r * in->width;
    const gint64 index = in->index[r] + f->index_offset;
    float *o;

    if (f->skip > 0) {
      if (!skip_row (self, f, row, in->labels[r], error))
        return FALSE;
      continue;
    }
    for (guint j = 0; j < f->n_cov; j++)
      f->covariates[j] = row[1 + j];
    if (!rs_forecaster_push (f->forecaster, row[0], f->covariates, &local))
      return rs_element_fail (self, error, "row %" G_GINT64_FORMAT "%s%s%s: %s", index + 1,
                              in->labels[r] ? " (" : "", in->labels[r] ? in->labels[r] : "",
                              in->labels[r] ? ")" : "", local->message);
    o = rs_block_append (out, NULL, index, in->labels[r]);
    if (f->observed)
      *o++ = row[0];
    rs_forecaster_forecast (f->forecaster, f->values);
    for (guint h = 0; h < f->H; h++)
      o[h] = (float) f->values[h];
    for (guint i = 0; i < f->levels->len; i++) {
      float *lo = o + f->H * (1 + 2 * i), *hi = lo + f->H;
      if (rs_forecaster_ready (f->forecaster)) {
        rs_forecaster_interval (f->forecaster, g_array_index (f->levels, double, i), f->values,
                                f->values + f->H);
        for (guint h = 0; h < f->H; h++) {
          lo[h] = (float) f->values[h];
          hi[h] = (float) f->values[f->H + h];
        }
      } else {
        for (guint h = 0; h < 2 * f->H; h++)
          lo[h] = NAN;
      }
    }
    if (f->checkpoint == NULL)
      continue;
    /* The row's output goes on after its checkpoint is in place: a
     * forecast that was seen is never lost by a restart. */
    f->hash = row_hash (f->hash, row, self->in.width, in->labels[r]);
    f->consumed++;
    g_string_assign (f->last_time, in->labels[r] != NULL ? in->labels[r] : "");
    if (f->every > 0 && f->consumed % f->every == 0 && !save_checkpoint (self, f, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
forecast_finish (RsElement *self, RsBlock *out, GError **error)
{
  Forecast *f = self->priv;

  (void) out;
  if (f->checkpoint == NULL)
    return TRUE;
  if (f->skip > 0)
    return rs_element_fail (self, error, "%s: the input ended after %" G_GUINT64_FORMAT " rows, "
                            "but the checkpoint has consumed %" G_GUINT64_FORMAT "; give the "
                            "same input from its start, or checkpoint-input=continue and the "
                            "rows after them", f->checkpoint, f->consumed,
                            f->consumed + f->skip);
  return save_checkpoint (self, f, error);
}

static void
forecast_stop (RsElement *self)
{
  Forecast *f = self->priv;

  if (f == NULL)
    return;
  rs_forecaster_free (f->forecaster);
  if (f->levels != NULL)
    g_array_unref (f->levels);
  g_strfreev (f->names);
  g_free (f->covariates);
  g_free (f->values);
  if (f->last_time != NULL)
    g_string_free (f->last_time, TRUE);
  g_free (f->expect_time);
  g_free (f);
  self->priv = NULL;
}

static void
forecast_reset (RsElement *self)
{
  Forecast *f = self->priv;

  rs_forecaster_reset (f->forecaster);
}

const RsElementClass rs_forecast_class = {
  .type = "forecast",
  .description = "forecasts steps 1..H after each row (target first, then the model's "
                 "covariates), with prediction intervals on request; adapts the model online "
                 "and checkpoints the stream on request",
  .role = RS_ELEMENT_FILTER,
  .params = forecast_params,
  .start = forecast_start,
  .process = forecast_process,
  .finish = forecast_finish,
  .stop = forecast_stop,
  .reset = forecast_reset,
};
