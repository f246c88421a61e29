// Sensor DSP and feature extraction: IIR filters (float32 and q15), Butterworth design, real
// FFT, Hann/Hamming windows, an overlapped window buffer, raw sensor decoding, time-domain and
// spectral features of a window, and log-mel spectrogram frames.
//
// Every block follows the core's rules: the caller provides all memory (a block sized by the
// block's *_memory_size function, 8-byte aligned), init functions validate their parameters and
// say what is wrong in an ml_error_t, and process functions never allocate. The conventions
// (periodic windows, population statistics, Fisher kurtosis, HTK mel scale, ...) are those of
// the host reference in host/microlearn/dsp.py and are described in docs/dsp.md.
//
// Files: ml_dsp.c (windows, decoding, window buffer, statistics, IIR and Butterworth design),
// ml_dsp_fft.c (FFT, spectra, log-mel), ml_dsp_features.c (feature sets).
#ifndef MICROLEARN_ML_DSP_H
#define MICROLEARN_ML_DSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml_error.h"

// ---------------------------------------------------------------------------------------------
// Windows (tapers). Periodic ("DFT-even") convention, as scipy.signal.get_window's default:
//   hann:    w[i] = 0.5  - 0.5  cos(2 pi i / n)
//   hamming: w[i] = 0.54 - 0.46 cos(2 pi i / n)       for i in [0, n)

typedef enum {
    ML_DSP_WINDOW_NONE = 0,     // rectangular: all ones
    ML_DSP_WINDOW_HANN = 1,
    ML_DSP_WINDOW_HAMMING = 2,
} ml_dsp_window_t;

// cos and sin of 2 pi k / n (n > 0), each within a few float ulp: the argument is reduced
// exactly to the first octant with integer arithmetic before ml_cosf/ml_sinf.
void ml_dsp_cos_sin_2pi(uint32_t k, uint32_t n, float *c, float *s);

// Fills w[0..n) with a window of length n (n = 1 gives [1], as scipy).
void ml_dsp_window_fill(ml_dsp_window_t type, float *w, size_t n);

// ---------------------------------------------------------------------------------------------
// Raw sensor decoding: int16 samples in a byte buffer (a sensor FIFO read), little or big
// endian, frames of n_axes interleaved values. Axis `axis` of n_frames frames goes to dst[0],
// dst[dst_stride], ... as value * scale + offset (float32 arithmetic: one rounding for the
// product, one for the sum). The int16 variant rounds half to even and saturates.

void ml_dsp_decode_f32(const uint8_t *src, size_t n_frames, size_t n_axes, size_t axis,
    bool big_endian, float scale, float offset, float *dst, size_t dst_stride);
void ml_dsp_decode_i16(const uint8_t *src, size_t n_frames, size_t n_axes, size_t axis,
    bool big_endian, float scale, float offset, int16_t *dst, size_t dst_stride);

// Checks a decode's scale and offset: both finite, and for a float output (float_out) every
// int16 value mapped to a finite float32. (An int16 output saturates instead.)
ml_status_t ml_dsp_decode_check(float scale, float offset, bool float_out, ml_error_t *err);

// Float to int16: round half to even, saturate; NaN gives 0.
int16_t ml_dsp_f32_to_i16(float v);

// ---------------------------------------------------------------------------------------------
// Overlapped window buffer (a continuous classifier's input): `length` frames of n_axes
// interleaved float values. Each push adds exactly `hop` frames at the end, dropping the
// oldest; the window is complete once `length` frames have been pushed in total. The window is
// always contiguous at `data` (oldest frame first), so it can be read in place.

typedef struct {
    uint32_t length;   // frames per window
    uint32_t hop;      // frames per push (1 <= hop <= length)
    uint32_t n_axes;
    uint32_t filled;   // frames pushed so far, saturating at length
    float *data;       // [length * n_axes]
} ml_dsp_buffer_t;

