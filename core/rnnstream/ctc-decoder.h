/* Streaming CTC decoders: greedy (best path) and prefix beam search over
 * the per-frame outputs of a CTC-trained model, for online recognition.
 *
 * Input: per-frame logits of width n_classes (the model's linear head,
 * time-major, one stream). The decoder takes the log-softmax of each frame
 * itself, in float and stable (the frame's maximum subtracted first). A
 * non-finite logit is treated as the lowest score (NaN, -inf) or the
 * highest (+inf) a float holds; the results are then defined but not
 * meaningful.
 *
 * Searches:
 *  - greedy: the most probable class of each frame (ties: the lower
 *    index), repeats collapsed, blanks dropped: the labelling of the best
 *    path. Score: that path's log-probability.
 *  - prefix beam search (Graves 2012; Hannun et al. 2014, "First-pass
 *    large vocabulary continuous speech recognition using bi-directional
 *    recurrent DNNs"): for each prefix, the log-probabilities of all its
 *    alignments ending in a blank and in a non-blank, summed over
 *    alignments, the beam's best prefixes kept each frame, equal prefixes
 *    merged. Score: the best prefix's log-probability (both sums). Without
 *    pruning and with a beam holding every prefix it is exact: the most
 *    probable labelling. It may differ from greedy even with one
 *    hypothesis (beam 1): a prefix that stays sums its blank and repeat
 *    paths, where greedy follows one path.
 *  Candidate pruning (prefix search): at each frame only the classes among
 *  the max_candidates most probable non-blank ones (0: every class) whose
 *  log-posterior is within prune_margin of the frame's best class (0: no
 *  margin) may extend a prefix. The blank and the repetition of a prefix's
 *  last label are always scored (they do not make new prefixes).
 *
 * Streaming and memory: rs_ctc_decoder_push takes any number of frames and
 * gives the same results however a stream is cut into pushes. Everything is
 * allocated by rs_ctc_decoder_new; push, finish, reset and the getters
 * allocate nothing, and each frame costs at most O(beam * candidates) plus
 * the bounded commit work below, whatever the stream's length.
 *
 * Prefixes are nodes of a prefix tree held in a fixed pool. A token on
 * which every live hypothesis agrees, and whose run is over on all of them
 * (they all continue with the same next token), is committed: it moves to
 * the committed list and its node is freed. The pool holds
 * beam * (max_tail + 1) + 1 nodes; when after a frame more than
 * beam * max_tail + 1 are in use (the next frame could add beam), the best
 * hypothesis's oldest uncommitted token is committed by force and the
 * hypotheses that disagree with it are dropped, until the pool is within
 * bounds again (counted in RsCtcDecoderStats.forced_commits). So the
 * uncommitted tail of any hypothesis is bounded, and so is the cost of
 * reading a partial result.
 *
 * The committed list holds max_committed tokens: rs_ctc_decoder_take_committed
 * drains it. A caller that does not drain it keeps the newest max_committed
 * committed tokens: when it is full the oldest is dropped (counted in
 * RsCtcDecoderStats.overwritten). One frame may commit up to
 * beam * max_tail + 1 tokens at once (a long disagreement resolved), so a
 * caller that must see every token drains after each push and sizes
 * max_committed above that plus the frames of a push.
 *
 * Timing: frames are counted on the stream's clock, from 0 at the decoder's
 * creation (or the frame rs_ctc_decoder_reset sets), across segments. A
 * token's start_frame is the frame of its first emission on the prefix's
 * best alignment, and end_frame the last frame of its run (the frames of
 * its label that followed, where going on was more probable than a
 * blank), both tracked while the token is the hypothesis's last one.
 * Once a prefix has been extended its last token's timing is frozen, so
 * that the tokens of every path stay in order (end_frame < the next
 * start_frame); so when a weaker prefix was extended before it became the
 * best, its timing is that of its weaker past: start and end a few frames
 * early. Exact for greedy, and for the prefix search whenever only the
 * best prefixes extend (peaky outputs, a pruning margin); approximate
 * otherwise. confidence is the highest posterior of the token's label over
 * the frames of its run.
 *
 * Constraint: an optional word list (RsCtcConstraint, a trie over label
 * sequences) limits the hypotheses to sequences of its words. With
 * word_separator < 0 (word-unit models: "zero" .. "nine", "oh" as one label
 * each, or a word of several labels), a word's end may be followed directly
 * by the first label of any word. With a separator label (character models),
 * a new word starts only after the separator, which is allowed at a word's
 * end and between words (a leading or repeated separator carries no word).
 * A prefix is then identified by its labels and its place in the trie (in
 * word-unit mode one labelling may parse as different word sequences, kept
 * as different hypotheses). rs_ctc_decoder_finish prefers the best
 * hypothesis that ends at a word's end. Greedy search cannot follow a
 * constraint.
 *
 * Not thread-safe: one thread uses a decoder at a time. Different decoders
 * are independent.
 */
