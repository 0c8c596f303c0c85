/* The training engine against PyTorch and against itself.
 *
 * Relative difference, used for every comparison with PyTorch: for a
 * tensor b (PyTorch's) and a (ours), max over elements of
 *   |a - b| / max(|b|, 1e-3 * max|b|)
 * so that elements near zero are judged against the tensor's scale, not
 * against their own tiny magnitude. The bound is 1e-4 (issue 4). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <rnnstream/rnnstream.h>

#include "st-writer.h"

#define MAX_REL 1e-4
#define FLOOR 1e-3

static char *
fixture (const char *name, const char *suffix)
{
  g_autofree char *file = g_strconcat (name, suffix, NULL);
  return g_build_filename (g_getenv ("RS_TEST_TRAIN_FIXTURES"), file, NULL);
}

static double
rel_diff (const float *a, const float *b, gsize n)
{
  double scale = 0.0, worst = 0.0;

  for (gsize i = 0; i < n; i++)
    scale = MAX (scale, fabs ((double) b[i]));
  for (gsize i = 0; i < n; i++) {
    const double d = fabs ((double) a[i] - (double) b[i]) / MAX (fabs ((double) b[i]),
                                                                 FLOOR * scale);
    if (isnan (d))
      return INFINITY;
    worst = MAX (worst, d);
  }
  return scale == 0.0 ? (worst > 0 ? INFINITY : 0.0) : worst;
}

typedef struct {
  char *name, *cell, *loss;
  guint layers, window;
} Case;

typedef struct {
  RsSafetensors *data;
  RsTrainable *t;
  guint T, B, I, O, L, H;
  guint lengths[8];
} Loaded;

static const RsTensor *
need (RsSafetensors *st, const char *name)
{
  const RsTensor *t = rs_safetensors_lookup (st, name);
  if (t == NULL)
    g_error ("fixture tensor %s missing", name);
  return t;
}

static void
load_case (const Case *c, Loaded *ld)
{
  g_autofree char *model_path = fixture (c->name, ".safetensors");
  g_autofree char *data_path = fixture (c->name, ".grad.safetensors");
  g_autoptr (RsModel) model = NULL;
  g_autoptr (GError) error = NULL;
  const RsTensor *input, *lengths, *h0;

  model = rs_model_load (model_path, NULL, &error);
  g_assert_no_error (error);
  ld->t = rs_trainable_new_from_model (model, &error);
  g_assert_no_error (error);
  ld->data = rs_safetensors_load (data_path, &error);
  g_assert_no_error (error);
  input = need (ld->data, "input");
  lengths = need (ld->data, "lengths");
  ld->T = (guint) input->shape[0];
  ld->B = (guint) input->shape[1];
  ld->I = (guint) input->shape[2];
  ld->O = rs_trainable_output_size (ld->t);
  ld->L = rs_trainable_n_layers (ld->t);
  h0 = need (ld->data, "h0");
  ld->H = (guint) h0->shape[2];
  g_assert_cmpuint (ld->B, <=, G_N_ELEMENTS (ld->lengths));
  for (guint b = 0; b < ld->B; b++)
    ld->lengths[b] = (guint) lengths->data[b];

  /* The initial state, [layer][stream][h | c]. */
  rs_trainable_reset_state (ld->t, ld->B);
  {
    float *state = rs_trainable_state (ld->t);
    const RsTensor *c0 = rs_safetensors_lookup (ld->data, "c0");
    gsize off = 0;
    for (guint l = 0; l < ld->L; l++) {
      const guint S = rs_trainable_layer_state_size (ld->t, l);
      for (guint b = 0; b < ld->B; b++, off += S) {
        memcpy (state + off, h0->data + ((gsize) l * ld->B + b) * ld->H, ld->H * sizeof (float));
        if (c0 != NULL)
          memcpy (state + off + ld->H, c0->data + ((gsize) l * ld->B + b) * ld->H,
                  ld->H * sizeof (float));
      }
    }
  }
}

