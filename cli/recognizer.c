/* Shared by transcribe and listen (see recognizer.h). */
#include "config.h"

#include <json-glib/json-glib.h>

#include "cli.h"
#include "recognizer.h"

RsPipeline *
rs_cli_recognizer_pipeline (const char *cmd, const char *name, const char *model, int beam,
                            const char *words, char **sets, int *status)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = rs_pipeline_locate (name), *text = NULL;
  g_autoptr (RsSafetensors) st = NULL;
  g_autoptr (RsPipeline) p = NULL;
  g_autoptr (GPtrArray) assignments = g_ptr_array_new_with_free_func (g_free);
  const char *rate;

  if (path == NULL) {
    *status = rs_cli_error (cmd, RS_EXIT_FAILURE, "the shipped pipeline '%s' is missing "
                            "(RNNSTREAM_PIPELINE_PATH?)", name);
    return NULL;
  }
  if ((st = rs_safetensors_load (model, &error)) == NULL) {
    *status = rs_cli_error (cmd, RS_EXIT_FAILURE, "%s", error->message);
    return NULL;
  }
  rate = rs_safetensors_metadata (st, "sample_rate");
  if (g_strcmp0 (rs_safetensors_metadata (st, "task"), "ctc") != 0 || rate == NULL) {
    *status = rs_cli_error (cmd, RS_EXIT_FAILURE, "%s is not a CTC recogniser (its metadata "
                            "has no task = ctc and sample_rate; rnnstream train --task ctc "
                            "makes one)", model);
    return NULL;
  }
  if (!g_file_get_contents (path, &text, NULL, &error) ||
      (p = rs_pipeline_new_to_caller (text, path, &error)) == NULL) {
    *status = rs_cli_error (cmd, RS_EXIT_FAILURE, "%s", error->message);
    return NULL;
  }
  g_ptr_array_add (assignments, g_strdup_printf ("%s.rate=%.0f", rs_pipeline_source_name (p),
                                                 g_ascii_strtod (rate, NULL)));
  g_ptr_array_add (assignments, g_strconcat ("frontend.model=", model, NULL));
  g_ptr_array_add (assignments, g_strconcat ("model.path=", model, NULL));
  g_ptr_array_add (assignments, g_strconcat ("ctcdecode.model=", model, NULL));
  g_ptr_array_add (assignments, g_strdup_printf ("ctcdecode.beam=%d", beam));
  if (words != NULL)
    g_ptr_array_add (assignments, g_strconcat ("ctcdecode.words=", words, NULL));
  for (guint i = 0; i < assignments->len; i++)
    if (!rs_pipeline_set (p, g_ptr_array_index (assignments, i), &error)) {
      *status = rs_cli_error (cmd, RS_EXIT_FAILURE, "%s", error->message);
      return NULL;
    }
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    if (!rs_pipeline_set (p, sets[i], &error)) {
      *status = rs_cli_error (cmd, RS_EXIT_USAGE, "%s", error->message);
      return NULL;
    }
  return g_steal_pointer (&p);
}

gboolean
rs_cli_event_read (const float *frame, const char *label, RsCliEvent *e)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o;

  memset (e, 0, sizeof *e);
  if (label == NULL || !json_parser_load_from_data (parser, label, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return FALSE;
  o = json_node_get_object (json_parser_get_root (parser));
  e->final = frame[0] != 0;
  e->start = frame[1];
  e->end = frame[2];
  e->text = g_strdup (json_object_get_string_member_with_default (o, "text", ""));
  e->json = g_strdup (label);
  if (json_object_has_member (o, "words"))
    e->words = json_node_copy (json_object_get_member (o, "words"));
  return TRUE;
}

void
rs_cli_event_clear (RsCliEvent *e)
{
  g_free (e->text);
  g_free (e->json);
  if (e->words != NULL)
    json_node_unref (e->words);
  memset (e, 0, sizeof *e);
}
