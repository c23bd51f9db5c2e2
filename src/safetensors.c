/* .safetensors reader and writer. Layout: u64 little-endian header size
 * n, n bytes of JSON {"name": {"dtype", "shape", "data_offsets"}, ...,
 * "__metadata__": {string: string}}, then the data buffer; offsets are
 * relative to the data buffer. Every tensor is validated (dtype, shape,
 * offsets inside the buffer, size matching the shape, no overlaps) before
 * anything is converted. F16/BF16 are widened to float32 exactly (bit
 * manipulation, subnormals/inf/nan included). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "json.h"
#include "status.h"

#define RK_ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000)

typedef enum st_dtype { ST_F32, ST_F16, ST_BF16 } st_dtype;

/* Exact IEEE half -> single. */
static float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F;
    uint32_t mant = h & 0x3FF;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {
            /* Subnormal: mant * 2^-24; normalise into a float. */
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while ((mant & 0x400) == 0);
            mant &= 0x3FF;
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | (mant << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (mant << 13);
    } else {
        bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static float bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void rk_st_file_free(rk_st_file *f) {
    if (!f) return;
    for (size_t i = 0; i < f->num_tensors; i++) {
        if (!f->tensors) break;
        rk_free(f->tensors[i].name);
        rk_free(f->tensors[i].data);
    }
    rk_free(f->tensors);
    for (size_t i = 0; i < f->num_meta; i++) {
        if (f->meta_keys) rk_free(f->meta_keys[i]);
        if (f->meta_values) rk_free(f->meta_values[i]);
    }
    rk_free(f->meta_keys);
    rk_free(f->meta_values);
    memset(f, 0, sizeof *f);
}

const char *rk_st_meta_get(const rk_st_file *f, const char *key) {
    if (!f || !key) return NULL;
    for (size_t i = 0; i < f->num_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_values[i];
    return NULL;
}

const rk_st_tensor *rk_st_find(const rk_st_file *f, const char *name) {
    if (!f || !name) return NULL;
    for (size_t i = 0; i < f->num_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

static char *dup_str(const char *s, size_t n) {
    char *d = rk_alloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Validated view of one tensor entry, before conversion. */
typedef struct st_entry {
    const char *name;
    st_dtype dtype;
    int ndim;
    int64_t shape[RK_MAX_DIMS];
    size_t count;
    uint64_t begin, end;
} st_entry;

static int cmp_begin(const void *a, const void *b) {
    const st_entry *x = *(const st_entry *const *)a, *y = *(const st_entry *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static rnnkit_status check_entry(const char *what, const char *name, const rk_json *v,
                                 size_t data_len, st_entry *e) {
    if (v->kind != RK_JSON_OBJECT)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: tensor '%s': entry is %s, expected an object with dtype, shape, "
                        "data_offsets",
                        what, name, rk_json_kind_name(v->kind));
    for (size_t i = 0; i < v->count; i++) {
        const char *k = v->keys[i];
        if (strcmp(k, "dtype") != 0 && strcmp(k, "shape") != 0 && strcmp(k, "data_offsets") != 0)
            return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                            "%s: tensor '%s': unexpected key \"%.64s\" (expected dtype, shape, "
                            "data_offsets)",
                            what, name, k);
    }
    const rk_json *dt = rk_json_get(v, "dtype");
    const rk_json *sh = rk_json_get(v, "shape");
    const rk_json *off = rk_json_get(v, "data_offsets");
    if (!dt || !sh || !off)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR, "%s: tensor '%s': missing \"%s\"", what, name,
                        !dt ? "dtype" : !sh ? "shape" : "data_offsets");
    if (dt->kind != RK_JSON_STRING)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR, "%s: tensor '%s': dtype is %s, not a string",
                        what, name, rk_json_kind_name(dt->kind));
    size_t esz;
    if (strcmp(dt->str, "F32") == 0) {
        e->dtype = ST_F32;
        esz = 4;
    } else if (strcmp(dt->str, "F16") == 0) {
        e->dtype = ST_F16;
        esz = 2;
    } else if (strcmp(dt->str, "BF16") == 0) {
        e->dtype = ST_BF16;
        esz = 2;
    } else {
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: tensor '%s' has dtype \"%.32s\"; only F32, F16 and BF16 are "
                        "supported",
                        what, name, dt->str);
    }
    if (sh->kind != RK_JSON_ARRAY)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR, "%s: tensor '%s': shape is %s, not an array",
                        what, name, rk_json_kind_name(sh->kind));
    if (sh->count > RK_MAX_DIMS)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: tensor '%s': shape has %zu dimensions, at most %d are supported",
                        what, name, sh->count, RK_MAX_DIMS);
    e->ndim = (int)sh->count;
    e->count = 1;
    int overflow = 0;
    for (size_t i = 0; i < sh->count; i++) {
        const rk_json *d = &sh->items[i];
        if (d->kind != RK_JSON_NUMBER || !d->is_int || d->i < 0)
            return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                            "%s: tensor '%s': shape[%zu] is not a non-negative integer", what,
                            name, i);
        e->shape[i] = d->i;
        if ((uint64_t)d->i > SIZE_MAX || rk_mul_overflow(e->count, (size_t)d->i, &e->count))
            overflow = 1;
    }
    size_t bytes = 0;
    if (overflow || rk_mul_overflow(e->count, esz, &bytes))
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: tensor '%s': the product of its shape overflows", what, name);
    if (off->kind != RK_JSON_ARRAY || off->count != 2)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: tensor '%s': data_offsets must be an array [begin, end]", what, name);
    for (int i = 0; i < 2; i++) {
        const rk_json *d = &off->items[i];
        if (d->kind != RK_JSON_NUMBER || !d->is_int || d->i < 0)
            return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                            "%s: tensor '%s': data_offsets[%d] is not a non-negative integer",
                            what, name, i);
    }
    e->begin = (uint64_t)off->items[0].i;
    e->end = (uint64_t)off->items[1].i;
    if (e->begin > e->end || e->end > data_len)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: tensor '%s': data_offsets [%llu, %llu] are not inside the %zu-byte "
                        "data buffer",
                        what, name, (unsigned long long)e->begin, (unsigned long long)e->end,
                        data_len);
    if (e->end - e->begin != bytes)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: tensor '%s': shape holds %zu %s values (%zu bytes) but data_offsets "
                        "[%llu, %llu] span %llu bytes",
                        what, name, e->count, dt->str, bytes, (unsigned long long)e->begin,
                        (unsigned long long)e->end, (unsigned long long)(e->end - e->begin));
    e->name = name;
    return RNNKIT_STATUS_OK;
}

