/* rnnstream: the command-line front end. Each subcommand lives in its own
 * file; this one only dispatches. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <rnnstream/rnnstream.h>

#include "cli.h"

static const RsCommand commands[] = {
  { "apply", "run a model over CSV feature frames, streaming", rs_cmd_apply },
  { "inspect", "describe a model file", rs_cmd_inspect },
  { "plugins", "list the cell plugins found", rs_cmd_plugins },
  { "run", "run a pipeline (file, shipped name or text)", rs_cmd_run },
  { "batch", "run a pipeline over many inputs, on every core", rs_cmd_batch },
  { "features", "Kaldi-compatible MFCC or fbank features of a sound file, as CSV", rs_cmd_features },
  { "devices", "list the audio input devices", rs_cmd_devices },
  { "train", "train a forecaster, a classifier or a CTC recogniser", rs_cmd_train },
  { "forecast", "forecast a CSV series row by row, with prediction intervals", rs_cmd_forecast },
  { "backtest", "score a forecaster at rolling origins against naive baselines", rs_cmd_backtest },
  { "transcribe", "transcribe sound files with a CTC model, on every core", rs_cmd_transcribe },
  { "listen", "live recognition from a microphone: partial and final results", rs_cmd_listen },
};

int
rs_cli_error (const char *cmd, int code, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "rnnstream %s: %s\n", cmd, message);
  return code;
}

gboolean
rs_cli_parse (const char *cmd, const char *parameter_string, const char *summary,
              const GOptionEntry *entries, int *argc, char ***argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new (parameter_string);
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error)) {
    rs_cli_error (cmd, RS_EXIT_USAGE, "%s (see rnnstream %s --help)", error->message, cmd);
    return FALSE;
  }
  return TRUE;
}

static void
usage (FILE *out)
{
  fprintf (out, "Usage: rnnstream COMMAND [OPTIONS...]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nrnnstream COMMAND --help describes a command's options.\n"
                "Exit status: 0 success, 1 failure (input, model or output), 2 usage error.\n");
}

int
main (int argc, char **argv)
{
  g_set_prgname ("rnnstream");
  if (argc < 2) {
    usage (stderr);
    return RS_EXIT_USAGE;
  }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 ||
      strcmp (argv[1], "help") == 0) {
    usage (stdout);
    return RS_EXIT_OK;
  }
  if (strcmp (argv[1], "--version") == 0) {
    printf ("rnnstream %s (cell ABI %d.%d, kernels: see rnnstream plugins)\n", RS_VERSION_STRING,
            RS_CELL_ABI_MAJOR, RS_CELL_ABI_MINOR);
    return RS_EXIT_OK;
  }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0) {
      /* The subcommand sees "rnnstream-apply ..." style argv: its name
       * as argv[0], so GOption's --help reads naturally. */
      return commands[i].run (argc - 1, argv + 1);
    }
  fprintf (stderr, "rnnstream: unknown command '%s'\n\n", argv[1]);
  usage (stderr);
  return RS_EXIT_USAGE;
}
