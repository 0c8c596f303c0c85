/* The safetensors reader.
 *
 * A file is read in four passes, and nothing large is allocated until the
 * last one, so a malformed file costs little more than reading its header:
 *
 *  1. The 8-byte header length is checked against the file size.
 *  2. The header text is checked to be UTF-8 and strict JSON (RFC 8259) by a
 *     small scanner of our own. json-glib 1.6 parses with a GScanner and so
 *     accepts comments, single-quoted strings, hexadecimal and leading-zero
 *     numbers and trailing garbage, silently turns integers beyond 64 bits
 *     into -1, truncates strings at a \u0000 escape, lets a repeated key
 *     replace the earlier one and recurses without limit. The scanner refuses
 *     all of these, so that every value json-glib hands us afterwards is
 *     exactly what the file says and two tensors can never share a name.
 *  3. json-glib builds the tree, and every entry is checked: dtype, shape,
 *     data_offsets, and that the tensors tile the data buffer exactly.
 *  4. Every tensor is converted to float32 in a buffer of its own.
 */
#include <rnnstream/safetensors.h>
#include <rnnstream/error.h>

#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Bytes taken by the little-endian header length at the start of a file. */
#define LENGTH_PREFIX 8

/* Alignment of every converted tensor, enough for any SIMD load. */
#define TENSOR_ALIGNMENT 64

/* Containers may nest this deep in the header. Real headers nest three deep
 * (object, entry, shape); the limit keeps the recursion of both our scanner
 * and json-glib bounded on hostile input. */
#define MAX_JSON_DEPTH 64

/* Names quoted in error messages are cut after this many bytes, so that a
 * pathological name cannot turn a one-line message into megabytes. */
#define MAX_QUOTED_BYTES 128

#define METADATA_KEY "__metadata__"

/* A tensor while it is read. pub comes first, so that a pointer to an entry
 * is what the public API hands out as a pointer to an RsTensor. */
typedef struct {
  RsTensor pub;
  char *name;
  float *buffer;
  guint64 begin;        /* data_offsets, relative to the data buffer */
  guint64 end;
} Entry;

struct RsSafetensors {
  Entry *entries;       /* n_entries, sorted by name once loaded */
  guint n_entries;
  guint capacity;       /* of entries */
  GHashTable *metadata; /* owned key -> owned value */
  const char **metadata_keys; /* sorted, NULL-terminated; strings in metadata */
  char *digest;
};

typedef struct {
  const char *name;
  gboolean supported;
  RsDtype dtype;        /* meaningful only when supported */
} DtypeInfo;

/* Every dtype the safetensors format defines. Those rnnstream cannot convert
 * are listed too, so that a user gets "not supported" rather than "unknown"
 * for a well-formed file of, say, integer tensors. */
static const DtypeInfo dtype_table[] = {
  { "F32", TRUE, RS_DTYPE_F32 },
  { "F16", TRUE, RS_DTYPE_F16 },
  { "BF16", TRUE, RS_DTYPE_BF16 },
  { "F64", TRUE, RS_DTYPE_F64 },
  { "BOOL", FALSE, RS_DTYPE_F32 },
  { "U8", FALSE, RS_DTYPE_F32 },
  { "I8", FALSE, RS_DTYPE_F32 },
  { "I16", FALSE, RS_DTYPE_F32 },
  { "U16", FALSE, RS_DTYPE_F32 },
  { "I32", FALSE, RS_DTYPE_F32 },
  { "U32", FALSE, RS_DTYPE_F32 },
  { "I64", FALSE, RS_DTYPE_F32 },
  { "U64", FALSE, RS_DTYPE_F32 },
  { "C64", FALSE, RS_DTYPE_F32 },
  { "F8_E4M3", FALSE, RS_DTYPE_F32 },
  { "F8_E5M2", FALSE, RS_DTYPE_F32 },
  { "F8_E8M0", FALSE, RS_DTYPE_F32 },
  { "F6_E2M3", FALSE, RS_DTYPE_F32 },
  { "F6_E3M2", FALSE, RS_DTYPE_F32 },
  { "F4", FALSE, RS_DTYPE_F32 },
};

const char *
rs_dtype_name (RsDtype dtype)
{
  switch (dtype)
    {
    case RS_DTYPE_F32:
      return "F32";
    case RS_DTYPE_F16:
      return "F16";
    case RS_DTYPE_BF16:
      return "BF16";
    case RS_DTYPE_F64:
      return "F64";
    default:
      g_return_val_if_reached (NULL);
    }
}

static guint
dtype_size (RsDtype dtype)
{
  switch (dtype)
    {
    case RS_DTYPE_F16:
    case RS_DTYPE_BF16:
      return 2;
    case RS_DTYPE_F64:
      return 8;
    case RS_DTYPE_F32:
    default:
      return 4;
    }
}

static const DtypeInfo *
find_dtype (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (dtype_table); i++)
    if (strcmp (dtype_table[i].name, name) == 0)
      return &dtype_table[i];
  return NULL;
}

/* Error reporting. */

/* Returns s (valid UTF-8) in double quotes, with quotes, backslashes and
 * control characters escaped as in JSON so that the message stays on one
 * line, and cut short after MAX_QUOTED_BYTES. */
