/* Running a model over live input, a block at a time, with the recurrent
 * state carried between calls.
 *
 * An RsStream runs n_streams independent sequences through one shared
 * model. Frames are time-major: a block of T frames is T * n_streams rows,
 * row t * n_streams + b being frame t of stream b. The output for a
 * sequence is bit-identical however it is split into blocks (the cell
 * plugins guarantee it and the tests check it), so a caller may feed
 * whatever has arrived.
 *
 * All memory is allocated by rs_stream_new; rs_stream_forward and the
 * reset functions allocate nothing and take no lock (real-time safe). One
 * stream must not be used from two threads at once; different streams
 * over the same model may.
 */
#ifndef RS_STREAM_H
#define RS_STREAM_H

#include <glib.h>
#include <rnnstream/export.h>
#include <rnnstream/model.h>

G_BEGIN_DECLS

typedef struct RsStream RsStream;

/* A stream of n_streams (>= 1) sequences over model, which must outlive it.
 * Fails with RS_ERROR_UNSUPPORTED for a bidirectional model, whose reverse
 * direction needs the end of the sequence before the first output (run
 * those with rs_model_run_offline). */
RS_API RsStream *rs_stream_new (const RsModel *model, guint n_streams,
                                GError **error);
RS_API void rs_stream_free (RsStream *stream);

RS_API const RsModel *rs_stream_get_model (const RsStream *stream);
RS_API guint rs_stream_n_streams (const RsStream *stream);

/* Advances every sequence by n_frames frames: input holds
 * n_frames * n_streams * input_size floats, output receives
 * n_frames * n_streams * output_size floats. n_frames may be 0. */
RS_API void rs_stream_forward (RsStream *stream, gsize n_frames,
                               const float *input, float *output);

/* Returns every sequence, or sequence index, to the initial state. */
RS_API void rs_stream_reset (RsStream *stream);
RS_API void rs_stream_reset_one (RsStream *stream, guint index);

/* The whole recurrent state as bytes: a versioned, checksummed snapshot
 * that also records the model's digest. Allocates (not real-time safe). */
RS_API GBytes *rs_stream_save_state (const RsStream *stream);

/* Restores a snapshot made by rs_stream_save_state. Fails, leaving the
 * stream as it was, with RS_ERROR_STATE when the bytes are truncated or
 * corrupt, or were taken from another model or number of streams. */
RS_API gboolean rs_stream_load_state (RsStream *stream, GBytes *bytes,
                                      GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsStream, rs_stream_free)

G_END_DECLS

#endif