static void
loaded_clear (Loaded *ld)
{
  g_clear_pointer (&ld->data, rs_safetensors_free);
  g_clear_pointer (&ld->t, rs_trainable_free);
}

/* The case's loss over a window of outputs starting at frame first. */
typedef struct {
  const Case *c;
  Loaded *ld;
} LossCtx;

static gboolean
case_loss (const RsLossFrames *w, guint first, gpointer user_data, double *loss, float *d,
           GError **error)
{
  LossCtx *ctx = user_data;
  RsSafetensors *st = ctx->ld->data;
  const gsize rows = (gsize) first * w->n_streams;

  if (strcmp (ctx->c->loss, "mse") == 0) {
    *loss = rs_loss_mse (w, need (st, "target")->data + rows * w->width, d);
    return TRUE;
  }
  if (strcmp (ctx->c->loss, "mae") == 0) {
    *loss = rs_loss_mae (w, need (st, "target")->data + rows * w->width, d);
    return TRUE;
  }
  if (strcmp (ctx->c->loss, "ce") == 0) {
    const RsTensor *cls = need (st, "classes");
    g_autofree guint32 *classes = g_new (guint32, cls->n_elements);
    for (gsize i = 0; i < cls->n_elements; i++)
      classes[i] = (guint32) cls->data[i];
    return rs_loss_cross_entropy (w, classes + rows, loss, d, error);
  } else {
    const RsTensor *lab = need (st, "labels"), *ll = need (st, "label_lengths");
    g_autofree guint32 *labels = g_new (guint32, MAX (lab->n_elements, 1));
    g_autofree guint *label_lengths = g_new (guint, ll->n_elements);
    RsCtcOptions options = { .blank = 0, .zero_infinity = FALSE };
    g_assert_cmpuint (first, ==, 0);
    for (gsize i = 0; i < lab->n_elements; i++)
      labels[i] = (guint32) lab->data[i];
    for (gsize i = 0; i < ll->n_elements; i++)
      label_lengths[i] = (guint) ll->data[i];
    return rs_loss_ctc (w, &options, labels, label_lengths, loss, d, error);
  }
}

/* Worst relative difference per cell kind and loss, for the summary. */
static GHashTable *worst;

static void
note (const char *key, double d)
{
  double *old = g_hash_table_lookup (worst, key);
  if (old == NULL) {
    old = g_new0 (double, 1);
    g_hash_table_insert (worst, g_strdup (key), old);
  }
  *old = MAX (*old, d);
}

