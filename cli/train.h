/* Training from settings: the loop of `rnnstream train` (train.c), for
 * every subcommand that trains a model (train itself; backtest, which
 * refits at each origin). */
#ifndef RS_CLI_TRAIN_H
#define RS_CLI_TRAIN_H

#include <glib.h>
#include <rnnstream/rnnstream.h>

#include "train-settings.h"

/* How a training run went. */
typedef struct {
  guint epochs;              /* done in all, a resumed run's earlier ones included */
  guint best_epoch;          /* the epoch whose weights were saved; 0: the initial ones */
  gboolean stopped;          /* early, by the patience */
  double seconds;            /* this run's training time */
  double valid_metric;       /* the task's validation metric at the best epoch; NaN: none */
} RsTrainOutcome;

/* Trains the model settings describe and writes it to their output
 * (atomically), with the checkpoint, log and plot they ask for. The
 * settings are layered already (defaults, checkpoint, config, flags) and
 * are parsed and checked here; the run keeps a pointer to them, so they
 * must not change during the call. checkpoint, when not NULL, is the
 * checkpoint (named resume_path) whose settings lie beneath settings and
 * whose state the run restores. Unless quiet, progress and a summary go to
 * stderr. Fills outcome (may be NULL) on success. FALSE with error:
 * RS_ERROR_ARGUMENT for settings that are wrong or do not fit the task or
 * the checkpoint (naming their source), else the data's and the files'
 * errors. */
gboolean rs_cli_train (RsTrainSettings *settings, const RsSafetensors *checkpoint,
                       const char *resume_path, gboolean quiet, RsTrainOutcome *outcome,
                       GError **error);

#endif
