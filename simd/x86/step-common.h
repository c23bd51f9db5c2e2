/*
 * Loop skeleton shared by the x86 fused steps (include vec-<isa>.h and
 * vmath.h first). Units [j_begin, j_end) are taken in groups of
 * rnnkit_group_blocks(n, columns per block) blocks of VW units (one block
 * for batch >= 3 tiles, several for GEMV rows so that one tile has up to
 * 8 independent columns); for each group (outer, so its packed weights
 * stay in cache across row tiles) and each tile of up to RNNKIT_TILE_MR
 * batch rows, the gate sums of every column of the group go to a small
 * L1 buffer (simd/x86/tile.h: one fixed FMA chain over k per element),
 * and the cell update runs on that buffer while it is hot. The last block
 * of a range ending at h (not a multiple of VW) uses masked loads/stores
 * of xp, c, h, bias and peepholes: nothing is read or written outside
 * units [j_begin, j_end) of the caller's rows. No alignment assumed.
 * Non-default activations (default_act = 0) go through rnnkit_vact
 * (simd/x86/vmath.h), every ONNX kind.
 *
 * RNNKIT_STEP_GROUPS(a, GA, GB, A, LDA, COLS, UPDATE, PREF): GC = GA + GB
 * columns per block, GA of them consecutive vectors of the block's panel
 * of the weights (k stride GA*VW) and GB of a second panel (the GRU's n
 * gate, linear_before_reset); batch 1-2 tiles read them through
 * rnnkit_tile_pp_<GA><GB> (simd/x86/tile.h), one pointer per panel;
 * COLS(bb, blk, p, s) fills p[bb*GC + ..], s[..] for block blk of the
 * group; UPDATE(i0, mr, g0, nbg) does the cell update of the group's nbg
 * blocks (units g0.., block bb at g0 + bb*VW) for rows i0..i0+mr-1 from
 * buf (row r, column bb*GC+g at buf[r*RNNKIT_BUF_LD + (bb*GC+g)*VW]).
 * A is h_in / lda. RNNKIT_EACH_BLOCK turns a per-block update
 * U(i0, mr, bb, j0, nv) into one. The LSTM and GRU updates instead walk
 * the mr*nbg (row, block) items of a tile in phases (all sigmoids, then
 * all tanhs, ...), so independent activations sit next to each other in
 * program order and overlap: an activation is a ~30-instruction
 * dependent chain, and item after item left the core waiting on one
 * chain at a time (measured: batch 1, H 64, the LSTM update took as long
 * as the recurrent product).
 */
#ifndef RNNKIT_X86_STEP_COMMON_H
#define RNNKIT_X86_STEP_COMMON_H

#include <stdint.h>

#include "tile.h"

/* Items of one update call: (row, block) pairs, at most this many (a
 * group has at most 2 blocks for batch >= 3 and at most 4 x 2 rows for
 * batch 2; batch 1 calls are capped to it below). */
#define RNNKIT_MAX_ITEMS (2 * RNNKIT_TILE_MR)

/* Blocks per update call: a group (gnb blocks) for batch > 1; for batch
 * 1, several groups' tiles (one row: their sums fill buf linearly) so
 * that one update call has up to RNNKIT_MAX_ITEMS independent blocks. */
static inline int64_t rnnkit_update_blocks(int64_t n, int64_t gnb, int gc) {
    if (n != 1) return gnb;
    int64_t cap = (RNNKIT_TILE_MR * RNNKIT_NVMAX) / gc;
    if (cap > RNNKIT_MAX_ITEMS) cap = RNNKIT_MAX_ITEMS;
    cap = cap / gnb * gnb;
    return cap > gnb ? cap : gnb;
}

/* Prefetch the lines of rows i0..i0+mr-1 of base (row stride ld floats)
 * that hold floats [j0, j0 + len): the update's inputs and outputs of a
 * row tile, fetched before the tile's FMA loop (thousands of cycles) so
 * that the update does not wait on them. At batch >= 3 the update walks
 * rows 4H floats apart, one block at a time: hundreds of short streams
 * that the hardware prefetcher does not follow, and xp (T*N*4H floats)
 * is far out of cache (measured, LSTM N 64 H 512 AVX2: the update's xp
 * loads took 35 % of the step). A prefetch never faults. */
