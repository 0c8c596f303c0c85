/* RsFeatureOptions: Kaldi's MFCC and filter-bank options, their defaults,
 * parsing and checks. See rnnstream/features.h. */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include <rnnstream/error.h>
#include <rnnstream/features.h>

#include "mel-banks.h"
#include "option-parser.h"

/* Longest frame accepted, in samples (about 22 s at 48 kHz): far beyond any
 * feature configuration, and it keeps every size computation in range. */
#define MAX_FRAME_LENGTH (1u << 20)

/* The option parser stores a choice as an int. */
G_STATIC_ASSERT (sizeof (RsWindowType) == sizeof (int));

enum { PROGRAM_MFCC, PROGRAM_FBANK };
#define MFCC (1u << PROGRAM_MFCC)
#define FBANK (1u << PROGRAM_FBANK)
#define BOTH (MFCC | FBANK)

static const char *const program_names[] = { "compute-mfcc-feats", "compute-fbank-feats" };

/* In RsWindowType order. */
static const char *const window_names[] = {
  "povey", "hamming", "hanning", "rectangular", "sine", "blackman", NULL
};

#define FIELD(f) offsetof (RsFeatureOptions, f)
#define NO_RANGE 1.0, 0.0

static const RsOptionSpec feature_specs[] = {
  { "sample-frequency", RS_OPTION_DOUBLE, FIELD (sample_frequency), NO_RANGE, NULL, BOTH },
  { "frame-length", RS_OPTION_DOUBLE, FIELD (frame_length_ms), NO_RANGE, NULL, BOTH },
  { "frame-shift", RS_OPTION_DOUBLE, FIELD (frame_shift_ms), NO_RANGE, NULL, BOTH },
  { "dither", RS_OPTION_DOUBLE, FIELD (dither), 0.0, G_MAXDOUBLE, NULL, BOTH },
  { "dither-seed", RS_OPTION_UINT64, FIELD (dither_seed), NO_RANGE, NULL, BOTH },
  { "preemphasis-coefficient", RS_OPTION_DOUBLE, FIELD (preemphasis_coefficient), 0.0, 1.0,
    NULL, BOTH },
  { "remove-dc-offset", RS_OPTION_BOOL, FIELD (remove_dc_offset), NO_RANGE, NULL, BOTH },
  { "window-type", RS_OPTION_CHOICE, FIELD (window_type), NO_RANGE, window_names, BOTH },
  { "blackman-coeff", RS_OPTION_DOUBLE, FIELD (blackman_coeff), NO_RANGE, NULL, BOTH },
  { "round-to-power-of-two", RS_OPTION_BOOL, FIELD (round_to_power_of_two), NO_RANGE, NULL,
    BOTH },
  { "snip-edges", RS_OPTION_BOOL, FIELD (snip_edges), NO_RANGE, NULL, BOTH },
  { "num-mel-bins", RS_OPTION_UINT, FIELD (num_mel_bins), NO_RANGE, NULL, BOTH },
  { "low-freq", RS_OPTION_DOUBLE, FIELD (low_freq), NO_RANGE, NULL, BOTH },
  { "high-freq", RS_OPTION_DOUBLE, FIELD (high_freq), NO_RANGE, NULL, BOTH },
  { "use-energy", RS_OPTION_BOOL, FIELD (use_energy), NO_RANGE, NULL, BOTH },
  { "raw-energy", RS_OPTION_BOOL, FIELD (raw_energy), NO_RANGE, NULL, BOTH },
  { "energy-floor", RS_OPTION_DOUBLE, FIELD (energy_floor), NO_RANGE, NULL, BOTH },
  { "num-ceps", RS_OPTION_UINT, FIELD (num_ceps), NO_RANGE, NULL, MFCC },
  { "cepstral-lifter", RS_OPTION_DOUBLE, FIELD (cepstral_lifter), NO_RANGE, NULL, MFCC },
  { "use-log-fbank", RS_OPTION_BOOL, FIELD (use_log_fbank), NO_RANGE, NULL, FBANK },
  { "use-power", RS_OPTION_BOOL, FIELD (use_power), NO_RANGE, NULL, FBANK },
};

void
rs_feature_options_init (RsFeatureOptions *opts, RsFeatureKind kind, double sample_frequency)
{
  g_return_if_fail (opts != NULL);
  g_return_if_fail (kind == RS_FEATURE_MFCC || kind == RS_FEATURE_FBANK);

  /* Kaldi's defaults (FrameExtractionOptions, MelBanksOptions, MfccOptions,
   * FbankOptions), except dither, which Kaldi sets to 1. */
  /* Field by field after clearing, so that the padding is zero too and
   * two option sets compare equal byte for byte. */
  memset (opts, 0, sizeof *opts);
  opts->kind = kind;
  opts->sample_frequency = sample_frequency;
  opts->frame_length_ms = 25.0;
  opts->frame_shift_ms = 10.0;
  opts->dither = 0.0;
  opts->dither_seed = 0;
  opts->preemphasis_coefficient = 0.97;
  opts->remove_dc_offset = TRUE;
  opts->window_type = RS_WINDOW_POVEY;
  opts->blackman_coeff = 0.42;
  opts->round_to_power_of_two = TRUE;
  opts->snip_edges = TRUE;
  opts->num_mel_bins = 23;
  opts->low_freq = 20.0;
  opts->high_freq = 0.0;
  opts->use_energy = kind == RS_FEATURE_MFCC;
  opts->raw_energy = TRUE;
  opts->energy_floor = 0.0;
  opts->num_ceps = 13;
  opts->cepstral_lifter = 22.0;
  opts->use_log_fbank = TRUE;
  opts->use_power = TRUE;
}

