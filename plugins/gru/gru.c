/* The GRU cell, with exactly PyTorch's equations and gate order (r, z, n):
 *
 *   r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
 *   z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
 *   n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
 *   h' = (1 - z) * n + z * h
 *
 * Note that r multiplies W_hn h + b_hn, bias included (PyTorch's and cuDNN's
 * variant, not the original paper's), which is why the recurrent affine map
 * is kept apart from the input one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rnnstream/cell-abi.h>

#include "config.h"
#include "common/gates.h"
#include "kernels/activation.h"

struct RsCell {
  RsGates gates;
};

static RsCell *
gru_create (const RsCellSpec *spec, char *err, size_t err_len)
{
  RsCell *cell = calloc (1, sizeof *cell);

  if (cell == NULL) {
    snprintf (err, err_len, "out of memory");
    return NULL;
  }
  if (rs_gates_load (&cell->gates, spec, 3, 0, err, err_len) < 0) {
    free (cell);
    return NULL;
  }
  return cell;
}

static void
gru_free (RsCell *cell)
{
  if (cell == NULL)
    return;
  rs_gates_clear (&cell->gates);
  free (cell);
}

static void
gru_get_info (const RsCell *cell, RsCellInfo *info)
{
  rs_gates_get_info (&cell->gates, info);
}

static size_t
gru_scratch_size (const RsCell *cell, uint32_t max_frames, uint32_t n_streams)
{
  return rs_gates_scratch_size (&cell->gates, max_frames, n_streams, 0);
}

static void
gru_reset_state (const RsCell *cell, uint32_t n_streams, float *state)
{
  memset (state, 0, (size_t) n_streams * cell->gates.hidden * sizeof (float));
}

static RsCellStatus
gru_forward (const RsCell *cell, uint32_t n_frames, uint32_t n_streams,
             const float *input, size_t in_stride, float *state, float *output,
             size_t out_stride, void *scratch)
{
  const size_t H = cell->gates.hidden, G = 3 * H;
  const RsGatesScratch s = rs_gates_project_inputs (&cell->gates, n_frames, n_streams, input,
                                                    in_stride, scratch);
  float *xi = s.xi, *hh = s.hh;

  for (size_t t = 0; t < n_frames; t++) {
    rs_linear_forward (&cell->gates.hh, n_streams, state, H, hh, G);
    for (size_t b = 0; b < n_streams; b++) {
      const float *x = xi + (t * n_streams + b) * G;
      float *g = hh + b * G, *h = state + b * H;
      float *out = output + (t * n_streams + b) * out_stride;

      for (size_t j = 0; j < 2 * H; j++)
        g[j] += x[j];
      rs_sigmoid (g, 2 * H);
      for (size_t j = 0; j < H; j++)
        g[2 * H + j] = x[2 * H + j] + g[j] * g[2 * H + j];
      rs_tanh (g + 2 * H, H);
      for (size_t j = 0; j < H; j++) {
        const float z = g[H + j], n = g[2 * H + j];
        h[j] = (1.0f - z) * n + z * h[j];
      }
      memcpy (out, h, H * sizeof (float));
    }
  }
  return RS_CELL_OK;
}

static const RsCellDescriptor gru_descriptor = {
  .abi_major = RS_CELL_ABI_MAJOR,
  .abi_minor = RS_CELL_ABI_MINOR,
  .size = sizeof (RsCellDescriptor),
  .name = "gru",
  .version = PACKAGE_VERSION,
  .description = "Gated recurrent unit (PyTorch nn.GRU: gates r, z, n)",
  .create = gru_create,
  .free = gru_free,
  .get_info = gru_get_info,
  .scratch_size = gru_scratch_size,
  .reset_state = gru_reset_state,
  .forward = gru_forward,
};

RS_CELL_EXPORT const RsCellDescriptor *rs_cell_plugin_descriptor (uint32_t index);

const RsCellDescriptor *
rs_cell_plugin_descriptor (uint32_t index)
{
  return index == 0 ? &gru_descriptor : NULL;
}
