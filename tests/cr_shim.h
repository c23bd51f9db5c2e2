/*
 * A stand-in for the few Criterion macros the concurrency suite uses, so
 * that suite also builds as a plain program (tests/meson.build:
 * tsan_concurrency). Criterion's runner cannot start under
 * ThreadSanitizer ("Could not initialize inheritable arena"), so the TSan
 * check runs this build. Every failed check prints and exits non-zero.
 */
#ifndef RNNKIT_CR_SHIM_H
#define RNNKIT_CR_SHIM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*shim_test_fn)(void);
static shim_test_fn shim_tests[64];
static const char *shim_names[64];
static int shim_count;

#define Test(suite, name)                                                                          \
    static void suite##_##name(void);                                                              \
    __attribute__((constructor)) static void reg_##suite##_##name(void) {                          \
        shim_names[shim_count] = #suite "::" #name;                                                \
        shim_tests[shim_count++] = suite##_##name;                                                 \
    }                                                                                              \
    static void suite##_##name(void)

/* The message arguments follow the location; a bare check has none. */
#define SHIM_FAIL(...)                                                                             \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: check failed:", __FILE__, __LINE__);                               \
        fprintf(stderr, " " __VA_ARGS__);                                                          \
        fprintf(stderr, "\n");                                                                     \
        exit(1);                                                                                   \
    } while (0)
#define cr_assert(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) SHIM_FAIL(__VA_ARGS__);                                                       \
    } while (0)
#define cr_expect cr_assert
#define cr_assert_eq(a, b, ...) cr_assert((a) == (b), __VA_ARGS__)
#define cr_assert_neq(a, b, ...) cr_assert((a) != (b), __VA_ARGS__)
#define cr_expect_eq cr_assert_eq
#define cr_expect_str_eq(a, b, ...) cr_assert(strcmp((a), (b)) == 0, __VA_ARGS__)
#define cr_log_error(...) (fprintf(stderr, __VA_ARGS__), fprintf(stderr, "\n"))
#define cr_log_info(...) ((void)0)

int main(void) {
    for (int i = 0; i < shim_count; i++) {
        shim_tests[i]();
        printf("[PASS] %s\n", shim_names[i]);
    }
    printf("%d passed, 0 failed\n", shim_count);
    return 0;
}

#endif
