// Elementary functions without libm, see ml_math.h for why. One file per family, so that a
// native module links only what it calls (mpy_ld takes whole object files).
//
// Float functions are computed in float only: double is emulated in software on every
// microcontroller target, and float is too on Cortex-M0/M3.  Accuracy comes from exact
// argument reduction plus small polynomial corrections added last, so that the final
// rounding dominates the error.  The polynomial coefficients are near-minimax fits made by
// tools/fit_math_coefficients.py.
#include "ml_math_internal.h"

/******************************************************************************/
// sqrt

float ml_sqrtf(float x) {
    uint32_t u = ml_float_to_bits(x);
    if (u - 1u >= 0x7f7fffffu) {
        // zero, negative, inf or NaN
        if ((u & 0x7fffffffu) == 0 || u == 0x7f800000u) {
            return x;
        }
        return (u > 0x7f800000u && u < 0x80000000u) ? x + x : ML_NANF;
    }
    // x = m * 2^e with m an integer in [2^23, 2^24)
    int e = (int)(u >> 23);
    uint32_t m = u & 0x007fffffu;
    if (e == 0) {
        e = 1;
        while (m < 0x00800000u) {
            m <<= 1;
            e -= 1;
        }
    } else {
        m |= 0x00800000u;
    }
    e -= 150;
    // Make e odd so that sqrt(x) = sqrt(m * 2^25) * 2^((e - 25) / 2), m in [2^23, 2^25).
    if (((unsigned)e & 1u) == 0) {
        m <<= 1;
        e -= 1;
    }
    // Digit-by-digit square root of the 50-bit radicand m * 2^25 (top bit = bit 31 of
    // m << 7), two radicand bits per step: q grows to 25 bits, rem stays below 2q + 1.
    uint32_t bits = m << 7;
    uint32_t q = 0;
    uint32_t rem = 0;
    for (int i = 0; i < 25; i++) {
        rem = (rem << 2) | (bits >> 30);
        bits <<= 2;
        uint32_t trial = (q << 2) | 1u;
        q <<= 1;
        if (rem >= trial) {
            rem -= trial;
            q |= 1u;
        }
    }
    // q in [2^24, 2^25): drop the last bit with rounding.  A tie is impossible (it would
    // make q odd and m * 2^25 = q^2 odd), so rounding half up is round-to-nearest-even.
    // The mantissa carry, if any, correctly bumps the exponent.
    uint32_t mant = (q + 1u) >> 1;
    return ml_float_from_bits(((uint32_t)((e - 23) / 2 + 149) << 23) + mant);
}

