/* Connectionist temporal classification loss (see rnnstream/loss.h).
 *
 * For one sequence with T frames of log-probabilities lp[t][k] (the
 * log-softmax of the logits) and a target l_1..l_L, the extended target
 * l' = (blank, l_1, blank, l_2, ..., l_L, blank) has S = 2L + 1 symbols and
 *
 *   alpha_t(s) = lp[t][l'_s] + logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1),
 *                                        alpha_{t-1}(s-2) if l'_s is not the
 *                                        blank and l'_s != l'_{s-2})
 *   beta_t(s)  = lp[t][l'_s] + logsumexp(beta_{t+1}(s), beta_{t+1}(s+1),
 *                                        beta_{t+1}(s+2) likewise)
 *
 * starting from the first two (alpha) and last two (beta) symbols. The loss
 * is -log p with log p = logsumexp(alpha_{T-1}(S-1), alpha_{T-1}(S-2)).
 * alpha_t(s) + beta_t(s) counts lp[t][l'_s] twice, so the posterior of
 * class k at frame t is gamma_t(k) = sum over s with l'_s = k of
 * exp(alpha_t(s) + beta_t(s) - lp[t][k] - log p), and the gradient with
 * respect to the logits is softmax_t(k) - gamma_t(k) (the log-softmax's
 * Jacobian folded in, as PyTorch's ctc_loss gradient does), scaled by the
 * reduction. Everything in double precision and in log space, where the
 * products of many small probabilities cannot underflow.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "rnnstream/error.h"
#include "rnnstream/loss.h"

static inline double
lse2 (double a, double b)
{
  const double m = MAX (a, b);

  return m == -INFINITY ? -INFINITY : m + log (exp (a - m) + exp (b - m));
}

static inline double
lse3 (double a, double b, double c)
{
  const double m = MAX (MAX (a, b), c);

  return m == -INFINITY ? -INFINITY : m + log (exp (a - m) + exp (b - m) + exp (c - m));
}

/* log-softmax of frame (t, b) into lp (width doubles). */
static void
log_softmax (const RsLossFrames *f, guint t, guint b, double *lp)
{
  const float *x = f->output + ((gsize) t * f->n_streams + b) * f->width;
  double max = -INFINITY, z = 0.0;

  for (guint k = 0; k < f->width; k++)
    max = MAX (max, (double) x[k]);
  for (guint k = 0; k < f->width; k++)
    z += exp ((double) x[k] - max);
  for (guint k = 0; k < f->width; k++)
    lp[k] = (double) x[k] - max - log (z);
}

/* One sequence: returns -log p and, when d_output is set, writes its
 * gradient rows multiplied by scale. */