static guint
program_of (const RsFeatureOptions *opts)
{
  return opts->kind == RS_FEATURE_FBANK ? PROGRAM_FBANK : PROGRAM_MFCC;
}

gboolean
rs_feature_options_parse (RsFeatureOptions *opts, const char *const *args, gssize n_args,
                          GError **error)
{
  g_return_val_if_fail (opts != NULL, FALSE);

  return rs_option_table_apply (feature_specs, G_N_ELEMENTS (feature_specs), opts,
                                program_of (opts), program_names, args, n_args, error);
}

gboolean
rs_feature_options_parse_string (RsFeatureOptions *opts, const char *text, GError **error)
{
  g_return_val_if_fail (opts != NULL, FALSE);

  return rs_option_table_apply_string (feature_specs, G_N_ELEMENTS (feature_specs), opts,
                                       program_of (opts), program_names, text, error);
}

/* Kaldi's FrameExtractionOptions::WindowSize / WindowShift: the options are
 * BaseFloat (float) and the product is formed in double, then truncated. */
static double
samples_of (const RsFeatureOptions *opts, double ms)
{
  return (double) (float) opts->sample_frequency * 0.001 * (double) (float) ms;
}

static guint
to_count (double v)
{
  if (!(v >= 0.0))
    return 0;
  if (v >= (double) G_MAXUINT)
    return G_MAXUINT;
  return (guint) v;
}

guint
rs_feature_options_frame_length (const RsFeatureOptions *opts)
{
  g_return_val_if_fail (opts != NULL, 0);
  return to_count (samples_of (opts, opts->frame_length_ms));
}

guint
rs_feature_options_frame_shift (const RsFeatureOptions *opts)
{
  g_return_val_if_fail (opts != NULL, 0);
  return to_count (samples_of (opts, opts->frame_shift_ms));
}

gint64
rs_feature_options_n_frames (const RsFeatureOptions *opts, gint64 n_samples)
{
  gint64 length, shift;

  g_return_val_if_fail (opts != NULL, 0);
  length = rs_feature_options_frame_length (opts);
  shift = rs_feature_options_frame_shift (opts);
  if (length == 0 || shift == 0 || n_samples <= 0)
    return 0;
  /* Kaldi's NumFrames with flush = true. */
  if (opts->snip_edges)
    return n_samples < length ? 0 : 1 + (n_samples - length) / shift;
  return (n_samples + shift / 2) / shift;
}

static guint
round_up_to_power_of_two (guint n)
{
  guint p = 1;

  while (p < n)
    p <<= 1;
  return p;
}

static gboolean
check_finite (const char *name, double v, GError **error)
{
  if (isfinite (v))
    return TRUE;
  g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "--%s must be a finite number", name);
  return FALSE;
}

