/* A streaming forecaster: a model trained by `rnnstream train --task
 * forecast`, fed one row at a time, forecasting steps 1..H after each.
 *
 * The model file holds the network and, in its metadata "forecast", the
 * representation it was trained on (rnnstream/forecast-transform.h). Each
 * row's target (and covariates) goes through it into the network, whose
 * state is carried from row to row; the outputs come back as forecasts in
 * the data's units, with prediction intervals when the model measured its
 * errors. The first lag rows only fill the history: no forecast yet.
 *
 * Online updates (rs_forecaster_set_update) go on training the network
 * on the stream itself: once a row makes earlier forecasts' targets known,
 * a few steps of truncated BPTT on them, then the row's forecast from the
 * new weights. rnnstream/forecast-state.h saves and restores the whole
 * state of a forecaster (a checkpoint).
 *
 * Pushing a row allocates nothing once the forecaster is made (and its
 * updates set). One forecaster must not be used from two threads at once.
 */
#ifndef RS_FORECASTER_H
#define RS_FORECASTER_H

#include <glib.h>
#include <rnnstream/export.h>
#include <rnnstream/forecast-transform.h>
#include <rnnstream/model.h>

G_BEGIN_DECLS

typedef struct RsForecaster RsForecaster;

/* A forecaster running model (which is copied: it may be freed after).
 * Fails with RS_ERROR_MODEL when the metadata "forecast" is missing or
 * does not fit the network (its inputs and H outputs), or with the
 * errors of rs_trainable_new_from_model (RS_ERROR_FAILED when memory runs
 * out). */
RS_API RsForecaster *rs_forecaster_new (const RsModel *model, GError **error);
RS_API void rs_forecaster_free (RsForecaster *forecaster);

/* The representation (owned by the forecaster) and its horizon. */
RS_API const RsForecastTransform *rs_forecaster_transform (const RsForecaster *forecaster);
RS_API guint rs_forecaster_horizon (const RsForecaster *forecaster);

/* Takes the next row: its target value y and the model's covariates (in
 * the order they were trained with; NULL when there are none). Fails with
 * RS_ERROR_PARSE when y is not finite, or not > 0 for a model on logs
 * (the caller names the row); the forecaster is then unchanged. */
RS_API gboolean rs_forecaster_push (RsForecaster *forecaster, double y,
                                    const double *covariates, GError **error);

/* Whether the rows so far give a forecast (more than lag of them). */
RS_API gboolean rs_forecaster_ready (const RsForecaster *forecaster);
/* Rows pushed since creation or the last reset. */
RS_API guint64 rs_forecaster_rows (const RsForecaster *forecaster);

/* The forecasts of steps 1..H after the last row (H values); NaN before
 * the forecaster is ready. */
RS_API void rs_forecaster_forecast (const RsForecaster *forecaster, double *forecast);

/* Whether the model can give intervals (it measured its errors). */
RS_API gboolean rs_forecaster_has_intervals (const RsForecaster *forecaster);
/* The central prediction interval of coverage level (0 < level < 1) of
 * steps 1..H: lo and hi, H values each; NaN before ready. Needs
 * rs_forecaster_has_intervals. */
RS_API void rs_forecaster_interval (const RsForecaster *forecaster, double level, double *lo,
                                    double *hi);

/* Forgets every row: the next push starts a new series. With updates,
 * the weights go back to the model's and the optimiser starts afresh. */
RS_API void rs_forecaster_reset (RsForecaster *forecaster);

/* Online updates. At row t (rows counted from 0, frames from lag), after
 * z_t is pushed:
 *
 *  1. the window: the frames s = max(lag, t - W) .. t - 1, each with the
 *     targets of steps h whose row s + h <= t has come (the others are
 *     missing, left out of the loss as in training);
 *  2. `steps` times: the network runs the window from the state stored at
 *     its start, the masked MSE of its outputs is backpropagated to that
 *     start (the gradient is cut there: truncated BPTT), the gradients are
 *     clipped to global norm 1 and Adam takes a step;
 *  3. the network runs the window and frame t again with the new weights,
 *     from the same stored state: frame t's outputs are row t's forecast,
 *     and when the window is full its first frame's state becomes the
 *     stored state the next window starts from.
 *
 * So the forecast of row t reads rows <= t only, a step at row t trains
 * on targets z_{s+h} with s + h <= t only, and the state carried to the
 * next row is the one the current weights give over the last W frames
 * (the state before them was computed with the weights of W rows ago: the
 * truncation). The history kept is W frames of inputs and W + lag + 1
 * values of z: constant memory. A row costs steps + 1 forward passes and
 * steps backward passes over at most W + 1 frames. */
typedef struct RsForecastUpdate {
  double lr;                 /* Adam's learning rate, > 0 */
  guint steps;               /* optimiser steps after each row, >= 1 */
  guint window;              /* W, frames; 0: 2 seasons, or 24 when the season is 1 */
} RsForecastUpdate;

/* lr 0.003, one step per row, the window from the season. */
#define RS_FORECAST_UPDATE_INIT { 0.003, 1, 0 }

/* Turns online updates on, before the first row. Adam with PyTorch's
 * defaults but lr (betas 0.9 and 0.999, eps 1e-8, no weight decay), on
 * every weight. Fails with RS_ERROR_ARGUMENT, naming the setting, when one
 * is out of range; the forecaster is then unchanged. Allocates what every
 * later row needs. */
RS_API gboolean rs_forecaster_set_update (RsForecaster *forecaster,
                                          const RsForecastUpdate *update, GError **error);
/* The updates' settings with the window resolved (owned by the
 * forecaster), or NULL when the forecaster does not update. */
RS_API const RsForecastUpdate *rs_forecaster_get_update (const RsForecaster *forecaster);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsForecaster, rs_forecaster_free)

G_END_DECLS

#endif
