/* Symbol visibility for librnnstream. Everything is hidden by default; the
 * public API is marked RS_API. */
#ifndef RS_EXPORT_H
#define RS_EXPORT_H

#if defined(RS_COMPILATION) && defined(__GNUC__)
#define RS_API __attribute__((visibility("default")))
#else
#define RS_API
#endif

#endif
