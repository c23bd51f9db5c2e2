/*
 * Register-tiled accumulation over packed panels, shared by the x86 gemm
 * and step bodies (include vec-<isa>.h first).
 *
 * A "column" is one vector of VW hidden units of one gate of one block:
 * a pointer into a packed panel and the panel's stride per k (G*VW
 * floats). rnnkit_mk(MR, NV, ...) computes, for MR rows of A (row stride
 * lda) and NV columns,
 *   out[r*RNNKIT_BUF_LD + v*VW + lane] = sum_{k=0..K-1} A[r][k] * P_v[k][lane]
 * as ONE chain of FMAs per element, k = 0, 1, ..., K-1, starting from +0:
 *   acc = 0; acc = fma(A[r][k], P_v[k], acc) for each k.
 * That is the only way any x86 kernel sums over k, whatever the tile
 * shape, the row's place in it, the batch size or the unit range, so an
 * output element is a fixed function of its inputs (results do not
 * depend on how the driver splits rows or units among threads). ILP comes
 * from independent elements: MR*NV chains per tile, with NV chosen per MR
 * (rnnkit_nvmax: GEMV rows take up to 8 columns, i.e. several gates and
 * blocks at once).
 * Tiles (AVX2 16 ymm; AVX-512 32 zmm, RNNKIT_TILE_MR rows): MR >= 3 x 2
 * columns (2 weight loads + MR broadcasts per 2*MR FMAs), MR = 2 x 4,
 * MR = 1 x 8 (weights as FMA memory operands).
 * The k loop is unrolled by RNNKIT_KUNROLL (4: 6x2 tile ~90 GFLOP/s in L1
 * vs ~60 without, on Zen 4 AVX2). Measured limit of these tiles on Zen 4
 * AVX2: a broadcast load takes an FMA-pipe slot, so a tile with b
 * broadcasts per f FMAs peaks near f/(f+b) of FMA peak (6x2: 2/3; the
 * same loop with plain loads instead of broadcasts reaches ~97 %).
 * Columns that all share one stride (every panel but the GRU lbr mix of
 * r,z and n) run a variant with one stride register: with 8 strides the
 * 1 x 8 GEMV tile ran out of GPRs and reloaded 5 strides from the stack
 * every k (measured, 1 x 8 tile in L1, K = 128: 444 -> 222 ns per call,
 * about 4 cycles per k for 8 FMAs + 9 loads, the load-port limit).
 * Reads exactly K floats of each A row and K vectors of each column;
 * no alignment assumed.
 */
#ifndef RNNKIT_X86_TILE_H
#define RNNKIT_X86_TILE_H

#include <assert.h>
#include <stddef.h>

#define RNNKIT_NVMAX 8
#ifndef RNNKIT_KUNROLL
#define RNNKIT_KUNROLL 4
#endif
#define RNNKIT_PRAGMA_(x) _Pragma(#x)
#define RNNKIT_UNROLL_(n) RNNKIT_PRAGMA_(GCC unroll n)
#ifndef RNNKIT_TILE_NV
#define RNNKIT_TILE_NV 2
#endif
/* Row stride of the per-tile result buffer, in floats. */
#define RNNKIT_BUF_LD (RNNKIT_NVMAX * RNNKIT_VW)

#define RNNKIT_CAT3_(a, b, c) a##b##c
#define RNNKIT_CAT3(a, b, c) RNNKIT_CAT3_(a, b, c)
#define RNNKIT_FN(op) RNNKIT_CAT3(rnnkit_f32_, op, RNNKIT_CAT3(_, _, RNNKIT_ISA_SUFFIX))

/* Columns per tile for a tile of mr rows. */
static inline int rnnkit_nvmax(int64_t mr) { return mr == 1 ? 8 : (mr == 2 ? 4 : RNNKIT_TILE_NV); }

