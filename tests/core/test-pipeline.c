/* The pipeline language: what parses, every error with its position, --set,
 * and shape negotiation before any input is read. */
#include <string.h>

#include <glib/gstdio.h>
#include <rnnstream/rnnstream.h>

static char *
demo_model (void)
{
  return g_build_filename (g_getenv ("RS_TEST_SOURCE_ROOT"), "models",
                           "demo-forecast.safetensors", NULL);
}

typedef struct {
  const char *text;
  const char *message;
} BadText;

static void
test_parse_errors (void)
{
  const BadText cases[] = {
    { "", "p:1:1: empty pipeline: expected an element" },
    { "  # only a comment\n", "p:2:1: empty pipeline: expected an element" },
    { "csvsrc !", "p:1:9: expected an element type, found the end of the pipeline" },
    { "csvsrc ! ! csvsink", "p:1:10: expected an element type, found '!'" },
    { "csvsrc location", "p:1:16: expected '=' after parameter 'location' of csvsrc, found the "
      "end of the pipeline" },
    { "csvsrc location=", "p:1:17: expected a value for parameter 'location' of csvsrc, found "
      "the end of the pipeline" },
    { "csvsrc\n  location=\"a b", "p:2:12: unterminated quoted value" },
    { "csvsrc location=\"a\\n\"", "p:1:19: unknown escape in quoted value" },
    { "csvsrc = x", "p:1:8: expected '!' or a parameter after csvsrc, found '='" },
    { "micro ! csvsink", "p:1:1: unknown element 'micro' (known: csvsrc, filesrc, micsrc, " },
    { "csvsrc\n  ! csvsink colour=red", "p:2:13: element csvsink has no parameter 'colour' "
      "(it has: name, location, precision, header)" },
    { "csvsrc chunk=ten ! csvsink", "p:1:8: csvsrc.chunk expects an integer, got 'ten'" },
    { "csvsrc chunk=-1 ! csvsink", "p:1:8: csvsrc.chunk expects a value from 0 to 1e+09, got '-1'" },
    { "csvsrc ! model mode=fast ! csvsink", "p:1:16: model.mode expects one of auto, stream, "
      "offline, got 'fast'" },
    { "csvsrc ! csvsink precision=2.5", "p:1:18: csvsink.precision expects an integer, got '2.5'" },
    { "model path=x ! csvsink", "p:1:1: element model is not a source, but starts the pipeline" },
    { "csvsrc ! model path=x", "p:1:10: element model is not a sink, but ends the pipeline" },
    { "csvsrc ! csvsrc ! csvsink", "p:1:10: element csvsrc is a source, so it can only start" },
    { "csvsrc ! model path=a ! model path=b ! csvsink", "p:1:25: element model has the same "
      "name as an earlier element" },
    { "csvsrc missing=drop ! csvsink", "p:1:8: csvsrc.missing expects one of error, skip, hold, "
      "interpolate, got 'drop'" },
    { "csvsrc header=maybe ! csvsink", "p:1:8: csvsrc.header expects one of auto, yes, no, got "
      "'maybe'" },
    { "csvsrc delimiter=: ! csvsink", "p:1:8: csvsrc.delimiter expects one of ,, ;, tab, got ':'" },
    { "csvsrc ! lags lags=0 ! csvsink", "p:1:15: lags.lags expects a value from 1 to 100000, "
      "got '0'" },
    { "csvsrc ! diff order=5 ! csvsink", "p:1:15: diff.order expects a value from 0 to 4, got "
      "'5'" },
    { "csvsrc ! standardize invert=yes ! csvsink", "p:1:22: standardize.invert expects true or "
      "false, got 'yes'" },
    { "csvsrc ! calendar features=month integers=roman ! csvsink", "p:1:34: calendar.integers "
      "expects one of auto, index, year, got 'roman'" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (RsPipeline) p = rs_pipeline_new_from_text (cases[i].text, "p", &error);

    g_test_message ("%s", cases[i].text);
    g_assert_null (p);
    g_assert_error (error, RS_ERROR, RS_ERROR_PIPELINE);
    if (!g_str_has_prefix (error->message, cases[i].message))
      g_error ("'%s' does not start with '%s'", error->message, cases[i].message);
  }
}

static void
test_round_trip (void)
{
  const char *text = "# a comment\ncsvsrc location=\"my file.csv\" # trailing\n"
                     "  ! model name=first path=a.safetensors\n"
                     "  ! model name=second path=\"q\\\"uote\"\n"
                     "  ! csvsink";
  g_autoptr (GError) error = NULL;
  g_autoptr (RsPipeline) p = rs_pipeline_new_from_text (text, "p", &error);
  g_autofree char *out = NULL, *again = NULL;
  g_autoptr (RsPipeline) q = NULL;

  g_assert_no_error (error);
  out = rs_pipeline_to_string (p);
  g_assert_cmpstr (out, ==, "csvsrc location=\"my file.csv\"\n"
                            "  ! model name=first path=a.safetensors\n"
                            "  ! model name=second path=\"q\\\"uote\"\n"
                            "  ! csvsink\n");
  q = rs_pipeline_new_from_text (out, "q", &error);
  g_assert_no_error (error);
  again = rs_pipeline_to_string (q);
  g_assert_cmpstr (again, ==, out);
}

static void
test_set (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsPipeline) p = rs_pipeline_new_from_text (
    "csvsrc ! model name=m ! csvsink", "p", &error);
  g_autofree char *out = NULL;

  g_assert_no_error (error);
  g_assert_true (rs_pipeline_set (p, "m.path=x.safetensors", &error));
  g_assert_true (rs_pipeline_set (p, "csvsrc.chunk=4", &error));
  g_assert_true (rs_pipeline_set (p, "csvsrc.chunk=5", &error));
  out = rs_pipeline_to_string (p);
  g_assert_cmpstr (out, ==, "csvsrc chunk=5\n  ! model name=m path=x.safetensors\n  ! csvsink\n");

  g_assert_false (rs_pipeline_set (p, "model.path=y", &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_PIPELINE);
  g_assert_cmpstr (error->message, ==, "--set model.path=y: the pipeline has no element 'model' "
                                       "(it has: csvsrc, m, csvsink)");
  g_clear_error (&error);
  g_assert_false (rs_pipeline_set (p, "csvsrc.chunk=x", &error));
  g_assert_cmpstr (error->message, ==, "--set: csvsrc.chunk expects an integer, got 'x'");
  g_clear_error (&error);
  g_assert_false (rs_pipeline_set (p, "csvsrc.nope=1", &error));
  g_assert_nonnull (strstr (error->message, "has no parameter 'nope'"));
  g_clear_error (&error);
  g_assert_false (rs_pipeline_set (p, "chunk=1", &error));
  g_assert_nonnull (strstr (error->message, "expected ELEMENT.PARAM=VALUE"));
}

static void
test_required_at_run (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsPipeline) p = rs_pipeline_new_from_text ("csvsrc ! model ! csvsink", "p", &error);

  g_assert_no_error (error);
  g_assert_false (rs_pipeline_run (p, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_PIPELINE);
  g_assert_cmpstr (error->message, ==, "p:1:10: element model needs parameter 'path' (model "
                                       "file (safetensors))");
}

/* A width that cannot fit is refused at negotiation: reading would have
 * reported the rows' field count ("3 values, expected 5") instead. */
static void
test_shape_mismatch (void)
{
  g_autofree char *model = demo_model ();
  g_autofree char *input = g_build_filename (g_getenv ("RS_TEST_SOURCE_ROOT"), "models",
                                             "demo-input.csv", NULL);
  g_autofree char *text = g_strdup_printf ("csvsrc location=%s width=5 ! model path=%s ! csvsink",
                                           input, model);
  g_autofree char *expected = g_strdup_printf ("element model: %s takes 3 values per frame, but "
                                               "the stage before it gives 5", model);
  g_autoptr (GError) error = NULL;
  g_autoptr (RsPipeline) p = rs_pipeline_new_from_text (text, "p", &error);

  g_assert_no_error (error);
  g_assert_false (rs_pipeline_run (p, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_PIPELINE);
  g_assert_cmpstr (error->message, ==, expected);
}

static void
test_runs (void)
{
  g_autofree char *model = demo_model ();
  g_autofree char *dir = g_dir_make_tmp ("rs-pipeline-XXXXXX", NULL);
  g_autofree char *in = g_build_filename (dir, "in.csv", NULL);
  g_autofree char *out = g_build_filename (dir, "out.csv", NULL);
  g_autofree char *text = NULL, *result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RsPipeline) p = NULL;
  g_auto (GStrv) lines = NULL;

  g_assert_true (g_file_set_contents (in, "a,b,c\n0.5,0,1\n0.6,0.5,0.8\n", -1, NULL));
  text = g_strdup_printf ("csvsrc location=\"%s\" ! model path=\"%s\" ! csvsink location=\"%s\"",
                          in, model, out);
  p = rs_pipeline_new_from_text (text, "p", &error);
  g_assert_no_error (error);
  g_assert_true (rs_pipeline_run (p, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (out, &result, NULL, NULL));
  lines = g_strsplit (result, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);   /* two rows and the final "" */
  g_unlink (in);
  g_unlink (out);
  g_rmdir (dir);
}

/* The series elements settle their widths before any frame flows: from
 * csvsrc's columns=, from the data (csvsrc reads the first row ahead), or
 * from the statistics standardize is given; and refuse what cannot fit,
 * naming the element and the parameter. */
static void
test_series_negotiation (void)
{
  g_autofree char *model = demo_model ();
  g_autofree char *dir = g_dir_make_tmp ("rs-pipeline-XXXXXX", NULL);
  g_autofree char *in = g_build_filename (dir, "in.csv", NULL);
  g_autofree char *bare = g_build_filename (dir, "bare.csv", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.csv", NULL);
  g_autofree char *out = g_build_filename (dir, "out.csv", NULL);
  const struct {
    const char *text;        /* @IN@, @BARE@, @EMPTY@, @MODEL@ and @OUT@ are replaced (with
                              * marks that no temporary path holds) */
    const char *message;     /* NULL: runs and writes @OUT@ */
  } cases[] = {
    /* The width comes from the first row (3 values) before the model
     * loads: lags=1 fits the model, lags=2 does not. */
    { "csvsrc location=@IN@ ! lags lags=1 ! model path=@MODEL@ ! csvsink location=@OUT@", NULL },
    { "csvsrc location=@IN@ ! lags lags=2 ! model path=@MODEL@ ! csvsink",
      "takes 3 values per frame, but the stage before it gives 6" },
    { "csvsrc location=@IN@ columns=b,1 ! diff ! calendar features=position ! model path=@MODEL@ "
      "! csvsink location=@OUT@", NULL },
    /* Three statistics fix the width of a headerless input, as a model does. */
    { "csvsrc location=@BARE@ ! standardize mean=0,0,0 std=1,2,4 ! model path=@MODEL@ ! csvsink "
      "location=@OUT@", NULL },
    { "csvsrc location=@BARE@ ! standardize mean=0,0 std=1,1 ! model path=@MODEL@ ! csvsink",
      "element model: @MODEL@ takes 3 values per frame, but the stage before it gives 2" },
    { "csvsrc location=@IN@ ! standardize mean=0,0 std=1,1 ! csvsink",
      "in.csv:2: 3 values per row, expected 2 (what the next stage takes)" },
    { "csvsrc location=@IN@ columns=a,b,c ! standardize mean=0,0 std=1,1 ! csvsink",
      "element standardize: 2 means and stds (given), but the stage before it gives 3 values "
      "per frame" },
    { "csvsrc location=@IN@ width=2 ! standardize ! csvsink",
      "in.csv:2: 3 values per row, expected 2 (width=2)" },
    { "csvsrc location=@IN@ ! standardize mean=1 ! csvsink",
      "element standardize: mean= and std= go together" },
    { "csvsrc location=@IN@ ! standardize std=1,0,1 mean=0 ! csvsink",
      "element standardize: 1 mean(s) given, but 3 std(s)" },
    { "csvsrc location=@IN@ ! standardize std=1,0,1 mean=0,0,0 ! csvsink",
      "element standardize: std 2 is 0: it must be finite and positive (given)" },
    { "csvsrc location=@IN@ ! standardize mean=0 std=1 from-model=@MODEL@ ! csvsink",
      "element standardize: mean= and std=, or from-model=: not both" },
    { "csvsrc location=@IN@ ! standardize from-model=@MODEL@ ! csvsink",
      "element standardize: @MODEL@ has no metadata 'normalisation' to take mean and std from" },
    { "csvsrc location=@IN@ ! standardize from-model=@IN@ ! csvsink", "element standardize: @IN@" },
    { "csvsrc location=@IN@ ! standardize invert=true ! csvsink",
      "element standardize: invert=true needs mean= and std= or from-model=" },
    { "csvsrc location=@IN@ ! standardize mean=x std=1 ! csvsink",
      "element standardize: mean: 'x' is not a number" },
    { "csvsrc location=@IN@ ! calendar features=month,fortnight ! csvsink",
      "element calendar: features: unknown feature 'fortnight'" },
    { "csvsrc location=@IN@ ! calendar features=month ! csvsink",
      "element calendar: frame 0 has no time: set the source's time-column=" },
    { "csvsrc location=@IN@ time-column=a ! calendar features=month,weekday ! csvsink",
      "element calendar: frame 0: time '0.5': a time of kind 'decimal-year' has no day of the "
      "week" },
    { "csvsrc location=@IN@ columns=a,,b ! csvsink",
      "element csvsrc: columns: an empty column name" },
    { "csvsrc location=@IN@ columns=0 ! csvsink",
      "element csvsrc: columns: column 0: columns are numbered from 1" },
    { "csvsrc location=@IN@ columns=a,b width=3 ! csvsink",
      "element csvsrc: width=3, but columns= chooses 2" },
    { "csvsrc location=@IN@ header=no columns=a ! csvsink",
      "element csvsrc: column 'a' is chosen by name, but the input has no header" },
    { "csvsrc location=@IN@ columns=a,d ! lags lags=2 ! csvsink",
      "in.csv:1: no column 'd'; the columns are 'a', 'b', 'c'" },
    { "csvsrc location=@EMPTY@ ! lags lags=2 ! csvsink",
      "element csvsrc: @EMPTY@ has no rows to take the width of the frames from (set width= or "
      "columns=)" },
    /* Nothing needs the width of an empty input: it runs. */
    { "csvsrc location=@EMPTY@ ! csvsink location=@OUT@", NULL },
  };

  g_assert_true (g_file_set_contents (in, "a,b,c\n0.5,0,1\n0.6,0.5,0.8\n", -1, NULL));
  g_assert_true (g_file_set_contents (bare, "0.5,0,1\n0.6,0.5,0.8\n", -1, NULL));
  g_assert_true (g_file_set_contents (empty, "# nothing yet\n", -1, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GString) text = g_string_new (cases[i].text);
    g_autoptr (GString) message = g_string_new (cases[i].message);
    g_autoptr (GError) error = NULL;
    g_autoptr (RsPipeline) p = NULL;

    for (GString *s = text;; s = message) {
      g_string_replace (s, "@BARE@", bare, 0);
      g_string_replace (s, "@EMPTY@", empty, 0);
      g_string_replace (s, "@IN@", in, 0);
      g_string_replace (s, "@MODEL@", model, 0);
      g_string_replace (s, "@OUT@", out, 0);
      if (s == message)
        break;
    }
    g_test_message ("%s", text->str);
    p = rs_pipeline_new_from_text (text->str, "p", &error);
    g_assert_no_error (error);
    if (rs_pipeline_run (p, &error)) {
      if (cases[i].message != NULL)
        g_error ("'%s' ran, expected '%s'", text->str, message->str);
      g_assert_true (g_file_test (out, G_FILE_TEST_EXISTS));
      g_unlink (out);
    } else if (cases[i].message == NULL) {
      g_error ("'%s' failed: %s", text->str, error->message);
    } else if (strstr (error->message, message->str) == NULL) {
      g_error ("'%s' does not contain '%s'", error->message, message->str);
    }
  }
  g_unlink (in);
  g_unlink (bare);
  g_unlink (empty);
  g_rmdir (dir);
}

static void
test_locate (void)
{
  g_autofree char *path = rs_pipeline_locate ("apply");
  g_autofree char *none = rs_pipeline_locate ("no-such-pipeline");

  g_assert_nonnull (path);
  g_assert_true (g_str_has_suffix (path, "pipelines/apply.pipeline"));
  g_assert_null (none);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pipeline/parse-errors", test_parse_errors);
  g_test_add_func ("/pipeline/round-trip", test_round_trip);
  g_test_add_func ("/pipeline/set", test_set);
  g_test_add_func ("/pipeline/required-at-run", test_required_at_run);
  g_test_add_func ("/pipeline/shape-mismatch", test_shape_mismatch);
  g_test_add_func ("/pipeline/runs", test_runs);
  g_test_add_func ("/pipeline/series-negotiation", test_series_negotiation);
  g_test_add_func ("/pipeline/locate", test_locate);
  return g_test_run ();
}
