/* The streaming forecaster's online updates and checkpoints: forecasts
 * that read no row after their own (with updates too), updates that
 * change nothing when they step by nothing, a restored forecaster that
 * goes on bit for bit as the one saved (GRU and LSTM, with and without
 * updates, before and after the first frame), reset, and every refusal
 * of a checkpoint naming the file and leaving the forecaster as it was.
 *
 * The models are made here with seeded random weights: what is tested is
 * the machinery, not the forecasts' quality (tests/cli has that). */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <rnnstream/error.h>
#include <rnnstream/forecast-state.h>
#include <rnnstream/forecaster.h>
#include <rnnstream/safetensors-writer.h>
#include <rnnstream/trainable.h>

#define H 3
#define SEASON 4
#define N_ROWS 90

static char *tmp_dir;

/* A forecaster model of H steps on the seasonal representation (season
 * SEASON, so lag SEASON), with n_cov covariates. */
static char *
make_model (const char *name, const char *cell, guint n_cov, guint64 seed)
{
  RsForecastTransform tr = { 0 };
  g_autofree char *json = NULL;
  char *path = g_build_filename (tmp_dir, name, NULL);
  g_autoptr (RsTrainable) t = NULL;
  g_autoptr (GError) error = NULL;
  RsTrainableConfig c = { cell, 0, 8, 1, TRUE, H, TRUE, seed };

  tr.horizon = H;
  tr.season = SEASON;
  tr.reference = RS_FORECAST_REFERENCE_SEASONAL;
  tr.n_covariates = n_cov;
  rs_forecast_transform_init (&tr);
  tr.out_std[0] = 2;         /* standardisation that is not the identity */
  tr.in_mean[0] = 0.5;
  json = rs_forecast_transform_to_json (&tr);
  c.input_size = tr.n_inputs;
  rs_forecast_transform_clear (&tr);
  t = rs_trainable_new (&c, NULL, &error);
  g_assert_no_error (error);
  {
    const char *meta[] = { "task", "forecast", "forecast", json, NULL };
    g_assert_true (rs_trainable_save (t, path, meta, &error));
  }
  g_assert_no_error (error);
  return path;
}

static RsForecaster *
forecaster (const char *model_path, double lr)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsModel) model = rs_model_load (model_path, NULL, &error);
  RsForecaster *f;

  g_assert_no_error (error);
  f = rs_forecaster_new (model, &error);
  g_assert_no_error (error);
  if (lr > 0) {
    RsForecastUpdate u = RS_FORECAST_UPDATE_INIT;
    u.lr = lr;
    u.window = 6;
    g_assert_true (rs_forecaster_set_update (f, &u, &error));
    g_assert_no_error (error);
  }
  return f;
}

/* Row t of a season with a trend; from row `change` on, another level. */
static double
series (guint t, guint change)
{
  return 20 + 0.1 * t + 5 * sin (2 * G_PI * t / SEASON) + 0.7 * cos (1.3 * t)
         + (t >= change ? 8 : 0);
}

/* Pushes rows [from, to) and writes their forecasts (H each) to out. */
static void
run (RsForecaster *f, guint from, guint to, guint change, double *out)
{
  for (guint t = from; t < to; t++) {
    const double cov[1] = { cos (0.4 * t) };
    g_autoptr (GError) error = NULL;
    g_assert_true (rs_forecaster_push (f, series (t, change), cov, &error));
    g_assert_no_error (error);
    rs_forecaster_forecast (f, out + (gsize) (t - from) * H);
  }
}

/* Bit for bit, NaN included. */
static void
assert_same (const double *a, const double *b, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (memcmp (&a[i], &b[i], sizeof (double)) != 0)
      g_error ("value %" G_GSIZE_FORMAT ": %.17g != %.17g", i, a[i], b[i]);
}

