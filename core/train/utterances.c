/* A corpus of utterances and their features (see rnnstream/utterances.h). */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pipeline/parser.h"
#include "rnnstream/error.h"
#include "rnnstream/pipeline.h"
#include "rnnstream/utterances.h"

typedef struct {
  char *path;                /* as written in the list */
  char *resolved;            /* the file to open */
  char *text;
  guint line;
  float *features;
  guint n_frames;
  char *failure;             /* set when the file could not be read */
  int failure_code;          /* its RS_ERROR code */
} Utterance;

struct RsUtterances {
  GArray *items;             /* Utterance, list order; failed ones removed at the end */
  guint width;
  double frame_rate;
  GPtrArray *failures;       /* char *, NULL-terminated */
  char *frontend;            /* as run, with any estimated prior filled in */
};

static void
utterance_clear (Utterance *u)
{
  g_free (u->path);
  g_free (u->resolved);
  g_free (u->text);
  g_free (u->features);
  g_free (u->failure);
}

void
rs_utterances_free (RsUtterances *c)
{
  if (c == NULL)
    return;
  for (guint i = 0; i < c->items->len; i++)
    utterance_clear (&g_array_index (c->items, Utterance, i));
  g_array_unref (c->items);
  g_ptr_array_unref (c->failures);
  g_free (c->frontend);
  g_free (c);
}

static gboolean
parse_list (RsUtterances *c, const char *list_path, GError **error)
{
  g_autofree char *text = NULL, *dir = g_path_get_dirname (list_path);
  g_auto (GStrv) lines = NULL;
  GError *local = NULL;

  if (!g_file_get_contents (list_path, &text, NULL, &local)) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "%s: cannot read the list: %s", list_path,
                 local->message);
    g_error_free (local);
    return FALSE;
  }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    char *line = lines[i], *tab;
    Utterance u = { 0 };
    gsize len = strlen (line);

    if (len > 0 && line[len - 1] == '\r')
      line[--len] = '\0';
    if (line[strspn (line, " \t")] == '\0' || line[strspn (line, " \t")] == '#')
      continue;
    if (!g_utf8_validate (line, -1, NULL)) {
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s:%u: not UTF-8 text", list_path, i + 1);
      return FALSE;
    }
    tab = strchr (line, '\t');
    if (tab == NULL) {
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s:%u: expected PATH<TAB>TEXT, found no "
                   "tab in '%s'", list_path, i + 1, line);
      return FALSE;
    }
    *tab = '\0';
    g_strstrip (line);
    g_strstrip (tab + 1);
    if (line[0] == '\0' || tab[1] == '\0') {
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s:%u: empty %s", list_path, i + 1,
                   line[0] == '\0' ? "path" : "text");
      return FALSE;
    }
    u.path = g_strdup (line);
    u.resolved = g_path_is_absolute (line) ? g_strdup (line) : g_build_filename (dir, line, NULL);
    u.text = g_strdup (tab + 1);
    u.line = i + 1;
    g_array_append_val (c->items, u);
  }
  if (c->items->len == 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: no utterances in the list", list_path);
    return FALSE;
  }
  return TRUE;
}

typedef struct {
  GArray *frames;            /* float */
  guint width;
} Collect;

static gboolean
collect (const float *frames, gsize n, guint width, const gint64 *index,
         const char *const *labels, gpointer user_data, GError **error)
{
  Collect *c = user_data;

  (void) index;
  (void) labels;
  (void) error;
  c->width = width;
  g_array_append_vals (c->frames, frames, n * width);
  return TRUE;
}

typedef struct {
  const RsPipeline *prototype;
  const char *list_path;
  RsUtterances *corpus;
} Job;

/* Computes one file's features with a private copy of the pipeline. */
static void
extract (Utterance *u, const Job *job, double *frame_rate, guint *width)
{
  g_autoptr (RsPipeline) p = rs_pipeline_copy (job->prototype);
  g_autofree char *assignment = g_strconcat ("filesrc.location=", u->resolved, NULL);
  Collect c = { g_array_new (FALSE, FALSE, sizeof (float)), 0 };
  g_autoptr (GError) error = NULL;
  RsPipelineStats stats;

  if (rs_pipeline_set (p, assignment, &error) && rs_pipeline_run_frames (p, collect, &c, &error)
      && c.frames->len == 0)
    g_set_error (&error, RS_ERROR, RS_ERROR_FAILED, "too short: no feature frame");
  if (error != NULL) {
    u->failure = g_strdup_printf ("%s:%u: %s: %s", job->list_path, u->line, u->path,
                                  error->message);
    u->failure_code = error->domain == RS_ERROR ? error->code : RS_ERROR_FAILED;
    g_array_unref (c.frames);
    return;
  }
  rs_pipeline_get_stats (p, &stats);
  *frame_rate = stats.output_rate;
  *width = c.width;
  u->n_frames = c.frames->len / c.width;
  u->features = (float *) g_array_free (c.frames, FALSE);
}

