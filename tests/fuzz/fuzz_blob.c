// libFuzzer harness of the binary model container (core/ml_blob.c).
//
// The input's checksum is set right before opening (otherwise almost every input would stop
// at the checksum), so the fuzzer reaches the header and section-table checks. An accepted
// container must hold what ml_blob_open promises: every section inside the container, aligned,
// in order, not overlapping; ml_blob_section must return exactly those bytes.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml_blob.h"

#define REQUIRE(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond); \
            abort(); \
        } \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // A 4-byte aligned copy with an exact-size allocation, so ASan sees any read past the end.
    uint8_t *buf = malloc(size ? size : 1);
    REQUIRE(((uintptr_t)buf & 3) == 0);
    memcpy(buf, data, size);
    if (size >= 16) {
        uint32_t crc = ml_crc32(0, buf + 16, size - 16);
        memcpy(buf + 12, &crc, 4);
    }
    uint32_t kind = size >= 8 ? ml_blob_u16(buf + 6) : ML_BLOB_KIND_NN;
    ml_blob_t b;
    ml_error_t err;
    uint32_t total;
    if (ml_blob_peek_size(buf, size, &total, &err) == ML_OK) {
        REQUIRE(total >= ML_BLOB_HEADER_SIZE);
    }
    if (ml_blob_open(&b, buf, size, (uint16_t)kind, 3, &err) == ML_OK) {
        REQUIRE(b.size == size && b.n_sections * ML_BLOB_SECTION_SIZE + ML_BLOB_HEADER_SIZE <= size);
        uint64_t prev = 0;
        for (uint32_t i = 0; i < b.n_sections; i++) {
            const uint8_t *s = buf + ML_BLOB_HEADER_SIZE + i * ML_BLOB_SECTION_SIZE;
            uint32_t id = ml_blob_u32(s), off = ml_blob_u32(s + 4), n = ml_blob_u32(s + 8);
            REQUIRE(off % ML_BLOB_ALIGN == 0 && off >= prev && (uint64_t)off + n <= size);
            prev = (uint64_t)off + n;
            const void *p;
            uint32_t count;
            size_t elem = 1 + (id & 7);
            if (ml_blob_section(&b, id, elem, 0, UINT32_MAX, &p, &count, &err) == ML_OK) {
                REQUIRE(count == n / elem && n % elem == 0);
                REQUIRE(count == 0 || p == buf + off);
                // Touch every byte: ASan reports a read outside the buffer.
                volatile uint8_t sum = 0;
                for (uint32_t k = 0; k < count * elem; k++) {
                    sum += ((const uint8_t *)p)[k];
                }
                (void)sum;
            }
        }
    }
    free(buf);
    return 0;
}
