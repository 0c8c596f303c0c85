/* Dense affine maps y = W x + b with weights packed once at load time.
 *
 * Internal to rnnstream (built into the core library and into every in-tree
 * plugin as a static library); not installed.
 *
 * Why our own kernel instead of a BLAS: a streaming cell must give
 * bit-identical results whether frames arrive one at a time (a GEMV) or in
 * blocks (a GEMM). BLAS libraries pick different summation orders for the
 * two. Here every output element is computed by the same arithmetic in every
 * code path: acc = b[j]; then acc = acc + x[k] * W[j][k] for k = 0, 1, ...,
 * cols-1 in that order (fused multiply-add in the SIMD kernels, a separate
 * multiply and add in the portable kernel), so the result for one row of x
 * never depends on how many rows are computed together, which microkernel
 * handles them or where the row sits in the block.
 *
 * Weights are packed into panels of RS_LINEAR_PANEL output rows: panel p
 * holds, for k = 0..cols-1, the RS_LINEAR_PANEL weights W[p*PANEL + i][k]
 * contiguously (rows past the end are zero). A microkernel then streams the
 * panel with aligned vector loads and broadcasts x[k].
 */
#ifndef RS_KERNELS_LINEAR_H
#define RS_KERNELS_LINEAR_H

#include <stddef.h>
#include <stdint.h>

#define RS_LINEAR_PANEL 16

typedef struct RsLinear {
  uint32_t rows;        /* outputs */
  uint32_t cols;        /* inputs */
  uint32_t n_panels;    /* ceil(rows / RS_LINEAR_PANEL) */
  float *packed;        /* n_panels * cols * RS_LINEAR_PANEL floats, 64-byte aligned */
  float *bias;          /* n_panels * RS_LINEAR_PANEL floats (zero when no bias), 64-byte aligned */
} RsLinear;

/* Packs W (rows x cols, row-major, consecutive rows w_stride floats apart)
 * and bias (rows floats, or NULL for zero). Returns 0, or -1 when memory
 * runs out (lin is then cleared). rows and cols must be >= 1. */
int rs_linear_init (RsLinear *lin, uint32_t rows, uint32_t cols,
                    const float *w, size_t w_stride, const float *bias);

/* Repacks W and bias (same shapes and strides as rs_linear_init) into an
 * initialised lin without allocating: how training updates the weights a
 * forward pass reads. */
void rs_linear_pack (RsLinear *lin, const float *w, size_t w_stride,
                     const float *bias);

/* The inverse: writes W (rows x cols, row-major, w_stride apart) and, when
 * bias is not NULL, the rows bias values. */
void rs_linear_unpack (const RsLinear *lin, float *w, size_t w_stride,
                       float *bias);

/* Releases the packed weights; lin may be zero-filled or already cleared. */
void rs_linear_clear (RsLinear *lin);

/* For m = 0..n_rows-1: y[m * ldy + j] = b[j] + sum_k x[m * ldx + k] * W[j][k]
 * for j < rows, in the summation order described above. x and y must not
 * overlap. No allocation; real-time safe. */
void rs_linear_forward (const RsLinear *lin, size_t n_rows,
                        const float *x, size_t ldx, float *y, size_t ldy);

/* Which implementation rs_linear_forward and the activations use: chosen
 * once, on first use, from the CPU's features; the environment variable
 * RNNSTREAM_KERNEL=generic forces the portable C kernels (for testing and
 * for comparing); any other value, or none, picks the best kernel the CPU
 * supports. The choice is thread-safe and never changes afterwards, so the
 * variable must be set before the first call. Returns "avx2" or "generic". */
const char *rs_kernels_name (void);

#endif
