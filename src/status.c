/* Status strings, the thread-local error message, checked sizes and the
 * library's one allocator (an allocation-failure test build hooks it). */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#endif
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

static _Thread_local char rk_msg[512];

const char *rnnkit_status_string(rnnkit_status s) {
    switch (s) {
    case RNNKIT_STATUS_OK: return "ok";
    case RNNKIT_STATUS_INVALID_ARGUMENT: return "invalid argument";
    case RNNKIT_STATUS_SHAPE_MISMATCH: return "shape mismatch";
    case RNNKIT_STATUS_MISSING_TENSOR: return "missing or unknown tensor";
    case RNNKIT_STATUS_OUT_OF_MEMORY: return "out of memory";
    case RNNKIT_STATUS_UNSUPPORTED: return "unsupported";
    case RNNKIT_STATUS_IO_ERROR: return "i/o error";
    case RNNKIT_STATUS_FORMAT_ERROR: return "malformed file";
    case RNNKIT_STATUS_WORKSPACE_TOO_SMALL: return "workspace too small";
    case RNNKIT_STATUS_ISA_UNAVAILABLE: return "isa unavailable";
    case RNNKIT_STATUS_BAD_LENGTH: return "bad sequence length";
    }
    return "unknown status";
}

const char *rnnkit_last_error(void) { return rk_msg; }

void rk_clear_error(void) { rk_msg[0] = '\0'; }

rnnkit_status rk_error(rnnkit_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rk_msg, sizeof rk_msg, fmt, ap);
    va_end(ap);
    return s;
}

int rk_mul_overflow(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 1;
    *out = a * b;
    return 0;
}

int rk_add_overflow(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return 1;
    *out = a + b;
    return 0;
}

#ifdef RNNKIT_ALLOC_FAIL_INJECTION
/* Test builds: the k-th allocation (1-based) fails when
 * rnnkit_test_fail_alloc_at = k; 0 disables. */
long rnnkit_test_fail_alloc_at = 0;
long rnnkit_test_alloc_count = 0;
static int rk_should_fail(void) {
    long n = ++rnnkit_test_alloc_count;
    return rnnkit_test_fail_alloc_at > 0 && n == rnnkit_test_fail_alloc_at;
}
#else
static int rk_should_fail(void) { return 0; }
#endif

void *rk_alloc(size_t bytes) {
    if (rk_should_fail()) return NULL;
    if (bytes == 0) bytes = 1;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded < bytes) return NULL;
    return aligned_alloc(64, rounded);
}

void *rk_alloc_large(size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= RK_HUGE_MIN_BYTES) {
        if (rk_should_fail()) return NULL;
        void *p = NULL;
        if (posix_memalign(&p, RK_HUGE_ALIGN, bytes)) return NULL;
        /* Advice only: where THP is off or the advice fails, the buffer
         * is an ordinary one. */
        (void)madvise(p, bytes, MADV_HUGEPAGE);
        return p;
    }
#endif
    return rk_alloc(bytes);
}

/* count * size zeroed bytes from alloc; NULL on overflow or failure. */
static void *rk_calloc_by(void *(*alloc)(size_t), size_t count, size_t size) {
    size_t bytes;
    if (rk_mul_overflow(count, size, &bytes)) return NULL;
    void *p = alloc(bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void *rk_calloc_large(size_t count, size_t size) { return rk_calloc_by(rk_alloc_large, count, size); }

void *rk_calloc(size_t count, size_t size) { return rk_calloc_by(rk_alloc, count, size); }

void rk_free(void *p) { free(p); }
