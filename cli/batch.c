/* rnnstream batch PIPELINE FILE...: one pipeline over many inputs, a
 * worker per core, one output per input written atomically. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rnnstream/rnnstream.h>

#include "cli.h"
#include "progress.h"

typedef struct {
  const RsPipeline *base;
  const char *input;
  char *output;
  gboolean ok;
  char *message;
  RsPipelineStats stats;
} Job;

typedef struct {
  GAsyncQueue *done;         /* Job*, as workers finish them */
} Shared;

static void
run_job (gpointer data, gpointer user_data)
{
  Job *job = data;
  Shared *shared = user_data;
  g_autoptr (RsPipeline) p = rs_pipeline_copy (job->base);
  g_autoptr (GError) error = NULL;
  g_autofree char *src = g_strdup_printf ("%s.location=%s", rs_pipeline_source_name (p),
                                          job->input);
  g_autofree char *sink = g_strdup_printf ("%s.location=%s", rs_pipeline_sink_name (p),
                                           job->output);

  job->ok = rs_pipeline_set (p, src, &error) && rs_pipeline_set (p, sink, &error) &&
            rs_pipeline_run (p, &error);
  if (!job->ok)
    job->message = g_strdup (error->message);
  rs_pipeline_get_stats (p, &job->stats);
  g_async_queue_push (shared->done, job);
}

static GPtrArray *
read_list (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *files;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  files = g_ptr_array_new_with_free_func (g_free);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_strstrip (lines[i]);
    if (lines[i][0] != '\0' && lines[i][0] != '#')
      g_ptr_array_add (files, g_strdup (lines[i]));
  }
  return files;
}

char *
rs_cli_output_path (const char *input, const char *dir, const char *suffix)
{
  g_autofree char *base = g_path_get_basename (input);
  char *dot = strrchr (base, '.');
  g_autofree char *name = NULL;

  if (dot != NULL && dot != base)
    *dot = '\0';
  name = g_strconcat (base, suffix, NULL);
  return g_build_filename (dir, name, NULL);
}

static void
show_progress (gboolean tty, guint done, guint total, double elapsed, const Job *job)
{
  if (tty)
    rs_progress_bar (stderr, NULL, done, total, "files", elapsed, total - done, NULL, TRUE);
  else if (job != NULL)
    fprintf (stderr, "batch: [%u/%u] %s %s\n", done, total, job->ok ? "done" : "FAILED",
             job->input);
}

