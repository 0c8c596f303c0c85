/* Optimisers and schedules against PyTorch (tests/make-optim-fixtures.py):
 * parameter trajectories of SGD (momentum, Nesterov, weight decay), Adam,
 * Adam with L2 decay and AdamW, with and without clipping by global norm;
 * ReduceLROnPlateau's rates; and what PyTorch does not check for us:
 * warm-up, early stopping, option errors, determinism and the state a
 * checkpoint saves. */
#include <math.h>
#include <string.h>

#include <rnnstream/error.h>
#include <rnnstream/optimizer.h>
#include <rnnstream/safetensors.h>
#include <rnnstream/schedule.h>

/* Relative to the parameter's size: float32 rounding over 8 steps, where
 * PyTorch's vector kernels fuse some multiply-adds that we round twice. */
#define TOL 5e-7

#define NW 24
#define NB 4

static RsSafetensors *
load_fixture (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("RS_TEST_FIXTURES"), "optim",
                                            "optim.safetensors", NULL);
  RsSafetensors *st = rs_safetensors_load (path, &error);

  g_assert_no_error (error);
  return st;
}

static const float *
tensor (const RsSafetensors *st, const char *name, guint64 n)
{
  const RsTensor *t = rs_safetensors_lookup (st, name);

  g_assert_nonnull (t);
  g_assert_cmpuint (t->n_elements, ==, n);
  return t->data;
}

/* "kind=adam lr=0.01 wd=0.1 ..." into options and the clip norm. */
static void
parse_case (const char *text, RsOptimizerOptions *o, double *clip)
{
  g_auto (GStrv) fields = g_strsplit (text, " ", -1);
  const RsOptimizerOptions defaults = RS_OPTIMIZER_OPTIONS_INIT;

  *o = defaults;
  *clip = 0;
  for (guint i = 0; fields[i] != NULL; i++) {
    g_auto (GStrv) kv = g_strsplit (fields[i], "=", 2);
    const double v = g_ascii_strtod (kv[1], NULL);

    if (strcmp (kv[0], "kind") == 0)
      g_assert_true (rs_optimizer_kind_from_name (kv[1], &o->kind));
    else if (strcmp (kv[0], "lr") == 0)
      o->lr = v;
    else if (strcmp (kv[0], "momentum") == 0)
      o->momentum = v;
    else if (strcmp (kv[0], "nesterov") == 0)
      o->nesterov = v != 0;
    else if (strcmp (kv[0], "wd") == 0)
      o->weight_decay = v;
    else if (strcmp (kv[0], "decoupled") == 0)
      o->decoupled = v != 0;
    else if (strcmp (kv[0], "beta1") == 0)
      o->beta1 = v;
    else if (strcmp (kv[0], "beta2") == 0)
      o->beta2 = v;
    else if (strcmp (kv[0], "eps") == 0)
      o->eps = v;
    else if (strcmp (kv[0], "clip") == 0)
      *clip = v;
    else
      g_error ("unknown option %s in the fixture", kv[0]);
  }
}

static double
max_rel_diff (const float *got, const float *want, gsize n)
{
  double scale = 0, diff = 0;

  for (gsize i = 0; i < n; i++)
    scale = MAX (scale, fabs (want[i]));
  for (gsize i = 0; i < n; i++)
    diff = MAX (diff, fabs ((double) got[i] - want[i]));
  return diff / MAX (scale, 1e-30);
}

static void
test_trajectories (void)
{
  g_autoptr (RsSafetensors) st = load_fixture ();
  const char *const *keys = rs_safetensors_metadata_keys (st);
  const float *init_w = tensor (st, "init.w", NW), *init_b = tensor (st, "init.b", NB);
  guint steps = (guint) rs_safetensors_lookup (st, "grads.w")->shape[0];
  const float *grads_w = tensor (st, "grads.w", (guint64) steps * NW);
  const float *grads_b = tensor (st, "grads.b", (guint64) steps * NB);
  guint cases = 0;

  for (guint k = 0; keys[k] != NULL; k++) {
    const char *name = keys[k];
    g_autofree char *wname = g_strconcat (name, ".w", NULL);
    g_autofree char *bname = g_strconcat (name, ".b", NULL);
    g_autoptr (RsOptimizer) opt = NULL;
    g_autoptr (GError) error = NULL;
    RsOptimizerOptions o;
    float w[NW], b[NB], gw[NW], gb[NB];
    const float *want_w, *want_b;
    double clip, worst = 0;

    if (rs_safetensors_lookup (st, wname) == NULL)
      continue;               /* plateau, torch */
    parse_case (rs_safetensors_metadata (st, name), &o, &clip);
    want_w = tensor (st, wname, (guint64) steps * NW);
    want_b = tensor (st, bname, (guint64) steps * NB);
    opt = rs_optimizer_new (&o, &error);
    g_assert_no_error (error);
    memcpy (w, init_w, sizeof w);
    memcpy (b, init_b, sizeof b);
    rs_optimizer_add (opt, "w", w, gw, NW, TRUE);
    rs_optimizer_add (opt, "b", b, gb, NB, FALSE);
    for (guint s = 0; s < steps; s++) {
      memcpy (gw, grads_w + s * NW, sizeof gw);
      memcpy (gb, grads_b + s * NB, sizeof gb);
      if (clip > 0)
        rs_optimizer_clip_grad_norm (opt, clip);
      rs_optimizer_step (opt);
      worst = MAX (worst, max_rel_diff (w, want_w + s * NW, NW));
      worst = MAX (worst, max_rel_diff (b, want_b + s * NB, NB));
    }
    g_test_message ("%s: max relative difference %.3g over %u steps", name, worst, steps);
    if (worst > TOL)
      g_error ("%s: max relative difference %g > %g", name, worst, TOL);
    g_assert_cmpuint (rs_optimizer_get_steps (opt), ==, steps);
    cases++;
  }
  g_assert_cmpuint (cases, ==, 8);
}

