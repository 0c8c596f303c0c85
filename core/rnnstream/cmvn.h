/* Sliding-window cepstral mean (and variance) normalisation over a stream
 * of frames, as Kaldi's apply-cmvn-sliding computes it
 * (feature-functions.cc, SlidingWindowCmnInternal).
 *
 * Frame t has the mean of a window of frames subtracted (and, with
 * norm-vars, is divided by their standard deviation, floored at 1e-5, i.e.
 * variance 1e-10). Kaldi's windows, in frames [start, end):
 *
 *   center=false (the default): [t - cmn_window, t + 1), i.e. the current
 *     frame and up to cmn_window before it. Near the start, where fewer
 *     frames exist, Kaldi extends the window forward to min_cmn_window
 *     frames: [0, max(t + 1, min_cmn_window)). So frames 0 .. min-1 wait
 *     for frame min-1 (99 with the defaults), and from then on output t
 *     is ready as soon as input t is: no latency after the start.
 *   center=true: [t - cmn_window / 2, t - cmn_window / 2 + cmn_window),
 *     moved right at the start and left at the end to stay inside the
 *     signal (and cut to the signal when it is shorter): a lookahead of
 *     about cmn_window / 2 frames (cmn_window at the start).
 *
 * Near the end of a signal shorter than a window, the window is clipped to
 * the signal, which is why the last frames of a short signal wait for
 * rs_cmvn_finish. Sums are kept in double precision and updated frame by
 * frame as Kaldi does; the output is rounded to float at the end.
 * Kaldi's warnings about floored variances are not reproduced (this code
 * does no I/O).
 *
 * A prior (rs_cmvn_set_prior) adds to every window's statistics those of
 * `frames` frames with a given mean and standard deviation, as Kaldi's
 * online CMVN (online-feature.cc, OnlineCmvn) adds global statistics. Kaldi
 * lets them fill the window only until it holds cmn_window frames; here
 * they stay, because a live stream's window can hold nothing but silence,
 * whose variances are tiny: normalised by them, the first word after a
 * long pause is scaled far beyond anything a model was trained on. With a
 * prior the start needs no lookahead (min-cmn-window=0).
 *
 * Streaming works as in features.h (accept / pop / finish / reset); the
 * outputs are bit-identical however the input is split. Memory is fixed
 * at creation: max(cmn_window + 1, min_cmn_window) + 17 input frames;
 * accept, pop, finish and reset allocate nothing, take no lock and do no
 * I/O. One stage must not be used from two threads at once.
 */
#ifndef RS_CMVN_H
#define RS_CMVN_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

/* Kaldi's apply-cmvn-sliding options. */
typedef struct RsCmvnOptions {
  guint cmn_window;               /* --cmn-window, 600; >= 1 */
  guint min_cmn_window;           /* --min-cmn-window, 100; center: 1..cmn_window */
  gboolean norm_vars;             /* --norm-vars, false */
  gboolean center;                /* --center, false */
} RsCmvnOptions;

/* Largest cmn-window and min-cmn-window accepted (about 3 hours at 10 ms). */
#define RS_CMVN_MAX_WINDOW 1000000u

RS_API void rs_cmvn_options_init (RsCmvnOptions *opts);

/* Applies "--cmn-window=N", "--min-cmn-window=N", "--norm-vars=B" and
 * "--center=B", as rs_feature_options_parse does. FALSE with
 * RS_ERROR_PARSE on an unknown name or a bad value. */
RS_API gboolean rs_cmvn_options_parse (RsCmvnOptions *opts, const char *const *args,
                                       gssize n_args, GError **error);
RS_API gboolean rs_cmvn_options_parse_string (RsCmvnOptions *opts, const char *text,
                                              GError **error);

typedef struct RsCmvn RsCmvn;

/* A stage for frames of dim floats (dim >= 1). NULL with RS_ERROR_FAILED
 * when the options are out of range (as Kaldi's checks: cmn-window >= 1;
 * with center, 1 <= min-cmn-window <= cmn-window). */
RS_API RsCmvn *rs_cmvn_new (guint dim, const RsCmvnOptions *opts, GError **error);
RS_API void rs_cmvn_free (RsCmvn *cmvn);

RS_API guint rs_cmvn_dim (const RsCmvn *cmvn);

/* Sets the prior: dim means and dim standard deviations (copied), weighted
 * as `frames` frames (0: no prior, the default). Kept across resets. Not
 * allowed with center=true (FALSE with RS_ERROR_FAILED), nor with
 * standard deviations that are negative or not finite. */
RS_API gboolean rs_cmvn_set_prior (RsCmvn *cmvn, const double *mean, const double *std,
                                   double frames, GError **error);

/* Takes up to n_frames frames (n_frames * dim floats, frame-major) and
 * returns how many it took. Not after rs_cmvn_finish. */
RS_API gsize rs_cmvn_accept (RsCmvn *cmvn, const float *frames, gsize n_frames);

/* The next normalised frame (dim floats) and its index; FALSE, writing
 * nothing, when it is not ready yet (or all have been popped after
 * finish). */
RS_API gboolean rs_cmvn_pop (RsCmvn *cmvn, float *frame, gint64 *index);

RS_API void rs_cmvn_finish (RsCmvn *cmvn);
RS_API void rs_cmvn_reset (RsCmvn *cmvn);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsCmvn, rs_cmvn_free)

G_END_DECLS

#endif
