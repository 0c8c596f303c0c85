/* Settings of rnnstream train (see train-settings.h). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <rnnstream/rnnstream.h>

#include "train-settings.h"

typedef enum { T_TEXT, T_PATH, T_CHOICE, T_UINT, T_NUMBER } Type;

typedef struct {
  const char *group;
  const char *key;           /* also the long flag */
  char short_name;
  Type type;
  const char *def;           /* default text; NULL: unset */
  const char *choices;       /* T_CHOICE: "a|b|c" */
  double min, max;           /* T_UINT, T_NUMBER: the range, inclusive */
  gboolean min_open;         /* T_NUMBER: min itself is out */
  gboolean frozen;
  const char *arg, *help;
} Spec;

#define UMAX 1e9

static const Spec specs[RS_SET_COUNT] = {
  [RS_SET_TASK] = { "data", "task", 0, T_CHOICE, "forecast", "forecast|classify|ctc", 0, 0,
                    FALSE, TRUE, "TASK", "forecast (a CSV series), classify (frame classes of "
                    "sound files) or ctc (transcripts of sound files) (default: forecast)" },
  [RS_SET_INPUT] = { "data", "input", 'i', T_PATH, NULL, NULL, 0, 0, FALSE, FALSE, "FILE",
                     "Training data: a CSV series (forecast) or a list of sound files with "
                     "their text (classify, ctc)" },
  [RS_SET_VALIDATION_INPUT] = { "data", "validation-input", 0, T_PATH, "", NULL, 0, 0, FALSE,
                                FALSE, "LIST", "classify, ctc: a list of validation files "
                                "(default: the last 'validation' share of the input)" },
  [RS_SET_TARGET] = { "data", "target", 0, T_TEXT, NULL, NULL, 0, 0, FALSE, TRUE, "COLUMN",
                      "Column to forecast (name, or 1-based index)" },
  [RS_SET_COVARIATES] = { "data", "covariates", 0, T_TEXT, "", NULL, 0, 0, FALSE, TRUE,
                          "A,B", "Further input columns" },
  [RS_SET_TIME_COLUMN] = { "data", "time-column", 0, T_TEXT, "", NULL, 0, 0, FALSE, TRUE,
                           "COLUMN", "The time column (recorded in the model)" },
  [RS_SET_MISSING] = { "data", "missing", 0, T_CHOICE, "error", "error|skip|hold|interpolate",
                       0, 0, FALSE, TRUE, "POLICY", "Missing values in the CSV (default: error)" },
  [RS_SET_HORIZON] = { "data", "horizon", 'H', T_UINT, "1", NULL, 1, 10000, FALSE, TRUE, "H",
                       "Steps forecast after each row (default: 1)" },
  [RS_SET_SEASON] = { "data", "season", 0, T_UINT, "0", NULL, 0, 100000, FALSE, TRUE, "M",
                      "Rows per season (12 monthly, 4 quarterly, 7 daily...); 0: from the time "
                      "column's spacing, 1 without one (default: 0)" },
  [RS_SET_SEASON_TEST] = { "data", "season-test", 0, T_CHOICE, "yes", "yes|no", 0, 0, FALSE,
                           TRUE, "YES|NO", "Keep the season only when the training rows show "
                           "it (an F test of the detrended series on the phase, at 1%), else "
                           "forecast without one (default: yes)" },
  [RS_SET_LOG_TRANSFORM] = { "data", "log-transform", 0, T_CHOICE, "auto", "auto|yes|no", 0, 0,
                             FALSE, TRUE, "HOW", "Forecast the log of the target: yes, no, or "
                             "auto (for a seasonal series whose every value is > 0, unless the "
                             "reference is trend) (default: auto)" },
  [RS_SET_SEASONALITY] = { "data", "seasonality", 0, T_CHOICE, "auto",
                           "auto|additive|multiplicative", 0, 0, FALSE, TRUE, "HOW",
                           "The trend reference's season: additive, multiplicative (it scales "
                           "with the level; needs values > 0) or auto (multiplicative when every "
                           "value is > 0) (default: auto)" },
  [RS_SET_DAMPING] = { "data", "damping", 0, T_NUMBER, "0.8", NULL, 0, 1, FALSE, TRUE, "PHI",
                       "The trend reference's damping: each step ahead climbs phi times the "
                       "slope of the step before; 1 is a straight line, 0 no slope (default: "
                       "0.8)" },
  [RS_SET_REFERENCE] = { "data", "reference", 0, T_CHOICE, "trend",
                         "none|naive|seasonal|smoothed|trend", 0, 0, FALSE, TRUE, "REF",
                         "What the network corrects: trend (a damped local line plus the "
                         "season, fitted to the last two seasons), seasonal (the seasonal naive "
                         "forecast), smoothed (seasonal naive averaged over two seasons), naive "
                         "(the last value) or none (it forecasts the level itself) (default: "
                         "trend)" },
  [RS_SET_VALIDATION] = { "data", "validation", 0, T_NUMBER, "0.2", NULL, 0, 0.9, FALSE, TRUE,
                          "SHARE", "Share of rows held out at the end (default: 0.2)" },
  [RS_SET_UNITS] = { "data", "units", 0, T_CHOICE, "words", "words|chars", 0, 0, FALSE, TRUE,
                     "UNITS", "ctc: the transcripts' units, words or chars (default: words)" },
  [RS_SET_LABELS] = { "data", "labels", 0, T_TEXT, "", NULL, 0, 0, FALSE, TRUE, "A,B",
                      "classify, ctc: the labels in order (default: those of the training "
                      "data, sorted)" },
  [RS_SET_FRONTEND] = { "features", "frontend", 0, T_TEXT,
                        "fbank num-mel-bins=40 ! cmvn ! stack frames=3", NULL, 0, 0, FALSE,
                        TRUE, "PIPELINE", "classify, ctc: the feature pipeline after the "
                        "sound file (default: fbank num-mel-bins=40 ! cmvn ! stack frames=3)" },
  [RS_SET_SAMPLE_RATE] = { "features", "sample-rate", 0, T_NUMBER, "16000", NULL, 1000, 384000,
                           FALSE, TRUE, "HZ", "classify, ctc: every file is read at this rate "
                           "(default: 16000)" },
  [RS_SET_CELL] = { "model", "cell", 0, T_CHOICE, "gru", "gru|lstm|rnn_tanh|rnn_relu", 0, 0,
                    FALSE, TRUE, "CELL", "gru, lstm, rnn_tanh or rnn_relu (default: gru)" },
  [RS_SET_HIDDEN] = { "model", "hidden", 0, T_UINT, "32", NULL, 1, 65536, FALSE, TRUE, "N",
                      "Hidden size (default: 32)" },
  [RS_SET_LAYERS] = { "model", "layers", 0, T_UINT, "1", NULL, 1, 64, FALSE, TRUE, "N",
                      "Layers (default: 1)" },
  [RS_SET_OPTIMIZER] = { "training", "optimizer", 0, T_CHOICE, "adam", "adam|sgd", 0, 0, FALSE,
                         TRUE, "NAME", "adam or sgd (default: adam)" },
  [RS_SET_LR] = { "training", "lr", 0, T_NUMBER, NULL, NULL, 0, 10, TRUE, TRUE, "RATE",
                  "Learning rate (default: 0.01 with sgd, else 0.001)" },
  [RS_SET_MOMENTUM] = { "training", "momentum", 0, T_NUMBER, "0.9", NULL, 0, 0.999, FALSE, TRUE,
                        "M", "SGD momentum (default: 0.9)" },
  [RS_SET_WEIGHT_DECAY] = { "training", "weight-decay", 0, T_NUMBER, "0", NULL, 0, 1, FALSE,
                            TRUE, "W", "L2 weight decay of the matrices (default: 0)" },
  [RS_SET_CLIP] = { "training", "clip", 0, T_NUMBER, "1", NULL, 0, 1e6, FALSE, TRUE, "NORM",
                    "Clip the gradient's global norm; 0: never (default: 1)" },
  [RS_SET_WARMUP] = { "training", "warmup", 0, T_UINT, "0", NULL, 0, UMAX, FALSE, TRUE, "STEPS",
                      "Linear learning-rate warm-up (default: 0)" },
  [RS_SET_EPOCHS] = { "training", "epochs", 'e', T_UINT, NULL, NULL, 1, UMAX, FALSE, FALSE,
                      "N", "Epochs at most (default: 300 for forecast, 100 for classify and "
                      "ctc)" },
  [RS_SET_PATIENCE] = { "training", "patience", 0, T_UINT, NULL, NULL, 0, UMAX, FALSE, FALSE,
                        "N", "Stop after N epochs without improvement; 0: never (default: 40 "
                        "for forecast, 10 for classify and ctc)" },
  [RS_SET_PLATEAU_PATIENCE] = { "training", "plateau-patience", 0, T_UINT, "5", NULL, 0, UMAX,
                                FALSE, TRUE, "N", "Reduce the rate after N flat epochs "
                                "(default: 5)" },
  [RS_SET_PLATEAU_FACTOR] = { "training", "plateau-factor", 0, T_NUMBER, "0.5", NULL, 0, 1, TRUE,
                              TRUE, "F", "... by this factor; 1: never (default: 0.5)" },
  [RS_SET_WINDOW] = { "training", "window", 0, T_UINT, NULL, NULL, 0, UMAX, FALSE, TRUE,
                      "FRAMES", "Truncated-BPTT window; 0: whole sequences (default: 24 for "
                      "forecast, 0 for classify and ctc)" },
  [RS_SET_BATCH] = { "training", "batch", 'b', T_UINT, NULL, NULL, 1, 65536, FALSE, TRUE, "N",
                     "Windows or utterances per mini-batch (default: 2 for forecast, 32 for "
                     "classify and ctc)" },
  [RS_SET_STATE] = { "training", "state", 0, T_CHOICE, "carried", "carried|zero", 0, 0, FALSE,
                     TRUE, "HOW", "A window's initial state: carried (the state its "
                     "predecessor left) or zero (default: carried)" },
  [RS_SET_LOSS] = { "training", "loss", 0, T_CHOICE, NULL, "mse|mae|cross-entropy|ctc", 0, 0,
                    FALSE, TRUE, "LOSS", "forecast: mse or mae (default: mse); classify: "
                    "cross-entropy; ctc: ctc" },
  [RS_SET_SEED] = { "training", "seed", 0, T_UINT, "1", NULL, 0, 1e18, FALSE, TRUE, "N",
                    "Seed of the initialisation and shuffling (default: 1)" },
  [RS_SET_THREADS] = { "training", "threads", 'j', T_UINT, "0", NULL, 0, 1024, FALSE, FALSE,
                       "N", "Threads; 0: one per core. The model does not depend on it "
                       "(default: 0)" },
  [RS_SET_FREQ_MASKS] = { "training", "freq-masks", 0, T_UINT, "0", NULL, 0, 16, FALSE, TRUE,
                          "N", "classify, ctc: SpecAugment bands of features masked per "
                          "training utterance (default: 0)" },
  [RS_SET_FREQ_MASK_WIDTH] = { "training", "freq-mask-width", 0, T_UINT, "8", NULL, 1, 1000,
                               FALSE, TRUE, "N", "... each up to N features wide (default: "
                               "8)" },
  [RS_SET_FREQ_MASK_PERIOD] = { "training", "freq-mask-period", 0, T_UINT, "0", NULL, 0,
                                100000, FALSE, TRUE, "N", "... repeated every N features, "
                                "e.g. the bands of each stacked frame; 0: the frame's width "
                                "(default: 0)" },
  [RS_SET_TIME_MASKS] = { "training", "time-masks", 0, T_UINT, "0", NULL, 0, 16, FALSE, TRUE,
                          "N", "classify, ctc: SpecAugment runs of frames masked per training "
                          "utterance (default: 0)" },
  [RS_SET_TIME_MASK_WIDTH] = { "training", "time-mask-width", 0, T_UINT, "5", NULL, 1, 10000,
                               FALSE, TRUE, "N", "... each up to N frames long (default: 5)" },
  [RS_SET_OUTPUT] = { "output", "output", 'o', T_PATH, NULL, NULL, 0, 0, FALSE, FALSE,
                      "MODEL", "The trained model (safetensors), written atomically" },
  [RS_SET_CHECKPOINT] = { "output", "checkpoint", 0, T_PATH, "", NULL, 0, 0, FALSE, FALSE,
                          "FILE", "Checkpoint file, written atomically" },
  [RS_SET_CHECKPOINT_EVERY] = { "output", "checkpoint-every", 0, T_UINT, "0", NULL, 0, UMAX,
                                FALSE, FALSE, "N", "Checkpoint every N epochs (and at the end); "
                                "0: at the end only" },
  [RS_SET_LOG] = { "output", "log", 0, T_PATH, "", NULL, 0, 0, FALSE, FALSE, "FILE.csv",
                   "Write epoch,step,train_loss,valid_loss,valid_metric,lr,seconds per epoch" },
  [RS_SET_PLOT] = { "output", "plot", 0, T_PATH, "", NULL, 0, 0, FALSE, FALSE, "FILE.png",
                    "Draw the loss curves into a PNG at the end" },
};

