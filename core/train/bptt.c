/* Whole and truncated backpropagation through time (see rnnstream/bptt.h). */
#include "config.h"

#include "rnnstream/bptt.h"
#include "rnnstream/error.h"

gboolean
rs_train_bptt (RsTrainable *t, guint n_frames, const float *input, const guint *lengths,
               guint k, RsWindowLossFunc loss, gpointer user_data, double *total_loss,
               GError **error)
{
  const guint B = rs_trainable_n_streams (t), I = rs_trainable_input_size (t);
  const guint O = rs_trainable_output_size (t);
  g_autofree float *output = NULL, *d_output = NULL;
  g_autofree guint *window_lengths = g_new (guint, B);

  g_return_val_if_fail (t != NULL && input != NULL && loss != NULL && total_loss != NULL, FALSE);

  if (k == 0 || k > n_frames)
    k = n_frames;
  output = g_new (float, (gsize) k * B * O);
  d_output = g_new (float, (gsize) k * B * O);
  for (guint start = 0; start < n_frames; start += k) {
    const guint len = MIN (k, n_frames - start);
    RsLossFrames window = { len, B, O, lengths ? window_lengths : NULL, output };
    double window_loss = 0.0;

    /* A sequence that ended before this window is all padding in it: its
     * state stays where its last frame left it. */
    for (guint b = 0; lengths != NULL && b < B; b++)
      window_lengths[b] = lengths[b] > start ? MIN (lengths[b] - start, len) : 0;
    if (!rs_trainable_forward (t, len, input + (gsize) start * B * I,
                               lengths ? window_lengths : NULL, output, error))
      return FALSE;
    if (!loss (&window, start, user_data, &window_loss, d_output, error))
      return FALSE;
    /* NULL final-state gradient: the cut at the window's end. */
    if (!rs_trainable_backward (t, d_output, NULL, NULL, error))
      return FALSE;
    *total_loss += window_loss;
  }
  return TRUE;
}

gboolean
rs_frame_loss (const RsLossFrames *window, guint first_frame, gpointer user_data,
               double *loss, float *d_output, GError **error)
{
  const RsFrameTargets *targets = user_data;
  const gsize rows = (gsize) first_frame * window->n_streams;

  switch (targets->kind) {
  case RS_FRAME_LOSS_MSE:
    *loss = rs_loss_mse (window, targets->values + rows * window->width, d_output);
    return TRUE;
  case RS_FRAME_LOSS_MAE:
    *loss = rs_loss_mae (window, targets->values + rows * window->width, d_output);
    return TRUE;
  case RS_FRAME_LOSS_CROSS_ENTROPY:
    return rs_loss_cross_entropy (window, targets->classes + rows, loss, d_output, error);
  default:
    g_return_val_if_reached (FALSE);
  }
}
