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
 *
 * Training (RsCellTrain), without projection (a cell with weight_hr
 * refuses training in check(); inference is unaffected). With
 * h' = o tanh(c') and c' = f c + i g:
 *   do = dh' tanh(c'),  dc' += dh' o (1 - tanh(c')^2)
 *   di = dc' g,  df = dc' c,  dg = dc' i,  dc = dc' f
 *   dG = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)]   (both sides)
 *   dh = dG W_hh
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

/* Workspace: the inference scratch, then per frame and stream h and c
 * before each frame and after the last (hs, cs: T+1 row blocks of H), the
 * activated gates i, f, g, o (4H per row), tanh(c') (H per row) and W_hh
 * packed for backward's recurrent products. backward writes dG into the
 * input projections' space. */
typedef struct {
  RsGatesScratch s;
  float *hs, *cs, *gates, *tanh_c;
  float *w_hh_packed;      /* backward's packed W_hh */
} LstmWork;

static size_t
lstm_work (const RsCell *cell, uint32_t n_frames, uint32_t n_streams, void *base, LstmWork *w)
{
  const size_t H = cell->gates.hidden, rows = (size_t) n_frames * n_streams;
  RsWorkspace ws = { base, rs_gates_scratch_size (&cell->gates, n_frames, n_streams, H) };

  w->hs = rs_workspace_take (&ws, rows * H + (size_t) n_streams * H);
  w->cs = rs_workspace_take (&ws, rows * H + (size_t) n_streams * H);
  w->gates = rs_workspace_take (&ws, rows * 4 * H);
  w->tanh_c = rs_workspace_take (&ws, rows * H);
  w->w_hh_packed = rs_workspace_take (&ws, rs_gates_recurrent_packed_floats (&cell->gates));
  return ws.used;
}

static size_t
lstm_workspace_size (const RsCell *cell, uint32_t max_frames, uint32_t n_streams)
{
  LstmWork w;
  return lstm_work (cell, max_frames, n_streams, NULL, &w);
}

static int
lstm_check (const RsCell *cell, char *err, size_t err_len)
{
  if (cell->has_proj) {
    snprintf (err, err_len, "training an lstm layer with a projection (proj_size, tensor "
              "weight_hr) is not implemented");
    return -1;
  }
  return rs_gates_check_trainable (&cell->gates, "lstm", err, err_len);
}

static RsCellStatus
lstm_train_forward (const RsCell *cell, uint32_t n_frames, uint32_t n_streams,
                    const uint32_t *lengths, const float *input, size_t in_stride,
                    float *state, float *output, size_t out_stride, void *workspace)
{
  const size_t H = cell->gates.hidden, G = 4 * H, S = 2 * H, B = n_streams;
  LstmWork w;

  if (cell->has_proj)
    return RS_CELL_ERROR_ARGUMENT;
  lstm_work (cell, n_frames, n_streams, workspace, &w);
  w.s = rs_gates_project_inputs (&cell->gates, n_frames, n_streams, input, in_stride, workspace);
  for (size_t b = 0; b < B; b++) {
    memcpy (w.hs + b * H, state + b * S, H * sizeof (float));
    memcpy (w.cs + b * H, state + b * S + H, H * sizeof (float));
  }
  for (size_t t = 0; t < n_frames; t++) {
    const float *h_in = w.hs + t * B * H, *c_in = w.cs + t * B * H;
    float *h_out = w.hs + (t + 1) * B * H, *c_out = w.cs + (t + 1) * B * H;

    rs_linear_forward (&cell->gates.hh, B, h_in, H, w.s.hh, G);
    for (size_t b = 0; b < B; b++) {
      const size_t row = t * B + b;
      const float *x = w.s.xi + row * G;
      float *g = w.s.hh + b * G, *keep = w.gates + row * G, *tc = w.tanh_c + row * H;
      float *h = h_out + b * H, *c = c_out + b * H;
      float *out = output + row * out_stride;

      if (!rs_frame_active (lengths, t, b)) {
        memcpy (h, h_in + b * H, H * sizeof (float));
        memcpy (c, c_in + b * H, H * sizeof (float));
        memset (out, 0, H * sizeof (float));
        continue;
      }
      for (size_t j = 0; j < G; j++)
        g[j] += x[j];
      rs_train_sigmoid (g, 2 * H);
      rs_train_tanh (g + 2 * H, H);
      rs_train_sigmoid (g + 3 * H, H);
      for (size_t j = 0; j < H; j++)
        c[j] = g[H + j] * c_in[b * H + j] + g[j] * g[2 * H + j];
      memcpy (tc, c, H * sizeof (float));
      rs_train_tanh (tc, H);
      for (size_t j = 0; j < H; j++)
        h[j] = g[3 * H + j] * tc[j];
      memcpy (keep, g, G * sizeof (float));
      memcpy (out, h, H * sizeof (float));
    }
  }
  for (size_t b = 0; b < B; b++) {
    memcpy (state + b * S, w.hs + ((size_t) n_frames * B + b) * H, H * sizeof (float));
    memcpy (state + b * S + H, w.cs + ((size_t) n_frames * B + b) * H, H * sizeof (float));
  }
  return RS_CELL_OK;
}

