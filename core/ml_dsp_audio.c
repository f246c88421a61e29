// Streaming audio front end. See ml_dsp_audio.h.
//
// The frame being filled is kept as int16 samples (frame_length of them); when it is complete
// its features are computed, and the oldest hop samples are dropped.
//
// float32: the frame is windowed into the log-mel block's work buffer (zero-padded to n_fft)
// and the block (ml_dsp_fft.c) does the FFT and the mel weighting in place; this file adds the
// window of frame_length points, the level floor and the DCT.
//
// Fixed point: every step is specified by the host twin (host/microlearn/dsp_audio.py,
// _fixed_frames), which this code follows operation for operation; the tables are computed in
// double precision and rounded half away from zero, as the twin does with numpy, so both have
// the same integers.
#include <string.h>

#include "ml_dsp_audio.h"
#include "ml_math.h"

static size_t align8(size_t n) {
    return (n + 7) & ~(size_t)7;
}

// ---------------------------------------------------------------------------------------------
// Double-precision helpers for the fixed-point tables (computed once, at init).

#define PI_D (3.14159265358979323846)
#define LN10_D (2.30258509299404568402)

// sin and cos of x in [0, pi/4] by their Taylor series (terms below 1e-20 by x^19).
static void sincos_octant(double x, double *s, double *c) {
    const double x2 = x * x;
    double ts = x, tc = 1.0, ss = x, sc = 1.0;
    for (int k = 1; k <= 9; k++) {
        ts *= -x2 / (double)((2 * k) * (2 * k + 1));
        tc *= -x2 / (double)((2 * k - 1) * (2 * k));
        ss += ts;
        sc += tc;
    }
    *s = ss;
    *c = sc;
}

// cos and sin of 2 pi k / n, the argument reduced exactly to an octant with integers.
static void cos_sin_2pi_d(uint32_t k, uint32_t n, double *c, double *s) {
    k %= n;
    const uint64_t k8 = (uint64_t)k * 8;
    const uint32_t o = (uint32_t)(k8 / n);
    const uint32_t r = (uint32_t)(k8 - (uint64_t)o * n);  // angle = o pi/4 + (pi/4) r / n
    double sa, ca, sb, cb;  // of phi = (pi/4) r / n and of pi/4 - phi
    sincos_octant(PI_D / 4.0 * (double)r / (double)n, &sa, &ca);
    sincos_octant(PI_D / 4.0 * (double)(n - r) / (double)n, &sb, &cb);
    switch (o) {
        case 0: *c = ca, *s = sa; break;
        case 1: *c = sb, *s = cb; break;
        case 2: *c = -sa, *s = ca; break;
        case 3: *c = -cb, *s = sb; break;
        case 4: *c = -ca, *s = -sa; break;
        case 5: *c = -sb, *s = -cb; break;
        case 6: *c = sa, *s = -ca; break;
        default: *c = cb, *s = -sb; break;
    }
}

// Natural log of x >= 1 in double: the float log refined by two Halley steps on ml_exp.
static double log_d(double x) {
    double y = (double)ml_logf((float)x);
    for (int i = 0; i < 2; i++) {
        const double e = ml_exp(y);
        y += 2.0 * (x - e) / (x + e);
    }
    return y;
}

static double sqrt_d(double x) {
    double y = (double)ml_sqrtf((float)x);
    for (int i = 0; i < 2; i++) {
        y = 0.5 * (y + x / y);
    }
    return y;
}

static double hz_to_mel_d(double f) {
    return 2595.0 * log_d(1.0 + f / 700.0) / LN10_D;
}

static double mel_to_hz_d(double m) {
    return 700.0 * (ml_exp(m * (LN10_D / 2595.0)) - 1.0);
}

// round(v * 2^bits), half away from zero (as the twin: sign(v) floor(|v| + 0.5)).
static int32_t round_q(double v, int bits) {
    for (int i = 0; i < bits; i++) {
        v *= 2.0;
    }
    return v >= 0.0 ? (int32_t)(v + 0.5) : -(int32_t)(-v + 0.5);
}

