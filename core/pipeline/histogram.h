/* Latency percentiles in constant memory: a histogram with four buckets
 * per octave of nanoseconds (each bucket about 19% wide), which is as
 * precise as a p50/p99 report needs. Internal. */
#ifndef RS_PIPELINE_HISTOGRAM_H
#define RS_PIPELINE_HISTOGRAM_H

#include <glib.h>

#define RS_HISTOGRAM_BUCKETS 160   /* 4 per octave up to 2^40 ns (18 minutes) */

typedef struct RsHistogram {
  guint64 counts[RS_HISTOGRAM_BUCKETS];
  guint64 n;
  double total_ns;
} RsHistogram;

void rs_histogram_add (RsHistogram *h, gint64 ns);

/* The q-quantile (0..1) in nanoseconds: the upper edge of the bucket that
 * holds it; 0 when empty. */
double rs_histogram_quantile (const RsHistogram *h, double q);

#endif
