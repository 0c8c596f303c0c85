/* Time-series feature stages (see rnnstream/series-features.h). */
#include "config.h"

#include <math.h>
#include <string.h>

#include "rnnstream/error.h"
#include "rnnstream/series-features.h"

/* Lag window */

struct RsLagWindow {
  guint width;
  guint lags;
  gboolean zero_pad;
  guint next;                  /* the slot the next row goes to, 0..lags-1 */
  guint64 count;
  /* 2 * lags slots of width values. Each row is written twice, to slots
   * next and next + lags, so the window (slots next..next+lags-1 after the
   * write) is always contiguous: one copy of a row per push, never a copy
   * of the whole window. */
  double *slots;
};

RsLagWindow *
rs_lag_window_new (guint width, guint lags, gboolean zero_pad)
{
  RsLagWindow *w;

  g_return_val_if_fail (width >= 1 && lags >= 1, NULL);
  g_return_val_if_fail ((guint64) width * lags <= G_MAXUINT / 2, NULL);

  w = g_new0 (RsLagWindow, 1);
  w->width = width;
  w->lags = lags;
  w->zero_pad = zero_pad;
  w->slots = g_new0 (double, (gsize) 2 * lags * width);
  return w;
}

void
rs_lag_window_free (RsLagWindow *w)
{
  if (w == NULL)
    return;
  g_free (w->slots);
  g_free (w);
}

void
rs_lag_window_reset (RsLagWindow *w)
{
  g_return_if_fail (w != NULL);
  memset (w->slots, 0, (gsize) 2 * w->lags * w->width * sizeof (double));
  w->next = 0;
  w->count = 0;
}

guint
rs_lag_window_width_out (const RsLagWindow *w)
{
  g_return_val_if_fail (w != NULL, 0);
  return w->lags * w->width;
}

const double *
rs_lag_window_push (RsLagWindow *w, const double *row)
{
  gsize bytes;

  g_return_val_if_fail (w != NULL && row != NULL, NULL);

  bytes = w->width * sizeof (double);
  memcpy (w->slots + (gsize) w->next * w->width, row, bytes);
  memcpy (w->slots + (gsize) (w->next + w->lags) * w->width, row, bytes);
  w->next = (w->next + 1) % w->lags;
  w->count++;
  if (w->count < w->lags && !w->zero_pad)
    return NULL;
  return w->slots + (gsize) w->next * w->width;
}

/* Differencing */

struct RsDifference {
  guint width;
  guint order;
  guint lag;                   /* seasonal; 0: none */
  guint64 count;               /* rows pushed */
  double *levels;              /* the last lag rows of x, a ring: row n at n % lag */
  double *last;                /* order rows: the last input of each ordinary difference */
  double *out;
};

RsDifference *
rs_difference_new (guint width, guint order, guint seasonal_lag)
{
  RsDifference *d;

  g_return_val_if_fail (width >= 1, NULL);
  g_return_val_if_fail (order <= RS_DIFFERENCE_MAX_ORDER, NULL);
  g_return_val_if_fail (seasonal_lag <= RS_DIFFERENCE_MAX_SEASONAL_LAG, NULL);
  g_return_val_if_fail ((guint64) width * MAX (seasonal_lag, 1) <= G_MAXUINT, NULL);

  d = g_new0 (RsDifference, 1);
  d->width = width;
  d->order = order;
  d->lag = seasonal_lag;
  d->levels = g_new0 (double, (gsize) MAX (seasonal_lag, 1) * width);
  d->last = g_new0 (double, (gsize) MAX (order, 1) * width);
  d->out = g_new0 (double, width);
  return d;
}

RsDifference *
rs_difference_copy (const RsDifference *d)
{
  RsDifference *copy;

  g_return_val_if_fail (d != NULL, NULL);

  copy = rs_difference_new (d->width, d->order, d->lag);
  copy->count = d->count;
  memcpy (copy->levels, d->levels, (gsize) MAX (d->lag, 1) * d->width * sizeof (double));
  memcpy (copy->last, d->last, (gsize) MAX (d->order, 1) * d->width * sizeof (double));
  return copy;
}

void
rs_difference_free (RsDifference *d)
{
  if (d == NULL)
    return;
  g_free (d->levels);
  g_free (d->last);
  g_free (d->out);
  g_free (d);
}

void
rs_difference_reset (RsDifference *d)
{
  g_return_if_fail (d != NULL);
  d->count = 0;
}

guint
rs_difference_width_out (const RsDifference *d)
{
  g_return_val_if_fail (d != NULL, 0);
  return d->width;
}

gboolean
rs_difference_ready (const RsDifference *d)
{
  g_return_val_if_fail (d != NULL, FALSE);
  return d->count >= (guint64) d->lag + d->order;
}

