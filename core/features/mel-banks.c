/* Kaldi's mel filter banks; see mel-banks.h. */
#include "mel-banks.h"

#include <math.h>

#include <rnnstream/error.h>

#include "vec4.h"

struct RsMelBanks {
  guint n_bins;
  guint *first;       /* first FFT bin of each mel bin */
  guint *length;      /* FFT bins it covers, rounded up to a multiple of 4 */
  guint *offset;      /* where its weights start in weights */
  float *weights;     /* zero beyond each bin's last FFT bin */
};

/* Kaldi's MelBanks::MelScale, in float: 1127 ln(1 + f / 700). */
static float
mel_scale (float freq)
{
  return 1127.0f * logf (1.0f + freq / 700.0f);
}

RsMelBanks *
rs_mel_banks_new (guint num_bins, double sample_frequency, guint padded_length,
                  double low_freq, double high_freq, GError **error)
{
  g_autoptr (RsMelBanks) banks = NULL;
  g_autofree float *row = NULL;
  const guint n_fft_bins = padded_length / 2;
  float fs, nyquist, low, high, bin_width, mel_low, mel_high, mel_delta;
  gsize n_weights = 0;

  g_return_val_if_fail (padded_length >= 2 && padded_length % 2 == 0, NULL);

  if (num_bins < 3) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                 "--num-mel-bins=%u: must have at least 3 mel bins", num_bins);
    return NULL;
  }
  /* Every FFT bin lies in at most two triangles, so more than twice as
   * many mel bins as FFT bins leaves some empty; saying so now spares
   * allocating tables for absurd counts. */
  if (num_bins > 2 * n_fft_bins) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                 "--num-mel-bins=%u: too many mel bins for a %u-point FFT", num_bins,
                 padded_length);
    return NULL;
  }

  /* Kaldi keeps its options in BaseFloat and does all of this in float. */
  fs = (float) sample_frequency;
  nyquist = 0.5f * fs;
  low = (float) low_freq;
  high = high_freq > 0.0 ? (float) high_freq : nyquist + (float) high_freq;
  if (!(low >= 0.0f && low < nyquist && high > 0.0f && high <= nyquist && high > low)) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                 "--low-freq=%g and --high-freq=%g give the band %g Hz to %g Hz, which is "
                 "not inside 0 to %g Hz (the Nyquist frequency) or is empty",
                 low_freq, high_freq, (double) low, (double) high, (double) nyquist);
    return NULL;
  }

  bin_width = fs / (float) padded_length;
  mel_low = mel_scale (low);
  mel_high = mel_scale (high);
  /* num_bins + 1 intervals: the outer bins spread half a bin beyond the
   * centres of the first and last triangles. */
  mel_delta = (mel_high - mel_low) / (float) (num_bins + 1);

  banks = g_new0 (RsMelBanks, 1);
  banks->n_bins = num_bins;
  banks->first = g_new (guint, num_bins);
  banks->length = g_new (guint, num_bins);
  banks->offset = g_new (guint, num_bins);
  /* Every FFT bin lies in at most two triangles; each bin is padded with
   * up to 3 zero weights. */
  banks->weights = g_new0 (float, 2 * (gsize) n_fft_bins + 3 * (gsize) num_bins);
  row = g_new (float, n_fft_bins);

  for (guint b = 0; b < num_bins; b++) {
    const float left = mel_low + (float) b * mel_delta;
    const float center = mel_low + (float) (b + 1) * mel_delta;
    const float right = mel_low + (float) (b + 2) * mel_delta;
    gint64 first = -1, last = -1;

    for (guint k = 0; k < n_fft_bins; k++) {
      const float mel = mel_scale (bin_width * (float) k);

      /* Strict at both ends, as in Kaldi: an FFT bin exactly on an edge
       * has weight 0 and does not count as covered. */
      if (mel > left && mel < right) {
        row[k] = mel <= center ? (mel - left) / (center - left)
                               : (right - mel) / (right - center);
        if (first < 0)
          first = k;
        last = k;
      }
    }
    if (first < 0) {
      g_set_error (error, RS_ERROR, RS_ERROR_FAILED,
                   "mel bin %u of --num-mel-bins=%u covers no FFT bin: too many mel bins "
                   "for a %u-point FFT (%g Hz per bin) between %g Hz and %g Hz",
                   b, num_bins, padded_length, (double) bin_width, (double) low,
                   (double) high);
      return NULL;
    }
    banks->first[b] = (guint) first;
    banks->length[b] = (guint) (last - first + 1 + 3) / 4 * 4;
    banks->offset[b] = (guint) n_weights;
    for (gint64 k = first; k <= last; k++)
      banks->weights[n_weights++] = row[k];
    /* The padding weights stay zero. */
    n_weights = banks->offset[b] + banks->length[b];
  }
  return g_steal_pointer (&banks);
}

void
rs_mel_banks_free (RsMelBanks *banks)
{
  if (banks == NULL)
    return;
  g_free (banks->first);
  g_free (banks->length);
  g_free (banks->offset);
  g_free (banks->weights);
  g_free (banks);
}

guint
rs_mel_banks_n_bins (const RsMelBanks *banks)
{
  return banks->n_bins;
}

void
rs_mel_banks_apply (const RsMelBanks *banks, const float *spectrum, float *out)
{
  for (guint b = 0; b < banks->n_bins; b++) {
    const float *w = banks->weights + banks->offset[b];
    const float *s = spectrum + banks->first[b];
    const guint n = banks->length[b];
    RsVec4 acc = rs_vec4_splat (0.0f);

    /* Four interleaved partial sums, as a BLAS sdot (Kaldi's VecVec)
     * would keep them: one sequential sum would be a chain of dependent
     * adds as long as the bin, which costs more than the FFT. The weights
     * are padded with zeros to whole vectors, so there is no scalar tail
     * (each padding weight adds exactly zero). The order is fixed, so
     * every frame is summed alike. */
    for (guint k = 0; k < n; k += 4)
      acc += rs_vec4_load (w + k) * rs_vec4_load (s + k);
    out[b] = rs_vec4_sum (acc);
  }
}
