// Streaming audio front end: int16 PCM in chunks of any size (as an I2S/PDM driver or a WAV
// file gives them) -> feature frames of log-mel energies or MFCCs, the frames the host twin
// (host/microlearn/dsp_audio.py) computes. No allocation while streaming: the caller provides
// one block of ml_dsp_audio_memory_size bytes at init.
//
// Definitions (docs/sound.md):
//   samples are scaled to [-1, 1) (x / 32768), so levels are in dB re full scale;
//   frame i covers samples [i * hop, i * hop + frame_length) and is emitted when its last sample
//   arrives (no padding: 1 + (n - frame_length) / hop frames from n samples);
//   the frame is multiplied by the periodic window of frame_length points, zero-padded to n_fft,
//   its power spectrum |X_k|^2 (k in [0, n_fft/2]) weighted by the HTK mel filterbank
//   (ml_dsp_logmel_*: triangles with peak 1, no area normalisation);
//   log-mel: 10 log10(max(p, 10^(floor_db / 10)));
//   MFCC (n_mfcc > 0): the first n_mfcc coefficients of the orthonormal DCT-II of the log-mel
//   values: c_k = s_k sum_m L_m cos(pi k (m + 1/2) / n_mels), s_0 = sqrt(1/n_mels),
//   s_k = sqrt(2/n_mels).
//
// Two arithmetics compute this (cfg.fixed_point):
//   fixed point: integers only (int32 data, int64 products, Q15/Q30 tables), about a tenth of
//   the float version's instructions on a core without an FPU; the host twin specifies every
//   step (_fixed_frames in dsp_audio.py) and the results are identical to the bit. Values are
//   multiples of 2^-16 dB.
//   float32: the log-mel block of ml_dsp_fft.c; within about 1e-3 dB of a float64 rendering.
#ifndef MICROLEARN_ML_DSP_AUDIO_H
#define MICROLEARN_ML_DSP_AUDIO_H

#include "ml_dsp.h"

#define ML_DSP_AUDIO_MAX_MELS (128)

typedef struct {
    float sample_rate;       // Hz
    uint32_t frame_length;   // samples per frame, 1..n_fft
    uint32_t hop;            // samples between frame starts, 1..frame_length
    uint32_t n_fft;          // power of two in [ML_DSP_FFT_MIN, ML_DSP_FFT_MAX]
    ml_dsp_window_t window;  // periodic, frame_length points
    uint32_t n_mels;         // 1..ML_DSP_AUDIO_MAX_MELS
    float fmin, fmax;        // 0 <= fmin < fmax <= sample_rate / 2
    float floor_db;          // -200..0
    uint32_t n_mfcc;         // 0: log-mel frames; else 1..n_mels
    bool fixed_point;        // integer arithmetic (else float32)
} ml_dsp_audio_config_t;

typedef struct {
    ml_dsp_audio_config_t cfg;
    uint32_t n_features;     // n_mfcc or n_mels
    int16_t *pending;        // [frame_length] samples of the frame being filled
    uint32_t n_pending;
    // float32
    float floor;             // 10^(floor_db / 10)
    ml_dsp_logmel_t mel;     // n_fft, no window, mel powers (log off)
    float *window;           // [frame_length] the window divided by 32768
    float *dct;              // [n_mfcc * n_mels], NULL for log-mel frames
    float *logmel;           // [n_mels] for MFCC
    // fixed point
    int32_t *wq;             // [frame_length] window, Q15
    int32_t *tw;             // [n_fft] cos, sin of 2 pi k / n_fft for k < n_fft / 2, Q30
    uint16_t *first;         // [n_mels] first bin of each mel filter
    uint16_t *count;         // [n_mels] its bins
    int32_t *mw;             // mel weights, Q15, filter after filter
    int32_t *dq;             // [n_mfcc * n_mels] DCT, Q15
    int32_t *work;           // [n_fft + 2] the frame, then its spectrum
    int64_t *power;          // [n_fft / 2 + 1]
    int32_t *lm;             // [n_mels] log-mel, Q16
    int32_t floor_q16;
    uint32_t sum_bits;       // bit length of the largest filter's weight sum
    uint32_t top_bits;       // the frame is scaled below 2^top_bits before the FFT
} ml_dsp_audio_t;

// Checks cfg; returns ML_OK and the memory size in *size, or an error saying what is wrong.
ml_status_t ml_dsp_audio_memory_size(const ml_dsp_audio_config_t *cfg, size_t *size,
    ml_error_t *err);
ml_status_t ml_dsp_audio_init(ml_dsp_audio_t *a, void *memory, const ml_dsp_audio_config_t *cfg,
    ml_error_t *err);
// Forgets the samples of an unfinished frame (a new stream starts).
void ml_dsp_audio_reset(ml_dsp_audio_t *a);
// How many frames the next n samples complete (what ml_dsp_audio_process will write).
size_t ml_dsp_audio_frames(const ml_dsp_audio_t *a, size_t n);
// Consumes n samples and writes the frames they complete to out (ml_dsp_audio_frames(a, n)
// frames of n_features floats, frame-major); returns that number of frames.
size_t ml_dsp_audio_process(ml_dsp_audio_t *a, const int16_t *x, size_t n, float *out);
// The same into a ring of n_slots frames (the last frames of a stream, for a classifier over a
// sliding window): frame i of this call goes to slot (at + i) % n_slots. The caller checks
// that the call completes at most n_slots frames.
size_t ml_dsp_audio_process_ring(ml_dsp_audio_t *a, const int16_t *x, size_t n, float *ring,
    size_t n_slots, size_t at);
// The features of one frame of frame_length samples, outside the stream (its state is kept).
void ml_dsp_audio_frame(ml_dsp_audio_t *a, const int16_t *frame, float *out);

// ---------------------------------------------------------------------------------------------
// Normalisation of a window of feature frames (the input of a classifier over the last
// n_frames frames): each feature's mean over the window is subtracted (cepstral mean
// normalisation: it removes the microphone's and the speaker's spectral tilt and the level).
// x and out hold n_frames frames of n_axes values, frame-major; out may be x. The mean is
// summed in double, in frame order, divided by n_frames and rounded to float32 once; then
// out = x - mean in float32 (the host twin does the same: identical results).
// x may be a ring whose oldest frame is frame `start`: out gets the frames in time order
// (x[start], x[start + 1], ..., x[start - 1]). out may be x only when start is 0.
void ml_dsp_center(const float *x, float *out, size_t n_frames, size_t n_axes, size_t start);

#endif
