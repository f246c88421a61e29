// Streaming audio front end. See ml_dsp_audio.h.
//
// The frame being filled is kept as int16 samples (frame_length of them); when it is complete it
// is windowed into the log-mel block's work buffer (float32, zero-padded to n_fft), transformed
// in place, and the oldest hop samples are dropped. The log-mel block (ml_dsp_fft.c) does the
// FFT and the mel weighting; this file adds the window of frame_length points, the level floor,
// the DCT, and the streaming.
#include <string.h>

#include "ml_dsp_audio.h"
#include "ml_math.h"

static size_t align8(size_t n) {
    return (n + 7) & ~(size_t)7;
}

typedef struct {
    size_t mel, window, dct, logmel, pending, total;
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
    ml_dsp_logmel_config_t m;
    mel_config(c, &m);
    size_t mel = ml_dsp_logmel_memory_size(&m, err);
    if (!mel) {
        return err ? err->code : ML_E_VALUE;
    }
    l->mel = 0;
    l->window = align8(mel);
    l->dct = l->window + align8(c->frame_length * sizeof(float));
    l->logmel = l->dct + align8((size_t)c->n_mfcc * c->n_mels * sizeof(float));
    l->pending = l->logmel + (c->n_mfcc ? align8(c->n_mels * sizeof(float)) : 0);
    l->total = l->pending + align8(c->frame_length * sizeof(int16_t));
    return ML_OK;
}

ml_status_t ml_dsp_audio_memory_size(const ml_dsp_audio_config_t *cfg, size_t *size,
    ml_error_t *err) {
    audio_layout_t l;
    ml_status_t r = audio_layout(cfg, &l, err);
    *size = r == ML_OK ? l.total : 0;
    return r;
}

ml_status_t ml_dsp_audio_init(ml_dsp_audio_t *a, void *memory, const ml_dsp_audio_config_t *cfg,
    ml_error_t *err) {
    audio_layout_t l;
    ml_status_t r = audio_layout(cfg, &l, err);
    if (r != ML_OK) {
        return r;
    }
    uint8_t *mem = memory;
    ml_dsp_logmel_config_t m;
    mel_config(cfg, &m);
    r = ml_dsp_logmel_init(&a->mel, mem + l.mel, &m, err);
    if (r != ML_OK) {
        return r;
    }
    a->cfg = *cfg;
    a->n_features = cfg->n_mfcc ? cfg->n_mfcc : cfg->n_mels;
    // 10^(floor_db / 10) = 2^(floor_db * log2(10) / 10), in float like the host's float32
    // config value; then rounded to float32.
    a->floor = (float)ml_exp((double)cfg->floor_db * 0.23025850929940458);  // ln(10) / 10
    a->window = (float *)(mem + l.window);
    ml_dsp_window_fill(cfg->window, a->window, cfg->frame_length);
    for (uint32_t i = 0; i < cfg->frame_length; i++) {
        a->window[i] *= 1.0f / 32768.0f;  // exact: a power of two
    }
    a->dct = cfg->n_mfcc ? (float *)(mem + l.dct) : NULL;
    a->logmel = cfg->n_mfcc ? (float *)(mem + l.logmel) : NULL;
    const uint32_t nm = cfg->n_mels;
    if (a->dct) {
        // cos(pi k (2m + 1) / (2 n)) = cos(2 pi k (2m + 1) / (4 n)), argument reduced exactly.
        const float s0 = ml_sqrtf(1.0f / (float)nm), s = ml_sqrtf(2.0f / (float)nm);
        for (uint32_t k = 0; k < cfg->n_mfcc; k++) {
            for (uint32_t j = 0; j < nm; j++) {
                float c, sn;
                ml_dsp_cos_sin_2pi((k * (2 * j + 1)) % (4 * nm), 4 * nm, &c, &sn);
                a->dct[k * nm + j] = c * (k ? s : s0);
            }
        }
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

void ml_dsp_audio_frame(ml_dsp_audio_t *a, const int16_t *frame, float *out) {
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

size_t ml_dsp_audio_process(ml_dsp_audio_t *a, const int16_t *x, size_t n, float *out) {
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
            ml_dsp_audio_frame(a, a->pending, out + frames * a->n_features);
            frames++;
            memmove(a->pending, a->pending + hop, (fl - hop) * sizeof(int16_t));
            a->n_pending = fl - hop;
        }
    }
    return frames;
}
