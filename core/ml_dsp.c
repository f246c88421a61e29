// Sensor DSP: windows, raw sensor decoding, the overlapped window buffer, time-domain
// statistics, IIR filters (float32 and q15) and Butterworth design. See ml_dsp.h.
#include <string.h>

#include "ml_dsp.h"
#include "ml_math.h"

#define PI_D (3.14159265358979323846)
#define HALF_PI_D (1.57079632679489661923)

// ---------------------------------------------------------------------------------------------
// Trigonometry of 2 pi k / n. The angle is reduced with integers: quadrant q and the remainder
// r / n of a quarter turn; past half a quarter the complement is used, so ml_sinf/ml_cosf only
// see arguments in [0, pi/4], where both are accurate to a couple of ulp.

void ml_dsp_cos_sin_2pi(uint32_t k, uint32_t n, float *c, float *s) {
    uint64_t m = k % n;
    uint32_t q = (uint32_t)((4 * m) / n);
    uint64_t r = 4 * m - (uint64_t)q * n;  // angle = q * pi/2 + (pi/2) * r / n
    float cp, sp;
    if (2 * r <= n) {
        float phi = (float)((double)r / (double)n * HALF_PI_D);
        cp = ml_cosf(phi);
        sp = ml_sinf(phi);
    } else {
        float phi = (float)((double)(n - r) / (double)n * HALF_PI_D);
        cp = ml_sinf(phi);
        sp = ml_cosf(phi);
    }
    switch (q) {
        case 0:
            *c = cp;
            *s = sp;
            break;
        case 1:
            *c = -sp;
            *s = cp;
            break;
        case 2:
            *c = -cp;
            *s = -sp;
            break;
        default:
            *c = sp;
            *s = -cp;
            break;
    }
}

void ml_dsp_window_fill(ml_dsp_window_t type, float *w, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (type == ML_DSP_WINDOW_NONE || n == 1) {  // scipy: a 1-point window is [1.0]
            w[i] = 1.0f;
            continue;
        }
        float c, s;
        ml_dsp_cos_sin_2pi((uint32_t)i, (uint32_t)n, &c, &s);
        w[i] = type == ML_DSP_WINDOW_HANN ? (float)(0.5 - 0.5 * (double)c)
            : (float)(0.54 - 0.46 * (double)c);
    }
}

// ---------------------------------------------------------------------------------------------
// Raw sensor decoding

static inline int16_t read_i16(const uint8_t *p, bool big_endian) {
    uint16_t u = big_endian ? (uint16_t)((p[0] << 8) | p[1]) : (uint16_t)(p[0] | (p[1] << 8));
    return (int16_t)u;
}

void ml_dsp_decode_f32(const uint8_t *src, size_t n_frames, size_t n_axes, size_t axis,
    bool big_endian, float scale, float offset, float *dst, size_t dst_stride) {
    const uint8_t *p = src + 2 * axis;
    const size_t step = 2 * n_axes;
    if (scale == 1.0f && offset == 0.0f) {
        for (size_t i = 0; i < n_frames; i++, p += step) {
            dst[i * dst_stride] = (float)read_i16(p, big_endian);
        }
        return;
    }
    for (size_t i = 0; i < n_frames; i++, p += step) {
        float v = (float)read_i16(p, big_endian) * scale;
        dst[i * dst_stride] = v + offset;
    }
}

ml_status_t ml_dsp_decode_check(float scale, float offset, bool float_out, ml_error_t *err) {
    if (!ml_isfinitef(scale) || !ml_isfinitef(offset)) {
        return ml_error_set(err, ML_E_VALUE, 0, "%s is not finite",
            ml_isfinitef(scale) ? "offset" : "scale");
    }
    // raw * scale + offset is monotonic in raw: the ends of the int16 range bound it.
    if (float_out && (!ml_isfinitef(-32768.0f * scale + offset)
                      || !ml_isfinitef(32767.0f * scale + offset))) {
        return ml_error_set(err, ML_E_VALUE, 0, "scale and offset take int16 values beyond "
            "float32 (|scale| * 32768 + |offset| must stay below 3.4e38)");
    }
    return ML_OK;
}

