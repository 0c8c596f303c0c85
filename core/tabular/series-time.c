/* Times of a series (see rnnstream/series-time.h). */
#include "config.h"

#include <math.h>
#include <string.h>

#include "rnnstream/series-time.h"

#define SECONDS_PER_DAY 86400.0

/* A decimal year this close below a month boundary (in months) is taken
 * to be on it: R prints 1949 + 1/12 as 1949.083 at its default 7 digits,
 * which is 0.004 months short of February. */
#define DECIMAL_MONTH_SLACK (1.0 / 20.0)

/* Two year-like times are a whole number of months apart when within this
 * many months of it: two rounded decimal years can be 0.012 months off. */
#define PERIOD_MONTH_SLACK (1.0 / 50.0)

typedef struct {
  const char *p;
  const char *end;
} Cursor;

static gboolean
is_digit (char c)
{
  return c >= '0' && c <= '9';
}

static gboolean
at (const Cursor *c, char want)
{
  return c->p < c->end && *c->p == want;
}

/* Reads min_n to max_n digits (as many as there are, up to max_n). */
static gboolean
read_digits (Cursor *c, int min_n, int max_n, int *value)
{
  int n = 0, v = 0;

  while (n < max_n && c->p < c->end && is_digit (*c->p)) {
    v = v * 10 + (*c->p - '0');
    c->p++;
    n++;
  }
  *value = v;
  return n >= min_n;
}

