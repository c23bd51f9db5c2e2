/* Kernel translation unit for scripts/ab-kernels.sh: the AVX2 (or, with
 * AB_AVX512, the AVX-512) LSTM step body of one revision (include paths
 * pick the revision). */
#include "simd/kernels.h"
#if AB_AVX512
#include "simd/x86/avx512/vec-avx512.h"
#else
#include "simd/x86/avx2/vec-avx2.h"
#endif
#include "simd/x86/lstm-step-body.h"
