/* Live input through PortAudio (see rnnstream/microphone.h).
 *
 * Two threads touch an RsMicrophone. PortAudio's audio thread runs
 * capture_callback, which writes into the ring and updates the atomic
 * counters below, nothing else. The reader thread does everything else.
 *
 * Gaps. The callback keeps its own count of samples written to the ring
 * (cb_position). When samples are lost it records where, as a ring
 * position, in gap_at, unless an earlier gap is still unreported; the
 * reader, whose read_pos counts the same samples, reads up to that position
 * and then reports. The loss counters are bumped before gap_at is set
 * (both sequentially consistent), and the reader clears gap_at before it
 * reads the counters, so every loss is either in the report being made or
 * sets a new gap and gets a report of its own.
 */
#include "config.h"

#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <portaudio.h>

#include "device-name.h"
#include "rnnstream/error.h"
#include "rnnstream/microphone.h"
#include "rnnstream/ring-buffer.h"

G_STATIC_ASSERT (ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_BOOL_LOCK_FREE == 2);

#define FULL_SCALE 32768.0f
#define NO_GAP G_MAXUINT64
/* Frames the callback mixes down at a time, on its stack. */
#define CHUNK 256
/* The reader's polling interval bounds: long enough not to spin, short
 * enough to add little latency. */
#define MIN_SLEEP_US 500
#define MAX_SLEEP_US 5000

struct RsMicrophone {
  char *device_name;
  int rate;
  int channels;
  int channel;                          /* RS_MICROPHONE_MIX or an index */
  PaStream *stream;
  RsRingBuffer *ring;

  /* Shared with the callback. */
  atomic_ullong captured;
  atomic_ullong dropped;
  atomic_ullong overflows;
  atomic_ullong gap_at;                 /* ring position of the first unreported gap */
  atomic_bool finished;                 /* PortAudio ended the stream */

  /* The callback's alone. */
  guint64 cb_position;                  /* samples written to the ring */

  /* The reader's alone (frames_read: read_pos, published for get_stats on
   * any thread). */
  guint64 read_pos;                     /* samples read from the ring */
  atomic_ullong frames_read;
  guint64 reported_dropped;
  guint64 reported_overflows;
  gboolean started;
  gboolean stopped;
  gboolean holds_portaudio;
};

/* ------------------------------------------------------------------------
 * PortAudio's lifetime, quietly */

/* Pa_Initialize and Pa_Terminate are not thread-safe; PortAudio counts
 * nested initialisations itself. */
static GMutex portaudio_lock;

/* Points stderr at /dev/null; returns the saved descriptor for
 * quiet_end, or -1 when nothing was changed. Only around Pa_Initialize:
 * that is where ALSA complains (about every device the configuration
 * names and the machine lacks); opening, starting, stopping and closing
 * a stream print nothing when they work, and what they print when they
 * fail is worth seeing. */
static int
quiet_begin (void)
{
  const char *debug = g_getenv ("RNNSTREAM_AUDIO_DEBUG");
  int saved, null;

  if (debug != NULL && *debug != '\0' && strcmp (debug, "0") != 0)
    return -1;
  fflush (stderr);
  saved = fcntl (STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
  if (saved < 0)
    return -1;
  null = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null < 0 || dup2 (null, STDERR_FILENO) < 0) {
    if (null >= 0)
      close (null);
    close (saved);
    return -1;
  }
  close (null);
  return saved;
}

static void
quiet_end (int saved)
{
  if (saved < 0)
    return;
  fflush (stderr);
  dup2 (saved, STDERR_FILENO);
  close (saved);
}

static char *
pa_error_text (PaError err)
{
  if (err == paUnanticipatedHostError) {
    const PaHostErrorInfo *host = Pa_GetLastHostErrorInfo ();

    if (host != NULL && host->errorText != NULL && *host->errorText != '\0')
      return g_strdup_printf ("%s (%s)", Pa_GetErrorText (err), host->errorText);
  }
  return g_strdup (Pa_GetErrorText (err));
}

