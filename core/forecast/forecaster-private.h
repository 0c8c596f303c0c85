/* What an RsForecaster holds, for the forecaster's own modules
 * (forecaster.c runs it, forecast-state.c saves and restores it). Not
 * installed. */
#ifndef RS_FORECASTER_PRIVATE_H
#define RS_FORECASTER_PRIVATE_H

#include "rnnstream/forecaster.h"
#include "rnnstream/optimizer.h"
#include "rnnstream/trainable.h"

/* Gradients are clipped to this global norm before each update step, as
 * rnnstream train does by default. */
#define RS_FORECAST_UPDATE_CLIP 1.0

/* The online updates' state (see rs_forecaster_set_update). The frames
 * held are the window's and the newest one, frames + start * n_inputs,
 * n_frames of them, in a buffer of 2 * (W + 1) slid back when full; the
 * anchor is the network's state before the first of them. */
typedef struct RsForecastUpdater {
  RsForecastUpdate opts;     /* window resolved */
  RsOptimizer *opt;
  float *params;             /* the weights the optimiser steps (n_params) */
  float *initial;            /* the model's weights, for reset (n_params) */
  float *anchor;             /* state_floats */
  float *frames;             /* 2 * (W + 1) * n_inputs */
  guint start, n_frames;
  float *targets;            /* W * H: the window's, NaN where not known */
  float *out, *d_out;        /* (W + 1) * H */
} RsForecastUpdater;

struct RsForecaster {
  RsTrainable *net;
  RsForecastTransform tr;
  char *model_digest;        /* SHA-256 of the model file */
  guint lag;
  guint keep;                /* z values needed: lag + 1, and W more with updates */
  double *z;                 /* 2 * keep slots, slid back when full */
  guint z_len;               /* values held */
  guint64 rows;
  float *x, *u;              /* one frame's inputs, outputs */
  double *zhat;              /* H: the last forecasts in z units */
  gsize n_params;
  gsize state_floats;        /* the network's state for one stream */
  RsForecastUpdater *update; /* NULL: the weights stay the model's */
};

#endif