#ifndef RS_CTC_DECODER_H
#define RS_CTC_DECODER_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

/* A word list for rs_ctc_decoder_new: a trie over label sequences. */
typedef struct RsCtcConstraint RsCtcConstraint;

/* An empty word list (it allows no word until one is added). */
RS_API RsCtcConstraint *rs_ctc_constraint_new (void);
RS_API void rs_ctc_constraint_free (RsCtcConstraint *constraint);

/* Adds the word spelled by labels (n_labels >= 1 label indices, copied).
 * Adding a word twice changes nothing. The labels are checked against the
 * decoder's classes by rs_ctc_decoder_new. */
RS_API void rs_ctc_constraint_add_word (RsCtcConstraint *constraint, guint n_labels,
                                        const guint *labels);

/* The words of the NULL-terminated list words, each spelled with the
 * labels (n_classes names, as in RsCtcDecoderOptions): a word is split
 * into whole labels whose names concatenate to it, the longest label
 * first where there is a choice (a word-unit model's word is then its own
 * label). The blank's and the separator's labels (word_separator >= 0) and
 * empty or NULL names are never used. Fails with RS_ERROR_ARGUMENT, naming
 * the word, when a word is empty or cannot be spelled with the labels. */
RS_API RsCtcConstraint *rs_ctc_constraint_new_from_words (const char *const *words,
                                                          guint n_classes,
                                                          const char *const *labels,
                                                          guint blank, gint word_separator,
                                                          GError **error);

/* The number of distinct words added. */
RS_API guint rs_ctc_constraint_get_n_words (const RsCtcConstraint *constraint);

typedef enum {
  RS_CTC_SEARCH_AUTO,        /* greedy when beam is 1 and there is no constraint, else prefix */
  RS_CTC_SEARCH_GREEDY,
  RS_CTC_SEARCH_PREFIX       /* prefix beam search, at any beam including 1 */
} RsCtcSearch;

typedef struct {
  guint n_classes;           /* >= 2: the width of a frame, the blank included */
  guint blank;               /* < n_classes; 0 by default */
  guint beam;                /* hypotheses kept, 1 .. 65536 */
  RsCtcSearch search;
  guint max_candidates;      /* prefix search: non-blank classes that may extend a prefix per
                              * frame, the most probable first; 0: all */
  float prune_margin;        /* prefix search: > 0: only classes whose log-posterior is within
                              * this of the frame's best; 0: no margin */
  const char *const *labels; /* n_classes token names (the blank's may be NULL), or NULL;
                              * copied. Used for text only. */
  gint word_separator;       /* the label that ends a word (character models), or -1 */
  const RsCtcConstraint *constraint; /* or NULL; copied, the caller keeps it */
  guint max_tail;            /* >= 1: uncommitted tokens per hypothesis the pool holds */
  guint max_committed;       /* >= 1: the committed list's capacity */
} RsCtcDecoderOptions;

/* Blank 0, beam 8, automatic search, at most 16 candidates within 10 (a
 * factor e^10 ~ 22000 in probability) of the best, no labels, no separator,
 * no constraint, max_tail 64, max_committed 1024. n_classes must be set. */
#define RS_CTC_DECODER_OPTIONS_INIT \
  { 0, 0, 8, RS_CTC_SEARCH_AUTO, 16, 10.0f, NULL, -1, NULL, 64, 1024 }

