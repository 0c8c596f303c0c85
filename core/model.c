/* Building a runnable model from a PyTorch state_dict (see rnnstream/model.h). */
#include "config.h"

#include <string.h>

#include "model-private.h"
#include "rnnstream/error.h"

#define MAX_LAYERS 256

/* The parts of a recurrent tensor name "<prefix><short>_l<k>[_reverse]". */
typedef struct {
  char *prefix;
  char *short_name;
  guint layer;
  gboolean reverse;
} RnnName;

static void
rnn_name_clear (RnnName *n)
{
  g_clear_pointer (&n->prefix, g_free);
  g_clear_pointer (&n->short_name, g_free);
}

/* Splits name as above. The prefix (a module path such as "encoder.rnn.")
 * ends at the last '.', so only the last component is looked at. */
static gboolean
parse_rnn_name (const char *name, RnnName *out)
{
  const char *dot = strrchr (name, '.');
  const char *base = dot ? dot + 1 : name;
  gsize len = strlen (base), d;
  gboolean reverse = g_str_has_suffix (base, "_reverse");
  guint64 layer;

  if (reverse)
    len -= strlen ("_reverse");
  for (d = len; d > 0 && g_ascii_isdigit (base[d - 1]); d--)
    ;
  if (d == len || len - d > 4 || (len - d > 1 && base[d] == '0'))
    return FALSE;
  if (d < 3 || base[d - 1] != 'l' || base[d - 2] != '_')
    return FALSE;
  for (gsize i = 0; i < d - 2; i++)
    if (!(g_ascii_islower (base[i]) || g_ascii_isdigit (base[i]) || base[i] == '_'))
      return FALSE;
  layer = g_ascii_strtoull (base + d, NULL, 10);
  out->prefix = g_strndup (name, (gsize) (base - name));
  out->short_name = g_strndup (base, d - 2);
  out->layer = (guint) layer;
  out->reverse = reverse;
  return TRUE;
}

/* Builds "<prefix><short>_l<k>[_reverse]". */
static char *
rnn_tensor_name (const char *prefix, const char *short_name, guint layer, gboolean reverse)
{
  return g_strdup_printf ("%s%s_l%u%s", prefix, short_name, layer, reverse ? "_reverse" : "");
}

/* State of one model load. */
typedef struct {
  const RsSafetensors *st;
  const char *display_name;
  RsModel *model;
  GHashTable *views;       /* tensor name -> RsCellTensor* */
  GHashTable *rnn;         /* names of recurrent tensors -> NULL */
  GHashTable *used;        /* names a cell asked for and got */
  char *prefix;
  guint n_layers;
  gboolean any_reverse;
  /* Which layer/direction a cell is being created for, for lookups. */
  guint cur_layer;
  gboolean cur_reverse;
} Loader;

static void
loader_clear (Loader *ld)
{
  g_clear_pointer (&ld->views, g_hash_table_unref);
  g_clear_pointer (&ld->rnn, g_hash_table_unref);
  g_clear_pointer (&ld->used, g_hash_table_unref);
  g_clear_pointer (&ld->prefix, g_free);
}

static gboolean G_GNUC_PRINTF (3, 4)
fail (Loader *ld, GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, RS_ERROR, RS_ERROR_MODEL, "%s: %s", ld->display_name, message);
  return FALSE;
}

