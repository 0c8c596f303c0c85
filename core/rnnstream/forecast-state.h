/* Checkpoints of a streaming forecaster (rnnstream/forecaster.h): its
 * whole state in a file, so that a process that stops (or is killed) can
 * be restarted from the file and go on exactly where it was, bit for bit.
 *
 * A checkpoint is a safetensors file (rnnstream/safetensors.h). Its
 * metadata:
 *
 *   rnnstream_forecast_state  "1", the format
 *   model_sha256              the model file's digest: a checkpoint fits
 *                             the model it was made with only
 *   rows                      rows pushed
 *   z                         the last min(rows, keep) values of z, the
 *                             oldest first (keep: lag + 1, and W more with
 *                             updates), as exact decimal doubles
 *   zhat                      the last forecasts in z units (H values)
 *   update_lr, update_steps,  with updates only: their settings (they must
 *   update_window             match on restore), the optimiser's step
 *   optimizer_steps, frames   count and the number of frames held
 *
 * and its tensors: "state", the network's state after the last row (the
 * layout of rs_trainable_state for one stream); with updates also
 * "anchor", the state before the frames held, "frames" (frames x inputs,
 * when any is held), the weights as they are now ("model." and the
 * state_dict names) and Adam's moments ("optim.exp_avg." and
 * "optim.exp_avg_sq." with the same names). Doubles go in the metadata
 * because the tensors are float32.
 *
 * A caller may add keys of its own (e.g. what input the rows came from);
 * they must contain a '.', which the forecaster's never do.
 */
#ifndef RS_FORECAST_STATE_H
#define RS_FORECAST_STATE_H

#include <glib.h>
#include <rnnstream/export.h>
#include <rnnstream/forecaster.h>
#include <rnnstream/safetensors.h>

G_BEGIN_DECLS

/* Writes forecaster's state to path atomically (a temporary file renamed
 * into place: an existing checkpoint is replaced whole or not at all),
 * with metadata's key, value pairs besides (NULL-terminated, may be NULL;
 * every key with a '.'). Does not change the forecaster. Allocates (not
 * for a real-time thread). Fails with RS_ERROR_IO naming the path. */
RS_API gboolean rs_forecaster_save (RsForecaster *forecaster, const char *path,
                                    const char *const *metadata, GError **error);

/* Restores the state in checkpoint (a file loaded by rs_safetensors_load;
 * display names it in messages, e.g. its path), which replaces all the
 * forecaster held. The forecaster must have been made from the same model
 * file and given the same updates (rs_forecaster_set_update) or none.
 * Fails with RS_ERROR_STATE, the message starting with display and saying
 * what is wrong: not a forecaster checkpoint, another format, another
 * model (their digests), other update settings, a key or tensor missing,
 * malformed or of the wrong size. On failure the forecaster is unchanged. */
RS_API gboolean rs_forecaster_restore (RsForecaster *forecaster,
                                       const RsSafetensors *checkpoint, const char *display,
                                       GError **error);

G_END_DECLS

#endif
