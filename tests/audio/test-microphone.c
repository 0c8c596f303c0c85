/* The microphone API without sound hardware: listing (whatever devices the
 * machine has, possibly none) keeps stderr clean, and a device that does
 * not exist is refused by name. Recording itself is tested for real by
 * test-live.sh, through a private PulseAudio daemon. */
#include <stdio.h>
#include <string.h>

#include <rnnstream/error.h>
#include <rnnstream/microphone.h>

static void
test_list_quietly (void)
{
  if (g_test_subprocess ()) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) devices = rs_microphone_list_devices (&error);
    guint defaults = 0;

    g_assert_no_error (error);
    for (guint i = 0; i < devices->len; i++) {
      const RsAudioDevice *d = devices->pdata[i];

      /* Printed on stdout, which the parent does not check. */
      printf ("%d %s (%s, %d channels, %.0f Hz)%s\n", d->index, d->name, d->host_api,
              d->max_input_channels, d->default_rate, d->is_default ? " default" : "");
      g_assert_true (g_str_has_prefix (d->name, d->host_api));
      g_assert_cmpint (d->max_input_channels, >=, 1);
      defaults += d->is_default;
    }
    g_assert_cmpuint (defaults, <=, 1);
    /* A second round trip through PortAudio's start-up, quiet too. */
    g_clear_pointer (&devices, g_ptr_array_unref);
    devices = rs_microphone_list_devices (&error);
    g_assert_no_error (error);
    return;
  }
  /* ALSA's complaints about missing devices would land here. */
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("");
}

static void
test_no_such_device (void)
{
  RsMicrophoneOptions options = RS_MICROPHONE_OPTIONS_INIT;
  g_autoptr (GError) error = NULL;
  g_autoptr (RsMicrophone) mic = NULL;

  options.device = "no such microphone, surely";
  mic = rs_microphone_open (&options, &error);
  g_assert_null (mic);
  g_assert_error (error, RS_ERROR, RS_ERROR_DEVICE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "no such microphone, surely"));

  g_clear_error (&error);
  options.device = "4096";
  mic = rs_microphone_open (&options, &error);
  g_assert_null (mic);
  g_assert_error (error, RS_ERROR, RS_ERROR_DEVICE);
  g_assert_nonnull (strstr (error->message, "index 4096"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/microphone/list-quietly", test_list_quietly);
  g_test_add_func ("/microphone/no-such-device", test_no_such_device);
  return g_test_run ();
}
