/* Reading a series from CSV text, row by row, as the rows arrive.
 *
 * The reader takes a FILE * (a file, a pipe, standard input) and returns
 * each row as soon as its line is complete, so `tail -f data.csv | ...`
 * works; its memory does not grow with the input (see "Memory" below).
 *
 * Format
 *   - One record per line; LF or CRLF line ends; the last line needs no
 *     line end. A UTF-8 byte order mark at the start of the input is
 *     skipped. Lines that are blank (spaces and tabs only) or whose first
 *     non-blank character is '#' are skipped, so a blank line is never a
 *     row of missing values: write NA.
 *   - Fields are separated by the delimiter (',' by default; ';' and tab
 *     are the other choices). A field may be quoted as in RFC 4180:
 *     "a, ""b""" is the text a, "b". Spaces and tabs (spaces only with
 *     the tab delimiter) around a field, and around the quotes of a quoted
 *     field, are dropped; inside the quotes everything is kept. A quote
 *     inside an unquoted field is an ordinary character. A quoted field
 *     cannot span lines: a record is one line, so that a stray quote is
 *     reported on its own line instead of silently swallowing the rest of
 *     a stream.
 *   - Every record has the same number of fields as the first one (the
 *     header, when there is one).
 *   - Header: with RS_CSV_HEADER_AUTO, the first record is a header when
 *     any column is selected by name, or else when any of its value fields
 *     (see Columns) is neither a number nor a missing-value marker.
 *     RS_CSV_HEADER_YES and _NO force it.
 *   - Numbers are read in the C locale whatever the process locale: an
 *     optional sign, digits with an optional '.', an optional exponent
 *     ("-1.5e-3", ".5", "7."). Anything else in a value column, hex,
 *     "inf" and numbers beyond the double range included, is an error.
 *   - Missing values: an empty field, "NA", and "nan" in any case with an
 *     optional sign ("NaN", "-nan", "NAN"). What happens to them is the
 *     reader's RsCsvMissing policy. Values are never NaN or infinite.
 *
 * Columns
 *   Value columns are chosen by name (this needs a header) or by 1-based
 *   index, in any order (a column may appear twice, and the time column
 *   may be one of them, e.g. a decimal year as an input); by default every
 *   column except the time column, in file order. The time column, when
 *   given, is passed through as its text (the field, unquoted and trimmed,
 *   at most RS_CSV_STREAM_MAX_TIME bytes) and parsed with rs_time_parse();
 *   text that is not a time is allowed and gives RS_TIME_NONE. Plain
 *   integer times are read the way the first row with one decides
 *   (RS_TIME_INTEGERS_AUTO: four digits, years; else indices), and every
 *   later integer time the same way, so an index that reaches 1000 stays
 *   an index. An empty time field is allowed too.
 *
 * Errors
 *   Every problem with the input is an RS_ERROR_PARSE whose one-line
 *   message starts with "NAME:LINE: " (NAME the display name, LINE the
 *   1-based physical line) and names the column where there is one:
 *   "data.csv:7: column 'price' (3): 'x' is not a number". Without a
 *   header a column is named by its index alone ("column 3"). Read
 *   errors are RS_ERROR_IO.
 *   After an error in a row the reader is still usable: the next call
 *   reads on from the following line, so a caller can skip bad rows. Two
 *   kinds of error are final (every later call fails with the same
 *   message), since the layout of the rows is unknown after them: one that
 *   keeps the first record from being read (a line too long, a NUL byte or
 *   a broken quote, in it or in a skipped line before it), and one in the
 *   column choice (a missing or ambiguous name, an index past the last
 *   field, no value column left).
 *
 * Missing-value policies (per reader)
 *   ERROR        the row is an error: "column 'b' (2): missing value 'NA'".
 *   SKIP         the row is dropped (rs_csv_stream_n_skipped() counts them).
 *   HOLD         the column's last valid value is used; a missing value
 *                before the column has had any valid one is an error
 *                ("... missing value with no earlier value to hold") and
 *                that row is dropped.
 *   INTERPOLATE  linear interpolation between the column's valid values
 *                before and after, by row position (the count of rows the
 *                reader has accepted: rows dropped for errors do not
 *                count): a gap of n rows between values a and b gets
 *                a + (b - a) * i / (n + 1), i = 1..n. Rows are returned
 *                in input order, so a row with a gap, and every row after
 *                it, is held back until the gap closes: the latency is the
 *                rest of the gap plus the row that closes it (0 rows when
 *                nothing is missing). A missing value before the column's
 *                first valid one is an error and that row is dropped. A
 *                gap still open at the end of the input is an error (named
 *                at the first held row and its column), and every held
 *                row is dropped: the last rows are what a forecast starts
 *                from, so the reader does not make them up (use HOLD to
 *                extend the last value instead). A gap that holds back
 *                more than max_held rows is an error at the row that
 *                overflows; the held rows are dropped and interpolation
 *                goes on across them when the gap closes.
 *
 * Memory
 *   Constant: one line (at most RS_CSV_STREAM_MAX_LINE bytes; longer lines
 *   are an error and are skipped without being buffered), the header, and
 *   with INTERPOLATE at most max_held rows (their values and time texts).
 *
 * Values are doubles: series such as prices, counts or sums carry more than
 * float's 7 digits, and the feature stages (differencing subtracts nearly
 * equal numbers, running means) lose them fastest. Convert to float at the
 * model's input.
 */
