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
// log, log2, log10

// For finite x > 0: x = 2^e * (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)); returns f (exact).
static float log_reduce(float x, int *e_out) {
    uint32_t u = ml_float_to_bits(x);
    int e = 0;
    if (u < 0x00800000u) {
        // subnormal: scale into the normal range first
        u = ml_float_to_bits(x * 0x1p23f);
        e = -23;
    }
    e += (int)(u >> 23) - 127;
    u = (u & 0x007fffffu) | 0x3f800000u; // mantissa in [1, 2)
    if (u > 0x3fb504f3u) {
        // above sqrt(2): halve it, so that log(1 + f) never cancels against e * log(2)
        u -= 0x00800000u;
        e += 1;
    }
    *e_out = e;
    return ml_float_from_bits(u) - 1.0f;
}

// log(1 + f) - f, for f from log_reduce.
static float log1p_tail(float f) {
    float p = 0x1.555548p-2f + f * (-0x1.000006p-2f + f * (0x1.99a476p-3f
        + f * (-0x1.555c44p-3f + f * (0x1.233ba2p-3f + f * (-0x1.fc28ccp-4f
            + f * (0x1.e6c01p-4f + f * (-0x1.de01ccp-4f + f * 0x1.14730ep-4f)))))));
    float z = f * f;
    return z * f * p - 0.5f * z;
}

// Results for x <= 0, inf and NaN; returns false if x needs the normal path.
static bool log_special(float x, float *res) {
    uint32_t u = ml_float_to_bits(x);
    if (u - 1u < 0x7f7fffffu) {
        return false; // positive, finite, non-zero
    }
    if ((u & 0x7fffffffu) == 0) {
        *res = -ML_INFF;
    } else if (u >> 31) {
        *res = ML_NANF;
    } else {
        *res = x + x; // +inf or NaN
    }
    return true;
}

// The result is e * K + log(1 + f) * M for the base-dependent constants K = log_b(2) and
// M = log_b(e).  The large part e * K_HI + f_hi * M_HI is formed from exact products and its
// rounding error is recovered with Fast2Sum (|e * K_HI| >= |f_hi * M_HI| unless e = 0), so
// the only large rounding is the final addition.
static float log_scaled(float x, float k_hi, float k_lo, float m_hi, float m_lo) {
    int e;
    float f = log_reduce(x, &e);
    float ef = (float)e;
    float f_hi = ml_float_from_bits(ml_float_to_bits(f) & 0xfffff000u); // 12 bits
    float a = ef * k_hi;
    float b = f_hi * m_hi;
    float hi = a + b;
    float err = b - (hi - a);
    float lo = (f - f_hi) * m_hi + f * m_lo + log1p_tail(f) * (m_hi + m_lo) + ef * k_lo;
    return hi + (lo + err);
}

float ml_logf(float x) {
    float res;
    if (log_special(x, &res)) {
        return res;
    }
    // Same as log_scaled with M = 1, where f itself is exact.
    int e;
    float f = log_reduce(x, &e);
    float ef = (float)e;
    float a = ef * LN2_HI;
    float hi = a + f;
    float err = f - (hi - a);
    return hi + ((log1p_tail(f) + ef * LN2_LO) + err);
}

float ml_log2f(float x) {
    float res;
    if (log_special(x, &res)) {
        return res;
    }
    // K = 1; M = log2(e) = 0x1.714p+0 + 0x1.47652cp-12
    return log_scaled(x, 1.0f, 0.0f, 0x1.714p+0f, 0x1.47652cp-12f);
}

float ml_log10f(float x) {
    float res;
    if (log_special(x, &res)) {
        return res;
    }
    // K = log10(2) = 0x1.344p-2 + 0x1.3509f8p-18 (e * K_HI exact for |e| < 2^13);
    // M = log10(e) = 0x1.bcap-2 + 0x1.7b1526p-14
    return log_scaled(x, 0x1.344p-2f, 0x1.3509f8p-18f, 0x1.bcap-2f, 0x1.7b1526p-14f);
}

