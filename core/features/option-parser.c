/* Kaldi-style option parsing; see option-parser.h. */
#include "option-parser.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <rnnstream/error.h>

/* Kaldi's ParseOptions::NormalizeArgName: lower case, '_' -> '-'. */
static char *
normalise_name (const char *name, gsize len)
{
  char *s = g_ascii_strdown (name, (gssize) len);

  for (char *p = s; *p; p++)
    if (*p == '_')
      *p = '-';
  return s;
}

static const RsOptionSpec *
find_spec (const RsOptionSpec *specs, gsize n_specs, const char *name)
{
  for (gsize i = 0; i < n_specs; i++)
    if (strcmp (specs[i].name, name) == 0)
      return &specs[i];
  return NULL;
}

static gboolean
parse_bool (const char *arg, const char *value, gboolean *out, GError **error)
{
  g_autofree char *v = NULL;

  /* Kaldi's ParseOptions::ToBool: "--x" and "--x=" mean true. */
  if (value == NULL || *value == '\0') {
    *out = TRUE;
    return TRUE;
  }
  v = g_ascii_strdown (value, -1);
  if (strcmp (v, "true") == 0 || strcmp (v, "t") == 0 || strcmp (v, "1") == 0) {
    *out = TRUE;
    return TRUE;
  }
  if (strcmp (v, "false") == 0 || strcmp (v, "f") == 0 || strcmp (v, "0") == 0) {
    *out = FALSE;
    return TRUE;
  }
  g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: expected true or false", arg);
  return FALSE;
}

/* A whole-string decimal integer within [lo, hi], as Kaldi's
 * ConvertStringToInteger wants, without its tolerance of white space. A
 * leading '-' is read (and then out of range) so that the message says
 * what is wrong with "-1". */
static gboolean
parse_uint (const char *arg, const char *value, guint64 lo, guint64 hi, guint64 *out,
            GError **error)
{
  const char *p = value;
  gboolean negative = FALSE;
  char *end = NULL;
  guint64 v;

  if (p != NULL && (*p == '+' || *p == '-')) {
    negative = *p == '-';
    p++;
  }
  if (p == NULL || !g_ascii_isdigit (*p)) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: expected an integer", arg);
    return FALSE;
  }
  errno = 0;
  v = g_ascii_strtoull (p, &end, 10);
  if (*end != '\0') {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: expected an integer", arg);
    return FALSE;
  }
  if (errno == ERANGE || (negative && v != 0) || v < lo || v > hi) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE,
                 "%s: expected an integer from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT,
                 arg, lo, hi);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

/* The range of an integer option: [min, max] from its spec, or the whole
 * of its type when the spec gives none (min > max). */
static void
uint_range (const RsOptionSpec *spec, guint64 type_max, guint64 *lo, guint64 *hi)
{
  if (spec->min > spec->max) {
    *lo = 0;
    *hi = type_max;
  } else {
    *lo = (guint64) spec->min;
    *hi = (guint64) spec->max;
  }
}

static gboolean
parse_double (const RsOptionSpec *spec, const char *arg, const char *value, double *out,
              GError **error)
{
  char *end = NULL;
  double v;

  /* g_ascii_strtod: the C locale's syntax whatever the process locale,
   * which is what Kaldi's option files are written in. */
  if (value == NULL || *value == '\0' || g_ascii_isspace (*value)) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: expected a number", arg);
    return FALSE;
  }
  errno = 0;
  v = g_ascii_strtod (value, &end);
  if (*end != '\0') {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: expected a number", arg);
    return FALSE;
  }
  if (!isfinite (v) || errno == ERANGE) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: expected a finite number", arg);
    return FALSE;
  }
  if (spec->min <= spec->max && (v < spec->min || v > spec->max)) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE,
                 "%s: expected a number from %.17g to %.17g", arg, spec->min, spec->max);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static gboolean
parse_choice (const RsOptionSpec *spec, const char *arg, const char *value, int *out,
              GError **error)
{
  g_autofree char *list = NULL;

  for (int i = 0; value != NULL && spec->choices[i] != NULL; i++) {
    if (strcmp (value, spec->choices[i]) == 0) {
      *out = i;
      return TRUE;
    }
  }
  list = g_strjoinv ("|", (char **) spec->choices);
  g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: expected one of %s", arg, list);
  return FALSE;
}

