/* Kaldi-compatible features: MFCC and filter banks against torchaudio's
 * kaldi-compliance functions, deltas and sliding CMVN against Kaldi's
 * algorithms in numpy (tests/make-feature-fixtures.py), bit-identical
 * output for every way of splitting the input, frame counts, finish and
 * reset, dither, option parsing and checking, and extractors made and
 * freed on several threads at once. */
#include <math.h>
#include <string.h>

#include <rnnstream/cmvn.h>
#include <rnnstream/deltas.h>
#include <rnnstream/error.h>
#include <rnnstream/features.h>
#include <rnnstream/safetensors.h>

/* Tolerances against the references: the brief's for features (max
 * absolute difference; relative for linear filter banks, whose values
 * reach 1e10), and float rounding for deltas and CMVN, which see the
 * reference's own input. */
#define TOL_FBANK 1e-3
#define TOL_MFCC 2e-3
#define TOL_LINEAR_RELATIVE 1e-4
#define TOL_STAGE 1e-4

static const char *const fixture_names[] = {
  "front_center_16k", "rear_left_16k", "front_center_8k", "rear_left_8k"
};

static RsSafetensors *
load_fixture (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *file = g_strconcat (name, ".safetensors", NULL);
  g_autofree char *path = g_build_filename (g_getenv ("RS_TEST_FIXTURES"), "features", file,
                                            NULL);
  RsSafetensors *st = rs_safetensors_load (path, &error);

  g_assert_no_error (error);
  return st;
}

static const RsTensor *
fixture_samples (const RsSafetensors *st, double *rate)
{
  const RsTensor *t = rs_safetensors_lookup (st, "samples");

  g_assert_nonnull (t);
  g_assert_cmpuint (t->ndim, ==, 1);
  *rate = g_ascii_strtod (rs_safetensors_metadata (st, "sample_frequency"), NULL);
  return t;
}

/* ------------------------------------------------------------------------
 * Running the stages */

/* Feeds n samples in blocks whose sizes cycle through blocks[] (0: all
 * at once), popping whatever is ready after every accept, then finishes.
 * Returns the frames, T x dim, and checks their indices are 0, 1, ... */
static GArray *
run_features (RsFeatures *f, const float *x, gsize n, const gsize *blocks, gsize n_blocks)
{
  const guint dim = rs_features_dim (f);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (float));
  g_autofree float *frame = g_new (float, dim);
  gint64 index, expect = 0;
  gsize pos = 0, b = 0;

  while (pos < n) {
    gsize offer = blocks[b % n_blocks] == 0 ? n - pos : MIN (blocks[b % n_blocks], n - pos);
    gsize end = pos + offer;

    b++;
    while (pos < end) {
      pos += rs_features_accept (f, x + pos, end - pos);
      while (rs_features_pop (f, frame, &index)) {
        g_assert_cmpint (index, ==, expect++);
        g_array_append_vals (out, frame, dim);
      }
    }
  }
  rs_features_finish (f);
  while (rs_features_pop (f, frame, &index)) {
    g_assert_cmpint (index, ==, expect++);
    g_array_append_vals (out, frame, dim);
  }
  g_assert_cmpuint (out->len, ==, expect * dim);
  return out;
}

static GArray *
run_features_whole (const RsFeatureOptions *o, const float *x, gsize n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsFeatures) f = rs_features_new (o, &error);
  const gsize whole = 0;

  g_assert_no_error (error);
  return run_features (f, x, n, &whole, 1);
}

/* The same for the frame stages, which share the accept/pop/finish
 * contract. */
typedef gsize (*AcceptFunc) (gpointer stage, const float *frames, gsize n);
typedef gboolean (*PopFunc) (gpointer stage, float *frame, gint64 *index);
typedef void (*FinishFunc) (gpointer stage);

static GArray *
run_stage (gpointer stage, AcceptFunc accept, PopFunc pop, FinishFunc finish, guint in_dim,
           guint out_dim, const float *x, gsize n_frames, gsize block)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (float));
  g_autofree float *frame = g_new (float, out_dim);
  gint64 index, expect = 0;
  gsize pos = 0;

  while (pos < n_frames) {
    gsize end = block == 0 ? n_frames : MIN (pos + block, n_frames);

    while (pos < end) {
      pos += accept (stage, x + pos * in_dim, end - pos);
      while (pop (stage, frame, &index)) {
        g_assert_cmpint (index, ==, expect++);
        g_array_append_vals (out, frame, out_dim);
      }
    }
  }
  finish (stage);
  while (pop (stage, frame, &index)) {
    g_assert_cmpint (index, ==, expect++);
    g_array_append_vals (out, frame, out_dim);
  }
  g_assert_cmpint (expect, ==, (gint64) n_frames);
  return out;
}

static GArray *
run_deltas (RsDeltas *d, const float *x, gsize n_frames, gsize block)
{
  return run_stage (d, (AcceptFunc) rs_deltas_accept, (PopFunc) rs_deltas_pop,
                    (FinishFunc) rs_deltas_finish, rs_deltas_input_dim (d), rs_deltas_dim (d),
                    x, n_frames, block);
}

static GArray *
run_cmvn (RsCmvn *c, const float *x, gsize n_frames, gsize block)
{
  return run_stage (c, (AcceptFunc) rs_cmvn_accept, (PopFunc) rs_cmvn_pop,
                    (FinishFunc) rs_cmvn_finish, rs_cmvn_dim (c), rs_cmvn_dim (c), x, n_frames,
                    block);
}

static double
max_abs_diff (const float *a, const float *b, gsize n)
{
  double m = 0;

  for (gsize i = 0; i < n; i++) {
    double d = fabs ((double) a[i] - (double) b[i]);

    if (!(d <= m))
      m = isnan (d) ? INFINITY : d;
  }
  return m;
}

static double
max_rel_diff (const float *a, const float *b, gsize n)
{
  double m = 0;

  for (gsize i = 0; i < n; i++) {
    double d = fabs ((double) a[i] - (double) b[i]) / MAX (1.0, fabs ((double) b[i]));

    if (!(d <= m))
      m = isnan (d) ? INFINITY : d;
  }
  return m;
}

/* ------------------------------------------------------------------------
 * Against the references */

/* Splits "program --opt=1 --opt=2" into the program and the options. */
static char *
split_command (const char *command, const char **options)
{
  const char *space = strchr (command, ' ');

  *options = space != NULL ? space + 1 : "";
  return space != NULL ? g_strndup (command, (gsize) (space - command)) : g_strdup (command);
}

/* The input of a deltas/CMVN case: its .input case, repeated .tile times. */
static float *
stage_input (const RsSafetensors *st, const char *name, gsize *n_frames, guint *dim)
{
  g_autofree char *input_key = g_strconcat (name, ".input", NULL);
  g_autofree char *tile_key = g_strconcat (name, ".tile", NULL);
  const char *input_name = rs_safetensors_metadata (st, input_key);
  const char *tile_text = rs_safetensors_metadata (st, tile_key);
  const guint tile = tile_text != NULL ? (guint) g_ascii_strtoull (tile_text, NULL, 10) : 1;
  const RsTensor *in;
  float *x;
  gsize one;

  g_assert_nonnull (input_name);
  in = rs_safetensors_lookup (st, input_name);
  g_assert_nonnull (in);
  g_assert_cmpuint (in->ndim, ==, 2);
  one = (gsize) in->n_elements;
  x = g_new (float, one * tile);
  for (guint i = 0; i < tile; i++)
    memcpy (x + i * one, in->data, one * sizeof (float));
  *n_frames = (gsize) in->shape[0] * tile;
  *dim = (guint) in->shape[1];
  return x;
}

