/* RsDeltas: Kaldi's add-deltas, streaming. See rnnstream/deltas.h.
 *
 * Input frames live in a ring of `capacity` frames, frame t in slot
 * t % capacity. Output t reads frames t - L .. t + L (L = order * window),
 * clamped to the signal, so frames before max(0, next - L) are never read
 * again and their slots can be reused.
 */
#include <stddef.h>
#include <string.h>

#include <rnnstream/deltas.h>
#include <rnnstream/error.h>

#include "option-parser.h"

/* Extra ring slots beyond the 2 L + 1 an output reads, so that large
 * blocks go in a few frames per call rather than one. */
#define EXTRA_FRAMES 16

struct RsDeltas {
  RsDeltaOptions opts;
  guint in_dim, out_dim, latency;
  float *scales;             /* order + 1 filters, filter i has 2 i W + 1 taps */
  guint *scale_offset;       /* where filter i starts in scales */
  float *ring;               /* capacity x in_dim */
  guint capacity;
  gint64 n_in;               /* frames accepted */
  gint64 next;               /* next output frame */
  gboolean finished;
};

static const char *const program_names[] = { "add-deltas" };

static const RsOptionSpec delta_specs[] = {
  { "delta-order", RS_OPTION_UINT, offsetof (RsDeltaOptions, order), 0, RS_DELTAS_MAX_ORDER,
    NULL, 1 },
  { "delta-window", RS_OPTION_UINT, offsetof (RsDeltaOptions, window), 1,
    RS_DELTAS_MAX_WINDOW, NULL, 1 },
};

void
rs_delta_options_init (RsDeltaOptions *opts)
{
  g_return_if_fail (opts != NULL);
  opts->order = 2;
  opts->window = 2;
}

gboolean
rs_delta_options_parse (RsDeltaOptions *opts, const char *const *args, gssize n_args,
                        GError **error)
{
  g_return_val_if_fail (opts != NULL, FALSE);
  return rs_option_table_apply (delta_specs, G_N_ELEMENTS (delta_specs), opts, 0,
                                program_names, args, n_args, error);
}

gboolean
rs_delta_options_parse_string (RsDeltaOptions *opts, const char *text, GError **error)
{
  g_return_val_if_fail (opts != NULL, FALSE);
  return rs_option_table_apply_string (delta_specs, G_N_ELEMENTS (delta_specs), opts, 0,
                                       program_names, text, error);
}

/* Kaldi's DeltaFeatures constructor, in float: filter 0 is [1]; filter i
 * is filter i-1 convolved with [-W .. W], divided by sum_j j^2. */
static void
make_scales (RsDeltas *d)
{
  const guint order = d->opts.order, window = d->opts.window;
  guint total = 0;

  for (guint i = 0; i <= order; i++) {
    d->scale_offset[i] = total;
    total += 2 * i * window + 1;
  }
  memset (d->scales, 0, total * sizeof (float));
  d->scales[0] = 1.0f;
  for (guint i = 1; i <= order; i++) {
    const float *prev = d->scales + d->scale_offset[i - 1];
    float *cur = d->scales + d->scale_offset[i];
    const gint prev_offset = (gint) ((i - 1) * window);
    const gint cur_offset = prev_offset + (gint) window;
    float normaliser = 0.0f;

    for (gint j = -(gint) window; j <= (gint) window; j++) {
      normaliser += (float) (j * j);
      for (gint k = -prev_offset; k <= prev_offset; k++)
        cur[j + k + cur_offset] += (float) j * prev[k + prev_offset];
    }
    /* Vector::Scale(1.0 / normalizer): a double quotient passed as float. */
    for (guint k = 0; k < 2 * i * window + 1; k++)
      cur[k] *= (float) (1.0 / (double) normaliser);
  }
}

