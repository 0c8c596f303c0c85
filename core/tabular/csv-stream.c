/* A series from CSV text, row by row (see rnnstream/csv-stream.h).
 *
 * Each call reads physical lines until one is a record, splits it into
 * fields (unquoting them into one buffer), and turns the record into a
 * held row: its values (NaN marks a missing value still waiting for
 * interpolation), its time and its line. Every accepted row goes through
 * one queue, whatever the policy; a row leaves the queue, in input order,
 * once it has no NaN left. Only INTERPOLATE ever leaves NaN in a row, so
 * for the other policies the queue holds at most the row being returned.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "rnnstream/csv-stream.h"
#include "rnnstream/error.h"

/* Characters of input text quoted in a message, and column names listed. */
#define MESSAGE_TEXT_CHARS 40
#define MESSAGE_MAX_NAMES 20

typedef struct {
  gsize offset;                /* into RsCsvStream.text; the field is NUL-terminated there */
  gsize len;
} Field;

typedef struct Slot Slot;
struct Slot {
  Slot *next;
  guint64 line;
  guint64 position;            /* index among accepted rows */
  guint n_missing;             /* NaN values left */
  RsTime time;
  char time_text[RS_CSV_STREAM_MAX_TIME + 1];
  double values[];             /* n_values */
};

typedef struct {
  guint field;                 /* 0-based */
  char *label;                 /* "column 'name' (3)" or "column 3", for messages */
  /* HOLD and INTERPOLATE: the column's last valid value, at position last_position. */
  gboolean has_last;
  double last;
  guint64 last_position;
  guint pending;               /* INTERPOLATE: held rows with this value missing */
} Column;

struct RsCsvStream {
  FILE *file;
  char *name;

  /* Options. */
  char delimiter;
  RsCsvHeader header_mode;
  RsCsvMissing missing;
  RsCsvColumn *wanted;         /* names owned */
  guint n_wanted;
  RsCsvColumn wanted_time;     /* name owned */
  RsTimeIntegers integers;     /* AUTO until the first integer time decides */
  guint max_held;

  /* The current line and its fields. */
  GString *line;
  guint64 line_no;
  GString *text;
  GArray *fields;

  /* The layout, fixed by the first record. */
  gboolean started;
  GError *failure;             /* final error, repeated by every later call */
  guint n_fields;
  char **header;
  Column *columns;
  guint n_values;
  int time_field;              /* -1: none */
  char *time_label;

  /* Rows accepted, held, returned, recycled. */
  guint64 position;
  Slot *head, *tail;
  guint n_held;
  Slot *returned;
  Slot *spare;
  RsCsvRow row;
  guint64 skipped;
};

static gboolean
is_blank (const RsCsvStream *s, char c)
{
  return c == ' ' || (c == '\t' && s->delimiter != '\t');
}

/* Input text made safe for a one-line message: valid UTF-8, no control
 * characters, at most MESSAGE_TEXT_CHARS characters. */
static char *
for_message (const char *text, gsize len)
{
  /* A character is at most 4 bytes: no need to look further (a field can
   * be a megabyte long). */
  g_autofree char *valid = g_utf8_make_valid (text, (gssize) MIN (len, 4 * MESSAGE_TEXT_CHARS
                                                                       + 4));
  GString *out = g_string_new (NULL);
  const char *p = valid;
  guint n = 0;

  for (; *p != '\0' && n < MESSAGE_TEXT_CHARS; p = g_utf8_next_char (p), n++) {
    gunichar c = g_utf8_get_char (p);

    if (g_unichar_iscntrl (c))
      g_string_append_c (out, '?');
    else
      g_string_append_unichar (out, c);
  }
  if (*p != '\0')
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

static void
set_line_error (const RsCsvStream *s, guint64 line, GError **error, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

static void
set_line_error (const RsCsvStream *s, guint64 line, GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s:%" G_GUINT64_FORMAT ": %s", s->name, line,
               message);
}

/* Options */

static gboolean
check_column (const RsCsvColumn *c, const RsCsvOptions *o, const char *what, GError **error)
{
  if (c->name != NULL && o->header == RS_CSV_HEADER_NO) {
    g_autofree char *name = for_message (c->name, strlen (c->name));

    g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "%s '%s' is chosen by name, but the input "
                 "has no header", what, name);
    return FALSE;
  }
  if (c->name == NULL && c->index == 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "%s index 0: columns are numbered from 1",
                 what);
    return FALSE;
  }
  return TRUE;
}

