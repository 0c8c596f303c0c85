/* bench-cells: times rnnstream's cells and the hardware bound they are
 * measured against. See bench/README.md for what each number means;
 * bench/run.sh runs this next to bench_torch.py and bench/report.py joins
 * the two.
 *
 *   bench-cells [--quick] [--sgemm] [--modes=stream,seq,batch,bound]
 *               [--input=FILE] [--dump-dir=DIR] MODEL.safetensors...
 *
 * Output, on stdout: one JSON object per line ("type" says which record it
 * is), so that the report never has to parse prose. Progress goes to
 * stderr.
 *
 * Everything runs on one thread: OpenBLAS is told so explicitly (the
 * environment variable OPENBLAS_NUM_THREADS=1 too, in run.sh), because a
 * bound that used both cores would not be a bound for a one-core stream.
 */
/* OpenBLAS's cblas.h pulls in <complex.h>, whose macro I rules out the
 * letter as a variable name below. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rnnstream/rnnstream.h>

/* Internal headers: the bound uses the project's own nonlinearities, so
 * that "ours / bound" measures everything but the activation code itself. */
#include "kernels/activation.h"
#include "kernels/linear.h"

#define SEQ_T 2000          /* whole-sequence mode: frames, one stream */
#define BATCH_B 32          /* batch mode: streams ... */
#define BATCH_T 200         /* ... times frames each */
#define MAX_REPS 16

/* Seconds one timed repetition should take, and how many repetitions. The
 * median of the repetitions is reported: it ignores the odd repetition a
 * timer interrupt or the neighbouring vCPU disturbed, where a mean would
 * not. --quick shrinks both for smoke tests. */
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
 * Timing */

/* Does n units of work (steps, sequences, GEMMs: whatever the caller times
 * per unit). */
typedef void (*WorkFunc) (void *ctx, size_t n);

typedef struct {
  double median;   /* seconds per unit, median over repetitions */
  double best;     /* seconds per unit, fastest repetition */
  size_t units;    /* units per repetition */
  int reps;
} Timing;

static int
compare_doubles (const void *a, const void *b)
{
  const double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static Timing
measure (WorkFunc work, void *ctx)
{
  double samples[MAX_REPS];
  Timing tm = { 0 };
  size_t n = 1;
  double t, per_unit;

  /* Warm-up doubling as calibration: page faults on fresh buffers, the
   * kernel table's one-time choice, caches and branch predictors all settle
   * here, and the last warm-up run says how many units fill target_s. It
   * runs at least a quarter of a repetition's worth of work (or one unit
   * when a unit alone is longer). */
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
  /* A unit longer than a repetition (hidden 512 sequences and batches)
   * needs no more than three samples to find a stable median, and five
   * would push the whole run past its time budget. */
  tm.reps = per_unit >= target_s && n_reps > 3 ? 3 : n_reps;
  for (int r = 0; r < tm.reps; r++) {
    double t0 = now_s ();

    work (ctx, tm.units);
    samples[r] = (now_s () - t0) / (double) tm.units;
  }
  qsort (samples, (size_t) tm.reps, sizeof samples[0], compare_doubles);
  tm.best = samples[0];
  tm.median = tm.reps % 2 ? samples[tm.reps / 2]
                          : 0.5 * (samples[tm.reps / 2 - 1] + samples[tm.reps / 2]);
  return tm;
}

/* ------------------------------------------------------------------------
 * Helpers */

static void *
xalloc (size_t n_floats)
{
  /* 64-byte aligned like the library's own buffers, so neither side of a
   * comparison gets split cache lines the other does not. */
  float *p = g_aligned_alloc0 (n_floats ? n_floats : 1, sizeof (float), 64);

  return p;
}

/* Deterministic fill in [-0.5, 0.5): the bound's vectors only need to be
 * ordinary numbers (no denormals, no NaN), not any particular ones. */
static void
fill (float *x, size_t n, guint32 seed)
{
  guint32 s = seed * 2654435761u + 1;

  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = (float) (s >> 8) / 16777216.0f - 0.5f;
  }
}

static void
print_json_string (const char *s)
{
  putchar ('"');
  for (; s != NULL && *s; s++) {
    if (*s == '"' || *s == '\\')
      printf ("\\%c", *s);
    else if ((unsigned char) *s < 0x20)
      printf ("\\u%04x", (unsigned) (unsigned char) *s);
    else
      putchar (*s);
  }
  putchar ('"');
}

