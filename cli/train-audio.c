/* The classify and ctc tasks of `rnnstream train`: recurrent models over
 * the features of sound files.
 *
 * The data is a list of sound files with their text (rnnstream/
 * utterances.h): the features come from the front end pipeline, the very
 * elements `transcribe` and the pipelines run, then are standardised with
 * the mean and (population) std of the training frames, which the model
 * file records as its "normalisation" (the `standardize from-model=`
 * element applies it when serving).
 *
 *  - ctc: the text is a transcript, cut into units (words, or characters
 *    with the space as a label of its own); the labels are the blank
 *    (index 0, "<blank>") and the units. The loss is CTC over whole
 *    utterances, reduced as PyTorch's reduction='mean'; an utterance too
 *    short for its transcript (fewer frames than labels plus repeats)
 *    could never be aligned, so it is left out with a warning. Validation:
 *    the loss and the token error rate of greedy decoding (edit distance
 *    over reference tokens, in percent).
 *  - classify: the text is the utterance's class, the target of every one
 *    of its frames; cross-entropy over frames. Validation: the loss and the
 *    frame error rate in percent.
 *
 * Batches: the epoch's shuffled utterances are cut into runs of 16
 * batches, each run sorted by length and cut into batches, and the batches
 * shuffled again (all with the loop's seeded generator): batches of similar
 * lengths waste little on padding (masked), and the order stays random. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train-task.h"

#define BLANK_LABEL "<blank>"

typedef struct {
  guint32 *labels;           /* ctc: the transcript's labels; classify: the class (1) */
  guint n_labels;
} Target;

typedef struct {
  TrainTask base;
  const RsTrainConfig *cfg;
  gboolean ctc;
  RsUtterances *train, *valid_list;   /* valid_list: a separate validation list, or NULL */
  guint *train_ids, n_train;          /* utterances of `train` trained on */
  /* validation utterances: (corpus, index) pairs */
  const RsUtterances **valid_corpus;
  guint *valid_ids, n_valid;
  Target *train_targets, *valid_targets;
  GPtrArray *labels;                  /* char *, index = class */
  GHashTable *label_index;            /* char * -> index + 1 */
  double *mean, *std;                 /* per feature */
  guint I;
  guint64 train_frames;
  guint skipped_short;
  char *digest;
} Audio;

typedef struct {
  float *x;
  guint *lengths;
  guint32 *classes, *targets;
  guint *target_lengths;
  gsize cap_x, cap_c, cap_t;
  RsCtcOptions ctc;
  const Audio *a;
  /* the batch's utterances */
  const RsUtterances **corpus;
  guint *ids;
  Target *batch_targets;
} Shard;

/* ---- labels ---- */

/* The units of a text: words (split at white space) or characters, white
 * space runs as one " ". Returns a NULL-terminated array. */
static char **
units (const Audio *a, const char *text)
{
  GPtrArray *out = g_ptr_array_new ();

  if (!a->ctc) {
    g_ptr_array_add (out, g_strstrip (g_strdup (text)));
  } else if (strcmp (a->cfg->units, "words") == 0) {
    g_auto (GStrv) parts = g_strsplit_set (text, " \t", -1);
    for (guint i = 0; parts[i] != NULL; i++)
      if (parts[i][0] != '\0')
        g_ptr_array_add (out, g_strdup (parts[i]));
  } else {
    gboolean space = FALSE;
    for (const char *p = text; *p; p = g_utf8_next_char (p)) {
      if (g_unichar_isspace (g_utf8_get_char (p))) {
        space = out->len > 0;
        continue;
      }
      if (space)
        g_ptr_array_add (out, g_strdup (" "));
      space = FALSE;
      g_ptr_array_add (out, g_strndup (p, g_utf8_next_char (p) - p));
    }
  }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

static void
add_label (Audio *a, const char *label)
{
  if (g_hash_table_contains (a->label_index, label))
    return;
  g_ptr_array_add (a->labels, g_strdup (label));
  g_hash_table_insert (a->label_index, g_strdup (label), GUINT_TO_POINTER (a->labels->len));
}

static int
compare_strings (gconstpointer x, gconstpointer y)
{
  return strcmp (*(char *const *) x, *(char *const *) y);
}

/* The label set: the given one, or the units of the training texts in
 * byte order (so that the same data gives the same labels). */
static gboolean
make_labels (Audio *a, GError **error)
{
  a->labels = g_ptr_array_new_with_free_func (g_free);
  a->label_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (a->ctc)
    add_label (a, BLANK_LABEL);
  if (a->cfg->labels[0] != NULL) {
    for (guint i = 0; a->cfg->labels[i] != NULL; i++) {
      if (g_hash_table_contains (a->label_index, a->cfg->labels[i])) {
        g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "labels: '%s' %s", a->cfg->labels[i],
                     strcmp (a->cfg->labels[i], BLANK_LABEL) == 0 ? "is the CTC blank"
                                                                  : "is given twice");
        return FALSE;
      }
      add_label (a, a->cfg->labels[i]);
    }
    return TRUE;
  }
  {
    g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr (GPtrArray) sorted = g_ptr_array_new ();
    for (guint i = 0; i < a->n_train; i++) {
      g_auto (GStrv) u = units (a, rs_utterances_text (a->train, a->train_ids[i]));
      for (guint k = 0; u[k] != NULL; k++)
        g_hash_table_add (seen, g_strdup (u[k]));
    }
    {
      GHashTableIter it;
      gpointer key;
      g_hash_table_iter_init (&it, seen);
      while (g_hash_table_iter_next (&it, &key, NULL))
        g_ptr_array_add (sorted, key);
    }
    g_ptr_array_sort (sorted, compare_strings);
    for (guint i = 0; i < sorted->len; i++)
      add_label (a, g_ptr_array_index (sorted, i));
  }
  return TRUE;
}

