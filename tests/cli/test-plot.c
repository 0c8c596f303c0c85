/* The PNG charts: what is written reads back as a PNG of the size asked
 * for with the data drawn in the palette's colours, failures leave
 * nothing behind, and awkward data (gaps, log scale with values <= 0, a
 * single point, nothing at all) still draws. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <cairo.h>
#include <glib/gstdio.h>
#include <rnnstream/rnnstream.h>

#include "plot.h"

#define W 800
#define H 500

/* The number of image columns holding a pixel within tol (per channel) of
 * rgb. The legend's samples are a few dozen columns wide, so a count near
 * the image's width can only come from the data. */
static guint
columns_with (cairo_surface_t *img, const guint8 rgb[3], int tol)
{
  const unsigned char *data = cairo_image_surface_get_data (img);
  const int stride = cairo_image_surface_get_stride (img);
  const int w = cairo_image_surface_get_width (img), h = cairo_image_surface_get_height (img);
  guint columns = 0;

  cairo_surface_flush (img);
  for (int x = 0; x < w; x++) {
    for (int y = 0; y < h; y++) {
      guint32 p;
      memcpy (&p, data + (gsize) y * stride + (gsize) x * 4, 4);   /* native 0xAARRGGBB */
      if (ABS ((int) ((p >> 16) & 0xff) - rgb[0]) <= tol
          && ABS ((int) ((p >> 8) & 0xff) - rgb[1]) <= tol
          && ABS ((int) (p & 0xff) - rgb[2]) <= tol) {
        columns++;
        break;
      }
    }
  }
  return columns;
}

/* Loads path, which must be a PNG of W x H. */
static cairo_surface_t *
load (const char *path)
{
  cairo_surface_t *img = cairo_image_surface_create_from_png (path);

  g_assert_cmpint (cairo_surface_status (img), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (img), ==, W);
  g_assert_cmpint (cairo_image_surface_get_height (img), ==, H);
  return img;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The names in dir, sorted and joined with spaces. */
static char *
list_dir (const char *dir)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (d);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static void
remove_tree (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
    g_autofree char *path = g_build_filename (dir, name, NULL);
    if (g_file_test (path, G_FILE_TEST_IS_DIR))
      remove_tree (path);
    else
      g_unlink (path);
  }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (dir);
}

/* A series with a forecast and its interval: two lines (the history with
 * a gap), a band, a marker and date labels. */
static RsPlot *
forecast_plot (void)
{
  RsPlot *plot = rs_plot_new ("Forecast", "month", "passengers");
  double x[120], y[120], fx[24], fy[24], lo[24], hi[24];
  RsPlotTick ticks[144];
  char labels[144][16];

  for (int i = 0; i < 120; i++) {
    x[i] = i;
    y[i] = 100 + i + 20 * sin (i * G_PI / 6);
  }
  y[40] = NAN;
  for (int i = 0; i < 24; i++) {
    fx[i] = 120 + i;
    fy[i] = 220 + i + 20 * sin ((120 + i) * G_PI / 6);
    lo[i] = fy[i] - 5 - i;
    hi[i] = fy[i] + 5 + i;
  }
  for (int i = 0; i < 144; i++) {
    g_snprintf (labels[i], sizeof labels[i], "%d-%02d", 1949 + i / 12, 1 + i % 12);
    ticks[i].x = i;
    ticks[i].text = labels[i];
  }
  rs_plot_add_line (plot, "history", x, y, 120);
  rs_plot_add_band (plot, "80% interval", fx, lo, hi, 24);
  rs_plot_add_line (plot, "forecast", fx, fy, 24);
  rs_plot_add_vline (plot, 119.5, "forecast origin");
  rs_plot_set_x_ticks (plot, ticks, 144);   /* copied: labels may go now */
  return plot;
}

