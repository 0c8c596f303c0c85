/* PNG charts with cairo (see plot.h).
 *
 * Rendering goes in a fixed order: the axis ranges from the data, the y
 * ticks (their widest label sets the left margin), the x ticks (spaced by
 * their widest label, so labels never overlap), grid, bands, lines,
 * markers, frame and text, and the legend last, over the data, in the
 * corner where it hides the fewest line segments. Every length is a
 * multiple of one scale factor taken from the image size, so a larger
 * image is the same chart, not a smaller-looking one. */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <rnnstream/rnnstream.h>

#include "plot.h"

typedef enum { ITEM_LINE, ITEM_BAND, ITEM_VLINE } ItemKind;

typedef struct {
  ItemKind kind;
  char *name;
  guint index;         /* lines: which line (palette); vlines: which marker (dashes) */
  RsPlotLineStyle style;  /* lines */
  gsize n;
  double *x, *a, *b;   /* line: a = y; band: a = lo, b = hi; vline: x[0] alone */
} Item;

typedef struct {
  double x;
  char *text;
} Tick;

struct RsPlot {
  char *title, *x_label, *y_label;
  gboolean log_y;
  GPtrArray *items;    /* Item *, in the order added */
  guint n_lines, n_vlines;
  GArray *x_ticks;     /* Tick, the caller's text labels; empty for numeric ones */
};

/* Okabe and Ito, "Color Universal Design" (2008), reordered for lines on
 * white: the two strongest and most different first (train and validation
 * loss, history and forecast), yellow last because it is faint on white. */
static const guint8 palette[8][3] = {
  { 0x00, 0x72, 0xb2 },   /* blue */
  { 0xd5, 0x5e, 0x00 },   /* vermillion */
  { 0x00, 0x9e, 0x73 },   /* bluish green */
  { 0xcc, 0x79, 0xa7 },   /* reddish purple */
  { 0xe6, 0x9f, 0x00 },   /* orange */
  { 0x56, 0xb4, 0xe9 },   /* sky blue */
  { 0x00, 0x00, 0x00 },   /* black */
  { 0xf0, 0xe4, 0x42 },   /* yellow */
};

#define BAND_ALPHA 0.22
#define MAX_TICKS 64

static void
item_free (gpointer data)
{
  Item *item = data;

  g_free (item->name);
  g_free (item->x);
  g_free (item->a);
  g_free (item->b);
  g_free (item);
}

static void
tick_clear (gpointer data)
{
  Tick *tick = data;

  g_free (tick->text);
}

RsPlot *
rs_plot_new (const char *title, const char *x_label, const char *y_label)
{
  RsPlot *plot = g_new0 (RsPlot, 1);

  plot->title = g_strdup (title);
  plot->x_label = g_strdup (x_label);
  plot->y_label = g_strdup (y_label);
  plot->items = g_ptr_array_new_with_free_func (item_free);
  plot->x_ticks = g_array_new (FALSE, FALSE, sizeof (Tick));
  g_array_set_clear_func (plot->x_ticks, tick_clear);
  return plot;
}

void
rs_plot_free (RsPlot *plot)
{
  if (plot == NULL)
    return;
  g_free (plot->title);
  g_free (plot->x_label);
  g_free (plot->y_label);
  g_ptr_array_unref (plot->items);
  g_array_unref (plot->x_ticks);
  g_free (plot);
}

void
rs_plot_set_log_y (RsPlot *plot, gboolean log_y)
{
  g_return_if_fail (plot != NULL);
  plot->log_y = log_y;
}

static double *
copy_doubles (const double *v, gsize n)
{
  return n ? g_memdup2 (v, n * sizeof *v) : NULL;
}

void
rs_plot_add_line (RsPlot *plot, const char *name, const double *x, const double *y, gsize n)
{
  Item *item;

  g_return_if_fail (plot != NULL);
  g_return_if_fail (n == 0 || (x != NULL && y != NULL));

  item = g_new0 (Item, 1);
  item->kind = ITEM_LINE;
  item->name = g_strdup (name);
  item->index = plot->n_lines++;
  item->n = n;
  item->x = copy_doubles (x, n);
  item->a = copy_doubles (y, n);
  g_ptr_array_add (plot->items, item);
}

void
rs_plot_set_line_style (RsPlot *plot, RsPlotLineStyle style)
{
  g_return_if_fail (plot != NULL);

  for (guint k = plot->items->len; k-- > 0;) {
    Item *item = g_ptr_array_index (plot->items, k);
    if (item->kind == ITEM_LINE) {
      item->style = style;
      return;
    }
  }
}

/* A line's width in units of the scale. */
static double
line_width (const Item *item)
{
  return item->style == RS_PLOT_LINE_THIN ? 1.1 : 2;
}

