/* filesrc: audio samples from a sound file (any format libsndfile reads,
 * or headerless raw audio), mixed down to mono, scaled as Kaldi reads
 * 16-bit audio, resampled when asked, read in blocks so any length runs in
 * constant memory. */
#include "config.h"

#include <string.h>

#include "../element.h"
#include "rnnstream/sound-file.h"

typedef struct {
  RsSoundFile *file;
  gsize chunk;
  gint64 next_index;
} FileSrc;

static const RsParamSpec filesrc_params[] = {
  { "location", RS_PARAM_STRING, NULL, "sound file to read", 1, 0, NULL },
  { "rate", RS_PARAM_INT, "0", "Hz to resample to; 0: the file's own", 0, 1e6, NULL },
  { "channel", RS_PARAM_INT, "-1", "channel to read (from 0); -1: the mean of all", -1, 1024,
    NULL },
  { "chunk", RS_PARAM_INT, "4096", "samples per block", 1, 1 << 24, NULL },
  { "raw-format", RS_PARAM_STRING, "", "headerless audio: s16le, f32le, ... (empty: the file "
    "has a header)", 1, 0, NULL },
  { "raw-rate", RS_PARAM_INT, "0", "Hz of headerless audio", 0, 1e6, NULL },
  { "raw-channels", RS_PARAM_INT, "1", "channels of headerless audio", 1, 1024, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
filesrc_start (RsElement *self, GError **error)
{
  FileSrc *src = g_new0 (FileSrc, 1);
  RsSoundFileOptions opts = { 0 };
  const char *raw = rs_element_string (self, "raw-format");
  gint64 channel = rs_element_int (self, "channel");

  self->priv = src;
  opts.raw_format = raw[0] != '\0' ? raw : NULL;
  opts.raw_rate = (int) rs_element_int (self, "raw-rate");
  opts.raw_channels = (int) rs_element_int (self, "raw-channels");
  opts.channel = channel < 0 ? RS_SOUND_FILE_MIX : (int) channel;
  opts.target_rate = (int) rs_element_int (self, "rate");
  src->file = rs_sound_file_open (rs_element_string (self, "location"), &opts, error);
  if (src->file == NULL)
    return FALSE;
  src->chunk = (gsize) rs_element_int (self, "chunk");
  self->out.width = 1;
  self->out.rate = rs_sound_file_get_rate (src->file);
  return TRUE;
}

static int
filesrc_pull (RsElement *self, RsBlock *out, GError **error)
{
  FileSrc *src = self->priv;
  gssize got;

  rs_block_reserve (out, src->chunk);
  got = rs_sound_file_read (src->file, out->data, src->chunk, error);
  if (got < 0)
    return -1;
  for (gssize i = 0; i < got; i++)
    out->index[i] = src->next_index++;
  out->n = (gsize) got;
  return got > 0;
}

static void
filesrc_report (RsElement *self, GString *out)
{
  FileSrc *src = self->priv;

  if (src == NULL || src->file == NULL)
    return;
  g_string_append_printf (out, "%s: %s, %d channel(s), %d Hz", self->name,
                          rs_sound_file_get_format_name (src->file),
                          rs_sound_file_get_channels (src->file),
                          rs_sound_file_get_native_rate (src->file));
  if (rs_sound_file_get_native_rate (src->file) != rs_sound_file_get_rate (src->file))
    g_string_append_printf (out, " -> %d Hz (resampled)", rs_sound_file_get_rate (src->file));
  g_string_append_c (out, '\n');
}

static void
filesrc_stop (RsElement *self)
{
  FileSrc *src = self->priv;

  if (src == NULL)
    return;
  rs_sound_file_free (src->file);
  g_free (src);
  self->priv = NULL;
}

const RsElementClass rs_filesrc_class = {
  .type = "filesrc",
  .description = "audio samples from a sound file (WAV, FLAC, OGG, AIFF, raw...), mono",
  .role = RS_ELEMENT_SOURCE,
  .params = filesrc_params,
  .start = filesrc_start,
  .pull = filesrc_pull,
  .stop = filesrc_stop,
  .report = filesrc_report,
};
