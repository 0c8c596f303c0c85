/* Shared pieces of the in-tree cells' training extension. */
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/gemm.h"
#include "kernels/internal.h"

uint32_t
rs_gates_n_tensors (const RsGates *gates)
{
  return gates->has_bias ? 4 : 2;
}

static const char *const param_names[] = { "weight_ih", "weight_hh", "bias_ih", "bias_hh" };

void
rs_gates_describe_param (const RsGates *gates, uint32_t index, RsCellParam *param)
{
  const uint64_t rows = (uint64_t) gates->n_gates * gates->hidden;

  memset (param, 0, sizeof *param);
  param->name = param_names[index];
  param->ndim = index < 2 ? 2 : 1;
  param->shape[0] = rows;
  param->shape[1] = index == 0 ? gates->input : index == 1 ? gates->recurrent : 0;
}

void
rs_gates_get_param (const RsGates *gates, uint32_t index, float *values)
{
  const size_t rows = (size_t) gates->n_gates * gates->hidden;

  switch (index) {
  case 0:
    rs_linear_unpack (&gates->ih, values, gates->input, NULL);
    break;
  case 1:
    rs_linear_unpack (&gates->hh, values, gates->recurrent, NULL);
    break;
  default:
    memcpy (values, (index == 2 ? gates->ih : gates->hh).bias, rows * sizeof (float));
    break;
  }
}

void
rs_gates_set_param (RsGates *gates, uint32_t index, const float *values)
{
  const size_t rows = (size_t) gates->n_gates * gates->hidden;

  switch (index) {
  case 0:
    memcpy (gates->w_ih, values, rows * gates->input * sizeof (float));
    rs_linear_pack (&gates->ih, gates->w_ih, gates->input, gates->ih.bias);
    break;
  case 1:
    memcpy (gates->w_hh, values, rows * gates->recurrent * sizeof (float));
    rs_linear_pack (&gates->hh, gates->w_hh, gates->recurrent, gates->hh.bias);
    break;
  default:
    /* The packed bias is a plain vector (padded past rows): no repacking. */
    memcpy ((index == 2 ? gates->ih : gates->hh).bias, values, rows * sizeof (float));
    break;
  }
}

int
rs_gates_check_trainable (const RsGates *gates, const char *cell_name, char *err,
                          size_t err_len)
{
  if (gates->w_ih == NULL || gates->w_hh == NULL) {
    snprintf (err, err_len, "this %s cell was created for inference only (create it with "
              "RS_CELL_SPEC_TRAINING to train it)", cell_name);
    return -1;
  }
  return 0;
}

float *
rs_workspace_take (RsWorkspace *ws, size_t n_floats)
{
  float *p = ws->base ? (float *) (ws->base + ws->used) : NULL;

  ws->used += rs_scratch_round (n_floats * sizeof (float));
  return p;
}

void
rs_gates_backward_weights (const RsGates *gates, size_t rows, const float *dgx,
                           const float *dgh, const float *input, size_t in_stride,
                           const float *r_prev, size_t ld_r, float *d_input,
                           size_t din_stride, float *const *grads)
{
  const size_t G = (size_t) gates->n_gates * gates->hidden;
  const size_t I = gates->input, R = gates->recurrent;

  rs_gemm_tn_acc (G, I, rows, dgx, G, input, in_stride, grads[0], I);
  rs_gemm_tn_acc (G, R, rows, dgh, G, r_prev, ld_r, grads[1], R);
  if (gates->has_bias) {
    rs_colsum_acc (rows, G, dgx, G, grads[2]);
    rs_colsum_acc (rows, G, dgh, G, grads[3]);
  }
  if (d_input != NULL) {
    for (size_t m = 0; m < rows; m++)
      memset (d_input + m * din_stride, 0, I * sizeof (float));
    rs_gemm_nn_acc (rows, I, G, dgx, G, gates->w_ih, I, d_input, din_stride);
  }
}

size_t
rs_gates_recurrent_packed_floats (const RsGates *gates)
{
  return rs_gemm_packed_b_floats ((size_t) gates->n_gates * gates->hidden, gates->recurrent);
}

