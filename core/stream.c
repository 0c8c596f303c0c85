/* Stateful block-by-block execution of a model (see rnnstream/stream.h). */
#include "config.h"

#include <string.h>

#include "model-private.h"
#include "rnnstream/error.h"
#include "rnnstream/stream.h"

struct RsStream {
  const RsModel *model;
  guint n_streams;
  float *state;              /* all layers: [layer][stream][state_size] */
  gsize *state_offset;       /* per layer, in floats */
  gsize state_floats;
  void *scratch;             /* the largest any layer needs for RS_MAX_BLOCK frames */
  float *buf[2];             /* layer outputs, ping-pong: RS_MAX_BLOCK * n_streams * widest */
};

RsStream *
rs_stream_new (const RsModel *model, guint n_streams, GError **error)
{
  RsStream *s;
  gsize scratch_bytes = 0, widest = 0;

  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (n_streams >= 1, NULL);

  if (model->bidirectional) {
    g_set_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED,
                 "%s is bidirectional: its reverse direction reads each sequence from the end, "
                 "so no output exists before the input is complete; it cannot stream (run it "
                 "over whole files instead)", model->display_name);
    return NULL;
  }

  s = g_new0 (RsStream, 1);
  s->model = model;
  s->n_streams = n_streams;
  s->state_offset = g_new0 (gsize, model->n_layers);
  for (guint l = 0; l < model->n_layers; l++) {
    const RsLayer *layer = &model->layers[l];
    s->state_offset[l] = s->state_floats;
    s->state_floats += (gsize) n_streams * layer->info.state_size;
    scratch_bytes = MAX (scratch_bytes, model->desc->scratch_size (layer->cells[0], RS_MAX_BLOCK,
                                                                   n_streams));
    widest = MAX (widest, rs_layer_width (model, l));
  }
  s->state = g_new (float, s->state_floats);
  s->scratch = g_aligned_alloc (MAX (scratch_bytes, 1), 1, RS_CELL_SCRATCH_ALIGN);
  for (int i = 0; i < 2; i++)
    s->buf[i] = g_new (float, (gsize) RS_MAX_BLOCK * n_streams * widest);
  rs_stream_reset (s);
  return s;
}

void
rs_stream_free (RsStream *stream)
{
  if (stream == NULL)
    return;
  g_free (stream->state);
  g_free (stream->state_offset);
  g_aligned_free (stream->scratch);
  g_free (stream->buf[0]);
  g_free (stream->buf[1]);
  g_free (stream);
}

const RsModel *
rs_stream_get_model (const RsStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);
  return stream->model;
}

guint
rs_stream_n_streams (const RsStream *stream)
{
  g_return_val_if_fail (stream != NULL, 0);
  return stream->n_streams;
}

void
rs_stream_reset (RsStream *stream)
{
  const RsModel *m;

  g_return_if_fail (stream != NULL);
  m = stream->model;
  for (guint l = 0; l < m->n_layers; l++)
    m->desc->reset_state (m->layers[l].cells[0], stream->n_streams,
                          stream->state + stream->state_offset[l]);
}

void
rs_stream_reset_one (RsStream *stream, guint index)
{
  const RsModel *m;

  g_return_if_fail (stream != NULL);
  g_return_if_fail (index < stream->n_streams);
  m = stream->model;
  for (guint l = 0; l < m->n_layers; l++)
    m->desc->reset_state (m->layers[l].cells[0], 1,
                          stream->state + stream->state_offset[l] +
                            (gsize) index * m->layers[l].info.state_size);
}

/* One block of at most RS_MAX_BLOCK frames through every layer and the
 * head. Layer by layer, not frame by frame: each layer then sees the whole
 * block and can batch its input projections into one matrix product. */
static void
forward_block (RsStream *s, guint n_frames, const float *input, float *output)
{
  const RsModel *m = s->model;
  const float *in = input;
  gsize in_stride = m->input_size;
  const gsize rows = (gsize) n_frames * s->n_streams;

  for (guint l = 0; l < m->n_layers; l++) {
    const gboolean last = l + 1 == m->n_layers;
    float *out = last && !m->has_head ? output : s->buf[l % 2];
    const gsize width = rs_layer_width (m, l);

    m->desc->forward (m->layers[l].cells[0], n_frames, s->n_streams, in, in_stride,
                      s->state + s->state_offset[l], out, width, s->scratch);
    in = out;
    in_stride = width;
  }
  if (m->has_head)
    rs_linear_forward (&m->head, rows, in, in_stride, output, m->output_size);
}

void
rs_stream_forward (RsStream *stream, gsize n_frames, const float *input, float *output)
{
  const RsModel *m;

  g_return_if_fail (stream != NULL);
  g_return_if_fail (n_frames == 0 || (input != NULL && output != NULL));

  m = stream->model;
  while (n_frames > 0) {
    const guint block = (guint) MIN (n_frames, RS_MAX_BLOCK);
    const gsize rows = (gsize) block * stream->n_streams;

    forward_block (stream, block, input, output);
    input += rows * m->input_size;
    output += rows * m->output_size;
    n_frames -= block;
  }
}

