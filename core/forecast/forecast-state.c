/* Saving and restoring a forecaster's whole state (see
 * rnnstream/forecast-state.h).
 *
 * Restoring reads and checks everything into scratch buffers first and
 * only then writes the forecaster, so that a bad file leaves it as it was.
 * Doubles are written with 17 significant digits, which read back to the
 * same double (and NaN as "nan"): the restored forecaster computes the
 * same bits as the one saved. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "forecaster-private.h"
#include "rnnstream/error.h"
#include "rnnstream/forecast-state.h"
#include "rnnstream/safetensors-writer.h"

#define FORMAT "1"

static char *
doubles_text (const double *v, gsize n)
{
  GString *s = g_string_new (NULL);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%s%s", i ? "," : "",
                            g_ascii_formatd (buf, sizeof buf, "%.17g", v[i]));
  return g_string_free (s, FALSE);
}

/* Exactly n comma-separated numbers (NaN allowed) into v. */
static gboolean
parse_doubles (const char *text, double *v, gsize n)
{
  const char *p = text;

  if (text == NULL)
    return FALSE;
  if (n == 0)
    return text[0] == '\0';
  for (gsize i = 0; i < n; i++) {
    char *end;
    if (i > 0 && *p++ != ',')
      return FALSE;
    v[i] = g_ascii_strtod (p, &end);
    if (end == p || isinf (v[i]))
      return FALSE;
    p = end;
  }
  return *p == '\0';
}

static gboolean
parse_u64 (const char *text, guint64 *out)
{
  char *end;

  if (text == NULL || !g_ascii_isdigit (text[0]))
    return FALSE;
  *out = g_ascii_strtoull (text, &end, 10);
  return *end == '\0' && *out != G_MAXUINT64;
}

static void
set_u64 (RsSafetensorsWriter *w, const char *key, guint64 v)
{
  g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT, v);
  rs_safetensors_writer_set_metadata (w, key, text);
}

static void
add_vector (RsSafetensorsWriter *w, const char *name, const float *data, gsize n)
{
  const guint64 shape[1] = { n };
  rs_safetensors_writer_add (w, name, 1, shape, data);
}

static void
save_moment (const char *name, float *data, gsize n, gpointer user_data)
{
  g_autofree char *key = g_strconcat ("optim.", name, NULL);
  add_vector (user_data, key, data, n);
}

gboolean
rs_forecaster_save (RsForecaster *f, const char *path, const char *const *metadata,
                    GError **error)
{
  g_autoptr (RsSafetensorsWriter) w = rs_safetensors_writer_new ();
  const guint n_z = MIN (f->z_len, f->keep);
  g_autofree char *z = doubles_text (f->z + f->z_len - n_z, n_z);
  g_autofree char *zhat = doubles_text (f->zhat, f->tr.horizon);
  const RsForecastUpdater *up = f->update;

  g_return_val_if_fail (path != NULL, FALSE);
  rs_safetensors_writer_set_metadata (w, "rnnstream_forecast_state", FORMAT);
  rs_safetensors_writer_set_metadata (w, "model_sha256", f->model_digest);
  set_u64 (w, "rows", f->rows);
  rs_safetensors_writer_set_metadata (w, "z", z);
  rs_safetensors_writer_set_metadata (w, "zhat", zhat);
  add_vector (w, "state", rs_trainable_state (f->net), f->state_floats);
  if (up != NULL) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    const guint I = f->tr.n_inputs;

    rs_safetensors_writer_set_metadata (w, "update_lr",
                                        g_ascii_formatd (buf, sizeof buf, "%.17g", up->opts.lr));
    set_u64 (w, "update_steps", up->opts.steps);
    set_u64 (w, "update_window", up->opts.window);
    set_u64 (w, "optimizer_steps", rs_optimizer_get_steps (up->opt));
    set_u64 (w, "frames", up->n_frames);
    add_vector (w, "anchor", up->anchor, f->state_floats);
    if (up->n_frames > 0) {
      const guint64 shape[2] = { up->n_frames, I };
      rs_safetensors_writer_add (w, "frames", 2, shape, up->frames + (gsize) up->start * I);
    }
    for (guint i = 0; i < rs_trainable_n_tensors (f->net); i++) {
      const RsTrainTensor *tt = rs_trainable_tensor (f->net, i);
      g_autofree char *name = g_strconcat ("model.", tt->name, NULL);
      rs_safetensors_writer_add (w, name, tt->ndim, tt->shape, up->params + tt->offset);
    }
    rs_optimizer_foreach_state (up->opt, save_moment, w);
  }
  for (guint i = 0; metadata != NULL && metadata[i] != NULL && metadata[i + 1] != NULL; i += 2) {
    g_return_val_if_fail (strchr (metadata[i], '.') != NULL, FALSE);
    rs_safetensors_writer_set_metadata (w, metadata[i], metadata[i + 1]);
  }
  return rs_safetensors_writer_save (w, path, error);
}

