/* Shared pieces of the in-tree cells' training extension. */
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/gemm.h"

uint32_t
rs_gates_n_tensors (const RsGates *gates)
{
  return gates->has_bias ? 4 : 2;
}

static const char *const param_names[] = { "weight_ih", "weight_hh", "bias_ih", "bias_hh" };

void
rs_gates_describe_param (const RsGates *gates, uint32_t index, RsCellParam *param)
{
  const uint64_t rows = (uint64_t) gates->n_gates * gates->hidden;

  memset (param, 0, sizeof *param);
  param->name = param_names[index];
  param->ndim = index < 2 ? 2 : 1;
  param->shape[0] = rows;
  param->shape[1] = index == 0 ? gates->input : index == 1 ? gates->recurrent : 0;
}

void
rs_gates_get_param (const RsGates *gates, uint32_t index, float *values)
{
  const size_t rows = (size_t) gates->n_gates * gates->hidden;

  switch (index) {
  case 0:
    rs_linear_unpack (&gates->ih, values, gates->input, NULL);
    break;
  case 1:
    rs_linear_unpack (&gates->hh, values, gates->recurrent, NULL);
    break;
  default:
    memcpy (values, (index == 2 ? gates->ih : gates->hh).bias, rows * sizeof (float));
    break;
  }
}

void
rs_gates_set_param (RsGates *gates, uint32_t index, const float *values)
{
  const size_t rows = (size_t) gates->n_gates * gates->hidden;

  switch (index) {
  case 0:
    memcpy (gates->w_ih, values, rows * gates->input * sizeof (float));
    rs_linear_pack (&gates->ih, gates->w_ih, gates->input, gates->ih.bias);
    break;
  case 1:
    memcpy (gates->w_hh, values, rows * gates->recurrent * sizeof (float));
    rs_linear_pack (&gates->hh, gates->w_hh, gates->recurrent, gates->hh.bias);
    break;
  default:
    /* The packed bias is a plain vector (padded past rows): no repacking. */
    memcpy ((index == 2 ? gates->ih : gates->hh).bias, values, rows * sizeof (float));
    break;
  }
}

int
rs_gates_check_trainable (const RsGates *gates, const char *cell_name, char *err,
                          size_t err_len)
{
  if (gates->w_ih == NULL || gates->w_hh == NULL) {
    snprintf (err, err_len, "this %s cell was created for inference only (create it with "
              "RS_CELL_SPEC_TRAINING to train it)", cell_name);
    return -1;
  }
  return 0;
}

float *
rs_workspace_take (RsWorkspace *ws, size_t n_floats)
{
  float *p = ws->base ? (float *) (ws->base + ws->used) : NULL;

  ws->used += rs_scratch_round (n_floats * sizeof (float));
  return p;
}

void
rs_gates_backward_weights (const RsGates *gates, size_t rows, const float *dgx,
                           const float *dgh, const float *input, size_t in_stride,
                           const float *r_prev, size_t ld_r, float *d_input,
                           size_t din_stride, float *const *grads)
{
  const size_t G = (size_t) gates->n_gates * gates->hidden;
  const size_t I = gates->input, R = gates->recurrent;

  rs_gemm_tn_acc (G, I, rows, dgx, G, input, in_stride, grads[0], I);
  rs_gemm_tn_acc (G, R, rows, dgh, G, r_prev, ld_r, grads[1], R);
  if (gates->has_bias) {
    rs_colsum_acc (rows, G, dgx, G, grads[2]);
    rs_colsum_acc (rows, G, dgh, G, grads[3]);
  }
  if (d_input != NULL) {
    for (size_t m = 0; m < rows; m++)
      memset (d_input + m * din_stride, 0, I * sizeof (float));
    rs_gemm_nn_acc (rows, I, G, dgx, G, gates->w_ih, I, d_input, din_stride);
  }
}

void
rs_gates_backward_recurrent (const RsGates *gates, size_t n_streams, const float *dgh_t,
                             float *d_prev, size_t ld_d)
{
  const size_t G = (size_t) gates->n_gates * gates->hidden, R = gates->recurrent;

  rs_gemm_nn_acc (n_streams, R, G, dgh_t, G, gates->w_hh, R, d_prev, ld_d);
}

void
rs_train_sigmoid (float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = 1.0f / (1.0f + expf (-x[i]));
}

void
rs_train_tanh (float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = tanhf (x[i]);
}

void
rs_train_relu (float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = x[i] > 0.0f ? x[i] : x[i] == x[i] ? 0.0f : x[i];
}
