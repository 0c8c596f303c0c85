/* Complete-or-absent output files (see rnnstream/atomic-file.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "rnnstream/atomic-file.h"
#include "rnnstream/error.h"

struct RsAtomicFile {
  char *path;
  char *tmp_path;
  FILE *stream;
};

RsAtomicFile *
rs_atomic_file_new (const char *path, GError **error)
{
  RsAtomicFile *file;
  int fd, saved;

  g_return_val_if_fail (path != NULL, NULL);

  file = g_new0 (RsAtomicFile, 1);
  file->path = g_strdup (path);
  /* A hidden name in the destination's directory: rename() is atomic only
   * within one file system, and the dot keeps globbing tools away. */
  {
    g_autofree char *dir = g_path_get_dirname (path);
    g_autofree char *base = g_path_get_basename (path);
    g_autofree char *tmp_base = g_strdup_printf (".%s.XXXXXX", base);
    file->tmp_path = g_build_filename (dir, tmp_base, NULL);
  }
  fd = g_mkstemp_full (file->tmp_path, O_RDWR, 0666);
  if (fd < 0) {
    saved = errno;
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "cannot write %s: %s", path, g_strerror (saved));
    g_free (file->tmp_path);
    file->tmp_path = NULL;
    rs_atomic_file_abort (file);
    return NULL;
  }
  file->stream = fdopen (fd, "w");
  if (file->stream == NULL) {
    saved = errno;
    close (fd);
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "cannot write %s: %s", path, g_strerror (saved));
    rs_atomic_file_abort (file);
    return NULL;
  }
  return file;
}

FILE *
rs_atomic_file_stream (RsAtomicFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  return file->stream;
}

gboolean
rs_atomic_file_commit (RsAtomicFile *file, GError **error)
{
  int failed_errno = 0;

  g_return_val_if_fail (file != NULL, FALSE);

  if (ferror (file->stream))
    failed_errno = EIO;
  if (fflush (file->stream) != 0 && failed_errno == 0)
    failed_errno = errno;
  if (failed_errno == 0 && fsync (fileno (file->stream)) != 0)
    failed_errno = errno;
  if (fclose (file->stream) != 0 && failed_errno == 0)
    failed_errno = errno;
  file->stream = NULL;
  if (failed_errno == 0 && g_rename (file->tmp_path, file->path) != 0)
    failed_errno = errno;
  if (failed_errno != 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "cannot write %s: %s", file->path,
                 g_strerror (failed_errno));
    rs_atomic_file_abort (file);
    return FALSE;
  }
  g_free (file->tmp_path);
  file->tmp_path = NULL;
  rs_atomic_file_abort (file);
  return TRUE;
}

void
rs_atomic_file_abort (RsAtomicFile *file)
{
  if (file == NULL)
    return;
  if (file->stream != NULL)
    fclose (file->stream);
  if (file->tmp_path != NULL)
    g_unlink (file->tmp_path);
  g_free (file->tmp_path);
  g_free (file->path);
  g_free (file);
}
