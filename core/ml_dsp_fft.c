// Real FFT, spectra and log-mel frames. See ml_dsp.h.
//
// A real FFT of n points is a complex FFT of n/2 points on z[j] = x[2j] + i x[2j+1] (radix 2,
// decimation in time, in place, bit-reversed input order) followed by the split step that
// separates the spectra of the even and odd samples:
//   E_k = (Z_k + conj Z_{M-k}) / 2,  O_k = (Z_k - conj Z_{M-k}) / 2i,  X_k = E_k + W^k O_k,
//   X_{M-k} = conj(E_k - W^k O_k),   W = exp(-2 pi i / n),  M = n/2.
// One table of n/2 twiddles exp(2 pi i k / n) serves both steps (the complex FFT uses every
// second entry).
#include <string.h>

#include "ml_dsp.h"
#include "ml_math.h"

static size_t align8(size_t n) {
    return (n + 7) & ~(size_t)7;
}

static int log2_exact(uint32_t n) {
    int k = 0;
    while ((1u << k) < n && k < 31) {
        k++;
    }
    return (1u << k) == n ? k : -1;
}

size_t ml_dsp_fft_memory_size(uint32_t n, ml_dsp_window_t window) {
    return align8((size_t)n * sizeof(float)) * (window != ML_DSP_WINDOW_NONE ? 2 : 1);
}

ml_status_t ml_dsp_fft_init(ml_dsp_fft_t *f, void *memory, uint32_t n, ml_dsp_window_t window,
    ml_error_t *err) {
    int k = log2_exact(n);
    if (k < 0 || n < ML_DSP_FFT_MIN || n > ML_DSP_FFT_MAX) {
        return ml_error_set(err, ML_E_VALUE, 0, "FFT length is %lu, expected a power of two in "
            "%lu..%lu", (unsigned long)n, (unsigned long)ML_DSP_FFT_MIN,
            (unsigned long)ML_DSP_FFT_MAX);
    }
    if (window != ML_DSP_WINDOW_NONE && window != ML_DSP_WINDOW_HANN
        && window != ML_DSP_WINDOW_HAMMING) {
        return ml_error_set(err, ML_E_VALUE, 0, "unknown window type %lu", (unsigned long)window);
    }
    f->n = n;
    f->log2n = (uint32_t)k;
    f->window_type = window;
    f->twiddle = memory;
    for (uint32_t i = 0; i < n / 2; i++) {
        ml_dsp_cos_sin_2pi(i, n, &f->twiddle[2 * i], &f->twiddle[2 * i + 1]);
    }
    if (window != ML_DSP_WINDOW_NONE) {
        f->window = (float *)((uint8_t *)memory + align8((size_t)n * sizeof(float)));
        ml_dsp_window_fill(window, f->window, n);
    } else {
        f->window = NULL;
    }
    return ML_OK;
}

// The words of a complex value, float or int32 (the fixed-point FFT of ml_dsp_audio.c): moved,
// never converted. may_alias: a float buffer is accessed through them.
#if defined(__GNUC__)
typedef uint32_t word_t __attribute__((may_alias));
#else
typedef uint32_t word_t;
#endif

void ml_dsp_bit_reverse(void *z, uint32_t m) {
    word_t *w = z;
    for (uint32_t i = 0, j = 0; i < m; i++) {
        if (i < j) {
            word_t tr = w[2 * i], ti = w[2 * i + 1];
            w[2 * i] = w[2 * j];
            w[2 * i + 1] = w[2 * j + 1];
            w[2 * j] = tr;
            w[2 * j + 1] = ti;
        }
        uint32_t bit = m >> 1;
        while (bit && (j & bit)) {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
    }
}

// The transform of the n real values in buf[0..n) into buf[0..n+2).
static void rfft_inplace(const ml_dsp_fft_t *f, float *buf) {
    const uint32_t n = f->n;
    const uint32_t m = n / 2;  // complex points
    const float *tw = f->twiddle;

    ml_dsp_bit_reverse(buf, m);

    // Stage of length 2: twiddle 1.
    for (uint32_t i = 0; i < m; i += 2) {
        float *a = buf + 2 * i, *b = a + 2;
        float br = b[0], bi = b[1];
        b[0] = a[0] - br;
        b[1] = a[1] - bi;
        a[0] += br;
        a[1] += bi;
    }
    // Further stages: W_len^j = exp(-2 pi i j / len) = twiddle index j * n / len, conjugated.
    for (uint32_t len = 4; len <= m; len <<= 1) {
        const uint32_t half = len / 2;
        const uint32_t stride = n / len;
        for (uint32_t j = 0; j < half; j++) {
            const float wr = tw[2 * j * stride];
            const float wi = -tw[2 * j * stride + 1];
            for (uint32_t i = j; i < m; i += len) {
                float *a = buf + 2 * i, *b = buf + 2 * (i + half);
                float tr = b[0] * wr - b[1] * wi;
                float ti = b[0] * wi + b[1] * wr;
                b[0] = a[0] - tr;
                b[1] = a[1] - ti;
                a[0] += tr;
                a[1] += ti;
            }
        }
    }

    // Split step.
    const float z0r = buf[0], z0i = buf[1];
    buf[0] = z0r + z0i;
    buf[1] = 0.0f;
    buf[2 * m] = z0r - z0i;
    buf[2 * m + 1] = 0.0f;
    for (uint32_t k = 1; k <= m / 2; k++) {
        float *pa = buf + 2 * k, *pb = buf + 2 * (m - k);
        const float ar = pa[0], ai = pa[1], br = pb[0], bi = pb[1];
        const float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);  // E_k
        const float or_ = 0.5f * (ai + bi), oi = -0.5f * (ar - br);  // O_k = -i (A - conj B) / 2
        const float c = tw[2 * k], s = tw[2 * k + 1];                // W^k = c - i s
        const float tr = c * or_ + s * oi;
        const float ti = c * oi - s * or_;
        pa[0] = er + tr;
        pa[1] = ei + ti;
        if (k != m - k) {
            pb[0] = er - tr;
            pb[1] = -(ei - ti);
        }
    }
}

