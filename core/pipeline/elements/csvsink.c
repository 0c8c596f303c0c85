/* csvsink: frames as CSV rows, to standard output or atomically to a
 * file. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../element.h"
#include "rnnstream/csv-stream.h"
#include "sink-output.h"

typedef struct {
  RsSinkOutput output;
  FILE *out;
  char format[8];            /* "%.Ng" */
} CsvSink;

static const RsParamSpec csvsink_params[] = {
  { "location", RS_PARAM_STRING, "-", "file to write (atomically), - for standard output", 1, 0,
    NULL },
  { "precision", RS_PARAM_INT, "9", "significant digits (9 round-trips a float)", 1, 17, NULL },
  { "header", RS_PARAM_ENUM, "auto", "a first row naming the columns; auto: when the stage "
    "before names its values (forecast does)", 1, 0, "auto|yes|no" },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
csvsink_start (RsElement *self, GError **error)
{
  CsvSink *sink = g_new0 (CsvSink, 1);
  const char *header = rs_element_string (self, "header");

  self->priv = sink;
  g_snprintf (sink->format, sizeof sink->format, "%%.%dg", (int) rs_element_int (self, "precision"));
  if (strcmp (header, "yes") == 0 && self->in.names == NULL)
    return rs_element_fail (self, error, "header=yes, but the stage before does not name its "
                            "values");
  if (!rs_sink_output_open (&sink->output, rs_element_string (self, "location"), error))
    return FALSE;
  sink->out = sink->output.out;
  self->out = self->in;
  if (strcmp (header, "no") != 0 && self->in.names != NULL) {
    if (self->in.label_name != NULL) {
      rs_csv_write_field (sink->out, self->in.label_name);
      fputc (',', sink->out);
    }
    for (guint j = 0; j < self->in.width; j++) {
      if (j > 0)
        fputc (',', sink->out);
      rs_csv_write_field (sink->out, self->in.names[j]);
    }
    fputc ('\n', sink->out);
    fflush (sink->out);
  }
  return TRUE;
}

static gboolean
csvsink_process (RsElement *self, const RsBlock *in, RsBlock *out, GError **error)
{
  CsvSink *sink = self->priv;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  (void) out;
  (void) error;
  for (gsize r = 0; r < in->n; r++) {
    if (in->labels[r] != NULL) {
      rs_csv_write_field (sink->out, in->labels[r]);
      fputc (',', sink->out);
    }
    for (guint j = 0; j < in->width; j++) {
      if (j > 0)
        fputc (',', sink->out);
      /* Not a number is an empty field, which R and pandas read as missing
       * (e.g. a forecast before there is enough history). */
      if (!isnan (in->data[r * in->width + j]))
        fputs (g_ascii_formatd (buf, sizeof buf, sink->format, in->data[r * in->width + j]),
               sink->out);
    }
    fputc ('\n', sink->out);
  }
  /* Whoever reads a live stream sees each block as soon as it is done. */
  if (in->n > 0)
    fflush (sink->out);
  return TRUE;
}

static gboolean
csvsink_finish (RsElement *self, RsBlock *out, GError **error)
{
  CsvSink *sink = self->priv;

  (void) out;
  return rs_sink_output_commit (&sink->output, error);
}

static void
csvsink_stop (RsElement *self)
{
  CsvSink *sink = self->priv;

  if (sink == NULL)
    return;
  rs_sink_output_abort (&sink->output);
  g_free (sink);
  self->priv = NULL;
}

const RsElementClass rs_csvsink_class = {
  .type = "csvsink",
  .description = "frames as CSV rows (%.9g; NaN as an empty field), with the frame's label "
                 "first when it has one",
  .role = RS_ELEMENT_SINK,
  .params = csvsink_params,
  .start = csvsink_start,
  .process = csvsink_process,
  .finish = csvsink_finish,
  .stop = csvsink_stop,
};
