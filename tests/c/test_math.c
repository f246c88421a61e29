// Accuracy of core/ml_math_*.c against the C library.  Each float function is compared with
// the double-precision libm result: "ulp" is the distance in representable floats to that
// result rounded to float (what the bounds in ml_math.h refer to), "exact" the error
// against the unrounded double result, in units of the float ulp there.
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "ml_math.h"

// Floats mapped to integers in increasing order (-0 and +0 both map to 0).
static int64_t f_ord(float f) {
    uint32_t u = ml_float_to_bits(f);
    return (u >> 31) ? -(int64_t)(u & 0x7fffffffu) : (int64_t)u;
}

static float f_unord(int64_t o) {
    return o < 0 ? ml_float_from_bits((uint32_t)(-o) | 0x80000000u) : ml_float_from_bits((uint32_t)o);
}

static int64_t d_ord(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return (u >> 63) ? -(int64_t)(u & 0x7fffffffffffffffu) : (int64_t)u;
}

// Size of one float ulp at the magnitude of r.
static double float_ulp(double r) {
    r = fabs(r);
    if (r < 0x1p-126) {
        return 0x1p-149;
    }
    int e;
    frexp(r, &e);
    return ldexp(1.0, e - 24);
}

typedef struct {
    const char *name;
    float (*f)(float);
    double (*ref)(double);
    int64_t max_ulp; // measured: distance to the reference rounded to float
    double max_exact; // measured: error against the double reference
    float worst;
    long points;
    long bad_special; // NaN / infinity / signed-zero disagreements
} func_stats_t;

static void check_point(func_stats_t *s, float x) {
    float y = s->f(x);
    double r = s->ref((double)x);
    float rf = (float)r;
    s->points++;
    if (isnan(rf) || isnan(y)) {
        if (!(isnan(rf) && isnan(y)) && s->bad_special++ < 5) {
            fprintf(stderr, "%s(%a) = %a, want %a\n", s->name, (double)x, (double)y, (double)rf);
        }
        return;
    }
    if (y == 0.0f && rf == 0.0f && signbit(y) != signbit(rf) && s->bad_special++ < 5) {
        fprintf(stderr, "%s(%a): zero of the wrong sign\n", s->name, (double)x);
    }
    int64_t d = f_ord(y) - f_ord(rf);
    d = d < 0 ? -d : d;
    if (d > s->max_ulp) {
        s->max_ulp = d;
        s->worst = x;
    }
    if (isfinite(rf) && isfinite(y)) {
        double e = fabs((double)y - r) / float_ulp(r);
        if (e > s->max_exact) {
            s->max_exact = e;
        }
    }
}

// n points spread evenly (in representation order) over [lo, hi], both included.  The odd
// stride makes the low mantissa bits vary from point to point.
static void sweep(func_stats_t *s, float lo, float hi, long n) {
    int64_t a = f_ord(lo);
    int64_t b = f_ord(hi);
    int64_t step = (b - a) / n | 1;
    for (int64_t o = a; o <= b; o += step) {
        check_point(s, f_unord(o));
    }
    check_point(s, hi);
}

static double ref_sigmoid(double x) {
    return 1.0 / (1.0 + exp(-x));
}

// Scale of the sweeps: ~1.3M points in all, about 2 s under valgrind.
#define N 60000

static const float specials[] = {
    0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 1.0f, -1.0f, 0.5f, 2.0f, 10.0f, 0x1p-149f,
    -0x1p-149f, 0x1p-126f, 0x1.fffffcp-127f, 3.4028235e38f, -3.4028235e38f, 1e-30f, -1e-30f,
    88.72283172607422f, 88.72283935546875f, -103.97207641601562f, -103.97208404541016f,
    -87.0f, 0.7853981f, 1.5707964f, 3.1415927f, 1e5f, -1e5f, 65536.0f, 9.1f, -9.1f, 0.5493061f,
    0x1.6a09e6p-1f, 0x1.6a09e6p+0f, 0x1.6a09e8p+0f, 0x1.fffffep-1f, 0x1.000002p+0f,
};

