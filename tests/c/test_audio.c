// Unit tests of the streaming audio front end (core/ml_dsp_audio.c) against a double-precision
// reference written here with libm (DFT, HTK mel filters, DCT-II), of its streaming (any chunk
// sizes give the frames of the whole signal), and of the WAV header parser (core/ml_wav.c) on
// good and broken files, with the messages. Memory blocks are malloc'ed at exactly the size the
// core asks for, so ASan and valgrind see any access past them.
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ml_dsp_audio.h"
#include "ml_wav.h"

#define PI_D 3.14159265358979323846

static uint32_t rng_state = 777u;

static double urand(void) {  // uniform in [-1, 1)
    rng_state = rng_state * 1664525u + 1013904223u;
    return (double)(rng_state >> 8) / (double)(1u << 23) - 1.0;
}

static double mel(double f) {
    return 2595.0 * log10(1.0 + f / 700.0);
}

static double imel(double m) {
    return 700.0 * (pow(10.0, m / 2595.0) - 1.0);
}

// The features of one frame, in double, from the definitions in ml_dsp_audio.h.
static void ref_frame(const ml_dsp_audio_config_t *c, const int16_t *x, double *out) {
    const uint32_t n = c->n_fft, fl = c->frame_length, nm = c->n_mels;
    double lm[ML_DSP_AUDIO_MAX_MELS];
    double *p = calloc(n / 2 + 1, sizeof(double));
    for (uint32_t k = 0; k <= n / 2; k++) {
        double re = 0.0, im = 0.0;
        for (uint32_t i = 0; i < fl; i++) {
            double w = c->window == ML_DSP_WINDOW_NONE ? 1.0
                : c->window == ML_DSP_WINDOW_HANN ? 0.5 - 0.5 * cos(2 * PI_D * i / fl)
                : 0.54 - 0.46 * cos(2 * PI_D * i / fl);
            double v = x[i] / 32768.0 * w;
            re += v * cos(2 * PI_D * (double)k * i / n);
            im -= v * sin(2 * PI_D * (double)k * i / n);
        }
        p[k] = re * re + im * im;
    }
    double m0 = mel(c->fmin), m1 = mel(c->fmax);
    for (uint32_t b = 0; b < nm; b++) {
        double lo = imel(m0 + (m1 - m0) * b / (nm + 1.0));
        double ce = imel(m0 + (m1 - m0) * (b + 1) / (nm + 1.0));
        double hi = imel(m0 + (m1 - m0) * (b + 2) / (nm + 1.0));
        double sum = 0.0;
        for (uint32_t k = 0; k <= n / 2; k++) {
            double f = k * (double)c->sample_rate / n;
            sum += fmax(0.0, fmin((f - lo) / (ce - lo), (hi - f) / (hi - ce))) * p[k];
        }
        lm[b] = 10.0 * log10(fmax(sum, pow(10.0, (double)c->floor_db / 10.0)));
    }
    free(p);
    if (!c->n_mfcc) {
        memcpy(out, lm, nm * sizeof(double));
        return;
    }
    for (uint32_t k = 0; k < c->n_mfcc; k++) {
        double sum = 0.0;
        for (uint32_t j = 0; j < nm; j++) {
            sum += lm[j] * cos(PI_D * k * (j + 0.5) / nm);
        }
        out[k] = sum * sqrt((k ? 2.0 : 1.0) / nm);
    }
}

static ml_dsp_audio_t *make(const ml_dsp_audio_config_t *c, void **mem) {
    ml_error_t err;
    size_t size;
    CHECK(ml_dsp_audio_memory_size(c, &size, &err) == ML_OK, "%s", err.msg);
    *mem = malloc(size);
    static ml_dsp_audio_t a;
    CHECK(ml_dsp_audio_init(&a, *mem, c, &err) == ML_OK, "%s", err.msg);
    return &a;
}

