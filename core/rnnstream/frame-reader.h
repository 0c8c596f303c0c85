/* Reading feature frames from CSV text, one frame per row, as rows arrive.
 *
 * The format: comma-separated numbers in the C locale ('.' as decimal
 * point, whatever the process locale), spaces or tabs allowed around a
 * field, LF or CRLF line ends. The first non-blank line is a header, and
 * skipped, when any of its fields is not a number. Blank lines and lines
 * starting with '#' are skipped. Every data row has the same number of
 * fields. Fields must be finite numbers that fit a float: "nan", "inf",
 * an empty field or a value beyond the float range is an error naming the
 * line and the field.
 *
 * The reader returns each row as soon as its line is complete, so it
 * processes a pipe row by row (`tail -f log.csv | rnnstream apply ...`).
 */
#ifndef RS_FRAME_READER_H
#define RS_FRAME_READER_H

#include <stdio.h>

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

/* Longest line accepted; longer ones are reported, not buffered without
 * bound. */
#define RS_FRAME_READER_MAX_LINE (1u << 20)

typedef struct RsFrameReader RsFrameReader;

/* A reader of file (borrowed: not closed; must outlive the reader).
 * display_name prefixes error messages ("in.csv:12: ..."). width is the
 * number of fields every row must have, or 0 to take it from the first
 * data row. */
RS_API RsFrameReader *rs_frame_reader_new (FILE *file, const char *display_name,
                                           guint width);
RS_API void rs_frame_reader_free (RsFrameReader *reader);

/* Reads the next data row. Returns 1 and points *frame at width floats
 * (owned by the reader, valid until the next call), 0 at the end of the
 * input, or -1 with error set (RS_ERROR_PARSE for malformed rows, naming
 * the line and field; RS_ERROR_IO for read errors). After an error the
 * reader stays usable: the next call reads the following line. */
RS_API int rs_frame_reader_next (RsFrameReader *reader, const float **frame,
                                 GError **error);

/* The row width (0 until known). */
RS_API guint rs_frame_reader_width (const RsFrameReader *reader);

/* The line number of the last line read (1-based). */
RS_API guint64 rs_frame_reader_line (const RsFrameReader *reader);

/* The skipped header line (without line end), or NULL when there was none
 * (or it has not been read yet). */
RS_API const char *rs_frame_reader_header (const RsFrameReader *reader);

/* Parses one line (len bytes, no line end) into at most max_fields floats.
 * Returns the number of fields, or -1 with error (RS_ERROR_PARSE; the
 * message starts with "field N"). A line with more than max_fields fields
 * is an error. Exposed for the reader's tests and fuzzer. */
RS_API int rs_csv_parse_numbers (const char *line, gsize len, float *out,
                                 guint max_fields, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsFrameReader, rs_frame_reader_free)

G_END_DECLS

#endif