static gboolean
portaudio_acquire (GError **error)
{
  PaError err;
  int saved;

  g_mutex_lock (&portaudio_lock);
  saved = quiet_begin ();
  err = Pa_Initialize ();
  quiet_end (saved);
  g_mutex_unlock (&portaudio_lock);
  if (err != paNoError) {
    g_autofree char *text = pa_error_text (err);

    g_set_error (error, RS_ERROR, RS_ERROR_DEVICE, "cannot start PortAudio: %s", text);
    return FALSE;
  }
  return TRUE;
}

static void
portaudio_release (void)
{
  g_mutex_lock (&portaudio_lock);
  Pa_Terminate ();
  g_mutex_unlock (&portaudio_lock);
}

/* The stable names of all PortAudio devices (PortAudio must be
 * initialised); g_strfreev. */
static char **
stable_names (int n)
{
  g_autofree const char **apis = g_new0 (const char *, MAX (n, 1));
  g_autofree const char **names = g_new0 (const char *, MAX (n, 1));

  for (int i = 0; i < n; i++) {
    const PaDeviceInfo *info = Pa_GetDeviceInfo (i);
    const PaHostApiInfo *api = info != NULL ? Pa_GetHostApiInfo (info->hostApi) : NULL;

    apis[i] = api != NULL ? api->name : NULL;
    names[i] = info != NULL ? info->name : NULL;
  }
  return rs_device_names_build (apis, names, (guint) n);
}

/* ------------------------------------------------------------------------
 * Devices */

void
rs_audio_device_free (RsAudioDevice *device)
{
  if (device == NULL)
    return;
  g_free (device->name);
  g_free (device->host_api);
  g_free (device);
}

GPtrArray *
rs_microphone_list_devices (GError **error)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_auto (GStrv) names = NULL;
  PaDeviceIndex default_input;
  int n;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!portaudio_acquire (error))
    return NULL;
  devices = g_ptr_array_new_with_free_func ((GDestroyNotify) rs_audio_device_free);
  n = MAX (Pa_GetDeviceCount (), 0);
  default_input = Pa_GetDefaultInputDevice ();
  names = stable_names (n);
  for (int i = 0; i < n; i++) {
    const PaDeviceInfo *info = Pa_GetDeviceInfo (i);
    const PaHostApiInfo *api;
    RsAudioDevice *d;

    if (info == NULL || info->maxInputChannels < 1)
      continue;
    api = Pa_GetHostApiInfo (info->hostApi);
    d = g_new0 (RsAudioDevice, 1);
    d->index = i;
    d->name = g_strdup (names[i]);
    d->host_api = g_strdup (api != NULL ? api->name : "?");
    d->max_input_channels = info->maxInputChannels;
    d->default_rate = info->defaultSampleRate;
    d->is_default = i == default_input;
    g_ptr_array_add (devices, d);
  }
  portaudio_release ();
  return g_steal_pointer (&devices);
}

/* The device index for a query (NULL: the default input). */
static PaDeviceIndex
resolve_device (const char *query, char **stable_name, GError **error)
{
  const int n = MAX (Pa_GetDeviceCount (), 0);
  g_auto (GStrv) names = stable_names (n);
  g_autofree gboolean *is_input = g_new0 (gboolean, MAX (n, 1));
  int index;

  for (int i = 0; i < n; i++) {
    const PaDeviceInfo *info = Pa_GetDeviceInfo (i);

    is_input[i] = info != NULL && info->maxInputChannels > 0;
  }
  if (query == NULL) {
    index = Pa_GetDefaultInputDevice ();
    if (index == paNoDevice || index < 0 || index >= n) {
      g_set_error (error, RS_ERROR, RS_ERROR_DEVICE, "there is no default input device (%d "
                   "device%s found; see rnnstream devices)", n, n == 1 ? "" : "s");
      return paNoDevice;
    }
  } else {
    index = rs_device_names_match ((const char *const *) names, is_input, (guint) n, query,
                                   error);
    if (index < 0)
      return paNoDevice;
  }
  *stable_name = g_strdup (names[index]);
  return index;
}

/* ------------------------------------------------------------------------
 * The audio thread */

/* Records a gap at ring position pos unless one is pending already. */
static void
mark_gap (RsMicrophone *mic, guint64 pos)
{
  unsigned long long expected = NO_GAP;

  atomic_compare_exchange_strong (&mic->gap_at, &expected, pos);
}

