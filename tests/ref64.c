/*
 * Float64 reference of rnnkit_forward (see ref64.h). Written from the
 * specifications:
 *  - PyTorch torch.nn.RNN / LSTM / GRU: gate orders LSTM i,f,g,o and GRU
 *    r,z,n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); optional
 *    biases; proj_size (h = W_hr (o * tanh c)); layers k > 0 read the
 *    concatenated outputs of the directions; packed-sequence semantics
 *    for lengths (a reverse direction starts at element len-1).
 *  - ONNX RNN / LSTM / GRU (opset 14): W [D,G*H,I], R [D,G*H,H],
 *    B [D,2*G*H] (W-bias then R-bias), P [D,3H] (p_i, p_o, p_f); gate
 *    orders LSTM i,o,f,c and GRU z,r,h; clip applied (like ONNX Runtime)
 *    to every gate's and the candidate's pre-activation after biases and
 *    peepholes; activations f,g,h per direction; sequence_lens 0 allowed.
 * Plain loops, one batch element at a time, no attempt at speed.
 */
#include "ref64.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_MAX_LAYERS 16

typedef struct rdir {
    int64_t I, H, P, G;
    double *wx;  /* [G][H][I], canonical gate order */
    double *wh;  /* [G][H][P] */
    double *bx;  /* [G][H] (zeros when absent) */
    double *bh;  /* [G][H] */
    double *whr; /* [P][H] or NULL */
    double *peep; /* [3][H]: i, f, o (canonical) or NULL */
    rnnkit_activation act[3];
    int lbr, input_forget, reverse;
    double clip;
} rdir;

static int fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

double ref64_activation(const rnnkit_activation *a, double x) {
    double al = a->alpha, be = a->beta;
    switch (a->kind) {
    case RNNKIT_ACTIVATION_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case RNNKIT_ACTIVATION_TANH: return tanh(x);
    case RNNKIT_ACTIVATION_RELU: return x > 0 ? x : 0.0;
    case RNNKIT_ACTIVATION_AFFINE: return al * x + be;
    case RNNKIT_ACTIVATION_LEAKY_RELU: return x >= 0 ? x : al * x;
    case RNNKIT_ACTIVATION_THRESHOLDED_RELU: return x > al ? x : 0.0;
    case RNNKIT_ACTIVATION_SCALED_TANH: return al * tanh(be * x);
    case RNNKIT_ACTIVATION_HARD_SIGMOID: {
        double v = al * x + be;
        return v < 0 ? 0.0 : (v > 1 ? 1.0 : v);
    }
    case RNNKIT_ACTIVATION_ELU: return x >= 0 ? x : al * (exp(x) - 1.0);
    case RNNKIT_ACTIVATION_SOFTSIGN: return x / (1.0 + fabs(x));
    case RNNKIT_ACTIVATION_SOFTPLUS: return log1p(exp(x));
    }
    return NAN;
}

static double clipd(double x, double c) {
    if (c > 0) {
        if (x > c) return c;
        if (x < -c) return -c;
    }
    return x;
}

static int64_t numel(const rnnkit_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

static int gates_of(rnnkit_cell c) {
    return c == RNNKIT_CELL_LSTM ? 4 : c == RNNKIT_CELL_GRU ? 3 : 1;
}

static void free_dir(rdir *r) {
    free(r->wx);
    free(r->wh);
    free(r->bx);
    free(r->bh);
    free(r->whr);
    free(r->peep);
    memset(r, 0, sizeof *r);
}

/* Canonical gate c comes from framework gate src[c]. */
static const int id_map[4] = {0, 1, 2, 3};
static const int onnx_lstm_map[4] = {0, 2, 3, 1}; /* i<-i, f<-f(2), g<-c(3), o<-o(1) */
static const int onnx_gru_map[3] = {1, 0, 2};      /* r<-r(1), z<-z(0), n<-h(2) */

/* Copies a [G*H, K] block (framework gate order) into canonical order. */
static double *copy_gates(const float *src, int64_t G, int64_t H, int64_t K, const int *map) {
    double *d = calloc((size_t)(G * H * K), sizeof(double));
    if (!d) return NULL;
    for (int64_t g = 0; g < G; g++)
        for (int64_t j = 0; j < H; j++)
            for (int64_t k = 0; k < K; k++)
                d[(g * H + j) * K + k] = src[(map[g] * H + j) * K + k];
    return d;
}

/* ---------------------------------------------------------------- */
/* PyTorch tensor names                                              */
/* ---------------------------------------------------------------- */
enum { PT_WIH, PT_WHH, PT_BIH, PT_BHH, PT_WHR, PT_KINDS };
static const char *const pt_base[PT_KINDS] = {"weight_ih_l", "weight_hh_l", "bias_ih_l",
                                              "bias_hh_l", "weight_hr_l"};

/* Parses "<prefix><base><k>[_reverse]". Returns kind or -1. */
static int parse_pt_name(const char *name, int *layer, int *rev) {
    for (int kind = 0; kind < PT_KINDS; kind++) {
        const char *p = strstr(name, pt_base[kind]);
        if (!p) continue;
        if (p != name && p[-1] != '.') continue;
        p += strlen(pt_base[kind]);
        if (*p < '0' || *p > '9') return -1;
        long v = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p - '0');
            if (v >= REF_MAX_LAYERS) return -1;
            p++;
        }
        int r = 0;
        if (strcmp(p, "_reverse") == 0) r = 1;
        else if (*p != '\0') return -1;
        *layer = (int)v;
        *rev = r;
        return kind;
    }
    return -1;
}

