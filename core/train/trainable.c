/* A model whose weights change: layers of trainable cells and a linear
 * head, forward over a masked mini-batch and backpropagation through time
 * (see rnnstream/trainable.h).
 *
 * The forward pass keeps every layer's output for the block (the next
 * layer's input, and what the weight gradients multiply); each cell keeps
 * its own activations in its workspace. The backward pass walks the layers
 * top-down: the head's gradient becomes the top layer's d_output, each
 * layer's d_input the d_output of the layer below.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "kernels/gemm.h"
#include "model-private.h"
#include "rnnstream/error.h"
#include "rnnstream/safetensors-writer.h"
#include "rnnstream/trainable.h"
#include "train/rng.h"

typedef struct {
  RsCell *cell;
  RsCellInfo info;
  guint n_params;            /* tensors of this layer */
  guint first_tensor;        /* its index in the trainable's list */
  float **grads;             /* n_params pointers into the flat gradients */
  float *output;             /* T * B * output_size, the block's outputs */
  void *workspace;
  gsize workspace_bytes;
  gsize state_offset;        /* floats into the state arrays */
} Layer;

struct RsTrainable {
  char *cell_name;
  char *plugin_path;
  const RsCellDescriptor *desc;
  const RsCellTrain *train;
  guint n_layers;
  Layer *layers;
  guint input_size;
  guint rnn_output_size;
  guint output_size;
  char *rnn_prefix;
  char *head_prefix;

  gboolean has_head, head_bias;
  float *head_w, *head_b;    /* row-major copies, the values an optimiser sees */
  RsLinear head;             /* the same, packed for the forward pass */

  GArray *tensors;           /* RsTrainTensor */
  GPtrArray *names;          /* owns the tensor names */
  gsize n_params;
  float *grads;

  /* The batch. */
  guint n_streams;
  gsize state_floats;
  float *state, *d_state;
  guint capacity;            /* frames * streams the buffers hold */
  guint n_frames;            /* of the last forward */
  guint32 *lengths;          /* n_streams, of the last forward */
  gboolean has_lengths;
  float *input;              /* capacity * input_size, padding zeroed */
  float *d_top, *d_a, *d_b;  /* capacity * widest: backward's gradients */
  gboolean ready;            /* a forward awaits its backward */
};

static const RsPluginEntry *
find_entry (RsRegistry *registry, const char *name)
{
  for (guint i = 0; i < rs_registry_n_entries (registry); i++)
    if (strcmp (rs_registry_entry (registry, i)->name, name) == 0)
      return rs_registry_entry (registry, i);
  return NULL;
}

/* The training extension of desc, or NULL with the error every refusal
 * gives: which cell, which file, why. */
static const RsCellTrain *
train_extension (const RsCellDescriptor *desc, const char *path, GError **error)
{
  const RsCellTrain *train = NULL;

  if (desc->extension_data != NULL)
    train = desc->extension_data (RS_CELL_TRAIN_URI);
  if (train == NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED,
                 "cell '%s' (plugin %s) cannot be trained: the plugin has no training "
                 "extension (%s), it runs models for inference only", desc->name, path,
                 RS_CELL_TRAIN_URI);
    return NULL;
  }
  if (train->size < offsetof (RsCellTrain, set_param) + sizeof train->set_param ||
      train->check == NULL || train->n_params == NULL || train->describe_param == NULL ||
      train->workspace_size == NULL || train->train_forward == NULL ||
      train->backward == NULL || train->get_param == NULL || train->set_param == NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_PLUGIN,
                 "cell '%s' (plugin %s): its training extension is incomplete (size %u, "
                 "this rnnstream needs %u)", desc->name, path, train->size,
                 (guint) sizeof (RsCellTrain));
    return NULL;
  }
  return train;
}

/* The tensors of one layer being created, by short name. */
typedef struct {
  const char *names[8];
  RsCellTensor views[8];
  guint64 shapes[8][2];
  guint n;
} LayerTensors;

