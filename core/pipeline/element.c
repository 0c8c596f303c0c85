/* Helpers every element uses: parameter access and frame blocks. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "element.h"
#include "rnnstream/error.h"

const RsParamValue *
rs_element_param (const RsElement *self, const char *name)
{
  for (guint i = 0; self->klass->params[i].name != NULL; i++)
    if (strcmp (self->klass->params[i].name, name) == 0)
      return &self->values[i];
  g_error ("element %s has no parameter %s", self->klass->type, name);
}

const char *
rs_element_string (const RsElement *self, const char *name)
{
  return rs_element_param (self, name)->text;
}

gint64
rs_element_int (const RsElement *self, const char *name)
{
  return rs_element_param (self, name)->i;
}

double
rs_element_double (const RsElement *self, const char *name)
{
  return rs_element_param (self, name)->d;
}

gboolean
rs_element_bool (const RsElement *self, const char *name)
{
  return rs_element_param (self, name)->b;
}

gboolean
rs_element_is_set (const RsElement *self, const char *name)
{
  const char *text = rs_element_param (self, name)->text;
  return text != NULL && text[0] != '\0';
}

gboolean
rs_element_fail (const RsElement *self, GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, RS_ERROR, RS_ERROR_PIPELINE, "element %s: %s", self->name, message);
  return FALSE;
}

gboolean
rs_element_need_input_width (RsElement *self, GError **error)
{
  RsElement *up = self->upstream;

  if (self->in.width == 0 && up != NULL && up->out.width == 0 && up->klass->probe != NULL) {
    if (!up->klass->probe (up, error))
      return FALSE;
    self->in = up->out;
  }
  if (self->in.width == 0)
    return rs_element_fail (self, error, "needs to know the width of its input frames");
  return TRUE;
}

void
rs_block_reserve (RsBlock *block, gsize n)
{
  gsize old = block->capacity;

  if (n <= old)
    return;
  block->capacity = MAX (n, MAX (2 * old, 16));
  block->data = g_renew (float, block->data, block->capacity * MAX (block->width, 1));
  block->index = g_renew (gint64, block->index, block->capacity);
  block->labels = g_renew (char *, block->labels, block->capacity);
  memset (block->labels + old, 0, (block->capacity - old) * sizeof (char *));
}

float *
rs_block_append (RsBlock *block, const float *data, gint64 index, const char *label)
{
  float *dst;

  rs_block_reserve (block, block->n + 1);
  dst = block->data + block->n * block->width;
  if (data != NULL)
    memcpy (dst, data, block->width * sizeof (float));
  block->index[block->n] = index;
  /* Labels are rare (CSV time columns) and short: a copy per frame keeps
   * ownership simple. */
  g_free (block->labels[block->n]);
  block->labels[block->n] = g_strdup (label);
  block->n++;
  return dst;
}

void
rs_block_clear (RsBlock *block)
{
  block->n = 0;
}

void
rs_block_free_data (RsBlock *block)
{
  for (gsize i = 0; i < block->capacity; i++)
    g_free (block->labels[i]);
  g_free (block->labels);
  g_free (block->data);
  g_free (block->index);
  memset (block, 0, sizeof *block);
}

void
rs_element_reset_upstream (RsElement *self)
{
  for (RsElement *e = self->upstream; e != NULL && e->upstream != NULL; e = e->upstream)
    if (e->klass->reset != NULL)
      e->klass->reset (e);
}

/* Parses a comma-separated list of finite numbers in the C locale. */
GArray *
rs_element_numbers (RsElement *self, const char *param, const char *text, GError **error)
{
  g_auto (GStrv) items = g_strsplit (text, ",", -1);
  GArray *values = g_array_new (FALSE, FALSE, sizeof (double));

  for (guint i = 0; items[i] != NULL; i++) {
    char *end;
    double v;

    g_strstrip (items[i]);
    v = g_ascii_strtod (items[i], &end);
    if (items[i][0] == '\0' || *end != '\0' || !isfinite (v)) {
      rs_element_fail (self, error, "%s: '%s' is not a number", param, items[i]);
      g_array_unref (values);
      return NULL;
    }
    g_array_append_val (values, v);
  }
  return values;
}
