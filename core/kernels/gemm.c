/* Accumulating matrix products (see gemm.h).
 *
 * Both products share one shape: C[m][n] += sum_k a(m, k) * B[k][n], where
 * a(m, k) is A[m * lda + k] (NN) or A[k * lda + m] (TN). So one loop nest
 * serves both, taking the two strides of a. */
#include <string.h>

#include "gemm.h"
#include "internal.h"

/* C's rows m0..m1-1 and columns n0..n1-1, one element at a time. */
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

/* The AVX2 kernel is blocked and packed as GotoBLAS / BLIS do, because the
 * training products are long in k (k runs over all T*B frames of a block:
 * thousands) and their operands far larger than the caches: streaming a
 * whole k range of A and B per tile of C, with rows thousands of floats
 * apart, is bound by memory and TLB misses, not by the multiply-adds.
 *
 * k is cut into blocks of KC, m into blocks of MC. For each (k, m) block,
 * the MC x KC slice of a is packed into panels of MR rows (for each k, the
 * MR values a(m..m+MR-1, k) side by side), and then, NR columns at a time,
 * the KC x NR slice of B (for each k, its NR values side by side): both
 * are then read sequentially, from L1 (B's panel, 16 KiB) and L2 (a's
 * block, 48 KiB). The micro-kernel keeps an MR x NR = 6 x 16 tile of C in
 * twelve registers through the KC steps: two loads of B and six broadcasts
 * of a per twelve multiply-adds. Edge tiles are padded with zeros in the
 * packed panels and computed on a copy of C's valid part.
 *
 * The summation order is fixed by the sizes alone: C[m][n] is updated once
 * per k block, in increasing k, each update a chain of fused multiply-adds
 * in increasing k starting from the value C holds. The packing buffers
 * live on the stack (64 KiB): no allocation. */
#define MR 6
#define NR 16
#define KC 256
#define MC 48

/* a(m, k) = A[m * a_m + k * a_k] for the mc x kc block at A, into panels
 * of MR rows, zero past mc. */
RS_TARGET_AVX2 static void
pack_a (size_t mc, size_t kc, const float *A, size_t a_m, size_t a_k, float *dst)
{
  for (size_t p = 0; p < mc; p += MR) {
    const size_t mr = mc - p < MR ? mc - p : MR;

    if (a_m == 1 && mr == MR) {
      /* Transposed a (the weight gradients): MR contiguous values per k. */
      for (size_t k = 0; k < kc; k++, dst += MR)
        memcpy (dst, A + p + k * a_k, MR * sizeof (float));
      continue;
    }
    /* Row by row, so that a row-major a (NN) is read along its rows. */
    for (size_t i = 0; i < MR; i++)
      for (size_t k = 0; k < kc; k++)
        dst[k * MR + i] = i < mr ? A[(p + i) * a_m + k * a_k] : 0.0f;
    dst += kc * MR;
  }
}

/* The kc x nr block of B at B (rows ldb apart) as kc rows of NR, zero past
 * nr. */
RS_TARGET_AVX2 static void
pack_b (size_t kc, size_t nr, const float *B, size_t ldb, float *dst)
{
  if (nr == NR) {
    for (size_t k = 0; k < kc; k++, dst += NR, B += ldb) {
      _mm256_storeu_ps (dst, _mm256_loadu_ps (B));
      _mm256_storeu_ps (dst + 8, _mm256_loadu_ps (B + 8));
    }
    return;
  }
  for (size_t k = 0; k < kc; k++, dst += NR, B += ldb)
    for (size_t j = 0; j < NR; j++)
      dst[j] = j < nr ? B[j] : 0.0f;
}

