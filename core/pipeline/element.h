/* Pipeline elements: what every stage of a pipeline implements. Internal:
 * the element set is built in, so this interface can change with it.
 *
 * Frames flow between elements in blocks. A frame is a vector of `width`
 * floats with an index on the stream's clock and an optional label (the
 * text of a CSV time column, passed through to the output). A source fills
 * a block, each following element consumes the block before it and fills
 * its own, and the last element writes the result somewhere.
 *
 * Lifecycle, on the pipeline's thread:
 *   start     parameters are set and checked; open files, devices, models;
 *             set self->out from self->in (self->in.width may be 0: "set by
 *             the data", e.g. a CSV source without a header);
 *   fixate    only on an element whose output width is 0, when the next
 *             element needs a definite width; the element adopts it;
 *   probe     only on a source whose output width is 0, when the next
 *             element takes any width but must know it when it starts
 *             (rs_element_need_input_width): the source reads ahead until
 *             the data shows its width, and keeps what it read for its
 *             first pull;
 *   pull      sources: fill the block; 1 = more may follow, 0 = end, -1 = error;
 *   process   others: consume `in`, append to `out`;
 *   finish    at the end of the stream: append what is still held back
 *             (sinks: complete their output); NULL when nothing is;
 *   stop      release everything; called for every element that was
 *             started or whose start failed half-way, so it must cope with
 *             a partly set-up element.
 * Blocks grow on demand (rs_block_reserve); once a stream has reached its
 * steady block size no further allocation happens.
 */
#ifndef RS_PIPELINE_ELEMENT_H
#define RS_PIPELINE_ELEMENT_H

#include <glib.h>

typedef enum {
  RS_PARAM_STRING,
  RS_PARAM_INT,
  RS_PARAM_DOUBLE,
  RS_PARAM_BOOL,
  RS_PARAM_ENUM
} RsParamType;

typedef struct RsParamSpec {
  const char *name;
  RsParamType type;
  const char *default_value;   /* as the user would write it; NULL: required;
                                * "": unset, the element's own default applies */
  const char *blurb;
  double min, max;             /* INT and DOUBLE ranges, inclusive; min > max: none */
  const char *choices;         /* ENUM: "a|b|c" */
} RsParamSpec;

/* A parameter's value once checked against its spec. */
typedef struct RsParamValue {
  char *text;
  gint64 i;
  double d;
  gboolean b;
} RsParamValue;

typedef struct RsFormat {
  guint width;                 /* floats per frame; 0 until known */
  double rate;                 /* frames per second; 0 when irregular (rows of a CSV) */
  /* Optional names of the values (width of them) and of the labels, for a
   * sink's header; owned by the element that set them, valid until it
   * stops. NULL: unnamed. */
  const char *const *names;
  const char *label_name;
} RsFormat;

typedef struct RsBlock {
  gsize n;                     /* frames held */
  gsize capacity;
  guint width;
  float *data;                 /* n * width */
  gint64 *index;               /* frame index on the stream's clock */
  char **labels;               /* per frame, owned; NULL entries when unlabelled */
} RsBlock;

typedef struct RsElement RsElement;

typedef enum { RS_ELEMENT_SOURCE, RS_ELEMENT_FILTER, RS_ELEMENT_SINK } RsElementRole;

typedef struct RsElementClass {
  const char *type;
  const char *description;
  RsElementRole role;
  const RsParamSpec *params;   /* terminated by a spec with name NULL */
  gboolean (*start) (RsElement *self, GError **error);
  gboolean (*fixate) (RsElement *self, guint width, GError **error);
  gboolean (*probe) (RsElement *self, GError **error);
  int (*pull) (RsElement *self, RsBlock *out, GError **error);
  gboolean (*process) (RsElement *self, const RsBlock *in, RsBlock *out, GError **error);
  gboolean (*finish) (RsElement *self, RsBlock *out, GError **error);
  void (*stop) (RsElement *self);
  /* Optional: appends lines for --stats (conversions applied, overflows...). */
  void (*report) (RsElement *self, GString *out);
  /* Optional: forgets what the stream so far taught the element (running
   * statistics, recurrent state, a search), keeping its clock and any
   * frames it holds, so that none is lost or repeated. Real-time safe. */
  void (*reset) (RsElement *self);
} RsElementClass;

struct RsElement {
  const RsElementClass *klass;
  char *name;                  /* its type, or its name= parameter */
  RsParamValue *values;        /* one per spec, in spec order */
  RsFormat in, out;
  RsElement *upstream;         /* the element before it (NULL for the source) */
  gpointer priv;               /* the element's own state, freed by stop */
};

/* The checked value of parameter name (which must exist in the spec). */
const RsParamValue *rs_element_param (const RsElement *self, const char *name);
const char *rs_element_string (const RsElement *self, const char *name);
gint64 rs_element_int (const RsElement *self, const char *name);
double rs_element_double (const RsElement *self, const char *name);
gboolean rs_element_bool (const RsElement *self, const char *name);
/* Whether a parameter whose default is "" was given a value. */
gboolean rs_element_is_set (const RsElement *self, const char *name);

/* For the start of an element that takes any width: makes sure
 * self->in.width is known, probing the source before it when it is not (a
 * CSV source without width= or columns= reads its first row). Fails,
 * naming self, when the width stays unknown. */
gboolean rs_element_need_input_width (RsElement *self, GError **error);

/* Errors in RS_ERROR_PIPELINE prefixed with "element NAME: ". */
gboolean rs_element_fail (const RsElement *self, GError **error, const char *format, ...)
  G_GNUC_PRINTF (3, 4);

/* Parses param's value text, a comma-separated list of finite numbers (C
 * locale), into a new GArray of double; NULL with an error naming self and
 * param. */
GArray *rs_element_numbers (RsElement *self, const char *param, const char *text,
                            GError **error);

/* Makes room for at least n frames of out->width floats. */
void rs_block_reserve (RsBlock *block, gsize n);
/* Appends one frame (copying data and label); returns its data pointer. */
float *rs_block_append (RsBlock *block, const float *data, gint64 index, const char *label);
/* Drops the frames (keeps the memory). */
void rs_block_clear (RsBlock *block);
void rs_block_free_data (RsBlock *block);

/* Resets every element upstream of self that can be reset (not the
 * source, whose stream goes on): what an endpoint does with reset=true. */
void rs_element_reset_upstream (RsElement *self);

/* A chain of filter elements described by pipeline text, run inside an
 * element (a "bin": the frontend element runs a model's feature pipeline
 * this way). The chain's first element takes what its owner takes. */
typedef struct RsChain RsChain;

/* Parses and checks text (every element a filter); display_name names it
 * in errors. NULL with RS_ERROR_PIPELINE. */
RsChain *rs_chain_new (const char *text, const char *display_name, GError **error);
/* Starts the elements from owner's input format (and its upstream, which
 * may be probed) and negotiates their widths; *out is the last one's. */
gboolean rs_chain_start (RsChain *chain, RsElement *owner, RsFormat *out, GError **error);
/* Runs in through every element, appending the last one's frames to out. */
gboolean rs_chain_process (RsChain *chain, const RsBlock *in, RsBlock *out, GError **error);
/* The end of the stream: what each element holds flows through the rest. */
gboolean rs_chain_finish (RsChain *chain, RsBlock *out, GError **error);
void rs_chain_reset (RsChain *chain);
void rs_chain_report (RsChain *chain, GString *out);
/* Stops the started elements and frees the chain (NULL is fine). */
void rs_chain_free (RsChain *chain);

/* The built-in element classes, NULL-terminated. */
extern const RsElementClass *const rs_element_classes[];

#endif
