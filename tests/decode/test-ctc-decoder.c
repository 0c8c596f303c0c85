/* The CTC decoders: hand-worked cases (collapsing, blanks between repeats,
 * a labelling more probable than the best path, token timing), the prefix
 * search against a brute-force sum over every alignment of short random
 * inputs, streaming (any cut of a stream into pushes gives the same
 * tokens; a long stream in bounded memory with its tokens drained; the
 * clock across resets), word lists for word-unit and character models,
 * the text of a result, and option errors. */
#include <math.h>
#include <string.h>

#include <rnnstream/ctc-decoder.h>
#include <rnnstream/error.h>

/* Frame t of logits: class cls with probability p, the rest shared
 * equally. The logits are the log-probabilities, so the decoder's
 * log-softmax gives them back. */
static void
peak (float *logits, guint n_classes, guint t, guint cls, double p)
{
  for (guint k = 0; k < n_classes; k++)
    logits[t * n_classes + k] = (float) log (k == cls ? p : (1 - p) / (n_classes - 1));
}

/* Frame t from n_classes probabilities. */
static void
probs (float *logits, guint n_classes, guint t, const double *p)
{
  for (guint k = 0; k < n_classes; k++)
    logits[t * n_classes + k] = (float) log (p[k]);
}

static RsCtcDecoder *
decoder (guint n_classes, guint beam, RsCtcSearch search)
{
  RsCtcDecoderOptions o = RS_CTC_DECODER_OPTIONS_INIT;
  g_autoptr (GError) error = NULL;
  RsCtcDecoder *d;

  o.n_classes = n_classes;
  o.beam = beam;
  o.search = search;
  d = rs_ctc_decoder_new (&o, &error);
  g_assert_no_error (error);
  return d;
}

/* The labels of a result as a string of digits, for short assertions. */
static char *
labels_of (const RsCtcToken *t, guint n)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%u", t[i].label);
  return g_string_free (s, FALSE);
}

static void
assert_tokens_equal (const RsCtcToken *a, guint na, const RsCtcToken *b, guint nb)
{
  g_assert_cmpuint (na, ==, nb);
  for (guint i = 0; i < na; i++) {
    g_assert_cmpuint (a[i].label, ==, b[i].label);
    g_assert_cmpint (a[i].start_frame, ==, b[i].start_frame);
    g_assert_cmpint (a[i].end_frame, ==, b[i].end_frame);
    g_assert_cmpfloat (a[i].confidence, ==, b[i].confidence);
  }
}

/* Runs the same frames through greedy, prefix search with beam 1 and
 * prefix search with beam 8; all three must agree (peaky frames, where the
 * best path is the best labelling) and the tokens are returned from the
 * first. The margin of 1.5 leaves only a frame's peak (0.8 against 0.1 at
 * most, log 8 = 2.08) to extend a prefix, so that no weaker prefix is
 * extended before it becomes the best and keeps an earlier timing (see the
 * header's Timing). */
static GArray *
decode_three_ways (guint n_classes, guint n_frames, const float *logits)
{
  const RsCtcSearch searches[] = { RS_CTC_SEARCH_GREEDY, RS_CTC_SEARCH_PREFIX,
                                   RS_CTC_SEARCH_PREFIX };
  const guint beams[] = { 1, 1, 8 };
  GArray *first = g_array_new (FALSE, FALSE, sizeof (RsCtcToken));

  for (guint s = 0; s < 3; s++) {
    RsCtcDecoderOptions o = RS_CTC_DECODER_OPTIONS_INIT;
    g_autoptr (RsCtcDecoder) d = NULL;
    const RsCtcToken *t;
    guint n;

    o.n_classes = n_classes;
    o.beam = beams[s];
    o.search = searches[s];
    o.prune_margin = 1.5f;
    d = rs_ctc_decoder_new (&o, NULL);

    rs_ctc_decoder_push (d, n_frames, logits);
    t = rs_ctc_decoder_get_result (d, &n);
    if (s == 0)
      g_array_append_vals (first, t, n);
    else
      assert_tokens_equal (t, n, (RsCtcToken *) (gpointer) first->data, first->len);
  }
  return first;
}

#define TOKENS(a) ((const RsCtcToken *) (gpointer) (a)->data)

