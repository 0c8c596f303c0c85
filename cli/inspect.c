/* rnnstream inspect MODEL: what a model file holds. */
#include "config.h"

#include <stdio.h>

#include <rnnstream/rnnstream.h>

#include "cli.h"

int
rs_cmd_inspect (int argc, char **argv)
{
  const GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };
  g_autoptr (RsModel) model = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  if (!rs_cli_parse ("inspect", "MODEL", "Describe the architecture, sizes, parameter count, "
                     "metadata and tensors of a model file.", entries, &argc, &argv))
    return RS_EXIT_USAGE;
  if (argc != 2)
    return rs_cli_error ("inspect", RS_EXIT_USAGE, "expected one model file");
  model = rs_model_load (argv[1], NULL, &error);
  if (model == NULL)
    return rs_cli_error ("inspect", RS_EXIT_FAILURE, "%s", error->message);
  text = rs_model_describe (model);
  fputs (text, stdout);
  return RS_EXIT_OK;
}
