/* stack: N consecutive frames as one frame, at 1/N of the frame rate.
 *
 * Speech models gain little from 10 ms frames: a GRU over frames stacked
 * three at a time sees the same samples at a third of the cost, the trick
 * of low-frame-rate CTC models (Pundak and Sainath 2016). Only past frames
 * are stacked, so it adds no lookahead: an output frame is ready when the
 * last of its N frames has arrived. */
#include "config.h"

#include <string.h>

#include "../element.h"

typedef struct {
  guint n;                   /* frames per group */
  guint held;                /* frames of the current group so far */
  gint64 next_index;         /* the index of the next output frame */
  float *group;              /* n * in.width */
  guint64 frames_in, frames_out;
} Stack;

static const RsParamSpec stack_params[] = {
  { "frames", RS_PARAM_INT, NULL, "frames per stacked frame (the rate is divided by it)", 1,
    64, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
stack_start (RsElement *self, GError **error)
{
  Stack *s = g_new0 (Stack, 1);

  self->priv = s;
  if (!rs_element_need_input_width (self, error))
    return FALSE;
  s->n = (guint) rs_element_int (self, "frames");
  s->group = g_new0 (float, (gsize) s->n * self->in.width);
  self->out.width = s->n * self->in.width;
  self->out.rate = self->in.rate / s->n;
  return TRUE;
}

static void
emit (Stack *s, RsBlock *out)
{
  rs_block_append (out, s->group, s->next_index++, NULL);
  s->held = 0;
  s->frames_out++;
}

static gboolean
stack_process (RsElement *self, const RsBlock *in, RsBlock *out, GError **error)
{
  Stack *s = self->priv;
  const guint w = self->in.width;

  (void) error;
  rs_block_reserve (out, out->n + in->n / s->n + 1);
  for (gsize t = 0; t < in->n; t++) {
    /* The group's first frame sets the output's place on the clock, so
     * that a reset upstream (a new index) starts a new group there. */
    if (s->held == 0)
      s->next_index = in->index[t] / s->n;
    memcpy (s->group + (gsize) s->held * w, in->data + t * w, w * sizeof (float));
    s->frames_in++;
    if (++s->held == s->n)
      emit (s, out);
  }
  return TRUE;
}

/* A partial last group is completed with copies of its last frame, so
 * that the end of the input is not lost. */
static gboolean
stack_finish (RsElement *self, RsBlock *out, GError **error)
{
  Stack *s = self->priv;
  const guint w = self->in.width;

  (void) error;
  if (s->held == 0)
    return TRUE;
  for (guint k = s->held; k < s->n; k++)
    memcpy (s->group + (gsize) k * w, s->group + (gsize) (s->held - 1) * w, w * sizeof (float));
  emit (s, out);
  return TRUE;
}

static void
stack_stop (RsElement *self)
{
  Stack *s = self->priv;

  if (s == NULL)
    return;
  g_free (s->group);
  g_free (s);
  self->priv = NULL;
}

static void
stack_report (RsElement *self, GString *out)
{
  Stack *s = self->priv;

  if (s == NULL || s->group == NULL)
    return;
  g_string_append_printf (out, "%s: %u frames of %u values stacked into one of %u: %"
                          G_GUINT64_FORMAT " frames in, %" G_GUINT64_FORMAT " out\n",
                          self->name, s->n, self->in.width, self->out.width, s->frames_in,
                          s->frames_out);
}

const RsElementClass rs_stack_class = {
  .type = "stack",
  .description = "N consecutive frames as one, at 1/N of the rate (no lookahead)",
  .role = RS_ELEMENT_FILTER,
  .params = stack_params,
  .start = stack_start,
  .process = stack_process,
  .finish = stack_finish,
  .stop = stack_stop,
  .report = stack_report,
};
