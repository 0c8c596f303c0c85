/* Building and running pipelines (see rnnstream/pipeline.h). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "element.h"
#include "histogram.h"
#include "parser.h"
#include "rnnstream/error.h"
#include "rnnstream/pipeline.h"

struct RsPipeline {
  char *display_name;
  GPtrArray *texts;          /* RsElementText*, as parsed (with --set applied) */
  RsPipelineStats stats;
  RsHistogram *stage_times;  /* per element, of the last run */
  RsHistogram block_times;   /* a block through every stage */
  GString *reports;          /* the elements' own lines, of the last run */
  gboolean to_caller;        /* no sink: rs_pipeline_run_frames delivers the frames */
};

/* Lock-free and async-signal-safe (C11 guarantees it for atomic_int where
 * it is lock-free, as on every platform we build for). */
static atomic_int stop_requested;

void
rs_pipeline_request_stop (void)
{
  atomic_store (&stop_requested, 1);
}

gboolean
rs_pipeline_stop_requested (void)
{
  return atomic_load (&stop_requested) != 0;
}

static const RsElementClass *
find_class (const char *type)
{
  for (guint i = 0; rs_element_classes[i] != NULL; i++)
    if (strcmp (rs_element_classes[i]->type, type) == 0)
      return rs_element_classes[i];
  return NULL;
}

static char *
known_types (void)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; rs_element_classes[i] != NULL; i++)
    g_string_append_printf (s, "%s%s", i ? ", " : "", rs_element_classes[i]->type);
  return g_string_free (s, FALSE);
}

static char *
known_params (const RsElementClass *klass)
{
  GString *s = g_string_new ("name");

  for (guint i = 0; klass->params[i].name != NULL; i++)
    g_string_append_printf (s, ", %s", klass->params[i].name);
  return g_string_free (s, FALSE);
}

static const RsParamSpec *
find_spec (const RsElementClass *klass, const char *name, guint *index)
{
  for (guint i = 0; klass->params[i].name != NULL; i++)
    if (strcmp (klass->params[i].name, name) == 0) {
      if (index)
        *index = i;
      return &klass->params[i];
    }
  return NULL;
}

/* Where a parameter was written, for messages: "FILE:LINE:COL" or "--set". */
static char *
where (const RsPipeline *p, const RsParamText *param, guint line, guint column)
{
  if (param != NULL && param->line == 0)
    return g_strdup ("--set");
  if (param != NULL)
    return g_strdup_printf ("%s:%u:%u", p->display_name, param->line, param->column);
  return g_strdup_printf ("%s:%u:%u", p->display_name, line, column);
}

/* The element's name: its name= parameter, else its type. */
static const char *
element_name (const RsElementText *e)
{
  for (guint i = 0; i < e->params->len; i++) {
    const RsParamText *param = g_ptr_array_index (e->params, i);
    if (strcmp (param->key, "name") == 0)
      return param->value;
  }
  return e->type;
}

/* Checks text against spec and fills value. On failure returns a reason. */
static char *
check_value (const RsParamSpec *spec, const char *text, RsParamValue *value)
{
  char *end;

  value->text = g_strdup (text);
  switch (spec->type) {
  case RS_PARAM_STRING:
    return NULL;
  case RS_PARAM_BOOL:
    if (strcmp (text, "true") == 0 || strcmp (text, "false") == 0) {
      value->b = text[0] == 't';
      return NULL;
    }
    return g_strdup_printf ("expects true or false, got '%s'", text);
  case RS_PARAM_INT:
    errno = 0;
    value->i = g_ascii_strtoll (text, &end, 10);
    if (*text == '\0' || *end != '\0' || errno != 0)
      return g_strdup_printf ("expects an integer, got '%s'", text);
    value->d = (double) value->i;
    break;
  case RS_PARAM_DOUBLE:
    value->d = g_ascii_strtod (text, &end);
    if (*text == '\0' || *end != '\0' || !isfinite (value->d))
      return g_strdup_printf ("expects a number, got '%s'", text);
    break;
  case RS_PARAM_ENUM: {
    g_auto (GStrv) choices = g_strsplit (spec->choices, "|", -1);
    if (g_strv_contains ((const char *const *) choices, text))
      return NULL;
    g_autofree char *list = g_strjoinv (", ", choices);
    return g_strdup_printf ("expects one of %s, got '%s'", list, text);
  }
  }
  if (spec->min <= spec->max && (value->d < spec->min || value->d > spec->max))
    return g_strdup_printf ("expects a value from %g to %g, got '%s'", spec->min, spec->max,
                            text);
  return NULL;
}

