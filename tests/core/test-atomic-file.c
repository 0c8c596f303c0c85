/* Output files are complete or absent. */
#include <string.h>

#include <glib/gstdio.h>
#include <rnnstream/rnnstream.h>

static void
test_commit_and_abort (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-atomic-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "out.csv", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  RsAtomicFile *f;
  GDir *d;

  /* A committed file replaces the old one. */
  g_assert_true (g_file_set_contents (path, "old\n", -1, NULL));
  f = rs_atomic_file_new (path, &error);
  g_assert_no_error (error);
  fputs ("new\n", rs_atomic_file_stream (f));
  /* Until the commit, readers still see the old contents. */
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "old\n");
  g_clear_pointer (&contents, g_free);
  g_assert_true (rs_atomic_file_commit (f, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "new\n");
  g_clear_pointer (&contents, g_free);

  /* An aborted one leaves the old file and no temporary behind. */
  f = rs_atomic_file_new (path, &error);
  fputs ("partial", rs_atomic_file_stream (f));
  rs_atomic_file_abort (f);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "new\n");
  d = g_dir_open (dir, 0, NULL);
  g_assert_cmpstr (g_dir_read_name (d), ==, "out.csv");
  g_assert_null (g_dir_read_name (d));
  g_dir_close (d);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_unwritable (void)
{
  g_autoptr (GError) error = NULL;
  RsAtomicFile *f = rs_atomic_file_new ("/nonexistent-dir/out.csv", &error);

  g_assert_null (f);
  g_assert_error (error, RS_ERROR, RS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent-dir/out.csv"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/atomic-file/commit-and-abort", test_commit_and_abort);
  g_test_add_func ("/atomic-file/unwritable", test_unwritable);
  return g_test_run ();
}
