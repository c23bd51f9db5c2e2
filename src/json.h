/*
 * A small strict JSON parser (RFC 8259) for the safetensors header, plus
 * file helpers shared by the format readers and writers (not public).
 *
 * Strict means: one value and nothing after it but whitespace; strings
 * are valid UTF-8 without raw control characters, escapes include
 * \uXXXX with paired surrogates; numbers follow the JSON grammar; objects
 * with duplicate keys are refused; nesting is limited to RK_JSON_MAX_DEPTH.
 */
#ifndef RNNKIT_JSON_H
#define RNNKIT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "rnnkit.h"

#define RK_JSON_MAX_DEPTH 64

typedef enum rk_json_kind {
    RK_JSON_NULL = 0,
    RK_JSON_FALSE,
    RK_JSON_TRUE,
    RK_JSON_NUMBER,
    RK_JSON_STRING,
    RK_JSON_ARRAY,
    RK_JSON_OBJECT
} rk_json_kind;

typedef struct rk_json rk_json;

struct rk_json {
    rk_json_kind kind;
    /* NUMBER: is_int says the literal was an integer (no fraction or
     * exponent) that fits int64; then i holds it. d always holds the
     * value as a double. */
    int is_int;
    int64_t i;
    double d;
    /* STRING: NUL-terminated UTF-8; len excludes the terminator (the
     * string may contain "\u0000", so len can exceed strlen). */
    char *str;
    size_t len;
    /* ARRAY / OBJECT: count children; OBJECT also keys[] / key_lens[]
     * in file order. */
    size_t count;
    rk_json *items;
    char **keys;
    size_t *key_lens;
};

/* Parses text[0..len) (need not be NUL-terminated). `what` prefixes
 * messages ("model.safetensors: header"). On success *out is an owned
 * tree (rk_json_free it); on failure nothing is allocated and the message
 * gives the byte offset. */
rnnkit_status rk_json_parse(const char *text, size_t len, const char *what, rk_json **out);
void rk_json_free(rk_json *v);
/* Member of an object by key (NULL if absent or not an object). */
const rk_json *rk_json_get(const rk_json *obj, const char *key);
const char *rk_json_kind_name(rk_json_kind k);

/* Appends s as a quoted, escaped JSON string to a growing buffer. */
typedef struct rk_buf {
    char *data;
    size_t len, cap;
    int failed; /* an allocation failed; data is unusable */
} rk_buf;
void rk_buf_append(rk_buf *b, const void *s, size_t n);
void rk_buf_puts(rk_buf *b, const char *s);
void rk_buf_printf(rk_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void rk_buf_json_string(rk_buf *b, const char *s);
void rk_buf_free(rk_buf *b);

/* Writes parts[0..n) to path atomically: a temporary file beside path,
 * then rename; the temporary file is removed on any failure. */
rnnkit_status rk_write_file_atomic(const char *path, size_t n, const void *const *parts,
                                   const size_t *lens);

#endif
