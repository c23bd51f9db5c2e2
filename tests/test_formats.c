/*
 * .npy and .safetensors readers/writers (src/formats.h only).
 * Inputs are built here byte by byte, expected values come from bit
 * patterns and ldexp, not from the code under test. Every malformed input
 * must give a non-OK status, a non-empty message and a zeroed output.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats.h"
#include "rnnkit.h"

/* ---------------- helpers ---------------- */

static char g_dir[256];

static void make_tmpdir(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/rk_fmt_XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir), "mkdtemp failed");
}

static void rm_tmpdir(void) {
    DIR *d = opendir(g_dir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(g_dir);
}

static int count_dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* A .safetensors image: 8-byte LE length, header text, data. */
static unsigned char *st_build(const char *json, const void *data, size_t dlen, size_t *len) {
    size_t hl = strlen(json);
    *len = 8 + hl + dlen;
    unsigned char *b = malloc(*len + 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(b + 8, json, hl);
    if (dlen) memcpy(b + 8 + hl, data, dlen);
    return b;
}

/* A .npy image of the given version: magic, version, header length
 * (2 or 4 bytes), header text as given (no padding added), data. */
static unsigned char *npy_build(int major, const char *hdr, const void *data, size_t dlen,
                                size_t *len) {
    size_t hl = strlen(hdr), pre = major == 1 ? 10 : 12;
    *len = pre + hl + dlen;
    unsigned char *b = malloc(*len + 1);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    b[8] = (unsigned char)(hl & 0xff);
    b[9] = (unsigned char)((hl >> 8) & 0xff);
    if (major != 1) {
        b[10] = (unsigned char)((hl >> 16) & 0xff);
        b[11] = (unsigned char)((hl >> 24) & 0xff);
    }
    memcpy(b + pre, hdr, hl);
    if (dlen) memcpy(b + pre + hl, data, dlen);
    return b;
}

static int st_is_zero(const rk_st_file *f) {
    return f->num_tensors == 0 && f->tensors == NULL && f->num_meta == 0 && f->meta_keys == NULL &&
           f->meta_values == NULL;
}

static void expect_st_fail(const void *buf, size_t len, const char *label) {
    rk_st_file f;
    memset(&f, 0xAB, sizeof f);
    rnnkit_status s = rk_safetensors_parse(buf, len, "t.safetensors", &f);
    cr_assert_neq(s, RNNKIT_STATUS_OK, "%s: expected failure, got OK", label);
    cr_assert_gt(strlen(rnnkit_last_error()), 0, "%s: empty message", label);
    cr_assert(st_is_zero(&f), "%s: output not cleared on failure", label);
    cr_assert(strstr(rnnkit_last_error(), "t.safetensors") != NULL,
              "%s: message does not name the file: %s", label, rnnkit_last_error());
}

static void expect_st_json_fail(const char *json, const char *label, const char *needle) {
    size_t len;
    unsigned char *b = st_build(json, "\0\0\0\0\0\0\0\0", 8, &len);
    expect_st_fail(b, len, label);
    if (needle)
        cr_assert(strstr(rnnkit_last_error(), needle) != NULL,
                  "%s: message lacks \"%s\": %s", label, needle, rnnkit_last_error());
    free(b);
}

static void expect_npy_fail(const void *buf, size_t len, const char *label, const char *needle) {
    rk_array a;
    memset(&a, 0xAB, sizeof a);
    rnnkit_status s = rk_npy_parse(buf, len, "t.npy", &a);
    cr_assert_neq(s, RNNKIT_STATUS_OK, "%s: expected failure, got OK", label);
    cr_assert_gt(strlen(rnnkit_last_error()), 0, "%s: empty message", label);
    cr_assert_null(a.data, "%s: data left allocated", label);
    cr_assert(strstr(rnnkit_last_error(), "t.npy") != NULL, "%s: message does not name the file: %s",
              label, rnnkit_last_error());
    if (needle)
        cr_assert(strstr(rnnkit_last_error(), needle) != NULL, "%s: message lacks \"%s\": %s",
                  label, needle, rnnkit_last_error());
}

static void expect_npy_hdr_fail(const char *hdr, size_t dlen, const char *label,
                                const char *needle) {
    size_t len;
    unsigned char zeros[64] = {0};
    unsigned char *b = npy_build(1, hdr, zeros, dlen, &len);
    expect_npy_fail(b, len, label, needle);
    free(b);
}

static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Independent IEEE half decoding in double (exact for every half). */
static double half_ref(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 0) v = ldexp((double)m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexp(1.0 + m / 1024.0, e - 15);
    return s ? -v : v;
}

/* ---------------- F16 / BF16 ---------------- */

static float *read_f16_tensor(const char *dtype, const uint16_t *vals, size_t n, rk_st_file *f) {
    char json[256];
    snprintf(json, sizeof json, "{\"x\":{\"dtype\":\"%s\",\"shape\":[%zu],\"data_offsets\":[0,%zu]}}",
             dtype, n, 2 * n);
    unsigned char *data = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        data[2 * i] = (unsigned char)(vals[i] & 0xff);
        data[2 * i + 1] = (unsigned char)(vals[i] >> 8);
    }
    size_t len;
    unsigned char *b = st_build(json, data, 2 * n, &len);
    rnnkit_status s = rk_safetensors_parse(b, len, "f16", f);
    free(b);
    free(data);
    cr_assert_eq(s, RNNKIT_STATUS_OK, "parse failed: %s", rnnkit_last_error());
    cr_assert_eq(f->num_tensors, 1);
    cr_assert_eq(f->tensors[0].count, n);
    return f->tensors[0].data;
}

Test(f16, known_patterns) {
    const uint16_t v[] = {0x3C00, 0xC000, 0x7C00, 0xFC00, 0x0001, 0x03FF, 0x0400,
                          0x7BFF, 0x8000, 0x3555, 0x8001, 0x0000};
    const float want[] = {1.0f,
                          -2.0f,
                          INFINITY,
                          -INFINITY,
                          0x1p-24f,
                          1023 * 0x1p-24f,
                          0x1p-14f,
                          65504.0f,
                          -0.0f,
                          0.333251953125f,
                          -0x1p-24f,
                          0.0f};
    rk_st_file f;
    float *got = read_f16_tensor("F16", v, 12, &f);
    for (int i = 0; i < 12; i++)
        cr_expect_eq(fbits(got[i]), fbits(want[i]), "half 0x%04x: got %a (bits %08x), want %a", v[i],
                     (double)got[i], fbits(got[i]), (double)want[i]);
    rk_st_file_free(&f);
    uint16_t nans[] = {0x7E00, 0x7C01, 0xFE00};
    got = read_f16_tensor("F16", nans, 3, &f);
    for (int i = 0; i < 3; i++) cr_expect(isnan(got[i]), "half 0x%04x not NaN: %a", nans[i], (double)got[i]);
    cr_expect(signbit(got[2]), "sign of 0xFE00 lost");
    rk_st_file_free(&f);
}

Test(f16, all_65536_patterns) {
    uint16_t *v = malloc(65536 * sizeof *v);
    for (uint32_t i = 0; i < 65536; i++) v[i] = (uint16_t)i;
    rk_st_file f;
    float *got = read_f16_tensor("F16", v, 65536, &f);
    for (uint32_t i = 0; i < 65536; i++) {
        double r = half_ref((uint16_t)i);
        if (isnan(r)) {
            cr_assert(isnan(got[i]), "half 0x%04x: got %a, want NaN", i, (double)got[i]);
        } else {
            cr_assert(fbits(got[i]) == fbits((float)r), "half 0x%04x: got %a, want %a", i,
                      (double)got[i], r);
        }
    }
    rk_st_file_free(&f);
    free(v);
}

Test(bf16, known_patterns) {
    const uint16_t v[] = {0x3F80, 0xC000, 0x7F80, 0xFF80, 0x0001, 0x8000, 0x4049, 0x0080};
    const float want[] = {1.0f, -2.0f, INFINITY, -INFINITY, 0x1p-133f, -0.0f, 3.140625f, 0x1p-126f};
    rk_st_file f;
    float *got = read_f16_tensor("BF16", v, 8, &f);
    for (int i = 0; i < 8; i++)
        cr_expect_eq(fbits(got[i]), fbits(want[i]), "bf16 0x%04x: got %a, want %a", v[i],
                     (double)got[i], (double)want[i]);
    rk_st_file_free(&f);
    uint16_t nan = 0x7FC0;
    got = read_f16_tensor("BF16", &nan, 1, &f);
    cr_expect(isnan(got[0]));
    rk_st_file_free(&f);
}

/* ---------------- safetensors reading ---------------- */

Test(safetensors, hand_built_f32_and_metadata) {
    /* Two tensors, offsets not in name order, a gap between them, padding
     * spaces after the JSON, escapes and a surrogate pair in metadata. */
    const char *json =
        "{ \"b\" : {\"shape\":[2],\"dtype\":\"F32\",\"data_offsets\":[0,8]},"
        "\"__metadata__\":{\"cell\":\"lstm\",\"q\":\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\\/\"},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[12,20]},"
        "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[8,8]},"
        "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[20,24]}}    ";
    float data[6] = {1.5f, -2.0f, 99.0f, 3.25f, 4.0f, 7.0f};
    size_t len;
    unsigned char *b = st_build(json, data, sizeof data, &len);
    rk_st_file f;
    rnnkit_status s = rk_safetensors_parse(b, len, "h.safetensors", &f);
    cr_assert_eq(s, RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_assert_eq(f.num_tensors, 4);
    const rk_st_tensor *tb = rk_st_find(&f, "b"), *ta = rk_st_find(&f, "a");
    const rk_st_tensor *te = rk_st_find(&f, "empty"), *ts = rk_st_find(&f, "scalar");
    cr_assert(tb && ta && te && ts);
    cr_assert_null(rk_st_find(&f, "c"));
    cr_expect_eq(tb->ndim, 1);
    cr_expect_eq(tb->shape[0], 2);
    cr_expect_eq(tb->data[0], 1.5f);
    cr_expect_eq(tb->data[1], -2.0f);
    cr_expect_eq(ta->ndim, 2);
    cr_expect_eq(ta->shape[0], 1);
    cr_expect_eq(ta->shape[1], 2);
    cr_expect_eq(ta->data[0], 3.25f);
    cr_expect_eq(ta->data[1], 4.0f);
    cr_expect_eq(te->count, 0);
    cr_expect_eq(ts->ndim, 0);
    cr_expect_eq(ts->count, 1);
    cr_expect_eq(ts->data[0], 7.0f);
    cr_expect_str_eq(rk_st_meta_get(&f, "cell"), "lstm");
    cr_expect_str_eq(rk_st_meta_get(&f, "q"), "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80/");
    cr_expect_null(rk_st_meta_get(&f, "nope"));
    rk_st_file_free(&f);
    free(b);
}

Test(safetensors, truncated_at_every_length) {
    const char *json = "{\"__metadata__\":{\"k\":\"v\"},"
                       "\"w\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}";
    uint16_t d[4] = {0x3C00, 0x4000, 0x4200, 0x4400};
    size_t len;
    unsigned char *b = st_build(json, d, sizeof d, &len);
    rk_st_file f;
    cr_assert_eq(rk_safetensors_parse(b, len, "t.safetensors", &f), RNNKIT_STATUS_OK, "%s",
                 rnnkit_last_error());
    cr_expect_eq(f.tensors[0].data[3], 4.0f);
    rk_st_file_free(&f);
    for (size_t n = 0; n < len; n++) {
        /* Copy so ASan sees reads past the truncated end. */
        unsigned char *c = malloc(n ? n : 1);
        memcpy(c, b, n);
        char label[64];
        snprintf(label, sizeof label, "truncated to %zu of %zu bytes", n, len);
        expect_st_fail(c, n, label);
        free(c);
    }
    free(b);
}

Test(safetensors, header_size_checks) {
    unsigned char b[16] = {0};
    expect_st_fail(b, 0, "empty file");
    expect_st_fail(b, 7, "7 bytes");
    /* header size larger than the file */
    b[0] = 9;
    memcpy(b + 8, "{}      ", 8);
    expect_st_fail(b, 16, "header size 9 > 8 available");
    /* absurd header size */
    memset(b, 0xff, 8);
    expect_st_fail(b, 16, "header size 2^64-1");
    b[0] = 0, b[1] = 0, b[2] = 0, b[3] = 0x10, b[4] = b[5] = b[6] = b[7] = 0;
    expect_st_fail(b, 16, "header size 256 MiB");
    cr_expect(strstr(rnnkit_last_error(), "limit") != NULL, "%s", rnnkit_last_error());
    /* header size zero */
    memset(b, 0, 16);
    expect_st_fail(b, 16, "header size 0");
    /* valid minimal file: "{}" */
    b[0] = 2;
    memcpy(b + 8, "{}", 2);
    rk_st_file f;
    cr_assert_eq(rk_safetensors_parse(b, 10, "min", &f), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_expect_eq(f.num_tensors, 0);
    rk_st_file_free(&f);
}

Test(safetensors, bad_json) {
    static const char *const bad[] = {
        "",
        "{",
        "{}x",
        "{} {}",
        "[]",
        "\"str\"",
        "{\"a\" 1}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{,}",
        "{'a':1}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":-}",
        "{\"a\":1e}",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\u12G4\"}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\ud800\\u0041\"}",
        "{\"a\":\"\\udc00\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":\"\xff\"}",
        "{\"a\":\"\xc0\xaf\"}",       /* overlong '/' */
        "{\"a\":\"\xed\xa0\x80\"}",   /* UTF-8 encoded surrogate */
        "{\"a\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
        "{\"a\":\"\xe2\x82\"}",       /* truncated sequence */
        "{\"a\":[1,2}",
        "{\"a\":[1 2]}",
        "{\"a\":\"unterminated}",
        "{\"a\":\"x\\",
        "{\"a\":1 \"b\":2}",
        "{\"a\":1}\x01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char label[96];
        snprintf(label, sizeof label, "bad JSON #%zu <%s>", i, bad[i]);
        if (strlen(bad[i]) < 2) {
            size_t len;
            unsigned char *b = st_build(bad[i], NULL, 0, &len);
            expect_st_fail(b, len, label);
            free(b);
        } else {
            expect_st_json_fail(bad[i], label, NULL);
        }
    }
}

Test(safetensors, nesting_limit) {
    char deep[400];
    size_t n = 0;
    deep[n++] = '{';
    memcpy(deep + n, "\"a\":", 4);
    n += 4;
    for (int i = 0; i < 150; i++) deep[n++] = '[';
    for (int i = 0; i < 150; i++) deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    expect_st_json_fail(deep, "150-deep nesting", "nesting");
}

Test(safetensors, bad_tensors) {
    static const struct {
        const char *json, *needle;
    } cases[] = {
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", "w"},  /* past end (8 data bytes) */
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", "w"},  /* begin at end */
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", "w"},   /* begin > end */
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "12 bytes"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", "w"},
        {"{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", "'w'"},
        {"{\"w\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "I32"},
        {"{\"w\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "f32"},
        {"{\"w\":{\"dtype\":3,\"shape\":[2],\"data_offsets\":[0,8]}}", "dtype"},
        {"{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "dtype"},
        {"{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", "shape"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", "data_offsets"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", "x"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "shape"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", "shape"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", "shape"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", "shape"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", "dimensions"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,2],\"data_offsets\":[0,8]}}", "overflow"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[9223372036854775807,3],\"data_offsets\":[0,8]}}", "overflow"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}", "shape"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", "data_offsets"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", "data_offsets"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", "data_offsets"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,1e1]}}", "data_offsets"},
        {"{\"w\":[1,2]}", "w"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[2,6]}}", "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "duplicate"},
        {"{\"\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "empty"},
        {"{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "NUL"},
        {"{\"__metadata__\":{\"k\":1}}", "__metadata__"},
        {"{\"__metadata__\":{\"k\":[\"v\"]}}", "__metadata__"},
        {"{\"__metadata__\":{\"k\":null}}", "__metadata__"},
        {"{\"__metadata__\":[]}", "__metadata__"},
        {"{\"__metadata__\":\"x\"}", "__metadata__"},
        {"{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}}", "duplicate"},
        {"{\"__metadata__\":{},\"__metadata__\":{}}", "duplicate"},
        {"{\"__metadata__\":{\"k\":\"a\\u0000\"}}", "NUL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char label[300];
        snprintf(label, sizeof label, "case %zu <%s>", i, cases[i].json);
        expect_st_json_fail(cases[i].json, label, cases[i].needle);
    }
}

/* ---------------- safetensors round trip ---------------- */

Test(safetensors, round_trip_0d_to_4d, .init = make_tmpdir, .fini = rm_tmpdir) {
    float v[120];
    for (int i = 0; i < 120; i++) v[i] = (float)i * 0.5f - 7.25f;
    rnnkit_tensor t[6] = {
        {"scalar", v, 0, {0}},
        {"vec", v + 1, 1, {5}},
        {"mat", v + 2, 2, {3, 4}},
        {"cube", v + 3, 3, {2, 3, 4}},
        {"hyper", v, 4, {2, 3, 4, 5}},
        {"zero \"odd\" name\\", v, 2, {0, 7}},
    };
    const char *keys[] = {"cell", "esc\"ape", "uni"};
    const char *vals[] = {"gru", "line\nbreak\ttab\x01", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"};
    char path[300];
    snprintf(path, sizeof path, "%s/m.safetensors", g_dir);
    cr_assert_eq(rk_safetensors_write(path, 6, t, 3, keys, vals), RNNKIT_STATUS_OK, "%s",
                 rnnkit_last_error());
    cr_expect_eq(count_dir_entries(g_dir), 1, "temporary file left behind");
    rk_st_file f;
    cr_assert_eq(rk_safetensors_read(path, &f), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_assert_eq(f.num_tensors, 6);
    cr_assert_eq(f.num_meta, 3);
    for (int k = 0; k < 3; k++) cr_expect_str_eq(rk_st_meta_get(&f, keys[k]), vals[k], "meta %d", k);
    for (int i = 0; i < 6; i++) {
        const rk_st_tensor *r = rk_st_find(&f, t[i].name);
        cr_assert_not_null(r, "tensor %s missing", t[i].name);
        cr_assert_eq(r->ndim, t[i].ndim, "%s ndim", t[i].name);
        size_t count = 1;
        for (int d = 0; d < t[i].ndim; d++) {
            cr_expect_eq(r->shape[d], t[i].shape[d], "%s dim %d", t[i].name, d);
            count *= (size_t)t[i].shape[d];
        }
        cr_assert_eq(r->count, count, "%s count", t[i].name);
        for (size_t j = 0; j < count; j++)
            cr_assert_eq(fbits(r->data[j]), fbits(t[i].data[j]), "%s[%zu]: %g vs %g", t[i].name, j,
                         (double)r->data[j], (double)t[i].data[j]);
    }
    rk_st_file_free(&f);
    /* The header is 8-byte aligned so the data buffer is too. */
    FILE *fp = fopen(path, "rb");
    unsigned char h[8];
    cr_assert_eq(fread(h, 1, 8, fp), 8u);
    fclose(fp);
    cr_expect_eq(h[0] % 8, 0, "header length %u not a multiple of 8", h[0]);
}

Test(safetensors, write_errors, .init = make_tmpdir, .fini = rm_tmpdir) {
    float v[2] = {1, 2};
    rnnkit_tensor t = {"a", v, 1, {2}};
    char path[300];
    snprintf(path, sizeof path, "%s/no/such/dir/m.safetensors", g_dir);
    cr_expect_eq(rk_safetensors_write(path, 1, &t, 0, NULL, NULL), RNNKIT_STATUS_IO_ERROR);
    cr_expect_gt(strlen(rnnkit_last_error()), 0);
    snprintf(path, sizeof path, "%s/m.safetensors", g_dir);
    t.ndim = 5;
    cr_expect_eq(rk_safetensors_write(path, 1, &t, 0, NULL, NULL), RNNKIT_STATUS_INVALID_ARGUMENT);
    t.ndim = 1;
    t.shape[0] = -1;
    cr_expect_eq(rk_safetensors_write(path, 1, &t, 0, NULL, NULL), RNNKIT_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(count_dir_entries(g_dir), 0, "failed writes left files behind");
    rk_st_file f;
    cr_expect_eq(rk_safetensors_read(path, &f), RNNKIT_STATUS_IO_ERROR);
    cr_expect(strstr(rnnkit_last_error(), "m.safetensors") != NULL, "%s", rnnkit_last_error());
}

/* ---------------- npy reading ---------------- */

Test(npy, hand_built_versions) {
    const float d[6] = {1, 2, 3, 4, 5, 6.5f};
    static const char *const hdrs[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n",
        "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}\n",
        "{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(2,3)}",
        "  {  'fortran_order' : False ,'descr':'=f4','shape':( 2 , 3 , ) , }  \n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n",
    };
    for (int major = 1; major <= 3; major++) {
        for (size_t k = 0; k < sizeof hdrs / sizeof hdrs[0]; k++) {
            size_t len;
            unsigned char *b = npy_build(major, hdrs[k], d, sizeof d, &len);
            rk_array a;
            rnnkit_status s = rk_npy_parse(b, len, "h.npy", &a);
            cr_assert_eq(s, RNNKIT_STATUS_OK, "v%d header %zu: %s", major, k, rnnkit_last_error());
            cr_expect_eq(a.dtype, RK_DTYPE_F32);
            cr_expect_eq(a.ndim, 2, "v%d header %zu", major, k);
            cr_expect_eq(a.shape[0], 2);
            cr_expect_eq(a.shape[1], 3);
            cr_expect_eq(a.count, 6u);
            cr_expect_eq((uintptr_t)a.data % 64, 0u, "data not 64-byte aligned");
            for (int i = 0; i < 6; i++) cr_expect_eq(((float *)a.data)[i], d[i], "v%d [%d]", major, i);
            rk_array_free(&a);
            free(b);
        }
    }
}

Test(npy, shapes_and_dtypes_hand_built) {
    /* 1-tuple, scalar, zero-size, int32, int64, float64, float16 */
    const int32_t i32[3] = {-1, 7, 2147483647};
    const int64_t i64[1] = {-5000000000LL};
    const double f64[2] = {0.1, -3.0};
    size_t len;
    rk_array a;

    unsigned char *b = npy_build(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }\n",
                                 i32, sizeof i32, &len);
    cr_assert_eq(rk_npy_parse(b, len, "a", &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_expect_eq(a.dtype, RK_DTYPE_I32);
    cr_expect_eq(a.ndim, 1);
    cr_expect_eq(a.shape[0], 3);
    cr_expect_eq(((int32_t *)a.data)[2], 2147483647);
    rk_array_free(&a);
    free(b);

    b = npy_build(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (), }\n", i64, 8, &len);
    cr_assert_eq(rk_npy_parse(b, len, "a", &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_expect_eq(a.dtype, RK_DTYPE_I64);
    cr_expect_eq(a.ndim, 0);
    cr_expect_eq(a.count, 1u);
    cr_expect_eq(((int64_t *)a.data)[0], -5000000000LL);
    rk_array_free(&a);
    free(b);

    b = npy_build(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }\n", f64,
                  sizeof f64, &len);
    cr_assert_eq(rk_npy_parse(b, len, "a", &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_expect_eq(a.dtype, RK_DTYPE_F64);
    cr_expect_eq(((double *)a.data)[0], 0.1);
    rk_array_free(&a);
    free(b);

    b = npy_build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }\n", NULL, 0, &len);
    cr_assert_eq(rk_npy_parse(b, len, "a", &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_expect_eq(a.count, 0u);
    cr_expect_eq(a.shape[1], 5);
    rk_array_free(&a);
    free(b);

    /* v3: UTF-8 allowed in the header (here in trailing padding spaces
     * only numpy's syntax matters), '|' byte order spelling. */
    b = npy_build(3, "{'descr': '|f4', 'fortran_order': False, 'shape': (1,)}\n", f64, 4, &len);
    cr_assert_eq(rk_npy_parse(b, len, "a", &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rk_array_free(&a);
    free(b);
}

Test(npy, malformed) {
    size_t len;
    unsigned char zeros[64] = {0};
    /* bad magic */
    unsigned char *b = npy_build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n",
                                 zeros, 8, &len);
    b[1] = 'n';
    expect_npy_fail(b, len, "bad magic", "NUMPY");
    b[1] = 'N';
    b[6] = 4;
    expect_npy_fail(b, len, "version 4.0", "version");
    b[6] = 1;
    b[7] = 1;
    expect_npy_fail(b, len, "version 1.1", "version");
    b[7] = 0;
    b[8] = 0xff;
    b[9] = 0x7f;
    expect_npy_fail(b, len, "header length past end", "header length");
    free(b);
    /* v2 4-byte length past end */
    b = npy_build(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", zeros, 8, &len);
    b[11] = 0x80;
    expect_npy_fail(b, len, "v2 header length past end", "header length");
    free(b);
    expect_npy_fail(zeros, 0, "empty", NULL);
    expect_npy_fail("\x93NUMPY\x01", 7, "7 bytes", NULL);

    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }\n", 8,
                        "fortran", "Fortran");
    expect_npy_hdr_fail("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n", 8,
                        "big endian", "big-endian");
    expect_npy_hdr_fail("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }\n", 16,
                        "complex", "<c8");
    expect_npy_hdr_fail("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }\n", 4,
                        "uint16", "<u2");
    expect_npy_hdr_fail("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n",
                        8, "structured", "structured");
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }\n", 40,
                        "shape mismatch", "(3, 4) = 12 float32 values (48 bytes) but 40");
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 12,
                        "trailing bytes", "12 data bytes");
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': False}\n", 4, "no shape", "shape");
    expect_npy_hdr_fail("{'descr': '<f4', 'shape': (1,)}\n", 4, "no fortran_order",
                        "fortran_order");
    expect_npy_hdr_fail("{'fortran_order': False, 'shape': (1,)}\n", 4, "no descr", "descr");
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}\n", 4,
                        "extra key", "'x'");
    expect_npy_hdr_fail("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n",
                        4, "duplicate key", "repeats");
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (1)}\n", 4,
                        "not a tuple", "tuple");
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}\n", 4,
                        "negative dim", NULL);
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}\n", 4,
                        "float dim", NULL);
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': False, 'shape': [1]}\n", 4,
                        "list shape", NULL);
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1)}\n",
                        4, "9 dims", "dimensions");
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, "
                        "4294967296, 4)}\n",
                        4, "overflow", "memory");
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': False, 'shape': "
                        "(99999999999999999999,)}\n",
                        4, "dim overflows int64", "overflow");
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}\n", 4,
                        "fortran_order 0", "fortran_order");
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,)}\n", 4,
                        "Falsey", NULL);
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x\n", 4,
                        "garbage after dict", NULL);
    expect_npy_hdr_fail("{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}\n", 4,
                        "missing comma", NULL);
    expect_npy_hdr_fail("{'descr: '<f4', 'fortran_order': False, 'shape': (1,)}\n", 4,
                        "bad quotes", NULL);
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", 4,
                        "unterminated dict", NULL);
    expect_npy_hdr_fail("", 4, "empty header", NULL);
    expect_npy_hdr_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (1,,)}\n", 4,
                        "double comma", NULL);
}