int16_t ml_dsp_f32_to_i16(float v) {
    if (ml_isnanf(v)) {
        return 0;
    }
    if (v >= 32767.0f) {
        return 32767;
    }
    if (v <= -32768.0f) {
        return -32768;
    }
    float f = ml_floorf(v);
    float d = v - f;  // exact: |v| < 2^15
    int32_t r = (int32_t)f;
    if (d > 0.5f || (d == 0.5f && (r & 1))) {
        r++;
    }
    return (int16_t)(r > 32767 ? 32767 : r);
}

void ml_dsp_decode_i16(const uint8_t *src, size_t n_frames, size_t n_axes, size_t axis,
    bool big_endian, float scale, float offset, int16_t *dst, size_t dst_stride) {
    const uint8_t *p = src + 2 * axis;
    const size_t step = 2 * n_axes;
    if (scale == 1.0f && offset == 0.0f) {
        for (size_t i = 0; i < n_frames; i++, p += step) {
            dst[i * dst_stride] = read_i16(p, big_endian);
        }
        return;
    }
    for (size_t i = 0; i < n_frames; i++, p += step) {
        float v = (float)read_i16(p, big_endian) * scale;
        dst[i * dst_stride] = ml_dsp_f32_to_i16(v + offset);
    }
}

// ---------------------------------------------------------------------------------------------
// Overlapped window buffer. The window is kept contiguous by moving the kept frames down on
// each push (length - hop frames, a memmove): reading is then free and in place, and a push
// costs no more than copying the hop it adds once length <= 2 * hop, and little more otherwise.

size_t ml_dsp_buffer_memory_size(uint32_t length, uint32_t n_axes) {
    return ((size_t)length * n_axes * sizeof(float) + 7) & ~(size_t)7;
}

ml_status_t ml_dsp_buffer_init(ml_dsp_buffer_t *b, void *memory, uint32_t length, uint32_t hop,
    uint32_t n_axes, ml_error_t *err) {
    if (length < 1 || length > ML_DSP_MAX_LENGTH) {
        return ml_error_set(err, ML_E_VALUE, 0, "length is %lu, expected 1..%lu",
            (unsigned long)length, (unsigned long)ML_DSP_MAX_LENGTH);
    }
    if (hop < 1 || hop > length) {
        return ml_error_set(err, ML_E_VALUE, 0, "hop is %lu, expected 1..%lu (the length)",
            (unsigned long)hop, (unsigned long)length);
    }
    if (n_axes < 1 || n_axes > ML_DSP_MAX_AXES) {
        return ml_error_set(err, ML_E_VALUE, 0, "n_axes is %lu, expected 1..%lu",
            (unsigned long)n_axes, (unsigned long)ML_DSP_MAX_AXES);
    }
    b->length = length;
    b->hop = hop;
    b->n_axes = n_axes;
    b->data = memory;
    ml_dsp_buffer_reset(b);
    return ML_OK;
}

void ml_dsp_buffer_reset(ml_dsp_buffer_t *b) {
    b->filled = 0;
    memset(b->data, 0, (size_t)b->length * b->n_axes * sizeof(float));
}

static float *buffer_advance(ml_dsp_buffer_t *b) {
    const size_t keep = (size_t)(b->length - b->hop) * b->n_axes;
    if (keep) {
        memmove(b->data, b->data + (size_t)b->hop * b->n_axes, keep * sizeof(float));
    }
    b->filled = b->filled + b->hop >= b->length ? b->length : b->filled + b->hop;
    return b->data + keep;
}

bool ml_dsp_buffer_push_f32(ml_dsp_buffer_t *b, const float *x) {
    float *dst = buffer_advance(b);
    memcpy(dst, x, (size_t)b->hop * b->n_axes * sizeof(float));
    return b->filled >= b->length;
}

bool ml_dsp_buffer_push_i16(ml_dsp_buffer_t *b, const int16_t *x) {
    float *dst = buffer_advance(b);
    const size_t n = (size_t)b->hop * b->n_axes;
    for (size_t i = 0; i < n; i++) {
        dst[i] = (float)x[i];
    }
    return b->filled >= b->length;
}