static const char *const groups[] = { "data", "features", "model", "training", "output" };

const char *
rs_train_setting_key (RsSettingId id)
{
  return specs[id].key;
}

gboolean
rs_train_setting_frozen (RsSettingId id)
{
  return specs[id].frozen;
}

const char *
rs_train_setting_group (RsSettingId id)
{
  return specs[id].group;
}

static void
set_value (RsTrainSettings *s, guint id, const char *value, char *source)
{
  g_free (s->value[id]);
  g_free (s->source[id]);
  s->value[id] = g_strdup (value);
  s->source[id] = source;
}

void
rs_train_settings_init (RsTrainSettings *s)
{
  memset (s, 0, sizeof *s);
  for (guint i = 0; i < RS_SET_COUNT; i++)
    if (specs[i].def != NULL)
      set_value (s, i, specs[i].def, g_strdup ("default"));
}

void
rs_train_settings_clear (RsTrainSettings *s)
{
  for (guint i = 0; i < RS_SET_COUNT; i++) {
    g_free (s->value[i]);
    g_free (s->source[i]);
  }
  memset (s, 0, sizeof *s);
}

GOptionEntry *
rs_train_settings_option_entries (char **flags)
{
  GOptionEntry *e = g_new0 (GOptionEntry, RS_SET_COUNT + 1);

  for (guint i = 0; i < RS_SET_COUNT; i++) {
    e[i].long_name = specs[i].key;
    e[i].short_name = specs[i].short_name;
    e[i].arg = specs[i].type == T_PATH ? G_OPTION_ARG_FILENAME : G_OPTION_ARG_STRING;
    e[i].arg_data = &flags[i];
    e[i].description = specs[i].help;
    e[i].arg_description = specs[i].arg;
  }
  return e;
}

