/* The GError domain of librnnstream.
 *
 * Every error a user can cause (a file, a plugin, a model, input data) is
 * reported as a GError in RS_ERROR with one of the codes below and a
 * one-line message that names the file, line, plugin or tensor concerned.
 * Programming errors (NULL where a pointer is required, sizes that break a
 * documented precondition) are caught by g_return_if_fail() instead. */
#ifndef RS_ERROR_H
#define RS_ERROR_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

#define RS_ERROR (rs_error_quark ())

typedef enum {
  RS_ERROR_FAILED,          /* anything not below */
  RS_ERROR_IO,              /* a file could not be opened, read or written */
  RS_ERROR_PLUGIN,          /* a plugin could not be loaded or was refused */
  RS_ERROR_NOT_FOUND,       /* no plugin implements the cell a model needs */
  RS_ERROR_MODEL_FORMAT,    /* a model file is not a valid safetensors file */
  RS_ERROR_MODEL,           /* valid safetensors, but not a model we can run */
  RS_ERROR_PARSE,           /* malformed input data (CSV, ...) */
  RS_ERROR_UNSUPPORTED,     /* valid request we cannot honour (e.g. streaming a bidirectional model) */
  RS_ERROR_STATE,           /* a state snapshot that does not fit the stream */
  RS_ERROR_PIPELINE,        /* a pipeline description that is malformed or does not fit together */
  RS_ERROR_DEVICE,          /* an audio device could not be found, opened, started or read */
  RS_ERROR_OVERRUN,         /* live input lost samples: the reader fell behind (it may read on) */
  RS_ERROR_ARGUMENT         /* a setting out of its range (an optimiser's learning rate, ...) */
} RsError;

RS_API GQuark rs_error_quark (void);

G_END_DECLS

#endif