static void
test_no_lookahead (void)
{
  g_autofree char *model = make_model ("look.safetensors", "gru", 1, 1);

  for (guint updating = 0; updating < 2; updating++) {
    const guint change = 40;
    g_autoptr (RsForecaster) a = forecaster (model, updating ? 0.01 : 0);
    g_autoptr (RsForecaster) b = forecaster (model, updating ? 0.01 : 0);
    g_autofree double *fa = g_new (double, N_ROWS * H), *fb = g_new (double, N_ROWS * H);
    gboolean differ = FALSE;

    run (a, 0, N_ROWS, N_ROWS, fa);
    run (b, 0, N_ROWS, change, fb);
    /* Up to the row before the change, b has seen what a has seen: the
     * same forecasts, though the update at row t trains on every target
     * known at t. */
    assert_same (fa, fb, (gsize) change * H);
    for (gsize i = (gsize) change * H; i < N_ROWS * H; i++)
      differ = differ || fa[i] != fb[i];
    g_assert_true (differ);
    g_assert_true (isnan (fa[(SEASON - 1) * H]) && !isnan (fa[SEASON * H]));
  }
}

static void
test_tiny_steps_match_plain (void)
{
  g_autofree char *model = make_model ("tiny.safetensors", "gru", 1, 2);
  g_autoptr (RsForecaster) plain = forecaster (model, 0);
  g_autoptr (RsForecaster) tiny = forecaster (model, 1e-12);
  g_autoptr (RsForecaster) big = forecaster (model, 0.05);
  g_autofree double *fp = g_new (double, N_ROWS * H), *ft = g_new (double, N_ROWS * H);
  g_autofree double *fg = g_new (double, N_ROWS * H);
  double max_tiny = 0, max_big = 0;

  g_assert_null (rs_forecaster_get_update (plain));
  g_assert_cmpuint (rs_forecaster_get_update (tiny)->window, ==, 6);
  run (plain, 0, N_ROWS, 50, fp);
  run (tiny, 0, N_ROWS, 50, ft);
  run (big, 0, N_ROWS, 50, fg);
  /* Steps too small to move a weight: the rerun windows from their stored
   * states give what carrying the state gives. Real steps do move them. */
  for (gsize i = SEASON * H; i < N_ROWS * H; i++) {
    max_tiny = MAX (max_tiny, fabs (fp[i] - ft[i]));
    max_big = MAX (max_big, fabs (fp[i] - fg[i]));
  }
  g_test_message ("largest change from the plain forecasts: %g with tiny steps, %g with lr "
                  "0.05", max_tiny, max_big);
  g_assert_cmpfloat (max_tiny, <, 1e-4);
  g_assert_cmpfloat (max_big, >, 0.1);
}

