/* Sound files through libsndfile (see rnnstream/sound-file.h).
 *
 * The file is read BLOCK frames at a time into one interleaved buffer,
 * mixed down (or one channel picked) and scaled into a mono block, and
 * served from there, through the resampler when there is one. Those two
 * buffers and the resampler's, all allocated when the file is opened, are
 * all the memory reading takes.
 */
#include "config.h"

#include <string.h>

#include <sndfile.h>

#include "rnnstream/error.h"
#include "rnnstream/resampler.h"
#include "rnnstream/sound-file.h"

/* Frames per read from libsndfile: large enough that the per-call cost
 * vanishes, small enough to stay in cache (a stereo block is 32 KiB). */
#define BLOCK 4096

/* Kaldi's scale: a 16-bit sample's integer value. libsndfile normalises
 * every format to [-1, 1), dividing integer formats by a power of two, so
 * multiplying back by 2^15 gives 16-bit samples exactly. */
#define FULL_SCALE 32768.0f

/* WAV and AIFF writers that do not know the length yet (recording to a
 * pipe) put 0 or a huge placeholder in the data chunk's size; those are
 * not truncated files. */
#define PLACEHOLDER_SIZE 0x7ffff000u

struct RsSoundFile {
  char *path;
  SNDFILE *sf;
  SF_INFO info;
  char *format_name;
  int channel;                  /* RS_SOUND_FILE_MIX or an index */
  float *frames;                /* BLOCK * channels, interleaved */
  float *mono;                  /* BLOCK */
  gsize mono_pos, mono_len;
  gboolean at_end;              /* libsndfile has no more frames */
  RsResampler *resampler;       /* NULL without resampling */
  int rate;                     /* of the output */
};

typedef struct {
  const char *name;
  int subtype;
} RawFormat;

static const RawFormat raw_formats[] = {
  { "s8", SF_FORMAT_PCM_S8 },
  { "u8", SF_FORMAT_PCM_U8 },
  { "s16le", SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE },
  { "s16be", SF_FORMAT_PCM_16 | SF_ENDIAN_BIG },
  { "s24le", SF_FORMAT_PCM_24 | SF_ENDIAN_LITTLE },
  { "s24be", SF_FORMAT_PCM_24 | SF_ENDIAN_BIG },
  { "s32le", SF_FORMAT_PCM_32 | SF_ENDIAN_LITTLE },
  { "s32be", SF_FORMAT_PCM_32 | SF_ENDIAN_BIG },
  { "f32le", SF_FORMAT_FLOAT | SF_ENDIAN_LITTLE },
  { "f32be", SF_FORMAT_FLOAT | SF_ENDIAN_BIG },
  { "f64le", SF_FORMAT_DOUBLE | SF_ENDIAN_LITTLE },
  { "f64be", SF_FORMAT_DOUBLE | SF_ENDIAN_BIG },
  { "ulaw", SF_FORMAT_ULAW },
  { "alaw", SF_FORMAT_ALAW },
};

static const RsSoundFileOptions default_options = RS_SOUND_FILE_OPTIONS_INIT;

static char *
format_part_name (int format, int mask)
{
  SF_FORMAT_INFO fi = { .format = format & mask };

  if (sf_command (NULL, SFC_GET_FORMAT_INFO, &fi, sizeof fi) == 0 && fi.name != NULL)
    return g_strdup (fi.name);
  return g_strdup_printf ("unknown (0x%x)", (unsigned) (format & mask));
}

static char *
format_name (int format)
{
  g_autofree char *major = format_part_name (format, SF_FORMAT_TYPEMASK);
  g_autofree char *sub = format_part_name (format, SF_FORMAT_SUBMASK);

  return g_strdup_printf ("%s, %s", major, sub);
}

/* Bytes per sample of the encodings whose truncation we can check. */
static int
bytes_per_sample (int format)
{
  switch (format & SF_FORMAT_SUBMASK) {
  case SF_FORMAT_PCM_S8: case SF_FORMAT_PCM_U8: case SF_FORMAT_ULAW: case SF_FORMAT_ALAW:
    return 1;
  case SF_FORMAT_PCM_16:
    return 2;
  case SF_FORMAT_PCM_24:
    return 3;
  case SF_FORMAT_PCM_32: case SF_FORMAT_FLOAT:
    return 4;
  case SF_FORMAT_DOUBLE:
    return 8;
  default:
    return 0;
  }
}

/* libsndfile reads a WAV or AIFF file whose data chunk runs past the end
 * of the file without complaint, quietly shortening it to what is there.
 * A file cut short in a copy or a download would then pass for a complete
 * one, so we look for the one trace this leaves: the header parse log
 * libsndfile keeps, where the data chunk's line reads
 * "data : 64000 (should be 31978)" ("SSND" in AIFF). The log is not an
 * API, so test-sound-file.c truncates a WAV and an AIFF file: a libsndfile
 * that words it differently fails that test instead of letting truncated
 * files through unnoticed. Returns the number of frames the header
 * promised beyond the end, 0 if none. */