static rnnkit_status check_name(const char *what, const char *kind, const char *s, size_t len) {
    if (len == 0)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR, "%s: empty %s", what, kind);
    if (strlen(s) != len)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR, "%s: %s \"%s...\" contains a NUL character",
                        what, kind, s);
    return RNNKIT_STATUS_OK;
}

static rnnkit_status fill_meta(const char *what, const rk_json *m, rk_st_file *out) {
    if (m->kind != RK_JSON_OBJECT)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: __metadata__ is %s, expected an object of strings", what,
                        rk_json_kind_name(m->kind));
    if (m->count == 0) return RNNKIT_STATUS_OK;
    for (size_t i = 0; i < m->count; i++) {
        if (m->items[i].kind != RK_JSON_STRING)
            return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                            "%s: __metadata__ value of \"%.64s\" is %s, expected a string", what,
                            m->keys[i], rk_json_kind_name(m->items[i].kind));
        rnnkit_status s = check_name(what, "__metadata__ key", m->keys[i], m->key_lens[i]);
        if (s != RNNKIT_STATUS_OK) return s;
        if (strlen(m->items[i].str) != m->items[i].len)
            return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                            "%s: __metadata__ value of \"%.64s\" contains a NUL character", what,
                            m->keys[i]);
    }
    out->meta_keys = rk_calloc(m->count, sizeof(char *));
    out->meta_values = rk_calloc(m->count, sizeof(char *));
    if (!out->meta_keys || !out->meta_values)
        return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "%s: out of memory", what);
    for (size_t i = 0; i < m->count; i++) {
        out->num_meta = i + 1;
        out->meta_keys[i] = dup_str(m->keys[i], m->key_lens[i]);
        out->meta_values[i] = dup_str(m->items[i].str, m->items[i].len);
        if (!out->meta_keys[i] || !out->meta_values[i])
            return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "%s: out of memory", what);
    }
    return RNNKIT_STATUS_OK;
}

static void convert(const st_entry *e, const unsigned char *src, float *dst) {
    if (e->dtype == ST_F32) {
        if (e->count) memcpy(dst, src, e->count * 4);
    } else {
        for (size_t i = 0; i < e->count; i++) {
            uint16_t h = (uint16_t)(src[2 * i] | (src[2 * i + 1] << 8));
            dst[i] = e->dtype == ST_F16 ? f16_to_f32(h) : bf16_to_f32(h);
        }
    }
}