void ml_dsp_rfft(const ml_dsp_fft_t *f, const float *x, float *out) {
    const uint32_t n = f->n;
    if (f->window) {
        for (uint32_t i = 0; i < n; i++) {
            out[i] = x[i] * f->window[i];
        }
    } else if (x != out) {
        memmove(out, x, n * sizeof(float));
    }
    rfft_inplace(f, out);
}

void ml_dsp_rfft_i16(const ml_dsp_fft_t *f, const int16_t *x, float *out) {
    const uint32_t n = f->n;
    for (uint32_t i = 0; i < n; i++) {
        out[i] = f->window ? (float)x[i] * f->window[i] : (float)x[i];
    }
    rfft_inplace(f, out);
}

void ml_dsp_magnitude(const float *spectrum, float *out, size_t n_bins) {
    for (size_t k = 0; k < n_bins; k++) {
        float re = spectrum[2 * k], im = spectrum[2 * k + 1];
        float big = ml_fabsf(re) > ml_fabsf(im) ? ml_fabsf(re) : ml_fabsf(im);
        if (big < 0x1p60f) {
            out[k] = ml_sqrtf(re * re + im * im);
        } else {
            // re^2 would overflow although |X| fits: scale by a power of two (exact).
            re *= 0x1p-64f;
            im *= 0x1p-64f;
            out[k] = ml_sqrtf(re * re + im * im) * 0x1p64f;
        }
    }
}

void ml_dsp_power(const float *spectrum, float *out, size_t n_bins) {
    for (size_t k = 0; k < n_bins; k++) {
        float re = spectrum[2 * k], im = spectrum[2 * k + 1];
        out[k] = re * re + im * im;
    }
}

// ---------------------------------------------------------------------------------------------
// Log-mel

#define LN10_OVER_2595 (0.0008873160281287268)  // ln(10) / 2595

static double hz_to_mel(double hz) {
    return 2595.0 * (double)ml_log10f((float)(1.0 + hz / 700.0));
}

static double mel_to_hz(double mel) {
    return 700.0 * (ml_exp(mel * LN10_OVER_2595) - 1.0);
}

static bool finite_pos(float x) {
    return ml_isfinitef(x) && x > 0.0f;
}

static ml_status_t logmel_check(const ml_dsp_logmel_config_t *c, ml_error_t *err) {
    if (!finite_pos(c->sample_rate)) {
        return ml_error_set(err, ML_E_VALUE, 0, "sample_rate must be positive");
    }
    int k = log2_exact(c->n_fft);
    if (k < 0 || c->n_fft < ML_DSP_FFT_MIN || c->n_fft > ML_DSP_FFT_MAX) {
        return ml_error_set(err, ML_E_VALUE, 0, "n_fft is %lu, expected a power of two in "
            "%lu..%lu", (unsigned long)c->n_fft, (unsigned long)ML_DSP_FFT_MIN,
            (unsigned long)ML_DSP_FFT_MAX);
    }
    if (c->hop < 1) {
        return ml_error_set(err, ML_E_VALUE, 0, "hop is 0, expected at least 1");
    }
    if (c->n_mels < 1 || c->n_mels > 512) {
        return ml_error_set(err, ML_E_VALUE, 0, "n_mels is %lu, expected 1..512",
            (unsigned long)c->n_mels);
    }
    if (!ml_isfinitef(c->fmin) || !ml_isfinitef(c->fmax) || c->fmin < 0.0f
        || !(c->fmax > c->fmin) || c->fmax > c->sample_rate / 2.0f) {
        return ml_error_set(err, ML_E_VALUE, 0,
            "expected 0 <= fmin < fmax <= sample_rate / 2");
    }
    return ML_OK;
}