void
rs_plot_add_band (RsPlot *plot, const char *name, const double *x, const double *lo,
                  const double *hi, gsize n)
{
  Item *item;

  g_return_if_fail (plot != NULL);
  g_return_if_fail (n == 0 || (x != NULL && lo != NULL && hi != NULL));

  item = g_new0 (Item, 1);
  item->kind = ITEM_BAND;
  item->name = g_strdup (name);
  item->n = n;
  item->x = copy_doubles (x, n);
  item->a = copy_doubles (lo, n);
  item->b = copy_doubles (hi, n);
  g_ptr_array_add (plot->items, item);
}

void
rs_plot_add_vline (RsPlot *plot, double x, const char *name)
{
  Item *item;

  g_return_if_fail (plot != NULL);

  item = g_new0 (Item, 1);
  item->kind = ITEM_VLINE;
  item->name = g_strdup (name);
  item->index = plot->n_vlines++;
  item->n = 1;
  item->x = g_new (double, 1);
  item->x[0] = x;
  g_ptr_array_add (plot->items, item);
}

void
rs_plot_set_x_ticks (RsPlot *plot, const RsPlotTick *ticks, gsize n)
{
  g_return_if_fail (plot != NULL);
  g_return_if_fail (n == 0 || ticks != NULL);

  g_array_set_size (plot->x_ticks, 0);
  for (gsize i = 0; i < n; i++) {
    Tick t = { ticks[i].x, g_strdup (ticks[i].text ? ticks[i].text : "") };
    if (isfinite (t.x))
      g_array_append_val (plot->x_ticks, t);
    else
      g_free (t.text);
  }
}

void
rs_plot_line_colour (guint index, guint8 rgb[3])
{
  memcpy (rgb, palette[index % G_N_ELEMENTS (palette)], 3);
}

/* ---- Rendering ---- */

/* A tick: its position in axis units (log10 of the value on a log axis)
 * and its label, NULL for a minor grid line. */
typedef struct {
  double t;
  char *text;
} Mark;

typedef struct {
  const RsPlot *plot;
  cairo_t *cr;
  int width, height;
  double s;                          /* the scale: 1 at 800 x 500 */
  double tick_font, label_font, title_font;
  double left, right, top, bottom;   /* the plot area, in pixels */
  double x0, x1, y0, y1;             /* its ranges in axis units */
  GArray *x_marks, *y_marks;         /* Mark */
} View;

static void
mark_clear (gpointer data)
{
  Mark *m = data;

  g_free (m->text);
}

static GArray *
marks_new (void)
{
  GArray *marks = g_array_new (FALSE, FALSE, sizeof (Mark));

  g_array_set_clear_func (marks, mark_clear);
  return marks;
}

static void
marks_add (GArray *marks, double t, char *text)
{
  Mark m = { t, text };

  g_array_append_val (marks, m);
}

static gboolean
y_ok (const RsPlot *plot, double y)
{
  return isfinite (y) && (!plot->log_y || y > 0);
}

/* y in axis units. */
static double
y_axis (const RsPlot *plot, double y)
{
  return plot->log_y ? log10 (y) : y;
}

static double
px (const View *v, double x)
{
  return v->left + (x - v->x0) / (v->x1 - v->x0) * (v->right - v->left);
}

static double
py (const View *v, double y)
{
  return v->bottom - (y_axis (v->plot, y) - v->y0) / (v->y1 - v->y0) * (v->bottom - v->top);
}

/* The middle of a pixel, so that 1-pixel lines are sharp, not two grey ones. */
static double
crisp (double p)
{
  return floor (p) + 0.5;
}

static void
widen (double *lo, double *hi, double v)
{
  *lo = MIN (*lo, v);
  *hi = MAX (*hi, v);
}

/* Turns the data's extent [lo, hi] (lo > hi when there was none) into an
 * axis range: a default when empty, a span around a single value (a point
 * or a constant series would otherwise divide by zero), then a margin of
 * frac of the span on each side so no line runs along the frame. */
static void
axis_range (double *lo, double *hi, double empty_lo, double empty_hi, double single,
            double frac)
{
  if (!(*lo <= *hi)) {
    *lo = empty_lo;
    *hi = empty_hi;
    return;
  }
  /* A span past DBL_MAX would make every coordinate inf. */
  if (!isfinite (*hi - *lo)) {
    *lo = MAX (*lo, -DBL_MAX / 4);
    *hi = MIN (*hi, DBL_MAX / 4);
  }
  if (*hi - *lo <= 1e-9 * MAX (fabs (*lo), fabs (*hi))) {
    const double half = single > 0 ? single : (*lo != 0 ? fabs (*lo) * 0.1 : 1);
    *lo -= half;
    *hi += half;
    return;
  }
  {
    const double pad = (*hi - *lo) * frac;
    *lo -= pad;
    *hi += pad;
  }
}

/* The axis ranges of everything drawn; *x_whole tells whether every x is
 * a whole number (epochs, row positions), so steps below 1 are pointless. */