/* PortAudio's callback: real-time thread. Mixes down, scales and copies
 * into the ring; counts what it cannot deliver. Nothing that can block or
 * enter the kernel: the stack chunk, the ring's memcpy and atomics. */
static int
capture_callback (const void *input, void *output, unsigned long n_frames,
                  const PaStreamCallbackTimeInfo *time_info, PaStreamCallbackFlags flags,
                  void *user_data)
{
  RsMicrophone *mic = user_data;
  const float *in = input;
  const int channels = mic->channels;
  float chunk[CHUNK];
  unsigned long done = 0;

  (void) output;
  (void) time_info;

  if (flags & paInputOverflow) {
    /* The device lost input before this block. */
    atomic_fetch_add (&mic->overflows, 1);
    mark_gap (mic, mic->cb_position);
  }
  atomic_fetch_add_explicit (&mic->captured, n_frames, memory_order_relaxed);
  if (in == NULL) {
    /* No input data at all (PortAudio's way of saying the device had
     * none): as lost as a dropped block. */
    atomic_fetch_add (&mic->dropped, n_frames);
    mark_gap (mic, mic->cb_position);
    return paContinue;
  }
  while (done < n_frames) {
    const unsigned long k = MIN (n_frames - done, CHUNK);
    const float *f = in + done * (unsigned long) channels;
    gsize written;

    if (mic->channel != RS_MICROPHONE_MIX) {
      for (unsigned long i = 0; i < k; i++)
        chunk[i] = f[i * (unsigned long) channels + (unsigned long) mic->channel] * FULL_SCALE;
    } else if (channels == 1) {
      for (unsigned long i = 0; i < k; i++)
        chunk[i] = f[i] * FULL_SCALE;
    } else {
      const float scale = FULL_SCALE / (float) channels;

      for (unsigned long i = 0; i < k; i++) {
        float sum = 0.0f;

        for (int c = 0; c < channels; c++)
          sum += f[i * (unsigned long) channels + (unsigned long) c];
        chunk[i] = sum * scale;
      }
    }
    written = rs_ring_buffer_write (mic->ring, chunk, k);
    mic->cb_position += written;
    done += written;
    if (written < k) {
      /* The reader is behind: drop the rest of this block (one gap, not
       * a sprinkle of them as the reader frees a few slots at a time). */
      atomic_fetch_add (&mic->dropped, n_frames - done);
      mark_gap (mic, mic->cb_position);
      break;
    }
  }
  return paContinue;
}

/* PortAudio's stream-finished callback: the stream has become inactive,
 * whether we stopped it or it died. */
static void
finished_callback (void *user_data)
{
  RsMicrophone *mic = user_data;

  atomic_store (&mic->finished, true);
}

/* ------------------------------------------------------------------------
 * The reader's side */

