/* The Elman cell (PyTorch nn.RNN), in its two variants:
 *
 *   rnn_tanh:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
 *   rnn_relu:  h' = relu(W_ih x + b_ih + W_hh h + b_hh)
 *
 * One module exports both descriptors: the cells differ only in the
 * nonlinearity, which each descriptor binds at create time.
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
  void (*activate) (float *x, size_t n);
};

static RsCell *
elman_create (const RsCellSpec *spec, void (*activate) (float *, size_t),
              char *err, size_t err_len)
{
  RsCell *cell = calloc (1, sizeof *cell);

  if (cell == NULL) {
    snprintf (err, err_len, "out of memory");
    return NULL;
  }
  if (rs_gates_load (&cell->gates, spec, 1, 0, err, err_len) < 0) {
    free (cell);
    return NULL;
  }
  cell->activate = activate;
  return cell;
}

static RsCell *
elman_tanh_create (const RsCellSpec *spec, char *err, size_t err_len)
{
  return elman_create (spec, rs_tanh, err, err_len);
}

static RsCell *
elman_relu_create (const RsCellSpec *spec, char *err, size_t err_len)
{
  return elman_create (spec, rs_relu, err, err_len);
}

static void
elman_free (RsCell *cell)
{
  if (cell == NULL)
    return;
  rs_gates_clear (&cell->gates);
  free (cell);
}

static void
elman_get_info (const RsCell *cell, RsCellInfo *info)
{
  rs_gates_get_info (&cell->gates, info);
}

static size_t
elman_scratch_size (const RsCell *cell, uint32_t max_frames, uint32_t n_streams)
{
  return rs_gates_scratch_size (&cell->gates, max_frames, n_streams, 0);
}

static void
elman_reset_state (const RsCell *cell, uint32_t n_streams, float *state)
{
  memset (state, 0, (size_t) n_streams * cell->gates.hidden * sizeof (float));
}

static RsCellStatus
elman_forward (const RsCell *cell, uint32_t n_frames, uint32_t n_streams,
               const float *input, size_t in_stride, float *state, float *output,
               size_t out_stride, void *scratch)
{
  const size_t H = cell->gates.hidden;
  const RsGatesScratch s = rs_gates_project_inputs (&cell->gates, n_frames, n_streams, input,
                                                    in_stride, scratch);
  float *xi = s.xi, *hh = s.hh;

  for (size_t t = 0; t < n_frames; t++) {
    rs_linear_forward (&cell->gates.hh, n_streams, state, H, hh, H);
    for (size_t b = 0; b < n_streams; b++) {
      const float *x = xi + (t * n_streams + b) * H;
      float *g = hh + b * H;

      for (size_t j = 0; j < H; j++)
        g[j] += x[j];
      cell->activate (g, H);
      memcpy (state + b * H, g, H * sizeof (float));
      memcpy (output + (t * n_streams + b) * out_stride, g, H * sizeof (float));
    }
  }
  return RS_CELL_OK;
}

#define ELMAN_DESCRIPTOR(cell_name, create_func, text)  \
  {                                                     \
    .abi_major = RS_CELL_ABI_MAJOR,                     \
    .abi_minor = RS_CELL_ABI_MINOR,                     \
    .size = sizeof (RsCellDescriptor),                  \
    .name = cell_name,                                  \
    .version = PACKAGE_VERSION,                         \
    .description = text,                                \
    .create = create_func,                              \
    .free = elman_free,                                 \
    .get_info = elman_get_info,                         \
    .scratch_size = elman_scratch_size,                 \
    .reset_state = elman_reset_state,                   \
    .forward = elman_forward,                           \
  }

static const RsCellDescriptor elman_descriptors[] = {
  ELMAN_DESCRIPTOR ("rnn_tanh", elman_tanh_create, "Elman RNN with tanh (PyTorch nn.RNN)"),
  ELMAN_DESCRIPTOR ("rnn_relu", elman_relu_create,
                    "Elman RNN with ReLU (PyTorch nn.RNN, nonlinearity='relu')"),
};

RS_CELL_EXPORT const RsCellDescriptor *rs_cell_plugin_descriptor (uint32_t index);

const RsCellDescriptor *
rs_cell_plugin_descriptor (uint32_t index)
{
  return index < sizeof elman_descriptors / sizeof elman_descriptors[0]
           ? &elman_descriptors[index] : NULL;
}
