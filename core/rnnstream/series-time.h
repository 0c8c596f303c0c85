/* Times of a series: the text of a CSV time column, parsed.
 *
 * Recognised forms (leading and trailing spaces or tabs are ignored):
 *
 *   kind                 examples                          written by
 *   RS_TIME_DATETIME     2024-03-01T12:30:00, 2024-03-01 12:30,
 *                        2024-03-01T12:30:00.25Z,
 *                        2024-03-01 12:30:00+05:30        ISO 8601, pandas
 *   RS_TIME_DATE         2024-03-01, 2024-3-1             ISO 8601, R, pandas
 *   RS_TIME_YEAR_MONTH   1949-01, 1949-1                  ISO 8601, zoo's yearmon
 *   RS_TIME_YEAR         1949                             yearly series
 *   RS_TIME_DECIMAL_YEAR 1949.083333, 1949.25             R's time() of a ts
 *   RS_TIME_INDEX        0, 17, -3                        row numbers
 *
 * A plain integer is either a year or an index; RsTimeIntegers says which
 * (by default an integer of exactly four digits is a year). Anything else
 * (other date orders, month names, week numbers) is not recognised: the
 * parse fails and the caller keeps the text as it is.
 *
 * Calendar fields are in the proleptic Gregorian calendar, years 0 to
 * 9999. Times without a UTC offset are taken as UTC (they are usually
 * local wall-clock time; calendar features want exactly that). With an
 * offset, the calendar fields keep the wall-clock time as written and
 * `seconds` is converted to UTC.
 */
#ifndef RS_SERIES_TIME_H
#define RS_SERIES_TIME_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

typedef enum {
  RS_TIME_NONE,          /* not a time (or not parsed) */
  RS_TIME_INDEX,         /* a plain integer read as a position */
  RS_TIME_YEAR,
  RS_TIME_YEAR_MONTH,
  RS_TIME_DECIMAL_YEAR,
  RS_TIME_DATE,
  RS_TIME_DATETIME
} RsTimeKind;

/* How a plain integer ("1949", "12") is read. */
typedef enum {
  RS_TIME_INTEGERS_AUTO,   /* exactly four digits: a year; otherwise an index */
  RS_TIME_INTEGERS_INDEX,  /* always an index */
  RS_TIME_INTEGERS_YEAR    /* always a year (0 to 9999; larger ones are not times) */
} RsTimeIntegers;

/* Which fields are meaningful depends on the kind:
 *
 *   kind          year..day      hour..second  seconds  decimal_year  index
 *   INDEX         -              -             -        -             yes
 *   YEAR          yes (1-1)      0             yes      yes           -
 *   YEAR_MONTH    yes (day 1)    0             yes      yes           -
 *   DECIMAL_YEAR  yes (derived)  0             yes      yes           -
 *   DATE          yes            0             yes      yes           -
 *   DATETIME      yes            yes           yes      yes           -
 *
 * Fields that are not meaningful are 0. `seconds` counts from
 * 1970-01-01T00:00:00Z to the start of the period the text names (the
 * first of the month for a year-month). `decimal_year` follows R: a
 * year-month is year + (month - 1) / 12 exactly, so that it matches what
 * R's time() writes; a date or datetime is year + the elapsed fraction of
 * its year. For a decimal year the month is the one it falls in, with
 * values within 1/20 of a month below a month boundary rounded up to it,
 * so that "1949.083" (R's 1949 + 1/12, printed to 7 digits) is February;
 * its day is 1 and `seconds` is interpolated linearly through the year. */
typedef struct {
  RsTimeKind kind;
  int year, month, day;        /* month 1-12, day 1-31 */
  int hour, minute;
  double second;               /* 0 <= second < 61 (a leap second is allowed) */
  double seconds;              /* since the Unix epoch, UTC */
  double decimal_year;
  gint64 index;
} RsTime;

/* The spacing of a regular series, as far as two neighbouring times show. */
typedef enum {
  RS_PERIOD_UNKNOWN,
  RS_PERIOD_MINUTELY,
  RS_PERIOD_HOURLY,
  RS_PERIOD_DAILY,
  RS_PERIOD_WEEKLY,
  RS_PERIOD_MONTHLY,
  RS_PERIOD_QUARTERLY,
  RS_PERIOD_YEARLY
} RsPeriod;

/* Parses len bytes of text (len < 0: NUL-terminated). Returns TRUE and
 * fills *time, or FALSE (and sets time->kind to RS_TIME_NONE, every other
 * field 0) when the text is none of the forms above, or names a date that
 * does not exist (2023-02-29, month 13, hour 24). Never fails otherwise;
 * text need not be UTF-8. */
RS_API gboolean rs_time_parse (const char *text, gssize len, RsTimeIntegers integers,
                               RsTime *time);

/* The day of the week, 0 = Monday to 6 = Sunday, of a DATE or DATETIME
 * (its wall-clock date); -1 for other kinds. */
RS_API int rs_time_day_of_week (const RsTime *time);

/* The period between two consecutive times of a series, earlier first:
 *
 *   - years, year-months and decimal years: a whole number of months
 *     apart (to 1/50 of a month, for rounded decimal years): 1 monthly,
 *     3 quarterly, 12 yearly;
 *   - dates and datetimes with the same time of day and the same day of
 *     the month (or both on the last day of their months): 1, 3 or 12
 *     months apart as above; otherwise exactly 60 s, 3600 s, 1 day or
 *     7 days apart: minutely, hourly, daily, weekly.
 *
 * Anything else, other kinds (indices) and pairs of different kinds that
 * are not both year-like (YEAR, YEAR_MONTH, DECIMAL_YEAR), is
 * RS_PERIOD_UNKNOWN. A series' period is what its rows agree on; one pair
 * can mislead (2024-01-31 to 2024-02-29 is monthly, 2024-01-30 to
 * 2024-01-31 daily). */
RS_API RsPeriod rs_time_period_between (const RsTime *earlier, const RsTime *later);

/* The period of a series of n time texts, in order (parsed as
 * rs_time_parse does with integers): the one at least 90% of the pairs of
 * neighbours that both parse agree on, so that a gap or two do not hide
 * the rhythm while a mix of spacings has none; RS_PERIOD_UNKNOWN
 * otherwise, and when no pair parses. */
RS_API RsPeriod rs_time_period_of_series (const char *const *times, gsize n,
                                          RsTimeIntegers integers);

/* The rows of one season at a period, the season forecasters use: 60
 * minutely, 24 hourly, 7 daily, 52 weekly, 12 monthly, 4 quarterly; 1
 * (no season) yearly and unknown. */
RS_API guint rs_period_season (RsPeriod period);

/* Static names: "none", "index", "year", "year-month", "decimal-year",
 * "date", "datetime"; and "unknown", "minutely", "hourly", "daily",
 * "weekly", "monthly", "quarterly", "yearly". */
RS_API const char *rs_time_kind_name (RsTimeKind kind);
RS_API const char *rs_period_name (RsPeriod period);

G_END_DECLS

#endif
