/* AVX2+FMA microkernels for rs_linear_forward.
 *
 * The summation order is fixed by linear.h: each output starts at its bias
 * and takes one fused multiply-add per input, k = 0, 1, ..., cols-1. That
 * rules out the usual trick of splitting the k loop into partial sums, so
 * each accumulator is a serial chain of FMAs and the only parallelism is
 * across outputs. An FMA has a latency of 4-5 cycles and two issue every
 * cycle, so a tile needs at least 8-10 independent 8-float accumulators to
 * keep the FMA units busy. Tiles therefore cover R rows of x by P panels of
 * 16 outputs (2*R*P accumulators), with R*P between 4 and 6 wherever the
 * shape of the problem allows it. */
#include "internal.h"

#if RS_KERNELS_HAVE_AVX2

#include <immintrin.h>

#define PANEL RS_LINEAR_PANEL

/* Largest tile dimensions; the register file (16 ymm) caps 2*R*P plus the
 * weights and broadcasts in flight. */
#define MAX_R 6
#define MAX_P 4

/* x rows per cache block for n_rows > 1: panels are the outer loop within
 * a block, so the block of x is read once per panel and should stay in L2
 * while each panel of W is fetched from memory only once per block. */
#define X_BLOCK_BYTES (128 * 1024)

#define ALWAYS_INLINE inline __attribute__((always_inline))

typedef struct {
  const float *packed;
  const float *bias;
  size_t panel_floats;
  uint32_t rows;
  uint32_t cols;
} Weights;

/* Computes rows x[0..R-1] (ldx apart) against panels p0..p0+P-1 and writes
 * the first n_out of the 16*P outputs of each row. R and P are constants at
 * every call site, so the loops unroll and the accumulators live in
 * registers. */
static ALWAYS_INLINE RS_TARGET_AVX2 void
tile (const Weights *wt, const int R, const int P, uint32_t p0,
      const float *x, size_t ldx, float *y, size_t ldy, uint32_t n_out)
{
  const float *w[MAX_P];
  __m256 acc[MAX_R][2 * MAX_P];
  const uint32_t cols = wt->cols;

#pragma GCC unroll 4
  for (int q = 0; q < P; q++)
    {
      w[q] = wt->packed + (p0 + q) * wt->panel_floats;
#pragma GCC unroll 6
      for (int r = 0; r < R; r++)
        {
          acc[r][2 * q] = _mm256_load_ps (wt->bias + (p0 + q) * PANEL);
          acc[r][2 * q + 1] = _mm256_load_ps (wt->bias + (p0 + q) * PANEL + 8);
        }
    }

  for (size_t k = 0; k < cols; k++)
    {
      __m256 wv[2 * MAX_P];

#pragma GCC unroll 8
      for (int v = 0; v < 2 * P; v++)
        wv[v] = _mm256_load_ps (w[v / 2] + k * PANEL + (v % 2) * 8);
#pragma GCC unroll 6
      for (int r = 0; r < R; r++)
        {
          const __m256 xb = _mm256_broadcast_ss (x + r * ldx + k);

#pragma GCC unroll 8
          for (int v = 0; v < 2 * P; v++)
            acc[r][v] = _mm256_fmadd_ps (xb, wv[v], acc[r][v]);
        }
    }

  if (n_out == (uint32_t) (PANEL * P))
    {
#pragma GCC unroll 6
      for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int v = 0; v < 2 * P; v++)
          _mm256_storeu_ps (y + r * ldy + 8 * v, acc[r][v]);
    }
  else
    {
      /* Only the last panel of W can be partial. Its padding outputs must
       * not be written, since y may be a slice of a wider row, hence the
       * masked stores. */
      const __m256i lane = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);
      const __m256i limit = _mm256_set1_epi32 ((int) n_out);

#pragma GCC unroll 8
      for (int v = 0; v < 2 * P; v++)
        {
          const __m256i mask = _mm256_cmpgt_epi32 (
              limit, _mm256_add_epi32 (lane, _mm256_set1_epi32 (8 * v)));

#pragma GCC unroll 6
          for (int r = 0; r < R; r++)
            _mm256_maskstore_ps (y + r * ldy + 8 * v, mask, acc[r][v]);
        }
    }
}

#define DEFINE_TILE(R, P)                                                    \
  static RS_TARGET_AVX2 void                                                 \
  tile_##R##x##P (const Weights *wt, uint32_t p0, const float *x,            \
                  size_t ldx, float *y, size_t ldy, uint32_t n_out)          \
  {                                                                          \
    tile (wt, R, P, p0, x, ldx, y, ldy, n_out);                              \
  }