static const RsCellTensor *
lookup_tensor (void *user_data, const char *short_name)
{
  LayerTensors *lt = user_data;

  for (guint i = 0; i < lt->n; i++)
    if (strcmp (lt->names[i], short_name) == 0)
      return &lt->views[i];
  return NULL;
}

static void
layer_tensors_add (LayerTensors *lt, const char *name, const float *data, guint64 rows,
                   guint64 cols)
{
  guint i = lt->n++;

  g_assert (i < G_N_ELEMENTS (lt->names));
  lt->names[i] = name;
  lt->shapes[i][0] = rows;
  lt->shapes[i][1] = cols;
  lt->views[i].data = data;
  lt->views[i].ndim = cols ? 2 : 1;
  lt->views[i].shape = lt->shapes[i];
}

static RsTrainable *
trainable_alloc (const RsCellDescriptor *desc, const char *plugin_path, guint n_layers,
                 guint input_size)
{
  RsTrainable *t = g_new0 (RsTrainable, 1);

  t->cell_name = g_strdup (desc->name);
  t->plugin_path = g_strdup (plugin_path);
  t->desc = desc;
  t->n_layers = n_layers;
  t->layers = g_new0 (Layer, n_layers);
  t->input_size = input_size;
  t->tensors = g_array_new (FALSE, TRUE, sizeof (RsTrainTensor));
  t->names = g_ptr_array_new_with_free_func (g_free);
  return t;
}

static void
add_tensor (RsTrainable *t, char *name, guint ndim, guint64 rows, guint64 cols)
{
  RsTrainTensor tensor = { 0 };

  g_ptr_array_add (t->names, name);
  tensor.name = name;
  tensor.ndim = ndim;
  tensor.shape[0] = rows;
  tensor.shape[1] = ndim == 2 ? cols : 0;
  tensor.n_elements = (gsize) rows * (ndim == 2 ? cols : 1);
  tensor.offset = t->n_params;
  t->n_params += tensor.n_elements;
  g_array_append_val (t->tensors, tensor);
}

/* Creates layer l's cell from lt with the training flag, checks that the
 * plugin can train it and records its tensors. */
static gboolean
create_layer (RsTrainable *t, guint l, guint input, LayerTensors *lt, GError **error)
{
  Layer *layer = &t->layers[l];
  RsCellSpec spec = { .size = sizeof spec, .input_size = input, .tensor = lookup_tensor,
                      .user_data = lt, .flags = RS_CELL_SPEC_TRAINING };
  char reason[512] = "";

  layer->cell = t->desc->create (&spec, reason, sizeof reason);
  if (layer->cell == NULL) {
    reason[sizeof reason - 1] = '\0';
    g_set_error (error, RS_ERROR, RS_ERROR_MODEL, "cell '%s' (plugin %s) refused layer %u: %s",
                 t->cell_name, t->plugin_path, l, reason);
    return FALSE;
  }
  if (t->train->check (layer->cell, reason, sizeof reason) < 0) {
    reason[sizeof reason - 1] = '\0';
    g_set_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED,
                 "cell '%s' (plugin %s) cannot train layer %u: %s", t->cell_name,
                 t->plugin_path, l, reason);
    return FALSE;
  }
  memset (&layer->info, 0, sizeof layer->info);
  layer->info.size = sizeof layer->info;
  t->desc->get_info (layer->cell, &layer->info);
  layer->n_params = t->train->n_params (layer->cell);
  layer->first_tensor = t->tensors->len;
  for (guint i = 0; i < layer->n_params; i++) {
    RsCellParam p;
    t->train->describe_param (layer->cell, i, &p);
    add_tensor (t, g_strdup_printf ("%s%s_l%u", t->rnn_prefix, p.name, l), p.ndim, p.shape[0],
                p.ndim == 2 ? p.shape[1] : 0);
  }
  return TRUE;
}