static void
element_free (RsElement *el)
{
  if (el == NULL)
    return;
  for (guint i = 0; el->values && el->klass->params[i].name != NULL; i++)
    g_free (el->values[i].text);
  g_free (el->values);
  g_free (el->name);
  g_free (el);
}

/* Makes an element from its text, checking every parameter given, and,
 * with check_required, that every required one is given (a pipeline file
 * may leave those to --set). */
static RsElement *
build_element (const RsPipeline *p, const RsElementText *e, gboolean check_required,
               GError **error)
{
  const RsElementClass *klass = find_class (e->type);
  RsElement *el;
  guint n_specs = 0;
  g_autofree gboolean *given = NULL;

  if (klass == NULL) {
    g_autofree char *pos = where (p, NULL, e->line, e->column);
    g_autofree char *types = known_types ();
    g_set_error (error, RS_ERROR, RS_ERROR_PIPELINE, "%s: unknown element '%s' (known: %s)",
                 pos, e->type, types);
    return NULL;
  }
  while (klass->params[n_specs].name != NULL)
    n_specs++;
  el = g_new0 (RsElement, 1);
  el->klass = klass;
  el->name = g_strdup (element_name (e));
  el->values = g_new0 (RsParamValue, n_specs + 1);
  given = g_new0 (gboolean, n_specs + 1);

  for (guint i = 0; i < e->params->len; i++) {
    const RsParamText *param = g_ptr_array_index (e->params, i);
    guint index;
    const RsParamSpec *spec = find_spec (klass, param->key, &index);
    g_autofree char *pos = where (p, param, 0, 0);
    g_autofree char *reason = NULL;

    if (strcmp (param->key, "name") == 0)
      continue;
    if (spec == NULL) {
      g_autofree char *names = known_params (klass);
      g_set_error (error, RS_ERROR, RS_ERROR_PIPELINE, "%s: element %s has no parameter '%s' "
                   "(it has: %s)", pos, e->type, param->key, names);
      goto fail;
    }
    g_clear_pointer (&el->values[index].text, g_free);
    reason = check_value (spec, param->value, &el->values[index]);
    if (reason != NULL) {
      g_set_error (error, RS_ERROR, RS_ERROR_PIPELINE, "%s: %s.%s %s", pos, el->name,
                   spec->name, reason);
      goto fail;
    }
    given[index] = TRUE;
  }
  for (guint i = 0; i < n_specs; i++) {
    const RsParamSpec *spec = &klass->params[i];
    g_autofree char *reason = NULL;

    if (given[i] || (spec->default_value == NULL && !check_required))
      continue;
    if (spec->default_value == NULL) {
      g_autofree char *pos = where (p, NULL, e->line, e->column);
      g_set_error (error, RS_ERROR, RS_ERROR_PIPELINE, "%s: element %s needs parameter '%s' "
                   "(%s)", pos, el->name, spec->name, spec->blurb);
      goto fail;
    }
    /* "" leaves the parameter unset: the element applies its own default,
     * which may depend on other settings (Kaldi's per-program defaults). */
    if (spec->default_value[0] == '\0' && spec->type != RS_PARAM_STRING) {
      el->values[i].text = g_strdup ("");
      continue;
    }
    reason = check_value (spec, spec->default_value, &el->values[i]);
    g_assert (reason == NULL);
  }
  return el;

fail:
  element_free (el);
  return NULL;
}

