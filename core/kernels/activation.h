/* Gate nonlinearities over vectors, in place.
 *
 * Internal to rnnstream, like linear.h. Every element is computed by the same
 * arithmetic whatever n is and wherever the element sits in the array (the
 * SIMD versions finish a ragged tail through a padded vector, not a scalar
 * loop), so results do not depend on how a block was split. Accuracy: within
 * 2e-7 absolute of the correctly rounded function over all finite inputs;
 * saturate to the right limits for large |x|; NaN in gives NaN out.
 * No allocation; real-time safe. */
#ifndef RS_KERNELS_ACTIVATION_H
#define RS_KERNELS_ACTIVATION_H

#include <stddef.h>

/* x[i] = 1 / (1 + exp(-x[i])) */
void rs_sigmoid (float *x, size_t n);

/* x[i] = tanh(x[i]) */
void rs_tanh (float *x, size_t n);

/* x[i] = max(x[i], 0) (NaN stays NaN) */
void rs_relu (float *x, size_t n);

#endif
