/* Where a sink writes: standard output, or a file written atomically. */
#ifndef RS_SINK_OUTPUT_H
#define RS_SINK_OUTPUT_H

#include <stdio.h>

#include <glib.h>

#include "rnnstream/atomic-file.h"

typedef struct RsSinkOutput {
  FILE *out;
  RsAtomicFile *atomic;      /* when writing to a file */
} RsSinkOutput;

/* Opens location ("-" for standard output). */
gboolean rs_sink_output_open (RsSinkOutput *o, const char *location, GError **error);

/* Completes the output: renames the file into place, or flushes standard
 * output; reports write errors. */
gboolean rs_sink_output_commit (RsSinkOutput *o, GError **error);

/* Drops an uncommitted file. */
void rs_sink_output_abort (RsSinkOutput *o);

#endif