/* What may start and end a pipeline: a source and a sink, a source and
 * the program (to_caller), or only filters (a chain). */
typedef enum { ENDS_SINK, ENDS_CALLER, FILTERS_ONLY } Ends;

static RsPipeline *
new_from_text (const char *text, const char *display_name, Ends ends, GError **error)
{
  GPtrArray *texts = rs_pipeline_parse (text, display_name, error);
  RsPipeline *p;
  g_autoptr (GHashTable) names = NULL;

  if (texts == NULL)
    return NULL;
  p = g_new0 (RsPipeline, 1);
  p->display_name = g_strdup (display_name);
  p->texts = texts;
  p->to_caller = ends == ENDS_CALLER;

  /* Check what can be checked now: types, parameter names and values,
   * roles and unique names. */
  names = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < texts->len; i++) {
    const RsElementText *e = g_ptr_array_index (texts, i);
    RsElement *el = build_element (p, e, FALSE, error);
    const char *role_error = NULL;

    if (el == NULL)
      goto fail;
    if (ends == FILTERS_ONLY && el->klass->role != RS_ELEMENT_FILTER)
      role_error = el->klass->role == RS_ELEMENT_SOURCE
                     ? "is a source, but this pipeline takes its input from its owner"
                     : "is a sink, but this pipeline gives its output to its owner";
    else if (ends == FILTERS_ONLY)
      role_error = NULL;
    else if (i == 0 && el->klass->role != RS_ELEMENT_SOURCE)
      role_error = "is not a source, but starts the pipeline";
    else if (i > 0 && el->klass->role == RS_ELEMENT_SOURCE)
      role_error = "is a source, so it can only start the pipeline";
    else if (i + 1 == texts->len && ends == ENDS_SINK && el->klass->role != RS_ELEMENT_SINK)
      role_error = "is not a sink, but ends the pipeline";
    else if ((i + 1 < texts->len || ends == ENDS_CALLER) && el->klass->role == RS_ELEMENT_SINK)
      role_error = ends == ENDS_CALLER
                     ? "is a sink, but the frames of this pipeline go to the program"
                     : "is a sink, so it can only end the pipeline";
    if (role_error == NULL && !g_hash_table_add (names, (gpointer) element_name (e)))
      role_error = "has the same name as an earlier element: give one of them name=...";
    if (role_error != NULL) {
      g_autofree char *pos = where (p, NULL, e->line, e->column);
      g_set_error (error, RS_ERROR, RS_ERROR_PIPELINE, "%s: element %s %s", pos, el->name,
                   role_error);
      element_free (el);
      goto fail;
    }
    element_free (el);
  }
  return p;

fail:
  rs_pipeline_free (p);
  return NULL;
}

RsPipeline *
rs_pipeline_new_from_text (const char *text, const char *display_name, GError **error)
{
  return new_from_text (text, display_name, ENDS_SINK, error);
}

RsPipeline *
rs_pipeline_new_to_caller (const char *text, const char *display_name, GError **error)
{
  return new_from_text (text, display_name, ENDS_CALLER, error);
}

RsPipeline *
rs_pipeline_new_from_file (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &text, NULL, &local)) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "cannot read pipeline %s: %s", path,
                 local->message);
    return NULL;
  }
  return rs_pipeline_new_from_text (text, path, error);
}

static char *
find_in (const char *dir, const char *name)
{
  g_autofree char *file = g_strconcat (name, ".pipeline", NULL);
  char *path = g_build_filename (dir, file, NULL);

  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return path;
  g_free (path);
  return NULL;
}

