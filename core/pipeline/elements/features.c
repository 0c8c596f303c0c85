/* mfcc and fbank: Kaldi-compatible features of audio samples, with
 * Kaldi's option names as parameters (mfcc num-ceps=20 frame-shift=10). */
#include "config.h"

#include <string.h>

#include "rnnstream/features.h"
#include "stage.h"

/* Every Kaldi option, unset by default so Kaldi's per-program defaults
 * apply (rnnstream's one difference: dither=0). */
#define COMMON_PARAMS \
  { "sample-frequency", RS_PARAM_DOUBLE, "", "Hz; must match the input (set the source's rate " \
    "to resample)", 1, 1e6, NULL }, \
  { "frame-length", RS_PARAM_DOUBLE, "", "ms (25)", 0.01, 1e4, NULL }, \
  { "frame-shift", RS_PARAM_DOUBLE, "", "ms (10)", 0.01, 1e4, NULL }, \
  { "dither", RS_PARAM_DOUBLE, "", "Gaussian dither, in sample units (0 here; Kaldi: 1)", 0, 1e6, \
    NULL }, \
  { "dither-seed", RS_PARAM_INT, "", "seed of the dither (0)", 0, 9.2e18, NULL }, \
  { "preemphasis-coefficient", RS_PARAM_DOUBLE, "", "0.97", 0, 1, NULL }, \
  { "remove-dc-offset", RS_PARAM_BOOL, "", "true", 1, 0, NULL }, \
  { "window-type", RS_PARAM_ENUM, "", "povey", 1, 0, \
    "povey|hamming|hanning|rectangular|blackman|sine" }, \
  { "blackman-coeff", RS_PARAM_DOUBLE, "", "0.42", -1e6, 1e6, NULL }, \
  { "round-to-power-of-two", RS_PARAM_BOOL, "", "true", 1, 0, NULL }, \
  { "snip-edges", RS_PARAM_BOOL, "", "true", 1, 0, NULL }, \
  { "num-mel-bins", RS_PARAM_INT, "", "23", 3, 10000, NULL }, \
  { "low-freq", RS_PARAM_DOUBLE, "", "Hz (20)", 0, 1e6, NULL }, \
  { "high-freq", RS_PARAM_DOUBLE, "", "Hz; 0 or negative: offset from Nyquist (0)", -1e6, 1e6, \
    NULL }, \
  { "use-energy", RS_PARAM_BOOL, "", "mfcc: true, fbank: false", 1, 0, NULL }, \
  { "raw-energy", RS_PARAM_BOOL, "", "true", 1, 0, NULL }, \
  { "energy-floor", RS_PARAM_DOUBLE, "", "0", 0, 1e30, NULL }

static const RsParamSpec mfcc_params[] = {
  COMMON_PARAMS,
  { "num-ceps", RS_PARAM_INT, "", "13", 1, 10000, NULL },
  { "cepstral-lifter", RS_PARAM_DOUBLE, "", "22", 0, 1e6, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static const RsParamSpec fbank_params[] = {
  COMMON_PARAMS,
  { "use-log-fbank", RS_PARAM_BOOL, "", "true", 1, 0, NULL },
  { "use-power", RS_PARAM_BOOL, "", "true", 1, 0, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gsize
accept_samples (gpointer stage, const float *data, gsize n)
{
  return rs_features_accept (stage, data, n);
}

static gboolean
pop_frame (gpointer stage, float *frame, gint64 *index)
{
  return rs_features_pop (stage, frame, index);
}

static void
finish_stage (gpointer stage)
{
  rs_features_finish (stage);
}

static void
free_stage (gpointer stage)
{
  rs_features_free (stage);
}

static gboolean
features_start (RsElement *self, RsFeatureKind kind, GError **error)
{
  const char *const own[] = { "sample-frequency", NULL };
  g_autoptr (GPtrArray) args = rs_stage_option_args (self, own);
  RsStage *st = g_new0 (RsStage, 1);
  RsFeatureOptions opts;
  RsFeatures *features;

  self->priv = st;
  if (self->in.width != 1 || self->in.rate <= 0)
    return rs_element_fail (self, error, "takes audio samples at a known rate, but the stage "
                            "before it gives frames of %u values%s", self->in.width,
                            self->in.rate > 0 ? "" : " at no fixed rate");
  if (rs_element_is_set (self, "sample-frequency") &&
      rs_element_double (self, "sample-frequency") != self->in.rate)
    return rs_element_fail (self, error, "sample-frequency=%g, but the audio comes at %g Hz "
                            "(set the source's rate=%g to resample it)",
                            rs_element_double (self, "sample-frequency"), self->in.rate,
                            rs_element_double (self, "sample-frequency"));
  rs_feature_options_init (&opts, kind, self->in.rate);
  if (!rs_feature_options_parse (&opts, (const char *const *) args->pdata, args->len, error) ||
      !rs_feature_options_check (&opts, error)) {
    g_prefix_error (error, "element %s: ", self->name);
    return FALSE;
  }
  features = rs_features_new (&opts, error);
  if (features == NULL)
    return FALSE;
  st->stage = features;
  st->accept = accept_samples;
  st->pop = pop_frame;
  st->finish = finish_stage;
  st->free = free_stage;
  st->description = rs_feature_options_to_string (&opts);
  self->out.width = rs_features_dim (features);
  self->out.rate = self->in.rate / rs_feature_options_frame_shift (&opts);
  return TRUE;
}

static gboolean
mfcc_start (RsElement *self, GError **error)
{
  return features_start (self, RS_FEATURE_MFCC, error);
}

static gboolean
fbank_start (RsElement *self, GError **error)
{
  return features_start (self, RS_FEATURE_FBANK, error);
}

const RsElementClass rs_mfcc_class = {
  .type = "mfcc",
  .description = "MFCCs of audio samples, as Kaldi's compute-mfcc-feats (its option names)",
  .role = RS_ELEMENT_FILTER,
  .params = mfcc_params,
  .start = mfcc_start,
  .process = rs_stage_process,
  .finish = rs_stage_finish,
  .stop = rs_stage_stop,
  .report = rs_stage_report,
};

const RsElementClass rs_fbank_class = {
  .type = "fbank",
  .description = "log mel filterbank energies of audio samples, as Kaldi's compute-fbank-feats",
  .role = RS_ELEMENT_FILTER,
  .params = fbank_params,
  .start = fbank_start,
  .process = rs_stage_process,
  .finish = rs_stage_finish,
  .stop = rs_stage_stop,
  .report = rs_stage_report,
};
