/* AVX2+FMA activations.
 *
 * exp is evaluated as in Cephes expf: t = n ln2 + r with n = round(t/ln2)
 * and |r| <= ln2/2, exp(r) by a degree-7 minimax polynomial, and 2^n put
 * straight into the exponent bits. Both callers only need exp of a
 * non-positive argument, so the range reduction never has to handle
 * overflow. The last, partial vector of an array goes through a padded
 * buffer rather than a scalar loop so that every element is computed by
 * the same instructions wherever it sits. */
#include "internal.h"

#if RS_KERNELS_HAVE_AVX2

#include <immintrin.h>
#include <string.h>

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* exp(t) for t <= 0, NaN propagating. Arguments below -88 give exactly 0:
 * with n = -127 the exponent field built below is 0, which is +0.0. The true
 * result there is below 2^-126, far under the accuracy the callers need, and
 * a clean zero is what makes the activations saturate exactly. */
static ALWAYS_INLINE RS_TARGET_AVX2 __m256
exp_nonpositive (__m256 t)
{
  /* ln2 split so that n * LN2_HI is exact for |n| <= 127 and t - n * LN2_HI
   * loses nothing; the FMA then folds in the low part. */
  const __m256 ln2_hi = _mm256_set1_ps (0.693359375f);
  const __m256 ln2_lo = _mm256_set1_ps (-2.12194440e-4f);
  __m256 n, r, p, r2;
  __m256i bits;

  /* max returns its second operand when either is NaN, so NaN survives. */
  t = _mm256_max_ps (_mm256_set1_ps (-88.0f), t);
  n = _mm256_round_ps (_mm256_mul_ps (t, _mm256_set1_ps (1.44269504088896341f)),
                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  r = _mm256_fnmadd_ps (n, ln2_hi, t);
  r = _mm256_fnmadd_ps (n, ln2_lo, r);

  p = _mm256_set1_ps (1.9875691500e-4f);
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.3981999507e-3f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (8.3334519073e-3f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (4.1665795894e-2f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.6666665459e-1f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (5.0000001201e-1f));
  r2 = _mm256_mul_ps (r, r);
  p = _mm256_fmadd_ps (p, r2, r);
  p = _mm256_add_ps (p, _mm256_set1_ps (1.0f));

  bits = _mm256_slli_epi32 (
      _mm256_add_epi32 (_mm256_cvtps_epi32 (n), _mm256_set1_epi32 (127)), 23);
  return _mm256_mul_ps (p, _mm256_castsi256_ps (bits));
}

static ALWAYS_INLINE RS_TARGET_AVX2 __m256
sigmoid8 (__m256 x)
{
  const __m256 sign = _mm256_set1_ps (-0.0f);
  const __m256 one = _mm256_set1_ps (1.0f);
  /* e = exp(-|x|) in (0, 1]. For x >= 0 the result is 1 / (1 + e); for
   * x < 0 it is e / (1 + e), which stays accurate as it approaches 0. */
  const __m256 e = exp_nonpositive (_mm256_or_ps (x, sign));
  const __m256 num = _mm256_blendv_ps (one, e, x);

  return _mm256_div_ps (num, _mm256_add_ps (one, e));
}

static ALWAYS_INLINE RS_TARGET_AVX2 __m256
tanh8 (__m256 x)
{
  const __m256 sign = _mm256_set1_ps (-0.0f);
  const __m256 one = _mm256_set1_ps (1.0f);
  const __m256 a = _mm256_andnot_ps (sign, x);
  __m256 e, big, s, q, small, y;

  /* Away from 0, tanh|x| = (1 - e) / (1 + e) with e = exp(-2|x|) <= 0.29,
   * so 1 - e does not cancel. */
  e = exp_nonpositive (_mm256_mul_ps (a, _mm256_set1_ps (-2.0f)));
  big = _mm256_div_ps (_mm256_sub_ps (one, e), _mm256_add_ps (one, e));

  /* Near 0 that quotient would lose all relative accuracy, so use the
   * Cephes tanhf odd polynomial, |x| + |x| x^2 P(x^2), there. */
  s = _mm256_mul_ps (a, a);
  q = _mm256_set1_ps (-5.70498872745e-3f);
  q = _mm256_fmadd_ps (q, s, _mm256_set1_ps (2.06390887954e-2f));
  q = _mm256_fmadd_ps (q, s, _mm256_set1_ps (-5.37397155531e-2f));
  q = _mm256_fmadd_ps (q, s, _mm256_set1_ps (1.33314422036e-1f));
  q = _mm256_fmadd_ps (q, s, _mm256_set1_ps (-3.33332819422e-1f));
  small = _mm256_fmadd_ps (_mm256_mul_ps (q, s), a, a);

  /* NaN compares false and so takes the exp path, which keeps it NaN. */
  y = _mm256_blendv_ps (big, small,
                        _mm256_cmp_ps (a, _mm256_set1_ps (0.625f), _CMP_LT_OQ));
  /* Both branches are computed on |x| and are >= 0; the sign goes back on
   * last, which also keeps tanh(-0) = -0. */
  return _mm256_or_ps (y, _mm256_and_ps (x, sign));
}

static ALWAYS_INLINE RS_TARGET_AVX2 __m256
relu8 (__m256 x)
{
  /* max returns its second operand, x, when x is NaN. */
  return _mm256_max_ps (_mm256_setzero_ps (), x);
}

/* Applies f to x[0..n-1] in place, 8 floats at a time, the ragged end through
 * a zero-padded vector. */
#define DEFINE_MAP(name, f)                                                  \
  RS_TARGET_AVX2 void                                                        \
  name (float *x, size_t n)                                                  \
  {                                                                          \
    size_t i = 0;                                                            \
                                                                             \
    for (; i + 8 <= n; i += 8)                                               \
      _mm256_storeu_ps (x + i, f (_mm256_loadu_ps (x + i)));                 \
    if (i < n)                                                               \
      {                                                                      \
        float pad[8] __attribute__((aligned (32))) = { 0 };                  \
                                                                             \
        memcpy (pad, x + i, (n - i) * sizeof (float));                       \
        _mm256_store_ps (pad, f (_mm256_load_ps (pad)));                     \
        memcpy (x + i, pad, (n - i) * sizeof (float));                       \
      }                                                                      \
  }

DEFINE_MAP (rs_sigmoid_avx2, sigmoid8)
DEFINE_MAP (rs_tanh_avx2, tanh8)
DEFINE_MAP (rs_relu_avx2, relu8)

#else

/* ISO C forbids an empty translation unit. */
typedef int rs_activation_avx2_unavailable;

#endif