// A test signal: a tone sweeping up, noise, silence (digital zeros) in the middle.
static void signal(int16_t *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / 8000.0;
        double v = 8000.0 * sin(2 * PI_D * (200.0 + 1500.0 * t) * t) + 300.0 * urand();
        x[i] = i > n / 2 && i < n / 2 + 600 ? 0 : (int16_t)lrint(v);
    }
}

static void test_against_reference(void) {
    static const ml_dsp_audio_config_t cfgs[] = {
        // rate, frame, hop, n_fft, window, mels, fmin, fmax, floor, mfcc
        { 8000.0f, 256, 128, 256, ML_DSP_WINDOW_HANN, 40, 0.0f, 4000.0f, -100.0f, 0, false },
        { 8000.0f, 200, 80, 256, ML_DSP_WINDOW_HAMMING, 32, 20.0f, 3800.0f, -80.0f, 13, false },
        { 16000.0f, 400, 160, 512, ML_DSP_WINDOW_NONE, 64, 50.0f, 7600.0f, -120.0f, 0, false },
        { 8000.0f, 256, 128, 256, ML_DSP_WINDOW_HANN, 40, 0.0f, 4000.0f, -100.0f, 0, true },
        { 8000.0f, 200, 80, 256, ML_DSP_WINDOW_HAMMING, 32, 20.0f, 3800.0f, -80.0f, 13, true },
        { 16000.0f, 400, 160, 512, ML_DSP_WINDOW_NONE, 64, 50.0f, 7600.0f, -120.0f, 0, true },
        { 16000.0f, 1024, 512, 2048, ML_DSP_WINDOW_HANN, 80, 0.0f, 8000.0f, -100.0f, 20, true },
    };
    static int16_t x[4000];
    signal(x, 4000);
    for (size_t t = 0; t < sizeof(cfgs) / sizeof(cfgs[0]); t++) {
        const ml_dsp_audio_config_t *c = &cfgs[t];
        void *mem;
        ml_dsp_audio_t *a = make(c, &mem);
        const uint32_t nf = a->n_features;
        const size_t frames = ml_dsp_audio_frames(a, 4000);
        CHECK(frames == 1 + (4000 - c->frame_length) / c->hop, "frames %lu", (unsigned long)frames);
        float *out = malloc(frames * nf * sizeof(float));
        CHECK(ml_dsp_audio_process(a, x, 4000, out) == frames, "process frame count");
        double worst = 0.0, ref[ML_DSP_AUDIO_MAX_MELS];
        for (size_t f = 0; f < frames; f += 3) {
            ref_frame(c, x + f * c->hop, ref);
            for (uint32_t j = 0; j < nf; j++) {
                worst = fmax(worst, fabs((double)out[f * nf + j] - ref[j]));
            }
        }
        // dB: float32 arithmetic on values up to ~100 dB; MFCCs sum 32 of them. Fixed point:
        // the interpolated log2 table (1.3e-4 dB) and the arithmetic's noise ~120 dB below the
        // frame's loudest bin (this signal's quietest bands are 60-90 dB below it).
        const double tol = c->fixed_point ? 0.05 : c->n_mfcc ? 2e-3 : 5e-4;
        CHECK(worst < tol, "config %lu: max error %g", (unsigned long)t, worst);
        printf("audio config %lu (%s%s): max error %.2g dB\n", (unsigned long)t,
            c->fixed_point ? "fixed point" : "float32", c->n_mfcc ? ", MFCC" : "", worst);
        free(out);
        free(mem);
    }
}

