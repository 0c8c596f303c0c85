/* bench-train: times one training step of rnnstream's engine, the same
 * step bench_train_torch.py times in PyTorch. bench/run.sh runs the two
 * and bench/report.py prints them side by side (the training table); see
 * bench/README.md, "Training".
 *
 *   bench-train [--quick] [--phases] [--dump-dir=DIR] [--only=NAME,...]
 *
 * One step, on a mini-batch of B sequences of T frames (all full length,
 * time-major [T, B, 40]) with random targets [T, B, 10]:
 *
 *   zero the gradients; reset the state to zeros;
 *   rs_trainable_forward (recurrent layer + linear head);
 *   rs_loss_mse against the targets;
 *   rs_trainable_backward (whole-sequence BPTT, no truncation);
 *   rs_optimizer_clip_grad_norm (max norm 1), rs_optimizer_step (Adam,
 *   PyTorch's defaults), rs_trainable_set_params with the updated weights.
 *
 * The models are 1-layer rnn_tanh, gru and lstm with a 10-output head,
 * seeded (rs_trainable_new); the data come from a fixed xorshift stream.
 * With --dump-dir, every model's initial weights (NAME.safetensors), its
 * input (NAME.input.f32) and targets (NAME.target.f32) and a list of the
 * configurations (train.tsv) are written there first, so that PyTorch
 * trains the very same model on the very same data.
 *
 * Timing as in bench-cells: first FIXED_STEPS steps from the initial
 * weights (whose losses are reported, for the report to check that both
 * sides compute the same thing), then a calibrating warm-up and n_reps
 * repetitions of about target_s; the median time per step is reported.
 *
 * --phases adds, per configuration, where a step's time goes: the step's
 * own phases timed one by one (forward, loss, backward, clipping and Adam,
 * set_params), and inside forward and backward the matrix products the
 * engine calls, re-run alone on the same shapes with the same kernels
 * (kernels/linear.h, kernels/gemm.h): what is left is the elementwise
 * gate code and copies.
 *
 * Output: JSON lines on stdout ("type": "train_info", "train",
 * "train_phases"), progress on stderr. One thread; no BLAS involved.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rnnstream/rnnstream.h>

/* Internal kernels, linked statically (kernels_lib): --phases re-runs the
 * engine's own matrix products alone. */
#include "kernels/gemm.h"
#include "kernels/linear.h"

#define INPUT_SIZE 40
#define HEAD_SIZE 10
#define SEQ_T 100
#define FIXED_STEPS 5        /* from the initial weights, losses reported */
#define MAX_NORM 1.0
#define MAX_REPS 16

typedef struct {
  const char *cell;
  guint hidden;
  guint batch;
} Config;

/* The table: every cell at H = 64, 128, 256 with B = 32, and two B = 8
 * rows, where a step's matrix products are thinner and fixed costs weigh
 * more. */
static const Config configs[] = {
  { "rnn_tanh", 64, 32 }, { "rnn_tanh", 128, 32 }, { "rnn_tanh", 256, 32 },
  { "gru", 64, 32 }, { "gru", 128, 32 }, { "gru", 256, 32 },
  { "lstm", 64, 32 }, { "lstm", 128, 32 }, { "lstm", 256, 32 },
  { "gru", 128, 8 }, { "lstm", 128, 8 },
};

