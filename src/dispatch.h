/* Kernel tables and CPU detection (not public). */
#ifndef RNNKIT_DISPATCH_H
#define RNNKIT_DISPATCH_H

#include "rnnkit.h"
#include "simd/kernels.h"

/* The table new models use (forced, RNNKIT_ISA, else best). */
const rnnkit_kernels *rk_kernels_active(void);
const rnnkit_kernels *rk_kernels_scalar(void);
/* NULL if unknown, not compiled in, or not supported by this CPU. */
const rnnkit_kernels *rk_kernels_for(const char *name);
/* Why a present ISA was not usable ("" if nothing to say). */
const char *rk_isa_unavailable_reason(void);

#endif
