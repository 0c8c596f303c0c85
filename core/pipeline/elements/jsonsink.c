/* jsonsink: frames as JSON Lines, one object per frame:
 *   {"index": 12, "time": 0.12, "label": "1949-02", "values": [0.5, -1.25]}
 * "time" appears when the stream has a regular rate, "label" when the
 * frame has one. */
#include "config.h"

#include <stdio.h>

#include <json-glib/json-glib.h>

#include "../element.h"
#include "sink-output.h"

typedef struct {
  RsSinkOutput output;
} JsonSink;

static const RsParamSpec jsonsink_params[] = {
  { "location", RS_PARAM_STRING, "-", "file to write (atomically), - for standard output", 1, 0,
    NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
jsonsink_start (RsElement *self, GError **error)
{
  JsonSink *sink = g_new0 (JsonSink, 1);

  self->priv = sink;
  self->out = self->in;
  return rs_sink_output_open (&sink->output, rs_element_string (self, "location"), error);
}

static gboolean
jsonsink_process (RsElement *self, const RsBlock *in, RsBlock *out, GError **error)
{
  JsonSink *sink = self->priv;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  (void) out;
  (void) error;
  for (gsize r = 0; r < in->n; r++) {
    FILE *f = sink->output.out;

    fprintf (f, "{\"index\":%" G_GINT64_FORMAT, in->index[r]);
    if (self->in.rate > 0)
      fprintf (f, ",\"time\":%s", g_ascii_formatd (buf, sizeof buf, "%.6f",
                                                   (double) in->index[r] / self->in.rate));
    if (in->labels[r] != NULL) {
      /* json-glib's string escaping, so any label text is valid JSON. */
      g_autoptr (JsonNode) node = json_node_init_string (json_node_alloc (), in->labels[r]);
      g_autofree char *label = json_to_string (node, FALSE);
      fprintf (f, ",\"label\":%s", label);
    }
    fputs (",\"values\":[", f);
    for (guint j = 0; j < in->width; j++)
      fprintf (f, "%s%s", j ? "," : "",
               g_ascii_formatd (buf, sizeof buf, "%.9g", in->data[r * in->width + j]));
    fputs ("]}\n", f);
  }
  if (in->n > 0)
    fflush (sink->output.out);
  return TRUE;
}

static gboolean
jsonsink_finish (RsElement *self, RsBlock *out, GError **error)
{
  JsonSink *sink = self->priv;

  (void) out;
  return rs_sink_output_commit (&sink->output, error);
}

static void
jsonsink_stop (RsElement *self)
{
  JsonSink *sink = self->priv;

  if (sink == NULL)
    return;
  rs_sink_output_abort (&sink->output);
  g_free (sink);
  self->priv = NULL;
}

const RsElementClass rs_jsonsink_class = {
  .type = "jsonsink",
  .description = "frames as JSON Lines: {\"index\", \"time\", \"label\", \"values\"} per frame",
  .role = RS_ELEMENT_SINK,
  .params = jsonsink_params,
  .start = jsonsink_start,
  .process = jsonsink_process,
  .finish = jsonsink_finish,
  .stop = jsonsink_stop,
};
