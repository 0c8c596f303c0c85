/* PNG charts for the subcommands: loss curves (train --plot) and a series
 * with its forecasts and prediction intervals (forecast --plot).
 *
 * An RsPlot collects lines, shaded bands and vertical markers, then
 * renders them with cairo onto one chart: a title, axis labels, ticks at
 * 1-2-5 steps (decades on a log scale) with grid lines, and a legend put
 * in the corner of the plot area that covers the least data. Lines take
 * their colours in order from the Okabe-Ito palette, which stays
 * distinguishable under the common colour-vision deficiencies.
 *
 * The plot copies everything it is given; the caller keeps its arrays and
 * strings. Non-finite values (NaN, inf) are never drawn and never widen
 * the axes; on a log y axis neither are values <= 0. Nothing here is
 * thread-safe on one RsPlot; separate plots may be drawn from separate
 * threads. */
#ifndef RS_CLI_PLOT_H
#define RS_CLI_PLOT_H

#include <glib.h>

G_BEGIN_DECLS

/* The image sizes rs_plot_save_png accepts, in pixels per side; a command
 * line that takes a size from the user checks it against these. */
#define RS_PLOT_MIN_SIZE 200
#define RS_PLOT_MAX_SIZE 8000

typedef struct RsPlot RsPlot;

/* A text label on the x axis at x, for axes whose numbers mean little to a
 * reader (row positions that are dates, say). */
typedef struct {
  double x;
  const char *text;
} RsPlotTick;

/* A new, empty plot. Any of the three texts may be NULL for none. Free
 * with rs_plot_free. */
RsPlot *rs_plot_new (const char *title, const char *x_label, const char *y_label);

/* Frees plot and everything it copied. NULL is allowed. */
void rs_plot_free (RsPlot *plot);

/* A logarithmic y axis (base 10) when log_y is TRUE; linear by default.
 * Points whose y (or a band's lo or hi) is <= 0 are then left out, as gaps. */
void rs_plot_set_log_y (RsPlot *plot, gboolean log_y);

/* Adds a line through the n points (x[i], y[i]), drawn in the next palette
 * colour. A point with a non-finite x or y breaks the line there (a gap);
 * a point alone between gaps is drawn as a dot. name is the legend's text,
 * or NULL to leave the line out of the legend. n may be 0. */
void rs_plot_add_line (RsPlot *plot, const char *name, const double *x, const double *y,
                       gsize n);

/* How a line is drawn. A thin line is about half as wide as a solid one and
 * lies beneath every solid line, whatever the order they were added in:
 * for secondary data (fitted values, say) that must not hide the series
 * it follows. */
typedef enum {
  RS_PLOT_LINE_SOLID,
  RS_PLOT_LINE_THIN
} RsPlotLineStyle;

/* Sets the style of the line added last (solid by default). Nothing
 * happens when no line has been added. */
void rs_plot_set_line_style (RsPlot *plot, RsPlotLineStyle style);

/* Adds a shaded interval between lo[i] and hi[i] at each x[i] (a
 * prediction interval, say), drawn translucent beneath every line. A band
 * takes the colour of the first line added after it or, when none is, of
 * the last line added before it: add it just before or just after the
 * forecast it surrounds. Nested bands (80% inside 95%) darken where they
 * overlap. Points with any non-finite value break the band. name is the
 * legend's text, or NULL for none. */
void rs_plot_add_band (RsPlot *plot, const char *name, const double *x, const double *lo,
                       const double *hi, gsize n);

/* Adds a vertical dashed marker at x ("forecast origin", "best epoch"),
 * which the x axis always shows. name is the legend's text, or NULL. */
void rs_plot_add_vline (RsPlot *plot, double x, const char *name);

/* Replaces the numeric x tick labels with the n given ones (copied), in
 * any order; non-finite positions are dropped. Ticks outside the data's
 * range are not drawn, and when the labels would overlap only every k-th
 * is, in order of x, for the smallest k of 1, 2, 3, 4, 6, 12, 24, 36, ...
 * that leaves them apart (with a label per month: quarters, half-years,
 * years). n == 0 brings the numeric ticks back. */
void rs_plot_set_x_ticks (RsPlot *plot, const RsPlotTick *ticks, gsize n);

/* The colour of the index-th line added (from 0; the palette repeats
 * after 8), as red, green and blue in 0..255. */
void rs_plot_line_colour (guint index, guint8 rgb[3]);

/* Renders the plot at width x height pixels (each between RS_PLOT_MIN_SIZE
 * and RS_PLOT_MAX_SIZE) and writes it to path as a PNG, atomically: the
 * file appears complete or not at all, and a previous file at path is
 * untouched by a failure. Fonts and line widths grow with the image. A
 * plot with no data draws empty axes. Returns FALSE with RS_ERROR_IO
 * naming the path when the file cannot be written, and with
 * RS_ERROR_FAILED when cairo cannot render (out of memory). */
gboolean rs_plot_save_png (RsPlot *plot, const char *path, int width, int height,
                           GError **error);

/* Frees cairo's font caches and fontconfig's configuration, which cairo's
 * text keeps for the life of the process, so that the leak checker sees
 * only what is ours. Call once, when no plot will be drawn again. */
void rs_plot_release_static_data (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsPlot, rs_plot_free)

G_END_DECLS

#endif
