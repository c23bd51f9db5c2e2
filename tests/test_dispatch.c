/*
 * CPU dispatch: the default choice matches what the compiler's own CPU
 * detection says this machine has, RNNKIT_ISA picks a table, and an
 * RNNKIT_ISA this CPU lacks is a clear error at model creation (Criterion
 * runs each test in a fresh process, so each sees its own environment at
 * the library's one-time detection).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "rnnkit.h"

static float w_ih[3 * 4 * 2], w_hh[3 * 4 * 4];

static rnnkit_status make(rnnkit_model **m) {
    rnnkit_tensor t[2] = {{"weight_ih_l0", w_ih, 2, {12, 2}}, {"weight_hh_l0", w_hh, 2, {12, 4}}};
    rnnkit_model_desc d;
    rnnkit_model_desc_init(&d);
    d.cell = RNNKIT_CELL_GRU;
    return rnnkit_model_create(&d, t, 2, m);
}

Test(dispatch, default_is_the_best_isa_the_cpu_has) {
    unsetenv("RNNKIT_ISA");
    const char *want = "scalar";
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && rnnkit_isa_supported("avx2"))
        want = "avx2";
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        rnnkit_isa_supported("avx512"))
        want = "avx512";
    cr_expect_eq(rnnkit_isa_supported("avx2"),
                 __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"),
                 "avx2 support disagrees with the compiler's detection");
    cr_expect(!rnnkit_isa_supported("neon"));
#endif
    cr_assert(rnnkit_isa_supported("scalar"));
    cr_assert_str_eq(rnnkit_isa_active(), want);
    rnnkit_model *m = NULL;
    cr_assert_eq(make(&m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rnnkit_model_info info;
    rnnkit_model_get_info(m, &info);
    cr_expect_str_eq(info.isa, want);
    rnnkit_model_destroy(m);
}

Test(dispatch, env_selects_scalar) {
    setenv("RNNKIT_ISA", "SCALAR", 1);
    cr_assert_str_eq(rnnkit_isa_active(), "scalar");
    rnnkit_model *m = NULL;
    cr_assert_eq(make(&m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rnnkit_model_info info;
    rnnkit_model_get_info(m, &info);
    cr_expect_str_eq(info.isa, "scalar");
    rnnkit_model_destroy(m);
}

Test(dispatch, env_unknown_isa_is_a_clear_error) {
    setenv("RNNKIT_ISA", "sse9", 1);
    rnnkit_model *m = NULL;
    cr_assert_eq(make(&m), RNNKIT_STATUS_ISA_UNAVAILABLE);
    cr_expect(m == NULL);
    cr_expect(strstr(rnnkit_last_error(), "sse9") != NULL, "message: %s", rnnkit_last_error());
    cr_expect(strstr(rnnkit_last_error(), "scalar") != NULL, "message lists no supported ISA: %s",
              rnnkit_last_error());
    /* An explicit choice through the API overrides the environment. */
    cr_assert_eq(rnnkit_isa_select("scalar"), RNNKIT_STATUS_OK);
    cr_assert_eq(make(&m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rnnkit_model_destroy(m);
}

Test(dispatch, env_isa_of_another_architecture_is_an_error) {
#if defined(__aarch64__)
    setenv("RNNKIT_ISA", "avx2", 1);
#else
    setenv("RNNKIT_ISA", "neon", 1);
#endif
    rnnkit_model *m = NULL;
    cr_assert_eq(make(&m), RNNKIT_STATUS_ISA_UNAVAILABLE);
    cr_expect(strstr(rnnkit_last_error(), "supports") != NULL, "%s", rnnkit_last_error());
}

Test(dispatch, select_rejects_unsupported_and_lists_supported) {
    cr_assert_eq(rnnkit_isa_select("avx1024"), RNNKIT_STATUS_ISA_UNAVAILABLE);
    cr_expect(strstr(rnnkit_last_error(), "avx1024") != NULL);
    cr_assert_eq(rnnkit_isa_select("auto"), RNNKIT_STATUS_OK);
    cr_assert_eq(rnnkit_isa_select(NULL), RNNKIT_STATUS_OK);
    cr_assert_eq(rnnkit_isa_select("scalar"), RNNKIT_STATUS_OK);
    cr_expect_str_eq(rnnkit_isa_active(), "scalar");
}