/* After the layers (and head) exist: gradient arrays, state layout. */
static void
finish (RsTrainable *t)
{
  t->grads = g_new0 (float, MAX (t->n_params, 1));
  for (guint l = 0; l < t->n_layers; l++) {
    Layer *layer = &t->layers[l];
    layer->grads = g_new (float *, MAX (layer->n_params, 1));
    for (guint i = 0; i < layer->n_params; i++)
      layer->grads[i] = t->grads + g_array_index (t->tensors, RsTrainTensor,
                                                  layer->first_tensor + i).offset;
  }
  t->rnn_output_size = t->layers[t->n_layers - 1].info.output_size;
  if (!t->has_head)
    t->output_size = t->rnn_output_size;
  rs_trainable_reset_state (t, 1);
}

static gboolean
init_head (RsTrainable *t, guint outputs, gboolean bias, const float *w, const float *b,
           GError **error)
{
  const guint width = t->layers[t->n_layers - 1].info.output_size;

  t->has_head = TRUE;
  t->head_bias = bias;
  t->output_size = outputs;
  t->head_w = g_memdup2 (w, (gsize) outputs * width * sizeof (float));
  t->head_b = g_new0 (float, outputs);
  if (bias)
    memcpy (t->head_b, b, outputs * sizeof (float));
  if (rs_linear_init (&t->head, outputs, width, t->head_w, width, t->head_b) < 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "out of memory for the head");
    return FALSE;
  }
  add_tensor (t, g_strconcat (t->head_prefix, "weight", NULL), 2, outputs, width);
  if (bias)
    add_tensor (t, g_strconcat (t->head_prefix, "bias", NULL), 1, outputs, 0);
  return TRUE;
}

