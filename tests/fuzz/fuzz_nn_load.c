// libFuzzer harness of the neural-network loader and runner (core/ml_nn.c, ml_nn_ops.c).
//
// The container's checksum is set right before opening, so the fuzzer reaches the tensor and
// operator checks. A model that opens is then run on an arena of exactly its stated size
// (small arenas only, to bound the time) with input bytes from the fuzz input: ASan and UBSan
// report any access outside the arena or the file, any overflow the checks missed.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml_nn.h"

#define REQUIRE(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond); \
            abort(); \
        } \
} while (0)

#define MAX_ARENA (8192)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1);
    REQUIRE(((uintptr_t)buf & 3) == 0);
    memcpy(buf, data, size);
    if (size >= 16) {
        uint32_t crc = ml_crc32(0, buf + 16, size - 16);
        memcpy(buf + 12, &crc, 4);
    }
    ml_nn_t m;
    ml_error_t err;
    if (ml_nn_open(&m, buf, size, &err) == ML_OK && ml_nn_arena_size(&m) <= MAX_ARENA) {
        uint32_t n = ml_nn_arena_size(&m);
        uint8_t *arena = malloc(n);
        // Arbitrary but deterministic arena contents: the input and every intermediate.
        for (uint32_t i = 0; i < n; i++) {
            arena[i] = data[i % size];
        }
        ml_nn_set_arena(&m, arena);
        REQUIRE(ml_nn_run(&m, &err) == ML_OK);
        // Recurrent models: two steps from the state run left, a reset, one more step (a
        // model that cannot be stepped says why).
        for (int i = 0; i < 3; i++) {
            if (i == 2) {
                ml_nn_reset(&m);
            }
            if (ml_nn_step(&m, &err) != ML_OK) {
                REQUIRE(err.code == ML_E_VALUE && err.msg[0]);
                break;
            }
        }
        (void)ml_nn_state_bytes(&m);
        (void)ml_nn_step_output_count(&m);
        free(arena);
    } else {
        REQUIRE(err.code != ML_OK && err.msg[0]);
    }
    free(buf);
    return 0;
}
