/* xoshiro256** seeded through splitmix64 (see rng.h). */
#include "config.h"

#include "rng.h"

static guint64
splitmix64 (guint64 *x)
{
  guint64 z = (*x += 0x9e3779b97f4a7c15ull);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void
rs_rng_init (RsRng *rng, guint64 seed)
{
  /* splitmix64 never yields four zeros in a row, the one state xoshiro
   * must avoid. */
  for (int i = 0; i < 4; i++)
    rng->s[i] = splitmix64 (&seed);
}

static inline guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

guint64
rs_rng_next (RsRng *rng)
{
  guint64 *s = rng->s;
  const guint64 result = rotl (s[1] * 5, 7) * 9;
  const guint64 t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

float
rs_rng_uniform (RsRng *rng, float bound)
{
  const float u = (float) (rs_rng_next (rng) >> 40) * 0x1.0p-24f;

  return (2.0f * u - 1.0f) * bound;
}
