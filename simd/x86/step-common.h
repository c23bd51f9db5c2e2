/*
 * Loop skeleton shared by the x86 fused steps (include vec-<isa>.h and
 * vmath.h first). For each block of VW units in [j_begin, j_end) (block
 * outer, so its packed weights stay in cache across row tiles) and each
 * tile of MR batch rows (MR = RNNKIT_MR_G<gates>, smaller constant MR for
 * the tail), TILE(M) accumulates every gate of the block for M rows in
 * registers (simd/x86/tile.h) and applies the cell update. The last block
 * of a range ending at h (not a multiple of VW) uses masked loads/stores
 * of xp, c, h, bias and peepholes: nothing is read or written outside
 * units [j_begin, j_end) of the caller's rows. No alignment assumed.
 * Only the standard activations (default_act = 1) are handled; the
 * driver uses the scalar step otherwise.
 */
#ifndef RNNKIT_X86_STEP_COMMON_H
#define RNNKIT_X86_STEP_COMMON_H

#include "tile.h"

#define RNNKIT_STEP_LOOP(a, MRMAX_, TILE)                                           \
    for (int64_t j0 = (a)->j_begin; j0 < (a)->j_end; j0 += RNNKIT_VW) {             \
        int64_t nv = (a)->j_end - j0 < RNNKIT_VW ? (a)->j_end - j0 : RNNKIT_VW;     \
        int64_t blk = j0 / RNNKIT_VW;                                               \
        for (int64_t i0 = 0; i0 < (a)->n; i0 += (MRMAX_)) {                        \
            int64_t mr = (a)->n - i0 < (MRMAX_) ? (a)->n - i0 : (MRMAX_);           \
            _Pragma("GCC diagnostic push")                                          \
            _Pragma("GCC diagnostic ignored \"-Wtype-limits\"")                     \
            RNNKIT_DISPATCH_MR(mr, MRMAX_, TILE)                                    \
            _Pragma("GCC diagnostic pop")                                           \
        }                                                                           \
    }

#define RNNKIT_ROW(p, ld, r) ((p) + (size_t)(i0 + (r)) * (size_t)(ld))

#endif