rnnkit_status rk_safetensors_parse(const void *buf, size_t len, const char *what,
                                   rk_st_file *out) {
    const unsigned char *b = buf;
    if (!what) what = "safetensors";
    if (!out) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: output is NULL", what);
    memset(out, 0, sizeof *out);
    if (!buf && len) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: buffer is NULL", what);
    if (len < 8)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: %zu bytes is too short for a .safetensors file (8-byte header size "
                        "first)",
                        what, len);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | b[i];
    if (n > RK_ST_MAX_HEADER)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: header size %llu is larger than the %llu-byte limit (not a "
                        ".safetensors file?)",
                        what, (unsigned long long)n, (unsigned long long)RK_ST_MAX_HEADER);
    if (n > len - 8)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: header size %llu runs past the end of the %zu-byte file", what,
                        (unsigned long long)n, len);
    if (n < 2)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: header size %llu is too small for a JSON object", what,
                        (unsigned long long)n);
    char hwhat[300];
    snprintf(hwhat, sizeof hwhat, "%s: header", what);
    rk_json *root = NULL;
    rnnkit_status s = rk_json_parse((const char *)b + 8, (size_t)n, hwhat, &root);
    if (s != RNNKIT_STATUS_OK) return s;

    const unsigned char *data = b + 8 + n;
    size_t data_len = len - 8 - (size_t)n;
    st_entry *ents = NULL;
    st_entry **order = NULL;
    size_t ne = 0;
    if (root->kind != RK_JSON_OBJECT) {
        s = rk_error(RNNKIT_STATUS_FORMAT_ERROR, "%s: header is %s, expected a JSON object", what,
                     rk_json_kind_name(root->kind));
        goto done;
    }
    ents = rk_calloc(root->count ? root->count : 1, sizeof *ents);
    order = rk_calloc(root->count ? root->count : 1, sizeof *order);
    if (!ents || !order) {
        s = rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "%s: out of memory", what);
        goto done;
    }
    for (size_t i = 0; i < root->count; i++) {
        const char *key = root->keys[i];
        if (strcmp(key, "__metadata__") == 0 && root->key_lens[i] == 12) {
            s = fill_meta(what, &root->items[i], out);
        } else {
            s = check_name(what, "tensor name", key, root->key_lens[i]);
            if (s == RNNKIT_STATUS_OK) {
                s = check_entry(what, key, &root->items[i], data_len, &ents[ne]);
                order[ne] = &ents[ne];
                ne++;
            }
        }
        if (s != RNNKIT_STATUS_OK) goto done;
    }
    /* Overlaps: sorted by begin, each non-empty tensor must start at or
     * after the previous non-empty one's end. */
    qsort(order, ne, sizeof *order, cmp_begin);
    const st_entry *prev = NULL;
    for (size_t i = 0; i < ne; i++) {
        if (order[i]->begin == order[i]->end) continue;
        if (prev && order[i]->begin < prev->end) {
            s = rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                         "%s: tensors '%s' [%llu, %llu] and '%s' [%llu, %llu] overlap", what,
                         prev->name, (unsigned long long)prev->begin,
                         (unsigned long long)prev->end, order[i]->name,
                         (unsigned long long)order[i]->begin, (unsigned long long)order[i]->end);
            goto done;
        }
        prev = order[i];
    }
    out->tensors = rk_calloc(ne ? ne : 1, sizeof *out->tensors);
    if (!out->tensors) {
        s = rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "%s: out of memory", what);
        goto done;
    }
    for (size_t i = 0; i < ne; i++) {
        const st_entry *e = &ents[i];
        rk_st_tensor *t = &out->tensors[i];
        out->num_tensors = i + 1;
        t->name = dup_str(e->name, strlen(e->name));
        t->data = rk_alloc(e->count * sizeof(float));
        if (!t->name || !t->data) {
            s = rk_error(RNNKIT_STATUS_OUT_OF_MEMORY,
                         "%s: cannot allocate %zu floats for tensor '%s'", what, e->count,
                         e->name);
            goto done;
        }
        t->ndim = e->ndim;
        memcpy(t->shape, e->shape, sizeof t->shape);
        t->count = e->count;
        convert(e, data + e->begin, t->data);
    }
    s = RNNKIT_STATUS_OK;