// Walks the fixed-point mel filters (Q15 weights, zeros left out); with a != NULL fills them.
// Returns the number of weights; *max_sum gets the largest filter's weight sum.
static uint32_t fixed_filters(const ml_dsp_audio_config_t *c, ml_dsp_audio_t *a, int64_t *max_sum) {
    const uint32_t nm = c->n_mels, n_bins = c->n_fft / 2 + 1;
    const double mlo = hz_to_mel_d((double)c->fmin), mhi = hz_to_mel_d((double)c->fmax);
    const double step = (mhi - mlo) / (double)(nm + 1);  // numpy.linspace's points
    uint32_t total = 0;
    *max_sum = 0;
    for (uint32_t b = 0; b < nm; b++) {
        double edge[3];
        for (uint32_t j = 0; j < 3; j++) {
            const double mel = b + j == nm + 1 ? mhi : (double)(b + j) * step + mlo;
            edge[j] = mel_to_hz_d(mel);
        }
        uint32_t first = 0, count = 0;
        int64_t sum = 0;
        for (uint32_t k = 0; k < n_bins; k++) {
            const double f = (double)k * (double)c->sample_rate / (double)c->n_fft;
            const double up = (f - edge[0]) / (edge[1] - edge[0]);
            const double down = (edge[2] - f) / (edge[2] - edge[1]);
            const double w = up < down ? up : down;
            const int32_t q = w > 0.0 ? round_q(w, 15) : 0;
            if (q > 0) {
                if (!count) {
                    first = k;
                }
                // Between two weights of a filter no zero weight occurs (a triangle).
                if (a) {
                    a->mw[total + count] = q;
                }
                count = k - first + 1;
                sum += q;
            }
        }
        if (a) {
            a->first[b] = (uint16_t)first;
            a->count[b] = (uint16_t)count;
        }
        total += count;
        *max_sum = sum > *max_sum ? sum : *max_sum;
    }
    return total;
}

static uint32_t bit_length64(uint64_t v) {
    uint32_t n = 0;
    for (uint32_t b = 32; b; b >>= 1) {
        if (v >> b) {
            v >>= b;
            n += b;
        }
    }
    return n + (v != 0);
}

// ---------------------------------------------------------------------------------------------
// Configuration and memory

typedef struct {
    size_t mel, window, dct, logmel;                           // float32
    size_t wq, tw, first, count, mw, dq, work, power, lm;      // fixed point
    size_t pending, total;
} audio_layout_t;

static ml_status_t audio_check(const ml_dsp_audio_config_t *c, ml_error_t *err) {
    if (!(ml_isfinitef(c->sample_rate) && c->sample_rate > 0.0f)) {
        return ml_error_set(err, ML_E_VALUE, 0, "sample_rate must be positive");
    }
    uint32_t n = c->n_fft;
    if (n < ML_DSP_FFT_MIN || n > ML_DSP_FFT_MAX || (n & (n - 1))) {
        return ml_error_set(err, ML_E_VALUE, 0, "n_fft is %lu, expected a power of two in "
            "%lu..%lu", (unsigned long)n, (unsigned long)ML_DSP_FFT_MIN,
            (unsigned long)ML_DSP_FFT_MAX);
    }
    if (c->frame_length < 1 || c->frame_length > n) {
        return ml_error_set(err, ML_E_VALUE, 0, "frame_length is %lu, expected 1..%lu (n_fft)",
            (unsigned long)c->frame_length, (unsigned long)n);
    }
    if (c->hop < 1 || c->hop > c->frame_length) {
        return ml_error_set(err, ML_E_VALUE, 0, "hop is %lu, expected 1..%lu (frame_length)",
            (unsigned long)c->hop, (unsigned long)c->frame_length);
    }
    if (c->window != ML_DSP_WINDOW_NONE && c->window != ML_DSP_WINDOW_HANN
        && c->window != ML_DSP_WINDOW_HAMMING) {
        return ml_error_set(err, ML_E_VALUE, 0, "unknown window type %lu",
            (unsigned long)c->window);
    }
    if (c->n_mels < 1 || c->n_mels > ML_DSP_AUDIO_MAX_MELS) {
        return ml_error_set(err, ML_E_VALUE, 0, "n_mels is %lu, expected 1..%lu",
            (unsigned long)c->n_mels, (unsigned long)ML_DSP_AUDIO_MAX_MELS);
    }
    if (!ml_isfinitef(c->fmin) || !ml_isfinitef(c->fmax) || c->fmin < 0.0f
        || !(c->fmax > c->fmin) || c->fmax > c->sample_rate / 2.0f) {
        return ml_error_set(err, ML_E_VALUE, 0, "expected 0 <= fmin < fmax <= sample_rate / 2");
    }
    if (!(c->floor_db >= -200.0f && c->floor_db <= 0.0f)) {
        return ml_error_set(err, ML_E_VALUE, 0, "floor_db must be in -200..0");
    }
    if (c->n_mfcc > c->n_mels) {
        return ml_error_set(err, ML_E_VALUE, 0, "n_mfcc is %lu, expected 0..%lu (n_mels)",
            (unsigned long)c->n_mfcc, (unsigned long)c->n_mels);
    }
    return ML_OK;
}

