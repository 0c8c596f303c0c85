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
 * shape of the problem allows it. Every tile performs exactly the same
 * sequence of FMAs for a given output, so the choice of tile never shows in
 * the results. */
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

/* The tile below is written out for the largest shape, 6 rows by 8 vectors
 * (4 panels), with every accumulator a named variable guarded by a test on
 * the constants R and P. After inlining, the tests fold away and only the
 * 2*R*P live accumulators remain, as plain SSA values that both GCC and
 * clang keep in registers. Arrays indexed in loops would need complete
 * unrolling followed by scalar replacement, which the two compilers do
 * differently enough that some shapes end up spilling to the stack. */
#define EACH_P(M) M (0) M (1) M (2) M (3)
#define EACH_V(M) M (0) M (1) M (2) M (3) M (4) M (5) M (6) M (7)
#define EACH_V_OF(M, r) M (r, 0) M (r, 1) M (r, 2) M (r, 3) \
                        M (r, 4) M (r, 5) M (r, 6) M (r, 7)
#define EACH_R(M) M (0) M (1) M (2) M (3) M (4) M (5)
#define EACH_RV(M) EACH_V_OF (M, 0) EACH_V_OF (M, 1) EACH_V_OF (M, 2) \
                   EACH_V_OF (M, 3) EACH_V_OF (M, 4) EACH_V_OF (M, 5)

#define HAS(r, v) ((r) < R && (v) < 2 * P)

/* Panel q of the tile; unused ones alias the first so that no pointer
 * outside W is ever formed. */
#define PANEL_PTR(q) \
  const float *const pan##q = \
      wt->packed + (p0 + ((q) < P ? (q) : 0)) * wt->panel_floats;
/* Bias and weights of vector v, which is half v % 2 of panel v / 2. */
#define LOAD_B(v) \
  const __m256 b##v = (v) < 2 * P \
      ? _mm256_load_ps (wt->bias + ((size_t) p0 * PANEL + 8 * (v))) : zero;
