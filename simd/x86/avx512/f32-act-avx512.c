/* Vector exp, sigmoid, tanh for avx512: body and accuracy bounds in
 * simd/x86/act-body.h and simd/x86/vmath.h. */
#include "../../kernels.h"
#include "vec-avx512.h"
#include "../act-body.h"
