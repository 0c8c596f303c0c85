/* RsCmvn: Kaldi's apply-cmvn-sliding, streaming. See rnnstream/cmvn.h.
 *
 * Kaldi (SlidingWindowCmnInternal) walks the frames in order, computes
 * each frame's window [start, end) from t and the number of frames N, and
 * keeps running sums over the window, adding the frame that enters and
 * removing the one that leaves (the windows only ever move right, one
 * frame at a time). We do the same as frames are popped. Before the end
 * is known, N is taken as infinite; a window that does not reach the last
 * frame accepted is the same for every N beyond it, so frames popped early
 * are exactly what Kaldi computes with the whole signal, and the others
 * wait for more input or for rs_cmvn_finish.
 *
 * Input frames live in a ring, frame t in slot t % capacity. The running
 * sums still contain the frames from the last window's start, which must
 * stay until removed: the ring keeps frames from there on.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include <rnnstream/cmvn.h>
#include <rnnstream/error.h>

#include "option-parser.h"

/* Ring slots beyond what a window needs, so that large blocks go in a few
 * frames per call rather than one. */
#define EXTRA_FRAMES 16

struct RsCmvn {
  RsCmvnOptions opts;
  guint dim;
  float *ring;               /* capacity x dim */
  guint capacity;
  double *sum, *sum_sq;      /* over the last window */
  double *prior_sum, *prior_sum_sq; /* the prior's, weighted; zeros without one */
  double prior_frames;
  gint64 last_start, last_end; /* the last window; -1 before the first */
  gint64 n_in;               /* frames accepted */
  gint64 next;               /* next output frame */
  gboolean finished;
};

static const char *const program_names[] = { "apply-cmvn-sliding" };

#define FIELD(f) offsetof (RsCmvnOptions, f)

static const RsOptionSpec cmvn_specs[] = {
  { "cmn-window", RS_OPTION_UINT, FIELD (cmn_window), 1, RS_CMVN_MAX_WINDOW, NULL, 1 },
  { "min-cmn-window", RS_OPTION_UINT, FIELD (min_cmn_window), 0, RS_CMVN_MAX_WINDOW, NULL, 1 },
  { "norm-vars", RS_OPTION_BOOL, FIELD (norm_vars), 1, 0, NULL, 1 },
  { "center", RS_OPTION_BOOL, FIELD (center), 1, 0, NULL, 1 },
};

void
rs_cmvn_options_init (RsCmvnOptions *opts)
{
  g_return_if_fail (opts != NULL);
  /* Kaldi's SlidingWindowCmnOptions defaults. */
  opts->cmn_window = 600;
  opts->min_cmn_window = 100;
  opts->norm_vars = FALSE;
  opts->center = FALSE;
}

gboolean
rs_cmvn_options_parse (RsCmvnOptions *opts, const char *const *args, gssize n_args,
                       GError **error)
{
  g_return_val_if_fail (opts != NULL, FALSE);
  return rs_option_table_apply (cmvn_specs, G_N_ELEMENTS (cmvn_specs), opts, 0, program_names,
                                args, n_args, error);
}

gboolean
rs_cmvn_options_parse_string (RsCmvnOptions *opts, const char *text, GError **error)
{
  g_return_val_if_fail (opts != NULL, FALSE);
  return rs_option_table_apply_string (cmvn_specs, G_N_ELEMENTS (cmvn_specs), opts, 0,
                                       program_names, text, error);
}