Test(npy, truncated_at_every_length, .init = make_tmpdir, .fini = rm_tmpdir) {
    char path[300];
    snprintf(path, sizeof path, "%s/a.npy", g_dir);
    const float d[6] = {1, 2, 3, 4, 5, 6};
    const int64_t shape[2] = {2, 3};
    cr_assert_eq(rk_npy_write(path, RK_DTYPE_F32, 2, shape, d), RNNKIT_STATUS_OK);
    FILE *f = fopen(path, "rb");
    unsigned char buf[512];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cr_assert_eq(len, 128u + 24u, "numpy-style 64-byte aligned header expected, file is %zu", len);
    for (size_t n = 0; n < len; n++) {
        unsigned char *c = malloc(n ? n : 1);
        memcpy(c, buf, n);
        char label[64];
        snprintf(label, sizeof label, "truncated to %zu of %zu", n, len);
        expect_npy_fail(c, n, label, NULL);
        free(c);
    }
}

/* ---------------- npy round trip ---------------- */

Test(npy, round_trip_all_dtypes_0d_to_4d, .init = make_tmpdir, .fini = rm_tmpdir) {
    const rk_dtype types[] = {RK_DTYPE_F32, RK_DTYPE_I32, RK_DTYPE_I64, RK_DTYPE_F64, RK_DTYPE_F16};
    const int64_t shapes[6][4] = {{0}, {7}, {3, 5}, {2, 3, 4}, {2, 1, 3, 2}, {4, 0}};
    const int ndims[6] = {0, 1, 2, 3, 4, 2};
    unsigned char src[8 * 120];
    for (size_t i = 0; i < sizeof src; i++) src[i] = (unsigned char)(i * 37 + 11);
    char path[300];
    snprintf(path, sizeof path, "%s/r.npy", g_dir);
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        for (int si = 0; si < 6; si++) {
            size_t count = 1;
            for (int d = 0; d < ndims[si]; d++) count *= (size_t)shapes[si][d];
            cr_assert_eq(rk_npy_write(path, types[ti], ndims[si], shapes[si], src), RNNKIT_STATUS_OK,
                         "write %s ndim %d: %s", rk_dtype_name(types[ti]), ndims[si],
                         rnnkit_last_error());
            rk_array a;
            cr_assert_eq(rk_npy_read(path, &a), RNNKIT_STATUS_OK, "read %s ndim %d: %s",
                         rk_dtype_name(types[ti]), ndims[si], rnnkit_last_error());
            cr_expect_eq(a.dtype, types[ti]);
            cr_assert_eq(a.ndim, ndims[si]);
            for (int d = 0; d < ndims[si]; d++) cr_expect_eq(a.shape[d], shapes[si][d]);
            cr_assert_eq(a.count, count);
            cr_expect(memcmp(a.data, src, count * rk_dtype_size(types[ti])) == 0,
                      "data differs for %s ndim %d", rk_dtype_name(types[ti]), ndims[si]);
            rk_array_free(&a);
            cr_expect_eq(count_dir_entries(g_dir), 1, "temporary file left behind");
        }
    }
    /* A written header parses as numpy writes it: v1.0, total % 64 == 0,
     * ends with '\n'. */
    FILE *f = fopen(path, "rb");
    unsigned char h[10];
    cr_assert_eq(fread(h, 1, 10, f), 10u);
    fclose(f);
    cr_expect_eq(h[6], 1);
    cr_expect_eq((10 + (h[8] | h[9] << 8)) % 64, 0);
}