static gboolean
apply_one (const RsOptionSpec *specs, gsize n_specs, void *opts, guint program,
           const char *const *program_names, const char *arg, GError **error)
{
  const char *eq, *value = NULL;
  g_autofree char *name = NULL;
  const RsOptionSpec *spec;
  char *field;

  if (!g_str_has_prefix (arg, "--") || arg[2] == '\0' || arg[2] == '=') {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "'%s': expected --name=value", arg);
    return FALSE;
  }
  eq = strchr (arg + 2, '=');
  if (eq != NULL)
    value = eq + 1;
  name = normalise_name (arg + 2, eq != NULL ? (gsize) (eq - arg - 2) : strlen (arg + 2));
  spec = find_spec (specs, n_specs, name);
  if (spec == NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "unknown option --%s (%s)", name,
                 program_names[program]);
    return FALSE;
  }
  if (!(spec->programs & (1u << program))) {
    guint owner = 0;

    while (!(spec->programs & (1u << owner)))
      owner++;
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "--%s is an option of %s, not of %s", name,
                 program_names[owner], program_names[program]);
    return FALSE;
  }

  field = (char *) opts + spec->offset;
  switch (spec->type) {
  case RS_OPTION_BOOL: {
    gboolean b;

    if (!parse_bool (arg, value, &b, error))
      return FALSE;
    memcpy (field, &b, sizeof b);
    return TRUE;
  }
  case RS_OPTION_UINT: {
    guint64 v, lo, hi;
    guint u;

    uint_range (spec, G_MAXUINT, &lo, &hi);
    if (!parse_uint (arg, value, lo, hi, &v, error))
      return FALSE;
    u = (guint) v;
    memcpy (field, &u, sizeof u);
    return TRUE;
  }
  case RS_OPTION_UINT64: {
    guint64 v, lo, hi;

    uint_range (spec, G_MAXUINT64, &lo, &hi);
    if (!parse_uint (arg, value, lo, hi, &v, error))
      return FALSE;
    memcpy (field, &v, sizeof v);
    return TRUE;
  }
  case RS_OPTION_DOUBLE: {
    double d;

    if (!parse_double (spec, arg, value, &d, error))
      return FALSE;
    memcpy (field, &d, sizeof d);
    return TRUE;
  }
  case RS_OPTION_CHOICE: {
    int c;

    if (!parse_choice (spec, arg, value, &c, error))
      return FALSE;
    memcpy (field, &c, sizeof c);
    return TRUE;
  }
  default:
    g_assert_not_reached ();
  }
}

gboolean
rs_option_table_apply (const RsOptionSpec *specs, gsize n_specs, void *opts, guint program,
                       const char *const *program_names, const char *const *args,
                       gssize n_args, GError **error)
{
  g_return_val_if_fail (opts != NULL, FALSE);
  g_return_val_if_fail (args != NULL || n_args <= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (gssize i = 0; n_args < 0 ? args[i] != NULL : i < n_args; i++) {
    g_return_val_if_fail (args[i] != NULL, FALSE);
    if (!apply_one (specs, n_specs, opts, program, program_names, args[i], error))
      return FALSE;
  }
  return TRUE;
}

gboolean
rs_option_table_apply_string (const RsOptionSpec *specs, gsize n_specs, void *opts,
                              guint program, const char *const *program_names,
                              const char *text, GError **error)
{
  g_auto (GStrv) tokens = NULL;
  GPtrArray *args;
  gboolean ok;

  if (text == NULL)
    return TRUE;
  tokens = g_strsplit_set (text, " \t\r\n", -1);
  args = g_ptr_array_new ();
  for (char **t = tokens; *t != NULL; t++)
    if (**t != '\0')
      g_ptr_array_add (args, *t);
  ok = rs_option_table_apply (specs, n_specs, opts, program, program_names,
                              (const char *const *) args->pdata, (gssize) args->len, error);
  g_ptr_array_free (args, TRUE);
  return ok;
}