static void test_streaming(bool fixed_point) {
    const ml_dsp_audio_config_t c = { 8000.0f, 200, 80, 256, ML_DSP_WINDOW_HANN, 20, 0.0f,
                                      4000.0f, -100.0f, 10, fixed_point };
    static int16_t x[3000];
    signal(x, 3000);
    void *mem;
    ml_dsp_audio_t *a = make(&c, &mem);
    const uint32_t nf = a->n_features;
    const size_t frames = ml_dsp_audio_frames(a, 3000);
    float *whole = malloc(frames * nf * sizeof(float));
    float *part = malloc(frames * nf * sizeof(float));
    ml_dsp_audio_process(a, x, 3000, whole);
    // Chunks of 1, 7, 80, 199, 200, 333 samples, and a mix: the same frames, bit for bit.
    static const size_t sizes[] = { 1, 7, 80, 199, 200, 333, 0 };
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        ml_dsp_audio_reset(a);
        size_t at = 0, got = 0, k = 0;
        while (at < 3000) {
            size_t n = sizes[s] ? sizes[s] : 1 + (k++ * 37) % 250;
            if (n > 3000 - at) {
                n = 3000 - at;
            }
            size_t expect = ml_dsp_audio_frames(a, n);
            size_t done = ml_dsp_audio_process(a, x + at, n, part + got * nf);
            CHECK(done == expect, "chunk %lu: %lu frames, frames() said %lu", (unsigned long)n,
                (unsigned long)done, (unsigned long)expect);
            got += done;
            at += n;
        }
        CHECK(got == frames && memcmp(part, whole, frames * nf * sizeof(float)) == 0,
            "chunks of %lu: frames differ from the whole signal's", (unsigned long)sizes[s]);
    }
    // One frame outside the stream is frame 0, and leaves the stream alone.
    float one[20];
    ml_dsp_audio_reset(a);
    ml_dsp_audio_process(a, x, 150, part);
    ml_dsp_audio_frame(a, x, one);
    CHECK(memcmp(one, whole, nf * sizeof(float)) == 0, "frame() is frame 0");
    CHECK(a->n_pending == 150, "frame() kept the stream's 150 pending samples");
    // Into a ring of 5 slots, in chunks of 333 samples: each slot holds the last frame that
    // went to it.
    enum { SLOTS = 5 };
    float ring[SLOTS * 20];
    ml_dsp_audio_reset(a);
    size_t slot = 2, got = 0;
    for (size_t at = 0; at < 3000; at += 333) {
        size_t n = 3000 - at < 333 ? 3000 - at : 333;
        size_t done = ml_dsp_audio_process_ring(a, x + at, n, ring, SLOTS, slot);
        for (size_t i = 0; i < done; i++) {
            size_t s = (slot + i) % SLOTS;
            CHECK(memcmp(ring + s * nf, whole + (got + i) * nf, nf * sizeof(float)) == 0,
                "ring: frame %lu in slot %lu", (unsigned long)(got + i), (unsigned long)s);
        }
        got += done;
        slot = (slot + done) % SLOTS;
    }
    CHECK(got == frames, "ring: %lu frames, expected %lu", (unsigned long)got,
        (unsigned long)frames);
    free(whole);
    free(part);
    free(mem);
}

// Fixed point at the ends of the range: silence gives the floor, full-scale square waves and
// noise stay finite and close to the reference (no overflow), a single sample is found.
static void test_fixed_edges(void) {
    ml_dsp_audio_config_t c = { 8000.0f, 256, 128, 256, ML_DSP_WINDOW_HANN, 40, 0.0f,
                                4000.0f, -100.0f, 0, true };
    static int16_t x[256];
    float out[40];
    double ref[40];
    for (int n_fft = 256; n_fft <= 4096; n_fft *= 4) {
        c.n_fft = (uint32_t)n_fft;
        void *mem;
        ml_dsp_audio_t *a = make(&c, &mem);
        for (int kind = 0; kind < 4; kind++) {
            for (int i = 0; i < 256; i++) {
                x[i] = kind == 0 ? 0 : kind == 1 ? ((i / 8) % 2 ? 32767 : -32768)
                    : kind == 2 ? (int16_t)(urand() * 32767.0) : (i == 100 ? 1 : 0);
            }
            ml_dsp_audio_frame(a, x, out);
            ref_frame(&c, x, ref);
            double worst = 0.0, top = -1e9;
            for (int b = 0; b < 40; b++) {
                top = fmax(top, ref[b]);
            }
            for (int b = 0; b < 40; b++) {
                // Bands more than 90 dB below the loudest approach the arithmetic's noise.
                if (ref[b] > top - 90.0 || kind == 0) {
                    worst = fmax(worst, fabs((double)out[b] - ref[b]));
                }
            }
            // (Longer FFTs halve more often: more rounding noise, relative to the loudest bin.)
            CHECK(worst < (n_fft <= 512 ? 0.05 : 0.3), "n_fft %d, signal %d: max error %g dB",
                n_fft, kind, worst);
        }
        free(mem);
    }
}

