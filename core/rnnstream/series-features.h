/* Time-series feature stages: streaming transforms of the rows of a series.
 *
 * Each stage takes one row (a vector of doubles of the width it was made
 * for, or a time) per call and gives back its output row, owned by the
 * stage and valid until the next call on it. None looks ahead: the output
 * for row t depends on rows 0..t only and is returned by the call that
 * pushes row t (lookahead 0, latency 0). Some stages need a few rows of
 * history first (their warm-up) and return NULL until they have it. Memory
 * is fixed when a stage is made; nothing allocates per row.
 *
 *   stage          output width      warm-up (rows returning NULL)
 *   RsLagWindow    lags * width      lags - 1 (0 with zero padding)
 *   RsDifference   width             order + seasonal_lag
 *   RsStandardise  width             0
 *   RsCalendar     2 to 11 (below)   0
 *
 * Stages do not check their input for NaN or infinities: rows from an
 * RsCsvStream never hold any. A stage is used from one thread at a time.
 */
#ifndef RS_SERIES_FEATURES_H
#define RS_SERIES_FEATURES_H

#include <glib.h>
#include <rnnstream/export.h>
#include <rnnstream/series-time.h>

G_BEGIN_DECLS

/* Lag window: the last `lags` rows, concatenated oldest first, so for
 * width w the output is x[t-lags+1][0..w-1], ..., x[t][0..w-1]. Without
 * zero padding the first output comes with row lags - 1; with it, every
 * row has an output and the rows before the first are zeros. */
typedef struct RsLagWindow RsLagWindow;

/* width >= 1, lags >= 1. */
RS_API RsLagWindow *rs_lag_window_new (guint width, guint lags, gboolean zero_pad);
RS_API void rs_lag_window_free (RsLagWindow *window);
/* Forgets every row pushed: the next push starts a new series. */
RS_API void rs_lag_window_reset (RsLagWindow *window);
RS_API guint rs_lag_window_width_out (const RsLagWindow *window);
/* Pushes row (width values); returns the window, or NULL during warm-up. */
RS_API const double *rs_lag_window_push (RsLagWindow *window, const double *row);

/* Differencing: y = (1 - B)^order (1 - B^s) x, B the lag operator, each
 * column on its own; with seasonal_lag s = 0 there is no seasonal
 * difference. order 1 gives x[t] - x[t-1]; order 1 with s = 12 gives
 * (x[t] - x[t-12]) - (x[t-1] - x[t-13]). The seasonal difference is taken
 * first and the ordinary ones after it, each as a difference of two
 * neighbours (never as the expanded polynomial), so values of similar size
 * subtract without rounding and the inverse below undoes the same steps.
 *
 * The inverse turns a forecast of the next difference back into a level.
 * To forecast several steps ahead, work on a copy: invert the forecast,
 * push the level it gives into the copy, repeat. */
typedef struct RsDifference RsDifference;

/* width >= 1, order <= RS_DIFFERENCE_MAX_ORDER, seasonal_lag <=
 * RS_DIFFERENCE_MAX_SEASONAL_LAG (memory is seasonal_lag * width). */
#define RS_DIFFERENCE_MAX_ORDER 4u
#define RS_DIFFERENCE_MAX_SEASONAL_LAG 100000u
RS_API RsDifference *rs_difference_new (guint width, guint order, guint seasonal_lag);
/* An independent copy, state included. */
RS_API RsDifference *rs_difference_copy (const RsDifference *difference);
RS_API void rs_difference_free (RsDifference *difference);
RS_API void rs_difference_reset (RsDifference *difference);
/* The output width (the input width). */
RS_API guint rs_difference_width_out (const RsDifference *difference);
/* Pushes row (width levels); returns the differences, or NULL while fewer
 * than order + seasonal_lag rows came before it. */
RS_API const double *rs_difference_push (RsDifference *difference, const double *row);
/* TRUE once order + seasonal_lag rows have been pushed: the history is
 * complete, the next push returns differences and the inverse can run. */
RS_API gboolean rs_difference_ready (const RsDifference *difference);
/* The levels (width values, into level) whose difference after the rows
 * pushed so far would be diff: exactly the inverse of the next push, in
 * exact arithmetic. Needs rs_difference_ready(). Does not change the state. */
RS_API void rs_difference_invert (const RsDifference *difference, const double *diff,
                                  double *level);