#define LOAD_W(v, q) \
  __m256 w##v = (v) < 2 * P \
      ? _mm256_load_ps (pan##q + (k * PANEL + 8 * ((v) % 2))) : zero;
#define LOAD_WS \
  LOAD_W (0, 0) LOAD_W (1, 0) LOAD_W (2, 1) LOAD_W (3, 1) \
  LOAD_W (4, 2) LOAD_W (5, 2) LOAD_W (6, 3) LOAD_W (7, 3)
/* With several rows, each weight vector feeds R FMAs. GCC tends to fold
 * the load into every one of them, which turns a compute-bound tile into a
 * load-bound one (2x2: 10 loads per 8 FMAs); an empty asm that claims to
 * modify the register makes it load each vector once. With one row each
 * vector is used once, and the folded load is exactly what we want. */
#define PIN_W(v) \
  if (R > 1 && (v) < 2 * P) \
    __asm__ ("" : "+x" (w##v));

#define INIT(r, v) __m256 a##r##v = b##v;
#define FMA(r, v) \
  if (HAS (r, v)) \
    a##r##v = _mm256_fmadd_ps (xb, w##v, a##r##v);
/* One row at a time, so that only one broadcast is live at once. */
#define ROW(r) \
  if ((r) < R) \
    { \
      const __m256 xb = _mm256_broadcast_ss (x + (r) * ldx + k); \
      EACH_V_OF (FMA, r) \
    }
#define STORE(r, v) \
  if (HAS (r, v)) \
    _mm256_storeu_ps (y + (r) * ldy + 8 * (v), a##r##v);
#define MASK(v) \
  const __m256i m##v = _mm256_cmpgt_epi32 ( \
      limit, _mm256_add_epi32 (lane, _mm256_set1_epi32 (8 * (v))));
#define MASKSTORE(r, v) \
  if (HAS (r, v)) \
    _mm256_maskstore_ps (y + (r) * ldy + 8 * (v), m##v, a##r##v);

/* Computes rows x[0..R-1] (ldx apart) against panels p0..p0+P-1 and writes
 * the first n_out of the 16*P outputs of each row. */
static ALWAYS_INLINE RS_TARGET_AVX2 void
tile (const Weights *wt, const int R, const int P, uint32_t p0,
      const float *x, size_t ldx, float *y, size_t ldy, uint32_t n_out)
{
  const __m256 zero = _mm256_setzero_ps ();

  EACH_P (PANEL_PTR)
  EACH_V (LOAD_B)
  EACH_RV (INIT)

  for (size_t k = 0; k < wt->cols; k++)
    {
      LOAD_WS
      EACH_V (PIN_W)
      EACH_R (ROW)
    }

  if (n_out == (uint32_t) (PANEL * P))
    {
      EACH_RV (STORE)
    }
  else
    {
      /* Only the last panel of W can be partial. Its padding outputs must
       * not be written, since y may be a slice of a wider row, hence the
       * masked stores. */
      const __m256i lane = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);
      const __m256i limit = _mm256_set1_epi32 ((int) n_out);

      EACH_V (MASK)
      EACH_RV (MASKSTORE)
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

/* Up to three rows: too few to fill the FMA units from one panel, so one
 * and two rows take tiles that widen across panels instead (1x4, 2x2),
 * narrowing at the end of W. The one-row case is the GEMV of a
 * frame-by-frame stream and is bound by the bandwidth of L2 or L3 rather
 * than by the FMAs. Three rows stay one panel wide: a 3x2 tile needs 17
 * ymm registers, and the spill clang then puts inside the k loop costs more
 * than the latency 3x1 leaves exposed. */
typedef struct {
  TileFunc func;
  uint32_t width;
} TileStep;

static RS_TARGET_AVX2 void
few_rows (const Weights *wt, uint32_t n_panels, size_t n_rows,
          const float *x, size_t ldx, float *y, size_t ldy)
{
  static const TileStep steps[3][3] = {
    { { tile_1x4, 4 }, { tile_1x2, 2 }, { tile_1x1, 1 } },
    { { tile_2x2, 2 }, { tile_2x1, 1 }, { NULL, 0 } },
    { { tile_3x1, 1 }, { NULL, 0 }, { NULL, 0 } },
  };
  uint32_t p = 0;

  for (const TileStep *s = steps[n_rows - 1]; p < n_panels; s++)
    for (; p + s->width <= n_panels; p += s->width)
      s->func (wt, p, x, ldx, y + p * PANEL, ldy, outputs_in (wt, p, s->width));
}

/* Four or more rows: split them into tiles of 4 to 6 rows, as even as
 * possible so that no tile drops below the 8 accumulators that hide the FMA
 * latency (only a block of 7 rows has to become 4 + 3). Tiles are one panel
 * wide, with the panel loop outside so each panel is reused from L1 (or L2,
 * for long rows) by every tile of the block. */
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
  size_t max_block = X_BLOCK_BYTES / (sizeof (float) * lin->cols);
  size_t n_blocks, base, n_big, m0 = 0;

  /* Blocks of (nearly) equal size: a short last block would cost a whole
   * pass over W at GEMV speed for a row or two. */
  if (max_block < 2 * MAX_R)
    max_block = 2 * MAX_R;
  n_blocks = (n_rows + max_block - 1) / max_block;
  base = n_blocks ? n_rows / n_blocks : 0;
  n_big = n_blocks ? n_rows % n_blocks : 0;

  for (size_t b = 0; b < n_blocks; b++)
    {
      const size_t mb = base + (b < n_big);
      const float *xb = x + m0 * ldx;
      float *yb = y + m0 * ldy;

      if (mb <= 3)
        few_rows (&wt, lin->n_panels, mb, xb, ldx, yb, ldy);
      else
        many_rows (&wt, lin->n_panels, mb, xb, ldx, yb, ldy);
      m0 += mb;
    }
}

#else

/* ISO C forbids an empty translation unit. */
typedef int rs_linear_avx2_unavailable;

#endif
