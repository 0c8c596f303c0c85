/* Training a recurrent model: a stack of cell layers and an optional linear
 * head whose weights can be changed, with a training forward pass over a
 * mini-batch and backpropagation through time into gradient buffers.
 *
 * A trainable model is made from a loaded RsModel (copying its weights) or
 * from sizes with a seeded initialisation. Its cells come from a plugin with
 * the training extension of cell-abi.h (RsCellTrain); an inference-only
 * plugin is refused with RS_ERROR_UNSUPPORTED naming the cell and file.
 *
 * Batches are time-major like RsStream: frame t of sequence b is row
 * t * n_streams + b. Sequences of different lengths are MASKED: lengths[b]
 * frames of sequence b are real, the rest of the n_frames rows are padding
 * that neither reads its input nor advances the state, outputs zeros, and
 * contributes no gradient (the d_output rows of padded frames are ignored).
 *
 * The recurrent state is carried from one forward call to the next until
 * rs_trainable_reset_state, which is what truncated BPTT needs: each call's
 * backward stops at the state it started from (see rs_train_bptt in
 * rnnstream/bptt.h).
 *
 * Not supported for training: bidirectional models (RS_ERROR_UNSUPPORTED)
 * and LSTM projections (the plugin refuses them).
 *
 * Weights: the tensors are numbered 0 .. rs_trainable_n_tensors()-1 in
 * PyTorch's state_dict order (layer 0's weight_ih, weight_hh, bias_ih,
 * bias_hh, layer 1's ..., then the head's weight and bias), named as in
 * the state_dict ("rnn.weight_ih_l0", "fc.weight"). Gradients live in one
 * flat float array owned by the trainable, tensor i at its offset, laid out
 * as the tensor; backward ADDS to it, rs_trainable_zero_grad clears it.
 *
 * Threading: one trainable is used by one thread at a time. Allocation
 * happens in forward when a batch is larger than any before.
 */
#ifndef RS_TRAINABLE_H
#define RS_TRAINABLE_H

#include <glib.h>
#include <rnnstream/export.h>
#include <rnnstream/model.h>
#include <rnnstream/registry.h>

G_BEGIN_DECLS

typedef struct RsTrainable RsTrainable;

/* Sizes for a model trained from scratch. */
typedef struct RsTrainableConfig {
  const char *cell;          /* "rnn_tanh", "rnn_relu", "gru" or "lstm" */
  guint input_size;
  guint hidden_size;
  guint n_layers;            /* >= 1 */
  gboolean bias;             /* the recurrent layers' biases (PyTorch bias=True) */
  guint head_size;           /* outputs of the linear head; 0: no head */
  gboolean head_bias;
  guint64 seed;
} RsTrainableConfig;

/* One weight tensor. */
typedef struct RsTrainTensor {
  const char *name;          /* state_dict name */
  guint ndim;                /* 1 or 2 */
  guint64 shape[2];
  gsize n_elements;
  gsize offset;              /* of its values in the flat parameter/gradient arrays */
} RsTrainTensor;

/* A model from scratch, initialised as PyTorch does by default but from our
 * own deterministic generator (xoshiro256** seeded through splitmix64 with
 * config->seed): every recurrent tensor U(-1/sqrt(H), 1/sqrt(H)), the
 * head's weight and bias U(-1/sqrt(W), 1/sqrt(W)) with W its input width
 * (nn.Linear's kaiming_uniform(a=sqrt(5)) bound). The same seed gives the
 * same weights on every machine. Cells from registry (NULL: the default).
 * Errors: RS_ERROR_NOT_FOUND (no such cell), RS_ERROR_UNSUPPORTED (cell not
 * one of the four above, or its plugin cannot train), RS_ERROR_FAILED. */
RS_API RsTrainable *rs_trainable_new (const RsTrainableConfig *config,
                                      RsRegistry *registry, GError **error);

/* A trainable copy of model's weights (the model is not changed and may be
 * freed afterwards). Errors: RS_ERROR_UNSUPPORTED (bidirectional, or the
 * plugin cannot train this model; the message names cell and plugin file). */
RS_API RsTrainable *rs_trainable_new_from_model (const RsModel *model,
                                                 GError **error);

RS_API void rs_trainable_free (RsTrainable *trainable);