static gboolean
make_target (Audio *a, const RsUtterances *corpus, const char *list, guint i, Target *t,
             GError **error)
{
  g_auto (GStrv) u = units (a, rs_utterances_text (corpus, i));
  const guint n = g_strv_length (u);

  if (n == 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s:%u: no %s in the text", list,
                 rs_utterances_line (corpus, i), a->cfg->units);
    return FALSE;
  }
  t->labels = g_new (guint32, n);
  t->n_labels = n;
  for (guint k = 0; k < n; k++) {
    const guint index = GPOINTER_TO_UINT (g_hash_table_lookup (a->label_index, u[k]));
    if (index == 0) {
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s:%u: '%s' is not one of the %u labels "
                   "%s", list, rs_utterances_line (corpus, i), u[k],
                   a->labels->len - (a->ctc ? 1 : 0), a->cfg->labels[0] != NULL
                   ? "of the 'labels' setting" : "found in the training data");
      return FALSE;
    }
    t->labels[k] = index - 1;
  }
  return TRUE;
}

/* Frames CTC needs for a label sequence: one per label, and a blank
 * between repeated labels. */
static guint
ctc_min_frames (const Target *t)
{
  guint n = t->n_labels;

  for (guint k = 1; k < t->n_labels; k++)
    n += t->labels[k] == t->labels[k - 1];
  return n;
}

/* ---- batches ---- */

/* Fills the shard's buffers for its utterances s->corpus/ids/batch_targets
 * [0..nb): standardised features, time-major and padded, frame classes
 * and CTC targets. */
static void
load_batch (const Audio *a, Shard *s, guint nb, guint *T_out, gsize *frames_out,
            gsize *n_targets_out)
{
  const RsUtterances *const *corpus = s->corpus;
  const guint *ids = s->ids;
  const Target *targets = s->batch_targets;
  guint T = 0;
  gsize frames = 0, n_targets = 0;

  for (guint j = 0; j < nb; j++) {
    guint n;
    rs_utterances_features (corpus[j], ids[j], &n);
    s->lengths[j] = n;
    T = MAX (T, n);
    frames += n;
    n_targets += targets[j].n_labels;
  }
  if ((gsize) T * nb * a->I > s->cap_x) {
    s->cap_x = (gsize) T * nb * a->I;
    s->x = g_renew (float, s->x, s->cap_x);
  }
  if ((gsize) T * nb > s->cap_c) {
    s->cap_c = (gsize) T * nb;
    s->classes = g_renew (guint32, s->classes, s->cap_c);
  }
  if (n_targets > s->cap_t) {
    s->cap_t = n_targets;
    s->targets = g_renew (guint32, s->targets, s->cap_t);
  }
  memset (s->x, 0, (gsize) T * nb * a->I * sizeof (float));
  n_targets = 0;
  for (guint j = 0; j < nb; j++) {
    guint n;
    const float *f = rs_utterances_features (corpus[j], ids[j], &n);
    for (guint t = 0; t < n; t++) {
      float *x = s->x + ((gsize) t * nb + j) * a->I;
      for (guint i = 0; i < a->I; i++)
        x[i] = (float) (((double) f[(gsize) t * a->I + i] - a->mean[i]) / a->std[i]);
      s->classes[(gsize) t * nb + j] = targets[j].labels[0];
    }
    memcpy (s->targets + n_targets, targets[j].labels, targets[j].n_labels * sizeof (guint32));
    s->target_lengths[j] = targets[j].n_labels;
    n_targets += targets[j].n_labels;
  }
  *T_out = T;
  *frames_out = frames;
  *n_targets_out = n_targets;
}

