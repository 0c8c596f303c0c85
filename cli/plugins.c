/* rnnstream plugins: the cell plugins this rnnstream finds, and the ones it
 * refused. */
#include "config.h"

#include <stdio.h>

#include <rnnstream/rnnstream.h>

#include "cli.h"

int
rs_cmd_plugins (int argc, char **argv)
{
  const GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };
  RsRegistry *registry;
  guint n;

  if (!rs_cli_parse ("plugins", NULL, "List the cell plugins found (name, version, file) and "
                     "any refused, searching RNNSTREAM_PLUGIN_PATH and then the system plugin "
                     "directory.", entries, &argc, &argv))
    return RS_EXIT_USAGE;
  if (argc != 1)
    return rs_cli_error ("plugins", RS_EXIT_USAGE, "takes no arguments");
  registry = rs_registry_get_default ();
  n = rs_registry_n_entries (registry);
  printf ("%-12s %-10s %s\n", "CELL", "VERSION", "FILE");
  for (guint i = 0; i < n; i++) {
    const RsPluginEntry *e = rs_registry_entry (registry, i);
    printf ("%-12s %-10s %s\n", e->name, e->version, e->path);
  }
  for (guint i = 0; i < rs_registry_n_refusals (registry); i++)
    fprintf (stderr, "rnnstream plugins: %s\n", rs_registry_refusal (registry, i));
  if (n == 0)
    return rs_cli_error ("plugins", RS_EXIT_FAILURE, "no cell plugin found");
  return RS_EXIT_OK;
}
