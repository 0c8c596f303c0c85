/* Stable names for audio devices and choosing a device by name. Internal
 * (not installed), and free of PortAudio so that the tests can drive it
 * with made-up device lists.
 *
 * PortAudio's device indices change whenever a device appears or goes, so
 * a device is named by its host API and PortAudio's device name,
 * "ALSA: HDA Intel PCH: ALC257 Analog (hw:0,0)": the same text in every
 * run for the same hardware and driver. Two devices that would get the
 * same name are told apart by " #2", " #3", ... in index order.
 */
#ifndef RS_AUDIO_DEVICE_NAME_H
#define RS_AUDIO_DEVICE_NAME_H

#include <glib.h>

/* The stable names of n devices, given their host API names and device
 * names (index i for device i). A NULL-terminated array; g_strfreev it. */
char **rs_device_names_build (const char *const *host_apis, const char *const *names, guint n);

/* Picks one of n devices (is_input[i]: whether device i can record) for a
 * query, trying in order:
 * 1. decimal digits: that device index;
 * 2. the exact stable name;
 * 3. the stable name, ignoring case;
 * 4. a part of the stable name, ignoring case, that only one input device
 *    has.
 * Only input devices are candidates. Returns the index, or -1 with
 * RS_ERROR_DEVICE naming the query and the candidates when nothing or
 * several match. */
int rs_device_names_match (const char *const *stable_names, const gboolean *is_input, guint n,
                           const char *query, GError **error);

#endif