/* SpecAugment (Park et al. 2019) on stream j of a batch of standardised
 * features: runs of bands (repeated every `period` features, so that the
 * same bands of every stacked frame go) and runs of frames set to 0, the
 * training mean. Drawn from a generator seeded by the seed, the epoch and
 * the utterance, so the same model comes out with any thread count. */
static void
spec_augment (const Audio *a, Shard *s, guint nb, guint j, guint item, guint length)
{
  const RsTrainConfig *c = a->cfg;
  const guint period = c->freq_mask_period > 0 ? MIN (c->freq_mask_period, a->I) : a->I;
  TrainRng rng;

  train_rng_init (&rng, c->seed ^ ((guint64) a->base.epoch << 32) ^ (guint64) item * 0x9e37);
  for (guint m = 0; m < c->freq_masks; m++) {
    const guint w = (guint) (train_rng_next (&rng) % (MIN (c->freq_mask_width, period) + 1));
    const guint b = (guint) (train_rng_next (&rng) % (period - w + 1));
    for (guint t = 0; t < length; t++)
      for (guint k = 0; k < a->I; k++)
        if (k % period >= b && k % period < b + w)
          s->x[((gsize) t * nb + j) * a->I + k] = 0;
  }
  for (guint m = 0; m < c->time_masks && length > 0; m++) {
    const guint w = (guint) (train_rng_next (&rng) % (MIN (c->time_mask_width, length) + 1));
    const guint t0 = (guint) (train_rng_next (&rng) % (length - w + 1));
    for (guint t = t0; t < t0 + w; t++)
      memset (s->x + ((gsize) t * nb + j) * a->I, 0, a->I * sizeof (float));
  }
}

static gboolean
ctc_window_loss (const RsLossFrames *window, guint first_frame, gpointer user_data,
                 double *loss, float *d_output, GError **error)
{
  Shard *s = user_data;

  (void) first_frame;
  return rs_loss_ctc (window, &s->ctc, s->targets, s->target_lengths, loss, d_output, error);
}

static gboolean
ce_window_loss (const RsLossFrames *window, guint first_frame, gpointer user_data, double *loss,
                float *d_output, GError **error)
{
  Shard *s = user_data;

  return rs_loss_cross_entropy (window, s->classes + (gsize) first_frame * window->n_streams,
                                loss, d_output, error);
}

static gpointer
shard_new (TrainTask *task, guint max_items)
{
  Shard *s = g_new0 (Shard, 1);

  s->a = (Audio *) task;
  s->lengths = g_new (guint, max_items);
  s->corpus = g_new (const RsUtterances *, max_items);
  s->ids = g_new (guint, max_items);
  s->batch_targets = g_new (Target, max_items);
  s->target_lengths = g_new (guint, max_items);
  /* Alignments that cannot exist were left out at load time; any left
   * would be a bug, and PyTorch's zero_infinity is what keeps such a bug
   * from poisoning every weight with NaN. */
  s->ctc.blank = 0;
  s->ctc.zero_infinity = TRUE;
  return s;
}

static void
shard_free (gpointer data)
{
  Shard *s = data;

  g_free (s->x);
  g_free (s->lengths);
  g_free (s->classes);
  g_free (s->targets);
  g_free (s->target_lengths);
  g_free (s->corpus);
  g_free (s->ids);
  g_free (s->batch_targets);
  g_free (s);
}

