/* A series for training a forecaster: a target column (and covariates)
 * read from CSV, split in time into a training part and a validation part,
 * standardised with statistics of the training part only, and cut into
 * frames the way a streaming forecaster sees them.
 *
 * Frame t (one per row) has as inputs the row's values, standardised
 * (target first, then the covariates in the order given), and as targets
 * the standardised target of the next H rows, t+1 .. t+H: a model with H
 * outputs trained on them forecasts steps 1..H after each row it reads,
 * with its state carried from the first row. Frames whose targets run past
 * the end have none, so there are n_rows - H frames with targets.
 *
 * Split: the first n_train_rows = floor(n_rows * (1 - validation)) rows
 * are for training; the training frames are those whose targets all lie in
 * them, t < n_train_rows - H. The validation frames are the forecasts made
 * from the validation rows, n_train_rows - 1 <= t < n_rows - H: their
 * targets were never trained on. (A model is run over every row from the
 * first to score them, so that its state is what it would be live.)
 *
 * Standardisation: z = (x - mean) / std per column, mean and population
 * std over the training rows; a column constant there is an error.
 */
#ifndef RS_FORECAST_DATA_H
#define RS_FORECAST_DATA_H

#include <glib.h>
#include <rnnstream/csv-stream.h>
#include <rnnstream/export.h>

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
} RsForecastDataOptions;

typedef struct RsForecastData RsForecastData;

/* Reads the whole of path ("-": standard input). Fails with the CSV
 * reader's errors (RS_ERROR_IO, RS_ERROR_PARSE: "FILE:LINE: ..."), or with
 * RS_ERROR_PARSE naming the file when the series is too short for the
 * horizon and split (fewer than 2 training frames, or no validation frame
 * when validation > 0) or a column is constant over the training rows, or
 * RS_ERROR_ARGUMENT for options out of range. */
RS_API RsForecastData *rs_forecast_data_load (const char *path,
                                              const RsForecastDataOptions *options,
                                              GError **error);
RS_API void rs_forecast_data_free (RsForecastData *data);

RS_API gsize rs_forecast_data_n_rows (const RsForecastData *data);
/* Inputs per frame (1 + covariates) and targets per frame (H). */
RS_API guint rs_forecast_data_n_inputs (const RsForecastData *data);
RS_API guint rs_forecast_data_horizon (const RsForecastData *data);
/* Input column i's name (its header name, or "column N"); owned by data. */
RS_API const char *rs_forecast_data_input_name (const RsForecastData *data, guint i);

/* Training frames are [0, *train_end); validation frames
 * [*valid_begin, *valid_end) (empty when validation is 0). */
RS_API void rs_forecast_data_split (const RsForecastData *data, gsize *train_end,
                                    gsize *valid_begin, gsize *valid_end);

/* Training-part statistics, one per input column; owned by data. */
RS_API const double *rs_forecast_data_mean (const RsForecastData *data);
RS_API const double *rs_forecast_data_std (const RsForecastData *data);

/* Standardised inputs of frames [first, first + n) into inputs
 * (n * n_inputs floats, frame-major), and when targets is not NULL their
 * targets (n * H floats), which needs first + n <= n_rows - H. */
RS_API void rs_forecast_data_frames (const RsForecastData *data, gsize first, gsize n,
                                     float *inputs, float *targets);

/* The time text of row i, or NULL without a time column. */
RS_API const char *rs_forecast_data_time (const RsForecastData *data, gsize row);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsForecastData, rs_forecast_data_free)

G_END_DECLS

#endif
