/* Sink outputs (see sink-output.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "rnnstream/error.h"
#include "sink-output.h"

gboolean
rs_sink_output_open (RsSinkOutput *o, const char *location, GError **error)
{
  if (strcmp (location, "-") == 0) {
    o->out = stdout;
    return TRUE;
  }
  o->atomic = rs_atomic_file_new (location, error);
  if (o->atomic == NULL)
    return FALSE;
  o->out = rs_atomic_file_stream (o->atomic);
  return TRUE;
}

gboolean
rs_sink_output_commit (RsSinkOutput *o, GError **error)
{
  RsAtomicFile *atomic = g_steal_pointer (&o->atomic);

  if (atomic != NULL)
    return rs_atomic_file_commit (atomic, error);
  if (fflush (stdout) != 0 || ferror (stdout)) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "cannot write standard output: %s",
                 g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

void
rs_sink_output_abort (RsSinkOutput *o)
{
  rs_atomic_file_abort (g_steal_pointer (&o->atomic));
}