// Walks the filters; with m != NULL fills them. Returns the number of weights.
static uint32_t logmel_filters(const ml_dsp_logmel_config_t *c, ml_dsp_logmel_t *m) {
    const double mlo = hz_to_mel((double)c->fmin), mhi = hz_to_mel((double)c->fmax);
    const uint32_t n_bins = c->n_fft / 2 + 1;
    uint32_t total = 0;
    for (uint32_t b = 0; b < c->n_mels; b++) {
        double edge[3];
        for (int j = 0; j < 3; j++) {
            edge[j] = mel_to_hz(mlo + (mhi - mlo) * (double)(b + j) / (double)(c->n_mels + 1));
        }
        uint32_t first = 0, count = 0;
        for (uint32_t k = 0; k < n_bins; k++) {
            double f = (double)k * (double)c->sample_rate / (double)c->n_fft;
            double up = (f - edge[0]) / (edge[1] - edge[0]);
            double down = (edge[2] - f) / (edge[2] - edge[1]);
            double w = up < down ? up : down;
            if (w > 0.0) {
                if (!count) {
                    first = k;
                }
                if (m) {
                    m->weights[total + count] = (float)w;
                }
                count++;
            }
        }
        if (m) {
            m->first[b] = (uint16_t)first;
            m->count[b] = (uint16_t)count;
        }
        total += count;
    }
    return total;
}

typedef struct {
    size_t fft, first, count, weights, work, total;
} logmel_layout_t;

static void logmel_layout(const ml_dsp_logmel_config_t *c, uint32_t n_weights, logmel_layout_t *l) {
    l->fft = 0;
    l->first = ml_dsp_fft_memory_size(c->n_fft, c->window);
    l->count = l->first + align8(c->n_mels * sizeof(uint16_t));
    l->weights = l->count + align8(c->n_mels * sizeof(uint16_t));
    l->work = l->weights + align8(n_weights * sizeof(float));
    l->total = l->work + align8((c->n_fft + 2) * sizeof(float));
}

size_t ml_dsp_logmel_memory_size(const ml_dsp_logmel_config_t *cfg, ml_error_t *err) {
    if (logmel_check(cfg, err) != ML_OK) {
        return 0;
    }
    logmel_layout_t l;
    logmel_layout(cfg, logmel_filters(cfg, NULL), &l);
    return l.total;
}

ml_status_t ml_dsp_logmel_init(ml_dsp_logmel_t *m, void *memory, const ml_dsp_logmel_config_t *cfg,
    ml_error_t *err) {
    ml_status_t r = logmel_check(cfg, err);
    if (r != ML_OK) {
        return r;
    }
    uint8_t *mem = memory;
    logmel_layout_t l;
    m->n_weights = logmel_filters(cfg, NULL);
    logmel_layout(cfg, m->n_weights, &l);
    r = ml_dsp_fft_init(&m->fft, mem + l.fft, cfg->n_fft, cfg->window, err);
    if (r != ML_OK) {
        return r;
    }
    m->cfg = *cfg;
    m->first = (uint16_t *)(mem + l.first);
    m->count = (uint16_t *)(mem + l.count);
    m->weights = (float *)(mem + l.weights);
    m->work = (float *)(mem + l.work);
    logmel_filters(cfg, m);
    return ML_OK;
}

static void logmel_finish(ml_dsp_logmel_t *m, float *out) {
    const uint32_t n_bins = m->cfg.n_fft / 2 + 1;
    float *p = m->work;
    ml_dsp_power(m->work, p, n_bins);  // in place: bin k reads 2k, 2k+1 >= k
    const float *w = m->weights;
    for (uint32_t b = 0; b < m->cfg.n_mels; b++) {
        float sum = 0.0f;
        const float *pk = p + m->first[b];
        for (uint32_t j = 0; j < m->count[b]; j++) {
            sum += w[j] * pk[j];
        }
        w += m->count[b];
        if (m->cfg.log && !ml_isnanf(sum)) {  // NaN (an overflow) stays NaN, never the floor
            sum = 10.0f * ml_log10f(sum > ML_DSP_LOGMEL_FLOOR ? sum : ML_DSP_LOGMEL_FLOOR);
        }
        out[b] = sum;
    }
}

void ml_dsp_logmel_frame(ml_dsp_logmel_t *m, const float *frame, float *out) {
    ml_dsp_rfft(&m->fft, frame, m->work);
    logmel_finish(m, out);
}

void ml_dsp_logmel_frame_i16(ml_dsp_logmel_t *m, const int16_t *frame, float *out) {
    ml_dsp_rfft_i16(&m->fft, frame, m->work);
    logmel_finish(m, out);
}

size_t ml_dsp_logmel_frames(const ml_dsp_logmel_t *m, size_t n) {
    return n < m->cfg.n_fft ? 0 : 1 + (n - m->cfg.n_fft) / m->cfg.hop;
}

void ml_dsp_logmel_spectrogram(ml_dsp_logmel_t *m, const float *x, size_t n, float *out) {
    const size_t frames = ml_dsp_logmel_frames(m, n);
    for (size_t i = 0; i < frames; i++) {
        ml_dsp_logmel_frame(m, x + i * m->cfg.hop, out + i * m->cfg.n_mels);
    }
}