Test(npy, write_errors, .init = make_tmpdir, .fini = rm_tmpdir) {
    float d[2] = {0};
    int64_t shape[1] = {2};
    char path[300];
    snprintf(path, sizeof path, "%s/missing/x.npy", g_dir);
    cr_expect_eq(rk_npy_write(path, RK_DTYPE_F32, 1, shape, d), RNNKIT_STATUS_IO_ERROR);
    cr_expect(strstr(rnnkit_last_error(), "x.npy") != NULL, "%s", rnnkit_last_error());
    snprintf(path, sizeof path, "%s/x.npy", g_dir);
    cr_expect_eq(rk_npy_write(path, RK_DTYPE_BF16, 1, shape, d), RNNKIT_STATUS_INVALID_ARGUMENT);
    shape[0] = -1;
    cr_expect_eq(rk_npy_write(path, RK_DTYPE_F32, 1, shape, d), RNNKIT_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(rk_npy_write(path, RK_DTYPE_F32, 9, shape, d), RNNKIT_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(count_dir_entries(g_dir), 0);
    /* A failed overwrite leaves the old file intact: make the directory
     * read-only so the temporary file cannot be created. */
    shape[0] = 2;
    cr_assert_eq(rk_npy_write(path, RK_DTYPE_F32, 1, shape, d), RNNKIT_STATUS_OK);
    if (geteuid() != 0) {
        chmod(g_dir, 0555);
        float d2[3] = {1, 2, 3};
        int64_t s3[1] = {3};
        cr_expect_eq(rk_npy_write(path, RK_DTYPE_F32, 1, s3, d2), RNNKIT_STATUS_IO_ERROR);
        chmod(g_dir, 0755);
        rk_array a;
        cr_assert_eq(rk_npy_read(path, &a), RNNKIT_STATUS_OK);
        cr_expect_eq(a.count, 2u);
        rk_array_free(&a);
    }
    rk_array a;
    snprintf(path, sizeof path, "%s/none.npy", g_dir);
    cr_expect_eq(rk_npy_read(path, &a), RNNKIT_STATUS_IO_ERROR);
    cr_expect(strstr(rnnkit_last_error(), "none.npy") != NULL, "%s", rnnkit_last_error());
    cr_expect_eq(rk_npy_read(g_dir, &a), RNNKIT_STATUS_IO_ERROR, "a directory is not a file");
}

/* ---------------- fuzz regressions ---------------- */

/* Replays every file under tests/fuzz/regressions/ (and the seed corpus)
 * through both parsers: only "no crash" is asserted, plus a message on
 * failure. */
static void replay_dir(const char *dir, int *n) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(p, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) {
            replay_dir(p, n);
            continue;
        }
        FILE *f = fopen(p, "rb");
        if (!f) continue;
        size_t len = (size_t)sb.st_size;
        unsigned char *buf = malloc(len ? len : 1);
        size_t got = fread(buf, 1, len, f);
        fclose(f);
        cr_assert_eq(got, len);
        rk_st_file st;
        if (rk_safetensors_parse(buf, len, p, &st) == RNNKIT_STATUS_OK)
            rk_st_file_free(&st);
        else
            cr_expect_gt(strlen(rnnkit_last_error()), 0, "%s: empty message", p);
        rk_array a;
        if (rk_npy_parse(buf, len, p, &a) == RNNKIT_STATUS_OK)
            rk_array_free(&a);
        else
            cr_expect_gt(strlen(rnnkit_last_error()), 0, "%s: empty message", p);
        free(buf);
        (*n)++;
    }
    closedir(d);
}

