/* The resampler: a tone keeps its frequency and amplitude, comes out with
 * no delay and the promised length, and the output does not depend on how
 * the input and output are split. */
#include <math.h>
#include <string.h>

#include <rnnstream/resampler.h>

/* Stated tolerances (the measured values are far inside them; see
 * bench/README.md): amplitude within 0.1% (0.01 dB) in the passband,
 * delay within 0.01 output samples, peak within one DFT bin. */
#define AMPLITUDE_TOLERANCE 1e-3
#define DELAY_TOLERANCE 0.01

/* Resamples all of in, feeding blocks of in_block (0: pseudo-random sizes)
 * and offering out_room samples of output per call; returns the output. */
static GArray *
resample (int in_rate, int out_rate, const float *in, gsize n, gsize in_block, gsize out_room)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsResampler) r = rs_resampler_new (in_rate, out_rate, &error);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (float));
  g_autofree float *buf = g_new (float, out_room);
  guint32 rnd = 99;
  gsize pos = 0, written;

  g_assert_no_error (error);
  while (pos < n) {
    gsize want = in_block, used;

    if (want == 0) {
      rnd = rnd * 1664525u + 1013904223u;
      want = 1 + (rnd >> 8) % 1500;
    }
    want = MIN (want, n - pos);
    g_assert_true (rs_resampler_process (r, in + pos, want, &used, buf, out_room, &written,
                                         &error));
    g_assert_no_error (error);
    /* Input is left over only when the output room is used up. */
    g_assert_true (used == want || written == out_room);
    g_array_append_vals (out, buf, (guint) written);
    pos += used;
  }
  do {
    g_assert_true (rs_resampler_flush (r, buf, out_room, &written, &error));
    g_assert_no_error (error);
    g_array_append_vals (out, buf, (guint) written);
  } while (written > 0);
  return out;
}

static float *
make_tone (double hz, double amplitude, int rate, gsize n)
{
  float *x = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    x[i] = (float) (amplitude * sin (2.0 * G_PI * hz * (double) i / rate));
  return x;
}

/* Least squares a sin (w i) + b cos (w i) over y[from, to): amplitude and
 * the phase of the sine relative to sin (w i). */
static void
fit_tone (const float *y, gsize from, gsize to, double w, double *amplitude, double *phase)
{
  double ss = 0, cc = 0, sc = 0, ys = 0, yc = 0, det, a, b;

  for (gsize i = from; i < to; i++) {
    const double s = sin (w * (double) i), c = cos (w * (double) i);

    ss += s * s;
    cc += c * c;
    sc += s * c;
    ys += y[i] * s;
    yc += y[i] * c;
  }
  det = ss * cc - sc * sc;
  a = (ys * cc - yc * sc) / det;
  b = (yc * ss - ys * sc) / det;
  *amplitude = hypot (a, b);
  *phase = atan2 (b, a);
}

/* The bin of the largest Hann-windowed DFT magnitude over n samples. */
static gsize
peak_bin (const float *y, gsize n)
{
  gsize best = 0;
  double best_mag = -1;

  for (gsize k = 1; k < n / 2; k++) {
    double re = 0, im = 0;

    for (gsize i = 0; i < n; i++) {
      const double w = 0.5 - 0.5 * cos (2.0 * G_PI * (double) i / (double) n);
      const double angle = 2.0 * G_PI * (double) k * (double) i / (double) n;

      re += w * y[i] * cos (angle);
      im -= w * y[i] * sin (angle);
    }
    if (re * re + im * im > best_mag) {
      best_mag = re * re + im * im;
      best = k;
    }
  }
  return best;
}

typedef struct {
  int in_rate, out_rate;
  double hz;
} ToneCase;