static void run_specials(func_stats_t *s) {
    for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
        check_point(s, specials[i]);
    }
}

static void report(func_stats_t *s, int64_t bound) {
    printf("%-12s max %lld ulp (%.3f ulp from exact) over %ld points\n", s->name,
        (long long)s->max_ulp, s->max_exact, s->points);
    CHECK(s->max_ulp <= bound, "%s: %lld ulp at x = %a", s->name, (long long)s->max_ulp,
        (double)s->worst);
    CHECK(s->bad_special == 0, "%s: %ld special-value mismatches", s->name, s->bad_special);
}

static void test_float_functions(void) {
    func_stats_t exp_s = {"ml_expf", ml_expf, exp, 0, 0, 0, 0, 0};
    sweep(&exp_s, -104.0f, 89.0f, 2 * N);
    sweep(&exp_s, -1.0f, 1.0f, N / 4);
    sweep(&exp_s, -INFINITY, INFINITY, N / 10);
    run_specials(&exp_s);
    report(&exp_s, 1);

    func_stats_t log_s = {"ml_logf", ml_logf, log, 0, 0, 0, 0, 0};
    func_stats_t log2_s = {"ml_log2f", ml_log2f, log2, 0, 0, 0, 0, 0};
    func_stats_t log10_s = {"ml_log10f", ml_log10f, log10, 0, 0, 0, 0, 0};
    func_stats_t *logs[] = {&log_s, &log2_s, &log10_s};
    for (int i = 0; i < 3; i++) {
        sweep(logs[i], 0x1p-149f, INFINITY, N);   // subnormals up to infinity
        sweep(logs[i], 0.25f, 4.0f, N);          // around 1 and the sqrt(2) boundaries
        sweep(logs[i], -INFINITY, -0.0f, N / 20); // NaN
        run_specials(logs[i]);
    }
    report(&log_s, 1);
    report(&log2_s, 2);
    report(&log10_s, 2);

    func_stats_t sin_s = {"ml_sinf", ml_sinf, sin, 0, 0, 0, 0, 0};
    func_stats_t cos_s = {"ml_cosf", ml_cosf, cos, 0, 0, 0, 0, 0};
    func_stats_t *trig[] = {&sin_s, &cos_s};
    for (int i = 0; i < 2; i++) {
        sweep(trig[i], 0.5f, 1e5f, N);      // argument reduction
        sweep(trig[i], -1e5f, -0.5f, N / 2);
        sweep(trig[i], -1.0f, 1.0f, N / 4); // no reduction, down to subnormals
        sweep(trig[i], -INFINITY, INFINITY, N / 4); // huge arguments are exact too
        run_specials(trig[i]);
    }
    report(&sin_s, 2);
    report(&cos_s, 2);

    func_stats_t tanh_s = {"ml_tanhf", ml_tanhf, tanh, 0, 0, 0, 0, 0};
    sweep(&tanh_s, 0.25f, 10.0f, N);
    sweep(&tanh_s, -10.0f, -0.25f, N / 2);
    sweep(&tanh_s, -INFINITY, INFINITY, N / 4);
    run_specials(&tanh_s);
    report(&tanh_s, 3);

    func_stats_t sig_s = {"ml_sigmoidf", ml_sigmoidf, ref_sigmoid, 0, 0, 0, 0, 0};
    sweep(&sig_s, -105.0f, 20.0f, N);
    sweep(&sig_s, -20.0f, 20.0f, N);
    sweep(&sig_s, -INFINITY, INFINITY, N / 4);
    run_specials(&sig_s);
    report(&sig_s, 3);
}