void
rs_gates_pack_recurrent (const RsGates *gates, float *packed)
{
  const size_t G = (size_t) gates->n_gates * gates->hidden, R = gates->recurrent;

  rs_gemm_pack_b (G, R, gates->w_hh, R, packed);
}

void
rs_gates_backward_recurrent (const RsGates *gates, const float *packed, size_t n_streams,
                             const float *dgh_t, float *d_prev, size_t ld_d)
{
  const size_t G = (size_t) gates->n_gates * gates->hidden, R = gates->recurrent;

  rs_gemm_nn_acc_packed (n_streams, R, G, dgh_t, G, packed, d_prev, ld_d);
}

/* The training nonlinearities, vectorised where the CPU has AVX2 (the
 * same choice as the kernels', so RNNSTREAM_KERNEL=generic reaches the
 * libm loops below too).
 *
 * Accuracy is what matters here, not the last cycle (see train.h): exp is
 * Cephes' expf, with the argument reduced in two parts, x = n ln 2 + r,
 * |r| <= ln 2 / 2, and e^r from its degree-7 polynomial (about 1 ulp);
 * sigmoid(x) = 1 / (1 + e^-x) with an IEEE division; tanh is Cephes' tanhf:
 * for |x| < 0.625 the odd polynomial x + x^3 P(x^2) (relative error about
 * 2 ulp, so small activations keep their relative accuracy), above it
 * 1 - 2 / (e^2|x| + 1) with the sign of x, and exactly +-1 beyond
 * |x| = 9, where tanh rounds to 1 in float. Both stay within a few ulp of
 * libm's expf and tanhf everywhere (tests/train compares the gradients
 * with PyTorch's, which computes these with SLEEF's 1-ulp functions). NaN
 * goes through as NaN. A partial last vector is computed in a padded copy,
 * so every element gets the same arithmetic whatever its position. */
#if RS_KERNELS_HAVE_AVX2
#include <immintrin.h>

