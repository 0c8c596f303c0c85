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
 *
 * Training (RsCellTrain). With hn = W_hn h + b_hn and a_n = x_n + r * hn:
 *   dn = dh' (1 - z),  dz = dh' (h - n),  dh = dh' z + (recurrent part)
 *   da_n = dn (1 - n^2),  dr = da_n hn,  dhn = da_n r
 *   da_r = dr r (1 - r),  da_z = dz z (1 - z)
 * The input side's gradient is dGx = [da_r, da_z, da_n]; the recurrent
 * side's is dGh = [da_r, da_z, dhn], since r scales hn, bias included, and
 * the recurrent part of dh is dGh W_hh.
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

/* Workspace: the inference scratch, h before each frame and after the last
 * (hs, T+1 row blocks), the gates r, z, n of every frame (3H per row), hn
 * (H per row), dGh (3H per row), a running dh and W_hh packed for
 * backward's recurrent products. backward writes dGx into the input
 * projections' space. */
typedef struct {
  RsGatesScratch s;
  float *hs, *gates, *hn, *dgh, *dh;
  float *w_hh_packed;      /* backward's packed W_hh */
} GruWork;

static size_t
gru_work (const RsCell *cell, uint32_t n_frames, uint32_t n_streams, void *base, GruWork *w)
{
  const size_t H = cell->gates.hidden, rows = (size_t) n_frames * n_streams;
  RsWorkspace ws = { base, rs_gates_scratch_size (&cell->gates, n_frames, n_streams, 0) };

  w->hs = rs_workspace_take (&ws, rows * H + (size_t) n_streams * H);
  w->gates = rs_workspace_take (&ws, rows * 3 * H);
  w->hn = rs_workspace_take (&ws, rows * H);
  w->dgh = rs_workspace_take (&ws, rows * 3 * H);
  w->dh = rs_workspace_take (&ws, (size_t) n_streams * H);
  w->w_hh_packed = rs_workspace_take (&ws, rs_gates_recurrent_packed_floats (&cell->gates));
  return ws.used;
}

static size_t
gru_workspace_size (const RsCell *cell, uint32_t max_frames, uint32_t n_streams)
{
  GruWork w;
  return gru_work (cell, max_frames, n_streams, NULL, &w);
}

static int
gru_check (const RsCell *cell, char *err, size_t err_len)
{
  return rs_gates_check_trainable (&cell->gates, "gru", err, err_len);
}

static RsCellStatus
gru_train_forward (const RsCell *cell, uint32_t n_frames, uint32_t n_streams,
                   const uint32_t *lengths, const float *input, size_t in_stride,
                   float *state, float *output, size_t out_stride, void *workspace)
{
  const size_t H = cell->gates.hidden, G = 3 * H, B = n_streams;
  GruWork w;

  gru_work (cell, n_frames, n_streams, workspace, &w);
  w.s = rs_gates_project_inputs (&cell->gates, n_frames, n_streams, input, in_stride, workspace);
  memcpy (w.hs, state, B * H * sizeof (float));
  for (size_t t = 0; t < n_frames; t++) {
    const float *h_in = w.hs + t * B * H;
    float *h_out = w.hs + (t + 1) * B * H;

    rs_linear_forward (&cell->gates.hh, B, h_in, H, w.s.hh, G);
    for (size_t b = 0; b < B; b++) {
      const size_t row = t * B + b;
      const float *x = w.s.xi + row * G, *h = h_in + b * H;
      float *g = w.s.hh + b * G, *keep = w.gates + row * G, *hn = w.hn + row * H;
      float *out = output + row * out_stride;

      if (!rs_frame_active (lengths, t, b)) {
        memcpy (h_out + b * H, h, H * sizeof (float));
        memset (out, 0, H * sizeof (float));
        continue;
      }
      memcpy (hn, g + 2 * H, H * sizeof (float));
      for (size_t j = 0; j < 2 * H; j++)
        g[j] += x[j];
      rs_train_sigmoid (g, 2 * H);
      for (size_t j = 0; j < H; j++)
        g[2 * H + j] = x[2 * H + j] + g[j] * g[2 * H + j];
      rs_train_tanh (g + 2 * H, H);
      for (size_t j = 0; j < H; j++) {
        const float z = g[H + j], n = g[2 * H + j];
        h_out[b * H + j] = (1.0f - z) * n + z * h[j];
      }
      memcpy (keep, g, G * sizeof (float));
      memcpy (out, h_out + b * H, H * sizeof (float));
    }
  }
  memcpy (state, w.hs + (size_t) n_frames * B * H, B * H * sizeof (float));
  return RS_CELL_OK;
}

