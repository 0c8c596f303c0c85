/* Writing safetensors files (see rnnstream/safetensors-writer.h). */
#include "config.h"

#include <string.h>

#include "rnnstream/atomic-file.h"
#include "rnnstream/error.h"
#include "rnnstream/safetensors-writer.h"

typedef struct {
  guint ndim;
  guint64 shape[8];
  gsize n;
  float *data;
} Entry;

struct RsSafetensorsWriter {
  GTree *tensors;            /* name -> Entry, sorted as the file wants */
  GTree *metadata;           /* key -> value */
};

static void
entry_free (gpointer p)
{
  Entry *e = p;
  g_free (e->data);
  g_free (e);
}

static gint
compare_names (gconstpointer a, gconstpointer b, gpointer user_data)
{
  (void) user_data;
  return strcmp (a, b);
}

RsSafetensorsWriter *
rs_safetensors_writer_new (void)
{
  RsSafetensorsWriter *w = g_new0 (RsSafetensorsWriter, 1);

  w->tensors = g_tree_new_full (compare_names, NULL, g_free, entry_free);
  w->metadata = g_tree_new_full (compare_names, NULL, g_free, g_free);
  return w;
}

void
rs_safetensors_writer_free (RsSafetensorsWriter *w)
{
  if (w == NULL)
    return;
  g_tree_unref (w->tensors);
  g_tree_unref (w->metadata);
  g_free (w);
}

void
rs_safetensors_writer_add (RsSafetensorsWriter *w, const char *name, guint ndim,
                           const guint64 *shape, const float *data)
{
  Entry *e;

  g_return_if_fail (w != NULL && name != NULL && name[0] != '\0');
  g_return_if_fail (g_utf8_validate (name, -1, NULL) && strcmp (name, "__metadata__") != 0);
  g_return_if_fail (ndim <= 8 && (ndim == 0 || shape != NULL));

  e = g_new0 (Entry, 1);
  e->ndim = ndim;
  e->n = 1;
  for (guint i = 0; i < ndim; i++) {
    e->shape[i] = shape[i];
    e->n *= shape[i];
  }
  e->data = g_memdup2 (data, e->n * sizeof (float));
  g_tree_replace (w->tensors, g_strdup (name), e);
}

void
rs_safetensors_writer_set_metadata (RsSafetensorsWriter *w, const char *key, const char *value)
{
  g_return_if_fail (w != NULL && key != NULL && value != NULL);
  g_return_if_fail (g_utf8_validate (key, -1, NULL) && g_utf8_validate (value, -1, NULL));
  g_tree_replace (w->metadata, g_strdup (key), g_strdup (value));
}

/* A JSON string literal: quotes, backslashes and control characters
 * escaped, everything else (UTF-8 included) as is. */
static void
append_json_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (; *s; s++) {
    const unsigned char c = (unsigned char) *s;
    if (c == '"' || c == '\\')
      g_string_append_printf (out, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (out, "\\u%04x", c);
    else
      g_string_append_c (out, (char) c);
  }
  g_string_append_c (out, '"');
}

typedef struct {
  GString *header;
  gsize offset;
  gboolean first;
} HeaderBuild;

static gboolean
append_metadata (gpointer key, gpointer value, gpointer user_data)
{
  HeaderBuild *hb = user_data;

  if (!hb->first)
    g_string_append_c (hb->header, ',');
  hb->first = FALSE;
  append_json_string (hb->header, key);
  g_string_append_c (hb->header, ':');
  append_json_string (hb->header, value);
  return FALSE;
}

static gboolean
append_tensor (gpointer key, gpointer value, gpointer user_data)
{
  HeaderBuild *hb = user_data;
  const Entry *e = value;
  const gsize bytes = e->n * sizeof (float);

  if (!hb->first)
    g_string_append_c (hb->header, ',');
  hb->first = FALSE;
  append_json_string (hb->header, key);
  g_string_append (hb->header, ":{\"dtype\":\"F32\",\"shape\":[");
  for (guint i = 0; i < e->ndim; i++)
    g_string_append_printf (hb->header, "%s%" G_GUINT64_FORMAT, i ? "," : "", e->shape[i]);
  g_string_append_printf (hb->header, "],\"data_offsets\":[%" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT
                          "]}", hb->offset, hb->offset + bytes);
  hb->offset += bytes;
  return FALSE;
}

static gboolean
append_data (gpointer key, gpointer value, gpointer user_data)
{
  GByteArray *out = user_data;
  const Entry *e = value;

  (void) key;
  for (gsize i = 0; i < e->n; i++) {
    guint32 bits;
    memcpy (&bits, &e->data[i], 4);
    bits = GUINT32_TO_LE (bits);
    g_byte_array_append (out, (const guint8 *) &bits, 4);
  }
  return FALSE;
}

GBytes *
rs_safetensors_writer_to_bytes (const RsSafetensorsWriter *w)
{
  HeaderBuild hb = { g_string_new ("{"), 0, TRUE };
  GByteArray *out;
  guint64 len;

  g_return_val_if_fail (w != NULL, NULL);

  if (g_tree_nnodes (w->metadata) > 0) {
    g_string_append (hb.header, "\"__metadata__\":{");
    g_tree_foreach (w->metadata, append_metadata, &hb);
    g_string_append_c (hb.header, '}');
    hb.first = FALSE;
  }
  g_tree_foreach (w->tensors, append_tensor, &hb);
  g_string_append_c (hb.header, '}');
  while (hb.header->len % 8 != 0)
    g_string_append_c (hb.header, ' ');

  out = g_byte_array_sized_new (8 + hb.header->len + hb.offset);
  len = GUINT64_TO_LE ((guint64) hb.header->len);
  g_byte_array_append (out, (const guint8 *) &len, 8);
  g_byte_array_append (out, (const guint8 *) hb.header->str, hb.header->len);
  g_tree_foreach (w->tensors, append_data, out);
  g_string_free (hb.header, TRUE);
  return g_byte_array_free_to_bytes (out);
}

gboolean
rs_safetensors_writer_save (const RsSafetensorsWriter *w, const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (RsAtomicFile) file = NULL;
  const void *data;
  gsize len;

  g_return_val_if_fail (w != NULL && path != NULL, FALSE);

  bytes = rs_safetensors_writer_to_bytes (w);
  data = g_bytes_get_data (bytes, &len);
  file = rs_atomic_file_new (path, error);
  if (file == NULL)
    return FALSE;
  if (fwrite (data, 1, len, rs_atomic_file_stream (file)) != len) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "%s: write failed", path);
    return FALSE;
  }
  return rs_atomic_file_commit (g_steal_pointer (&file), error);
}
