/*
 * NEON fused GRU step (semantics in simd/kernels.h), both reset variants,
 * nr = 8. Tile: MR batch rows (2, and 1 for an odd last row) x NB blocks
 * of 8 units; per block the r,z panel gives MR*4 accumulators and the n
 * panel MR*2. NB is chosen so there are ~8 independent FMA chains or more
 * per panel pass: r,z (and n, lbr=1) 2 rows x 2 blocks (lbr=0: 1 block),
 * 1 row x 4 blocks (lbr=0: 2); pass 2 (n) 2 rows x 2 blocks, 1 row x 4.
 * A unit range whose block count is not a multiple of NB ends with tiles
 * of 2 and 1 blocks. Each sum is one FMA chain over k in order
 * (rk_panel_mac) whatever the tile, so a row's result does not depend on
 * the batch size, its place in it or the unit range.
 * linear_before_reset = 1: one pass, n = tanh(xp_n + r*(W_n h + b_hn)).
 * linear_before_reset = 0: like the scalar kernel, pass 1 writes r*h_prev
 * to scratch and z to h_out for units [j_begin, j_end), pass 2 reads the
 * whole scratch row, so every unit's pass 1 must be done first: one call
 * covers every unit, or a->gru_pass runs one pass at a time.
 * The last block may be partial: xp, b_hn, h_prev[j], scratch and h_out
 * are read/written only for units < j_end through bounded copies; packed
 * panels are read whole (zero-padded). No alignment assumed. Non-default
 * (ONNX) activations run here too (rk_act_f32x4, neon-util.h); another
 * nr goes to the scalar kernel.
 */
#include "neon-util.h"

/* Pass 1 (lbr=1: the whole step) of rows r0..r0+MR-1 (h_prev rows hp) x
 * the NB blocks from unit j0. */
RK_NEON_INLINE void gru_tile1(const int MR, const int NB, const int LBR, const int STD,
                              const rnnkit_step_args *a, const float *const *hp, int64_t r0,
                              int64_t j0) {
    const int64_t H = a->h, K = a->k;
    const float *prz[4], *pn[4];
    for (int b = 0; b < NB; b++) {
        size_t blk = (size_t)(j0 / RK_NEON_NR + b);
        prz[b] = a->w + blk * (size_t)K * 2 * RK_NEON_NR;
        pn[b] = a->w_n + blk * (size_t)K * RK_NEON_NR;
    }
    float32x4_t acc[16], accn[16];
    rk_panel_mac(MR, NB, 4, K, prz, 2 * RK_NEON_NR, hp, acc);
    if (LBR) rk_panel_mac(MR, NB, 2, K, pn, RK_NEON_NR, hp, accn);
    for (int r = 0; r < MR; r++) {
        size_t row = (size_t)(r0 + r);
        const float *xp = a->xp + row * (size_t)a->ld_xp;
        float *ho = a->h_out + row * (size_t)a->ld_h_out;
        for (int b = 0; b < NB; b++)
            for (int q = 0; q < 2; q++) {
                int64_t j = j0 + b * RK_NEON_NR + 4 * q, cnt = a->j_end - j;
                if (cnt <= 0) break;
                const float32x4_t *v = acc + (r * NB + b) * 4;
                float32x4_t rg = RK_ACT(
                    STD, a, 0, rk_sigmoid_f32x4, rk_clip(vaddq_f32(v[q], rk_ld_part(xp + j, cnt)), a->clip));
                float32x4_t zg = RK_ACT(
                    STD, a, 0, rk_sigmoid_f32x4, rk_clip(vaddq_f32(v[2 + q], rk_ld_part(xp + H + j, cnt)), a->clip));
                float32x4_t hv = rk_ld_part(hp[r] + j, cnt);
                if (LBR) {
                    float32x4_t hn = accn[(r * NB + b) * 2 + q];
                    if (a->b_hn) hn = vaddq_f32(hn, rk_ld_part(a->b_hn + j, cnt));
                    float32x4_t ng = RK_ACT(STD, a, 1, rk_tanh_f32x4, rk_clip(
                        vaddq_f32(rk_ld_part(xp + 2 * H + j, cnt), vmulq_f32(rg, hn)), a->clip));
                    float32x4_t h = vaddq_f32(vmulq_f32(vsubq_f32(vdupq_n_f32(1.0f), zg), ng),
                                              vmulq_f32(zg, hv));
                    rk_st_part(ho + j, cnt, h);
                } else {
                    rk_st_part(a->scratch + row * (size_t)K + j, cnt, vmulq_f32(rg, hv));
                    rk_st_part(ho + j, cnt, zg);
                }
            }
    }
}