static char *
quote (const char *s)
{
  GString *out = g_string_new ("\"");

  for (const char *p = s; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if ((gsize) (p - s) >= MAX_QUOTED_BYTES)
        {
          g_string_append (out, "...");
          break;
        }
      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", (char) c);
      else if (g_unichar_iscntrl (c) || c == 0x2028 || c == 0x2029)
        g_string_append_printf (out, "\\u%04x", (guint) c);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
    }
  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

static gboolean fail (GError **error, const char *display_name,
                      const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Sets error to "display_name: <formatted problem>" and returns FALSE. */
static gboolean
fail (GError **error, const char *display_name, const char *format, ...)
{
  va_list args;
  g_autofree char *problem = NULL;

  va_start (args, format);
  problem = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, RS_ERROR, RS_ERROR_MODEL_FORMAT, "%s: %s",
               display_name, problem);
  return FALSE;
}

static gboolean tensor_fail (GError **error, const char *display_name,
                             const char *tensor, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

/* As fail(), for a problem with one tensor: "display_name: tensor "t": ...". */
static gboolean
tensor_fail (GError **error, const char *display_name, const char *tensor,
             const char *format, ...)
{
  va_list args;
  g_autofree char *problem = NULL;
  g_autofree char *quoted = quote (tensor);

  va_start (args, format);
  problem = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, RS_ERROR, RS_ERROR_MODEL_FORMAT, "%s: tensor %s: %s",
               display_name, quoted, problem);
  return FALSE;
}

/* Pass 2: a strict JSON scanner.
 *
 * It only validates; json-glib builds the tree afterwards. Object keys are
 * decoded (escapes included) so that "a" and "\u0061" are recognised as the
 * same key. It runs on text already known to be valid UTF-8 without NUL
 * bytes. */

typedef struct {
  const char *text;
  gsize len;
  gsize pos;
  guint root_members;   /* keys of the root object */
  char *problem;        /* why the header was refused; set once */
} Scanner;

static gboolean scan_fail (Scanner *sc, const char *format, ...)
  G_GNUC_PRINTF (2, 3);

static gboolean
scan_fail (Scanner *sc, const char *format, ...)
{
  va_list args;

  if (sc->problem == NULL)
    {
      va_start (args, format);
      sc->problem = g_strdup_vprintf (format, args);
      va_end (args);
    }
  return FALSE;
}

static gboolean
syntax_error (Scanner *sc, const char *expected)
{
  guchar c;

  if (sc->pos >= sc->len)
    return scan_fail (sc, "header is not valid JSON: expected %s, but the "
                      "header ends", expected);
  c = (guchar) sc->text[sc->pos];
  if (g_ascii_isgraph (c))
    return scan_fail (sc, "header is not valid JSON: expected %s at byte %"
                      G_GSIZE_FORMAT " of the header, found '%c'",
                      expected, sc->pos, c);
  return scan_fail (sc, "header is not valid JSON: expected %s at byte %"
                    G_GSIZE_FORMAT " of the header, found byte 0x%02x",
                    expected, sc->pos, c);
}

/* The next byte, or 0 at the end of the header (the text has no NULs). */
static char
peek (const Scanner *sc)
{
  return sc->pos < sc->len ? sc->text[sc->pos] : '\0';
}

static void
skip_whitespace (Scanner *sc)
{
  while (sc->pos < sc->len && strchr (" \t\r\n", sc->text[sc->pos]) != NULL)
    sc->pos++;
}

static gboolean
scan_hex4 (Scanner *sc, gunichar *out)
{
  gunichar value = 0;

  if (sc->len - sc->pos < 4)
    return FALSE;
  for (int i = 0; i < 4; i++)
    {
      int digit = g_ascii_xdigit_value (sc->text[sc->pos + (gsize) i]);

      if (digit < 0)
        return FALSE;
      value = value * 16 + (gunichar) digit;
    }
  sc->pos += 4;
  *out = value;
  return TRUE;
}

static gboolean
unpaired_surrogate (Scanner *sc, gsize start)
{
  return scan_fail (sc, "header is not valid JSON: unpaired UTF-16 surrogate "
                    "in the \\u escape at byte %" G_GSIZE_FORMAT
                    " of the header", start);
}

/* A \uXXXX escape, or a surrogate pair of them; sc->pos is just past the
 * first "\u", and start is where it began. */
static gboolean
scan_unicode_escape (Scanner *sc, gsize start, GString *out)
{
  gunichar c;
  gunichar low;

  if (!scan_hex4 (sc, &c))
    return scan_fail (sc, "header is not valid JSON: malformed \\u escape at "
                      "byte %" G_GSIZE_FORMAT " of the header", start);
  if (c >= 0xdc00 && c <= 0xdfff)
    return unpaired_surrogate (sc, start);
  if (c >= 0xd800 && c <= 0xdbff)
    {
      if (sc->len - sc->pos < 2 || sc->text[sc->pos] != '\\'
          || sc->text[sc->pos + 1] != 'u')
        return unpaired_surrogate (sc, start);
      sc->pos += 2;
      if (!scan_hex4 (sc, &low) || low < 0xdc00 || low > 0xdfff)
        return unpaired_surrogate (sc, start);
      c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
    }

  /* json-glib would cut the string short at a NUL, and C strings cannot
   * hold one anyway, so a name like "a\u0000b" could pose as "a". */
  if (c == 0)
    return scan_fail (sc, "header has a \\u0000 escape at byte %"
                      G_GSIZE_FORMAT " of the header; NUL characters are "
                      "not supported", start);
  if (out != NULL)
    g_string_append_unichar (out, c);
  return TRUE;
}

/* One escape sequence; sc->pos is at the backslash. */
static gboolean
scan_escape (Scanner *sc, GString *out)
{
  static const char escapes[] = "\"\\/bfnrt";
  static const char meanings[] = "\"\\/\b\f\n\r\t";
  gsize start = sc->pos;
  const char *found;
  char e;

  if (sc->len - sc->pos < 2)
    return syntax_error (sc, "a closing '\"'");
  e = sc->text[sc->pos + 1];
  sc->pos += 2;
  if (e == 'u')
    return scan_unicode_escape (sc, start, out);
  found = e != '\0' ? strchr (escapes, e) : NULL;
  if (found == NULL)
    return scan_fail (sc, "header is not valid JSON: invalid escape at byte %"
                      G_GSIZE_FORMAT " of the header", start);
  if (out != NULL)
    g_string_append_c (out, meanings[found - escapes]);
  return TRUE;
}

/* A string; sc->pos is at its opening quote. Its decoded value is appended to
 * out unless out is NULL. */
static gboolean
scan_string (Scanner *sc, GString *out)
{
  gsize start = sc->pos;

  sc->pos++;
  for (;;)
    {
      guchar c;

      if (sc->pos >= sc->len)
        return scan_fail (sc, "header is not valid JSON: the string at byte %"
                          G_GSIZE_FORMAT " of the header is not closed",
                          start);
      c = (guchar) sc->text[sc->pos];
      if (c == '"')
        {
          sc->pos++;
          return TRUE;
        }
      if (c < 0x20)
        return scan_fail (sc, "header is not valid JSON: unescaped control "
                          "character 0x%02x at byte %" G_GSIZE_FORMAT
                          " of the header", c, sc->pos);
      if (c == '\\')
        {
          if (!scan_escape (sc, out))
            return FALSE;
          continue;
        }
      if (out != NULL)
        g_string_append_c (out, (char) c);
      sc->pos++;
    }
}

static gsize
skip_digits (Scanner *sc)
{
  gsize start = sc->pos;

  while (g_ascii_isdigit (peek (sc)))
    sc->pos++;
  return sc->pos - start;
}

/* A number. An integer (no fraction, no exponent) must fit in 64 bits, since
 * json-glib would silently replace a larger one with -1. */
static gboolean
scan_number (Scanner *sc)
{
  gsize start = sc->pos;
  gboolean negative = FALSE;
  gboolean integral = TRUE;
  gboolean overflow = FALSE;
  guint64 magnitude = 0;

  if (peek (sc) == '-')
    {
      negative = TRUE;
      sc->pos++;
    }
  if (peek (sc) == '0')
    sc->pos++;
  else if (g_ascii_isdigit (peek (sc)))
    {
      while (g_ascii_isdigit (peek (sc)))
        {
          guint digit = (guint) (peek (sc) - '0');

          if (magnitude > (G_MAXUINT64 - digit) / 10)
            overflow = TRUE;
          else
            magnitude = magnitude * 10 + digit;
          sc->pos++;
        }
    }
  else
    return syntax_error (sc, "a digit");

  if (peek (sc) == '.')
    {
      integral = FALSE;
      sc->pos++;
      if (skip_digits (sc) == 0)
        return syntax_error (sc, "a digit");
    }
  if (peek (sc) == 'e' || peek (sc) == 'E')
    {
      integral = FALSE;
      sc->pos++;
      if (peek (sc) == '+' || peek (sc) == '-')
        sc->pos++;
      if (skip_digits (sc) == 0)
        return syntax_error (sc, "a digit");
    }

  if (integral
      && (overflow || magnitude > (guint64) G_MAXINT64 + (negative ? 1 : 0)))
    return scan_fail (sc, "header has an integer outside the 64-bit range at "
                      "byte %" G_GSIZE_FORMAT " of the header", start);
  return TRUE;
}

static gboolean
scan_literal (Scanner *sc, const char *word)
{
  gsize n = strlen (word);

  if (sc->len - sc->pos < n || memcmp (sc->text + sc->pos, word, n) != 0)
    return syntax_error (sc, "a JSON value");
  sc->pos += n;
  return TRUE;
}

static gboolean scan_value (Scanner *sc, guint depth, const char *owner);

/* Reports key appearing twice in an object at the given depth; owner is the
 * root key (tensor name or __metadata__) the object lies under, if any. */
static gboolean
duplicate_key (Scanner *sc, guint depth, const char *owner, const char *key)
{
  g_autofree char *quoted_key = quote (key);
  g_autofree char *quoted_owner = owner != NULL ? quote (owner) : NULL;

  if (depth == 0 && strcmp (key, METADATA_KEY) == 0)
    return scan_fail (sc, "header has two " METADATA_KEY " entries");
  if (depth == 0)
    return scan_fail (sc, "duplicate tensor name %s", quoted_key);
  if (owner == NULL)
    return scan_fail (sc, "header has a duplicate key %s", quoted_key);
  if (strcmp (owner, METADATA_KEY) == 0)
    return scan_fail (sc, METADATA_KEY " has a duplicate key %s", quoted_key);
  return scan_fail (sc, "tensor %s: duplicate key %s", quoted_owner,
                    quoted_key);
}

/* An object; sc->pos is at its '{'. */
static gboolean
scan_object (Scanner *sc, guint depth, const char *owner)
{
  g_autoptr(GHashTable) keys = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                      g_free, NULL);

  sc->pos++;
  skip_whitespace (sc);
  if (peek (sc) == '}')
    {
      sc->pos++;
      return TRUE;
    }
  for (;;)
    {
      g_autoptr(GString) decoded = g_string_new (NULL);
      char *key;

      skip_whitespace (sc);
      if (peek (sc) != '"')
        return syntax_error (sc, "a string key");
      if (!scan_string (sc, decoded))
        return FALSE;
      if (g_hash_table_contains (keys, decoded->str))
        return duplicate_key (sc, depth, owner, decoded->str);
      key = g_string_free (g_steal_pointer (&decoded), FALSE);
      g_hash_table_add (keys, key);
      if (depth == 0)
        sc->root_members++;

      skip_whitespace (sc);
      if (peek (sc) != ':')
        return syntax_error (sc, "':'");
      sc->pos++;
      if (!scan_value (sc, depth + 1, depth == 0 ? key : owner))
        return FALSE;

      skip_whitespace (sc);
      if (peek (sc) == '}')
        {
          sc->pos++;
          return TRUE;
        }
      if (peek (sc) != ',')
        return syntax_error (sc, "',' or '}'");
      sc->pos++;
    }
}

