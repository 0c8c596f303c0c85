/* Streaming sample-rate conversion of one channel of floats.
 *
 * The work is done by libsoxr at its "high quality" setting (20-bit
 * precision, linear phase, passband flat to 0.01 dB up to 91% of the
 * lower Nyquist frequency, aliases below -130 dB); bench/README.md has the
 * measurements behind the choice.
 *
 * Guarantees:
 * - Block invariance: the output samples are bit-identical however the
 *   input is split across calls and however much output room each call
 *   offers. libsoxr behaves so in practice but does not promise it, so
 *   the resampler hands it input only in fixed blocks of
 *   RS_RESAMPLER_BLOCK samples, with a fixed output room: libsoxr sees the
 *   same sequence of calls whatever the caller does.
 * - Alignment: no delay to compensate. Output sample k is the input signal
 *   at time k / out_rate (libsoxr removes its filter's delay itself).
 * - Length: after rs_resampler_flush, n input samples have given exactly
 *   rs_resampler_output_length (n) = round (n * out_rate / in_rate) output
 *   samples.
 * - Latency: output lags input by libsoxr's look-ahead (its filters are
 *   long at low rates) plus up to RS_RESAMPLER_BLOCK - 1 input samples
 *   waiting for their block to fill; flush releases everything. Measured,
 *   feeding 10 ms at a time: 39 ms from 48 to 16 kHz, 43 ms from 44.1 to
 *   16 kHz, 121 ms from 16 to 8 kHz, 128 ms from 8 to 16 kHz.
 *
 * An RsResampler is used by one thread at a time. It allocates when
 * created and may allocate inside libsoxr while processing, so it belongs
 * on the processing thread, not in an audio callback.
 */
#ifndef RS_RESAMPLER_H
#define RS_RESAMPLER_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

/* Input samples per call into libsoxr (see the block invariance above):
 * small enough to add little latency, large enough that the calls cost
 * nothing (above 200 million samples per second on one core). */
#define RS_RESAMPLER_BLOCK 128

/* The highest rate accepted, in Hz. */
#define RS_RESAMPLER_MAX_RATE 10000000

typedef struct RsResampler RsResampler;

/* A resampler from in_rate to out_rate (Hz, both in 1 ..
 * RS_RESAMPLER_MAX_RATE).
 * Equal rates are allowed and copy the input through. Fails with
 * RS_ERROR_UNSUPPORTED, naming the rates, when libsoxr refuses them. */
RS_API RsResampler *rs_resampler_new (int in_rate, int out_rate, GError **error);
RS_API void rs_resampler_free (RsResampler *resampler);

RS_API int rs_resampler_get_in_rate (const RsResampler *resampler);
RS_API int rs_resampler_get_out_rate (const RsResampler *resampler);

/* round (n_in * out_rate / in_rate): the output a stream of n_in samples
 * gives in all, flush included. */
RS_API guint64 rs_resampler_output_length (const RsResampler *resampler, guint64 n_in);

/* Takes input and gives output: consumes up to n_in samples of in and
 * writes up to max_out samples to out, storing the counts in *n_used and
 * *n_written. Input is consumed only while there is room for the output
 * it produces, so *n_used < n_in means out is full: call again with the
 * rest. Fails with RS_ERROR_FAILED (libsoxr's reason) only when libsoxr
 * fails, e.g. out of memory; the resampler is then unusable. */
RS_API gboolean rs_resampler_process (RsResampler *resampler,
                                      const float *in, gsize n_in, gsize *n_used,
                                      float *out, gsize max_out, gsize *n_written,
                                      GError **error);

/* Ends the input: writes up to max_out of the remaining output samples.
 * Call until *n_written is 0; after that the resampler gives nothing more
 * until rs_resampler_reset. */
RS_API gboolean rs_resampler_flush (RsResampler *resampler, float *out, gsize max_out,
                                    gsize *n_written, GError **error);

/* Forgets all input: ready for a new stream at the same rates. */
RS_API void rs_resampler_reset (RsResampler *resampler);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsResampler, rs_resampler_free)

G_END_DECLS

#endif
