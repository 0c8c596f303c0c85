/* csvsrc: frames from the rows of a CSV series, from a file or standard
 * input, as the rows arrive (rnnstream/csv-stream.h reads them: header
 * detection, columns by name or index, a time column, missing-value
 * policies, errors with file and line). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../element.h"
#include "rnnstream/csv-stream.h"
#include "rnnstream/error.h"
#include "rnnstream/pipeline.h"

/* Rows per block from a regular file: enough to batch a model's input
 * projections. From a pipe or terminal a block is one row, so each row is
 * answered as soon as it arrives. */
#define FILE_CHUNK 256

/* Value names listed by --stats. */
#define REPORT_MAX_NAMES 8

typedef struct {
  FILE *file;
  const char *display_name;
  RsCsvStream *stream;
  gsize chunk;
  gint64 next_index;
  const RsCsvRow *pending;   /* read by the probe, owned by the stream, for the first pull */
  gboolean ended;            /* the stream returned its end: never read it again */
  gboolean width_checked;
  gboolean fixated;          /* the width is what the next stage takes, not width= */
  GError *deferred;          /* an error after rows of the same block, for the next pull */
} CsvSrc;

static const RsParamSpec csvsrc_params[] = {
  { "location", RS_PARAM_STRING, "-", "file to read, - for standard input", 1, 0, NULL },
  { "chunk", RS_PARAM_INT, "0", "rows per block; 0: 1 from a pipe, 256 from a file", 0, 1e9, NULL },
  { "width", RS_PARAM_INT, "0", "values per row; 0: the number of columns, else what the next "
    "stage needs, else the first row's", 0, 65536, NULL },
  { "columns", RS_PARAM_STRING, "", "value columns in order, comma-separated: header names, or "
    "indices from 1 (a field of digits is an index); empty: every column but the time column",
    1, 0, NULL },
  { "time-column", RS_PARAM_STRING, "", "column (name or index from 1) whose text labels each "
    "frame, printed first by csvsink and read by calendar; empty: none", 1, 0, NULL },
  { "header", RS_PARAM_ENUM, "auto", "whether the first row names the columns; auto: yes when "
    "a column is chosen by name or a value field of it is not a number", 1, 0, "auto|yes|no" },
  { "missing", RS_PARAM_ENUM, "error", "what an empty, NA or NaN value does: stop the run, skip "
    "the row, hold the column's last value, or interpolate linearly (rows wait for the gap "
    "to close)", 1, 0, "error|skip|hold|interpolate" },
  { "delimiter", RS_PARAM_ENUM, ",", "field separator", 1, 0, ",|;|tab" },
  { "max-held", RS_PARAM_INT, "4096", "missing=interpolate: rows held back waiting for a gap to "
    "close, at most", 1, 1e7, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
is_regular_file (FILE *f)
{
  struct stat st;

  return fstat (fileno (f), &st) == 0 && S_ISREG (st.st_mode);
}

/* A column as written in columns= or time-column=: digits are a 1-based
 * index, anything else a header name. The name points into text. */
static gboolean
parse_column (RsElement *self, const char *param, char *text, RsCsvColumn *column,
              GError **error)
{
  g_strstrip (text);
  if (text[0] == '\0')
    return rs_element_fail (self, error, "%s: an empty column name", param);
  *column = rs_csv_column (text);
  if (column->name == NULL && column->index == 0)
    return rs_element_fail (self, error, "%s: column %s: columns are numbered from 1", param,
                            text);
  return TRUE;
}

static gboolean
csvsrc_start (RsElement *self, GError **error)
{
  const char *location = rs_element_string (self, "location");
  const char *delimiter = rs_element_string (self, "delimiter");
  CsvSrc *src = g_new0 (CsvSrc, 1);
  RsCsvOptions opts = { 0 };
  g_auto (GStrv) names = NULL;
  g_autofree char *time_text = NULL;
  g_autofree RsCsvColumn *columns = NULL;
  g_autoptr (GError) local = NULL;
  guint width = (guint) rs_element_int (self, "width");

  self->priv = src;
  opts.delimiter = strcmp (delimiter, "tab") == 0 ? '\t' : delimiter[0];
  opts.header = strcmp (rs_element_string (self, "header"), "yes") == 0  ? RS_CSV_HEADER_YES
                : strcmp (rs_element_string (self, "header"), "no") == 0 ? RS_CSV_HEADER_NO
                                                                        : RS_CSV_HEADER_AUTO;
  if (!rs_csv_missing_from_name (rs_element_string (self, "missing"), &opts.missing))
    g_return_val_if_reached (FALSE);
  opts.max_held = (guint) rs_element_int (self, "max-held");
  if (rs_element_is_set (self, "columns")) {
    names = g_strsplit (rs_element_string (self, "columns"), ",", -1);
    opts.n_columns = g_strv_length (names);
    columns = g_new0 (RsCsvColumn, opts.n_columns);
    for (guint i = 0; i < opts.n_columns; i++)
      if (!parse_column (self, "columns", names[i], &columns[i], error))
        return FALSE;
    opts.columns = columns;
    if (width != 0 && width != opts.n_columns)
      return rs_element_fail (self, error, "width=%u, but columns= chooses %u", width,
                              opts.n_columns);
    width = opts.n_columns;
  }
  if (rs_element_is_set (self, "time-column")) {
    time_text = g_strdup (rs_element_string (self, "time-column"));
    if (!parse_column (self, "time-column", time_text, &opts.time_column, error))
      return FALSE;
  }

  src->display_name = strcmp (location, "-") == 0 ? "<stdin>" : location;
  src->file = strcmp (location, "-") == 0 ? stdin : fopen (location, "r");
  if (src->file == NULL)
    return rs_element_fail (self, error, "cannot open %s: %s", location, g_strerror (errno));
  src->stream = rs_csv_stream_new (src->file, src->display_name, &opts, &local);
  if (src->stream == NULL)
    return rs_element_fail (self, error, "%s", local->message);
  src->chunk = (gsize) rs_element_int (self, "chunk");
  if (src->chunk == 0)
    src->chunk = is_regular_file (src->file) ? FILE_CHUNK : 1;
  self->out.width = width;
  self->out.rate = 0;
  return TRUE;
}

static gboolean
csvsrc_fixate (RsElement *self, guint width, GError **error)
{
  CsvSrc *src = self->priv;

  (void) error;
  self->out.width = width;
  src->fixated = TRUE;
  return TRUE;
}

/* Reads the first row (or the header alone) for its width; the row waits
 * for the first pull. */
static gboolean
csvsrc_probe (RsElement *self, GError **error)
{
  CsvSrc *src = self->priv;
  int got = rs_csv_stream_next (src->stream, &src->pending, error);

  if (got < 0 && rs_pipeline_stop_requested ()) {
    g_clear_error (error);
    return rs_element_fail (self, error, "interrupted before the first row of %s",
                            src->display_name);
  }
  if (got < 0)
    return FALSE;
  if (got == 0) {
    src->pending = NULL;
    src->ended = TRUE;
  }
  self->out.width = rs_csv_stream_n_values (src->stream);
  if (self->out.width == 0)
    return rs_element_fail (self, error, "%s has no rows to take the width of the frames from "
                            "(set width= or columns=)", src->display_name);
  return TRUE;
}

/* The name of value column i for a message: "column 'price'", "column 3". */
static char *
value_label (const CsvSrc *src, guint i)
{
  const char *name = rs_csv_stream_value_name (src->stream, i);

  return rs_csv_stream_header (src->stream) != NULL ? g_strdup_printf ("column '%s'", name)
                                                     : g_strdup (name);
}

static gboolean
append_row (RsElement *self, const RsCsvRow *row, RsBlock *out, GError **error)
{
  CsvSrc *src = self->priv;
  float *dst;

  if (!src->width_checked) {
    /* The layout is fixed by the first record: checking the first row
     * checks them all. */
    if (self->out.width == 0)
      self->out.width = out->width = row->n_values;
    if (row->n_values != self->out.width) {
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s:%" G_GUINT64_FORMAT ": %u value%s per "
                   "row, expected %u (%s%.0u)", src->display_name, row->line, row->n_values,
                   row->n_values == 1 ? "" : "s", self->out.width,
                   src->fixated ? "what the next stage takes" : "width=",
                   src->fixated ? 0 : self->out.width);
      return FALSE;
    }
    src->width_checked = TRUE;
  }
  dst = rs_block_append (out, NULL, src->next_index++, row->time_text);
  for (guint j = 0; j < row->n_values; j++) {
    dst[j] = (float) row->values[j];
    if (isinf (dst[j])) {
      g_autofree char *label = value_label (src, j);

      out->n--;
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s:%" G_GUINT64_FORMAT ": %s: %g is "
                   "beyond the float range", src->display_name, row->line, label,
                   row->values[j]);
      return FALSE;
    }
  }
  return TRUE;
}

