// Unit tests of the DSP core (core/ml_dsp*.c) against straightforward double-precision
// references written here with libm, and against scipy's Butterworth coefficients (numbers
// printed by scipy.signal.butter(..., output='sos')). Every block gets exactly its
// *_memory_size bytes from malloc, so ASan and valgrind see any access past them.
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ml_dsp.h"

#define PI_D 3.14159265358979323846

static uint32_t rng_state = 12345u;

static double urand(void) {  // uniform in [-1, 1)
    rng_state = rng_state * 1664525u + 1013904223u;
    return (double)(rng_state >> 8) / (double)(1u << 23) - 1.0;
}

// ---------------------------------------------------------------------------------------------

static void test_trig_and_windows(void) {
    static const uint32_t ns[] = { 3, 16, 100, 1000, 4096 };
    float worst = 0.0f;
    for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
        uint32_t n = ns[t];
        for (uint32_t k = 0; k < n; k++) {
            float c, s;
            ml_dsp_cos_sin_2pi(k, n, &c, &s);
            double a = 2.0 * PI_D * (double)k / (double)n;
            // Absolute error in units of 2^-24 (values near 0 have no meaningful ulp).
            double ec = fabs((double)c - cos(a)) * 0x1p24, es = fabs((double)s - sin(a)) * 0x1p24;
            worst = (float)fmax((double)worst, fmax(ec, es));
        }
    }
    CHECK(worst <= 2.0f, "cos/sin 2 pi k/n: worst error %.2f x 2^-24", (double)worst);
    float c, s;
    ml_dsp_cos_sin_2pi(1, 4, &c, &s);
    CHECK(c == 0.0f && s == 1.0f, "quarter turn exact: %g %g", (double)c, (double)s);

    float w[64];
    for (int type = 0; type < 3; type++) {
        ml_dsp_window_fill((ml_dsp_window_t)type, w, 64);
        double e = 0.0;
        for (int i = 0; i < 64; i++) {
            double ref = type == 0 ? 1.0 : type == 1 ? 0.5 - 0.5 * cos(2 * PI_D * i / 64)
                : 0.54 - 0.46 * cos(2 * PI_D * i / 64);
            e = fmax(e, fabs((double)w[i] - ref));
        }
        CHECK(e < 1.2e-7, "window %d: max error %g", type, e);
    }
    ml_dsp_window_fill(ML_DSP_WINDOW_HANN, w, 64);
    CHECK(w[0] == 0.0f && w[32] == 1.0f, "periodic hann: w[0] %g, w[n/2] %g", (double)w[0],
        (double)w[32]);
}

// ---------------------------------------------------------------------------------------------

static void test_decode(void) {
    // Two frames of three axes: 1, -2, 300 and -32768, 32767, 0.
    static const int16_t v[6] = { 1, -2, 300, -32768, 32767, 0 };
    uint8_t le[12], be[12];
    for (int i = 0; i < 6; i++) {
        uint16_t u = (uint16_t)v[i];
        le[2 * i] = (uint8_t)(u & 0xff);
        le[2 * i + 1] = (uint8_t)(u >> 8);
        be[2 * i] = (uint8_t)(u >> 8);
        be[2 * i + 1] = (uint8_t)(u & 0xff);
    }
    int16_t out16[6];
    float outf[6];
    for (int axis = 0; axis < 3; axis++) {
        ml_dsp_decode_i16(le, 2, 3, axis, false, 1.0f, 0.0f, out16 + axis, 3);
        ml_dsp_decode_f32(be, 2, 3, axis, true, 1.0f, 0.0f, outf + axis, 3);
    }
    for (int i = 0; i < 6; i++) {
        CHECK(out16[i] == v[i], "le int16 %d: %d", i, out16[i]);
        CHECK(outf[i] == (float)v[i], "be float %d: %g", i, (double)outf[i]);
    }
    // Per axis (stride 1), scale and offset in float32.
    float y[2];
    ml_dsp_decode_f32(le, 2, 3, 2, false, 0.1f, -1.0f, y, 1);
    CHECK(y[0] == 300.0f * 0.1f + -1.0f && y[1] == -1.0f, "scaled: %g %g", (double)y[0],
        (double)y[1]);
    // int16 output: round half to even, saturate.
    int16_t z[2];
    ml_dsp_decode_i16(le, 2, 3, 0, false, 0.5f, 0.0f, z, 1);  // 0.5 -> 0, -16384
    CHECK(z[0] == 0 && z[1] == -16384, "half-even: %d %d", z[0], z[1]);
    ml_dsp_decode_i16(le, 2, 3, 1, false, 2.0f, 0.0f, z, 1);  // -4, 65534 -> 32767
    CHECK(z[0] == -4 && z[1] == 32767, "saturate: %d %d", z[0], z[1]);
    CHECK(ml_dsp_f32_to_i16(2.5f) == 2 && ml_dsp_f32_to_i16(3.5f) == 4
        && ml_dsp_f32_to_i16(-2.5f) == -2 && ml_dsp_f32_to_i16(-40000.0f) == -32768
        && ml_dsp_f32_to_i16(NAN) == 0 && ml_dsp_f32_to_i16(32767.4f) == 32767,
        "ml_dsp_f32_to_i16");
}

// ---------------------------------------------------------------------------------------------