void
rs_train_settings_apply_flags (RsTrainSettings *s, char **flags)
{
  for (guint i = 0; i < RS_SET_COUNT; i++)
    if (flags[i] != NULL)
      set_value (s, i, flags[i], g_strconcat ("--", specs[i].key, NULL));
}

void
rs_train_settings_default_lr (RsTrainSettings *s)
{
  const char *opt = s->value[RS_SET_OPTIMIZER];

  if (s->value[RS_SET_LR] == NULL)
    s->value[RS_SET_LR] = g_strdup (opt && strcmp (opt, "sgd") == 0 ? "0.01" : "0.001");
}

static int
find_spec (const char *group, const char *key)
{
  for (guint i = 0; i < RS_SET_COUNT; i++)
    if (strcmp (specs[i].group, group) == 0 && strcmp (specs[i].key, key) == 0)
      return (int) i;
  return -1;
}

/* The 1-based line of key in [group] of text, for messages (0: not found).
 * GKeyFile keeps no line numbers, so the text is scanned as it parses it:
 * a line "[group]" starts a group, "key = value" sets a key. */
static guint
line_of (const char *text, const char *group, const char *key)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gboolean in_group = group == NULL;

  for (guint i = 0; lines[i] != NULL; i++) {
    char *line = g_strstrip (lines[i]);
    if (line[0] == '[') {
      char *end = strchr (line, ']');
      if (end != NULL) {
        *end = '\0';
        in_group = strcmp (line + 1, group) == 0;
        if (key == NULL && in_group)
          return i + 1;
      }
    } else if (in_group && key != NULL && g_str_has_prefix (line, key)) {
      const char *rest = line + strlen (key);
      while (*rest == ' ' || *rest == '\t')
        rest++;
      if (*rest == '=')
        return i + 1;
    }
  }
  return 0;
}