DEFINE_TILE (1, 1)
DEFINE_TILE (1, 2)
DEFINE_TILE (1, 4)
DEFINE_TILE (2, 1)
DEFINE_TILE (2, 2)
DEFINE_TILE (3, 1)
DEFINE_TILE (3, 2)
DEFINE_TILE (4, 1)
DEFINE_TILE (5, 1)
DEFINE_TILE (6, 1)

typedef void (*TileFunc) (const Weights *wt, uint32_t p0, const float *x,
                          size_t ldx, float *y, size_t ldy, uint32_t n_out);

/* Outputs of panels p0 .. p0+n-1 that fall inside the rows of W. */
static uint32_t
outputs_in (const Weights *wt, uint32_t p0, uint32_t n)
{
  uint32_t j0 = p0 * PANEL;
  uint32_t j1 = (p0 + n) * PANEL;

  return (j1 < wt->rows ? j1 : wt->rows) - j0;
}

/* Up to three rows: too few to fill the FMA units from one panel, so the
 * tiles widen across panels instead (1x4, 2x2, 3x2), narrowing at the end of
 * W. This is the GEMV path of a frame-by-frame stream. */
static RS_TARGET_AVX2 void
few_rows (const Weights *wt, uint32_t n_panels, size_t n_rows,
          const float *x, size_t ldx, float *y, size_t ldy)
{
  static const TileFunc by_rows[3][3] = {
    { tile_1x4, tile_1x2, tile_1x1 },
    { tile_2x2, tile_2x2, tile_2x1 },
    { tile_3x2, tile_3x2, tile_3x1 },
  };
  static const uint32_t widths[3][3] = {
    { 4, 2, 1 },
    { 2, 2, 1 },
    { 2, 2, 1 },
  };
  const TileFunc *funcs = by_rows[n_rows - 1];
  const uint32_t *width = widths[n_rows - 1];
  uint32_t p = 0;

  for (int s = 0; s < 3; s++)
    for (; p + width[s] <= n_panels; p += width[s])
      funcs[s] (wt, p, x, ldx, y + p * PANEL, ldy,
                outputs_in (wt, p, width[s]));
}

/* Four or more rows: split them into tiles of 4 to 6 rows (as even as
 * possible, so that no tile drops below the 8 accumulators that hide the
 * FMA latency), one panel wide, with the panel loop outside so each panel
 * is reused from L1 by every tile of the block. */
static RS_TARGET_AVX2 void
many_rows (const Weights *wt, uint32_t n_panels, size_t n_rows,
           const float *x, size_t ldx, float *y, size_t ldy)
{
  static const TileFunc by_rows[MAX_R] = {
    tile_1x1, tile_2x1, tile_3x1, tile_4x1, tile_5x1, tile_6x1,
  };
  const size_t n_tiles = (n_rows + MAX_R - 1) / MAX_R;
  const size_t base = n_rows / n_tiles;
  const size_t n_big = n_rows % n_tiles;

  for (uint32_t p = 0; p < n_panels; p++)
    {
      const uint32_t n_out = outputs_in (wt, p, 1);
      size_t m = 0;

      for (size_t t = 0; t < n_tiles; t++)
        {
          const size_t r = base + (t < n_big);

          by_rows[r - 1] (wt, p, x + m * ldx, ldx, y + m * ldy + p * PANEL,
                          ldy, n_out);
          m += r;
        }
    }
}

RS_TARGET_AVX2 void
rs_linear_forward_avx2 (const RsLinear *lin, size_t n_rows,
                        const float *x, size_t ldx, float *y, size_t ldy)
{
  const Weights wt = {
    .packed = lin->packed,
    .bias = lin->bias,
    .panel_floats = (size_t) lin->cols * PANEL,
    .rows = lin->rows,
    .cols = lin->cols,
  };
  size_t block = X_BLOCK_BYTES / (sizeof (float) * lin->cols);
  size_t n_blocks;

  /* Blocks of equal size, so the last one is not left with a row or two
   * that would cost a whole pass over W at GEMV speed. */
  if (block < 2 * MAX_R)
    block = 2 * MAX_R;
  n_blocks = (n_rows + block - 1) / block;
  if (n_blocks > 1)
    block = (n_rows + n_blocks - 1) / n_blocks;
  for (size_t m0 = 0; m0 < n_rows; m0 += block)
    {
      size_t mb = n_rows - m0 < block ? n_rows - m0 : block;
      const float *xb = x + m0 * ldx;
      float *yb = y + m0 * ldy;

      if (mb <= 3)
        few_rows (&wt, lin->n_panels, mb, xb, ldx, yb, ldy);
      else
        many_rows (&wt, lin->n_panels, mb, xb, ldx, yb, ldy);
    }
}

#else

/* ISO C forbids an empty translation unit. */
typedef int rs_linear_avx2_unavailable;

#endif