static void test_sqrt(void) {
    // Correctly rounded: bit-identical to the IEEE square root everywhere.
    long mismatches = 0;
    long points = 0;
    for (uint64_t u = 0; u <= 0xffffffffu; u += 32771) {
        float x = ml_float_from_bits((uint32_t)u);
        float y = ml_sqrtf(x);
        float want = sqrtf(x);
        bool same = isnan(want) ? (bool)isnan(y) : ml_float_to_bits(y) == ml_float_to_bits(want);
        points++;
        if (!same && mismatches++ < 5) {
            fprintf(stderr, "ml_sqrtf(%a) = %a, want %a\n", (double)x, (double)y, (double)want);
        }
    }
    // All mantissas of two binades (even and odd exponent) and the subnormals' start.
    for (uint32_t u = 0x3f800000u - 0x00400000u; u < 0x3f800000u + 0x00400000u; u += 97) {
        float x = ml_float_from_bits(u);
        points++;
        if (ml_float_to_bits(ml_sqrtf(x)) != ml_float_to_bits(sqrtf(x)) && mismatches++ < 5) {
            fprintf(stderr, "ml_sqrtf(%a) wrong\n", (double)x);
        }
    }
    for (uint32_t u = 0; u < 0x00100000u; u += 61) {
        float x = ml_float_from_bits(u);
        points++;
        if (ml_float_to_bits(ml_sqrtf(x)) != ml_float_to_bits(sqrtf(x)) && mismatches++ < 5) {
            fprintf(stderr, "ml_sqrtf(%a) wrong\n", (double)x);
        }
    }
    printf("%-12s max 0 ulp (correctly rounded): %ld mismatches over %ld points\n", "ml_sqrtf",
        mismatches, points);
    CHECK(mismatches == 0, "ml_sqrtf: %ld mismatches", mismatches);
    CHECK(ml_float_to_bits(ml_sqrtf(-0.0f)) == 0x80000000u, "sqrt(-0) must be -0");
    CHECK(isnan(ml_sqrtf(-1.0f)) && isnan(ml_sqrtf(-INFINITY)) && isnan(ml_sqrtf(NAN)), "sqrt NaN");
    CHECK(ml_sqrtf(INFINITY) == INFINITY, "sqrt(inf)");
}

typedef struct {
    int64_t max_ulp;
    double worst;
    long points;
    long bad;
} exp_stats_t;

static void check_exp_point(exp_stats_t *s, double x) {
    double y = ml_exp(x);
    double r = exp(x);
    s->points++;
    if (isnan(r) || isnan(y)) {
        s->bad += !(isnan(r) && isnan(y));
        return;
    }
    int64_t d = d_ord(y) - d_ord(r); // both >= 0
    d = d < 0 ? -d : d;
    if (d > s->max_ulp) {
        s->max_ulp = d;
        s->worst = x;
    }
}

static void test_exp_double(void) {
    exp_stats_t s = {0, 0.0, 0, 0};
    const double xs[] = {0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300, 709.782712893384,
        709.7827128933841, -745.1332191019411, -745.1332191019412, -708.5, -740.0, 1e308,
        -1e308, HUGE_VAL, -HUGE_VAL, (double)NAN};
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
        check_exp_point(&s, xs[i]);
    }
    // Two sweeps, one per sign, over the range with finite non-zero results.
    for (int sign = 0; sign < 2; sign++) {
        int64_t end = d_ord(sign ? 746.0 : 710.0);
        int64_t step = end / N | 1;
        for (int64_t o = 0; o <= end; o += step) {
            uint64_t u = (uint64_t)o | ((uint64_t)sign << 63);
            double x;
            memcpy(&x, &u, sizeof(x));
            check_exp_point(&s, x);
        }
    }
    printf("%-12s max %lld ulp (against libm exp) over %ld points\n", "ml_exp",
        (long long)s.max_ulp, s.points);
    CHECK(s.max_ulp <= 2, "ml_exp: %lld ulp at x = %a", (long long)s.max_ulp, s.worst);
    CHECK(s.bad == 0, "ml_exp: %ld NaN mismatches", s.bad);
}

