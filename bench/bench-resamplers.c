/* bench-resamplers: libsoxr against libsamplerate, the measurements behind
 * the choice of resampler for sound files (see bench/README.md).
 *
 *   bench-resamplers [--quick]
 *
 * For each conversion (48 kHz -> 16 kHz and 44.1 kHz -> 8 kHz, the two a
 * speech front end meets most) and each quality setting of each library it
 * prints one table row:
 *
 * - SINAD: a 997 Hz sine at half scale is resampled and a sine of the same
 *   frequency (amplitude, phase and offset free) is fitted to the middle of
 *   the output by least squares; SINAD is fitted power over residual power,
 *   i.e. everything the resampler added (harmonics, aliases, noise). 997 Hz
 *   shares no small factor with the rates, so the errors do not fold onto
 *   a few bins.
 * - SNR: the output against the ideal sine sampled at the output rate with
 *   no delay: SINAD plus any gain or timing error.
 * - delay: where the fitted sine sits relative to the ideal one, in output
 *   samples (0: the library aligns its output with its input).
 * - ripple: the gain of 24 tones from 100 Hz to 90% of the output Nyquist
 *   frequency (the band a speech front end reads), max - min in dB; and the
 *   gain at 90% and 97% of Nyquist, where the libraries' filters differ.
 * - alias: a tone at 120% of the output Nyquist frequency must vanish; its
 *   output power relative to the input's.
 * - speed: input samples per second, one thread, 10 s of noise fed in
 *   blocks of 1024 samples, median of 5 repetitions.
 * - invariant: whether the output is bit-identical when the same input is
 *   fed in blocks of 1024 or in blocks of pseudo-random sizes from 1 to 2000.
 * - length: output samples beyond round(input * ratio) after the flush.
 */
#include <math.h>
#include <samplerate.h>
#include <soxr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SINE_HZ 997.0
#define PI 3.14159265358979323846
#define BLOCK 1024
#define MAX_REPS 5

static double target_s = 0.3;
static int n_reps = MAX_REPS;

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------------
 * The two libraries behind one interface */

typedef struct {
  const char *name;
  int lib;          /* 0 soxr, 1 libsamplerate */
  int quality;      /* soxr recipe or SRC converter type */
} Config;

typedef struct {
  const Config *config;
  soxr_t soxr;
  SRC_STATE *src;
  double ratio;
} Resampler;

static void
resampler_init (Resampler *r, const Config *c, double in_rate, double out_rate)
{
  memset (r, 0, sizeof *r);
  r->config = c;
  r->ratio = out_rate / in_rate;
  if (c->lib == 0) {
    soxr_error_t err = NULL;
    soxr_quality_spec_t q = soxr_quality_spec ((unsigned long) c->quality, 0);
    soxr_runtime_spec_t rt = soxr_runtime_spec (1);

    r->soxr = soxr_create (in_rate, out_rate, 1, &err, NULL, &q, &rt);
    if (r->soxr == NULL) {
      fprintf (stderr, "soxr_create: %s\n", soxr_strerror (err));
      exit (1);
    }
  } else {
    int err = 0;

    r->src = src_new (c->quality, 1, &err);
    if (r->src == NULL) {
      fprintf (stderr, "src_new: %s\n", src_strerror (err));
      exit (1);
    }
  }
}

static void
resampler_clear (Resampler *r)
{
  if (r->soxr != NULL)
    soxr_delete (r->soxr);
  if (r->src != NULL)
    src_delete (r->src);
}

/* Consumes up to n_in samples (all of them unless out fills up) and
 * returns the number of samples written; in == NULL flushes. */
