/* A recurrent model: a stack of cell layers, optionally bidirectional, and
 * an optional linear head, loaded from a safetensors file.
 *
 * The file is a plain PyTorch state_dict of a module holding one nn.RNN,
 * nn.GRU or nn.LSTM (any attribute name) and optionally one nn.Linear head:
 *
 *   <prefix>weight_ih_l<k>[_reverse], <prefix>weight_hh_l<k>[_reverse],
 *   <prefix>bias_ih_l<k>..., <prefix>bias_hh_l<k>..., <prefix>weight_hr_l<k>...
 *   <head>weight [O, W] and <head>bias [O] (the bias is optional)
 *
 * The cell kind is the metadata key "cell" when present (any registered
 * plugin name), else it follows from the shapes: weight_hh_l0 has G*H rows
 * with G = 4 (lstm), 3 (gru) or 1 (rnn_tanh; "rnn_relu" only via metadata).
 * The head is the one 2-D "*.weight" whose width W is the recurrent stack's
 * output width. Any tensor that is neither is an error, so a file we cannot
 * run completely is never run partially. See README.md for the metadata
 * schema.
 *
 * A model is immutable once loaded and may be shared by any number of
 * streams and threads. It keeps the registry's descriptors: the registry must
 * outlive it (the default registry lives forever).
 */
#ifndef RS_MODEL_H
#define RS_MODEL_H

#include <glib.h>
#include <rnnstream/export.h>
#include <rnnstream/registry.h>
#include <rnnstream/safetensors.h>

G_BEGIN_DECLS

typedef struct RsModel RsModel;

/* Loads the model at path with cells from registry (NULL: the default
 * registry). Returns a new model (free with rs_model_free) or NULL with
 * error: RS_ERROR_IO, RS_ERROR_MODEL_FORMAT (malformed file),
 * RS_ERROR_MODEL (tensors missing, unexpected or of inconsistent shapes;
 * the message names the tensor), RS_ERROR_NOT_FOUND (no plugin for the
 * cell). Messages start with the path. */
RS_API RsModel *rs_model_load (const char *path, RsRegistry *registry,
                               GError **error);

/* As rs_model_load, from an already parsed file (borrowed: the model keeps
 * no pointer into st). display_name is used in messages. */
RS_API RsModel *rs_model_new (const RsSafetensors *st, const char *display_name,
                              RsRegistry *registry, GError **error);

RS_API void rs_model_free (RsModel *model);

RS_API const char *rs_model_cell_name (const RsModel *model);
/* The name given when the model was made (its file's path); owned by model. */
RS_API const char *rs_model_display_name (const RsModel *model);
RS_API guint rs_model_n_layers (const RsModel *model);
RS_API gboolean rs_model_is_bidirectional (const RsModel *model);
RS_API guint rs_model_input_size (const RsModel *model);
RS_API guint rs_model_hidden_size (const RsModel *model);
/* Width of one output frame: the head's outputs, or the top layer's hidden
 * state (both directions, concatenated, when bidirectional). */
RS_API guint rs_model_output_size (const RsModel *model);
RS_API gboolean rs_model_has_head (const RsModel *model);
RS_API guint64 rs_model_n_params (const RsModel *model);

/* The file's "__metadata__" value for key, or NULL. */
RS_API const char *rs_model_metadata (const RsModel *model, const char *key);

/* The SHA-256 of the model file (see rs_safetensors_digest). */
RS_API const char *rs_model_digest (const RsModel *model);

/* A multi-line human-readable description (architecture, sizes, parameter
 * counts, plugin, metadata, tensors) for `rnnstream inspect`. Free with
 * g_free. */
RS_API char *rs_model_describe (const RsModel *model);

/* Runs one whole sequence of n_frames frames (input: n_frames *
 * input_size floats, output: n_frames * output_size floats) from the
 * initial state. Works for every model, including bidirectional ones, whose
 * reverse direction needs the whole sequence. For unidirectional models the
 * result is bit-identical to an RsStream fed the same frames. Allocates;
 * returns FALSE only when memory runs out (RS_ERROR_FAILED). */
RS_API gboolean rs_model_run_offline (const RsModel *model, gsize n_frames,
                                      const float *input, float *output,
                                      GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsModel, rs_model_free)

G_END_DECLS

#endif
