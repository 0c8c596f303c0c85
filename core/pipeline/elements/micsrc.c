/* micsrc: live audio samples from an input device (PortAudio), mono, on
 * Kaldi's scale. The device's callback only fills a lock-free ring
 * (rnnstream/microphone.h); this element reads the ring on the pipeline's
 * thread, so a slow stage costs buffered latency, and a stage too slow
 * for real time costs samples, which are counted and reported. */
#include "config.h"

#include <stdio.h>

#include "../element.h"
#include "rnnstream/error.h"
#include "rnnstream/microphone.h"
#include "rnnstream/pipeline.h"

/* The longest a read waits before the stop flag (Ctrl-C) is looked at
 * again. */
#define POLL_MS 50

typedef struct {
  RsMicrophone *mic;
  gsize block;               /* samples per pulled block */
  guint64 limit;             /* samples to record; 0: until stopped */
  gint64 next_index;
  guint64 gaps;              /* overruns reported */
} MicSrc;

static const RsParamSpec micsrc_params[] = {
  { "device", RS_PARAM_STRING, "", "stable name (see rnnstream devices), a part of it only one "
    "input device has, or an index; empty: the default input", 1, 0, NULL },
  { "rate", RS_PARAM_INT, "16000", "Hz to record at", 1000, 384000, NULL },
  { "channels", RS_PARAM_INT, "1", "channels to open", 1, 64, NULL },
  { "channel", RS_PARAM_INT, "-1", "channel to keep (from 0); -1: the mean of all", -1, 63, NULL },
  { "block", RS_PARAM_INT, "0", "frames per device callback and per pulled block; 0: 10 ms", 0,
    1 << 20, NULL },
  { "buffer-ms", RS_PARAM_INT, "2000", "ring capacity: how far processing may fall behind", 10,
    600000, NULL },
  { "duration", RS_PARAM_DOUBLE, "0", "seconds to record; 0: until interrupted (Ctrl-C)", 0, 1e7,
    NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
micsrc_start (RsElement *self, GError **error)
{
  MicSrc *src = g_new0 (MicSrc, 1);
  RsMicrophoneOptions opts = RS_MICROPHONE_OPTIONS_INIT;
  const char *device = rs_element_string (self, "device");

  self->priv = src;
  opts.device = device[0] != '\0' ? device : NULL;
  opts.rate = (int) rs_element_int (self, "rate");
  opts.channels = (int) rs_element_int (self, "channels");
  opts.channel = (int) rs_element_int (self, "channel");
  opts.block_frames = (guint) rs_element_int (self, "block");
  opts.buffer_ms = (guint) rs_element_int (self, "buffer-ms");
  if (opts.channel >= opts.channels)
    return rs_element_fail (self, error, "channel=%d, but only %d channel(s) are opened",
                            opts.channel, opts.channels);
  src->mic = rs_microphone_open (&opts, error);
  if (src->mic == NULL)
    return FALSE;
  src->block = opts.block_frames != 0 ? opts.block_frames : (gsize) opts.rate / 100;
  src->limit = (guint64) (rs_element_double (self, "duration") * opts.rate + 0.5);
  self->out.width = 1;
  self->out.rate = rs_microphone_get_rate (src->mic);
  /* Recording starts with the stream, not at the first pull, so that the
   * stages' set-up time is not counted as lost input. */
  return rs_microphone_start (src->mic, error);
}

static int
micsrc_pull (RsElement *self, RsBlock *out, GError **error)
{
  MicSrc *src = self->priv;
  gsize want = src->block;
  gssize got = 0;

  if (src->limit > 0) {
    guint64 left = src->limit - (guint64) src->next_index;
    if (left == 0)
      return 0;
    want = MIN (want, left);
  }
  rs_block_reserve (out, want);
  while (got == 0 && !rs_pipeline_stop_requested ()) {
    g_autoptr (GError) local = NULL;

    got = rs_microphone_read (src->mic, out->data, want, POLL_MS, &local);
    if (got < 0 && g_error_matches (local, RS_ERROR, RS_ERROR_OVERRUN)) {
      /* Lost input is reported where it happens and the stream reads on:
       * a live recognizer should keep listening, not stop. */
      src->gaps++;
      fprintf (stderr, "rnnstream: %s: %s\n", self->name, local->message);
      got = 0;
    } else if (got < 0) {
      g_propagate_error (error, g_steal_pointer (&local));
      return -1;
    }
  }
  for (gssize i = 0; i < got; i++)
    out->index[i] = src->next_index++;
  out->n = (gsize) got;
  return got > 0;
}

static void
micsrc_report (RsElement *self, GString *out)
{
  MicSrc *src = self->priv;
  RsMicrophoneStats stats;

  if (src == NULL || src->mic == NULL)
    return;
  rs_microphone_get_stats (src->mic, &stats);
  g_string_append_printf (out, "%s: %s, %d Hz; %" G_GUINT64_FORMAT " samples captured, %"
                          G_GUINT64_FORMAT " lost (ring full) in %" G_GUINT64_FORMAT " gap(s), %"
                          G_GUINT64_FORMAT " device overflow(s)\n",
                          self->name, rs_microphone_get_device_name (src->mic),
                          rs_microphone_get_rate (src->mic), stats.frames_captured,
                          stats.frames_dropped, src->gaps, stats.device_overflows);
}

static void
micsrc_stop (RsElement *self)
{
  MicSrc *src = self->priv;

  if (src == NULL)
    return;
  rs_microphone_free (src->mic);
  g_free (src);
  self->priv = NULL;
}

const RsElementClass rs_micsrc_class = {
  .type = "micsrc",
  .description = "live audio samples from an input device (PortAudio), mono",
  .role = RS_ELEMENT_SOURCE,
  .params = micsrc_params,
  .start = micsrc_start,
  .pull = micsrc_pull,
  .stop = micsrc_stop,
  .report = micsrc_report,
};
