/* Every cell plugin against PyTorch, and the streaming guarantees.
 *
 * The fixtures in tests/fixtures were made by tests/make-fixtures.py with
 * PyTorch: for each case a model (a plain state_dict) and the output
 * PyTorch computed for a random input sequence. cases.txt lists them. */
#include <math.h>
#include <string.h>

#include <rnnstream/rnnstream.h>

#define TOLERANCE 1e-5

typedef struct {
  char *name;
  char *kind;
  guint layers;
  gboolean bidirectional;
} Case;

static GPtrArray *cases;

static char *
fixture_path (const char *name, const char *suffix)
{
  g_autofree char *file = g_strconcat (name, suffix, NULL);
  return g_build_filename (g_getenv ("RS_TEST_FIXTURES"), file, NULL);
}

static void
case_free (gpointer data)
{
  Case *c = data;
  g_free (c->name);
  g_free (c->kind);
  g_free (c);
}

static GPtrArray *
read_cases (void)
{
  g_autofree char *path = fixture_path ("cases", ".txt");
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *list = g_ptr_array_new_with_free_func (case_free);

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_auto (GStrv) f = NULL;
    Case *c;

    if (lines[i][0] == '#' || lines[i][0] == '\0')
      continue;
    f = g_strsplit_set (lines[i], " \t", -1);
    /* name kind layers hidden input output bidirectional ... */
    {
      g_autoptr (GPtrArray) fields = g_ptr_array_new ();
      for (guint k = 0; f[k]; k++)
        if (f[k][0] != '\0')
          g_ptr_array_add (fields, f[k]);
      g_assert_cmpuint (fields->len, >=, 7);
      c = g_new0 (Case, 1);
      c->name = g_strdup (g_ptr_array_index (fields, 0));
      c->kind = g_strdup (g_ptr_array_index (fields, 1));
      c->layers = (guint) g_ascii_strtoull (g_ptr_array_index (fields, 2), NULL, 10);
      c->bidirectional = strcmp (g_ptr_array_index (fields, 6), "1") == 0;
    }
    g_ptr_array_add (list, c);
  }
  g_assert_cmpuint (list->len, >, 0);
  return list;
}

typedef struct {
  RsModel *model;
  RsSafetensors *io;
  const RsTensor *input;
  const RsTensor *output;
  gsize n_frames;
} Loaded;

static void
load_case (const Case *c, Loaded *l)
{
  g_autofree char *model_path = fixture_path (c->name, ".safetensors");
  g_autofree char *io_path = fixture_path (c->name, ".io.safetensors");
  g_autoptr (GError) error = NULL;

  l->model = rs_model_load (model_path, NULL, &error);
  g_assert_no_error (error);
  l->io = rs_safetensors_load (io_path, &error);
  g_assert_no_error (error);
  l->input = rs_safetensors_lookup (l->io, "input");
  l->output = rs_safetensors_lookup (l->io, "output");
  g_assert_nonnull (l->input);
  g_assert_nonnull (l->output);
  l->n_frames = l->input->shape[0];
  g_assert_cmpuint (l->input->shape[1], ==, rs_model_input_size (l->model));
  g_assert_cmpuint (l->output->shape[1], ==, rs_model_output_size (l->model));
  g_assert_cmpuint (l->output->shape[0], ==, l->n_frames);
  g_assert_cmpstr (rs_model_cell_name (l->model), ==, c->kind);
  g_assert_cmpuint (rs_model_n_layers (l->model), ==, c->layers);
  g_assert_cmpint (rs_model_is_bidirectional (l->model), ==, c->bidirectional);
}

static void
unload_case (Loaded *l)
{
  rs_model_free (l->model);
  rs_safetensors_free (l->io);
}

/* Runs a stream over the case's input in chunks of `chunk` frames. */
static float *
run_chunked (const Loaded *l, gsize chunk)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsStream) s = rs_stream_new (l->model, 1, &error);
  const gsize in_w = rs_model_input_size (l->model), out_w = rs_model_output_size (l->model);
  float *y = g_new (float, l->n_frames * out_w);

  g_assert_no_error (error);
  for (gsize t = 0; t < l->n_frames; t += chunk) {
    gsize n = MIN (chunk, l->n_frames - t);
    rs_stream_forward (s, n, l->input->data + t * in_w, y + t * out_w);
  }
  return y;
}

