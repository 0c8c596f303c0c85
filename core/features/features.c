/* RsFeatures: Kaldi's MFCC and filter banks, streaming. See
 * rnnstream/features.h for the contract.
 *
 * Input. Samples are kept in one linear buffer covering the absolute
 * sample indices [buf_start, buf_start + buf_n). Frames are computed when
 * popped, straight from the buffer when the frame lies inside the signal,
 * else from a copy with Kaldi's reflection at the edges. Samples no frame
 * still to come can read are dropped by moving the rest to the front of
 * the buffer when it is full (at most one frame's worth, every
 * FRAMES_PER_BUFFER frames or so).
 *
 * Per frame, following feature-window.cc (ExtractWindow, ProcessWindow),
 * feature-mfcc.cc and feature-fbank.cc, all in float as Kaldi computes:
 *
 *   x      the frame's samples (dither was added when they arrived)
 *   x     -= sum(x) / length                         remove-dc-offset
 *   E      = log(max(sum x^2, FLT_EPSILON))           raw-energy
 *   y[i]   = (x[i] - c x[i-1]) w[i], x[-1] := x[0]    pre-emphasis, window
 *   E      = log(max(sum y^2, FLT_EPSILON))           !raw-energy
 *   Y      = FFT(y zero-padded to `padded`)           FFTW r2c
 *   P[k]   = |Y[k]|^2  (fbank, !use-power: |Y[k]|)
 *   M[b]   = sum_k weight_b[k] P[k]                   mel banks
 *   M[b]   = log(max(M[b], FLT_EPSILON))              mfcc, or use-log-fbank
 *   mfcc:  c = lifter .* (DCT M), c[0] = E if use-energy
 *   fbank: [E,] M
 *
 * with E floored at log(energy-floor) when energy-floor > 0.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include <fftw3.h>

#include <rnnstream/error.h>
#include <rnnstream/features.h>

#include "fftw-planner.h"
#include "mel-banks.h"
#include "vec4.h"

/* The sample buffer holds one frame plus this many shifts (but no more
 * than MAX_EXTRA_SAMPLES beyond the frame), so that a caller offering
 * large blocks gets through that many frames per accept call, and
 * compaction moves one frame's samples that often. */
#define FRAMES_PER_BUFFER 32
#define MAX_EXTRA_SAMPLES 65536

struct RsFeatures {
  RsFeatureOptions opts;
  guint length;              /* samples per frame */
  guint shift;               /* samples between frames */
  guint padded;              /* FFT length */
  guint dim;

  /* Per-frame tables, fixed at creation. */
  float *window;             /* length */
  RsMelBanks *banks;
  float *dct;                /* num_mel_bins x dct_stride, transposed (mfcc) */
  guint dct_stride;          /* num_ceps rounded up to a multiple of 16 */
  float *lifter;             /* num_ceps, NULL when cepstral-lifter is 0 */
  float log_energy_floor;    /* used when energy-floor > 0 */

  /* Per-frame work space. */
  float *frame;              /* length: reflected or DC-free samples */
  float *fft_in;             /* padded, zero beyond length; fftwf_malloc */
  fftwf_complex *fft_out;    /* padded / 2 + 1; fftwf_malloc */
  float *spectrum;           /* padded / 2 + 1, and 3 floats of zeros */
  float *mel;                /* num_mel_bins */
  float *cep;                /* dct_stride (mfcc) */
  fftwf_plan plan;

  /* Input. */
  float *buf;
  gsize capacity;            /* floats in buf */
  gint64 buf_start;          /* absolute index of buf[0] */
  gsize buf_n;               /* samples held */
  gint64 next_frame;         /* next frame to pop */
  gboolean finished;
  gint64 n_frames;           /* every frame of the signal, once finished */

  /* Dither: Box-Muller gives two Gaussians per uniform pair; the second
   * one (for the odd sample of the pair) is kept for the next sample. */
  gint64 dither_pair;        /* pair index of dither_spare, -1: none */
  float dither_spare;
};

/* ------------------------------------------------------------------------
 * Tables */