static int build_pytorch(const rnnkit_model_desc *desc, const rnnkit_tensor *ts, size_t nt,
                         rdir *dirs, int64_t *L_out, int64_t *D_out, char *err, size_t errlen) {
    const rnnkit_tensor *tab[PT_KINDS][REF_MAX_LAYERS][2];
    memset(tab, 0, sizeof tab);
    int64_t L = 0, D = 1;
    for (size_t i = 0; i < nt; i++) {
        int layer, rev;
        int kind = ts[i].name ? parse_pt_name(ts[i].name, &layer, &rev) : -1;
        if (kind < 0) return fail(err, errlen, "ref64: unknown tensor '%s'", ts[i].name ? ts[i].name : "(null)");
        tab[kind][layer][rev] = &ts[i];
        if (layer + 1 > L) L = layer + 1;
        if (rev) D = 2;
    }
    const int64_t G = gates_of(desc->cell);
    int64_t in_size = 0;
    for (int64_t l = 0; l < L; l++) {
        for (int64_t d = 0; d < D; d++) {
            rdir *r = &dirs[l * D + d];
            const rnnkit_tensor *wih = tab[PT_WIH][l][d], *whh = tab[PT_WHH][l][d];
            const rnnkit_tensor *bih = tab[PT_BIH][l][d], *bhh = tab[PT_BHH][l][d];
            const rnnkit_tensor *whr = tab[PT_WHR][l][d];
            if (!wih || !whh) return fail(err, errlen, "ref64: layer %lld dir %lld misses weights", (long long)l, (long long)d);
            if (wih->ndim != 2 || whh->ndim != 2) return fail(err, errlen, "ref64: weights must be 2-D");
            r->G = G;
            r->H = wih->shape[0] / G;
            r->I = wih->shape[1];
            r->P = whr ? whr->shape[0] : r->H;
            if (l == 0) in_size = r->I;
            else if (r->I != in_size) return fail(err, errlen, "ref64: layer %lld input %lld != %lld", (long long)l, (long long)r->I, (long long)in_size);
            if (whh->shape[0] != G * r->H || whh->shape[1] != r->P)
                return fail(err, errlen, "ref64: weight_hh_l%lld shape", (long long)l);
            r->wx = copy_gates(wih->data, G, r->H, r->I, id_map);
            r->wh = copy_gates(whh->data, G, r->H, r->P, id_map);
            r->bx = calloc((size_t)(G * r->H), sizeof(double));
            r->bh = calloc((size_t)(G * r->H), sizeof(double));
            if (!r->wx || !r->wh || !r->bx || !r->bh) return fail(err, errlen, "ref64: oom");
            if (bih) {
                if (numel(bih) != G * r->H) return fail(err, errlen, "ref64: bias_ih shape");
                for (int64_t k = 0; k < G * r->H; k++) r->bx[k] = bih->data[k];
            }
            if (bhh) {
                if (numel(bhh) != G * r->H) return fail(err, errlen, "ref64: bias_hh shape");
                for (int64_t k = 0; k < G * r->H; k++) r->bh[k] = bhh->data[k];
            }
            if (whr) {
                if (whr->ndim != 2 || whr->shape[1] != r->H) return fail(err, errlen, "ref64: weight_hr shape");
                r->whr = malloc((size_t)(r->P * r->H) * sizeof(double));
                if (!r->whr) return fail(err, errlen, "ref64: oom");
                for (int64_t k = 0; k < r->P * r->H; k++) r->whr[k] = whr->data[k];
            }
            r->lbr = 1;
            r->input_forget = 0;
            r->clip = 0;
            r->reverse = (int)d;
            if (desc->cell == RNNKIT_CELL_RNN_RELU) r->act[0].kind = RNNKIT_ACTIVATION_RELU;
            else if (desc->cell == RNNKIT_CELL_RNN_TANH) r->act[0].kind = RNNKIT_ACTIVATION_TANH;
            else {
                r->act[0].kind = RNNKIT_ACTIVATION_SIGMOID;
                r->act[1].kind = RNNKIT_ACTIVATION_TANH;
                r->act[2].kind = RNNKIT_ACTIVATION_TANH;
            }
        }
        in_size = D * dirs[l * D].P;
    }
    *L_out = L;
    *D_out = D;
    return 0;
}