static void test_buffer(void) {
    ml_dsp_buffer_t b;
    ml_error_t err;
    void *mem = malloc(ml_dsp_buffer_memory_size(5, 2));
    CHECK(ml_dsp_buffer_init(&b, mem, 5, 6, 2, &err) == ML_E_VALUE, "hop > length accepted");
    CHECK(strstr(err.msg, "hop is 6") != NULL, "message: %s", err.msg);
    CHECK(ml_dsp_buffer_init(&b, mem, 5, 2, 2, &err) == ML_OK, "init: %s", err.msg);
    // Frames f = 0, 1, 2, ... with axes (f, -f); pushes of 2 frames: ready after 3 pushes.
    for (int p = 0; p < 6; p++) {
        float x[4] = { (float)(2 * p), (float)(-2 * p), (float)(2 * p + 1), (float)(-2 * p - 1) };
        int16_t xi[4] = { (int16_t)x[0], (int16_t)x[1], (int16_t)x[2], (int16_t)x[3] };
        bool ready = p % 2 ? ml_dsp_buffer_push_i16(&b, xi) : ml_dsp_buffer_push_f32(&b, x);
        CHECK(ready == (p >= 2), "push %d: ready %d", p, ready);
        if (ready) {
            int last = 2 * p + 1;  // newest frame
            for (int i = 0; i < 5; i++) {
                float f = (float)(last - 4 + i);
                CHECK(b.data[2 * i] == f && b.data[2 * i + 1] == -f, "push %d frame %d: %g",
                    p, i, (double)b.data[2 * i]);
            }
        }
    }
    ml_dsp_buffer_reset(&b);
    CHECK(b.filled == 0 && b.data[0] == 0.0f, "reset");
    free(mem);
}

// ---------------------------------------------------------------------------------------------

static void test_stats(void) {
    float x[7] = { 1.0f, -2.0f, 3.0f, 0.0f, -0.0f, 5.0f, 2.0f };
    ml_dsp_stats_t s;
    ml_dsp_stats(x, 7, 1, &s);
    double mean = 9.0 / 7.0, m2 = 0, m3 = 0, m4 = 0, sq = 0;
    for (int i = 0; i < 7; i++) {
        double d = (double)x[i] - mean;
        m2 += d * d / 7;
        m3 += d * d * d / 7;
        m4 += d * d * d * d / 7;
        sq += (double)x[i] * (double)x[i];
    }
    CHECK(fabs(s.mean - mean) < 1e-15, "mean %g", s.mean);
    CHECK(fabs(s.std - sqrt(m2)) < 1e-14, "std %g vs %g", s.std, sqrt(m2));
    CHECK(fabs(s.skew - m3 / pow(m2, 1.5)) < 1e-13, "skew %g", s.skew);
    CHECK(fabs(s.kurtosis - (m4 / (m2 * m2) - 3)) < 1e-13, "kurtosis %g", s.kurtosis);
    CHECK(fabs(s.rms - sqrt(sq / 7)) < 1e-14 && s.energy == sq, "rms %g energy %g", s.rms,
        s.energy);
    CHECK(s.min == -2.0 && s.max == 5.0 && s.ptp == 7.0, "min max ptp");
    // Signs: + - + + + + + (0 and -0 count as non-negative): 2 crossings. Against the mean
    // 1.29: - - + - - + + : 3 crossings.
    CHECK(s.zero_crossings == 2, "zero crossings %u", (unsigned)s.zero_crossings);
    CHECK(s.mean_crossings == 3, "mean crossings %u", (unsigned)s.mean_crossings);
    // Strided (second of two interleaved channels), and a constant signal.
    float y[6] = { 9, 4, 9, 4, 9, 4 };
    ml_dsp_stats(y + 1, 3, 2, &s);
    CHECK(s.mean == 4.0 && s.std == 0.0 && s.skew == 0.0 && s.kurtosis == 0.0
        && s.mean_crossings == 0, "constant: mean %g std %g", s.mean, s.std);
    // An offset does not change the moments (double sums).
    float z[100], z2[100];
    for (int i = 0; i < 100; i++) {
        z[i] = (float)(int)(urand() * 50);
        z2[i] = z[i] + 16384.0f;
    }
    ml_dsp_stats_t a, b;
    ml_dsp_stats(z, 100, 1, &a);
    ml_dsp_stats(z2, 100, 1, &b);
    CHECK(fabs(a.std - b.std) < 1e-9 * a.std && fabs(a.kurtosis - b.kurtosis) < 1e-9,
        "offset: std %g vs %g", a.std, b.std);
    // Within an ulp of the correctly rounded root (Newton steps from a float seed).
    static const double roots[] = { 2.0, 3.0, 1e300, 1e-300, 12345.678, 0.1, 4e-320 };
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        double r = ml_dsp_sqrt(roots[i]), want = sqrt(roots[i]);
        CHECK(fabs(r - want) <= 2.3e-16 * want, "sqrt(%g): %.17g vs %.17g", roots[i], r, want);
    }
    CHECK(ml_dsp_sqrt(0.0) == 0.0 && ml_dsp_sqrt(-1.0) == 0.0 && ml_dsp_sqrt(NAN) == 0.0,
        "sqrt of 0, -1, NaN");
}

// ---------------------------------------------------------------------------------------------
// IIR

typedef struct {
    uint32_t order;
    double cutoff;
    ml_dsp_btype_t btype;
    uint32_t n_sec;
    double sos[18];
} butter_case_t;