static size_t
resampler_process (Resampler *r, const float *in, size_t n_in, size_t *used, float *out,
                   size_t max_out)
{
  if (r->soxr != NULL) {
    size_t idone = 0, odone = 0;
    soxr_error_t err = soxr_process (r->soxr, in, in != NULL ? n_in : 0, &idone, out, max_out,
                                     &odone);

    if (err != NULL) {
      fprintf (stderr, "soxr_process: %s\n", err);
      exit (1);
    }
    *used = idone;
    return odone;
  } else {
    static const float none[1];
    SRC_DATA d = {
      .data_in = in != NULL ? in : none,
      .data_out = out,
      .input_frames = in != NULL ? (long) n_in : 0,
      .output_frames = (long) max_out,
      .end_of_input = in == NULL,
      .src_ratio = r->ratio,
    };
    int err = src_process (r->src, &d);

    if (err != 0) {
      fprintf (stderr, "src_process: %s\n", src_strerror (err));
      exit (1);
    }
    *used = (size_t) d.input_frames_used;
    return (size_t) d.output_frames_gen;
  }
}

/* Resamples all of in (fed in blocks whose sizes come from next_block),
 * flushes, and returns the output (*n_out samples, malloc'ed). */
static float *
resample_all (const Config *c, double in_rate, double out_rate, const float *in, size_t n_in,
              size_t (*next_block) (unsigned *state), size_t *n_out)
{
  Resampler r;
  size_t cap = (size_t) ((double) n_in * out_rate / in_rate) + 4096, n = 0, pos = 0;
  float *out = malloc (cap * sizeof (float));
  unsigned state = 12345;

  resampler_init (&r, c, in_rate, out_rate);
  while (pos < n_in) {
    size_t want = next_block (&state), used = 0;

    if (want > n_in - pos)
      want = n_in - pos;
    n += resampler_process (&r, in + pos, want, &used, out + n, cap - n);
    pos += used;
  }
  for (;;) {
    size_t used, got = resampler_process (&r, NULL, 0, &used, out + n, cap - n);

    if (got == 0)
      break;
    n += got;
  }
  resampler_clear (&r);
  *n_out = n;
  return out;
}

static size_t
fixed_block (unsigned *state)
{
  (void) state;
  return BLOCK;
}

static size_t
random_block (unsigned *state)
{
  *state = *state * 1103515245u + 12345u;
  return 1 + (*state >> 8) % 2000;
}

/* ------------------------------------------------------------------------
 * Signals and fits */

static float *
make_sine (double hz, double rate, double amplitude, size_t n)
{
  float *x = malloc (n * sizeof (float));

  for (size_t i = 0; i < n; i++)
    x[i] = (float) (amplitude * sin (2.0 * PI * hz * (double) i / rate));
  return x;
}

static float *
make_noise (size_t n)
{
  float *x = malloc (n * sizeof (float));
  unsigned s = 1;

  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = (float) ((double) (s >> 8) / 16777216.0 - 0.5);
  }
  return x;
}

typedef struct {
  double amplitude;
  double phase;         /* of a * sin (w n + phase) */
  double residual;      /* mean square of what the fit leaves */
  double power;         /* mean square of the fitted sine */
} Fit;

/* Least squares fit of a sin (w n) + b cos (w n) + c over y[from, to). */
static Fit
fit_sine (const float *y, size_t from, size_t to, double w)
{
  double m[3][4] = { { 0 } };
  Fit f = { 0 };

  for (size_t i = from; i < to; i++) {
    double v[3] = { sin (w * (double) i), cos (w * (double) i), 1.0 };

    for (int r = 0; r < 3; r++) {
      for (int k = 0; k < 3; k++)
        m[r][k] += v[r] * v[k];
      m[r][3] += v[r] * y[i];
    }
  }
  /* Gauss-Jordan on the 3x3 normal equations (well conditioned: the
   * window holds hundreds of periods). */
  for (int p = 0; p < 3; p++)
    for (int r = 0; r < 3; r++) {
      double factor;

      if (r == p)
        continue;
      factor = m[r][p] / m[p][p];
      for (int k = p; k < 4; k++)
        m[r][k] -= factor * m[p][k];
    }
  {
    double a = m[0][3] / m[0][0], b = m[1][3] / m[1][1], c = m[2][3] / m[2][2];
    double res = 0;

    for (size_t i = from; i < to; i++) {
      double e = y[i] - (a * sin (w * (double) i) + b * cos (w * (double) i) + c);

      res += e * e;
    }
    f.amplitude = hypot (a, b);
    f.phase = atan2 (b, a);
    f.residual = res / (double) (to - from);
    f.power = f.amplitude * f.amplitude / 2;
  }
  return f;
}

