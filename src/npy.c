/* .npy reader and writer, plus the file helpers the formats share
 * (whole-file read, atomic write). The header is a Python dict literal
 * that we parse with a small tokenizer rather than by pattern matching, so
 * any key order, spacing, trailing comma, 1-tuples and 0-d shapes work.
 * Data is assumed little-endian like the host (x86-64, AArch64). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats.h"
#include "json.h"
#include "status.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "rnnkit's file readers assume a little-endian host"
#endif

size_t rk_dtype_size(rk_dtype t) {
    switch (t) {
    case RK_DTYPE_F32: return 4;
    case RK_DTYPE_I32: return 4;
    case RK_DTYPE_I64: return 8;
    case RK_DTYPE_F16: return 2;
    case RK_DTYPE_BF16: return 2;
    case RK_DTYPE_F64: return 8;
    }
    return 0;
}

const char *rk_dtype_name(rk_dtype t) {
    switch (t) {
    case RK_DTYPE_F32: return "float32";
    case RK_DTYPE_I32: return "int32";
    case RK_DTYPE_I64: return "int64";
    case RK_DTYPE_F16: return "float16";
    case RK_DTYPE_BF16: return "bfloat16";
    case RK_DTYPE_F64: return "float64";
    }
    return "unknown";
}

void rk_array_free(rk_array *a) {
    if (!a) return;
    rk_free(a->data);
    memset(a, 0, sizeof *a);
}

/* ---- files ---- */

rnnkit_status rk_read_file(const char *path, void **data, size_t *len) {
    *data = NULL;
    *len = 0;
    if (!path) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "file path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f) return rk_error(RNNKIT_STATUS_IO_ERROR, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return rk_error(RNNKIT_STATUS_IO_ERROR, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > (uint64_t)SIZE_MAX - 1) {
        fclose(f);
        return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "%s: file too large", path);
    }
    size_t n = (size_t)sb.st_size;
    char *buf = rk_alloc(n + 1);
    if (!buf) {
        fclose(f);
        return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes to read it",
                        path, n);
    }
    size_t got = n ? fread(buf, 1, n, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (got != n || err) {
        rk_free(buf);
        return rk_error(RNNKIT_STATUS_IO_ERROR, "%s: read %zu of %zu bytes", path, got, n);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return RNNKIT_STATUS_OK;
}

static int write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return 0;
        }
        c += w;
        n -= (size_t)w;
    }
    return 1;
}

rnnkit_status rk_write_file_atomic(const char *path, size_t n, const void *const *parts,
                                   const size_t *lens) {
    if (!path || !*path) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "file path is empty");
    size_t pl = strlen(path);
    char *tmp = rk_alloc(pl + 16);
    if (!tmp) return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rnnkit_status s = rk_error(RNNKIT_STATUS_IO_ERROR, "%s: cannot create a temporary file: %s",
                                   path, strerror(errno));
        rk_free(tmp);
        return s;
    }
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) ok = write_all(fd, parts[i], lens[i]);
    int saved = errno;
    /* mkstemp creates 0600; give the file ordinary permissions. */
    if (ok) ok = fchmod(fd, 0644) == 0 || (saved = errno, 0);
    if (close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        rk_free(tmp);
        return rk_error(RNNKIT_STATUS_IO_ERROR, "%s: write failed: %s", path, strerror(saved));
    }
    rk_free(tmp);
    return RNNKIT_STATUS_OK;
}

/* ---- .npy header dict ---- */

typedef struct hp {
    const char *s;
    size_t len, pos;
    const char *what;
} hp;

static void hp_ws(hp *h) {
    while (h->pos < h->len && (h->s[h->pos] == ' ' || h->s[h->pos] == '\t' ||
                               h->s[h->pos] == '\n' || h->s[h->pos] == '\r'))
        h->pos++;
}

static int hp_peek(hp *h) { return h->pos < h->len ? (unsigned char)h->s[h->pos] : -1; }

static rnnkit_status hp_fail(hp *h, const char *expected) {
    int c = hp_peek(h);
    if (c < 0)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: header dict ends early (at byte %zu), expected %s", h->what, h->pos,
                        expected);
    if (c >= 0x20 && c < 0x7f)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: header dict: expected %s at byte %zu, found '%c'", h->what, expected,
                        h->pos, c);
    return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                    "%s: header dict: expected %s at byte %zu, found byte 0x%02x", h->what,
                    expected, h->pos, c);
}