// scipy.signal.butter(order, cutoff, btype, fs=100, output='sos')
static const butter_case_t butter_cases[] = {
    { 4, 5.0, ML_DSP_LOWPASS, 2, {
          0.00041659920440659937, 0.0008331984088131987, 0.00041659920440659937, 1.0,
          -1.4796742169311934, 0.5558215432824889,
          1.0, 2.0, 1.0, 1.0, -1.7009643319435257, 0.7884997398152979 } },
    { 3, 0.5, ML_DSP_HIGHPASS, 2, {
          0.969071174031813, -0.969071174031813, 0.0, 1.0, -0.9690674171937933, 0.0,
          1.0, -2.0, 1.0, 1.0, -1.9681033112560975, 0.9690749308698331 } },
    { 5, 45.0, ML_DSP_LOWPASS, 3, {
          0.5999402042196299, 0.5999402042196299, 0.0, 1.0, 0.7265425280053609, 0.0,
          1.0, 2.0, 1.0, 1.0, 1.5216904260722455, 0.5999999999999998,
          1.0, 2.0, 1.0, 1.0, 1.7363101655347295, 0.8256645486206606 } },
    { 2, 10.0, ML_DSP_HIGHPASS, 1, {
          0.6389455251590224, -1.2778910503180447, 0.6389455251590224, 1.0,
          -1.1429805025399011, 0.41280159809618877 } },
};

static void test_butter(void) {
    ml_error_t err;
    for (size_t t = 0; t < sizeof(butter_cases) / sizeof(butter_cases[0]); t++) {
        const butter_case_t *c = &butter_cases[t];
        double sos[18];
        CHECK(ml_dsp_butter_sections(c->order) == c->n_sec, "sections");
        CHECK(ml_dsp_butter(c->order, c->cutoff, 100.0, c->btype, sos, &err) == ML_OK, "%s",
            err.msg);
        double e = 0.0;
        for (uint32_t i = 0; i < 6 * c->n_sec; i++) {
            e = fmax(e, fabs(sos[i] - c->sos[i]));
        }
        CHECK(e < 1e-14, "butter case %u: max coefficient error %g", (unsigned)t, e);
    }
    double sos[6];
    CHECK(ml_dsp_butter(0, 5.0, 100.0, ML_DSP_LOWPASS, sos, &err) == ML_E_VALUE, "order 0");
    CHECK(ml_dsp_butter(2, 50.0, 100.0, ML_DSP_LOWPASS, sos, &err) == ML_E_VALUE, "Nyquist");
    CHECK(ml_dsp_butter(2, 0.0, 100.0, ML_DSP_LOWPASS, sos, &err) == ML_E_VALUE, "cutoff 0");
    CHECK(ml_dsp_butter(2, 5.0, -1.0, ML_DSP_LOWPASS, sos, &err) == ML_E_VALUE, "fs < 0");
}

// The reference: transposed direct form II in double (what scipy.signal.sosfilt does).
static void ref_sosfilt(const double *sos, uint32_t ns, const double *x, double *y, size_t n) {
    double z[64][2];
    memset(z, 0, sizeof(z));
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        for (uint32_t s = 0; s < ns; s++) {
            const double *r = sos + 6 * s;
            double b0 = r[0] / r[3], b1 = r[1] / r[3], b2 = r[2] / r[3];
            double a1 = r[4] / r[3], a2 = r[5] / r[3];
            double o = b0 * v + z[s][0];
            z[s][0] = b1 * v - a1 * o + z[s][1];
            z[s][1] = b2 * v - a2 * o;
            v = o;
        }
        y[i] = v;
    }
}

#define SIG_N 2000

static void make_signal(double *x, int kind) {
    for (int i = 0; i < SIG_N; i++) {
        double t = i / 100.0;
        x[i] = kind == 0 ? 16900.0 + 3000.0 * sin(2 * PI_D * 1.3 * t) + 800.0 * urand()
            : kind == 1 ? 20000.0 * cos(2 * PI_D * (0.1 * t + 0.5 * 2.0 * t * t))  // chirp
            : 9000.0 * urand();
        x[i] = (double)(int16_t)x[i];
    }
}