RsCsvStream *
rs_csv_stream_new (FILE *file, const char *display_name, const RsCsvOptions *options,
                   GError **error)
{
  static const RsCsvOptions defaults = { 0 };
  const RsCsvOptions *o = options != NULL ? options : &defaults;
  RsCsvStream *s;

  g_return_val_if_fail (file != NULL, NULL);
  g_return_val_if_fail (display_name != NULL, NULL);
  g_return_val_if_fail (o->n_columns == 0 || o->columns != NULL, NULL);
  g_return_val_if_fail (o->header <= RS_CSV_HEADER_NO, NULL);
  g_return_val_if_fail (o->missing <= RS_CSV_MISSING_INTERPOLATE, NULL);
  g_return_val_if_fail (o->time_integers <= RS_TIME_INTEGERS_YEAR, NULL);

  if (o->delimiter != 0 && o->delimiter != ',' && o->delimiter != ';' && o->delimiter != '\t') {
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "delimiter must be ',', ';' or tab");
    return NULL;
  }
  for (guint i = 0; i < o->n_columns; i++)
    if (!check_column (&o->columns[i], o, "column", error))
      return NULL;
  if ((o->time_column.name != NULL || o->time_column.index != 0)
      && !check_column (&o->time_column, o, "time column", error))
    return NULL;

  s = g_new0 (RsCsvStream, 1);
  s->file = file;
  s->name = g_strdup (display_name);
  s->delimiter = o->delimiter != 0 ? o->delimiter : ',';
  s->header_mode = o->header;
  s->missing = o->missing;
  s->n_wanted = o->n_columns;
  s->wanted = g_new0 (RsCsvColumn, MAX (o->n_columns, 1));
  for (guint i = 0; i < o->n_columns; i++) {
    s->wanted[i].name = g_strdup (o->columns[i].name);
    s->wanted[i].index = o->columns[i].index;
  }
  s->wanted_time.name = g_strdup (o->time_column.name);
  s->wanted_time.index = o->time_column.index;
  s->integers = o->time_integers;
  s->max_held = o->max_held != 0 ? o->max_held : RS_CSV_STREAM_DEFAULT_MAX_HELD;
  s->line = g_string_sized_new (256);
  s->text = g_string_sized_new (256);
  s->fields = g_array_new (FALSE, FALSE, sizeof (Field));
  s->time_field = -1;
  return s;
}

static void
free_slots (Slot *slot)
{
  while (slot != NULL) {
    Slot *next = slot->next;

    g_free (slot);
    slot = next;
  }
}

void
rs_csv_stream_free (RsCsvStream *s)
{
  if (s == NULL)
    return;
  g_free (s->name);
  for (guint i = 0; i < s->n_wanted; i++)
    g_free ((char *) s->wanted[i].name);
  g_free (s->wanted);
  g_free ((char *) s->wanted_time.name);
  g_string_free (s->line, TRUE);
  g_string_free (s->text, TRUE);
  g_array_unref (s->fields);
  g_clear_error (&s->failure);
  g_strfreev (s->header);
  for (guint i = 0; i < s->n_values; i++)
    g_free (s->columns[i].label);
  g_free (s->columns);
  g_free (s->time_label);
  free_slots (s->head);
  free_slots (s->returned);
  free_slots (s->spare);
  g_free (s);
}

/* Lines */

/* Reads one line into s->line without its line end (LF or CRLF), and
 * without the byte order mark on the first line. Returns 1, 0 at the end
 * of the input, or -1 on error; a line too long or holding a NUL byte is
 * an error once it has been read to its end, so the next call starts on
 * the following line. */