static guint
known_gates (const char *cell)
{
  static const struct { const char *name; guint gates; } known[] = {
    { "rnn_tanh", 1 }, { "rnn_relu", 1 }, { "gru", 3 }, { "lstm", 4 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    if (strcmp (known[i].name, cell) == 0)
      return known[i].gates;
  return 0;
}

RsTrainable *
rs_trainable_new (const RsTrainableConfig *config, RsRegistry *registry, GError **error)
{
  g_autoptr (RsTrainable) t = NULL;
  const RsCellDescriptor *desc;
  const RsPluginEntry *entry;
  const RsCellTrain *train;
  guint gates, input;
  RsRng rng;

  g_return_val_if_fail (config != NULL && config->cell != NULL, NULL);
  g_return_val_if_fail (config->input_size >= 1 && config->hidden_size >= 1, NULL);
  g_return_val_if_fail (config->n_layers >= 1, NULL);

  if (registry == NULL)
    registry = rs_registry_get_default ();
  desc = rs_registry_lookup (registry, config->cell, error);
  if (desc == NULL)
    return NULL;
  entry = find_entry (registry, config->cell);
  train = train_extension (desc, entry->path, error);
  if (train == NULL)
    return NULL;
  gates = known_gates (config->cell);
  if (gates == 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED, "cell '%s' (plugin %s): initialising "
                 "from scratch knows PyTorch's cells only (rnn_tanh, rnn_relu, gru, lstm); "
                 "start from a model file instead", config->cell, entry->path);
    return NULL;
  }

  t = trainable_alloc (desc, entry->path, config->n_layers, config->input_size);
  t->train = train;
  t->rnn_prefix = g_strdup ("rnn.");
  t->head_prefix = g_strdup ("fc.");
  rs_rng_init (&rng, config->seed);
  input = config->input_size;
  for (guint l = 0; l < config->n_layers; l++) {
    const guint64 rows = (guint64) gates * config->hidden_size, H = config->hidden_size;
    const float bound = 1.0f / sqrtf ((float) H);
    g_autofree float *w_ih = g_new (float, rows * input), *w_hh = g_new (float, rows * H);
    g_autofree float *b_ih = g_new (float, rows), *b_hh = g_new (float, rows);
    LayerTensors lt = { 0 };

    /* In state_dict order, so the stream of numbers reads like the file. */
    for (guint64 i = 0; i < rows * input; i++)
      w_ih[i] = rs_rng_uniform (&rng, bound);
    for (guint64 i = 0; i < rows * H; i++)
      w_hh[i] = rs_rng_uniform (&rng, bound);
    for (guint64 i = 0; config->bias && i < rows; i++)
      b_ih[i] = rs_rng_uniform (&rng, bound);
    for (guint64 i = 0; config->bias && i < rows; i++)
      b_hh[i] = rs_rng_uniform (&rng, bound);
    layer_tensors_add (&lt, "weight_ih", w_ih, rows, input);
    layer_tensors_add (&lt, "weight_hh", w_hh, rows, H);
    if (config->bias) {
      layer_tensors_add (&lt, "bias_ih", b_ih, rows, 0);
      layer_tensors_add (&lt, "bias_hh", b_hh, rows, 0);
    }
    if (!create_layer (t, l, input, &lt, error))
      return NULL;
    input = t->layers[l].info.output_size;
  }
  if (config->head_size > 0) {
    const float bound = 1.0f / sqrtf ((float) input);
    g_autofree float *w = g_new (float, (gsize) config->head_size * input);
    g_autofree float *b = g_new (float, config->head_size);

    for (gsize i = 0; i < (gsize) config->head_size * input; i++)
      w[i] = rs_rng_uniform (&rng, bound);
    for (guint i = 0; config->head_bias && i < config->head_size; i++)
      b[i] = rs_rng_uniform (&rng, bound);
    if (!init_head (t, config->head_size, config->head_bias, w, b, error))
      return NULL;
  }
  finish (t);
  return g_steal_pointer (&t);
}

RsTrainable *
rs_trainable_new_from_model (const RsModel *model, GError **error)
{
  g_autoptr (RsTrainable) t = NULL;
  const RsCellTrain *train;
  guint input;

  g_return_val_if_fail (model != NULL, NULL);

  train = train_extension (model->desc, model->plugin->path, error);
  if (train == NULL)
    return NULL;
  if (model->bidirectional) {
    g_set_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED, "%s is bidirectional: training "
                 "bidirectional models is not implemented", model->display_name);
    return NULL;
  }
  t = trainable_alloc (model->desc, model->plugin->path, model->n_layers, model->input_size);
  t->train = train;
  t->rnn_prefix = g_strdup (model->rnn_prefix);
  t->head_prefix = g_strdup (model->head_prefix ? model->head_prefix : "fc.");
  input = model->input_size;
  for (guint l = 0; l < model->n_layers; l++) {
    const RsCell *source = model->layers[l].cells[0];
    const guint n = train->n_params (source);
    g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
    RsCellParam params[8];
    LayerTensors lt = { 0 };

    if (n > G_N_ELEMENTS (params)) {
      g_set_error (error, RS_ERROR, RS_ERROR_PLUGIN, "cell '%s' (plugin %s) reports %u "
                   "tensors per layer, more than %u", t->cell_name, t->plugin_path, n,
                   (guint) G_N_ELEMENTS (params));
      return NULL;
    }
    /* The model's cells may be inference-only copies; their weights can
     * still be read, which is all a new training cell needs. */
    for (guint i = 0; i < n; i++) {
      float *v;
      train->describe_param (source, i, &params[i]);
      v = g_new (float, params[i].shape[0] * (params[i].ndim == 2 ? params[i].shape[1] : 1));
      train->get_param (source, i, v);
      g_ptr_array_add (values, v);
      layer_tensors_add (&lt, params[i].name, v, params[i].shape[0],
                         params[i].ndim == 2 ? params[i].shape[1] : 0);
    }
    if (!create_layer (t, l, input, &lt, error))
      return NULL;
    input = t->layers[l].info.output_size;
  }
  if (model->has_head) {
    const guint O = model->output_size;
    g_autofree float *w = g_new (float, (gsize) O * input), *b = g_new (float, O);

    rs_linear_unpack (&model->head, w, input, b);
    if (!init_head (t, O, model->head_has_bias, w, b, error))
      return NULL;
  }
  finish (t);
  return g_steal_pointer (&t);
}

