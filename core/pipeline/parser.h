/* The pipeline language's parser: text to a list of element descriptions,
 * each parameter remembering where it was written. Internal. */
#ifndef RS_PIPELINE_PARSER_H
#define RS_PIPELINE_PARSER_H

#include <glib.h>

typedef struct RsParamText {
  char *key;
  char *value;
  guint line, column;        /* 1-based position of the key; 0 for --set */
} RsParamText;

typedef struct RsElementText {
  char *type;
  guint line, column;        /* of the type word */
  GPtrArray *params;         /* RsParamText*, in order written */
} RsElementText;

/* Parses text into a new array of RsElementText* (free with
 * g_ptr_array_unref), or NULL with RS_ERROR_PIPELINE and a message
 * "DISPLAY:LINE:COL: what was expected". */
GPtrArray *rs_pipeline_parse (const char *text, const char *display_name, GError **error);

/* Quotes value for the pipeline language when it needs it. Free with g_free. */
char *rs_pipeline_quote (const char *value);

#endif
