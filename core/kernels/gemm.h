/* Accumulating matrix products for the backward pass of training.
 *
 * Internal to rnnstream, like linear.h. Matrices are row-major with explicit
 * leading dimensions (the distance, in floats, between consecutive rows).
 *
 * Unlike rs_linear_forward these kernels make no promise about the
 * summation order across implementations: gradients are not part of the
 * streaming bit-exactness contract. Each implementation is deterministic
 * (the same inputs give the same bits on the same machine with the same
 * kernel choice), which is what reproducible training needs. The kernel is
 * the one rs_kernels_name() reports (RNNSTREAM_KERNEL=generic forces the
 * portable one). No allocation; real-time safe. The AVX2 kernel packs its
 * operands into about 64 KiB of stack (see gemm.c).
 */
#ifndef RS_KERNELS_GEMM_H
#define RS_KERNELS_GEMM_H

#include <stddef.h>

/* C[m][n] += sum_k A[m][k] * B[k][n], A: M x K, B: K x N, C: M x N.
 * The backward map of y = W x through the weights: dX += dY W. */
void rs_gemm_nn_acc (size_t M, size_t N, size_t K,
                     const float *A, size_t lda,
                     const float *B, size_t ldb,
                     float *C, size_t ldc);

/* C[m][n] += sum_k A[k][m] * B[k][n], A: K x M, B: K x N, C: M x N.
 * The weight gradient over a block of K frames: dW += dY^T X. */
void rs_gemm_tn_acc (size_t M, size_t N, size_t K,
                     const float *A, size_t lda,
                     const float *B, size_t ldb,
                     float *C, size_t ldc);

/* The same product as rs_gemm_nn_acc with B packed once ahead, for a
 * right-hand side used many times (the recurrent weights, once per frame
 * of backpropagation through time): rs_gemm_packed_b_floats(K, N) floats
 * hold the packed copy rs_gemm_pack_b makes of B (K x N, rows ldb apart).
 * The packed layout belongs to the kernel in use; the results are those
 * of rs_gemm_nn_acc on the unpacked B, bit for bit. */
size_t rs_gemm_packed_b_floats (size_t K, size_t N);
void rs_gemm_pack_b (size_t K, size_t N, const float *B, size_t ldb, float *packed);
void rs_gemm_nn_acc_packed (size_t M, size_t N, size_t K,
                            const float *A, size_t lda,
                            const float *packed,
                            float *C, size_t ldc);

/* y[n] += sum_k A[k][n] for n < N: the bias gradient over K frames. */
void rs_colsum_acc (size_t K, size_t N, const float *A, size_t lda, float *y);

#endif