static char *
shape_string (const RsTensor *t)
{
  GString *s = g_string_new ("[");

  for (guint i = 0; i < t->ndim; i++)
    g_string_append_printf (s, "%s%" G_GUINT64_FORMAT, i ? ", " : "", t->shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* Sorts the file's tensors into the recurrent ones (one common prefix) and
 * the rest, and counts layers. */
static gboolean
find_recurrent_tensors (Loader *ld, GError **error)
{
  guint n = rs_safetensors_n_tensors (ld->st);

  for (guint i = 0; i < n; i++) {
    const RsTensor *t = rs_safetensors_tensor (ld->st, i);
    RsCellTensor *view = g_new0 (RsCellTensor, 1);
    RnnName parsed = { 0 };

    view->data = t->data;
    view->ndim = t->ndim;
    view->shape = t->shape;
    g_hash_table_insert (ld->views, (gpointer) t->name, view);
    if (!parse_rnn_name (t->name, &parsed))
      continue;
    if (ld->prefix == NULL) {
      ld->prefix = g_strdup (parsed.prefix);
    } else if (strcmp (ld->prefix, parsed.prefix) != 0) {
      g_autofree char *a = g_strdup (ld->prefix), *b = g_strdup (parsed.prefix);
      rnn_name_clear (&parsed);
      return fail (ld, error, "tensors of two recurrent networks ('%s*' and '%s*'); "
                   "a model holds one", a, b);
    }
    if (parsed.layer >= MAX_LAYERS) {
      rnn_name_clear (&parsed);
      return fail (ld, error, "tensor %s: more than %d layers", t->name, MAX_LAYERS);
    }
    ld->n_layers = MAX (ld->n_layers, parsed.layer + 1);
    ld->any_reverse |= parsed.reverse;
    g_hash_table_add (ld->rnn, (gpointer) t->name);
    rnn_name_clear (&parsed);
  }
  if (ld->prefix == NULL)
    return fail (ld, error, "no recurrent layer: expected tensors named like "
                 "'rnn.weight_ih_l0' (a PyTorch nn.RNN, nn.GRU or nn.LSTM state_dict)");
  /* Every layer and direction needs both weight matrices; checking here
   * gives the full tensor name for the common mistake of a truncated
   * state_dict, whatever the cell. */
  for (guint l = 0; l < ld->n_layers; l++)
    for (int dir = 0; dir < (ld->any_reverse ? 2 : 1); dir++)
      for (guint k = 0; k < 2; k++) {
        g_autofree char *name = rnn_tensor_name (ld->prefix, k ? "weight_hh" : "weight_ih", l, dir);
        const RsTensor *t = rs_safetensors_lookup (ld->st, name);
        if (t == NULL)
          return fail (ld, error, "missing tensor %s", name);
        if (t->ndim != 2)
          return fail (ld, error, "tensor %s is not a matrix", name);
      }
  return TRUE;
}

typedef struct {
  const char *name;
  guint n_gates;
} KnownCell;

static const KnownCell known_cells[] = {
  { "rnn_tanh", 1 }, { "rnn_relu", 1 }, { "gru", 3 }, { "lstm", 4 },
};

/* The cell kind: from the metadata if it says, checked against the shapes
 * when it names one of PyTorch's cells; from the shapes otherwise. */
static gboolean
choose_cell (Loader *ld, char **cell_name, GError **error)
{
  const char *declared = rs_safetensors_metadata (ld->st, "cell");
  g_autofree char *hh_name = rnn_tensor_name (ld->prefix, "weight_hh", 0, FALSE);
  g_autofree char *hr_name = rnn_tensor_name (ld->prefix, "weight_hr", 0, FALSE);
  const RsTensor *hh = rs_safetensors_lookup (ld->st, hh_name);
  const RsTensor *hr = rs_safetensors_lookup (ld->st, hr_name);
  g_autofree char *hh_shape = shape_string (hh);
  guint64 hidden = hr != NULL && hr->ndim == 2 ? hr->shape[1] : hh->shape[1];
  guint n_gates = 0;
  const char *from_shape = NULL;

  if (hidden > 0 && hh->shape[0] % hidden == 0 && hh->shape[0] / hidden <= 4)
    n_gates = (guint) (hh->shape[0] / hidden);
  for (guint i = 0; i < G_N_ELEMENTS (known_cells); i++)
    if (known_cells[i].n_gates == n_gates && (hr == NULL || n_gates == 4)) {
      from_shape = known_cells[i].name;
      break;
    }

  if (declared != NULL) {
    for (guint i = 0; i < G_N_ELEMENTS (known_cells); i++)
      if (strcmp (declared, known_cells[i].name) == 0 && known_cells[i].n_gates != n_gates)
        return fail (ld, error, "metadata says cell '%s' (%u x hidden rows in weight_hh) but %s "
                     "has shape %s%s%s", declared, known_cells[i].n_gates, hh_name, hh_shape,
                     from_shape ? ", which is a " : "", from_shape ? from_shape : "");
    *cell_name = g_strdup (declared);
    return TRUE;
  }
  if (from_shape == NULL)
    return fail (ld, error, "cannot tell the cell kind from %s %s: its rows are not 1, 3 or 4 "
                 "times the hidden size; name the cell in the metadata key 'cell'",
                 hh_name, hh_shape);
  *cell_name = g_strdup (from_shape);
  return TRUE;
}

static const RsCellTensor *
lookup_layer_tensor (void *user_data, const char *short_name)
{
  Loader *ld = user_data;
  g_autofree char *name = rnn_tensor_name (ld->prefix, short_name, ld->cur_layer, ld->cur_reverse);
  gpointer key, view;

  if (!g_hash_table_lookup_extended (ld->views, name, &key, &view))
    return NULL;
  g_hash_table_add (ld->used, key);
  return view;
}

static gboolean
create_layers (Loader *ld, GError **error)
{
  RsModel *m = ld->model;
  g_autofree char *ih0_name = rnn_tensor_name (ld->prefix, "weight_ih", 0, FALSE);
  guint input = (guint) rs_safetensors_lookup (ld->st, ih0_name)->shape[1];

  m->input_size = input;
  m->n_layers = ld->n_layers;
  m->bidirectional = ld->any_reverse;
  m->layers = g_new0 (RsLayer, ld->n_layers);
  for (guint l = 0; l < ld->n_layers; l++) {
    RsLayer *layer = &m->layers[l];

    for (int dir = 0; dir < (m->bidirectional ? 2 : 1); dir++) {
      RsCellSpec spec = { .size = sizeof spec, .input_size = input,
                          .tensor = lookup_layer_tensor, .user_data = ld };
      RsCellInfo info;
      char reason[512] = "";

      ld->cur_layer = l;
      ld->cur_reverse = dir;
      layer->cells[dir] = m->desc->create (&spec, reason, sizeof reason);
      if (layer->cells[dir] == NULL) {
        reason[sizeof reason - 1] = '\0';
        return fail (ld, error, "cell '%s' refused layer %u%s (%s*_l%u%s): %s", m->cell_name, l,
                     dir ? " reverse" : "", ld->prefix, l, dir ? "_reverse" : "", reason);
      }
      memset (&info, 0, sizeof info);
      info.size = sizeof info;
      m->desc->get_info (layer->cells[dir], &info);
      if (info.input_size != input || info.output_size == 0 || info.state_size == 0)
        return fail (ld, error, "cell plugin '%s' (%s) reports impossible sizes for layer %u",
                     m->cell_name, m->plugin->path, l);
      if (dir == 1 && (info.output_size != layer->info.output_size ||
                       info.state_size != layer->info.state_size))
        return fail (ld, error, "layer %u: the reverse direction's sizes differ from the "
                     "forward direction's", l);
      layer->info = info;
      m->n_params += info.n_params;
    }
    input = rs_layer_width (m, l);
  }
  m->rnn_output_size = input;

  /* A recurrent tensor the cell never asked for is one it would ignore (a
   * projection given to a GRU, say): refuse rather than compute something
   * else than the file describes. */
  GHashTableIter iter;
  gpointer name;
  g_hash_table_iter_init (&iter, ld->rnn);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    if (!g_hash_table_contains (ld->used, name))
      return fail (ld, error, "tensor %s is not used by cell '%s'", (const char *) name,
                   m->cell_name);
  return TRUE;
}

/* The head: the one 2-D "*.weight" outside the recurrent network, with its
 * optional "*.bias". */
static gboolean
find_head (Loader *ld, GError **error)
{
  RsModel *m = ld->model;
  guint n = rs_safetensors_n_tensors (ld->st);
  const RsTensor *weight = NULL, *bias = NULL;
  g_autofree char *stem = NULL;

  for (guint i = 0; i < n; i++) {
    const RsTensor *t = rs_safetensors_tensor (ld->st, i);
    if (g_hash_table_contains (ld->rnn, t->name) || t->ndim != 2 ||
        !(strcmp (t->name, "weight") == 0 || g_str_has_suffix (t->name, ".weight")))
      continue;
    if (weight != NULL)
      return fail (ld, error, "two candidate output heads, %s and %s; a model has at most one",
                   weight->name, t->name);
    weight = t;
  }
  if (weight != NULL) {
    g_autofree char *bias_name = NULL;
    g_autofree char *shape = shape_string (weight);

    stem = g_strndup (weight->name, strlen (weight->name) - strlen ("weight"));
    bias_name = g_strconcat (stem, "bias", NULL);
    bias = rs_safetensors_lookup (ld->st, bias_name);
    if (weight->shape[1] != m->rnn_output_size)
      return fail (ld, error, "head %s %s takes %" G_GUINT64_FORMAT " inputs but the recurrent "
                   "layers give %u", weight->name, shape, weight->shape[1], m->rnn_output_size);
    if (weight->shape[0] == 0 || weight->shape[0] > G_MAXUINT32)
      return fail (ld, error, "head %s %s has no usable output size", weight->name, shape);
    if (bias != NULL && (bias->ndim != 1 || bias->shape[0] != weight->shape[0])) {
      g_autofree char *bshape = shape_string (bias);
      return fail (ld, error, "head bias %s has shape %s, expected [%" G_GUINT64_FORMAT "]",
                   bias->name, bshape, weight->shape[0]);
    }
    if (rs_linear_init (&m->head, (guint32) weight->shape[0], m->rnn_output_size, weight->data,
                        m->rnn_output_size, bias ? bias->data : NULL) < 0)
      return fail (ld, error, "out of memory");
    m->has_head = TRUE;
    m->head_prefix = g_strdup (stem);
    m->head_has_bias = bias != NULL;
    m->output_size = (guint) weight->shape[0];
    m->n_params += weight->n_elements + (bias ? bias->n_elements : 0);
  } else {
    m->output_size = m->rnn_output_size;
  }

  for (guint i = 0; i < n; i++) {
    const RsTensor *t = rs_safetensors_tensor (ld->st, i);
    if (!g_hash_table_contains (ld->rnn, t->name) && t != weight && t != bias)
      return fail (ld, error, "tensor %s is neither part of the recurrent layers ('%s*') nor of "
                   "their output head", t->name, ld->prefix);
  }
  if (weight != NULL)
    g_string_append_printf (m->summary, "head:         %s [%u -> %u]%s\n", weight->name,
                            m->rnn_output_size, m->output_size,
                            bias ? ", with bias" : ", no bias");
  return TRUE;
}

static void
describe_architecture (Loader *ld)
{
  RsModel *m = ld->model;
  g_autofree char *b0 = rnn_tensor_name (ld->prefix, "bias_ih", 0, FALSE);
  g_autofree char *p0 = rnn_tensor_name (ld->prefix, "weight_hr", 0, FALSE);
  const RsTensor *proj = rs_safetensors_lookup (ld->st, p0);

  g_string_append_printf (m->summary, "cell:         %s (plugin %s, version %s)\n",
                          m->cell_name, m->plugin->path, m->plugin->version);
  g_string_append_printf (m->summary, "layers:       %u, %s\n", m->n_layers,
                          m->bidirectional ? "bidirectional" : "unidirectional");
  g_string_append_printf (m->summary, "input size:   %u\n", m->input_size);
  g_string_append_printf (m->summary, "hidden size:  %u\n", m->layers[0].info.hidden_size);
  if (proj != NULL)
    g_string_append_printf (m->summary, "proj size:    %" G_GUINT64_FORMAT "\n", proj->shape[0]);
  g_string_append_printf (m->summary, "bias:         %s\n",
                          rs_safetensors_lookup (ld->st, b0) ? "yes" : "no");
  guint state = 0;
  for (guint l = 0; l < m->n_layers; l++)
    state += rs_layer_state_size (m, l) * (m->bidirectional ? 2u : 1u);
  g_string_append_printf (m->summary, "state:        %u floats per stream\n", state);
}

static void
describe_tensors (Loader *ld)
{
  RsModel *m = ld->model;
  guint n = rs_safetensors_n_tensors (ld->st);

  for (guint i = 0; i < n; i++) {
    const RsTensor *t = rs_safetensors_tensor (ld->st, i);
    g_autofree char *shape = shape_string (t);
    g_string_append_printf (m->tensor_lines, "  %-32s %-4s %s\n", t->name,
                            rs_dtype_name (t->file_dtype), shape);
  }
}

static const RsPluginEntry *
find_plugin_entry (RsRegistry *registry, const char *name)
{
  for (guint i = 0; i < rs_registry_n_entries (registry); i++) {
    const RsPluginEntry *entry = rs_registry_entry (registry, i);
    if (strcmp (entry->name, name) == 0)
      return entry;
  }
  return NULL;
}

RsModel *
rs_model_new (const RsSafetensors *st, const char *display_name, RsRegistry *registry,
              GError **error)
{
  g_autoptr (RsModel) model = NULL;
  Loader ld = { 0 };
  GError *local = NULL;
  gboolean ok;

  g_return_val_if_fail (st != NULL, NULL);
  g_return_val_if_fail (display_name != NULL, NULL);

  if (registry == NULL)
    registry = rs_registry_get_default ();
  model = g_new0 (RsModel, 1);
  model->display_name = g_strdup (display_name);
  model->digest = g_strdup (rs_safetensors_digest (st));
  model->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  model->summary = g_string_new (NULL);
  model->tensor_lines = g_string_new (NULL);
  for (const char *const *key = rs_safetensors_metadata_keys (st); *key; key++)
    g_hash_table_insert (model->metadata, g_strdup (*key),
                         g_strdup (rs_safetensors_metadata (st, *key)));

  ld.st = st;
  ld.display_name = display_name;
  ld.model = model;
  ld.views = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  ld.rnn = g_hash_table_new (g_str_hash, g_str_equal);
  ld.used = g_hash_table_new (g_str_hash, g_str_equal);

  ok = find_recurrent_tensors (&ld, &local) && choose_cell (&ld, &model->cell_name, &local);
  if (ok) {
    model->desc = rs_registry_lookup (registry, model->cell_name, &local);
    if (model->desc == NULL)
      g_prefix_error (&local, "%s: ", display_name);
    ok = model->desc != NULL;
  }
  if (ok) {
    model->plugin = find_plugin_entry (registry, model->cell_name);
    ok = create_layers (&ld, &local);
  }
  if (ok) {
    describe_architecture (&ld);
    ok = find_head (&ld, &local);
  }
  if (ok) {
    describe_tensors (&ld);
    model->rnn_prefix = g_strdup (ld.prefix);
  }
  loader_clear (&ld);
  if (!ok) {
    g_propagate_error (error, local);
    return NULL;
  }
  return g_steal_pointer (&model);
}

RsModel *
rs_model_load (const char *path, RsRegistry *registry, GError **error)
{
  g_autoptr (RsSafetensors) st = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  st = rs_safetensors_load (path, error);
  if (st == NULL)
    return NULL;
  return rs_model_new (st, path, registry, error);
}

void
rs_model_free (RsModel *model)
{
  if (model == NULL)
    return;
  for (guint l = 0; model->layers != NULL && l < model->n_layers; l++)
    for (int dir = 0; dir < 2; dir++)
      if (model->layers[l].cells[dir] != NULL)
        model->desc->free (model->layers[l].cells[dir]);
  g_free (model->layers);
  rs_linear_clear (&model->head);
  g_free (model->display_name);
  g_free (model->cell_name);
  g_free (model->rnn_prefix);
  g_free (model->head_prefix);
  g_free (model->digest);
  g_hash_table_unref (model->metadata);
  g_string_free (model->summary, TRUE);
  g_string_free (model->tensor_lines, TRUE);
  g_free (model);
}

const char *
rs_model_display_name (const RsModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);
  return model->display_name;
}

const char *
rs_model_cell_name (const RsModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);
  return model->cell_name;
}

