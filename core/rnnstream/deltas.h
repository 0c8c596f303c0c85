/* Delta and acceleration features over a stream of frames, as Kaldi's
 * add-deltas computes them (feature-functions.cc, DeltaFeatures).
 *
 * Each output frame is the input frame followed by its `order` time
 * derivatives: the first is the regression sum_{j=-W..W} j x[t+j] /
 * sum_{j} j^2 over a window of W = `window` frames on either side, and
 * each higher one applies the same filter to the previous one's filter (so
 * order 2, window 2 reads frames t-4 .. t+4). Frames before the first and
 * after the last are copies of the first and the last, as in Kaldi.
 *
 * Output frame t therefore needs input frames up to t + order * window:
 * the stage's latency (rs_deltas_latency, 4 frames with the defaults).
 * The last `latency` frames come out after rs_deltas_finish, when the end
 * is known to be replicated.
 *
 * Streaming works as in features.h: rs_deltas_accept takes frames (all of
 * them unless its buffer is full of frames not yet popped),
 * rs_deltas_pop gives output frames in order, rs_deltas_finish marks the
 * end. The outputs are bit-identical however the input is split. Memory is
 * fixed at creation (about 2 * latency + 17 input frames); accept, pop,
 * finish and reset allocate nothing, take no lock and do no I/O. One
 * stage must not be used from two threads at once.
 */
#ifndef RS_DELTAS_H
#define RS_DELTAS_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

/* Kaldi's add-deltas options. */
typedef struct RsDeltaOptions {
  guint order;                    /* --delta-order, 2; 0..RS_DELTAS_MAX_ORDER */
  guint window;                   /* --delta-window, 2; 1..RS_DELTAS_MAX_WINDOW */
} RsDeltaOptions;

/* Limits of rnnstream's own (Kaldi allows up to 999 for both, which no
 * recipe uses and which would need a window of ~2 million frames). */
#define RS_DELTAS_MAX_ORDER 8
#define RS_DELTAS_MAX_WINDOW 100

RS_API void rs_delta_options_init (RsDeltaOptions *opts);

/* Applies "--delta-order=N" and "--delta-window=N" options, as
 * rs_feature_options_parse does (NULL-terminated args when n_args is -1).
 * FALSE with RS_ERROR_PARSE on an unknown name or a bad value. */
RS_API gboolean rs_delta_options_parse (RsDeltaOptions *opts, const char *const *args,
                                        gssize n_args, GError **error);
RS_API gboolean rs_delta_options_parse_string (RsDeltaOptions *opts, const char *text,
                                               GError **error);

typedef struct RsDeltas RsDeltas;

/* A stage for input frames of dim floats (dim >= 1). NULL with
 * RS_ERROR_FAILED when the options are out of range. */
RS_API RsDeltas *rs_deltas_new (guint dim, const RsDeltaOptions *opts, GError **error);
RS_API void rs_deltas_free (RsDeltas *deltas);

RS_API guint rs_deltas_input_dim (const RsDeltas *deltas);
/* Floats per output frame: input dim * (order + 1). */
RS_API guint rs_deltas_dim (const RsDeltas *deltas);
/* Frames of lookahead: order * window. */
RS_API guint rs_deltas_latency (const RsDeltas *deltas);

/* Takes up to n_frames frames (n_frames * input dim floats, frame-major)
 * and returns how many it took. Not after rs_deltas_finish. */
RS_API gsize rs_deltas_accept (RsDeltas *deltas, const float *frames, gsize n_frames);

/* The next output frame (rs_deltas_dim floats) and its index; FALSE, writing
 * nothing, when it is not ready yet (or all have been popped after finish). */
RS_API gboolean rs_deltas_pop (RsDeltas *deltas, float *frame, gint64 *index);

RS_API void rs_deltas_finish (RsDeltas *deltas);
RS_API void rs_deltas_reset (RsDeltas *deltas);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsDeltas, rs_deltas_free)

G_END_DECLS

#endif
