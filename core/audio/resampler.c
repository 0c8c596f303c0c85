/* Streaming resampling over libsoxr (see rnnstream/resampler.h).
 *
 * The caller's input goes into a staging block of RS_RESAMPLER_BLOCK
 * samples; libsoxr is called only when that block is full (or when the
 * stream is flushed), always with the same output room, and its output is
 * kept in a pending buffer from which the caller's output is served. So
 * the sequence of libsoxr calls, and therefore every output sample, is a
 * function of the input stream alone: block invariance does not depend on
 * how libsoxr schedules its own work. libsoxr may take less than the whole
 * block when the output room is short; the rest stays staged and the call
 * is repeated once the block is full again, which is just as
 * deterministic.
 */
#include "config.h"

#include <string.h>

#include <soxr.h>

#include "rnnstream/error.h"
#include "rnnstream/resampler.h"

struct RsResampler {
  int in_rate, out_rate;
  soxr_t soxr;                          /* NULL when the rates are equal */
  float staged[RS_RESAMPLER_BLOCK];
  gsize n_staged;
  float *pending;                       /* out_room samples from the last call */
  gsize out_room;
  gsize pending_pos, pending_len;
  gboolean flushing;                    /* the input has ended */
  gboolean finished;                    /* and libsoxr has given all its output */
  const char *broken;                   /* libsoxr's error, once it failed */
};

static gboolean
create_soxr (RsResampler *r, GError **error)
{
  soxr_error_t err = NULL;
  /* High quality, linear phase; one thread, so that a stream costs one
   * core and never depends on OpenMP's scheduling. */
  soxr_quality_spec_t quality = soxr_quality_spec (SOXR_HQ, 0);
  soxr_runtime_spec_t runtime = soxr_runtime_spec (1);
  soxr_io_spec_t io = soxr_io_spec (SOXR_FLOAT32_I, SOXR_FLOAT32_I);

  r->soxr = soxr_create (r->in_rate, r->out_rate, 1, &err, &io, &quality, &runtime);
  if (r->soxr == NULL || err != NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED, "cannot resample from %d Hz to %d Hz: %s",
                 r->in_rate, r->out_rate, soxr_strerror (err));
    if (r->soxr != NULL)
      soxr_delete (r->soxr);
    r->soxr = NULL;
    return FALSE;
  }
  return TRUE;
}

RsResampler *
rs_resampler_new (int in_rate, int out_rate, GError **error)
{
  g_autoptr (RsResampler) r = NULL;

  g_return_val_if_fail (in_rate >= 1 && in_rate <= RS_RESAMPLER_MAX_RATE, NULL);
  g_return_val_if_fail (out_rate >= 1 && out_rate <= RS_RESAMPLER_MAX_RATE, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  r = g_new0 (RsResampler, 1);
  r->in_rate = in_rate;
  r->out_rate = out_rate;
  if (in_rate == out_rate)
    return g_steal_pointer (&r);
  if (!create_soxr (r, error))
    return NULL;
  /* A full block's worth of output and some slack for what libsoxr had
   * pending; the exact size does not matter as long as it never changes. */
  r->out_room = (gsize) (((guint64) RS_RESAMPLER_BLOCK * (guint64) out_rate + (guint64) in_rate - 1)
                         / (guint64) in_rate) + 64;
  r->pending = g_new (float, r->out_room);
  return g_steal_pointer (&r);
}

void
rs_resampler_free (RsResampler *r)
{
  if (r == NULL)
    return;
  if (r->soxr != NULL)
    soxr_delete (r->soxr);
  g_free (r->pending);
  g_free (r);
}

int
rs_resampler_get_in_rate (const RsResampler *r)
{
  g_return_val_if_fail (r != NULL, 0);
  return r->in_rate;
}

int
rs_resampler_get_out_rate (const RsResampler *r)
{
  g_return_val_if_fail (r != NULL, 0);
  return r->out_rate;
}

guint64
rs_resampler_output_length (const RsResampler *r, guint64 n_in)
{
  guint64 in, out;

  g_return_val_if_fail (r != NULL, 0);
  in = (guint64) r->in_rate;
  out = (guint64) r->out_rate;
  /* round (n_in * out / in) in integers: whole multiples of the input rate
   * first, so that nothing overflows for any stream length that fits. */
  return n_in / in * out + (n_in % in * out + in / 2) / in;
}

static gboolean
check_broken (RsResampler *r, GError **error)
{
  if (r->broken == NULL)
    return TRUE;
  g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "resampling from %d Hz to %d Hz failed: %s",
               r->in_rate, r->out_rate, r->broken);
  return FALSE;
}