static void
test_clip (void)
{
  g_autoptr (RsOptimizer) opt = NULL;
  RsOptimizerOptions o = RS_OPTIMIZER_OPTIONS_INIT;
  float p[2] = { 0, 0 }, g[2] = { 3, 4 }, q[1] = { 0 }, h[1] = { 0 };
  double norm;

  opt = rs_optimizer_new (&o, NULL);
  rs_optimizer_add (opt, "p", p, g, 2, TRUE);
  rs_optimizer_add (opt, "q", q, h, 1, TRUE);
  /* Below the limit: untouched. */
  norm = rs_optimizer_clip_grad_norm (opt, 10);
  g_assert_cmpfloat (norm, ==, 5);
  g_assert_cmpfloat (g[0], ==, 3);
  /* Above it: scaled to the limit (within PyTorch's 1e-6). */
  norm = rs_optimizer_clip_grad_norm (opt, 1);
  g_assert_cmpfloat (norm, ==, 5);
  g_assert_cmpfloat_with_epsilon (hypot (g[0], g[1]), 1.0, 1e-6);
  /* A non-finite norm is reported, and the gradients are left alone. */
  h[0] = INFINITY;
  norm = rs_optimizer_clip_grad_norm (opt, 1);
  g_assert_true (isinf (norm));
  g_assert_true (isinf (h[0]));
  rs_optimizer_zero_grad (opt);
  g_assert_cmpfloat (g[0], ==, 0);
  g_assert_cmpfloat (g[1], ==, 0);
  g_assert_cmpfloat (h[0], ==, 0);
}

static void
test_plateau (void)
{
  g_autoptr (RsSafetensors) st = load_fixture ();
  const RsTensor *loss = rs_safetensors_lookup (st, "plateau.loss");
  const float *lr = tensor (st, "plateau.lr", loss->n_elements);
  RsScheduleOptions o = RS_SCHEDULE_OPTIONS_INIT;
  g_autoptr (RsSchedule) s = NULL;
  g_autoptr (GError) error = NULL;
  guint reductions = 0;

  o.plateau_factor = 0.5;
  o.plateau_patience = 2;
  o.threshold = 1e-4;
  o.cooldown = 1;
  o.min_lr = 0.02;
  o.early_stop_patience = 0;
  s = rs_schedule_new (0.1, &o, &error);
  g_assert_no_error (error);
  for (guint e = 0; e < loss->n_elements; e++) {
    const guint verdict = rs_schedule_epoch_end (s, loss->data[e]);

    g_assert_false (verdict & RS_SCHEDULE_STOP);
    reductions += (verdict & RS_SCHEDULE_REDUCED) != 0;
    g_assert_cmpfloat_with_epsilon (rs_schedule_lr (s, 1000), lr[e], 1e-7);
  }
  g_assert_cmpuint (reductions, >=, 2);
  g_assert_cmpfloat (rs_schedule_best_loss (s), ==, 2.0f);
}

static void
test_warmup_and_early_stop (void)
{
  RsScheduleOptions o = RS_SCHEDULE_OPTIONS_INIT;
  g_autoptr (RsSchedule) s = NULL;
  const double losses[] = { 3, 2, 2.5, 2.4, 2.1, 1.0 };
  guint v = 0, e;

  o.warmup_steps = 4;
  o.plateau_factor = 1;
  o.early_stop_patience = 3;
  s = rs_schedule_new (0.2, &o, NULL);
  g_assert_cmpfloat_with_epsilon (rs_schedule_lr (s, 1), 0.05, 1e-12);
  g_assert_cmpfloat_with_epsilon (rs_schedule_lr (s, 3), 0.15, 1e-12);
  g_assert_cmpfloat (rs_schedule_lr (s, 4), ==, 0.2);
  g_assert_cmpfloat (rs_schedule_lr (s, 100), ==, 0.2);
  g_assert_true (rs_schedule_epoch_end (s, NAN) == 0);  /* not an improvement, not a stop */
  for (e = 0; e < G_N_ELEMENTS (losses); e++) {
    v = rs_schedule_epoch_end (s, losses[e]);
    if (v & RS_SCHEDULE_STOP)
      break;
  }
  /* Best at 2 (epoch 3, after the NaN), then three epochs without. */
  g_assert_cmpuint (e, ==, 4);
  g_assert_cmpuint (rs_schedule_best_epoch (s), ==, 3);
  g_assert_cmpfloat (rs_schedule_best_loss (s), ==, 2);
  g_assert_cmpfloat (rs_schedule_lr (s, 100), ==, 0.2);
}