static void test_iir(void) {
    ml_error_t err;
    static double x[SIG_N], ref[SIG_N];
    static float xf[SIG_N], yf[SIG_N];
    static int16_t xi[SIG_N], yi[SIG_N];
    double worst_f = 0.0, worst_q = 0.0;
    for (size_t t = 0; t < sizeof(butter_cases) / sizeof(butter_cases[0]); t++) {
        const butter_case_t *c = &butter_cases[t];
        for (int kind = 0; kind < 3; kind++) {
            make_signal(x, kind);
            ref_sosfilt(c->sos, c->n_sec, x, ref, SIG_N);
            double peak = 0.0;
            for (int i = 0; i < SIG_N; i++) {
                xf[i] = (float)x[i];
                xi[i] = (int16_t)x[i];
                peak = fmax(peak, fabs(ref[i]));
            }
            ml_dsp_iir_t f, q;
            void *mf = malloc(ml_dsp_iir_memory_size(c->n_sec, 1, false));
            void *mq = malloc(ml_dsp_iir_memory_size(c->n_sec, 1, true));
            CHECK(ml_dsp_iir_init(&f, mf, c->sos, c->n_sec, 1, false, &err) == ML_OK, "%s",
                err.msg);
            CHECK(ml_dsp_iir_init(&q, mq, c->sos, c->n_sec, 1, true, &err) == ML_OK, "%s",
                err.msg);
            // In chunks of 7 (state carried over), the float one in place.
            memcpy(yf, xf, sizeof(yf));
            for (int i = 0; i < SIG_N; i += 7) {
                size_t m = SIG_N - i < 7 ? (size_t)(SIG_N - i) : 7;
                ml_dsp_iir_process_f32(&f, yf + i, yf + i, m);
                ml_dsp_iir_process_q15(&q, xi + i, yi + i, m);
            }
            for (int i = 0; i < SIG_N; i++) {
                worst_f = fmax(worst_f, fabs((double)yf[i] - ref[i]) / peak);
                if (fabs(ref[i]) < 32767.0) {
                    double r = fmin(32767.0, fmax(-32768.0, nearbyint(ref[i])));
                    worst_q = fmax(worst_q, fabs((double)yi[i] - r));
                }
            }
            free(mf);
            free(mq);
        }
    }
    CHECK(worst_f <= 1e-7, "float32 IIR: max relative error %g", worst_f);
    CHECK(worst_q <= 1.0, "q15 IIR: max error %g LSB against scipy rounded", worst_q);

    // Two interleaved channels give what two one-channel filters give; reset restarts.
    const butter_case_t *c = &butter_cases[0];
    ml_dsp_iir_t f2, f1;
    void *m2 = malloc(ml_dsp_iir_memory_size(c->n_sec, 2, false));
    void *m1 = malloc(ml_dsp_iir_memory_size(c->n_sec, 1, false));
    ml_dsp_iir_init(&f2, m2, c->sos, c->n_sec, 2, false, &err);
    ml_dsp_iir_init(&f1, m1, c->sos, c->n_sec, 1, false, &err);
    static float inter[2 * 300], out2[2 * 300], a[300], b[300];
    for (int i = 0; i < 300; i++) {
        inter[2 * i] = a[i] = (float)(1000.0 * urand());
        inter[2 * i + 1] = b[i] = (float)(1000.0 * urand());
    }
    ml_dsp_iir_process_f32(&f2, inter, out2, 300);
    ml_dsp_iir_process_f32(&f1, a, a, 300);
    ml_dsp_iir_reset(&f1);
    ml_dsp_iir_process_f32(&f1, b, b, 300);
    bool same = true;
    for (int i = 0; i < 300; i++) {
        same = same && out2[2 * i] == a[i] && out2[2 * i + 1] == b[i];
    }
    CHECK(same, "two channels differ from two filters");
    free(m2);
    free(m1);

    // Saturation: a full-scale square wave through a resonant low-pass stays in range.
    double sos_res[6] = { 0.1, 0.2, 0.1, 1.0, -1.8, 0.98 };
    ml_dsp_iir_t q;
    void *mq = malloc(ml_dsp_iir_memory_size(1, 1, true));
    CHECK(ml_dsp_iir_init(&q, mq, sos_res, 1, 1, true, &err) == ML_OK, "%s", err.msg);
    for (int i = 0; i < SIG_N; i++) {
        xi[i] = (i / 20) % 2 ? 32767 : -32768;
    }
    ml_dsp_iir_process_q15(&q, xi, yi, SIG_N);
    int16_t lo = 0, hi = 0;
    for (int i = 0; i < SIG_N; i++) {
        lo = yi[i] < lo ? yi[i] : lo;
        hi = yi[i] > hi ? yi[i] : hi;
    }
    CHECK(lo == -32768 && hi == 32767, "saturated output %d..%d", lo, hi);
    free(mq);

    // Rejected coefficients.
    static const struct {
        double row[6];
        const char *msg;
    } bad[] = {
        { { 1, 0, 0, 0, 0.5, 0 }, "a0 is 0" },
        { { 1, NAN, 0, 1, 0.5, 0 }, "b1 is not finite" },
        { { 1, 0, 0, 1, INFINITY, 0 }, "a1 is not finite" },
        { { 1, 0, 0, 1, 0, 1.0 }, "unstable" },         // poles on the unit circle
        { { 1, 0, 0, 1, -2.1, 1.05 }, "unstable" },     // |a2| > 1
        { { 1, 0, 0, 1, -1.6, 0.5 }, "unstable" },      // a real pole at 1.1
        { { 1, 0, 0, 2, -3.2, 1.0 }, "unstable" },      // after dividing by a0
    };
    for (size_t t = 0; t < sizeof(bad) / sizeof(bad[0]); t++) {
        for (int qq = 0; qq < 2; qq++) {
            void *m = malloc(ml_dsp_iir_memory_size(1, 1, qq));
            ml_dsp_iir_t g;
            CHECK(ml_dsp_iir_init(&g, m, bad[t].row, 1, 1, qq, &err) == ML_E_VALUE,
                "bad case %u accepted", (unsigned)t);
            CHECK(strstr(err.msg, bad[t].msg) != NULL, "case %u: message '%s'", (unsigned)t,
                err.msg);
            free(m);
        }
    }
    double big[6] = { 5.0, 0, 0, 1, 0, 0 };
    void *m = malloc(ml_dsp_iir_memory_size(1, 1, false));  // the larger of the two
    ml_dsp_iir_t g;
    CHECK(ml_dsp_iir_init(&g, m, big, 1, 1, true, &err) == ML_E_VALUE
        && strstr(err.msg, "reaches 4"), "q15 b = 5: %s", err.msg);
    CHECK(ml_dsp_iir_init(&g, m, big, 1, 1, false, &err) == ML_OK, "float b = 5");
    CHECK(ml_dsp_iir_init(&g, m, big, 0, 1, false, &err) == ML_E_SIZE, "0 sections");
    CHECK(ml_dsp_iir_init(&g, m, big, 1, 0, false, &err) == ML_E_VALUE, "0 channels");
    free(m);
}

