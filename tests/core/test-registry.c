/* Plugin discovery and every refusal the loader makes. */
#include <string.h>

#include <glib/gstdio.h>
#include <rnnstream/rnnstream.h>

static const char *
env_dir (const char *var)
{
  const char *dir = g_getenv (var);

  g_assert_nonnull (dir);
  return dir;
}

static char *
bad_plugin (const char *kind)
{
  g_autofree char *file = g_strdup_printf ("bad-%s.so", kind);
  return g_build_filename (env_dir ("RS_TEST_BAD_PLUGINS"), file, NULL);
}

/* A registry holding the real in-tree plugins only. */
static RsRegistry *
real_registry (void)
{
  RsRegistry *registry = rs_registry_new ();

  rs_registry_scan_directory (registry, env_dir ("RS_TEST_PLUGINS"));
  g_assert_cmpuint (rs_registry_n_refusals (registry), ==, 0);
  return registry;
}

static void
test_finds_builtin_cells (void)
{
  g_autoptr (RsRegistry) registry = real_registry ();
  const char *expected[] = { "gru", "lstm", "rnn_relu", "rnn_tanh" };
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (rs_registry_n_entries (registry), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++) {
    const RsPluginEntry *e = rs_registry_entry (registry, i);
    g_assert_cmpstr (e->name, ==, expected[i]);
    g_assert_true (g_path_is_absolute (e->path));
    g_assert_true (g_str_has_prefix (e->path, env_dir ("RS_TEST_PLUGINS")));
    g_assert_nonnull (rs_registry_lookup (registry, expected[i], &error));
    g_assert_no_error (error);
  }
  g_assert_null (rs_registry_lookup (registry, "transformer", &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "'transformer'"));
  g_assert_nonnull (strstr (error->message, "gru lstm rnn_relu rnn_tanh"));
}

typedef struct {
  const char *kind;
  const char *phrase;
} Refusal;

static void
test_refusals (void)
{
  const Refusal cases[] = {
    { "no-entry", "no symbol rs_cell_plugin_descriptor" },
    { "abi-major", "built for cell ABI 2.0" },
    { "abi-minor", "built for cell ABI 1.99" },
    { "size", "descriptor is 16 bytes" },
    { "duplicate", "cell 'gru' is already provided by" },
    { "twice", "cell 'broken' is exported twice" },
    { "empty", "exports no cell" },
    { "missing-func", "lacks a required entry point" },
    { "name", "cell name is missing or not made of" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (RsRegistry) registry = real_registry ();
    g_autofree char *path = bad_plugin (cases[i].kind);
    g_autoptr (GError) error = NULL;

    g_test_message ("plugin %s", path);
    g_assert_false (rs_registry_load_file (registry, path, &error));
    g_assert_error (error, RS_ERROR, RS_ERROR_PLUGIN);
    g_assert_nonnull (strstr (error->message, path));
    g_assert_nonnull (strstr (error->message, cases[i].phrase));
    /* Refused as a whole: nothing of it registered, the refusal kept. */
    g_assert_cmpuint (rs_registry_n_entries (registry), ==, 4);
    g_assert_cmpuint (rs_registry_n_refusals (registry), ==, 1);
    g_assert_cmpstr (rs_registry_refusal (registry, 0), ==, error->message);
  }
}

static void
test_not_a_shared_object (void)
{
  g_autoptr (RsRegistry) registry = rs_registry_new ();
  g_autofree char *dir = g_dir_make_tmp ("rs-registry-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "garbage.so", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, "this is not an ELF file\n", -1, NULL));
  g_assert_false (rs_registry_load_file (registry, path, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_PLUGIN);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "not a loadable shared object"));
  /* A scan reports it too and goes on. */
  rs_registry_scan_directory (registry, dir);
  g_assert_cmpuint (rs_registry_n_refusals (registry), ==, 2);
  g_unlink (path);
  g_rmdir (dir);
}

static char *
copy_to_dir (const char *src, const char *dir, const char *name)
{
  g_autofree char *contents = NULL;
  gsize len;
  char *dst = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_get_contents (src, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (dst, contents, (gssize) len, NULL));
  return dst;
}

/* RNNSTREAM_PLUGIN_PATH is searched before the system directory, and the
 * current directory never implicitly, even through empty path entries. */
static void
test_search_path (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-registry-XXXXXX", NULL);
  g_autofree char *extra_src = bad_plugin ("good-extra");
  g_autofree char *extra = copy_to_dir (extra_src, dir, "extra.so");
  g_autofree char *old_cwd = g_get_current_dir ();
  g_autofree char *dup_src = bad_plugin ("duplicate");
  g_autofree char *dup = NULL;

  /* A plugin in the current directory with empty path entries. */
  g_assert_cmpint (g_chdir (dir), ==, 0);
  g_setenv ("RNNSTREAM_PLUGIN_PATH", "::", TRUE);
  g_setenv ("RNNSTREAM_PLUGIN_SYSTEM_PATH", "", TRUE);
  {
    g_autoptr (RsRegistry) registry = rs_registry_new ();
    rs_registry_scan_default (registry);
    g_assert_cmpuint (rs_registry_n_entries (registry), ==, 0);
    g_assert_cmpuint (rs_registry_n_refusals (registry), ==, 0);
  }
  g_assert_cmpint (g_chdir (old_cwd), ==, 0);

  /* The user directory, then the system one. */
  g_setenv ("RNNSTREAM_PLUGIN_PATH", dir, TRUE);
  g_setenv ("RNNSTREAM_PLUGIN_SYSTEM_PATH", env_dir ("RS_TEST_PLUGINS"), TRUE);
  {
    g_autoptr (RsRegistry) registry = rs_registry_new ();
    g_autoptr (GError) error = NULL;
    rs_registry_scan_default (registry);
    g_assert_cmpuint (rs_registry_n_entries (registry), ==, 5);
    g_assert_nonnull (rs_registry_lookup (registry, "extra_cell", &error));
    g_assert_no_error (error);
  }

  /* A user plugin claiming "gru" comes first; the system one is refused. */
  dup = copy_to_dir (dup_src, dir, "mygru.so");
  {
    g_autoptr (RsRegistry) registry = rs_registry_new ();
    rs_registry_scan_default (registry);
    g_assert_cmpuint (rs_registry_n_refusals (registry), ==, 1);
    g_assert_nonnull (strstr (rs_registry_refusal (registry, 0), "gru.so refused: cell 'gru' "
                              "is already provided by"));
    g_assert_nonnull (strstr (rs_registry_refusal (registry, 0), dup));
  }
  g_unsetenv ("RNNSTREAM_PLUGIN_PATH");
  g_unlink (extra);
  g_unlink (dup);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/registry/builtin", test_finds_builtin_cells);
  g_test_add_func ("/registry/refusals", test_refusals);
  g_test_add_func ("/registry/not-a-shared-object", test_not_a_shared_object);
  g_test_add_func ("/registry/search-path", test_search_path);
  return g_test_run ();
}
