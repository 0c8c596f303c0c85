/* The terminal progress bar and plain progress lines shared by the
 * subcommands that run for long (batch, train). */
#ifndef RS_CLI_PROGRESS_H
#define RS_CLI_PROGRESS_H

#include <stdio.h>

#include <glib.h>

/* seconds as M:SS, or H:MM:SS from an hour on. */
void rs_progress_format_duration (char *buf, gsize len, double seconds);

/* Redraws a bar on the current line of out (a terminal):
 *   PREFIX[=======       ] DONE/TOTAL UNIT  RATE UNIT/s  ETA M:SS SUFFIX
 * rate is done / elapsed; the ETA is (eta_left / rate) seconds, the work
 * left counted in the same units as done (the caller may count more than
 * total - done, e.g. the epochs still to come). prefix and suffix may be
 * NULL. Ends the line when done == total and end_line is TRUE. */
void rs_progress_bar (FILE *out, const char *prefix, guint64 done, guint64 total,
                      const char *unit, double elapsed, guint64 eta_left, const char *suffix,
                      gboolean end_line);

#endif