static void
extract_job (gpointer data, gpointer user_data)
{
  const Job *job = user_data;
  Utterance *u = &g_array_index (job->corpus->items, Utterance, GPOINTER_TO_UINT (data) - 1);
  double rate;
  guint width;

  extract (u, job, &rate, &width);
}

static RsUtterances *
load (const char *list_path, const RsUtteranceOptions *o, GError **error)
{
  g_autoptr (RsUtterances) c = g_new0 (RsUtterances, 1);
  g_autoptr (RsPipeline) prototype = NULL;
  g_autofree char *text = NULL, *source = NULL;
  Job job;
  guint first = 0;
  GArray *kept;

  g_return_val_if_fail (list_path != NULL && o != NULL && o->frontend != NULL, NULL);
  g_return_val_if_fail (o->sample_rate > 0 && o->n_threads >= 1, NULL);

  c->items = g_array_new (FALSE, TRUE, sizeof (Utterance));
  c->failures = g_ptr_array_new_with_free_func (g_free);
  if (!parse_list (c, list_path, error))
    return NULL;

  text = g_strdup_printf ("filesrc location=- rate=%.17g ! %s", o->sample_rate, o->frontend);
  source = g_strdup_printf ("front end '%s'", o->frontend);
  prototype = rs_pipeline_new_to_caller (text, source, error);
  if (prototype == NULL)
    return NULL;
  job = (Job) { prototype, list_path, c };

  /* The first file alone, on this thread: a front end that does not fit
   * together fails here once, rather than once per file. The first file
   * that reads sets the width and the rate. */
  for (; first < c->items->len; first++) {
    Utterance *u = &g_array_index (c->items, Utterance, first);
    extract (u, &job, &c->frame_rate, &c->width);
    if (u->failure == NULL)
      break;
    if (u->failure_code == RS_ERROR_PIPELINE) {
      g_set_error (error, RS_ERROR, RS_ERROR_PIPELINE, "%s", u->failure);
      return NULL;
    }
  }
  if (first == c->items->len) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "%s: no file could be read; the first: %s",
                 list_path, g_array_index (c->items, Utterance, 0).failure);
    return NULL;
  }
  {
    GThreadPool *pool = o->n_threads > 1
                          ? g_thread_pool_new (extract_job, &job, (int) o->n_threads, TRUE, NULL)
                          : NULL;
    for (guint i = first + 1; i < c->items->len; i++) {
      if (pool != NULL)
        g_thread_pool_push (pool, GUINT_TO_POINTER (i + 1), NULL);
      else
        extract_job (GUINT_TO_POINTER (i + 1), &job);
    }
    if (pool != NULL)
      g_thread_pool_free (pool, FALSE, TRUE);
  }

  /* Keep the files that were read, in list order. */
  kept = g_array_new (FALSE, TRUE, sizeof (Utterance));
  for (guint i = 0; i < c->items->len; i++) {
    Utterance *u = &g_array_index (c->items, Utterance, i);
    if (u->failure != NULL) {
      g_ptr_array_add (c->failures, g_steal_pointer (&u->failure));
      utterance_clear (u);
    } else {
      g_array_append_val (kept, *u);
    }
  }
  g_array_unref (c->items);
  c->items = kept;
  g_ptr_array_add (c->failures, NULL);
  c->frontend = g_strdup (o->frontend);
  return g_steal_pointer (&c);
}

/* Whether element e (a cmvn) asks for its prior to be estimated:
 * prior-frames without prior-mean. */
static gboolean
wants_prior (const RsElementText *e)
{
  gboolean frames = FALSE, mean = FALSE;

  if (strcmp (e->type, "cmvn") != 0)
    return FALSE;
  for (guint i = 0; i < e->params->len; i++) {
    const RsParamText *p = g_ptr_array_index (e->params, i);
    frames = frames || strcmp (p->key, "prior-frames") == 0;
    mean = mean || strcmp (p->key, "prior-mean") == 0 || strcmp (p->key, "prior-std") == 0;
  }
  return frames && !mean;
}

static void
append_element (GString *out, const RsElementText *e, const char *extra)
{
  if (out->len > 0)
    g_string_append (out, " ! ");
  g_string_append (out, e->type);
  for (guint i = 0; i < e->params->len; i++) {
    const RsParamText *p = g_ptr_array_index (e->params, i);
    g_autofree char *value = rs_pipeline_quote (p->value);
    g_string_append_printf (out, " %s=%s", p->key, value);
  }
  if (extra != NULL)
    g_string_append_printf (out, " %s", extra);
}