static gboolean
shard_run (TrainTask *task, gpointer data, RsTrainable *t, const guint *items, guint nb,
           double *loss, double *weight, GError **error)
{
  Audio *a = (Audio *) task;
  Shard *s = data;
  guint T;
  gsize frames, n_targets;

  for (guint j = 0; j < nb; j++) {
    s->corpus[j] = a->train;
    s->ids[j] = a->train_ids[items[j]];
    s->batch_targets[j] = a->train_targets[items[j]];
  }
  load_batch (a, s, nb, &T, &frames, &n_targets);
  if (a->cfg->freq_masks > 0 || a->cfg->time_masks > 0)
    for (guint j = 0; j < nb; j++)
      spec_augment (a, s, nb, j, items[j], s->lengths[j]);
  rs_trainable_reset_state (t, nb);
  rs_trainable_zero_grad (t);
  *loss = 0;
  *weight = a->ctc ? (double) nb : (double) frames;
  return rs_train_bptt (t, T, s->x, s->lengths, a->ctc ? 0 : a->cfg->window,
                        a->ctc ? ctc_window_loss : ce_window_loss, s, loss, error);
}

typedef struct {
  guint item, length;
} Sized;

static int
compare_sized (gconstpointer x, gconstpointer y)
{
  const Sized *p = x, *q = y;

  if (p->length != q->length)
    return p->length < q->length ? -1 : 1;
  return p->item < q->item ? -1 : p->item > q->item;
}

static void
arrange (TrainTask *task, TrainRng *rng, guint *order, guint batch)
{
  Audio *a = (Audio *) task;
  const guint n = a->n_train, run = batch * 16;
  g_autofree Sized *sized = g_new (Sized, n);
  g_autofree guint *batches = NULL;
  g_autofree guint *copy = NULL, *perm = NULL;
  guint n_batches = 0;

  for (guint i = 0; i < n; i++) {
    guint frames;
    rs_utterances_features (a->train, a->train_ids[order[i]], &frames);
    sized[i] = (Sized) { order[i], frames };
  }
  for (guint start = 0; start < n; start += run)
    qsort (sized + start, MIN (run, n - start), sizeof (Sized), compare_sized);
  /* Batches start at multiples of `batch` within each run; shuffle them. */
  batches = g_new (guint, n / batch + n / run + 2);
  for (guint start = 0; start < n; start += run)
    for (guint b = start; b < MIN (start + run, n); b += batch)
      batches[n_batches++] = b;
  perm = g_new (guint, MAX (n_batches, 1));
  train_rng_shuffle (rng, perm, n_batches);
  copy = g_new (guint, n);
  {
    guint k = 0;
    for (guint i = 0; i < n_batches; i++) {
      const guint b = batches[perm[i]];
      const guint run_end = MIN ((b / run + 1) * run, n);
      for (guint j = b; j < MIN (b + batch, run_end); j++)
        copy[k++] = sized[j].item;
    }
  }
  memcpy (order, copy, n * sizeof (guint));
}

/* ---- validation ---- */

/* Levenshtein distance between two label sequences. */
static guint
edit_distance (const guint32 *x, guint n, const guint32 *y, guint m)
{
  g_autofree guint *row = g_new (guint, m + 1);

  for (guint j = 0; j <= m; j++)
    row[j] = j;
  for (guint i = 1; i <= n; i++) {
    guint diag = row[0];
    row[0] = i;
    for (guint j = 1; j <= m; j++) {
      const guint up = row[j];
      row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diag + (x[i - 1] != y[j - 1]));
      diag = up;
    }
  }
  return row[m];
}

/* The labels greedy decoding finds in stream j of a batch of logits. */
static guint
greedy (RsCtcDecoder *d, const float *out, guint nb, guint j, guint length, guint width,
        guint32 *hyp)
{
  const RsCtcToken *tokens;
  guint n;

  rs_ctc_decoder_reset (d, 0);
  for (guint t = 0; t < length; t++)
    rs_ctc_decoder_push (d, 1, out + ((gsize) t * nb + j) * width);
  rs_ctc_decoder_finish (d);
  tokens = rs_ctc_decoder_get_result (d, &n);
  for (guint k = 0; k < n; k++)
    hyp[k] = tokens[k].label;
  return n;
}