/* An array; sc->pos is at its '['. */
static gboolean
scan_array (Scanner *sc, guint depth, const char *owner)
{
  sc->pos++;
  skip_whitespace (sc);
  if (peek (sc) == ']')
    {
      sc->pos++;
      return TRUE;
    }
  for (;;)
    {
      if (!scan_value (sc, depth + 1, owner))
        return FALSE;
      skip_whitespace (sc);
      if (peek (sc) == ']')
        {
          sc->pos++;
          return TRUE;
        }
      if (peek (sc) != ',')
        return syntax_error (sc, "',' or ']'");
      sc->pos++;
    }
}

/* Any value, nested inside depth containers. */
static gboolean
scan_value (Scanner *sc, guint depth, const char *owner)
{
  char c;

  skip_whitespace (sc);
  c = peek (sc);
  if ((c == '{' || c == '[') && depth >= MAX_JSON_DEPTH)
    return scan_fail (sc, "header nests deeper than %d levels",
                      MAX_JSON_DEPTH);
  switch (c)
    {
    case '{':
      return scan_object (sc, depth, owner);
    case '[':
      return scan_array (sc, depth, owner);
    case '"':
      return scan_string (sc, NULL);
    case 't':
      return scan_literal (sc, "true");
    case 'f':
      return scan_literal (sc, "false");
    case 'n':
      return scan_literal (sc, "null");
    default:
      if (c == '-' || g_ascii_isdigit (c))
        return scan_number (sc);
      return syntax_error (sc, "a JSON value");
    }
}