// ---------------------------------------------------------------------------------------------
// Statistics

double ml_dsp_sqrt(double x) {
    if (!(x > 0.0)) {
        return 0.0;  // 0, negative (rounding of a variance) and NaN
    }
    if (x - x != 0.0) {
        return x;  // +inf
    }
    // Bring x into float range by powers of 4, so the float seed is neither 0 nor inf.
    double factor = 1.0;
    while (x > 1e30) {
        x *= 0x1p-60;
        factor *= 0x1p30;
    }
    while (x < 1e-30) {
        x *= 0x1p60;
        factor *= 0x1p-30;
    }
    double s = (double)ml_sqrtf((float)x);
    s = 0.5 * (s + x / s);  // each Newton step doubles the correct bits: 24 -> 48 -> 53
    s = 0.5 * (s + x / s);
    return s * factor;
}

double ml_dsp_mean(const float *x, size_t n, size_t stride) {
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += (double)x[i * stride];
    }
    return sum / (double)n;
}

void ml_dsp_stats(const float *x, size_t n, size_t stride, ml_dsp_stats_t *s) {
    double sum = 0.0, sum_sq = 0.0;
    float lo = x[0], hi = x[0];
    uint32_t zc = 0;
    bool neg = x[0] < 0.0f;
    for (size_t i = 0; i < n; i++) {
        float v = x[i * stride];
        double d = (double)v;
        sum += d;
        sum_sq += d * d;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        bool vneg = v < 0.0f;
        zc += vneg != neg;
        neg = vneg;
    }
    const double mean = sum / (double)n;
    double m2 = 0.0, m3 = 0.0, m4 = 0.0;
    uint32_t mc = 0;
    bool below = (double)x[0] < mean;
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i * stride] - mean;
        double d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
        bool b = d < 0.0;
        mc += b != below;
        below = b;
    }
    m2 /= (double)n;
    m3 /= (double)n;
    m4 /= (double)n;
    s->mean = mean;
    s->std = ml_dsp_sqrt(m2);
    s->min = (double)lo;
    s->max = (double)hi;
    s->ptp = (double)hi - (double)lo;
    s->energy = sum_sq;
    s->rms = ml_dsp_sqrt(sum_sq / (double)n);
    if (m2 > 0.0) {
        s->skew = m3 / (m2 * s->std);
        s->kurtosis = m4 / (m2 * m2) - 3.0;
    } else {
        s->skew = 0.0;
        s->kurtosis = 0.0;
    }
    s->zero_crossings = zc;
    s->mean_crossings = mc;
}

// ---------------------------------------------------------------------------------------------
// IIR filters
//
// q15 details. A Butterworth design from scipy puts the whole gain in the first section: at a
// low cutoff that section's b are ~1e-10 and its output would vanish in fixed point, while the
// later sections have DC gains of 1e4. So at init the sections are rescaled (the overall
// transfer function is unchanged): each but the last gets the factor that brings the peak of
// the cascade up to it to 1 (peaks taken on a grid of SCALE_GRID frequencies from 0 to
// Nyquist), and the last gets what restores the overall gain. The b of each section are then
// stored with their own exponent (Q(29 + e), |b| * 2^e < 4), so tiny b keep 30 bits.

#define Q_COEF (29)           // a1, a2 in Q29; b in Q(29 + e)
#define Q_EXTRA (12)          // signal fraction bits beyond the int16 sample
#define Q_SIG_MAX ((int32_t)1 << 30)  // signal saturation: 8 x full scale
#define Q_WORDS (6)           // per section: b0 b1 b2 a1 a2 e
#define SCALE_GRID (96)

static bool finite_d(double x) {
    return x == x && x - x == 0.0;
}

static size_t align8(size_t n) {
    return (n + 7) & ~(size_t)7;
}

size_t ml_dsp_iir_memory_size(uint32_t n_sections, uint32_t n_channels, bool q15) {
    if (q15) {
        return align8((size_t)n_sections * Q_WORDS * sizeof(int32_t))
               + align8((size_t)n_channels * (n_sections + 1) * 2 * sizeof(int32_t));
    }
    return align8((size_t)n_sections * 5 * sizeof(double))
           + align8((size_t)n_channels * n_sections * 2 * sizeof(double));
}

