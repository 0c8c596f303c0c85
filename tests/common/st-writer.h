/* Writing small F32 safetensors files in tests, tensor by tensor. */
#ifndef RS_TEST_ST_WRITER_H
#define RS_TEST_ST_WRITER_H

#include <glib.h>

typedef struct StWriter StWriter;

StWriter *st_writer_new (guint32 seed);
void st_writer_free (StWriter *w);

/* Adds (or replaces) a tensor of the given shape filled with uniform random
 * values in [-0.5, 0.5); cols == 0 makes a vector of rows. */
void st_writer_add (StWriter *w, const char *name, guint64 rows, guint64 cols);
void st_writer_remove (StWriter *w, const char *name);
void st_writer_set_metadata (StWriter *w, const char *key, const char *value);

/* The file's bytes; tensors in name order, no holes. */
GBytes *st_writer_bytes (StWriter *w);

/* Writes the file into a new temporary directory's "model.safetensors" and
 * returns its path (remove with st_writer_cleanup). */
char *st_writer_save (StWriter *w);
void st_writer_cleanup (const char *path);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StWriter, st_writer_free)

#endif