static void
print_record_start (const char *type, const char *name)
{
  printf ("{\"type\":");
  print_json_string (type);
  if (name != NULL) {
    printf (",\"name\":");
    print_json_string (name);
  }
}

static void
print_record_end (void)
{
  printf ("}\n");
  fflush (stdout);
}

/* Gates per hidden unit: rows of weight_hh are G * H. */
static guint
cell_gates (const char *cell)
{
  if (strcmp (cell, "gru") == 0)
    return 3;
  if (strcmp (cell, "lstm") == 0)
    return 4;
  return 1;
}

/* ------------------------------------------------------------------------
 * rnnstream itself */

typedef struct {
  RsStream *stream;
  const float *input;
  size_t n_input_frames;    /* frames available in input */
  size_t input_size;
  size_t pos;               /* streaming: next input frame */
  float *output;
} StreamCtx;

/* Strict streaming: one frame per call, one stream, state carried from
 * call to call. Cycling through the input keeps the data realistic without
 * needing an input as long as the measurement. */
static void
work_stream (void *p, size_t n)
{
  StreamCtx *c = p;

  for (size_t i = 0; i < n; i++) {
    rs_stream_forward (c->stream, 1, c->input + c->pos * c->input_size, c->output);
    if (++c->pos == c->n_input_frames)
      c->pos = 0;
  }
}

/* One unit = one whole sequence (or one block of BATCH_B sequences) from
 * the initial state, as PyTorch's nn.RNN(x) with no h0 computes it. The
 * reset is a memset and is timed with the rest, as PyTorch's zero h0 is. */
typedef struct {
  RsStream *stream;
  const float *input;
  size_t n_frames;
  float *output;
} BlockCtx;

static void
work_block (void *p, size_t n)
{
  BlockCtx *c = p;

  for (size_t i = 0; i < n; i++) {
    rs_stream_reset (c->stream);
    rs_stream_forward (c->stream, c->n_frames, c->input, c->output);
  }
}

/* ------------------------------------------------------------------------
 * The hardware bound of one streaming step: the same weight matrices
 * through OpenBLAS's sgemv (the best GEMV we have to hand), in whichever
 * layout it reads faster (row-major as in the file, or transposed and read
 * as column-major: OpenBLAS's kernels for the two differ a lot), plus the
 * gate nonlinearities the cell applies, through the same rs_sigmoid / rs_tanh / rs_relu calls it makes.
 * Everything a cell does besides (bias adds, the gate arithmetic, copies,
 * the plugin and stream plumbing) is what "ours / bound" charges it for. */

typedef struct {
  const char *cell;
  guint n_layers, G, H;
  guint in_size[2];
  const float *w_ih[2], *w_hh[2];   /* borrowed from the loaded file */
  float *wt_ih[2], *wt_hh[2];       /* the same, transposed */
  float *x[2], *h[2];               /* per-layer input and state */
  float *gi, *gh;                   /* G * H each */
} BoundCtx;

static void
work_gemv (void *p, size_t n)
{
  BoundCtx *b = p;
  const int rows = (int) (b->G * b->H);

  for (size_t i = 0; i < n; i++)
    for (guint l = 0; l < b->n_layers; l++) {
      cblas_sgemv (CblasRowMajor, CblasNoTrans, rows, (int) b->in_size[l], 1.0f, b->w_ih[l],
                   (int) b->in_size[l], b->x[l], 1, 0.0f, b->gi, 1);
      cblas_sgemv (CblasRowMajor, CblasNoTrans, rows, (int) b->H, 1.0f, b->w_hh[l],
                   (int) b->H, b->h[l], 1, 0.0f, b->gh, 1);
    }
}

static void
work_gemv_colmajor (void *p, size_t n)
{
  BoundCtx *b = p;
  const int rows = (int) (b->G * b->H);

  for (size_t i = 0; i < n; i++)
    for (guint l = 0; l < b->n_layers; l++) {
      cblas_sgemv (CblasColMajor, CblasNoTrans, rows, (int) b->in_size[l], 1.0f, b->wt_ih[l],
                   rows, b->x[l], 1, 0.0f, b->gi, 1);
      cblas_sgemv (CblasColMajor, CblasNoTrans, rows, (int) b->H, 1.0f, b->wt_hh[l],
                   rows, b->h[l], 1, 0.0f, b->gh, 1);
    }
}