done:
    rk_free(ents);
    rk_free(order);
    rk_json_free(root);
    if (s != RNNKIT_STATUS_OK) rk_st_file_free(out);
    return s;
}

rnnkit_status rk_safetensors_read(const char *path, rk_st_file *out) {
    void *buf;
    size_t len;
    if (out) memset(out, 0, sizeof *out);
    rnnkit_status s = rk_read_file(path, &buf, &len);
    if (s != RNNKIT_STATUS_OK) return s;
    s = rk_safetensors_parse(buf, len, path, out);
    rk_free(buf);
    return s;
}

rnnkit_status rk_safetensors_write(const char *path, size_t num_tensors,
                                   const rnnkit_tensor *tensors, size_t num_meta,
                                   const char *const *meta_keys,
                                   const char *const *meta_values) {
    if (!path) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "safetensors write: path is NULL");
    if ((num_tensors && !tensors) || (num_meta && (!meta_keys || !meta_values)))
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: tensor or metadata list is NULL",
                        path);
    rk_buf h = {0};
    rnnkit_status s = RNNKIT_STATUS_OK;
    size_t *sizes = rk_calloc(num_tensors ? num_tensors : 1, sizeof *sizes);
    const void **parts = rk_calloc(num_tensors + 2, sizeof *parts);
    size_t *lens = rk_calloc(num_tensors + 2, sizeof *lens);
    if (!sizes || !parts || !lens) {
        s = rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
        goto done;
    }
    rk_buf_puts(&h, "{");
    if (num_meta) {
        rk_buf_puts(&h, "\"__metadata__\":{");
        for (size_t i = 0; i < num_meta; i++) {
            if (!meta_keys[i] || !meta_values[i]) {
                s = rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: metadata entry %zu is NULL",
                             path, i);
                goto done;
            }
            if (i) rk_buf_puts(&h, ",");
            rk_buf_json_string(&h, meta_keys[i]);
            rk_buf_puts(&h, ":");
            rk_buf_json_string(&h, meta_values[i]);
        }
        rk_buf_puts(&h, "}");
    }
    size_t off = 0;
    for (size_t i = 0; i < num_tensors; i++) {
        const rnnkit_tensor *t = &tensors[i];
        if (!t->name || !*t->name || t->ndim < 0 || t->ndim > 4) {
            s = rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                         "%s: tensor %zu has no name or ndim %d outside 0..4", path, i, t->ndim);
            goto done;
        }
        size_t count = 1;
        for (int d = 0; d < t->ndim; d++) {
            if (t->shape[d] < 0 || (uint64_t)t->shape[d] > SIZE_MAX ||
                rk_mul_overflow(count, (size_t)t->shape[d], &count)) {
                s = rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: tensor '%s' has a bad shape",
                             path, t->name);
                goto done;
            }
        }
        if (rk_mul_overflow(count, 4, &sizes[i]) || (sizes[i] && !t->data)) {
            s = rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: tensor '%s' has no data or is too "
                         "large", path, t->name);
            goto done;
        }
        if (i || num_meta) rk_buf_puts(&h, ",");
        rk_buf_json_string(&h, t->name);
        rk_buf_puts(&h, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++)
            rk_buf_printf(&h, d ? ",%lld" : "%lld", (long long)t->shape[d]);
        rk_buf_printf(&h, "],\"data_offsets\":[%zu,%zu]}", off, off + sizes[i]);
        off += sizes[i];
    }
    rk_buf_puts(&h, "}");
    /* Pad with spaces so the data buffer starts 8-byte aligned, as the
     * reference implementation does. */
    while (!h.failed && h.len % 8) rk_buf_puts(&h, " ");
    if (h.failed) {
        s = rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "%s: out of memory building the header", path);
        goto done;
    }
    unsigned char lenb[8];
    for (int i = 0; i < 8; i++) lenb[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
    parts[0] = lenb;
    lens[0] = 8;
    parts[1] = h.data;
    lens[1] = h.len;
    for (size_t i = 0; i < num_tensors; i++) {
        parts[i + 2] = tensors[i].data ? (const void *)tensors[i].data : "";
        lens[i + 2] = sizes[i];
    }
    s = rk_write_file_atomic(path, num_tensors + 2, parts, lens);
done:
    rk_buf_free(&h);
    rk_free(sizes);
    rk_free(parts);
    rk_free(lens);
    return s;
}
