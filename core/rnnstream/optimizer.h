/* Optimisers for training: SGD with momentum and Adam (with L2 or
 * decoupled weight decay, as AdamW), and gradient clipping by global norm.
 *
 * An optimiser updates parameters it does not own: the caller registers
 * each parameter array with the gradient array it accumulates into
 * (rs_optimizer_add), both of which must outlive the optimiser. The
 * optimiser owns its per-parameter state (momentum buffers, Adam's
 * moments), allocated when a parameter is added; a step allocates nothing.
 *
 * The updates are PyTorch's (torch.optim.SGD, Adam, AdamW with their
 * default single-tensor code), computed in float32 with the same order of
 * operations, so a run here tracks the same run in PyTorch to float
 * rounding (tests/optim checks trajectories made by
 * tests/make-optim-fixtures.py). Every update is elementwise and runs in
 * a fixed order: the same inputs give bit-identical parameters.
 *
 * Not thread-safe: one thread steps an optimiser, while nothing else reads
 * or writes the parameters and gradients.
 */
#ifndef RS_OPTIMIZER_H
#define RS_OPTIMIZER_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

typedef enum {
  RS_OPTIMIZER_SGD,
  RS_OPTIMIZER_ADAM
} RsOptimizerKind;

typedef struct {
  RsOptimizerKind kind;
  double lr;                  /* learning rate, > 0 (rs_optimizer_set_lr changes it) */
  double momentum;            /* SGD: [0, 1); 0 is plain SGD */
  gboolean nesterov;          /* SGD: Nesterov momentum (needs momentum > 0) */
  double beta1, beta2;        /* Adam: [0, 1) */
  double eps;                 /* Adam: > 0 */
  double weight_decay;        /* >= 0; L2 (added to the gradient), or decoupled below */
  gboolean decoupled;         /* Adam: decay the weights directly (AdamW) */
} RsOptimizerOptions;

/* Adam, lr 1e-3, betas 0.9 and 0.999, eps 1e-8, no decay: PyTorch's
 * defaults. */
#define RS_OPTIMIZER_OPTIONS_INIT \
  { RS_OPTIMIZER_ADAM, 1e-3, 0.0, FALSE, 0.9, 0.999, 1e-8, 0.0, FALSE }

/* "sgd" or "adam"; FALSE for other names. */
RS_API gboolean rs_optimizer_kind_from_name (const char *name, RsOptimizerKind *kind);
RS_API const char *rs_optimizer_kind_name (RsOptimizerKind kind);

typedef struct RsOptimizer RsOptimizer;

/* A new optimiser with no parameters. Fails with RS_ERROR_ARGUMENT,
 * naming the option, when an option is out of its range. */
RS_API RsOptimizer *rs_optimizer_new (const RsOptimizerOptions *options, GError **error);
RS_API void rs_optimizer_free (RsOptimizer *opt);

/* Registers n parameters and their gradients under name (copied; used to
 * name the optimiser's state in checkpoints). decay: whether weight decay
 * applies to them (biases usually go without). param and grad are not
 * copied and must outlive opt. Allocates the parameter's state, zeroed. */
RS_API void rs_optimizer_add (RsOptimizer *opt, const char *name, float *param, float *grad,
                              gsize n, gboolean decay);

/* Sets every registered gradient to 0. */
RS_API void rs_optimizer_zero_grad (RsOptimizer *opt);

/* The L2 norm of all registered gradients together (summed in double, in
 * registration order), and, when it exceeds max_norm (> 0), every
 * gradient scaled by max_norm / (norm + 1e-6), as PyTorch's
 * clip_grad_norm_. Returns the norm before clipping: a caller can log it
 * and tell an exploding gradient (or a non-finite one: then the gradients
 * are left alone and the value is returned as is). */
RS_API double rs_optimizer_clip_grad_norm (RsOptimizer *opt, double max_norm);

/* One update of every registered parameter from its gradient, at the
 * current learning rate. */
RS_API void rs_optimizer_step (RsOptimizer *opt);

RS_API double rs_optimizer_get_lr (const RsOptimizer *opt);
RS_API void rs_optimizer_set_lr (RsOptimizer *opt, double lr);

/* Steps taken (Adam's bias correction depends on it). Set when resuming
 * from a checkpoint. */
RS_API guint64 rs_optimizer_get_steps (const RsOptimizer *opt);
RS_API void rs_optimizer_set_steps (RsOptimizer *opt, guint64 steps);

/* The optimiser's state, for checkpoints: calls func once per state
 * array, in a fixed order, with a name ("exp_avg.NAME", "exp_avg_sq.NAME"
 * or "momentum_buffer.NAME", NAME as given to rs_optimizer_add) and the
 * array itself (n floats), which func may read (to save it) or overwrite
 * (to restore it). Plain SGD has no state. */
typedef void (*RsOptimizerStateFunc) (const char *name, float *data, gsize n, gpointer user_data);
RS_API void rs_optimizer_foreach_state (RsOptimizer *opt, RsOptimizerStateFunc func,
                                        gpointer user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsOptimizer, rs_optimizer_free)

G_END_DECLS

#endif