// ---------------------------------------------------------------------------------------------
// FFT

static void ref_dft(const float *x, const float *w, uint32_t n, double *re, double *im) {
    for (uint32_t k = 0; k <= n / 2; k++) {
        double sr = 0.0, si = 0.0;
        for (uint32_t i = 0; i < n; i++) {
            double a = 2.0 * PI_D * (double)((uint64_t)k * i % n) / n;
            double v = (double)x[i] * (w ? (double)w[i] : 1.0);
            sr += v * cos(a);
            si -= v * sin(a);
        }
        re[k] = sr;
        im[k] = si;
    }
}

static void test_fft(void) {
    ml_error_t err;
    static float x[4096], out[4098], mag[2049];
    static double re[2049], im[2049];
    double worst = 0.0;
    for (uint32_t n = 16; n <= 256; n *= 2) {
        for (int wt = 0; wt < 3; wt++) {
            ml_dsp_fft_t f;
            void *mem = malloc(ml_dsp_fft_memory_size(n, (ml_dsp_window_t)wt));
            CHECK(ml_dsp_fft_init(&f, mem, n, (ml_dsp_window_t)wt, &err) == ML_OK, "%s",
                err.msg);
            for (uint32_t i = 0; i < n; i++) {
                x[i] = (float)(1000.0 * urand() + 300.0 * sin(2 * PI_D * 5.5 * i / n));
            }
            ml_dsp_rfft(&f, x, out);
            ref_dft(x, f.window, n, re, im);
            double peak = 0.0, e = 0.0;
            for (uint32_t k = 0; k <= n / 2; k++) {
                peak = fmax(peak, hypot(re[k], im[k]));
                e = fmax(e, hypot((double)out[2 * k] - re[k], (double)out[2 * k + 1] - im[k]));
            }
            worst = fmax(worst, e / peak);
            // In place gives the same.
            memcpy(out, x, n * sizeof(float));
            ml_dsp_rfft(&f, out, out);
            ml_dsp_magnitude(out, mag, n / 2 + 1);
            CHECK(fabs((double)mag[3] - hypot(re[3], im[3])) <= 1e-5 * peak, "magnitude");
            ml_dsp_power(out, mag, n / 2 + 1);
            CHECK(fabs((double)mag[3] - (re[3] * re[3] + im[3] * im[3])) <= 1e-5 * peak * peak,
                "power");
            free(mem);
        }
    }
    CHECK(worst <= 1e-6, "rfft vs DFT: max error %g of the peak", worst);

    // Large sizes: a cosine at bin 37 and a constant; every other bin ~0. The int16 variant
    // gives exactly what the float one gives on the same values.
    for (uint32_t n = 1024; n <= 4096; n *= 2) {
        ml_dsp_fft_t f;
        void *mem = malloc(ml_dsp_fft_memory_size(n, ML_DSP_WINDOW_NONE));
        CHECK(ml_dsp_fft_init(&f, mem, n, ML_DSP_WINDOW_NONE, &err) == ML_OK, "%s", err.msg);
        static int16_t xi[4096];
        static float out_i[4098];
        for (uint32_t i = 0; i < n; i++) {
            double a = 2.0 * PI_D * (double)(37u * i % n) / n;
            x[i] = (float)(10000.0 * cos(a) + 5.0);
            xi[i] = (int16_t)(i % 2000) - 1000;
        }
        ml_dsp_rfft(&f, x, out);
        double e = 0.0;
        for (uint32_t k = 0; k <= n / 2; k++) {
            double want = k == 37 ? 5000.0 * n : k == 0 ? 5.0 * n : 0.0;
            e = fmax(e, fabs(hypot(out[2 * k], out[2 * k + 1]) - want));
        }
        CHECK(e <= 1e-6 * 5000.0 * n, "n %u: error %g of the peak", (unsigned)n,
            e / (5000.0 * n));
        for (uint32_t i = 0; i < n; i++) {
            x[i] = (float)xi[i];
        }
        ml_dsp_rfft(&f, x, out);
        ml_dsp_rfft_i16(&f, xi, out_i);
        CHECK(memcmp(out, out_i, (n + 2) * sizeof(float)) == 0, "n %u: int16 input differs",
            (unsigned)n);
        free(mem);
    }

    ml_dsp_fft_t f;
    static const uint32_t bad[] = { 0, 8, 100, 8192, 48 };
    for (size_t t = 0; t < sizeof(bad) / sizeof(bad[0]); t++) {
        CHECK(ml_dsp_fft_init(&f, x, bad[t], ML_DSP_WINDOW_NONE, &err) == ML_E_VALUE
            && strstr(err.msg, "power of two"), "n %u accepted", (unsigned)bad[t]);
    }
}

// ---------------------------------------------------------------------------------------------
// Log-mel

static double mel(double f) {
    return 2595.0 * log10(1.0 + f / 700.0);
}

static double imel(double m) {
    return 700.0 * (pow(10.0, m / 2595.0) - 1.0);
}

