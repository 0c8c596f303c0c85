/* rnnstream run PIPELINE: runs a pipeline file, a shipped pipeline by name,
 * or a pipeline written on the command line. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <rnnstream/rnnstream.h>

#include "cli.h"

RsPipeline *
rs_cli_load_pipeline (const char *cmd, const char *spec, char **sets, int *status)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = rs_pipeline_locate (spec);
  g_autoptr (RsPipeline) pipeline = NULL;

  /* Not a file nor a shipped pipeline: the text of one. */
  if (path != NULL)
    pipeline = rs_pipeline_new_from_file (path, &error);
  else
    pipeline = rs_pipeline_new_from_text (spec, "<command line>", &error);
  if (pipeline == NULL) {
    *status = rs_cli_error (cmd, RS_EXIT_FAILURE, "%s", error->message);
    return NULL;
  }
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    if (!rs_pipeline_set (pipeline, sets[i], &error)) {
      *status = rs_cli_error (cmd, RS_EXIT_USAGE, "%s", error->message);
      return NULL;
    }
  return g_steal_pointer (&pipeline);
}

static void
on_interrupt (int signum)
{
  (void) signum;
  rs_pipeline_request_stop ();
}

void
rs_cli_catch_interrupts (void)
{
  struct sigaction action = { 0 };

  /* Ctrl-C ends the input: whatever is pending is flushed and outputs are
   * completed. No SA_RESTART, so a read blocked on a pipe or terminal
   * returns at once. A second Ctrl-C kills as usual. */
  action.sa_handler = on_interrupt;
  action.sa_flags = SA_RESETHAND;
  sigemptyset (&action.sa_mask);
  sigaction (SIGINT, &action, NULL);
  sigaction (SIGTERM, &action, NULL);
}

int
rs_cli_run_pipeline (const char *cmd, RsPipeline *pipeline, gboolean stats)
{
  g_autoptr (GError) error = NULL;
  gboolean ok;

  rs_cli_catch_interrupts ();
  ok = rs_pipeline_run (pipeline, &error);

  if (stats) {
    g_autofree char *report = rs_pipeline_stats_report (pipeline);
    fputs (report, stderr);
  }
  if (!ok)
    return rs_cli_error (cmd, RS_EXIT_FAILURE, "%s", error->message);
  return RS_EXIT_OK;
}

int
rs_cmd_run (int argc, char **argv)
{
  g_auto (GStrv) sets = NULL;
  gboolean print = FALSE, elements = FALSE, stats = FALSE;
  const GOptionEntry entries[] = {
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Set a parameter (repeatable)",
      "ELEMENT.PARAM=VALUE" },
    { "print", 0, 0, G_OPTION_ARG_NONE, &print, "Print the pipeline as it would run, and stop",
      NULL },
    { "elements", 0, 0, G_OPTION_ARG_NONE, &elements, "List the elements and their parameters",
      NULL },
    { "stats", 0, 0, G_OPTION_ARG_NONE, &stats, "Print frames, real-time factor and the time "
      "per block of each stage (p50, p99) on stderr at the end", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (RsPipeline) pipeline = NULL;
  int status = RS_EXIT_OK;

  if (!rs_cli_parse ("run", "PIPELINE", "Run a pipeline: a file, the name of a shipped "
                     "pipeline (pipelines/NAME.pipeline), or the pipeline's text, e.g. "
                     "'csvsrc ! model path=m.safetensors ! csvsink'.", entries, &argc, &argv))
    return RS_EXIT_USAGE;
  if (elements) {
    g_autofree char *text = rs_pipeline_describe_elements ();
    fputs (text, stdout);
    return RS_EXIT_OK;
  }
  if (argc != 2)
    return rs_cli_error ("run", RS_EXIT_USAGE, "expected one pipeline");
  pipeline = rs_cli_load_pipeline ("run", argv[1], sets, &status);
  if (pipeline == NULL)
    return status;
  if (print) {
    g_autofree char *text = rs_pipeline_to_string (pipeline);
    fputs (text, stdout);
    return RS_EXIT_OK;
  }
  return rs_cli_run_pipeline ("run", pipeline, stats);
}