RS_TARGET_AVX2 static inline __m256
exp_avx2 (__m256 x)
{
  const __m256 hi = _mm256_set1_ps (88.3762626647949f), lo = _mm256_set1_ps (-88.3762626647949f);
  __m256 n, r, p;
  __m256i e;

  /* min/max return their second operand when one is NaN: x goes through. */
  x = _mm256_max_ps (lo, _mm256_min_ps (hi, x));
  n = _mm256_round_ps (_mm256_mul_ps (x, _mm256_set1_ps (1.44269504088896341f)),
                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  r = _mm256_fnmadd_ps (n, _mm256_set1_ps (0.693359375f), x);
  r = _mm256_fnmadd_ps (n, _mm256_set1_ps (-2.12194440e-4f), r);
  p = _mm256_set1_ps (1.9875691500e-4f);
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.3981999507e-3f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (8.3334519073e-3f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (4.1665795894e-2f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.6666665459e-1f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (5.0000001201e-1f));
  p = _mm256_fmadd_ps (p, _mm256_mul_ps (r, r), _mm256_add_ps (r, _mm256_set1_ps (1.0f)));
  /* 2^n, n in [-127, 127]: e^-88.38 = 2^-127.5 needs the scale in two
   * halves to stay out of the denormals' exponent field. */
  e = _mm256_cvtps_epi32 (n);
  {
    const __m256i h = _mm256_srai_epi32 (e, 1);
    const __m256 s1 = _mm256_castsi256_ps (_mm256_slli_epi32 (
      _mm256_add_epi32 (h, _mm256_set1_epi32 (127)), 23));
    const __m256 s2 = _mm256_castsi256_ps (_mm256_slli_epi32 (
      _mm256_add_epi32 (_mm256_sub_epi32 (e, h), _mm256_set1_epi32 (127)), 23));
    return _mm256_mul_ps (_mm256_mul_ps (p, s1), s2);
  }
}

RS_TARGET_AVX2 static inline __m256
sigmoid_avx2 (__m256 x)
{
  const __m256 one = _mm256_set1_ps (1.0f);
  const __m256 minus_x = _mm256_xor_ps (x, _mm256_set1_ps (-0.0f));
  const __m256 s = _mm256_div_ps (one, _mm256_add_ps (one, exp_avx2 (minus_x)));

  /* Below -88.38 e^-x is past the clamp (libm's overflows to inf): 0. */
  return _mm256_andnot_ps (_mm256_cmp_ps (x, _mm256_set1_ps (-88.3762626647949f), _CMP_LT_OQ), s);
}

RS_TARGET_AVX2 static inline __m256
tanh_avx2 (__m256 x)
{
  const __m256 sign = _mm256_set1_ps (-0.0f), one = _mm256_set1_ps (1.0f);
  const __m256 ax = _mm256_andnot_ps (sign, x);
  const __m256 z = _mm256_mul_ps (x, x);
  __m256 p, big, e;

  /* |x| < 0.625 */
  p = _mm256_set1_ps (-5.70498872745e-3f);
  p = _mm256_fmadd_ps (p, z, _mm256_set1_ps (2.06390887954e-2f));
  p = _mm256_fmadd_ps (p, z, _mm256_set1_ps (-5.37397155531e-2f));
  p = _mm256_fmadd_ps (p, z, _mm256_set1_ps (1.33314422036e-1f));
  p = _mm256_fmadd_ps (p, z, _mm256_set1_ps (-3.33332819422e-1f));
  p = _mm256_fmadd_ps (_mm256_mul_ps (p, z), x, x);
  /* |x| >= 0.625: 1 - 2 / (e^2|x| + 1), signed */
  e = exp_avx2 (_mm256_add_ps (ax, ax));
  big = _mm256_sub_ps (one, _mm256_div_ps (_mm256_set1_ps (2.0f), _mm256_add_ps (e, one)));
  big = _mm256_blendv_ps (big, one, _mm256_cmp_ps (ax, _mm256_set1_ps (9.0f), _CMP_GT_OQ));
  big = _mm256_or_ps (big, _mm256_and_ps (sign, x));
  /* Ordered compare: NaN takes the polynomial branch, which keeps it. */
  return _mm256_blendv_ps (p, big, _mm256_cmp_ps (ax, _mm256_set1_ps (0.625f), _CMP_GE_OQ));
}

#define DEFINE_MAP_AVX2(name, func)                                           \
  RS_TARGET_AVX2 static void                                                  \
  name (float *x, size_t n)                                                   \
  {                                                                           \
    size_t i = 0;                                                             \
                                                                              \
    for (; i + 8 <= n; i += 8)                                                \
      _mm256_storeu_ps (x + i, func (_mm256_loadu_ps (x + i)));               \
    if (i < n) {                                                              \
      float tail[8] = { 0 };                                                  \
                                                                              \
      memcpy (tail, x + i, (n - i) * sizeof (float));                         \
      _mm256_storeu_ps (tail, func (_mm256_loadu_ps (tail)));                 \
      memcpy (x + i, tail, (n - i) * sizeof (float));                         \
    }                                                                         \
  }

DEFINE_MAP_AVX2 (train_sigmoid_avx2, sigmoid_avx2)
DEFINE_MAP_AVX2 (train_tanh_avx2, tanh_avx2)

static int
use_avx2 (void)
{
  return strcmp (rs_kernels_name (), "avx2") == 0;
}
#endif

void
rs_train_sigmoid (float *x, size_t n)
{
#if RS_KERNELS_HAVE_AVX2
  if (use_avx2 ()) {
    train_sigmoid_avx2 (x, n);
    return;
  }
#endif
  for (size_t i = 0; i < n; i++)
    x[i] = 1.0f / (1.0f + expf (-x[i]));
}

void
rs_train_tanh (float *x, size_t n)
{
#if RS_KERNELS_HAVE_AVX2
  if (use_avx2 ()) {
    train_tanh_avx2 (x, n);
    return;
  }
#endif
  for (size_t i = 0; i < n; i++)
    x[i] = tanhf (x[i]);
}

void
rs_train_relu (float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = x[i] > 0.0f ? x[i] : x[i] == x[i] ? 0.0f : x[i];
}
