/* Reading recorded sound, block by block, as one channel of floats.
 *
 * Anything libsndfile reads opens: WAV (and WAVEX, RF64, W64), FLAC,
 * Ogg/Vorbis and Opus, AIFF, AU, CAF, MP3 where libsndfile has it, ... and
 * headerless raw files described by the caller (rate, channels, sample
 * format). Reading takes constant memory whatever the length of the file:
 * one block of the file's frames, and the resampler's buffers when there
 * is one.
 *
 * Samples come out scaled as Kaldi reads 16-bit WAV files: full scale is
 * 32768, so a 16-bit sample 1234 comes out as exactly 1234.0f. Every other
 * format is brought to the same scale: the value libsndfile normalises to
 * [-1, 1) is multiplied by 32768. A 24-bit sample s comes out as s / 256,
 * a float sample x as x * 32768 (values beyond +-1 in a float file pass
 * unclipped), 8-bit samples as multiples of 256. The same sound therefore
 * gives the same numbers, to the precision of its format, whether it was
 * stored as 16-bit, 24-bit, float, FLAC or Vorbis.
 *
 * Several channels become one: their average (the default), or one
 * channel chosen by index. With a target rate that differs from the file's,
 * the channel is resampled (see rnnstream/resampler.h: no delay, output
 * length round (frames * target / rate), the same samples whatever the
 * sizes of the reads).
 *
 * An RsSoundFile is used by one thread at a time.
 */
#ifndef RS_SOUND_FILE_H
#define RS_SOUND_FILE_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

/* RsSoundFileOptions.channel: average all channels. */
#define RS_SOUND_FILE_MIX (-1)

typedef struct {
  /* NULL: the file has a header that describes it. Otherwise the file is
   * headerless and this names its sample format: s8, u8, s16le, s16be,
   * s24le, s24be, s32le, s32be, f32le, f32be, f64le, f64be, ulaw, alaw
   * (case-insensitive); raw_rate and raw_channels must then be >= 1. */
  const char *raw_format;
  int raw_rate;
  int raw_channels;
  /* RS_SOUND_FILE_MIX, or the 0-based channel to read. */
  int channel;
  /* 0: the file's own rate. Otherwise the rate to resample to (Hz). */
  int target_rate;
} RsSoundFileOptions;

/* Defaults for every field: a file with a header, all channels mixed, the
 * file's own rate. Note that a zeroed struct reads channel 0 instead. */
#define RS_SOUND_FILE_OPTIONS_INIT { NULL, 0, 0, RS_SOUND_FILE_MIX, 0 }

typedef struct RsSoundFile RsSoundFile;

/* Opens path (options may be NULL for the defaults). Fails with a message
 * that names the file and gives libsndfile's reason:
 * - RS_ERROR_IO when the file is missing, unreadable, not a sound file,
 *   corrupt or truncated (a WAV or AIFF header that promises more frames
 *   than the file holds; compressed formats report truncation when read);
 * - RS_ERROR_UNSUPPORTED for an unknown raw format, a channel the file
 *   does not have, or rates the resampler refuses. */
RS_API RsSoundFile *rs_sound_file_open (const char *path, const RsSoundFileOptions *options,
                                        GError **error);
RS_API void rs_sound_file_free (RsSoundFile *file);

/* The file as stored. */
RS_API int rs_sound_file_get_native_rate (const RsSoundFile *file);
RS_API int rs_sound_file_get_channels (const RsSoundFile *file);
RS_API guint64 rs_sound_file_get_frames (const RsSoundFile *file);
/* libsndfile's names for the container and the encoding, e.g.
 * "WAV (Microsoft), Signed 16 bit PCM". Owned by file. */
RS_API const char *rs_sound_file_get_format_name (const RsSoundFile *file);

/* What reading gives: the rate (the target rate, or the native one), and
 * the number of samples in all (frames, or the resampled length). */
RS_API int rs_sound_file_get_rate (const RsSoundFile *file);
RS_API guint64 rs_sound_file_get_length (const RsSoundFile *file);

/* Reads the next samples into out: returns n (or fewer only at the end of
 * the file), 0 at the end, -1 with RS_ERROR_IO (naming the file) when the
 * file cannot be read or decoded, or turns out shorter than its header
 * said. Any n works; the output does not depend on how reads are sized. */
RS_API gssize rs_sound_file_read (RsSoundFile *file, float *out, gsize n, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsSoundFile, rs_sound_file_free)

G_END_DECLS

#endif