Test(fuzz, replay_regressions_and_corpus) {
    const char *data = getenv("RNNKIT_TEST_DATA");
    char dir[1024];
    int n = 0;
    snprintf(dir, sizeof dir, "%s/../fuzz", data && *data ? data : "tests/fixtures");
    replay_dir(dir, &n);
    cr_log_info("replayed %d fuzz inputs from %s", n, dir);
}

Test(safetensors, many_keys_duplicates_found) {
    /* Objects with more than 32 keys take the sorted duplicate check. */
    static char json[8192];
    for (int dup = 0; dup < 2; dup++) {
        size_t n = 0;
        n += (size_t)snprintf(json + n, sizeof json - n, "{\"__metadata__\":{");
        for (int i = 0; i < 100; i++) n += (size_t)snprintf(json + n, sizeof json - n, "%s\"k%d\":\"v%d\"", i ? "," : "", i, i);
        if (dup) n += (size_t)snprintf(json + n, sizeof json - n, ",\"k57\":\"again\"");
        snprintf(json + n, sizeof json - n, "}}");
        size_t len;
        unsigned char *b = st_build(json, NULL, 0, &len);
        if (dup) {
            expect_st_fail(b, len, "101 keys with a duplicate");
            cr_expect(strstr(rnnkit_last_error(), "duplicate key \"k57\"") != NULL, "%s",
                      rnnkit_last_error());
        } else {
            rk_st_file f;
            cr_assert_eq(rk_safetensors_parse(b, len, "many", &f), RNNKIT_STATUS_OK, "%s",
                         rnnkit_last_error());
            cr_expect_eq(f.num_meta, 100u);
            cr_expect_str_eq(rk_st_meta_get(&f, "k99"), "v99");
            rk_st_file_free(&f);
        }
        free(b);
    }
    
}