static void test_logmel(void) {
    ml_error_t err;
    ml_dsp_logmel_config_t c = { 16000.0f, 512, 160, 40, 20.0f, 7600.0f, ML_DSP_WINDOW_HANN,
                                 true };
    size_t size = ml_dsp_logmel_memory_size(&c, &err);
    CHECK(size > 0, "%s", err.msg);
    void *mem = malloc(size);
    ml_dsp_logmel_t m;
    CHECK(ml_dsp_logmel_init(&m, mem, &c, &err) == ML_OK, "%s", err.msg);
    // The filterbank against the definition.
    double werr = 0.0;
    const float *w = m.weights;
    for (uint32_t b = 0; b < c.n_mels; b++) {
        double lo = imel(mel(20) + (mel(7600) - mel(20)) * b / 41.0);
        double ce = imel(mel(20) + (mel(7600) - mel(20)) * (b + 1) / 41.0);
        double hi = imel(mel(20) + (mel(7600) - mel(20)) * (b + 2) / 41.0);
        for (uint32_t k = 0; k <= 256; k++) {
            double f = k * 16000.0 / 512;
            double want = fmax(0.0, fmin((f - lo) / (ce - lo), (hi - f) / (hi - ce)));
            double got = k >= m.first[b] && k < (uint32_t)m.first[b] + m.count[b]
                ? (double)w[k - m.first[b]] : 0.0;
            werr = fmax(werr, fabs(got - want));
        }
        w += m.count[b];
    }
    CHECK(werr < 2e-5, "mel weights: max error %g", werr);
    // A frame: tone at 1 kHz plus noise; against a double-precision reference.
    static float frame[512], out[40];
    static double re[257], im[257];
    for (int i = 0; i < 512; i++) {
        frame[i] = (float)(0.5 * sin(2 * PI_D * 1000.0 * i / 16000.0) + 0.01 * urand());
    }
    ml_dsp_logmel_frame(&m, frame, out);
    float win[512];
    ml_dsp_window_fill(ML_DSP_WINDOW_HANN, win, 512);
    ref_dft(frame, win, 512, re, im);
    double e = 0.0;
    w = m.weights;
    for (uint32_t b = 0; b < c.n_mels; b++) {
        double sum = 0.0;
        for (uint32_t j = 0; j < m.count[b]; j++) {
            uint32_t k = m.first[b] + j;
            sum += (double)w[j] * (re[k] * re[k] + im[k] * im[k]);
        }
        w += m.count[b];
        e = fmax(e, fabs((double)out[b] - 10.0 * log10(fmax(sum, 1e-10))));
    }
    CHECK(e < 1e-3, "log-mel frame: max error %g dB", e);
    CHECK(ml_dsp_logmel_frames(&m, 511) == 0 && ml_dsp_logmel_frames(&m, 512) == 1
        && ml_dsp_logmel_frames(&m, 512 + 159) == 1 && ml_dsp_logmel_frames(&m, 512 + 160) == 2,
        "frame count");
    free(mem);

    ml_dsp_logmel_config_t bad = c;
    bad.n_fft = 500;
    CHECK(ml_dsp_logmel_memory_size(&bad, &err) == 0 && strstr(err.msg, "n_fft"), "n_fft 500");
    bad = c;
    bad.fmax = 9000.0f;
    CHECK(ml_dsp_logmel_memory_size(&bad, &err) == 0 && strstr(err.msg, "fmax"), "fmax");
    bad = c;
    bad.n_mels = 0;
    CHECK(ml_dsp_logmel_memory_size(&bad, &err) == 0, "n_mels 0");
}

// ---------------------------------------------------------------------------------------------
// Feature sets