static float *
transpose (const float *w, size_t rows, size_t cols)
{
  float *t = xalloc (rows * cols);

  for (size_t i = 0; i < rows; i++)
    for (size_t j = 0; j < cols; j++)
      t[j * rows + i] = w[i * cols + j];
  return t;
}

/* The calls each plugin makes per frame and layer, in the same sizes (the
 * per-call overhead of the padded tail is part of the cost). The buffer is
 * reused in place: the AVX2 activations are branch-free, so their cost does
 * not depend on the values, which drift towards fixed points here. */
static void
work_act (void *p, size_t n)
{
  BoundCtx *b = p;
  const size_t H = b->H;
  float *g = b->gh;

  for (size_t i = 0; i < n; i++)
    for (guint l = 0; l < b->n_layers; l++) {
      if (b->G == 4) {                      /* lstm: i f | g | o, then tanh(c) */
        rs_sigmoid (g, 2 * H);
        rs_tanh (g + 2 * H, H);
        rs_sigmoid (g + 3 * H, H);
        rs_tanh (b->gi, H);
      } else if (b->G == 3) {               /* gru: r z | n */
        rs_sigmoid (g, 2 * H);
        rs_tanh (g + 2 * H, H);
      } else if (strcmp (b->cell, "rnn_relu") == 0) {
        rs_relu (g, H);
      } else {
        rs_tanh (g, H);
      }
    }
}

/* Finds "<prefix>weight_ih_l<k>" (not "_reverse") in st, whatever the
 * prefix. */
static const RsTensor *
find_weight (const RsSafetensors *st, const char *short_name, guint layer)
{
  g_autofree char *suffix = g_strdup_printf ("%s_l%u", short_name, layer);

  for (guint i = 0; i < rs_safetensors_n_tensors (st); i++) {
    const RsTensor *t = rs_safetensors_tensor (st, i);

    if (g_str_has_suffix (t->name, suffix))
      return t;
  }
  return NULL;
}

/* ------------------------------------------------------------------------
 * Single-core sgemm rate, to express the batch mode as a share of what
 * this core can do at all. */

typedef struct {
  int M, N, K;
  gboolean trans_b;          /* B stored N x K, as weights are */
  float *A, *B, *C;
} GemmCtx;

static void
work_gemm (void *p, size_t n)
{
  GemmCtx *g = p;

  for (size_t i = 0; i < n; i++)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, g->trans_b ? CblasTrans : CblasNoTrans,
                 g->M, g->N, g->K, 1.0f, g->A, g->K, g->B, g->trans_b ? g->K : g->N, 0.0f,
                 g->C, g->N);
}

static void
bench_sgemm (void)
{
  /* M=32 with B transposed is the batch mode's recurrent product (32
   * streams x hidden, times weight_hh^T) at hidden 256 / 512 for a GRU or
   * LSTM; the squares show the core's peak when nothing limits the
   * blocking. */
  static const struct { int M, N, K; gboolean trans_b; } cases[] = {
    { 32, 1024, 256, TRUE },
    { 32, 2048, 512, TRUE },
    { 256, 256, 256, FALSE },
    { 512, 512, 512, FALSE },
    { 1024, 1024, 1024, FALSE },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++) {
    GemmCtx g = { .M = cases[i].M, .N = cases[i].N, .K = cases[i].K,
                  .trans_b = cases[i].trans_b };
    Timing tm;

    g.A = xalloc ((size_t) g.M * g.K);
    g.B = xalloc ((size_t) g.K * g.N);
    g.C = xalloc ((size_t) g.M * g.N);
    fill (g.A, (size_t) g.M * g.K, 1);
    fill (g.B, (size_t) g.K * g.N, 2);
    tm = measure (work_gemm, &g);
    print_record_start ("sgemm", NULL);
    /* The best repetition, not the median: this is a peak to compare
     * against, and the best is the least disturbed estimate of it. */
    printf (",\"m\":%d,\"n\":%d,\"k\":%d,\"trans_b\":%s,\"gflops\":%.3f,\"gflops_median\":%.3f",
            g.M, g.N, g.K, g.trans_b ? "true" : "false",
            2.0 * g.M * g.N * g.K / tm.best * 1e-9, 2.0 * g.M * g.N * g.K / tm.median * 1e-9);
    print_record_end ();
    g_aligned_free (g.A);
    g_aligned_free (g.B);
    g_aligned_free (g.C);
  }
}

