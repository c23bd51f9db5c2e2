/* Vector exp, sigmoid, tanh for avx2: body and accuracy bounds in
 * simd/x86/act-body.h and simd/x86/vmath.h. */
#include "../../kernels.h"
#include "vec-avx2.h"
#include "../act-body.h"