static gboolean
validate (TrainTask *task, RsTrainable *t, double *loss, double *metric, GError **error)
{
  Audio *a = (Audio *) task;
  const guint B = 32, W = a->base.n_outputs;
  g_autofree Sized *sized = g_new (Sized, MAX (a->n_valid, 1));
  Shard *s = shard_new (task, B);
  g_autofree float *out = NULL;
  gsize out_cap = 0;
  double loss_sum = 0, weight = 0;
  guint64 errors = 0, total = 0;
  RsCtcDecoderOptions dopts = RS_CTC_DECODER_OPTIONS_INIT;
  g_autoptr (RsCtcDecoder) decoder = NULL;
  gboolean ok = TRUE;

  if (a->n_valid == 0) {
    *loss = *metric = NAN;
    shard_free (s);
    return TRUE;
  }
  if (a->ctc) {
    dopts.n_classes = W;
    dopts.search = RS_CTC_SEARCH_GREEDY;
    decoder = rs_ctc_decoder_new (&dopts, error);
    if (decoder == NULL) {
      shard_free (s);
      return FALSE;
    }
  }
  /* Sorted by length: little padding, and a fixed order. */
  for (guint i = 0; i < a->n_valid; i++) {
    guint frames;
    rs_utterances_features (a->valid_corpus[i], a->valid_ids[i], &frames);
    sized[i] = (Sized) { i, frames };
  }
  qsort (sized, a->n_valid, sizeof (Sized), compare_sized);
  for (guint first = 0; ok && first < a->n_valid; first += B) {
    const guint nb = MIN (B, a->n_valid - first);
    const Target *targets = s->batch_targets;
    guint T;
    gsize frames, n_targets;
    double l = 0;
    RsLossFrames lf;

    for (guint j = 0; j < nb; j++) {
      const guint v = sized[first + j].item;
      s->corpus[j] = a->valid_corpus[v];
      s->ids[j] = a->valid_ids[v];
      s->batch_targets[j] = a->valid_targets[v];
    }
    load_batch (a, s, nb, &T, &frames, &n_targets);
    if ((gsize) T * nb * W > out_cap) {
      out_cap = (gsize) T * nb * W;
      out = g_renew (float, out, out_cap);
    }
    rs_trainable_reset_state (t, nb);
    if (!rs_trainable_forward (t, T, s->x, s->lengths, out, error)) {
      ok = FALSE;
      break;
    }
    lf = (RsLossFrames) { T, nb, W, s->lengths, out };
    if (a->ctc) {
      g_autofree guint32 *hyp = g_new (guint32, T + 1);
      ok = rs_loss_ctc (&lf, &s->ctc, s->targets, s->target_lengths, &l, NULL, error);
      loss_sum += l * nb;
      weight += nb;
      for (guint j = 0; j < nb; j++) {
        const guint n = greedy (decoder, out, nb, j, s->lengths[j], W, hyp);
        errors += edit_distance (hyp, n, targets[j].labels, targets[j].n_labels);
        total += targets[j].n_labels;
      }
    } else {
      ok = rs_loss_cross_entropy (&lf, s->classes, &l, NULL, error);
      loss_sum += l * (double) frames;
      weight += (double) frames;
      for (guint j = 0; j < nb; j++)
        for (guint t0 = 0; t0 < s->lengths[j]; t0++) {
          const float *x = out + ((gsize) t0 * nb + j) * W;
          guint best = 0;
          for (guint k = 1; k < W; k++)
            if (x[k] > x[best])
              best = k;
          errors += best != targets[j].labels[0];
          total++;
        }
    }
  }
  shard_free (s);
  *loss = loss_sum / weight;
  *metric = 100.0 * (double) errors / (double) MAX (total, 1);
  return ok;
}

/* ---- the model file ---- */

static void
metadata (TrainTask *task, RsTrainable *best, GPtrArray *meta, GPtrArray *kept,
          GString *training)
{
  (void) best;
  Audio *a = (Audio *) task;
  GString *labels = g_string_new ("["), *norm = g_string_new ("{\"mean\": ");
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint i = 0; i < a->labels->len; i++) {
    g_string_append (labels, i ? ", " : "");
    rs_json_append_string (labels, g_ptr_array_index (a->labels, i));
  }
  g_string_append_c (labels, ']');
  train_json_doubles (norm, a->mean, a->I);
  g_string_append (norm, ", \"std\": ");
  train_json_doubles (norm, a->std, a->I);
  g_string_append_c (norm, '}');