/* A Python string literal in single or double quotes, no escapes needed
 * by numpy headers (a backslash is refused). Returns it in out (cap
 * bytes, truncation refused). */
static rnnkit_status hp_string(hp *h, char *out, size_t cap) {
    int q = hp_peek(h);
    if (q != '\'' && q != '"') return hp_fail(h, "a quoted string");
    size_t start = ++h->pos, n = 0;
    while (h->pos < h->len && h->s[h->pos] != (char)q) {
        char c = h->s[h->pos];
        if (c == '\\' || c == '\n')
            return hp_fail(h, "a simple string (no escapes or newlines)");
        h->pos++;
    }
    if (h->pos >= h->len) {
        h->pos = start;
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: header dict: unterminated string starting at byte %zu", h->what,
                        start - 1);
    }
    n = h->pos - start;
    h->pos++;
    if (n >= cap)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: header dict: string of %zu bytes at byte %zu is too long", h->what,
                        n, start);
    memcpy(out, h->s + start, n);
    out[n] = '\0';
    return RNNKIT_STATUS_OK;
}

static int hp_word(hp *h, const char *w) {
    size_t n = strlen(w);
    if (h->len - h->pos < n || memcmp(h->s + h->pos, w, n) != 0) return 0;
    size_t e = h->pos + n;
    if (e < h->len) {
        char c = h->s[e];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            return 0;
    }
    h->pos = e;
    return 1;
}

static rnnkit_status hp_shape(hp *h, int *ndim, int64_t *shape) {
    if (hp_peek(h) != '(') return hp_fail(h, "'(' starting the shape tuple");
    h->pos++;
    int n = 0;
    int need_comma_for_one = 1;
    for (;;) {
        hp_ws(h);
        if (hp_peek(h) == ')') {
            h->pos++;
            break;
        }
        int c = hp_peek(h);
        if (c < '0' || c > '9') return hp_fail(h, "a non-negative integer dimension or ')'");
        size_t start = h->pos;
        int64_t v = 0;
        while ((c = hp_peek(h)) >= '0' && c <= '9') {
            if (v > (INT64_MAX - (c - '0')) / 10)
                return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                                "%s: header dict: shape dimension at byte %zu overflows int64",
                                h->what, start);
            v = v * 10 + (c - '0');
            h->pos++;
        }
        if (hp_peek(h) == 'L' || hp_peek(h) == 'l') h->pos++; /* Python 2 long */
        if (n >= RK_MAX_DIMS)
            return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                            "%s: shape has more than %d dimensions", h->what, RK_MAX_DIMS);
        shape[n++] = v;
        hp_ws(h);
        if (hp_peek(h) == ',') {
            h->pos++;
            if (n == 1) need_comma_for_one = 0;
            continue;
        }
        if (hp_peek(h) == ')') {
            h->pos++;
            break;
        }
        return hp_fail(h, "',' or ')' in the shape tuple");
    }
    if (n == 1 && need_comma_for_one)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: header dict: shape (%lld) is not a tuple (a 1-tuple is written "
                        "(%lld,))",
                        h->what, (long long)shape[0], (long long)shape[0]);
    *ndim = n;
    return RNNKIT_STATUS_OK;
}

static rnnkit_status parse_descr(const char *what, const char *d, rk_dtype *out) {
    static const struct {
        char code;
        int size;
        rk_dtype t;
    } known[] = {{'f', 4, RK_DTYPE_F32}, {'i', 4, RK_DTYPE_I32}, {'i', 8, RK_DTYPE_I64},
                 {'f', 8, RK_DTYPE_F64}, {'f', 2, RK_DTYPE_F16}};
    size_t n = strlen(d);
    if (n == 3 && (d[0] == '<' || d[0] == '|' || d[0] == '=') && d[2] >= '1' && d[2] <= '9') {
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (known[i].code == d[1] && known[i].size == d[2] - '0') {
                *out = known[i].t;
                return RNNKIT_STATUS_OK;
            }
    }
    if (n >= 2 && d[0] == '>')
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: dtype '%s' is big-endian; only little-endian arrays are supported "
                        "(convert with arr.astype('<%s'))",
                        what, d, d + 1);
    return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                    "%s: dtype '%s' is not supported (supported: '<f4', '<f8', '<f2', '<i4', "
                    "'<i8')",
                    what, d);
}