char *
rs_pipeline_locate (const char *name)
{
  const char *user_path = g_getenv ("RNNSTREAM_PIPELINE_PATH");
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  char *found = NULL;

  g_return_val_if_fail (name != NULL, NULL);

  if (g_file_test (name, G_FILE_TEST_IS_REGULAR))
    return g_strdup (name);
  if (strchr (name, '/') != NULL)
    return NULL;
  if (user_path != NULL) {
    g_auto (GStrv) dirs = g_strsplit (user_path, G_SEARCHPATH_SEPARATOR_S, -1);
    for (guint i = 0; dirs[i] != NULL && found == NULL; i++)
      if (dirs[i][0] != '\0')
        found = find_in (dirs[i], name);
  }
  /* The build tree runs the source tree's pipelines, as it runs its own
   * plugins (see core/registry.c). */
  if (found == NULL)
    found = find_in (exe != NULL && g_str_has_prefix (exe, RS_BUILD_ROOT G_DIR_SEPARATOR_S)
                       ? RS_SOURCE_PIPELINE_DIR : RS_INSTALL_PIPELINE_DIR, name);
  return found;
}

void
rs_pipeline_free (RsPipeline *p)
{
  if (p == NULL)
    return;
  g_free (p->display_name);
  g_ptr_array_unref (p->texts);
  g_free (p->stage_times);
  if (p->reports != NULL)
    g_string_free (p->reports, TRUE);
  g_free (p);
}

gboolean
rs_pipeline_set (RsPipeline *p, const char *assignment, GError **error)
{
  const char *dot = strchr (assignment, '.');
  const char *eq = strchr (assignment, '=');
  g_autofree char *elem = NULL, *key = NULL;
  RsElementText *target = NULL;
  RsParamText *param, old;
  RsElement *check;
  gboolean added = FALSE;

  g_return_val_if_fail (p != NULL, FALSE);
  g_return_val_if_fail (assignment != NULL, FALSE);

  if (dot == NULL || eq == NULL || dot > eq || dot == assignment || eq == dot + 1) {
    g_set_error (error, RS_ERROR, RS_ERROR_PIPELINE, "--set %s: expected ELEMENT.PARAM=VALUE",
                 assignment);
    return FALSE;
  }
  elem = g_strndup (assignment, (gsize) (dot - assignment));
  key = g_strndup (dot + 1, (gsize) (eq - dot - 1));
  for (guint i = 0; i < p->texts->len; i++) {
    RsElementText *e = g_ptr_array_index (p->texts, i);
    if (strcmp (element_name (e), elem) == 0)
      target = e;
  }
  if (target == NULL) {
    GString *names = g_string_new (NULL);
    for (guint i = 0; i < p->texts->len; i++)
      g_string_append_printf (names, "%s%s", i ? ", " : "",
                              element_name (g_ptr_array_index (p->texts, i)));
    g_set_error (error, RS_ERROR, RS_ERROR_PIPELINE, "--set %s: the pipeline has no element "
                 "'%s' (it has: %s)", assignment, elem, names->str);
    g_string_free (names, TRUE);
    return FALSE;
  }
  if (strcmp (key, "name") == 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_PIPELINE, "--set %s: an element's name cannot be "
                 "changed", assignment);
    return FALSE;
  }
  /* Replace an earlier value of the same key, else add one; undo it when
   * the element refuses the value, so a failed --set changes nothing. */
  param = NULL;
  for (guint i = 0; i < target->params->len; i++) {
    RsParamText *candidate = g_ptr_array_index (target->params, i);
    if (strcmp (candidate->key, key) == 0)
      param = candidate;
  }
  if (param == NULL) {
    param = g_new0 (RsParamText, 1);
    param->key = g_strdup (key);
    g_ptr_array_add (target->params, param);
    added = TRUE;
  }
  old = (RsParamText) { NULL, param->value, param->line, param->column };
  param->value = g_strdup (eq + 1);
  param->line = param->column = 0;
  check = build_element (p, target, FALSE, error);
  if (check == NULL) {
    if (added) {
      g_ptr_array_remove (target->params, param);
    } else {
      g_free (param->value);
      param->value = old.value;
      param->line = old.line;
      param->column = old.column;
    }
    return FALSE;
  }
  g_free (old.value);
  element_free (check);
  return TRUE;
}

