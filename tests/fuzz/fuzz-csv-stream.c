/* libFuzzer target: the CSV stream reader, and the feature stages behind
 * it, over arbitrary bytes.
 *
 * The first byte chooses the options; the rest is the CSV text, read once
 * under each of the four missing-value policies:
 *   bits 0-1  header: auto, yes, no, auto
 *   bits 2-3  time column: none, index 1, name "t" (index 1 without a
 *             header), index 2
 *   bit 4     value columns: all but the time column / index 2 then name
 *             "v" (index 1 without a header)
 *   bit 5     ';' as the delimiter
 *   bit 6     integer times always indices
 *   bit 7     at most 3 rows held back
 *
 * Invariants: every error is RS_ERROR_PARSE with one printable line that
 * starts with the display name; a final error repeats itself; rows come in
 * input order with finite values, the declared width and a time text where
 * there is a time column; only INTERPOLATE holds rows back; the stages
 * accept every row. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rnnstream/csv-stream.h>
#include <rnnstream/error.h>
#include <rnnstream/series-features.h>

#define DISPLAY_NAME "fuzz.csv"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check (gboolean condition, const char *what)
{
  if (!condition) {
    fprintf (stderr, "fuzz-csv-stream: broken invariant: %s\n", what);
    abort ();
  }
}

static void
check_error (const GError *error)
{
  check (error != NULL, "-1 without an error");
  check (g_error_matches (error, RS_ERROR, RS_ERROR_PARSE), "error is not RS_ERROR_PARSE");
  check (g_str_has_prefix (error->message, DISPLAY_NAME ":"), "message lacks the name");
  check (g_utf8_validate (error->message, -1, NULL), "message is not UTF-8");
  for (const char *p = error->message; *p != '\0'; p++)
    check ((unsigned char) *p >= 0x20 && *p != 0x7f, "message holds a control character");
}

/* The feature stages, made at the first row (when the width is known). */
typedef struct {
  RsLagWindow *window;
  RsDifference *difference;
  RsStandardise *standardise;
  RsCalendar *position;
  RsCalendar *calendar;
  double *level;
} Stages;

static void
stages_push (Stages *st, const RsCsvRow *row)
{
  GError *error = NULL;
  const double *out;

  if (st->window == NULL) {
    st->window = rs_lag_window_new (row->n_values, 3, FALSE);
    st->difference = rs_difference_new (row->n_values, 1, 2);
    st->standardise = rs_standardise_new_running (row->n_values);
    st->position = rs_calendar_new (RS_CALENDAR_POSITION);
    st->calendar = rs_calendar_new (RS_CALENDAR_MONTH | RS_CALENDAR_QUARTER);
    st->level = g_new (double, row->n_values);
  }
  rs_lag_window_push (st->window, row->values);
  if (rs_difference_ready (st->difference))
    rs_difference_invert (st->difference, row->values, st->level);
  rs_difference_push (st->difference, row->values);
  rs_standardise_push (st->standardise, row->values);
  check (rs_calendar_push (st->position, &row->time, NULL) != NULL, "position refused");
  out = rs_calendar_push (st->calendar, &row->time, &error);
  check ((out != NULL) == ((rs_calendar_supported (row->time.kind) & RS_CALENDAR_MONTH) != 0),
         "calendar disagrees with rs_calendar_supported");
  if (out != NULL) {
    for (guint i = 0; i < rs_calendar_width_out (st->calendar); i++)
      check (isfinite (out[i]) && fabs (out[i]) <= 1, "calendar feature out of range");
  }
  g_clear_error (&error);
}

static void
stages_clear (Stages *st)
{
  rs_lag_window_free (st->window);
  rs_difference_free (st->difference);
  rs_standardise_free (st->standardise);
  rs_calendar_free (st->position);
  rs_calendar_free (st->calendar);
  g_free (st->level);
}