static void
test_against_pytorch (gconstpointer data)
{
  const Case *c = data;
  Loaded l;
  g_autofree float *y = NULL;
  double max_diff = 0;
  g_autoptr (GError) error = NULL;

  load_case (c, &l);
  y = g_new (float, l.output->n_elements);
  g_assert_true (rs_model_run_offline (l.model, l.n_frames, l.input->data, y, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < l.output->n_elements; i++)
    max_diff = MAX (max_diff, fabs ((double) y[i] - l.output->data[i]));
  g_test_message ("%s (%s): max abs difference %.3g over %zu frames", c->name,
                  rs_model_cell_name (l.model), max_diff, l.n_frames);
  g_assert_cmpfloat (max_diff, <=, TOLERANCE);
  g_assert_cmpuint (l.n_frames, >=, 100);
  unload_case (&l);
}

/* The same sequence fed whole, frame by frame and in odd chunks gives the
 * same bits, equal to the offline run's. */
static void
test_chunk_invariance (gconstpointer data)
{
  const Case *c = data;
  const gsize chunks[] = { 1, 7, 64, 65, 1000000 };
  g_autofree float *offline = NULL;
  Loaded l;

  load_case (c, &l);
  offline = g_new (float, l.output->n_elements);
  g_assert_true (rs_model_run_offline (l.model, l.n_frames, l.input->data, offline, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (chunks); i++) {
    g_autofree float *y = run_chunked (&l, chunks[i]);
    g_assert_cmpmem (y, l.output->n_elements * sizeof (float), offline,
                     l.output->n_elements * sizeof (float));
  }
  unload_case (&l);
}

/* Three streams at once, each given the sequence from a different start,
 * match single-stream runs bit for bit: streams do not interfere. */
static void
test_many_streams (gconstpointer data)
{
  const Case *c = data;
  const guint B = 3;
  g_autoptr (GError) error = NULL;
  g_autoptr (RsStream) s = NULL;
  g_autofree float *x = NULL, *y = NULL, *single = NULL;
  gsize in_w, out_w, T;
  Loaded l;

  load_case (c, &l);
  in_w = rs_model_input_size (l.model);
  out_w = rs_model_output_size (l.model);
  T = l.n_frames / 2;
  s = rs_stream_new (l.model, B, &error);
  g_assert_no_error (error);
  x = g_new (float, T * B * in_w);
  y = g_new (float, T * B * out_w);
  for (gsize t = 0; t < T; t++)
    for (guint b = 0; b < B; b++)
      memcpy (x + (t * B + b) * in_w, l.input->data + (t + b * 5) * in_w, in_w * sizeof (float));
  rs_stream_forward (s, 5, x, y);
  rs_stream_forward (s, T - 5, x + 5 * B * in_w, y + 5 * B * out_w);
  single = g_new (float, T * out_w);
  for (guint b = 0; b < B; b++) {
    g_autoptr (RsStream) one = rs_stream_new (l.model, 1, NULL);
    rs_stream_forward (one, T, l.input->data + b * 5 * in_w, single);
    for (gsize t = 0; t < T; t++)
      g_assert_cmpmem (y + (t * B + b) * out_w, out_w * sizeof (float), single + t * out_w,
                       out_w * sizeof (float));
  }
  /* Resetting one stream restarts it alone. */
  rs_stream_reset_one (s, 1);
  rs_stream_forward (s, 1, x, y);
  {
    g_autoptr (RsStream) fresh = rs_stream_new (l.model, 1, NULL);
    rs_stream_forward (fresh, 1, x + in_w, single);
    g_assert_cmpmem (y + out_w, out_w * sizeof (float), single, out_w * sizeof (float));
  }
  unload_case (&l);
}

/* A snapshot taken mid-sequence and restored into a fresh stream continues
 * exactly as the original does. */
static void
test_snapshot_restore (gconstpointer data)
{
  const Case *c = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (RsStream) a = NULL, b = NULL;
  g_autoptr (GBytes) snap = NULL;
  g_autofree float *ya = NULL, *yb = NULL;
  gsize in_w, out_w, half, rest;
  Loaded l;

  load_case (c, &l);
  in_w = rs_model_input_size (l.model);
  out_w = rs_model_output_size (l.model);
  half = l.n_frames / 2;
  rest = l.n_frames - half;
  a = rs_stream_new (l.model, 1, NULL);
  b = rs_stream_new (l.model, 1, NULL);
  ya = g_new (float, l.n_frames * out_w);
  yb = g_new (float, rest * out_w);
  rs_stream_forward (a, half, l.input->data, ya);
  snap = rs_stream_save_state (a);
  rs_stream_forward (a, rest, l.input->data + half * in_w, ya + half * out_w);
  g_assert_true (rs_stream_load_state (b, snap, &error));
  g_assert_no_error (error);
  rs_stream_forward (b, rest, l.input->data + half * in_w, yb);
  g_assert_cmpmem (ya + half * out_w, rest * out_w * sizeof (float), yb,
                   rest * out_w * sizeof (float));

  /* Reset returns to the initial state. */
  rs_stream_reset (b);
  rs_stream_forward (b, 1, l.input->data, yb);
  g_assert_cmpmem (ya, out_w * sizeof (float), yb, out_w * sizeof (float));
  unload_case (&l);
}

static void
test_snapshot_rejects (void)
{
  g_autofree char *p1 = fixture_path ("gru_stream", ".safetensors");
  g_autofree char *p2 = fixture_path ("gru_l2_head", ".safetensors");
  g_autoptr (RsModel) m1 = rs_model_load (p1, NULL, NULL);
  g_autoptr (RsModel) m2 = rs_model_load (p2, NULL, NULL);
  g_autoptr (RsStream) s1 = rs_stream_new (m1, 1, NULL);
  g_autoptr (RsStream) s1b = rs_stream_new (m1, 2, NULL);
  g_autoptr (RsStream) s2 = rs_stream_new (m2, 1, NULL);
  g_autoptr (GBytes) snap = rs_stream_save_state (s1);
  gsize len;
  const guint8 *bytes = g_bytes_get_data (snap, &len);
  g_autofree guint8 *corrupt = g_memdup2 (bytes, len);
  g_autoptr (GBytes) bad = NULL, truncated = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (m1);
  g_assert_nonnull (m2);
  g_assert_false (rs_stream_load_state (s2, snap, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_STATE);
  g_assert_nonnull (strstr (error->message, "another model"));
  g_clear_error (&error);
  g_assert_false (rs_stream_load_state (s1b, snap, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_STATE);
  g_assert_nonnull (strstr (error->message, "streams"));
  g_clear_error (&error);
  corrupt[len / 2] ^= 0x40;
  bad = g_bytes_new (corrupt, len);
  g_assert_false (rs_stream_load_state (s1, bad, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_STATE);
  g_assert_nonnull (strstr (error->message, "corrupt"));
  g_clear_error (&error);
  truncated = g_bytes_new (bytes, len - 7);
  g_assert_false (rs_stream_load_state (s1, truncated, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_STATE);
}

static void
test_bidirectional_refuses_streaming (void)
{
  g_autofree char *path = fixture_path ("gru_l2_bidir_head", ".safetensors");
  g_autoptr (RsModel) model = rs_model_load (path, NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (model);
  g_assert_null (rs_stream_new (model, 1, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "bidirectional"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  cases = read_cases ();
  for (guint i = 0; i < cases->len; i++) {
    const Case *c = g_ptr_array_index (cases, i);
    g_autofree char *p1 = g_strdup_printf ("/cells/pytorch/%s", c->name);
    g_test_add_data_func (p1, c, test_against_pytorch);
    if (c->bidirectional)
      continue;
    g_autofree char *p2 = g_strdup_printf ("/cells/chunks/%s", c->name);
    g_autofree char *p3 = g_strdup_printf ("/cells/streams/%s", c->name);
    g_autofree char *p4 = g_strdup_printf ("/cells/snapshot/%s", c->name);
    g_test_add_data_func (p2, c, test_chunk_invariance);
    g_test_add_data_func (p3, c, test_many_streams);
    g_test_add_data_func (p4, c, test_snapshot_restore);
  }
  g_test_add_func ("/cells/snapshot-rejects", test_snapshot_rejects);
  g_test_add_func ("/cells/bidirectional-refuses-streaming", test_bidirectional_refuses_streaming);
  {
    int status = g_test_run ();
    g_ptr_array_unref (cases);
    return status;
  }
}