static double
ctc_one (const RsLossFrames *f, guint b, guint T, const guint32 *target, guint L, guint blank,
         gboolean zero_infinity, double scale, float *d_output)
{
  const guint S = 2 * L + 1, W = f->width;
  g_autofree double *lp = g_new (double, (gsize) MAX (T, 1) * W);
  g_autofree double *alpha = g_new (double, (gsize) MAX (T, 1) * S);
  g_autofree double *beta = g_new (double, (gsize) MAX (T, 1) * S);
  g_autofree guint32 *ext = g_new (guint32, S);
  double loglik;

  for (guint s = 0; s < S; s++)
    ext[s] = s % 2 ? target[s / 2] : blank;
  for (guint t = 0; t < T; t++)
    log_softmax (f, t, b, lp + (gsize) t * W);

  if (T == 0) {
    loglik = L == 0 ? 0.0 : -INFINITY;
  } else {
    for (guint s = 0; s < S; s++)
      alpha[s] = s < 2 ? lp[ext[s]] : -INFINITY;
    for (guint t = 1; t < T; t++)
      for (guint s = 0; s < S; s++) {
        const double *a = alpha + (gsize) (t - 1) * S;
        const double skip = s >= 2 && ext[s] != blank && ext[s] != ext[s - 2] ? a[s - 2]
                                                                               : -INFINITY;
        alpha[(gsize) t * S + s] = lp[(gsize) t * W + ext[s]] +
                                   lse3 (a[s], s >= 1 ? a[s - 1] : -INFINITY, skip);
      }
    for (guint s = 0; s < S; s++)
      beta[(gsize) (T - 1) * S + s] = s + 2 >= S ? lp[(gsize) (T - 1) * W + ext[s]] : -INFINITY;
    for (guint t = T - 1; t-- > 0;)
      for (guint s = 0; s < S; s++) {
        const double *n = beta + (gsize) (t + 1) * S;
        const double skip = s + 2 < S && ext[s] != blank && ext[s] != ext[s + 2] ? n[s + 2]
                                                                                 : -INFINITY;
        beta[(gsize) t * S + s] = lp[(gsize) t * W + ext[s]] +
                                  lse3 (n[s], s + 1 < S ? n[s + 1] : -INFINITY, skip);
      }
    loglik = lse2 (alpha[(gsize) (T - 1) * S + S - 1],
                   S >= 2 ? alpha[(gsize) (T - 1) * S + S - 2] : -INFINITY);
  }

  if (d_output != NULL) {
    g_autofree double *lcab = g_new (double, W);
    const gboolean zero = zero_infinity && loglik == -INFINITY;

    for (guint t = 0; t < T; t++) {
      float *d = d_output + ((gsize) t * f->n_streams + b) * W;
      const double *l = lp + (gsize) t * W;

      for (guint k = 0; k < W; k++)
        lcab[k] = -INFINITY;
      for (guint s = 0; s < S; s++)
        lcab[ext[s]] = lse2 (lcab[ext[s]], alpha[(gsize) t * S + s] + beta[(gsize) t * S + s]);
      for (guint k = 0; k < W; k++)
        d[k] = zero ? 0.0f : (float) (scale * (exp (l[k]) - exp (lcab[k] - l[k] - loglik)));
    }
  }
  if (loglik == -INFINITY && zero_infinity)
    return 0.0;
  return -loglik;
}

gboolean
rs_loss_ctc (const RsLossFrames *f, const RsCtcOptions *options, const guint32 *targets,
             const guint *target_lengths, double *loss, float *d_output, GError **error)
{
  const RsCtcOptions defaults = { 0, FALSE };
  const guint32 *target = targets;
  double sum = 0.0;

  g_return_val_if_fail (f != NULL && f->output != NULL && target_lengths != NULL, FALSE);
  g_return_val_if_fail (loss != NULL && f->n_streams >= 1, FALSE);

  if (options == NULL)
    options = &defaults;
  if (options->blank >= f->width) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "CTC blank %u is out of range (the model "
                 "has %u outputs)", options->blank, f->width);
    return FALSE;
  }
  for (guint b = 0; b < f->n_streams; b++) {
    for (guint i = 0; i < target_lengths[b]; i++)
      if (target[i] >= f->width || target[i] == options->blank) {
        g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "CTC target of sequence %u, label %u: "
                     "%u is %s", b, i, target[i], target[i] == options->blank
                       ? "the blank" : "out of range");
        return FALSE;
      }
    target += target_lengths[b];
  }
  if (d_output != NULL)
    memset (d_output, 0, (gsize) f->n_frames * f->n_streams * f->width * sizeof (float));
  target = targets;
  for (guint b = 0; b < f->n_streams; b++) {
    const guint T = f->lengths ? MIN (f->lengths[b], f->n_frames) : f->n_frames;
    const double scale = 1.0 / ((double) MAX (target_lengths[b], 1) * f->n_streams);

    sum += scale * ctc_one (f, b, T, target, target_lengths[b], options->blank,
                            options->zero_infinity, scale, d_output);
    target += target_lengths[b];
  }
  *loss = sum;
  return TRUE;
}
