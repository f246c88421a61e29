// IEEE-754 float and double division for Cortex-M0 (armv6m) native modules.
//
// On armv6m the compiler turns every float or double division into a call to
// __aeabi_fdiv / __aeabi_ddiv.  libgcc's versions of these contain absolute relocations
// into .rodata, which mpy_ld cannot link ("Absolute relocations not supported on ARM").
// Defining them here means mpy_ld does not pull them from libgcc.  All other soft-float
// helpers link fine, so only division is replaced.
//
// The code uses integer arithmetic only: a float or double division here would call these
// very functions.  For the host tests (tests/c/test_softfp.c includes this file with
// ML_SOFTFP_TEST defined) the functions get other names, so they can be compared with the
// hardware divide; in any other build this file compiles to nothing.
//
// Algorithm, the same for both precisions: NaN, infinity and zero operands are dealt with
// first, subnormal significands are normalised, then the significands are divided by
// restoring long division, one quotient bit per step, giving the result's significand plus
// one guard bit; a non-zero remainder is the sticky bit.  A result below the normal range is
// shifted right (shifted-out bits join the sticky bit) before the single round-to-nearest-
// even step.  The biased exponent is added to the rounded significand, so a rounding carry
// moves into the exponent, up to infinity, by itself.
#if defined(__ARM_ARCH_6M__) || defined(ML_SOFTFP_TEST)

#include <stdint.h>

#ifdef ML_SOFTFP_TEST
#define ML_FDIV ml_soft_fdiv
#define ML_DDIV ml_soft_ddiv
#else
#define ML_FDIV __aeabi_fdiv
#define ML_DDIV __aeabi_ddiv
#endif

float ML_FDIV(float n, float d);
double ML_DDIV(double n, double d);

typedef union {
    float f;
    uint32_t u;
} softfp_float_t;

typedef union {
    double d;
    uint64_t u;
} softfp_double_t;

float ML_FDIV(float n, float d) {
    softfp_float_t a, b;
    a.f = n;
    b.f = d;
    uint32_t sign = (a.u ^ b.u) & 0x80000000u;
    uint32_t ua = a.u & 0x7fffffffu;
    uint32_t ub = b.u & 0x7fffffffu;
    const uint32_t inf = 0x7f800000u;
    if (ua > inf || ub > inf || (ua == ub && (ua == 0 || ua == inf))) {
        a.u = 0x7fc00000u; // NaN operand, 0/0 or inf/inf
        return a.f;
    }
    if (ua == inf || ub == 0) {
        a.u = sign | inf;
        return a.f;
    }
    if (ua == 0 || ub == inf) {
        a.u = sign;
        return a.f;
    }

    // Significands as integers in [2^23, 2^24) with their biased exponents.
    int ea = (int)(ua >> 23);
    int eb = (int)(ub >> 23);
    uint32_t ma = ua & 0x007fffffu;
    uint32_t mb = ub & 0x007fffffu;
    if (ea == 0) {
        for (ea = 1; ma < 0x00800000u; ea--) {
            ma <<= 1;
        }
    } else {
        ma |= 0x00800000u;
    }
    if (eb == 0) {
        for (eb = 1; mb < 0x00800000u; eb--) {
            mb <<= 1;
        }
    } else {
        mb |= 0x00800000u;
    }

    // Arrange ma / mb in [1, 2); e is then the biased exponent of the quotient.
    int e = ea - eb + 127;
    if (ma < mb) {
        ma <<= 1;
        e -= 1;
    }
    // 25 quotient bits: q = floor(ma * 2^24 / mb) in [2^24, 2^25), ma keeps the remainder.
    uint32_t q = 0;
    for (int i = 0; i < 25; i++) {
        q <<= 1;
        if (ma >= mb) {
            ma -= mb;
            q |= 1u;
        }
        ma <<= 1;
    }
    uint32_t sticky = ma != 0;

    if (e >= 255) {
        a.u = sign | inf;
        return a.f;
    }
    if (e < 1) {
        // Subnormal (or zero) result: denormalise to exponent 1.
        int sh = 1 - e;
        if (sh > 25) {
            sh = 25;
        }
        sticky |= (q & ((1u << sh) - 1u)) != 0;
        q >>= sh;
        e = 1;
    }
    uint32_t m = q >> 1;
    if ((q & 1u) && (sticky || (m & 1u))) {
        m += 1;
    }
    a.u = sign | (((uint32_t)(e - 1) << 23) + m);
    return a.f;
}

double ML_DDIV(double n, double d) {
    softfp_double_t a, b;
    a.d = n;
    b.d = d;
    uint64_t sign = (a.u ^ b.u) & 0x8000000000000000u;
    uint64_t ua = a.u & 0x7fffffffffffffffu;
    uint64_t ub = b.u & 0x7fffffffffffffffu;
    const uint64_t inf = 0x7ff0000000000000u;
    const uint64_t hidden = 0x0010000000000000u;
    if (ua > inf || ub > inf || (ua == ub && (ua == 0 || ua == inf))) {
        a.u = 0x7ff8000000000000u;
        return a.d;
    }
    if (ua == inf || ub == 0) {
        a.u = sign | inf;
        return a.d;
    }
    if (ua == 0 || ub == inf) {
        a.u = sign;
        return a.d;
    }

    int ea = (int)(ua >> 52);
    int eb = (int)(ub >> 52);
    uint64_t ma = ua & (hidden - 1u);
    uint64_t mb = ub & (hidden - 1u);
    if (ea == 0) {
        for (ea = 1; ma < hidden; ea--) {
            ma <<= 1;
        }
    } else {
        ma |= hidden;
    }
    if (eb == 0) {
        for (eb = 1; mb < hidden; eb--) {
            mb <<= 1;
        }
    } else {
        mb |= hidden;
    }

    int e = ea - eb + 1023;
    if (ma < mb) {
        ma <<= 1;
        e -= 1;
    }
    // 54 quotient bits: q in [2^53, 2^54).
    uint64_t q = 0;
    for (int i = 0; i < 54; i++) {
        q <<= 1;
        if (ma >= mb) {
            ma -= mb;
            q |= 1u;
        }
        ma <<= 1;
    }
    uint64_t sticky = ma != 0;

    if (e >= 2047) {
        a.u = sign | inf;
        return a.d;
    }
    if (e < 1) {
        int sh = 1 - e;
        if (sh > 54) {
            sh = 54;
        }
        sticky |= (q & (((uint64_t)1 << sh) - 1u)) != 0;
        q >>= sh;
        e = 1;
    }
    uint64_t m = q >> 1;
    if ((q & 1u) && (sticky || (m & 1u))) {
        m += 1;
    }
    a.u = sign | (((uint64_t)(e - 1) << 52) + m);
    return a.d;
}

#else

// ISO C wants at least one declaration in a translation unit.
typedef int ml_softfp_unused_t;

#endif
