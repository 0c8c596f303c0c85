/* The CSV stream reader: format, header detection, column choice, times,
 * every missing-value policy, every malformed row with its exact message,
 * and row-by-row reading from a pipe. */
#include <locale.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <rnnstream/csv-stream.h>
#include <rnnstream/error.h>

/* What a reader gave for a whole input. */
typedef struct {
  GArray *values;              /* double, n_values per row */
  guint n_values;
  GPtrArray *times;            /* the time texts ("(null)" without a time column) */
  GArray *kinds;               /* RsTimeKind per row */
  GArray *lines;               /* guint64: each row's line */
  GArray *read_to;             /* guint64: the last line read when the row came */
  GPtrArray *errors;           /* every error message, in order */
  guint64 skipped;
  char **header;
} Result;

static void
result_free (Result *r)
{
  g_array_unref (r->values);
  g_ptr_array_unref (r->times);
  g_array_unref (r->kinds);
  g_array_unref (r->lines);
  g_array_unref (r->read_to);
  g_ptr_array_unref (r->errors);
  g_strfreev (r->header);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Result, result_free)

/* Reads text (len bytes; < 0: NUL-terminated) to its end, going on after
 * errors (at most 50, so that a final error cannot loop). */
static Result *
run_len (const char *text, gssize len, const RsCsvOptions *options)
{
  gsize n = len < 0 ? strlen (text) : (gsize) len;
  FILE *f = fmemopen ((void *) text, MAX (n, 1), "r");
  g_autoptr (GError) error = NULL;
  g_autoptr (RsCsvStream) s = NULL;
  Result *r = g_new0 (Result, 1);
  const RsCsvRow *row;
  int got;

  /* fmemopen refuses size 0: an empty input is one NUL byte, read as a
   * line holding a NUL, so give it a real empty file instead. */
  if (n == 0) {
    fclose (f);
    f = fopen ("/dev/null", "r");
  }
  g_assert_nonnull (f);
  s = rs_csv_stream_new (f, "in.csv", options, &error);
  g_assert_no_error (error);
  r->values = g_array_new (FALSE, FALSE, sizeof (double));
  r->times = g_ptr_array_new_with_free_func (g_free);
  r->kinds = g_array_new (FALSE, FALSE, sizeof (RsTimeKind));
  r->lines = g_array_new (FALSE, FALSE, sizeof (guint64));
  r->read_to = g_array_new (FALSE, FALSE, sizeof (guint64));
  r->errors = g_ptr_array_new_with_free_func (g_free);
  while (r->errors->len < 50) {
    guint64 read_to;

    got = rs_csv_stream_next (s, &row, &error);
    if (got == 0)
      break;
    if (got < 0) {
      g_assert_nonnull (error);
      g_assert_true (error->domain == RS_ERROR);
      g_ptr_array_add (r->errors, g_strdup (error->message));
      g_clear_error (&error);
      continue;
    }
    g_assert_null (error);
    r->n_values = row->n_values;
    g_assert_cmpuint (row->n_values, ==, rs_csv_stream_n_values (s));
    for (guint i = 0; i < row->n_values; i++)
      g_assert_true (isfinite (row->values[i]));
    g_array_append_vals (r->values, row->values, row->n_values);
    g_ptr_array_add (r->times, g_strdup (row->time_text != NULL ? row->time_text : "(null)"));
    g_array_append_val (r->kinds, row->time.kind);
    g_array_append_val (r->lines, row->line);
    read_to = rs_csv_stream_line (s);
    g_array_append_val (r->read_to, read_to);
  }
  r->skipped = rs_csv_stream_n_skipped (s);
  r->header = g_strdupv ((char **) rs_csv_stream_header (s));
  g_clear_pointer (&s, rs_csv_stream_free);
  fclose (f);
  return r;
}

static Result *
run (const char *text, const RsCsvOptions *options)
{
  return run_len (text, -1, options);
}

static void
assert_values (const Result *r, const double *expected, guint n)
{
  g_assert_cmpuint (r->values->len, ==, n);
  for (guint i = 0; i < n; i++) {
    double got = g_array_index (r->values, double, i);

    if (fabs (got - expected[i]) > 1e-12 * MAX (1.0, fabs (expected[i])))
      g_error ("value %u: got %.17g, expected %.17g", i, got, expected[i]);
  }
}