static RsCellStatus
gru_backward (const RsCell *cell, uint32_t n_frames, uint32_t n_streams,
              const uint32_t *lengths, const float *input, size_t in_stride,
              const float *d_output, size_t dout_stride, float *d_state, float *d_input,
              size_t din_stride, float *const *grads, void *workspace)
{
  const size_t H = cell->gates.hidden, G = 3 * H, B = n_streams;
  GruWork w;
  float *dgx;

  if (cell->gates.w_hh == NULL)
    return RS_CELL_ERROR_ARGUMENT;
  gru_work (cell, n_frames, n_streams, workspace, &w);
  dgx = workspace;
  rs_gates_pack_recurrent (&cell->gates, w.w_hh_packed);
  for (size_t t = n_frames; t-- > 0;) {
    for (size_t b = 0; b < B; b++) {
      const size_t row = t * B + b;
      const float *h = w.hs + row * H, *g = w.gates + row * G, *hn = w.hn + row * H;
      const float *dy = d_output + row * dout_stride;
      float *dx = dgx + row * G, *dr = w.dgh + row * G, *dh = d_state + b * H;

      if (!rs_frame_active (lengths, t, b)) {
        memset (dx, 0, G * sizeof (float));
        memset (dr, 0, G * sizeof (float));
        continue;
      }
      for (size_t j = 0; j < H; j++) {
        const float r = g[j], z = g[H + j], n = g[2 * H + j];
        const float d = dh[j] + dy[j];
        const float da_n = d * (1.0f - z) * (1.0f - n * n);
        const float da_r = da_n * hn[j] * r * (1.0f - r);
        const float da_z = d * (h[j] - n) * z * (1.0f - z);

        dx[j] = dr[j] = da_r;
        dx[H + j] = dr[H + j] = da_z;
        dx[2 * H + j] = da_n;
        dr[2 * H + j] = da_n * r;
        /* The direct path h' = ... + z h; the recurrent one is added below. */
        w.dh[b * H + j] = d * z;
      }
    }
    /* dh_prev = d z + dGh_t W_hh for the active rows; inactive rows have
     * dGh = 0 and keep their gradient. */
    for (size_t b = 0; b < B; b++)
      if (rs_frame_active (lengths, t, b))
        memcpy (d_state + b * H, w.dh + b * H, H * sizeof (float));
    rs_gates_backward_recurrent (&cell->gates, w.w_hh_packed, B, w.dgh + t * B * G, d_state, H);
  }
  rs_gates_backward_weights (&cell->gates, (size_t) n_frames * B, dgx, w.dgh, input, in_stride,
                             w.hs, H, d_input, din_stride, grads);
  return RS_CELL_OK;
}

static uint32_t
gru_n_params (const RsCell *cell)
{
  return rs_gates_n_tensors (&cell->gates);
}

static void
gru_describe_param (const RsCell *cell, uint32_t index, RsCellParam *param)
{
  rs_gates_describe_param (&cell->gates, index, param);
}

static void
gru_get_param (const RsCell *cell, uint32_t index, float *values)
{
  rs_gates_get_param (&cell->gates, index, values);
}

static void
gru_set_param (RsCell *cell, uint32_t index, const float *values)
{
  rs_gates_set_param (&cell->gates, index, values);
}

static const RsCellTrain gru_train = {
  .size = sizeof (RsCellTrain),
  .check = gru_check,
  .n_params = gru_n_params,
  .describe_param = gru_describe_param,
  .workspace_size = gru_workspace_size,
  .train_forward = gru_train_forward,
  .backward = gru_backward,
  .get_param = gru_get_param,
  .set_param = gru_set_param,
};

static const void *
gru_extension_data (const char *uri)
{
  return strcmp (uri, RS_CELL_TRAIN_URI) == 0 ? &gru_train : NULL;
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
  .extension_data = gru_extension_data,
};

RS_CELL_EXPORT const RsCellDescriptor *rs_cell_plugin_descriptor (uint32_t index);

const RsCellDescriptor *
rs_cell_plugin_descriptor (uint32_t index)
{
  return index == 0 ? &gru_descriptor : NULL;
}
