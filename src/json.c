/* Strict JSON parser for the safetensors header and a small string
 * builder for the writers. Recursive descent with an explicit depth
 * limit; every child list grows by doubling, and a failure anywhere frees
 * the partial tree, so nothing leaks on malformed input. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

typedef struct parser {
    const char *s;
    size_t len, pos;
    const char *what;
    rnnkit_status st; /* first error */
} parser;

static rnnkit_status perr(parser *p, rnnkit_status s, const char *fmt, ...) RK_PRINTF(3, 4);
static rnnkit_status perr(parser *p, rnnkit_status s, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->st = rk_error(s, "%s: invalid JSON at byte %zu: %s", p->what, p->pos, msg);
    return p->st;
}

static void *grow(void *old, size_t old_n, size_t new_n, size_t elem) {
    size_t bytes;
    if (rk_mul_overflow(new_n, elem, &bytes)) return NULL;
    void *p = rk_alloc(bytes);
    if (!p) return NULL;
    if (old && old_n) memcpy(p, old, old_n * elem);
    rk_free(old);
    return p;
}

static void json_clear(rk_json *v) {
    if (!v) return;
    rk_free(v->str);
    for (size_t i = 0; i < v->count; i++) {
        if (v->items) json_clear(&v->items[i]);
        if (v->keys) rk_free(v->keys[i]);
    }
    rk_free(v->items);
    rk_free(v->keys);
    rk_free(v->key_lens);
    memset(v, 0, sizeof *v);
}

void rk_json_free(rk_json *v) {
    if (!v) return;
    json_clear(v);
    rk_free(v);
}

const char *rk_json_kind_name(rk_json_kind k) {
    switch (k) {
    case RK_JSON_NULL: return "null";
    case RK_JSON_FALSE:
    case RK_JSON_TRUE: return "a boolean";
    case RK_JSON_NUMBER: return "a number";
    case RK_JSON_STRING: return "a string";
    case RK_JSON_ARRAY: return "an array";
    case RK_JSON_OBJECT: return "an object";
    }
    return "?";
}