static void
test_lines_and_band (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-plot-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "forecast.png", NULL);
  g_autofree char *names = NULL;
  g_autoptr (RsPlot) plot = forecast_plot ();
  g_autoptr (GError) error = NULL;
  cairo_surface_t *img;
  guint8 history[3], forecast[3], band[3];

  g_assert_true (rs_plot_save_png (plot, path, W, H, &error));
  g_assert_no_error (error);
  img = load (path);

  rs_plot_line_colour (0, history);
  rs_plot_line_colour (1, forecast);
  g_assert_cmpmem (history, 3, ((const guint8[]) { 0x00, 0x72, 0xb2 }), 3);
  g_assert_false (memcmp (history, forecast, 3) == 0);
  /* The history spans most of the width, the forecast a sixth of it. */
  g_assert_cmpuint (columns_with (img, history, 10), >=, W / 2);
  g_assert_cmpuint (columns_with (img, forecast, 10), >=, W / 12);
  /* The band is the forecast's colour at 22% over white. */
  for (int c = 0; c < 3; c++)
    band[c] = (guint8) lround (255 * (1 - 0.22) + forecast[c] * 0.22);
  g_assert_cmpuint (columns_with (img, band, 6), >=, W / 12);
  cairo_surface_destroy (img);

  /* Writing again replaces the file, and no temporary is left. */
  g_assert_true (rs_plot_save_png (plot, path, W, H, &error));
  g_assert_no_error (error);
  names = list_dir (dir);
  g_assert_cmpstr (names, ==, "forecast.png");
  remove_tree (dir);
}

static void
test_unwritable (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-plot-XXXXXX", NULL);
  g_autofree char *missing = g_build_filename (dir, "no-such-dir", "plot.png", NULL);
  g_autofree char *taken = g_build_filename (dir, "taken", NULL);
  g_autofree char *names = NULL;
  g_autoptr (RsPlot) plot = forecast_plot ();
  g_autoptr (GError) error = NULL;

  /* A directory that does not exist. */
  g_assert_false (rs_plot_save_png (plot, missing, W, H, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, missing));
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  /* A destination the final rename cannot replace (a directory): the
   * temporary file written next to it must be gone again. */
  g_assert_cmpint (g_mkdir (taken, 0755), ==, 0);
  g_assert_false (rs_plot_save_png (plot, taken, W, H, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, taken));
  names = list_dir (dir);
  g_assert_cmpstr (names, ==, "taken");
  remove_tree (dir);
}

/* A thin line lies beneath a solid one added before it: over the same
 * points the solid line shows along the whole width and the thin one
 * only in the legend, where it was on top had it kept the default. */
static void
test_thin_line_beneath (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-plot-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "thin.png", NULL);
  g_autoptr (GError) error = NULL;
  double x[100], y[100];
  guint8 solid[3], thin[3];
  cairo_surface_t *img;

  for (int i = 0; i < 100; i++) {
    x[i] = i;
    y[i] = sin (i * G_PI / 10);
  }
  rs_plot_line_colour (0, solid);
  rs_plot_line_colour (1, thin);
  for (int styled = 0; styled <= 1; styled++) {
    g_autoptr (RsPlot) plot = rs_plot_new (NULL, NULL, NULL);
    rs_plot_add_line (plot, "series", x, y, 100);
    rs_plot_add_line (plot, "fitted", x, y, 100);
    if (styled)
      rs_plot_set_line_style (plot, RS_PLOT_LINE_THIN);
    g_assert_true (rs_plot_save_png (plot, path, W, H, &error));
    g_assert_no_error (error);
    img = load (path);
    if (styled) {
      g_assert_cmpuint (columns_with (img, solid, 10), >=, W / 2);
      g_assert_cmpuint (columns_with (img, thin, 10), <, W / 8);
    } else {
      g_assert_cmpuint (columns_with (img, solid, 10), <, W / 8);
      g_assert_cmpuint (columns_with (img, thin, 10), >=, W / 2);
    }
    cairo_surface_destroy (img);
  }
  remove_tree (dir);
}

/* Loss curves on a log axis with values a log axis cannot show: zero,
 * negative, NaN and inf are skipped, the rest is drawn. */
