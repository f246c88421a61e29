// Helpers shared by the ml_math_*.c files.
#ifndef MICROLEARN_ML_MATH_INTERNAL_H
#define MICROLEARN_ML_MATH_INTERNAL_H

#include "ml_math.h"

#define ML_INFF (ml_float_from_bits(0x7f800000u))
#define ML_NANF (ml_float_from_bits(0x7fc00000u))

// ln(2) split so that k * LN2_HI is exact for |k| < 256.
#define LN2_HI (0x1.62e4p-1f)
#define LN2_LO (0x1.7f7d1cp-20f)

// 2^n as a float, n in [-126, 127].
static inline float pow2f(int n) {
    return ml_float_from_bits((uint32_t)(n + 127) << 23);
}

#endif
