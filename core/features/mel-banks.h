/* Kaldi's triangular mel filter banks (mel-computations.cc, MelBanks),
 * without VTLN warping. Internal to the library.
 *
 * Bin b is a triangle on the mel scale mel(f) = 1127 ln(1 + f / 700),
 * rising from 0 at left_b to 1 at center_b and falling to 0 at right_b,
 * the num_bins + 2 edges evenly spaced in mel between low_freq and
 * high_freq. It weighs the FFT bins k = 0 .. padded/2 - 1 (the Nyquist bin
 * never takes part, as in Kaldi) whose centre k * fs / padded lies strictly
 * inside (left_b, right_b). Everything is computed in single precision, in
 * Kaldi's order of operations, so the weights are Kaldi's to the bit.
 */
#ifndef RS_FEATURES_MEL_BANKS_H
#define RS_FEATURES_MEL_BANKS_H

#include <glib.h>

typedef struct RsMelBanks RsMelBanks;

/* The banks for an FFT of padded_length (even) points at sample_frequency.
 * high_freq <= 0 is an offset from the Nyquist frequency. Fails with
 * RS_ERROR_FAILED when the frequencies are out of order or beyond Nyquist,
 * when num_bins < 3, or when a bin covers no FFT bin (too many bins for
 * the FFT's resolution, which Kaldi also refuses). */
RsMelBanks *rs_mel_banks_new (guint num_bins, double sample_frequency, guint padded_length,
                              double low_freq, double high_freq, GError **error);
void rs_mel_banks_free (RsMelBanks *banks);

guint rs_mel_banks_n_bins (const RsMelBanks *banks);

/* out[b] = sum_k weight_b[k] * spectrum[k], for every bin b. spectrum must
 * hold padded_length / 2 + 4 floats, finite: each bin is read in whole
 * vectors of four, up to three entries past its last FFT bin, with zero
 * weights there (the last bins read up to three floats past the Nyquist
 * entry). Summed in a fixed order (four interleaved partial sums), the
 * same for every frame. */
void rs_mel_banks_apply (const RsMelBanks *banks, const float *spectrum, float *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsMelBanks, rs_mel_banks_free)

#endif
