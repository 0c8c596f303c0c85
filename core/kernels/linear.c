/* Weight packing, the portable microkernel and dispatch of
 * rs_linear_forward. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "linear.h"

/* The portable kernel promises a separate multiply and add. GCC fuses
 * across statements unless built with -ffp-contract=off (its default in
 * ISO C mode), which the build sets; clang honours the standard pragma. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define PANEL RS_LINEAR_PANEL

static void *
alloc_aligned (size_t n_floats)
{
  /* Every size requested here is a whole number of 16-float panel rows,
   * i.e. a multiple of 64 bytes, as aligned_alloc requires. */
  return aligned_alloc (64, n_floats * sizeof (float));
}

int
rs_linear_init (RsLinear *lin, uint32_t rows, uint32_t cols,
                const float *w, size_t w_stride, const float *bias)
{
  uint32_t n_panels = rows / PANEL + (rows % PANEL != 0);
  size_t panel_floats = (size_t) cols * PANEL;

  memset (lin, 0, sizeof *lin);
  /* Choosing the kernel reads the environment and the CPU's features: do it
   * here, at load time, so the first forward call stays real-time safe. */
  (void) rs_kernels_active ();
  /* size_t may be 32 bits wide; refuse sizes whose byte count would wrap
   * rather than allocate a short buffer. */
  if (n_panels != 0 && panel_floats > SIZE_MAX / sizeof (float) / n_panels)
    return -1;

  lin->packed = alloc_aligned (panel_floats * n_panels);
  lin->bias = alloc_aligned ((size_t) n_panels * PANEL);
  if (lin->packed == NULL || lin->bias == NULL)
    {
      rs_linear_clear (lin);
      return -1;
    }
  lin->rows = rows;
  lin->cols = cols;
  lin->n_panels = n_panels;
  rs_linear_pack (lin, w, w_stride, bias);
  return 0;
}

void
rs_linear_pack (RsLinear *lin, const float *w, size_t w_stride, const float *bias)
{
  const size_t panel_floats = (size_t) lin->cols * PANEL;
  const uint32_t rows = lin->rows, cols = lin->cols;

  for (uint32_t p = 0; p < lin->n_panels; p++)
    {
      float *panel = lin->packed + p * panel_floats;

      for (uint32_t i = 0; i < PANEL; i++)
        {
          const uint32_t j = p * PANEL + i;

          /* Padding rows are zero so the kernels can always compute whole
           * panels; their outputs are simply never stored. */
          if (j < rows)
            {
              const float *wj = w + (size_t) j * w_stride;

              for (uint32_t k = 0; k < cols; k++)
                panel[(size_t) k * PANEL + i] = wj[k];
            }
          else
            {
              for (uint32_t k = 0; k < cols; k++)
                panel[(size_t) k * PANEL + i] = 0.0f;
            }
          lin->bias[j] = j < rows && bias != NULL ? bias[j] : 0.0f;
        }
    }
}

void
rs_linear_unpack (const RsLinear *lin, float *w, size_t w_stride, float *bias)
{
  const size_t panel_floats = (size_t) lin->cols * PANEL;

  for (uint32_t j = 0; j < lin->rows; j++)
    {
      const float *panel = lin->packed + (j / PANEL) * panel_floats;

      for (uint32_t k = 0; k < lin->cols; k++)
        w[(size_t) j * w_stride + k] = panel[(size_t) k * PANEL + j % PANEL];
      if (bias != NULL)
        bias[j] = lin->bias[j];
    }
}

void
rs_linear_clear (RsLinear *lin)
{
  free (lin->packed);
  free (lin->bias);
  memset (lin, 0, sizeof *lin);
}

void
rs_linear_forward (const RsLinear *lin, size_t n_rows,
                   const float *x, size_t ldx, float *y, size_t ldy)
{
  rs_kernels_active ()->linear_forward (lin, n_rows, x, ldx, y, ldy);
}

/* One row of x against one panel. The 16 accumulators are independent, so
 * the compiler may vectorise the inner loop without changing any result:
 * each lane still sees b, then + x[0]*w, + x[1]*w, ... in order. */
static void
panel_row_generic (const float *restrict panel, const float *restrict bias,
                   const float *restrict x, uint32_t cols,
                   float *restrict y, uint32_t n_out)
{
  float acc[PANEL];

  for (uint32_t i = 0; i < PANEL; i++)
    acc[i] = bias[i];
  for (uint32_t k = 0; k < cols; k++)
    {
      const float xk = x[k];
      const float *wk = panel + (size_t) k * PANEL;

      for (uint32_t i = 0; i < PANEL; i++)
        {
          const float prod = xk * wk[i];
          acc[i] = acc[i] + prod;
        }
    }
  for (uint32_t i = 0; i < n_out; i++)
    y[i] = acc[i];
}

void
rs_linear_forward_generic (const RsLinear *lin, size_t n_rows,
                           const float *x, size_t ldx, float *y, size_t ldy)
{
  const size_t panel_floats = (size_t) lin->cols * PANEL;

  /* Panels outermost so that one panel stays in cache while every row of
   * the block passes over it. */
  for (uint32_t p = 0; p < lin->n_panels; p++)
    {
      const uint32_t j0 = p * PANEL;
      const uint32_t n_out = lin->rows - j0 < PANEL ? lin->rows - j0 : PANEL;

      for (size_t m = 0; m < n_rows; m++)
        panel_row_generic (lin->packed + p * panel_floats, lin->bias + j0,
                           x + m * ldx, lin->cols, y + m * ldy + j0, n_out);
    }
}