#define META(k, v) (g_ptr_array_add (meta, (gpointer) (k)), g_ptr_array_add (meta, (gpointer) (v)))
  META ("description", train_keep (kept, g_strdup_printf (
    a->ctc ? "%s CTC recogniser of %u %s, trained by rnnstream train"
           : "%s frame classifier of %u classes, trained by rnnstream train", a->cfg->cell,
    a->labels->len - (a->ctc ? 1 : 0), a->cfg->units)));
  META ("task", a->cfg->task);
  META ("labels", train_keep (kept, g_strdup (labels->str)));
  META ("outputs", train_keep (kept, g_string_free (labels, FALSE)));
  if (a->ctc) {
    META ("blank", "0");
    META ("units", a->cfg->units);
  }
  META ("frontend", rs_utterances_frontend (a->train));
  META ("sample_rate", train_keep (kept, g_strdup (g_ascii_formatd (buf, sizeof buf, "%.17g",
                                                              a->cfg->sample_rate))));
  META ("frame_rate", train_keep (kept, g_strdup (g_ascii_formatd (
    buf, sizeof buf, "%.17g", rs_utterances_frame_rate (a->train)))));
  META ("normalisation", train_keep (kept, g_string_free (norm, FALSE)));
#undef META

  g_string_append_printf (training, ", \"utterances\": %u, \"training_frames\": %"
                          G_GUINT64_FORMAT ", \"validation_utterances\": %u, "
                          "\"skipped_files\": %u, \"skipped_too_short\": %u", a->n_train,
                          a->train_frames, a->n_valid,
                          g_strv_length ((char **) rs_utterances_failures (a->train)) +
                            (a->valid_list ? g_strv_length ((char **) rs_utterances_failures (
                                               a->valid_list)) : 0), a->skipped_short);
  if (a->cfg->validation_input[0] != '\0') {
    g_string_append (training, ", \"validation_data\": ");
    rs_json_append_string (training, a->cfg->validation_input);
  }
}

/* ---- loading ---- */

static void
audio_free (TrainTask *task)
{
  Audio *a = (Audio *) task;

  for (guint i = 0; a->train_targets != NULL && i < a->n_train; i++)
    g_free (a->train_targets[i].labels);
  for (guint i = 0; a->valid_targets != NULL && i < a->n_valid; i++)
    g_free (a->valid_targets[i].labels);
  g_free (a->train_targets);
  g_free (a->valid_targets);
  g_free (a->train_ids);
  g_free (a->valid_ids);
  g_free (a->valid_corpus);
  rs_utterances_free (a->train);
  rs_utterances_free (a->valid_list);
  if (a->labels != NULL)
    g_ptr_array_unref (a->labels);
  if (a->label_index != NULL)
    g_hash_table_unref (a->label_index);
  g_free (a->mean);
  g_free (a->std);
  g_free (a->digest);
  g_free (a);
}

static void
warn_failures (const RsUtterances *u)
{
  const char *const *f = rs_utterances_failures (u);

  for (guint i = 0; f[i] != NULL; i++)
    g_printerr ("rnnstream train: warning: skipped %s\n", f[i]);
}

/* Targets for the utterances ids[0..*n) of corpus, dropping (with a
 * warning) those CTC cannot align. */
static gboolean
make_targets (Audio *a, const RsUtterances *corpus, const char *list, guint *ids, guint *n,
              Target **out, GError **error)
{
  Target *targets = g_new0 (Target, MAX (*n, 1));
  guint kept = 0;

  for (guint i = 0; i < *n; i++) {
    guint frames;
    if (!make_target (a, corpus, list, ids[i], &targets[kept], error)) {
      *out = targets;
      *n = kept + 1;
      return FALSE;
    }
    rs_utterances_features (corpus, ids[i], &frames);
    if (a->ctc && frames < ctc_min_frames (&targets[kept])) {
      g_printerr ("rnnstream train: warning: skipped %s:%u: %s: %u frames are too few for "
                  "its %u labels\n", list, rs_utterances_line (corpus, ids[i]),
                  rs_utterances_path (corpus, ids[i]), frames, targets[kept].n_labels);
      g_free (targets[kept].labels);
      targets[kept].labels = NULL;
      a->skipped_short++;
      continue;
    }
    ids[kept++] = ids[i];
  }
  *n = kept;
  *out = targets;
  return TRUE;
}