static guint64
frames_missing (SNDFILE *sf, const SF_INFO *info)
{
  const int major = info->format & SF_FORMAT_TYPEMASK;
  const int frame_bytes = bytes_per_sample (info->format) * info->channels;
  char log[4096] = "";
  char **lines;
  guint64 missing = 0;

  if ((major != SF_FORMAT_WAV && major != SF_FORMAT_WAVEX && major != SF_FORMAT_AIFF) ||
      frame_bytes == 0)
    return 0;
  sf_command (sf, SFC_GET_LOG_INFO, log, sizeof log);
  lines = g_strsplit (log, "\n", -1);
  for (char **l = lines; *l != NULL; l++) {
    const char *s = *l, *should;
    guint64 claimed, present;

    while (*s == ' ')
      s++;
    if (!g_str_has_prefix (s, "data : ") && !g_str_has_prefix (s, "SSND : "))
      continue;
    should = strstr (s, "(should be ");
    if (should == NULL)
      continue;
    claimed = g_ascii_strtoull (s + 7, NULL, 10);
    present = g_ascii_strtoull (should + 11, NULL, 10);
    if (claimed == 0 || claimed >= PLACEHOLDER_SIZE || claimed <= present)
      continue;
    missing = (claimed - present) / (guint64) frame_bytes;
  }
  g_strfreev (lines);
  return missing;
}

static gboolean
lookup_raw_format (const char *name, int *subtype)
{
  for (guint i = 0; i < G_N_ELEMENTS (raw_formats); i++)
    if (g_ascii_strcasecmp (name, raw_formats[i].name) == 0) {
      *subtype = raw_formats[i].subtype;
      return TRUE;
    }
  return FALSE;
}

RsSoundFile *
rs_sound_file_open (const char *path, const RsSoundFileOptions *options, GError **error)
{
  g_autoptr (RsSoundFile) file = NULL;
  guint64 missing;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options == NULL)
    options = &default_options;
  g_return_val_if_fail (options->channel >= RS_SOUND_FILE_MIX, NULL);
  g_return_val_if_fail (options->target_rate >= 0, NULL);

  file = g_new0 (RsSoundFile, 1);
  file->path = g_strdup (path);
  file->channel = options->channel;

  if (options->raw_format != NULL) {
    int subtype;

    if (!lookup_raw_format (options->raw_format, &subtype)) {
      g_set_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED, "%s: unknown raw sample format '%s' "
                   "(known: s8, u8, s16le, s16be, s24le, s24be, s32le, s32be, f32le, f32be, "
                   "f64le, f64be, ulaw, alaw)", path, options->raw_format);
      return NULL;
    }
    if (options->raw_rate < 1 || options->raw_channels < 1) {
      g_set_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED, "%s: a raw file needs a rate and a "
                   "number of channels (got %d Hz, %d channels)", path, options->raw_rate,
                   options->raw_channels);
      return NULL;
    }
    file->info.format = SF_FORMAT_RAW | subtype;
    file->info.samplerate = options->raw_rate;
    file->info.channels = options->raw_channels;
  }

  file->sf = sf_open (path, SFM_READ, &file->info);
  if (file->sf == NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "cannot open %s: %s", path, sf_strerror (NULL));
    return NULL;
  }
  if (file->info.channels < 1 || file->info.samplerate < 1) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "cannot open %s: %d channels at %d Hz", path,
                 file->info.channels, file->info.samplerate);
    return NULL;
  }
  file->format_name = format_name (file->info.format);
  missing = frames_missing (file->sf, &file->info);
  if (missing > 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "cannot read %s: truncated: the header promises "
                 "%" G_GUINT64_FORMAT " more frames than the file holds (%" G_GINT64_FORMAT
                 " frames present)", path, missing, (gint64) file->info.frames);
    return NULL;
  }
  if (file->channel >= file->info.channels) {
    g_set_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED, "%s has %d channel%s: there is no "
                 "channel %d (channels count from 0)", path, file->info.channels,
                 file->info.channels == 1 ? "" : "s", file->channel);
    return NULL;
  }
  /* libsndfile's default, made explicit because FULL_SCALE relies on it:
   * integer samples come normalised to [-1, 1). */
  sf_command (file->sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);

  file->rate = file->info.samplerate;
  if (options->target_rate > 0 && options->target_rate != file->info.samplerate) {
    g_autoptr (GError) local = NULL;

    if (options->target_rate > RS_RESAMPLER_MAX_RATE ||
        file->info.samplerate > RS_RESAMPLER_MAX_RATE) {
      g_set_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED, "%s: cannot resample from %d Hz to "
                   "%d Hz (the limit is %d Hz)", path, file->info.samplerate,
                   options->target_rate, RS_RESAMPLER_MAX_RATE);
      return NULL;
    }

    file->resampler = rs_resampler_new (file->info.samplerate, options->target_rate, &local);
    if (file->resampler == NULL) {
      g_set_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED, "%s: %s", path, local->message);
      return NULL;
    }
    file->rate = options->target_rate;
  }
  file->frames = g_new (float, (gsize) BLOCK * (gsize) file->info.channels);
  file->mono = g_new (float, BLOCK);
  return g_steal_pointer (&file);
}

