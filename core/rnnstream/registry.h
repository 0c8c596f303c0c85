/* Finding and loading cell plugins.
 *
 * A registry maps cell names ("gru", "lstm", ...) to descriptors exported by
 * plugin shared objects (see rnnstream/cell-abi.h). The default registry
 * searches, in this order:
 *
 *  1. every directory in RNNSTREAM_PLUGIN_PATH (':'-separated; empty entries
 *     are ignored, so the current directory is never searched implicitly);
 *  2. the system plugin directory: RNNSTREAM_PLUGIN_SYSTEM_PATH if set
 *     (empty: none), else the build tree's plugin directory when the running
 *     program lives in the build tree, else the installed plugin directory.
 *
 * Only files ending in the platform's module suffix (".so") are considered.
 * A plugin is refused, with a message naming the file, when it is not a
 * loadable shared object, lacks the entry symbol, exports no descriptor,
 * has an incompatible ABI version or a descriptor that is too small or
 * incomplete, or claims a cell name that an earlier plugin already
 * registered. Refusals do not stop the scan; they are kept and can be
 * listed, and looking up a cell whose only plugin was refused reports the
 * refusal.
 */
#ifndef RS_REGISTRY_H
#define RS_REGISTRY_H

#include <glib.h>
#include <rnnstream/cell-abi.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

typedef struct RsRegistry RsRegistry;

typedef struct RsPluginEntry {
  const char *name;        /* cell name */
  const char *version;     /* plugin's version string */
  const char *description;
  const char *path;        /* absolute path of the shared object */
  const RsCellDescriptor *descriptor;
} RsPluginEntry;

/* A new, empty registry (nothing scanned). Free with rs_registry_free,
 * which unloads its plugins: descriptors and cells made from them must not
 * be used afterwards. */
RS_API RsRegistry *rs_registry_new (void);
RS_API void rs_registry_free (RsRegistry *registry);

/* Scans the directories listed above. Call once. */
RS_API void rs_registry_scan_default (RsRegistry *registry);

/* Scans one directory (not recursively) for plugins. A missing directory
 * is not an error. */
RS_API void rs_registry_scan_directory (RsRegistry *registry, const char *dir);

/* Loads one plugin file and registers its cells. Returns FALSE with error
 * (RS_ERROR_PLUGIN) when the file is refused; the refusal is also recorded.
 * A relative path is resolved against the current directory, as the caller
 * asked for that file explicitly. */
RS_API gboolean rs_registry_load_file (RsRegistry *registry, const char *path,
                                       GError **error);

/* The registered cells, sorted by name; index < rs_registry_n_entries. */
RS_API guint rs_registry_n_entries (const RsRegistry *registry);
RS_API const RsPluginEntry *rs_registry_entry (const RsRegistry *registry,
                                               guint index);

/* The refusals so far, one message per refused file or descriptor. */
RS_API guint rs_registry_n_refusals (const RsRegistry *registry);
RS_API const char *rs_registry_refusal (const RsRegistry *registry,
                                        guint index);

/* The descriptor for cell name, or NULL with error (RS_ERROR_NOT_FOUND; the
 * message lists the known cells and any refusal that may explain it). */
RS_API const RsCellDescriptor *rs_registry_lookup (const RsRegistry *registry,
                                                   const char *name,
                                                   GError **error);

/* The process-wide registry, scanned with rs_registry_scan_default on first
 * use (thread-safe). Never freed. */
RS_API RsRegistry *rs_registry_get_default (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsRegistry, rs_registry_free)

G_END_DECLS

#endif
