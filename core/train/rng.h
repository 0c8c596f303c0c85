/* The deterministic generator behind seeded initialisation (internal).
 *
 * xoshiro256** (Blackman and Vigna, 2018) seeded through splitmix64, both
 * defined on 64-bit integers only, so a seed gives the same numbers on every
 * platform and compiler. */
#ifndef RS_TRAIN_RNG_H
#define RS_TRAIN_RNG_H

#include <glib.h>

typedef struct RsRng {
  guint64 s[4];
} RsRng;

void rs_rng_init (RsRng *rng, guint64 seed);
guint64 rs_rng_next (RsRng *rng);

/* Uniform on [-bound, bound): a 24-bit uniform float in [0, 1) scaled, so
 * every value is exact in float32. */
float rs_rng_uniform (RsRng *rng, float bound);

#endif