/* Kaldi's FeatureWindowFunction: computed in double, stored in float. */
static void
make_window (const RsFeatureOptions *opts, guint length, float *w)
{
  const double a = 2.0 * G_PI / (double) (length - 1);
  /* Kaldi's blackman_coeff is a BaseFloat. */
  const double blackman = (double) (float) opts->blackman_coeff;

  for (guint i = 0; i < length; i++) {
    const double x = a * (double) i;
    double v;

    switch (opts->window_type) {
    case RS_WINDOW_HANNING:
      v = 0.5 - 0.5 * cos (x);
      break;
    case RS_WINDOW_SINE:
      v = sin (0.5 * x);
      break;
    case RS_WINDOW_HAMMING:
      v = 0.54 - 0.46 * cos (x);
      break;
    case RS_WINDOW_RECTANGULAR:
      v = 1.0;
      break;
    case RS_WINDOW_BLACKMAN:
      v = blackman - 0.5 * cos (x) + (0.5 - blackman) * cos (2.0 * x);
      break;
    case RS_WINDOW_POVEY:
    default:
      /* Kaldi's default: Hann raised to 0.85, broader than Hann but,
       * unlike Hamming, zero at the edges. */
      v = pow (0.5 - 0.5 * cos (x), 0.85);
      break;
    }
    w[i] = (float) v;
  }
}

/* Kaldi's ComputeDctMatrix (a scaled type-II DCT, row 0 the mean) in
 * float, keeping the first num_ceps of num_bins rows:
 *   D[0][n] = sqrt(1 / N),  D[k][n] = sqrt(2 / N) cos(pi / N (n + 1/2) k).
 * Stored transposed with rows of `stride` >= num_ceps floats, zero beyond
 * num_ceps: dt[n * stride + k] = D[k][n] (see compute_frame). */
static void
make_dct (guint num_ceps, guint num_bins, guint stride, float *dt)
{
  const float n_f = (float) num_bins;
  const float norm0 = (float) sqrt (1.0 / (double) n_f);
  const float norm = (float) sqrt (2.0 / (double) n_f);

  memset (dt, 0, (gsize) num_bins * stride * sizeof (float));
  for (guint n = 0; n < num_bins; n++) {
    dt[n * stride] = norm0;
    for (guint k = 1; k < num_ceps; k++)
      dt[n * stride + k] =
        (float) ((double) norm * cos (G_PI / (double) num_bins * ((double) n + 0.5) *
                                      (double) k));
  }
}

/* Kaldi's ComputeLifterCoeffs: 1 + Q/2 sin(pi i / Q), Q a BaseFloat. */
static void
make_lifter (guint num_ceps, double q_in, float *l)
{
  const double q = (double) (float) q_in;

  for (guint i = 0; i < num_ceps; i++)
    l[i] = (float) (1.0 + 0.5 * q * sin (G_PI * (double) i / q));
}

/* ------------------------------------------------------------------------
 * Creation */

