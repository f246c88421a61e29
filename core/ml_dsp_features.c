// Feature sets: time-domain and spectral features of a window. See ml_dsp.h for the
// definitions; host/microlearn/dsp.py computes the same vector with numpy and scipy.
#include <string.h>

#include "ml_dsp.h"
#include "ml_math.h"

static const char *const time_names[ML_DSP_N_TIME_FEATURES] = {
    "mean", "std", "min", "max", "rms", "skew", "kurtosis", "zero_crossings", "mean_crossings",
    "ptp", "energy",
};

const char *ml_dsp_time_feature_name(uint32_t id) {
    return id < ML_DSP_N_TIME_FEATURES ? time_names[id] : NULL;
}

int ml_dsp_time_feature_id(const char *name, size_t len) {
    for (int i = 0; i < ML_DSP_N_TIME_FEATURES; i++) {
        const char *t = time_names[i];
        size_t j = 0;
        while (j < len && t[j] && t[j] == name[j]) {
            j++;
        }
        if (j == len && t[j] == 0) {
            return i;
        }
    }
    return -1;
}

size_t ml_dsp_find_nonfinite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (!ml_isfinitef(x[i])) {
            return i;
        }
    }
    return n;
}

static size_t align8(size_t n) {
    return (n + 7) & ~(size_t)7;
}

static bool is_pow2(uint32_t n) {
    return n && !(n & (n - 1));
}

// Validates the configuration and derives the spectral bins and the feature count.
static ml_status_t check_config(const ml_dsp_features_config_t *c, uint32_t *k_lo, uint32_t *k_hi,
    uint32_t *n_groups, uint32_t *per_channel, ml_error_t *err) {
    if (c->length < 1 || c->length > ML_DSP_MAX_LENGTH) {
        return ml_error_set(err, ML_E_VALUE, 0, "length is %lu, expected 1..%lu",
            (unsigned long)c->length, (unsigned long)ML_DSP_MAX_LENGTH);
    }
    if (c->n_axes < 1 || c->n_axes > ML_DSP_MAX_AXES) {
        return ml_error_set(err, ML_E_VALUE, 0, "n_axes is %lu, expected 1..%lu",
            (unsigned long)c->n_axes, (unsigned long)ML_DSP_MAX_AXES);
    }
    if (!ml_isfinitef(c->scale)) {
        return ml_error_set(err, ML_E_VALUE, 0, "scale is not finite");
    }
    if (c->n_time > ML_DSP_N_TIME_FEATURES) {
        return ml_error_set(err, ML_E_VALUE, 0, "%lu time features, expected at most %lu",
            (unsigned long)c->n_time, (unsigned long)ML_DSP_N_TIME_FEATURES);
    }
    uint32_t seen = 0;
    for (uint32_t i = 0; i < c->n_time; i++) {
        if (c->time[i] >= ML_DSP_N_TIME_FEATURES) {
            return ml_error_set(err, ML_E_VALUE, 0, "unknown time feature id %lu",
                (unsigned long)c->time[i]);
        }
        if (seen & (1u << c->time[i])) {
            return ml_error_set(err, ML_E_VALUE, 0, "time feature '%s' is listed twice",
                time_names[c->time[i]]);
        }
        seen |= 1u << c->time[i];
    }
    *per_channel = c->n_time;
    *k_lo = *k_hi = *n_groups = 0;
    if (c->spectral) {
        const uint32_t n = c->fft_length;
        if (!(ml_isfinitef(c->sample_rate) && c->sample_rate > 0.0f)) {
            return ml_error_set(err, ML_E_VALUE, 0, "sample_rate must be positive");
        }
        if (!is_pow2(n) || n < ML_DSP_FFT_MIN || n > ML_DSP_FFT_MAX) {
            return ml_error_set(err, ML_E_VALUE, 0, "fft_length is %lu, expected a power of two "
                "in %lu..%lu", (unsigned long)n, (unsigned long)ML_DSP_FFT_MIN,
                (unsigned long)ML_DSP_FFT_MAX);
        }
        if (n > c->length) {
            return ml_error_set(err, ML_E_VALUE, 0, "fft_length is %lu, expected at most the "
                "window length %lu", (unsigned long)n, (unsigned long)c->length);
        }
        if (c->window > ML_DSP_WINDOW_HAMMING) {
            return ml_error_set(err, ML_E_VALUE, 0, "unknown window type %lu",
                (unsigned long)c->window);
        }
        if (c->agg > ML_DSP_AGG_MEAN) {
            return ml_error_set(err, ML_E_VALUE, 0, "unknown aggregation %lu",
                (unsigned long)c->agg);
        }
        *k_lo = 1;
        *k_hi = n / 2;
        if (c->filter != ML_DSP_FILTER_NONE) {
            if (c->filter > ML_DSP_FILTER_HIGHPASS) {
                return ml_error_set(err, ML_E_VALUE, 0, "unknown filter type %lu",
                    (unsigned long)c->filter);
            }
            if (c->filter_order < 1 || c->filter_order > ML_DSP_BUTTER_MAX_ORDER) {
                return ml_error_set(err, ML_E_VALUE, 0, "filter order is %lu, expected 1..%lu",
                    (unsigned long)c->filter_order, (unsigned long)ML_DSP_BUTTER_MAX_ORDER);
            }
            if (!(ml_isfinitef(c->cutoff) && c->cutoff > 0.0f
                  && (double)c->cutoff < (double)c->sample_rate / 2.0)) {
                return ml_error_set(err, ML_E_VALUE, 0,
                    "cutoff must be above 0 and below sample_rate / 2");
            }
            // The bin of the cutoff, in double like the host (exact product, one rounding).
            double t = (double)c->cutoff * (double)n / (double)c->sample_rate;
            uint32_t fl = (uint32_t)t;
            if (c->filter == ML_DSP_FILTER_LOWPASS) {
                *k_hi = fl < n / 2 ? fl : n / 2;
            } else {
                uint32_t ce = (double)fl < t ? fl + 1 : fl;
                *k_lo = ce > 1 ? ce : 1;
            }
            if (*k_hi < *k_lo) {
                return ml_error_set(err, ML_E_VALUE, 0, "no FFT bin passes the filter: raise "
                    "fft_length or move the cutoff");
            }
        }
        const uint32_t nb = *k_hi - *k_lo + 1;
        if (c->n_bins > nb) {
            return ml_error_set(err, ML_E_VALUE, 0, "n_bins is %lu, expected at most %lu (the "
                "FFT bins that pass the filter)", (unsigned long)c->n_bins, (unsigned long)nb);
        }
        *n_groups = c->n_bins ? c->n_bins : nb;
        *per_channel += (c->spec_stats ? 3 : 0) + *n_groups;
    }
    if (*per_channel == 0) {
        return ml_error_set(err, ML_E_VALUE, 0, "no features selected");
    }
    return ML_OK;
}

