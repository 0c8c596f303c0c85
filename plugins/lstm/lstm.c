/* The LSTM cell, with exactly PyTorch's equations and gate order (i, f, g, o):
 *
 *   i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)
 *   f = sigmoid(W_if x + b_if + W_hf h + b_hf)
 *   g = tanh   (W_ig x + b_ig + W_hg h + b_hg)
 *   o = sigmoid(W_io x + b_io + W_ho h + b_ho)
 *   c' = f * c + i * g
 *   h' = o * tanh(c')            and, with proj_size P > 0,  h' = W_hr (o * tanh(c'))
 *
 * With a projection (PyTorch's proj_size, tensor weight_hr [P, H], no bias)
 * the recurrent input and the output are P wide while the cell state stays
 * H wide.
 *
 * Per-stream state: [h (P, or H without projection) | c (H)], h first so the
 * recurrent affine map can read h straight out of the state array.
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
  uint32_t out;          /* width of h: P with projection, else H */
  int has_proj;
  RsLinear proj;         /* P x H, no bias */
};

static void lstm_free (RsCell *cell);

/* Reads the projection weight_hr [P, H] once the gates have fixed H. */
static int
load_projection (RsCell *cell, const RsCellTensor *w_hr, char *err, size_t err_len)
{
  const uint32_t P = cell->gates.recurrent, H = cell->gates.hidden;

  if (rs_tensor_check (w_hr, "weight_hr", P, H, err, err_len) < 0)
    return -1;
  if (P >= H) {
    snprintf (err, err_len, "tensor weight_hr projects %u to %u: proj_size must be smaller "
              "than hidden_size", H, P);
    return -1;
  }
  if (rs_linear_init (&cell->proj, P, H, w_hr->data, H, NULL) < 0) {
    snprintf (err, err_len, "out of memory");
    return -1;
  }
  cell->has_proj = 1;
  return 0;
}

static RsCell *
lstm_create (const RsCellSpec *spec, char *err, size_t err_len)
{
  const RsCellTensor *w_hr = spec->tensor (spec->user_data, "weight_hr");
  uint32_t recurrent = 0;
  RsCell *cell = calloc (1, sizeof *cell);

  if (cell == NULL) {
    snprintf (err, err_len, "out of memory");
    return NULL;
  }
  if (w_hr != NULL) {
    /* The projection's height is the recurrent width: read it before the
     * gates so their shapes can be checked against it. */
    if (w_hr->ndim != 2 || w_hr->shape[0] == 0 || w_hr->shape[0] > UINT32_MAX) {
      snprintf (err, err_len, "tensor weight_hr is not a [proj_size, hidden_size] matrix");
      goto fail;
    }
    recurrent = (uint32_t) w_hr->shape[0];
  }
  if (rs_gates_load (&cell->gates, spec, 4, recurrent, err, err_len) < 0)
    goto fail;
  cell->out = cell->gates.recurrent;
  if (w_hr != NULL && load_projection (cell, w_hr, err, err_len) < 0)
    goto fail;
  return cell;

fail:
  lstm_free (cell);
  return NULL;
}

static void
lstm_free (RsCell *cell)
{
  if (cell == NULL)
    return;
  rs_gates_clear (&cell->gates);
  rs_linear_clear (&cell->proj);
  free (cell);
}

static void
lstm_get_info (const RsCell *cell, RsCellInfo *info)
{
  rs_gates_get_info (&cell->gates, info);
  info->output_size = cell->out;
  info->state_size = cell->out + cell->gates.hidden;
  info->n_params += cell->has_proj ? (uint64_t) cell->out * cell->gates.hidden : 0;
}

/* Extra scratch: o * tanh(c) of one frame, the projection's input. */
static size_t
lstm_scratch_size (const RsCell *cell, uint32_t max_frames, uint32_t n_streams)
{
  return rs_gates_scratch_size (&cell->gates, max_frames, n_streams, cell->gates.hidden);
}

static void
lstm_reset_state (const RsCell *cell, uint32_t n_streams, float *state)
{
  memset (state, 0, (size_t) n_streams * (cell->out + cell->gates.hidden) * sizeof (float));
}

static RsCellStatus
lstm_forward (const RsCell *cell, uint32_t n_frames, uint32_t n_streams,
              const float *input, size_t in_stride, float *state, float *output,
              size_t out_stride, void *scratch)
{
  const size_t H = cell->gates.hidden, G = 4 * H, P = cell->out, S = P + H;
  const RsGatesScratch s = rs_gates_project_inputs (&cell->gates, n_frames, n_streams, input,
                                                    in_stride, scratch);
  float *xi = s.xi, *hh = s.hh, *full = s.extra;

  for (size_t t = 0; t < n_frames; t++) {
    rs_linear_forward (&cell->gates.hh, n_streams, state, S, hh, G);
    for (size_t b = 0; b < n_streams; b++) {
      const float *x = xi + (t * n_streams + b) * G;
      float *g = hh + b * G, *h = state + b * S, *c = h + P;
      float *o_tanh_c = cell->has_proj ? full + b * H : h;

      for (size_t j = 0; j < G; j++)
        g[j] += x[j];
      rs_sigmoid (g, 2 * H);
      rs_tanh (g + 2 * H, H);
      rs_sigmoid (g + 3 * H, H);
      for (size_t j = 0; j < H; j++)
        c[j] = g[H + j] * c[j] + g[j] * g[2 * H + j];
      /* tanh(c') goes through the output-gate slot's neighbour, the
       * g slot, which is no longer needed. */
      memcpy (g + 2 * H, c, H * sizeof (float));
      rs_tanh (g + 2 * H, H);
      for (size_t j = 0; j < H; j++)
        o_tanh_c[j] = g[3 * H + j] * g[2 * H + j];
    }
    if (cell->has_proj)
      rs_linear_forward (&cell->proj, n_streams, full, H, state, S);
    for (size_t b = 0; b < n_streams; b++)
      memcpy (output + (t * n_streams + b) * out_stride, state + b * S, P * sizeof (float));
  }
  return RS_CELL_OK;
}

static const RsCellDescriptor lstm_descriptor = {
  .abi_major = RS_CELL_ABI_MAJOR,
  .abi_minor = RS_CELL_ABI_MINOR,
  .size = sizeof (RsCellDescriptor),
  .name = "lstm",
  .version = PACKAGE_VERSION,
  .description = "Long short-term memory (PyTorch nn.LSTM: gates i, f, g, o; proj_size supported)",
  .create = lstm_create,
  .free = lstm_free,
  .get_info = lstm_get_info,
  .scratch_size = lstm_scratch_size,
  .reset_state = lstm_reset_state,
  .forward = lstm_forward,
};

RS_CELL_EXPORT const RsCellDescriptor *rs_cell_plugin_descriptor (uint32_t index);

const RsCellDescriptor *
rs_cell_plugin_descriptor (uint32_t index)
{
  return index == 0 ? &lstm_descriptor : NULL;
}
