/* csvsrc: feature frames from CSV rows, from a file or standard input, as
 * rows arrive. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../element.h"
#include "rnnstream/frame-reader.h"

/* Rows per block from a regular file: enough to batch a model's input
 * projections. From a pipe or terminal a block is one row, so each row is
 * answered as soon as it arrives. */
#define FILE_CHUNK 256

typedef struct {
  FILE *file;
  RsFrameReader *reader;
  gsize chunk;
  gint64 next_index;
} CsvSrc;

static const RsParamSpec csvsrc_params[] = {
  { "location", RS_PARAM_STRING, "-", "file to read, - for standard input", 1, 0, NULL },
  { "chunk", RS_PARAM_INT, "0", "rows per block; 0: 1 from a pipe, 256 from a file", 0, 1e9, NULL },
  { "width", RS_PARAM_INT, "0", "values per row; 0: what the next stage needs, or the first row's",
    0, 65536, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
is_regular_file (FILE *f)
{
  struct stat st;

  return fstat (fileno (f), &st) == 0 && S_ISREG (st.st_mode);
}

static gboolean
csvsrc_start (RsElement *self, GError **error)
{
  const char *location = rs_element_string (self, "location");
  CsvSrc *src = g_new0 (CsvSrc, 1);
  gboolean from_stdin = strcmp (location, "-") == 0;

  self->priv = src;
  src->file = from_stdin ? stdin : fopen (location, "r");
  if (src->file == NULL)
    return rs_element_fail (self, error, "cannot open %s: %s", location, g_strerror (errno));
  src->chunk = (gsize) rs_element_int (self, "chunk");
  if (src->chunk == 0)
    src->chunk = is_regular_file (src->file) ? FILE_CHUNK : 1;
  self->out.width = (guint) rs_element_int (self, "width");
  self->out.rate = 0;
  return TRUE;
}

static gboolean
csvsrc_fixate (RsElement *self, guint width, GError **error)
{
  (void) error;
  self->out.width = width;
  return TRUE;
}

static int
csvsrc_pull (RsElement *self, RsBlock *out, GError **error)
{
  CsvSrc *src = self->priv;
  const char *location = rs_element_string (self, "location");
  const float *frame;
  int got = 1;

  if (src->reader == NULL)
    src->reader = rs_frame_reader_new (src->file, strcmp (location, "-") == 0 ? "<stdin>"
                                                                            : location,
                                       self->out.width);
  while (out->n < src->chunk && (got = rs_frame_reader_next (src->reader, &frame, error)) > 0) {
    if (out->width == 0)
      out->width = self->out.width = rs_frame_reader_width (src->reader);
    rs_block_append (out, frame, src->next_index++, NULL);
  }
  return got;
}

static void
csvsrc_stop (RsElement *self)
{
  CsvSrc *src = self->priv;

  if (src == NULL)
    return;
  rs_frame_reader_free (src->reader);
  if (src->file != NULL && src->file != stdin)
    fclose (src->file);
  g_free (src);
  self->priv = NULL;
}

const RsElementClass rs_csvsrc_class = {
  .type = "csvsrc",
  .description = "feature frames from CSV rows (comma-separated numbers, optional header)",
  .role = RS_ELEMENT_SOURCE,
  .params = csvsrc_params,
  .start = csvsrc_start,
  .fixate = csvsrc_fixate,
  .pull = csvsrc_pull,
  .stop = csvsrc_stop,
};