static int
csvsrc_pull (RsElement *self, RsBlock *out, GError **error)
{
  CsvSrc *src = self->priv;
  GError *local = NULL;
  const RsCsvRow *row;
  int got = 1;

  if (src->deferred != NULL) {
    g_propagate_error (error, g_steal_pointer (&src->deferred));
    return -1;
  }
  while (out->n < src->chunk) {
    if (src->pending != NULL) {
      row = g_steal_pointer (&src->pending);
      got = 1;
    } else if (src->ended) {
      got = 0;
    } else {
      got = rs_csv_stream_next (src->stream, &row, &local);
    }
    if (got > 0 && !append_row (self, row, out, &local))
      got = -1;
    if (got <= 0)
      break;
  }
  if (got == 0)
    src->ended = TRUE;
  if (got < 0 && out->n > 0) {
    /* The rows before the error go through first, so that what comes out
     * before an error does not depend on the chunk size. */
    src->deferred = local;
    return 1;
  }
  if (got < 0)
    g_propagate_error (error, local);
  return got;
}

static void
csvsrc_report (RsElement *self, GString *out)
{
  CsvSrc *src = self->priv;
  guint n;

  if (src == NULL || src->stream == NULL)
    return;
  n = rs_csv_stream_n_values (src->stream);
  g_string_append_printf (out, "%s: %s, %" G_GINT64_FORMAT " rows", self->name,
                          src->display_name, src->next_index);
  if (n > 0) {
    g_string_append_printf (out, " of %u value%s (", n, n == 1 ? "" : "s");
    for (guint i = 0; i < n && i < REPORT_MAX_NAMES; i++)
      g_string_append_printf (out, "%s%s", i > 0 ? ", " : "",
                              rs_csv_stream_value_name (src->stream, i));
    g_string_append (out, n > REPORT_MAX_NAMES ? ", ...)" : ")");
  }
  g_string_append_printf (out, "; missing values: %s", rs_element_string (self, "missing"));
  if (rs_csv_stream_n_skipped (src->stream) > 0)
    g_string_append_printf (out, ", %" G_GUINT64_FORMAT " row(s) skipped",
                            rs_csv_stream_n_skipped (src->stream));
  g_string_append_c (out, '\n');
}

static void
csvsrc_stop (RsElement *self)
{
  CsvSrc *src = self->priv;

  if (src == NULL)
    return;
  rs_csv_stream_free (src->stream);
  g_clear_error (&src->deferred);
  if (src->file != NULL && src->file != stdin)
    fclose (src->file);
  g_free (src);
  self->priv = NULL;
}

const RsElementClass rs_csvsrc_class = {
  .type = "csvsrc",
  .description = "frames from the rows of a CSV series (C-locale numbers, optional header, "
                 "optional time column as the frame's label)",
  .role = RS_ELEMENT_SOURCE,
  .params = csvsrc_params,
  .start = csvsrc_start,
  .fixate = csvsrc_fixate,
  .probe = csvsrc_probe,
  .pull = csvsrc_pull,
  .stop = csvsrc_stop,
  .report = csvsrc_report,
};
