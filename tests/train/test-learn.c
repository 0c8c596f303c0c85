/* A learning test that can fail: a small recurrent network learns the
 * delayed copy y_t = x_{t-3} of random +-1 inputs, and the parity of the
 * three inputs before, y_t = x_{t-1} x_{t-2} x_{t-3}, which no
 * feed-forward network can learn (x_t is independent of both targets, so a
 * network that sees only the current frame is right half of the time).
 *
 * The engine is used directly, as `rnnstream train` uses it: a trainable
 * from scratch, whole-sequence BPTT with the MSE loss on every frame from
 * the fourth, Adam, clipping by global norm. The bar: at least 95% of the
 * output signs right on fresh sequences, and the same network with its
 * state reset at every frame (a feed-forward net, then) at most 65%, which
 * shows the memory is what does it. Each case prints the accuracy reached,
 * the steps and the time. */
#include <math.h>
#include <string.h>

#include <rnnstream/rnnstream.h>

#define DELAY 3
#define T 24              /* frames per sequence */
#define B 16              /* sequences per mini-batch */
#define MAX_STEPS 1500
#define TARGET 0.95

typedef enum { COPY, PARITY } Task;

typedef struct {
  const char *cell;
  guint hidden;
  Task task;
} Case;

static Task task;

static void
make_batch (GRand *rand, guint n_streams, float *x, float *y)
{
  for (guint b = 0; b < n_streams; b++)
    for (guint t = 0; t < T; t++)
      x[t * n_streams + b] = g_rand_boolean (rand) ? 1.0f : -1.0f;
  for (guint b = 0; b < n_streams; b++)
    for (guint t = 0; t < T; t++)
      y[t * n_streams + b] =
        t < DELAY ? 0.0f
        : task == COPY ? x[(t - DELAY) * n_streams + b]
        : x[(t - 1) * n_streams + b] * x[(t - 2) * n_streams + b] * x[(t - 3) * n_streams + b];
}

/* MSE over the frames from DELAY on (the first frames have no target). */
static gboolean
delayed_loss (const RsLossFrames *w, guint first, gpointer user_data, double *loss,
              float *d_output, GError **error)
{
  const float *y = user_data;
  const gsize skip = (gsize) DELAY * w->n_streams;
  RsLossFrames tail = *w;

  (void) error;
  g_assert_cmpuint (first, ==, 0);
  memset (d_output, 0, skip * sizeof (float));
  tail.n_frames = w->n_frames - DELAY;
  tail.output = w->output + skip;
  *loss = rs_loss_mse (&tail, y + skip, d_output + skip);
  return TRUE;
}

/* Signs right over frames DELAY.. of n fresh sequences; with reset, the
 * state is zeroed before every frame. */
static double
accuracy (RsTrainable *t, GRand *rand, guint n, gboolean reset)
{
  g_autofree float *x = g_new (float, T * n), *y = g_new (float, T * n);
  g_autofree float *out = g_new (float, T * n);
  g_autoptr (GError) error = NULL;
  guint right = 0, total = 0;

  make_batch (rand, n, x, y);
  rs_trainable_reset_state (t, n);
  if (reset) {
    for (guint f = 0; f < T; f++) {
      rs_trainable_reset_state (t, n);
      g_assert_true (rs_trainable_forward (t, 1, x + f * n, NULL, out + f * n, &error));
    }
  } else {
    g_assert_true (rs_trainable_forward (t, T, x, NULL, out, &error));
  }
  g_assert_no_error (error);
  for (guint i = DELAY * n; i < T * n; i++, total++)
    right += (out[i] > 0) == (y[i] > 0);
  return (double) right / total;
}

static void
test_delayed_copy (gconstpointer data)
{
  const Case *c = data;
  RsTrainableConfig tc = { c->cell, 1, c->hidden, 1, TRUE, 1, TRUE, 7 };
  RsOptimizerOptions oo = RS_OPTIMIZER_OPTIONS_INIT;
  g_autoptr (RsTrainable) t = NULL;
  g_autoptr (RsOptimizer) opt = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);
  g_autoptr (GRand) fresh = g_rand_new_with_seed (99);
  g_autofree float *params = NULL;
  float x[T * B], y[T * B];
  const gint64 start = g_get_monotonic_time ();
  double acc = 0, acc_ff, seconds, loss = 0;
  guint step;

  task = c->task;
  t = rs_trainable_new (&tc, NULL, &error);
  g_assert_no_error (error);
  oo.lr = 0.01;
  opt = rs_optimizer_new (&oo, &error);
  g_assert_no_error (error);
  params = g_new (float, rs_trainable_n_params (t));
  rs_trainable_get_params (t, params);
  for (guint i = 0; i < rs_trainable_n_tensors (t); i++) {
    const RsTrainTensor *tt = rs_trainable_tensor (t, i);
    rs_optimizer_add (opt, tt->name, params + tt->offset, rs_trainable_grads (t) + tt->offset,
                      tt->n_elements, tt->ndim == 2);
  }

  for (step = 1; step <= MAX_STEPS; step++) {
    make_batch (rand, B, x, y);
    rs_trainable_reset_state (t, B);
    rs_trainable_zero_grad (t);
    loss = 0;
    g_assert_true (rs_train_bptt (t, T, x, NULL, 0, delayed_loss, y, &loss, &error));
    g_assert_no_error (error);
    rs_optimizer_clip_grad_norm (opt, 1.0);
    rs_optimizer_step (opt);
    rs_trainable_set_params (t, params);
    /* Check now and then on fresh sequences; stop once there. */
    if (step % 50 == 0 && (acc = accuracy (t, fresh, 64, FALSE)) >= 0.99)
      break;
  }
  seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  acc = accuracy (t, fresh, 256, FALSE);
  acc_ff = accuracy (t, fresh, 256, TRUE);
  g_test_message ("%s, %s, hidden %u: %.1f%% of signs right on fresh sequences after %u steps "
                  "of %u x %u frames (loss %.4f), %.2f s; state reset every frame: %.1f%%",
                  c->task == COPY ? "delayed copy" : "parity", c->cell, c->hidden, 100 * acc,
                  MIN (step, MAX_STEPS), B, T, loss, seconds, 100 * acc_ff);
  g_assert_cmpfloat (acc, >=, TARGET);
  g_assert_cmpfloat (acc_ff, <=, 0.65);
}

int
main (int argc, char **argv)
{
  static const Case cases[] = { { "gru", 16, COPY }, { "lstm", 16, COPY },
                                { "gru", 16, PARITY }, { "lstm", 16, PARITY } };

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *path = g_strdup_printf ("/learn/%s/%s", cases[i].task == COPY
                                             ? "delayed-copy" : "parity", cases[i].cell);
    g_test_add_data_func (path, &cases[i], test_delayed_copy);
  }
  return g_test_run ();
}