const rk_json *rk_json_get(const rk_json *obj, const char *key) {
    if (!obj || obj->kind != RK_JSON_OBJECT) return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->count; i++)
        if (obj->key_lens[i] == kl && memcmp(obj->keys[i], key, kl) == 0) return &obj->items[i];
    return NULL;
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            p->pos++;
        else
            break;
    }
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int read_hex4(parser *p, unsigned *out) {
    if (p->len - p->pos < 4) return 0;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p->s[p->pos + (size_t)i]);
        if (h < 0) return 0;
        v = v * 16 + (unsigned)h;
    }
    p->pos += 4;
    *out = v;
    return 1;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid
 * (overlongs, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t k;
    unsigned cp, min;
    if ((c & 0xE0) == 0xC0) { k = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { k = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { k = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return k;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* At the opening quote. The decoded string is never longer than its
 * source text, so one allocation of the source length suffices. */
static int parse_string(parser *p, char **out, size_t *out_len) {
    size_t start = p->pos;
    p->pos++; /* '"' */
    size_t end = p->pos;
    while (end < p->len && p->s[end] != '"') {
        if (p->s[end] == '\\') end++;
        end++;
    }
    if (end >= p->len) {
        p->pos = start;
        perr(p, RNNKIT_STATUS_FORMAT_ERROR, "unterminated string");
        return 0;
    }
    char *buf = rk_alloc(end - p->pos + 1);
    if (!buf) {
        perr(p, RNNKIT_STATUS_OUT_OF_MEMORY, "out of memory for a string");
        return 0;
    }
    size_t o = 0;
    while (p->s[p->pos] != '"') {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) {
            perr(p, RNNKIT_STATUS_FORMAT_ERROR, "control character 0x%02x in a string", c);
            goto fail;
        }
        if (c == '\\') {
            p->pos++;
            char e = p->s[p->pos++];
            switch (e) {
            case '"': buf[o++] = '"'; break;
            case '\\': buf[o++] = '\\'; break;
            case '/': buf[o++] = '/'; break;
            case 'b': buf[o++] = '\b'; break;
            case 'f': buf[o++] = '\f'; break;
            case 'n': buf[o++] = '\n'; break;
            case 'r': buf[o++] = '\r'; break;
            case 't': buf[o++] = '\t'; break;
            case 'u': {
                unsigned cp, lo;
                if (!read_hex4(p, &cp)) {
                    perr(p, RNNKIT_STATUS_FORMAT_ERROR, "\\u must be followed by 4 hex digits");
                    goto fail;
                }
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    perr(p, RNNKIT_STATUS_FORMAT_ERROR, "lone low surrogate \\u%04X", cp);
                    goto fail;
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                        perr(p, RNNKIT_STATUS_FORMAT_ERROR,
                             "high surrogate \\u%04X not followed by a low surrogate", cp);
                        goto fail;
                    }
                    p->pos += 2;
                    if (!read_hex4(p, &lo)) {
                        perr(p, RNNKIT_STATUS_FORMAT_ERROR, "\\u must be followed by 4 hex digits");
                        goto fail;
                    }
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        perr(p, RNNKIT_STATUS_FORMAT_ERROR,
                             "high surrogate \\u%04X followed by \\u%04X, not a low surrogate",
                             cp, lo);
                        goto fail;
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                /* \uXXXX is 6 source bytes, its UTF-8 at most 3 (4 for a
                 * pair, which is 12 source bytes): the buffer suffices. */
                o += put_utf8(buf + o, cp);
                break;
            }
            default:
                p->pos--;
                perr(p, RNNKIT_STATUS_FORMAT_ERROR, "invalid escape \\%c",
                     (e >= 0x20 && e < 0x7f) ? e : '?');
                goto fail;
            }
            continue;
        }
        size_t k = utf8_len((const unsigned char *)p->s + p->pos, end - p->pos);
        if (k == 0) {
            perr(p, RNNKIT_STATUS_FORMAT_ERROR, "invalid UTF-8 byte 0x%02x in a string", c);
            goto fail;
        }
        memcpy(buf + o, p->s + p->pos, k);
        o += k;
        p->pos += k;
    }
    p->pos++; /* closing quote */
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    return 1;
fail:
    rk_free(buf);
    return 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int parse_number(parser *p, rk_json *v) {
    size_t start = p->pos, i = p->pos;
    int integral = 1;
    if (i < p->len && p->s[i] == '-') i++;
    if (i >= p->len || !is_digit(p->s[i])) {
        perr(p, RNNKIT_STATUS_FORMAT_ERROR, "invalid number");
        return 0;
    }
    if (p->s[i] == '0') {
        i++;
        if (i < p->len && is_digit(p->s[i])) {
            perr(p, RNNKIT_STATUS_FORMAT_ERROR, "number with a leading zero");
            return 0;
        }
    } else {
        while (i < p->len && is_digit(p->s[i])) i++;
    }
    if (i < p->len && p->s[i] == '.') {
        integral = 0;
        i++;
        if (i >= p->len || !is_digit(p->s[i])) {
            p->pos = i;
            perr(p, RNNKIT_STATUS_FORMAT_ERROR, "digit expected after '.'");
            return 0;
        }
        while (i < p->len && is_digit(p->s[i])) i++;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        integral = 0;
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-')) i++;
        if (i >= p->len || !is_digit(p->s[i])) {
            p->pos = i;
            perr(p, RNNKIT_STATUS_FORMAT_ERROR, "digit expected in exponent");
            return 0;
        }
        while (i < p->len && is_digit(p->s[i])) i++;
    }
    size_t n = i - start;
    char tmp[400];
    if (n >= sizeof tmp) {
        perr(p, RNNKIT_STATUS_FORMAT_ERROR, "number of %zu characters is too long", n);
        return 0;
    }
    memcpy(tmp, p->s + start, n);
    tmp[n] = '\0';
    v->kind = RK_JSON_NUMBER;
    v->d = strtod(tmp, NULL);
    v->is_int = 0;
    if (integral) {
        /* Exact int64 with overflow check (strtoll would clamp). */
        const char *q = tmp;
        int neg = 0;
        if (*q == '-') { neg = 1; q++; }
        uint64_t acc = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        int ok = 1;
        for (; *q; q++) {
            uint64_t dgt = (uint64_t)(*q - '0');
            if (acc > (lim - dgt) / 10) { ok = 0; break; }
            acc = acc * 10 + dgt;
        }
        if (ok) {
            v->is_int = 1;
            v->i = neg ? (acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc) : (int64_t)acc;
        }
    }
    p->pos = i;
    return 1;
}

static int parse_value(parser *p, rk_json *v, int depth);

static int parse_array(parser *p, rk_json *v, int depth) {
    size_t cap = 0;
    v->kind = RK_JSON_ARRAY;
    p->pos++; /* '[' */
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        return 1;
    }
    for (;;) {
        if (v->count == cap) {
            size_t nc = cap ? cap * 2 : 4;
            rk_json *ni = grow(v->items, v->count, nc, sizeof *ni);
            if (!ni) {
                perr(p, RNNKIT_STATUS_OUT_OF_MEMORY, "out of memory");
                return 0;
            }
            v->items = ni;
            cap = nc;
        }
        rk_json *c = &v->items[v->count];
        memset(c, 0, sizeof *c);
        v->count++; /* counted before parsing so a failure frees it */
        skip_ws(p);
        if (!parse_value(p, c, depth + 1)) return 0;
        skip_ws(p);
        if (p->pos >= p->len) {
            perr(p, RNNKIT_STATUS_FORMAT_ERROR, "unterminated array");
            return 0;
        }
        char ch = p->s[p->pos];
        if (ch == ',') {
            p->pos++;
            continue;
        }
        if (ch == ']') {
            p->pos++;
            return 1;
        }
        perr(p, RNNKIT_STATUS_FORMAT_ERROR, "expected ',' or ']' in an array");
        return 0;
    }
}

typedef struct key_ref {
    const char *s;
    size_t len;
} key_ref;

static int cmp_key(const void *a, const void *b) {
    const key_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static int check_dup_keys(parser *p, const rk_json *v, size_t obj_pos) {
    key_ref *r = rk_calloc(v->count, sizeof *r);
    if (!r) {
        perr(p, RNNKIT_STATUS_OUT_OF_MEMORY, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < v->count; i++) {
        r[i].s = v->keys[i];
        r[i].len = v->key_lens[i];
    }
    qsort(r, v->count, sizeof *r, cmp_key);
    int ok = 1;
    for (size_t i = 1; i < v->count && ok; i++) {
        if (cmp_key(&r[i - 1], &r[i]) == 0) {
            p->pos = obj_pos;
            perr(p, RNNKIT_STATUS_FORMAT_ERROR, "duplicate key \"%.100s\" in the object starting here",
                 r[i].s);
            ok = 0;
        }
    }
    rk_free(r);
    return ok;
}

static int parse_object(parser *p, rk_json *v, int depth) {
    size_t cap = 0, obj_pos = p->pos;
    v->kind = RK_JSON_OBJECT;
    p->pos++; /* '{' */
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        return 1;
    }
    for (;;) {
        if (v->count == cap) {
            size_t nc = cap ? cap * 2 : 4;
            rk_json *ni = grow(v->items, v->count, nc, sizeof *ni);
            if (ni) v->items = ni;
            char **nk = ni ? grow(v->keys, v->count, nc, sizeof *nk) : NULL;
            if (nk) v->keys = nk;
            size_t *nl = nk ? grow(v->key_lens, v->count, nc, sizeof *nl) : NULL;
            if (nl) v->key_lens = nl;
            if (!nl) {
                perr(p, RNNKIT_STATUS_OUT_OF_MEMORY, "out of memory");
                return 0;
            }
            cap = nc;
        }
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != '"') {
            perr(p, RNNKIT_STATUS_FORMAT_ERROR, "expected a string key in an object");
            return 0;
        }
        size_t key_pos = p->pos;
        char *key;
        size_t klen;
        if (!parse_string(p, &key, &klen)) return 0;
        /* Small objects: check duplicates as we go (exact position in
         * the message); large ones are checked once, sorted, at the end,
         * so a header with many tensors is not quadratic. */
        if (v->count < 32) {
            for (size_t j = 0; j < v->count; j++) {
                if (v->key_lens[j] == klen && memcmp(v->keys[j], key, klen) == 0) {
                    p->pos = key_pos;
                    perr(p, RNNKIT_STATUS_FORMAT_ERROR, "duplicate key \"%.100s\"", key);
                    rk_free(key);
                    return 0;
                }
            }
        }
        rk_json *c = &v->items[v->count];
        memset(c, 0, sizeof *c);
        v->keys[v->count] = key;
        v->key_lens[v->count] = klen;
        v->count++;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') {
            perr(p, RNNKIT_STATUS_FORMAT_ERROR, "expected ':' after object key \"%.100s\"", key);
            return 0;
        }
        p->pos++;
        skip_ws(p);
        if (!parse_value(p, c, depth + 1)) return 0;
        skip_ws(p);
        if (p->pos >= p->len) {
            perr(p, RNNKIT_STATUS_FORMAT_ERROR, "unterminated object");
            return 0;
        }
        char ch = p->s[p->pos];
        if (ch == ',') {
            p->pos++;
            continue;
        }
        if (ch == '}') {
            p->pos++;
            return v->count <= 32 || check_dup_keys(p, v, obj_pos);
        }
        perr(p, RNNKIT_STATUS_FORMAT_ERROR, "expected ',' or '}' in an object");
        return 0;
    }
}

static int match_word(parser *p, const char *w) {
    size_t n = strlen(w);
    if (p->len - p->pos >= n && memcmp(p->s + p->pos, w, n) == 0) {
        p->pos += n;
        return 1;
    }
    return 0;
}

static int parse_value(parser *p, rk_json *v, int depth) {
    if (depth > RK_JSON_MAX_DEPTH) {
        perr(p, RNNKIT_STATUS_FORMAT_ERROR, "nesting deeper than %d levels", RK_JSON_MAX_DEPTH);
        return 0;
    }
    if (p->pos >= p->len) {
        perr(p, RNNKIT_STATUS_FORMAT_ERROR, "unexpected end of text, expected a value");
        return 0;
    }
    char c = p->s[p->pos];
    switch (c) {
    case '{': return parse_object(p, v, depth);
    case '[': return parse_array(p, v, depth);
    case '"':
        v->kind = RK_JSON_STRING;
        return parse_string(p, &v->str, &v->len);
    case 't':
        if (match_word(p, "true")) { v->kind = RK_JSON_TRUE; return 1; }
        break;
    case 'f':
        if (match_word(p, "false")) { v->kind = RK_JSON_FALSE; return 1; }
        break;
    case 'n':
        if (match_word(p, "null")) { v->kind = RK_JSON_NULL; return 1; }
        break;
    default:
        if (c == '-' || is_digit(c)) return parse_number(p, v);
        break;
    }
    if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
        perr(p, RNNKIT_STATUS_FORMAT_ERROR, "unexpected character '%c', expected a value", c);
    else
        perr(p, RNNKIT_STATUS_FORMAT_ERROR, "unexpected byte 0x%02x, expected a value",
             (unsigned char)c);
    return 0;
}

rnnkit_status rk_json_parse(const char *text, size_t len, const char *what, rk_json **out) {
    parser p = {text, len, 0, what ? what : "JSON", RNNKIT_STATUS_OK};
    *out = NULL;
    rk_json *root = rk_calloc(1, sizeof *root);
    if (!root) return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "%s: out of memory", p.what);
    skip_ws(&p);
    if (!parse_value(&p, root, 1)) {
        rk_json_free(root);
        return p.st;
    }
    skip_ws(&p);
    if (p.pos != p.len) {
        perr(&p, RNNKIT_STATUS_FORMAT_ERROR, "%zu bytes of trailing garbage after the value",
             p.len - p.pos);
        rk_json_free(root);
        return p.st;
    }
    *out = root;
    return RNNKIT_STATUS_OK;
}