static rnnkit_status parse_header_dict(hp *h, rk_dtype *dtype, int *ndim, int64_t *shape) {
    int have_descr = 0, have_fortran = 0, have_shape = 0;
    rnnkit_status s;
    hp_ws(h);
    if (hp_peek(h) != '{') return hp_fail(h, "'{' starting the header dict");
    h->pos++;
    for (;;) {
        hp_ws(h);
        if (hp_peek(h) == '}') {
            h->pos++;
            break;
        }
        char key[32];
        size_t key_pos = h->pos;
        if ((s = hp_string(h, key, sizeof key)) != RNNKIT_STATUS_OK) return s;
        hp_ws(h);
        if (hp_peek(h) != ':') return hp_fail(h, "':' after a key");
        h->pos++;
        hp_ws(h);
        int *seen;
        if (strcmp(key, "descr") == 0) {
            seen = &have_descr;
            if (hp_peek(h) == '[')
                return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                                "%s: structured dtypes (descr is a list) are not supported",
                                h->what);
            char d[32];
            if ((s = hp_string(h, d, sizeof d)) != RNNKIT_STATUS_OK) return s;
            if ((s = parse_descr(h->what, d, dtype)) != RNNKIT_STATUS_OK) return s;
        } else if (strcmp(key, "fortran_order") == 0) {
            seen = &have_fortran;
            if (hp_word(h, "True"))
                return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                                "%s: array is in Fortran order; only C order is supported (save "
                                "np.ascontiguousarray(a))",
                                h->what);
            if (!hp_word(h, "False")) return hp_fail(h, "True or False for fortran_order");
        } else if (strcmp(key, "shape") == 0) {
            seen = &have_shape;
            if ((s = hp_shape(h, ndim, shape)) != RNNKIT_STATUS_OK) return s;
        } else {
            return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                            "%s: header dict has unexpected key '%s' at byte %zu (expected "
                            "descr, fortran_order, shape)",
                            h->what, key, key_pos);
        }
        if (*seen)
            return rk_error(RNNKIT_STATUS_FORMAT_ERROR, "%s: header dict repeats key '%s'",
                            h->what, key);
        *seen = 1;
        hp_ws(h);
        if (hp_peek(h) == ',') {
            h->pos++;
            continue;
        }
        if (hp_peek(h) == '}') {
            h->pos++;
            break;
        }
        return hp_fail(h, "',' or '}' in the header dict");
    }
    hp_ws(h);
    if (h->pos != h->len) return hp_fail(h, "only spaces and a newline after the header dict");
    if (!have_descr || !have_fortran || !have_shape)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR, "%s: header dict lacks the key '%s'", h->what,
                        !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
    return RNNKIT_STATUS_OK;
}

static void fmt_shape(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, cap - o, "(");
    for (int i = 0; i < ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (o < cap && ndim == 1) o += (size_t)snprintf(buf + o, cap - o, ",");
    if (o < cap) snprintf(buf + o, cap - o, ")");
}

