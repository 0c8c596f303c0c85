/* The forecasters' representation of a series (see
 * rnnstream/forecast-transform.h). */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "rnnstream/error.h"
#include "rnnstream/forecast-transform.h"

static const char *const reference_names[] = { "none", "naive", "seasonal", "smoothed", "trend" };

const char *
rs_forecast_reference_name (RsForecastReference reference)
{
  g_return_val_if_fail (reference <= RS_FORECAST_REFERENCE_TREND, NULL);
  return reference_names[reference];
}

gboolean
rs_forecast_reference_from_name (const char *name, RsForecastReference *reference)
{
  for (guint i = 0; i < G_N_ELEMENTS (reference_names); i++)
    if (g_strcmp0 (name, reference_names[i]) == 0) {
      *reference = (RsForecastReference) i;
      return TRUE;
    }
  return FALSE;
}

/* Whether the inputs hold a seasonal difference besides the first one. */
static gboolean
has_seasonal_input (const RsForecastTransform *tr)
{
  return tr->reference != RS_FORECAST_REFERENCE_NONE && tr->season > 1;
}

/* sum_{j=1..h} phi^j: how many slopes the trend line climbs in h steps. */
static double
damped_steps (double phi, guint h)
{
  return phi >= 1 ? (double) h : phi * (1 - pow (phi, h)) / (1 - phi);
}

/* Rows per block of the trend reference's slope. */
static gssize
trend_block (const RsForecastTransform *tr)
{
  return MAX (tr->season, 2);
}

void
rs_forecast_transform_init (RsForecastTransform *tr)
{
  g_return_if_fail (tr->horizon >= 1 && tr->season >= 1);
  tr->n_inputs = (tr->reference == RS_FORECAST_REFERENCE_NONE ? 1 : 1 + has_seasonal_input (tr))
                 + tr->n_covariates;
  tr->in_mean = g_new0 (double, tr->n_inputs);
  tr->in_std = g_new (double, tr->n_inputs);
  tr->out_mean = g_new0 (double, tr->horizon);
  tr->out_std = g_new (double, tr->horizon);
  for (guint i = 0; i < tr->n_inputs; i++)
    tr->in_std[i] = 1;
  for (guint h = 0; h < tr->horizon; h++)
    tr->out_std[h] = 1;
  tr->residual_std = NULL;
}

void
rs_forecast_transform_clear (RsForecastTransform *tr)
{
  g_clear_pointer (&tr->in_mean, g_free);
  g_clear_pointer (&tr->in_std, g_free);
  g_clear_pointer (&tr->out_mean, g_free);
  g_clear_pointer (&tr->out_std, g_free);
  g_clear_pointer (&tr->residual_std, g_free);
}

void
rs_forecast_transform_copy (RsForecastTransform *dest, const RsForecastTransform *src)
{
  *dest = *src;
  dest->in_mean = g_memdup2 (src->in_mean, src->n_inputs * sizeof (double));
  dest->in_std = g_memdup2 (src->in_std, src->n_inputs * sizeof (double));
  dest->out_mean = g_memdup2 (src->out_mean, src->horizon * sizeof (double));
  dest->out_std = g_memdup2 (src->out_std, src->horizon * sizeof (double));
  dest->residual_std = src->residual_std != NULL
                         ? g_memdup2 (src->residual_std, src->horizon * sizeof (double)) : NULL;
}

guint
rs_forecast_transform_lag (const RsForecastTransform *tr)
{
  if (tr->reference == RS_FORECAST_REFERENCE_NONE)
    return 0;
  if (tr->reference == RS_FORECAST_REFERENCE_SMOOTHED)
    return 2 * tr->season;
  if (tr->reference == RS_FORECAST_REFERENCE_TREND)
    return 2 * trend_block (tr);
  return has_seasonal_input (tr) ? tr->season : 1;
}

gboolean
rs_forecast_transform_z (const RsForecastTransform *tr, double y, double *z)
{
  if (!isfinite (y) || ((tr->log || tr->multiplicative) && !(y > 0)))
    return FALSE;
  *z = tr->log ? log (y) : y;
  return TRUE;
}

/* Input i of frame t, unstandardised. */
static double
raw_input (const RsForecastTransform *tr, const double *z_now, const double *covariates, guint i)
{
  if (tr->reference == RS_FORECAST_REFERENCE_NONE) {
    if (i == 0)
      return z_now[0];
    return covariates[i - 1];
  }
  if (i == 0)
    return z_now[0] - z_now[-1];
  if (has_seasonal_input (tr)) {
    if (i == 1)
      return z_now[0] - z_now[-(gssize) tr->season];
    return covariates[i - 2];
  }
  return covariates[i - 1];
}