static void
test_tone (gconstpointer data)
{
  const ToneCase *tc = data;
  const gsize n = (gsize) tc->in_rate * 2;
  const double amplitude = 10000.0;     /* Kaldi scale: about -10 dBFS */
  const double w = 2.0 * G_PI * tc->hz / tc->out_rate;
  const gsize dft_n = 2048;
  g_autofree float *x = make_tone (tc->hz, amplitude, tc->in_rate, n);
  g_autoptr (RsResampler) r = rs_resampler_new (tc->in_rate, tc->out_rate, NULL);
  g_autoptr (GArray) y = resample (tc->in_rate, tc->out_rate, x, n, 1000, 4096);
  const float *out = (const float *) y->data;
  const gsize from = (gsize) (tc->out_rate / 5), to = y->len - (gsize) (tc->out_rate / 5);
  const double expected_len = (double) n * tc->out_rate / tc->in_rate;
  double amp, phase, delay;
  gsize bin, expected_bin;

  /* Length: round (n * out / in), within one sample as promised (it is
   * exact). */
  g_assert_cmpfloat (fabs ((double) y->len - expected_len), <=, 1.0);
  g_assert_cmpuint (y->len, ==, rs_resampler_output_length (r, n));

  /* Frequency: the DFT peak sits on the tone's bin. */
  bin = peak_bin (out + from, dft_n);
  expected_bin = (gsize) lround (tc->hz * (double) dft_n / tc->out_rate);
  g_assert_cmpuint (bin + 1, >=, expected_bin);
  g_assert_cmpuint (bin, <=, expected_bin + 1);

  /* Amplitude and delay, from a fit over the steady middle. The ideal
   * output is amplitude * sin (w k): a delay of d samples shows as a phase
   * of -w d. */
  fit_tone (out, from, to, w, &amp, &phase);
  delay = -phase / w;
  g_test_message ("%d -> %d Hz, %.0f Hz tone: %u samples, peak bin %" G_GSIZE_FORMAT
                  " (expected %" G_GSIZE_FORMAT "), amplitude %.4f, delay %.5f samples",
                  tc->in_rate, tc->out_rate, tc->hz, y->len, bin, expected_bin, amp, delay);
  g_assert_cmpfloat (fabs (amp / amplitude - 1.0), <, AMPLITUDE_TOLERANCE);
  g_assert_cmpfloat (fabs (delay), <, DELAY_TOLERANCE);
}

static float *
make_noise (gsize n)
{
  float *x = g_new (float, n);
  guint32 s = 5;

  for (gsize i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = (float) ((double) (s >> 8) / 16777216.0 - 0.5) * 20000.0f;
  }
  return x;
}

static void
test_block_invariance (void)
{
  static const int rates[][2] = { { 44100, 16000 }, { 48000, 16000 }, { 8000, 16000 },
                                  { 22050, 16000 } };

  for (guint r = 0; r < G_N_ELEMENTS (rates); r++) {
    const gsize n = (gsize) rates[r][0] * 3 / 2;
    g_autofree float *x = make_noise (n);
    g_autoptr (GArray) whole = resample (rates[r][0], rates[r][1], x, n, n, n * 3);
    /* Around the internal block (RS_RESAMPLER_BLOCK), odd sizes, random
     * sizes, and output room down to one sample. */
    static const gsize blocks[][2] = { { 1, 4096 }, { 7, 4096 }, { RS_RESAMPLER_BLOCK - 1, 4096 },
                                       { RS_RESAMPLER_BLOCK, 4096 },
                                       { RS_RESAMPLER_BLOCK + 1, 4096 }, { 4000, 4096 },
                                       { 0, 4096 }, { 1000, 3 }, { 0, 1 } };

    for (guint b = 0; b < G_N_ELEMENTS (blocks); b++) {
      g_autoptr (GArray) split = resample (rates[r][0], rates[r][1], x, n, blocks[b][0],
                                           blocks[b][1]);

      g_assert_cmpuint (split->len, ==, whole->len);
      /* Bit for bit. */
      g_assert_cmpmem (split->data, split->len * sizeof (float), whole->data,
                       whole->len * sizeof (float));
    }
  }
}

