// Double-precision log, sqrt, pow and tanh without libm (see ml_math.h for why), for the
// model families that compute as scikit-learn does, in float64: log-likelihoods, distances,
// kernels. Accuracy is measured against libm by tests/c/test_math.c.
#include "ml_math_internal.h"

typedef union {
    double d;
    uint64_t u;
} dbits_t;

static inline uint64_t dbl_bits(double x) {
    dbits_t b;
    b.d = x;
    return b.u;
}

static inline double dbl_from_bits(uint64_t u) {
    dbits_t b;
    b.u = u;
    return b.d;
}

#define DBL_INF (dbl_from_bits(0x7ff0000000000000ull))
#define DBL_NAN (dbl_from_bits(0x7ff8000000000000ull))

/******************************************************************************/
// log

// ln(2) split so that e * LN2D_HI is exact for |e| < 2048.
#define LN2D_HI (0x1.62e42fefa38p-1)
#define LN2D_LO (0x1.ef35793c7673p-45)

double ml_log(double x) {
    uint64_t u = dbl_bits(x);
    if (x != x || u == 0x7ff0000000000000ull) {
        return x + x;  // NaN, +inf
    }
    if (x <= 0.0) {
        return x == 0.0 ? -DBL_INF : DBL_NAN;
    }
    int e = (int)(u >> 52);
    if (e == 0) {
        // subnormal: scale into the normal range first
        u = dbl_bits(x * 0x1p54);
        e = (int)(u >> 52) - 54;
    }
    e -= 1022;
    // m in [0.5, 1), then moved to [sqrt(1/2), sqrt(2))
    double m = dbl_from_bits((u & 0x000fffffffffffffull) | 0x3fe0000000000000ull);
    if (m < 0x1.6a09e667f3bcdp-1) {
        m *= 2.0;
        e -= 1;
    }
    // log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716: the odd series in s
    // converges to double precision in 11 terms. f - s (f - hfsq ...) keeps the leading
    // terms exact, as the large term f is added last.
    double f = m - 1.0;
    double s = f / (2.0 + f);
    double z = s * s;
    double r = z * (2.0 / 3 + z * (2.0 / 5 + z * (2.0 / 7 + z * (2.0 / 9 + z * (2.0 / 11
        + z * (2.0 / 13 + z * (2.0 / 15 + z * (2.0 / 17 + z * (2.0 / 19 + z * (2.0 / 21))))))))));
    double hfsq = 0.5 * f * f;
    double logm = f - (hfsq - s * (hfsq + r));
    return (double)e * LN2D_HI + ((double)e * LN2D_LO + logm);
}

/******************************************************************************/
// sqrt

double ml_sqrt(double x) {
    uint64_t u = dbl_bits(x);
    if (x != x || x == 0.0 || u == 0x7ff0000000000000ull) {
        return x + x == x ? x : x + x;  // NaN, +-0, +inf as they are
    }
    if (x < 0.0) {
        return DBL_NAN;
    }
    // x = m * 4^k with m in [1, 4): sqrt(x) = sqrt(m) * 2^k.
    int e = (int)(u >> 52);
    int scale = 0;
    if (e == 0) {
        u = dbl_bits(x * 0x1p54);
        e = (int)(u >> 52);
        scale = -27;
    }
    int k = (e - 1023) >> 1;  // floor((e - 1023) / 2)
    double m = dbl_from_bits((u & 0x000fffffffffffffull)
        | ((uint64_t)(e - 2 * k) << 52));
    // A float estimate (correctly rounded, 24 bits), then two Newton steps double the bits
    // each time; the last one is written as a correction so that it rounds once.
    double y = (double)ml_sqrtf((float)m);
    y = 0.5 * (y + m / y);
    y = y + 0.5 * (m - y * y) / y;
    return y * dbl_from_bits((uint64_t)(k + scale + 1023) << 52);
}

/******************************************************************************/
// pow for x >= 0, tanh

double ml_pow_pos(double x, double p) {
    if (x == 0.0) {
        return p > 0.0 ? 0.0 : p == 0.0 ? 1.0 : DBL_INF;
    }
    if (p == 1.0) {
        return x;
    }
    if (p == 2.0) {
        return x * x;
    }
    return ml_exp(p * ml_log(x));
}

double ml_tanh(double x) {
    double a = x < 0.0 ? -x : x;
    if (x != x) {
        return x + x;
    }
    double t;
    if (a > 20.0) {
        t = 1.0;  // rounds to 1
    } else if (a >= 0.55) {
        t = 1.0 - 2.0 / (ml_exp(2.0 * a) + 1.0);  // no cancellation: 2 / (e + 1) <= 1/2
    } else if (a >= 0x1p-14) {
        // (e - 1) / (e + 1): e - 1 is exact (Sterbenz), so the error is the one of
        // exp(2a), a few 1e-16 absolute, which is what the kernels that use it need.
        double e = ml_exp(2.0 * a);
        t = (e - 1.0) / (e + 1.0);
    } else {
        t = a - a * a * a * (1.0 / 3);  // the next term, 2a^5/15, is below 2^-60 a
    }
    return x < 0.0 ? -t : t;
}

/******************************************************************************/
// log1p, logsumexp

double ml_log1p(double x) {
    // u = 1 + x rounded; log(u) * x / (u - 1) corrects the rounding of u (Goldberg's trick).
    double u = 1.0 + x;
    if (u == 1.0) {
        return x;
    }
    return ml_log(u) * (x / (u - 1.0));
}

double ml_logsumexp(const double *v, uint32_t n) {
    // As scikit-learn's and scipy's: the m largest equal values are counted apart, the
    // others summed as exp(v - max), and log1p(s / m) + log(m) + max.
    double top = v[0];
    for (uint32_t k = 1; k < n; k++) {
        top = v[k] > top ? v[k] : top;
    }
    if (!(top > -DBL_INF) || top == DBL_INF) {
        return top;  // all -inf, or an inf / NaN: as numpy gives it
    }
    double s = 0.0, m = 0.0;
    for (uint32_t k = 0; k < n; k++) {
        if (v[k] == top) {
            m += 1.0;
        } else {
            s += ml_exp(v[k] - top);
        }
    }
    s = s == 0.0 ? s : s / m;
    return ml_log1p(s) + ml_log(m) + top;
}