static void
check_shape (const char *what, const RsTensor *expected, gsize n_frames, guint dim)
{
  if (expected->ndim != 2)
    g_error ("%s: the expected tensor has %u dimensions, not 2", what, expected->ndim);
  if (expected->shape[0] != n_frames || expected->shape[1] != dim)
    g_error ("%s: got %zu x %u frames, expected %" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT,
             what, n_frames, dim, expected->shape[0], expected->shape[1]);
}

static void
test_reference (void)
{
  guint n_cases = 0;

  for (gsize fi = 0; fi < G_N_ELEMENTS (fixture_names); fi++) {
    g_autoptr (RsSafetensors) st = load_fixture (fixture_names[fi]);
    const char *const *keys = rs_safetensors_metadata_keys (st);
    double rate;
    const RsTensor *samples = fixture_samples (st, &rate);

    for (gsize k = 0; keys[k] != NULL; k++) {
      const char *name = keys[k], *options;
      const RsTensor *expected = rs_safetensors_lookup (st, name);
      g_autofree char *program = NULL;
      g_autofree char *what = g_strdup_printf ("%s/%s", fixture_names[fi], name);
      g_autoptr (GError) error = NULL;
      g_autoptr (GArray) got = NULL;
      double diff, tol;
      const char *measure = "max |diff|";
      gsize n_frames;
      guint dim;

      if (expected == NULL || strcmp (name, "samples") == 0)
        continue;
      program = split_command (rs_safetensors_metadata (st, name), &options);
      if (strcmp (program, "compute-mfcc-feats") == 0 ||
          strcmp (program, "compute-fbank-feats") == 0) {
        const gboolean mfcc = strcmp (program, "compute-mfcc-feats") == 0;
        g_autofree char *limit_key = g_strconcat (name, ".samples", NULL);
        const char *limit = rs_safetensors_metadata (st, limit_key);
        gsize n = limit != NULL ? (gsize) g_ascii_strtoull (limit, NULL, 10)
                                : (gsize) samples->n_elements;
        RsFeatureOptions o;

        rs_feature_options_init (&o, mfcc ? RS_FEATURE_MFCC : RS_FEATURE_FBANK, rate);
        rs_feature_options_parse_string (&o, options, &error);
        g_assert_no_error (error);
        got = run_features_whole (&o, samples->data, n);
        dim = mfcc ? o.num_ceps : o.num_mel_bins + (o.use_energy ? 1 : 0);
        n_frames = got->len / dim;
        check_shape (what, expected, n_frames, dim);
        if (!mfcc && !o.use_log_fbank) {
          diff = max_rel_diff ((float *) (void *) got->data, expected->data, got->len);
          tol = TOL_LINEAR_RELATIVE;
          measure = "max relative diff";
        } else {
          diff = max_abs_diff ((float *) (void *) got->data, expected->data, got->len);
          tol = mfcc ? TOL_MFCC : TOL_FBANK;
        }
      } else if (strcmp (program, "add-deltas") == 0 ||
                 strcmp (program, "apply-cmvn-sliding") == 0) {
        g_autofree float *x = stage_input (st, name, &n_frames, &dim);
        const gsize blocks[] = { 0, 1, 7 };
        g_autoptr (GArray) first = NULL;

        for (gsize b = 0; b < G_N_ELEMENTS (blocks); b++) {
          g_clear_pointer (&got, g_array_unref);
          if (strcmp (program, "add-deltas") == 0) {
            RsDeltaOptions o;
            g_autoptr (RsDeltas) d = NULL;

            rs_delta_options_init (&o);
            rs_delta_options_parse_string (&o, options, &error);
            g_assert_no_error (error);
            d = rs_deltas_new (dim, &o, &error);
            g_assert_no_error (error);
            got = run_deltas (d, x, n_frames, blocks[b]);
            check_shape (what, expected, n_frames, rs_deltas_dim (d));
          } else {
            RsCmvnOptions o;
            g_autoptr (RsCmvn) c = NULL;

            rs_cmvn_options_init (&o);
            rs_cmvn_options_parse_string (&o, options, &error);
            g_assert_no_error (error);
            c = rs_cmvn_new (dim, &o, &error);
            g_assert_no_error (error);
            got = run_cmvn (c, x, n_frames, blocks[b]);
            check_shape (what, expected, n_frames, dim);
          }
          if (first == NULL)
            first = g_array_ref (got);
          else
            g_assert_cmpmem (got->data, got->len * sizeof (float), first->data,
                             first->len * sizeof (float));
        }
        diff = max_abs_diff ((float *) (void *) got->data, expected->data, got->len);
        tol = TOL_STAGE;
      } else {
        g_error ("%s: unknown program %s", what, program);
      }
      g_test_message ("%-40s %-18s %.3e  (%" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT
                      ", tolerance %.0e)  %s", what, measure, diff, expected->shape[0],
                      expected->shape[1], tol, rs_safetensors_metadata (st, name));
      if (!(diff <= tol))
        g_error ("%s: %s %g is above %g", what, measure, diff, tol);
      n_cases++;
    }
  }
  g_assert_cmpuint (n_cases, >=, 50);
}

/* ------------------------------------------------------------------------
 * Streaming */

typedef struct {
  RsFeatureKind kind;
  const char *options;
  gboolean use_8k;
} OptionSet;

static const OptionSet streaming_sets[] = {
  { RS_FEATURE_MFCC, "", FALSE },
  { RS_FEATURE_FBANK, "--snip-edges=false --use-energy=true --num-mel-bins=40", FALSE },
  { RS_FEATURE_MFCC, "--dither=1 --dither-seed=7", FALSE },
  { RS_FEATURE_MFCC, "--round-to-power-of-two=false --snip-edges=false", FALSE },
  { RS_FEATURE_MFCC, "--snip-edges=false --frame-length=25.0625", FALSE },
  { RS_FEATURE_FBANK, "--frame-length=10 --frame-shift=25", FALSE },
  { RS_FEATURE_FBANK, "--frame-length=10 --frame-shift=25 --snip-edges=false", FALSE },
  { RS_FEATURE_FBANK, "--num-mel-bins=15 --snip-edges=false --dither=0.5", TRUE },
};

static RsFeatures *
new_features (RsFeatureKind kind, double rate, const char *options)
{
  g_autoptr (GError) error = NULL;
  RsFeatureOptions o;
  RsFeatures *f;

  rs_feature_options_init (&o, kind, rate);
  rs_feature_options_parse_string (&o, options, &error);
  g_assert_no_error (error);
  f = rs_features_new (&o, &error);
  g_assert_no_error (error);
  return f;
}

/* Blocks of 1, 7, 160 and 161 samples, the whole signal, and an irregular
 * mixture give the same bits. */