static void mel_config(const ml_dsp_audio_config_t *c, ml_dsp_logmel_config_t *m) {
    m->sample_rate = c->sample_rate;
    m->n_fft = c->n_fft;
    m->hop = c->hop;
    m->n_mels = c->n_mels;
    m->fmin = c->fmin;
    m->fmax = c->fmax;
    m->window = ML_DSP_WINDOW_NONE;  // the window of frame_length points is applied here
    m->log = false;
}

static ml_status_t audio_layout(const ml_dsp_audio_config_t *c, audio_layout_t *l,
    ml_error_t *err) {
    ml_status_t r = audio_check(c, err);
    if (r != ML_OK) {
        return r;
    }
    memset(l, 0, sizeof(*l));
    const size_t nm = c->n_mels, n = c->n_fft, mfcc = c->n_mfcc;
    size_t at = 0;
    if (c->fixed_point) {
        int64_t max_sum;
        const size_t n_weights = fixed_filters(c, NULL, &max_sum);
        l->wq = at, at += align8(c->frame_length * sizeof(int32_t));
        l->tw = at, at += align8(n * sizeof(int32_t));
        l->first = at, at += align8(nm * sizeof(uint16_t));
        l->count = at, at += align8(nm * sizeof(uint16_t));
        l->mw = at, at += align8(n_weights * sizeof(int32_t));
        l->dq = at, at += align8(mfcc * nm * sizeof(int32_t));
        l->work = at, at += align8((n + 2) * sizeof(int32_t));
        l->power = at, at += (n / 2 + 1) * sizeof(int64_t);
        l->lm = at, at += align8(nm * sizeof(int32_t));
    } else {
        ml_dsp_logmel_config_t m;
        mel_config(c, &m);
        size_t mel = ml_dsp_logmel_memory_size(&m, err);
        if (!mel) {
            return err ? err->code : ML_E_VALUE;
        }
        l->mel = at, at += align8(mel);
        l->window = at, at += align8(c->frame_length * sizeof(float));
        l->dct = at, at += align8(mfcc * nm * sizeof(float));
        l->logmel = at, at += mfcc ? align8(nm * sizeof(float)) : 0;
    }
    l->pending = at, at += align8(c->frame_length * sizeof(int16_t));
    l->total = at;
    return ML_OK;
}

ml_status_t ml_dsp_audio_memory_size(const ml_dsp_audio_config_t *cfg, size_t *size,
    ml_error_t *err) {
    audio_layout_t l;
    ml_status_t r = audio_layout(cfg, &l, err);
    *size = r == ML_OK ? l.total : 0;
    return r;
}

