/* Backpropagation through time over a batch of sequences, whole or
 * truncated.
 *
 * Truncated BPTT here is the k1 = k2 = k form that PyTorch users write by
 * detaching the state between windows: the sequences are cut into windows
 * of k frames; each window runs forward from the state the previous one
 * left (carried, not reset), its loss is computed on its own frames and
 * backpropagated to the start of the window, where the gradient is cut.
 * With k >= the sequence length (or k = 0) it is whole-sequence BPTT.
 * (The general k2 > k1, backpropagating further than the stride, would
 * rerun overlapping frames; it is not implemented.)
 */
#ifndef RS_BPTT_H
#define RS_BPTT_H

#include <glib.h>
#include <rnnstream/export.h>
#include <rnnstream/loss.h>
#include <rnnstream/trainable.h>

G_BEGIN_DECLS

/* Computes the loss of one window and its gradient: window describes the
 * window's outputs (its lengths counted from its first frame, which is
 * frame first_frame of the batch); writes dL/d(output) in window's layout
 * to d_output and the loss to *loss. */
typedef gboolean (*RsWindowLossFunc) (const RsLossFrames *window, guint first_frame,
                                      gpointer user_data, double *loss, float *d_output,
                                      GError **error);

/* Runs the n_frames frames of the trainable's n_streams sequences (input
 * and lengths as in rs_trainable_forward) in windows of k frames (0: one
 * window), starting from the trainable's current state, adding every
 * window's gradients to the trainable's and the window losses to
 * *total_loss (the sum over windows, each reduced as the loss function
 * reduces it). The state is left after the last frame. */
RS_API gboolean rs_train_bptt (RsTrainable *trainable, guint n_frames, const float *input,
                               const guint *lengths, guint k, RsWindowLossFunc loss,
                               gpointer user_data, double *total_loss, GError **error);

/* Ready-made window losses for per-frame targets laid out for the whole
 * batch (time-major; the window's rows are taken at its offset). */
typedef enum {
  RS_FRAME_LOSS_MSE,
  RS_FRAME_LOSS_MAE,
  RS_FRAME_LOSS_CROSS_ENTROPY
} RsFrameLossKind;

typedef struct RsFrameTargets {
  RsFrameLossKind kind;
  const float *values;       /* MSE, MAE: n_frames * n_streams * width */
  const guint32 *classes;    /* cross-entropy: n_frames * n_streams */
} RsFrameTargets;

/* An RsWindowLossFunc; user_data is a const RsFrameTargets *. */
RS_API gboolean rs_frame_loss (const RsLossFrames *window, guint first_frame,
                               gpointer user_data, double *loss, float *d_output,
                               GError **error);

G_END_DECLS

#endif
