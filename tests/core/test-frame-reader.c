/* CSV feature frames: the format, header detection and every malformed-row
 * error, each naming its line. */
#include <string.h>

#include <rnnstream/rnnstream.h>

/* Reads all of text with a reader of the given width; returns the frames
 * read as a flat array, and the first error, if any, in *error. */
static GArray *
read_all (const char *text, guint width, guint *got_width, GError **error)
{
  FILE *f = fmemopen ((void *) text, strlen (text), "r");
  g_autoptr (RsFrameReader) r = rs_frame_reader_new (f, "in.csv", width);
  GArray *frames = g_array_new (FALSE, FALSE, sizeof (float));
  const float *frame;
  int got;

  while ((got = rs_frame_reader_next (r, &frame, error)) > 0)
    g_array_append_vals (frames, frame, rs_frame_reader_width (r));
  if (got_width)
    *got_width = rs_frame_reader_width (r);
  g_clear_pointer (&r, rs_frame_reader_free);
  fclose (f);
  return frames;
}

static void
test_valid (void)
{
  g_autoptr (GError) error = NULL;
  guint width;
  g_autoptr (GArray) frames = read_all ("a,b,c\r\n"
                                        "1, 2.5 ,-3e2\r\n"
                                        "\n"
                                        "# a comment\n"
                                        "\t4,5,6", 0, &width, &error);
  const float expected[] = { 1, 2.5f, -300, 4, 5, 6 };

  g_assert_no_error (error);
  g_assert_cmpuint (width, ==, 3);
  g_assert_cmpmem (frames->data, frames->len * sizeof (float), expected, sizeof expected);
}

static void
test_numeric_first_row (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) frames = read_all ("0.5,1\n2,3\n", 2, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (frames->len, ==, 4);
  g_assert_cmpfloat (g_array_index (frames, float, 0), ==, 0.5f);
}

/* The C locale's '.' whatever the process locale says. */
static void
test_locale_independent (void)
{
  float v;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (rs_csv_parse_numbers ("1.25", 4, &v, 1, &error), ==, 1);
  g_assert_cmpfloat (v, ==, 1.25f);
  g_assert_cmpint (rs_csv_parse_numbers ("1,25", 4, &v, 1, &error), ==, -1);
  g_assert_error (error, RS_ERROR, RS_ERROR_PARSE);
}

typedef struct {
  const char *text;
  guint width;
  const char *message;
} BadCase;

static void
test_malformed (void)
{
  const BadCase cases[] = {
    { "1,2\n3,x\n", 2, "in.csv:2: field 2 'x' is not a number" },
    { "1,2\n3,4,5\n", 2, "in.csv:2: 3 values, expected 2" },
    { "1,2\n3\n", 2, "in.csv:2: 1 values, expected 2" },
    { "1,2,3\n", 2, "in.csv:1: 3 values, expected 2" },
    { "h1,h2\n1,,2\n", 0, "in.csv:2: field 2 is empty" },
    { "1,2\n3,\n", 2, "in.csv:2: field 2 is empty" },
    { "1,2\n\n\n3,nan\n", 2, "in.csv:4: field 2 'nan' is not a finite number" },
    { "1,2\ninf,2\n", 2, "in.csv:2: field 1 'inf' is not a finite number" },
    { "1,2\n1e39,2\n", 2, "in.csv:2: field 1 '1e39' is beyond the float range" },
    { "1,2\n1e999,2\n", 2, "in.csv:2: field 1 '1e999' is beyond the float range" },
    { "1,2\n1.5.2,2\n", 2, "in.csv:2: field 1 '1.5.2' is not a number" },
    { "a,b\nc,d\n", 2, "in.csv:2: field 1 'c' is not a number" },
    { "1,2\n3,4\0junk\n", 2, "in.csv:2: line contains a NUL byte" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    gsize len = strlen (cases[i].text);

    /* The NUL case needs its true length. */
    if (strstr (cases[i].message, "NUL") != NULL)
      len = 13;
    {
      FILE *f = fmemopen ((void *) cases[i].text, len, "r");
      g_autoptr (RsFrameReader) r = rs_frame_reader_new (f, "in.csv", cases[i].width);
      const float *frame;
      int got;

      while ((got = rs_frame_reader_next (r, &frame, &error)) > 0)
        ;
      g_assert_cmpint (got, ==, -1);
      g_clear_pointer (&r, rs_frame_reader_free);
      fclose (f);
    }
    g_assert_error (error, RS_ERROR, RS_ERROR_PARSE);
    g_assert_cmpstr (error->message, ==, cases[i].message);
  }
}

static void
test_long_line (void)
{
  g_autoptr (GError) error = NULL;
  GString *text = g_string_new ("1\n");
  g_autoptr (GArray) frames = NULL;

  while (text->len < RS_FRAME_READER_MAX_LINE + 10)
    g_string_append (text, "1111111111");
  g_string_append (text, "\n2\n");
  frames = read_all (text->str, 1, NULL, &error);
  g_assert_error (error, RS_ERROR, RS_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "in.csv:2: line longer than"));
  g_string_free (text, TRUE);
}

/* After a bad row the reader carries on with the next line. */
static void
test_recovers (void)
{
  const char *text = "1\nx\n2\n";
  FILE *f = fmemopen ((void *) text, strlen (text), "r");
  g_autoptr (RsFrameReader) r = rs_frame_reader_new (f, "in.csv", 1);
  g_autoptr (GError) error = NULL;
  const float *frame;

  g_assert_cmpint (rs_frame_reader_next (r, &frame, &error), ==, 1);
  g_assert_cmpint (rs_frame_reader_next (r, &frame, &error), ==, -1);
  g_clear_error (&error);
  g_assert_cmpint (rs_frame_reader_next (r, &frame, &error), ==, 1);
  g_assert_cmpfloat (frame[0], ==, 2.0f);
  g_assert_cmpuint (rs_frame_reader_line (r), ==, 3);
  g_assert_cmpint (rs_frame_reader_next (r, &frame, &error), ==, 0);
  g_clear_pointer (&r, rs_frame_reader_free);
  fclose (f);
}

static void
test_empty (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) frames = read_all ("", 3, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (frames->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/frame-reader/valid", test_valid);
  g_test_add_func ("/frame-reader/numeric-first-row", test_numeric_first_row);
  g_test_add_func ("/frame-reader/locale-independent", test_locale_independent);
  g_test_add_func ("/frame-reader/malformed", test_malformed);
  g_test_add_func ("/frame-reader/long-line", test_long_line);
  g_test_add_func ("/frame-reader/recovers", test_recovers);
  g_test_add_func ("/frame-reader/empty", test_empty);
  return g_test_run ();
}
