/* Linked into the test programs that start PortAudio, and exported from
 * them (see meson.build), this dlclose replaces the C library's for every
 * shared object in the process: modules stay loaded until exit.
 *
 * Why: PortAudio's device scan makes ALSA load and unload its plugins one
 * by one, and one of them (a52) pulls in libavcodec, whose initialisers
 * allocate memory that only its own globals point to. Once the module is
 * unloaded LeakSanitizer sees that memory as leaked and cannot even name
 * the module it came from ("<unknown module>"), so no suppression can
 * match it. With the module kept, the memory stays reachable and our own
 * leaks are still caught. Nothing here changes what the tests exercise:
 * ALSA never reuses a plugin's state after closing it. */
#include <dlfcn.h>

int
dlclose (void *handle)
{
  (void) handle;
  return 0;
}
