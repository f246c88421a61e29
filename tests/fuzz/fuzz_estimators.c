// libFuzzer harness of the scikit-learn families' model parsers and predict paths
// (ml_estimator.c and the families of tests/c/families.h).
//
// The input is a model file; its checksum is set before opening (otherwise almost every input
// would stop there) and its kind picks the family. An accepted model must run every method it
// declares on a few samples (zeros, ones, the model's own bytes as floats) without reading
// outside the model or its work memory, and predict a class index below n_classes; a model
// that learns on the device learns those samples, then runs again.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../c/families.h"

#define REQUIRE(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond); \
            abort(); \
        } \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    if (size >= 16) {
        uint32_t crc = ml_crc32(0, buf + 16, size - 16);
        memcpy(buf + 12, &crc, 4);
    }
    const family_t *fam = family_of(size >= 8 ? ml_blob_u16(buf + 6) : 0);
    ml_blob_t b;
    ml_error_t err;
    any_model_t m;
    err.msg[0] = 0;
    if (!fam) {
        free(buf);
        return 0;
    }
    if (ml_blob_open(&b, buf, size, fam->kind, fam->version, &err) != ML_OK
        || fam->open(&m, &b, &err) != ML_OK) {
        REQUIRE(err.msg[0] != 0);  // every refusal says why
        free(buf);
        return 0;
    }
    ml_est_t *est = (ml_est_t *)&m;
    size_t work_size = ml_est_work_size(est);
    // Loops over a model's contents are bounded by its file; skip what is only slow.
    uint64_t cost = (uint64_t)est->n_features * (est->step_width + 1) * (est->n_inputs + 1);
    if (work_size > (16u << 20) || cost > (1u << 24) || est->n_features > 4096) {
        free(buf);
        return 0;
    }
    double *work = malloc(work_size);
    ml_est_set_work(est, work);
    float *x = calloc(est->n_features, sizeof(float));
    float *batch = calloc(3 * (size_t)est->n_features, sizeof(float));
    for (int round = 0; round < 4; round++) {
        if (round == 3) {
            // A model that learns on the device: partial_fit of the three samples, then run
            // it again (whatever its learning parameters, within bounds).
            if (!fam->learn || !(est->learn & ML_LEARN_PARTIAL_FIT)) {
                break;
            }
            double y[3];
            for (int i = 0; i < 3; i++) {
                y[i] = !(est->flags & ML_EST_CLASSIFIER) ? 1.0 - i
                    : est->labels ? (double)est->labels[0] : 0.0;
            }
            ml_batch_t b = { batch, 'f', 3, y, 'd' };
            uint32_t count;
            err.msg[0] = 0;
            if (fam->learn(&m, ML_PARTIAL_FIT, &b, &count, &err) != ML_OK) {
                REQUIRE(err.msg[0] != 0);
            }
        }
        for (uint32_t j = 0; j < est->n_features; j++) {
            float v = round == 0 ? 0.0f : round == 1 ? 1.0f : (float)buf[j % size] - 128.0f;
            x[j] = v;
            if (round < 3) {
                batch[(size_t)round * est->n_features + j] = v;
            }
        }
        for (int method = 0; method < ML_N_METHODS; method++) {
            if (!est->width[method]) {
                continue;
            }
            const double *xin;
            int is_f32;
            if (ml_est_input(est, x, 'f', &xin, &is_f32, &err) != ML_OK) {
                continue;
            }
            if (fam->run(&m, (ml_method_t)method, xin, is_f32, &err) == ML_OK
                && method == ML_PREDICT && (est->flags & ML_EST_CLASSIFIER)) {
                double k = est->out[0];
                REQUIRE(k >= 0 && k < est->n_classes);
            }
        }
    }
    free(x);
    free(batch);
    free(work);
    free(buf);
    return 0;
}