/* Checks that the header is valid UTF-8 and strict JSON whose root is an
 * object without duplicate keys anywhere. On success, *root_members is the
 * number of keys of the root object. */
static gboolean
check_header_text (const char *text, gsize len, const char *display_name,
                   guint *root_members, GError **error)
{
  Scanner sc = { text, len, 0, 0, NULL };
  const char *invalid = NULL;
  gboolean is_object;

  /* g_utf8_validate_len() also refuses NUL bytes, which the scanner relies
   * on. */
  if (!g_utf8_validate_len (text, len, &invalid))
    return fail (error, display_name, "header is not valid UTF-8 (at byte %"
                 G_GSIZE_FORMAT " of the header)", (gsize) (invalid - text));

  skip_whitespace (&sc);
  is_object = peek (&sc) == '{';
  if (scan_value (&sc, 0, NULL))
    {
      skip_whitespace (&sc);
      if (sc.pos < sc.len)
        syntax_error (&sc, "the end of the header");
      else if (!is_object)
        scan_fail (&sc, "header is not a JSON object");
    }
  if (sc.problem != NULL)
    {
      fail (error, display_name, "%s", sc.problem);
      g_free (sc.problem);
      return FALSE;
    }
  *root_members = sc.root_members;
  return TRUE;
}

/* Pass 3: the entries. */

