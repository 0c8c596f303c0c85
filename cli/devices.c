/* rnnstream devices: the input devices PortAudio finds, with the stable
 * names a microphone is chosen by. */
#include "config.h"

#include <stdio.h>

#include <rnnstream/microphone.h>

#include "cli.h"

int
rs_cmd_devices (int argc, char **argv)
{
  const GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;

  if (!rs_cli_parse ("devices", NULL, "List the audio input devices: index, channels, default "
                     "rate and stable name (* marks the default device). A device is chosen by "
                     "its stable name, a part of it only one device has, or its index; the "
                     "index can change from run to run, the name does not.",
                     entries, &argc, &argv))
    return RS_EXIT_USAGE;
  if (argc != 1)
    return rs_cli_error ("devices", RS_EXIT_USAGE, "unexpected argument '%s'", argv[1]);
  devices = rs_microphone_list_devices (&error);
  if (devices == NULL)
    return rs_cli_error ("devices", RS_EXIT_FAILURE, "%s", error->message);
  if (devices->len == 0) {
    /* Not a failure: the question has an answer, and it is "none". */
    fprintf (stderr, "rnnstream devices: no audio input devices found\n");
    return RS_EXIT_OK;
  }
  printf ("  %5s  %8s  %9s  %s\n", "index", "channels", "rate", "name");
  for (guint i = 0; i < devices->len; i++) {
    const RsAudioDevice *d = devices->pdata[i];

    printf ("%c %5d  %8d  %9.0f  %s\n", d->is_default ? '*' : ' ', d->index,
            d->max_input_channels, d->default_rate, d->name);
  }
  return RS_EXIT_OK;
}