static char *
where (const char *display, guint line)
{
  return line ? g_strdup_printf ("%s:%u", display, line) : g_strdup (display);
}

static gboolean
apply_keyfile (RsTrainSettings *s, GKeyFile *kf, const char *text, const char *display,
               const char *base_dir, GError **error)
{
  g_auto (GStrv) group_names = g_key_file_get_groups (kf, NULL);

  for (guint g = 0; group_names[g] != NULL; g++) {
    const char *group = group_names[g];
    g_auto (GStrv) keys = NULL;
    gboolean known = FALSE;

    for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
      known = known || strcmp (group, groups[i]) == 0;
    if (!known) {
      g_autofree char *at = where (display, line_of (text, group, NULL));
      g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT,
                   "%s: unknown group [%s] (known: [data], [features], [model], [training], "
                   "[output])", at,
                   group);
      return FALSE;
    }
    keys = g_key_file_get_keys (kf, group, NULL, NULL);
    for (guint k = 0; keys[k] != NULL; k++) {
      const int id = find_spec (group, keys[k]);
      const guint line = line_of (text, group, keys[k]);
      g_autofree char *at = where (display, line);
      g_autofree char *value = NULL;
      g_autoptr (GError) local = NULL;

      if (id < 0) {
        g_autoptr (GString) known_keys = g_string_new (NULL);
        for (guint i = 0; i < RS_SET_COUNT; i++)
          if (strcmp (specs[i].group, group) == 0)
            g_string_append_printf (known_keys, "%s%s", known_keys->len ? ", " : "",
                                    specs[i].key);
        g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "%s: unknown key '%s' in [%s] "
                     "(known: %s)", at, keys[k], group, known_keys->str);
        return FALSE;
      }
      value = g_key_file_get_string (kf, group, keys[k], &local);
      if (value == NULL) {
        g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "%s: [%s] %s: %s", at, group, keys[k],
                     local->message);
        return FALSE;
      }
      g_strstrip (value);
      if (specs[id].type == T_PATH && base_dir != NULL && value[0] != '\0' &&
          strcmp (value, "-") != 0 && !g_path_is_absolute (value)) {
        char *joined = strcmp (base_dir, ".") == 0 ? g_strdup (value)
                                                   : g_build_filename (base_dir, value, NULL);
        g_free (value);
        value = joined;
      }
      set_value (s, (guint) id, value, g_strdup_printf ("%s: [%s] %s", at, group, keys[k]));
    }
  }
  return TRUE;
}

