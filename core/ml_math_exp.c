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
// exp

#define LOG2E (0x1.715476p+0f)

float ml_expf(float x) {
    if (ml_isnanf(x)) {
        return x + x;
    }
    if (x > 0x1.62e42ep+6f) {
        return ML_INFF; // above ln(FLT_MAX)
    }
    if (x < -0x1.9fe368p+6f) {
        return 0.0f; // below ln(2^-150): rounds to zero
    }
    // x = k * ln2 + r, |r| <= ln2/2.  x - k * LN2_HI is exact (Sterbenz).
    float kf = x * LOG2E;
    int k = (int)(kf + (kf < 0.0f ? -0.5f : 0.5f));
    float r = (x - (float)k * LN2_HI) - (float)k * LN2_LO;
    // exp(r) = 1 + r + r^2 * P(r); 1 + r is split exactly into hi + lo (Fast2Sum, |r| < 1)
    // so the only large rounding is the final addition.
    float p = 0x1.fffffcp-2f + r * (0x1.555492p-3f + r * (0x1.5558b8p-5f
        + r * (0x1.1239aap-7f + r * 0x1.6a452ep-10f)));
    float hi = 1.0f + r;
    float lo = (1.0f - hi) + r;
    float y = hi + (lo + r * r * p);
    // Scale by 2^k in two steps when 2^k is not a normal float; y is in [0.7, 1.42].
    if (k > 127) {
        return (y * 2.0f) * pow2f(k - 1);
    }
    if (k < -125) {
        return (y * pow2f(k + 64)) * pow2f(-64); // one rounding, into the subnormal range
    }
    return y * pow2f(k);
}

// Same scheme in double.  k * LN2D_HI is exact for |k| < 2048.
#define LN2D_HI (0x1.62e42fefa38p-1)
#define LN2D_LO (0x1.ef35793c7673p-45)
#define LOG2ED (0x1.71547652b82fep+0)

typedef union {
    double d;
    uint64_t u;
} ml_double_bits_t;

static inline double pow2d(int n) {
    ml_double_bits_t b;
    b.u = (uint64_t)(n + 1023) << 52;
    return b.d;
}

double ml_exp(double x) {
    if (x != x) {
        return x + x;
    }
    if (x > 0x1.62e42fefa39efp+9) {
        return pow2d(1023) * 2.0; // above ln(DBL_MAX): +inf
    }
    if (x < -0x1.74910d52d3051p+9) {
        return 0.0; // below ln(2^-1075)
    }
    double kd = x * LOG2ED;
    int k = (int)(kd + (kd < 0.0 ? -0.5 : 0.5));
    double r = (x - (double)k * LN2D_HI) - (double)k * LN2D_LO;
    double p = 0x1.000000000000ap-1 + r * (0x1.5555555555507p-3 + r * (0x1.5555555550736p-5
        + r * (0x1.11111111256d2p-7 + r * (0x1.6c16c1845ac81p-10 + r * (0x1.a01a0133d2ae2p-13
            + r * (0x1.a019999fd8867p-16 + r * (0x1.71df145c2b2a1p-19 + r * (0x1.28adcf0814107p-22
                + r * 0x1.ad95fe6e3211ap-26))))))));
    double hi = 1.0 + r;
    double lo = (1.0 - hi) + r;
    double y = hi + (lo + r * r * p);
    if (k > 1023) {
        return (y * 2.0) * pow2d(k - 1);
    }
    if (k < -1021) {
        return (y * pow2d(k + 512)) * pow2d(-512);
    }
    return y * pow2d(k);
}

/******************************************************************************/
// tanh, sigmoid

float ml_tanhf(float x) {
    float a = ml_fabsf(x);
    if (!(a < 0x1.193ea8p-1f)) {
        // |x| >= atanh(1/2) (or NaN): tanh = 1 - 2 / (exp(2|x|) + 1) has no cancellation
        // because the subtracted term is at most 1/2.
        if (ml_isnanf(x)) {
            return x + x;
        }
        float t = 1.0f;
        if (a < 9.1f) {
            t = 1.0f - 2.0f / (ml_expf(2.0f * a) + 1.0f);
        } // else tanh rounds to 1
        return x < 0.0f ? -t : t;
    }
    if (a < 0x1p-13f) {
        return x; // tanh(x) rounds to x (this also keeps the sign of zero)
    }
    float z = x * x;
    float p = -0x1.55554ap-2f + z * (0x1.110ceep-3f + z * (-0x1.b91e7ep-5f
        + z * (0x1.58e518p-6f + z * -0x1.9921ap-8f)));
    return x + x * z * p;
}

float ml_sigmoidf(float x) {
    if (ml_isnanf(x)) {
        return x + x;
    }
    // exp of a non-positive argument only, so it never overflows.
    if (x >= 0.0f) {
        return 1.0f / (1.0f + ml_expf(-x));
    }
    float e = ml_expf(x);
    return e / (1.0f + e);
}
