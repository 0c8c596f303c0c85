/* Tests of the internal compute kernels (core/kernels).
 *
 * Every test runs against each implementation this CPU supports (the
 * portable one always, AVX2 when present), reached through the internal
 * kernel tables, and the public entry points are checked to agree bit for
 * bit with whichever table is active. */
#include <float.h>
#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/activation.h"
#include "kernels/gemm.h"
#include "kernels/internal.h"
#include "kernels/linear.h"

static const guint test_rows[] = { 1, 5, 16, 17, 64, 100, 513 };
static const guint test_cols[] = { 1, 3, 40, 64, 129 };

#define N_ROWS 37

/* A value the kernels never produce from the inputs used here, written
 * around and between the outputs to catch stray stores. */
#define SENTINEL (-12345.0f)

/* The tables to test; NULL-terminated. */
static const RsKernelTable *tables[3];

static void
init_tables (void)
{
  const char *names[] = { "generic", "avx2" };
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const RsKernelTable *t = rs_kernels_lookup (names[i]);

      if (t != NULL)
        tables[n++] = t;
    }
  tables[n] = NULL;
}

static float *
random_floats (gsize n, double lo, double hi)
{
  float *v = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    v[i] = (float) g_test_rand_double_range (lo, hi);
  return v;
}

static gboolean
same_bits (float a, float b)
{
  return memcmp (&a, &b, sizeof a) == 0;
}

/* A weight matrix with its packed form. W is stored with a row stride
 * larger than cols so that packing must honour w_stride. */
typedef struct {
  guint rows, cols;
  gsize w_stride;
  float *w;
  float *bias;
  RsLinear lin;
} Problem;

static void
problem_init (Problem *pb, guint rows, guint cols, gboolean with_bias)
{
  pb->rows = rows;
  pb->cols = cols;
  pb->w_stride = cols + 3;
  pb->w = random_floats ((gsize) rows * pb->w_stride, -1.0, 1.0);
  pb->bias = with_bias ? random_floats (rows, -1.0, 1.0) : NULL;
  g_assert_cmpint (rs_linear_init (&pb->lin, rows, cols, pb->w, pb->w_stride,
                                   pb->bias), ==, 0);
  g_assert_cmpuint (pb->lin.n_panels, ==, (rows + RS_LINEAR_PANEL - 1) /
                                          RS_LINEAR_PANEL);
  g_assert_true ((uintptr_t) pb->lin.packed % 64 == 0);
  g_assert_true ((uintptr_t) pb->lin.bias % 64 == 0);
}

static void
problem_clear (Problem *pb)
{
  rs_linear_clear (&pb->lin);
  g_assert_null (pb->lin.packed);
  g_free (pb->w);
  g_free (pb->bias);
}

/* y for n rows of x, ldx = cols, into a dense n x rows array. */
static float *
forward_dense (const RsKernelTable *t, const Problem *pb, const float *x,
               gsize n)
{
  float *y = g_new (float, n * pb->rows);

  t->linear_forward (&pb->lin, n, x, pb->cols, y, pb->rows);
  return y;
}

static void
assert_rows_equal (const float *got, const float *want, guint rows,
                   const char *what, const RsKernelTable *t, guint r,
                   guint c)
{
  if (memcmp (got, want, rows * sizeof (float)) != 0)
    g_error ("%s kernel, %ux%u: %s differs from the whole block", t->name,
             r, c, what);
}

/* Computes the 37 rows of x in pieces of the given sizes and checks the
 * result against the whole block. */
static void
check_split (const RsKernelTable *t, const Problem *pb, const float *x,
             const float *whole, const guint *pieces, guint n_pieces)
{
  float *y = g_new (float, N_ROWS * pb->rows);
  guint m = 0;

  for (guint i = 0; i < n_pieces; i++)
    {
      t->linear_forward (&pb->lin, pieces[i], x + (gsize) m * pb->cols,
                         pb->cols, y + (gsize) m * pb->rows, pb->rows);
      m += pieces[i];
    }
  g_assert_cmpuint (m, ==, N_ROWS);
  assert_rows_equal (y, whole, N_ROWS * pb->rows, "a split", t, pb->rows,
                     pb->cols);
  g_free (y);
}

