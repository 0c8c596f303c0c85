/* The parts of the training extension (RsCellTrain, see cell-abi.h) that
 * every in-tree cell shares: the weight tensors of RsGates by index, the
 * workspace carving, masks, and the two products every backward pass ends
 * with. A static library; not part of the plugin ABI.
 *
 * Every in-tree cell computes, per frame, gate pre-activations
 *   a = W_ih x + b_ih  (+)  W_hh r + b_hh
 * so its backward pass reduces to two gradient matrices over the block,
 * dGx (dL/d of the input-side sum) and dGh (of the recurrent side), one row
 * per frame and stream; they differ only in the GRU's candidate gate. The
 * weight gradients are then one matrix product each over all T*B rows
 * (dW_ih += dGx^T X, dW_hh += dGh^T R_prev), as PyTorch and cuDNN do,
 * instead of T small ones inside the recurrent loop.
 */
#ifndef RS_PLUGIN_TRAIN_H
#define RS_PLUGIN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include <rnnstream/cell-abi.h>

#include "gates.h"

/* Tensors in RsCellTrain numbering: weight_ih, weight_hh, then bias_ih,
 * bias_hh when the layer has biases. */
uint32_t rs_gates_n_tensors (const RsGates *gates);
void rs_gates_describe_param (const RsGates *gates, uint32_t index, RsCellParam *param);
void rs_gates_get_param (const RsGates *gates, uint32_t index, float *values);
/* Updates the row-major copy and repacks; no allocation. */
void rs_gates_set_param (RsGates *gates, uint32_t index, const float *values);

/* 0 when the gates were loaded for training, else -1 with a reason. */
int rs_gates_check_trainable (const RsGates *gates, const char *cell_name, char *err,
                              size_t err_len);

/* Carves aligned float arrays out of a workspace, one after another.
 * rs_workspace_take with base NULL only counts bytes (for workspace_size),
 * so both use the same sequence of calls. */
typedef struct RsWorkspace {
  char *base;
  size_t used;
} RsWorkspace;

float *rs_workspace_take (RsWorkspace *ws, size_t n_floats);

/* The gate nonlinearities of the training forward pass, accurate to a few
 * ulp RELATIVE like libm's (AVX2 versions where the CPU has it, libm
 * otherwise; see train.c) rather than the inference kernels
 * (kernels/activation.h). Those are within 2e-7 ABSOLUTE of the true
 * value, which is a large RELATIVE error for a gate near 0, and backward
 * multiplies by derivatives such as i (1 - i): the gradients of saturated
 * gates would carry it. The training forward is not bound by the inference
 * bit-exactness contract. */
void rs_train_sigmoid (float *x, size_t n);
void rs_train_tanh (float *x, size_t n);
void rs_train_relu (float *x, size_t n);

/* Whether frame t of stream b is active (see Masking in cell-abi.h). */
static inline int
rs_frame_active (const uint32_t *lengths, size_t t, size_t b)
{
  return lengths == NULL || t < lengths[b];
}

/* After the recurrent loop of backward, for the rows = T*B frames of the
 * block (rows of inactive frames zero in dgx and dgh):
 *   grads[0] += dGx^T X,  grads[1] += dGh^T R_prev,
 *   grads[2] += colsum dGx, grads[3] += colsum dGh   (with biases),
 *   d_input = dGx W_ih    (when d_input is not NULL).
 * r_prev row (t, b) is the recurrent input of that frame, ld_r apart. */
void rs_gates_backward_weights (const RsGates *gates, size_t rows,
                                const float *dgx, const float *dgh,
                                const float *input, size_t in_stride,
                                const float *r_prev, size_t ld_r,
                                float *d_input, size_t din_stride,
                                float *const *grads);

/* The recurrent product of backward multiplies by the same W_hh at every
 * frame, so backward packs it once, into rs_gates_recurrent_packed_floats
 * floats of its workspace (kernels/gemm.h, rs_gemm_pack_b). */
size_t rs_gates_recurrent_packed_floats (const RsGates *gates);
void rs_gates_pack_recurrent (const RsGates *gates, float *packed);

/* d_prev (n_streams x R, ld_d apart) += dGh_t W_hh: the gradient reaching
 * the previous frame's recurrent input through the recurrent weights;
 * packed as rs_gates_pack_recurrent left it. */
void rs_gates_backward_recurrent (const RsGates *gates, const float *packed, size_t n_streams,
                                  const float *dgh_t, float *d_prev, size_t ld_d);

#endif
