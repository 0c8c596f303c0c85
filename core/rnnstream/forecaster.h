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
 * Pushing a row allocates nothing once the forecaster is made. One
 * forecaster must not be used from two threads at once.
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
 * errors of rs_trainable_new_from_model. */
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

/* Forgets every row: the next push starts a new series. */
RS_API void rs_forecaster_reset (RsForecaster *forecaster);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsForecaster, rs_forecaster_free)

G_END_DECLS

#endif