/* Allocation failures (only when the library is built with
 * RNNKIT_ALLOC_FAIL_INJECTION, which defines these counters): failing
 * the k-th allocation for every k must give OUT_OF_MEMORY with a message
 * and leak nothing (checked by ASan builds). */
extern long rnnkit_test_fail_alloc_at __attribute__((weak));
extern long rnnkit_test_alloc_count __attribute__((weak));

Test(formats, allocation_failures) {
    if (&rnnkit_test_fail_alloc_at == NULL || &rnnkit_test_alloc_count == NULL) {
        cr_skip_test("library built without RNNKIT_ALLOC_FAIL_INJECTION");
    }
    const char *json = "{\"__metadata__\":{\"a\":\"b\",\"c\":\"d\"},"
                       "\"x\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                       "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
    unsigned char d[8] = {0, 0x3c, 0, 0x40, 0, 0, 0x80, 0x3f};
    size_t len;
    unsigned char *b = st_build(json, d, 8, &len);
    int saw_ok = 0;
    for (long k = 1; k < 200 && !saw_ok; k++) {
        rnnkit_test_alloc_count = 0;
        rnnkit_test_fail_alloc_at = k;
        rk_st_file f;
        rnnkit_status s = rk_safetensors_parse(b, len, "oom", &f);
        rnnkit_test_fail_alloc_at = 0;
        if (s == RNNKIT_STATUS_OK) {
            saw_ok = 1;
            cr_expect_eq(f.tensors[1].data[0], 1.0f);
            rk_st_file_free(&f);
        } else {
            cr_expect_eq(s, RNNKIT_STATUS_OUT_OF_MEMORY, "k=%ld: %s", k, rnnkit_last_error());
            cr_expect(st_is_zero(&f), "k=%ld: output not cleared", k);
        }
    }
    cr_expect(saw_ok, "parse never succeeded within 200 allocations");
    free(b);
    const float v[3] = {1, 2, 3};
    b = npy_build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", v, 12, &len);
    rnnkit_test_alloc_count = 0;
    rnnkit_test_fail_alloc_at = 1;
    rk_array a;
    cr_expect_eq(rk_npy_parse(b, len, "oom", &a), RNNKIT_STATUS_OUT_OF_MEMORY);
    rnnkit_test_fail_alloc_at = 0;
    cr_expect_null(a.data);
    free(b);
}