void
rs_forecast_transform_raw_inputs (const RsForecastTransform *tr, const double *z_now,
                                  const double *covariates, double *raw)
{
  for (guint i = 0; i < tr->n_inputs; i++)
    raw[i] = raw_input (tr, z_now, covariates, i);
}

void
rs_forecast_transform_inputs (const RsForecastTransform *tr, const double *z_now,
                              const double *covariates, float *x)
{
  for (guint i = 0; i < tr->n_inputs; i++)
    x[i] = (float) ((raw_input (tr, z_now, covariates, i) - tr->in_mean[i]) / tr->in_std[i]);
}

double
rs_forecast_transform_reference (const RsForecastTransform *tr, const double *z_now, guint h)
{
  const gssize m = tr->season;

  switch (tr->reference) {
  case RS_FORECAST_REFERENCE_NAIVE:
    return z_now[0];
  case RS_FORECAST_REFERENCE_SEASONAL:
    /* The latest observed value of the same season: h - m * ceil(h / m). */
    return z_now[(gssize) h - m * (((gssize) h + m - 1) / m)];
  case RS_FORECAST_REFERENCE_SMOOTHED: {
    /* The last season's mean, plus the phase's mean deviation from its
     * season's mean over the last two seasons. */
    const gssize k = (gssize) h - m * (((gssize) h + m - 1) / m);
    double level = 0, dev = 0;
    for (gssize i = 0; i < m; i++)
      level += z_now[-i];
    level /= (double) m;
    for (gssize season = 0; season < 2; season++) {
      double mean = 0;
      for (gssize i = 0; i < m; i++)
        mean += z_now[-i - season * m];
      mean /= (double) m;
      dev += z_now[k - season * m] - mean;
    }
    return level + dev / 2;
  }
  case RS_FORECAST_REFERENCE_TREND: {
    /* A line through the means of the last two blocks (seasons, so that
     * the season cancels; pairs of rows for a series without one), plus
     * the phase's mean deviation from that line over the two seasons: a
     * local fit of level, slope and season that no single noisy value
     * moves much. The block mean is the line's value at its centre, c
     * rows before its last. */
    const gssize b = trend_block (tr);
    const double c = (double) (b - 1) / 2;
    double now = 0, before = 0, dev = 0;
    for (gssize i = 0; i < b; i++) {
      now += z_now[-i];
      before += z_now[-i - b];
    }
    now /= (double) b;
    before /= (double) b;
    const double slope = (now - before) / (double) b;
    const double line = now + slope * (c + damped_steps (tr->damping, h));
    if (m > 1) {
      const gssize k = (gssize) h - m * (((gssize) h + m - 1) / m);
      /* The line at phase k in the last season and in the one before. */
      const double at0 = now + slope * ((double) k + c), at1 = before + slope * ((double) k + c);
      /* A line that left the positive values behind has no ratios: the
       * season is taken as additive there. */
      if (tr->multiplicative && at0 > 0 && at1 > 0)
        return line * (z_now[k] / at0 + z_now[k - m] / at1) / 2;
      dev = (z_now[k] - at0 + z_now[k - m] - at1) / 2;
    }
    return line + dev;
  }
  case RS_FORECAST_REFERENCE_NONE:
  default:
    return 0;
  }
}

float
rs_forecast_transform_target (const RsForecastTransform *tr, const double *z_now, guint h)
{
  g_return_val_if_fail (h >= 1 && h <= tr->horizon, NAN);
  return (float) ((z_now[h] - rs_forecast_transform_reference (tr, z_now, h)
                   - tr->out_mean[h - 1]) / tr->out_std[h - 1]);
}

void
rs_forecast_transform_targets (const RsForecastTransform *tr, const double *z_now, float *u)
{
  for (guint h = 1; h <= tr->horizon; h++)
    u[h - 1] = rs_forecast_transform_target (tr, z_now, h);
}

static double
from_z (const RsForecastTransform *tr, double z)
{
  return tr->log ? exp (z) : z;
}

void
rs_forecast_transform_forecast (const RsForecastTransform *tr, const double *z_now,
                                const float *u, double *zhat, double *yhat)
{
  for (guint h = 1; h <= tr->horizon; h++) {
    const double z = rs_forecast_transform_reference (tr, z_now, h) + tr->out_mean[h - 1]
                     + (double) u[h - 1] * tr->out_std[h - 1];
    if (zhat != NULL)
      zhat[h - 1] = z;
    if (yhat != NULL)
      yhat[h - 1] = from_z (tr, z);
  }
}