RNNKIT_VINLINE void rnnkit_pf_(const float *p, const int WRITE) {
    if (WRITE)
        __builtin_prefetch(p, 1, 3);
    else
        __builtin_prefetch(p, 0, 3);
}
/* A row's span takes one or two lines at batch >= 3 (one group of 1-2
 * blocks): its first and last float are prefetched directly, and only a
 * longer span loops over the lines between. The loop over every line of
 * every span took ~90 instructions per (row, block) item, a fifth of the
 * LSTM update's (callgrind, batch 64, H 64). */
RNNKIT_VINLINE void rnnkit_prefetch_rows(const float *base, int64_t ld, int64_t i0, int64_t mr,
                                         int64_t j0, int64_t len, const int WRITE) {
    if (len <= 0) return;
    const float *row = base + (size_t)i0 * (size_t)ld + j0;
    for (int64_t r = 0; r < mr; r++, row += ld) {
        rnnkit_pf_(row, WRITE);
        rnnkit_pf_(row + len - 1, WRITE);
        for (int64_t o = 16; o < len - 1; o += 16) rnnkit_pf_(row + o, WRITE);
    }
}

/* Row tiles of a batch of n >= 3 rows, for groups of cols columns: nt =
 * ceil(n / TILE_MR) tiles, either the rows dealt evenly (the first n % nt
 * tiles one row more) or full tiles and the rest in the last. A last tile of 1-2 rows runs the GEMV tiles, with few
 * independent FMA chains (a 2 x 2 RNN tile: 4), so rows are dealt evenly
 * (8 rows: 4 + 4 instead of 6 + 2)... except where that short tile takes
 * 4 or more of the group's columns in one pass over the weights: the
 * even tiles of >= 3 rows take 2 columns per pass and read the weights
 * more often (LSTM 7 rows: 6 + 1 reads them 3 times, 4 + 3 four times).
 * Measured, AVX2 steps, `AB_STEPS_ONLY=1 AB_BATCH="7 8 13 20 64"
 * scripts/ab-kernels.sh HEAD 256 512 1024`, one process, median GFLOP/s,
 * full tiles + rest -> this rule: N 8 H 512 RNN 68.3 -> 80.6, GRU
 * (linear_before_reset = 0) 65.7 -> 75.3, GRU lbr 1 75.7 -> 77.6; N 13
 * H 512 RNN 66.5 -> 80.5; N 64 within 3 %. Dealing LSTM's 7 rows evenly
 * too ran N 7 H 512 at 57.2 against 62.3: hence the exception. The split
 * does not change an output element's FMA chain (simd/x86/tile.h). */
/* The split as *nt tiles, tile t taking min(*base + (t < *extra), rows
 * left) rows; computed once per step (a batch of one tile divides
 * nothing: batch-1 steps of H 32 take ~3000 instructions). */
static inline void rnnkit_row_tiles(int64_t n, int64_t cols, int64_t *nt, int64_t *base,
                                    int64_t *extra) {
    if (n <= RNNKIT_TILE_MR) {
        *nt = 1, *base = n, *extra = 0;
        return;
    }
    *nt = (n + RNNKIT_TILE_MR - 1) / RNNKIT_TILE_MR;
    const int64_t r = n % RNNKIT_TILE_MR;
    if (r >= 1 && r <= 2 && cols >= 4 && cols <= rnnkit_nvmax(r))
        *base = RNNKIT_TILE_MR, *extra = 0; /* full tiles and the rest */
    else
        *base = n / *nt, *extra = n % *nt; /* even */
}

/* PREF(i0, mr, g0, nbs): prefetch a row tile's update data (batch >= 3).
 * a->reverse: the same groups and tiles, visited from the last down, so
 * that a step alternating with the forward order starts on the weights
 * the previous step read last, still in L1/L2 (measured, AVX2 batch-1
 * chained steps, same kernel with and without the alternation in one
 * process: LSTM H 64 1172 -> 1086 ns, H 256 21.4 -> 18.0 us, GRU H 64
 * 797 -> 720 ns, H 256 13.7 -> 12.6 us, medians; batch 8 and 64 and
 * H 512-1024 unchanged within noise). */
