/* Tests of the safetensors reader. Every file is assembled byte by byte here,
 * so that each test shows exactly what it feeds the reader. */
#include <rnnstream/safetensors.h>
#include <rnnstream/error.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define DISPLAY_NAME "test.safetensors"

/* Building files. */

static void
put_le (GByteArray *out, guint64 value, guint n_bytes)
{
  for (guint i = 0; i < n_bytes; i++)
    {
      guint8 byte = (guint8) (value >> (8 * i));

      g_byte_array_append (out, &byte, 1);
    }
}

static void
put_f32 (GByteArray *out, float value)
{
  guint32 bits;

  memcpy (&bits, &value, sizeof bits);
  put_le (out, bits, 4);
}

static void
put_f64 (GByteArray *out, double value)
{
  guint64 bits;

  memcpy (&bits, &value, sizeof bits);
  put_le (out, bits, 8);
}

/* The header text with every ' turned into ", so that the JSON in the tests
 * can be written without a backslash before every quote. */
static char *
json (const char *text)
{
  char *copy = g_strdup (text);

  g_strdelimit (copy, "'", '"');
  return copy;
}

/* A file whose 8-byte prefix says declared_len, followed by header_bytes
 * (taken verbatim) and buffer. */
static GBytes *
make_raw_file (guint64 declared_len, const void *header_bytes,
               gsize header_len, const guint8 *buffer, gsize buffer_len)
{
  GByteArray *out = g_byte_array_new ();

  put_le (out, declared_len, 8);
  g_byte_array_append (out, header_bytes, (guint) header_len);
  if (buffer_len > 0)
    g_byte_array_append (out, buffer, (guint) buffer_len);
  return g_byte_array_free_to_bytes (out);
}

/* A well-framed file: the JSON header (quotes written as ') and the data
 * buffer. */
static GBytes *
make_file (const char *header, const guint8 *buffer, gsize buffer_len)
{
  g_autofree char *text = json (header);

  return make_raw_file (strlen (text), text, strlen (text), buffer,
                        buffer_len);
}

/* As make_file(), with a data buffer of buffer_len zero bytes. */
static GBytes *
make_zero_file (const char *header, gsize buffer_len)
{
  g_autofree guint8 *zeros = g_malloc0 (MAX (buffer_len, 1));

  return make_file (header, zeros, buffer_len);
}

/* Parsing. */

static RsSafetensors *
parse_bytes (GBytes *file, GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (file, &len);

  return rs_safetensors_parse (data, len, DISPLAY_NAME, error);
}

static RsSafetensors *
parse_ok (GBytes *file)
{
  g_autoptr(GError) error = NULL;
  RsSafetensors *st = parse_bytes (file, &error);

  g_assert_no_error (error);
  g_assert_nonnull (st);
  return st;
}

/* Asserts that file is refused as malformed with a one-line message that
 * starts with the display name and contains needle (and needle2 if given). */
static void
assert_rejected (GBytes *file, const char *needle, const char *needle2)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RsSafetensors) st = parse_bytes (file, &error);

  g_assert_null (st);
  g_assert_error (error, RS_ERROR, RS_ERROR_MODEL_FORMAT);
  g_test_message ("message: %s", error->message);
  g_assert_true (g_str_has_prefix (error->message, DISPLAY_NAME ": "));
  g_assert_null (strchr (error->message, '\n'));
  g_assert_nonnull (strstr (error->message, needle));
  if (needle2 != NULL)
    g_assert_nonnull (strstr (error->message, needle2));
}

static void
assert_header_rejected (const char *header, gsize buffer_len,
                        const char *needle, const char *needle2)
{
  g_autoptr(GBytes) file = make_zero_file (header, buffer_len);

  assert_rejected (file, needle, needle2);
}

static const RsTensor *
lookup (const RsSafetensors *st, const char *name)
{
  const RsTensor *t = rs_safetensors_lookup (st, name);

  g_assert_nonnull (t);
  g_assert_cmpstr (t->name, ==, name);
  g_assert_cmpuint ((guintptr) t->data % 64, ==, 0);
  return t;
}

static guint32
float_bits (float f)
{
  guint32 bits;

  memcpy (&bits, &f, sizeof bits);
  return bits;
}

/* Valid files. */

static void
test_f32 (void)
{
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  g_autoptr(GBytes) file = NULL;
  g_autoptr(RsSafetensors) st = NULL;
  const RsTensor *w;
  const RsTensor *b;
  static const float values[] = { 1.5f, -2.0f, 0.25f, 3e38f };

  /* "b" comes first in the buffer and takes 2 bytes, so "w" starts at an
   * offset that is not a multiple of 4. */
  put_le (buf, 0x3c00, 2);
  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    put_f32 (buf, values[i]);
  file = make_file ("{'w': {'dtype': 'F32', 'shape': [2, 2], "
                    "'data_offsets': [2, 18]}, "
                    "'b': {'dtype': 'F16', 'shape': [1], "
                    "'data_offsets': [0, 2]}}", buf->data, buf->len);
  st = parse_ok (file);

  g_assert_cmpuint (rs_safetensors_n_tensors (st), ==, 2);
  g_assert_cmpstr (rs_safetensors_tensor (st, 0)->name, ==, "b");
  g_assert_cmpstr (rs_safetensors_tensor (st, 1)->name, ==, "w");

  w = lookup (st, "w");
  g_assert_true (w == rs_safetensors_tensor (st, 1));
  g_assert_cmpint (w->file_dtype, ==, RS_DTYPE_F32);
  g_assert_cmpuint (w->ndim, ==, 2);
  g_assert_cmpuint (w->shape[0], ==, 2);
  g_assert_cmpuint (w->shape[1], ==, 2);
  g_assert_cmpuint (w->n_elements, ==, 4);
  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    g_assert_cmpfloat (w->data[i], ==, values[i]);

  b = lookup (st, "b");
  g_assert_cmpint (b->file_dtype, ==, RS_DTYPE_F16);
  g_assert_cmpfloat (b->data[0], ==, 1.0f);
}

