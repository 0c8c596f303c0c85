/* Kaldi-compatible MFCC and filter-bank features over a stream of samples.
 *
 * The numbers are those of Kaldi's compute-mfcc-feats and
 * compute-fbank-feats (feature-window.cc, mel-computations.cc,
 * feature-mfcc.cc, feature-fbank.cc) for the same options, computed in
 * single precision as Kaldi does: per frame, dither, DC removal, raw log
 * energy, pre-emphasis, window, zero padding, real FFT (FFTW), power
 * spectrum, triangular mel banks, log, and for MFCC a DCT, liftering and
 * the energy in place of C0. The tests hold rnnstream to torchaudio's
 * kaldi-compliance functions within 1e-3 (filter banks) and 2e-3 (MFCC).
 *
 * Options use Kaldi's names and defaults (RsFeatureOptions below) with
 * three exceptions: the sample frequency has no default (it comes from the
 * audio), dither defaults to 0 rather than 1 (so that features are
 * reproducible) and the dither noise is ours:
 *
 * Dither (dither > 0) adds dither * g to every sample, g a standard
 * Gaussian made by Box-Muller from a counter-based hash of dither_seed and
 * the sample's index since the start of the signal. It therefore depends
 * neither on how the input is split nor on any state, and the same seed
 * gives the same features. Kaldi instead draws fresh noise for each frame
 * from a random generator, so a sample shared by overlapping frames gets
 * different noise in each; both add white Gaussian noise of the same
 * variance to every frame, but the numbers differ.
 *
 * Streaming. Samples go in with rs_features_accept in blocks of any size,
 * frames come out with rs_features_pop, one at a time, in order. A frame is
 * ready as soon as all of its samples have arrived; with snip-edges=false
 * the last few frames reach past the end of the signal (Kaldi reflects the
 * signal there), so they are ready only after rs_features_finish. Frame i
 * starts at sample i * shift (snip-edges=true) or i * shift + shift / 2 -
 * length / 2 (snip-edges=false), i.e. its time is i * frame-shift.
 *
 * The features are bit-identical however the samples are split into
 * accept calls: every frame is computed by the same code from the same
 * samples, and the dither depends only on the sample's position.
 *
 * Memory is constant: an extractor keeps only the samples later frames
 * still need, in a buffer of one frame plus 32 shifts (about a third of a
 * second with the defaults), never the whole input.
 * That is why accept may take fewer samples than offered: it stops when its
 * buffer is full of samples for frames not yet popped. The loop is
 *
 *   while (n > 0) {
 *     gsize used = rs_features_accept (f, samples, n);
 *     samples += used;
 *     n -= used;
 *     while (rs_features_pop (f, frame, &index))
 *       consume (frame, index);
 *   }
 *   rs_features_finish (f);
 *   while (rs_features_pop (f, frame, &index))
 *     consume (frame, index);
 *
 * All memory is allocated by rs_features_new; accept, pop, finish and
 * reset allocate nothing, take no lock and do no I/O. One extractor must
 * not be used from two threads at once; different extractors may run in
 * parallel (FFTW plans are made under a global lock, and executing them is
 * thread-safe).
 */
#ifndef RS_FEATURES_H
#define RS_FEATURES_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

typedef enum {
  RS_FEATURE_MFCC,        /* compute-mfcc-feats */
  RS_FEATURE_FBANK        /* compute-fbank-feats */
} RsFeatureKind;

/* Kaldi's --window-type values, named as Kaldi names them. */
typedef enum {
  RS_WINDOW_POVEY,        /* "povey": (0.5 - 0.5 cos(2 pi n / (N - 1)))^0.85 */
  RS_WINDOW_HAMMING,      /* "hamming" */
  RS_WINDOW_HANNING,      /* "hanning" */
  RS_WINDOW_RECTANGULAR,  /* "rectangular" */
  RS_WINDOW_SINE,         /* "sine" */
  RS_WINDOW_BLACKMAN      /* "blackman", with blackman_coeff */
} RsWindowType;

/* The options, one field per Kaldi option (its name in the comment).
 * Plain data: copy it freely. Frequencies in Hz, times in milliseconds. */
typedef struct RsFeatureOptions {
  RsFeatureKind kind;
  double sample_frequency;        /* --sample-frequency; no default, > 0 */
  double frame_length_ms;         /* --frame-length, 25 */
  double frame_shift_ms;          /* --frame-shift, 10 */
  double dither;                  /* --dither, 0 here (Kaldi: 1); >= 0 */
  guint64 dither_seed;            /* --dither-seed, 0; rnnstream only */
  double preemphasis_coefficient; /* --preemphasis-coefficient, 0.97; 0..1 */
  gboolean remove_dc_offset;      /* --remove-dc-offset, true */
  RsWindowType window_type;       /* --window-type, povey */
  double blackman_coeff;          /* --blackman-coeff, 0.42 */
  gboolean round_to_power_of_two; /* --round-to-power-of-two, true */
  gboolean snip_edges;            /* --snip-edges, true */
  guint num_mel_bins;             /* --num-mel-bins, 23; >= 3 */
  double low_freq;                /* --low-freq, 20 */
  double high_freq;               /* --high-freq, 0; <= 0: offset from Nyquist */
  gboolean use_energy;            /* --use-energy, true (mfcc), false (fbank) */
  gboolean raw_energy;            /* --raw-energy, true */
  double energy_floor;            /* --energy-floor, 0; > 0: floor log energy at log(floor) */
  guint num_ceps;                 /* --num-ceps, 13 (mfcc only); 1..num_mel_bins */
  double cepstral_lifter;         /* --cepstral-lifter, 22 (mfcc only); 0: none */
  gboolean use_log_fbank;         /* --use-log-fbank, true (fbank only) */
  gboolean use_power;             /* --use-power, true (fbank only) */
} RsFeatureOptions;