#define RNNKIT_STEP_GROUPS(a, GA, GB, A, LDA, COLS, UPDATE, PREF)                                  \
    do {                                                                                       \
        enum { GC = (GA) + (GB) };                                                             \
        float buf[RNNKIT_TILE_MR * RNNKIT_BUF_LD] __attribute__((aligned(64)));               \
        const int64_t gnb = rnnkit_group_blocks((a)->n, (GC));                                 \
        const int64_t unb = rnnkit_update_blocks((a)->n, gnb, (GC));                           \
        const int pf_ = rnnkit_pf_bytes(4.0 * (double)(GC) * (double)(a)->h * (double)(a)->k); \
        /* Batch 1-2 without prefetch: only GEMV tiles, which take the     \
         * group's first panels (block b's follow at b * k * GA*VW and     \
         * b * k * GB*VW), so only block 0's columns are set. */           \
        const int lean_ = (a)->n <= 2 && !pf_;                                                 \
        const int64_t ng_ = ((a)->j_end - (a)->j_begin + unb * RNNKIT_VW - 1) / (unb * RNNKIT_VW); \
        int64_t nt_, base_, extra_;                                                            \
        rnnkit_row_tiles((a)->n, gnb * (GC), &nt_, &base_, &extra_);                           \
        for (int64_t q_ = 0; q_ < ng_; q_++) {                                               \
            const int64_t g0 = (a)->j_begin + ((a)->reverse ? ng_ - 1 - q_ : q_) * unb * RNNKIT_VW; \
            int64_t nbs = ((a)->j_end - g0 + RNNKIT_VW - 1) / RNNKIT_VW;                      \
            if (nbs > unb) nbs = unb;                                                          \
            /* Every block's columns, set once for all the row tiles. */                \
            const float *p[RNNKIT_TILE_MR * RNNKIT_NVMAX];                                     \
            int64_t s[RNNKIT_TILE_MR * RNNKIT_NVMAX];                                          \
            for (int64_t bb = 0; bb < (lean_ ? 1 : nbs); bb++) {                               \
                int64_t blk = g0 / RNNKIT_VW + bb;                                             \
                COLS(bb, blk, p, s);                                                           \
            }                                                                                  \
            for (int64_t t_ = 0, i0 = 0; t_ < nt_; t_++) {                                     \
                int64_t mr = base_ + (t_ < extra_);                                            \
                if (mr > (a)->n - i0) mr = (a)->n - i0;                                        \
                if ((a)->n >= 3) PREF(i0, mr, g0, nbs);                                          \
                const int64_t nsb_ = (nbs + gnb - 1) / gnb;                                     \
                for (int64_t u_ = 0; u_ < nsb_; u_++) {                                         \
                    const int64_t sb = ((a)->reverse ? nsb_ - 1 - u_ : u_) * gnb;               \
                    const int64_t nbg = nbs - sb < gnb ? nbs - sb : gnb;                       \
                    if (mr <= 2 && !pf_)                                                       \
                        RNNKIT_CAT3(rnnkit_tile_pp_, GA, GB)(                                  \
                            mr, nbg, (a)->k, (A) + (size_t)i0 * (size_t)(LDA), (LDA),          \
                            p[0] + (size_t)sb * (size_t)(a)->k * (GA)*RNNKIT_VW,               \
                            (GB) ? p[(GA)] + (size_t)sb * (size_t)(a)->k * (GB)*RNNKIT_VW : NULL, \
                            buf + sb * (GC)*RNNKIT_VW);                                        \
                    else                                                                       \
                        rnnkit_tile_cols(mr, (int)(nbg * (GC)), (a)->k,                        \
                                         (A) + (size_t)i0 * (size_t)(LDA), (LDA),              \
                                         p + sb * (GC), s + sb * (GC),                         \
                                         buf + sb * (GC)*RNNKIT_VW, pf_);                      \
                }                                                                              \
                UPDATE(i0, mr, g0, nbs);                                                       \
                i0 += mr;                                                                      \
            }                                                                                  \
        }                                                                                      \
    } while (0)

/* Batch 1, whole blocks, weights not prefetched (rnnkit_pf_bytes, with
 * gc columns per block), the standard cell: the steps run
 * RNNKIT_STEP_B1 in a small function of their own instead of
 * RNNKIT_STEP_GROUPS. */
static inline int rnnkit_step_b1_ok(const rnnkit_step_args *a, int gc) {
    return a->n == 1 && (a->j_end - a->j_begin) % RNNKIT_VW == 0 &&
           !rnnkit_pf_bytes(4.0 * (double)gc * (double)a->h * (double)a->k);
}

/* RNNKIT_STEP_GROUPS for one row of A (batch 1) and whole blocks
 * (rnnkit_step_b1_ok): the same groups, tiles, order and sums, with
 * nothing computed per step that the shape fixes. PA, PB: family A and B
 * panels of block 0 (block b's at PA + b*k*GA*VW, PB + b*k*GB*VW; PB
 * unused when GB = 0). UPDATE1(g0, nbs): the plain update of the group's
 * nbs blocks from unit g0 (its sums in buf, as RNNKIT_STEP_GROUPS leaves
 * them). The generic skeleton, inlined into a step function that holds
 * every variant, kept its loop state on the stack: ~270 instructions per
 * step at batch 1, H 32, about a quarter of an LSTM step's time
 * (measured with the product and the update both skipped). */