static void
test_block_invariance (void)
{
  static const gsize patterns[][5] = {
    { 0 }, { 1 }, { 7 }, { 160 }, { 161 }, { 1, 500, 3, 1000, 17 },
  };
  static const gsize pattern_len[] = { 1, 1, 1, 1, 1, 5 };
  g_autoptr (RsSafetensors) st16 = load_fixture ("front_center_16k");
  g_autoptr (RsSafetensors) st8 = load_fixture ("front_center_8k");

  for (gsize s = 0; s < G_N_ELEMENTS (streaming_sets); s++) {
    const OptionSet *set = &streaming_sets[s];
    double rate;
    const RsTensor *x = fixture_samples (set->use_8k ? st8 : st16, &rate);
    g_autoptr (RsFeatures) f = new_features (set->kind, rate, set->options);
    g_autoptr (GArray) whole = NULL;

    for (gsize p = 0; p < G_N_ELEMENTS (patterns); p++) {
      g_autoptr (GArray) got = NULL;

      rs_features_reset (f);
      got = run_features (f, x->data, (gsize) x->n_elements, patterns[p], pattern_len[p]);
      g_assert_cmpuint (got->len, >, 0);
      if (whole == NULL)
        whole = g_array_ref (got);
      else
        g_assert_cmpmem (got->data, got->len * sizeof (float), whole->data,
                         whole->len * sizeof (float));
    }
  }
}

/* Kaldi's NumFrames (feature-window.cc), written out again. */
static gint64
kaldi_num_frames (gint64 n, gint64 length, gint64 shift, gboolean snip, gboolean flush)
{
  gint64 m;

  if (snip)
    return n < length ? 0 : 1 + (n - length) / shift;
  m = (n + shift / 2) / shift;
  if (flush)
    return m;
  while (m > 0 && (m - 1) * shift + shift / 2 - length / 2 + length > n)
    m--;
  return m;
}

/* Frame counts for signals around the frame boundaries, before and after
 * finish: frames whose samples have all arrived come out before finish,
 * and with snip-edges=false the reflected tail after it. */
static void
test_frame_counts (void)
{
  static const gint64 lengths[] = { 0, 1, 79, 80, 81, 100, 159, 160, 161, 239, 240, 241,
                                    399, 400, 401, 559, 560, 561, 719, 720, 1000, 16000,
                                    16001, 16079, 16080, 16081 };
  static const char *const geometries[] = { "", "--frame-length=25.0625",
                                            "--frame-length=10 --frame-shift=25" };
  g_autofree float *zeros = g_new0 (float, 16081);
  g_autofree float *frame = g_new (float, 64);

  for (int snip = 0; snip <= 1; snip++) {
    for (gsize g = 0; g < G_N_ELEMENTS (geometries); g++) {
      g_autofree char *text = g_strdup_printf ("%s --snip-edges=%s", geometries[g],
                                               snip ? "true" : "false");
      g_autoptr (RsFeatures) f = new_features (RS_FEATURE_FBANK, 16000, text);
      const RsFeatureOptions *o = rs_features_get_options (f);
      const gint64 length = rs_feature_options_frame_length (o);
      const gint64 shift = rs_feature_options_frame_shift (o);

      for (gsize i = 0; i < G_N_ELEMENTS (lengths); i++) {
        const gint64 n = lengths[i];
        gint64 before = 0, after = 0, index;
        gsize pos = 0;

        rs_features_reset (f);
        while (pos < (gsize) n) {
          pos += rs_features_accept (f, zeros + pos, (gsize) n - pos);
          while (rs_features_pop (f, frame, &index))
            before++;
        }
        g_assert_cmpint (rs_features_n_samples (f), ==, n);
        rs_features_finish (f);
        while (rs_features_pop (f, frame, &index))
          after++;
        g_assert_cmpint (before, ==, kaldi_num_frames (n, length, shift, snip, FALSE));
        g_assert_cmpint (before + after, ==, kaldi_num_frames (n, length, shift, snip, TRUE));
        g_assert_cmpint (before + after, ==, rs_feature_options_n_frames (o, n));
      }
    }
  }
}