static void
test_errors (void)
{
  RsOptimizerOptions o = RS_OPTIMIZER_OPTIONS_INIT;
  RsScheduleOptions so = RS_SCHEDULE_OPTIONS_INIT;
  GError *error = NULL;

  o.lr = 0;
  g_assert_null (rs_optimizer_new (&o, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "learning rate"));
  g_clear_error (&error);
  o.lr = NAN;
  g_assert_null (rs_optimizer_new (&o, &error));
  g_clear_error (&error);
  o.lr = 0.1;
  o.beta2 = 1;
  g_assert_null (rs_optimizer_new (&o, &error));
  g_assert_nonnull (strstr (error->message, "beta2"));
  g_clear_error (&error);
  o.kind = RS_OPTIMIZER_SGD;
  o.nesterov = TRUE;
  g_assert_null (rs_optimizer_new (&o, &error));
  g_assert_nonnull (strstr (error->message, "Nesterov"));
  g_clear_error (&error);
  o.nesterov = FALSE;
  o.weight_decay = -1;
  g_assert_null (rs_optimizer_new (&o, &error));
  g_assert_nonnull (strstr (error->message, "weight decay"));
  g_clear_error (&error);
  so.plateau_factor = 0;
  g_assert_null (rs_schedule_new (0.1, &so, &error));
  g_assert_nonnull (strstr (error->message, "plateau factor"));
  g_clear_error (&error);
}

typedef struct {
  GPtrArray *names;
  float fill;
} StateVisit;

static void
visit_state (const char *name, float *data, gsize n, gpointer user_data)
{
  StateVisit *v = user_data;

  g_ptr_array_add (v->names, g_strdup (name));
  for (gsize i = 0; i < n; i++)
    data[i] = v->fill;
}

/* Two optimisers stepped alike stay bit-identical; restoring one's state
 * (as a checkpoint does) into a fresh one continues the same trajectory. */
static void
test_state_and_determinism (void)
{
  RsOptimizerOptions o = RS_OPTIMIZER_OPTIONS_INIT;
  float pa[8], pb[8], ga[8], gb[8];
  g_autoptr (RsOptimizer) a = NULL, b = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  StateVisit visit = { names, 0.25f };

  o.weight_decay = 0.01;
  a = rs_optimizer_new (&o, NULL);
  b = rs_optimizer_new (&o, NULL);
  for (guint i = 0; i < 8; i++)
    pa[i] = pb[i] = (float) i / 7.0f - 0.5f;
  rs_optimizer_add (a, "x", pa, ga, 8, TRUE);
  rs_optimizer_add (b, "x", pb, gb, 8, TRUE);
  for (guint s = 0; s < 5; s++) {
    for (guint i = 0; i < 8; i++)
      ga[i] = gb[i] = sinf ((float) (s * 8 + i));
    rs_optimizer_step (a);
    rs_optimizer_step (b);
  }
  g_assert_cmpmem (pa, sizeof pa, pb, sizeof pb);

  rs_optimizer_foreach_state (a, visit_state, &visit);
  g_assert_cmpuint (names->len, ==, 2);
  g_assert_cmpstr (names->pdata[0], ==, "exp_avg.x");
  g_assert_cmpstr (names->pdata[1], ==, "exp_avg_sq.x");
  rs_optimizer_foreach_state (b, visit_state, &visit);
  rs_optimizer_set_steps (b, rs_optimizer_get_steps (a));
  rs_optimizer_step (a);
  rs_optimizer_step (b);
  g_assert_cmpmem (pa, sizeof pa, pb, sizeof pb);

  /* Plain SGD keeps no state. */
  {
    g_autoptr (RsOptimizer) sgd = NULL;
    g_autoptr (GPtrArray) none = g_ptr_array_new_with_free_func (g_free);
    StateVisit v = { none, 0 };

    o.kind = RS_OPTIMIZER_SGD;
    sgd = rs_optimizer_new (&o, NULL);
    rs_optimizer_add (sgd, "x", pa, ga, 8, TRUE);
    rs_optimizer_foreach_state (sgd, visit_state, &v);
    g_assert_cmpuint (none->len, ==, 0);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/optimizer/pytorch-trajectories", test_trajectories);
  g_test_add_func ("/optimizer/clip-grad-norm", test_clip);
  g_test_add_func ("/optimizer/state-and-determinism", test_state_and_determinism);
  g_test_add_func ("/optimizer/errors", test_errors);
  g_test_add_func ("/schedule/plateau-as-pytorch", test_plateau);
  g_test_add_func ("/schedule/warmup-and-early-stop", test_warmup_and_early_stop);
  return g_test_run ();
}