static bool stable(double a1, double a2) {
    // Both roots of z^2 + a1 z + a2 inside the unit circle (the stability triangle).
    return a2 < 1.0 && a2 > -1.0 && a1 < 1.0 + a2 && -a1 < 1.0 + a2;
}

static const char *const coef_names[6] = { "b0", "b1", "b2", "a0", "a1", "a2" };

// |H(e^jw)| of one section at w = pi j / (SCALE_GRID - 1).
static double section_gain(const double *c, uint32_t j) {
    float c1, s1, c2, s2;
    ml_dsp_cos_sin_2pi(j, 2 * (SCALE_GRID - 1), &c1, &s1);
    ml_dsp_cos_sin_2pi(2 * j, 2 * (SCALE_GRID - 1), &c2, &s2);
    // z^-1 = cos w - i sin w
    double nr = c[0] + c[1] * (double)c1 + c[2] * (double)c2;
    double ni = -c[1] * (double)s1 - c[2] * (double)s2;
    double dr = 1.0 + c[3] * (double)c1 + c[4] * (double)c2;
    double di = -c[3] * (double)s1 - c[4] * (double)s2;
    return ml_dsp_sqrt((nr * nr + ni * ni) / (dr * dr + di * di));
}

static int32_t round_q(double v) {
    double r = v >= 0.0 ? v + 0.5 : v - 0.5;
    return (int32_t)(r >= 2147483647.0 ? 2147483647.0 : r <= -2147483647.0 ? -2147483647.0 : r);
}

