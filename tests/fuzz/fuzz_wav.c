// libFuzzer harness of the WAV header parser (core/ml_wav.c).
//
// The input is the file. An accepted file must hold what ml_wav_parse promises: a data chunk
// of a whole, non-zero number of samples inside the file, after a "data" chunk header; reads
// are checked to stay inside the file. A refused file must say why (a non-empty message).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml_wav.h"

#define REQUIRE(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond); \
            abort(); \
        } \
} while (0)

typedef struct {
    const uint8_t *data;
    size_t size;
} file_t;

static size_t read_at(void *ctx, uint32_t offset, uint8_t *buf, size_t n) {
    const file_t *f = ctx;
    REQUIRE(offset < f->size && n <= f->size - offset);  // the parser never reads past the end
    memcpy(buf, f->data + offset, n);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1);  // exact size: ASan sees any read past the end
    memcpy(buf, data, size);
    file_t f = { buf, size };
    ml_wav_info_t info;
    ml_error_t err;
    if (ml_wav_parse(read_at, &f, (uint32_t)size, &info, &err) == ML_OK) {
        REQUIRE(info.sample_rate > 0 && info.n_samples > 0);
        REQUIRE(info.data_offset >= 20 && (uint64_t)info.data_offset + 2ull * info.n_samples <= size);
        REQUIRE(memcmp(buf + info.data_offset - 8, "data", 4) == 0);
    } else {
        REQUIRE(err.msg[0] != 0);
    }
    free(buf);
    return 0;
}