/* ---- restoring ---- */

typedef struct {
  const RsSafetensors *st;
  const char *display;
  GError **error;
  gboolean failed;
} Reader;

static gboolean
bad (Reader *r, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
bad (Reader *r, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  if (!r->failed)
    g_set_error (r->error, RS_ERROR, RS_ERROR_STATE, "%s: %s", r->display, what);
  r->failed = TRUE;
  return FALSE;
}

static gboolean
read_u64 (Reader *r, const char *key, guint64 *out)
{
  if (!parse_u64 (rs_safetensors_metadata (r->st, key), out))
    return bad (r, "damaged checkpoint: its '%s' is missing or not a count", key);
  return TRUE;
}

/* Tensor name's n floats into out (NULL: only checked). */
static gboolean
read_tensor (Reader *r, const char *name, float *out, gsize n)
{
  const RsTensor *t = rs_safetensors_lookup (r->st, name);

  if (t == NULL)
    return bad (r, "damaged checkpoint: tensor %s is missing", name);
  if (t->n_elements != n)
    return bad (r, "damaged checkpoint: tensor %s has %" G_GUINT64_FORMAT " values, this "
                "forecaster's has %" G_GSIZE_FORMAT, name, t->n_elements, n);
  if (out != NULL)
    memcpy (out, t->data, n * sizeof (float));
  return TRUE;
}

typedef struct {
  Reader *r;
  float *dest;               /* the moments, back to back, in the optimiser's order */
  gsize used;
  gboolean write;            /* FALSE: into dest; TRUE: from dest into the optimiser */
} Moments;

static void
moment (const char *name, float *data, gsize n, gpointer user_data)
{
  Moments *m = user_data;
  g_autofree char *key = g_strconcat ("optim.", name, NULL);

  if (m->write)
    memcpy (data, m->dest + m->used, n * sizeof (float));
  else
    read_tensor (m->r, key, m->dest + m->used, n);
  m->used += n;
}

static void
count_moment (const char *name, float *data, gsize n, gpointer user_data)
{
  (void) name;
  (void) data;
  *(gsize *) user_data += n;
}

/* Whether the checkpoint was made with the updates f has (or none):
 * before anything else, since they decide the sizes of the rest. */
static gboolean
check_update (Reader *r, RsForecaster *f)
{
  const RsForecastUpdater *up = f->update;
  const char *lr_text = rs_safetensors_metadata (r->st, "update_lr");
  guint64 steps = 0, window = 0;
  double lr;
  char *end = NULL;

  if (up == NULL && lr_text != NULL)
    return bad (r, "it was made with updates; give the same update settings as the run "
                "that made it");
  if (up == NULL)
    return TRUE;
  if (lr_text == NULL)
    return bad (r, "it was made without updates; give the same update settings (or none) "
                "as the run that made it");
  lr = g_ascii_strtod (lr_text, &end);
  if (end == lr_text || *end != '\0' || !read_u64 (r, "update_steps", &steps)
      || !read_u64 (r, "update_window", &window))
    return bad (r, "damaged checkpoint: its update settings are malformed");
  if (lr != up->opts.lr || steps != up->opts.steps || window != up->opts.window) {
    char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE];
    return bad (r, "it was made with updates of lr %s, %" G_GUINT64_FORMAT " step%s, window %"
                G_GUINT64_FORMAT ", not lr %s, %u step%s, window %u; give the same settings",
                g_ascii_formatd (a, sizeof a, "%g", lr), steps, steps == 1 ? "" : "s",
                window, g_ascii_formatd (b, sizeof b, "%g", up->opts.lr), up->opts.steps,
                up->opts.steps == 1 ? "" : "s", up->opts.window);
  }
  return TRUE;
}

/* Adam's state and the frames held into params, anchor, frames, moments
 * (sized by the caller). */
