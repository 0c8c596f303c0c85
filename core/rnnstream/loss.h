/* Training losses over the frames of a masked mini-batch, with their
 * gradients with respect to the model's outputs.
 *
 * Outputs are time-major, as everywhere in rnnstream: frame t of sequence b
 * is row t * n_streams + b of width floats. Only the first lengths[b]
 * frames of sequence b count (lengths NULL: all n_frames); the gradient
 * rows of the other frames are written as zeros.
 *
 * Reductions follow PyTorch's reduction='mean' over the frames that count,
 * so that a padded batch equals the same sequences concatenated:
 *  - MSE, MAE: the sum over counted frames and outputs divided by
 *    (counted frames * width) (nn.MSELoss / nn.L1Loss over the
 *    concatenated frames). The MAE gradient at an exact tie is 0, as
 *    PyTorch's sign(). A NaN target is a missing one (a forecast whose
 *    step lies beyond the data): it is left out of the sum and the count,
 *    as a masked mean, and its gradient is 0.
 *  - cross-entropy: outputs are logits; log-softmax per frame, the negative
 *    log-probability of the frame's class, averaged over counted frames
 *    (nn.CrossEntropyLoss on the concatenated frames).
 *  - CTC: outputs are logits; log-softmax per frame, then the negative log
 *    of the probability of the target label sequence (Graves et al. 2006),
 *    computed by the forward-backward recursions in log space. Reduction is
 *    torch.nn.functional.ctc_loss's reduction='mean': the sum over
 *    sequences of loss_b / max(target_length_b, 1), divided by n_streams.
 *    The blank is class options->blank (0 by default). A sequence whose
 *    target cannot be aligned in its frames has loss +inf; with
 *    zero_infinity its loss and gradient are zero instead (as PyTorch's
 *    zero_infinity=True), without it the loss is +inf and its gradient
 *    rows are NaN (as PyTorch's).
 * With no counted frame at all, MSE, MAE and cross-entropy give 0 and a
 * zero gradient (PyTorch would give NaN).
 *
 * Losses are accumulated in double precision. d_output may be NULL when
 * only the loss is wanted. Nothing is allocated for MSE, MAE and
 * cross-entropy; CTC allocates its recursion tables.
 */
#ifndef RS_LOSS_H
#define RS_LOSS_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

typedef struct RsLossFrames {
  guint n_frames;
  guint n_streams;
  guint width;
  const guint *lengths;      /* n_streams values <= n_frames, or NULL */
  const float *output;       /* n_frames * n_streams * width */
} RsLossFrames;

/* target laid out as output. */
RS_API double rs_loss_mse (const RsLossFrames *frames, const float *target, float *d_output);
RS_API double rs_loss_mae (const RsLossFrames *frames, const float *target, float *d_output);

/* classes: one class index per frame (n_frames * n_streams, time-major);
 * those of uncounted frames are not read. Fails with RS_ERROR_FAILED when a
 * counted frame's class is >= width. */
RS_API gboolean rs_loss_cross_entropy (const RsLossFrames *frames, const guint32 *classes,
                                       double *loss, float *d_output, GError **error);

typedef struct RsCtcOptions {
  guint blank;               /* index of the blank class; 0 by default */
  gboolean zero_infinity;
} RsCtcOptions;

/* targets: the label sequences one after another (sequence b's
 * target_lengths[b] labels follow sequence b-1's), none equal to the blank
 * and all < width. options NULL: blank 0, zero_infinity FALSE. Fails with
 * RS_ERROR_FAILED for a label out of range or equal to the blank. */
RS_API gboolean rs_loss_ctc (const RsLossFrames *frames, const RsCtcOptions *options,
                             const guint32 *targets, const guint *target_lengths,
                             double *loss, float *d_output, GError **error);

G_END_DECLS

#endif