static void
data_ranges (View *v, gboolean *x_whole)
{
  const RsPlot *plot = v->plot;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;

  *x_whole = TRUE;
  for (guint k = 0; k < plot->items->len; k++) {
    const Item *item = g_ptr_array_index (plot->items, k);
    for (gsize i = 0; i < item->n; i++) {
      const double x = item->x[i];
      if (!isfinite (x))
        continue;
      if (item->kind == ITEM_LINE) {
        if (!y_ok (plot, item->a[i]))
          continue;
        widen (&y0, &y1, y_axis (plot, item->a[i]));
      } else if (item->kind == ITEM_BAND) {
        if (!y_ok (plot, item->a[i]) || !y_ok (plot, item->b[i]))
          continue;
        widen (&y0, &y1, y_axis (plot, item->a[i]));
        widen (&y0, &y1, y_axis (plot, item->b[i]));
      }
      widen (&x0, &x1, x);
      if (x != floor (x))
        *x_whole = FALSE;
    }
  }
  if (!(x0 <= x1))
    *x_whole = FALSE;   /* no data: the default axis gets tenths */
  axis_range (&x0, &x1, 0, 1, *x_whole ? 0.5 : 0, 0.03);
  if (plot->log_y)
    /* In decades: a constant loss shows a factor of two either way. */
    axis_range (&y0, &y1, 0, 1, log10 (2), 0.04);
  else
    axis_range (&y0, &y1, 0, 1, 0, 0.04);
  v->x0 = x0;
  v->x1 = x1;
  v->y0 = y0;
  v->y1 = y1;
}

/* The smallest of 1, 2 and 5 times a power of ten that is >= raw. */
static double
nice_step (double raw)
{
  const double e = pow (10, floor (log10 (raw)));
  const double f = raw / e;

  if (f <= 1 + 1e-9)
    return e;
  if (f <= 2 + 1e-9)
    return 2 * e;
  if (f <= 5 + 1e-9)
    return 5 * e;
  return 10 * e;
}

/* A number as a tick label: as many decimals as the step needs, and no
 * more (0.2, 0.25 never arises), "-0" written 0, huge and tiny numbers in
 * exponent form. */
static char *
format_number (double v, double step)
{
  const double big = MAX (fabs (v), step);

  if (fabs (v) < step * 1e-6)
    v = 0;
  if (big >= 1e6 || step < 1e-5) {
    const int digits = (int) floor (log10 (big)) - (int) floor (log10 (step) + 1e-9) + 1;
    return g_strdup_printf ("%.*g", CLAMP (digits, 1, 15), v);
  }
  return g_strdup_printf ("%.*f", step >= 1 ? 0 : (int) ceil (-log10 (step) - 1e-9), v);
}

/* Ticks at the multiples of step in [lo, hi]. The loop also ends when the
 * numbers are too large for step to change them. */
static void
linear_marks (GArray *marks, double lo, double hi, double step, gboolean log_axis)
{
  double k = ceil (lo / step - 1e-9);

  for (int count = 0; count < MAX_TICKS && k * step <= hi + step * 1e-9; count++, k++) {
    const double v = k * step;
    if (log_axis) {
      if (v > 0)
        marks_add (marks, log10 (v), format_number (v, step));
    } else {
      marks_add (marks, v, format_number (v, step));
    }
    if (k + 1 == k)
      break;
  }
}

static double
text_width (cairo_t *cr, const char *text)
{
  cairo_text_extents_t e;

  cairo_text_extents (cr, text, &e);
  return e.x_advance;
}

/* The y ticks: about one per three lines of text on a linear axis. */
static void
y_ticks (View *v)
{
  const double ph = v->bottom - v->top;
  const double target = CLAMP (ph / (3 * v->tick_font), 2, 10);

  if (!v->plot->log_y) {
    linear_marks (v->y_marks, v->y0, v->y1, nice_step ((v->y1 - v->y0) / target), FALSE);
    return;
  }

  /* Log axis, in decades. With three or more decades in view the labels
   * are powers of ten (every k-th when they crowd) and the grid has the
   * 2..9 multiples between them. With fewer, 1-2-5 or every multiple in
   * each decade, whichever first gives three labels that stay apart; and
   * failing both (a range within a factor of two or so), linear steps of
   * the values themselves. */
  {
    const double d0 = ceil (v->y0 - 1e-9), d1 = floor (v->y1 + 1e-9);
    const double decades = d1 - d0 + 1;
    const double min_gap = 1.4 * v->tick_font / ph * (v->y1 - v->y0);   /* in decades */
    static const int sets[2][10] = { { 1, 2, 5, 0 }, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 0 } };

    if (decades >= 3) {
      const double stride = ceil (decades / target);
      for (double d = floor (v->y0); d <= v->y1 && v->y_marks->len < MAX_TICKS; d++) {
        if (d >= v->y0 - 1e-9 && fmod (d, stride) == 0)
          marks_add (v->y_marks, d, g_strdup_printf ("%g", pow (10, d)));
        for (int m = 2; stride == 1 && decades <= 8 && m <= 9; m++) {
          const double t = d + log10 (m);
          if (t >= v->y0 && t <= v->y1)
            marks_add (v->y_marks, t, NULL);
        }
      }
      return;
    }
    for (guint s = 0; s < G_N_ELEMENTS (sets); s++) {
      double last = -INFINITY;
      guint labels = 0;
      gboolean apart = TRUE;
      g_array_set_size (v->y_marks, 0);
      for (double d = floor (v->y0); d <= v->y1; d++) {
        for (int m = 1; m <= 9; m++) {
          const double t = d + log10 (m);
          gboolean labelled = FALSE;
          if (t < v->y0 || t > v->y1)
            continue;
          for (const int *p = sets[s]; *p; p++)
            labelled |= *p == m;
          if (labelled) {
            apart &= t - last >= min_gap;
            last = t;
            labels++;
          }
          marks_add (v->y_marks, t, labelled ? g_strdup_printf ("%g", m * pow (10, d)) : NULL);
        }
      }
      if (labels >= 3 && apart)
        return;
    }
    g_array_set_size (v->y_marks, 0);
    {
      const double lo = pow (10, v->y0), hi = pow (10, v->y1);
      linear_marks (v->y_marks, lo, hi, nice_step ((hi - lo) / target), TRUE);
    }
  }
}

