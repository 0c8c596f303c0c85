/* What transcribe and listen share: the shipped recogniser pipeline set
 * up for a model, and the decoder's events read back. */
#ifndef RS_CLI_RECOGNIZER_H
#define RS_CLI_RECOGNIZER_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <rnnstream/rnnstream.h>

/* The shipped pipeline `name` (transcribe, listen: no sink, its events go
 * to the program) with every model file parameter set to model, the
 * source's rate to the model's sample rate, the decoder's beam (> 0) and
 * word list (NULL: any), then the --set assignments. On failure prints
 * the error and stores the exit status in *status. */
RsPipeline *rs_cli_recognizer_pipeline (const char *cmd, const char *name, const char *model,
                                        int beam, const char *words, char **sets,
                                        int *status);

/* One event of the ctcdecode element. */
typedef struct {
  gboolean final;
  double start, end;         /* seconds on the stream's clock */
  char *text;
  char *json;                /* the event as the decoder wrote it */
  JsonNode *words;           /* its "words" array */
} RsCliEvent;

/* Reads the event of frame i of a block the pipeline delivered. FALSE for
 * a frame that is not an event (no label). */
gboolean rs_cli_event_read (const float *frame, const char *label, RsCliEvent *event);
void rs_cli_event_clear (RsCliEvent *event);

#endif