static void
test_collapse (void)
{
  float x[4 * 3];

  /* Classes: 0 blank, 1 a, 2 b; every frame 0.8 on one class.
   * a a a: one run, one token a over frames 0..2. */
  for (guint t = 0; t < 3; t++)
    peak (x, 3, t, 1, 0.8);
  {
    g_autoptr (GArray) r = decode_three_ways (3, 3, x);
    g_autofree char *s = labels_of (TOKENS (r), r->len);

    g_assert_cmpstr (s, ==, "1");
    g_assert_cmpint (TOKENS (r)[0].start_frame, ==, 0);
    g_assert_cmpint (TOKENS (r)[0].end_frame, ==, 2);
    g_assert_cmpfloat_with_epsilon (TOKENS (r)[0].confidence, 0.8, 1e-6);
  }

  /* a _ a: the blank keeps both. Prefix search with beam 1 at frame 2:
   * "a" stays with (0.8 * 0.8 + 0.8 * 0.1) * 0.1 + 0.8 * 0.1 * 0.8 = 0.136,
   * "aa" = b("a") * 0.8 = 0.64 * 0.8 = 0.512: two tokens. */
  peak (x, 3, 1, 0, 0.8);
  {
    g_autoptr (GArray) r = decode_three_ways (3, 3, x);
    g_autofree char *s = labels_of (TOKENS (r), r->len);

    g_assert_cmpstr (s, ==, "11");
    g_assert_cmpint (TOKENS (r)[0].end_frame, ==, 0);
    g_assert_cmpint (TOKENS (r)[1].start_frame, ==, 2);
  }

  /* a a b b: a change of label needs no blank. */
  peak (x, 3, 0, 1, 0.8);
  peak (x, 3, 1, 1, 0.8);
  peak (x, 3, 2, 2, 0.8);
  peak (x, 3, 3, 2, 0.8);
  {
    g_autoptr (GArray) r = decode_three_ways (3, 4, x);
    g_autofree char *s = labels_of (TOKENS (r), r->len);

    g_assert_cmpstr (s, ==, "12");
    g_assert_cmpint (TOKENS (r)[0].end_frame, ==, 1);
    g_assert_cmpint (TOKENS (r)[1].start_frame, ==, 2);
    g_assert_cmpint (TOKENS (r)[1].end_frame, ==, 3);
  }

  /* Blanks only: nothing. */
  for (guint t = 0; t < 4; t++)
    peak (x, 3, t, 0, 0.8);
  {
    g_autoptr (GArray) r = decode_three_ways (3, 4, x);

    g_assert_cmpuint (r->len, ==, 0);
  }
}

/* The best path is not the best labelling. Two classes (0 blank, 1 a),
 * two frames of p(blank) = 0.6, p(a) = 0.4:
 *   greedy: blank blank, "" with 0.36;
 *   p("a") = P(a a) + P(a _) + P(_ a) = 0.16 + 0.24 + 0.24 = 0.64 > 0.36.
 * Prefix search with beam 2 finds "a" with log 0.64; with beam 1 it keeps
 * "" after frame 0 (0.6 > 0.4) and then ("" 0.36 against "a" 0.24). */
static void
test_beam_beats_greedy (void)
{
  const double p[2] = { 0.6, 0.4 };
  float x[2 * 2];
  const RsCtcToken *t;
  guint n;

  probs (x, 2, 0, p);
  probs (x, 2, 1, p);
  {
    g_autoptr (RsCtcDecoder) d = decoder (2, 1, RS_CTC_SEARCH_AUTO);

    rs_ctc_decoder_push (d, 2, x);
    t = rs_ctc_decoder_get_result (d, &n);
    g_assert_cmpuint (n, ==, 0);
    g_assert_cmpfloat_with_epsilon (rs_ctc_decoder_get_score (d), log (0.36), 1e-6);
  }
  {
    g_autoptr (RsCtcDecoder) d = decoder (2, 1, RS_CTC_SEARCH_PREFIX);

    rs_ctc_decoder_push (d, 2, x);
    t = rs_ctc_decoder_get_result (d, &n);
    g_assert_cmpuint (n, ==, 0);
    g_assert_cmpfloat_with_epsilon (rs_ctc_decoder_get_score (d), log (0.36), 1e-6);
  }
  {
    g_autoptr (RsCtcDecoder) d = decoder (2, 2, RS_CTC_SEARCH_AUTO);

    rs_ctc_decoder_push (d, 2, x);
    t = rs_ctc_decoder_get_result (d, &n);
    g_assert_cmpuint (n, ==, 1);
    g_assert_cmpuint (t[0].label, ==, 1);
    g_assert_cmpfloat_with_epsilon (rs_ctc_decoder_get_score (d), log (0.64), 1e-6);
    /* "a" was first hypothesised at frame 0 (a a and a _ made it). */
    g_assert_cmpint (t[0].start_frame, ==, 0);
  }
}

/* Timing on the stream's clock: a decoder reset to frame 100 sees
 *   frame: 100 101 102 103 104 105 106 107 108
 *   class:  a   a   _   b   b   b   _   _   a     (0.9 each)
 * so a over 100..101, b over 103..105, a at 108, each with confidence 0.9;
 * the last frame's blank posterior is 0.05. */