static gboolean
is_leap (gint64 y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month (gint64 y, int m)
{
  static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

  return m == 2 && is_leap (y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar, by
 * counting in 400-year eras from 0000-03-01 (H. Hinnant, "chrono-Compatible
 * Low-Level Date Algorithms"): starting the year in March puts the leap day
 * last, so the day of the year is a closed formula of the month. */
static gint64
days_from_civil (gint64 y, int m, int d)
{
  gint64 era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static double
year_start_seconds (gint64 y)
{
  return (double) days_from_civil (y, 1, 1) * SECONDS_PER_DAY;
}

/* Fills seconds and decimal_year from the calendar fields; offset is the
 * UTC offset in seconds (east positive). */
static void
finish_calendar (RsTime *t, double offset)
{
  double start = year_start_seconds (t->year);
  double next = year_start_seconds ((gint64) t->year + 1);
  double local = (double) days_from_civil (t->year, t->month, t->day) * SECONDS_PER_DAY
                 + t->hour * 3600.0 + t->minute * 60.0 + t->second;

  t->seconds = local - offset;
  if (t->kind == RS_TIME_YEAR_MONTH || t->kind == RS_TIME_YEAR)
    t->decimal_year = t->year + (t->month - 1) / 12.0;
  else
    t->decimal_year = t->year + (local - start) / (next - start);
}

/* An integer: sign only for indices. */
static gboolean
parse_integer (const char *s, gsize len, RsTimeIntegers integers, RsTime *t)
{
  gboolean negative = FALSE, sign = FALSE;
  guint64 v = 0;
  gsize i = 0;

  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    sign = TRUE;
    i = 1;
  }
  if (i == len)
    return FALSE;
  for (; i < len; i++) {
    if (!is_digit (s[i]))
      return FALSE;
    guint64 digit = (guint64) (s[i] - '0');

    if (v > ((guint64) G_MAXINT64 - digit) / 10)
      return FALSE;
    v = v * 10 + digit;
  }
  if (integers == RS_TIME_INTEGERS_YEAR || (integers == RS_TIME_INTEGERS_AUTO && !sign
                                            && len == 4)) {
    if (sign || v > 9999)
      return FALSE;
    t->kind = RS_TIME_YEAR;
    t->year = (int) v;
    t->month = t->day = 1;
    finish_calendar (t, 0);
    return TRUE;
  }
  t->kind = RS_TIME_INDEX;
  t->index = negative ? -(gint64) v : (gint64) v;
  return TRUE;
}

/* DIGITS.DIGITS, below 10000. */
static gboolean
parse_decimal_year (const char *s, gsize len, RsTime *t)
{
  char buf[64];
  gsize dot = 0, i;
  double v, months, whole, start, next;
  int month;

  for (i = 0; i < len; i++) {
    if (s[i] == '.' && dot == 0)
      dot = i;
    else if (!is_digit (s[i]))
      return FALSE;
  }
  if (dot == 0 || dot + 1 == len || dot > 4 || len >= sizeof buf)
    return FALSE;
  memcpy (buf, s, len);
  buf[len] = '\0';
  v = g_ascii_strtod (buf, NULL);
  whole = floor (v);
  months = (v - whole) * 12.0;
  month = (int) floor (months);
  if (months - month > 1.0 - DECIMAL_MONTH_SLACK)
    month++;
  t->kind = RS_TIME_DECIMAL_YEAR;
  t->year = (int) whole;
  if (month == 12) {           /* just below the next new year */
    t->year++;
    month = 0;
  }
  if (t->year > 9999) {
    memset (t, 0, sizeof *t);
    return FALSE;
  }
  t->month = month + 1;
  t->day = 1;
  start = year_start_seconds ((gint64) whole);
  next = year_start_seconds ((gint64) whole + 1);
  t->seconds = start + (v - whole) * (next - start);
  t->decimal_year = v;
  return TRUE;
}

/* Z, +HH, +HHMM or +HH:MM (or -), into seconds east of UTC. */
static gboolean
parse_offset (Cursor *c, double *offset)
{
  int sign, hours, minutes = 0;

  if (at (c, 'Z')) {
    c->p++;
    *offset = 0;
    return TRUE;
  }
  if (!at (c, '+') && !at (c, '-'))
    return FALSE;
  sign = *c->p == '-' ? -1 : 1;
  c->p++;
  if (!read_digits (c, 2, 2, &hours) || hours > 23)
    return FALSE;
  if (at (c, ':')) {
    c->p++;
    if (!read_digits (c, 2, 2, &minutes))
      return FALSE;
  } else if (c->p < c->end && !read_digits (c, 2, 2, &minutes)) {
    return FALSE;
  }
  if (minutes > 59)
    return FALSE;
  *offset = sign * (hours * 3600.0 + minutes * 60.0);
  return TRUE;
}

/* HH:MM[:SS[.fraction]] */
static gboolean
parse_clock (Cursor *c, RsTime *t)
{
  int whole;

  if (!read_digits (c, 1, 2, &t->hour) || !at (c, ':'))
    return FALSE;
  c->p++;
  if (!read_digits (c, 2, 2, &t->minute))
    return FALSE;
  if (at (c, ':')) {
    c->p++;
    if (!read_digits (c, 2, 2, &whole))
      return FALSE;
    t->second = whole;
    if (at (c, '.')) {
      double scale = 0.1, fraction = 0;

      c->p++;
      if (c->p == c->end || !is_digit (*c->p))
        return FALSE;
      /* Digits past nanoseconds cannot change a double of this size. */
      for (; c->p < c->end && is_digit (*c->p); c->p++, scale /= 10)
        fraction += (*c->p - '0') * scale;
      t->second += fraction;
    }
  }
  return t->hour <= 23 && t->minute <= 59 && t->second < 61;
}

/* YYYY-M[M][-D[D][(T| )H[H]:MM[:SS[.f]][offset]]] */
static gboolean
parse_calendar (const char *s, gsize len, RsTime *t)
{
  Cursor c = { s, s + len };
  double offset = 0;

  if (!read_digits (&c, 4, 4, &t->year) || !at (&c, '-'))
    return FALSE;
  c.p++;
  if (!read_digits (&c, 1, 2, &t->month) || t->month < 1 || t->month > 12)
    return FALSE;
  t->day = 1;
  t->kind = RS_TIME_YEAR_MONTH;
  if (at (&c, '-')) {
    c.p++;
    if (!read_digits (&c, 1, 2, &t->day) || t->day < 1
        || t->day > days_in_month (t->year, t->month))
      return FALSE;
    t->kind = RS_TIME_DATE;
    if (at (&c, 'T') || at (&c, ' ')) {
      c.p++;
      if (!parse_clock (&c, t))
        return FALSE;
      t->kind = RS_TIME_DATETIME;
      if (c.p < c.end && !parse_offset (&c, &offset))
        return FALSE;
    }
  }
  if (c.p != c.end)
    return FALSE;
  finish_calendar (t, offset);
  return TRUE;
}

gboolean
rs_time_parse (const char *text, gssize len, RsTimeIntegers integers, RsTime *time)
{
  gsize n;
  gboolean ok;

  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (time != NULL, FALSE);

  memset (time, 0, sizeof *time);
  n = len < 0 ? strlen (text) : (gsize) len;
  while (n > 0 && (text[0] == ' ' || text[0] == '\t')) {
    text++;
    n--;
  }
  while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
    n--;
  if (n == 0)
    return FALSE;

  if (memchr (text, '-', n) != NULL && n > 4 && text[4] == '-')
    ok = parse_calendar (text, n, time);
  else if (memchr (text, '.', n) != NULL)
    ok = parse_decimal_year (text, n, time);
  else
    ok = parse_integer (text, n, integers, time);
  if (!ok)
    memset (time, 0, sizeof *time);
  return ok;
}

int
rs_time_day_of_week (const RsTime *t)
{
  gint64 days;

  g_return_val_if_fail (t != NULL, -1);
  if (t->kind != RS_TIME_DATE && t->kind != RS_TIME_DATETIME)
    return -1;
  /* 1970-01-01 was a Thursday (3 with Monday = 0). */
  days = days_from_civil (t->year, t->month, t->day);
  return (int) (((days + 3) % 7 + 7) % 7);
}

static gboolean
is_year_like (RsTimeKind kind)
{
  return kind == RS_TIME_YEAR || kind == RS_TIME_YEAR_MONTH || kind == RS_TIME_DECIMAL_YEAR;
}

static gboolean
is_dated (RsTimeKind kind)
{
  return kind == RS_TIME_DATE || kind == RS_TIME_DATETIME;
}

static RsPeriod
period_of_months (gint64 months)
{
  switch (months) {
  case 1:
    return RS_PERIOD_MONTHLY;
  case 3:
    return RS_PERIOD_QUARTERLY;
  case 12:
    return RS_PERIOD_YEARLY;
  default:
    return RS_PERIOD_UNKNOWN;
  }
}

static gboolean
is_month_end (const RsTime *t)
{
  return t->day == days_in_month (t->year, t->month);
}

RsPeriod
rs_time_period_between (const RsTime *a, const RsTime *b)
{
  static const struct {
    double seconds;
    RsPeriod period;
  } steps[] = {
    { 60, RS_PERIOD_MINUTELY },
    { 3600, RS_PERIOD_HOURLY },
    { SECONDS_PER_DAY, RS_PERIOD_DAILY },
    { 7 * SECONDS_PER_DAY, RS_PERIOD_WEEKLY },
  };
  double step;

  g_return_val_if_fail (a != NULL && b != NULL, RS_PERIOD_UNKNOWN);

  if (is_year_like (a->kind) && is_year_like (b->kind)) {
    double months = (b->decimal_year - a->decimal_year) * 12.0;
    double whole = round (months);

    if (fabs (months - whole) > PERIOD_MONTH_SLACK)
      return RS_PERIOD_UNKNOWN;
    return period_of_months ((gint64) whole);
  }
  if (!is_dated (a->kind) || !is_dated (b->kind))
    return RS_PERIOD_UNKNOWN;
  if (a->hour == b->hour && a->minute == b->minute && a->second == b->second
      && (a->day == b->day || (is_month_end (a) && is_month_end (b)))) {
    RsPeriod p = period_of_months (((gint64) b->year - a->year) * 12 + b->month - a->month);

    if (p != RS_PERIOD_UNKNOWN)
      return p;
  }
  step = b->seconds - a->seconds;
  for (gsize i = 0; i < G_N_ELEMENTS (steps); i++)
    if (fabs (step - steps[i].seconds) < 1e-6)
      return steps[i].period;
  return RS_PERIOD_UNKNOWN;
}

RsPeriod
rs_time_period_of_series (const char *const *times, gsize n, RsTimeIntegers integers)
{
  gsize counts[RS_PERIOD_YEARLY + 1] = { 0 }, pairs = 0;
  guint best = RS_PERIOD_UNKNOWN;
  RsTime prev, cur;
  gboolean have_prev = FALSE;

  g_return_val_if_fail (times != NULL || n == 0, RS_PERIOD_UNKNOWN);
  for (gsize i = 0; i < n; i++) {
    const gboolean ok = times[i] != NULL && rs_time_parse (times[i], -1, integers, &cur);
    if (ok && have_prev) {
      counts[rs_time_period_between (&prev, &cur)]++;
      pairs++;
    }
    have_prev = ok;
    prev = cur;
  }
  for (guint p = 1; p <= RS_PERIOD_YEARLY; p++)
    if (counts[p] > counts[best])
      best = p;
  return pairs > 0 && counts[best] >= 0.9 * (double) pairs ? (RsPeriod) best
                                                             : RS_PERIOD_UNKNOWN;
}

guint
rs_period_season (RsPeriod period)
{
  switch (period) {
  case RS_PERIOD_MINUTELY:
    return 60;
  case RS_PERIOD_HOURLY:
    return 24;
  case RS_PERIOD_DAILY:
    return 7;
  case RS_PERIOD_WEEKLY:
    return 52;
  case RS_PERIOD_MONTHLY:
    return 12;
  case RS_PERIOD_QUARTERLY:
    return 4;
  case RS_PERIOD_YEARLY:
  case RS_PERIOD_UNKNOWN:
  default:
    return 1;
  }
}

const char *
rs_time_kind_name (RsTimeKind kind)
{
  switch (kind) {
  case RS_TIME_NONE:
    return "none";
  case RS_TIME_INDEX:
    return "index";
  case RS_TIME_YEAR:
    return "year";
  case RS_TIME_YEAR_MONTH:
    return "year-month";
  case RS_TIME_DECIMAL_YEAR:
    return "decimal-year";
  case RS_TIME_DATE:
    return "date";
  case RS_TIME_DATETIME:
    return "datetime";
  default:
    g_return_val_if_reached ("none");
  }
}

const char *
rs_period_name (RsPeriod period)
{
  switch (period) {
  case RS_PERIOD_UNKNOWN:
    return "unknown";
  case RS_PERIOD_MINUTELY:
    return "minutely";
  case RS_PERIOD_HOURLY:
    return "hourly";
  case RS_PERIOD_DAILY:
    return "daily";
  case RS_PERIOD_WEEKLY:
    return "weekly";
  case RS_PERIOD_MONTHLY:
    return "monthly";
  case RS_PERIOD_QUARTERLY:
    return "quarterly";
  case RS_PERIOD_YEARLY:
    return "yearly";
  default:
    g_return_val_if_reached ("unknown");
  }
}