rnnkit_status rk_npy_parse(const void *buf, size_t len, const char *what, rk_array *out) {
    const unsigned char *b = buf;
    if (!what) what = "npy";
    if (!out) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: output is NULL", what);
    memset(out, 0, sizeof *out);
    if (!buf && len) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: buffer is NULL", what);
    if (len < 10)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: %zu bytes is too short for a .npy file (at least 10 header bytes)",
                        what, len);
    if (memcmp(b, "\x93NUMPY", 6) != 0)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: not a .npy file (the first 6 bytes are not \\x93NUMPY)", what);
    unsigned major = b[6], minor = b[7];
    if (minor != 0 || major < 1 || major > 3)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: .npy version %u.%u is not supported (1.0, 2.0, 3.0 are)", what, major,
                        minor);
    size_t pre = major == 1 ? 10 : 12, hlen;
    if (len < pre)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: %zu bytes is too short for a version %u.0 .npy header", what, len,
                        major);
    if (major == 1)
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
    else
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    if (hlen > len - pre)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: header length %zu runs past the end of the %zu-byte file", what, hlen,
                        len);
    const char *hs = (const char *)b + pre;
    /* v1/v2 headers are latin-1 but numpy only writes ASCII; v3 is UTF-8.
     * The dict's syntax is ASCII either way, so non-ASCII bytes can only
     * appear inside strings, where they make the dtype unknown anyway. */
    for (size_t i = 0; i < hlen; i++) {
        if (hs[i] == '\0')
            return rk_error(RNNKIT_STATUS_FORMAT_ERROR, "%s: NUL byte in the header at byte %zu",
                            what, pre + i);
    }
    hp h = {hs, hlen, 0, what};
    rk_dtype dtype = RK_DTYPE_F32;
    int ndim = 0;
    int64_t shape[RK_MAX_DIMS] = {0};
    rnnkit_status s = parse_header_dict(&h, &dtype, &ndim, shape);
    if (s != RNNKIT_STATUS_OK) return s;
    size_t count = 1, bytes;
    char sh[200];
    fmt_shape(sh, sizeof sh, ndim, shape);
    for (int i = 0; i < ndim; i++) {
        if ((uint64_t)shape[i] > SIZE_MAX || rk_mul_overflow(count, (size_t)shape[i], &count))
            return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                            "%s: shape %s has more elements than fit in memory", what, sh);
    }
    size_t esz = rk_dtype_size(dtype);
    size_t data_len = len - pre - hlen;
    if (rk_mul_overflow(count, esz, &bytes))
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: shape %s of %s is too many bytes to fit in memory", what, sh,
                        rk_dtype_name(dtype));
    if (bytes != data_len)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: header says shape %s = %zu %s values (%zu bytes) but %zu data bytes "
                        "follow",
                        what, sh, count, rk_dtype_name(dtype), bytes, data_len);
    void *data = rk_alloc(bytes);
    if (!data)
        return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", what, bytes);
    if (bytes) memcpy(data, b + pre + hlen, bytes);
    out->dtype = dtype;
    out->ndim = ndim;
    memcpy(out->shape, shape, sizeof shape);
    out->count = count;
    out->data = data;
    return RNNKIT_STATUS_OK;
}

rnnkit_status rk_npy_read(const char *path, rk_array *out) {
    void *buf;
    size_t len;
    if (out) memset(out, 0, sizeof *out);
    rnnkit_status s = rk_read_file(path, &buf, &len);
    if (s != RNNKIT_STATUS_OK) return s;
    s = rk_npy_parse(buf, len, path, out);
    rk_free(buf);
    return s;
}

rnnkit_status rk_npy_write(const char *path, rk_dtype dtype, int ndim, const int64_t *shape,
                           const void *data) {
    const char *descr;
    switch (dtype) {
    case RK_DTYPE_F32: descr = "<f4"; break;
    case RK_DTYPE_I32: descr = "<i4"; break;
    case RK_DTYPE_I64: descr = "<i8"; break;
    case RK_DTYPE_F64: descr = "<f8"; break;
    case RK_DTYPE_F16: descr = "<f2"; break;
    default:
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "%s: dtype %s cannot be stored in a .npy file", path ? path : "(null)",
                        rk_dtype_name(dtype));
    }
    if (!path) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "npy write: path is NULL");
    if (ndim < 0 || ndim > RK_MAX_DIMS || (ndim > 0 && !shape))
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: ndim %d is outside 0..%d", path, ndim,
                        RK_MAX_DIMS);
    size_t count = 1, bytes;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: shape[%d] = %lld is negative",
                            path, i, (long long)shape[i]);
        if ((uint64_t)shape[i] > SIZE_MAX || rk_mul_overflow(count, (size_t)shape[i], &count))
            return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: shape overflows size_t", path);
    }
    if (rk_mul_overflow(count, rk_dtype_size(dtype), &bytes))
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: array too large", path);
    if (bytes && !data) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: data is NULL", path);

    char sh[300];
    fmt_shape(sh, sizeof sh, ndim, shape);
    char dict[400];
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      descr, sh);
    if (dl < 0 || (size_t)dl >= sizeof dict)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: header too long", path);
    /* Pad with spaces and end with '\n' so the data starts at a multiple
     * of 64 bytes, as numpy does. Always fits version 1.0 here. */
    size_t pre = 10, hlen = (size_t)dl + 1;
    size_t total = (pre + hlen + 63) / 64 * 64;
    hlen = total - pre;
    unsigned char head[512];
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    head[8] = (unsigned char)(hlen & 0xff);
    head[9] = (unsigned char)(hlen >> 8);
    memcpy(head + pre, dict, (size_t)dl);
    memset(head + pre + dl, ' ', hlen - (size_t)dl - 1);
    head[total - 1] = '\n';
    const void *parts[2] = {head, data ? data : ""};
    size_t lens[2] = {total, bytes};
    return rk_write_file_atomic(path, 2, parts, lens);
}
