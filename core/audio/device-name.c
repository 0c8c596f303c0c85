/* Stable device names and matching (see device-name.h). */
#include "config.h"

#include <string.h>

#include "device-name.h"
#include "rnnstream/error.h"

char **
rs_device_names_build (const char *const *host_apis, const char *const *names, guint n)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  char **out = g_new0 (char *, n + 1);

  for (guint i = 0; i < n; i++) {
    char *base = g_strdup_printf ("%s: %s", host_apis[i] != NULL ? host_apis[i] : "?",
                                  names[i] != NULL ? names[i] : "?");
    guint count = GPOINTER_TO_UINT (g_hash_table_lookup (seen, base)) + 1;

    out[i] = count == 1 ? g_strdup (base) : g_strdup_printf ("%s #%u", base, count);
    g_hash_table_replace (seen, base, GUINT_TO_POINTER (count));
  }
  return out;
}

static gboolean
all_digits (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    if (!g_ascii_isdigit (*s))
      return FALSE;
  return TRUE;
}

/* "'A', 'B'" for the input devices in candidates (or all of them). */
static char *
list_names (const char *const *stable_names, const gboolean *is_input, guint n,
            const GArray *candidates)
{
  GString *s = g_string_new (NULL);
  guint count = candidates != NULL ? candidates->len : n;

  for (guint k = 0; k < count; k++) {
    guint i = candidates != NULL ? g_array_index (candidates, guint, k) : k;

    if (!is_input[i])
      continue;
    if (s->len > 0)
      g_string_append (s, ", ");
    g_string_append_printf (s, "'%s'", stable_names[i]);
  }
  if (s->len == 0)
    g_string_append (s, "none");
  return g_string_free (s, FALSE);
}

int
rs_device_names_match (const char *const *stable_names, const gboolean *is_input, guint n,
                       const char *query, GError **error)
{
  g_autoptr (GArray) hits = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree char *folded_query = NULL;
  g_autofree char *listed = NULL;

  g_return_val_if_fail (query != NULL, -1);

  if (all_digits (query)) {
    guint64 index = g_ascii_strtoull (query, NULL, 10);

    if (index < n && is_input[index])
      return (int) index;
    listed = list_names (stable_names, is_input, n, NULL);
    g_set_error (error, RS_ERROR, RS_ERROR_DEVICE, "no input device has index %s (input "
                 "devices: %s)", query, listed);
    return -1;
  }
  for (guint i = 0; i < n; i++)
    if (is_input[i] && strcmp (stable_names[i], query) == 0)
      return (int) i;
  for (guint i = 0; i < n; i++)
    if (is_input[i] && g_ascii_strcasecmp (stable_names[i], query) == 0)
      return (int) i;

  folded_query = g_utf8_casefold (query, -1);
  for (guint i = 0; i < n; i++) {
    g_autofree char *folded = NULL;

    if (!is_input[i])
      continue;
    folded = g_utf8_casefold (stable_names[i], -1);
    if (strstr (folded, folded_query) != NULL)
      g_array_append_val (hits, i);
  }
  if (hits->len == 1)
    return (int) g_array_index (hits, guint, 0);
  if (hits->len > 1) {
    listed = list_names (stable_names, is_input, n, hits);
    g_set_error (error, RS_ERROR, RS_ERROR_DEVICE, "input device '%s' is ambiguous: it matches "
                 "%s; give more of the name, or the index", query, listed);
    return -1;
  }
  listed = list_names (stable_names, is_input, n, NULL);
  g_set_error (error, RS_ERROR, RS_ERROR_DEVICE, "no input device matches '%s' (input devices: "
               "%s)", query, listed);
  return -1;
}