static double
db (double ratio)
{
  return 10.0 * log10 (ratio);
}

/* ------------------------------------------------------------------------
 * One row */

typedef struct {
  double sinad_db, snr_db, delay, ripple_db, gain90_db, gain97_db, alias_db;
  double msamples_s;
  int invariant;
  long extra;
} Row;

static void
measure_tone (const Config *c, double in_rate, double out_rate, double hz, Fit *fit,
              double *snr_db)
{
  const size_t n_in = (size_t) (in_rate * 2.0);
  float *x = make_sine (hz, in_rate, 0.5, n_in);
  size_t n_out;
  float *y = resample_all (c, in_rate, out_rate, x, n_in, fixed_block, &n_out);
  /* The middle 1.6 s: well clear of the start-up and flush transients. */
  size_t from = (size_t) (0.2 * out_rate), to = (size_t) (1.8 * out_rate);
  const double w = 2.0 * PI * hz / out_rate;

  if (to > n_out)
    to = n_out;
  *fit = fit_sine (y, from, to, w);
  if (snr_db != NULL) {
    double err = 0, sig = 0;

    for (size_t i = from; i < to; i++) {
      double ideal = 0.5 * sin (w * (double) i);

      err += (y[i] - ideal) * (y[i] - ideal);
      sig += ideal * ideal;
    }
    *snr_db = db (sig / err);
  }
  free (x);
  free (y);
}