static void init_fixed(ml_dsp_audio_t *a, uint8_t *mem, const audio_layout_t *l) {
    const ml_dsp_audio_config_t *c = &a->cfg;
    const uint32_t n = c->n_fft, fl = c->frame_length, nm = c->n_mels;
    a->wq = (int32_t *)(mem + l->wq);
    for (uint32_t i = 0; i < fl; i++) {
        double w = 1.0, co, si;
        if (c->window != ML_DSP_WINDOW_NONE && fl > 1) {
            cos_sin_2pi_d(i, fl, &co, &si);
            w = c->window == ML_DSP_WINDOW_HANN ? 0.5 - 0.5 * co : 0.54 - 0.46 * co;
        }
        a->wq[i] = round_q(w, 15);
    }
    a->tw = (int32_t *)(mem + l->tw);
    for (uint32_t k = 0; k < n / 2; k++) {
        double co, si;
        cos_sin_2pi_d(k, n, &co, &si);
        a->tw[2 * k] = round_q(co, 30);
        a->tw[2 * k + 1] = round_q(si, 30);
    }
    a->first = (uint16_t *)(mem + l->first);
    a->count = (uint16_t *)(mem + l->count);
    a->mw = (int32_t *)(mem + l->mw);
    int64_t max_sum;
    fixed_filters(c, a, &max_sum);
    a->sum_bits = bit_length64((uint64_t)max_sum);
    a->dq = c->n_mfcc ? (int32_t *)(mem + l->dq) : NULL;
    if (a->dq) {
        // cos(pi k (2m + 1) / (2 nm)) = cos(2 pi k (2m + 1) / (4 nm)).
        const double s0 = sqrt_d(1.0 / (double)nm), s = sqrt_d(2.0 / (double)nm);
        for (uint32_t k = 0; k < c->n_mfcc; k++) {
            for (uint32_t j = 0; j < nm; j++) {
                double co, si;
                cos_sin_2pi_d((k * (2 * j + 1)) % (4 * nm), 4 * nm, &co, &si);
                a->dq[k * nm + j] = round_q(co * (k ? s : s0), 15);
            }
        }
    }
    a->work = (int32_t *)(mem + l->work);
    a->power = (int64_t *)(mem + l->power);
    a->lm = (int32_t *)(mem + l->lm);
    a->floor_q16 = round_q((double)c->floor_db, 16);
    // Headroom: the FFT's halving stages and the split step keep values below 2^30.5 from
    // input below 2^27 up to n_fft 512, 2^26 above (see the twin).
    a->top_bits = n <= 512 ? 27 : 26;
}

static void init_float(ml_dsp_audio_t *a, uint8_t *mem, const audio_layout_t *l) {
    const ml_dsp_audio_config_t *c = &a->cfg;
    // 10^(floor_db / 10), rounded to float32.
    a->floor = (float)ml_exp((double)c->floor_db * (LN10_D / 10.0));
    a->window = (float *)(mem + l->window);
    ml_dsp_window_fill(c->window, a->window, c->frame_length);
    for (uint32_t i = 0; i < c->frame_length; i++) {
        a->window[i] *= 1.0f / 32768.0f;  // exact: a power of two
    }
    a->dct = c->n_mfcc ? (float *)(mem + l->dct) : NULL;
    a->logmel = c->n_mfcc ? (float *)(mem + l->logmel) : NULL;
    const uint32_t nm = c->n_mels;
    if (a->dct) {
        const float s0 = ml_sqrtf(1.0f / (float)nm), s = ml_sqrtf(2.0f / (float)nm);
        for (uint32_t k = 0; k < c->n_mfcc; k++) {
            for (uint32_t j = 0; j < nm; j++) {
                float co, si;
                ml_dsp_cos_sin_2pi((k * (2 * j + 1)) % (4 * nm), 4 * nm, &co, &si);
                a->dct[k * nm + j] = co * (k ? s : s0);
            }
        }
    }
}

ml_status_t ml_dsp_audio_init(ml_dsp_audio_t *a, void *memory, const ml_dsp_audio_config_t *cfg,
    ml_error_t *err) {
    audio_layout_t l;
    ml_status_t r = audio_layout(cfg, &l, err);
    if (r != ML_OK) {
        return r;
    }
    uint8_t *mem = memory;
    memset(a, 0, sizeof(*a));
    a->cfg = *cfg;
    a->n_features = cfg->n_mfcc ? cfg->n_mfcc : cfg->n_mels;
    if (cfg->fixed_point) {
        init_fixed(a, mem, &l);
    } else {
        ml_dsp_logmel_config_t m;
        mel_config(cfg, &m);
        r = ml_dsp_logmel_init(&a->mel, mem + l.mel, &m, err);
        if (r != ML_OK) {
            return r;
        }
        init_float(a, mem, &l);
    }
    a->pending = (int16_t *)(mem + l.pending);
    ml_dsp_audio_reset(a);
    return ML_OK;
}

void ml_dsp_audio_reset(ml_dsp_audio_t *a) {
    a->n_pending = 0;
}

