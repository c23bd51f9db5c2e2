/* Kernel translation unit for scripts/ab-kernels.sh: the AVX2 Elman RNN
 * step body of one revision (include paths pick the revision). */
#include "simd/kernels.h"
#include "simd/x86/avx2/vec-avx2.h"
#include "simd/x86/rnn-step-body.h"
