/* What RsModel holds, for the core's own use (stream.c). Not installed. */
#ifndef RS_MODEL_PRIVATE_H
#define RS_MODEL_PRIVATE_H

#include "kernels/linear.h"
#include "rnnstream/model.h"

/* Most frames handed to a cell in one call. Longer blocks are split, which
 * changes nothing in the results (the cell contract makes them independent
 * of block boundaries) and bounds the scratch memory, so a stream allocates
 * it all once, up front. */
#define RS_MAX_BLOCK 64

typedef struct RsLayer {
  RsCell *cells[2];          /* forward; reverse (NULL unless bidirectional) */
  RsCellInfo info;           /* identical for both directions */
} RsLayer;

struct RsModel {
  char *display_name;
  char *cell_name;
  const RsPluginEntry *plugin;
  const RsCellDescriptor *desc;
  guint n_layers;
  gboolean bidirectional;
  RsLayer *layers;
  guint input_size;
  guint rnn_output_size;     /* top layer's output, both directions */
  guint output_size;
  gboolean has_head;
  RsLinear head;
  char *rnn_prefix;          /* e.g. "rnn." (may be ""): the recurrent tensors' prefix */
  char *head_prefix;         /* e.g. "fc.", NULL without a head */
  gboolean head_has_bias;
  guint64 n_params;
  char *digest;
  GHashTable *metadata;      /* char* -> char* */
  GString *summary;          /* architecture lines for rs_model_describe */
  GString *tensor_lines;     /* one line per tensor for rs_model_describe */
};

/* Floats one stream's state of layer l takes. */
static inline guint
rs_layer_state_size (const RsModel *model, guint l)
{
  return model->layers[l].info.state_size;
}

/* Width of layer l's output frame, both directions. */
static inline guint
rs_layer_width (const RsModel *model, guint l)
{
  return model->layers[l].info.output_size * (model->bidirectional ? 2u : 1u);
}

#endif