static gboolean
holds_type (JsonNode *node, GType type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

/* A non-negative JSON integer. A number written with a fraction or an
 * exponent (2.0, 1e3) is refused: json-glib reads it as a double, and a
 * shape or offset written that way is a sign of a broken writer. */
static gboolean
get_count (JsonNode *node, guint64 *out)
{
  gint64 value;

  if (!holds_type (node, G_TYPE_INT64))
    return FALSE;
  value = json_node_get_int (node);
  if (value < 0)
    return FALSE;
  *out = (guint64) value;
  return TRUE;
}

/* "[2, 3]", for messages. */
static char *
format_shape (const RsTensor *t)
{
  GString *out = g_string_new ("[");

  for (guint i = 0; i < t->ndim; i++)
    g_string_append_printf (out, "%s%" G_GUINT64_FORMAT, i > 0 ? ", " : "",
                            t->shape[i]);
  g_string_append_c (out, ']');
  return g_string_free (out, FALSE);
}

static gboolean
read_dtype (JsonObject *obj, Entry *e, const char *display_name,
            GError **error)
{
  JsonNode *node = json_object_get_member (obj, "dtype");
  const DtypeInfo *info;

  if (node == NULL)
    return tensor_fail (error, display_name, e->name, "missing \"dtype\"");
  if (!holds_type (node, G_TYPE_STRING))
    return tensor_fail (error, display_name, e->name,
                        "\"dtype\" is not a string");
  info = find_dtype (json_node_get_string (node));
  if (info == NULL)
    {
      g_autofree char *quoted = quote (json_node_get_string (node));

      return tensor_fail (error, display_name, e->name, "unknown dtype %s",
                          quoted);
    }
  if (!info->supported)
    return tensor_fail (error, display_name, e->name,
                        "dtype %s is not supported; rnnstream reads F32, F16, "
                        "BF16 and F64", info->name);
  e->pub.file_dtype = info->dtype;
  return TRUE;
}

/* Reads the shape and computes n_elements. The product of the non-zero
 * dimensions must fit in 64 bits even when another dimension is 0, so that
 * code computing strides from the shape can never overflow. */
static gboolean
read_shape (JsonObject *obj, Entry *e, const char *display_name,
            GError **error)
{
  JsonNode *node = json_object_get_member (obj, "shape");
  JsonArray *array;
  guint ndim;
  guint64 product = 1;
  gboolean empty = FALSE;

  if (node == NULL)
    return tensor_fail (error, display_name, e->name, "missing \"shape\"");
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return tensor_fail (error, display_name, e->name,
                        "\"shape\" is not an array");
  array = json_node_get_array (node);
  ndim = json_array_get_length (array);
  if (ndim > RS_TENSOR_MAX_DIMS)
    return tensor_fail (error, display_name, e->name,
                        "shape has %u dimensions; rnnstream supports at most "
                        "%d", ndim, RS_TENSOR_MAX_DIMS);
  for (guint i = 0; i < ndim; i++)
    if (!get_count (json_array_get_element (array, i), &e->pub.shape[i]))
      return tensor_fail (error, display_name, e->name,
                          "shape[%u] is not a non-negative integer", i);
  e->pub.ndim = ndim;

  for (guint i = 0; i < ndim; i++)
    {
      if (e->pub.shape[i] == 0)
        empty = TRUE;
      else if (!g_uint64_checked_mul (&product, product, e->pub.shape[i]))
        {
          g_autofree char *shape = format_shape (&e->pub);

          return tensor_fail (error, display_name, e->name,
                              "shape %s is too large: its non-zero "
                              "dimensions multiply to more than 2^64", shape);
        }
    }
  e->pub.n_elements = empty ? 0 : product;
  return TRUE;
}

/* Reads data_offsets and checks them against the data buffer (buffer_len
 * bytes) and against the byte size the dtype and shape call for. */
static gboolean
read_offsets (JsonObject *obj, Entry *e, guint64 buffer_len,
              const char *display_name, GError **error)
{
  JsonNode *node = json_object_get_member (obj, "data_offsets");
  g_autofree char *shape = NULL;
  JsonArray *array;
  guint64 size;

  if (node == NULL)
    return tensor_fail (error, display_name, e->name,
                        "missing \"data_offsets\"");
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return tensor_fail (error, display_name, e->name,
                        "\"data_offsets\" is not an array");
  array = json_node_get_array (node);
  if (json_array_get_length (array) != 2)
    return tensor_fail (error, display_name, e->name,
                        "\"data_offsets\" has %u %s instead of 2 "
                        "(begin and end)", json_array_get_length (array),
                        json_array_get_length (array) == 1 ? "element"
                                                           : "elements");
  if (!get_count (json_array_get_element (array, 0), &e->begin)
      || !get_count (json_array_get_element (array, 1), &e->end))
    return tensor_fail (error, display_name, e->name,
                        "\"data_offsets\" are not two non-negative integers");
  if (e->begin > e->end)
    return tensor_fail (error, display_name, e->name,
                        "data_offsets [%" G_GUINT64_FORMAT ", %"
                        G_GUINT64_FORMAT "] begin after they end",
                        e->begin, e->end);
  if (e->end > buffer_len)
    return tensor_fail (error, display_name, e->name,
                        "data_offsets [%" G_GUINT64_FORMAT ", %"
                        G_GUINT64_FORMAT "] run past the end of the data "
                        "buffer (%" G_GUINT64_FORMAT " bytes)",
                        e->begin, e->end, buffer_len);

  shape = format_shape (&e->pub);
  if (!g_uint64_checked_mul (&size, e->pub.n_elements,
                             dtype_size (e->pub.file_dtype)))
    return tensor_fail (error, display_name, e->name,
                        "shape %s of %s takes more than 2^64 bytes", shape,
                        rs_dtype_name (e->pub.file_dtype));
  if (e->end - e->begin != size)
    return tensor_fail (error, display_name, e->name,
                        "data_offsets [%" G_GUINT64_FORMAT ", %"
                        G_GUINT64_FORMAT "] hold %" G_GUINT64_FORMAT
                        " bytes, but shape %s of %s takes %" G_GUINT64_FORMAT,
                        e->begin, e->end, e->end - e->begin, shape,
                        rs_dtype_name (e->pub.file_dtype), size);
  /* Only reachable where size_t is narrower than 64 bits. */
  if (e->pub.n_elements > G_MAXSIZE / sizeof (float))
    return tensor_fail (error, display_name, e->name,
                        "shape %s is too large to load on this system", shape);
  return TRUE;
}

static gboolean
read_entry (JsonNode *node, Entry *e, guint64 buffer_len,
            const char *display_name, GError **error)
{
  JsonObject *obj;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return tensor_fail (error, display_name, e->name,
                        "entry is not a JSON object");
  obj = json_node_get_object (node);
  return read_dtype (obj, e, display_name, error)
         && read_shape (obj, e, display_name, error)
         && read_offsets (obj, e, buffer_len, display_name, error);
}

static gboolean
read_metadata (JsonNode *node, RsSafetensors *st, const char *display_name,
               GError **error)
{
  g_autoptr(GList) keys = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, display_name, METADATA_KEY " is not a JSON object");
  keys = json_object_get_members (json_node_get_object (node));
  for (GList *l = keys; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *value = json_object_get_member (json_node_get_object (node),
                                                key);

      if (!holds_type (value, G_TYPE_STRING))
        {
          g_autofree char *quoted = quote (key);

          return fail (error, display_name, METADATA_KEY " value for %s is "
                       "not a string", quoted);
        }
      g_hash_table_insert (st->metadata, g_strdup (key),
                           g_strdup (json_node_get_string (value)));
    }
  return TRUE;
}