static int
tick_cmp (gconstpointer a, gconstpointer b)
{
  const Tick *ta = a, *tb = b;

  return (ta->x > tb->x) - (ta->x < tb->x);
}

/* The caller's x labels: those within the axis, and when neighbours would
 * touch, every k-th for the smallest k that keeps each clear of the next.
 * k is one that groups calendar units (1, 2, 3, 4, 6, 12, 24, ...): with
 * a label per month, every twelfth is one per year, where the smallest k
 * that fits might be sixteen. */
static void
x_ticks_given (View *v)
{
  static const guint strides[] = { 1, 2, 3, 4, 6, 12, 24, 36, 48, 60, 120 };
  const double gap = v->tick_font;
  g_autoptr (GArray) in = g_array_new (FALSE, FALSE, sizeof (Tick));
  g_autofree double *w = NULL;
  guint stride = 1;

  for (guint i = 0; i < v->plot->x_ticks->len; i++) {
    const Tick *t = &g_array_index (v->plot->x_ticks, Tick, i);
    if (t->x >= v->x0 && t->x <= v->x1)
      g_array_append_val (in, *t);   /* borrows the text */
  }
  g_array_sort (in, tick_cmp);
  w = g_new (double, MAX (in->len, 1));
  for (guint i = 0; i < in->len; i++)
    w[i] = text_width (v->cr, g_array_index (in, Tick, i).text);
  for (guint c = 0; stride < MAX (in->len, 1); c++) {
    gboolean apart = TRUE;
    stride = c < G_N_ELEMENTS (strides) ? strides[c] : stride * 2;
    for (guint i = 0; i + stride < in->len && apart; i += stride) {
      const double a = px (v, g_array_index (in, Tick, i).x);
      const double b = px (v, g_array_index (in, Tick, i + stride).x);
      apart = b - a >= (w[i] + w[i + stride]) / 2 + gap;
    }
    if (apart)
      break;
  }
  for (guint i = 0; i < in->len; i += stride) {
    const Tick *t = &g_array_index (in, Tick, i);
    marks_add (v->x_marks, t->x, g_strdup (t->text));
  }
}

/* Numeric x ticks: start from about one per eight characters of width and
 * take the next 1-2-5 step until the widest label fits between two ticks. */
static void
x_ticks (View *v, gboolean whole)
{
  const double pw = v->right - v->left, span = v->x1 - v->x0;
  double step;

  if (v->plot->x_ticks->len > 0) {
    x_ticks_given (v);
    return;
  }
  step = nice_step (span / CLAMP (pw / (6 * v->tick_font), 2, 12));
  if (whole)
    step = MAX (step, 1);
  for (int tries = 0; tries < 20; tries++) {
    double widest = 0;
    g_array_set_size (v->x_marks, 0);
    linear_marks (v->x_marks, v->x0, v->x1, step, FALSE);
    for (guint i = 0; i < v->x_marks->len; i++)
      widest = MAX (widest, text_width (v->cr, g_array_index (v->x_marks, Mark, i).text));
    if (step / span * pw >= widest + 1.5 * v->tick_font)
      return;
    step = nice_step (step * 1.01);
  }
}

static void
set_rgb (cairo_t *cr, const guint8 rgb[3], double alpha)
{
  cairo_set_source_rgba (cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0, alpha);
}

static void
set_grey (cairo_t *cr, double level)
{
  cairo_set_source_rgb (cr, level, level, level);
}

/* The line whose colour a band takes (see plot.h), or -1 when there is no
 * line at all. */
static int
band_colour (const RsPlot *plot, guint band)
{
  for (guint k = band + 1; k < plot->items->len; k++) {
    const Item *item = g_ptr_array_index (plot->items, k);
    if (item->kind == ITEM_LINE)
      return (int) item->index;
  }
  for (guint k = band; k-- > 0;) {
    const Item *item = g_ptr_array_index (plot->items, k);
    if (item->kind == ITEM_LINE)
      return (int) item->index;
  }
  return -1;
}