typedef struct {
  guint label;               /* class index, never the blank */
  gint64 start_frame;        /* see Timing above */
  gint64 end_frame;          /* >= start_frame */
  float confidence;          /* in [0, 1] */
} RsCtcToken;

typedef struct {
  guint pool_size;           /* prefix tree nodes allocated */
  guint live_nodes;          /* of which in use now */
  guint n_hypotheses;
  guint64 forced_commits;    /* times the pool bound forced a commit */
  guint64 overwritten;       /* committed tokens dropped, undrained, from a full list */
} RsCtcDecoderStats;

typedef struct RsCtcDecoder RsCtcDecoder;

/* A decoder at frame 0 of a new segment. Fails with RS_ERROR_ARGUMENT,
 * naming the option, when an option is out of its range, a label name is
 * NULL (but the blank's), or a constraint word uses a label out of range,
 * the blank or the separator; and when greedy search is asked for with a
 * constraint. */
RS_API RsCtcDecoder *rs_ctc_decoder_new (const RsCtcDecoderOptions *options, GError **error);
RS_API void rs_ctc_decoder_free (RsCtcDecoder *dec);

/* Decodes n_frames frames of logits (n_frames * n_classes floats,
 * frame-major, not kept). Real-time safe: no allocation, no lock, no I/O. */
RS_API void rs_ctc_decoder_push (RsCtcDecoder *dec, guint n_frames, const float *logits);

/* The current best result of the segment: the committed tokens not yet
 * taken (oldest first), then the best hypothesis's uncommitted tokens. The
 * array belongs to dec and is valid until the next call on dec; its length
 * is at most max_committed + pool_size. */
RS_API const RsCtcToken *rs_ctc_decoder_get_result (RsCtcDecoder *dec, guint *n_tokens);

/* Moves up to max_tokens committed tokens, oldest first, into tokens and
 * returns how many. Committed tokens never change. */
RS_API guint rs_ctc_decoder_take_committed (RsCtcDecoder *dec, RsCtcToken *tokens,
                                            guint max_tokens);

/* Ends the segment: the best hypothesis (with a constraint, the best that
 * ends at a word's end, if any) is committed whole, and the search starts
 * again from the empty prefix at the next frame. The committed tokens stay
 * until taken or reset, so rs_ctc_decoder_get_result now gives the final
 * result of the segment. */
RS_API void rs_ctc_decoder_finish (RsCtcDecoder *dec);

#define RS_CTC_DECODER_KEEP_CLOCK (-1)

/* Discards the segment (hypotheses and committed tokens) and starts a new
 * one. next_frame >= 0 sets the frame number of the next frame pushed;
 * RS_CTC_DECODER_KEEP_CLOCK keeps counting. The statistics are kept. */
RS_API void rs_ctc_decoder_reset (RsCtcDecoder *dec, gint64 next_frame);

/* The number of the next frame to be pushed. */
RS_API gint64 rs_ctc_decoder_get_next_frame (const RsCtcDecoder *dec);

/* The blank's posterior at the last frame pushed (for endpointing); 0
 * before the first frame. */
RS_API float rs_ctc_decoder_get_blank_prob (const RsCtcDecoder *dec);

/* The best hypothesis's log-probability since the segment started (see
 * Searches); 0 for a new segment. */
RS_API double rs_ctc_decoder_get_score (const RsCtcDecoder *dec);

RS_API void rs_ctc_decoder_get_stats (const RsCtcDecoder *dec, RsCtcDecoderStats *stats);

/* The text of n tokens (newly allocated, g_free): with no word separator,
 * their labels joined by single spaces (words as units); with one, their
 * labels concatenated with every run of separators written as one space
 * and none at either end (characters). A label without a name is written
 * as its index. */
RS_API char *rs_ctc_decoder_get_text (const RsCtcDecoder *dec, const RsCtcToken *tokens,
                                      guint n);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsCtcConstraint, rs_ctc_constraint_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsCtcDecoder, rs_ctc_decoder_free)

G_END_DECLS

#endif