static void
test_window_default (void)
{
  g_autofree char *model = make_model ("window.safetensors", "gru", 0, 3);
  g_autoptr (GError) error = NULL;
  g_autoptr (RsModel) m = rs_model_load (model, NULL, &error);
  g_autoptr (RsForecaster) f = rs_forecaster_new (m, &error);
  g_autoptr (RsForecaster) g = rs_forecaster_new (m, &error);
  RsForecastUpdate u = RS_FORECAST_UPDATE_INIT;

  g_assert_true (rs_forecaster_set_update (f, &u, &error));
  g_assert_cmpuint (rs_forecaster_get_update (f)->window, ==, 2 * SEASON);
  u.lr = -1;
  g_assert_false (rs_forecaster_set_update (g, &u, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_ARGUMENT);
  g_assert_null (rs_forecaster_get_update (g));
}

static void
check_save_restore (const char *cell, guint n_cov, double lr)
{
  g_autofree char *name = g_strdup_printf ("%s-%u.safetensors", cell, n_cov);
  g_autofree char *model = make_model (name, cell, n_cov, 4);
  g_autofree char *ckpt = g_build_filename (tmp_dir, "ck.safetensors", NULL);
  g_autofree double *whole = g_new (double, N_ROWS * H), *rest = g_new (double, N_ROWS * H);
  const guint cuts[] = { 0, 2, SEASON + 1, 47 };
  g_autoptr (RsForecaster) ref = forecaster (model, lr);

  run (ref, 0, N_ROWS, 60, whole);
  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++) {
    const guint k = cuts[i];
    g_autoptr (RsForecaster) a = forecaster (model, lr);
    g_autoptr (RsForecaster) b = forecaster (model, lr);
    g_autoptr (RsSafetensors) st = NULL;
    g_autoptr (GError) error = NULL;
    const char *extra[] = { "input.rows", "7", NULL };

    run (a, 0, k, 60, rest);
    g_assert_true (rs_forecaster_save (a, ckpt, extra, &error));
    g_assert_no_error (error);
    st = rs_safetensors_load (ckpt, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (rs_safetensors_metadata (st, "input.rows"), ==, "7");
    g_assert_true (rs_forecaster_restore (b, st, ckpt, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (rs_forecaster_rows (b), ==, k);
    /* The restored one and the one saved go on the same, bit for bit, as
     * the run that never stopped. */
    run (b, k, N_ROWS, 60, rest);
    assert_same (whole + (gsize) k * H, rest, (gsize) (N_ROWS - k) * H);
    run (a, k, N_ROWS, 60, rest);
    assert_same (whole + (gsize) k * H, rest, (gsize) (N_ROWS - k) * H);
    /* Restoring replaces whatever the forecaster held. */
    g_assert_true (rs_forecaster_restore (a, st, ckpt, &error));
    run (a, k, N_ROWS, 60, rest);
    assert_same (whole + (gsize) k * H, rest, (gsize) (N_ROWS - k) * H);
  }
  g_remove (ckpt);
}

static void
test_save_restore_plain (void)
{
  check_save_restore ("gru", 0, 0);
  check_save_restore ("lstm", 1, 0);
}

static void
test_save_restore_update (void)
{
  check_save_restore ("gru", 0, 0.01);
  check_save_restore ("lstm", 1, 0.01);
}

static void
test_reset (void)
{
  g_autofree char *model = make_model ("reset.safetensors", "gru", 1, 5);
  g_autoptr (RsForecaster) f = forecaster (model, 0.01);
  g_autofree double *one = g_new (double, N_ROWS * H), *two = g_new (double, N_ROWS * H);

  run (f, 0, N_ROWS, 30, one);
  rs_forecaster_reset (f);
  g_assert_cmpuint (rs_forecaster_rows (f), ==, 0);
  /* The weights the updates changed are the model's again. */
  run (f, 0, N_ROWS, 30, two);
  assert_same (one, two, N_ROWS * H);
}

/* Copies the checkpoint at src to dest with metadata key set to value
 * (NULL: removed) and tensor drop left out. */
static void
rewrite (const char *src, const char *dest, const char *key, const char *value,
         const char *drop)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsSafetensors) st = rs_safetensors_load (src, &error);
  g_autoptr (RsSafetensorsWriter) w = rs_safetensors_writer_new ();
  const char *const *keys = rs_safetensors_metadata_keys (st);

  g_assert_no_error (error);
  for (guint i = 0; i < rs_safetensors_n_tensors (st); i++) {
    const RsTensor *t = rs_safetensors_tensor (st, i);
    if (g_strcmp0 (t->name, drop) != 0)
      rs_safetensors_writer_add (w, t->name, t->ndim, t->shape, t->data);
  }
  for (guint i = 0; keys[i] != NULL; i++)
    if (g_strcmp0 (keys[i], key) != 0)
      rs_safetensors_writer_set_metadata (w, keys[i], rs_safetensors_metadata (st, keys[i]));
  if (key != NULL && value != NULL)
    rs_safetensors_writer_set_metadata (w, key, value);
  g_assert_true (rs_safetensors_writer_save (w, dest, &error));
}

/* Restoring path into f fails with RS_ERROR_STATE, the message naming
 * the file and saying `what`. */
static void
assert_refused (RsForecaster *f, const char *path, const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsSafetensors) st = rs_safetensors_load (path, &error);

  g_assert_no_error (error);
  g_assert_false (rs_forecaster_restore (f, st, path, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_STATE);
  if (!g_str_has_prefix (error->message, path) || strstr (error->message, what) == NULL)
    g_error ("'%s' does not name %s and say '%s'", error->message, path, what);
}

static void
test_refusals (void)
{
  g_autofree char *model = make_model ("a.safetensors", "gru", 1, 6);
  g_autofree char *other = make_model ("b.safetensors", "gru", 1, 7);
  g_autofree char *plain_ck = g_build_filename (tmp_dir, "plain.ck", NULL);
  g_autofree char *update_ck = g_build_filename (tmp_dir, "update.ck", NULL);
  g_autofree char *other_ck = g_build_filename (tmp_dir, "other.ck", NULL);
  g_autofree char *bad = g_build_filename (tmp_dir, "bad.ck", NULL);
  g_autofree double *want = g_new (double, N_ROWS * H), *got = g_new (double, N_ROWS * H);
  g_autoptr (GError) error = NULL;
  g_autoptr (RsForecaster) ref = forecaster (model, 0.01);
  g_autoptr (RsForecaster) f = forecaster (model, 0.01);
  g_autoptr (RsForecaster) p = forecaster (model, 0);
  g_autofree char *bytes = NULL;
  gsize len;

  {
    g_autoptr (RsForecaster) q = forecaster (other, 0.01);
    run (q, 0, 20, 99, got);
    g_assert_true (rs_forecaster_save (q, other_ck, NULL, &error));
  }
  run (p, 0, 20, 99, got);
  g_assert_true (rs_forecaster_save (p, plain_ck, NULL, &error));
  run (ref, 0, 20, 99, want);
  run (f, 0, 20, 99, got);
  g_assert_true (rs_forecaster_save (f, update_ck, NULL, &error));
  g_assert_no_error (error);

  assert_refused (f, model, "not a forecaster checkpoint");
  assert_refused (f, other_ck, "another model");
  assert_refused (f, plain_ck, "made without updates");
  assert_refused (p, update_ck, "made with updates");
  {
    g_autoptr (RsForecaster) g = forecaster (model, 0.02);
    assert_refused (g, update_ck, "lr 0.01");
  }
  rewrite (update_ck, bad, "rnnstream_forecast_state", "9", NULL);
  assert_refused (f, bad, "format '9'");
  rewrite (update_ck, bad, "z", "1,2,x", NULL);
  assert_refused (f, bad, "'z' is not");
  rewrite (update_ck, bad, "rows", "-3", NULL);
  assert_refused (f, bad, "'rows'");
  rewrite (update_ck, bad, "frames", "2", NULL);
  assert_refused (f, bad, "frames");
  rewrite (update_ck, bad, NULL, NULL, "optim.exp_avg_sq.fc.bias");
  assert_refused (f, bad, "optim.exp_avg_sq.fc.bias is missing");
  rewrite (other_ck, bad, "model_sha256", NULL, NULL);
  assert_refused (f, bad, "another model");
  /* A cut file is not a safetensors file at all: the loader says so,
   * naming it. */
  g_assert_true (g_file_get_contents (update_ck, &bytes, &len, NULL));
  g_assert_true (g_file_set_contents (bad, bytes, (gssize) len / 2, NULL));
  {
    g_autoptr (RsSafetensors) st = rs_safetensors_load (bad, &error);
    g_assert_null (st);
    g_assert_true (g_str_has_prefix (error->message, bad));
  }
  /* After every refusal f is as it was. */
  run (ref, 20, N_ROWS, 99, want);
  run (f, 20, N_ROWS, 99, got);
  assert_same (want, got, (N_ROWS - 20) * H);
  g_remove (plain_ck);
  g_remove (update_ck);
  g_remove (other_ck);
  g_remove (bad);
}

static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
    g_autofree char *path = g_build_filename (dir, name, NULL);
    g_remove (path);
  }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("rs-forecaster-XXXXXX", NULL);
  g_test_add_func ("/forecaster/no-lookahead", test_no_lookahead);
  g_test_add_func ("/forecaster/update/tiny-steps-match-plain", test_tiny_steps_match_plain);
  g_test_add_func ("/forecaster/update/window-default", test_window_default);
  g_test_add_func ("/forecaster/update/reset", test_reset);
  g_test_add_func ("/forecaster/checkpoint/plain", test_save_restore_plain);
  g_test_add_func ("/forecaster/checkpoint/update", test_save_restore_update);
  g_test_add_func ("/forecaster/checkpoint/refusals", test_refusals);
  status = g_test_run ();
  remove_dir (tmp_dir);
  g_free (tmp_dir);
  return status;
}
