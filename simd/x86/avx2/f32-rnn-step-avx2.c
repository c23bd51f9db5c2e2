/* Fused RNN step for avx2 (nr = vector width): tiles, tails and buffer
 * bounds in simd/x86/rnn-step-body.h and simd/x86/step-common.h. */
#include "../../kernels.h"
#include "vec-avx2.h"
#include "../rnn-step-body.h"