/* Software prefetch of the weight streams, for weights far out of cache.
 * A batch-1 tile reads 2 panels (2 streams, 128 B per k each on AVX2);
 * from DRAM, or an L3 shared with other tenants, two hardware-prefetched
 * streams leave the core waiting on misses. Prefetching each stream
 * RNNKIT_PF_BYTES ahead keeps more lines in flight (measured, AVX2 1 x 8
 * GEMV over LSTM H 1024 weights, 16 MiB: 17.5 -> 26.0 and 25.2 -> 35.5
 * GB/s in two runs; 4 MiB and less: no gain, 0-3 % loss, so it is off
 * there). rnnkit_pf_bytes(bytes): whether a kernel whose weights take
 * that many bytes prefetches. RNNKIT_PF_COLS: columns per cache line
 * (columns of one panel are consecutive vectors). Only tiles whose
 * columns share one stride prefetch: the GRU (linear_before_reset = 1)
 * tiles that mix r, z with n columns do not (tried: no measurable gain,
 * GRU H 1024 batch 1 and 8). */
#ifndef RNNKIT_PF_BYTES
#define RNNKIT_PF_BYTES 4096
#endif
#ifndef RNNKIT_PF_MIN_BYTES
#define RNNKIT_PF_MIN_BYTES (8 * 1024 * 1024)
#endif
#define RNNKIT_PF_COLS (RNNKIT_VW * 4 >= 64 ? 1 : 64 / (RNNKIT_VW * 4))
static inline int rnnkit_pf_bytes(double bytes) { return bytes >= (double)RNNKIT_PF_MIN_BYTES; }

RNNKIT_VINLINE void rnnkit_mk(const int MR, const int NV, const int UNI, int64_t K,
                              const float *a, int64_t lda, const float *const *pv,
                              const int64_t *ps, float *out, const int PF) {
    V acc[RNNKIT_TILE_MR][RNNKIT_NVMAX];
    const float *ar[RNNKIT_TILE_MR];
    const float *p[RNNKIT_NVMAX];
    int64_t s[RNNKIT_NVMAX];
    RNNKIT_UNROLL_(16)
    for (int r = 0; r < MR; r++) ar[r] = a + (size_t)r * (size_t)lda;
    /* UNI: every column has stride ps[0]. One stride register instead
     * of NV (GEMV tiles: NV = 8 strides would spill and be reloaded from
     * the stack every k, 5 extra loads per 8 FMAs). */
    RNNKIT_UNROLL_(16)
    for (int v = 0; v < NV; v++) p[v] = pv[v], s[v] = UNI ? ps[0] : ps[v];
    RNNKIT_UNROLL_(16)
    for (int r = 0; r < MR; r++)
        RNNKIT_UNROLL_(16)
        for (int v = 0; v < NV; v++) acc[r][v] = vzero();
    RNNKIT_UNROLL_(RNNKIT_KUNROLL)
    for (int64_t kk = 0; kk < K; kk++) {
        V w[RNNKIT_NVMAX];
        /* PF: fetch each column's stream RNNKIT_PF_BYTES ahead, one
         * prefetch per cache line of a k row (rnnkit_pf_bytes). */
        if (PF) {
            RNNKIT_UNROLL_(16)
            for (int v = 0; v < NV; v += RNNKIT_PF_COLS)
                __builtin_prefetch((const char *)p[v] + RNNKIT_PF_BYTES, 0, 3);
        }
        RNNKIT_UNROLL_(16)
        for (int v = 0; v < NV; v++) {
            w[v] = vload(p[v]);
            p[v] += s[v];
        }
        RNNKIT_UNROLL_(16)
        for (int r = 0; r < MR; r++) {
            V x = vset1(ar[r][kk]);
            RNNKIT_UNROLL_(16)
            for (int v = 0; v < NV; v++) acc[r][v] = vfma(x, w[v], acc[r][v]);
        }
    }
    RNNKIT_UNROLL_(16)
    for (int r = 0; r < MR; r++)
        RNNKIT_UNROLL_(16)
        for (int v = 0; v < NV; v++) vstore(out + r * RNNKIT_BUF_LD + v * RNNKIT_VW, acc[r][v]);
}