// The double functions of ml_math_double.c against libm over a sweep of positive doubles.
static void test_double_functions(void) {
    int64_t worst_log = 0, worst_sqrt = 0;
    double at_log = 0.0, at_sqrt = 0.0, worst_tanh = 0.0, worst_pow = 0.0;
    long points = 0;
    int64_t end = d_ord(1e300);
    int64_t step = end / N | 1;
    for (int64_t o = 1; o <= end; o += step) {
        uint64_t u = (uint64_t)o;
        double x;
        memcpy(&x, &u, sizeof(x));
        int64_t d = d_ord(ml_log(x)) - d_ord(log(x));
        if (log(x) < 0) {
            d = d_ord(-ml_log(x)) - d_ord(-log(x));
        }
        d = d < 0 ? -d : d;
        if (d > worst_log) {
            worst_log = d;
            at_log = x;
        }
        d = d_ord(ml_sqrt(x)) - d_ord(sqrt(x));
        d = d < 0 ? -d : d;
        if (d > worst_sqrt) {
            worst_sqrt = d;
            at_sqrt = x;
        }
        points++;
    }
    for (double t = -25.0; t <= 25.0; t += 0.000731) {
        double e = fabs(ml_tanh(t) - tanh(t));
        worst_tanh = e > worst_tanh ? e : worst_tanh;
        double x = fabs(t) * 3.0;
        double p = 0.5 + fabs(t) / 5;
        double r = pow(x, p);
        e = r ? fabs(ml_pow_pos(x, p) - r) / r : fabs(ml_pow_pos(x, p));
        worst_pow = e > worst_pow ? e : worst_pow;
    }
    printf("%-12s max %lld ulp (against libm) over %ld points\n", "ml_log", (long long)worst_log,
        points);
    printf("%-12s max %lld ulp (against libm) over %ld points\n", "ml_sqrt",
        (long long)worst_sqrt, points);
    printf("%-12s max %.2g absolute; ml_pow_pos max %.2g relative\n", "ml_tanh", worst_tanh,
        worst_pow);
    CHECK(worst_log <= 1, "ml_log: %lld ulp at %a", (long long)worst_log, at_log);
    CHECK(worst_sqrt <= 1, "ml_sqrt: %lld ulp at %a", (long long)worst_sqrt, at_sqrt);
    CHECK(worst_tanh <= 4e-16, "ml_tanh: %g", worst_tanh);
    CHECK(worst_pow <= 1e-14, "ml_pow_pos: %g", worst_pow);
    CHECK(ml_log(1.0) == 0.0 && isinf(ml_log(0.0)) && isnan(ml_log(-1.0)), "log specials");
    CHECK(ml_sqrt(0.0) == 0.0 && ml_sqrt(4.0) == 2.0 && isnan(ml_sqrt(-1.0)), "sqrt specials");
    CHECK(ml_log(0x1p-1070) == log(0x1p-1070) || fabs(ml_log(0x1p-1070) / log(0x1p-1070) - 1)
        < 1e-15, "log of a subnormal");
    CHECK(fabs(ml_sqrt(0x1p-1070) - sqrt(0x1p-1070)) <= 0x1p-1074, "sqrt of a subnormal");
}

