/* bench-features: times rnnstream's Kaldi MFCC per 10 ms frame, and the
 * FFT it is built on. bench/run.sh runs it next to
 * bench_features_torch.py (torchaudio's kaldi.mfcc on the same audio) and
 * bench/report.py prints the comparison (its features table).
 *
 *   bench-features [--quick] [--dump=FILE] SAMPLES.safetensors
 *
 * SAMPLES.safetensors holds "samples" [N] (16-bit values as floats) and
 * the metadata "sample_frequency", as the feature fixtures do
 * (tests/fixtures/features/). Measured, on one thread, with Kaldi's
 * default MFCC options (13 coefficients, 23 bins, 25 ms frames every
 * 10 ms, povey window, 512-point FFT at 16 kHz):
 *
 *   mfcc_block    the whole signal in one rs_features_accept call (as
 *                 far as the buffer takes it), frames popped as ready;
 *   mfcc_pieces   the signal in 10 ms pieces, popping after each, as a
 *                 live source delivers it;
 *   fft           FFTW's single-precision real FFT of the padded frame
 *                 length alone, planned as the extractor plans it: the
 *                 floor under any FFT-based extractor.
 *
 * Each is reported in microseconds per frame (the median over
 * repetitions). Output on stdout: JSON lines, as bench-cells writes them;
 * progress on stderr. With --dump, the features of one pass are written
 * to FILE as raw float32, for bench_features_torch.py to compare with
 * torchaudio's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fftw3.h>

#include <rnnstream/features.h>
#include <rnnstream/safetensors.h>

#define MAX_REPS 16

static double target_s = 0.25;
static int n_reps = 5;

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

typedef void (*WorkFunc) (void *ctx, size_t n);

typedef struct {
  double median;   /* seconds per unit */
  double best;
  size_t units;
  int reps;
} Timing;