RsMicrophone *
rs_microphone_open (const RsMicrophoneOptions *options, GError **error)
{
  static const RsMicrophoneOptions defaults = RS_MICROPHONE_OPTIONS_INIT;
  g_autoptr (RsMicrophone) mic = NULL;
  const PaDeviceInfo *info;
  PaStreamParameters params = { 0 };
  PaDeviceIndex index;
  PaError err;
  guint block, buffer_ms;
  guint64 capacity;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (options == NULL)
    options = &defaults;
  g_return_val_if_fail (options->rate >= 0 && options->channels >= 0, NULL);
  g_return_val_if_fail (options->channel >= RS_MICROPHONE_MIX, NULL);

  mic = g_new0 (RsMicrophone, 1);
  atomic_init (&mic->captured, 0);
  atomic_init (&mic->dropped, 0);
  atomic_init (&mic->overflows, 0);
  atomic_init (&mic->gap_at, NO_GAP);
  atomic_init (&mic->finished, false);
  atomic_init (&mic->frames_read, 0);
  if (!portaudio_acquire (error))
    return NULL;
  mic->holds_portaudio = TRUE;

  index = resolve_device (options->device, &mic->device_name, error);
  if (index == paNoDevice)
    return NULL;
  info = Pa_GetDeviceInfo (index);
  mic->channels = options->channels > 0 ? options->channels : 1;
  mic->channel = options->channel;
  mic->rate = options->rate > 0 ? options->rate : (int) lround (info->defaultSampleRate);
  if (mic->channels > info->maxInputChannels) {
    g_set_error (error, RS_ERROR, RS_ERROR_DEVICE, "input device '%s' has %d channel%s, not %d",
                 mic->device_name, info->maxInputChannels,
                 info->maxInputChannels == 1 ? "" : "s", mic->channels);
    return NULL;
  }
  if (mic->channel >= mic->channels) {
    g_set_error (error, RS_ERROR, RS_ERROR_DEVICE, "cannot keep channel %d of input device '%s': "
                 "%d channel%s opened (channels count from 0)", mic->channel, mic->device_name,
                 mic->channels, mic->channels == 1 ? "" : "s");
    return NULL;
  }

  block = options->block_frames > 0 ? options->block_frames : (guint) MAX (mic->rate / 100, 1);
  buffer_ms = options->buffer_ms > 0 ? options->buffer_ms : 2000;
  /* At least four blocks, so that one late read never loses input. */
  capacity = MAX ((guint64) mic->rate * buffer_ms / 1000, (guint64) block * 4);
  if (capacity > ((guint64) 1 << 30)) {
    g_set_error (error, RS_ERROR, RS_ERROR_DEVICE, "a %u ms buffer at %d Hz is too large",
                 buffer_ms, mic->rate);
    return NULL;
  }
  mic->ring = rs_ring_buffer_new ((gsize) capacity);

  params.device = index;
  params.channelCount = mic->channels;
  params.sampleFormat = paFloat32;
  /* The high default: a speech front end values never losing input over
   * the last few milliseconds of latency. */
  params.suggestedLatency = info->defaultHighInputLatency;
  err = Pa_OpenStream (&mic->stream, &params, NULL, mic->rate, block, paNoFlag,
                       capture_callback, mic);
  if (err != paNoError) {
    g_autofree char *text = pa_error_text (err);

    mic->stream = NULL;
    g_set_error (error, RS_ERROR, RS_ERROR_DEVICE, "cannot open input device '%s' (%d Hz, %d "
                 "channel%s): %s", mic->device_name, mic->rate, mic->channels,
                 mic->channels == 1 ? "" : "s", text);
    return NULL;
  }
  Pa_SetStreamFinishedCallback (mic->stream, finished_callback);
  return g_steal_pointer (&mic);
}

void
rs_microphone_free (RsMicrophone *mic)
{
  if (mic == NULL)
    return;
  if (mic->stream != NULL) {
    /* Closing an active stream aborts it first; either way no callback
     * runs once Pa_CloseStream has returned. */
    Pa_CloseStream (mic->stream);
  }
  if (mic->holds_portaudio)
    portaudio_release ();
  rs_ring_buffer_free (mic->ring);
  g_free (mic->device_name);
  g_free (mic);
}

const char *
rs_microphone_get_device_name (const RsMicrophone *mic)
{
  g_return_val_if_fail (mic != NULL, NULL);
  return mic->device_name;
}

int
rs_microphone_get_rate (const RsMicrophone *mic)
{
  g_return_val_if_fail (mic != NULL, 0);
  return mic->rate;
}

gboolean
rs_microphone_start (RsMicrophone *mic, GError **error)
{
  PaError err;

  g_return_val_if_fail (mic != NULL, FALSE);
  g_return_val_if_fail (!mic->started, FALSE);

  err = Pa_StartStream (mic->stream);
  if (err != paNoError) {
    g_autofree char *text = pa_error_text (err);

    g_set_error (error, RS_ERROR, RS_ERROR_DEVICE, "cannot start input device '%s': %s",
                 mic->device_name, text);
    return FALSE;
  }
  mic->started = TRUE;
  return TRUE;
}

gboolean
rs_microphone_stop (RsMicrophone *mic, GError **error)
{
  PaError err;

  g_return_val_if_fail (mic != NULL, FALSE);

  if (!mic->started || mic->stopped)
    return TRUE;
  mic->stopped = TRUE;
  /* Waits for the callback in flight, if any: afterwards the ring has
   * everything that will ever be captured. */
  err = Pa_StopStream (mic->stream);
  if (err != paNoError && err != paStreamIsStopped) {
    g_autofree char *text = pa_error_text (err);

    g_set_error (error, RS_ERROR, RS_ERROR_DEVICE, "cannot stop input device '%s': %s",
                 mic->device_name, text);
    return FALSE;
  }
  return TRUE;
}