/* Row n (0-based, n = count before the push) is seasonally differenced
 * when n >= lag; that difference is the input of ordinary difference 0,
 * whose output (from n >= lag + 1) is the input of difference 1, and so
 * on: difference k has a previous input, and so an output, when
 * n >= lag + k + 1. The last output is the stage's, from n >= lag + order. */
const double *
rs_difference_push (RsDifference *d, const double *row)
{
  guint64 n;

  g_return_val_if_fail (d != NULL && row != NULL, NULL);

  n = d->count++;
  for (guint c = 0; c < d->width; c++) {
    double v = row[c];

    if (d->lag > 0) {
      double *slot = &d->levels[(gsize) (n % d->lag) * d->width + c];
      double oldest = *slot;   /* x[n - lag] once the ring is full */

      *slot = v;
      if (n < d->lag)
        continue;
      v -= oldest;
    }
    for (guint k = 0; k < d->order; k++) {
      double *last = &d->last[(gsize) k * d->width + c];
      double previous = *last;

      *last = v;
      if (n < (guint64) d->lag + k + 1)
        break;
      v -= previous;
    }
    d->out[c] = v;
  }
  return n >= (guint64) d->lag + d->order ? d->out : NULL;
}

/* Undoes the steps of a push from the last to the first: difference k's
 * input at n + 1 is its output plus its input at n, and the level is the
 * seasonal difference plus x[n + 1 - lag], the oldest row in the ring
 * (at (n + 1) % lag, the slot the next push overwrites). */
void
rs_difference_invert (const RsDifference *d, const double *diff, double *level)
{
  g_return_if_fail (d != NULL && diff != NULL && level != NULL);
  g_return_if_fail (rs_difference_ready (d));

  for (guint c = 0; c < d->width; c++) {
    double v = diff[c];

    for (guint k = d->order; k-- > 0;)
      v += d->last[(gsize) k * d->width + c];
    if (d->lag > 0)
      v += d->levels[(gsize) (d->count % d->lag) * d->width + c];
    level[c] = v;
  }
}

/* Standardisation */

struct RsStandardise {
  guint width;
  gboolean running;
  guint64 n;
  double *mean;
  double *std;
  double *m2;                  /* running: sum of squared deviations */
  double *out;
};

static RsStandardise *
standardise_new (guint width, gboolean running)
{
  RsStandardise *s = g_new0 (RsStandardise, 1);

  s->width = width;
  s->running = running;
  s->mean = g_new0 (double, width);
  s->std = g_new0 (double, width);
  s->m2 = g_new0 (double, width);
  s->out = g_new0 (double, width);
  return s;
}

RsStandardise *
rs_standardise_new_fixed (guint width, const double *mean, const double *std, GError **error)
{
  RsStandardise *s;

  g_return_val_if_fail (width >= 1, NULL);
  g_return_val_if_fail (mean != NULL && std != NULL, NULL);

  for (guint c = 0; c < width; c++) {
    if (!isfinite (mean[c])) {
      g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "mean %u is not finite", c + 1);
      return NULL;
    }
    if (!isfinite (std[c]) || std[c] <= 0) {
      g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "std %u is %g: it must be finite and "
                   "positive", c + 1, std[c]);
      return NULL;
    }
  }
  s = standardise_new (width, FALSE);
  memcpy (s->mean, mean, width * sizeof (double));
  memcpy (s->std, std, width * sizeof (double));
  return s;
}

RsStandardise *
rs_standardise_new_running (guint width)
{
  g_return_val_if_fail (width >= 1, NULL);
  return standardise_new (width, TRUE);
}

void
rs_standardise_free (RsStandardise *s)
{
  if (s == NULL)
    return;
  g_free (s->mean);
  g_free (s->std);
  g_free (s->m2);
  g_free (s->out);
  g_free (s);
}

void
rs_standardise_reset (RsStandardise *s)
{
  g_return_if_fail (s != NULL);
  if (!s->running)
    return;
  s->n = 0;
  memset (s->mean, 0, s->width * sizeof (double));
  memset (s->std, 0, s->width * sizeof (double));
  memset (s->m2, 0, s->width * sizeof (double));
}

guint
rs_standardise_width_out (const RsStandardise *s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->width;
}

const double *
rs_standardise_push (RsStandardise *s, const double *row)
{
  g_return_val_if_fail (s != NULL && row != NULL, NULL);

  if (s->running) {
    s->n++;
    for (guint c = 0; c < s->width; c++) {
      double d = row[c] - s->mean[c];

      s->mean[c] += d / (double) s->n;
      s->m2[c] += d * (row[c] - s->mean[c]);
      s->std[c] = sqrt (s->m2[c] / (double) s->n);
    }
  }
  for (guint c = 0; c < s->width; c++)
    s->out[c] = (row[c] - s->mean[c]) / (s->std[c] > 0 ? s->std[c] : 1.0);
  return s->out;
}