/* ------------------------------------------------------------------------
 * One model */

typedef struct {
  gboolean stream, seq, batch, bound;
} Modes;

static char *
model_name (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);

  if (g_str_has_suffix (base, ".safetensors"))
    base[strlen (base) - strlen (".safetensors")] = '\0';
  return g_steal_pointer (&base);
}

static gboolean
write_floats (const char *path, const float *x, size_t n, GError **error)
{
  return g_file_set_contents (path, (const char *) x, (gssize) (n * sizeof (float)), error);
}

static int
bench_model (const char *path, const Modes *modes, const float *input, size_t n_input_floats,
             const char *dump_dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsModel) model = rs_model_load (path, NULL, &error);
  g_autofree char *name = model_name (path);
  const char *cell;
  guint L, H, In, G, O;
  size_t n_input_frames;
  double flops = 0;

  if (model == NULL) {
    fprintf (stderr, "bench-cells: %s\n", error->message);
    return 1;
  }
  cell = rs_model_cell_name (model);
  L = rs_model_n_layers (model);
  H = rs_model_hidden_size (model);
  In = rs_model_input_size (model);
  O = rs_model_output_size (model);
  G = cell_gates (cell);
  n_input_frames = n_input_floats / In;
  if (rs_model_has_head (model) || rs_model_is_bidirectional (model) || L > 2) {
    fprintf (stderr, "bench-cells: %s: expected a unidirectional model of 1 or 2 layers "
             "without a head\n", path);
    return 1;
  }
  if (n_input_frames < (size_t) BATCH_B * BATCH_T || n_input_frames < SEQ_T) {
    fprintf (stderr, "bench-cells: input too short (%zu frames)\n", n_input_frames);
    return 1;
  }
  /* Matrix products only, per frame and stream: 2 G H (I_l + H) per layer
   * with I_0 = input size, I_1 = H. Bias adds and gate arithmetic are
   * O(G H) and left out, as FLOP counts for RNNs conventionally do. */
  for (guint l = 0; l < L; l++)
    flops += 2.0 * G * H * ((l == 0 ? In : H) + (double) H);

  print_record_start ("model", name);
  printf (",\"cell\":");
  print_json_string (cell);
  printf (",\"layers\":%u,\"hidden\":%u,\"input\":%u,\"gates\":%u,\"params\":%" G_GUINT64_FORMAT
          ",\"flops_per_frame\":%.0f", L, H, In, G, rs_model_n_params (model), flops);
  print_record_end ();

  if (modes->stream) {
    g_autoptr (RsStream) s = rs_stream_new (model, 1, &error);
    StreamCtx c = { .stream = s, .input = input, .n_input_frames = SEQ_T,
                    .input_size = In, .pos = 0, .output = xalloc (O) };
    Timing tm;

    g_assert_no_error (error);
    fprintf (stderr, "  %s: streaming\n", name);
    tm = measure (work_stream, &c);
    print_record_start ("stream", name);
    printf (",\"us\":%.4f,\"us_best\":%.4f,\"units\":%zu,\"reps\":%d", tm.median * 1e6,
            tm.best * 1e6, tm.units, tm.reps);
    print_record_end ();
    g_aligned_free (c.output);
  }

  if (modes->seq) {
    g_autoptr (RsStream) s = rs_stream_new (model, 1, &error);
    BlockCtx c = { .stream = s, .input = input, .n_frames = SEQ_T,
                   .output = xalloc ((size_t) SEQ_T * O) };
    Timing tm;

    g_assert_no_error (error);
    fprintf (stderr, "  %s: whole sequence\n", name);
    if (dump_dir != NULL) {
      /* The output of one sequence from the initial state, for
       * bench_torch.py to compare with PyTorch's. */
      g_autofree char *file = g_strdup_printf ("%s.out.f32", name);
      g_autofree char *out_path = g_build_filename (dump_dir, file, NULL);

      work_block (&c, 1);
      if (!write_floats (out_path, c.output, (size_t) SEQ_T * O, &error)) {
        fprintf (stderr, "bench-cells: %s\n", error->message);
        return 1;
      }
    }
    tm = measure (work_block, &c);
    print_record_start ("seq", name);
    printf (",\"T\":%d,\"fps\":%.1f,\"fps_best\":%.1f,\"s_per_seq\":%.6f,\"reps\":%d", SEQ_T,
            SEQ_T / tm.median, SEQ_T / tm.best, tm.median, tm.reps);
    print_record_end ();
    g_aligned_free (c.output);
  }

  if (modes->batch) {
    g_autoptr (RsStream) s = rs_stream_new (model, BATCH_B, &error);
    BlockCtx c = { .stream = s, .input = input, .n_frames = BATCH_T,
                   .output = xalloc ((size_t) BATCH_B * BATCH_T * O) };
    const double frames = (double) BATCH_B * BATCH_T;
    Timing tm;

    g_assert_no_error (error);
    fprintf (stderr, "  %s: batch\n", name);
    tm = measure (work_block, &c);
    print_record_start ("batch", name);
    printf (",\"B\":%d,\"T\":%d,\"fps\":%.1f,\"gflops\":%.3f,\"s_per_block\":%.6f,\"reps\":%d",
            BATCH_B, BATCH_T, frames / tm.median, frames * flops / tm.median * 1e-9, tm.median,
            tm.reps);
    print_record_end ();
    g_aligned_free (c.output);
  }

  if (modes->bound) {
    g_autoptr (RsSafetensors) st = rs_safetensors_load (path, &error);
    BoundCtx b = { .cell = cell, .n_layers = L, .G = G, .H = H };
    Timing gemv, gemv_cm, act;

    if (st == NULL) {
      fprintf (stderr, "bench-cells: %s\n", error->message);
      return 1;
    }
    for (guint l = 0; l < L; l++) {
      const RsTensor *ih = find_weight (st, "weight_ih", l), *hh = find_weight (st, "weight_hh", l);

      b.in_size[l] = l == 0 ? In : H;
      if (ih == NULL || hh == NULL || ih->ndim != 2 || hh->ndim != 2 ||
          ih->shape[0] != (guint64) G * H || ih->shape[1] != b.in_size[l] ||
          hh->shape[0] != (guint64) G * H || hh->shape[1] != H) {
        fprintf (stderr, "bench-cells: %s: layer %u weights not found or misshapen\n", path, l);
        return 1;
      }
      b.w_ih[l] = ih->data;
      b.w_hh[l] = hh->data;
      b.wt_ih[l] = transpose (ih->data, (size_t) G * H, b.in_size[l]);
      b.wt_hh[l] = transpose (hh->data, (size_t) G * H, H);
      b.x[l] = xalloc (b.in_size[l]);
      b.h[l] = xalloc (H);
      fill (b.x[l], b.in_size[l], 10 + l);
      fill (b.h[l], H, 20 + l);
    }
    b.gi = xalloc ((size_t) G * H);
    b.gh = xalloc ((size_t) G * H);
    fill (b.gi, (size_t) G * H, 30);
    fill (b.gh, (size_t) G * H, 31);

    fprintf (stderr, "  %s: bound\n", name);
    gemv = measure (work_gemv, &b);
    gemv_cm = measure (work_gemv_colmajor, &b);
    act = measure (work_act, &b);
    print_record_start ("bound", name);
    printf (",\"gemv_rowmajor_us\":%.4f,\"gemv_colmajor_us\":%.4f",
            gemv.median * 1e6, gemv_cm.median * 1e6);
    if (gemv_cm.median < gemv.median)
      gemv = gemv_cm;
    printf (",\"us\":%.4f,\"gemv_us\":%.4f,\"act_us\":%.4f,\"gemv_gflops\":%.3f",
            (gemv.median + act.median) * 1e6, gemv.median * 1e6, act.median * 1e6,
            flops / gemv.median * 1e-9);
    print_record_end ();
    for (guint l = 0; l < L; l++) {
      g_aligned_free (b.wt_ih[l]);
      g_aligned_free (b.wt_hh[l]);
      g_aligned_free (b.x[l]);
      g_aligned_free (b.h[l]);
    }
    g_aligned_free (b.gi);
    g_aligned_free (b.gh);
  }
  return 0;
}