static void
test_against_pytorch (gconstpointer data)
{
  const Case *c = data;
  Loaded ld = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree float *d_input = NULL;
  LossCtx ctx = { c, &ld };
  double loss = 0.0, d, case_worst = 0.0;
  const RsTensor *ref_loss;

  load_case (c, &ld);
  d_input = g_new0 (float, (gsize) ld.T * ld.B * ld.I);
  rs_trainable_zero_grad (ld.t);
  if (c->window == 0) {
    g_autofree float *out = g_new (float, (gsize) ld.T * ld.B * ld.O);
    g_autofree float *d_out = g_new (float, (gsize) ld.T * ld.B * ld.O);
    RsLossFrames frames = { ld.T, ld.B, ld.O, ld.lengths, out };

    g_assert_true (rs_trainable_forward (ld.t, ld.T, need (ld.data, "input")->data, ld.lengths,
                                         out, &error));
    g_assert_true (case_loss (&frames, 0, &ctx, &loss, d_out, &error));
    g_assert_no_error (error);
    g_assert_true (rs_trainable_backward (ld.t, d_out, NULL, d_input, &error));
  } else {
    g_assert_true (rs_train_bptt (ld.t, ld.T, need (ld.data, "input")->data, ld.lengths,
                                  c->window, case_loss, &ctx, &loss, &error));
  }
  g_assert_no_error (error);

  ref_loss = need (ld.data, "loss");
  g_assert_cmpfloat (fabs (loss - ref_loss->data[0]), <=, 1e-5 * MAX (1.0, fabs (loss)));

  /* Every weight. */
  {
    const float *grads = rs_trainable_grads (ld.t);
    for (guint i = 0; i < rs_trainable_n_tensors (ld.t); i++) {
      const RsTrainTensor *tensor = rs_trainable_tensor (ld.t, i);
      g_autofree char *key = g_strconcat ("grad.", tensor->name, NULL);
      const RsTensor *ref = need (ld.data, key);
      g_assert_cmpuint (ref->n_elements, ==, tensor->n_elements);
      d = rel_diff (grads + tensor->offset, ref->data, tensor->n_elements);
      if (d > MAX_REL) {
        double scale = 0;
        for (gsize k = 0; k < tensor->n_elements; k++)
          scale = MAX (scale, fabs (ref->data[k]));
        for (gsize k = 0; k < tensor->n_elements; k++)
          if (fabs (grads[tensor->offset + k] - ref->data[k]) >
              MAX_REL * MAX (fabs (ref->data[k]), FLOOR * scale))
            g_test_message ("  [%" G_GSIZE_FORMAT "] ours %.9g, PyTorch %.9g (max |PyTorch| %.3g)",
                            k, grads[tensor->offset + k], ref->data[k], scale);
        g_test_message ("%s: %s differs by %g", c->name, tensor->name, d);
      }
      g_assert_cmpfloat (d, <=, MAX_REL);
      case_worst = MAX (case_worst, d);
    }
  }
  /* The input (whole-sequence cases; rs_train_bptt does not return it). */
  if (c->window == 0) {
    d = rel_diff (d_input, need (ld.data, "grad.input")->data, (gsize) ld.T * ld.B * ld.I);
    g_assert_cmpfloat (d, <=, MAX_REL);
    case_worst = MAX (case_worst, d);
  }
  /* The initial state. */
  if (c->window == 0) {
    const float *ds = rs_trainable_initial_state_grad (ld.t);
    const RsTensor *gh = need (ld.data, "grad.h0"), *gc = rs_safetensors_lookup (ld.data, "grad.c0");
    g_autofree float *h = g_new (float, gh->n_elements), *cc = g_new (float, gh->n_elements);
    gsize off = 0;
    for (guint l = 0; l < ld.L; l++) {
      const guint S = rs_trainable_layer_state_size (ld.t, l);
      for (guint b = 0; b < ld.B; b++, off += S) {
        memcpy (h + ((gsize) l * ld.B + b) * ld.H, ds + off, ld.H * sizeof (float));
        if (gc != NULL)
          memcpy (cc + ((gsize) l * ld.B + b) * ld.H, ds + off + ld.H, ld.H * sizeof (float));
      }
    }
    d = rel_diff (h, gh->data, gh->n_elements);
    g_assert_cmpfloat (d, <=, MAX_REL);
    case_worst = MAX (case_worst, d);
    if (gc != NULL) {
      d = rel_diff (cc, gc->data, gc->n_elements);
      g_assert_cmpfloat (d, <=, MAX_REL);
      case_worst = MAX (case_worst, d);
    }
  }
  g_test_message ("%s: max relative difference %.3g (loss %.9g vs %.9g)", c->name, case_worst,
                  loss, (double) ref_loss->data[0]);
  {
    g_autofree char *key = g_strdup_printf ("%s %s%s", c->cell, c->loss,
                                            c->window ? " tbptt" : "");
    note (key, case_worst);
  }
  loaded_clear (&ld);
}

/* Truncated BPTT with one window of the whole sequence is whole-sequence
 * BPTT: the same gradients as one forward and backward, bit for bit. */
