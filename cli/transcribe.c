/* rnnstream transcribe -m MODEL FILE...: a CTC recogniser over sound files,
 * a worker per core, the results in input order: FILE<TAB>TRANSCRIPT lines,
 * JSON Lines with segments and word times, or SRT / WebVTT subtitles. A
 * front over pipelines/transcribe.pipeline. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rnnstream/rnnstream.h>

#include "cli.h"
#include "recognizer.h"

#define CMD "transcribe"

typedef enum { FORMAT_TEXT, FORMAT_JSONL, FORMAT_SRT, FORMAT_VTT } Format;

typedef struct {
  const RsPipeline *base;
  const char *input;
  guint index;
  GPtrArray *segments;       /* RsCliEvent *, the final results */
  double audio_seconds, seconds;
  char *message;             /* NULL: it worked */
} Job;

static void
event_free (gpointer data)
{
  rs_cli_event_clear (data);
  g_free (data);
}

static gboolean
collect (const float *frames, gsize n, guint width, const gint64 *index,
         const char *const *labels, gpointer user_data, GError **error)
{
  Job *job = user_data;

  (void) index;
  (void) error;
  for (gsize i = 0; i < n; i++) {
    RsCliEvent *e = g_new0 (RsCliEvent, 1);
    if (rs_cli_event_read (frames + i * width, labels[i], e) && e->final)
      g_ptr_array_add (job->segments, e);
    else
      event_free (e);
  }
  return TRUE;
}

static void
run_job (gpointer data, gpointer user_data)
{
  Job *job = data;
  g_autoptr (RsPipeline) p = rs_pipeline_copy (job->base);
  g_autoptr (GError) error = NULL;
  g_autofree char *src = g_strdup_printf ("%s.location=%s", rs_pipeline_source_name (p),
                                          job->input);
  RsPipelineStats stats;

  job->segments = g_ptr_array_new_with_free_func (event_free);
  if (!rs_pipeline_set (p, src, &error) || !rs_pipeline_run_frames (p, collect, job, &error))
    job->message = g_strdup (error->message);
  rs_pipeline_get_stats (p, &stats);
  job->audio_seconds = stats.input_rate > 0 ? stats.frames_in / stats.input_rate : 0;
  job->seconds = stats.seconds;
  g_async_queue_push (user_data, job);
}

static char *
job_text (const Job *job)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < job->segments->len; i++) {
    const RsCliEvent *e = g_ptr_array_index (job->segments, i);
    if (e->text[0] != '\0')
      g_string_append_printf (s, "%s%s", s->len ? " " : "", e->text);
  }
  return g_string_free (s, FALSE);
}

static void
json_string (GString *s, const char *text)
{
  g_autoptr (JsonNode) node = json_node_init_string (json_node_alloc (), text);
  g_autofree char *quoted = json_to_string (node, FALSE);

  g_string_append (s, quoted);
}

/* HH:MM:SS,mmm (SRT) or HH:MM:SS.mmm (WebVTT). */
static void
timestamp (GString *s, double seconds, char separator)
{
  const gint64 ms = (gint64) (seconds * 1000 + 0.5);

  g_string_append_printf (s, "%02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT ":%02"
                          G_GINT64_FORMAT "%c%03" G_GINT64_FORMAT, ms / 3600000,
                          ms / 60000 % 60, ms / 1000 % 60, separator, ms % 1000);
}

