/* align: finds a reference recording inside a capture and says how well
 * they match, for test-live.sh.
 *
 *   align REFERENCE CAPTURED [MIN_CORRELATION [MIN_SNR_DB]]
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
 * MIN_SNR_DB (30). Both files are read with rs_sound_file; the capture is
 * resampled to the reference's rate if they differ. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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
  gsize nr, nc, nrd, ncd, best_coarse = 0, best = 0, from, to;
  double best_r = -2, signal = 0, noise = 0, xy = 0, xx = 0, snr, gain;
  int ref_rate, cap_rate;
  const float *x, *y;

  if (argc < 3 || argc > 5) {
    fprintf (stderr, "usage: align REFERENCE CAPTURED [MIN_CORRELATION [MIN_SNR_DB]]\n");
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
  if (best_r > min_corr && snr > min_snr)
    return 0;
  printf ("align: mismatch (want correlation > %g and SNR > %g dB)\n", min_corr, min_snr);
  return 1;
}