size_t ml_dsp_buffer_memory_size(uint32_t length, uint32_t n_axes);
ml_status_t ml_dsp_buffer_init(ml_dsp_buffer_t *b, void *memory, uint32_t length, uint32_t hop,
    uint32_t n_axes, ml_error_t *err);
void ml_dsp_buffer_reset(ml_dsp_buffer_t *b);
// Pushes hop frames (hop * n_axes values, which must not lie in the buffer's own data);
// returns true when the window is complete.
bool ml_dsp_buffer_push_f32(ml_dsp_buffer_t *b, const float *x);
bool ml_dsp_buffer_push_i16(ml_dsp_buffer_t *b, const int16_t *x);

// ---------------------------------------------------------------------------------------------
// Time-domain statistics of n values x[0], x[stride], ... (n >= 1). Sums are accumulated in
// double, in sample order, so results do not depend on the signal's offset; see docs/dsp.md:
//   mean, std (population, ddof=0), min, max, rms = sqrt(mean(x^2)), energy = sum(x^2),
//   ptp = max - min, skew = m3 / m2^1.5, kurtosis = m4 / m2^2 - 3 (Fisher, excess; biased
//   moments like scipy.stats defaults), both 0 for a constant signal (m2 == 0);
//   zero_crossings: i in [1, n) with (x[i-1] < 0) != (x[i] < 0);
//   mean_crossings: the same for x - mean (x[i] < mean).

typedef struct {
    double mean, std, min, max, rms, energy, ptp, skew, kurtosis;
    uint32_t zero_crossings, mean_crossings;
} ml_dsp_stats_t;

void ml_dsp_stats(const float *x, size_t n, size_t stride, ml_dsp_stats_t *s);
// Double-precision mean, summed in order (what ml_dsp_stats uses).
double ml_dsp_mean(const float *x, size_t n, size_t stride);
// Square root in double (float seed and a Newton step), for the statistics.
double ml_dsp_sqrt(double x);

// ---------------------------------------------------------------------------------------------
// IIR filters: cascaded second-order sections with scipy.signal.sosfilt semantics. sos has
// n_sections rows [b0 b1 b2 a0 a1 a2]; each row is divided by its a0. The state persists
// across calls (a stream filtered chunk by chunk gives what one call on the whole would give),
// one state per channel for n_channels interleaved channels.
//
// float32: float32 in and out, transposed direct form II with coefficients, state and the signal
// between sections in double. (With float32 coefficients and state the filter misses scipy by
// up to 6e-5 relative on accelerometer data: rounding a1 of a 1 Hz section at 100 Hz to float32
// alone moves its DC gain by 3e-5, and a high-pass carrying 1 g of offset in its state loses
// the low bits of a small output.)
// q15: int16 in and out; direct form I, int64 accumulation, a1 and a2 in Q29, the signal
// between sections in int32 with 12 fraction bits beyond the sample (saturating at 8 times full
// scale), output rounded and saturated. Sections are rescaled for fixed point and each keeps its
// b with its own exponent (see ml_dsp.c); the transfer function is the one given.
//
// Rejected: a0 == 0, non-finite coefficients, a section with poles on or outside the unit
// circle (|a2| >= 1 or |a1| >= 1 + a2 after dividing by a0; for q15 also after rounding a1, a2
// to Q29), and for q15 a scaled b reaching 4.

#define ML_DSP_IIR_MAX_SECTIONS (64)

typedef struct {
    uint32_t n_sections;
    uint32_t n_channels;
    uint8_t q15;
    double *coef;     // float32 filters: [n_sections][5] b0 b1 b2 a1 a2
    double *state;    // float32 filters: [n_channels][n_sections][2]
    int32_t *qcoef;   // q15: [n_sections][6] b0 b1 b2 (Q(29+e)), a1 a2 (Q29), e
    int32_t *qstate;  // q15: [n_channels][n_sections + 1][2] signal history entering section s
} ml_dsp_iir_t;