/* One case of a tile switch: rows M, columns N, stride mode S (0: per
 * column strides, -1: one runtime stride, -2: the same with prefetch). */
#define RNNKIT_TC_(M, N, S)                                                          \
    case (M)*16 + (N):                                                               \
        if ((M) > RNNKIT_TILE_MR) break;                                             \
        rnnkit_mk(M, N, (S) != 0, K, a, lda, p, s, out, (S) == -2);                  \
        break;
/* The tile shapes the kernels use (rnnkit_nvmax): short, 1 x 1..8 and
 * 2 x 1..4; tall, 3..TILE_MR x 1..2. */
#define RNNKIT_SHORT_CASES_X_(TC, S)                                                  \
    TC(1, 1, S) TC(1, 2, S) TC(1, 3, S) TC(1, 4, S) TC(1, 5, S) TC(1, 6, S) TC(1, 7, S) \
    TC(1, 8, S) TC(2, 1, S) TC(2, 2, S) TC(2, 3, S) TC(2, 4, S)
#define RNNKIT_TALL_CASES_X_(TC, S)                                                   \
    TC(3, 1, S) TC(3, 2, S) TC(4, 1, S) TC(4, 2, S) TC(5, 1, S) TC(5, 2, S) TC(6, 1, S) \
    TC(6, 2, S) TC(7, 1, S) TC(7, 2, S) TC(8, 1, S) TC(8, 2, S) TC(9, 1, S) TC(9, 2, S) \
    TC(10, 1, S) TC(10, 2, S) TC(11, 1, S) TC(11, 2, S) TC(12, 1, S) TC(12, 2, S)
#define RNNKIT_ALL_CASES_(S) \
    RNNKIT_SHORT_CASES_X_(RNNKIT_TC_, S) RNNKIT_TALL_CASES_X_(RNNKIT_TC_, S)
#define RNNKIT_TILE_SWITCH_(NAME, CASES, S)                                                     \
    __attribute__((noinline, unused)) static void NAME(int64_t mr, int nv, int64_t K,           \
                                                       const float *a, int64_t lda,             \
                                                       const float *const *p,                   \
                                                       const int64_t *s, float *out) {          \
        _Pragma("GCC diagnostic push");                                                         \
        _Pragma("GCC diagnostic ignored \"-Wtype-limits\"");                                    \
        switch ((int)mr * 16 + nv) {                                                            \
            CASES(S)                                                                            \
        default:                                                                                \
            assert(0 && "tile shape");                                                          \
            break;                                                                              \
        }                                                                                       \
        _Pragma("GCC diagnostic pop");                                                          \
    }
RNNKIT_TILE_SWITCH_(rnnkit_tile_mixed, RNNKIT_ALL_CASES_, 0)
RNNKIT_TILE_SWITCH_(rnnkit_tile_uni, RNNKIT_ALL_CASES_, -1)
RNNKIT_TILE_SWITCH_(rnnkit_tile_pf, RNNKIT_ALL_CASES_, -2)

/* The gemm's tile (simd/x86/gemm-body.h): MR rows of A, packed k-major
 * (PK: element (r, k) at pa[k*RNNKIT_TILE_MR + r]) or rows at stride lda
 * (!PK: at pa[r*lda + k]), times NV columns of one
 * stride s, each element continuing its one chain of FMAs over k (as in
 * rnnkit_mk) from its partial sum in C: column v's row r is at
 * oc[v] + r*ldo; first: start from +0 instead; last: store sum + bias
 * (bv[v], or +0 where bv is NULL) instead of the partial sum. */