gboolean
rs_train_settings_apply_file (RsTrainSettings *s, const char *path, GError **error)
{
  g_autofree char *text = NULL, *dir = NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, &local)) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "%s", local->message);
    return FALSE;
  }
  if (!g_key_file_load_from_data (kf, text, len, G_KEY_FILE_NONE, &local)) {
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "%s: %s", path, local->message);
    return FALSE;
  }
  dir = g_path_get_dirname (path);
  return apply_keyfile (s, kf, text, path, dir, error);
}

gboolean
rs_train_settings_apply_data (RsTrainSettings *s, const char *data, const char *source,
                              GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;

  if (!g_key_file_load_from_data (kf, data, (gsize) -1, G_KEY_FILE_NONE, &local)) {
    g_set_error (error, RS_ERROR, RS_ERROR_PARSE, "%s: %s", source, local->message);
    return FALSE;
  }
  return apply_keyfile (s, kf, data, source, NULL, error);
}

char *
rs_train_settings_to_data (const RsTrainSettings *s)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();

  for (guint i = 0; i < RS_SET_COUNT; i++)
    if (s->value[i] != NULL)
      g_key_file_set_string (kf, specs[i].group, specs[i].key, s->value[i]);
  return g_key_file_to_data (kf, NULL, NULL);
}

static gboolean
bad (GError **error, const RsTrainSettings *s, guint id, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

static gboolean
bad (GError **error, const RsTrainSettings *s, guint id, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "%s: %s",
               s->source[id] ? s->source[id] : specs[id].key, message);
  return FALSE;
}