TrainTask *
train_audio_new (const RsTrainConfig *c, GError **error)
{
  Audio *a = g_new0 (Audio, 1);
  RsUtteranceOptions uo = { c->frontend, c->sample_rate, MAX (c->threads, 1) };
  guint n_all, n_valid = 0;
  g_autofree double *sum = NULL, *sum_sq = NULL;

  a->base.free = audio_free;
  a->cfg = c;
  a->ctc = strcmp (c->task, "ctc") == 0;
  a->train = rs_utterances_load (c->input, &uo, error);
  if (a->train == NULL)
    goto fail;
  warn_failures (a->train);
  a->digest = train_file_digest (c->input);
  a->I = rs_utterances_width (a->train);
  n_all = rs_utterances_count (a->train);

  /* Validation: a list of its own, or the last share of the input. */
  if (c->validation_input[0] != '\0') {
    /* Normalised as the training corpus is (its estimated priors). */
    uo.frontend = rs_utterances_frontend (a->train);
    a->valid_list = rs_utterances_load (c->validation_input, &uo, error);
    if (a->valid_list == NULL)
      goto fail;
    warn_failures (a->valid_list);
    if (rs_utterances_width (a->valid_list) != a->I) {
      g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "%s: %u features per frame, but %s has %u",
                   c->validation_input, rs_utterances_width (a->valid_list), c->input, a->I);
      goto fail;
    }
    n_valid = rs_utterances_count (a->valid_list);
  } else {
    n_valid = (guint) floor (n_all * c->validation);
  }
  a->n_train = n_all - (a->valid_list ? 0 : n_valid);
  if (a->n_train == 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "%s: %u utterances leave none to train on "
                 "after the validation share of %g", c->input, n_all, c->validation);
    goto fail;
  }
  a->train_ids = g_new (guint, a->n_train);
  for (guint i = 0; i < a->n_train; i++)
    a->train_ids[i] = i;
  a->n_valid = n_valid;
  a->valid_ids = g_new (guint, MAX (n_valid, 1));
  a->valid_corpus = g_new (const RsUtterances *, MAX (n_valid, 1));
  for (guint i = 0; i < n_valid; i++) {
    a->valid_ids[i] = a->valid_list ? i : a->n_train + i;
    a->valid_corpus[i] = a->valid_list ? a->valid_list : a->train;
  }

  if (!make_labels (a, error))
    goto fail;
  if (a->labels->len < 2) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: only one %s in the data: nothing to "
                 "tell apart", c->input, a->ctc ? "label besides the blank" : "class");
    goto fail;
  }
  if (!make_targets (a, a->train, c->input, a->train_ids, &a->n_train, &a->train_targets,
                     error))
    goto fail;
  {
    guint n = a->n_valid;
    /* A validation utterance comes from one corpus; check its labels
     * against the list it came from. */
    const RsUtterances *vc = a->valid_list ? a->valid_list : a->train;
    const char *vlist = a->valid_list ? c->validation_input : c->input;
    if (!make_targets (a, vc, vlist, a->valid_ids, &n, &a->valid_targets, error)) {
      a->n_valid = n;
      goto fail;
    }
    a->n_valid = n;
  }
  if (a->n_train == 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: no utterance is long enough for its "
                 "transcript", c->input);
    goto fail;
  }

  /* The standardisation: mean and population std of the training frames. */
  sum = g_new0 (double, a->I);
  sum_sq = g_new0 (double, a->I);
  a->mean = g_new (double, a->I);
  a->std = g_new (double, a->I);
  for (guint u = 0; u < a->n_train; u++) {
    guint n;
    const float *f = rs_utterances_features (a->train, a->train_ids[u], &n);
    for (gsize k = 0; k < (gsize) n * a->I; k++) {
      sum[k % a->I] += f[k];
      sum_sq[k % a->I] += (double) f[k] * f[k];
    }
    a->train_frames += n;
  }
  for (guint i = 0; i < a->I; i++) {
    const double m = sum[i] / (double) a->train_frames;
    const double v = sum_sq[i] / (double) a->train_frames - m * m;
    a->mean[i] = m;
    /* A constant feature (a silent band) keeps its values: dividing by a
     * zero spread would make noise of rounding. */
    a->std[i] = v > 1e-12 ? sqrt (v) : 1.0;
  }

  a->base.item_name = "utterances";
  a->base.n_inputs = a->I;
  a->base.n_outputs = a->labels->len;
  a->base.n_items = a->n_train;
  a->base.metric_name = a->ctc ? "token error rate (%)" : "frame error rate (%)";
  a->base.arrange = arrange;
  a->base.shard_new = shard_new;
  a->base.shard_free = shard_free;
  a->base.shard_run = shard_run;
  a->base.validate = validate;
  a->base.metadata = metadata;
  a->base.digest = a->digest;
  return &a->base;

fail:
  audio_free (&a->base);
  return NULL;
}
