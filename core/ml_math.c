// Elementary functions without libm, see ml_math.h for why.
//
// Float functions are computed in float only: double is emulated in software on every
// microcontroller target, and float is too on Cortex-M0/M3.  Accuracy comes from exact
// argument reduction plus small polynomial corrections added last, so that the final
// rounding dominates the error.  The polynomial coefficients are near-minimax fits made by
// tools/fit_math_coefficients.py.
#include "ml_math.h"

#define ML_INFF (ml_float_from_bits(0x7f800000u))
#define ML_NANF (ml_float_from_bits(0x7fc00000u))

// 2^n as a float, n in [-126, 127].
static inline float pow2f(int n) {
    return ml_float_from_bits((uint32_t)(n + 127) << 23);
}

/******************************************************************************/
// exp

// ln(2) split so that k * LN2_HI is exact for |k| < 256.
#define LN2_HI (0x1.62e4p-1f)
#define LN2_LO (0x1.7f7d1cp-20f)
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
