/* rnnstream features [--type=mfcc|fbank] [Kaldi options] FILE: features of
 * a sound file as CSV, one row per frame. A front over
 * pipelines/mfcc.pipeline and pipelines/fbank.pipeline. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <rnnstream/rnnstream.h>

#include "cli.h"

static void
usage (FILE *out)
{
  fprintf (out,
           "Usage: rnnstream features [--type=mfcc|fbank] [KALDI OPTIONS...] [-o OUT.csv] "
           "[--stats] FILE\n\n"
           "Kaldi-compatible features of a sound file, one CSV row per frame (the format\n"
           "rnnstream apply reads). Options are Kaldi's, written as Kaldi writes them:\n"
           "--frame-length=25 --frame-shift=10 --num-mel-bins=23 --num-ceps=13\n"
           "--low-freq=20 --high-freq=0 --preemphasis-coefficient=0.97 --window-type=povey\n"
           "--remove-dc-offset=true --round-to-power-of-two=true --snip-edges=true\n"
           "--cepstral-lifter=22 --use-energy=true --energy-floor=0 --raw-energy=true\n"
           "--dither=0 (Kaldi: 1) --sample-frequency=HZ (default: the file's own rate;\n"
           "another rate resamples the audio). `rnnstream run --elements` lists them all.\n");
}

int
rs_cmd_features (int argc, char **argv)
{
  const char *type = "mfcc", *file = NULL, *out_path = NULL, *rate = NULL;
  g_autoptr (GPtrArray) options = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) sets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RsPipeline) pipeline = NULL;
  gboolean stats = FALSE;
  int status = RS_EXIT_OK;

  /* Kaldi's options are open-ended, so the arguments are read by hand:
   * every --name=value that is not ours goes to the feature element, which
   * checks it like any pipeline parameter. */
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0) {
      usage (stdout);
      return RS_EXIT_OK;
    } else if (g_str_has_prefix (arg, "--type=")) {
      type = arg + strlen ("--type=");
    } else if (strcmp (arg, "--stats") == 0) {
      stats = TRUE;
    } else if (strcmp (arg, "-o") == 0 && i + 1 < argc) {
      out_path = argv[++i];
    } else if (g_str_has_prefix (arg, "--output=")) {
      out_path = arg + strlen ("--output=");
    } else if (g_str_has_prefix (arg, "--sample-frequency=")) {
      rate = arg + strlen ("--sample-frequency=");
    } else if (g_str_has_prefix (arg, "--") && strchr (arg, '=') != NULL) {
      g_ptr_array_add (options, g_strdup (arg + 2));
    } else if (arg[0] == '-' && arg[1] != '\0') {
      return rs_cli_error ("features", RS_EXIT_USAGE, "unknown option %s (Kaldi options are "
                           "written --name=value; see rnnstream features --help)", arg);
    } else if (file == NULL) {
      file = arg;
    } else {
      return rs_cli_error ("features", RS_EXIT_USAGE, "expected one sound file");
    }
  }
  if (file == NULL)
    return rs_cli_error ("features", RS_EXIT_USAGE, "no sound file given");
  if (strcmp (type, "mfcc") != 0 && strcmp (type, "fbank") != 0)
    return rs_cli_error ("features", RS_EXIT_USAGE, "--type must be mfcc or fbank, not '%s'",
                         type);

  g_ptr_array_add (sets, g_strconcat ("filesrc.location=", file, NULL));
  if (rate != NULL) {
    g_ptr_array_add (sets, g_strconcat ("filesrc.rate=", rate, NULL));
    g_ptr_array_add (sets, g_strdup_printf ("%s.sample-frequency=%s", type, rate));
  }
  for (guint i = 0; i < options->len; i++)
    g_ptr_array_add (sets, g_strdup_printf ("%s.%s", type, (char *) g_ptr_array_index (options, i)));
  if (out_path != NULL)
    g_ptr_array_add (sets, g_strconcat ("csvsink.location=", out_path, NULL));
  g_ptr_array_add (sets, NULL);
  pipeline = rs_cli_load_pipeline ("features", type, (char **) sets->pdata, &status);
  if (pipeline == NULL)
    return status;
  return rs_cli_run_pipeline ("features", pipeline, stats);
}