static void
test_f16 (void)
{
  static const struct {
    guint16 bits;
    float expected;
  } cases[] = {
    { 0x3c00, 1.0f },
    { 0xc000, -2.0f },
    { 0x3555, 0x1.554p-2f },
    { 0x0001, 0x1p-24f },         /* smallest subnormal */
    { 0x8001, -0x1p-24f },
    { 0x03ff, 0x1.ff8p-15f },     /* largest subnormal */
    { 0x0400, 0x1p-14f },         /* smallest normal */
    { 0x7bff, 65504.0f },         /* largest finite */
    { 0x0000, 0.0f },
  };
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  g_autoptr(GBytes) file = NULL;
  g_autoptr(RsSafetensors) st = NULL;
  g_autofree char *header = NULL;
  const RsTensor *t;
  gsize n = G_N_ELEMENTS (cases);

  for (gsize i = 0; i < n; i++)
    put_le (buf, cases[i].bits, 2);
  /* Then -0, +inf, -inf, a quiet NaN and a signalling NaN. */
  put_le (buf, 0x8000, 2);
  put_le (buf, 0x7c00, 2);
  put_le (buf, 0xfc00, 2);
  put_le (buf, 0x7e00, 2);
  put_le (buf, 0xfc01, 2);
  header = g_strdup_printf ("{'h': {'dtype': 'F16', 'shape': [%u], "
                            "'data_offsets': [0, %u]}}", buf->len / 2,
                            buf->len);
  file = make_file (header, buf->data, buf->len);
  st = parse_ok (file);

  t = lookup (st, "h");
  g_assert_cmpint (t->file_dtype, ==, RS_DTYPE_F16);
  g_assert_cmpuint (t->n_elements, ==, n + 5);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (t->data[i], ==, cases[i].expected);
  g_assert_cmphex (float_bits (t->data[n]), ==, 0x80000000u);
  g_assert_true (isinf (t->data[n + 1]) && t->data[n + 1] > 0);
  g_assert_true (isinf (t->data[n + 2]) && t->data[n + 2] < 0);
  g_assert_true (isnan (t->data[n + 3]));
  g_assert_cmphex (float_bits (t->data[n + 3]), ==, 0x7fc00000u);
  g_assert_true (isnan (t->data[n + 4]));
  g_assert_cmphex (float_bits (t->data[n + 4]), ==, 0xff802000u);
}

static void
test_bf16 (void)
{
  static const guint16 input[] = {
    0x3f80, 0xc040, 0x4049, 0x0001, 0x8000, 0x7f80, 0xff80, 0x7fc1,
  };
  static const guint32 expected_bits[] = {
    0x3f800000u, 0xc0400000u, 0x40490000u, 0x00010000u,
    0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc10000u,
  };
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  g_autoptr(GBytes) file = NULL;
  g_autoptr(RsSafetensors) st = NULL;
  const RsTensor *t;

  for (gsize i = 0; i < G_N_ELEMENTS (input); i++)
    put_le (buf, input[i], 2);
  file = make_file ("{'x': {'dtype': 'BF16', 'shape': [2, 4], "
                    "'data_offsets': [0, 16]}}", buf->data, buf->len);
  st = parse_ok (file);

  t = lookup (st, "x");
  g_assert_cmpint (t->file_dtype, ==, RS_DTYPE_BF16);
  g_assert_cmpuint (t->n_elements, ==, 8);
  for (gsize i = 0; i < G_N_ELEMENTS (input); i++)
    g_assert_cmphex (float_bits (t->data[i]), ==, expected_bits[i]);
  g_assert_cmpfloat (t->data[0], ==, 1.0f);
  g_assert_cmpfloat (t->data[1], ==, -3.0f);
  g_assert_cmpfloat (t->data[2], ==, 3.140625f);
  g_assert_cmpfloat (t->data[3], ==, 0x1p-133f);
}

static void
test_f64 (void)
{
  static const double input[] = {
    1.0, -0.1, 16777217.0, 1e-40, 1e-50, 1e300, -1e300,
  };
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  g_autoptr(GBytes) file = NULL;
  g_autoptr(RsSafetensors) st = NULL;
  const RsTensor *t;

  for (gsize i = 0; i < G_N_ELEMENTS (input); i++)
    put_f64 (buf, input[i]);
  put_f64 (buf, NAN);
  file = make_file ("{'d': {'dtype': 'F64', 'shape': [8], "
                    "'data_offsets': [0, 64]}}", buf->data, buf->len);
  st = parse_ok (file);

  t = lookup (st, "d");
  g_assert_cmpint (t->file_dtype, ==, RS_DTYPE_F64);
  g_assert_cmpfloat (t->data[0], ==, 1.0f);
  g_assert_cmpfloat (t->data[1], ==, (float) -0.1);
  g_assert_cmpfloat (t->data[2], ==, 16777216.0f);
  g_assert_cmpfloat (t->data[3], ==, (float) 1e-40);
  g_assert_cmpfloat (t->data[3], >, 0.0f);
  g_assert_cmpfloat (t->data[4], ==, 0.0f);
  g_assert_true (isinf (t->data[5]) && t->data[5] > 0);
  g_assert_true (isinf (t->data[6]) && t->data[6] < 0);
  g_assert_true (isnan (t->data[7]));
}

