/* Model files: what loads, and every way a state_dict can fail to be a
 * model, each with a message naming the tensor. */
#include <string.h>

#include <rnnstream/rnnstream.h>

#include "st-writer.h"

#define H 16
#define I 5
#define O 3

/* A valid two-layer GRU state_dict with a head, as PyTorch names it. */
static StWriter *
gru_model (void)
{
  StWriter *w = st_writer_new (7);

  for (int l = 0; l < 2; l++) {
    g_autofree char *ih = g_strdup_printf ("rnn.weight_ih_l%d", l);
    g_autofree char *hh = g_strdup_printf ("rnn.weight_hh_l%d", l);
    g_autofree char *bih = g_strdup_printf ("rnn.bias_ih_l%d", l);
    g_autofree char *bhh = g_strdup_printf ("rnn.bias_hh_l%d", l);
    st_writer_add (w, ih, 3 * H, l ? H : I);
    st_writer_add (w, hh, 3 * H, H);
    st_writer_add (w, bih, 3 * H, 0);
    st_writer_add (w, bhh, 3 * H, 0);
  }
  st_writer_add (w, "fc.weight", O, H);
  st_writer_add (w, "fc.bias", O, 0);
  return w;
}

/* Loads w's file; on failure returns the error. */
static RsModel *
load (StWriter *w, GError **error)
{
  g_autofree char *path = st_writer_save (w);
  RsModel *m = rs_model_load (path, NULL, error);

  if (error && *error)
    g_assert_nonnull (strstr ((*error)->message, path));
  st_writer_cleanup (path);
  return m;
}

static void
expect_error (StWriter *w, int code, const char *phrase)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsModel) m = load (w, &error);

  g_assert_null (m);
  g_assert_error (error, RS_ERROR, code);
  g_test_message ("%s", error->message);
  if (strstr (error->message, phrase) == NULL)
    g_error ("'%s' does not contain '%s'", error->message, phrase);
}

static void
test_valid (void)
{
  g_autoptr (StWriter) w = gru_model ();
  g_autoptr (GError) error = NULL;
  g_autoptr (RsModel) m = load (w, &error);
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (rs_model_cell_name (m), ==, "gru");
  g_assert_cmpuint (rs_model_n_layers (m), ==, 2);
  g_assert_cmpuint (rs_model_input_size (m), ==, I);
  g_assert_cmpuint (rs_model_hidden_size (m), ==, H);
  g_assert_cmpuint (rs_model_output_size (m), ==, O);
  g_assert_true (rs_model_has_head (m));
  g_assert_cmpuint (rs_model_n_params (m), ==,
                    3 * H * (I + H) + 6 * H + 3 * H * (H + H) + 6 * H + O * H + O);
  text = rs_model_describe (m);
  g_assert_nonnull (strstr (text, "cell:         gru"));
  g_assert_nonnull (strstr (text, "head:         fc.weight [16 -> 3], with bias"));
}

static void
test_no_head_no_bias_plain_names (void)
{
  g_autoptr (StWriter) w = st_writer_new (3);
  g_autoptr (GError) error = NULL;
  g_autoptr (RsModel) m = NULL;

  /* A bare nn.LSTM state_dict: no module prefix at all. */
  st_writer_add (w, "weight_ih_l0", 4 * H, I);
  st_writer_add (w, "weight_hh_l0", 4 * H, H);
  m = load (w, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rs_model_cell_name (m), ==, "lstm");
  g_assert_false (rs_model_has_head (m));
  g_assert_cmpuint (rs_model_output_size (m), ==, H);
}

static void
test_missing_tensor (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_remove (w, "rnn.weight_hh_l1");
  expect_error (w, RS_ERROR_MODEL, "missing tensor rnn.weight_hh_l1");
}

static void
test_layer_gap (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_add (w, "rnn.weight_ih_l2", 3 * H, H);   /* no layer 2 recurrent weights */
  expect_error (w, RS_ERROR_MODEL, "missing tensor rnn.weight_hh_l2");
}

static void
test_inconsistent_shapes (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_add (w, "rnn.weight_ih_l1", 3 * H, 7);
  expect_error (w, RS_ERROR_MODEL, "layer 1 (rnn.*_l1): tensor weight_ih has shape [48, 7], "
                "expected [48, 16]");
}

static void
test_bias_shape (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_add (w, "rnn.bias_hh_l0", 3 * H + 1, 0);
  expect_error (w, RS_ERROR_MODEL, "tensor bias_hh has shape [49], expected [48]");
}

static void
test_half_bias (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_remove (w, "rnn.bias_hh_l0");
  expect_error (w, RS_ERROR_MODEL, "tensor bias_ih without bias_hh");
}

static void
test_head_width (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_add (w, "fc.weight", O, H + 2);
  expect_error (w, RS_ERROR_MODEL, "head fc.weight [3, 18] takes 18 inputs but the recurrent "
                "layers give 16");
}

static void
test_head_bias_shape (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_add (w, "fc.bias", O + 1, 0);
  expect_error (w, RS_ERROR_MODEL, "head bias fc.bias has shape [4], expected [3]");
}

static void
test_two_heads (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_add (w, "out.weight", O, H);
  expect_error (w, RS_ERROR_MODEL, "two candidate output heads, fc.weight and out.weight");
}