gboolean
rs_feature_options_check (const RsFeatureOptions *opts, GError **error)
{
  g_autoptr (RsMelBanks) banks = NULL;
  double length, shift;
  guint padded;

  g_return_val_if_fail (opts != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (opts->kind != RS_FEATURE_MFCC && opts->kind != RS_FEATURE_FBANK) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "unknown feature kind %d", (int) opts->kind);
    return FALSE;
  }
  if ((guint) opts->window_type > RS_WINDOW_BLACKMAN) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "unknown --window-type %d",
                 (int) opts->window_type);
    return FALSE;
  }
  if (!check_finite ("sample-frequency", opts->sample_frequency, error) ||
      !check_finite ("frame-length", opts->frame_length_ms, error) ||
      !check_finite ("frame-shift", opts->frame_shift_ms, error) ||
      !check_finite ("dither", opts->dither, error) ||
      !check_finite ("preemphasis-coefficient", opts->preemphasis_coefficient, error) ||
      !check_finite ("blackman-coeff", opts->blackman_coeff, error) ||
      !check_finite ("low-freq", opts->low_freq, error) ||
      !check_finite ("high-freq", opts->high_freq, error) ||
      !check_finite ("energy-floor", opts->energy_floor, error) ||
      !check_finite ("cepstral-lifter", opts->cepstral_lifter, error))
    return FALSE;
  if (!(opts->sample_frequency > 0.0 && opts->sample_frequency <= FLT_MAX)) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                 "the sample frequency must be positive (got %g Hz)", opts->sample_frequency);
    return FALSE;
  }

  length = samples_of (opts, opts->frame_length_ms);
  shift = samples_of (opts, opts->frame_shift_ms);
  /* Kaldi asserts a positive length; its window formulas divide by
   * length - 1, so a one-sample window would be NaN (torchaudio asks for 2
   * as well). */
  if (!(length >= 2.0) || length >= MAX_FRAME_LENGTH + 1.0) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                 "--frame-length=%g ms is %.0f samples at %g Hz; it must be 2 to %u samples",
                 opts->frame_length_ms, length >= 0 ? floor (length) : length,
                 opts->sample_frequency, MAX_FRAME_LENGTH);
    return FALSE;
  }
  if (!(shift >= 1.0) || shift >= MAX_FRAME_LENGTH + 1.0) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                 "--frame-shift=%g ms is %.0f samples at %g Hz; it must be 1 to %u samples",
                 opts->frame_shift_ms, shift >= 0 ? floor (shift) : shift,
                 opts->sample_frequency, MAX_FRAME_LENGTH);
    return FALSE;
  }
  padded = opts->round_to_power_of_two ? round_up_to_power_of_two ((guint) length)
                                       : (guint) length;
  /* Kaldi asserts it (mel-computations.cc); the power spectrum's bins are
   * paired for a real FFT. */
  if (padded % 2 != 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                 "--frame-length=%g ms is %u samples at %g Hz, an odd FFT length; use "
                 "--round-to-power-of-two=true or another frame length",
                 opts->frame_length_ms, padded, opts->sample_frequency);
    return FALSE;
  }
  if (opts->preemphasis_coefficient < 0.0 || opts->preemphasis_coefficient > 1.0) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                 "--preemphasis-coefficient=%g: must be from 0 to 1",
                 opts->preemphasis_coefficient);
    return FALSE;
  }
  if (opts->dither < 0.0) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "--dither=%g: must not be negative",
                 opts->dither);
    return FALSE;
  }
  if (opts->kind == RS_FEATURE_MFCC &&
      (opts->num_ceps < 1 || opts->num_ceps > opts->num_mel_bins)) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                 "--num-ceps=%u: must be from 1 to --num-mel-bins (%u)", opts->num_ceps,
                 opts->num_mel_bins);
    return FALSE;
  }
  banks = rs_mel_banks_new (opts->num_mel_bins, opts->sample_frequency, padded,
                            opts->low_freq, opts->high_freq, error);
  return banks != NULL;
}

/* The shortest text that reads back as the same double. */
static void
append_double (GString *s, const char *name, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (buf, sizeof buf, "%.15g", v);
  if (g_ascii_strtod (buf, NULL) != v)
    g_ascii_formatd (buf, sizeof buf, "%.17g", v);
  g_string_append_printf (s, " --%s=%s", name, buf);
}

static void
append_bool (GString *s, const char *name, gboolean v)
{
  g_string_append_printf (s, " --%s=%s", name, v ? "true" : "false");
}

char *
rs_feature_options_to_string (const RsFeatureOptions *opts)
{
  GString *s;

  g_return_val_if_fail (opts != NULL, NULL);

  s = g_string_new (NULL);
  append_double (s, "frame-length", opts->frame_length_ms);
  append_double (s, "frame-shift", opts->frame_shift_ms);
  append_double (s, "dither", opts->dither);
  if (opts->dither_seed != 0)
    g_string_append_printf (s, " --dither-seed=%" G_GUINT64_FORMAT, opts->dither_seed);
  append_double (s, "preemphasis-coefficient", opts->preemphasis_coefficient);
  append_bool (s, "remove-dc-offset", opts->remove_dc_offset);
  if ((guint) opts->window_type <= RS_WINDOW_BLACKMAN)
    g_string_append_printf (s, " --window-type=%s", window_names[opts->window_type]);
  append_double (s, "blackman-coeff", opts->blackman_coeff);
  append_bool (s, "round-to-power-of-two", opts->round_to_power_of_two);
  append_bool (s, "snip-edges", opts->snip_edges);
  g_string_append_printf (s, " --num-mel-bins=%u", opts->num_mel_bins);
  append_double (s, "low-freq", opts->low_freq);
  append_double (s, "high-freq", opts->high_freq);
  append_bool (s, "use-energy", opts->use_energy);
  append_bool (s, "raw-energy", opts->raw_energy);
  append_double (s, "energy-floor", opts->energy_floor);
  if (opts->kind == RS_FEATURE_MFCC) {
    g_string_append_printf (s, " --num-ceps=%u", opts->num_ceps);
    append_double (s, "cepstral-lifter", opts->cepstral_lifter);
  } else {
    append_bool (s, "use-log-fbank", opts->use_log_fbank);
    append_bool (s, "use-power", opts->use_power);
  }
  /* Every option was appended with a leading space. */
  g_string_erase (s, 0, 1);
  return g_string_free (s, FALSE);
}
