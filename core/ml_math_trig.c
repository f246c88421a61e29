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
// sin, cos

// Bits of 2/pi, 32 per word, after one word of zeros that stands for the bits before the
// binary point (needed when the argument's exponent is small).
static const uint32_t two_over_pi_bits[8] = {
    0x00000000, 0xa2f9836e, 0x4e441529, 0xfc2757d1,
    0xf534ddc0, 0xdb629599, 0x3c439041, 0xfe5163ab,
};

static uint32_t window_word(int bit) {
    int w = bit >> 5;
    int s = bit & 31;
    uint32_t v = two_over_pi_bits[w] << s;
    if (s) {
        v |= two_over_pi_bits[w + 1] >> (32 - s);
    }
    return v;
}

// Exact argument reduction for finite a = |x| >= pi/4 (Payne-Hanek style, in integers):
// a = n * pi/2 + r with |r| <= pi/4; returns n mod 4 and r as hi + lo.
static int reduce_pio2(uint32_t ua, float *hi, float *lo) {
    // a = m * 2^(eb - 150).  Bit i of 2/pi (value 2^-i) contributes m * 2^(eb - 150 - i),
    // a multiple of 4 for i <= eb - 152, so only bits from i0 = eb - 151 on matter.  A window
    // of 96 of them times 4m puts the binary point of the product at bit 96.
    int eb = (int)(ua >> 23);
    uint32_t m4 = ((ua & 0x007fffffu) | 0x00800000u) << 2;
    int bit = eb - 151 + 31; // position of bit i0 in two_over_pi_bits
    uint64_t p0 = (uint64_t)m4 * window_word(bit);
    uint64_t p1 = (uint64_t)m4 * window_word(bit + 32);
    uint64_t p2 = (uint64_t)m4 * window_word(bit + 64);
    // Bits 32..95 of the product form the top 64 fraction bits; bits 96.. give n.
    uint64_t mid = p1 + (p2 >> 32);
    uint64_t frac = (p0 << 32) + mid;
    uint32_t n = (uint32_t)(p0 >> 32) + (frac < mid ? 1u : 0u);
    // Round n to nearest so the remaining fraction is in [-1/2, 1/2].
    bool neg = false;
    if (frac >> 63) {
        n += 1;
        frac = -frac;
        neg = true;
    }
    // r = frac * 2^-64 * pi/2: normalise, then multiply the top 32 bits by pi/2 * 2^31.
    int sh = 0;
    if ((frac >> 32) == 0) {
        frac <<= 32;
        sh = 32;
    }
    if (frac == 0) {
        *hi = *lo = 0.0f;
        return (int)(n & 3);
    }
    while ((frac >> 63) == 0) {
        frac <<= 1;
        sh += 1;
    }
    uint32_t t = (uint32_t)(((frac >> 32) * 0xc90fdaa2u) >> 32); // 31 or 32 bits
    uint32_t low_mask = (t >> 31) ? 0xffu : 0x7fu; // bits below a 24-bit float mantissa
    float scale = pow2f(-31 - sh);
    float h = (float)(t & ~low_mask) * scale;
    float l = (float)(t & low_mask) * scale;
    *hi = neg ? -h : h;
    *lo = neg ? -l : l;
    return (int)(n & 3);
}

// sin(r + rlo) for |r| <= pi/4, rlo tiny: sin(r) + rlo * cos(r).
static float sin_kernel(float r, float rlo) {
    float z = r * r;
    float p = z * (-0x1.555556p-3f + z * (0x1.111174p-7f + z * (-0x1.a05956p-13f
        + z * 0x1.7c2d52p-19f)));
    return r + (r * p + rlo * (1.0f - 0.5f * z));
}

// cos(r + rlo) for |r| <= pi/4: cos(r) - rlo * sin(r), with 1 - r^2/2 split exactly.
static float cos_kernel(float r, float rlo) {
    float z = r * r;
    float hz = 0.5f * z;
    float w = 1.0f - hz;
    float p = z * z * (0x1.55554ap-5f + z * (-0x1.6c0c28p-10f + z * 0x1.99e80cp-16f));
    return w + (((1.0f - w) - hz) + (p - r * rlo));
}

float ml_sinf(float x) {
    uint32_t ua = ml_float_to_bits(x) & 0x7fffffffu;
    if (ua < 0x3f490fdbu) {
        // |x| < pi/4; below 2^-12 sin(x) rounds to x (this also keeps the sign of zero)
        return ua < 0x39800000u ? x : sin_kernel(x, 0.0f);
    }
    if (ua >= 0x7f800000u) {
        return x - x; // NaN for inf and NaN
    }
    float hi, lo;
    float s;
    switch (reduce_pio2(ua, &hi, &lo)) {
        case 0:
            s = sin_kernel(hi, lo);
            break;
        case 1:
            s = cos_kernel(hi, lo);
            break;
        case 2:
            s = -sin_kernel(hi, lo);
            break;
        default:
            s = -cos_kernel(hi, lo);
            break;
    }
    return x < 0.0f ? -s : s;
}

float ml_cosf(float x) {
    uint32_t ua = ml_float_to_bits(x) & 0x7fffffffu;
    if (ua < 0x3f490fdbu) {
        return cos_kernel(x, 0.0f);
    }
    if (ua >= 0x7f800000u) {
        return x - x;
    }
    float hi, lo;
    switch (reduce_pio2(ua, &hi, &lo)) {
        case 0:
            return cos_kernel(hi, lo);
        case 1:
            return -sin_kernel(hi, lo);
        case 2:
            return -cos_kernel(hi, lo);
        default:
            return sin_kernel(hi, lo);
    }
}