/* ---- string builder ---- */

void rk_buf_append(rk_buf *b, const void *s, size_t n) {
    if (b->failed) return;
    size_t need;
    if (rk_add_overflow(b->len, n + 1, &need)) {
        b->failed = 1;
        return;
    }
    if (need > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < need) {
            if (nc > SIZE_MAX / 2) { b->failed = 1; return; }
            nc *= 2;
        }
        char *nd = grow(b->data, b->len, nc, 1);
        if (!nd) {
            b->failed = 1;
            return;
        }
        b->data = nd;
        b->cap = nc;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void rk_buf_puts(rk_buf *b, const char *s) { rk_buf_append(b, s, strlen(s)); }

void rk_buf_printf(rk_buf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->failed = 1;
        return;
    }
    rk_buf_append(b, tmp, (size_t)n);
}

void rk_buf_json_string(rk_buf *b, const char *s) {
    rk_buf_append(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"') rk_buf_append(b, "\\\"", 2);
        else if (c == '\\') rk_buf_append(b, "\\\\", 2);
        else if (c == '\n') rk_buf_append(b, "\\n", 2);
        else if (c == '\t') rk_buf_append(b, "\\t", 2);
        else if (c == '\r') rk_buf_append(b, "\\r", 2);
        else if (c < 0x20) rk_buf_printf(b, "\\u%04x", c);
        else rk_buf_append(b, s, 1);
    }
    rk_buf_append(b, "\"", 1);
}

void rk_buf_free(rk_buf *b) {
    rk_free(b->data);
    memset(b, 0, sizeof *b);
}