static void
test_tbptt_whole (void)
{
  Case c = { "gru_l2_mse", "gru", "mse", 2, 0 };
  Loaded a = { 0 }, b = { 0 };
  g_autoptr (GError) error = NULL;
  LossCtx ca = { &c, &a }, cb = { &c, &b };
  double la = 0, lb = 0;

  load_case (&c, &a);
  load_case (&c, &b);
  rs_trainable_zero_grad (a.t);
  rs_trainable_zero_grad (b.t);
  g_assert_true (rs_train_bptt (a.t, a.T, need (a.data, "input")->data, a.lengths, a.T,
                                case_loss, &ca, &la, &error));
  {
    g_autofree float *out = g_new (float, (gsize) b.T * b.B * b.O);
    g_autofree float *d_out = g_new (float, (gsize) b.T * b.B * b.O);
    RsLossFrames frames = { b.T, b.B, b.O, b.lengths, out };
    g_assert_true (rs_trainable_forward (b.t, b.T, need (b.data, "input")->data, b.lengths,
                                         out, &error));
    g_assert_true (case_loss (&frames, 0, &cb, &lb, d_out, &error));
    g_assert_true (rs_trainable_backward (b.t, d_out, NULL, NULL, &error));
  }
  g_assert_no_error (error);
  g_assert_cmpfloat (la, ==, lb);
  g_assert_cmpmem (rs_trainable_grads (a.t), rs_trainable_n_params (a.t) * sizeof (float),
                   rs_trainable_grads (b.t), rs_trainable_n_params (b.t) * sizeof (float));
  /* And windows change the gradients (the cut is real). */
  rs_trainable_zero_grad (a.t);
  rs_trainable_reset_state (a.t, a.B);
  la = 0;
  g_assert_true (rs_train_bptt (a.t, a.T, need (a.data, "input")->data, a.lengths, 3,
                                case_loss, &ca, &la, &error));
  g_assert_cmpfloat (rel_diff (rs_trainable_grads (a.t), rs_trainable_grads (b.t),
                               rs_trainable_n_params (a.t)), >, 1e-3);
  loaded_clear (&a);
  loaded_clear (&b);
}

/* A padded batch gives the gradients of its sequences run alone, weighted
 * as the MSE's mean over all real frames says: sequence b alone averages
 * over its n_b frames, the batch over N = sum n_b, so
 * grad(batch) = sum_b (n_b / N) grad(b alone). */
static void
test_masking (void)
{
  Case c = { "lstm_l2_mse", "lstm", "mse", 2, 0 };
  Loaded ld = { 0 };
  g_autoptr (GError) error = NULL;
  const gsize n = 0;
  g_autofree float *batch_grads = NULL, *sum = NULL;
  guint total = 0;

  (void) n;
  load_case (&c, &ld);
  {
    const gsize P = rs_trainable_n_params (ld.t);
    const float *input = need (ld.data, "input")->data, *target = need (ld.data, "target")->data;
    g_autofree float *out = g_new (float, (gsize) ld.T * ld.B * ld.O);
    g_autofree float *d_out = g_new (float, (gsize) ld.T * ld.B * ld.O);
    RsLossFrames frames = { ld.T, ld.B, ld.O, ld.lengths, out };

    rs_trainable_reset_state (ld.t, ld.B);
    rs_trainable_zero_grad (ld.t);
    g_assert_true (rs_trainable_forward (ld.t, ld.T, input, ld.lengths, out, &error));
    rs_loss_mse (&frames, target, d_out);
    g_assert_true (rs_trainable_backward (ld.t, d_out, NULL, NULL, &error));
    batch_grads = g_memdup2 (rs_trainable_grads (ld.t), P * sizeof (float));

    sum = g_new0 (float, P);
    for (guint b = 0; b < ld.B; b++)
      total += ld.lengths[b];
    rs_trainable_reset_state (ld.t, 1);
    for (guint b = 0; b < ld.B; b++) {
      const guint n_b = ld.lengths[b];
      g_autofree float *x = g_new (float, (gsize) n_b * ld.I);
      g_autofree float *y = g_new (float, (gsize) n_b * ld.O);
      g_autofree float *o = g_new (float, (gsize) n_b * ld.O);
      g_autofree float *d = g_new (float, (gsize) n_b * ld.O);
      RsLossFrames alone = { n_b, 1, ld.O, NULL, o };

      for (guint t = 0; t < n_b; t++) {
        memcpy (x + (gsize) t * ld.I, input + ((gsize) t * ld.B + b) * ld.I, ld.I * sizeof (float));
        memcpy (y + (gsize) t * ld.O, target + ((gsize) t * ld.B + b) * ld.O,
                ld.O * sizeof (float));
      }
      rs_trainable_reset_state (ld.t, 1);
      rs_trainable_zero_grad (ld.t);
      g_assert_true (rs_trainable_forward (ld.t, n_b, x, NULL, o, &error));
      rs_loss_mse (&alone, y, d);
      g_assert_true (rs_trainable_backward (ld.t, d, NULL, NULL, &error));
      for (gsize i = 0; i < P; i++)
        sum[i] += (float) n_b / (float) total * rs_trainable_grads (ld.t)[i];
    }
    g_assert_no_error (error);
    g_test_message ("masking: padded batch vs sequences alone: %.3g",
                    rel_diff (batch_grads, sum, P));
    g_assert_cmpfloat (rel_diff (batch_grads, sum, P), <=, 1e-5);
  }
  loaded_clear (&ld);
}