static void
test_timing (void)
{
  const guint cls[] = { 1, 1, 0, 2, 2, 2, 0, 0, 1 };
  const gint64 want[3][2] = { { 100, 101 }, { 103, 105 }, { 108, 108 } };
  float x[9 * 3];

  for (guint t = 0; t < 9; t++)
    peak (x, 3, t, cls[t], 0.9);
  /* Greedy; prefix search with beam 1; beam 8 with a margin of 2.5, which
   * leaves only the peak (log (0.9 / 0.05) = 2.89) to extend a prefix. */
  for (guint run = 0; run < 3; run++) {
    RsCtcDecoderOptions o = RS_CTC_DECODER_OPTIONS_INIT;
    g_autoptr (RsCtcDecoder) d = NULL;
    const RsCtcToken *t;
    guint n;

    o.n_classes = 3;
    o.beam = run < 2 ? 1 : 8;
    o.search = run == 0 ? RS_CTC_SEARCH_GREEDY : RS_CTC_SEARCH_PREFIX;
    o.prune_margin = 2.5f;
    d = rs_ctc_decoder_new (&o, NULL);

    rs_ctc_decoder_reset (d, 100);
    rs_ctc_decoder_push (d, 9, x);
    g_assert_cmpint (rs_ctc_decoder_get_next_frame (d), ==, 109);
    g_assert_cmpfloat_with_epsilon (rs_ctc_decoder_get_blank_prob (d), 0.05, 1e-6);
    t = rs_ctc_decoder_get_result (d, &n);
    g_assert_cmpuint (n, ==, 3);
    for (guint i = 0; i < 3; i++) {
      g_assert_cmpuint (t[i].label, ==, i == 1 ? 2 : 1);
      g_assert_cmpint (t[i].start_frame, ==, want[i][0]);
      g_assert_cmpint (t[i].end_frame, ==, want[i][1]);
      g_assert_cmpfloat_with_epsilon (t[i].confidence, 0.9, 1e-5);
    }
  }

  /* With every class a candidate, the beam also holds "ab" from frame 101
   * (b at 0.05), which is extended (by a at 0.05) before the real b at
   * 103 makes it the best: a node with extensions keeps its timing (see
   * the header's Timing), so b may start early and a's and b's runs may
   * end early, but the tokens stay in order, and inside the frames
   * where their labels were possible. */
  {
    g_autoptr (RsCtcDecoder) d = decoder (3, 8, RS_CTC_SEARCH_PREFIX);
    const RsCtcToken *t;
    guint n;

    rs_ctc_decoder_reset (d, 100);
    rs_ctc_decoder_push (d, 9, x);
    t = rs_ctc_decoder_get_result (d, &n);
    g_assert_cmpuint (n, ==, 3);
    for (guint i = 0; i < 3; i++) {
      g_assert_cmpuint (t[i].label, ==, i == 1 ? 2 : 1);
      g_assert_cmpint (t[i].start_frame, <=, want[i][0]);
      g_assert_cmpint (t[i].start_frame, >=, i == 0 ? 100 : t[i - 1].end_frame + 1);
      g_assert_cmpint (t[i].end_frame, >=, t[i].start_frame);
      g_assert_cmpint (t[i].end_frame, <=, want[i][1]);
      g_test_message ("token %u: frames %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, i,
                      t[i].start_frame, t[i].end_frame);
    }
  }
}

/* Brute force: every one of n_classes^T alignments, its probability added
 * to its collapsed labelling's. Returns the best labelling (as digits),
 * its probability, the runner-up's, and the best single path's
 * labelling and probability. */
typedef struct {
  char *best;
  double p_best, p_second;
  char *path_labels;
  double p_path;
} Brute;

static void
brute_force (const float *x, guint T, guint C, Brute *out)
{
  g_autoptr (GHashTable) sums = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  double lp[8][4];
  guint path[8] = { 0 };
  GHashTableIter it;
  gpointer key, value;

  for (guint t = 0; t < T; t++) {
    double m = -INFINITY, z = 0;

    for (guint k = 0; k < C; k++)
      m = MAX (m, x[t * C + k]);
    for (guint k = 0; k < C; k++)
      z += exp (x[t * C + k] - m);
    for (guint k = 0; k < C; k++)
      lp[t][k] = x[t * C + k] - m - log (z);
  }
  memset (out, 0, sizeof *out);
  for (;;) {
    GString *l = g_string_new (NULL);
    double logp = 0, *sum;
    guint prev = 0;

    for (guint t = 0; t < T; t++) {
      logp += lp[t][path[t]];
      if (path[t] != 0 && path[t] != prev)
        g_string_append_printf (l, "%u", path[t]);
      prev = path[t];
    }
    if (out->path_labels == NULL || exp (logp) > out->p_path) {
      g_free (out->path_labels);
      out->path_labels = g_strdup (l->str);
      out->p_path = exp (logp);
    }
    sum = g_hash_table_lookup (sums, l->str);
    if (sum == NULL) {
      sum = g_new0 (double, 1);
      g_hash_table_insert (sums, g_strdup (l->str), sum);
    }
    *sum += exp (logp);
    g_string_free (l, TRUE);

    /* The next path, counting in base C. */
    {
      guint t = 0;

      while (t < T && ++path[t] == C)
        path[t++] = 0;
      if (t == T)
        break;
    }
  }
  g_hash_table_iter_init (&it, sums);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    const double p = *(double *) value;

    if (p > out->p_best) {
      out->p_second = out->p_best;
      out->p_best = p;
      g_free (out->best);
      out->best = g_strdup (key);
    } else if (p > out->p_second) {
      out->p_second = p;
    }
  }
}

