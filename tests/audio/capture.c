/* capture: records from an input device through rs_microphone into a WAV
 * file, for test-live.sh.
 *
 *   capture [--device NAME] [--rate HZ] [--seconds S] [--buffer-ms MS]
 *           [--stall-ms MS] --output FILE.wav
 *
 * Prints "ready" on stdout once the first samples have arrived (the script
 * starts playing then), one "overrun: ..." line per gap rs_microphone_read reports, and
 * a "stats: ..." line at the end. --stall-ms makes the reader sleep that
 * long once samples flow, to provoke overruns with a small --buffer-ms. The WAV holds 32-bit floats, the samples / 32768, so that
 * reading it back with rs_sound_file gives the captured values exactly.
 * Exit status: 0 when the requested length was recorded, 1 otherwise. */
#include "config.h"

#include <stdio.h>

#include <rnnstream/error.h>
#include <rnnstream/microphone.h>
#include <sndfile.h>

static int
fail (const char *message)
{
  fprintf (stderr, "capture: %s\n", message);
  return 1;
}

int
main (int argc, char **argv)
{
  char *device = NULL, *output = NULL;
  int rate = 16000, buffer_ms = 0, stall_ms = 0;
  double seconds = 4.0;
  const GOptionEntry entries[] = {
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "input device (default: the default)", "NAME" },
    { "rate", 0, 0, G_OPTION_ARG_INT, &rate, "sample rate (16000)", "HZ" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "length to record (4)", "S" },
    { "buffer-ms", 0, 0, G_OPTION_ARG_INT, &buffer_ms, "ring capacity", "MS" },
    { "stall-ms", 0, 0, G_OPTION_ARG_INT, &stall_ms, "sleep once samples flow", "MS" },
    { "output", 0, 0, G_OPTION_ARG_FILENAME, &output, "WAV file to write", "FILE" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (RsMicrophone) mic = NULL;
  g_autofree float *samples = NULL;
  RsMicrophoneOptions options = RS_MICROPHONE_OPTIONS_INIT;
  RsMicrophoneStats stats;
  SF_INFO info = { 0 };
  SNDFILE *sf;
  gsize total, got = 0;
  int overruns = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return fail (error->message);
  if (output == NULL || rate < 1 || seconds <= 0 || buffer_ms < 0 || stall_ms < 0)
    return fail ("need --output, and positive --rate and --seconds");

  options.device = device;
  options.rate = rate;
  options.buffer_ms = (guint) buffer_ms;
  mic = rs_microphone_open (&options, &error);
  if (mic == NULL)
    return fail (error->message);
  total = (gsize) (seconds * rate);
  samples = g_new (float, total);
  printf ("device: %s\n", rs_microphone_get_device_name (mic));
  if (!rs_microphone_start (mic, &error))
    return fail (error->message);

  while (got < total) {
    /* 10 ms at a time, as a streaming front end would read. The first
     * samples can take a while: PulseAudio's null sink renders in blocks of
     * up to 2 s until a stream asks for less. */
    gssize n = rs_microphone_read (mic, samples + got, MIN (total - got, (gsize) rate / 100),
                                   5000, &error);

    if (n < 0 && g_error_matches (error, RS_ERROR, RS_ERROR_OVERRUN)) {
      printf ("overrun: %s\n", error->message);
      fflush (stdout);
      overruns++;
      g_clear_error (&error);
      continue;
    }
    if (n < 0)
      return fail (error->message);
    if (n == 0)
      return fail ("no input for 5 s");
    if (got == 0) {
      /* Samples flow (a stream can take a while to deliver its first):
       * whatever is played from now on is recorded whole. */
      printf ("ready\n");
      fflush (stdout);
      if (stall_ms > 0)
        g_usleep ((gulong) stall_ms * 1000);
    }
    got += (gsize) n;
  }
  if (!rs_microphone_stop (mic, &error))
    return fail (error->message);
  rs_microphone_get_stats (mic, &stats);
  printf ("stats: captured=%" G_GUINT64_FORMAT " dropped=%" G_GUINT64_FORMAT " device_overflows=%"
          G_GUINT64_FORMAT " read=%" G_GUINT64_FORMAT " overruns_reported=%d\n",
          stats.frames_captured, stats.frames_dropped, stats.device_overflows, stats.frames_read,
          overruns);

  for (gsize i = 0; i < total; i++)
    samples[i] /= 32768.0f;
  info.samplerate = rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  sf = sf_open (output, SFM_WRITE, &info);
  if (sf == NULL)
    return fail (sf_strerror (NULL));
  if (sf_writef_float (sf, samples, (sf_count_t) total) != (sf_count_t) total) {
    g_autofree char *message = g_strdup (sf_strerror (sf));

    sf_close (sf);
    return fail (message);
  }
  if (sf_close (sf) != 0)
    return fail ("cannot close the output");
  g_free (device);
  g_free (output);
  return 0;
}