typedef struct {
    size_t iir, fft, chan, mag, sig, spec, acc, total;
} layout_t;

static void plan(const ml_dsp_features_config_t *c, layout_t *l) {
    size_t off = 0;
    l->iir = off;
    if (c->spectral && c->filter != ML_DSP_FILTER_NONE) {
        off += ml_dsp_iir_memory_size(ml_dsp_butter_sections(c->filter_order), 1, false);
    }
    l->fft = off;
    if (c->spectral) {
        off += ml_dsp_fft_memory_size(c->fft_length, (ml_dsp_window_t)c->window);
    }
    l->chan = off;
    off += align8((size_t)c->length * sizeof(float));
    l->mag = off;
    if (c->magnitude) {
        off += align8((size_t)c->length * sizeof(float));
    }
    l->sig = off;
    l->spec = off;
    l->acc = off;
    if (c->spectral) {
        off += align8((size_t)c->length * sizeof(float));
        l->spec = off;
        off += align8(((size_t)c->fft_length + 2) * sizeof(float));
        l->acc = off;
        off += align8(((size_t)c->fft_length / 2 + 1) * sizeof(float));
    }
    l->total = off;
}

ml_status_t ml_dsp_features_memory_size(const ml_dsp_features_config_t *cfg, size_t *size,
    ml_error_t *err) {
    uint32_t a, b, g, pc;
    ml_status_t r = check_config(cfg, &a, &b, &g, &pc, err);
    if (r != ML_OK) {
        return r;
    }
    layout_t l;
    plan(cfg, &l);
    *size = l.total;
    return ML_OK;
}