static int
compare_doubles (const void *a, const void *b)
{
  const double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* The scheme of bench-cells: a warm-up that calibrates how many units fill
 * a repetition of target_s, then n_reps repetitions; the median per unit
 * is what counts (it ignores the odd repetition a neighbour disturbed). */
static Timing
measure (WorkFunc work, void *ctx)
{
  double samples[MAX_REPS];
  Timing tm = { 0 };
  size_t n = 1;
  double t;

  for (;;) {
    double t0 = now_s (), grow;

    work (ctx, n);
    t = now_s () - t0;
    if (t >= target_s / 4)
      break;
    grow = t > 0 ? target_s / 4 / t * 1.5 : 64;
    n = (size_t) ((double) n * (grow < 2 ? 2 : grow > 64 ? 64 : grow));
  }
  tm.units = t / (double) n >= target_s ? 1 : (size_t) (target_s / (t / (double) n));
  tm.reps = n_reps;
  for (int r = 0; r < tm.reps; r++) {
    double t0 = now_s ();

    work (ctx, tm.units);
    samples[r] = (now_s () - t0) / (double) tm.units;
  }
  qsort (samples, (size_t) tm.reps, sizeof samples[0], compare_doubles);
  tm.best = samples[0];
  tm.median = samples[tm.reps / 2];
  return tm;
}

/* ------------------------------------------------------------------------ */

typedef struct {
  RsFeatures *features;
  const float *x;
  size_t n;
  size_t piece;          /* samples per accept call; 0: all at once */
  float *frame;
  FILE *dump;            /* non-NULL: write the frames */
  gint64 frames;         /* per pass */
  double checksum;       /* keeps the work observable */
} PassCtx;

/* One unit = one pass over the whole signal from a fresh start: reset,
 * accept (in pieces), pop as frames become ready, finish, pop the rest. */
static void
work_pass (void *p, size_t n_units)
{
  PassCtx *c = p;
  const guint dim = rs_features_dim (c->features);

  for (size_t u = 0; u < n_units; u++) {
    size_t pos = 0;
    gint64 index, frames = 0;

    rs_features_reset (c->features);
    while (pos < c->n) {
      size_t end = c->piece == 0 ? c->n : MIN (pos + c->piece, c->n);

      while (pos < end) {
        pos += rs_features_accept (c->features, c->x + pos, end - pos);
        while (rs_features_pop (c->features, c->frame, &index)) {
          c->checksum += c->frame[1];
          if (c->dump != NULL)
            fwrite (c->frame, sizeof (float), dim, c->dump);
          frames++;
        }
      }
    }
    rs_features_finish (c->features);
    while (rs_features_pop (c->features, c->frame, &index)) {
      c->checksum += c->frame[1];
      if (c->dump != NULL)
        fwrite (c->frame, sizeof (float), dim, c->dump);
      frames++;
    }
    c->frames = frames;
  }
}

typedef struct {
  fftwf_plan plan;
  float *in;
  fftwf_complex *out;
} FftCtx;

static void
work_fft (void *p, size_t n)
{
  FftCtx *c = p;

  for (size_t i = 0; i < n; i++)
    fftwf_execute (c->plan);
}

static void
print_timing (const char *name, const Timing *tm, double per_unit_frames)
{
  printf ("{\"type\":\"features\",\"name\":\"%s\",\"us_per_frame\":%.4f,"
          "\"us_per_frame_best\":%.4f,\"units\":%zu,\"reps\":%d}\n", name,
          tm->median * 1e6 / per_unit_frames, tm->best * 1e6 / per_unit_frames, tm->units,
          tm->reps);
  fflush (stdout);
}

int
main (int argc, char **argv)
{
  gboolean quick = FALSE;
  g_autofree char *dump_path = NULL;
  g_auto (GStrv) inputs = NULL;
  const GOptionEntry entries[] = {
    { "quick", 0, 0, G_OPTION_ARG_NONE, &quick, "Short measurements (smoke test)", NULL },
    { "dump", 0, 0, G_OPTION_ARG_FILENAME, &dump_path,
      "Write one pass's features there (raw float32)", "FILE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &inputs, NULL,
      "SAMPLES.safetensors" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("SAMPLES.safetensors - time the "
                                                         "Kaldi MFCC extractor");
  g_autoptr (GError) error = NULL;
  g_autoptr (RsSafetensors) st = NULL;
  g_autoptr (RsFeatures) features = NULL;
  const RsTensor *samples;
  const char *rate_text;
  RsFeatureOptions opts;
  PassCtx pass = { 0 };
  FftCtx fft = { 0 };
  Timing block, pieces, ffts;
  guint padded;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "bench-features: %s\n", error->message);
    return 2;
  }
  if (inputs == NULL || inputs[0] == NULL || inputs[1] != NULL) {
    fprintf (stderr, "bench-features: give one SAMPLES.safetensors\n");
    return 2;
  }
  if (quick) {
    target_s = 0.02;
    n_reps = 3;
  }

  st = rs_safetensors_load (inputs[0], &error);
  if (st == NULL) {
    fprintf (stderr, "bench-features: %s\n", error->message);
    return 1;
  }
  samples = rs_safetensors_lookup (st, "samples");
  rate_text = rs_safetensors_metadata (st, "sample_frequency");
  if (samples == NULL || samples->ndim != 1 || rate_text == NULL) {
    fprintf (stderr, "bench-features: %s: no \"samples\" [N] and \"sample_frequency\"\n",
             inputs[0]);
    return 1;
  }

  rs_feature_options_init (&opts, RS_FEATURE_MFCC, g_ascii_strtod (rate_text, NULL));
  features = rs_features_new (&opts, &error);
  if (features == NULL) {
    fprintf (stderr, "bench-features: %s\n", error->message);
    return 1;
  }
  pass.features = features;
  pass.x = samples->data;
  pass.n = (size_t) samples->n_elements;
  pass.frame = g_new (float, rs_features_dim (features));

  if (dump_path != NULL) {
    pass.dump = fopen (dump_path, "wb");
    if (pass.dump == NULL) {
      fprintf (stderr, "bench-features: cannot write %s\n", dump_path);
      return 1;
    }
    work_pass (&pass, 1);
    fclose (pass.dump);
    pass.dump = NULL;
  }

  fprintf (stderr, "bench-features: MFCC, one block\n");
  pass.piece = 0;
  block = measure (work_pass, &pass);
  fprintf (stderr, "bench-features: MFCC, 10 ms pieces\n");
  pass.piece = rs_feature_options_frame_shift (&opts);
  pieces = measure (work_pass, &pass);

  /* The extractor's FFT, alone: same length, flags and buffer kind, on a
   * frame of the signal. */
  padded = 1;
  while (padded < rs_feature_options_frame_length (&opts))
    padded <<= 1;
  fft.in = fftwf_malloc (sizeof (float) * padded);
  fft.out = fftwf_malloc (sizeof (fftwf_complex) * (padded / 2 + 1));
  memset (fft.in, 0, sizeof (float) * padded);
  {
    const size_t count = MIN (pass.n, (size_t) rs_feature_options_frame_length (&opts));

    memcpy (fft.in, samples->data + (pass.n - count) / 2, sizeof (float) * count);
  }
  fft.plan = fftwf_plan_dft_r2c_1d ((int) padded, fft.in, fft.out,
                                    FFTW_ESTIMATE | FFTW_PRESERVE_INPUT);
  fprintf (stderr, "bench-features: FFT alone\n");
  ffts = measure (work_fft, &fft);

  printf ("{\"type\":\"features_info\",\"fftw\":\"%s\",\"sample_frequency\":%g,"
          "\"samples\":%zu,\"frames\":%" G_GINT64_FORMAT ",\"dim\":%u,\"fft_length\":%u,"
          "\"piece\":%u,\"options\":\"compute-mfcc-feats (Kaldi defaults)\","
          "\"checksum\":%.6g,\"target_s\":%.3f,\"reps\":%d}\n",
          fftwf_version, opts.sample_frequency, pass.n, pass.frames,
          rs_features_dim (features), padded, rs_feature_options_frame_shift (&opts),
          pass.checksum, target_s, n_reps);
  print_timing ("mfcc_block", &block, (double) pass.frames);
  print_timing ("mfcc_pieces", &pieces, (double) pass.frames);
  print_timing ("fft", &ffts, 1.0);

  fftwf_destroy_plan (fft.plan);
  fftwf_free (fft.in);
  fftwf_free (fft.out);
  g_free (pass.frame);
  return 0;
}
