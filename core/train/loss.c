/* Per-frame losses: MSE, MAE, cross-entropy (see rnnstream/loss.h). */
#include "config.h"

#include <math.h>
#include <string.h>

#include "rnnstream/error.h"
#include "rnnstream/loss.h"

static gboolean
counted (const RsLossFrames *f, guint t, guint b)
{
  return f->lengths == NULL || t < f->lengths[b];
}

static gsize
n_counted (const RsLossFrames *f)
{
  gsize n = 0;

  for (guint b = 0; b < f->n_streams; b++)
    n += f->lengths ? MIN (f->lengths[b], f->n_frames) : f->n_frames;
  return n;
}

/* MSE (p = 2) and MAE (p = 1) share everything but the per-element term.
 * A NaN target is no target: left out of the sum and the count. */
static double
regression (const RsLossFrames *f, const float *target, float *d_output, int p)
{
  gsize n = 0;
  double sum = 0.0;

  g_return_val_if_fail (f != NULL && f->output != NULL && target != NULL, 0.0);

  for (guint t = 0; t < f->n_frames; t++)
    for (guint b = 0; b < f->n_streams; b++)
      for (guint j = 0; counted (f, t, b) && j < f->width; j++)
        n += !isnan (target[((gsize) t * f->n_streams + b) * f->width + j]);
  for (guint t = 0; t < f->n_frames; t++)
    for (guint b = 0; b < f->n_streams; b++) {
      const gsize row = ((gsize) t * f->n_streams + b) * f->width;
      const gboolean on = counted (f, t, b);

      for (guint j = 0; j < f->width; j++) {
        const double e = (double) f->output[row + j] - (double) target[row + j];
        double g = 0.0;

        if (on && !isnan (target[row + j])) {
          sum += p == 2 ? e * e : fabs (e);
          g = p == 2 ? 2.0 * e / (double) n : (e > 0 ? 1.0 : e < 0 ? -1.0 : 0.0) / (double) n;
        }
        if (d_output != NULL)
          d_output[row + j] = (float) g;
      }
    }
  return n > 0 ? sum / (double) n : 0.0;
}

double
rs_loss_mse (const RsLossFrames *frames, const float *target, float *d_output)
{
  return regression (frames, target, d_output, 2);
}

double
rs_loss_mae (const RsLossFrames *frames, const float *target, float *d_output)
{
  return regression (frames, target, d_output, 1);
}

gboolean
rs_loss_cross_entropy (const RsLossFrames *f, const guint32 *classes, double *loss,
                       float *d_output, GError **error)
{
  const gsize n = n_counted (f);
  double sum = 0.0;

  g_return_val_if_fail (f != NULL && f->output != NULL && classes != NULL, FALSE);

  for (guint t = 0; t < f->n_frames; t++)
    for (guint b = 0; b < f->n_streams; b++) {
      const gsize r = (gsize) t * f->n_streams + b;
      const float *x = f->output + r * f->width;
      float *d = d_output ? d_output + r * f->width : NULL;
      double max = -INFINITY, z = 0.0;

      if (!counted (f, t, b)) {
        if (d != NULL)
          memset (d, 0, f->width * sizeof (float));
        continue;
      }
      if (classes[r] >= f->width) {
        g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "frame %u of sequence %u: class %u "
                     "is out of range (the model has %u outputs)", t, b, classes[r], f->width);
        return FALSE;
      }
      /* log-softmax with the maximum subtracted, so exp never overflows. */
      for (guint j = 0; j < f->width; j++)
        max = MAX (max, (double) x[j]);
      for (guint j = 0; j < f->width; j++)
        z += exp ((double) x[j] - max);
      sum += log (z) + max - (double) x[classes[r]];
      for (guint j = 0; d != NULL && j < f->width; j++)
        d[j] = (float) ((exp ((double) x[j] - max) / z - (j == classes[r] ? 1.0 : 0.0)) /
                        (double) n);
    }
  *loss = n > 0 ? sum / (double) n : 0.0;
  return TRUE;
}