static gboolean
parse_number (const char *text, double *out)
{
  char *end;

  errno = 0;
  *out = g_ascii_strtod (text, &end);
  return text[0] != '\0' && *end == '\0' && errno == 0 && isfinite (*out);
}

static gboolean
check_value (const RsTrainSettings *s, guint id, double *number, GError **error)
{
  const Spec *sp = &specs[id];
  const char *v = s->value[id];

  switch (sp->type) {
  case T_TEXT:
  case T_PATH:
    return TRUE;
  case T_CHOICE: {
    g_auto (GStrv) choices = g_strsplit (sp->choices, "|", -1);
    if (g_strv_contains ((const char *const *) choices, v))
      return TRUE;
    {
      g_autofree char *list = g_strjoinv (", ", choices);
      return bad (error, s, id, "'%s' is not one of %s", v, list);
    }
  }
  case T_UINT: {
    for (const char *p = v; *p; p++)
      if (!g_ascii_isdigit (*p))
        return bad (error, s, id, "'%s' is not a whole number", v);
    if (v[0] == '\0' || !parse_number (v, number))
      return bad (error, s, id, "'%s' is not a whole number", v);
    if (*number < sp->min || *number > sp->max)
      return bad (error, s, id, "%s is out of range [%.0f, %.0f]", v, sp->min, sp->max);
    return TRUE;
  }
  case T_NUMBER:
    if (!parse_number (v, number))
      return bad (error, s, id, "'%s' is not a number", v);
    if (*number < sp->min || *number > sp->max || (sp->min_open && *number == sp->min))
      return bad (error, s, id, "%s is out of range %s%g, %g]", v, sp->min_open ? "(" : "[",
                  sp->min, sp->max);
    return TRUE;
  default:
    g_return_val_if_reached (FALSE);
  }
}

/* A comma-separated list, blanks around the names dropped; NULL (with the
 * error) for an empty name between commas. */
static char **
split_list (const RsTrainSettings *s, guint id, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (s->value[id], ",", -1);
  GPtrArray *list = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; parts[i] != NULL; i++) {
    g_strstrip (parts[i]);
    if (parts[i][0] == '\0' && (parts[1] != NULL || i > 0)) {
      g_ptr_array_unref (list);
      bad (error, s, id, "an empty name in '%s'", s->value[id]);
      return NULL;
    }
    if (parts[i][0] != '\0')
      g_ptr_array_add (list, g_strdup (parts[i]));
  }
  g_ptr_array_add (list, NULL);
  g_ptr_array_set_free_func (list, NULL);
  return (char **) g_ptr_array_free (list, FALSE);
}

static gboolean
required (const RsTrainSettings *s, guint id, const char *what, GError **error)
{
  if (s->value[id] != NULL && s->value[id][0] != '\0')
    return TRUE;
  g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "%s", what);
  return FALSE;
}