RNNKIT_VINLINE void rnnkit_mk_pk(const int MR, const int NV, const int PK, int64_t K,
                                 const float *pa, int64_t lda, const float *const *pv, int64_t s,
                                 float *const *oc, int64_t ldo, const float *const *bv, int first,
                                 int last) {
    V acc[RNNKIT_TILE_MR][RNNKIT_NVMAX];
    const float *p[RNNKIT_NVMAX], *ar[(RNNKIT_TILE_MR + 2) / 3];
    /* Rows of A in place (!PK): one base per three rows, row r at
     * ar[r / 3] + (r % 3) * lda, so that a k reads them as base + lda*s
     * (s = 0, 1, 2: x86 scaled-index addressing). With a pointer or an
     * offset per row the 6-row tile needed 6 registers, and inlined into
     * the gemm GCC reloaded 3 of them from the stack every k. */
    RNNKIT_UNROLL_(16)
    for (int q = 0; q < (MR + 2) / 3; q++) ar[q] = PK ? pa : pa + (size_t)(3 * q) * (size_t)lda;
    RNNKIT_UNROLL_(16)
    for (int v = 0; v < NV; v++) p[v] = pv[v];
    RNNKIT_UNROLL_(16)
    for (int r = 0; r < MR; r++)
        RNNKIT_UNROLL_(16)
        for (int v = 0; v < NV; v++)
            acc[r][v] = first ? vzero() : vload(oc[v] + (size_t)r * (size_t)ldo);
    /* Short tiles (MR <= 2: up to 8 columns; a gemm's last 1-2 rows, or
     * a gemm of 1-2 rows over weights of 8 MiB and more, see
     * gemm-body.h) read column v's k row at p[v] + o, one offset o for
     * all columns: with a pointer per column, each k took NV pointer
     * additions on top of its NV FMAs (1 x 8 tile, GCC 12: 71
     * instructions per 4 k, 47 with the offset). */
    int64_t o = 0;
    RNNKIT_UNROLL_(RNNKIT_KUNROLL)
    for (int64_t kk = 0; kk < K; kk++) {
        V w[RNNKIT_NVMAX];
        RNNKIT_UNROLL_(16)
        for (int v = 0; v < NV; v++) {
            if (MR <= 2) {
                w[v] = vload(p[v] + o);
            } else {
                w[v] = vload(p[v]);
                p[v] += s;
            }
        }
        o += s;
        /* Opaque to the compiler, which would otherwise turn p[v] + o
         * back into NV pointers stepped every k. */
        if (MR <= 2) __asm__("" : "+r"(o));
        RNNKIT_UNROLL_(16)
        for (int r = 0; r < MR; r++) {
            V x = vset1(PK ? pa[kk * RNNKIT_TILE_MR + r] : ar[r / 3][(r % 3) * lda]);
            RNNKIT_UNROLL_(16)
            for (int v = 0; v < NV; v++) acc[r][v] = vfma(x, w[v], acc[r][v]);
        }
        if (!PK) {
            RNNKIT_UNROLL_(16)
            for (int q = 0; q < (MR + 2) / 3; q++) {
                ar[q]++;
                /* Opaque: keeps one base per three rows (see ar). */
                __asm__("" : "+r"(ar[q]));
            }
        }
    }
    RNNKIT_UNROLL_(16)
    for (int v = 0; v < NV; v++) {
        V b = last && bv && bv[v] ? vload(bv[v]) : vzero();
        RNNKIT_UNROLL_(16)
        for (int r = 0; r < MR; r++)
            vstore(oc[v] + (size_t)r * (size_t)ldo, last ? vadd(acc[r][v], b) : acc[r][v]);
    }
}
#define RNNKIT_TCPK_(M, N, S)                                                   \
    case (M)*16 + (N):                                                          \
        if ((M) > RNNKIT_TILE_MR) break;                                        \
        rnnkit_mk_pk(M, N, S, K, pa, lda, p, s, oc, ldo, bv, first, last);     \
        break;