void
rs_sound_file_free (RsSoundFile *file)
{
  if (file == NULL)
    return;
  if (file->sf != NULL)
    sf_close (file->sf);
  rs_resampler_free (file->resampler);
  g_free (file->frames);
  g_free (file->mono);
  g_free (file->format_name);
  g_free (file->path);
  g_free (file);
}

int
rs_sound_file_get_native_rate (const RsSoundFile *file)
{
  g_return_val_if_fail (file != NULL, 0);
  return file->info.samplerate;
}

int
rs_sound_file_get_channels (const RsSoundFile *file)
{
  g_return_val_if_fail (file != NULL, 0);
  return file->info.channels;
}

guint64
rs_sound_file_get_frames (const RsSoundFile *file)
{
  g_return_val_if_fail (file != NULL, 0);
  return file->info.frames > 0 ? (guint64) file->info.frames : 0;
}

const char *
rs_sound_file_get_format_name (const RsSoundFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  return file->format_name;
}

int
rs_sound_file_get_rate (const RsSoundFile *file)
{
  g_return_val_if_fail (file != NULL, 0);
  return file->rate;
}

guint64
rs_sound_file_get_length (const RsSoundFile *file)
{
  g_return_val_if_fail (file != NULL, 0);
  if (file->resampler != NULL)
    return rs_resampler_output_length (file->resampler, rs_sound_file_get_frames (file));
  return rs_sound_file_get_frames (file);
}

/* Reads the next block of frames into file->mono; at the end of the file
 * leaves it empty and sets at_end. */
static gboolean
refill (RsSoundFile *file, GError **error)
{
  const int channels = file->info.channels;
  sf_count_t got = sf_readf_float (file->sf, file->frames, BLOCK);

  if (got < BLOCK && sf_error (file->sf) != SF_ERR_NO_ERROR) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "cannot read %s: %s", file->path,
                 sf_strerror (file->sf));
    return FALSE;
  }
  if (got <= 0) {
    file->at_end = TRUE;
    got = 0;
  }
  if (file->channel != RS_SOUND_FILE_MIX) {
    for (sf_count_t i = 0; i < got; i++)
      file->mono[i] = file->frames[i * channels + file->channel] * FULL_SCALE;
  } else if (channels == 1) {
    for (sf_count_t i = 0; i < got; i++)
      file->mono[i] = file->frames[i] * FULL_SCALE;
  } else {
    /* The average, scaled in one multiplication: for 16-bit stereo
     * (a + b) / 2 comes out exact, as the sum of two normalised samples
     * is. */
    const float scale = FULL_SCALE / (float) channels;

    for (sf_count_t i = 0; i < got; i++) {
      const float *f = file->frames + i * channels;
      float sum = 0.0f;

      for (int c = 0; c < channels; c++)
        sum += f[c];
      file->mono[i] = sum * scale;
    }
  }
  file->mono_pos = 0;
  file->mono_len = (gsize) got;
  return TRUE;
}

gssize
rs_sound_file_read (RsSoundFile *file, float *out, gsize n, GError **error)
{
  gsize written = 0;

  g_return_val_if_fail (file != NULL, -1);
  g_return_val_if_fail (out != NULL || n == 0, -1);
  g_return_val_if_fail (n <= G_MAXSSIZE, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  while (written < n) {
    if (file->mono_pos == file->mono_len && !file->at_end && !refill (file, error))
      return -1;
    if (file->resampler != NULL) {
      g_autoptr (GError) local = NULL;
      gsize used = 0, w = 0;
      gboolean ok;

      if (file->mono_pos < file->mono_len)
        ok = rs_resampler_process (file->resampler, file->mono + file->mono_pos,
                                   file->mono_len - file->mono_pos, &used, out + written,
                                   n - written, &w, &local);
      else
        ok = rs_resampler_flush (file->resampler, out + written, n - written, &w, &local);
      if (!ok) {
        g_set_error (error, RS_ERROR, RS_ERROR_IO, "cannot read %s: %s", file->path,
                     local->message);
        return -1;
      }
      file->mono_pos += used;
      written += w;
      if (file->at_end && w == 0 && used == 0)
        break;
    } else {
      gsize k = MIN (file->mono_len - file->mono_pos, n - written);

      if (k == 0)
        break;          /* only at the end: refill gave nothing */
      memcpy (out + written, file->mono + file->mono_pos, k * sizeof (float));
      file->mono_pos += k;
      written += k;
    }
  }
  return (gssize) written;
}