gboolean
rs_train_settings_parse (const RsTrainSettings *s, RsTrainConfig *c, GError **error)
{
  double n[RS_SET_COUNT] = { 0 };
  const char *task = s->value[RS_SET_TASK];
  const gboolean forecast = strcmp (task, "forecast") == 0;
  const char *loss = s->value[RS_SET_LOSS];
  const char *default_loss = forecast ? "mse"
                                      : strcmp (task, "ctc") == 0 ? "ctc" : "cross-entropy";

  memset (c, 0, sizeof *c);
  for (guint i = 0; i < RS_SET_COUNT; i++)
    if (s->value[i] != NULL && !check_value (s, i, &n[i], error))
      return FALSE;
  if (!required (s, RS_SET_INPUT, forecast ? "no training data (-i FILE.csv, or input = FILE "
                 "in [data] of the config)" : "no training data (-i LIST, or input = LIST in "
                 "[data] of the config: lines of PATH<TAB>TEXT)", error))
    return FALSE;
  if (forecast && !required (s, RS_SET_TARGET, "no target column (--target COLUMN, or target "
                             "= COLUMN in [data] of the config)", error))
    return FALSE;
  if (!required (s, RS_SET_OUTPUT, "no output model (-o MODEL, or output = FILE in [output] of "
                 "the config)", error))
    return FALSE;
  /* Settings of one kind of task given to another are mistakes, not
   * things to ignore quietly. */
  if (forecast) {
    static const RsSettingId audio_only[] = { RS_SET_VALIDATION_INPUT, RS_SET_LABELS };
    for (guint i = 0; i < G_N_ELEMENTS (audio_only); i++)
      if (s->value[audio_only[i]] != NULL && s->value[audio_only[i]][0] != '\0')
        return bad (error, s, audio_only[i], "is for the classify and ctc tasks, not forecast");
    if (loss != NULL && strcmp (loss, "mse") != 0 && strcmp (loss, "mae") != 0)
      return bad (error, s, RS_SET_LOSS, "forecast trains with mse or mae, not %s", loss);
  } else {
    static const RsSettingId forecast_only[] = { RS_SET_TARGET, RS_SET_COVARIATES,
                                                 RS_SET_TIME_COLUMN };
    /* (season, season-test, log-transform, seasonality, damping and
     * reference have defaults; only the forecast task reads them.) */
    for (guint i = 0; i < G_N_ELEMENTS (forecast_only); i++)
      if (s->value[forecast_only[i]] != NULL && s->value[forecast_only[i]][0] != '\0')
        return bad (error, s, forecast_only[i], "is for the forecast task, not %s", task);
    if (loss != NULL && strcmp (loss, default_loss) != 0)
      return bad (error, s, RS_SET_LOSS, "%s trains with the %s loss, not %s", task,
                  default_loss, loss);
    /* CTC scores whole label sequences: a window would cut them apart. */
    if (strcmp (task, "ctc") == 0 && s->value[RS_SET_WINDOW] != NULL && n[RS_SET_WINDOW] != 0)
      return bad (error, s, RS_SET_WINDOW, "ctc trains on whole utterances (window = 0): its "
                  "loss is over the whole label sequence");
  }

  c->task = task;
  c->input = s->value[RS_SET_INPUT];
  c->validation_input = s->value[RS_SET_VALIDATION_INPUT];
  c->target = s->value[RS_SET_TARGET] ? s->value[RS_SET_TARGET] : "";
  c->time_column = s->value[RS_SET_TIME_COLUMN];
  c->output = s->value[RS_SET_OUTPUT];
  c->checkpoint = s->value[RS_SET_CHECKPOINT];
  c->log = s->value[RS_SET_LOG];
  c->plot = s->value[RS_SET_PLOT];
  c->units = s->value[RS_SET_UNITS];
  c->frontend = s->value[RS_SET_FRONTEND];
  c->sample_rate = n[RS_SET_SAMPLE_RATE];
  c->missing = s->value[RS_SET_MISSING];
  c->cell = s->value[RS_SET_CELL];
  c->optimizer = s->value[RS_SET_OPTIMIZER];
  c->state = s->value[RS_SET_STATE];
  c->loss = loss != NULL ? loss : default_loss;
  c->horizon = (guint) n[RS_SET_HORIZON];
  c->hidden = (guint) n[RS_SET_HIDDEN];
  c->layers = (guint) n[RS_SET_LAYERS];
  c->warmup = (guint) n[RS_SET_WARMUP];
  /* Series are small: many cheap epochs. */
  c->epochs = s->value[RS_SET_EPOCHS] != NULL ? (guint) n[RS_SET_EPOCHS] : forecast ? 300 : 100;
  c->patience = s->value[RS_SET_PATIENCE] != NULL ? (guint) n[RS_SET_PATIENCE]
                                                  : forecast ? 40 : 10;
  c->plateau_patience = (guint) n[RS_SET_PLATEAU_PATIENCE];
  c->window = s->value[RS_SET_WINDOW] != NULL ? (guint) n[RS_SET_WINDOW] : forecast ? 24 : 0;
  c->batch = s->value[RS_SET_BATCH] != NULL ? (guint) n[RS_SET_BATCH] : forecast ? 2 : 32;
  c->checkpoint_every = (guint) n[RS_SET_CHECKPOINT_EVERY];
  c->season = (guint) n[RS_SET_SEASON];
  c->log_transform = s->value[RS_SET_LOG_TRANSFORM];
  c->seasonality = s->value[RS_SET_SEASONALITY];
  c->damping = n[RS_SET_DAMPING];
  c->season_test = strcmp (s->value[RS_SET_SEASON_TEST], "yes") == 0;
  c->reference = s->value[RS_SET_REFERENCE];
  c->freq_masks = (guint) n[RS_SET_FREQ_MASKS];
  c->freq_mask_width = (guint) n[RS_SET_FREQ_MASK_WIDTH];
  c->freq_mask_period = (guint) n[RS_SET_FREQ_MASK_PERIOD];
  c->time_masks = (guint) n[RS_SET_TIME_MASKS];
  c->time_mask_width = (guint) n[RS_SET_TIME_MASK_WIDTH];
  c->threads = n[RS_SET_THREADS] > 0 ? (guint) n[RS_SET_THREADS] : g_get_num_processors ();
  c->seed = g_ascii_strtoull (s->value[RS_SET_SEED], NULL, 10);
  c->validation = n[RS_SET_VALIDATION];
  c->lr = s->value[RS_SET_LR] != NULL ? n[RS_SET_LR]
                                      : strcmp (c->optimizer, "sgd") == 0 ? 0.01 : 0.001;
  c->momentum = n[RS_SET_MOMENTUM];
  c->weight_decay = n[RS_SET_WEIGHT_DECAY];
  c->clip = n[RS_SET_CLIP];
  c->plateau_factor = n[RS_SET_PLATEAU_FACTOR];

  if ((c->covariates = split_list (s, RS_SET_COVARIATES, error)) == NULL)
    return FALSE;
  if ((c->labels = split_list (s, RS_SET_LABELS, error)) == NULL)
    return FALSE;
  return TRUE;
}

