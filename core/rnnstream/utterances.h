/* A corpus of recorded utterances for training: a list file of sound files
 * and their transcripts, with the features of every file computed by a
 * feature pipeline and held in memory.
 *
 * The list file has one utterance per line:
 *
 *   wav/0001.wav<TAB>three oh five
 *   # comments and blank lines are skipped
 *
 * the path (relative paths are taken from the list's directory), a tab,
 * and the utterance's text, passed on as it is (the trainer gives it its
 * meaning: a transcript, or a class label). A line without a tab, with an
 * empty path or an empty text is an error naming the list, the line and
 * what is wrong.
 *
 * Features come from running
 *
 *   filesrc location=PATH rate=RATE ! FRONTEND
 *
 * with FRONTEND a pipeline text without source or sink (for example
 * "fbank num-mel-bins=40 ! cmvn ! stack frames=3"), through
 * rs_pipeline_new_to_caller: the same elements the serving pipelines run,
 * so the features a model is trained on are those it is served. Files are
 * resampled to RATE when theirs differs. The files are processed on
 * n_threads threads; the features do not depend on the thread count.
 *
 * A cmvn element in FRONTEND with prior-frames= but no prior-mean= has its
 * prior (rnnstream/cmvn.h) estimated from the corpus: the mean and
 * standard deviation of every frame that reaches it, over every file, in a
 * first pass through the elements before it. rs_utterances_frontend gives
 * the front end with the numbers filled in, which is what a model trained
 * on the corpus must be served with (and what a validation corpus is
 * loaded with, so that it is normalised as the training corpus is).
 *
 * A file that cannot be read (missing, corrupt, empty of frames) does not
 * stop the others: it is left out of the corpus and its error ("LIST:LINE:
 * PATH: message") kept for the caller to report (rs_utterances_failures).
 */
#ifndef RS_UTTERANCES_H
#define RS_UTTERANCES_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

typedef struct RsUtterances RsUtterances;

typedef struct RsUtteranceOptions {
  const char *frontend;      /* the feature pipeline text, without source and sink */
  double sample_rate;        /* Hz, > 0: every file is read at this rate */
  guint n_threads;           /* >= 1 */
} RsUtteranceOptions;

/* Reads the list at list_path and computes the features of every file in
 * it. Fails with RS_ERROR_IO (the list cannot be read), RS_ERROR_PARSE (a
 * malformed line), RS_ERROR_PIPELINE (a front end that does not parse or
 * fit together, checked on the first file) or RS_ERROR_FAILED (no file at
 * all could be read; the message quotes the first failure). */
RS_API RsUtterances *rs_utterances_load (const char *list_path,
                                         const RsUtteranceOptions *options,
                                         GError **error);
RS_API void rs_utterances_free (RsUtterances *utterances);

/* The utterances read, in list order (failed files left out). */
RS_API guint rs_utterances_count (const RsUtterances *utterances);
/* Floats per feature frame (the front end's output width). */
RS_API guint rs_utterances_width (const RsUtterances *utterances);
/* The front end the features were computed with: FRONTEND, with any
 * estimated prior filled in. Owned by the corpus. */
RS_API const char *rs_utterances_frontend (const RsUtterances *utterances);
/* The front end's frame rate (frames per second). */
RS_API double rs_utterances_frame_rate (const RsUtterances *utterances);

/* Utterance i's path as written in the list, its text and its line; owned
 * by the corpus. */
RS_API const char *rs_utterances_path (const RsUtterances *utterances, guint i);
RS_API const char *rs_utterances_text (const RsUtterances *utterances, guint i);
RS_API guint rs_utterances_line (const RsUtterances *utterances, guint i);

/* Utterance i's features: *n_frames frames of rs_utterances_width floats,
 * frame after frame; owned by the corpus. */
RS_API const float *rs_utterances_features (const RsUtterances *utterances, guint i,
                                            guint *n_frames);

/* The files that were left out: "LIST:LINE: PATH: message", NULL-terminated,
 * owned by the corpus (empty when every file was read). */
RS_API const char *const *rs_utterances_failures (const RsUtterances *utterances);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsUtterances, rs_utterances_free)

G_END_DECLS

#endif