/* ---------------------------------------------------------------- */
/* ONNX tensors                                                      */
/* ---------------------------------------------------------------- */
static int build_onnx(const rnnkit_model_desc *desc, const rnnkit_tensor *ts, size_t nt, rdir *dirs,
                      int64_t *D_out, char *err, size_t errlen) {
    const rnnkit_tensor *W = NULL, *R = NULL, *B = NULL, *Pp = NULL;
    for (size_t i = 0; i < nt; i++) {
        const char *n = ts[i].name ? ts[i].name : "";
        if (strcmp(n, "W") == 0) W = &ts[i];
        else if (strcmp(n, "R") == 0) R = &ts[i];
        else if (strcmp(n, "B") == 0) B = &ts[i];
        else if (strcmp(n, "P") == 0) Pp = &ts[i];
        else return fail(err, errlen, "ref64: unknown ONNX tensor '%s'", n);
    }
    if (!W || !R) return fail(err, errlen, "ref64: ONNX model needs W and R");
    const int64_t D = desc->direction == RNNKIT_DIRECTION_BIDIRECTIONAL ? 2 : 1;
    const int64_t G = gates_of(desc->cell);
    if (W->ndim != 3 || W->shape[0] != D) return fail(err, errlen, "ref64: W shape");
    const int64_t H = W->shape[1] / G, I = W->shape[2];
    if (R->ndim != 3 || R->shape[0] != D || R->shape[1] != G * H || R->shape[2] != H)
        return fail(err, errlen, "ref64: R shape");
    if (B && numel(B) != D * 2 * G * H) return fail(err, errlen, "ref64: B shape");
    if (Pp && (desc->cell != RNNKIT_CELL_LSTM || numel(Pp) != D * 3 * H))
        return fail(err, errlen, "ref64: P shape");
    const int *map = desc->cell == RNNKIT_CELL_LSTM ? onnx_lstm_map
                     : desc->cell == RNNKIT_CELL_GRU ? onnx_gru_map : id_map;
    const int nact = desc->cell == RNNKIT_CELL_LSTM ? 3 : desc->cell == RNNKIT_CELL_GRU ? 2 : 1;
    if (desc->num_activations != 0 && desc->num_activations != nact &&
        desc->num_activations != nact * D)
        return fail(err, errlen, "ref64: %d activations for %d per direction", desc->num_activations, nact);
    for (int64_t d = 0; d < D; d++) {
        rdir *r = &dirs[d];
        r->G = G;
        r->H = H;
        r->I = I;
        r->P = H;
        r->wx = copy_gates(W->data + d * G * H * I, G, H, I, map);
        r->wh = copy_gates(R->data + d * G * H * H, G, H, H, map);
        r->bx = calloc((size_t)(G * H), sizeof(double));
        r->bh = calloc((size_t)(G * H), sizeof(double));
        if (!r->wx || !r->wh || !r->bx || !r->bh) return fail(err, errlen, "ref64: oom");
        if (B) {
            const float *b = B->data + d * 2 * G * H;
            for (int64_t g = 0; g < G; g++)
                for (int64_t j = 0; j < H; j++) {
                    r->bx[g * H + j] = b[map[g] * H + j];
                    r->bh[g * H + j] = b[G * H + map[g] * H + j];
                }
        }
        if (Pp) {
            static const int pmap[3] = {0, 2, 1}; /* i<-p_i, f<-p_f(2), o<-p_o(1) */
            const float *p = Pp->data + d * 3 * H;
            r->peep = malloc((size_t)(3 * H) * sizeof(double));
            if (!r->peep) return fail(err, errlen, "ref64: oom");
            for (int q = 0; q < 3; q++)
                for (int64_t j = 0; j < H; j++) r->peep[q * H + j] = p[pmap[q] * H + j];
        }
        r->lbr = desc->cell == RNNKIT_CELL_GRU ? (desc->linear_before_reset != 0) : 0;
        r->input_forget = desc->cell == RNNKIT_CELL_LSTM ? (desc->input_forget != 0) : 0;
        r->clip = desc->clip > 0 ? (double)desc->clip : 0.0;
        r->reverse = desc->direction == RNNKIT_DIRECTION_REVERSE || d == 1;
        if (desc->num_activations == 0) {
            if (desc->cell == RNNKIT_CELL_RNN_TANH) r->act[0].kind = RNNKIT_ACTIVATION_TANH;
            else if (desc->cell == RNNKIT_CELL_RNN_RELU) r->act[0].kind = RNNKIT_ACTIVATION_RELU;
            else {
                r->act[0].kind = RNNKIT_ACTIVATION_SIGMOID;
                r->act[1].kind = RNNKIT_ACTIVATION_TANH;
                r->act[2].kind = RNNKIT_ACTIVATION_TANH;
            }
        } else {
            int base = desc->num_activations == nact * D ? (int)d * nact : 0;
            for (int q = 0; q < nact; q++) r->act[q] = desc->activations[base + q];
        }
    }
    *D_out = D;
    return 0;
}