RsPipeline *
rs_pipeline_copy (const RsPipeline *p)
{
  g_autofree char *text = NULL;
  RsPipeline *copy;

  g_return_val_if_fail (p != NULL, NULL);
  /* The printed form parses back to the same pipeline (the fuzzer checks
   * it); positions are lost, but every parameter was checked already. */
  text = rs_pipeline_to_string (p);
  copy = new_from_text (text, p->display_name, p->to_caller ? ENDS_CALLER : ENDS_SINK, NULL);
  g_assert (copy != NULL);
  return copy;
}

const char *
rs_pipeline_source_name (const RsPipeline *p)
{
  g_return_val_if_fail (p != NULL, NULL);
  return element_name (g_ptr_array_index (p->texts, 0));
}

const char *
rs_pipeline_sink_name (const RsPipeline *p)
{
  g_return_val_if_fail (p != NULL, NULL);
  return element_name (g_ptr_array_index (p->texts, p->texts->len - 1));
}

void
rs_pipeline_get_stats (const RsPipeline *p, RsPipelineStats *stats)
{
  g_return_if_fail (p != NULL);
  g_return_if_fail (stats != NULL);
  *stats = p->stats;
}

char *
rs_pipeline_stats_report (const RsPipeline *p)
{
  GString *s = g_string_new (NULL);
  const RsPipelineStats *st = &p->stats;

  g_return_val_if_fail (p != NULL, NULL);

  g_string_append_printf (s, "frames: %" G_GUINT64_FORMAT " in, %" G_GUINT64_FORMAT " out; "
                          "%.3f s wall", st->frames_in, st->frames_out, st->seconds);
  if (st->input_rate > 0 && st->frames_in > 0) {
    double input_seconds = st->frames_in / st->input_rate;
    g_string_append_printf (s, "; %.2f s of input at %g Hz, real-time factor %.4f",
                            input_seconds, st->input_rate, st->seconds / input_seconds);
  }
  g_string_append_c (s, '\n');
  g_string_append_printf (s, "%-16s %10s %10s %10s %12s\n", "stage", "blocks", "p50 us",
                          "p99 us", "total ms");
  for (guint i = 0; p->stage_times != NULL && i < p->texts->len; i++) {
    const RsHistogram *h = &p->stage_times[i];
    g_string_append_printf (s, "%-16s %10" G_GUINT64_FORMAT " %10.1f %10.1f %12.2f%s\n",
                            element_name (g_ptr_array_index (p->texts, i)), h->n,
                            rs_histogram_quantile (h, 0.5) / 1e3,
                            rs_histogram_quantile (h, 0.99) / 1e3, h->total_ns / 1e6,
                            i == 0 ? "  (includes waiting for input)" : "");
  }
  g_string_append_printf (s, "%-16s %10" G_GUINT64_FORMAT " %10.1f %10.1f %12.2f\n",
                          "per block", p->block_times.n,
                          rs_histogram_quantile (&p->block_times, 0.5) / 1e3,
                          rs_histogram_quantile (&p->block_times, 0.99) / 1e3,
                          p->block_times.total_ns / 1e6);
  if (p->reports != NULL)
    g_string_append (s, p->reports->str);
  return g_string_free (s, FALSE);
}