RS_API const char *rs_trainable_cell_name (const RsTrainable *trainable);
RS_API guint rs_trainable_n_layers (const RsTrainable *trainable);
RS_API guint rs_trainable_input_size (const RsTrainable *trainable);
RS_API guint rs_trainable_output_size (const RsTrainable *trainable);

/* Floats of recurrent state of one stream in layer l (H, or 2H for an
 * LSTM: [h | c]). */
RS_API guint rs_trainable_layer_state_size (const RsTrainable *trainable, guint l);

/* The tensors, and the total number of parameters. */
RS_API guint rs_trainable_n_tensors (const RsTrainable *trainable);
RS_API const RsTrainTensor *rs_trainable_tensor (const RsTrainable *trainable,
                                                 guint index);
RS_API gsize rs_trainable_n_params (const RsTrainable *trainable);

/* All weights as one flat array (rs_trainable_n_params floats, tensor i at
 * its offset), copied out or in. Setting discards a pending forward: its
 * backward would mix old activations with new weights, so it is refused
 * until the next forward. */
RS_API void rs_trainable_get_params (const RsTrainable *trainable, float *values);
RS_API void rs_trainable_set_params (RsTrainable *trainable, const float *values);

/* The flat gradient array (rs_trainable_n_params floats), owned by the
 * trainable, writable (e.g. to clip it). */
RS_API float *rs_trainable_grads (RsTrainable *trainable);
RS_API void rs_trainable_zero_grad (RsTrainable *trainable);

/* Starts n_streams (>= 1) new sequences from the initial state (zeros). */
RS_API void rs_trainable_reset_state (RsTrainable *trainable, guint n_streams);
RS_API guint rs_trainable_n_streams (const RsTrainable *trainable);

/* The current state of every layer: layer l's n_streams * state_size
 * floats, layer after layer. Writable (to start from a given state). */
RS_API float *rs_trainable_state (RsTrainable *trainable);

/* Runs n_frames (>= 1) frames of the n_streams sequences (input:
 * n_frames * n_streams * input_size floats, copied; output:
 * n_frames * n_streams * output_size floats) from the current state, keeps
 * what backward needs and leaves the state after the last active frame of
 * each sequence. lengths: n_streams values <= n_frames, or NULL (all
 * n_frames). Returns FALSE with RS_ERROR_FAILED when memory runs out. */
RS_API gboolean rs_trainable_forward (RsTrainable *trainable, guint n_frames,
                                      const float *input, const guint *lengths,
                                      float *output, GError **error);

/* Backpropagates the last forward: d_output is dL/d(output) (laid out as
 * output), d_final_state dL/d(state after the block) in the layout of
 * rs_trainable_state, or NULL for zeros (the gradient cut of truncated
 * BPTT). Adds dL/d(every weight) to the gradients, writes dL/d(input) to
 * d_input when not NULL, and makes dL/d(state before the block) available
 * through rs_trainable_initial_state_grad. At most one backward per
 * forward. Returns FALSE with RS_ERROR_FAILED on a plugin failure. */
RS_API gboolean rs_trainable_backward (RsTrainable *trainable,
                                       const float *d_output,
                                       const float *d_final_state,
                                       float *d_input, GError **error);

/* dL/d(initial state) of the last backward, in rs_trainable_state's
 * layout; owned by the trainable. */
RS_API const float *rs_trainable_initial_state_grad (const RsTrainable *trainable);

/* The weights as a safetensors file in PyTorch's state_dict naming, which
 * rs_model_load and PyTorch (load_state_dict) both read. The metadata key
 * "cell" is always written; metadata adds more (key, value pairs,
 * NULL-terminated; may be NULL). */
RS_API GBytes *rs_trainable_to_safetensors (const RsTrainable *trainable,
                                            const char *const *metadata);

/* The same file written atomically to path (RS_ERROR_IO on failure). */
RS_API gboolean rs_trainable_save (const RsTrainable *trainable, const char *path,
                                   const char *const *metadata, GError **error);

/* An inference model with the current weights (cells from registry, NULL:
 * the default). */
RS_API RsModel *rs_trainable_to_model (const RsTrainable *trainable,
                                       RsRegistry *registry, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsTrainable, rs_trainable_free)

G_END_DECLS

#endif