static void
test_scalar (void)
{
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  g_autoptr(GBytes) file = NULL;
  g_autoptr(RsSafetensors) st = NULL;
  const RsTensor *t;

  put_f32 (buf, 42.5f);
  file = make_file ("{'s': {'dtype': 'F32', 'shape': [], "
                    "'data_offsets': [0, 4]}}", buf->data, buf->len);
  st = parse_ok (file);

  t = lookup (st, "s");
  g_assert_cmpuint (t->ndim, ==, 0);
  g_assert_cmpuint (t->n_elements, ==, 1);
  g_assert_cmpfloat (t->data[0], ==, 42.5f);
}

static void
test_zero_sized (void)
{
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  g_autoptr(GBytes) file = NULL;
  g_autoptr(RsSafetensors) st = NULL;
  const RsTensor *t;

  put_f32 (buf, 7.0f);
  /* Empty tensors before, at the end of and after the one real tensor,
   * including one whose shape multiplies huge dimensions by zero. */
  file = make_file ("{'e0': {'dtype': 'F32', 'shape': [0], "
                    "'data_offsets': [0, 0]}, "
                    "'one': {'dtype': 'F32', 'shape': [1], "
                    "'data_offsets': [0, 4]}, "
                    "'e1': {'dtype': 'F16', 'shape': [3, 0], "
                    "'data_offsets': [4, 4]}, "
                    "'e2': {'dtype': 'F64', 'shape': [4294967296, 0, "
                    "4294967295], 'data_offsets': [4, 4]}}",
                    buf->data, buf->len);
  st = parse_ok (file);

  g_assert_cmpuint (rs_safetensors_n_tensors (st), ==, 4);
  t = lookup (st, "e0");
  g_assert_cmpuint (t->ndim, ==, 1);
  g_assert_cmpuint (t->shape[0], ==, 0);
  g_assert_cmpuint (t->n_elements, ==, 0);
  t = lookup (st, "e1");
  g_assert_cmpuint (t->ndim, ==, 2);
  g_assert_cmpuint (t->n_elements, ==, 0);
  t = lookup (st, "e2");
  g_assert_cmpuint (t->shape[2], ==, 4294967295u);
  g_assert_cmpuint (t->n_elements, ==, 0);
  g_assert_cmpfloat (lookup (st, "one")->data[0], ==, 7.0f);
}

static void
test_no_tensors (void)
{
  g_autoptr(GBytes) file = make_zero_file ("{}", 0);
  g_autoptr(RsSafetensors) st = parse_ok (file);

  g_assert_cmpuint (rs_safetensors_n_tensors (st), ==, 0);
  g_assert_null (rs_safetensors_lookup (st, "w"));
  g_assert_nonnull (rs_safetensors_metadata_keys (st));
  g_assert_null (rs_safetensors_metadata_keys (st)[0]);
}

static void
test_lookup (void)
{
  g_autoptr(GBytes) file = NULL;
  g_autoptr(RsSafetensors) st = NULL;
  static const char *const sorted[] = {
    "A", "a", "a.b", "a\xc3\xa4", "lstm.weight_hh_l0", "z",
    "\xf0\x9f\x98\x80",
  };

  /* "\u00e4" and the surrogate pair are written as escapes and must decode to
   * UTF-8. */
  file = make_zero_file ("{'z': {'dtype': 'F32', 'shape': [1], "
                         "'data_offsets': [0, 4]}, "
                         "'a': {'dtype': 'F32', 'shape': [1], "
                         "'data_offsets': [4, 8]}, "
                         "'lstm.weight_hh_l0': {'dtype': 'F32', 'shape': [1], "
                         "'data_offsets': [8, 12]}, "
                         "'a\\u00e4': {'dtype': 'F32', 'shape': [1], "
                         "'data_offsets': [12, 16]}, "
                         "'A': {'dtype': 'F32', 'shape': [1], "
                         "'data_offsets': [16, 20]}, "
                         "'a.b': {'dtype': 'F32', 'shape': [1], "
                         "'data_offsets': [20, 24]}, "
                         "'\\ud83d\\ude00': {'dtype': 'F32', 'shape': [1], "
                         "'data_offsets': [24, 28]}}", 28);
  st = parse_ok (file);

  g_assert_cmpuint (rs_safetensors_n_tensors (st), ==, G_N_ELEMENTS (sorted));
  for (guint i = 0; i < G_N_ELEMENTS (sorted); i++)
    {
      g_assert_cmpstr (rs_safetensors_tensor (st, i)->name, ==, sorted[i]);
      g_assert_true (lookup (st, sorted[i]) == rs_safetensors_tensor (st, i));
    }
  g_assert_null (rs_safetensors_lookup (st, ""));
  g_assert_null (rs_safetensors_lookup (st, "b"));
  g_assert_null (rs_safetensors_lookup (st, "zz"));
  g_assert_null (rs_safetensors_lookup (st, "__metadata__"));
}

static void
test_metadata (void)
{
  g_autoptr(GBytes) file = NULL;
  g_autoptr(RsSafetensors) st = NULL;
  const char *const *keys;

  file = make_zero_file ("{'__metadata__': {'format': 'pt', 'b': 'x y', "
                         "'empty': '', 'esc': 'tab\\there'}, "
                         "'w': {'dtype': 'F32', 'shape': [1], "
                         "'data_offsets': [0, 4]}}", 4);
  st = parse_ok (file);

  g_assert_cmpuint (rs_safetensors_n_tensors (st), ==, 1);
  keys = rs_safetensors_metadata_keys (st);
  g_assert_nonnull (keys);
  g_assert_cmpstr (keys[0], ==, "b");
  g_assert_cmpstr (keys[1], ==, "empty");
  g_assert_cmpstr (keys[2], ==, "esc");
  g_assert_cmpstr (keys[3], ==, "format");
  g_assert_null (keys[4]);
  g_assert_cmpstr (rs_safetensors_metadata (st, "format"), ==, "pt");
  g_assert_cmpstr (rs_safetensors_metadata (st, "b"), ==, "x y");
  g_assert_cmpstr (rs_safetensors_metadata (st, "empty"), ==, "");
  g_assert_cmpstr (rs_safetensors_metadata (st, "esc"), ==, "tab\there");
  g_assert_null (rs_safetensors_metadata (st, "missing"));
  g_assert_null (rs_safetensors_metadata (st, "w"));
}

