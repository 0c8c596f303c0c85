/* libFuzzer target: the pipeline language. Whatever parses must print back
 * to text that parses to the same pipeline; whatever fails must fail with a
 * positioned message. The input's first line, if it looks like an
 * assignment, is also tried as a --set. */
#include <stdint.h>
#include <string.h>

#include <rnnstream/rnnstream.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (RsPipeline) p = rs_pipeline_new_from_text (text, "fuzz", &error);
  g_autofree char *printed = NULL, *again = NULL;
  g_autoptr (RsPipeline) q = NULL;
  const char *newline;

  if (p == NULL) {
    g_assert (error != NULL && error->domain == RS_ERROR);
    g_assert (g_str_has_prefix (error->message, "fuzz"));
    return 0;
  }
  newline = strchr (text, '\n');
  if (newline != NULL && memchr (text, '=', (size_t) (newline - text)) != NULL) {
    g_autofree char *assignment = g_strndup (text, (gsize) (newline - text));
    g_autoptr (GError) set_error = NULL;
    if (!rs_pipeline_set (p, assignment, &set_error))
      g_assert (set_error != NULL);
  }
  printed = rs_pipeline_to_string (p);
  q = rs_pipeline_new_from_text (printed, "printed", &error);
  g_assert (q != NULL);
  again = rs_pipeline_to_string (q);
  g_assert (strcmp (printed, again) == 0);
  return 0;
}