static void
test_length (void)
{
  static const gsize lengths[] = { 0, 1, 2, 3, 100, 127, 128, 129, 1023, 44099, 44100, 44101,
                                   100001 };
  static const int rates[][2] = { { 44100, 8000 }, { 48000, 16000 }, { 16000, 44100 },
                                  { 11025, 16000 } };

  for (guint r = 0; r < G_N_ELEMENTS (rates); r++) {
    g_autoptr (RsResampler) rs = rs_resampler_new (rates[r][0], rates[r][1], NULL);

    for (guint l = 0; l < G_N_ELEMENTS (lengths); l++) {
      const gsize n = lengths[l];
      g_autofree float *x = make_noise (MAX (n, 1));
      g_autoptr (GArray) y = resample (rates[r][0], rates[r][1], x, n, 333, 1000);
      const guint64 expected = rs_resampler_output_length (rs, n);

      if ((guint64) y->len != expected)
        g_error ("%d -> %d Hz, %" G_GSIZE_FORMAT " samples: %u out, expected %" G_GUINT64_FORMAT,
                 rates[r][0], rates[r][1], n, y->len, expected);
    }
  }
}

static void
test_same_rate_and_reset (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsResampler) same = rs_resampler_new (16000, 16000, &error);
  g_autoptr (RsResampler) r = rs_resampler_new (44100, 16000, &error);
  g_autofree float *x = make_noise (20000);
  g_autofree float *a = g_new (float, 20000);
  g_autofree float *b = g_new (float, 20000);
  gsize used, written, na = 0, nb = 0;

  g_assert_no_error (error);
  /* Equal rates copy through, as much as fits. */
  g_assert_true (rs_resampler_process (same, x, 100, &used, a, 60, &written, &error));
  g_assert_cmpuint (used, ==, 60);
  g_assert_cmpuint (written, ==, 60);
  g_assert_cmpmem (a, 60 * sizeof (float), x, 60 * sizeof (float));
  g_assert_true (rs_resampler_flush (same, a, 60, &written, &error));
  g_assert_cmpuint (written, ==, 0);
  g_assert_cmpuint (rs_resampler_output_length (same, 12345), ==, 12345);

  /* After a reset, a stream comes out as from a new resampler. */
  for (int pass = 0; pass < 2; pass++) {
    float *out = pass == 0 ? a : b;
    gsize *n = pass == 0 ? &na : &nb;

    g_assert_true (rs_resampler_process (r, x, 20000, &used, out, 20000, &written, &error));
    g_assert_cmpuint (used, ==, 20000);
    *n = written;
    do {
      g_assert_true (rs_resampler_flush (r, out + *n, 20000 - *n, &written, &error));
      *n += written;
    } while (written > 0);
    rs_resampler_reset (r);
  }
  g_assert_cmpuint (na, ==, rs_resampler_output_length (r, 20000));
  g_assert_cmpmem (a, na * sizeof (float), b, nb * sizeof (float));
  g_assert_cmpint (rs_resampler_get_in_rate (r), ==, 44100);
  g_assert_cmpint (rs_resampler_get_out_rate (r), ==, 16000);
}

int
main (int argc, char **argv)
{
  static const ToneCase tones[] = {
    { 48000, 16000, 1000.0 },
    { 44100, 8000, 997.0 },
    { 44100, 16000, 3000.0 },
    { 8000, 16000, 440.0 },
    { 16000, 48000, 6000.0 },
  };

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (tones); i++) {
    g_autofree char *path = g_strdup_printf ("/resampler/tone/%d-to-%d", tones[i].in_rate,
                                             tones[i].out_rate);

    g_test_add_data_func (path, &tones[i], test_tone);
  }
  g_test_add_func ("/resampler/block-invariance", test_block_invariance);
  g_test_add_func ("/resampler/length", test_length);
  g_test_add_func ("/resampler/same-rate-and-reset", test_same_rate_and_reset);
  return g_test_run ();
}