static void
test_no_metadata (void)
{
  g_autoptr(GBytes) file = make_zero_file ("{'w': {'dtype': 'F32', "
                                           "'shape': [1], "
                                           "'data_offsets': [0, 4]}}", 4);
  g_autoptr(RsSafetensors) st = parse_ok (file);

  g_assert_null (rs_safetensors_metadata_keys (st)[0]);
  g_assert_null (rs_safetensors_metadata (st, "format"));
}

/* Writers pad the header with spaces so that the data buffer is aligned;
 * the padding is part of the declared header length. */
static void
test_padding (void)
{
  g_autofree char *text = json ("{'w': {'dtype': 'F32', 'shape': [1], "
                                "'data_offsets': [0, 4]}}");
  g_autofree char *padded = g_strdup_printf ("%s%*s", text,
                                             (int) (64 - strlen (text)), "");
  guint8 buffer[4] = { 0, 0, 0x80, 0x3f };
  g_autoptr(GBytes) file = make_raw_file (64, padded, 64, buffer, 4);
  g_autoptr(RsSafetensors) st = parse_ok (file);

  g_assert_cmpuint (strlen (padded), ==, 64);
  g_assert_cmpfloat (lookup (st, "w")->data[0], ==, 1.0f);
}

/* JSON allows whitespace anywhere between tokens. */
static void
test_whitespace (void)
{
  g_autoptr(GBytes) file = make_zero_file ("\n\t {\r\n 'w' : { 'dtype' :"
                                           "'F32','shape':[ 1 ] ,"
                                           "'data_offsets':[0,4]} }\n", 4);
  g_autoptr(RsSafetensors) st = parse_ok (file);

  g_assert_cmpuint (rs_safetensors_n_tensors (st), ==, 1);
}

/* Keys other than dtype, shape and data_offsets are ignored, as by the
 * reference implementation. */
static void
test_extra_keys (void)
{
  g_autoptr(GBytes) file = make_zero_file ("{'w': {'dtype': 'F32', "
                                           "'shape': [1], 'extra': "
                                           "[1.5, -2.5E-3, 1e+5, true, "
                                           "false, {'k': null}], "
                                           "'data_offsets': [0, 4]}}", 4);
  g_autoptr(RsSafetensors) st = parse_ok (file);

  g_assert_cmpuint (rs_safetensors_n_tensors (st), ==, 1);
}

static void
test_max_dims (void)
{
  g_autoptr(GBytes) file = make_zero_file ("{'w': {'dtype': 'F32', "
                                           "'shape': [1, 1, 2, 1, 1, 1, 1, 3],"
                                           " 'data_offsets': [0, 24]}}", 24);
  g_autoptr(RsSafetensors) st = parse_ok (file);
  const RsTensor *t = lookup (st, "w");

  g_assert_cmpuint (t->ndim, ==, RS_TENSOR_MAX_DIMS);
  g_assert_cmpuint (t->shape[7], ==, 3);
  g_assert_cmpuint (t->n_elements, ==, 6);
}

static void
test_digest (void)
{
  g_autoptr(GBytes) file = make_zero_file ("{'w': {'dtype': 'F32', "
                                           "'shape': [2], "
                                           "'data_offsets': [0, 8]}}", 8);
  g_autoptr(RsSafetensors) first = parse_ok (file);
  g_autoptr(RsSafetensors) second = parse_ok (file);
  g_autoptr(GByteArray) changed = g_byte_array_new ();
  g_autoptr(GBytes) changed_file = NULL;
  g_autoptr(RsSafetensors) third = NULL;
  g_autofree char *expected = NULL;
  const char *digest = rs_safetensors_digest (first);

  expected = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, file);
  g_assert_cmpstr (digest, ==, expected);
  g_assert_cmpuint (strlen (digest), ==, 64);
  g_assert_cmpstr (rs_safetensors_digest (second), ==, digest);

  /* One bit of one weight changes the digest. */
  g_byte_array_append (changed, g_bytes_get_data (file, NULL),
                       (guint) g_bytes_get_size (file));
  changed->data[changed->len - 1] ^= 1;
  changed_file = g_bytes_new (changed->data, changed->len);
  third = parse_ok (changed_file);
  g_assert_cmpstr (rs_safetensors_digest (third), !=, digest);
}

static void
test_dtype_name (void)
{
  g_assert_cmpstr (rs_dtype_name (RS_DTYPE_F32), ==, "F32");
  g_assert_cmpstr (rs_dtype_name (RS_DTYPE_F16), ==, "F16");
  g_assert_cmpstr (rs_dtype_name (RS_DTYPE_BF16), ==, "BF16");
  g_assert_cmpstr (rs_dtype_name (RS_DTYPE_F64), ==, "F64");
}

/* Malformed framing. */

static void
test_reject_short (void)
{
  static const guint8 bytes[8] = { 2, 0, 0, 0, 0, 0, 0, 0 };

  for (gsize len = 0; len < 8; len++)
    {
      g_autoptr(GBytes) file = g_bytes_new (bytes, len);
      g_autofree char *needle = g_strdup_printf ("file is %" G_GSIZE_FORMAT
                                                 " %s long", len,
                                                 len == 1 ? "byte" : "bytes");

      assert_rejected (file, needle, "too short to hold the 8-byte header "
                       "length");
    }
}

