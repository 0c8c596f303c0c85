/* Series times: every recognised form, the texts that are not times, days
 * of the week and the period between neighbours. Expected seconds are
 * from Python's datetime (UTC). */
#include <math.h>
#include <string.h>

#include <rnnstream/series-time.h>

typedef struct {
  const char *text;
  RsTimeIntegers integers;
  RsTimeKind kind;
  int year, month, day, hour, minute;
  double second;
  double seconds;
  double decimal_year;
  gint64 index;
} Case;

static void
test_parse (void)
{
  const Case cases[] = {
    { "2024-03-01", 0, RS_TIME_DATE, 2024, 3, 1, 0, 0, 0, 1709251200, 2024 + 60.0 / 366, 0 },
    { " 2024-3-1\t", 0, RS_TIME_DATE, 2024, 3, 1, 0, 0, 0, 1709251200, 2024 + 60.0 / 366, 0 },
    { "2024-03-01T12:30:00", 0, RS_TIME_DATETIME, 2024, 3, 1, 12, 30, 0, 1709296200,
      2024 + (60 + 12.5 / 24) / 366, 0 },
    { "2024-03-01 12:30", 0, RS_TIME_DATETIME, 2024, 3, 1, 12, 30, 0, 1709296200,
      2024 + (60 + 12.5 / 24) / 366, 0 },
    { "2024-03-01T12:30:00Z", 0, RS_TIME_DATETIME, 2024, 3, 1, 12, 30, 0, 1709296200,
      2024 + (60 + 12.5 / 24) / 366, 0 },
    /* The wall-clock fields stay as written; seconds are UTC. */
    { "2024-03-01 12:30:00+05:30", 0, RS_TIME_DATETIME, 2024, 3, 1, 12, 30, 0, 1709276400,
      2024 + (60 + 12.5 / 24) / 366, 0 },
    { "2024-03-01T12:30-0100", 0, RS_TIME_DATETIME, 2024, 3, 1, 12, 30, 0, 1709296200 + 3600,
      2024 + (60 + 12.5 / 24) / 366, 0 },
    { "2024-03-01T12:30+01", 0, RS_TIME_DATETIME, 2024, 3, 1, 12, 30, 0, 1709296200 - 3600,
      2024 + (60 + 12.5 / 24) / 366, 0 },
    { "2000-02-29T23:59:59.5", 0, RS_TIME_DATETIME, 2000, 2, 29, 23, 59, 59.5, 951868799.5,
      2000 + (59 + 86399.5 / 86400) / 366, 0 },
    { "1900-03-01", 0, RS_TIME_DATE, 1900, 3, 1, 0, 0, 0, -2203891200, 1900 + 59.0 / 365, 0 },
    { "1970-01-01T00:00", 0, RS_TIME_DATETIME, 1970, 1, 1, 0, 0, 0, 0, 1970, 0 },
    { "1949-01", 0, RS_TIME_YEAR_MONTH, 1949, 1, 1, 0, 0, 0, -662688000, 1949, 0 },
    { "1949-2", 0, RS_TIME_YEAR_MONTH, 1949, 2, 1, 0, 0, 0, -660009600, 1949 + 1.0 / 12, 0 },
    { "1949", 0, RS_TIME_YEAR, 1949, 1, 1, 0, 0, 0, -662688000, 1949, 0 },
    { "1949", RS_TIME_INTEGERS_INDEX, RS_TIME_INDEX, .index = 1949 },
    { "12", RS_TIME_INTEGERS_YEAR, RS_TIME_YEAR, 12, 1, 1, 0, 0, 0, -61788528000, 12, 0 },
    { "1949.083333", 0, RS_TIME_DECIMAL_YEAR, 1949, 2, 1, 0, 0, 0,
      -662688000 + 0.083333 * 365 * 86400, 1949.083333, 0 },
    /* R's 7 digits: 0.996 of a month in, taken as February. */
    { "1949.083", 0, RS_TIME_DECIMAL_YEAR, 1949, 2, 1, 0, 0, 0,
      -662688000 + 0.083 * 365 * 86400, 1949.083, 0 },
    { "1949.25", 0, RS_TIME_DECIMAL_YEAR, 1949, 4, 1, 0, 0, 0,
      -662688000 + 0.25 * 365 * 86400, 1949.25, 0 },
    { "1949.9999", 0, RS_TIME_DECIMAL_YEAR, 1950, 1, 1, 0, 0, 0,
      -662688000 + 0.9999 * 365 * 86400, 1949.9999, 0 },
    { "0", 0, RS_TIME_INDEX, .index = 0 },
    { "17", 0, RS_TIME_INDEX, .index = 17 },
    { "-3", 0, RS_TIME_INDEX, .index = -3 },
    { "+12345", 0, RS_TIME_INDEX, .index = 12345 },
    { "9223372036854775800", 0, RS_TIME_INDEX, .index = G_GINT64_CONSTANT (9223372036854775800) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const Case *c = &cases[i];
    RsTime t;

    g_test_message ("%s", c->text);
    g_assert_true (rs_time_parse (c->text, -1, c->integers, &t));
    g_assert_cmpint (t.kind, ==, c->kind);
    g_assert_cmpint (t.index, ==, c->index);
    if (c->kind == RS_TIME_INDEX)
      continue;
    g_assert_cmpint (t.year, ==, c->year);
    g_assert_cmpint (t.month, ==, c->month);
    g_assert_cmpint (t.day, ==, c->day);
    g_assert_cmpint (t.hour, ==, c->hour);
    g_assert_cmpint (t.minute, ==, c->minute);
    g_assert_cmpfloat (t.second, ==, c->second);
    /* A decimal year's fraction is good to 1e-13 of a year: 3 us. */
    g_assert_cmpfloat_with_epsilon (t.seconds, c->seconds, 1e-4);
    g_assert_cmpfloat_with_epsilon (t.decimal_year, c->decimal_year, 1e-12);
  }
}

static void
test_not_times (void)
{
  const char *texts[] = {
    "", "  ", "2024-13-01", "2024-02-30", "2023-02-29", "1900-02-29", "2024-00", "2024-03-01T24:00",
    "2024-03-01T12:60", "2024-03-01T12:30:61", "2024-03-01T12", "2024-03-01T12:3",
    "2024-03-01T12:30:00.", "2024-03-01T12:30+2", "2024-03-01T12:30+24:00", "2024-03-01T12:30+01:60",
    "2024-03-01T12:30Zjunk", "2024-03-01  12:30", "24-03-01", "2024/03/01", "March 2024",
    "1949.", ".5", "9999.999", "-1949.5", "12345.5", "1e3", "0x10", "1949.08.3", "nan", "9223372036854775808",
    "-", "+", "2024-03-01x",
  };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++) {
    RsTime t = { .kind = RS_TIME_DATE, .year = 7 };

    g_test_message ("'%s'", texts[i]);
    g_assert_false (rs_time_parse (texts[i], -1, RS_TIME_INTEGERS_AUTO, &t));
    g_assert_cmpint (t.kind, ==, RS_TIME_NONE);
    g_assert_cmpint (t.year, ==, 0);
  }
  {
    RsTime t;

    /* Signed or past 9999: not a year. */
    g_assert_false (rs_time_parse ("-12", -1, RS_TIME_INTEGERS_YEAR, &t));
    g_assert_false (rs_time_parse ("10000", -1, RS_TIME_INTEGERS_YEAR, &t));
    /* Only len bytes count. */
    g_assert_true (rs_time_parse ("2024-03-01junk", 10, RS_TIME_INTEGERS_AUTO, &t));
    g_assert_cmpint (t.kind, ==, RS_TIME_DATE);
  }
}

