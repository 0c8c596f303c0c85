/* Writing small F32 safetensors files in tests. */
#include "st-writer.h"

#include <string.h>

#include <glib/gstdio.h>

typedef struct {
  guint ndim;
  guint64 shape[2];
  GArray *data;   /* float */
} Tensor;

struct StWriter {
  GTree *tensors;      /* name -> Tensor*, sorted */
  GTree *metadata;     /* key -> value */
  GRand *rand;
};

static void
tensor_free (gpointer data)
{
  Tensor *t = data;
  g_array_unref (t->data);
  g_free (t);
}

static gint
compare (gconstpointer a, gconstpointer b, gpointer user_data)
{
  (void) user_data;
  return strcmp (a, b);
}

StWriter *
st_writer_new (guint32 seed)
{
  StWriter *w = g_new0 (StWriter, 1);

  w->tensors = g_tree_new_full (compare, NULL, g_free, tensor_free);
  w->metadata = g_tree_new_full (compare, NULL, g_free, g_free);
  w->rand = g_rand_new_with_seed (seed);
  return w;
}

void
st_writer_free (StWriter *w)
{
  g_tree_unref (w->tensors);
  g_tree_unref (w->metadata);
  g_rand_free (w->rand);
  g_free (w);
}

void
st_writer_add (StWriter *w, const char *name, guint64 rows, guint64 cols)
{
  Tensor *t = g_new0 (Tensor, 1);
  guint64 n = cols ? rows * cols : rows;

  t->ndim = cols ? 2 : 1;
  t->shape[0] = rows;
  t->shape[1] = cols;
  t->data = g_array_sized_new (FALSE, FALSE, sizeof (float), (guint) n);
  for (guint64 i = 0; i < n; i++) {
    float v = (float) g_rand_double_range (w->rand, -0.5, 0.5);
    g_array_append_val (t->data, v);
  }
  g_tree_replace (w->tensors, g_strdup (name), t);
}

void
st_writer_remove (StWriter *w, const char *name)
{
  g_tree_remove (w->tensors, name);
}

void
st_writer_set_metadata (StWriter *w, const char *key, const char *value)
{
  g_tree_replace (w->metadata, g_strdup (key), g_strdup (value));
}

typedef struct {
  GString *json;
  GByteArray *data;
  gboolean first;
} Builder;

static gboolean
add_meta (gpointer key, gpointer value, gpointer user_data)
{
  Builder *b = user_data;
  g_string_append_printf (b->json, "%s\"%s\":\"%s\"", b->first ? "" : ",", (char *) key,
                          (char *) value);
  b->first = FALSE;
  return FALSE;
}

static gboolean
add_tensor (gpointer key, gpointer value, gpointer user_data)
{
  Builder *b = user_data;
  Tensor *t = value;
  guint begin = b->data->len;

  g_byte_array_append (b->data, (const guint8 *) t->data->data, t->data->len * sizeof (float));
  g_string_append_printf (b->json, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[", (char *) key);
  for (guint i = 0; i < t->ndim; i++)
    g_string_append_printf (b->json, "%s%" G_GUINT64_FORMAT, i ? "," : "", t->shape[i]);
  g_string_append_printf (b->json, "],\"data_offsets\":[%u,%u]}", begin, b->data->len);
  return FALSE;
}

GBytes *
st_writer_bytes (StWriter *w)
{
  Builder b = { g_string_new ("{\"__metadata__\":{"), g_byte_array_new (), TRUE };
  GByteArray *out = g_byte_array_new ();
  guint64 len;

  g_tree_foreach (w->metadata, add_meta, &b);
  g_string_append_c (b.json, '}');
  g_tree_foreach (w->tensors, add_tensor, &b);
  g_string_append_c (b.json, '}');
  len = GUINT64_TO_LE ((guint64) b.json->len);
  g_byte_array_append (out, (const guint8 *) &len, 8);
  g_byte_array_append (out, (const guint8 *) b.json->str, b.json->len);
  g_byte_array_append (out, b.data->data, b.data->len);
  g_string_free (b.json, TRUE);
  g_byte_array_unref (b.data);
  return g_byte_array_free_to_bytes (out);
}

char *
st_writer_save (StWriter *w)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-model-XXXXXX", NULL);
  char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (GBytes) bytes = st_writer_bytes (w);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  g_assert_true (g_file_set_contents (path, data, (gssize) len, NULL));
  return path;
}

void
st_writer_cleanup (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (dir);
}