static void
test_reject_header_length (void)
{
  g_autofree guint8 *filler = g_malloc0 (792);
  g_autoptr(GBytes) zero = make_raw_file (0, "{}", 2, NULL, 0);
  g_autoptr(GBytes) huge = make_raw_file (RS_SAFETENSORS_MAX_HEADER + 1u,
                                          "{}", 2, NULL, 0);
  g_autoptr(GBytes) past_end = make_raw_file (12345, filler, 792, NULL, 0);
  g_autoptr(GBytes) one_past = make_raw_file (3, "{}", 2, NULL, 0);
  g_autoptr(GBytes) wrapping = make_raw_file (G_MAXUINT64, "{}", 2, NULL, 0);

  assert_rejected (zero, "header length is 0", NULL);
  assert_rejected (huge, "header length 104857601 exceeds the limit", NULL);
  g_assert_cmpuint (g_bytes_get_size (past_end), ==, 800);
  assert_rejected (past_end, "header length 12345 runs past the end of the "
                   "file (800 bytes)", NULL);
  assert_rejected (one_past, "header length 3 runs past the end", NULL);
  assert_rejected (wrapping, "header length 18446744073709551615", NULL);
}

static void
test_reject_utf8 (void)
{
  static const char bad[] = "{\"w\xff\": 1}";
  static const char nul[] = "{\"w\": \"a\0b\"}";
  g_autoptr(GBytes) file = make_raw_file (sizeof bad - 1, bad, sizeof bad - 1,
                                          NULL, 0);
  g_autoptr(GBytes) nul_file = make_raw_file (sizeof nul - 1, nul,
                                              sizeof nul - 1, NULL, 0);

  assert_rejected (file, "header is not valid UTF-8 (at byte 3", NULL);
  assert_rejected (nul_file, "header is not valid UTF-8", NULL);
}

/* Rejections driven by the header alone. */

typedef struct {
  const char *path;
  const char *header;           /* ' stands for " */
  gsize buffer_len;             /* zero bytes after the header */
  const char *needle;
  const char *needle2;
} RejectCase;

#define W_OK "'w': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}"