static void test_features(void) {
    ml_error_t err;
    ml_dsp_features_config_t c;
    memset(&c, 0, sizeof(c));
    c.length = 64;
    c.n_axes = 2;
    c.sample_rate = 100.0f;
    c.scale = 0.5f;
    c.magnitude = true;
    c.n_time = 3;
    c.time[0] = ML_DSP_F_KURTOSIS;
    c.time[1] = ML_DSP_F_MEAN;
    c.time[2] = ML_DSP_F_ZERO_CROSSINGS;
    c.spectral = true;
    c.spec_stats = true;
    c.filter = ML_DSP_FILTER_LOWPASS;
    c.filter_order = 4;
    c.cutoff = 20.0f;
    c.fft_length = 32;
    c.n_bins = 3;
    c.agg = ML_DSP_AGG_MEAN;
    c.log = false;
    c.overlap = true;
    c.window = ML_DSP_WINDOW_NONE;
    size_t size;
    CHECK(ml_dsp_features_memory_size(&c, &size, &err) == ML_OK, "%s", err.msg);
    void *mem = malloc(size);
    ml_dsp_features_t f;
    CHECK(ml_dsp_features_init(&f, mem, &c, &err) == ML_OK, "%s", err.msg);
    // Bins 1..floor(20 * 32 / 100) = 6, three groups of two; per channel 3 + 3 + 3.
    CHECK(f.k_lo == 1 && f.k_hi == 6 && f.n_groups == 3 && f.n_features == 3 * 9,
        "layout: bins %u..%u, %u features", (unsigned)f.k_lo, (unsigned)f.k_hi,
        (unsigned)f.n_features);
    static float x[128], out[27];
    static int16_t xi[128];
    for (int i = 0; i < 64; i++) {
        xi[2 * i] = (int16_t)(100.0 * sin(2 * PI_D * 7.0 * i / 100.0) + 20.0 * urand());
        xi[2 * i + 1] = (int16_t)(-50 + 30.0 * urand());
        x[2 * i] = xi[2 * i];
        x[2 * i + 1] = xi[2 * i + 1];
    }
    CHECK(ml_dsp_features_process_f32(&f, x, out, &err) == ML_OK, "%s", err.msg);
    static float out_i[27];
    CHECK(ml_dsp_features_process_i16(&f, xi, out_i, &err) == ML_OK, "%s", err.msg);
    CHECK(memcmp(out, out_i, sizeof(out)) == 0, "int16 and float input differ");

    // Independent reference of channel 0 (scaled values), of the magnitude channel's mean,
    // and of channel 1's spectral block without the filter's influence on the layout.
    float ch[64];
    for (int i = 0; i < 64; i++) {
        ch[i] = x[2 * i] * 0.5f;
    }
    ml_dsp_stats_t s;
    ml_dsp_stats(ch, 64, 1, &s);
    CHECK(out[0] == (float)s.kurtosis && out[1] == (float)s.mean
        && out[2] == (float)s.zero_crossings, "channel 0 time features");
    double mag_mean = 0.0;
    for (int i = 0; i < 64; i++) {
        float a = x[2 * i] * 0.5f, b = x[2 * i + 1] * 0.5f;
        mag_mean += sqrt((double)(a * a + b * b));
    }
    CHECK(fabs((double)out[18 + 1] - mag_mean / 64) < 1e-5 * mag_mean / 64, "magnitude mean %g",
        (double)out[18 + 1]);
    // Spectral block of channel 0: mean removed, filtered (double reference), mean removed,
    // then the mean power of bins 1-2, 3-4, 5-6 over 3 half-overlapping frames.
    double sig[64], filt[64], sos[12];
    double mean0 = 0.0;
    for (int i = 0; i < 64; i++) {
        mean0 += (double)ch[i];
    }
    mean0 /= 64;
    for (int i = 0; i < 64; i++) {
        sig[i] = (double)ch[i] - mean0;
    }
    ml_dsp_butter(4, 20.0, 100.0, ML_DSP_LOWPASS, sos, &err);
    ref_sosfilt(sos, 2, sig, filt, 64);
    double mean1 = 0.0, sq = 0.0;
    for (int i = 0; i < 64; i++) {
        mean1 += filt[i] / 64;
    }
    float frame[32];
    double acc[17] = { 0 };
    for (int i = 0; i < 64; i++) {
        filt[i] -= mean1;
        sq += filt[i] * filt[i];
    }
    CHECK(fabs((double)out[3] - sqrt(sq / 64)) < 1e-5 * sqrt(sq / 64), "spectral rms %g vs %g",
        (double)out[3], sqrt(sq / 64));
    for (int fr = 0; fr < 3; fr++) {
        for (int i = 0; i < 32; i++) {
            frame[i] = (float)filt[16 * fr + i];
        }
        static double re[17], im[17];
        ref_dft(frame, NULL, 32, re, im);
        for (int k = 0; k <= 16; k++) {
            acc[k] += (re[k] * re[k] + im[k] * im[k]) / 32;
        }
    }
    for (int g = 0; g < 3; g++) {
        double want = (acc[1 + 2 * g] + acc[2 + 2 * g]) / 6;
        CHECK(fabs((double)out[6 + g] - want) < 1e-4 * acc[1], "group %d: %g vs %g", g,
            (double)out[6 + g], want);
    }

    // Non-finite input is named.
    x[5] = NAN;
    CHECK(ml_dsp_features_process_f32(&f, x, out, &err) == ML_E_INPUT
        && strstr(err.msg, "window[5]") && strstr(err.msg, "frame 2, axis 1"), "NaN: %s",
        err.msg);
    free(mem);

    // Configuration errors.
    ml_dsp_features_config_t b = c;
    b.fft_length = 128;
    CHECK(ml_dsp_features_memory_size(&b, &size, &err) == ML_E_VALUE
        && strstr(err.msg, "at most the window length"), "fft > length: %s", err.msg);
    b = c;
    b.fft_length = 48;
    CHECK(ml_dsp_features_memory_size(&b, &size, &err) == ML_E_VALUE, "fft 48");
    b = c;
    b.n_bins = 7;
    CHECK(ml_dsp_features_memory_size(&b, &size, &err) == ML_E_VALUE
        && strstr(err.msg, "n_bins is 7"), "n_bins: %s", err.msg);
    b = c;
    b.time[1] = ML_DSP_F_KURTOSIS;
    CHECK(ml_dsp_features_memory_size(&b, &size, &err) == ML_E_VALUE
        && strstr(err.msg, "twice"), "duplicate: %s", err.msg);
    b = c;
    b.cutoff = 60.0f;
    CHECK(ml_dsp_features_memory_size(&b, &size, &err) == ML_E_VALUE, "cutoff > Nyquist");
    b = c;
    b.filter = ML_DSP_FILTER_HIGHPASS;
    b.cutoff = 49.0f;  // ceil(49 * 32 / 100) = 16: one bin
    CHECK(ml_dsp_features_memory_size(&b, &size, &err) == ML_E_VALUE, "3 groups of 1 bin");
    b.n_bins = 0;
    CHECK(ml_dsp_features_memory_size(&b, &size, &err) == ML_OK, "one bin: %s", err.msg);
    b = c;
    b.spectral = false;
    b.n_time = 0;
    CHECK(ml_dsp_features_memory_size(&b, &size, &err) == ML_E_VALUE
        && strstr(err.msg, "no features"), "empty");
    CHECK(ml_dsp_time_feature_id("kurtosis", 8) == ML_DSP_F_KURTOSIS
        && ml_dsp_time_feature_id("kurt", 4) == -1 && ml_dsp_time_feature_id("energyx", 7) == -1
        && ml_dsp_time_feature_name(ML_DSP_F_PTP)[0] == 'p', "names");
}

