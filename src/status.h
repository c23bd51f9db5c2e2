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
void rk_free(void *p);

#endif