static void test_special_values(void) {
    CHECK(ml_expf(-INFINITY) == 0.0f && ml_expf(INFINITY) == INFINITY, "exp(+-inf)");
    CHECK(ml_expf(0.0f) == 1.0f && ml_expf(-0.0f) == 1.0f, "exp(0)");
    CHECK(ml_expf(88.72283172607422f) < INFINITY && ml_expf(88.72283935546875f) == INFINITY,
        "expf overflow threshold");
    CHECK(ml_expf(-103.97207641601562f) > 0.0f && ml_expf(-103.97208404541016f) == 0.0f,
        "expf underflow threshold");
    CHECK(ml_logf(0.0f) == -INFINITY && ml_logf(-0.0f) == -INFINITY, "log(0)");
    CHECK(isnan(ml_logf(-1.0f)) && isnan(ml_logf(-INFINITY)) && isnan(ml_logf(-0x1p-149f)),
        "log(negative)");
    CHECK(ml_logf(INFINITY) == INFINITY && ml_float_to_bits(ml_logf(1.0f)) == 0, "log(inf), log(1)");
    CHECK(ml_log10f(1.0f) == 0.0f && ml_log2f(1.0f) == 0.0f, "log2(1), log10(1)");
    for (int k = -149; k <= 127; k++) {
        float x = ldexpf(1.0f, k);
        CHECK(ml_log2f(x) == (float)k, "log2(2^%d) = %a", k, (double)ml_log2f(x));
    }
    CHECK(ml_float_to_bits(ml_sinf(-0.0f)) == 0x80000000u && ml_cosf(0.0f) == 1.0f, "sin(-0), cos(0)");
    CHECK(ml_sinf(0x1p-149f) == 0x1p-149f, "sin(subnormal)");
    CHECK(isnan(ml_sinf(INFINITY)) && isnan(ml_cosf(-INFINITY)), "sin(inf), cos(inf)");
    CHECK(ml_tanhf(INFINITY) == 1.0f && ml_tanhf(-INFINITY) == -1.0f, "tanh(+-inf)");
    CHECK(ml_float_to_bits(ml_tanhf(-0.0f)) == 0x80000000u && ml_tanhf(20.0f) == 1.0f, "tanh(-0), tanh(20)");
    CHECK(ml_sigmoidf(0.0f) == 0.5f && ml_sigmoidf(INFINITY) == 1.0f, "sigmoid(0), sigmoid(inf)");
    CHECK(ml_sigmoidf(-INFINITY) == 0.0f && ml_sigmoidf(-200.0f) == 0.0f, "sigmoid(-inf)");
    CHECK(ml_sigmoidf(100.0f) == 1.0f && ml_sigmoidf(-100.0f) > 0.0f, "sigmoid(+-100)");
    CHECK(isnan(ml_sigmoidf(NAN)) && isnan(ml_tanhf(NAN)) && isnan(ml_expf(NAN)), "NaN in");
    CHECK(ml_exp(0.0) == 1.0 && ml_exp(-HUGE_VAL) == 0.0 && ml_exp(HUGE_VAL) == HUGE_VAL, "exp");
    CHECK(ml_exp(709.782712893384) < HUGE_VAL && ml_exp(709.7827128933841) == HUGE_VAL,
        "exp overflow threshold");
    CHECK(ml_exp(-745.1332191019411) > 0.0 && ml_exp(-745.1332191019412) == 0.0,
        "exp underflow threshold");
}

static void test_bit_helpers(void) {
    long bad = 0;
    for (uint64_t u = 0; u <= 0xffffffffu; u += 19997) {
        float x = ml_float_from_bits((uint32_t)u);
        bool ok = isnan(x) ? isnan(ml_floorf(x)) : ml_float_to_bits(ml_floorf(x)) == ml_float_to_bits(floorf(x));
        ok = ok && ml_float_to_bits(ml_fabsf(x)) == ml_float_to_bits(fabsf(x));
        ok = ok && ml_isnanf(x) == (bool)isnan(x) && ml_isinff(x) == (bool)isinf(x);
        ok = ok && ml_isfinitef(x) == (bool)isfinite(x);
        if (!ok && bad++ < 5) {
            fprintf(stderr, "bit helpers wrong for %08x\n", (unsigned)u);
        }
    }
    // floor near integers, where the carry and sign cases are
    for (int i = -300; i <= 300; i++) {
        float base = (float)i;
        float xs[3] = {nextafterf(base, -INFINITY), base, nextafterf(base, INFINITY)};
        for (int j = 0; j < 3; j++) {
            bad += ml_float_to_bits(ml_floorf(xs[j])) != ml_float_to_bits(floorf(xs[j]));
        }
    }
    CHECK(bad == 0, "%ld bit helper mismatches", bad);
    CHECK(ml_float_to_bits(ml_floorf(-0.0f)) == 0x80000000u && ml_floorf(-0.5f) == -1.0f, "floor(-0)");
}

int main(void) {
    test_float_functions();
    test_sqrt();
    test_exp_double();
    test_double_functions();
    test_special_values();
    test_bit_helpers();
    return check_summary("test_math");
}
