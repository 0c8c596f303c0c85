/* Live input from a sound card, through PortAudio.
 *
 * Devices are named by a stable name, "HOST API: DEVICE" (e.g. "ALSA: HDA
 * Intel PCH: ALC257 Analog (hw:0,0)", or "ALSA: pulse" for PulseAudio
 * through ALSA), which stays the same from run to run while PortAudio's
 * indices do not. (ALSA's names carry the card number, which can change
 * when USB cards come up in another order; a part of the name such as
 * "USB Audio" still finds the card.) rs_microphone_open accepts the
 * stable name, a part of it that only one input device has
 * (case-insensitive), or an index.
 *
 * Samples come out as one channel of floats on Kaldi's scale (full scale
 * 32768, as rnnstream/sound-file.h): the channels opened are averaged, or
 * one is picked. PortAudio delivers float samples in [-1, 1), converted
 * from the device's format; from a 16-bit device the values come out as
 * the integers the device sent.
 *
 * Threads. PortAudio calls our callback on its own audio thread. The
 * callback only mixes down, scales and copies into a lock-free ring
 * (rnnstream/ring-buffer.h), and counts: no allocation, no lock, no I/O,
 * no system call. The thread that opened the microphone (or any one
 * thread at a time) starts, reads, stops and frees it; rs_microphone_read
 * waits for samples by sleeping briefly and polling the ring (at most
 * 5 ms at a time), which keeps the callback free of the wake-up system
 * call a semaphore or condition variable would need, at the cost of up to
 * 5 ms of added latency.
 *
 * Lost samples are never silent. When the reader falls behind and the
 * ring is full, the callback drops the rest of its block and counts it;
 * when PortAudio reports that the device itself overflowed, that is
 * counted too. rs_microphone_read delivers every sample up to the first
 * gap, then fails once with RS_ERROR_OVERRUN saying how much was lost,
 * and then reads on after the gap (a gap that opens while a read is
 * copying is reported by the next read). rs_microphone_get_stats has the
 * totals.
 *
 * PortAudio's start-up probes every ALSA device and ALSA prints a line on
 * stderr for each one that is missing (a machine without a "surround71"
 * output gets told so), JACK one more when no JACK server runs. To keep
 * our output readable, stderr (file descriptor 2, the whole process's) is
 * pointed at /dev/null while PortAudio initialises (in
 * rs_microphone_list_devices and rs_microphone_open) and restored right
 * after; anything another thread writes to stderr in that window, a
 * sanitizer's report included, is lost too. Set RNNSTREAM_AUDIO_DEBUG=1
 * to leave stderr alone.
 */
#ifndef RS_MICROPHONE_H
#define RS_MICROPHONE_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

/* An input device, as rs_microphone_list_devices finds it. */
typedef struct {
  int index;                    /* PortAudio's index: valid for this run only */
  char *name;                   /* stable name, "HOST API: DEVICE" */
  char *host_api;
  int max_input_channels;
  double default_rate;          /* Hz */
  gboolean is_default;          /* the default input device */
} RsAudioDevice;

RS_API void rs_audio_device_free (RsAudioDevice *device);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsAudioDevice, rs_audio_device_free)

/* Every device that can record, in PortAudio's order: a GPtrArray of
 * RsAudioDevice, which frees them. Fails with RS_ERROR_DEVICE when
 * PortAudio cannot start. */
RS_API GPtrArray *rs_microphone_list_devices (GError **error);

/* RsMicrophoneOptions.channel: average all channels opened. */
#define RS_MICROPHONE_MIX (-1)

typedef struct {
  const char *device;           /* NULL: the default input device */
  int rate;                     /* Hz; 0: the device's default rate */
  int channels;                 /* channels to open; 0: 1 */
  int channel;                  /* RS_MICROPHONE_MIX, or the 0-based channel to keep */
  guint block_frames;           /* frames per callback; 0: 10 ms worth */
  guint buffer_ms;              /* ring capacity in ms; 0: 2000 */
} RsMicrophoneOptions;

/* Defaults for every field: 16 kHz mono from the default device. */
#define RS_MICROPHONE_OPTIONS_INIT { NULL, 16000, 1, RS_MICROPHONE_MIX, 0, 0 }

typedef struct {
  guint64 frames_captured;      /* frames the device delivered */
  guint64 frames_dropped;       /* frames lost because the ring was full */
  guint64 device_overflows;     /* callbacks PortAudio flagged: the device lost input */
  guint64 frames_read;          /* samples rs_microphone_read has returned */
} RsMicrophoneStats;

typedef struct RsMicrophone RsMicrophone;

/* Opens a device for recording (options NULL: the defaults), without
 * starting it. Fails with RS_ERROR_DEVICE, naming the device, when no
 * input device matches, several do, or PortAudio cannot open it with
 * these parameters. */
RS_API RsMicrophone *rs_microphone_open (const RsMicrophoneOptions *options, GError **error);

/* Stops the stream if it runs, closes it and frees mic. NULL is allowed. */
RS_API void rs_microphone_free (RsMicrophone *mic);

/* The stable name of the device opened, and the rate in Hz. */
RS_API const char *rs_microphone_get_device_name (const RsMicrophone *mic);
RS_API int rs_microphone_get_rate (const RsMicrophone *mic);

/* Starts recording. A microphone starts once. */
RS_API gboolean rs_microphone_start (RsMicrophone *mic, GError **error);

/* Waits until n samples have arrived, timeout_ms have passed (< 0: no
 * limit) or the stream has ended, and copies what there is to out.
 * Returns the number of samples (n, or fewer on a timeout or at the end;
 * 0 once everything recorded before rs_microphone_stop has been read), or
 * -1 with RS_ERROR_OVERRUN at a gap (see above; read on after it), or with
 * RS_ERROR_DEVICE when the stream ended without rs_microphone_stop (the
 * device failed or went away). Not real-time safe: sleeps. */
RS_API gssize rs_microphone_read (RsMicrophone *mic, float *out, gsize n, int timeout_ms,
                                  GError **error);

/* Stops recording; samples already captured can still be read. */
RS_API gboolean rs_microphone_stop (RsMicrophone *mic, GError **error);

/* The counters so far (any thread). */
RS_API void rs_microphone_get_stats (const RsMicrophone *mic, RsMicrophoneStats *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsMicrophone, rs_microphone_free)

G_END_DECLS

#endif
