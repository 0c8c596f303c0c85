/* SGD with momentum and Adam, as PyTorch 1.13's single-tensor updates
 * (see rnnstream/optimizer.h). PyTorch computes a float32 update in
 * float32 with its Python-float scalars rounded to float, so this does the
 * same, operation by operation; only the bias corrections are computed in
 * double, as PyTorch computes them in Python. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "rnnstream/error.h"
#include "rnnstream/optimizer.h"

typedef struct {
  char *name;
  float *param;
  float *grad;
  gsize n;
  gboolean decay;
  float *buf1;               /* SGD: momentum buffer; Adam: exp_avg */
  float *buf2;               /* Adam: exp_avg_sq */
} Param;

struct RsOptimizer {
  RsOptimizerOptions opts;
  GArray *params;            /* Param */
  guint64 steps;
};

gboolean
rs_optimizer_kind_from_name (const char *name, RsOptimizerKind *kind)
{
  if (g_strcmp0 (name, "sgd") == 0)
    *kind = RS_OPTIMIZER_SGD;
  else if (g_strcmp0 (name, "adam") == 0)
    *kind = RS_OPTIMIZER_ADAM;
  else
    return FALSE;
  return TRUE;
}

const char *
rs_optimizer_kind_name (RsOptimizerKind kind)
{
  return kind == RS_OPTIMIZER_SGD ? "sgd" : "adam";
}

static gboolean
check (gboolean ok, GError **error, const char *what, double value, const char *range)
{
  if (!ok)
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "optimiser: %s must be %s, not %g", what,
                 range, value);
  return ok;
}

static void
param_clear (gpointer data)
{
  Param *p = data;

  g_free (p->name);
  g_free (p->buf1);
  g_free (p->buf2);
}

RsOptimizer *
rs_optimizer_new (const RsOptimizerOptions *o, GError **error)
{
  RsOptimizer *opt;

  /* Written so that NaN fails every check. */
  if (!check (o->lr > 0 && isfinite (o->lr), error, "the learning rate", o->lr, "> 0") ||
      !check (o->weight_decay >= 0 && isfinite (o->weight_decay), error, "weight decay",
              o->weight_decay, ">= 0"))
    return NULL;
  if (o->kind == RS_OPTIMIZER_SGD) {
    if (!check (o->momentum >= 0 && o->momentum < 1, error, "momentum", o->momentum, "in [0, 1)"))
      return NULL;
    if (o->nesterov && o->momentum == 0) {
      g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT,
                   "optimiser: Nesterov momentum needs a momentum > 0");
      return NULL;
    }
  } else if (!check (o->beta1 >= 0 && o->beta1 < 1, error, "beta1", o->beta1, "in [0, 1)") ||
             !check (o->beta2 >= 0 && o->beta2 < 1, error, "beta2", o->beta2, "in [0, 1)") ||
             !check (o->eps > 0 && isfinite (o->eps), error, "eps", o->eps, "> 0")) {
    return NULL;
  }
  opt = g_new0 (RsOptimizer, 1);
  opt->opts = *o;
  opt->params = g_array_new (FALSE, FALSE, sizeof (Param));
  g_array_set_clear_func (opt->params, param_clear);
  return opt;
}

void
rs_optimizer_free (RsOptimizer *opt)
{
  if (opt == NULL)
    return;
  g_array_unref (opt->params);
  g_free (opt);
}

void
rs_optimizer_add (RsOptimizer *opt, const char *name, float *param, float *grad, gsize n,
                  gboolean decay)
{
  Param p = { g_strdup (name), param, grad, n, decay, NULL, NULL };
  const gsize count = MAX (n, 1);

  if (opt->opts.kind == RS_OPTIMIZER_ADAM) {
    p.buf1 = g_new0 (float, count);
    p.buf2 = g_new0 (float, count);
  } else if (opt->opts.momentum > 0) {
    p.buf1 = g_new0 (float, count);
  }
  g_array_append_val (opt->params, p);
}

void
rs_optimizer_zero_grad (RsOptimizer *opt)
{
  for (guint i = 0; i < opt->params->len; i++) {
    Param *p = &g_array_index (opt->params, Param, i);

    memset (p->grad, 0, p->n * sizeof (float));
  }
}