#define RNNKIT_TILE_PK_SWITCH_(NAME, PK)                                                     \
    __attribute__((noinline, unused)) static void NAME(                                      \
        int64_t mr, int nv, int64_t K, const float *pa, int64_t lda, const float *const *p,   \
        int64_t s, float *const *oc, int64_t ldo, const float *const *bv, int first,          \
        int last) {                                                                          \
        _Pragma("GCC diagnostic push");                                                      \
        _Pragma("GCC diagnostic ignored \"-Wtype-limits\"");                                 \
        (void)lda;                                                                           \
        switch ((int)mr * 16 + nv) {                                                         \
            RNNKIT_SHORT_CASES_X_(RNNKIT_TCPK_, PK)                                          \
            RNNKIT_TALL_CASES_X_(RNNKIT_TCPK_, PK)                                           \
        default:                                                                             \
            assert(0 && "tile shape");                                                       \
            break;                                                                           \
        }                                                                                    \
        _Pragma("GCC diagnostic pop");                                                       \
    }
/* A packed k-major (lda unused), or rows of A at stride lda. */
RNNKIT_TILE_PK_SWITCH_(rnnkit_tile_pk, 1)
RNNKIT_TILE_PK_SWITCH_(rnnkit_tile_ck, 0)

/* GEMV-row tiles (MR = 1, 2) over the step panels' own structure: NB
 * blocks, each with GA columns of family A (consecutive vectors of one
 * panel, k stride GA*VW: block b's column g at ba + b*psa + g*VW) and GB
 * of family B (the same with bb, psb, GB; GB = 0: none), in buf order
 * b*(GA+GB) + g. The same sums as rnnkit_mk (one chain of FMAs per
 * element over k = 0..K-1 from +0), with one pointer per panel instead
 * of one per column: the 1 x 8 tile of rnnkit_mk kept 8 column pointers
 * and GCC spilled some of them, reloading them from the stack every k.
 * Measured, one 1 x 8 tile in L1 (K 32, weights 8 KiB), AVX2, GFLOP/s:
 * LSTM columns (2 blocks x 4 gates) 51-55 -> 75; RNN columns (8 panels)
 * 54 -> 65; from L2 (K 256) both 46-49, unchanged (L2 bandwidth).
 * Chained batch-1 steps (scripts/ab-kernels.sh HEAD, old -> new, median
 * ns): LSTM H 32 457 -> 406, GRU H 32 354 -> 317; in another run LSTM
 * H 64 1044 -> 946, GRU H 64 713 -> 690, LSTM H 128 3681 -> 3548. */