static double target_s = 0.25;
static int n_reps = 5;

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------------
 * Timing (bench-cells' scheme) */

typedef void (*WorkFunc) (void *ctx, size_t n);

typedef struct {
  double median;   /* seconds per unit, median over repetitions */
  double best;
  size_t units;    /* units per repetition */
  int reps;
} Timing;

static int
compare_doubles (const void *a, const void *b)
{
  const double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median_of (double *v, int n)
{
  qsort (v, (size_t) n, sizeof v[0], compare_doubles);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* A warm-up that calibrates how many units fill target_s (at least a
 * quarter repetition's worth of work), then n_reps repetitions. */
static Timing
measure (WorkFunc work, void *ctx)
{
  double samples[MAX_REPS];
  Timing tm = { 0 };
  size_t n = 1;
  double t, per_unit;

  for (;;) {
    double t0 = now_s (), grow;

    work (ctx, n);
    t = now_s () - t0;
    if (t >= target_s / 4)
      break;
    grow = t > 0 ? target_s / 4 / t * 1.5 : 64;
    n = (size_t) ((double) n * (grow < 2 ? 2 : grow > 64 ? 64 : grow));
  }
  per_unit = t / (double) n;
  tm.units = per_unit >= target_s ? 1 : (size_t) (target_s / per_unit);
  tm.reps = n_reps;
  for (int r = 0; r < tm.reps; r++) {
    double t0 = now_s ();

    work (ctx, tm.units);
    samples[r] = (now_s () - t0) / (double) tm.units;
  }
  tm.median = median_of (samples, tm.reps);
  tm.best = samples[0];
  return tm;
}

/* ------------------------------------------------------------------------
 * Data */

/* xorshift64*, uniform in [-1, 1): the data need only be fixed and
 * reproducible, not good random numbers. */
static float
next_uniform (guint64 *s)
{
  guint64 x = *s;

  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return (float) ((double) ((x * 0x2545F4914F6CDD1DULL) >> 40) / (double) (1 << 23) - 1.0);
}

static float *
random_floats (gsize n, guint64 seed)
{
  float *v = g_new (float, n);
  guint64 s = seed * 0x9E3779B97F4A7C15ULL + 1;

  for (gsize i = 0; i < n; i++)
    v[i] = next_uniform (&s);
  return v;
}

static gboolean
write_f32 (const char *path, const float *v, gsize n, GError **error)
{
  return g_file_set_contents (path, (const char *) v, (gssize) (n * sizeof (float)), error);
}

/* ------------------------------------------------------------------------
 * One training step */

typedef struct {
  const Config *config;
  RsTrainable *trainable;
  RsOptimizer *opt;
  float *params;             /* what the optimiser updates */
  float *input, *target, *output, *d_output;
  RsLossFrames frames;
  double loss;
  gboolean failed;
  /* --phases: seconds of the last step's phases */
  double t_forward, t_loss, t_backward, t_optim, t_set;
} Trainer;

static void
train_step (Trainer *tr, gboolean phases)
{
  const guint B = tr->config->batch;
  g_autoptr (GError) error = NULL;
  double t0 = 0, t1 = 0;

  rs_trainable_zero_grad (tr->trainable);
  rs_trainable_reset_state (tr->trainable, B);
  if (phases)
    t0 = now_s ();
  if (!rs_trainable_forward (tr->trainable, SEQ_T, tr->input, NULL, tr->output, &error))
    goto fail;
  if (phases) {
    t1 = now_s ();
    tr->t_forward = t1 - t0;
    t0 = t1;
  }
  tr->loss = rs_loss_mse (&tr->frames, tr->target, tr->d_output);
  if (phases) {
    t1 = now_s ();
    tr->t_loss = t1 - t0;
    t0 = t1;
  }
  if (!rs_trainable_backward (tr->trainable, tr->d_output, NULL, NULL, &error))
    goto fail;
  if (phases) {
    t1 = now_s ();
    tr->t_backward = t1 - t0;
    t0 = t1;
  }
  rs_optimizer_clip_grad_norm (tr->opt, MAX_NORM);
  rs_optimizer_step (tr->opt);
  if (phases) {
    t1 = now_s ();
    tr->t_optim = t1 - t0;
    t0 = t1;
  }
  rs_trainable_set_params (tr->trainable, tr->params);
  if (phases)
    tr->t_set = now_s () - t0;
  return;

fail:
  if (!tr->failed)
    fprintf (stderr, "bench-train: %s\n", error->message);
  tr->failed = TRUE;
}

static void
work_steps (void *p, size_t n)
{
  Trainer *tr = p;

  for (size_t i = 0; i < n; i++)
    train_step (tr, FALSE);
}

static void
config_name (const Config *c, char *buf, size_t len)
{
  snprintf (buf, len, "%s_h%u_b%u_t%u", c->cell, c->hidden, c->batch, SEQ_T);
}

static gboolean
trainer_init (Trainer *tr, const Config *c, guint64 seed, GError **error)
{
  const RsTrainableConfig tc = { c->cell, INPUT_SIZE, c->hidden, 1, TRUE, HEAD_SIZE, TRUE, seed };
  const RsOptimizerOptions oo = RS_OPTIMIZER_OPTIONS_INIT;
  const gsize rows = (gsize) SEQ_T * c->batch;
  float *grads;

  memset (tr, 0, sizeof *tr);
  tr->config = c;
  tr->trainable = rs_trainable_new (&tc, NULL, error);
  if (tr->trainable == NULL)
    return FALSE;
  tr->opt = rs_optimizer_new (&oo, error);
  if (tr->opt == NULL)
    return FALSE;
  tr->params = g_new (float, rs_trainable_n_params (tr->trainable));
  rs_trainable_get_params (tr->trainable, tr->params);
  grads = rs_trainable_grads (tr->trainable);
  /* One registration per tensor, as a training loop does (weights decay,
   * biases would not; there is no decay here). */
  for (guint i = 0; i < rs_trainable_n_tensors (tr->trainable); i++) {
    const RsTrainTensor *tensor = rs_trainable_tensor (tr->trainable, i);
    rs_optimizer_add (tr->opt, tensor->name, tr->params + tensor->offset,
                      grads + tensor->offset, tensor->n_elements, tensor->ndim == 2);
  }
  tr->input = random_floats (rows * INPUT_SIZE, seed * 2);
  tr->target = random_floats (rows * HEAD_SIZE, seed * 2 + 1);
  tr->output = g_new (float, rows * HEAD_SIZE);
  tr->d_output = g_new (float, rows * HEAD_SIZE);
  tr->frames = (RsLossFrames) { SEQ_T, c->batch, HEAD_SIZE, NULL, tr->output };
  return TRUE;
}

static void
trainer_clear (Trainer *tr)
{
  rs_trainable_free (tr->trainable);
  rs_optimizer_free (tr->opt);
  g_free (tr->params);
  g_free (tr->input);
  g_free (tr->target);
  g_free (tr->output);
  g_free (tr->d_output);
}

/* ------------------------------------------------------------------------
 * --phases: the engine's matrix products alone, on the step's shapes */

typedef struct {
  size_t G, H, I, O, B, T;
  RsLinear ih, hh, head;
  float *w_hh, *head_w, *w_hh_packed;
  float *x, *hs, *xi, *hh_out, *y, *dg, *dprev, *dh, *dw_ih, *dw_hh, *db, *dhead_w,
        *dhead_b, *dy;
} Products;

static float *
zeros (size_t n)
{
  return g_aligned_alloc0 (n ? n : 1, sizeof (float), 64);
}

static void
products_init (Products *p, const Config *c)
{
  const size_t gates = strcmp (c->cell, "gru") == 0 ? 3 : strcmp (c->cell, "lstm") == 0 ? 4 : 1;
  g_autofree float *w_ih = NULL;
  size_t rows;

  memset (p, 0, sizeof *p);
  p->H = c->hidden;
  p->G = gates * p->H;
  p->I = INPUT_SIZE;
  p->O = HEAD_SIZE;
  p->B = c->batch;
  p->T = SEQ_T;
  rows = p->T * p->B;
  w_ih = random_floats (p->G * p->I, 11);
  p->w_hh = random_floats (p->G * p->H, 12);
  p->head_w = random_floats (p->O * p->H, 13);
  p->w_hh_packed = zeros (rs_gemm_packed_b_floats (p->G, p->H));
  rs_linear_init (&p->ih, (uint32_t) p->G, (uint32_t) p->I, w_ih, p->I, NULL);
  rs_linear_init (&p->hh, (uint32_t) p->G, (uint32_t) p->H, p->w_hh, p->H, NULL);
  rs_linear_init (&p->head, (uint32_t) p->O, (uint32_t) p->H, p->head_w, p->H, NULL);
  p->x = random_floats (rows * p->I, 14);
  p->hs = random_floats ((rows + p->B) * p->H, 15);
  p->dg = random_floats (rows * p->G, 16);
  p->dy = random_floats (rows * p->O, 17);
  p->xi = zeros (rows * p->G);
  p->hh_out = zeros (p->B * p->G);
  p->y = zeros (rows * p->O);
  p->dprev = zeros (p->B * p->H);
  p->dh = zeros (rows * p->H);
  p->dw_ih = zeros (p->G * p->I);
  p->dw_hh = zeros (p->G * p->H);
  p->db = zeros (p->G);
  p->dhead_w = zeros (p->O * p->H);
  p->dhead_b = zeros (p->O);
}

static void
products_clear (Products *p)
{
  rs_linear_clear (&p->ih);
  rs_linear_clear (&p->hh);
  rs_linear_clear (&p->head);
  g_free (p->w_hh);
  g_free (p->head_w);
  g_aligned_free (p->w_hh_packed);
  g_free (p->x);
  g_free (p->hs);
  g_free (p->dg);
  g_free (p->dy);
  g_aligned_free (p->xi);
  g_aligned_free (p->hh_out);
  g_aligned_free (p->y);
  g_aligned_free (p->dprev);
  g_aligned_free (p->dh);
  g_aligned_free (p->dw_ih);
  g_aligned_free (p->dw_hh);
  g_aligned_free (p->db);
  g_aligned_free (p->dhead_w);
  g_aligned_free (p->dhead_b);
}

/* Forward: the input projection over all T*B rows, the head over them. */
static void
work_fwd_block (void *ctx, size_t n)
{
  Products *p = ctx;

  for (size_t i = 0; i < n; i++) {
    rs_linear_forward (&p->ih, p->T * p->B, p->x, p->I, p->xi, p->G);
    rs_linear_forward (&p->head, p->T * p->B, p->hs, p->H, p->y, p->O);
  }
}

/* Forward: the recurrent product, T times B rows. */
static void
work_fwd_recurrent (void *ctx, size_t n)
{
  Products *p = ctx;

  for (size_t i = 0; i < n; i++)
    for (size_t t = 0; t < p->T; t++)
      rs_linear_forward (&p->hh, p->B, p->hs + t * p->B * p->H, p->H, p->hh_out, p->G);
}

/* Backward: W_hh packed once, then dh_prev += dG_t W_hh, T times
 * (rs_gates_pack_recurrent, rs_gates_backward_recurrent). */
static void
work_bwd_recurrent (void *ctx, size_t n)
{
  Products *p = ctx;

  for (size_t i = 0; i < n; i++) {
    rs_gemm_pack_b (p->G, p->H, p->w_hh, p->H, p->w_hh_packed);
    for (size_t t = p->T; t-- > 0;)
      rs_gemm_nn_acc_packed (p->B, p->H, p->G, p->dg + t * p->B * p->G, p->G, p->w_hh_packed,
                             p->dprev, p->H);
  }
}

/* Backward: the weight gradients over the block (rs_gates_backward_weights
 * for a first layer, no d_input) and the head's (rs_trainable_backward). */
static void
work_bwd_weights (void *ctx, size_t n)
{
  Products *p = ctx;
  const size_t rows = p->T * p->B;

  for (size_t i = 0; i < n; i++) {
    rs_gemm_tn_acc (p->O, p->H, rows, p->dy, p->O, p->hs, p->H, p->dhead_w, p->H);
    rs_colsum_acc (rows, p->O, p->dy, p->O, p->dhead_b);
    memset (p->dh, 0, rows * p->H * sizeof (float));
    rs_gemm_nn_acc (rows, p->H, p->O, p->dy, p->O, p->head_w, p->H, p->dh, p->H);
    rs_gemm_tn_acc (p->G, p->I, rows, p->dg, p->G, p->x, p->I, p->dw_ih, p->I);
    rs_gemm_tn_acc (p->G, p->H, rows, p->dg, p->G, p->hs, p->H, p->dw_hh, p->H);
    rs_colsum_acc (rows, p->G, p->dg, p->G, p->db);
    rs_colsum_acc (rows, p->G, p->dg, p->G, p->db);
  }
}

/* The step's phases (median over steps), then the products alone. */
static void
print_phases (Trainer *tr, const char *name)
{
  const int n = 7;
  double fwd[7], loss[7], bwd[7], opt[7], set[7];
  Products p;
  Timing fb, fr, br, bw;

  for (int i = 0; i < n; i++) {
    train_step (tr, TRUE);
    fwd[i] = tr->t_forward;
    loss[i] = tr->t_loss;
    bwd[i] = tr->t_backward;
    opt[i] = tr->t_optim;
    set[i] = tr->t_set;
  }
  products_init (&p, tr->config);
  fb = measure (work_fwd_block, &p);
  fr = measure (work_fwd_recurrent, &p);
  br = measure (work_bwd_recurrent, &p);
  bw = measure (work_bwd_weights, &p);
  products_clear (&p);
  printf ("{\"type\":\"train_phases\",\"name\":\"%s\",\"forward_ms\":%.4f,\"loss_ms\":%.4f,"
          "\"backward_ms\":%.4f,\"optim_ms\":%.4f,\"set_params_ms\":%.4f,"
          "\"fwd_block_gemm_ms\":%.4f,\"fwd_recurrent_gemm_ms\":%.4f,"
          "\"bwd_recurrent_gemm_ms\":%.4f,\"bwd_weight_gemm_ms\":%.4f}\n", name,
          median_of (fwd, n) * 1e3, median_of (loss, n) * 1e3, median_of (bwd, n) * 1e3,
          median_of (opt, n) * 1e3, median_of (set, n) * 1e3, fb.median * 1e3,
          fr.median * 1e3, br.median * 1e3, bw.median * 1e3);
  fflush (stdout);
}

/* ------------------------------------------------------------------------ */

static gboolean
selected (const char *name, char **only)
{
  if (only == NULL)
    return TRUE;
  for (guint i = 0; only[i] != NULL; i++)
    if (strcmp (only[i], name) == 0 || g_str_has_prefix (name, only[i]))
      return TRUE;
  return FALSE;
}

static gboolean
dump_config (Trainer *tr, const char *dir, const char *name, FILE *list, GError **error)
{
  const Config *c = tr->config;
  const gsize rows = (gsize) SEQ_T * c->batch;
  g_autofree char *base = g_build_filename (dir, name, NULL);
  g_autofree char *model = g_strconcat (base, ".safetensors", NULL);
  g_autofree char *input = g_strconcat (base, ".input.f32", NULL);
  g_autofree char *target = g_strconcat (base, ".target.f32", NULL);

  if (!rs_trainable_save (tr->trainable, model, NULL, error) ||
      !write_f32 (input, tr->input, rows * INPUT_SIZE, error) ||
      !write_f32 (target, tr->target, rows * HEAD_SIZE, error))
    return FALSE;
  fprintf (list, "%s\t%s\t%u\t%u\t%u\t%u\t%u\t%g\t%d\n", name, c->cell, c->hidden, c->batch,
           SEQ_T, INPUT_SIZE, HEAD_SIZE, MAX_NORM, FIXED_STEPS);
  return TRUE;
}

int
main (int argc, char **argv)
{
  gboolean quick = FALSE, phases = FALSE;
  g_autofree char *dump_dir = NULL, *only_text = NULL;
  g_auto (GStrv) only = NULL;
  const GOptionEntry entries[] = {
    { "quick", 0, 0, G_OPTION_ARG_NONE, &quick, "Short measurements (smoke test)", NULL },
    { "phases", 0, 0, G_OPTION_ARG_NONE, &phases, "Also time the phases of a step", NULL },
    { "dump-dir", 0, 0, G_OPTION_ARG_FILENAME, &dump_dir,
      "Write the models, data and train.tsv there for bench_train_torch.py", "DIR" },
    { "only", 0, 0, G_OPTION_ARG_STRING, &only_text,
      "Only these configurations (names or prefixes, comma-separated)", "NAME,..." },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- time rnnstream's training step");
  g_autoptr (GError) error = NULL;
  FILE *list = NULL;
  int status = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 1) {
    fprintf (stderr, "bench-train: %s\n", error ? error->message : "no arguments expected");
    return 2;
  }
  if (quick) {
    target_s = 0.02;
    n_reps = 3;
  }
  if (only_text != NULL)
    only = g_strsplit (only_text, ",", -1);
  if (dump_dir != NULL) {
    g_autofree char *path = g_build_filename (dump_dir, "train.tsv", NULL);

    list = fopen (path, "w");
    if (list == NULL) {
      fprintf (stderr, "bench-train: cannot write %s\n", path);
      return 1;
    }
    fprintf (list, "# name\tcell\thidden\tbatch\tframes\tinput\toutputs\tmax_norm\tfixed_steps\n");
  }

  printf ("{\"type\":\"train_info\",\"kernels\":\"%s\",\"input\":%d,\"outputs\":%d,"
          "\"frames\":%d,\"layers\":1,\"optimizer\":\"adam lr 1e-3\",\"max_norm\":%g,"
          "\"fixed_steps\":%d,\"target_s\":%.3f,\"reps\":%d}\n", rs_kernels_name (), INPUT_SIZE,
          HEAD_SIZE, SEQ_T, MAX_NORM, FIXED_STEPS, target_s, n_reps);
  fflush (stdout);

  for (guint i = 0; i < G_N_ELEMENTS (configs); i++) {
    const Config *c = &configs[i];
    char name[64];
    double losses[FIXED_STEPS];
    Trainer tr;
    Timing tm;

    config_name (c, name, sizeof name);
    if (!selected (name, only))
      continue;
    if (!trainer_init (&tr, c, 1000 + i, &error)) {
      fprintf (stderr, "bench-train: %s: %s\n", name, error->message);
      g_clear_error (&error);
      trainer_clear (&tr);
      status = 1;
      continue;
    }
    if (list != NULL && !dump_config (&tr, dump_dir, name, list, &error)) {
      fprintf (stderr, "bench-train: %s: %s\n", name, error->message);
      g_clear_error (&error);
      status = 1;
    }
    fprintf (stderr, "bench-train: %s\n", name);
    for (int s = 0; s < FIXED_STEPS; s++) {
      train_step (&tr, FALSE);
      losses[s] = tr.loss;
    }
    tm = measure (work_steps, &tr);
    if (tr.failed) {
      status = 1;
      trainer_clear (&tr);
      continue;
    }
    printf ("{\"type\":\"train\",\"name\":\"%s\",\"cell\":\"%s\",\"hidden\":%u,\"batch\":%u,"
            "\"frames\":%d,\"params\":%" G_GSIZE_FORMAT ",\"ms_per_step\":%.4f,"
            "\"ms_per_step_best\":%.4f,\"seq_per_s\":%.2f,\"steps\":%zu,\"reps\":%d,"
            "\"loss_first\":%.9g,\"loss_fixed\":%.9g}\n", name, c->cell, c->hidden, c->batch,
            SEQ_T, rs_trainable_n_params (tr.trainable), tm.median * 1e3, tm.best * 1e3,
            c->batch / tm.median, tm.units, tm.reps, losses[0], losses[FIXED_STEPS - 1]);
    fflush (stdout);
    if (phases)
      print_phases (&tr, name);
    trainer_clear (&tr);
  }
  if (list != NULL)
    fclose (list);
  return status;
}
