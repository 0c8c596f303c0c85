/* Streaming stages as pipeline elements (see stage.h). */
#include "config.h"

#include <string.h>

#include "stage.h"

/* Moves every frame the stage has ready into out. */
static void
drain (RsStage *st, RsBlock *out)
{
  gint64 index;

  for (;;) {
    rs_block_reserve (out, out->n + 1);
    if (!st->pop (st->stage, out->data + out->n * out->width, &index))
      return;
    out->index[out->n++] = st->next_index = index + st->index_offset;
    st->next_index++;
  }
}

gboolean
rs_stage_process (RsElement *self, const RsBlock *in, RsBlock *out, GError **error)
{
  RsStage *st = self->priv;
  gsize done = 0;

  (void) error;
  /* A stage takes what fits in its buffer; popping makes room for more. */
  while (done < in->n) {
    done += st->accept (st->stage, in->data + done * in->width, in->n - done);
    drain (st, out);
  }
  return TRUE;
}

gboolean
rs_stage_finish (RsElement *self, RsBlock *out, GError **error)
{
  RsStage *st = self->priv;

  (void) error;
  st->finish (st->stage);
  drain (st, out);
  return TRUE;
}

void
rs_stage_stop (RsElement *self)
{
  RsStage *st = self->priv;

  if (st == NULL)
    return;
  if (st->stage != NULL)
    st->free (st->stage);
  g_free (st->description);
  g_free (st);
  self->priv = NULL;
}

void
rs_stage_report (RsElement *self, GString *out)
{
  RsStage *st = self->priv;

  if (st != NULL && st->description != NULL)
    g_string_append_printf (out, "%s: %s\n", self->name, st->description);
}

GPtrArray *
rs_stage_option_args (const RsElement *self, const char *const *except)
{
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; self->klass->params[i].name != NULL; i++) {
    const char *name = self->klass->params[i].name;
    if (except != NULL && g_strv_contains (except, name))
      continue;
    if (rs_element_is_set (self, name))
      g_ptr_array_add (args, g_strdup_printf ("--%s=%s", name, self->values[i].text));
  }
  return args;
}

void
rs_stage_reset (RsElement *self)
{
  RsStage *st = self->priv;

  if (st == NULL || st->reset == NULL)
    return;
  st->reset (st->stage);
  st->index_offset = st->next_index;
}