static void
assert_lines (const GArray *lines, const guint64 *expected, guint n)
{
  g_assert_cmpuint (lines->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (g_array_index (lines, guint64, i), ==, expected[i]);
}

static void
assert_errors (const Result *r, const char *const *expected)
{
  guint n = expected != NULL ? g_strv_length ((char **) expected) : 0;

  for (guint i = 0; i < MIN (n, r->errors->len); i++)
    g_assert_cmpstr (g_ptr_array_index (r->errors, i), ==, expected[i]);
  g_assert_cmpuint (r->errors->len, ==, n);
}

#define NO_ERRORS ((const char *const *) NULL)
#define ERRORS(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* Format */

static void
test_format (void)
{
  RsCsvOptions o = { .time_column = { "time", 0 } };
  g_autoptr (Result) r = run ("\xEF\xBB\xBFtime,a,b\r\n"
                              "# a comment\r\n"
                              "\r\n"
                              "  \t\n"
                              "  # an indented comment\n"
                              "2024-01-01, 1.5 ,\t-2\r\n"
                              " 2024-01-02 ,3,4e1", &o);
  const double values[] = { 1.5, -2, 3, 40 };
  const guint64 lines[] = { 6, 7 };

  assert_errors (r, NO_ERRORS);
  assert_values (r, values, G_N_ELEMENTS (values));
  assert_lines (r->lines, lines, G_N_ELEMENTS (lines));
  g_assert_cmpstr (g_ptr_array_index (r->times, 0), ==, "2024-01-01");
  g_assert_cmpstr (g_ptr_array_index (r->times, 1), ==, "2024-01-02");
  g_assert_cmpint (g_array_index (r->kinds, RsTimeKind, 1), ==, RS_TIME_DATE);
  g_assert_nonnull (r->header);
  g_assert_cmpstr (r->header[0], ==, "time");   /* the BOM is gone */
  g_assert_cmpuint (g_strv_length (r->header), ==, 3);
}

static void
test_numbers (void)
{
  RsCsvOptions o = { .header = RS_CSV_HEADER_NO };
  g_autoptr (Result) good = run (".5\n7.\n+3\n-1E3\n1e-400\n0.1\n\"2.5\"\n\" 4 \"\n", &o);
  const double values[] = { 0.5, 7, 3, -1000, 0, 0.1, 2.5, 4 };
  g_autoptr (Result) bad = run ("0x1A\ninf\n-Infinity\n1e\n1.5.2\n1,5\n1e999\n--1\n.\n1 2\n", &o);

  assert_errors (good, NO_ERRORS);
  assert_values (good, values, G_N_ELEMENTS (values));
  assert_errors (bad, ERRORS ("in.csv:1: column 1: '0x1A' is not a number",
                              "in.csv:2: column 1: 'inf' is not a number",
                              "in.csv:3: column 1: '-Infinity' is not a number",
                              "in.csv:4: column 1: '1e' is not a number",
                              "in.csv:5: column 1: '1.5.2' is not a number",
                              "in.csv:6: 2 fields, expected 1",
                              "in.csv:7: column 1: '1e999' is beyond the double range",
                              "in.csv:8: column 1: '--1' is not a number",
                              "in.csv:9: column 1: '.' is not a number",
                              "in.csv:10: column 1: '1 2' is not a number"));
}

/* The C locale's '.' whatever the process locale says. */
static void
test_locale (void)
{
  const char *locales[] = { "de_DE.UTF-8", "fr_FR.UTF-8", "de_DE", "fr_FR" };
  gboolean comma = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (locales) && !comma; i++)
    comma = setlocale (LC_NUMERIC, locales[i]) != NULL;
  {
    g_autoptr (Result) r = run ("x\n1.25\n", NULL);
    const double values[] = { 1.25 };

    assert_errors (r, NO_ERRORS);
    assert_values (r, values, 1);
  }
  setlocale (LC_NUMERIC, "C");
  if (!comma)
    g_test_message ("no locale with a decimal comma installed; checked in C only");
}

static void
test_quoting (void)
{
  RsCsvOptions o = {
    .columns = (const RsCsvColumn[]) { { "value, with comma", 0 } },
    .n_columns = 1,
    .time_column = { "time", 0 },
  };
  g_autoptr (Result) r = run ("\"time\",\"value, with comma\",\"note\"\n"
                              "\"2024-03-01 12:30\",\"1.5\",\"say \"\"hi\"\", twice\"\n"
                              "  \"2024-03-01 12:31\"  , 2 ,a\"b\n"
                              "\"\",\"3\",\"\"\n", &o);
  const double values[] = { 1.5, 2, 3 };

  assert_errors (r, NO_ERRORS);
  assert_values (r, values, G_N_ELEMENTS (values));
  g_assert_cmpstr (r->header[1], ==, "value, with comma");
  g_assert_cmpstr (g_ptr_array_index (r->times, 0), ==, "2024-03-01 12:30");
  g_assert_cmpint (g_array_index (r->kinds, RsTimeKind, 0), ==, RS_TIME_DATETIME);
  g_assert_cmpstr (g_ptr_array_index (r->times, 1), ==, "2024-03-01 12:31");
  g_assert_cmpstr (g_ptr_array_index (r->times, 2), ==, "");
  g_assert_cmpint (g_array_index (r->kinds, RsTimeKind, 2), ==, RS_TIME_NONE);
}

