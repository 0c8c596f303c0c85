/* Cell plugin discovery and loading (see rnnstream/registry.h). */
#include "config.h"

#include <string.h>

#include <gmodule.h>

#include "rnnstream/error.h"
#include "rnnstream/registry.h"

/* A plugin exporting more descriptors than this is taken to be broken: its
 * entry function most likely never returns NULL. */
#define MAX_DESCRIPTORS_PER_PLUGIN 256

struct RsRegistry {
  GPtrArray *modules;    /* GModule*, kept open while the registry lives */
  GPtrArray *entries;    /* RsPluginEntry*, sorted by name once scanned */
  GPtrArray *refusals;   /* char* */
};

static void
entry_free (gpointer data)
{
  RsPluginEntry *entry = data;

  g_free ((char *) entry->path);
  g_free (entry);
}

static void
close_module (gpointer module)
{
  g_module_close (module);
}

RsRegistry *
rs_registry_new (void)
{
  RsRegistry *registry = g_new0 (RsRegistry, 1);

  registry->modules = g_ptr_array_new_with_free_func (close_module);
  registry->entries = g_ptr_array_new_with_free_func (entry_free);
  registry->refusals = g_ptr_array_new_with_free_func (g_free);
  return registry;
}

void
rs_registry_free (RsRegistry *registry)
{
  if (registry == NULL)
    return;
  /* Entries point into the modules' static data: drop them first. */
  g_ptr_array_unref (registry->entries);
  g_ptr_array_unref (registry->modules);
  g_ptr_array_unref (registry->refusals);
  g_free (registry);
}

static const RsPluginEntry *
find_entry (const RsRegistry *registry, const char *name)
{
  for (guint i = 0; i < registry->entries->len; i++) {
    const RsPluginEntry *entry = g_ptr_array_index (registry->entries, i);
    if (strcmp (entry->name, name) == 0)
      return entry;
  }
  return NULL;
}

static gboolean
is_valid_cell_name (const char *name)
{
  if (name == NULL || name[0] == '\0' || strlen (name) > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '_'))
      return FALSE;
  return TRUE;
}

/* Checks one descriptor before anything in it is called. Returns a reason
 * for refusing it, or NULL when it is acceptable. */
static char *
check_descriptor (const RsCellDescriptor *desc)
{
  if (desc->abi_major != RS_CELL_ABI_MAJOR || desc->abi_minor > RS_CELL_ABI_MINOR)
    return g_strdup_printf ("built for cell ABI %u.%u, this rnnstream supports %d.0 to %d.%d",
                            desc->abi_major, desc->abi_minor, RS_CELL_ABI_MAJOR,
                            RS_CELL_ABI_MAJOR, RS_CELL_ABI_MINOR);
  if (desc->size < sizeof (RsCellDescriptor))
    return g_strdup_printf ("descriptor is %u bytes, ABI %d.%d needs at least %zu",
                            desc->size, RS_CELL_ABI_MAJOR, RS_CELL_ABI_MINOR,
                            sizeof (RsCellDescriptor));
  if (!is_valid_cell_name (desc->name))
    return g_strdup ("cell name is missing or not made of lowercase letters, digits and '_'");
  if (desc->version == NULL || desc->description == NULL)
    return g_strdup_printf ("cell '%s' has no version or description", desc->name);
  if (desc->create == NULL || desc->free == NULL || desc->get_info == NULL ||
      desc->scratch_size == NULL || desc->reset_state == NULL || desc->forward == NULL)
    return g_strdup_printf ("cell '%s' lacks a required entry point", desc->name);
  return NULL;
}

static gboolean
refuse (RsRegistry *registry, GError **error, const char *path, const char *reason)
{
  char *message = g_strdup_printf ("plugin %s refused: %s", path, reason);

  g_ptr_array_add (registry->refusals, message);
  g_set_error_literal (error, RS_ERROR, RS_ERROR_PLUGIN, message);
  return FALSE;
}

static gint
compare_entries (gconstpointer a, gconstpointer b)
{
  const RsPluginEntry *ea = *(const RsPluginEntry *const *) a;
  const RsPluginEntry *eb = *(const RsPluginEntry *const *) b;

  return strcmp (ea->name, eb->name);
}

