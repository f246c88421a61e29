// Elementary functions for the microlearn core.
//
// Why the core has its own math instead of <math.h>: the core is linked into MicroPython
// native modules (.mpy) by tools/mpy_ld.py, and the system libm cannot be linked that way
// on any architecture.  glibc's libm (x64, x86) needs errno, TLS and ifunc resolution;
// newlib's libm (all ARM variants) has a non-empty .data section, which native modules
// cannot have.  So the core must not call any libm function, and everything it needs is
// implemented here with plain float/double arithmetic (which mpy_ld resolves from libgcc on
// soft-float targets) and integer bit manipulation.  On armv6m even libgcc's float and
// double division cannot be linked (absolute relocations), see ml_softfp.c.
//
// Accuracy (max error against the correctly rounded result, measured by tests/c/test_math.c):
// ml_expf, ml_logf <= 1 ulp; ml_log2f, ml_log10f, ml_sinf, ml_cosf, ml_exp <= 2 ulp;
// ml_tanhf, ml_sigmoidf <= 3 ulp; ml_sqrtf is correctly rounded.  Special values (NaN,
// infinities, signed zeros, subnormals) follow C99 Annex F where it matters.
#ifndef MICROLEARN_ML_MATH_H
#define MICROLEARN_ML_MATH_H

#include <stdbool.h>
#include <stdint.h>

float ml_expf(float x);
float ml_logf(float x);
float ml_log2f(float x);
float ml_log10f(float x);
float ml_sqrtf(float x);
float ml_sinf(float x);
float ml_cosf(float x);
float ml_tanhf(float x);
float ml_sigmoidf(float x);  // 1 / (1 + exp(-x)), no overflow for large |x|
double ml_exp(double x);
// Double precision, for the families that compute in float64 as scikit-learn does
// (ml_math_double.c): ml_log, ml_sqrt <= 1 ulp; ml_pow_pos(x, p) = x^p for x >= 0;
// ml_tanh within 4e-16 absolute.
double ml_log(double x);
double ml_sqrt(double x);
double ml_pow_pos(double x, double p);
double ml_tanh(double x);
double ml_log1p(double x);
// log(sum(exp(v))) as scikit-learn computes it (the largest values counted apart).
double ml_logsumexp(const double *v, uint32_t n);

// Bit-level helpers.  A union is used for type punning (valid C99) so that no memcpy call
// is emitted at low optimisation levels.
typedef union {
    float f;
    uint32_t u;
} ml_float_bits_t;

static inline uint32_t ml_float_to_bits(float x) {
    ml_float_bits_t b;
    b.f = x;
    return b.u;
}

static inline float ml_float_from_bits(uint32_t u) {
    ml_float_bits_t b;
    b.u = u;
    return b.f;
}

static inline float ml_fabsf(float x) {
    return ml_float_from_bits(ml_float_to_bits(x) & 0x7fffffffu);
}

static inline bool ml_isnanf(float x) {
    return (ml_float_to_bits(x) & 0x7fffffffu) > 0x7f800000u;
}

static inline bool ml_isinff(float x) {
    return (ml_float_to_bits(x) & 0x7fffffffu) == 0x7f800000u;
}

static inline bool ml_isfinitef(float x) {
    return (ml_float_to_bits(x) & 0x7fffffffu) < 0x7f800000u;
}

static inline bool ml_isfinite_d(double x) {
    return x - x == 0.0;  // inf - inf and NaN - NaN are NaN
}

// Largest integral value not greater than x; exact for all inputs, keeps -0, inf and NaN.
static inline float ml_floorf(float x) {
    uint32_t u = ml_float_to_bits(x);
    int e = (int)((u >> 23) & 0xff) - 127;
    if (e >= 23) {
        return x; // already integral, or inf/NaN
    }
    if (e < 0) {
        // |x| < 1
        if ((u & 0x7fffffffu) == 0) {
            return x;
        }
        return (u >> 31) ? -1.0f : 0.0f;
    }
    uint32_t frac = 0x007fffffu >> e;
    if ((u & frac) == 0) {
        return x;
    }
    if (u >> 31) {
        // negative: round the magnitude up; a carry into the exponent is still correct
        u += frac;
    }
    return ml_float_from_bits(u & ~frac);
}

#endif // MICROLEARN_ML_MATH_H