ml_status_t ml_dsp_iir_init(ml_dsp_iir_t *f, void *memory, const double *sos, uint32_t n_sections,
    uint32_t n_channels, bool q15, ml_error_t *err) {
    if (n_sections < 1 || n_sections > ML_DSP_IIR_MAX_SECTIONS) {
        return ml_error_set(err, ML_E_SIZE, 0, "sos has %lu sections, expected 1..%lu",
            (unsigned long)n_sections, (unsigned long)ML_DSP_IIR_MAX_SECTIONS);
    }
    if (n_channels < 1 || n_channels > ML_DSP_MAX_AXES) {
        return ml_error_set(err, ML_E_VALUE, 0, "n_channels is %lu, expected 1..%lu",
            (unsigned long)n_channels, (unsigned long)ML_DSP_MAX_AXES);
    }
    for (uint32_t s = 0; s < n_sections; s++) {
        const double *row = sos + 6 * s;
        for (int j = 0; j < 6; j++) {
            if (!finite_d(row[j])) {
                return ml_error_set(err, ML_E_VALUE, 0, "sos section %lu: %s is not finite",
                    (unsigned long)s, coef_names[j]);
            }
        }
        if (row[3] == 0.0) {
            return ml_error_set(err, ML_E_VALUE, 0, "sos section %lu: a0 is 0",
                (unsigned long)s);
        }
    }
    f->n_sections = n_sections;
    f->n_channels = n_channels;
    f->q15 = q15;
    f->coef = NULL;
    f->state = NULL;
    f->qcoef = NULL;
    f->qstate = NULL;
    uint8_t *mem = memory;
    if (q15) {
        f->qcoef = (int32_t *)mem;
        f->qstate = (int32_t *)(mem + align8((size_t)n_sections * Q_WORDS * sizeof(int32_t)));
    } else {
        f->coef = (double *)mem;
        f->state = (double *)(mem + align8((size_t)n_sections * 5 * sizeof(double)));
    }
    float cum[SCALE_GRID];  // q15: peak response of the sections so far, on the grid
    double scaled = 1.0;    // q15: product of the scale factors given so far
    for (uint32_t j = 0; j < SCALE_GRID; j++) {
        cum[j] = 1.0f;
    }
    for (uint32_t s = 0; s < n_sections; s++) {
        const double *row = sos + 6 * s;
        const double a0 = row[3];
        double c[5] = { row[0] / a0, row[1] / a0, row[2] / a0, row[4] / a0, row[5] / a0 };
        for (int j = 0; j < 5; j++) {
            if (!finite_d(c[j])) {
                return ml_error_set(err, ML_E_VALUE, 0, "sos section %lu: %s / a0 overflows",
                    (unsigned long)s, coef_names[j < 3 ? j : j + 1]);
            }
        }
        if (!stable(c[3], c[4])) {
            return ml_error_set(err, ML_E_VALUE, 0, "sos section %lu is unstable: its poles are "
                "on or outside the unit circle (needs |a2| < a0 and |a1| < a0 + a2)",
                (unsigned long)s);
        }
        if (!q15) {
            memcpy(f->coef + 5 * s, c, sizeof(c));
            continue;
        }
        int32_t *qc = f->qcoef + Q_WORDS * s;
        qc[3] = round_q(c[3] * 0x1p29);
        qc[4] = round_q(c[4] * 0x1p29);
        if (!stable((double)qc[3] * 0x1p-29, (double)qc[4] * 0x1p-29)) {
            return ml_error_set(err, ML_E_VALUE, 0, "sos section %lu: its poles are too close to "
                "the unit circle for q15 (Q29) coefficients", (unsigned long)s);
        }
        double scale;
        if (s + 1 < n_sections) {
            double peak = 0.0;
            for (uint32_t j = 0; j < SCALE_GRID; j++) {
                double g = (double)cum[j] * section_gain(c, j);
                cum[j] = (float)g;
                peak = g > peak ? g : peak;
            }
            scale = peak > 0.0 ? 1.0 / peak : 1.0;
            for (uint32_t j = 0; j < SCALE_GRID; j++) {
                cum[j] = (float)((double)cum[j] * scale);
            }
            scaled *= scale;
        } else {
            scale = 1.0 / scaled;
        }
        double bmax = 0.0;
        for (int j = 0; j < 3; j++) {
            c[j] *= scale;
            double m = c[j] < 0.0 ? -c[j] : c[j];
            bmax = m > bmax ? m : bmax;
        }
        int32_t e = 0;
        if (bmax >= 4.0) {
            return ml_error_set(err, ML_E_VALUE, 0, "sos section %lu: b / a0 reaches 4 after "
                "scaling, outside the range of q15 filter coefficients", (unsigned long)s);
        }
        while (bmax > 0.0 && bmax * 2.0 < 4.0 && e < 30) {
            bmax *= 2.0;
            e++;
        }
        for (int j = 0; j < 3; j++) {
            double v = c[j];
            for (int32_t k = 0; k < Q_COEF + e; k++) {
                v *= 2.0;
            }
            qc[j] = round_q(v);
        }
        qc[5] = e;
    }
    ml_dsp_iir_reset(f);
    return ML_OK;
}

void ml_dsp_iir_reset(ml_dsp_iir_t *f) {
    if (f->q15) {
        memset(f->qstate, 0, (size_t)f->n_channels * (f->n_sections + 1) * 2 * sizeof(int32_t));
    } else {
        memset(f->state, 0, (size_t)f->n_channels * f->n_sections * 2 * sizeof(double));
    }
}

void ml_dsp_iir_process_f32(ml_dsp_iir_t *f, const float *x, float *y, size_t n_frames) {
    const size_t nc = f->n_channels;
    const uint32_t ns = f->n_sections;
    // Sample by sample through all sections (the signal between sections stays in double);
    // one channel at a time.
    for (size_t ch = 0; ch < nc; ch++) {
        double *st0 = f->state + ch * ns * 2;
        for (size_t i = 0; i < n_frames; i++) {
            const size_t at = i * nc + ch;
            double v = (double)x[at];
            double *st = st0;
            const double *c = f->coef;
            for (uint32_t s = 0; s < ns; s++, st += 2, c += 5) {
                double out = c[0] * v + st[0];
                st[0] = c[1] * v - c[3] * out + st[1];
                st[1] = c[2] * v - c[4] * out;
                v = out;
            }
            y[at] = (float)v;
        }
    }
}

static inline int32_t sat_sig(int64_t v) {
    return v > Q_SIG_MAX - 1 ? Q_SIG_MAX - 1 : v < -Q_SIG_MAX ? -Q_SIG_MAX : (int32_t)v;
}