static void
test_unknown_tensor (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_add (w, "norm.running_mean", H, 0);
  expect_error (w, RS_ERROR_MODEL, "tensor norm.running_mean is neither part of the recurrent");
}

static void
test_two_rnns (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_add (w, "dec.weight_ih_l0", 3 * H, I);
  expect_error (w, RS_ERROR_MODEL, "two recurrent networks");
}

static void
test_no_rnn (void)
{
  g_autoptr (StWriter) w = st_writer_new (1);

  st_writer_add (w, "fc.weight", O, H);
  expect_error (w, RS_ERROR_MODEL, "no recurrent layer");
}

static void
test_metadata_contradicts_shapes (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_set_metadata (w, "cell", "lstm");
  expect_error (w, RS_ERROR_MODEL, "metadata says cell 'lstm' (4 x hidden rows in weight_hh) "
                "but rnn.weight_hh_l0 has shape [48, 16], which is a gru");
}

static void
test_unknown_cell (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_set_metadata (w, "cell", "mgu");
  expect_error (w, RS_ERROR_NOT_FOUND, "no plugin provides cell 'mgu'");
}

static void
test_unknown_gate_count (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_add (w, "rnn.weight_hh_l0", 2 * H, H);
  expect_error (w, RS_ERROR_MODEL, "cannot tell the cell kind from rnn.weight_hh_l0 [32, 16]");
}

static void
test_unused_recurrent_tensor (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_set_metadata (w, "cell", "gru");
  st_writer_add (w, "rnn.weight_hr_l0", 4, H);
  expect_error (w, RS_ERROR_MODEL, "tensor rnn.weight_hr_l0 is not used by cell 'gru'");
}

static void
test_missing_reverse (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_add (w, "rnn.weight_ih_l0_reverse", 3 * H, I);
  st_writer_add (w, "rnn.weight_hh_l0_reverse", 3 * H, H);
  expect_error (w, RS_ERROR_MODEL, "missing tensor rnn.weight_ih_l1_reverse");
}

static void
test_not_a_matrix (void)
{
  g_autoptr (StWriter) w = gru_model ();

  st_writer_add (w, "rnn.weight_ih_l0", 3 * H, 0);
  expect_error (w, RS_ERROR_MODEL, "tensor rnn.weight_ih_l0 is not a matrix");
}

static void
test_projection_too_wide (void)
{
  g_autoptr (StWriter) w = st_writer_new (5);

  st_writer_add (w, "lstm.weight_ih_l0", 4 * H, I);
  st_writer_add (w, "lstm.weight_hh_l0", 4 * H, H);
  st_writer_add (w, "lstm.weight_hr_l0", H, H);
  expect_error (w, RS_ERROR_MODEL, "proj_size must be smaller than hidden_size");
}

/* A malformed file is reported as such through the model loader too. */
static void
test_malformed_file (void)
{
  g_autoptr (StWriter) w = gru_model ();
  g_autoptr (GBytes) bytes = st_writer_bytes (w);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  g_autofree char *dir = g_dir_make_tmp ("rs-model-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "cut.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (RsModel) m = NULL;

  g_assert_cmpuint (len, >, 200);
  g_assert_true (g_file_set_contents (path, data, 200, NULL));   /* header cut short */
  m = rs_model_load (path, NULL, &error);
  g_assert_null (m);
  g_assert_error (error, RS_ERROR, RS_ERROR_MODEL_FORMAT);
  g_assert_nonnull (strstr (error->message, path));
  st_writer_cleanup (path);
}

static void
test_missing_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsModel) m = rs_model_load ("/nonexistent/model.safetensors", NULL, &error);

  g_assert_null (m);
  g_assert_error (error, RS_ERROR, RS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/model.safetensors"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/model/valid", test_valid);
  g_test_add_func ("/model/plain-names", test_no_head_no_bias_plain_names);
  g_test_add_func ("/model/missing-tensor", test_missing_tensor);
  g_test_add_func ("/model/layer-gap", test_layer_gap);
  g_test_add_func ("/model/inconsistent-shapes", test_inconsistent_shapes);
  g_test_add_func ("/model/bias-shape", test_bias_shape);
  g_test_add_func ("/model/half-bias", test_half_bias);
  g_test_add_func ("/model/head-width", test_head_width);
  g_test_add_func ("/model/head-bias-shape", test_head_bias_shape);
  g_test_add_func ("/model/two-heads", test_two_heads);
  g_test_add_func ("/model/unknown-tensor", test_unknown_tensor);
  g_test_add_func ("/model/two-rnns", test_two_rnns);
  g_test_add_func ("/model/no-rnn", test_no_rnn);
  g_test_add_func ("/model/metadata-contradicts-shapes", test_metadata_contradicts_shapes);
  g_test_add_func ("/model/unknown-cell", test_unknown_cell);
  g_test_add_func ("/model/unknown-gate-count", test_unknown_gate_count);
  g_test_add_func ("/model/unused-recurrent-tensor", test_unused_recurrent_tensor);
  g_test_add_func ("/model/missing-reverse", test_missing_reverse);
  g_test_add_func ("/model/not-a-matrix", test_not_a_matrix);
  g_test_add_func ("/model/projection-too-wide", test_projection_too_wide);
  g_test_add_func ("/model/malformed-file", test_malformed_file);
  g_test_add_func ("/model/missing-file", test_missing_file);
  return g_test_run ();
}