static int
compare_doubles (const void *a, const void *b)
{
  const double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
measure_speed (const Config *c, double in_rate, double out_rate)
{
  const size_t n_in = (size_t) (in_rate * 10.0);
  float *x = make_noise (n_in);
  float *y = malloc ((BLOCK + 4096) * sizeof (float));
  double reps[MAX_REPS];
  int runs = 1;

  /* Calibrate: runs of the whole 10 s until one repetition lasts target_s. */
  for (;;) {
    double t0 = now_s (), t;

    for (int k = 0; k < runs; k++) {
      Resampler r;
      size_t pos = 0, used;

      resampler_init (&r, c, in_rate, out_rate);
      while (pos < n_in) {
        size_t want = n_in - pos < BLOCK ? n_in - pos : BLOCK;

        resampler_process (&r, x + pos, want, &used, y, BLOCK + 4096);
        pos += used;
      }
      while (resampler_process (&r, NULL, 0, &used, y, BLOCK + 4096) > 0)
        ;
      resampler_clear (&r);
    }
    t = now_s () - t0;
    reps[0] = t;
    if (t >= target_s || runs >= 1024)
      break;
    runs *= 2;
  }
  for (int rep = 1; rep < n_reps; rep++) {
    double t0 = now_s ();

    for (int k = 0; k < runs; k++) {
      Resampler r;
      size_t pos = 0, used;

      resampler_init (&r, c, in_rate, out_rate);
      while (pos < n_in) {
        size_t want = n_in - pos < BLOCK ? n_in - pos : BLOCK;

        resampler_process (&r, x + pos, want, &used, y, BLOCK + 4096);
        pos += used;
      }
      while (resampler_process (&r, NULL, 0, &used, y, BLOCK + 4096) > 0)
        ;
      resampler_clear (&r);
    }
    reps[rep] = now_s () - t0;
  }
  qsort (reps, (size_t) n_reps, sizeof (double), compare_doubles);
  free (x);
  free (y);
  return (double) n_in * runs / reps[n_reps / 2] / 1e6;
}

static Row
measure_row (const Config *c, double in_rate, double out_rate)
{
  Row row = { 0 };
  Fit fit;
  const double nyquist = out_rate / 2;
  double gmin = 1e9, gmax = -1e9;

  measure_tone (c, in_rate, out_rate, SINE_HZ, &fit, &row.snr_db);
  row.sinad_db = db (fit.power / fit.residual);
  /* The ideal sine has phase 0 at n = 0; a delay of d output samples
   * shows as phase -w d. */
  row.delay = -fit.phase / (2.0 * PI * SINE_HZ / out_rate);

  for (int k = 0; k < 24; k++) {
    double hz = 100.0 + (0.9 * nyquist - 100.0) * k / 23.0, g;

    measure_tone (c, in_rate, out_rate, hz, &fit, NULL);
    g = 20.0 * log10 (fit.amplitude / 0.5);
    gmin = g < gmin ? g : gmin;
    gmax = g > gmax ? g : gmax;
    if (k == 23)
      row.gain90_db = g;
  }
  row.ripple_db = gmax - gmin;
  measure_tone (c, in_rate, out_rate, 0.97 * nyquist, &fit, NULL);
  row.gain97_db = 20.0 * log10 (fit.amplitude / 0.5);

  {
    /* Everything that comes out of a tone above the output's Nyquist
     * frequency is an alias. */
    const size_t n_in = (size_t) (in_rate * 2.0);
    float *x = make_sine (1.2 * nyquist, in_rate, 0.5, n_in);
    size_t n_out, from = (size_t) (0.2 * out_rate), to = (size_t) (1.8 * out_rate);
    float *y = resample_all (c, in_rate, out_rate, x, n_in, fixed_block, &n_out);
    double p = 0;

    for (size_t i = from; i < to; i++)
      p += (double) y[i] * y[i];
    p /= (double) (to - from);
    row.alias_db = p > 0 ? db (p / 0.125) : -999.0;
    free (x);
    free (y);
  }

  {
    const size_t n_in = (size_t) (in_rate * 3.0);
    float *x = make_noise (n_in);
    size_t na, nb;
    float *a = resample_all (c, in_rate, out_rate, x, n_in, fixed_block, &na);
    float *b = resample_all (c, in_rate, out_rate, x, n_in, random_block, &nb);

    row.invariant = na == nb && memcmp (a, b, na * sizeof (float)) == 0;
    row.extra = (long) na - lround ((double) n_in * out_rate / in_rate);
    free (x);
    free (a);
    free (b);
  }
  row.msamples_s = measure_speed (c, in_rate, out_rate);
  return row;
}

int
main (int argc, char **argv)
{
  static const Config configs[] = {
    { "soxr QQ", 0, SOXR_QQ },
    { "soxr LQ", 0, SOXR_LQ },
    { "soxr MQ", 0, SOXR_MQ },
    { "soxr HQ", 0, SOXR_HQ },
    { "soxr VHQ", 0, SOXR_VHQ },
    { "src SINC_FASTEST", 1, SRC_SINC_FASTEST },
    { "src SINC_MEDIUM", 1, SRC_SINC_MEDIUM_QUALITY },
    { "src SINC_BEST", 1, SRC_SINC_BEST_QUALITY },
  };
  static const double rates[][2] = { { 48000, 16000 }, { 44100, 8000 } };

  if (argc > 1 && strcmp (argv[1], "--quick") == 0) {
    target_s = 0.05;
    n_reps = 3;
  } else if (argc > 1) {
    fprintf (stderr, "usage: %s [--quick]\n", argv[0]);
    return 2;
  }
  printf ("soxr %s, %s; one thread\n", soxr_version (), src_get_version ());
  for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
    printf ("\n%g Hz -> %g Hz\n", rates[r][0], rates[r][1]);
    printf ("%-17s %7s %7s %7s %9s %8s %8s %8s %9s %10s %6s\n", "config", "SINAD", "SNR",
            "delay", "ripple", "g@0.90", "g@0.97", "alias", "Msmp/s", "invariant", "extra");
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
      Row row = measure_row (&configs[k], rates[r][0], rates[r][1]);

      printf ("%-17s %7.1f %7.1f %7.2f %9.5f %8.3f %8.2f %8.1f %9.1f %10s %6ld\n",
              configs[k].name, row.sinad_db, row.snr_db, row.delay, row.ripple_db,
              row.gain90_db, row.gain97_db, row.alias_db, row.msamples_s,
              row.invariant ? "yes" : "no", row.extra);
      fflush (stdout);
    }
  }
  return 0;
}