void ml_dsp_iir_process_q15(ml_dsp_iir_t *f, const int16_t *x, int16_t *y, size_t n_frames) {
    const size_t nc = f->n_channels;
    const uint32_t ns = f->n_sections;
    const int64_t half = (int64_t)1 << (Q_COEF - 1);
    for (size_t ch = 0; ch < nc; ch++) {
        int32_t *h0 = f->qstate + ch * (ns + 1) * 2;
        for (size_t i = 0; i < n_frames; i++) {
            const size_t at = i * nc + ch;
            int32_t v = (int32_t)x[at] * (1 << Q_EXTRA);
            int32_t *h = h0;
            const int32_t *c = f->qcoef;
            for (uint32_t s = 0; s < ns; s++, h += 2, c += Q_WORDS) {
                // h[0], h[1]: this section's last two inputs; h[2], h[3]: its last two outputs
                // (the next section's inputs). |b| < 2^31, |signal| <= 2^30: each sum of three
                // products stays below 2^63.
                int64_t acc_b = (int64_t)c[0] * v + (int64_t)c[1] * h[0] + (int64_t)c[2] * h[1];
                int64_t acc = (acc_b >> c[5]) - (int64_t)c[3] * h[2] - (int64_t)c[4] * h[3];
                h[1] = h[0];
                h[0] = v;
                // Arithmetic shift (floor) after adding half: round half up.
                v = sat_sig((acc + half) >> Q_COEF);
            }
            h[1] = h[0];
            h[0] = v;
            int32_t o = (v + (1 << (Q_EXTRA - 1))) >> Q_EXTRA;
            y[at] = (int16_t)(o > 32767 ? 32767 : o < -32768 ? -32768 : o);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Butterworth design, in double. sin by its Taylor series on |x| <= pi/2 (the terms fall below
// 1e-18 by x^23), cos(x) = sin(pi/2 - |x|).

static double sin_d(double x) {
    double x2 = x * x, term = x, sum = x;
    for (int k = 1; k <= 12; k++) {
        term *= -x2 / (double)((2 * k) * (2 * k + 1));
        sum += term;
    }
    return sum;
}

static double cos_d(double x) {
    return sin_d(HALF_PI_D - (x < 0.0 ? -x : x));
}

typedef struct {
    double re, im;
} cplx_t;

static cplx_t c_mul(cplx_t a, cplx_t b) {
    cplx_t r = { a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re };
    return r;
}

static cplx_t c_div(cplx_t a, cplx_t b) {
    double d = b.re * b.re + b.im * b.im;
    cplx_t r = { (a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d };
    return r;
}

ml_status_t ml_dsp_butter(uint32_t order, double cutoff, double sample_rate, ml_dsp_btype_t btype,
    double *sos, ml_error_t *err) {
    if (order < 1 || order > ML_DSP_BUTTER_MAX_ORDER) {
        return ml_error_set(err, ML_E_VALUE, 0, "order is %lu, expected 1..%lu",
            (unsigned long)order, (unsigned long)ML_DSP_BUTTER_MAX_ORDER);
    }
    if (!(sample_rate > 0.0) || !finite_d(sample_rate)) {
        return ml_error_set(err, ML_E_VALUE, 0, "sample_rate must be positive");
    }
    const double wn = cutoff / (sample_rate / 2.0);
    if (!(wn > 0.0 && wn < 1.0)) {
        return ml_error_set(err, ML_E_VALUE, 0,
            "cutoff must be above 0 and below sample_rate / 2 (the Nyquist frequency)");
    }
    const double angle = PI_D * wn / 2.0;
    const double warped = 4.0 * sin_d(angle) / cos_d(angle);
    const uint32_t n_sec = ml_dsp_butter_sections(order);

    // Analog prototype poles -exp(i pi m / (2 order)), m = -order+1, -order+3, ..., order-1;
    // one per conjugate pair (m > 0) and the real pole (m = 0, odd orders).
    cplx_t pd[ML_DSP_BUTTER_MAX_ORDER / 2 + 1];
    double key[ML_DSP_BUTTER_MAX_ORDER / 2 + 1];
    cplx_t prod_4p = { 1.0, 0.0 };  // prod over all poles of (4 - p)
    cplx_t prod_mp = { 1.0, 0.0 };  // prod over the prototype's poles of (-p)
    uint32_t n = 0;
    for (int32_t m = -(int32_t)order + 1; m <= (int32_t)order - 1; m += 2) {
        double a = PI_D * (double)m / (double)(2 * order);
        cplx_t p = { -cos_d(a), -sin_d(a) };
        cplx_t mp = { -p.re, -p.im };
        prod_mp = c_mul(prod_mp, mp);
        if (btype == ML_DSP_HIGHPASS) {
            cplx_t w = { warped, 0.0 };
            p = c_div(w, p);
        } else {
            p.re *= warped;
            p.im *= warped;
        }
        cplx_t fp = { 4.0 - p.re, -p.im };
        prod_4p = c_mul(prod_4p, fp);
        if (m >= 0) {
            cplx_t num = { 4.0 + p.re, p.im };
            pd[n] = c_div(num, fp);
            // The real pole first (scipy pairs it with a pole at the origin: farthest from
            // the unit circle), then pairs by distance to the unit circle, closest last.
            key[n] = m == 0 ? -1.0 : pd[n].re * pd[n].re + pd[n].im * pd[n].im;
            n++;
        }
    }
    double k;
    if (btype == ML_DSP_HIGHPASS) {
        // lp2hp: k / real(prod(-p)); bilinear: analog zeros at 0 give real(prod(4 - 0) /
        // prod(4 - p)).
        double khp = 1.0 / prod_mp.re;
        cplx_t num = { 1.0, 0.0 };
        for (uint32_t i = 0; i < order; i++) {
            num.re *= 4.0;
        }
        k = khp * c_div(num, prod_4p).re;
    } else {
        // lp2lp: warped^order; bilinear: 1 / prod(4 - p).
        double kl = 1.0;
        for (uint32_t i = 0; i < order; i++) {
            kl *= warped;
        }
        cplx_t one = { 1.0, 0.0 };
        k = kl * c_div(one, prod_4p).re;
    }
    // Insertion sort by key (n <= 9).
    for (uint32_t i = 1; i < n; i++) {
        for (uint32_t j = i; j > 0 && key[j] < key[j - 1]; j--) {
            double tk = key[j];
            key[j] = key[j - 1];
            key[j - 1] = tk;
            cplx_t tp = pd[j];
            pd[j] = pd[j - 1];
            pd[j - 1] = tp;
        }
    }
    // Digital zeros: order of them at z0 (-1 low-pass, +1 high-pass), and for odd orders one at
    // the origin (scipy pads the real pole's section with a pole and a zero there). Like
    // scipy's zpk2sos "nearest" pairing, sections are given zeros from the worst (last) to the
    // best: each takes the remaining zero nearest its pole, twice.
    const double z0 = btype == ML_DSP_HIGHPASS ? 1.0 : -1.0;
    uint32_t n_z0 = order;
    bool origin = (order & 1) != 0;
    for (uint32_t i = n_sec; i-- > 0;) {
        double *row = sos + 6 * i;
        const cplx_t p = pd[i];
        const double d_z0 = (p.re - z0) * (p.re - z0) + p.im * p.im;
        const double d_origin = p.re * p.re + p.im * p.im;
        double zz[2];
        for (int j = 0; j < 2; j++) {
            if (n_z0 && (!origin || d_z0 <= d_origin)) {
                zz[j] = z0;
                n_z0--;
            } else {
                zz[j] = 0.0;
                origin = false;
            }
        }
        row[0] = 1.0;
        row[1] = -(zz[0] + zz[1]);
        row[2] = zz[0] * zz[1];
        row[3] = 1.0;
        if (key[i] < 0.0) {
            row[4] = -p.re;  // the real pole and the padding pole at the origin
            row[5] = 0.0;
        } else {
            row[4] = -2.0 * p.re;
            row[5] = p.re * p.re + p.im * p.im;
        }
    }
    sos[0] *= k;
    sos[1] *= k;
    sos[2] *= k;
    return ML_OK;
}