RsFeatures *
rs_features_new (const RsFeatureOptions *opts, GError **error)
{
  RsFeatures *f;
  guint n_bins;

  g_return_val_if_fail (opts != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!rs_feature_options_check (opts, error))
    return NULL;

  f = g_new0 (RsFeatures, 1);
  f->opts = *opts;
  f->length = rs_feature_options_frame_length (opts);
  f->shift = rs_feature_options_frame_shift (opts);
  f->padded = f->length;
  if (opts->round_to_power_of_two)
    for (f->padded = 1; f->padded < f->length; f->padded <<= 1)
      ;
  n_bins = opts->num_mel_bins;
  f->dim = opts->kind == RS_FEATURE_MFCC ? opts->num_ceps
                                         : n_bins + (opts->use_energy ? 1 : 0);

  f->window = g_new (float, f->length);
  make_window (opts, f->length, f->window);
  /* The options were checked: the banks cannot fail now. */
  f->banks = rs_mel_banks_new (n_bins, opts->sample_frequency, f->padded, opts->low_freq,
                               opts->high_freq, NULL);
  g_assert (f->banks != NULL);
  if (opts->kind == RS_FEATURE_MFCC) {
    f->dct_stride = (opts->num_ceps + 15) / 16 * 16;
    f->dct = g_new (float, (gsize) f->dct_stride * n_bins);
    make_dct (opts->num_ceps, n_bins, f->dct_stride, f->dct);
    f->cep = g_new (float, f->dct_stride);
    if (opts->cepstral_lifter != 0.0) {
      f->lifter = g_new (float, opts->num_ceps);
      make_lifter (opts->num_ceps, opts->cepstral_lifter, f->lifter);
    }
  }
  /* Kaldi: log_energy_floor_ = Log(energy_floor), a float log. */
  if (opts->energy_floor > 0.0)
    f->log_energy_floor = logf ((float) opts->energy_floor);

  f->frame = g_new (float, f->length);
  /* Three floats of slack after the Nyquist entry, read (with zero
   * weights) by the mel banks' last vector; zero, and never written. */
  f->spectrum = g_new0 (float, f->padded / 2 + 4);
  f->mel = g_new (float, n_bins);
  /* fftwf_malloc aligns for FFTW's SIMD codelets; the plan is made for and
   * always run on these very arrays, so it never depends on alignment. */
  f->fft_in = fftwf_malloc (sizeof (float) * f->padded);
  f->fft_out = fftwf_malloc (sizeof (fftwf_complex) * (f->padded / 2 + 1));
  if (f->fft_in == NULL || f->fft_out == NULL)
    g_error ("rs_features_new: out of memory for the FFT buffers");
  memset (f->fft_in, 0, sizeof (float) * f->padded);
  /* FFTW_ESTIMATE chooses the algorithm from the size alone, without
   * timing candidates, so every extractor with the same options computes
   * the same bits. FFTW_PRESERVE_INPUT keeps the zero padding intact.
   * (The interleaved output: FFTW's split-format r2c is twice as slow.) */
  rs_fftw_planner_lock ();
  f->plan = fftwf_plan_dft_r2c_1d ((int) f->padded, f->fft_in, f->fft_out,
                                   FFTW_ESTIMATE | FFTW_PRESERVE_INPUT);
  rs_fftw_planner_unlock ();
  if (f->plan == NULL)
    g_error ("rs_features_new: FFTW could not plan a %u-point real FFT", f->padded);

  /* Room for one frame and FRAMES_PER_BUFFER shifts after it, plus the
   * one sample before a frame that snip-edges=false's reflection at the
   * end may read (see first_needed_sample). One frame and that sample are
   * all that progress needs: a full buffer then always holds a whole frame
   * to pop. */
  f->capacity = (gsize) f->length + 1 +
                MIN ((gsize) FRAMES_PER_BUFFER * f->shift, (gsize) MAX_EXTRA_SAMPLES);
  f->buf = g_new (float, f->capacity);
  rs_features_reset (f);
  return f;
}

void
rs_features_free (RsFeatures *f)
{
  if (f == NULL)
    return;
  rs_fftw_planner_lock ();
  fftwf_destroy_plan (f->plan);
  rs_fftw_planner_unlock ();
  fftwf_free (f->fft_in);
  fftwf_free (f->fft_out);
  rs_mel_banks_free (f->banks);
  g_free (f->window);
  g_free (f->dct);
  g_free (f->cep);
  g_free (f->lifter);
  g_free (f->frame);
  g_free (f->spectrum);
  g_free (f->mel);
  g_free (f->buf);
  g_free (f);
}

const RsFeatureOptions *
rs_features_get_options (const RsFeatures *f)
{
  g_return_val_if_fail (f != NULL, NULL);
  return &f->opts;
}

guint
rs_features_dim (const RsFeatures *f)
{
  g_return_val_if_fail (f != NULL, 0);
  return f->dim;
}

gint64
rs_features_n_samples (const RsFeatures *f)
{
  g_return_val_if_fail (f != NULL, 0);
  return f->buf_start + (gint64) f->buf_n;
}

void
rs_features_reset (RsFeatures *f)
{
  g_return_if_fail (f != NULL);
  f->buf_start = 0;
  f->buf_n = 0;
  f->next_frame = 0;
  f->finished = FALSE;
  f->n_frames = 0;
  f->dither_pair = -1;
  f->dither_spare = 0.0f;
}

/* ------------------------------------------------------------------------
 * Framing */

