/* Loading the gate weights of a PyTorch-style recurrent layer. */
#include "gates.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
describe_shape (const RsCellTensor *t, char *buf, size_t len)
{
  size_t used = 0;

  used += (size_t) snprintf (buf, len, "[");
  for (uint32_t i = 0; i < t->ndim && used < len; i++)
    used += (size_t) snprintf (buf + used, len - used, "%s%" PRIu64, i ? ", " : "", t->shape[i]);
  if (used < len)
    snprintf (buf + used, len - used, "]");
}

int
rs_tensor_check (const RsCellTensor *t, const char *name, uint64_t rows,
                 uint64_t cols, char *err, size_t err_len)
{
  char want[64], got[96];

  if (t == NULL) {
    snprintf (err, err_len, "missing tensor %s", name);
    return -1;
  }
  if (cols == 0 ? (t->ndim == 1 && t->shape[0] == rows)
                : (t->ndim == 2 && t->shape[0] == rows && t->shape[1] == cols))
    return 0;
  if (cols == 0)
    snprintf (want, sizeof want, "[%" PRIu64 "]", rows);
  else
    snprintf (want, sizeof want, "[%" PRIu64 ", %" PRIu64 "]", rows, cols);
  describe_shape (t, got, sizeof got);
  snprintf (err, err_len, "tensor %s has shape %s, expected %s", name, got, want);
  return -1;
}

int
rs_gates_load (RsGates *gates, const RsCellSpec *spec, uint32_t n_gates,
               uint32_t recurrent, char *err, size_t err_len)
{
  const RsCellTensor *w_ih = spec->tensor (spec->user_data, "weight_ih");
  const RsCellTensor *w_hh = spec->tensor (spec->user_data, "weight_hh");
  const RsCellTensor *b_ih = spec->tensor (spec->user_data, "bias_ih");
  const RsCellTensor *b_hh = spec->tensor (spec->user_data, "bias_hh");
  uint64_t rows;

  memset (gates, 0, sizeof *gates);
  if (w_hh == NULL || w_hh->ndim != 2) {
    snprintf (err, err_len, w_hh ? "tensor weight_hh is not a matrix" : "missing tensor weight_hh");
    return -1;
  }
  rows = w_hh->shape[0];
  if (rows == 0 || rows % n_gates != 0 || rows / n_gates > UINT32_MAX / n_gates) {
    snprintf (err, err_len, "tensor weight_hh has %" PRIu64 " rows, expected %u * hidden size",
              rows, n_gates);
    return -1;
  }
  gates->n_gates = n_gates;
  gates->hidden = (uint32_t) (rows / n_gates);
  gates->input = spec->input_size;
  gates->recurrent = recurrent ? recurrent : gates->hidden;
  if (rs_tensor_check (w_ih, "weight_ih", rows, spec->input_size, err, err_len) < 0 ||
      rs_tensor_check (w_hh, "weight_hh", rows, gates->recurrent, err, err_len) < 0)
    return -1;
  if ((b_ih == NULL) != (b_hh == NULL)) {
    snprintf (err, err_len, "tensor %s without %s: a layer has both biases or neither",
              b_ih ? "bias_ih" : "bias_hh", b_ih ? "bias_hh" : "bias_ih");
    return -1;
  }
  gates->has_bias = b_ih != NULL;
  if (gates->has_bias &&
      (rs_tensor_check (b_ih, "bias_ih", rows, 0, err, err_len) < 0 ||
       rs_tensor_check (b_hh, "bias_hh", rows, 0, err, err_len) < 0))
    return -1;
  if (rs_linear_init (&gates->ih, (uint32_t) rows, gates->input, w_ih->data, gates->input,
                      b_ih ? b_ih->data : NULL) < 0 ||
      rs_linear_init (&gates->hh, (uint32_t) rows, gates->recurrent, w_hh->data,
                      gates->recurrent, b_hh ? b_hh->data : NULL) < 0) {
    rs_gates_clear (gates);
    snprintf (err, err_len, "out of memory packing %" PRIu64 " x %u weights", rows, gates->input);
    return -1;
  }
  if (RS_CELL_SPEC_HAS_FLAGS (spec) && (spec->flags & RS_CELL_SPEC_TRAINING)) {
    gates->w_ih = malloc ((size_t) rows * gates->input * sizeof (float));
    gates->w_hh = malloc ((size_t) rows * gates->recurrent * sizeof (float));
    if (gates->w_ih == NULL || gates->w_hh == NULL) {
      rs_gates_clear (gates);
      snprintf (err, err_len, "out of memory copying %" PRIu64 " x %u weights", rows,
                gates->input);
      return -1;
    }
    memcpy (gates->w_ih, w_ih->data, (size_t) rows * gates->input * sizeof (float));
    memcpy (gates->w_hh, w_hh->data, (size_t) rows * gates->recurrent * sizeof (float));
  }
  return 0;
}

void
rs_gates_clear (RsGates *gates)
{
  rs_linear_clear (&gates->ih);
  rs_linear_clear (&gates->hh);
  free (gates->w_ih);
  free (gates->w_hh);
  gates->w_ih = gates->w_hh = NULL;
}

uint64_t
rs_gates_n_params (const RsGates *gates)
{
  uint64_t rows = (uint64_t) gates->n_gates * gates->hidden;

  return rows * (gates->input + gates->recurrent) + (gates->has_bias ? 2 * rows : 0);
}

void
rs_gates_get_info (const RsGates *gates, RsCellInfo *info)
{
  info->input_size = gates->input;
  info->output_size = gates->hidden;
  info->state_size = gates->hidden;
  info->hidden_size = gates->hidden;
  info->n_params = rs_gates_n_params (gates);
}

/* Rounds a byte count up to RS_CELL_SCRATCH_ALIGN, so that buffers carved
 * out of one scratch block stay aligned. */
size_t
rs_scratch_round (size_t bytes)
{
  return (bytes + RS_CELL_SCRATCH_ALIGN - 1) / RS_CELL_SCRATCH_ALIGN * RS_CELL_SCRATCH_ALIGN;
}

size_t
rs_gates_scratch_size (const RsGates *gates, uint32_t max_frames, uint32_t n_streams,
                       size_t extra_floats)
{
  size_t g = (size_t) gates->n_gates * gates->hidden;

  return rs_scratch_round ((size_t) max_frames * n_streams * g * sizeof (float)) +
         rs_scratch_round ((size_t) n_streams * g * sizeof (float)) +
         rs_scratch_round ((size_t) n_streams * extra_floats * sizeof (float));
}

RsGatesScratch
rs_gates_project_inputs (const RsGates *gates, uint32_t n_frames, uint32_t n_streams,
                         const float *input, size_t in_stride, void *scratch)
{
  const size_t g = (size_t) gates->n_gates * gates->hidden;
  const size_t rows = (size_t) n_frames * n_streams;
  RsGatesScratch s;

  s.xi = scratch;
  s.hh = (float *) ((char *) s.xi + rs_scratch_round (rows * g * sizeof (float)));
  s.extra = (float *) ((char *) s.hh + rs_scratch_round ((size_t) n_streams * g * sizeof (float)));
  rs_linear_forward (&gates->ih, rows, input, in_stride, s.xi, g);
  return s;
}
