/* The settings of `rnnstream train`: one table gives each setting's config
 * group and key (the key is also the long flag), type, range and default.
 * Values are layered: defaults, then a checkpoint's settings (--resume),
 * then the config file (--config), then the flags; each value remembers
 * where it came from, so that an error names the file, line and key, or
 * the flag. */
#ifndef RS_CLI_TRAIN_SETTINGS_H
#define RS_CLI_TRAIN_SETTINGS_H

#include <glib.h>

typedef enum {
  RS_SET_TASK, RS_SET_INPUT, RS_SET_VALIDATION_INPUT, RS_SET_TARGET, RS_SET_COVARIATES,
  RS_SET_TIME_COLUMN, RS_SET_MISSING, RS_SET_HORIZON, RS_SET_SEASON, RS_SET_SEASON_TEST,
  RS_SET_LOG_TRANSFORM, RS_SET_SEASONALITY, RS_SET_DAMPING,
  RS_SET_REFERENCE, RS_SET_VALIDATION, RS_SET_UNITS,
  RS_SET_LABELS,
  RS_SET_FRONTEND, RS_SET_SAMPLE_RATE,
  RS_SET_CELL, RS_SET_HIDDEN, RS_SET_LAYERS,
  RS_SET_OPTIMIZER, RS_SET_LR, RS_SET_MOMENTUM, RS_SET_WEIGHT_DECAY, RS_SET_CLIP,
  RS_SET_WARMUP, RS_SET_EPOCHS, RS_SET_PATIENCE, RS_SET_PLATEAU_PATIENCE,
  RS_SET_PLATEAU_FACTOR, RS_SET_WINDOW, RS_SET_BATCH, RS_SET_STATE, RS_SET_LOSS, RS_SET_SEED,
  RS_SET_THREADS, RS_SET_FREQ_MASKS, RS_SET_FREQ_MASK_WIDTH, RS_SET_FREQ_MASK_PERIOD,
  RS_SET_TIME_MASKS, RS_SET_TIME_MASK_WIDTH,
  RS_SET_OUTPUT, RS_SET_CHECKPOINT, RS_SET_CHECKPOINT_EVERY, RS_SET_LOG, RS_SET_PLOT,
  RS_SET_COUNT
} RsSettingId;

/* The values, as text (NULL: unset), and where each came from. */
typedef struct {
  char *value[RS_SET_COUNT];
  char *source[RS_SET_COUNT];  /* "FILE:LINE: [group] key", "--flag", "checkpoint FILE" */
} RsTrainSettings;

/* The settings, parsed and checked. */
typedef struct {
  const char *task, *input, *validation_input, *target, *time_column, *output, *checkpoint;
  const char *log, *plot, *units, *frontend;
  char **covariates;           /* NULL-terminated, never NULL */
  char **labels;               /* NULL-terminated, never NULL (empty: from the data) */
  const char *missing, *cell, *optimizer, *state, *loss, *log_transform, *reference, *seasonality;
  gboolean season_test;
  guint horizon, hidden, layers, warmup, epochs, patience, plateau_patience, window, batch;
  guint checkpoint_every, threads, season;
  guint freq_masks, freq_mask_width, freq_mask_period, time_masks, time_mask_width;
  double sample_rate;
  guint64 seed;
  double validation, damping, lr, momentum, weight_decay, clip, plateau_factor;
} RsTrainConfig;

void rs_train_settings_init (RsTrainSettings *s);
void rs_train_settings_clear (RsTrainSettings *s);

/* GOption entries for every setting, writing into flags (RS_SET_COUNT
 * strings, NULL when not given). Returns a new array, terminated. */
GOptionEntry *rs_train_settings_option_entries (char **flags);

/* Applies the flags given. */
void rs_train_settings_apply_flags (RsTrainSettings *s, char **flags);

/* Sets the learning rate, when nothing set it, to the optimiser's default
 * (0.001 for adam, 0.01 for sgd), so that the settings a model records
 * say what it was trained with. */
void rs_train_settings_default_lr (RsTrainSettings *s);

/* Applies a config file (GKeyFile INI); relative paths in it are taken
 * from the file's directory. FALSE with a message naming the file (and
 * line and key) for an unreadable file, an unknown group or key. */
gboolean rs_train_settings_apply_file (RsTrainSettings *s, const char *path, GError **error);

/* Applies settings saved by rs_train_settings_to_data (a checkpoint's);
 * source names them in messages. */
gboolean rs_train_settings_apply_data (RsTrainSettings *s, const char *data,
                                       const char *source, GError **error);

/* Every set value as config-file text (paths as resolved). */
char *rs_train_settings_to_data (const RsTrainSettings *s);

/* Checks every value and fills config (its strings point into s). FALSE
 * with a message naming the value's source for a value out of range, a
 * missing required setting or one that does not fit the task. Defaults
 * that depend on the task (loss, window, batch) are filled in. */
gboolean rs_train_settings_parse (const RsTrainSettings *s, RsTrainConfig *config,
                                  GError **error);
void rs_train_config_clear (RsTrainConfig *config);

/* Whether setting id must be the same when a run is resumed (everything
 * that shapes the model, the data split and the optimisation path). */
gboolean rs_train_setting_frozen (RsSettingId id);
const char *rs_train_setting_key (RsSettingId id);
/* The config group of setting id: "data", "features", "model", "training"
 * or "output". */
const char *rs_train_setting_group (RsSettingId id);
/* Whether setting id means anything to task ("forecast", "classify",
 * "ctc"): the forecast task reads no audio settings, and the others no
 * target, covariates, horizon... */
gboolean rs_train_setting_for_task (RsSettingId id, const char *task);

/* A JSON object of every setting (numbers as numbers). */
void rs_train_settings_append_json (const RsTrainSettings *s, GString *out);

/* Appends a JSON string literal of text. */
void rs_json_append_string (GString *out, const char *text);
/* Appends a JSON number (%.17g, which reads back exactly), or null when
 * value is not finite. */
void rs_json_append_double (GString *out, double value);

#endif
