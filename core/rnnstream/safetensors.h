/* Reading safetensors files.
 *
 * The format: 8 bytes, a little-endian u64 N; N bytes of UTF-8 JSON, an
 * object mapping tensor names to {"dtype", "shape", "data_offsets": [begin,
 * end]} plus an optional "__metadata__" object of string values; then the
 * byte buffer, which the offsets index relative to its start. The buffer must
 * be covered exactly: no tensor may overlap another and no byte may be left
 * unindexed, as the format's specification requires.
 *
 * Every tensor is converted to float32 on load (F32 copied, F16, BF16 and F64
 * converted), so the rest of rnnstream only ever sees float32. Other dtypes
 * (integers, booleans, F8) are refused with an error naming the tensor.
 *
 * The header must be strict JSON (RFC 8259): comments, single quotes,
 * trailing commas, integers beyond 64 bits, \u0000 escapes and duplicate
 * keys in any object are refused, as are tensor names that are empty. The
 * header may be padded with trailing whitespace, as writers do to align the
 * data buffer. Keys of a tensor entry other than dtype, shape and
 * data_offsets are ignored, as by the reference implementation.
 */
#ifndef RS_SAFETENSORS_H
#define RS_SAFETENSORS_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

#define RS_TENSOR_MAX_DIMS 8

/* Largest JSON header accepted, as in the reference implementation. */
#define RS_SAFETENSORS_MAX_HEADER (100u * 1024u * 1024u)

typedef enum {
  RS_DTYPE_F32,
  RS_DTYPE_F16,
  RS_DTYPE_BF16,
  RS_DTYPE_F64
} RsDtype;

typedef struct RsTensor {
  const char *name;
  RsDtype file_dtype;                   /* dtype as stored in the file */
  guint ndim;                           /* 0 (a scalar) .. RS_TENSOR_MAX_DIMS */
  guint64 shape[RS_TENSOR_MAX_DIMS];
  guint64 n_elements;                   /* product of shape (1 for a scalar) */
  const float *data;                    /* n_elements floats, 64-byte aligned;
                                           never NULL, even for 0 elements */
} RsTensor;

typedef struct RsSafetensors RsSafetensors;

/* Reads and validates the file at path. Returns a new RsSafetensors owned by
 * the caller (free with rs_safetensors_free), or NULL with error set
 * (RS_ERROR_IO when the file cannot be read, RS_ERROR_MODEL_FORMAT when it is
 * malformed; the message starts with the path). */
RS_API RsSafetensors *rs_safetensors_load (const char *path, GError **error);

/* As rs_safetensors_load, on bytes already in memory (not retained).
 * display_name is used in error messages. */
RS_API RsSafetensors *rs_safetensors_parse (const guint8 *data, gsize len,
                                            const char *display_name,
                                            GError **error);

RS_API void rs_safetensors_free (RsSafetensors *st);

/* The tensors, sorted by name; index < rs_safetensors_n_tensors(). The
 * returned pointers live as long as st. */
RS_API guint rs_safetensors_n_tensors (const RsSafetensors *st);
RS_API const RsTensor *rs_safetensors_tensor (const RsSafetensors *st,
                                              guint index);

/* The tensor called name, or NULL. */
RS_API const RsTensor *rs_safetensors_lookup (const RsSafetensors *st,
                                              const char *name);

/* The "__metadata__" value for key, or NULL. */
RS_API const char *rs_safetensors_metadata (const RsSafetensors *st,
                                            const char *key);

/* The metadata keys, sorted, NULL-terminated; owned by st. */
RS_API const char *const *rs_safetensors_metadata_keys (const RsSafetensors *st);

/* A SHA-256 hex digest of the whole file, computed on load; identifies the
 * exact weights (used to check that a state snapshot fits a model). */
RS_API const char *rs_safetensors_digest (const RsSafetensors *st);

/* "F32", "F16", "BF16" or "F64". */
RS_API const char *rs_dtype_name (RsDtype dtype);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsSafetensors, rs_safetensors_free)

G_END_DECLS

#endif