/* Registers every descriptor of an opened module, or none: a plugin with one
 * bad descriptor is refused as a whole, since its author shipped it broken. */
static gboolean
register_module (RsRegistry *registry, GModule *module, RsCellEntryFunc entry_func,
                 const char *path, GError **error)
{
  g_autoptr (GPtrArray) found = g_ptr_array_new ();
  const RsCellDescriptor *desc;
  guint index;

  for (index = 0; (desc = entry_func (index)) != NULL; index++) {
    g_autofree char *reason = NULL;
    const RsPluginEntry *other;

    if (index == MAX_DESCRIPTORS_PER_PLUGIN)
      return refuse (registry, error, path, "entry point returns more than 256 descriptors");
    reason = check_descriptor (desc);
    if (reason != NULL)
      return refuse (registry, error, path, reason);
    other = find_entry (registry, desc->name);
    if (other != NULL) {
      g_autofree char *dup = g_strdup_printf ("cell '%s' is already provided by %s",
                                              desc->name, other->path);
      return refuse (registry, error, path, dup);
    }
    for (guint i = 0; i < found->len; i++) {
      const RsCellDescriptor *prev = g_ptr_array_index (found, i);
      if (strcmp (prev->name, desc->name) == 0) {
        g_autofree char *dup = g_strdup_printf ("cell '%s' is exported twice", desc->name);
        return refuse (registry, error, path, dup);
      }
    }
    g_ptr_array_add (found, (gpointer) desc);
  }
  if (index == 0)
    return refuse (registry, error, path, "entry point exports no cell");

  for (guint i = 0; i < found->len; i++) {
    RsPluginEntry *entry = g_new0 (RsPluginEntry, 1);
    desc = g_ptr_array_index (found, i);
    entry->name = desc->name;
    entry->version = desc->version;
    entry->description = desc->description;
    entry->path = g_strdup (path);
    entry->descriptor = desc;
    g_ptr_array_add (registry->entries, entry);
  }
  g_ptr_array_sort (registry->entries, compare_entries);
  g_ptr_array_add (registry->modules, module);
  return TRUE;
}

gboolean
rs_registry_load_file (RsRegistry *registry, const char *path, GError **error)
{
  g_autofree char *abs_path = NULL;
  GModule *module;
  gpointer symbol = NULL;
  RsCellEntryFunc entry_func;

  g_return_val_if_fail (registry != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  /* GModule searches the system library path for a bare file name; an
   * absolute path makes it load exactly the file we were given. */
  abs_path = g_canonicalize_filename (path, NULL);
  module = g_module_open (abs_path, G_MODULE_BIND_LOCAL);
  if (module == NULL) {
    g_autofree char *reason = g_strdup_printf ("not a loadable shared object (%s)",
                                               g_module_error ());
    return refuse (registry, error, abs_path, reason);
  }
  if (!g_module_symbol (module, RS_CELL_ENTRY_SYMBOL, &symbol) || symbol == NULL) {
    g_module_close (module);
    return refuse (registry, error, abs_path, "no symbol " RS_CELL_ENTRY_SYMBOL);
  }
  /* dlsym's object pointer to a function pointer: POSIX guarantees the
   * round trip, ISO C does not allow the cast, a copy says what we mean. */
  G_STATIC_ASSERT (sizeof symbol == sizeof entry_func);
  memcpy (&entry_func, &symbol, sizeof entry_func);
  if (!register_module (registry, module, entry_func, abs_path, error)) {
    g_module_close (module);
    return FALSE;
  }
  return TRUE;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

void
rs_registry_scan_directory (RsRegistry *registry, const char *dir)
{
  g_autoptr (GDir) handle = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_return_if_fail (registry != NULL);
  g_return_if_fail (dir != NULL);

  handle = g_dir_open (dir, 0, NULL);
  if (handle == NULL)
    return;
  while ((name = g_dir_read_name (handle)) != NULL)
    if (g_str_has_suffix (name, "." G_MODULE_SUFFIX))
      g_ptr_array_add (names, g_strdup (name));
  /* Directory order is arbitrary; sorting makes "which duplicate wins" the
   * same on every machine. */
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
    rs_registry_load_file (registry, path, NULL);
  }
}

/* The plugin directory that belongs to this copy of rnnstream: the build
 * tree's when the running program was built there (tests, and the README's
 * quick start, run from the build tree and must not pick up an older
 * installed copy), else the installed one. */
static char *
default_system_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  if (exe != NULL && g_str_has_prefix (exe, RS_BUILD_ROOT G_DIR_SEPARATOR_S))
    return g_strdup (RS_BUILD_PLUGIN_DIR);
  return g_strdup (RS_INSTALL_PLUGIN_DIR);
}