static void test_config_errors(void) {
    const ml_dsp_audio_config_t good = { 8000.0f, 256, 128, 256, ML_DSP_WINDOW_HANN, 40, 0.0f,
                                         4000.0f, -100.0f, 0, true };
    struct {
        ml_dsp_audio_config_t c;
        const char *msg;
    } bad[9];
    for (int i = 0; i < 9; i++) {
        bad[i].c = good;
    }
    bad[0].c.n_fft = 250, bad[0].msg = "n_fft is 250, expected a power of two in 16..4096";
    bad[1].c.frame_length = 300, bad[1].msg = "frame_length is 300, expected 1..256 (n_fft)";
    bad[2].c.hop = 0, bad[2].msg = "hop is 0, expected 1..256 (frame_length)";
    bad[3].c.hop = 257, bad[3].msg = "hop is 257, expected 1..256 (frame_length)";
    bad[4].c.n_mels = 0, bad[4].msg = "n_mels is 0, expected 1..128";
    bad[5].c.fmax = 4001.0f, bad[5].msg = "expected 0 <= fmin < fmax <= sample_rate / 2";
    bad[6].c.n_mfcc = 41, bad[6].msg = "n_mfcc is 41, expected 0..40 (n_mels)";
    bad[7].c.floor_db = 1.0f, bad[7].msg = "floor_db must be in -200..0";
    bad[8].c.sample_rate = NAN, bad[8].msg = "sample_rate must be positive";
    for (int i = 0; i < 9; i++) {
        ml_error_t err;
        size_t size = 1;
        CHECK(ml_dsp_audio_memory_size(&bad[i].c, &size, &err) != ML_OK && size == 0
            && strcmp(err.msg, bad[i].msg) == 0, "case %d: got '%s'", i, err.msg);
    }
}

// ---------------------------------------------------------------------------------------------
// WAV

typedef struct {
    const uint8_t *data;
    size_t size;
} mem_file_t;

static size_t mem_read(void *ctx, uint32_t offset, uint8_t *buf, size_t n) {
    const mem_file_t *f = ctx;
    if (offset >= f->size) {
        return 0;
    }
    if (n > f->size - offset) {
        n = f->size - offset;
    }
    memcpy(buf, f->data + offset, n);
    return n;
}

static size_t put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
    return 4;
}

static size_t put16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
    return 2;
}

// A WAV file: optional chunk before fmt, the fmt chunk, and a data chunk of `samples` samples
// (declared size `declared`), of which `present` bytes are in the file.
typedef struct {
    uint16_t tag, channels, bits, align;
    uint32_t rate, fmt_size, declared, present;
    bool list_first, data_first, extensible_float;
} wav_spec_t;