void
rs_trainable_free (RsTrainable *t)
{
  if (t == NULL)
    return;
  for (guint l = 0; l < t->n_layers; l++) {
    Layer *layer = &t->layers[l];
    if (layer->cell != NULL)
      t->desc->free (layer->cell);
    g_free (layer->grads);
    g_free (layer->output);
    g_aligned_free (layer->workspace);
  }
  g_free (t->layers);
  rs_linear_clear (&t->head);
  g_free (t->head_w);
  g_free (t->head_b);
  g_array_unref (t->tensors);
  g_ptr_array_unref (t->names);
  g_free (t->grads);
  g_free (t->state);
  g_free (t->d_state);
  g_free (t->lengths);
  g_free (t->input);
  g_free (t->d_top);
  g_free (t->d_a);
  g_free (t->d_b);
  g_free (t->cell_name);
  g_free (t->plugin_path);
  g_free (t->rnn_prefix);
  g_free (t->head_prefix);
  g_free (t);
}

const char *
rs_trainable_cell_name (const RsTrainable *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  return t->cell_name;
}

guint
rs_trainable_n_layers (const RsTrainable *t)
{
  g_return_val_if_fail (t != NULL, 0);
  return t->n_layers;
}

guint
rs_trainable_input_size (const RsTrainable *t)
{
  g_return_val_if_fail (t != NULL, 0);
  return t->input_size;
}

guint
rs_trainable_output_size (const RsTrainable *t)
{
  g_return_val_if_fail (t != NULL, 0);
  return t->output_size;
}

guint
rs_trainable_layer_state_size (const RsTrainable *t, guint l)
{
  g_return_val_if_fail (t != NULL && l < t->n_layers, 0);
  return t->layers[l].info.state_size;
}

guint
rs_trainable_n_tensors (const RsTrainable *t)
{
  g_return_val_if_fail (t != NULL, 0);
  return t->tensors->len;
}

const RsTrainTensor *
rs_trainable_tensor (const RsTrainable *t, guint index)
{
  g_return_val_if_fail (t != NULL && index < t->tensors->len, NULL);
  return &g_array_index (t->tensors, RsTrainTensor, index);
}

gsize
rs_trainable_n_params (const RsTrainable *t)
{
  g_return_val_if_fail (t != NULL, 0);
  return t->n_params;
}

void
rs_trainable_get_params (const RsTrainable *t, float *values)
{
  g_return_if_fail (t != NULL && values != NULL);
  for (guint l = 0; l < t->n_layers; l++) {
    const Layer *layer = &t->layers[l];
    for (guint i = 0; i < layer->n_params; i++)
      t->train->get_param (layer->cell, i,
                           values + rs_trainable_tensor (t, layer->first_tensor + i)->offset);
  }
  if (t->has_head) {
    const RsTrainTensor *w = rs_trainable_tensor (t, t->layers[t->n_layers - 1].first_tensor +
                                                       t->layers[t->n_layers - 1].n_params);
    memcpy (values + w->offset, t->head_w, w->n_elements * sizeof (float));
    if (t->head_bias)
      memcpy (values + w->offset + w->n_elements, t->head_b, t->output_size * sizeof (float));
  }
}

