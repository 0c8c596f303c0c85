/* model: a recurrent model over the frames, streaming (state carried from
 * block to block) or, for bidirectional models, over the whole input. */
#include "config.h"

#include <string.h>

#include "../element.h"
#include "rnnstream/error.h"
#include "rnnstream/model.h"
#include "rnnstream/stream.h"

typedef struct {
  RsModel *model;
  RsStream *stream;          /* streaming mode */
  GArray *pending;           /* offline mode: every input frame */
  GArray *pending_index;
  gint64 first_index;
} ModelElement;

static const RsParamSpec model_params[] = {
  { "path", RS_PARAM_STRING, NULL, "model file (safetensors)", 1, 0, NULL },
  { "mode", RS_PARAM_ENUM, "auto", "stream: frame by frame; offline: whole input at the end "
    "(memory grows with it); auto: offline only for bidirectional models", 1, 0,
    "auto|stream|offline" },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
model_start (RsElement *self, GError **error)
{
  ModelElement *m = g_new0 (ModelElement, 1);
  const char *mode = rs_element_string (self, "mode");
  guint inputs;

  self->priv = m;
  m->model = rs_model_load (rs_element_string (self, "path"), NULL, error);
  if (m->model == NULL)
    return FALSE;
  inputs = rs_model_input_size (m->model);
  if (self->in.width != 0 && self->in.width != inputs)
    return rs_element_fail (self, error, "%s takes %u values per frame, but the stage before "
                            "it gives %u", rs_element_string (self, "path"), inputs,
                            self->in.width);
  self->in.width = inputs;
  self->out.width = rs_model_output_size (m->model);
  self->out.rate = self->in.rate;
  if (strcmp (mode, "offline") == 0 ||
      (strcmp (mode, "auto") == 0 && rs_model_is_bidirectional (m->model))) {
    m->pending = g_array_new (FALSE, FALSE, sizeof (float));
    m->pending_index = g_array_new (FALSE, FALSE, sizeof (gint64));
    return TRUE;
  }
  m->stream = rs_stream_new (m->model, 1, error);
  return m->stream != NULL;
}

static gboolean
model_process (RsElement *self, const RsBlock *in, RsBlock *out, GError **error)
{
  ModelElement *m = self->priv;

  (void) error;
  if (in->n == 0)
    return TRUE;
  if (m->pending != NULL) {
    g_array_append_vals (m->pending, in->data, in->n * in->width);
    g_array_append_vals (m->pending_index, in->index, in->n);
    return TRUE;
  }
  rs_block_reserve (out, in->n);
  rs_stream_forward (m->stream, in->n, in->data, out->data);
  for (gsize t = 0; t < in->n; t++) {
    out->index[t] = in->index[t];
    g_free (out->labels[t]);
    out->labels[t] = g_strdup (in->labels[t]);
  }
  out->n = in->n;
  return TRUE;
}

static gboolean
model_finish (RsElement *self, RsBlock *out, GError **error)
{
  ModelElement *m = self->priv;
  gsize n;

  if (m->pending == NULL)
    return TRUE;
  n = m->pending_index->len;
  rs_block_reserve (out, n);
  if (!rs_model_run_offline (m->model, n, (const float *) m->pending->data, out->data, error))
    return FALSE;
  memcpy (out->index, m->pending_index->data, n * sizeof (gint64));
  out->n = n;
  return TRUE;
}

static void
model_stop (RsElement *self)
{
  ModelElement *m = self->priv;

  if (m == NULL)
    return;
  rs_stream_free (m->stream);
  rs_model_free (m->model);
  if (m->pending != NULL) {
    g_array_unref (m->pending);
    g_array_unref (m->pending_index);
  }
  g_free (m);
  self->priv = NULL;
}

static void
model_reset (RsElement *self)
{
  ModelElement *m = self->priv;

  if (m->stream != NULL)
    rs_stream_reset (m->stream);
}

static void
model_report (RsElement *self, GString *out)
{
  ModelElement *m = self->priv;

  if (m == NULL || m->model == NULL)
    return;
  g_string_append_printf (out, "%s: %s, %u layer(s), hidden %u, %u -> %u values per frame, %s\n",
                          self->name, rs_model_cell_name (m->model), rs_model_n_layers (m->model),
                          rs_model_hidden_size (m->model), rs_model_input_size (m->model),
                          rs_model_output_size (m->model),
                          m->stream != NULL ? "streaming" : "offline (whole input)");
}

const RsElementClass rs_model_class = {
  .type = "model",
  .description = "a recurrent model (safetensors) over the frames",
  .role = RS_ELEMENT_FILTER,
  .params = model_params,
  .start = model_start,
  .process = model_process,
  .finish = model_finish,
  .stop = model_stop,
  .report = model_report,
  .reset = model_reset,
};