ml_status_t ml_dsp_features_init(ml_dsp_features_t *f, void *memory,
    const ml_dsp_features_config_t *cfg, ml_error_t *err) {
    ml_status_t r = check_config(cfg, &f->k_lo, &f->k_hi, &f->n_groups, &f->per_channel, err);
    if (r != ML_OK) {
        return r;
    }
    layout_t l;
    plan(cfg, &l);
    uint8_t *mem = memory;
    f->cfg = *cfg;
    f->n_channels = cfg->n_axes + (cfg->magnitude ? 1 : 0);
    f->n_features = f->n_channels * f->per_channel;
    f->chan = (float *)(mem + l.chan);
    f->mag = cfg->magnitude ? (float *)(mem + l.mag) : NULL;
    f->sig = f->spec = f->acc = NULL;
    if (cfg->spectral) {
        f->sig = (float *)(mem + l.sig);
        f->spec = (float *)(mem + l.spec);
        f->acc = (float *)(mem + l.acc);
        r = ml_dsp_fft_init(&f->fft, mem + l.fft, cfg->fft_length, (ml_dsp_window_t)cfg->window,
            err);
        if (r != ML_OK) {
            return r;
        }
        if (cfg->filter != ML_DSP_FILTER_NONE) {
            double sos[6 * ((ML_DSP_BUTTER_MAX_ORDER + 1) / 2)];
            r = ml_dsp_butter(cfg->filter_order, (double)cfg->cutoff, (double)cfg->sample_rate,
                cfg->filter == ML_DSP_FILTER_HIGHPASS ? ML_DSP_HIGHPASS : ML_DSP_LOWPASS, sos, err);
            if (r != ML_OK) {
                return r;
            }
            r = ml_dsp_iir_init(&f->iir, mem + l.iir, sos, ml_dsp_butter_sections(cfg->filter_order),
                1, false, err);
            if (r != ML_OK) {
                return r;
            }
        }
    }
    return ML_OK;
}

static float db(double v) {
    float p = (float)v;
    return 10.0f * ml_log10f(p > 1e-10f ? p : 1e-10f);
}

// The spectral block of the channel in f->chan; returns the number of values written.
static size_t spectral(ml_dsp_features_t *f, float *out) {
    const ml_dsp_features_config_t *c = &f->cfg;
    const uint32_t len = c->length, n = c->fft_length;
    float *sig = f->sig;
    size_t o = 0;

    double mean = ml_dsp_mean(f->chan, len, 1);
    for (uint32_t i = 0; i < len; i++) {
        sig[i] = (float)((double)f->chan[i] - mean);
    }
    if (c->filter != ML_DSP_FILTER_NONE) {
        ml_dsp_iir_reset(&f->iir);
        ml_dsp_iir_process_f32(&f->iir, sig, sig, len);
    }
    mean = ml_dsp_mean(sig, len, 1);
    for (uint32_t i = 0; i < len; i++) {
        sig[i] = (float)((double)sig[i] - mean);
    }
    if (c->spec_stats) {
        ml_dsp_stats_t st;
        ml_dsp_stats(sig, len, 1, &st);
        out[o++] = (float)st.rms;
        out[o++] = (float)st.skew;
        out[o++] = (float)st.kurtosis;
    }

    const uint32_t step = c->overlap ? n / 2 : n;
    const uint32_t frames = 1 + (len - n) / step;
    const float inv_n = 1.0f / (float)n;  // exact: n is a power of two
    float *acc = f->acc;
    for (uint32_t fr = 0; fr < frames; fr++) {
        ml_dsp_rfft(&f->fft, sig + (size_t)fr * step, f->spec);
        for (uint32_t k = f->k_lo; k <= f->k_hi; k++) {
            const float re = f->spec[2 * k], im = f->spec[2 * k + 1];
            const float p = (re * re + im * im) * inv_n;
            if (fr == 0) {
                acc[k] = p;
            } else if (c->agg == ML_DSP_AGG_MAX) {
                acc[k] = p > acc[k] ? p : acc[k];
            } else {
                acc[k] += p;
            }
        }
    }
    const uint32_t nb = f->k_hi - f->k_lo + 1;
    for (uint32_t g = 0; g < f->n_groups; g++) {
        const uint32_t start = f->k_lo + (uint32_t)((uint64_t)g * nb / f->n_groups);
        const uint32_t end = f->k_lo + (uint32_t)((uint64_t)(g + 1) * nb / f->n_groups);
        double v;
        if (c->agg == ML_DSP_AGG_MAX) {
            float m = acc[start];
            for (uint32_t k = start + 1; k < end; k++) {
                m = acc[k] > m ? acc[k] : m;
            }
            v = (double)m;
        } else {
            double sum = 0.0;
            for (uint32_t k = start; k < end; k++) {
                sum += (double)acc[k];
            }
            v = sum / ((double)(end - start) * (double)frames);
        }
        out[o++] = c->log ? db(v) : (float)v;
    }
    return o;
}