/* Snapshot layout, all integers little-endian:
 *   8  magic "RSSTATE1"
 *   4  format version (1)
 *   4  number of streams
 *   4  number of layers
 *   4  reserved (0)
 *   64 the model's SHA-256, hex
 *   8  number of state floats N
 *   4N the state, IEEE-754 binary32, little-endian
 *   32 SHA-256 of everything above
 * The model digest makes a snapshot from other weights fail loudly instead
 * of resuming with a state that means nothing to them. */
#define SNAPSHOT_MAGIC "RSSTATE1"
#define SNAPSHOT_VERSION 1
#define SNAPSHOT_HEADER (8 + 4 * 4 + 64 + 8)
#define SNAPSHOT_DIGEST 32

static void
put_u32 (guint8 *p, guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, 4);
}

static guint32
get_u32 (const guint8 *p)
{
  guint32 v;
  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static void
sha256 (const guint8 *data, gsize len, guint8 out[SNAPSHOT_DIGEST])
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize out_len = SNAPSHOT_DIGEST;

  g_checksum_update (sum, data, len);
  g_checksum_get_digest (sum, out, &out_len);
}

GBytes *
rs_stream_save_state (const RsStream *stream)
{
  gsize len;
  guint8 *buf, *p;
  guint64 n;

  g_return_val_if_fail (stream != NULL, NULL);

  len = SNAPSHOT_HEADER + stream->state_floats * 4 + SNAPSHOT_DIGEST;
  buf = g_malloc0 (len);
  memcpy (buf, SNAPSHOT_MAGIC, 8);
  put_u32 (buf + 8, SNAPSHOT_VERSION);
  put_u32 (buf + 12, stream->n_streams);
  put_u32 (buf + 16, stream->model->n_layers);
  memcpy (buf + 24, stream->model->digest, MIN (strlen (stream->model->digest), 64));
  n = GUINT64_TO_LE ((guint64) stream->state_floats);
  memcpy (buf + 88, &n, 8);
  p = buf + SNAPSHOT_HEADER;
  for (gsize i = 0; i < stream->state_floats; i++, p += 4) {
    guint32 bits;
    memcpy (&bits, &stream->state[i], 4);
    put_u32 (p, bits);
  }
  sha256 (buf, len - SNAPSHOT_DIGEST, buf + len - SNAPSHOT_DIGEST);
  return g_bytes_new_take (buf, len);
}

gboolean
rs_stream_load_state (RsStream *stream, GBytes *bytes, GError **error)
{
  gsize len;
  const guint8 *buf;
  guint8 digest[SNAPSHOT_DIGEST];
  guint64 n;
  char model_digest[65] = { 0 };

  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (bytes != NULL, FALSE);

  buf = g_bytes_get_data (bytes, &len);
  if (len < SNAPSHOT_HEADER + SNAPSHOT_DIGEST || memcmp (buf, SNAPSHOT_MAGIC, 8) != 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_STATE, "not an rnnstream state snapshot");
    return FALSE;
  }
  if (get_u32 (buf + 8) != SNAPSHOT_VERSION) {
    g_set_error (error, RS_ERROR, RS_ERROR_STATE, "state snapshot format %u is not supported "
                 "(this rnnstream reads format %d)", get_u32 (buf + 8), SNAPSHOT_VERSION);
    return FALSE;
  }
  memcpy (model_digest, buf + 24, 64);
  if (strcmp (model_digest, stream->model->digest) != 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_STATE, "state snapshot was taken with another model "
                 "(sha256 %.12s..., this one is %.12s...)", model_digest, stream->model->digest);
    return FALSE;
  }
  if (get_u32 (buf + 12) != stream->n_streams || get_u32 (buf + 16) != stream->model->n_layers) {
    g_set_error (error, RS_ERROR, RS_ERROR_STATE, "state snapshot holds %u streams, this "
                 "stream runs %u", get_u32 (buf + 12), stream->n_streams);
    return FALSE;
  }
  memcpy (&n, buf + 88, 8);
  n = GUINT64_FROM_LE (n);
  if (n != stream->state_floats || len != SNAPSHOT_HEADER + n * 4 + SNAPSHOT_DIGEST) {
    g_set_error (error, RS_ERROR, RS_ERROR_STATE, "state snapshot is truncated or holds a "
                 "state of another size (%" G_GUINT64_FORMAT " floats, this stream has %"
                 G_GSIZE_FORMAT ")", n, stream->state_floats);
    return FALSE;
  }
  sha256 (buf, len - SNAPSHOT_DIGEST, digest);
  if (memcmp (digest, buf + len - SNAPSHOT_DIGEST, SNAPSHOT_DIGEST) != 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_STATE, "state snapshot is corrupt (checksum mismatch)");
    return FALSE;
  }
  for (gsize i = 0; i < stream->state_floats; i++) {
    guint32 bits = get_u32 (buf + SNAPSHOT_HEADER + 4 * i);
    memcpy (&stream->state[i], &bits, 4);
  }
  return TRUE;
}
