/* Portable activations and dispatch of the public entry points. */
#include <math.h>

#include "activation.h"
#include "internal.h"

void
rs_sigmoid (float *x, size_t n)
{
  rs_kernels_active ()->sigmoid (x, n);
}

void
rs_tanh (float *x, size_t n)
{
  rs_kernels_active ()->tanh (x, n);
}

void
rs_relu (float *x, size_t n)
{
  rs_kernels_active ()->relu (x, n);
}

/* exp is only ever taken of -|x|, so it cannot overflow, and for x < 0 the
 * form e / (1 + e) keeps full relative accuracy where the result is tiny
 * instead of rounding 1 - 1/(1 + e) to zero. */
void
rs_sigmoid_generic (float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      const float v = x[i];
      const float e = expf (-fabsf (v));

      x[i] = (signbit (v) ? e : 1.0f) / (1.0f + e);
    }
}

void
rs_tanh_generic (float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = tanhf (x[i]);
}

/* Written as a comparison, not fmaxf, because fmaxf returns the other
 * operand when one is NaN and NaN must pass through. */
void
rs_relu_generic (float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = x[i] < 0.0f ? 0.0f : x[i];
}