static void
test_brute_force (void)
{
  GRand *rand = g_rand_new_with_seed (20240611);
  guint checked = 0;

  for (guint seed = 0; seed < 300; seed++) {
    const guint C = 3 + seed % 2, T = 1 + seed % 6;
    float x[6 * 4];
    Brute b;

    for (guint i = 0; i < T * C; i++)
      x[i] = (float) g_rand_double_range (rand, -3, 3);
    brute_force (x, T, C, &b);

    /* Prefix search, no pruning, a beam (2048) above the number of
     * prefixes (at most 1 + 3 + ... + 3^6 = 1093). */
    {
      RsCtcDecoderOptions o = RS_CTC_DECODER_OPTIONS_INIT;
      g_autoptr (RsCtcDecoder) d = NULL;
      g_autofree char *got = NULL;
      const RsCtcToken *t;
      guint n;

      o.n_classes = C;
      o.beam = 2048;
      o.max_candidates = 0;
      o.prune_margin = 0;
      o.max_tail = 8;
      d = rs_ctc_decoder_new (&o, NULL);
      rs_ctc_decoder_push (d, T, x);
      t = rs_ctc_decoder_get_result (d, &n);
      got = labels_of (t, n);
      g_assert_cmpfloat_with_epsilon (rs_ctc_decoder_get_score (d), log (b.p_best), 1e-4);
      /* A near tie may fall either way in float. */
      if (b.p_best - b.p_second > 1e-5 * b.p_best) {
        g_assert_cmpstr (got, ==, b.best);
        checked++;
      }
    }
    /* Greedy: the best path. */
    {
      g_autoptr (RsCtcDecoder) d = decoder (C, 1, RS_CTC_SEARCH_AUTO);
      g_autofree char *got = NULL;
      const RsCtcToken *t;
      guint n;

      rs_ctc_decoder_push (d, T, x);
      t = rs_ctc_decoder_get_result (d, &n);
      got = labels_of (t, n);
      g_assert_cmpstr (got, ==, b.path_labels);
      g_assert_cmpfloat_with_epsilon (rs_ctc_decoder_get_score (d), log (b.p_path), 1e-4);
    }
    g_free (b.best);
    g_free (b.path_labels);
  }
  g_assert_cmpuint (checked, >, 250);
  g_rand_free (rand);
}

/* Random-ish model outputs: a Markov chain over classes (runs of 1-6
 * frames, blanks half the time) seen through noise, so that the beam has
 * real competition. */
static float *
random_stream (guint n_frames, guint n_classes, double peak_height, guint32 seed)
{
  float *x = g_new (float, (gsize) n_frames * n_classes);
  GRand *rand = g_rand_new_with_seed (seed);
  guint cls = 0;

  for (guint t = 0; t < n_frames; t++) {
    if (g_rand_double (rand) < 0.35)
      cls = g_rand_boolean (rand) ? 0 : (guint) g_rand_int_range (rand, 1, (gint32) n_classes);
    for (guint k = 0; k < n_classes; k++)
      x[(gsize) t * n_classes + k] = (float) (g_rand_double_range (rand, -1, 1) +
                                              (k == cls ? peak_height : 0));
  }
  g_rand_free (rand);
  return x;
}

static RsCtcDecoder *
stream_decoder (guint n_classes, guint beam, guint max_tail, guint max_committed)
{
  RsCtcDecoderOptions o = RS_CTC_DECODER_OPTIONS_INIT;
  g_autoptr (GError) error = NULL;
  RsCtcDecoder *d;

  o.n_classes = n_classes;
  o.beam = beam;
  o.max_tail = max_tail;
  o.max_committed = max_committed;
  d = rs_ctc_decoder_new (&o, &error);
  g_assert_no_error (error);
  return d;
}

/* Every committed token, drained, then the rest of the result. */
static void
drain (RsCtcDecoder *d, GArray *into)
{
  RsCtcToken buf[7];
  guint n;

  while ((n = rs_ctc_decoder_take_committed (d, buf, G_N_ELEMENTS (buf))) > 0)
    g_array_append_vals (into, buf, n);
}

