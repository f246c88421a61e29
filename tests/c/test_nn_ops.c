// The requantization of core/ml_nn_ops.c (written for speed) against TFLite's arithmetic
// written out literally, as gemmlowp and TFLite's reference kernels state it: edge cases and
// millions of random accumulators, multipliers and shifts. Every result must be identical.
#include <stdint.h>

#include "check.h"
#include "ml_nn_ops.h"

static uint64_t rng_state = 0x2545f4914f6cdd1du;

static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

// gemmlowp's SaturatingRoundingDoublingHighMul.
static int32_t literal_srdhm(int32_t a, int32_t b) {
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    int64_t ab = (int64_t)a * b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

// gemmlowp's RoundingDivideByPOT.
static int32_t literal_rdbpot(int32_t x, int e) {
    int32_t mask = (int32_t)((1u << e) - 1u);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0);
    return (x >> e) + (remainder > threshold);
}

// TFLite's MultiplyByQuantizedMultiplier (the left shift wraps).
static int32_t literal_requantize(int32_t acc, int32_t m, int32_t shift) {
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    return literal_rdbpot(literal_srdhm((int32_t)((uint32_t)acc << left), m), right);
}

// The single rounding of the int8 FULLY_CONNECTED reference: round half up in 64 bits.
static int32_t literal_requantize_single(int32_t acc, int32_t m, int32_t shift) {
    int total = 31 - shift;
    return (int32_t)(((int64_t)acc * m + ((int64_t)1 << (total - 1))) >> total);
}

static long mismatches, compared;

static void check_one(int32_t acc, int32_t m, int32_t shift) {
    compared++;
    int32_t got = ml_nn_requantize(acc, m, shift), want = literal_requantize(acc, m, shift);
    if (got != want && mismatches++ < 10) {
        CHECK(got == want, "requantize(%ld, %ld, %ld) = %ld, TFLite %ld", (long)acc, (long)m,
            (long)shift, (long)got, (long)want);
    }
    // The convolutions' form, with an output zero point.
    int32_t zy = (int32_t)(compared % 256) - 128;
    got = ml_nn_requantize_zy(acc, m, shift, zy);
    want = (int32_t)((uint32_t)literal_requantize(acc, m, shift) + (uint32_t)zy);
    if (got != want && mismatches++ < 10) {
        CHECK(got == want, "requantize_zy(%ld, %ld, %ld, %ld) = %ld, TFLite %ld", (long)acc,
            (long)m, (long)shift, (long)zy, (long)got, (long)want);
    }
    if (shift <= 30) {
        got = ml_nn_requantize_single(acc, m, shift);
        want = literal_requantize_single(acc, m, shift);
        if (got != want && mismatches++ < 10) {
            CHECK(got == want, "requantize_single(%ld, %ld, %ld) = %ld, TFLite %ld", (long)acc,
                (long)m, (long)shift, (long)got, (long)want);
        }
    }
}

int main(void) {
    static const int32_t accs[] = {
        0, 1, -1, 2, -2, 3, -3, 127, -128, 255, -256, 1 << 15, -(1 << 15), 1 << 20,
        -(1 << 20), INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1, 1 << 30, -(1 << 30),
    };
    static const int32_t mults[] = {
        0, 1, 2, 1 << 30, (1 << 30) + 1, INT32_MAX, INT32_MAX - 1, 1518500250, 1073741823,
    };
    int n_acc = sizeof(accs) / sizeof(accs[0]), n_mult = sizeof(mults) / sizeof(mults[0]);
    for (int shift = -31; shift <= 30; shift++) {
        for (int i = 0; i < n_acc; i++) {
            for (int j = 0; j < n_mult; j++) {
                check_one(accs[i], mults[j], shift);
            }
        }
    }
    // Random: accumulators of every magnitude, multipliers in TFLite's range [2^30, 2^31) and
    // anywhere >= 0, every shift; and exact ties (products at half a step).
    for (long k = 0; k < 3000000; k++) {
        uint64_t r = rng();
        int32_t acc = (int32_t)(uint32_t)r >> (int)((r >> 32) % 32);
        int32_t m = (r >> 37) & 1 ? (int32_t)((1u << 30) | ((uint32_t)(r >> 38) & 0x3fffffffu))
                    : (int32_t)((uint32_t)rng() >> 1);
        int32_t shift = (int32_t)((r >> 59) % 32) - (int32_t)(rng() % 32);
        check_one(acc, m, shift);
        check_one(acc, 1 << 30, shift);  // a multiplier of 1/2: ties at every odd product
    }
    CHECK(mismatches == 0, "%ld mismatches", mismatches);
    printf("requantize: %ld cases compared with TFLite's arithmetic\n", compared);
    return check_summary("nn_ops");
}
