/* How a recurrent forecaster sees a series, and how its outputs become
 * forecasts: one definition shared by training (forecast-data.h), the
 * streaming forecaster (forecaster.h) and the model file's metadata, so
 * that a model is served exactly as it was trained.
 *
 * Given the target y_t (and covariates c_t) of row t:
 *
 *   z_t = log y_t with log, else y_t        (log needs y_t > 0)
 *
 *   reference r_{t,h}, the forecast of z_{t+h} the network corrects:
 *     none      0
 *     naive     z_t                              (the last value)
 *     seasonal  z_{t+h-m*ceil(h/m)}              (the last season's value)
 *     smoothed  the mean of the last season, plus the mean over the last
 *               two seasons of z at the same phase minus its season's mean
 *               (seasonal naive with the noise of one value averaged out)
 *     trend     a local, damped line plus a season, from the last two
 *               blocks of b = max(m, 2) rows: with L0 the last block's
 *               mean, L1 the one's before, s = (L0 - L1) / b, c = (b - 1)
 *               / 2 and phi the damping, L0 + s (c + phi + phi^2 + ... +
 *               phi^h) + D_k (phi = 1: the straight line L0 + s (c + h);
 *               phi = 0: its value at the last row, carried flat). D_k
 *               (m > 1 only) is the mean over the two seasons of z at h's
 *               phase k minus the line there (k = h - m*ceil(h/m):
 *               z_k - L0 - s (k + c) and z_{k-m} - L1 - s (k + c)); with
 *               multiplicative, the season scales with the line instead:
 *               the line at h times the mean of z_k / (L0 + s (k + c))
 *               and z_{k-m} / (L1 + s (k + c)) (additive where the line is
 *               not > 0). Why damped: a slope measured on two blocks is
 *               noisy, and extrapolated undamped over the horizon it
 *               wrecked the series without a lasting trend (bench/README.md
 *               has the numbers)
 *
 *   inputs of frame t (standardised, per column, with training statistics):
 *     none      z_t, c_t
 *     naive     z_t - z_{t-1}, [z_t - z_{t-m} when m > 1], c_t
 *     seasonal  z_t - z_{t-1}, [z_t - z_{t-m} when m > 1], c_t
 *     smoothed  as seasonal
 *     trend     as seasonal
 *
 *   targets of frame t, h = 1..H:  u_{t,h} = (z_{t+h} - r_{t,h} - mu_h) / sd_h
 *
 * with mu_h and sd_h the mean and deviation of z_{t+h} - r_{t,h} over the
 * training frames (for reference none, the target column's own mean and
 * deviation for every h). A network that outputs zeros therefore forecasts
 * the reference plus its average correction (for seasonal: seasonal naive
 * with the average drift); training learns what is left. Why differences
 * and a reference: a recurrent net squashes what it has not seen, so
 * levels beyond the training range (a trend) come out flat; differences
 * and corrections stay in range.
 *
 * The first frame is at row lag (0 for none; 1, or m when m > 1, for naive
 * and seasonal; 2m for smoothed; 2b for trend): the rows before only fill
 * the history. Prediction intervals take the forecast error of z_{t+h} as
 * normal with deviation residual_std[h] (measured on forecasts the network
 * was not trained on), so a log-transformed forecast has intervals skewed
 * as the data are.
 */
#ifndef RS_FORECAST_TRANSFORM_H
#define RS_FORECAST_TRANSFORM_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

typedef enum {
  RS_FORECAST_REFERENCE_NONE,
  RS_FORECAST_REFERENCE_NAIVE,
  RS_FORECAST_REFERENCE_SEASONAL,
  RS_FORECAST_REFERENCE_SMOOTHED,
  RS_FORECAST_REFERENCE_TREND
} RsForecastReference;

typedef struct RsForecastTransform {
  guint horizon;             /* H >= 1 */
  guint season;              /* m >= 1 */
  gboolean log;
  RsForecastReference reference;
  gboolean multiplicative;   /* the trend reference's season: ratios, not differences */
  double damping;            /* the trend reference's phi, in [0, 1] */
  guint n_covariates;
  guint n_inputs;            /* inputs per frame (rs_forecast_transform_init sets it) */
  double *in_mean, *in_std;  /* n_inputs each */
  double *out_mean, *out_std; /* H each */
  double *residual_std;      /* H, in z units; NULL: no intervals */
} RsForecastTransform;

