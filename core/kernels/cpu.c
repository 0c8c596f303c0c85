/* Run-time choice of the kernel implementation. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const RsKernelTable generic_table = {
  .name = "generic",
  .linear_forward = rs_linear_forward_generic,
  .sigmoid = rs_sigmoid_generic,
  .tanh = rs_tanh_generic,
  .relu = rs_relu_generic,
};

#if RS_KERNELS_HAVE_AVX2
static const RsKernelTable avx2_table = {
  .name = "avx2",
  .linear_forward = rs_linear_forward_avx2,
  .sigmoid = rs_sigmoid_avx2,
  .tanh = rs_tanh_avx2,
  .relu = rs_relu_avx2,
};

/* __builtin_cpu_supports also checks, through XGETBV, that the OS saves the
 * YMM registers, so a kernel without AVX state support is not picked. */
static int
cpu_has_avx2 (void)
{
  __builtin_cpu_init ();
  return __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
}
#endif

const RsKernelTable *
rs_kernels_lookup (const char *name)
{
  if (strcmp (name, generic_table.name) == 0)
    return &generic_table;
#if RS_KERNELS_HAVE_AVX2
  if (strcmp (name, avx2_table.name) == 0 && cpu_has_avx2 ())
    return &avx2_table;
#endif
  return NULL;
}

/* The choice is made once and cached: a cell must not change kernels (and
 * hence rounding) in the middle of a stream, and the real-time paths must
 * not pay for getenv or CPUID. The pointer is atomic so that the fast path
 * is a single acquire load; pthread_once serialises the first choice. */
static _Atomic(const RsKernelTable *) active_table;
static pthread_once_t active_once = PTHREAD_ONCE_INIT;

static void
choose_table (void)
{
  const char *forced = getenv ("RNNSTREAM_KERNEL");
  const RsKernelTable *table = NULL;

  if (forced == NULL || strcmp (forced, "generic") != 0)
    {
#if RS_KERNELS_HAVE_AVX2
      table = rs_kernels_lookup ("avx2");
#endif
    }
  if (table == NULL)
    table = &generic_table;
  atomic_store_explicit (&active_table, table, memory_order_release);
}

const RsKernelTable *
rs_kernels_active (void)
{
  const RsKernelTable *table =
      atomic_load_explicit (&active_table, memory_order_acquire);

  if (table == NULL)
    {
      pthread_once (&active_once, choose_table);
      table = atomic_load_explicit (&active_table, memory_order_acquire);
    }
  return table;
}

const char *
rs_kernels_name (void)
{
  return rs_kernels_active ()->name;
}
