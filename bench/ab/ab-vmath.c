/* Kernel translation unit for scripts/ab-kernels.sh: the AVX2 exp,
 * sigmoid and tanh kernels (and the ONNX act kernel) of one revision
 * (include paths pick the revision). */
#include "simd/kernels.h"
#include "simd/x86/avx2/vec-avx2.h"
#include "simd/x86/act-body.h"