static void
test_finish_and_reset (void)
{
  g_autoptr (RsSafetensors) st = load_fixture ("front_center_16k");
  double rate;
  const RsTensor *x = fixture_samples (st, &rate);
  g_autoptr (RsFeatures) f = new_features (RS_FEATURE_MFCC, rate, "--snip-edges=false");
  g_autoptr (RsFeatures) fresh = new_features (RS_FEATURE_MFCC, rate, "--snip-edges=false");
  const gsize whole = 0;
  g_autoptr (GArray) reference = run_features (fresh, x->data, (gsize) x->n_elements, &whole, 1);
  g_autoptr (GArray) again = NULL;
  float frame[13];
  gint64 index;

  /* Half a signal, then reset: the next run is a fresh signal. */
  g_assert_cmpuint (rs_features_accept (f, x->data, 5000), ==, 5000);
  g_assert_true (rs_features_pop (f, frame, &index));
  g_assert_cmpint (index, ==, 0);
  rs_features_reset (f);
  g_assert_cmpint (rs_features_n_samples (f), ==, 0);
  g_assert_false (rs_features_pop (f, frame, &index));
  again = run_features (f, x->data, (gsize) x->n_elements, &whole, 1);
  g_assert_cmpmem (again->data, again->len * sizeof (float), reference->data,
                   reference->len * sizeof (float));

  /* After the last frame: nothing more, however often asked, and a second
   * finish changes nothing. */
  g_assert_false (rs_features_pop (f, frame, &index));
  rs_features_finish (f);
  g_assert_false (rs_features_pop (f, frame, &index));

  /* Finish with no input at all: no frames. */
  rs_features_reset (f);
  rs_features_finish (f);
  g_assert_false (rs_features_pop (f, frame, &index));

  /* Accepting after finish is a caller bug. */
  if (g_test_subprocess ()) {
    rs_features_accept (f, x->data, 1);
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*rs_features_accept*finished*");
}

/* Constant memory: a huge block is taken only as far as the buffer
 * reaches; the rest waits until frames are popped. */
static void
test_bounded_accept (void)
{
  g_autoptr (RsFeatures) f = new_features (RS_FEATURE_MFCC, 16000, "");
  const gsize n = 16000 * 60;
  g_autofree float *x = g_new0 (float, n);
  float frame[13];
  gsize first, more, total;
  gint64 index, popped = 0;

  first = rs_features_accept (f, x, n);
  g_assert_cmpuint (first, >=, 400);
  g_assert_cmpuint (first, <, 16000);
  g_assert_cmpuint (rs_features_accept (f, x + first, n - first), ==, 0);
  g_assert_true (rs_features_pop (f, frame, &index));
  popped++;
  more = rs_features_accept (f, x + first, n - first);
  g_assert_cmpuint (more, >=, 160);
  total = first + more;
  while (total < n) {
    while (rs_features_pop (f, frame, &index))
      popped++;
    total += rs_features_accept (f, x + total, n - total);
  }
  rs_features_finish (f);
  while (rs_features_pop (f, frame, &index))
    popped++;
  g_assert_cmpint (popped, ==, 1 + (gint64) (n - 400) / 160);
}

/* Dither: deterministic from the seed, different for another seed, and
 * unit-variance Gaussian noise scaled by --dither: on silence with no
 * processing, the raw energy of a frame is log(sum of 400 squares) ~
 * log(400 * dither^2). */
static void
test_dither (void)
{
  const gsize n = 16000 * 4;
  g_autofree float *silence = g_new0 (float, n);
  const gsize whole = 0;
  const char *plain = "--remove-dc-offset=false --preemphasis-coefficient=0 "
                      "--window-type=rectangular --use-energy=true";
  g_autofree char *seed1 = g_strdup_printf ("%s --dither=2 --dither-seed=1", plain);
  g_autofree char *seed1_again = g_strdup_printf ("%s --dither=2 --dither-seed=1", plain);
  g_autofree char *seed2 = g_strdup_printf ("%s --dither=2 --dither-seed=2", plain);
  g_autoptr (RsFeatures) f1 = new_features (RS_FEATURE_FBANK, 16000, seed1);
  g_autoptr (RsFeatures) f1b = new_features (RS_FEATURE_FBANK, 16000, seed1_again);
  g_autoptr (RsFeatures) f2 = new_features (RS_FEATURE_FBANK, 16000, seed2);
  g_autoptr (RsFeatures) f0 = new_features (RS_FEATURE_FBANK, 16000, plain);
  g_autoptr (GArray) a = run_features (f1, silence, n, &whole, 1);
  g_autoptr (GArray) b = run_features (f1b, silence, n, &whole, 1);
  g_autoptr (GArray) c = run_features (f2, silence, n, &whole, 1);
  g_autoptr (GArray) z = run_features (f0, silence, n, &whole, 1);
  const guint dim = rs_features_dim (f1);
  const gsize frames = a->len / dim;
  double mean_energy = 0;

  g_assert_cmpmem (a->data, a->len * sizeof (float), b->data, b->len * sizeof (float));
  g_assert_cmpuint (a->len, ==, c->len);
  g_assert_true (memcmp (a->data, c->data, a->len * sizeof (float)) != 0);
  /* No dither on silence: every energy is log(FLT_EPSILON). */
  g_assert_cmpfloat (g_array_index (z, float, 0), ==, logf (FLT_EPSILON));
  for (gsize t = 0; t < frames; t++)
    mean_energy += g_array_index (a, float, t * dim);
  mean_energy /= (double) frames;
  /* E[log chi^2_400 / 400] ~ -1/400; the spread over 398 frames is tiny. */
  g_assert_cmpfloat_with_epsilon (mean_energy, log (400.0 * 4.0), 0.02);
}

/* Extractors made, run and freed on several threads at once (FFTW's
 * planner is behind the library's lock) compute what one thread does. */
typedef struct {
  const float *x;
  gsize n;
  GArray *reference[3];
} ThreadData;

static const char *const thread_options[] = {
  "", "--round-to-power-of-two=false", "--frame-length=20 --num-mel-bins=30",
};

static gpointer
thread_main (gpointer user_data)
{
  ThreadData *d = user_data;
  const gsize whole = 0;

  for (int i = 0; i < 12; i++) {
    const gsize k = (gsize) i % G_N_ELEMENTS (thread_options);
    g_autoptr (RsFeatures) f = new_features (RS_FEATURE_MFCC, 16000, thread_options[k]);
    g_autoptr (GArray) got = run_features (f, d->x, d->n, &whole, 1);

    g_assert_cmpmem (got->data, got->len * sizeof (float), d->reference[k]->data,
                     d->reference[k]->len * sizeof (float));
  }
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr (RsSafetensors) st = load_fixture ("front_center_16k");
  double rate;
  const RsTensor *x = fixture_samples (st, &rate);
  ThreadData d = { .x = x->data, .n = 8000 };
  GThread *threads[4];
  const gsize whole = 0;

  for (gsize k = 0; k < G_N_ELEMENTS (thread_options); k++) {
    g_autoptr (RsFeatures) f = new_features (RS_FEATURE_MFCC, rate, thread_options[k]);

    d.reference[k] = run_features (f, d.x, d.n, &whole, 1);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("features", thread_main, &d);
  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  for (gsize k = 0; k < G_N_ELEMENTS (thread_options); k++)
    g_array_unref (d.reference[k]);
}

/* ------------------------------------------------------------------------
 * Options */

static void
test_options_defaults (void)
{
  RsFeatureOptions m, fb;
  g_autoptr (RsFeatures) f = NULL;
  g_autoptr (RsFeatures) g = NULL;
  g_autoptr (GError) error = NULL;

  rs_feature_options_init (&m, RS_FEATURE_MFCC, 16000);
  rs_feature_options_init (&fb, RS_FEATURE_FBANK, 16000);
  g_assert_cmpfloat (m.frame_length_ms, ==, 25);
  g_assert_cmpfloat (m.frame_shift_ms, ==, 10);
  g_assert_cmpfloat (m.dither, ==, 0);
  g_assert_cmpfloat (m.preemphasis_coefficient, ==, 0.97);
  g_assert_cmpint (m.window_type, ==, RS_WINDOW_POVEY);
  g_assert_cmpuint (m.num_mel_bins, ==, 23);
  g_assert_cmpuint (m.num_ceps, ==, 13);
  g_assert_cmpfloat (m.cepstral_lifter, ==, 22);
  g_assert_cmpfloat (m.low_freq, ==, 20);
  g_assert_cmpfloat (m.high_freq, ==, 0);
  g_assert_cmpfloat (m.energy_floor, ==, 0);
  g_assert_true (m.use_energy && m.raw_energy && m.snip_edges && m.remove_dc_offset &&
                 m.round_to_power_of_two);
  g_assert_false (fb.use_energy);
  g_assert_true (fb.use_log_fbank && fb.use_power);
  g_assert_cmpuint (rs_feature_options_frame_length (&m), ==, 400);
  g_assert_cmpuint (rs_feature_options_frame_shift (&m), ==, 160);

  f = rs_features_new (&m, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rs_features_dim (f), ==, 13);
  g = rs_features_new (&fb, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rs_features_dim (g), ==, 23);
  fb.use_energy = TRUE;
  g_clear_pointer (&g, rs_features_free);
  g = rs_features_new (&fb, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rs_features_dim (g), ==, 24);
}

static void
test_options_parse (void)
{
  g_autoptr (GError) error = NULL;
  RsFeatureOptions o;
  const char *const args[] = { "--num_ceps=20", "--Use-Energy=F", "--snip-edges",
                               "--window-type=blackman", "--high-freq=-400",
                               "--dither-seed=18446744073709551615", NULL };

  rs_feature_options_init (&o, RS_FEATURE_MFCC, 16000);
  g_assert_true (rs_feature_options_parse (&o, args, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (o.num_ceps, ==, 20);
  g_assert_false (o.use_energy);
  g_assert_true (o.snip_edges);
  g_assert_cmpint (o.window_type, ==, RS_WINDOW_BLACKMAN);
  g_assert_cmpfloat (o.high_freq, ==, -400);
  g_assert_cmpuint (o.dither_seed, ==, G_MAXUINT64);

  /* Only the first n_args are read. */
  rs_feature_options_init (&o, RS_FEATURE_MFCC, 16000);
  g_assert_true (rs_feature_options_parse (&o, args, 1, &error));
  g_assert_cmpuint (o.num_ceps, ==, 20);
  g_assert_true (o.use_energy);

  rs_feature_options_init (&o, RS_FEATURE_FBANK, 8000);
  g_assert_true (rs_feature_options_parse_string (&o, "  --use-power=false\t--num-mel-bins=15\n"
                                                  "--sample-frequency=16000 --use-energy=1 "
                                                  "--snip-edges=0 --energy-floor=1e-2", &error));
  g_assert_no_error (error);
  g_assert_false (o.use_power);
  g_assert_cmpuint (o.num_mel_bins, ==, 15);
  g_assert_cmpfloat (o.sample_frequency, ==, 16000);
  g_assert_true (o.use_energy);
  g_assert_false (o.snip_edges);
  g_assert_cmpfloat (o.energy_floor, ==, 0.01);
  g_assert_true (rs_feature_options_parse_string (&o, NULL, &error));
  g_assert_true (rs_feature_options_parse_string (&o, "", &error));
}

typedef struct {
  RsFeatureKind kind;
  const char *args;
  const char *message;      /* a glob */
} BadOption;

static void
test_options_parse_errors (void)
{
  static const BadOption cases[] = {
    { RS_FEATURE_MFCC, "--num-ceps=abc", "--num-ceps=abc: expected an integer" },
    { RS_FEATURE_MFCC, "--num-ceps=", "--num-ceps=: expected an integer" },
    { RS_FEATURE_MFCC, "--num-ceps", "--num-ceps: expected an integer" },
    { RS_FEATURE_MFCC, "--num-ceps=1.5", "--num-ceps=1.5: expected an integer" },
    { RS_FEATURE_MFCC, "--num-ceps=-1", "--num-ceps=-1: expected an integer from 0 to "
                                        "4294967295" },
    { RS_FEATURE_MFCC, "--num-ceps=99999999999", "--num-ceps=99999999999: expected an "
                                                 "integer from 0 to *" },
    { RS_FEATURE_MFCC, "--use-energy=yes", "--use-energy=yes: expected true or false" },
    { RS_FEATURE_MFCC, "--frame-length=abc", "--frame-length=abc: expected a number" },
    { RS_FEATURE_MFCC, "--frame-length=25ms", "--frame-length=25ms: expected a number" },
    { RS_FEATURE_MFCC, "--frame-length=nan", "--frame-length=nan: expected a finite number" },
    { RS_FEATURE_MFCC, "--low-freq=1e999", "--low-freq=1e999: expected a finite number" },
    { RS_FEATURE_MFCC, "--dither=-1", "--dither=-1: expected a number from 0 to *" },
    { RS_FEATURE_MFCC, "--preemphasis-coefficient=1.5",
      "--preemphasis-coefficient=1.5: expected a number from 0 to 1" },
    { RS_FEATURE_MFCC, "--window-type=hann", "--window-type=hann: expected one of "
                                             "povey|hamming|hanning|rectangular|sine|blackman" },
    { RS_FEATURE_MFCC, "--dither-seed=-3", "--dither-seed=-3: expected an integer from 0 to "
                                           "18446744073709551615" },
    { RS_FEATURE_MFCC, "--dither-seed=18446744073709551616",
      "--dither-seed=18446744073709551616: expected an integer from 0 to *" },
    { RS_FEATURE_MFCC, "--frame-lenght=25", "unknown option --frame-lenght "
                                            "(compute-mfcc-feats)" },
    { RS_FEATURE_MFCC, "--htk-compat=true", "unknown option --htk-compat*" },
    { RS_FEATURE_MFCC, "num-ceps=13", "'num-ceps=13': expected --name=value" },
    { RS_FEATURE_MFCC, "-num-ceps=13", "'-num-ceps=13': expected --name=value" },
    { RS_FEATURE_MFCC, "--", "'--': expected --name=value" },
    { RS_FEATURE_MFCC, "--=3", "'--=3': expected --name=value" },
    { RS_FEATURE_MFCC, "--use-power=false", "--use-power is an option of compute-fbank-feats, "
                                            "not of compute-mfcc-feats" },
    { RS_FEATURE_FBANK, "--num-ceps=13", "--num-ceps is an option of compute-mfcc-feats, "
                                         "not of compute-fbank-feats" },
    { RS_FEATURE_FBANK, "--cepstral-lifter=0", "--cepstral-lifter is an option of "
                                               "compute-mfcc-feats*" },
    { RS_FEATURE_FBANK, "--num-mel-bins=40 --low-freq=x", "--low-freq=x: expected a number" },
  };

  /* White space inside a value (only possible with separate arguments). */
  {
    g_autoptr (GError) error = NULL;
    const char *const args[] = { "--frame-length= 25" };
    RsFeatureOptions o;

    rs_feature_options_init (&o, RS_FEATURE_MFCC, 16000);
    g_assert_false (rs_feature_options_parse (&o, args, 1, &error));
    g_assert_error (error, RS_ERROR, RS_ERROR_PARSE);
    g_assert_cmpstr (error->message, ==, "--frame-length= 25: expected a number");
  }

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    RsFeatureOptions o;

    rs_feature_options_init (&o, cases[i].kind, 16000);
    g_assert_false (rs_feature_options_parse_string (&o, cases[i].args, &error));
    g_assert_error (error, RS_ERROR, RS_ERROR_PARSE);
    if (!g_pattern_match_simple (cases[i].message, error->message))
      g_error ("%s: message '%s', expected '%s'", cases[i].args, error->message,
               cases[i].message);
  }
}

static void
test_options_check (void)
{
  static const BadOption cases[] = {
    { RS_FEATURE_MFCC, "--high-freq=9000", "*--high-freq=9000*8000 Hz*" },
    { RS_FEATURE_MFCC, "--low-freq=8000", "*--low-freq=8000*" },
    { RS_FEATURE_MFCC, "--low-freq=-1", "*--low-freq=-1*" },
    { RS_FEATURE_MFCC, "--low-freq=4000 --high-freq=3000", "*--low-freq=4000*empty*" },
    { RS_FEATURE_MFCC, "--low-freq=4000 --high-freq=-4000", "*--high-freq=-4000*" },
    { RS_FEATURE_MFCC, "--high-freq=-8000", "*--high-freq=-8000*" },
    { RS_FEATURE_FBANK, "--num-mel-bins=128 --frame-length=10",
      "mel bin 0 of --num-mel-bins=128 covers no FFT bin*256-point FFT*" },
    { RS_FEATURE_FBANK, "--num-mel-bins=2", "--num-mel-bins=2: must have at least 3*" },
    { RS_FEATURE_FBANK, "--num-mel-bins=4294967295",
      "--num-mel-bins=4294967295: too many mel bins for a 512-point FFT" },
    { RS_FEATURE_MFCC, "--num-ceps=24", "--num-ceps=24: must be from 1 to --num-mel-bins (23)" },
    { RS_FEATURE_MFCC, "--num-ceps=0", "--num-ceps=0*" },
    { RS_FEATURE_MFCC, "--frame-length=0.0625", "--frame-length=0.0625 ms is 1 samples*" },
    { RS_FEATURE_MFCC, "--frame-length=-25", "--frame-length=-25 ms*" },
    { RS_FEATURE_MFCC, "--frame-shift=0.05", "--frame-shift=0.05 ms is 0 samples*" },
    { RS_FEATURE_MFCC, "--frame-length=100000", "--frame-length=100000 ms*must be 2 to *" },
    { RS_FEATURE_MFCC, "--round-to-power-of-two=false --frame-length=25.0625",
      "--frame-length=25.0625 ms is 401 samples*odd FFT length*" },
    { RS_FEATURE_MFCC, "--sample-frequency=0", "the sample frequency must be positive*" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GError) parse_error = NULL;
    g_autoptr (RsFeatures) f = NULL;
    RsFeatureOptions o;

    rs_feature_options_init (&o, cases[i].kind, 16000);
    g_assert_true (rs_feature_options_parse_string (&o, cases[i].args, &parse_error));
    g_assert_no_error (parse_error);
    g_assert_false (rs_feature_options_check (&o, &error));
    g_assert_error (error, RS_ERROR, RS_ERROR_FAILED);
    if (!g_pattern_match_simple (cases[i].message, error->message))
      g_error ("%s: message '%s', expected '%s'", cases[i].args, error->message,
               cases[i].message);
    g_clear_error (&error);
    f = rs_features_new (&o, &error);
    g_assert_null (f);
    g_assert_error (error, RS_ERROR, RS_ERROR_FAILED);
  }

  /* Limits that hold: exactly Nyquist, 3 bins, num-ceps = num-mel-bins. */
  {
    g_autoptr (GError) error = NULL;
    RsFeatureOptions o;

    rs_feature_options_init (&o, RS_FEATURE_MFCC, 16000);
    g_assert_true (rs_feature_options_parse_string (&o, "--high-freq=8000 --low-freq=0 "
                                                    "--num-mel-bins=3 --num-ceps=3", &error));
    g_assert_true (rs_feature_options_check (&o, &error));
    g_assert_no_error (error);
    o.sample_frequency = NAN;
    g_assert_false (rs_feature_options_check (&o, &error));
    g_assert_error (error, RS_ERROR, RS_ERROR_FAILED);
  }
}

/* to_string writes options that parse back to the same struct. */
static void
test_options_to_string (void)
{
  static const OptionSet sets[] = {
    { RS_FEATURE_MFCC, "", FALSE },
    { RS_FEATURE_MFCC, "--num-ceps=20 --cepstral-lifter=0 --frame-length=25.0625 "
                       "--preemphasis-coefficient=0.1 --dither=0.3 --dither-seed=99 "
                       "--window-type=sine --high-freq=-400", FALSE },
    { RS_FEATURE_FBANK, "--use-power=false --use-log-fbank=false --use-energy=true "
                        "--energy-floor=1 --window-type=blackman --blackman-coeff=0.45", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (sets); i++) {
    g_autoptr (GError) error = NULL;
    g_autofree char *text = NULL;
    RsFeatureOptions a, b;

    rs_feature_options_init (&a, sets[i].kind, 16000);
    g_assert_true (rs_feature_options_parse_string (&a, sets[i].options, &error));
    text = rs_feature_options_to_string (&a);
    rs_feature_options_init (&b, sets[i].kind, 16000);
    g_assert_true (rs_feature_options_parse_string (&b, text, &error));
    g_assert_no_error (error);
    g_assert_cmpmem (&a, sizeof a, &b, sizeof b);
  }
}

/* ------------------------------------------------------------------------
 * Deltas */

static float *
ramp_frames (gsize n_frames, guint dim)
{
  float *x = g_new (float, n_frames * dim);

  /* Smooth, non-polynomial, and different per dimension. */
  for (gsize t = 0; t < n_frames; t++)
    for (guint k = 0; k < dim; k++)
      x[t * dim + k] = (float) (sin (0.1 * (double) t * (k + 1)) * 10.0 + (double) k);
  return x;
}

static void
test_deltas_streaming (void)
{
  g_autoptr (GError) error = NULL;
  RsDeltaOptions o;
  g_autoptr (RsDeltas) d = NULL;
  const guint dim = 3;
  const gsize n = 50;
  g_autofree float *x = ramp_frames (n, dim);
  g_autoptr (GArray) whole = NULL;
  float out[9];
  gint64 index, popped = 0;

  rs_delta_options_init (&o);
  g_assert_cmpuint (o.order, ==, 2);
  g_assert_cmpuint (o.window, ==, 2);
  d = rs_deltas_new (dim, &o, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rs_deltas_dim (d), ==, 9);
  g_assert_cmpuint (rs_deltas_input_dim (d), ==, 3);
  g_assert_cmpuint (rs_deltas_latency (d), ==, 4);

  /* Output t is ready once frame t + 4 is in, and not before. */
  for (gsize t = 0; t < n; t++) {
    g_assert_cmpuint (rs_deltas_accept (d, x + t * dim, 1), ==, 1);
    while (rs_deltas_pop (d, out, &index))
      popped++;
    g_assert_cmpint (popped, ==, MAX (0, (gint64) t + 1 - 4));
  }
  rs_deltas_finish (d);
  while (rs_deltas_pop (d, out, &index))
    popped++;
  g_assert_cmpint (popped, ==, (gint64) n);

  rs_deltas_reset (d);
  whole = run_deltas (d, x, n, 0);
  for (gsize block = 1; block <= 9; block += 4) {
    g_autoptr (GArray) got = NULL;

    rs_deltas_reset (d);
    got = run_deltas (d, x, n, block);
    g_assert_cmpmem (got->data, got->len * sizeof (float), whole->data,
                     whole->len * sizeof (float));
  }

  /* Bounded buffer: a large block is taken only partly until popped. */
  {
    g_autofree float *many = ramp_frames (1000, dim);
    gsize took;

    rs_deltas_reset (d);
    took = rs_deltas_accept (d, many, 1000);
    g_assert_cmpuint (took, <, 1000);
    g_assert_cmpuint (took, >=, 9);
    g_assert_cmpuint (rs_deltas_accept (d, many + took * dim, 1000 - took), ==, 0);
    /* Frame 0 is read by outputs 0 to 4 (the edge is replicated): its
     * slot is free after the fifth pop. */
    for (int i = 0; i < 5; i++) {
      g_assert_true (rs_deltas_pop (d, out, &index));
      g_assert_cmpuint (rs_deltas_accept (d, many + took * dim, 1000 - took), ==, i == 4);
    }
  }

  /* One frame alone: its derivatives are zero (edges replicated). */
  rs_deltas_reset (d);
  g_assert_cmpuint (rs_deltas_accept (d, x, 1), ==, 1);
  g_assert_false (rs_deltas_pop (d, out, &index));
  rs_deltas_finish (d);
  g_assert_true (rs_deltas_pop (d, out, &index));
  g_assert_cmpmem (out, 3 * sizeof (float), x, 3 * sizeof (float));
  /* Zero up to rounding: the taps +-0.1, +-0.2 sum in float as in Kaldi. */
  for (int k = 3; k < 9; k++)
    g_assert_cmpfloat_with_epsilon (out[k], 0.0f, 1e-6);
  g_assert_false (rs_deltas_pop (d, out, &index));
}

/* A straight line: the first derivative is its slope (inside), the second
 * zero; order 0 copies. */
static void
test_deltas_values (void)
{
  g_autoptr (GError) error = NULL;
  RsDeltaOptions o = { .order = 2, .window = 2 };
  g_autoptr (RsDeltas) d = rs_deltas_new (1, &o, &error);
  RsDeltaOptions o0 = { .order = 0, .window = 1 };
  g_autoptr (RsDeltas) d0 = rs_deltas_new (2, &o0, &error);
  float line[20];
  g_autoptr (GArray) got = NULL;
  g_autoptr (GArray) copy = NULL;

  g_assert_no_error (error);
  for (int t = 0; t < 20; t++)
    line[t] = 3.0f * (float) t + 1.0f;
  got = run_deltas (d, line, 20, 0);
  for (int t = 4; t < 16; t++) {
    g_assert_cmpfloat_with_epsilon (g_array_index (got, float, t * 3 + 1), 3.0f, 1e-5);
    g_assert_cmpfloat_with_epsilon (g_array_index (got, float, t * 3 + 2), 0.0f, 1e-5);
  }
  /* At the first frame the replicated edge flattens the line: with x0 = 1,
   * (-2 x0 - x0 + 0 + x1 + 2 x2) / 10 = (-3 + 4 + 14) / 10 = 1.5. */
  g_assert_cmpfloat_with_epsilon (g_array_index (got, float, 1), 1.5f, 1e-5);

  g_assert_cmpuint (rs_deltas_latency (d0), ==, 0);
  copy = run_deltas (d0, line, 10, 3);
  g_assert_cmpmem (copy->data, copy->len * sizeof (float), line, 20 * sizeof (float));
}

static void
test_deltas_options (void)
{
  g_autoptr (GError) error = NULL;
  RsDeltaOptions o;
  const char *const args[] = { "--delta-order=3", "--delta_window=1" };

  rs_delta_options_init (&o);
  g_assert_true (rs_delta_options_parse (&o, args, 2, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (o.order, ==, 3);
  g_assert_cmpuint (o.window, ==, 1);

  g_assert_false (rs_delta_options_parse_string (&o, "--delta-window=0", &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_PARSE);
  g_assert_cmpstr (error->message, ==, "--delta-window=0: expected an integer from 1 to 100");
  g_clear_error (&error);
  g_assert_false (rs_delta_options_parse_string (&o, "--delta-order=x", &error));
  g_assert_cmpstr (error->message, ==, "--delta-order=x: expected an integer");
  g_clear_error (&error);
  g_assert_false (rs_delta_options_parse_string (&o, "--order=2", &error));
  g_assert_cmpstr (error->message, ==, "unknown option --order (add-deltas)");
  g_clear_error (&error);

  o.order = 9;
  o.window = 2;
  g_assert_null (rs_deltas_new (4, &o, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_FAILED);
  g_clear_error (&error);
  o.order = 2;
  o.window = 0;
  g_assert_null (rs_deltas_new (4, &o, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_FAILED);
}

/* ------------------------------------------------------------------------
 * CMVN */

static void
test_cmvn_streaming (void)
{
  g_autoptr (GError) error = NULL;
  RsCmvnOptions o;
  g_autoptr (RsCmvn) c = NULL;
  const guint dim = 2;
  const gsize n = 800;
  g_autofree float *x = ramp_frames (n, dim);
  g_autoptr (GArray) whole = NULL;
  float out[2];
  gint64 index, popped = 0;

  rs_cmvn_options_init (&o);
  g_assert_cmpuint (o.cmn_window, ==, 600);
  g_assert_cmpuint (o.min_cmn_window, ==, 100);
  g_assert_false (o.norm_vars);
  g_assert_false (o.center);
  c = rs_cmvn_new (dim, &o, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rs_cmvn_dim (c), ==, 2);

  /* Nothing until min-cmn-window frames are in, then the first 100 at
   * once, then one per frame. */
  for (gsize t = 0; t < n; t++) {
    g_assert_cmpuint (rs_cmvn_accept (c, x + t * dim, 1), ==, 1);
    while (rs_cmvn_pop (c, out, &index))
      popped++;
    g_assert_cmpint (popped, ==, t + 1 < 100 ? 0 : (gint64) t + 1);
  }
  rs_cmvn_finish (c);
  g_assert_false (rs_cmvn_pop (c, out, &index));

  rs_cmvn_reset (c);
  whole = run_cmvn (c, x, n, 0);
  for (gsize block = 1; block <= 700; block = block * 7 + 2) {
    g_autoptr (GArray) got = NULL;

    rs_cmvn_reset (c);
    got = run_cmvn (c, x, n, block);
    g_assert_cmpmem (got->data, got->len * sizeof (float), whole->data,
                     whole->len * sizeof (float));
  }

  /* A short signal: every frame waits for finish, and each is normalised
   * by the mean of the whole signal (the window is cut to it). */
  {
    const gsize m = 60;
    double mean[2] = { 0, 0 };

    rs_cmvn_reset (c);
    g_assert_cmpuint (rs_cmvn_accept (c, x, m), ==, m);
    g_assert_false (rs_cmvn_pop (c, out, &index));
    rs_cmvn_finish (c);
    for (gsize t = 0; t < m; t++)
      for (guint k = 0; k < dim; k++)
        mean[k] += x[t * dim + k] / (double) m;
    for (gsize t = 0; t < m; t++) {
      g_assert_true (rs_cmvn_pop (c, out, &index));
      g_assert_cmpint (index, ==, (gint64) t);
      for (guint k = 0; k < dim; k++)
        g_assert_cmpfloat_with_epsilon (out[k], x[t * dim + k] - mean[k], 1e-5);
    }
    g_assert_false (rs_cmvn_pop (c, out, &index));
  }
}

/* With center, output t waits for frame t + cmn_window / 2 - 1 (frame
 * cmn_window - 1 at the start). */
static void
test_cmvn_center (void)
{
  g_autoptr (GError) error = NULL;
  RsCmvnOptions o = { .cmn_window = 60, .min_cmn_window = 10, .norm_vars = TRUE,
                      .center = TRUE };
  g_autoptr (RsCmvn) c = rs_cmvn_new (2, &o, &error);
  const gsize n = 200;
  g_autofree float *x = ramp_frames (n, 2);
  g_autoptr (GArray) whole = NULL;
  float out[2];
  gint64 index, popped = 0;

  g_assert_no_error (error);
  for (gsize t = 0; t < n; t++) {
    gint64 ready;

    g_assert_cmpuint (rs_cmvn_accept (c, x + t * 2, 1), ==, 1);
    while (rs_cmvn_pop (c, out, &index))
      popped++;
    /* Output u needs frames up to max(u + 30, 60) - 1. */
    ready = (gint64) t + 1 < 60 ? 0 : (gint64) t + 1 - 30 + 1;
    g_assert_cmpint (popped, ==, ready);
  }
  rs_cmvn_finish (c);
  while (rs_cmvn_pop (c, out, &index))
    popped++;
  g_assert_cmpint (popped, ==, (gint64) n);

  rs_cmvn_reset (c);
  whole = run_cmvn (c, x, n, 0);
  for (gsize block = 1; block < 100; block += 30) {
    g_autoptr (GArray) got = NULL;

    rs_cmvn_reset (c);
    got = run_cmvn (c, x, n, block);
    g_assert_cmpmem (got->data, got->len * sizeof (float), whole->data,
                     whole->len * sizeof (float));
  }
}

/* A prior of mean m and deviation s weighted as 2 frames is two frames
 * m - s and m + s in front of the signal, kept in the window for good:
 * with a window longer than the signal the outputs must agree. Also: a
 * prior keeps the first word after a silence within range. */
static void
test_cmvn_prior (void)
{
  g_autoptr (GError) error = NULL;
  RsCmvnOptions o = { .cmn_window = 1000, .min_cmn_window = 0, .norm_vars = TRUE };
  g_autoptr (RsCmvn) with = rs_cmvn_new (2, &o, &error);
  g_autoptr (RsCmvn) without = rs_cmvn_new (2, &o, &error);
  const double mean[2] = { 3.0, -1.0 }, std[2] = { 2.0, 0.5 };
  const gsize n = 300;
  g_autofree float *x = ramp_frames (n, 2);
  g_autofree float *padded = g_new (float, (n + 2) * 2);
  g_autoptr (GArray) got = NULL, want = NULL;

  g_assert_no_error (error);
  g_assert_true (rs_cmvn_set_prior (with, mean, std, 2, &error));
  g_assert_no_error (error);
  for (guint k = 0; k < 2; k++) {
    padded[k] = (float) (mean[k] - std[k]);
    padded[2 + k] = (float) (mean[k] + std[k]);
  }
  memcpy (padded + 4, x, n * 2 * sizeof (float));
  got = run_cmvn (with, x, n, 7);
  want = run_cmvn (without, padded, n + 2, 7);
  g_assert_cmpuint (got->len, ==, n * 2);
  g_assert_cmpfloat (max_abs_diff ((const float *) got->data,
                                   (const float *) want->data + 4, n * 2), <, 1e-5);
  /* Kept across a reset. */
  rs_cmvn_reset (with);
  g_clear_pointer (&got, g_array_unref);
  got = run_cmvn (with, x, n, 0);
  g_assert_cmpfloat (max_abs_diff ((const float *) got->data,
                                   (const float *) want->data + 4, n * 2), <, 1e-5);

  /* 5 s of near-silence, then the first frame of speech: without a prior
   * it comes out over 20 deviations high (the silence's own deviation is
   * 5e-4; the frame's only bound is itself), with one near 2. */
  {
    RsCmvnOptions w = { .cmn_window = 600, .min_cmn_window = 0, .norm_vars = TRUE };
    g_autoptr (RsCmvn) a = rs_cmvn_new (1, &w, &error), b = rs_cmvn_new (1, &w, &error);
    const double m = 0, sd = 1;
    float frame, out_a = 0, out_b = 0;
    gint64 index;

    g_assert_true (rs_cmvn_set_prior (b, &m, &sd, 200, &error));
    for (guint t = 0; t <= 500; t++) {
      frame = t < 500 ? -3.0f + 1e-3f * (float) (t % 2) : 1.0f;
      rs_cmvn_accept (a, &frame, 1);
      rs_cmvn_accept (b, &frame, 1);
      while (rs_cmvn_pop (a, &out_a, &index));
      while (rs_cmvn_pop (b, &out_b, &index));
    }
    g_assert_cmpfloat (out_a, >, 20);
    g_assert_cmpfloat (out_b, <, 3);
  }

  /* Not with a centred window; deviations must be >= 0. */
  {
    RsCmvnOptions c = { .cmn_window = 100, .min_cmn_window = 10, .center = TRUE };
    g_autoptr (RsCmvn) centred = rs_cmvn_new (2, &c, &error);
    const double bad[2] = { 1, -1 };

    g_assert_false (rs_cmvn_set_prior (centred, mean, std, 2, &error));
    g_assert_error (error, RS_ERROR, RS_ERROR_FAILED);
    g_clear_error (&error);
    g_assert_false (rs_cmvn_set_prior (with, mean, bad, 2, &error));
    g_assert_error (error, RS_ERROR, RS_ERROR_FAILED);
  }
}

static void
test_cmvn_options (void)
{
  g_autoptr (GError) error = NULL;
  RsCmvnOptions o;

  rs_cmvn_options_init (&o);
  g_assert_true (rs_cmvn_options_parse_string (&o, "--cmn-window=300 --min-cmn-window=50 "
                                               "--norm-vars --center=true", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (o.cmn_window, ==, 300);
  g_assert_cmpuint (o.min_cmn_window, ==, 50);
  g_assert_true (o.norm_vars);
  g_assert_true (o.center);

  g_assert_false (rs_cmvn_options_parse_string (&o, "--cmn-window=0", &error));
  g_assert_cmpstr (error->message, ==, "--cmn-window=0: expected an integer from 1 to 1000000");
  g_clear_error (&error);
  g_assert_false (rs_cmvn_options_parse_string (&o, "--norm-vars=maybe", &error));
  g_assert_cmpstr (error->message, ==, "--norm-vars=maybe: expected true or false");
  g_clear_error (&error);
  g_assert_false (rs_cmvn_options_parse_string (&o, "--cmn_window=6 --window=3", &error));
  g_assert_cmpstr (error->message, ==, "unknown option --window (apply-cmvn-sliding)");
  g_clear_error (&error);

  rs_cmvn_options_init (&o);
  o.center = TRUE;
  o.min_cmn_window = 700;
  g_assert_null (rs_cmvn_new (3, &o, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_FAILED);
  g_clear_error (&error);
  o.min_cmn_window = 0;
  g_assert_null (rs_cmvn_new (3, &o, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_FAILED);
  g_clear_error (&error);
  o.center = FALSE;
  o.cmn_window = 0;
  g_assert_null (rs_cmvn_new (3, &o, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_FAILED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/features/reference", test_reference);
  g_test_add_func ("/features/block-invariance", test_block_invariance);
  g_test_add_func ("/features/frame-counts", test_frame_counts);
  g_test_add_func ("/features/finish-and-reset", test_finish_and_reset);
  g_test_add_func ("/features/bounded-accept", test_bounded_accept);
  g_test_add_func ("/features/dither", test_dither);
  g_test_add_func ("/features/threads", test_threads);
  g_test_add_func ("/features/options/defaults", test_options_defaults);
  g_test_add_func ("/features/options/parse", test_options_parse);
  g_test_add_func ("/features/options/parse-errors", test_options_parse_errors);
  g_test_add_func ("/features/options/check", test_options_check);
  g_test_add_func ("/features/options/to-string", test_options_to_string);
  g_test_add_func ("/deltas/streaming", test_deltas_streaming);
  g_test_add_func ("/deltas/values", test_deltas_values);
  g_test_add_func ("/deltas/options", test_deltas_options);
  g_test_add_func ("/cmvn/streaming", test_cmvn_streaming);
  g_test_add_func ("/cmvn/center", test_cmvn_center);
  g_test_add_func ("/cmvn/options", test_cmvn_options);
  g_test_add_func ("/cmvn/prior", test_cmvn_prior);
  return g_test_run ();
}
