/* Kernel tables and CPU detection (not public). */
#ifndef RNNKIT_DISPATCH_H
#define RNNKIT_DISPATCH_H

#include "rnnkit.h"
#include "simd/kernels.h"

/* The table new models use (forced, RNNKIT_ISA, else best). */
const rnnkit_kernels *rk_kernels_active(void);
/* RNNKIT_ISA names an ISA this CPU or build lacks (and no ISA was forced
 * through rnnkit_isa_select): an error with a message, else OK. */
rnnkit_status rk_kernels_check_env(void);
/* NULL if unknown, not compiled in, or not supported by this CPU. */
const rnnkit_kernels *rk_kernels_for(const char *name);
/* Why a present ISA was not usable ("" if nothing to say). */
const char *rk_isa_unavailable_reason(void);

#endif