static int
read_line (RsCsvStream *s, GError **error)
{
  int c;
  gboolean too_long = FALSE;

  g_string_truncate (s->line, 0);
  flockfile (s->file);
  while ((c = getc_unlocked (s->file)) != EOF && c != '\n') {
    if (s->line->len < RS_CSV_STREAM_MAX_LINE + 1)  /* room for a CR before the LF */
      g_string_append_c (s->line, (char) c);
    else
      too_long = TRUE;
  }
  funlockfile (s->file);
  if (c == EOF && ferror (s->file)) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "%s: read error: %s", s->name, g_strerror (errno));
    clearerr (s->file);
    return -1;
  }
  if (c == EOF && s->line->len == 0)
    return 0;
  s->line_no++;
  if (s->line->len > 0 && s->line->str[s->line->len - 1] == '\r' && !too_long)
    g_string_truncate (s->line, s->line->len - 1);
  if (too_long || s->line->len > RS_CSV_STREAM_MAX_LINE) {
    set_line_error (s, s->line_no, error, "line longer than %u bytes", RS_CSV_STREAM_MAX_LINE);
    return -1;
  }
  if (s->line_no == 1 && g_str_has_prefix (s->line->str, "\xEF\xBB\xBF"))
    g_string_erase (s->line, 0, 3);
  if (memchr (s->line->str, '\0', s->line->len) != NULL) {
    set_line_error (s, s->line_no, error, "line contains a NUL byte");
    return -1;
  }
  return 1;
}

static gboolean
is_skippable (const RsCsvStream *s)
{
  gsize i = 0;

  while (i < s->line->len && (s->line->str[i] == ' ' || s->line->str[i] == '\t'))
    i++;
  return i == s->line->len || s->line->str[i] == '#';
}

/* Splits s->line into s->fields, unquoting into s->text (RFC 4180, one
 * line per record; see the header for the blanks rule). */
static gboolean
split_fields (RsCsvStream *s, GError **error)
{
  const char *p = s->line->str, *end = p + s->line->len;

  g_string_truncate (s->text, 0);
  g_array_set_size (s->fields, 0);
  for (;;) {
    Field f = { s->text->len, 0 };

    while (p < end && is_blank (s, *p))
      p++;
    if (p < end && *p == '"') {
      for (p++;; p++) {
        if (p == end) {
          set_line_error (s, s->line_no, error, "field %u: unterminated quoted field",
                          s->fields->len + 1);
          return FALSE;
        }
        if (*p == '"') {
          if (p + 1 < end && p[1] == '"')
            p++;               /* "" is one quote */
          else
            break;
        }
        g_string_append_c (s->text, *p);
      }
      p++;
      while (p < end && is_blank (s, *p))
        p++;
      if (p < end && *p != s->delimiter) {
        set_line_error (s, s->line_no, error, "field %u: text after the closing quote",
                        s->fields->len + 1);
        return FALSE;
      }
    } else {
      const char *start = p, *stop;

      while (p < end && *p != s->delimiter)
        p++;
      stop = p;
      while (stop > start && is_blank (s, stop[-1]))
        stop--;
      g_string_append_len (s->text, start, stop - start);
    }
    f.len = s->text->len - f.offset;
    g_string_append_c (s->text, '\0');
    g_array_append_val (s->fields, f);
    if (p == end)
      return TRUE;
    p++;                       /* the delimiter */
  }
}

static const char *
field_text (const RsCsvStream *s, guint i)
{
  return s->text->str + g_array_index (s->fields, Field, i).offset;
}

static gsize
field_len (const RsCsvStream *s, guint i)
{
  return g_array_index (s->fields, Field, i).len;
}

/* Values */

typedef enum { VALUE_NUMBER, VALUE_MISSING, VALUE_NOT_NUMBER, VALUE_OUT_OF_RANGE } ValueClass;

static gboolean
is_digit (char c)
{
  return c >= '0' && c <= '9';
}

/* [+-]? (D+ .? D* | . D+) ([eE] [+-]? D+)?: what g_ascii_strtod reads,
 * less hex, inf and nan. */
static gboolean
is_decimal_number (const char *p, const char *end)
{
  gsize digits = 0;

  if (p < end && (*p == '+' || *p == '-'))
    p++;
  for (; p < end && is_digit (*p); p++)
    digits++;
  if (p < end && *p == '.')
    for (p++; p < end && is_digit (*p); p++)
      digits++;
  if (digits == 0)
    return FALSE;
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    if (p == end || !is_digit (*p))
      return FALSE;
    while (p < end && is_digit (*p))
      p++;
  }
  return p == end;
}

static gboolean
is_missing_marker (const char *p, gsize len)
{
  if (len == 0 || (len == 2 && memcmp (p, "NA", 2) == 0))
    return TRUE;
  if (*p == '+' || *p == '-') {
    p++;
    len--;
  }
  return len == 3 && g_ascii_strncasecmp (p, "nan", 3) == 0;
}

/* Classifies field i, trimmed of spaces and tabs (also for a quoted field:
 * " 1" is still a number), and reads its value. */