guint
rs_model_n_layers (const RsModel *model)
{
  g_return_val_if_fail (model != NULL, 0);
  return model->n_layers;
}

gboolean
rs_model_is_bidirectional (const RsModel *model)
{
  g_return_val_if_fail (model != NULL, FALSE);
  return model->bidirectional;
}

guint
rs_model_input_size (const RsModel *model)
{
  g_return_val_if_fail (model != NULL, 0);
  return model->input_size;
}

guint
rs_model_hidden_size (const RsModel *model)
{
  g_return_val_if_fail (model != NULL, 0);
  return model->layers[0].info.hidden_size;
}

guint
rs_model_output_size (const RsModel *model)
{
  g_return_val_if_fail (model != NULL, 0);
  return model->output_size;
}

gboolean
rs_model_has_head (const RsModel *model)
{
  g_return_val_if_fail (model != NULL, FALSE);
  return model->has_head;
}

guint64
rs_model_n_params (const RsModel *model)
{
  g_return_val_if_fail (model != NULL, 0);
  return model->n_params;
}

const char *
rs_model_metadata (const RsModel *model, const char *key)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  return g_hash_table_lookup (model->metadata, key);
}

const char *
rs_model_digest (const RsModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);
  return model->digest;
}

static gint
compare_keys (gconstpointer a, gconstpointer b, gpointer user_data)
{
  (void) user_data;
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

char *
rs_model_describe (const RsModel *model)
{
  GString *text = g_string_new (NULL);
  g_autofree gpointer *keys = NULL;
  guint n_keys;

  g_return_val_if_fail (model != NULL, NULL);

  g_string_append_printf (text, "model:        %s\n", model->display_name);
  g_string_append (text, model->summary->str);
  g_string_append_printf (text, "output size:  %u (%s)\n", model->output_size,
                          model->has_head ? "head outputs" : "top layer's hidden state");
  g_string_append_printf (text, "parameters:   %" G_GUINT64_FORMAT "\n", model->n_params);
  g_string_append_printf (text, "streaming:    %s\n",
                          model->bidirectional
                            ? "no (bidirectional: whole sequences only)"
                            : "yes");
  g_string_append_printf (text, "sha256:       %s\n", model->digest);
  keys = g_hash_table_get_keys_as_array (model->metadata, &n_keys);
  g_qsort_with_data (keys, (gint) n_keys, sizeof *keys, compare_keys, NULL);
  g_string_append_printf (text, "metadata:%s\n", n_keys ? "" : "     none");
  for (guint i = 0; i < n_keys; i++)
    g_string_append_printf (text, "  %s = %s\n", (const char *) keys[i],
                            (const char *) g_hash_table_lookup (model->metadata, keys[i]));
  g_string_append (text, "tensors:\n");
  g_string_append (text, model->tensor_lines->str);
  return g_string_free (text, FALSE);
}
