/* rnnstream apply: a model over CSV feature frames, one output row per
 * input row, streaming (or over the whole file for bidirectional models). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <rnnstream/rnnstream.h>

#include "cli.h"

/* Frames per call when reading a regular file: enough to batch the input
 * projections, small enough to stay in cache. Pipes default to 1 so each
 * row is answered as soon as it arrives. */
#define FILE_CHUNK 256

typedef struct {
  FILE *out;
  RsAtomicFile *atomic;     /* when writing to a file */
  guint width;
} Output;

static void
write_rows (Output *o, const float *y, gsize n_rows)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (gsize r = 0; r < n_rows; r++) {
    for (guint j = 0; j < o->width; j++) {
      if (j > 0)
        fputc (',', o->out);
      fputs (g_ascii_formatd (buf, sizeof buf, "%.9g", y[r * o->width + j]), o->out);
    }
    fputc ('\n', o->out);
  }
}

/* Streams frames through the model, chunk frames per call. */
static gboolean
run_streaming (RsModel *model, RsFrameReader *reader, Output *o, guint chunk, GError **error)
{
  g_autoptr (RsStream) stream = rs_stream_new (model, 1, error);
  const guint in_w = rs_model_input_size (model);
  g_autofree float *x = NULL, *y = NULL;
  int got = 1;

  if (stream == NULL)
    return FALSE;
  x = g_new (float, (gsize) chunk * in_w);
  y = g_new (float, (gsize) chunk * o->width);
  while (got > 0) {
    gsize n = 0;
    const float *frame;

    while (n < chunk && (got = rs_frame_reader_next (reader, &frame, error)) > 0)
      memcpy (x + n++ * in_w, frame, in_w * sizeof (float));
    if (got < 0)
      return FALSE;
    rs_stream_forward (stream, n, x, y);
    write_rows (o, y, n);
    fflush (o->out);
  }
  return TRUE;
}

/* Reads everything, then runs the model once over the whole sequence. */
static gboolean
run_offline (RsModel *model, RsFrameReader *reader, Output *o, GError **error)
{
  const guint in_w = rs_model_input_size (model);
  g_autoptr (GArray) frames = g_array_new (FALSE, FALSE, sizeof (float));
  g_autofree float *y = NULL;
  const float *frame;
  gsize n;
  int got;

  while ((got = rs_frame_reader_next (reader, &frame, error)) > 0)
    g_array_append_vals (frames, frame, in_w);
  if (got < 0)
    return FALSE;
  n = frames->len / in_w;
  y = g_try_malloc_n (MAX (n, 1), o->width * sizeof (float));
  if (y == NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "out of memory for %" G_GSIZE_FORMAT
                 " output frames", n);
    return FALSE;
  }
  if (!rs_model_run_offline (model, n, (const float *) frames->data, y, error))
    return FALSE;
  write_rows (o, y, n);
  return TRUE;
}

static gboolean
is_regular_file (FILE *f)
{
  struct stat st;

  return fstat (fileno (f), &st) == 0 && S_ISREG (st.st_mode);
}

int
rs_cmd_apply (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *in_path = NULL, *out_path = NULL;
  gint chunk = 0;
  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "Model file (safetensors)", "MODEL" },
    { "input", 'i', 0, G_OPTION_ARG_FILENAME, &in_path, "Input CSV, one frame per row "
      "(default: - for standard input)", "IN.csv" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out_path, "Output CSV, one row per frame, "
      "written atomically (default: - for standard output)", "OUT.csv" },
    { "chunk", 'c', 0, G_OPTION_ARG_INT, &chunk, "Frames per model call: 1 is strict streaming "
      "(default: 1 from a pipe or terminal, 256 from a file); results do not depend on it", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (RsModel) model = NULL;
  g_autoptr (RsFrameReader) reader = NULL;
  g_autoptr (GError) error = NULL;
  FILE *in = stdin;
  Output o = { stdout, NULL, 0 };
  gboolean ok;

  if (!rs_cli_parse ("apply", NULL, "Run a recurrent model over feature frames: one CSV row in, "
                     "one CSV row of outputs (%.9g) out, with the state carried across rows.",
                     entries, &argc, &argv))
    return RS_EXIT_USAGE;
  if (argc != 1)
    return rs_cli_error ("apply", RS_EXIT_USAGE, "unexpected argument '%s'", argv[1]);
  if (model_path == NULL)
    return rs_cli_error ("apply", RS_EXIT_USAGE, "no model given (-m MODEL)");
  if (chunk < 0)
    return rs_cli_error ("apply", RS_EXIT_USAGE, "--chunk must be at least 1");

  model = rs_model_load (model_path, NULL, &error);
  if (model == NULL)
    return rs_cli_error ("apply", RS_EXIT_FAILURE, "%s", error->message);
  if (rs_model_is_bidirectional (model) && chunk > 0)
    return rs_cli_error ("apply", RS_EXIT_FAILURE, "%s is bidirectional: its reverse direction "
                         "needs the end of the input before the first output, so it cannot "
                         "stream in chunks; drop --chunk to run it over the whole input",
                         model_path);

  if (in_path != NULL && strcmp (in_path, "-") != 0) {
    in = fopen (in_path, "r");
    if (in == NULL)
      return rs_cli_error ("apply", RS_EXIT_FAILURE, "cannot open %s: %s", in_path,
                           g_strerror (errno));
  }
  if (out_path != NULL && strcmp (out_path, "-") != 0) {
    o.atomic = rs_atomic_file_new (out_path, &error);
    if (o.atomic == NULL) {
      if (in != stdin)
        fclose (in);
      return rs_cli_error ("apply", RS_EXIT_FAILURE, "%s", error->message);
    }
    o.out = rs_atomic_file_stream (o.atomic);
  }
  o.width = rs_model_output_size (model);
  reader = rs_frame_reader_new (in, in == stdin ? "<stdin>" : in_path,
                                rs_model_input_size (model));
  if (chunk == 0)
    chunk = is_regular_file (in) ? FILE_CHUNK : 1;

  if (rs_model_is_bidirectional (model))
    ok = run_offline (model, reader, &o, &error);
  else
    ok = run_streaming (model, reader, &o, (guint) chunk, &error);

  g_clear_pointer (&reader, rs_frame_reader_free);
  if (in != stdin)
    fclose (in);
  if (!ok) {
    rs_atomic_file_abort (o.atomic);
    return rs_cli_error ("apply", RS_EXIT_FAILURE, "%s", error->message);
  }
  if (o.atomic != NULL) {
    if (!rs_atomic_file_commit (o.atomic, &error))
      return rs_cli_error ("apply", RS_EXIT_FAILURE, "%s", error->message);
  } else if (fflush (stdout) != 0 || ferror (stdout)) {
    return rs_cli_error ("apply", RS_EXIT_FAILURE, "cannot write standard output: %s",
                         g_strerror (errno));
  }
  return RS_EXIT_OK;
}