static ValueClass
classify (const RsCsvStream *s, guint i, double *value)
{
  const char *p = field_text (s, i), *end = p + field_len (s, i);

  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  if (is_missing_marker (p, (gsize) (end - p)))
    return VALUE_MISSING;
  if (!is_decimal_number (p, end))
    return VALUE_NOT_NUMBER;
  /* The field is NUL-terminated in s->text, and g_ascii_strtod stops
   * where is_decimal_number did (trailing blanks are not part of a
   * number). Overflow gives an infinity; underflow a tiny value or 0. */
  *value = g_ascii_strtod (p, NULL);
  return isfinite (*value) ? VALUE_NUMBER : VALUE_OUT_OF_RANGE;
}

/* Layout */

static char *
column_list (const RsCsvStream *s)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < s->n_fields && i < MESSAGE_MAX_NAMES; i++) {
    g_autofree char *name = for_message (s->header[i], strlen (s->header[i]));

    g_string_append_printf (out, "%s'%s'", i > 0 ? ", " : "", name);
  }
  if (s->n_fields > MESSAGE_MAX_NAMES)
    g_string_append_printf (out, ", ... (%u in all)", s->n_fields);
  return g_string_free (out, FALSE);
}

/* Finds a column by name or index, as a 0-based field. */
static gboolean
find_column (const RsCsvStream *s, const RsCsvColumn *c, const char *what, guint *field,
             GError **error)
{
  if (c->name == NULL) {
    if (c->index > s->n_fields) {
      set_line_error (s, s->line_no, error, "no %s %u: the rows have %u fields", what,
                      c->index, s->n_fields);
      return FALSE;
    }
    *field = c->index - 1;
    return TRUE;
  }
  for (guint i = 0; i < s->n_fields; i++) {
    if (strcmp (s->header[i], c->name) != 0)
      continue;
    for (guint j = i + 1; j < s->n_fields; j++) {
      if (strcmp (s->header[j], c->name) == 0) {
        g_autofree char *name = for_message (c->name, strlen (c->name));

        set_line_error (s, s->line_no, error, "%s name '%s' is ambiguous: columns %u and %u",
                        what, name, i + 1, j + 1);
        return FALSE;
      }
    }
    *field = i;
    return TRUE;
  }
  {
    g_autofree char *name = for_message (c->name, strlen (c->name));
    g_autofree char *list = column_list (s);

    set_line_error (s, s->line_no, error, "no %s '%s'; the columns are %s", what, name, list);
  }
  return FALSE;
}

static char *
make_label (const RsCsvStream *s, const char *what, guint field)
{
  g_autofree char *name = NULL;

  if (s->header == NULL)
    return g_strdup_printf ("%s %u", what, field + 1);
  name = for_message (s->header[field], strlen (s->header[field]));
  return g_strdup_printf ("%s '%s' (%u)", what, name, field + 1);
}

/* With RS_CSV_HEADER_AUTO: is the first record a header? */
static gboolean
looks_like_header (const RsCsvStream *s)
{
  double unused;

  if (s->wanted_time.name != NULL)
    return TRUE;
  for (guint i = 0; i < s->n_wanted; i++)
    if (s->wanted[i].name != NULL)
      return TRUE;
  for (guint i = 0; i < s->n_fields; i++) {
    gboolean is_value = FALSE;

    if (s->n_wanted == 0) {
      is_value = s->wanted_time.index != i + 1;
    } else {
      for (guint j = 0; j < s->n_wanted && !is_value; j++)
        is_value = s->wanted[j].index == i + 1;
    }
    if (is_value && classify (s, i, &unused) == VALUE_NOT_NUMBER)
      return TRUE;
  }
  return FALSE;
}