RNNKIT_VINLINE void rnnkit_mk_pp(const int MR, const int NB, const int GA, const int GB, int64_t K,
                                 const float *a, int64_t lda, const float *ba, int64_t psa,
                                 const float *bb, int64_t psb, float *out) {
    V acc[2][RNNKIT_NVMAX];
    const float *pa[RNNKIT_NVMAX], *pb[RNNKIT_NVMAX];
    const int G = GA + GB;
    RNNKIT_UNROLL_(16)
    for (int b = 0; b < NB; b++) pa[b] = ba + b * psa, pb[b] = GB ? bb + b * psb : ba;
    RNNKIT_UNROLL_(16)
    for (int r = 0; r < MR; r++)
        RNNKIT_UNROLL_(16)
        for (int v = 0; v < NB * G; v++) acc[r][v] = vzero();
    /* The K % KUNROLL odd k first, then the unrolled body: the same k
     * order (each chain still runs k = 0, 1, ..., K-1), and the sums stay
     * in registers to the end. With the odd k last, and without the
     * unroll pragmas on the loops over rows, blocks and gates, GCC 12 kept
     * acc in memory between the loops and copied it out through the
     * stack (~60 instructions per call, and store-forwarding round trips
     * on the step's critical path). */
    const int64_t kr = K % RNNKIT_KUNROLL;
    int64_t kk = 0;
    for (; kk < kr; kk++) {
        V x[2];
        RNNKIT_UNROLL_(16)
        for (int r = 0; r < MR; r++) x[r] = vset1(a[r * lda + kk]);
        RNNKIT_UNROLL_(16)
        for (int b = 0; b < NB; b++) {
            RNNKIT_UNROLL_(16)
            for (int g = 0; g < G; g++) {
                V w = g < GA ? vload(pa[b] + g * RNNKIT_VW) : vload(pb[b] + (g - GA) * RNNKIT_VW);
                RNNKIT_UNROLL_(16)
                for (int r = 0; r < MR; r++) acc[r][b * G + g] = vfma(x[r], w, acc[r][b * G + g]);
            }
            pa[b] += GA * RNNKIT_VW;
            if (GB) pb[b] += GB * RNNKIT_VW;
        }
    }
    for (; kk + RNNKIT_KUNROLL <= K; kk += RNNKIT_KUNROLL) {
        RNNKIT_UNROLL_(16)
        for (int u = 0; u < RNNKIT_KUNROLL; u++) {
            V x[2];
            RNNKIT_UNROLL_(16)
            for (int r = 0; r < MR; r++) x[r] = vset1(a[r * lda + kk + u]);
            RNNKIT_UNROLL_(16)
            for (int b = 0; b < NB; b++)
                RNNKIT_UNROLL_(16)
                for (int g = 0; g < G; g++) {
                    V w = g < GA ? vload(pa[b] + (u * GA + g) * RNNKIT_VW)
                                 : vload(pb[b] + (u * GB + g - GA) * RNNKIT_VW);
                    RNNKIT_UNROLL_(16)
                    for (int r = 0; r < MR; r++) acc[r][b * G + g] = vfma(x[r], w, acc[r][b * G + g]);
                }
        }
        RNNKIT_UNROLL_(16)
        for (int b = 0; b < NB; b++) {
            pa[b] += RNNKIT_KUNROLL * GA * RNNKIT_VW;
            if (GB) pb[b] += RNNKIT_KUNROLL * GB * RNNKIT_VW;
        }
    }
    RNNKIT_UNROLL_(16)
    for (int r = 0; r < MR; r++)
        RNNKIT_UNROLL_(16)
        for (int v = 0; v < NB * G; v++) vstore(out + r * RNNKIT_BUF_LD + v * RNNKIT_VW, acc[r][v]);
}
/* rnnkit_tile_pp_<GA><GB>(mr, nb, K, a, lda, ba, bb, out): rnnkit_mk_pp
 * for the panels of a step (panel b + 1 follows panel b: psa = K*GA*VW,
 * psb = K*GB*VW), mr 1..2 and nb up to rnnkit_nvmax(mr) / (GA + GB)
 * blocks (2 x 6 for GA + GB = 3). One function per panel shape, with a
 * dense switch: a general entry that matched the shape at run time cost
 * ~60 cycles per call, as much as a 1 x 8 tile at K = 32 gains. */
#define RNNKIT_TPP_(M, B, A, C)                                                      \
    case ((M)-1) * 8 + (B)-1:                                                        \
        if ((B) * ((A) + (C)) <= ((M) == 1 ? 8 : 6))                                  \
            rnnkit_mk_pp(M, B, A, C, K, a, lda, ba, K * (A)*RNNKIT_VW, bb,            \
                         K * (C)*RNNKIT_VW, out);                                    \
        else                                                                         \
            assert(0 && "panel tile shape");                                         \
        break;
#define RNNKIT_TILE_PP_FN_(A, C)                                                            \
    __attribute__((noinline, unused)) static void RNNKIT_CAT3(rnnkit_tile_pp_, A, C)(      \
        int64_t mr, int64_t nb, int64_t K, const float *a, int64_t lda, const float *ba,     \
        const float *bb, float *out) {                                                      \
        switch ((int)(mr - 1) * 8 + (int)nb - 1) {                                          \
            RNNKIT_TPP_(1, 1, A, C) RNNKIT_TPP_(1, 2, A, C) RNNKIT_TPP_(1, 3, A, C)          \
            RNNKIT_TPP_(1, 4, A, C) RNNKIT_TPP_(1, 5, A, C) RNNKIT_TPP_(1, 6, A, C)          \
            RNNKIT_TPP_(1, 7, A, C) RNNKIT_TPP_(1, 8, A, C) RNNKIT_TPP_(2, 1, A, C)          \
            RNNKIT_TPP_(2, 2, A, C) RNNKIT_TPP_(2, 3, A, C) RNNKIT_TPP_(2, 4, A, C)          \
        default:                                                                            \
            assert(0 && "panel tile shape");                                                \
            break;                                                                          \
        }                                                                                   \
    }