static void
write_job (FILE *out, const Job *job, Format format)
{
  g_autoptr (GString) s = g_string_new (NULL);
  g_autofree char *text = job_text (job);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  switch (format) {
  case FORMAT_TEXT:
    g_string_append_printf (s, "%s\t%s\n", job->input, text);
    break;
  case FORMAT_JSONL:
    g_string_append (s, "{\"file\": ");
    json_string (s, job->input);
    g_string_append (s, ", \"text\": ");
    json_string (s, text);
    g_string_append (s, ", \"duration\": ");
    g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.3f", job->audio_seconds));
    g_string_append (s, ", \"segments\": [");
    for (guint i = 0; i < job->segments->len; i++) {
      const RsCliEvent *e = g_ptr_array_index (job->segments, i);
      g_string_append_printf (s, "%s%s", i ? ", " : "", e->json);
    }
    g_string_append (s, "]}\n");
    break;
  case FORMAT_SRT:
  case FORMAT_VTT:
    if (format == FORMAT_VTT)
      g_string_append (s, "WEBVTT\n\n");
    for (guint i = 0; i < job->segments->len; i++) {
      const RsCliEvent *e = g_ptr_array_index (job->segments, i);
      const char sep = format == FORMAT_SRT ? ',' : '.';
      if (format == FORMAT_SRT)
        g_string_append_printf (s, "%u\n", i + 1);
      timestamp (s, e->start, sep);
      g_string_append (s, " --> ");
      timestamp (s, e->end, sep);
      g_string_append_printf (s, "\n%s\n\n", e->text);
    }
    break;
  }
  fputs (s->str, out);
}

static gboolean
write_subtitles (const Job *job, const char *dir, Format format, GError **error)
{
  g_autofree char *path = rs_cli_output_path (job->input, dir,
                                              format == FORMAT_SRT ? ".srt" : ".vtt");
  g_autoptr (RsAtomicFile) f = rs_atomic_file_new (path, error);

  if (f == NULL)
    return FALSE;
  write_job (rs_atomic_file_stream (f), job, format);
  return rs_atomic_file_commit (g_steal_pointer (&f), error);
}