static void
test_chunking (void)
{
  const guint T = 4000, C = 6;
  g_autofree float *x = random_stream (T, C, 1.5, 7);

  for (guint beam = 1; beam <= 16; beam *= 4) {
    g_autoptr (RsCtcDecoder) whole = stream_decoder (C, beam, 64, 4096);
    g_autoptr (RsCtcDecoder) single = stream_decoder (C, beam, 64, 4096);
    g_autoptr (RsCtcDecoder) chunks = stream_decoder (C, beam, 64, 4096);
    g_autoptr (GArray) a = g_array_new (FALSE, FALSE, sizeof (RsCtcToken));
    g_autoptr (GArray) b = g_array_new (FALSE, FALSE, sizeof (RsCtcToken));
    GRand *rand = g_rand_new_with_seed (beam);
    const RsCtcToken *t;
    guint n;

    rs_ctc_decoder_push (whole, T, x);
    for (guint f = 0; f < T; f++) {
      rs_ctc_decoder_push (single, 1, x + (gsize) f * C);
      drain (single, b);
    }
    for (guint f = 0; f < T;) {
      const guint k = MIN ((guint) g_rand_int_range (rand, 0, 50), T - f);

      rs_ctc_decoder_push (chunks, k, x + (gsize) f * C);
      f += k;
    }
    g_rand_free (rand);

    t = rs_ctc_decoder_get_result (whole, &n);
    g_assert_cmpuint (n, >, 100);
    g_array_append_vals (a, t, n);
    t = rs_ctc_decoder_get_result (single, &n);
    g_array_append_vals (b, t, n);
    assert_tokens_equal (TOKENS (a), a->len, TOKENS (b), b->len);
    t = rs_ctc_decoder_get_result (chunks, &n);
    assert_tokens_equal (TOKENS (a), a->len, t, n);
    g_assert_cmpfloat (rs_ctc_decoder_get_score (whole), ==, rs_ctc_decoder_get_score (chunks));

    /* The tokens follow each other on the clock. */
    for (guint i = 0; i < a->len; i++) {
      g_assert_cmpint (TOKENS (a)[i].start_frame, <=, TOKENS (a)[i].end_frame);
      g_assert_cmpint (TOKENS (a)[i].end_frame, <, T);
      if (i > 0)
        g_assert_cmpint (TOKENS (a)[i - 1].end_frame, <, TOKENS (a)[i].start_frame);
    }
  }
}

/* A long stream in bounded memory: with its committed tokens drained, the
 * pool stays within its bound and nothing is overwritten; with noise only
 * (the hypotheses disagree for long) and a short tail, commits are forced
 * and the bound still holds. */
static void
long_stream (double peak_height, guint max_tail, gboolean want_forced)
{
  const guint T = 100000, C = 8, beam = 8;
  g_autofree float *x = random_stream (T, C, peak_height, 11);
  /* One frame may commit a whole converged tail (up to the pool's
   * bound): the list holds more than that plus a push's worth. */
  g_autoptr (RsCtcDecoder) d = stream_decoder (C, beam, max_tail, 1024);
  g_autoptr (GArray) got = g_array_new (FALSE, FALSE, sizeof (RsCtcToken));
  RsCtcDecoderStats stats;
  gint64 last_end = -1;
  guint max_live = 0, max_result = 0;

  for (guint f = 0; f < T; f += 37) {
    const RsCtcToken *t;
    guint n;

    rs_ctc_decoder_push (d, MIN (37, T - f), x + (gsize) f * C);
    t = rs_ctc_decoder_get_result (d, &n);
    (void) t;
    max_result = MAX (max_result, n);
    g_array_set_size (got, 0);
    drain (d, got);
    for (guint i = 0; i < got->len; i++) {
      const RsCtcToken *k = &TOKENS (got)[i];

      g_assert_cmpuint (k->label, !=, 0);
      g_assert_cmpint (k->start_frame, >, last_end);
      g_assert_cmpint (k->end_frame, >=, k->start_frame);
      last_end = k->end_frame;
    }
    rs_ctc_decoder_get_stats (d, &stats);
    g_assert_cmpuint (stats.live_nodes, <=, stats.pool_size - beam);
    max_live = MAX (max_live, stats.live_nodes);
  }
  rs_ctc_decoder_get_stats (d, &stats);
  g_assert_cmpuint (stats.pool_size, ==, beam * (max_tail + 1) + 1);
  g_assert_cmpuint (stats.overwritten, ==, 0);
  g_assert_cmpint (last_end, >, T / 2);
  g_assert_cmpuint (max_result, <=, 1024 + stats.pool_size);
  if (want_forced)
    g_assert_cmpuint (stats.forced_commits, >, 0);
  g_test_message ("peak %.1f, max_tail %u: %u nodes in use at most of %u, %" G_GUINT64_FORMAT
                  " forced commits, longest partial result %u tokens", peak_height, max_tail,
                  max_live, stats.pool_size, stats.forced_commits, max_result);
}

static void
test_long_stream (void)
{
  long_stream (3.0, 64, FALSE);
  long_stream (0.0, 4, TRUE);
}