void
rs_trainable_set_params (RsTrainable *t, const float *values)
{
  g_return_if_fail (t != NULL && values != NULL);
  /* The kept activations belong to the old weights: no backward now. */
  t->ready = FALSE;
  for (guint l = 0; l < t->n_layers; l++) {
    Layer *layer = &t->layers[l];
    for (guint i = 0; i < layer->n_params; i++)
      t->train->set_param (layer->cell, i,
                           values + rs_trainable_tensor (t, layer->first_tensor + i)->offset);
  }
  if (t->has_head) {
    const RsTrainTensor *w = rs_trainable_tensor (t, t->layers[t->n_layers - 1].first_tensor +
                                                       t->layers[t->n_layers - 1].n_params);
    memcpy (t->head_w, values + w->offset, w->n_elements * sizeof (float));
    if (t->head_bias)
      memcpy (t->head_b, values + w->offset + w->n_elements, t->output_size * sizeof (float));
    rs_linear_pack (&t->head, t->head_w, t->rnn_output_size, t->head_b);
  }
}

float *
rs_trainable_grads (RsTrainable *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  return t->grads;
}

void
rs_trainable_zero_grad (RsTrainable *t)
{
  g_return_if_fail (t != NULL);
  memset (t->grads, 0, t->n_params * sizeof (float));
}

void
rs_trainable_reset_state (RsTrainable *t, guint n_streams)
{
  g_return_if_fail (t != NULL && n_streams >= 1);

  if (n_streams != t->n_streams) {
    t->n_streams = n_streams;
    t->state_floats = 0;
    for (guint l = 0; l < t->n_layers; l++) {
      t->layers[l].state_offset = t->state_floats;
      t->state_floats += (gsize) n_streams * t->layers[l].info.state_size;
    }
    g_free (t->state);
    g_free (t->d_state);
    g_free (t->lengths);
    t->state = g_new (float, t->state_floats);
    t->d_state = g_new0 (float, t->state_floats);
    t->lengths = g_new (guint32, n_streams);
    t->capacity = 0;     /* the block buffers are sized per stream count */
  }
  for (guint l = 0; l < t->n_layers; l++)
    t->desc->reset_state (t->layers[l].cell, n_streams, t->state + t->layers[l].state_offset);
  t->ready = FALSE;
}

guint
rs_trainable_n_streams (const RsTrainable *t)
{
  g_return_val_if_fail (t != NULL, 0);
  return t->n_streams;
}

float *
rs_trainable_state (RsTrainable *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  return t->state;
}

const float *
rs_trainable_initial_state_grad (const RsTrainable *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  return t->d_state;
}

/* Makes every per-block buffer hold n_frames frames of the batch. */
static gboolean
reserve (RsTrainable *t, guint n_frames, GError **error)
{
  const gsize rows = (gsize) n_frames * t->n_streams;
  gsize widest = MAX (t->input_size, t->output_size);

  if (n_frames <= t->capacity)
    return TRUE;
  for (guint l = 0; l < t->n_layers; l++) {
    Layer *layer = &t->layers[l];
    gsize bytes = t->train->workspace_size (layer->cell, n_frames, t->n_streams);

    widest = MAX (widest, layer->info.output_size);
    g_free (layer->output);
    g_aligned_free (layer->workspace);
    layer->output = g_try_malloc_n (rows, layer->info.output_size * sizeof (float));
    layer->workspace = g_aligned_alloc (MAX (bytes, 1), 1, RS_CELL_SCRATCH_ALIGN);
    layer->workspace_bytes = bytes;
    if (layer->output == NULL)
      goto oom;
  }
  g_free (t->input);
  g_free (t->d_top);
  g_free (t->d_a);
  g_free (t->d_b);
  t->input = g_try_malloc_n (rows, t->input_size * sizeof (float));
  t->d_top = g_try_malloc_n (rows, widest * sizeof (float));
  t->d_a = g_try_malloc_n (rows, widest * sizeof (float));
  t->d_b = g_try_malloc_n (rows, widest * sizeof (float));
  if (t->input == NULL || t->d_top == NULL || t->d_a == NULL || t->d_b == NULL)
    goto oom;
  t->capacity = n_frames;
  return TRUE;

oom:
  t->capacity = 0;
  g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "out of memory for a batch of %u frames of "
               "%u sequences", n_frames, t->n_streams);
  return FALSE;
}

