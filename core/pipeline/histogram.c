/* Latency histograms (see histogram.h). */
#include "config.h"

#include <math.h>

#include "histogram.h"

static guint
bucket_of (gint64 ns)
{
  double b;

  if (ns <= 1)
    return 0;
  b = floor (4.0 * log2 ((double) ns));
  return (guint) MIN (b, RS_HISTOGRAM_BUCKETS - 1);
}

void
rs_histogram_add (RsHistogram *h, gint64 ns)
{
  h->counts[bucket_of (ns)]++;
  h->n++;
  h->total_ns += (double) MAX (ns, 0);
}

double
rs_histogram_quantile (const RsHistogram *h, double q)
{
  guint64 rank, seen = 0;

  if (h->n == 0)
    return 0;
  rank = (guint64) ceil (q * (double) h->n);
  rank = MAX (rank, 1);
  for (guint b = 0; b < RS_HISTOGRAM_BUCKETS; b++) {
    seen += h->counts[b];
    if (seen >= rank)
      return exp2 ((b + 1) / 4.0);
  }
  return exp2 (RS_HISTOGRAM_BUCKETS / 4.0);
}