/* Fixes the layout from the first record, in s->fields. Sets *is_header. */
static gboolean
start_layout (RsCsvStream *s, gboolean *is_header, GError **error)
{
  guint time_field = 0;
  gboolean has_time = s->wanted_time.name != NULL || s->wanted_time.index != 0;

  s->n_fields = s->fields->len;
  switch (s->header_mode) {
  case RS_CSV_HEADER_YES:
    *is_header = TRUE;
    break;
  case RS_CSV_HEADER_NO:
    *is_header = FALSE;
    break;
  default:
    *is_header = looks_like_header (s);
    break;
  }
  if (*is_header) {
    s->header = g_new (char *, s->n_fields + 1);
    for (guint i = 0; i < s->n_fields; i++)
      s->header[i] = g_strndup (field_text (s, i), field_len (s, i));
    s->header[s->n_fields] = NULL;
  }

  if (has_time) {
    if (!find_column (s, &s->wanted_time, "time column", &time_field, error))
      return FALSE;
    s->time_field = (int) time_field;
    s->time_label = make_label (s, "time column", time_field);
  }

  if (s->n_wanted > 0) {
    s->columns = g_new0 (Column, s->n_wanted);
    for (guint i = 0; i < s->n_wanted; i++) {
      if (!find_column (s, &s->wanted[i], "column", &s->columns[i].field, error))
        return FALSE;
      s->columns[i].label = make_label (s, "column", s->columns[i].field);
      s->n_values++;
    }
  } else {
    s->columns = g_new0 (Column, s->n_fields);
    for (guint i = 0; i < s->n_fields; i++) {
      if (has_time && i == time_field)
        continue;
      s->columns[s->n_values].field = i;
      s->columns[s->n_values].label = make_label (s, "column", i);
      s->n_values++;
    }
    if (s->n_values == 0) {
      set_line_error (s, s->line_no, error, "no value columns: the only column is the %s",
                      s->time_label);
      return FALSE;
    }
  }
  return TRUE;
}

/* Held rows */

static Slot *
new_slot (RsCsvStream *s)
{
  Slot *slot = s->spare;

  if (slot != NULL)
    s->spare = slot->next;
  else
    slot = g_malloc (sizeof (Slot) + s->n_values * sizeof (double));
  slot->next = NULL;
  slot->n_missing = 0;
  memset (&slot->time, 0, sizeof slot->time);
  slot->time_text[0] = '\0';
  return slot;
}

static void
recycle (RsCsvStream *s, Slot *slot)
{
  slot->next = s->spare;
  s->spare = slot;
}

static void
drop_held (RsCsvStream *s)
{
  while (s->head != NULL) {
    Slot *next = s->head->next;

    recycle (s, s->head);
    s->head = next;
  }
  s->tail = NULL;
  s->n_held = 0;
  for (guint i = 0; i < s->n_values; i++)
    s->columns[i].pending = 0;
}

/* The label of the first value the head row still misses. */
static const char *
head_gap_label (const RsCsvStream *s)
{
  for (guint i = 0; i < s->n_values; i++)
    if (isnan (s->head->values[i]))
      return s->columns[i].label;
  g_return_val_if_reached ("?");
}

/* a + (b - a) t for 0 < t < 1, kept between a and b. b - a overflows when a
 * and b are huge with opposite signs; the weighted form cannot then. */
static double
lerp (double a, double b, double t)
{
  double d = b - a;
  double v = isfinite (d) ? a + d * t : a * (1 - t) + b * t;

  return CLAMP (v, MIN (a, b), MAX (a, b));
}

/* Column i has the valid value v at position p: fills the gap it closes. */
static void
close_gap (RsCsvStream *s, guint i, double v, guint64 p)
{
  Column *c = &s->columns[i];

  if (c->pending > 0) {
    for (Slot *slot = s->head; slot != NULL; slot = slot->next) {
      if (!isnan (slot->values[i]))
        continue;
      slot->values[i] = lerp (c->last, v, (double) (slot->position - c->last_position)
                                          / (double) (p - c->last_position));
      slot->n_missing--;
    }
    c->pending = 0;
  }
  c->has_last = TRUE;
  c->last = v;
  c->last_position = p;
}

/* Rows */

/* Reads the record in s->fields into a new slot and applies the missing-
 * value policy. Returns the slot to queue, or NULL: with an error set, or
 * without one for a row the SKIP policy dropped. */