char *
rs_pipeline_to_string (const RsPipeline *p)
{
  GString *s = g_string_new (NULL);

  g_return_val_if_fail (p != NULL, NULL);
  for (guint i = 0; i < p->texts->len; i++) {
    const RsElementText *e = g_ptr_array_index (p->texts, i);
    g_string_append_printf (s, "%s%s", i ? "  ! " : "", e->type);
    for (guint k = 0; k < e->params->len; k++) {
      const RsParamText *param = g_ptr_array_index (e->params, k);
      g_autofree char *value = rs_pipeline_quote (param->value);
      g_string_append_printf (s, " %s=%s", param->key, value);
    }
    g_string_append_c (s, '\n');
  }
  return g_string_free (s, FALSE);
}

char *
rs_pipeline_describe_elements (void)
{
  GString *s = g_string_new (NULL);
  static const char *const type_names[] = { "string", "integer", "number", "true|false", "" };

  for (guint i = 0; rs_element_classes[i] != NULL; i++) {
    const RsElementClass *k = rs_element_classes[i];
    g_string_append_printf (s, "%s: %s\n", k->type, k->description);
    for (guint j = 0; k->params[j].name != NULL; j++) {
      const RsParamSpec *spec = &k->params[j];
      g_string_append_printf (s, "  %-14s %s (%s", spec->name, spec->blurb,
                              spec->type == RS_PARAM_ENUM ? spec->choices
                                                          : type_names[spec->type]);
      if (spec->default_value != NULL && spec->default_value[0] == '\0')
        g_string_append (s, ", default: the element's own");
      else if (spec->default_value != NULL)
        g_string_append_printf (s, ", default %s", spec->default_value);
      else
        g_string_append (s, ", required");
      g_string_append (s, ")\n");
    }
  }
  return g_string_free (s, FALSE);
}

/* Starts every element in order and settles every stage's width: an
 * element whose output width is data-defined (0) adopts the width its
 * successor needs (its in.width after start), or, when the successor takes
 * any width, is probed for it from its start (rs_element_need_input_width). */
static gboolean
negotiate (RsElement **els, guint n, guint *n_started, GError **error)
{
  for (guint i = 0; i < n; i++) {
    RsElement *el = els[i];

    if (i > 0) {
      el->in = els[i - 1]->out;
      el->upstream = els[i - 1];
    }
    *n_started = i + 1;
    if (!el->klass->start (el, error))
      return FALSE;
    if (i > 0 && els[i - 1]->out.width == 0 && el->in.width != 0) {
      RsElement *prev = els[i - 1];
      if (prev->klass->fixate == NULL)
        return rs_element_fail (prev, error, "cannot produce the %u values per frame that %s "
                                "needs", el->in.width, el->name);
      if (!prev->klass->fixate (prev, el->in.width, error))
        return FALSE;
      prev->out.width = el->in.width;
    }
  }
  return TRUE;
}

/* Nanoseconds on the monotonic clock: stages often take well under the
 * microsecond g_get_monotonic_time resolves. */
static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* Runs els[first..n) over one block, each consuming its predecessor's,
 * timing each stage that had frames to process. */
static gboolean
push_through (RsPipeline *p, RsElement **els, RsBlock *blocks, guint first, guint n,
              GError **error)
{
  for (guint j = first; j < n; j++) {
    gint64 t0 = now_ns ();
    rs_block_clear (&blocks[j]);
    if (!els[j]->klass->process (els[j], &blocks[j - 1], &blocks[j], error))
      return FALSE;
    if (blocks[j - 1].n > 0)
      rs_histogram_add (&p->stage_times[j], now_ns () - t0);
  }
  return TRUE;
}

/* With a frame function (a pipeline made by rs_pipeline_new_to_caller),
 * the last element's blocks go to it; otherwise the last element is the
 * sink and consumes them. */
static gboolean
deliver (RsPipeline *p, const RsBlock *last, RsPipelineFrameFunc func, gpointer user_data,
         GError **error)
{
  if (func == NULL)
    return TRUE;
  p->stats.frames_out += last->n;
  return last->n == 0 || func (last->data, last->n, last->width, last->index,
                              (const char *const *) last->labels, user_data, error);
}

