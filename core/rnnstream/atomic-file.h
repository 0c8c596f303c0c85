/* Writing an output file so that it is either complete or absent.
 *
 * The data goes to a temporary file next to the destination (same
 * directory, so the same file system); rs_atomic_file_commit flushes it to
 * disk and renames it over the destination in one step. A crash, an error
 * or rs_atomic_file_abort leaves any previous file at the destination
 * untouched and no partial output behind.
 */
#ifndef RS_ATOMIC_FILE_H
#define RS_ATOMIC_FILE_H

#include <stdio.h>

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

typedef struct RsAtomicFile RsAtomicFile;

/* Creates the temporary file for path. Returns NULL with RS_ERROR_IO (the
 * message names the path) when it cannot be created. */
RS_API RsAtomicFile *rs_atomic_file_new (const char *path, GError **error);

/* The stream to write to; owned by the RsAtomicFile. */
RS_API FILE *rs_atomic_file_stream (RsAtomicFile *file);

/* Flushes, syncs, closes and renames into place, then frees file. Returns
 * FALSE with RS_ERROR_IO (the temporary file is removed) when any step
 * fails, a write error earlier included. */
RS_API gboolean rs_atomic_file_commit (RsAtomicFile *file, GError **error);

/* Removes the temporary file and frees file. NULL is allowed. */
RS_API void rs_atomic_file_abort (RsAtomicFile *file);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsAtomicFile, rs_atomic_file_abort)

G_END_DECLS

#endif