void
rs_standardise_invert (const RsStandardise *s, const double *z, double *x)
{
  g_return_if_fail (s != NULL && z != NULL && x != NULL);
  for (guint c = 0; c < s->width; c++)
    x[c] = z[c] * (s->std[c] > 0 ? s->std[c] : 1.0) + s->mean[c];
}

const double *
rs_standardise_mean (const RsStandardise *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return s->mean;
}

const double *
rs_standardise_std (const RsStandardise *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return s->std;
}

/* Calendar */

#define ALL_FEATURES (RS_CALENDAR_POSITION | RS_CALENDAR_MONTH | RS_CALENDAR_QUARTER \
                      | RS_CALENDAR_WEEKDAY | RS_CALENDAR_HOUR)

struct RsCalendar {
  guint features;
  guint width;
  guint64 position;
  double out[11];
};

guint
rs_calendar_supported (RsTimeKind kind)
{
  switch (kind) {
  case RS_TIME_YEAR:
  case RS_TIME_YEAR_MONTH:
  case RS_TIME_DECIMAL_YEAR:
    return RS_CALENDAR_POSITION | RS_CALENDAR_MONTH | RS_CALENDAR_QUARTER;
  case RS_TIME_DATE:
    return RS_CALENDAR_POSITION | RS_CALENDAR_MONTH | RS_CALENDAR_QUARTER | RS_CALENDAR_WEEKDAY;
  case RS_TIME_DATETIME:
    return ALL_FEATURES;
  case RS_TIME_NONE:
  case RS_TIME_INDEX:
  default:
    return RS_CALENDAR_POSITION;
  }
}

RsCalendar *
rs_calendar_new (guint features)
{
  RsCalendar *c;

  g_return_val_if_fail (features != 0 && (features & ~ALL_FEATURES) == 0, NULL);

  c = g_new0 (RsCalendar, 1);
  c->features = features;
  c->width = ((features & RS_CALENDAR_POSITION) ? 1 : 0)
             + ((features & RS_CALENDAR_MONTH) ? 2 : 0)
             + ((features & RS_CALENDAR_QUARTER) ? 4 : 0)
             + ((features & RS_CALENDAR_WEEKDAY) ? 2 : 0)
             + ((features & RS_CALENDAR_HOUR) ? 2 : 0);
  return c;
}

void
rs_calendar_free (RsCalendar *c)
{
  g_free (c);
}

void
rs_calendar_reset (RsCalendar *c)
{
  g_return_if_fail (c != NULL);
  c->position = 0;
}

guint
rs_calendar_width_out (const RsCalendar *c)
{
  g_return_val_if_fail (c != NULL, 0);
  return c->width;
}

/* Appends sin and cos of 2 pi value / period. */
static double *
circle (double *out, double value, double period)
{
  double angle = 2.0 * G_PI * value / period;

  out[0] = sin (angle);
  out[1] = cos (angle);
  return out + 2;
}

const double *
rs_calendar_push (RsCalendar *c, const RsTime *time, GError **error)
{
  static const struct {
    guint feature;
    const char *what;
  } names[] = {
    { RS_CALENDAR_MONTH, "month" },
    { RS_CALENDAR_QUARTER, "quarter" },
    { RS_CALENDAR_WEEKDAY, "day of the week" },
    { RS_CALENDAR_HOUR, "hour" },
  };
  guint missing;
  double *out;

  g_return_val_if_fail (c != NULL && time != NULL, NULL);

  missing = c->features & ~rs_calendar_supported (time->kind);
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    if (missing & names[i].feature) {
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "a time of kind '%s' has no %s",
                   rs_time_kind_name (time->kind), names[i].what);
      return NULL;
    }
  }

  out = c->out;
  if (c->features & RS_CALENDAR_POSITION)
    *out++ = (double) c->position;
  if (c->features & RS_CALENDAR_MONTH)
    out = circle (out, time->month - 1, 12);
  if (c->features & RS_CALENDAR_QUARTER) {
    for (int q = 0; q < 4; q++)
      out[q] = (time->month - 1) / 3 == q ? 1.0 : 0.0;
    out += 4;
  }
  if (c->features & RS_CALENDAR_WEEKDAY)
    out = circle (out, rs_time_day_of_week (time), 7);
  if (c->features & RS_CALENDAR_HOUR)
    out = circle (out, time->hour + time->minute / 60.0 + time->second / 3600.0, 24);
  g_assert ((guint) (out - c->out) == c->width);
  c->position++;
  return c->out;
}