/* Places the rows of x at an odd offset and stride, in reverse order, with
 * y likewise offset and strided, and checks every output against the whole
 * block and every gap in y against the sentinel. */
static void
check_layout (const RsKernelTable *t, const Problem *pb, const float *x,
              const float *whole)
{
  const gsize ldx = pb->cols + 5, ldy = pb->rows + 7;
  const gsize x_off = 1, y_off = 3;
  const gsize y_len = y_off + N_ROWS * ldy;
  float *xs = g_new0 (float, x_off + N_ROWS * ldx);
  float *ys = g_new (float, y_len);

  for (guint m = 0; m < N_ROWS; m++)
    memcpy (xs + x_off + (N_ROWS - 1 - m) * ldx, x + (gsize) m * pb->cols,
            pb->cols * sizeof (float));
  for (gsize i = 0; i < y_len; i++)
    ys[i] = SENTINEL;

  t->linear_forward (&pb->lin, N_ROWS, xs + x_off, ldx, ys + y_off, ldy);

  for (guint m = 0; m < N_ROWS; m++)
    {
      const float *row = ys + y_off + (N_ROWS - 1 - m) * ldy;

      assert_rows_equal (row, whole + (gsize) m * pb->rows, pb->rows,
                         "a reordered, strided row", t, pb->rows, pb->cols);
      for (gsize j = pb->rows; j < ldy && row + j < ys + y_len; j++)
        g_assert_true (same_bits (row[j], SENTINEL));
    }
  for (gsize i = 0; i < y_off; i++)
    g_assert_true (same_bits (ys[i], SENTINEL));
  g_free (xs);
  g_free (ys);
}

/* The result for one row of x must not depend on how many rows are
 * computed together, on how a block is split, or on where the row sits. */
static void
test_linear_bit_identity (void)
{
  static const guint split_7_30[] = { 7, 30 };
  static const guint split_small[] = { 1, 2, 3, 4, 5, 6, 7, 9 };
  static const guint split_13_24[] = { 13, 24 };

  for (const RsKernelTable *const *t = tables; *t != NULL; t++)
    for (guint ri = 0; ri < G_N_ELEMENTS (test_rows); ri++)
      for (guint ci = 0; ci < G_N_ELEMENTS (test_cols); ci++)
        {
          Problem pb;
          float *x, *whole, *single;

          problem_init (&pb, test_rows[ri], test_cols[ci], TRUE);
          x = random_floats ((gsize) N_ROWS * pb.cols, -2.0, 2.0);
          whole = forward_dense (*t, &pb, x, N_ROWS);

          single = g_new (float, pb.rows);
          for (guint m = 0; m < N_ROWS; m++)
            {
              (*t)->linear_forward (&pb.lin, 1, x + (gsize) m * pb.cols,
                                    pb.cols, single, pb.rows);
              assert_rows_equal (single, whole + (gsize) m * pb.rows, pb.rows,
                                 "a single row", *t, pb.rows, pb.cols);
            }
          check_split (*t, &pb, x, whole, split_7_30,
                       G_N_ELEMENTS (split_7_30));
          check_split (*t, &pb, x, whole, split_small,
                       G_N_ELEMENTS (split_small));
          check_split (*t, &pb, x, whole, split_13_24,
                       G_N_ELEMENTS (split_13_24));
          check_layout (*t, &pb, x, whole);

          g_free (single);
          g_free (whole);
          g_free (x);
          problem_clear (&pb);
        }
}

/* Long rows make the AVX2 kernel cut a large block into several cache
 * blocks; the cut must not show either. */