/* ---------------------------------------------------------------- */
/* One step for one batch element                                    */
/* ---------------------------------------------------------------- */
/* x [I], h [P] in/out, c [H] in/out; tmp at least 6*H + P doubles. */
static void step(const rdir *r, const double *x, double *h, double *c, double *tmp) {
    const int64_t G = r->G, H = r->H, I = r->I, P = r->P;
    double *xg = tmp;         /* [G*H] input side incl. bx */
    double *hg = tmp + G * H; /* [G*H] recurrent side incl. bh */
    double *hnew = tmp + 2 * G * H; /* [max(H,P)] */
    for (int64_t q = 0; q < G * H; q++) {
        double s = r->bx[q];
        for (int64_t k = 0; k < I; k++) s += r->wx[q * I + k] * x[k];
        xg[q] = s;
        double u = r->bh[q];
        for (int64_t k = 0; k < P; k++) u += r->wh[q * P + k] * h[k];
        hg[q] = u;
    }
    if (G == 1) {
        for (int64_t j = 0; j < H; j++) hnew[j] = ref64_activation(&r->act[0], clipd(xg[j] + hg[j], r->clip));
        memcpy(h, hnew, (size_t)H * sizeof(double));
        return;
    }
    if (G == 4) {
        double *hh = hnew; /* [H] before projection */
        for (int64_t j = 0; j < H; j++) {
            double pi = xg[j] + hg[j], pf = xg[H + j] + hg[H + j];
            double pg = xg[2 * H + j] + hg[2 * H + j], po = xg[3 * H + j] + hg[3 * H + j];
            double cp = c[j];
            if (r->peep) {
                pi += r->peep[j] * cp;
                pf += r->peep[H + j] * cp;
            }
            double ig = ref64_activation(&r->act[0], clipd(pi, r->clip));
            double fg = r->input_forget ? 1.0 - ig : ref64_activation(&r->act[0], clipd(pf, r->clip));
            double gg = ref64_activation(&r->act[1], clipd(pg, r->clip));
            double cn = fg * cp + ig * gg;
            if (r->peep) po += r->peep[2 * H + j] * cn;
            double og = ref64_activation(&r->act[0], clipd(po, r->clip));
            c[j] = cn;
            hh[j] = og * ref64_activation(&r->act[2], cn);
        }
        if (r->whr) {
            for (int64_t p = 0; p < P; p++) {
                double s = 0;
                for (int64_t j = 0; j < H; j++) s += r->whr[p * H + j] * hh[j];
                h[p] = s;
            }
        } else {
            memcpy(h, hh, (size_t)H * sizeof(double));
        }
        return;
    }
    /* GRU */
    double *rh = hnew + H; /* [H] r * h_prev */
    double *rg = rh + H;   /* [H] */
    for (int64_t j = 0; j < H; j++) {
        rg[j] = ref64_activation(&r->act[0], clipd(xg[j] + hg[j], r->clip));
        rh[j] = rg[j] * h[j];
    }
    for (int64_t j = 0; j < H; j++) {
        double z = ref64_activation(&r->act[0], clipd(xg[H + j] + hg[H + j], r->clip));
        double pre;
        if (r->lbr) {
            pre = xg[2 * H + j] + rg[j] * hg[2 * H + j];
        } else {
            double s = r->bh[2 * H + j];
            for (int64_t k = 0; k < H; k++) s += r->wh[(2 * H + j) * P + k] * rh[k];
            pre = xg[2 * H + j] + s;
        }
        double n = ref64_activation(&r->act[1], clipd(pre, r->clip));
        hnew[j] = (1.0 - z) * n + z * h[j];
    }
    memcpy(h, hnew, (size_t)H * sizeof(double));
}