static const guint8 *
item_rgb (const RsPlot *plot, guint k)
{
  const Item *item = g_ptr_array_index (plot->items, k);
  static const guint8 marker[3] = { 0x33, 0x33, 0x33 };
  int line;

  if (item->kind == ITEM_VLINE)
    return marker;
  line = item->kind == ITEM_LINE ? (int) item->index : band_colour (plot, k);
  return palette[(guint) MAX (line, 0) % G_N_ELEMENTS (palette)];
}

/* A band's mean width, over the points it draws. */
static double
band_width (const RsPlot *plot, const Item *item)
{
  double sum = 0;
  gsize n = 0;

  for (gsize i = 0; i < item->n; i++)
    if (isfinite (item->x[i]) && y_ok (plot, item->a[i]) && y_ok (plot, item->b[i])) {
      sum += fabs (y_axis (plot, item->b[i]) - y_axis (plot, item->a[i]));
      n++;
    }
  return n ? sum / n : 0;
}

/* How many bands of band's colour cover its own area, itself included:
 * nested intervals (80% inside 95%) add up where they overlap, whatever
 * the order they were added in, so the narrower shows darker. Taken as
 * the bands of that colour at least as wide on average. */
static int
bands_under (const RsPlot *plot, guint band)
{
  const guint8 *rgb = item_rgb (plot, band);
  const double width = band_width (plot, g_ptr_array_index (plot->items, band));
  int count = 0;

  for (guint k = 0; k < plot->items->len; k++) {
    const Item *item = g_ptr_array_index (plot->items, k);
    if (item->kind == ITEM_BAND && item_rgb (plot, k) == rgb
        && (k == band || band_width (plot, item) >= width))
      count++;
  }
  return count;
}

static void
set_marker_dash (const View *v, guint index)
{
  static const double dashes[3][4] = { { 7, 4 }, { 2, 3 }, { 9, 3, 2, 3 } };
  static const int counts[3] = { 2, 2, 4 };
  const guint d = index % 3;
  double scaled[4];

  for (int i = 0; i < counts[d]; i++)
    scaled[i] = dashes[d][i] * v->s;
  cairo_set_dash (v->cr, scaled, counts[d], 0);
}

static void
draw_grid (const View *v)
{
  cairo_t *cr = v->cr;

  cairo_set_line_width (cr, 1);
  for (int major = 0; major <= 1; major++) {
    set_grey (cr, major ? 0.86 : 0.94);
    for (guint i = 0; i < v->y_marks->len; i++) {
      const Mark *m = &g_array_index (v->y_marks, Mark, i);
      const double y = crisp (v->bottom - (m->t - v->y0) / (v->y1 - v->y0) * (v->bottom - v->top));
      if ((m->text != NULL) != major)
        continue;
      cairo_move_to (cr, v->left, y);
      cairo_line_to (cr, v->right, y);
    }
    if (major)
      for (guint i = 0; i < v->x_marks->len; i++) {
        const double x = crisp (px (v, g_array_index (v->x_marks, Mark, i).t));
        cairo_move_to (cr, x, v->top);
        cairo_line_to (cr, x, v->bottom);
      }
    cairo_stroke (cr);
  }
}

/* Each run of valid points as one polygon: along hi, back along lo. A run
 * of one point is a vertical stroke, so it still shows. */
static void
draw_band (const View *v, const Item *item, const guint8 rgb[3])
{
  cairo_t *cr = v->cr;
  gsize i = 0;

  set_rgb (cr, rgb, BAND_ALPHA);
  cairo_set_line_width (cr, 2 * v->s);
  while (i < item->n) {
    gsize end;
    if (!isfinite (item->x[i]) || !y_ok (v->plot, item->a[i]) || !y_ok (v->plot, item->b[i])) {
      i++;
      continue;
    }
    for (end = i; end < item->n && isfinite (item->x[end]) && y_ok (v->plot, item->a[end])
                  && y_ok (v->plot, item->b[end]);
         end++)
      ;
    for (gsize j = i; j < end; j++)
      cairo_line_to (cr, px (v, item->x[j]), py (v, item->b[j]));
    for (gsize j = end; j-- > i;)
      cairo_line_to (cr, px (v, item->x[j]), py (v, item->a[j]));
    if (end - i == 1)
      cairo_stroke (cr);
    else {
      cairo_close_path (cr);
      cairo_fill (cr);
    }
    i = end;
  }
}

static void
draw_line (const View *v, const Item *item, const guint8 rgb[3])
{
  cairo_t *cr = v->cr;
  gsize i = 0;

  set_rgb (cr, rgb, 1);
  cairo_set_line_width (cr, line_width (item) * v->s);
  while (i < item->n) {
    gsize end;
    if (!isfinite (item->x[i]) || !y_ok (v->plot, item->a[i])) {
      i++;
      continue;
    }
    for (end = i; end < item->n && isfinite (item->x[end]) && y_ok (v->plot, item->a[end]); end++)
      cairo_line_to (cr, px (v, item->x[end]), py (v, item->a[end]));
    if (end - i == 1) {
      cairo_new_path (cr);
      cairo_arc (cr, px (v, item->x[i]), py (v, item->a[i]), 2.5 * v->s, 0, 2 * G_PI);
      cairo_fill (cr);
    } else {
      cairo_stroke (cr);
    }
    i = end;
  }
}

