/* An inference-only cell plugin, as every ABI 1.0 plugin is: a plain Elman
 * tanh cell ("rnn_plain", weight_ih and weight_hh, no biases) with no
 * extension_data. Models of it must load and run; training them must be
 * refused with an error naming the cell and this file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rnnstream/cell-abi.h>

struct RsCell {
  uint32_t input, hidden;
  float *w_ih, *w_hh;
};

static RsCell *
plain_create (const RsCellSpec *spec, char *err, size_t err_len)
{
  const RsCellTensor *ih = spec->tensor (spec->user_data, "weight_ih");
  const RsCellTensor *hh = spec->tensor (spec->user_data, "weight_hh");
  RsCell *cell;

  if (ih == NULL || hh == NULL || ih->ndim != 2 || hh->ndim != 2 ||
      ih->shape[1] != spec->input_size || hh->shape[0] != hh->shape[1] ||
      ih->shape[0] != hh->shape[0]) {
    snprintf (err, err_len, "weight_ih and weight_hh must be [H, I] and [H, H]");
    return NULL;
  }
  cell = calloc (1, sizeof *cell);
  cell->input = spec->input_size;
  cell->hidden = (uint32_t) hh->shape[0];
  cell->w_ih = malloc ((size_t) cell->hidden * cell->input * sizeof (float));
  cell->w_hh = malloc ((size_t) cell->hidden * cell->hidden * sizeof (float));
  memcpy (cell->w_ih, ih->data, (size_t) cell->hidden * cell->input * sizeof (float));
  memcpy (cell->w_hh, hh->data, (size_t) cell->hidden * cell->hidden * sizeof (float));
  return cell;
}

static void
plain_free (RsCell *cell)
{
  if (cell == NULL)
    return;
  free (cell->w_ih);
  free (cell->w_hh);
  free (cell);
}

static void
plain_get_info (const RsCell *cell, RsCellInfo *info)
{
  info->input_size = cell->input;
  info->output_size = info->state_size = info->hidden_size = cell->hidden;
  info->n_params = (uint64_t) cell->hidden * (cell->input + cell->hidden);
}

static size_t
plain_scratch_size (const RsCell *cell, uint32_t max_frames, uint32_t n_streams)
{
  (void) max_frames;
  return (size_t) n_streams * cell->hidden * sizeof (float);
}

static void
plain_reset_state (const RsCell *cell, uint32_t n_streams, float *state)
{
  memset (state, 0, (size_t) n_streams * cell->hidden * sizeof (float));
}

static RsCellStatus
plain_forward (const RsCell *cell, uint32_t n_frames, uint32_t n_streams, const float *input,
               size_t in_stride, float *state, float *output, size_t out_stride, void *scratch)
{
  const size_t H = cell->hidden, I = cell->input;
  float *a = scratch;

  for (size_t t = 0; t < n_frames; t++)
    for (size_t b = 0; b < n_streams; b++) {
      const float *x = input + (t * n_streams + b) * in_stride;
      float *h = state + b * H;

      for (size_t j = 0; j < H; j++) {
        float s = 0.0f;
        for (size_t k = 0; k < I; k++)
          s += cell->w_ih[j * I + k] * x[k];
        for (size_t k = 0; k < H; k++)
          s += cell->w_hh[j * H + k] * h[k];
        a[j] = tanhf (s);
      }
      memcpy (h, a, H * sizeof (float));
      memcpy (output + (t * n_streams + b) * out_stride, h, H * sizeof (float));
    }
  return RS_CELL_OK;
}

static const RsCellDescriptor descriptor = {
  .abi_major = RS_CELL_ABI_MAJOR,
  .abi_minor = 0,                  /* built as an ABI 1.0 plugin would be */
  .size = sizeof (RsCellDescriptor),
  .name = "rnn_plain",
  .version = "0",
  .description = "inference-only Elman cell for the training tests",
  .create = plain_create,
  .free = plain_free,
  .get_info = plain_get_info,
  .scratch_size = plain_scratch_size,
  .reset_state = plain_reset_state,
  .forward = plain_forward,
  .extension_data = NULL,
};

RS_CELL_EXPORT const RsCellDescriptor *rs_cell_plugin_descriptor (uint32_t index);

const RsCellDescriptor *
rs_cell_plugin_descriptor (uint32_t index)
{
  return index == 0 ? &descriptor : NULL;
}
