// Bit-exact comparison of the armv6m soft-float division (core/ml_softfp.c, compiled here
// under the test names ml_soft_fdiv / ml_soft_ddiv) with the host's hardware division.
#define ML_SOFTFP_TEST 1
#include "../../core/ml_softfp.c"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "ml_math.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void) {
    // xorshift64
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double d_from(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static uint64_t d_bits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static long f_tested, f_mismatch, d_tested, d_mismatch;

static void check_f(uint32_t a, uint32_t b) {
    float n = ml_float_from_bits(a);
    float d = ml_float_from_bits(b);
    uint32_t want = ml_float_to_bits(n / d);
    uint32_t got = ml_float_to_bits(ml_soft_fdiv(n, d));
    bool want_nan = (want & 0x7fffffffu) > 0x7f800000u;
    bool got_nan = (got & 0x7fffffffu) > 0x7f800000u;
    bool ok = want_nan ? got_nan : got == want;
    f_tested++;
    if (!ok && f_mismatch++ < 10) {
        fprintf(stderr, "fdiv %08x / %08x: got %08x want %08x\n", (unsigned)a, (unsigned)b,
            (unsigned)got, (unsigned)want);
    }
}

static void check_d(uint64_t a, uint64_t b) {
    double n = d_from(a);
    double d = d_from(b);
    uint64_t want = d_bits(n / d);
    uint64_t got = d_bits(ml_soft_ddiv(n, d));
    const uint64_t abs_mask = 0x7fffffffffffffffu;
    bool want_nan = (want & abs_mask) > 0x7ff0000000000000u;
    bool got_nan = (got & abs_mask) > 0x7ff0000000000000u;
    bool ok = want_nan ? got_nan : got == want;
    d_tested++;
    if (!ok && d_mismatch++ < 10) {
        fprintf(stderr, "ddiv %016llx / %016llx: got %016llx want %016llx\n",
            (unsigned long long)a, (unsigned long long)b, (unsigned long long)got,
            (unsigned long long)want);
    }
}

// Operands of interest: zeros, infinities, NaNs, subnormal and normal extremes, and values
// whose quotients are exact, ties or just off a power of two.
static const uint32_t f_special[] = {
    0x00000000, 0x7f800000, 0x7fc00000, 0x7f800001, 0x7fffffff,
    0x00000001, 0x00000002, 0x00000003, 0x00400000, 0x007fffff, 0x00555555,
    0x00800000, 0x00800001, 0x00ffffff, 0x7f7fffff, 0x7f000000, 0x7e800000,
    0x3f800000, 0x3f800001, 0x3f7fffff, 0x40000000, 0x3f000000, 0x40400000, 0x3fc00000,
    0x40a00000, 0x41200000, 0x3eaaaaab, 0x34000000, 0x33800000, 0x4b000000, 0x4b7fffff,
    0x0c000000, 0x73000000, 0x4effffff, 0x3fffffff,
};

static const uint64_t d_special[] = {
    0x0000000000000000, 0x7ff0000000000000, 0x7ff8000000000000, 0x7ff0000000000001,
    0x0000000000000001, 0x0000000000000002, 0x0000000000000003, 0x0008000000000000,
    0x000fffffffffffff, 0x0005555555555555, 0x0010000000000000, 0x0010000000000001,
    0x001fffffffffffff, 0x7fefffffffffffff, 0x7fe0000000000000, 0x7fd0000000000000,
    0x3ff0000000000000, 0x3ff0000000000001, 0x3fefffffffffffff, 0x4000000000000000,
    0x3fe0000000000000, 0x4008000000000000, 0x3ff8000000000000, 0x4014000000000000,
    0x4024000000000000, 0x3fd5555555555555, 0x3cb0000000000000, 0x3ca0000000000000,
    0x4330000000000000, 0x433fffffffffffff, 0x0180000000000000, 0x7e60000000000000,
    0x3fffffffffffffff,
};

#define N_F_SPECIAL (sizeof(f_special) / sizeof(f_special[0]))
#define N_D_SPECIAL (sizeof(d_special) / sizeof(d_special[0]))

// A random biased exponent field in [lo, hi].
static uint32_t rand_range(uint32_t lo, uint32_t hi) {
    return lo + (uint32_t)(rng() % (hi - lo + 1));
}

static void test_float(int n_random) {
    for (size_t i = 0; i < N_F_SPECIAL; i++) {
        for (size_t j = 0; j < N_F_SPECIAL; j++) {
            for (uint32_t s = 0; s < 4; s++) {
                check_f(f_special[i] ^ ((s & 1) << 31), f_special[j] ^ ((s >> 1) << 31));
            }
        }
    }
    long before = f_tested;
    for (int i = 0; i < n_random; i++) {
        uint32_t a = (uint32_t)rng();
        uint32_t b = (uint32_t)(rng() >> 32);
        uint32_t sign = (uint32_t)rng() & 0x80000000u;
        switch (i % 7) {
            case 0:
                break; // arbitrary bit patterns
            case 1:
                // close in magnitude: same exponent, or b a few ulps from a
                b = (i & 8) ? (a & 0xff800000u) | (b & 0x007fffffu) : a + (b & 15u) - 8u;
                break;
            case 2:
                // quotient near the overflow threshold
                a = (a & 0x807fffffu) | (rand_range(200, 254) << 23);
                b = (b & 0x807fffffu) | ((((a >> 23) & 0xffu) - rand_range(124, 129)) << 23);
                break;
            case 3:
                // quotient near or below the underflow threshold
                a = (a & 0x807fffffu) | (rand_range(1, 80) << 23);
                b = (b & 0x807fffffu) | ((((a >> 23) & 0xffu) + rand_range(100, 152)) << 23);
                break;
            case 4: {
                // exact quotient: a = q * b with q and b short enough for an exact product
                float q = (float)(rng() % 255 + 1) * ml_float_from_bits(rand_range(100, 150) << 23);
                float bf = ml_float_from_bits((b & 0x80ffff00u) | (rand_range(60, 190) << 23));
                a = ml_float_to_bits(q * bf);
                b = ml_float_to_bits(bf);
                break;
            }
            case 5:
                // subnormal dividend or divisor
                if (i & 1) {
                    a &= 0x807fffffu;
                } else {
                    b &= 0x807fffffu;
                }
                break;
            default:
                // mantissas with long runs of ones or zeros (rounding carries, ties)
                a = (a & 0xff800000u) | (((i & 2) ? 0x007fffffu : 0x00000000u) ^ (b & 7u));
                b = (b & 0xff800000u) | ((i & 4) ? 0x007ffff0u : 0x00000001u);
                break;
        }
        check_f(a ^ sign, b);
    }
    printf("fdiv: %ld specials, %ld random, %ld mismatches\n", before, f_tested - before, f_mismatch);
}

static void test_double(int n_random) {
    for (size_t i = 0; i < N_D_SPECIAL; i++) {
        for (size_t j = 0; j < N_D_SPECIAL; j++) {
            for (uint64_t s = 0; s < 4; s++) {
                check_d(d_special[i] ^ ((s & 1) << 63), d_special[j] ^ ((s >> 1) << 63));
            }
        }
    }
    long before = d_tested;
    const uint64_t frac_mask = 0x000fffffffffffffu;
    const uint64_t sign_frac = 0x800fffffffffffffu;
    for (int i = 0; i < n_random; i++) {
        uint64_t a = rng();
        uint64_t b = rng();
        uint64_t sign = rng() & 0x8000000000000000u;
        switch (i % 7) {
            case 0:
                break;
            case 1:
                b = (i & 8) ? (a & ~frac_mask) | (b & frac_mask) : a + (b & 15u) - 8u;
                break;
            case 2:
                a = (a & sign_frac) | ((uint64_t)rand_range(1800, 2046) << 52);
                b = (b & sign_frac) | (((a >> 52) & 0x7ffu) - rand_range(1020, 1026)) << 52;
                break;
            case 3:
                a = (a & sign_frac) | ((uint64_t)rand_range(1, 200) << 52);
                b = (b & sign_frac) | (((a >> 52) & 0x7ffu) + rand_range(1000, 1080)) << 52;
                break;
            case 4: {
                double q = (double)(rng() % 65535 + 1) * d_from((uint64_t)rand_range(900, 1100) << 52);
                double bd = d_from((b & 0x800fffffff000000u) | ((uint64_t)rand_range(300, 1700) << 52));
                a = d_bits(q * bd);
                b = d_bits(bd);
                break;
            }
            case 5:
                if (i & 1) {
                    a &= sign_frac;
                } else {
                    b &= sign_frac;
                }
                break;
            default:
                a = (a & ~frac_mask) | (((i & 2) ? frac_mask : 0u) ^ (b & 7u));
                b = (b & ~frac_mask) | ((i & 4) ? frac_mask - 15u : 1u);
                break;
        }
        check_d(a ^ sign, b);
    }
    printf("ddiv: %ld specials, %ld random, %ld mismatches\n", before, d_tested - before, d_mismatch);
}

int main(void) {
    test_float(300000);
    test_double(200000);
    CHECK(f_mismatch == 0, "%ld float mismatches", f_mismatch);
    CHECK(d_mismatch == 0, "%ld double mismatches", d_mismatch);
    return check_summary("test_softfp");
}
