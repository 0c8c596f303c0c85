/* Accumulating matrix products (see gemm.h).
 *
 * Both products share one shape: C[m][n] += sum_k a(m, k) * B[k][n], where
 * a(m, k) is A[m * lda + k] (NN) or A[k * lda + m] (TN). So one tiled loop
 * serves both, taking the two strides of a. A tile keeps TILE_M rows by
 * TILE_N columns of C in registers across the whole k loop: each step
 * loads TILE_N values of one row of B once and broadcasts TILE_M values of
 * a, so the loads per multiply-add fall by the tile's size. Rows and
 * columns left over at the edges go through the scalar loop. */
#include <string.h>

#include "gemm.h"
#include "internal.h"

#define TILE_M 4
#define TILE_N 16

/* The remainder of C (or all of it, for the portable kernel), one element
 * at a time. */
static void
gemm_scalar (size_t m0, size_t m1, size_t n0, size_t n1, size_t K,
             const float *A, size_t a_m, size_t a_k,
             const float *B, size_t ldb, float *C, size_t ldc)
{
  for (size_t m = m0; m < m1; m++)
    for (size_t k = 0; k < K; k++)
      {
        const float a = A[m * a_m + k * a_k];
        const float *b = B + k * ldb;
        float *c = C + m * ldc;

        for (size_t n = n0; n < n1; n++)
          c[n] += a * b[n];
      }
}

/* Portable: rows of C as axpy updates, which compilers vectorise. */
static void
gemm_generic (size_t M, size_t N, size_t K, const float *A, size_t a_m, size_t a_k,
              const float *B, size_t ldb, float *C, size_t ldc)
{
  gemm_scalar (0, M, 0, N, K, A, a_m, a_k, B, ldb, C, ldc);
}

#if RS_KERNELS_HAVE_AVX2
#include <immintrin.h>

RS_TARGET_AVX2 static void
gemm_avx2 (size_t M, size_t N, size_t K, const float *A, size_t a_m, size_t a_k,
           const float *B, size_t ldb, float *C, size_t ldc)
{
  const size_t m_full = M / TILE_M * TILE_M, n_full = N / TILE_N * TILE_N;

  for (size_t m = 0; m < m_full; m += TILE_M)
    for (size_t n = 0; n < n_full; n += TILE_N)
      {
        float *c0 = C + m * ldc + n, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
        __m256 x00 = _mm256_loadu_ps (c0), x01 = _mm256_loadu_ps (c0 + 8);
        __m256 x10 = _mm256_loadu_ps (c1), x11 = _mm256_loadu_ps (c1 + 8);
        __m256 x20 = _mm256_loadu_ps (c2), x21 = _mm256_loadu_ps (c2 + 8);
        __m256 x30 = _mm256_loadu_ps (c3), x31 = _mm256_loadu_ps (c3 + 8);
        const float *a = A + m * a_m;

        for (size_t k = 0; k < K; k++, a += a_k)
          {
            const float *b = B + k * ldb + n;
            const __m256 b0 = _mm256_loadu_ps (b), b1 = _mm256_loadu_ps (b + 8);
            __m256 s;

            s = _mm256_broadcast_ss (a);
            x00 = _mm256_fmadd_ps (s, b0, x00);
            x01 = _mm256_fmadd_ps (s, b1, x01);
            s = _mm256_broadcast_ss (a + a_m);
            x10 = _mm256_fmadd_ps (s, b0, x10);
            x11 = _mm256_fmadd_ps (s, b1, x11);
            s = _mm256_broadcast_ss (a + 2 * a_m);
            x20 = _mm256_fmadd_ps (s, b0, x20);
            x21 = _mm256_fmadd_ps (s, b1, x21);
            s = _mm256_broadcast_ss (a + 3 * a_m);
            x30 = _mm256_fmadd_ps (s, b0, x30);
            x31 = _mm256_fmadd_ps (s, b1, x31);
          }
        _mm256_storeu_ps (c0, x00), _mm256_storeu_ps (c0 + 8, x01);
        _mm256_storeu_ps (c1, x10), _mm256_storeu_ps (c1 + 8, x11);
        _mm256_storeu_ps (c2, x20), _mm256_storeu_ps (c2 + 8, x21);
        _mm256_storeu_ps (c3, x30), _mm256_storeu_ps (c3 + 8, x31);
      }
  /* Columns right of the tiles, for the tiled rows; then the rows below. */
  if (n_full < N)
    gemm_scalar (0, m_full, n_full, N, K, A, a_m, a_k, B, ldb, C, ldc);
  if (m_full < M)
    gemm_scalar (m_full, M, 0, N, K, A, a_m, a_k, B, ldb, C, ldc);
}
#endif

typedef void (*GemmFunc) (size_t, size_t, size_t, const float *, size_t, size_t,
                          const float *, size_t, float *, size_t);

/* The same choice as every other kernel's, so RNNSTREAM_KERNEL=generic
 * reaches this one too. */
static GemmFunc
gemm_func (void)
{
#if RS_KERNELS_HAVE_AVX2
  if (strcmp (rs_kernels_active ()->name, "avx2") == 0)
    return gemm_avx2;
#endif
  return gemm_generic;
}

void
rs_gemm_nn_acc (size_t M, size_t N, size_t K, const float *A, size_t lda,
                const float *B, size_t ldb, float *C, size_t ldc)
{
  gemm_func () (M, N, K, A, lda, 1, B, ldb, C, ldc);
}

void
rs_gemm_tn_acc (size_t M, size_t N, size_t K, const float *A, size_t lda,
                const float *B, size_t ldb, float *C, size_t ldc)
{
  gemm_func () (M, N, K, A, 1, lda, B, ldb, C, ldc);
}

void
rs_colsum_acc (size_t K, size_t N, const float *A, size_t lda, float *y)
{
  for (size_t k = 0; k < K; k++)
    for (size_t n = 0; n < N; n++)
      y[n] += A[k * lda + n];
}