static const RejectCase reject_cases[] = {
  /* Not JSON, or JSON only by json-glib's lenient reading. */
  { "json/truncated", "{'w': ", 0, "header is not valid JSON", NULL },
  { "json/comment", "{/* c */}", 0, "header is not valid JSON", NULL },
  { "json/trailing-comma", "{" W_OK ",}", 4, "header is not valid JSON",
    NULL },
  { "json/two-values", "{} {}", 0, "header is not valid JSON",
    "expected the end of the header" },
  { "json/trailing-garbage", "{" W_OK "}x", 4, "header is not valid JSON",
    NULL },
  { "json/hex", "{'w': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [0, 0x4]}}", 4, "header is not valid JSON", NULL },
  { "json/leading-zero", "{'w': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [0, 04]}}", 4, "header is not valid JSON", NULL },
  { "json/plus", "{'a': +1}", 0, "header is not valid JSON", NULL },
  { "json/bare-key", "{w: 1}", 0, "header is not valid JSON", NULL },
  { "json/nan", "{'a': NaN}", 0, "header is not valid JSON", NULL },
  { "json/bad-escape", "{'a\\x41': 1}", 0, "invalid escape", NULL },
  { "json/lone-surrogate", "{'\\ud800': 1}", 0, "unpaired UTF-16 surrogate",
    NULL },
  { "json/lone-low-surrogate", "{'\\udc00x': 1}", 0,
    "unpaired UTF-16 surrogate", NULL },
  { "json/short-u-escape", "{'\\u12': 1}", 0, "malformed \\u escape", NULL },
  { "json/control-char", "{'a\tb': 1}", 0, "unescaped control character",
    NULL },
  { "json/unclosed-string", "{'abc", 0, "is not closed", NULL },
  { "json/backslash-at-end", "{'a\\", 0, "expected a closing '\"'", NULL },
  { "json/bad-low-surrogate", "{'\\ud800\\u0041': 1}", 0,
    "unpaired UTF-16 surrogate", NULL },
  { "json/control-byte", "{\x01}", 0, "found byte 0x01", NULL },
  { "json/missing-comma", "{'a': 1 'b': 2}", 0, "expected ',' or '}'", NULL },
  { "json/empty", " ", 0, "header is not valid JSON", NULL },
  { "json/bad-literal", "{'a': tru}", 0, "header is not valid JSON", NULL },
  { "json/missing-colon", "{'a' 1}", 0, "expected ':'", NULL },
  { "json/bad-array", "{'a': [1 2]}", 0, "expected ',' or ']'", NULL },
  { "json/fraction", "{'a': 1.}", 0, "expected a digit", NULL },
  { "json/exponent", "{'a': 1e}", 0, "expected a digit", NULL },
  { "json/minus", "{'a': -}", 0, "expected a digit", NULL },
  { "json/deep", "{'a': [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
    "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
    "]]]]]]]]]]]]]]]]]]}", 0, "nests deeper than 64 levels", NULL },
  { "json/nul-escape", "{'a\\u0000b': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [0, 4]}}", 4, "\\u0000 escape", NULL },
  { "json/huge-integer", "{'w': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [0, 18446744073709551620]}}", 4,
    "integer outside the 64-bit range", NULL },
  { "json/huge-negative", "{'a': -9223372036854775809}", 0,
    "integer outside the 64-bit range", NULL },

  /* Valid JSON of the wrong shape. */
  { "not-object/array", "[1, 2]", 0, "header is not a JSON object", NULL },
  { "not-object/string", "'w'", 0, "header is not a JSON object", NULL },
  { "not-object/null", "null", 0, "header is not a JSON object", NULL },
  { "entry/number", "{'w': 3}", 0, "tensor \"w\": entry is not a JSON object",
    NULL },
  { "entry/array", "{'w': [1]}", 0, "tensor \"w\": entry is not a JSON object",
    NULL },
  { "entry/empty-name", "{'': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [0, 4]}}", 4, "a tensor has an empty name", NULL },

  /* dtype. */
  { "dtype/missing", "{'w': {'shape': [1], 'data_offsets': [0, 4]}}", 4,
    "tensor \"w\": missing \"dtype\"", NULL },
  { "dtype/number", "{'w': {'dtype': 32, 'shape': [1], "
    "'data_offsets': [0, 4]}}", 4, "tensor \"w\": \"dtype\" is not a string",
    NULL },
  { "dtype/null", "{'w': {'dtype': null, 'shape': [1], "
    "'data_offsets': [0, 4]}}", 4, "tensor \"w\": \"dtype\" is not a string",
    NULL },
  { "dtype/unknown", "{'w': {'dtype': 'F33', 'shape': [1], "
    "'data_offsets': [0, 4]}}", 4, "tensor \"w\": unknown dtype \"F33\"",
    NULL },
  { "dtype/lowercase", "{'w': {'dtype': 'f32', 'shape': [1], "
    "'data_offsets': [0, 4]}}", 4, "unknown dtype \"f32\"", NULL },

  /* shape. */
  { "shape/missing", "{'w': {'dtype': 'F32', 'data_offsets': [0, 4]}}", 4,
    "tensor \"w\": missing \"shape\"", NULL },
  { "shape/string", "{'w': {'dtype': 'F32', 'shape': '1', "
    "'data_offsets': [0, 4]}}", 4, "tensor \"w\": \"shape\" is not an array",
    NULL },
  { "shape/object", "{'w': {'dtype': 'F32', 'shape': {}, "
    "'data_offsets': [0, 4]}}", 4, "tensor \"w\": \"shape\" is not an array",
    NULL },
  { "shape/negative", "{'w': {'dtype': 'F32', 'shape': [2, -1], "
    "'data_offsets': [0, 4]}}", 4,
    "tensor \"w\": shape[1] is not a non-negative integer", NULL },
  { "shape/fraction", "{'w': {'dtype': 'F32', 'shape': [2.5], "
    "'data_offsets': [0, 4]}}", 4,
    "tensor \"w\": shape[0] is not a non-negative integer", NULL },
  { "shape/whole-double", "{'w': {'dtype': 'F32', 'shape': [1.0], "
    "'data_offsets': [0, 4]}}", 4, "shape[0] is not a non-negative integer",
    NULL },
  { "shape/exponent", "{'w': {'dtype': 'F32', 'shape': [1e3], "
    "'data_offsets': [0, 4000]}}", 4000,
    "shape[0] is not a non-negative integer", NULL },
  { "shape/string-dim", "{'w': {'dtype': 'F32', 'shape': ['1'], "
    "'data_offsets': [0, 4]}}", 4, "shape[0] is not a non-negative integer",
    NULL },
  { "shape/bool-dim", "{'w': {'dtype': 'F32', 'shape': [true], "
    "'data_offsets': [0, 4]}}", 4, "shape[0] is not a non-negative integer",
    NULL },
  { "shape/nested", "{'w': {'dtype': 'F32', 'shape': [[1]], "
    "'data_offsets': [0, 4]}}", 4, "shape[0] is not a non-negative integer",
    NULL },
  { "shape/too-many-dims", "{'w': {'dtype': 'F32', "
    "'shape': [1, 1, 1, 1, 1, 1, 1, 1, 1], 'data_offsets': [0, 4]}}", 4,
    "tensor \"w\": shape has 9 dimensions; rnnstream supports at most 8",
    NULL },
  { "shape/element-overflow", "{'w': {'dtype': 'F32', "
    "'shape': [4294967296, 4294967296], 'data_offsets': [0, 4]}}", 4,
    "tensor \"w\": shape [4294967296, 4294967296] is too large", NULL },
  { "shape/element-overflow-then-zero", "{'w': {'dtype': 'F32', "
    "'shape': [4294967296, 4294967296, 0], 'data_offsets': [0, 0]}}", 0,
    "is too large", NULL },
  { "shape/byte-overflow", "{'w': {'dtype': 'F32', "
    "'shape': [4294967296, 4294967295], 'data_offsets': [0, 4]}}", 4,
    "tensor \"w\": shape [4294967296, 4294967295] of F32 takes more than "
    "2^64 bytes", NULL },
  { "shape/byte-overflow-f64", "{'w': {'dtype': 'F64', "
    "'shape': [2305843009213693952], 'data_offsets': [0, 8]}}", 8,
    "of F64 takes more than 2^64 bytes", NULL },

  /* data_offsets. */
  { "offsets/missing", "{'w': {'dtype': 'F32', 'shape': [1]}}", 4,
    "tensor \"w\": missing \"data_offsets\"", NULL },
  { "offsets/object", "{'w': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': {'begin': 0}}}", 4,
    "tensor \"w\": \"data_offsets\" is not an array", NULL },
  { "offsets/one", "{'w': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [4]}}", 4,
    "tensor \"w\": \"data_offsets\" has 1 element instead of 2", NULL },
  { "offsets/three", "{'w': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [0, 4, 8]}}", 4, "has 3 elements instead of 2", NULL },
  { "offsets/negative", "{'w': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [-4, 0]}}", 4,
    "tensor \"w\": \"data_offsets\" are not two non-negative integers", NULL },
  { "offsets/double", "{'w': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [0, 4.0]}}", 4, "are not two non-negative integers",
    NULL },
  { "offsets/string", "{'w': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': ['0', '4']}}", 4, "are not two non-negative integers",
    NULL },
  { "offsets/reversed", "{'w': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [4, 0]}}", 4,
    "tensor \"w\": data_offsets [4, 0] begin after they end", NULL },
  { "offsets/past-buffer", "{'w': {'dtype': 'F32', 'shape': [250], "
    "'data_offsets': [0, 1000]}}", 800,
    "tensor \"w\": data_offsets [0, 1000] run past the end of the data "
    "buffer (800 bytes)", NULL },
  { "offsets/max", "{'w': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [9223372036854775803, 9223372036854775807]}}", 4,
    "run past the end of the data buffer (4 bytes)", NULL },
  { "offsets/size-mismatch", "{'w': {'dtype': 'F32', 'shape': [2, 2], "
    "'data_offsets': [0, 12]}}", 12,
    "tensor \"w\": data_offsets [0, 12] hold 12 bytes, but shape [2, 2] of "
    "F32 takes 16", NULL },
  { "offsets/size-mismatch-f16", "{'w': {'dtype': 'F16', 'shape': [3], "
    "'data_offsets': [0, 12]}}", 12, "shape [3] of F16 takes 6", NULL },
  { "offsets/scalar-empty", "{'w': {'dtype': 'F32', 'shape': [], "
    "'data_offsets': [0, 0]}}", 0, "shape [] of F32 takes 4", NULL },

  /* Coverage of the data buffer. */
  { "cover/overlap", "{'a': {'dtype': 'F32', 'shape': [2], "
    "'data_offsets': [0, 8]}, 'b': {'dtype': 'F32', 'shape': [2], "
    "'data_offsets': [4, 12]}}", 12,
    "tensors \"a\" [0, 8] and \"b\" [4, 12] overlap", NULL },
  { "cover/same-range", "{'b': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [0, 4]}, 'a': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [0, 4]}}", 4,
    "tensors \"a\" [0, 4] and \"b\" [0, 4] overlap", NULL },
  { "cover/empty-inside", "{'a': {'dtype': 'F32', 'shape': [2], "
    "'data_offsets': [0, 8]}, 'e': {'dtype': 'F32', 'shape': [0], "
    "'data_offsets': [4, 4]}}", 8, "tensors \"a\" [0, 8] and \"e\" [4, 4] "
    "overlap", NULL },
  { "cover/hole", "{'a': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [0, 4]}, 'b': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [12, 16]}}", 16,
    "8 bytes at offsets [4, 12) of the data buffer are not covered by any "
    "tensor (between tensors \"a\" and \"b\")", NULL },
  { "cover/leading-hole", "{'b': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [4, 8]}}", 8,
    "4 bytes at offsets [0, 4) of the data buffer are not covered by any "
    "tensor (before tensor \"b\")", NULL },
  { "cover/trailing", "{" W_OK "}", 6,
    "2 bytes at offsets [4, 6) of the data buffer are not covered by any "
    "tensor (after tensor \"w\", at the end of the buffer)", NULL },
  { "cover/no-tensors", "{}", 3,
    "3 bytes at offsets [0, 3) of the data buffer are not covered by any "
    "tensor (the header lists no tensors)", NULL },
  { "cover/metadata-only", "{'__metadata__': {}}", 1,
    "1 byte at offsets [0, 1) of the data buffer is not covered",
    "the header lists no tensors" },

  /* Duplicate keys, which json-glib would silently merge. */
  { "duplicate/tensor", "{" W_OK ", " W_OK "}", 4,
    "duplicate tensor name \"w\"", NULL },
  { "duplicate/escaped", "{'w': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [0, 4]}, '\\u0077': {'dtype': 'F32', 'shape': [1], "
    "'data_offsets': [4, 8]}}", 8, "duplicate tensor name \"w\"", NULL },
  { "duplicate/field", "{'w': {'dtype': 'F32', 'dtype': 'F16', "
    "'shape': [1], 'data_offsets': [0, 4]}}", 4,
    "tensor \"w\": duplicate key \"dtype\"", NULL },
  { "duplicate/metadata-key", "{'__metadata__': {'k': 'a', 'k': 'b'}}", 0,
    "__metadata__ has a duplicate key \"k\"", NULL },
  { "duplicate/metadata", "{'__metadata__': {}, '__metadata__': {}}", 0,
    "header has two __metadata__ entries", NULL },
  { "duplicate/in-array", "[{'a': 1, 'a': 2}]", 0,
    "header has a duplicate key \"a\"", NULL },

  /* __metadata__. */
  { "metadata/array", "{'__metadata__': ['a']}", 0,
    "__metadata__ is not a JSON object", NULL },
  { "metadata/string", "{'__metadata__': 'a'}", 0,
    "__metadata__ is not a JSON object", NULL },
  { "metadata/number", "{'__metadata__': {'epoch': 3}}", 0,
    "__metadata__ value for \"epoch\" is not a string", NULL },
  { "metadata/null", "{'__metadata__': {'a': null}}", 0,
    "__metadata__ value for \"a\" is not a string", NULL },
  { "metadata/object", "{'__metadata__': {'a': {'b': 'c'}}}", 0,
    "__metadata__ value for \"a\" is not a string", NULL },

  /* Names are quoted and escaped in messages, so they stay on one line. */
  { "message/escaped-name", "{'line\\nbreak \\'q\\'': 3}", 0,
    "tensor \"line\\u000abreak \\\"q\\\"\": entry is not a JSON object",
    NULL },
};

