/* Gate-blocked GEMM for avx2 (nr = vector width): tiles, tails and
 * buffer bounds in simd/x86/gemm-body.h. */
#include "../../kernels.h"
#include "vec-avx2.h"
#include "../gemm-body.h"