static gboolean
read_update (Reader *r, RsForecaster *f, guint64 rows, float *params, float *anchor,
             float *frames, float *moments, guint64 *opt_steps, guint *n_frames)
{
  RsForecastUpdater *up = f->update;
  const guint W = up->opts.window, I = f->tr.n_inputs;
  guint64 held = 0, expected;
  Moments m = { r, moments, 0, FALSE };

  if (!read_u64 (r, "optimizer_steps", opt_steps) || !read_u64 (r, "frames", &held))
    return FALSE;
  expected = rows > f->lag ? MIN (rows - f->lag, (guint64) W) : 0;
  if (held != expected)
    return bad (r, "damaged checkpoint: it holds %" G_GUINT64_FORMAT " frames, but %"
                G_GUINT64_FORMAT " rows make %" G_GUINT64_FORMAT, held, rows, expected);
  *n_frames = (guint) held;
  if (!read_tensor (r, "anchor", anchor, f->state_floats)
      || (held > 0 && !read_tensor (r, "frames", frames, (gsize) held * I)))
    return FALSE;
  for (guint i = 0; i < rs_trainable_n_tensors (f->net); i++) {
    const RsTrainTensor *tt = rs_trainable_tensor (f->net, i);
    g_autofree char *name = g_strconcat ("model.", tt->name, NULL);
    if (!read_tensor (r, name, params + tt->offset, tt->n_elements))
      return FALSE;
  }
  rs_optimizer_foreach_state (up->opt, moment, &m);
  return !r->failed;
}

gboolean
rs_forecaster_restore (RsForecaster *f, const RsSafetensors *st, const char *display,
                       GError **error)
{
  Reader r = { st, display, error, FALSE };
  const char *format = rs_safetensors_metadata (st, "rnnstream_forecast_state");
  const char *digest = rs_safetensors_metadata (st, "model_sha256");
  RsForecastUpdater *up = f->update;
  const guint H = f->tr.horizon, I = f->tr.n_inputs;
  guint64 rows = 0, opt_steps = 0;
  guint n_z, n_frames = 0;
  gsize n_moments = 0;
  g_autofree double *z = g_new (double, f->keep), *zhat = g_new (double, H);
  g_autofree float *state = g_new (float, f->state_floats);
  g_autofree float *params = NULL, *anchor = NULL, *frames = NULL, *moments = NULL;

  g_return_val_if_fail (st != NULL && display != NULL, FALSE);
  if (format == NULL)
    return bad (&r, "not a forecaster checkpoint (no metadata 'rnnstream_forecast_state')");
  if (strcmp (format, FORMAT) != 0)
    return bad (&r, "checkpoint format '%s', this rnnstream reads format " FORMAT, format);
  if (digest == NULL || strcmp (digest, f->model_digest) != 0)
    return bad (&r, "the checkpoint is of another model (SHA-256 %.12s..., this one's is "
                "%.12s...)", digest != NULL ? digest : "missing", f->model_digest);
  if (!check_update (&r, f) || !read_u64 (&r, "rows", &rows))
    return FALSE;
  n_z = (guint) MIN (rows, (guint64) f->keep);
  if (!parse_doubles (rs_safetensors_metadata (st, "z"), z, n_z))
    return bad (&r, "damaged checkpoint: 'z' is not %u numbers", n_z);
  for (guint i = 0; i < n_z; i++)
    if (isnan (z[i]))
      return bad (&r, "damaged checkpoint: 'z' holds NaN");
  if (!parse_doubles (rs_safetensors_metadata (st, "zhat"), zhat, H))
    return bad (&r, "damaged checkpoint: 'zhat' is not %u numbers", H);
  if (!read_tensor (&r, "state", state, f->state_floats))
    return FALSE;
  if (up != NULL) {
    rs_optimizer_foreach_state (up->opt, count_moment, &n_moments);
    params = g_new (float, MAX (f->n_params, 1));
    anchor = g_new (float, f->state_floats);
    frames = g_new (float, MAX ((gsize) up->opts.window * I, 1));
    moments = g_new (float, MAX (n_moments, 1));
    if (!read_update (&r, f, rows, params, anchor, frames, moments, &opt_steps, &n_frames))
      return FALSE;
  }

  /* Everything read: now the forecaster. */
  f->rows = rows;
  f->z_len = n_z;
  memcpy (f->z, z, n_z * sizeof (double));
  memcpy (f->zhat, zhat, H * sizeof (double));
  if (up != NULL) {
    Moments m = { &r, moments, 0, TRUE };
    memcpy (up->params, params, f->n_params * sizeof (float));
    rs_trainable_set_params (f->net, up->params);
    rs_optimizer_foreach_state (up->opt, moment, &m);
    rs_optimizer_set_steps (up->opt, opt_steps);
    memcpy (up->anchor, anchor, f->state_floats * sizeof (float));
    up->start = 0;
    up->n_frames = n_frames;
    memcpy (up->frames, frames, (gsize) n_frames * I * sizeof (float));
  }
  memcpy (rs_trainable_state (f->net), state, f->state_floats * sizeof (float));
  return TRUE;
}