RsCmvn *
rs_cmvn_new (guint dim, const RsCmvnOptions *opts, GError **error)
{
  RsCmvn *c;
  guint span;

  g_return_val_if_fail (opts != NULL, NULL);
  g_return_val_if_fail (dim >= 1, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Kaldi's SlidingWindowCmnOptions::Check, and our own upper bounds. */
  if (opts->cmn_window < 1 || opts->cmn_window > RS_CMVN_MAX_WINDOW ||
      opts->min_cmn_window > RS_CMVN_MAX_WINDOW) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                 "--cmn-window=%u --min-cmn-window=%u: the windows must be at most %u frames "
                 "and cmn-window at least 1", opts->cmn_window, opts->min_cmn_window,
                 RS_CMVN_MAX_WINDOW);
    return NULL;
  }
  if (opts->center && (opts->min_cmn_window < 1 || opts->min_cmn_window > opts->cmn_window)) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                 "--min-cmn-window=%u: with --center=true it must be from 1 to --cmn-window "
                 "(%u)", opts->min_cmn_window, opts->cmn_window);
    return NULL;
  }

  c = g_new0 (RsCmvn, 1);
  c->opts = *opts;
  c->dim = dim;
  /* The widest window (cmn_window + 1 frames, or min_cmn_window at the
   * start without center), one frame more because the ring starts at the
   * previous window's start, and the extra slots. */
  span = MAX (opts->cmn_window + 1, opts->center ? 0 : opts->min_cmn_window);
  c->capacity = span + 1 + EXTRA_FRAMES;
  c->ring = g_new (float, (gsize) c->capacity * dim);
  c->sum = g_new (double, dim);
  c->sum_sq = g_new (double, dim);
  c->prior_sum = g_new0 (double, dim);
  c->prior_sum_sq = g_new0 (double, dim);
  rs_cmvn_reset (c);
  return c;
}

void
rs_cmvn_free (RsCmvn *c)
{
  if (c == NULL)
    return;
  g_free (c->ring);
  g_free (c->sum);
  g_free (c->sum_sq);
  g_free (c->prior_sum);
  g_free (c->prior_sum_sq);
  g_free (c);
}

guint
rs_cmvn_dim (const RsCmvn *c)
{
  g_return_val_if_fail (c != NULL, 0);
  return c->dim;
}

gboolean
rs_cmvn_set_prior (RsCmvn *c, const double *mean, const double *std, double frames,
                   GError **error)
{
  g_return_val_if_fail (c != NULL, FALSE);
  g_return_val_if_fail (frames == 0 || (mean != NULL && std != NULL), FALSE);

  if (!(isfinite (frames) && frames >= 0) || (frames > 0 && c->opts.center)) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                 "a prior of %g frames: it must be finite, at least 0, and not with "
                 "--center=true", frames);
    return FALSE;
  }
  for (guint k = 0; frames > 0 && k < c->dim; k++)
    if (!isfinite (mean[k]) || !isfinite (std[k]) || std[k] < 0) {
      g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                   "the prior of value %u: mean %g and standard deviation %g must be finite "
                   "and the deviation at least 0", k + 1, mean[k], std[k]);
      return FALSE;
    }
  c->prior_frames = frames;
  for (guint k = 0; k < c->dim; k++) {
    c->prior_sum[k] = frames > 0 ? frames * mean[k] : 0;
    c->prior_sum_sq[k] = frames > 0 ? frames * (std[k] * std[k] + mean[k] * mean[k]) : 0;
  }
  return TRUE;
}

void
rs_cmvn_reset (RsCmvn *c)
{
  g_return_if_fail (c != NULL);
  c->n_in = 0;
  c->next = 0;
  c->finished = FALSE;
  c->last_start = -1;
  c->last_end = -1;
}

void
rs_cmvn_finish (RsCmvn *c)
{
  g_return_if_fail (c != NULL);
  c->finished = TRUE;
}

/* Kaldi's window for frame t of n_frames (G_MAXINT64: not known yet). */
static void
window_of (const RsCmvn *c, gint64 t, gint64 n_frames, gint64 *start, gint64 *end)
{
  const gint64 w = c->opts.cmn_window;
  gint64 s, e;

  if (c->opts.center) {
    s = t - w / 2;
    e = s + w;
  } else {
    s = t - w;
    e = t + 1;
  }
  if (s < 0) {
    /* Shift right at the start. */
    e -= s;
    s = 0;
  }
  /* Without center, Kaldi then takes the window up to min_cmn_window
   * frames (or just to t) instead: up to t+1 after the start, and a little
   * lookahead at the very start so that the first frames are not
   * normalised by a handful of frames. */
  if (!c->opts.center && e > t)
    e = MAX (t + 1, (gint64) c->opts.min_cmn_window);
  if (e > n_frames) {
    /* Shift left at the end, as far as the signal allows. */
    s -= e - n_frames;
    e = n_frames;
    if (s < 0)
      s = 0;
  }
  *start = s;
  *end = e;
}