/* Copies rows of width floats, zeroing the rows of padded frames so that
 * no value there (NaN included) reaches a product over the block. */
static void
copy_masked (const RsTrainable *t, guint n_frames, const float *src, float *dst, gsize width)
{
  for (guint f = 0; f < n_frames; f++)
    for (guint b = 0; b < t->n_streams; b++) {
      const gsize row = (gsize) f * t->n_streams + b;
      if (f < t->lengths[b])
        memcpy (dst + row * width, src + row * width, width * sizeof (float));
      else
        memset (dst + row * width, 0, width * sizeof (float));
    }
}

gboolean
rs_trainable_forward (RsTrainable *t, guint n_frames, const float *input, const guint *lengths,
                      float *output, GError **error)
{
  const float *in;
  gsize in_stride = 0;

  g_return_val_if_fail (t != NULL && input != NULL && output != NULL, FALSE);
  g_return_val_if_fail (n_frames >= 1, FALSE);

  if (!reserve (t, n_frames, error))
    return FALSE;
  t->has_lengths = lengths != NULL;
  for (guint b = 0; b < t->n_streams; b++) {
    g_return_val_if_fail (lengths == NULL || lengths[b] <= n_frames, FALSE);
    t->lengths[b] = lengths ? lengths[b] : n_frames;
  }
  t->n_frames = n_frames;
  copy_masked (t, n_frames, input, t->input, t->input_size);
  in = t->input;
  in_stride = t->input_size;
  for (guint l = 0; l < t->n_layers; l++) {
    Layer *layer = &t->layers[l];
    const gboolean last = l + 1 == t->n_layers;
    float *out = layer->output;
    RsCellStatus status;

    status = t->train->train_forward (layer->cell, n_frames, t->n_streams,
                                      t->has_lengths ? t->lengths : NULL, in, in_stride,
                                      t->state + layer->state_offset, out,
                                      layer->info.output_size, layer->workspace);
    if (status != RS_CELL_OK) {
      g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "cell '%s' (plugin %s): training "
                   "forward failed on layer %u (status %d)", t->cell_name, t->plugin_path, l,
                   (int) status);
      return FALSE;
    }
    in = out;
    in_stride = layer->info.output_size;
    if (last && !t->has_head)
      memcpy (output, out, (gsize) n_frames * t->n_streams * in_stride * sizeof (float));
  }
  if (t->has_head)
    rs_linear_forward (&t->head, (gsize) n_frames * t->n_streams, in, in_stride, output,
                       t->output_size);
  t->ready = TRUE;
  return TRUE;
}