/* Allocates the statistics (means 0, deviations 1, no residuals) for the
 * settings already in tr. */
RS_API void rs_forecast_transform_init (RsForecastTransform *tr);
RS_API void rs_forecast_transform_clear (RsForecastTransform *tr);
RS_API void rs_forecast_transform_copy (RsForecastTransform *dest, const RsForecastTransform *src);

/* Rows of history before the first frame (see above). */
RS_API guint rs_forecast_transform_lag (const RsForecastTransform *tr);

/* z of a target value; FALSE when log or multiplicative is set and y <= 0
 * (or y is not finite). */
RS_API gboolean rs_forecast_transform_z (const RsForecastTransform *tr, double y, double *z);

/* The inputs of frame t: z_now points at z_t, with z_now[-k] = z_{t-k}
 * valid for k <= lag; covariates holds c_t. Writes n_inputs floats. */
RS_API void rs_forecast_transform_inputs (const RsForecastTransform *tr, const double *z_now,
                                          const double *covariates, float *x);
/* The unstandardised inputs (for fitting the statistics). */
RS_API void rs_forecast_transform_raw_inputs (const RsForecastTransform *tr,
                                              const double *z_now, const double *covariates,
                                              double *raw);
/* r_{t,h}, h = 1..H. */
RS_API double rs_forecast_transform_reference (const RsForecastTransform *tr,
                                               const double *z_now, guint h);
/* The targets of frame t, from z_now as above and z_now[h] = z_{t+h} for
 * h = 1..H. Writes H floats. */
RS_API void rs_forecast_transform_targets (const RsForecastTransform *tr, const double *z_now,
                                           float *u);
/* The target of step h alone (1 <= h <= H), reading z_now[h] and the
 * history only: for a frame whose later targets are not known yet. The
 * same value rs_forecast_transform_targets writes for that step. */
RS_API float rs_forecast_transform_target (const RsForecastTransform *tr, const double *z_now,
                                           guint h);
/* Forecasts in z units (zhat, H values) and in the data's (yhat) from the
 * network's outputs; either may be NULL. */
RS_API void rs_forecast_transform_forecast (const RsForecastTransform *tr, const double *z_now,
                                            const float *u, double *zhat, double *yhat);
/* The central interval of the given coverage (0 < level < 1) around the
 * forecasts zhat, in the data's units: lo and hi, H values each. Needs
 * residual_std. */
RS_API void rs_forecast_transform_interval (const RsForecastTransform *tr, const double *zhat,
                                            double level, double *lo, double *hi);

/* The transform as a JSON object (the model file's "forecast" metadata)
 * and back. from_json fails with RS_ERROR_MODEL naming what is missing or
 * wrong, display naming the file. Free the text with g_free. */
RS_API char *rs_forecast_transform_to_json (const RsForecastTransform *tr);
RS_API gboolean rs_forecast_transform_from_json (RsForecastTransform *tr, const char *json,
                                                 const char *display, GError **error);

/* Static names: "none", "naive", "seasonal", "smoothed", "trend"; and back
 * (FALSE: unknown). */
RS_API const char *rs_forecast_reference_name (RsForecastReference reference);
RS_API gboolean rs_forecast_reference_from_name (const char *name,
                                                 RsForecastReference *reference);

/* The names of a forecaster's output columns: h1..hH, then for each
 * coverage P (as written, e.g. "80") loP_h1..loP_hH and hiP_h1..hiP_hH.
 * NULL-terminated; free with g_strfreev. */
RS_API char **rs_forecast_column_names (guint horizon, const char *const *coverages);

/* The standard normal quantile (Acklam's approximation refined by one
 * Newton step; error below 1e-12 on (0, 1)). */
RS_API double rs_normal_quantile (double p);

G_END_DECLS

#endif
