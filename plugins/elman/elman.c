/* The Elman cell (PyTorch nn.RNN), in its two variants:
 *
 *   rnn_tanh:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
 *   rnn_relu:  h' = relu(W_ih x + b_ih + W_hh h + b_hh)
 *
 * One module exports both descriptors: the cells differ only in the
 * nonlinearity, which each descriptor binds at create time.
 *
 * Training (RsCellTrain): with a = W_ih x + b_ih + W_hh h + b_hh and
 * h' = f(a), backward gives da = dh' * f'(a), where f'(a) follows from the
 * output alone: 1 - h'^2 for tanh, [h' > 0] for ReLU (PyTorch's choice of
 * 0 at a = 0). dh (previous frame) = da W_hh, and the weight gradients are
 * the shared block products of common/train.h with dGx = dGh = da.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rnnstream/cell-abi.h>

#include "config.h"
#include "common/gates.h"
#include "common/train.h"
#include "kernels/activation.h"

struct RsCell {
  RsGates gates;
  void (*activate) (float *x, size_t n);
  int relu;
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
  cell->relu = activate == rs_relu;
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

/* Workspace: the inference scratch (input projections of the block and one
 * frame's recurrent projections), then h before every frame and after the
 * last (h_{-1}, h_0, ..., h_{T-1}: row block t holds the state frame t
 * read), and W_hh packed for backward's recurrent products. backward
 * reuses the input projections' space for da. */
typedef struct {
  RsGatesScratch s;
  float *hs;
  float *w_hh_packed;      /* backward's packed W_hh */
} ElmanWork;

static size_t
elman_work (const RsCell *cell, uint32_t n_frames, uint32_t n_streams, void *base,
            ElmanWork *w)
{
  const size_t H = cell->gates.hidden;
  RsWorkspace ws = { base, rs_gates_scratch_size (&cell->gates, n_frames, n_streams, 0) };

  w->hs = rs_workspace_take (&ws, (n_frames + 1) * (size_t) n_streams * H);
  w->w_hh_packed = rs_workspace_take (&ws, rs_gates_recurrent_packed_floats (&cell->gates));
  return ws.used;
}

static size_t
elman_workspace_size (const RsCell *cell, uint32_t max_frames, uint32_t n_streams)
{
  ElmanWork w;
  return elman_work (cell, max_frames, n_streams, NULL, &w);
}

static int
elman_check (const RsCell *cell, char *err, size_t err_len)
{
  return rs_gates_check_trainable (&cell->gates, cell->relu ? "rnn_relu" : "rnn_tanh", err,
                                   err_len);
}

static RsCellStatus
elman_train_forward (const RsCell *cell, uint32_t n_frames, uint32_t n_streams,
                     const uint32_t *lengths, const float *input, size_t in_stride,
                     float *state, float *output, size_t out_stride, void *workspace)
{
  const size_t H = cell->gates.hidden, B = n_streams;
  ElmanWork w;

  elman_work (cell, n_frames, n_streams, workspace, &w);
  w.s = rs_gates_project_inputs (&cell->gates, n_frames, n_streams, input, in_stride, workspace);
  memcpy (w.hs, state, B * H * sizeof (float));
  for (size_t t = 0; t < n_frames; t++) {
    float *h_in = w.hs + t * B * H, *h_out = h_in + B * H;

    rs_linear_forward (&cell->gates.hh, B, h_in, H, w.s.hh, H);
    for (size_t b = 0; b < B; b++) {
      float *g = w.s.hh + b * H, *out = output + (t * B + b) * out_stride;
      const float *x = w.s.xi + (t * B + b) * H;

      if (!rs_frame_active (lengths, t, b)) {
        memcpy (h_out + b * H, h_in + b * H, H * sizeof (float));
        memset (out, 0, H * sizeof (float));
        continue;
      }
      for (size_t j = 0; j < H; j++)
        g[j] += x[j];
      (cell->relu ? rs_train_relu : rs_train_tanh) (g, H);
      memcpy (h_out + b * H, g, H * sizeof (float));
      memcpy (out, g, H * sizeof (float));
    }
  }
  memcpy (state, w.hs + (size_t) n_frames * B * H, B * H * sizeof (float));
  return RS_CELL_OK;
}

static RsCellStatus
elman_backward (const RsCell *cell, uint32_t n_frames, uint32_t n_streams,
                const uint32_t *lengths, const float *input, size_t in_stride,
                const float *d_output, size_t dout_stride, float *d_state, float *d_input,
                size_t din_stride, float *const *grads, void *workspace)
{
  const size_t H = cell->gates.hidden, B = n_streams;
  ElmanWork w;
  float *da;

  if (cell->gates.w_hh == NULL)
    return RS_CELL_ERROR_ARGUMENT;
  elman_work (cell, n_frames, n_streams, workspace, &w);
  da = workspace;   /* the input projections' space, no longer needed */
  rs_gates_pack_recurrent (&cell->gates, w.w_hh_packed);
  for (size_t t = n_frames; t-- > 0;) {
    float *da_t = da + t * B * H;

    for (size_t b = 0; b < B; b++) {
      const float *h = w.hs + ((t + 1) * B + b) * H, *dy = d_output + (t * B + b) * dout_stride;
      float *dh = d_state + b * H, *d = da_t + b * H;

      if (!rs_frame_active (lengths, t, b)) {
        memset (d, 0, H * sizeof (float));
        continue;
      }
      for (size_t j = 0; j < H; j++) {
        const float g = dh[j] + dy[j];
        d[j] = cell->relu ? (h[j] > 0.0f ? g : 0.0f) : g * (1.0f - h[j] * h[j]);
      }
    }
    /* dh_prev = da W_hh for the active rows; inactive rows have da = 0
     * and keep their gradient. */
    for (size_t b = 0; b < B; b++)
      if (rs_frame_active (lengths, t, b))
        memset (d_state + b * H, 0, H * sizeof (float));
    rs_gates_backward_recurrent (&cell->gates, w.w_hh_packed, B, da_t, d_state, H);
  }
  rs_gates_backward_weights (&cell->gates, (size_t) n_frames * B, da, da, input, in_stride,
                             w.hs, H, d_input, din_stride, grads);
  return RS_CELL_OK;
}

static uint32_t
elman_n_params (const RsCell *cell)
{
  return rs_gates_n_tensors (&cell->gates);
}

static void
elman_describe_param (const RsCell *cell, uint32_t index, RsCellParam *param)
{
  rs_gates_describe_param (&cell->gates, index, param);
}

static void
elman_get_param (const RsCell *cell, uint32_t index, float *values)
{
  rs_gates_get_param (&cell->gates, index, values);
}

static void
elman_set_param (RsCell *cell, uint32_t index, const float *values)
{
  rs_gates_set_param (&cell->gates, index, values);
}

static const RsCellTrain elman_train = {
  .size = sizeof (RsCellTrain),
  .check = elman_check,
  .n_params = elman_n_params,
  .describe_param = elman_describe_param,
  .workspace_size = elman_workspace_size,
  .train_forward = elman_train_forward,
  .backward = elman_backward,
  .get_param = elman_get_param,
  .set_param = elman_set_param,
};

static const void *
elman_extension_data (const char *uri)
{
  return strcmp (uri, RS_CELL_TRAIN_URI) == 0 ? &elman_train : NULL;
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
    .extension_data = elman_extension_data,             \
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