/* C (MR x NR, rows ldc apart) += the kc steps of the packed panels. */
RS_TARGET_AVX2 static void
micro_6x16 (size_t kc, const float *a, const float *b, float *C, size_t ldc)
{
  float *c0 = C, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc, *c4 = c3 + ldc,
        *c5 = c4 + ldc;
  __m256 x00 = _mm256_loadu_ps (c0), x01 = _mm256_loadu_ps (c0 + 8);
  __m256 x10 = _mm256_loadu_ps (c1), x11 = _mm256_loadu_ps (c1 + 8);
  __m256 x20 = _mm256_loadu_ps (c2), x21 = _mm256_loadu_ps (c2 + 8);
  __m256 x30 = _mm256_loadu_ps (c3), x31 = _mm256_loadu_ps (c3 + 8);
  __m256 x40 = _mm256_loadu_ps (c4), x41 = _mm256_loadu_ps (c4 + 8);
  __m256 x50 = _mm256_loadu_ps (c5), x51 = _mm256_loadu_ps (c5 + 8);

  for (size_t k = 0; k < kc; k++, a += MR, b += NR) {
    const __m256 b0 = _mm256_loadu_ps (b), b1 = _mm256_loadu_ps (b + 8);
    __m256 s;

    s = _mm256_broadcast_ss (a);
    x00 = _mm256_fmadd_ps (s, b0, x00);
    x01 = _mm256_fmadd_ps (s, b1, x01);
    s = _mm256_broadcast_ss (a + 1);
    x10 = _mm256_fmadd_ps (s, b0, x10);
    x11 = _mm256_fmadd_ps (s, b1, x11);
    s = _mm256_broadcast_ss (a + 2);
    x20 = _mm256_fmadd_ps (s, b0, x20);
    x21 = _mm256_fmadd_ps (s, b1, x21);
    s = _mm256_broadcast_ss (a + 3);
    x30 = _mm256_fmadd_ps (s, b0, x30);
    x31 = _mm256_fmadd_ps (s, b1, x31);
    s = _mm256_broadcast_ss (a + 4);
    x40 = _mm256_fmadd_ps (s, b0, x40);
    x41 = _mm256_fmadd_ps (s, b1, x41);
    s = _mm256_broadcast_ss (a + 5);
    x50 = _mm256_fmadd_ps (s, b0, x50);
    x51 = _mm256_fmadd_ps (s, b1, x51);
  }
  _mm256_storeu_ps (c0, x00), _mm256_storeu_ps (c0 + 8, x01);
  _mm256_storeu_ps (c1, x10), _mm256_storeu_ps (c1 + 8, x11);
  _mm256_storeu_ps (c2, x20), _mm256_storeu_ps (c2 + 8, x21);
  _mm256_storeu_ps (c3, x30), _mm256_storeu_ps (c3 + 8, x31);
  _mm256_storeu_ps (c4, x40), _mm256_storeu_ps (c4 + 8, x41);
  _mm256_storeu_ps (c5, x50), _mm256_storeu_ps (c5 + 8, x51);
}

/* B packed ahead (rs_gemm_pack_b) when b_packed is not NULL, else packed
 * here, panel by panel. */
RS_TARGET_AVX2 static void
gemm_blocked (size_t M, size_t N, size_t K, const float *A, size_t a_m, size_t a_k,
              const float *B, size_t ldb, const float *b_packed, float *C, size_t ldc)
{
  const size_t n_pad = (N + NR - 1) / NR * NR;
  _Alignas (64) float a_pack[MC * KC];
  _Alignas (64) float b_pack[KC * NR];
  _Alignas (64) float edge[MR * NR];

  for (size_t k0 = 0; k0 < K; k0 += KC) {
    const size_t kc = K - k0 < KC ? K - k0 : KC;

    for (size_t m0 = 0; m0 < M; m0 += MC) {
      const size_t mc = M - m0 < MC ? M - m0 : MC;

      pack_a (mc, kc, A + m0 * a_m + k0 * a_k, a_m, a_k, a_pack);
      for (size_t n0 = 0; n0 < N; n0 += NR) {
        const size_t nr = N - n0 < NR ? N - n0 : NR;
        const float *bp = b_pack;

        if (b_packed != NULL)
          bp = b_packed + k0 * n_pad + n0 * kc;
        else
          pack_b (kc, nr, B + k0 * ldb + n0, ldb, b_pack);
        for (size_t p = 0; p < mc; p += MR) {
          const size_t mr = mc - p < MR ? mc - p : MR;
          float *c = C + (m0 + p) * ldc + n0;

          if (mr == MR && nr == NR) {
            micro_6x16 (kc, a_pack + p * kc, bp, c, ldc);
            continue;
          }
          /* An edge tile: the same arithmetic on a copy of the valid part
           * (padding rows and columns compute zeros and are dropped). */
          memset (edge, 0, sizeof edge);
          for (size_t i = 0; i < mr; i++)
            memcpy (edge + i * NR, c + i * ldc, nr * sizeof (float));
          micro_6x16 (kc, a_pack + p * kc, bp, edge, NR);
          for (size_t i = 0; i < mr; i++)
            memcpy (c + i * ldc, edge + i * NR, nr * sizeof (float));
        }
      }
    }
  }
}

