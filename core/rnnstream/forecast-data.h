/* A series for training a forecaster: a target column (and covariates)
 * read from CSV, split in time into a training part and a validation part,
 * and cut into frames the way a streaming forecaster sees them, through
 * the representation of rnnstream/forecast-transform.h with statistics of
 * the training part only.
 *
 * Frame t (one per row from row lag on) has as inputs the transform's
 * inputs of row t and as targets its targets for the next H rows,
 * t+1 .. t+H: a model with H outputs trained on them forecasts steps 1..H
 * after each row it reads, with its state carried from the first frame.
 * A step beyond the known rows is a missing target (NaN), which the
 * losses leave out: every frame but the last has at least one target, so
 * that a long horizon on a short series still trains on every row.
 *
 * Split: the first n_train_rows = floor(n_rows * (1 - validation)) rows
 * are for training; the training frames are lag <= t < n_train_rows - 1,
 * with the targets in the training rows only. The validation frames are
 * the forecasts made from the last training row on, n_train_rows - 1 <= t
 * < n_rows - 1, scored on the targets after the training rows: never
 * trained on. (A model is run over every frame from the first to score
 * them, so that its state is what it would be live.)
 *
 * Statistics: each input's mean and population deviation over the training
 * rows (differences: over the training frames), each step's correction
 * over the training frames that have it (a step with fewer than two takes
 * the statistics of the step before). A target or covariate constant over
 * the training rows is an error; a difference or correction that is
 * constant (a perfectly regular series) keeps deviation 1.
 */
#ifndef RS_FORECAST_DATA_H
#define RS_FORECAST_DATA_H

#include <glib.h>
#include <rnnstream/csv-stream.h>
#include <rnnstream/export.h>
#include <rnnstream/forecast-transform.h>
#include <rnnstream/season-test.h>

G_BEGIN_DECLS

typedef struct {
  RsCsvColumn target;
  const RsCsvColumn *covariates; /* n_covariates inputs besides the target */
  guint n_covariates;
  RsCsvColumn time_column;       /* { NULL, 0 }: none */
  RsCsvMissing missing;          /* the CSV reader's policy */
  char delimiter;                /* 0: ',' */
  guint horizon;                 /* H, >= 1 */
  double validation;             /* share of rows held out at the end, [0, 0.9] */
  guint season;                  /* m; 0: from the time column's period (else 1) */
  int log;                       /* 1 yes, 0 no, -1 for a seasonal series (m > 1) whose
                                  * every value is > 0, unless the reference is trend */
  double damping;                /* the trend reference's phi in [0, 1] (rnnstream train's
                                  * default: 0.8) */
  int multiplicative;            /* the trend reference's season (m > 1): 1 multiplicative,
                                  * 0 additive, -1 multiplicative when every value is > 0 */
  RsForecastReference reference; /* see forecast-transform.h; 0 is none */
  gboolean test_season;          /* keep a season m > 1 only when the training rows show
                                  * it (rs_season_test), else use 1 */
} RsForecastDataOptions;

typedef struct RsForecastData RsForecastData;

/* Reads the whole of path ("-": standard input). Fails with the CSV
 * reader's errors (RS_ERROR_IO, RS_ERROR_PARSE: "FILE:LINE: ..."), or with
 * RS_ERROR_PARSE naming the file when the series is too short for the
 * horizon, the season and the split (fewer than 2 training frames, or no
 * validation frame when validation > 0), a column is constant over the
 * training rows, or log = 1 meets a value <= 0 (naming its row), or
 * RS_ERROR_ARGUMENT for options out of range. */
RS_API RsForecastData *rs_forecast_data_load (const char *path,
                                              const RsForecastDataOptions *options,
                                              GError **error);
RS_API void rs_forecast_data_free (RsForecastData *data);

/* The fewest rows rs_forecast_data_load accepts for a representation with
 * this lag (rs_forecast_transform_lag: it depends on the season and the
 * reference) and validation share in [0, 0.9]; G_MAXSIZE for a share too
 * small to hold out any row. */
RS_API gsize rs_forecast_data_min_rows (guint lag, double validation);

RS_API gsize rs_forecast_data_n_rows (const RsForecastData *data);
/* Inputs per frame (the transform's) and targets per frame (H). */
RS_API guint rs_forecast_data_n_inputs (const RsForecastData *data);
RS_API guint rs_forecast_data_horizon (const RsForecastData *data);
/* Column i's name, 0 the target and 1.. the covariates (its header name,
 * or "column N"); owned by data. */
RS_API const char *rs_forecast_data_column_name (const RsForecastData *data, guint i);

/* The first frame (the transform's lag). Training frames are
 * [lag, *train_end); validation frames [*valid_begin, *valid_end) (empty
 * when validation is 0). */
RS_API gsize rs_forecast_data_first_frame (const RsForecastData *data);
RS_API void rs_forecast_data_split (const RsForecastData *data, gsize *train_end,
                                    gsize *valid_begin, gsize *valid_end);

/* The representation with its training statistics (residual_std unset);
 * owned by data. */
RS_API const RsForecastTransform *rs_forecast_data_transform (const RsForecastData *data);
/* The season test's result when test_season ran it (NULL when it did
 * not: no season to test, or too few rows); owned by data. */
RS_API const RsSeasonTest *rs_forecast_data_season_test (const RsForecastData *data);
/* The season used: as given, or the one found from the times (1 when
 * there is none), or 1 when test_season found none; and the period it was
 * found from ("monthly", ... or "given", "none"). */
RS_API const char *rs_forecast_data_period (const RsForecastData *data);

/* Inputs of frames [first, first + n) (lag <= first, first + n <= n_rows)
 * into inputs (n * n_inputs floats, frame-major), and when targets is not
 * NULL their targets (n * H floats): with training, only those in the
 * training rows (the others NaN), else every one in the series. */
RS_API void rs_forecast_data_frames (const RsForecastData *data, gsize first, gsize n,
                                     gboolean training, float *inputs, float *targets);

/* The forecasts of steps 1..H made at frame t from the network's outputs u
 * (H floats): in z units and in the data's (either may be NULL). */
RS_API void rs_forecast_data_forecast (const RsForecastData *data, gsize t, const float *u,
                                       double *zhat, double *yhat);
/* Row t's target value and its z (the transform's). */
RS_API double rs_forecast_data_target (const RsForecastData *data, gsize t);
RS_API double rs_forecast_data_z (const RsForecastData *data, gsize t);

/* The time text of row i, or NULL without a time column. */
RS_API const char *rs_forecast_data_time (const RsForecastData *data, gsize row);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsForecastData, rs_forecast_data_free)

G_END_DECLS

#endif