#ifndef RS_CSV_STREAM_H
#define RS_CSV_STREAM_H

#include <stdio.h>

#include <glib.h>
#include <rnnstream/export.h>
#include <rnnstream/series-time.h>

G_BEGIN_DECLS

/* Longest line accepted, line end excluded. */
#define RS_CSV_STREAM_MAX_LINE (1u << 20)

/* Longest time field accepted (it is copied into every held row). */
#define RS_CSV_STREAM_MAX_TIME 256u

/* max_held when the options leave it 0. */
#define RS_CSV_STREAM_DEFAULT_MAX_HELD 4096u

typedef struct RsCsvStream RsCsvStream;

typedef enum {
  RS_CSV_HEADER_AUTO,
  RS_CSV_HEADER_YES,
  RS_CSV_HEADER_NO
} RsCsvHeader;

typedef enum {
  RS_CSV_MISSING_ERROR,
  RS_CSV_MISSING_SKIP,
  RS_CSV_MISSING_HOLD,
  RS_CSV_MISSING_INTERPOLATE
} RsCsvMissing;

/* A column: by name when name is not NULL, else by 1-based index. */
typedef struct {
  const char *name;
  guint index;
} RsCsvColumn;

/* A column as users write one: digits only are a 1-based index (0 when it
 * is 0 or too large, which no column has), anything else a header name
 * pointing into text. */
RS_API RsCsvColumn rs_csv_column (const char *text);

/* Zero-initialised options are the defaults: ',' delimiter, automatic
 * header, missing values are errors, every column but the time column
 * (here: no time column), integer times decided by the first one. The
 * reader copies what it needs; the options may be freed after
 * rs_csv_stream_new(). */
typedef struct {
  char delimiter;              /* ',', ';' or '\t'; 0 means ',' */
  RsCsvHeader header;
  RsCsvMissing missing;
  const RsCsvColumn *columns;  /* n_columns value columns; NULL: all but the time column */
  guint n_columns;
  RsCsvColumn time_column;     /* { NULL, 0 }: none */
  RsTimeIntegers time_integers;
  guint max_held;              /* INTERPOLATE: rows held back at most; 0: the default */
} RsCsvOptions;

/* One row, owned by the reader and valid until the next call on it. */
typedef struct {
  const double *values;        /* n_values finite values, in the order of the columns chosen */
  guint n_values;
  const char *time_text;       /* the time field; NULL without a time column */
  RsTime time;                 /* parsed time_text; kind RS_TIME_NONE when not a time */
  guint64 line;                /* the row's line */
} RsCsvRow;

/* A reader of file (borrowed: never closed, must outlive the reader).
 * display_name starts every error message. options may be NULL for the
 * defaults. Returns NULL with RS_ERROR_FAILED when the options contradict
 * themselves: a column chosen by name with RS_CSV_HEADER_NO, a delimiter
 * other than ',', ';' or tab, an empty name, index 0. Reads nothing yet. */
RS_API RsCsvStream *rs_csv_stream_new (FILE *file, const char *display_name,
                                       const RsCsvOptions *options, GError **error);
RS_API void rs_csv_stream_free (RsCsvStream *stream);

/* Reads until a row is ready. Returns 1 and points *row at it, 0 at the end
 * of the input, -1 with error set (see Errors above). Blocks while the
 * input has no complete line (and, with INTERPOLATE, while a gap is open). */
RS_API int rs_csv_stream_next (RsCsvStream *stream, const RsCsvRow **row, GError **error);

/* The number of value columns, 0 until the first record has been read. */
RS_API guint rs_csv_stream_n_values (const RsCsvStream *stream);

/* The name of value column i (< n_values): its header name, or "column N"
 * without a header. Owned by the reader. */
RS_API const char *rs_csv_stream_value_name (const RsCsvStream *stream, guint i);

/* The header's fields, unquoted, NULL-terminated, owned by the reader; NULL
 * when there is no header or it has not been read yet. */
RS_API const char *const *rs_csv_stream_header (const RsCsvStream *stream);

/* The last line read (1-based; 0 before any). With INTERPOLATE it can be
 * ahead of the row just returned: the difference is the latency. */
RS_API guint64 rs_csv_stream_line (const RsCsvStream *stream);

/* Rows dropped by the SKIP policy so far. */
RS_API guint64 rs_csv_stream_n_skipped (const RsCsvStream *stream);

/* Rows read but not yet returned (INTERPOLATE's held rows; 0 otherwise). */
RS_API guint rs_csv_stream_n_held (const RsCsvStream *stream);

/* Static names of the policies, "error", "skip", "hold", "interpolate";
 * rs_csv_missing_from_name() is the inverse (FALSE for an unknown name). */
RS_API const char *rs_csv_missing_name (RsCsvMissing missing);

/* Writes text to out as one CSV field: as it is, or quoted (RFC 4180, a
 * quote doubled) when it holds a comma, a quote or a line end, so that a
 * time such as "2024-03-01, 12:00" stays one column. */
RS_API void rs_csv_write_field (FILE *out, const char *text);
RS_API gboolean rs_csv_missing_from_name (const char *name, RsCsvMissing *missing);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsCsvStream, rs_csv_stream_free)

G_END_DECLS

#endif