RS_TARGET_AVX2 static void
gemm_avx2 (size_t M, size_t N, size_t K, const float *A, size_t a_m, size_t a_k,
           const float *B, size_t ldb, float *C, size_t ldc)
{
  gemm_blocked (M, N, K, A, a_m, a_k, B, ldb, NULL, C, ldc);
}

/* B's KC-row blocks one after another, each as its NR-column panels
 * (zero-padded to n_pad columns): the order gemm_blocked reads them in. */
RS_TARGET_AVX2 static void
pack_b_all_avx2 (size_t K, size_t N, const float *B, size_t ldb, float *packed)
{
  const size_t n_pad = (N + NR - 1) / NR * NR;

  for (size_t k0 = 0; k0 < K; k0 += KC) {
    const size_t kc = K - k0 < KC ? K - k0 : KC;

    for (size_t n0 = 0; n0 < N; n0 += NR)
      pack_b (kc, N - n0 < NR ? N - n0 : NR, B + k0 * ldb + n0, ldb,
              packed + k0 * n_pad + n0 * kc);
  }
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

/* The padded width both layouts use: NR columns per panel for the AVX2
 * kernel; the portable kernel reads the same buffer as a plain row-major
 * copy of B with that many columns per row. */
#define PACKED_NR 16

size_t
rs_gemm_packed_b_floats (size_t K, size_t N)
{
  return K * ((N + PACKED_NR - 1) / PACKED_NR * PACKED_NR);
}

void
rs_gemm_pack_b (size_t K, size_t N, const float *B, size_t ldb, float *packed)
{
  const size_t n_pad = (N + PACKED_NR - 1) / PACKED_NR * PACKED_NR;

#if RS_KERNELS_HAVE_AVX2
  if (gemm_func () == gemm_avx2) {
    pack_b_all_avx2 (K, N, B, ldb, packed);
    return;
  }
#endif
  for (size_t k = 0; k < K; k++) {
    memcpy (packed + k * n_pad, B + k * ldb, N * sizeof (float));
    memset (packed + k * n_pad + N, 0, (n_pad - N) * sizeof (float));
  }
}

void
rs_gemm_nn_acc_packed (size_t M, size_t N, size_t K, const float *A, size_t lda,
                       const float *packed, float *C, size_t ldc)
{
  const size_t n_pad = (N + PACKED_NR - 1) / PACKED_NR * PACKED_NR;

#if RS_KERNELS_HAVE_AVX2
  if (gemm_func () == gemm_avx2) {
    gemm_blocked (M, N, K, A, lda, 1, NULL, 0, packed, C, ldc);
    return;
  }
#endif
  gemm_generic (M, N, K, A, lda, 1, packed, n_pad, C, ldc);
}

void
rs_colsum_acc (size_t K, size_t N, const float *A, size_t lda, float *y)
{
  for (size_t k = 0; k < K; k++)
    for (size_t n = 0; n < N; n++)
      y[n] += A[k * lda + n];
}