size_t ml_dsp_audio_frames(const ml_dsp_audio_t *a, size_t n) {
    const size_t have = a->n_pending + n;
    return have < a->cfg.frame_length ? 0 : 1 + (have - a->cfg.frame_length) / a->cfg.hop;
}

// ---------------------------------------------------------------------------------------------
// float32 frames

static void frame_float(ml_dsp_audio_t *a, const int16_t *frame, float *out) {
    const uint32_t fl = a->cfg.frame_length, nm = a->cfg.n_mels;
    float *w = a->mel.work;
    for (uint32_t i = 0; i < fl; i++) {
        w[i] = (float)frame[i] * a->window[i];
    }
    memset(w + fl, 0, (a->cfg.n_fft - fl) * sizeof(float));
    float *mel = a->dct ? a->logmel : out;
    ml_dsp_logmel_frame(&a->mel, w, mel);  // in place in the work buffer: no copy
    for (uint32_t b = 0; b < nm; b++) {
        float p = mel[b];
        mel[b] = 10.0f * ml_log10f(p > a->floor ? p : a->floor);
    }
    if (a->dct) {
        const float *d = a->dct;
        for (uint32_t k = 0; k < a->cfg.n_mfcc; k++, d += nm) {
            float sum = 0.0f;
            for (uint32_t j = 0; j < nm; j++) {
                sum += d[j] * mel[j];
            }
            out[k] = sum;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed-point frames (steps 1-7 of the twin)

#define Q30 ((int64_t)1 << 30)

// int32 x int32 -> int64. Cortex-M0 has no such instruction (a 64-bit product is a library
// call): there, four 16 x 16 products, each exact in 32 bits.
static inline int64_t mul64(int32_t a, int32_t b) {
    #if defined(__ARM_ARCH_6M__)
    const int32_t ah = a >> 16, bh = b >> 16;
    const int32_t al = a & 0xffff, bl = b & 0xffff;
    const int64_t mid = (int64_t)(ah * bl) + (int64_t)(al * bh);
    return (int64_t)((uint64_t)(int64_t)(ah * bh) << 32) + (int64_t)((uint64_t)mid << 16)
        + (int64_t)(uint32_t)((uint32_t)al * (uint32_t)bl);
    #else
    return (int64_t)a * b;
    #endif
}

// Step 2: complex FFT of m points in z (re, im interleaved), halving at every butterfly.
static void fft_fixed(const ml_dsp_audio_t *a, int32_t *z, uint32_t m) {
    const uint32_t n = a->cfg.n_fft;
    const int32_t *tw = a->tw;
    ml_dsp_bit_reverse(z, m);
    // Length 2, twiddle 1: (2^30 a +- 2^30 b + 2^30) >> 31 = (a +- b + 1) >> 1.
    for (uint32_t i = 0; i < m; i += 2) {
        int32_t *p = z + 2 * i;
        const int32_t ar = p[0], ai = p[1], br = p[2], bi = p[3];
        p[0] = (ar + br + 1) >> 1;
        p[1] = (ai + bi + 1) >> 1;
        p[2] = (ar - br + 1) >> 1;
        p[3] = (ai - bi + 1) >> 1;
    }
    for (uint32_t len = 4; len <= m; len <<= 1) {
        const uint32_t half = len / 2, stride = n / len;
        for (uint32_t j = 0; j < half; j++) {
            // -sin is in int32's range: the table is within [-2^30, 2^30].
            const int32_t wr = tw[2 * j * stride], wi = -tw[2 * j * stride + 1];
            for (uint32_t i = j; i < m; i += len) {
                int32_t *pa = z + 2 * i, *pb = z + 2 * (i + half);
                const int64_t tr = mul64(pb[0], wr) - mul64(pb[1], wi);
                const int64_t ti = mul64(pb[0], wi) + mul64(pb[1], wr);
                const int64_t ar = pa[0] * Q30 + Q30, ai = pa[1] * Q30 + Q30;
                pa[0] = (int32_t)((ar + tr) >> 31);
                pa[1] = (int32_t)((ai + ti) >> 31);
                pb[0] = (int32_t)((ar - tr) >> 31);
                pb[1] = (int32_t)((ai - ti) >> 31);
            }
        }
    }
}

// Step 3: the real FFT's bins 0..m from the complex FFT, in place (x needs 2m + 2 values).
static void split_fixed(const ml_dsp_audio_t *a, int32_t *x, uint32_t m) {
    const int32_t *tw = a->tw;
    const int32_t z0r = x[0], z0i = x[1];
    x[0] = z0r + z0i;
    x[1] = 0;
    x[2 * m] = z0r - z0i;
    x[2 * m + 1] = 0;
    for (uint32_t k = 1; k <= m / 2; k++) {
        int32_t *pa = x + 2 * k, *pb = x + 2 * (m - k);
        const int32_t ar = pa[0], ai = pa[1], br = pb[0], bi = pb[1];
        // 2E (and the rounding), 2O; |Z| < 2^29, so the sums fit in int32.
        const int64_t er = (int64_t)(ar + br) * Q30 + Q30, ei = (int64_t)(ai - bi) * Q30 + Q30;
        const int32_t o_r = ai + bi, o_i = br - ar;
        const int32_t c = tw[2 * k], s = tw[2 * k + 1];
        const int64_t wor = mul64(c, o_r) + mul64(s, o_i);   // W^k 2O
        const int64_t woi = mul64(c, o_i) - mul64(s, o_r);
        pa[0] = (int32_t)((er + wor) >> 31);
        pa[1] = (int32_t)((ei + woi) >> 31);
        if (k != m - k) {
            pb[0] = (int32_t)((er - wor) >> 31);
            pb[1] = (int32_t)-((ei - woi) >> 31);
        }
    }
}

// log2(e) in Q16 for e >= 1 (step 5): msb, and the 31 bits below it through the table.
static const int32_t log2_table[65] = {
    0, 1466, 2909, 4331, 5732, 7112, 8473, 9814, 11136, 12440, 13727, 14996, 16248, 17484,
    18704, 19909, 21098, 22272, 23433, 24579, 25711, 26830, 27936, 29029, 30109, 31178, 32234,
    33279, 34312, 35334, 36346, 37346, 38336, 39316, 40286, 41246, 42196, 43137, 44068, 44990,
    45904, 46809, 47705, 48593, 49472, 50344, 51207, 52063, 52911, 53751, 54584, 55410, 56229,
    57040, 57845, 58643, 59434, 60219, 60997, 61769, 62534, 63294, 64047, 64794, 65536
};  // round(log2(1 + i / 64) * 65536)

static int32_t log2_q16(uint64_t e) {
    const uint32_t msb = bit_length64(e) - 1;
    const uint32_t mant = (uint32_t)(msb >= 31 ? e >> (msb - 31) : e << (31 - msb));
    const uint32_t f = mant - 0x80000000u;
    const uint32_t i = f >> 25, rem = f & ((1u << 25) - 1);
    const int32_t lo = log2_table[i];
    const int32_t frac = lo + (int32_t)(((int64_t)(log2_table[i + 1] - lo) * rem) >> 25);
    return (int32_t)(msb << 16) + frac;
}

#define DB_PER_LOG2_Q30 ((int64_t)3232284966)  // round(10 log10(2) 2^30)

static void frame_fixed(ml_dsp_audio_t *a, const int16_t *x, float *out) {
    const ml_dsp_audio_config_t *c = &a->cfg;
    const uint32_t n = c->n_fft, m = n / 2, fl = c->frame_length, nm = c->n_mels;
    int32_t *v = a->work;
    int32_t *lm = a->lm;
    // Step 1: window, and scale to the top bits.
    uint32_t acc = 0;
    for (uint32_t i = 0; i < fl; i++) {
        const int32_t p = (int32_t)x[i] * a->wq[i];  // |p| <= 2^30
        v[i] = p;
        acc |= (uint32_t)(p < 0 ? -p : p);
    }
    if (!acc) {  // silence: no energy anywhere
        for (uint32_t b = 0; b < nm; b++) {
            lm[b] = a->floor_q16;
        }
    } else {
        const int32_t s = (int32_t)a->top_bits - (int32_t)bit_length64(acc);
        if (s >= 0) {
            for (uint32_t i = 0; i < fl; i++) {
                v[i] = (int32_t)((uint32_t)v[i] << s);
            }
        } else {
            const int32_t k = -s, half = 1 << (k - 1);
            for (uint32_t i = 0; i < fl; i++) {
                v[i] = (v[i] + half) >> k;
            }
        }
        memset(v + fl, 0, (n - fl) * sizeof(int32_t));
        // Steps 2-3.
        fft_fixed(a, v, m);
        split_fixed(a, v, m);
        // Step 4: powers, their bit length, the shift that keeps the mel sums in int64.
        uint64_t pacc = 0;
        for (uint32_t k = 0; k <= m; k++) {
            const int64_t p = mul64(v[2 * k], v[2 * k]) + mul64(v[2 * k + 1], v[2 * k + 1]);
            a->power[k] = p;
            pacc |= (uint64_t)p;
        }
        int32_t ps = (int32_t)(bit_length64(pacc) + a->sum_bits) - 63;
        ps = ps < 0 ? 0 : ps;
        // Step 5: levels in dB, Q16.
        const int32_t offset = (ps + 2 * (int32_t)(bit_length64(m) - 1) - 2 * s - 75) * 65536;
        const int32_t *w = a->mw;
        for (uint32_t b = 0; b < nm; b++) {
            const int64_t *pk = a->power + a->first[b];
            int64_t e = 0;
            for (uint32_t j = 0; j < a->count[b]; j++) {
                e += w[j] * (pk[j] >> ps);
            }
            w += a->count[b];
            int32_t db = a->floor_q16;
            if (e > 0) {
                const int64_t l2 = (int64_t)log2_q16((uint64_t)e) + offset;
                const int32_t d = (int32_t)((l2 * DB_PER_LOG2_Q30 + ((int64_t)1 << 29)) >> 30);
                db = d > db ? d : db;
            }
            lm[b] = db;
        }
    }
    // Steps 6-7.
    if (a->dq) {
        const int32_t *d = a->dq;
        for (uint32_t k = 0; k < c->n_mfcc; k++, d += nm) {
            int64_t sum = 0;
            for (uint32_t j = 0; j < nm; j++) {
                sum += (int64_t)d[j] * lm[j];
            }
            out[k] = (float)(int32_t)((sum + (1 << 14)) >> 15) * (1.0f / 65536.0f);
        }
    } else {
        for (uint32_t b = 0; b < nm; b++) {
            out[b] = (float)lm[b] * (1.0f / 65536.0f);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Streaming

void ml_dsp_audio_frame(ml_dsp_audio_t *a, const int16_t *frame, float *out) {
    if (a->cfg.fixed_point) {
        frame_fixed(a, frame, out);
    } else {
        frame_float(a, frame, out);
    }
}

size_t ml_dsp_audio_process(ml_dsp_audio_t *a, const int16_t *x, size_t n, float *out) {
    return ml_dsp_audio_process_ring(a, x, n, out, SIZE_MAX, 0);
}

size_t ml_dsp_audio_process_ring(ml_dsp_audio_t *a, const int16_t *x, size_t n, float *ring,
    size_t n_slots, size_t at) {
    const uint32_t fl = a->cfg.frame_length, hop = a->cfg.hop;
    size_t frames = 0;
    while (n) {
        size_t take = fl - a->n_pending;
        if (take > n) {
            take = n;
        }
        memcpy(a->pending + a->n_pending, x, take * sizeof(int16_t));
        a->n_pending += (uint32_t)take;
        x += take;
        n -= take;
        if (a->n_pending == fl) {
            ml_dsp_audio_frame(a, a->pending, ring + at * a->n_features);
            frames++;
            if (++at == n_slots) {
                at = 0;
            }
            memmove(a->pending + 0, a->pending + hop, (fl - hop) * sizeof(int16_t));
            a->n_pending = fl - hop;
        }
    }
    return frames;
}

// ---------------------------------------------------------------------------------------------
// Window normalisation

void ml_dsp_center(const float *x, float *out, size_t n_frames, size_t n_axes, size_t start) {
    for (size_t f = 0; f < n_axes; f++) {
        double sum = 0.0;
        for (size_t t = 0, s = start; t < n_frames; t++, s = s + 1 == n_frames ? 0 : s + 1) {
            sum += (double)x[s * n_axes + f];
        }
        const float mean = (float)(sum / (double)n_frames);
        for (size_t t = 0, s = start; t < n_frames; t++, s = s + 1 == n_frames ? 0 : s + 1) {
            out[t * n_axes + f] = x[s * n_axes + f] - mean;
        }
    }
}