size_t ml_dsp_iir_memory_size(uint32_t n_sections, uint32_t n_channels, bool q15);
ml_status_t ml_dsp_iir_init(ml_dsp_iir_t *f, void *memory, const double *sos, uint32_t n_sections,
    uint32_t n_channels, bool q15, ml_error_t *err);
void ml_dsp_iir_reset(ml_dsp_iir_t *f);
// n_frames frames of n_channels interleaved values; y may be x (in place), but must not
// overlap it otherwise. A float32 output beyond float32's range comes out as inf (check
// with ml_dsp_find_nonfinite).
void ml_dsp_iir_process_f32(ml_dsp_iir_t *f, const float *x, float *y, size_t n_frames);
void ml_dsp_iir_process_q15(ml_dsp_iir_t *f, const int16_t *x, int16_t *y, size_t n_frames);

// Butterworth design like scipy.signal.butter(order, cutoff, btype, fs=sample_rate,
// output='sos'): bilinear transform with prewarping, sections ordered with the poles closest to
// the unit circle last, the gain in the first section. order 1..ML_DSP_BUTTER_MAX_ORDER,
// 0 < cutoff < sample_rate / 2. sos gets ml_dsp_butter_sections(order) rows of 6 values.
#define ML_DSP_BUTTER_MAX_ORDER (16)
typedef enum { ML_DSP_LOWPASS = 0, ML_DSP_HIGHPASS = 1 } ml_dsp_btype_t;
static inline uint32_t ml_dsp_butter_sections(uint32_t order) {
    return (order + 1) / 2;
}
ml_status_t ml_dsp_butter(uint32_t order, double cutoff, double sample_rate, ml_dsp_btype_t btype,
    double *sos, ml_error_t *err);

// ---------------------------------------------------------------------------------------------
// Real FFT of n = 2^k points, ML_DSP_FFT_MIN <= n <= ML_DSP_FFT_MAX, like numpy.fft.rfft
// (no scaling): out holds n/2 + 1 complex values as n + 2 floats (re, im interleaved). An
// optional window is applied to the input first. Tables (n floats of twiddles, and n of window)
// are computed at init.

#define ML_DSP_FFT_MIN (16)
#define ML_DSP_FFT_MAX (4096)

typedef struct {
    uint32_t n;
    uint32_t log2n;
    ml_dsp_window_t window_type;
    float *twiddle;  // [n]: cos, sin of 2 pi k / n for k in [0, n/2)
    float *window;   // [n], NULL without a window
} ml_dsp_fft_t;

size_t ml_dsp_fft_memory_size(uint32_t n, ml_dsp_window_t window);
ml_status_t ml_dsp_fft_init(ml_dsp_fft_t *f, void *memory, uint32_t n, ml_dsp_window_t window,
    ml_error_t *err);
// x: n values; out: n + 2 floats. x may be out (the input in out[0..n)); no other overlap.
// Input beyond about 3.4e38 / n overflows float32: the spectrum then holds inf or NaN.
void ml_dsp_rfft(const ml_dsp_fft_t *f, const float *x, float *out);
// The same on int16 input (converted exactly to float).
void ml_dsp_rfft_i16(const ml_dsp_fft_t *f, const int16_t *x, float *out);
// The bit-reversal permutation of m = 2^k complex values in z (re, im: two 32-bit words each,
// float or int32), in place: the input order of a radix-2 decimation-in-time FFT.
void ml_dsp_bit_reverse(void *z, uint32_t m);
// From a spectrum of n_bins complex values (2 * n_bins floats): |X| and |X|^2.
void ml_dsp_magnitude(const float *spectrum, float *out, size_t n_bins);
void ml_dsp_power(const float *spectrum, float *out, size_t n_bins);