static void
test_linear_blocking (void)
{
  const gsize n = 203;

  for (const RsKernelTable *const *t = tables; *t != NULL; t++)
    {
      Problem pb;
      float *x, *whole, *single;

      problem_init (&pb, 40, 3001, TRUE);
      x = random_floats (n * pb.cols, -1.0, 1.0);
      whole = forward_dense (*t, &pb, x, n);
      single = g_new (float, pb.rows);
      for (gsize m = 0; m < n; m++)
        {
          (*t)->linear_forward (&pb.lin, 1, x + m * pb.cols, pb.cols, single,
                                pb.rows);
          assert_rows_equal (single, whole + m * pb.rows, pb.rows,
                             "a single row", *t, pb.rows, pb.cols);
        }
      g_free (single);
      g_free (whole);
      g_free (x);
      problem_clear (&pb);
    }
}

/* One output in exactly the order linear.h documents: the bias, then one
 * x[k] * W[j][k] per k, fused in the SIMD kernels and as a rounded product
 * and a rounded sum in the portable one. The product goes through a
 * volatile so that no contraction setting can fuse the two; GCC sees
 * through subtler disguises, such as a round trip through double. */
static float
documented_output (const Problem *pb, const float *x, guint j, gboolean fused)
{
  float acc = pb->bias != NULL ? pb->bias[j] : 0.0f;
  const float *wj = pb->w + (gsize) j * pb->w_stride;

  for (guint k = 0; k < pb->cols; k++)
    {
      if (fused)
        acc = fmaf (x[k], wj[k], acc);
      else
        {
          volatile float prod = x[k] * wj[k];
          acc = acc + prod;
        }
    }
  return acc;
}

/* Checks each kernel against a double-precision reference within the
 * classical error bound of a length-cols dot product, and against the
 * documented float arithmetic bit for bit. */
static void
test_linear_reference (void)
{
  for (const RsKernelTable *const *t = tables; *t != NULL; t++)
    for (guint ri = 0; ri < G_N_ELEMENTS (test_rows); ri++)
      for (guint ci = 0; ci < G_N_ELEMENTS (test_cols); ci++)
        {
          const gboolean fused = strcmp ((*t)->name, "generic") != 0;
          const gsize n = 5;
          Problem pb;
          float *x, *y;

          problem_init (&pb, test_rows[ri], test_cols[ci], TRUE);
          x = random_floats (n * pb.cols, -2.0, 2.0);
          y = forward_dense (*t, &pb, x, n);

          for (gsize m = 0; m < n; m++)
            for (guint j = 0; j < pb.rows; j++)
              {
                const float *xm = x + m * pb.cols;
                const float *wj = pb.w + (gsize) j * pb.w_stride;
                const float got = y[m * pb.rows + j];
                double exact = pb.bias[j], magnitude = fabs (pb.bias[j]);
                double bound;

                for (guint k = 0; k < pb.cols; k++)
                  {
                    exact += (double) xm[k] * wj[k];
                    magnitude += fabs ((double) xm[k] * wj[k]);
                  }
                bound = (pb.cols + 1) * (double) FLT_EPSILON * magnitude;
                g_assert_cmpfloat_with_epsilon (got, exact, bound);
                g_assert_true (same_bits (got,
                                          documented_output (&pb, xm, j,
                                                             fused)));
              }
          g_free (y);
          g_free (x);
          problem_clear (&pb);
        }
}

