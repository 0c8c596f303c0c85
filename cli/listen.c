/* rnnstream listen -m MODEL [--device NAME|INDEX]: live recognition from a
 * microphone. On a terminal the partial result is rewritten in place as
 * the words come and each final result stays on its own line; otherwise
 * every event is a JSON Lines object, flushed at once. A front over
 * pipelines/listen.pipeline. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rnnstream/rnnstream.h>

#include "cli.h"
#include "recognizer.h"

#define CMD "listen"

typedef struct {
  gboolean tty;
  double rate;               /* the events' clock: decoder frames per second */
  guint finals;
  GArray *latencies;         /* double: seconds from the end of speech to the final */
} Listen;

static gboolean
on_events (const float *frames, gsize n, guint width, const gint64 *index,
           const char *const *labels, gpointer user_data, GError **error)
{
  Listen *l = user_data;

  (void) error;
  for (gsize i = 0; i < n; i++) {
    RsCliEvent e;
    if (!rs_cli_event_read (frames + i * width, labels[i], &e))
      continue;
    if (!l->tty)
      printf ("%s\n", e.json);
    else if (e.final)
      printf ("\r\033[K[%7.2f - %7.2f] %s\n", e.start, e.end, e.text);
    else
      printf ("\r\033[K%s", e.text);
    fflush (stdout);
    if (e.final) {
      /* The event's index is the decoder's frame at the endpoint: the
       * time from the last word's end to the final result, on the audio's
       * clock (the trailing silence the endpointer waits for, plus the
       * model's and front end's delay). */
      const double latency = index[i] / l->rate - e.end;
      g_array_append_val (l->latencies, latency);
      l->finals++;
    }
    rs_cli_event_clear (&e);
  }
  return TRUE;
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  const double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

int
rs_cmd_listen (int argc, char **argv)
{
  g_autofree char *model = NULL, *device = NULL, *words = NULL;
  g_auto (GStrv) sets = NULL;
  int beam = 8, status = RS_EXIT_OK;
  double duration = 0;
  gboolean stats = FALSE;
  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model, "CTC model (safetensors)", "MODEL" },
    { "device", 'D', 0, G_OPTION_ARG_STRING, &device, "Input device: its stable name (see "
      "rnnstream devices), a part of it only one device has, or an index", "NAME" },
    { "beam", 0, 0, G_OPTION_ARG_INT, &beam, "Hypotheses kept; 1: greedy (default: 8)", "N" },
    { "words", 0, 0, G_OPTION_ARG_STRING, &words, "Allowed words, comma-separated", "W1,W2" },
    { "duration", 0, 0, G_OPTION_ARG_DOUBLE, &duration, "Stop after S seconds (default: at "
      "Ctrl-C)", "S" },
    { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Set a pipeline parameter (e.g. "
      "ctcdecode.endpoint-silence=1)", "ELEMENT.PARAM=VALUE" },
    { "stats", 0, 0, G_OPTION_ARG_NONE, &stats, "At the end: latency from the end of speech "
      "to each final result, the stages' times, samples lost", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (RsPipeline) p = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all_sets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) latencies = g_array_new (FALSE, FALSE, sizeof (double));
  Listen l = { isatty (STDOUT_FILENO), 0, 0, latencies };
  gboolean ok;

  if (!rs_cli_parse (CMD, NULL, "Recognise speech from a microphone with a CTC model: "
                     "partial results in place on a terminal and a final line at each "
                     "endpoint, JSON Lines events otherwise. Ctrl-C ends it.", entries, &argc,
                     &argv))
    return RS_EXIT_USAGE;
  if (model == NULL)
    return rs_cli_error (CMD, RS_EXIT_USAGE, "no model (-m MODEL)");
  if (argc > 1)
    return rs_cli_error (CMD, RS_EXIT_USAGE, "unexpected argument '%s'", argv[1]);
  if (beam < 1 || duration < 0)
    return rs_cli_error (CMD, RS_EXIT_USAGE, "--beam and --duration must be positive");
  if (device != NULL)
    g_ptr_array_add (all_sets, g_strconcat ("micsrc.device=", device, NULL));
  if (duration > 0)
    g_ptr_array_add (all_sets, g_strdup_printf ("micsrc.duration=%.17g", duration));
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    g_ptr_array_add (all_sets, g_strdup (sets[i]));
  g_ptr_array_add (all_sets, NULL);
  p = rs_cli_recognizer_pipeline (CMD, "listen", model, beam, words,
                                  (char **) all_sets->pdata, &status);
  if (p == NULL)
    return status;
  {
    g_autoptr (RsSafetensors) st = rs_safetensors_load (model, NULL);
    const char *rate = st ? rs_safetensors_metadata (st, "frame_rate") : NULL;
    l.rate = rate ? g_ascii_strtod (rate, NULL) : 0;
    if (!(l.rate > 0))
      return rs_cli_error (CMD, RS_EXIT_FAILURE, "%s: no metadata 'frame_rate'", model);
  }

  rs_cli_catch_interrupts ();
  ok = rs_pipeline_run_frames (p, on_events, &l, &error);
  if (l.tty)
    printf ("\r\033[K");
  if (stats) {
    g_autofree char *report = rs_pipeline_stats_report (p);
    fputs (report, stderr);
    if (l.latencies->len > 0) {
      double sum = 0;
      g_array_sort (l.latencies, compare_doubles);
      for (guint i = 0; i < l.latencies->len; i++)
        sum += g_array_index (l.latencies, double, i);
      fprintf (stderr, "latency from the end of speech to the final result: mean %.0f ms, "
               "median %.0f ms, max %.0f ms over %u results\n", 1000 * sum / l.latencies->len,
               1000 * g_array_index (l.latencies, double, l.latencies->len / 2),
               1000 * g_array_index (l.latencies, double, l.latencies->len - 1),
               l.latencies->len);
    }
  }
  if (!ok)
    return rs_cli_error (CMD, RS_EXIT_FAILURE, "%s", error->message);
  return RS_EXIT_OK;
}
