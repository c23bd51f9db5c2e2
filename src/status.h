/* Error reporting shared by the library's C files (not public). */
#ifndef RNNKIT_STATUS_H
#define RNNKIT_STATUS_H

#include "rnnkit.h"

#if defined(__GNUC__)
#define RK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define RK_PRINTF(a, b)
#endif

/* Records a message for rnnkit_last_error() on this thread and returns s. */
rnnkit_status rk_error(rnnkit_status s, const char *fmt, ...) RK_PRINTF(2, 3);
/* Clears this thread's message (every public entry point calls it). */
void rk_clear_error(void);

/* a*b and a+b in size_t, or 0 on overflow (callers treat 0 as failure
 * where a zero size is impossible). */
int rk_mul_overflow(size_t a, size_t b, size_t *out);
int rk_add_overflow(size_t a, size_t b, size_t *out);

/* 64-byte aligned allocation; free with rk_free. NULL on failure. */
void *rk_alloc(size_t bytes);
void *rk_calloc(size_t count, size_t size);
/* rk_alloc for the big read-mostly buffers streamed by the kernels (the
 * packed weights, a forward call's workspace): from RK_HUGE_MIN_BYTES up,
 * on Linux, aligned to RK_HUGE_ALIGN (2 MiB) and advised as transparent
 * huge pages (madvise MADV_HUGEPAGE, which acts where THP is "always" or
 * "madvise", the common default). With 4 KiB pages the second-level TLB
 * covers 8 MiB, and the rows the kernels stride through (the gemm's C,
 * the steps' xp) and multi-MiB weights miss it; in a VM a miss is a
 * two-level page walk (bench/results-2026-11-28-s20.md). Free with
 * rk_free. */
#define RK_HUGE_MIN_BYTES ((size_t)2 << 20)
#define RK_HUGE_ALIGN ((size_t)2 << 20)
void *rk_alloc_large(size_t bytes);
void *rk_calloc_large(size_t count, size_t size);
void rk_free(void *p);

#endif