/* Central differences on a tiny model from scratch: loss(w + e) -
 * loss(w - e) over 2e, e = 1e-3, in float32 (the forward pass is float32;
 * the loss is summed in double). The truncation error is O(e^2) and the
 * rounding error about 1e-7 / e, so the tolerance is |fd - g| <= 5e-4 +
 * 1e-2 |g|. e is small so that few differences straddle a ReLU's kink. Every weight of every tensor, for each cell kind and the
 * cross-entropy loss over a masked batch of two. */
static void
test_finite_differences (gconstpointer data)
{
  const char *cell = data;
  RsTrainableConfig config = { .cell = cell, .input_size = 3, .hidden_size = 4, .n_layers = 2,
                               .bias = TRUE, .head_size = 3, .head_bias = TRUE, .seed = 7 };
  g_autoptr (GError) error = NULL;
  g_autoptr (RsTrainable) t = rs_trainable_new (&config, NULL, &error);
  const guint T = 5, B = 2, lengths[2] = { 5, 3 };
  float x[5 * 2 * 3];
  guint32 classes[5 * 2];
  float out[5 * 2 * 3], d_out[5 * 2 * 3];
  RsLossFrames frames = { T, B, 3, lengths, out };
  GRand *rand = g_rand_new_with_seed (3);
  gsize P;
  g_autofree float *w = NULL, *g = NULL;
  double loss, worst = 0.0;

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (x); i++)
    x[i] = (float) g_rand_double_range (rand, -1.5, 1.5);
  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    classes[i] = (guint32) g_rand_int_range (rand, 0, 3);
  g_rand_free (rand);

  P = rs_trainable_n_params (t);
  w = g_new (float, P);
  rs_trainable_get_params (t, w);
  rs_trainable_reset_state (t, B);
  rs_trainable_zero_grad (t);
  g_assert_true (rs_trainable_forward (t, T, x, lengths, out, &error));
  g_assert_true (rs_loss_cross_entropy (&frames, classes, &loss, d_out, &error));
  g_assert_true (rs_trainable_backward (t, d_out, NULL, NULL, &error));
  g = g_memdup2 (rs_trainable_grads (t), P * sizeof (float));

  for (gsize i = 0; i < P; i++) {
    const float keep = w[i], e = 1e-3f;
    double lp, lm, fd;

    w[i] = keep + e;
    rs_trainable_set_params (t, w);
    rs_trainable_reset_state (t, B);
    g_assert_true (rs_trainable_forward (t, T, x, lengths, out, &error));
    g_assert_true (rs_loss_cross_entropy (&frames, classes, &lp, NULL, &error));
    w[i] = keep - e;
    rs_trainable_set_params (t, w);
    rs_trainable_reset_state (t, B);
    g_assert_true (rs_trainable_forward (t, T, x, lengths, out, &error));
    g_assert_true (rs_loss_cross_entropy (&frames, classes, &lm, NULL, &error));
    w[i] = keep;
    fd = (lp - lm) / (2.0 * ((double) (keep + e) - (double) keep));
    worst = MAX (worst, fabs (fd - g[i]) / (5e-4 + 1e-2 * fabs (g[i])));
    g_assert_cmpfloat (fabs (fd - g[i]), <=, 5e-4 + 1e-2 * fabs (g[i]));
  }
  g_test_message ("%s: finite differences within %.2f of the tolerance", cell, worst);
}