#define RNNKIT_STEP_B1(a, GA, GB, A, LDA, PA, PB, UPDATE1)                                     \
    do {                                                                                     \
        enum { GC = (GA) + (GB) };                                                           \
        float buf[RNNKIT_TILE_MR * RNNKIT_BUF_LD] __attribute__((aligned(64)));             \
        const int64_t gnb = rnnkit_group_blocks(1, (GC));                                    \
        const int64_t unb = rnnkit_update_blocks(1, gnb, (GC));                              \
        const int64_t k_ = (a)->k, bb_ = (a)->j_begin / RNNKIT_VW;                           \
        const int64_t nb_ = ((a)->j_end - (a)->j_begin) / RNNKIT_VW;                         \
        const int64_t ng_ = (nb_ + unb - 1) / unb;                                           \
        const int rev_ = (a)->reverse;                                                       \
        for (int64_t q_ = 0; q_ < ng_; q_++) {                                               \
            const int64_t o_ = (rev_ ? ng_ - 1 - q_ : q_) * unb;                             \
            const int64_t b0 = bb_ + o_, nbs = nb_ - o_ < unb ? nb_ - o_ : unb;              \
            const int64_t nsb_ = (nbs + gnb - 1) / gnb;                                      \
            for (int64_t u_ = 0; u_ < nsb_; u_++) {                                          \
                const int64_t sb = (rev_ ? nsb_ - 1 - u_ : u_) * gnb;                        \
                const int64_t nbg = nbs - sb < gnb ? nbs - sb : gnb;                         \
                RNNKIT_CAT3(rnnkit_tile_pp_, GA, GB)(                                        \
                    1, nbg, k_, (A), (LDA), (PA) + (size_t)(b0 + sb) * (size_t)k_ * (GA)*RNNKIT_VW, \
                    (GB) ? (PB) + (size_t)(b0 + sb) * (size_t)k_ * (GB)*RNNKIT_VW : NULL,    \
                    buf + sb * (GC)*RNNKIT_VW);                                              \
            }                                                                                \
            UPDATE1(b0 * RNNKIT_VW, nbs);                                                    \
        }                                                                                    \
    } while (0)

/* Units of a group's nbg blocks from g0 that lie in the call's range. */
#define RNNKIT_GROUP_LEN(a, g0, nbg) \
    ((nbg)*RNNKIT_VW < (a)->j_end - (g0) ? (nbg)*RNNKIT_VW : (a)->j_end - (g0))

/* Valid units of the block starting at unit j0 (VW, or fewer at j_end). */
static inline int64_t rnnkit_block_nv(const rnnkit_step_args *a, int64_t j0) {
    return a->j_end - j0 < RNNKIT_VW ? a->j_end - j0 : RNNKIT_VW;
}

#define RNNKIT_EACH_BLOCK(a, U, i0, mr, g0, nbg)     \
    for (int64_t bb = 0; bb < (nbg); bb++) {          \
        int64_t j0 = (g0) + bb * RNNKIT_VW;           \
        U(i0, mr, bb, j0, rnnkit_block_nv((a), j0));  \
    }


/* The plain updates' item loop (simd/x86/\*-step-body.h): ITEMS(NB, b)
 * runs the NB items from item b, NB a compile-time constant: four at a
 * time, then the 1-3 left, so every call is unrolled with its count. */
#define RNNKIT_BY_FOUR(n, ITEMS)                    \
    do {                                            \
        const int64_t n_ = (n);                     \
        int64_t b_ = 0;                             \
        for (; b_ + 4 <= n_; b_ += 4) ITEMS(4, b_); \
        switch (n_ - b_) {                          \
        case 3: ITEMS(3, b_); break;                \
        case 2: ITEMS(2, b_); break;                \
        case 1: ITEMS(1, b_); break;                \
        default: break;                             \
        }                                           \
    } while (0)

#define RNNKIT_ROW(p, ld, r) ((p) + (size_t)(i0 + (r)) * (size_t)(ld))
/* Gate sum of row r, column c of the current group. */
#define RNNKIT_ACC(r, c) vload(buf + (r) * RNNKIT_BUF_LD + (c) * RNNKIT_VW)

#endif
