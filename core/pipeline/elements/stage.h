/* The element side of a streaming stage with the accept / pop / finish
 * shape that the feature extractor, deltas and CMVN share: frames (or
 * samples) go in as they come, finished frames come out in order, and the
 * end of the stream releases what the stage held back for lookahead. */
#ifndef RS_STAGE_ELEMENT_H
#define RS_STAGE_ELEMENT_H

#include "../element.h"

typedef struct RsStage {
  gpointer stage;
  gsize (*accept) (gpointer stage, const float *data, gsize n);
  gboolean (*pop) (gpointer stage, float *frame, gint64 *index);
  void (*finish) (gpointer stage);
  void (*free) (gpointer stage);
  /* Optional: forgets the stream's statistics; the stage's frame indices
   * restart, which rs_stage_reset hides by offsetting them. */
  void (*reset) (gpointer stage);
  char *description;         /* for --stats */
  gint64 index_offset;       /* added to the stage's indices: the clock goes on */
  gint64 next_index;         /* the index after the last frame out */
} RsStage;

/* The element's priv must be an RsStage (set up by the element's start). */
gboolean rs_stage_process (RsElement *self, const RsBlock *in, RsBlock *out, GError **error);
gboolean rs_stage_finish (RsElement *self, RsBlock *out, GError **error);
void rs_stage_stop (RsElement *self);
void rs_stage_report (RsElement *self, GString *out);
/* For stages with a reset: the element class's reset. */
void rs_stage_reset (RsElement *self);

/* "--name=value" for every parameter of self that was set (see
 * rs_element_is_set), skipping the names in except (NULL-terminated). */
GPtrArray *rs_stage_option_args (const RsElement *self, const char *const *except);

#endif