static RsCellStatus
lstm_backward (const RsCell *cell, uint32_t n_frames, uint32_t n_streams,
               const uint32_t *lengths, const float *input, size_t in_stride,
               const float *d_output, size_t dout_stride, float *d_state, float *d_input,
               size_t din_stride, float *const *grads, void *workspace)
{
  const size_t H = cell->gates.hidden, G = 4 * H, S = 2 * H, B = n_streams;
  LstmWork w;
  float *dg;

  if (cell->gates.w_hh == NULL || cell->has_proj)
    return RS_CELL_ERROR_ARGUMENT;
  lstm_work (cell, n_frames, n_streams, workspace, &w);
  dg = workspace;
  rs_gates_pack_recurrent (&cell->gates, w.w_hh_packed);
  for (size_t t = n_frames; t-- > 0;) {
    for (size_t b = 0; b < B; b++) {
      const size_t row = t * B + b;
      const float *g = w.gates + row * G, *tc = w.tanh_c + row * H;
      const float *c_prev = w.cs + row * H, *dy = d_output + row * dout_stride;
      float *d = dg + row * G, *dh = d_state + b * S, *dc = dh + H;

      if (!rs_frame_active (lengths, t, b)) {
        memset (d, 0, G * sizeof (float));
        continue;
      }
      for (size_t j = 0; j < H; j++) {
        const float i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j];
        const float dhj = dh[j] + dy[j];
        const float dcj = dc[j] + dhj * o * (1.0f - tc[j] * tc[j]);

        d[j] = dcj * gg * i * (1.0f - i);
        d[H + j] = dcj * c_prev[j] * f * (1.0f - f);
        d[2 * H + j] = dcj * i * (1.0f - gg * gg);
        d[3 * H + j] = dhj * tc[j] * o * (1.0f - o);
        dc[j] = dcj * f;
        dh[j] = 0.0f;   /* replaced by dG W_hh below */
      }
    }
    rs_gates_backward_recurrent (&cell->gates, w.w_hh_packed, B, dg + t * B * G, d_state, S);
  }
  rs_gates_backward_weights (&cell->gates, (size_t) n_frames * B, dg, dg, input, in_stride,
                             w.hs, H, d_input, din_stride, grads);
  return RS_CELL_OK;
}

/* The gates' tensors, then weight_hr [P, H] when the layer projects:
 * readable and writable even though check() refuses to train it, so that
 * the host can still copy such a model. */
static uint32_t
lstm_n_params (const RsCell *cell)
{
  return rs_gates_n_tensors (&cell->gates) + (cell->has_proj ? 1 : 0);
}

static void
lstm_describe_param (const RsCell *cell, uint32_t index, RsCellParam *param)
{
  if (index < rs_gates_n_tensors (&cell->gates)) {
    rs_gates_describe_param (&cell->gates, index, param);
    return;
  }
  memset (param, 0, sizeof *param);
  param->name = "weight_hr";
  param->ndim = 2;
  param->shape[0] = cell->out;
  param->shape[1] = cell->gates.hidden;
}

static void
lstm_get_param (const RsCell *cell, uint32_t index, float *values)
{
  if (index < rs_gates_n_tensors (&cell->gates))
    rs_gates_get_param (&cell->gates, index, values);
  else
    rs_linear_unpack (&cell->proj, values, cell->gates.hidden, NULL);
}

static void
lstm_set_param (RsCell *cell, uint32_t index, const float *values)
{
  if (index < rs_gates_n_tensors (&cell->gates))
    rs_gates_set_param (&cell->gates, index, values);
  else
    rs_linear_pack (&cell->proj, values, cell->gates.hidden, NULL);
}

static const RsCellTrain lstm_train = {
  .size = sizeof (RsCellTrain),
  .check = lstm_check,
  .n_params = lstm_n_params,
  .describe_param = lstm_describe_param,
  .workspace_size = lstm_workspace_size,
  .train_forward = lstm_train_forward,
  .backward = lstm_backward,
  .get_param = lstm_get_param,
  .set_param = lstm_set_param,
};

static const void *
lstm_extension_data (const char *uri)
{
  return strcmp (uri, RS_CELL_TRAIN_URI) == 0 ? &lstm_train : NULL;
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
  .extension_data = lstm_extension_data,
};

RS_CELL_EXPORT const RsCellDescriptor *rs_cell_plugin_descriptor (uint32_t index);

const RsCellDescriptor *
rs_cell_plugin_descriptor (uint32_t index)
{
  return index == 0 ? &lstm_descriptor : NULL;
}