static size_t make_wav(uint8_t *b, const wav_spec_t *s) {
    size_t n = 0;
    memcpy(b, "RIFF", 4), n += 4;
    n += put32(b + n, 0);  // not checked
    memcpy(b + n, "WAVEx", 4), n += 4;
    if (s->list_first) {  // an odd-sized chunk: padded
        memcpy(b + n, "LIST", 4), n += 4;
        n += put32(b + n, 5);
        memcpy(b + n, "abcde\0", 6), n += 6;
    }
    uint8_t fmt[40] = { 0 };
    put16(fmt, s->tag);
    put16(fmt + 2, s->channels);
    put32(fmt + 4, s->rate);
    put32(fmt + 8, s->rate * 2);
    put16(fmt + 12, s->align);
    put16(fmt + 14, s->bits);
    if (s->tag == 0xfffe) {
        static const uint8_t guid[16] = { 1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38,
                                          0x9b, 0x71 };
        put16(fmt + 16, 22);
        memcpy(fmt + 24, guid, 16);
        if (s->extensible_float) {
            fmt[24] = 3;
        }
    }
    uint8_t data_hdr[8];
    memcpy(data_hdr, "data", 4);
    put32(data_hdr + 4, s->declared);
    if (s->data_first) {
        memcpy(b + n, data_hdr, 8), n += 8;
        memset(b + n, 0, s->present), n += s->present;
    }
    memcpy(b + n, "fmt ", 4), n += 4;
    n += put32(b + n, s->fmt_size);
    memcpy(b + n, fmt, s->fmt_size < 40 ? s->fmt_size : 40), n += s->fmt_size < 40 ? s->fmt_size : 40;
    if (!s->data_first) {
        memcpy(b + n, data_hdr, 8), n += 8;
        for (uint32_t i = 0; i < s->present; i++) {
            b[n + i] = (uint8_t)(i * 7);
        }
        n += s->present;
    }
    return n;
}

static void test_wav(void) {
    static uint8_t b[4096];
    const wav_spec_t good = { 1, 1, 16, 2, 8000, 16, 200, 200, false, false, false };
    struct {
        wav_spec_t s;
        const char *msg;  // NULL: accepted
    } cases[16];
    int nc = 0;
    #define CASE(field_changes, m) do { cases[nc].s = good; field_changes; cases[nc].msg = m; nc++; } while (0)
    CASE((void)0, NULL);
    CASE(cases[nc].s.list_first = true, NULL);
    CASE((cases[nc].s.tag = 0xfffe, cases[nc].s.fmt_size = 40), NULL);
    CASE(cases[nc].s.fmt_size = 18, NULL);
    CASE(cases[nc].s.channels = 2, "2 channels, expected 1 (mono)");
    CASE(cases[nc].s.bits = 8, "8-bit samples, expected 16-bit");
    CASE(cases[nc].s.bits = 24, "24-bit samples, expected 16-bit");
    CASE(cases[nc].s.tag = 3, "format 3 (IEEE float), expected 1 (PCM)");
    CASE((cases[nc].s.tag = 0xfffe, cases[nc].s.fmt_size = 40, cases[nc].s.extensible_float = true),
        "extensible format with a subformat other than PCM, expected 16-bit PCM");
    CASE(cases[nc].s.align = 4, "block align 4, expected 2 (one 16-bit sample)");
    CASE(cases[nc].s.rate = 0, "sample rate 0");
    CASE(cases[nc].s.fmt_size = 14, "fmt chunk of 14 bytes, expected at least 16");
    CASE((cases[nc].s.declared = 0, cases[nc].s.present = 0), "no samples (the data chunk is empty)");
    CASE((cases[nc].s.declared = 201, cases[nc].s.present = 201),
        "data chunk of 201 bytes, not a whole number of 16-bit samples");
    CASE(cases[nc].s.present = 100, "truncated: the data chunk declares 200 bytes, the file holds 100");
    CASE(cases[nc].s.data_first = true, "data chunk before the fmt chunk");
    #undef CASE
    for (int i = 0; i < nc; i++) {
        size_t n = make_wav(b, &cases[i].s);
        mem_file_t f = { b, n };
        ml_wav_info_t info;
        ml_error_t err;
        ml_status_t r = ml_wav_parse(mem_read, &f, (uint32_t)n, &info, &err);
        if (!cases[i].msg) {
            CHECK(r == ML_OK, "case %d: %s", i, r == ML_OK ? "" : err.msg);
            CHECK(r != ML_OK || (info.sample_rate == 8000 && info.n_samples == 100
                && info.data_offset + 200 == n), "case %d: info", i);
        } else {
            CHECK(r != ML_OK && strcmp(err.msg, cases[i].msg) == 0, "case %d: got '%s'", i,
                r == ML_OK ? "accepted" : err.msg);
        }
    }
    // Not WAV at all, empty, cut in the headers.
    ml_wav_info_t info;
    ml_error_t err;
    mem_file_t f = { (const uint8_t *)"hello, this is text, not sound", 30 };
    CHECK(ml_wav_parse(mem_read, &f, 30, &info, &err) != ML_OK
        && strcmp(err.msg, "not a WAV file (no RIFF/WAVE header)") == 0, "text: %s", err.msg);
    CHECK(ml_wav_parse(mem_read, &f, 0, &info, &err) != ML_OK && strcmp(err.msg, "empty file") == 0,
        "empty: %s", err.msg);
    size_t n = make_wav(b, &good);
    f.data = b;
    for (size_t cut = 1; cut < 44; cut++) {
        f.size = cut;
        CHECK(ml_wav_parse(mem_read, &f, (uint32_t)cut, &info, &err) != ML_OK, "cut at %lu accepted",
            (unsigned long)cut);
    }
    f.size = 36;
    ml_wav_parse(mem_read, &f, 36, &info, &err);
    CHECK(strcmp(err.msg, "no data chunk before the end of the file") == 0, "cut at 36: %s", err.msg);
    f.size = 20;
    ml_wav_parse(mem_read, &f, 20, &info, &err);
    CHECK(strcmp(err.msg, "truncated in the fmt chunk") == 0, "cut at 20: %s", err.msg);
    f.size = 16;
    ml_wav_parse(mem_read, &f, 16, &info, &err);
    CHECK(strcmp(err.msg, "no fmt chunk before the end of the file") == 0, "cut at 16: %s", err.msg);
    // A chunk size near 4 GB before fmt must not wrap the offset around.
    wav_spec_t listed = good;
    listed.list_first = true;
    n = make_wav(b, &listed);
    put32(b + 16, 0xfffffff8u);
    f.size = n;
    CHECK(ml_wav_parse(mem_read, &f, (uint32_t)n, &info, &err) != ML_OK
        && strcmp(err.msg, "no fmt chunk before the end of the file") == 0, "huge chunk: %s",
        err.msg);
}