gsize
rs_cmvn_accept (RsCmvn *c, const float *frames, gsize n_frames)
{
  gint64 keep;
  gsize room, count;

  g_return_val_if_fail (c != NULL, 0);
  g_return_val_if_fail (frames != NULL || n_frames == 0, 0);
  g_return_val_if_fail (!c->finished, 0);

  keep = c->last_start >= 0 ? c->last_start : 0;
  room = c->capacity - (gsize) (c->n_in - keep);
  count = MIN (room, n_frames);
  for (gsize j = 0; j < count; j++) {
    const gsize slot = (gsize) ((c->n_in + (gint64) j) % c->capacity);

    memcpy (c->ring + slot * c->dim, frames + j * c->dim, c->dim * sizeof (float));
  }
  c->n_in += (gint64) count;
  return count;
}

static const float *
frame_at (const RsCmvn *c, gint64 t)
{
  return c->ring + (gsize) (t % c->capacity) * c->dim;
}

static void
add_frame (RsCmvn *c, gint64 t, double sign)
{
  const float *x = frame_at (c, t);

  /* Kaldi's AddVec(+-1, frame) and AddVec2(+-1, frame), in double. */
  for (guint k = 0; k < c->dim; k++) {
    const double v = x[k];

    c->sum[k] += sign * v;
    c->sum_sq[k] += sign * (v * v);
  }
}

gboolean
rs_cmvn_pop (RsCmvn *c, float *out, gint64 *index)
{
  gint64 t, start, end;
  double n;
  const float *x;

  g_return_val_if_fail (c != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  t = c->next;
  if (c->finished) {
    if (t >= c->n_in)
      return FALSE;
    window_of (c, t, c->n_in, &start, &end);
  } else {
    window_of (c, t, G_MAXINT64, &start, &end);
    if (end > c->n_in)
      return FALSE;
  }

  if (c->last_start < 0) {
    memset (c->sum, 0, c->dim * sizeof (double));
    memset (c->sum_sq, 0, c->dim * sizeof (double));
    for (gint64 r = start; r < end; r++)
      add_frame (c, r, 1.0);
  } else {
    /* Kaldi asserts both steps; they follow from the window formula. */
    g_assert (start == c->last_start || start == c->last_start + 1);
    g_assert (end == c->last_end || end == c->last_end + 1);
    if (start > c->last_start)
      add_frame (c, c->last_start, -1.0);
    if (end > c->last_end)
      add_frame (c, c->last_end, 1.0);
  }
  c->last_start = start;
  c->last_end = end;

  n = (double) (end - start) + c->prior_frames;
  x = frame_at (c, t);
  for (guint k = 0; k < c->dim; k++) {
    const double sum = c->sum[k] + c->prior_sum[k];
    double v = (double) x[k] + (-1.0 / n) * sum;

    if (c->opts.norm_vars) {
      if (n == 1) {
        /* One frame: Kaldi outputs zeros. */
        v = 0.0;
      } else {
        double var = (c->sum_sq[k] + c->prior_sum_sq[k]) * (1.0 / n);

        var += (-1.0 / (n * n)) * (sum * sum);
        /* Kaldi floors the variance at 1e-10 (and warns). */
        if (var < 1.0e-10)
          var = 1.0e-10;
        v *= pow (var, -0.5);
      }
    }
    out[k] = (float) v;
  }
  if (index != NULL)
    *index = t;
  c->next++;
  return TRUE;
}