void ref64_out_free(ref64_out *out) {
    if (!out) return;
    free(out->y);
    free(out->hn);
    free(out->cn);
    memset(out, 0, sizeof *out);
}

int ref64_forward(const rnnkit_model_desc *desc, const rnnkit_tensor *tensors, size_t num_tensors,
                  const rnnkit_forward_args *args, ref64_out *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (!desc || !args || !args->x || (!tensors && num_tensors))
        return fail(err, errlen, "ref64: NULL argument");
    const int onnx = desc->layout == RNNKIT_LAYOUT_ONNX;
    const int lstm = desc->cell == RNNKIT_CELL_LSTM;
    const int64_t T = args->seq_len, N = args->batch;
    if (T <= 0 || N <= 0) return fail(err, errlen, "ref64: bad T/N");
    rdir dirs[REF_MAX_LAYERS * 2];
    memset(dirs, 0, sizeof dirs);
    int64_t L = 1, D = 1;
    int rc = onnx ? build_onnx(desc, tensors, num_tensors, dirs, &D, err, errlen)
                  : build_pytorch(desc, tensors, num_tensors, dirs, &L, &D, err, errlen);
    if (rc != 0) {
        for (int i = 0; i < REF_MAX_LAYERS * 2; i++) free_dir(&dirs[i]);
        return rc;
    }
    const int bm = onnx ? desc->onnx_layout != 0 : args->batch_major != 0;
    const int64_t I0 = dirs[0].I, H = dirs[0].H, P = dirs[0].P;
    for (int64_t n = 0; args->lengths && n < N; n++) {
        int32_t len = args->lengths[n];
        if (len < (onnx ? 0 : 1) || len > T) {
            for (int i = 0; i < REF_MAX_LAYERS * 2; i++) free_dir(&dirs[i]);
            return fail(err, errlen, "ref64: bad length %d", (int)len);
        }
    }
    const int64_t DP = D * P;
    const int64_t maxin = I0 > DP ? I0 : DP;
    double *in = calloc((size_t)(T * N * maxin), sizeof(double));
    double *outb = calloc((size_t)(T * N * DP), sizeof(double));
    double *hs = calloc((size_t)(L * D * N * P), sizeof(double));
    double *cs = calloc((size_t)(L * D * N * H), sizeof(double));
    double *tmp = calloc((size_t)(16 * (H + P) + 16), sizeof(double));
    double *xt = calloc((size_t)maxin, sizeof(double));
    if (!in || !outb || !hs || !cs || !tmp || !xt) {
        free(in); free(outb); free(hs); free(cs); free(tmp); free(xt);
        for (int i = 0; i < REF_MAX_LAYERS * 2; i++) free_dir(&dirs[i]);
        return fail(err, errlen, "ref64: oom");
    }
    /* Input in time-major [T][N][I0]. */
    for (int64_t t = 0; t < T; t++)
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < I0; i++)
                in[(t * N + n) * I0 + i] =
                    args->x[(bm ? (n * T + t) : (t * N + n)) * I0 + i];
    int64_t Iin = I0;
    for (int64_t l = 0; l < L; l++) {
        memset(outb, 0, (size_t)(T * N * DP) * sizeof(double));
        for (int64_t d = 0; d < D; d++) {
            const rdir *r = &dirs[l * D + d];
            const int64_t sd = l * D + d; /* state index (PyTorch) / direction (ONNX) */
            for (int64_t n = 0; n < N; n++) {
                double *h = hs + (sd * N + n) * P;
                double *c = cs + (sd * N + n) * H;
                /* Initial state. */
                size_t hoff, coff;
                if (onnx && desc->onnx_layout) {
                    hoff = (size_t)((n * D + d) * H);
                    coff = hoff;
                } else {
                    hoff = (size_t)((sd * N + n) * P);
                    coff = (size_t)((sd * N + n) * H);
                }
                for (int64_t k = 0; k < P; k++) h[k] = args->h0 ? args->h0[hoff + (size_t)k] : 0.0;
                for (int64_t k = 0; k < H; k++) c[k] = (lstm && args->c0) ? args->c0[coff + (size_t)k] : 0.0;
                const int64_t len = args->lengths ? args->lengths[n] : T;
                for (int64_t s = 0; s < len; s++) {
                    int64_t t = r->reverse ? len - 1 - s : s;
                    for (int64_t i = 0; i < Iin; i++) xt[i] = in[(t * N + n) * Iin + i];
                    step(r, xt, h, c, tmp);
                    memcpy(outb + (t * N + n) * DP + d * P, h, (size_t)P * sizeof(double));
                }
                if (len == 0) {
                    memset(h, 0, (size_t)P * sizeof(double));
                    memset(c, 0, (size_t)H * sizeof(double));
                }
            }
        }
        /* Next layer's input = this layer's output. */
        memcpy(in, outb, (size_t)(T * N * DP) * sizeof(double));
        Iin = DP;
    }
    for (int i = 0; i < REF_MAX_LAYERS * 2; i++) free_dir(&dirs[i]);

    out->num_layers = L;
    out->num_directions = D;
    out->hidden_size = H;
    out->output_size = P;
    out->y_len = (size_t)(T * N * DP);
    out->hn_len = (size_t)(L * D * N * P);
    out->cn_len = lstm ? (size_t)(L * D * N * H) : 0;
    out->y = calloc(out->y_len, sizeof(double));
    out->hn = calloc(out->hn_len, sizeof(double));
    out->cn = lstm ? calloc(out->cn_len, sizeof(double)) : NULL;
    if (!out->y || !out->hn || (lstm && !out->cn)) {
        free(in); free(outb); free(hs); free(cs); free(tmp); free(xt);
        ref64_out_free(out);
        return fail(err, errlen, "ref64: oom");
    }
    for (int64_t t = 0; t < T; t++)
        for (int64_t n = 0; n < N; n++)
            for (int64_t d = 0; d < D; d++)
                for (int64_t p = 0; p < P; p++) {
                    double v = outb[(t * N + n) * DP + d * P + p];
                    size_t idx;
                    if (onnx) {
                        idx = desc->onnx_layout ? (size_t)(((n * T + t) * D + d) * H + p)
                                                : (size_t)(((t * D + d) * N + n) * H + p);
                    } else {
                        idx = bm ? (size_t)((n * T + t) * DP + d * P + p)
                                 : (size_t)((t * N + n) * DP + d * P + p);
                    }
                    out->y[idx] = v;
                }
    for (int64_t s = 0; s < L * D; s++)
        for (int64_t n = 0; n < N; n++) {
            for (int64_t p = 0; p < P; p++) {
                size_t idx = (onnx && desc->onnx_layout) ? (size_t)((n * D + s) * H + p)
                                                         : (size_t)((s * N + n) * P + p);
                out->hn[idx] = hs[(s * N + n) * P + p];
            }
            if (lstm)
                for (int64_t k = 0; k < H; k++) {
                    size_t idx = (onnx && desc->onnx_layout) ? (size_t)((n * D + s) * H + k)
                                                             : (size_t)((s * N + n) * H + k);
                    out->cn[idx] = cs[(s * N + n) * H + k];
                }
        }
    free(in); free(outb); free(hs); free(cs); free(tmp); free(xt);
    return 0;
}
