/* rnnstream apply: a model over CSV feature frames, one output row per
 * input row. A front over pipelines/apply.pipeline. */
#include "config.h"

#include <rnnstream/rnnstream.h>

#include "cli.h"

int
rs_cmd_apply (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *in_path = NULL, *out_path = NULL;
  gint chunk = 0;
  gboolean stats = FALSE;
  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "Model file (safetensors)", "MODEL" },
    { "input", 'i', 0, G_OPTION_ARG_FILENAME, &in_path, "Input CSV, one frame per row "
      "(default: - for standard input)", "IN.csv" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out_path, "Output CSV, one row per frame, "
      "written atomically (default: - for standard output)", "OUT.csv" },
    { "chunk", 'c', 0, G_OPTION_ARG_INT, &chunk, "Frames per model call: 1 is strict streaming "
      "(default: 1 from a pipe or terminal, 256 from a file); results do not depend on it", "N" },
    { "stats", 0, 0, G_OPTION_ARG_NONE, &stats, "Print frames and the time per block of each "
      "stage (p50, p99) on stderr at the end", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GPtrArray) sets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RsPipeline) pipeline = NULL;
  int status = RS_EXIT_OK;

  if (!rs_cli_parse ("apply", NULL, "Run a recurrent model over feature frames: one CSV row in, "
                     "one CSV row of outputs (%.9g) out, with the state carried across rows. "
                     "Bidirectional models read the whole input first.",
                     entries, &argc, &argv))
    return RS_EXIT_USAGE;
  if (argc != 1)
    return rs_cli_error ("apply", RS_EXIT_USAGE, "unexpected argument '%s'", argv[1]);
  if (model_path == NULL)
    return rs_cli_error ("apply", RS_EXIT_USAGE, "no model given (-m MODEL)");
  if (chunk < 0)
    return rs_cli_error ("apply", RS_EXIT_USAGE, "--chunk must be at least 1");

  g_ptr_array_add (sets, g_strconcat ("model.path=", model_path, NULL));
  if (in_path != NULL)
    g_ptr_array_add (sets, g_strconcat ("csvsrc.location=", in_path, NULL));
  if (out_path != NULL)
    g_ptr_array_add (sets, g_strconcat ("csvsink.location=", out_path, NULL));
  if (chunk > 0) {
    /* Asking for chunks asks for streaming: a bidirectional model refuses. */
    g_ptr_array_add (sets, g_strdup_printf ("csvsrc.chunk=%d", chunk));
    g_ptr_array_add (sets, g_strdup ("model.mode=stream"));
  }
  g_ptr_array_add (sets, NULL);
  pipeline = rs_cli_load_pipeline ("apply", "apply", (char **) sets->pdata, &status);
  if (pipeline == NULL)
    return status;
  return rs_cli_run_pipeline ("apply", pipeline, stats);
}