static void
test_delimiters (void)
{
  RsCsvOptions semicolon = { .delimiter = ';' };
  RsCsvOptions tab = { .delimiter = '\t' };
  g_autoptr (Result) a = run ("a;b\n1.5;\"x;y\"\n", &semicolon);
  g_autoptr (Result) b = run ("a;b\n1,5;2\n", &semicolon);
  g_autoptr (Result) c = run ("a\tb\n1\t 2 \n", &tab);
  g_autoptr (GError) error = NULL;
  RsCsvOptions pipe_sep = { .delimiter = '|' };

  assert_errors (a, ERRORS ("in.csv:2: column 'b' (2): 'x;y' is not a number"));
  assert_errors (b, ERRORS ("in.csv:2: column 'a' (1): '1,5' is not a number"));
  assert_errors (c, NO_ERRORS);
  assert_values (c, (const double[]) { 1, 2 }, 2);
  g_assert_null (rs_csv_stream_new (stdin, "in.csv", &pipe_sep, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "delimiter must be ',', ';' or tab");
}

/* Header detection */

static void
test_header_auto (void)
{
  RsCsvOptions by_index = { .columns = (const RsCsvColumn[]) { { NULL, 2 } }, .n_columns = 1 };
  RsCsvOptions time1 = { .time_column = { NULL, 1 } };
  g_autoptr (Result) numeric = run ("1,2\n3,4\n", NULL);
  g_autoptr (Result) text = run ("a,b\n3,4\n", NULL);
  /* Only the value columns decide: a text column not chosen does not. */
  g_autoptr (Result) other_text = run ("x,2\ny,4\n", &by_index);
  /* Dates in the time column are not a header either. */
  g_autoptr (Result) dates = run ("2024-01-01,5\n2024-01-02,6\n", &time1);
  /* pandas writes an index column with an empty name. */
  g_autoptr (Result) pandas = run (",a\n0,1\n", NULL);
  /* Missing-value markers count as numbers. */
  g_autoptr (Result) missing = run ("NA,1\n2,3\n", NULL);

  assert_values (numeric, (const double[]) { 1, 2, 3, 4 }, 4);
  g_assert_null (numeric->header);
  assert_values (text, (const double[]) { 3, 4 }, 2);
  g_assert_cmpstr (text->header[1], ==, "b");
  assert_errors (other_text, NO_ERRORS);
  assert_values (other_text, (const double[]) { 2, 4 }, 2);
  assert_errors (dates, NO_ERRORS);
  assert_values (dates, (const double[]) { 5, 6 }, 2);
  g_assert_null (dates->header);
  assert_values (pandas, (const double[]) { 0, 1 }, 2);
  g_assert_cmpstr (pandas->header[0], ==, "");
  assert_errors (missing, ERRORS ("in.csv:1: column 1: missing value 'NA'"));
  assert_values (missing, (const double[]) { 2, 3 }, 2);
}

static void
test_header_forced (void)
{
  RsCsvOptions yes = { .header = RS_CSV_HEADER_YES };
  RsCsvOptions no = { .header = RS_CSV_HEADER_NO };
  g_autoptr (Result) numeric_header = run ("1,2\n3,4\n", &yes);
  g_autoptr (Result) text_data = run ("a,b\n3,4\n", &no);
  g_autoptr (Result) only_header = run ("a,b\n", &yes);
  g_autoptr (Result) empty = run ("", &yes);

  assert_values (numeric_header, (const double[]) { 3, 4 }, 2);
  g_assert_cmpstr (numeric_header->header[0], ==, "1");
  /* A row error, not a final one: the layout is known. */
  assert_errors (text_data, ERRORS ("in.csv:1: column 1: 'a' is not a number"));
  assert_values (text_data, (const double[]) { 3, 4 }, 2);
  assert_errors (only_header, NO_ERRORS);
  g_assert_cmpuint (only_header->values->len, ==, 0);
  g_assert_cmpstr (only_header->header[1], ==, "b");
  assert_errors (empty, NO_ERRORS);
  g_assert_null (empty->header);
}

/* Columns */

static void
test_columns (void)
{
  const char *text = "t,a,b,c\n1,10,20,30\n2,11,21,31\n";
  RsCsvOptions by_name = {
    .columns = (const RsCsvColumn[]) { { "c", 0 }, { "a", 0 } }, .n_columns = 2,
  };
  RsCsvOptions by_index = {
    .columns = (const RsCsvColumn[]) { { NULL, 4 }, { NULL, 2 }, { NULL, 4 } }, .n_columns = 3,
    .time_column = { NULL, 1 },
  };
  RsCsvOptions mixed = {
    .columns = (const RsCsvColumn[]) { { NULL, 3 }, { "a", 0 } }, .n_columns = 2,
    .time_column = { "t", 0 },
  };
  RsCsvOptions all_but_time = { .time_column = { "b", 0 } };
  RsCsvOptions time_too = {
    .columns = (const RsCsvColumn[]) { { "t", 0 } }, .n_columns = 1, .time_column = { "t", 0 },
  };
  g_autoptr (Result) r1 = run (text, &by_name);
  g_autoptr (Result) r2 = run (text, &by_index);
  g_autoptr (Result) r3 = run (text, &mixed);
  g_autoptr (Result) r4 = run (text, &all_but_time);
  g_autoptr (Result) r5 = run ("t,v\n1949.5,3\n", &time_too);

  assert_values (r1, (const double[]) { 30, 10, 31, 11 }, 4);
  assert_values (r2, (const double[]) { 30, 10, 30, 31, 11, 31 }, 6);
  assert_values (r3, (const double[]) { 20, 10, 21, 11 }, 4);
  g_assert_cmpstr (g_ptr_array_index (r3->times, 1), ==, "2");
  assert_values (r4, (const double[]) { 1, 10, 30, 2, 11, 31 }, 6);
  g_assert_cmpstr (g_ptr_array_index (r4->times, 0), ==, "20");
  g_assert_cmpstr (g_ptr_array_index (r1->times, 0), ==, "(null)");
  assert_values (r5, (const double[]) { 1949.5 }, 1);
  g_assert_cmpstr (g_ptr_array_index (r5->times, 0), ==, "1949.5");
  g_assert_cmpint (g_array_index (r5->kinds, RsTimeKind, 0), ==, RS_TIME_DECIMAL_YEAR);
}

static void
test_value_names (void)
{
  const char *text = "t,a,b\n1,2,3\n";
  FILE *f = fmemopen ((void *) text, strlen (text), "r");
  RsCsvOptions o = {
    .columns = (const RsCsvColumn[]) { { "b", 0 }, { NULL, 1 } }, .n_columns = 2,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (RsCsvStream) s = rs_csv_stream_new (f, "in.csv", &o, &error);
  const RsCsvRow *row;

  g_assert_cmpuint (rs_csv_stream_n_values (s), ==, 0);
  g_assert_null (rs_csv_stream_header (s));
  g_assert_cmpint (rs_csv_stream_next (s, &row, &error), ==, 1);
  g_assert_cmpuint (rs_csv_stream_n_values (s), ==, 2);
  g_assert_cmpstr (rs_csv_stream_value_name (s, 0), ==, "b");
  g_assert_cmpstr (rs_csv_stream_value_name (s, 1), ==, "t");
  g_assert_cmpuint (row->line, ==, 2);
  g_assert_null (row->time_text);
  g_assert_cmpint (row->time.kind, ==, RS_TIME_NONE);
  g_clear_pointer (&s, rs_csv_stream_free);
  fclose (f);

  text = "1,2\n";
  f = fmemopen ((void *) text, strlen (text), "r");
  s = rs_csv_stream_new (f, "in.csv", NULL, &error);
  g_assert_cmpint (rs_csv_stream_next (s, &row, &error), ==, 1);
  g_assert_cmpstr (rs_csv_stream_value_name (s, 1), ==, "column 2");
  g_clear_pointer (&s, rs_csv_stream_free);
  fclose (f);
}

/* Errors in the layout are final: every later call repeats them. */
static void
test_column_errors (void)
{
  const struct {
    const char *text;
    RsCsvOptions options;
    const char *message;
  } cases[] = {
    { "t,a,b\n1,2,3\n", { .columns = (const RsCsvColumn[]) { { "price", 0 } }, .n_columns = 1 },
      "in.csv:1: no column 'price'; the columns are 't', 'a', 'b'" },
    { "\n# c\nt,a\n1,2\n", { .time_column = { "time", 0 } },
      "in.csv:3: no time column 'time'; the columns are 't', 'a'" },
    { "a,b\n1,2\n", { .columns = (const RsCsvColumn[]) { { NULL, 3 } }, .n_columns = 1 },
      "in.csv:1: no column 3: the rows have 2 fields" },
    { "1,2\n", { .time_column = { NULL, 5 } },
      "in.csv:1: no time column 5: the rows have 2 fields" },
    { "a,b,a\n1,2,3\n", { .columns = (const RsCsvColumn[]) { { "a", 0 } }, .n_columns = 1 },
      "in.csv:1: column name 'a' is ambiguous: columns 1 and 3" },
    { "t\n2024-01-01\n", { .time_column = { "t", 0 } },
      "in.csv:1: no value columns: the only column is the time column 't' (1)" },
    { "a,\"b\n1,2\n", { 0 }, "in.csv:1: field 2: unterminated quoted field" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (Result) r = run (cases[i].text, &cases[i].options);

    g_assert_cmpuint (r->errors->len, ==, 50);
    g_assert_cmpstr (g_ptr_array_index (r->errors, 0), ==, cases[i].message);
    g_assert_cmpstr (g_ptr_array_index (r->errors, 49), ==, cases[i].message);
    g_assert_cmpuint (r->values->len, ==, 0);
  }
}

static void
test_column_list_limit (void)
{
  GString *text = g_string_new (NULL);
  RsCsvOptions o = { .columns = (const RsCsvColumn[]) { { "zz", 0 } }, .n_columns = 1 };
  g_autoptr (Result) r = NULL;

  for (guint i = 0; i < 30; i++)
    g_string_append_printf (text, "%sc%u", i > 0 ? "," : "", i);
  g_string_append (text, "\n");
  r = run (text->str, &o);
  g_assert_true (g_str_has_suffix (g_ptr_array_index (r->errors, 0),
                                   "'c18', 'c19', ... (30 in all)"));
  g_string_free (text, TRUE);
}

static void
test_bad_options (void)
{
  const struct {
    RsCsvOptions options;
    const char *message;
  } cases[] = {
    { { .header = RS_CSV_HEADER_NO, .columns = (const RsCsvColumn[]) { { "a", 0 } },
        .n_columns = 1 }, "column 'a' is chosen by name, but the input has no header" },
    { { .header = RS_CSV_HEADER_NO, .time_column = { "t", 0 } },
      "time column 't' is chosen by name, but the input has no header" },
    { { .columns = (const RsCsvColumn[]) { { NULL, 0 } }, .n_columns = 1 },
      "column index 0: columns are numbered from 1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;

    g_assert_null (rs_csv_stream_new (stdin, "in.csv", &cases[i].options, &error));
    g_assert_error (error, RS_ERROR, RS_ERROR_FAILED);
    g_assert_cmpstr (error->message, ==, cases[i].message);
  }
}

/* Malformed rows: each is reported, then the reader goes on. */
static void
test_malformed (void)
{
  const struct {
    const char *row;
    gsize len;                 /* 0: strlen */
    const char *message;
  } cases[] = {
    { "1,2,3", 0, "in.csv:2: 3 fields, expected 2" },
    { "1", 0, "in.csv:2: 1 field, expected 2" },
    { "1,\"2", 0, "in.csv:2: field 2: unterminated quoted field" },
    { "\"1\"x,2", 0, "in.csv:2: field 1: text after the closing quote" },
    { "1,x", 0, "in.csv:2: column 'b' (2): 'x' is not a number" },
    { "0x10,2", 0, "in.csv:2: column 'a' (1): '0x10' is not a number" },
    { "nan1,2", 0, "in.csv:2: column 'a' (1): 'nan1' is not a number" },
    { "na,2", 0, "in.csv:2: column 'a' (1): 'na' is not a number" },
    { "N/A,2", 0, "in.csv:2: column 'a' (1): 'N/A' is not a number" },
    { "1,1e400", 0, "in.csv:2: column 'b' (2): '1e400' is beyond the double range" },
    { "1,2\0003", 5, "in.csv:2: line contains a NUL byte" },
    { "\xff\x01x,2", 0, "in.csv:2: column 'a' (1): '\xef\xbf\xbd?x' is not a number" },
    { "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij,2", 0,
      "in.csv:2: column 'a' (1): 'abcdefghijabcdefghijabcdefghijabcdefghij...' is not a "
      "number" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gsize len = cases[i].len != 0 ? cases[i].len : strlen (cases[i].row);
    GString *text = g_string_new ("a,b\n");
    g_autoptr (Result) r = NULL;

    g_test_message ("%s", cases[i].message);
    g_string_append_len (text, cases[i].row, (gssize) len);
    g_string_append (text, "\r\n7,8\n");
    r = run_len (text->str, (gssize) text->len, NULL);
    assert_errors (r, ERRORS (cases[i].message));
    assert_values (r, (const double[]) { 7, 8 }, 2);
    g_assert_cmpuint (g_array_index (r->lines, guint64, 0), ==, 3);
    g_string_free (text, TRUE);
  }
}

static void
test_long_lines (void)
{
  GString *text = g_string_new ("a\n1\n");
  RsCsvOptions o = { .time_column = { NULL, 2 }, .header = RS_CSV_HEADER_NO };
  g_autoptr (Result) r = NULL;
  g_autoptr (Result) exact = NULL;
  g_autoptr (Result) time = NULL;
  GString *line;

  while (text->len < RS_CSV_STREAM_MAX_LINE + 100)
    g_string_append (text, "1111111111");
  g_string_append (text, "\n2\n");
  r = run (text->str, NULL);
  assert_errors (r, ERRORS ("in.csv:3: line longer than 1048576 bytes"));
  assert_values (r, (const double[]) { 1, 2 }, 2);
  assert_lines (r->lines, (const guint64[]) { 2, 4 }, 2);

  /* Exactly the limit, with a CR before the LF, is fine. */
  line = g_string_new ("1");
  while (line->len < RS_CSV_STREAM_MAX_LINE)
    g_string_append_c (line, '0');
  g_string_append (line, "\r\n");
  exact = run (line->str, &(RsCsvOptions) { .header = RS_CSV_HEADER_NO });
  g_assert_cmpuint (exact->errors->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (exact->errors, 0), ==,
                   "in.csv:1: column 1: '1" "000000000" "000000000" "000000000" "000000000"
                   "000...' is beyond the double range");
  g_string_free (line, TRUE);

  line = g_string_new ("1,");
  for (guint i = 0; i <= RS_CSV_STREAM_MAX_TIME; i++)
    g_string_append_c (line, 't');
  g_string_append (line, "\n2,t\n");
  time = run (line->str, &o);
  assert_errors (time, ERRORS ("in.csv:1: time column 2: longer than 256 bytes"));
  assert_values (time, (const double[]) { 2 }, 1);
  g_string_free (line, TRUE);
  g_string_free (text, TRUE);
}

/* Times in the stream */

static void
test_times (void)
{
  RsCsvOptions o = { .time_column = { "t", 0 } };
  g_autoptr (Result) index = run ("t,v\n998,1\n999,2\n1000,3\n", &o);
  g_autoptr (Result) r_ts = run ("t,v\n1949,1\n1949.083333,2\n1949.166667,3\n", &o);
  g_autoptr (Result) text = run ("t,v\nJan 1949,1\n,2\n", &o);
  RsCsvOptions forced = { .time_column = { "t", 0 }, .time_integers = RS_TIME_INTEGERS_INDEX };
  g_autoptr (Result) forced_index = run ("t,v\n1949,1\n", &forced);

  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (g_array_index (index->kinds, RsTimeKind, i), ==, RS_TIME_INDEX);
  g_assert_cmpint (g_array_index (r_ts->kinds, RsTimeKind, 0), ==, RS_TIME_YEAR);
  g_assert_cmpint (g_array_index (r_ts->kinds, RsTimeKind, 1), ==, RS_TIME_DECIMAL_YEAR);
  g_assert_cmpint (g_array_index (text->kinds, RsTimeKind, 0), ==, RS_TIME_NONE);
  g_assert_cmpstr (g_ptr_array_index (text->times, 0), ==, "Jan 1949");
  g_assert_cmpstr (g_ptr_array_index (text->times, 1), ==, "");
  g_assert_cmpint (g_array_index (forced_index->kinds, RsTimeKind, 0), ==, RS_TIME_INDEX);
}

/* Missing values */

static void
test_missing_error (void)
{
  g_autoptr (Result) r = run ("a,b\n1,2\nNA,2\n1,\n1,\"\"\nnan,2\n-NaN,2\n1,NAN\n1, \t\n3,4\n", NULL);

  assert_errors (r, ERRORS ("in.csv:3: column 'a' (1): missing value 'NA'",
                            "in.csv:4: column 'b' (2): missing value (empty field)",
                            "in.csv:5: column 'b' (2): missing value (empty field)",
                            "in.csv:6: column 'a' (1): missing value 'nan'",
                            "in.csv:7: column 'a' (1): missing value '-NaN'",
                            "in.csv:8: column 'b' (2): missing value 'NAN'",
                            "in.csv:9: column 'b' (2): missing value (empty field)"));
  assert_values (r, (const double[]) { 1, 2, 3, 4 }, 4);
}

static void
test_missing_skip (void)
{
  RsCsvOptions o = { .missing = RS_CSV_MISSING_SKIP };
  g_autoptr (Result) r = run ("a,b\n1,2\nNA,2\n3,\n5,6\n", &o);

  assert_errors (r, NO_ERRORS);
  assert_values (r, (const double[]) { 1, 2, 5, 6 }, 4);
  assert_lines (r->lines, (const guint64[]) { 2, 5 }, 2);
  g_assert_cmpuint (r->skipped, ==, 2);
}

static void
test_missing_hold (void)
{
  RsCsvOptions o = { .missing = RS_CSV_MISSING_HOLD };
  g_autoptr (Result) r = run ("a,b\n1,10\nNA,20\n3,NA\nNA,NA\nx,1\n5,50\n", &o);
  /* Line 2 is refused for b, so a's 1 is not kept either: line 3 has no
   * earlier a to hold. */
  g_autoptr (Result) leading = run ("a,b\n1,NA\nNA,20\n3,30\nNA,NA\n", &o);

  assert_errors (r, ERRORS ("in.csv:6: column 'a' (1): 'x' is not a number"));
  assert_values (r, (const double[]) { 1, 10, 1, 20, 3, 20, 3, 20, 5, 50 }, 10);
  assert_lines (r->read_to, (const guint64[]) { 2, 3, 4, 5, 7 }, 5);
  assert_errors (leading, ERRORS ("in.csv:2: column 'b' (2): missing value with no earlier "
                                  "value to hold",
                                  "in.csv:3: column 'a' (1): missing value with no earlier "
                                  "value to hold"));
  assert_values (leading, (const double[]) { 3, 30, 3, 30 }, 4);
}

/* a: 1, -, -, 4, 5    gap of 2 between positions 0 and 3: 2, 3
 * b: 10, -, 40, -, 60  gaps of 1: 25, 50
 * A row comes out once every gap in it and before it has closed. */
static void
test_missing_interpolate (void)
{
  RsCsvOptions o = { .missing = RS_CSV_MISSING_INTERPOLATE, .time_column = { "t", 0 } };
  g_autoptr (Result) r = run ("t,a,b\n"
                              "0,1,10\n"      /* line 2 */
                              "1,NA,NA\n"     /* 3 */
                              "2,NA,40\n"     /* 4 */
                              "3,4,NA\n"      /* 5 */
                              "4,5,60\n", &o);  /* 6 */

  assert_errors (r, NO_ERRORS);
  assert_values (r, (const double[]) { 1, 10, 2, 25, 3, 40, 4, 50, 5, 60 }, 10);
  assert_lines (r->lines, (const guint64[]) { 2, 3, 4, 5, 6 }, 5);
  /* Latency: line 3 waits for line 5 (a's gap), line 5 for line 6 (b's). */
  assert_lines (r->read_to, (const guint64[]) { 2, 5, 5, 6, 6 }, 5);
  g_assert_cmpstr (g_ptr_array_index (r->times, 1), ==, "1");
}

static void
test_interpolate_edges (void)
{
  RsCsvOptions o = { .missing = RS_CSV_MISSING_INTERPOLATE };
  RsCsvOptions small = { .missing = RS_CSV_MISSING_INTERPOLATE, .max_held = 2 };
  g_autoptr (Result) leading = run ("a\nNA\n2\nNA\n4\n", &o);
  g_autoptr (Result) trailing = run ("a,b\n1,1\nNA,2\n3,NA\n", &o);
  /* A refused row has no position: the gap is 1, 2 -> 4 over two rows. */
  g_autoptr (Result) bad_row = run ("a\n1\nNA\nx\n4\n", &o);
  g_autoptr (Result) huge = run ("a\n-1e308\nNA\n1e308\n", &o);
  /* Lines 3-5 overflow two held rows and are dropped; line 6 is still
   * interpolated from position 0 (1) to 5 (9): 1 + 8 * 4/5. */
  g_autoptr (Result) overflow = run ("a\n1\nNA\nNA\nNA\nNA\n9\n", &small);
  g_autoptr (Result) fits = run ("a\n1\nNA\nNA\n4\n", &small);
  /* Two gaps overlapping in different columns. */
  g_autoptr (Result) interleaved = run ("a,b\n1,1\n2,NA\nNA,NA\n4,4\n", &o);

  assert_errors (leading, ERRORS ("in.csv:2: column 'a' (1): missing value with no earlier "
                                  "value to interpolate from"));
  assert_values (leading, (const double[]) { 2, 3, 4 }, 3);

  assert_errors (trailing, ERRORS ("in.csv:4: column 'b' (2): missing value at the end of the "
                                   "input, with no later value to interpolate to"));
  assert_values (trailing, (const double[]) { 1, 1, 2, 2 }, 4);

  assert_errors (bad_row, ERRORS ("in.csv:4: column 'a' (1): 'x' is not a number"));
  assert_values (bad_row, (const double[]) { 1, 2.5, 4 }, 3);

  assert_errors (huge, NO_ERRORS);
  assert_values (huge, (const double[]) { -1e308, 0, 1e308 }, 3);

  assert_errors (overflow, ERRORS ("in.csv:5: column 'a' (1): more than 2 rows held back "
                                   "waiting for a value to interpolate to (since line 3); they "
                                   "are dropped"));
  assert_values (overflow, (const double[]) { 1, 7.4, 9 }, 3);
  assert_lines (overflow->lines, (const guint64[]) { 2, 6, 7 }, 3);

  assert_errors (fits, NO_ERRORS);
  assert_values (fits, (const double[]) { 1, 2, 3, 4 }, 4);

  assert_errors (interleaved, NO_ERRORS);
  assert_values (interleaved, (const double[]) { 1, 1, 2, 2, 3, 3, 4, 4 }, 8);
  assert_lines (interleaved->read_to, (const guint64[]) { 2, 5, 5, 5 }, 4);
}

static void
test_missing_names (void)
{
  RsCsvMissing m;

  for (m = RS_CSV_MISSING_ERROR; m <= RS_CSV_MISSING_INTERPOLATE; m++) {
    RsCsvMissing back;

    g_assert_true (rs_csv_missing_from_name (rs_csv_missing_name (m), &back));
    g_assert_cmpint (back, ==, m);
  }
  g_assert_cmpstr (rs_csv_missing_name (RS_CSV_MISSING_INTERPOLATE), ==, "interpolate");
  g_assert_false (rs_csv_missing_from_name ("linear", &m));
}

static void
test_read_error (void)
{
  FILE *f = fopen ("/", "r");   /* opens, but read() says EISDIR */
  g_autoptr (GError) error = NULL;
  g_autoptr (RsCsvStream) s = NULL;
  const RsCsvRow *row;

  g_assert_nonnull (f);
  s = rs_csv_stream_new (f, "in.csv", NULL, &error);
  g_assert_cmpint (rs_csv_stream_next (s, &row, &error), ==, -1);
  g_assert_error (error, RS_ERROR, RS_ERROR_IO);
  g_assert_cmpstr (error->message, ==, "in.csv: read error: Is a directory");
  g_clear_pointer (&s, rs_csv_stream_free);
  fclose (f);
}

/* Streaming through a real pipe: each row must come out before the next
 * one is written. The writer waits for the reader's word after each row,
 * so a reader that wanted more input first would hang (and time out). */
typedef struct {
  int fd;
  GAsyncQueue *acks;
} Writer;

static gpointer
write_rows (gpointer data)
{
  Writer *w = data;
  const char *chunks[] = { "t,v\n1,", "10\n", "2,NA\n", "3,30\n", "4,40" };

  for (guint i = 0; i < G_N_ELEMENTS (chunks); i++) {
    gsize len = strlen (chunks[i]);

    g_assert_cmpint (write (w->fd, chunks[i], len), ==, (gssize) len);
    /* After "1," the row is not complete: no word to wait for. After
     * "2,NA" the interpolating reader holds the row back until "3,30". */
    if (i == 1 || i == 3)
      g_free (g_async_queue_pop (w->acks));
  }
  close (w->fd);
  return NULL;
}

static void
test_pipe (void)
{
  int fds[2];
  Writer w;
  GThread *thread;
  FILE *f;
  RsCsvOptions o = { .missing = RS_CSV_MISSING_INTERPOLATE, .time_column = { "t", 0 } };
  g_autoptr (GError) error = NULL;
  g_autoptr (RsCsvStream) s = NULL;
  const RsCsvRow *row;

  g_assert_cmpint (pipe (fds), ==, 0);
  w.fd = fds[1];
  w.acks = g_async_queue_new ();
  f = fdopen (fds[0], "r");
  s = rs_csv_stream_new (f, "<pipe>", &o, &error);
  thread = g_thread_new ("writer", write_rows, &w);

  g_assert_cmpint (rs_csv_stream_next (s, &row, &error), ==, 1);
  g_assert_cmpfloat (row->values[0], ==, 10);
  g_assert_cmpstr (row->time_text, ==, "1");
  g_async_queue_push (w.acks, g_strdup ("row 1"));

  /* Line 3 is held until line 4 closes its gap. */
  g_assert_cmpint (rs_csv_stream_next (s, &row, &error), ==, 1);
  g_assert_cmpfloat (row->values[0], ==, 20);
  g_assert_cmpuint (row->line, ==, 3);
  g_assert_cmpuint (rs_csv_stream_line (s), ==, 4);
  g_assert_cmpuint (rs_csv_stream_n_held (s), ==, 1);
  g_async_queue_push (w.acks, g_strdup ("row 2"));

  g_assert_cmpint (rs_csv_stream_next (s, &row, &error), ==, 1);
  g_assert_cmpfloat (row->values[0], ==, 30);
  g_assert_cmpint (rs_csv_stream_next (s, &row, &error), ==, 1);
  g_assert_cmpfloat (row->values[0], ==, 40);
  g_assert_cmpint (rs_csv_stream_next (s, &row, &error), ==, 0);
  g_assert_no_error (error);

  g_thread_join (thread);
  g_async_queue_unref (w.acks);
  g_clear_pointer (&s, rs_csv_stream_free);
  fclose (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/csv-stream/format", test_format);
  g_test_add_func ("/csv-stream/numbers", test_numbers);
  g_test_add_func ("/csv-stream/locale", test_locale);
  g_test_add_func ("/csv-stream/quoting", test_quoting);
  g_test_add_func ("/csv-stream/delimiters", test_delimiters);
  g_test_add_func ("/csv-stream/header/auto", test_header_auto);
  g_test_add_func ("/csv-stream/header/forced", test_header_forced);
  g_test_add_func ("/csv-stream/columns/select", test_columns);
  g_test_add_func ("/csv-stream/columns/names", test_value_names);
  g_test_add_func ("/csv-stream/columns/errors", test_column_errors);
  g_test_add_func ("/csv-stream/columns/list-limit", test_column_list_limit);
  g_test_add_func ("/csv-stream/bad-options", test_bad_options);
  g_test_add_func ("/csv-stream/malformed", test_malformed);
  g_test_add_func ("/csv-stream/long-lines", test_long_lines);
  g_test_add_func ("/csv-stream/times", test_times);
  g_test_add_func ("/csv-stream/missing/error", test_missing_error);
  g_test_add_func ("/csv-stream/missing/skip", test_missing_skip);
  g_test_add_func ("/csv-stream/missing/hold", test_missing_hold);
  g_test_add_func ("/csv-stream/missing/interpolate", test_missing_interpolate);
  g_test_add_func ("/csv-stream/missing/interpolate-edges", test_interpolate_edges);
  g_test_add_func ("/csv-stream/missing/names", test_missing_names);
  g_test_add_func ("/csv-stream/read-error", test_read_error);
  g_test_add_func ("/csv-stream/pipe", test_pipe);
  return g_test_run ();
}