int
rs_cmd_transcribe (int argc, char **argv)
{
  g_autofree char *model = NULL, *format_name = NULL, *output = NULL, *dir = NULL;
  g_autofree char *words = NULL;
  g_auto (GStrv) sets = NULL;
  int jobs = 0, beam = 8, status = RS_EXIT_OK;
  gboolean stats = FALSE;
  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model, "CTC model (safetensors, from rnnstream "
      "train --task ctc)", "MODEL" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_name, "text (FILE<TAB>TRANSCRIPT, the "
      "default), jsonl (segments and word times), srt or vtt (subtitles)", "FORMAT" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write to FILE, atomically (default: "
      "standard output)", "FILE" },
    { "output-dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir, "srt, vtt: one DIR/NAME.srt per "
      "input, atomically", "DIR" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Files decoded at once (default: one per core)",
      "N" },
    { "beam", 0, 0, G_OPTION_ARG_INT, &beam, "Hypotheses kept by the decoder; 1: greedy "
      "(default: 8)", "N" },
    { "words", 0, 0, G_OPTION_ARG_STRING, &words, "Allowed words, comma-separated (default: "
      "any)", "W1,W2" },
    { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Set a pipeline parameter (e.g. "
      "ctcdecode.endpoint-silence=1)", "ELEMENT.PARAM=VALUE" },
    { "stats", 0, 0, G_OPTION_ARG_NONE, &stats, "Print audio seconds, processing seconds "
      "and the real-time factor", NULL },
    G_OPTION_ENTRY_NULL
  };
  Format format = FORMAT_TEXT;
  g_autoptr (RsPipeline) base = NULL;
  g_autoptr (GAsyncQueue) done = NULL;
  g_autofree Job *all = NULL;
  g_autofree Job **ready = NULL;
  g_autoptr (RsAtomicFile) file = NULL;
  g_autoptr (GError) error = NULL;
  GThreadPool *pool = NULL;
  FILE *out = stdout;
  guint n, next = 0, failed = 0;
  double audio = 0, busy = 0;
  gint64 start = g_get_monotonic_time ();

  if (!rs_cli_parse (CMD, "FILE...", "Transcribe sound files with a CTC model: one line per "
                     "file, FILE<TAB>TRANSCRIPT, in input order; files at any rate are "
                     "resampled to the model's. A failed file is reported and the others go "
                     "on (exit status 1).", entries, &argc, &argv))
    return RS_EXIT_USAGE;
  if (model == NULL)
    return rs_cli_error (CMD, RS_EXIT_USAGE, "no model (-m MODEL)");
  if (argc < 2)
    return rs_cli_error (CMD, RS_EXIT_USAGE, "no input files");
  if (format_name == NULL || strcmp (format_name, "text") == 0)
    format = FORMAT_TEXT;
  else if (strcmp (format_name, "jsonl") == 0)
    format = FORMAT_JSONL;
  else if (strcmp (format_name, "srt") == 0)
    format = FORMAT_SRT;
  else if (strcmp (format_name, "vtt") == 0)
    format = FORMAT_VTT;
  else
    return rs_cli_error (CMD, RS_EXIT_USAGE, "--format: '%s' is not one of text, jsonl, srt, "
                         "vtt", format_name);
  if (dir != NULL && format != FORMAT_SRT && format != FORMAT_VTT)
    return rs_cli_error (CMD, RS_EXIT_USAGE, "--output-dir is for --format srt or vtt");
  if ((format == FORMAT_SRT || format == FORMAT_VTT) && dir == NULL && argc > 2)
    return rs_cli_error (CMD, RS_EXIT_USAGE, "subtitles of several files need --output-dir");
  if (beam < 1 || jobs < 0)
    return rs_cli_error (CMD, RS_EXIT_USAGE, "--beam and --jobs must be positive");

  base = rs_cli_recognizer_pipeline (CMD, "transcribe", model, beam, words, sets, &status);
  if (base == NULL)
    return status;
  if (output != NULL) {
    if ((file = rs_atomic_file_new (output, &error)) == NULL)
      return rs_cli_error (CMD, RS_EXIT_FAILURE, "%s", error->message);
    out = rs_atomic_file_stream (file);
  }

  n = (guint) argc - 1;
  all = g_new0 (Job, n);
  ready = g_new0 (Job *, n);
  done = g_async_queue_new ();
  pool = g_thread_pool_new (run_job, done, jobs > 0 ? jobs : (int) g_get_num_processors (),
                            TRUE, NULL);
  for (guint i = 0; i < n; i++) {
    all[i] = (Job) { base, argv[i + 1], i, NULL, 0, 0, NULL };
    g_thread_pool_push (pool, &all[i], NULL);
  }
  /* Results in input order, each as soon as it and those before it are
   * done, so a long list streams. */
  for (guint got = 0; got < n; got++) {
    Job *job = g_async_queue_pop (done);
    ready[job->index] = job;
    while (next < n && ready[next] != NULL) {
      Job *j = ready[next++];
      audio += j->audio_seconds;
      busy += j->seconds;
      if (j->message != NULL) {
        rs_cli_error (CMD, RS_EXIT_FAILURE, "%s: %s", j->input, j->message);
        failed++;
      } else if (dir != NULL) {
        if (!write_subtitles (j, dir, format, &error)) {
          rs_cli_error (CMD, RS_EXIT_FAILURE, "%s", error->message);
          g_clear_error (&error);
          failed++;
        }
      } else {
        write_job (out, j, format);
        fflush (out);
      }
      g_ptr_array_unref (j->segments);
      g_free (j->message);
    }
  }
  g_thread_pool_free (pool, FALSE, TRUE);
  if (file != NULL && !rs_atomic_file_commit (g_steal_pointer (&file), &error)) {
    rs_cli_error (CMD, RS_EXIT_FAILURE, "%s", error->message);
    failed++;
  }
  if (stats) {
    const double wall = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
    fprintf (stderr, "transcribe: %u files, %.1f s of audio in %.2f s (%.2f s of decoding on "
             "the workers): real-time factor %.4f per worker, %.1fx real time overall\n", n,
             audio, wall, busy, audio > 0 ? busy / audio : 0.0, wall > 0 ? audio / wall : 0.0);
  }
  if (failed > 0)
    fprintf (stderr, "transcribe: %u of %u files failed\n", failed, n);
  return failed > 0 ? RS_EXIT_FAILURE : RS_EXIT_OK;
}