/* A plugin without the training extension runs models but cannot train
 * them, and says which cell and which file. */
static void
test_inference_only_plugin (void)
{
  const char *path = g_getenv ("RS_TEST_INFER_ONLY_PLUGIN");
  g_autoptr (RsRegistry) registry = rs_registry_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (StWriter) w = st_writer_new (11);
  g_autoptr (RsSafetensors) st = NULL;
  g_autoptr (RsModel) model = NULL;
  g_autoptr (RsStream) stream = NULL;
  g_autoptr (GBytes) bytes = NULL;
  RsTrainableConfig config = { .cell = "rnn_plain", .input_size = 2, .hidden_size = 3,
                               .n_layers = 1 };
  const float x[4] = { 0.5f, -1.0f, 0.25f, 2.0f };
  float y[6];
  gsize len;
  const guint8 *data;

  g_assert_true (rs_registry_load_file (registry, path, &error));
  st_writer_add (w, "rnn.weight_ih_l0", 3, 2);
  st_writer_add (w, "rnn.weight_hh_l0", 3, 3);
  st_writer_set_metadata (w, "cell", "rnn_plain");
  bytes = st_writer_bytes (w);
  data = g_bytes_get_data (bytes, &len);
  st = rs_safetensors_parse (data, len, "plain.safetensors", &error);
  g_assert_no_error (error);
  model = rs_model_new (st, "plain.safetensors", registry, &error);
  g_assert_no_error (error);
  stream = rs_stream_new (model, 1, &error);
  g_assert_no_error (error);
  rs_stream_forward (stream, 2, x, y);
  g_assert_true (isfinite (y[0]) && y[0] != 0.0f);

  g_assert_null (rs_trainable_new_from_model (model, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "'rnn_plain'"));
  g_assert_nonnull (strstr (error->message, path));
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  g_assert_null (rs_trainable_new (&config, registry, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "'rnn_plain'"));
  g_assert_nonnull (strstr (error->message, path));
}

/* What the engine does not train is refused, not trained wrongly. */
static void
test_refusals (void)
{
  const char *dir = g_getenv ("RS_TEST_FIXTURES");
  const struct { const char *file; const char *says; } cases[] = {
    { "lstm_l1_proj.safetensors", "projection" },
    { "gru_l2_bidir_head.safetensors", "bidirectional" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *path = g_build_filename (dir, cases[i].file, NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (RsModel) model = rs_model_load (path, NULL, &error);

    g_assert_no_error (error);
    g_assert_null (rs_trainable_new_from_model (model, &error));
    g_assert_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, cases[i].says));
  }
}

/* Exported weights load as a model that computes what the trainable
 * computes, under the original file's tensor names. */