static void
test_log_scale (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-plot-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "loss.png", NULL);
  g_autoptr (RsPlot) plot = rs_plot_new ("Training", "epoch", "loss (MSE)");
  g_autoptr (GError) error = NULL;
  double epoch[100], train[100], valid[100], lo[100], hi[100];
  guint8 rgb[3];
  cairo_surface_t *img;

  for (int i = 0; i < 100; i++) {
    epoch[i] = i + 1;
    train[i] = 2.0 * exp (-i / 15.0) + 0.01;
    valid[i] = 2.5 * exp (-i / 20.0) + 0.05;
    lo[i] = -1;
    hi[i] = valid[i] * 2;
  }
  train[0] = 0;
  train[1] = -3;
  train[2] = NAN;
  train[3] = INFINITY;
  valid[50] = -INFINITY;
  rs_plot_set_log_y (plot, TRUE);
  rs_plot_add_line (plot, "train", epoch, train, 100);
  rs_plot_add_line (plot, "validation", epoch, valid, 100);
  rs_plot_add_band (plot, NULL, epoch, lo, hi, 100);   /* lo <= 0 everywhere: nothing */
  rs_plot_add_vline (plot, 49, "best epoch");
  g_assert_true (rs_plot_save_png (plot, path, W, H, &error));
  g_assert_no_error (error);
  img = load (path);
  rs_plot_line_colour (0, rgb);
  g_assert_cmpuint (columns_with (img, rgb, 10), >=, W / 2);
  rs_plot_line_colour (1, rgb);
  g_assert_cmpuint (columns_with (img, rgb, 10), >=, W / 2);
  cairo_surface_destroy (img);

  /* Nothing a log axis can show at all. */
  {
    const double x[3] = { 1, 2, 3 }, y[3] = { 0, -1, NAN };
    g_autoptr (RsPlot) empty = rs_plot_new (NULL, NULL, NULL);
    rs_plot_set_log_y (empty, TRUE);
    rs_plot_add_line (empty, "none", x, y, 3);
    g_assert_true (rs_plot_save_png (empty, path, W, H, &error));
    g_assert_no_error (error);
    cairo_surface_destroy (load (path));
  }
  remove_tree (dir);
}

/* Ranges that would divide by zero if taken as they are: no data, one
 * point, a constant, only gaps; and the smallest image. */
static void
test_degenerate (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rs-plot-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "p.png", NULL);
  g_autoptr (GError) error = NULL;
  const double one_x[1] = { 3 }, one_y[1] = { 0.5 };
  const double x[4] = { 0, 1, 2, 3 }, flat[4] = { 7, 7, 7, 7 };
  const double gaps[4] = { NAN, INFINITY, -INFINITY, NAN };
  const double huge[4] = { -1e308, 1e308, 0, 1 };

  for (int c = 0; c < 6; c++) {
    g_autoptr (RsPlot) plot = rs_plot_new ("t", "x", "y");
    guint8 rgb[3];
    cairo_surface_t *img;
    switch (c) {
    case 0:
      break;
    case 1:
      rs_plot_add_line (plot, "one point", one_x, one_y, 1);
      break;
    case 2:
      rs_plot_add_line (plot, "constant", x, flat, 4);
      break;
    case 3:
      rs_plot_add_line (plot, "gaps", x, gaps, 4);
      rs_plot_add_band (plot, "gaps", x, gaps, flat, 4);
      break;
    case 4:
      rs_plot_add_line (plot, "huge", x, huge, 4);
      rs_plot_add_line (plot, "empty", NULL, NULL, 0);
      break;
    default:
      rs_plot_add_vline (plot, 5, "alone");
      rs_plot_add_vline (plot, NAN, "nowhere");
      break;
    }
    g_assert_true (rs_plot_save_png (plot, path, W, H, &error));
    g_assert_no_error (error);
    img = load (path);
    rs_plot_line_colour (0, rgb);
    if (c == 2)   /* a constant is a line across the middle */
      g_assert_cmpuint (columns_with (img, rgb, 10), >=, W / 2);
    cairo_surface_destroy (img);
  }
  {
    g_autoptr (RsPlot) plot = forecast_plot ();
    g_assert_true (rs_plot_save_png (plot, path, RS_PLOT_MIN_SIZE, RS_PLOT_MIN_SIZE, &error));
    g_assert_no_error (error);
  }
  remove_tree (dir);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/plot/lines-and-band", test_lines_and_band);
  g_test_add_func ("/plot/unwritable", test_unwritable);
  g_test_add_func ("/plot/thin-line-beneath", test_thin_line_beneath);
  g_test_add_func ("/plot/log-scale", test_log_scale);
  g_test_add_func ("/plot/degenerate", test_degenerate);
  status = g_test_run ();
  rs_plot_release_static_data ();
  return status;
}
