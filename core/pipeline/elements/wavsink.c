/* wavsink: audio samples to a sound file (WAV, or FLAC by the name's
 * extension), written atomically: a recording from micsrc, or a file
 * after filesrc's resampling. Samples are on Kaldi's scale, so 16-bit
 * output stores the integers as they are, and reading the file back
 * (filesrc) gives the same numbers. */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include <sndfile.h>

#include "../element.h"
#include "rnnstream/atomic-file.h"
#include "rnnstream/error.h"

#define KALDI_FULL_SCALE 32768.0f

typedef struct {
  RsAtomicFile *atomic;
  SNDFILE *file;
  gboolean pcm16;
  short *shorts;             /* conversion buffer, one block */
  float *floats;
  gsize capacity;
  guint64 clipped;
} WavSink;

static const RsParamSpec wavsink_params[] = {
  { "location", RS_PARAM_STRING, NULL, "file to write (atomically); .flac: FLAC, else WAV", 1, 0,
    NULL },
  { "sample-format", RS_PARAM_ENUM, "s16", "s16: 16-bit integers; float: 32-bit float (WAV "
    "only)", 1, 0, "s16|float" },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
wavsink_fail (RsElement *self, GError **error, const char *what)
{
  WavSink *sink = self->priv;

  return rs_element_fail (self, error, "%s %s: %s", what, rs_element_string (self, "location"),
                          sf_strerror (sink->file));
}

static gboolean
wavsink_start (RsElement *self, GError **error)
{
  WavSink *sink = g_new0 (WavSink, 1);
  const char *location = rs_element_string (self, "location");
  SF_INFO info = { 0 };

  self->priv = sink;
  if (self->in.width != 1 || self->in.rate <= 0 || self->in.rate != (int) self->in.rate)
    return rs_element_fail (self, error, "writes audio samples at a whole number of Hz, but the "
                            "stage before it gives frames of %u values at %g per second",
                            self->in.width, self->in.rate);
  sink->pcm16 = g_strcmp0 (rs_element_string (self, "sample-format"), "s16") == 0;
  info.samplerate = (int) self->in.rate;
  info.channels = 1;
  if (g_str_has_suffix (location, ".flac")) {
    if (!sink->pcm16)
      return rs_element_fail (self, error, "FLAC holds integers only: use sample-format=s16");
    info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
  } else {
    info.format = SF_FORMAT_WAV | (sink->pcm16 ? SF_FORMAT_PCM_16 : SF_FORMAT_FLOAT);
  }
  sink->atomic = rs_atomic_file_new (location, error);
  if (sink->atomic == NULL)
    return FALSE;
  /* libsndfile writes through the temporary file's descriptor; the FILE
   * stream the atomic file also holds stays empty. */
  sink->file = sf_open_fd (fileno (rs_atomic_file_stream (sink->atomic)), SFM_WRITE, &info, FALSE);
  if (sink->file == NULL)
    return wavsink_fail (self, error, "cannot write");
  self->out = self->in;
  return TRUE;
}

static gboolean
wavsink_process (RsElement *self, const RsBlock *in, RsBlock *out, GError **error)
{
  WavSink *sink = self->priv;
  sf_count_t written;

  (void) out;
  if (in->n > sink->capacity) {
    sink->capacity = in->n;
    sink->shorts = g_renew (short, sink->shorts, in->n);
    sink->floats = g_renew (float, sink->floats, in->n);
  }
  if (sink->pcm16) {
    for (gsize i = 0; i < in->n; i++) {
      float v = rintf (in->data[i]);
      if (v > 32767.0f || v < -32768.0f) {
        sink->clipped++;
        v = v > 0 ? 32767.0f : -32768.0f;
      }
      sink->shorts[i] = (short) v;
    }
    written = sf_write_short (sink->file, sink->shorts, (sf_count_t) in->n);
  } else {
    for (gsize i = 0; i < in->n; i++)
      sink->floats[i] = in->data[i] / KALDI_FULL_SCALE;
    written = sf_write_float (sink->file, sink->floats, (sf_count_t) in->n);
  }
  if (written != (sf_count_t) in->n)
    return wavsink_fail (self, error, "cannot write");
  return TRUE;
}

static gboolean
wavsink_finish (RsElement *self, RsBlock *out, GError **error)
{
  WavSink *sink = self->priv;
  int status = sf_close (g_steal_pointer (&sink->file));

  (void) out;
  if (status != 0) {
    rs_element_fail (self, error, "cannot complete %s: %s", rs_element_string (self, "location"),
                     sf_error_number (status));
    return FALSE;
  }
  return rs_atomic_file_commit (g_steal_pointer (&sink->atomic), error);
}

static void
wavsink_report (RsElement *self, GString *out)
{
  WavSink *sink = self->priv;

  if (sink != NULL && sink->clipped > 0)
    g_string_append_printf (out, "%s: %" G_GUINT64_FORMAT " sample(s) clipped to 16 bits\n",
                            self->name, sink->clipped);
}

static void
wavsink_stop (RsElement *self)
{
  WavSink *sink = self->priv;

  if (sink == NULL)
    return;
  if (sink->file != NULL)
    sf_close (sink->file);
  rs_atomic_file_abort (sink->atomic);
  g_free (sink->shorts);
  g_free (sink->floats);
  g_free (sink);
  self->priv = NULL;
}

const RsElementClass rs_wavsink_class = {
  .type = "wavsink",
  .description = "audio samples to a WAV or FLAC file, written atomically",
  .role = RS_ELEMENT_SINK,
  .params = wavsink_params,
  .start = wavsink_start,
  .process = wavsink_process,
  .finish = wavsink_finish,
  .stop = wavsink_stop,
  .report = wavsink_report,
};
