// WAV files: 16-bit PCM mono, the format of recordings a board replays (and of the datasets the
// host trains on; host/microlearn/wav.py applies the same rules with the same messages).
//
// Rules: "RIFF" <size> "WAVE", then chunks of an 8-byte header (4-character id, little-endian
// 32-bit size) and a body padded to an even size, walked in order, unknown ones skipped. A
// "fmt " chunk (at least 16 bytes) of format 1 (PCM), or 0xFFFE (extensible, at least 40 bytes)
// with the PCM subformat GUID; 1 channel; 16 bits per sample; block align 2; a sample rate
// above 0. Then a "data" chunk of a non-zero, even number of bytes, all inside the file. The
// RIFF size field is not checked (recorders that stream often leave it wrong).
#ifndef MICROLEARN_ML_WAV_H
#define MICROLEARN_ML_WAV_H

#include <stddef.h>
#include <stdint.h>

#include "ml_error.h"

typedef struct {
    uint32_t sample_rate;  // Hz
    uint32_t data_offset;  // file offset of the first sample
    uint32_t n_samples;
} ml_wav_info_t;

// Reads up to n bytes at file offset `offset` into buf; returns how many it read (fewer only at
// the end of the file).
typedef size_t (*ml_wav_read_t)(void *ctx, uint32_t offset, uint8_t *buf, size_t n);

// Parses the header of a WAV file of file_size bytes through `read`. Returns ML_OK with info,
// or an error whose message says what is wrong ("not a WAV file (no RIFF/WAVE header)", "2
// channels, expected 1 (mono)", "truncated: the data chunk declares 9536 bytes, the file holds
// 4000", ...); the caller prefixes the file's name.
ml_status_t ml_wav_parse(ml_wav_read_t read, void *ctx, uint32_t file_size, ml_wav_info_t *info,
    ml_error_t *err);

// n little-endian 16-bit samples in place (nothing to do on a little-endian core).
void ml_wav_samples_from_le(int16_t *x, size_t n);

#endif