/* Appends a zeroed entry to st. The array grows as entries are read rather
 * than being sized from the header up front, so that a header of millions
 * of bogus members is refused at the first one without allocating an entry
 * for each. */
static Entry *
add_entry (RsSafetensors *st)
{
  Entry *e;

  if (st->n_entries == st->capacity)
    {
      st->capacity = MAX (16, 2 * st->capacity);
      st->entries = g_renew (Entry, st->entries, st->capacity);
    }
  e = &st->entries[st->n_entries++];
  memset (e, 0, sizeof *e);
  return e;
}

/* Reads every member of the root object into st. */
static gboolean
read_root (JsonObject *root, guint64 buffer_len, RsSafetensors *st,
           const char *display_name, GError **error)
{
  g_autoptr(GList) members = json_object_get_members (root);

  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (root, name);
      Entry *e;

      if (strcmp (name, METADATA_KEY) == 0)
        {
          if (!read_metadata (node, st, display_name, error))
            return FALSE;
          continue;
        }
      if (name[0] == '\0')
        return fail (error, display_name, "a tensor has an empty name");

      e = add_entry (st);
      e->name = g_strdup (name);
      e->pub.name = e->name;
      if (!read_entry (node, e, buffer_len, display_name, error))
        return FALSE;
    }
  return TRUE;
}

/* Orders by data_offsets, zero-sized tensors before the one that starts
 * where they sit, then by name so that messages do not depend on qsort. */
static int
compare_offsets (const void *a, const void *b)
{
  const Entry *x = *(const Entry *const *) a;
  const Entry *y = *(const Entry *const *) b;

  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return strcmp (x->name, y->name);
}

static gboolean
report_gap (guint64 from, guint64 to, const Entry *before, const Entry *after,
            const char *display_name, GError **error)
{
  g_autofree char *where = NULL;
  g_autofree char *q_before = before != NULL ? quote (before->name) : NULL;
  g_autofree char *q_after = after != NULL ? quote (after->name) : NULL;

  if (before != NULL && after != NULL)
    where = g_strdup_printf ("between tensors %s and %s", q_before, q_after);
  else if (after != NULL)
    where = g_strdup_printf ("before tensor %s", q_after);
  else if (before != NULL)
    where = g_strdup_printf ("after tensor %s, at the end of the buffer",
                             q_before);
  else
    where = g_strdup ("the header lists no tensors");
  return fail (error, display_name, "%" G_GUINT64_FORMAT " %s at offsets "
               "[%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT ") of the data "
               "buffer %s not covered by any tensor (%s)", to - from,
               to - from == 1 ? "byte" : "bytes", from, to,
               to - from == 1 ? "is" : "are", where);
}