static void
append_numbers (GString *out, const double *values, guint n)
{
  for (guint k = 0; k < n; k++) {
    char number[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append_printf (out, "%s%s", k > 0 ? "," : "",
                            g_ascii_formatd (number, sizeof number, "%.6g", values[k]));
  }
}

/* The front end (its elements, parsed) with the prior of each cmvn that
 * wants one estimated from every frame its input has over the corpus (in
 * list order, so that the numbers do not depend on the threads), or NULL
 * with an error. */
static char *
estimate_priors (const char *list_path, const RsUtteranceOptions *o, GPtrArray *elements,
                 GError **error)
{
  g_autoptr (GString) done = g_string_new (NULL);

  for (guint e = 0; e < elements->len; e++) {
    const RsElementText *el = g_ptr_array_index (elements, e);
    RsUtteranceOptions prefix = *o;
    g_autoptr (RsUtterances) c = NULL;
    g_autofree double *sum = NULL, *sum_sq = NULL;
    g_autoptr (GString) prior = g_string_new ("prior-mean=");
    double n = 0;

    if (!wants_prior (el)) {
      append_element (done, el, NULL);
      continue;
    }
    if (done->len == 0) {
      g_set_error (error, RS_ERROR, RS_ERROR_PIPELINE,
                   "front end: a cmvn prior is estimated from features: no element before it");
      return NULL;
    }
    prefix.frontend = done->str;
    c = load (list_path, &prefix, error);
    if (c == NULL)
      return NULL;
    sum = g_new0 (double, c->width);
    sum_sq = g_new0 (double, c->width);
    for (guint i = 0; i < c->items->len; i++) {
      const Utterance *u = &g_array_index (c->items, Utterance, i);
      for (gsize f = 0; f < u->n_frames; f++)
        for (guint k = 0; k < c->width; k++) {
          const double v = u->features[f * c->width + k];
          sum[k] += v;
          sum_sq[k] += v * v;
        }
      n += u->n_frames;
    }
    for (guint k = 0; k < c->width; k++) {
      sum[k] /= n;
      sum_sq[k] = sqrt (MAX (sum_sq[k] / n - sum[k] * sum[k], 0));
    }
    append_numbers (prior, sum, c->width);
    g_string_append (prior, " prior-std=");
    append_numbers (prior, sum_sq, c->width);
    append_element (done, el, prior->str);
  }
  return g_strdup (done->str);
}

RsUtterances *
rs_utterances_load (const char *list_path, const RsUtteranceOptions *o, GError **error)
{
  g_autoptr (GPtrArray) elements = NULL;
  g_autofree char *frontend = NULL;
  RsUtteranceOptions resolved = *o;
  gboolean estimate = FALSE;

  g_return_val_if_fail (list_path != NULL && o != NULL && o->frontend != NULL, NULL);
  /* A front end that does not parse fails in load, naming it as it runs. */
  elements = rs_pipeline_parse (o->frontend, "front end", NULL);
  for (guint e = 0; elements != NULL && e < elements->len; e++)
    estimate = estimate || wants_prior (g_ptr_array_index (elements, e));
  if (!estimate)
    return load (list_path, o, error);
  frontend = estimate_priors (list_path, o, elements, error);
  if (frontend == NULL)
    return NULL;
  resolved.frontend = frontend;
  return load (list_path, &resolved, error);
}

const char *
rs_utterances_frontend (const RsUtterances *c)
{
  return c->frontend;
}

guint
rs_utterances_count (const RsUtterances *c)
{
  return c->items->len;
}

guint
rs_utterances_width (const RsUtterances *c)
{
  return c->width;
}

double
rs_utterances_frame_rate (const RsUtterances *c)
{
  return c->frame_rate;
}

const char *
rs_utterances_path (const RsUtterances *c, guint i)
{
  g_return_val_if_fail (i < c->items->len, NULL);
  return g_array_index (c->items, Utterance, i).path;
}

const char *
rs_utterances_text (const RsUtterances *c, guint i)
{
  g_return_val_if_fail (i < c->items->len, NULL);
  return g_array_index (c->items, Utterance, i).text;
}

guint
rs_utterances_line (const RsUtterances *c, guint i)
{
  g_return_val_if_fail (i < c->items->len, 0);
  return g_array_index (c->items, Utterance, i).line;
}

const float *
rs_utterances_features (const RsUtterances *c, guint i, guint *n_frames)
{
  const Utterance *u;

  g_return_val_if_fail (i < c->items->len && n_frames != NULL, NULL);
  u = &g_array_index (c->items, Utterance, i);
  *n_frames = u->n_frames;
  return u->features;
}

const char *const *
rs_utterances_failures (const RsUtterances *c)
{
  return (const char *const *) c->failures->pdata;
}