/* Standardisation: z = (x - mean) / std, per column.
 *
 * Fixed: mean and std are given (e.g. the `normalisation` metadata of a
 * model, which the model was trained with).
 *
 * Running: mean and std are estimated from the rows so far, row t
 * included (it is added first, then standardised), with Welford's
 * update (B. P. Welford, Technometrics 4(3), 1962):
 *   n += 1; d = x - mean; mean += d / n; m2 += d * (x - mean);
 * std = sqrt(m2 / n), the population deviation (numpy's default, ddof = 0).
 * Unlike the sum of squares minus the squared sum, this never subtracts
 * two large nearly equal sums, so a series with a large level and a small
 * spread keeps its digits. When std is 0 (the first row, or constant
 * values so far) the output is x - mean, which is then 0. Values must stay
 * well inside the double range (|x| below about 1e150) for d * d not to
 * overflow. */
typedef struct RsStandardise RsStandardise;

/* mean and std: width values each, copied. Returns NULL with
 * RS_ERROR_FAILED (naming the column) when a mean is not finite or a std
 * is not finite and positive. */
RS_API RsStandardise *rs_standardise_new_fixed (guint width, const double *mean,
                                                const double *std, GError **error);
RS_API RsStandardise *rs_standardise_new_running (guint width);
RS_API void rs_standardise_free (RsStandardise *standardise);
/* Running: forgets the estimates. Fixed: does nothing. */
RS_API void rs_standardise_reset (RsStandardise *standardise);
RS_API guint rs_standardise_width_out (const RsStandardise *standardise);
/* Pushes row; returns the standardised row (never NULL). */
RS_API const double *rs_standardise_push (RsStandardise *standardise, const double *row);
/* x = z * std + mean with the current mean and std (width values): turns a
 * forecast in standardised units back into the series' units. */
RS_API void rs_standardise_invert (const RsStandardise *standardise, const double *z,
                                   double *x);
/* The current mean and std (width values each; running: 0 before any row). */
RS_API const double *rs_standardise_mean (const RsStandardise *standardise);
RS_API const double *rs_standardise_std (const RsStandardise *standardise);

/* Calendar and position features from a row's time, in this order (the
 * features chosen, in the order of the flags):
 *
 *   feature    values  what                                  kinds
 *   POSITION   1       rows pushed before this one: 0, 1, ... all
 *   MONTH      2       sin, cos of 2 pi (month - 1) / 12      year, year-month,
 *                                                             decimal year, date,
 *                                                             datetime
 *   QUARTER    4       one-hot: Q1 1 0 0 0, ..., Q4 0 0 0 1   as MONTH
 *   WEEKDAY    2       sin, cos of 2 pi weekday / 7,          date, datetime
 *                      Monday 0
 *   HOUR       2       sin, cos of 2 pi hour / 24, the hour   datetime
 *                      with its minutes and seconds
 *
 * Months and weekdays go round a circle so that December sits next to
 * January; a quarter is a category, so it is one-hot rather than a number
 * that would rank Q4 above Q1. A decimal year counts in the month it falls
 * in (see RsTime), so 1949.083333 and 1949.083 give the same features. A
 * plain year counts as its January: R writes January of a monthly series
 * as the bare year (1949, 1949.083, ...); for a yearly series MONTH and
 * QUARTER would be constant, so leave them out there. */
typedef enum {
  RS_CALENDAR_POSITION = 1 << 0,
  RS_CALENDAR_MONTH = 1 << 1,
  RS_CALENDAR_QUARTER = 1 << 2,
  RS_CALENDAR_WEEKDAY = 1 << 3,
  RS_CALENDAR_HOUR = 1 << 4
} RsCalendarFeature;

typedef struct RsCalendar RsCalendar;

/* The features a time of this kind supports (the "kinds" column above). */
RS_API guint rs_calendar_supported (RsTimeKind kind);
/* features: a non-empty OR of RsCalendarFeature. */
RS_API RsCalendar *rs_calendar_new (guint features);
RS_API void rs_calendar_free (RsCalendar *calendar);
/* Restarts the position at 0. */
RS_API void rs_calendar_reset (RsCalendar *calendar);
RS_API guint rs_calendar_width_out (const RsCalendar *calendar);
/* Pushes a row's time; returns its features, or NULL with RS_ERROR_PARSE
 * when its kind lacks one of them ("a time of kind 'year-month' has no day
 * of the week"; the caller adds where the time came from). A refused time
 * does not count as a row. */
RS_API const double *rs_calendar_push (RsCalendar *calendar, const RsTime *time,
                                       GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsLagWindow, rs_lag_window_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsDifference, rs_difference_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsStandardise, rs_standardise_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsCalendar, rs_calendar_free)

G_END_DECLS

#endif
