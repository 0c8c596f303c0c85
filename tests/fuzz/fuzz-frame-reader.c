/* libFuzzer target: the CSV frame reader, over arbitrary bytes, with the
 * width fixed (as `apply` uses it) and free (taken from the first row). */
#include <stdint.h>
#include <stdio.h>

#include <rnnstream/rnnstream.h>

static void
read_all (const uint8_t *data, size_t size, guint width)
{
  FILE *f = fmemopen ((void *) data, size, "r");
  RsFrameReader *r;
  const float *frame;
  int got;

  if (f == NULL)
    return;
  r = rs_frame_reader_new (f, "fuzz.csv", width);
  /* The reader goes on after a bad row; a bounded number of errors keeps
   * one input from running forever should that ever regress. */
  for (int errors = 0; errors < 1000;) {
    GError *error = NULL;
    got = rs_frame_reader_next (r, &frame, &error);
    if (got == 0)
      break;
    if (got < 0) {
      g_assert (error != NULL && error->message != NULL);
      g_error_free (error);
      errors++;
      continue;
    }
    volatile float sink = 0;
    for (guint i = 0; i < rs_frame_reader_width (r); i++)
      sink += frame[i];
    (void) sink;
  }
  rs_frame_reader_free (r);
  fclose (f);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  read_all (data, size, 0);
  read_all (data, size, 3);
  return 0;
}