static void
test_reject_case (gconstpointer data)
{
  const RejectCase *c = data;

  assert_header_rejected (c->header, c->buffer_len, c->needle, c->needle2);
}

/* These need a literal ' in the header, which the table cannot express. */
static void
test_reject_single_quotes (void)
{
  static const char header[] = "{'w': {}}";
  g_autoptr(GBytes) file = make_raw_file (sizeof header - 1, header,
                                          sizeof header - 1, NULL, 0);

  assert_rejected (file, "header is not valid JSON", "found '''");
}

static void
test_reject_unsupported_dtypes (void)
{
  static const char *const dtypes[] = {
    "BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64", "C64",
    "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (dtypes); i++)
    {
      g_autofree char *header = g_strdup_printf ("{'t': {'dtype': '%s', "
                                                 "'shape': [1], "
                                                 "'data_offsets': [0, 8]}}",
                                                 dtypes[i]);
      g_autofree char *needle = g_strdup_printf ("tensor \"t\": dtype %s is "
                                                 "not supported; rnnstream "
                                                 "reads F32, F16, BF16 and F64",
                                                 dtypes[i]);

      assert_header_rejected (header, 8, needle, NULL);
    }
}

/* A very long name is cut short in messages. */
static void
test_reject_long_name (void)
{
  g_autofree char *name = g_strnfill (10000, 'n');
  g_autofree char *header = g_strdup_printf ("{'%s': 1}", name);
  g_autoptr(GBytes) file = make_zero_file (header, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(RsSafetensors) st = parse_bytes (file, &error);

  g_assert_null (st);
  g_assert_error (error, RS_ERROR, RS_ERROR_MODEL_FORMAT);
  g_assert_nonnull (strstr (error->message, "nnn...\": entry is not"));
  g_assert_cmpuint (strlen (error->message), <, 300);
}

/* The error path frees what the entries before the bad one allocated; run
 * under LeakSanitizer to see it. */
static void
test_reject_after_valid_entries (void)
{
  assert_header_rejected ("{'__metadata__': {'k': 'v'}, " W_OK ", "
                          "'x': {'dtype': 'I64', 'shape': [1], "
                          "'data_offsets': [4, 12]}}", 12,
                          "tensor \"x\": dtype I64 is not supported", NULL);
}

/* Loading from disk. */

static void
test_load_missing (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-safetensors-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "missing.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(RsSafetensors) st = NULL;

  g_assert_nonnull (dir);
  st = rs_safetensors_load (path, &error);
  g_assert_null (st);
  g_assert_error (error, RS_ERROR, RS_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_nonnull (strstr (error->message, "No such file"));
  g_clear_error (&error);

  st = rs_safetensors_load (dir, &error);
  g_assert_null (st);
  g_assert_error (error, RS_ERROR, RS_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, dir));
  g_assert_nonnull (strstr (error->message, "is a directory"));
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_load_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-safetensors-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *empty_path = g_build_filename (dir, "empty.safetensors",
                                                  NULL);
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  g_autoptr(GBytes) file = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(RsSafetensors) st = NULL;
  g_autoptr(RsSafetensors) empty = NULL;
  g_autofree char *expected_digest = NULL;

  g_assert_nonnull (dir);
  put_f32 (buf, 0.5f);
  put_f32 (buf, -4.0f);
  file = make_file ("{'__metadata__': {'format': 'pt'}, "
                    "'w': {'dtype': 'F32', 'shape': [2], "
                    "'data_offsets': [0, 8]}}", buf->data, buf->len);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (file, NULL),
                                      (gssize) g_bytes_get_size (file),
                                      NULL));
  g_assert_true (g_file_set_contents (empty_path, "", 0, NULL));

  st = rs_safetensors_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (st);
  g_assert_cmpfloat (lookup (st, "w")->data[1], ==, -4.0f);
  g_assert_cmpstr (rs_safetensors_metadata (st, "format"), ==, "pt");
  expected_digest = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, file);
  g_assert_cmpstr (rs_safetensors_digest (st), ==, expected_digest);

  empty = rs_safetensors_load (empty_path, &error);
  g_assert_null (empty);
  g_assert_error (error, RS_ERROR, RS_ERROR_MODEL_FORMAT);
  g_assert_true (g_str_has_prefix (error->message, empty_path));
  g_assert_nonnull (strstr (error->message, "file is 0 bytes long"));

  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_remove (empty_path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/safetensors/f32", test_f32);
  g_test_add_func ("/safetensors/f16", test_f16);
  g_test_add_func ("/safetensors/bf16", test_bf16);
  g_test_add_func ("/safetensors/f64", test_f64);
  g_test_add_func ("/safetensors/scalar", test_scalar);
  g_test_add_func ("/safetensors/zero-sized", test_zero_sized);
  g_test_add_func ("/safetensors/no-tensors", test_no_tensors);
  g_test_add_func ("/safetensors/lookup", test_lookup);
  g_test_add_func ("/safetensors/metadata", test_metadata);
  g_test_add_func ("/safetensors/no-metadata", test_no_metadata);
  g_test_add_func ("/safetensors/padding", test_padding);
  g_test_add_func ("/safetensors/whitespace", test_whitespace);
  g_test_add_func ("/safetensors/extra-keys", test_extra_keys);
  g_test_add_func ("/safetensors/max-dims", test_max_dims);
  g_test_add_func ("/safetensors/digest", test_digest);
  g_test_add_func ("/safetensors/dtype-name", test_dtype_name);

  g_test_add_func ("/safetensors/reject/short", test_reject_short);
  g_test_add_func ("/safetensors/reject/header-length",
                   test_reject_header_length);
  g_test_add_func ("/safetensors/reject/utf8", test_reject_utf8);
  g_test_add_func ("/safetensors/reject/json/single-quotes",
                   test_reject_single_quotes);
  for (gsize i = 0; i < G_N_ELEMENTS (reject_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/safetensors/reject/",
                                           reject_cases[i].path, NULL);

      g_test_add_data_func (path, &reject_cases[i], test_reject_case);
    }
  g_test_add_func ("/safetensors/reject/unsupported-dtypes",
                   test_reject_unsupported_dtypes);
  g_test_add_func ("/safetensors/reject/long-name", test_reject_long_name);
  g_test_add_func ("/safetensors/reject/after-valid-entries",
                   test_reject_after_valid_entries);

  g_test_add_func ("/safetensors/load/missing", test_load_missing);
  g_test_add_func ("/safetensors/load/file", test_load_file);

  return g_test_run ();
}
