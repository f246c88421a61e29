// WAV header parsing. See ml_wav.h.
#include <stdbool.h>

#include "ml_wav.h"

// memcmp(a, b, n) == 0 (the core calls no libc beyond memset/memcpy/memmove).
static bool same(const uint8_t *a, const void *b, size_t n) {
    const uint8_t *q = b;
    for (size_t i = 0; i < n; i++) {
        if (a[i] != q[i]) {
            return false;
        }
    }
    return true;
}

static uint32_t le16(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

// The tail of the PCM subformat GUID (00000001-0000-0010-8000-00aa00389b71) after its 01 00.
static const uint8_t guid_tail[14] = {
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71
};

static const char *format_name(uint32_t tag) {
    switch (tag) {
        case 2: return " (ADPCM)";
        case 3: return " (IEEE float)";
        case 6: return " (A-law)";
        case 7: return " (mu-law)";
        case 0x11: return " (IMA ADPCM)";
        case 0x55: return " (MP3)";
        default: return "";
    }
}

static ml_status_t parse_fmt(const uint8_t *f, uint32_t size, ml_wav_info_t *info,
    ml_error_t *err) {
    const uint32_t tag = le16(f), channels = le16(f + 2), rate = le32(f + 4);
    const uint32_t align = le16(f + 12), bits = le16(f + 14);
    if (tag == 0xfffe) {
        if (size < 40) {
            return ml_error_set(err, ML_E_FORMAT, 0, "extensible fmt chunk of %lu bytes, "
                "expected at least 40", (unsigned long)size);
        }
        if (le16(f + 24) != 1 || !same(f + 26, guid_tail, sizeof(guid_tail))) {
            return ml_error_set(err, ML_E_FORMAT, 0, "extensible format with a subformat other "
                "than PCM, expected 16-bit PCM");
        }
    } else if (tag != 1) {
        return ml_error_set(err, ML_E_FORMAT, 0, "format %lu%s, expected 1 (PCM)",
            (unsigned long)tag, format_name(tag));
    }
    if (channels != 1) {
        return ml_error_set(err, ML_E_FORMAT, 0, "%lu channels, expected 1 (mono)",
            (unsigned long)channels);
    }
    if (bits != 16) {
        return ml_error_set(err, ML_E_FORMAT, 0, "%lu-bit samples, expected 16-bit",
            (unsigned long)bits);
    }
    if (align != 2) {
        return ml_error_set(err, ML_E_FORMAT, 0, "block align %lu, expected 2 (one 16-bit "
            "sample)", (unsigned long)align);
    }
    if (rate == 0) {
        return ml_error_set(err, ML_E_FORMAT, 0, "sample rate 0");
    }
    info->sample_rate = rate;
    return ML_OK;
}

ml_status_t ml_wav_parse(ml_wav_read_t read, void *ctx, uint32_t file_size, ml_wav_info_t *info,
    ml_error_t *err) {
    uint8_t buf[40];
    if (file_size == 0) {
        return ml_error_set(err, ML_E_TRUNCATED, 0, "empty file");
    }
    if (file_size < 12 || read(ctx, 0, buf, 12) != 12 || !same(buf, "RIFF", 4)
        || !same(buf + 8, "WAVE", 4)) {
        return ml_error_set(err, ML_E_FORMAT, 0, "not a WAV file (no RIFF/WAVE header)");
    }
    info->sample_rate = 0;
    // Offsets in 64 bits: a chunk size near 4 GB must not wrap around.
    uint64_t pos = 12;
    for (;;) {
        if (pos + 8 > file_size || read(ctx, (uint32_t)pos, buf, 8) != 8) {
            return ml_error_set(err, ML_E_TRUNCATED, 0, "no %s chunk before the end of the file",
                info->sample_rate ? "data" : "fmt");
        }
        const uint32_t size = le32(buf + 4);
        const uint64_t body = pos + 8;
        if (same(buf, "fmt ", 4)) {
            if (size < 16) {
                return ml_error_set(err, ML_E_FORMAT, 0, "fmt chunk of %lu bytes, expected at "
                    "least 16", (unsigned long)size);
            }
            const uint32_t want = size < 40 ? size : 40;
            if (body + want > file_size || read(ctx, (uint32_t)body, buf, want) != want) {
                return ml_error_set(err, ML_E_TRUNCATED, 0, "truncated in the fmt chunk");
            }
            ml_status_t r = parse_fmt(buf, size, info, err);
            if (r != ML_OK) {
                return r;
            }
        } else if (same(buf, "data", 4)) {
            if (!info->sample_rate) {
                return ml_error_set(err, ML_E_FORMAT, 0, "data chunk before the fmt chunk");
            }
            if (size == 0) {
                return ml_error_set(err, ML_E_FORMAT, 0, "no samples (the data chunk is empty)");
            }
            if (size & 1) {
                return ml_error_set(err, ML_E_FORMAT, 0, "data chunk of %lu bytes, not a whole "
                    "number of 16-bit samples", (unsigned long)size);
            }
            if (size > file_size - body) {
                return ml_error_set(err, ML_E_TRUNCATED, 0, "truncated: the data chunk declares "
                    "%lu bytes, the file holds %lu", (unsigned long)size,
                    (unsigned long)(file_size - body));
            }
            info->data_offset = (uint32_t)body;
            info->n_samples = size / 2;
            return ML_OK;
        }
        pos = body + size + (size & 1);
    }
}

void ml_wav_samples_from_le(int16_t *x, size_t n) {
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    uint8_t *p = (uint8_t *)x;
    for (size_t i = 0; i < n; i++, p += 2) {
        x[i] = (int16_t)(uint16_t)(p[0] | (p[1] << 8));
    }
    #else
    (void)x;
    (void)n;
    #endif
}
