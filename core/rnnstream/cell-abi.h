/* rnnstream cell plugin ABI, version 1.1.
 *
 * This is the only header a cell plugin needs. It depends on nothing but the
 * C standard library, so a plugin can be written and built out of tree:
 *
 *   cc -shared -fPIC $(pkg-config --cflags rnnstream-1) mycell.c -o mycell.so
 *
 * A plugin is a shared object exporting one function,
 * rs_cell_plugin_descriptor(), which returns its cell descriptors by index
 * (index 0, 1, ... until it returns NULL), as LV2's lv2_descriptor() does.
 * A descriptor describes one kind of recurrent cell ("gru", "lstm", ...).
 *
 * The host owns the model file, the recurrent state and all scratch memory.
 * A plugin turns the weights of ONE layer in ONE direction into an immutable
 * RsCell and advances the state of that layer over a block of frames. The
 * host stacks layers, runs reverse directions, applies output heads and
 * keeps per-stream state; several streams (threads) may share one RsCell.
 *
 * Versioning: the host refuses a descriptor whose abi_major differs from its
 * own RS_CELL_ABI_MAJOR, whose abi_minor is newer than its own, or whose
 * size is smaller than a 1.0 descriptor. Minor versions only append fields
 * at the end of structures; every structure starts with its size so both
 * sides can tell which fields the other knows. Optional capabilities (the
 * backward pass for training, for one) are reached through
 * extension_data(), never by changing the fields below.
 *
 * Threading classes, as in LV2:
 *  - "instantiation": create, free, get_info, scratch_size. May allocate,
 *    may be slow. Never called concurrently for the same RsCell.
 *  - "real-time": reset_state, forward. No allocation, no lock, no I/O, no
 *    syscalls; bounded time. May run concurrently on the same RsCell from
 *    several threads, each with its own state and scratch memory.
 *
 * What 1.1 adds, without changing any 1.0 field (a 1.0 plugin loads and
 * runs unchanged in a 1.1 host, and a 1.1 plugin in a 1.1 host):
 *  - RsCellSpec.flags, appended: RS_CELL_SPEC_TRAINING asks create() for a
 *    cell that will be trained (it may keep extra copies of its weights).
 *    A 1.0 host's smaller spec has no flags; read them only when
 *    spec->size says they are there (RS_CELL_SPEC_HAS_FLAGS).
 *  - The training extension RsCellTrain, reached through
 *    extension_data(RS_CELL_TRAIN_URI): a training forward over a block
 *    that keeps what backward needs, the backward pass, and access to the
 *    weights in PyTorch's layout. A plugin without it is an inference-only
 *    plugin; the host refuses to train its cells, naming the cell and file.
 */
#ifndef RS_CELL_ABI_H
#define RS_CELL_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RS_CELL_ABI_MAJOR 1
#define RS_CELL_ABI_MINOR 1

/* Name of the function every plugin exports. */
#define RS_CELL_ENTRY_SYMBOL "rs_cell_plugin_descriptor"

/* Alignment, in bytes, of the scratch memory the host passes to forward(). */
#define RS_CELL_SCRATCH_ALIGN 64

#if defined(_WIN32)
#define RS_CELL_EXPORT __declspec(dllexport)
#else
#define RS_CELL_EXPORT __attribute__((visibility("default")))
#endif

/* Opaque per-layer cell instance, defined by the plugin. Immutable after
 * create() returns. */
typedef struct RsCell RsCell;

/* A float32 tensor, row-major, as the host hands it to create(). The host
 * converts F16/BF16/F64 tensors to float32 before the plugin sees them. */
typedef struct RsCellTensor {
  const float *data;
  uint32_t ndim;        /* 1 or 2 for the standard cells, at most 8 */
  uint32_t reserved;
  const uint64_t *shape;
} RsCellTensor;

/* Looks up a tensor of the layer being created by its short name, the part
 * of the PyTorch name before the layer suffix: "weight_ih", "weight_hh",
 * "bias_ih", "bias_hh", "weight_hr". The host maps it to the full name in
 * the file (e.g. "rnn.weight_hh_l1_reverse"). Returns NULL when the tensor
 * is absent. The pointer and the data stay valid until create() returns;
 * a plugin copies what it keeps. */
typedef const RsCellTensor *(*RsCellTensorFunc)(void *user_data,
                                                const char *short_name);

/* What the host asks create() for. */
typedef struct RsCellSpec {
  uint32_t size;          /* sizeof (RsCellSpec) as the host was built */
  uint32_t input_size;    /* width of one input frame of this layer */
  RsCellTensorFunc tensor;
  void *user_data;        /* passed back to tensor() */
  /* Since 1.1: RS_CELL_SPEC_* bits. */
  uint32_t flags;
  uint32_t reserved;      /* 0 */
} RsCellSpec;

