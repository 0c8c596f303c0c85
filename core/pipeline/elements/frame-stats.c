/* deltas and cmvn: Kaldi's add-deltas and apply-cmvn-sliding as streaming
 * stages over feature frames. */
#include "config.h"

#include "rnnstream/cmvn.h"
#include "rnnstream/deltas.h"
#include "stage.h"

static const RsParamSpec deltas_params[] = {
  { "delta-order", RS_PARAM_INT, "", "2: deltas and delta-deltas", 0, 4, NULL },
  { "delta-window", RS_PARAM_INT, "", "2", 1, 100, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static const RsParamSpec cmvn_params[] = {
  { "cmn-window", RS_PARAM_INT, "", "frames (600)", 1, 1e7, NULL },
  { "min-cmn-window", RS_PARAM_INT, "", "frames looked ahead at the start (100)", 0, 1e7, NULL },
  { "norm-vars", RS_PARAM_BOOL, "", "also normalise the variance (false)", 1, 0, NULL },
  { "center", RS_PARAM_BOOL, "", "a window centred on the frame, which adds latency (false)",
    1, 0, NULL },
  { "prior-mean", RS_PARAM_STRING, "", "a prior's means, one per value (comma-separated)", 0, 0,
    NULL },
  { "prior-std", RS_PARAM_STRING, "", "its standard deviations", 0, 0, NULL },
  { "prior-frames", RS_PARAM_DOUBLE, "", "the prior's weight in frames (200 with prior-mean; "
    "rnnstream train estimates mean and std from its training files when only this is given)",
    0, 1e7, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static const char *const cmvn_prior_params[] = { "prior-mean", "prior-std", "prior-frames", NULL };

static gsize
deltas_accept (gpointer stage, const float *data, gsize n)
{
  return rs_deltas_accept (stage, data, n);
}

static gboolean
deltas_pop (gpointer stage, float *frame, gint64 *index)
{
  return rs_deltas_pop (stage, frame, index);
}

static void
deltas_finish (gpointer stage)
{
  rs_deltas_finish (stage);
}

static void
deltas_free (gpointer stage)
{
  rs_deltas_free (stage);
}

static gboolean
deltas_start (RsElement *self, GError **error)
{
  g_autoptr (GPtrArray) args = rs_stage_option_args (self, NULL);
  RsStage *st = g_new0 (RsStage, 1);
  RsDeltaOptions opts;
  RsDeltas *deltas;

  self->priv = st;
  if (!rs_element_need_input_width (self, error))
    return FALSE;
  rs_delta_options_init (&opts);
  if (!rs_delta_options_parse (&opts, (const char *const *) args->pdata, args->len, error))
    return FALSE;
  deltas = rs_deltas_new (self->in.width, &opts, error);
  if (deltas == NULL)
    return FALSE;
  st->stage = deltas;
  st->accept = deltas_accept;
  st->pop = deltas_pop;
  st->finish = deltas_finish;
  st->free = deltas_free;
  st->description = g_strdup_printf ("order %u, window %u: %u -> %u values, latency %u frames",
                                     opts.order, opts.window, self->in.width,
                                     rs_deltas_dim (deltas), rs_deltas_latency (deltas));
  self->out.width = rs_deltas_dim (deltas);
  self->out.rate = self->in.rate;
  return TRUE;
}

static gsize
cmvn_accept (gpointer stage, const float *data, gsize n)
{
  return rs_cmvn_accept (stage, data, n);
}

static gboolean
cmvn_pop (gpointer stage, float *frame, gint64 *index)
{
  return rs_cmvn_pop (stage, frame, index);
}

static void
cmvn_finish (gpointer stage)
{
  rs_cmvn_finish (stage);
}

static void
cmvn_free (gpointer stage)
{
  rs_cmvn_free (stage);
}

static void
cmvn_reset (gpointer stage)
{
  rs_cmvn_reset (stage);
}

/* The prior statistics (see rnnstream/cmvn.h), when given. */
static gboolean
cmvn_prior (RsElement *self, RsCmvn *cmvn, GError **error)
{
  g_autoptr (GArray) mean = NULL, std = NULL;
  double frames = rs_element_is_set (self, "prior-frames")
                    ? rs_element_double (self, "prior-frames") : 200;

  if (!rs_element_is_set (self, "prior-mean") && !rs_element_is_set (self, "prior-std")) {
    if (rs_element_is_set (self, "prior-frames"))
      return rs_element_fail (self, error, "prior-frames needs prior-mean= and prior-std= "
                              "(rnnstream train estimates them from its training files)");
    return TRUE;
  }
  if (!rs_element_is_set (self, "prior-mean") || !rs_element_is_set (self, "prior-std"))
    return rs_element_fail (self, error, "prior-mean= and prior-std= go together");
  mean = rs_element_numbers (self, "prior-mean", rs_element_string (self, "prior-mean"), error);
  if (mean == NULL)
    return FALSE;
  std = rs_element_numbers (self, "prior-std", rs_element_string (self, "prior-std"), error);
  if (std == NULL)
    return FALSE;
  if (mean->len != self->in.width || std->len != self->in.width)
    return rs_element_fail (self, error, "prior-mean= has %u values and prior-std= %u; the "
                            "frames have %u", mean->len, std->len, self->in.width);
  return rs_cmvn_set_prior (cmvn, (const double *) mean->data, (const double *) std->data,
                            frames, error);
}

static gboolean
cmvn_start (RsElement *self, GError **error)
{
  g_autoptr (GPtrArray) args = rs_stage_option_args (self, cmvn_prior_params);
  RsStage *st = g_new0 (RsStage, 1);
  RsCmvnOptions opts;
  RsCmvn *cmvn;

  self->priv = st;
  if (!rs_element_need_input_width (self, error))
    return FALSE;
  rs_cmvn_options_init (&opts);
  if (!rs_cmvn_options_parse (&opts, (const char *const *) args->pdata, args->len, error))
    return FALSE;
  cmvn = rs_cmvn_new (self->in.width, &opts, error);
  if (cmvn == NULL)
    return FALSE;
  st->stage = cmvn;
  st->free = cmvn_free;
  if (!cmvn_prior (self, cmvn, error))
    return FALSE;
  st->accept = cmvn_accept;
  /* A centred window holds frames back; a reset would drop them, so a
   * centred CMVN carries its statistics across endpoints. */
  st->reset = opts.center ? NULL : cmvn_reset;
  st->pop = cmvn_pop;
  st->finish = cmvn_finish;
  st->description = g_strdup_printf ("sliding window of %u frames%s%s%s", opts.cmn_window,
                                     opts.norm_vars ? ", variance normalised" : "",
                                     opts.center ? ", centred" : ", causal",
                                     rs_element_is_set (self, "prior-mean") ? ", with a prior"
                                                                           : "");
  self->out = self->in;
  return TRUE;
}

const RsElementClass rs_deltas_class = {
  .type = "deltas",
  .description = "appends deltas (and delta-deltas...) as Kaldi's add-deltas",
  .role = RS_ELEMENT_FILTER,
  .params = deltas_params,
  .start = deltas_start,
  .process = rs_stage_process,
  .finish = rs_stage_finish,
  .stop = rs_stage_stop,
  .report = rs_stage_report,
  .reset = rs_stage_reset,
};

const RsElementClass rs_cmvn_class = {
  .type = "cmvn",
  .description = "sliding-window mean (and variance) normalisation as Kaldi's apply-cmvn-sliding",
  .role = RS_ELEMENT_FILTER,
  .params = cmvn_params,
  .start = cmvn_start,
  .process = rs_stage_process,
  .finish = rs_stage_finish,
  .stop = rs_stage_stop,
  .report = rs_stage_report,
  .reset = rs_stage_reset,
};