void
rs_microphone_get_stats (const RsMicrophone *mic, RsMicrophoneStats *stats)
{
  /* const in spirit: C11 atomic loads take a non-const pointer. */
  RsMicrophone *m = (RsMicrophone *) mic;

  g_return_if_fail (mic != NULL && stats != NULL);
  stats->frames_captured = atomic_load_explicit (&m->captured, memory_order_relaxed);
  stats->frames_dropped = atomic_load (&m->dropped);
  stats->device_overflows = atomic_load (&m->overflows);
  stats->frames_read = atomic_load_explicit (&m->frames_read, memory_order_relaxed);
}

/* At the gap at ring position gap: clears it and reports what was lost
 * since the last report. Returns FALSE (with the error) if anything was. */
static gboolean
report_gap (RsMicrophone *mic, guint64 gap, GError **error)
{
  guint64 dropped, overflows;

  atomic_store (&mic->gap_at, NO_GAP);
  dropped = atomic_load (&mic->dropped);
  overflows = atomic_load (&mic->overflows);
  if (dropped == mic->reported_dropped && overflows == mic->reported_overflows)
    return TRUE;        /* the losses behind this gap were in the last report */
  g_set_error (error, RS_ERROR, RS_ERROR_OVERRUN, "input device '%s': input lost after sample "
               "%" G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT " samples dropped because the reader "
               "fell behind, %" G_GUINT64_FORMAT " device overflow%s", mic->device_name,
               gap, dropped - mic->reported_dropped,
               overflows - mic->reported_overflows,
               overflows - mic->reported_overflows == 1 ? "" : "s");
  mic->reported_dropped = dropped;
  mic->reported_overflows = overflows;
  return FALSE;
}

gssize
rs_microphone_read (RsMicrophone *mic, float *out, gsize n, int timeout_ms, GError **error)
{
  const gint64 deadline = timeout_ms >= 0
    ? g_get_monotonic_time () + (gint64) timeout_ms * 1000 : G_MAXINT64;
  gsize got = 0;

  g_return_val_if_fail (mic != NULL, -1);
  g_return_val_if_fail (out != NULL || n == 0, -1);
  g_return_val_if_fail (n <= G_MAXSSIZE, -1);
  g_return_val_if_fail (mic->started, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  while (got < n) {
    const guint64 gap = atomic_load (&mic->gap_at);
    gsize limit = n - got, k;
    gboolean ended;

    /* At a gap (or past it: the callback can mark one while we copy
     * the samples after it), report it, but first return what came
     * before. */
    if (gap != NO_GAP && gap <= mic->read_pos) {
      if (got > 0)
        break;
      if (!report_gap (mic, gap, error))
        return -1;
      continue;
    }
    if (gap != NO_GAP && gap - mic->read_pos < limit)
      limit = (gsize) (gap - mic->read_pos);
    k = rs_ring_buffer_read (mic->ring, out + got, limit);
    got += k;
    mic->read_pos += k;
    atomic_store_explicit (&mic->frames_read, mic->read_pos, memory_order_relaxed);
    if (k > 0)
      continue;

    /* Nothing ready. Read the end flags before looking at the ring again:
     * a stream that has ended has written its last sample already. */
    ended = mic->stopped || atomic_load (&mic->finished) || Pa_IsStreamActive (mic->stream) != 1;
    if (rs_ring_buffer_read_space (mic->ring) > 0)
      continue;
    if (ended) {
      if (got > 0 || mic->stopped)
        break;
      g_set_error (error, RS_ERROR, RS_ERROR_DEVICE, "input device '%s' stopped delivering "
                   "input (the device failed or went away)", mic->device_name);
      return -1;
    }
    {
      const gint64 now = g_get_monotonic_time ();
      gint64 wait_us;

      if (now >= deadline)
        break;
      /* Sleep about as long as the missing samples take to arrive, within
       * bounds, and never past the deadline. */
      wait_us = (gint64) ((double) (n - got) * 1e6 / mic->rate);
      wait_us = CLAMP (wait_us, MIN_SLEEP_US, MAX_SLEEP_US);
      g_usleep ((gulong) MIN (wait_us, deadline - now));
    }
  }
  return (gssize) got;
}
