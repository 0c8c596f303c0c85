/* Four-float vectors for the feature kernels. Internal.
 *
 * GCC's and clang's vector extension: plain C arithmetic on four lanes,
 * compiled to SSE on x86-64 (and to whatever the target has, or scalar
 * code, elsewhere), with no run-time dispatch. The kernels use it where
 * the compiler would otherwise leave a reduction as one long chain of
 * dependent adds (it may not reorder float sums by itself). Every sum
 * below is taken in one fixed order, lane by lane, so a result never
 * depends on where the data sits or how the input was split.
 */
#ifndef RS_FEATURES_VEC4_H
#define RS_FEATURES_VEC4_H

#include <string.h>

typedef float RsVec4 __attribute__ ((vector_size (16)));

/* Unaligned load and store (memcpy compiles to one movups). */
static inline RsVec4
rs_vec4_load (const float *p)
{
  RsVec4 v;

  memcpy (&v, p, sizeof v);
  return v;
}

static inline void
rs_vec4_store (float *p, RsVec4 v)
{
  memcpy (p, &v, sizeof v);
}

static inline RsVec4
rs_vec4_splat (float x)
{
  return (RsVec4) { x, x, x, x };
}

/* |z|^2 of four complex numbers stored interleaved, re im re im ..., in
 * a (the first two) and b (the next two): re * re + im * im per lane,
 * the same arithmetic as the scalar expression. */
static inline RsVec4
rs_vec4_norm2_interleaved (RsVec4 a, RsVec4 b)
{
  const RsVec4 sa = a * a, sb = b * b;

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
  return __builtin_shufflevector (sa, sb, 0, 2, 4, 6) +
         __builtin_shufflevector (sa, sb, 1, 3, 5, 7);
#else
  return (RsVec4) { sa[0], sa[2], sb[0], sb[2] } + (RsVec4) { sa[1], sa[3], sb[1], sb[3] };
#endif
}

/* (v0 + v2) + (v1 + v3). */
static inline float
rs_vec4_sum (RsVec4 v)
{
  return (v[0] + v[2]) + (v[1] + v[3]);
}

#endif
