/* The learning rate over a training run, and when to stop it.
 *
 * Warm-up: the first warmup_steps steps ramp the rate linearly up to the
 * base rate (step s, counted from 1, gets base * s / warmup_steps), which
 * keeps Adam's first, poorly estimated steps small.
 *
 * Plateau: after each epoch the caller reports the validation loss. When
 * it has not improved on the best so far (by a relative threshold) for
 * more than plateau_patience epochs, the rate is multiplied by
 * plateau_factor (not below min_lr), then cooldown epochs pass before
 * counting again: PyTorch's ReduceLROnPlateau in mode "min",
 * threshold_mode "rel".
 *
 * Early stopping: when the loss has not improved for early_stop_patience
 * epochs, the verdict says stop; the caller keeps the weights of the best
 * epoch (the verdict says when an epoch is the best so far).
 */
#ifndef RS_SCHEDULE_H
#define RS_SCHEDULE_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

typedef struct {
  guint warmup_steps;         /* 0: none */
  double plateau_factor;      /* (0, 1]; 1: never reduce */
  guint plateau_patience;     /* epochs without improvement before reducing */
  double threshold;           /* relative improvement that counts, >= 0 */
  guint cooldown;             /* epochs after a reduction before counting again */
  double min_lr;              /* >= 0 */
  guint early_stop_patience;  /* 0: never stop early */
} RsScheduleOptions;

/* No warm-up; halve after 5 flat epochs; stop after 10; PyTorch's
 * threshold 1e-4. */
#define RS_SCHEDULE_OPTIONS_INIT { 0, 0.5, 5, 1e-4, 0, 0.0, 10 }

typedef enum {
  RS_SCHEDULE_IMPROVED = 1 << 0,  /* the best loss so far: keep these weights */
  RS_SCHEDULE_REDUCED = 1 << 1,   /* the learning rate went down */
  RS_SCHEDULE_STOP = 1 << 2       /* no improvement for early_stop_patience epochs */
} RsScheduleVerdict;

typedef struct RsSchedule RsSchedule;

/* Fails with RS_ERROR_ARGUMENT, naming the option, when one is out of
 * range or base_lr is not > 0. */
RS_API RsSchedule *rs_schedule_new (double base_lr, const RsScheduleOptions *options,
                                    GError **error);
RS_API void rs_schedule_free (RsSchedule *schedule);

/* The learning rate for step (counted from 1): warm-up times the plateau
 * reductions so far. */
RS_API double rs_schedule_lr (const RsSchedule *schedule, guint64 step);

/* Reports an epoch's validation loss; returns RsScheduleVerdict flags. A
 * non-finite loss never counts as an improvement. */
RS_API guint rs_schedule_epoch_end (RsSchedule *schedule, double loss);

/* The best loss so far (+inf before any), and its epoch (from 1; 0 before
 * any). */
/* Takes loss as the score of the weights before the first epoch (epoch
 * 0): an epoch must beat it to count as the best, so that training that
 * never improves on where it started keeps the start. Call before the
 * first rs_schedule_epoch_end. */
RS_API void rs_schedule_set_baseline (RsSchedule *schedule, double loss);
RS_API double rs_schedule_best_loss (const RsSchedule *schedule);
RS_API guint rs_schedule_best_epoch (const RsSchedule *schedule);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsSchedule, rs_schedule_free)

G_END_DECLS

#endif
