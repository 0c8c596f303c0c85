/* Progress display for long subcommands (see progress.h). */
#include "config.h"

#include "progress.h"

#define BAR_WIDTH 30

void
rs_progress_format_duration (char *buf, gsize len, double seconds)
{
  guint64 s = (guint64) (seconds + 0.5);

  if (s >= 3600)
    g_snprintf (buf, len, "%" G_GUINT64_FORMAT ":%02u:%02u", s / 3600, (guint) (s / 60 % 60),
                (guint) (s % 60));
  else
    g_snprintf (buf, len, "%u:%02u", (guint) (s / 60), (guint) (s % 60));
}

void
rs_progress_bar (FILE *out, const char *prefix, guint64 done, guint64 total, const char *unit,
                 double elapsed, guint64 eta_left, const char *suffix, gboolean end_line)
{
  static const char bar[BAR_WIDTH + 1] = "==============================";
  const guint filled = total ? (guint) (MIN (done, total) * BAR_WIDTH / total) : BAR_WIDTH;
  const double rate = elapsed > 0 ? done / elapsed : 0;
  char eta[32] = "?";

  if (rate > 0)
    rs_progress_format_duration (eta, sizeof eta, eta_left / rate);
  fprintf (out, "\r%s[%.*s%*s] %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " %s  %.1f %s/s  ETA %s %s",
           prefix ? prefix : "", (int) filled, bar, (int) (BAR_WIDTH - filled), "", done, total,
           unit, rate, unit, eta, suffix ? suffix : "");
  if (done == total && end_line)
    fputc ('\n', out);
  fflush (out);
}