int
rs_cmd_batch (int argc, char **argv)
{
  g_auto (GStrv) sets = NULL;
  g_autofree char *list = NULL, *out_dir = NULL, *suffix = NULL;
  gint jobs = 0;
  gboolean force = FALSE;
  const GOptionEntry entries[] = {
    { "list", 'l', 0, G_OPTION_ARG_FILENAME, &list, "Read the inputs from FILE, one per line",
      "FILE" },
    { "output-dir", 'd', 0, G_OPTION_ARG_FILENAME, &out_dir, "Write outputs here (default: .)",
      "DIR" },
    { "suffix", 0, 0, G_OPTION_ARG_STRING, &suffix, "Output name: the input's name without "
      "extension plus SUFFIX (default: .csv)", "SUFFIX" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Workers (default: one per core)", "N" },
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Redo inputs whose output exists", NULL },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Set a parameter (repeatable)",
      "ELEMENT.PARAM=VALUE" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (RsPipeline) base = NULL;
  g_autoptr (GPtrArray) inputs = NULL;
  g_autoptr (GHashTable) outputs = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree Job *all = NULL;
  Shared shared;
  GThreadPool *pool;
  guint n_jobs = 0, n_skipped = 0, n_failed = 0, n_done = 0;
  double input_seconds = 0, cpu_seconds = 0, elapsed;
  guint64 rows = 0;
  gint64 start;
  gboolean tty = isatty (STDERR_FILENO);
  int status = RS_EXIT_OK;

  if (!rs_cli_parse ("batch", "PIPELINE [FILE...]", "Run a pipeline over many inputs in "
                     "parallel: the source reads each input, the sink writes its output "
                     "atomically to DIR. Inputs whose output exists are skipped, so a "
                     "stopped batch resumes where it stopped; a failed input is reported and "
                     "the others go on.", entries, &argc, &argv))
    return RS_EXIT_USAGE;
  if (argc < 2)
    return rs_cli_error ("batch", RS_EXIT_USAGE, "expected a pipeline and inputs");
  if (jobs < 0)
    return rs_cli_error ("batch", RS_EXIT_USAGE, "--jobs must be at least 1");
  base = rs_cli_load_pipeline ("batch", argv[1], sets, &status);
  if (base == NULL)
    return status;
  if (list != NULL) {
    inputs = read_list (list, &error);
    if (inputs == NULL)
      return rs_cli_error ("batch", RS_EXIT_FAILURE, "%s", error->message);
  } else {
    inputs = g_ptr_array_new_with_free_func (g_free);
  }
  for (int i = 2; i < argc; i++)
    g_ptr_array_add (inputs, g_strdup (argv[i]));
  if (inputs->len == 0)
    return rs_cli_error ("batch", RS_EXIT_USAGE, "no inputs");
  if (out_dir == NULL)
    out_dir = g_strdup (".");
  if (suffix == NULL)
    suffix = g_strdup (".csv");
  if (g_mkdir_with_parents (out_dir, 0777) != 0)
    return rs_cli_error ("batch", RS_EXIT_FAILURE, "cannot create %s", out_dir);

  /* Every input gets its own output: two inputs with one name would
   * overwrite each other's results. */
  all = g_new0 (Job, inputs->len);
  outputs = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < inputs->len; i++) {
    all[i].base = base;
    all[i].input = g_ptr_array_index (inputs, i);
    all[i].output = rs_cli_output_path (all[i].input, out_dir, suffix);
    if (!g_hash_table_add (outputs, all[i].output)) {
      status = rs_cli_error ("batch", RS_EXIT_USAGE, "two inputs would both write %s (%s)",
                             all[i].output, all[i].input);
      goto out;
    }
  }

  shared.done = g_async_queue_new ();
  pool = g_thread_pool_new (run_job, &shared, jobs > 0 ? jobs : (gint) g_get_num_processors (),
                            FALSE, NULL);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < inputs->len; i++) {
    if (!force && g_file_test (all[i].output, G_FILE_TEST_EXISTS)) {
      n_skipped++;
      continue;
    }
    g_thread_pool_push (pool, &all[i], NULL);
    n_jobs++;
  }
  for (guint i = 0; i < n_jobs; i++) {
    Job *job = g_async_queue_pop (shared.done);
    elapsed = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
    if (job->ok) {
      n_done++;
      cpu_seconds += job->stats.seconds;
      if (job->stats.input_rate > 0)
        input_seconds += job->stats.frames_in / job->stats.input_rate;
      else
        rows += job->stats.frames_in;
    } else {
      n_failed++;
      if (tty)
        fputc ('\n', stderr);
      fprintf (stderr, "rnnstream batch: %s: %s\n", job->input, job->message);
    }
    show_progress (tty, i + 1, n_jobs, elapsed, job);
  }
  g_thread_pool_free (pool, FALSE, TRUE);
  g_async_queue_unref (shared.done);
  elapsed = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;

  fprintf (stderr, "batch: %u inputs: %u done, %u skipped (output exists), %u failed; %.2f s",
           inputs->len, n_done, n_skipped, n_failed, elapsed);
  if (input_seconds > 0)
    fprintf (stderr, "; %.3f h of audio, real-time factor %.4f (%.4f per worker)",
             input_seconds / 3600, elapsed / input_seconds, cpu_seconds / input_seconds);
  if (rows > 0)
    fprintf (stderr, "; %" G_GUINT64_FORMAT " rows", rows);
  fputc ('\n', stderr);
  status = n_failed ? RS_EXIT_FAILURE : RS_EXIT_OK;

out:
  for (guint i = 0; i < inputs->len; i++) {
    g_free (all[i].output);
    g_free (all[i].message);
  }
  return status;
}