static void
draw_vline (const View *v, const Item *item, const guint8 rgb[3])
{
  cairo_t *cr = v->cr;
  double x;

  if (!isfinite (item->x[0]))
    return;
  x = px (v, item->x[0]);
  set_rgb (cr, rgb, 1);
  cairo_set_line_width (cr, 1.5 * v->s);
  set_marker_dash (v, item->index);
  cairo_move_to (cr, x, v->top);
  cairo_line_to (cr, x, v->bottom);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
}

static void
draw_data (const View *v)
{
  static const ItemKind order[] = { ITEM_BAND, ITEM_LINE, ITEM_LINE, ITEM_VLINE };
  const RsPlot *plot = v->plot;
  cairo_t *cr = v->cr;

  cairo_save (cr);
  cairo_rectangle (cr, v->left, v->top, v->right - v->left, v->bottom - v->top);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  /* Bands beneath lines, thin lines beneath solid ones, markers on top,
   * each in the order added. */
  for (guint pass = 0; pass < G_N_ELEMENTS (order); pass++) {
    const ItemKind draw = order[pass];
    for (guint k = 0; k < plot->items->len; k++) {
      const Item *item = g_ptr_array_index (plot->items, k);
      if (item->kind != draw ||
          (draw == ITEM_LINE && (item->style == RS_PLOT_LINE_THIN) != (pass == 1)))
        continue;
      if (draw == ITEM_BAND)
        draw_band (v, item, item_rgb (plot, k));
      else if (draw == ITEM_LINE)
        draw_line (v, item, item_rgb (plot, k));
      else
        draw_vline (v, item, item_rgb (plot, k));
    }
  }
  cairo_restore (cr);
}

/* Text with its left edge at x and its baseline at y. */
static void
show_text (cairo_t *cr, double x, double y, const char *text)
{
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, text);
}

static void
set_font (cairo_t *cr, double size, gboolean bold)
{
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                          bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size);
}

static void
draw_axes (const View *v)
{
  cairo_t *cr = v->cr;
  const double tick = 4 * v->s;
  cairo_font_extents_t fe;

  /* The frame and the tick marks. */
  set_grey (cr, 0.35);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, crisp (v->left), crisp (v->top), floor (v->right) - floor (v->left),
                   floor (v->bottom) - floor (v->top));
  for (guint i = 0; i < v->x_marks->len; i++) {
    const double x = crisp (px (v, g_array_index (v->x_marks, Mark, i).t));
    cairo_move_to (cr, x, crisp (v->bottom));
    cairo_line_to (cr, x, crisp (v->bottom) + tick);
  }
  for (guint i = 0; i < v->y_marks->len; i++) {
    const Mark *m = &g_array_index (v->y_marks, Mark, i);
    const double y = crisp (v->bottom - (m->t - v->y0) / (v->y1 - v->y0) * (v->bottom - v->top));
    if (m->text == NULL)
      continue;
    cairo_move_to (cr, crisp (v->left), y);
    cairo_line_to (cr, crisp (v->left) - tick, y);
  }
  cairo_stroke (cr);

  /* Tick labels: x centred under their tick (kept inside the image), y
   * right-aligned and centred on theirs. */
  set_grey (cr, 0.13);
  set_font (cr, v->tick_font, FALSE);
  cairo_font_extents (cr, &fe);
  for (guint i = 0; i < v->x_marks->len; i++) {
    const Mark *m = &g_array_index (v->x_marks, Mark, i);
    const double w = text_width (cr, m->text);
    const double x = CLAMP (px (v, m->t) - w / 2, 2, v->width - 2 - w);
    show_text (cr, x, v->bottom + tick + 0.4 * v->tick_font + fe.ascent, m->text);
  }
  for (guint i = 0; i < v->y_marks->len; i++) {
    const Mark *m = &g_array_index (v->y_marks, Mark, i);
    const double y = v->bottom - (m->t - v->y0) / (v->y1 - v->y0) * (v->bottom - v->top);
    if (m->text == NULL)
      continue;
    show_text (cr, v->left - tick - 0.4 * v->tick_font - text_width (cr, m->text),
               y + (fe.ascent - fe.descent) / 2, m->text);
  }

  /* Axis labels and the title, centred on the plot area. */
  set_font (cr, v->label_font, FALSE);
  cairo_font_extents (cr, &fe);
  if (v->plot->x_label != NULL)
    show_text (cr, (v->left + v->right - text_width (cr, v->plot->x_label)) / 2,
               v->height - 0.6 * v->label_font - fe.descent, v->plot->x_label);
  if (v->plot->y_label != NULL) {
    cairo_save (cr);
    cairo_translate (cr, 0.6 * v->label_font + fe.ascent, (v->top + v->bottom) / 2);
    cairo_rotate (cr, -G_PI / 2);
    show_text (cr, -text_width (cr, v->plot->y_label) / 2, 0, v->plot->y_label);
    cairo_restore (cr);
  }
  if (v->plot->title != NULL) {
    set_grey (cr, 0);
    set_font (cr, v->title_font, TRUE);
    cairo_font_extents (cr, &fe);
    show_text (cr, (v->left + v->right - text_width (cr, v->plot->title)) / 2,
               0.6 * v->title_font + fe.ascent, v->plot->title);
  }
}

