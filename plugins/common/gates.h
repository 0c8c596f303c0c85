/* The weights every PyTorch-style recurrent layer has, shared by the in-tree
 * cell plugins (a static library; not part of the plugin ABI).
 *
 * A layer with G gates and hidden size H holds
 *   weight_ih  [G*H, I]   input to gates
 *   weight_hh  [G*H, R]   recurrent input to gates; R = H, or the LSTM's
 *                         projection size
 *   bias_ih, bias_hh [G*H]  both or neither (PyTorch's bias=False has none)
 * in PyTorch's gate order, and computes, per frame, the two affine maps
 *   xi = W_ih x + b_ih   (for all frames of a block at once)
 *   hh = W_hh r + b_hh   (per frame, r being the recurrent input)
 * which stay separate because the GRU needs W_hn h + b_hn on its own.
 */
#ifndef RS_PLUGIN_GATES_H
#define RS_PLUGIN_GATES_H

#include <stddef.h>
#include <stdint.h>

#include <rnnstream/cell-abi.h>

#include "kernels/linear.h"

typedef struct RsGates {
  uint32_t n_gates;      /* G */
  uint32_t hidden;       /* H */
  uint32_t input;        /* I */
  uint32_t recurrent;    /* R */
  int has_bias;
  RsLinear ih;           /* G*H x I with b_ih */
  RsLinear hh;           /* G*H x R with b_hh */
  /* Row-major copies of W_ih and W_hh, kept only for a cell created with
   * RS_CELL_SPEC_TRAINING (NULL otherwise): the backward pass multiplies
   * by W, not W^T, and the packed panels serve only the latter's access
   * pattern. An inference cell does not pay for them. */
  float *w_ih;
  float *w_hh;
} RsGates;

/* Loads and packs the tensors above from spec, checking their presence and
 * shapes (I must equal spec->input_size). recurrent is the expected R, or 0
 * for R = H. Returns 0, or -1 with a one-line reason naming the tensor in
 * err. gates is cleared on failure. */
int rs_gates_load (RsGates *gates, const RsCellSpec *spec, uint32_t n_gates,
                   uint32_t recurrent, char *err, size_t err_len);

void rs_gates_clear (RsGates *gates);

/* Weights and biases held. */
uint64_t rs_gates_n_params (const RsGates *gates);

/* Fills info for a cell whose output and state are its hidden state (the
 * Elman cell, the GRU); the LSTM adjusts the result. */
void rs_gates_get_info (const RsGates *gates, RsCellInfo *info);

/* The scratch layout of the in-tree cells: the input projections of the
 * whole block (xi, n_frames * n_streams rows of G*H), the recurrent
 * projections of one frame (hh, n_streams rows of G*H), then extra_floats
 * per stream for the cell's own use. */
typedef struct RsGatesScratch {
  float *xi;
  float *hh;
  float *extra;
} RsGatesScratch;

size_t rs_gates_scratch_size (const RsGates *gates, uint32_t max_frames,
                              uint32_t n_streams, size_t extra_floats);

/* Carves scratch as above and computes xi = W_ih x + b_ih for every frame
 * of the block at once, as one matrix product. Real-time safe. */
RsGatesScratch rs_gates_project_inputs (const RsGates *gates, uint32_t n_frames,
                                        uint32_t n_streams, const float *input,
                                        size_t in_stride, void *scratch);

/* bytes rounded up to RS_CELL_SCRATCH_ALIGN, so that buffers carved one
 * after another out of one scratch block stay aligned. */
size_t rs_scratch_round (size_t bytes);

/* Checks that tensor t (called name) exists and has shape [rows, cols]
 * (cols == 0: a vector of rows). Returns 0, or -1 with a reason in err. */
int rs_tensor_check (const RsCellTensor *t, const char *name, uint64_t rows,
                     uint64_t cols, char *err, size_t err_len);

#endif