gboolean
rs_trainable_backward (RsTrainable *t, const float *d_output, const float *d_final_state,
                       float *d_input, GError **error)
{
  float *d_out;

  g_return_val_if_fail (t != NULL && d_output != NULL, FALSE);
  g_return_val_if_fail (t->ready, FALSE);

  const gsize rows = (gsize) t->n_frames * t->n_streams;
  copy_masked (t, t->n_frames, d_output, t->d_top, t->output_size);
  d_out = t->d_top;
  if (t->has_head) {
    const Layer *top = &t->layers[t->n_layers - 1];
    const gsize W = top->info.output_size, O = t->output_size;
    const RsTrainTensor *wt = rs_trainable_tensor (t, top->first_tensor + top->n_params);
    float *gw = t->grads + wt->offset;

    /* y = W h + b: dW += dy^T h, db += sum dy, dh = dy W. */
    rs_gemm_tn_acc (O, W, rows, t->d_top, O, top->output, W, gw, W);
    if (t->head_bias)
      rs_colsum_acc (rows, O, t->d_top, O, gw + wt->n_elements);
    memset (t->d_a, 0, rows * W * sizeof (float));
    rs_gemm_nn_acc (rows, W, O, t->d_top, O, t->head_w, W, t->d_a, W);
    d_out = t->d_a;
  }
  if (d_final_state != NULL)
    memcpy (t->d_state, d_final_state, t->state_floats * sizeof (float));
  else
    memset (t->d_state, 0, t->state_floats * sizeof (float));
  for (guint l = t->n_layers; l-- > 0;) {
    Layer *layer = &t->layers[l];
    const float *in = l == 0 ? t->input : t->layers[l - 1].output;
    const gsize in_width = l == 0 ? t->input_size : t->layers[l - 1].info.output_size;
    /* This layer's d_input is the d_output of the one below: any buffer
     * but the one d_out is in. */
    float *d_in = l == 0 ? d_input : d_out == t->d_a ? t->d_b : t->d_a;
    RsCellStatus status;

    status = t->train->backward (layer->cell, t->n_frames, t->n_streams,
                                 t->has_lengths ? t->lengths : NULL, in, in_width, d_out,
                                 layer->info.output_size, t->d_state + layer->state_offset,
                                 d_in, in_width, layer->grads, layer->workspace);
    if (status != RS_CELL_OK) {
      t->ready = FALSE;
      g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "cell '%s' (plugin %s): backward failed "
                   "on layer %u (status %d)", t->cell_name, t->plugin_path, l, (int) status);
      return FALSE;
    }
    d_out = d_in;
  }
  t->ready = FALSE;
  return TRUE;
}

/* The weights, in state_dict naming, in a safetensors writer. */
static RsSafetensorsWriter *
make_writer (const RsTrainable *t, const char *const *metadata)
{
  RsSafetensorsWriter *w = rs_safetensors_writer_new ();
  g_autofree float *values = g_new (float, MAX (t->n_params, 1));

  rs_trainable_get_params (t, values);
  for (guint i = 0; i < t->tensors->len; i++) {
    const RsTrainTensor *tensor = rs_trainable_tensor (t, i);
    rs_safetensors_writer_add (w, tensor->name, tensor->ndim, tensor->shape,
                               values + tensor->offset);
  }
  for (guint i = 0; metadata != NULL && metadata[i] != NULL && metadata[i + 1] != NULL; i += 2)
    rs_safetensors_writer_set_metadata (w, metadata[i], metadata[i + 1]);
  /* Always the cell: rnn_relu cannot be told from the shapes. */
  rs_safetensors_writer_set_metadata (w, "cell", t->cell_name);
  return w;
}

GBytes *
rs_trainable_to_safetensors (const RsTrainable *t, const char *const *metadata)
{
  g_autoptr (RsSafetensorsWriter) w = NULL;

  g_return_val_if_fail (t != NULL, NULL);
  w = make_writer (t, metadata);
  return rs_safetensors_writer_to_bytes (w);
}

gboolean
rs_trainable_save (const RsTrainable *t, const char *path, const char *const *metadata,
                   GError **error)
{
  g_autoptr (RsSafetensorsWriter) w = NULL;

  g_return_val_if_fail (t != NULL && path != NULL, FALSE);
  w = make_writer (t, metadata);
  return rs_safetensors_writer_save (w, path, error);
}

RsModel *
rs_trainable_to_model (const RsTrainable *t, RsRegistry *registry, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (RsSafetensors) st = NULL;
  gsize len;
  const guint8 *data;

  g_return_val_if_fail (t != NULL, NULL);

  bytes = rs_trainable_to_safetensors (t, NULL);
  data = g_bytes_get_data (bytes, &len);
  st = rs_safetensors_parse (data, len, "<trained model>", error);
  if (st == NULL)
    return NULL;
  return rs_model_new (st, "<trained model>", registry, error);
}