/* Whether the segment from (ax, ay) to (bx, by) meets the rectangle, by
 * Liang and Barsky's clipping: the segment's parameter range inside each
 * pair of edges, intersected. */
static gboolean
segment_hits (double ax, double ay, double bx, double by, double x0, double y0, double x1,
              double y1)
{
  const double dx = bx - ax, dy = by - ay;
  const double p[4] = { -dx, dx, -dy, dy };
  const double q[4] = { ax - x0, x1 - ax, ay - y0, y1 - ay };
  double t0 = 0, t1 = 1;

  for (int i = 0; i < 4; i++) {
    if (p[i] == 0) {
      if (q[i] < 0)
        return FALSE;
      continue;
    }
    {
      const double t = q[i] / p[i];
      if (p[i] < 0)
        t0 = MAX (t0, t);
      else
        t1 = MIN (t1, t);
    }
    if (t0 > t1)
      return FALSE;
  }
  return TRUE;
}

/* How much of the data a legend at (x0, y0)-(x1, y1) would hide: the line
 * segments it touches, band edges counting half and markers one each. */
static double
legend_cost (const View *v, double x0, double y0, double x1, double y1)
{
  const RsPlot *plot = v->plot;
  double cost = 0;

  for (guint k = 0; k < plot->items->len; k++) {
    const Item *item = g_ptr_array_index (plot->items, k);
    if (item->kind == ITEM_VLINE) {
      if (isfinite (item->x[0]) && px (v, item->x[0]) >= x0 && px (v, item->x[0]) <= x1)
        cost += 1;
      continue;
    }
    for (int edge = 0; edge < (item->kind == ITEM_BAND ? 2 : 1); edge++) {
      const double *y = edge ? item->b : item->a;
      const double weight = item->kind == ITEM_BAND ? 0.5 : 1;
      for (gsize i = 0; i < item->n; i++) {
        const gboolean here = isfinite (item->x[i]) && y_ok (plot, y[i]);
        const gboolean next = i + 1 < item->n && isfinite (item->x[i + 1]) && y_ok (plot, y[i + 1]);
        if (!here)
          continue;
        if (next) {
          if (segment_hits (px (v, item->x[i]), py (v, y[i]), px (v, item->x[i + 1]),
                            py (v, y[i + 1]), x0, y0, x1, y1))
            cost += weight;
        } else if (segment_hits (px (v, item->x[i]), py (v, y[i]), px (v, item->x[i]),
                                 py (v, y[i]), x0, y0, x1, y1)) {
          cost += weight;
        }
      }
    }
  }
  return cost;
}

static void
draw_legend (const View *v)
{
  const RsPlot *plot = v->plot;
  cairo_t *cr = v->cr;
  const double font = v->tick_font, pad = 0.6 * font, sample = 2.2 * font, row = 1.45 * font;
  const double inset = 0.8 * font;
  double widest = 0, w, h, best_cost = INFINITY, bx = 0, by = 0;
  guint rows = 0;
  cairo_font_extents_t fe;

  set_font (cr, font, FALSE);
  cairo_font_extents (cr, &fe);
  for (guint k = 0; k < plot->items->len; k++) {
    const Item *item = g_ptr_array_index (plot->items, k);
    if (item->name == NULL)
      continue;
    widest = MAX (widest, text_width (cr, item->name));
    rows++;
  }
  if (rows == 0)
    return;
  w = 2 * pad + sample + 0.5 * font + widest;
  h = 2 * pad + rows * row - (row - font);

  /* The corners in order of preference: top right first, where falling
   * loss curves leave room, then top left, bottom right, bottom left. */
  for (int corner = 0; corner < 4; corner++) {
    const double x = corner % 2 == 0 ? v->right - inset - w : v->left + inset;
    const double y = corner < 2 ? v->top + inset : v->bottom - inset - h;
    const double cost = legend_cost (v, x, y, x + w, y + h);
    if (cost < best_cost) {
      best_cost = cost;
      bx = x;
      by = y;
    }
  }

  /* An almost opaque box, so data it must cover still shows faintly. */
  cairo_rectangle (cr, crisp (bx), crisp (by), floor (w), floor (h));
  cairo_set_source_rgba (cr, 1, 1, 1, 0.88);
  cairo_fill_preserve (cr);
  set_grey (cr, 0.75);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);

  {
    double y = by + pad + font / 2;   /* the middle of the first row */
    for (guint k = 0; k < plot->items->len; k++) {
      const Item *item = g_ptr_array_index (plot->items, k);
      const guint8 *rgb = item_rgb (plot, k);
      const double sx = bx + pad;
      if (item->name == NULL)
        continue;
      if (item->kind == ITEM_BAND) {
        /* The shade the band shows on the chart, where others of its
         * colour may cover it too. */
        set_rgb (cr, rgb, 1 - pow (1 - BAND_ALPHA, bands_under (plot, k)));
        cairo_rectangle (cr, sx, y - 0.4 * font, sample, 0.8 * font);
        cairo_fill (cr);
      } else {
        set_rgb (cr, rgb, 1);
        cairo_set_line_width (cr, (item->kind == ITEM_LINE ? line_width (item) : 1.5) * v->s);
        if (item->kind == ITEM_VLINE)
          set_marker_dash (v, item->index);
        cairo_move_to (cr, sx, y);
        cairo_line_to (cr, sx + sample, y);
        cairo_stroke (cr);
        cairo_set_dash (cr, NULL, 0, 0);
      }
      set_grey (cr, 0.13);
      show_text (cr, sx + sample + 0.5 * font, y + (fe.ascent - fe.descent) / 2, item->name);
      y += row;
    }
  }
}