/* Checks that the tensors tile the data buffer exactly: sorted by offset,
 * each must begin where the previous one ended, and the last must end at the
 * end of the buffer, as the reference implementation requires. */
static gboolean
check_coverage (const RsSafetensors *st, guint64 buffer_len,
                const char *display_name, GError **error)
{
  g_autofree Entry **order = g_new (Entry *, st->n_entries);
  const Entry *previous = NULL;
  guint64 covered = 0;

  for (guint i = 0; i < st->n_entries; i++)
    order[i] = &st->entries[i];
  if (st->n_entries > 1)
    qsort (order, st->n_entries, sizeof *order, compare_offsets);

  for (guint i = 0; i < st->n_entries; i++)
    {
      const Entry *e = order[i];

      if (e->begin < covered)
        {
          g_autofree char *q_previous = quote (previous->name);
          g_autofree char *q_this = quote (e->name);

          return fail (error, display_name, "tensors %s [%" G_GUINT64_FORMAT
                       ", %" G_GUINT64_FORMAT "] and %s [%" G_GUINT64_FORMAT
                       ", %" G_GUINT64_FORMAT "] overlap", q_previous,
                       previous->begin, previous->end, q_this, e->begin,
                       e->end);
        }
      if (e->begin > covered)
        return report_gap (covered, e->begin, previous, e, display_name,
                           error);
      covered = e->end;
      previous = e;
    }
  if (covered < buffer_len)
    return report_gap (covered, buffer_len, previous, NULL, display_name,
                       error);
  return TRUE;
}

/* Pass 4: conversion to float32. */

static float
bits_to_float (guint32 bits)
{
  float f;

  memcpy (&f, &bits, sizeof f);
  return f;
}

/* Exact: every F16 value, subnormals included, is a float32 value; infinities
 * stay infinite and NaNs keep their sign and payload. */
static float
f16_to_float (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000u) << 16;
  guint32 exponent = (h >> 10) & 0x1fu;
  guint32 mantissa = h & 0x3ffu;
  float magnitude;

  if (exponent == 0x1f)
    return bits_to_float (sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0)
    return bits_to_float (sign | ((exponent + 127 - 15) << 23)
                          | (mantissa << 13));
  /* A subnormal or zero is mantissa * 2^-24, which float32 holds exactly. */
  magnitude = (float) mantissa * 0x1p-24f;
  return sign != 0 ? -magnitude : magnitude;
}

static void
convert (Entry *e, const guint8 *src)
{
  gsize n = (gsize) e->pub.n_elements;
  float *dst;

  /* A zero-sized tensor still gets a buffer, so that data is never NULL. */
  dst = g_aligned_alloc (MAX (n, 1), sizeof (float), TENSOR_ALIGNMENT);
  switch (e->pub.file_dtype)
    {
    case RS_DTYPE_F32:
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
      memcpy (dst, src, n * sizeof (float));
#else
      for (gsize i = 0; i < n; i++)
        {
          guint32 bits;

          memcpy (&bits, src + 4 * i, 4);
          dst[i] = bits_to_float (GUINT32_FROM_LE (bits));
        }
#endif
      break;
    case RS_DTYPE_F16:
      for (gsize i = 0; i < n; i++)
        {
          guint16 bits;

          memcpy (&bits, src + 2 * i, 2);
          dst[i] = f16_to_float (GUINT16_FROM_LE (bits));
        }
      break;
    case RS_DTYPE_BF16:
      for (gsize i = 0; i < n; i++)
        {
          guint16 bits;

          memcpy (&bits, src + 2 * i, 2);
          dst[i] = bits_to_float ((guint32) GUINT16_FROM_LE (bits) << 16);
        }
      break;
    case RS_DTYPE_F64:
      for (gsize i = 0; i < n; i++)
        {
          guint64 bits;
          double d;

          memcpy (&bits, src + 8 * i, 8);
          bits = GUINT64_FROM_LE (bits);
          memcpy (&d, &bits, sizeof d);
          dst[i] = (float) d;
        }
      break;
    default:
      g_assert_not_reached ();
    }
  e->buffer = dst;
  e->pub.data = dst;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (((const Entry *) a)->name, ((const Entry *) b)->name);
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Converts every tensor, then sorts tensors and metadata keys. */
static void
finish (RsSafetensors *st, const guint8 *buffer)
{
  guint n_keys;

  for (guint i = 0; i < st->n_entries; i++)
    convert (&st->entries[i], buffer + st->entries[i].begin);
  if (st->n_entries > 1)
    qsort (st->entries, st->n_entries, sizeof *st->entries, compare_names);

  st->metadata_keys =
    (const char **) g_hash_table_get_keys_as_array (st->metadata, &n_keys);
  if (n_keys > 1)
    qsort (st->metadata_keys, n_keys, sizeof *st->metadata_keys,
           compare_strings);
}

/* Pass 1: finds the header and the data buffer. */
static gboolean
split_file (const guint8 *data, gsize len, const char *display_name,
            const char **header, gsize *header_len, GError **error)
{
  guint64 n;

  if (len < LENGTH_PREFIX)
    return fail (error, display_name, "file is %" G_GSIZE_FORMAT " %s long, "
                 "too short to hold the %d-byte header length", len,
                 len == 1 ? "byte" : "bytes", LENGTH_PREFIX);
  memcpy (&n, data, sizeof n);
  n = GUINT64_FROM_LE (n);
  if (n == 0)
    return fail (error, display_name, "header length is 0");
  if (n > RS_SAFETENSORS_MAX_HEADER)
    return fail (error, display_name, "header length %" G_GUINT64_FORMAT
                 " exceeds the limit of %u bytes", n,
                 RS_SAFETENSORS_MAX_HEADER);
  if (n > len - LENGTH_PREFIX)
    return fail (error, display_name, "header length %" G_GUINT64_FORMAT
                 " runs past the end of the file (%" G_GSIZE_FORMAT " bytes)",
                 n, len);
  *header = (const char *) data + LENGTH_PREFIX;
  *header_len = (gsize) n;
  return TRUE;
}

RsSafetensors *
rs_safetensors_parse (const guint8 *data, gsize len, const char *display_name,
                      GError **error)
{
  g_autoptr(RsSafetensors) st = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) json_error = NULL;
  const char *header = NULL;
  gsize header_len = 0;
  guint root_members = 0;
  JsonObject *root;
  gsize buffer_offset;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (display_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!split_file (data, len, display_name, &header, &header_len, error)
      || !check_header_text (header, header_len, display_name, &root_members,
                             error))
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, header, (gssize) header_len,
                                   &json_error))
    {
      fail (error, display_name, "header is not valid JSON: %s",
            json_error->message);
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));
  /* The scanner has refused duplicate keys; this guards against json-glib
   * decoding two keys the scanner told apart into one string. */
  if (json_object_get_size (root) != root_members)
    {
      fail (error, display_name, "header has duplicate tensor names");
      return NULL;
    }

  st = g_new0 (RsSafetensors, 1);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        g_free);
  buffer_offset = LENGTH_PREFIX + header_len;
  if (!read_root (root, len - buffer_offset, st, display_name, error)
      || !check_coverage (st, len - buffer_offset, display_name, error))
    return NULL;

  finish (st, data + buffer_offset);
  st->digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
  return g_steal_pointer (&st);
}

