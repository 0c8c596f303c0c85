/* Shared pieces of the rnnstream command-line tool. */
#ifndef RS_CLI_H
#define RS_CLI_H

#include <glib.h>

/* Exit codes of every subcommand. */
enum {
  RS_EXIT_OK = 0,
  RS_EXIT_FAILURE = 1,   /* bad input, unreadable model, failed output */
  RS_EXIT_USAGE = 2      /* bad command line */
};

typedef struct {
  const char *name;
  const char *summary;
  int (*run) (int argc, char **argv);
} RsCommand;

int rs_cmd_apply (int argc, char **argv);
int rs_cmd_inspect (int argc, char **argv);
int rs_cmd_plugins (int argc, char **argv);
int rs_cmd_run (int argc, char **argv);
int rs_cmd_batch (int argc, char **argv);
int rs_cmd_features (int argc, char **argv);
int rs_cmd_devices (int argc, char **argv);
int rs_cmd_train (int argc, char **argv);
int rs_cmd_transcribe (int argc, char **argv);
int rs_cmd_forecast (int argc, char **argv);
int rs_cmd_backtest (int argc, char **argv);
int rs_cmd_listen (int argc, char **argv);

/* Loads the pipeline spec (a file, a shipped pipeline's name or pipeline
 * text) and applies the NULL-terminated --set assignments. On failure
 * prints the error and stores the exit status in *status. */
struct RsPipeline *rs_cli_load_pipeline (const char *cmd, const char *spec, char **sets,
                                         int *status);

/* Runs pipeline; returns the exit status, having printed any error, and
 * with stats the run's statistics. */
int rs_cli_run_pipeline (const char *cmd, struct RsPipeline *pipeline, gboolean stats);

/* From now on SIGINT and SIGTERM end the input of running pipelines
 * (rs_pipeline_request_stop); a second one kills. */
void rs_cli_catch_interrupts (void);

/* DIR/BASENAME-without-extension SUFFIX: where batch and transcribe -d put
 * the output of one input. */
char *rs_cli_output_path (const char *input, const char *dir, const char *suffix);

/* A forecaster's columns, from its metadata (forecast.c): columns, the
 * target then its covariates joined by commas; the time column or NULL;
 * the target; and when horizon is not NULL its H. The caller frees the
 * three strings. FALSE with RS_ERROR_MODEL when
 * the file is not a forecaster of rnnstream train, or the errors of
 * reading it. */
gboolean rs_cli_forecast_columns (const char *model, char **columns, char **time_column,
                                  char **target, guint *horizon, GError **error);

/* Prints "rnnstream CMD: MESSAGE" on stderr; returns code. */
int rs_cli_error (const char *cmd, int code, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Parses options for cmd; on failure prints the message and returns FALSE.
 * parameter_string and summary go to --help. */
gboolean rs_cli_parse (const char *cmd, const char *parameter_string, const char *summary,
                       const GOptionEntry *entries, int *argc, char ***argv);

#endif