/* ------------------------------------------------------------------------ */

static float *
read_input (const char *path, size_t *n_floats)
{
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  gsize len = 0;
  float *x;

  if (!g_file_get_contents (path, &data, &len, &error)) {
    fprintf (stderr, "bench-cells: %s\n", error->message);
    return NULL;
  }
  /* The file is little-endian float32; so is every machine this bench
   * targets, and a big-endian one would fail the output check loudly. */
  *n_floats = len / sizeof (float);
  x = xalloc (*n_floats);
  memcpy (x, data, *n_floats * sizeof (float));
  g_free (data);
  return x;
}

int
main (int argc, char **argv)
{
  gboolean quick = FALSE, sgemm = FALSE;
  g_autofree char *modes_arg = NULL, *input_path = NULL, *dump_dir = NULL;
  g_auto (GStrv) models = NULL;
  const GOptionEntry entries[] = {
    { "quick", 0, 0, G_OPTION_ARG_NONE, &quick, "Short measurements (smoke test)", NULL },
    { "sgemm", 0, 0, G_OPTION_ARG_NONE, &sgemm, "Also measure the single-core sgemm rate", NULL },
    { "modes", 0, 0, G_OPTION_ARG_STRING, &modes_arg,
      "Comma-separated subset of stream,seq,batch,bound (default: all)", "LIST" },
    { "input", 0, 0, G_OPTION_ARG_FILENAME, &input_path,
      "Raw little-endian float32 input frames (from make_models.py)", "FILE" },
    { "dump-dir", 0, 0, G_OPTION_ARG_FILENAME, &dump_dir,
      "Write each model's whole-sequence output there as NAME.out.f32", "DIR" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &models, NULL, "MODEL..." },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL... - time rnnstream's cells");
  g_autoptr (GError) error = NULL;
  Modes modes = { TRUE, TRUE, TRUE, TRUE };
  float *input = NULL;
  size_t n_input = 0;
  int status = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "bench-cells: %s\n", error->message);
    return 2;
  }
  if (quick) {
    target_s = 0.02;
    n_reps = 3;
  }
  if (modes_arg != NULL) {
    g_auto (GStrv) parts = g_strsplit (modes_arg, ",", -1);

    memset (&modes, 0, sizeof modes);
    for (guint i = 0; parts[i] != NULL; i++) {
      if (strcmp (parts[i], "stream") == 0)
        modes.stream = TRUE;
      else if (strcmp (parts[i], "seq") == 0)
        modes.seq = TRUE;
      else if (strcmp (parts[i], "batch") == 0)
        modes.batch = TRUE;
      else if (strcmp (parts[i], "bound") == 0)
        modes.bound = TRUE;
      else {
        fprintf (stderr, "bench-cells: unknown mode '%s'\n", parts[i]);
        return 2;
      }
    }
  }
  if (models != NULL && models[0] != NULL && input_path == NULL) {
    fprintf (stderr, "bench-cells: --input is required with models\n");
    return 2;
  }

  /* One thread, whatever the environment says (see the top comment). */
  openblas_set_num_threads (1);

  print_record_start ("info", NULL);
  printf (",\"kernels\":");
  print_json_string (rs_kernels_name ());
  printf (",\"activations\":");
  print_json_string ("rnnstream core/kernels rs_sigmoid/rs_tanh/rs_relu (kernels_lib, linked statically)");
  printf (",\"openblas\":");
  print_json_string (openblas_get_config ());
  printf (",\"openblas_core\":");
  print_json_string (openblas_get_corename ());
  printf (",\"openblas_threads\":%d,\"target_s\":%.3f,\"reps\":%d", openblas_get_num_threads (),
          target_s, n_reps);
  print_record_end ();

  if (sgemm) {
    fprintf (stderr, "bench-cells: sgemm\n");
    bench_sgemm ();
  }

  if (input_path != NULL) {
    input = read_input (input_path, &n_input);
    if (input == NULL)
      return 1;
  }
  for (guint i = 0; models != NULL && models[i] != NULL; i++) {
    fprintf (stderr, "bench-cells: %s\n", models[i]);
    if (bench_model (models[i], &modes, input, n_input, dump_dir) != 0)
      status = 1;
  }
  g_aligned_free (input);
  return status;
}