/* Undrained, the committed list keeps the newest max_committed tokens. */
static void
test_committed_overflow (void)
{
  const guint T = 5000, C = 5;
  g_autofree float *x = random_stream (T, C, 4.0, 3);
  g_autoptr (RsCtcDecoder) d = stream_decoder (C, 4, 16, 10);
  g_autoptr (RsCtcDecoder) ref = stream_decoder (C, 4, 16, 4096);
  RsCtcDecoderStats stats;
  const RsCtcToken *t, *r;
  guint n, nr;

  rs_ctc_decoder_push (d, T, x);
  rs_ctc_decoder_push (ref, T, x);
  rs_ctc_decoder_finish (d);
  rs_ctc_decoder_finish (ref);
  rs_ctc_decoder_get_stats (d, &stats);
  t = rs_ctc_decoder_get_result (d, &n);
  r = rs_ctc_decoder_get_result (ref, &nr);
  g_assert_cmpuint (n, ==, 10);
  g_assert_cmpuint (nr, >, 10);
  g_assert_cmpuint (stats.overwritten, ==, nr - 10);
  assert_tokens_equal (t, n, r + nr - 10, 10);
}

/* Frames counted since creation across segments; reset can set the clock. */
static void
test_reset_and_finish (void)
{
  g_autoptr (RsCtcDecoder) d = decoder (3, 4, RS_CTC_SEARCH_AUTO);
  float x[5 * 3];
  const RsCtcToken *t;
  RsCtcToken out[4];
  guint n;

  for (guint f = 0; f < 5; f++)
    peak (x, 3, f, 0, 0.9);
  rs_ctc_decoder_push (d, 5, x);
  t = rs_ctc_decoder_get_result (d, &n);
  g_assert_cmpuint (n, ==, 0);

  /* A new segment at frame 5: a over 5..6 (b b still running). */
  rs_ctc_decoder_reset (d, RS_CTC_DECODER_KEEP_CLOCK);
  g_assert_cmpint (rs_ctc_decoder_get_next_frame (d), ==, 5);
  g_assert_cmpfloat (rs_ctc_decoder_get_score (d), ==, 0.0);
  peak (x, 3, 0, 1, 0.9);
  peak (x, 3, 1, 1, 0.9);
  peak (x, 3, 2, 2, 0.9);
  peak (x, 3, 3, 2, 0.9);
  rs_ctc_decoder_push (d, 4, x);
  t = rs_ctc_decoder_get_result (d, &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (t[0].start_frame, ==, 5);
  g_assert_cmpint (t[0].end_frame, ==, 6);
  g_assert_cmpint (t[1].start_frame, ==, 7);

  /* finish commits the tail: the final result, then the next segment
   * goes on from frame 9. */
  rs_ctc_decoder_finish (d);
  t = rs_ctc_decoder_get_result (d, &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (t[1].end_frame, ==, 8);
  g_assert_cmpuint (rs_ctc_decoder_take_committed (d, out, 4), ==, 2);
  g_assert_cmpuint (out[1].label, ==, 2);
  g_assert_cmpuint (rs_ctc_decoder_take_committed (d, out, 4), ==, 0);
  rs_ctc_decoder_push (d, 1, x);
  t = rs_ctc_decoder_get_result (d, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (t[0].start_frame, ==, 9);

  /* reset to a given frame discards everything. */
  rs_ctc_decoder_reset (d, 1000);
  rs_ctc_decoder_push (d, 1, x + 2 * 3);
  t = rs_ctc_decoder_get_result (d, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (t[0].label, ==, 2);
  g_assert_cmpint (t[0].start_frame, ==, 1000);
  g_assert_cmpint (rs_ctc_decoder_get_next_frame (d), ==, 1001);
}

/* A word-unit model: 0 blank, 1 zero, 2 one, 3 two, 4 oh, 5 <noise>,
 * allowed words one, two, oh. The frames
 *   0: zero 0.7, one 0.2, the others 0.025
 *   1: blank 0.9
 *   2: <noise> 0.8, two 0.1, blank 0.04, the others 0.02
 *   3: blank 0.9
 *   4: oh 0.9
 * say "zero <noise> oh" unconstrained; with the word list the best
 * allowed word of each frame wins: at frame 2, "one two" has
 * p("one") * 0.1 against "one" staying with p("one") * 0.04. */
/* The text a decoder with options o makes of n_frames frames of logits,
 * finishing the segment first when finish is set. */
static char *
decode_text (const RsCtcDecoderOptions *o, guint n_frames, const float *logits,
             gboolean finish)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsCtcDecoder) d = rs_ctc_decoder_new (o, &error);
  const RsCtcToken *t;
  guint n;

  g_assert_no_error (error);
  rs_ctc_decoder_push (d, n_frames, logits);
  if (finish)
    rs_ctc_decoder_finish (d);
  t = rs_ctc_decoder_get_result (d, &n);
  return rs_ctc_decoder_get_text (d, t, n);
}

static void
test_constraint_words (void)
{
  const char *const labels[] = { NULL, "zero", "one", "two", "oh", "<noise>" };
  const char *const words[] = { "one", "two", "oh", NULL };
  const double f0[] = { 0.025, 0.7, 0.2, 0.025, 0.025, 0.025 };
  const double f2[] = { 0.04, 0.02, 0.02, 0.1, 0.02, 0.8 };
  const char *const bad[] = { "one", "five", NULL };
  g_autoptr (RsCtcConstraint) c = NULL;
  g_autoptr (GError) error = NULL;
  RsCtcDecoderOptions o = RS_CTC_DECODER_OPTIONS_INIT;
  float x[5 * 6];

  probs (x, 6, 0, f0);
  peak (x, 6, 1, 0, 0.9);
  probs (x, 6, 2, f2);
  peak (x, 6, 3, 0, 0.9);
  peak (x, 6, 4, 4, 0.9);
  o.n_classes = 6;
  o.labels = labels;

  c = rs_ctc_constraint_new_from_words (words, 6, labels, 0, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rs_ctc_constraint_get_n_words (c), ==, 3);
  for (guint with = 0; with < 2; with++) {
    g_autofree char *text = NULL;

    o.constraint = with ? c : NULL;
    text = decode_text (&o, 5, x, TRUE);
    g_assert_cmpstr (text, ==, with ? "one two oh" : "zero <noise> oh");
  }

  /* Beam 1 with a word list is a prefix search, which keeps to it. */
  {
    g_autofree char *text = NULL;

    o.constraint = c;
    o.beam = 1;
    text = decode_text (&o, 5, x, FALSE);
    g_assert_cmpstr (text, ==, "one two oh");
  }

  g_assert_null (rs_ctc_constraint_new_from_words (bad, 6, labels, 0, -1, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'five'"));
}

/* A character model: 0 blank, 1 '|' (the separator), 2 a, 3 b, 4 c, 5 t,
 * words cat and bat. The frames spell c a t | b a, then c 0.6 / t 0.35:
 * "cat bac" unconstrained, "cat bat" with the word list (after "ba" only
 * t continues a word). Without the separator frame, "cat" cannot be
 * followed by a word: the result stays within the words. */
static void
test_constraint_characters (void)
{
  const char *const labels[] = { "", "|", "a", "b", "c", "t" };
  const char *const words[] = { "cat", "bat", NULL };
  const guint spell[] = { 4, 2, 5, 1, 3, 2 };
  const double last[] = { 0.0125, 0.0125, 0.0125, 0.0125, 0.6, 0.35 };
  g_autoptr (RsCtcConstraint) c = NULL;
  g_autoptr (GError) error = NULL;
  RsCtcDecoderOptions o = RS_CTC_DECODER_OPTIONS_INIT;
  float x[7 * 6];

  for (guint t = 0; t < 6; t++)
    peak (x, 6, t, spell[t], 0.9);
  probs (x, 6, 6, last);
  o.n_classes = 6;
  o.labels = labels;
  o.word_separator = 1;

  c = rs_ctc_constraint_new_from_words (words, 6, labels, 0, 1, &error);
  g_assert_no_error (error);
  for (guint with = 0; with < 2; with++) {
    g_autofree char *text = NULL;

    o.constraint = with ? c : NULL;
    text = decode_text (&o, 7, x, TRUE);
    g_assert_cmpstr (text, ==, with ? "cat bat" : "cat bac");
  }

  /* c a t b a t with no separator: a new word may not start. */
  {
    const guint nosep[] = { 4, 2, 5, 3, 2, 5 };
    g_autofree char *text = NULL;

    for (guint f = 0; f < 6; f++)
      peak (x, 6, f, nosep[f], 0.9);
    o.constraint = c;
    text = decode_text (&o, 6, x, TRUE);
    g_assert_true (g_strcmp0 (text, "cat") == 0 || g_strcmp0 (text, "cat bat") == 0 ||
                   g_strcmp0 (text, "bat") == 0 || g_strcmp0 (text, "") == 0);
    g_assert_cmpstr (text, !=, "catbat");
  }
}

static void
test_text (void)
{
  const char *const chars[] = { "_", "|", "c", "a", "t" };
  const char *const units[] = { NULL, "zero", "one" };
  RsCtcDecoderOptions o = RS_CTC_DECODER_OPTIONS_INIT;
  RsCtcToken t[8] = { { 0 } };
  const guint s[] = { 1, 2, 3, 1, 1, 4, 1 };
  g_autoptr (RsCtcDecoder) dc = NULL, du = NULL, dn = NULL;
  g_autofree char *a = NULL, *b = NULL, *e = NULL, *n = NULL;

  o.n_classes = 5;
  o.labels = chars;
  o.word_separator = 1;
  dc = rs_ctc_decoder_new (&o, NULL);
  for (guint i = 0; i < 7; i++)
    t[i].label = s[i];
  a = rs_ctc_decoder_get_text (dc, t, 7);
  g_assert_cmpstr (a, ==, "ca t");
  e = rs_ctc_decoder_get_text (dc, t, 0);
  g_assert_cmpstr (e, ==, "");

  o.n_classes = 3;
  o.labels = units;
  o.word_separator = -1;
  du = rs_ctc_decoder_new (&o, NULL);
  t[0].label = 2;
  t[1].label = 1;
  t[2].label = 2;
  b = rs_ctc_decoder_get_text (du, t, 3);
  g_assert_cmpstr (b, ==, "one zero one");

  o.labels = NULL;
  dn = rs_ctc_decoder_new (&o, NULL);
  n = rs_ctc_decoder_get_text (dn, t, 3);
  g_assert_cmpstr (n, ==, "2 1 2");
}

static void
expect_error (const RsCtcDecoderOptions *o, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  RsCtcDecoder *d = rs_ctc_decoder_new (o, &error);

  g_assert_null (d);
  g_assert_error (error, RS_ERROR, RS_ERROR_ARGUMENT);
  if (strstr (error->message, fragment) == NULL)
    g_error ("'%s' does not say '%s'", error->message, fragment);
}

static void
test_errors (void)
{
  const RsCtcDecoderOptions base = { 4, 0, 8, RS_CTC_SEARCH_AUTO, 16, 10.0f, NULL, -1, NULL, 64,
                                     1024 };
  const char *const labels[] = { NULL, "a", NULL, "c" };
  const guint word[] = { 1, 4 };
  const guint blank_word[] = { 0 };
  g_autoptr (RsCtcConstraint) out_of_range = rs_ctc_constraint_new ();
  g_autoptr (RsCtcConstraint) with_blank = rs_ctc_constraint_new ();
  g_autoptr (RsCtcConstraint) empty = rs_ctc_constraint_new ();
  g_autoptr (RsCtcConstraint) good = rs_ctc_constraint_new ();
  RsCtcDecoderOptions o;

  rs_ctc_constraint_add_word (out_of_range, 2, word);
  rs_ctc_constraint_add_word (with_blank, 1, blank_word);
  rs_ctc_constraint_add_word (good, 1, word);
  rs_ctc_constraint_add_word (good, 1, word);
  g_assert_cmpuint (rs_ctc_constraint_get_n_words (good), ==, 1);

  o = base, o.n_classes = 1;
  expect_error (&o, "n_classes");
  o = base, o.blank = 4;
  expect_error (&o, "blank");
  o = base, o.beam = 0;
  expect_error (&o, "beam");
  o = base, o.prune_margin = NAN;
  expect_error (&o, "margin");
  o = base, o.prune_margin = -1;
  expect_error (&o, "margin");
  o = base, o.word_separator = 0;
  expect_error (&o, "separator");
  o = base, o.word_separator = 4;
  expect_error (&o, "separator");
  o = base, o.max_tail = 0;
  expect_error (&o, "max_tail");
  o = base, o.max_committed = 0;
  expect_error (&o, "max_committed");
  o = base, o.labels = labels;
  expect_error (&o, "label 2");
  o = base, o.constraint = out_of_range;
  expect_error (&o, "out of range");
  o = base, o.constraint = with_blank;
  expect_error (&o, "the blank");
  o = base, o.constraint = empty;
  expect_error (&o, "empty");
  o = base, o.constraint = good, o.search = RS_CTC_SEARCH_GREEDY;
  expect_error (&o, "greedy");
  o = base, o.beam = 65536, o.max_candidates = 0, o.n_classes = 1000;
  expect_error (&o, "too large");
  o = base, o.constraint = good;
  {
    g_autoptr (RsCtcDecoder) d = rs_ctc_decoder_new (&o, NULL);

    g_assert_nonnull (d);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ctc-decoder/collapse", test_collapse);
  g_test_add_func ("/ctc-decoder/beam-beats-greedy", test_beam_beats_greedy);
  g_test_add_func ("/ctc-decoder/timing", test_timing);
  g_test_add_func ("/ctc-decoder/brute-force", test_brute_force);
  g_test_add_func ("/ctc-decoder/streaming/chunking", test_chunking);
  g_test_add_func ("/ctc-decoder/streaming/long", test_long_stream);
  g_test_add_func ("/ctc-decoder/streaming/committed-overflow", test_committed_overflow);
  g_test_add_func ("/ctc-decoder/streaming/reset-and-finish", test_reset_and_finish);
  g_test_add_func ("/ctc-decoder/constraint/words", test_constraint_words);
  g_test_add_func ("/ctc-decoder/constraint/characters", test_constraint_characters);
  g_test_add_func ("/ctc-decoder/text", test_text);
  g_test_add_func ("/ctc-decoder/errors", test_errors);
  return g_test_run ();
}