static gboolean
run (RsPipeline *p, RsPipelineFrameFunc func, gpointer user_data, GError **error)
{
  const guint n = p->texts->len;
  g_autofree RsElement **els = g_new0 (RsElement *, n);
  g_autofree RsBlock *blocks = g_new0 (RsBlock, n);
  guint n_started = 0;
  gboolean ok = FALSE;
  gint64 start_time = g_get_monotonic_time ();

  memset (&p->stats, 0, sizeof p->stats);
  memset (&p->block_times, 0, sizeof p->block_times);
  g_free (p->stage_times);
  p->stage_times = g_new0 (RsHistogram, n);
  if (p->reports != NULL)
    g_string_truncate (p->reports, 0);
  else
    p->reports = g_string_new (NULL);

  for (guint i = 0; i < n; i++) {
    els[i] = build_element (p, g_ptr_array_index (p->texts, i), TRUE, error);
    if (els[i] == NULL)
      goto out;
  }
  if (!negotiate (els, n, &n_started, error))
    goto out;
  for (guint i = 0; i < n; i++)
    blocks[i].width = els[i]->out.width;

  for (;;) {
    gint64 t0 = now_ns (), t1;
    int got;
    rs_block_clear (&blocks[0]);
    got = rs_pipeline_stop_requested () ? 0 : els[0]->klass->pull (els[0], &blocks[0], error);
    if (got < 0 && rs_pipeline_stop_requested ()) {
      /* The stop interrupted the source's read: that is the end, not an
       * error. */
      g_clear_error (error);
      got = 0;
    }
    if (got < 0)
      goto out;
    /* A source's time includes waiting for input (a pipe, a microphone):
     * it is kept apart from the processing time of a block. */
    t1 = now_ns ();
    rs_histogram_add (&p->stage_times[0], t1 - t0);
    p->stats.frames_in += blocks[0].n;
    if (!push_through (p, els, blocks, 1, n, error))
      goto out;
    if (blocks[0].n > 0)
      rs_histogram_add (&p->block_times, now_ns () - t1);
    if (func == NULL)
      p->stats.frames_out += blocks[n - 2].n;
    else if (!deliver (p, &blocks[n - 1], func, user_data, error))
      goto out;
    if (got == 0)
      break;
  }
  /* End of stream: each element in turn gives up what it held back, which
   * then flows through the rest. */
  for (guint i = 1; i < n; i++) {
    rs_block_clear (&blocks[i]);
    if (els[i]->klass->finish != NULL && !els[i]->klass->finish (els[i], &blocks[i], error))
      goto out;
    if (!push_through (p, els, blocks, i + 1, n, error))
      goto out;
    /* What element i let go reached the sink (the sink's own finish
     * passes nothing on). */
    if (func == NULL && i + 1 < n)
      p->stats.frames_out += blocks[n - 2].n;
    else if (!deliver (p, &blocks[n - 1], func, user_data, error))
      goto out;
  }
  ok = TRUE;

out:
  if (n_started > 0)
    p->stats.input_rate = els[0]->out.rate;
  if (n_started == n)
    p->stats.output_rate = els[n - 1]->klass->role == RS_ELEMENT_SINK ? els[n - 1]->in.rate
                                                                      : els[n - 1]->out.rate;
  p->stats.seconds = (double) (g_get_monotonic_time () - start_time) / G_USEC_PER_SEC;
  for (guint i = 0; i < n; i++) {
    if (i < n_started && els[i]->klass->report != NULL)
      els[i]->klass->report (els[i], p->reports);
    if (i < n_started)
      els[i]->klass->stop (els[i]);
    element_free (els[i]);
    rs_block_free_data (&blocks[i]);
  }
  return ok;
}

gboolean
rs_pipeline_run (RsPipeline *p, GError **error)
{
  g_return_val_if_fail (p != NULL && !p->to_caller, FALSE);
  return run (p, NULL, NULL, error);
}