double
rs_optimizer_clip_grad_norm (RsOptimizer *opt, double max_norm)
{
  double sum = 0, norm;
  float coef;

  for (guint i = 0; i < opt->params->len; i++) {
    const Param *p = &g_array_index (opt->params, Param, i);

    for (gsize k = 0; k < p->n; k++)
      sum += (double) p->grad[k] * p->grad[k];
  }
  norm = sqrt (sum);
  if (!(max_norm > 0) || !isfinite (norm) || norm <= max_norm)
    return norm;
  coef = (float) (max_norm / (norm + 1e-6));
  for (guint i = 0; i < opt->params->len; i++) {
    Param *p = &g_array_index (opt->params, Param, i);

    for (gsize k = 0; k < p->n; k++)
      p->grad[k] *= coef;
  }
  return norm;
}

/* torch.optim.SGD: d = g + wd * w; b = d (first step), else
 * b = momentum * b + d; d = nesterov ? d + momentum * b : b; w -= lr * d. */
static void
sgd_step (const RsOptimizerOptions *o, Param *p, gboolean first)
{
  const float lr = (float) o->lr, mu = (float) o->momentum;
  const float wd = p->decay ? (float) o->weight_decay : 0.0f;

  for (gsize k = 0; k < p->n; k++) {
    float d = p->grad[k];

    if (wd != 0)
      d = d + wd * p->param[k];
    if (p->buf1 != NULL) {
      const float b = first ? d : p->buf1[k] * mu + d;

      p->buf1[k] = b;
      d = o->nesterov ? d + mu * b : b;
    }
    p->param[k] = p->param[k] + (-lr) * d;
  }
}

/* torch.optim.Adam / AdamW. */
static void
adam_step (const RsOptimizerOptions *o, Param *p, guint64 step)
{
  const double bc1 = 1.0 - pow (o->beta1, (double) step);
  const double bc2 = 1.0 - pow (o->beta2, (double) step);
  const float b1 = (float) o->beta1, b2 = (float) o->beta2;
  const float one_minus_b1 = (float) (1.0 - o->beta1), one_minus_b2 = (float) (1.0 - o->beta2);
  const float step_size = (float) (o->lr / bc1);
  const float bc2_sqrt = (float) sqrt (bc2);
  const float eps = (float) o->eps;
  const float wd = p->decay ? (float) o->weight_decay : 0.0f;
  const float shrink = (float) (1.0 - o->lr * (p->decay ? o->weight_decay : 0.0));

  for (gsize k = 0; k < p->n; k++) {
    float g = p->grad[k], m, v, denom;

    if (o->decoupled) {
      if (wd != 0)
        p->param[k] = p->param[k] * shrink;
    } else if (wd != 0) {
      g = g + wd * p->param[k];
    }
    m = p->buf1[k] * b1 + g * one_minus_b1;
    v = p->buf2[k] * b2 + one_minus_b2 * g * g;
    p->buf1[k] = m;
    p->buf2[k] = v;
    denom = sqrtf (v) / bc2_sqrt + eps;
    p->param[k] = p->param[k] + (-step_size) * m / denom;
  }
}

void
rs_optimizer_step (RsOptimizer *opt)
{
  opt->steps++;
  for (guint i = 0; i < opt->params->len; i++) {
    Param *p = &g_array_index (opt->params, Param, i);

    if (opt->opts.kind == RS_OPTIMIZER_SGD)
      sgd_step (&opt->opts, p, opt->steps == 1);
    else
      adam_step (&opt->opts, p, opt->steps);
  }
}

double
rs_optimizer_get_lr (const RsOptimizer *opt)
{
  return opt->opts.lr;
}

void
rs_optimizer_set_lr (RsOptimizer *opt, double lr)
{
  g_return_if_fail (lr > 0);
  opt->opts.lr = lr;
}

guint64
rs_optimizer_get_steps (const RsOptimizer *opt)
{
  return opt->steps;
}

void
rs_optimizer_set_steps (RsOptimizer *opt, guint64 steps)
{
  opt->steps = steps;
}

void
rs_optimizer_foreach_state (RsOptimizer *opt, RsOptimizerStateFunc func, gpointer user_data)
{
  const gboolean adam = opt->opts.kind == RS_OPTIMIZER_ADAM;

  for (guint i = 0; i < opt->params->len; i++) {
    Param *p = &g_array_index (opt->params, Param, i);
    g_autofree char *first = NULL, *second = NULL;

    if (p->buf1 == NULL)
      continue;
    first = g_strconcat (adam ? "exp_avg." : "momentum_buffer.", p->name, NULL);
    func (first, p->buf1, p->n, user_data);
    if (adam) {
      second = g_strconcat ("exp_avg_sq.", p->name, NULL);
      func (second, p->buf2, p->n, user_data);
    }
  }
}