static void
test_day_of_week (void)
{
  const struct {
    const char *text;
    int day;
  } cases[] = {
    { "1970-01-01", 3 }, { "2024-03-01", 4 }, { "2024-03-03T23:59", 6 }, { "2024-03-04", 0 },
    { "1949-01-01", 5 }, { "1900-03-01", 3 }, { "0001-01-01", 0 }, { "2000-02-29", 1 },
    { "1949-01", -1 }, { "1949", -1 }, { "7", -1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    RsTime t;

    g_assert_true (rs_time_parse (cases[i].text, -1, RS_TIME_INTEGERS_AUTO, &t));
    g_assert_cmpint (rs_time_day_of_week (&t), ==, cases[i].day);
  }
}

static void
test_period (void)
{
  const struct {
    const char *a, *b;
    RsPeriod period;
  } cases[] = {
    { "1949-01", "1949-02", RS_PERIOD_MONTHLY },
    { "1949-12", "1950-01", RS_PERIOD_MONTHLY },
    { "1949-01", "1949-04", RS_PERIOD_QUARTERLY },
    { "1949", "1950", RS_PERIOD_YEARLY },
    { "1949", "1949.083333", RS_PERIOD_MONTHLY },
    { "1949.916667", "1950", RS_PERIOD_MONTHLY },
    { "1949.083", "1949.167", RS_PERIOD_MONTHLY },
    { "1949.25", "1949.5", RS_PERIOD_QUARTERLY },
    { "1949-01", "1949.083333", RS_PERIOD_MONTHLY },
    { "1949.1", "1949.2", RS_PERIOD_UNKNOWN },
    { "1949-01", "1949-03", RS_PERIOD_UNKNOWN },
    { "2024-01-31", "2024-02-29", RS_PERIOD_MONTHLY },
    { "2024-01-15", "2024-02-15", RS_PERIOD_MONTHLY },
    { "2024-01-01", "2024-04-01", RS_PERIOD_QUARTERLY },
    { "2023-03-31", "2024-03-31", RS_PERIOD_YEARLY },
    { "2024-01-30", "2024-01-31", RS_PERIOD_DAILY },
    { "2024-02-28", "2024-02-29", RS_PERIOD_DAILY },
    { "2024-03-01", "2024-03-08", RS_PERIOD_WEEKLY },
    { "2024-03-01 12:00", "2024-03-01 13:00", RS_PERIOD_HOURLY },
    { "2024-03-01 12:00+01:00", "2024-03-01 12:00Z", RS_PERIOD_HOURLY },
    { "2024-03-01 12:00", "2024-03-01 12:01", RS_PERIOD_MINUTELY },
    { "2024-03-01", "2024-03-02 00:00", RS_PERIOD_DAILY },
    { "2024-03-01 12:00", "2024-04-01 12:00", RS_PERIOD_MONTHLY },
    { "2024-03-01 12:00", "2024-03-01 12:00:30", RS_PERIOD_UNKNOWN },
    { "2024-03-01", "2024-03-03", RS_PERIOD_UNKNOWN },
    { "1", "2", RS_PERIOD_UNKNOWN },
    { "2024-03", "2024-04-01", RS_PERIOD_UNKNOWN },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    RsTime a, b;

    g_test_message ("%s -> %s", cases[i].a, cases[i].b);
    g_assert_true (rs_time_parse (cases[i].a, -1, RS_TIME_INTEGERS_AUTO, &a));
    g_assert_true (rs_time_parse (cases[i].b, -1, RS_TIME_INTEGERS_AUTO, &b));
    g_assert_cmpstr (rs_period_name (rs_time_period_between (&a, &b)), ==,
                     rs_period_name (cases[i].period));
  }
}

/* A series' period: what 90% of its neighbours agree on, through gaps
 * and texts that are not times. */
static void
test_period_of_series (void)
{
  const char *const monthly[] = { "1949-01", "1949-02", "1949-03", "1949-05", "1949-06",
                                  "1949-07", "1949-08", "1949-09", "1949-10", "1949-11",
                                  "1949-12", "1950-01" };
  const char *const gap[] = { "2024-03-01", "2024-03-02", "n/a", "2024-03-04", "2024-03-05" };
  const char *const mixed[] = { "2024-03-01", "2024-03-02", "2024-03-09", "2024-03-16" };
  const char *const one[] = { "1949-01" };

  /* 10 monthly pairs of 11 (one skips a month): 91%. */
  g_assert_cmpint (rs_time_period_of_series (monthly, G_N_ELEMENTS (monthly),
                                             RS_TIME_INTEGERS_AUTO), ==, RS_PERIOD_MONTHLY);
  /* 9 of 10 is still monthly; 1 of 2 is not. */
  g_assert_cmpint (rs_time_period_of_series (monthly, 11, RS_TIME_INTEGERS_AUTO), ==,
                   RS_PERIOD_MONTHLY);
  g_assert_cmpint (rs_time_period_of_series (monthly + 2, 3, RS_TIME_INTEGERS_AUTO), ==,
                   RS_PERIOD_UNKNOWN);
  /* A text that is not a time breaks the pairs around it, no more. */
  g_assert_cmpint (rs_time_period_of_series (gap, G_N_ELEMENTS (gap), RS_TIME_INTEGERS_AUTO),
                   ==, RS_PERIOD_DAILY);
  g_assert_cmpint (rs_time_period_of_series (mixed, G_N_ELEMENTS (mixed),
                                             RS_TIME_INTEGERS_AUTO), ==, RS_PERIOD_UNKNOWN);
  g_assert_cmpint (rs_time_period_of_series (one, 1, RS_TIME_INTEGERS_AUTO), ==,
                   RS_PERIOD_UNKNOWN);
  g_assert_cmpint (rs_time_period_of_series (NULL, 0, RS_TIME_INTEGERS_AUTO), ==,
                   RS_PERIOD_UNKNOWN);
  g_assert_cmpuint (rs_period_season (RS_PERIOD_MONTHLY), ==, 12);
  g_assert_cmpuint (rs_period_season (RS_PERIOD_QUARTERLY), ==, 4);
  g_assert_cmpuint (rs_period_season (RS_PERIOD_DAILY), ==, 7);
  g_assert_cmpuint (rs_period_season (RS_PERIOD_HOURLY), ==, 24);
  g_assert_cmpuint (rs_period_season (RS_PERIOD_YEARLY), ==, 1);
  g_assert_cmpuint (rs_period_season (RS_PERIOD_UNKNOWN), ==, 1);
}

static void
test_names (void)
{
  g_assert_cmpstr (rs_time_kind_name (RS_TIME_DECIMAL_YEAR), ==, "decimal-year");
  g_assert_cmpstr (rs_time_kind_name (RS_TIME_YEAR_MONTH), ==, "year-month");
  g_assert_cmpstr (rs_period_name (RS_PERIOD_QUARTERLY), ==, "quarterly");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/series-time/parse", test_parse);
  g_test_add_func ("/series-time/not-times", test_not_times);
  g_test_add_func ("/series-time/day-of-week", test_day_of_week);
  g_test_add_func ("/series-time/period", test_period);
  g_test_add_func ("/series-time/period-of-series", test_period_of_series);
  g_test_add_func ("/series-time/names", test_names);
  return g_test_run ();
}
