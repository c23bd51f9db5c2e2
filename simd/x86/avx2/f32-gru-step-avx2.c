/* Fused GRU step for avx2 (nr = vector width): tiles, tails and buffer
 * bounds in simd/x86/gru-step-body.h and simd/x86/step-common.h. */
#include "../../kernels.h"
#include "vec-avx2.h"
#include "../gru-step-body.h"