/* The margins around the plot area, from the font sizes and (left) the
 * widest y label; then the x ticks, which need the area's width. */
static void
layout (View *v)
{
  cairo_t *cr = v->cr;
  const double pad = 0.6 * v->label_font, tick = 4 * v->s;
  gboolean whole;
  double widest = 0;

  data_ranges (v, &whole);
  v->top = v->plot->title != NULL ? 2 * pad + 1.25 * v->title_font : pad + v->tick_font;
  v->bottom = v->height - (pad + tick + 0.4 * v->tick_font + 1.25 * v->tick_font);
  if (v->plot->x_label != NULL)
    v->bottom -= 0.4 * v->label_font + 1.25 * v->label_font;
  v->bottom = floor (v->bottom);

  set_font (cr, v->tick_font, FALSE);
  y_ticks (v);
  for (guint i = 0; i < v->y_marks->len; i++) {
    const Mark *m = &g_array_index (v->y_marks, Mark, i);
    if (m->text != NULL)
      widest = MAX (widest, text_width (cr, m->text));
  }
  v->left = pad + widest + 0.4 * v->tick_font + tick;
  if (v->plot->y_label != NULL)
    v->left += 1.25 * v->label_font + 0.4 * v->label_font;
  v->left = floor (v->left);
  v->right = floor (v->width - 2 * v->tick_font);
  x_ticks (v, whole);
}

static void
render (View *v)
{
  cairo_t *cr = v->cr;

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  layout (v);
  draw_grid (v);
  draw_data (v);
  draw_axes (v);
  draw_legend (v);
}

static cairo_status_t
write_png_chunk (void *closure, const unsigned char *data, unsigned int length)
{
  FILE *out = closure;

  return fwrite (data, 1, length, out) == length ? CAIRO_STATUS_SUCCESS
                                                 : CAIRO_STATUS_WRITE_ERROR;
}

gboolean
rs_plot_save_png (RsPlot *plot, const char *path, int width, int height, GError **error)
{
  cairo_surface_t *surface;
  cairo_status_t status;
  g_autoptr (RsAtomicFile) file = NULL;
  View v = { 0 };

  g_return_val_if_fail (plot != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (width >= RS_PLOT_MIN_SIZE && width <= RS_PLOT_MAX_SIZE, FALSE);
  g_return_val_if_fail (height >= RS_PLOT_MIN_SIZE && height <= RS_PLOT_MAX_SIZE, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  v.plot = plot;
  v.cr = cairo_create (surface);
  v.width = width;
  v.height = height;
  /* 13-pixel tick labels at 800 x 500, in proportion elsewhere, but never
   * below 8 pixels, where the toy text API's hinting turns to mush. */
  v.s = MAX (MIN (width / 800.0, height / 500.0), 0.62);
  v.tick_font = 13 * v.s;
  v.label_font = 14 * v.s;
  v.title_font = 16 * v.s;
  v.x_marks = marks_new ();
  v.y_marks = marks_new ();
  render (&v);
  status = cairo_status (v.cr);
  cairo_destroy (v.cr);
  g_array_unref (v.x_marks);
  g_array_unref (v.y_marks);
  if (status != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy (surface);
    g_set_error (error, RS_ERROR, RS_ERROR_FAILED, "cannot draw %s: %s", path,
                 cairo_status_to_string (status));
    return FALSE;
  }

  file = rs_atomic_file_new (path, error);
  if (file == NULL) {
    cairo_surface_destroy (surface);
    return FALSE;
  }
  status = cairo_surface_write_to_png_stream (surface, write_png_chunk,
                                              rs_atomic_file_stream (file));
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    g_set_error (error, RS_ERROR, RS_ERROR_IO, "cannot write %s: %s", path,
                 cairo_status_to_string (status));
    return FALSE;
  }
  return rs_atomic_file_commit (g_steal_pointer (&file), error);
}

void
rs_plot_release_static_data (void)
{
  cairo_debug_reset_static_data ();
  FcFini ();
}