/* The cell will be trained through RsCellTrain: keep whatever the backward
 * pass needs. Without it a plugin may refuse backward() on the cell. */
#define RS_CELL_SPEC_TRAINING 1u

/* Whether spec (from a host of any 1.x version) carries the flags field. */
#define RS_CELL_SPEC_HAS_FLAGS(spec) \
  ((spec)->size >= offsetof (RsCellSpec, flags) + sizeof (uint32_t))

/* What a created cell reports about itself. */
typedef struct RsCellInfo {
  uint32_t size;          /* sizeof (RsCellInfo) as the host was built */
  uint32_t input_size;    /* equals RsCellSpec.input_size */
  uint32_t output_size;   /* width of one output frame */
  uint32_t state_size;    /* floats of recurrent state per stream */
  uint32_t hidden_size;   /* H in PyTorch's terms */
  uint32_t reserved;
  uint64_t n_params;      /* number of weights the layer holds */
} RsCellInfo;

typedef enum RsCellStatus {
  RS_CELL_OK = 0,
  RS_CELL_ERROR_ARGUMENT = 1   /* a size or pointer the plugin cannot use */
} RsCellStatus;

typedef struct RsCellDescriptor {
  /* Version of this ABI the plugin was built against, and
   * sizeof (RsCellDescriptor) as the plugin was built. */
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t size;
  uint32_t flags;               /* reserved, 0 */

  /* Cell kind this descriptor implements, the name model files use in
   * their "cell" metadata: lowercase ASCII letters, digits and '_'. */
  const char *name;
  const char *version;          /* the plugin's own version, free form */
  const char *description;      /* one line */

  /* Creates one layer from its weights, checking every tensor's presence and
   * shape against spec->input_size. On failure returns NULL and writes a
   * one-line reason naming the offending tensor into err (err_len bytes,
   * always NUL-terminated). The RsCell is owned by the caller, freed with
   * free(). Instantiation class. */
  RsCell *(*create)(const RsCellSpec *spec, char *err, size_t err_len);

  /* Frees a cell made by create(). NULL is allowed. Instantiation class. */
  void (*free)(RsCell *cell);

  /* Fills info (whose size field the host has set). Instantiation class. */
  void (*get_info)(const RsCell *cell, RsCellInfo *info);

  /* Bytes of scratch memory forward() needs for a block of at most
   * max_frames frames of n_streams streams. Instantiation class. */
  size_t (*scratch_size)(const RsCell *cell, uint32_t max_frames,
                         uint32_t n_streams);

  /* Writes the initial state of n_streams streams, state_size floats each,
   * contiguous. Real-time class. */
  void (*reset_state)(const RsCell *cell, uint32_t n_streams, float *state);

  /* Advances n_streams independent streams over n_frames frames.
   *
   * input:  frame t of stream b starts at input[(t * n_streams + b) * in_stride]
   *         and holds input_size floats (time-major, as PyTorch's default).
   * output: frame t of stream b is written at
   *         output[(t * n_streams + b) * out_stride], output_size floats.
   * state:  n_streams * state_size floats, read as the state before frame 0
   *         and left as the state after the last frame.
   * scratch: at least scratch_size(cell, n_frames, n_streams) bytes, aligned
   *         to RS_CELL_SCRATCH_ALIGN; contents undefined on entry and exit.
   *
   * Contract the host relies on: the output and final state are
   * bit-identical however a sequence is split into blocks (one call of T
   * frames, T calls of one frame, or anything between), and do not depend
   * on n_streams or on the other streams. Real-time class. */
  RsCellStatus (*forward)(const RsCell *cell, uint32_t n_frames,
                          uint32_t n_streams, const float *input,
                          size_t in_stride, float *state, float *output,
                          size_t out_stride, void *scratch);

  /* Optional capabilities by URI, e.g. a backward pass for training.
   * Returns NULL for URIs the plugin does not know. May itself be NULL. */
  const void *(*extension_data)(const char *uri);
} RsCellDescriptor;