/* A NULL bias means zero: same bits as an explicit zero bias. */
static void
test_linear_no_bias (void)
{
  for (const RsKernelTable *const *t = tables; *t != NULL; t++)
    {
      Problem pb;
      RsLinear zero_lin;
      float *zeros, *x, *y0, *y1;

      problem_init (&pb, 37, 29, FALSE);
      for (guint i = 0; i < pb.lin.n_panels * RS_LINEAR_PANEL; i++)
        g_assert_true (same_bits (pb.lin.bias[i], 0.0f));
      zeros = g_new0 (float, pb.rows);
      g_assert_cmpint (rs_linear_init (&zero_lin, pb.rows, pb.cols, pb.w,
                                       pb.w_stride, zeros), ==, 0);
      x = random_floats (3 * pb.cols, -1.0, 1.0);
      y0 = forward_dense (*t, &pb, x, 3);
      y1 = g_new (float, 3 * pb.rows);
      (*t)->linear_forward (&zero_lin, 3, x, pb.cols, y1, pb.rows);
      g_assert_cmpmem (y0, 3 * pb.rows * sizeof (float), y1,
                       3 * pb.rows * sizeof (float));
      for (guint j = 0; j < pb.rows; j++)
        g_assert_true (same_bits (y0[j], documented_output (
            &pb, x, j, strcmp ((*t)->name, "generic") != 0)));

      rs_linear_clear (&zero_lin);
      g_free (zeros);
      g_free (x);
      g_free (y0);
      g_free (y1);
      problem_clear (&pb);
    }
}

/* rs_linear_clear accepts a zero-filled or already cleared RsLinear. */
static void
test_linear_clear (void)
{
  RsLinear lin;
  const float w = 2.0f;

  memset (&lin, 0, sizeof lin);
  rs_linear_clear (&lin);
  g_assert_cmpint (rs_linear_init (&lin, 1, 1, &w, 1, NULL), ==, 0);
  rs_linear_clear (&lin);
  rs_linear_clear (&lin);
  g_assert_null (lin.packed);
  g_assert_null (lin.bias);
}

/* The public entry points run the active table. */
static void
test_public_entry_points (void)
{
  const RsKernelTable *active = rs_kernels_active ();
  Problem pb;
  float *x, *y0, *y1, *a0, *a1;
  const gsize n = 53;

  g_assert_cmpstr (rs_kernels_name (), ==, active->name);
  problem_init (&pb, 33, 20, TRUE);
  x = random_floats (4 * pb.cols, -1.0, 1.0);
  y0 = forward_dense (active, &pb, x, 4);
  y1 = g_new (float, 4 * pb.rows);
  rs_linear_forward (&pb.lin, 4, x, pb.cols, y1, pb.rows);
  g_assert_cmpmem (y0, 4 * pb.rows * sizeof (float), y1,
                   4 * pb.rows * sizeof (float));

  a0 = random_floats (n, -10.0, 10.0);
  a1 = g_memdup2 (a0, n * sizeof (float));
  active->sigmoid (a0, n);
  rs_sigmoid (a1, n);
  g_assert_cmpmem (a0, n * sizeof (float), a1, n * sizeof (float));
  active->tanh (a0, n);
  rs_tanh (a1, n);
  g_assert_cmpmem (a0, n * sizeof (float), a1, n * sizeof (float));
  for (gsize i = 0; i < n; i += 2)
    a0[i] = a1[i] = -a0[i];
  active->relu (a0, n);
  rs_relu (a1, n);
  g_assert_cmpmem (a0, n * sizeof (float), a1, n * sizeof (float));

  g_free (a0);
  g_free (a1);
  g_free (x);
  g_free (y0);
  g_free (y1);
  problem_clear (&pb);
}

/* RNNSTREAM_KERNEL=generic, set before the first use, forces the portable
 * kernels. Runs in a child process so that the choice is made afresh. */
