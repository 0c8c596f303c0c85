/* Writing float32 safetensors files (the format rnnstream/safetensors.h
 * reads), e.g. trained models in PyTorch's state_dict naming.
 *
 * Tensors are collected in memory (copied), then written in the layout of
 * the reference implementation: an 8-byte little-endian header length N,
 * N bytes of compact UTF-8 JSON, "__metadata__" first when present, then
 * the tensors' little-endian bytes in sorted-name order with no holes; the
 * header is padded with spaces to a multiple of 8 so the data stays
 * aligned. Files are written atomically (rnnstream/atomic-file.h).
 */
#ifndef RS_SAFETENSORS_WRITER_H
#define RS_SAFETENSORS_WRITER_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

typedef struct RsSafetensorsWriter RsSafetensorsWriter;

RS_API RsSafetensorsWriter *rs_safetensors_writer_new (void);
RS_API void rs_safetensors_writer_free (RsSafetensorsWriter *writer);

/* Adds (or replaces) tensor name, of ndim (0..8) dimensions of the given
 * shape, copying its float32 values. name must be non-empty UTF-8 and not
 * "__metadata__" (checked with g_return_if_fail). */
RS_API void rs_safetensors_writer_add (RsSafetensorsWriter *writer, const char *name,
                                       guint ndim, const guint64 *shape,
                                       const float *data);

/* Sets (or replaces) a "__metadata__" string (UTF-8). */
RS_API void rs_safetensors_writer_set_metadata (RsSafetensorsWriter *writer,
                                                const char *key, const char *value);

/* The whole file. */
RS_API GBytes *rs_safetensors_writer_to_bytes (const RsSafetensorsWriter *writer);

/* Writes the file to path atomically; RS_ERROR_IO naming the path. */
RS_API gboolean rs_safetensors_writer_save (const RsSafetensorsWriter *writer,
                                            const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsSafetensorsWriter, rs_safetensors_writer_free)

G_END_DECLS

#endif