RsSafetensors *
rs_safetensors_load (const char *path, GError **error)
{
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *display_name = NULL;
  static const guint8 empty[1];
  const guint8 *contents;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  display_name = g_filename_display_name (path);
  /* GMappedFile would open a directory and then fail to map it with a
   * confusing message. */
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, RS_ERROR, RS_ERROR_IO, "%s: is a directory",
                   display_name);
      return NULL;
    }
  /* The file is mapped rather than read, since the tensors are copied out of
   * it anyway and model files can be large. */
  file = g_mapped_file_new (path, FALSE, &local_error);
  if (file == NULL)
    {
      g_set_error (error, RS_ERROR, RS_ERROR_IO, "%s: cannot read the file: %s",
                   display_name, local_error->message);
      return NULL;
    }
  /* An empty file maps to NULL contents. */
  contents = (const guint8 *) g_mapped_file_get_contents (file);
  return rs_safetensors_parse (contents != NULL ? contents : empty,
                               g_mapped_file_get_length (file), display_name,
                               error);
}

void
rs_safetensors_free (RsSafetensors *st)
{
  if (st == NULL)
    return;
  for (guint i = 0; i < st->n_entries; i++)
    {
      g_free (st->entries[i].name);
      g_aligned_free (st->entries[i].buffer);
    }
  g_free (st->entries);
  g_free (st->metadata_keys);
  g_clear_pointer (&st->metadata, g_hash_table_unref);
  g_free (st->digest);
  g_free (st);
}

guint
rs_safetensors_n_tensors (const RsSafetensors *st)
{
  g_return_val_if_fail (st != NULL, 0);
  return st->n_entries;
}

const RsTensor *
rs_safetensors_tensor (const RsSafetensors *st, guint index)
{
  g_return_val_if_fail (st != NULL, NULL);
  g_return_val_if_fail (index < st->n_entries, NULL);
  return &st->entries[index].pub;
}

static int
compare_name_to_entry (const void *name, const void *entry)
{
  return strcmp (name, ((const Entry *) entry)->name);
}

const RsTensor *
rs_safetensors_lookup (const RsSafetensors *st, const char *name)
{
  const Entry *found;

  g_return_val_if_fail (st != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  if (st->n_entries == 0)
    return NULL;
  found = bsearch (name, st->entries, st->n_entries, sizeof *st->entries,
                   compare_name_to_entry);
  return found != NULL ? &found->pub : NULL;
}

const char *
rs_safetensors_metadata (const RsSafetensors *st, const char *key)
{
  g_return_val_if_fail (st != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  return g_hash_table_lookup (st->metadata, key);
}

const char *const *
rs_safetensors_metadata_keys (const RsSafetensors *st)
{
  g_return_val_if_fail (st != NULL, NULL);
  return st->metadata_keys;
}

const char *
rs_safetensors_digest (const RsSafetensors *st)
{
  g_return_val_if_fail (st != NULL, NULL);
  return st->digest;
}
