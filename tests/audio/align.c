/* align: finds a reference recording inside a capture and says how well
 * they match, for test-live.sh.
 *
 *   align REFERENCE CAPTURED [MIN_CORRELATION [MIN_SNR_DB [MAX_MFCC_DIFF]]]
 *
 * The lag is where the correlation coefficient between the reference and
 * the capture peaks: searched first on both signals averaged over blocks
 * of 8 samples (cheap, and speech keeps most of its energy below the
 * 1 kHz that survives), then sample by sample around the best coarse lag.
 * The whole reference must lie inside the capture. Over that part it
 * prints the lag, the correlation coefficient, the SNR (reference power
 * over the power of capture - reference: no gain fitted, so a level change
 * counts as error) and the least-squares gain; the exit status is 0 when
 * the correlation exceeds MIN_CORRELATION (0.99) and the SNR exceeds
 * MIN_SNR_DB (30), and the MFCCs (Kaldi's defaults) of the aligned part
 * of the capture differ from the reference's by at most MAX_MFCC_DIFF
 * (0.01) in every coefficient of every frame that carries sound (see
 * below). Both files are read with rs_sound_file; the capture is resampled
 * to the reference's rate if they differ. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <rnnstream/features.h>
#include <rnnstream/sound-file.h>

#define DECIMATE 8
#define REFINE 24

static GArray *
load (const char *path, int target_rate, int *rate)
{
  RsSoundFileOptions options = RS_SOUND_FILE_OPTIONS_INIT;
  g_autoptr (GError) error = NULL;
  g_autoptr (RsSoundFile) file = NULL;
  GArray *out = g_array_new (FALSE, FALSE, sizeof (float));
  float buf[4096];
  gssize got;

  options.target_rate = target_rate;
  file = rs_sound_file_open (path, &options, &error);
  if (file == NULL) {
    fprintf (stderr, "align: %s\n", error->message);
    exit (2);
  }
  *rate = rs_sound_file_get_rate (file);
  while ((got = rs_sound_file_read (file, buf, G_N_ELEMENTS (buf), &error)) > 0)
    g_array_append_vals (out, buf, (guint) got);
  if (got < 0) {
    fprintf (stderr, "align: %s\n", error->message);
    exit (2);
  }
  return out;
}

/* MFCCs (Kaldi's defaults at rate) of samples[0, n), frame after frame. */
static GArray *
mfcc (const float *samples, gsize n, int rate, guint *dim)
{
  RsFeatureOptions opts;
  g_autoptr (GError) error = NULL;
  RsFeatures *features;
  GArray *out = g_array_new (FALSE, FALSE, sizeof (float));
  float frame[64];
  gint64 index;

  rs_feature_options_init (&opts, RS_FEATURE_MFCC, rate);
  features = rs_features_new (&opts, &error);
  g_assert_no_error (error);
  *dim = rs_features_dim (features);
  g_assert (*dim <= G_N_ELEMENTS (frame));
  while (n > 0) {
    const gsize used = rs_features_accept (features, samples, n);

    samples += used;
    n -= used;
    while (rs_features_pop (features, frame, &index))
      g_array_append_vals (out, frame, *dim);
  }
  rs_features_finish (features);
  while (rs_features_pop (features, frame, &index))
    g_array_append_vals (out, frame, *dim);
  rs_features_free (features);
  return out;
}

