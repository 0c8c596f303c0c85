/* frontend: a model's own feature pipeline and normalisation, as its
 * metadata records them (rnnstream train writes "frontend", "sample_rate"
 * and "normalisation"), run as a chain inside this element. A serving
 * pipeline names the model and nothing else about its features, so it
 * cannot drift from what the model was trained on:
 *
 *   filesrc location=a.wav rate=16000 ! frontend model=M ! model path=M ! ...
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "../element.h"
#include "../parser.h"
#include "rnnstream/safetensors.h"

static const RsParamSpec frontend_params[] = {
  { "model", RS_PARAM_STRING, NULL, "model file whose metadata 'frontend' (a pipeline text) "
    "and 'normalisation' this element runs", 1, 0, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static gboolean
frontend_start (RsElement *self, GError **error)
{
  const char *path = rs_element_string (self, "model");
  g_autoptr (RsSafetensors) st = rs_safetensors_load (path, error);
  g_autofree char *quoted = NULL, *text = NULL, *display = NULL;
  const char *frontend, *rate_text;
  RsChain *chain;

  if (st == NULL)
    return FALSE;
  frontend = rs_safetensors_metadata (st, "frontend");
  rate_text = rs_safetensors_metadata (st, "sample_rate");
  if (frontend == NULL || rate_text == NULL)
    return rs_element_fail (self, error, "%s records no front end (metadata 'frontend' and "
                            "'sample_rate', written by rnnstream train for sound files)", path);
  if (self->in.rate > 0 && fabs (self->in.rate - g_ascii_strtod (rate_text, NULL)) > 1e-6)
    return rs_element_fail (self, error, "%s takes audio at %s Hz, but the source gives %g Hz "
                            "(set the source's rate=%s to resample)", path, rate_text,
                            self->in.rate, rate_text);
  quoted = rs_pipeline_quote (path);
  text = rs_safetensors_metadata (st, "normalisation") != NULL
           ? g_strdup_printf ("%s ! standardize from-model=%s", frontend, quoted)
           : g_strdup (frontend);
  display = g_strdup_printf ("%s (front end)", path);
  chain = rs_chain_new (text, display, error);
  if (chain == NULL)
    return FALSE;
  self->priv = chain;
  return rs_chain_start (chain, self, &self->out, error);
}

static gboolean
frontend_process (RsElement *self, const RsBlock *in, RsBlock *out, GError **error)
{
  return rs_chain_process (self->priv, in, out, error);
}

static gboolean
frontend_finish (RsElement *self, RsBlock *out, GError **error)
{
  return rs_chain_finish (self->priv, out, error);
}

static void
frontend_stop (RsElement *self)
{
  rs_chain_free (self->priv);
  self->priv = NULL;
}

static void
frontend_report (RsElement *self, GString *out)
{
  if (self->priv != NULL)
    rs_chain_report (self->priv, out);
}

static void
frontend_reset (RsElement *self)
{
  rs_chain_reset (self->priv);
}

const RsElementClass rs_frontend_class = {
  .type = "frontend",
  .description = "a model's own feature pipeline and normalisation, from its metadata",
  .role = RS_ELEMENT_FILTER,
  .params = frontend_params,
  .start = frontend_start,
  .process = frontend_process,
  .finish = frontend_finish,
  .stop = frontend_stop,
  .report = frontend_report,
  .reset = frontend_reset,
};
