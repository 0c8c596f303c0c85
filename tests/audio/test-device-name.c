/* Stable device names and matching a query to a device, on made-up
 * device lists (core/audio/device-name.c is compiled into this test). */
#include <string.h>

#include <rnnstream/error.h>

#include "device-name.h"

/* A machine with two identical USB microphones, an output-only HDMI
 * device, PulseAudio through ALSA, and the same card under two host APIs. */
static const char *const apis[] = { "ALSA", "ALSA", "ALSA", "ALSA", "ALSA", "ALSA", "JACK" };
static const char *const devs[] = {
  "HDA Intel PCH: ALC257 Analog (hw:0,0)",
  "HDA Intel PCH: HDMI 0 (hw:0,3)",
  "USB Audio Device: Mic (hw:1,0)",
  "USB Audio Device: Mic (hw:1,0)",
  "pulse",
  "default",
  "system",
};
static const gboolean inputs[] = { TRUE, FALSE, TRUE, TRUE, TRUE, TRUE, TRUE };

static void
test_build (void)
{
  g_auto (GStrv) names = rs_device_names_build (apis, devs, G_N_ELEMENTS (devs));

  g_assert_cmpuint (g_strv_length (names), ==, G_N_ELEMENTS (devs));
  g_assert_cmpstr (names[0], ==, "ALSA: HDA Intel PCH: ALC257 Analog (hw:0,0)");
  g_assert_cmpstr (names[2], ==, "ALSA: USB Audio Device: Mic (hw:1,0)");
  /* The second of two identical names is numbered, in index order. */
  g_assert_cmpstr (names[3], ==, "ALSA: USB Audio Device: Mic (hw:1,0) #2");
  g_assert_cmpstr (names[4], ==, "ALSA: pulse");
  g_assert_cmpstr (names[6], ==, "JACK: system");
}

static int
match (const char *query, GError **error)
{
  g_auto (GStrv) names = rs_device_names_build (apis, devs, G_N_ELEMENTS (devs));

  return rs_device_names_match ((const char *const *) names, inputs, G_N_ELEMENTS (devs), query,
                                error);
}

static void
assert_no_match (const char *query, const char *words)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (match (query, &error), ==, -1);
  g_assert_error (error, RS_ERROR, RS_ERROR_DEVICE);
  g_test_message ("%s", error->message);
  if (strstr (error->message, words) == NULL)
    g_error ("'%s' lacks '%s'", error->message, words);
}

static void
test_match (void)
{
  /* Exact stable names, including a numbered twin. */
  g_assert_cmpint (match ("ALSA: pulse", NULL), ==, 4);
  g_assert_cmpint (match ("ALSA: USB Audio Device: Mic (hw:1,0)", NULL), ==, 2);
  g_assert_cmpint (match ("ALSA: USB Audio Device: Mic (hw:1,0) #2", NULL), ==, 3);
  /* Case-insensitive, whole and in part. */
  g_assert_cmpint (match ("alsa: PULSE", NULL), ==, 4);
  g_assert_cmpint (match ("pulse", NULL), ==, 4);
  g_assert_cmpint (match ("alc257", NULL), ==, 0);
  g_assert_cmpint (match ("jack", NULL), ==, 6);
  g_assert_cmpint (match ("#2", NULL), ==, 3);
  /* Indices. */
  g_assert_cmpint (match ("5", NULL), ==, 5);
  g_assert_cmpint (match ("0", NULL), ==, 0);

  /* Several input devices match: refused, listing them. */
  assert_no_match ("usb", "'ALSA: USB Audio Device: Mic (hw:1,0)', "
                   "'ALSA: USB Audio Device: Mic (hw:1,0) #2'");
  assert_no_match ("alsa", "ambiguous");
  /* Output-only devices are not candidates, by name or index. */
  assert_no_match ("HDMI", "no input device matches 'HDMI'");
  assert_no_match ("1", "no input device has index 1");
  assert_no_match ("99", "index 99");
  assert_no_match ("bluetooth", "'ALSA: pulse'");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/device-name/build", test_build);
  g_test_add_func ("/device-name/match", test_match);
  return g_test_run ();
}