static Slot *
read_row (RsCsvStream *s, GError **error)
{
  Slot *slot;
  int first_missing = -1;

  if (s->fields->len != s->n_fields) {
    set_line_error (s, s->line_no, error, "%u field%s, expected %u", s->fields->len,
                    s->fields->len == 1 ? "" : "s", s->n_fields);
    return NULL;
  }
  slot = new_slot (s);
  slot->line = s->line_no;
  for (guint i = 0; i < s->n_values; i++) {
    guint f = s->columns[i].field;

    ValueClass class = classify (s, f, &slot->values[i]);

    if (class == VALUE_MISSING) {
      slot->values[i] = NAN;
      if (first_missing < 0)
        first_missing = (int) i;
    } else if (class != VALUE_NUMBER) {
      g_autofree char *text = for_message (field_text (s, f), field_len (s, f));

      set_line_error (s, s->line_no, error, "%s: '%s' is %s", s->columns[i].label, text,
                      class == VALUE_NOT_NUMBER ? "not a number" : "beyond the double range");
      recycle (s, slot);
      return NULL;
    }
  }

  if (s->time_field >= 0) {
    guint f = (guint) s->time_field;

    if (field_len (s, f) > RS_CSV_STREAM_MAX_TIME) {
      set_line_error (s, s->line_no, error, "%s: longer than %u bytes", s->time_label,
                      RS_CSV_STREAM_MAX_TIME);
      recycle (s, slot);
      return NULL;
    }
    memcpy (slot->time_text, field_text (s, f), field_len (s, f) + 1);
    rs_time_parse (slot->time_text, (gssize) field_len (s, f), s->integers, &slot->time);
    /* The first integer time decides how every later one is read. */
    if (s->integers == RS_TIME_INTEGERS_AUTO && slot->time.kind == RS_TIME_INDEX)
      s->integers = RS_TIME_INTEGERS_INDEX;
    else if (s->integers == RS_TIME_INTEGERS_AUTO && slot->time.kind == RS_TIME_YEAR)
      s->integers = RS_TIME_INTEGERS_YEAR;
  }

  if (first_missing >= 0 && s->missing == RS_CSV_MISSING_ERROR) {
    guint f = s->columns[first_missing].field;
    g_autofree char *text = for_message (field_text (s, f), field_len (s, f));

    if (field_len (s, f) == 0)
      set_line_error (s, s->line_no, error, "%s: missing value (empty field)",
                      s->columns[first_missing].label);
    else
      set_line_error (s, s->line_no, error, "%s: missing value '%s'",
                      s->columns[first_missing].label, text);
    recycle (s, slot);
    return NULL;
  }
  if (first_missing >= 0 && s->missing == RS_CSV_MISSING_SKIP) {
    s->skipped++;
    recycle (s, slot);
    return NULL;
  }
  /* HOLD and INTERPOLATE: a missing value needs an earlier one to hold or
   * start from. The whole row is checked before any column's state
   * changes, since the row may yet be refused. */
  for (guint i = 0; first_missing >= 0 && i < s->n_values; i++) {
    if (isnan (slot->values[i]) && !s->columns[i].has_last) {
      set_line_error (s, s->line_no, error, "%s: missing value with no earlier value to %s",
                      s->columns[i].label,
                      s->missing == RS_CSV_MISSING_HOLD ? "hold" : "interpolate from");
      recycle (s, slot);
      return NULL;
    }
  }

  slot->position = s->position++;
  if (s->missing != RS_CSV_MISSING_HOLD && s->missing != RS_CSV_MISSING_INTERPOLATE)
    return slot;
  for (guint i = 0; i < s->n_values; i++) {
    Column *c = &s->columns[i];

    if (isnan (slot->values[i]) && s->missing == RS_CSV_MISSING_HOLD) {
      slot->values[i] = c->last;
    } else if (isnan (slot->values[i])) {
      c->pending++;
      slot->n_missing++;
    } else if (s->missing == RS_CSV_MISSING_HOLD) {
      c->has_last = TRUE;
      c->last = slot->values[i];
    } else {
      close_gap (s, i, slot->values[i], slot->position);
    }
  }
  return slot;
}

/* Reads the next record into s->fields: 1, 0 at the end, -1 on error. */
static int
next_record (RsCsvStream *s, GError **error)
{
  for (;;) {
    int got = read_line (s, error);

    if (got <= 0)
      return got;
    if (is_skippable (s))
      continue;
    return split_fields (s, error) ? 1 : -1;
  }
}

static int
fail_for_good (RsCsvStream *s, GError *local, GError **error)
{
  s->failure = g_error_copy (local);
  g_propagate_error (error, local);
  return -1;
}