// ---------------------------------------------------------------------------------------------
// Log-mel spectrogram frames. A frame of n_fft samples is windowed (Hann by default), its power
// spectrum |X_k|^2 (k in [0, n_fft/2]) is weighted by n_mels triangular filters and, with log,
// turned into 10 log10(max(p, 1e-10)) (dB). Filters: HTK mel scale mel(f) = 2595 log10(1 +
// f/700); n_mels + 2 points equally spaced in mel from mel(fmin) to mel(fmax); filter m rises
// linearly (in Hz) from point m to m+1 and falls to m+2, peak 1, no area normalisation,
// evaluated at bin frequencies k * sample_rate / n_fft (librosa.filters.mel with htk=True,
// norm=None defines the same matrix). A spectrogram of a longer signal takes frames every hop
// samples with no padding: 1 + (len - n_fft) / hop frames.

#define ML_DSP_LOGMEL_FLOOR (1e-10f)

typedef struct {
    float sample_rate;
    uint32_t n_fft;
    uint32_t hop;
    uint32_t n_mels;
    float fmin;
    float fmax;
    ml_dsp_window_t window;
    bool log;
} ml_dsp_logmel_config_t;

typedef struct {
    ml_dsp_logmel_config_t cfg;
    ml_dsp_fft_t fft;
    uint16_t *first;   // [n_mels] first bin of each filter
    uint16_t *count;   // [n_mels] bins in each filter
    float *weights;    // all filters' weights, back to back
    float *work;       // [n_fft + 2]
    uint32_t n_weights;
} ml_dsp_logmel_t;

// 0 with err set when the configuration is invalid.
size_t ml_dsp_logmel_memory_size(const ml_dsp_logmel_config_t *cfg, ml_error_t *err);
ml_status_t ml_dsp_logmel_init(ml_dsp_logmel_t *m, void *memory, const ml_dsp_logmel_config_t *cfg,
    ml_error_t *err);
// One frame of n_fft samples -> n_mels values. An overflow of the float32 spectrum gives a
// non-finite output value (NaN or inf, never the floor).
void ml_dsp_logmel_frame(ml_dsp_logmel_t *m, const float *frame, float *out);
void ml_dsp_logmel_frame_i16(ml_dsp_logmel_t *m, const int16_t *frame, float *out);
// Frames of a signal of n samples: ml_dsp_logmel_frames(m, n) frames of n_mels values.
size_t ml_dsp_logmel_frames(const ml_dsp_logmel_t *m, size_t n);
void ml_dsp_logmel_spectrogram(ml_dsp_logmel_t *m, const float *x, size_t n, float *out);

// ---------------------------------------------------------------------------------------------
// Feature sets: the feature vector of one window of `length` frames of n_axes interleaved
// values, the same vector (same order) the host computes with microlearn.dsp.features.
//
// Channels: the n_axes axes, then (with magnitude) the vector magnitude sqrt(sum of squares of
// the axes). Every input value is first multiplied by scale. For each channel, in order:
//   the time features listed in `time` (in that order, computed on the channel);
//   with spectral: the spectral block, Edge Impulse "spectral analysis" style:
//     the channel minus its mean, filtered by the Butterworth filter (if any, zero initial
//     state), minus its mean again; then rms, skew, kurtosis of that (if spec_stats); then the
//     power spectrum of frames of fft_length samples (hop fft_length, or fft_length / 2 with
//     overlap; frames that do not fit are dropped), each windowed, P_k = |X_k|^2 / fft_length
//     for bins k in [k_lo, k_hi]: 1..fft_length/2 without a filter, up to floor(cutoff *
//     fft_length / sample_rate) for a low-pass, from ceil(that) for a high-pass; these bins
//     are split into n_bins groups of consecutive bins (group g: bins k_lo + floor(g * nb /
//     n_bins) up to the next group's start, nb = k_hi - k_lo + 1; n_bins = 0 means nb groups),
//     each group reduced over its bins and all frames by max or mean, and with log turned
//     into 10 log10(max(v, 1e-10)).

