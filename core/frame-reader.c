/* CSV feature frames, row by row (see rnnstream/frame-reader.h). */
#include "config.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "rnnstream/error.h"
#include "rnnstream/frame-reader.h"

/* Fields per row we accept when the width is not fixed in advance. */
#define MAX_FIELDS 65536

struct RsFrameReader {
  FILE *file;
  char *name;
  guint width;
  guint64 line_no;
  gboolean seen_first;       /* the first non-blank line has been read */
  char *header;
  GString *line;
  float *frame;              /* capacity floats */
  guint capacity;
};

RsFrameReader *
rs_frame_reader_new (FILE *file, const char *display_name, guint width)
{
  RsFrameReader *r;

  g_return_val_if_fail (file != NULL, NULL);
  g_return_val_if_fail (display_name != NULL, NULL);
  g_return_val_if_fail (width <= MAX_FIELDS, NULL);

  r = g_new0 (RsFrameReader, 1);
  r->file = file;
  r->name = g_strdup (display_name);
  r->width = width;
  r->line = g_string_sized_new (256);
  r->capacity = MAX (width, 1);
  r->frame = g_new (float, r->capacity);
  return r;
}

void
rs_frame_reader_free (RsFrameReader *r)
{
  if (r == NULL)
    return;
  g_free (r->name);
  g_free (r->header);
  g_string_free (r->line, TRUE);
  g_free (r->frame);
  g_free (r);
}

static gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

/* Parses one trimmed field of len bytes. */
static gboolean
parse_field (const char *field, gsize len, guint index, float *out, GError **error)
{
  char buf[128];
  char *end;
  double v;

  if (len == 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "field %u is empty", index + 1);
    return FALSE;
  }
  if (len >= sizeof buf) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "field %u is not a number (%" G_GSIZE_FORMAT
                 " characters long)", index + 1, len);
    return FALSE;
  }
  memcpy (buf, field, len);
  buf[len] = '\0';
  errno = 0;
  v = g_ascii_strtod (buf, &end);
  if (end != buf + len || end == buf) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "field %u '%s' is not a number", index + 1,
                 g_utf8_validate (buf, -1, NULL) ? buf : "(invalid UTF-8)");
    return FALSE;
  }
  if (!isfinite (v) && errno != ERANGE) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "field %u '%s' is not a finite number",
                 index + 1, buf);
    return FALSE;
  }
  if (!isfinite (v) || fabs (v) > FLT_MAX) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "field %u '%s' is beyond the float range",
                 index + 1, buf);
    return FALSE;
  }
  *out = (float) v;
  return TRUE;
}

int
rs_csv_parse_numbers (const char *line, gsize len, float *out, guint max_fields, GError **error)
{
  guint n = 0;
  gsize pos = 0;

  g_return_val_if_fail (line != NULL || len == 0, -1);

  for (;;) {
    gsize start = pos, end;

    while (pos < len && line[pos] != ',')
      pos++;
    end = pos;
    while (start < end && is_blank (line[start]))
      start++;
    while (end > start && is_blank (line[end - 1]))
      end--;
    if (n == max_fields) {
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "field %u: more than %u fields", n + 1,
                   max_fields);
      return -1;
    }
    if (!parse_field (line + start, end - start, n, &out[n], error))
      return -1;
    n++;
    if (pos == len)
      return (int) n;
    pos++;   /* the comma */
  }
}

/* Reads one line into r->line without its line end. Returns 1, 0 at end of
 * input, -1 on error. A last line without a newline still counts. */
static int
read_line (RsFrameReader *r, GError **error)
{
  int c;
  gboolean too_long = FALSE;

  g_string_truncate (r->line, 0);
  flockfile (r->file);
  while ((c = getc_unlocked (r->file)) != EOF && c != '\n') {
    if (r->line->len < RS_FRAME_READER_MAX_LINE)
      g_string_append_c (r->line, (char) c);
    else
      too_long = TRUE;
  }
  funlockfile (r->file);
  if (c == EOF && ferror (r->file)) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "%s: read error: %s", r->name,
                 g_strerror (errno));
    return -1;
  }
  if (c == EOF && r->line->len == 0 && !too_long)
    return 0;
  r->line_no++;
  if (too_long) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s:%" G_GUINT64_FORMAT ": line longer than %u "
                 "bytes", r->name, r->line_no, RS_FRAME_READER_MAX_LINE);
    return -1;
  }
  if (r->line->len > 0 && r->line->str[r->line->len - 1] == '\r')
    g_string_truncate (r->line, r->line->len - 1);
  if (memchr (r->line->str, '\0', r->line->len) != NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s:%" G_GUINT64_FORMAT ": line contains a NUL "
                 "byte", r->name, r->line_no);
    return -1;
  }
  return 1;
}

static gboolean
is_skippable (const GString *line)
{
  gsize i = 0;

  while (i < line->len && is_blank (line->str[i]))
    i++;
  return i == line->len || line->str[i] == '#';
}

static guint
count_fields (const GString *line)
{
  guint n = 1;

  for (gsize i = 0; i < line->len; i++)
    n += line->str[i] == ',';
  return n;
}

int
rs_frame_reader_next (RsFrameReader *r, const float **frame, GError **error)
{
  g_return_val_if_fail (r != NULL, -1);
  g_return_val_if_fail (frame != NULL, -1);

  for (;;) {
    GError *local = NULL;
    int got = read_line (r, error), n;
    guint n_fields;
    gboolean first;

    if (got <= 0)
      return got;
    if (is_skippable (r->line))
      continue;
    first = !r->seen_first;
    r->seen_first = TRUE;
    n_fields = count_fields (r->line);
    /* Counting first names the mismatch plainly ("9 values, expected 8");
     * only the first line is exempt, since it may be a header. */
    if (!first && r->width > 0 && n_fields != r->width) {
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s:%" G_GUINT64_FORMAT ": %u values, "
                   "expected %u", r->name, r->line_no, n_fields, r->width);
      return -1;
    }
    if (n_fields > MAX_FIELDS) {
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s:%" G_GUINT64_FORMAT ": more than %u "
                   "fields", r->name, r->line_no, MAX_FIELDS);
      return -1;
    }
    if (n_fields > r->capacity) {
      r->frame = g_renew (float, r->frame, n_fields);
      r->capacity = n_fields;
    }
    n = rs_csv_parse_numbers (r->line->str, r->line->len, r->frame, n_fields, &local);
    if (n < 0 && first) {
      /* A first line that is not all numbers is a header. */
      g_clear_error (&local);
      r->header = g_strndup (r->line->str, r->line->len);
      continue;
    }
    if (n < 0) {
      g_propagate_prefixed_error (error, local, "%s:%" G_GUINT64_FORMAT ": ", r->name,
                                  r->line_no);
      return -1;
    }
    if (r->width == 0)
      r->width = (guint) n;
    if ((guint) n != r->width) {
      g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s:%" G_GUINT64_FORMAT ": %d values, "
                   "expected %u", r->name, r->line_no, n, r->width);
      return -1;
    }
    *frame = r->frame;
    return 1;
  }
}

guint
rs_frame_reader_width (const RsFrameReader *r)
{
  g_return_val_if_fail (r != NULL, 0);
  return r->width;
}

guint64
rs_frame_reader_line (const RsFrameReader *r)
{
  g_return_val_if_fail (r != NULL, 0);
  return r->line_no;
}

const char *
rs_frame_reader_header (const RsFrameReader *r)
{
  g_return_val_if_fail (r != NULL, NULL);
  return r->header;
}