static void test_center(void) {
    enum { T = 30, F = 7 };
    static float x[T * F], out[T * F];
    for (int i = 0; i < T * F; i++) {
        x[i] = (float)(urand() * 40.0 - 60.0);
    }
    ml_dsp_center(x, out, T, F, 0);
    double worst = 0.0;
    for (int f = 0; f < F; f++) {
        double mean = 0.0, after = 0.0;
        for (int t = 0; t < T; t++) {
            mean += (double)x[t * F + f];
        }
        mean /= T;
        for (int t = 0; t < T; t++) {
            worst = fmax(worst, fabs((double)out[t * F + f] - ((double)x[t * F + f] - mean)));
            after += (double)out[t * F + f];
        }
        CHECK(fabs(after / T) < 1e-5, "feature %d: mean after centering %g", f, after / T);
    }
    CHECK(worst < 1e-5, "center: max error %g", worst);
    // A ring whose oldest frame is frame 11: the same as the frames in time order.
    static float ring[T * F], from_ring[T * F];
    for (int t = 0; t < T; t++) {
        memcpy(ring + ((t + 11) % T) * F, x + t * F, F * sizeof(float));
    }
    ml_dsp_center(ring, from_ring, T, F, 11);
    CHECK(memcmp(from_ring, out, sizeof(out)) == 0, "center of a ring starting at 11");
    ml_dsp_center(x, x, T, F, 0);  // in place
    CHECK(memcmp(x, out, sizeof(x)) == 0, "center in place");
}

int main(void) {
    test_against_reference();
    test_streaming(false);
    test_streaming(true);
    test_fixed_edges();
    test_config_errors();
    test_wav();
    test_center();
    return check_summary("test_audio");
}