RsDeltas *
rs_deltas_new (guint dim, const RsDeltaOptions *opts, GError **error)
{
  RsDeltas *d;
  guint total = 0;

  g_return_val_if_fail (opts != NULL, NULL);
  g_return_val_if_fail (dim >= 1 && dim <= G_MAXUINT / (RS_DELTAS_MAX_ORDER + 1), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (opts->order > RS_DELTAS_MAX_ORDER || opts->window < 1 ||
      opts->window > RS_DELTAS_MAX_WINDOW) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                 "--delta-order=%u --delta-window=%u: the order must be 0 to %u and the "
                 "window 1 to %u", opts->order, opts->window, RS_DELTAS_MAX_ORDER,
                 RS_DELTAS_MAX_WINDOW);
    return NULL;
  }

  d = g_new0 (RsDeltas, 1);
  d->opts = *opts;
  d->in_dim = dim;
  d->out_dim = dim * (opts->order + 1);
  d->latency = opts->order * opts->window;
  for (guint i = 0; i <= opts->order; i++)
    total += 2 * i * opts->window + 1;
  d->scales = g_new (float, total);
  d->scale_offset = g_new (guint, opts->order + 1);
  make_scales (d);
  d->capacity = 2 * d->latency + 1 + EXTRA_FRAMES;
  d->ring = g_new (float, (gsize) d->capacity * dim);
  return d;
}

void
rs_deltas_free (RsDeltas *d)
{
  if (d == NULL)
    return;
  g_free (d->scales);
  g_free (d->scale_offset);
  g_free (d->ring);
  g_free (d);
}

guint
rs_deltas_input_dim (const RsDeltas *d)
{
  g_return_val_if_fail (d != NULL, 0);
  return d->in_dim;
}

guint
rs_deltas_dim (const RsDeltas *d)
{
  g_return_val_if_fail (d != NULL, 0);
  return d->out_dim;
}

guint
rs_deltas_latency (const RsDeltas *d)
{
  g_return_val_if_fail (d != NULL, 0);
  return d->latency;
}

void
rs_deltas_reset (RsDeltas *d)
{
  g_return_if_fail (d != NULL);
  d->n_in = 0;
  d->next = 0;
  d->finished = FALSE;
}

void
rs_deltas_finish (RsDeltas *d)
{
  g_return_if_fail (d != NULL);
  d->finished = TRUE;
}

gsize
rs_deltas_accept (RsDeltas *d, const float *frames, gsize n_frames)
{
  gint64 keep;
  gsize room, count;

  g_return_val_if_fail (d != NULL, 0);
  g_return_val_if_fail (frames != NULL || n_frames == 0, 0);
  g_return_val_if_fail (!d->finished, 0);

  keep = MAX (0, d->next - (gint64) d->latency);
  room = d->capacity - (gsize) (d->n_in - keep);
  count = MIN (room, n_frames);
  for (gsize j = 0; j < count; j++) {
    const gsize slot = (gsize) ((d->n_in + (gint64) j) % d->capacity);

    memcpy (d->ring + slot * d->in_dim, frames + j * d->in_dim, d->in_dim * sizeof (float));
  }
  d->n_in += (gint64) count;
  return count;
}

gboolean
rs_deltas_pop (RsDeltas *d, float *out, gint64 *index)
{
  gint64 t;
  guint dim;

  g_return_val_if_fail (d != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  t = d->next;
  dim = d->in_dim;
  if (d->finished ? t >= d->n_in : t + (gint64) d->latency >= d->n_in)
    return FALSE;

  /* Kaldi's DeltaFeatures::Process: each block starts at zero and adds
   * scale * frame for the nonzero taps in increasing time; frames outside
   * the signal are its first or last frame. Before finish, no tap reaches
   * past the last frame accepted. */
  for (guint i = 0; i <= d->opts.order; i++) {
    const float *scales = d->scales + d->scale_offset[i];
    const gint max_offset = (gint) (i * d->opts.window);
    float *o = out + (gsize) i * dim;

    memset (o, 0, dim * sizeof (float));
    for (gint j = -max_offset; j <= max_offset; j++) {
      const float s = scales[j + max_offset];
      gint64 src = t + j;
      const float *x;

      if (s == 0.0f)
        continue;
      src = CLAMP (src, 0, d->n_in - 1);
      x = d->ring + (gsize) (src % d->capacity) * dim;
      for (guint k = 0; k < dim; k++)
        o[k] += s * x[k];
    }
  }
  if (index != NULL)
    *index = t;
  d->next++;
  return TRUE;
}