/* Correlation coefficient of x[0, n) and y[lag, lag + n). */
static double
correlation (const float *x, const float *y, gsize n, gsize lag)
{
  double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;

  for (gsize i = 0; i < n; i++) {
    mx += x[i];
    my += y[lag + i];
  }
  mx /= (double) n;
  my /= (double) n;
  for (gsize i = 0; i < n; i++) {
    const double a = x[i] - mx, b = y[lag + i] - my;

    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxx > 0 && syy > 0 ? sxy / sqrt (sxx * syy) : 0.0;
}

static float *
decimate (const GArray *a, gsize *n)
{
  float *out;

  *n = a->len / DECIMATE;
  out = g_new (float, MAX (*n, 1));
  for (gsize i = 0; i < *n; i++) {
    float sum = 0;

    for (gsize k = 0; k < DECIMATE; k++)
      sum += g_array_index (a, float, i * DECIMATE + k);
    out[i] = sum / DECIMATE;
  }
  return out;
}

int
main (int argc, char **argv)
{
  g_autoptr (GArray) ref = NULL, cap = NULL;
  g_autofree float *ref_d = NULL, *cap_d = NULL;
  const double min_corr = argc > 3 ? g_ascii_strtod (argv[3], NULL) : 0.99;
  const double min_snr = argc > 4 ? g_ascii_strtod (argv[4], NULL) : 30.0;
  const double max_feature_diff = argc > 5 ? g_ascii_strtod (argv[5], NULL) : 0.01;
  guint dim;
  gsize nr, nc, nrd, ncd, best_coarse = 0, best = 0, from, to;
  double best_r = -2, signal = 0, noise = 0, xy = 0, xx = 0, snr, gain;
  int ref_rate, cap_rate;
  const float *x, *y;

  if (argc < 3 || argc > 6) {
    fprintf (stderr, "usage: align REFERENCE CAPTURED [MIN_CORRELATION [MIN_SNR_DB "
             "[MAX_MFCC_DIFF]]]\n");
    return 2;
  }
  ref = load (argv[1], 0, &ref_rate);
  cap = load (argv[2], ref_rate, &cap_rate);
  nr = ref->len;
  nc = cap->len;
  if (nr == 0 || nc < nr) {
    fprintf (stderr, "align: the capture (%" G_GSIZE_FORMAT " samples) cannot hold the reference "
             "(%" G_GSIZE_FORMAT ")\n", nc, nr);
    return 1;
  }

  /* Coarse search over every lag that keeps the reference inside. */
  ref_d = decimate (ref, &nrd);
  cap_d = decimate (cap, &ncd);
  for (gsize lag = 0; lag + nrd <= ncd; lag++) {
    const double r = correlation (ref_d, cap_d, nrd, lag);

    if (r > best_r) {
      best_r = r;
      best_coarse = lag * DECIMATE;
    }
  }
  /* Then sample by sample around it. */
  best_r = -2;
  from = best_coarse > REFINE ? best_coarse - REFINE : 0;
  to = MIN (best_coarse + REFINE, nc - nr);
  x = (const float *) ref->data;
  y = (const float *) cap->data;
  for (gsize lag = from; lag <= to; lag++) {
    const double r = correlation (x, y, nr, lag);

    if (r > best_r) {
      best_r = r;
      best = lag;
    }
  }

  for (gsize i = 0; i < nr; i++) {
    const double d = y[best + i] - x[i];

    signal += (double) x[i] * x[i];
    noise += d * d;
    xy += (double) x[i] * y[best + i];
    xx += (double) x[i] * x[i];
  }
  snr = noise > 0 ? 10 * log10 (signal / noise) : INFINITY;
  gain = xx > 0 ? xy / xx : 0;
  printf ("reference %" G_GSIZE_FORMAT " samples at %d Hz, capture %" G_GSIZE_FORMAT
          " samples; lag %" G_GSIZE_FORMAT " samples (%.3f s); correlation %.6f; SNR %.1f dB; "
          "gain %.6f\n", nr, ref_rate, nc, best, (double) best / ref_rate, best_r, snr, gain);
  if (best_r <= min_corr || snr <= min_snr) {
    printf ("align: mismatch (want correlation > %g and SNR > %g dB)\n", min_corr, min_snr);
    return 1;
  }

  /* What a recognizer sees: the features of the aligned capture against
   * the file's, over the frames that carry sound. In (near) digital
   * silence the log energies follow the last bit of noise, and one LSB
   * moves them by several units; PulseAudio's stream start and end leave
   * such differences in the quiet frames at the ends. So frames more than
   * 40 dB below the loudest (coefficient 0 is the log energy) are not
   * compared. */
  {
    g_autoptr (GArray) fr = mfcc (x, nr, ref_rate, &dim);
    g_autoptr (GArray) fc = mfcc (y + best, nr, ref_rate, &dim);
    const float *a = (const float *) fr->data, *b = (const float *) fc->data;
    const guint frames = fr->len / dim;
    double max_diff = 0, loudest = -INFINITY;
    guint compared = 0;

    g_assert (fr->len == fc->len && frames > 0);
    for (guint t = 0; t < frames; t++)
      loudest = MAX (loudest, a[t * dim]);
    for (guint t = 0; t < frames; t++) {
      if (a[t * dim] < loudest - 4 * G_LN10)
        continue;
      compared++;
      for (guint j = 0; j < dim; j++)
        max_diff = MAX (max_diff, fabs (a[t * dim + j] - b[t * dim + j]));
    }
    printf ("MFCC: %u of %u frames within 40 dB of the loudest; max abs difference %.4g\n",
            compared, frames, max_diff);
    if (compared < frames / 2 || max_diff > max_feature_diff) {
      printf ("align: the features differ by more than %g\n", max_feature_diff);
      return 1;
    }
  }
  return 0;
}
