/* libFuzzer target for the safetensors reader.
 *
 * Every input is parsed from memory. A refused input must fail with
 * RS_ERROR_MODEL_FORMAT and a one-line message that starts with the display
 * name; an accepted one must satisfy everything the header promises, and
 * every float of every tensor is read so that AddressSanitizer sees any
 * buffer that is shorter than n_elements claims. */
#include <rnnstream/safetensors.h>
#include <rnnstream/error.h>

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DISPLAY_NAME "fuzz.safetensors"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check (gboolean condition, const char *what)
{
  if (!condition)
    {
      g_printerr ("fuzz-safetensors: broken invariant: %s\n", what);
      abort ();
    }
}

static void
check_error (const GError *error)
{
  check (error != NULL, "NULL returned without an error");
  check (g_error_matches (error, RS_ERROR, RS_ERROR_MODEL_FORMAT),
         "error is not RS_ERROR_MODEL_FORMAT");
  check (g_str_has_prefix (error->message, DISPLAY_NAME ": "),
         "message does not start with the display name");
  check (strchr (error->message, '\n') == NULL, "message spans lines");
  check (g_utf8_validate (error->message, -1, NULL), "message is not UTF-8");
  /* The reader's own strict scanner runs first and should refuse whatever
   * json-glib would, so json-glib's own messages (which start with
   * "<data>:") should never be passed on. The scanner also refuses duplicate
   * names, naming them, so the reader's fallback for json-glib merging two
   * names should never be reached either. Both are matched exactly, since
   * the fuzzer soon learns to put any phrase searched for into a name. */
  check (!g_str_has_prefix (error->message, DISPLAY_NAME ": header is not "
                            "valid JSON: <data>"),
         "json-glib refused a header the strict scanner accepted");
  check (strcmp (error->message, DISPLAY_NAME ": header has duplicate tensor "
                 "names") != 0,
         "json-glib merged keys the strict scanner told apart");
}

static void
check_tensor (const RsSafetensors *st, guint index)
{
  const RsTensor *t = rs_safetensors_tensor (st, index);
  guint64 n = 1;
  volatile float sink = 0.0f;

  check (t != NULL, "tensor is NULL");
  check (t->name != NULL && t->name[0] != '\0', "tensor has no name");
  check (g_utf8_validate (t->name, -1, NULL), "tensor name is not UTF-8");
  check (rs_safetensors_lookup (st, t->name) == t, "lookup disagrees");
  if (index > 0)
    check (strcmp (rs_safetensors_tensor (st, index - 1)->name, t->name) < 0,
           "tensors are not sorted by name");
  check (t->ndim <= RS_TENSOR_MAX_DIMS, "too many dimensions");
  for (guint d = 0; d < t->ndim; d++)
    n *= t->shape[d];
  check (n == t->n_elements, "n_elements is not the product of the shape");
  check (rs_dtype_name (t->file_dtype) != NULL, "unknown file dtype");
  check (t->data != NULL, "data is NULL");
  check ((guintptr) t->data % 64 == 0, "data is not 64-byte aligned");
  for (guint64 i = 0; i < t->n_elements; i++)
    sink += t->data[i];
  (void) sink;
}

static void
check_metadata (const RsSafetensors *st)
{
  const char *const *keys = rs_safetensors_metadata_keys (st);

  check (keys != NULL, "metadata keys are NULL");
  for (gsize i = 0; keys[i] != NULL; i++)
    {
      const char *value = rs_safetensors_metadata (st, keys[i]);

      check (value != NULL, "metadata key without a value");
      check (g_utf8_validate (keys[i], -1, NULL)
             && g_utf8_validate (value, -1, NULL),
             "metadata is not UTF-8");
      if (i > 0)
        check (strcmp (keys[i - 1], keys[i]) < 0,
               "metadata keys are not sorted");
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RsSafetensors) st = NULL;
  const char *digest;

  st = rs_safetensors_parse (data, size, DISPLAY_NAME, &error);
  if (st == NULL)
    {
      check_error (error);
      return 0;
    }
  check (error == NULL, "error set on success");

  for (guint i = 0; i < rs_safetensors_n_tensors (st); i++)
    check_tensor (st, i);
  check (rs_safetensors_lookup (st, "") == NULL, "a tensor has no name");
  check_metadata (st);

  digest = rs_safetensors_digest (st);
  check (digest != NULL && strlen (digest) == 64, "digest is not SHA-256 hex");
  return 0;
}