/* ---------------------------------------------------------------------------
 * Training extension (ABI 1.1)
 *
 * Reached through descriptor->extension_data(RS_CELL_TRAIN_URI), which
 * returns a const RsCellTrain * (static data) or NULL. The host checks
 * RsCellTrain.size before using any field, so later versions may append.
 *
 * The weights of a layer are tensors numbered 0 .. n_params-1, named and
 * shaped exactly as PyTorch names and shapes them (short names as in
 * RsCellSpec: "weight_ih", "weight_hh", "bias_ih", "bias_hh", ...), float32,
 * row-major. Gradients use the same numbering and layout.
 *
 * Masking. Training forward and backward take lengths: frame t (counted
 * from the start of the block) of stream b is active when t < lengths[b];
 * lengths == NULL makes every frame active. An inactive frame neither
 * reads its input nor changes the state: its output row is written as
 * zeros, its d_input row as zeros, it adds nothing to any weight gradient,
 * and the state gradient passes through it unchanged. Sequences of
 * different lengths are padded at their ends and run in one batch.
 *
 * Threading: train_forward and backward are "real-time" class on their own
 * workspace (several threads may train copies of the state against one cell
 * at once, each with its own workspace and gradient buffers; accumulating
 * into the SAME gradient buffers from two threads is the host's race).
 * get_param is "real-time" class. set_param is the only call that changes
 * a cell after create(): it must not run concurrently with ANY other call
 * on that cell (an optimiser updates the weights between steps, never
 * during a forward or backward). A host never calls it on a cell it shares
 * with anyone else (the cells of a loaded inference model stay immutable).
 */

/* Name and version of the training extension. */
#define RS_CELL_TRAIN_URI "https://rnnstream.org/ns/cell-abi#train-1"

/* One weight tensor of a layer, as PyTorch's state_dict holds it. */
typedef struct RsCellParam {
  const char *name;       /* short name, e.g. "weight_ih"; static storage */
  uint32_t ndim;          /* 1 or 2 */
  uint32_t reserved;
  uint64_t shape[2];      /* rows (, cols) */
} RsCellParam;

typedef struct RsCellTrain {
  /* sizeof (RsCellTrain) as the plugin was built. */
  uint32_t size;
  uint32_t reserved;

  /* Whether this cell can be trained: 0, or -1 with a one-line reason in
   * err (e.g. an option the backward pass does not implement, or a cell
   * created without RS_CELL_SPEC_TRAINING). Instantiation class. */
  int (*check)(const RsCell *cell, char *err, size_t err_len);

  /* Number of weight tensors, and a description of tensor index.
   * Instantiation class. */
  uint32_t (*n_params)(const RsCell *cell);
  void (*describe_param)(const RsCell *cell, uint32_t index, RsCellParam *param);

  /* Bytes of workspace train_forward and backward need for a block of at
   * most max_frames frames of n_streams streams. Instantiation class. */
  size_t (*workspace_size)(const RsCell *cell, uint32_t max_frames, uint32_t n_streams);

  /* As forward() (same layouts and state), plus lengths (see Masking) and
   * workspace: at least workspace_size(cell, n_frames, n_streams) bytes,
   * aligned to RS_CELL_SCRATCH_ALIGN, in which everything backward needs
   * is kept until the next train_forward on that workspace. For active
   * frames the outputs equal forward()'s up to rounding; they need not be
   * bit-identical. */
  RsCellStatus (*train_forward)(const RsCell *cell, uint32_t n_frames,
                                uint32_t n_streams, const uint32_t *lengths,
                                const float *input, size_t in_stride,
                                float *state, float *output, size_t out_stride,
                                void *workspace);

  /* Backpropagates through the block the last train_forward on workspace
   * ran. input, in_stride, lengths, n_frames and n_streams must be the
   * same as there (input is read again, not copied).
   *
   * d_output: dL/d(output), laid out as output was (row t * n_streams + b,
   *   dout_stride apart); read only.
   * d_state: n_streams * state_size floats. On entry dL/d(state after the
   *   block) (zeros to cut the gradient, as truncated BPTT does); on return
   *   dL/d(state before the block).
   * d_input: where dL/d(input) is written (rows din_stride apart), or NULL
   *   when the host does not need it (the first layer).
   * grads: n_params pointers, grads[i] laid out as tensor i; the gradients
   *   of this block are ADDED to what they hold.
   * Real-time class; the workspace is left in an undefined state. */
  RsCellStatus (*backward)(const RsCell *cell, uint32_t n_frames,
                           uint32_t n_streams, const uint32_t *lengths,
                           const float *input, size_t in_stride,
                           const float *d_output, size_t dout_stride,
                           float *d_state, float *d_input, size_t din_stride,
                           float *const *grads, void *workspace);

  /* Copies tensor index's current values out (get) or in (set), in the
   * layout describe_param gives. See Threading for set_param's rule. */
  void (*get_param)(const RsCell *cell, uint32_t index, float *values);
  void (*set_param)(RsCell *cell, uint32_t index, const float *values);
} RsCellTrain;

/* The entry point. Returns the index-th descriptor of this plugin, NULL past
 * the last one. Must be callable before anything else, any number of times,
 * and return pointers to static const data. */
typedef const RsCellDescriptor *(*RsCellEntryFunc)(uint32_t index);

#ifdef __cplusplus
}
#endif

#endif /* RS_CELL_ABI_H */