void
rs_registry_scan_default (RsRegistry *registry)
{
  const char *user_path = g_getenv ("RNNSTREAM_PLUGIN_PATH");
  const char *system_path = g_getenv ("RNNSTREAM_PLUGIN_SYSTEM_PATH");

  g_return_if_fail (registry != NULL);

  if (user_path != NULL) {
    g_auto (GStrv) dirs = g_strsplit (user_path, G_SEARCHPATH_SEPARATOR_S, -1);
    for (guint i = 0; dirs[i] != NULL; i++) {
      g_autofree char *dir = NULL;
      /* An empty entry means "the current directory" in PATH-like
       * variables; we never search it implicitly. */
      if (dirs[i][0] == '\0')
        continue;
      dir = g_canonicalize_filename (dirs[i], NULL);
      rs_registry_scan_directory (registry, dir);
    }
  }
  if (system_path != NULL) {
    if (system_path[0] != '\0')
      rs_registry_scan_directory (registry, system_path);
  } else {
    g_autofree char *dir = default_system_dir ();
    rs_registry_scan_directory (registry, dir);
  }
}

guint
rs_registry_n_entries (const RsRegistry *registry)
{
  g_return_val_if_fail (registry != NULL, 0);
  return registry->entries->len;
}

const RsPluginEntry *
rs_registry_entry (const RsRegistry *registry, guint index)
{
  g_return_val_if_fail (registry != NULL, NULL);
  g_return_val_if_fail (index < registry->entries->len, NULL);
  return g_ptr_array_index (registry->entries, index);
}

guint
rs_registry_n_refusals (const RsRegistry *registry)
{
  g_return_val_if_fail (registry != NULL, 0);
  return registry->refusals->len;
}

const char *
rs_registry_refusal (const RsRegistry *registry, guint index)
{
  g_return_val_if_fail (registry != NULL, NULL);
  g_return_val_if_fail (index < registry->refusals->len, NULL);
  return g_ptr_array_index (registry->refusals, index);
}

const RsCellDescriptor *
rs_registry_lookup (const RsRegistry *registry, const char *name, GError **error)
{
  const RsPluginEntry *entry;
  g_autoptr (GString) message = NULL;

  g_return_val_if_fail (registry != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  entry = find_entry (registry, name);
  if (entry != NULL)
    return entry->descriptor;

  message = g_string_new (NULL);
  g_string_printf (message, "no plugin provides cell '%s' (known cells:", name);
  for (guint i = 0; i < registry->entries->len; i++) {
    const RsPluginEntry *e = g_ptr_array_index (registry->entries, i);
    g_string_append_printf (message, " %s", e->name);
  }
  g_string_append (message, registry->entries->len ? ")" : " none)");
  for (guint i = 0; i < registry->refusals->len; i++)
    g_string_append_printf (message, "; %s", (const char *) g_ptr_array_index (registry->refusals, i));
  g_set_error_literal (error, RS_ERROR, RS_ERROR_NOT_FOUND, message->str);
  return NULL;
}

RsRegistry *
rs_registry_get_default (void)
{
  static gsize initialised = 0;
  static RsRegistry *registry = NULL;

  if (g_once_init_enter (&initialised)) {
    RsRegistry *r = rs_registry_new ();
    rs_registry_scan_default (r);
    registry = r;
    g_once_init_leave (&initialised, 1);
  }
  return registry;
}