/* Kaldi's FirstSampleOfFrame. */
static gint64
frame_start (const RsFeatures *f, gint64 frame)
{
  if (f->opts.snip_edges)
    return frame * f->shift;
  return frame * f->shift + (gint64) (f->shift / 2) - (gint64) (f->length / 2);
}

/* The first sample that frame or any later one can read. With
 * snip-edges=false the reflection at the end of the signal reads back to
 * 2 N - end >= start - 1 (the -1 for odd frame lengths; frames reaching
 * more than a frame past the end start before sample 0, and reflection
 * only ever reads samples 0 .. N-1). */
static gint64
first_needed_sample (const RsFeatures *f, gint64 frame)
{
  gint64 s = frame_start (f, frame);

  if (!f->opts.snip_edges)
    s -= 1;
  return s < 0 ? 0 : s;
}

static gboolean
frame_ready (const RsFeatures *f, gint64 frame)
{
  if (f->finished)
    return frame < f->n_frames;
  return frame_start (f, frame) + f->length <= f->buf_start + (gint64) f->buf_n;
}

/* Splitmix64's finaliser: a bijective mix of 64 bits, good enough that
 * consecutive counters give independent-looking outputs. */
static guint64
mix64 (guint64 z)
{
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* A standard Gaussian for absolute sample index i: Box-Muller on two
 * 32-bit uniforms from a hash of (seed, i / 2), the cosine branch for
 * even i and the sine branch for odd i. A pure function of (seed, i), so
 * the dither is the same however the samples arrive. */
static float
dither_gauss (RsFeatures *f, gint64 i)
{
  const gint64 pair = i / 2;
  guint64 h;
  float u1, u2, r, theta;

  if ((i & 1) && pair == f->dither_pair)
    return f->dither_spare;
  h = mix64 (mix64 (f->opts.dither_seed + G_GUINT64_CONSTANT (0x9e3779b97f4a7c15)) ^
             (guint64) pair);
  /* u1 in (0, 1] so that the log is finite; u2 in [0, 1). */
  u1 = (float) ((double) ((h >> 32) + 1) * (1.0 / 4294967296.0));
  u2 = (float) ((double) (h & 0xffffffffu) * (1.0 / 4294967296.0));
  r = sqrtf (-2.0f * logf (u1));
  theta = (float) (2.0 * G_PI) * u2;
  f->dither_pair = pair;
  f->dither_spare = r * sinf (theta);
  return (i & 1) ? f->dither_spare : r * cosf (theta);
}

gsize
rs_features_accept (RsFeatures *f, const float *samples, gsize n)
{
  gint64 received, keep;
  gsize taken = 0, room, count;

  g_return_val_if_fail (f != NULL, 0);
  g_return_val_if_fail (samples != NULL || n == 0, 0);
  g_return_val_if_fail (!f->finished, 0);

  received = f->buf_start + (gint64) f->buf_n;
  keep = first_needed_sample (f, f->next_frame);

  /* Samples before `keep` are read by no frame still to come (only
   * possible when frames do not overlap): skip them. */
  if (received < keep) {
    gint64 skip = MIN ((gint64) n, keep - received);

    f->buf_start = received + skip;
    f->buf_n = 0;
    taken = (gsize) skip;
    received = f->buf_start;
  }
  if (taken == n)
    return taken;

  room = f->capacity - f->buf_n;
  if (room < n - taken && keep > f->buf_start) {
    const gsize drop = (gsize) (keep - f->buf_start);

    memmove (f->buf, f->buf + drop, (f->buf_n - drop) * sizeof (float));
    f->buf_start = keep;
    f->buf_n -= drop;
    room = f->capacity - f->buf_n;
  }

  count = MIN (room, n - taken);
  if (f->opts.dither > 0.0) {
    const float dither = (float) f->opts.dither;

    for (gsize j = 0; j < count; j++)
      f->buf[f->buf_n + j] =
        samples[taken + j] + dither * dither_gauss (f, received + (gint64) j);
  } else {
    memcpy (f->buf + f->buf_n, samples + taken, count * sizeof (float));
  }
  f->buf_n += count;
  return taken + count;
}

void
rs_features_finish (RsFeatures *f)
{
  g_return_if_fail (f != NULL);
  if (f->finished)
    return;
  f->finished = TRUE;
  f->n_frames = rs_feature_options_n_frames (&f->opts, f->buf_start + (gint64) f->buf_n);
}

/* ------------------------------------------------------------------------
 * One frame */

/* Sums in sixteen interleaved partial sums (four vectors, so four
 * independent chains of adds rather than one chain of 400), then a scalar
 * tail: a fixed order, so the same bits for every frame wherever it
 * comes from. */
static float
sum_of (const float *x, guint n)
{
  RsVec4 a = rs_vec4_splat (0.0f), b = a, c = a, d = a;
  float tail = 0.0f;
  guint i = 0;

  for (; i + 16 <= n; i += 16) {
    a += rs_vec4_load (x + i);
    b += rs_vec4_load (x + i + 4);
    c += rs_vec4_load (x + i + 8);
    d += rs_vec4_load (x + i + 12);
  }
  for (; i + 4 <= n; i += 4)
    a += rs_vec4_load (x + i);
  for (; i < n; i++)
    tail += x[i];
  return rs_vec4_sum ((a + c) + (b + d)) + tail;
}

static float
sum_of_squares (const float *x, guint n)
{
  RsVec4 a = rs_vec4_splat (0.0f), b = a, c = a, d = a;
  float tail = 0.0f;
  guint i = 0;

  for (; i + 16 <= n; i += 16) {
    const RsVec4 u = rs_vec4_load (x + i), v = rs_vec4_load (x + i + 4);
    const RsVec4 w = rs_vec4_load (x + i + 8), z = rs_vec4_load (x + i + 12);

    a += u * u;
    b += v * v;
    c += w * w;
    d += z * z;
  }
  for (; i + 4 <= n; i += 4) {
    const RsVec4 u = rs_vec4_load (x + i);

    a += u * u;
  }
  for (; i < n; i++)
    tail += x[i] * x[i];
  return rs_vec4_sum ((a + c) + (b + d)) + tail;
}

static float
log_energy (const RsFeatures *f, float energy)
{
  float e = logf (MAX (energy, FLT_EPSILON));

  if (f->opts.energy_floor > 0.0 && e < f->log_energy_floor)
    e = f->log_energy_floor;
  return e;
}

/* The features of one frame of f->length samples at x. */
static void
compute_frame (RsFeatures *f, const float *x, float *out)
{
  const RsFeatureOptions *o = &f->opts;
  const guint n = f->length;
  const guint n_bins = o->num_mel_bins;
  const float c = (float) o->preemphasis_coefficient;
  const float *w = f->window;
  float *y = f->fft_in;
  float energy = 0.0f;
  float *mel = o->kind == RS_FEATURE_FBANK ? out + (o->use_energy ? 1 : 0) : f->mel;

  if (o->remove_dc_offset) {
    /* Kaldi: window->Add(-window->Sum() / frame_length), in float. x may
     * already be f->frame (a reflected frame): element-wise in place. */
    const float mean = sum_of (x, n) / (float) n;
    const RsVec4 mean4 = rs_vec4_splat (mean);
    float *d = f->frame;
    guint i = 0;

    for (; i + 4 <= n; i += 4)
      rs_vec4_store (d + i, rs_vec4_load (x + i) - mean4);
    for (; i < n; i++)
      d[i] = x[i] - mean;
    x = d;
  }
  if (o->use_energy && o->raw_energy)
    energy = log_energy (f, sum_of_squares (x, n));

  /* Kaldi's Preemphasize runs backwards in place, so every x[i-1] it
   * reads is still the original; x[0] is pre-emphasised against itself. */
  {
    const RsVec4 c4 = rs_vec4_splat (c);
    guint i = 1;

    y[0] = (x[0] - c * x[0]) * w[0];
    for (; i + 4 <= n; i += 4)
      rs_vec4_store (y + i, (rs_vec4_load (x + i) - c4 * rs_vec4_load (x + i - 1)) *
                              rs_vec4_load (w + i));
    for (; i < n; i++)
      y[i] = (x[i] - c * x[i - 1]) * w[i];
  }

  if (o->use_energy && !o->raw_energy)
    energy = log_energy (f, sum_of_squares (y, n));

  fftwf_execute (f->plan);

  {
    const guint half = f->padded / 2;
    /* fftwf_complex is float[2]: real, imaginary. */
    const float *z = (const float *) f->fft_out;
    float *p = f->spectrum;
    guint k = 0;

    for (; k + 4 <= half + 1; k += 4)
      rs_vec4_store (p + k, rs_vec4_norm2_interleaved (rs_vec4_load (z + 2 * k),
                                                       rs_vec4_load (z + 2 * k + 4)));
    for (; k <= half; k++)
      p[k] = z[2 * k] * z[2 * k] + z[2 * k + 1] * z[2 * k + 1];
    if (o->kind == RS_FEATURE_FBANK && !o->use_power)
      for (guint k = 0; k <= half; k++)
        p[k] = sqrtf (p[k]);
  }

  rs_mel_banks_apply (f->banks, f->spectrum, mel);
  if (o->kind == RS_FEATURE_MFCC || o->use_log_fbank)
    for (guint b = 0; b < n_bins; b++)
      mel[b] = logf (MAX (mel[b], FLT_EPSILON));

  if (o->kind == RS_FEATURE_FBANK) {
    /* Kaldi puts the energy first (last only with htk-compat). */
    if (o->use_energy)
      out[0] = energy;
    return;
  }

  /* c = D log(M): every coefficient summed over the bins in increasing
   * order, as a plain matrix-vector product would, but all coefficients
   * advance together (one bin per step) so that the sums are independent
   * and vectorise, rather than num_ceps chains of num_bins dependent
   * adds. */
  {
    const guint stride = f->dct_stride;

    for (guint k = 0; k < stride; k += 16) {
      RsVec4 a0 = rs_vec4_splat (0.0f), a1 = a0, a2 = a0, a3 = a0;

      for (guint b = 0; b < n_bins; b++) {
        const float *d = f->dct + (gsize) b * stride + k;
        const RsVec4 m = rs_vec4_splat (mel[b]);

        a0 += rs_vec4_load (d) * m;
        a1 += rs_vec4_load (d + 4) * m;
        a2 += rs_vec4_load (d + 8) * m;
        a3 += rs_vec4_load (d + 12) * m;
      }
      rs_vec4_store (f->cep + k, a0);
      rs_vec4_store (f->cep + k + 4, a1);
      rs_vec4_store (f->cep + k + 8, a2);
      rs_vec4_store (f->cep + k + 12, a3);
    }
    for (guint k = 0; k < o->num_ceps; k++)
      out[k] = f->lifter != NULL ? f->cep[k] * f->lifter[k] : f->cep[k];
  }
  /* Kaldi replaces C0 by the log energy (rather than adding a column). */
  if (o->use_energy)
    out[0] = energy;
}

gboolean
rs_features_pop (RsFeatures *f, float *out, gint64 *index)
{
  gint64 start, end, n_signal;
  const float *x;

  g_return_val_if_fail (f != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (!frame_ready (f, f->next_frame))
    return FALSE;

  start = frame_start (f, f->next_frame);
  end = start + f->length;
  n_signal = f->buf_start + (gint64) f->buf_n;
  if (start >= f->buf_start && end <= n_signal) {
    x = f->buf + (start - f->buf_start);
  } else {
    /* Kaldi's ExtractWindow at the edges (snip-edges=false): reflect
     * around the ends, -1 -> 0, -2 -> 1, N -> N-1, N+1 -> N-2, repeatedly
     * for signals shorter than a frame. Before finish only the start can
     * need it, and n_signal is then beyond everything the frame reads. */
    for (guint s = 0; s < f->length; s++) {
      gint64 i = start + s;

      while (i < 0 || i >= n_signal)
        i = i < 0 ? -i - 1 : 2 * n_signal - 1 - i;
      g_assert (i >= f->buf_start);
      f->frame[s] = f->buf[i - f->buf_start];
    }
    x = f->frame;
  }
  compute_frame (f, x, out);
  if (index != NULL)
    *index = f->next_frame;
  f->next_frame++;
  return TRUE;
}