static void
read_all (const uint8_t *data, size_t size, uint8_t config, RsCsvMissing missing)
{
  gboolean header_no = (config & 3) == 2;
  RsCsvColumn columns[2] = { { NULL, 2 }, { header_no ? NULL : "v", 1 } };
  RsCsvOptions o = {
    .delimiter = (config & 0x20) ? ';' : ',',
    .header = (config & 3) == 3 ? RS_CSV_HEADER_AUTO : (RsCsvHeader) (config & 3),
    .missing = missing,
    .columns = (config & 0x10) ? columns : NULL,
    .n_columns = (config & 0x10) ? 2 : 0,
    .time_integers = (config & 0x40) ? RS_TIME_INTEGERS_INDEX : RS_TIME_INTEGERS_AUTO,
    .max_held = (config & 0x80) ? 3 : 0,
  };
  gboolean has_time = ((config >> 2) & 3) != 0;
  FILE *f = fmemopen ((void *) data, size, "r");
  RsCsvStream *s;
  GError *error = NULL;
  char *last_error = NULL;
  guint64 last_line = 0, error_line = G_MAXUINT64;
  guint stalls = 0;
  Stages stages = { 0 };

  switch ((config >> 2) & 3) {
  case 1:
    o.time_column.index = 1;
    break;
  case 2:
    o.time_column.name = header_no ? NULL : "t";
    o.time_column.index = 1;
    break;
  case 3:
    o.time_column.index = 2;
    break;
  default:
    break;
  }
  if (f == NULL)
    return;
  s = rs_csv_stream_new (f, DISPLAY_NAME, &o, &error);
  check (s != NULL && error == NULL, "consistent options refused");

  for (;;) {
    const RsCsvRow *row = NULL;
    int got = rs_csv_stream_next (s, &row, &error);

    if (got == 0) {
      check (error == NULL, "end with an error");
      check (rs_csv_stream_n_held (s) == 0, "rows held at the end");
      break;
    }
    if (got < 0) {
      check_error (error);
      /* Row errors consume a line. Without one, either the end came (a gap
       * still open; then 0 follows), or the error is final and repeats. */
      if (rs_csv_stream_line (s) == error_line) {
        check (++stalls <= 2, "errors without progress");
        if (last_error != NULL && strcmp (last_error, error->message) == 0) {
          g_clear_error (&error);
          break;
        }
      } else {
        stalls = 0;
      }
      error_line = rs_csv_stream_line (s);
      g_free (last_error);
      last_error = g_strdup (error->message);
      g_clear_error (&error);
      continue;
    }
    error_line = G_MAXUINT64;
    stalls = 0;
    check (error == NULL, "a row with an error");
    check (row != NULL, "a row that is NULL");
    check (row->n_values > 0 && row->n_values == rs_csv_stream_n_values (s), "row width");
    check (row->line > last_line, "rows out of order");
    check (row->line <= rs_csv_stream_line (s), "row from a line not read yet");
    last_line = row->line;
    for (guint i = 0; i < row->n_values; i++) {
      check (isfinite (row->values[i]), "a value that is not finite");
      check (rs_csv_stream_value_name (s, i) != NULL, "a value without a name");
    }
    check ((row->time_text != NULL) == has_time, "time text present iff a time column");
    if (row->time_text != NULL)
      check (strlen (row->time_text) <= RS_CSV_STREAM_MAX_TIME, "time text too long");
    else
      check (row->time.kind == RS_TIME_NONE, "a time without a time column");
    if (missing != RS_CSV_MISSING_INTERPOLATE)
      check (rs_csv_stream_n_held (s) == 0, "rows held without interpolation");
    check (rs_csv_stream_n_held (s) <= ((config & 0x80) ? 3 : RS_CSV_STREAM_DEFAULT_MAX_HELD),
           "more rows held than max_held");
    stages_push (&stages, row);
  }
  if (missing != RS_CSV_MISSING_SKIP)
    check (rs_csv_stream_n_skipped (s) == 0, "rows skipped without SKIP");
  g_free (last_error);
  stages_clear (&stages);
  rs_csv_stream_free (s);
  fclose (f);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  for (int m = RS_CSV_MISSING_ERROR; m <= RS_CSV_MISSING_INTERPOLATE; m++)
    read_all (data + 1, size - 1, data[0], (RsCsvMissing) m);
  return 0;
}