static void
test_export (void)
{
  g_autofree char *model_path = fixture ("gru_l2_mse", ".safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (RsModel) original = rs_model_load (model_path, NULL, &error);
  g_autoptr (RsTrainable) t = rs_trainable_new_from_model (original, &error);
  g_autoptr (RsModel) copy = NULL, changed = NULL;
  g_autoptr (RsSafetensors) a = NULL, b = NULL;
  g_autofree char *dir = g_dir_make_tmp ("rs-train-XXXXXX", NULL);
  g_autofree char *out_path = g_build_filename (dir, "trained.safetensors", NULL);
  g_autofree float *w = NULL;
  const char *meta[] = { "description", "a \"quoted\" test", NULL };
  const guint T = 6, I = rs_model_input_size (original), O = rs_model_output_size (original);
  g_autofree float *x = g_new (float, T * I), *y1 = g_new (float, T * O);
  g_autofree float *y2 = g_new (float, T * O);

  g_assert_no_error (error);
  for (guint i = 0; i < T * I; i++)
    x[i] = sinf ((float) i);
  g_assert_true (rs_trainable_save (t, out_path, meta, &error));
  copy = rs_model_load (out_path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rs_model_metadata (copy, "description"), ==, "a \"quoted\" test");
  g_assert_cmpstr (rs_model_metadata (copy, "cell"), ==, "gru");
  a = rs_safetensors_load (model_path, &error);
  b = rs_safetensors_load (out_path, &error);
  g_assert_cmpuint (rs_safetensors_n_tensors (a), ==, rs_safetensors_n_tensors (b));
  for (guint i = 0; i < rs_safetensors_n_tensors (a); i++) {
    const RsTensor *ta = rs_safetensors_tensor (a, i), *tb = rs_safetensors_tensor (b, i);
    g_assert_cmpstr (ta->name, ==, tb->name);
    g_assert_cmpmem (ta->data, ta->n_elements * 4, tb->data, tb->n_elements * 4);
  }

  /* Changed weights reach both the trainable's forward and the export. */
  w = g_new (float, rs_trainable_n_params (t));
  rs_trainable_get_params (t, w);
  for (gsize i = 0; i < rs_trainable_n_params (t); i++)
    w[i] *= 1.25f;
  rs_trainable_set_params (t, w);
  changed = rs_trainable_to_model (t, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (rs_model_run_offline (changed, T, x, y1, &error));
  rs_trainable_reset_state (t, 1);
  g_assert_true (rs_trainable_forward (t, T, x, NULL, y2, &error));
  g_assert_cmpfloat (rel_diff (y2, y1, T * O), <=, 1e-5);
  g_assert_true (rs_model_run_offline (original, T, x, y2, &error));
  g_assert_cmpfloat (rel_diff (y2, y1, T * O), >, 1e-3);
  g_remove (out_path);
  g_rmdir (dir);
}

/* Seeded initialisation: deterministic, seed-dependent, within PyTorch's
 * bounds. */
static void
test_init (void)
{
  RsTrainableConfig config = { .cell = "lstm", .input_size = 5, .hidden_size = 16,
                               .n_layers = 2, .bias = TRUE, .head_size = 4, .head_bias = TRUE,
                               .seed = 42 };
  g_autoptr (GError) error = NULL;
  g_autoptr (RsTrainable) a = rs_trainable_new (&config, NULL, &error);
  g_autoptr (RsTrainable) b = rs_trainable_new (&config, NULL, &error);
  g_autoptr (RsTrainable) c = NULL;
  const gsize P = rs_trainable_n_params (a);
  g_autofree float *wa = g_new (float, P), *wb = g_new (float, P);
  double sum = 0.0, max_rnn = 0.0;

  config.seed = 43;
  c = rs_trainable_new (&config, NULL, &error);
  g_assert_no_error (error);
  /* 2 layers of 4*16*(in + 16) + 2*64, then a 4x16 head with bias. */
  g_assert_cmpuint (P, ==, 64 * (5 + 16) + 128 + 64 * (16 + 16) + 128 + 64 + 4);
  rs_trainable_get_params (a, wa);
  rs_trainable_get_params (b, wb);
  g_assert_cmpmem (wa, P * 4, wb, P * 4);
  rs_trainable_get_params (c, wb);
  g_assert_cmpfloat (rel_diff (wa, wb, P), >, 0.1);
  for (gsize i = 0; i < P; i++) {
    g_assert_cmpfloat (fabsf (wa[i]), <=, 0.25f);
    sum += wa[i];
    max_rnn = MAX (max_rnn, fabs (wa[i]));
  }
  /* Uniform on +-1/4: the largest of thousands is close to the bound and
   * the mean close to 0. */
  g_assert_cmpfloat (max_rnn, >, 0.24);
  g_assert_cmpfloat (fabs (sum / (double) P), <, 0.01);
  g_assert_cmpstr (rs_trainable_tensor (a, 0)->name, ==, "rnn.weight_ih_l0");
  g_assert_cmpstr (rs_trainable_tensor (a, rs_trainable_n_tensors (a) - 1)->name, ==, "fc.bias");
}

/* CTC's edge cases: an infeasible target is +inf, or 0 with a zero
 * gradient under zero_infinity; labels must not be the blank. */
static void
test_ctc_edges (void)
{
  float out[2 * 1 * 3] = { 0.1f, 0.2f, 0.3f, -0.5f, 0.0f, 0.5f };
  float d[6];
  const guint lengths[1] = { 2 };
  const guint32 labels[3] = { 1, 1, 2 };        /* 1 1 needs a blank between: 4 frames */
  const guint label_lengths[1] = { 3 };
  RsLossFrames frames = { 2, 1, 3, lengths, out };
  RsCtcOptions zero = { 0, TRUE };
  g_autoptr (GError) error = NULL;
  double loss;

  g_assert_true (rs_loss_ctc (&frames, NULL, labels, label_lengths, &loss, d, &error));
  g_assert_true (isinf (loss) && loss > 0);
  g_assert_true (rs_loss_ctc (&frames, &zero, labels, label_lengths, &loss, d, &error));
  g_assert_cmpfloat (loss, ==, 0.0);
  for (guint i = 0; i < 6; i++)
    g_assert_cmpfloat (d[i], ==, 0.0f);
  {
    const guint32 bad[1] = { 0 };
    const guint one[1] = { 1 };
    g_assert_false (rs_loss_ctc (&frames, NULL, bad, one, &loss, d, &error));
    g_assert_error (error, RS_ERROR, RS_ERROR_FAILED);
  }
}

static void
case_free (gpointer p)
{
  Case *c = p;
  g_free (c->name);
  g_free (c->cell);
  g_free (c->loss);
  g_free (c);
}

int
main (int argc, char **argv)
{
  g_autofree char *list = fixture ("cases", ".txt");
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) cases = g_ptr_array_new_with_free_func (case_free);
  int status;

  g_test_init (&argc, &argv, NULL);
  worst = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_assert_true (g_file_get_contents (list, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_auto (GStrv) f = NULL;
    Case *c;
    g_autofree char *path = NULL;

    if (lines[i][0] == '#' || lines[i][0] == '\0')
      continue;
    f = g_strsplit (lines[i], " ", -1);
    g_assert_cmpuint (g_strv_length (f), ==, 5);
    c = g_new0 (Case, 1);
    c->name = g_strdup (f[0]);
    c->cell = g_strdup (f[1]);
    c->layers = (guint) atoi (f[2]);
    c->loss = g_strdup (f[3]);
    c->window = (guint) atoi (f[4]);
    g_ptr_array_add (cases, c);
    path = g_strconcat ("/train/pytorch/", c->name, NULL);
    g_test_add_data_func (path, c, test_against_pytorch);
  }
  g_test_add_func ("/train/tbptt-whole", test_tbptt_whole);
  g_test_add_func ("/train/masking", test_masking);
  g_test_add_data_func ("/train/finite-differences/rnn_tanh", "rnn_tanh", test_finite_differences);
  g_test_add_data_func ("/train/finite-differences/rnn_relu", "rnn_relu", test_finite_differences);
  g_test_add_data_func ("/train/finite-differences/gru", "gru", test_finite_differences);
  g_test_add_data_func ("/train/finite-differences/lstm", "lstm", test_finite_differences);
  g_test_add_func ("/train/inference-only-plugin", test_inference_only_plugin);
  g_test_add_func ("/train/refusals", test_refusals);
  g_test_add_func ("/train/export", test_export);
  g_test_add_func ("/train/init", test_init);
  g_test_add_func ("/train/ctc-edges", test_ctc_edges);
  status = g_test_run ();
  {
    GHashTableIter iter;
    gpointer key, value;
    g_hash_table_iter_init (&iter, worst);
    while (g_hash_table_iter_next (&iter, &key, &value))
      g_test_message ("worst relative difference, %s: %.3g", (const char *) key,
                      *(double *) value);
  }
  g_hash_table_unref (worst);
  return status;
}