/* One call into libsoxr: n staged samples in (in == NULL: end of input),
 * the pending buffer (empty on entry) out. */
static gboolean
run_soxr (RsResampler *r, const float *in, gsize n, GError **error)
{
  size_t idone = 0, odone = 0;
  soxr_error_t err = soxr_process (r->soxr, in, in != NULL ? n : 0, &idone, r->pending,
                                   r->out_room, &odone);

  if (err != NULL) {
    r->broken = err;
    return check_broken (r, error);
  }
  if (in != NULL && idone == 0 && odone == 0) {
    /* With room for output libsoxr always makes progress; if it ever did
     * not, looping would hang the caller. */
    r->broken = "libsoxr took no input and gave no output";
    return check_broken (r, error);
  }
  if (in != NULL) {
    r->n_staged -= idone;
    memmove (r->staged, r->staged + idone, r->n_staged * sizeof (float));
  } else if (odone == 0) {
    r->finished = TRUE;
  }
  r->pending_pos = 0;
  r->pending_len = odone;
  return TRUE;
}

/* Copies pending output to out; returns FALSE once out is full. */
static gboolean
drain_pending (RsResampler *r, float *out, gsize max_out, gsize *n_written)
{
  gsize k = MIN (r->pending_len - r->pending_pos, max_out - *n_written);

  memcpy (out + *n_written, r->pending + r->pending_pos, k * sizeof (float));
  r->pending_pos += k;
  *n_written += k;
  return *n_written < max_out;
}

gboolean
rs_resampler_process (RsResampler *r, const float *in, gsize n_in, gsize *n_used, float *out,
                      gsize max_out, gsize *n_written, GError **error)
{
  g_return_val_if_fail (r != NULL, FALSE);
  g_return_val_if_fail (in != NULL || n_in == 0, FALSE);
  g_return_val_if_fail (out != NULL || max_out == 0, FALSE);
  g_return_val_if_fail (n_used != NULL && n_written != NULL, FALSE);
  g_return_val_if_fail (!r->flushing, FALSE);

  *n_used = 0;
  *n_written = 0;
  if (r->soxr == NULL) {
    gsize n = MIN (n_in, max_out);

    memcpy (out, in, n * sizeof (float));
    *n_used = *n_written = n;
    return TRUE;
  }
  if (!check_broken (r, error))
    return FALSE;
  for (;;) {
    if (r->pending_pos < r->pending_len) {
      if (!drain_pending (r, out, max_out, n_written))
        break;
    } else if (r->n_staged == RS_RESAMPLER_BLOCK) {
      if (!run_soxr (r, r->staged, RS_RESAMPLER_BLOCK, error))
        return FALSE;
    } else if (*n_used < n_in) {
      gsize k = MIN (RS_RESAMPLER_BLOCK - r->n_staged, n_in - *n_used);

      memcpy (r->staged + r->n_staged, in + *n_used, k * sizeof (float));
      r->n_staged += k;
      *n_used += k;
    } else {
      break;
    }
  }
  return TRUE;
}

gboolean
rs_resampler_flush (RsResampler *r, float *out, gsize max_out, gsize *n_written, GError **error)
{
  g_return_val_if_fail (r != NULL, FALSE);
  g_return_val_if_fail (out != NULL || max_out == 0, FALSE);
  g_return_val_if_fail (n_written != NULL, FALSE);

  *n_written = 0;
  r->flushing = TRUE;
  if (r->soxr == NULL)
    return TRUE;
  if (!check_broken (r, error))
    return FALSE;
  while (*n_written < max_out) {
    if (r->pending_pos < r->pending_len) {
      drain_pending (r, out, max_out, n_written);
    } else if (r->finished) {
      break;
    } else if (r->n_staged > 0) {
      /* The last, partial block, as ordinary input... */
      if (!run_soxr (r, r->staged, r->n_staged, error))
        return FALSE;
    } else {
      /* ...then end-of-input until libsoxr has given everything. */
      if (!run_soxr (r, NULL, 0, error))
        return FALSE;
    }
  }
  return TRUE;
}

void
rs_resampler_reset (RsResampler *r)
{
  g_return_if_fail (r != NULL);

  r->n_staged = 0;
  r->pending_pos = r->pending_len = 0;
  r->flushing = FALSE;
  r->finished = FALSE;
  if (r->soxr != NULL && r->broken == NULL) {
    soxr_error_t err = soxr_clear (r->soxr);

    if (err != NULL)
      r->broken = err;
  }
}
