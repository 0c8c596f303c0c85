/* Whole-sequence execution, for models that cannot stream (see
 * rs_model_run_offline in rnnstream/model.h).
 *
 * A bidirectional layer runs its forward cell over the sequence as a stream
 * would, and its reverse cell over the time-reversed sequence; PyTorch
 * concatenates the two outputs per frame, [forward, reverse], and the next
 * layer reads that concatenation.
 */
#include "config.h"

#include <string.h>

#include "model-private.h"
#include "rnnstream/error.h"

/* Runs one cell over n frames of one sequence from its initial state.
 * in/out rows are in_stride/out_stride floats apart. */
static void
run_direction (const RsModel *m, const RsCell *cell, gsize n, const float *in, gsize in_stride,
               float *out, gsize out_stride, float *state, void *scratch)
{
  m->desc->reset_state (cell, 1, state);
  for (gsize t = 0; t < n; t += RS_MAX_BLOCK) {
    const guint block = (guint) MIN (n - t, RS_MAX_BLOCK);
    m->desc->forward (cell, block, 1, in + t * in_stride, in_stride, state,
                      out + t * out_stride, out_stride, scratch);
  }
}

/* dst row t = src row n-1-t, width floats per row. */
static void
reverse_rows (float *dst, gsize dst_stride, const float *src, gsize src_stride, gsize n,
              gsize width)
{
  for (gsize t = 0; t < n; t++)
    memcpy (dst + t * dst_stride, src + (n - 1 - t) * src_stride, width * sizeof (float));
}

gboolean
rs_model_run_offline (const RsModel *m, gsize n, const float *input, float *output,
                      GError **error)
{
  gsize widest = m->input_size, scratch_bytes = 0, state_floats = 0;
  g_autofree float *a = NULL, *b = NULL, *rev_in = NULL, *rev_out = NULL, *state = NULL;
  void *scratch;
  const float *in = input;
  gsize in_stride = m->input_size;

  g_return_val_if_fail (m != NULL, FALSE);
  g_return_val_if_fail (n == 0 || (input != NULL && output != NULL), FALSE);

  if (n == 0)
    return TRUE;
  for (guint l = 0; l < m->n_layers; l++) {
    widest = MAX (widest, rs_layer_width (m, l));
    state_floats = MAX (state_floats, m->layers[l].info.state_size);
    scratch_bytes = MAX (scratch_bytes, m->desc->scratch_size (m->layers[l].cells[0],
                                                               RS_MAX_BLOCK, 1));
  }
  a = g_try_malloc_n (n, widest * sizeof (float));
  b = g_try_malloc_n (n, widest * sizeof (float));
  if (m->bidirectional) {
    rev_in = g_try_malloc_n (n, widest * sizeof (float));
    rev_out = g_try_malloc_n (n, widest * sizeof (float));
  }
  if (a == NULL || b == NULL || (m->bidirectional && (rev_in == NULL || rev_out == NULL))) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "out of memory for %" G_GSIZE_FORMAT
                 " frames of %" G_GSIZE_FORMAT " values", n, widest);
    return FALSE;
  }
  state = g_new (float, state_floats);
  scratch = g_aligned_alloc (MAX (scratch_bytes, 1), 1, RS_CELL_SCRATCH_ALIGN);

  for (guint l = 0; l < m->n_layers; l++) {
    const RsLayer *layer = &m->layers[l];
    const gsize width = rs_layer_width (m, l), half = layer->info.output_size;
    const gsize in_width = l == 0 ? m->input_size : rs_layer_width (m, l - 1);
    float *out = l + 1 == m->n_layers && !m->has_head ? output : (l % 2 ? b : a);

    run_direction (m, layer->cells[0], n, in, in_stride, out, width, state, scratch);
    if (m->bidirectional) {
      reverse_rows (rev_in, in_width, in, in_stride, n, in_width);
      run_direction (m, layer->cells[1], n, rev_in, in_width, rev_out, half, state, scratch);
      reverse_rows (out + half, width, rev_out, half, n, half);
    }
    in = out;
    in_stride = width;
  }
  if (m->has_head)
    rs_linear_forward (&m->head, n, in, in_stride, output, m->output_size);
  g_aligned_free (scratch);
  return TRUE;
}