RNNKIT_TILE_PP_FN_(1, 0)
RNNKIT_TILE_PP_FN_(2, 0)
RNNKIT_TILE_PP_FN_(2, 1)
RNNKIT_TILE_PP_FN_(3, 0)
RNNKIT_TILE_PP_FN_(4, 0)

/* rnnkit_mk with constant MR = mr, NV = nv (nv <= rnnkit_nvmax(mr),
 * mr <= RNNKIT_TILE_MR): the gemm-like tiles of batch >= 3 steps and
 * the prefetching tiles of weights far out of cache (batch 1-2 steps
 * otherwise run rnnkit_tile_pp_*). */
RNNKIT_VINLINE void rnnkit_tile_run(int64_t mr, int nv, int64_t K, const float *a, int64_t lda,
                                    const float *const *p, const int64_t *s, float *out, int pf) {
    int uni = 1;
    for (int v = 1; v < nv; v++) uni &= s[v] == s[0];
    if (pf && uni)
        rnnkit_tile_pf(mr, nv, K, a, lda, p, s, out);
    else if (!uni)
        rnnkit_tile_mixed(mr, nv, K, a, lda, p, s, out);
    else
        rnnkit_tile_uni(mr, nv, K, a, lda, p, s, out);
}

/* All ncols columns (p, s) for mr rows of A into buf (row stride
 * RNNKIT_BUF_LD, column c at c*VW); pf: prefetch the columns' streams
 * ahead (rnnkit_pf_bytes). */
RNNKIT_VINLINE void rnnkit_tile_cols(int64_t mr, int ncols, int64_t K, const float *a,
                                     int64_t lda, const float *const *p, const int64_t *s,
                                     float *buf, int pf) {
    const int nvm = rnnkit_nvmax(mr);
    for (int c0 = 0; c0 < ncols; c0 += nvm) {
        int nv = ncols - c0 < nvm ? ncols - c0 : nvm;
        rnnkit_tile_run(mr, nv, K, a, lda, p + c0, s + c0, buf + c0 * RNNKIT_VW, pf);
    }
}

/* Blocks per column group for a kernel with gc columns per block and
 * batch n: enough columns for the widest tile, an even count when
 * possible (MR >= 3 tiles take columns two at a time). */
static inline int64_t rnnkit_group_blocks(int64_t n, int gc) {
    int nvm = rnnkit_nvmax(n < RNNKIT_TILE_MR ? n : RNNKIT_TILE_MR);
    int nb = nvm / gc;
    if (nb < 1) nb = 1;
    if ((nb * gc) % 2) nb *= 2;
    return nb;
}

/* Load/store of the nv valid lanes of a block (nv == VW: plain access). */
RNNKIT_VINLINE V rnnkit_ld(const float *p, int64_t nv, VT t) {
    return nv == RNNKIT_VW ? vload(p) : vload_t(p, t);
}
RNNKIT_VINLINE void rnnkit_st(float *p, V v, int64_t nv, VT t) {
    if (nv == RNNKIT_VW)
        vstore(p, v);
    else
        vstore_t(p, v, t);
}
/* Clamp to [-c, c] keeping NaN (data as the second operand). */
RNNKIT_VINLINE V rnnkit_vclip(V x, float c) { return vmin(vset1(c), vmax(vset1(-c), x)); }

#endif