static void time_features(const ml_dsp_features_t *f, float *out) {
    ml_dsp_stats_t st;
    ml_dsp_stats(f->chan, f->cfg.length, 1, &st);
    for (uint32_t i = 0; i < f->cfg.n_time; i++) {
        double v;
        switch (f->cfg.time[i]) {
            case ML_DSP_F_MEAN:
                v = st.mean;
                break;
            case ML_DSP_F_STD:
                v = st.std;
                break;
            case ML_DSP_F_MIN:
                v = st.min;
                break;
            case ML_DSP_F_MAX:
                v = st.max;
                break;
            case ML_DSP_F_RMS:
                v = st.rms;
                break;
            case ML_DSP_F_SKEW:
                v = st.skew;
                break;
            case ML_DSP_F_KURTOSIS:
                v = st.kurtosis;
                break;
            case ML_DSP_F_ZERO_CROSSINGS:
                v = st.zero_crossings;
                break;
            case ML_DSP_F_MEAN_CROSSINGS:
                v = st.mean_crossings;
                break;
            case ML_DSP_F_PTP:
                v = st.ptp;
                break;
            default:
                v = st.energy;
                break;
        }
        out[i] = (float)v;
    }
}

// Every channel in turn: fill f->chan, then its time features and its spectral block.
static ml_status_t run(ml_dsp_features_t *f, const void *x, bool i16, float *out,
    ml_error_t *err) {
    const ml_dsp_features_config_t *c = &f->cfg;
    const uint32_t len = c->length, na = c->n_axes;
    for (uint32_t ch = 0; ch < f->n_channels; ch++) {
        float *chan = f->chan;
        if (ch < na) {
            for (uint32_t i = 0; i < len; i++) {
                float v = i16 ? (float)((const int16_t *)x)[(size_t)i * na + ch]
                    : ((const float *)x)[(size_t)i * na + ch];
                chan[i] = v * c->scale;
            }
            if (f->mag) {
                // Sum of squares in axis order, in float32, like the host.
                for (uint32_t i = 0; i < len; i++) {
                    f->mag[i] = ch == 0 ? chan[i] * chan[i] : f->mag[i] + chan[i] * chan[i];
                }
            }
        } else {
            for (uint32_t i = 0; i < len; i++) {
                chan[i] = ml_sqrtf(f->mag[i]);
            }
        }
        float *o = out + (size_t)ch * f->per_channel;
        if (c->n_time) {
            time_features(f, o);
        }
        if (c->spectral) {
            spectral(f, o + c->n_time);
        }
    }
    // Finite input can still overflow float32 (scale, squares, power spectra): report it, as
    // the host does, rather than return inf or NaN features.
    size_t bad = ml_dsp_find_nonfinite(out, f->n_features);
    if (bad < f->n_features) {
        return ml_error_set(err, ML_E_INPUT, 0, "feature %lu (channel %lu) overflows float32: "
            "the window's values are too large", (unsigned long)bad,
            (unsigned long)(bad / f->per_channel));
    }
    return ML_OK;
}

ml_status_t ml_dsp_features_process_f32(ml_dsp_features_t *f, const float *x, float *out,
    ml_error_t *err) {
    const size_t n = (size_t)f->cfg.length * f->cfg.n_axes;
    size_t bad = ml_dsp_find_nonfinite(x, n);
    if (bad < n) {
        return ml_error_set(err, ML_E_INPUT, 0, "window[%lu] is not finite (frame %lu, axis %lu)",
            (unsigned long)bad, (unsigned long)(bad / f->cfg.n_axes),
            (unsigned long)(bad % f->cfg.n_axes));
    }
    return run(f, x, false, out, err);
}

ml_status_t ml_dsp_features_process_i16(ml_dsp_features_t *f, const int16_t *x, float *out,
    ml_error_t *err) {
    return run(f, x, true, out, err);
}