void
rs_train_config_clear (RsTrainConfig *c)
{
  g_strfreev (c->covariates);
  g_strfreev (c->labels);
  c->covariates = NULL;
  c->labels = NULL;
}

void
rs_json_append_string (GString *out, const char *text)
{
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_printf (out, "\\%c", *p);
    else if (*p < 0x20)
      g_string_append_printf (out, "\\u%04x", *p);
    else
      g_string_append_c (out, (char) *p);
  }
  g_string_append_c (out, '"');
}

void
rs_json_append_double (GString *out, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (value))
    g_string_append (out, "null");
  else
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.17g", value));
}

gboolean
rs_train_setting_for_task (RsSettingId id, const char *task)
{
  const gboolean forecast = strcmp (task, "forecast") == 0;

  switch (id) {
  case RS_SET_VALIDATION_INPUT: case RS_SET_UNITS: case RS_SET_LABELS: case RS_SET_FRONTEND:
  case RS_SET_SAMPLE_RATE: case RS_SET_FREQ_MASKS: case RS_SET_FREQ_MASK_WIDTH:
  case RS_SET_FREQ_MASK_PERIOD: case RS_SET_TIME_MASKS: case RS_SET_TIME_MASK_WIDTH:
    return !forecast && (id != RS_SET_UNITS || strcmp (task, "ctc") == 0);
  case RS_SET_TARGET: case RS_SET_COVARIATES: case RS_SET_TIME_COLUMN: case RS_SET_MISSING:
  case RS_SET_HORIZON: case RS_SET_STATE: case RS_SET_SEASON: case RS_SET_SEASON_TEST:
  case RS_SET_LOG_TRANSFORM: case RS_SET_SEASONALITY: case RS_SET_DAMPING:
  case RS_SET_REFERENCE:
    return forecast;
  default:
    return TRUE;
  }
}

void
rs_train_settings_append_json (const RsTrainSettings *s, GString *out)
{
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  for (guint i = 0; i < RS_SET_COUNT; i++) {
    const char *v = s->value[i];
    double number;

    /* Where files go and how many threads ran are not part of how the
     * model was trained (the model is the same whatever the threads), nor
     * are the settings of the other kind of task. */
    if (v == NULL || specs[i].group[0] == 'o' || i == RS_SET_THREADS ||
        !rs_train_setting_for_task (i, s->value[RS_SET_TASK]))
      continue;
    if (!first)
      g_string_append (out, ", ");
    first = FALSE;
    rs_json_append_string (out, specs[i].key);
    g_string_append (out, ": ");
    if ((specs[i].type == T_UINT || specs[i].type == T_NUMBER) && parse_number (v, &number)) {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.12g", number));
    }
    else
      rs_json_append_string (out, v);
  }
  g_string_append_c (out, '}');
}