/* Sets every option to its default for kind at sample_frequency. */
RS_API void rs_feature_options_init (RsFeatureOptions *opts, RsFeatureKind kind,
                                     double sample_frequency);

/* Applies Kaldi command-line options, "--name=value", in order, to opts.
 * args holds n_args strings, or is NULL-terminated when n_args is -1.
 * Names may use '_' for '-' and any case, as Kaldi allows; a boolean
 * option alone ("--snip-edges") means true, and booleans also accept
 * Kaldi's t/f/1/0. Options of the other kind (--num-ceps for fbank,
 * --use-power for mfcc) and unknown names are errors, as in Kaldi's
 * programs. Values are checked for their type and range only: call
 * rs_feature_options_check for the combination.
 *
 * Returns FALSE with RS_ERROR_PARSE, naming the option and the expected
 * type ("--num-ceps=abc: expected an integer"); opts may then hold the
 * options before the bad one. */
RS_API gboolean rs_feature_options_parse (RsFeatureOptions *opts, const char *const *args,
                                          gssize n_args, GError **error);

/* As rs_feature_options_parse, on options separated by white space
 * ("--num-ceps=20 --cepstral-lifter=0"). NULL or "" changes nothing. */
RS_API gboolean rs_feature_options_parse_string (RsFeatureOptions *opts, const char *text,
                                                 GError **error);

/* Checks that the options make an extractor, as Kaldi would: a window of
 * at least 2 samples and a shift of at least 1, an even FFT length, 0 <=
 * low-freq < high-freq <= Nyquist, at least 3 mel bins and none of them
 * empty (too many bins for the FFT resolution), num-ceps <= num-mel-bins.
 * Returns FALSE with RS_ERROR_FAILED and a message naming the options. */
RS_API gboolean rs_feature_options_check (const RsFeatureOptions *opts, GError **error);

/* The options as Kaldi command-line text, every option spelled out
 * (without --sample-frequency, which the audio decides). Free with g_free. */
RS_API char *rs_feature_options_to_string (const RsFeatureOptions *opts);

/* Frame geometry in samples, as Kaldi computes it (truncating
 * sample_frequency * 0.001 * milliseconds). */
RS_API guint rs_feature_options_frame_length (const RsFeatureOptions *opts);
RS_API guint rs_feature_options_frame_shift (const RsFeatureOptions *opts);

/* The number of frames a signal of n_samples gives (Kaldi's NumFrames):
 * snip-edges=true: n < length ? 0 : 1 + (n - length) / shift;
 * snip-edges=false: (n + shift / 2) / shift. */
RS_API gint64 rs_feature_options_n_frames (const RsFeatureOptions *opts, gint64 n_samples);

typedef struct RsFeatures RsFeatures;

/* A new extractor for opts (copied). Returns NULL with error when the
 * options fail rs_feature_options_check. Free with rs_features_free. */
RS_API RsFeatures *rs_features_new (const RsFeatureOptions *opts, GError **error);
RS_API void rs_features_free (RsFeatures *features);

/* The options the extractor was made with; lives as long as it. */
RS_API const RsFeatureOptions *rs_features_get_options (const RsFeatures *features);

/* Floats per frame: num_ceps (mfcc), or num_mel_bins plus one when
 * use_energy (fbank; the energy is then column 0, as in Kaldi). */
RS_API guint rs_features_dim (const RsFeatures *features);

/* Takes up to n samples (Kaldi's scale: 16-bit integer values as floats)
 * and returns how many it took: all of them, unless its buffer fills with
 * samples of frames not yet popped (pop, then offer the rest). Returns 0
 * when nothing fits. Must not be called after rs_features_finish (until
 * rs_features_reset). Samples are expected finite and in that scale: a
 * spectrum beyond the float range (samples around 1e17) gives NaN, where
 * Kaldi would give infinities. */
RS_API gsize rs_features_accept (RsFeatures *features, const float *samples, gsize n);

/* Writes the next frame into frame (rs_features_dim floats) and its index
 * into *index (may be NULL), and returns TRUE; returns FALSE, writing
 * nothing, when the next frame still needs samples (or, after finish, when
 * every frame has been popped). */
RS_API gboolean rs_features_pop (RsFeatures *features, float *frame, gint64 *index);

/* Marks the end of the input: the remaining frames, including those
 * snip-edges=false reflects at the end, become ready. Calling it again
 * does nothing. */
RS_API void rs_features_finish (RsFeatures *features);

/* Forgets all input: the next sample is sample 0 of a new signal (the
 * dither starts again too). */
RS_API void rs_features_reset (RsFeatures *features);

/* Samples taken since creation or reset. */
RS_API gint64 rs_features_n_samples (const RsFeatures *features);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsFeatures, rs_features_free)

G_END_DECLS

#endif