typedef enum {
    ML_DSP_F_MEAN = 0,
    ML_DSP_F_STD,
    ML_DSP_F_MIN,
    ML_DSP_F_MAX,
    ML_DSP_F_RMS,
    ML_DSP_F_SKEW,
    ML_DSP_F_KURTOSIS,
    ML_DSP_F_ZERO_CROSSINGS,
    ML_DSP_F_MEAN_CROSSINGS,
    ML_DSP_F_PTP,
    ML_DSP_F_ENERGY,
    ML_DSP_N_TIME_FEATURES
} ml_dsp_time_feature_t;

// The feature's name ("mean", "std", ..., "energy"), or NULL.
const char *ml_dsp_time_feature_name(uint32_t id);
// The id of a name of len bytes, or -1.
int ml_dsp_time_feature_id(const char *name, size_t len);

typedef enum { ML_DSP_FILTER_NONE = 0, ML_DSP_FILTER_LOWPASS = 1, ML_DSP_FILTER_HIGHPASS = 2 } ml_dsp_filter_t;
typedef enum { ML_DSP_AGG_MAX = 0, ML_DSP_AGG_MEAN = 1 } ml_dsp_agg_t;

#define ML_DSP_MAX_AXES (16)
#define ML_DSP_MAX_LENGTH (65535)

typedef struct {
    uint32_t length;        // frames per window
    uint32_t n_axes;        // 1..ML_DSP_MAX_AXES
    float sample_rate;      // Hz (> 0; used by the spectral block)
    float scale;            // every input value is multiplied by this first
    bool magnitude;         // add the vector magnitude channel
    uint8_t n_time;
    uint8_t time[ML_DSP_N_TIME_FEATURES];  // ml_dsp_time_feature_t, in output order, distinct
    bool spectral;
    bool spec_stats;        // rms, skew, kurtosis of the filtered signal
    uint8_t filter;         // ml_dsp_filter_t
    uint8_t filter_order;   // 1..ML_DSP_BUTTER_MAX_ORDER when filtering
    float cutoff;           // Hz
    uint32_t fft_length;    // power of two in [ML_DSP_FFT_MIN, ML_DSP_FFT_MAX], <= length
    uint32_t n_bins;        // groups of spectral bins, 0 = one per bin
    uint8_t agg;            // ml_dsp_agg_t
    bool log;
    bool overlap;
    uint8_t window;         // ml_dsp_window_t of the FFT frames
} ml_dsp_features_config_t;

typedef struct {
    ml_dsp_features_config_t cfg;
    uint32_t n_channels;
    uint32_t n_features;
    uint32_t per_channel;
    uint32_t k_lo, k_hi, n_groups;  // spectral bins and groups
    ml_dsp_iir_t iir;
    ml_dsp_fft_t fft;
    float *chan;   // [length] the current channel
    float *mag;    // [length] the magnitude channel being accumulated
    float *sig;    // [length] the spectral block's signal
    float *spec;   // [fft_length + 2]
    float *acc;    // [fft_length / 2 + 1] power per bin over frames
} ml_dsp_features_t;

// Validates cfg; returns ML_OK and the memory size in *size, or an error.
ml_status_t ml_dsp_features_memory_size(const ml_dsp_features_config_t *cfg, size_t *size,
    ml_error_t *err);
ml_status_t ml_dsp_features_init(ml_dsp_features_t *f, void *memory,
    const ml_dsp_features_config_t *cfg, ml_error_t *err);
// One window (length * n_axes values, frames interleaved) -> n_features values (out must not
// overlap x). Returns ML_E_INPUT (naming the value) for a non-finite input value, and for a
// feature that overflows float32.
ml_status_t ml_dsp_features_process_f32(ml_dsp_features_t *f, const float *x, float *out,
    ml_error_t *err);
ml_status_t ml_dsp_features_process_i16(ml_dsp_features_t *f, const int16_t *x, float *out,
    ml_error_t *err);

// Index of the first non-finite value of x[0..n), or n.
size_t ml_dsp_find_nonfinite(const float *x, size_t n);

#endif
