/* Learning-rate warm-up, reduction on plateau and early stopping (see
 * rnnstream/schedule.h). */
#include "config.h"

#include <math.h>

#include "rnnstream/error.h"
#include "rnnstream/schedule.h"

/* ReduceLROnPlateau ignores a reduction smaller than this. */
#define MIN_LR_CHANGE 1e-8

struct RsSchedule {
  RsScheduleOptions opts;
  double base_lr;
  double lr;                 /* after the plateau reductions */
  double best;               /* for the plateau and early stopping alike */
  guint best_epoch;
  guint epoch;
  guint bad_epochs;          /* since the best, for the plateau */
  guint stale_epochs;        /* since the best, for early stopping */
  guint cooldown_left;
};

RsSchedule *
rs_schedule_new (double base_lr, const RsScheduleOptions *o, GError **error)
{
  RsSchedule *s;
  const char *bad = NULL;
  double value = 0;

  /* Each test is written so that NaN fails it. */
  if (!(base_lr > 0 && isfinite (base_lr)))
    bad = "the learning rate must be > 0", value = base_lr;
  else if (!(o->plateau_factor > 0 && o->plateau_factor <= 1))
    bad = "the plateau factor must be in (0, 1]", value = o->plateau_factor;
  else if (!(o->threshold >= 0 && isfinite (o->threshold)))
    bad = "the improvement threshold must be >= 0", value = o->threshold;
  else if (!(o->min_lr >= 0 && isfinite (o->min_lr)))
    bad = "the minimum learning rate must be >= 0", value = o->min_lr;
  if (bad != NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "schedule: %s, not %g", bad, value);
    return NULL;
  }
  s = g_new0 (RsSchedule, 1);
  s->opts = *o;
  s->base_lr = s->lr = base_lr;
  s->best = INFINITY;
  return s;
}

void
rs_schedule_free (RsSchedule *schedule)
{
  g_free (schedule);
}

double
rs_schedule_lr (const RsSchedule *s, guint64 step)
{
  if (s->opts.warmup_steps > 0 && step < s->opts.warmup_steps)
    return s->lr * (double) MAX (step, 1) / s->opts.warmup_steps;
  return s->lr;
}

guint
rs_schedule_epoch_end (RsSchedule *s, double loss)
{
  guint verdict = 0;

  s->epoch++;
  if (isfinite (loss) && loss < s->best * (1.0 - s->opts.threshold)) {
    s->best = loss;
    s->best_epoch = s->epoch;
    s->bad_epochs = 0;
    s->stale_epochs = 0;
    verdict |= RS_SCHEDULE_IMPROVED;
  } else {
    s->bad_epochs++;
    s->stale_epochs++;
  }
  if (s->cooldown_left > 0) {
    s->cooldown_left--;
    s->bad_epochs = 0;
  }
  if (s->opts.plateau_factor < 1 && s->bad_epochs > s->opts.plateau_patience) {
    const double lr = MAX (s->lr * s->opts.plateau_factor, s->opts.min_lr);

    if (s->lr - lr > MIN_LR_CHANGE) {
      s->lr = lr;
      verdict |= RS_SCHEDULE_REDUCED;
    }
    s->cooldown_left = s->opts.cooldown;
    s->bad_epochs = 0;
  }
  if (s->opts.early_stop_patience > 0 && s->stale_epochs >= s->opts.early_stop_patience)
    verdict |= RS_SCHEDULE_STOP;
  return verdict;
}

void
rs_schedule_set_baseline (RsSchedule *s, double loss)
{
  g_return_if_fail (s->epoch == 0);
  if (isfinite (loss)) {
    s->best = loss;
    s->best_epoch = 0;
  }
}

double
rs_schedule_best_loss (const RsSchedule *s)
{
  return s->best;
}

guint
rs_schedule_best_epoch (const RsSchedule *s)
{
  return s->best_epoch;
}