static void
test_env_override (void)
{
  if (g_test_subprocess ())
    {
      g_assert_true (g_setenv ("RNNSTREAM_KERNEL", "generic", TRUE));
      g_assert_cmpstr (rs_kernels_name (), ==, "generic");
      g_assert_true (rs_kernels_active () == rs_kernels_lookup ("generic"));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Without the override the best table available is chosen. */
static void
test_default_choice (void)
{
  const char *forced = g_getenv ("RNNSTREAM_KERNEL");

  if (forced != NULL && strcmp (forced, "generic") == 0)
    g_assert_cmpstr (rs_kernels_name (), ==, "generic");
  else if (rs_kernels_lookup ("avx2") != NULL)
    g_assert_cmpstr (rs_kernels_name (), ==, "avx2");
  else
    g_assert_cmpstr (rs_kernels_name (), ==, "generic");
}

typedef enum { ACT_SIGMOID, ACT_TANH } Activation;

static void
apply (const RsKernelTable *t, Activation act, float *x, gsize n)
{
  if (act == ACT_SIGMOID)
    t->sigmoid (x, n);
  else
    t->tanh (x, n);
}

static double
reference (Activation act, double x)
{
  if (act == ACT_TANH)
    return tanh (x);
  return x >= 0 ? 1.0 / (1.0 + exp (-x)) : exp (x) / (1.0 + exp (x));
}

/* Accuracy against the double-precision function, limits and NaN. The
 * values go through in one array whose length is not a multiple of 8, so
 * the padded tail is exercised too. */
static void
check_activation_values (const RsKernelTable *t, Activation act)
{
  const char *name = act == ACT_SIGMOID ? "sigmoid" : "tanh";
  const gsize n_sweep = 600001;
  static const float specials[] = {
    0.0f, -0.0f, FLT_MIN, -FLT_MIN, FLT_TRUE_MIN, -FLT_TRUE_MIN,
    1e-40f, -1e-40f, 1e-30f, -1e-30f, 1e-10f, -1e-10f, 1e-4f, -1e-4f,
    0.625f, -0.625f, 0.62499994f, -0.62499994f, 87.0f, -87.0f, 88.0f,
    -88.0f, 89.0f, -89.0f, 100.0f, -100.0f, 1e10f, -1e10f,
    FLT_MAX, -FLT_MAX,
  };
  const gsize n_special = G_N_ELEMENTS (specials);
  /* Magnitudes spread logarithmically from 2^-149 to 2^7, four mantissas
   * per binade, both signs: the dense sweep says little about tiny inputs. */
  const gsize n_log = 2 * 157 * 4;
  const gsize n = n_sweep + n_special + n_log + 3;
  float *in = g_new (float, n), *out;
  double max_err = 0.0;
  gsize i = 0;

  for (gsize s = 0; s < n_sweep; s++)
    in[i++] = (float) (-30.0 + 60.0 * (double) s / (double) (n_sweep - 1));
  for (gsize s = 0; s < n_special; s++)
    in[i++] = specials[s];
  for (int e = -149; e <= 7; e++)
    for (int f = 0; f < 4; f++)
      {
        const float v = ldexpf (1.0f + f / 4.0f, e);
        in[i++] = v;
        in[i++] = -v;
      }
  in[i++] = INFINITY;
  in[i++] = -INFINITY;
  in[i++] = NAN;
  g_assert_cmpuint (i, ==, n);
  g_assert_cmpuint (n % 8, !=, 0);

  out = g_memdup2 (in, n * sizeof (float));
  apply (t, act, out, n);

  for (i = 0; i < n; i++)
    {
      const float x = in[i], y = out[i];

      if (isnan (x))
        {
          if (!isnan (y))
            g_error ("%s %s(NaN) = %g", t->name, name, y);
        }
      else if (isinf (x) || fabsf (x) >= 1e10f)
        {
          const float limit = act == ACT_TANH ? copysignf (1.0f, x)
                                              : (x > 0 ? 1.0f : 0.0f);
          if (!same_bits (y, limit))
            g_error ("%s %s(%g) = %.9g, not the limit %g", t->name, name, x,
                     y, limit);
        }
      else
        {
          const double err = fabs ((double) y - reference (act, x));

          if (!(err <= 2e-7))
            g_error ("%s %s(%.9g) = %.9g, off by %g", t->name, name, x, y,
                     err);
          if (err > max_err)
            max_err = err;
        }
    }
  g_test_message ("%s %s: max abs error %.3g over %" G_GSIZE_FORMAT
                  " values", t->name, name, max_err, n);
  g_free (in);
  g_free (out);
}

static void
test_activation_accuracy (void)
{
  for (const RsKernelTable *const *t = tables; *t != NULL; t++)
    {
      check_activation_values (*t, ACT_SIGMOID);
      check_activation_values (*t, ACT_TANH);
    }
}

/* NaN stays NaN, negatives become +0, everything else is kept (for -0
 * either zero will do). */
static void
test_relu (void)
{
  static const float in[] = {
    -1.0f, 0.0f, -0.0f, 1.0f, FLT_TRUE_MIN, -FLT_TRUE_MIN, FLT_MAX, -FLT_MAX,
    INFINITY, -INFINITY, NAN, 3.5f, -3.5f,
  };
  const gsize n = G_N_ELEMENTS (in);

  for (const RsKernelTable *const *t = tables; *t != NULL; t++)
    {
      float out[G_N_ELEMENTS (in)];

      memcpy (out, in, sizeof in);
      (*t)->relu (out, n);
      for (gsize i = 0; i < n; i++)
        {
          if (isnan (in[i]))
            g_assert_true (isnan (out[i]));
          else if (in[i] < 0.0f)
            g_assert_true (same_bits (out[i], 0.0f));
          else
            g_assert_true (out[i] == in[i]);
        }
    }
}

/* An element's result must not depend on the length of the array it is
 * in or on its position there: compute a reference array whole, then every
 * slice of length 1..19 at every start, each copied to a misaligned spot. */
static void
test_activation_bit_identity (void)
{
  const gsize n = 67;
  float *src = random_floats (n, -12.0, 12.0);

  src[5] = 0.0f;
  src[6] = -0.0f;
  src[17] = 1e-39f;
  src[30] = NAN;
  src[31] = -INFINITY;
  src[32] = 0.625f;

  for (const RsKernelTable *const *t = tables; *t != NULL; t++)
    for (int act = 0; act < 3; act++)
      {
        float *whole = g_memdup2 (src, n * sizeof (float));
        float buf[32];

        if (act == 2)
          (*t)->relu (whole, n);
        else
          apply (*t, (Activation) act, whole, n);

        for (gsize start = 0; start < n; start++)
          for (gsize len = 1; len <= 19 && start + len <= n; len++)
            {
              const gsize off = (start + len) % 8;

              memcpy (buf + off, src + start, len * sizeof (float));
              if (act == 2)
                (*t)->relu (buf + off, len);
              else
                apply (*t, (Activation) act, buf + off, len);
              if (memcmp (buf + off, whole + start, len * sizeof (float)) != 0)
                g_error ("%s activation %d: slice [%" G_GSIZE_FORMAT ", +%"
                         G_GSIZE_FORMAT ") differs from the whole array",
                         (*t)->name, act, start, len);
            }
        g_free (whole);
      }
  g_free (src);
}

/* The training products (gemm.h), with the kernel in use, against a
 * double-precision reference on sizes around the tile and block edges:
 * they accumulate into C, and the packed right-hand side gives the very
 * bits of the unpacked one. */
static void
test_gemm_training (void)
{
  const gsize sizes[] = { 1, 5, 6, 7, 16, 17, 40, 97, 300 };
  GRand *rng = g_rand_new_with_seed (11);

  for (gsize a = 0; a < G_N_ELEMENTS (sizes); a++)
    for (gsize b = 0; b < G_N_ELEMENTS (sizes); b++)
      for (gsize c = 0; c < G_N_ELEMENTS (sizes); c += 2) {
        const gsize M = sizes[a], N = sizes[b], K = sizes[c];
        const gsize lda = K + 3, ldb = N + 1, ldc = N + 2, ldat = M + 1;
        g_autofree float *A = g_new (float, M * lda), *At = g_new (float, K * ldat);
        g_autofree float *B = g_new (float, K * ldb), *C = g_new (float, M * ldc);
        g_autofree float *C2 = g_new (float, M * ldc), *C3 = g_new (float, M * ldc);
        g_autofree float *C0 = g_new (float, M * ldc);
        g_autofree float *packed = g_new (float, rs_gemm_packed_b_floats (K, N) + 1);
        g_autofree float *y = g_new (float, N);

        for (gsize i = 0; i < M * lda; i++)
          A[i] = (float) g_rand_double_range (rng, -1, 1);
        for (gsize i = 0; i < K * ldat; i++)
          At[i] = (float) g_rand_double_range (rng, -1, 1);
        for (gsize i = 0; i < K * ldb; i++)
          B[i] = (float) g_rand_double_range (rng, -1, 1);
        for (gsize i = 0; i < M * ldc; i++)
          C0[i] = C[i] = C2[i] = C3[i] = (float) g_rand_double_range (rng, -1, 1);
        for (gsize n = 0; n < N; n++)
          y[n] = 0.5f;

        rs_gemm_nn_acc (M, N, K, A, lda, B, ldb, C, ldc);
        rs_gemm_pack_b (K, N, B, ldb, packed);
        rs_gemm_nn_acc_packed (M, N, K, A, lda, packed, C2, ldc);
        g_assert_cmpmem (C, M * ldc * sizeof (float), C2, M * ldc * sizeof (float));
        rs_gemm_tn_acc (M, N, K, At, ldat, B, ldb, C3, ldc);
        rs_colsum_acc (K, N, B, ldb, y);
        for (gsize m = 0; m < M; m++)
          for (gsize n = 0; n < N; n++) {
            double nn = 0, tn = 0, mag = 1, magt = 1;

            for (gsize k = 0; k < K; k++) {
              nn += (double) A[m * lda + k] * B[k * ldb + n];
              tn += (double) At[k * ldat + m] * B[k * ldb + n];
              mag += fabs ((double) A[m * lda + k] * B[k * ldb + n]);
              magt += fabs ((double) At[k * ldat + m] * B[k * ldb + n]);
            }
            g_assert_cmpfloat (fabs (C[m * ldc + n] - C0[m * ldc + n] - nn), <=, 1e-6 * mag);
            g_assert_cmpfloat (fabs (C3[m * ldc + n] - C0[m * ldc + n] - tn), <=, 1e-6 * magt);
            if (fabs (C2[m * ldc + n] - C[m * ldc + n]) > 0)
              g_error ("packed differs at %zu,%zu", m, n);
          }
        /* The padding between rows is left alone. */
        for (gsize m = 0; m < M; m++)
          for (gsize n = N; n < ldc; n++)
            g_assert_true (C[m * ldc + n] == C0[m * ldc + n] && C3[m * ldc + n] == C0[m * ldc + n]);
        for (gsize n = 0; n < N; n++) {
          double sum = 0.5;

          for (gsize k = 0; k < K; k++)
            sum += B[k * ldb + n];
          g_assert_cmpfloat (fabs (y[n] - sum), <=, 1e-5 * (K + 1));
        }
      }
  g_rand_free (rng);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  init_tables ();

  g_test_add_func ("/kernels/linear/bit-identity", test_linear_bit_identity);
  g_test_add_func ("/kernels/gemm/training", test_gemm_training);
  g_test_add_func ("/kernels/linear/blocking", test_linear_blocking);
  g_test_add_func ("/kernels/linear/reference", test_linear_reference);
  g_test_add_func ("/kernels/linear/no-bias", test_linear_no_bias);
  g_test_add_func ("/kernels/linear/clear", test_linear_clear);
  g_test_add_func ("/kernels/activation/accuracy", test_activation_accuracy);
  g_test_add_func ("/kernels/activation/relu", test_relu);
  g_test_add_func ("/kernels/activation/bit-identity",
                   test_activation_bit_identity);
  g_test_add_func ("/kernels/dispatch/public", test_public_entry_points);
  g_test_add_func ("/kernels/dispatch/default", test_default_choice);
  g_test_add_func ("/kernels/dispatch/env-override", test_env_override);

  return g_test_run ();
}