// ---------------------------------------------------------------------------------------------
// Edge cases of issue 14: a 1-point window, decode parameters, float32 overflow reported as a
// non-finite value (and, for features, as an error), never as a plausible number.

static void test_edges(void) {
    float w[2] = { -1.0f, -1.0f };
    ml_dsp_window_fill(ML_DSP_WINDOW_HANN, w, 1);
    CHECK(w[0] == 1.0f, "hann of length 1: %g (scipy: 1)", (double)w[0]);
    ml_dsp_window_fill(ML_DSP_WINDOW_HAMMING, w, 1);
    CHECK(w[0] == 1.0f, "hamming of length 1: %g (scipy: 1)", (double)w[0]);
    ml_dsp_window_fill(ML_DSP_WINDOW_HANN, w, 2);
    CHECK(w[0] == 0.0f && w[1] == 1.0f, "hann of length 2: %g %g", (double)w[0], (double)w[1]);
    ml_dsp_window_fill(ML_DSP_WINDOW_HAMMING, w, 2);
    CHECK(w[0] == 0.08f && w[1] == 1.0f, "hamming of length 2: %g %g", (double)w[0],
        (double)w[1]);

    ml_error_t err;
    CHECK(ml_dsp_decode_check(1.0f, 0.0f, true, &err) == ML_OK, "plain decode");
    CHECK(ml_dsp_decode_check(NAN, 0.0f, false, &err) == ML_E_VALUE && strstr(err.msg, "scale"),
        "NaN scale: %s", err.msg);
    CHECK(ml_dsp_decode_check(1.0f, INFINITY, true, &err) == ML_E_VALUE
        && strstr(err.msg, "offset"), "inf offset: %s", err.msg);
    CHECK(ml_dsp_decode_check(3e38f, 0.0f, true, &err) == ML_E_VALUE, "overflowing scale");
    CHECK(ml_dsp_decode_check(3e38f, 0.0f, false, &err) == ML_OK, "int16 output saturates");
    CHECK(ml_dsp_decode_check(1e34f, 0.0f, true, &err) == ML_OK, "1e34 * 32768 fits");

    // Magnitude of a finite spectrum whose square overflows float32: still |X|.
    float spec[4] = { 3e20f, 4e20f, -1e38f, 0.0f }, mag[2];
    ml_dsp_magnitude(spec, mag, 2);
    CHECK(fabs((double)mag[0] - 5e20) < 5e20 * 1e-6 && mag[1] == 1e38f, "magnitude %g %g",
        (double)mag[0], (double)mag[1]);

    // FFT and log-mel of a huge input: non-finite (an overflow), never the -100 dB floor.
    ml_dsp_logmel_config_t c = { 16000.0f, 16, 8, 4, 0.0f, 8000.0f, ML_DSP_WINDOW_HANN, true };
    size_t size = ml_dsp_logmel_memory_size(&c, &err);
    void *mem = malloc(size);
    ml_dsp_logmel_t m;
    CHECK(ml_dsp_logmel_init(&m, mem, &c, &err) == ML_OK, "%s", err.msg);
    float frame[16], out[4];
    for (int i = 0; i < 16; i++) {
        frame[i] = 3e38f;
    }
    ml_dsp_logmel_frame(&m, frame, out);
    CHECK(ml_dsp_find_nonfinite(out, 4) < 4, "log-mel of 3e38: %g %g %g %g", (double)out[0],
        (double)out[1], (double)out[2], (double)out[3]);
    free(mem);

    // Features: a square that overflows is an error naming the feature.
    ml_dsp_features_config_t fc;
    memset(&fc, 0, sizeof(fc));
    fc.length = 4;
    fc.n_axes = 1;
    fc.scale = 1.0f;
    fc.n_time = 2;
    fc.time[0] = ML_DSP_F_MEAN;
    fc.time[1] = ML_DSP_F_ENERGY;
    CHECK(ml_dsp_features_memory_size(&fc, &size, &err) == ML_OK, "%s", err.msg);
    mem = malloc(size);
    ml_dsp_features_t f;
    CHECK(ml_dsp_features_init(&f, mem, &fc, &err) == ML_OK, "%s", err.msg);
    float x[4] = { 3e38f, 3e38f, 3e38f, 3e38f }, feat[2];
    CHECK(ml_dsp_features_process_f32(&f, x, feat, &err) == ML_E_INPUT
        && strstr(err.msg, "feature 1") && strstr(err.msg, "overflows"), "energy: %s", err.msg);
    x[0] = x[1] = x[2] = x[3] = 2.0f;
    CHECK(ml_dsp_features_process_f32(&f, x, feat, &err) == ML_OK && feat[1] == 16.0f,
        "then a normal window: %g", (double)feat[1]);
    free(mem);
}

int main(void) {
    test_trig_and_windows();
    test_decode();
    test_buffer();
    test_stats();
    test_butter();
    test_iir();
    test_fft();
    test_logmel();
    test_features();
    test_edges();
    return check_summary("test_dsp");
}
