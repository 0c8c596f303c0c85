/* Private plumbing shared by the kernel sources and their tests.
 *
 * The public entry points (linear.h, activation.h) forward to a table of
 * function pointers chosen once per process. Tests reach the tables
 * directly so that they can check every implementation the CPU supports
 * against each other and against the documented arithmetic, without
 * spawning a process per kernel. */
#ifndef RS_KERNELS_INTERNAL_H
#define RS_KERNELS_INTERNAL_H

#include <stddef.h>

#include "linear.h"

/* The AVX2 kernels are compiled wherever the compiler can target x86 with
 * per-function target attributes, so a baseline x86-64 build still carries
 * them and picks them at run time. Elsewhere only the portable kernels
 * exist. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define RS_KERNELS_HAVE_AVX2 1
#define RS_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define RS_KERNELS_HAVE_AVX2 0
#endif

typedef struct RsKernelTable {
  const char *name;
  void (*linear_forward) (const RsLinear *lin, size_t n_rows,
                          const float *x, size_t ldx, float *y, size_t ldy);
  void (*sigmoid) (float *x, size_t n);
  void (*tanh) (float *x, size_t n);
  void (*relu) (float *x, size_t n);
} RsKernelTable;

/* The table every public entry point uses: picked on first use (thread-safe)
 * and never changed afterwards. */
const RsKernelTable *rs_kernels_active (void);

/* The table called name ("generic" or "avx2") when this build has it and
 * this CPU can run it, else NULL. Lets tests compare implementations. */
const RsKernelTable *rs_kernels_lookup (const char *name);

/* Implementations, defined in linear.c / activation.c and their -avx2.c
 * siblings. */
void rs_linear_forward_generic (const RsLinear *lin, size_t n_rows,
                                const float *x, size_t ldx,
                                float *y, size_t ldy);
void rs_sigmoid_generic (float *x, size_t n);
void rs_tanh_generic (float *x, size_t n);
void rs_relu_generic (float *x, size_t n);

#if RS_KERNELS_HAVE_AVX2
void rs_linear_forward_avx2 (const RsLinear *lin, size_t n_rows,
                             const float *x, size_t ldx,
                             float *y, size_t ldy);
void rs_sigmoid_avx2 (float *x, size_t n);
void rs_tanh_avx2 (float *x, size_t n);
void rs_relu_avx2 (float *x, size_t n);
#endif

#endif