int
rs_csv_stream_next (RsCsvStream *s, const RsCsvRow **row, GError **error)
{
  g_return_val_if_fail (s != NULL, -1);
  g_return_val_if_fail (row != NULL, -1);

  if (s->failure != NULL) {
    g_propagate_error (error, g_error_copy (s->failure));
    return -1;
  }
  if (s->returned != NULL) {
    recycle (s, s->returned);
    s->returned = NULL;
  }

  for (;;) {
    GError *local = NULL;
    Slot *slot;
    int got;

    if (s->head != NULL && s->head->n_missing == 0) {
      slot = s->head;
      s->head = slot->next;
      if (s->head == NULL)
        s->tail = NULL;
      s->n_held--;
      slot->next = NULL;
      s->returned = slot;
      s->row.values = slot->values;
      s->row.n_values = s->n_values;
      s->row.time_text = s->time_field >= 0 ? slot->time_text : NULL;
      s->row.time = slot->time;
      s->row.line = slot->line;
      *row = &s->row;
      return 1;
    }

    got = next_record (s, &local);
    if (got < 0 && !s->started && local->code == RS_ERROR_PARSE)
      return fail_for_good (s, local, error);
    if (got < 0) {
      g_propagate_error (error, local);
      return -1;
    }
    if (got == 0) {
      if (s->head == NULL)
        return 0;
      /* Only INTERPOLATE holds rows; the head's gap never closed. */
      set_line_error (s, s->head->line, error, "%s: missing value at the end of the input, "
                      "with no later value to interpolate to", head_gap_label (s));
      drop_held (s);
      return -1;
    }

    if (!s->started) {
      gboolean is_header;

      s->started = TRUE;
      if (!start_layout (s, &is_header, &local))
        return fail_for_good (s, local, error);
      if (is_header)
        continue;
    }

    slot = read_row (s, &local);
    if (local != NULL) {
      g_propagate_error (error, local);
      return -1;
    }
    if (slot == NULL)
      continue;                /* skipped */
    if (s->tail != NULL)
      s->tail->next = slot;
    else
      s->head = slot;
    s->tail = slot;
    s->n_held++;
    if (s->head->n_missing > 0 && s->n_held > s->max_held) {
      set_line_error (s, s->line_no, error, "%s: more than %u rows held back waiting for a "
                      "value to interpolate to (since line %" G_GUINT64_FORMAT "); they are "
                      "dropped", head_gap_label (s), s->max_held, s->head->line);
      drop_held (s);
      return -1;
    }
  }
}

guint
rs_csv_stream_n_values (const RsCsvStream *s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->n_values;
}

const char *
rs_csv_stream_value_name (const RsCsvStream *s, guint i)
{
  g_return_val_if_fail (s != NULL, NULL);
  g_return_val_if_fail (i < s->n_values, NULL);
  /* Without a header the label is the name: "column 3". */
  return s->header != NULL ? s->header[s->columns[i].field] : s->columns[i].label;
}

const char *const *
rs_csv_stream_header (const RsCsvStream *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return (const char *const *) s->header;
}

guint64
rs_csv_stream_line (const RsCsvStream *s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->line_no;
}

guint64
rs_csv_stream_n_skipped (const RsCsvStream *s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->skipped;
}

guint
rs_csv_stream_n_held (const RsCsvStream *s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->n_held;
}

RsCsvColumn
rs_csv_column (const char *text)
{
  guint64 index;

  if (text[0] == '\0' || text[strspn (text, "0123456789")] != '\0')
    return (RsCsvColumn) { text, 0 };
  index = g_ascii_strtoull (text, NULL, 10);
  return (RsCsvColumn) { NULL, index <= G_MAXUINT ? (guint) index : 0 };
}

void
rs_csv_write_field (FILE *out, const char *text)
{
  if (strpbrk (text, ",\"\r\n") == NULL) {
    fputs (text, out);
    return;
  }
  fputc ('"', out);
  for (const char *p = text; *p != '\0'; p++) {
    if (*p == '"')
      fputc ('"', out);
    fputc (*p, out);
  }
  fputc ('"', out);
}

static const char *const missing_names[] = { "error", "skip", "hold", "interpolate" };

const char *
rs_csv_missing_name (RsCsvMissing missing)
{
  g_return_val_if_fail (missing <= RS_CSV_MISSING_INTERPOLATE, NULL);
  return missing_names[missing];
}

gboolean
rs_csv_missing_from_name (const char *name, RsCsvMissing *missing)
{
  g_return_val_if_fail (name != NULL && missing != NULL, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (missing_names); i++) {
    if (strcmp (name, missing_names[i]) == 0) {
      *missing = (RsCsvMissing) i;
      return TRUE;
    }
  }
  return FALSE;
}