RK_NEON_INLINE void gru_pass1(const int MR, const int LBR, const int STD, const rnnkit_step_args *a,
                              int64_t r0) {
    /* r,z: MR*NB*4 chains; lbr=1 also n: MR*NB*2. */
    const int NB = LBR ? (MR == 1 ? 4 : 2) : (MR == 1 ? 2 : 1);
    const float *hp[4];
    for (int r = 0; r < MR; r++) hp[r] = a->h_prev + (size_t)(r0 + r) * (size_t)a->ld_h_prev;
    const int64_t nb = rk_blocks(a);
#define RK_GRU_TILE1_(nbk, b) gru_tile1(MR, nbk, LBR, STD, a, hp, r0, a->j_begin + (b)*RK_NEON_NR)
    RK_NEON_TILES(NB, nb, a->reverse, RK_GRU_TILE1_);
#undef RK_GRU_TILE1_
}

/* Pass 2 (lbr=0) of rows r0..r0+MR-1 (scratch rows rh) x the NB blocks
 * from unit j0. */
RK_NEON_INLINE void gru_tile2(const int MR, const int NB, const int STD, const rnnkit_step_args *a,
                              const float *const *rh, int64_t r0, int64_t j0) {
    const int64_t H = a->h, K = a->k;
    const float *pn[4];
    for (int b = 0; b < NB; b++)
        pn[b] = a->w_n + (size_t)(j0 / RK_NEON_NR + b) * (size_t)K * RK_NEON_NR;
    float32x4_t accn[16];
    rk_panel_mac(MR, NB, 2, K, pn, RK_NEON_NR, rh, accn);
    for (int r = 0; r < MR; r++) {
        size_t row = (size_t)(r0 + r);
        const float *xp = a->xp + row * (size_t)a->ld_xp;
        const float *hp = a->h_prev + row * (size_t)a->ld_h_prev;
        float *ho = a->h_out + row * (size_t)a->ld_h_out;
        for (int b = 0; b < NB; b++)
            for (int q = 0; q < 2; q++) {
                int64_t j = j0 + b * RK_NEON_NR + 4 * q, cnt = a->j_end - j;
                if (cnt <= 0) break;
                float32x4_t zg = rk_ld_part(ho + j, cnt);
                float32x4_t ng = RK_ACT(
                    STD, a, 1, rk_tanh_f32x4,
                    rk_clip(vaddq_f32(rk_ld_part(xp + 2 * H + j, cnt),
                                      accn[(r * NB + b) * 2 + q]),
                            a->clip));
                float32x4_t h = vaddq_f32(vmulq_f32(vsubq_f32(vdupq_n_f32(1.0f), zg), ng),
                                          vmulq_f32(zg, rk_ld_part(hp + j, cnt)));
                rk_st_part(ho + j, cnt, h);
            }
    }
}

RK_NEON_INLINE void gru_pass2(const int MR, const int STD, const rnnkit_step_args *a, int64_t r0) {
    const int NB = MR == 1 ? 4 : 2; /* MR*NB*2 chains */
    const float *rh[4];
    for (int r = 0; r < MR; r++) rh[r] = a->scratch + (size_t)(r0 + r) * (size_t)a->k;
    const int64_t nb = rk_blocks(a);
#define RK_GRU_TILE2_(nbk, b) gru_tile2(MR, nbk, STD, a, rh, r0, a->j_begin + (b)*RK_NEON_NR)
    RK_NEON_TILES(NB, nb, a->reverse, RK_GRU_TILE2_);
#undef RK_GRU_TILE2_
}

/* Every row, pass 1 (lbr=1: the step) for one value of lbr. */
RK_NEON_INLINE void gru_rows1(const int LBR, const int STD, const rnnkit_step_args *a) {
    int64_t r = 0;
    for (; r + 2 <= a->n; r += 2) gru_pass1(2, LBR, STD, a, r);
    if (r < a->n) gru_pass1(1, LBR, STD, a, r);
}

/* STD: the standard activations (default_act) or a->act, as a
 * compile-time constant (RK_ACT). */
RK_NEON_INLINE void gru_step(const int STD, const rnnkit_step_args *a) {
    if (a->linear_before_reset) {
        gru_rows1(1, STD, a);
        return;
    }
    if (a->gru_pass != 2) gru_rows1(0, STD, a);
    if (a->gru_pass == 1) return;
    int64_t r = 0;
    for (; r + 2 <= a->n; r += 2) gru_pass2(2, STD, a, r);
    if (r < a->n) gru_pass2(1, STD, a, r);
}

void rnnkit_f32_gru_step__neon(const rnnkit_step_args *a) {
    if (a->nr != RK_NEON_NR) {
        rnnkit_f32_gru_step__scalar(a);
        return;
    }
    if (a->default_act)
        gru_step(1, a);
    else
        gru_step(0, a);
}