void
rs_forecast_transform_interval (const RsForecastTransform *tr, const double *zhat, double level,
                                double *lo, double *hi)
{
  const double q = rs_normal_quantile (0.5 + level / 2);

  g_return_if_fail (tr->residual_std != NULL && level > 0 && level < 1);
  for (guint h = 0; h < tr->horizon; h++) {
    lo[h] = from_z (tr, zhat[h] - q * tr->residual_std[h]);
    hi[h] = from_z (tr, zhat[h] + q * tr->residual_std[h]);
  }
}

char **
rs_forecast_column_names (guint horizon, const char *const *coverages)
{
  GPtrArray *names = g_ptr_array_new ();

  for (guint h = 1; h <= horizon; h++)
    g_ptr_array_add (names, g_strdup_printf ("h%u", h));
  for (guint i = 0; coverages != NULL && coverages[i] != NULL; i++)
    for (guint side = 0; side < 2; side++)
      for (guint h = 1; h <= horizon; h++)
        g_ptr_array_add (names, g_strdup_printf ("%s%s_h%u", side ? "hi" : "lo", coverages[i], h));
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

double
rs_normal_quantile (double p)
{
  /* Acklam's rational approximations (relative error 1.15e-9). */
  static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
                              -2.759285104469687e+02, 1.383577518672690e+02,
                              -3.066479806614716e+01, 2.506628277459239e+00 };
  static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
                              -1.556989798598866e+02, 6.680131188771972e+01,
                              -1.328068155288572e+01 };
  static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
                              -2.400758277161838e+00, -2.549732539343734e+00,
                              4.374664141464968e+00, 2.938163982698783e+00 };
  static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
                              2.445134137142996e+00, 3.754408661907416e+00 };
  double x, q, r, e;

  if (!(p > 0 && p < 1))
    return p == 0 ? -INFINITY : p == 1 ? INFINITY : NAN;
  if (p < 0.02425) {
    q = sqrt (-2 * log (p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
        / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p > 1 - 0.02425) {
    q = sqrt (-2 * log (1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
        / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    q = p - 0.5;
    r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  /* One step of Halley's method on the exact CDF. */
  e = 0.5 * erfc (-x / G_SQRT2) - p;
  r = e * sqrt (2 * G_PI) * exp (x * x / 2);
  return x - r / (1 + x * r / 2);
}

static void
append_numbers (GString *out, const char *key, const double *v, guint n)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (out, "\"%s\": [", key);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (out, "%s%s", i ? ", " : "", g_ascii_dtostr (buf, sizeof buf, v[i]));
  g_string_append_c (out, ']');
}

char *
rs_forecast_transform_to_json (const RsForecastTransform *tr)
{
  GString *out = g_string_new (NULL);

  char damping[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (out, "{\"horizon\": %u, \"season\": %u, \"log\": %s, \"reference\": "
                          "\"%s\", \"multiplicative\": %s, \"damping\": %s, \"covariates\": "
                          "%u, \"inputs\": {", tr->horizon, tr->season,
                          tr->log ? "true" : "false", rs_forecast_reference_name (tr->reference),
                          tr->multiplicative ? "true" : "false",
                          g_ascii_dtostr (damping, sizeof damping, tr->damping), tr->n_covariates);
  append_numbers (out, "mean", tr->in_mean, tr->n_inputs);
  g_string_append (out, ", ");
  append_numbers (out, "std", tr->in_std, tr->n_inputs);
  g_string_append (out, "}, \"outputs\": {");
  append_numbers (out, "mean", tr->out_mean, tr->horizon);
  g_string_append (out, ", ");
  append_numbers (out, "std", tr->out_std, tr->horizon);
  g_string_append_c (out, '}');
  if (tr->residual_std != NULL) {
    g_string_append (out, ", ");
    append_numbers (out, "residual_std", tr->residual_std, tr->horizon);
  }
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

/* n finite numbers (positive ones when positive) from member key of o
 * into v; FALSE when missing or otherwise. */
static gboolean
read_numbers (JsonObject *o, const char *key, double *v, guint n, gboolean positive)
{
  JsonNode *node = o != NULL ? json_object_get_member (o, key) : NULL;
  JsonArray *a;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  a = json_node_get_array (node);
  if (json_array_get_length (a) != n)
    return FALSE;
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element (a, i);
    if (!JSON_NODE_HOLDS_VALUE (e) || (json_node_get_value_type (e) != G_TYPE_DOUBLE
                                       && json_node_get_value_type (e) != G_TYPE_INT64))
      return FALSE;
    v[i] = json_node_get_double (e);
    if (!isfinite (v[i]) || (positive && !(v[i] > 0)))
      return FALSE;
  }
  return TRUE;
}

static JsonObject *
member_object (JsonObject *o, const char *key)
{
  JsonNode *node = json_object_get_member (o, key);
  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static gboolean
read_uint (JsonObject *o, const char *key, guint min, guint max, guint *out)
{
  JsonNode *node = json_object_get_member (o, key);
  gint64 v;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < min || v > max)
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

gboolean
rs_forecast_transform_from_json (RsForecastTransform *tr, const char *json, const char *display,
                                 GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *o, *in, *out;
  JsonNode *log, *ref, *mul, *damping;
  const char *what = NULL;

  memset (tr, 0, sizeof *tr);
  if (!json_parser_load_from_data (parser, json, -1, NULL)
      || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, RS_ERROR, RS_ERROR_MODEL, "%s: metadata 'forecast' is not a JSON object",
                 display);
    return FALSE;
  }
  o = json_node_get_object (root);
  log = json_object_get_member (o, "log");
  ref = json_object_get_member (o, "reference");
  /* Absent in the files of rnnstream before it: additive. */
  mul = json_object_get_member (o, "multiplicative");
  damping = json_object_get_member (o, "damping");
  if (!read_uint (o, "horizon", 1, 100000, &tr->horizon))
    what = "horizon (a whole number from 1 to 100000)";
  else if (!read_uint (o, "season", 1, 100000, &tr->season))
    what = "season (a whole number from 1 to 100000)";
  else if (!read_uint (o, "covariates", 0, 10000, &tr->n_covariates))
    what = "covariates (a count)";
  else if (log == NULL || !JSON_NODE_HOLDS_VALUE (log)
           || json_node_get_value_type (log) != G_TYPE_BOOLEAN)
    what = "log (true or false)";
  else if (ref == NULL || !JSON_NODE_HOLDS_VALUE (ref)
           || json_node_get_value_type (ref) != G_TYPE_STRING
           || !rs_forecast_reference_from_name (json_node_get_string (ref), &tr->reference))
    what = "reference (\"none\", \"naive\", \"seasonal\", \"smoothed\" or \"trend\")";
  else if (mul != NULL && (!JSON_NODE_HOLDS_VALUE (mul)
                           || json_node_get_value_type (mul) != G_TYPE_BOOLEAN))
    what = "multiplicative (true or false)";
  else if (damping != NULL && (!JSON_NODE_HOLDS_VALUE (damping)
                               || (json_node_get_value_type (damping) != G_TYPE_DOUBLE
                                   && json_node_get_value_type (damping) != G_TYPE_INT64)
                               || !(json_node_get_double (damping) >= 0
                                    && json_node_get_double (damping) <= 1)))
    what = "damping (a number from 0 to 1)";
  if (what == NULL) {
    tr->log = json_node_get_boolean (log);
    tr->multiplicative = mul != NULL && json_node_get_boolean (mul);
    tr->damping = damping != NULL ? json_node_get_double (damping) : 1;
    rs_forecast_transform_init (tr);
    in = member_object (o, "inputs");
    out = member_object (o, "outputs");
    if (!read_numbers (in, "mean", tr->in_mean, tr->n_inputs, FALSE)
        || !read_numbers (in, "std", tr->in_std, tr->n_inputs, TRUE))
      what = "inputs (mean and std, one number per input; deviations > 0)";
    else if (!read_numbers (out, "mean", tr->out_mean, tr->horizon, FALSE)
             || !read_numbers (out, "std", tr->out_std, tr->horizon, TRUE))
      what = "outputs (mean and std, one number per step; deviations > 0)";
    else if (json_object_has_member (o, "residual_std")) {
      tr->residual_std = g_new (double, tr->horizon);
      if (!read_numbers (o, "residual_std", tr->residual_std, tr->horizon, FALSE))
        what = "residual_std (one number per step)";
      for (guint h = 0; what == NULL && h < tr->horizon; h++)
        if (tr->residual_std[h] < 0)
          what = "residual_std (deviations >= 0)";
    }
  }
  if (what != NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_MODEL, "%s: metadata 'forecast': bad or missing %s",
                 display, what);
    rs_forecast_transform_clear (tr);
    return FALSE;
  }
  return TRUE;
}