gboolean
rs_pipeline_run_frames (RsPipeline *p, RsPipelineFrameFunc func, gpointer user_data,
                        GError **error)
{
  g_return_val_if_fail (p != NULL && p->to_caller && func != NULL, FALSE);
  return run (p, func, user_data, error);
}

/* ---- chains: filters run inside an element ---- */

struct RsChain {
  RsPipeline *p;
  RsElement **els;
  RsBlock *blocks;           /* between element i and i + 1 */
  guint n, n_started;
};

RsChain *
rs_chain_new (const char *text, const char *display_name, GError **error)
{
  RsPipeline *p = new_from_text (text, display_name, FILTERS_ONLY, error);
  RsChain *c;

  if (p == NULL)
    return NULL;
  c = g_new0 (RsChain, 1);
  c->p = p;
  c->n = p->texts->len;
  c->els = g_new0 (RsElement *, c->n);
  c->blocks = g_new0 (RsBlock, c->n);
  return c;
}

gboolean
rs_chain_start (RsChain *c, RsElement *owner, RsFormat *out, GError **error)
{
  for (guint i = 0; i < c->n; i++) {
    c->els[i] = build_element (c->p, g_ptr_array_index (c->p->texts, i), TRUE, error);
    if (c->els[i] == NULL)
      return FALSE;
  }
  c->els[0]->in = owner->in;
  c->els[0]->upstream = owner->upstream;
  if (!negotiate (c->els, c->n, &c->n_started, error))
    return FALSE;
  for (guint i = 0; i < c->n; i++)
    c->blocks[i].width = c->els[i]->out.width;
  *out = c->els[c->n - 1]->out;
  return TRUE;
}

/* Runs els[first..n) on in, the last one appending to out. */
static gboolean
chain_through (RsChain *c, guint first, const RsBlock *in, RsBlock *out, GError **error)
{
  for (guint j = first; j < c->n; j++) {
    const RsBlock *src = j == first ? in : &c->blocks[j - 1];
    RsBlock *dst = j + 1 == c->n ? out : &c->blocks[j];
    if (dst != out)
      rs_block_clear (dst);
    if (!c->els[j]->klass->process (c->els[j], src, dst, error))
      return FALSE;
  }
  return TRUE;
}

gboolean
rs_chain_process (RsChain *c, const RsBlock *in, RsBlock *out, GError **error)
{
  return chain_through (c, 0, in, out, error);
}

gboolean
rs_chain_finish (RsChain *c, RsBlock *out, GError **error)
{
  for (guint i = 0; i < c->n; i++) {
    RsBlock *dst = i + 1 == c->n ? out : &c->blocks[i];
    if (dst != out)
      rs_block_clear (dst);
    if (c->els[i]->klass->finish != NULL && !c->els[i]->klass->finish (c->els[i], dst, error))
      return FALSE;
    if (i + 1 < c->n && !chain_through (c, i + 1, dst, out, error))
      return FALSE;
  }
  return TRUE;
}

void
rs_chain_reset (RsChain *c)
{
  for (guint i = 0; i < c->n_started; i++)
    if (c->els[i]->klass->reset != NULL)
      c->els[i]->klass->reset (c->els[i]);
}

void
rs_chain_report (RsChain *c, GString *out)
{
  for (guint i = 0; i < c->n_started; i++)
    if (c->els[i]->klass->report != NULL)
      c->els[i]->klass->report (c->els[i], out);
}

void
rs_chain_free (RsChain *c)
{
  if (c == NULL)
    return;
  for (guint i = 0; i < c->n; i++) {
    if (i < c->n_started)
      c->els[i]->klass->stop (c->els[i]);
    element_free (c->els[i]);
    rs_block_free_data (&c->blocks[i]);
  }
  g_free (c->els);
  g_free (c->blocks);
  rs_pipeline_free (c->p);
  g_free (c);
}
